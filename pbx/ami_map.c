/*
 * ami_map.c - Asterisk Manager Interface messages -> hotlined events (pure).
 *
 * The AMI events with the meaning of the queue_log records (Asterisk 12+
 * names, docs in ../shared/fixtures/asterisk/ami_event_docs):
 *
 * (Asterisk 1.8-11 call the join and the leave "Join" and "Leave", and
 * the member's interface "Member"; 1.4's Join has the number as
 * "CallerID": read alike.)
 *
 *   QueueCallerJoin     (Uniqueid, Queue, CallerIDNum)  -> call.offered
 *   AgentConnect        (Uniqueid, Queue, Interface)    -> call.answered
 *   QueueCallerAbandon  (Uniqueid, Queue)               -> call.abandoned
 *   QueueCallerLeave    without AgentConnect or Abandon  -> call.abandoned
 *                       (timeout, empty queue, key: AMI has no event of its
 *                       own for those), once leave_grace_ms has passed
 *                       without an AgentConnect for the call -- unless a
 *                       member had answered it (below) -- or at once when
 *                       the channel joins a queue again first (an overflow)
 *   AgentComplete       (Reason caller|agent|transfer)   -> call.ended
 *                       (outcome complete_outcome, or "transferred")
 *   BlindTransfer / AttendedTransfer with Result Success whose transferee
 *                       (or a transferer) is a queue call -> call.ended "transferred"
 *
 * When a member answers, app_queue (try_calling) publishes DialEnd with
 * DialStatus ANSWER, then leaves the queue, then runs the member gosub and
 * the Queue() AGI, and only then publishes AgentConnect: a gosub (whisper,
 * "press 1 to accept") can last longer than any grace.  So a DialEnd ANSWER
 * for a call still in the queue marks it answering, and its leave waits for
 * the AgentConnect up to a minute (ANSWERING_GRACE_MS), not leave_grace_ms; AgentDump (the member hung up during the
 * announcement: the caller goes back to waiting) unmarks it.  A caller who
 * hangs up meanwhile gets QueueCallerAbandon from app_queue, as ever.
 * Should an AgentConnect still come after an inferred abandon (no DialEnd:
 * an account without the call class), the call was kept and is reported
 * answered and ended: hotlined's call.answered meets the callback the
 * abandon armed, rather than leaving it to breach.
 *
 * A queue whose member is another queue (Local/601@from-internal/n) makes
 * every ring of it a Local channel joining the inner queue with the
 * caller's Linkedid: such a leg is not a call (outer_call), nothing of it
 * is sent, and its answering member is the call's agent.
 *
 * Asterisk restarting (a crash says nothing of the calls it had) is seen
 * from FullyBooted, which every login gets with the time since startup
 * (Uptime): a later startup than the last one ends every call we knew, as
 * the queue_log's QUEUESTART does: waiting callers abandoned (owed a call
 * back), talking ones ended "pbx_restart".
 *
 * Asterisk does not replay what a lost session missed.  After every login
 * the shell asks QueueStatus (pbx_amimap_link, "reconnects" below): a
 * caller waiting now that we did not know is offered (QueueEntry, dated
 * by its Wait), and a call we knew to wait that is in no queue now left
 * it in the gap: it ends "pbx_lost", as a call forgotten after 12 h
 * without news does (lost_end), never with an invented abandon; while
 * the link is down no abandon is inferred from a leave either.
 *
 * Uniqueid in the Agent* events is the caller's channel (Dest* is the
 * member's), so ids match the queue_log ones: the same call seen through
 * both sources is sent once; a second QueueCallerJoin of one channel to one
 * queue starts its visit "#2" there, as a second ENTERQUEUE does (visits.c).  A Timestamp header (timestampevents=yes in
 * manager.conf) dates every event, the abandon inferred from a leave too;
 * otherwise the time of receipt does.  The leave grace itself is measured
 * from the receipt of the leave (our clock), not from its Timestamp: a
 * backlog read after a reconnect, or a PBX clock behind ours, must not turn
 * a leave whose AgentConnect is still on its way into an abandon.  "Our
 * clock" for graces and forgetting is the monotonic one (pbx_amimap_mono):
 * a step of the wall clock (NTP, a resumed VM) neither holds an abandon
 * back nor hurries one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pbx.h"

/* -------------------------------------------------------------- mapping */

