/*
 * metrics.c - every figure the daemon reports, in one table, rendered both
 * as the `stats` reply (JSON) and as /metrics (Prometheus text format).
 *
 * The two used to be written separately (main.c and http.c) and drifted.
 * Now each row of FIGURES names a figure once: its `stats` key, its metric
 * name (hotlined_<name>), its type, its help text and where its value comes
 * from (a uint64_t of struct hl_stats by offset, or a getter), with a scale
 * for each rendering (microseconds become ms in `stats`, seconds in
 * /metrics).  A row without a key is only in /metrics (a total whose
 * `stats` counterpart is a mean); a row without a name only in `stats`
 * (the mean), and tests/e2e/test_defects_webhooks.c checks that every
 * `stats` key has its metric.  Labelled families (errors by code, clocks by
 * kind, alerts by kind) enumerate their labels through a callback.
 *
 * Adding a figure = one struct hl_stats field (or a getter) and one row.
 *
 * Also here, rendered only when scraped: the process metrics
 * (process_cpu_seconds_total, process_resident_memory_bytes,
 * process_open_fds, process_start_time_seconds; small reads of /proc, no
 * blocking worth the name) and the histograms of histograms.c.
 *
 * This file only observes: it reads the other files' counts and is called
 * by no file below it (conn.c answers `stats` through hl->stats_json, which
 * main.c points here; http.c serves /metrics).  What the store records as
 * it goes (latencies) lives in histograms.c, below the store.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <json-c/json.h>

#include "daemon.h"
#include "http_api.h"

/* ------------------------------------------------------------- the table */


/* Labelled families: label i's value (false past the last). */
static bool each_error(size_t i, const char **label, double *v)
{
	if (i + 1 >= HL_E__COUNT) /* every code, the ones added after internal too */
		return false;
	*label = hl_err_code((enum hl_err)(i + 1));
	*v = (double)hl->stats.errors[i + 1];
	return true;
}

/* Every timer kind, the work orders' sign and reply included: the kinds must
 * add up to pending_clocks_total (which counts every timer but escalations),
 * or a dashboard summing them misses the order deadlines. */
static bool each_clock(size_t i, const char **label, double *v)
{
	static const char *const extra[] = { "escalation", "order_sign", "order_reply" };
	if (i >= TIMER__COUNT)
		return false;
	*label = i < HL_CK__COUNT ? hl_clock_kind_name((enum hl_clock_kind)i) : extra[i - HL_CK__COUNT];
	*v = (double)clocks_pending((int)i);
	return true;
}

static bool each_alert_kind(size_t i, const char **label, double *v)
{
	if (!(*label = hl_alert_family(i)))
		return false;
	*v = (double)hl->stats.alerts_raised[i];
	return true;
}

static double up_s(void) { return (double)(now_ms() - hl->stats.started_at) / 1e3; }
static double db_up(void) { return store_connected() ? 1 : 0; }
static double n_conns(void) { return (double)conn_count(); }
static double n_subs(void) { return (double)subscribers_count(); }
static double n_sse(void) { return (double)sse_clients(); }
static double n_http(void) { return (double)http_conn_count(); }
static double n_queued(void) { return (double)store_queued(); }
static double n_timer_bytes(void) { return (double)clocks_memory(); }
static double events_per_s(void)
{
	double up = up_s();
	return up > 0 ? (double)hl->stats.events / up : 0;
}
static double mean(uint64_t total, uint64_t n) { return n ? (double)total / (double)n : 0; }
static double batch_mean(void) { return mean(hl->stats.batch_items, hl->stats.batches); }
static double commit_ms_mean(void) { return mean(hl->stats.commit_us_total, hl->stats.batches) / 1000.0; }
static double due_wait_ms_mean(void) { return mean(hl->stats.due_wait_us_total, hl->stats.due_fired) / 1000.0; }
static double due_batch_ms_mean(void) { return mean(hl->stats.due_batch_us_total, hl->stats.due_fired) / 1000.0; }
static double ack_ms_mean(void) { return mean(hl->stats.ack_latency_us_total, hl->stats.acks) / 1000.0; }
static double clocks_total(void) { return (double)(clocks_pending(-1) - clocks_pending(TIMER_ESCALATION)); }

