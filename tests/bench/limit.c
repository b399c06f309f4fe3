/*
 * limit.c - the "limit" baseline of `make bench`: what PostgreSQL can do with
 * the daemon's own statements when nothing else is in the way.
 *
 * A bare libpq client on one connection in pipeline mode runs the exact SQL
 * that daemon/store.c issues for a batch (include/store_sql.h, prepared as
 * the daemon prepares it), for --batch events per transaction, back to back:
 *
 *   load pipeline:  the six SELECTs (seen ids, cases with clocks, calls,
 *                   callers with recent inbound calls, alerts, nextval for the
 *                   new case ids) + Sync;
 *   write pipeline: INSERT .. ON CONFLICT via jsonb_to_recordset into callers,
 *                   cases, calls, clocks, case_events + Sync (= one COMMIT,
 *                   one fsync).
 *
 * The rows are the ones the daemon writes for the same events (captured from
 * a run of the daemon with log_statement = all), built here with snprintf and
 * no rules engine, no sockets, no JSON parsing: this is the ceiling for the
 * daemon's design on this database, on one connection (the daemon uses one).
 *
 * Workloads as in loadgen.c: "offered" (a new caller and case per event) or
 * "mix" (rounds of six events; the callback.attempt and case.update of a round
 * go into the next batch, as they would reach the daemon after the reply that
 * names their case).  Prints one JSON line: events/s and batch latency.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <getopt.h>

#include <libpq-fe.h>

/* ------------------------------------------------ the daemon's statements */

/* The very statements of daemon/store.c (one header, so they cannot drift),
 * prepared once like the daemon prepares them. */
#include "store_sql.h"

/* ------------------------------------------------------- string builder */

struct sb {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
		if (b->len == 0)
			b->p[0] = '\0';
	}
}

/* Room for n more bytes and the NUL. */
static void sb_reserve(struct sb *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return;
	b->cap = (b->len + n + 1) * 2;
	b->p = realloc(b->p, b->cap);
	if (!b->p)
		abort();
}

/* A JSON array being filled: "[" a, b, ... "]". */
static void arr_open(struct sb *b) { b->len = 0; sb_printf(b, "["); }
static void arr_sep(struct sb *b) { if (b->len > 1) sb_printf(b, ", "); }
static void arr_close(struct sb *b) { sb_printf(b, "]"); }

/* ----------------------------------------------------------- the client */

struct opts {
	const char *conninfo, *workload, *nonce;
	int batch;
	double duration, warmup;
};

enum { A_SEEN, A_CASES, A_CALLS, A_CALLERS, A_EMPTY, W_CALLERS, W_CASES, W_CALLS, W_CLOCKS, W_EVENTS, N_SB };

struct pend {      /* a dependent event for the next batch (mix) */
	int64_t case_id;
	uint64_t round;
	int kind;        /* 0 update on the offered case, 1 callback on the abandoned case */
};

struct client {
	struct opts o;
	PGconn *pg;
	struct sb b[N_SB];
	int n_events;
	uint64_t round;
	struct pend *pend, *next_pend;
	size_t n_pend, n_next;
	uint64_t *batch_us;
	size_t n_batch, cap_batch;
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(PGconn *pg, const char *what)
{
	fprintf(stderr, "limit: %s: %s\n", what, pg ? PQerrorMessage(pg) : "");
	exit(1);
}

static const char *const PREPARED[] = {
	SQL_SEEN, SQL_CASES, SQL_CALLS, SQL_CALLERS, SQL_ALERTS, SQL_IDS,
	SQL_W_CALLERS, SQL_W_CASES, SQL_W_CALLS, SQL_W_CLOCKS, SQL_W_EVENTS,
};
#define N_PREPARED ((int)(sizeof PREPARED / sizeof PREPARED[0]))

/* Before pipeline mode: prepare every statement, as the daemon does after connecting. */
static void prepare_all(struct client *c)
{
	for (int i = 0; i < N_PREPARED; i++) {
		char name[16];
		snprintf(name, sizeof name, "hl_%d", i);
		PGresult *r = PQprepare(c->pg, name, PREPARED[i], 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die(c->pg, "prepare");
		PQclear(r);
	}
}

static void send_q(struct client *c, const char *sql, int n, const char *const *params)
{
	for (int i = 0; i < N_PREPARED; i++) {
		if (PREPARED[i] == sql) {
			char name[16];
			snprintf(name, sizeof name, "hl_%d", i);
			if (!PQsendQueryPrepared(c->pg, name, n, params, NULL, NULL, 0))
				die(c->pg, "send");
			return;
		}
	}
	if (!PQsendQueryParams(c->pg, sql, n, NULL, params, NULL, NULL, 0))
		die(c->pg, "send");
}

/* Read every result up to the Sync; the results of the one statement at
 * `want` (or -1) are returned, the rest cleared.  Any error is fatal. */
static PGresult *drain(struct client *c, int want)
{
	PGresult *keep = NULL, *r;
	int stmt = 0;
	if (PQflush(c->pg) < 0)
		die(c->pg, "flush");
	for (;;) {
		r = PQgetResult(c->pg);
		if (!r) {
			stmt++;
			continue;
		}
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			return keep;
		}
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			fprintf(stderr, "limit: statement %d: %s", stmt, PQresultErrorMessage(r));
			exit(1);
		}
		if (stmt == want && !keep)
			keep = r;
		else
			PQclear(r);
	}
}

