/*
 * orders.h - work orders across departments (CONTRACT.md 6; pure: see
 * daemon/orders.c for the rules and daemon/order_world.c for the rows).
 *
 * A case that is not settled on the call is dispatched as a work order (工单)
 * to a department, which signs for it (签收), may return it (退单) or ask for
 * more time (延期), and replies (办结反馈).  Each order has two clocks, both
 * counted from dispatch: `sign` and `reply`.  They are kept in the order row
 * (hotline.orders) with run numbers, like the case clocks, so each breach is
 * alerted exactly once.  Their timers are keyed (case_id * HL_ORDER_KEY_MUL +
 * order number within the case, TIMER_ORDER_SIGN/REPLY): the number is what
 * lets a fired timer find its case and order with the case's own load.
 */
#ifndef HL_ORDERS_H
#define HL_ORDERS_H

#include "hotlined.h"
#include "rules.h"

#define HL_ORDER_KEY_MUL 1024 /* at most 1023 orders per case */

enum hl_order_status {
	HL_OS_DISPATCHED = 0,
	HL_OS_SIGNED,
	HL_OS_RETURNED,
	HL_OS_EXTENSION_REQUESTED,
	HL_OS_REPLIED,
};
const char *hl_order_status_name(enum hl_order_status s);
int hl_order_status_from_name(const char *name); /* -1 when unknown */

enum hl_order_clock { HL_OC_SIGN = 0, HL_OC_REPLY, HL_OC__COUNT };
const char *hl_order_clock_name(enum hl_order_clock k); /* "sign", "reply" */

struct hl_order {
	char order_id[HL_ID_BYTES + 1]; /* 1..128 characters: up to 4 bytes each */
	int64_t case_id;
	int32_t no;                 /* 1.. within its case: the timer key */
	enum hl_order_status status;
	char *department, *category, *area;
	char *result, *note;        /* order.reply */
	char *return_reason;        /* order.return */
	char *extend_reason;        /* the last order.extend */
	char *signed_by;
	hl_ms dispatched_at, signed_at, returned_at, replied_at;
	hl_ms due_at;               /* the reply deadline in force */
	hl_ms sign_due_at;
	hl_ms extend_requested_at, extend_until; /* pending request (until 0 = none) */
	int32_t extensions;         /* approved extensions */
	int32_t extend_rejections;
	struct hl_clock clocks[HL_OC__COUNT];
	bool is_new, dirty;
};

/* A case merged into another (case.merge): its caller is owed a call back
 * when `into` is resolved. */
struct hl_merge {
	int64_t case_id, into;
	bool is_new;
};

/* ---- rows (order_world.c) */
struct hl_order *hl_world_add_order(struct hl_world *w, const struct hl_order *o); /* deep copy; existing kept */
struct hl_order *hl_world_order(struct hl_world *w, const char *order_id);
struct hl_order *hl_world_order_no(struct hl_world *w, int64_t case_id, int32_t no);
/* The highest order number of the case in the world (the store loads the case's
 * highest-numbered order with its open and returned ones: store_orders_sql.h). */
int32_t hl_world_order_max_no(struct hl_world *w, int64_t case_id);
/* The orders of one case, in the order they were added (O(1) each):
 * for (o = hl_world_case_orders_first(w, id); o; o = hl_world_case_orders_next(w, o)) */
struct hl_order *hl_world_case_orders_first(struct hl_world *w, int64_t case_id);
struct hl_order *hl_world_case_orders_next(struct hl_world *w, const struct hl_order *o);
void hl_world_add_merge(struct hl_world *w, int64_t case_id, int64_t into, bool is_new);
void hl_order_free(struct hl_order *o); /* members only */
/* world.c calls these from reset/free */
void hl_world_orders_drop(struct hl_world *w);
void hl_world_orders_free(struct hl_world *w);

/* ---- rules (orders.c) */
bool hl_orders_handles(enum hl_type t);
/* Apply one order event or case.merge (after the duplicate check). */
void hl_orders_apply(struct hl_world *w, const struct hl_rules_env *env, const struct hl_event *ev,
                     struct hl_outcome *out);
/* The order id an event names or, for order.dispatch without one, the id the
 * daemon makes from the event id (the same on every retry). */
void hl_orders_event_order_id(const struct hl_event *ev, char *out, size_t len);
/* The order a stored event was answered with, from its type and event id and
 * its body's order_id (NULL when it had none): what a duplicate of it is
 * answered with.  "" for an event that names no order. */
void hl_orders_stored_order_id(const char *type, const char *event_id, const char *body_order_id, char *out,
                               size_t len);
/* A timer of an order clock fired (kind HL_OC_*): raise its overdue alert if that run is still pending and due. */
void hl_orders_clock_fire(struct hl_world *w, const struct hl_rules_env *env, int64_t case_id, int32_t no,
                          enum hl_order_clock kind, int32_t seq);
/* When the timer must look at this order clock next (0: not pending). */
hl_ms hl_order_next_fire(const struct hl_clock *k);
/* The next escalation of an alert: urge_after in working time for order_reply_overdue,
 * escalation.after otherwise. */
hl_ms hl_orders_next_escalation(const struct hl_config *cfg, const struct hl_alert *a, hl_ms now);
/* Tag an alert about case c's redispatch clock with the order that was returned last. */
void hl_orders_tag_redispatch(struct hl_world *w, const struct hl_case *c, struct hl_alert *a);
/* Between orders.c and order_clocks.c: an order still owed a sign or a reply
 * (dispatched, signed, extension requested); an alert tagged with an order's
 * id and department (CONTRACT 6: order alerts carry both). */
bool hl_order_open(const struct hl_order *o);
void hl_order_tag(struct hl_alert *a, const struct hl_order *o);

#endif
