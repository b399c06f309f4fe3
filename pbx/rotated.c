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
 *                      record and before the live file's (a gzip one by
 *                      its decompressed first record);
 *   pbx_first_line_sig a file's identity beyond its inode: the hash of its
 *                      first line.
 *
 * A file compressed by logrotate's `compress` (PATH.1.gz; without
 * delaycompress at once, with it from the second rotation on) is read
 * too: pbx_open_log decompresses it (zlib) into an anonymous memory file
 * (memfd) that the reader reads as any file, and the questions above are
 * asked of its decompressed head.  Before, such a file was skipped: the
 * lines it got after the bridge's position (stopped, or behind the file)
 * were lost, and the days rotated in between with it.  The whole file is
 * decompressed at once, in the loop (a day's queue_log is a few MB: a few
 * milliseconds per MB), and held in memory while it is read.  Other
 * compressions (bzip2, xz, zstd: logrotate's compresscmd) are not read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "pbx_shell.h"

#define SIG_BYTES 512

static bool gz_name(const char *name)
{
	size_t n = strlen(name);
	return n > 3 && strcmp(name + n - 3, ".gz") == 0;
}

/* The first n bytes of a gzip file, decompressed (-1: not readable). */
static ssize_t gz_head(const char *name, char *b, size_t n)
{
	gzFile g = gzopen(name, "rb");
	if (!g)
		return -1;
	int r = gzread(g, b, (unsigned)n);
	gzclose(g);
	return r;
}

/* Its decompressed size, from the gzip trailer (ISIZE: modulo 4 GiB). */
static uint64_t gz_size(const char *name)
{
	unsigned char t[4];
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	off_t end = lseek(fd, 0, SEEK_END);
	ssize_t n = end >= 4 ? pread(fd, t, 4, end - 4) : -1;
	close(fd);
	return n == 4 ? (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 | (uint64_t)t[3] << 24 : 0;
}

int pbx_open_log(const char *name)
{
	if (!gz_name(name))
		return open(name, O_RDONLY | O_CLOEXEC);
	gzFile g = gzopen(name, "rb");
	if (!g)
		return -1;
	int fd = memfd_create("hotline-pbx-gz", MFD_CLOEXEC);
	char buf[65536];
	int n = 0;
	while (fd >= 0 && (n = gzread(g, buf, sizeof buf)) > 0) {
		for (char *p = buf; n > 0;) {
			ssize_t w = write(fd, p, (size_t)n);
			if (w <= 0) {
				n = -1;
				break;
			}
			p += w;
			n -= (int)w;
		}
		if (n < 0)
			break;
	}
	gzclose(g);
	if (fd >= 0 && (n < 0 || lseek(fd, 0, SEEK_SET) != 0)) {
		pbx_log(PBX_WARN, "%s: cannot be decompressed (corrupt or cut short?)", name);
		close(fd);
		errno = EIO;
		return -1;
	}
	return fd;
}

static uint64_t sig_of(char *b, ssize_t n)
{
	if (n <= 0)
		return 0;
	char *nl = memchr(b, '\n', (size_t)n);
	if (!nl)
		return n == SIG_BYTES ? (b[n] = '\0', hl_hash_str(b)) : 0;
	*nl = '\0';
	return hl_hash_str(b) | 1; /* never 0 */
}

uint64_t pbx_first_line_sig(int fd)
{
	char b[SIG_BYTES + 1];
	return sig_of(b, pread(fd, b, SIG_BYTES, 0));
}

static uint64_t sig_of_name(const char *name)
{
	char b[SIG_BYTES + 1];
	if (gz_name(name))
		return sig_of(b, gz_head(name, b, SIG_BYTES));
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	uint64_t sig = fd >= 0 ? pbx_first_line_sig(fd) : 0;
	if (fd >= 0)
		close(fd);
	return sig;
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
	bool gz = gz_name(name); /* renamed and compressed: another inode, found as a copy is */
	if ((gz ? gz_size(name) : (uint64_t)st->st_size) < s->pos)
		return true;
	if (!gz && st->st_ino == s->ino && st->st_dev == s->dev) {
		f->renamed = true; /* the very file: better than any copy */
	} else if (!f->copied && s->sig && s->pos > 0) {
		f->copied = sig_of_name(name) == s->sig;
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
 * file renamed and gzip-compressed is found as such a copy is (its
 * decompressed first line and size).  One compressed otherwise is not
 * found, and the lines it got after the position are lost (logged). */
bool pbx_find_rotated(const char *path, const struct ql_saved *s, char *out, size_t outlen)
{
	struct find_rotated f = { s, out, outlen, false, false };
	beside(path, rotated_one, &f);
	return f.renamed || f.copied;
}

/* The time of the first record of an open file (its first field); -1 when
 * it has none that reads as one (empty, compressed, not a queue_log). */
static hl_ms time_of(char *b, ssize_t n)
{
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

static hl_ms first_time(int fd)
{
	char b[80];
	return time_of(b, pread(fd, b, sizeof b - 1, 0));
}

static hl_ms first_time_of(const char *name)
{
	char b[80];
	if (gz_name(name))
		return time_of(b, gz_head(name, b, sizeof b - 1));
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