struct pbx_amimap {
	struct pbx_opts opts;
	struct pbx_calls *calls;
	struct pbx_visits *visits;
	struct pbx_counts counts;
	hl_ms pbx_started; /* when Asterisk started, from FullyBooted's Uptime (0: not yet known) */
	bool started_known;
	hl_ms booted_seen; /* ... and when we last heard it (monotonic, as mono) */
	hl_ms mono;        /* the bridge's monotonic clock at this message (pbx_amimap_mono) */
	bool mono_set;
	bool blind;        /* a QueueEntry of this resync had no Uniqueid (Asterisk 1.4): nothing can be told gone */
};

struct pbx_amimap *pbx_amimap_new(const struct pbx_opts *o)
{
	struct pbx_amimap *m = calloc(1, sizeof *m);
	if (!m)
		abort();
	m->opts = *o;
	m->calls = pbx_calls_new();
	m->visits = pbx_visits_new();
	return m;
}

void pbx_amimap_free(struct pbx_amimap *m)
{
	if (!m)
		return;
	pbx_calls_free(m->calls);
	pbx_visits_free(m->visits);
	free(m);
}

const struct pbx_counts *pbx_amimap_counts(const struct pbx_amimap *m)
{
	return &m->counts;
}

static hl_ms event_time(const struct pbx_ami_msg *msg, hl_ms now)
{
	const char *ts = pbx_ami_get(msg, "Timestamp");
	if (!ts || !*ts)
		return now;
	char *end;
	double v = strtod(ts, &end);
	if (*end || v < 946684800.0 || v > 4102444800.0)
		return now;
	return (hl_ms)(v * 1000.0 + 0.5);
}

static void emit_ev(struct pbx_amimap *m, enum pbx_kind kind, hl_ms at, const struct pbx_call *c,
                    const char *agent, const char *outcome, bool synth, pbx_emit_fn emit, void *ctx)
{
	struct pbx_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = kind;
	ev.at = at;
	ev.synthesized = synth;
	snprintf(ev.queue, sizeof ev.queue, "%s", c->queue);
	if (agent && *agent)
		snprintf(ev.agent, sizeof ev.agent, "%s", agent);
	if (outcome)
		snprintf(ev.outcome, sizeof ev.outcome, "%s", outcome);
	ev.visit = pbx_visits_current(m->visits, c->uid, c->queue, at);
	pbx_event_ids(&m->opts, &ev, c->uid);
	m->counts.events++;
	if (synth)
		m->counts.synthesized++;
	emit(ctx, &ev);
}

static const char *member_of(const struct pbx_ami_msg *msg)
{
	const char *v = pbx_ami_get(msg, "Interface");
	if (!v || !*v)
		v = pbx_ami_get(msg, "Member"); /* Asterisk 1.8-11's name for the interface */
	if (!v || !*v)
		v = pbx_ami_get(msg, "MemberName");
	if (!v || !*v)
		v = pbx_ami_get(msg, "DestChannel");
	return v ? v : "";
}

/* The call ended after talking: answered first if we never saw it answered. */
static void end_call(struct pbx_amimap *m, struct pbx_call *c, hl_ms at, const char *agent, const char *outcome,
                     pbx_emit_fn emit, void *ctx)
{
	if (c->ended)
		return;
	if (!c->connected)
		emit_ev(m, PBX_ANSWERED, at, c, agent, NULL, true, emit, ctx);
	emit_ev(m, PBX_ENDED, at, c, agent[0] ? agent : c->agent, outcome, false, emit, ctx);
	c->ended = true;
}

/* A call the bridge gives up on without knowing how it ended (no news for
 * 12 h; or gone from its queue at a resync): call.ended "pbx_lost", dated
 * its last news, with the id its end would have had, so that hotlined
 * does not keep it open for ever and a real end already received from
 * the queue_log is not overwritten (a duplicate). */
