/*
 * loadgen.c - the load generator of `make bench`: speaks the hotlined event
 * protocol over N connections and prints one JSON line of figures.
 *
 * Modes (--mode):
 *   ingest    N connections, each with a window of W requests in flight
 *             (closed loop: a reply lets the next request go), or, with
 *             --rate R, an open loop: R events per second are scheduled on
 *             a fixed timetable, round robin over the connections, and each
 *             latency is counted from the event's *scheduled* time, so a
 *             stalled daemon cannot hide its stalls by slowing the sender
 *             (no coordinated omission).  Prints acks/s and ack latency
 *             p50/p99/p99.9/max over the measured interval (after --warmup).
 *   conns     opens N connections, pings on each, and reports the daemon's
 *             RSS (/proc/PID/status) before and with all of them open.
 *   lateness  subscribes and records, for every *_overdue push, how late it
 *             arrived after its due_at (wall clock), until --expect pushes.
 *   stats     sends {"type":"stats"} and prints the reply line.
 *   types     the cost of each event type alone: --rounds N rounds of the
 *             "real" workload, sent one event type at a time (a stage: every
 *             round's call.offered, then every round's call.answered, ...),
 *             each stage drained before the next starts, and before each
 *             stage and after the last the shell command --between runs
 *             with the stage's type (or "end") as its argument; bench.sh
 *             snapshots PostgreSQL's counters and the daemon's CPU there, so
 *             the difference between two snapshots is one type's cost.
 *
 * Workloads (--workload):
 *   offered   call.offered only, a new caller each time (a new case each time);
 *   mix       rounds of six events on two new callers: call.offered ->
 *             call.answered -> call.ended(followup); call.abandoned ->
 *             callback.attempt(reached); case.update(caller_informed) on the
 *             first case.  The events that need a case_id (the attempt and
 *             the update) are sent once the reply that names the case came
 *             back, as a real integration would.
 *   orders    rounds of four events on a new caller (CONTRACT.md 6):
 *             call.offered -> order.dispatch (once the case id is back) ->
 *             order.sign -> order.reply(explained): the work-order events'
 *             cost next to the v1 mix.
 *   real      the headline workload: the mix and the orders together, nine
 *             events a round: the mix's six, and on the first case
 *             order.dispatch -> order.sign -> order.reply(explained: the case
 *             stays open, so a repeat caller's next dispatch on it is valid).  With
 *             --callers N --zipf the callers call again as real ones do.
 *
 * --callers N draws the caller of every call.offered / call.abandoned
 * uniformly from N numbers shared by all connections (0, the default: a new
 * caller each time); with --zipf the k-th number is drawn with probability
 * ~ 1/k (Zipf, s = 1: the busiest number, like "withheld", makes ~6% of
 * the calls from 50,000 numbers), so callers call again as real ones do and the repeat-
 * caller cost can be compared with all-new callers in the same run
 * (docs/performance.md, "Repeat callers").
 *
 * Every id contains --nonce: ids are idempotency keys forever, so a rerun
 * against the same database must not collide with an earlier run.
 *
 * The events themselves (workloads, callers, request lines, the types mode's
 * stages) are in loadgen_workload.c; the structures both files share in
 * loadgen.h.
 *
 * Design: one thread, one libevent base, bufferevents.  Per connection a ring
 * of requests in flight (replies come back in request order, so the head of
 * the ring is always the request being answered) and a queue of events ready
 * to send.  Latencies are kept as microseconds in one array and sorted at
 * the end.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <json-c/json.h>
#include "loadgen.h"

/* ------------------------------------------------------------- helpers */

uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		perror("loadgen: realloc");
		exit(1);
	}
	return q;
}

