/*
 * alerts.c - deliver committed alerts to the live subscribers.
 *
 * Alerts are decided by the rules and made durable by the store (the row in
 * hotline.alerts and NOTIFY hotline_alert are part of the batch's
 * transaction).  Only after COMMIT does the store call alerts_deliver(), so
 * a subscriber never sees an alert that could still roll back.
 *
 * Subscribers (socket `subscribe` and SSE clients) are kept in one list in
 * subscribers.c; a subscriber that does not read is dropped once its output
 * exceeds listen.max_output, so it never stalls the others.  Alerts another
 * daemon committed reach them through cluster.c and alerts_deliver_remote().
 *
 * Webhooks (webhooks.c) get the same alerts from the store, with their own
 * durable delivery rows.
 *
 * Each (alert id, level) - an acknowledgement is level 0 - is pushed here
 * once, whether the store or a notification brought it: the set of what was
 * pushed, and the notifications of the store's own commits held until the
 * store has answered them, are in cluster_own.c.
 *
 * The log gets one line per batch ("alerts: 512 raised (callback_overdue
 * 512)"), not one per alert: 10,000 clocks falling due in a second wrote
 * 10,000 lines, a syscall each on the path to the next batch, and more than
 * journald's default rate limit lets through (10,000 per 30 s), so the
 * lines that matter in such a minute would have been dropped with them.
 * Which alert is which is in hotline.alerts and on the subscribers' feeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "protocol.h"

/* The kinds of the batch's alerts and how many of each, for its log line;
 * kinds beyond the table (there are a dozen families) are counted as other. */
#define NOTED_KINDS 16
static struct noted {
	char kind[48];
	unsigned raised, escalated;
} noted[NOTED_KINDS];
static size_t n_noted;
static unsigned other_raised, other_escalated;

static void note(const char *kind, bool escalated)
{
	size_t i;
	for (i = 0; i < n_noted && strcmp(noted[i].kind, kind) != 0; i++)
		;
	if (i == n_noted) {
		if (n_noted == NOTED_KINDS || strlen(kind) >= sizeof noted[0].kind) {
			*(escalated ? &other_escalated : &other_raised) += 1;
			return;
		}
		snprintf(noted[n_noted].kind, sizeof noted[0].kind, "%s", kind);
		noted[n_noted].raised = noted[n_noted].escalated = 0;
		n_noted++;
	}
	*(escalated ? &noted[i].escalated : &noted[i].raised) += 1;
}

/* "512 raised (callback_overdue 500, repeat_caller 12)" into b. */
static void say_counts(char *b, size_t len, bool escalated)
{
	unsigned total = escalated ? other_escalated : other_raised;
	for (size_t i = 0; i < n_noted; i++)
		total += escalated ? noted[i].escalated : noted[i].raised;
	size_t at = (size_t)snprintf(b, len, "%u %s (", total, escalated ? "escalated" : "raised");
	const char *sep = "";
	for (size_t i = 0; i < n_noted && at < len; i++) {
		unsigned n = escalated ? noted[i].escalated : noted[i].raised;
		if (n) {
			at += (size_t)snprintf(b + at, len - at, "%s%s %u", sep, noted[i].kind, n);
			sep = ", ";
		}
	}
	if (at < len && (escalated ? other_escalated : other_raised))
		at += (size_t)snprintf(b + at, len - at, "%sother %u", sep, escalated ? other_escalated : other_raised);
	if (at < len)
		snprintf(b + at, len - at, ")");
}

/* The level in an alert's JSON text: the first "level": is the key (a
 * string cannot hold an unescaped quote). */
int alerts_level_of(const char *alert_json)
{
	const char *l = strstr(alert_json, "\"level\":");
	return l ? atoi(l + 8) : 1;
}

void alerts_batch_done(void)
{
	/* every alert of the batch is pushed: what the cluster session heard
	 * of its commit needs no holding any more (cluster_own.c) */
	cluster_own_settled();

	bool raised = other_raised > 0, escalated = other_escalated > 0;
	for (size_t i = 0; i < n_noted; i++) {
		raised |= noted[i].raised > 0;
		escalated |= noted[i].escalated > 0;
	}
	if (raised || escalated) {
		char r[512] = "", e[512] = "";
		if (raised)
			say_counts(r, sizeof r, false);
		if (escalated)
			say_counts(e, sizeof e, true);
		log_notice("alerts: %s%s%s", r, raised && escalated ? "; " : "", e);
	}
	n_noted = 0;
	other_raised = other_escalated = 0;
}

void alerts_deliver(int64_t id, const char *alert_json, const char *masked_json, const char *kind, bool escalated)
{
	int family = hl_alert_family_of(kind);
	if (!escalated && family >= 0)
		hl->stats.alerts_raised[family]++;
	note(kind, escalated);
	/* once per (id, level) on this daemon, whichever road it came by */
	if (!cluster_seen(id, alerts_level_of(alert_json)))
		subscribers_deliver(SUB_ALERT, id, alert_json, masked_json);
}

void alerts_deliver_ack(int64_t id, const char *alert_json, const char *masked_json)
{
	if (!cluster_seen(id, 0))
		subscribers_deliver(SUB_ACK, id, alert_json, masked_json);
}

void alerts_deliver_remote(int64_t id, const char *alert_json, const char *masked_json)
{
	subscribers_deliver(SUB_ALERT, id, alert_json, masked_json);
}

void alerts_free(void)
{
	subscribers_free();
}
