/*
 * pbx_shell.h - the imperative half of hotline-pbx (libevent; see pbx.h).
 */
#ifndef HL_PBX_SHELL_H
#define HL_PBX_SHELL_H

#include <stdbool.h>
#include <stdint.h>

#include "pbx.h"

struct event_base;

/* ------------------------------------------------------------- main.c */

void pbx_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define PBX_ERR 3
#define PBX_WARN 4
#define PBX_INFO 6
#define PBX_DEBUG 7
extern int pbx_verbosity;
hl_ms pbx_now_ms(void);
hl_ms pbx_mono_ms(void); /* CLOCK_MONOTONIC: intervals */
/* The source is done (queue-log to the end): stop once the sender is idle. */
void pbx_source_done(void);

/* ------------------------------------------------------------- conf.c */

struct pbx_conf {
	char socket[256];      /* hotlined's Unix socket ("" = use tcp) */
	char tcp[256];         /* host:port */
	char token[512];       /* for TCP listeners with tokens */
	char state_file[512];  /* --follow position */
	char ami_user[128], ami_secret[256];
	int ami_backlog;       /* AMI: events kept while hotlined does not take them */
	int window;            /* events in flight */
	int poll_ms;           /* --follow: how often the file is looked at when idle */
	struct pbx_opts opts;
};
/* 0 ok; -1 with a message naming the file, line and key on stderr. */
int pbx_conf_load(const char *path, struct pbx_conf *c);
void pbx_conf_free(struct pbx_conf *c);

/* ----------------------------------------------------------- sender.c */

struct sender;
struct sender_stats {
	uint64_t sent, acked, duplicates, rejected, retries, reconnects;
};
/* on_done(ctx, pos) for each item once hotlined answered it, in order. */
struct sender *sender_new(struct event_base *base, const struct pbx_conf *c,
                          void (*on_done)(void *ctx, uint64_t pos), void *ctx);
void sender_free(struct sender *s);
/* Queue one request line (owned: freed by the sender), its id, and the
 * source position that is safe once it is acknowledged. */
void sender_push(struct sender *s, char *line, const char *id, uint64_t pos);
size_t sender_backlog(const struct sender *s);  /* queued + in flight */
bool sender_idle(const struct sender *s);
const struct sender_stats *sender_stats(const struct sender *s);

/* ----------------------------------------------------------- follow.c */

struct qlreader;
struct qlreader *qlreader_new(struct event_base *base, const struct pbx_conf *c, const char *path, bool follow,
                              bool backfill, struct sender **sender_out);
void qlreader_stop(struct qlreader *r);   /* stop reading; state kept */
void qlreader_free(struct qlreader *r);   /* writes the state one last time */
const struct pbx_counts *qlreader_counts(const struct qlreader *r);
/* An import (without --follow) that stopped because the file could not be read. */
bool qlreader_failed(const struct qlreader *r);

/* ---------------------------------------------------------- rotated.c */

/* A --follow position: the file (device, inode, hash of its first line) and the offset. */
struct ql_saved {
	unsigned long long dev, ino, pos, sig;
	bool ok;
};
/* Open a queue_log for reading: a file, or one ending ".gz" decompressed into an anonymous
 * memory file (memfd); -1 with errno when it cannot be. */
int pbx_open_log(const char *name);
/* Hash of the first line (at most 512 bytes) of an open file; 0 when it has no whole line yet. */
uint64_t pbx_first_line_sig(int fd);
/* The file a position names, renamed (or copied by copytruncate) beside path; its name in out. */
bool pbx_find_rotated(const char *path, const struct ql_saved *s, char *out, size_t outlen);
/* After finishing the open file done_fd, no longer at path: the file rotated after it and before
 * the live one (two rotations while the bridge was away or behind); its name in out. */
bool pbx_find_between(const char *path, int done_fd, char *out, size_t outlen);

/* -------------------------------------------------------------- ami.c */

struct amiclient;
struct amiclient *amiclient_new(struct event_base *base, const struct pbx_conf *c, const char *hostport,
                                bool backfill, struct sender **sender_out);
void amiclient_free(struct amiclient *a);
const struct pbx_counts *amiclient_counts(const struct amiclient *a);
/* Events dropped because hotlined did not take them (ami.backlog full). */
uint64_t amiclient_dropped(const struct amiclient *a);

#endif
