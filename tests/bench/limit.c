/*
 * limit.c - the "limit" baseline of `make bench`: what PostgreSQL can do with
 * the daemon's own statements when nothing else is in the way.
 *
 *   limit --conninfo STR --capture FILE --events N [--merge K] [--depth D]
 *
 * It replays a capture of the daemon's real transactions (tests/bench/
 * capture.py cuts them out of the benchmark cluster's log after a run of the
 * realistic workload: the mix with work orders, repeat callers drawn Zipf-
 * like, history present): the very SQL text, prepared once as the daemon
 * prepares it, with the very parameters the daemon bound, in the order it
 * sent them.  Nothing of the daemon is left: no sockets to clients, no JSON
 * parsing, no rules, no waiting for the next batch to form.  A replay knows
 * no table and no column, so the baseline follows the schema and the store
 * as they change (a hand-written copy of the statements went stale when the
 * store began to lock its batches).
 *
 * K of the daemon's batches go into one transaction (--merge, default 4:
 * "large transactions", one COMMIT and one fsync for thousands of events),
 * on one connection in pipeline mode, with D transactions in flight
 * (--depth, default 2: the next transaction is already on the wire while
 * the previous one commits, so PostgreSQL never waits for this client).
 * The database must be back where the captured run started (bench.sh
 * truncates and reseeds it): the captured case ids were taken from the
 * sequence of that run, so the replay writes the same rows again.
 *
 * Prints one JSON line: events/s (--events: how many events the captured run
 * stored), transactions, and the latency of each transaction.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <getopt.h>

#include <libpq-fe.h>

struct stmt {
	int sql;                 /* index into the distinct SQL texts */
	int nparams;
	char **params;           /* NULL entries are SQL NULLs */
};

struct tx {
	struct stmt *s;
	size_t n, cap;
};

struct capture {
	char **sql;              /* distinct statement texts, prepared as lim_<i> */
	int n_sql;
	struct tx *tx;
	size_t n_tx, cap_tx;
	size_t n_stmts;
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		perror("limit: realloc");
		exit(1);
	}
	return q;
}

