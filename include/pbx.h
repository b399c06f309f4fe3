/*
 * pbx.h - hotline-pbx: an Asterisk PBX's own records turned into hotlined events.
 *
 * hotline-pbx (CONTRACT section 8, docs/pbx.md) is a small libevent program
 * beside the daemon.  Like the daemon it is split into a pure core and a
 * shell:
 *
 *   core (no I/O, unit-tested in tests/unit/test_pbx.c)
 *     pbx/pbx_event.c   caller-id normalization, event ids, the JSON line,
 *                       the table of calls in progress
 *     pbx/queue_log.c   one queue_log line -> zero or more events
 *     pbx/ami_map.c     one AMI message -> zero or more events
 *     pbx/visits.c      how many times a channel entered each queue
 *     pbx/ql_time.c     a queue_log record's time (epoch, or a table's date and time)
 *   shell
 *     pbx/sender.c      the event-socket client: pipelined, in order, and a
 *                       record counts as done only once hotlined acknowledged it
 *     pbx/follow.c      reading / tailing the queue_log, rotation, state file
 *     pbx/rotated.c     the files rotation leaves beside the queue_log
 *     pbx/ami.c         the AMI TCP client (login, reconnect with backoff)
 *     pbx/conf.c        the libconfig file (conf/hotline-pbx.conf)
 *     pbx/main.c        command line, signals, counters
 *
 * Ids.  A call is the caller's channel: call_id = <id_prefix><uniqueid>.
 * An event's id is <id_prefix><uniqueid>:<kind>:<queue>, so re-reading a line
 * (after kill -9, a rotation, a restarted import) or receiving the same fact
 * from the queue_log and from AMI gives the same id: hotlined answers
 * duplicate and nothing happens twice.  The queue is the discriminator for a
 * caller who passes through several queues on one channel, and "#n" after it
 * for the n-th visit of one channel to one queue (visits.c).
 */
#ifndef HL_PBX_H
#define HL_PBX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotlined.h"

#define PBX_VERSION HOTLINED_VERSION
#define PBX_UID_MAX 64     /* longest uniqueid accepted (Asterisk writes ~20) */
#define PBX_NAME_MAX 128   /* queue and agent names */

enum pbx_kind { PBX_OFFERED = 1, PBX_ANSWERED, PBX_ABANDONED, PBX_ENDED };

/* The call.ended outcome of a call the bridge forgets: its end never came (docs/pbx.md). */
#define PBX_LOST_OUTCOME "pbx_lost"

/* "offered", "answered", "abandoned", "ended" (the id part) */
const char *pbx_kind_name(enum pbx_kind k);

struct pbx_event {
	enum pbx_kind kind;
	char id[HL_ID_MAX + 1];
	char call_id[HL_ID_MAX + 1];
	hl_ms at;
	char caller[HL_PHONE_MAX];     /* offered only: normalized; "" when withheld */
	bool withheld;                 /* offered only: no usable caller id, sent as "withheld": true */
	char queue[PBX_NAME_MAX * 4 + 1]; /* room for pbx_event_ids' \xHH escapes */
	char agent[PBX_NAME_MAX * 4 + 1]; /* answered, ended */
	char outcome[40];              /* ended */
	bool synthesized;              /* not in the source: derived (see docs/pbx.md) */
	int visit;                     /* the channel's n-th visit to this queue (0, 1: the first) */
};

/* What the mapping needs from the configuration (pbx/conf.c fills it). */
struct pbx_opts {
	char id_prefix[33];
	char country_code[8];      /* "" = numbers without '+' stay as written */
	char trunk_prefix[8];      /* "0": 0xxxx -> +<cc>xxxx */
	char intl_prefix[8];       /* "00": 00xxxx -> +xxxx */
	int national_length;       /* digits of a national number written without prefix (0 = off) */
	char complete_outcome[40]; /* call.ended outcome for COMPLETECALLER/AGENT ("completed") */
	char **queues;             /* only these queues; n_queues == 0: all */
	size_t n_queues;
	int64_t leave_grace_ms;    /* AMI: QueueCallerLeave without connect -> abandoned after this */
	char charset[32];          /* the PBX's encoding of queue and agent names ("GB18030"); "" = UTF-8 */
};

