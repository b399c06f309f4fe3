/*
 * test_delivery_stop.c - a graceful stop (a rolling restart, an upgrade)
 * does not make the next start send a webhook again (docs/webhooks.md).
 *
 * Delivery is at least once: a POST whose 2xx the daemon never recorded is
 * sent again after a restart.  But a SIGTERM is normal operation, and the
 * graceful stop waited only for the store's queue: a POST in flight (a
 * receiver taking a second to answer) was abandoned, and a delivered one
 * whose row was not yet deleted left the row, so the restart POSTed the same
 * delivery again.  The stop now waits, within its grace period, for the
 * POSTs in flight and for the deletion of the rows of those done.
 */
#include "delivery_helpers.h"

TestSuite(delivery_stop, .init = hl_e2e_init, .fini = delivery_fini, .timeout = 60);

HL_TEST(delivery_stop, a_graceful_stop_finishes_the_post_in_flight_and_the_restart_does_not_send_it_again)
{
	struct hook *h = hook_start((const int[]){ 0, -1 }); /* every POST held until released */
	char top[256];
	snprintf(top, sizeof top, "webhooks = { urls = [ \"http://127.0.0.1:%d/hook\" ]; timeout = \"10s\"; };", h->port);
	struct hl_e2e_opts o = {
		.sla = "callback = \"1s\"; update = \"0\"; resolution = \"0\"; warn_at = 0;",
		.escalation = "after = \"1h\"; max_level = 3;", .top = top,
	};
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"st-1\",\"caller\":\"+8613700000061\"");
	hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"st-1\"");
	cr_assert(hook_wait(h, 1, 10000), "the alert's POST never came");
	hl_conn_close(c);

	/* SIGTERM while the receiver holds the POST; it answers 200 a moment later */
	cr_assert_eq(kill(d->pid, SIGTERM), 0);
	hl_sleep_ms(700);
	hook_release(h, 200);
	int64_t end = hl_now_ms() + 15000;
	while (hl_d_alive(d) && hl_now_ms() < end)
		hl_sleep_ms(50);
	cr_assert(!hl_d_alive(d), "the daemon did not stop");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.webhook_deliveries"), 0,
	             "the delivered POST's row was left behind by the stop");

	hl_d_start(d);
	hl_sleep_ms(2000);
	cr_expect_eq(hook_count(h), 1, "the restart sent the delivered alert again (%d POSTs)", hook_count(h));
}