static void die(PGconn *pg, const char *what)
{
	fprintf(stderr, "limit: %s: %s\n", what, pg ? PQerrorMessage(pg) : strerror(errno));
	exit(1);
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* n bytes from f into a fresh NUL-terminated string. */
static char *read_bytes(FILE *f, size_t n)
{
	char *p = xrealloc(NULL, n + 1);
	if (fread(p, 1, n, f) != n) {
		fprintf(stderr, "limit: capture truncated\n");
		exit(1);
	}
	p[n] = '\0';
	return p;
}

static int sql_index(struct capture *c, char *sql)
{
	for (int i = 0; i < c->n_sql; i++)
		if (strcmp(c->sql[i], sql) == 0) {
			free(sql);
			return i;
		}
	c->sql = xrealloc(c->sql, (size_t)(c->n_sql + 1) * sizeof *c->sql);
	c->sql[c->n_sql] = sql;
	return c->n_sql++;
}

/* The format capture.py writes (see there). */
static void load_capture(struct capture *c, const char *path)
{
	FILE *f = fopen(path, "rb");
	char line[64];
	struct tx *t = NULL;
	if (!f)
		die(NULL, path);
	while (fgets(line, sizeof line, f)) {
		size_t len;
		int np;
		if (strcmp(line, "T\n") == 0) {
			if (c->n_tx == c->cap_tx) {
				c->cap_tx = c->cap_tx ? c->cap_tx * 2 : 1024;
				c->tx = xrealloc(c->tx, c->cap_tx * sizeof *c->tx);
			}
			t = &c->tx[c->n_tx++];
			*t = (struct tx){0};
		} else if (strcmp(line, "E\n") == 0) {
			t = NULL;
		} else if (t && sscanf(line, "Q %zu %d", &len, &np) == 2 && np >= 0) {
			if (t->n == t->cap) {
				t->cap = t->cap ? t->cap * 2 : 16;
				t->s = xrealloc(t->s, t->cap * sizeof *t->s);
			}
			struct stmt *s = &t->s[t->n++];
			s->sql = sql_index(c, read_bytes(f, len));
			s->nparams = np;
			s->params = xrealloc(NULL, (size_t)np * sizeof *s->params);
			for (int i = 0; i < np; i++) {
				if (!fgets(line, sizeof line, f)) {
					fprintf(stderr, "limit: capture truncated\n");
					exit(1);
				}
				if (strcmp(line, "N\n") == 0)
					s->params[i] = NULL;
				else if (sscanf(line, "P %zu", &len) == 1)
					s->params[i] = read_bytes(f, len);
				else {
					fprintf(stderr, "limit: bad capture line: %s", line);
					exit(1);
				}
			}
			c->n_stmts++;
		} else {
			fprintf(stderr, "limit: bad capture line: %s", line);
			exit(1);
		}
	}
	fclose(f);
}

static void free_capture(struct capture *c)
{
	for (size_t i = 0; i < c->n_tx; i++) {
		for (size_t j = 0; j < c->tx[i].n; j++) {
			for (int k = 0; k < c->tx[i].s[j].nparams; k++)
				free(c->tx[i].s[j].params[k]);
			free(c->tx[i].s[j].params);
		}
		free(c->tx[i].s);
	}
	for (int i = 0; i < c->n_sql; i++)
		free(c->sql[i]);
	free(c->sql);
	free(c->tx);
}

/* --------------------------------------------------------------- replay */

struct replay {
	PGconn *pg;
	int depth, in_flight;
	uint64_t *sent_at;       /* ring of the send times of the transactions in flight */
	size_t ring_head;
	uint64_t *lat;
	size_t n_lat;
	long errors;
	char first_error[300];
};

/* Wait until the socket is readable (and writable while output is pending). */
static void wait_socket(struct replay *r, bool want_write)
{
	int fd = PQsocket(r->pg);
	fd_set rd, wr;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(fd, &rd);
	if (want_write)
		FD_SET(fd, &wr);
	if (select(fd + 1, &rd, want_write ? &wr : NULL, NULL, NULL) < 0 && errno != EINTR)
		die(NULL, "select");
}

/* Read whatever results have arrived; a Sync result ends one transaction. */
static void read_results(struct replay *r)
{
	if (!PQconsumeInput(r->pg))
		die(r->pg, "read");
	while (!PQisBusy(r->pg)) {
		PGresult *res = PQgetResult(r->pg);
		if (!res) {
			/* end of one statement's results; more may follow */
			if (PQisBusy(r->pg))
				break;
			res = PQgetResult(r->pg);
			if (!res)
				break;
		}
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			size_t i = r->ring_head;
			r->lat[r->n_lat++] = now_us() - r->sent_at[i];
			r->ring_head = (i + 1) % (size_t)r->depth;
			r->in_flight--;
		} else if (st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED) {
			if (st == PGRES_FATAL_ERROR && r->errors++ == 0)
				snprintf(r->first_error, sizeof r->first_error, "%s", PQresultErrorMessage(res));
		}
		PQclear(res);
	}
}

/* Flush, reading results meanwhile so neither side's buffer fills up. */
static void flush_all(struct replay *r)
{
	int f;
	while ((f = PQflush(r->pg)) == 1) {
		wait_socket(r, true);
		read_results(r);
	}
	if (f < 0)
		die(r->pg, "flush");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	size_t rank = (size_t)ceil(q * (double)n);
	rank = rank < 1 ? 1 : rank > n ? n : rank;
	return (double)v[rank - 1] / 1000.0;
}

