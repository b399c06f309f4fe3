/*
 * test_rules.c - every event's effect on cases, calls, callers, clocks and
 * alerts; timers (clock_fire, escalate); errors and atomicity; speed.
 *
 * The config is built by hand; calendars are not used here (wall clock), so
 * these tests hold with any correct calendar.c.
 */
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

static void set_policy(struct hl_policy *p, const char *name, int64_t cb, int64_t upd, int64_t res, int64_t surv,
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

static struct fx *fx_new(void)
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

static void fx_free(struct fx *f)
{
	hl_world_free(f->w);
	free(f->pool);
	free(f);
}

static struct hl_event E(enum hl_type t, const char *id, hl_ms at)
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
static struct hl_outcome *apply(struct fx *f, struct hl_event e)
{
	cr_assert_lt(f->n_pool, 4096);
	struct hl_event *ev = &f->pool[f->n_pool++];
	*ev = e;
	f->env.now = e.at;
	memset(&f->out, 0xAB, sizeof f->out); /* the rules must fill it all */
	hl_rules_apply(f->w, &f->env, ev, &f->out);
	return &f->out;
}

static void ok(const struct hl_outcome *o)
{
	cr_assert_eq(o->err, HL_OK, "unexpected error %d: %s", o->err, o->message);
}

static struct hl_outcome *offered(struct fx *f, const char *id, const char *call, const char *caller, hl_ms at)
{
	struct hl_event e = E(HL_EV_CALL_OFFERED, id, at);
	e.call_id = (char *)call;
	snprintf(e.caller, sizeof e.caller, "%s", caller);
	return apply(f, e);
}

static struct hl_outcome *on_call(struct fx *f, enum hl_type t, const char *id, const char *call, hl_ms at)
{
	struct hl_event e = E(t, id, at);
	e.call_id = (char *)call;
	if (t == HL_EV_CALL_ANSWERED)
		e.agent = "a7";
	return apply(f, e);
}

static struct hl_outcome *ended(struct fx *f, const char *id, const char *call, const char *outcome, hl_ms at)
{
	struct hl_event e = E(HL_EV_CALL_ENDED, id, at);
	e.call_id = (char *)call;
	e.outcome = (char *)outcome;
	return apply(f, e);
}

static struct hl_outcome *case_ev(struct fx *f, enum hl_type t, const char *id, int64_t case_id, hl_ms at)
{
	struct hl_event e = E(t, id, at);
	e.case_id = case_id;
	return apply(f, e);
}

static struct hl_outcome *transfer(struct fx *f, const char *id, int64_t case_id, const char *dept, hl_ms at)
{
	struct hl_event e = E(HL_EV_CASE_TRANSFER, id, at);
	e.case_id = case_id;
	e.department = (char *)dept;
	return apply(f, e);
}

static struct hl_outcome *attempt(struct fx *f, const char *id, int64_t case_id, const char *result, hl_ms at)
{
	struct hl_event e = E(HL_EV_CALLBACK_ATTEMPT, id, at);
	e.case_id = case_id;
	e.result = (char *)result;
	return apply(f, e);
}

static struct hl_outcome *survey(struct fx *f, const char *id, int64_t case_id, int score, hl_ms at)
{
	struct hl_event e = E(HL_EV_SURVEY_RESULT, id, at);
	e.case_id = case_id;
	e.score = score;
	return apply(f, e);
}

static struct hl_outcome *ack(struct fx *f, const char *id, int64_t alert_id, const char *by, hl_ms at)
{
	struct hl_event e = E(HL_CMD_ALERT_ACK, id, at);
	e.alert_id = alert_id;
	e.by = (char *)by;
	return apply(f, e);
}

static void fire(struct fx *f, int64_t case_id, enum hl_clock_kind k, int32_t seq, hl_ms now)
{
	f->env.now = now;
	hl_rules_clock_fire(f->w, &f->env, case_id, k, seq);
}

static struct hl_clock *clk(struct fx *f, int64_t case_id, enum hl_clock_kind k)
{
	struct hl_case *c = hl_world_case(f->w, case_id);
	cr_assert_not_null(c, "case %lld not in world", (long long)case_id);
	return &c->clocks[k];
}

static const char *last_desc(struct fx *f)
{
	cr_assert_gt(f->w->n_accepted, 0);
	return f->w->accepted[f->w->n_accepted - 1].description;
}

static size_t count_alerts(struct fx *f, const char *kind)
{
	size_t n = 0;
	for (size_t i = 0; i < f->w->n_alerts; i++)
		if (strcmp(f->w->alerts[i]->kind, kind) == 0)
			n++;
	return n;
}

static struct hl_alert *find_alert(struct fx *f, const char *kind)
{
	for (size_t i = 0; i < f->w->n_alerts; i++)
		if (strcmp(f->w->alerts[i]->kind, kind) == 0)
			return f->w->alerts[i];
	return NULL;
}

static void no_full_number(const char *text)
{
	cr_assert_null(strstr(text, P1), "full phone number in: %s", text);
	cr_assert_null(strstr(text, P2), "full phone number in: %s", text);
	cr_assert_null(strstr(text, "8613800000001"), "full phone number in: %s", text);
}

/* Everything observable in the world, as text: equal text = equal world. */
static void dump_clock(FILE *o, const struct hl_clock *k)
{
	fprintf(o, " [%d %d %lld %lld %lld %d %lld %lld %lld %lld %lld %lld %s %d]", k->state, k->seq,
	        (long long)k->started_at, (long long)k->due_at, (long long)k->warn_at, k->warned,
	        (long long)k->allowed_ms, (long long)k->paused_at, (long long)k->remaining_ms,
	        (long long)k->warn_remaining_ms, (long long)k->met_at, (long long)k->breached_at, k->calendar, k->dirty);
}

#define S(x) ((x) ? (x) : "(null)")

static char *dump(struct hl_world *w)
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
static void refused(struct fx *f, struct hl_event e, enum hl_err code, const char *message)
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

/* ------------------------------------------------------------ call.offered */

Test(offered, opens_a_case_with_clocks)
{
	struct fx *f = fx_new();
	struct hl_event e = E(HL_EV_CALL_OFFERED, "e1", T0);
	e.call_id = "c-1";
	e.queue = "complaints";
	snprintf(e.caller, sizeof e.caller, P1);
	struct hl_outcome *o = apply(f, e);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_not(o->duplicate);

	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_not_null(c);
	cr_assert_eq(c->status, HL_ST_OPEN);
	cr_assert_eq(c->opened_at, T0);
	cr_assert_str_eq(c->caller, P1);
	cr_assert_str_eq(c->policy, "default");
	cr_assert_str_eq(c->queue, "complaints");
	cr_assert(c->is_new && c->dirty);

	struct hl_clock *r = &c->clocks[HL_CK_RESOLUTION];
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->seq, 1);
	cr_assert_eq(r->started_at, T0);
	cr_assert_eq(r->due_at, T0 + 48 * HOUR);
	cr_assert_eq(r->allowed_ms, 48 * HOUR);
	cr_assert_eq(r->warn_at, T0 + 38 * HOUR + 24 * MIN); /* 0.8 of 48h */
	cr_assert_not(r->warned);
	cr_assert_str_eq(r->calendar, "");
	cr_assert(r->dirty);
	struct hl_clock *u = &c->clocks[HL_CK_UPDATE];
	cr_assert_eq(u->state, HL_CS_PENDING);
	cr_assert_eq(u->seq, 1);
	cr_assert_eq(u->due_at, T0 + 24 * HOUR);
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_NONE);
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].seq, 0);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_NONE);
	cr_assert_eq(hl_clock_next_fire(r), r->warn_at);

	struct hl_call *call = hl_world_call(f->w, "c-1");
	cr_assert_not_null(call);
	cr_assert_eq(call->case_id, 100);
	cr_assert_eq(call->state, HL_CALL_OFFERED);
	cr_assert_eq(call->offered_at, T0);
	cr_assert(call->inbound && call->is_new);
	cr_assert_str_eq(call->queue, "complaints");
	cr_assert_str_eq(call->caller, P1);

	struct hl_caller *cr = hl_world_caller(f->w, P1);
	cr_assert_not_null(cr);
	cr_assert(cr->is_new);
	cr_assert_eq(cr->n_inbound, 1);
	cr_assert_eq(cr->inbound[0], T0);
	cr_assert_not(cr->confidential);

	cr_assert_eq(f->w->n_accepted, 1);
	cr_assert_eq(f->w->accepted[0].case_id, 100);
	cr_assert_eq(f->w->accepted[0].ev, &f->pool[0]);
	const char *d = last_desc(f);
	cr_assert_not_null(strstr(d, "call c-1 offered from"), "%s", d);
	cr_assert_not_null(strstr(d, "(queue complaints)"), "%s", d);
	cr_assert_not_null(strstr(d, "case 100 opened"), "%s", d);
	cr_assert_not_null(strstr(d, "resolution armed, due in 2d"), "%s", d);
	cr_assert_not_null(strchr(d, '*'), "phone must be masked: %s", d);
	no_full_number(d);
	int64_t seen = 0;
	cr_assert(hl_world_seen(f->w, "e1", &seen));
	cr_assert_eq(seen, 100);
	cr_assert_eq(hl_world_free_id_count(f->w), 99);
	fx_free(f);
}

Test(offered, joins_the_callers_open_case)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_outcome *o = offered(f, "e2", "c-2", P1, T0 + HOUR);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_eq(f->w->n_cases, 1);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->seq, 1, "joining does not restart the resolution clock");
	cr_assert_eq(hl_world_call(f->w, "c-2")->case_id, 100);
	cr_assert_not_null(strstr(last_desc(f), "joins case 100"));
	cr_assert_eq(hl_world_caller(f->w, P1)->n_inbound, 2);

	o = offered(f, "e3", "c-3", P2, T0 + HOUR);
	ok(o);
	cr_assert_eq(o->case_id, 101, "another caller: a new case, next reserved id");

	/* a closed case is never joined; a resolved one is */
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e4", 100, T0 + 2 * HOUR));
	o = offered(f, "e5", "c-4", P1, T0 + 3 * HOUR);
	cr_assert_eq(o->case_id, 100);
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e6", 100, T0 + 4 * HOUR));
	o = offered(f, "e7", "c-5", P1, T0 + 5 * HOUR);
	ok(o);
	cr_assert_eq(o->case_id, 102);
	fx_free(f);
}

