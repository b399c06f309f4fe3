/*
 * test_cluster_clock.c - a daemon whose host clock is off the database
 * server's says so (daemon/cluster_clock.c, docs/operations.md).
 *
 * Daemons run their timers on their own wall clocks; one a few seconds
 * ahead raised its slots' alerts early and nothing showed why.  Daemon b
 * runs under clock_shift.so with its wall clock 5 s ahead; a runs as is.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(cluster_clock, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 60);

static const struct hl_e2e_opts opts = { .top = "cluster = { takeover = \"2s\"; };" };

/* stats' cluster.clock_offset_ms once measured (waits for it). */
static int64_t offset_of(struct hl_d *d)
{
	struct hl_conn *c = hl_conn_unix(d);
	int64_t end = hl_now_ms() + 10000;
	for (;;) {
		json_object *r = hl_requestf(c, "{\"type\":\"stats\",\"id\":\"%s\"}", hl_uid("st"));
		json_object *o = hl_jget(r, "stats.cluster.clock_offset_ms");
		if (o && !json_object_is_type(o, json_type_null))
			return json_object_get_int64(o);
		cr_assert(hl_now_ms() < end, "no clock offset in stats: %s", json_object_to_json_string(r));
		hl_sleep_ms(200);
	}
}

HL_TEST(cluster_clock, a_host_clock_ahead_of_the_servers_is_measured_and_logged)
{
	struct hl_d *a = hl_d_up(&opts);
	struct hl_e2e_opts ob = opts;
	ob.no_start = true;
	struct hl_d *b = hl_d_up_peer(a, &ob);
	char shim[4096], asan[1024];
	ssize_t n = readlink("/proc/self/exe", shim, sizeof shim - 32);
	cr_assert(n > 0);
	shim[n] = '\0';
	snprintf(strrchr(shim, '/') + 1, 32, "clock_shift.so");
	cr_assert_eq(access(shim, R_OK), 0, "%s missing (make builds it with this test)", shim);
	char preload[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shim);
	const char *was = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0", was ? was : "", was && *was ? ":" : "");
	const char *const env[] = { preload, "HL_CLOCK_SHIFT_MS=5000", asan, NULL };
	hl_d_start_ex(b, NULL, env);

	int64_t off_b = offset_of(b), off_a = offset_of(a);
	cr_expect(off_b < -4000 && off_b > -6000, "b's offset %lld ms, its clock is 5 s ahead", (long long)off_b);
	cr_expect(off_a > -1000 && off_a < 1000, "a's offset %lld ms", (long long)off_a);
	cr_assert(strstr(hl_d_log(b), "ms ahead of the database server's"), "b's log does not say its clock is ahead");
	cr_assert(!strstr(hl_d_log(a), "ahead of the database server's"), "a's log says a clock is off");
}
