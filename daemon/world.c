/*
 * world.c - the in-memory slice of the database that one batch of events works on.
 *
 * The store loads every row a batch touches (cases with their clocks, calls,
 * callers, alerts, the event ids already accepted, a handful of reserved case
 * ids) into a struct hl_world; the rules (rules.c) then read and change that
 * world in memory, and the store writes back the rows flagged dirty/is_new.
 *
 * Design:
 *  - Rows are heap-allocated one by one and the world keeps arrays of pointers
 *    to them, so a pointer handed out stays valid until hl_world_reset/free even
 *    when the arrays grow.  Every add deep-copies its argument (strings are
 *    strdup'ed, a caller's inbound array is copied), so the caller keeps
 *    ownership of what it passed in.
 *  - A private index (struct hl_world_index) makes every lookup O(1): small
 *    open-addressing hash tables (pos_table.h, shared with the order and
 *    hotspot rows) with linear probing, one per key (case id,
 *    alert id, call id, caller number, event id, alert dedupe key).  Values are
 *    positions in the world's arrays, never pointers into them, so growing an
 *    array (e.g. `seen`, which holds structs) never invalidates the index.
 *    Keys point at strings owned by the rows themselves.
 *  - "The open case of a caller" changes whenever a case is closed or
 *    reopened, so it is not cached: the index keeps, per caller, a chain of all
 *    that caller's cases in the world (a head in a hash table and a `next`
 *    array), and hl_world_open_case_of walks that short chain.  A caller has a
 *    handful of cases at most, so this stays O(1) in practice.
 *  - Nothing is ever removed from a table; hl_world_reset empties them all in
 *    one go.  Reserved case ids that were not used survive a reset.
 *  - Out of memory aborts (as in Redis): a half-built world is worse than a
 *    crash, which the supervisor restarts and the database makes harmless.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "hotspot.h"
#include "orders.h"
#include "pos_table.h"

#define NONE HL_NO_POS

/* ------------------------------------------------------------- memory */

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort(); /* no I/O here: the supervisor logs the crash */
	return p;
}

void *hl_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		abort(); /* no I/O here: the supervisor logs the crash */
	return p;
}

void *hl_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort(); /* no I/O here: the supervisor logs the crash */
	return p;
}

char *hl_xstrdup(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = xmalloc(n);
	memcpy(d, s, n);
	return d;
}

/* Grow an array of `size`-byte items so that one more fits. */
static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : 16;
	*cap = ncap;
	return hl_xrealloc(arr, ncap * size);
}

struct hl_world_index {
	struct hl_int_table cases;        /* case id -> position in w->cases */
	struct hl_int_table alerts;       /* alert id (non-zero) -> position in w->alerts */
	struct hl_str_table calls;        /* call_id -> position in w->calls */
	struct hl_str_table callers;      /* number -> position in w->callers */
	struct hl_str_table seen;         /* event id -> position in w->seen */
	struct hl_str_table dedupe;       /* alert dedupe key -> position in w->alerts */
	struct hl_str_table caller_cases; /* number -> position of the last-added case of that caller */
	size_t *case_next;             /* per case position: the previous case of the same caller, or NONE */
	size_t cap_case_next;
};

/* -------------------------------------------------------------- rows */

void hl_case_free(struct hl_case *c)
{
	if (!c)
		return;
	free(c->category);
	free(c->priority);
	free(c->department);
	free(c->queue);
	free(c->summary);
	free(c->resolution);
	c->category = c->priority = c->department = c->queue = c->summary = c->resolution = NULL;
}

void hl_call_free(struct hl_call *c)
{
	if (!c)
		return;
	free(c->call_id);
	free(c->queue);
	free(c->agent);
	free(c->outcome);
	c->call_id = c->queue = c->agent = c->outcome = NULL;
}

void hl_caller_free(struct hl_caller *c)
{
	if (!c)
		return;
	free(c->inbound);
	c->inbound = NULL;
	c->n_inbound = c->cap_inbound = 0;
}

void hl_alert_free(struct hl_alert *a)
{
	if (!a)
		return;
	free(a->acked_by);
	free(a->detail);
	a->acked_by = a->detail = NULL;
}

