/*
 * rules_fixtures.h - the fixture the test_rules_*.c files share: a world
 * with free case ids (100, 101, ...) and a config built by hand, event
 * builders that apply an event with now = its time, lookups (a case's
 * clock, an alert by kind, the last history line), and dump(), everything
 * observable in the world as text, with which refused() checks that a
 * refused event leaves the world exactly as it was.
 *
 * The config is built by hand; calendars are not used here (wall clock), so
 * these tests hold with any correct calendar.c.
 *
 * A header rather than a .c so that each test binary stays one source file
 * (the Makefile's unit_% rule); the functions are static inline because
 * each test file uses only some of them.
 */
#ifndef HL_UNIT_RULES_FIXTURES_H
#define HL_UNIT_RULES_FIXTURES_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "rules.h"

#define T0 1795165200000LL /* 2026-11-20T09:00:00Z */
#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define P1 "+8613800000001"
#define P2 "+8613800000002"

/* ------------------------------------------------------------ fixture */

struct fx {
	struct hl_world *w;
	struct hl_config cfg;
	struct hl_policy pols[4];
	struct hl_rules_env env;
	struct hl_event *pool; /* events must outlive the batch (hl_accepted borrows them) */
	size_t n_pool;
	struct hl_outcome out;
};

static inline void set_policy(struct hl_policy *p, const char *name, int64_t cb, int64_t upd, int64_t res, int64_t surv,
                              double warn)
{
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	p->callback_ms = cb;
	p->update_ms = upd;
	p->resolution_ms = res;
	p->survey_ms = surv;
	p->warn_at = warn;
}

static inline struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof *f);
	cr_assert_not_null(f);
	f->w = hl_world_new();
	set_policy(&f->cfg.sla, "default", 30 * MIN, 24 * HOUR, 48 * HOUR, 0, 0.8);
	f->cfg.repeat.window_ms = 24 * HOUR;
	f->cfg.repeat.threshold = 3;
	f->cfg.escalation.after_ms = 15 * MIN;
	f->cfg.escalation.max_level = 3;
	f->cfg.alerts.transfer_limit = 3;
	f->env.cfg = &f->cfg;
	f->env.now = T0;
	f->pool = calloc(4096, sizeof *f->pool);
	cr_assert_not_null(f->pool);
	int64_t ids[100];
	for (int i = 0; i < 100; i++)
		ids[i] = 100 + i;
	hl_world_add_free_ids(f->w, ids, 100);
	return f;
}

static inline void fx_free(struct fx *f)
{
	hl_world_free(f->w);
	free(f->pool);
	free(f);
}

static inline struct hl_event E(enum hl_type t, const char *id, hl_ms at)
{
	struct hl_event e;
	memset(&e, 0, sizeof e);
	e.type = t;
	size_t n = strlen(id);
	if (n > HL_ID_MAX)
		n = HL_ID_MAX;
	memcpy(e.id, id, n);
	e.id[n] = '\0';
	e.at = at;
	e.at_given = true;
	e.received = at;
	e.caller_informed = -1;
	e.confidential = -1;
	return e;
}

/* Apply with now = the event's time (the daemon applies events as they come). */
static inline struct hl_outcome *apply(struct fx *f, struct hl_event e)
{
	cr_assert_lt(f->n_pool, 4096);
	struct hl_event *ev = &f->pool[f->n_pool++];
	*ev = e;
	f->env.now = e.at;
	memset(&f->out, 0xAB, sizeof f->out); /* the rules must fill it all */
	hl_rules_apply(f->w, &f->env, ev, &f->out);
	return &f->out;
}

static inline void ok(const struct hl_outcome *o)
{
	cr_assert_eq(o->err, HL_OK, "unexpected error %d: %s", o->err, o->message);
}

static inline struct hl_outcome *offered(struct fx *f, const char *id, const char *call, const char *caller, hl_ms at)
{
	struct hl_event e = E(HL_EV_CALL_OFFERED, id, at);
	e.call_id = (char *)call;
	snprintf(e.caller, sizeof e.caller, "%s", caller);
	return apply(f, e);
}

