/*
 * rules.c - what each event does to a case, its clocks and its alerts (pure).
 *
 * This is the functional heart of hotlined.  The store loads the slice of the
 * database a batch touches into a struct hl_world (world.c); hl_rules_apply
 * then takes one event and changes that world in memory; the store writes
 * back every row flagged dirty/is_new in one transaction.  Timers come in
 * through hl_rules_clock_fire and hl_rules_escalate the same way.
 *
 * Nothing here does I/O or reads a clock: the time of an effect is the
 * event's `at` and "now" is env->now, so every rule is a deterministic
 * function of (world, config, event) and is unit-tested without a database.
 *
 * Design:
 *  - Two phases per event.  hl_rules_check() (rules_check.c) looks
 *    everything up and validates it against the world, filling a `struct
 *    hl_rules_plan`; only when every check has passed does the apply phase
 *    mutate anything.  So a failing event leaves the world exactly as it
 *    found it, and an accepted one applies completely.
 *  - Clocks (struct hl_clock) have a tiny state machine, kept in a handful of
 *    small helpers in rules_clocks.c (hl_rules_clock_arm / _meet / _stop /
 *    _pause / _resume / hl_rules_reevaluate); the event handlers only say
 *    which of them apply.  Each helper also appends what it did to the
 *    event's description, so hotline.case_events tells the story of every
 *    deadline.
 *  - Deadlines are computed in the calendar of the clock's policy via
 *    hl_cal_add / hl_cal_between (a NULL calendar is the wall clock).
 *  - Alerts (rules_alerts.c) are deduplicated on a key that names the breach
 *    ("<case>:<kind>:<seq>:overdue"); the database enforces the same key with
 *    a UNIQUE constraint, so a breach is alerted once even across crashes.
 *  - Phone numbers only ever appear masked (hl_phone_mask) in text we write.
 * docs/rules.md has the event -> effect table and the clock state diagram.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "rules.h"
#include "hotspot.h"
#include "orders.h"
#include "rules_internal.h"

/* ------------------------------------------------------------ context */

/* Replace an owned string; true when the value changed. */
static bool set_str(char **field, const char *value)
{
	if (!value || (*field && strcmp(*field, value) == 0))
		return false;
	free(*field);
	*field = hl_xstrdup(value);
	return true;
}

void hl_rules_touch(struct hl_rules_ctx *x, struct hl_case *c)
{
	c->updated_at = x->now;
	c->dirty = true;
}

static bool is_open(const struct hl_case *c)
{
	return c->status == HL_ST_OPEN;
}

/* Category/priority/summary from the event, re-choosing the policy when the class changed. */
void hl_rules_classify(struct hl_rules_ctx *x, struct hl_case *c)
{
	bool changed = false;
	if (set_str(&c->category, x->ev->category)) {
		hl_rules_note(&x->text, "category %s", c->category);
		changed = true;
	}
	if (set_str(&c->priority, x->ev->priority)) {
		hl_rules_note(&x->text, "priority %s", c->priority);
		changed = true;
	}
	if (set_str(&c->summary, x->ev->summary))
		hl_rules_touch(x, c);
	if (changed) {
		hl_rules_touch(x, c);
		hl_rules_reevaluate(x, c);
	}
	/* only these events make the store load the case's hotspot row (its area) */
	if (x->ev->category || x->ev->area || x->ev->type == HL_EV_ORDER_DISPATCH) {
		char hot[200];
		hl_hotspot_classified(x->w, x->cfg, c, x->ev->area, x->ev->backfill, x->at, hot, sizeof hot);
		if (hot[0])
			hl_rules_note(&x->text, "%s", hot);
	}
}

/* ------------------------------------------------------------- callers */

static struct hl_caller *caller_row(struct hl_world *w, const char *number)
{
	struct hl_caller *r = hl_world_caller(w, number);
	if (r)
		return r;
	struct hl_caller t;
	memset(&t, 0, sizeof t);
	snprintf(t.caller, sizeof t.caller, "%s", number);
	t.is_new = t.dirty = true;
	return hl_world_add_caller(w, &t);
}


