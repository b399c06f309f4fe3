/*
 * visits.c - how many times a channel has entered each queue (pure).
 *
 * An event id is <prefix><uniqueid>:<kind>:<queue> (pbx.h), so that the same
 * record read twice, or the same fact heard from the queue_log and from AMI,
 * is one event.  But one channel can enter the same queue more than once: a
 * caller who presses a key to leave (EXITWITHKEY) and is sent back, a queue
 * whose timeout loops through an announcement into the same queue again, an
 * agent who transfers the caller back to the queue.  Every record of the
 * second visit used to get the first visit's id: hotlined answered
 * `duplicate` and the second answer, abandonment or end was lost.
 *
 * So each (uniqueid, queue) pair counts its ENTERQUEUE / QueueCallerJoin
 * records, and the records of the n-th visit carry "#n" after the queue when
 * n > 1.  The count follows from the order of the records alone, so it is
 * the same on a second reading of the log and for both sources; the first
 * visit keeps the id it always had.
 *
 * The same ENTERQUEUE read twice (a duplicated line, a log concatenated with
 * itself) is not a new visit: see pbx_visits_enter.
 *
 * A pair is kept until its channel has been quiet for a day of record time
 * (FORGET_MS: an Asterisk uniqueid names one channel and is never reused),
 * and at most MAX_PAIRS pairs are kept (the least recently touched go
 * first; ~80 bytes each with an Asterisk uniqueid): memory stays flat
 * through a year-long import.  --follow saves the pairs of the last 30
 * minutes with its position (queue_log.c), so a restart between two visits
 * of one channel keeps the count; a channel back after longer and a restart
 * is taken for a first visit (docs/pbx.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx.h"

#define FORGET_MS (24LL * 3600 * 1000)
#define MAX_PAIRS 200000

struct visit {
	struct visit *next;              /* hash chain */
	struct visit *older, *newer;     /* least recently touched first */
	hl_ms last_at;
	hl_ms entered_at;                /* the latest visit's enter (0: unknown, restored) */
	bool left;                       /* ... and the channel left the queue since */
	int count;
	char key[];                      /* "uid\x1fqueue", allocated to its length */
};

#define KEY_MAX (PBX_UID_MAX + 1 + PBX_NAME_MAX + 1)

struct pbx_visits {
	struct visit **bucket;
	size_t n_bucket, count;
	struct visit *oldest, *newest;
	hl_ms now;                       /* the latest record time seen */
};

struct pbx_visits *pbx_visits_new(void)
{
	struct pbx_visits *v = calloc(1, sizeof *v);
	if (!v)
		abort();
	v->n_bucket = 1024;
	v->bucket = calloc(v->n_bucket, sizeof *v->bucket);
	if (!v->bucket)
		abort();
	return v;
}

void pbx_visits_free(struct pbx_visits *v)
{
	if (!v)
		return;
	for (struct visit *n = v->oldest, *next; n; n = next) {
		next = n->newer;
		free(n);
	}
	free(v->bucket);
	free(v);
}

size_t pbx_visits_count(const struct pbx_visits *v)
{
	return v->count;
}

/* "uid\x1fqueue": neither holds a control character (the mappers refuse them). */
static void make_key(char *key, size_t len, const char *uid, const char *queue)
{
	snprintf(key, len, "%s\x1f%s", uid, queue);
}

static struct visit **slot(struct pbx_visits *v, const char *key)
{
	struct visit **pp = &v->bucket[hl_hash_str(key) & (v->n_bucket - 1)];
	while (*pp && strcmp((*pp)->key, key) != 0)
		pp = &(*pp)->next;
	return pp;
}

static void unlink_lru(struct pbx_visits *v, struct visit *n)
{
	if (n->older)
		n->older->newer = n->newer;
	else
		v->oldest = n->newer;
	if (n->newer)
		n->newer->older = n->older;
	else
		v->newest = n->older;
	n->older = n->newer = NULL;
}

/* The pair's entry, made if it is not there, out of the LRU list (the
 * caller puts it back at the newest end once it is updated). */
static struct visit *take(struct pbx_visits *v, const char *key)
{
	struct visit **pp = slot(v, key), *n = *pp;
	if (n) {
		unlink_lru(v, n);
		return n;
	}
	size_t len = strlen(key) + 1;
	n = calloc(1, sizeof *n + len);
	if (!n)
		abort();
	memcpy(n->key, key, len);
	*pp = n;
	v->count++;
	return n;
}

static void append_lru(struct pbx_visits *v, struct visit *n)
{
	n->older = v->newest;
	n->newer = NULL;
	if (v->newest)
		v->newest->newer = n;
	else
		v->oldest = n;
	v->newest = n;
}

static void drop(struct pbx_visits *v, struct visit *n)
{
	struct visit **pp = slot(v, n->key);
	if (*pp == n)
		*pp = n->next;
	unlink_lru(v, n);
	free(n);
	v->count--;
}

