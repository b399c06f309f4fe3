/*
 * cluster_own.c - which alerts this daemon's subscribers already got, and the
 * notifications of the store's own commits held until the store answers.
 *
 * Every alert (and acknowledgement) is pushed to this daemon's subscribers
 * once per (alert id, level) (an acknowledgement is level 0), whichever road
 * it takes: the store's own batch (alerts.c, after its COMMIT) or NOTIFY
 * hotline_alert / hotline_alert_ack heard on the cluster session (cluster.c)
 * for what another backend committed.  The set of the pairs pushed is here:
 * the newest SEEN_CAP of them, a ring in arrival order indexed by an
 * open-addressing hash (a linear scan of 4096 pairs per alert cost a burst of
 * 10,000 alerts 40 M comparisons on the loop).
 *
 * A notification from the store's own backend used to be dropped at once
 * ("already delivered locally").  But the server sends it at COMMIT, and the
 * store hears of its COMMIT only from the results that follow: when the
 * network loses those (the connection dies after the commit record), the
 * notification has arrived and been dropped, the store retries the batch,
 * finds its ids stored and raises nothing, and the alert reached no
 * subscriber of this daemon (the webhooks and timers were read again,
 * docs/reliability.md section 6).  So such a notification is held here with
 * the backend it came from, unless its pair was pushed already:
 *
 *   - the store's batch ends (cluster_own_settled, called once its alerts
 *     were pushed): every held notification of its backend is of a batch the
 *     store has answered (a later batch commits only after this one ended),
 *     so its alerts were pushed by the store; the hold is cleared (not when
 *     they came from an earlier backend: the batch that ends may be the
 *     retry, on the new connection, of the one whose answer was lost);
 *   - the store's backend is no longer the one they came from (the cluster
 *     tick, at most a second after a loss): the held pairs not pushed since
 *     are fetched and pushed as another daemon's are.
 *
 * A notification of the old backend that arrives after the loss was noticed
 * takes cluster.c's ordinary road, and the set keeps it from being pushed a
 * second time when the store had pushed it before the loss.
 *
 * A pair counts as pushed when it is pushed, not when its notification is
 * heard: the fetch of a notified alert may be lost with the session, and
 * the catch-up at its return skipped what the notification had marked, so
 * that alert never reached this daemon's subscribers.  Two notifications of
 * one pair may fetch it twice; the second fetch finds it pushed.
 *
 * The catch-up.  Notifications sent while the cluster session is away (a
 * lost connection, or the daemon left the cluster because its store lost
 * the database) are never delivered: PostgreSQL queues them only for the
 * sessions listening at COMMIT.  So the open alerts another daemon raised or
 * escalated meanwhile reached no subscriber of this one, against CONTRACT 9
 * ("a subscriber of any daemon receives every alert").  Each time the
 * session starts, after its LISTENs, it reads the open alerts raised after
 * the newest id this daemon knew, or raised or escalated since it went away
 * (plus a margin for the daemons' clocks), and pushes those not pushed yet;
 * the first start only learns the newest id.
 *
 * Acknowledgements and escalations are caught up by what this daemon showed,
 * not by time: the query gets the alerts its subscribers were shown and not
 * shown acknowledged (the pairs pushed, and those replayed to a subscriber
 * and not pushed since, subscribers.c), each with the highest level shown,
 * and pushes those acknowledged since, or escalated beyond that level.
 * Before, the acknowledgements were those whose acked_at fell within the
 * time away plus the margin; acked_at is the acknowledging daemon's clock,
 * so a peer whose clock ran ahead made old acknowledgements look recent (they
 * were pushed again, to subscribers that never saw those alerts, and after a
 * restart of this daemon to every subscriber), and one whose clock ran behind
 * had its acknowledgements missed.  An alert shown before the newest
 * SEEN_CAP pairs and not replayed since is out of the list: its
 * acknowledgement meanwhile reaches a wall screen when it reloads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "daemon.h"

#define SEEN_CAP 8192
#define SEEN_SLOTS (2 * SEEN_CAP) /* a power of two, half full at most */
#define HELD_CAP 4096
/* what a catch-up takes beyond the time the session was away: the
 * daemons' clocks (raised_at, escalated_at) against the server's now() */