/* ------------------------------------------------------ shared effects */

static struct hl_case *open_case(struct hl_rules_ctx *x, const char *caller)
{
	struct hl_case t;
	memset(&t, 0, sizeof t);
	if (!hl_world_take_free_id(x->w, &t.id))
		abort(); /* hl_rules_check() made sure there is one */
	snprintf(t.caller, sizeof t.caller, "%s", caller);
	t.status = HL_ST_OPEN;
	t.opened_at = x->at;
	t.updated_at = x->now;
	snprintf(t.policy, sizeof t.policy, "%s", hl_config_policy(x->cfg, NULL, NULL)->name);
	t.is_new = t.dirty = true;
	struct hl_case *c = hl_world_add_case(x->w, &t);
	hl_rules_note(&x->text, "case %" PRId64 " opened", c->id);
	hl_rules_clock_arm(x, c, HL_CK_RESOLUTION, "armed");
	hl_rules_clock_arm(x, c, HL_CK_UPDATE, "armed");
	return c;
}

/* What call.offered does for an unseen call: caller row, case, call, inbound count. */
static void offer(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	const struct hl_event *ev = x->ev;
	char mask[HL_PHONE_MAX + 8];
	struct hl_caller *r = caller_row(x->w, ev->caller);
	if (ev->confidential == 1 && !r->confidential) {
		r->confidential = true;
		r->dirty = true;
	}
	hl_rules_say(&x->text, "call %s offered from %s", ev->call_id, hl_rules_masked(ev->caller, mask, sizeof mask));
	if (ev->queue)
		hl_rules_say(&x->text, " (queue %s)", ev->queue);
	if (p->cs)
		hl_rules_note(&x->text, "joins case %" PRId64, p->cs->id);
	else
		p->cs = open_case(x, ev->caller);
	if (ev->queue && !p->cs->queue) {
		p->cs->queue = hl_xstrdup(ev->queue);
		hl_rules_touch(x, p->cs);
	}

	struct hl_call t;
	memset(&t, 0, sizeof t);
	t.call_id = ev->call_id; /* hl_world_add_call deep-copies */
	t.case_id = p->cs->id;
	snprintf(t.caller, sizeof t.caller, "%s", ev->caller);
	t.state = HL_CALL_OFFERED;
	t.inbound = true;
	t.offered_at = x->at;
	t.queue = ev->queue;
	t.is_new = t.dirty = true;
	p->call = hl_world_add_call(x->w, &t);
	p->case_id = p->cs->id;
	hl_rules_count_inbound(x, r, p->cs);
}

/*
 * The update clock starts again from a contact.  During a hold the clock does
 * not run, so the new run (seq + 1, started_at = the contact) is armed paused
 * with its whole allowance left: case.resume then runs it from the resume,
 * exactly as if the contact had been the last thing before the hold ended.
 * Without this a contact during a hold was forgotten and the update fell due
 * early after resume (issue 16, item 14).
 */
static void restart_update(struct hl_rules_ctx *x, struct hl_case *c)
{
	if (!is_open(c))
		return;
	if (!hl_rules_clock_arm(x, c, HL_CK_UPDATE, "restarted") || hl_rules_update_held(x, c) || !c->on_hold)
		return; /* hl_rules_update_held: dated before the hold, or the last resume (rules_clocks.c) */
	struct hl_clock *k = &c->clocks[HL_CK_UPDATE];
	const struct hl_policy *p = hl_rules_policy_of(x, c);
	k->state = HL_CS_PAUSED;
	k->paused_at = x->at;
	k->remaining_ms = k->allowed_ms;
	k->warn_remaining_ms = p->warn_at > 0 ? (int64_t)((double)k->allowed_ms * p->warn_at) : 0;
	char d[24];
	hl_rules_note(&x->text, "update paused (on hold), %s left", hl_rules_short_dur(k->remaining_ms, d, sizeof d));
}

