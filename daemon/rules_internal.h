/*
 * rules_internal.h - the case rules that the work-order rules (orders.c)
 * share with rules.c, so that "the caller is owed a call back", "the case is
 * resolved" and the clock state changes mean exactly the same thing whoever
 * triggers them.  Private to the functional core.
 *
 * It also joins the files the case rules are split into, one concern each:
 * rules.c (the event handlers and hl_rules_apply), rules_check.c (phase one:
 * validate before touching anything), rules_clocks.c (the clock state
 * machine), rules_alerts.c (raising and escalating alerts) and rules_text.c
 * (the history line and its durations).
 */
#ifndef HL_RULES_INTERNAL_H
#define HL_RULES_INTERNAL_H

#include <stdarg.h>

#include "rules.h"

struct hl_config;
struct hl_policy;

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

/* order_clocks.c: a closed case's open orders stop their clocks. */
void hl_orders_case_closed(struct hl_world *w, int64_t case_id, hl_ms at);

/* ------------------------------------------- between the rules_*.c files */

/* The description being built for hotline.case_events (truncated to fit). */
struct hl_rules_text {
	char buf[256];
	size_t len;
};

/* One event (or timer) being applied by the case rules. */
struct hl_rules_ctx {
	struct hl_world *w;
	const struct hl_config *cfg;
	hl_ms now;                /* env->now */
	hl_ms at;                 /* ev->at: the instant every effect is dated */
	const struct hl_event *ev;/* the event being applied */
	struct hl_rules_text text;
};

/* What hl_rules_check() found; the apply phase works only on this. */
struct hl_rules_plan {
	struct hl_case *cs;     /* the case touched (NULL only for a known call whose case is not loaded) */
	struct hl_call *call;
	struct hl_alert *alert;
	bool offer;             /* an unseen call: do what call.offered does first */
	int64_t case_id;        /* for the outcome when cs is NULL */
};

/* order_clocks.c: a reopened case's open orders run their clocks again
 * (noted in `text`); true when a returned order is its last word and none is
 * open: a dispatch is owed again. */
bool hl_orders_case_reopened(struct hl_world *w, int64_t case_id, const struct hl_event *ev, hl_ms now,
                             struct hl_rules_text *text);

/* rules.c: the case effects rules_ops.c lends the order rules */
void hl_rules_classify(struct hl_rules_ctx *x, struct hl_case *c);     /* the event's category, priority */
void hl_rules_owe_callback(struct hl_rules_ctx *x, struct hl_case *c); /* as call.abandoned */
void hl_rules_resolve(struct hl_rules_ctx *x, struct hl_case *c);      /* as case.resolve */

/* rules_text.c */
size_t hl_rules_utf8_cut(const char *s, size_t len); /* longest prefix not ending inside a UTF-8 character */
void hl_rules_vsay(struct hl_rules_text *t, const char *fmt, va_list ap);
void hl_rules_say(struct hl_rules_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hl_rules_note(struct hl_rules_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3))); /* "; " + clause */
const char *hl_rules_short_dur(int64_t ms, char *buf, size_t len); /* "2d", "23h20m", "1m30s" */
const char *hl_rules_masked(const char *phone, char *buf, size_t len); /* hl_phone_mask */

/* rules_check.c */
bool hl_rules_check(struct hl_rules_ctx *x, struct hl_rules_plan *p, struct hl_outcome *out);
/* a status event (close, resolve, call.ended resolved, reopen, hold, survey's
 * reopen) dated before a later change of status delivered first, which
 * supersedes it: noted, true (the caller records it only) */
bool hl_rules_superseded(struct hl_rules_ctx *x, const struct hl_case *c, enum hl_type t);
hl_ms hl_rules_reopened_at(const struct hl_case *c); /* the last reopen; 0 never */

/* rules_clocks.c */
const struct hl_policy *hl_rules_policy_of(const struct hl_rules_ctx *x, const struct hl_case *c);
int64_t hl_rules_nonneg(int64_t v);
bool hl_rules_clock_arm(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind, const char *verb);
void hl_rules_clock_meet(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind);
bool hl_rules_clock_backdate(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind);
/* a contact dated before a closed case's close, delivered after it: meets
 * the callback the close stopped; false when it changes nothing */
/* the update clock just restarted by a contact dated before the current hold or the last
 * resumed one: paused (and resumed) as in the order of `at`; true when it did */
bool hl_rules_update_held(struct hl_rules_ctx *x, struct hl_case *c);
bool hl_rules_closed_contact(struct hl_rules_ctx *x, struct hl_case *c, bool undo);
/* a resolution (case.resolve, call.ended resolved) dated before a closed
 * case's close, delivered after it: resolved before it closed */
void hl_rules_resolve_closed(struct hl_rules_ctx *x, struct hl_case *c);
void hl_rules_clock_stop(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind);
void hl_rules_clock_pause(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind);
void hl_rules_clock_resume(struct hl_rules_ctx *x, struct hl_case *c, enum hl_clock_kind kind);
void hl_rules_reevaluate(struct hl_rules_ctx *x, struct hl_case *c); /* the policy may have changed */

/* rules_alerts.c */
void hl_rules_event_dedupe(char *out, size_t len, const char *prefix, const char *event_id);
struct hl_alert *hl_rules_raise_alert(struct hl_world *w, const char *kind, const struct hl_case *c,
                                      const char *caller, hl_ms raised_at, const char *dedupe, const char *detail);
void hl_rules_count_inbound(struct hl_rules_ctx *x, struct hl_caller *r, struct hl_case *c);

/* rules.c */
void hl_rules_touch(struct hl_rules_ctx *x, struct hl_case *c);

/* rules_withheld.c */
bool hl_rules_callback_impossible(struct hl_rules_ctx *x, const struct hl_case *c);
void hl_rules_withheld_unanswered(struct hl_rules_ctx *x, struct hl_case *c, const struct hl_call *call);
/* the answer of a withheld call dated before the abandonment that closed its case: open again */
bool hl_rules_withheld_answered(struct hl_rules_ctx *x, struct hl_case *c, hl_ms abandoned_at);

#endif
