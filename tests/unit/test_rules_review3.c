/*
 * test_rules_review3.c - the case rules' defects of review-rules3, each
 * pinned where it was found: the same events delivered in another order
 * than their `at` must leave the case as the events in order would.
 *
 *  - a withheld call's abandonment closes its case, but the answer of that
 *    call dated before the abandonment, delivered after it, opens it again
 *    (in order the call was answered: nothing closed it).
 *
 *  - repeat_caller: the alerts one number's calls raise do not depend on
 *    the order in which the calls arrive (every permutation of a handful
 *    of calls raises what the calls in order raise);
 *  - a contact dated during or before a hold, delivered after it, gets the
 *    held time; a hold dated inside a resumed hold is recorded only.
 *
 * The fixture is rules_fixtures.h (wall clock).
 */
#include <criterion/criterion.h>

#include "rules_fixtures.h"

/* ------------------------------------------------------ repeat_caller */

/* Apply the calls of one caller (times in minutes after T0) in the order
 * `perm` gives, each as its own call; the number of repeat_caller alerts. */
static size_t repeat_alerts(const int *mins, const int *perm, int n)
{
	struct fx *f = fx_new();
	char calls[16][16]; /* the events borrow them until the world is freed */
	for (int i = 0; i < n && i < 16; i++) {
		char id[16];
		snprintf(id, sizeof id, "e%d", perm[i]);
		snprintf(calls[i], sizeof calls[i], "c%d", perm[i]);
		ok(offered(f, id, calls[i], P1, T0 + mins[perm[i]] * MIN));
	}
	size_t k = count_alerts(f, "repeat_caller");
	fx_free(f);
	return k;
}

static bool next_perm(int *a, int n)
{
	int i = n - 2;
	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	int j = n - 1;
	while (a[j] <= a[i])
		j--;
	int t = a[i]; a[i] = a[j]; a[j] = t;
	for (int l = i + 1, r = n - 1; l < r; l++, r--) {
		t = a[l]; a[l] = a[r]; a[r] = t;
	}
	return true;
}

/* Calls at 09:00, 09:10, 09:15, 09:20, 09:30, 09:40 (threshold 3, window
 * 24h): in order two alerts (09:15, 09:40).  The 09:15 call delivered last
 * found the first alert's window ending at 09:20 and was not counted (it is
 * dated before repeat_alerted_at): one alert. */
Test(review3, repeat_caller_alerts_do_not_depend_on_the_order_of_delivery)
{
	static const int mins[] = {0, 10, 15, 20, 30, 40};
	int perm[6] = {0, 1, 2, 3, 4, 5};
	size_t in_order = repeat_alerts(mins, perm, 6);
	cr_assert_eq(in_order, 2);
	int late[6] = {0, 1, 3, 4, 5, 2};
	cr_assert_eq(repeat_alerts(mins, late, 6), in_order, "09:15 delivered last");
	do {
		size_t k = repeat_alerts(mins, perm, 6);
		cr_assert_eq(k, in_order, "order %d%d%d%d%d%d: %zu alerts, in order %zu", perm[0], perm[1], perm[2], perm[3],
		             perm[4], perm[5], k, in_order);
	} while (next_perm(perm, 6));
}

/* A caller keeps its last HL_REPEAT_KEEP crossings; the one before them
 * becomes the floor (the store then loads only the calls after it).  Calls
 * every 10 minutes: crossings at 00:20, 00:50 and 01:20; the first is the
 * floor.  A late call dated after the floor re-follows the chain and gives
 * the alerts of the same calls in order; one dated at or before it is not
 * counted. */