#define CATCH_UP_MARGIN_MS 10000

struct pair {
	int64_t id;
	int level;
};

static struct pair ring[SEEN_CAP];
static int ring_n, ring_next;
static int32_t table[SEEN_SLOTS]; /* 1 + ring index; 0 = empty */

static struct {
	struct pair p;
	bool ack;
} held[HELD_CAP];
static int n_held, held_first, held_pid; /* a ring: the newest HELD_CAP */

static int64_t top_id;   /* the newest alert id known: pushed, or the newest at the last catch-up */
static bool primed;      /* a catch-up has given top_id */
static hl_ms away_since; /* monotonic ms the session went away; 0 while up */

static unsigned home(struct pair k)
{
	uint64_t h = (uint64_t)k.id * 0x9E3779B97F4A7C15ull ^ (uint64_t)(unsigned)k.level * 0xC2B2AE3D27D4EB4Full;
	return (unsigned)(h >> 40) & (SEEN_SLOTS - 1);
}

/* The table slot of k, or -1. */
static int find(struct pair k)
{
	for (unsigned s = home(k);; s = (s + 1) & (SEEN_SLOTS - 1)) {
		if (!table[s])
			return -1;
		struct pair *r = &ring[table[s] - 1];
		if (r->id == k.id && r->level == k.level)
			return (int)s;
	}
}

/* Remove the entry in slot s; the entries after it move back where their
 * probe may now stop short (linear probing's deletion). */
static void unslot(unsigned s)
{
	unsigned i = s, j = s;
	for (;;) {
		j = (j + 1) & (SEEN_SLOTS - 1);
		if (!table[j])
			break;
		unsigned k = home(ring[table[j] - 1]);
		/* can entry j fill the hole at i?  yes unless its home lies cyclically in (i, j] */
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stays) {
			table[i] = table[j];
			i = j;
		}
	}
	table[i] = 0;
}

static bool contains(struct pair k)
{
	return find(k) >= 0;
}

bool cluster_pushed(int64_t id, int level)
{
	return contains((struct pair){ id, level });
}

bool cluster_seen(int64_t id, int level)
{
	struct pair k = { id, level };
	if (contains(k))
		return true;
	if (id > top_id)
		top_id = id;
	if (ring_n == SEEN_CAP) {
		int s = find(ring[ring_next]);
		if (s >= 0)
			unslot((unsigned)s);
	} else {
		ring_n++;
	}
	ring[ring_next] = k;
	unsigned s = home(k);
	while (table[s])
		s = (s + 1) & (SEEN_SLOTS - 1);
	table[s] = ring_next + 1;
	ring_next = (ring_next + 1) % SEEN_CAP;
	return false;
}

void cluster_own_notified(bool ack, int64_t id, int level, int be_pid)
{
	struct pair k = { id, level };
	if (contains(k))
		return; /* the store pushed it already */
	/* held ones of an earlier backend were released by cluster_own_check,
	 * which cluster.c calls before it hands us a notification */
	int at = (held_first + n_held) % HELD_CAP;
	if (n_held == HELD_CAP)
		held_first = (held_first + 1) % HELD_CAP; /* a batch of more alerts than that: keep the newest */
	else
		n_held++;
	held[at].p = k;
	held[at].ack = ack;
	held_pid = be_pid;
}

void cluster_own_settled(void)
{
	/* only the current backend's: a batch the store ran again on its new
	 * connection ends before the tick has released the old one's */
	if (held_pid == store_backend_pid())
		n_held = held_first = 0;
}

