/*
 * protocol_fixtures.h - what the test_protocol_*.c files share: parse() and
 * parse_n() call hl_parse_request at a fixed NOW; expect_err() / BAD()
 * check that a line fails with an exact code and message and leaves
 * nothing allocated; expect_bad_json() / BAD_JSON() check a bad_json;
 * expect_ok() parses a valid line (the caller frees).
 *
 * A header rather than a .c so that each test binary stays one source file
 * (the Makefile's unit_% rule); the functions are static inline because
 * each test file uses only some of them.
 */
#ifndef HL_UNIT_PROTOCOL_FIXTURES_H
#define HL_UNIT_PROTOCOL_FIXTURES_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define NOW INT64_C(1795137300000) /* 2026-11-20T01:15:00Z */

static inline enum hl_err parse_n(const char *line, size_t len, struct hl_event *ev, struct hl_error *err)
{
	return hl_parse_request(line, len, NOW, ev, err);
}

static inline enum hl_err parse(const char *line, struct hl_event *ev, struct hl_error *err)
{
	return parse_n(line, strlen(line), ev, err);
}

/* The line must fail with this code and exact message; ev->id as given ("" = none). */
static inline void expect_err(const char *line, enum hl_err code, const char *msg, const char *id)
{
	struct hl_event ev;
	struct hl_error err;
	enum hl_err rc = parse(line, &ev, &err);
	cr_assert_eq(rc, code, "%s: got %s (%s), want %s", line, hl_err_code(rc), err.message, hl_err_code(code));
	cr_assert_eq(err.code, code);
	if (msg)
		cr_assert_str_eq(err.message, msg, "%s", line);
	cr_assert_str_eq(ev.id, id, "%s", line);
	cr_assert_null(ev.line);
	cr_assert_null(ev.call_id);
	cr_assert_null(ev.note);
	hl_event_free(&ev);
}

static inline void expect_bad_json(const char *line, size_t len)
{
	struct hl_event ev;
	struct hl_error err;
	enum hl_err rc = parse_n(line, len, &ev, &err);
	cr_assert_eq(rc, HL_E_BAD_JSON, "%.*s: got %s (%s)", (int)len, line, hl_err_code(rc), err.message);
	cr_assert_eq(strncmp(err.message, "invalid JSON", 12), 0, "%s", err.message);
	cr_assert_str_eq(ev.id, "");
	cr_assert_null(ev.line);
	hl_event_free(&ev);
}

#define BAD_JSON(s) expect_bad_json(s, sizeof(s) - 1)
#define BAD(line, msg) expect_err(line, HL_E_BAD_REQUEST, msg, "r1")

/* Parse a valid line; the caller frees. */
static inline void expect_ok(const char *line, struct hl_event *ev)
{
	struct hl_error err;
	enum hl_err rc = parse(line, ev, &err);
	cr_assert_eq(rc, HL_OK, "%s: got %s (%s)", line, hl_err_code(rc), err.message);
	cr_assert_eq(err.code, HL_OK);
	cr_assert_not_null(ev->line);
}

#endif
