/*
 * alerts_helpers.h - what test_alerts.c and test_alerts_replay.c (suite
 * `alerts`, live alerts: docs/protocol.md sections 2 and 5) share: an event
 * that must be accepted (hl_ev, in the harness), the two ways the tests raise an alert (a
 * callback clock armed by abandoned_case, an alert at once from
 * transfer_loop_alert), alert.ack (ack), and a count polled in the database
 * until it is reached (wait_count).  Static inline: each file that includes
 * this one uses only some.
 */
#ifndef HL_E2E_ALERTS_HELPERS_H
#define HL_E2E_ALERTS_HELPERS_H

#include "harness.h"

#include <stdarg.h>
#include <stdio.h>

/* A new case whose callback clock is armed at `at` (wall ms). */
static inline int64_t abandoned_case(struct hl_conn *c, const char *tag, int n, int64_t at)
{
	return hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"%s-%d\",\"caller\":\"+86137%08d\",\"at\":\"%s\"", tag, n,
	          n, hl_iso_ms(at));
}

/* A new case with a transfer_loop alert at once (needs alerts.transfer_limit = 1); its alert id. */
static inline int64_t transfer_loop_alert(struct hl_d *d, struct hl_conn *c, const char *tag, int n, int64_t *case_out)
{
	int64_t id = hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"%s-%d\",\"caller\":\"+86136%08d\"", tag, n, n);
	hl_ev(c, "\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"roads\"", (long long)id);
	hl_ev(c, "\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"water\"", (long long)id);
	if (case_out)
		*case_out = id;
	return hl_sql_int(d, "SELECT id FROM hotline.alerts WHERE kind = 'transfer_loop' AND case_id = %lld",
	                  (long long)id);
}

static inline json_object *ack(struct hl_conn *c, int64_t alert_id, const char *by)
{
	return hl_requestf(c, "{\"type\":\"alert.ack\",\"id\":\"%s\",\"alert_id\":%lld,\"by\":\"%s\"}", hl_uid("ack"),
	                   (long long)alert_id, by);
}

/* Poll the database until `sql` (a count) reaches want or timeout_ms pass; the last value. */
static inline int64_t wait_count(struct hl_d *d, int64_t want, int timeout_ms, const char *sql)
{
	int64_t end = hl_now_ms() + timeout_ms;
	int64_t n;
	while ((n = hl_sql_int(d, "%s", sql)) < want && hl_now_ms() < end)
		hl_sleep_ms(50);
	return n;
}

#endif
