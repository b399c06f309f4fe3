/*
 * hotspot.c - the hotspot rule (热点, CONTRACT.md 6; pure).
 *
 * When an event gives a case a complete key (every field of hotspot.key:
 * category, area, department) or changes it, the case is counted under that
 * key at the event's time.  The threshold-th case with the key inside
 * hotspot.window, counting only cases after the key's last alert, raises one
 * `hotspot` alert naming the key and the cases; the key's alerted_at then
 * moves to this case, so the next alert needs `threshold` further cases (one
 * alert per crossing, as repeat_caller).  The dedupe key is the key's hash
 * and the crossing case, so a retried batch never alerts twice.
 *
 * The store loads the rows this needs in the batch's one load round trip
 * (SQL_HOTSPOT_CASES): the hotspot rows of every case the batch can reach,
 * and the window's rows that match, on every field of the key, a value an
 * event carries or a reached case holds (any key an event can form is made
 * of those).  Every event that classifies a case loads them, even one that
 * brings no key value: the case's row is rebuilt from the loaded one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hotspot.h"
#include "pos_table.h"
#include "rules_internal.h"

/*
 * The index (private, one per world, emptied with the rows): case id ->
 * position in w->hotspot_cases, key -> position in w->hotspots, and for the
 * count, per key a list of "memberships" (a case that got the key at `at`),
 * sorted by `at` and linked backwards from the newest.  Counting the cases of
 * a key inside the window walks its list back from the event's time and
 * stops at the window's start or the key's last alert, so an event costs
 * O(the cases it counts), not a strcmp scan of every hotspot row of the
 * batch.  A case that changes its key is not unlinked: its old membership
 * simply stops being its latest (latest[] per case position), and the walk
 * skips it.  Memberships need the configured key (cfg), which the rows added
 * by the store do not see, so the rows are taken into the lists lazily, by
 * the first classification after they were added (`indexed`).
 */
struct membership {
	size_t case_pos; /* position in w->hotspot_cases */
	hl_ms at;        /* the case's `at` when it got the key */
	size_t prev;     /* the membership before it in its key's list (at <= this at), or HL_NO_POS */
};
struct key_list {
	char *key;   /* owned; the members_of table points at it */
	size_t tail; /* the newest membership, or HL_NO_POS */
};
struct hl_hotspot_index {
	struct hl_int_table case_pos;   /* case id -> position in w->hotspot_cases */
	struct hl_str_table key_pos;    /* key -> position in w->hotspots */
	struct hl_str_table members_of; /* key -> position in lists */
	struct key_list *lists;
	size_t n_lists, cap_lists;
	struct membership *members;
	size_t n_members, cap_members;
	size_t *latest; /* per case position: its current membership, or HL_NO_POS */
	size_t cap_latest;
	size_t indexed; /* hotspot cases [0, indexed) have their membership */
	size_t *found;  /* scratch for the count: positions of the counted cases */
	size_t cap_found;
};

static struct hl_hotspot_index *index_of(struct hl_world *w)
{
	if (!w->hotspot_index)
		w->hotspot_index = hl_xcalloc(1, sizeof *w->hotspot_index);
	return w->hotspot_index;
}

/* Make room for item n of an array of `size`-byte items. */
static void *room(void *arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 64;
	while (*cap <= n)
		*cap *= 2;
	return hl_xrealloc(arr, *cap * size);
}

static struct hl_hotspot_case *find_case(struct hl_world *w, int64_t case_id)
{
	size_t pos = w->hotspot_index ? hl_int_get(&w->hotspot_index->case_pos, case_id) : HL_NO_POS;
	return pos == HL_NO_POS ? NULL : w->hotspot_cases[pos];
}

static struct hl_hotspot *find_key(struct hl_world *w, const char *key)
{
	size_t pos = w->hotspot_index ? hl_str_get(&w->hotspot_index->key_pos, key) : HL_NO_POS;
	return pos == HL_NO_POS ? NULL : w->hotspots[pos];
}