static int cmp_ms(const void *a, const void *b)
{
	hl_ms x = *(const hl_ms *)a, y = *(const hl_ms *)b;
	return (x > y) - (x < y);
}

void hl_caller_add_inbound(struct hl_caller *c, hl_ms at)
{
	c->inbound = grow(c->inbound, c->n_inbound, &c->cap_inbound, sizeof *c->inbound);
	/* events mostly come in time order: walk back from the end to keep it sorted */
	size_t i = c->n_inbound;
	while (i > 0 && c->inbound[i - 1] > at) {
		c->inbound[i] = c->inbound[i - 1];
		i--;
	}
	c->inbound[i] = at;
	c->n_inbound++;
}

/* ------------------------------------------------------------- world */

struct hl_world *hl_world_new(void)
{
	struct hl_world *w = hl_xcalloc(1, sizeof *w);
	w->index = hl_xcalloc(1, sizeof *w->index);
	return w;
}

/* Free every row and empty the index; the arrays and tables keep their memory. */
static void drop_rows(struct hl_world *w)
{
	for (size_t i = 0; i < w->n_cases; i++) {
		hl_case_free(w->cases[i]);
		free(w->cases[i]);
	}
	for (size_t i = 0; i < w->n_calls; i++) {
		hl_call_free(w->calls[i]);
		free(w->calls[i]);
	}
	for (size_t i = 0; i < w->n_callers; i++) {
		hl_caller_free(w->callers[i]);
		free(w->callers[i]);
	}
	for (size_t i = 0; i < w->n_alerts; i++) {
		hl_alert_free(w->alerts[i]);
		free(w->alerts[i]);
	}
	for (size_t i = 0; i < w->n_seen; i++) {
		free(w->seen[i].event_id);
		free(w->seen[i].order_id);
	}
	hl_world_orders_drop(w);
	hl_world_hotspots_drop(w);
	w->n_cases = w->n_calls = w->n_callers = w->n_alerts = w->n_seen = 0;
	w->n_accepted = 0;

	struct hl_world_index *x = w->index;
	hl_int_clear(&x->cases);
	hl_int_clear(&x->alerts);
	hl_str_clear(&x->calls);
	hl_str_clear(&x->callers);
	hl_str_clear(&x->seen);
	hl_str_clear(&x->dedupe);
	hl_str_clear(&x->caller_cases);
}

void hl_world_free(struct hl_world *w)
{
	if (!w)
		return;
	drop_rows(w);
	struct hl_world_index *x = w->index;
	free(x->cases.slots);
	free(x->alerts.slots);
	free(x->calls.slots);
	free(x->callers.slots);
	free(x->seen.slots);
	free(x->dedupe.slots);
	free(x->caller_cases.slots);
	free(x->case_next);
	free(x);
	free(w->cases);
	free(w->calls);
	free(w->callers);
	free(w->alerts);
	free(w->seen);
	free(w->accepted);
	free(w->free_ids);
	hl_world_orders_free(w);
	hl_world_hotspots_free(w);
	free(w);
}

void hl_world_reset(struct hl_world *w)
{
	drop_rows(w);
	/* Unused reserved ids move to the front; used ones are gone for good
	 * (a sequence value is never handed out twice anyway). */
	size_t left = w->n_free_ids - w->next_free_id;
	if (left && w->next_free_id)
		memmove(w->free_ids, w->free_ids + w->next_free_id, left * sizeof *w->free_ids);
	w->n_free_ids = left;
	w->next_free_id = 0;
}

struct hl_case *hl_world_add_case(struct hl_world *w, const struct hl_case *c)
{
	struct hl_world_index *x = w->index;
	size_t at = hl_int_get(&x->cases, c->id);
	if (at != NONE)
		return w->cases[at];

	struct hl_case *n = xmalloc(sizeof *n);
	*n = *c;
	n->category = hl_xstrdup(c->category);
	n->priority = hl_xstrdup(c->priority);
	n->department = hl_xstrdup(c->department);
	n->queue = hl_xstrdup(c->queue);
	n->summary = hl_xstrdup(c->summary);
	n->resolution = hl_xstrdup(c->resolution);

