/*
 * alerts.c - deliver committed alerts to socket subscribers.
 *
 * Alerts are decided by the rules and made durable by the store (the row in
 * hotline.alerts and NOTIFY hotline_alert are part of the batch's
 * transaction).  Only after COMMIT does the store call alerts_deliver(), so
 * a subscriber never sees an alert that could still roll back.
 *
 * Subscribers are connections that sent `subscribe`; a push is queued on
 * each (conn_push), and a subscriber that does not read is dropped by conn.c
 * once its output exceeds listen.max_output, so it never stalls the others.
 *
 * Webhooks (daemon/webhooks.c) get the same alerts from the store.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "protocol.h"

struct sub {
	LIST_ENTRY(sub) entry;
	struct conn *conn;
};

static LIST_HEAD(, sub) subs = LIST_HEAD_INITIALIZER(subs);
static size_t n_subs;

size_t alerts_subscribers(void) { return n_subs; }

void alerts_subscribe(struct conn *c)
{
	struct sub *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->conn = c;
	LIST_INSERT_HEAD(&subs, s, entry);
	n_subs++;
}

void alerts_unsubscribe(struct conn *c)
{
	struct sub *s;
	LIST_FOREACH(s, &subs, entry) {
		if (s->conn == c) {
			LIST_REMOVE(s, entry);
			free(s);
			n_subs--;
			return;
		}
	}
}

void alerts_deliver(const char *alert_json, const char *kind, bool escalated)
{
	struct sub *s, *tmp;
	char *line = hl_push_alert(alert_json);
	size_t len = strlen(line);

	if (!escalated) {
		static const char *const kinds[] = { "callback", "update", "resolution", "survey",
		                                     "repeat_caller", "dissatisfied", "transfer_loop" };
		for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
			if (strncmp(kind, kinds[i], strlen(kinds[i])) == 0) {
				hl->stats.alerts_raised[i]++;
				break;
			}
	}
	log_notice("alert: %s%s", escalated ? "escalated " : "", kind);
	/* conn_push may drop a slow subscriber, which unlinks it: iterate safely */
	for (s = LIST_FIRST(&subs); s; s = tmp) {
		tmp = LIST_NEXT(s, entry);
		conn_push(s->conn, line, len);
		hl->stats.alerts_pushed++;
	}
	free(line);
}

void alerts_free(void)
{
	struct sub *s;
	while ((s = LIST_FIRST(&subs))) {
		LIST_REMOVE(s, entry);
		free(s);
	}
	n_subs = 0;
}