static void lost_end(struct pbx_amimap *m, struct pbx_call *c, pbx_emit_fn emit, void *ctx)
{
	if (c->ended || c->leg || c->gave_up)
		return;
	emit_ev(m, PBX_ENDED, c->last_at, c, c->connected ? c->agent : NULL, PBX_LOST_OUTCOME, true, emit, ctx);
	c->ended = true;
}

/* Two FullyBooted more than this apart in the startup time they give mean
 * Asterisk started again: Uptime is whole seconds read on Asterisk's clock
 * and set against ours at receipt, and nothing restarts twice a minute. */
#define RESTART_SLACK_MS (60LL * 1000)

struct restart_ctx {
	struct pbx_amimap *m;
	hl_ms at;
	pbx_emit_fn emit;
	void *ctx;
};

static void end_on_restart(void *arg, struct pbx_call *c)
{
	struct restart_ctx *r = arg;
	if (c->ended || c->leg)
		return;
	if (c->connected)
		emit_ev(r->m, PBX_ENDED, r->at, c, c->agent, "pbx_restart", true, r->emit, r->ctx);
	else if (!c->gave_up) /* waiting (or left, its grace still running): cut off */
		emit_ev(r->m, PBX_ABANDONED, c->left_at ? c->left_at : r->at, c, NULL, NULL, true, r->emit, r->ctx);
}

/* FullyBooted, sent after every login (with the `system` class) and when a
 * boot completes: AMI's QUEUESTART.  A crashed Asterisk says nothing about
 * the calls it had, so a later startup time ends every call we knew, as
 * QUEUESTART does in the queue_log. */
static void fully_booted(struct pbx_amimap *m, const struct pbx_ami_msg *msg, hl_ms now, pbx_emit_fn emit, void *ctx)
{
	const char *up = pbx_ami_get(msg, "Uptime");
	char *end = NULL;
	long long secs = up && *up ? strtoll(up, &end, 10) : -1;
	m->counts.skipped++;
	if (secs < 0 || *end || secs > 100LL * 366 * 86400)
		return; /* an old Asterisk (no Uptime): no way to tell; or not a time at all */
	/* compared on the monotonic clock: a step of the wall clock between two
	 * logins (NTP, a resumed VM) would otherwise move the startup by as
	 * much and be taken for a restart; the events are dated on wall time */
	hl_ms clock = m->mono_set ? m->mono : now;
	hl_ms started = clock - secs * 1000, before = m->pbx_started, seen = m->booted_seen;
	bool known = m->started_known;
	m->pbx_started = started;
	m->started_known = true;
	m->booted_seen = clock;
	/* Uptime is Asterisk's wall clock less its start: the PBX's clock
	 * stepped back (NTP just after a boot) moves the startup later too.
	 * But an Asterisk that restarted has been up for less time than has
	 * passed since we last heard it was up; one whose clock stepped has
	 * not (unless the step exceeds its whole uptime). */
	if (!known || started - before <= RESTART_SLACK_MS || secs * 1000 > clock - seen + RESTART_SLACK_MS)
		return;
	m->counts.restarts++;
	struct restart_ctx rc = { m, now - secs * 1000, emit, ctx };
	pbx_calls_each(m->calls, end_on_restart, &rc);
	pbx_calls_clear(m->calls);
}

static bool ok_uid(const char *uid)
{
	return uid && *uid && strlen(uid) <= PBX_UID_MAX;
}

/* ------------------------------------------------- a queue as a member */

struct leg_find {
	const char *uid, *linkedid;
	bool waiting; /* only a call still waiting for a member */
	struct pbx_call *found;
};

static void find_outer(void *arg, struct pbx_call *c)
{
	struct leg_find *f = arg;
	const char *linked = c->linkedid[0] ? c->linkedid : c->uid;
	if (f->found || c->leg || c->ended || strcmp(c->uid, f->uid) == 0 || strcmp(linked, f->linkedid) != 0)
		return;
	if (!f->waiting || (!c->connected && !c->gave_up))
		f->found = c;
}

