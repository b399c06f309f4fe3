/*
 * follow.c - reading an Asterisk queue_log to its end, or following it, for hotline-pbx.
 *
 * The file is read in small chunks (64 KiB) from a zero-delay libevent
 * timer, so the sockets get their turn between chunks; while the sender has
 * many events waiting for acknowledgements, reading pauses (backpressure).
 * At the end of the file, `queue-log PATH` is done once every event is
 * acknowledged; `--follow` looks at the file again every poll_ms:
 *
 *   rename-and-create (logrotate's default): the path names another inode.
 *     Asterisk goes on writing to the renamed file until it reopens the path,
 *     so the switch waits until the new file has data, reads the old one to
 *     its end once more, and then reads the new one from offset 0.
 *   copytruncate: same inode, but smaller than our position, or its first
 *     line is no longer the one we started on (it was truncated and written
 *     again before we looked; a reader that waited checks this before it
 *     reads on).  The copy beside it (same first line, as long as our
 *     position) holds what we had not read yet: it is finished from our
 *     position, half-read line included, then the file is read from 0.
 *     Lines Asterisk wrote between logrotate's copy and its truncate are
 *     lost: that is copytruncate's own gap (docs/pbx.md recommends
 *     rename-and-create).
 *
 * Position and the state file.  Every event carries the offset just after
 * its line; the sender reports them in order as hotlined acknowledges.
 * The position written is the end of the last whole line read at a moment
 * when nothing is in flight (every event of every line before it
 * acknowledged), with the file's device, inode and a hash of its first
 * line, and what the mapper remembers at that line: the calls in progress
 * and the channels' visits to queues (a channel's second visit to a queue
 * has ids of its own, visits.c; a reader starting with an empty memory
 * would give it the first visit's, and hotlined would answer duplicate).
 * It is written atomically (temp file, fsync, rename, fsync of the
 * directory) at most every 200 ms, from the timer or the moment the last
 * event in flight is acknowledged, so after kill -9 the lines read since
 * are read again; their ids make hotlined answer duplicate: nothing doubles,
 * and nothing unacknowledged was ever behind the position: nothing is lost.
 * Before switching files the reader waits until everything in flight is
 * acknowledged, so a position always belongs to the file it names.
 * At start, a state naming another inode is looked for beside PATH (PATH.1,
 * PATH-20251202 with dateext: rotated.c) and that file is finished first;
 * so is the copy copytruncate made while the bridge was stopped (found by
 * its first line).  After a rotated file, the files rotated after it and
 * before the live one (two rotations while the bridge was away or behind)
 * are read before the live one (rotated.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "pbx_shell.h"

#define CHUNK 65536
#define SAVE_MS 200
/* The most of one line kept in memory.  A record is at most 4 KiB (the
 * mapper calls anything longer malformed), so a line that grows past this
 * is already lost; what follows, up to its newline, is only counted.  A
 * file without newlines (a wrong path, a binary, a runaway writer) must not
 * make the bridge buffer all of it. */
#define LINE_KEEP 16384

struct qlreader {
	struct event_base *base;
	const struct pbx_conf *conf;
	char path[512];
	bool follow, backfill;
	struct pbx_ql *map;
	struct sender *snd;

	int fd;
	dev_t dev;
	ino_t ino;
	uint64_t sig;            /* hash of the first line of the file being read (0 = not yet known) */
	uint64_t read_pos;       /* bytes read from fd */
	uint64_t consumed_pos;   /* end of the last whole line handed to the mapper */
	uint64_t line_end;       /* while mapping a line: the offset after it */
	uint64_t lineno;
	char *buf;               /* a partial line (its first LINE_KEEP bytes at most) */
	size_t blen, bcap;
	uint64_t dropped;        /* bytes of the partial line past LINE_KEEP, read and not kept */

