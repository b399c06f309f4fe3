/*
 * http_params.h - what a request's URL says, read strictly (pure; daemon/http_params.c).
 *
 * The HTTP API routes on the path percent-decoded (RFC 3986 2.1) and reads
 * numbers from its query; both were read loosely (a raw path, atoi-like
 * numbers), so /v1/cases/%31 was no case and since=abc was since=0.  These
 * functions say exactly what is wrong, for a 400 that names it.
 */
#ifndef HL_HTTP_PARAMS_H
#define HL_HTTP_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode `path` segment by segment into out (at least strlen(path) + 1
 * bytes; decoding never grows it).  NULL when done, else why not: an
 * escape that is not % and two hex digits, or one that stands for "/"
 * (it would join two segments into another route) or NUL. */
const char *hl_path_decode(const char *path, char *out);

enum hl_param { HL_PARAM_ABSENT, HL_PARAM_OK, HL_PARAM_BAD };

/* The value of `name` in a query string (a=1&b=2; NULL query: absent),
 * decoded ("+" is a space, %XX its octet) into out[cap].  HL_PARAM_BAD when
 * it is there but cannot be one value: given without "=", given twice, a
 * broken escape, a NUL, longer than cap - 1. */
enum hl_param hl_query_param(const char *query, const char *name, char *out, size_t cap);

/* A decimal number 0 .. INT64_MAX, digits only (no sign, space or
 * anything after): true and *v, else false. */
bool hl_parse_count(const char *s, int64_t *v);

#endif
