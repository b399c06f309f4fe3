/*
 * test_json_rows.c - unit tests for daemon/json_rows.c: strings escaped
 * byte for byte as json-c escapes them (an alert's text must stay what
 * hotline.alert_json() renders), rows that parse back to their values,
 * nulls, raw values, an empty writer, and a buffer that grows.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "json_rows.h"

static char *jsonc_string(const char *s)
{
	json_object *o = json_object_new_string(s);
	char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return t;
}

static char *ours_string(const char *s)
{
	struct jrows r;
	jrows_init(&r);
	jrows_append_string(&r, s);
	return jrows_text(&r);
}

static void same_as_jsonc(const char *s)
{
	char *a = jsonc_string(s), *b = ours_string(s);
	cr_assert_str_eq(b, a, "escaping of [%s]", s);
	free(a);
	free(b);
}

Test(json_rows, every_byte_escaped_as_json_c)
{
	for (int c = 1; c < 256; c++) {
		char s[4] = { 'a', (char)c, 'z', 0 };
		same_as_jsonc(s);
		char t[2] = { (char)c, 0 };
		same_as_jsonc(t);
	}
}

Test(json_rows, mixed_strings_escaped_as_json_c)
{
	same_as_jsonc("");
	same_as_jsonc("plain");
	same_as_jsonc("\"quoted\" and \\back\\slashed/ with /slashes/");
	same_as_jsonc("tab\there\nnew line\r\f\b\x01\x1f end");
	same_as_jsonc("水管爆裂 +8613912345678 \xe2\x82\xac");
	same_as_jsonc("\xff\xfe invalid UTF-8 passes as it is");
	char big[5000];
	for (size_t i = 0; i < sizeof big - 1; i++)
		big[i] = (char)(i % 7 == 0 ? '"' : 'a' + i % 26);
	big[sizeof big - 1] = 0;
	same_as_jsonc(big);
}

Test(json_rows, rows_parse_back)
{
	struct jrows r;
	jrows_init(&r);
	jrows_row(&r);
	jrows_int(&r, "id", -9007199254740993LL);
	jrows_str(&r, "s", "a\"b");
	jrows_str(&r, "none", NULL);
	jrows_ms(&r, "t0", 0);
	jrows_ms(&r, "t", 1764720000123LL);
	jrows_bool(&r, "yes", true);
	jrows_bool(&r, "no", false);
	jrows_null(&r, "n");
	jrows_raw(&r, "body", "{\"x\":[1,2]}", 11);
	jrows_raw(&r, "nobody", NULL, 0);
	jrows_end_row(&r);
	jrows_row(&r);
	jrows_int(&r, "id", 2);
	jrows_end_row(&r);
	char *s = jrows_take(&r);
	cr_assert_not_null(s);
	json_object *a = json_tokener_parse(s);
	cr_assert_not_null(a, "valid JSON: %s", s);
	cr_assert_eq(json_object_array_length(a), 2);
	json_object *o = json_object_array_get_idx(a, 0), *v;
	cr_assert(json_object_object_get_ex(o, "id", &v) && json_object_get_int64(v) == -9007199254740993LL);
	cr_assert(json_object_object_get_ex(o, "s", &v) && !strcmp(json_object_get_string(v), "a\"b"));
	cr_assert(json_object_object_get_ex(o, "none", &v) && v == NULL);
	cr_assert(json_object_object_get_ex(o, "t0", &v) && v == NULL);
	cr_assert(json_object_object_get_ex(o, "t", &v) && json_object_get_int64(v) == 1764720000123LL);
	cr_assert(json_object_object_get_ex(o, "yes", &v) && json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(o, "no", &v) && !json_object_get_boolean(v) &&
	          json_object_is_type(v, json_type_boolean));
	cr_assert(json_object_object_get_ex(o, "n", &v) && v == NULL);
	cr_assert(json_object_object_get_ex(o, "body", &v) && json_object_array_length(json_object_object_get(v, "x")) == 2);
	cr_assert(json_object_object_get_ex(o, "nobody", &v) && v == NULL);
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(a, 1), "id", &v) && json_object_get_int(v) == 2);
	json_object_put(a);
	free(s);
	/* the writer is empty again */
	cr_assert_null(jrows_take(&r));
}

Test(json_rows, no_row_is_no_text)
{
	struct jrows r;
	jrows_init(&r);
	cr_assert_null(jrows_take(&r));
	jrows_free(&r);
}

Test(json_rows, lone_object)
{
	struct jrows r;
	jrows_init(&r);
	jrows_object(&r);
	jrows_str(&r, "kind", "callback_overdue");
	jrows_int(&r, "level", 1);
	jrows_end_row(&r);
	char *s = jrows_text(&r);
	cr_assert_str_eq(s, "{\"kind\":\"callback_overdue\",\"level\":1}");
	free(s);
	s = jrows_text(&r);
	cr_assert_str_eq(s, "");
	free(s);
}

Test(json_rows, many_rows_grow_the_buffer)
{
	struct jrows r;
	jrows_init(&r);
	for (int i = 0; i < 20000; i++) {
		jrows_row(&r);
		jrows_int(&r, "i", i);
		jrows_str(&r, "s", i % 3 ? "x" : "y\n\"z\"");
		jrows_end_row(&r);
	}
	char *s = jrows_take(&r);
	json_object *a = json_tokener_parse(s);
	cr_assert_not_null(a);
	cr_assert_eq(json_object_array_length(a), 20000);
	json_object *v;
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(a, 19999), "i", &v) && json_object_get_int(v) == 19999);
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(a, 3), "s", &v) &&
	          !strcmp(json_object_get_string(v), "y\n\"z\""));
	json_object_put(a);
	free(s);
}
