/*
 * fuzz_protocol.c - libFuzzer target for the request parser and the helpers
 * it uses.
 *
 * Build and run (seed corpus in tests/fuzz/corpus/protocol):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c17 -D_GNU_SOURCE -Iinclude \
 *     tests/fuzz/fuzz_protocol.c daemon/protocol.c daemon/protocol_scan.c \
 *     daemon/protocol_reply.c daemon/util.c \
 *     $(pkg-config --cflags --libs json-c) -o /tmp/fz
 *   /tmp/fz -max_total_time=60 tests/fuzz/corpus/protocol
 *
 * Besides "no crash, no leak, no UB" it checks invariants and aborts when
 * one breaks:
 *   - an accepted request has an id, a known type, and ev->line equal to the
 *     input (minus one trailing '\r') with no NUL byte in it;
 *   - a rejected request has no line and a non-empty message;
 *   - every reply built from the outcome is exactly one line;
 *   - the input as a C string, when hl_parse_time accepts it, formats and
 *     parses back to the same instant (years 0000..9999);
 *   - hl_phone_normalize output is idempotent and masks to the same length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_one_line(char *reply)
{
	check(reply != NULL);
	size_t len = strlen(reply);
	check(len > 0 && reply[len - 1] == '\n');
	check(memchr(reply, '\n', len - 1) == NULL);
	free(reply);
}

static void fuzz_request(const uint8_t *data, size_t size)
{
	struct hl_event ev;
	struct hl_error err;
	/* a realistic time of receipt, so that `at` values of today are accepted and their checks reached */
	const int64_t now = INT64_C(1795137300000); /* 2026-11-20T01:15:00Z */
	enum hl_err rc = hl_parse_request((const char *)data, size, now, &ev, &err);
	check(err.code == rc);
	if (rc == HL_OK) {
		size_t want = size;
		if (want > 0 && data[want - 1] == '\r')
			want--;
		check(ev.id[0] != '\0');
		check(ev.type > HL_T_NONE && ev.type < HL_T__COUNT);
		check(ev.line != NULL && ev.line_len == want);
		check(memcmp(ev.line, data, want) == 0);
		check(memchr(ev.line, '\0', want) == NULL);
		check(ev.received == now);
		check(ev.at_given || ev.at == now);
		check(!ev.at_given || (ev.at >= INT64_C(315532800000) && ev.at <= now + 86400000)); /* the documented range */
		check_one_line(hl_reply_case(ev.id, 1, false));
	} else {
		check(ev.line == NULL);
		check(err.message[0] != '\0');
		check_one_line(hl_reply_error(ev.id[0] ? ev.id : NULL, rc, err.message));
	}
	hl_event_free(&ev);
	hl_event_free(&ev);
}

static void fuzz_helpers(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';

	hl_ms t;
	if (hl_parse_time(s, &t) == 0) {
		char buf[64];
		hl_ms back;
		check(hl_format_time(t, buf, sizeof buf) > 0);
		if (buf[0] != '-' && strlen(buf) == 24) /* years 0000..9999 */
			check(hl_parse_time(buf, &back) == 0 && back == t);
	}

	char phone[HL_PHONE_MAX], again[HL_PHONE_MAX], masked[HL_PHONE_MAX];
	if (hl_phone_normalize(s, phone, sizeof phone) == 0) {
		check(hl_phone_normalize(phone, again, sizeof again) == 0 && strcmp(phone, again) == 0);
		hl_phone_mask(phone, masked, sizeof masked);
		check(strlen(masked) == strlen(phone));
	}
	/* under country plans (issue 16, item 11): stable, and E.164 or short */
	static const struct hl_phone_plan plans[] = {{"86", "0", "00"}, {"1", "1", "011"}, {"39", "", "00"}};
	for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++) {
		if (hl_phone_e164(s, &plans[i], phone, sizeof phone) != 0)
			continue;
		check(hl_phone_e164(phone, &plans[i], again, sizeof again) == 0 && strcmp(phone, again) == 0);
		/* short, maybe after the trunk prefix */
		check(phone[0] == '+' || strlen(phone) <= 6 + strlen(plans[i].trunk_prefix));
	}

	int64_t secs;
	if (hl_parse_duration(s, &secs) == 0)
		check(secs >= 0 && secs <= INT64_MAX / 1000);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request(data, size);
	fuzz_helpers(data, size);
	return 0;
}
