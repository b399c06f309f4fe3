/*
 * batch_keys.h - which keys a batch touches: the pure decision behind the load.
 *
 * Before the rules can run, the store loads every row a batch may read: the
 * event ids already accepted, the cases (with their clocks), calls, callers
 * (with their recent calls), alerts, work orders and hotspot counts.  Which
 * keys those are, and which load statements are worth sending at all, is a
 * decision over the batch's items alone, so it lives in the core (no libpq,
 * no libevent) and is unit-tested (tests/unit/test_batch_keys.c); the store
 * only passes the JSON arrays as statement parameters.
 */
#ifndef HL_BATCH_KEYS_H
#define HL_BATCH_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotlined.h"

/* One item of a batch, as far as its keys go. */
enum hl_bk_kind {
	HL_BK_REQUEST,     /* an event or a command (ev) */
	HL_BK_CLOCK,       /* a case clock fell due: id = case id */
	HL_BK_ORDER_CLOCK, /* a work order's clock fell due: id = case id * HL_ORDER_KEY_MUL + order number */
	HL_BK_ESCALATION,  /* an alert is to be escalated: id = alert id */
};

struct hl_bk_item {
	enum hl_bk_kind kind;
	int64_t id;                /* HL_BK_CLOCK, HL_BK_ORDER_CLOCK, HL_BK_ESCALATION */
	const struct hl_event *ev; /* HL_BK_REQUEST */
};

/* What the batch's load needs.  Each array is JSON text ("[]" when empty),
 * malloc'd, in batch order, duplicates kept (the statements take DISTINCT). */
struct hl_batch_keys {
	char *events;       /* event ids to check for duplicates */
	char *cases;        /* every case id the batch names: events, merges, fired clocks */
	char *event_cases;  /* case ids named by events only (their callers' history) */
	char *calls;        /* call ids */
	char *callers;      /* normalized caller numbers */
	char *alerts;       /* alert ids: alert.ack and escalations */
	char *orders;       /* work-order keys */
	char *categories, *areas, *departments; /* hotspot keys */
	size_t openers;     /* events that may open a case (each may need a fresh case id) */
	hl_ms earliest;     /* the earliest event `at`; `now` when the batch has no event */
	hl_ms repeat_since; /* calls since then count for the repeat-caller rule */
	hl_ms hotspot_since;/* cases since then count for the hotspot rule */
	size_t ids_wanted;  /* case ids to reserve: openers beyond those already reserved */
	/* which load statements are worth sending (a statement with nothing to look up is not) */
	bool want_seen, want_cases, want_calls, want_callers, want_alerts, want_ids, want_orders, want_hotspots;
};

struct hl_batch_keys_env {
	hl_ms now;               /* when no event gives a time */
	hl_ms repeat_window_ms;  /* repeat.window */
	hl_ms hotspot_window_ms; /* hotspot.window */
	bool hotspots_on;        /* hotspot.threshold > 0 */
	size_t free_ids;         /* case ids already reserved (hl_world_free_id_count) */
};

/* Fill *out from the batch's n items.  Allocation failure aborts (hl_xrealloc). */
void hl_batch_keys(const struct hl_bk_item *items, size_t n, const struct hl_batch_keys_env *env,
                   struct hl_batch_keys *out);
void hl_batch_keys_free(struct hl_batch_keys *k);

#endif
