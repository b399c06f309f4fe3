/*
 * hotlined.h - types shared by every part of hotlined.
 *
 * hotlined is split into a functional core and an imperative shell.  The core
 * (protocol.c, util.c, calendar.c, tz.c, world.c, rules.c, config.c) works on
 * the plain structs declared here and never includes libevent or libpq, so it
 * is unit-tested without sockets or a database.  The shell (main.c, listener.c,
 * conn.c, store.c, clocks.c, alerts.c, http.c, migrate.c, log.c) moves bytes
 * between sockets, timers and PostgreSQL and calls into the core.
 *
 * Time is an int64 count of milliseconds since the Unix epoch, UTC (hl_ms).
 * Durations configured in seconds are converted to milliseconds at load time.
 */
#ifndef HOTLINED_H
#define HOTLINED_H

#include <stdbool.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#define HOTLINED_VERSION "1.0.0"

typedef int64_t hl_ms;

/*
 * The last instant a deadline is kept as: 9999-12-31T23:59:59.999Z, the end
 * of what RFC 3339 can write.  A deadline that is never reached (INT64_MAX
 * from hl_deadline: a calendar with no open time ahead) or lies beyond it is
 * no PostgreSQL timestamp (hotline.from_ms overflows); the store writes it
 * as this instant, which reads back as "not due in any lifetime".
 */
#define HL_MS_MAX INT64_C(253402300799999)
static inline hl_ms hl_ms_storable(hl_ms t) { return t > HL_MS_MAX ? HL_MS_MAX : t; }

