/*
 * main.c - hotline-pbx: command line, signals, the summary at exit.
 *
 *   hotline-pbx -c FILE [--backfill] [-v] queue-log [--follow] PATH
 *   hotline-pbx -c FILE [--backfill] [-v] ami HOST:PORT
 *   hotline-pbx -c FILE --check        validate the configuration
 *   hotline-pbx --version
 *
 * One libevent loop runs the source (follow.c or ami.c) and the sender.
 * `queue-log PATH` exits 0 once every event derived from the file has been
 * answered by hotlined.  SIGTERM/SIGINT stop reading, wait up to 5 s for
 * what is in flight to be acknowledged, write the state file and exit 0.
 * Logs go to stderr (journald under systemd) and never carry a caller's
 * number (event ids carry the PBX uniqueid, not the number).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "pbx_shell.h"

int pbx_verbosity = PBX_INFO;

static struct {
	struct event_base *base;
	struct sender *snd;
	struct qlreader *reader;
	struct amiclient *ami;
	bool source_done, stopping;
	struct event *drain;
	hl_ms stop_deadline;
} M;

void pbx_log(int prio, const char *fmt, ...)
{
	if (prio > pbx_verbosity)
		return;
	static const char *const names[] = { "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug" };
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "<%d>hotline-pbx: %s: %s\n", prio, names[prio & 7], buf);
}

hl_ms pbx_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (hl_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

hl_ms pbx_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (hl_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until the sender is idle (or the stop deadline passed), then leave the loop. */
static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	if (sender_idle(M.snd) || (M.stop_deadline && pbx_mono_ms() > M.stop_deadline)) {
		if (!sender_idle(M.snd))
			pbx_log(PBX_WARN, "stopping with %zu event(s) not acknowledged (they are sent again next time)",
			        sender_backlog(M.snd));
		event_base_loopexit(M.base, NULL);
		return;
	}
	struct timeval tv = { 0, 20000 };
	evtimer_add(M.drain, &tv);
}

void pbx_source_done(void)
{
	M.source_done = true;
	event_active(M.drain, EV_TIMEOUT, 0);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what, (void)arg;
	if (M.stopping)
		return;
	M.stopping = true;
	pbx_log(PBX_INFO, "signal %d: finishing what is in flight", (int)sig);
	if (M.reader)
		qlreader_stop(M.reader);
	M.stop_deadline = pbx_mono_ms() + 5000;
	event_active(M.drain, EV_TIMEOUT, 0);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hotline-pbx -c FILE [--backfill] [-v|-q] queue-log [--follow] PATH\n"
	           "       hotline-pbx -c FILE [--backfill] [-v|-q] ami HOST:PORT\n"
	           "       hotline-pbx -c FILE --check\n"
	           "       hotline-pbx --version\n");
}

static void summary(const struct pbx_counts *c)
{
	const struct sender_stats *s = sender_stats(M.snd);
	fprintf(stderr,
	        "hotline-pbx: %llu lines, %llu events (%llu synthesized), %llu acknowledged (%llu duplicate), "
	        "%llu rejected, %llu skipped, %llu unknown, %llu malformed, %llu anonymous, %llu other queues, "
	        "%llu restarts, %llu forgotten\n",
	        (unsigned long long)c->lines, (unsigned long long)c->events, (unsigned long long)c->synthesized,
	        (unsigned long long)s->acked, (unsigned long long)s->duplicates, (unsigned long long)s->rejected,
	        (unsigned long long)c->skipped, (unsigned long long)c->unknown, (unsigned long long)c->malformed,
	        (unsigned long long)c->anonymous, (unsigned long long)c->other_queue,
	        (unsigned long long)c->restarts, (unsigned long long)c->forgotten);
	if (amiclient_dropped(M.ami))
		fprintf(stderr, "hotline-pbx: %llu event(s) dropped while hotlined did not take them (ami.backlog)\n",
		        (unsigned long long)amiclient_dropped(M.ami));
}

int main(int argc, char **argv)
{
	const char *conf_path = NULL, *mode = NULL, *target = NULL;
	bool follow = false, backfill = false, check = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-c") == 0 && i + 1 < argc)
			conf_path = argv[++i];
		else if (strcmp(a, "--follow") == 0)
			follow = true;
		else if (strcmp(a, "--backfill") == 0)
			backfill = true;
		else if (strcmp(a, "--check") == 0)
			check = true;
		else if (strcmp(a, "-v") == 0)
			pbx_verbosity = PBX_DEBUG;
		else if (strcmp(a, "-q") == 0)
			pbx_verbosity = PBX_WARN;
		else if (strcmp(a, "--version") == 0) {
			printf("hotline-pbx %s\n", PBX_VERSION);
			return 0;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (!mode && a[0] != '-')
			mode = a;
		else if (!target && a[0] != '-')
			target = a;
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!conf_path || (!check && (!mode || !target))) {
		usage(stderr);
		return 2;
	}
	struct pbx_conf conf;
	if (pbx_conf_load(conf_path, &conf) != 0)
		return 2;
	if (check) {
		printf("%s: ok\n", conf_path);
		pbx_conf_free(&conf);
		return 0;
	}
	bool ql = strcmp(mode, "queue-log") == 0, ami = strcmp(mode, "ami") == 0;
	if (!ql && !ami) {
		usage(stderr);
		pbx_conf_free(&conf);
		return 2;
	}
	if (follow && !ql) {
		fprintf(stderr, "hotline-pbx: --follow is for queue-log\n");
		pbx_conf_free(&conf);
		return 2;
	}
	if (ami && !conf.ami_user[0]) {
		fprintf(stderr, "%s: pbx.ami.user: missing (the manager.conf user)\n", conf_path);
		pbx_conf_free(&conf);
		return 2;
	}
	if (ql && follow && !conf.state_file[0]) {
		fprintf(stderr, "%s: pbx.state_file: missing (needed by --follow)\n", conf_path);
		pbx_conf_free(&conf);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	M.base = event_base_new();
	if (!M.base)
		return 1;
	M.drain = evtimer_new(M.base, drain_cb, NULL);
	struct event *sigterm = evsignal_new(M.base, SIGTERM, on_signal, NULL);
	struct event *sigint = evsignal_new(M.base, SIGINT, on_signal, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);

	int rc = 0;
	if (ql) {
		M.reader = qlreader_new(M.base, &conf, target, follow, backfill, &M.snd);
		if (!M.reader)
			rc = 1;
	} else {
		M.ami = amiclient_new(M.base, &conf, target, backfill, &M.snd);
		if (!M.ami)
			rc = 2;
	}
	if (rc == 0) {
		event_base_dispatch(M.base);
		summary(M.reader ? qlreader_counts(M.reader) : amiclient_counts(M.ami));
		if (!sender_idle(M.snd) || qlreader_failed(M.reader))
			rc = 1;
	}
	qlreader_free(M.reader);
	amiclient_free(M.ami);
	event_free(sigterm);
	event_free(sigint);
	event_free(M.drain);
	event_base_free(M.base);
	pbx_conf_free(&conf);
	return rc;
}
