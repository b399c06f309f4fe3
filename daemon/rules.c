/*
 * rules.c - what each event does to a case, its clocks and its alerts (pure).
 *
 * This is the functional heart of hotlined.  The store loads the slice of the
 * database a batch touches into a struct hl_world (world.c); hl_rules_apply
 * then takes one event and changes that world in memory; the store writes
 * back every row flagged dirty/is_new in one transaction.  Timers come in
 * through hl_rules_clock_fire and hl_rules_escalate the same way.
 *
 * Nothing here does I/O or reads a clock: the time of an effect is the
 * event's `at` and "now" is env->now, so every rule is a deterministic
 * function of (world, config, event) and is unit-tested without a database.
 *
 * Design:
 *  - Two phases per event.  check() looks everything up and validates it
 *    against the world, filling a `struct plan`; only when every check has
 *    passed does the apply phase mutate anything.  So a failing event leaves
 *    the world exactly as it found it, and an accepted one applies completely.
 *  - Clocks (struct hl_clock) have a tiny state machine, kept in a handful of
 *    small helpers (clock_arm / clock_meet / clock_stop / clock_pause /
 *    clock_resume / reevaluate); the event handlers only say which of them
 *    apply.  Each helper also appends what it did to the event's description,
 *    so hotline.case_events tells the story of every deadline.
 *  - Deadlines are computed in the calendar of the clock's policy via
 *    hl_cal_add / hl_cal_between (a NULL calendar is the wall clock).
 *  - Alerts are deduplicated on a key that names the breach
 *    ("<case>:<kind>:<seq>:overdue"); the database enforces the same key with
 *    a UNIQUE constraint, so a breach is alerted once even across crashes.
 *  - Phone numbers only ever appear masked (hl_phone_mask) in text we write.
 * docs/rules.md has the event -> effect table and the clock state diagram.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "rules.h"
#include "hotspot.h"
#include "orders.h"
#include "rules_internal.h"

/* ------------------------------------------------------------- text */

/* The description being built for hotline.case_events (truncated to fit). */
struct text {
	char buf[256];
	size_t len;
};

/*
 * The longest prefix of s[0..len) that does not end inside a UTF-8
 * sequence.  Text is cut to fit fixed buffers in bytes; a cut through a
 * multi-byte character is invalid UTF-8, which PostgreSQL refuses, and with
 * it the whole batch (issue 16, item 18: a 128-character Chinese queue name).
 */
static size_t utf8_cut(const char *s, size_t len)
{
	size_t i = len, cont = 0;
	while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--, cont++;
	if (i == 0)
		return len;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
	return cont < need ? i - 1 : len;
}

static void vsay(struct text *t, const char *fmt, va_list ap)
{
	if (t->len + 1 >= sizeof t->buf)
		return;
	int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
	if (n > 0)
		t->len += (size_t)n;
	if (t->len >= sizeof t->buf) {
		t->len = utf8_cut(t->buf, sizeof t->buf - 1);
		t->buf[t->len] = '\0';
	}
}

static void say(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(t, fmt, ap);
	va_end(ap);
}

/* Append one more clause, separated from what is there by "; ". */
static void note(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct text *t, const char *fmt, ...)
{
	if (t->len)
		say(t, "; ");
	va_list ap;
	va_start(ap, fmt);
	vsay(t, fmt, ap);
	va_end(ap);
}

