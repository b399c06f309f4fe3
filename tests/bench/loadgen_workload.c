/*
 * loadgen_workload.c - the events the load generator sends: the workloads'
 * rounds (offered, mix, orders, real), the caller numbers (new, uniform or
 * Zipf-drawn), the request lines, and the types mode's stages (one event
 * type at a time, a shell command between two stages).  Split from
 * loadgen.c, which keeps the connections, the modes and the figures; see
 * its comment for the design.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

/* The types mode's stages, in the order their dependencies need. */
static const struct { uint8_t kind; const char *type; } STAGES[] = {
	{ K_OFFERED, "call.offered" }, { K_ANSWERED, "call.answered" }, { K_ENDED, "call.ended" },
	{ K_ABANDONED, "call.abandoned" }, { K_CALLBACK, "callback.attempt" }, { K_UPDATE, "case.update" },
	{ K_DISPATCH, "order.dispatch" }, { K_SIGN, "order.sign" }, { K_REPLY, "order.reply" },
};
#define N_STAGES ((int)(sizeof STAGES / sizeof STAGES[0]))

/* ---------------------------------------------------------- the workload */

void rq_push(struct lconn *c, uint8_t kind, uint64_t round, int64_t case_id)
{
	if (c->rq_n == c->rq_cap) {
		size_t ncap = c->rq_cap ? c->rq_cap * 2 : 16;
		struct ready *n = xrealloc(NULL, ncap * sizeof *n);
		for (size_t i = 0; i < c->rq_n; i++)
			n[i] = c->rq[(c->rq_head + i) % c->rq_cap];
		free(c->rq);
		c->rq = n;
		c->rq_cap = ncap;
		c->rq_head = 0;
	}
	c->rq[(c->rq_head + c->rq_n++) % c->rq_cap] = (struct ready){ .kind = kind, .round = round, .case_id = case_id };
}

static struct ready rq_pop(struct lconn *c)
{
	struct ready r = c->rq[c->rq_head];
	c->rq_head = (c->rq_head + 1) % c->rq_cap;
	c->rq_n--;
	return r;
}

/* The next event of this connection: a dependent one if ready, else a new round. */
struct ready next_event(struct lconn *c)
{
	if (c->rq_n == 0) {
		uint64_t r = c->rounds++;
		rq_push(c, K_OFFERED, r, 0);
		if (strcmp(c->g->o.workload, "mix") == 0 || strcmp(c->g->o.workload, "real") == 0) {
			rq_push(c, K_ANSWERED, r, 0);
			rq_push(c, K_ENDED, r, 0);
			rq_push(c, K_ABANDONED, r, 0);
		}
	}
	return rq_pop(c);
}

/* A caller number unique to (nonce, connection, round, which).  Numbers are
 * as long as real ones can be: E.164 allows 15 digits, and a longer number
 * shows more digits when masked ("+8613...****0315"), which made the daemon
 * look for a copied confidential number in every repeat_caller alert's text
 * (sql/054: only a run of 9 or more visible digits is looked at), a cost no
 * real number brings.  New callers: "+9" + nonce + connection % 100 + the
 * (round, which) count % 10^6, 15 digits (unique up to 100 connections and
 * 500,000 rounds each: every phase of scripts/bench.sh stays far below);
 * drawn callers: "+8" + nonce + the number's index, 13 digits. */
static void caller_of(const struct lconn *c, uint64_t round, int which, char *buf, size_t n)
{
	if (c->g->o.callers > 0) {
		/* splitmix64 of (connection, round, which): uniform over N numbers,
		 * the same sequence for the same nonce */
		uint64_t z = ((uint64_t)c->idx << 40) ^ (round * 2 + (uint64_t)which) ^ 0x9e3779b97f4a7c15u;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
		z ^= z >> 31;
		uint64_t k = z % (uint64_t)c->g->o.callers;
		if (c->g->o.zipf) { /* P(k) ~ 1/(k+1): k + 1 = N^u, u uniform in [0, 1) */
			double u = (double)(z >> 11) / 9007199254740992.0;
			k = (uint64_t)floor(exp(u * log((double)c->g->o.callers))) - 1;
		}
		snprintf(buf, n, "+8%.6s%06" PRIu64, c->g->o.nonce, k);
		return;
	}
	snprintf(buf, n, "+9%.6s%02d%06" PRIu64, c->g->o.nonce, c->idx % 100, (round * 2 + (uint64_t)which) % 1000000u);
}

