/*
 * order_world.c - the work-order rows of one batch's world (pure).
 *
 * A batch touches few orders (those of its cases), so they live in a plain
 * array searched linearly: no index to keep in step, and a case's orders are
 * all loaded together, which is what the rules need ("no other open order",
 * "a department that already returned an order of this case").  Rows are
 * deep-copied in and freed when the world is reset, like world.c's rows.
 */
#include <stdlib.h>
#include <string.h>

#include "orders.h"

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
	return n;
}

struct hl_order *hl_world_order(struct hl_world *w, const char *order_id)
{
	for (size_t i = 0; order_id && i < w->n_orders; i++)
		if (strcmp(w->orders[i]->order_id, order_id) == 0)
			return w->orders[i];
	return NULL;
}

struct hl_order *hl_world_order_no(struct hl_world *w, int64_t case_id, int32_t no)
{
	for (size_t i = 0; i < w->n_orders; i++)
		if (w->orders[i]->case_id == case_id && w->orders[i]->no == no)
			return w->orders[i];
	return NULL;
}

int32_t hl_world_order_max_no(struct hl_world *w, int64_t case_id)
{
	int32_t max = 0;
	for (size_t i = 0; i < w->n_orders; i++)
		if (w->orders[i]->case_id == case_id && w->orders[i]->no > max)
			max = w->orders[i]->no;
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
}

void hl_world_orders_free(struct hl_world *w)
{
	hl_world_orders_drop(w);
	free(w->orders);
	free(w->merges);
	w->orders = NULL;
	w->merges = NULL;
	w->cap_orders = w->cap_merges = 0;
}