Test(offered, known_call_is_recorded_only)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	char *before = dump(f->w);
	struct hl_outcome *o = offered(f, "e2", "c-1", P1, T0 + MIN);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_eq(f->w->n_calls, 1);
	cr_assert_eq(hl_world_caller(f->w, P1)->n_inbound, 1, "not counted again");
	cr_assert_eq(f->w->n_accepted, 2);
	cr_assert_not_null(strstr(last_desc(f), "already on case 100"));
	cr_assert_eq(hl_world_call(f->w, "c-1")->offered_at, T0);
	cr_assert(hl_world_seen(f->w, "e2", NULL));
	free(before);
	fx_free(f);
}

Test(offered, no_reserved_id)
{
	struct fx *f = fx_new();
	int64_t id;
	while (hl_world_take_free_id(f->w, &id))
		;
	struct hl_event e = E(HL_EV_CALL_OFFERED, "e1", T0);
	e.call_id = "c-1";
	snprintf(e.caller, sizeof e.caller, P1);
	refused(f, e, HL_E_INTERNAL, "no case id reserved");

	/* joining an existing case needs no id */
	struct hl_case c;
	memset(&c, 0, sizeof c);
	c.id = 7;
	snprintf(c.caller, sizeof c.caller, P1);
	c.opened_at = T0 - HOUR;
	snprintf(c.policy, sizeof c.policy, "default");
	hl_world_add_case(f->w, &c);
	struct hl_outcome *o = offered(f, "e2", "c-1", P1, T0);
	ok(o);
	cr_assert_eq(o->case_id, 7);
	fx_free(f);
}

Test(offered, confidential_marks_caller)
{
	struct fx *f = fx_new();
	struct hl_event e = E(HL_EV_CALL_OFFERED, "e1", T0);
	e.call_id = "c-1";
	e.confidential = 1;
	snprintf(e.caller, sizeof e.caller, P1);
	ok(apply(f, e));
	cr_assert(hl_world_caller(f->w, P1)->confidential);
	/* a later call without the flag does not unmark it */
	ok(offered(f, "e2", "c-2", P1, T0 + 1));
	cr_assert(hl_world_caller(f->w, P1)->confidential);
	fx_free(f);
}

/* ------------------------------------------------------------ answered */

Test(answered, meets_callback_and_restarts_update)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0 + MIN));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(cb->due_at, T0 + 31 * MIN);

	ok(offered(f, "e3", "c-2", P1, T0 + 10 * MIN));
	struct hl_outcome *o = on_call(f, HL_EV_CALL_ANSWERED, "e4", "c-2", T0 + 11 * MIN);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_eq(cb->state, HL_CS_MET);
	cr_assert_eq(cb->met_at, T0 + 11 * MIN);
	cr_assert_eq(cb->seq, 1, "meeting a clock keeps its seq");
	cr_assert_eq(hl_clock_next_fire(cb), 0);
	struct hl_clock *u = clk(f, 100, HL_CK_UPDATE);
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(u->started_at, T0 + 11 * MIN);
	cr_assert_eq(u->due_at, T0 + 11 * MIN + 24 * HOUR);
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 11 * MIN);
	struct hl_call *call = hl_world_call(f->w, "c-2");
	cr_assert_eq(call->state, HL_CALL_ANSWERED);
	cr_assert_eq(call->answered_at, T0 + 11 * MIN);
	cr_assert_str_eq(call->agent, "a7");
	cr_assert(call->dirty);
	cr_assert_not_null(strstr(last_desc(f), "callback met"), "%s", last_desc(f));
	cr_assert_not_null(strstr(last_desc(f), "update restarted"), "%s", last_desc(f));

	/* answering twice: recorded, nothing else */
	o = on_call(f, HL_EV_CALL_ANSWERED, "e5", "c-2", T0 + 12 * MIN);
	ok(o);
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(call->answered_at, T0 + 11 * MIN);
	cr_assert_not_null(strstr(last_desc(f), "already answered"));
	cr_assert_eq(f->w->n_accepted, 5);
	fx_free(f);
}

Test(answered, breached_callback_is_met_late)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + 30 * MIN);
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_BREACHED);
	ok(offered(f, "e3", "c-2", P1, T0 + HOUR));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e4", "c-2", T0 + HOUR));
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_MET);
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->breached_at, T0 + 30 * MIN, "the breach stays on record");
	cr_assert_not_null(strstr(last_desc(f), "callback met (late)"));
	fx_free(f);
}

Test(answered, on_closed_case_records_only)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e2", 100, T0 + MIN));
	struct hl_case *c = hl_world_case(f->w, 100);
	int32_t useq = c->clocks[HL_CK_UPDATE].seq;
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e3", "c-1", T0 + 2 * MIN));
	cr_assert_eq(hl_world_call(f->w, "c-1")->state, HL_CALL_ANSWERED);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].state, HL_CS_STOPPED);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].seq, useq);
	cr_assert_eq(c->last_contact_at, 0);
	cr_assert_not_null(strstr(last_desc(f), "recorded only"));

	ok(ended(f, "e4", "c-1", "resolved", T0 + 3 * MIN));
	cr_assert_eq(c->status, HL_ST_CLOSED);
	cr_assert_eq(hl_world_call(f->w, "c-1")->state, HL_CALL_ENDED);
	cr_assert_eq(f->w->n_accepted, 4);
	fx_free(f);
}

/* ------------------------------------------------------ abandoned / voicemail */

Test(abandoned, arms_callback_once)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_outcome *o = on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0 + MIN);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	struct hl_call *call = hl_world_call(f->w, "c-1");
	cr_assert_eq(call->state, HL_CALL_ABANDONED);
	cr_assert_eq(call->ended_at, T0 + MIN);
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(cb->seq, 1);
	cr_assert_eq(cb->started_at, T0 + MIN);
	cr_assert_eq(cb->due_at, T0 + 31 * MIN);
	cr_assert_eq(cb->warn_at, T0 + MIN + 24 * MIN);
	cr_assert_not_null(strstr(last_desc(f), "callback armed, due in 30m"), "%s", last_desc(f));

	/* a second abandoned call: the caller is still owed the earlier one */
	ok(offered(f, "e3", "c-2", P1, T0 + 5 * MIN));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e4", "c-2", T0 + 6 * MIN));
	cr_assert_eq(cb->seq, 1);
	cr_assert_eq(cb->due_at, T0 + 31 * MIN);
	cr_assert_not_null(strstr(last_desc(f), "callback already owed"));

	/* breached: still owed the earlier one, not re-armed */
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + 31 * MIN);
	cr_assert_eq(cb->state, HL_CS_BREACHED);
	ok(offered(f, "e5", "c-3", P1, T0 + 40 * MIN));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e6", "c-3", T0 + 41 * MIN));
	cr_assert_eq(cb->state, HL_CS_BREACHED);
	cr_assert_eq(cb->seq, 1);

	/* met, then abandoned again: a new run */
	ok(attempt(f, "e7", 100, "reached", T0 + 50 * MIN));
	cr_assert_eq(cb->state, HL_CS_MET);
	ok(offered(f, "e8", "c-4", P1, T0 + 60 * MIN));
	ok(on_call(f, HL_EV_VOICEMAIL_LEFT, "e9", "c-4", T0 + 61 * MIN));
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(cb->seq, 2);
	cr_assert_eq(cb->due_at, T0 + 91 * MIN);
	cr_assert_eq(cb->met_at, 0);
	cr_assert_eq(hl_world_call(f->w, "c-4")->state, HL_CALL_VOICEMAIL);
	fx_free(f);
}

Test(abandoned, unseen_call_with_caller_is_offered_first)
{
	struct fx *f = fx_new();
	struct hl_event e = E(HL_EV_VOICEMAIL_LEFT, "e1", T0);
	e.call_id = "c-9";
	snprintf(e.caller, sizeof e.caller, P1);
	struct hl_outcome *o = apply(f, e);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	struct hl_call *call = hl_world_call(f->w, "c-9");
	cr_assert_not_null(call);
	cr_assert_eq(call->state, HL_CALL_VOICEMAIL);
	cr_assert_eq(call->offered_at, T0);
	cr_assert_eq(call->ended_at, T0);
	cr_assert(call->is_new);
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_PENDING);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_PENDING);
	cr_assert_eq(hl_world_caller(f->w, P1)->n_inbound, 1, "counts as an inbound call");
	const char *d = last_desc(f);
	cr_assert_not_null(strstr(d, "offered"), "%s", d);
	cr_assert_not_null(strstr(d, "voicemail left"), "%s", d);
	no_full_number(d);

	e = E(HL_EV_CALL_ABANDONED, "e2", T0 + MIN);
	e.call_id = "c-10";
	snprintf(e.caller, sizeof e.caller, P1);
	o = apply(f, e);
	ok(o);
	cr_assert_eq(o->case_id, 100, "joins the open case");
	cr_assert_eq(hl_world_call(f->w, "c-10")->state, HL_CALL_ABANDONED);
	cr_assert_eq(hl_world_caller(f->w, P1)->n_inbound, 2);
	fx_free(f);
}

