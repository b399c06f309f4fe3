/*
 * rules_clocks.c - the clock state machine of a case (pure): arm, meet,
 * stop, pause and resume a clock, move a pending run back to an earlier debt
 * reported late (and so owe a callback), re-time the running clocks when the
 * case changes policy, settle a history import's past deadlines, and the
 * time a clock's timer is next due.
 *
 * Separate from rules.c (which decides, per event, WHICH of these apply) so
 * that the states of struct hl_clock and the calendar arithmetic of its
 * deadlines (hl_deadline, hl_cal_add, hl_cal_between: business hours,
 * holidays, N working days) live in one place; the work-order rules
 * (orders.c) reach the same helpers through rules_internal.h.  Each helper
 * appends what it did to the event's description, so hotline.case_events
 * tells the story of every deadline.  docs/rules.md has the state diagram.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "rules_internal.h"

/* ------------------------------------------------------------- policy */

const struct hl_policy *hl_rules_policy_of(const struct hl_rules_ctx *x, const struct hl_case *c)
{
	return hl_config_policy(x->cfg, c->category, c->priority);
}

static int64_t allowed_for(const struct hl_policy *p, enum hl_clock_kind k)
{
	switch (k) {
	case HL_CK_CALLBACK: return p->callback_ms;
	case HL_CK_UPDATE: return p->update_ms;
	case HL_CK_RESOLUTION: return p->resolution_ms;
	case HL_CK_SURVEY: return p->survey_ms;
	case HL_CK_REDISPATCH: return p->redispatch_ms;
	default: return 0;
	}
}

/* The calendar a clock counts in; NULL (wall clock) for "" or an unknown name. */
static const struct hl_calendar *calendar_of(const struct hl_config *cfg, const char *name)
{
	return name && name[0] ? hl_config_calendar(cfg, name) : NULL;
}

int64_t hl_rules_nonneg(int64_t v)
{
	return v < 0 ? 0 : v;
}

/* The calendar name a clock of this kind counts in under policy p: the
 * redispatch clock belongs to the work orders and uses their calendar. */
static const char *calendar_name_for(const struct hl_config *cfg, const struct hl_policy *p, enum hl_clock_kind k)
{
	if (k == HL_CK_REDISPATCH)
		return cfg->orders.calendar[0] ? cfg->orders.calendar : cfg->sla.calendar;
	return p->calendar;
}

/* The time a span allows from `start`: itself, or for N working days the open
 * time until their end (what due-soon warnings and hold/resume work with). */
static int64_t span_allowed(const struct hl_calendar *cal, hl_ms start, int64_t span)
{
	if (!hl_span_is_wd(span))
		return span;
	hl_ms due = hl_deadline(cal, start, span);
	return due == INT64_MAX ? INT64_MAX / 4 : hl_rules_nonneg(hl_cal_between(cal, start, due));
}

/* -------------------------------------------------------------- clocks */

/* The due time of a clock with `left` ms of its calendar's open time still
 * to run from `from`.  Nothing left is due at once: hl_cal_add(cal, from, 0)
 * is the next opening, and a clock whose allowance ran out (a resume with
 * nothing left, a stricter policy after hours) would have waited for the
 * office to open - no overdue alert over a weekend, and a resolution before
 * Monday counted in time (review-clocks). */
static hl_ms due_after(const struct hl_calendar *cal, hl_ms from, int64_t left)
{
	return left > 0 ? hl_cal_add(cal, from, left) : from;
}

hl_ms hl_clock_next_fire(const struct hl_clock *c)
{
	if (!c || c->state != HL_CS_PENDING)
		return 0;
	return (c->warn_at && !c->warned) ? c->warn_at : c->due_at;
}

/* Pending or paused: the clock is running (or will again after a hold). */
static bool clock_running(const struct hl_clock *k)
{
	return k->state == HL_CS_PENDING || k->state == HL_CS_PAUSED;
}

/* Running or breached: whatever it measures is still owed. */
bool hl_rules_clock_owed(const struct hl_clock *k)
{
	return clock_running(k) || k->state == HL_CS_BREACHED;
}

void hl_rules_clock_stop(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind)
{
	struct hl_clock *k = &c->clocks[kind];
	if (!hl_rules_clock_owed(k))
		return;
	k->state = HL_CS_STOPPED;
	k->paused_at = 0;
	k->dirty = true;
	hl_rules_touch(x, c);
	hl_rules_note(&x->text, "%s stopped", hl_clock_kind_name(kind));
}

