/*
 * queue_log.c - one Asterisk queue_log line -> hotlined events (pure).
 *
 * Format (Asterisk "Queue Logs"): epoch|uniqueid|queue|agent|EVENT|data...
 * The epoch may carry microseconds ("1366720340.303267"); a log exported
 * from a queue_log table has a date and time there instead (ql_time.c).  The mapping
 * (docs/pbx.md has the full table):
 *
 *   ENTERQUEUE(url|callerid|pos[|name])   -> call.offered (caller, queue)
 *   CONNECT(holdtime|bridged uid|ring)    -> call.answered (agent = the member channel)
 *   ABANDON, EXITWITHTIMEOUT, EXITEMPTY,
 *   EXITWITHKEY                           -> call.abandoned
 *   COMPLETECALLER, COMPLETEAGENT         -> call.ended (outcome complete_outcome)
 *   TRANSFER, BLINDTRANSFER,
 *   ATTENDEDTRANSFER                      -> call.ended (outcome "transferred");
 *                                            its LINK form has one field more
 *                                            (LINK|chan1|chan2|hold|call|pos)
 *   QUEUESTART (Asterisk restarted)       -> every call still in progress ends:
 *                                            waiting ones abandoned, talking ones
 *                                            ended with outcome "pbx_restart"
 *   everything else (AGENTLOGIN, RINGNOANSWER, PAUSE, ...) is counted and skipped.
 *
 * A call that ends after talking (COMPLETE*, *TRANSFER) without a CONNECT
 * seen for it gets a synthesized call.answered first, dated the end minus
 * the logged call time: Asterisk does not always write the CONNECT of a call
 * that is then attended-transferred (asterisk/asterisk issue 759), and a
 * crash can cut it.  Its id is the one the CONNECT would have had, so when
 * the CONNECT did reach hotlined (before a restart of the bridge, say) the
 * synthesized one is a duplicate and changes nothing.
 *
 * A channel that enters one queue again (EXITWITHKEY and back, a timeout
 * looping into the same queue, a transfer back to it) gets "#n" in the ids of
 * its n-th visit (visits.c), so its second answer or end is not a duplicate.
 *
 * Lines cut short by a crash: Asterisk appends its next line to the partial
 * one, so one line holds the cut record and then a whole one.  A line that
 * does not parse is searched for a second record header (epoch|uniqueid|,
 * the uniqueid with or without asterisk.conf's systemname: "pbx1-<epoch>.<n>");
 * the part before it counts as malformed and the rest is read as a line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pbx.h"
#include "ql_rec.h"


struct pbx_ql {
	struct pbx_opts opts;
	struct pbx_calls *calls;
	struct pbx_visits *visits;
	struct pbx_counts counts;
	bool unterminated; /* mapping the last line of an import, which had no newline */
	hl_ms now;         /* the time of the last call record read (record time) */
	hl_ms prev_at;     /* ... and of the one before it (sweep) */
	hl_ms swept_at;    /* when (record time) the stale calls were last forgotten */
	struct ql_members members; /* queues seen as members of queues (Local/601@... in 600) */
};

/* A call without a record for this long (record time) is not in progress:
 * its end was lost (a line in copytruncate's gap, an Asterisk bug), and a
 * QUEUESTART days later must not abandon it or end a talk days long.  The
 * span is counted back from the last record before the QUEUESTART, not from
 * the marker, so the calls a long outage cut still end. */
#define STALE_MS (12LL * 3600 * 1000)

/* seen_at 0: restored from a state saved before the time was kept */
static bool recent(const struct pbx_ql *m, const struct pbx_call *c)
{
	return !c->seen_at || m->now - c->seen_at <= STALE_MS;
}

/* How often (record time) the stale calls are forgotten.  Without it a call
 * whose end never came stayed in memory for the rest of the run: months of
 * --follow grew by every one of them, and every save walked them all. */
#define SWEEP_MS (3600LL * 1000)

static void emit_ev(struct pbx_ql *m, struct pbx_event *ev, const char *uid, pbx_emit_fn emit, void *ctx);
static void base_event(struct pbx_event *ev, enum pbx_kind kind, hl_ms at, const char *queue, const char *agent);

/* A call the bridge forgets (its end never came): hotlined would keep it
 * open for ever, so it gets a clear end, call.ended "pbx_lost", dated its
 * last record, with the id its end would have had (a late COMPLETE* of it
 * is then a duplicate; a late ABANDON still makes it abandoned). */