Test(abandoned, unknown_call_without_caller)
{
	struct fx *f = fx_new();
	ok(offered(f, "e0", "c-1", P1, T0));
	struct hl_event e = E(HL_EV_CALL_ABANDONED, "e1", T0);
	e.call_id = "c-x";
	refused(f, e, HL_E_UNKNOWN_CALL, "call_id: no call 'c-x'");
	e.type = HL_EV_VOICEMAIL_LEFT;
	refused(f, e, HL_E_UNKNOWN_CALL, "call_id: no call 'c-x'");
	e.type = HL_EV_CALL_ANSWERED;
	refused(f, e, HL_E_UNKNOWN_CALL, "call_id: no call 'c-x'");
	/* answered never offers, even with a caller */
	snprintf(e.caller, sizeof e.caller, P1);
	refused(f, e, HL_E_UNKNOWN_CALL, "call_id: no call 'c-x'");
	e = E(HL_EV_CALL_ENDED, "e2", T0);
	e.call_id = "c-x";
	e.outcome = "info";
	refused(f, e, HL_E_UNKNOWN_CALL, "call_id: no call 'c-x'");
	fx_free(f);
}

/* ------------------------------------------------------------ call.ended */

Test(ended, resolved_resolves_the_case)
{
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = HOUR;
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e2", "c-1", T0 + MIN));
	struct hl_event e = E(HL_EV_CALL_ENDED, "e3", T0 + 10 * MIN);
	e.call_id = "c-1";
	e.outcome = "resolved";
	e.summary = "card blocked";
	ok(apply(f, e));
	struct hl_call *call = hl_world_call(f->w, "c-1");
	cr_assert_eq(call->state, HL_CALL_ENDED);
	cr_assert_eq(call->ended_at, T0 + 10 * MIN);
	cr_assert_str_eq(call->outcome, "resolved");
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->status, HL_ST_RESOLVED);
	cr_assert_eq(c->resolved_at, T0 + 10 * MIN);
	cr_assert_str_eq(c->summary, "card blocked");
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].state, HL_CS_MET);
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].met_at, T0 + 10 * MIN);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].state, HL_CS_STOPPED);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_PENDING);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].due_at, T0 + 70 * MIN);
	cr_assert_not_null(strstr(last_desc(f), "case 100 resolved"));

	/* a second "resolved" outcome on another call: no-op */
	ok(offered(f, "e4", "c-2", P1, T0 + 20 * MIN));
	ok(ended(f, "e5", "c-2", "resolved", T0 + 21 * MIN));
	cr_assert_eq(c->resolved_at, T0 + 10 * MIN);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].seq, 1);
	fx_free(f);
}

Test(ended, followup_arms_callback_other_outcomes_record)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e2", "c-1", T0 + MIN));
	ok(ended(f, "e3", "c-1", "info", T0 + 5 * MIN));
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_NONE);
	cr_assert_eq(hl_world_case(f->w, 100)->status, HL_ST_OPEN);
	cr_assert_str_eq(hl_world_call(f->w, "c-1")->outcome, "info");

	ok(offered(f, "e4", "c-2", P1, T0 + HOUR));
	ok(ended(f, "e5", "c-2", "followup", T0 + HOUR + 5 * MIN));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(cb->due_at, T0 + HOUR + 35 * MIN);
	ok(offered(f, "e6", "c-3", P1, T0 + 2 * HOUR));
	ok(ended(f, "e7", "c-3", "followup", T0 + 2 * HOUR));
	cr_assert_eq(cb->seq, 1, "already pending: not re-armed");

	struct hl_event e = E(HL_EV_CALL_ENDED, "e8", T0);
	e.call_id = "c-3";
	refused(f, e, HL_E_BAD_REQUEST, "outcome: missing");
	fx_free(f);
}

/* ------------------------------------------------------- policy re-evaluation */

static void add_urgent(struct fx *f)
{
	set_policy(&f->pols[0], "urgent", 10 * MIN, 2 * HOUR, 4 * HOUR, 0, 0.5);
	f->pols[0].category = "fraud";
	set_policy(&f->pols[1], "quiet", 30 * MIN, 0, 48 * HOUR, 0, 0.8);
	f->pols[1].category = "info";
	f->cfg.policies = f->pols;
	f->cfg.n_policies = 2;
}

Test(policy, category_change_keeps_consumed_time)
{
	struct fx *f = fx_new();
	add_urgent(f);
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_event e = E(HL_EV_CALL_ENDED, "e2", T0 + HOUR);
	e.call_id = "c-1";
	e.outcome = "info";
	e.category = "fraud";
	e.priority = "high";
	ok(apply(f, e));
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_str_eq(c->category, "fraud");
	cr_assert_str_eq(c->priority, "high");
	cr_assert_str_eq(c->policy, "urgent");
	struct hl_clock *r = &c->clocks[HL_CK_RESOLUTION];
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->seq, 2, "a new run");
	cr_assert_eq(r->allowed_ms, 4 * HOUR);
	cr_assert_eq(r->due_at, T0 + 4 * HOUR, "1h consumed of 4h");
	cr_assert_eq(r->warn_at, T0 + 2 * HOUR, "half of 4h");
	cr_assert_not(r->warned);
	struct hl_clock *u = &c->clocks[HL_CK_UPDATE];
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(u->due_at, T0 + 2 * HOUR);
	cr_assert_eq(u->warn_at, 0, "the warning point (1h) has passed");
	cr_assert_not_null(strstr(last_desc(f), "policy default -> urgent"), "%s", last_desc(f));

	/* the same category again: nothing changes */
	ok(offered(f, "e3", "c-2", P1, T0 + 2 * HOUR));
	e = E(HL_EV_CALL_ENDED, "e4", T0 + 2 * HOUR);
	e.call_id = "c-2";
	e.outcome = "info";
	e.category = "fraud";
	ok(apply(f, e));
	cr_assert_eq(r->seq, 2);

	/* an old timer for seq 1 is now stale */
	fire(f, 100, HL_CK_RESOLUTION, 1, T0 + 48 * HOUR);
	cr_assert_eq(r->state, HL_CS_PENDING);
	fire(f, 100, HL_CK_RESOLUTION, 2, T0 + 4 * HOUR);
	cr_assert_eq(r->state, HL_CS_BREACHED);

	/* consumed more than the new allowance: due immediately */
	ok(offered(f, "e5", "c-3", P2, T0));
	e = E(HL_EV_CALL_ENDED, "e6", T0 + 5 * HOUR);
	e.call_id = "c-3";
	e.outcome = "info";
	e.category = "fraud";
	ok(apply(f, e));
	cr_assert_eq(clk(f, 101, HL_CK_RESOLUTION)->due_at, T0 + 5 * HOUR);
	fx_free(f);
}

Test(policy, clock_turned_off_is_stopped)
{
	struct fx *f = fx_new();
	add_urgent(f);
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_event e = E(HL_EV_CASE_UPDATE, "e2", T0 + HOUR);
	e.case_id = 100;
	e.category = "info";
	ok(apply(f, e));
	cr_assert_str_eq(hl_world_case(f->w, 100)->policy, "quiet");
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->state, HL_CS_STOPPED);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_PENDING);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->due_at, T0 + 48 * HOUR, "same allowance: same due time");
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->seq, 2);
	/* caller informed: the update clock is off, it stays off */
	e = E(HL_EV_CASE_UPDATE, "e3", T0 + 2 * HOUR);
	e.case_id = 100;
	e.caller_informed = 1;
	ok(apply(f, e));
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->state, HL_CS_STOPPED);
	fx_free(f);
}

Test(policy, paused_clock_is_retimed)
{
	struct fx *f = fx_new();
	add_urgent(f);
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + HOUR));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	cr_assert_eq(r->remaining_ms, 47 * HOUR);
	struct hl_event e = E(HL_EV_CASE_UPDATE, "e3", T0 + 3 * HOUR);
	e.case_id = 100;
	e.category = "fraud";
	ok(apply(f, e));
	cr_assert_eq(r->state, HL_CS_PAUSED);
	cr_assert_eq(r->seq, 2);
	cr_assert_eq(r->remaining_ms, 3 * HOUR, "1h consumed before the hold");
	cr_assert_eq(r->warn_remaining_ms, HOUR);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e4", 100, T0 + 5 * HOUR));
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->due_at, T0 + 8 * HOUR);
	cr_assert_eq(r->warn_at, T0 + 6 * HOUR);
	fx_free(f);
}

Test(policy, calendar_name_is_recorded)
{
	struct fx *f = fx_new();
	snprintf(f->cfg.sla.calendar, sizeof f->cfg.sla.calendar, "office");
	ok(offered(f, "e1", "c-1", P1, T0));
	/* "office" is not configured: hl_config_calendar gives NULL, the wall clock */
	cr_assert_str_eq(clk(f, 100, HL_CK_RESOLUTION)->calendar, "office");
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->due_at, T0 + 48 * HOUR);
	fx_free(f);
}

/* Business hours: needs the real calendar.c (the Makefile links it into unit tests). */
Test(policy, business_calendar_deadlines_and_hold)
{
	struct fx *f = fx_new();
	struct hl_calendar office;
	memset(&office, 0, sizeof office);
	snprintf(office.name, sizeof office.name, "office");
	for (int d = 1; d <= 5; d++) { /* Mon..Fri 09:00-17:00 UTC (zone NULL = UTC) */
		office.week[d].iv[0].open_min = 9 * 60;
		office.week[d].iv[0].close_min = 17 * 60;
		office.week[d].n = 1;
	}
	f->cfg.calendars = &office;
	f->cfg.n_calendars = 1;
	set_policy(&f->cfg.sla, "default", 30 * MIN, 0, 16 * HOUR, 0, 0);
	snprintf(f->cfg.sla.calendar, sizeof f->cfg.sla.calendar, "office");
	/* Friday 2026-11-20 09:00Z: 8h on Friday, 8h on Monday */
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	cr_assert_str_eq(r->calendar, "office");
	cr_assert_eq(r->due_at, T0 + 3 * 24 * HOUR + 8 * HOUR, "Monday 17:00Z");
	/* on hold Friday 13:00 (4h used, 12h left), resumed Monday 09:00 */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + 4 * HOUR));
	cr_assert_eq(r->remaining_ms, 12 * HOUR);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e3", 100, T0 + 3 * 24 * HOUR));
	cr_assert_eq(r->due_at, T0 + 4 * 24 * HOUR + 4 * HOUR, "Tuesday 13:00Z");
	/* an abandoned call Friday 16:50: 10 minutes on Friday, 20 on Monday */
	ok(offered(f, "e4", "c-2", P2, T0 + 7 * HOUR + 50 * MIN));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e5", "c-2", T0 + 7 * HOUR + 50 * MIN));
	cr_assert_eq(clk(f, 101, HL_CK_CALLBACK)->due_at, T0 + 3 * 24 * HOUR + 20 * MIN);
	fx_free(f);
}

