/*
 * pbx_fixtures.h - what the hotline-pbx unit tests (test_pbx.c,
 * test_pbx_visits.c) share: the events a mapper emitted, collected in
 * order (got, n_got, collect), and the options of a Chinese hotline's
 * bridge (opts: prefix "a1:", country 86, 11-digit national numbers).
 * Each test binary includes it once.
 */
#ifndef HL_TEST_PBX_FIXTURES_H
#define HL_TEST_PBX_FIXTURES_H

#include <criterion/criterion.h>
#include <stdio.h>

#include "pbx.h"

static struct pbx_event got[64];
static int n_got;

static void collect(void *ctx, const struct pbx_event *ev)
{
	(void)ctx;
	cr_assert_lt(n_got, 64);
	got[n_got++] = *ev;
}

static struct pbx_opts opts(void)
{
	struct pbx_opts o;
	pbx_opts_defaults(&o);
	snprintf(o.id_prefix, sizeof o.id_prefix, "a1:");
	snprintf(o.country_code, sizeof o.country_code, "86");
	o.national_length = 11;
	return o;
}

#endif
