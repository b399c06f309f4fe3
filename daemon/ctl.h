/*
 * ctl.h - what hotlinectl's files share (hotlinectl.c, ctl_options.c, ctl_conn.c,
 * ctl_render.c).
 * Private to hotlinectl; not part of the daemon.
 */
#ifndef HL_CTL_H
#define HL_CTL_H

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/un.h>

#include "calendar.h"

/* Exit codes (documented in ctl_usage() and hotlinectl(1)). */
enum {
	EX_OK = 0,
	EX_REFUSED = 1,  /* a response said ok:false */
	EX_USAGE = 2,    /* bad command line or configuration */
	EX_CONNECT = 3,  /* cannot connect, or the connection was lost */
	EX_PROTO = 4,    /* no response in time, or a response that is not JSON */
};

struct opts {
	const char *conf;
	const char *tcp;
	const char *unix_path;
	const char *token;
	int timeout_ms;
	bool json;
	int64_t since;
	const char *by;
	const char *tz;      /* --tz ZONE: render times in ZONE */
	bool tls;            /* --tls: TLS on TCP */
};

/* Where to connect: filled from the options, else from the configuration. */
struct target {
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char host[256];
	char port[16];
	char token[512];
	bool tls;               /* TLS on TCP, verified against ca (NULL: the system's CAs) */
	char ca[512], cert[512], key[512];
};

/* The zone times are shown in: --tz, else the configuration's, else UTC (NULL). */
extern struct hl_zone *ctl_show_zone;

void ctl_fail(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
int64_t ctl_parse_id(const char *s, const char *what);
void ctl_usage(FILE *f);
/* Options anywhere on the line; returns the index of the command word. */
int ctl_parse_options(int argc, char **argv, struct opts *o);
/* Where to connect, with which token, TLS and zone (see ctl_options.c). */
void ctl_resolve_target(const struct opts *o, struct target *t);
/* Load the zone chosen by --tz or the configuration into ctl_show_zone (after ctl_resolve_target). */
void ctl_load_zone(const struct opts *o);

/* ---- ctl_conn.c: connecting, line I/O, requests ---- */

/* The connection: fd plus the bytes read but not yet returned as lines. */
struct link {
	int fd;
	struct ctl_tls *tls; /* NULL: plain */
	char *buf;
	size_t len, cap;
	bool eof;
};

/* Set by SIGINT/SIGTERM: waits return early, watch stops. */
extern volatile sig_atomic_t ctl_stop_flag;

int64_t ctl_mono_ms(void);
/* Write everything (waiting while the socket is full).  0, or -1 with errno. */
int ctl_write_all(struct link *l, const char *p, size_t len);
/* A complete line out of the buffer (malloc'd, no newline), or NULL. */
char *ctl_take_line(struct link *l);
/* One read() into the buffer.  1 = got bytes, 0 = EOF, -1 = error (errno). */
int ctl_read_some(struct link *l);
/* Next line within timeout_ms (-1 = forever).  NULL: timeout, EOF (l->eof) or a signal. */
char *ctl_read_line(struct link *l, int timeout_ms);
void ctl_link_close(struct link *l);
/* Connect and authenticate.  Returns 0, -2 when the daemon refused the token (permanent),
 * or -1 (cannot connect, connection lost) with err filled. */
int ctl_open_link(const struct target *t, struct link *l, int timeout_ms, char *err, size_t errlen);
/* ctl_open_link, or exit with EX_CONNECT. */
void ctl_must_open(const struct target *t, struct link *l, int timeout_ms);
bool ctl_response_ok(json_object *r);
/* A request object of this type with a fresh id ("hotlinectl:<pid>:<n>"). */
json_object *ctl_new_request(const char *type);
/* One request on a fresh connection, one response (takes req). */
json_object *ctl_one_shot(const struct target *t, const struct opts *o, json_object *req);

/* ---- ctl_render.c: human-readable output ---- */

/* A member as text for printing (terminal-safe), NULL when absent or null. */
const char *ctl_jstr(json_object *o, const char *key);
/* Print a JSON line from the daemon with what a terminal would act on escaped (still valid JSON). */
void ctl_put_json(const char *line);
/* Print "hotlinectl: CODE: message" for an ok:false response; returns EX_REFUSED. */
int ctl_report_error(json_object *r);
/* The `case` page. */
void ctl_print_case(json_object *c);
/* `watch`: one alert, one acknowledgement. */
void ctl_print_alert_line(json_object *a);
void ctl_print_ack_line(json_object *a);
/* `stats`: nested objects flattened into "a.b  value" lines. */
void ctl_print_tree(json_object *o, const char *prefix);

#endif
