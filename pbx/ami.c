/*
 * ami.c - hotline-pbx's Asterisk Manager Interface client.
 *
 * One TCP connection to HOST:PORT (bufferevent; names resolved with evdns,
 * so nothing blocks): read the banner ("Asterisk Call Manager/x.y"), send
 * Action: Login with the configured user and secret (Events: agent,call,system:
 * the classes the queue events and transfers belong to, and FullyBooted's,
 * which tells an Asterisk restart), then read messages
 * (blocks of "Key: Value" lines ended by an empty line) and hand each event
 * to the pure mapper (ami_map.c), whose events go to the sender.
 *
 * A message over MSG_MAX (64 KiB), or a line still unended at that size, is
 * skipped up to the empty line that ends it (the input is drained as it
 * comes, so memory stays bounded); the connection is kept, since dropping
 * it would lose the events of the reconnect as well.  None of the queue
 * events comes anywhere near that size.
 *
 * While hotlined does not take events (down, or its database down), they
 * wait in the sender's queue, up to `ami.backlog` (100,000: a day of a busy
 * line, ~50 MB).  Beyond that the bridge drops every new event until the
 * queue is down to half, so that memory stays bounded and what is missing
 * is one span of time, which the log names twice (when dropping starts and
 * when it ends, with the count): the queue_log holds the same calls, and
 * importing that span (`hotline-pbx queue-log`, the same ids) restores
 * them without doubling any event that did arrive.  Not stopping reading
 * instead: Asterisk drops a manager session that does not read within its
 * writetimeout, and every event of the reconnect would be lost unnamed.
 *
 * When the connection drops or the login is refused, it reconnects after
 * 250 ms, doubling up to 30 s, and back to 250 ms once a login succeeds.
 * Events that happened while disconnected are not replayed by Asterisk.
 * After every login the bridge asks QueueStatus: the calls waiting now
 * that joined meanwhile are offered, the ones it knew that left meanwhile
 * get a clear end (ami_map.c, "reconnects").  What happened to them, and
 * to calls that came and went in the span, only the queue_log knows: the
 * record to import them from (the same ids, so running
 * both loses nothing and doubles nothing).  The log names that span when
 * the next login succeeds (or at exit, still disconnected), as it names a
 * span dropped from a full backlog: before, a caller who hung up during a
 * reconnect was never owed a call back, and nothing said which span to
 * import.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "pbx_shell.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000
#define MSG_MAX 65536
#define TICK_MS 250
#define DROP_LOG_EVERY_MS 60000

enum ami_state { AMI_BANNER, AMI_LOGIN, AMI_LIVE };

struct amiclient {
	struct event_base *base;
	const struct pbx_conf *conf;
	char host[256];
	int port;
	bool backfill;
	struct pbx_amimap *map;
	struct sender *snd;
	struct bufferevent *bev;
	struct evdns_base *dns;
	struct event *retry, *tick;
	int backoff_ms;
	enum ami_state state;
	char *msg;
	size_t mlen, mcap;
	bool skipping; /* inside a message too long to keep: wait for its end */
	/* the backlog is full: events are dropped until it is down to half */
	bool dropping;
	uint64_t dropped, span_dropped;
	hl_ms span_first, span_last, drop_logged_mono;
	/* a live session was lost at this time (wall clock, for the log; 0: none) */
	hl_ms gap_from, gap_from_mono;
};

/* The events since the live session was lost were never received: name the span. */
static void end_gap(struct amiclient *a, bool at_exit)
{
	if (!a->gap_from)
		return;
	char t1[40], t2[40];
	hl_format_time(a->gap_from, t1, sizeof t1);
	hl_format_time(pbx_now_ms(), t2, sizeof t2);
	pbx_log(PBX_WARN, "AMI %s:%d: the events from %s to %s (%lld s%s) were not received while disconnected; "
	                  "import the queue_log of that span to restore them (hotline-pbx queue-log; the same ids, "
	                  "nothing is doubled)",
	        a->host, a->port, t1, t2, (long long)((pbx_mono_ms() - a->gap_from_mono) / 1000),
	        at_exit ? ", still disconnected at exit" : "");
	a->gap_from = 0;
}

static void connect_now(struct amiclient *a);

static void drop(struct amiclient *a, const char *why)
{
	if (a->state == AMI_LIVE && !a->gap_from) {
		a->gap_from = pbx_now_ms();
		a->gap_from_mono = pbx_mono_ms();
	}
	if (a->state == AMI_LIVE)
		pbx_amimap_link(a->map, false); /* no abandon is inferred from a leave until QueueStatus answered */
	a->state = AMI_BANNER;
	if (a->bev) {
		bufferevent_free(a->bev);
		a->bev = NULL;
	}
	pbx_log(PBX_WARN, "AMI %s:%d: %s; reconnecting in %d ms", a->host, a->port, why, a->backoff_ms);
	struct timeval tv = { a->backoff_ms / 1000, (a->backoff_ms % 1000) * 1000 };
	evtimer_add(a->retry, &tv);
	a->backoff_ms = a->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : a->backoff_ms * 2;
	a->mlen = 0;
	a->skipping = false;
}

