/*
 * protocol_internal.h - what the files of the wire format share: protocol.c
 * (a request line into a struct hl_event), protocol_scan.c (step 1 of that:
 * the strict byte scan) and protocol_reply.c (the reply and push lines).
 * Private to the functional core.
 */
#ifndef HL_PROTOCOL_INTERNAL_H
#define HL_PROTOCOL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_MAX_DEPTH 32   /* objects/arrays nested deeper are refused */
#define ECHO_MAX 48         /* bytes of request text echoed in a message */

/* The raw text of one key of an object being scanned. */
struct hl_scan_key {
	const unsigned char *p;
	size_t len;
};

/* The state of one strict scan (protocol_scan.c). */
struct hl_scan {
	const unsigned char *p, *end, *start;
	int depth;
	const char *why;               /* first syntax error, NULL while fine */
	const unsigned char *key;      /* raw text of the current top-level key */
	size_t key_len;
	bool nul;                      /* a string decodes to one containing U+0000 */
	char nul_field[ECHO_MAX + 4];  /* the top-level key it is under (raw) */
	bool bignum;                   /* a number PostgreSQL's numeric cannot hold */
	char bignum_field[ECHO_MAX + 4];
	bool dup;                      /* an object names one member twice */
	bool dup_nested;               /* ... inside the value of dup_field, not at the top */
	char dup_field[ECHO_MAX + 4];  /* the key repeated (or the top-level key it is under) */
	struct hl_scan_key *keys;      /* the keys of the open objects (heap; freed by hl_scan_line) */
	size_t nkeys, keys_cap;
};

/* The whole line: one object, whitespace around it, nothing else.  False with
 * sc->why (and sc->p at the offending byte) when it is not JSON jsonb takes. */
bool hl_scan_line(struct hl_scan *sc, const char *line, size_t len);

/* At most ECHO_MAX bytes of (valid UTF-8) request text for a message. */
void hl_proto_echo_text(char *dst, size_t dstlen, const char *src, size_t len);

#endif