/* identifiers, as loadgen.c makes them (prefix "L" so they never meet its ids) */
static void ev_id(const struct client *c, uint64_t r, char sfx, char *buf, size_t n)
{
	snprintf(buf, n, "L%s-%" PRIu64 "%c", c->o.nonce, r, sfx);
}

static void call_id(const struct client *c, uint64_t r, char which, char *buf, size_t n)
{
	snprintf(buf, n, "l%s-%" PRIu64 "%c", c->o.nonce, r, which);
}

static void caller_of(const struct client *c, uint64_t r, int which, char *buf, size_t n)
{
	snprintf(buf, n, "+8%.6s%012" PRIu64, c->o.nonce, (r * 2 + (uint64_t)which) % 1000000000000u);
}

static void add_str(struct sb *b, const char *s)
{
	arr_sep(b);
	sb_printf(b, "\"%s\"", s);
}

static void row_caller(struct client *c, const char *caller)
{
	struct sb *b = &c->b[W_CALLERS];
	arr_sep(b);
	sb_printf(b, "{\"caller\": \"%s\", \"confidential\": false, \"repeat_alerted_at\": null}", caller);
}

static void row_case(struct client *c, int64_t id, const char *caller, int64_t opened, int64_t contact,
                     bool summary, int64_t now)
{
	struct sb *b = &c->b[W_CASES];
	arr_sep(b);
	sb_printf(b, "{\"id\": %" PRId64 ", \"queue\": \"bench\", \"caller\": \"%s\", \"policy\": \"default\", \"status\": \"open\", "
	          "\"held_ms\": 0, \"on_hold\": false, \"reopens\": 0, \"summary\": %s, \"category\": %s, \"priority\": null, "
	          "\"closed_at\": null, \"opened_at\": %" PRId64 ", \"transfers\": 0, \"department\": null, \"hold_since\": null, "
	          "\"resolution\": null, \"updated_at\": %" PRId64 ", \"resolved_at\": null, \"last_contact_at\": ",
	          id, caller, summary ? "\"asked about a payment\"" : "null", summary ? "\"benefits\"" : "null", opened, now);
	if (contact)
		sb_printf(b, "%" PRId64 "}", contact);
	else
		sb_printf(b, "null}");
}

static void row_call(struct client *c, const char *cid, int64_t case_id, const char *caller, const char *state,
                     int64_t t, bool ended)
{
	struct sb *b = &c->b[W_CALLS];
	arr_sep(b);
	if (ended)
		sb_printf(b, "{\"agent\": \"agent-1\", \"queue\": \"bench\", \"state\": \"%s\", \"caller\": \"%s\", \"call_id\": \"%s\", "
		          "\"case_id\": %" PRId64 ", \"inbound\": true, \"outcome\": \"followup\", \"ended_at\": %" PRId64
		          ", \"offered_at\": %" PRId64 ", \"answered_at\": %" PRId64 "}", state, caller, cid, case_id, t, t, t);
	else
		sb_printf(b, "{\"agent\": null, \"queue\": \"bench\", \"state\": \"%s\", \"caller\": \"%s\", \"call_id\": \"%s\", "
		          "\"case_id\": %" PRId64 ", \"inbound\": true, \"outcome\": null, \"ended_at\": null, \"offered_at\": %" PRId64
		          ", \"answered_at\": null}", state, caller, cid, case_id, t);
}