static const struct hl_calendar *calendar_still(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind);

void hl_rules_clock_meet(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind)
{
	struct hl_clock *k = &c->clocks[kind];
	/* Met already, by a later event that came first (the agents' tool is
	 * quicker than the PBX bridge): the earliest event of the run meets it.
	 * met_at is what the figures compare with due_at (review-clocks). */
	if (k->state == HL_CS_MET && x->at < k->met_at && x->at >= k->started_at) {
		k->met_at = x->at;
		k->dirty = true;
		hl_rules_touch(x, c);
		hl_rules_note(&x->text, "%s met earlier%s", hl_clock_kind_name(kind), x->at > k->due_at ? " (late)" : "");
		return;
	}
	if (!hl_rules_clock_owed(k))
		return;
	/* A paused clock (a case resolved while on hold) is met as if resumed at
	 * `at`: its due time is the time it had left counted from there.  Left at
	 * the deadline from before the hold, the figures (met_at <= due_at) counted
	 * a case resolved on hold after that instant as late, although the clock
	 * had not run since the hold (review-clocks). */
	if (k->state == HL_CS_PAUSED) {
		hl_ms from = x->at < k->paused_at ? k->paused_at : x->at;
		k->due_at = due_after(calendar_still(x, c, kind), from, k->remaining_ms);
		k->remaining_ms = k->warn_remaining_ms = 0;
	}
	/* late by `at`, as the figures count it (met_at > due_at): a contact dated
	 * before the deadline that arrives after the wall clock breached it is in time */
	bool late = k->state == HL_CS_BREACHED && x->at > k->due_at;
	k->state = HL_CS_MET;
	k->met_at = x->at;
	k->paused_at = 0;
	k->dirty = true;
	hl_rules_touch(x, c);
	hl_rules_note(&x->text, "%s met%s", hl_clock_kind_name(kind), late ? " (late)" : "");
}

/*
 * A history import ("backfill": true, CONTRACT 8): a deadline that had already
 * passed when the event was received is recorded breached at its due time
 * right here, and a passed warning point as warned, so no timer ever fires
 * for this run: no alert row, hence no push, NOTIFY, escalation or webhook.
 * A later event of the import can still meet the clock, and the figures
 * compare met_at with due_at, so a callback made in time counts as in time.
 */
static void backfill_settle(struct hl_rules_ctx *x, struct hl_clock *k, enum hl_clock_kind kind)
{
	if (!x->ev || !x->ev->backfill || k->state != HL_CS_PENDING)
		return;
	if (k->warn_at && k->warn_at < x->now)
		k->warned = true;
	if (k->due_at >= x->now)
		return; /* not passed yet (clocks.c, "The edge of a deadline") */
	k->state = HL_CS_BREACHED;
	k->breached_at = k->due_at;
	k->warned = true;
	k->dirty = true;
	hl_rules_note(&x->text, "%s already past due: breached, no alert (backfill)", hl_clock_kind_name(kind));
}

/*
 * Start a new run of a clock from `at` under the case's policy (seq + 1).
 * A policy that has this clock off (0) arms nothing, and ends a run that an
 * older configuration started.  `verb` is "armed" or "restarted" for the text.
 */
bool hl_rules_clock_arm(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind, const char *verb)
{
	const struct hl_policy *p = hl_rules_policy_of(x, c);
	int64_t span = allowed_for(p, kind);
	if (span == 0) {
		hl_rules_clock_stop(x, c, kind);
		return false;
	}
	const char *calname = calendar_name_for(x->cfg, p, kind);
	const struct hl_calendar *cal = calendar_of(x->cfg, calname);
	int64_t allowed = span_allowed(cal, x->at, span);
	struct hl_clock *k = &c->clocks[kind];
	k->state = HL_CS_PENDING;
	k->seq++;
	k->started_at = x->at;
	k->allowed_ms = allowed;
	snprintf(k->calendar, sizeof k->calendar, "%s", calname);
	k->due_at = hl_deadline(cal, x->at, span);
	k->warn_at = p->warn_at > 0 ? hl_cal_add(cal, x->at, (int64_t)((double)allowed * p->warn_at)) : 0;
	k->warned = false;
	k->paused_at = 0;
	k->remaining_ms = k->warn_remaining_ms = 0;
	k->met_at = k->breached_at = 0;
	k->dirty = true;
	hl_rules_touch(x, c);
	char t[32];
	hl_rules_note(&x->text, "%s %s, due %s", hl_clock_kind_name(kind), verb, hl_rules_rel_time(x->at, k->due_at, t, sizeof t));
	backfill_settle(x, k, kind);
	return true;
}

