/*
 * rules.h - what an event does to a case (pure; see world.c, rules.c).
 *
 * For every batch the store loads from PostgreSQL the part of the world the
 * batch's events touch (their cases with clocks, calls, callers, alerts, the
 * event ids already accepted) into a struct hl_world.  The rules then apply
 * the events one after another to that world, in memory, marking what they
 * change `dirty` and appending what they create.  The store writes the dirty
 * and new rows back in one transaction, and acknowledges after COMMIT.
 *
 * A rule either fails before touching the world (the outcome carries the
 * error) or applies completely: nothing is ever half-applied.
 */
#ifndef HL_RULES_H
#define HL_RULES_H

#include "hotlined.h"
#include "config.h"

/* An accepted event: one row of hotline.case_events. */
struct hl_accepted {
	const struct hl_event *ev; /* borrowed: lives until the batch is done */
	int64_t case_id;
	char description[256];     /* one readable line: who, what, which clock changed */
	bool case_resolved;        /* an order.reply that resolved its case (orders.c; stored in the body) */
};

/* The part of the database one batch works on (world.c). */
struct hl_world {
	/* Rows loaded or created; owned.  Lookups go through the index below. */
	struct hl_case **cases;     size_t n_cases, cap_cases;
	struct hl_call **calls;     size_t n_calls, cap_calls;
	struct hl_caller **callers; size_t n_callers, cap_callers;
	struct hl_alert **alerts;   size_t n_alerts, cap_alerts; /* loaded (ack/escalate) and new */

	/* Event ids already accepted (loaded) or accepted in this batch -> case id. */
	/* order_id: the order the accepted event was answered with ("" none);
	 * NULL when not known (a row whose event retention dropped) */
	struct hl_seen { char *event_id; int64_t case_id; char *order_id; } *seen;
	size_t n_seen, cap_seen;

	/* Output: the events accepted in this batch, in order. */
	struct hl_accepted *accepted; size_t n_accepted, cap_accepted;

	/* Case ids reserved from hotline.cases_id_seq, used in order for new cases. */
	int64_t *free_ids; size_t n_free_ids, cap_free_ids, next_free_id;

	struct hl_world_index *index; /* private to world.c */

	/* Work orders of the batch's cases and case merges (orders.h, order_world.c). */
	struct hl_order **orders; size_t n_orders, cap_orders;
	struct hl_merge *merges; size_t n_merges, cap_merges;
	/* Hotspot keys of the batch's cases and of recent cases (hotspot.h). */
	struct hl_hotspot_case **hotspot_cases; size_t n_hotspot_cases, cap_hotspot_cases;
	struct hl_hotspot **hotspots; size_t n_hotspots, cap_hotspots;
	struct hl_order_index *order_index;     /* private to order_world.c */
	struct hl_hotspot_index *hotspot_index; /* private to hotspot.c */
};

/* The core's one allocation-failure policy (world.c): out of memory aborts
 * (no I/O in the core; the supervisor logs the crash and restarts). */
void *hl_xrealloc(void *p, size_t n);
char *hl_xstrdup(const char *s); /* NULL stays NULL */
void *hl_xcalloc(size_t n, size_t size); /* zeroed */

struct hl_world *hl_world_new(void);
void hl_world_free(struct hl_world *w);
/* Forget everything but the unused reserved case ids (they stay for the next batch). */
void hl_world_reset(struct hl_world *w);

/* Populate (store after loading; tests directly).  Each deep-copies its argument
 * and returns the world's copy; adding a key that is already there returns the
 * existing row unchanged. */
struct hl_case *hl_world_add_case(struct hl_world *w, const struct hl_case *c);
struct hl_call *hl_world_add_call(struct hl_world *w, const struct hl_call *c);
struct hl_caller *hl_world_add_caller(struct hl_world *w, const struct hl_caller *c);
struct hl_alert *hl_world_add_alert(struct hl_world *w, const struct hl_alert *a);
void hl_world_add_seen(struct hl_world *w, const char *event_id, int64_t case_id);
/* as hl_world_add_seen, with the order the event was answered with ("" none,
 * NULL not known), which a duplicate of it is answered with again */