/* The call a Local channel's join belongs to: a queue whose member is
 * another queue (Local/601@from-internal/n) makes every ring of that
 * member a Local channel joining the inner queue with the caller's number
 * and Linkedid.  It is that call's leg, not a call: its timeout is not the
 * caller's abandon, its answer is the caller's (by the inner queue's
 * member).  A Local channel whose Linkedid is no call waiting in a queue
 * (a callback originated through Local/) is a call of its own. */
static struct pbx_call *outer_call(struct pbx_amimap *m, const char *uid, const char *channel, const char *linkedid,
                                   bool waiting)
{
	if (!channel || strncasecmp(channel, "Local/", 6) != 0 || !ok_uid(linkedid))
		return NULL;
	struct leg_find f = { uid, linkedid, waiting, NULL };
	pbx_calls_each(m->calls, find_outer, &f);
	return f.found;
}

static bool local_member(const char *member)
{
	return strncasecmp(member, "Local/", 6) == 0;
}

/* The agent of an event of a call: the member in its inner queue, when the
 * member of this queue is that queue's Local channel. */
static const char *agent_of(const struct pbx_call *c, const struct pbx_ami_msg *msg)
{
	const char *member = member_of(msg);
	return c->leg_agent && local_member(member) ? c->agent : member;
}

/* An event of a leg: nothing is sent; its answer names the call's agent. */
static void leg_event(struct pbx_amimap *m, struct pbx_call *c, bool connect, bool done,
                      const struct pbx_ami_msg *msg)
{
	m->counts.skipped++;
	if (connect) {
		struct pbx_call *outer = outer_call(m, c->uid, "Local/", c->linkedid, false);
		if (outer && !outer->connected) {
			snprintf(outer->agent, sizeof outer->agent, "%s", member_of(msg));
			outer->leg_agent = true;
		}
	}
	if (done)
		pbx_calls_del(m->calls, c->uid);
}

/* call.offered of a join (or of a QueueEntry at a resync). */
static void offer(struct pbx_amimap *m, const char *uid, const char *queue, const struct pbx_ami_msg *msg, hl_ms at,
                  pbx_emit_fn emit, void *ctx)
{
	struct pbx_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = PBX_OFFERED;
	ev.at = at;
	ev.visit = pbx_visits_enter(m->visits, uid, queue, at);
	snprintf(ev.queue, sizeof ev.queue, "%s", queue);
	const char *number = pbx_ami_get(msg, "CallerIDNum");
	if (!number)
		number = pbx_ami_get(msg, "CallerID"); /* Asterisk 1.4's name for it */
	if (pbx_caller_normalize(&m->opts, number, ev.caller, sizeof ev.caller) != 0) {
		ev.caller[0] = '\0'; /* no usable number: offered as withheld (docs/pbx.md) */
		ev.withheld = true;
		m->counts.anonymous++;
	}
	pbx_event_ids(&m->opts, &ev, uid);
	m->counts.events++;
	emit(ctx, &ev);
}

static void queue_entry(struct pbx_amimap *m, const struct pbx_ami_msg *msg, hl_ms now, hl_ms clock, pbx_emit_fn emit,
                        void *ctx);
static void resync_end(struct pbx_amimap *m, pbx_emit_fn emit, void *ctx);