/* --------------------------------------------------------- callback.attempt */

Test(attempt, reached_meets_others_record)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	struct hl_outcome *o = attempt(f, "e3", 100, "no_answer", T0 + 5 * MIN);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_not_null(strstr(last_desc(f), "callback still owed"));
	ok(attempt(f, "e4", 100, "busy", T0 + 6 * MIN));
	ok(attempt(f, "e5", 100, "failed", T0 + 7 * MIN));
	cr_assert_eq(cb->state, HL_CS_PENDING);
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->seq, 1);
	ok(attempt(f, "e6", 100, "reached", T0 + 10 * MIN));
	cr_assert_eq(cb->state, HL_CS_MET);
	cr_assert_eq(cb->met_at, T0 + 10 * MIN);
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->seq, 2);
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->due_at, T0 + 10 * MIN + 24 * HOUR);
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 10 * MIN);

	struct hl_event e = E(HL_EV_CALLBACK_ATTEMPT, "e7", T0);
	e.case_id = 100;
	e.result = "maybe";
	refused(f, e, HL_E_BAD_REQUEST, "result: must be reached, no_answer, busy or failed");
	e.result = NULL;
	refused(f, e, HL_E_BAD_REQUEST, "result: missing");
	e.result = "reached";
	e.case_id = 42;
	refused(f, e, HL_E_UNKNOWN_CASE, "case_id: no case 42");
	fx_free(f);
}

/* ------------------------------------------------------------ case.update */

Test(update, caller_informed_restarts_update_clock)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_event e = E(HL_EV_CASE_UPDATE, "e2", T0 + 2 * HOUR);
	e.case_id = 100;
	e.note = "asked the bank";
	ok(apply(f, e));
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->seq, 1, "a note alone does not count as contact");
	e = E(HL_EV_CASE_UPDATE, "e3", T0 + 3 * HOUR);
	e.case_id = 100;
	e.caller_informed = 1;
	e.agent = "a7";
	ok(apply(f, e));
	struct hl_clock *u = clk(f, 100, HL_CK_UPDATE);
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(u->due_at, T0 + 27 * HOUR);
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 3 * HOUR);

	/* on hold: contact is recorded and starts a new run, paused until resume
	 * with its whole allowance (issue 16, item 14) */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e4", 100, T0 + 4 * HOUR));
	e = E(HL_EV_CASE_UPDATE, "e5", T0 + 5 * HOUR);
	e.case_id = 100;
	e.caller_informed = 1;
	ok(apply(f, e));
	cr_assert_eq(u->state, HL_CS_PAUSED);
	cr_assert_eq(u->seq, 3);
	cr_assert_eq(u->remaining_ms, 24 * HOUR);
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 5 * HOUR);

	/* confidential from the agent's tool; a note on a closed case is fine */
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e6", 100, T0 + 6 * HOUR));
	e = E(HL_EV_CASE_UPDATE, "e7", T0 + 7 * HOUR);
	e.case_id = 100;
	e.note = "caller called to say thanks";
	e.confidential = 1;
	ok(apply(f, e));
	cr_assert(hl_world_caller(f->w, P1)->confidential);
	cr_assert_eq(u->state, HL_CS_STOPPED);
	e = E(HL_EV_CASE_UPDATE, "e8", T0 + 8 * HOUR);
	e.case_id = 100;
	e.confidential = 0;
	ok(apply(f, e));
	cr_assert_not(hl_world_caller(f->w, P1)->confidential);
	fx_free(f);
}

/* ----------------------------------------------------------- case.transfer */

Test(transfer, loop_alert_once_at_limit_plus_one)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	char id[16];
	for (int i = 1; i <= 3; i++) {
		snprintf(id, sizeof id, "t%d", i);
		ok(transfer(f, id, 100, i % 2 ? "billing" : "tech", T0 + i * MIN));
	}
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->transfers, 3);
	cr_assert_eq(f->w->n_alerts, 0);
	ok(transfer(f, "t4", 100, "legal", T0 + 4 * MIN));
	cr_assert_eq(c->transfers, 4);
	cr_assert_str_eq(c->department, "legal");
	cr_assert_eq(f->w->n_alerts, 1);
	struct hl_alert *a = f->w->alerts[0];
	cr_assert_str_eq(a->kind, "transfer_loop");
	cr_assert_str_eq(a->dedupe, "transfer_loop:100");
	cr_assert_eq(a->case_id, 100);
	cr_assert_str_eq(a->caller, P1);
	cr_assert_eq(a->level, 1);
	cr_assert_eq(a->raised_at, T0 + 4 * MIN);
	cr_assert_eq(a->escalate_at, 0);
	cr_assert_eq(a->id, 0);
	cr_assert(a->is_new);
	cr_assert_not_null(a->detail);
	cr_assert_not_null(strstr(last_desc(f), "transfer_loop alert"));
	for (int i = 5; i <= 9; i++) {
		snprintf(id, sizeof id, "t%d", i);
		ok(transfer(f, id, 100, "billing", T0 + i * MIN));
	}
	cr_assert_eq(c->transfers, 9);
	cr_assert_eq(f->w->n_alerts, 1, "once per case");

	struct hl_event e = E(HL_EV_CASE_TRANSFER, "bad", T0);
	e.case_id = 100;
	refused(f, e, HL_E_BAD_REQUEST, "department: missing");
	fx_free(f);
}

Test(transfer, limit_zero_disables)
{
	struct fx *f = fx_new();
	f->cfg.alerts.transfer_limit = 0;
	ok(offered(f, "e1", "c-1", P1, T0));
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof id, "t%d", i);
		ok(transfer(f, id, 100, "x", T0 + i));
	}
	cr_assert_eq(f->w->n_alerts, 0);
	fx_free(f);
}

/* ---------------------------------------------------- resolve / close / reopen */

Test(resolve, keeps_a_pending_callback)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	struct hl_event e = E(HL_EV_CASE_RESOLVE, "e3", T0 + HOUR);
	e.case_id = 100;
	e.resolution = "refund issued";
	ok(apply(f, e));
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->status, HL_ST_RESOLVED);
	cr_assert_eq(c->resolved_at, T0 + HOUR);
	cr_assert_str_eq(c->resolution, "refund issued");
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].state, HL_CS_MET);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].state, HL_CS_STOPPED);
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING, "the caller must still be told");
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_NONE, "survey is off by default");
	cr_assert_not_null(strstr(last_desc(f), "callback still owed"));

	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e4", 100, T0 + 2 * HOUR));
	cr_assert_eq(c->resolved_at, T0 + HOUR, "resolving twice: no-op");
	cr_assert_not_null(strstr(last_desc(f), "already resolved"));

	/* reached after resolution: callback met, no update clock while resolved */
	ok(attempt(f, "e5", 100, "reached", T0 + 3 * HOUR));
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_MET);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].state, HL_CS_STOPPED);
	fx_free(f);
}

Test(resolve, breached_resolution_is_met_and_hold_ends)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	fire(f, 100, HL_CK_RESOLUTION, 1, T0 + 48 * HOUR);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_BREACHED);
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + 49 * HOUR));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e3", 100, T0 + 50 * HOUR));
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].state, HL_CS_MET);
	cr_assert_not(c->on_hold);
	cr_assert_eq(c->held_ms, HOUR);
	fx_free(f);
}

Test(close, stops_every_clock)
{
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = HOUR;
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	fire(f, 100, HL_CK_UPDATE, 1, T0 + 24 * HOUR); /* one breached */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e3", 100, T0 + 25 * HOUR)); /* one paused */
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].state, HL_CS_BREACHED);
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].state, HL_CS_PAUSED);
	struct hl_outcome *o = case_ev(f, HL_EV_CASE_CLOSE, "e4", 100, T0 + 26 * HOUR);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_eq(c->status, HL_ST_CLOSED);
	cr_assert_eq(c->closed_at, T0 + 26 * HOUR);
	cr_assert_not(c->on_hold);
	for (int k = 0; k < HL_CK_SURVEY; k++) {
		cr_assert_eq(c->clocks[k].state, HL_CS_STOPPED, "clock %d", k);
		cr_assert_eq(hl_clock_next_fire(&c->clocks[k]), 0);
	}
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_NONE, "never armed stays never armed");
	const char *d = last_desc(f);
	cr_assert_not_null(strstr(d, "callback stopped"), "%s", d);
	cr_assert_not_null(strstr(d, "resolution stopped"), "%s", d);

	ok(case_ev(f, HL_EV_CASE_CLOSE, "e5", 100, T0 + 27 * HOUR));
	cr_assert_eq(c->closed_at, T0 + 26 * HOUR, "closing twice: no-op");

	struct hl_event e = E(HL_EV_CASE_TRANSFER, "x1", T0);
	e.case_id = 100;
	e.department = "d";
	refused(f, e, HL_E_BAD_REQUEST, "case_id: case 100 is closed");
	refused(f, E(HL_EV_CASE_HOLD, "x2", T0), HL_E_BAD_REQUEST, "case_id: missing");
	e = E(HL_EV_CASE_HOLD, "x2", T0);
	e.case_id = 100;
	refused(f, e, HL_E_BAD_REQUEST, "case_id: case 100 is closed");
	e.type = HL_EV_CASE_RESUME;
	refused(f, e, HL_E_BAD_REQUEST, "case_id: case 100 is closed");
	e.type = HL_EV_CASE_RESOLVE;
	refused(f, e, HL_E_BAD_REQUEST, "case_id: case 100 is closed");
	fx_free(f);
}

