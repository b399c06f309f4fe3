/*
 * rules_withheld.c - calls without a number.
 *
 * A PBX logs every call, also the caller who withholds the number (caller
 * id "anonymous", "Restricted", empty).  Such a call still counts: it was
 * offered, answered or abandoned, and the day's figures and a queue's
 * abandonment rate are wrong without it.  But nobody can call it back, and
 * nobody can tell whether it is the same person calling again.  So an
 * event with "withheld": true (protocol.c) gets a caller of its own, derived
 * from its call_id ("withheld:" and 16 hex digits), and opens a case of its
 * own.  (Not sql/004's "anon:" of an anonymized case: retention skips those
 * as done, and a withheld caller's case still has texts to scrub.)  Then:
 *
 *   - no call back is ever owed to such a case (hl_rules_owe_callback asks
 *     hl_rules_callback_impossible): an abandonment, a follow-up promise,
 *     a department's reply, an approved extension or the resolution of the
 *     case it was merged into would otherwise arm a clock nobody can meet,
 *     and page a supervisor about it;
 *   - an abandoned (or voicemail) call that nobody answered leaves nothing
 *     to follow: its case is closed at once, so that neither its update nor
 *     its resolution clock raises an alert about a caller nobody can reach.
 *     An agent who learns more (a voicemail naming a number) reopens it.
 *     The answer of that very call, dated before the abandonment and
 *     delivered after it (a PBX bridge infers abandonments; review-rules3),
 *     undoes the close: in order the call was answered and nothing closed
 *     the case (hl_rules_withheld_answered).
 *
 * An answered withheld call's case runs like any other: the agent is on the
 * line and the matter may go to a department.  Pure, like the other rules.
 */
#include <inttypes.h>

#include "rules.h"
#include "rules_internal.h"

bool hl_rules_callback_impossible(struct hl_rules_ctx *x, const struct hl_case *c)
{
	if (!hl_caller_withheld(c->caller))
		return false;
	hl_rules_note(&x->text, "no number to call back: no callback owed");
	return true;
}

void hl_rules_withheld_unanswered(struct hl_rules_ctx *x, struct hl_case *c, const struct hl_call *call)
{
	if (!hl_caller_withheld(c->caller) || call->answered_at || c->status != HL_ST_OPEN || c->on_hold)
		return;
	c->status = HL_ST_CLOSED;
	c->closed_at = x->at;
	hl_rules_touch(x, c);
	hl_rules_note(&x->text, "number withheld, nothing to follow: case %" PRId64 " closed", c->id);
	for (int k = 0; k < HL_CK__COUNT; k++)
		hl_rules_clock_stop(x, c, (enum hl_clock_kind)k);
	hl_orders_case_closed(x->w, c->id, x->at);
}

/*
 * The answer (at x->at) of a withheld call whose abandonment at
 * `abandoned_at` closed its case ("nothing to follow"), dated at or before
 * that abandonment and delivered after it: in the order of `at` the call
 * was answered first, the abandonment found it answered and closed
 * nothing.  So the case is open again - not reopened (`reopens` and the
 * figures' turns are untouched; no case.close was ever sent) - and the
 * clocks the close stopped run again as the same runs (same seq, same
 * deadlines; one past due alerts at once, as in order), the orders' clocks
 * too.  The caller then applies the answer as a contact.  Not when the
 * case was closed at another instant (an agent's case.close) or resolved.
 */
bool hl_rules_withheld_answered(struct hl_rules_ctx *x, struct hl_case *c, hl_ms abandoned_at)
{
	if (!hl_caller_withheld(c->caller) || c->status != HL_ST_CLOSED || !abandoned_at ||
	    c->closed_at != abandoned_at || x->at > abandoned_at || c->resolved_at)
		return false;
	c->status = HL_ST_OPEN;
	c->closed_at = 0;
	hl_rules_touch(x, c);
	hl_rules_note(&x->text, "answered before its abandonment: case %" PRId64 " opened again", c->id);
	static const enum hl_clock_kind running[] = {HL_CK_RESOLUTION, HL_CK_UPDATE};
	for (size_t i = 0; i < sizeof running / sizeof running[0]; i++) {
		struct hl_clock *k = &c->clocks[running[i]];
		if (k->state != HL_CS_STOPPED || k->seq == 0)
			continue;
		k->state = k->breached_at ? HL_CS_BREACHED : HL_CS_PENDING;
		k->dirty = true;
		hl_rules_note(&x->text, "%s running again", hl_clock_kind_name(running[i]));
	}
	hl_orders_case_reopened(x->w, c->id, x->ev, x->now, &x->text);
	return true;
}
