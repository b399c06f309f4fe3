/*
 * orders_fixtures.h - the fixture of the work-order unit tests
 * (test_orders.c, test_orders_lifecycle.c): a world and a configuration
 * loaded from text as the daemon loads it, events built and applied.
 *
 * The calendar is Asia/Shanghai, Mon-Fri 09:00-17:00, with the 2026
 * National Day holiday Oct 1-7 and the make-up working days Sun Sep 27 and
 * Sat Oct 10.
 */
#ifndef HL_TEST_ORDERS_FIXTURES_H
#define HL_TEST_ORDERS_FIXTURES_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hotspot.h"
#include "orders.h"
#include "rules.h"

#define SEC 1000LL
#define HOUR (3600 * SEC)
#define P1 "+8613800000001"

static const char *const CONF =
	"database = { conninfo = \"dbname=x\"; };\n"
	"calendars = ( { name = \"office\"; timezone = \"Asia/Shanghai\";\n"
	"  hours = { mon = \"09:00-17:00\"; tue = \"09:00-17:00\"; wed = \"09:00-17:00\";\n"
	"            thu = \"09:00-17:00\"; fri = \"09:00-17:00\"; };\n"
	"  holidays = [ \"2026-10-01..2026-10-07\" ]; workdays = [ \"2026-09-27\", \"2026-10-10\" ]; } );\n"
	"sla = { callback = \"30m\"; update = \"0\"; resolution = \"13wd\"; calendar = \"office\";\n"
	"        policies = ( { category = \"complaint\"; reply = \"13wd\"; sign = \"1h\"; } ); };\n"
	"orders = { sign = \"2h\"; reply = \"3wd\"; redispatch = \"2h\"; urge_after = \"1wd\"; };\n"
	"escalation = { after = \"15m\"; max_level = 3; };\n"
	"hotspot = { window = \"1h\"; threshold = 2; };\n";

struct fx {
	struct hl_world *w;
	struct hl_config cfg;
	struct hl_rules_env env;
	struct hl_event pool[256];
	size_t n;
	struct hl_outcome out;
};

static inline hl_ms T(const char *iso)
{
	hl_ms t;
	cr_assert_eq(hl_parse_time(iso, &t), 0, "%s", iso);
	return t;
}

static inline struct fx *fx_new(const char *conf)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[512];
	cr_assert_eq(hl_config_load_string(conf, "t.conf", NULL, &f->cfg, err, sizeof err), 0, "%s", err);
	f->w = hl_world_new();
	f->env.cfg = &f->cfg;
	int64_t ids[20];
	for (int i = 0; i < 20; i++)
		ids[i] = 100 + i;
	hl_world_add_free_ids(f->w, ids, 20);
	return f;
}

static inline void fx_free(struct fx *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->pool[i].call_id);
	hl_world_free(f->w);
	hl_config_free(&f->cfg);
	free(f);
}

static inline struct hl_event *E(struct fx *f, enum hl_type t, hl_ms at)
{
	cr_assert_lt(f->n, 256);
	struct hl_event *e = &f->pool[f->n++];
	memset(e, 0, sizeof *e);
	e->type = t;
	snprintf(e->id, sizeof e->id, "e%zu", f->n);
	e->at = e->received = at;
	e->at_given = true;
	e->caller_informed = e->confidential = -1;
	return e;
}

static inline struct hl_outcome *apply(struct fx *f, struct hl_event *e)
{
	f->env.now = e->at;
	hl_rules_apply(f->w, &f->env, e, &f->out);
	return &f->out;
}

static inline void ok(const struct hl_outcome *o)
{
	cr_assert_eq(o->err, HL_OK, "error %d: %s", o->err, o->message);
}

static inline void bad(const struct hl_outcome *o, enum hl_err e, const char *needle)
{
	cr_assert_eq(o->err, e, "want %d got %d: %s", e, o->err, o->message);
	cr_assert(strstr(o->message, needle), "'%s' lacks '%s'", o->message, needle);
}

static inline int64_t open_case(struct fx *f, const char *caller, hl_ms at)
{
	struct hl_event *e = E(f, HL_EV_CALL_OFFERED, at);
	char *cid = malloc(16);
	snprintf(cid, 16, "c%zu", f->n);
	e->call_id = cid;
	snprintf(e->caller, sizeof e->caller, "%s", caller);
	ok(apply(f, e));
	return f->out.case_id;
}

static inline struct hl_outcome *dispatch(struct fx *f, int64_t case_id, const char *oid, const char *dept, hl_ms at)
{
	struct hl_event *e = E(f, HL_EV_ORDER_DISPATCH, at);
	e->case_id = case_id;
	e->order_id = (char *)oid;
	e->department = (char *)dept;
	return apply(f, e);
}

static inline struct hl_outcome *order_ev(struct fx *f, enum hl_type t, const char *oid, hl_ms at)
{
	struct hl_event *e = E(f, t, at);
	e->order_id = (char *)oid;
	if (t == HL_EV_ORDER_RETURN || t == HL_EV_ORDER_EXTEND)
		e->reason = "r";
	if (t == HL_EV_ORDER_EXTEND)
		e->by = "2wd";
	if (t == HL_EV_ORDER_REPLY)
		e->result = "resolved";
	return apply(f, e);
}

static inline struct hl_alert *alert_of(struct fx *f, const char *kind)
{
	for (size_t i = 0; i < f->w->n_alerts; i++)
		if (strcmp(f->w->alerts[i]->kind, kind) == 0)
			return f->w->alerts[i];
	return NULL;
}

#endif