	struct event *tick, *save_timer;
	bool eof, stopped, dirty, done_signalled;
	bool waited;             /* the last tick read nothing (end of file, backpressure) */
	bool failed;             /* an import that could not read its file: exit 1 */
	int last_errno;          /* the read error last logged, and when (not every poll_ms) */
	int64_t errno_logged_at;
	uint64_t saved_pos;
	ino_t saved_ino;
	int64_t saved_at;        /* monotonic ms of the last write of the state file */
	int64_t state_err_at;    /* ... and of the last failure logged (once a minute, not every save) */
	uint64_t logged_malformed;
};

static void schedule(struct qlreader *r, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(r->tick, &tv);
}

/* ----------------------------------------------------------- state file */


static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* The position is saved only when nothing is in flight: then every line up
 * to it has been mapped and acknowledged and none after it has been mapped,
 * so the mapper's memory saved with it (the calls in progress, the visits
 * that number a channel's second time in a queue) is exactly what a reader
 * starting there needs to give every later line the ids it would have had.
 * While events are in flight the last such position stands; after kill -9
 * what was read since is read again, and its ids make it duplicates. */
static void write_state(struct qlreader *r)
{
	if (!r->follow || !r->conf->state_file[0] || r->fd < 0 || !sender_idle(r->snd))
		return;
	uint64_t pos = r->consumed_pos;
	if (pos == r->saved_pos && r->ino == r->saved_ino)
		return;
	char tmp[600], head[160];
	snprintf(tmp, sizeof tmp, "%s.tmp", r->conf->state_file);
	int n = snprintf(head, sizeof head, "hotline-pbx 2 %llu %llu %llu %llu\n", (unsigned long long)r->dev,
	                 (unsigned long long)r->ino, (unsigned long long)pos, (unsigned long long)r->sig);
	char *memory = pbx_ql_state(r->map);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	bool ok = fd >= 0 && write_all(fd, head, (size_t)n) && write_all(fd, memory, strlen(memory)) && fsync(fd) == 0;
	free(memory);
	if (!ok || rename(tmp, r->conf->state_file) != 0) {
		/* (a full disk): retried at every save, said once a minute */
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (!r->state_err_at || pbx_mono_ms() - r->state_err_at >= 60000) {
			pbx_log(PBX_ERR, "state file %s: %s (the position is not saved)", r->conf->state_file, strerror(e));
			r->state_err_at = pbx_mono_ms();
		}
		return;
	}
	close(fd);
	r->state_err_at = 0;
	char dir[512];
	snprintf(dir, sizeof dir, "%s", r->conf->state_file);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	r->saved_pos = pos;
	r->saved_ino = r->ino;
	r->saved_at = pbx_mono_ms();
}

static void save_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct qlreader *r = arg;
	write_state(r);
	struct timeval tv = { 0, SAVE_MS * 1000 };
	evtimer_add(r->save_timer, &tv);
}


/* The position, and (version 2) the mapper's memory, given back to `map`.
 * Version 1 (a position alone) is read as before. */
static struct ql_saved read_state(const char *file, struct pbx_ql *map)
{
	struct ql_saved s = { 0 };
	FILE *f = file[0] ? fopen(file, "r") : NULL;
	if (!f)
		return s;
	int version = 0;
	s.ok = fscanf(f, "hotline-pbx %d %llu %llu %llu %llu", &version, &s.dev, &s.ino, &s.pos, &s.sig) == 5 &&
	       (version == 1 || version == 2);
	if (!s.ok) /* emptied by a crash of the file system, another program's, a later version's */
		pbx_log(PBX_WARN, "%s: not a hotline-pbx state file (version 1 or 2); the log is read from the "
		        "start (what was sent before is answered duplicate)", file);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	size_t bad = 0;
	if (s.ok && version == 2 && getline(&line, &cap, f) > 0) /* the rest of the first line */
		while ((len = getline(&line, &cap, f)) > 0) {
			if (line[len - 1] == '\n')
				line[len - 1] = '\0';
			bad += !pbx_ql_restore(map, line);
		}
	free(line);
	fclose(f);
	if (bad)
		pbx_log(PBX_WARN, "state file %s: %zu line(s) not understood, skipped", file, bad);
	return s;
}