void pbx_opts_defaults(struct pbx_opts *o);

/* Counters of what the mappers saw (per source line / AMI message). */
struct pbx_counts {
	uint64_t lines;        /* lines / messages read */
	uint64_t events;       /* events derived (incl. synthesized) */
	uint64_t synthesized;  /* events derived without a line of their own */
	uint64_t skipped;      /* known records that map to nothing (AGENTLOGIN, RINGNOANSWER, ...) */
	uint64_t unknown;      /* well-formed records of an event type we do not know */
	uint64_t malformed;    /* lines we cannot read (cut short, bad fields) */
	uint64_t anonymous;    /* calls without a usable caller id: offered as withheld */
	uint64_t other_queue;  /* records of queues not configured */
	uint64_t restarts;     /* Asterisk restart markers (QUEUESTART) */
	uint64_t forgotten;    /* calls with no record for 12 h (AMI: or gone at a resync): ended "pbx_lost" */
};

typedef void (*pbx_emit_fn)(void *ctx, const struct pbx_event *ev);

/* ------------------------------------------------------------ pbx_event.c */

/* A caller id as PBXs write it ("\"Name\" <0138...>", "+86 138...", "00861...",
 * "anonymous") -> a normalized number.  0 ok; -1 when there is no usable number. */
int pbx_caller_normalize(const struct pbx_opts *o, const char *raw, char *out, size_t outlen);

/* Fill ev->id and ev->call_id from the uniqueid, ev->kind, ev->queue and
 * ev->visit.  The queue and agent are first decoded from o->charset (a PBX
 * configured in GBK) into UTF-8, in ev itself; a byte that is not UTF-8
 * then (or that the charset cannot decode) in the uniqueid, queue or agent
 * is written "\xHH", so the id is the one hotlined receives and two names
 * that differ only there stay two. */
void pbx_event_ids(const struct pbx_opts *o, struct pbx_event *ev, const char *uid);

/* The request line for hotlined, "\n"-terminated (malloc'd; NULL when out of memory). */
char *pbx_event_json(const struct pbx_event *ev, bool backfill);

/* Is the queue (as the PBX wrote it: decoded from o->charset) one of o->queues? */
bool pbx_queue_wanted(const struct pbx_opts *o, const char *queue);

/* ------------------------------------------------------------ charset.c */

/* A queue or agent name as the PBX wrote it, decoded from o->charset into
 * UTF-8 (copied as it is without a charset); bytes the charset cannot
 * decode are written "\xHH".  out is cut at a character when too small. */
void pbx_name_decode(const struct pbx_opts *o, const char *in, char *out, size_t outlen);

/* Can names be decoded from this charset ("" and the UTF-8 names: as written)? */
bool pbx_charset_known(const char *charset);

/* Release what decoding names holds (at exit: leak checkers stay quiet). */
void pbx_charset_free(void);

/* Calls in progress, by uniqueid: what the record-by-record sources need to
 * remember (the queue of a call, whether an agent answered). */