void pbx_amimap_event(struct pbx_amimap *m, const struct pbx_ami_msg *msg, hl_ms now, pbx_emit_fn emit, void *ctx)
{
	const char *name = pbx_ami_get(msg, "Event");
	if (!name)
		return; /* a response, not an event */
	m->counts.lines++;
	hl_ms at = event_time(msg, now);
	hl_ms clock = m->mono_set ? m->mono : now; /* graces and forgetting: not the wall clock */
	const char *uid = pbx_ami_get(msg, "Uniqueid");
	const char *queue = pbx_ami_get(msg, "Queue");

	if (strcasecmp(name, "FullyBooted") == 0) {
		fully_booted(m, msg, now, emit, ctx);
		return;
	}
	if (strcasecmp(name, "QueueEntry") == 0) { /* QueueStatus's list of the callers waiting */
		queue_entry(m, msg, now, clock, emit, ctx);
		return;
	}
	if (strcasecmp(name, "QueueStatusComplete") == 0) {
		m->counts.skipped++;
		const char *id = pbx_ami_get(msg, "ActionID");
		if (id && strcmp(id, PBX_AMI_RESYNC_ID) == 0)
			resync_end(m, emit, ctx);
		return;
	}

	if (strcasecmp(name, "BlindTransfer") == 0 || strcasecmp(name, "AttendedTransfer") == 0) {
		const char *result = pbx_ami_get(msg, "Result");
		if (!result || strcasecmp(result, "Success") != 0) {
			m->counts.skipped++;
			return;
		}
		static const char *const parties[] = { "TransfereeUniqueid", "OrigTransfererUniqueid",
		                                       "SecondTransfererUniqueid", NULL };
		for (int i = 0; parties[i]; i++) {
			const char *u = pbx_ami_get(msg, parties[i]);
			struct pbx_call *c = ok_uid(u) ? pbx_calls_get(m->calls, u) : NULL;
			if (c && !c->leg && !(c->gave_up && !c->connected)) {
				/* the agent transferred the caller: the transferer channel is the agent's */
				const char *transferee = pbx_ami_get(msg, "TransfereeUniqueid");
				const char *agent = NULL;
				if (transferee && strcmp(u, transferee) == 0) {
					agent = pbx_ami_get(msg, "TransfererChannel");
					if (!agent)
						agent = pbx_ami_get(msg, "OrigTransfererChannel");
				}
				end_call(m, c, at, agent ? agent : "", "transferred", emit, ctx);
				return;
			}
		}
		m->counts.skipped++;
		return;
	}

	if (strcasecmp(name, "DialEnd") == 0) { /* no Queue header: the caller's Uniqueid says */
		const char *status = pbx_ami_get(msg, "DialStatus");
		struct pbx_call *c = ok_uid(uid) ? pbx_calls_get(m->calls, uid) : NULL;
		if (c && status && strcasecmp(status, "ANSWER") == 0 && !c->left_at && !c->connected && !c->ended)
			c->answering = true;
		m->counts.skipped++; /* it sends nothing itself */
		return;
	}
	if (strcasecmp(name, "AgentDump") == 0) {
		struct pbx_call *c = ok_uid(uid) ? pbx_calls_get(m->calls, uid) : NULL;
		if (c && !c->left_at)
			c->answering = false;
		m->counts.skipped++;
		return;
	}

	/* Asterisk 1.8-11 name the join and the leave "Join" and "Leave" (same
	 * Uniqueid, Queue, CallerIDNum headers); 12 renamed them */
	bool join = strcasecmp(name, "QueueCallerJoin") == 0 || strcasecmp(name, "Join") == 0;
	bool connect = strcasecmp(name, "AgentConnect") == 0;
	bool abandon = strcasecmp(name, "QueueCallerAbandon") == 0;
	bool leave = strcasecmp(name, "QueueCallerLeave") == 0 || strcasecmp(name, "Leave") == 0;
	bool complete = strcasecmp(name, "AgentComplete") == 0;
	if (!join && !connect && !abandon && !leave && !complete) {
		m->counts.skipped++; /* AgentCalled, AgentRingNoAnswer, Newchannel, ... */
		return;
	}
	if (!ok_uid(uid) || !queue || !*queue || strlen(queue) > PBX_NAME_MAX) {
		m->counts.malformed++;
		return;
	}
	if (!pbx_queue_wanted(&m->opts, queue)) {
		m->counts.other_queue++;
		return;
	}
	struct pbx_call *c = pbx_calls_get(m->calls, uid);
	if (join) {
		if (c && c->left_at && !c->connected && !c->ended && !c->gave_up) {
			/* left its queue and joined one again (an overflow to the
			 * next queue, an exit key and back) before the grace ran
			 * out: the visit it left is abandoned, as the queue_log's
			 * EXITWITHTIMEOUT / EXITWITHKEY say; resetting the call
			 * here used to lose that abandon */
			emit_ev(m, PBX_ABANDONED, c->left_at, c, NULL, NULL, false, emit, ctx);
		}
		const char *linkedid = pbx_ami_get(msg, "Linkedid");
		bool leg = outer_call(m, uid, pbx_ami_get(msg, "Channel"), linkedid, true) != NULL;
		c = pbx_calls_put(m->calls, uid);
		c->prev_connected = c->connected; /* what a late AgentComplete of that visit needs (below) */
		c->prev_ended = c->ended;
		snprintf(c->queue, sizeof c->queue, "%s", queue);
		c->connected = c->ended = c->answering = c->gave_up = c->leg_agent = false;
		c->left_at = c->left_seen = 0;
		c->seen_at = clock;
		c->last_at = at;
		c->unconfirmed = false;
		snprintf(c->linkedid, sizeof c->linkedid, "%s", ok_uid(linkedid) ? linkedid : "");
		if ((c->leg = leg)) {
			m->counts.skipped++;
			return;
		}
		offer(m, uid, queue, msg, at, emit, ctx);
		return;
	}
	if (!c) {
		/* joined before we connected: we cannot offer it (no caller id in
		 * the later events), so it is not ours to report */
		m->counts.skipped++;
		return;
	}
	if (c->leg) {
		leg_event(m, c, connect, complete || abandon, msg);
		return;
	}
	c->seen_at = clock;
	c->last_at = at;
	c->unconfirmed = false;
	if (complete && strcmp(c->queue, queue) != 0 && !c->connected) {
		/* app_queue's AgentComplete for the queue the caller was just
		 * transferred out of, come after the caller's join to the next
		 * one (the two are published from different threads).  It is
		 * the end of that earlier visit, not news of this one: end that
		 * visit (a duplicate when a BlindTransfer already did) and keep
		 * the call waiting where it is. */
		struct pbx_call before = *c;
		snprintf(before.queue, sizeof before.queue, "%s", queue);
		before.connected = c->prev_connected;
		before.ended = c->prev_ended; /* a BlindTransfer / AttendedTransfer ended it already */
		c->prev_ended = true;
		const char *reason = pbx_ami_get(msg, "Reason");
		bool xfer = reason && strcasecmp(reason, "transfer") == 0;
		end_call(m, &before, at, agent_of(c, msg), xfer ? "transferred" : m->opts.complete_outcome, emit, ctx);
		return;
	}
	if (strcmp(c->queue, queue) != 0) {
		/* the channel moved to another queue without a join we saw */
		snprintf(c->queue, sizeof c->queue, "%s", queue);
	}
	if (connect) {
		c->connected = true;
		c->left_at = c->left_seen = 0;
		const char *agent = agent_of(c, msg);
		if (agent != c->agent)
			snprintf(c->agent, sizeof c->agent, "%s", agent);
		emit_ev(m, PBX_ANSWERED, at, c, c->agent, NULL, false, emit, ctx);
	} else if (abandon) {
		emit_ev(m, PBX_ABANDONED, at, c, NULL, NULL, false, emit, ctx);
		pbx_calls_del(m->calls, uid);
	} else if (leave) {
		if (!c->connected && !c->ended) {
			/* answered, or gone?  AgentConnect may still follow.  Dated
			 * by the event; the grace runs on our clock, so that a
			 * backlog (reconnect) whose AgentConnect is still unread
			 * is not taken for an abandon. */
			c->left_at = at;
			c->left_seen = clock;
		}
	} else { /* complete */
		const char *reason = pbx_ami_get(msg, "Reason");
		bool xfer = reason && strcasecmp(reason, "transfer") == 0;
		end_call(m, c, at, agent_of(c, msg), xfer ? "transferred" : m->opts.complete_outcome, emit, ctx);
		pbx_calls_del(m->calls, uid);
	}
}