/* ------------------------------------------------------------- reading */

static void on_event(void *ctx, const struct pbx_event *ev)
{
	struct qlreader *r = ctx;
	char *line = pbx_event_json(ev, r->backfill);
	if (!line) {
		pbx_log(PBX_ERR, "out of memory");
		abort();
	}
	sender_push(r->snd, line, ev->id, r->line_end);
}

/* `line` holds the first len bytes of the line at file offset `at`; the
 * reader goes on at `end` (after its newline; `last`: it has none, the end
 * of an import). */
static void one_line(struct qlreader *r, const char *line, size_t len, uint64_t at, uint64_t end, bool last)
{
	char why[128];
	r->lineno++;
	r->line_end = end;
	enum pbx_line_result res = last ? pbx_ql_last_line(r->map, line, len, on_event, r, why, sizeof why)
	                                : pbx_ql_line(r->map, line, len, on_event, r, why, sizeof why);
	if ((res == PBX_LINE_MALFORMED || res == PBX_LINE_UNKNOWN) &&
	    (r->logged_malformed++ < 20 || r->logged_malformed % 1000 == 0))
		pbx_log(PBX_WARN, "%s line %llu (offset %llu): %s", r->path, (unsigned long long)r->lineno,
		        (unsigned long long)at, why);
	r->consumed_pos = end;
	r->dirty = true;
}

static void feed(struct qlreader *r, const char *data, size_t n)
{
	/* file offset of buf[0]: the dropped bytes lie inside the first line */
	uint64_t base = r->read_pos - r->blen - r->dropped;
	if (r->blen + n > r->bcap) {
		size_t cap = r->bcap ? r->bcap : CHUNK;
		while (cap < r->blen + n)
			cap *= 2;
		r->buf = realloc(r->buf, cap);
		if (!r->buf)
			abort();
		r->bcap = cap;
	}
	memcpy(r->buf + r->blen, data, n);
	r->blen += n;
	r->read_pos += n;
	size_t start = 0;
	for (;;) {
		char *nl = memchr(r->buf + start, '\n', r->blen - start);
		if (!nl)
			break;
		size_t len = (size_t)(nl - (r->buf + start));
		one_line(r, r->buf + start, len, base + start, base + r->dropped + start + len + 1, false);
		base += r->dropped;
		r->dropped = 0;
		start += len + 1;
	}
	memmove(r->buf, r->buf + start, r->blen - start);
	r->blen -= start;
	if (r->blen > LINE_KEEP) { /* keep the head (the mapper calls it too long), count the rest */
		r->dropped += r->blen - LINE_KEEP;
		r->blen = LINE_KEEP;
	}
}

/* A partial line we will never see completed (end of an import, rotation). */
static void drop_partial(struct qlreader *r, const char *why)
{
	if (r->blen == 0)
		return;
	if (!r->follow) {
		/* read-to-end: a last line without newline may be whole; the mapper decides */
		one_line(r, r->buf, r->blen, r->read_pos - r->blen - r->dropped, r->read_pos, true);
	} else {
		pbx_ql_note_cut(r->map);
		pbx_log(PBX_WARN, "%s: a line cut short (%llu bytes) is dropped: %s", r->path,
		        (unsigned long long)(r->blen + r->dropped), why);
		r->consumed_pos = r->read_pos;
	}
	r->blen = 0;
	r->dropped = 0;
}