/*
 * A contact (the caller reached, or told) at x->at: the last contact moves to
 * it and the update clock restarts from it, unless the event is late, i.e.
 * dated before the last contact already recorded or before the update run
 * began (a reopen): restarting from an older instant would pull the deadline
 * back and raise an update_overdue nobody earned.  Events are applied at
 * their `at` (CONTRACT 3), and a PBX or an agent's tool may deliver them out
 * of order.
 */
static void caller_heard(struct hl_rules_ctx *x, struct hl_case *c)
{
	const struct hl_clock *u = &c->clocks[HL_CK_UPDATE];
	bool late = x->at < c->last_contact_at || (u->seq > 0 && x->at < u->started_at);
	if (x->at > c->last_contact_at) {
		c->last_contact_at = x->at;
		hl_rules_touch(x, c);
	}
	if (late && is_open(c))
		hl_rules_note(&x->text, "contact older than the update clock's run: update unchanged");
	else
		restart_update(x, c);
}

/* The caller heard from us: callback met, last contact, update clock restarts.
 * A contact dated before the callback was owed (its run's started_at: the
 * caller abandoned again afterwards) does not meet it, unless `undo`: the
 * answer of a call reported abandoned, whose abandonment (perhaps dated
 * after the answer, PBX inference) is what made the call back owed (the
 * run started no earlier than it: on_answered). */
static void contact(struct hl_rules_ctx *x, struct hl_case *c, bool undo)
{
	const struct hl_clock *cb = &c->clocks[HL_CK_CALLBACK];
	if (!undo && hl_rules_clock_owed(cb) && x->at < cb->started_at)
		hl_rules_note(&x->text, "callback still owed (owed since after this contact)");
	else
		hl_rules_clock_meet(x, c, HL_CK_CALLBACK);
	if (x->at > c->last_reached_at) {
		c->last_reached_at = x->at;
		hl_rules_touch(x, c);
	}
	caller_heard(x, c);
}

static void end_hold(struct hl_rules_ctx *x, struct hl_case *c)
{
	if (!c->on_hold)
		return;
	c->held_ms += hl_rules_nonneg(x->at - c->hold_since);
	c->on_hold = false;
	c->hold_since = 0;
	hl_rules_touch(x, c);
}

void hl_rules_resolve(struct hl_rules_ctx *x, struct hl_case *c)
{
	if (c->status == HL_ST_MERGED) {
		/* As case.reopen: a merged case is resolved through the case it
		 * was merged into, whose resolution owes its caller the call back
		 * (CONTRACT.md 6).  Made `resolved` here it would drop out of the
		 * merge and its caller would never hear back.  Recorded only. */
		hl_rules_note(&x->text, "case %" PRId64 " is merged: recorded only (resolve the case it was merged into)",
		              c->id);
		return;
	}
	end_hold(x, c);
	c->status = HL_ST_RESOLVED;
	c->resolved_at = x->at;
	set_str(&c->resolution, x->ev->resolution);
	hl_rules_touch(x, c);
	hl_rules_note(&x->text, "case %" PRId64 " resolved", c->id);
	hl_rules_clock_meet(x, c, HL_CK_RESOLUTION);
	hl_rules_clock_stop(x, c, HL_CK_UPDATE);
	/* a resolved case is not dispatched again (orders.c refuses it): the
	 * dispatch a returned order made owed is owed no more */
	hl_rules_clock_stop(x, c, HL_CK_REDISPATCH);
	hl_rules_clock_arm(x, c, HL_CK_SURVEY, "armed");
	struct hl_clock *cb = &c->clocks[HL_CK_CALLBACK];
	if (hl_rules_clock_owed(cb)) {
		char t[32];
		hl_rules_note(&x->text, "callback still owed, due %s", hl_rules_rel_time(x->at, cb->due_at, t, sizeof t));
	}
	/* every caller whose report was merged into this case is owed a call back (CONTRACT.md 6) */
	for (size_t i = 0; i < x->w->n_merges; i++) {
		struct hl_case *m = x->w->merges[i].into == c->id ? hl_world_case(x->w, x->w->merges[i].case_id) : NULL;
		if (m && m->status == HL_ST_MERGED) {
			hl_rules_note(&x->text, "merged case %" PRId64, m->id);
			hl_rules_owe_callback(x, m);
		}
	}
}