/*
 * The run of a pending clock started later than `at` by an event that came
 * first, though what `at` says happened (an earlier abandonment of the same
 * caller, reported late) owed the same debt from earlier: the run is
 * re-timed from `at`, the same run (seq unchanged: one debt, one run in the
 * figures, and the timer keyed on it moves).  A warning already sent stays
 * sent; a run already breached (its alert is out) is left alone.
 */
bool hl_rules_clock_backdate(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind)
{
	if ((unsigned)kind >= HL_CK__COUNT)
		return false;
	struct hl_clock *k = &c->clocks[kind];
	const struct hl_policy *p = hl_rules_policy_of(x, c);
	int64_t span = allowed_for(p, kind);
	if (k->state != HL_CS_PENDING || x->at >= k->started_at || span == 0)
		return false;
	const struct hl_calendar *cal = calendar_still(x, c, kind);
	k->started_at = x->at;
	k->allowed_ms = span_allowed(cal, x->at, span);
	k->due_at = hl_deadline(cal, x->at, span);
	if (!k->warned)
		k->warn_at = p->warn_at > 0 ? hl_cal_add(cal, x->at, (int64_t)((double)k->allowed_ms * p->warn_at)) : 0;
	k->dirty = true;
	hl_rules_touch(x, c);
	char t[32];
	hl_rules_note(&x->text, "%s owed since earlier, due %s", hl_clock_kind_name(kind),
	              hl_rules_rel_time(x->at, k->due_at, t, sizeof t));
	backfill_settle(x, k, kind);
	return true;
}

/* The caller is owed a call back, unless an earlier debt is still open (in
 * rules_clocks.c beside the backdating it relies on).
 *
 * Nothing is owed by a debt dated before the caller was last reached
 * (cases.last_reached_at: an answered call, a reached call back), whatever
 * made it owed - an abandonment, a call.ended "followup", a department's
 * reply, a merged case's resolution: in the order of `at` that reach came
 * after it and met it, and it was delivered first (the caller's next call
 * was answered; the agents' tool reported the call back before the
 * softphone's call.ended).  Before, only an abandonment was checked, and a
 * late followup armed a callback the caller had had: a callback_overdue
 * nobody earned (review-rules2).  Reached, not merely told: a
 * caller_informed does not meet a callback in order (sql/060). */
void hl_rules_owe_callback(struct hl_rules_ctx *x, struct hl_case *c)
{
	struct hl_clock *k = &c->clocks[HL_CK_CALLBACK];
	char t[32];
	if (hl_rules_callback_impossible(x, c)) /* a withheld number (rules_withheld.c) */
		return;
	if (x->at < c->last_reached_at) {
		hl_rules_note(&x->text, "caller reached since: no callback owed");
		return;
	}
	/* owed from this earlier event on, reported after a later one */
	if (hl_rules_clock_backdate(x, c, HL_CK_CALLBACK))
		return;
	if (hl_rules_clock_owed(k))
		hl_rules_note(&x->text, "callback already owed%s, due %s", k->state == HL_CS_BREACHED ? " (overdue)" : "",
		    hl_rules_rel_time(x->at, k->due_at, t, sizeof t));
	else
		hl_rules_clock_arm(x, c, HL_CK_CALLBACK, "armed");
}

/*
 * A contact (an answered call, a reached call back) with a closed case,
 * dated before its close and delivered after it (a PBX bridge's lag): in
 * the order of `at` it met the callback that the close then found met, so
 * the run the close stopped is met at `at` - the figures count a callback
 * in time (or late), not one dropped - and the case's last contact and
 * reach move to it.  Not when the contact is dated before the debt (the
 * caller abandoned again after it) unless `undo` (the answer of a call
 * reported abandoned, rules.c contact()).  True when it did anything: a
 * contact after the close is recorded only, as before.
 */
