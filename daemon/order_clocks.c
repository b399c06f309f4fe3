/*
 * order_clocks.c - the work orders' clocks once they run (CONTRACT.md 6;
 * pure): a timer that fires raises the sign or reply overdue alert, the
 * reply alert is urged in working time (催办 -> 督办), the redispatch alerts
 * are tagged with the order returned last, and a case's close and reopen
 * stop and restart what its open orders owe.
 *
 * Split from orders.c, which applies the order events themselves: these run
 * from timers (store_due.c through rules) and from the case rules
 * (rules.c: close, reopen), never from an order event.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "orders.h"
#include "rules_internal.h"

hl_ms hl_order_next_fire(const struct hl_clock *k)
{
	return k && k->state == HL_CS_PENDING ? k->due_at : 0;
}

void hl_orders_clock_fire(struct hl_world *w, const struct hl_rules_env *env, int64_t case_id, int32_t no,
                          enum hl_order_clock kind, int32_t seq)
{
	if ((int)kind < 0 || kind >= HL_OC__COUNT)
		return;
	struct hl_order *o = hl_world_order_no(w, case_id, no);
	struct hl_case *c = hl_world_case(w, case_id);
	if (!o || !c)
		return;
	struct hl_clock *k = &o->clocks[kind];
	if (k->seq != seq || k->state != HL_CS_PENDING || k->due_at >= env->now)
		return; /* stale, or early: the timer is set again from the clock */
	const struct hl_config *cfg = env->cfg;
	char kindbuf[HL_ALERT_KIND_MAX], dedupe[128], detail[200], t[32];
	const char *name = hl_order_clock_name(kind);
	snprintf(kindbuf, sizeof kindbuf, "order_%s_overdue", name);
	snprintf(dedupe, sizeof dedupe, "%" PRId64 "#%" PRId32 ":%s:%" PRId32 ":overdue", case_id, no, name, seq);
	snprintf(detail, sizeof detail, "order %.64s to %.64s not %s, due %s", o->order_id, o->department,
	         kind == HL_OC_SIGN ? "signed" : "answered", hl_rules_rel_time(env->now, k->due_at, t, sizeof t));
	struct hl_alert *a = hl_rules_raise(w, kindbuf, c, env->now, dedupe, detail);
	if (a) {
		hl_order_tag(a, o);
		a->due_at = k->due_at;
		if (cfg->escalation.max_level > 1)
			a->escalate_at = hl_orders_next_escalation(cfg, a, env->now);
	}
	k->state = HL_CS_BREACHED;
	k->breached_at = k->due_at;
	k->dirty = true;
	o->dirty = true;
}

hl_ms hl_orders_next_escalation(const struct hl_config *cfg, const struct hl_alert *a, hl_ms now)
{
	if (strcmp(a->kind, "order_reply_overdue") == 0) {
		/* 催办 -> 督办: counted in the orders calendar's working time, so an
		 * urge never fires at midnight or on a holiday */
		hl_ms at = hl_deadline(hl_config_orders_calendar(cfg), now, cfg->orders.urge_after_ms);
		return at == INT64_MAX ? 0 : at;
	}
	return cfg->escalation.after_ms > 0 ? now + cfg->escalation.after_ms : 0;
}

void hl_orders_tag_redispatch(struct hl_world *w, const struct hl_case *c, struct hl_alert *a)
{
	const struct hl_order *last = NULL;
	for (const struct hl_order *o = hl_world_case_orders_first(w, c->id); o; o = hl_world_case_orders_next(w, o)) {
		if (o->status == HL_OS_RETURNED && (!last || o->returned_at >= last->returned_at))
			last = o;
	}
	if (last)
		hl_order_tag(a, last);
}

void hl_orders_case_closed(struct hl_world *w, int64_t case_id, hl_ms at)
{
	(void)at;
	for (struct hl_order *o = hl_world_case_orders_first(w, case_id); o; o = hl_world_case_orders_next(w, o)) {
		for (int k = 0; k < HL_OC__COUNT; k++)
			if (hl_rules_clock_owed(&o->clocks[k])) {
				o->clocks[k].state = HL_CS_STOPPED;
				o->clocks[k].dirty = true;
				o->dirty = true;
			}
	}
}

/*
 * case.reopen: what close stopped and is still owed runs again.  An open
 * order's sign and reply clocks: one that had breached before the close is
 * breached again (its alert was raised; no second one), the others start a
 * new run with their old deadline (the department's deadline never moved;
 * past it, the alert comes at once).  Returns whether a dispatch is owed
 * again (an order was returned and none is open): rules.c then arms the
 * redispatch clock that close or resolve stopped, counted from the reopen.
 */
bool hl_orders_case_reopened(struct hl_world *w, int64_t case_id, const struct hl_event *ev, hl_ms now,
                             struct hl_rules_text *text)
{
	bool any_open = false, any_returned = false;
	for (struct hl_order *o = hl_world_case_orders_first(w, case_id); o; o = hl_world_case_orders_next(w, o)) {
		any_returned = any_returned || o->status == HL_OS_RETURNED;
		if (!hl_order_open(o))
			continue;
		any_open = true;
		for (int kind = 0; kind < HL_OC__COUNT; kind++) {
			struct hl_clock *k = &o->clocks[kind];
			if (k->state != HL_CS_STOPPED || (kind == HL_OC_SIGN && o->signed_at))
				continue;
			if (k->breached_at) {
				k->state = HL_CS_BREACHED;
			} else {
				k->state = HL_CS_PENDING;
				k->seq++;
				if (ev && ev->backfill && k->due_at < now) {
					k->state = HL_CS_BREACHED;
					k->breached_at = k->due_at;
					k->warned = true;
				}
			}
			k->dirty = true;
			o->dirty = true;
			hl_rules_note(text, "order %s %s %s", o->order_id, hl_order_clock_name((enum hl_order_clock)kind),
			                 k->state == HL_CS_PENDING ? "restarted" : "still overdue");
		}
	}
	return !any_open && any_returned;
}
