/*
 * test_slots.c - unit tests for daemon/slots.c: the fair share of clock slots.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "slots.h"

#define N 64

static int count(const bool *s)
{
	int n = 0;
	for (int i = 0; i < N; i++)
		n += s[i];
	return n;
}

Test(slots, slot_of_is_id_modulo)
{
	cr_assert_eq(hl_slot_of(0, 64), 0);
	cr_assert_eq(hl_slot_of(65, 64), 1);
	cr_assert_eq(hl_slot_of(-3, 64), 3);
	cr_assert_eq(hl_slot_of(12345, 1), 0);
}

Test(slots, shares_add_up)
{
	for (int peers = 1; peers <= 10; peers++) {
		int sum = 0;
		for (int r = 0; r < peers; r++)
			sum += hl_slot_share(N, peers, r);
		cr_assert_eq(sum, N, "%d peers", peers);
	}
	cr_assert_eq(hl_slot_share(64, 3, 0), 22);
	cr_assert_eq(hl_slot_share(64, 3, 2), 21);
}

/* Simulate daemons joining one by one: each asks for free slots, the ones with
 * too many release; in the end every slot has exactly one owner. */
Test(slots, daemons_converge_to_one_owner_per_slot)
{
	static bool owned[4][N], out[N], taken[N];
	memset(owned, 0, sizeof owned);
	for (int peers = 1; peers <= 4; peers++) {
		for (int round = 0; round < 4; round++)
			for (int r = 0; r < peers; r++) {
				memset(taken, 0, sizeof taken);
				for (int o = 0; o < peers; o++)
					for (int s = 0; o != r && s < N; s++)
						taken[s] |= owned[o][s];
				int k = hl_slot_plan(N, peers, r, owned[r], taken, out);
				for (int s = 0; s < N; s++)
					if (out[s])
						owned[r][s] = k > 0;
			}
		int total = 0;
		for (int r = 0; r < peers; r++) {
			total += count(owned[r]);
			cr_assert_eq(count(owned[r]), hl_slot_share(N, peers, r), "%d peers, rank %d", peers, r);
		}
		cr_assert_eq(total, N);
		for (int s = 0; s < N; s++) {
			int owners = 0;
			for (int r = 0; r < peers; r++)
				owners += owned[r][s];
			cr_assert_eq(owners, 1, "slot %d has %d owners with %d peers", s, owners, peers);
		}
	}
	/* with two daemons, consecutive ids alternate between them */
}

Test(slots, preferred_slots_interleave)
{
	bool owned[N] = {0}, taken[N] = {0}, out[N];
	cr_assert_eq(hl_slot_plan(N, 2, 1, owned, taken, out), 32);
	for (int s = 0; s < N; s++)
		cr_assert_eq(out[s], s % 2 == 1, "slot %d", s);
}

Test(slots, release_gives_back_the_unpreferred_first)
{
	bool owned[N], taken[N] = {0}, out[N];
	for (int s = 0; s < N; s++)
		owned[s] = true;
	cr_assert_eq(hl_slot_plan(N, 2, 0, owned, taken, out), -32);
	for (int s = 0; s < N; s++)
		cr_assert_eq(out[s], s % 2 == 1, "slot %d", s);
}

Test(slots, ranges_and_arrays)
{
	bool set[N] = {0};
	char buf[64];
	hl_slot_ranges(set, N, buf, sizeof buf);
	cr_assert_str_eq(buf, "none");
	set[0] = set[1] = set[2] = set[5] = set[63] = true;
	hl_slot_ranges(set, N, buf, sizeof buf);
	cr_assert_str_eq(buf, "0-2,5,63");
	char *a = hl_slot_array(set, N);
	cr_assert_str_eq(a, "{0,1,2,5,63}");
	free(a);
	memset(set, 0, sizeof set);
	a = hl_slot_array(set, N);
	cr_assert_str_eq(a, "{}");
	free(a);
}

Test(slots, names)
{
	int n;
	cr_assert_eq(hl_name_rank("a b c", "b", &n), 1);
	cr_assert_eq(n, 3);
	cr_assert_eq(hl_name_rank("", "b", &n), -1);
	cr_assert_eq(n, 0);
	cr_assert(hl_name_in("alpha beta", "beta"));
	cr_assert(!hl_name_in("alpha beta", "bet"));
}