struct pbx_call {
	char uid[PBX_UID_MAX + 1];
	char queue[PBX_NAME_MAX + 1];
	char agent[PBX_NAME_MAX + 1];
	bool anonymous;   /* offered without a number by a bridge before "withheld" (a state file
	                   * it saved): nothing was sent, so nothing of the call is sent */
	bool connected;
	bool ended;
	bool answering;   /* AMI: a member answered (DialEnd ANSWER), AgentConnect to come */
	bool gave_up;     /* AMI: the abandon was inferred from its leave (kept for a late AgentConnect) */
	bool prev_connected, prev_ended; /* the visit before the latest join / ENTERQUEUE was answered / ended (AMI) */
	hl_ms left_at;    /* AMI: left the queue, not (yet) connected: when (its Timestamp) */
	hl_ms left_seen;  /* AMI: ... and when we heard of it (the grace counts from here) */
	hl_ms seen_at;    /* last record or event about it (AMI: our clock; queue_log: record time, 0 = unknown): calls whose end we missed are forgotten */
	char linkedid[PBX_UID_MAX + 1]; /* AMI: the join's Linkedid ("" = none given) */
	bool leg;         /* a Local channel of another call in this queue (a queue as a member of a queue): nothing sent */
	bool leg_agent;   /* agent is the member who answered in the inner queue (its leg) */
	char number[HL_PHONE_MAX]; /* queue_log: the caller's number as offered ("" withheld): links a leg */
	hl_ms last_at;    /* AMI: the time of its last event (seen_at is our monotonic clock) */
	bool unconfirmed; /* AMI: not heard of since the link came back (resync) */
};
struct pbx_calls;
struct pbx_calls *pbx_calls_new(void);
void pbx_calls_free(struct pbx_calls *t);
struct pbx_call *pbx_calls_get(struct pbx_calls *t, const char *uid);
struct pbx_call *pbx_calls_put(struct pbx_calls *t, const char *uid); /* get or create */
void pbx_calls_del(struct pbx_calls *t, const char *uid);
size_t pbx_calls_count(const struct pbx_calls *t);
/* Visit every call (the callback may not add or delete). */
void pbx_calls_each(struct pbx_calls *t, void (*fn)(void *ctx, struct pbx_call *c), void *ctx);
/* Delete every call for which drop(ctx, c) is true; how many. */
size_t pbx_calls_drop_if(struct pbx_calls *t, bool (*drop)(void *ctx, struct pbx_call *c), void *ctx);
void pbx_calls_clear(struct pbx_calls *t);

/* ------------------------------------------------------------- visits.c */

/* Visits of a channel (uniqueid) to a queue, counted in record order. */
struct pbx_visits;
struct pbx_visits *pbx_visits_new(void);
void pbx_visits_free(struct pbx_visits *v);
/* An ENTERQUEUE / QueueCallerJoin at `at`: returns which visit it starts (1, 2, ...);
 * the same enter read again (same time, the channel not gone since) gives the visit it started. */
int pbx_visits_enter(struct pbx_visits *v, const char *uid, const char *queue, hl_ms at);
/* The channel left the queue (abandoned, ended, transferred) at `at`. */
void pbx_visits_leave(struct pbx_visits *v, const char *uid, const char *queue, hl_ms at);
/* Another record of the channel in the queue: the visit it belongs to (1 when unknown). */
int pbx_visits_current(struct pbx_visits *v, const char *uid, const char *queue, hl_ms at);
size_t pbx_visits_count(const struct pbx_visits *v);
/* Every pair touched within `window` of the latest record time, least
 * recently touched first (what a restart needs to go on counting), and
 * putting one back. */
typedef void (*pbx_visit_fn)(void *ctx, const char *uid, const char *queue, int count, hl_ms last_at);
void pbx_visits_each(const struct pbx_visits *v, hl_ms window, pbx_visit_fn fn, void *ctx);
void pbx_visits_restore(struct pbx_visits *v, const char *uid, const char *queue, int count, hl_ms last_at);

/* ------------------------------------------------------------ queue_log.c */

/* ql_time.c: a record's time field, "1366720340[.303267]" or (a queue_log
 * table) "2012-07-04 07:33:23[.085718][+02:00]", local time without an
 * offset -> ms since the epoch; -1 when it is neither, or before 2000. */
hl_ms pbx_ql_time(const char *s);

struct pbx_ql;
struct pbx_ql *pbx_ql_new(const struct pbx_opts *o);
void pbx_ql_free(struct pbx_ql *m);

enum pbx_line_result { PBX_LINE_MAPPED, PBX_LINE_SKIPPED, PBX_LINE_UNKNOWN, PBX_LINE_MALFORMED };

/* One line (without its newline; a trailing '\r' is ignored).  Emits the
 * derived events in order.  `why` (may be NULL) gets a short reason for
 * MALFORMED / UNKNOWN (static text or the event name, never a caller id). */
