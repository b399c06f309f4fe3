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
 * The store loads the rows this needs in the batch's one load round trip:
 * the hotspot rows of the batch's cases, and the recent rows that share a
 * category, area or department with one the events carry (any case with the
 * same key must share the value that made the key).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hotspot.h"
#include "rules_internal.h"

static struct hl_hotspot_case *find_case(struct hl_world *w, int64_t case_id)
{
	for (size_t i = 0; i < w->n_hotspot_cases; i++)
		if (w->hotspot_cases[i]->case_id == case_id)
			return w->hotspot_cases[i];
	return NULL;
}

static struct hl_hotspot *find_key(struct hl_world *w, const char *key)
{
	for (size_t i = 0; i < w->n_hotspots; i++)
		if (strcmp(w->hotspots[i]->key, key) == 0)
			return w->hotspots[i];
	return NULL;
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
}

void hl_world_hotspots_free(struct hl_world *w)
{
	hl_world_hotspots_drop(w);
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

void hl_hotspot_classified(struct hl_world *w, const struct hl_config *cfg, const struct hl_case *c,
                           const char *area, bool quiet, hl_ms at, char *note, size_t notelen)
{
	note[0] = '\0';
	if (cfg->hotspot.threshold <= 0 || cfg->hotspot.n_key == 0)
		return;
	struct hl_hotspot_case *h = find_case(w, c->id);
	if (!h)
		h = hl_world_add_hotspot_case(w, &(struct hl_hotspot_case){.case_id = c->id});
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
	if (!key_of(cfg, h, key, sizeof key))
		return;

	struct hl_hotspot *k = find_key(w, key);
	hl_ms since = k ? k->alerted_at : 0;
	int64_t window = cfg->hotspot.window_ms;
	int64_t ids[64];
	size_t n = 0, count = 0;
	for (size_t i = 0; i < w->n_hotspot_cases; i++) {
		const struct hl_hotspot_case *o = w->hotspot_cases[i];
		if (!o->at || o->at <= at - window || o->at > at || o->at <= since || !key_equal(cfg, o, h))
			continue;
		count++;
		if (n < sizeof ids / sizeof ids[0])
			ids[n++] = o->case_id;
	}
	if ((int64_t)count < cfg->hotspot.threshold)
		return;
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
	k->alerted_at = at;
	k->dirty = true;
	if (a)
		snprintf(note, notelen, "hotspot alert: %zu cases with %.160s", count, key);
}