struct hl_hotspot_case *hl_world_add_hotspot_case(struct hl_world *w, const struct hl_hotspot_case *h)
{
	struct hl_hotspot_case *have = find_case(w, h->case_id);
	if (have)
		return have;
	struct hl_hotspot_case *n = hl_xrealloc(NULL, sizeof *n);
	*n = *h;
	n->category = hl_xstrdup(h->category);
	n->area = hl_xstrdup(h->area);
	n->department = hl_xstrdup(h->department);
	if (w->n_hotspot_cases == w->cap_hotspot_cases) {
		w->cap_hotspot_cases = w->cap_hotspot_cases ? w->cap_hotspot_cases * 2 : 16;
		w->hotspot_cases = hl_xrealloc(w->hotspot_cases, w->cap_hotspot_cases * sizeof *w->hotspot_cases);
	}
	w->hotspot_cases[w->n_hotspot_cases++] = n;
	struct hl_hotspot_index *x = index_of(w);
	hl_int_put(&x->case_pos, n->case_id, w->n_hotspot_cases - 1);
	x->latest = room(x->latest, w->n_hotspot_cases - 1, &x->cap_latest, sizeof *x->latest);
	x->latest[w->n_hotspot_cases - 1] = HL_NO_POS;
	return n;
}

struct hl_hotspot *hl_world_add_hotspot(struct hl_world *w, const char *key, hl_ms alerted_at)
{
	struct hl_hotspot *have = find_key(w, key);
	if (have)
		return have;
	struct hl_hotspot *n = hl_xrealloc(NULL, sizeof *n);
	n->key = hl_xstrdup(key);
	n->alerted_at = alerted_at;
	n->dirty = false;
	if (w->n_hotspots == w->cap_hotspots) {
		w->cap_hotspots = w->cap_hotspots ? w->cap_hotspots * 2 : 16;
		w->hotspots = hl_xrealloc(w->hotspots, w->cap_hotspots * sizeof *w->hotspots);
	}
	w->hotspots[w->n_hotspots++] = n;
	hl_str_put(&index_of(w)->key_pos, n->key, w->n_hotspots - 1);
	return n;
}

void hl_world_hotspots_drop(struct hl_world *w)
{
	for (size_t i = 0; i < w->n_hotspot_cases; i++) {
		free(w->hotspot_cases[i]->category);
		free(w->hotspot_cases[i]->area);
		free(w->hotspot_cases[i]->department);
		free(w->hotspot_cases[i]);
	}
	for (size_t i = 0; i < w->n_hotspots; i++) {
		free(w->hotspots[i]->key);
		free(w->hotspots[i]);
	}
	w->n_hotspot_cases = w->n_hotspots = 0;
	struct hl_hotspot_index *x = w->hotspot_index;
	if (!x)
		return;
	hl_int_clear(&x->case_pos);
	hl_str_clear(&x->key_pos);
	hl_str_clear(&x->members_of);
	for (size_t i = 0; i < x->n_lists; i++)
		free(x->lists[i].key);
	x->n_lists = x->n_members = x->indexed = 0;
}

void hl_world_hotspots_free(struct hl_world *w)
{
	hl_world_hotspots_drop(w);
	struct hl_hotspot_index *x = w->hotspot_index;
	if (x) {
		free(x->case_pos.slots);
		free(x->key_pos.slots);
		free(x->members_of.slots);
		free(x->lists);
		free(x->members);
		free(x->latest);
		free(x->found);
		free(x);
		w->hotspot_index = NULL;
	}
	free(w->hotspot_cases);
	free(w->hotspots);
	w->hotspot_cases = NULL;
	w->hotspots = NULL;
	w->cap_hotspot_cases = w->cap_hotspots = 0;
}

