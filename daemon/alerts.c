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
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "protocol.h"

void alerts_deliver(int64_t id, const char *alert_json, const char *masked_json, const char *kind, bool escalated)
{
	int family = hl_alert_family_of(kind);
	if (!escalated && family >= 0)
		hl->stats.alerts_raised[family]++;
	log_notice("alert: %s%s", escalated ? "escalated " : "", kind);
	subscribers_deliver(SUB_ALERT, id, alert_json, masked_json);
}

void alerts_deliver_remote(int64_t id, const char *alert_json, const char *masked_json)
{
	subscribers_deliver(SUB_ALERT, id, alert_json, masked_json);
}

void alerts_free(void)
{
	subscribers_free();
}
