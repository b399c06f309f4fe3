/*
 * test_hotspots.c - end-to-end tests of the hotspot rule (热点, CONTRACT.md
 * 6) against a real hotlined and PostgreSQL: one alert per crossing, keys
 * made of different fields, the case's hotspot row kept by events that
 * classify it without bringing a key value, and the same counts whether the
 * events arrive one at a time or hundreds to a batch.
 *
 * The last one is the test of the store's hotspot load (SQL_HOTSPOT_CASES in
 * include/store_orders_sql.h): a batch loads only the window's rows whose key
 * it can form, so a row it failed to load would show as a count or a row
 * that differs from the same events sent one by one.
 */
#include "orders_helpers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(hotspots, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 90);

/* ------------------------------------------------------------------ rules */

HL_TEST(hotspots, hotspot_once_per_crossing)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = LONG_SLA, .top = "hotspot = { window = \"1h\"; threshold = 3; key = [ \"category\", \"area\" ]; };" });
	struct hl_conn *s = hl_subscribe(d, -1);
	struct hl_conn *c = hl_conn_unix(d);
	int64_t ids[7];
	for (int i = 0; i < 7; i++) {
		ids[i] = new_case(c, 40 + i);
		/* category first, area later: the key is complete only with both */
		ok(req(c, "\"type\":\"case.update\",\"case_id\":%lld,\"category\":\"water\"", (long long)ids[i]));
		if (i == 1) /* another area: not the same key */
			ok(req(c, "\"type\":\"case.update\",\"case_id\":%lld,\"area\":\"Chaoyang\"", (long long)ids[i]));
		else
			ok(req(c, "\"type\":\"case.update\",\"case_id\":%lld,\"area\":\"Haidian\"", (long long)ids[i]));
		if (i == 3) {
			struct hl_pushes ps = { .n = 0 };
			cr_assert(hl_await_push(s, &ps, "hotspot", ids[3], 0, 3000), "no hotspot push on the 3rd case");
		}
	}
	/* cases 0, 2, 3 crossed the threshold; 4, 5, 6 crossed it again */
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'hotspot'"), 2);
	char *detail = hl_sql_text(d, "SELECT detail FROM hotline.alerts WHERE kind = 'hotspot' AND case_id = %lld",
	                           (long long)ids[3]);
	char want[160];
	snprintf(want, sizeof want, "cases %lld, %lld, %lld", (long long)ids[0], (long long)ids[2], (long long)ids[3]);
	cr_assert(strstr(detail, "[\"water\",\"Haidian\"]") && strstr(detail, want), "%s", detail);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'hotspot' AND case_id = %lld",
	                        (long long)ids[6]), 1);
	/* an update without category or area keeps the case's key (its area lives in hotspot_cases) */
	ok(req(c, "\"type\":\"case.update\",\"case_id\":%lld,\"priority\":\"high\"", (long long)ids[0]));
	cr_assert_str_eq(hl_sql_text(d, "SELECT area FROM hotline.hotspot_cases WHERE case_id = %lld", (long long)ids[0]),
	                 "Haidian");
	/* call.ended carries category and area too */
	int64_t e = hl_jint(ok(req(c, "\"type\":\"call.offered\",\"call_id\":\"hs-end\",\"caller\":\"+8613500009999\"")),
	                    "case_id");
	ok(req(c, "\"type\":\"call.ended\",\"call_id\":\"hs-end\",\"outcome\":\"info\",\"category\":\"roads\","
	          "\"area\":\"Xicheng\""));
	cr_assert_str_eq(hl_sql_text(d, "SELECT category || ' ' || area FROM hotline.hotspot_cases WHERE case_id = %lld",
	                             (long long)e), "roads Xicheng");
}

/* hotspot.key = [department]: a dispatch's department makes the key, and
 * the third dispatch to one department within the window raises one hotspot
 * alert, each in a batch of its own (the store loads the earlier cases by
 * department: batch_keys.c sends a field's values only when the key has it) */
HL_TEST(hotspots, hotspot_by_department_key)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = LONG_SLA, .top = "hotspot = { window = \"1h\"; threshold = 3; key = [ \"department\" ]; };" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t ids[4];
	for (int i = 0; i < 4; i++) {
		ids[i] = new_case(c, 70 + i);
		char oid[16];
		snprintf(oid, sizeof oid, "hd-%d", i);
		/* the second goes to another department: not the same key */
		dispatch(c, ids[i], oid, i == 1 ? "roads" : "water");
	}
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'hotspot'"), 1);
	char *detail = hl_sql_text(d, "SELECT detail FROM hotline.alerts WHERE kind = 'hotspot'");
	char want[160];
	snprintf(want, sizeof want, "cases %lld, %lld, %lld", (long long)ids[0], (long long)ids[2], (long long)ids[3]);
	cr_assert(strstr(detail, "water") && strstr(detail, want), "%s", detail);
}