static void lost_end(struct pbx_ql *m, const struct pbx_call *c, pbx_emit_fn emit, void *ctx)
{
	if (c->anonymous || c->ended || c->leg || !emit)
		return;
	struct pbx_event ev;
	base_event(&ev, PBX_ENDED, c->seen_at, c->queue, c->connected ? c->agent : NULL);
	snprintf(ev.outcome, sizeof ev.outcome, "%s", PBX_LOST_OUTCOME);
	ev.synthesized = true;
	emit_ev(m, &ev, c->uid, emit, ctx);
}

struct stale_ctx {
	struct pbx_ql *m;
	pbx_emit_fn emit;
	void *ctx;
};

static bool stale(void *arg, struct pbx_call *c)
{
	struct stale_ctx *s = arg;
	if (!c->seen_at) /* restored from an old state: counted from now on */
		c->seen_at = s->m->now;
	if (recent(s->m, c))
		return false;
	lost_end(s->m, c, s->emit, s->ctx);
	return true;
}

/* A call record at `at`.  The time that passes is the earlier of this
 * record's and the one before it: a single line dated far ahead (a PBX
 * clock wrong for a moment) does not make every call look stale. */
static void sweep(struct pbx_ql *m, hl_ms at, pbx_emit_fn emit, void *ctx)
{
	hl_ms now = m->prev_at && m->prev_at < at ? m->prev_at : at;
	m->prev_at = at;
	if (m->swept_at && now >= m->swept_at && now - m->swept_at < SWEEP_MS)
		return;
	m->swept_at = now;
	hl_ms keep = m->now;
	m->now = now;
	struct stale_ctx s = { m, emit, ctx };
	m->counts.forgotten += pbx_calls_drop_if(m->calls, stale, &s);
	m->now = keep;
}

struct pbx_ql *pbx_ql_new(const struct pbx_opts *o)
{
	struct pbx_ql *m = calloc(1, sizeof *m);
	if (!m)
		abort();
	m->opts = *o;
	m->calls = pbx_calls_new();
	m->visits = pbx_visits_new();
	return m;
}

void pbx_ql_free(struct pbx_ql *m)
{
	if (!m)
		return;
	pbx_calls_free(m->calls);
	pbx_visits_free(m->visits);
	free(m);
}

const struct pbx_counts *pbx_ql_counts(const struct pbx_ql *m)
{
	return &m->counts;
}

size_t pbx_ql_in_progress(const struct pbx_ql *m)
{
	return pbx_calls_count(m->calls);
}

void pbx_ql_note_cut(struct pbx_ql *m)
{
	m->counts.lines++;
	m->counts.malformed++;
}

/* Seconds as Asterisk logs durations; -1 when absent or not a number. */
static long long parse_secs(const char *s)
{
	if (!s || !*s)
		return -1;
	long long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > 100000000)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