static void reopen(struct hl_rules_ctx *x, struct hl_case *c)
{
	end_hold(x, c);
	c->status = HL_ST_OPEN;
	c->reopens++;
	c->resolved_at = c->closed_at = 0;
	hl_rules_touch(x, c);
	hl_rules_note(&x->text, "case %" PRId64 " reopened", c->id);
	if (x->ev->reason)
		hl_rules_say(&x->text, " (%s)", x->ev->reason);
	hl_rules_clock_arm(x, c, HL_CK_RESOLUTION, "restarted");
	hl_rules_clock_arm(x, c, HL_CK_UPDATE, "restarted");
	if (c->clocks[HL_CK_SURVEY].state == HL_CS_PENDING)
		hl_rules_clock_stop(x, c, HL_CK_SURVEY);
	/* what close or resolve stopped that the departments still owe (order_clocks.c) */
	if (hl_orders_case_reopened(x->w, c->id, x->ev, x->now, &x->text) &&
	    c->clocks[HL_CK_REDISPATCH].state == HL_CS_STOPPED)
		hl_rules_clock_arm(x, c, HL_CK_REDISPATCH, "armed");
}

/*
 * "confidential" on any call or case event (README: "on a call or case
 * event").  `true` marks the caller of the event's case confidential.  Only
 * case.update, an agent's deliberate act, may lift the mark with `false`; on
 * any other event `false` asserts nothing (a softphone that sends false does
 * not know, and must not un-protect a caller an agent protected).  An unseen
 * call is marked by offer() before anything quotes the number.  Runs before
 * the event's own effects, so an alert the event raises is already masked;
 * returns the clause for the description (appended last), or NULL.
 */
static const char *mark_confidential(struct hl_rules_ctx *x, const struct hl_rules_plan *p)
{
	const struct hl_event *ev = x->ev;
	bool lift = ev->type == HL_EV_CASE_UPDATE && ev->confidential == 0;
	if ((ev->confidential != 1 && !lift) || p->offer)
		return NULL;
	const char *number = p->cs ? p->cs->caller : p->call ? p->call->caller : NULL;
	if (!number || !number[0] || strncmp(number, "anon:", 5) == 0)
		return NULL; /* an anonymized case (sql/004) has no number left to protect */
	struct hl_caller *r = caller_row(x->w, number);
	if (r->confidential == !lift)
		return NULL;
	r->confidential = !lift;
	r->dirty = true;
	return r->confidential ? "caller marked confidential" : "caller no longer confidential";
}

/* ------------------------------------------------------- event handlers */

static void on_offered(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	if (p->offer)
		offer(x, p);
	else
		hl_rules_say(&x->text, "call %s offered again; already on case %" PRId64, x->ev->call_id, p->case_id);
}