static inline struct hl_outcome *on_call(struct fx *f, enum hl_type t, const char *id, const char *call, hl_ms at)
{
	struct hl_event e = E(t, id, at);
	e.call_id = (char *)call;
	if (t == HL_EV_CALL_ANSWERED)
		e.agent = "a7";
	return apply(f, e);
}

static inline struct hl_outcome *ended(struct fx *f, const char *id, const char *call, const char *outcome, hl_ms at)
{
	struct hl_event e = E(HL_EV_CALL_ENDED, id, at);
	e.call_id = (char *)call;
	e.outcome = (char *)outcome;
	return apply(f, e);
}

static inline struct hl_outcome *case_ev(struct fx *f, enum hl_type t, const char *id, int64_t case_id, hl_ms at)
{
	struct hl_event e = E(t, id, at);
	e.case_id = case_id;
	return apply(f, e);
}

static inline struct hl_outcome *transfer(struct fx *f, const char *id, int64_t case_id, const char *dept, hl_ms at)
{
	struct hl_event e = E(HL_EV_CASE_TRANSFER, id, at);
	e.case_id = case_id;
	e.department = (char *)dept;
	return apply(f, e);
}

static inline struct hl_outcome *attempt(struct fx *f, const char *id, int64_t case_id, const char *result, hl_ms at)
{
	struct hl_event e = E(HL_EV_CALLBACK_ATTEMPT, id, at);
	e.case_id = case_id;
	e.result = (char *)result;
	return apply(f, e);
}

static inline struct hl_outcome *survey(struct fx *f, const char *id, int64_t case_id, int score, hl_ms at)
{
	struct hl_event e = E(HL_EV_SURVEY_RESULT, id, at);
	e.case_id = case_id;
	e.score = score;
	return apply(f, e);
}

static inline struct hl_outcome *ack(struct fx *f, const char *id, int64_t alert_id, const char *by, hl_ms at)
{
	struct hl_event e = E(HL_CMD_ALERT_ACK, id, at);
	e.alert_id = alert_id;
	e.by = (char *)by;
	return apply(f, e);
}

static inline void fire(struct fx *f, int64_t case_id, enum hl_clock_kind k, int32_t seq, hl_ms now)
{
	f->env.now = now;
	hl_rules_clock_fire(f->w, &f->env, case_id, k, seq);
}

static inline struct hl_clock *clk(struct fx *f, int64_t case_id, enum hl_clock_kind k)
{
	struct hl_case *c = hl_world_case(f->w, case_id);
	cr_assert_not_null(c, "case %lld not in world", (long long)case_id);
	return &c->clocks[k];
}

static inline const char *last_desc(struct fx *f)
{
	cr_assert_gt(f->w->n_accepted, 0);
	return f->w->accepted[f->w->n_accepted - 1].description;
}

static inline size_t count_alerts(struct fx *f, const char *kind)
{
	size_t n = 0;
	for (size_t i = 0; i < f->w->n_alerts; i++)
		if (strcmp(f->w->alerts[i]->kind, kind) == 0)
			n++;
	return n;
}

static inline struct hl_alert *find_alert(struct fx *f, const char *kind)
{
	for (size_t i = 0; i < f->w->n_alerts; i++)
		if (strcmp(f->w->alerts[i]->kind, kind) == 0)
			return f->w->alerts[i];
	return NULL;
}

static inline void no_full_number(const char *text)
{
	cr_assert_null(strstr(text, P1), "full phone number in: %s", text);
	cr_assert_null(strstr(text, P2), "full phone number in: %s", text);
	cr_assert_null(strstr(text, "8613800000001"), "full phone number in: %s", text);
}

/* Everything observable in the world, as text: equal text = equal world. */
static inline void dump_clock(FILE *o, const struct hl_clock *k)
{
	fprintf(o, " [%d %d %lld %lld %lld %d %lld %lld %lld %lld %lld %lld %s %d]", k->state, k->seq,
	        (long long)k->started_at, (long long)k->due_at, (long long)k->warn_at, k->warned,
	        (long long)k->allowed_ms, (long long)k->paused_at, (long long)k->remaining_ms,
	        (long long)k->warn_remaining_ms, (long long)k->met_at, (long long)k->breached_at, k->calendar, k->dirty);
}

