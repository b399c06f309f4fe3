/*
 * config_fixtures.h - what the test_config_*.c files share: CONF() names a
 * fixture in tests/unit/conf/, BASE is the smallest valid configuration,
 * err holds the last message; load_fail() / EXPECT_FILE() load a fixture
 * that must fail (and must leave the caller's config untouched),
 * str_fail() / EXPECT_STR() the same for inline text loaded with
 * hl_config_load_string(), str_ok() inline text that must load.
 *
 * Fixtures are named relative to the repository root, which is where
 * `make unit` runs the tests.
 *
 * A header rather than a .c so that each test binary stays one source file
 * (the Makefile's unit_% rule); the functions are static inline because
 * each test file uses only some of them.
 */
#ifndef HL_UNIT_CONFIG_FIXTURES_H
#define HL_UNIT_CONFIG_FIXTURES_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

#define CONF(x) "tests/unit/conf/" x
#define BASE "database = { conninfo = \"dbname=x\"; };\n"

static char err[1024];

/* Load a fixture that must fail; returns the message. */
static inline const char *load_fail(const char *path)
{
	struct hl_config cfg;
	memset(&cfg, 0x5a, sizeof cfg); /* must stay untouched */
	err[0] = '\0';
	cr_assert_eq(hl_config_load(path, &cfg, err, sizeof err), -1, "%s loaded", path);
	unsigned char *b = (unsigned char *)&cfg;
	for (size_t i = 0; i < sizeof cfg; i++)
		cr_assert_eq(b[i], 0x5a, "cfg was written on error");
	return err;
}

static inline const char *str_fail(const char *text)
{
	struct hl_config cfg;
	memset(&cfg, 0, sizeof cfg);
	err[0] = '\0';
	int rc = hl_config_load_string(text, "t.conf", NULL, &cfg, err, sizeof err);
	if (rc == 0)
		hl_config_free(&cfg);
	cr_assert_eq(rc, -1, "loaded: %s", text);
	return err;
}

static inline void str_ok(const char *text, struct hl_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	err[0] = '\0';
	cr_assert_eq(hl_config_load_string(text, "t.conf", NULL, cfg, err, sizeof err), 0, "%s -> %s", text, err);
}

#define EXPECT_FILE(path, msg) cr_assert_str_eq(load_fail(path), msg)
#define EXPECT_STR(text, msg) cr_assert_str_eq(str_fail(text), msg)

#endif
