/*
 * fuzz_pbx.c - libFuzzer target for hotline-pbx's pure core: what a PBX
 * writes (a queue_log, AMI messages) and what the bridge reads back after a
 * restart (its state lines) are input nobody vetted, read by a process that
 * must not die on them.
 *
 * The first byte chooses what the rest is:
 *   0: queue_log lines, fed to the queue_log mapper one by one;
 *   1: AMI messages separated by an empty line, fed to the AMI mapper with a
 *      clock that moves 700 ms per message and ticks (the leave grace);
 *   2: state lines, given to pbx_ql_restore, then queue_log lines after
 *      the first line that is exactly "--";
 * and (first byte / 3) odd: names are decoded with charset = "GB18030".
 * On every event emitted the target checks the mapper's promises: id and
 * call_id non-empty and at most HL_ID_MAX bytes, a known kind, and a JSON
 * request line that json-c parses back to an object whose "id" is the
 * event's id and which ends in one newline.  After a queue_log, the
 * mapper's memory round-trips: restored into a new mapper, it is saved as
 * the same text.  ASan/UBSan/LSan watch the rest.
 *
 * Build and run (from the repository root):
 *   clang -std=c17 -D_GNU_SOURCE -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined \
 *     tests/fuzz/fuzz_pbx.c pbx/pbx_event.c pbx/queue_log.c pbx/ql_split.c pbx/ql_legs.c pbx/ql_time.c pbx/ami_map.c pbx/ami_parse.c pbx/visits.c pbx/charset.c daemon/util.c \
 *     $(pkg-config --cflags --libs json-c) -o build/fuzz/fuzz_pbx
 *   (or `make fuzz-build`)
 *   build/fuzz/fuzz_pbx -max_total_time=60 -max_len=8192 tests/fuzz/corpus/pbx
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx.h"

#define check(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

static void on_event(void *ctx, const struct pbx_event *ev)
{
	(void)ctx;
	size_t id = strlen(ev->id), call = strlen(ev->call_id);
	check(id > 0 && id <= HL_ID_MAX && call > 0 && call <= HL_ID_MAX);
	check(ev->kind >= PBX_OFFERED && ev->kind <= PBX_ENDED);
	char *line = pbx_event_json(ev, ev->synthesized);
	check(line);
	size_t n = strlen(line);
	check(n > 1 && line[n - 1] == '\n' && !memchr(line, '\n', n - 1));
	json_object *o = json_tokener_parse(line);
	check(o && json_object_is_type(o, json_type_object));
	json_object *v;
	check(json_object_object_get_ex(o, "id", &v) && strcmp(json_object_get_string(v), ev->id) == 0);
	json_object_put(o);
	free(line);
}

static const char *charset = ""; /* this input's pbx.charset */

static struct pbx_opts options(void)
{
	struct pbx_opts o;
	pbx_opts_defaults(&o);
	snprintf(o.charset, sizeof o.charset, "%s", charset);
	snprintf(o.country_code, sizeof o.country_code, "86");
	o.national_length = 11;
	return o;
}

/* Lines of [p, end) to fn (without the newline). */
static const char *lines(const char *p, const char *end, struct pbx_ql *m, bool state)
{
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t len = (size_t)(e - p);
		if (state) {
			if (len == 2 && memcmp(p, "--", 2) == 0)
				return nl ? nl + 1 : end;
			char *s = strndup(p, len);
			check(s);
			pbx_ql_restore(m, s);
			free(s);
		} else {
			pbx_ql_line(m, p, len, on_event, NULL, NULL, 0);
		}
		p = nl ? nl + 1 : end;
	}
	return end;
}

static void queue_log(const char *p, const char *end, bool with_state)
{
	struct pbx_opts o = options();
	struct pbx_ql *m = pbx_ql_new(&o);
	if (with_state)
		p = lines(p, end, m, true);
	lines(p, end, m, false);
	/* the memory round-trips */
	char *saved = pbx_ql_state(m);
	check(saved);
	struct pbx_ql *again = pbx_ql_new(&o);
	char *copy = strdup(saved);
	check(copy);
	for (char *l = strtok(copy, "\n"); l; l = strtok(NULL, "\n"))
		check(pbx_ql_restore(again, l));
	char *resaved = pbx_ql_state(again);
	check(resaved && strcmp(saved, resaved) == 0);
	free(copy);
	free(saved);
	free(resaved);
	pbx_ql_free(again);
	pbx_ql_free(m);
}

static void ami(const char *p, const char *end)
{
	struct pbx_opts o = options();
	struct pbx_amimap *m = pbx_amimap_new(&o);
	hl_ms now = 1700000000000LL;
	while (p < end) {
		const char *sep = memmem(p, (size_t)(end - p), "\n\n", 2);
		const char *e = sep ? sep : end;
		struct pbx_ami_msg msg;
		if (pbx_ami_parse(p, (size_t)(e - p), &msg) == 0) {
			pbx_amimap_event(m, &msg, now, on_event, NULL);
			pbx_ami_msg_free(&msg);
		}
		now += 700;
		pbx_amimap_tick(m, now, on_event, NULL);
		p = sep ? sep + 2 : end;
	}
	pbx_amimap_tick(m, now + 86400000LL, on_event, NULL);
	pbx_amimap_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	charset = (data[0] / 3) % 2 ? "GB18030" : "";
	switch (data[0] % 3) {
	case 0: queue_log(p, end, false); break;
	case 1: ami(p, end); break;
	default: queue_log(p, end, true); break;
	}
	return 0;
}