/* `stats` figures that are not numbers, or are grouped */
static json_object *j_version(void) { return json_object_new_string(HOTLINED_VERSION); }
static json_object *j_database(void) { return json_object_new_string(store_connected() ? "up" : "down"); }
static json_object *j_alerts_group(void)
{
	/* the same figures grouped, for a reader who looks for "alerts" */
	json_object *a = json_object_new_object();
	uint64_t raised = 0;
	for (size_t i = 0; i < HL_ALERT_FAMILIES; i++)
		raised += hl->stats.alerts_raised[i];
	json_object_object_add(a, "raised", json_object_new_int64((int64_t)raised));
	json_object_object_add(a, "escalated", json_object_new_int64((int64_t)hl->stats.alerts_escalated));
	json_object_object_add(a, "pushed", json_object_new_int64((int64_t)hl->stats.alerts_pushed));
	json_object_object_add(a, "escalations_pending", json_object_new_int64((int64_t)clocks_pending(TIMER_ESCALATION)));
	return a;
}

#define NO_FIELD ((size_t)-1)
#define F(field) offsetof(struct hl_stats, field)

struct figure {
	const char *key;        /* in `stats`; NULL = /metrics only */
	const char *name;       /* hotlined_<name>; NULL = `stats` only */
	const char *type;       /* "counter" or "gauge" */
	const char *help;
	size_t field;           /* a uint64_t of struct hl_stats, or NO_FIELD */
	double (*get)(void);    /* when NO_FIELD */
	double stats_scale;     /* 0 = 1, an integer; else a float scaled by it */
	double metric_scale;    /* 0 = 1 */
	bool (*each)(size_t i, const char **label, double *v); /* a labelled family */
	const char *label;      /* its label name in /metrics */
	bool stats_skip_zero;   /* labels with 0 left out of `stats` */
	json_object *(*stats_json)(void); /* a `stats` value that is not a number */
};

