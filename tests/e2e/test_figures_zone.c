/*
 * test_figures_zone.c - the figures read over HTTP never recount the history
 * on the store's connection (sql/083_figures_stale_zone.sql).
 *
 * hotline.figure_cells recounts every day of the history when the rollup
 * was counted in another zone than the session's report zone: what happens
 * after report.timezone changes and the daemon restarts without --migrate.
 * /v1/figures and the board's figures ran that recount in the store's
 * pipeline, holding every event behind it.  Here the rollup's recorded zone
 * is moved under a running daemon (the state a changed report.timezone
 * leaves for a new store session); the figures must be refused with a
 * message naming --migrate, the board must still answer, and events must
 * still be taken.  The recount itself is `hotlined --migrate`'s.
 */
#include "harness.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_client.h"

TestSuite(figures_zone, .init = hl_e2e_init, .fini = http_fini, .timeout = 60);

HL_TEST(figures_zone, figures_counted_in_another_zone_are_refused_not_recounted)
{
	struct hl_d *d = up(NULL, NULL, NULL);
	struct hres *r = post_events(
		"{\"type\":\"call.offered\",\"id\":\"z1\",\"call_id\":\"z1\",\"caller\":\"+8613800000011\",\"at\":\"2026-03-02T09:00:00Z\"}\n");
	cr_assert_eq(r->status, 200);
	r = http("GET", "/v1/figures?day=2026-03-02", VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);

	char *zone = hl_sql_text(d, "SELECT zone FROM hotline.figure_rollup_state");
	cr_assert(zone, "the rollup has a zone after --migrate");
	const char *other = strcmp(zone, "Pacific/Auckland") == 0 ? "America/Lima" : "Pacific/Auckland";
	hl_sql(d, "UPDATE hotline.figure_rollup_state SET zone = '%s'", other);

	r = http("GET", "/v1/figures?day=2026-03-03", VIEW, NULL);
	cr_assert_eq(r->status, 503, "figures counted in another zone answered %d: %s", r->status, r->body);
	json_object *o = jbody(r);
	cr_assert_str_eq(hl_jstr(o, "error.code"), "figures_stale", "%s", r->body);
	cr_assert(strstr(hl_jstr(o, "error.message"), "--migrate"), "%s", r->body);
	cr_assert(strstr(hl_jstr(o, "error.message"), other), "the message names the rollup's zone: %s", r->body);
	json_object_put(o);

	/* the board still answers, its figures say why they are missing */
	r = http("GET", "/v1/board", VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	o = jbody(r);
	cr_assert(json_object_is_type(hl_jget(o, "overdue_callbacks"), json_type_array), "%s", r->body);
	cr_assert_str_eq(hl_jstr(o, "figures.error.code"), "figures_stale", "%s", r->body);
	json_object_put(o);

	/* and events are taken meanwhile */
	r = post_events(
		"{\"type\":\"call.offered\",\"id\":\"z2\",\"call_id\":\"z2\",\"caller\":\"+8613800000012\",\"at\":\"2026-03-02T09:01:00Z\"}\n");
	cr_assert_eq(r->status, 200);
	cr_assert(strstr(r->body, "\"ok\":true"), "%s", r->body);

	/* what --migrate does (rebuild_figure_rollup_if_stale): recounted, served again */
	hl_sql(d, "UPDATE hotline.figure_rollup_state SET zone = '%s'", zone);
	r = http("GET", "/v1/figures?day=2026-03-04", VIEW, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
}
