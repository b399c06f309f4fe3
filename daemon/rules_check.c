/*
 * rules_check.c - phase one of applying an event (pure): find everything the
 * event names in the world and validate it, filling a struct hl_rules_plan,
 * without touching anything.
 *
 * Separate from rules.c because this phase must never change the world: only
 * when every check has passed does rules.c mutate anything, so a refused
 * event leaves the world exactly as it found it (answered bad_request or
 * unknown_* naming the field) and an accepted one applies completely.
 *
 * It also says, for a status event that passed (close, resolve, reopen,
 * hold, a dissatisfied survey's reopen), whether a later change of the
 * case's status, delivered first, superseded it (hl_rules_superseded): in
 * the order of `at` it would have fallen before that change, which undid
 * or ended it, so it is recorded only.  A lookup too, that changes nothing.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules_internal.h"

static bool fail(struct hl_outcome *out, enum hl_err e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(struct hl_outcome *out, enum hl_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof out->message, fmt, ap);
	va_end(ap);
	hl_utf8_mend(out->message); /* names cut with %.64s */
	out->err = e;
	return false;
}

/* ----------------------------------------------------------- checks */

static bool need_case(struct hl_rules_ctx *x, struct hl_rules_plan *p, struct hl_outcome *out)
{
	if (x->ev->case_id <= 0)
		return fail(out, HL_E_BAD_REQUEST, "case_id: missing");
	p->cs = hl_world_case(x->w, x->ev->case_id);
	if (!p->cs)
		return fail(out, HL_E_UNKNOWN_CASE, "case_id: no case %" PRId64, x->ev->case_id);
	p->case_id = p->cs->id;
	return true;
}

static bool not_closed(const struct hl_rules_plan *p, struct hl_outcome *out)
{
	if (p->cs->status == HL_ST_CLOSED)
		return fail(out, HL_E_BAD_REQUEST, "case_id: case %" PRId64 " is closed", p->cs->id);
	return true;
}

static bool need_field(const char *value, const char *name, struct hl_outcome *out)
{
	if (!value || !value[0])
		return fail(out, HL_E_BAD_REQUEST, "%s: missing", name);
	return true;
}

/*
 * The call an event names.  An unseen call is an error unless `may_offer` and
 * the event carries the caller: then the event first does what call.offered
 * does, which needs the caller's open case or a reserved id for a new one.
 */
static bool find_call(struct hl_rules_ctx *x, struct hl_rules_plan *p, struct hl_outcome *out, bool may_offer)
{
	const struct hl_event *ev = x->ev;
	if (!need_field(ev->call_id, "call_id", out))
		return false;
	p->call = hl_world_call(x->w, ev->call_id);
	/* One call_id, two numbers: a sender reusing its ids (a counter that
	 * restarts each day, a data set whose ids repeat by month).  Taken as the
	 * same call, the second caller would never be counted and their answer or
	 * hang-up would land on the first caller's case; say so instead. */
	if (p->call && may_offer && ev->caller[0] && p->call->caller[0] && strcmp(p->call->caller, ev->caller) != 0)
		return fail(out, HL_E_BAD_REQUEST, "call_id: call '%.64s' was offered from another number", ev->call_id);
	if (p->call) {
		p->case_id = p->call->case_id;
		p->cs = hl_world_case(x->w, p->call->case_id);
		if (!p->cs && ev->type != HL_EV_CALL_OFFERED)
			return fail(out, HL_E_INTERNAL, "case_id: case %" PRId64 " of call '%.64s' is not loaded",
			            p->call->case_id, ev->call_id);
		return true;
	}
	if (!may_offer || !ev->caller[0])
		return fail(out, HL_E_UNKNOWN_CALL, "call_id: no call '%.128s'", ev->call_id);
	p->offer = true;
	p->cs = hl_world_open_case_of(x->w, ev->caller);
	if (!p->cs && hl_world_free_id_count(x->w) == 0)
		return fail(out, HL_E_INTERNAL, "no case id reserved");
	return true;
}

static bool check_result(const char *result, struct hl_outcome *out)
{
	static const char *const ok[] = {"reached", "no_answer", "busy", "failed"};
	if (!need_field(result, "result", out))
		return false;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strcmp(result, ok[i]) == 0)
			return true;
	return fail(out, HL_E_BAD_REQUEST, "result: must be reached, no_answer, busy or failed");
}