static const char *field(const struct hl_hotspot_case *h, const char *name)
{
	if (strcmp(name, "category") == 0)
		return h->category;
	if (strcmp(name, "area") == 0)
		return h->area;
	if (strcmp(name, "department") == 0)
		return h->department;
	return NULL;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The key as a JSON array of its values; false when a field is missing. */
static bool key_of(const struct hl_config *cfg, const struct hl_hotspot_case *h, char *out, size_t len)
{
	size_t n = 0;
	out[n++] = '[';
	for (size_t i = 0; i < cfg->hotspot.n_key; i++) {
		const char *v = field(h, cfg->hotspot.key[i]);
		if (!v || !v[0])
			return false;
		if (i && n + 1 < len)
			out[n++] = ',';
		if (n + 1 < len)
			out[n++] = '"';
		for (const char *p = v; *p && n + 4 < len; p++) {
			if (*p == '"' || *p == '\\')
				out[n++] = '\\';
			out[n++] = (unsigned char)*p < 0x20 ? '?' : *p;
		}
		if (n + 1 < len)
			out[n++] = '"';
	}
	if (n + 1 < len)
		out[n++] = ']';
	out[n < len ? n : len - 1] = '\0';
	/* a long value is cut in bytes: drop a character the cut went through
	 * (the key is stored, and PostgreSQL refuses invalid UTF-8) */
	hl_utf8_mend(out);
	return true;
}

static bool key_equal(const struct hl_config *cfg, const struct hl_hotspot_case *a, const struct hl_hotspot_case *b)
{
	for (size_t i = 0; i < cfg->hotspot.n_key; i++)
		if (!same(field(a, cfg->hotspot.key[i]), field(b, cfg->hotspot.key[i])))
			return false;
	return true;
}

static int cmp_case(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_pos(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

/* Case `pos` (its `at` set) now has `key` or, with key NULL, no complete key:
 * end its old membership and, with a key, link a new one in at its place by
 * time (walking from the newest back: events mostly come in time order). */
static void set_membership(struct hl_hotspot_index *x, size_t pos, hl_ms at, const char *key)
{
	x->latest[pos] = HL_NO_POS;
	if (!key)
		return;
	size_t list = hl_str_get(&x->members_of, key);
	if (list == HL_NO_POS) {
		x->lists = room(x->lists, x->n_lists, &x->cap_lists, sizeof *x->lists);
		list = x->n_lists++;
		x->lists[list] = (struct key_list){.key = hl_xstrdup(key), .tail = HL_NO_POS};
		hl_str_put(&x->members_of, x->lists[list].key, list);
	}
	x->members = room(x->members, x->n_members, &x->cap_members, sizeof *x->members);
	size_t m = x->n_members++;
	size_t after = HL_NO_POS, before = x->lists[list].tail;
	while (before != HL_NO_POS && x->members[before].at > at) {
		after = before;
		before = x->members[before].prev;
	}
	x->members[m] = (struct membership){.case_pos = pos, .at = at, .prev = before};
	if (after == HL_NO_POS)
		x->lists[list].tail = m;
	else
		x->members[after].prev = m;
	x->latest[pos] = m;
}

/* Take the rows added since the last call (the store's, new cases) into the
 * key lists: a row counts under its key from its `at`, as in the table. */
static void catch_up(struct hl_world *w, const struct hl_config *cfg, struct hl_hotspot_index *x)
{
	char key[256];
	for (; x->indexed < w->n_hotspot_cases; x->indexed++) {
		const struct hl_hotspot_case *o = w->hotspot_cases[x->indexed];
		if (o->at && key_of(cfg, o, key, sizeof key))
			set_membership(x, x->indexed, o->at, key);
	}
}

/* The cases with h's key (`key`) counted at `at`: got it inside the window and
 * after the key's last alert (`since`).  Their positions go to x->found, in
 * no particular order; returns how many. */
static size_t count_key(struct hl_world *w, const struct hl_config *cfg, struct hl_hotspot_index *x,
                        const struct hl_hotspot_case *h, const char *key, hl_ms at, hl_ms since)
{
	size_t list = hl_str_get(&x->members_of, key);
	hl_ms from = at - cfg->hotspot.window_ms > since ? at - cfg->hotspot.window_ms : since; /* exclusive */
	size_t count = 0;
	for (size_t m = list == HL_NO_POS ? HL_NO_POS : x->lists[list].tail; m != HL_NO_POS; m = x->members[m].prev) {
		const struct membership *e = &x->members[m];
		if (e->at <= from)
			break; /* the list is sorted by time: all older ones are out too */
		if (e->at > at || x->latest[e->case_pos] != m)
			continue; /* later than the event, or the case has moved on */
		if (!key_equal(cfg, w->hotspot_cases[e->case_pos], h))
			continue; /* two keys cut to the same 255 bytes */
		x->found = room(x->found, count, &x->cap_found, sizeof *x->found);
		x->found[count++] = e->case_pos;
	}
	return count;
}

/* The case got the key at `at`, earlier than cases already counted under it
 * (an event delivered late, or another daemon's batch with a later event
 * that committed first: each batch counts back from its own event, so two
 * daemons that classify at once, the one with the later event first, each
 * counted one short and the crossing was never alerted).  The windows that
 * end at those later cases now hold this one too: the first of them that
 * reaches the threshold is the crossing, at its time (returned, the count
 * in *count); 0 when none does.  In time order there are no later cases and
 * nothing changes. */
static hl_ms crossing_after(struct hl_world *w, const struct hl_config *cfg, struct hl_hotspot_index *x,
                            const struct hl_hotspot_case *h, const char *key, hl_ms at, hl_ms since, size_t *count)
{
	size_t list = hl_str_get(&x->members_of, key);
	hl_ms best = 0;
	for (size_t m = list == HL_NO_POS ? HL_NO_POS : x->lists[list].tail; m != HL_NO_POS; m = x->members[m].prev) {
		const struct membership *e = &x->members[m];
		if (e->at <= at)
			break; /* sorted by time: the rest are not later */
		if (e->at - cfg->hotspot.window_ms >= at || x->latest[e->case_pos] != m ||
		    !key_equal(cfg, w->hotspot_cases[e->case_pos], h))
			continue; /* its window does not hold `at`, or it has moved on */
		if ((int64_t)count_key(w, cfg, x, h, key, e->at, since) >= cfg->hotspot.threshold)
			best = e->at; /* walking back: the earliest such end wins */
	}
	if (best)
		*count = count_key(w, cfg, x, h, key, best, since); /* x->found: that window's cases */
	return best;
}

void hl_hotspot_classified(struct hl_world *w, const struct hl_config *cfg, const struct hl_case *c,
                           const char *area, bool quiet, hl_ms at, char *note, size_t notelen)
{
	note[0] = '\0';
	if (cfg->hotspot.threshold <= 0 || cfg->hotspot.n_key == 0)
		return;
	struct hl_hotspot_index *x = index_of(w);
	size_t pos = hl_int_get(&x->case_pos, c->id);
	if (pos == HL_NO_POS) {
		hl_world_add_hotspot_case(w, &(struct hl_hotspot_case){.case_id = c->id});
		pos = w->n_hotspot_cases - 1;
	}
	struct hl_hotspot_case *h = w->hotspot_cases[pos];
	catch_up(w, cfg, x); /* before h changes: the lists must see its old key */
	struct hl_hotspot_case next = {.case_id = c->id, .category = c->category, .department = c->department,
	                               .area = area ? (char *)area : h->area};
	bool changed = !same(next.category, h->category) || !same(next.area, h->area) ||
	               !same(next.department, h->department);
	if (!changed)
		return;
	bool key_changed = !key_equal(cfg, &next, h);
	char *cat = hl_xstrdup(next.category), *ar = hl_xstrdup(next.area), *dep = hl_xstrdup(next.department);
	free(h->category), free(h->area), free(h->department);
	h->category = cat, h->area = ar, h->department = dep;
	h->dirty = true;
	char key[256];
	if (!key_changed && h->at)
		return; /* the same key: the case is counted once, when it got it */
	h->at = at;
	bool complete = key_of(cfg, h, key, sizeof key);
	set_membership(x, pos, at, complete && at ? key : NULL);
	if (!complete)
		return;

	struct hl_hotspot *k = find_key(w, key);
	hl_ms since = k ? k->alerted_at : 0;
	int64_t window = cfg->hotspot.window_ms;
	hl_ms end = at;
	size_t count = count_key(w, cfg, x, h, key, at, since);
	if ((int64_t)count < cfg->hotspot.threshold)
		end = crossing_after(w, cfg, x, h, key, at, since, &count);
	if (!end)
		return;
	/* the detail names the first 64 cases in row order (as it always has), sorted by id */
	int64_t ids[64];
	size_t n = count < sizeof ids / sizeof ids[0] ? count : sizeof ids / sizeof ids[0];
	if (n < count)
		qsort(x->found, count, sizeof *x->found, cmp_pos);
	for (size_t i = 0; i < n; i++)
		ids[i] = w->hotspot_cases[x->found[i]]->case_id;
	qsort(ids, n, sizeof ids[0], cmp_case);
	char dedupe[128], detail[480];
	snprintf(dedupe, sizeof dedupe, "hotspot:%016" PRIx64 ":%" PRId64, hl_hash_str(key), c->id);
	int used = snprintf(detail, sizeof detail, "%zu cases with %.160s within %" PRId64 "s: cases", count, key,
	                    window / 1000);
	for (size_t i = 0; i < n && used > 0 && (size_t)used + 24 < sizeof detail; i++)
		used += snprintf(detail + used, sizeof detail - (size_t)used, "%s %" PRId64, i ? "," : "", ids[i]);
	struct hl_alert *a = quiet ? NULL : hl_rules_raise(w, "hotspot", c, at, dedupe, detail);
	if (!k)
		k = hl_world_add_hotspot(w, key, 0);
	k->alerted_at = end;
	k->dirty = true;
	if (a)
		hl_utf8_mend((snprintf(note, notelen, "hotspot alert: %zu cases with %.160s", count, key), note));
}