/* A hexadecimal digit's value, or -1 (JSON's \uXXXX, a URL's %XX). */
static inline int hl_hex_digit(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

#define HL_ID_MAX 128    /* request id length in characters (code points), contract section 3 */
#define HL_ID_BYTES (HL_ID_MAX * 4) /* the same in UTF-8 bytes, at most 4 per character */
#define HL_PHONE_MAX 32  /* normalized phone number incl. '+' and NUL */

/* ------------------------------------------------------------------ errors */

enum hl_err {
	HL_OK = 0,
	HL_E_BAD_JSON,
	HL_E_BAD_REQUEST,
	HL_E_UNKNOWN_TYPE,
	HL_E_UNKNOWN_CASE,
	HL_E_UNKNOWN_CALL,
	HL_E_UNKNOWN_ALERT,
	HL_E_TOO_LARGE,
	HL_E_UNAVAILABLE,
	HL_E_UNAUTHORIZED,
	HL_E_BUSY,     /* too many connections / requests in flight */
	HL_E_INTERNAL, /* the database refused what the rules produced; nothing stored */
	HL_E_UNKNOWN_ORDER, /* an order event names an order_id never dispatched (CONTRACT.md 6) */
	HL_E_FORBIDDEN,     /* the connection's role may not make this request (roles.h) */
	HL_E__COUNT         /* not a code: how many there are, for the counts by code (metrics.c) */
};

/* "bad_json", "bad_request", ... as on the wire */
const char *hl_err_code(enum hl_err e);

struct hl_error {
	enum hl_err code;
	char message[256];
};

/* ------------------------------------------------------------ request types */

enum hl_type {
	HL_T_NONE = 0,
	/* call events */
	HL_EV_CALL_OFFERED,
	HL_EV_CALL_ANSWERED,
	HL_EV_CALL_ABANDONED,
	HL_EV_VOICEMAIL_LEFT,
	HL_EV_CALL_ENDED,
	HL_EV_CALLBACK_ATTEMPT,
	/* case events */
	HL_EV_CASE_UPDATE,
	HL_EV_CASE_TRANSFER,
	HL_EV_CASE_RESOLVE,
	HL_EV_CASE_CLOSE,
	HL_EV_CASE_REOPEN,
	HL_EV_CASE_HOLD,
	HL_EV_CASE_RESUME,
	HL_EV_SURVEY_RESULT,
	/* commands */
	HL_CMD_PING,
	HL_CMD_CASE_GET,
	HL_CMD_SUBSCRIBE,
	HL_CMD_ALERT_ACK,
	HL_CMD_STATS,
	HL_CMD_AUTH,
	/* work-order events (CONTRACT.md 6; daemon/orders.c) */
	HL_EV_ORDER_DISPATCH,
	HL_EV_ORDER_SIGN,
	HL_EV_ORDER_RETURN,
	HL_EV_ORDER_EXTEND,
	HL_EV_ORDER_EXTEND_APPROVE,
	HL_EV_ORDER_EXTEND_REJECT,
	HL_EV_ORDER_REPLY,
	HL_EV_CASE_MERGE,
	HL_T__COUNT
};

/* "call.offered", ... ; NULL for HL_T_NONE */
const char *hl_type_name(enum hl_type t);
enum hl_type hl_type_from_name(const char *name);
/* true for the events that are stored in hotline.case_events */
bool hl_type_is_event(enum hl_type t);

/*
 * A parsed, validated request.  Strings are owned by the event (freed by
 * hl_event_free); absent optional strings are NULL.  `line` is the request
 * exactly as received (without the newline), stored as case_events.body.
 */
struct hl_event {
	enum hl_type type;
	char id[HL_ID_BYTES + 1];
	hl_ms at;        /* the event's `at`, or the time of receipt */
	bool at_given;
	hl_ms received;  /* time of receipt */

	int64_t case_id;  /* 0 when absent */
	int64_t alert_id; /* alert.ack */
	int64_t since;    /* subscribe; 0 when absent */
	char caller[HL_PHONE_MAX]; /* normalized; "" when absent */
	char *call_id;
	char *queue, *agent, *outcome, *category, *priority, *summary;
	char *result;     /* callback.attempt: reached|no_answer|busy|failed */
	char *note, *department, *reason, *resolution, *by, *token;
	int caller_informed; /* -1 absent, 0 false, 1 true */
	int confidential;    /* -1 absent, 0 false, 1 true */
	int score;           /* survey.result 1..5; 0 when absent */
	/* work orders (CONTRACT.md 6); strings NULL when absent */
	char *order_id;      /* order.*: the sender's key; order.dispatch: optional */
	char *due;           /* order.dispatch: reply deadline span ("3wd", "48h") */
	char *until;         /* order.extend: RFC 3339 */
	char *area;          /* call.ended, case.update, order.dispatch */
	int64_t into;        /* case.merge: the main case; 0 when absent */

	char *line;
	size_t line_len;

	/* "backfill": true: a history import (CONTRACT 8).  Deadlines already
	 * past when it is received are recorded breached without any alert. */
	bool backfill;
	/* "withheld": true on a call that has no number (anonymous, restricted):
	 * ev->caller is then HL_WITHHELD_PREFIX and a hash of the call_id, one
	 * "caller" per call (docs/rules.md, "Withheld numbers"). */
	bool withheld;
};

#define HL_WITHHELD_PREFIX "withheld:"
/* No number to call: a withheld call's caller, or one anonymized (sql/004). */
static inline bool hl_caller_withheld(const char *caller)
{
	return caller && (strncmp(caller, HL_WITHHELD_PREFIX, sizeof HL_WITHHELD_PREFIX - 1) == 0 ||
	                  strncmp(caller, "anon:", 5) == 0);
}

void hl_event_free(struct hl_event *ev); /* frees the members, not ev itself */

/* ------------------------------------------------------------------- cases */

enum hl_status { HL_ST_OPEN = 0, HL_ST_RESOLVED, HL_ST_CLOSED, HL_ST_MERGED };
const char *hl_status_name(enum hl_status s);
int hl_status_from_name(const char *name); /* -1 when unknown */

/* redispatch: after an order was returned, the hotline owes the case a new dispatch (CONTRACT.md 6) */
enum hl_clock_kind { HL_CK_CALLBACK = 0, HL_CK_UPDATE, HL_CK_RESOLUTION, HL_CK_SURVEY, HL_CK_REDISPATCH, HL_CK__COUNT };
const char *hl_clock_kind_name(enum hl_clock_kind k);
int hl_clock_kind_from_name(const char *name); /* -1 when unknown */

enum hl_clock_state {
	HL_CS_NONE = 0, /* never armed: no row in hotline.clocks */
	HL_CS_PENDING,
	HL_CS_PAUSED,
	HL_CS_MET,
	HL_CS_BREACHED,
	HL_CS_STOPPED,
};
const char *hl_clock_state_name(enum hl_clock_state s);
int hl_clock_state_from_name(const char *name);

/*
 * One clock of one case.  `seq` grows by one every time the clock is armed
 * or restarted; together with (case_id, kind) it names one run of the clock,
 * and an alert is keyed on it so that each breach is alerted exactly once.
 *
 * Times are absolute instants.  When `calendar` is not empty the allowed time
 * is counted in that calendar's business time, otherwise on the wall clock.
 * While paused, due_at/warn_at keep their old values and remaining_ms /
 * warn_remaining_ms hold what was left (in business or wall milliseconds).
 */
struct hl_clock {
	enum hl_clock_state state;
	int32_t seq;
	hl_ms started_at;     /* start of this run (after resume: still the original start) */
	hl_ms due_at;
	hl_ms warn_at;        /* 0 = no warning for this run */
	bool warned;          /* the *_due_soon alert for this run was raised */
	int64_t allowed_ms;   /* the SLA allowed for this run */
	hl_ms paused_at;      /* 0 unless paused */
	int64_t remaining_ms; /* while paused */
	int64_t warn_remaining_ms;
	hl_ms met_at;
	hl_ms breached_at;
	char calendar[64];    /* "" = wall clock */
	bool dirty;           /* changed in this batch: must be written */
};

/* clock_list.c: a case's clocks as SQL_CASES returns them (an array of
 * [kind, state, seq, started_at, due_at, warn_at, warned, allowed_ms,
 * paused_at, remaining_ms, warn_remaining_ms, met_at, breached_at, calendar])
 * into clocks[kind].  _read: the scanner, else json-c (NULL: nothing);
 * _parse: the scanner alone, false and clocks untouched for any other text;
 * _parse_json: json-c alone, false for text that is not JSON. */
void hl_clock_list_read(const char *json, struct hl_clock clocks[HL_CK__COUNT]);
bool hl_clock_list_parse(const char *json, struct hl_clock clocks[HL_CK__COUNT]);
bool hl_clock_list_parse_json(const char *json, struct hl_clock clocks[HL_CK__COUNT]);


struct hl_case {
	int64_t id;
	char caller[HL_PHONE_MAX];
	enum hl_status status;
	hl_ms opened_at;
	hl_ms resolved_at;    /* 0 unless resolved */
	hl_ms closed_at;      /* 0 unless closed */
	hl_ms last_contact_at;/* last time the caller heard from us */
	hl_ms last_reached_at;/* last time we spoke with the caller (an answer, a reached call back): not a
	                       * caller_informed, which may be a message; a late abandonment checks this */
	hl_ms updated_at;
	char *category, *priority, *department, *queue, *summary, *resolution;
	int32_t transfers;
	int32_t reopens;
	bool on_hold;
	hl_ms hold_since;
	int64_t held_ms;      /* total time spent on hold */
	hl_ms last_hold_from, last_hold_until; /* the last hold a resume ended (0: none): a late contact or hold
	                       * dated inside it is applied as during the hold (rules.c, sql/081) */
	char policy[64];      /* name of the SLA policy in force ("default") */
	struct hl_clock clocks[HL_CK__COUNT];
	bool is_new;          /* opened in this batch */
	bool dirty;
};

enum hl_call_state { HL_CALL_OFFERED = 0, HL_CALL_ANSWERED, HL_CALL_ABANDONED, HL_CALL_VOICEMAIL, HL_CALL_ENDED };
const char *hl_call_state_name(enum hl_call_state s);
int hl_call_state_from_name(const char *name);

struct hl_call {
	char *call_id;
	int64_t case_id;
	char caller[HL_PHONE_MAX];
	enum hl_call_state state;
	bool inbound;         /* always true for now; callbacks are case events */
	hl_ms offered_at;
	hl_ms answered_at;    /* 0 = never */
	hl_ms ended_at;       /* 0 = not yet (abandon/voicemail also end it) */
	char *queue, *agent, *outcome;
	bool is_new, dirty;
};

/* What we remember of a phone number across cases (hotline.callers). */
struct hl_caller {
	char caller[HL_PHONE_MAX];
	bool confidential;
	hl_ms repeat_alerted_at;  /* the last repeat_caller crossing: the last call of its window; 0 = never */
	/* the last crossings, ascending (the last is repeat_alerted_at), and the instant at or before
	 * which nothing is known (a crossing no longer kept; 0 = none): rules_alerts.c, sql/082 */
/* Two: a late call re-follows the chain from the last crossing before it,
 * unless it is dated before the two last (2 x threshold of that caller's
 * calls back: far more than a PBX's lag).  Each crossing kept costs the
 * store a load of `threshold` more calls of a busy number with every one of
 * its events: with 8, call.offered of Zipf callers ran 0.86-0.90 of the
 * old rule's acks/s in interleaved pairs; with 2, as fast as the old rule
 * (tests/bench/analysis.md, session 38). */
#define HL_REPEAT_KEEP 2
	hl_ms repeat_crossings[HL_REPEAT_KEEP];
	int n_repeat_crossings;
	hl_ms repeat_floor;
	hl_ms *inbound;           /* times of its recent inbound calls, ascending */
	size_t n_inbound, cap_inbound;
	bool is_new, dirty;
};

/* ------------------------------------------------------------------ alerts */

#define HL_ALERT_KIND_MAX 32

struct hl_alert {
	int64_t id;               /* 0 until the database assigned it */
	char kind[HL_ALERT_KIND_MAX]; /* callback_overdue, update_due_soon, repeat_caller, ... */
	int64_t case_id;
	char caller[HL_PHONE_MAX];
	bool confidential;
	int level;                /* starts at 1 */
	hl_ms raised_at;
	hl_ms due_at;             /* the clock's due time, 0 when not a clock alert */
	hl_ms escalate_at;        /* next escalation, 0 = never (due-soon, acked, max level) */
	hl_ms acked_at;
	char *acked_by;
	char dedupe[128];         /* unique key: makes each breach alert exactly once */
	char *detail;             /* short human text, may be NULL */
	bool is_new, dirty;
	char order_id[HL_ID_BYTES + 1];   /* order alerts: the order; "" otherwise */
	char department[HL_ID_BYTES + 1]; /* order alerts: its department; "" otherwise */
};

/*
 * Alert families, the one list of them: stats and /metrics count raised
 * alerts per family, a family being the prefix of the alert's kind
 * ("callback" counts callback_due_soon and callback_overdue).
 */
#define HL_ALERT_FAMILIES 12
const char *hl_alert_family(size_t i);     /* NULL from HL_ALERT_FAMILIES on */
int hl_alert_family_of(const char *kind);  /* its index, -1 when none */

/* ----------------------------------------------------------------- helpers */

/* util.c: pure helpers */
int hl_parse_duration(const char *s, int64_t *seconds);        /* "90s" "30m" "48h" "2d" "120" ; 0 ok, -1 bad */
/*
 * A span is a configured deadline length: either milliseconds (>= 0) or, for
 * "Nwd", N working days of a calendar, encoded as a negative number so that
 * a span fits wherever a millisecond duration was kept before.  Turn a span
 * into a due time with hl_deadline() (calendar.h); never add it to a time.
 */
#define HL_SPAN_WD(n) (-(int64_t)(n) - 1)
#define HL_SPAN_WD_MAX 3660
static inline bool hl_span_is_wd(int64_t span) { return span < 0; }
static inline int hl_span_wd(int64_t span) { return (int)(-span - 1); }
/* hl_parse_duration's grammar in milliseconds, plus "Nwd" (0 <= N <= HL_SPAN_WD_MAX); 0 ok, -1 bad. */
int hl_parse_span(const char *s, int64_t *span);
int hl_parse_time(const char *s, hl_ms *out);                   /* RFC 3339 with offset or Z; 0 ok, -1 bad */
size_t hl_format_time(hl_ms t, char *buf, size_t len);          /* "2026-11-20T01:15:00.000Z"; needs 25 bytes */
int hl_phone_normalize(const char *in, char *out, size_t outlen);/* hl_phone_e164 under the configured plan; 0 ok, -1 bad */
void hl_phone_mask(const char *phone, char *out, size_t outlen);/* "+86138****0001" */
bool hl_const_time_eq(const char *a, const char *b);

/*
 * How this hotline's callers write numbers (config `phone`, docs/configuration.md):
 * the country calling code ("86"), the trunk prefix dialled before a national
 * number ("0") and the international prefix ("00").  country_code "" = no
 * country: numbers are kept as sent, separators removed (the v1 behaviour).
 */
struct hl_phone_plan {
	char country_code[8];
	char trunk_prefix[8];
	char international_prefix[8];
};
/* util.c: the number as E.164 ("+8613900000077") under plan, or a short
 * service number as dialled ("12345", "110"); 0 ok, -1 bad.  Pure. */
int hl_phone_e164(const char *in, const struct hl_phone_plan *plan, char *out, size_t outlen);
/* The plan hl_phone_normalize uses, set when the configuration is (re)loaded;
 * NULL = no country.  Copied. */
void hl_phone_set_plan(const struct hl_phone_plan *plan);
uint64_t hl_hash_str(const char *s);                            /* FNV-1a */
/* util.c: drop, in place, the bytes of every incomplete UTF-8 sequence in s.
 * A "%.64s" cuts bytes, not characters: text cut through a multi-byte
 * character is invalid UTF-8, which PostgreSQL refuses (and with it the
 * batch) and JSON readers choke on.  Returns s. */
char *hl_utf8_mend(char *s);

/* util.c: what a PostgreSQL error (its SQLSTATE, NULL or "" when none) says
 * of a transaction that failed.  HL_DB_RETRY: a serialization failure or a
 * deadlock, gone when the transaction runs again; HL_DB_REFUSING: the server
 * refuses writes for now (disk full, out of memory, a statement or lock
 * timeout, a read-only standby, shutting down, an I/O error), whatever the
 * transaction holds; HL_DB_REFUSED: anything else, which this transaction's
 * contents may have caused.  Pure. */
enum hl_db_failure { HL_DB_REFUSED, HL_DB_RETRY, HL_DB_REFUSING };
enum hl_db_failure hl_db_failure_of(const char *sqlstate);

#endif
