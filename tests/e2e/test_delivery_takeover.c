/*
 * test_delivery_takeover.c - the webhook deliveries of a daemon killed with
 * kill -9 are sent by a survivor (CONTRACT 9, docs/webhooks.md).
 *
 * A delivery is POSTed by the daemon that committed its alert; the rows left
 * were read only when a daemon started.  A daemon killed while a receiver
 * held its POST (or between COMMIT and POST) left its deliveries to nobody:
 * the survivors ran its clocks within cluster.takeover, but the alert never
 * reached the receiver until some daemon restarted.
 */
#include "delivery_helpers.h"

TestSuite(delivery_takeover, .init = hl_e2e_init, .fini = delivery_fini, .timeout = 90);

/* Requests for this delivery id. */
static int requests_for(struct hook *h, const char *id)
{
	int n = 0;
	for (int i = 0; i < hook_count(h); i++) {
		char got[96];
		header_value(hook_get(h, i).head, "X-Hotline-Delivery", got, sizeof got);
		n += strcmp(got, id) == 0;
	}
	return n;
}

HL_TEST(delivery_takeover, deliveries_of_a_killed_daemon_are_sent_by_a_survivor)
{
	/* the first POST is held (never answered), every later one answered 200 */
	struct hook *h = hook_start((const int[]){ 0, 200, -1 });
	char top[256];
	snprintf(top, sizeof top,
	         "cluster = { takeover = \"2s\"; }; webhooks = { urls = [ \"http://127.0.0.1:%d/hook\" ]; timeout = \"60s\"; };",
	         h->port);
	struct hl_e2e_opts o = {
		.sla = "callback = \"2s\"; update = \"0\"; resolution = \"0\"; warn_at = 0;",
		.escalation = "after = \"1h\"; max_level = 3;", .top = top,
	};
	struct hl_d *a = hl_d_up(&o), *b = hl_d_up_peer(a, &o);
	struct hl_conn *c = hl_conn_unix(a);

	int64_t k = hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"tk-1\",\"caller\":\"+8613700000051\"");
	hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"tk-1\"");
	cr_assert(hook_wait(h, 1, 10000), "the alert's first POST never came");
	char id[96];
	header_value(hook_get(h, 0).head, "X-Hotline-Delivery", id, sizeof id);
	cr_assert(id[0], "no delivery id");

	/* the daemon whose POST is held dies */
	bool by_a = strstr(hl_d_log(a), "alerts: 1 raised") != NULL;
	struct hl_d *raiser = by_a ? a : b, *survivor = by_a ? b : a;
	cr_assert(strstr(hl_d_log(raiser), "alerts: 1 raised"), "neither daemon raised the alert");
	hl_d_kill9(raiser);

	int64_t end = hl_now_ms() + 15000;
	while (requests_for(h, id) < 2 && hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert_eq(requests_for(h, id), 2, "the killed daemon's delivery %s was never sent again (%d request(s))", id,
	             requests_for(h, id));
	/* delivered: its row goes, and it is not sent a third time */
	end = hl_now_ms() + 8000;
	int64_t left = 1;
	while ((left = hl_sql_int(survivor, "SELECT count(*) FROM hotline.webhook_deliveries")) > 0 && hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert_eq(left, 0, "the delivered row was not deleted");
	hl_sleep_ms(1500);
	cr_expect_eq(requests_for(h, id), 2, "sent %d times", requests_for(h, id));
	cr_assert_eq(hl_sql_int(survivor, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld", (long long)k), 1);
	cr_assert(strstr(hl_d_log(survivor), "taken over"), "the takeover is logged");
}

/* A daemon that starts sends the deliveries left by daemons that are gone,
 * not those a live peer is sending: it sent every one of them again. */
HL_TEST(delivery_takeover, a_starting_daemon_leaves_a_live_peers_deliveries_to_it)
{
	struct hook *h = hook_start((const int[]){ 0, 200, -1 });
	char top[256];
	snprintf(top, sizeof top,
	         "cluster = { takeover = \"2s\"; }; webhooks = { urls = [ \"http://127.0.0.1:%d/hook\" ]; timeout = \"60s\"; };",
	         h->port);
	struct hl_e2e_opts o = {
		.sla = "callback = \"2s\"; update = \"0\"; resolution = \"0\"; warn_at = 0;",
		.escalation = "after = \"1h\"; max_level = 3;", .top = top,
	};
	struct hl_d *a = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(a);
	hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"tk-2\",\"caller\":\"+8613700000052\"");
	hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"tk-2\"");
	cr_assert(hook_wait(h, 1, 10000), "the alert's first POST never came");
	char id[96];
	header_value(hook_get(h, 0).head, "X-Hotline-Delivery", id, sizeof id);

	/* a holds its POST in flight; b starts */
	struct hl_d *b = hl_d_up_peer(a, &o);
	hl_sleep_ms(3000);
	cr_assert_eq(requests_for(h, id), 1, "the starting daemon sent a live peer's delivery %s again", id);
	cr_assert_eq(hl_sql_int(b, "SELECT count(*) FROM hotline.webhook_deliveries"), 1);
}
