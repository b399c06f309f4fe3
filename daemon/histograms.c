/*
 * histograms.c - the three latency histograms of /metrics: ack latency,
 * commit time and alert lateness (how long after its deadline an alert was
 * committed).
 *
 * Separate from metrics.c on purpose: the store records into these as it
 * goes, while metrics.c reads the store's counts to render them; with both in
 * one file the two called each other.  This file calls nothing of the shell.
 * Buckets are kept per bucket and summed into Prometheus's cumulative form
 * only when scraped.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "daemon.h"

static const double LATENCY_BOUNDS[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };
static const double LATENESS_BOUNDS[] = { 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600 };
#define MAX_BUCKETS 16

static struct hist {
	const char *name, *help;
	const double *bounds;
	size_t n_bounds;
	uint64_t buckets[MAX_BUCKETS]; /* not cumulative here; summed when rendered */
	uint64_t count;
	double sum;
} hists[HIST__COUNT] = {
	[HIST_ACK] = { "ack_latency_seconds", "time from a request line read to its reply from the store",
		       LATENCY_BOUNDS, sizeof LATENCY_BOUNDS / sizeof LATENCY_BOUNDS[0], { 0 }, 0, 0 },
	[HIST_COMMIT] = { "commit_duration_seconds", "time from a batch's start to its COMMIT", LATENCY_BOUNDS,
			  sizeof LATENCY_BOUNDS / sizeof LATENCY_BOUNDS[0], { 0 }, 0, 0 },
	[HIST_LATENESS] = { "alert_lateness_seconds", "time from an alert's deadline to its commit",
			    LATENESS_BOUNDS, sizeof LATENESS_BOUNDS / sizeof LATENESS_BOUNDS[0], { 0 }, 0, 0 },
};

void metrics_observe(enum hl_hist h, double seconds)
{
	struct hist *x = &hists[h];
	size_t i = 0;
	while (i < x->n_bounds && seconds > x->bounds[i])
		i++;
	x->buckets[i]++; /* i == n_bounds: only in +Inf */
	x->count++;
	x->sum += seconds;
}

void metrics_alert_committed(const char *alert_json)
{
	const char *p = strstr(alert_json, "\"due_at\":\"");
	struct tm tm = { 0 };
	int ms = 0;
	if (!p || sscanf(p + 10, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			 &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	double due = (double)timegm(&tm) + ms / 1000.0, late = (double)now_ms() / 1000.0 - due;
	metrics_observe(HIST_LATENESS, late > 0 ? late : 0);
}

static void render_hist(struct evbuffer *b, const struct hist *x)
{
	uint64_t cum = 0;
	evbuffer_add_printf(b, "# HELP hotlined_%s %s\n# TYPE hotlined_%s histogram\n", x->name, x->help, x->name);
	for (size_t i = 0; i < x->n_bounds; i++) {
		cum += x->buckets[i];
		evbuffer_add_printf(b, "hotlined_%s_bucket{le=\"%g\"} %llu\n", x->name, x->bounds[i], (unsigned long long)cum);
	}
	evbuffer_add_printf(b, "hotlined_%s_bucket{le=\"+Inf\"} %llu\nhotlined_%s_sum %.17g\nhotlined_%s_count %llu\n",
			    x->name, (unsigned long long)x->count, x->name, x->sum, x->name, (unsigned long long)x->count);
}

void histograms_prometheus(struct evbuffer *b)
{
	for (int h = 0; h < HIST__COUNT; h++)
		render_hist(b, &hists[h]);
}
