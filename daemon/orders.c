/*
 * orders.c - what the work-order events do (CONTRACT.md 6; pure).
 *
 * The hotline dispatches a case to a department as a work order (工单); the
 * department signs for it (签收), may refuse it (退单) or ask for more time
 * (延期), and replies (办结反馈); the hotline then owes the caller a call.
 * These rules keep the promises that get lost between departments:
 *
 *   - both order clocks, `sign` and `reply`, count from dispatch: signing
 *     late buys no time;
 *   - a returned order arms the case's `redispatch` clock: the hotline owes a
 *     new dispatch (none when the case was dispatched again at or after the
 *     return's `at`: a return delivered late);
 *   - dispatching to a department that already returned an order of the case
 *     is buck-passing (A -> B -> A) and raises `buck_passing` at once;
 *   - an approved extension and a reply both make the caller owed a call back
 *     (the callback clock, as an abandoned call does);
 *   - a reply `resolved` with no other open order resolves the case;
 *   - a merged case (并单) stops its own resolution/update clocks, and its
 *     caller is owed a call back when the main case is resolved (rules.c's
 *     resolve() does that for every merged case in the world).
 *
 * Same discipline as rules.c: check() finds and validates everything and
 * touches nothing; only then is the event applied in full.  Ordering
 * violations (sign after return, reply on a returned order, ...) are
 * bad_request naming the order's status.  Order clocks count in the orders
 * calendar (orders.calendar, else sla.calendar) through hl_deadline(), so
 * "3wd" ends at the close of the third working day and the reply alert's
 * escalation (催办 -> 督办) comes every orders.urge_after of working time
 * (order_clocks.c: the clocks' timers, urging, and a case's close and
 * reopen).  What a case rule does for an order event goes through the ops
 * of rules_ops.c.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "orders.h"
#include "rules_internal.h"

static const char *const status_names[] = {"dispatched", "signed", "returned", "extension_requested", "replied"};
#define N_STATUS ((int)(sizeof status_names / sizeof status_names[0]))

const char *hl_order_status_name(enum hl_order_status s)
{
	return (int)s >= 0 && (int)s < N_STATUS ? status_names[s] : NULL;
}

int hl_order_status_from_name(const char *name)
{
	for (int i = 0; name && i < N_STATUS; i++)
		if (strcmp(status_names[i], name) == 0)
			return i;
	return -1;
}

const char *hl_order_clock_name(enum hl_order_clock k)
{
	return k == HL_OC_SIGN ? "sign" : k == HL_OC_REPLY ? "reply" : NULL;
}

bool hl_orders_handles(enum hl_type t)
{
	return t >= HL_EV_ORDER_DISPATCH && t <= HL_EV_CASE_MERGE;
}

void hl_orders_event_order_id(const struct hl_event *ev, char *out, size_t len)
{
	if (ev->order_id) {
		snprintf(out, len, "%s", ev->order_id);
		return;
	}
	if (ev->type != HL_EV_ORDER_DISPATCH) {
		out[0] = '\0';
		return;
	}
	/* the daemon's key: the event id (unique for all time), hashed when too long */
	int n = snprintf(out, len, "wo:%s", ev->id);
	if (n < 0 || (size_t)n >= len || n > HL_ID_MAX)
		snprintf(out, len, "wo:#%016" PRIx64, hl_hash_str(ev->id));
}

void hl_orders_stored_order_id(const char *type, const char *event_id, const char *body_order_id, char *out,
                               size_t len)
{
	struct hl_event ev = { .type = hl_type_from_name(type), .order_id = (char *)body_order_id };
	snprintf(ev.id, sizeof ev.id, "%s", event_id);
	if (ev.type < HL_EV_ORDER_DISPATCH || ev.type > HL_EV_ORDER_REPLY)
		ev.order_id = NULL, ev.type = HL_T_NONE; /* case.merge, call and case events: no order */
	hl_orders_event_order_id(&ev, out, len);
}