static int open_file(struct qlreader *r, const char *path, uint64_t pos)
{
	int fd = pbx_open_log(path); /* a rotated .gz decompressed (rotated.c) */
	if (fd < 0)
		return -1;
	struct stat st;
	/* no seek to 0: a pipe (zcat queue_log.gz | hotline-pbx queue-log /dev/stdin) cannot */
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode) || (pos > 0 && lseek(fd, (off_t)pos, SEEK_SET) < 0)) {
		/* a directory opens, but every read fails: an import would never end */
		int e = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) ? EISDIR : errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (r->fd >= 0)
		close(r->fd);
	r->fd = fd;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->sig = pbx_first_line_sig(fd);
	r->read_pos = r->consumed_pos = pos;
	r->blen = 0;
	r->dropped = 0;
	r->dirty = true;
	pbx_log(PBX_INFO, "reading %s from offset %llu", path, (unsigned long long)pos);
	return 0;
}

static void finish_if_done(struct qlreader *r)
{
	if (!r->follow && r->eof && sender_idle(r->snd) && !r->done_signalled) {
		r->done_signalled = true;
		pbx_source_done();
	}
}


/* At the end of the file in --follow: has it been rotated or truncated? */
static void check_rotation(struct qlreader *r)
{
	struct stat st;
	bool replaced = false, truncated = false;
	if (stat(r->path, &st) == 0)
		replaced = st.st_ino != r->ino || st.st_dev != r->dev;
	if (replaced) {
		/* Asterisk writes to the renamed file until it reopens the path, and
		 * to the new one only after: while the new file is empty, stay; once
		 * it has data, what the old one got before that is read first. */
		if (st.st_size == 0) {
			schedule(r, r->conf->poll_ms);
			return;
		}
		char chunk[CHUNK];
		ssize_t n = read(r->fd, chunk, sizeof chunk);
		if (n > 0) {
			feed(r, chunk, (size_t)n);
			schedule(r, 0);
			return;
		}
	} else {
		struct stat fst;
		if (fstat(r->fd, &fst) == 0 && (uint64_t)fst.st_size < r->read_pos)
			truncated = true;
		else if (r->read_pos > 0) {
			uint64_t sig = pbx_first_line_sig(r->fd);
			truncated = r->sig && sig != r->sig; /* truncated and written again since */
			if (!r->sig)
				r->sig = sig;
		}
	}
	if (!replaced && !truncated) {
		schedule(r, r->conf->poll_ms);
		return;
	}
	if (!sender_idle(r->snd)) {
		schedule(r, 20); /* positions in flight belong to this file: let them land first */
		return;
	}
	if (truncated) {
		/* What Asterisk wrote between our position and logrotate's copy is
		 * only in the copy: a bridge behind the file (hotlined slow or
		 * down, reading paused) would lose it.  Finish the copy from where
		 * reading stopped, with the part of a line already read (a read
		 * ends anywhere: its rest is in the copy); at the copy's end the
		 * path names another inode, and the live file is read from 0 as
		 * after a rename. */
		uint64_t consumed = r->consumed_pos, at = r->read_pos, dropped = r->dropped;
		size_t partial = r->blen;
		struct ql_saved here = { (unsigned long long)r->dev, (unsigned long long)r->ino, (unsigned long long)at,
		                      r->sig, true };
		char copy[1024];
		if (at > 0 && pbx_find_rotated(r->path, &here, copy, sizeof copy) && open_file(r, copy, at) == 0) {
			r->blen = partial; /* open_file emptied it; the bytes are still there */
			r->dropped = dropped;
			r->consumed_pos = consumed;
			pbx_log(PBX_INFO, "%s was truncated (copytruncate): finishing its copy %s from offset %llu",
			        r->path, copy, (unsigned long long)consumed);
			write_state(r);
			schedule(r, 0);
			return;
		}
	}
	drop_partial(r, replaced ? "file rotated" : "file truncated");
	char between[1024];
	if (replaced && pbx_find_between(r->path, r->fd, between, sizeof between) && open_file(r, between, 0) == 0) {
		/* rotated more than once while we were away or behind: the file
		 * rotated in between comes before the live one (rotated.c) */
		pbx_log(PBX_INFO, "%s was rotated more than once: reading %s, rotated in between, first", r->path,
		        between);
		write_state(r);
		schedule(r, 0);
		return;
	}
	if (replaced) {
		pbx_log(PBX_INFO, "%s was rotated (rename and create)", r->path);
		if (open_file(r, r->path, 0) != 0) {
			schedule(r, r->conf->poll_ms);
			return;
		}
	} else {
		pbx_log(PBX_INFO, "%s was truncated (copytruncate)", r->path);
		lseek(r->fd, 0, SEEK_SET);
		r->read_pos = r->consumed_pos = 0;
		r->sig = pbx_first_line_sig(r->fd);
	}
	write_state(r);
	schedule(r, 0);
}