int format_event(const struct lconn *c, const struct ready *e, char *buf, size_t n)
{
	const char *nonce = c->g->o.nonce;
	char caller[40];
	uint64_t r = e->round;
	int i = c->idx;
	switch (e->kind) {
	case K_OFFERED:
		caller_of(c, r, 0, caller, sizeof caller);
		return snprintf(buf, n, "{\"type\":\"call.offered\",\"id\":\"b%s-%d-%" PRIu64 "o\",\"call_id\":\"k%s-%d-%" PRIu64
		                "a\",\"caller\":\"%s\",\"queue\":\"bench\"}\n", nonce, i, r, nonce, i, r, caller);
	case K_ANSWERED:
		return snprintf(buf, n, "{\"type\":\"call.answered\",\"id\":\"b%s-%d-%" PRIu64 "n\",\"call_id\":\"k%s-%d-%" PRIu64
		                "a\",\"agent\":\"agent-%d\"}\n", nonce, i, r, nonce, i, r, i % 50);
	case K_ENDED:
		return snprintf(buf, n, "{\"type\":\"call.ended\",\"id\":\"b%s-%d-%" PRIu64 "e\",\"call_id\":\"k%s-%d-%" PRIu64
		                "a\",\"outcome\":\"followup\",\"category\":\"benefits\",\"summary\":\"asked about a payment\"}\n",
		                nonce, i, r, nonce, i, r);
	case K_ABANDONED:
		caller_of(c, r, 1, caller, sizeof caller);
		return snprintf(buf, n, "{\"type\":\"call.abandoned\",\"id\":\"b%s-%d-%" PRIu64 "x\",\"call_id\":\"k%s-%d-%" PRIu64
		                "b\",\"caller\":\"%s\"}\n", nonce, i, r, nonce, i, r, caller);
	case K_CALLBACK:
		return snprintf(buf, n, "{\"type\":\"callback.attempt\",\"id\":\"b%s-%d-%" PRIu64 "c\",\"case_id\":%" PRId64
		                ",\"result\":\"reached\",\"agent\":\"agent-%d\"}\n", nonce, i, r, e->case_id, i % 50);
	case K_UPDATE:
		return snprintf(buf, n, "{\"type\":\"case.update\",\"id\":\"b%s-%d-%" PRIu64 "u\",\"case_id\":%" PRId64
		                ",\"note\":\"documents requested\",\"caller_informed\":true}\n", nonce, i, r, e->case_id);
	case K_DISPATCH:
		return snprintf(buf, n, "{\"type\":\"order.dispatch\",\"id\":\"b%s-%d-%" PRIu64 "d\",\"case_id\":%" PRId64
		                ",\"order_id\":\"w%s-%d-%" PRIu64 "\",\"department\":\"dept-%d\",\"category\":\"water\","
		                "\"area\":\"area-%d\"}\n", nonce, i, r, e->case_id, nonce, i, r, i % 20, (int)(r % 1000));
	case K_SIGN:
		return snprintf(buf, n, "{\"type\":\"order.sign\",\"id\":\"b%s-%d-%" PRIu64 "s\",\"order_id\":\"w%s-%d-%" PRIu64
		                "\",\"by\":\"clerk\"}\n", nonce, i, r, nonce, i, r);
	case K_REPLY:
		return snprintf(buf, n, "{\"type\":\"order.reply\",\"id\":\"b%s-%d-%" PRIu64 "r\",\"order_id\":\"w%s-%d-%" PRIu64
		                "\",\"result\":\"explained\",\"note\":\"done\"}\n", nonce, i, r, nonce, i, r);
	case K_PING:
		return snprintf(buf, n, "{\"type\":\"ping\",\"id\":\"p%d\"}\n", i);
	case K_STATS:
		return snprintf(buf, n, "{\"type\":\"stats\",\"id\":\"s\"}\n");
	case K_SUB:
		return snprintf(buf, n, "{\"type\":\"subscribe\",\"id\":\"sub\"}\n");
	}
	return 0;
}

/* ---------------------------------------------------------- types mode */

bool types_stage_done(const struct gen *g)
{
	for (int i = 0; i < g->o.conns; i++)
		if (!g->c[i].dead && (g->c[i].rq_n > 0 || g->c[i].fl_n > 0))
			return false;
	return true;
}

/* Run --between with ARG (the next stage's type, or "end"); the load
 * generator waits for it, the daemon is idle meanwhile. */
static void run_between(const struct gen *g, const char *arg)
{
	if (!g->o.between)
		return;
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s %s", g->o.between, arg);
	if (system(cmd) != 0)
		fprintf(stderr, "loadgen: --between %s failed\n", arg);
}

/* Close the stage that just drained (its figures), then start the next one
 * with every round's event of its type queued, or end. */
void types_next_stage(struct gen *g)
{
	uint64_t t = now_us();
	if (g->stage >= 0) {
		char one[256];
		int n = snprintf(one, sizeof one, "%s{\"type\":\"%s\",\"events\":%" PRIu64 ",\"errors\":%" PRIu64
		                 ",\"seconds\":%.3f}", g->types_len ? "," : "", STAGES[g->stage].type, g->stage_acks,
		                 g->stage_errors, (double)(t - g->stage_t0) / 1e6);
		g->types_json = xrealloc(g->types_json, g->types_len + (size_t)n + 1);
		memcpy(g->types_json + g->types_len, one, (size_t)n + 1);
		g->types_len += (size_t)n;
	}
	g->stage++;
	run_between(g, g->stage < N_STAGES ? STAGES[g->stage].type : "end");
	if (g->stage >= N_STAGES) {
		event_base_loopbreak(g->base);
		return;
	}
	g->stage_acks = g->stage_errors = 0;
	g->stage_t0 = now_us();
	for (int i = 0; i < g->o.conns; i++) {
		struct lconn *c = &g->c[i];
		if (c->dead)
			continue;
		for (long r = 0; r < g->per_conn; r++) {
			uint8_t k = STAGES[g->stage].kind;
			int64_t id = k == K_CALLBACK ? c->case_y[r] : c->case_x[r];
			/* an event whose case never came back (an error) is skipped, not sent with case 0 */
			if ((k == K_CALLBACK || k == K_UPDATE || k == K_DISPATCH) && id == 0)
				continue;
			rq_push(c, k, (uint64_t)r, id);
		}
	}
	for (int i = 0; i < g->o.conns; i++)
		pump(&g->c[i]);
}

/* Every stage ran (the --between command saw "end"). */
bool types_finished(const struct gen *g)
{
	return g->stage >= N_STAGES;
}
