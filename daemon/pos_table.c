/*
 * pos_table.c - key -> array position hash tables (see include/pos_table.h).
 *
 * Moved out of world.c so that the work-order and hotspot rows (order_world.c,
 * hotspot.c) index their arrays with the same code instead of scanning them
 * with strcmp (which made a batch of n order events cost O(n^2)).  Pure.
 * Out of memory aborts, as everywhere in the core (hl_xcalloc).
 */
#include <stdlib.h>
#include <string.h>

#include "pos_table.h"
#include "rules.h"

static uint64_t hash_int(int64_t k)
{
	uint64_t x = (uint64_t)k; /* splitmix64 finaliser */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static struct hl_str_slot *str_find_slot(struct hl_str_slot *slots, size_t cap, const char *key, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);
	while (slots[i].key && (slots[i].hash != h || strcmp(slots[i].key, key) != 0))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

size_t hl_str_get(const struct hl_str_table *t, const char *key)
{
	if (!t->cap || !key)
		return HL_NO_POS;
	struct hl_str_slot *s = str_find_slot(t->slots, t->cap, key, hl_hash_str(key));
	return s->key ? s->val : HL_NO_POS;
}

static void str_rehash(struct hl_str_table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64;
	struct hl_str_slot *ns = hl_xcalloc(ncap, sizeof *ns);
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slots[i].key)
			continue;
		*str_find_slot(ns, ncap, t->slots[i].key, t->slots[i].hash) = t->slots[i];
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
}

void hl_str_put(struct hl_str_table *t, const char *key, size_t val)
{
	if ((t->n + 1) * 10 > t->cap * 7) /* keep the load under 70% */
		str_rehash(t);
	uint64_t h = hl_hash_str(key);
	struct hl_str_slot *s = str_find_slot(t->slots, t->cap, key, h);
	if (!s->key) {
		s->key = key;
		s->hash = h;
		t->n++;
	}
	s->val = val;
}

static struct hl_int_slot *int_find_slot(struct hl_int_slot *slots, size_t cap, int64_t key)
{
	size_t i = (size_t)hash_int(key) & (cap - 1);
	while (slots[i].used && slots[i].key != key)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

size_t hl_int_get(const struct hl_int_table *t, int64_t key)
{
	if (!t->cap)
		return HL_NO_POS;
	struct hl_int_slot *s = int_find_slot(t->slots, t->cap, key);
	return s->used ? s->val : HL_NO_POS;
}

static void int_rehash(struct hl_int_table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64;
	struct hl_int_slot *ns = hl_xcalloc(ncap, sizeof *ns);
	for (size_t i = 0; i < t->cap; i++) {
		if (t->slots[i].used)
			*int_find_slot(ns, ncap, t->slots[i].key) = t->slots[i];
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
}

void hl_int_put(struct hl_int_table *t, int64_t key, size_t val)
{
	if ((t->n + 1) * 10 > t->cap * 7)
		int_rehash(t);
	struct hl_int_slot *s = int_find_slot(t->slots, t->cap, key);
	if (!s->used) {
		s->used = true;
		s->key = key;
		t->n++;
	}
	s->val = val;
}

/* Empty a table but keep its memory: a batch of the same size comes next. */
void hl_str_clear(struct hl_str_table *t)
{
	if (t->cap)
		memset(t->slots, 0, t->cap * sizeof *t->slots);
	t->n = 0;
}

void hl_int_clear(struct hl_int_table *t)
{
	if (t->cap)
		memset(t->slots, 0, t->cap * sizeof *t->slots);
	t->n = 0;
}
