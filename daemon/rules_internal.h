/*
 * rules_internal.h - the case rules that the work-order rules (orders.c)
 * share with rules.c, so that "the caller is owed a call back", "the case is
 * resolved" and the clock state changes mean exactly the same thing whoever
 * triggers them.  Private to the functional core.
 */
#ifndef HL_RULES_INTERNAL_H
#define HL_RULES_INTERNAL_H

#include "rules.h"

/* One event being applied: its world, time and the description being built. */
struct hl_rules_op {
	struct hl_world *w;
	const struct hl_rules_env *env;
	const struct hl_event *ev;
	hl_ms at;
	char text[256];
	size_t len;
};

void hl_rules_op_note(struct hl_rules_op *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hl_rules_op_owe_callback(struct hl_rules_op *op, struct hl_case *c); /* as call.abandoned */
void hl_rules_op_resolve(struct hl_rules_op *op, struct hl_case *c);      /* as case.resolve */
bool hl_rules_op_arm(struct hl_rules_op *op, struct hl_case *c, enum hl_clock_kind kind);
void hl_rules_op_meet(struct hl_rules_op *op, struct hl_case *c, enum hl_clock_kind kind);
void hl_rules_op_stop(struct hl_rules_op *op, struct hl_case *c, enum hl_clock_kind kind);
void hl_rules_op_classify(struct hl_rules_op *op, struct hl_case *c);     /* category/priority of the event */
bool hl_rules_clock_owed(const struct hl_clock *k); /* pending, paused or breached */
struct hl_alert *hl_rules_raise(struct hl_world *w, const char *kind, const struct hl_case *c, hl_ms raised_at,
                                const char *dedupe, const char *detail);
const char *hl_rules_rough_dur(int64_t ms, char *buf, size_t len); /* "12d4h", "1m30s" */
const char *hl_rules_rel_time(hl_ms from, hl_ms t, char *buf, size_t len); /* "in 2h", "now", "5m ago" */

/* orders.c: a closed case's open orders stop their clocks. */
void hl_orders_case_closed(struct hl_world *w, int64_t case_id, hl_ms at);

#endif