static void row_clock(struct client *c, int64_t case_id, const char *kind, const char *state, int seq, int64_t t,
                      int64_t allowed)
{
	struct sb *b = &c->b[W_CLOCKS];
	bool met = strcmp(state, "met") == 0;
	arr_sep(b);
	sb_printf(b, "{\"seq\": %d, \"kind\": \"%s\", \"state\": \"%s\", \"due_at\": %" PRId64 ", \"met_at\": ",
	          seq, kind, state, t + allowed);
	if (met)
		sb_printf(b, "%" PRId64, t);
	else
		sb_printf(b, "null");
	sb_printf(b, ", \"warned\": false, \"case_id\": %" PRId64 ", \"warn_at\": %" PRId64 ", \"calendar\": \"\", "
	          "\"paused_at\": null, \"allowed_ms\": %" PRId64 ", \"started_at\": %" PRId64 ", \"breached_at\": null, "
	          "\"remaining_ms\": null, \"warn_remaining_ms\": null}",
	          case_id, t + allowed * 8 / 10, allowed, t);
}

/* One case_events row; the body is the request line loadgen would send. */
static void row_event(struct client *c, const char *eid, int64_t case_id, const char *type, const char *body,
                      const char *desc, int64_t t)
{
	struct sb *b = &c->b[W_EVENTS];
	arr_sep(b);
	sb_printf(b, "{\"n\": %d, \"at\": %" PRId64 ", \"body\": \"", c->n_events++, t);
	sb_reserve(b, 2 * strlen(body) + 1);
	for (const char *p = body; *p; p++) {
		if (*p == '"')
			b->p[b->len++] = '\\';
		b->p[b->len++] = *p;
	}
	b->p[b->len] = '\0';
	sb_printf(b, "\", \"type\": \"%s\", \"case_id\": %" PRId64 ", \"event_id\": \"%s\", \"description\": \"%s\", "
	          "\"received_at\": %" PRId64 "}", type, case_id, eid, desc, t);
}

#define DAY ((int64_t)86400000)

/* The load pipeline of one batch: fills the arrays of what the batch touches. */
static void plan_loads(struct client *c, size_t rounds)
{
	char eid[64], cid[64], caller[40], num[24];
	bool mix = strcmp(c->o.workload, "mix") == 0;
	for (int i = 0; i < N_SB; i++)
		arr_open(&c->b[i]);
	c->n_events = 0;
	for (size_t k = 0; k < rounds; k++) {
		uint64_t r = c->round + k;
		ev_id(c, r, 'o', eid, sizeof eid);
		add_str(&c->b[A_SEEN], eid);
		call_id(c, r, 'a', cid, sizeof cid);
		add_str(&c->b[A_CALLS], cid);
		caller_of(c, r, 0, caller, sizeof caller);
		add_str(&c->b[A_CALLERS], caller);
		if (!mix)
			continue;
		static const char sfx[] = "nex";
		for (int j = 0; j < 3; j++) {
			ev_id(c, r, sfx[j], eid, sizeof eid);
			add_str(&c->b[A_SEEN], eid);
		}
		add_str(&c->b[A_CALLS], cid); /* answered */
		add_str(&c->b[A_CALLS], cid); /* ended */
		call_id(c, r, 'b', cid, sizeof cid);
		add_str(&c->b[A_CALLS], cid); /* abandoned */
		caller_of(c, r, 1, caller, sizeof caller);
		add_str(&c->b[A_CALLERS], caller);
	}
	for (size_t k = 0; k < c->n_pend; k++) {
		ev_id(c, c->pend[k].round, c->pend[k].kind ? 'c' : 'u', eid, sizeof eid);
		add_str(&c->b[A_SEEN], eid);
		snprintf(num, sizeof num, "%" PRId64, c->pend[k].case_id);
		arr_sep(&c->b[A_CASES]);
		sb_printf(&c->b[A_CASES], "%s", num);
	}
	for (int i = 0; i < N_SB; i++)
		if (i <= A_EMPTY)
			arr_close(&c->b[i]);
}

