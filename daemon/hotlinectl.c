/*
 * hotlinectl.c - the command-line client of hotlined.
 *
 *   hotlinectl [OPTIONS] COMMAND [ARGS] [OPTIONS]   (getopt_long: options anywhere)
 *
 * Design.  A small blocking client: one socket, poll() for timeouts, a line
 * buffer per connection.  Nothing here is shared with the daemon's event
 * loop; it only links the core (config.c to find the socket, util.c) and
 * json-c, plus ctl_options.c (command line, target), ctl_conf.c, ctl_tls.c,
 * ctl_conn.c (connecting, line I/O, requests) and ctl_render.c (readable
 * output).  Where to connect: --unix/--tcp if
 * given, else the configuration - a client configuration of its own
 * (ctl_conf.c: connect, token, timezone, tls; no daemon secrets) or, for
 * compatibility, the daemon's hotlined.conf - else /run/hotlined/events.sock.
 * On TCP, when a token is known, an `auth` request goes first; with TLS the
 * socket is nonblocking and all I/O goes through ctl_io_* (ctl_tls.c).
 * Times are shown in the configured zone or --tz (timefmt.c), never $TZ.
 *
 * Commands:
 *   send [FILE]   NDJSON from FILE or stdin, sent as is and pipelined: input
 *                 is written while responses are read, never one at a time;
 *                 each response line is printed as it arrives.
 *   case ID       case.get as a readable page (--json: the raw response)
 *   watch         subscribe and print one line per alert; reconnects with
 *                 backoff and resumes from the last alert id seen
 *   ack ID --by NAME, stats, ping
 *
 * Request ids for generated commands are "hotlinectl:<pid>:<run>:<n>",
 * <run> 64 random bits per run: a reused pid never repeats an id.  Alert and
 * case views show callers' numbers: this tool is for supervisors, and it
 * writes them to stdout, never to a log.  Error messages never carry them.
 *
 * Everything the server sends is text other people typed (queue names,
 * notes, summaries) and goes to a terminal: every string printed from a
 * response passes hl_term_safe (ctl_jstr does it), every raw JSON line
 * hl_json_term_safe (ctl_put_json; both in ctl_render.c), so an escape sequence, a CR/LF or a bidi
 * override is shown as \e, \r\n, \u{202E} instead of acting on the screen.
 */
#include "config.h"
#include "ctl.h"
#include "ctl_tls.h"
#include "hotlined.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void on_signal(int sig)
{
	(void)sig;
	ctl_stop_flag = 1;
}

/* ----------------------------------------------------------------- send */

/* Input lines waiting to be written, and what has been answered. */
struct pipeline {
	char *in;                 /* partial input line */
	size_t in_len, in_cap;
	char *out;                /* bytes to write to the socket */
	size_t out_len, out_off, out_cap;
	long sent, answered;
	bool any_error;
};

static void buf_append(char **b, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n > *cap) {
		size_t c = *cap ? *cap : 65536;
		while (c < *len + n)
			c *= 2;
		char *nb = realloc(*b, c);
		if (!nb)
			ctl_fail(EX_PROTO, "out of memory");
		*b = nb;
		*cap = c;
	}
	memcpy(*b + *len, p, n);
	*len += n;
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* Move complete input lines to the output buffer; at EOF also the last partial one. */
static void queue_lines(struct pipeline *pl, bool at_eof)
{
	size_t start = 0;
	for (size_t i = 0; i < pl->in_len; i++) {
		if (pl->in[i] != '\n')
			continue;
		if (!blank(pl->in + start, i - start)) {
			buf_append(&pl->out, &pl->out_len, &pl->out_cap, pl->in + start, i - start + 1);
			pl->sent++;
		}
		start = i + 1;
	}
	if (at_eof && start < pl->in_len && !blank(pl->in + start, pl->in_len - start)) {
		buf_append(&pl->out, &pl->out_len, &pl->out_cap, pl->in + start, pl->in_len - start);
		buf_append(&pl->out, &pl->out_len, &pl->out_cap, "\n", 1);
		pl->sent++;
		start = pl->in_len;
	}
	memmove(pl->in, pl->in + start, pl->in_len - start);
	pl->in_len -= start;
}

