/*
 * test_withheld.c - calls without a number (docs/rules.md, "Withheld
 * numbers"; daemon/rules_withheld.c): "withheld": true gives the call a
 * caller of its own, derived from its call_id, so it is counted but never
 * joins another caller's case; no call back is ever owed to such a case;
 * an unanswered one is closed at once.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "protocol.h"
#include "rules.h"
#include "rules_fixtures.h"

static struct hl_event parsed[16];
static int n_parsed;

static struct hl_event *parse_line(const char *line, enum hl_err want, const char *want_msg)
{
	struct hl_event *ev = &parsed[n_parsed++];
	struct hl_error err;
	memset(&err, 0, sizeof err);
	enum hl_err rc = hl_parse_request(line, strlen(line), T0, ev, &err);
	cr_assert_eq(rc, want, "%s: got %d (%s)", line, rc, err.message);
	if (want_msg)
		cr_assert_str_eq(err.message, want_msg);
	return ev;
}

static void free_parsed(void)
{
	for (int i = 0; i < n_parsed; i++)
		hl_event_free(&parsed[i]);
	n_parsed = 0;
}

Test(withheld, a_withheld_call_gets_a_caller_of_its_own)
{
	struct hl_event *a = parse_line("{\"type\":\"call.offered\",\"id\":\"w1\",\"call_id\":\"1733390000.12\",\"withheld\":true}",
	                                HL_OK, NULL);
	struct hl_event *b = parse_line("{\"type\":\"call.abandoned\",\"id\":\"w2\",\"call_id\":\"1733390000.12\",\"withheld\":true}",
	                                HL_OK, NULL);
	struct hl_event *c = parse_line("{\"type\":\"call.offered\",\"id\":\"w3\",\"call_id\":\"1733390000.13\",\"withheld\":true}",
	                                HL_OK, NULL);
	cr_assert(a->withheld);
	cr_assert_eq(strncmp(a->caller, "withheld:", 9), 0, "%s", a->caller);
	cr_assert_eq(strlen(a->caller), 9 + 16);
	cr_assert_str_eq(a->caller, b->caller, "the same call, the same caller (retries too)");
	cr_assert_str_neq(a->caller, c->caller, "another call, another caller");
	cr_assert(hl_caller_withheld(a->caller));
	cr_assert(!hl_caller_withheld("+8613800000001"));
	free_parsed();
}

Test(withheld, contradictions_and_the_old_rule_are_refused)
{
	parse_line("{\"type\":\"call.offered\",\"id\":\"w1\",\"call_id\":\"c1\",\"withheld\":true,\"caller\":\"+8613800000001\"}",
	           HL_E_BAD_REQUEST, "withheld: a withheld call has no caller; send one or the other");
	parse_line("{\"type\":\"call.offered\",\"id\":\"w2\",\"call_id\":\"c1\",\"withheld\":\"yes\"}", HL_E_BAD_REQUEST,
	           "withheld: must be true or false");
	parse_line("{\"type\":\"call.offered\",\"id\":\"w3\",\"call_id\":\"c1\",\"withheld\":false}", HL_E_BAD_REQUEST,
	           "caller: missing");
	parse_line("{\"type\":\"call.offered\",\"id\":\"w4\",\"call_id\":\"c1\"}", HL_E_BAD_REQUEST, "caller: missing");
	/* an event that carries no caller ignores it, as any other unknown member */
	struct hl_event *e = parse_line("{\"type\":\"call.answered\",\"id\":\"w5\",\"call_id\":\"c1\",\"agent\":\"a\",\"withheld\":true}",
	                                HL_OK, NULL);
	cr_assert(!e->withheld);
	free_parsed();
}

static struct hl_outcome *withheld_call(struct fx *f, enum hl_type t, const char *id, const char *call, hl_ms at)
{
	struct hl_event e = E(t, id, at);
	e.call_id = (char *)call;
	e.withheld = true;
	snprintf(e.caller, sizeof e.caller, "withheld:%016x", (unsigned)strlen(call) * 7919u + (unsigned)call[0]);
	return apply(f, e);
}

Test(withheld, an_unanswered_withheld_call_is_counted_owes_nothing_and_leaves_no_open_case)
{
	struct fx *f = fx_new();
	ok(withheld_call(f, HL_EV_CALL_OFFERED, "e1", "k1", T0));
	int64_t id1 = f->out.case_id;
	ok(withheld_call(f, HL_EV_CALL_OFFERED, "e2", "k22", T0 + SEC));
	int64_t id2 = f->out.case_id;
	cr_assert_neq(id1, id2, "two withheld calls are two cases: nobody can tell they are one caller");
	cr_assert(strstr(last_desc(f), "a withheld number"), "%s", last_desc(f));
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e3", "k1", T0 + 30 * SEC));
	cr_assert(strstr(last_desc(f), "no number to call back"), "%s", last_desc(f));
	cr_assert_eq(clk(f, id1, HL_CK_CALLBACK)->state, HL_CS_NONE, "no callback armed");
	struct hl_case *c = hl_world_case(f->w, id1);
	cr_assert_eq(c->status, HL_ST_CLOSED, "nothing to follow: closed");
	cr_assert_eq(clk(f, id1, HL_CK_RESOLUTION)->state, HL_CS_STOPPED);
	cr_assert_eq(clk(f, id1, HL_CK_UPDATE)->state, HL_CS_STOPPED);
	/* an abandonment of a call never offered, withheld: offered, then closed */
	ok(withheld_call(f, HL_EV_CALL_ABANDONED, "e4", "k333", T0 + MIN));
	cr_assert_eq(hl_world_case(f->w, f->out.case_id)->status, HL_ST_CLOSED);
	cr_assert_eq(clk(f, f->out.case_id, HL_CK_CALLBACK)->state, HL_CS_NONE);
	fx_free(f);
}

Test(withheld, an_answered_withheld_call_runs_as_any_case_but_owes_no_callback)
{
	struct fx *f = fx_new();
	ok(withheld_call(f, HL_EV_CALL_OFFERED, "e1", "k1", T0));
	int64_t id = f->out.case_id;
	ok(on_call(f, HL_EV_CALL_ANSWERED, "e2", "k1", T0 + 10 * SEC));
	ok(ended(f, "e3", "k1", "followup", T0 + 5 * MIN));
	cr_assert(strstr(last_desc(f), "no number to call back"), "%s", last_desc(f));
	cr_assert_eq(clk(f, id, HL_CK_CALLBACK)->state, HL_CS_NONE, "a promise nobody can keep by phone: not armed");
	struct hl_case *c = hl_world_case(f->w, id);
	cr_assert_eq(c->status, HL_ST_OPEN, "the agent spoke to the caller: the matter goes on");
	cr_assert_eq(clk(f, id, HL_CK_RESOLUTION)->state, HL_CS_PENDING);
	/* an abandonment reported for the answered call closes nothing */
	ok(on_call(f, HL_EV_CALL_ABANDONED, "e4", "k1", T0 + 6 * MIN));
	cr_assert_eq(c->status, HL_ST_OPEN);
	fx_free(f);
}
