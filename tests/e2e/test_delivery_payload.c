/*
 * test_delivery_payload.c - end-to-end tests of what a webhook receiver gets
 * (suite `delivery`, daemon/webhook_body.c; when and how often is in
 * test_delivery.c).
 *
 * The signature (X-Hotline-Signature, checked here as a receiver would),
 * the X-Hotline-Delivery id that stays the same on a retry, the bearer token
 * and extra headers; the Alertmanager and PagerDuty bodies; and a delivery
 * pending at a kill -9 sent again after the restart with the same id, body
 * and signature.
 *
 * Design.  The receiver is in delivery_helpers.h; the alerts come from
 * transfer_loop with alerts.transfer_limit = 1, raised at once by the second
 * transfer.  The HMAC is computed with OpenSSL, independently of the daemon.
 */
#include "delivery_helpers.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

TestSuite(delivery, .init = hl_e2e_init, .fini = delivery_fini, .timeout = 60);

/* ------------------------------------------------ signing, auth and formats */

static void hdr(const struct hook_req *r, const char *name, char *out, size_t len)
{
	header_value(r->head, name, out, len);
}

/* The receiver's side of the signature check, as docs/webhooks.md shows it. */
static bool signature_ok(const struct hook_req *r, const char *secret)
{
	char ts[32], sig[128], want[72] = "sha256=";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	hdr(r, "X-Hotline-Timestamp", ts, sizeof ts);
	hdr(r, "X-Hotline-Signature", sig, sizeof sig);
	char msg[8300];
	snprintf(msg, sizeof msg, "%s.%s", ts, r->body);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg, strlen(msg), mac, &n);
	for (unsigned i = 0; i < n; i++)
		sprintf(want + 7 + 2 * i, "%02x", mac[i]);
	return ts[0] && strcmp(sig, want) == 0;
}

HL_TEST(delivery, signed_with_stable_delivery_id_bearer_and_headers)
{
	static const int seq[] = { 500, 200, -1 };
	struct hook *h = hook_start(seq);
	char top[1024];
	snprintf(top, sizeof top,
		 "alerts = { transfer_limit = 1; };\n"
		 "webhooks = { urls = ( { url = \"http://127.0.0.1:%d/hook\"; secret = \"s3cret\"; bearer = \"t0ken\";"
		 " headers = [ \"X-Team: hotline ops\", \"X-Env: test\" ]; } ); timeout = \"2s\"; max_retries = 3; };\n",
		 h->port);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t case_id;
	int64_t alert_id = transfer_loop_alert(d, c, 1, &case_id);
	cr_assert(hook_wait(h, 2, 10000), "only %d POSTs within 10 s (500, then 200 expected)", hook_count(h));
	struct hook_req r[2] = { hook_get(h, 0), hook_get(h, 1) };
	char id0[96], id1[96], v[256];
	hdr(&r[0], "X-Hotline-Delivery", id0, sizeof id0);
	hdr(&r[1], "X-Hotline-Delivery", id1, sizeof id1);
	cr_expect(id0[0], "no X-Hotline-Delivery header: %s", r[0].head);
	cr_expect_str_eq(id1, id0, "the retry changed the delivery id");
	for (int i = 0; i < 2; i++) {
		cr_expect(signature_ok(&r[i], "s3cret"), "attempt %d: signature does not verify: %s", i + 1, r[i].head);
		cr_expect(!signature_ok(&r[i], "wrong"), "a wrong secret verifies");
		hdr(&r[i], "Authorization", v, sizeof v);
		cr_expect_str_eq(v, "Bearer t0ken");
		hdr(&r[i], "X-Team", v, sizeof v);
		cr_expect_str_eq(v, "hotline ops");
		hdr(&r[i], "X-Env", v, sizeof v);
		cr_expect_str_eq(v, "test");
		json_object *b = json_tokener_parse(r[i].body);
		cr_assert(b, "body not JSON: %s", r[i].body);
		cr_expect_eq(hl_jint(b, "payload_version"), 1);
		cr_expect_str_eq(hl_jstr(b, "delivery_id") ? hl_jstr(b, "delivery_id") : "", id0);
		cr_expect_eq(hl_jint(b, "id"), alert_id);
		json_object_put(b);
	}
	/* an unsigned webhook gets no signature; the secret is never logged */
	cr_expect(!strstr(hl_d_log(d), "s3cret"), "the secret in the log");
	cr_expect(!strstr(hl_d_log(d), "t0ken"), "the bearer token in the log");
}

