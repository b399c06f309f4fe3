/*
 * redact.h - make text safe for places other people read (pure).
 *
 * hl_redact_digits: masks every phone-number-like run in free text (a log
 *   line made of PostgreSQL's error message and detail, for instance).
 * hl_term_safe, hl_json_term_safe: make server text safe to print on a
 *   terminal, as plain text or as JSON.
 */
#ifndef HL_REDACT_H
#define HL_REDACT_H

#include <stddef.h>

/* Digits a run needs before it counts as a phone number and is masked. */
#define HL_REDACT_MIN_DIGITS 7

/*
 * Copy `in` to `out` (outlen bytes, NUL-terminated, cut when short) with
 * every run of at least HL_REDACT_MIN_DIGITS digits, optionally led by '+'
 * and joined by spaces, '-', '.', '/', '(' or ')', masked: each digit but
 * the last two becomes '*'; separators stay, so the length does not change.
 * A leading ISO date (2026-11-20) is left alone.  Returns the number of
 * runs masked.
 */
size_t hl_redact_digits(const char *in, char *out, size_t outlen);

/*
 * Copy `in` to `out` with everything a terminal would act on made visible:
 * C0 controls and DEL as \n \r \t \e or \xHH, C1 controls (U+0080..U+009F)
 * and the bidirectional overrides and isolates (U+202A..U+202E,
 * U+2066..U+2069) as \u{HHHH}, a backslash as \\, bytes that are not valid
 * UTF-8 as \xHH.  Printable text, including any other Unicode, is copied.
 * `out` is always NUL-terminated; the result is cut at a whole escape when
 * it does not fit.  Returns the length the full result needs (without NUL).
 */
size_t hl_term_safe(const char *in, char *out, size_t outlen);

/*
 * The same for a line of JSON text printed as JSON (hotlinectl --json, send,
 * watch): every byte a terminal acts on becomes a \uXXXX escape, which
 * inside a JSON string means the same character, so the line stays valid
 * JSON with the same value.  (json-c escapes C0 itself but leaves DEL, the
 * C1 controls and the bidi overrides raw.)  Same return and cut as above.
 */
size_t hl_json_term_safe(const char *in, char *out, size_t outlen);

#endif