static void skip_message(struct amiclient *a)
{
	if (!a->skipping)
		pbx_log(PBX_WARN, "AMI %s:%d: skipped a message longer than %d bytes", a->host, a->port, MSG_MAX);
	a->skipping = true;
	a->mlen = 0;
}

/* Name the span of dropped events once the backlog is down to half (or
 * at exit, `force`): the operator imports it from the queue_log. */
static void end_drop_span(struct amiclient *a, bool force)
{
	if (!a->dropping || (!force && sender_backlog(a->snd) > (size_t)a->conf->ami_backlog / 2))
		return;
	a->dropping = false;
	char t1[40], t2[40];
	hl_format_time(a->span_first, t1, sizeof t1);
	hl_format_time(a->span_last, t2, sizeof t2);
	pbx_log(PBX_WARN, "%s: %llu event(s) from %s to %s were dropped; import the queue_log of that span "
	                  "to restore them (hotline-pbx queue-log; the same ids, nothing is doubled)",
	        force ? "stopping while dropping" : "hotlined takes events again",
	        (unsigned long long)a->span_dropped, t1, t2);
}

/* true: ev is dropped (the backlog is full; see the comment atop). */
static bool backlog_full(struct amiclient *a, const struct pbx_event *ev)
{
	end_drop_span(a, false);
	size_t queued = sender_backlog(a->snd);
	if (!a->dropping && queued < (size_t)a->conf->ami_backlog)
		return false;
	char t1[40];
	if (!a->dropping) {
		a->dropping = true;
		a->span_dropped = 0;
		a->span_first = ev->at;
		a->drop_logged_mono = pbx_mono_ms();
		hl_format_time(ev->at, t1, sizeof t1);
		pbx_log(PBX_ERR, "hotlined is not taking events and %zu are waiting (ami.backlog): dropping "
		                 "the events from %s on until it has taken half of them (the queue_log has them)",
		        queued, t1);
	} else if (pbx_mono_ms() - a->drop_logged_mono >= DROP_LOG_EVERY_MS) {
		a->drop_logged_mono = pbx_mono_ms();
		hl_format_time(a->span_first, t1, sizeof t1);
		pbx_log(PBX_ERR, "still dropping: %llu event(s) since %s", (unsigned long long)a->span_dropped, t1);
	}
	/* the span covers every dropped event, whatever order their times come
	 * in (a leave inferred by the tick is dated back to the leave) */
	if (ev->at < a->span_first)
		a->span_first = ev->at;
	if (!a->span_dropped || ev->at > a->span_last)
		a->span_last = ev->at;
	a->span_dropped++;
	a->dropped++;
	return true;
}

static void on_event(void *ctx, const struct pbx_event *ev)
{
	struct amiclient *a = ctx;
	if (backlog_full(a, ev))
		return;
	char *line = pbx_event_json(ev, a->backfill);
	if (!line)
		abort();
	sender_push(a->snd, line, ev->id, 0);
}

static void login(struct amiclient *a)
{
	struct evbuffer *out = bufferevent_get_output(a->bev);
	evbuffer_add_printf(out, "Action: Login\r\nActionID: hotline-pbx-login\r\nUsername: %s\r\nSecret: %s\r\n"
	                         "Events: agent,call,system\r\n\r\n", a->conf->ami_user, a->conf->ami_secret);
	a->state = AMI_LOGIN;
}

