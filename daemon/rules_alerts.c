/*
 * rules_alerts.c - raising alerts (pure): the alert row itself, its
 * deduplication key, repeat_caller counting, the due-soon and overdue alerts
 * of a clock whose timer fired (hl_rules_clock_fire) and the escalation of
 * an unacknowledged alert (hl_rules_escalate).
 *
 * Separate from rules.c because an alert is raised from several places (the
 * event handlers, the timers, the work-order rules) and must mean the same
 * thing from each: it is deduplicated on a key that names the breach
 * ("<case>:<kind>:<seq>:overdue"), which the database enforces with a UNIQUE
 * constraint, so a breach is alerted once even across crashes and daemons;
 * a confidential caller's alert is marked so that every reader masks it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "orders.h"
#include "rules_internal.h"

/* ------------------------------------------------------------- alerts */

/* "<prefix><event id>"; an event id too long for the key is replaced by its
 * hash (the key only has to be unique, and event ids are). */
void hl_rules_event_dedupe(char *out, size_t len, const char *prefix, const char *event_id)
{
	int n = snprintf(out, len, "%s%s", prefix, event_id);
	if (n < 0 || (size_t)n >= len)
		snprintf(out, len, "%s#%016" PRIx64, prefix, hl_hash_str(event_id));
}

static bool caller_confidential(struct hl_world *w, const char *caller)
{
	struct hl_caller *r = hl_world_caller(w, caller);
	return r && r->confidential;
}

/* Append a new alert unless one with the same dedupe key exists; NULL then. */
struct hl_alert *hl_rules_raise_alert(struct hl_world *w, const char *kind, const struct hl_case *c,
                                    const char *caller, hl_ms raised_at, const char *dedupe, const char *detail)
{
	if (hl_world_alert_by_dedupe(w, dedupe))
		return NULL;
	struct hl_alert a;
	memset(&a, 0, sizeof a);
	snprintf(a.kind, sizeof a.kind, "%s", kind);
	a.case_id = c ? c->id : 0;
	snprintf(a.caller, sizeof a.caller, "%s", caller ? caller : "");
	a.confidential = caller_confidential(w, a.caller);
	a.level = 1;
	a.raised_at = raised_at;
	snprintf(a.dedupe, sizeof a.dedupe, "%s", dedupe);
	a.detail = (char *)detail; /* deep-copied by hl_world_add_alert */
	a.is_new = a.dirty = true;
	struct hl_alert *n = hl_world_add_alert(w, &a);
	if (n && n->detail)
		hl_utf8_mend(n->detail); /* department, reason, key cut with %.48s: whole characters only */
	return n;
}

/* Inbound calls of r in the window (end - window, end] after `base` (a crossing). */
static int calls_in_window(const struct hl_caller *r, hl_ms end, int64_t window, hl_ms base)
{
	int count = 0;
	for (size_t i = 0; i < r->n_inbound; i++) {
		hl_ms t = r->inbound[i];
		if (t > end - window && t <= end && t > base)
			count++;
	}
	return count;
}

/* The crossings of r after its first `keep` ones become chain[0..n) (the
 * last HL_REPEAT_KEEP of them): the oldest that no longer fit become the floor. */
static void set_crossings(struct hl_caller *r, int keep, const hl_ms *chain, int n)
{
	hl_ms all[2 * HL_REPEAT_KEEP];
	int m = 0;
	for (int i = 0; i < keep; i++)
		all[m++] = r->repeat_crossings[i];
	for (int i = 0; i < n; i++)
		all[m++] = chain[i];
	int drop = m > HL_REPEAT_KEEP ? m - HL_REPEAT_KEEP : 0;
	if (drop)
		r->repeat_floor = all[drop - 1];
	r->n_repeat_crossings = m - drop;
	memcpy(r->repeat_crossings, all + drop, (size_t)(m - drop) * sizeof *all);
	r->repeat_alerted_at = all[m - 1];
	r->dirty = true;
}

