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
