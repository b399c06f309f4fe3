/*
 * cluster_notes.c - the clocks a batch armed in another daemon's slots, as
 * the NOTIFY payloads that tell their owner.
 *
 * Several daemons share one database (cluster.c): any daemon may take an
 * event, but a clock is run only by the daemon holding its slot.  When a
 * batch arms or moves a clock whose case lies in a slot this daemon does not
 * hold, the owner must hear of it exactly when the batch commits - not
 * before (it could roll back), not later (the clock could fall due first).
 * So the store sends these payloads as NOTIFY hotline_clock inside the
 * batch's own transaction (store_write.c, SQL_CLOCK_NOTIFY); the owner's
 * cluster session hears them at COMMIT and sets its timer.  A lone daemon
 * holds every slot and sends none.  Apart from cluster.c so that the slot
 * bookkeeping there stays about slots and peers; this file only reads
 * cluster_owns().
 */
#include <inttypes.h>
#include <stdio.h>

#include <json-c/json.h>

#include "daemon.h"
#include "orders.h"
#include "rules.h"

static uint64_t notes_sent;

uint64_t cluster_clock_notes_sent(void) { return notes_sent; }

/* Clocks of this batch armed in slots another daemon owns, as NOTIFY payloads;
 * NULL when there are none (a lone daemon owns every slot). */
json_object *cluster_clock_notes(const struct hl_world *w)
{
	json_object *a = NULL;
	for (size_t i = 0; i < w->n_cases; i++) {
		const struct hl_case *c = w->cases[i];
		if (cluster_owns(c->id))
			continue;
		for (int k = 0; k < HL_CK__COUNT; k++) {
			if (!c->clocks[k].dirty)
				continue;
			char note[96];
			snprintf(note, sizeof note, "%" PRId64 " %s %d %lld", c->id,
			         hl_clock_kind_name((enum hl_clock_kind)k), (int)c->clocks[k].seq,
			         (long long)hl_clock_next_fire(&c->clocks[k]));
			if (!a)
				a = json_object_new_array();
			json_object_array_add(a, json_object_new_string(note));
			notes_sent++;
		}
	}
	/* work-order clocks, in their case's slot: "timer-id order_sign|order_reply seq at" */
	for (size_t i = 0; i < w->n_orders; i++) {
		const struct hl_order *o = w->orders[i];
		if (cluster_owns(o->case_id))
			continue;
		for (int k = 0; k < HL_OC__COUNT; k++) {
			if (!o->clocks[k].dirty)
				continue;
			char note[96];
			snprintf(note, sizeof note, "%" PRId64 " order_%s %d %lld", o->case_id * HL_ORDER_KEY_MUL + o->no,
			         hl_order_clock_name((enum hl_order_clock)k), (int)o->clocks[k].seq,
			         (long long)hl_order_next_fire(&o->clocks[k]));
			if (!a)
				a = json_object_new_array();
			json_object_array_add(a, json_object_new_string(note));
			notes_sent++;
		}
	}
	return a;
}