/* "2d", "23h20m", "90s" -> "1m30s", "1500ms": days, hours, minutes, seconds, leftover ms. */
static const char *short_dur(int64_t ms, char *buf, size_t len)
{
	static const struct { int64_t ms; const char *unit; } units[] = {
		{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"},
	};
	size_t used = 0;
	buf[0] = '\0';
	if (ms <= 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0] && ms > 0; i++) {
		int64_t q = ms / units[i].ms;
		if (q == 0)
			continue;
		ms -= q * units[i].ms;
		int n = snprintf(buf + used, len - used, "%" PRId64 "%s", q, units[i].unit);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* A duration for people: its two largest adjacent units, "12d4h", "4h21m", "1m30s", "300ms" (floored). */
static const char *rough_dur(int64_t ms, char *buf, size_t len)
{
	static const int64_t units[] = {86400000, 3600000, 60000, 1000, 1};
	size_t i = 0;
	while (i + 1 < sizeof units / sizeof units[0] && ms < units[i])
		i++;
	int64_t keep = i + 1 < sizeof units / sizeof units[0] ? units[i + 1] : 1;
	if (i == 3)
		keep = 1000; /* "1s", "59s": no milliseconds after whole seconds */
	return short_dur(ms - ms % keep, buf, len);
}

/*
 * When t is, seen from the instant `from`: "in 2h", "now", "15m ago".  Texts
 * stored for people (history lines, alert details) say this rather than an
 * absolute UTC time: a reader in another zone would have to convert one, and
 * the row the text belongs to carries its own timestamp (shown in the
 * reader's zone by hotlinectl).
 */
static const char *rel_time(hl_ms from, hl_ms t, char *buf, size_t len)
{
	char d[48];
	int64_t diff = t > from ? t - from : from - t;
	diff = (diff + 500) / 1000 * 1000; /* whole seconds: a timer a few ms late is still "now" */
	if (diff == 0)
		snprintf(buf, len, "now");
	else if (t > from)
		snprintf(buf, len, "in %s", rough_dur(diff, d, sizeof d));
	else
		snprintf(buf, len, "%s ago", rough_dur(diff, d, sizeof d));
	return buf;
}

static const char *masked(const char *phone, char *buf, size_t len)
{
	hl_phone_mask(phone, buf, len);
	return buf;
}

/* ------------------------------------------------------------ context */

struct ctx {
	struct hl_world *w;
	const struct hl_config *cfg;
	hl_ms now;                /* env->now */
	hl_ms at;                 /* ev->at: the instant every effect is dated */
	const struct hl_event *ev;/* the event being applied */
	struct text text;
};

/* What check() found; the apply phase works only on this. */
struct plan {
	struct hl_case *cs;     /* the case touched (NULL only for a known call whose case is not loaded) */
	struct hl_call *call;
	struct hl_alert *alert;
	bool offer;             /* an unseen call: do what call.offered does first */
	int64_t case_id;        /* for the outcome when cs is NULL */
};

static bool fail(struct hl_outcome *out, enum hl_err e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(struct hl_outcome *out, enum hl_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof out->message, fmt, ap);
	va_end(ap);
	out->err = e;
	return false;
}

static char *dup_or_null(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		abort(); /* out of memory: see world.c */
	return d;
}

/* Replace an owned string; true when the value changed. */
static bool set_str(char **field, const char *value)
{
	if (!value || (*field && strcmp(*field, value) == 0))
		return false;
	free(*field);
	*field = dup_or_null(value);
	return true;
}

static void touch(struct ctx *x, struct hl_case *c)
{
	c->updated_at = x->now;
	c->dirty = true;
}

static bool is_open(const struct hl_case *c)
{
	return c->status == HL_ST_OPEN;
}

/* ------------------------------------------------------------- policy */

static const struct hl_policy *policy_of(const struct ctx *x, const struct hl_case *c)
{
	return hl_config_policy(x->cfg, c->category, c->priority);
}

static int64_t allowed_for(const struct hl_policy *p, enum hl_clock_kind k)
{
	switch (k) {
	case HL_CK_CALLBACK: return p->callback_ms;
	case HL_CK_UPDATE: return p->update_ms;
	case HL_CK_RESOLUTION: return p->resolution_ms;
	case HL_CK_SURVEY: return p->survey_ms;
	case HL_CK_REDISPATCH: return p->redispatch_ms;
	default: return 0;
	}
}

/* The calendar a clock counts in; NULL (wall clock) for "" or an unknown name. */
static const struct hl_calendar *calendar_of(const struct hl_config *cfg, const char *name)
{
	return name && name[0] ? hl_config_calendar(cfg, name) : NULL;
}

static int64_t nonneg(int64_t v)
{
	return v < 0 ? 0 : v;
}

/* The calendar name a clock of this kind counts in under policy p: the
 * redispatch clock belongs to the work orders and uses their calendar. */
static const char *calendar_name_for(const struct hl_config *cfg, const struct hl_policy *p, enum hl_clock_kind k)
{
	if (k == HL_CK_REDISPATCH)
		return cfg->orders.calendar[0] ? cfg->orders.calendar : cfg->sla.calendar;
	return p->calendar;
}

/* The time a span allows from `start`: itself, or for N working days the open
 * time until their end (what due-soon warnings and hold/resume work with). */
static int64_t span_allowed(const struct hl_calendar *cal, hl_ms start, int64_t span)
{
	if (!hl_span_is_wd(span))
		return span;
	hl_ms due = hl_deadline(cal, start, span);
	return due == INT64_MAX ? INT64_MAX / 4 : nonneg(hl_cal_between(cal, start, due));
}

/* -------------------------------------------------------------- clocks */

hl_ms hl_clock_next_fire(const struct hl_clock *c)
{
	if (!c || c->state != HL_CS_PENDING)
		return 0;
	return (c->warn_at && !c->warned) ? c->warn_at : c->due_at;
}

/* Pending or paused: the clock is running (or will again after a hold). */
static bool clock_running(const struct hl_clock *k)
{
	return k->state == HL_CS_PENDING || k->state == HL_CS_PAUSED;
}

/* Running or breached: whatever it measures is still owed. */
static bool clock_owed(const struct hl_clock *k)
{
	return clock_running(k) || k->state == HL_CS_BREACHED;
}

static void clock_stop(struct ctx *x, struct hl_case *c, enum hl_clock_kind kind)
{
	struct hl_clock *k = &c->clocks[kind];
	if (!clock_owed(k))
		return;
	k->state = HL_CS_STOPPED;
	k->paused_at = 0;
	k->dirty = true;
	touch(x, c);
	note(&x->text, "%s stopped", hl_clock_kind_name(kind));
}

static void clock_meet(struct ctx *x, struct hl_case *c, enum hl_clock_kind kind)
{
	struct hl_clock *k = &c->clocks[kind];
	if (!clock_owed(k))
		return;
	bool late = k->state == HL_CS_BREACHED;
	k->state = HL_CS_MET;
	k->met_at = x->at;
	k->paused_at = 0;
	k->dirty = true;
	touch(x, c);
	note(&x->text, "%s met%s", hl_clock_kind_name(kind), late ? " (late)" : "");
}

/*
 * A history import ("backfill": true, CONTRACT 8): a deadline that had already
 * passed when the event was received is recorded breached at its due time
 * right here, and a passed warning point as warned, so no timer ever fires
 * for this run: no alert row, hence no push, NOTIFY, escalation or webhook.
 * A later event of the import can still meet the clock, and the figures
 * compare met_at with due_at, so a callback made in time counts as in time.
 */
static void backfill_settle(struct ctx *x, struct hl_clock *k, enum hl_clock_kind kind)
{
	if (!x->ev || !x->ev->backfill || k->state != HL_CS_PENDING)
		return;
	if (k->warn_at && k->warn_at <= x->now)
		k->warned = true;
	if (k->due_at > x->now)
		return;
	k->state = HL_CS_BREACHED;
	k->breached_at = k->due_at;
	k->warned = true;
	k->dirty = true;
	note(&x->text, "%s already past due: breached, no alert (backfill)", hl_clock_kind_name(kind));
}

/*
 * Start a new run of a clock from `at` under the case's policy (seq + 1).
 * A policy that has this clock off (0) arms nothing, and ends a run that an
 * older configuration started.  `verb` is "armed" or "restarted" for the text.
 */
static bool clock_arm(struct ctx *x, struct hl_case *c, enum hl_clock_kind kind, const char *verb)
{
	const struct hl_policy *p = policy_of(x, c);
	int64_t span = allowed_for(p, kind);
	if (span == 0) {
		clock_stop(x, c, kind);
		return false;
	}
	const char *calname = calendar_name_for(x->cfg, p, kind);
	const struct hl_calendar *cal = calendar_of(x->cfg, calname);
	int64_t allowed = span_allowed(cal, x->at, span);
	struct hl_clock *k = &c->clocks[kind];
	k->state = HL_CS_PENDING;
	k->seq++;
	k->started_at = x->at;
	k->allowed_ms = allowed;
	snprintf(k->calendar, sizeof k->calendar, "%s", calname);
	k->due_at = hl_deadline(cal, x->at, span);
	k->warn_at = p->warn_at > 0 ? hl_cal_add(cal, x->at, (int64_t)((double)allowed * p->warn_at)) : 0;
	k->warned = false;
	k->paused_at = 0;
	k->remaining_ms = k->warn_remaining_ms = 0;
	k->met_at = k->breached_at = 0;
	k->dirty = true;
	touch(x, c);
	char t[32];
	note(&x->text, "%s %s, due %s", hl_clock_kind_name(kind), verb, rel_time(x->at, k->due_at, t, sizeof t));
	backfill_settle(x, k, kind);
	return true;
}

/* Hold: a pending clock stops consuming time and remembers what was left.
 * A clock already due is left pending so that its breach is still alerted. */
static void clock_pause(struct ctx *x, struct hl_case *c, enum hl_clock_kind kind)
{
	struct hl_clock *k = &c->clocks[kind];
	if (k->state != HL_CS_PENDING || k->due_at <= x->at)
		return;
	const struct hl_calendar *cal = calendar_of(x->cfg, k->calendar);
	k->state = HL_CS_PAUSED;
	k->paused_at = x->at;
	k->remaining_ms = nonneg(hl_cal_between(cal, x->at, k->due_at));
	k->warn_remaining_ms = (!k->warned && k->warn_at) ? nonneg(hl_cal_between(cal, x->at, k->warn_at)) : 0;
	k->dirty = true;
	touch(x, c);
	char d[24];
	note(&x->text, "%s paused, %s left", hl_clock_kind_name(kind), short_dur(k->remaining_ms, d, sizeof d));
}

/* Resume: the deadline moves back by the time spent on hold, in the clock's calendar. */
static void clock_resume(struct ctx *x, struct hl_case *c, enum hl_clock_kind kind)
{
	struct hl_clock *k = &c->clocks[kind];
	if (k->state != HL_CS_PAUSED)
		return;
	const struct hl_calendar *cal = calendar_of(x->cfg, k->calendar);
	k->state = HL_CS_PENDING;
	k->due_at = hl_cal_add(cal, x->at, k->remaining_ms);
	if (!k->warned && k->warn_at)
		k->warn_at = hl_cal_add(cal, x->at, k->warn_remaining_ms);
	k->paused_at = 0;
	k->remaining_ms = k->warn_remaining_ms = 0;
	k->dirty = true;
	touch(x, c);
	char t[32];
	note(&x->text, "%s resumed, due %s", hl_clock_kind_name(kind), rel_time(x->at, k->due_at, t, sizeof t));
	backfill_settle(x, k, kind);
}

/*
 * The case's category or priority changed: when that selects another policy,
 * every running clock keeps the time it has consumed and gets the new
 * policy's allowance (and calendar) for the rest, as a new run (seq + 1) so
 * that timers and alerts key on the new deadline.  A paused clock gets its
 * remaining time recomputed, and due_at/warn_at as if it resumed now.
 */
static void reevaluate_clock(struct ctx *x, struct hl_case *c, enum hl_clock_kind kind, const struct hl_policy *p)
{
	struct hl_clock *k = &c->clocks[kind];
	if (!clock_running(k))
		return;
	int64_t span = allowed_for(p, kind);
	if (span == 0) {
		clock_stop(x, c, kind);
		return;
	}
	bool paused = k->state == HL_CS_PAUSED;
	const char *calname = calendar_name_for(x->cfg, p, kind);
	const struct hl_calendar *old_cal = calendar_of(x->cfg, k->calendar);
	const struct hl_calendar *new_cal = calendar_of(x->cfg, calname);
	int64_t allowed = span_allowed(new_cal, k->started_at, span);
	int64_t left = paused ? k->remaining_ms : nonneg(hl_cal_between(old_cal, x->at, k->due_at));
	int64_t consumed = nonneg(k->allowed_ms - left);
	int64_t rem = nonneg(allowed - consumed);
	int64_t wrem = p->warn_at > 0 ? (int64_t)((double)allowed * p->warn_at) - consumed : 0;

	k->seq++;
	k->allowed_ms = allowed;
	snprintf(k->calendar, sizeof k->calendar, "%s", calname);
	k->due_at = hl_cal_add(new_cal, x->at, rem);
	if (wrem > 0) {
		k->warn_at = hl_cal_add(new_cal, x->at, wrem);
		k->warned = false;
	} else {
		k->warn_at = 0; /* the warning point of the new allowance has passed */
	}
	if (paused) {
		k->remaining_ms = rem;
		k->warn_remaining_ms = nonneg(wrem);
	}
	k->dirty = true;
	char t[32];
	note(&x->text, "%s %s", hl_clock_kind_name(kind), paused ? "re-timed while paused" : "now due");
	if (!paused)
		say(&x->text, " %s", rel_time(x->at, k->due_at, t, sizeof t));
	backfill_settle(x, k, kind);
}

static void reevaluate(struct ctx *x, struct hl_case *c)
{
	const struct hl_policy *p = policy_of(x, c);
	if (strcmp(p->name, c->policy) == 0)
		return;
	note(&x->text, "policy %s -> %s", c->policy, p->name);
	snprintf(c->policy, sizeof c->policy, "%s", p->name);
	touch(x, c);
	for (int k = 0; k < HL_CK__COUNT; k++)
		reevaluate_clock(x, c, (enum hl_clock_kind)k, p);
}

/* Category/priority/summary from the event, re-choosing the policy when the class changed. */
static void classify(struct ctx *x, struct hl_case *c)
{
	bool changed = false;
	if (set_str(&c->category, x->ev->category)) {
		note(&x->text, "category %s", c->category);
		changed = true;
	}
	if (set_str(&c->priority, x->ev->priority)) {
		note(&x->text, "priority %s", c->priority);
		changed = true;
	}
	if (set_str(&c->summary, x->ev->summary))
		touch(x, c);
	if (changed) {
		touch(x, c);
		reevaluate(x, c);
	}
	/* only these events make the store load the case's hotspot row (its area) */
	if (x->ev->category || x->ev->area || x->ev->type == HL_EV_ORDER_DISPATCH) {
		char hot[200];
		hl_hotspot_classified(x->w, x->cfg, c, x->ev->area, x->ev->backfill, x->at, hot, sizeof hot);
		if (hot[0])
			note(&x->text, "%s", hot);
	}
}

/* ------------------------------------------------------------- alerts */

/* "<prefix><event id>"; an event id too long for the key is replaced by its
 * hash (the key only has to be unique, and event ids are). */
static void event_dedupe(char *out, size_t len, const char *prefix, const char *event_id)
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
static struct hl_alert *raise_alert(struct hl_world *w, const char *kind, const struct hl_case *c,
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
	return hl_world_add_alert(w, &a);
}

/* ------------------------------------------------------------- callers */

static struct hl_caller *caller_row(struct hl_world *w, const char *number)
{
	struct hl_caller *r = hl_world_caller(w, number);
	if (r)
		return r;
	struct hl_caller t;
	memset(&t, 0, sizeof t);
	snprintf(t.caller, sizeof t.caller, "%s", number);
	t.is_new = t.dirty = true;
	return hl_world_add_caller(w, &t);
}

/* One more inbound call from r: the `threshold`-th inside the window since the
 * last alert raises repeat_caller. */
static void count_inbound(struct ctx *x, struct hl_caller *r, struct hl_case *c)
{
	hl_caller_add_inbound(r, x->at);
	int threshold = x->cfg->repeat.threshold;
	int64_t window = x->cfg->repeat.window_ms;
	if (threshold <= 0 || window <= 0)
		return;
	int count = 0;
	for (size_t i = 0; i < r->n_inbound; i++) {
		hl_ms t = r->inbound[i];
		if (t > x->at - window && t <= x->at && t > r->repeat_alerted_at)
			count++;
	}
	if (count < threshold)
		return;
	char dedupe[128], mask[HL_PHONE_MAX + 8], d[24], detail[160];
	char prefix[HL_PHONE_MAX + 16];
	snprintf(prefix, sizeof prefix, "repeat:%s:", r->caller);
	event_dedupe(dedupe, sizeof dedupe, prefix, x->ev->id);
	snprintf(detail, sizeof detail, "%d calls from %s within %s", count,
	         masked(r->caller, mask, sizeof mask), short_dur(window, d, sizeof d));
	if (!x->ev->backfill && raise_alert(x->w, "repeat_caller", c, r->caller, x->at, dedupe, detail))
		note(&x->text, "repeat_caller alert (%d calls within %s)", count, d);
	r->repeat_alerted_at = x->at;
	r->dirty = true;
}

/* ----------------------------------------------------------- checks */

static bool need_case(struct ctx *x, struct plan *p, struct hl_outcome *out)
{
	if (x->ev->case_id <= 0)
		return fail(out, HL_E_BAD_REQUEST, "case_id: missing");
	p->cs = hl_world_case(x->w, x->ev->case_id);
	if (!p->cs)
		return fail(out, HL_E_UNKNOWN_CASE, "case_id: no case %" PRId64, x->ev->case_id);
	p->case_id = p->cs->id;
	return true;
}

static bool not_closed(const struct plan *p, struct hl_outcome *out)
{
	if (p->cs->status == HL_ST_CLOSED)
		return fail(out, HL_E_BAD_REQUEST, "case_id: case %" PRId64 " is closed", p->cs->id);
	return true;
}

static bool need_field(const char *value, const char *name, struct hl_outcome *out)
{
	if (!value || !value[0])
		return fail(out, HL_E_BAD_REQUEST, "%s: missing", name);
	return true;
}

/*
 * The call an event names.  An unseen call is an error unless `may_offer` and
 * the event carries the caller: then the event first does what call.offered
 * does, which needs the caller's open case or a reserved id for a new one.
 */
static bool find_call(struct ctx *x, struct plan *p, struct hl_outcome *out, bool may_offer)
{
	const struct hl_event *ev = x->ev;
	if (!need_field(ev->call_id, "call_id", out))
		return false;
	p->call = hl_world_call(x->w, ev->call_id);
	if (p->call) {
		p->case_id = p->call->case_id;
		p->cs = hl_world_case(x->w, p->call->case_id);
		if (!p->cs && ev->type != HL_EV_CALL_OFFERED)
			return fail(out, HL_E_INTERNAL, "case_id: case %" PRId64 " of call '%.64s' is not loaded",
			            p->call->case_id, ev->call_id);
		return true;
	}
	if (!may_offer || !ev->caller[0])
		return fail(out, HL_E_UNKNOWN_CALL, "call_id: no call '%.128s'", ev->call_id);
	p->offer = true;
	p->cs = hl_world_open_case_of(x->w, ev->caller);
	if (!p->cs && hl_world_free_id_count(x->w) == 0)
		return fail(out, HL_E_INTERNAL, "no case id reserved");
	return true;
}

static bool check_result(const char *result, struct hl_outcome *out)
{
	static const char *const ok[] = {"reached", "no_answer", "busy", "failed"};
	if (!need_field(result, "result", out))
		return false;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strcmp(result, ok[i]) == 0)
			return true;
	return fail(out, HL_E_BAD_REQUEST, "result: must be reached, no_answer, busy or failed");
}

/* Phase one: find and validate everything; touches nothing. */
static bool check(struct ctx *x, struct plan *p, struct hl_outcome *out)
{
	const struct hl_event *ev = x->ev;
	switch (ev->type) {
	case HL_EV_CALL_OFFERED:
		return need_field(ev->caller, "caller", out) && find_call(x, p, out, true);
	case HL_EV_CALL_ANSWERED:
		return find_call(x, p, out, false);
	case HL_EV_CALL_ABANDONED:
	case HL_EV_VOICEMAIL_LEFT:
		return find_call(x, p, out, true);
	case HL_EV_CALL_ENDED:
		return need_field(ev->outcome, "outcome", out) && find_call(x, p, out, false);
	case HL_EV_CALLBACK_ATTEMPT:
		return check_result(ev->result, out) && need_case(x, p, out);
	case HL_EV_CASE_UPDATE:
	case HL_EV_CASE_CLOSE:
	case HL_EV_CASE_REOPEN:
		return need_case(x, p, out);
	case HL_EV_CASE_TRANSFER:
		return need_field(ev->department, "department", out) && need_case(x, p, out) && not_closed(p, out);
	case HL_EV_CASE_RESOLVE:
	case HL_EV_CASE_HOLD:
		return need_case(x, p, out) && not_closed(p, out);
	case HL_EV_CASE_RESUME:
		if (!need_case(x, p, out) || !not_closed(p, out))
			return false;
		if (!p->cs->on_hold)
			return fail(out, HL_E_BAD_REQUEST, "case_id: case %" PRId64 " is not on hold", p->cs->id);
		return true;
	case HL_EV_SURVEY_RESULT:
		if (ev->score < 1 || ev->score > 5)
			return fail(out, HL_E_BAD_REQUEST, "score: must be 1..5");
		return need_case(x, p, out);
	case HL_CMD_ALERT_ACK:
		if (ev->alert_id <= 0)
			return fail(out, HL_E_BAD_REQUEST, "alert_id: missing");
		p->alert = hl_world_alert(x->w, ev->alert_id);
		if (!p->alert)
			return fail(out, HL_E_UNKNOWN_ALERT, "alert_id: no alert %" PRId64, ev->alert_id);
		p->case_id = p->alert->case_id;
		return true;
	default:
		return fail(out, HL_E_UNKNOWN_TYPE, "type: not an event the rules handle");
	}
}

/* ------------------------------------------------------ shared effects */

static struct hl_case *open_case(struct ctx *x, const char *caller)
{
	struct hl_case t;
	memset(&t, 0, sizeof t);
	if (!hl_world_take_free_id(x->w, &t.id))
		abort(); /* check() made sure there is one */
	snprintf(t.caller, sizeof t.caller, "%s", caller);
	t.status = HL_ST_OPEN;
	t.opened_at = x->at;
	t.updated_at = x->now;
	snprintf(t.policy, sizeof t.policy, "%s", hl_config_policy(x->cfg, NULL, NULL)->name);
	t.is_new = t.dirty = true;
	struct hl_case *c = hl_world_add_case(x->w, &t);
	note(&x->text, "case %" PRId64 " opened", c->id);
	clock_arm(x, c, HL_CK_RESOLUTION, "armed");
	clock_arm(x, c, HL_CK_UPDATE, "armed");
	return c;
}

/* What call.offered does for an unseen call: caller row, case, call, inbound count. */
static void offer(struct ctx *x, struct plan *p)
{
	const struct hl_event *ev = x->ev;
	char mask[HL_PHONE_MAX + 8];
	struct hl_caller *r = caller_row(x->w, ev->caller);
	if (ev->confidential == 1 && !r->confidential) {
		r->confidential = true;
		r->dirty = true;
	}
	say(&x->text, "call %s offered from %s", ev->call_id, masked(ev->caller, mask, sizeof mask));
	if (ev->queue)
		say(&x->text, " (queue %s)", ev->queue);
	if (p->cs)
		note(&x->text, "joins case %" PRId64, p->cs->id);
	else
		p->cs = open_case(x, ev->caller);
	if (ev->queue && !p->cs->queue) {
		p->cs->queue = dup_or_null(ev->queue);
		touch(x, p->cs);
	}

	struct hl_call t;
	memset(&t, 0, sizeof t);
	t.call_id = ev->call_id; /* hl_world_add_call deep-copies */
	t.case_id = p->cs->id;
	snprintf(t.caller, sizeof t.caller, "%s", ev->caller);
	t.state = HL_CALL_OFFERED;
	t.inbound = true;
	t.offered_at = x->at;
	t.queue = ev->queue;
	t.is_new = t.dirty = true;
	p->call = hl_world_add_call(x->w, &t);
	p->case_id = p->cs->id;
	count_inbound(x, r, p->cs);
}

/*
 * The update clock starts again from a contact.  During a hold the clock does
 * not run, so the new run (seq + 1, started_at = the contact) is armed paused
 * with its whole allowance left: case.resume then runs it from the resume,
 * exactly as if the contact had been the last thing before the hold ended.
 * Without this a contact during a hold was forgotten and the update fell due
 * early after resume (issue 16, item 14).
 */
static void restart_update(struct ctx *x, struct hl_case *c)
{
	if (!is_open(c))
		return;
	if (!clock_arm(x, c, HL_CK_UPDATE, "restarted") || !c->on_hold)
		return;
	struct hl_clock *k = &c->clocks[HL_CK_UPDATE];
	const struct hl_policy *p = policy_of(x, c);
	k->state = HL_CS_PAUSED;
	k->paused_at = x->at;
	k->remaining_ms = k->allowed_ms;
	k->warn_remaining_ms = p->warn_at > 0 ? (int64_t)((double)k->allowed_ms * p->warn_at) : 0;
	char d[24];
	note(&x->text, "update paused (on hold), %s left", short_dur(k->remaining_ms, d, sizeof d));
}

/* The caller heard from us: callback met, last contact, update clock restarts. */
static void contact(struct ctx *x, struct hl_case *c)
{
	clock_meet(x, c, HL_CK_CALLBACK);
	c->last_contact_at = x->at;
	touch(x, c);
	restart_update(x, c);
}

/* The caller is owed a call back, unless an earlier debt is still open. */
static void owe_callback(struct ctx *x, struct hl_case *c)
{
	struct hl_clock *k = &c->clocks[HL_CK_CALLBACK];
	char t[32];
	if (clock_owed(k))
		note(&x->text, "callback already owed%s, due %s", k->state == HL_CS_BREACHED ? " (overdue)" : "",
		    rel_time(x->at, k->due_at, t, sizeof t));
	else
		clock_arm(x, c, HL_CK_CALLBACK, "armed");
}

static void end_hold(struct ctx *x, struct hl_case *c)
{
	if (!c->on_hold)
		return;
	c->held_ms += nonneg(x->at - c->hold_since);
	c->on_hold = false;
	c->hold_since = 0;
	touch(x, c);
}

static void resolve(struct ctx *x, struct hl_case *c)
{
	end_hold(x, c);
	c->status = HL_ST_RESOLVED;
	c->resolved_at = x->at;
	set_str(&c->resolution, x->ev->resolution);
	touch(x, c);
	note(&x->text, "case %" PRId64 " resolved", c->id);
	clock_meet(x, c, HL_CK_RESOLUTION);
	clock_stop(x, c, HL_CK_UPDATE);
	clock_arm(x, c, HL_CK_SURVEY, "armed");
	struct hl_clock *cb = &c->clocks[HL_CK_CALLBACK];
	if (clock_owed(cb)) {
		char t[32];
		note(&x->text, "callback still owed, due %s", rel_time(x->at, cb->due_at, t, sizeof t));
	}
	/* every caller whose report was merged into this case is owed a call back (CONTRACT.md 6) */
	for (size_t i = 0; i < x->w->n_merges; i++) {
		struct hl_case *m = x->w->merges[i].into == c->id ? hl_world_case(x->w, x->w->merges[i].case_id) : NULL;
		if (m && m->status == HL_ST_MERGED) {
			note(&x->text, "merged case %" PRId64, m->id);
			owe_callback(x, m);
		}
	}
}

static void reopen(struct ctx *x, struct hl_case *c)
{
	end_hold(x, c);
	c->status = HL_ST_OPEN;
	c->reopens++;
	c->resolved_at = c->closed_at = 0;
	touch(x, c);
	note(&x->text, "case %" PRId64 " reopened", c->id);
	if (x->ev->reason)
		say(&x->text, " (%s)", x->ev->reason);
	clock_arm(x, c, HL_CK_RESOLUTION, "restarted");
	clock_arm(x, c, HL_CK_UPDATE, "restarted");
	if (c->clocks[HL_CK_SURVEY].state == HL_CS_PENDING)
		clock_stop(x, c, HL_CK_SURVEY);
}

/*
 * "confidential" on any call or case event (README: "on a call or case
 * event").  `true` marks the caller of the event's case confidential.  Only
 * case.update, an agent's deliberate act, may lift the mark with `false`; on
 * any other event `false` asserts nothing (a softphone that sends false does
 * not know, and must not un-protect a caller an agent protected).  An unseen
 * call is marked by offer() before anything quotes the number.  Runs before
 * the event's own effects, so an alert the event raises is already masked;
 * returns the clause for the description (appended last), or NULL.
 */
static const char *mark_confidential(struct ctx *x, const struct plan *p)
{
	const struct hl_event *ev = x->ev;
	bool lift = ev->type == HL_EV_CASE_UPDATE && ev->confidential == 0;
	if ((ev->confidential != 1 && !lift) || p->offer)
		return NULL;
	const char *number = p->cs ? p->cs->caller : p->call ? p->call->caller : NULL;
	if (!number || !number[0] || strncmp(number, "anon:", 5) == 0)
		return NULL; /* an anonymized case (sql/004) has no number left to protect */
	struct hl_caller *r = caller_row(x->w, number);
	if (r->confidential == !lift)
		return NULL;
	r->confidential = !lift;
	r->dirty = true;
	return r->confidential ? "caller marked confidential" : "caller no longer confidential";
}

/* ------------------------------------------------------- event handlers */

static void on_offered(struct ctx *x, struct plan *p)
{
	if (p->offer)
		offer(x, p);
	else
		say(&x->text, "call %s offered again; already on case %" PRId64, x->ev->call_id, p->case_id);
}

static void on_answered(struct ctx *x, struct plan *p)
{
	const struct hl_event *ev = x->ev;
	struct hl_call *call = p->call;
	say(&x->text, "call %s answered", call->call_id);
	if (ev->agent)
		say(&x->text, " by %s", ev->agent);
	if (call->answered_at) {
		note(&x->text, "already answered");
		return;
	}
	call->answered_at = x->at;
	if (call->state == HL_CALL_OFFERED)
		call->state = HL_CALL_ANSWERED;
	set_str(&call->agent, ev->agent);
	if (ev->queue && !call->queue) /* the queue it was answered from, when the offer did not say */
		call->queue = dup_or_null(ev->queue);
	call->dirty = true;
	if (p->cs->status == HL_ST_CLOSED) {
		note(&x->text, "case %" PRId64 " is closed: recorded only", p->cs->id);
		return;
	}
	contact(x, p->cs);
}

static void on_abandoned(struct ctx *x, struct plan *p)
{
	bool vm = x->ev->type == HL_EV_VOICEMAIL_LEFT;
	if (p->offer) {
		offer(x, p);
		note(&x->text, "%s", vm ? "voicemail left" : "abandoned");
	} else {
		say(&x->text, "call %s %s", p->call->call_id, vm ? "went to voicemail" : "abandoned");
	}
	struct hl_call *call = p->call;
	/* An unanswered call is abandoned whatever came first: a call.ended that
	 * arrived before the abandonment (events out of order) must not hide it
	 * from the figures either (the same class as issue 16, item 13). */
	if (call->state != HL_CALL_ENDED || !call->answered_at)
		call->state = vm ? HL_CALL_VOICEMAIL : HL_CALL_ABANDONED;
	if (!call->ended_at)
		call->ended_at = x->at;
	call->dirty = true;
	if (p->cs->status == HL_ST_CLOSED) {
		note(&x->text, "case %" PRId64 " is closed: recorded only", p->cs->id);
		return;
	}
	owe_callback(x, p->cs);
}

static void on_ended(struct ctx *x, struct plan *p)
{
	const struct hl_event *ev = x->ev;
	struct hl_call *call = p->call;
	struct hl_case *c = p->cs;
	say(&x->text, "call %s ended (%s)", call->call_id, ev->outcome);
	/* An abandoned call or a voicemail already ended, unanswered: keep that
	 * state and its end time (the figures count abandonments from them) and
	 * record only the outcome.  Issue 16, item 13. */
	if (call->state == HL_CALL_ABANDONED || call->state == HL_CALL_VOICEMAIL) {
		note(&x->text, "stays %s", hl_call_state_name(call->state));
		if (!call->ended_at)
			call->ended_at = x->at;
	} else {
		call->state = HL_CALL_ENDED;
		call->ended_at = x->at;
	}
	set_str(&call->outcome, ev->outcome);
	set_str(&call->agent, ev->agent);
	call->dirty = true;
	if (c->status == HL_ST_CLOSED) {
		note(&x->text, "case %" PRId64 " is closed: recorded only", c->id);
		return;
	}
	classify(x, c);
	if (strcmp(ev->outcome, "resolved") == 0) {
		if (is_open(c))
			resolve(x, c);
		else
			note(&x->text, "case %" PRId64 " already resolved", c->id);
	} else if (strcmp(ev->outcome, "followup") == 0) {
		owe_callback(x, c);
	}
}

static void on_attempt(struct ctx *x, struct plan *p)
{
	const struct hl_event *ev = x->ev;
	say(&x->text, "callback attempt on case %" PRId64 ": %s", p->cs->id, ev->result);
	if (ev->agent)
		say(&x->text, " (by %s)", ev->agent);
	if (ev->call_id)
		say(&x->text, " on call %s", ev->call_id);
	if (ev->note)
		say(&x->text, " (note)");
	if (p->cs->status == HL_ST_CLOSED) {
		note(&x->text, "case is closed: recorded only");
		return;
	}
	if (strcmp(ev->result, "reached") == 0)
		contact(x, p->cs);
	else if (clock_owed(&p->cs->clocks[HL_CK_CALLBACK]))
		note(&x->text, "callback still owed");
}

static void on_update(struct ctx *x, struct plan *p)
{
	const struct hl_event *ev = x->ev;
	struct hl_case *c = p->cs;
	say(&x->text, "case %" PRId64 " updated", c->id);
	if (ev->note)
		say(&x->text, " (note)");
	if (ev->agent)
		say(&x->text, " by %s", ev->agent);
	classify(x, c);
	if (ev->caller_informed == 1) {
		note(&x->text, "caller informed");
		c->last_contact_at = x->at;
		touch(x, c);
		restart_update(x, c);
	}
}

static void on_transfer(struct ctx *x, struct plan *p)
{
	const struct hl_event *ev = x->ev;
	struct hl_case *c = p->cs;
	set_str(&c->department, ev->department);
	c->transfers++;
	touch(x, c);
	say(&x->text, "case %" PRId64 " transferred to %s (transfer %" PRId32 ")", c->id, ev->department, c->transfers);
	if (ev->reason)
		say(&x->text, ": %s", ev->reason);
	int limit = x->cfg->alerts.transfer_limit;
	if (limit <= 0 || c->transfers != limit + 1)
		return; /* once per case, when the limit is first exceeded */
	char dedupe[128], detail[160];
	snprintf(dedupe, sizeof dedupe, "transfer_loop:%" PRId64, c->id);
	snprintf(detail, sizeof detail, "transferred %" PRId32 " times (limit %d), now to %.*s", c->transfers, limit,
	         (int)utf8_cut(ev->department, strnlen(ev->department, 64)), ev->department);
	if (!x->ev->backfill && raise_alert(x->w, "transfer_loop", c, c->caller, x->at, dedupe, detail))
		note(&x->text, "transfer_loop alert");
}

static void on_resolve(struct ctx *x, struct plan *p)
{
	struct hl_case *c = p->cs;
	if (c->status == HL_ST_RESOLVED) {
		note(&x->text, "case %" PRId64 " already resolved", c->id);
		return;
	}
	resolve(x, c);
}

static void on_close(struct ctx *x, struct plan *p)
{
	struct hl_case *c = p->cs;
	if (c->status == HL_ST_CLOSED) {
		note(&x->text, "case %" PRId64 " already closed", c->id);
		return;
	}
	end_hold(x, c);
	c->status = HL_ST_CLOSED;
	c->closed_at = x->at;
	touch(x, c);
	note(&x->text, "case %" PRId64 " closed", c->id);
	if (x->ev->reason)
		say(&x->text, " (%s)", x->ev->reason);
	for (int k = 0; k < HL_CK__COUNT; k++)
		clock_stop(x, c, (enum hl_clock_kind)k);
	hl_orders_case_closed(x->w, c->id, x->at);
}

static void on_reopen(struct ctx *x, struct plan *p)
{
	struct hl_case *c = p->cs;
	if (is_open(c)) {
		note(&x->text, "case %" PRId64 " already open", c->id);
		return;
	}
	reopen(x, c);
}

static void on_hold(struct ctx *x, struct plan *p)
{
	struct hl_case *c = p->cs;
	say(&x->text, "case %" PRId64 " on hold", c->id);
	if (x->ev->reason)
		say(&x->text, " (%s)", x->ev->reason);
	if (c->on_hold) {
		note(&x->text, "already on hold");
		return;
	}
	c->on_hold = true;
	c->hold_since = x->at;
	touch(x, c);
	clock_pause(x, c, HL_CK_RESOLUTION);
	clock_pause(x, c, HL_CK_UPDATE);
}

static void on_resume(struct ctx *x, struct plan *p)
{
	struct hl_case *c = p->cs;
	int64_t held = nonneg(x->at - c->hold_since);
	char d[24];
	say(&x->text, "case %" PRId64 " resumed after %s on hold", c->id, short_dur(held, d, sizeof d));
	c->held_ms += held;
	c->on_hold = false;
	c->hold_since = 0;
	touch(x, c);
	clock_resume(x, c, HL_CK_RESOLUTION);
	clock_resume(x, c, HL_CK_UPDATE);
}

static void on_survey(struct ctx *x, struct plan *p)
{
	struct hl_case *c = p->cs;
	int score = x->ev->score;
	say(&x->text, "survey on case %" PRId64 ": score %d of 5", c->id, score);
	if (x->ev->note)
		say(&x->text, " (note)");
	clock_meet(x, c, HL_CK_SURVEY);
	touch(x, c);
	if (score > 2)
		return;
	char dedupe[128], detail[64];
	event_dedupe(dedupe, sizeof dedupe, "dissatisfied:", x->ev->id);
	snprintf(detail, sizeof detail, "survey score %d of 5", score);
	if (!x->ev->backfill && raise_alert(x->w, "dissatisfied", c, c->caller, x->at, dedupe, detail))
		note(&x->text, "dissatisfied alert");
	if (!is_open(c))
		reopen(x, c);
}

static void on_ack(struct ctx *x, struct plan *p)
{
	struct hl_alert *a = p->alert;
	if (a->acked_at)
		return; /* acknowledged before: the first acknowledgement stands */
	a->acked_at = x->at;
	set_str(&a->acked_by, x->ev->by);
	a->escalate_at = 0;
	a->dirty = true;
}

/* ----------------------------------------------------------- entry points */

void hl_rules_apply(struct hl_world *w, const struct hl_rules_env *env,
                    const struct hl_event *ev, struct hl_outcome *out)
{
	memset(out, 0, sizeof *out);
	int64_t seen_case;
	if (ev->type != HL_CMD_ALERT_ACK && hl_world_seen(w, ev->id, &seen_case)) {
		out->duplicate = true;
		out->case_id = seen_case;
		if (ev->type >= HL_EV_ORDER_DISPATCH && ev->type <= HL_EV_ORDER_REPLY)
			hl_orders_event_order_id(ev, out->order_id, sizeof out->order_id);
		return;
	}

	if (hl_orders_handles(ev->type)) {
		hl_orders_apply(w, env, ev, out);
		return;
	}

	struct ctx x = {.w = w, .cfg = env->cfg, .now = env->now, .at = ev->at, .ev = ev};
	struct plan p;
	memset(&p, 0, sizeof p);
	if (!check(&x, &p, out))
		return;
	const char *marked = ev->type != HL_CMD_ALERT_ACK ? mark_confidential(&x, &p) : NULL;

	switch (ev->type) {
	case HL_EV_CALL_OFFERED: on_offered(&x, &p); break;
	case HL_EV_CALL_ANSWERED: on_answered(&x, &p); break;
	case HL_EV_CALL_ABANDONED:
	case HL_EV_VOICEMAIL_LEFT: on_abandoned(&x, &p); break;
	case HL_EV_CALL_ENDED: on_ended(&x, &p); break;
	case HL_EV_CALLBACK_ATTEMPT: on_attempt(&x, &p); break;
	case HL_EV_CASE_UPDATE: on_update(&x, &p); break;
	case HL_EV_CASE_TRANSFER: on_transfer(&x, &p); break;
	case HL_EV_CASE_RESOLVE: on_resolve(&x, &p); break;
	case HL_EV_CASE_CLOSE: on_close(&x, &p); break;
	case HL_EV_CASE_REOPEN: on_reopen(&x, &p); break;
	case HL_EV_CASE_HOLD: on_hold(&x, &p); break;
	case HL_EV_CASE_RESUME: on_resume(&x, &p); break;
	case HL_EV_SURVEY_RESULT: on_survey(&x, &p); break;
	case HL_CMD_ALERT_ACK:
		on_ack(&x, &p);
		out->case_id = p.case_id;
		return; /* a command: not a case event, not an idempotency key */
	default: break; /* check() refused it */
	}
	if (marked)
		note(&x.text, "%s", marked);
	out->case_id = p.cs ? p.cs->id : p.case_id;
	hl_world_add_accepted(w, ev, out->case_id, x.text.buf);
	hl_world_add_seen(w, ev->id, out->case_id);
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
	         rough_dur(now - k->started_at, s, sizeof s), kind == HL_CK_UPDATE ? " ago" : "",
	         rel_time(now, k->due_at, d, sizeof d));
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

	if (!k->warned && k->warn_at && k->warn_at <= now && now < k->due_at) {
		snprintf(kindbuf, sizeof kindbuf, "%s_due_soon", name);
		snprintf(dedupe, sizeof dedupe, "%" PRId64 ":%s:%" PRId32 ":due_soon", c->id, name, k->seq);
		clock_detail(k, kind, true, now, detail, sizeof detail);
		struct hl_alert *a = raise_alert(w, kindbuf, c, c->caller, now, dedupe, detail);
		if (a)
			a->due_at = k->due_at; /* escalate_at stays 0: warnings never escalate */
		k->warned = true;
		k->dirty = true;
		return;
	}
	if (k->due_at > now)
		return; /* early: the timer will come back */

	snprintf(kindbuf, sizeof kindbuf, "%s_overdue", name);
	snprintf(dedupe, sizeof dedupe, "%" PRId64 ":%s:%" PRId32 ":overdue", c->id, name, k->seq);
	clock_detail(k, kind, false, now, detail, sizeof detail);
	struct hl_alert *a = raise_alert(w, kindbuf, c, c->caller, now, dedupe, detail);
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

/* ------------------------------------------ for the order rules (rules_internal.h) */

static struct ctx op_ctx(struct hl_rules_op *op)
{
	struct ctx x = {.w = op->w, .cfg = op->env->cfg, .now = op->env->now, .at = op->at, .ev = op->ev};
	memcpy(x.text.buf, op->text, sizeof x.text.buf);
	x.text.len = op->len;
	return x;
}

static void op_done(struct hl_rules_op *op, const struct ctx *x)
{
	memcpy(op->text, x->text.buf, sizeof op->text);
	op->len = x->text.len;
}

void hl_rules_op_note(struct hl_rules_op *op, const char *fmt, ...)
{
	struct ctx x = op_ctx(op);
	if (x.text.len)
		say(&x.text, "; ");
	va_list ap;
	va_start(ap, fmt);
	vsay(&x.text, fmt, ap);
	va_end(ap);
	op_done(op, &x);
}

void hl_rules_op_owe_callback(struct hl_rules_op *op, struct hl_case *c)
{
	struct ctx x = op_ctx(op);
	owe_callback(&x, c);
	op_done(op, &x);
}

void hl_rules_op_resolve(struct hl_rules_op *op, struct hl_case *c)
{
	struct ctx x = op_ctx(op);
	resolve(&x, c);
	op_done(op, &x);
}

bool hl_rules_op_arm(struct hl_rules_op *op, struct hl_case *c, enum hl_clock_kind kind)
{
	struct ctx x = op_ctx(op);
	bool armed = clock_arm(&x, c, kind, "armed");
	op_done(op, &x);
	return armed;
}

void hl_rules_op_meet(struct hl_rules_op *op, struct hl_case *c, enum hl_clock_kind kind)
{
	struct ctx x = op_ctx(op);
	clock_meet(&x, c, kind);
	op_done(op, &x);
}

void hl_rules_op_stop(struct hl_rules_op *op, struct hl_case *c, enum hl_clock_kind kind)
{
	struct ctx x = op_ctx(op);
	clock_stop(&x, c, kind);
	op_done(op, &x);
}

void hl_rules_op_classify(struct hl_rules_op *op, struct hl_case *c)
{
	struct ctx x = op_ctx(op);
	classify(&x, c);
	op_done(op, &x);
}

bool hl_rules_clock_owed(const struct hl_clock *k)
{
	return clock_owed(k);
}

struct hl_alert *hl_rules_raise(struct hl_world *w, const char *kind, const struct hl_case *c, hl_ms raised_at,
                                const char *dedupe, const char *detail)
{
	return raise_alert(w, kind, c, c ? c->caller : NULL, raised_at, dedupe, detail);
}

const char *hl_rules_rough_dur(int64_t ms, char *buf, size_t len)
{
	return rough_dur(ms, buf, len);
}

const char *hl_rules_rel_time(hl_ms from, hl_ms t, char *buf, size_t len)
{
	return rel_time(from, t, buf, len);
}