static void run_load(struct client *c, size_t n_new_cases, int64_t *ids)
{
	char since[24], n[24];
	snprintf(since, sizeof since, "%" PRId64, wall_ms() - DAY - 1000);
	snprintf(n, sizeof n, "%zu", n_new_cases);
	const char *p_seen[] = { c->b[A_SEEN].p };
	const char *p_cases[] = { c->b[A_CASES].p, c->b[A_CALLS].p, c->b[A_CALLERS].p };
	const char *p_calls[] = { c->b[A_CALLS].p };
	const char *p_callers[] = { c->b[A_CALLERS].p, c->b[A_CASES].p, c->b[A_CALLS].p, since };
	const char *p_alerts[] = { c->b[A_EMPTY].p };
	const char *p_ids[] = { n };
	send_q(c, SQL_SEEN, 1, p_seen);
	send_q(c, SQL_CASES, 3, p_cases);
	send_q(c, SQL_CALLS, 1, p_calls);
	send_q(c, SQL_CALLERS, 4, p_callers);
	send_q(c, SQL_ALERTS, 1, p_alerts);
	send_q(c, SQL_IDS, 1, p_ids);
	if (!PQpipelineSync(c->pg))
		die(c->pg, "sync");
	PGresult *r = drain(c, 5);
	if (!r || (size_t)PQntuples(r) != n_new_cases)
		die(c->pg, "nextval");
	for (size_t i = 0; i < n_new_cases; i++)
		ids[i] = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
	PQclear(r);
}