static void on_answered(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	const struct hl_event *ev = x->ev;
	struct hl_call *call = p->call;
	hl_rules_say(&x->text, "call %s answered", call->call_id);
	if (ev->agent)
		hl_rules_say(&x->text, " by %s", ev->agent);
	if (call->answered_at) {
		hl_rules_note(&x->text, "already answered");
		return;
	}
	call->answered_at = x->at;
	hl_ms abandoned_at = call->state == HL_CALL_ABANDONED || call->state == HL_CALL_VOICEMAIL ? call->ended_at : 0;
	/* an earlier debt (a followup after this answer) is not undone: review-rules2 */
	bool undo = call->state == HL_CALL_ABANDONED && p->cs->clocks[HL_CK_CALLBACK].started_at >= call->ended_at;
	if (call->state == HL_CALL_OFFERED) {
		call->state = HL_CALL_ANSWERED;
	} else if (call->state == HL_CALL_ABANDONED) { /* answered after all: back in a queue, or inferred too early */
		hl_rules_note(&x->text, "no longer abandoned");
		call->state = call->ended_at > x->at ? HL_CALL_ENDED : HL_CALL_ANSWERED; /* a later "abandon" ended it */
		if (call->state == HL_CALL_ANSWERED)
			call->ended_at = 0;
	}
	set_str(&call->agent, ev->agent);
	if (ev->queue && !call->queue) /* the queue it was answered from, when the offer did not say */
		call->queue = hl_xstrdup(ev->queue);
	call->dirty = true;
	if (p->cs->status == HL_ST_CLOSED && !hl_rules_withheld_answered(x, p->cs, abandoned_at)) { /* rules_withheld.c */
		if (!hl_rules_closed_contact(x, p->cs, undo))
			hl_rules_note(&x->text, "case %" PRId64 " is closed: recorded only", p->cs->id);
		return;
	}
	contact(x, p->cs, undo);
}

static void on_abandoned(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	bool vm = x->ev->type == HL_EV_VOICEMAIL_LEFT;
	if (p->offer) {
		offer(x, p);
		hl_rules_note(&x->text, "%s", vm ? "voicemail left" : "abandoned");
	} else {
		hl_rules_say(&x->text, "call %s %s", p->call->call_id, vm ? "went to voicemail" : "abandoned");
	}
	struct hl_call *call = p->call;
	/* An unanswered call is abandoned whatever came first: a call.ended that
	 * arrived before the abandonment (events out of order) must not hide it
	 * from the figures either (the same class as issue 16, item 13). */
	if (call->state != HL_CALL_ENDED || !call->answered_at)
		call->state = vm ? HL_CALL_VOICEMAIL : HL_CALL_ABANDONED;
	if (!call->ended_at)
		call->ended_at = x->at;
	call->dirty = true;
	if (p->cs->status == HL_ST_CLOSED) {
		hl_rules_note(&x->text, "case %" PRId64 " is closed: recorded only", p->cs->id);
		return;
	}
	/* owed unless the caller was reached after it (rules_clocks.c) */
	hl_rules_owe_callback(x, p->cs);
	hl_rules_withheld_unanswered(x, p->cs, call);
}

static void on_ended(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	const struct hl_event *ev = x->ev;
	struct hl_call *call = p->call;
	struct hl_case *c = p->cs;
	/* a resolution dated before the case's reopen: recorded only, said
	 * first, before the sender's call_id (sql/063 reads the line) */
	bool resolves = strcmp(ev->outcome, "resolved") == 0;
	bool stale = resolves && is_open(c) && hl_rules_superseded(x, c, HL_EV_CALL_ENDED);
	bool closed = c->status == HL_ST_CLOSED, late = resolves && closed && x->at < c->closed_at;
	if (late) /* before the close: resolved before it (rules_clocks.c) */
		hl_rules_resolve_closed(x, c);
	hl_rules_say(&x->text, "%scall %s ended (%s)", stale || late ? "; " : "", call->call_id, ev->outcome);
	/* An abandoned call or a voicemail already ended, unanswered: keep that
	 * state and its end time (the figures count abandonments from them) and
	 * record only the outcome.  Issue 16, item 13. */
	if (call->state == HL_CALL_ABANDONED || call->state == HL_CALL_VOICEMAIL) {
		hl_rules_note(&x->text, "stays %s", hl_call_state_name(call->state));
		if (!call->ended_at)
			call->ended_at = x->at;
	} else {
		call->state = HL_CALL_ENDED;
		call->ended_at = x->at;
	}
	set_str(&call->outcome, ev->outcome);
	set_str(&call->agent, ev->agent);
	call->dirty = true;
	if (closed) {
		if (!late)
			hl_rules_note(&x->text, "case %" PRId64 " is closed: recorded only", c->id);
		return;
	}
	hl_rules_classify(x, c);
	if (resolves) {
		if (stale)
			return;
		if (is_open(c) || c->status == HL_ST_MERGED)
			hl_rules_resolve(x, c);
		else
			hl_rules_note(&x->text, "case %" PRId64 " already resolved", c->id);
	} else if (strcmp(ev->outcome, "followup") == 0) {
		hl_rules_owe_callback(x, c);
	}
}

