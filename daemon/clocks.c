/*
 * clocks.c - every pending deadline in memory, one libevent timer for the earliest.
 *
 * A national deployment has millions of pending clocks, so they are not
 * libevent events.  Each (id, kind) — a case's callback/update/resolution/
 * survey clock, or an alert's next escalation — is one 24-byte entry in a
 * slab; a binary min-heap of slab indexes orders them by fire time, and an
 * open-addressing hash of slab indexes finds an entry to replace or remove
 * it in O(1).  Memory is about 24 + 4 + 8 bytes per clock plus growth slack.
 *
 * A single libevent timer is set for the heap's top.  When it fires, every
 * entry whose time has come is removed and handed to the "due" callback given
 * at clocks_init (main.c: the store queues it as a work item, if this daemon
 * owns its slot); the store runs the rules (is that run still pending? which
 * alert?) and sets the clock's next fire time again if there is one.  The
 * callback keeps this file below the store: clocks know times, not rules.  Fire times are
 * wall-clock milliseconds; the timer is recomputed after every change of the
 * top, so a clock set for "now" fires within milliseconds.
 *
 * At most FIRE_BURST entries are handed over per timer callback so that ten
 * thousand clocks falling due in the same second do not starve the sockets.
 *
 * The edge of a deadline.  A clock is met in time when it is met at or before
 * its due (or warning) millisecond: the figures count `met_at <= due_at`, and
 * the contract's overdue alert is raised when "the due time passed".  So a
 * clock's entry fires one millisecond after the time it is set for, once
 * that millisecond has passed, and the rules call a fire early while
 * `now <= due_at`.  Before, the timer fired at the due millisecond itself,
 * and an answer stamped with that same millisecond was in time for the
 * figures but alerted as a breach.  An escalation fires at its time.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "daemon.h"

#define FIRE_BURST 2000

struct tentry {
	int64_t id;      /* case id or alert id */
	hl_ms at;
	int32_t seq;
	uint8_t kind;    /* 0..4 clock kind, 5 escalation, 6..7 order clocks */
	/* heap position lives in a parallel array to keep this at 24 bytes */
};

static struct {
	struct tentry *slab;
	uint32_t *heap_pos;  /* slab index -> heap index */
	uint32_t n_slab, cap_slab;
	uint32_t free_head;  /* free list through tentry.seq; UINT32_MAX = none */
	uint32_t *heap;      /* heap index -> slab index */
	uint32_t n_heap;
	uint32_t *hash;      /* slab index + 1; 0 = empty; UINT32_MAX = tombstone */
	uint32_t hash_cap;   /* power of two */
	uint32_t hash_used;  /* live + tombstones */
	size_t per_kind[TIMER__COUNT];
	struct event *timer;
	hl_ms timer_at;
	bool stopped;
	bool in_fire;        /* timer callback running: rearm once at its end */
	clocks_due_fn due;   /* what to do with an entry whose time has come (main.c decides) */
} C = { .free_head = UINT32_MAX };

#define TOMB UINT32_MAX

static uint64_t key_hash(int64_t id, int kind)
{
	uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull ^ ((uint64_t)kind << 56);
	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 29;
	return x;
}

/* ------------------------------------------------------------- heap */

static bool before(uint32_t a, uint32_t b)
{
	return C.slab[a].at < C.slab[b].at;
}

static void heap_set(uint32_t hi, uint32_t si)
{
	C.heap[hi] = si;
	C.heap_pos[si] = hi;
}

static void sift_up(uint32_t hi)
{
	uint32_t si = C.heap[hi];
	while (hi > 0) {
		uint32_t parent = (hi - 1) / 2;
		if (!before(si, C.heap[parent]))
			break;
		heap_set(hi, C.heap[parent]);
		hi = parent;
	}
	heap_set(hi, si);
}

static void sift_down(uint32_t hi)
{
	uint32_t si = C.heap[hi];
	for (;;) {
		uint32_t l = 2 * hi + 1, r = l + 1, m = hi;
		uint32_t best = si;
		if (l < C.n_heap && before(C.heap[l], best))
			m = l, best = C.heap[l];
		if (r < C.n_heap && before(C.heap[r], best))
			m = r, best = C.heap[r];
		if (m == hi)
			break;
		heap_set(hi, C.heap[m]);
		hi = m;
	}
	heap_set(hi, si);
}