enum pbx_line_result pbx_ql_line(struct pbx_ql *m, const char *line, size_t len, pbx_emit_fn emit, void *ctx,
                                 char *why, size_t why_len);
/* The last line of an import, which has no newline: it may be whole, or cut
 * where the writer stopped (a log copied while Asterisk wrote it, a full
 * disk).  Read as pbx_ql_line reads a line, except that a record that may
 * have lost the end of a field that matters is malformed (queue_log.c). */
enum pbx_line_result pbx_ql_last_line(struct pbx_ql *m, const char *line, size_t len, pbx_emit_fn emit,
                                      void *ctx, char *why, size_t why_len);
const struct pbx_counts *pbx_ql_counts(const struct pbx_ql *m);
/* How many calls the mapper remembers (in progress; from a state an older bridge saved, also anonymous calls ended lately). */
size_t pbx_ql_in_progress(const struct pbx_ql *m);
/* The reader dropped a partial line it will never see completed (rotation): count it. */
void pbx_ql_note_cut(struct pbx_ql *m);
/* What the mapper remembers of the lines read so far (the calls in progress,
 * the channels' visits to queues) as text, one record per line ("c\t...",
 * "v\t..."; malloc'd): saved with a position, it lets a restarted reader go
 * on from there with the same ids.  pbx_ql_restore takes one such line back
 * (without its newline); false when it is not one. */
char *pbx_ql_state(const struct pbx_ql *m);
bool pbx_ql_restore(struct pbx_ql *m, const char *line);

/* ------------------------------------------------------------ ami_map.c */

#define PBX_AMI_MAX_HEADERS 128
struct pbx_ami_msg {
	size_t n;
	struct { const char *key, *value; } h[PBX_AMI_MAX_HEADERS];
	char *buf; /* owned copy the pointers point into */
};
/* Parse one AMI message ("Key: Value" lines, CRLF or LF).  0 ok, -1 bad/empty. */
int pbx_ami_parse(const char *text, size_t len, struct pbx_ami_msg *msg);
void pbx_ami_msg_free(struct pbx_ami_msg *msg);
/* The value of a header (case-insensitive key), NULL when absent. */
const char *pbx_ami_get(const struct pbx_ami_msg *msg, const char *key);

struct pbx_amimap;
struct pbx_amimap *pbx_amimap_new(const struct pbx_opts *o);
void pbx_amimap_free(struct pbx_amimap *m);
/* One message ("Event: ..."); `now` dates events without a Timestamp header. */
void pbx_amimap_event(struct pbx_amimap *m, const struct pbx_ami_msg *msg, hl_ms now, pbx_emit_fn emit, void *ctx);
/* Time passes: callers who left a queue unanswered more than leave_grace_ms ago are abandoned,
 * calls without news for 12 h are forgotten (both measured on the pbx_amimap_mono clock once it
 * is set: set it before each tick too; `now` otherwise). */
void pbx_amimap_tick(struct pbx_amimap *m, hl_ms now, pbx_emit_fn emit, void *ctx);
/* The bridge's monotonic clock (ms) at the next message or tick: restarts,
 * the leave grace and forgetting are told on it, so that a step of the wall
 * clock is none of them.  Never set: `now`. */
void pbx_amimap_mono(struct pbx_amimap *m, hl_ms mono);
const struct pbx_counts *pbx_amimap_counts(const struct pbx_amimap *m);
/* The AMI session was lost (up = false) or logged in again (up = true: the
 * shell asks QueueStatus with ActionID PBX_AMI_RESYNC_ID; its QueueEntry
 * events and QueueStatusComplete resynchronise the calls, ami_map.c). */
#define PBX_AMI_RESYNC_ID "hotline-pbx-resync"
void pbx_amimap_link(struct pbx_amimap *m, bool up);
/* The QueueStatus could not be had (an error answered it): end the resync without its list. */
void pbx_amimap_resync_failed(struct pbx_amimap *m);

#endif