bool hl_rules_closed_contact(struct hl_rules_ctx *x, struct hl_case *c, bool undo)
{
	if (c->status != HL_ST_CLOSED || x->at > c->closed_at)
		return false;
	bool moved = false;
	if (x->at > c->last_reached_at)
		c->last_reached_at = x->at, moved = true;
	if (x->at > c->last_contact_at)
		c->last_contact_at = x->at, moved = true;
	struct hl_clock *k = &c->clocks[HL_CK_CALLBACK];
	bool met = k->state == HL_CS_STOPPED && k->seq > 0 && (undo || x->at >= k->started_at);
	if (!moved && !met)
		return false;
	hl_rules_touch(x, c);
	hl_rules_note(&x->text, "case %" PRId64 " is closed", c->id);
	if (!met)
		return true;
	k->state = HL_CS_MET;
	k->met_at = x->at;
	k->dirty = true;
	hl_rules_note(&x->text, "callback met before the close%s", x->at > k->due_at ? " (late)" : "");
	return true;
}

/*
 * A resolution (case.resolve, a call.ended "resolved") dated before the close
 * of a closed case, delivered after it (the agents' tool is slower than the
 * supervisor's): in order the case was resolved, then closed.  It was
 * refused ("case is closed"): the sender got an error for a real
 * resolution and the figures lost it.  Now resolved_at is its `at` and the
 * resolution run the close stopped is met at it; the case stays closed and
 * nothing else changes (the close stopped the rest, and would have stopped
 * the survey this resolution armed).  Its line starts with "resolution of
 * case N dated before the case's close: resolved before it", which the
 * figures read (sql/064: it counts as a resolution before that close).
 * Not when the case was resolved already before its close, nor when dated
 * before the last reopen (in order it fell on a resolved case).  Cases
 * merged into this one are not owed their call back by it (a limit).
 */
void hl_rules_resolve_closed(struct hl_rules_ctx *x, struct hl_case *c)
{
	if (c->resolved_at) {
		hl_rules_note(&x->text, "case %" PRId64 " already resolved", c->id);
		return;
	}
	if (x->at < hl_rules_reopened_at(c)) {
		hl_rules_note(&x->text, "resolution of case %" PRId64 " dated before the case's reopen: recorded only", c->id);
		return;
	}
	hl_rules_note(&x->text, "resolution of case %" PRId64 " dated before the case's close: resolved before it", c->id);
	c->resolved_at = x->at;
	if (x->ev->resolution && !c->resolution)
		c->resolution = hl_xstrdup(x->ev->resolution);
	hl_rules_touch(x, c);
	struct hl_clock *k = &c->clocks[HL_CK_RESOLUTION];
	if (k->state != HL_CS_STOPPED || k->seq == 0 || x->at < k->started_at)
		return;
	k->state = HL_CS_MET;
	k->met_at = x->at;
	k->dirty = true;
	hl_rules_note(&x->text, "resolution met%s", x->at > k->due_at ? " (late)" : "");
}

/* The calendar a paused clock counts its time left in: its own, or - when a
 * reload removed or renamed that one - the one its policy names now (noted).
 * Working time left counted on the wall clock would fall due days early
 * across a weekend; the policy's calendar is what the operator meant. */
static const struct hl_calendar *calendar_still(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind)
{
	struct hl_clock *k = &c->clocks[kind];
	const struct hl_calendar *cal = calendar_of(x->cfg, k->calendar);
	if (cal || !k->calendar[0])
		return cal;
	const char *now = calendar_name_for(x->cfg, hl_rules_policy_of(x, c), kind);
	if (strcmp(now, k->calendar) == 0)
		return NULL; /* the policy names it still: unknown to both, the wall clock */
	hl_rules_note(&x->text, "calendar %s is gone: %s counts in %s", k->calendar, hl_clock_kind_name(kind),
	              now[0] ? now : "wall-clock time");
	snprintf(k->calendar, sizeof k->calendar, "%s", now);
	return calendar_of(x->cfg, now);
}

/* Hold: a pending clock stops consuming time and remembers what was left.
 * A clock already past due (due_at < at) is left pending so that its breach
 * is still alerted; one due at the hold's own millisecond pauses with nothing left.
 * A clock that is breached although the hold is dated before its deadline
 * fell due only because the hold arrived late (a delayed delivery, a history
 * import where every old deadline has passed on arrival): by `at` the case
 * was on hold in time (CONTRACT 3, 4), so it pauses like a pending one and
 * its deadline moves back on resume.  Its alert stays (exactly once: the run
 * keeps its seq, so the moved deadline cannot alert again). */
