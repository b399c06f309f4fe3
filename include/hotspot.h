/*
 * hotspot.h - hotspot detection (热点, CONTRACT.md 6; pure: daemon/hotspot.c).
 *
 * A hotspot is the hotspot.threshold-th case with the same key (by default
 * category and area) inside hotspot.window: a surge of calls about one burst
 * water main is one incident, and supervisors must see it at once.  Each
 * case's key values are kept in hotline.hotspot_cases (the case's area lives
 * only there and in its orders), and the last alert per key in
 * hotline.hotspots, so that an alert is raised once per crossing: the next
 * alert for a key needs `threshold` further cases after the last one.
 */
#ifndef HL_HOTSPOT_H
#define HL_HOTSPOT_H

#include "rules.h"

struct hl_hotspot_case {
	int64_t case_id;
	char *category, *area, *department;
	hl_ms at;           /* when the case got its current key */
	bool dirty;
};

struct hl_hotspot {
	char *key;          /* the key values as a JSON array: ["water","Haidian"] */
	hl_ms alerted_at;   /* `at` of the case that raised the last alert */
	bool dirty;
};

/* rows (hotspot.c); deep copies, freed with the world */
struct hl_hotspot_case *hl_world_add_hotspot_case(struct hl_world *w, const struct hl_hotspot_case *h);
struct hl_hotspot *hl_world_add_hotspot(struct hl_world *w, const char *key, hl_ms alerted_at);
void hl_world_hotspots_drop(struct hl_world *w);
void hl_world_hotspots_free(struct hl_world *w);

/*
 * Case c got new classification values from an event (category, area,
 * department; NULL = unchanged) at `at`: record its key and raise `hotspot`
 * when it is the threshold-th case with that key inside the window.  Writes a
 * clause for the case history into note (may be "" when nothing happened).
 */
/* `quiet` (a history import, "backfill": true): the crossing is counted, no alert is raised. */
void hl_hotspot_classified(struct hl_world *w, const struct hl_config *cfg, const struct hl_case *c,
                           const char *area, bool quiet, hl_ms at, char *note, size_t notelen);

#endif