static bool plain(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static const char *const ABANDONS[] = { "ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY", NULL };
static const char *const COMPLETES[] = { "COMPLETECALLER", "COMPLETEAGENT", NULL };
static const char *const TRANSFERS[] = { "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER", NULL };
/* Documented events that say nothing hotlined needs (and vendors' common extras). */
static const char *const SKIPPED[] = {
	"ADDMEMBER", "REMOVEMEMBER", "AGENTDUMP", "AGENTLOGIN", "AGENTLOGOFF", "AGENTCALLBACKLOGIN",
	"AGENTCALLBACKLOGOFF", "CONFIGRELOAD", "RINGNOANSWER", "RINGCANCELED", "SYSCOMPAT", "PAUSE",
	"UNPAUSE", "PAUSEALL", "UNPAUSEALL", "PENALTY", "FULL", "JOINEMPTY", "LEAVEEMPTY", "JOINUNAVAIL",
	"LEAVEUNAVAIL", "CLOSED", "DID", "INFO", "AGENTCALLED", "MEMBERPAUSE", "REASON", NULL,
};

static bool known_event(const char *e)
{
	return strcmp(e, "QUEUESTART") == 0 || strcmp(e, "ENTERQUEUE") == 0 || strcmp(e, "CONNECT") == 0 ||
	       one_of(e, ABANDONS) || one_of(e, COMPLETES) || one_of(e, TRANSFERS) || one_of(e, SKIPPED);
}

/* "CONN", "ENTERQ": the start of a known event name, the rest cut off by a crash. */
static bool cut_name(const char *e)
{
	static const char *const *const lists[] = { ABANDONS, COMPLETES, TRANSFERS, SKIPPED };
	static const char *const calls[] = { "ENTERQUEUE", "CONNECT", "QUEUESTART", NULL };
	size_t n = strlen(e);
	for (const char *const *l = calls; *l; l++)
		if (strncmp(*l, e, n) == 0)
			return true;
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		for (const char *const *l = lists[i]; *l; l++)
			if (strncmp(*l, e, n) == 0)
				return true;
	return false;
}


static const char *data(const struct rec *r, int i)
{
	return i < r->n_data ? r->data[i] : "";
}

static void say(char *why, size_t len, const char *fmt, const char *arg)
{
	if (why && len)
		snprintf(why, len, fmt, arg);
}

static void emit_ev(struct pbx_ql *m, struct pbx_event *ev, const char *uid, pbx_emit_fn emit, void *ctx)
{
	if (!ev->visit) /* the offer counted its visit; the rest belong to the latest one */
		ev->visit = pbx_visits_current(m->visits, uid, ev->queue, ev->at);
	pbx_event_ids(&m->opts, ev, uid);
	m->counts.events++;
	if (ev->synthesized)
		m->counts.synthesized++;
	emit(ctx, ev);
}

static void base_event(struct pbx_event *ev, enum pbx_kind kind, hl_ms at, const char *queue, const char *agent)
{
	memset(ev, 0, sizeof *ev);
	ev->kind = kind;
	ev->at = at;
	snprintf(ev->queue, sizeof ev->queue, "%s", queue);
	if (agent && strcmp(agent, "NONE") != 0)
		snprintf(ev->agent, sizeof ev->agent, "%s", agent);
}

struct restart_ctx {
	struct pbx_ql *m;
	hl_ms at;
	pbx_emit_fn emit;
	void *ctx;
};

static void end_on_restart(void *arg, struct pbx_call *c)
{
	struct restart_ctx *r = arg;
	if (c->anonymous || c->ended || c->leg)
		return;
	if (!recent(r->m, c)) { /* its end was lost long before: not cut off by the restart */
		r->m->counts.forgotten++;
		lost_end(r->m, c, r->emit, r->ctx);
		return;
	}
	struct pbx_event ev;
	base_event(&ev, c->connected ? PBX_ENDED : PBX_ABANDONED, r->at, c->queue, c->agent);
	if (c->connected)
		snprintf(ev.outcome, sizeof ev.outcome, "pbx_restart");
	ev.synthesized = true;
	emit_ev(r->m, &ev, c->uid, r->emit, r->ctx);
}

/* A ring of a queue that is a member of the call's queue (ql_legs.c): the
 * call waiting, unanswered, in a queue with that member, with this number. */
static const struct pbx_call *outer_of(struct pbx_ql *m, const char *uid, const char *queue, const char *number)
{
	const struct pbx_call *c = pbx_ql_outer(m->calls, &m->members, uid, queue, number);
	return c && recent(m, c) ? c : NULL;
}

static enum pbx_line_result map(struct pbx_ql *m, const struct rec *r, pbx_emit_fn emit, void *ctx, char *why,
                                size_t why_len)
{
	const char *e = r->event;
	struct pbx_event ev;

	pbx_ql_learn_member(&m->members, r->queue, r->agent); /* RINGNOANSWER Local/601@... in 600, say */
	if (strcmp(e, "QUEUESTART") == 0) {
		/* Asterisk (re)started: every call it had in its queues is gone */
		m->counts.restarts++;
		struct restart_ctx rc = { m, r->at, emit, ctx };
		pbx_calls_each(m->calls, end_on_restart, &rc);
		pbx_calls_clear(m->calls);
		return PBX_LINE_MAPPED;
	}
	if (one_of(e, SKIPPED)) {
		m->counts.skipped++;
		return PBX_LINE_SKIPPED;
	}
	bool enter = strcmp(e, "ENTERQUEUE") == 0, connect = strcmp(e, "CONNECT") == 0;
	bool abandon = one_of(e, ABANDONS), complete = one_of(e, COMPLETES), transfer = one_of(e, TRANSFERS);
	if (!enter && !connect && !abandon && !complete && !transfer) {
		if (cut_name(e)) {
			m->counts.malformed++;
			say(why, why_len, "line cut short in the event name %s", e);
			return PBX_LINE_MALFORMED;
		}
		m->counts.unknown++;
		say(why, why_len, "unknown event %s", e);
		return PBX_LINE_UNKNOWN;
	}
	/* call records need a real uniqueid and queue */
	bool no_uid = strcmp(r->uid, "NONE") == 0 || strcmp(r->uid, "REALTIME") == 0;
	if (no_uid || !plain(r->uid, PBX_UID_MAX) || !plain(r->queue, PBX_NAME_MAX) || strcmp(r->queue, "NONE") == 0) {
		m->counts.malformed++;
		say(why, why_len, "%s without a uniqueid or queue", e);
		return PBX_LINE_MALFORMED;
	}
	if (!pbx_queue_wanted(&m->opts, r->queue)) {
		m->counts.other_queue++;
		return PBX_LINE_SKIPPED;
	}
	sweep(m, r->at, emit, ctx);
	struct pbx_call *c = pbx_calls_get(m->calls, r->uid);
	m->now = r->at;
	if (c)
		c->seen_at = r->at;

	if (enter) {
		if (r->n_data < 2) {
			m->counts.malformed++;
			say(why, why_len, "%s: no caller id field", e);
			return PBX_LINE_MALFORMED;
		}
		if (m->unterminated && r->n_data < 3) {
			/* app_queue writes url|callerid|origposition: without the
			 * position the line may have stopped inside the number, and
			 * a shortened number would have a stranger called back */
			m->counts.malformed++;
			say(why, why_len, "%s", "last line cut short in the caller id (no newline); not offered");
			return PBX_LINE_MALFORMED;
		}
		base_event(&ev, PBX_OFFERED, r->at, r->queue, NULL);
		/* no usable number (anonymous, restricted, zeros): still a call the
		 * figures count; hotlined owes it no call back (docs/pbx.md) */
		if (pbx_caller_normalize(&m->opts, data(r, 1), ev.caller, sizeof ev.caller) != 0) {
			ev.caller[0] = '\0';
			ev.withheld = true;
		}
		const struct pbx_call *outer = c ? NULL : outer_of(m, r->uid, r->queue, ev.caller);
		c = pbx_calls_put(m->calls, r->uid);
		c->prev_connected = c->connected; /* for a transfer record logged after this enter (below) */
		snprintf(c->queue, sizeof c->queue, "%s", r->queue);
		snprintf(c->number, sizeof c->number, "%s", ev.caller);
		c->connected = c->ended = c->leg_agent = false;
		c->seen_at = r->at;
		c->anonymous = false;
		if ((c->leg = outer != NULL)) { /* a ring of a queue that is a member of the caller's queue */
			snprintf(c->linkedid, sizeof c->linkedid, "%s", outer->uid);
			m->counts.skipped++;
			return PBX_LINE_SKIPPED;
		}
		ev.visit = pbx_visits_enter(m->visits, r->uid, r->queue, r->at);
		if (ev.withheld)
			m->counts.anonymous++;
		emit_ev(m, &ev, r->uid, emit, ctx);
		return PBX_LINE_MAPPED;
	}
	if (c && c->leg) {
		m->counts.skipped++;
		pbx_ql_leg_record(m->calls, c, connect, r->agent);
		return PBX_LINE_SKIPPED;
	}
	/* the member of this queue is another queue's Local channel: the agent
	 * is the member who answered there (leg_record) */
	const char *agent = c && c->leg_agent && strncasecmp(r->agent, "Local/", 6) == 0 ? c->agent : r->agent;
	if (c && c->anonymous) {
		/* kept after its end, until the sweep forgets it: a second end
		 * of the channel (the line twice, a transfer logged after the
		 * caller entered the next queue) is that call's, not news */
		m->counts.anonymous++;
		return PBX_LINE_SKIPPED;
	}
	if (connect) {
		base_event(&ev, PBX_ANSWERED, r->at, r->queue, agent);
		if (c) {
			c->connected = true;
			snprintf(c->agent, sizeof c->agent, "%.*s", PBX_NAME_MAX, ev.agent);
		}
		emit_ev(m, &ev, r->uid, emit, ctx);
		return PBX_LINE_MAPPED;
	}
	if (abandon) {
		base_event(&ev, PBX_ABANDONED, r->at, r->queue, NULL);
		pbx_calls_del(m->calls, r->uid);
		pbx_visits_leave(m->visits, r->uid, r->queue, r->at);
		emit_ev(m, &ev, r->uid, emit, ctx);
		return PBX_LINE_MAPPED;
	}
	/* complete or transfer: the call was talking; make sure hotlined knows it was answered.
	 * app_queue logs a transfer from its own thread, the transferee's
	 * ENTERQUEUE in the next queue comes from the channel's: a record of
	 * the queue the caller already left is about that earlier visit, and
	 * the call waiting in the next queue is kept. */
	bool earlier = c && strcmp(c->queue, r->queue) != 0;
	if (!(earlier ? c->prev_connected : c && c->connected)) {
		/* calltime: COMPLETE*(hold|call|pos), *TRANSFER(x|y|hold|call|pos), but
		 * ATTENDEDTRANSFER LINK names two channels (LINK|chan1|chan2|hold|call|pos) */
		int call_field = complete ? 1 : strcmp(e, "ATTENDEDTRANSFER") == 0 && strcmp(data(r, 0), "LINK") == 0 ? 4 : 3;
		long long talk = parse_secs(data(r, call_field));
		base_event(&ev, PBX_ANSWERED, talk > 0 ? r->at - talk * 1000 : r->at, r->queue, agent);
		ev.synthesized = true;
		emit_ev(m, &ev, r->uid, emit, ctx);
	}
	base_event(&ev, PBX_ENDED, r->at, r->queue, agent);
	snprintf(ev.outcome, sizeof ev.outcome, "%s", complete ? m->opts.complete_outcome : "transferred");
	if (!earlier)
		pbx_calls_del(m->calls, r->uid);
	emit_ev(m, &ev, r->uid, emit, ctx);
	pbx_visits_leave(m->visits, r->uid, r->queue, r->at);
	return PBX_LINE_MAPPED;
}

static enum pbx_line_result one_line(struct pbx_ql *m, const char *line, size_t len, pbx_emit_fn emit,
                                     void *ctx, char *why, size_t why_len, bool may_recover)
{
	char buf[MAX_LINE + 1];
	struct rec r;
	bool ok = len <= MAX_LINE && !memchr(line, '\0', len);
	if (ok) {
		memcpy(buf, line, len);
		buf[len] = '\0';
		ok = pbx_ql_split(buf, &r);
	}
	if (ok) {
		/* a cut line merged with the next one can still split: an ENTERQUEUE
		 * has at most 4 data fields, so more means two records in one */
		bool suspect = r.n_data > 5 || !known_event(r.event);
		if (!suspect || !may_recover || !pbx_ql_embedded(line, len))
			return map(m, &r, emit, ctx, why, why_len);
	}
	size_t at = may_recover && len <= MAX_LINE ? pbx_ql_embedded(line, len) : 0;
	m->counts.malformed++;
	if (at) {
		/* the cut record is lost; the whole one after it is read */
		enum pbx_line_result rest = one_line(m, line + at, len - at, emit, ctx, why, why_len, false);
		if (rest == PBX_LINE_MALFORMED)
			return rest;
		say(why, why_len, "%s", "line cut short (crash?); the record after it was read");
		return PBX_LINE_MALFORMED;
	}
	say(why, why_len, "%s", len > MAX_LINE ? "line too long" : "not a queue_log record (cut short?)");
	return PBX_LINE_MALFORMED;
}

enum pbx_line_result pbx_ql_line(struct pbx_ql *m, const char *line, size_t len, pbx_emit_fn emit, void *ctx,
                                 char *why, size_t why_len)
{
	if (why && why_len)
		why[0] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		len--;
	m->counts.lines++;
	if (len == 0) { /* a blank line: nothing lost */
		m->counts.skipped++;
		return PBX_LINE_SKIPPED;
	}
	return one_line(m, line, len, emit, ctx, why, why_len, true);
}

/* The last line of an import without its newline: whole, or cut where the
 * writer stopped.  A cut in the epoch, uniqueid, queue or agent leaves no
 * record; one in the event name is a cut name (malformed); one in the data
 * of most events loses durations only.  But an ENTERQUEUE cut inside its
 * caller id would offer the call under a shortened number, so there the
 * field after the caller id (origposition) must be present. */
enum pbx_line_result pbx_ql_last_line(struct pbx_ql *m, const char *line, size_t len, pbx_emit_fn emit,
                                      void *ctx, char *why, size_t why_len)
{
	m->unterminated = true;
	enum pbx_line_result res = pbx_ql_line(m, line, len, emit, ctx, why, why_len);
	m->unterminated = false;
	return res;
}

/* ---------------------------------------------------- across restarts */

/* How far back (record time) the visits saved with a position reach: a
 * channel quiet for longer is not expected back in a queue, and the state
 * file stays small (a busy hotline: a few thousand channels). */
#define STATE_VISITS_MS (30LL * 60 * 1000)

struct text {
	char *p;
	size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (t->p && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap : 4096;
		while (cap < t->len + (size_t)n + 1)
			cap *= 2;
		t->p = realloc(t->p, cap);
		if (!t->p)
			abort();
		t->cap = cap;
	}
}

/* An agent name as the text's field: no tab or newline inside (uniqueids
 * and queue names never have control characters: plain() refused them). */
static void field_of(const char *s, char *out, size_t outlen)
{
	size_t i = 0;
	for (; s[i] && i + 1 < outlen; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
}

struct state_ctx {
	const struct pbx_ql *m;
	struct text t;
};

/* A stale call (no record for STALE_MS) is not saved: a restart forgets it,
 * and the state file does not grow with every call whose end was lost. */
static void state_call(void *arg, struct pbx_call *c)
{
	struct state_ctx *s = arg;
	if (!recent(s->m, c) || c->leg)
		return;
	char agent[PBX_NAME_MAX + 1];
	field_of(c->agent, agent, sizeof agent);
	text_add(&s->t, "c\t%d\t%d\t%s\t%s\t%s\t%lld\n", c->connected, c->anonymous, c->uid, c->queue, agent,
	         (long long)c->seen_at);
}

static void state_visit(void *arg, const char *uid, const char *queue, int count, hl_ms last_at)
{
	text_add(arg, "v\t%d\t%lld\t%s\t%s\n", count, (long long)last_at, uid, queue);
}

char *pbx_ql_state(const struct pbx_ql *m)
{
	struct state_ctx s = { m, { 0 } };
	text_add(&s.t, "%s", "");
	pbx_calls_each(m->calls, state_call, &s);
	pbx_visits_each(m->visits, STATE_VISITS_MS, state_visit, &s.t);
	for (int i = 0; i < m->members.n; i++)
		text_add(&s.t, "q\t%s\t%s\n", m->members.m[i].outer, m->members.m[i].inner);
	return s.t.p;
}

/* Split a tab-separated line in place into at most `max` fields; their number. */
static int tabs(char *s, char **f, int max)
{
	int n = 0;
	f[n++] = s;
	for (char *p = s; *p && n < max; p++)
		if (*p == '\t') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

bool pbx_ql_restore(struct pbx_ql *m, const char *line)
{
	char buf[1024], *f[7];
	if (strlen(line) >= sizeof buf)
		return false;
	snprintf(buf, sizeof buf, "%s", line);
	int n = tabs(buf, f, 7);
	/* c: connected, anonymous, uid, queue, agent[, last record's time: 0 or
	 * absent in a state saved before it was kept] */
	if ((n == 6 || n == 7) && strcmp(f[0], "c") == 0 && plain(f[3], PBX_UID_MAX) && plain(f[4], PBX_NAME_MAX)) {
		struct pbx_call *c = pbx_calls_put(m->calls, f[3]);
		c->connected = strcmp(f[1], "1") == 0;
		c->anonymous = strcmp(f[2], "1") == 0;
		snprintf(c->queue, sizeof c->queue, "%s", f[4]);
		snprintf(c->agent, sizeof c->agent, "%s", f[5]);
		long long seen = n == 7 ? atoll(f[6]) : 0;
		c->seen_at = seen > 0 ? (hl_ms)seen : 0;
		/* m->now stays unknown until the next record: every call saved
		 * was in progress then.  (Taking the latest time here made the
		 * calls entered after a step back of the PBX's clock look stale:
		 * dropped by the next save, not ended by a QUEUESTART.) */
		return true;
	}
	if (n == 3 && strcmp(f[0], "q") == 0 && plain(f[1], PBX_NAME_MAX) && plain(f[2], PBX_NAME_MAX)) {
		pbx_ql_add_member(&m->members, f[1], f[2]);
		return true;
	}
	if (n == 5 && strcmp(f[0], "v") == 0 && plain(f[3], PBX_UID_MAX) && plain(f[4], PBX_NAME_MAX)) {
		int count = atoi(f[1]);
		long long at = atoll(f[2]);
		if (count < 1 || at <= 0)
			return false;
		pbx_visits_restore(m->visits, f[3], f[4], count, (hl_ms)at);
		return true;
	}
	return false;
}