/* The rows the daemon writes for this batch (see the file comment). */
static void plan_writes(struct client *c, size_t rounds, const int64_t *ids, int64_t t)
{
	char eid[64], cid[64], cid2[64], p1[40], p2[40], body[512], desc[512];
	bool mix = strcmp(c->o.workload, "mix") == 0;
	c->n_next = 0;
	for (size_t k = 0; k < rounds; k++) {
		uint64_t r = c->round + k;
		int64_t x = ids[mix ? 2 * k : k];
		ev_id(c, r, 'o', eid, sizeof eid);
		call_id(c, r, 'a', cid, sizeof cid);
		caller_of(c, r, 0, p1, sizeof p1);
		row_caller(c, p1);
		row_case(c, x, p1, t, mix ? t : 0, mix, t);
		row_call(c, cid, x, p1, mix ? "ended" : "offered", t, mix);
		row_clock(c, x, "update", "pending", mix ? 2 : 1, t, DAY);
		row_clock(c, x, "resolution", "pending", 1, t, 2 * DAY);
		snprintf(body, sizeof body, "{\"type\":\"call.offered\",\"id\":\"%s\",\"call_id\":\"%s\",\"caller\":\"%s\",\"queue\":\"bench\"}",
		         eid, cid, p1);
		snprintf(desc, sizeof desc, "call %s offered from +8****%.4s; case %" PRId64 " opened; resolution armed, due "
		         "2026-11-23T05:18:44.431Z; update armed, due 2026-11-22T05:18:44.431Z", cid, p1 + strlen(p1) - 4, x);
		row_event(c, eid, x, "call.offered", body, desc, t);
		if (!mix)
			continue;
		int64_t y = ids[2 * k + 1];
		row_clock(c, x, "callback", "pending", 1, t, 1800000);
		ev_id(c, r, 'n', eid, sizeof eid);
		snprintf(body, sizeof body, "{\"type\":\"call.answered\",\"id\":\"%s\",\"call_id\":\"%s\",\"agent\":\"agent-1\"}", eid, cid);
		snprintf(desc, sizeof desc, "call %s answered by agent-1; update restarted, due 2026-11-22T05:18:44.802Z", cid);
		row_event(c, eid, x, "call.answered", body, desc, t);
		ev_id(c, r, 'e', eid, sizeof eid);
		snprintf(body, sizeof body, "{\"type\":\"call.ended\",\"id\":\"%s\",\"call_id\":\"%s\",\"outcome\":\"followup\","
		         "\"category\":\"benefits\",\"summary\":\"asked about a payment\"}", eid, cid);
		snprintf(desc, sizeof desc, "call %s ended: followup; callback armed, due 2026-11-21T05:48:45.145Z", cid);
		row_event(c, eid, x, "call.ended", body, desc, t);

		ev_id(c, r, 'x', eid, sizeof eid);
		call_id(c, r, 'b', cid2, sizeof cid2);
		caller_of(c, r, 1, p2, sizeof p2);
		row_caller(c, p2);
		row_case(c, y, p2, t, 0, false, t);
		row_call(c, cid2, y, p2, "abandoned", t, false);
		row_clock(c, y, "update", "pending", 1, t, DAY);
		row_clock(c, y, "resolution", "pending", 1, t, 2 * DAY);
		row_clock(c, y, "callback", "pending", 1, t, 1800000);
		snprintf(body, sizeof body, "{\"type\":\"call.abandoned\",\"id\":\"%s\",\"call_id\":\"%s\",\"caller\":\"%s\"}", eid, cid2, p2);
		snprintf(desc, sizeof desc, "call %s offered from +8****%.4s; case %" PRId64 " opened; resolution armed, due "
		         "2026-11-23T05:18:45.479Z; update armed, due 2026-11-22T05:18:45.479Z; abandoned; callback armed, due "
		         "2026-11-21T05:48:45.479Z", cid2, p2 + strlen(p2) - 4, y);
		row_event(c, eid, y, "call.abandoned", body, desc, t);
		c->next_pend[c->n_next++] = (struct pend){ .case_id = x, .round = r, .kind = 0 };
		c->next_pend[c->n_next++] = (struct pend){ .case_id = y, .round = r, .kind = 1 };
	}
	/* the dependent events of the previous batch */
	for (size_t k = 0; k < c->n_pend; k++) {
		const struct pend *d = &c->pend[k];
		char caller[40];
		caller_of(c, d->round, d->kind, caller, sizeof caller);
		ev_id(c, d->round, d->kind ? 'c' : 'u', eid, sizeof eid);
		row_case(c, d->case_id, caller, t, t, d->kind == 0, t);
		if (d->kind == 0) {
			row_clock(c, d->case_id, "update", "pending", 3, t, DAY);
			snprintf(body, sizeof body, "{\"type\":\"case.update\",\"id\":\"%s\",\"case_id\":%" PRId64
			         ",\"note\":\"documents requested\",\"caller_informed\":true}", eid, d->case_id);
			snprintf(desc, sizeof desc, "case %" PRId64 " updated (note); caller informed; update restarted, due "
			         "2026-11-22T05:18:46.123Z", d->case_id);
			row_event(c, eid, d->case_id, "case.update", body, desc, t);
		} else {
			row_clock(c, d->case_id, "callback", "met", 1, t, 1800000);
			row_clock(c, d->case_id, "update", "pending", 2, t, DAY);
			snprintf(body, sizeof body, "{\"type\":\"callback.attempt\",\"id\":\"%s\",\"case_id\":%" PRId64
			         ",\"result\":\"reached\",\"agent\":\"agent-1\"}", eid, d->case_id);
			snprintf(desc, sizeof desc, "callback attempt on case %" PRId64 ": reached; callback met; update restarted, "
			         "due 2026-11-22T05:18:45.803Z", d->case_id);
			row_event(c, eid, d->case_id, "callback.attempt", body, desc, t);
		}
	}
	for (int i = W_CALLERS; i < N_SB; i++)
		arr_close(&c->b[i]);
}

static void run_write(struct client *c)
{
	static const char *const sql[] = { SQL_W_CALLERS, SQL_W_CASES, SQL_W_CALLS, SQL_W_CLOCKS, SQL_W_EVENTS };
	for (int i = 0; i < 5; i++) {
		const char *p[] = { c->b[W_CALLERS + i].p };
		if (c->b[W_CALLERS + i].len > 2)
			send_q(c, sql[i], 1, p);
	}
	if (!PQpipelineSync(c->pg))
		die(c->pg, "sync");
	drain(c, -1);
}

