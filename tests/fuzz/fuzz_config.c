/*
 * fuzz_config.c - libFuzzer target for the configuration loader (config.c).
 *
 * Each input is treated as the text of a configuration file: it is parsed
 * with hl_config_load_string() and validated exactly as hotlined --check
 * would.  The target checks the loader's own promises on every input:
 *   - it returns 0 or -1 and nothing else;
 *   - on -1 the message is non-empty, starts with "fuzz.conf:" (FILE:LINE:)
 *     and has no control characters (values are echoed sanitized);
 *   - on 0 the struct is consistent (a listener, policies that match on
 *     something, calendars that resolve by name) and frees cleanly;
 *   - nothing leaks (ASan/LSan) on either path.
 *
 * Inputs that use @include are skipped: libconfig would open arbitrary files
 * (/dev/zero ...), which tests the file system, not the loader.
 *
 * Build and run (from the repository root):
 *   clang -std=c17 -D_GNU_SOURCE -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined \
 *     tests/fuzz/fuzz_config.c daemon/config*.c daemon/roles.c daemon/util.c daemon/calendar.c daemon/tz.c \
 *     $(pkg-config --cflags --libs libconfig json-c) -lm -o build/fuzz_config
 *   (or `make fuzz-build`)
 *   build/fuzz_config -max_total_time=60 -max_len=4096 tests/fuzz/corpus/config
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static bool mentions_include(const uint8_t *data, size_t size)
{
	static const char word[] = "include";
	for (size_t i = 0; i + sizeof word - 1 <= size; i++) {
		size_t j = 0;
		while (j < sizeof word - 1 && (data[i + j] | 0x20) == word[j])
			j++;
		if (j == sizeof word - 1)
			return true;
	}
	return false;
}

static void check_loaded(const struct hl_config *cfg)
{
	if (!cfg->listen.tcp && !cfg->listen.unix_path)
		abort();
	if (!cfg->database.conninfo || !cfg->database.conninfo[0])
		abort();
	if (cfg->listen.max_line < 64 || cfg->sla.warn_at < 0 || cfg->sla.warn_at >= 1)
		abort();
	for (size_t i = 0; i < cfg->n_policies; i++) {
		const struct hl_policy *p = &cfg->policies[i];
		if (!p->category && !p->priority)
			abort();
		if (p->calendar[0] && !hl_config_calendar(cfg, p->calendar))
			abort();
		/* the policy itself or an earlier one must match its own keys */
		const struct hl_policy *m = hl_config_policy(cfg, p->category, p->priority);
		if (m == &cfg->sla || m > p)
			abort();
		if (hl_config_policy_by_name(cfg, p->name) != p)
			abort();
	}
	for (size_t i = 0; i < cfg->n_calendars; i++)
		if (hl_config_calendar(cfg, cfg->calendars[i].name) != &cfg->calendars[i] || !cfg->calendars[i].zone)
			abort();
	if (hl_config_restart_key(cfg, cfg) != NULL)
		abort();
}

/*
 * libconfig 1.5's scanner leaks its string buffer when a parse error
 * interrupts a string (strbuf_append / libconfig_yylex): libconfig's bug, not
 * the loader's.  Only allocations made inside libconfig.so are suppressed;
 * everything config.c allocates is still checked.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536 || mentions_include(data, size))
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct hl_config cfg;
	char err[512];
	int rc = hl_config_load_string(text, "fuzz.conf", NULL, &cfg, err, sizeof err);
	if (rc == 0) {
		check_loaded(&cfg);
		hl_config_free(&cfg);
	} else if (rc == -1) {
		if (strncmp(err, "fuzz.conf:", 10) != 0)
			abort();
		for (const char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20)
				abort();
	} else {
		abort();
	}
	free(text);
	return 0;
}
