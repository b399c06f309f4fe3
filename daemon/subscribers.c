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
 * Registration happens BEFORE the reply is queued: if writing the reply
 * drops the connection, conn_free unregisters it; nothing is touched after
 * conn_complete, which may free the connection.
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

/* ------------------------------------------------- socket subscribers */

static void conn_sub_push(void *owner, enum sub_event what, int64_t id, const char *alert_json,
                          const char *masked_json)
{
	(void)id, (void)masked_json; /* socket clients are trusted (Unix permissions or a token) */
	/* new and escalated alerts, and acknowledgements so other watchers see who took it */
	char *line = what == SUB_ACK ? hl_push_ack(alert_json) : hl_push_alert(alert_json);
	conn_push(owner, line, strlen(line));
	free(line);
}

void alerts_subscribe(struct conn *c)
{
	subscribers_add(conn_sub_push, c);
}

void alerts_unsubscribe(struct conn *c)
{
	struct subscriber *s;
	LIST_FOREACH(s, &subs, entry)
		if (s->fn == conn_sub_push && s->owner == c) {
			subscribers_remove(s);
			return;
		}
}

size_t alerts_subscribers(void) { return n_subs; }

/* Append text to a growing buffer. */
static void buf_add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
		if (!*buf)
			abort();
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
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

/* The store answered a subscribe: reply, replay and register (see the top). */
void subscribe_replayed(struct req *r, const struct replay *rp)
{
	if (r->on_replay) {
		r->on_replay(r, rp);
		return;
	}
	struct conn *c = r->conn;
	/* keep the newest alerts that fit in half of max_output */
	size_t budget = hl->cfg->listen.max_output / 2, used = 0, first = rp->n;
	char **lines = calloc(rp->n ? rp->n : 1, sizeof *lines);
	if (!lines)
		abort();
	while (first > 0) {
		char *line = hl_push_alert(rp->json[first - 1]);
		size_t n = strlen(line);
		if (used + n > budget) {
			free(line);
			break;
		}
		used += n;
		lines[--first] = line;
	}
	int64_t omitted = rp->omitted + (int64_t)first;
	char *all = hl_reply_ok(r->ev.id);
	size_t len = strlen(all), cap = len + 1;
	if (omitted > 0) {
		char *info = subscribe_replay_line(rp->n - first, omitted, first < rp->n ? rp->ids[first] : 0);
		buf_add(&all, &len, &cap, info, strlen(info));
		free(info);
		log_notice("subscribe: %lld older open alerts not replayed (alerts.replay_max %d, max_output %zu)",
		           (long long)omitted, hl->cfg->alerts.replay_max, hl->cfg->listen.max_output);
	}
	for (size_t i = first; i < rp->n; i++) {
		buf_add(&all, &len, &cap, lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	free(lines);
	if (c)
		conn_set_subscriber(c); /* before the reply: a drop while writing it unregisters */
	conn_complete(r, all);       /* may free c */
}
