/*
 * order_cost.c - a micro measurement of the pure rules' CPU per order.dispatch
 * in one batch's world (no database, no daemon): `make bench-order-cost`.
 *
 * The benchmark's per-type phase showed order.dispatch costing the daemon
 * several times the CPU of other events, growing with the batch: the order
 * and hotspot rows were found by scanning the batch's arrays.  This program
 * opens n cases, loads n recent hotspot rows of other cases (as the store
 * does: rows sharing a category with the batch), then dispatches one order
 * per case, and prints the CPU time per dispatch for growing n.  It prints,
 * it asserts nothing: speed is never a test verdict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "hotspot.h"
#include "orders.h"
#include "rules.h"

/* a low threshold (many alerts), and one above the 64 cases an alert names */
static const char *const CONF[] = {"database = { conninfo = \"dbname=x\"; };\n"
                                   "orders = { sign = \"2h\"; reply = \"3d\"; };\n"
                                   "hotspot = { window = \"1h\"; threshold = 5; };\n",
                                   "database = { conninfo = \"dbname=x\"; };\n"
                                   "orders = { sign = \"2h\"; reply = \"3d\"; };\n"
                                   "hotspot = { window = \"1h\"; threshold = 80; };\n"};

static const char *const AREAS[] = {"Haidian", "Chaoyang", "Dongcheng", "Xicheng", "Fengtai", "Tongzhou"};
static const char *const DEPTS[] = {"water", "housing", "roads", "power"};

static double cpu_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void run(const struct hl_config *cfg, size_t n)
{
	struct hl_world *w = hl_world_new();
	struct hl_rules_env env = {.cfg = cfg};
	struct hl_outcome out;
	hl_ms t0 = 1790000000000LL;
	int64_t *ids = malloc(n * sizeof *ids), *cases = malloc(n * sizeof *cases);
	for (size_t i = 0; i < n; i++)
		ids[i] = 1000000 + (int64_t)i;
	hl_world_add_free_ids(w, ids, n);
	for (size_t i = 0; i < n; i++) /* recent cases of the same categories, loaded by the store */
		hl_world_add_hotspot_case(w, &(struct hl_hotspot_case){.case_id = 500000 + (int64_t)i,
		                                                       .category = "water",
		                                                       .area = (char *)AREAS[i % 6],
		                                                       .at = t0 - 600000 + (hl_ms)i});
	char cid[32], eid[32], caller[32];
	for (size_t i = 0; i < n; i++) {
		struct hl_event ev = {.type = HL_EV_CALL_OFFERED, .at = t0 + (hl_ms)i, .at_given = true,
		                      .caller_informed = -1, .confidential = -1};
		snprintf(eid, sizeof eid, "open-%zu", i);
		snprintf(ev.id, sizeof ev.id, "%s", eid);
		snprintf(cid, sizeof cid, "call-%zu", i);
		ev.call_id = cid;
		snprintf(caller, sizeof caller, "+86138%08zu", i);
		snprintf(ev.caller, sizeof ev.caller, "%s", caller);
		ev.received = ev.at;
		env.now = ev.at;
		hl_rules_apply(w, &env, &ev, &out);
		cases[i] = out.case_id;
	}
	double start = cpu_us();
	size_t failed = 0;
	for (size_t i = 0; i < n; i++) {
		struct hl_event ev = {.type = HL_EV_ORDER_DISPATCH, .at = t0 + 1000 + (hl_ms)i, .at_given = true,
		                      .caller_informed = -1, .confidential = -1, .case_id = cases[i],
		                      .department = (char *)DEPTS[i % 4], .category = "water",
		                      .area = (char *)AREAS[i % 6]};
		snprintf(ev.id, sizeof ev.id, "dispatch-%zu", i);
		ev.received = ev.at;
		env.now = ev.at;
		hl_rules_apply(w, &env, &ev, &out);
		failed += out.err != HL_OK;
	}
	double us = cpu_us() - start;
	/* then moves between keys and back, out of time order (checked by the digest, not timed) */
	for (size_t i = 0; i < n; i++) {
		struct hl_event ev = {.type = HL_EV_CASE_UPDATE, .at = t0 + 3000 + (hl_ms)((i * 7919) % n),
		                      .at_given = true, .caller_informed = -1, .confidential = -1,
		                      .case_id = cases[(i * 31) % n], .area = (char *)AREAS[(i / 3) % 6]};
		snprintf(ev.id, sizeof ev.id, "move-%zu", i);
		ev.received = ev.at;
		env.now = ev.at;
		hl_rules_apply(w, &env, &ev, &out);
		failed += out.err != HL_OK;
	}
	/* a digest of every alert and case note, to compare two builds' behaviour */
	uint64_t digest = 0;
	for (size_t i = 0; i < w->n_alerts; i++)
		digest = digest * 31 + hl_hash_str(w->alerts[i]->dedupe) + hl_hash_str(w->alerts[i]->detail ? w->alerts[i]->detail : "");
	for (size_t i = 0; i < w->n_accepted; i++)
		digest = digest * 31 + hl_hash_str(w->accepted[i].description);
	printf("n=%5zu order.dispatch: %8.2f us CPU each (%zu orders, %zu hotspot rows, %zu alerts, %zu failed, "
	       "digest %016llx)\n",
	       n, us / (double)n, w->n_orders, w->n_hotspot_cases, w->n_alerts, failed, (unsigned long long)digest);
	hl_world_free(w);
	free(ids);
	free(cases);
}

int main(void)
{
	for (size_t c = 0; c < sizeof CONF / sizeof CONF[0]; c++) {
		struct hl_config cfg;
		char err[512];
		if (hl_config_load_string(CONF[c], "bench.conf", NULL, &cfg, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("hotspot.threshold = %lld\n", (long long)cfg.hotspot.threshold);
		for (size_t n = 100; n <= 6400; n *= 4)
			run(&cfg, n);
		hl_config_free(&cfg);
	}
	return 0;
}