	w->cases = grow(w->cases, w->n_cases, &w->cap_cases, sizeof *w->cases);
	size_t pos = w->n_cases++;
	w->cases[pos] = n;
	hl_int_put(&x->cases, n->id, pos);

	/* chain it in front of the caller's other cases */
	if (pos >= x->cap_case_next) {
		x->cap_case_next = w->cap_cases;
		x->case_next = hl_xrealloc(x->case_next, x->cap_case_next * sizeof *x->case_next);
	}
	x->case_next[pos] = hl_str_get(&x->caller_cases, n->caller);
	hl_str_put(&x->caller_cases, n->caller, pos);
	return n;
}

struct hl_call *hl_world_add_call(struct hl_world *w, const struct hl_call *c)
{
	struct hl_world_index *x = w->index;
	size_t at = hl_str_get(&x->calls, c->call_id ? c->call_id : "");
	if (at != NONE)
		return w->calls[at];

	struct hl_call *n = xmalloc(sizeof *n);
	*n = *c;
	n->call_id = hl_xstrdup(c->call_id ? c->call_id : "");
	n->queue = hl_xstrdup(c->queue);
	n->agent = hl_xstrdup(c->agent);
	n->outcome = hl_xstrdup(c->outcome);

	w->calls = grow(w->calls, w->n_calls, &w->cap_calls, sizeof *w->calls);
	size_t pos = w->n_calls++;
	w->calls[pos] = n;
	hl_str_put(&x->calls, n->call_id, pos);
	return n;
}

struct hl_caller *hl_world_add_caller(struct hl_world *w, const struct hl_caller *c)
{
	struct hl_world_index *x = w->index;
	size_t at = hl_str_get(&x->callers, c->caller);
	if (at != NONE)
		return w->callers[at];

	struct hl_caller *n = xmalloc(sizeof *n);
	*n = *c;
	n->inbound = NULL;
	n->n_inbound = n->cap_inbound = 0;
	if (c->n_inbound && c->inbound) {
		n->cap_inbound = c->n_inbound;
		n->inbound = xmalloc(c->n_inbound * sizeof *n->inbound);
		memcpy(n->inbound, c->inbound, c->n_inbound * sizeof *n->inbound);
		n->n_inbound = c->n_inbound;
		/* the rules count on ascending order; do not trust the loader for it */
		qsort(n->inbound, n->n_inbound, sizeof *n->inbound, cmp_ms);
	}

	w->callers = grow(w->callers, w->n_callers, &w->cap_callers, sizeof *w->callers);
	size_t pos = w->n_callers++;
	w->callers[pos] = n;
	hl_str_put(&x->callers, n->caller, pos);
	return n;
}

struct hl_alert *hl_world_add_alert(struct hl_world *w, const struct hl_alert *a)
{
	struct hl_world_index *x = w->index;
	size_t at = a->id ? hl_int_get(&x->alerts, a->id) : NONE;
	if (at == NONE && a->dedupe[0])
		at = hl_str_get(&x->dedupe, a->dedupe);
	if (at != NONE)
		return w->alerts[at];

	struct hl_alert *n = xmalloc(sizeof *n);
	*n = *a;
	n->acked_by = hl_xstrdup(a->acked_by);
	n->detail = hl_xstrdup(a->detail);

	w->alerts = grow(w->alerts, w->n_alerts, &w->cap_alerts, sizeof *w->alerts);
	size_t pos = w->n_alerts++;
	w->alerts[pos] = n;
	if (n->id)
		hl_int_put(&x->alerts, n->id, pos);
	if (n->dedupe[0])
		hl_str_put(&x->dedupe, n->dedupe, pos);
	return n;
}

void hl_world_add_seen(struct hl_world *w, const char *event_id, int64_t case_id)
{
	hl_world_add_seen_order(w, event_id, case_id, NULL);
}

void hl_world_add_seen_order(struct hl_world *w, const char *event_id, int64_t case_id, const char *order_id)
{
	struct hl_world_index *x = w->index;
	if (!event_id || hl_str_get(&x->seen, event_id) != NONE)
		return; /* the first acceptance is the one that counts */
	w->seen = grow(w->seen, w->n_seen, &w->cap_seen, sizeof *w->seen);
	size_t pos = w->n_seen++;
	w->seen[pos].event_id = hl_xstrdup(event_id);
	w->seen[pos].case_id = case_id;
	w->seen[pos].order_id = hl_xstrdup(order_id);
	hl_str_put(&x->seen, w->seen[pos].event_id, pos);
}

