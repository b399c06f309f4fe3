/*
 * slots.c - the fair share of clock slots between daemons (pure).
 *
 * cluster.c learns from PostgreSQL who is alive and who holds which slot; the
 * decisions - how many slots this daemon should run, which to ask for, which
 * to give back - are made here, without a database, so they are unit-tested
 * (tests/unit/test_slots.c).  Every daemon computes the same shares from the
 * same sorted list of names, so together they ask for every slot exactly once
 * once the list is stable; the advisory locks settle any transient overlap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slots.h"

int hl_slot_of(int64_t id, int n_slots)
{
	int64_t s = id % n_slots;
	return (int)(s < 0 ? -s : s);
}

int hl_slot_share(int n_slots, int n_peers, int rank)
{
	if (n_peers < 1)
		n_peers = 1;
	return n_slots / n_peers + (rank < n_slots % n_peers ? 1 : 0);
}

int hl_slot_plan(int n_slots, int n_peers, int rank, const bool *owned, const bool *taken, bool *out)
{
	int held = 0, target = hl_slot_share(n_slots, n_peers, rank);
	if (n_peers < 1)
		n_peers = 1;
	memset(out, 0, (size_t)n_slots * sizeof *out);
	for (int s = 0; s < n_slots; s++)
		held += owned[s];
	if (held > target) {
		/* give back the slots we do not prefer first, the highest first */
		int extra = held - target, n = 0;
		for (int i = 0; i < 2 * n_slots && n < extra; i++) {
			int s = n_slots - 1 - i % n_slots;
			bool preferred = s % n_peers == rank;
			if (owned[s] && !out[s] && preferred == (i >= n_slots))
				out[s] = true, n++;
		}
		return -n;
	}
	int want = target - held, n = 0;
	/* ask for the free slots we prefer first, then any free one */
	for (int i = 0; i < 2 * n_slots && n < want; i++) {
		int s = i % n_slots;
		bool preferred = s % n_peers == rank;
		if (!owned[s] && !taken[s] && !out[s] && preferred == (i < n_slots))
			out[s] = true, n++;
	}
	return n;
}

void hl_slot_ranges(const bool *set, int n_slots, char *buf, size_t len)
{
	size_t used = 0;
	if (len == 0)
		return;
	buf[0] = '\0';
	for (int s = 0; s < n_slots && used + 24 < len; s++) {
		if (!set[s])
			continue;
		int e = s;
		while (e + 1 < n_slots && set[e + 1])
			e++;
		used += (size_t)snprintf(buf + used, len - used, "%s%d", used ? "," : "", s);
		if (e > s)
			used += (size_t)snprintf(buf + used, len - used, "-%d", e);
		s = e;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

char *hl_slot_array(const bool *set, int n_slots)
{
	size_t cap = (size_t)n_slots * 6 + 3, used = 1;
	char *b = malloc(cap);
	if (!b)
		abort();
	b[0] = '{';
	for (int s = 0; s < n_slots; s++)
		if (set[s])
			used += (size_t)snprintf(b + used, cap - used, "%s%d", used > 1 ? "," : "", s);
	snprintf(b + used, cap - used, "}");
	return b;
}

int hl_name_rank(const char *list, const char *name, int *count)
{
	int n = 0, rank = -1;
	size_t nl = strlen(name);
	for (const char *p = list ? list : ""; *p;) {
		size_t l = strcspn(p, " ");
		if (l > 0) {
			if (l == nl && strncmp(p, name, nl) == 0 && rank < 0)
				rank = n;
			n++;
		}
		p += l;
		while (*p == ' ')
			p++;
	}
	if (count)
		*count = n;
	return rank;
}

bool hl_name_in(const char *list, const char *name)
{
	return hl_name_rank(list, name, NULL) >= 0;
}