static void heap_remove(uint32_t si)
{
	uint32_t hi = C.heap_pos[si];
	uint32_t last = C.heap[--C.n_heap];
	if (hi == C.n_heap)
		return;
	heap_set(hi, last);
	if (hi > 0 && before(last, C.heap[(hi - 1) / 2]))
		sift_up(hi);
	else
		sift_down(hi);
}

/* ------------------------------------------------------------- hash */

static uint32_t *hash_find(int64_t id, int kind, bool for_insert)
{
	if (C.hash_cap == 0)
		return NULL;
	uint32_t mask = C.hash_cap - 1, i = (uint32_t)key_hash(id, kind) & mask;
	uint32_t *tomb = NULL;
	for (;;) {
		uint32_t v = C.hash[i];
		if (v == 0)
			return for_insert ? (tomb ? tomb : &C.hash[i]) : NULL;
		if (v == TOMB) {
			if (!tomb)
				tomb = &C.hash[i];
		} else {
			struct tentry *e = &C.slab[v - 1];
			if (e->id == id && e->kind == kind)
				return &C.hash[i];
		}
		i = (i + 1) & mask;
	}
}

static void hash_grow(void)
{
	uint32_t old_cap = C.hash_cap;
	uint32_t *old = C.hash;
	C.hash_cap = old_cap ? old_cap * 2 : 1024;
	/* only rehash live entries: tombstones vanish */
	uint32_t live = 0;
	for (uint32_t i = 0; i < old_cap; i++)
		if (old[i] && old[i] != TOMB)
			live++;
	while (live * 2 >= C.hash_cap)
		C.hash_cap *= 2;
	C.hash = calloc(C.hash_cap, sizeof *C.hash);
	if (!C.hash)
		abort();
	C.hash_used = 0;
	for (uint32_t i = 0; i < old_cap; i++) {
		uint32_t v = old[i];
		if (v && v != TOMB) {
			struct tentry *e = &C.slab[v - 1];
			*hash_find(e->id, e->kind, true) = v;
			C.hash_used++;
		}
	}
	free(old);
}

/* ------------------------------------------------------------- slab */

static uint32_t slab_alloc(void)
{
	if (C.free_head != UINT32_MAX) {
		uint32_t si = C.free_head;
		C.free_head = (uint32_t)C.slab[si].seq;
		return si;
	}
	if (C.n_slab == C.cap_slab) {
		uint32_t cap = C.cap_slab ? C.cap_slab * 2 : 1024;
		C.slab = realloc(C.slab, sizeof *C.slab * cap);
		C.heap_pos = realloc(C.heap_pos, sizeof *C.heap_pos * cap);
		C.heap = realloc(C.heap, sizeof *C.heap * cap);
		if (!C.slab || !C.heap_pos || !C.heap)
			abort();
		C.cap_slab = cap;
	}
	return C.n_slab++;
}

static void slab_release(uint32_t si)
{
	C.slab[si].seq = (int32_t)C.free_head;
	C.free_head = si;
}

/* ------------------------------------------------------------ timer */

static void timer_cb(evutil_socket_t fd, short what, void *arg);

static void rearm(void)
{
	if (!C.timer || C.stopped || C.in_fire)
		return;
	if (C.n_heap == 0) {
		evtimer_del(C.timer);
		C.timer_at = 0;
		return;
	}
	hl_ms at = C.slab[C.heap[0]].at;
	if (at == C.timer_at && evtimer_pending(C.timer, NULL))
		return;
	hl_ms delay = at - now_ms();
	if (delay < 0)
		delay = 0;
	struct timeval tv = { (time_t)(delay / 1000), (suseconds_t)((delay % 1000) * 1000) };
	evtimer_add(C.timer, &tv);
	C.timer_at = at;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	hl_ms now = now_ms();
	int n = 0;
	C.timer_at = 0;
	C.in_fire = true;
	while (C.n_heap > 0 && n < FIRE_BURST) {
		uint32_t si = C.heap[0];
		struct tentry e = C.slab[si];
		if (e.at > now)
			break;
		clocks_set(e.id, e.kind, 0, 0); /* removes it; whoever runs it sets it again if still needed */
		C.due(e.id, e.kind, e.seq);
		n++;
	}
	C.in_fire = false;
	rearm();
}