void hl_world_add_free_ids(struct hl_world *w, const int64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		w->free_ids = grow(w->free_ids, w->n_free_ids, &w->cap_free_ids, sizeof *w->free_ids);
		w->free_ids[w->n_free_ids++] = ids[i];
	}
}

size_t hl_world_free_id_count(const struct hl_world *w)
{
	return w->n_free_ids - w->next_free_id;
}

bool hl_world_take_free_id(struct hl_world *w, int64_t *id)
{
	if (w->next_free_id >= w->n_free_ids)
		return false;
	*id = w->free_ids[w->next_free_id++];
	return true;
}

/* ----------------------------------------------------------- lookups */

struct hl_case *hl_world_case(struct hl_world *w, int64_t id)
{
	size_t at = hl_int_get(&w->index->cases, id);
	return at == NONE ? NULL : w->cases[at];
}

struct hl_case *hl_world_open_case_of(struct hl_world *w, const char *caller)
{
	if (!caller)
		return NULL;
	struct hl_world_index *x = w->index;
	struct hl_case *best = NULL;
	for (size_t at = hl_str_get(&x->caller_cases, caller); at != NONE; at = x->case_next[at]) {
		struct hl_case *c = w->cases[at];
		if (c->status == HL_ST_CLOSED)
			continue;
		if (!best || c->opened_at > best->opened_at ||
		    (c->opened_at == best->opened_at && c->id > best->id))
			best = c;
	}
	return best;
}

struct hl_call *hl_world_call(struct hl_world *w, const char *call_id)
{
	size_t at = hl_str_get(&w->index->calls, call_id);
	return at == NONE ? NULL : w->calls[at];
}

struct hl_caller *hl_world_caller(struct hl_world *w, const char *caller)
{
	size_t at = hl_str_get(&w->index->callers, caller);
	return at == NONE ? NULL : w->callers[at];
}

struct hl_alert *hl_world_alert(struct hl_world *w, int64_t id)
{
	if (!id)
		return NULL; /* 0 = "not yet numbered": never a key */
	size_t at = hl_int_get(&w->index->alerts, id);
	return at == NONE ? NULL : w->alerts[at];
}

struct hl_alert *hl_world_alert_by_dedupe(struct hl_world *w, const char *dedupe)
{
	size_t at = hl_str_get(&w->index->dedupe, dedupe);
	return at == NONE ? NULL : w->alerts[at];
}

bool hl_world_seen(struct hl_world *w, const char *event_id, int64_t *case_id)
{
	size_t at = hl_str_get(&w->index->seen, event_id);
	if (at == NONE)
		return false;
	if (case_id)
		*case_id = w->seen[at].case_id;
	return true;
}

const char *hl_world_seen_order(struct hl_world *w, const char *event_id)
{
	size_t at = hl_str_get(&w->index->seen, event_id);
	return at == NONE ? NULL : w->seen[at].order_id;
}

void hl_world_set_alert_id(struct hl_world *w, struct hl_alert *a, int64_t id)
{
	size_t at = a->dedupe[0] ? hl_str_get(&w->index->dedupe, a->dedupe) : NONE;
	if (at == NONE) { /* find its position the slow way: rare, store-only */
		for (size_t i = 0; i < w->n_alerts; i++)
			if (w->alerts[i] == a)
				at = i;
	}
	a->id = id;
	if (at != NONE && id)
		hl_int_put(&w->index->alerts, id, at);
}

void hl_world_add_accepted(struct hl_world *w, const struct hl_event *ev, int64_t case_id, const char *description)
{
	w->accepted = grow(w->accepted, w->n_accepted, &w->cap_accepted, sizeof *w->accepted);
	struct hl_accepted *a = &w->accepted[w->n_accepted++];
	memset(a, 0, sizeof *a);
	a->ev = ev;
	a->case_id = case_id;
	snprintf(a->description, sizeof a->description, "%s", description ? description : "");
}
