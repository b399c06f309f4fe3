/*
 * slots.h - how several daemons share the clock slots (pure; used by cluster.c).
 *
 * Timers are partitioned into n_slots slots by the id of what they time
 * (slot = id % n_slots).  The live daemons, sorted by name, each run a fair
 * share: n_slots / n_peers, plus one for the first n_slots % n_peers.  A
 * daemon prefers the slots with slot % n_peers == its rank, so consecutive
 * case ids (a burst of new cases) spread over every daemon.
 */
#ifndef HL_SLOTS_H
#define HL_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int hl_slot_of(int64_t id, int n_slots);
/* How many slots the daemon of that rank (0-based, among n_peers) should run. */
int hl_slot_share(int n_slots, int n_peers, int rank);
/* What to do now: marks in out[] the slots to ask for (free ones: neither
 * owned nor taken by a peer) and returns how many (> 0), or marks the slots to
 * release and returns minus how many (< 0), or 0 when the share is right. */
int hl_slot_plan(int n_slots, int n_peers, int rank, const bool *owned, const bool *taken, bool *out);
/* "0-3,7,9-12" ("none" when empty), cut short to fit len. */
void hl_slot_ranges(const bool *set, int n_slots, char *buf, size_t len);
/* "{0,3,7}": a PostgreSQL int[] literal of the set (malloc'd). */
char *hl_slot_array(const bool *set, int n_slots);
/* Names in a space-separated list: is name there; its 0-based rank (-1 if
 * absent); how many names (*count). */
bool hl_name_in(const char *list, const char *name);
int hl_name_rank(const char *list, const char *name, int *count);

#endif