HL_TEST(delivery, alertmanager_and_pagerduty_formats)
{
	struct hook *am = hook_start(NULL), *pd = hook_start(NULL);
	char top[1024];
	snprintf(top, sizeof top,
		 "alerts = { transfer_limit = 1; };\n"
		 "webhooks = { urls = ( { url = \"http://127.0.0.1:%d/api/v2/alerts\"; format = \"alertmanager\"; },"
		 " { url = \"http://127.0.0.1:%d/v2/enqueue\"; format = \"pagerduty\"; routing_key = \"R0UTE\"; } );"
		 " timeout = \"2s\"; max_retries = 3; };\n",
		 am->port, pd->port);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t case_id;
	int64_t alert_id = transfer_loop_alert(d, c, 1, &case_id);
	cr_assert(hook_wait(am, 1, 5000) && hook_wait(pd, 1, 5000), "no POSTs");
	char want[64];

	struct hook_req r = hook_get(am, 0);
	json_object *arr = json_tokener_parse(r.body);
	cr_assert(arr && json_object_is_type(arr, json_type_array) && json_object_array_length(arr) == 1,
		  "alertmanager body is not an array of one: %s", r.body);
	json_object *a = json_object_array_get_idx(arr, 0), *labels, *ann;
	cr_assert(json_object_object_get_ex(a, "labels", &labels) && json_object_object_get_ex(a, "annotations", &ann));
	cr_expect_str_eq(hl_jstr(labels, "alertname"), "hotline_transfer_loop");
	snprintf(want, sizeof want, "%lld", (long long)alert_id);
	cr_expect_str_eq(hl_jstr(labels, "alert_id"), want);
	cr_expect(hl_jstr(labels, "severity"));
	json_object_object_foreach(labels, k, lv) {
		cr_expect(json_object_is_type(lv, json_type_string), "label %s is not a string", k);
	}
	cr_expect(hl_jstr(ann, "summary"));
	cr_expect_str_eq(hl_jstr(ann, "payload_version"), "1");
	cr_expect(hl_jstr(a, "startsAt") && strchr(hl_jstr(a, "startsAt"), 'T'), "startsAt: %s", r.body);
	cr_expect(hl_jstr(a, "generatorURL"));
	json_object_put(arr);

	r = hook_get(pd, 0);
	json_object *e = json_tokener_parse(r.body), *p, *cd;
	cr_assert(e && json_object_is_type(e, json_type_object), "pagerduty body: %s", r.body);
	cr_expect_str_eq(hl_jstr(e, "routing_key"), "R0UTE");
	cr_expect_str_eq(hl_jstr(e, "event_action"), "trigger");
	snprintf(want, sizeof want, "hotline-alert-%lld", (long long)alert_id);
	cr_expect_str_eq(hl_jstr(e, "dedup_key"), want);
	cr_assert(json_object_object_get_ex(e, "payload", &p));
	cr_expect(hl_jstr(p, "summary"));
	cr_expect_str_eq(hl_jstr(p, "source"), "hotlined");
	const char *sev = hl_jstr(p, "severity");
	cr_expect(sev && (!strcmp(sev, "critical") || !strcmp(sev, "error") || !strcmp(sev, "warning") ||
			  !strcmp(sev, "info")), "severity %s", sev ? sev : "(none)");
	cr_expect(hl_jstr(p, "timestamp"));
	cr_assert(json_object_object_get_ex(p, "custom_details", &cd));
	cr_expect_eq(hl_jint(cd, "id"), alert_id);
	cr_expect_eq(hl_jint(cd, "payload_version"), 1);
	json_object_put(e);
	char id_am[96], id_pd[96];
	struct hook_req ra = hook_get(am, 0), rp = hook_get(pd, 0);
	hdr(&ra, "X-Hotline-Delivery", id_am, sizeof id_am);
	hdr(&rp, "X-Hotline-Delivery", id_pd, sizeof id_pd);
	cr_expect(strcmp(id_am, id_pd) != 0, "two receivers share a delivery id %s", id_am);
}

HL_TEST(delivery, pending_delivery_survives_kill9_with_the_same_id)
{
	static const int seq[] = { 503, -1 };
	struct hook *h = hook_start(seq);
	char top[1024];
	snprintf(top, sizeof top,
		 "alerts = { transfer_limit = 1; };\n"
		 "webhooks = { urls = ( { url = \"http://127.0.0.1:%d/hook\"; secret = \"k\"; } );"
		 " timeout = \"2s\"; max_retries = 20; };\n",
		 h->port);
	struct hl_e2e_opts o = { .top = top };
	struct hl_d *d = hl_d_up(&o);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t alert_id = transfer_loop_alert(d, c, 1, NULL);
	cr_assert(hook_wait(h, 2, 10000), "the receiver refused, but no retry came");
	struct hook_req r0 = hook_get(h, 0);
	char id0[96], id[96];
	hdr(&r0, "X-Hotline-Delivery", id0, sizeof id0);
	cr_assert(id0[0]);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.webhook_deliveries WHERE alert_id = %lld",
				(long long)alert_id), 1, "the pending delivery is not in hotline.webhook_deliveries");

	hl_conn_close(c);
	hl_d_kill9(d);
	hook_set_status(h, 200);
	int before = hook_count(h);
	hl_d_start(d);
	cr_assert(hook_wait(h, before + 1, 10000), "the pending delivery was not sent again after the restart");
	struct hook_req r = hook_get(h, before);
	hdr(&r, "X-Hotline-Delivery", id, sizeof id);
	cr_expect_str_eq(id, id0, "the delivery id changed across the restart");
	cr_expect_str_eq(r.body, r0.body, "the body changed across the restart");
	cr_expect(signature_ok(&r, "k"), "the re-sent delivery is not signed");

	/* delivered: its row goes at once (a transaction of its own: nothing else is queued),
	 * and nothing is re-sent */
	c = hl_conn_unix(d);
	cr_expect(wait_stat(c, "webhooks_sent", 1, 5000), "webhooks_sent never reached 1 after the restart");
	int64_t end = hl_now_ms() + 3000;
	while (hl_sql_int(d, "SELECT count(*) FROM hotline.webhook_deliveries") != 0 && hl_now_ms() < end)
		hl_sleep_ms(50);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.webhook_deliveries"), 0,
		     "a delivered row is left in hotline.webhook_deliveries on a quiet hotline");
	hl_sleep_ms(1000);
	cr_expect_eq(hook_count(h), before + 1, "delivered again (%d POSTs)", hook_count(h) - before);
}
