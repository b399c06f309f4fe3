/*
 * cluster_stats.c - what a daemon of a cluster reports: the `cluster` object
 * of `stats`, its /metrics lines and its /healthz line.
 *
 * cluster.c runs the slots and hands a plain snapshot of its figures
 * (cluster_figures); this file only renders it, so the state machine there
 * does not grow with every figure an operator asks for.
 *
 * Which clocks it runs: a daemon runs the timers of the slots it owns (a
 * case's slot is its id % cluster.slots, an order clock goes with its case,
 * an escalation with its alert id).  It also keeps timers of its peers' slots
 * in memory - every clock it loaded at start, and those its own events armed
 * - ready for a takeover, so `pending_clocks` is not what it owns and differs
 * between daemons.  CONTRACT.md 9 promises that `stats` shows which clocks
 * the daemon owns: cluster.owned lists the slots, and clocks_owned counts
 * their timers.  A walk over every timer, for stats only: a few milliseconds
 * per million.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>
#include <json-c/json.h>

#include "daemon.h"
#include "slots.h"

struct owned_count {
	size_t clocks, escalations;
};

static void count_owned(int64_t id, int kind, void *arg)
{
	struct owned_count *n = arg;
	if (!cluster_owns(timer_owner_id(id, kind)))
		return;
	if (kind == TIMER_ESCALATION)
		n->escalations++;
	else
		n->clocks++;
}

static void clocks_owned(size_t *clocks, size_t *escalations)
{
	struct owned_count n = { 0, 0 };
	clocks_each(count_owned, &n);
	*clocks = n.clocks;
	*escalations = n.escalations;
}

json_object *cluster_stats_json(void)
{
	struct cluster_figures f;
	cluster_figures(&f);
	json_object *o = json_object_new_object();
	char buf[1024];
	hl_slot_ranges(f.owned, f.n_slots, buf, sizeof buf);
	json_object_object_add(o, "name", json_object_new_string(f.name));
	json_object_object_add(o, "session", json_object_new_string(f.session_up ? "up" : "down"));
	json_object_object_add(o, "slots", json_object_new_int(f.n_slots));
	json_object_object_add(o, "slots_owned", json_object_new_int(f.n_owned));
	json_object_object_add(o, "owned", json_object_new_string(buf));
	size_t clocks, escalations;
	clocks_owned(&clocks, &escalations);
	json_object_object_add(o, "clocks_owned", json_object_new_int64((int64_t)clocks));
	json_object_object_add(o, "escalations_owned", json_object_new_int64((int64_t)escalations));
	json_object *peers = json_object_new_array();
	for (const char *p = f.peers; *p;) {
		size_t l = strcspn(p, " ");
		json_object_array_add(peers, json_object_new_string_len(p, (int)l));
		p += l;
		while (*p == ' ')
			p++;
	}
	json_object_object_add(o, "peers", peers);
	json_object_object_add(o, "slots_taken", json_object_new_int64((int64_t)f.slots_taken));
	json_object_object_add(o, "slots_released", json_object_new_int64((int64_t)f.slots_released));
	json_object_object_add(o, "takeovers", json_object_new_int64((int64_t)f.takeovers));
	json_object_object_add(o, "alerts_from_peers", json_object_new_int64((int64_t)f.alerts_from_peers));
	json_object_object_add(o, "clock_notes_sent", json_object_new_int64((int64_t)f.clock_notes_sent));
	json_object_object_add(o, "slots_mismatch", json_object_new_string(f.mismatch));
	bool known;
	int64_t off = cluster_clock_offset(&known);
	json_object_object_add(o, "clock_offset_ms", known ? json_object_new_int64(off) : NULL);
	json_object_object_add(o, "upkeeps", json_object_new_int64((int64_t)f.upkeeps));
	json_object_object_add(o, "partitions_created", json_object_new_int64((int64_t)f.partitions_created));
	json_object_object_add(o, "upkeep_failures", json_object_new_int64((int64_t)f.upkeep_failures));
	return o;
}

/* Every figure of cluster_stats_json() but the name, for scrapers as for `stats` readers. */
void cluster_metrics(struct evbuffer *b)
{
	struct cluster_figures f;
	cluster_figures(&f);
	size_t clocks, escalations;
	clocks_owned(&clocks, &escalations);
	bool known;
	const struct { const char *name, *type, *help; double v; } m[] = {
		{ "cluster_slots", "gauge", "clock slots shared between the daemons", f.n_slots },
		{ "cluster_slots_owned", "gauge", "clock slots this daemon runs", f.n_owned },
		{ "cluster_clocks_owned", "gauge", "pending clocks in the slots this daemon runs", (double)clocks },
		{ "cluster_escalations_owned", "gauge", "pending escalations in the slots this daemon runs",
		  (double)escalations },
		{ "cluster_peers", "gauge", "live daemons seen on the database, this one included", f.n_peers },
		{ "cluster_session_up", "gauge", "1 while the cluster session (slot locks, LISTEN) is up", f.session_up },
		{ "cluster_slots_mismatch", "gauge", "1 while a peer runs with another cluster.slots", *f.mismatch != 0 },
		{ "cluster_clock_offset_seconds", "gauge",
		  "the database server's clock minus this host's, from the last survey (0 until measured)",
		  (double)cluster_clock_offset(&known) / 1000.0 },
		{ "cluster_takeovers_total", "counter", "slot takeovers from daemons whose session ended", f.takeovers },
		{ "cluster_slots_taken_total", "counter", "clock slots this daemon took", f.slots_taken },
		{ "cluster_slots_released_total", "counter", "clock slots this daemon gave back", f.slots_released },
		{ "cluster_alerts_from_peers_total", "counter", "alerts raised by other daemons pushed here",
		  f.alerts_from_peers },
		{ "cluster_clock_notes_sent_total", "counter", "clocks announced to the owner of their slot",
		  f.clock_notes_sent },
		{ "upkeeps_total", "counter", "upkeeps of the event partitions (daily, and when events wait in the default partition)", f.upkeeps },
		{ "partitions_created_total", "counter", "event partitions the upkeep created", f.partitions_created },
		{ "upkeep_failures_total", "counter", "upkeeps of the event partitions that failed", f.upkeep_failures },
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		evbuffer_add_printf(b, "# HELP hotlined_%s %s\n# TYPE hotlined_%s %s\nhotlined_%s %.17g\n", m[i].name, m[i].help,
		                    m[i].name, m[i].type, m[i].name, m[i].v);
}

void cluster_health(struct evbuffer *b)
{
	struct cluster_figures f;
	cluster_figures(&f);
	evbuffer_add_printf(b, "cluster %s: %d of %d slots, %d daemon(s) seen, session %s%s%s\n", f.name, f.n_owned,
	                    f.n_slots, f.n_peers, f.session_up ? "up" : "down",
	                    *f.mismatch ? "; cluster.slots differs: " : "", f.mismatch);
}
