/*
 * json_rows.h - rows of a batch's write written straight as JSON text.
 *
 * The write sends every changed row of a table as one JSON array of objects
 * (json_to_recordset on the server).  Building those rows as json-c objects
 * and serializing them took a third of the daemon's CPU in a burst of due
 * clocks (a malloc per key and per value, a hash insert per key, then a
 * walk that formats each value again; perf, docs/write-cost.md "040"), on
 * the path between the load's results and the write's first byte, while
 * PostgreSQL waits.  These functions append the text directly to one
 * growing buffer.  Keys are the caller's literals (never escaped); strings
 * are escaped exactly as json-c's JSON_C_TO_STRING_NOSLASHESCAPE does, so an
 * alert's text stays byte for byte what hotline.alert_json() renders
 * (tests/unit/test_json_rows.c compares them over every byte value).
 * Pure: no I/O; an allocation that fails aborts (hl_xrealloc).
 */
#ifndef HL_JSON_ROWS_H
#define HL_JSON_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jrows {
	char *buf;
	size_t len, cap;
	size_t n;       /* rows begun */
	bool first_key; /* no comma before the next key of the open object */
};

/* An empty writer (no allocation until the first row). */
void jrows_init(struct jrows *r);
/* The next object of the array ("[{" or ",{"), then its keys, then jrows_end_row. */
void jrows_row(struct jrows *r);
/* A lone object instead of an array of them ("{"): jrows_text returns it. */
void jrows_object(struct jrows *r);
void jrows_end_row(struct jrows *r);

void jrows_int(struct jrows *r, const char *key, int64_t v);
void jrows_ms(struct jrows *r, const char *key, int64_t v);      /* 0 is null: an unset time */
void jrows_str(struct jrows *r, const char *key, const char *s); /* NULL is null */
void jrows_bool(struct jrows *r, const char *key, bool v);
void jrows_null(struct jrows *r, const char *key);
/* A JSON value written as it is (the caller vouches for it); NULL is null. */
void jrows_raw(struct jrows *r, const char *key, const char *json, size_t len);

/* The array's text ("]" appended), malloc'd, or NULL when no row was begun;
 * the writer is empty again. */
char *jrows_take(struct jrows *r);
/* The text as written so far (a lone object), malloc'd; the writer is empty again. */
char *jrows_text(struct jrows *r);
void jrows_free(struct jrows *r);

/* s as a JSON string, quotes included, escaped as above, appended. */
void jrows_append_string(struct jrows *r, const char *s);

#endif