static void on_attempt(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	const struct hl_event *ev = x->ev;
	hl_rules_say(&x->text, "callback attempt on case %" PRId64 ": %s", p->cs->id, ev->result);
	if (ev->agent)
		hl_rules_say(&x->text, " (by %s)", ev->agent);
	if (ev->call_id)
		hl_rules_say(&x->text, " on call %s", ev->call_id);
	if (ev->note)
		hl_rules_say(&x->text, " (note)");
	bool reached = strcmp(ev->result, "reached") == 0;
	if (p->cs->status == HL_ST_CLOSED) { /* recorded only, unless a reach dated before the close */
		if (!reached || !hl_rules_closed_contact(x, p->cs, false))
			hl_rules_note(&x->text, "case is closed: recorded only");
		return;
	}
	if (reached)
		contact(x, p->cs, false);
	else if (hl_rules_clock_owed(&p->cs->clocks[HL_CK_CALLBACK]))
		hl_rules_note(&x->text, "callback still owed");
}

static void on_update(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	const struct hl_event *ev = x->ev;
	struct hl_case *c = p->cs;
	hl_rules_say(&x->text, "case %" PRId64 " updated", c->id);
	if (ev->note)
		hl_rules_say(&x->text, " (note)");
	if (ev->agent)
		hl_rules_say(&x->text, " by %s", ev->agent);
	hl_rules_classify(x, c);
	if (ev->caller_informed == 1) {
		hl_rules_note(&x->text, "caller informed");
		caller_heard(x, c);
	}
}

static void on_transfer(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	const struct hl_event *ev = x->ev;
	struct hl_case *c = p->cs;
	set_str(&c->department, ev->department);
	c->transfers++;
	hl_rules_touch(x, c);
	hl_rules_say(&x->text, "case %" PRId64 " transferred to %s (transfer %" PRId32 ")", c->id, ev->department, c->transfers);
	if (ev->reason)
		hl_rules_say(&x->text, ": %s", ev->reason);
	int limit = x->cfg->alerts.transfer_limit;
	if (limit <= 0 || c->transfers != limit + 1)
		return; /* once per case, when the limit is first exceeded */
	char dedupe[128], detail[160];
	snprintf(dedupe, sizeof dedupe, "transfer_loop:%" PRId64, c->id);
	snprintf(detail, sizeof detail, "transferred %" PRId32 " times (limit %d), now to %.*s", c->transfers, limit,
	         (int)hl_rules_utf8_cut(ev->department, strnlen(ev->department, 64)), ev->department);
	if (!x->ev->backfill && hl_rules_raise_alert(x->w, "transfer_loop", c, c->caller, x->at, dedupe, detail))
		hl_rules_note(&x->text, "transfer_loop alert");
}

static void on_resolve(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	struct hl_case *c = p->cs;
	if (c->status == HL_ST_CLOSED) {
		hl_rules_resolve_closed(x, c); /* dated before the close (rules_check.c) */
		return;
	}
	if (c->status == HL_ST_RESOLVED) {
		hl_rules_note(&x->text, "case %" PRId64 " already resolved", c->id);
		return;
	}
	if (hl_rules_superseded(x, c, HL_EV_CASE_RESOLVE))
		return; /* dated before the case's reopen: in order it fell on a resolved or closed case */
	hl_rules_resolve(x, c);
}

