/*
 * hotlinectl.c - the command-line client of hotlined.
 *
 *   hotlinectl [OPTIONS] COMMAND [ARGS] [OPTIONS]   (getopt_long: options anywhere)
 *
 * Design.  A small blocking client: one socket, poll() for timeouts, a line
 * buffer per connection.  Nothing here is shared with the daemon's event
 * loop; it only links the core (config.c to find the socket, util.c) and
 * json-c, plus ctl_options.c (command line, target), ctl_conf.c and ctl_tls.c.  Where to connect: --unix/--tcp if
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
 * Request ids for generated commands are "hotlinectl:<pid>:<n>".  Alert and
 * case views show callers' numbers: this tool is for supervisors, and it
 * writes them to stdout, never to a log.  Error messages never carry them.
 *
 * Everything the server sends is text other people typed (queue names,
 * notes, summaries) and goes to a terminal: every string printed from a
 * response passes hl_term_safe (jstr does it), every raw JSON line
 * hl_json_term_safe (put_json), so an escape sequence, a CR/LF or a bidi
 * override is shown as \e, \r\n, \u{202E} instead of acting on the screen.
 */
#include "config.h"
#include "ctl.h"
#include "ctl_tls.h"
#include "hotlined.h"
#include "redact.h"
#include "timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The connection: fd plus the bytes read but not yet returned as lines. */
struct link {
	int fd;
	struct ctl_tls *tls; /* NULL: plain */
	char *buf;
	size_t len, cap;
	bool eof;
};

static volatile sig_atomic_t stop_flag;
static unsigned next_id;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *new_id(char *buf, size_t len)
{
	snprintf(buf, len, "hotlinectl:%d:%u", (int)getpid(), ++next_id);
	return buf;
}

/* ------------------------------------------------------------ connecting */

/* Returns a connected fd, or -1 with a message in err. */
static int dial(const struct target *t, char *err, size_t errlen)
{
	if (t->unix_path[0]) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			return -1;
		}
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		snprintf(a.sun_path, sizeof a.sun_path, "%s", t->unix_path);
		if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
			snprintf(err, errlen, "cannot connect to %s: %s", t->unix_path, strerror(errno));
			close(fd);
			return -1;
		}
		return fd;
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	int rc = getaddrinfo(t->host, t->port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", t->host, gai_strerror(rc));
		return -1;
	}
	int fd = -1, e = 0;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		/* keepalive: `watch` idles for hours and must notice a dead peer */
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &(int){ 1 }, sizeof(int));
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot connect to %s:%s: %s", t->host, t->port, strerror(e));
	return fd;
}

/* ------------------------------------------------------------- line I/O */

