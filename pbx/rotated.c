/*
 * rotated.c - the files rotation leaves beside a queue_log (hotline-pbx's
 * shell, for follow.c).
 *
 * logrotate (or Asterisk's own `logger rotate`) renames the live file
 * beside it: PATH.1, PATH-20251202 with dateext, PATH.0 or PATH.<epoch>
 * with Asterisk's rotatestrategy; copytruncate copies it there instead.
 * Three questions are asked of that directory:
 *
 *   pbx_find_rotated   where is the file a position names now: the very
 *                      inode under another name, or the copy that begins
 *                      with the same first line and holds the position
 *                      (copytruncate while the bridge was away or behind);
 *   pbx_find_between   after finishing such a file, is there another one
 *                      rotated after it and before the live one?  Two
 *                      rotations while the bridge was stopped (a weekend)
 *                      or behind (hotlined down, reading paused) leave a
 *                      whole file in between: PATH.2 (finished), PATH.1
 *                      (a whole day), PATH.  Before, PATH.1 was skipped and
 *                      its calls never sent.  The files are put in order by
 *                      the time of their first record: the next one is the
 *                      earliest that begins after the finished file's first
 *                      record and before the live file's.  Compressed ones
 *                      (no record to read) are not candidates;
 *   pbx_first_line_sig a file's identity beyond its inode: the hash of its
 *                      first line.
 */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pbx_shell.h"

#define SIG_BYTES 512

uint64_t pbx_first_line_sig(int fd)
{
	char b[SIG_BYTES + 1];
	ssize_t n = pread(fd, b, SIG_BYTES, 0);
	if (n <= 0)
		return 0;
	char *nl = memchr(b, '\n', (size_t)n);
	if (!nl)
		return n == SIG_BYTES ? (b[n] = '\0', hl_hash_str(b)) : 0;
	*nl = '\0';
	return hl_hash_str(b) | 1; /* never 0 */
}

/* Visit the regular files beside path whose names start with its name (not
 * path itself); fn returns false to stop. */
static void beside(const char *path, bool (*fn)(void *ctx, const char *name, const struct stat *st), void *ctx)
{
	char d[512], b[512], name[1024];
	snprintf(d, sizeof d, "%s", path);
	snprintf(b, sizeof b, "%s", path);
	const char *dir = dirname(d), *base = basename(b);
	size_t blen = strlen(base);
	DIR *dh = opendir(dir);
	if (!dh)
		return;
	struct dirent *e;
	while ((e = readdir(dh))) {
		if (strncmp(e->d_name, base, blen) != 0 || !e->d_name[blen])
			continue;
		struct stat st;
		snprintf(name, sizeof name, "%s/%s", dir, e->d_name);
		if (stat(name, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (!fn(ctx, name, &st))
			break;
	}
	closedir(dh);
}

struct find_rotated {
	const struct ql_saved *s;
	char *out;
	size_t outlen;
	bool renamed, copied;
};

static bool rotated_one(void *arg, const char *name, const struct stat *st)
{
	struct find_rotated *f = arg;
	const struct ql_saved *s = f->s;
	if ((uint64_t)st->st_size < s->pos)
		return true;
	if (st->st_ino == s->ino && st->st_dev == s->dev) {
		f->renamed = true; /* the very file: better than any copy */
	} else if (!f->copied && s->sig && s->pos > 0) {
		int fd = open(name, O_RDONLY | O_CLOEXEC);
		f->copied = fd >= 0 && pbx_first_line_sig(fd) == s->sig;
		if (fd >= 0)
			close(fd);
		if (!f->copied)
			return true;
	} else {
		return true;
	}
	snprintf(f->out, f->outlen, "%s", name);
	return !f->renamed;
}

/* The file a state names, renamed beside PATH while the bridge was away:
 * PATH.1 (logrotate's default), PATH-20251202 (dateext, the default of
 * RHEL-based distributions such as FreePBX's and Issabel's), PATH.2 after
 * two rotations; any name that starts with PATH's and is that inode.  Or,
 * with copytruncate, the copy: another inode, but the same first line and
 * at least the saved position's bytes (the live file was emptied and
 * started again; the lines after the position are in the copy).  A
 * compressed one is neither: not found, and the lines it got after the
 * position are lost (logged). */
bool pbx_find_rotated(const char *path, const struct ql_saved *s, char *out, size_t outlen)
{
	struct find_rotated f = { s, out, outlen, false, false };
	beside(path, rotated_one, &f);
	return f.renamed || f.copied;
}

/* The time of the first record of an open file (its first field); -1 when
 * it has none that reads as one (empty, compressed, not a queue_log). */
static hl_ms first_time(int fd)
{
	char b[80];
	ssize_t n = pread(fd, b, sizeof b - 1, 0);
	if (n <= 0)
		return -1;
	b[n] = '\0';
	char *bar = strchr(b, '|');
	if (!bar)
		return -1;
	*bar = '\0';
	const char *t = strncmp(b, "\xef\xbb\xbf", 3) == 0 ? b + 3 : b; /* a byte-order mark */
	return pbx_ql_time(t);
}

static hl_ms first_time_of(const char *name)
{
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	hl_ms t = first_time(fd);
	close(fd);
	return t;
}

struct find_between {
	struct stat done, live;
	bool have_live;
	hl_ms after, before; /* before < 0: no live file to bound it */
	hl_ms best;
	char *out;
	size_t outlen;
};

static bool between_one(void *arg, const char *name, const struct stat *st)
{
	struct find_between *f = arg;
	if (st->st_size == 0 || (st->st_ino == f->done.st_ino && st->st_dev == f->done.st_dev) ||
	    (f->have_live && st->st_ino == f->live.st_ino && st->st_dev == f->live.st_dev))
		return true;
	hl_ms t = first_time_of(name);
	if (t <= f->after || (f->before >= 0 && t >= f->before) || (f->best >= 0 && t >= f->best))
		return true;
	f->best = t;
	snprintf(f->out, f->outlen, "%s", name);
	return true;
}

bool pbx_find_between(const char *path, int done_fd, char *out, size_t outlen)
{
	struct find_between f = { .out = out, .outlen = outlen, .best = -1 };
	if (fstat(done_fd, &f.done) != 0 || (f.after = first_time(done_fd)) < 0)
		return false; /* the finished file cannot be placed: nothing is put after it */
	f.have_live = stat(path, &f.live) == 0;
	f.before = f.have_live ? first_time_of(path) : -1;
	beside(path, between_one, &f);
	return f.best >= 0;
}
