/*
 * config_internal.h - the configuration loader's private parts, shared by
 * daemon/config*.c.  Private to the loader; tests may include it to read the
 * table (tests/unit/test_config_table.c).
 *
 * The configuration is ONE TABLE (config_table.c), one row per key: its dotted
 * path, its type and bounds, its default, where it lands in struct hl_config,
 * and whether a SIGHUP can apply it.  The generic walk (config_walk.c) fills
 * defaults, checks for unknown keys, reads and range-checks each value and
 * answers the reload question, all from that table, so a key is written once.
 * Keys whose shape is genuinely special (calendars, policies, token lists,
 * webhook URLs ...) are rows of type HL_CT_CUSTOM whose callback loads them;
 * whole-group rules ("cert and key must be given together") are a group's
 * check callback.
 *
 * config_read.c lends every file the same typed readers and the same messages
 * ("FILE:LINE: KEY: what"), so every key is checked with the same rules.
 */
#ifndef HL_CONFIG_INTERNAL_H
#define HL_CONFIG_INTERNAL_H

#include <libconfig.h>
#include <stddef.h>

#include "config.h"

#define HL_MIB (1024 * 1024)
#define HL_MINUTE_S 60
#define HL_HOUR_S (60 * HL_MINUTE_S)
#define HL_DAY_S (24 * HL_HOUR_S)
#define HL_SLA_MAX_S (365 * HL_DAY_S)

/* One load in progress: where error messages go, and the struct being built. */
struct ld {
	const char *file;    /* the main file, for settings libconfig has no file for */
	const char *incdir;  /* directory @include paths are relative to; NULL = none */
	char *err;
	size_t errlen;
	struct hl_config *cfg; /* being filled (calendar names are checked against it) */
	const config_setting_t *root; /* for messages about no key in particular */
};

/* ------------------------------------------------------------ the table */

enum hl_cfg_type {
	HL_CT_INT,      /* int in [min, max] */
	HL_CT_SIZE,     /* size_t in [min, max] */
	HL_CT_SECONDS,  /* int seconds: a duration ("30m" or seconds) in [min, max] s */
	HL_CT_MS,       /* int64_t ms: a duration in [min, max] s */
	HL_CT_SPAN,     /* int64_t: a duration in [0, max] s, or "Nwd" (HL_SPAN_WD) */
	HL_CT_FRACTION, /* double in [0, 1) */
	HL_CT_BOOL,     /* bool */
	HL_CT_STR,      /* char *, strdup'ed; "" = NULL with HL_CF_EMPTY_NULL; row.check validates */
	HL_CT_MODE,     /* int: an octal string such as "0660" */
	HL_CT_DIGITS,   /* char[size]: a string of at most max digits */
	HL_CT_CALENDAR, /* char[size]: "" or the name of a defined calendar */
	HL_CT_ENUM,     /* int: row.parse maps the word, row.words lists them */
	HL_CT_LIST,     /* a list of groups into an array of `size`-byte elements: row.entry loads each */
	HL_CT_CUSTOM,   /* row.load loads it (called also when absent), row.same compares it */
};

enum {
	HL_CF_RESTART = 1,    /* a SIGHUP cannot apply it (sockets, database session) */
	HL_CF_REQUIRED = 2,   /* absent is an error: "FILE:0: KEY: missing" */
	HL_CF_EMPTY_NULL = 4, /* strings: "" stores NULL (disabled / leave as is) */
};

struct hl_cfg_key {
	const char *path;        /* "listen.tls.cert"; a top-level list has no dot ("calendars") */
	enum hl_cfg_type type;
	unsigned flags;          /* HL_CF_* */
	int64_t min, max;        /* numbers; durations in seconds; digits: how many at most */
	int64_t def;             /* numbers and bools; durations and spans in ms; modes */
	double def_frac;         /* HL_CT_FRACTION */
	const char *def_str;     /* HL_CT_STR, HL_CT_DIGITS, HL_CT_CALENDAR */
	size_t offset, size;     /* where it lands in struct hl_config; size of a char[] or a list element */
	size_t count_offset;     /* HL_CT_LIST: where the number of elements lands */
	/* HL_CT_STR: -1 (after hl_cfgi_fail) when v is not acceptable */
	int (*check)(const struct ld *ld, const config_setting_t *s, const char *v);
	/* HL_CT_ENUM: the value of a word, -1 when unknown; words for the message */
	int (*parse)(const char *word);
	const char *words;
	/* HL_CT_CUSTOM: load from grp (may be NULL) / s (NULL when absent) */
	int (*load)(const struct ld *ld, const config_setting_t *grp, const config_setting_t *s, struct hl_config *cfg);
	/* HL_CT_LIST: load entry e into element i (already counted, so a failure frees it) */
	int (*entry)(const struct ld *ld, const config_setting_t *e, size_t i, struct hl_config *cfg);
	/* HL_CT_CUSTOM, HL_CT_LIST: equal in two configs (restart-only rows) */
	bool (*same)(const struct hl_config *a, const struct hl_config *b);
	const char *const *entries; /* lists of groups: the keys of one entry */
};

