/*
 * test_delivery.c - end-to-end tests of when and how often webhooks are
 * delivered (suite `delivery`, daemon/webhooks.c; what a delivery carries
 * is in test_delivery_payload.c).
 *
 * An overdue alert and its escalation are POSTed as JSON; a failed POST is
 * retried with a growing backoff until a 2xx, and given up after
 * max_retries; a receiver that never answers times out; none of this, nor a
 * closed port, slows the event socket; SIGHUP replaces the URLs; SIGTERM
 * does not wait for pending deliveries.
 *
 * Design.  The receiver is in delivery_helpers.h.  The daemon is configured
 * with `webhooks = { urls = [...]; timeout; max_retries; }` in the harness's
 * `top` text.  Alerts come either from a real clock (callback "1s", warn_at
 * 0, escalation after "1s": the overdue alert and its escalation) or, where
 * only delivery matters, from transfer_loop with alerts.transfer_limit = 1,
 * which is raised at once by the second transfer.  The rows in
 * hotline.alerts are the ground truth for ids and levels; the `stats`
 * command gives webhooks_sent / webhooks_failed.
 */
#include "delivery_helpers.h"

TestSuite(delivery, .init = hl_e2e_init, .fini = delivery_fini, .timeout = 60);

static void webhooks_top(char *out, size_t len, const char *extra, const char *url, const char *timeout,
                         int max_retries)
{
	int n = snprintf(out, len, "%s\nwebhooks = { urls = [ \"%s\" ]; timeout = \"%s\"; max_retries = %d; };\n",
	                 extra ? extra : "", url, timeout, max_retries);
	cr_assert(n > 0 && (size_t)n < len);
}

/* A ping's round trip in ms (fails the test if it is not ok). */
static int64_t ping_ms(struct hl_conn *c)
{
	int64_t t0 = hl_now_ms();
	json_object *r = hl_requestf(c, "{\"type\":\"ping\",\"id\":\"%s\"}", hl_uid("ping"));
	int64_t dt = hl_now_ms() - t0;
	cr_assert(hl_jbool(r, "ok"), "ping: %s", json_object_to_json_string(r));
	return dt;
}

static int count_substr(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Replace the first `from` in file path by `to`. */
static void replace_in_file(const char *path, const char *from, const char *to)
{
	FILE *f = fopen(path, "r");
	cr_assert(f, "open %s: %s", path, strerror(errno));
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *at = strstr(buf, from);
	cr_assert(at, "%s does not contain %s", path, from);
	f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, "%.*s%s%s", (int)(at - buf), buf, to, at + strlen(from));
	fclose(f);
}

/* ------------------------------------------------------------------ tests */