void hl_rules_clock_pause(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind)
{
	struct hl_clock *k = &c->clocks[kind];
	bool late = k->state == HL_CS_BREACHED;
	if ((k->state != HL_CS_PENDING && !late) || k->due_at < x->at)
		return;
	const struct hl_calendar *cal = calendar_still(x, c, kind);
	if (late) {
		k->breached_at = 0;
		hl_rules_note(&x->text, "%s breached before this hold arrived", hl_clock_kind_name(kind));
	}
	/* A hold dated before the run started (it arrived after the contact that
	 * restarted the update clock, or a skewed clock dates it before the case
	 * opened) pauses the run from its start: in order, the contact during
	 * the hold would have armed it paused with its whole allowance, and no
	 * clock has more than its allowance left (review-clocks). */
	hl_ms from = x->at < k->started_at ? k->started_at : x->at;
	k->state = HL_CS_PAUSED;
	k->paused_at = from;
	k->remaining_ms = hl_rules_nonneg(hl_cal_between(cal, from, k->due_at));
	k->warn_remaining_ms = (!k->warned && k->warn_at) ? hl_rules_nonneg(hl_cal_between(cal, from, k->warn_at)) : 0;
	k->dirty = true;
	hl_rules_touch(x, c);
	char d[24];
	hl_rules_note(&x->text, "%s paused, %s left", hl_clock_kind_name(kind), hl_rules_short_dur(k->remaining_ms, d, sizeof d));
}

/*
 * The update clock was just restarted (armed at x->at) by a contact with an
 * open case that, in the order of `at`, came before the current hold, or
 * before or during the last hold a resume has ended since (sql/081): it was
 * delivered after them (a PBX's lag, an agents' tool that batches).  In
 * order the new run did not consume the held time: it is paused where the
 * hold began (at the contact itself when dated during it: its whole
 * allowance, as restart_update arms it on hold) and, for a resumed hold,
 * runs again from the resume.  Before (review-rules3), it ran from the
 * contact as if nothing had been held: due the held time too early, an
 * update_overdue nobody earned.  Only the last hold is known: one before it
 * is not counted.  True when it re-timed the run.
 */
bool hl_rules_update_held(struct hl_rules_ctx *x, struct hl_case *c)
{
	hl_ms from, until = 0;
	if (c->on_hold && x->at < c->hold_since)
		from = c->hold_since;
	else if (!c->on_hold && c->last_hold_until && x->at < c->last_hold_until)
		from = x->at > c->last_hold_from ? x->at : c->last_hold_from, until = c->last_hold_until;
	else
		return false;
	struct hl_clock *k = &c->clocks[HL_CK_UPDATE];
	hl_ms at = x->at;
	hl_rules_note(&x->text, "dated before the %s", until ? "last hold ended" : "hold");
	x->at = from;
	hl_rules_clock_pause(x, c, HL_CK_UPDATE);
	x->at = at;
	if (!until || k->state != HL_CS_PAUSED)
		return true; /* on hold: paused; or due before the hold began, so not paused, as in order */
	const struct hl_calendar *cal = calendar_still(x, c, HL_CK_UPDATE);
	k->state = HL_CS_PENDING;
	k->due_at = due_after(cal, until, k->remaining_ms);
	if (!k->warned && k->warn_at)
		k->warn_at = due_after(cal, until, k->warn_remaining_ms);
	k->paused_at = 0;
	k->remaining_ms = k->warn_remaining_ms = 0;
	char t[32];
	hl_rules_note(&x->text, "update runs from the resume, due %s", hl_rules_rel_time(x->at, k->due_at, t, sizeof t));
	backfill_settle(x, k, HL_CK_UPDATE);
	return true;
}

/* Resume: the deadline moves back by the time spent on hold, in the clock's calendar. */
void hl_rules_clock_resume(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind)
{
	struct hl_clock *k = &c->clocks[kind];
	if (k->state != HL_CS_PAUSED)
		return;
	const struct hl_calendar *cal = calendar_still(x, c, kind);
	/* A resume dated before its hold (a late or skewed event) resumes from
	 * the hold: remaining_ms was counted from there, and counting it from
	 * an earlier instant would take the difference off the caller's time. */
	hl_ms from = x->at < k->paused_at ? k->paused_at : x->at;
	k->state = HL_CS_PENDING;
	k->due_at = due_after(cal, from, k->remaining_ms);
	if (!k->warned && k->warn_at)
		k->warn_at = due_after(cal, from, k->warn_remaining_ms);
	k->paused_at = 0;
	k->remaining_ms = k->warn_remaining_ms = 0;
	k->dirty = true;
	hl_rules_touch(x, c);
	char t[32];
	hl_rules_note(&x->text, "%s resumed, due %s", hl_clock_kind_name(kind), hl_rules_rel_time(x->at, k->due_at, t, sizeof t));
	backfill_settle(x, k, kind);
}