static void grow(struct pbx_visits *v)
{
	size_t nb = v->n_bucket * 2;
	struct visit **b = calloc(nb, sizeof *b);
	if (!b)
		abort();
	for (struct visit *n = v->oldest; n; n = n->newer) {
		size_t h = hl_hash_str(n->key) & (nb - 1);
		n->next = b[h];
		b[h] = n;
	}
	free(v->bucket);
	v->bucket = b;
	v->n_bucket = nb;
}

/* Forget channels quiet for FORGET_MS of record time, and the least recently
 * touched beyond MAX_PAIRS.  (Least recently touched first: the loop stops
 * at the first pair to keep, and at `keep`, the pair being entered: it is
 * the most recently touched, but its last record may be dated a day ahead
 * of this one -- the PBX's clock set back -- and freeing it there made its
 * caller read freed memory.) */
static void expire(struct pbx_visits *v, const struct visit *keep)
{
	/* (a pair touched by a record dated far ahead of the others goes too) */
	while (v->oldest && v->oldest != keep &&
	       (v->count > MAX_PAIRS || v->now - v->oldest->last_at > FORGET_MS ||
	        v->oldest->last_at - v->now > FORGET_MS))
		drop(v, v->oldest);
}

/* The record time goes on to `at`.  It is the time of the record being read,
 * not the latest ever seen: one record dated years ahead (a PBX clock set
 * wrong for a while, a hostile line) used to become "now" for the rest of
 * the run, and every channel was forgotten the moment it was entered, so
 * every later second visit was taken for a first one and lost as a
 * duplicate.  And a jump of more than FORGET_MS forgets nothing by itself:
 * the next record decides (after a quiet weekend it is as late; after a
 * stray line it is back at the real time). */
static bool advance(struct pbx_visits *v, hl_ms at)
{
	bool leap = v->now && at - v->now > FORGET_MS;
	v->now = at;
	return !leap;
}

int pbx_visits_enter(struct pbx_visits *v, const char *uid, const char *queue, hl_ms at)
{
	char key[KEY_MAX];
	make_key(key, sizeof key, uid, queue);
	bool may_expire = advance(v, at);
	struct visit *n = take(v, key);
	/* The same enter read twice (a line duplicated in the file, a log read
	 * again after its calls were already read in this run) is the visit it
	 * was, not the next one: a channel cannot enter again at the very time it
	 * entered while still in the queue, nor at a time before records it had
	 * after that enter.  (A visit left and entered again within the same
	 * second, by a dialplan looping straight back, still counts as new.) */
	bool again = at > 0 && at == n->entered_at && (!n->left || at < n->last_at);
	if (!again) {
		n->count++;
		n->entered_at = at;
		n->left = false;
	}
	n->last_at = at > n->last_at ? at : n->last_at;
	append_lru(v, n);
	if (v->count > v->n_bucket)
		grow(v);
	if (may_expire)
		expire(v, n);
	else
		while (v->count > MAX_PAIRS && v->oldest != n)
			drop(v, v->oldest);
	return n->count;
}

int pbx_visits_current(struct pbx_visits *v, const char *uid, const char *queue, hl_ms at)
{
	char key[KEY_MAX];
	make_key(key, sizeof key, uid, queue);
	struct visit *n = *slot(v, key);
	if (!n)
		return 1; /* entered before we started reading: its first visit, as far as we know */
	advance(v, at);
	if (at > n->last_at)
		n->last_at = at;
	unlink_lru(v, n); /* a long call keeps its channel remembered */
	append_lru(v, n);
	return n->count;
}

void pbx_visits_leave(struct pbx_visits *v, const char *uid, const char *queue, hl_ms at)
{
	char key[KEY_MAX];
	make_key(key, sizeof key, uid, queue);
	struct visit *n = *slot(v, key);
	if (!n)
		return;
	n->left = true;
	if (at > n->last_at)
		n->last_at = at;
}

void pbx_visits_each(const struct pbx_visits *v, hl_ms window, pbx_visit_fn fn, void *ctx)
{
	for (const struct visit *n = v->oldest; n; n = n->newer) { /* restored in this order, the LRU is kept */
		if (v->now - n->last_at > window)
			continue;
		const char *sep = strchr(n->key, '\x1f');
		if (!sep)
			continue;
		char uid[PBX_UID_MAX + 1];
		snprintf(uid, sizeof uid, "%.*s", (int)(sep - n->key), n->key);
		fn(ctx, uid, sep + 1, n->count, n->last_at);
	}
}

void pbx_visits_restore(struct pbx_visits *v, const char *uid, const char *queue, int count, hl_ms last_at)
{
	if (count < 1)
		return;
	/* Put back as saved, without forgetting anything against the record
	 * time: every pair saved was within the window then.  (Going through
	 * pbx_visits_enter dropped the pairs dated before one dated far ahead,
	 * and the record time stays unknown until the next record.) */
	char key[KEY_MAX];
	make_key(key, sizeof key, uid, queue);
	struct visit *n = take(v, key);
	n->count = count;
	n->last_at = last_at;
	n->entered_at = 0; /* not saved: a re-read of that enter cannot be told */
	n->left = false;
	append_lru(v, n);
	if (v->count > v->n_bucket)
		grow(v);
	while (v->count > MAX_PAIRS && v->oldest != n)
		drop(v, v->oldest);
}
