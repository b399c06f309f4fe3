/*
 * test_rules_review3.c - the case rules' defects of review-rules3, each
 * pinned where it was found: the same events delivered in another order
 * than their `at` must leave the case as the events in order would.
 *
 *  - a withheld call's abandonment closes its case, but the answer of that
 *    call dated before the abandonment, delivered after it, opens it again
 *    (in order the call was answered: nothing closed it).
 *
 * The fixture is rules_fixtures.h (wall clock).
 */
#include <criterion/criterion.h>

#include "rules_fixtures.h"

/* -------------------------------------------------------- withheld */

static struct hl_outcome *withheld(struct fx *f, enum hl_type t, const char *id, const char *call, hl_ms at)
{
	struct hl_event e = E(t, id, at);
	e.call_id = (char *)call;
	e.withheld = true;
	snprintf(e.caller, sizeof e.caller, "withheld:00000000000000%02x", (unsigned)call[strlen(call) - 1]);
	return apply(f, e);
}

/* k1 answered at 09:01 and reported abandoned at 09:05 (a PBX bridge infers
 * abandonments): in order the answer comes first and the case stays open.
 * The abandonment delivered first closed the case ("nothing to follow");
 * the answer that came after must open it again, as in order. */
Test(review3, a_withheld_calls_answer_delivered_after_its_abandonment_opens_the_case_again)
{
	struct fx *f = fx_new();
	ok(withheld(f, HL_EV_CALL_OFFERED, "e1", "k1", T0));
	int64_t id = f->out.case_id;
	struct hl_case *c = hl_world_case(f->w, id);
	hl_ms res_due = clk(f, id, HL_CK_RESOLUTION)->due_at;
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e2", "k1", T0 + 5 * MIN));
	cr_assert_eq(c->status, HL_ST_CLOSED);
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e3", "k1", T0 + MIN));
	cr_assert_eq(c->status, HL_ST_OPEN, "%s", last_desc(f));
	cr_assert_eq(c->closed_at, 0);
	cr_assert_eq(c->reopens, 0, "not a reopen: the close never happened in order");
	cr_assert_eq(clk(f, id, HL_CK_RESOLUTION)->state, HL_CS_PENDING);
	cr_assert_eq(clk(f, id, HL_CK_RESOLUTION)->due_at, res_due, "the same run, from the opening");
	cr_assert_eq(clk(f, id, HL_CK_UPDATE)->state, HL_CS_PENDING);
	cr_assert_eq(clk(f, id, HL_CK_UPDATE)->due_at, T0 + MIN + 24 * HOUR, "restarted by the answer");
	cr_assert_eq(clk(f, id, HL_CK_CALLBACK)->state, HL_CS_NONE);
	cr_assert(strstr(last_desc(f), "opened again"), "%s", last_desc(f));
	cr_assert_eq(hl_world_call(f->w, "k1")->state, HL_CALL_ENDED, "answered, then ended at the 09:05 'abandonment'");
	/* a case an agent closed stays closed: only the withheld close is undone */
	ok(withheld(f, HL_EV_CALL_OFFERED, "e4", "k2", T0 + HOUR));
	int64_t id2 = f->out.case_id;
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e5", "k2", T0 + HOUR + 5 * MIN));
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e6", "k2", T0 + HOUR + 6 * MIN));
	cr_assert_eq(hl_world_case(f->w, id2)->status, HL_ST_CLOSED, "answered after the close: recorded only");
	fx_free(f);
}