static const struct figure FIGURES[] = {
	{ "version", NULL, NULL, NULL, NO_FIELD, NULL, 0, 0, NULL, NULL, false, j_version },
	{ "uptime_s", "uptime_seconds", "gauge", "seconds since start", NO_FIELD, up_s, 0, 0, NULL, NULL, false, NULL },
	{ "database", "up", "gauge", "1 while the database connection is up", NO_FIELD, db_up, 0, 0, NULL, NULL, false, j_database },
	{ "connections", "connections", "gauge", "open client connections", NO_FIELD, n_conns, 0, 0, NULL, NULL, false, NULL },
	{ "connections_accepted", "connections_accepted_total", "counter", "connections accepted", F(conns_accepted), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "connections_rejected", "connections_rejected_total", "counter", "connections refused (limit or stopping)", F(conns_rejected), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "connections_dropped_slow", "connections_dropped_slow_total", "counter", "connections dropped for not reading", F(conns_dropped_slow), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "subscribers", "subscribers", "gauge", "alert subscribers", NO_FIELD, n_subs, 0, 0, NULL, NULL, false, NULL },
	{ "sse_clients", "sse_clients", "gauge", "alert streams open on HTTP", NO_FIELD, n_sse, 0, 0, NULL, NULL, false, NULL },
	{ "http_connections", "http_connections", "gauge", "open HTTP connections, alert streams included", NO_FIELD, n_http, 0, 0, NULL, NULL, false, NULL },
	{ "http_connections_rejected", "http_connections_rejected_total", "counter", "HTTP connections refused (http.max_connections)", F(http_conns_rejected), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "requests", "requests_total", "counter", "request lines received", F(requests), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "events", "events_total", "counter", "events acknowledged", F(events), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "events_per_s", NULL, NULL, NULL, NO_FIELD, events_per_s, 1, 0, NULL, NULL, false, NULL },
	{ "duplicates", "duplicates_total", "counter", "events acknowledged as duplicates", F(duplicates), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "errors", "errors_total", "counter", "error replies by code", NO_FIELD, NULL, 0, 0, each_error, "code", true, NULL },
	{ "queued", "queued", "gauge", "items waiting for the database", NO_FIELD, n_queued, 0, 0, NULL, NULL, false, NULL },
	{ "batches", "batches_total", "counter", "transactions committed", F(batches), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "batch_items", "batch_items_total", "counter", "items in committed transactions", F(batch_items), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "batch_size_mean", NULL, NULL, NULL, NO_FIELD, batch_mean, 1, 0, NULL, NULL, false, NULL },
	{ "batch_size_max", "batch_size_max", "gauge", "largest batch", F(batch_max_seen), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "batch_failures", "batch_failures_total", "counter", "transactions rolled back", F(batch_failures), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "commit_ms_mean", NULL, NULL, NULL, NO_FIELD, commit_ms_mean, 1, 0, NULL, NULL, false, NULL },
	{ NULL, "commit_seconds_total", "counter", "time from batch start to commit", F(commit_us_total), NULL, 0, 1e-6, NULL, NULL, false, NULL },
	{ "commit_ms_max", "commit_seconds_max", "gauge", "slowest batch", F(commit_us_max), NULL, 1e-3, 1e-6, NULL, NULL, false, NULL },
	{ "due_fired", "due_fired_total", "counter", "clocks that fell due, run in a committed batch", F(due_fired), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "due_wait_ms_mean", NULL, NULL, NULL, NO_FIELD, due_wait_ms_mean, 1, 0, NULL, NULL, false, NULL },
	{ NULL, "due_wait_seconds_total", "counter", "time due clocks waited for their batch, summed", F(due_wait_us_total), NULL, 0, 1e-6, NULL, NULL, false, NULL },
	{ "due_wait_ms_max", "due_wait_seconds_max", "gauge", "longest wait of a due clock for its batch", F(due_wait_us_max), NULL, 1e-3, 1e-6, NULL, NULL, false, NULL },
	{ "due_batch_ms_mean", NULL, NULL, NULL, NO_FIELD, due_batch_ms_mean, 1, 0, NULL, NULL, false, NULL },
	{ NULL, "due_batch_seconds_total", "counter", "time of the batches holding due clocks, summed per clock", F(due_batch_us_total), NULL, 0, 1e-6, NULL, NULL, false, NULL },
	{ "due_batch_ms_max", "due_batch_seconds_max", "gauge", "slowest batch holding a due clock", F(due_batch_us_max), NULL, 1e-3, 1e-6, NULL, NULL, false, NULL },
	{ "due_deferred", "due_deferred_total", "counter", "due clocks sent back in line behind a request for their case", F(due_deferred), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "batches_beside_due", "batches_beside_due_total", "counter", "batches of requests kept small because clocks were due or about to fall due", F(batches_beside_due), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "ack_ms_mean", NULL, NULL, NULL, NO_FIELD, ack_ms_mean, 1, 0, NULL, NULL, false, NULL },
	{ NULL, "ack_seconds_total", "counter", "time from a line read to its reply, summed", F(ack_latency_us_total), NULL, 0, 1e-6, NULL, NULL, false, NULL },
	{ NULL, "acks_total", "counter", "replies from the store", F(acks), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "pending_clocks", "pending_clocks", "gauge", "pending deadlines by kind", NO_FIELD, NULL, 0, 0, each_clock, "kind", false, NULL },
	{ "pending_clocks_total", NULL, NULL, NULL, NO_FIELD, clocks_total, 0, 0, NULL, NULL, false, NULL },
	{ "timer_bytes", "timer_bytes", "gauge", "bytes held by the timer structures", NO_FIELD, n_timer_bytes, 0, 0, NULL, NULL, false, NULL },
	{ "alerts_raised", "alerts_total", "counter", "alerts raised by kind", NO_FIELD, NULL, 0, 0, each_alert_kind, "kind", false, NULL },
	{ "alerts", NULL, NULL, NULL, NO_FIELD, NULL, 0, 0, NULL, NULL, false, j_alerts_group },
	{ "alerts_escalated", "alerts_escalated_total", "counter", "alert escalations", F(alerts_escalated), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "alerts_pushed", "alerts_pushed_total", "counter", "alert pushes to subscribers", F(alerts_pushed), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "webhooks_sent", "webhooks_sent_total", "counter", "webhook deliveries", F(webhook_sent), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "webhooks_failed", "webhooks_failed_total", "counter", "webhook deliveries given up", F(webhook_failed), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "webhooks_dropped", "webhooks_dropped_total", "counter", "webhook deliveries dropped: too many pending", F(webhook_dropped), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "db_connects", "db_connects_total", "counter", "database connections made", F(db_connects), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "db_failures", "db_failures_total", "counter", "database connection failures", F(db_failures), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "db_in_doubt_held", "db_in_doubt_held_total", "counter", "requests cut off during their commit and held, not answered unavailable, until the database was back", F(in_doubt_held), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "batch_splits", "batch_splits_total", "counter", "failed batches bisected", F(batch_splits), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "reads_orphaned", "reads_orphaned_total", "counter", "queued reads dropped because their client had gone", F(reads_orphaned), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "reads_deferred", "reads_deferred_total", "counter", "times a queued read waited for a later batch (a batch carries one replay and eight other reads)", F(reads_deferred), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "batch_id_races", "batch_id_races_total", "counter", "batches run again: another daemon stored one of their event ids first", F(batch_id_races), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "batch_retries", "batch_retries_total", "counter", "batches run again after a deadlock or serialization failure", F(batch_retries), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "batches_refused", "batches_refused_total", "counter", "batches answered unavailable: the database refused writes for now (disk full, read-only, timeouts)", F(batches_refused), NULL, 0, 0, NULL, NULL, false, NULL },
	{ "accept_errors", "accept_errors_total", "counter", "accept() failures (each pauses accepting)", F(accept_errors), NULL, 0, 0, NULL, NULL, false, NULL },
	/* several daemons: a `stats` object; its /metrics lines come from cluster_metrics() */
	{ "cluster", NULL, NULL, NULL, NO_FIELD, NULL, 0, 0, NULL, NULL, false, cluster_stats_json },
	/* new figures: add a row here (and, for a counter, a field at the end of struct hl_stats) */
};

