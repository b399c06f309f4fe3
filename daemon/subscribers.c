/*
 * subscribers.c - the one list of alert subscribers (socket `subscribe` and SSE).
 *
 * A subscriber is a callback and its owner: a socket connection that sent
 * `subscribe` (conn.c) or an HTTP client of /v1/alerts/stream (sse.c).  Both
 * live in this one list, so a committed alert reaches every kind of reader
 * from one place (alerts_deliver -> subscribers_deliver), in commit order.
 *
 * The replay.  A new subscriber first gets the open alerts it missed (id >
 * `since`).  An unbounded replay made a connection with many open alerts
 * (120,000 at the default max_output) overrun its own output limit: it was
 * dropped while its reply was written, and then registered - a
 * use-after-free.  The replay is therefore bounded twice: the store reads
 * only the newest alerts.replay_max open alerts (and counts the rest), and a
 * socket subscriber gets at most what fits in half of listen.max_output (its
 * reading pauses above that).  What is left out is announced, so a client
 * knows to look in psql (hotline.open_alerts) for the older ones.  A
 * reconnecting client resumes with `since` = the last id it saw.
 *
 * The replayed alerts are not pushed again.  A replay reads the open alerts
 * from the database; a push of one of them may still be on its way: the
 * catch-up of the cluster session returning from an outage pushes the open
 * alerts other daemons raised while it was away (cluster_own.c), and a
 * notification fetched for another daemon's alert or for the store's lost
 * answer may come after the replay's read.  Such a push is the first for the
 * subscribers that were there before, but the second for one that joined
 * meanwhile: a wall screen opened during an outage showed the alert twice
 * (and a client counting its alerts counted it twice).  So a subscriber keeps
 * the (id, level) pairs of its replay that were not yet pushed on this daemon
 * (sorted by id): a push of one of them, or of a lower level of its alert,
 * is skipped for it, and an entry goes once its alert is pushed at that
 * level, escalated beyond it or acknowledged.  The pairs already pushed need
 * no entry: each pair is pushed once per daemon (cluster_seen).
 *
 * This file knows no kind of reader: a subscriber is a function and its
 * owner.  The socket side (push lines, the subscribe reply and its replay)
 * is in conn.c, the HTTP side in sse.c; both call down into this list.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon.h"
#include "protocol.h"

struct replayed {
	int64_t id;
	int level;
};

struct subscriber {
	LIST_ENTRY(subscriber) entry;
	subscriber_fn fn;
	void *owner;
	struct replayed *replayed; /* sorted by id; see the top */
	size_t n_replayed;
};

static LIST_HEAD(, subscriber) subs = LIST_HEAD_INITIALIZER(subs);
static size_t n_subs;
/* the subscriber being called: removing it during its own push is safe */
static struct subscriber *next_in_delivery;

size_t subscribers_count(void) { return n_subs; }

struct subscriber *subscribers_add(subscriber_fn fn, void *owner)
{
	struct subscriber *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->fn = fn;
	s->owner = owner;
	LIST_INSERT_HEAD(&subs, s, entry);
	n_subs++;
	return s;
}

void subscribers_remove(struct subscriber *s)
{
	if (!s)
		return;
	if (next_in_delivery == s)
		next_in_delivery = LIST_NEXT(s, entry);
	LIST_REMOVE(s, entry);
	n_subs--;
	free(s->replayed);
	free(s);
}

static int by_id(const void *a, const void *b)
{
	const struct replayed *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

void subscribers_replayed(struct subscriber *s, const struct replay *rp, size_t first)
{
	if (!s || first >= rp->n)
		return;
	struct replayed *r = calloc(rp->n - first, sizeof *r);
	if (!r)
		abort();
	size_t n = 0;
	for (size_t i = first; i < rp->n; i++) {
		int level = alerts_level_of(rp->json[i]);
		if (!cluster_pushed(rp->ids[i], level))
			r[n++] = (struct replayed){ rp->ids[i], level };
	}
	if (n == 0) {
		free(r);
		return;
	}
	qsort(r, n, sizeof *r, by_id);
	free(s->replayed);
	s->replayed = r;
	s->n_replayed = n;
}

/* Whether this push repeats the subscriber's replay; forget what no push can repeat any more. */
static bool repeats_replay(struct subscriber *s, enum sub_event what, int64_t id, int level)
{
	struct replayed key = { id, 0 };
	struct replayed *e = bsearch(&key, s->replayed, s->n_replayed, sizeof key, by_id);
	if (!e)
		return false;
	bool repeat = what == SUB_ALERT && level <= e->level;
	if (what == SUB_ACK || level >= e->level) {
		memmove(e, e + 1, (size_t)(s->replayed + s->n_replayed - (e + 1)) * sizeof *e);
		if (--s->n_replayed == 0) {
			free(s->replayed);
			s->replayed = NULL;
		}
	}
	return repeat;
}

void subscribers_replayed_each(void (*fn)(void *arg, int64_t id, int level), void *arg)
{
	struct subscriber *s;
	LIST_FOREACH(s, &subs, entry)
		for (size_t i = 0; i < s->n_replayed; i++)
			fn(arg, s->replayed[i].id, s->replayed[i].level);
}

void subscribers_deliver(enum sub_event what, int64_t id, const char *alert_json, const char *masked_json)
{
	struct subscriber *s;
	int level = -1; /* read from the JSON once, if a subscriber has a replay to compare */
	for (s = LIST_FIRST(&subs); s; s = next_in_delivery) {
		next_in_delivery = LIST_NEXT(s, entry);
		if (s->n_replayed) {
			if (level < 0)
				level = what == SUB_ALERT ? alerts_level_of(alert_json) : 0;
			if (repeats_replay(s, what, id, level))
				continue;
		}
		s->fn(s->owner, what, id, alert_json, masked_json);
		if (what == SUB_ALERT)
			hl->stats.alerts_pushed++;
	}
	next_in_delivery = NULL;
}

void subscribers_free(void)
{
	struct subscriber *s;
	while ((s = LIST_FIRST(&subs))) {
		LIST_REMOVE(s, entry);
		free(s->replayed);
		free(s);
	}
	n_subs = 0;
}


char *subscribe_replay_line(size_t sent, int64_t omitted, int64_t first_id)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "push", json_object_new_string("replay"));
	json_object_object_add(o, "sent", json_object_new_int64((int64_t)sent));
	json_object_object_add(o, "omitted", json_object_new_int64(omitted));
	if (first_id)
		json_object_object_add(o, "first_id", json_object_new_int64(first_id));
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(t);
	char *line = malloc(n + 2);
	if (!line)
		abort();
	memcpy(line, t, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	json_object_put(o);
	return line;
}