struct tick_ctx {
	struct pbx_amimap *m;
	hl_ms now;
	pbx_emit_fn emit;
	void *ctx;
	char (*gone)[PBX_UID_MAX + 1];
	size_t n_gone, cap_gone;
};

/* A call whose end we never heard of (it ended while we were disconnected)
 * is forgotten after this long without news. */
#define FORGET_MS (12LL * 3600 * 1000)
/* How long a call a member answered may wait, after leaving the queue, for
 * its AgentConnect (the member gosub: a whisper, "press 1 to accept")
 * before it is taken for abandoned.  Should the connect come later still,
 * it is sent all the same (gave_up) and meets the callback. */
#define ANSWERING_GRACE_MS (60LL * 1000)

static void tick_one(void *arg, struct pbx_call *c)
{
	struct tick_ctx *t = arg;
	/* a member answered (DialEnd ANSWER): its gosub may run long, but not
	 * for ever; a caller whose AgentConnect never comes is still owed a
	 * call back, a minute late rather than never */
	int64_t grace = c->answering ? ANSWERING_GRACE_MS : t->m->opts.leave_grace_ms;
	bool gone = c->left_seen && !c->connected && !c->ended && t->now - c->left_seen >= grace &&
	            !c->unconfirmed; /* its AgentConnect may have been in a span we did not hear */
	bool stale = t->now - c->seen_at > FORGET_MS;
	if (gone) {
		emit_ev(t->m, PBX_ABANDONED, c->left_at, c, NULL, NULL, false, t->emit, t->ctx);
		c->left_seen = 0;
		c->gave_up = true; /* kept until forgotten: an AgentConnect may still come */
	}
	if (!stale)
		return;
	lost_end(t->m, c, t->emit, t->ctx);
	if (t->n_gone == t->cap_gone) {
		t->cap_gone = t->cap_gone ? t->cap_gone * 2 : 16;
		t->gone = realloc(t->gone, t->cap_gone * sizeof *t->gone);
		if (!t->gone)
			abort();
	}
	snprintf(t->gone[t->n_gone++], PBX_UID_MAX + 1, "%s", c->uid);
}