/* Write everything (waiting while the socket is full).  0, or -1 with errno. */
static int write_all(struct link *l, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = ctl_io_send(l->tls, l->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd pf = { .fd = l->fd, .events = POLLOUT | POLLIN };
				poll(&pf, 1, 1000);
				continue;
			}
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A complete line out of the buffer (malloc'd, no newline), or NULL. */
static char *take_line(struct link *l)
{
	char *nl = l->len ? memchr(l->buf, '\n', l->len) : NULL;
	if (!nl)
		return NULL;
	size_t n = (size_t)(nl - l->buf);
	char *line = malloc(n + 1);
	if (!line)
		ctl_fail(EX_PROTO, "out of memory");
	memcpy(line, l->buf, n);
	line[n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	l->len -= n + 1;
	memmove(l->buf, nl + 1, l->len);
	return line;
}

/* One read() into the buffer.  1 = got bytes, 0 = EOF, -1 = error (errno). */
static int read_some(struct link *l)
{
	if (l->cap - l->len < 16384) {
		size_t cap = l->cap ? l->cap * 2 : 65536;
		char *b = realloc(l->buf, cap);
		if (!b)
			ctl_fail(EX_PROTO, "out of memory");
		l->buf = b;
		l->cap = cap;
	}
	ssize_t n;
	do
		n = ctl_io_recv(l->tls, l->fd, l->buf + l->len, l->cap - l->len);
	while (n < 0 && errno == EINTR && !stop_flag);
	if (n == 0) {
		l->eof = true;
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 1; /* nothing yet (a partial TLS record): poll again */
	if (n < 0)
		return -1;
	l->len += (size_t)n;
	return 1;
}

/* Next line within timeout_ms (-1 = forever).  NULL: timeout, EOF (l->eof) or a signal. */
static char *read_line(struct link *l, int timeout_ms)
{
	int64_t end = timeout_ms < 0 ? 0 : mono_ms() + timeout_ms;
	for (;;) {
		char *line = take_line(l);
		if (line || l->eof || stop_flag)
			return line;
		int wait = -1;
		if (timeout_ms >= 0) {
			int64_t left = end - mono_ms();
			if (left <= 0)
				return NULL;
			wait = (int)left;
		}
		struct pollfd p = { .fd = l->fd, .events = POLLIN };
		int r = ctl_io_pending(l->tls) > 0 ? 1 : poll(&p, 1, wait); /* TLS may hold decrypted bytes */
		if (r < 0 && errno != EINTR)
			return NULL;
		if (r > 0 && read_some(l) < 0) {
			l->eof = true;
			return NULL;
		}
	}
}

static void link_close(struct link *l)
{
	ctl_tls_free(l->tls);
	if (l->fd >= 0)
		close(l->fd);
	free(l->buf);
	memset(l, 0, sizeof *l);
	l->fd = -1;
}

/* Send one request object and wait for the response with that id (pushes are skipped). */
static json_object *request(struct link *l, json_object *req, int timeout_ms)
{
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(text);
	char *line = malloc(n + 2);
	if (!line)
		ctl_fail(EX_PROTO, "out of memory");
	memcpy(line, text, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	int rc = write_all(l, line, n + 1);
	free(line);
	if (rc < 0)
		ctl_fail(EX_CONNECT, "connection lost while sending: %s", strerror(errno));
	json_object *want_id = NULL;
	json_object_object_get_ex(req, "id", &want_id);
	for (;;) {
		char *resp = read_line(l, timeout_ms);
		if (!resp) {
			if (stop_flag)
				exit(EX_CONNECT);
			if (l->eof)
				ctl_fail(EX_CONNECT, "the daemon closed the connection without answering");
			ctl_fail(EX_PROTO, "no response within %d s", timeout_ms / 1000);
		}
		json_object *o = json_tokener_parse(resp);
		if (!o || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			free(resp);
			ctl_fail(EX_PROTO, "malformed response from the daemon");
		}
		free(resp);
		json_object *id = NULL;
		if (json_object_object_get_ex(o, "push", NULL)) { /* not ours */
			json_object_put(o);
			continue;
		}
		json_object_object_get_ex(o, "id", &id);
		if (!want_id || !id || strcmp(json_object_get_string(id), json_object_get_string(want_id)) == 0)
			return o;
		json_object_put(o);
	}
}

/* Connect and authenticate.  Returns 0, or -1 with err filled (exit code in *code). */
static int open_link(const struct target *t, struct link *l, int timeout_ms, char *err, size_t errlen)
{
	memset(l, 0, sizeof *l);
	l->fd = dial(t, err, errlen);
	if (l->fd < 0)
		return -1;
	if (t->host[0] && t->tls) {
		l->tls = ctl_tls_connect(l->fd, t->host, t->ca[0] ? t->ca : NULL, t->cert[0] ? t->cert : NULL,
		                         t->key[0] ? t->key : NULL, err, errlen);
		if (!l->tls) {
			link_close(l);
			return -1;
		}
	}
	if (t->host[0] && t->token[0]) {
		char id[64];
		json_object *req = json_object_new_object();
		json_object_object_add(req, "type", json_object_new_string("auth"));
		json_object_object_add(req, "id", json_object_new_string(new_id(id, sizeof id)));
		json_object_object_add(req, "token", json_object_new_string(t->token));
		json_object *r = request(l, req, timeout_ms);
		json_object_put(req);
		json_object *ok = NULL;
		bool good = json_object_object_get_ex(r, "ok", &ok) && json_object_get_boolean(ok);
		json_object_put(r);
		if (!good) {
			snprintf(err, errlen, "authentication refused (check the token)");
			link_close(l);
			return -1;
		}
	}
	return 0;
}

static void must_open(const struct target *t, struct link *l, int timeout_ms)
{
	char err[512];
	if (open_link(t, l, timeout_ms, err, sizeof err) != 0)
		ctl_fail(EX_CONNECT, "%s", err);
}

/* -------------------------------------------------------------- helpers */

/* Text made safe for a terminal, in a ring of buffers that live for the next 31 calls. */
static const char *term_safe(const char *s)
{
	static char *ring[32];
	static unsigned next;
	size_t need = hl_term_safe(s, NULL, 0);
	char *buf = malloc(need + 1);
	if (!buf)
		return "?";
	hl_term_safe(s, buf, need + 1);
	free(ring[next % 32]);
	ring[next++ % 32] = buf;
	return buf;
}

/* A member as text for printing (terminal-safe), NULL when absent or null. */
static const char *jstr(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return term_safe(json_object_get_string(v));
}

/* A time member shown in the chosen zone with its offset ("2026-11-20 09:15:00 +08:00"); NULL when absent. */
static const char *jtime(json_object *o, const char *key)
{
	const char *v = jstr(o, key);
	if (!v)
		return NULL;
	char buf[HL_LOCAL_TIME_LEN + 64];
	return term_safe(hl_time_text_local(v, ctl_show_zone, buf, sizeof buf));
}

/* Print a JSON line from the daemon with what a terminal would act on escaped (still valid JSON). */
static void put_json(const char *line)
{
	size_t need = hl_json_term_safe(line, NULL, 0);
	char *buf = malloc(need + 1);
	if (!buf)
		return;
	hl_json_term_safe(line, buf, need + 1);
	puts(buf);
	free(buf);
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static bool response_ok(json_object *r)
{
	json_object *ok = NULL;
	return json_object_object_get_ex(r, "ok", &ok) && json_object_get_boolean(ok);
}

/* Print "hotlinectl: CODE: message" for an ok:false response; returns EX_REFUSED. */
static int report_error(json_object *r)
{
	json_object *e = NULL;
	if (json_object_object_get_ex(r, "error", &e) && e && jstr(e, "code"))
		fprintf(stderr, "hotlinectl: %s: %s\n", jstr(e, "code"), or_dash(jstr(e, "message")));
	else
		fprintf(stderr, "hotlinectl: the daemon refused the request (no error given)\n");
	return EX_REFUSED;
}

static json_object *new_request(const char *type)
{
	char id[64];
	json_object *req = json_object_new_object();
	json_object_object_add(req, "type", json_object_new_string(type));
	json_object_object_add(req, "id", json_object_new_string(new_id(id, sizeof id)));
	return req;
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
	put_json(line);
	json_object *o = json_tokener_parse(line);
	if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "ok", NULL)) {
		pl->answered++;
		if (!response_ok(o))
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
	must_open(t, &l, o->timeout_ms);
	struct pipeline pl = { 0 };
	bool in_eof = false;
	int64_t last_progress = mono_ms();
	int rc = EX_OK;

	/* Until the input is used up, written, and every request answered. */
	while (!stop_flag && !(in_eof && pl.out_off == pl.out_len && pl.answered >= pl.sent)) {
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
			if (in_eof && mono_ms() - last_progress > o->timeout_ms) {
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
			if (read_some(&l) < 0)
				l.eof = true;
			char *line;
			while ((line = take_line(&l))) {
				on_response(&pl, line);
				free(line);
				last_progress = mono_ms();
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
	link_close(&l);
	if (stop_flag && rc == EX_OK)
		rc = EX_CONNECT;
	if (rc == EX_OK && pl.any_error)
		rc = EX_REFUSED;
	return rc;
}

/* ----------------------------------------------------------------- case */

static void print_clocks(json_object *clocks)
{
	size_t n = clocks ? json_object_array_length(clocks) : 0;
	printf("\nClocks\n");
	if (n == 0) {
		printf("  (none)\n");
		return;
	}
	printf("  %-11s %-9s %-26s %-26s %s\n", "KIND", "STATE", "DUE", "STARTED", "MET / BREACHED");
	for (size_t i = 0; i < n; i++) {
		json_object *k = json_object_array_get_idx(clocks, i);
		const char *end = jtime(k, "met_at");
		const char *left = jstr(k, "remaining_ms");
		if (!end)
			end = jtime(k, "breached_at");
		printf("  %-11s %-9s %-26s %-26s %s", or_dash(jstr(k, "kind")), or_dash(jstr(k, "state")),
		       or_dash(jtime(k, "due_at")), or_dash(jtime(k, "started_at")), or_dash(end));
		if (left)
			printf("  (%s ms left when paused)", left);
		putchar('\n');
	}
}

static void print_calls(json_object *calls)
{
	size_t n = calls ? json_object_array_length(calls) : 0;
	printf("\nCalls\n");
	if (n == 0) {
		printf("  (none)\n");
		return;
	}
	printf("  %-24s %-10s %-26s %-26s %-12s %s\n", "CALL", "STATE", "OFFERED", "ANSWERED", "AGENT", "OUTCOME");
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(calls, i);
		printf("  %-24s %-10s %-26s %-26s %-12s %s\n", or_dash(jstr(c, "call_id")), or_dash(jstr(c, "state")),
		       or_dash(jtime(c, "offered_at")), or_dash(jtime(c, "answered_at")), or_dash(jstr(c, "agent")),
		       or_dash(jstr(c, "outcome")));
	}
}

static void print_events(json_object *events)
{
	size_t n = events ? json_object_array_length(events) : 0;
	printf("\nEvents\n");
	if (n == 0) {
		printf("  (none)\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(events, i);
		printf("  %-26s %-17s %s\n", or_dash(jtime(e, "at")), or_dash(jstr(e, "type")),
		       jstr(e, "description") ? jstr(e, "description") : or_dash(jstr(e, "event_id")));
	}
}

/* One alert: when it happened (an escalated alert: when it escalated), what, for whom, due when. */
static void print_alert_line(json_object *a)
{
	const char *esc = jtime(a, "escalated_at");
	printf("%-26s #%-6s %-22s level %-2s case %-8s %s", or_dash(esc ? esc : jtime(a, "raised_at")), or_dash(jstr(a, "id")),
	       or_dash(jstr(a, "kind")), or_dash(jstr(a, "level")), or_dash(jstr(a, "case_id")),
	       or_dash(jstr(a, "caller")));
	const char *due = jtime(a, "due_at"), *detail = jstr(a, "detail");
	if (esc)
		printf("  escalated (raised %s)", or_dash(jtime(a, "raised_at")));
	if (due)
		printf("  due %s", due);
	if (detail)
		printf("  %s", detail);
	putchar('\n');
}

/* An acknowledgement pushed to watchers: who took the alert, and when. */
static void print_ack_line(json_object *a)
{
	printf("%-26s #%-6s %-22s acked by %s  case %s\n", or_dash(jtime(a, "acked_at")), or_dash(jstr(a, "id")),
	       or_dash(jstr(a, "kind")), or_dash(jstr(a, "acked_by")), or_dash(jstr(a, "case_id")));
}

/* "label value" only when there is a value */
static void print_opt(const char *label, const char *value)
{
	if (value)
		printf("%s%s\n", label, value);
}

/* Work orders (CONTRACT.md 6): department, status, deadlines, result. */
static void print_orders(json_object *orders)
{
	size_t n = orders ? json_object_array_length(orders) : 0;
	if (n == 0)
		return;
	printf("\nOrders\n");
	printf("  %-20s %-14s %-19s %-26s %-26s %s\n", "order", "department", "status", "sign due / signed",
	       "reply due / replied", "result");
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(orders, i);
		printf("  %-20s %-14s %-19s %-26s %-26s %s\n", or_dash(jstr(o, "order_id")), or_dash(jstr(o, "department")),
		       or_dash(jstr(o, "status")), or_dash(jtime(o, "signed_at") ? jtime(o, "signed_at") : jtime(o, "sign_due_at")),
		       or_dash(jtime(o, "replied_at") ? jtime(o, "replied_at") : jtime(o, "due_at")), or_dash(jstr(o, "result")));
		print_opt("      returned: ", jstr(o, "return_reason"));
		print_opt("      extension asked until ", jtime(o, "extend_until"));
	}
}

static void print_case(json_object *c)
{
	printf("Case %s  %s  caller %s\n", or_dash(jstr(c, "id")), or_dash(jstr(c, "status")), or_dash(jstr(c, "caller")));
	printf("  opened      %s\n", or_dash(jtime(c, "opened_at")));
	print_opt("  resolved    ", jtime(c, "resolved_at"));
	print_opt("  closed      ", jtime(c, "closed_at"));
	printf("  last contact %s\n", or_dash(jtime(c, "last_contact_at")));
	printf("  category %s  priority %s  department %s  queue %s  policy %s\n", or_dash(jstr(c, "category")),
	       or_dash(jstr(c, "priority")), or_dash(jstr(c, "department")), or_dash(jstr(c, "queue")),
	       or_dash(jstr(c, "policy")));
	json_object *hold = NULL;
	json_object_object_get_ex(c, "on_hold", &hold);
	printf("  transfers %s  reopens %s  on hold %s\n", or_dash(jstr(c, "transfers")), or_dash(jstr(c, "reopens")),
	       hold && json_object_get_boolean(hold) ? "yes" : "no");
	print_opt("  summary     ", jstr(c, "summary"));
	print_opt("  resolution  ", jstr(c, "resolution"));

	json_object *v = NULL;
	print_opt("  merged into case ", jstr(c, "merged_into"));
	print_clocks(json_object_object_get_ex(c, "clocks", &v) ? v : NULL);
	print_orders(json_object_object_get_ex(c, "orders", &v) ? v : NULL);
	print_calls(json_object_object_get_ex(c, "calls", &v) ? v : NULL);
	print_events(json_object_object_get_ex(c, "events", &v) ? v : NULL);
	json_object *alerts = NULL;
	json_object_object_get_ex(c, "alerts", &alerts);
	size_t n = alerts ? json_object_array_length(alerts) : 0;
	printf("\nOpen alerts\n");
	if (n == 0)
		printf("  (none)\n");
	for (size_t i = 0; i < n; i++) {
		printf("  ");
		print_alert_line(json_object_array_get_idx(alerts, i));
	}
}

/* case.get, ack, stats and ping share this: one request, one response. */
static json_object *one_shot(const struct target *t, const struct opts *o, json_object *req)
{
	struct link l;
	must_open(t, &l, o->timeout_ms);
	json_object *r = request(&l, req, o->timeout_ms);
	json_object_put(req);
	link_close(&l);
	return r;
}

static int cmd_case(const struct target *t, const struct opts *o, int64_t id)
{
	json_object *req = new_request("case.get");
	json_object_object_add(req, "case_id", json_object_new_int64(id));
	json_object *r = one_shot(t, o, req);
	int rc = EX_OK;
	if (o->json)
		put_json(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	if (!response_ok(r))
		rc = report_error(r);
	else if (!o->json) {
		json_object *c = NULL;
		if (json_object_object_get_ex(r, "case", &c) && json_object_is_type(c, json_type_object)) {
			print_case(c);
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
	json_object *req = new_request("alert.ack");
	json_object_object_add(req, "alert_id", json_object_new_int64(id));
	if (o->by) /* without --by the daemon records the token's name (roles) */
		json_object_object_add(req, "by", json_object_new_string(o->by));
	json_object *r = one_shot(t, o, req);
	int rc = EX_OK;
	if (response_ok(r))
		printf("alert %lld acknowledged%s%s\n", (long long)id, o->by ? " by " : "", o->by ? o->by : "");
	else
		rc = report_error(r);
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
	json_object *req = new_request(argv[0]);
	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!strcmp(argv[i], "--json")) {
			o->json = true;
			continue;
		}
		if (!eq || eq == argv[i])
			ctl_fail(EX_USAGE, "event: expected KEY=VALUE, got '%s'", argv[i]);
		char key[64];
		snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i]), argv[i]);
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
	json_object *r = one_shot(&t, o, req);
	int rc = EX_OK;
	puts(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	if (!response_ok(r))
		rc = report_error(r);
	json_object_put(r);
	return rc;
}

/* Flatten nested objects into "a.b  value" lines. */
static void print_tree(json_object *o, const char *prefix)
{
	json_object_object_foreach(o, key, val)
	{
		char name[256];
		snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", key);
		if (val && json_object_is_type(val, json_type_object))
			print_tree(val, name);
		else
			printf("  %-36s %s\n", name, term_safe(val ? json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN) : "null"));
	}
}

static int cmd_stats(const struct target *t, const struct opts *o)
{
	json_object *r = one_shot(t, o, new_request("stats"));
	int rc = EX_OK;
	json_object *s = NULL;
	if (!response_ok(r))
		rc = report_error(r);
	else if (o->json)
		put_json(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	else if (json_object_object_get_ex(r, "stats", &s) && s && json_object_is_type(s, json_type_object)) {
		printf("stats\n");
		print_tree(s, "");
	} else {
		fprintf(stderr, "hotlinectl: response without a stats object\n");
		rc = EX_PROTO;
	}
	json_object_put(r);
	return rc;
}

static int cmd_ping(const struct target *t, const struct opts *o)
{
	int64_t t0 = mono_ms();
	json_object *r = one_shot(t, o, new_request("ping"));
	int rc = EX_OK;
	if (response_ok(r))
		printf("ok (%lld ms)\n", (long long)(mono_ms() - t0));
	else
		rc = report_error(r);
	json_object_put(r);
	return rc;
}

/* ---------------------------------------------------------------- watch */

/* Subscribe on a fresh connection.  0 = subscribed; EX_REFUSED = the daemon said no; -1 = retry. */
static int subscribe(const struct target *t, const struct opts *o, struct link *l, int64_t since)
{
	char err[512];
	if (open_link(t, l, o->timeout_ms, err, sizeof err) != 0) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		return -1;
	}
	json_object *req = new_request("subscribe");
	if (since > 0)
		json_object_object_add(req, "since", json_object_new_int64(since));
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	char *line = NULL;
	if (asprintf(&line, "%s\n", text) < 0)
		ctl_fail(EX_PROTO, "out of memory");
	json_object_put(req);
	int rc = write_all(l, line, strlen(line));
	free(line);
	if (rc < 0) {
		link_close(l);
		return -1;
	}
	/* the ok comes first, before any push */
	char *resp = read_line(l, o->timeout_ms);
	json_object *r = resp ? json_tokener_parse(resp) : NULL;
	free(resp);
	if (!r) {
		link_close(l);
		return -1;
	}
	rc = response_ok(r) ? 0 : report_error(r);
	json_object_put(r);
	if (rc != 0)
		link_close(l);
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
	while (!stop_flag) {
		struct link l;
		int rc = subscribe(t, o, &l, last);
		if (rc == EX_REFUSED)
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
		while ((line = read_line(&l, -1))) {
			json_object *p = json_tokener_parse(line);
			json_object *a = NULL;
			const char *push = jstr(p, "push");
			bool ack = push && !strcmp(push, "ack");
			if (p && json_object_object_get_ex(p, "alert", &a) && a) {
				json_object *id = NULL;
				if (!ack && json_object_object_get_ex(a, "id", &id) && json_object_get_int64(id) > last)
					last = json_object_get_int64(id);
				if (o->json)
					put_json(line);
				else if (ack)
					print_ack_line(a);
				else
					print_alert_line(a);
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
		link_close(&l);
		if (!stop_flag)
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
