/*
 * test_cluster_names.c - what a daemon says about its cluster.name.
 *
 * The peers of a cluster know each other by name (application_name
 * "hotlined:<cluster.name>", docs/operations.md "Several daemons"), so two
 * live daemons given one name count as one peer and the fair share leaves
 * one of them without a clock slot.  An operator who runs two daemons on one
 * host and names both after the host (as the guide suggests for one) must be
 * told, in the log at err, rather than find out from an idle daemon.  Apart
 * from test_cluster.c, which is about the work the daemons share.
 */
#include <string.h>

#include "harness.h"

TestSuite(cluster_names, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 60);

static bool logged(struct hl_d *d, const char *needle)
{
	const char *log = hl_d_log(d);
	return log && strstr(log, needle);
}

HL_TEST(cluster_names, a_name_two_daemons_share_is_reported)
{
	static const struct hl_e2e_opts o = { .top = "cluster = { takeover = \"2s\"; name = \"twin\"; };" };
	struct hl_d *a = hl_d_up(&o);
	struct hl_d *b = hl_d_up_peer(a, &o);
	const char *say = "<3>cluster: another daemon is connected as hotlined:twin";
	int64_t end = hl_now_ms() + 10000;
	while (!(logged(a, say) && logged(b, say)) && hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert(logged(a, say), "the first daemon did not say so:\n%s", hl_d_log(a));
	cr_assert(logged(b, say), "the second daemon did not say so:\n%s", hl_d_log(b));
}

HL_TEST(cluster_names, distinct_names_are_not_reported)
{
	static const struct hl_e2e_opts oa = { .top = "cluster = { takeover = \"2s\"; name = \"one\"; };" };
	static const struct hl_e2e_opts ob = { .top = "cluster = { takeover = \"2s\"; name = \"two\"; };" };
	struct hl_d *a = hl_d_up(&oa);
	struct hl_d *b = hl_d_up_peer(a, &ob);
	int64_t end = hl_now_ms() + 10000;
	while (!(logged(a, "peer two joined") && logged(b, "peer one joined")) && hl_now_ms() < end)
		hl_sleep_ms(100);
	cr_assert(logged(a, "peer two joined"), "%s", hl_d_log(a));
	hl_sleep_ms(1500); /* a few more surveys */
	cr_assert(!logged(a, "another daemon is connected") && !logged(b, "another daemon is connected"), "%s\n%s",
	          hl_d_log(a), hl_d_log(b));
}