void pbx_amimap_mono(struct pbx_amimap *m, hl_ms mono)
{
	m->mono = mono;
	m->mono_set = true;
}

void pbx_amimap_tick(struct pbx_amimap *m, hl_ms now, pbx_emit_fn emit, void *ctx)
{
	/* the grace of a leave and the forgetting of quiet calls run on the
	 * monotonic clock (pbx_amimap_mono), as their start was taken: NTP
	 * stepping the wall clock back held every inferred abandon back by
	 * the step (lost if the bridge stopped meanwhile), a step forward
	 * abandoned leaves whose AgentConnect was a moment away */
	struct tick_ctx t = { .m = m, .now = m->mono_set ? m->mono : now, .emit = emit, .ctx = ctx };
	pbx_calls_each(m->calls, tick_one, &t);
	for (size_t i = 0; i < t.n_gone; i++)
		pbx_calls_del(m->calls, t.gone[i]);
	m->counts.forgotten += t.n_gone;
	free(t.gone);
}

/* ------------------------------------------------------ reconnects */

/* Asterisk does not replay what a lost session missed.  Once logged in
 * again the shell asks QueueStatus (any account may: the action needs no
 * write class), whose QueueEntry events list the callers waiting now:
 * a call that joined meanwhile is offered (dated by its Wait), a call we
 * knew is confirmed, and at QueueStatusComplete a call we knew to be
 * waiting (or leaving, its grace running when the link dropped) that is
 * in no queue now left it meanwhile: answered or abandoned, nobody can
 * say, so it gets the clear end of a call we lost (pbx_lost), never an
 * invented abandon; the queue_log of the span has the truth.  A call
 * being talked is not listed by QueueStatus and is kept: its
 * AgentComplete comes when it ends, or it is forgotten after 12 h. */
static void mark_unconfirmed(void *arg, struct pbx_call *c)
{
	(void)arg;
	c->unconfirmed = true;
}

