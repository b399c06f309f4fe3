/*
 * pos_table.h - small open-addressing hash tables from a key to a position
 * in an array of rows (pure: daemon/pos_table.c).
 *
 * The world of one batch (world.c) and its work-order and hotspot rows
 * (order_world.c, hotspot.c) keep their rows in arrays of pointers and find
 * them through these tables, so every lookup is O(1) instead of a scan of
 * the batch's rows.  Values are positions, never pointers, so growing an
 * array never invalidates a table.  String keys are not copied: they must
 * outlive the entry (they point into the rows themselves).  Nothing is ever
 * removed; a table is emptied in one go, keeping its memory, when the world
 * is reset for the next batch.  Linear probing, load kept under 70%.
 */
#ifndef HL_POS_TABLE_H
#define HL_POS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HL_NO_POS ((size_t)-1) /* "not in the table" */

/* String key -> position.  key == NULL marks an empty slot. */
struct hl_str_slot {
	const char *key;
	uint64_t hash;
	size_t val;
};
struct hl_str_table {
	struct hl_str_slot *slots;
	size_t cap, n; /* cap is 0 or a power of two */
};

/* Integer key -> position. */
struct hl_int_slot {
	int64_t key;
	size_t val;
	bool used;
};
struct hl_int_table {
	struct hl_int_slot *slots;
	size_t cap, n;
};

size_t hl_str_get(const struct hl_str_table *t, const char *key); /* HL_NO_POS when absent or key NULL */
void hl_str_put(struct hl_str_table *t, const char *key, size_t val); /* insert or overwrite */
void hl_str_clear(struct hl_str_table *t);                            /* empty, keep the memory */
size_t hl_int_get(const struct hl_int_table *t, int64_t key);
void hl_int_put(struct hl_int_table *t, int64_t key, size_t val);
void hl_int_clear(struct hl_int_table *t);

#endif