/* A group's rules across its keys, run after its keys loaded (g may be NULL when `always`). */
struct hl_cfg_group_check {
	const char *group;
	bool always;
	int (*check)(const struct ld *ld, const config_setting_t *root, const config_setting_t *g, struct hl_config *cfg);
};

extern const struct hl_cfg_key hl_cfg_keys[];
extern const size_t hl_cfg_n_keys;
extern const struct hl_cfg_group_check hl_cfg_group_checks[];
extern const size_t hl_cfg_n_group_checks;

/* config_walk.c: the generic walk over the table. */
int hl_cfgi_defaults(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg);
int hl_cfgi_walk(const struct ld *ld, const config_setting_t *root, struct hl_config *cfg);
/* The rows of `group` ("sla") applied to base, where the rows' offsets are
 * counted from base_off (offsetof(struct hl_config, sla) for a struct hl_policy);
 * custom rows are left to the caller. */
int hl_cfgi_load_rows(const struct ld *ld, const config_setting_t *g, const char *group, void *base, size_t base_off);
/* Length of the group part of a row's path ("listen.tls" of "listen.tls.cert"; 0 at the top). */
size_t hl_cfgi_group_len(const struct hl_cfg_key *k);

/* ------------------------------------------- config_read.c: messages */

/* "FILE:LINE: KEY: message" for setting s; always returns -1. */
void hl_cfgi_warn(const struct ld *ld, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int hl_cfgi_fail(const struct ld *ld, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int hl_cfgi_fail_type(const struct ld *ld, const config_setting_t *s, const char *want);
/* A required key that is absent: "FILE:0: PATH: missing". */
int hl_cfgi_fail_missing(const struct ld *ld, const config_setting_t *grp, const char *name);
int hl_cfgi_fail_missing_path(const struct ld *ld, const char *path);
/* A user string made safe to quote in a message. */
const char *hl_cfgi_shown(const char *s, char *buf, size_t len);

/* ------------------------------------------- config_read.c: readers */

const config_setting_t *hl_cfgi_member(const config_setting_t *grp, const char *name);
/* The first key of grp not in `known` (n of them) is an error, with a "did you mean" hint. */
int hl_cfgi_check_keys(const struct ld *ld, const config_setting_t *grp, const char *const *known, size_t n);
/* As above for a NULL-terminated list. */
int hl_cfgi_check_keyv(const struct ld *ld, const config_setting_t *grp, const char *const *known);
/* A sub-group whose keys must be in `known` (NULL-terminated); *out = NULL when absent. */
int hl_cfgi_group(const struct ld *ld, const config_setting_t *parent, const char *name,
		  const char *const *known, const config_setting_t **out);
/* A list of groups "( {..}, {..} )"; an empty [ ] or ( ) is fine too. */
int hl_cfgi_group_list(const struct ld *ld, const config_setting_t *s);
/* Readers of one present setting s; *out is written only when the value is good. */
int hl_cfgi_read_int64(const struct ld *ld, const config_setting_t *s, int64_t min, int64_t max, int64_t *out);
int hl_cfgi_read_duration_s(const struct ld *ld, const config_setting_t *s, int64_t min_s, int64_t max_s, int64_t *out);
int hl_cfgi_read_span(const struct ld *ld, const config_setting_t *s, int64_t max_s, int64_t *out);
int hl_cfgi_read_fraction(const struct ld *ld, const config_setting_t *s, double *out);
int hl_cfgi_read_str(const struct ld *ld, const config_setting_t *s, const char **out);
/* A span by name in grp (at most 365d); *out untouched when absent. */
int hl_cfgi_span(const struct ld *ld, const config_setting_t *grp, const char *name, int64_t *out);
/* A string by name; *out untouched when absent; *where = the setting or NULL. */
int hl_cfgi_str(const struct ld *ld, const config_setting_t *grp, const char *name, const char **out,
		const config_setting_t **where);
/* A [ ] array or ( ) list of strings; *out NULL when absent. */
int hl_cfgi_str_list(const struct ld *ld, const config_setting_t *grp, const char *name,
		     const config_setting_t **out);
/* Replace *dst by a copy of v; "" gives NULL when empty_is_null. */
int hl_cfgi_set_str(const struct ld *ld, const config_setting_t *s, char **dst, const char *v, bool empty_is_null);
/* Copy v into a fixed buffer; too long is an error. */
int hl_cfgi_set_name(const struct ld *ld, const config_setting_t *s, char *dst, size_t len, const char *v);

/* ------------------------------------------- config_values.c: syntax */

bool hl_cfgi_valid_url(const char *u);
bool hl_cfgi_valid_zone_name(const char *z);
bool hl_cfgi_has_control(const char *s);
int hl_cfgi_parse_mode(const char *s, int *mode);
int hl_cfgi_parse_level(const char *s);
/* Row checks (HL_CT_STR): listen addresses, socket paths, the nameserver, conninfo, cluster.name. */
int hl_cfgi_check_address(const struct ld *ld, const config_setting_t *s, const char *v);
int hl_cfgi_check_unix_path(const struct ld *ld, const config_setting_t *s, const char *v);
int hl_cfgi_check_user(const struct ld *ld, const config_setting_t *s, const char *v);
int hl_cfgi_check_group(const struct ld *ld, const config_setting_t *s, const char *v);
int hl_cfgi_check_file(const struct ld *ld, const config_setting_t *s, const char *v);
int hl_cfgi_check_nameserver(const struct ld *ld, const config_setting_t *s, const char *v);
int hl_cfgi_check_conninfo(const struct ld *ld, const config_setting_t *s, const char *v);
int hl_cfgi_check_cluster_name(const struct ld *ld, const config_setting_t *s, const char *v);

/* ------------------------------------------- custom rows and group checks */

/* config_calendars.c: one entry of calendars = ( { name; timezone; hours; holidays; workdays; workday_hours; } ) */
extern const char *const hl_cfgi_calendar_keys[];
int hl_cfgi_load_calendar(const struct ld *ld, const config_setting_t *e, size_t i, struct hl_config *cfg);

/* config_sla.c: one entry of sla.policies */
extern const char *const hl_cfgi_policy_keys[];
int hl_cfgi_load_policy(const struct ld *ld, const config_setting_t *e, size_t i, struct hl_config *cfg);

/* config_orders.c: the orders group, hotspot.key, and the check that every
 * working-day span has a calendar (a group check of sla). */
void hl_cfgi_order_defaults(struct hl_config *cfg);
int hl_cfgi_check_orders(const struct ld *ld, const config_setting_t *root, const config_setting_t *g,
			 struct hl_config *cfg);
int hl_cfgi_check_spans(const struct ld *ld, const config_setting_t *root, const config_setting_t *g,
			struct hl_config *cfg);
int hl_cfgi_check_hotspot(const struct ld *ld, const config_setting_t *root, const config_setting_t *g,
			  struct hl_config *cfg);
int hl_cfgi_load_hotspot_key(const struct ld *ld, const config_setting_t *grp, const config_setting_t *s,
			     struct hl_config *cfg);

/* config_webhooks.c: webhooks.urls, and format, secret, bearer, headers, routing_key of one URL group. */
extern const char *const hl_cfgi_webhook_keys[];
int hl_cfgi_load_urls(const struct ld *ld, const config_setting_t *grp, const config_setting_t *s,
		      struct hl_config *cfg);
void hl_cfgi_webhook_opts_free(struct hl_webhook_opts *o);

/* config_people.c: report.timezone, listen.tokens and http.tokens: who the clients are. */
extern const char *const hl_cfgi_token_keys[];
extern const char *const hl_cfgi_http_token_keys[];
int hl_cfgi_load_report_tz(const struct ld *ld, const config_setting_t *grp, const config_setting_t *s,
			   struct hl_config *cfg);
bool hl_cfgi_same_report_tz(const struct hl_config *a, const struct hl_config *b);
int hl_cfgi_load_tokens(const struct ld *ld, const config_setting_t *grp, const config_setting_t *s,
			struct hl_config *cfg);
bool hl_cfgi_same_tokens(const struct hl_config *a, const struct hl_config *b);
int hl_cfgi_load_http_token(const struct ld *ld, const config_setting_t *e, size_t i, struct hl_config *cfg);
bool hl_cfgi_same_http_tokens(const struct hl_config *a, const struct hl_config *b);
void hl_cfgi_free_people(struct hl_config *cfg);

/* config_groups.c: the rules across the keys of listen, listen.tls, http and phone. */
int hl_cfgi_check_listen(const struct ld *ld, const config_setting_t *root, const config_setting_t *g,
			 struct hl_config *cfg);
int hl_cfgi_check_tls(const struct ld *ld, const config_setting_t *root, const config_setting_t *g,
		      struct hl_config *cfg);
int hl_cfgi_check_http(const struct ld *ld, const config_setting_t *root, const config_setting_t *g,
		       struct hl_config *cfg);
int hl_cfgi_check_phone(const struct ld *ld, const config_setting_t *root, const config_setting_t *g,
			struct hl_config *cfg);

#endif