/*
 * One more inbound call from r, at x->at: the `threshold`-th inside the
 * window since the last crossing raises repeat_caller.  A crossing is the
 * last call of a window that reached the threshold; its calls (and those
 * before) count for no later window ("one alert per crossing").  In the
 * order of `at` the crossings are a chain: from the last crossing before a
 * call, the first window after it that reaches the threshold is the next
 * crossing, and so on.
 *
 * A call delivered late (out of order of `at`) can change that chain after
 * the last crossing before it: the chain is followed again from there over
 * the windows that end at or after the call (those ending before it are
 * unchanged and did not cross), the crossings after it are replaced by the
 * new chain, and when the chain now has more of them, the missed one is
 * alerted.  The caller keeps its last HL_REPEAT_KEEP crossings
 * (callers.repeat_crossings, sql/082); a call dated at or before the oldest
 * crossing no longer kept (repeat_floor) is not counted.  Before
 * (review-rules3) a call dated at or before the last crossing was not
 * counted: calls at 09:00, 09:10, 09:15, 09:20, 09:30 and 09:40 raised two
 * alerts in order, one when the 09:15 call came last.  The store loads every
 * call those windows can see (store_sql.h SQL_CALLERS).  In order (no
 * later call), this is the window ending at x->at alone.
 */
void hl_rules_count_inbound(struct hl_rules_ctx *x, struct hl_caller *r, struct hl_case *c)
{
	hl_caller_add_inbound(r, x->at);
	int threshold = x->cfg->repeat.threshold;
	int64_t window = x->cfg->repeat.window_ms;
	if (threshold <= 0 || window <= 0 || (r->repeat_floor && x->at <= r->repeat_floor))
		return;
	hl_ms base = r->repeat_floor; /* the last crossing before x->at */
	int keep = 0;
	while (keep < r->n_repeat_crossings && r->repeat_crossings[keep] < x->at)
		base = r->repeat_crossings[keep++];
	int before = r->n_repeat_crossings - keep, after = 0, count = 0;
	hl_ms chain[HL_REPEAT_KEEP], cur = base;
	for (size_t i = 0; i < r->n_inbound; i++) {
		hl_ms u = r->inbound[i];
		if (u < x->at || u <= cur || (i + 1 < r->n_inbound && r->inbound[i + 1] == u))
			continue; /* not a window with this call or after it, or not its last call */
		int n = calls_in_window(r, u, window, cur);
		if (n < threshold)
			continue;
		if (after == HL_REPEAT_KEEP) /* only the last ones are kept */
			memmove(chain, chain + 1, sizeof chain - sizeof *chain), after--;
		chain[after++] = cur = u;
		count = n;
	}
	if (after == 0)
		return; /* no crossing from this call on (late: the later ones lost no call) */
	set_crossings(r, keep, chain, after);
	if (after <= before)
		return; /* as many crossings as before, perhaps earlier: alerted already */
	char dedupe[128], mask[HL_PHONE_MAX + 8], d[24], detail[160];
	char prefix[HL_PHONE_MAX + 16];
	snprintf(prefix, sizeof prefix, "repeat:%s:", r->caller);
	hl_rules_event_dedupe(dedupe, sizeof dedupe, prefix, x->ev->id);
	snprintf(detail, sizeof detail, "%d calls from %s within %s", count,
	         hl_rules_masked(r->caller, mask, sizeof mask), hl_rules_short_dur(window, d, sizeof d));
	if (!x->ev->backfill && hl_rules_raise_alert(x->w, "repeat_caller", c, r->caller, x->at, dedupe, detail))
		hl_rules_note(&x->text, "repeat_caller alert (%d calls within %s)", count, d);
}

/* The text of a clock alert: what is owed since when, and its due time. */
/* "callback owed for 2h, due in 30m" / "caller last updated 1d ago, due now", seen from `now`. */
static void clock_detail(const struct hl_clock *k, enum hl_clock_kind kind, bool soon, hl_ms now, char *buf, size_t len)
{
	static const char *const what[] = {
		[HL_CK_CALLBACK] = "callback owed for",
		[HL_CK_UPDATE] = "caller last updated",
		[HL_CK_RESOLUTION] = "case open for",
		[HL_CK_SURVEY] = "survey call owed for",
		[HL_CK_REDISPATCH] = "order returned, dispatch owed for",
	};
	char s[48], d[48];
	snprintf(buf, len, "%s%s %s%s, due %s", soon ? "due soon: " : "", what[kind],
	         hl_rules_rough_dur(now - k->started_at, s, sizeof s), kind == HL_CK_UPDATE ? " ago" : "",
	         hl_rules_rel_time(now, k->due_at, d, sizeof d));
}

