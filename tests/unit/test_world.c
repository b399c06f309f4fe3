/*
 * test_world.c - the in-memory world: deep copies, lookups, the caller's open
 * case, reserved ids across resets, and speed with thousands of rows.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules.h"

#define T0 1795165200000LL /* 2026-11-20T09:00:00Z */

static struct hl_case mk_case(int64_t id, const char *caller, enum hl_status st, hl_ms opened)
{
	struct hl_case c;
	memset(&c, 0, sizeof c);
	c.id = id;
	size_t n = strlen(caller);
	if (n >= sizeof c.caller)
		n = sizeof c.caller - 1;
	memcpy(c.caller, caller, n); /* plain copy: keeps -O3 format-truncation quiet */
	c.status = st;
	c.opened_at = opened;
	snprintf(c.policy, sizeof c.policy, "default");
	return c;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(world, empty_lookups)
{
	struct hl_world *w = hl_world_new();
	cr_assert_null(hl_world_case(w, 1));
	cr_assert_null(hl_world_call(w, "c-1"));
	cr_assert_null(hl_world_call(w, NULL));
	cr_assert_null(hl_world_caller(w, "+861"));
	cr_assert_null(hl_world_alert(w, 1));
	cr_assert_null(hl_world_alert(w, 0));
	cr_assert_null(hl_world_alert_by_dedupe(w, "x"));
	cr_assert_null(hl_world_open_case_of(w, "+861"));
	cr_assert_null(hl_world_open_case_of(w, NULL));
	cr_assert_not(hl_world_seen(w, "e1", NULL));
	cr_assert_eq(hl_world_free_id_count(w), 0);
	int64_t id;
	cr_assert_not(hl_world_take_free_id(w, &id));
	hl_world_reset(w);
	hl_world_free(w);
	hl_world_free(NULL);
}

Test(world, case_deep_copy_and_duplicate_key)
{
	struct hl_world *w = hl_world_new();
	struct hl_case c = mk_case(42, "+8613800000001", HL_ST_OPEN, T0);
	char cat[] = "fraud";
	c.category = cat;
	c.summary = "lost card";
	struct hl_case *got = hl_world_add_case(w, &c);
	cr_assert_neq(got, &c);
	cr_assert_neq(got->category, c.category, "strings must be copied");
	cat[0] = 'X'; /* changing the original does not change the world's copy */
	cr_assert_str_eq(got->category, "fraud");
	cr_assert_str_eq(got->summary, "lost card");
	cr_assert_null(got->department);
	cr_assert_eq(hl_world_case(w, 42), got);

	struct hl_case again = mk_case(42, "+8613800000009", HL_ST_CLOSED, T0 + 5);
	cr_assert_eq(hl_world_add_case(w, &again), got, "an existing key returns the existing row");
	cr_assert_str_eq(got->caller, "+8613800000001");
	cr_assert_eq(w->n_cases, 1);
	hl_world_free(w);
}

Test(world, call_caller_alert_seen)
{
	struct hl_world *w = hl_world_new();
	struct hl_call call;
	memset(&call, 0, sizeof call);
	char cid[] = "c-1";
	call.call_id = cid;
	call.case_id = 7;
	call.queue = "complaints";
	struct hl_call *gc = hl_world_add_call(w, &call);
	cid[0] = 'z';
	cr_assert_str_eq(gc->call_id, "c-1");
	cr_assert_eq(hl_world_call(w, "c-1"), gc);
	cr_assert_null(hl_world_call(w, "z-1"));
	cr_assert_str_eq(gc->queue, "complaints");

	hl_ms times[] = {T0 + 30, T0 + 10, T0 + 20};
	struct hl_caller r;
	memset(&r, 0, sizeof r);
	snprintf(r.caller, sizeof r.caller, "+8613800000001");
	r.inbound = times;
	r.n_inbound = r.cap_inbound = 3;
	struct hl_caller *gr = hl_world_add_caller(w, &r);
	cr_assert_neq(gr->inbound, times);
	cr_assert_eq(gr->n_inbound, 3);
	cr_assert_eq(gr->inbound[0], T0 + 10, "inbound is sorted on load");
	cr_assert_eq(gr->inbound[2], T0 + 30);
	hl_caller_add_inbound(gr, T0 + 15); /* out of order: inserted in place */
	hl_caller_add_inbound(gr, T0 + 40);
	hl_caller_add_inbound(gr, T0);
	hl_ms want[] = {T0, T0 + 10, T0 + 15, T0 + 20, T0 + 30, T0 + 40};
	cr_assert_eq(gr->n_inbound, 6);
	for (size_t i = 0; i < 6; i++)
		cr_assert_eq(gr->inbound[i], want[i]);
	cr_assert_eq(hl_world_caller(w, "+8613800000001"), gr);

	struct hl_alert a;
	memset(&a, 0, sizeof a);
	a.id = 9;
	snprintf(a.kind, sizeof a.kind, "callback_overdue");
	snprintf(a.dedupe, sizeof a.dedupe, "7:callback:1:overdue");
	a.detail = "x";
	struct hl_alert *ga = hl_world_add_alert(w, &a);
	cr_assert_eq(hl_world_alert(w, 9), ga);
	cr_assert_eq(hl_world_alert_by_dedupe(w, "7:callback:1:overdue"), ga);
	cr_assert_str_eq(ga->detail, "x");
	cr_assert_neq(ga->detail, a.detail);

	/* a new alert (id 0) is found by dedupe, not by id; numbering indexes it */
	struct hl_alert b;
	memset(&b, 0, sizeof b);
	snprintf(b.dedupe, sizeof b.dedupe, "repeat:+861:e1");
	struct hl_alert *gb = hl_world_add_alert(w, &b);
	cr_assert_eq(hl_world_add_alert(w, &b), gb, "same dedupe: same alert");
	cr_assert_null(hl_world_alert(w, 0));
	hl_world_set_alert_id(w, gb, 10);
	cr_assert_eq(hl_world_alert(w, 10), gb);
	cr_assert_eq(gb->id, 10);

	hl_world_add_seen(w, "e1", 7);
	hl_world_add_seen(w, "e1", 8); /* first one wins */
	int64_t cs = 0;
	cr_assert(hl_world_seen(w, "e1", &cs));
	cr_assert_eq(cs, 7);
	cr_assert(hl_world_seen(w, "e1", NULL));
	cr_assert_not(hl_world_seen(w, "e2", &cs));
	cr_assert_eq(w->n_seen, 1);
	/* the order an event was answered with: NULL not known, "" none */
	cr_assert_null(hl_world_seen_order(w, "e1"));
	hl_world_add_seen_order(w, "o1", 7, "wo-1");
	hl_world_add_seen_order(w, "o1", 7, "wo-2"); /* first one wins */
	hl_world_add_seen_order(w, "c1", 7, "");
	cr_assert_str_eq(hl_world_seen_order(w, "o1"), "wo-1");
	cr_assert_str_eq(hl_world_seen_order(w, "c1"), "");
	cr_assert_null(hl_world_seen_order(w, "nope"));
	hl_world_free(w);
}

Test(world, open_case_of_caller)
{
	struct hl_world *w = hl_world_new();
	const char *p = "+8613800000001";
	struct hl_case a = mk_case(1, p, HL_ST_OPEN, T0);
	struct hl_case b = mk_case(2, p, HL_ST_RESOLVED, T0 + 100);  /* most recent not closed */
	struct hl_case c = mk_case(3, p, HL_ST_CLOSED, T0 + 200);    /* closed: never */
	struct hl_case d = mk_case(4, "+8613800000002", HL_ST_OPEN, T0 + 300);
	hl_world_add_case(w, &a);
	hl_world_add_case(w, &b);
	hl_world_add_case(w, &c);
	hl_world_add_case(w, &d);
	cr_assert_eq(hl_world_open_case_of(w, p)->id, 2);
	cr_assert_eq(hl_world_open_case_of(w, "+8613800000002")->id, 4);
	cr_assert_null(hl_world_open_case_of(w, "+8613800000003"));

	/* status is read live: closing 2 makes 1 the open one, reopening 3 wins */
	hl_world_case(w, 2)->status = HL_ST_CLOSED;
	cr_assert_eq(hl_world_open_case_of(w, p)->id, 1);
	hl_world_case(w, 3)->status = HL_ST_OPEN;
	cr_assert_eq(hl_world_open_case_of(w, p)->id, 3);

	/* ties on opened_at: the highest id */
	struct hl_case e = mk_case(9, p, HL_ST_OPEN, T0 + 200);
	struct hl_case f = mk_case(5, p, HL_ST_OPEN, T0 + 200);
	hl_world_add_case(w, &e);
	hl_world_add_case(w, &f);
	cr_assert_eq(hl_world_open_case_of(w, p)->id, 9);
	hl_world_free(w);
}

Test(world, reset_keeps_unused_ids)
{
	struct hl_world *w = hl_world_new();
	int64_t ids[] = {100, 101, 102, 103};
	hl_world_add_free_ids(w, ids, 4);
	cr_assert_eq(hl_world_free_id_count(w), 4);
	int64_t id;
	cr_assert(hl_world_take_free_id(w, &id));
	cr_assert_eq(id, 100);
	cr_assert(hl_world_take_free_id(w, &id));
	cr_assert_eq(id, 101);
	cr_assert_eq(hl_world_free_id_count(w), 2);

	struct hl_case c = mk_case(100, "+8613800000001", HL_ST_OPEN, T0);
	c.category = "x";
	hl_world_add_case(w, &c);
	hl_world_add_seen(w, "e1", 100);
	struct hl_event ev;
	memset(&ev, 0, sizeof ev);
	hl_world_add_accepted(w, &ev, 100, "desc");
	cr_assert_eq(w->n_accepted, 1);
	cr_assert_str_eq(w->accepted[0].description, "desc");

	hl_world_reset(w);
	cr_assert_eq(w->n_cases, 0);
	cr_assert_eq(w->n_seen, 0);
	cr_assert_eq(w->n_accepted, 0);
	cr_assert_null(hl_world_case(w, 100));
	cr_assert_null(hl_world_open_case_of(w, "+8613800000001"));
	cr_assert_not(hl_world_seen(w, "e1", NULL));
	cr_assert_eq(hl_world_free_id_count(w), 2);
	cr_assert(hl_world_take_free_id(w, &id));
	cr_assert_eq(id, 102);
	int64_t more[] = {200};
	hl_world_add_free_ids(w, more, 1);
	cr_assert(hl_world_take_free_id(w, &id));
	cr_assert_eq(id, 103);
	cr_assert(hl_world_take_free_id(w, &id));
	cr_assert_eq(id, 200);
	cr_assert_not(hl_world_take_free_id(w, &id));

	/* the world is usable again after a reset */
	hl_world_add_case(w, &c);
	cr_assert_not_null(hl_world_case(w, 100));
	hl_world_free(w);
}

Test(world, long_description_truncated)
{
	struct hl_world *w = hl_world_new();
	char big[1000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	hl_world_add_accepted(w, NULL, 1, big);
	cr_assert_eq(strlen(w->accepted[0].description), sizeof w->accepted[0].description - 1);
	hl_world_add_accepted(w, NULL, 1, NULL);
	cr_assert_str_eq(w->accepted[1].description, "");
	hl_world_free(w);
}

Test(world, many_rows_fast)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct hl_world *w = hl_world_new();
	enum { N = 20000 };
	char buf[64];
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			snprintf(buf, sizeof buf, "+86138%08d", i % 5000); /* 4 cases per caller */
			struct hl_case c = mk_case(i + 1, buf, HL_ST_OPEN, T0 + i);
			hl_world_add_case(w, &c);
			struct hl_call call;
			memset(&call, 0, sizeof call);
			snprintf(buf, sizeof buf, "call-%d", i);
			call.call_id = buf;
			call.case_id = i + 1;
			hl_world_add_call(w, &call);
			snprintf(buf, sizeof buf, "ev-%d", i);
			hl_world_add_seen(w, buf, i + 1);
		}
		for (int i = 0; i < N; i++) {
			cr_assert_eq(hl_world_case(w, i + 1)->id, i + 1);
			snprintf(buf, sizeof buf, "call-%d", i);
			cr_assert_eq(hl_world_call(w, buf)->case_id, i + 1);
			snprintf(buf, sizeof buf, "ev-%d", i);
			cr_assert(hl_world_seen(w, buf, NULL));
		}
		for (int i = 0; i < 5000; i++) {
			snprintf(buf, sizeof buf, "+86138%08d", i);
			cr_assert_eq(hl_world_open_case_of(w, buf)->id, 15000 + i + 1, "most recent of 4");
		}
		hl_world_reset(w);
	}
	hl_world_free(w);
	cr_assert_lt(seconds_since(&t0), 5.0, "world operations must be O(1)");
}