static void lat_add(struct gen *g, uint64_t us)
{
	if (g->n_lat == g->cap_lat) {
		g->cap_lat = g->cap_lat ? g->cap_lat * 2 : 65536;
		g->lat = xrealloc(g->lat, g->cap_lat * sizeof *g->lat);
	}
	g->lat[g->n_lat++] = us;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile in milliseconds of a sorted array. */
static double pct_ms(const uint64_t *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	size_t rank = (size_t)ceil(q * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1000.0;
}

/* VmRSS of a process in kB, -1 when unreadable. */
static int64_t rss_kb(int pid)
{
	char path[64], line[256];
	int64_t kb = -1;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %" SCNd64, &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* "2026-11-21T05:48:45.479Z" -> microseconds since the epoch; -1 when bad. */
static int64_t parse_iso_us(const char *s)
{
	struct tm tm = {0};
	int ms = 0;
	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	                 &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000000 + (int64_t)ms * 1000;
}

/* --------------------------------------------------------- connections */

static void fl_push(struct lconn *c, uint8_t kind, uint64_t round, uint64_t t)
{
	if (c->fl_n == c->fl_cap) {
		size_t ncap = c->fl_cap ? c->fl_cap * 2 : 16;
		struct inflight *n = xrealloc(NULL, ncap * sizeof *n);
		for (size_t i = 0; i < c->fl_n; i++)
			n[i] = c->fl[(c->fl_head + i) % c->fl_cap];
		free(c->fl);
		c->fl = n;
		c->fl_cap = ncap;
		c->fl_head = 0;
	}
	c->fl[(c->fl_head + c->fl_n++) % c->fl_cap] = (struct inflight){ .t_us = t, .kind = kind, .round = round };
}

static void send_line(struct lconn *c, uint8_t kind, uint64_t round, uint64_t t, const char *line, int len)
{
	bufferevent_write(c->bev, line, (size_t)len);
	fl_push(c, kind, round, t);
	c->g->sent++;
}

static void send_simple(struct lconn *c, uint8_t kind)
{
	char buf[128];
	struct ready e = { .kind = kind };
	int len = format_event(c, &e, buf, sizeof buf);
	send_line(c, kind, 0, now_us(), buf, len);
}

static void bl_push(struct lconn *c, uint64_t t)
{
	if (c->bl_n == c->bl_cap) {
		size_t ncap = c->bl_cap ? c->bl_cap * 2 : 64;
		uint64_t *n = xrealloc(NULL, ncap * sizeof *n);
		for (size_t i = 0; i < c->bl_n; i++)
			n[i] = c->bl[(c->bl_head + i) % c->bl_cap];
		free(c->bl);
		c->bl = n;
		c->bl_cap = ncap;
		c->bl_head = 0;
	}
	c->bl[(c->bl_head + c->bl_n++) % c->bl_cap] = t;
}

/* Fill the window: closed loop sends whenever there is room, open loop only
 * what the timetable has scheduled for this connection. */
void pump(struct lconn *c)
{
	struct gen *g = c->g;
	char buf[512];
	bool open_loop = g->o.rate > 0;
	/* only the ingest and types modes send events; the others send their one request */
	bool types = strcmp(g->o.mode, "types") == 0;
	if (!c->up || c->dead || g->stop_sending || (!types && strcmp(g->o.mode, "ingest") != 0))
		return;
	while (c->fl_n < (size_t)g->o.window && (!types || c->rq_n > 0)) {
		uint64_t t;
		if (open_loop) {
			if (c->bl_n == 0)
				break;
			t = c->bl[c->bl_head];
			c->bl_head = (c->bl_head + 1) % c->bl_cap;
			c->bl_n--;
		} else {
			t = now_us();
		}
		struct ready e = next_event(c);
		int len = format_event(c, &e, buf, sizeof buf);
		send_line(c, e.kind, e.round, t, buf, len);
	}
}

static void note_error(struct gen *g, const char *line)
{
	g->errors++;
	if (!g->first_error[0])
		snprintf(g->first_error, sizeof g->first_error, "%.150s", line);
}

static bool all_drained(const struct gen *g)
{
	for (int i = 0; i < g->o.conns; i++)
		if (g->c[i].up && !g->c[i].dead && g->c[i].fl_n > 0)
			return false;
	return true;
}

static void on_reply(struct lconn *c, const char *line)
{
	struct gen *g = c->g;
	uint64_t t = now_us();
	json_object *o = json_tokener_parse(line), *v;

	if (!o) {
		note_error(g, line);
		return;
	}
	if (json_object_object_get_ex(o, "push", &v)) {
		/* an alert push (subscribers only): lateness against its due_at */
		json_object *a, *kind, *due;
		if (json_object_object_get_ex(o, "alert", &a) && json_object_object_get_ex(a, "kind", &kind) &&
		    json_object_object_get_ex(a, "due_at", &due)) {
			const char *k = json_object_get_string(kind);
			size_t kl = strlen(k);
			if (kl > 8 && strcmp(k + kl - 8, "_overdue") == 0) {
				int64_t late = wall_us() - parse_iso_us(json_object_get_string(due));
				lat_add(g, late > 0 ? (uint64_t)late : 0);
				if (g->o.expect > 0 && (long)g->n_lat >= g->o.expect)
					event_base_loopbreak(g->base);
			}
		}
		json_object_put(o);
		return;
	}
	if (c->fl_n == 0) {
		note_error(g, line);
		json_object_put(o);
		return;
	}
	struct inflight f = c->fl[c->fl_head];
	c->fl_head = (c->fl_head + 1) % c->fl_cap;
	c->fl_n--;

	bool ok = json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v);
	if (!ok) {
		note_error(g, line);
		g->stage_errors++;
	} else if (f.kind == K_PING) {
		g->pongs++;
		if (g->pongs == g->o.conns) {
			int64_t after = rss_kb(g->o.pid);
			printf("{\"mode\":\"conns\",\"conns\":%d,\"failed\":%d,\"rss_before_kb\":%" PRId64
			       ",\"rss_after_kb\":%" PRId64 ",\"bytes_per_conn\":%.0f}\n",
			       g->n_up, g->n_failed, g->rss_before_kb, after,
			       g->n_up ? (double)(after - g->rss_before_kb) * 1024.0 / g->n_up : 0);
			fflush(stdout);
			struct timeval tv = { (time_t)g->o.hold, 0 };
			event_base_loopexit(g->base, &tv);
		}
	} else if (f.kind == K_STATS) {
		g->stats_line = strdup(line);
		event_base_loopbreak(g->base);
	} else if (f.kind == K_SUB) {
		g->subscribed = true;
		fprintf(stderr, "loadgen: subscribed\n");
	} else if (strcmp(g->o.mode, "types") == 0) {
		g->stage_acks++;
		if ((f.kind == K_OFFERED || f.kind == K_ABANDONED) && json_object_object_get_ex(o, "case_id", &v))
			(f.kind == K_OFFERED ? c->case_x : c->case_y)[f.round] = json_object_get_int64(v);
	} else {
		const char *w = g->o.workload;
		bool mix = strcmp(w, "mix") == 0 || strcmp(w, "real") == 0;
		bool orders = strcmp(w, "orders") == 0 || strcmp(w, "real") == 0;
		if (json_object_object_get_ex(o, "duplicate", &v) && json_object_get_boolean(v))
			g->dup++;
		if (mix && (f.kind == K_OFFERED || f.kind == K_ABANDONED) && json_object_object_get_ex(o, "case_id", &v))
			rq_push(c, f.kind == K_OFFERED ? K_UPDATE : K_CALLBACK, f.round, json_object_get_int64(v));
		if (orders && f.kind == K_OFFERED && json_object_object_get_ex(o, "case_id", &v))
			rq_push(c, K_DISPATCH, f.round, json_object_get_int64(v));
		if (orders && f.kind == K_DISPATCH) {
			rq_push(c, K_SIGN, f.round, 0);
			rq_push(c, K_REPLY, f.round, 0);
		}
		if (t >= g->t_start && t < g->t_end) {
			g->acks++;
			lat_add(g, t > f.t_us ? t - f.t_us : 0);
		}
	}
	json_object_put(o);
	if (strcmp(g->o.mode, "types") == 0) {
		if (types_stage_done(g))
			types_next_stage(g);
		else
			pump(c);
		return;
	}
	if (t >= g->t_end && !g->stop_sending && strcmp(g->o.mode, "ingest") == 0)
		g->stop_sending = true;
	if (g->stop_sending && all_drained(g))
		event_base_loopbreak(g->base);
	else
		pump(c);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct lconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t len;
	while (!c->dead && (line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF))) {
		on_reply(c, line);
		free(line);
	}
}

static void start_conn_work(struct lconn *c)
{
	struct gen *g = c->g;
	if (strcmp(g->o.mode, "conns") == 0)
		send_simple(c, K_PING);
	else if (strcmp(g->o.mode, "stats") == 0)
		send_simple(c, K_STATS);
	else if (strcmp(g->o.mode, "lateness") == 0)
		send_simple(c, K_SUB);
	else if (strcmp(g->o.mode, "types") == 0) {
		if (g->n_up == g->o.conns && g->stage < 0)
			types_next_stage(g);
	} else
		pump(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct lconn *c = arg;
	struct gen *g = c->g;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->up = true;
		g->n_up++;
		int one = 1;
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		start_conn_work(c);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		if (!c->up)
			g->n_failed++;
		else if (!g->stop_sending)
			fprintf(stderr, "loadgen: connection %d closed by the daemon (%zu in flight)\n", c->idx, c->fl_n);
		c->dead = true;
		if (!c->up && strcmp(g->o.mode, "conns") == 0 && g->pongs + g->n_failed >= g->o.conns)
			event_base_loopbreak(g->base);
		if (strcmp(g->o.mode, "conns") != 0 && g->stop_sending && all_drained(g))
			event_base_loopbreak(g->base);
	}
}

static int open_conn(struct gen *g, struct lconn *c)
{
	c->bev = bufferevent_socket_new(g->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev)
		return -1;
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (g->o.unix_path) {
		struct sockaddr_un su = { .sun_family = AF_UNIX };
		snprintf(su.sun_path, sizeof su.sun_path, "%s", g->o.unix_path);
		return bufferevent_socket_connect(c->bev, (struct sockaddr *)&su, sizeof su);
	}
	char host[128];
	snprintf(host, sizeof host, "%s", g->o.tcp);
	char *colon = strrchr(host, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return -1;
	return bufferevent_socket_connect(c->bev, (struct sockaddr *)&sin, sizeof sin);
}

/* -------------------------------------------------------------- timers */

/* Every 200 us (open loop) or millisecond: put due events of the open-loop timetable on their
 * connections, end the measured interval, give up draining after a while. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gen *g = arg;
	uint64_t t = now_us();
	(void)fd, (void)what;
	if (t >= g->t_end)
		g->stop_sending = true;
	if (g->o.rate > 0 && !g->stop_sending) {
		uint64_t want = (uint64_t)((double)(t - g->t0) * g->o.rate / 1e6);
		for (; g->scheduled < want; g->scheduled++) {
			struct lconn *c = &g->c[g->scheduled % (uint64_t)g->o.conns];
			bl_push(c, g->t0 + (uint64_t)((double)g->scheduled * 1e6 / g->o.rate));
		}
		for (int i = 0; i < g->o.conns; i++)
			if (g->c[i].bl_n)
				pump(&g->c[i]);
	}
	if (g->stop_sending && (all_drained(g) || t >= g->drain_end))
		event_base_loopbreak(g->base);
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
	fprintf(stderr,
	        "usage: loadgen (--tcp HOST:PORT | --unix PATH) [--mode ingest|conns|lateness|stats]\n"
	        "  ingest:   [--workload offered|mix|orders] [--conns N] [--window W] [--duration S] [--warmup S]\n"
	        "            [--rate EVENTS_PER_S (open loop)] [--nonce DIGITS] [--callers N [--zipf]]\n"
	        "  types:    --rounds N [--between CMD] [--conns N] [--window W] [--nonce DIGITS] [--callers N [--zipf]]\n"
	        "  conns:    --conns N --pid DAEMON_PID [--hold S]\n"
	        "  lateness: --expect N [--timeout S]\n");
	exit(2);
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "tcp", 1, NULL, 't' }, { "unix", 1, NULL, 'u' }, { "mode", 1, NULL, 'm' },
		{ "workload", 1, NULL, 'w' }, { "conns", 1, NULL, 'c' }, { "window", 1, NULL, 'W' },
		{ "duration", 1, NULL, 'd' }, { "warmup", 1, NULL, 'a' }, { "rate", 1, NULL, 'r' },
		{ "nonce", 1, NULL, 'n' }, { "pid", 1, NULL, 'p' }, { "hold", 1, NULL, 'h' },
		{ "expect", 1, NULL, 'e' }, { "timeout", 1, NULL, 'T' },
		{ "callers", 1, NULL, 'C' }, { "zipf", 0, NULL, 'Z' }, { "rounds", 1, NULL, 'R' },
		{ "between", 1, NULL, 'B' }, { NULL, 0, NULL, 0 },
	};
	static char nonce[16];
	int ch;
	*o = (struct opts){ .mode = "ingest", .workload = "offered", .conns = 1, .window = 16,
		                .duration = 10, .warmup = 2, .timeout = 60 };
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 't': o->tcp = optarg; break;
		case 'u': o->unix_path = optarg; break;
		case 'm': o->mode = optarg; break;
		case 'w': o->workload = optarg; break;
		case 'c': o->conns = atoi(optarg); break;
		case 'W': o->window = atoi(optarg); break;
		case 'd': o->duration = atof(optarg); break;
		case 'a': o->warmup = atof(optarg); break;
		case 'r': o->rate = atof(optarg); break;
		case 'n': o->nonce = optarg; break;
		case 'p': o->pid = atoi(optarg); break;
		case 'h': o->hold = atof(optarg); break;
		case 'e': o->expect = atol(optarg); break;
		case 'T': o->timeout = atof(optarg); break;
		case 'C': o->callers = atol(optarg); break;
		case 'Z': o->zipf = true; break;
		case 'R': o->rounds = atol(optarg); break;
		case 'B': o->between = optarg; break;
		default: usage();
		}
	}
	if ((!o->tcp) == (!o->unix_path) || o->conns < 1 || o->window < 1 || o->duration <= 0)
		usage();
	if (strcmp(o->workload, "offered") != 0 && strcmp(o->workload, "mix") != 0 && strcmp(o->workload, "orders") != 0 &&
	    strcmp(o->workload, "real") != 0)
		usage();
	if (strcmp(o->mode, "types") == 0 && o->rounds < 1)
		usage();
	if (!o->nonce) {
		snprintf(nonce, sizeof nonce, "%06ld", (long)(time(NULL) % 1000000));
		o->nonce = nonce;
	}
	if (strlen(o->nonce) != 6 || strspn(o->nonce, "0123456789") != 6) {
		fprintf(stderr, "loadgen: --nonce must be 6 digits\n");
		exit(2);
	}
	if (o->callers > 1000000) { /* the numbers keep E.164's 15 digits (loadgen_workload.c) */
		fprintf(stderr, "loadgen: --callers at most 1000000\n");
		exit(2);
	}
	if (o->rate > 0 && o->window < 100000)
		o->window = 100000; /* open loop: the timetable, not a window, limits what is sent */
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void sort_lat(struct gen *g)
{
	if (g->n_lat > 0)
		qsort(g->lat, g->n_lat, sizeof *g->lat, cmp_u64);
}

static void print_ingest(struct gen *g)
{
	sort_lat(g);
	double sum = 0;
	for (size_t i = 0; i < g->n_lat; i++)
		sum += (double)g->lat[i];
	printf("{\"mode\":\"ingest\",\"workload\":\"%s\",\"conns\":%d,\"window\":%d,\"rate\":%.0f,"
	       "\"seconds\":%.1f,\"acks\":%" PRIu64 ",\"acks_per_s\":%.1f,\"errors\":%" PRIu64 ",\"duplicates\":%" PRIu64
	       ",\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,\"mean_ms\":%.3f,\"conns_failed\":%d,\"callers\":%ld,\"zipf\":%s",
	       g->o.workload, g->o.conns, g->o.rate > 0 ? 0 : g->o.window, g->o.rate, g->o.duration, g->acks,
	       (double)g->acks / g->o.duration, g->errors, g->dup, pct_ms(g->lat, g->n_lat, 0.50),
	       pct_ms(g->lat, g->n_lat, 0.99), pct_ms(g->lat, g->n_lat, 0.999), pct_ms(g->lat, g->n_lat, 1.0),
	       g->n_lat ? sum / (double)g->n_lat / 1000.0 : 0, g->n_failed, g->o.callers, g->o.zipf ? "true" : "false");
	if (g->first_error[0]) {
		json_object *s = json_object_new_string(g->first_error);
		printf(",\"first_error\":%s", json_object_to_json_string(s));
		json_object_put(s);
	}
	printf("}\n");
}

static void print_lateness(struct gen *g)
{
	sort_lat(g);
	printf("{\"mode\":\"lateness\",\"alerts\":%zu,\"expected\":%ld,\"p50_ms\":%.1f,\"p99_ms\":%.1f,"
	       "\"max_ms\":%.1f,\"min_ms\":%.1f}\n",
	       g->n_lat, g->o.expect, pct_ms(g->lat, g->n_lat, 0.5), pct_ms(g->lat, g->n_lat, 0.99),
	       pct_ms(g->lat, g->n_lat, 1.0), pct_ms(g->lat, g->n_lat, 0.0));
}

int main(int argc, char **argv)
{
	struct gen g = {0};
	int rc = 0;
	parse_opts(&g.o, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (strcmp(g.o.mode, "stats") == 0 || strcmp(g.o.mode, "lateness") == 0)
		g.o.conns = 1;
	/* a precise timer (timerfd) and a 200 us tick: the open loop's timetable is
	 * kept to well under a millisecond, so the generator's own lateness does
	 * not pass for the daemon's latency */
	struct event_config *ecfg = event_config_new();
	event_config_set_flag(ecfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	g.base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	g.c = calloc((size_t)g.o.conns, sizeof *g.c);
	if (!g.base || !g.c)
		return 1;
	if (g.o.pid)
		g.rss_before_kb = rss_kb(g.o.pid);
	g.stage = -1;
	if (strcmp(g.o.mode, "types") == 0) {
		g.per_conn = (g.o.rounds + g.o.conns - 1) / g.o.conns;
		for (int i = 0; i < g.o.conns; i++) {
			g.c[i].case_x = calloc((size_t)g.per_conn, sizeof(int64_t));
			g.c[i].case_y = calloc((size_t)g.per_conn, sizeof(int64_t));
			if (!g.c[i].case_x || !g.c[i].case_y)
				return 1;
		}
	}

	g.t0 = now_us();
	if (strcmp(g.o.mode, "ingest") == 0) {
		g.t_start = g.t0 + (uint64_t)(g.o.warmup * 1e6);
		g.t_end = g.t_start + (uint64_t)(g.o.duration * 1e6);
		g.drain_end = g.t_end + 15000000u;
	} else {
		g.t_start = g.t_end = g.drain_end = UINT64_MAX;
	}
	for (int i = 0; i < g.o.conns; i++) {
		g.c[i].g = &g;
		g.c[i].idx = i;
		if (open_conn(&g, &g.c[i]) < 0) {
			g.n_failed++;
			g.c[i].dead = true;
		}
	}
	if (strcmp(g.o.mode, "ingest") == 0) {
		struct timeval ms = { 0, g.o.rate > 0 ? 200 : 1000 };
		g.tick = event_new(g.base, -1, EV_PERSIST, tick_cb, &g);
		event_add(g.tick, &ms);
	} else {
		struct timeval to = { (time_t)g.o.timeout, 0 };
		event_base_loopexit(g.base, &to);
	}
	event_base_dispatch(g.base);

	if (strcmp(g.o.mode, "ingest") == 0) {
		print_ingest(&g);
		rc = g.acks > 0 ? 0 : 1;
	} else if (strcmp(g.o.mode, "lateness") == 0) {
		print_lateness(&g);
		rc = g.n_lat > 0 ? 0 : 1;
	} else if (strcmp(g.o.mode, "types") == 0) {
		printf("{\"mode\":\"types\",\"rounds\":%ld,\"conns\":%d,\"callers\":%ld,\"zipf\":%s,\"stages\":[%s]}\n",
		       g.per_conn * g.o.conns, g.o.conns, g.o.callers, g.o.zipf ? "true" : "false",
		       g.types_json ? g.types_json : "");
		rc = types_finished(&g) ? 0 : 1;
	} else if (strcmp(g.o.mode, "stats") == 0) {
		if (g.stats_line)
			printf("%s\n", g.stats_line);
		rc = g.stats_line ? 0 : 1;
	} else if (g.pongs < g.o.conns) {
		printf("{\"mode\":\"conns\",\"conns\":%d,\"failed\":%d,\"pongs\":%ld,\"error\":\"not all connections answered\"}\n",
		       g.n_up, g.n_failed, g.pongs);
		rc = 1;
	}
	for (int i = 0; i < g.o.conns; i++) {
		if (g.c[i].bev)
			bufferevent_free(g.c[i].bev);
		free(g.c[i].fl);
		free(g.c[i].rq);
		free(g.c[i].bl);
		free(g.c[i].case_x);
		free(g.c[i].case_y);
	}
	free(g.types_json);
	if (g.tick)
		event_free(g.tick);
	free(g.c);
	free(g.lat);
	free(g.stats_line);
	event_base_free(g.base);
	return rc;
}
