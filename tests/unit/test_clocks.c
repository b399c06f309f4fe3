/*
 * test_clocks.c - unit tests for daemon/clocks.c without an event loop: the
 * heap, the hash and clocks_due_by(), the count the store asks before it
 * takes a batch of requests (store.c: a burst of due clocks ahead keeps
 * that batch small).  No timer is armed (clocks_init is not called), so
 * clocks_set only orders entries.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "daemon.h"

/* clocks.o needs these two of process.c; the tests never reach them */
struct hl_daemon *hl;
hl_ms now_ms(void) { return 0; }

static void clear(void) { clocks_free(); }

TestSuite(clocks, .fini = clear);

Test(clocks, due_by_counts_what_falls_due_up_to_the_cap)
{
	cr_assert_eq(clocks_due_by(1000, 16), 0, "no clocks: nothing due");
	for (int64_t id = 1; id <= 1000; id++)
		clocks_set(id, 0, 1, 10000 + id); /* due at 10,001 .. 11,000 */
	/* a clock fires once its due millisecond has passed: 10,002 .. 11,001 */
	cr_assert_eq(clocks_due_by(10001, 16), 0);
	cr_assert_eq(clocks_due_by(10005, 16), 4);
	cr_assert_eq(clocks_due_by(10017, 16), 16);
	cr_assert_eq(clocks_due_by(20000, 16), 16, "capped");
	cr_assert_eq(clocks_due_by(20000, 1000), 64, "the cap is at most 64");
	cr_assert_eq(clocks_pending(-1), 1000);
}

Test(clocks, due_by_follows_changes_and_removals)
{
	/* inserted latest first, so the heap is reordered on every insert */
	for (int64_t id = 100; id >= 1; id--)
		clocks_set(id, 1, 1, 5000 + 10 * id);
	cr_assert_eq(clocks_due_by(5035, 64), 3); /* 5010, 5020, 5030 */
	clocks_set(2, 1, 2, 9999);                 /* moved later */
	cr_assert_eq(clocks_due_by(5035, 64), 2);
	clocks_set(50, 1, 2, 5001);                /* moved earlier */
	cr_assert_eq(clocks_due_by(5035, 64), 3);
	clocks_set(1, 1, 0, 0);                    /* removed */
	clocks_set(3, 1, 0, 0);
	cr_assert_eq(clocks_due_by(5035, 64), 1);
	cr_assert_eq(clocks_pending(1), 98);
}

Test(clocks, due_by_visits_few_entries_among_many)
{
	/* a million clocks, a handful due: the walk stops at the later ones */
	for (int64_t id = 1; id <= 1000000; id++)
		clocks_set(id, 2, 1, id % 100000 == 0 ? 100 : 1000000 + id);
	cr_assert_eq(clocks_due_by(100, 64), 0, "due at 100: fires at 101");
	cr_assert_eq(clocks_due_by(101, 64), 10);
	cr_assert_eq(clocks_due_by(999999, 64), 10);
	cr_assert_eq(clocks_due_by(1000006, 64), 15); /* and ids 1..5 */
}

/* A calendar with no open time ahead gives a deadline of INT64_MAX ("never",
 * calendar.c): the one-millisecond step past the due time (clocks.c, "The
 * edge of a deadline") must not overflow it, and it never falls due. */
Test(clocks, never_due_does_not_overflow)
{
	clocks_set(1, 0, 1, INT64_MAX);
	clocks_set(2, 0, 1, 5000);
	cr_assert_eq(clocks_due_by(INT64_MAX - 1, 64), 1, "only the one due at 5000");
	cr_assert_eq(clocks_pending(0), 2);
}