/* Truncated (copytruncate) and written past our position again while we
 * waited (hotlined down for hours, reading paused): a read at our offset
 * would take the middle of the new file for the rest of ours, and the lines
 * after our position would be looked for in the copy from the wrong offset.
 * So a reader that waited looks at the first line before it reads on. */
static bool emptied_and_refilled(struct qlreader *r)
{
	struct stat fst;
	if (r->read_pos == 0 || !r->sig || fstat(r->fd, &fst) != 0)
		return false;
	return (uint64_t)fst.st_size < r->read_pos || pbx_first_line_sig(r->fd) != r->sig;
}

static void tick_cb(evutil_socket_t fd0, short what, void *arg)
{
	(void)fd0, (void)what;
	struct qlreader *r = arg;
	if (r->stopped)
		return;
	if (r->fd < 0) { /* --follow before the file exists */
		if (open_file(r, r->path, 0) != 0) {
			schedule(r, r->conf->poll_ms);
			return;
		}
	}
	if (sender_backlog(r->snd) >= (size_t)r->conf->window * 16) {
		r->waited = true;
		schedule(r, 10);
		return;
	}
	if (r->follow && r->waited && emptied_and_refilled(r)) {
		check_rotation(r); /* it finds the copy from our position, then reads the new file from 0 */
		return;
	}
	char chunk[CHUNK];
	ssize_t n = read(r->fd, chunk, sizeof chunk);
	r->waited = n <= 0;
	if (n > 0) {
		feed(r, chunk, (size_t)n);
		if (!r->sig && r->consumed_pos > 0)
			r->sig = pbx_first_line_sig(r->fd);
		schedule(r, 0);
		return;
	}
	if (n < 0) {
		int e = errno;
		if (!r->follow) { /* an import ends: what could be read was read, the rest cannot */
			pbx_log(PBX_ERR, "%s: %s (at offset %llu); giving up", r->path, strerror(e),
			        (unsigned long long)r->read_pos);
			r->failed = r->eof = true;
			finish_if_done(r);
			return;
		}
		if (e != r->last_errno || pbx_mono_ms() - r->errno_logged_at >= 60000) {
			pbx_log(PBX_ERR, "%s: %s (trying again every %d ms)", r->path, strerror(e), r->conf->poll_ms);
			r->last_errno = e;
			r->errno_logged_at = pbx_mono_ms();
		}
		schedule(r, r->conf->poll_ms);
		return;
	}
	r->last_errno = 0;
	if (!r->follow) {
		drop_partial(r, "end of file");
		r->eof = true;
		finish_if_done(r);
		return;
	}
	check_rotation(r);
}

static void on_done(void *ctx, uint64_t pos)
{
	struct qlreader *r = ctx;
	(void)pos; /* the position saved is the end of the lines read, once nothing is in flight */
	r->dirty = true;
	/* under a steady trickle something is nearly always in flight when the
	 * save timer fires: save at the moments nothing is, at most every SAVE_MS */
	if (sender_idle(r->snd) && pbx_mono_ms() - r->saved_at >= SAVE_MS)
		write_state(r);
	finish_if_done(r);
}