/* A line from the daemon: print it, count it if it is a response. */
static void on_response(struct pipeline *pl, char *line)
{
	ctl_put_json(line);
	json_object *o = json_tokener_parse(line);
	if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "ok", NULL)) {
		pl->answered++;
		if (!ctl_response_ok(o))
			pl->any_error = true;
	}
	json_object_put(o);
}

static int cmd_send(const struct target *t, const struct opts *o, const char *file)
{
	int in = 0;
	if (file && strcmp(file, "-") != 0) {
		in = open(file, O_RDONLY | O_CLOEXEC);
		if (in < 0)
			ctl_fail(EX_USAGE, "%s: %s", file, strerror(errno));
	}
	struct link l;
	ctl_must_open(t, &l, o->timeout_ms);
	struct pipeline pl = { 0 };
	bool in_eof = false;
	int64_t last_progress = ctl_mono_ms();
	int rc = EX_OK;

	/* Until the input is used up, written, and every request answered. */
	while (!ctl_stop_flag && !(in_eof && pl.out_off == pl.out_len && pl.answered >= pl.sent)) {
		struct pollfd p[2] = { { .fd = l.fd, .events = POLLIN }, { .fd = in, .events = POLLIN } };
		if (pl.out_off < pl.out_len)
			p[0].events |= POLLOUT;
		/* backpressure: stop reading input while much is waiting to go out */
		bool want_in = !in_eof && pl.out_len - pl.out_off < (1u << 20);
		int r = poll(p, want_in ? 2 : 1, ctl_io_pending(l.tls) > 0 ? 0 : 1000);
		if (ctl_io_pending(l.tls) > 0) {
			p[0].revents |= POLLIN;
			r = r < 1 ? 1 : r;
		}
		if (r < 0 && errno != EINTR)
			ctl_fail(EX_CONNECT, "poll: %s", strerror(errno));
		if (r <= 0) {
			if (in_eof && ctl_mono_ms() - last_progress > o->timeout_ms) {
				fprintf(stderr, "hotlinectl: %ld of %ld requests unanswered after %d s\n",
				        pl.sent - pl.answered, pl.sent, o->timeout_ms / 1000);
				rc = EX_PROTO;
				break;
			}
			continue;
		}
		if (want_in && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			char chunk[65536];
			ssize_t n = read(in, chunk, sizeof chunk);
			if (n < 0 && errno != EINTR)
				ctl_fail(EX_USAGE, "reading input: %s", strerror(errno));
			if (n == 0)
				in_eof = true;
			if (n > 0)
				buf_append(&pl.in, &pl.in_len, &pl.in_cap, chunk, (size_t)n);
			queue_lines(&pl, in_eof);
		}
		if ((p[0].revents & POLLOUT) && pl.out_off < pl.out_len) {
			ssize_t n = ctl_io_send(l.tls, l.fd, pl.out + pl.out_off, pl.out_len - pl.out_off);
			if (n > 0) {
				pl.out_off += (size_t)n;
				if (pl.out_off == pl.out_len)
					pl.out_off = pl.out_len = 0;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				l.eof = true;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (ctl_read_some(&l) < 0)
				l.eof = true;
			char *line;
			while ((line = ctl_take_line(&l))) {
				on_response(&pl, line);
				free(line);
				last_progress = ctl_mono_ms();
			}
			fflush(stdout);
		}
		if (l.eof) {
			if (pl.answered < pl.sent || pl.out_off < pl.out_len || !in_eof) {
				fprintf(stderr, "hotlinectl: connection closed by the daemon; %ld of %ld requests answered\n",
				        pl.answered, pl.sent);
				rc = EX_CONNECT;
			}
			break;
		}
	}
	if (in > 0)
		close(in);
	free(pl.in);
	free(pl.out);
	ctl_link_close(&l);
	if (ctl_stop_flag && rc == EX_OK)
		rc = EX_CONNECT;
	if (rc == EX_OK && pl.any_error)
		rc = EX_REFUSED;
	return rc;
}

/* ----------------------------------------------------------------- case */

static int cmd_case(const struct target *t, const struct opts *o, int64_t id)
{
	json_object *req = ctl_new_request("case.get");
	json_object_object_add(req, "case_id", json_object_new_int64(id));
	json_object *r = ctl_one_shot(t, o, req);
	int rc = EX_OK;
	if (o->json)
		ctl_put_json(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	if (!ctl_response_ok(r))
		rc = ctl_report_error(r);
	else if (!o->json) {
		json_object *c = NULL;
		if (json_object_object_get_ex(r, "case", &c) && json_object_is_type(c, json_type_object)) {
			ctl_print_case(c);
		} else {
			fprintf(stderr, "hotlinectl: response without a case object\n");
			rc = EX_PROTO;
		}
	}
	json_object_put(r);
	return rc;
}

/* ------------------------------------------------------------ ack, stats, ping */

static int cmd_ack(const struct target *t, const struct opts *o, int64_t id)
{
	/* Who acknowledged is recorded.  Without --by the daemon records the
	 * token's name (roles); a Unix socket has no token, and a plain token
	 * no name: a bad command line, said before (Unix) or once the daemon
	 * said so (TCP), not the daemon's raw "bad_request: by: missing". */
	static const char need_by[] = "ack: --by NAME is required (who acknowledged is recorded; without --by, "
	                              "only a named token's name can stand for it)";
	if (o->by && !o->by[0])
		ctl_fail(EX_USAGE, "ack: --by must not be empty");
	if (!o->by && t->unix_path[0])
		ctl_fail(EX_USAGE, "%s", need_by);
	json_object *req = ctl_new_request("alert.ack");
	json_object_object_add(req, "alert_id", json_object_new_int64(id));
	if (o->by)
		json_object_object_add(req, "by", json_object_new_string(o->by));
	json_object *r = ctl_one_shot(t, o, req);
	int rc = EX_OK;
	const char *msg = ctl_response_ok(r) ? NULL : ctl_jstr(json_object_object_get(r, "error"), "message");
	if (!o->by && msg && !strcmp(msg, "by: missing"))
		ctl_fail(EX_USAGE, "%s", need_by);
	/* the daemon answers with the stored acknowledgement: after an earlier
	 * one that names the first acker, not --by */
	const char *by = ctl_jstr(r, "acked_by") ? ctl_jstr(r, "acked_by") : o->by;
	if (ctl_response_ok(r))
		printf("alert %lld acknowledged%s%s%s%s\n", (long long)id, by ? " by " : "", by ? by : "",
		       ctl_jstr(r, "acked_at") ? " at " : "", ctl_jstr(r, "acked_at") ? ctl_jstr(r, "acked_at") : "");
	else
		rc = ctl_report_error(r);
	json_object_put(r);
	return rc;
}

/*
 * event TYPE [KEY=VALUE ...]: one event built from the command line, e.g.
 *   hotlinectl event order.dispatch case_id=42 department=water due=3wd
 * Integer fields (case_id, into, alert_id, score, since) are sent as JSON
 * integers, true/false as booleans, everything else as strings.
 */
static int cmd_event(struct opts *o, int argc, char **argv)
{
	static const char *const ints[] = {"case_id", "into", "alert_id", "score", "since"};
	if (argc < 1 || argv[0][0] == '-')
		ctl_fail(EX_USAGE, "event: missing TYPE (e.g. order.dispatch)");
	json_object *req = ctl_new_request(argv[0]);
	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!strcmp(argv[i], "--json")) {
			o->json = true;
			continue;
		}
		if (!eq || eq == argv[i])
			ctl_fail(EX_USAGE, "event: expected KEY=VALUE, got '%s'", argv[i]);
		char key[64];
		if (eq - argv[i] >= (ptrdiff_t)sizeof key)
			ctl_fail(EX_USAGE, "event: key too long (at most %zu characters)", sizeof key - 1);
		snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i]), argv[i]);
		/* KEY given twice: the last would win unseen; say so before sending
		 * (id=, type= replace the generated ones: an id of one's own makes a
		 * retry idempotent) */
		for (int j = 1; j < i; j++)
			if (!strncmp(argv[j], argv[i], (size_t)(eq - argv[i]) + 1))
				ctl_fail(EX_USAGE, "event: %s given twice", key);
		const char *v = eq + 1;
		json_object *val = NULL;
		for (size_t k = 0; k < sizeof ints / sizeof ints[0] && !val; k++)
			if (!strcmp(key, ints[k]))
				val = json_object_new_int64(ctl_parse_id(v, key));
		if (!val && (!strcmp(v, "true") || !strcmp(v, "false")))
			val = json_object_new_boolean(!strcmp(v, "true"));
		if (!val)
			val = json_object_new_string(v);
		json_object_object_add(req, key, val);
	}
	struct target t;
	ctl_resolve_target(o, &t);
	json_object *r = ctl_one_shot(&t, o, req);
	int rc = EX_OK;
	ctl_put_json(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN)); /* terminal-safe, as every raw line */
	if (!ctl_response_ok(r))
		rc = ctl_report_error(r);
	json_object_put(r);
	return rc;
}