static void confirm(void *arg, struct pbx_call *c)
{
	(void)arg;
	c->unconfirmed = false;
}

/* The link went down: every call we knew is unconfirmed until news of it
 * comes (an event, its QueueEntry) or QueueStatus completes; meanwhile no
 * abandon is inferred from its leave (its AgentConnect may have been
 * sent while we were away).  Logged in again: nothing more to do here. */
void pbx_amimap_link(struct pbx_amimap *m, bool up)
{
	m->blind = false;
	if (!up)
		pbx_calls_each(m->calls, mark_unconfirmed, NULL);
}

void pbx_amimap_resync_failed(struct pbx_amimap *m)
{
	pbx_calls_each(m->calls, confirm, NULL);
}

/* QueueEntry (Queue, Uniqueid, Channel, CallerIDNum, Wait): a caller waiting now. */
static void queue_entry(struct pbx_amimap *m, const struct pbx_ami_msg *msg, hl_ms now, hl_ms clock, pbx_emit_fn emit,
                        void *ctx)
{
	const char *uid = pbx_ami_get(msg, "Uniqueid"), *queue = pbx_ami_get(msg, "Queue");
	if (!ok_uid(uid) || !queue || !*queue || strlen(queue) > PBX_NAME_MAX) {
		/* Asterisk 1.4's QueueEntry has no Uniqueid: a caller listed that
		 * we cannot match, so no call we knew can be told gone */
		m->blind = true;
		m->counts.malformed++;
		return;
	}
	if (!pbx_queue_wanted(&m->opts, queue)) {
		m->counts.other_queue++;
		return;
	}
	struct pbx_call *c = pbx_calls_get(m->calls, uid);
	if (c && (c->leg || (strcmp(c->queue, queue) == 0 && !c->connected && !c->ended && !c->gave_up))) {
		c->unconfirmed = false; /* known, waiting where we knew it: nothing to say */
		m->counts.skipped++;
		return;
	}
	const char *channel = pbx_ami_get(msg, "Channel");
	if (!c && channel && strncasecmp(channel, "Local/", 6) == 0) {
		/* QueueEntry has no Linkedid: a Local channel may be a ring of a
		 * queue that is a member of another (a leg, not a call) */
		m->counts.skipped++;
		return;
	}
	/* joined while the link was down (or moved to this queue): offered,
	 * dated by how long it has waited */
	const char *wait = pbx_ami_get(msg, "Wait");
	char *end = NULL;
	long long secs = wait && *wait ? strtoll(wait, &end, 10) : 0;
	hl_ms at = now - (end && !*end && secs > 0 && secs < 86400 ? secs * 1000 : 0);
	c = pbx_calls_put(m->calls, uid);
	snprintf(c->queue, sizeof c->queue, "%s", queue);
	c->connected = c->ended = c->answering = c->gave_up = c->leg_agent = c->leg = c->unconfirmed = false;
	c->left_at = c->left_seen = 0;
	c->seen_at = clock;
	c->last_at = at;
	offer(m, uid, queue, msg, at, emit, ctx);
}

struct resync_ctx {
	struct pbx_amimap *m;
	pbx_emit_fn emit;
	void *ctx;
};

static bool gone_meanwhile(void *arg, struct pbx_call *c)
{
	struct resync_ctx *r = arg;
	if (!c->unconfirmed)
		return false;
	c->unconfirmed = false;
	if (c->connected || c->ended || c->gave_up)
		return false; /* talking (QueueStatus does not list it), or its end already sent */
	if (!c->leg) {
		lost_end(r->m, c, r->emit, r->ctx);
		r->m->counts.forgotten++;
	}
	return true;
}

static void resync_end(struct pbx_amimap *m, pbx_emit_fn emit, void *ctx)
{
	struct resync_ctx r = { m, emit, ctx };
	if (m->blind)
		pbx_amimap_resync_failed(m);
	else
		pbx_calls_drop_if(m->calls, gone_meanwhile, &r);
	m->blind = false;
}