static void on_close(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	struct hl_case *c = p->cs;
	if (c->status == HL_ST_CLOSED) {
		hl_rules_note(&x->text, "case %" PRId64 " already closed", c->id);
		return;
	}
	if (hl_rules_superseded(x, c, HL_EV_CASE_CLOSE))
		return; /* dated before the case's reopen, which opened it again */
	end_hold(x, c);
	c->status = HL_ST_CLOSED;
	c->closed_at = x->at;
	hl_rules_touch(x, c);
	hl_rules_note(&x->text, "case %" PRId64 " closed", c->id);
	if (x->ev->reason)
		hl_rules_say(&x->text, " (%s)", x->ev->reason);
	for (int k = 0; k < HL_CK__COUNT; k++)
		hl_rules_clock_stop(x, c, (enum hl_clock_kind)k);
	hl_orders_case_closed(x->w, c->id, x->at);
}

static void on_reopen(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	struct hl_case *c = p->cs;
	if (is_open(c)) {
		hl_rules_note(&x->text, "case %" PRId64 " already open", c->id);
		return;
	}
	if (c->status == HL_ST_MERGED) {
		/* reopen applies to a resolved or closed case (docs/rules.md).  A
		 * merged case made open would keep merged_into yet drop out of the
		 * merge: resolving the case it was merged into would no longer owe
		 * its caller the call back (CONTRACT.md 6).  Recorded only. */
		hl_rules_note(&x->text, "case %" PRId64 " is merged: recorded only (reopen the case it was merged into)",
		              c->id);
		return;
	}
	if (hl_rules_superseded(x, c, HL_EV_CASE_REOPEN))
		return; /* dated before the resolution or close, which stands */
	reopen(x, c);
}

static void on_hold(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	struct hl_case *c = p->cs;
	hl_rules_say(&x->text, "case %" PRId64 " on hold", c->id);
	if (x->ev->reason)
		hl_rules_say(&x->text, " (%s)", x->ev->reason);
	if (c->on_hold) {
		hl_rules_note(&x->text, "already on hold");
		return;
	}
	/* A hold that arrives after a resolution or a reopen dated later than
	 * itself was ended by it (both end a hold): in order the case would not
	 * be on hold now.  Held, the reopened case sat frozen until someone
	 * resumed it. */
	if (hl_rules_superseded(x, c, HL_EV_CASE_HOLD))
		return;
	c->on_hold = true;
	c->hold_since = x->at;
	hl_rules_touch(x, c);
	hl_rules_clock_pause(x, c, HL_CK_RESOLUTION);
	hl_rules_clock_pause(x, c, HL_CK_UPDATE);
}

static void on_resume(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	struct hl_case *c = p->cs;
	int64_t held = hl_rules_nonneg(x->at - c->hold_since);
	char d[24];
	hl_rules_say(&x->text, "case %" PRId64 " resumed after %s on hold", c->id, hl_rules_short_dur(held, d, sizeof d));
	c->last_hold_from = c->hold_since; /* kept for a contact or a hold delivered late (sql/081) */
	c->last_hold_until = c->hold_since + held;
	end_hold(x, c);
	hl_rules_clock_resume(x, c, HL_CK_RESOLUTION);
	hl_rules_clock_resume(x, c, HL_CK_UPDATE);
}

static void on_survey(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	struct hl_case *c = p->cs;
	int score = x->ev->score;
	hl_rules_say(&x->text, "survey on case %" PRId64 ": score %d of 5", c->id, score);
	if (x->ev->note)
		hl_rules_say(&x->text, " (note)");
	/* A result dated before the survey run began (the resolution that armed
	 * it) answers an earlier survey, delivered late by the survey system:
	 * the caller is still owed the survey of this resolution. */
	const struct hl_clock *sv = &c->clocks[HL_CK_SURVEY];
	if (hl_rules_clock_owed(sv) && x->at < sv->started_at)
		hl_rules_note(&x->text, "dated before this survey was owed: survey still owed");
	else
		hl_rules_clock_meet(x, c, HL_CK_SURVEY);
	hl_rules_touch(x, c);
	if (score > 2)
		return;
	char dedupe[128], detail[64];
	hl_rules_event_dedupe(dedupe, sizeof dedupe, "dissatisfied:", x->ev->id);
	snprintf(detail, sizeof detail, "survey score %d of 5", score);
	if (!x->ev->backfill && hl_rules_raise_alert(x->w, "dissatisfied", c, c->caller, x->at, dedupe, detail))
		hl_rules_note(&x->text, "dissatisfied alert");
	/* as case.reopen: a merged case stays merged (its caller is called
	 * back when the case it was merged into is resolved); the alert says it */
	if (!is_open(c) && c->status != HL_ST_MERGED && !hl_rules_superseded(x, c, HL_EV_SURVEY_RESULT))
		reopen(x, c); /* unless dated before the resolution or close since */
}

