/*
 * order_world.c - the work-order rows of one batch's world (pure).
 *
 * The orders live in an array of pointers, found through a private index
 * (pos_table.h, as world.c's rows): order id -> position, timer key (case id,
 * number) -> position, and per case a chain of its orders in array order, so
 * a batch of n order events costs O(n), not O(n^2) scans with strcmp.  The
 * store loads, per case, every order the rules can read ("no other open
 * order", "a department that already returned an order of this case", the
 * highest order number; not the replied ones: SQL_ORDERS): they walk the
 * case's chain.  An order's id, case and number never
 * change once added, so the index never goes stale; it is emptied with the
 * rows when the world is reset.  Rows are deep-copied in and freed then,
 * like world.c's rows.
 */
#include <stdlib.h>
#include <string.h>

#include "orders.h"
#include "pos_table.h"

struct hl_order_index {
	struct hl_str_table by_id;      /* order id -> position in w->orders */
	struct hl_int_table by_key;     /* case id * HL_ORDER_KEY_MUL + no -> position */
	struct hl_int_table case_first; /* case id -> position of its first order */
	struct hl_int_table case_last;  /* case id -> position of its last order */
	size_t *next_of_case;           /* per position: the case's next order, or HL_NO_POS */
	size_t cap_next;
};

static struct hl_order_index *order_index(struct hl_world *w)
{
	if (!w->order_index)
		w->order_index = hl_xcalloc(1, sizeof *w->order_index);
	return w->order_index;
}

static int64_t order_key(int64_t case_id, int32_t no)
{
	return (int64_t)((uint64_t)case_id * HL_ORDER_KEY_MUL + (uint64_t)(int64_t)no);
}

static void index_order(struct hl_world *w, size_t pos)
{
	struct hl_order_index *x = order_index(w);
	const struct hl_order *o = w->orders[pos];
	hl_str_put(&x->by_id, o->order_id, pos);
	int64_t key = order_key(o->case_id, o->no);
	if (hl_int_get(&x->by_key, key) == HL_NO_POS) /* the first such order wins, as the scan did */
		hl_int_put(&x->by_key, key, pos);
	if (pos >= x->cap_next) {
		x->cap_next = w->cap_orders;
		x->next_of_case = hl_xrealloc(x->next_of_case, x->cap_next * sizeof *x->next_of_case);
	}
	x->next_of_case[pos] = HL_NO_POS;
	size_t last = hl_int_get(&x->case_last, o->case_id);
	if (last == HL_NO_POS)
		hl_int_put(&x->case_first, o->case_id, pos);
	else
		x->next_of_case[last] = pos;
	hl_int_put(&x->case_last, o->case_id, pos);
}

struct hl_order *hl_world_case_orders_first(struct hl_world *w, int64_t case_id)
{
	size_t pos = w->order_index ? hl_int_get(&w->order_index->case_first, case_id) : HL_NO_POS;
	return pos == HL_NO_POS ? NULL : w->orders[pos];
}

struct hl_order *hl_world_case_orders_next(struct hl_world *w, const struct hl_order *o)
{
	/* o's position: the by_id entry (order ids are unique in the world) */
	size_t pos = hl_str_get(&w->order_index->by_id, o->order_id);
	size_t next = w->order_index->next_of_case[pos];
	return next == HL_NO_POS ? NULL : w->orders[next];
}

void hl_order_free(struct hl_order *o)
{
	if (!o)
		return;
	char **strs[] = {&o->department, &o->category, &o->area, &o->result, &o->note, &o->return_reason,
	                 &o->extend_reason, &o->signed_by};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
}

struct hl_order *hl_world_add_order(struct hl_world *w, const struct hl_order *o)
{
	struct hl_order *have = hl_world_order(w, o->order_id);
	if (have)
		return have;
	struct hl_order *n = hl_xrealloc(NULL, sizeof *n);
	*n = *o;
	n->department = hl_xstrdup(o->department);
	n->category = hl_xstrdup(o->category);
	n->area = hl_xstrdup(o->area);
	n->result = hl_xstrdup(o->result);
	n->note = hl_xstrdup(o->note);
	n->return_reason = hl_xstrdup(o->return_reason);
	n->extend_reason = hl_xstrdup(o->extend_reason);
	n->signed_by = hl_xstrdup(o->signed_by);
	if (w->n_orders == w->cap_orders) {
		w->cap_orders = w->cap_orders ? w->cap_orders * 2 : 16;
		w->orders = hl_xrealloc(w->orders, w->cap_orders * sizeof *w->orders);
	}
	w->orders[w->n_orders++] = n;
	index_order(w, w->n_orders - 1);
	return n;
}

struct hl_order *hl_world_order(struct hl_world *w, const char *order_id)
{
	size_t pos = w->order_index ? hl_str_get(&w->order_index->by_id, order_id) : HL_NO_POS;
	return pos == HL_NO_POS ? NULL : w->orders[pos];
}

struct hl_order *hl_world_order_no(struct hl_world *w, int64_t case_id, int32_t no)
{
	size_t pos = w->order_index ? hl_int_get(&w->order_index->by_key, order_key(case_id, no)) : HL_NO_POS;
	if (pos == HL_NO_POS)
		return NULL;
	/* two (case, number) pairs could share a key only with a number beyond HL_ORDER_KEY_MUL */
	struct hl_order *o = w->orders[pos];
	return o->case_id == case_id && o->no == no ? o : NULL;
}

int32_t hl_world_order_max_no(struct hl_world *w, int64_t case_id)
{
	int32_t max = 0;
	for (struct hl_order *o = hl_world_case_orders_first(w, case_id); o; o = hl_world_case_orders_next(w, o))
		if (o->no > max)
			max = o->no;
	return max;
}

void hl_world_add_merge(struct hl_world *w, int64_t case_id, int64_t into, bool is_new)
{
	for (size_t i = 0; i < w->n_merges; i++)
		if (w->merges[i].case_id == case_id) {
			w->merges[i].into = into;
			w->merges[i].is_new = w->merges[i].is_new || is_new;
			return;
		}
	if (w->n_merges == w->cap_merges) {
		w->cap_merges = w->cap_merges ? w->cap_merges * 2 : 16;
		w->merges = hl_xrealloc(w->merges, w->cap_merges * sizeof *w->merges);
	}
	w->merges[w->n_merges++] = (struct hl_merge){.case_id = case_id, .into = into, .is_new = is_new};
}

void hl_world_orders_drop(struct hl_world *w)
{
	for (size_t i = 0; i < w->n_orders; i++) {
		hl_order_free(w->orders[i]);
		free(w->orders[i]);
	}
	w->n_orders = 0;
	w->n_merges = 0;
	if (w->order_index) {
		hl_str_clear(&w->order_index->by_id);
		hl_int_clear(&w->order_index->by_key);
		hl_int_clear(&w->order_index->case_first);
		hl_int_clear(&w->order_index->case_last);
	}
}

void hl_world_orders_free(struct hl_world *w)
{
	hl_world_orders_drop(w);
	if (w->order_index) {
		free(w->order_index->by_id.slots);
		free(w->order_index->by_key.slots);
		free(w->order_index->case_first.slots);
		free(w->order_index->case_last.slots);
		free(w->order_index->next_of_case);
		free(w->order_index);
		w->order_index = NULL;
	}
	free(w->orders);
	free(w->merges);
	w->orders = NULL;
	w->merges = NULL;
	w->cap_orders = w->cap_merges = 0;
}
