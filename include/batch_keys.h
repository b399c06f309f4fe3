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
	int clock;                 /* HL_BK_CLOCK: its enum hl_clock_kind (a redispatch needs the orders) */
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
	/* hotspot keys: per field of hotspot.key, the values the batch's events
	 * bring (a dispatch's or a transfer's department); NULL (not "[]") for a
	 * field the key is not made of, which the load then does not filter on */
	char *categories, *areas, *departments;
	/* the cases an event that classifies them reaches (their hotspot rows
	 * are rebuilt): named by id, through a call, or through the caller of a
	 * call offered in the same batch (it joins the caller's open case) */
	char *hot_cases, *hot_calls, *hot_callers;
	/* the calls a call.ended "resolved" ends, and the callers of those
	 * offered in the same batch: the cases merged into theirs are loaded */
	char *resolving_calls, *resolving_callers;
	size_t openers;     /* events that may open a case (each may need a fresh case id) */
	hl_ms earliest;     /* the earliest event `at`; `now` when the batch has no event */
	hl_ms repeat_since; /* calls since then count for the repeat-caller rule */
	hl_ms hotspot_since;/* cases since then count for the hotspot rule */
	size_t ids_wanted;  /* case ids to reserve: openers beyond those already reserved */
	/* which load statements are worth sending (a statement with nothing to look up is not) */
	bool want_seen, want_cases, want_calls, want_callers, want_alerts, want_ids, want_orders, want_hotspots;
	bool want_order_cases; /* SQL_ORDER_CASES: want_orders, or a call.ended that resolves a case */
};

struct hl_batch_keys_env {
	hl_ms now;               /* when no event gives a time */
	hl_ms repeat_window_ms;  /* repeat.window */
	hl_ms hotspot_window_ms; /* hotspot.window */
	bool hotspots_on;        /* hotspot.threshold > 0 */
	/* which case fields make hotspot.key: the load fetches the window's
	 * cases that match a key the batch can form on every one of them */
	bool hotspot_category, hotspot_area, hotspot_department;
	size_t free_ids;         /* case ids already reserved (hl_world_free_id_count) */
};

/* Fill *out from the batch's n items.  Allocation failure aborts (hl_xrealloc). */
void hl_batch_keys(const struct hl_bk_item *items, size_t n, const struct hl_batch_keys_env *env,
                   struct hl_batch_keys *out);
void hl_batch_keys_free(struct hl_batch_keys *k);

/*
 * Due clocks ahead of the queue (store.c: the due lane).  A clock that fell
 * due runs in the next batch, before requests queued earlier, unless one of
 * those may touch its case: then the rules must see that request first (an
 * answered call received before the deadline meets the callback; applied
 * after the fire it would be "met (late)" with an overdue alert).  Which
 * case a request touches is known here only when it names it (case_id,
 * into); one reached through its caller, call or work order is known from
 * the database, so those keys are collected for a probe (SQL_DUE_CONFLICTS)
 * that the store sends in the batch's load.
 */
struct hl_due_ahead {
	int64_t *cases;     /* sorted: cases named by the passed items (events, fired clocks) */
	size_t n_cases;
	char *named;        /* the same case ids as a JSON array (their merged_into, probed) */
	char *callers, *calls, *orders; /* JSON arrays for the probe */
	bool probe;         /* some key needs the database */
	bool unkeyed;       /* an event that names no key at all: no due clock passes it */
};

/* The case a due item is for: a case clock's or a work-order clock's case;
 * 0 for anything else (an escalation or a request never jumps). */
int64_t hl_due_case(const struct hl_bk_item *it);
/* May a due clock pass this queued item without knowing anything more?
 * True for items that touch no case clock (ping, stats, case.get, subscribe,
 * alert.ack, escalations); false for events and fired clocks. */
bool hl_due_may_pass(const struct hl_bk_item *queued);
/* Collect the keys of the n queued items that due clocks pass. */
void hl_due_ahead_collect(const struct hl_bk_item *ahead, size_t n, struct hl_due_ahead *out);
/* Does a passed item name case_id itself (then the clock waits, no probe needed)? */
bool hl_due_ahead_names(const struct hl_due_ahead *a, int64_t case_id);
void hl_due_ahead_free(struct hl_due_ahead *a);

#endif
