/*
 * clocks_helpers.h - what test_clocks.c and test_clocks_rules.c (suite
 * `clocks`) share: events with explicit `at` values (hl_ev from the harness, offer, call_ev,
 * case_ev), the clock and alert rows (clock_state, expect_clock, clock_ms,
 * n_alerts, expect_status), the figures' rollup against their recount
 * (expect_rollup_is_recount) and the on-time checks of pushes and rows
 * (LATE_MS, expect_on_time, expect_row_on_time).  Static inline: each file
 * that includes this one uses only some.
 */
#ifndef HL_E2E_CLOCKS_HELPERS_H
#define HL_E2E_CLOCKS_HELPERS_H

#include "harness.h"
#include "figures_helpers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* an alert must be raised within 1 s of its due time; pushes get 0.5 s more */
#define LATE_MS 1500

/* ---------------------------------------------------------------- helpers */

/* RFC 3339 UTC with milliseconds (ring buffer, valid for 32 calls). */
/* `,"at":"..."` for an event, or "" for ms == 0 (time of receipt). */
static inline const char *at_field(int64_t ms)
{
	static char ring[32][64];
	static unsigned n;
	char *s = ring[n++ % 32];
	if (ms == 0)
		return "";
	snprintf(s, sizeof ring[0], ",\"at\":\"%s\"", hl_iso_ms(ms));
	return s;
}

static inline int64_t offer(struct hl_conn *c, const char *call_id, const char *caller, int64_t at)
{
	return hl_ev(c, "\"type\":\"call.offered\",\"call_id\":\"%s\",\"caller\":\"%s\"%s", call_id, caller, at_field(at));
}

static inline int64_t call_ev(struct hl_conn *c, const char *type, const char *call_id, const char *extra, int64_t at)
{
	return hl_ev(c, "\"type\":\"%s\",\"call_id\":\"%s\"%s%s", type, call_id, extra, at_field(at));
}

/* A case event; extra is "" or starts with a comma. */
static inline void case_ev(struct hl_conn *c, const char *type, int64_t case_id, const char *extra, int64_t at)
{
	int64_t got = hl_ev(c, "\"type\":\"%s\",\"case_id\":%lld%s%s", type, (long long)case_id, extra, at_field(at));
	cr_assert_eq(got, case_id, "%s answered case %lld, not %lld", type, (long long)got, (long long)case_id);
}

/* --- SQL */

static inline char *clock_state(struct hl_d *d, int64_t case_id, const char *kind)
{
	return hl_sql_text(d, "SELECT state FROM hotline.clocks WHERE case_id = %lld AND kind = '%s'",
	                   (long long)case_id, kind);
}

static inline void expect_clock(struct hl_d *d, int64_t case_id, const char *kind, const char *state)
{
	char *s = clock_state(d, case_id, kind);
	cr_assert(s && strcmp(s, state) == 0, "clock %s of case %lld: expected %s, got %s", kind,
	          (long long)case_id, state, s ? s : "(no row)");
}

/* A timestamp column of a clock in ms since the epoch. */
static inline int64_t clock_ms(struct hl_d *d, int64_t case_id, const char *kind, const char *col)
{
	return hl_sql_int(d, "SELECT hotline.ms(%s) FROM hotline.clocks WHERE case_id = %lld AND kind = '%s'", col,
	                  (long long)case_id, kind);
}

static inline int64_t n_alerts(struct hl_d *d, const char *kind, int64_t case_id)
{
	return hl_sql_int(d, "SELECT count(*) FROM hotline.alerts WHERE kind = '%s' AND case_id = %lld", kind,
	                  (long long)case_id);
}

static inline void expect_status(struct hl_d *d, int64_t case_id, const char *status)
{
	char *s = hl_sql_text(d, "SELECT status FROM hotline.cases WHERE id = %lld", (long long)case_id);
	cr_assert(s && strcmp(s, status) == 0, "case %lld: expected %s, got %s", (long long)case_id, status,
	          s ? s : "(no row)");
}

/* --- figures */

/* The rollup the daemon keeps batch by batch (daily_figures) equals the
 * recount from the base rows (figure_facts), cell by cell: "same", or the
 * cells that differ (figures_helpers.h). */
static inline void expect_rollup_is_recount(struct hl_d *d)
{
	char *got = hl_sql_text(d, "%s", HL_ROLLUP_DIFF);
	cr_expect(got && strcmp(got, "same") == 0, "rollup and recount differ: %s", got ? got : "(null)");
}

/* --- pushes */

/* The push must exist and have arrived from its due time to LATE_MS after. */
static inline void expect_on_time(const struct hl_push *p, const char *what, int64_t case_id, int64_t due)
{
	cr_assert(p, "%s of case %lld: not pushed", what, (long long)case_id);
	cr_expect_geq(p->t_ms, due - 50, "%s of case %lld pushed %lld ms before due", what, (long long)case_id,
	              (long long)(due - p->t_ms));
	cr_expect_leq(p->t_ms, due + LATE_MS, "%s of case %lld pushed %lld ms after due", what, (long long)case_id,
	              (long long)(p->t_ms - due));
}

/* The alert row: raised from the due time to 1 s after (the daemon's own clock). */
static inline void expect_row_on_time(struct hl_d *d, const char *kind, int64_t case_id, int64_t due)
{
	cr_assert_eq(n_alerts(d, kind, case_id), 1, "case %lld: one %s row", (long long)case_id, kind);
	int64_t raised = hl_sql_int(d, "SELECT hotline.ms(raised_at) FROM hotline.alerts WHERE kind = '%s'"
	                               " AND case_id = %lld", kind, (long long)case_id);
	cr_expect(raised >= due && raised <= due + 1000, "case %lld: %s raised %+lld ms from its due time",
	          (long long)case_id, kind, (long long)(raised - due));
}

#endif
