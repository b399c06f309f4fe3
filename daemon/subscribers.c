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
 * This file knows no kind of reader: a subscriber is a function and its
 * owner.  The socket side (push lines, the subscribe reply and its replay)
 * is in conn.c, the HTTP side in sse.c; both call down into this list.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon.h"
#include "protocol.h"

struct subscriber {
	LIST_ENTRY(subscriber) entry;
	subscriber_fn fn;
	void *owner;
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
	free(s);
}

void subscribers_deliver(enum sub_event what, int64_t id, const char *alert_json, const char *masked_json)
{
	struct subscriber *s;
	for (s = LIST_FIRST(&subs); s; s = next_in_delivery) {
		next_in_delivery = LIST_NEXT(s, entry);
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