void cluster_own_check(int store_pid, void (*fetch)(bool ack, int64_t id, int level))
{
	if (n_held == 0 || store_pid == held_pid)
		return;
	int n = n_held, first = held_first, k = 0;
	n_held = held_first = 0;
	for (int i = 0; i < n; i++) {
		const struct pair *p = &held[(first + i) % HELD_CAP].p;
		if (!cluster_pushed(p->id, p->level)) { /* counted when the fetch pushes it */
			k++;
			fetch(held[(first + i) % HELD_CAP].ack, p->id, p->level);
		}
	}
	if (k)
		log_notice("cluster: the store lost the answer to a commit: %d of its alert(s) or acknowledgement(s), "
		           "heard as notifications, are pushed from the database", k);
}

/* ------------------------------------------------------- the catch-up */

void cluster_own_session_away(void)
{
	if (!away_since)
		away_since = mono_ms();
}


struct shown {
	struct pair *p;
	size_t n, cap;
};

static void add_shown(void *arg, int64_t id, int level)
{
	struct shown *sh = arg;
	if (sh->n == sh->cap) {
		sh->cap = sh->cap ? 2 * sh->cap : 1024;
		sh->p = realloc(sh->p, sh->cap * sizeof *sh->p);
		if (!sh->p)
			abort();
	}
	sh->p[sh->n++] = (struct pair){ id, level };
}

static int by_id_level(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (x->level > y->level) - (x->level < y->level);
}

/* "id:level id:level ..." of the alerts shown and not shown acknowledged,
 * each with the highest level shown (see the top). */
static char *shown_list(void)
{
	struct shown sh = { 0 };
	for (int i = 0; i < ring_n; i++)
		add_shown(&sh, ring[i].id, ring[i].level);
	subscribers_replayed_each(add_shown, &sh);
	if (sh.n)
		qsort(sh.p, sh.n, sizeof *sh.p, by_id_level);
	size_t cap = sh.n * 24 + 1, at = 0;
	char *out = malloc(cap);
	if (!out)
		abort();
	out[0] = '\0';
	for (size_t i = 0; i < sh.n;) {
		size_t j = i;
		while (j + 1 < sh.n && sh.p[j + 1].id == sh.p[i].id)
			j++;
		/* sorted by level: a level 0 first means it was shown acknowledged */
		if (sh.p[i].level > 0)
			at += (size_t)snprintf(out + at, cap - at, "%s%" PRId64 ":%d", at ? " " : "", sh.p[j].id,
			                       sh.p[j].level);
		i = j + 1;
	}
	free(sh.p);
	return out;
}

void cluster_own_catch_up_params(char *since, char *window, size_t len, char **shown)
{
	*shown = shown_list();
	if (!primed) {
		/* the first start: the newest id only (a subscriber got the open
		 * alerts in its replay) */
		snprintf(since, len, "%" PRId64, INT64_MAX);
		snprintf(window, len, "%d", -86400000);
		return;
	}
	hl_ms away = away_since ? mono_ms() - away_since : 0;
	snprintf(since, len, "%" PRId64, top_id);
	snprintf(window, len, "%lld", (long long)(away + CATCH_UP_MARGIN_MS));
}

void cluster_own_caught_up(PGresult *r)
{
	int n = PQntuples(r), pushed = 0, acks = 0;
	int64_t newest = top_id;
	for (int i = 0; i < n; i++) {
		int64_t id = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		if (PQgetisnull(r, i, 0)) {
			if (id > newest)
				newest = id;
			continue;
		}
		int level = atoi(PQgetvalue(r, i, 2));
		if (cluster_seen(id, level))
			continue;
		if (level == 0) {
			subscribers_deliver(SUB_ACK, id, PQgetvalue(r, i, 0), PQgetvalue(r, i, 3));
			acks++;
		} else {
			alerts_deliver_remote(id, PQgetvalue(r, i, 0), PQgetvalue(r, i, 3));
			pushed++;
		}
	}
	top_id = newest > top_id ? newest : top_id;
	if (pushed || acks)
		log_notice("cluster: %d open alert(s) raised or escalated and %d acknowledgement(s) made while the session "
		           "was away: pushed on its return", pushed, acks);
	primed = true;
	away_since = 0;
}