/* ------------------------------------------------------------ helpers */

struct octx {
	struct hl_rules_op op;
	const struct hl_config *cfg;
	const struct hl_calendar *cal; /* the orders calendar; NULL = wall clock */
	struct hl_case *cs;
	struct hl_case *into;          /* case.merge */
	struct hl_order *order;
	char order_id[HL_ID_BYTES + 1];
	int64_t reply_span;            /* dispatch: the reply deadline's span */
	hl_ms until;                   /* extend: the requested deadline */
	bool resolved;                 /* reply: it resolved the case */
	bool early;                    /* dated before the order's dispatch: taken as at it */
};

static bool fail(struct hl_outcome *out, enum hl_err e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(struct hl_outcome *out, enum hl_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof out->message, fmt, ap);
	va_end(ap);
	hl_utf8_mend(out->message); /* names cut with %.64s */
	out->err = e;
	return false;
}

static char *dup_or_null(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static void set_str(char **field, const char *value)
{
	if (!value)
		return;
	free(*field);
	*field = dup_or_null(value);
}

/* An absolute UTC time, for error messages (the wire speaks UTC). */
static const char *when(hl_ms t, char *buf, size_t len)
{
	hl_format_time(t, buf, len);
	return buf;
}

/* A time in a text stored for people: relative to the event ("in 3d", "2h ago"), never absolute UTC. */
static const char *rel(hl_ms from, hl_ms t, char *buf, size_t len)
{
	return hl_rules_rel_time(from, t, buf, len);
}

bool hl_order_open(const struct hl_order *o)
{
	return o->status == HL_OS_DISPATCHED || o->status == HL_OS_SIGNED || o->status == HL_OS_EXTENSION_REQUESTED;
}

static bool clock_owed(const struct hl_clock *k)
{
	return hl_rules_clock_owed(k);
}

/*
 * A history import ("backfill": true, CONTRACT 8): a deadline already past on
 * receipt is recorded breached at its due time and never gets a timer, so
 * nobody is paged for last year.  The case clocks do the same in rules.c.
 */
static void oclock_backfill(struct octx *x, struct hl_clock *k)
{
	if (!x->op.ev || !x->op.ev->backfill || k->state != HL_CS_PENDING || k->due_at >= x->op.env->now)
		return;
	k->state = HL_CS_BREACHED;
	k->breached_at = k->due_at;
	k->warned = true;
	hl_rules_op_note(&x->op, "already past due: breached, no alert (backfill)");
}

/* Start the first run of an order clock at `at`, due after `span`. */
static void oclock_arm(struct octx *x, struct hl_clock *k, int64_t span)
{
	memset(k, 0, sizeof *k);
	k->state = HL_CS_PENDING;
	k->seq = 1;
	k->started_at = x->op.at;
	k->due_at = hl_deadline(x->cal, x->op.at, span);
	hl_ms due = k->due_at == INT64_MAX ? x->op.at : k->due_at;
	k->allowed_ms = hl_cal_between(x->cal, x->op.at, due);
	snprintf(k->calendar, sizeof k->calendar, "%s",
	         x->cfg->orders.calendar[0] ? x->cfg->orders.calendar : x->cfg->sla.calendar);
	k->dirty = true;
	oclock_backfill(x, k);
}

static void oclock_end(struct octx *x, struct hl_order *o, enum hl_order_clock kind, bool met)
{
	struct hl_clock *k = &o->clocks[kind];
	if (!clock_owed(k))
		return;
	bool late = k->state == HL_CS_BREACHED;
	k->state = met ? HL_CS_MET : HL_CS_STOPPED;
	if (met)
		k->met_at = x->op.at;
	k->dirty = true;
	o->dirty = true;
	hl_rules_op_note(&x->op, "%s %s%s", hl_order_clock_name(kind), met ? "met" : "stopped",
	                 met && late ? " (late)" : "");
}

/* ------------------------------------------------------------- checks */

static bool need_order(struct octx *x, struct hl_outcome *out)
{
	const struct hl_event *ev = x->op.ev;
	x->order = hl_world_order(x->op.w, ev->order_id);
	if (!x->order)
		return fail(out, HL_E_UNKNOWN_ORDER, "order_id: no order '%.128s'", ev->order_id);
	x->cs = hl_world_case(x->op.w, x->order->case_id);
	if (!x->cs)
		return fail(out, HL_E_INTERNAL, "case_id: case %" PRId64 " of order '%.64s' is not loaded",
		            x->order->case_id, ev->order_id);
	/* Nothing happens to an order before its dispatch: an event stamped
	 * earlier (the department's clock is behind the hotline's) is taken as
	 * at the dispatch, before any check reads `at`.  At its own `at` it put
	 * signed_at / replied_at before dispatched_at and met the clocks before
	 * their run began (review-rules3). */
	x->early = x->op.at < x->order->dispatched_at;
	if (x->early)
		x->op.at = x->order->dispatched_at;
	return true;
}

/* The order must be in one of the `ok` states; else bad_request naming its status. */
static bool need_status(struct octx *x, struct hl_outcome *out, unsigned ok_mask, const char *doing)
{
	if (ok_mask & (1u << x->order->status))
		return true;
	return fail(out, HL_E_BAD_REQUEST, "order_id: order '%.64s' is %s: cannot %s", x->order->order_id,
	            hl_order_status_name(x->order->status), doing);
}

#define M(s) (1u << (s))
#define OPEN_MASK (M(HL_OS_DISPATCHED) | M(HL_OS_SIGNED) | M(HL_OS_EXTENSION_REQUESTED))

static bool need_case(struct octx *x, struct hl_outcome *out, int64_t id, const char *field, struct hl_case **c)
{
	*c = hl_world_case(x->op.w, id);
	if (!*c)
		return fail(out, HL_E_UNKNOWN_CASE, "%s: no case %" PRId64, field, id);
	return true;
}

static bool parse_span(struct octx *x, struct hl_outcome *out, const char *value, const char *field, int64_t *span)
{
	if (hl_parse_span(value, span) != 0)
		return fail(out, HL_E_BAD_REQUEST, "%s: bad duration (use 90s, 30m, 48h, 2d or 3wd)", field);
	if (hl_span_is_wd(*span) && !x->cal)
		return fail(out, HL_E_BAD_REQUEST, "%s: working days need a calendar (orders.calendar)", field);
	return true;
}

static bool check_dispatch(struct octx *x, struct hl_outcome *out)
{
	const struct hl_event *ev = x->op.ev;
	if (!need_case(x, out, ev->case_id, "case_id", &x->cs))
		return false;
	if (x->cs->status != HL_ST_OPEN)
		return fail(out, HL_E_BAD_REQUEST, "case_id: case %" PRId64 " is %s: only an open case is dispatched",
		            x->cs->id, hl_status_name(x->cs->status));
	hl_orders_event_order_id(ev, x->order_id, sizeof x->order_id);
	if (hl_world_order(x->op.w, x->order_id))
		return fail(out, HL_E_BAD_REQUEST, "order_id: order '%.64s' exists already", x->order_id);
	if (hl_world_order_max_no(x->op.w, x->cs->id) + 1 >= HL_ORDER_KEY_MUL)
		return fail(out, HL_E_BAD_REQUEST, "case_id: case %" PRId64 " has too many orders", x->cs->id);
	x->reply_span = hl_config_policy(x->cfg, ev->category ? ev->category : x->cs->category, x->cs->priority)->reply_ms;
	if (ev->due && !parse_span(x, out, ev->due, "due", &x->reply_span))
		return false;
	if (x->reply_span == 0)
		return fail(out, HL_E_BAD_REQUEST, "due: must not be 0");
	if (ev->due && hl_deadline(x->cal, x->op.at, x->reply_span) > HL_MS_MAX)
		return fail(out, HL_E_BAD_REQUEST, "due: the deadline would be after 9999-12-31");
	return true;
}

static bool check_extend(struct octx *x, struct hl_outcome *out)
{
	const struct hl_event *ev = x->op.ev;
	char t[32];
	if (!need_order(x, out) || !need_status(x, out, M(HL_OS_DISPATCHED) | M(HL_OS_SIGNED), "ask for an extension"))
		return false;
	if (x->op.at >= x->order->due_at)
		return fail(out, HL_E_BAD_REQUEST, "at: order '%.64s' was due %s: an extension must be asked before the deadline",
		            x->order->order_id, when(x->order->due_at, t, sizeof t));
	if (ev->until) {
		if (hl_parse_time(ev->until, &x->until) != 0)
			return fail(out, HL_E_BAD_REQUEST, "until: must be an RFC 3339 timestamp with an offset or Z");
	} else if (ev->by) {
		int64_t span;
		if (!parse_span(x, out, ev->by, "by", &span))
			return false;
		if (span == 0) /* on a calendar, 0 from a closing time would give the next opening */
			return fail(out, HL_E_BAD_REQUEST, "by: must not be 0");
		x->until = hl_deadline(x->cal, x->order->due_at, span);
		if (x->until > HL_MS_MAX)
			return fail(out, HL_E_BAD_REQUEST, "by: the deadline would be after 9999-12-31");
	} else {
		return fail(out, HL_E_BAD_REQUEST, "until: missing (give until or by)");
	}
	if (x->until <= x->order->due_at)
		return fail(out, HL_E_BAD_REQUEST, "until: must be after the current deadline %s",
		            when(x->order->due_at, t, sizeof t));
	return true;
}

/*
 * order.sign: a dispatched order; also one whose extension request is
 * pending and that was not signed yet (asking for time does not stop a
 * department signing), and a replied, unsigned order when the sign is dated
 * at or before the reply: the sign came first and was delivered late.
 * Refusing it would count the order as never signed in the monthly figures.
 */
static bool check_sign(struct octx *x, struct hl_outcome *out)
{
	if (!need_order(x, out))
		return false;
	const struct hl_order *o = x->order;
	if (!o->signed_at && (o->status == HL_OS_EXTENSION_REQUESTED ||
	                      (o->status == HL_OS_REPLIED && x->op.at <= o->replied_at)))
		return true;
	return need_status(x, out, M(HL_OS_DISPATCHED), "sign");
}

static bool check_reply(struct octx *x, struct hl_outcome *out)
{
	static const char *const results[] = {"resolved", "explained", "unresolved"};
	const char *r = x->op.ev->result;
	bool ok = false;
	for (size_t i = 0; r && i < 3; i++)
		ok = ok || strcmp(r, results[i]) == 0;
	if (!ok)
		return fail(out, HL_E_BAD_REQUEST, "result: must be resolved, explained or unresolved");
	return need_order(x, out) && need_status(x, out, OPEN_MASK, "reply");
}

static bool check_merge(struct octx *x, struct hl_outcome *out)
{
	const struct hl_event *ev = x->op.ev;
	if (!need_case(x, out, ev->case_id, "case_id", &x->cs))
		return false;
	if (ev->into == ev->case_id)
		return fail(out, HL_E_BAD_REQUEST, "into: case %" PRId64 " cannot be merged into itself", ev->into);
	if (!need_case(x, out, ev->into, "into", &x->into))
		return false;
	if (x->cs->status == HL_ST_CLOSED || x->cs->status == HL_ST_MERGED)
		return fail(out, HL_E_BAD_REQUEST, "case_id: case %" PRId64 " is %s", x->cs->id, hl_status_name(x->cs->status));
	if (x->into->status == HL_ST_CLOSED || x->into->status == HL_ST_MERGED)
		return fail(out, HL_E_BAD_REQUEST, "into: case %" PRId64 " is %s", x->into->id,
		            hl_status_name(x->into->status));
	return true;
}

static bool check(struct octx *x, struct hl_outcome *out)
{
	switch (x->op.ev->type) {
	case HL_EV_ORDER_DISPATCH: return check_dispatch(x, out);
	case HL_EV_ORDER_SIGN: return check_sign(x, out);
	case HL_EV_ORDER_RETURN: return need_order(x, out) && need_status(x, out, OPEN_MASK, "return it");
	case HL_EV_ORDER_EXTEND: return check_extend(x, out);
	case HL_EV_ORDER_EXTEND_APPROVE:
		return need_order(x, out) && need_status(x, out, M(HL_OS_EXTENSION_REQUESTED), "approve an extension");
	case HL_EV_ORDER_EXTEND_REJECT:
		return need_order(x, out) && need_status(x, out, M(HL_OS_EXTENSION_REQUESTED), "reject an extension");
	case HL_EV_ORDER_REPLY: return check_reply(x, out);
	case HL_EV_CASE_MERGE: return check_merge(x, out);
	default: return fail(out, HL_E_UNKNOWN_TYPE, "type: not an order event");
	}
}

/* ------------------------------------------------------------ effects */

/* An order of this case, returned by `department` before, other than `o`. */
static struct hl_order *returned_by(struct hl_world *w, const struct hl_order *o)
{
	for (struct hl_order *p = hl_world_case_orders_first(w, o->case_id); p; p = hl_world_case_orders_next(w, p)) {
		if (p != o && p->status == HL_OS_RETURNED && p->department && strcmp(p->department, o->department) == 0)
			return p;
	}
	return NULL;
}

void hl_order_tag(struct hl_alert *a, const struct hl_order *o)
{
	snprintf(a->order_id, sizeof a->order_id, "%s", o->order_id);
	snprintf(a->department, sizeof a->department, "%s", o->department ? o->department : "");
	a->dirty = true;
}

static void on_dispatch(struct octx *x)
{
	const struct hl_event *ev = x->op.ev;
	struct hl_case *c = x->cs;
	char t1[32], t2[32];
	struct hl_order t;
	memset(&t, 0, sizeof t);
	snprintf(t.order_id, sizeof t.order_id, "%s", x->order_id);
	t.case_id = c->id;
	t.no = hl_world_order_max_no(x->op.w, c->id) + 1;
	t.status = HL_OS_DISPATCHED;
	t.department = ev->department; /* deep-copied by hl_world_add_order */
	t.category = ev->category ? ev->category : c->category;
	t.area = ev->area;
	t.dispatched_at = x->op.at;
	t.is_new = t.dirty = true;
	int64_t sign_span = hl_config_policy(x->cfg, t.category, c->priority)->sign_ms;
	if (sign_span != 0)
		oclock_arm(x, &t.clocks[HL_OC_SIGN], sign_span);
	oclock_arm(x, &t.clocks[HL_OC_REPLY], x->reply_span);
	t.sign_due_at = t.clocks[HL_OC_SIGN].due_at;
	t.due_at = t.clocks[HL_OC_REPLY].due_at;
	struct hl_order *o = hl_world_add_order(x->op.w, &t);
	x->order = o;

	hl_rules_op_note(&x->op, "order %s dispatched to %s (order %" PRId32 " of case %" PRId64 ")", o->order_id,
	                 o->department, o->no, c->id);
	if (o->clocks[HL_OC_SIGN].state == HL_CS_PENDING)
		hl_rules_op_note(&x->op, "sign due %s", rel(x->op.at, o->sign_due_at, t1, sizeof t1));
	hl_rules_op_note(&x->op, "reply due %s", rel(x->op.at, o->due_at, t2, sizeof t2));
	if (!c->department || strcmp(c->department, o->department) != 0) {
		free(c->department);
		c->department = dup_or_null(o->department);
	}
	c->dirty = true;
	c->updated_at = x->op.env->now;
	hl_rules_op_classify(&x->op, c);
	hl_rules_op_meet(&x->op, c, HL_CK_REDISPATCH);

	struct hl_order *back = returned_by(x->op.w, o);
	if (back) {
		char dedupe[128], detail[200];
		snprintf(dedupe, sizeof dedupe, "buck_passing:%" PRId64 "#%" PRId32, c->id, o->no);
		snprintf(detail, sizeof detail, "case %" PRId64 " dispatched back to %.64s, which returned order %.48s (%.48s)",
		         c->id, o->department, back->order_id, back->return_reason ? back->return_reason : "");
		struct hl_alert *a = x->op.ev->backfill ? NULL
		                     : hl_rules_raise(x->op.w, "buck_passing", c, x->op.at, dedupe, detail);
		if (a) {
			hl_order_tag(a, o);
			hl_rules_op_note(&x->op, "buck_passing alert");
		}
	}
}

static void on_sign(struct octx *x)
{
	struct hl_order *o = x->order;
	if (o->status == HL_OS_DISPATCHED)
		o->status = HL_OS_SIGNED; /* extension_requested stays; undo_request then goes back to signed */
	o->signed_at = x->op.at;
	set_str(&o->signed_by, x->op.ev->by);
	o->dirty = true;
	hl_rules_op_note(&x->op, "order %s signed by %s", o->order_id, x->op.ev->by ? x->op.ev->by : o->department);
	struct hl_clock *k = &o->clocks[HL_OC_SIGN];
	if (o->status == HL_OS_REPLIED) {
		/* the reply met the sign clock; it was met when the order was signed */
		hl_rules_op_note(&x->op, "before its reply (delivered late)");
		if (k->state == HL_CS_MET && k->met_at > x->op.at) {
			k->met_at = x->op.at;
			k->dirty = true;
		}
		return;
	}
	oclock_end(x, o, HL_OC_SIGN, true);
}

/*
 * Another order of o's case dispatched at or after `at`: a return delivered
 * after the dispatch that answered it (the department's system reports at
 * 10:20 a return made at 10:02; the hotline, told by phone, dispatched again
 * at 10:05) owes no new dispatch.  The store loads the case's highest-numbered
 * order, so the latest dispatch is in the world.
 */
static const struct hl_order *dispatched_since(struct hl_world *w, const struct hl_order *o, hl_ms at)
{
	for (const struct hl_order *p = hl_world_case_orders_first(w, o->case_id); p; p = hl_world_case_orders_next(w, p))
		if (p != o && p->dispatched_at >= at)
			return p;
	return NULL;
}

static void on_return(struct octx *x)
{
	struct hl_order *o = x->order;
	o->status = HL_OS_RETURNED;
	o->returned_at = x->op.at;
	o->extend_until = 0;
	set_str(&o->return_reason, x->op.ev->reason);
	o->dirty = true;
	hl_rules_op_note(&x->op, "order %s returned by %s (%s)", o->order_id, o->department, x->op.ev->reason);
	oclock_end(x, o, HL_OC_SIGN, false);
	oclock_end(x, o, HL_OC_REPLY, false);
	if (x->cs->status != HL_ST_OPEN)
		return;
	const struct hl_order *next = dispatched_since(x->op.w, o, x->op.at);
	if (next)
		hl_rules_op_note(&x->op, "already dispatched again (order %s to %s): no redispatch owed", next->order_id,
		                 next->department);
	else
		hl_rules_op_arm(&x->op, x->cs, HL_CK_REDISPATCH);
}

static void on_extend(struct octx *x)
{
	struct hl_order *o = x->order;
	char t[32];
	o->status = HL_OS_EXTENSION_REQUESTED;
	o->extend_requested_at = x->op.at;
	o->extend_until = x->until;
	set_str(&o->extend_reason, x->op.ev->reason);
	o->dirty = true;
	/* what was asked, as asked: "3wd" is three working days, not the
	 * wall-clock gap it makes across a weekend (`until` wins over `by`) */
	if (x->op.ev->by && !x->op.ev->until)
		hl_rules_op_note(&x->op, "order %s: %s asks for %s more time, due %s if approved (%s)",
		                 o->order_id, o->department, x->op.ev->by, rel(x->op.at, x->until, t, sizeof t), x->op.ev->reason);
	else
		hl_rules_op_note(&x->op, "order %s: %s asks for more time, due %s if approved (%s)",
		                 o->order_id, o->department, rel(x->op.at, x->until, t, sizeof t), x->op.ev->reason);
}

/* After an extension request is decided: back to where the order was. */
static void undo_request(struct hl_order *o)
{
	o->status = o->signed_at ? HL_OS_SIGNED : HL_OS_DISPATCHED;
	o->extend_until = 0;
	o->dirty = true;
}

static void on_approve(struct octx *x)
{
	struct hl_order *o = x->order;
	struct hl_clock *k = &o->clocks[HL_OC_REPLY];
	char t[32];
	o->due_at = o->extend_until;
	o->extensions++;
	undo_request(o);
	/* a new run of the reply clock with the new deadline (its breach, if any, was alerted);
	 * on a closed case the order clocks stay stopped: nobody is urged about a closed case */
	bool closed = x->cs->status == HL_ST_CLOSED;
	k->state = closed ? HL_CS_STOPPED : HL_CS_PENDING;
	k->seq++;
	k->due_at = o->due_at;
	k->allowed_ms = hl_cal_between(x->cal, k->started_at, o->due_at);
	k->met_at = k->breached_at = 0;
	k->dirty = true;
	oclock_backfill(x, k);
	hl_rules_op_note(&x->op, "order %s extended, now due %s", o->order_id, rel(x->op.at, o->due_at, t, sizeof t));
	if (closed)
		hl_rules_op_note(&x->op, "case %" PRId64 " is closed: reply stays stopped", x->cs->id);
	else {
		hl_rules_op_note(&x->op, "the caller must be told");
		hl_rules_op_owe_callback(&x->op, x->cs);
	}
}

static void on_reject(struct octx *x)
{
	struct hl_order *o = x->order;
	char t[32];
	o->extend_rejections++;
	undo_request(o);
	hl_rules_op_note(&x->op, "order %s: extension refused%s%s; still due %s", o->order_id,
	                 x->op.ev->reason ? ": " : "", x->op.ev->reason ? x->op.ev->reason : "",
	                 rel(x->op.at, o->due_at, t, sizeof t));
}

static void on_reply(struct octx *x)
{
	struct hl_order *o = x->order;
	struct hl_case *c = x->cs;
	o->status = HL_OS_REPLIED;
	o->replied_at = x->op.at;
	o->extend_until = 0;
	set_str(&o->result, x->op.ev->result);
	set_str(&o->note, x->op.ev->note);
	o->dirty = true;
	hl_rules_op_note(&x->op, "order %s replied by %s: %s", o->order_id, o->department, o->result);
	oclock_end(x, o, HL_OC_SIGN, true); /* a reply shows the department had it */
	oclock_end(x, o, HL_OC_REPLY, true);
	if (c->status == HL_ST_CLOSED)
		return;
	hl_rules_op_owe_callback(&x->op, c);
	if (strcmp(o->result, "resolved") != 0 || c->status != HL_ST_OPEN)
		return;
	for (struct hl_order *p = hl_world_case_orders_first(x->op.w, c->id); p; p = hl_world_case_orders_next(x->op.w, p)) {
		if (p != o && hl_order_open(p)) {
			hl_rules_op_note(&x->op, "order %s still open", p->order_id);
			return;
		}
	}
	hl_rules_op_resolve(&x->op, c);
	x->resolved = true;
}

static void on_merge(struct octx *x)
{
	struct hl_case *c = x->cs;
	hl_rules_op_note(&x->op, "case %" PRId64 " merged into case %" PRId64, c->id, x->into->id);
	if (x->op.ev->reason)
		hl_rules_op_note(&x->op, "%s", x->op.ev->reason);
	c->status = HL_ST_MERGED;
	if (c->on_hold) {
		c->held_ms += x->op.at > c->hold_since ? x->op.at - c->hold_since : 0;
		c->on_hold = false;
		c->hold_since = 0;
	}
	c->dirty = true;
	c->updated_at = x->op.env->now;
	hl_rules_op_stop(&x->op, c, HL_CK_RESOLUTION);
	hl_rules_op_stop(&x->op, c, HL_CK_UPDATE);
	hl_rules_op_stop(&x->op, c, HL_CK_REDISPATCH); /* a merged case is not dispatched again */
	hl_world_add_merge(x->op.w, c->id, x->into->id, true);
	bool told = x->into->status == HL_ST_RESOLVED;
	if (told) {
		hl_rules_op_note(&x->op, "case %" PRId64 " is resolved already", x->into->id);
		hl_rules_op_owe_callback(&x->op, c);
	}
	/* The cases merged into this one follow it into `into`: their callers
	 * are owed a call back when `into` is resolved, which looks one merge
	 * deep (rules.c resolve()).  Those of a case resolved before it was
	 * merged were owed theirs when it was resolved. */
	if (c->resolved_at)
		return;
	struct hl_world *w = x->op.w;
	for (size_t i = 0; i < w->n_merges; i++) {
		struct hl_case *m = w->merges[i].into == c->id ? hl_world_case(w, w->merges[i].case_id) : NULL;
		if (!m || m->status != HL_ST_MERGED)
			continue;
		hl_world_add_merge(w, m->id, x->into->id, true);
		hl_rules_op_note(&x->op, "case %" PRId64 " follows into case %" PRId64, m->id, x->into->id);
		if (told)
			hl_rules_op_owe_callback(&x->op, m);
	}
}

void hl_orders_apply(struct hl_world *w, const struct hl_rules_env *env, const struct hl_event *ev,
                     struct hl_outcome *out)
{
	struct octx x;
	memset(&x, 0, sizeof x);
	x.op = (struct hl_rules_op){.w = w, .env = env, .ev = ev, .at = ev->at};
	x.cfg = env->cfg;
	x.cal = hl_config_orders_calendar(env->cfg);
	if (!check(&x, out))
		return;
	switch (ev->type) {
	case HL_EV_ORDER_DISPATCH: on_dispatch(&x); break;
	case HL_EV_ORDER_SIGN: on_sign(&x); break;
	case HL_EV_ORDER_RETURN: on_return(&x); break;
	case HL_EV_ORDER_EXTEND: on_extend(&x); break;
	case HL_EV_ORDER_EXTEND_APPROVE: on_approve(&x); break;
	case HL_EV_ORDER_EXTEND_REJECT: on_reject(&x); break;
	case HL_EV_ORDER_REPLY: on_reply(&x); break;
	case HL_EV_CASE_MERGE: on_merge(&x); break;
	default: break;
	}
	if (x.early)
		hl_rules_op_note(&x.op, "dated before the order's dispatch: taken as at the dispatch");
	out->case_id = x.cs->id;
	if (x.order)
		snprintf(out->order_id, sizeof out->order_id, "%s", x.order->order_id);
	hl_world_add_accepted(w, ev, out->case_id, x.op.text);
	/* stored with the event for the figures (sql/045): a reply counts as
	 * a resolution only when the rules resolved the case with it */
	w->accepted[w->n_accepted - 1].case_resolved = x.resolved;
	hl_world_add_seen_order(w, ev->id, out->case_id, out->order_id);
}