struct qlreader *qlreader_new(struct event_base *base, const struct pbx_conf *c, const char *path, bool follow,
                              bool backfill, struct sender **sender_out)
{
	struct qlreader *r = calloc(1, sizeof *r);
	if (!r)
		abort();
	r->base = base;
	r->conf = c;
	snprintf(r->path, sizeof r->path, "%s", path);
	r->follow = follow;
	r->backfill = backfill;
	r->fd = -1;
	r->saved_pos = UINT64_MAX;
	r->map = pbx_ql_new(&c->opts);
	r->snd = sender_new(base, c, on_done, r);
	*sender_out = r->snd;
	r->tick = evtimer_new(base, tick_cb, r);
	r->save_timer = evtimer_new(base, save_cb, r);

	if (!follow) {
		if (open_file(r, path, 0) != 0) {
			pbx_log(PBX_ERR, "%s: %s", path, strerror(errno));
			qlreader_free(r);
			*sender_out = NULL;
			return NULL;
		}
	} else {
		/* --follow keeps its position there: one that cannot be written
		 * would be found out only after a restart read everything again */
		char tmp[600];
		snprintf(tmp, sizeof tmp, "%s.tmp", c->state_file);
		int probe = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
		if (probe < 0) {
			pbx_log(PBX_ERR, "state file %s: %s (--follow must be able to write it)", tmp, strerror(errno));
			qlreader_free(r);
			*sender_out = NULL;
			return NULL;
		}
		close(probe);
		struct ql_saved s = read_state(c->state_file, r->map);
		struct stat st;
		bool have = stat(path, &st) == 0;
		char rotated[1024];
		if (s.ok && have && st.st_ino == s.ino && st.st_dev == s.dev && (uint64_t)st.st_size >= s.pos &&
		    open_file(r, path, s.pos) == 0 && (r->sig == s.sig || s.pos == 0)) {
			pbx_log(PBX_INFO, "resuming %s at offset %llu", path, s.pos);
		} else if (s.ok && pbx_find_rotated(path, &s, rotated, sizeof rotated) && open_file(r, rotated, s.pos) == 0) {
			pbx_log(PBX_INFO, "%s was rotated while we were away: finishing %s from offset %llu", path,
			        rotated, s.pos);
		} else {
			/* what the old file got after the position is not read: say so */
			if (s.ok && have && st.st_ino == s.ino && st.st_dev == s.dev)
				pbx_log(PBX_WARN, "%s was emptied while we were away (copytruncate?) and no file beside "
				        "it begins as it did: what it had after offset %llu is not read (import it from "
				        "the copy); reading %s from the start", path, s.pos, path);
			else if (s.ok)
				pbx_log(PBX_WARN, "state file names a file that is gone (inode %llu, offset %llu): no file "
				        "beside %s begins as it did (compressed with bzip2, xz or zstd? decompress it and "
				        "import it from that offset); reading %s from the start", s.ino, s.pos, path, path);
			if (have && open_file(r, path, 0) != 0)
				pbx_log(PBX_WARN, "%s: %s (waiting for it)", path, strerror(errno));
		}
		struct timeval tv = { 0, SAVE_MS * 1000 };
		evtimer_add(r->save_timer, &tv);
	}
	schedule(r, 0);
	return r;
}

void qlreader_stop(struct qlreader *r)
{
	r->stopped = true;
	evtimer_del(r->tick);
}

void qlreader_free(struct qlreader *r)
{
	if (!r)
		return;
	write_state(r);
	if (r->tick)
		event_free(r->tick);
	if (r->save_timer)
		event_free(r->save_timer);
	sender_free(r->snd);
	pbx_ql_free(r->map);
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r);
}

bool qlreader_failed(const struct qlreader *r)
{
	return r && r->failed;
}

const struct pbx_counts *qlreader_counts(const struct qlreader *r)
{
	return pbx_ql_counts(r->map);
}