/* Every event that classifies a case (a dispatch, a call.ended or case.update
 * with a category or area) loads the case's hotspot row, whatever fields the
 * key is made of: the rules rebuild the row from it, and without it a
 * dispatch to a department (not in the default key) wrote the row back with
 * no area, dropping the case out of its key; under a department key a
 * category alone counted the case a second time, at a later time. */
HL_TEST(hotspots, hotspot_row_kept_by_events_outside_the_key)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = LONG_SLA, .top = "hotspot = { window = \"1h\"; threshold = 3; key = [ \"category\", \"area\" ]; };" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 80);
	ok(req(c, "\"type\":\"case.update\",\"case_id\":%lld,\"category\":\"water\",\"area\":\"Haidian\"",
	       (long long)id));
	char *at = strdup(hl_sql_text(d, "SELECT hotline.iso(at) FROM hotline.hotspot_cases WHERE case_id = %lld",
	                              (long long)id));
	dispatch(c, id, "hk-1", "waterworks");
	cr_assert_str_eq(hl_sql_text(d, "SELECT concat_ws(' ', category, area, department) FROM hotline.hotspot_cases"
	                                " WHERE case_id = %lld", (long long)id), "water Haidian waterworks");
	cr_assert_str_eq(hl_sql_text(d, "SELECT hotline.iso(at) FROM hotline.hotspot_cases WHERE case_id = %lld",
	                             (long long)id), at, "the key did not change: the case keeps the time it got it");
	free(at);
}

HL_TEST(hotspots, hotspot_department_key_counts_a_case_once)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = LONG_SLA, .top = "hotspot = { window = \"1h\"; threshold = 2; key = [ \"department\" ]; };" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t id = new_case(c, 81);
	dispatch(c, id, "hk-2", "waterworks");
	char *at = strdup(hl_sql_text(d, "SELECT hotline.iso(at) FROM hotline.hotspot_cases WHERE case_id = %lld",
	                              (long long)id));
	/* a category is not in the key: the case keeps its key and the time it
	 * got it, so it is not counted again as a newer case of "waterworks" */
	ok(req(c, "\"type\":\"case.update\",\"case_id\":%lld,\"category\":\"water\"", (long long)id));
	cr_assert_str_eq(hl_sql_text(d, "SELECT concat_ws(' ', category, department) FROM hotline.hotspot_cases"
	                                " WHERE case_id = %lld", (long long)id), "water waterworks");
	cr_assert_str_eq(hl_sql_text(d, "SELECT hotline.iso(at) FROM hotline.hotspot_cases WHERE case_id = %lld",
	                             (long long)id), at);
	free(at);
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'hotspot'"), 0);
}


/* A call from a caller with an open case joins that case; ended in the same
 * batch with a category, it gives the case a key made of that category and
 * the area the case already has.  The batch's events name neither the case
 * nor a stored call: the load reaches the case through its caller, for its
 * row and its area, and so finds the other cases of the key. */
HL_TEST(hotspots, call_joining_a_case_in_one_batch_keeps_its_area)
{
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){
		.sla = LONG_SLA, .top = "hotspot = { window = \"1h\"; threshold = 3; key = [ \"category\", \"area\" ]; };" });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t ids[3];
	for (int i = 0; i < 3; i++) {
		ids[i] = new_case(c, 90 + i);
		ok(req(c, "\"type\":\"case.update\",\"case_id\":%lld,\"category\":\"%s\",\"area\":\"north\"", (long long)ids[i],
		       i == 0 ? "water" : "roads"));
	}
	int64_t before = hl_jint(ok(req(c, "\"type\":\"stats\"")), "stats.batches");
	char two[512];
	int n = snprintf(two, sizeof two,
	                 "{\"id\":\"%s\",\"type\":\"call.offered\",\"call_id\":\"hj-1\",\"caller\":\"+86135%08d\"}\n"
	                 "{\"id\":\"%s\",\"type\":\"call.ended\",\"call_id\":\"hj-1\",\"outcome\":\"info\",\"category\":\"roads\"}\n",
	                 hl_uid("hj"), 90, hl_uid("hj"));
	cr_assert_eq(hl_send_raw(c, two, (size_t)n), 0);
	cr_assert_eq(hl_jint(ok(hl_recv_json(c, 10000)), "case_id"), ids[0], "the call joins the caller's open case");
	ok(hl_recv_json(c, 10000));
	cr_assert_eq(hl_jint(ok(req(c, "\"type\":\"stats\"")), "stats.batches") - before, 1, "one batch for both");
	cr_assert_str_eq(hl_sql_text(d, "SELECT category || ' ' || area FROM hotline.hotspot_cases WHERE case_id = %lld",
	                             (long long)ids[0]), "roads north");
	cr_assert_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = 'hotspot' AND case_id = %lld",
	                        (long long)ids[0]), 1, "the third case of (roads, north)");
}