static double value_of(const struct figure *f)
{
	if (f->field != NO_FIELD)
		return (double)*(const uint64_t *)((const char *)&hl->stats + f->field);
	return f->get ? f->get() : 0;
}

struct json_object *daemon_stats_json(void)
{
	json_object *o = json_object_new_object();
	for (size_t i = 0; i < sizeof FIGURES / sizeof FIGURES[0]; i++) {
		const struct figure *f = &FIGURES[i];
		json_object *v;
		if (!f->key)
			continue;
		if (f->stats_json) {
			v = f->stats_json();
		} else if (f->each) {
			const char *label;
			double x;
			v = json_object_new_object();
			for (size_t k = 0; f->each(k, &label, &x); k++)
				if (!(f->stats_skip_zero && x == 0))
					json_object_object_add(v, label, json_object_new_int64((int64_t)x));
		} else if (f->stats_scale) {
			v = json_object_new_double(value_of(f) * f->stats_scale);
		} else {
			v = json_object_new_int64((int64_t)value_of(f));
		}
		json_object_object_add(o, f->key, v);
	}
	return o;
}

/* ------------------------------------------------------ process metrics */

static void process_metrics(struct evbuffer *b)
{
	char buf[1024];
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long long utime = 0, stime = 0, start = 0;
	long rss = 0;
	if (p && tck > 0 &&
	    sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu %*s %*s %*s %*s %*s %*s %llu %*s %ld",
		   &utime, &stime, &start, &rss) == 4) {
		evbuffer_add_printf(b, "# HELP process_cpu_seconds_total user and system CPU time\n"
				       "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.17g\n",
				    (double)(utime + stime) / (double)tck);
		evbuffer_add_printf(b, "# HELP process_resident_memory_bytes resident set size\n"
				       "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %lld\n",
				    (long long)rss * page);
		/* start time: ticks after boot + the boot time (btime in /proc/stat) */
		long long btime = 0;
		FILE *s = fopen("/proc/stat", "r");
		char line[256];
		while (s && fgets(line, sizeof line, s))
			if (sscanf(line, "btime %lld", &btime) == 1)
				break;
		if (s)
			fclose(s);
		if (btime > 0)
			evbuffer_add_printf(b, "# HELP process_start_time_seconds start time since the Unix epoch\n"
					       "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.17g\n",
					    (double)btime + (double)start / (double)tck);
	}
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		long fds = -1; /* the DIR's own descriptor */
		while (readdir(d))
			fds++;
		closedir(d);
		evbuffer_add_printf(b, "# HELP process_open_fds open file descriptors\n"
				       "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n", fds - 2 /* . and .. */);
	}
}

void metrics_prometheus(struct evbuffer *b)
{
	for (size_t i = 0; i < sizeof FIGURES / sizeof FIGURES[0]; i++) {
		const struct figure *f = &FIGURES[i];
		if (!f->name)
			continue;
		double scale = f->metric_scale ? f->metric_scale : 1;
		evbuffer_add_printf(b, "# HELP hotlined_%s %s\n# TYPE hotlined_%s %s\n", f->name, f->help, f->name, f->type);
		if (f->each) {
			const char *label;
			double x;
			for (size_t k = 0; f->each(k, &label, &x); k++)
				evbuffer_add_printf(b, "hotlined_%s{%s=\"%s\"} %.17g\n", f->name, f->label, label, x * scale);
		} else {
			evbuffer_add_printf(b, "hotlined_%s %.17g\n", f->name, value_of(f) * scale);
		}
	}
	evbuffer_add_printf(b, "# HELP hotlined_build_info version\n# TYPE hotlined_build_info gauge\n"
			       "hotlined_build_info{version=\"%s\"} 1\n", HOTLINED_VERSION);
	histograms_prometheus(b);
	cluster_metrics(b);
	process_metrics(b);
}