Test(reopen, restarts_resolution)
{
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = 2 * HOUR;
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e2", 100, T0 + HOUR));
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_PENDING);
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e3", 100, T0 + 2 * HOUR));
	cr_assert_eq(c->status, HL_ST_OPEN);
	cr_assert_eq(c->reopens, 1);
	cr_assert_eq(c->resolved_at, 0);
	struct hl_clock *r = &c->clocks[HL_CK_RESOLUTION];
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->seq, 2);
	cr_assert_eq(r->started_at, T0 + 2 * HOUR);
	cr_assert_eq(r->due_at, T0 + 50 * HOUR);
	cr_assert_eq(r->met_at, 0);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].state, HL_CS_PENDING);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].seq, 2);
	cr_assert_eq(c->clocks[HL_CK_UPDATE].due_at, T0 + 26 * HOUR);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_STOPPED);

	ok(case_ev(f, HL_EV_CASE_REOPEN, "e4", 100, T0 + 3 * HOUR));
	cr_assert_eq(c->reopens, 1, "reopening an open case: no-op");
	cr_assert_eq(r->seq, 2);

	ok(case_ev(f, HL_EV_CASE_CLOSE, "e5", 100, T0 + 4 * HOUR));
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e6", 100, T0 + 5 * HOUR));
	cr_assert_eq(c->status, HL_ST_OPEN);
	cr_assert_eq(c->closed_at, 0);
	cr_assert_eq(c->reopens, 2);
	cr_assert_eq(r->seq, 3);
	/* the reopened case is the caller's open case again */
	cr_assert_eq(offered(f, "e7", "c-2", P1, T0 + 6 * HOUR)->case_id, 100);
	fx_free(f);
}

/* ------------------------------------------------------------ hold / resume */

Test(hold, pauses_and_resume_pushes_due_back)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	struct hl_event e = E(HL_EV_CASE_HOLD, "e3", T0 + HOUR);
	e.case_id = 100;
	e.reason = "waiting for documents";
	ok(apply(f, e));
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert(c->on_hold);
	cr_assert_eq(c->hold_since, T0 + HOUR);
	struct hl_clock *r = &c->clocks[HL_CK_RESOLUTION], *u = &c->clocks[HL_CK_UPDATE];
	cr_assert_eq(r->state, HL_CS_PAUSED);
	cr_assert_eq(r->paused_at, T0 + HOUR);
	cr_assert_eq(r->remaining_ms, 47 * HOUR);
	cr_assert_eq(r->warn_remaining_ms, 37 * HOUR + 24 * MIN);
	cr_assert_eq(r->due_at, T0 + 48 * HOUR, "due_at keeps its old value while paused");
	cr_assert_eq(hl_clock_next_fire(r), 0);
	cr_assert_eq(u->state, HL_CS_PAUSED);
	cr_assert_eq(u->remaining_ms, 23 * HOUR);
	cr_assert_eq(c->clocks[HL_CK_CALLBACK].state, HL_CS_PENDING, "callback keeps running");
	cr_assert_not_null(strstr(last_desc(f), "resolution paused, 1d23h left"), "%s", last_desc(f));

	ok(case_ev(f, HL_EV_CASE_HOLD, "e4", 100, T0 + 90 * MIN));
	cr_assert_eq(c->hold_since, T0 + HOUR, "hold on a held case: no-op");

	ok(case_ev(f, HL_EV_CASE_RESUME, "e5", 100, T0 + 3 * HOUR));
	cr_assert_not(c->on_hold);
	cr_assert_eq(c->held_ms, 2 * HOUR);
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(r->seq, 1, "resume continues the same run");
	cr_assert_eq(r->due_at, T0 + 50 * HOUR, "pushed back by the 2h on hold");
	cr_assert_eq(r->warn_at, T0 + 40 * HOUR + 24 * MIN);
	cr_assert_eq(r->paused_at, 0);
	cr_assert_eq(r->started_at, T0);
	cr_assert_eq(u->due_at, T0 + 26 * HOUR);
	cr_assert_not_null(strstr(last_desc(f), "resumed after 2h on hold"), "%s", last_desc(f));

	struct hl_event r2 = E(HL_EV_CASE_RESUME, "e6", T0 + 4 * HOUR);
	r2.case_id = 100;
	refused(f, r2, HL_E_BAD_REQUEST, "case_id: case 100 is not on hold");

	/* a second hold accumulates */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e7", 100, T0 + 5 * HOUR));
	ok(case_ev(f, HL_EV_CASE_RESUME, "e8", 100, T0 + 6 * HOUR));
	cr_assert_eq(c->held_ms, 3 * HOUR);
	cr_assert_eq(r->due_at, T0 + 51 * HOUR);
	fx_free(f);
}

Test(hold, warned_clock_and_due_clock)
{
	struct fx *f = fx_new();
	f->cfg.sla.update_ms = 0;
	ok(offered(f, "e1", "c-1", P1, T0));
	cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->state, HL_CS_NONE, "update off: never armed");
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	fire(f, 100, HL_CK_RESOLUTION, 1, r->warn_at);
	cr_assert(r->warned);
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + 40 * HOUR));
	cr_assert_eq(r->warn_remaining_ms, 0);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e3", 100, T0 + 41 * HOUR));
	cr_assert_eq(r->due_at, T0 + 49 * HOUR);
	cr_assert(r->warned, "no second warning for the same run");
	fire(f, 100, HL_CK_RESOLUTION, 1, T0 + 48 * HOUR);
	cr_assert_eq(r->state, HL_CS_PENDING, "not due any more");
	cr_assert_eq(f->w->n_alerts, 1);

	/* a clock already due when the hold comes is left to breach */
	ok(offered(f, "e4", "c-2", P2, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e5", 101, T0 + 49 * HOUR));
	cr_assert_eq(clk(f, 101, HL_CK_RESOLUTION)->state, HL_CS_PENDING);
	fx_free(f);
}

/* ------------------------------------------------------------ survey.result */

Test(survey, good_score_meets_low_score_reopens)
{
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = 2 * HOUR;
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e2", 100, T0 + HOUR));
	struct hl_clock *s = clk(f, 100, HL_CK_SURVEY);
	cr_assert_eq(s->due_at, T0 + 3 * HOUR);
	ok(survey(f, "e3", 100, 4, T0 + 2 * HOUR));
	cr_assert_eq(s->state, HL_CS_MET);
	cr_assert_eq(s->met_at, T0 + 2 * HOUR);
	cr_assert_eq(hl_world_case(f->w, 100)->status, HL_ST_RESOLVED);
	cr_assert_eq(f->w->n_alerts, 0);

	ok(offered(f, "e4", "c-2", P2, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e5", 101, T0 + HOUR));
	struct hl_outcome *o = survey(f, "e6", 101, 2, T0 + 2 * HOUR);
	ok(o);
	cr_assert_eq(o->case_id, 101);
	struct hl_case *c = hl_world_case(f->w, 101);
	cr_assert_eq(c->clocks[HL_CK_SURVEY].state, HL_CS_MET);
	cr_assert_eq(c->status, HL_ST_OPEN);
	cr_assert_eq(c->reopens, 1);
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].seq, 2);
	cr_assert_eq(c->clocks[HL_CK_RESOLUTION].due_at, T0 + 50 * HOUR);
	struct hl_alert *a = find_alert(f, "dissatisfied");
	cr_assert_not_null(a);
	cr_assert_str_eq(a->dedupe, "dissatisfied:e6");
	cr_assert_eq(a->case_id, 101);
	cr_assert_eq(a->raised_at, T0 + 2 * HOUR);
	cr_assert_eq(a->escalate_at, 0);
	cr_assert_str_eq(a->caller, P2);
	cr_assert_not_null(strstr(last_desc(f), "dissatisfied alert"));

	/* score 1 on an open case: alert, no second reopen */
	ok(survey(f, "e7", 101, 1, T0 + 3 * HOUR));
	cr_assert_eq(c->reopens, 1);
	cr_assert_eq(count_alerts(f, "dissatisfied"), 2);

	struct hl_event e = E(HL_EV_SURVEY_RESULT, "bad", T0);
	e.case_id = 101;
	e.score = 0;
	refused(f, e, HL_E_BAD_REQUEST, "score: must be 1..5");
	e.score = 6;
	refused(f, e, HL_E_BAD_REQUEST, "score: must be 1..5");
	fx_free(f);
}

Test(survey, long_event_ids_keep_unique_dedupe_keys)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	char id1[HL_ID_MAX + 1], id2[HL_ID_MAX + 1];
	memset(id1, 'a', HL_ID_MAX);
	id1[HL_ID_MAX] = '\0';
	memcpy(id2, id1, sizeof id2);
	id2[HL_ID_MAX - 1] = 'b';
	ok(survey(f, id1, 100, 1, T0 + 1));
	ok(survey(f, id2, 100, 1, T0 + 2));
	cr_assert_eq(count_alerts(f, "dissatisfied"), 2);
	cr_assert_str_neq(f->w->alerts[0]->dedupe, f->w->alerts[1]->dedupe);
	cr_assert_eq(strncmp(f->w->alerts[0]->dedupe, "dissatisfied:", 13), 0);
	fx_free(f);
}

/* ------------------------------------------------------------ repeat callers */

Test(repeat, alert_at_threshold_then_threshold_more)
{
	struct fx *f = fx_new();
	char id[16], call[16];
	int alerts_after[7] = {0};
	for (int i = 1; i <= 6; i++) {
		snprintf(id, sizeof id, "e%d", i);
		snprintf(call, sizeof call, "c-%d", i);
		ok(offered(f, id, call, P1, T0 + (i - 1) * HOUR));
		alerts_after[i] = (int)count_alerts(f, "repeat_caller");
	}
	cr_assert_eq(alerts_after[2], 0);
	cr_assert_eq(alerts_after[3], 1, "exactly at the 3rd call");
	cr_assert_eq(alerts_after[4], 1);
	cr_assert_eq(alerts_after[5], 1);
	cr_assert_eq(alerts_after[6], 2, "3 further calls");
	struct hl_alert *a = find_alert(f, "repeat_caller");
	cr_assert_str_eq(a->dedupe, "repeat:" P1 ":e3");
	cr_assert_eq(a->raised_at, T0 + 2 * HOUR);
	cr_assert_eq(a->case_id, 100);
	cr_assert_eq(a->escalate_at, 0);
	no_full_number(a->detail);
	cr_assert_eq(hl_world_caller(f->w, P1)->repeat_alerted_at, T0 + 5 * HOUR);
	for (size_t i = 0; i < f->w->n_accepted; i++)
		no_full_number(f->w->accepted[i].description);
	fx_free(f);
}