/* ------------------------------------------------------------- API */

void clocks_set(int64_t id, int kind, int32_t seq, hl_ms at)
{
	if (at != 0 && kind != TIMER_ESCALATION && at < INT64_MAX)
		at += 1; /* fires once the due millisecond has passed (atop); INT64_MAX: never */
	uint32_t *slot = hash_find(id, kind, false);
	if (slot) {
		uint32_t si = *slot - 1;
		if (at == 0) {
			bool was_top = C.n_heap && C.heap[0] == si;
			heap_remove(si);
			slab_release(si);
			*slot = TOMB;
			C.per_kind[kind]--;
			if (was_top)
				rearm();
			return;
		}
		struct tentry *e = &C.slab[si];
		hl_ms old = e->at;
		e->seq = seq;
		e->at = at;
		uint32_t hi = C.heap_pos[si];
		if (at < old)
			sift_up(hi);
		else if (at > old)
			sift_down(hi);
		rearm();
		return;
	}
	if (at == 0)
		return;
	if ((C.hash_used + 1) * 2 > C.hash_cap)
		hash_grow();
	uint32_t si = slab_alloc();
	C.slab[si] = (struct tentry){ .id = id, .at = at, .seq = seq, .kind = (uint8_t)kind };
	slot = hash_find(id, kind, true);
	if (*slot == 0)
		C.hash_used++;
	*slot = si + 1;
	C.heap[C.n_heap] = si;
	C.heap_pos[si] = C.n_heap;
	sift_up(C.n_heap++);
	C.per_kind[kind]++;
	if (C.heap[0] == si)
		rearm();
}

size_t clocks_pending(int kind)
{
	if (kind < 0)
		return C.n_heap;
	return C.per_kind[kind];
}

/* Every timer in memory, in no order: cluster.c counts those of its slots
 * (stats).  fn must not add or remove timers. */
void clocks_each(void (*fn)(int64_t id, int kind, void *arg), void *arg)
{
	for (uint32_t i = 0; i < C.n_heap; i++) {
		const struct tentry *t = &C.slab[C.heap[i]];
		fn(t->id, t->kind, arg);
	}
}

/* How many clocks fall due at or before `at`, counted up to `cap`: the
 * store asks it before it takes a batch of requests (store.c, the due
 * burst ahead).  A walk from the heap's top that stops at the first entry
 * later than `at` on each path, so it visits at most 2 * cap + 1 entries
 * whatever the number of clocks. */
size_t clocks_due_by(hl_ms at, size_t cap)
{
	uint32_t stack[2 * 64 + 2];
	size_t n = 0, top = 0;
	if (cap > 64)
		cap = 64;
	if (C.n_heap > 0)
		stack[top++] = 0;
	while (top > 0 && n < cap) {
		uint32_t hi = stack[--top];
		if (C.slab[C.heap[hi]].at > at)
			continue;
		n++;
		uint32_t l = 2 * hi + 1;
		if (l < C.n_heap)
			stack[top++] = l;
		if (l + 1 < C.n_heap)
			stack[top++] = l + 1;
	}
	return n;
}

size_t clocks_memory(void)
{
	return (size_t)C.cap_slab * (sizeof *C.slab + sizeof *C.heap_pos + sizeof *C.heap) +
	       (size_t)C.hash_cap * sizeof *C.hash;
}

void clocks_rearm(void)
{
	C.timer_at = 0;
	rearm();
}

int clocks_init(clocks_due_fn due)
{
	C.due = due;
	C.timer = evtimer_new(hl->base, timer_cb, NULL);
	return C.timer ? 0 : -1;
}

void clocks_stop(void)
{
	C.stopped = true;
	if (C.timer)
		evtimer_del(C.timer);
}

void clocks_free(void)
{
	if (C.timer)
		event_free(C.timer);
	free(C.slab);
	free(C.heap_pos);
	free(C.heap);
	free(C.hash);
	memset(&C, 0, sizeof C);
	C.free_head = UINT32_MAX;
}