/* Phase one: find and validate everything; touches nothing. */
bool hl_rules_check(struct hl_rules_ctx *x, struct hl_rules_plan *p, struct hl_outcome *out)
{
	const struct hl_event *ev = x->ev;
	switch (ev->type) {
	case HL_EV_CALL_OFFERED:
		return need_field(ev->caller, "caller", out) && find_call(x, p, out, true);
	case HL_EV_CALL_ANSWERED:
		return find_call(x, p, out, false);
	case HL_EV_CALL_ABANDONED:
	case HL_EV_VOICEMAIL_LEFT:
		return find_call(x, p, out, true);
	case HL_EV_CALL_ENDED:
		return need_field(ev->outcome, "outcome", out) && find_call(x, p, out, false);
	case HL_EV_CALLBACK_ATTEMPT:
		return check_result(ev->result, out) && need_case(x, p, out);
	case HL_EV_CASE_UPDATE:
	case HL_EV_CASE_CLOSE:
	case HL_EV_CASE_REOPEN:
		return need_case(x, p, out);
	case HL_EV_CASE_TRANSFER:
		return need_field(ev->department, "department", out) && need_case(x, p, out) && not_closed(p, out);
	case HL_EV_CASE_RESOLVE: /* a closed case too, when dated before its close (rules_clocks.c) */
		return need_case(x, p, out) &&
		       ((p->cs->status == HL_ST_CLOSED && x->at < p->cs->closed_at) || not_closed(p, out));
	case HL_EV_CASE_HOLD:
		return need_case(x, p, out) && not_closed(p, out);
	case HL_EV_CASE_RESUME:
		if (!need_case(x, p, out) || !not_closed(p, out))
			return false;
		if (!p->cs->on_hold)
			return fail(out, HL_E_BAD_REQUEST, "case_id: case %" PRId64 " is not on hold", p->cs->id);
		return true;
	case HL_EV_SURVEY_RESULT:
		if (ev->score < 1 || ev->score > 5)
			return fail(out, HL_E_BAD_REQUEST, "score: must be 1..5");
		return need_case(x, p, out);
	case HL_CMD_ALERT_ACK:
		if (ev->alert_id <= 0)
			return fail(out, HL_E_BAD_REQUEST, "alert_id: missing");
		p->alert = hl_world_alert(x->w, ev->alert_id);
		if (!p->alert)
			return fail(out, HL_E_UNKNOWN_ALERT, "alert_id: no alert %" PRId64, ev->alert_id);
		p->case_id = p->alert->case_id;
		return true;
	default:
		return fail(out, HL_E_UNKNOWN_TYPE, "type: not an event the rules handle");
	}
}

/* ------------------------------------------ late status events (no refusal) */

/* When the case was last reopened: the start of its resolution run (only an
 * opening and a reopen arm that clock); 0 when it never was. */
hl_ms hl_rules_reopened_at(const struct hl_case *c)
{
	const struct hl_clock *r = &c->clocks[HL_CK_RESOLUTION];
	return (c->reopens > 0 && r->seq > 0) ? r->started_at : 0;
}

/*
 * Whether an event of type `t` dated x->at comes before a change of the
 * case's status that was delivered first and, in the order of `at`, would
 * have undone or ended it; then its clause is noted and the caller records
 * it only (review-rules2, docs/rules.md "Events that arrive late"):
 *  - a close, or a resolve of an open case, dated before the case's last
 *    reopen: in order it closed or resolved the case, and the reopen opened
 *    it again (closed, the reopened matter dropped out of every list);
 *  - a reopen (a low survey's too) dated before the resolution or close of
 *    a resolved or closed case: in order that resolution or close came
 *    after it and stands;
 *  - a hold dated before the case's resolution or last reopen, which each
 *    end a hold, or before the last resume (review-rules3).
 * A resolve of a resolved case and a close dated before a resolution are
 * not superseded: in order the result is the same (resolved; closed).
 */
bool hl_rules_superseded(struct hl_rules_ctx *x, const struct hl_case *c, enum hl_type t)
{
	hl_ms turn = 0;
	const char *what = "reopen";
	bool resolved = c->status == HL_ST_RESOLVED, closed = c->status == HL_ST_CLOSED;
	switch (t) {
	case HL_EV_CASE_CLOSE: turn = hl_rules_reopened_at(c); break;
	case HL_EV_CASE_RESOLVE:
	case HL_EV_CALL_ENDED: turn = c->status == HL_ST_OPEN ? hl_rules_reopened_at(c) : 0; break;
	case HL_EV_CASE_REOPEN:
	case HL_EV_SURVEY_RESULT:
		turn = resolved ? c->resolved_at : closed ? c->closed_at : 0;
		what = resolved ? "resolution" : "close";
		break;
	case HL_EV_CASE_HOLD:
		turn = resolved ? c->resolved_at : hl_rules_reopened_at(c);
		what = resolved ? "resolution" : "reopen";
		break;
	default: return false;
	}
	/* a resolved or merged case has nothing to hold (a resolution and a
	 * merge end a hold): held, it stayed "on hold" while resolved, and its
	 * reopen or close added the time since to held_ms (review-rules3) */
	if (t == HL_EV_CASE_HOLD && x->at >= turn && (resolved || c->status == HL_ST_MERGED)) {
		hl_rules_note(&x->text, "case %" PRId64 " is %s: nothing to hold, recorded only", c->id, hl_status_name(c->status));
		return true;
	}
	/* a hold dated before the end of the last hold (a resume, sql/081): in
	 * order that resume ended it; held again, the case sat frozen */
	if (t == HL_EV_CASE_HOLD && x->at >= turn && !c->on_hold && x->at < c->last_hold_until) {
		hl_rules_note(&x->text, "hold dated before the end of the case's last hold, resumed since: recorded only");
		return true;
	}
	if (x->at >= turn)
		return false;
	if (t == HL_EV_CASE_HOLD) /* the wording review-clocks gave it */
		hl_rules_note(&x->text, "hold dated before the case's %s, which ended it: recorded only", what);
	else if (t == HL_EV_SURVEY_RESULT)
		hl_rules_note(&x->text, "dated before the case's %s: case %" PRId64 " not reopened", what, c->id);
	else
		hl_rules_note(&x->text, "%s of case %" PRId64 " dated before the case's %s: recorded only",
		              t == HL_EV_CASE_CLOSE ? "close" : t == HL_EV_CASE_REOPEN ? "reopen" : "resolution", c->id, what);
	return true;
}