Test(repeat, window_edges)
{
	struct fx *f = fx_new();
	/* exactly one window apart: the first no longer counts */
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(offered(f, "e2", "c-2", P1, T0 + 12 * HOUR));
	ok(offered(f, "e3", "c-3", P1, T0 + 24 * HOUR));
	cr_assert_eq(count_alerts(f, "repeat_caller"), 0);
	/* far apart: never */
	ok(offered(f, "e4", "c-4", P1, T0 + 60 * HOUR));
	ok(offered(f, "e5", "c-5", P1, T0 + 90 * HOUR));
	cr_assert_eq(count_alerts(f, "repeat_caller"), 0);

	/* one millisecond inside the window: counts */
	ok(offered(f, "f1", "d-1", P2, T0));
	ok(offered(f, "f2", "d-2", P2, T0 + 12 * HOUR));
	ok(offered(f, "f3", "d-3", P2, T0 + 24 * HOUR - 1));
	cr_assert_eq(count_alerts(f, "repeat_caller"), 1);
	fx_free(f);
}

Test(repeat, loaded_history_and_what_counts)
{
	struct fx *f = fx_new();
	hl_ms hist[] = {T0 - 2 * HOUR, T0 - HOUR};
	struct hl_caller r;
	memset(&r, 0, sizeof r);
	snprintf(r.caller, sizeof r.caller, P1);
	r.confidential = true;
	r.inbound = hist;
	r.n_inbound = 2;
	hl_world_add_caller(f->w, &r);
	/* an abandoned call we never saw counts as inbound */
	struct hl_event e = E(HL_EV_CALL_ABANDONED, "e1", T0);
	e.call_id = "c-1";
	snprintf(e.caller, sizeof e.caller, P1);
	ok(apply(f, e));
	struct hl_alert *a = find_alert(f, "repeat_caller");
	cr_assert_not_null(a, "2 loaded + 1 new = 3");
	cr_assert(a->confidential, "confidentiality travels with the alert");

	/* a repeated call.offered for a known call does not count */
	ok(offered(f, "e2", "c-2", P2, T0));
	ok(offered(f, "e3", "c-2", P2, T0 + 1));
	ok(offered(f, "e4", "c-2", P2, T0 + 2));
	cr_assert_eq(hl_world_caller(f->w, P2)->n_inbound, 1);
	cr_assert_eq(count_alerts(f, "repeat_caller"), 1);
	fx_free(f);
}

/* --------------------------------------------------------------- clock fire */

Test(fire, due_soon_then_overdue)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	hl_ms warn = r->warn_at, due = r->due_at;

	fire(f, 100, HL_CK_RESOLUTION, 1, warn - 1); /* early */
	cr_assert_eq(f->w->n_alerts, 0);
	cr_assert_not(r->warned);

	fire(f, 100, HL_CK_RESOLUTION, 1, warn + 5);
	cr_assert_eq(f->w->n_alerts, 1);
	struct hl_alert *a = f->w->alerts[0];
	cr_assert_str_eq(a->kind, "resolution_due_soon");
	cr_assert_str_eq(a->dedupe, "100:resolution:1:due_soon");
	cr_assert_eq(a->raised_at, warn + 5, "raised when the daemon noticed");
	cr_assert_eq(a->due_at, due);
	cr_assert_eq(a->escalate_at, 0, "due-soon never escalates");
	cr_assert_eq(a->level, 1);
	cr_assert(a->is_new);
	cr_assert(r->warned);
	cr_assert(r->dirty);
	cr_assert_eq(r->state, HL_CS_PENDING);
	cr_assert_eq(hl_clock_next_fire(r), due);

	fire(f, 100, HL_CK_RESOLUTION, 1, warn + 10);
	cr_assert_eq(f->w->n_alerts, 1, "one due-soon per run");

	fire(f, 100, HL_CK_RESOLUTION, 1, due + 300);
	cr_assert_eq(f->w->n_alerts, 2);
	a = f->w->alerts[1];
	cr_assert_str_eq(a->kind, "resolution_overdue");
	cr_assert_str_eq(a->dedupe, "100:resolution:1:overdue");
	cr_assert_eq(a->due_at, due);
	cr_assert_eq(a->raised_at, due + 300);
	cr_assert_eq(a->escalate_at, due + 300 + 15 * MIN);
	cr_assert_str_eq(a->caller, P1);
	cr_assert_not_null(a->detail);
	cr_assert_not_null(strstr(a->detail, "case open for 2d, due now"), "%s", a->detail);
	no_full_number(a->detail);
	cr_assert_eq(r->state, HL_CS_BREACHED);
	cr_assert_eq(r->breached_at, due);
	cr_assert_eq(hl_clock_next_fire(r), 0);

	fire(f, 100, HL_CK_RESOLUTION, 1, due + 600);
	cr_assert_eq(f->w->n_alerts, 2, "one overdue per run");
	fx_free(f);
}

Test(fire, stale_met_unknown_and_late)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_clock *r = clk(f, 100, HL_CK_RESOLUTION);
	fire(f, 100, HL_CK_RESOLUTION, 0, T0 + 100 * HOUR);
	fire(f, 100, HL_CK_RESOLUTION, 2, T0 + 100 * HOUR);
	fire(f, 999, HL_CK_RESOLUTION, 1, T0 + 100 * HOUR);
	fire(f, 100, (enum hl_clock_kind)7, 1, T0 + 100 * HOUR);
	fire(f, 100, HL_CK_CALLBACK, 0, T0 + 100 * HOUR); /* never armed */
	cr_assert_eq(f->w->n_alerts, 0);
	cr_assert_eq(r->state, HL_CS_PENDING);

	/* late: both warn and due passed -> only the overdue */
	fire(f, 100, HL_CK_RESOLUTION, 1, T0 + 100 * HOUR);
	cr_assert_eq(f->w->n_alerts, 1);
	cr_assert_str_eq(f->w->alerts[0]->kind, "resolution_overdue");
	cr_assert(r->warned);
	fire(f, 100, HL_CK_RESOLUTION, 1, T0 + 101 * HOUR);
	cr_assert_eq(f->w->n_alerts, 1);

	/* met clocks never fire */
	ok(offered(f, "e2", "c-2", P2, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e3", 101, T0 + HOUR));
	fire(f, 101, HL_CK_RESOLUTION, 1, T0 + 100 * HOUR);
	fire(f, 101, HL_CK_UPDATE, 1, T0 + 100 * HOUR);
	cr_assert_eq(f->w->n_alerts, 1);

	/* an overdue already stored (loaded alert with the same key) is not raised again */
	ok(offered(f, "e4", "c-3", "+8613800000003", T0));
	struct hl_alert old;
	memset(&old, 0, sizeof old);
	old.id = 55;
	snprintf(old.kind, sizeof old.kind, "update_overdue");
	snprintf(old.dedupe, sizeof old.dedupe, "102:update:1:overdue");
	hl_world_add_alert(f->w, &old);
	fire(f, 102, HL_CK_UPDATE, 1, T0 + 30 * HOUR);
	cr_assert_eq(count_alerts(f, "update_overdue"), 1);
	cr_assert_eq(clk(f, 102, HL_CK_UPDATE)->state, HL_CS_BREACHED);
	fx_free(f);
}

Test(fire, seconds_scale_deadlines)
{
	struct fx *f = fx_new();
	set_policy(&f->cfg.sla, "default", 2 * SEC, 0, 0, 0, 0.5);
	ok(offered(f, "e1", "c-1", P1, T0 + 250));
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_NONE, "resolution off");
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0 + 500));
	struct hl_clock *cb = clk(f, 100, HL_CK_CALLBACK);
	cr_assert_eq(cb->due_at, T0 + 2500);
	cr_assert_eq(cb->warn_at, T0 + 1500);
	cr_assert_not_null(strstr(last_desc(f), "callback armed, due in 2s"), "%s", last_desc(f));
	cr_assert_eq(hl_clock_next_fire(cb), T0 + 1500);
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + 1500);
	cr_assert_str_eq(f->w->alerts[0]->kind, "callback_due_soon");
	cr_assert_eq(hl_clock_next_fire(cb), T0 + 2500);
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + 2499);
	cr_assert_eq(f->w->n_alerts, 1);
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + 2500);
	cr_assert_str_eq(f->w->alerts[1]->kind, "callback_overdue");
	cr_assert_eq(f->w->alerts[1]->dedupe[0], '1');
	cr_assert_str_eq(f->w->alerts[1]->dedupe, "100:callback:1:overdue");
	fx_free(f);
}

Test(fire, next_fire)
{
	struct hl_clock k;
	memset(&k, 0, sizeof k);
	cr_assert_eq(hl_clock_next_fire(NULL), 0);
	cr_assert_eq(hl_clock_next_fire(&k), 0);
	k.state = HL_CS_PENDING;
	k.due_at = 200;
	cr_assert_eq(hl_clock_next_fire(&k), 200);
	k.warn_at = 100;
	cr_assert_eq(hl_clock_next_fire(&k), 100);
	k.warned = true;
	cr_assert_eq(hl_clock_next_fire(&k), 200);
	int states[] = {HL_CS_PAUSED, HL_CS_MET, HL_CS_BREACHED, HL_CS_STOPPED};
	for (size_t i = 0; i < 4; i++) {
		k.state = states[i];
		cr_assert_eq(hl_clock_next_fire(&k), 0);
	}
}

/* --------------------------------------------------------------- escalation */