/* ------------------------------------------- one at a time or in batches */

/*
 * A scenario of requests from a seeded generator over few values (three
 * categories, two areas, three departments), so that keys repeat and cross
 * the threshold: updates, dispatches and transfers on 24 cases opened first;
 * calls from new callers and from the cases' callers (they join the open
 * case), each ended with a category or area a few requests later, often in
 * the same batch as its offer.  Every request has its own `at`, a second
 * apart, so both runs give each case the same times.
 */
enum { N_OPEN = 24, N_MORE = 160 };

struct scenario {
	char *line[N_MORE];
	size_t n;
};

static uint32_t next_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static void add_line(struct scenario *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_line(struct scenario *sc, const char *fmt, ...)
{
	cr_assert(sc->n < N_MORE);
	char body[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	cr_assert(n > 0 && (size_t)n < sizeof body);
	char line[640];
	snprintf(line, sizeof line, "{\"id\":\"%s\",%s}\n", hl_uid("hs"), body);
	sc->line[sc->n++] = strdup(line);
}

/* "category":"..","area":"..": one or both (or a department for a dispatch) */
static const char *class_fields(uint32_t *seed, char *buf, size_t len)
{
	static const char *const cats[] = { "water", "roads", "power" }, *const areas[] = { "north", "south" };
	const char *cat = cats[next_rand(seed) % 3], *area = areas[next_rand(seed) % 2];
	switch (next_rand(seed) % 3) {
	case 0: snprintf(buf, len, "\"category\":\"%s\"", cat); break;
	case 1: snprintf(buf, len, "\"area\":\"%s\"", area); break;
	default: snprintf(buf, len, "\"category\":\"%s\",\"area\":\"%s\"", cat, area); break;
	}
	return buf;
}

static void build_scenario(struct scenario *sc, const int64_t *ids, int64_t t0)
{
	static const char *const depts[] = { "waterworks", "highways", "grid" };
	uint32_t seed = 20261203;
	int pending[8], n_pending = 0, calls = 0, orders = 0;
	int64_t at = t0;
	while (sc->n < N_MORE) {
		char cls[96];
		at += 1000;
		int64_t id = ids[next_rand(&seed) % N_OPEN];
		uint32_t r = next_rand(&seed) % 10;
		if (r >= 8 && n_pending > 0) {
			int call = pending[--n_pending]; /* the newest offered call ends */
			add_line(sc, "\"type\":\"call.ended\",\"call_id\":\"hb-%d\",\"outcome\":\"info\",%s,\"at\":\"%s\"", call,
			         class_fields(&seed, cls, sizeof cls), hl_iso_ms(at));
		} else if (r >= 6 && n_pending < 8) {
			int call = calls++;
			/* half from a new caller, half from the callers of the opened cases */
			int who = next_rand(&seed) % 2 ? 900 + call : (int)(next_rand(&seed) % N_OPEN);
			add_line(sc, "\"type\":\"call.offered\",\"call_id\":\"hb-%d\",\"caller\":\"+86136%08d\",\"at\":\"%s\"",
			         call, who, hl_iso_ms(at));
			pending[n_pending++] = call;
		} else if (r >= 4) {
			/* a dispatch classifies its case with or without a category or area */
			bool with = next_rand(&seed) % 2;
			const char *dept = depts[next_rand(&seed) % 3];
			const char *fields = with ? class_fields(&seed, cls, sizeof cls) : "";
			add_line(sc, "\"type\":\"order.dispatch\",\"case_id\":%lld,\"order_id\":\"hb-o%d\",\"department\":\"%s\""
			         "%s%s,\"at\":\"%s\"", (long long)id, orders++, dept, with ? "," : "", fields, hl_iso_ms(at));
		} else if (r == 3) {
			add_line(sc, "\"type\":\"case.transfer\",\"case_id\":%lld,\"department\":\"%s\",\"at\":\"%s\"", (long long)id,
			         depts[next_rand(&seed) % 3], hl_iso_ms(at));
		} else {
			add_line(sc, "\"type\":\"case.update\",\"case_id\":%lld,%s,\"at\":\"%s\"", (long long)id,
			         class_fields(&seed, cls, sizeof cls), hl_iso_ms(at));
		}
	}
}

/* Every hotspot row (by caller: each case here has its own), every hotspot
 * alert with the callers of the cases it names, every key's last alert. */
static const char STATE_SQL[] =
	"SELECT concat_ws(E'\\n',"
	" (SELECT string_agg(concat_ws('|', c.caller, h.category, h.area, h.department, hotline.iso(h.at)), ';'"
	"   ORDER BY c.caller) FROM hotline.hotspot_cases h JOIN hotline.cases c ON c.id = h.case_id),"
	" (SELECT string_agg(t, ';' ORDER BY t) FROM (SELECT concat_ws('|', c.caller,"
	"   regexp_replace(a.detail, ': cases .*$', ''),"
	"   (SELECT string_agg(c2.caller, ',' ORDER BY c2.caller)"
	"      FROM regexp_split_to_table(substring(a.detail from 'cases ([0-9, ]+)$'), ', ') x"
	"      JOIN hotline.cases c2 ON c2.id = x::bigint)) AS t"
	"   FROM hotline.alerts a JOIN hotline.cases c ON c.id = a.case_id WHERE a.kind = 'hotspot') s),"
	" (SELECT string_agg(key || '|' || hotline.iso(alerted_at), ';' ORDER BY key) FROM hotline.hotspots))";

/* Run the scenario on a fresh daemon and database: the requests one at a
 * time, or all written at once (the daemon batches them).  Returns the
 * state (malloc'd) and the batches the scenario took. */
static char *run_scenario(const char *key, bool at_once, int64_t t0, int64_t *batches)
{
	char top[160];
	snprintf(top, sizeof top, "hotspot = { window = \"1h\"; threshold = 3; key = [ %s ]; };", key);
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .sla = LONG_SLA, .top = top });
	struct hl_conn *c = hl_conn_unix(d);
	int64_t ids[N_OPEN];
	for (int i = 0; i < N_OPEN; i++)
		ids[i] = hl_jint(ok(req(c, "\"type\":\"call.offered\",\"call_id\":\"ha-%d\",\"caller\":\"+86136%08d\","
		                           "\"at\":\"%s\"", i, i, hl_iso_ms(t0 + i * 10))), "case_id");
	struct scenario sc = { .n = 0 };
	build_scenario(&sc, ids, t0 + 1000);
	int64_t before = hl_jint(ok(req(c, "\"type\":\"stats\"")), "stats.batches");
	if (at_once) {
		size_t len = 0;
		for (size_t i = 0; i < sc.n; i++)
			len += strlen(sc.line[i]);
		char *all = malloc(len + 1), *p = all;
		cr_assert(all);
		for (size_t i = 0; i < sc.n; i++)
			p = stpcpy(p, sc.line[i]);
		cr_assert_eq(hl_send_raw(c, all, len), 0);
		free(all);
		for (size_t i = 0; i < sc.n; i++)
			ok(hl_recv_json(c, 10000));
	} else {
		for (size_t i = 0; i < sc.n; i++) {
			cr_assert_eq(hl_send_raw(c, sc.line[i], strlen(sc.line[i])), 0);
			ok(hl_recv_json(c, 10000));
		}
	}
	*batches = hl_jint(ok(req(c, "\"type\":\"stats\"")), "stats.batches") - before;
	for (size_t i = 0; i < sc.n; i++)
		free(sc.line[i]);
	hl_conn_close(c);
	return strdup(hl_sql_text(d, STATE_SQL));
}

static void same_either_way(const char *key)
{
	int64_t t0 = (hl_wall_ms() / 1000 - 1800) * 1000, one_batches, many_batches;
	char *one = run_scenario(key, false, t0, &one_batches);
	char *many = run_scenario(key, true, t0, &many_batches);
	cr_assert_eq(one_batches, N_MORE, "one at a time: a batch each");
	cr_assert_lt(many_batches, N_MORE / 4, "all at once: the daemon batches them (%lld batches)",
	             (long long)many_batches);
	cr_assert(strstr(one, "cases with"), "the scenario raises hotspot alerts:\n%s", one);
	cr_assert_str_eq(many, one, "batched:\n%s\n\none at a time:\n%s", many, one);
	free(one);
	free(many);
}

HL_TEST(hotspots, same_counts_batched_category_area) { same_either_way("\"category\", \"area\""); }
HL_TEST(hotspots, same_counts_batched_category_department) { same_either_way("\"category\", \"department\""); }
HL_TEST(hotspots, same_counts_batched_department_area) { same_either_way("\"department\", \"area\""); }