/* One batch; returns the number of events it committed. */
static size_t one_batch(struct client *c)
{
	bool mix = strcmp(c->o.workload, "mix") == 0;
	/* mix: 4 new events per round + the 2 dependent ones of each previous round */
	size_t rounds = mix ? (size_t)c->o.batch / 6 : (size_t)c->o.batch;
	if (rounds == 0)
		rounds = 1;
	size_t new_cases = mix ? rounds * 2 : rounds;
	int64_t *ids = malloc(new_cases * sizeof *ids);
	if (!ids)
		abort();
	plan_loads(c, rounds);
	run_load(c, new_cases, ids);
	plan_writes(c, rounds, ids, wall_ms());
	run_write(c);
	free(ids);
	size_t events = mix ? rounds * 4 + c->n_pend : rounds;
	c->round += rounds;
	struct pend *tmp = c->pend;
	c->pend = c->next_pend;
	c->next_pend = tmp;
	c->n_pend = c->n_next;
	return events;
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
	fprintf(stderr, "usage: limit --conninfo STR [--workload offered|mix] [--batch N] [--duration S] [--warmup S] [--nonce DIGITS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "conninfo", 1, NULL, 'c' }, { "workload", 1, NULL, 'w' }, { "batch", 1, NULL, 'b' },
		{ "duration", 1, NULL, 'd' }, { "warmup", 1, NULL, 'a' }, { "nonce", 1, NULL, 'n' }, { NULL, 0, NULL, 0 },
	};
	struct client c = { .o = { .workload = "offered", .batch = 1000, .duration = 10, .warmup = 2 } };
	char nonce[16];
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': c.o.conninfo = optarg; break;
		case 'w': c.o.workload = optarg; break;
		case 'b': c.o.batch = atoi(optarg); break;
		case 'd': c.o.duration = atof(optarg); break;
		case 'a': c.o.warmup = atof(optarg); break;
		case 'n': c.o.nonce = optarg; break;
		default: usage();
		}
	}
	if (!c.o.conninfo || c.o.batch < 1 || c.o.duration <= 0 ||
	    (strcmp(c.o.workload, "offered") != 0 && strcmp(c.o.workload, "mix") != 0))
		usage();
	if (!c.o.nonce) {
		snprintf(nonce, sizeof nonce, "%06ld", (long)(time(NULL) % 1000000));
		c.o.nonce = nonce;
	}
	c.pg = PQconnectdb(c.o.conninfo);
	if (PQstatus(c.pg) != CONNECTION_OK)
		die(c.pg, "connect");
	prepare_all(&c);
	if (!PQenterPipelineMode(c.pg))
		die(c.pg, "pipeline mode");
	c.pend = calloc((size_t)c.o.batch + 2, sizeof *c.pend);
	c.next_pend = calloc((size_t)c.o.batch + 2, sizeof *c.next_pend);
	if (!c.pend || !c.next_pend)
		abort();

	uint64_t t0 = now_us(), t_start = t0 + (uint64_t)(c.o.warmup * 1e6);
	uint64_t t_end = t_start + (uint64_t)(c.o.duration * 1e6), events = 0, measured_us = 0;
	for (;;) {
		uint64_t b0 = now_us();
		if (b0 >= t_end)
			break;
		size_t n = one_batch(&c);
		uint64_t b1 = now_us();
		if (b0 >= t_start) {
			events += n;
			measured_us += b1 - b0;
			if (c.n_batch == c.cap_batch) {
				c.cap_batch = c.cap_batch ? c.cap_batch * 2 : 256;
				c.batch_us = realloc(c.batch_us, c.cap_batch * sizeof *c.batch_us);
				if (!c.batch_us)
					abort();
			}
			c.batch_us[c.n_batch++] = b1 - b0;
		}
	}
	if (c.n_batch > 0)
		qsort(c.batch_us, c.n_batch, sizeof *c.batch_us, cmp_u64);
	double secs = (double)measured_us / 1e6;
	printf("{\"mode\":\"limit\",\"workload\":\"%s\",\"batch\":%d,\"seconds\":%.1f,\"events\":%" PRIu64
	       ",\"events_per_s\":%.1f,\"batches\":%zu,\"batch_p50_ms\":%.1f,\"batch_p99_ms\":%.1f}\n",
	       c.o.workload, c.o.batch, secs, events, secs > 0 ? (double)events / secs : 0, c.n_batch,
	       pct_ms(c.batch_us, c.n_batch, 0.5), pct_ms(c.batch_us, c.n_batch, 0.99));
	for (int i = 0; i < N_SB; i++)
		free(c.b[i].p);
	free(c.pend);
	free(c.next_pend);
	free(c.batch_us);
	PQfinish(c.pg);
	return 0;
}
