/*
 * ctl.h - what hotlinectl's files share (hotlinectl.c, ctl_options.c).
 * Private to hotlinectl; not part of the daemon.
 */
#ifndef HL_CTL_H
#define HL_CTL_H

#include <stdbool.h>
#include <stdint.h>
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

#endif