static int cmd_stats(const struct target *t, const struct opts *o)
{
	json_object *r = ctl_one_shot(t, o, ctl_new_request("stats"));
	int rc = EX_OK;
	json_object *s = NULL;
	if (!ctl_response_ok(r))
		rc = ctl_report_error(r);
	else if (o->json)
		ctl_put_json(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	else if (json_object_object_get_ex(r, "stats", &s) && s && json_object_is_type(s, json_type_object)) {
		printf("stats\n");
		ctl_print_tree(s, "");
	} else {
		fprintf(stderr, "hotlinectl: response without a stats object\n");
		rc = EX_PROTO;
	}
	json_object_put(r);
	return rc;
}

static int cmd_ping(const struct target *t, const struct opts *o)
{
	int64_t t0 = ctl_mono_ms();
	json_object *r = ctl_one_shot(t, o, ctl_new_request("ping"));
	int rc = EX_OK;
	if (ctl_response_ok(r))
		printf("ok (%lld ms)\n", (long long)(ctl_mono_ms() - t0));
	else
		rc = ctl_report_error(r);
	json_object_put(r);
	return rc;
}

/* ---------------------------------------------------------------- watch */

/* Subscribe on a fresh connection.  0 = subscribed; > 0 = the daemon said no (ctl_report_error's
 * exit code: EX_REFUSED, or EX_CONNECT for a missing token); -1 = retry. */
static int subscribe(const struct target *t, const struct opts *o, struct link *l, int64_t since)
{
	char err[512];
	int open = ctl_open_link(t, l, o->timeout_ms, err, sizeof err);
	if (open != 0) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		return open == -2 ? EX_CONNECT : -1; /* a refused token stays refused */
	}
	json_object *req = ctl_new_request("subscribe");
	if (since > 0)
		json_object_object_add(req, "since", json_object_new_int64(since));
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	char *line = NULL;
	if (asprintf(&line, "%s\n", text) < 0)
		ctl_fail(EX_PROTO, "out of memory");
	json_object_put(req);
	int rc = ctl_write_all(l, line, strlen(line));
	free(line);
	if (rc < 0) {
		ctl_link_close(l);
		return -1;
	}
	/* the ok comes first, before any push */
	char *resp = ctl_read_line(l, o->timeout_ms);
	json_object *r = resp ? json_tokener_parse(resp) : NULL;
	free(resp);
	if (!r) {
		ctl_link_close(l);
		return -1;
	}
	rc = ctl_response_ok(r) ? 0 : ctl_report_error(r);
	json_object_put(r);
	if (rc != 0)
		ctl_link_close(l);
	return rc;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL); /* a signal cuts it short: that is what we want */
}