/* One whole message.  false: the connection was dropped. */
static bool on_message(struct amiclient *a)
{
	struct pbx_ami_msg msg;
	if (pbx_ami_parse(a->msg, a->mlen, &msg) != 0)
		return true;
	bool alive = true;
	if (a->state == AMI_LOGIN && pbx_ami_get(&msg, "Response")) {
		const char *resp = pbx_ami_get(&msg, "Response");
		if (strcasecmp(resp, "Success") == 0) {
			a->state = AMI_LIVE;
			a->backoff_ms = BACKOFF_MIN_MS;
			pbx_log(PBX_INFO, "AMI %s:%d: logged in as %s", a->host, a->port, a->conf->ami_user);
			end_gap(a, false);
			/* the callers waiting now: those that joined while we were
			 * away are offered, those that left meanwhile end (ami_map.c) */
			pbx_amimap_link(a->map, true);
			evbuffer_add_printf(bufferevent_get_output(a->bev), "Action: QueueStatus\r\nActionID: %s\r\n\r\n",
			                    PBX_AMI_RESYNC_ID);
		} else {
			const char *m = pbx_ami_get(&msg, "Message");
			pbx_log(PBX_ERR, "AMI %s:%d: login refused: %s", a->host, a->port, m ? m : resp);
			drop(a, "login refused");
			alive = false;
		}
	} else if (a->state == AMI_LIVE && pbx_ami_get(&msg, "Response")) {
		const char *id = pbx_ami_get(&msg, "ActionID"), *resp = pbx_ami_get(&msg, "Response");
		if (id && strcmp(id, PBX_AMI_RESYNC_ID) == 0 && strcasecmp(resp, "Success") != 0) {
			const char *m = pbx_ami_get(&msg, "Message");
			pbx_log(PBX_WARN, "AMI %s:%d: QueueStatus refused (%s): the calls that joined or left while "
			                  "disconnected are not resynchronised", a->host, a->port, m ? m : resp);
			pbx_amimap_resync_failed(a->map);
		}
	} else if (a->state == AMI_LIVE) {
		pbx_amimap_mono(a->map, pbx_mono_ms()); /* restarts are told on it (ami_map.c) */
		pbx_amimap_event(a->map, &msg, pbx_now_ms(), on_event, a);
	}
	pbx_ami_msg_free(&msg);
	return alive;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct amiclient *a = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;
	while (a->bev == bev && (line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF))) {
		if (a->state == AMI_BANNER) {
			bool ok = strncmp(line, "Asterisk Call Manager", 21) == 0;
			free(line);
			if (!ok) {
				drop(a, "not an Asterisk Manager Interface");
				return;
			}
			login(a);
			continue;
		}
		if (n == 0) {
			bool alive = a->skipping || a->mlen == 0 || on_message(a);
			a->mlen = 0;
			a->skipping = false;
			free(line);
			if (!alive)
				return;
			continue;
		}
		if (a->skipping || a->mlen + n + 2 > MSG_MAX) {
			free(line);
			skip_message(a);
			continue;
		}
		if (a->mlen + n + 2 > a->mcap) {
			a->mcap = MSG_MAX;
			a->msg = realloc(a->msg, a->mcap);
			if (!a->msg)
				abort();
		}
		memcpy(a->msg + a->mlen, line, n);
		a->mlen += n;
		a->msg[a->mlen++] = '\n';
		free(line);
	}
	/* no end of line in sight: do not buffer an endless line */
	if (a->bev == bev && evbuffer_get_length(in) > MSG_MAX) {
		if (a->state == AMI_BANNER) {
			drop(a, "not an Asterisk Manager Interface");
			return;
		}
		evbuffer_drain(in, evbuffer_get_length(in));
		skip_message(a);
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct amiclient *a = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		pbx_log(PBX_INFO, "AMI %s:%d: connected", a->host, a->port);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		drop(a, (what & BEV_EVENT_EOF) ? "connection closed" : strerror(errno));
}

static void connect_now(struct amiclient *a)
{
	a->state = AMI_BANNER;
	a->mlen = 0;
	a->skipping = false;
	a->bev = bufferevent_socket_new(a->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!a->bev)
		abort();
	bufferevent_setcb(a->bev, read_cb, NULL, event_cb, a);
	bufferevent_enable(a->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect_hostname(a->bev, a->dns, AF_UNSPEC, a->host, a->port) != 0) {
		bufferevent_free(a->bev);
		a->bev = NULL;
		drop(a, "connect failed");
	}
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	connect_now(arg);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct amiclient *a = arg;
	pbx_amimap_mono(a->map, pbx_mono_ms()); /* the graces run on it (ami_map.c) */
	pbx_amimap_tick(a->map, pbx_now_ms(), on_event, a);
	end_drop_span(a, false);
}

struct amiclient *amiclient_new(struct event_base *base, const struct pbx_conf *c, const char *hostport,
                                bool backfill, struct sender **sender_out)
{
	char host[256];
	snprintf(host, sizeof host, "%s", hostport);
	char *colon = strrchr(host, ':');
	int port = colon ? atoi(colon + 1) : 0;
	if (!colon || port <= 0 || port > 65535) {
		pbx_log(PBX_ERR, "ami: expected HOST:PORT, got '%s'", hostport);
		return NULL;
	}
	*colon = '\0';
	if (host[0] == '[' && colon[-1] == ']') { /* [::1]:5038 */
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	struct amiclient *a = calloc(1, sizeof *a);
	if (!a)
		abort();
	a->base = base;
	a->conf = c;
	snprintf(a->host, sizeof a->host, "%s", host);
	a->port = port;
	a->backfill = backfill;
	a->backoff_ms = BACKOFF_MIN_MS;
	a->map = pbx_amimap_new(&c->opts);
	a->snd = sender_new(base, c, NULL, NULL);
	*sender_out = a->snd;
	a->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	a->retry = evtimer_new(base, retry_cb, a);
	a->tick = event_new(base, -1, EV_PERSIST, tick_cb, a);
	struct timeval tv = { 0, TICK_MS * 1000 };
	evtimer_add(a->tick, &tv);
	connect_now(a);
	return a;
}

void amiclient_free(struct amiclient *a)
{
	if (!a)
		return;
	end_drop_span(a, true);
	end_gap(a, true);
	if (a->bev)
		bufferevent_free(a->bev);
	event_free(a->retry);
	event_free(a->tick);
	if (a->dns)
		evdns_base_free(a->dns, 0);
	sender_free(a->snd);
	pbx_amimap_free(a->map);
	free(a->msg);
	free(a);
}

const struct pbx_counts *amiclient_counts(const struct amiclient *a)
{
	return pbx_amimap_counts(a->map);
}

uint64_t amiclient_dropped(const struct amiclient *a)
{
	return a ? a->dropped : 0;
}