void hl_rules_clock_fire(struct hl_world *w, const struct hl_rules_env *env,
                         int64_t case_id, enum hl_clock_kind kind, int32_t seq)
{
	if ((int)kind < 0 || kind >= HL_CK__COUNT)
		return;
	struct hl_case *c = hl_world_case(w, case_id);
	if (!c)
		return;
	struct hl_clock *k = &c->clocks[kind];
	if (k->seq != seq || k->state != HL_CS_PENDING)
		return; /* a stale timer: the run it was set for is over */

	const char *name = hl_clock_kind_name(kind);
	hl_ms now = env->now;
	char kindbuf[HL_ALERT_KIND_MAX], dedupe[128], detail[160];

	/* a point is passed once its millisecond has: met at due_at is in time
	 * (clocks.c, "The edge of a deadline") */
	if (!k->warned && k->warn_at && k->warn_at < now && now <= k->due_at) {
		snprintf(kindbuf, sizeof kindbuf, "%s_due_soon", name);
		snprintf(dedupe, sizeof dedupe, "%" PRId64 ":%s:%" PRId32 ":due_soon", c->id, name, k->seq);
		clock_detail(k, kind, true, now, detail, sizeof detail);
		struct hl_alert *a = hl_rules_raise_alert(w, kindbuf, c, c->caller, now, dedupe, detail);
		if (a && kind == HL_CK_REDISPATCH)
			hl_orders_tag_redispatch(w, c, a); /* order alerts carry order_id and department (CONTRACT 6) */
		if (a)
			a->due_at = k->due_at; /* escalate_at stays 0: warnings never escalate */
		k->warned = true;
		k->dirty = true;
		return;
	}
	if (k->due_at >= now)
		return; /* early: the timer will come back */

	snprintf(kindbuf, sizeof kindbuf, "%s_overdue", name);
	snprintf(dedupe, sizeof dedupe, "%" PRId64 ":%s:%" PRId32 ":overdue", c->id, name, k->seq);
	clock_detail(k, kind, false, now, detail, sizeof detail);
	struct hl_alert *a = hl_rules_raise_alert(w, kindbuf, c, c->caller, now, dedupe, detail);
	if (a && kind == HL_CK_REDISPATCH)
		hl_orders_tag_redispatch(w, c, a);
	if (a) {
		a->due_at = k->due_at;
		const struct hl_config *cfg = env->cfg;
		if (cfg->escalation.max_level > 1 && cfg->escalation.after_ms > 0)
			a->escalate_at = now + cfg->escalation.after_ms;
	}
	k->state = HL_CS_BREACHED;
	k->breached_at = k->due_at; /* the instant it breached, not when we noticed */
	k->warned = true;          /* a late start never sends a due-soon after the overdue */
	k->dirty = true;
}

void hl_rules_escalate(struct hl_world *w, const struct hl_rules_env *env, int64_t alert_id)
{
	struct hl_alert *a = hl_world_alert(w, alert_id);
	if (!a || a->acked_at || !a->escalate_at || a->escalate_at > env->now)
		return;
	const struct hl_config *cfg = env->cfg;
	if (a->level >= cfg->escalation.max_level) {
		a->escalate_at = 0; /* max_level lowered by a reload: nothing more to do */
		a->dirty = true;
		return;
	}
	a->level++;
	/* counted from this escalation (now), not from the missed time: after a
	 * long downtime one escalation happens, not a burst of catch-ups */
	a->escalate_at = (a->level < cfg->escalation.max_level && cfg->escalation.after_ms > 0)
	                     ? hl_orders_next_escalation(cfg, a, env->now) : 0;
	a->dirty = true;
}