static int cmd_watch(const struct target *t, const struct opts *o)
{
	int64_t last = o->since;
	int backoff = 250;
	while (!ctl_stop_flag) {
		struct link l;
		int rc = subscribe(t, o, &l, last);
		if (rc > 0)
			return rc;
		if (rc != 0) {
			fprintf(stderr, "hotlinectl: reconnecting in %d ms\n", backoff);
			sleep_ms(backoff);
			backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
			continue;
		}
		if (!o->json)
			fprintf(stderr, "hotlinectl: watching alerts%s\n", last ? " (resumed)" : "");
		backoff = 250;
		char *line;
		while ((line = ctl_read_line(&l, -1))) {
			json_object *p = json_tokener_parse(line);
			json_object *a = NULL;
			const char *push = ctl_jstr(p, "push");
			bool ack = push && !strcmp(push, "ack");
			if (p && json_object_object_get_ex(p, "alert", &a) && a) {
				json_object *id = NULL;
				if (!ack && json_object_object_get_ex(a, "id", &id) && json_object_get_int64(id) > last)
					last = json_object_get_int64(id);
				if (o->json)
					ctl_put_json(line);
				else if (ack)
					ctl_print_ack_line(a);
				else
					ctl_print_alert_line(a);
				fflush(stdout);
			} else if (p && json_object_object_get_ex(p, "omitted", &a) && a) {
				/* the replay was bounded: say how many older open alerts are not shown */
				if (o->json)
					puts(line);
				else
					fprintf(stderr, "hotlinectl: %lld older open alerts not shown (see hotline.open_alerts)\n",
					        (long long)json_object_get_int64(a));
			}
			json_object_put(p);
			free(line);
		}
		ctl_link_close(&l);
		if (!ctl_stop_flag)
			fprintf(stderr, "hotlinectl: connection lost; resuming after alert %lld\n", (long long)last);
	}
	return EX_OK;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct opts o = { .timeout_ms = 30000 };
	int i = ctl_parse_options(argc, argv, &o);
	if (i >= argc) {
		ctl_usage(stderr);
		return EX_USAGE;
	}
	const char *cmd = argv[i];
	if (!strcmp(cmd, "event")) {
		signal(SIGPIPE, SIG_IGN);
		return cmd_event(&o, argc - i - 1, argv + i + 1);
	}
	const char *arg = i + 1 < argc ? argv[i + 1] : NULL;
	if (i + 2 < argc)
		ctl_fail(EX_USAGE, "%s: unexpected argument '%s'", cmd, argv[i + 2]);

	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	bool known = !strcmp(cmd, "send") || !strcmp(cmd, "case") || !strcmp(cmd, "watch") || !strcmp(cmd, "ack") ||
	             !strcmp(cmd, "stats") || !strcmp(cmd, "ping");
	if (!known)
		ctl_fail(EX_USAGE, "unknown command '%s' (see --help)", cmd);
	if ((!strcmp(cmd, "case") || !strcmp(cmd, "ack")) && !arg)
		ctl_fail(EX_USAGE, "%s: missing ID", cmd);
	if ((!strcmp(cmd, "watch") || !strcmp(cmd, "stats") || !strcmp(cmd, "ping")) && arg)
		ctl_fail(EX_USAGE, "%s: unexpected argument '%s'", cmd, arg);
	int64_t id = (!strcmp(cmd, "case") || !strcmp(cmd, "ack")) ? ctl_parse_id(arg, "ID") : 0;

	struct target t;
	ctl_resolve_target(&o, &t);
	ctl_load_zone(&o);

	if (!strcmp(cmd, "send"))
		return cmd_send(&t, &o, arg);
	if (!strcmp(cmd, "case"))
		return cmd_case(&t, &o, id);
	if (!strcmp(cmd, "watch"))
		return cmd_watch(&t, &o);
	if (!strcmp(cmd, "ack"))
		return cmd_ack(&t, &o, id);
	if (!strcmp(cmd, "stats"))
		return cmd_stats(&t, &o);
	return cmd_ping(&t, &o);
}
