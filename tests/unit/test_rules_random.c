/*
 * test_rules_random.c - the case rules under random call-centre traffic:
 * 3000 random sequences of calls, contacts, holds, resumes, resolutions,
 * closes, reopens and surveys on two cases of one caller, a quarter of them
 * delivered late (their `at` up to 8h before the wall clock, which only
 * moves forward), with every due timer fired as the wall clock passes it.
 * After each event the states must stay coherent, whatever the order of
 * delivery (review-clocks):
 *
 *  - a paused clock has no more time left than its allowance plus the time
 *    the case has spent on hold (a late hold must not grant extra time);
 *  - an open case that is not on hold has its resolution and update clocks
 *    running (pending or breached), never paused, met or stopped;
 *  - a resolved case's update clock does not run; a closed case runs none;
 *  - a case on hold is not closed;
 *  - a met survey was met no earlier than its run started (a survey
 *    result dated before the resolution that armed it answers an earlier
 *    survey), nor the met resolution of a reopened case (a resolve dated
 *    before the reopen was superseded by it: review-rules2), and a pending
 *    clock is not due before its run started.
 *
 * The generator is a fixed xorshift, so a failure is reproducible; the
 * message lists the sequence (event kind @ minutes from T0, "!" = refused).
 */
#include <criterion/criterion.h>
#include "rules_fixtures.h"
static uint64_t rs = 88172645463325252ULL;
static uint64_t rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
static char ids[4096][16];
Test(random, states_stay_coherent_out_of_order)
{
	for (int round = 0; round < 3000; round++) {
	struct fx *f = fx_new();
	f->cfg.sla.survey_ms = 2 * HOUR;
	hl_ms wall = T0;
	char log[8192]; size_t ll = 0; log[0] = 0;
	const char *calls[] = {"c1","c2","c3","c4","c5","c6"};
	int ncalls = 0;
	for (int i = 0; i < 60 && f->n_pool < 4000; i++) {
		wall += (int64_t)(rnd() % (6 * HOUR));
		hl_ms at = wall - (int64_t)(rnd() % 4 == 0 ? rnd() % (8 * HOUR) : 0);
		int k = (int)(rnd() % 13);
		snprintf(ids[f->n_pool], 16, "e%zu", f->n_pool);
		struct hl_event e;
		switch (k) {
		case 0: if (ncalls < 6) { e = E(HL_EV_CALL_OFFERED, ids[f->n_pool], at); e.call_id = (char*)calls[ncalls++]; snprintf(e.caller, sizeof e.caller, "%s", P1); break; } /* fallthrough */
		case 1: e = E(HL_EV_CALL_ANSWERED, ids[f->n_pool], at); e.call_id = (char*)calls[rnd()% (ncalls?ncalls:1)]; e.agent="a"; break;
		case 2: e = E(HL_EV_CALL_ABANDONED, ids[f->n_pool], at); e.call_id = (char*)calls[rnd()% (ncalls?ncalls:1)]; break;
		case 3: e = E(HL_EV_CALLBACK_ATTEMPT, ids[f->n_pool], at); e.result = "reached"; e.case_id = 100 + (int64_t)(rnd()%2); break;
		case 4: e = E(HL_EV_CASE_UPDATE, ids[f->n_pool], at); e.caller_informed = 1; e.case_id = 100 + (int64_t)(rnd()%2); break;
		case 5: case 6: e = E(HL_EV_CASE_HOLD, ids[f->n_pool], at); e.case_id = 100 + (int64_t)(rnd()%2); break;
		case 7: case 8: e = E(HL_EV_CASE_RESUME, ids[f->n_pool], at); e.case_id = 100 + (int64_t)(rnd()%2); break;
		case 9: e = E(HL_EV_CASE_RESOLVE, ids[f->n_pool], at); e.case_id = 100 + (int64_t)(rnd()%2); break;
		case 10: e = E(HL_EV_CASE_CLOSE, ids[f->n_pool], at); e.case_id = 100 + (int64_t)(rnd()%2); break;
		case 11: e = E(HL_EV_CASE_REOPEN, ids[f->n_pool], at); e.case_id = 100 + (int64_t)(rnd()%2); break;
		default: e = E(HL_EV_SURVEY_RESULT, ids[f->n_pool], at); e.score = 1 + (int)(rnd()%5); e.case_id = 100 + (int64_t)(rnd()%2); break;
		}
		e.received = wall;
		struct hl_event *ev = &f->pool[f->n_pool++];
		*ev = e;
		f->env.now = wall;
		hl_rules_apply(f->w, &f->env, ev, &f->out);
		ll += (size_t)snprintf(log + ll, sizeof log - ll > 0 ? sizeof log - ll : 0, "%d@%+lldm%s ", k, (long long)((at - T0) / MIN), f->out.err ? "!" : "");
		if (ll >= sizeof log) ll = sizeof log - 1;
		/* fire timers */
		for (size_t ci = 0; ci < f->w->n_cases; ci++) {
			struct hl_case *c = f->w->cases[ci];
			for (int kk = 0; kk < HL_CK__COUNT; kk++) {
				struct hl_clock *kc = &c->clocks[kk];
				hl_ms nf = hl_clock_next_fire(kc);
				if (nf && nf < wall) { f->env.now = wall; hl_rules_clock_fire(f->w, &f->env, c->id, kk, kc->seq); }
			}
		}
		for (size_t ci = 0; ci < f->w->n_cases; ci++) {
			struct hl_case *c = f->w->cases[ci];
			for (int kk = 0; kk < HL_CK__COUNT; kk++) {
				struct hl_clock *kc = &c->clocks[kk];
				if (kc->state == HL_CS_PAUSED)
					cr_expect_leq(kc->remaining_ms, kc->allowed_ms + c->held_ms, "case %lld clock %d paused %lld > allowed %lld: %s", (long long)c->id, kk, (long long)kc->remaining_ms, (long long)kc->allowed_ms, log);
				/* (the survey and the resolution only: the answer of a call
				 * reported abandoned meets the callback it made owed even when
				 * dated before it, docs/rules.md; a case.resolve dated before
				 * the reopen that started the resolution run is recorded only
				 * since review-rules2; one dated before the case opened, a
				 * skewed clock, still resolves it) */
				if (kc->state == HL_CS_MET && (kk == HL_CK_SURVEY || (kk == HL_CK_RESOLUTION && c->reopens > 0)))
					cr_expect_geq(kc->met_at, kc->started_at, "case %lld clock %d met before its run started: %s", (long long)c->id, kk, log);
				if (kc->state == HL_CS_PENDING && kc->seq > 0)
					cr_expect_geq(kc->due_at, kc->started_at, "case %lld clock %d due before its run started: %s", (long long)c->id, kk, log);
				if (c->status == HL_ST_OPEN && !c->on_hold)
					cr_expect_neq(kc->state, HL_CS_PAUSED, "case %lld open not held, clock %d paused: %s", (long long)c->id, kk, log);
				if (c->status == HL_ST_CLOSED)
					cr_expect(kc->state != HL_CS_PENDING && kc->state != HL_CS_PAUSED, "closed case %lld clock %d running: %s", (long long)c->id, kk, log);
			}
			if (c->on_hold) cr_expect_neq(c->status, HL_ST_CLOSED);
			if (c->status == HL_ST_OPEN && !c->on_hold) {
				int rsx = c->clocks[HL_CK_RESOLUTION].state, usx = c->clocks[HL_CK_UPDATE].state;
				cr_expect(rsx == HL_CS_PENDING || rsx == HL_CS_BREACHED, "open case %lld resolution state %d: %s", (long long)c->id, rsx, log);
				cr_expect(usx == HL_CS_PENDING || usx == HL_CS_BREACHED, "open case %lld update state %d: %s", (long long)c->id, usx, log);
			}
			if (c->status == HL_ST_RESOLVED) {
				int usx = c->clocks[HL_CK_UPDATE].state;
				cr_expect(usx != HL_CS_PENDING && usx != HL_CS_PAUSED, "resolved case %lld update state %d: %s", (long long)c->id, usx, log);
			}
		}
	}
	fx_free(f);
	}
}
