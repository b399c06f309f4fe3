/*
 * test_delivery_isolation.c - a webhook receiver that hangs costs its own
 * deliveries only: the other receivers get every alert, and the daemon opens
 * a bounded number of connections to it (docs/webhooks.md).
 *
 * webhooks.max_pending counted the deliveries of every URL together, and
 * every delivery opened its own connection at once: a receiver that
 * accepts and never answers (a hung proxy, a dead backend behind a load
 * balancer) held a socket per alert for webhooks.timeout, then again per
 * retry.  Its deliveries filled max_pending, and the alerts for a healthy
 * receiver were dropped with its; and at a burst, every alert was a file
 * descriptor, taken from the ones the listeners accept clients with.
 */
#include "delivery_helpers.h"

TestSuite(delivery_isolation, .init = hl_e2e_init, .fini = delivery_fini, .timeout = 60);

#define ALERTS 30

HL_TEST(delivery_isolation, a_hung_receiver_neither_starves_the_others_nor_takes_a_connection_per_alert)
{
	struct hook *hung = hook_start((const int[]){ 0, -1 }), *good = hook_start(NULL);
	char top[512];
	snprintf(top, sizeof top,
	         "alerts = { transfer_limit = 1; };\n"
	         "webhooks = { urls = [ \"http://127.0.0.1:%d/hung\", \"http://127.0.0.1:%d/good\" ];"
	         " timeout = \"20s\"; max_retries = 2; max_pending = 20; };",
	         hung->port, good->port);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	for (int i = 0; i < ALERTS; i++)
		transfer_loop_alert(d, c, 100 + i, NULL);

	cr_assert(hook_wait(good, ALERTS, 10000), "the healthy receiver got %d of %d alerts", hook_count(good), ALERTS);
	hl_sleep_ms(500);
	cr_expect_leq(hook_count(hung), 8, "%d connections held open to the hung receiver at once", hook_count(hung));
	cr_expect_geq(hook_count(hung), 1, "the hung receiver was never tried");
	/* and the daemon still serves its clients */
	json_object *r = hl_requestf(c, "{\"type\":\"ping\",\"id\":\"%s\"}", hl_uid("ping"));
	cr_assert(hl_jbool(r, "ok"));
	hook_release(hung, 200); /* let the stop finish quickly */
}

/* A redirect is a failed attempt: retried, then given up, never followed
 * (the body and a bearer token would go wherever Location points). */
HL_TEST(delivery_isolation, a_redirect_is_a_failed_attempt_not_followed)
{
	struct hook *h = hook_start((const int[]){ 302, -1 });
	char top[512];
	snprintf(top, sizeof top,
	         "alerts = { transfer_limit = 1; };\n"
	         "webhooks = { urls = [ \"http://127.0.0.1:%d/moved\" ]; timeout = \"2s\"; max_retries = 1; };", h->port);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	transfer_loop_alert(d, c, 1, NULL);
	cr_assert(wait_stat(c, "webhooks_failed", 1, 10000), "the redirected delivery was not given up");
	cr_expect_eq(hook_count(h), 2, "%d POSTs for one alert and one retry", hook_count(h));
	cr_expect_eq(stat_int(c, "webhooks_sent"), 0);
	int64_t end = hl_now_ms() + 5000;
	while (hl_sql_int(d, "SELECT count(*) FROM hotline.webhook_deliveries") > 0 && hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.webhook_deliveries"), 0, "the given-up row stays");
}

/* Many receivers take their credential in the URL (a chat webhook's path, an
 * api_key in the query, user:password@): the log names a URL by its scheme,
 * host and the hash the delivery ids carry, never its path, query or user. */
HL_TEST(delivery_isolation, the_log_never_shows_a_webhook_urls_path_query_or_password)
{
	struct hook *h = hook_start((const int[]){ 500, -1 });
	char top[512], url[256];
	snprintf(url, sizeof url, "http://bot:PASSWORD-IN-URL@127.0.0.1:%d/services/T01/SECRET-IN-PATH?api_key=SECRET-IN-QUERY",
	         h->port);
	snprintf(top, sizeof top,
	         "alerts = { transfer_limit = 1; };\n"
	         "webhooks = { urls = [ \"%s\" ]; timeout = \"2s\"; max_retries = 1; };", url);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	transfer_loop_alert(d, c, 1, NULL);
	cr_assert(wait_stat(c, "webhooks_failed", 1, 10000), "the failing delivery was not given up");
	cr_assert(hook_wait(h, 2, 1000));
	const char *log = hl_d_log(d);
	cr_assert(strstr(log, "giving up"), "no give-up line in the log");
	cr_expect(!strstr(log, "SECRET-IN-PATH"), "the log shows the URL's path");
	cr_expect(!strstr(log, "SECRET-IN-QUERY"), "the log shows the URL's query");
	cr_expect(!strstr(log, "PASSWORD-IN-URL"), "the log shows the URL's password");
	cr_expect(strstr(log, "http://127.0.0.1:"), "the log does not name the receiver's host");
}