Test(review3, a_caller_keeps_its_last_crossings_and_the_one_before_is_the_floor)
{
	cr_assert_eq(HL_REPEAT_KEEP, 2, "this test is written for two kept crossings");
	struct fx *f = fx_new();
	char ids[10][8], calls[10][8];
	for (int i = 0; i < 9; i++) {
		snprintf(ids[i], sizeof ids[i], "e%d", i);
		snprintf(calls[i], sizeof calls[i], "c%d", i);
		ok(offered(f, ids[i], calls[i], P1, T0 + i * 10 * MIN));
	}
	struct hl_caller *r = hl_world_caller(f->w, P1);
	cr_assert_eq(count_alerts(f, "repeat_caller"), 3);
	cr_assert_eq(r->n_repeat_crossings, 2);
	cr_assert_eq(r->repeat_crossings[0], T0 + 50 * MIN);
	cr_assert_eq(r->repeat_crossings[1], T0 + 80 * MIN);
	cr_assert_eq(r->repeat_floor, T0 + 20 * MIN);
	/* dated before the floor: not counted, no alert */
	ok(offered(f, "late-1", "cl1", P1, T0 + 15 * MIN));
	cr_assert_eq(count_alerts(f, "repeat_caller"), 3);
	fx_free(f);

	/* dated after the floor: as in order */
	static const int mins[] = {0, 10, 20, 30, 35, 40, 50, 60, 70, 80};
	int in_order[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	int late[10] = {0, 1, 2, 3, 5, 6, 7, 8, 9, 4};
	cr_assert_eq(repeat_alerts(mins, late, 10), repeat_alerts(mins, in_order, 10), "00:35 delivered last");
}

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

/* ------------------------------------------------- contacts and holds */

static struct hl_outcome *told(struct fx *f, const char *id, int64_t case_id, hl_ms at)
{
	struct hl_event e = E(HL_EV_CASE_UPDATE, id, at);
	e.case_id = case_id;
	e.caller_informed = 1;
	return apply(f, e);
}

/* hold 10:00, resume 11:00, then a contact dated 10:30 arrives: in order it
 * armed the update paused with its whole allowance and the resume ran it
 * from 11:00.  It restarted the clock from 10:30 as if nothing was held:
 * due 30 minutes early. */
Test(review3, a_contact_dated_during_a_resumed_hold_runs_from_the_resume)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + HOUR));
	ok(case_ev(f, HL_EV_CASE_RESUME, "e3", 100, T0 + 2 * HOUR));
	ok(told(f, "e4", 100, T0 + HOUR + 30 * MIN));
	struct hl_clock *u = clk(f, 100, HL_CK_UPDATE);
	cr_assert_eq(u->state, HL_CS_PENDING);
	cr_assert_eq(u->due_at, T0 + 2 * HOUR + 24 * HOUR, "%s", last_desc(f));
	cr_assert_eq(u->started_at, T0 + HOUR + 30 * MIN);
	cr_assert_eq(u->warn_at, T0 + 2 * HOUR + (int64_t)(24 * HOUR * 0.8));
	/* the same events in order */
	struct fx *g = fx_new();
	ok(offered(g, "e1", "c-1", P1, T0));
	ok(case_ev(g, HL_EV_CASE_HOLD, "e2", 100, T0 + HOUR));
	ok(told(g, "e4", 100, T0 + HOUR + 30 * MIN));
	ok(case_ev(g, HL_EV_CASE_RESUME, "e3", 100, T0 + 2 * HOUR));
	cr_assert_eq(clk(g, 100, HL_CK_UPDATE)->due_at, u->due_at);
	cr_assert_eq(clk(g, 100, HL_CK_UPDATE)->warn_at, u->warn_at);
	fx_free(g);
	fx_free(f);
}

/* A contact dated before the hold: in order the run consumed 30 minutes,
 * paused for the hour on hold, and ran the rest from the resume. */
Test(review3, a_contact_dated_before_a_hold_gets_the_held_time)
{
	static const int resumed_first[] = {1, 0};
	for (int v = 0; v < 2; v++) {
		struct fx *f = fx_new();
		ok(offered(f, "e1", "c-1", P1, T0));
		ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + HOUR));
		if (resumed_first[v])
			ok(case_ev(f, HL_EV_CASE_RESUME, "e3", 100, T0 + 2 * HOUR));
		ok(told(f, "e4", 100, T0 + 30 * MIN)); /* delivered after the hold (and its resume) */
		if (!resumed_first[v]) {
			cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->state, HL_CS_PAUSED);
			cr_assert_eq(clk(f, 100, HL_CK_UPDATE)->remaining_ms, 24 * HOUR - 30 * MIN, "%s", last_desc(f));
			ok(case_ev(f, HL_EV_CASE_RESUME, "e3", 100, T0 + 2 * HOUR));
		}
		struct hl_clock *u = clk(f, 100, HL_CK_UPDATE);
		cr_assert_eq(u->state, HL_CS_PENDING);
		cr_assert_eq(u->due_at, T0 + 30 * MIN + HOUR + 24 * HOUR, "variant %d: %s", v, last_desc(f));
		fx_free(f);
	}
}

/* A hold dated inside a hold that has been resumed since: in order the
 * resume ended it.  It put the case on hold again, until someone resumed it. */
Test(review3, a_hold_dated_before_the_last_resume_is_recorded_only)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e2", 100, T0 + HOUR));
	ok(case_ev(f, HL_EV_CASE_RESUME, "e3", 100, T0 + 2 * HOUR));
	hl_ms due = clk(f, 100, HL_CK_RESOLUTION)->due_at;
	ok(case_ev(f, HL_EV_CASE_HOLD, "e4", 100, T0 + HOUR + 30 * MIN));
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_not(c->on_hold, "%s", last_desc(f));
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_PENDING);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->due_at, due);
	cr_assert(strstr(last_desc(f), "recorded only"), "%s", last_desc(f));
	/* a hold after the resume holds as ever */
	ok(case_ev(f, HL_EV_CASE_HOLD, "e5", 100, T0 + 3 * HOUR));
	cr_assert(c->on_hold);
	fx_free(f);
}
/* A resolution ends a hold; a hold of a resolved case put it "on hold"
 * while resolved, and the reopen (or close) counted the time since as
 * held.  It is recorded only. */
Test(review3, a_hold_of_a_resolved_case_is_recorded_only)
{
	struct fx *f = fx_new();
	ok(offered(f, "e1", "c-1", P1, T0));
	ok(case_ev(f, HL_EV_CASE_RESOLVE, "e2", 100, T0 + HOUR));
	ok(case_ev(f, HL_EV_CASE_HOLD, "e3", 100, T0 + 2 * HOUR));
	struct hl_case *c = hl_world_case(f->w, 100);
	cr_assert_not(c->on_hold, "%s", last_desc(f));
	cr_assert(strstr(last_desc(f), "case 100 is resolved: nothing to hold, recorded only"), "%s", last_desc(f));
	ok(case_ev(f, HL_EV_CASE_REOPEN, "e4", 100, T0 + 5 * HOUR));
	cr_assert_eq(c->held_ms, 0);
	cr_assert_eq(clk(f, 100, HL_CK_RESOLUTION)->state, HL_CS_PENDING);
	fx_free(f);
}
