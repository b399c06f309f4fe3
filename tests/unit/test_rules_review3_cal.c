/*
 * test_rules_review3_cal.c - review-rules3's late contacts and holds on
 * business calendars: a contact dated during or before a hold, delivered
 * after its resume, must leave the update clock exactly where the same
 * events in the order of `at` leave it, across a national holiday with a
 * make-up working day (Asia/Shanghai) and across the end of summer time
 * (Europe/Berlin).  Each scenario is applied in order and out of order and
 * the two clocks compared, so the test holds for any correct calendar.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "rules.h"

static const char *const CONF_FMT =
	"database = { conninfo = \"dbname=x\"; };\n"
	"calendars = ( { name = \"office\"; timezone = \"%s\";\n"
	"  hours = { mon = \"09:00-17:00\"; tue = \"09:00-17:00\"; wed = \"09:00-17:00\";\n"
	"            thu = \"09:00-17:00\"; fri = \"09:00-17:00\"; };\n"
	"  holidays = [ \"2026-10-01..2026-10-07\" ]; workdays = [ \"2026-09-27\", \"2026-10-10\" ]; } );\n"
	"sla = { callback = \"30m\"; update = \"%s\"; resolution = \"13wd\"; calendar = \"office\"; };\n";

struct run {
	struct hl_world *w;
	struct hl_config cfg;
	struct hl_rules_env env;
	struct hl_event ev[8];
	int n;
};

static hl_ms T(const char *iso)
{
	hl_ms t;
	cr_assert_eq(hl_parse_time(iso, &t), 0, "%s", iso);
	return t;
}

static void start(struct run *r, const char *zone, const char *update)
{
	memset(r, 0, sizeof *r);
	char conf[1024], err[512];
	snprintf(conf, sizeof conf, CONF_FMT, zone, update);
	cr_assert_eq(hl_config_load_string(conf, "t.conf", NULL, &r->cfg, err, sizeof err), 0, "%s", err);
	r->w = hl_world_new();
	r->env.cfg = &r->cfg;
	int64_t id = 100;
	hl_world_add_free_ids(r->w, &id, 1);
}

static void event(struct run *r, enum hl_type t, const char *iso)
{
	struct hl_event *e = &r->ev[r->n];
	memset(e, 0, sizeof *e);
	e->type = t;
	snprintf(e->id, sizeof e->id, "e%d-%d", (int)t, r->n);
	e->at = e->received = T(iso);
	e->at_given = true;
	e->caller_informed = e->confidential = -1;
	if (t == HL_EV_CALL_OFFERED) {
		e->call_id = "c-1";
		snprintf(e->caller, sizeof e->caller, "+8613800000001");
	} else {
		e->case_id = 100;
	}
	if (t == HL_EV_CASE_UPDATE)
		e->caller_informed = 1;
	r->n++;
	r->env.now = e->at;
	struct hl_outcome out;
	hl_rules_apply(r->w, &r->env, e, &out);
	cr_assert_eq(out.err, HL_OK, "%s", out.message);
}

static void stop(struct run *r)
{
	hl_world_free(r->w);
	hl_config_free(&r->cfg);
}

/* opened, held, resumed, and a contact at `contact`: in order and with the
 * contact delivered last; the update clocks must agree */
static void compare(const char *zone, const char *update, const char *open, const char *hold, const char *resume,
                    const char *contact, const char *want_due)
{
	struct run a, b;
	start(&a, zone, update);
	start(&b, zone, update);
	event(&a, HL_EV_CALL_OFFERED, open);
	event(&b, HL_EV_CALL_OFFERED, open);
	bool before = T(contact) < T(hold);
	if (before)
		event(&a, HL_EV_CASE_UPDATE, contact);
	event(&a, HL_EV_CASE_HOLD, hold);
	if (!before)
		event(&a, HL_EV_CASE_UPDATE, contact);
	event(&a, HL_EV_CASE_RESUME, resume);
	event(&b, HL_EV_CASE_HOLD, hold);
	event(&b, HL_EV_CASE_RESUME, resume);
	event(&b, HL_EV_CASE_UPDATE, contact); /* delivered after the resume */
	const struct hl_clock *ka = &hl_world_case(a.w, 100)->clocks[HL_CK_UPDATE];
	const struct hl_clock *kb = &hl_world_case(b.w, 100)->clocks[HL_CK_UPDATE];
	cr_assert_eq(ka->state, HL_CS_PENDING);
	cr_assert_eq(kb->state, HL_CS_PENDING);
	cr_assert_eq(kb->due_at, ka->due_at, "%s %s: late %lld, in order %lld", zone, contact, (long long)kb->due_at,
	             (long long)ka->due_at);
	cr_assert_eq(kb->warn_at, ka->warn_at);
	cr_assert_eq(ka->due_at, T(want_due), "%s %s: due %lld", zone, contact, (long long)ka->due_at);
	stop(&a);
	stop(&b);
}

/* On hold over the national holiday: the contact during the hold gets its
 * whole 4 office hours from the resume; the one before it the 3h40m left. */
Test(review3_cal, late_contact_across_a_holiday_and_a_makeup_day)
{
	compare("Asia/Shanghai", "4h", "2026-09-30T15:00:00+08:00", "2026-09-30T16:30:00+08:00",
	        "2026-10-08T10:00:00+08:00", "2026-09-30T16:45:00+08:00", "2026-10-08T14:00:00+08:00");
	compare("Asia/Shanghai", "4h", "2026-09-30T15:00:00+08:00", "2026-09-30T16:30:00+08:00",
	        "2026-10-08T10:00:00+08:00", "2026-09-30T16:10:00+08:00", "2026-10-08T13:40:00+08:00");
	/* resumed on Friday afternoon: the rest runs on the make-up Saturday */
	compare("Asia/Shanghai", "4h", "2026-09-30T15:00:00+08:00", "2026-09-30T16:30:00+08:00",
	        "2026-10-09T15:00:00+08:00", "2026-10-09T09:30:00+08:00", "2026-10-10T11:00:00+08:00");
	/* a working-day span: its allowance is the open time from the contact to
	 * the next working day's close (15m + 8h), run from the resume */
	compare("Asia/Shanghai", "1wd", "2026-09-30T15:00:00+08:00", "2026-09-30T16:30:00+08:00",
	        "2026-10-08T10:00:00+08:00", "2026-09-30T16:45:00+08:00", "2026-10-09T10:15:00+08:00");
}

/* On hold over the weekend summer time ends (Berlin, 2026-10-25 03:00 ->
 * 02:00): office hours are local, so the 25-hour Sunday changes nothing. */
Test(review3_cal, late_contact_across_the_end_of_summer_time)
{
	compare("Europe/Berlin", "4h", "2026-10-23T13:00:00+02:00", "2026-10-23T16:00:00+02:00",
	        "2026-10-26T10:00:00+01:00", "2026-10-23T16:30:00+02:00", "2026-10-26T14:00:00+01:00");
	compare("Europe/Berlin", "4h", "2026-10-23T13:00:00+02:00", "2026-10-23T16:00:00+02:00",
	        "2026-10-26T10:00:00+01:00", "2026-10-23T15:00:00+02:00", "2026-10-26T13:00:00+01:00");
}