void hl_world_add_seen_order(struct hl_world *w, const char *event_id, int64_t case_id, const char *order_id);
void hl_world_add_free_ids(struct hl_world *w, const int64_t *ids, size_t n);
size_t hl_world_free_id_count(const struct hl_world *w);

/* Lookups; NULL / -1 when absent. */
struct hl_case *hl_world_case(struct hl_world *w, int64_t id);
/* The most recently opened case of this caller that is not closed. */
struct hl_case *hl_world_open_case_of(struct hl_world *w, const char *caller);
struct hl_call *hl_world_call(struct hl_world *w, const char *call_id);
struct hl_caller *hl_world_caller(struct hl_world *w, const char *caller);
struct hl_alert *hl_world_alert(struct hl_world *w, int64_t id);
bool hl_world_seen(struct hl_world *w, const char *event_id, int64_t *case_id);
/* The order a seen event was answered with ("" none); NULL when unseen or not known. */
const char *hl_world_seen_order(struct hl_world *w, const char *event_id);

/* Deep-copy helpers usable by the store.  Like hl_event_free, each frees the
 * members a row owns (strings, the inbound array), not the row itself, so they
 * work on rows built on the stack. */
void hl_case_free(struct hl_case *c);
void hl_call_free(struct hl_call *c);
void hl_caller_free(struct hl_caller *c);
void hl_alert_free(struct hl_alert *a);

/* Additions (world.c). */
/* The alert with this dedupe key (loaded or raised in this batch); NULL when absent. */
struct hl_alert *hl_world_alert_by_dedupe(struct hl_world *w, const char *dedupe);
/* Take the next reserved case id; false when none is left. */
bool hl_world_take_free_id(struct hl_world *w, int64_t *id);
/* The store, after INSERT .. RETURNING id of a new alert: number it and index it by id. */
void hl_world_set_alert_id(struct hl_world *w, struct hl_alert *a, int64_t id);
/* Append one accepted event (the description is copied, truncated to fit). */
void hl_world_add_accepted(struct hl_world *w, const struct hl_event *ev, int64_t case_id,
                           const char *description);
/* Record an inbound call time, keeping c->inbound ascending. */
void hl_caller_add_inbound(struct hl_caller *c, hl_ms at);

struct hl_rules_env {
	const struct hl_config *cfg;
	hl_ms now; /* the daemon's clock when the batch is applied */
};

struct hl_outcome {
	enum hl_err err;          /* HL_OK or the error for the reply */
	char message[256];
	int64_t case_id;          /* the case touched (0 if none) */
	bool duplicate;
	char order_id[HL_ID_BYTES + 1]; /* order events: the order touched ("" otherwise) */
};

/* Apply one event (hl_type_is_event(ev->type)) or the alert.ack command. */
void hl_rules_apply(struct hl_world *w, const struct hl_rules_env *env,
                    const struct hl_event *ev, struct hl_outcome *out);

/* A clock's timer fired: raise its due-soon or overdue alert if the run `seq`
 * is still pending and due (by env->now); otherwise do nothing. */
void hl_rules_clock_fire(struct hl_world *w, const struct hl_rules_env *env,
                         int64_t case_id, enum hl_clock_kind kind, int32_t seq);

/* An alert's escalation time came: raise its level if still unacknowledged,
 * below max_level and due (alert->escalate_at <= env->now). */
void hl_rules_escalate(struct hl_world *w, const struct hl_rules_env *env, int64_t alert_id);

/* When the timer must next look at this clock: warn_at if a warning is still
 * to be raised, else due_at; 0 when the clock is not pending. */
hl_ms hl_clock_next_fire(const struct hl_clock *c);

#endif