static void usage(void)
{
	fprintf(stderr, "usage: limit --conninfo STR --capture FILE --events N [--merge K] [--depth D]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "conninfo", 1, NULL, 'c' }, { "capture", 1, NULL, 'f' }, { "events", 1, NULL, 'e' },
		{ "merge", 1, NULL, 'm' }, { "depth", 1, NULL, 'd' }, { NULL, 0, NULL, 0 },
	};
	const char *conninfo = NULL, *path = NULL;
	long events = 0;
	int merge = 4, depth = 2, ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': conninfo = optarg; break;
		case 'f': path = optarg; break;
		case 'e': events = atol(optarg); break;
		case 'm': merge = atoi(optarg); break;
		case 'd': depth = atoi(optarg); break;
		default: usage();
		}
	}
	if (!conninfo || !path || events <= 0 || merge < 1 || depth < 1)
		usage();

	struct capture cap = {0};
	load_capture(&cap, path);
	if (cap.n_tx == 0) {
		fprintf(stderr, "limit: %s holds no transaction\n", path);
		return 1;
	}

	struct replay r = { .depth = depth };
	r.pg = PQconnectdb(conninfo);
	if (PQstatus(r.pg) != CONNECTION_OK)
		die(r.pg, "connect");
	for (int i = 0; i < cap.n_sql; i++) {
		char name[24];
		snprintf(name, sizeof name, "lim_%d", i);
		PGresult *res = PQprepare(r.pg, name, cap.sql[i], 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			die(r.pg, "prepare");
		PQclear(res);
	}
	size_t n_groups = (cap.n_tx + (size_t)merge - 1) / (size_t)merge;
	r.sent_at = xrealloc(NULL, (size_t)depth * sizeof *r.sent_at);
	r.lat = xrealloc(NULL, n_groups * sizeof *r.lat);
	if (PQsetnonblocking(r.pg, 1) != 0 || !PQenterPipelineMode(r.pg))
		die(r.pg, "pipeline mode");

	uint64_t t0 = now_us();
	size_t ring_tail = 0;
	for (size_t g = 0; g < n_groups; g++) {
		while (r.in_flight >= depth) {
			wait_socket(&r, false);
			read_results(&r);
		}
		for (size_t t = g * (size_t)merge; t < cap.n_tx && t < (g + 1) * (size_t)merge; t++) {
			for (size_t j = 0; j < cap.tx[t].n; j++) {
				const struct stmt *s = &cap.tx[t].s[j];
				char name[24];
				snprintf(name, sizeof name, "lim_%d", s->sql);
				if (!PQsendQueryPrepared(r.pg, name, s->nparams, (const char *const *)s->params, NULL, NULL, 0))
					die(r.pg, "send");
			}
		}
		if (!PQpipelineSync(r.pg))
			die(r.pg, "sync");
		r.sent_at[ring_tail] = now_us();
		ring_tail = (ring_tail + 1) % (size_t)depth;
		r.in_flight++;
		flush_all(&r);
	}
	while (r.in_flight > 0) {
		wait_socket(&r, false);
		read_results(&r);
	}
	double secs = (double)(now_us() - t0) / 1e6;

	qsort(r.lat, r.n_lat, sizeof *r.lat, cmp_u64);
	printf("{\"mode\":\"limit\",\"workload\":\"capture\",\"captured_batches\":%zu,\"merge\":%d,\"depth\":%d,"
	       "\"transactions\":%zu,\"statements\":%zu,\"distinct_statements\":%d,\"events\":%ld,\"seconds\":%.3f,"
	       "\"events_per_s\":%.1f,\"events_per_tx\":%.0f,\"batch_p50_ms\":%.1f,\"batch_p99_ms\":%.1f,\"errors\":%ld",
	       cap.n_tx, merge, depth, n_groups, cap.n_stmts, cap.n_sql, events, secs, (double)events / secs,
	       (double)events / (double)n_groups, pct_ms(r.lat, r.n_lat, 0.5), pct_ms(r.lat, r.n_lat, 0.99), r.errors);
	if (r.errors) {
		for (char *p = r.first_error; *p; p++)
			if (*p == '"' || *p == '\\' || *p == '\n')
				*p = ' ';
		printf(",\"first_error\":\"%s\"", r.first_error);
	}
	printf("}\n");
	PQfinish(r.pg);
	free(r.sent_at);
	free(r.lat);
	free_capture(&cap);
	return r.errors ? 1 : 0;
}