/*
 * The case's category or priority changed: when that selects another policy,
 * every running clock keeps the time it has consumed and gets the new
 * policy's allowance (and calendar) for the rest, as a new run (seq + 1) so
 * that timers and alerts key on the new deadline.  A paused clock gets its
 * remaining time recomputed, and due_at/warn_at as if it resumed now.
 */
static void reevaluate_clock(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind, const struct hl_policy *p)
{
	struct hl_clock *k = &c->clocks[kind];
	if (!clock_running(k))
		return;
	int64_t span = allowed_for(p, kind);
	if (span == 0) {
		hl_rules_clock_stop(x, c, kind);
		return;
	}
	bool paused = k->state == HL_CS_PAUSED;
	const char *calname = calendar_name_for(x->cfg, p, kind);
	const struct hl_calendar *old_cal = calendar_of(x->cfg, k->calendar);
	const struct hl_calendar *new_cal = calendar_of(x->cfg, calname);
	int64_t allowed = span_allowed(new_cal, k->started_at, span);
	int64_t left = paused ? k->remaining_ms : hl_rules_nonneg(hl_cal_between(old_cal, x->at, k->due_at));
	/* a clock that was never due (no open time ahead in its calendar) has used nothing */
	int64_t consumed = k->due_at >= HL_MS_MAX ? 0 : hl_rules_nonneg(k->allowed_ms - left);
	int64_t rem = hl_rules_nonneg(allowed - consumed);
	int64_t wrem = p->warn_at > 0 ? (int64_t)((double)allowed * p->warn_at) - consumed : 0;
	/* Never paused in this run: it has consumed exactly the old calendar's
	 * open time since it started, hence the new calendar's too.  Re-time it
	 * as if armed at its start under the new policy, so "13wd" still ends at
	 * the 13th working day's close.  Spending the old calendar's consumption
	 * in the new one lost the closed time between them: a 16:55 call on the
	 * wall clock classified at 17:10 came due 15 minutes before the close. */
	bool whole = !paused && k->due_at < HL_MS_MAX && x->at >= k->started_at &&
	             consumed == hl_cal_between(old_cal, k->started_at, x->at);

	k->seq++;
	k->allowed_ms = allowed;
	snprintf(k->calendar, sizeof k->calendar, "%s", calname);
	if (whole) {
		k->due_at = hl_deadline(new_cal, k->started_at, span);
		if (k->due_at < x->at) /* more consumed than the new allowance: due now, as below */
			k->due_at = x->at;
		hl_ms warn = p->warn_at > 0 ? hl_cal_add(new_cal, k->started_at, (int64_t)((double)allowed * p->warn_at)) : 0;
		wrem = warn > x->at ? 1 : 0; /* a warning point already passed is not sent for the new run */
		if (wrem)
			k->warn_at = warn;
	} else {
		k->due_at = due_after(new_cal, x->at, rem);
		if (wrem > 0)
			k->warn_at = hl_cal_add(new_cal, x->at, wrem);
	}
	if (wrem > 0)
		k->warned = false;
	else
		k->warn_at = 0; /* the warning point of the new allowance has passed */
	if (paused) {
		k->remaining_ms = rem;
		k->warn_remaining_ms = hl_rules_nonneg(wrem);
	}
	k->dirty = true;
	char t[32];
	hl_rules_note(&x->text, "%s %s", hl_clock_kind_name(kind), paused ? "re-timed while paused" : "now due");
	if (!paused)
		hl_rules_say(&x->text, " %s", hl_rules_rel_time(x->at, k->due_at, t, sizeof t));
	backfill_settle(x, k, kind);
}

void hl_rules_reevaluate(struct hl_rules_ctx *x, struct hl_case *c)
{
	const struct hl_policy *p = hl_rules_policy_of(x, c);
	if (strcmp(p->name, c->policy) == 0)
		return;
	hl_rules_note(&x->text, "policy %s -> %s", c->policy, p->name);
	snprintf(c->policy, sizeof c->policy, "%s", p->name);
	hl_rules_touch(x, c);
	for (int k = 0; k < HL_CK__COUNT; k++)
		reevaluate_clock(x, c, (enum hl_clock_kind)k, p);
}