static void on_ack(struct hl_rules_ctx *x, struct hl_rules_plan *p)
{
	struct hl_alert *a = p->alert;
	if (a->acked_at)
		return; /* acknowledged before: the first acknowledgement stands */
	a->acked_at = x->at;
	set_str(&a->acked_by, x->ev->by);
	a->escalate_at = 0;
	a->dirty = true;
}

/* ----------------------------------------------------------- entry points */

void hl_rules_apply(struct hl_world *w, const struct hl_rules_env *env,
                    const struct hl_event *ev, struct hl_outcome *out)
{
	memset(out, 0, sizeof *out);
	int64_t seen_case;
	if (ev->type != HL_CMD_ALERT_ACK && hl_world_seen(w, ev->id, &seen_case)) {
		out->duplicate = true;
		out->case_id = seen_case;
		/* the order the accepted event named, not this body's (it may differ) */
		const char *seen_order = hl_world_seen_order(w, ev->id);
		if (seen_order)
			snprintf(out->order_id, sizeof out->order_id, "%s", seen_order);
		else if (ev->type >= HL_EV_ORDER_DISPATCH && ev->type <= HL_EV_ORDER_REPLY)
			hl_orders_event_order_id(ev, out->order_id, sizeof out->order_id);
		return;
	}

	if (hl_orders_handles(ev->type)) {
		hl_orders_apply(w, env, ev, out);
		return;
	}

	struct hl_rules_ctx x = {.w = w, .cfg = env->cfg, .now = env->now, .at = ev->at, .ev = ev};
	struct hl_rules_plan p;
	memset(&p, 0, sizeof p);
	if (!hl_rules_check(&x, &p, out))
		return;
	const char *marked = ev->type != HL_CMD_ALERT_ACK ? mark_confidential(&x, &p) : NULL;

	switch (ev->type) {
	case HL_EV_CALL_OFFERED: on_offered(&x, &p); break;
	case HL_EV_CALL_ANSWERED: on_answered(&x, &p); break;
	case HL_EV_CALL_ABANDONED:
	case HL_EV_VOICEMAIL_LEFT: on_abandoned(&x, &p); break;
	case HL_EV_CALL_ENDED: on_ended(&x, &p); break;
	case HL_EV_CALLBACK_ATTEMPT: on_attempt(&x, &p); break;
	case HL_EV_CASE_UPDATE: on_update(&x, &p); break;
	case HL_EV_CASE_TRANSFER: on_transfer(&x, &p); break;
	case HL_EV_CASE_RESOLVE: on_resolve(&x, &p); break;
	case HL_EV_CASE_CLOSE: on_close(&x, &p); break;
	case HL_EV_CASE_REOPEN: on_reopen(&x, &p); break;
	case HL_EV_CASE_HOLD: on_hold(&x, &p); break;
	case HL_EV_CASE_RESUME: on_resume(&x, &p); break;
	case HL_EV_SURVEY_RESULT: on_survey(&x, &p); break;
	case HL_CMD_ALERT_ACK:
		on_ack(&x, &p);
		out->case_id = p.case_id;
		return; /* a command: not a case event, not an idempotency key */
	default: break; /* hl_rules_check() refused it */
	}
	if (marked)
		hl_rules_note(&x.text, "%s", marked);
	out->case_id = p.cs ? p.cs->id : p.case_id;
	hl_world_add_accepted(w, ev, out->case_id, x.text.buf);
	hl_world_add_seen_order(w, ev->id, out->case_id, "");
}