HL_TEST(delivery, overdue_and_escalation_posted_as_json)
{
	struct hook *h = hook_start(NULL);
	char url[96], top[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", h->port);
	webhooks_top(top, sizeof top, NULL, url, "2s", 3);
	struct hl_e2e_opts o = { .sla = "callback = \"1s\"; warn_at = 0;",
		                 .escalation = "after = \"1s\"; max_level = 2;", .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	int64_t case_id = hl_ev(c, "\"type\":\"call.abandoned\",\"call_id\":\"wh-1\",\"caller\":\"+8613700000001\"");
	cr_assert(hook_wait(h, 1, 5000), "no webhook POST within 5 s of a 1 s callback deadline");
	struct hook_req r = hook_get(h, 0);
	cr_expect_str_eq(r.method, "POST");
	cr_expect_str_eq(r.path, "/hook");
	cr_expect(strncasecmp(r.ctype, "application/json", 16) == 0, "Content-Type: '%s'", r.ctype);
	struct alert_body b = parse_body(r.body);
	cr_assert(b.json, "body is not a JSON object: %.300s", r.body);
	int64_t alert_id = hl_sql_int(d, "SELECT id FROM hotline.alerts WHERE kind = 'callback_overdue' AND case_id = %lld",
	                              (long long)case_id);
	cr_expect_eq(b.id, alert_id, "body id %lld, row %lld: %.300s", (long long)b.id, (long long)alert_id, r.body);
	cr_expect_str_eq(b.kind, "callback_overdue");
	cr_expect_eq(b.case_id, case_id);
	cr_expect_eq(b.level, 1);

	/* not acknowledged: escalated after 1 s and POSTed again with level 2 */
	cr_assert(hook_wait(h, 2, 5000), "no second POST (escalation) within 5 s");
	struct hook_req r2 = hook_get(h, 1);
	struct alert_body b2 = parse_body(r2.body);
	cr_assert(b2.json, "body is not a JSON object: %.300s", r2.body);
	cr_expect_eq(b2.id, alert_id);
	cr_expect_str_eq(b2.kind, "callback_overdue");
	cr_expect_eq(b2.case_id, case_id);
	cr_expect_eq(b2.level, 2);
	cr_expect_eq(hl_sql_int(d, "SELECT level FROM hotline.alerts WHERE id = %lld", (long long)alert_id), 2);
	cr_expect_geq(r2.t_ms - r.t_ms, 700, "escalation POSTed %lld ms after the alert (after = 1 s)",
	              (long long)(r2.t_ms - r.t_ms));

	/* max_level 2: nothing more; one POST per alert and escalation, no due_soon (warn_at 0) */
	hl_sleep_ms(2000);
	cr_expect_eq(hook_count(h), 2, "%d POSTs, expected 2", hook_count(h));
	cr_expect_eq(stat_int(c, "webhooks_sent"), 2);
	cr_expect_eq(stat_int(c, "webhooks_failed"), 0);
	/* the body carries the number; the daemon's log must not */
	cr_expect(!strstr(hl_d_log(d), "13700000001"), "a full phone number in the daemon log");
}

HL_TEST(delivery, retries_with_backoff_until_2xx)
{
	static const int seq[] = { 500, 500, 200, -1 };
	struct hook *h = hook_start(seq);
	char url[96], top[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", h->port);
	webhooks_top(top, sizeof top, "alerts = { transfer_limit = 1; };", url, "2s", 3);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	int64_t case_id;
	int64_t alert_id = transfer_loop_alert(d, c, 1, &case_id);
	cr_assert(hook_wait(h, 3, 10000), "only %d POSTs within 10 s (500, 500, then 200 expected)", hook_count(h));
	struct hook_req r[3] = { hook_get(h, 0), hook_get(h, 1), hook_get(h, 2) };
	for (int i = 0; i < 3; i++) {
		struct alert_body b = parse_body(r[i].body);
		cr_expect(b.json, "attempt %d: body is not JSON: %.300s", i + 1, r[i].body);
		cr_expect_eq(b.id, alert_id, "attempt %d: id %lld", i + 1, (long long)b.id);
		cr_expect_str_eq(b.kind, "transfer_loop");
		cr_expect_eq(b.case_id, case_id);
		cr_expect_str_eq(r[i].body, r[0].body, "attempt %d sent a different body", i + 1);
	}
	int64_t g1 = r[1].t_ms - r[0].t_ms, g2 = r[2].t_ms - r[1].t_ms;
	/* backoff: about 0.5 s, then about 1 s */
	cr_expect(g1 >= 350 && g1 <= 900, "first retry after %lld ms, expected ~500", (long long)g1);
	cr_expect(g2 >= 750 && g2 <= 1600, "second retry after %lld ms, expected ~1000", (long long)g2);
	cr_expect_gt(g2, g1, "backoff does not grow: %lld then %lld ms", (long long)g1, (long long)g2);

	cr_expect(wait_stat(c, "webhooks_sent", 1, 3000), "webhooks_sent never reached 1");
	hl_sleep_ms(1500);
	cr_expect_eq(hook_count(h), 3, "delivered alert POSTed again (%d POSTs)", hook_count(h));
	cr_expect_eq(stat_int(c, "webhooks_sent"), 1);
	cr_expect_eq(stat_int(c, "webhooks_failed"), 0);
}

HL_TEST(delivery, gives_up_after_max_retries)
{
	static const int seq[] = { 503, -1 };
	struct hook *h = hook_start(seq);
	char url[96], top[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", h->port);
	webhooks_top(top, sizeof top, "alerts = { transfer_limit = 1; };", url, "2s", 3);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	int64_t alert_id = transfer_loop_alert(d, c, 1, NULL);
	/* max_retries 3: the first attempt and 3 retries, then nothing */
	cr_assert(hook_wait(h, 4, 15000), "only %d POSTs within 15 s (4 expected)", hook_count(h));
	cr_expect(wait_stat(c, "webhooks_failed", 1, 10000), "webhooks_failed never reached 1");
	for (int i = 0; i < 4; i++)
		cr_expect_eq(parse_body(hook_get(h, i).body).id, alert_id);
	hl_sleep_ms(1500);
	cr_expect_eq(hook_count(h), 4, "%d POSTs: more than max_retries + 1", hook_count(h));
	cr_expect_eq(stat_int(c, "webhooks_failed"), 1);
	cr_expect_eq(stat_int(c, "webhooks_sent"), 0);
	/* the daemon keeps serving, and alerts keep being stored */
	cr_expect_lt(ping_ms(c), 200);
	int64_t case2;
	transfer_loop_alert(d, c, 2, &case2);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE case_id = %lld", (long long)case2), 1);
	char *log = hl_d_log(d);
	cr_expect(strstr(log, "giving up after 4 attempts"), "no 'giving up after 4 attempts' in the log");
}

HL_TEST(delivery, hanging_receiver_times_out)
{
	static const int seq[] = { 0, -1 }; /* read the request, never answer */
	struct hook *h = hook_start(seq);
	char url[96], top[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", h->port);
	webhooks_top(top, sizeof top, "alerts = { transfer_limit = 1; };", url, "1s", 1);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	transfer_loop_alert(d, c, 1, NULL);
	cr_assert(hook_wait(h, 1, 5000), "no POST within 5 s");
	/* while the POST hangs, the socket is served at once */
	int64_t worst = 0;
	for (int i = 0; i < 5; i++) {
		int64_t ms = ping_ms(c);
		worst = ms > worst ? ms : worst;
		hl_sleep_ms(100);
	}
	cr_expect_lt(worst, 200, "a ping took %lld ms while a webhook hung", (long long)worst);
	/* timeout 1 s, max_retries 1: two attempts, then given up */
	cr_assert(hook_wait(h, 2, 8000), "no retry after the timeout (%d POSTs)", hook_count(h));
	cr_expect(wait_stat(c, "webhooks_failed", 1, 8000), "webhooks_failed never reached 1");
	struct hook_req r1 = hook_get(h, 0), r2 = hook_get(h, 1);
	cr_expect_geq(r2.t_ms - r1.t_ms, 900, "retried %lld ms after a request that had a 1 s timeout",
	              (long long)(r2.t_ms - r1.t_ms));
	cr_expect_eq(stat_int(c, "webhooks_sent"), 0);
}

HL_TEST(delivery, closed_port_does_not_block_events)
{
	/* bound but not listening: every connect is refused at once */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0;
	int port = ntohs(a.sin_port);
	if (!ok)
		close(fd);
	cr_assert(ok, "bind: %s", strerror(errno));
	char url[96], top[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", port);
	webhooks_top(top, sizeof top, "alerts = { transfer_limit = 1; };", url, "2s", 3);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	struct hl_conn *sender = hl_conn_tcp(d);

	enum { N_ALERTS = 5 };
	for (int i = 0; i < N_ALERTS; i++)
		transfer_loop_alert(d, sender, i + 1, NULL);
	/* while the deliveries fail and wait to retry, pings and events are answered at once */
	int64_t worst = 0;
	for (int i = 0; i < 15; i++) {
		int64_t ms = ping_ms(c);
		worst = ms > worst ? ms : worst;
		hl_ev(sender, "\"type\":\"call.offered\",\"call_id\":\"cp-%d\",\"caller\":\"+8613500000%03d\"", i, i);
		hl_sleep_ms(100);
	}
	cr_expect_lt(worst, 200, "a ping took %lld ms while webhooks were failing", (long long)worst);
	char *log = hl_d_log(d);
	cr_expect_geq(count_substr(log, "attempt 1 failed"), N_ALERTS, "retries not logged:\n%s", log);
	cr_expect_geq(count_substr(log, "attempt 2 failed"), 1, "no second attempt within ~2 s");
	/* all of them are eventually given up */
	cr_expect(wait_stat(c, "webhooks_failed", N_ALERTS, 15000), "webhooks_failed = %lld, expected %d",
	          (long long)stat_int(c, "webhooks_failed"), N_ALERTS);
	cr_expect_eq(stat_int(c, "webhooks_sent"), 0);
	cr_expect_lt(ping_ms(c), 200);
	close(fd);
}

HL_TEST(delivery, sighup_replaces_urls)
{
	struct hook *old = hook_start(NULL);
	struct hook *new = hook_start(NULL);
	char url_old[96], url_new[96], top[512];
	snprintf(url_old, sizeof url_old, "http://127.0.0.1:%d/old", old->port);
	snprintf(url_new, sizeof url_new, "http://127.0.0.1:%d/new", new->port);
	webhooks_top(top, sizeof top, "alerts = { transfer_limit = 1; };", url_old, "2s", 3);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	int64_t a1 = transfer_loop_alert(d, c, 1, NULL);
	cr_assert(hook_wait(old, 1, 5000), "no POST to the first URL");
	cr_expect_eq(parse_body(hook_get(old, 0).body).id, a1);
	cr_expect_str_eq(hook_get(old, 0).path, "/old");

	replace_in_file(d->conf, url_old, url_new);
	int reloads = count_substr(hl_d_log(d), "configuration reloaded");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	int64_t end = hl_now_ms() + 5000;
	while (count_substr(hl_d_log(d), "configuration reloaded") == reloads && hl_now_ms() < end)
		hl_sleep_ms(50);
	cr_assert_gt(count_substr(hl_d_log(d), "configuration reloaded"), reloads, "no reload within 5 s");

	int64_t a2 = transfer_loop_alert(d, c, 2, NULL);
	cr_assert(hook_wait(new, 1, 5000), "no POST to the new URL after SIGHUP");
	cr_expect_eq(parse_body(hook_get(new, 0).body).id, a2);
	cr_expect_str_eq(hook_get(new, 0).path, "/new");
	hl_sleep_ms(500);
	cr_expect_eq(hook_count(old), 1, "the old URL got %d POSTs after the reload", hook_count(old) - 1);
	cr_expect_eq(hook_count(new), 1);
	cr_expect_eq(stat_int(c, "webhooks_sent"), 2);
}

HL_TEST(delivery, sigterm_with_deliveries_pending)
{
	/* one POST hangs, another failed and waits to retry: a graceful stop waits for neither beyond
	 * the 3 s it gives the POSTs on their way (webhooks_settled) */
	static const int seq[] = { 0, 500, -1 };
	struct hook *h = hook_start(seq);
	char url[96], top[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", h->port);
	webhooks_top(top, sizeof top, "alerts = { transfer_limit = 1; };", url, "30s", 5);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);

	transfer_loop_alert(d, c, 1, NULL);
	transfer_loop_alert(d, c, 2, NULL);
	cr_assert(hook_wait(h, 2, 5000), "the POSTs did not arrive");
	int64_t t0 = hl_now_ms();
	int rc = hl_d_stop(d, SIGTERM, 10000);
	int64_t took = hl_now_ms() - t0;
	cr_expect_eq(rc, 0, "hotlined exited with %d on SIGTERM with webhooks pending", rc);
	cr_expect_lt(took, 5000, "the stop took %lld ms with a 30 s webhook timeout pending", (long long)took);
}