#define S(x) ((x) ? (x) : "(null)")

static inline char *dump(struct hl_world *w)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	for (size_t i = 0; i < w->n_cases; i++) {
		const struct hl_case *c = w->cases[i];
		fprintf(o, "case %lld %s %d %lld %lld %lld %lld %lld %s %s %s %s %s %s %d %d %d %lld %lld %s %d %d",
		        (long long)c->id, c->caller, c->status, (long long)c->opened_at, (long long)c->resolved_at,
		        (long long)c->closed_at, (long long)c->last_contact_at, (long long)c->updated_at, S(c->category),
		        S(c->priority), S(c->department), S(c->queue), S(c->summary), S(c->resolution), c->transfers,
		        c->reopens, c->on_hold, (long long)c->hold_since, (long long)c->held_ms, c->policy, c->is_new,
		        c->dirty);
		fprintf(o, " last hold %lld-%lld", (long long)c->last_hold_from, (long long)c->last_hold_until);
		for (int k = 0; k < HL_CK__COUNT; k++)
			dump_clock(o, &c->clocks[k]);
		fputc('\n', o);
	}
	for (size_t i = 0; i < w->n_calls; i++) {
		const struct hl_call *c = w->calls[i];
		fprintf(o, "call %s %lld %s %d %d %lld %lld %lld %s %s %s %d %d\n", c->call_id, (long long)c->case_id,
		        c->caller, c->state, c->inbound, (long long)c->offered_at, (long long)c->answered_at,
		        (long long)c->ended_at, S(c->queue), S(c->agent), S(c->outcome), c->is_new, c->dirty);
	}
	for (size_t i = 0; i < w->n_callers; i++) {
		const struct hl_caller *c = w->callers[i];
		fprintf(o, "caller %s %d %lld %d %d", c->caller, c->confidential, (long long)c->repeat_alerted_at,
		        c->is_new, c->dirty);
		for (size_t j = 0; j < c->n_inbound; j++)
			fprintf(o, " %lld", (long long)c->inbound[j]);
		fprintf(o, " floor %lld crossings", (long long)c->repeat_floor);
		for (int j = 0; j < c->n_repeat_crossings; j++)
			fprintf(o, " %lld", (long long)c->repeat_crossings[j]);
		fputc('\n', o);
	}
	for (size_t i = 0; i < w->n_alerts; i++) {
		const struct hl_alert *a = w->alerts[i];
		fprintf(o, "alert %lld %s %lld %s %d %d %lld %lld %lld %lld %s %s %s %d %d\n", (long long)a->id, a->kind,
		        (long long)a->case_id, a->caller, a->confidential, a->level, (long long)a->raised_at,
		        (long long)a->due_at, (long long)a->escalate_at, (long long)a->acked_at, S(a->acked_by), a->dedupe,
		        S(a->detail), a->is_new, a->dirty);
	}
	for (size_t i = 0; i < w->n_seen; i++)
		fprintf(o, "seen %s %lld\n", w->seen[i].event_id, (long long)w->seen[i].case_id);
	for (size_t i = 0; i < w->n_accepted; i++)
		fprintf(o, "accepted %lld %s\n", (long long)w->accepted[i].case_id, w->accepted[i].description);
	fprintf(o, "free %zu %zu\n", w->n_free_ids, w->next_free_id);
	fclose(o);
	return buf;
}

/* Apply an event that must fail with `code` and `message`, leaving the world as it was. */
static inline void refused(struct fx *f, struct hl_event e, enum hl_err code, const char *message)
{
	char *before = dump(f->w);
	struct hl_outcome *o = apply(f, e);
	cr_assert_eq(o->err, code, "%s: expected error %d, got %d (%s)", e.id, code, o->err, o->message);
	cr_assert_str_eq(o->message, message);
	cr_assert_not(o->duplicate);
	char *after = dump(f->w);
	cr_assert_str_eq(after, before, "a refused event changed the world");
	free(before);
	free(after);
}

#endif