static struct hl_alert *overdue_alert(struct fx *f, int64_t id)
{
	ok(offered(f, "e1", "c-1", P1, T0));
	fire(f, 100, HL_CK_UPDATE, 1, T0 + 24 * HOUR);
	struct hl_alert *a = find_alert(f, "update_overdue");
	cr_assert_not_null(a);
	hl_world_set_alert_id(f->w, a, id);
	return a;
}

Test(escalate, up_to_max_level)
{
	struct fx *f = fx_new();
	struct hl_alert *a = overdue_alert(f, 7);
	hl_ms t = T0 + 24 * HOUR;
	cr_assert_eq(a->escalate_at, t + 15 * MIN);
	f->env.now = t + 14 * MIN;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 1, "not yet");
	f->env.now = t + 15 * MIN;
	a->dirty = false;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 2);
	cr_assert_eq(a->escalate_at, t + 30 * MIN);
	cr_assert(a->dirty);
	/* late (daemon was down): one step, next counted from now */
	f->env.now = t + 5 * HOUR;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 3);
	cr_assert_eq(a->escalate_at, 0, "max level reached");
	f->env.now = t + 10 * HOUR;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 3);
	hl_rules_escalate(f->w, &f->env, 999); /* unknown: nothing */
	fx_free(f);
}

Test(escalate, stops_when_acked)
{
	struct fx *f = fx_new();
	struct hl_alert *a = overdue_alert(f, 7);
	hl_ms t = T0 + 24 * HOUR;
	f->env.now = t + 15 * MIN;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 2);
	size_t accepted = f->w->n_accepted;
	struct hl_outcome *o = ack(f, "ack1", 7, "sup1", t + 20 * MIN);
	ok(o);
	cr_assert_eq(o->case_id, 100);
	cr_assert_not(o->duplicate);
	cr_assert_eq(a->acked_at, t + 20 * MIN);
	cr_assert_str_eq(a->acked_by, "sup1");
	cr_assert_eq(a->escalate_at, 0);
	cr_assert(a->dirty);
	cr_assert_eq(f->w->n_accepted, accepted, "a command is not a case event");
	cr_assert_not(hl_world_seen(f->w, "ack1", NULL));

	/* acking again: ok, nothing changes */
	ok(ack(f, "ack2", 7, "sup2", t + 25 * MIN));
	cr_assert_str_eq(a->acked_by, "sup1");
	cr_assert_eq(a->acked_at, t + 20 * MIN);

	a->escalate_at = t + 30 * MIN; /* even if a stale time were left behind */
	f->env.now = t + HOUR;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 2);

	struct hl_event e = E(HL_CMD_ALERT_ACK, "ack3", t);
	e.alert_id = 99;
	refused(f, e, HL_E_UNKNOWN_ALERT, "alert_id: no alert 99");
	e.alert_id = 0;
	refused(f, e, HL_E_BAD_REQUEST, "alert_id: missing");
	fx_free(f);
}

Test(escalate, max_level_one_never_escalates)
{
	struct fx *f = fx_new();
	f->cfg.escalation.max_level = 1;
	struct hl_alert *a = overdue_alert(f, 7);
	cr_assert_eq(a->escalate_at, 0);
	f->env.now = T0 + 100 * HOUR;
	hl_rules_escalate(f->w, &f->env, 7);
	cr_assert_eq(a->level, 1);
	fx_free(f);
}

/* ------------------------------------------------------ duplicates and errors */

Test(duplicate, same_id_has_no_effect)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + HOUR));
	char *before = dump(f->w);
	struct hl_outcome *o = offered(f, "e1", "c-other", P2, T0 + 2 * HOUR);
	cr_assert_eq(o->err, HL_OK);
	cr_assert(o->duplicate);
	cr_assert_eq(o->case_id, 100);
	o = case_ev(f, HL_EV_CASE_RESUME, "e2", 100, T0 + 3 * HOUR);
	cr_assert(o->duplicate);
	cr_assert_eq(o->case_id, 100);
	/* even an event that would now be refused is a duplicate first */
	o = case_ev(f, HL_EV_CASE_RESOLVE, "e2", 4242, T0);
	cr_assert_eq(o->err, HL_OK);
	cr_assert(o->duplicate);
	char *after = dump(f->w);
	cr_assert_str_eq(after, before);
	free(before);
	free(after);

	/* accepted in an earlier batch (loaded by the store) */
	hl_world_add_seen(f->w, "old-1", 55);
	o = offered(f, "old-1", "c-9", P2, T0);
	cr_assert(o->duplicate);
	cr_assert_eq(o->case_id, 55);
	cr_assert_null(hl_world_call(f->w, "c-9"));
	fx_free(f);
}

Test(errors, messages_and_atomicity)
{
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = HOUR;
	/* a world with something of everything */
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0));
	ok(offered(f, "e3", "c-2", P2, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e4", 101, T0 + MIN));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e5", 100, T0 + 2 * MIN));
	fire(f, 100, HL_CK_CALLBACK, 1, T0 + HOUR);
	ok(offered(f, "e6", "c-3", "+8613800000003", T0));
	ok(case_ev(f, HL_EV_CASE_CLOSE, "e7", 102, T0 + 3 * MIN));

	struct hl_event e;
	e = E(HL_EV_CALL_OFFERED, "x1", T0);
	snprintf(e.caller, sizeof e.caller, P1);
	refused(f, e, HL_E_BAD_REQUEST, "call_id: missing");
	e.call_id = "";
	refused(f, e, HL_E_BAD_REQUEST, "call_id: missing");
	e = E(HL_EV_CALL_OFFERED, "x2", T0);
	e.call_id = "c-new";
	refused(f, e, HL_E_BAD_REQUEST, "caller: missing");
	e = E(HL_EV_CALL_ANSWERED, "x3", T0);
	e.call_id = "nope";
	refused(f, e, HL_E_UNKNOWN_CALL, "call_id: no call 'nope'");
	e = E(HL_EV_CALL_ENDED, "x4", T0);
	e.call_id = "c-1";
	refused(f, e, HL_E_BAD_REQUEST, "outcome: missing");
	int case_types[] = {HL_EV_CASE_UPDATE, HL_EV_CASE_TRANSFER, HL_EV_CASE_RESOLVE, HL_EV_CASE_CLOSE,
	                    HL_EV_CASE_REOPEN, HL_EV_CASE_HOLD, HL_EV_CASE_RESUME};
	for (size_t i = 0; i < sizeof case_types / sizeof case_types[0]; i++) {
		e = E(case_types[i], "x5", T0);
		e.case_id = 42;
		e.department = "d";
		refused(f, e, HL_E_UNKNOWN_CASE, "case_id: no case 42");
		e.case_id = 0;
		refused(f, e, HL_E_BAD_REQUEST, "case_id: missing");
	}
	e = E(HL_EV_SURVEY_RESULT, "x6", T0);
	e.case_id = 42;
	e.score = 3;
	refused(f, e, HL_E_UNKNOWN_CASE, "case_id: no case 42");
	e = E(HL_EV_CASE_RESUME, "x7", T0);
	e.case_id = 101;
	refused(f, e, HL_E_BAD_REQUEST, "case_id: case 101 is not on hold");
	e.case_id = 102;
	refused(f, e, HL_E_BAD_REQUEST, "case_id: case 102 is closed");
	e = E(HL_CMD_PING, "x8", T0);
	refused(f, e, HL_E_UNKNOWN_TYPE, "type: not an event the rules handle");
	e = E(HL_T_NONE, "x9", T0);
	refused(f, e, HL_E_UNKNOWN_TYPE, "type: not an event the rules handle");
	e = E(HL_CMD_ALERT_ACK, "x10", T0);
	e.alert_id = 12345;
	refused(f, e, HL_E_UNKNOWN_ALERT, "alert_id: no alert 12345");

	/* a long call id is cut in the message, which still fits */
	char longid[400];
	memset(longid, 'q', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	e = E(HL_EV_CALL_ANSWERED, "x11", T0);
	e.call_id = longid;
	char *before = dump(f->w);
	struct hl_outcome *o = apply(f, e);
	cr_assert_eq(o->err, HL_E_UNKNOWN_CALL);
	cr_assert_eq(strncmp(o->message, "call_id: no call 'qqq", 21), 0);
	cr_assert_lt(strlen(o->message), sizeof o->message);
	char *after = dump(f->w);
	cr_assert_str_eq(after, before);
	free(before);
	free(after);

	/* and the world still works afterwards */
	ok(case_ev(f, HL_EV_CASE_RESUME, "ok1", 100, T0 + HOUR));
	fx_free(f);
}

Test(errors, case_of_call_not_loaded)
{
	struct fx *f = fx_new();
	struct hl_call call;
	memset(&call, 0, sizeof call);
	call.call_id = "c-1";
	call.case_id = 77;
	hl_world_add_call(f->w, &call);
	struct hl_event e = E(HL_EV_CALL_ANSWERED, "e1", T0);
	e.call_id = "c-1";
	refused(f, e, HL_E_INTERNAL, "case_id: case 77 of call 'c-1' is not loaded");
	/* a repeated offer of that call needs no case */
	struct hl_outcome *o = offered(f, "e2", "c-1", P1, T0);
	ok(o);
	cr_assert_eq(o->case_id, 77);
	fx_free(f);
}

/* ------------------------------------------------------------------ speed */

Test(speed, batch_of_1000_events)
{
	struct fx *f = fx_new();
	int64_t ids[300];
	for (int i = 0; i < 300; i++)
		ids[i] = 1000 + i;
	hl_world_add_free_ids(f->w, ids, 300);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* ids and call ids must outlive the batch: keep them in one buffer */
	static char names[1000][2][32];
	char caller[HL_PHONE_MAX];
	int n = 0;
	for (int i = 0; i < 250; i++) {
		snprintf(caller, sizeof caller, "+86139%08d", i);
		hl_ms at = T0 + i * SEC;
		for (int k = 0; k < 4; k++, n++) {
			snprintf(names[n][0], sizeof names[n][0], "ev-%d", n);
			snprintf(names[n][1], sizeof names[n][1], "call-%d", i);
		}
		struct hl_event e = E(HL_EV_CALL_OFFERED, names[n - 4][0], at);
		e.call_id = names[n - 4][1];
		snprintf(e.caller, sizeof e.caller, "%s", caller);
		ok(apply(f, e));
		e = E(HL_EV_CALL_ANSWERED, names[n - 3][0], at + MIN);
		e.call_id = names[n - 3][1];
		ok(apply(f, e));
		e = E(HL_EV_CALL_ENDED, names[n - 2][0], at + 2 * MIN);
		e.call_id = names[n - 2][1];
		e.outcome = "followup";
		ok(apply(f, e));
		e = E(HL_EV_CALLBACK_ATTEMPT, names[n - 1][0], at + 3 * MIN);
		e.case_id = f->out.case_id;
		e.result = "reached";
		ok(apply(f, e));
	}
	for (size_t i = 0; i < f->w->n_cases; i++)
		for (int k = 0; k < HL_CK__COUNT; k++)
			fire(f, f->w->cases[i]->id, (enum hl_clock_kind)k, f->w->cases[i]->clocks[k].seq, T0 + 100 * HOUR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert_eq(f->w->n_accepted, 1000);
	cr_assert_eq(f->w->n_seen, 1000);
	cr_assert_eq(f->w->n_cases, 250);
	cr_assert_eq(clk(f, 100, HL_CK_CALLBACK)->state, HL_CS_MET);
	cr_assert_eq(f->w->n_alerts, 500, "update and resolution overdue for each case");
	cr_assert_lt(secs, 2.0, "1000 events took %.3fs", secs);
	fx_free(f);
}

/* ------------------------------------------------ issue 16: items 7, 13, 14 */

/* Item 7: "confidential" on any call or case event marks the case's caller;
 * only case.update lifts it. */
Test(issue16, confidential_on_every_event)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	cr_assert_not(hl_world_caller(f->w, P1)->confidential);
	struct hl_event e = E(HL_EV_CALL_ANSWERED, "e2", T0 + MIN);
	e.call_id = "c-1";
	e.agent = "a7";
	e.confidential = 1;
	ok(apply(f, e));
	cr_assert(hl_world_caller(f->w, P1)->confidential, "call.answered confidential:true marks");
	cr_assert_not_null(strstr(last_desc(f), "caller marked confidential"), "%s", last_desc(f));
	no_full_number(last_desc(f));

	/* false on a call event asserts nothing */
	struct hl_event n = E(HL_EV_CALL_ENDED, "e3", T0 + 2 * MIN);
	n.call_id = "c-1";
	n.outcome = "info";
	n.confidential = 0;
	ok(apply(f, n));
	cr_assert(hl_world_caller(f->w, P1)->confidential);

	/* case.update false lifts, true marks again */
	struct hl_event u = E(HL_EV_CASE_UPDATE, "e4", T0 + 3 * MIN);
	u.case_id = 100;
	u.confidential = 0;
	ok(apply(f, u));
	cr_assert_not(hl_world_caller(f->w, P1)->confidential);
	struct hl_event u2 = E(HL_EV_CASE_UPDATE, "e5", T0 + 4 * MIN);
	u2.case_id = 100;
	u2.confidential = 1;
	ok(apply(f, u2));
	cr_assert(hl_world_caller(f->w, P1)->confidential);

	/* a case event whose caller row was not loaded creates it marked, and
	 * an alert the same event raises is already confidential */
	ok(offered(f, "e6", "c-2", P2, T0 + 5 * MIN));
	hl_world_case(f->w, 101)->status = HL_ST_RESOLVED;
	struct hl_event s = E(HL_EV_SURVEY_RESULT, "e7", T0 + 6 * MIN);
	s.case_id = 101;
	s.score = 1;
	s.confidential = 1;
	ok(apply(f, s));
	cr_assert(hl_world_caller(f->w, P2)->confidential);
	struct hl_alert *a = find_alert(f, "dissatisfied");
	cr_assert_not_null(a);
	cr_assert(a->confidential, "the alert raised by the marking event is confidential");
	fx_free(f);
}

/* Item 13: call.ended after call.abandoned / voicemail.left keeps the
 * abandonment (state and end time); the outcome is recorded. */
Test(issue16, ended_keeps_abandonment)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "c-1", T0 + 10 * SEC));
	ok(ended(f, "e3", "c-1", "hangup", T0 + 20 * SEC));
	struct hl_call *c = hl_world_call(f->w, "c-1");
	cr_assert_eq(c->state, HL_CALL_ABANDONED);
	cr_assert_eq(c->ended_at, T0 + 10 * SEC);
	cr_assert_str_eq(c->outcome, "hangup");

	ok(offered(f, "e4", "c-2", P1, T0 + MIN));
	ok(on_call(f, HL_EV_VOICEMAIL_LEFT, "e5", "c-2", T0 + MIN + 10 * SEC));
	ok(ended(f, "e6", "c-2", "voicemail", T0 + MIN + 20 * SEC));
	cr_assert_eq(hl_world_call(f->w, "c-2")->state, HL_CALL_VOICEMAIL);

	/* an answered call still ends as before */
	ok(offered(f, "e7", "c-3", P1, T0 + 2 * MIN));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e8", "c-3", T0 + 2 * MIN + SEC));
	ok(ended(f, "e9", "c-3", "info", T0 + 3 * MIN));
	cr_assert_eq(hl_world_call(f->w, "c-3")->state, HL_CALL_ENDED);
	fx_free(f);
}

/* Item 14: a contact during a hold is the last contact: on resume the update
 * clock runs its whole allowance from the resume (a new run started at the
 * contact, armed paused). */
Test(issue16, contact_during_hold_restarts_update_on_resume)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + 20 * HOUR)); /* 4h of update left */
	struct hl_clock *u = clk(f, 100, HL_CK_UPDATE);
	cr_assert_eq(u->remaining_ms, 4 * HOUR);
	ok(attempt(f, "e3", 100, "reached", T0 + 30 * HOUR));
	cr_assert_eq(hl_world_case(f->w, 100)->last_contact_at, T0 + 30 * HOUR);
	cr_assert_eq(u->state, HL_CS_PAUSED, "still on hold: the new run waits");
	cr_assert_eq(u->seq, 2);
	cr_assert_eq(u->started_at, T0 + 30 * HOUR);
	cr_assert_eq(u->remaining_ms, 24 * HOUR);
	cr_assert_eq(u->warn_remaining_ms, 19 * HOUR + 12 * MIN);
	cr_assert_eq(hl_clock_next_fire(u), 0);
	ok(case_ev(f, HL_EV_CASE_RESUME, "e4", 100, T0 + 40 * HOUR));
	cr_assert_eq(u->state, HL_CS_PENDING);
	cr_assert_eq(u->due_at, T0 + 64 * HOUR, "a full allowance from the resume, not 4h");
	cr_assert_eq(u->warn_at, T0 + 40 * HOUR + 19 * HOUR + 12 * MIN);

	/* the same through case.update caller_informed */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e5", 100, T0 + 50 * HOUR));
	struct hl_event e = E(HL_EV_CASE_UPDATE, "e6", T0 + 51 * HOUR);
	e.case_id = 100;
	e.caller_informed = 1;
	ok(apply(f, e));
	ok(case_ev(f, HL_EV_CASE_RESUME, "e7", 100, T0 + 52 * HOUR));
	cr_assert_eq(u->due_at, T0 + 76 * HOUR);
	cr_assert_eq(u->seq, 3);
	fx_free(f);
}

/* Item 7, the same class: optional fields the parser accepts are acted on or
 * told in the description, never silently dropped. */
Test(issue16, accepted_fields_are_not_dropped)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	struct hl_event a = E(HL_EV_CALL_ANSWERED, "e2", T0 + MIN);
	a.call_id = "c-1";
	a.agent = "a7";
	a.queue = "complaints";
	ok(apply(f, a));
	cr_assert_str_eq(hl_world_call(f->w, "c-1")->queue, "complaints", "queue on call.answered");
	struct hl_event t = E(HL_EV_CASE_TRANSFER, "e3", T0 + 2 * MIN);
	t.case_id = 100;
	t.department = "housing";
	t.reason = "rent arrears";
	ok(apply(f, t));
	cr_assert_not_null(strstr(last_desc(f), "transferred to housing (transfer 1): rent arrears"), "%s", last_desc(f));
	struct hl_event k = E(HL_EV_CALLBACK_ATTEMPT, "e4", T0 + 3 * MIN);
	k.case_id = 100;
	k.result = "busy";
	k.call_id = "out-1";
	k.note = "line busy";
	ok(apply(f, k));
	cr_assert_not_null(strstr(last_desc(f), "on call out-1 (note)"), "%s", last_desc(f));
	struct hl_event c = E(HL_EV_CASE_CLOSE, "e5", T0 + 4 * MIN);
	c.case_id = 100;
	c.reason = "duplicate";
	ok(apply(f, c));
	cr_assert_not_null(strstr(last_desc(f), "case 100 closed (duplicate)"), "%s", last_desc(f));
	fx_free(f);
}

/* Item 13, out of order: call.ended (unanswered) before call.abandoned. */
Test(issue16, abandoned_after_unanswered_end_is_kept)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(ended(f, "e2", "c-1", "no_answer", T0 + 10 * SEC));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e3", "c-1", T0 + 11 * SEC));
	struct hl_call *c = hl_world_call(f->w, "c-1");
	cr_assert_eq(c->state, HL_CALL_ABANDONED);
	cr_assert_eq(c->ended_at, T0 + 10 * SEC);
	/* an answered call that ended stays ended */
	ok(offered(f, "e4", "c-2", P1, T0 + MIN));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e5", "c-2", T0 + MIN + SEC));
	ok(ended(f, "e6", "c-2", "info", T0 + 2 * MIN));
	ok(on_call(f, HL_EV_VOICEMAIL_LEFT, "e7", "c-2", T0 + 3 * MIN));
	cr_assert_eq(hl_world_call(f->w, "c-2")->state, HL_CALL_ENDED);
	fx_free(f);
}
