/*
 * cluster.c - several daemons on one database: clock slots, peers, alert fan-out.
 *
 * Any number of hotlined processes may share one database (contract section
 * 9).  Events need no coordination beyond the batch locks the store takes in
 * each transaction (sql/016_cluster.sql).  Timers do: every pending clock and
 * escalation must be run by exactly one live daemon.  PostgreSQL is the
 * referee, no consensus protocol of our own:
 *
 *   - Timers are partitioned into cluster.slots slots by the id of what they
 *     time: slot = id % slots (a case id for the case clocks, an alert id for
 *     escalations; a new timer kind only needs an id).  A slot belongs to the
 *     daemon holding a session-level advisory lock (SLOT_LOCK_CLASS, slot) on
 *     its dedicated "cluster session", a second libpq connection in this file.
 *     A daemon runs only the timers of the slots it holds (cluster_owns(),
 *     checked by clocks.c when a timer falls due).
 *   - Peers are the live cluster sessions, seen in pg_stat_activity by their
 *     application_name "hotlined:<cluster.name>".  Every tick (takeover / 4,
 *     at most 1 s) a daemon surveys the peers and the slot locks, computes its
 *     fair share (slots / peers, the remainder to the first names), releases
 *     extra slots and tries to lock free ones, so a new daemon gets its share
 *     within a tick or two and the timer load spreads.
 *   - A daemon that dies loses its session: at once for kill -9 (the kernel
 *     closes the socket), within the TCP keepalive/user timeout derived from
 *     cluster.takeover for a lost machine or network (set on both ends of the
 *     session).  Its locks vanish with the session; the survivors lock the
 *     slots at their next tick, load the pending clocks and escalations of
 *     those slots from the database and, as for a restart, alert at once what
 *     fell due meanwhile.  The unique alert dedupe key and the batch's case
 *     lock make a late fire by a former owner harmless; they are the last line
 *     of defence, not the mechanism.
 *   - A slot given back is unlocked only once the store's transaction in
 *     flight at that moment has ended (flush_handover): that batch was built
 *     while the slot was ours, so it announced none of its clocks, and a peer
 *     that locked the slot and read its clocks before that COMMIT would
 *     never hear of them, nor would we run them.  Meanwhile the slot counts
 *     as taken in our plans, so we never lock it a second time.
 *   - A clock armed through a daemon that does not own its slot is announced
 *     inside the batch's transaction (NOTIFY hotline_clock "case kind seq at",
 *     cluster_clock_notes() in cluster_notes.c), so the owner hears of it exactly when it
 *     commits; a new owner reads its slots from the database after locking
 *     them, so nothing falls between the two.
 *   - Alert fan-out: every daemon LISTENs on hotline_alert (whose payload
 *     stays masked for other listeners).  For an alert committed by another
 *     backend than its own store's, it fetches the alert's JSON (unmasked,
 *     as local pushes are) and pushes it to its own subscribers, once per
 *     (id, level); its own store's are held until the store has pushed them,
 *     and fetched like another's if the store lost its COMMIT's answer
 *     (cluster_own.c).
 *
 *   - A daemon whose store has lost the database for takeover / 2 cannot
 *     commit what its timers raise: it ends its cluster session (the peers
 *     take its slots) and rejoins when its store is back.  Every daemon also
 *     holds a shared lock (SLOTS_CONF_CLASS, cluster.slots), so a peer
 *     configured with another number of slots is seen and reported.
 *
 *   - Daily upkeep: the same session creates the coming months' event
 *     partitions (cluster_upkeep.c), so a daemon that runs for years keeps
 *     retention cheap without an operator's cron job; and when imported
 *     history lands in the default partition, the months it falls in
 *     (cluster_upkeep.c, sql/085).
 *
 * The session is session.c's: nonblocking libpq inside libevent, one query
 * at a time; nothing here blocks the loop.  A lost session releases every
 * slot at once (someone else runs them) and reconnects with backoff.  The
 * share arithmetic is pure, in slots.c; the statements are in
 * include/cluster_sql.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "daemon.h"
#include "orders.h"
#include "rules.h"
#include "cluster_sql.h"
#include "slots.h"


static struct {
	struct event *ev_tick;
	bool survey_queued;
	bool stopped;
	/* settings, copied at start (a reload does not move slots under us) */
	int n_slots;
	hl_ms takeover_ms;
	char name[48];
	/* ownership */
	bool *owned;
	int n_owned;
	bool *handing;              /* given back, still locked until the store's transaction ends */
	bool handing_any;
	uint64_t handing_mark;      /* store_txn_mark() when the last of them was given back */
	char **last_owner;          /* per slot: the peer seen holding it, for the logs */
	char *peers;                /* "a b c" as last seen, sorted */
	int n_peers;
	uint64_t slots_taken, slots_released, takeovers, remote_pushed;
	int loaded;                 /* rows of the slot load in progress */
	char *mismatch;             /* peers with another cluster.slots, as last logged */
	bool twin;                  /* another live daemon has our cluster.name, as last logged */
	hl_ms store_down_since;     /* monotonic ms; 0 while the store is connected */
	bool away;                  /* left the cluster while the store is down */
} K;

/* ------------------------------------------------------------ ownership */

bool cluster_owns(int64_t id)
{
	return K.owned && K.owned[hl_slot_of(id, K.n_slots)];
}

size_t cluster_slots_owned(void) { return (size_t)K.n_owned; }

static void release_all(const char *why)
{
	if (K.n_owned > 0)
		log_warn("cluster: releasing all %d slot(s): %s", K.n_owned, why);
	for (int s = 0; s < K.n_slots; s++)
		K.owned[s] = false;
	K.n_owned = 0;
}

static void enqueue(enum q_kind kind, const char *param);

/* Unlock the slots given back once the store's transaction that was in flight
 * when they were given back has committed or failed (see the top comment). */
static void flush_handover(void)
{
	if (!K.handing_any || !store_txn_passed(K.handing_mark))
		return;
	char *arr = hl_slot_array(K.handing, K.n_slots);
	enqueue(Q_UNLOCK, arr);
	free(arr);
	memset(K.handing, 0, (size_t)K.n_slots * sizeof *K.handing);
	K.handing_any = false;
}

/* The session ended: every lock went with it. */
static void forget_handover(void)
{
	if (K.handing)
		memset(K.handing, 0, (size_t)K.n_slots * sizeof *K.handing);
	K.handing_any = false;
}

static void enqueue(enum q_kind kind, const char *param)
{
	char n[16];
	snprintf(n, sizeof n, "%d", K.n_slots);
	bool bulk = kind == Q_CLOCKS || kind == Q_ESCALATIONS; /* maybe millions of rows: one at a time */
	if (kind == Q_SURVEY) {
		cluster_clock_sent();
		session_query(kind, SQL[kind], n, NULL);
	}
	else
		session_query_rows(kind, SQL[kind], param, bulk ? n : NULL, bulk);
}

/* ------------------------------------------------------- the survey */

/* Peers that joined or left since the last survey, in the log. */
static void note_peers(const char *now_list)
{
	const char *before = K.peers ? K.peers : "";
	for (int pass = 0; pass < 2; pass++) {
		const char *from = pass ? before : now_list, *other = pass ? now_list : before;
		for (const char *p = from; *p;) {
			size_t l = strcspn(p, " ");
			char nm[64];
			snprintf(nm, sizeof nm, "%.*s", (int)(l < 63 ? l : 63), p);
			if (!hl_name_in(other, nm) && strcmp(nm, K.name) != 0)
				log_notice("cluster: peer %s %s", nm, pass ? "left (its session ended)" : "joined");
			p += l;
			while (*p == ' ')
				p++;
		}
	}
	free(K.peers);
	K.peers = strdup(now_list);
	if (!K.peers)
		abort();
}

static void survey_done(PGresult *r)
{
	const char *list = PQgetvalue(r, 0, 0), *held = PQgetvalue(r, 0, 1), *odd = PQgetvalue(r, 0, 2);
	note_peers(list);
	if (strcmp(odd, K.mismatch ? K.mismatch : "") != 0) {
		if (*odd)
			log_crit("cluster: peers disagree on cluster.slots (%s; this daemon has %d): some timers may run "
			         "late or twice until every daemon has the same value", odd, K.n_slots);
		else
			log_notice("cluster: every peer has cluster.slots = %d again", K.n_slots);
		free(K.mismatch);
		K.mismatch = strdup(odd);
	}
	/* two daemons with one name count as one peer, and one of them runs no slot: say so, once */
	bool twin = atoi(PQgetvalue(r, 0, 3)) > 0;
	if (twin && !K.twin)
		log_err("cluster: another daemon is connected as hotlined:%s: give each daemon its own cluster.name "
		        "(sharing one, they count as one peer and one of them runs no clock slot)", K.name);
	K.twin = twin;
	cluster_clock_answer(PQgetvalue(r, 0, 4));
	int n, rank = hl_name_rank(list, K.name, &n);
	if (rank < 0) /* our session not yet visible: count ourselves last */
		rank = n++;
	K.n_peers = n;

	/* "slot:holder slot:holder ..." of the other sessions */
	bool *taken = calloc((size_t)K.n_slots, sizeof *taken), *plan = calloc((size_t)K.n_slots, sizeof *plan);
	if (!taken || !plan)
		abort();
	for (const char *p = held; *p;) {
		char *end;
		long s = strtol(p, &end, 10);
		const char *who = *end == ':' ? end + 1 : end;
		size_t l = strcspn(who, " ");
		if (s >= 0 && s < K.n_slots) {
			taken[s] = true;
			free(K.last_owner[s]);
			K.last_owner[s] = strndup(who, l);
		}
		p = who + l;
		while (*p == ' ')
			p++;
	}
	for (int s = 0; s < K.n_slots; s++)
		taken[s] |= K.handing[s]; /* still our lock: never ask for it twice */
	int k = hl_slot_plan(K.n_slots, n, rank, K.owned, taken, plan);
	char *arr = k ? hl_slot_array(plan, K.n_slots) : NULL;
	if (k < 0) {
		/* stop running them now; the lock goes when Q_UNLOCK runs */
		char buf[512];
		hl_slot_ranges(plan, K.n_slots, buf, sizeof buf);
		for (int s = 0; s < K.n_slots; s++)
			if (plan[s])
				K.owned[s] = false, K.handing[s] = true, K.n_owned--, K.slots_released++;
		log_notice("cluster: releasing slot(s) %s: %d daemon(s) share %d slots, my share is %d", buf, n,
		           K.n_slots, hl_slot_share(K.n_slots, n, rank));
		K.handing_any = true;
		K.handing_mark = store_txn_mark();
		flush_handover();
	} else if (k > 0) {
		enqueue(Q_LOCK, arr);
	}
	free(arr);
	free(plan);
	free(taken);
}

/* Slots just locked: ours from now on; read what they hold from the database. */
static void lock_done(PGresult *r)
{
	int n = PQntuples(r), from_gone = 0;
	if (n == 0)
		return;
	bool *got = calloc((size_t)K.n_slots, sizeof *got);
	if (!got)
		abort();
	char gone[64] = "", buf[512];
	for (int i = 0; i < n; i++) {
		int s = atoi(PQgetvalue(r, i, 0));
		if (s < 0 || s >= K.n_slots || K.owned[s])
			continue;
		got[s] = true;
		K.owned[s] = true;
		K.n_owned++;
		K.slots_taken++;
		if (K.last_owner[s] && strcmp(K.last_owner[s], K.name) != 0 && !hl_name_in(K.peers, K.last_owner[s])) {
			from_gone++;
			snprintf(gone, sizeof gone, "%s", K.last_owner[s]);
		}
	}
	hl_slot_ranges(got, K.n_slots, buf, sizeof buf);
	if (from_gone) {
		K.takeovers++;
		log_notice("cluster: took over slot(s) %s from %s (its session ended); now %d of %d, %d daemon(s)", buf,
		           gone, K.n_owned, K.n_slots, K.n_peers);
	} else {
		log_notice("cluster: took slot(s) %s (free); now %d of %d, %d daemon(s)", buf, K.n_owned, K.n_slots,
		           K.n_peers);
	}
	char *arr = hl_slot_array(got, K.n_slots);
	enqueue(Q_CLOCKS, arr);
	enqueue(Q_ESCALATIONS, arr);
	free(arr);
	free(got);
}

/* The timer kind of a clock's name: a case clock, or "order_sign"/"order_reply". */
static int timer_kind_from_name(const char *name)
{
	if (strcmp(name, "order_sign") == 0)
		return TIMER_ORDER_SIGN;
	if (strcmp(name, "order_reply") == 0)
		return TIMER_ORDER_REPLY;
	return hl_clock_kind_from_name(name);
}

static void clocks_loaded(PGresult *r, bool escalations)
{
	int n = PQntuples(r); /* rows come one by one; the empty last result ends the query */
	for (int i = 0; i < n; i++) {
		int64_t id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		int kind = escalations ? TIMER_ESCALATION : timer_kind_from_name(PQgetvalue(r, i, 1));
		if (kind < 0 || !cluster_owns(timer_owner_id(id, kind)))
			continue; /* released again meanwhile */
		if (escalations) {
			clocks_set(id, TIMER_ESCALATION, 0, strtoll(PQgetvalue(r, i, 1), NULL, 10));
		} else {
			if (PQgetisnull(r, i, 3))
				continue;
			clocks_set(id, kind, (int32_t)atoi(PQgetvalue(r, i, 2)), strtoll(PQgetvalue(r, i, 3), NULL, 10));
		}
		K.loaded++;
	}
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		if (K.loaded)
			log_info("cluster: %d pending %s loaded for the new slot(s)", K.loaded,
			         escalations ? "escalation(s)" : "clock(s)");
		K.loaded = 0;
	}
}

static void fetch_done(PGresult *r)
{
	if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0))
		return;
	int64_t esc = strtoll(PQgetvalue(r, 0, 1), NULL, 10), id = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	int level = atoi(PQgetvalue(r, 0, 3));
	/* counted as pushed now, not at the notification: a fetch lost with the
	 * session leaves it to the catch-up (cluster_own.c); escalated again
	 * since the notification, what we push is that level, once */
	if (cluster_seen(id, level))
		return;
	alerts_deliver_remote(id, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 5));
	K.remote_pushed++;
	/* an alert raised through another daemon escalates on the owner of its slot */
	if (id && cluster_owns(id) && esc)
		clocks_set(id, TIMER_ESCALATION, 0, esc);
}

static void on_result(int tag, PGresult *r)
{
	switch ((enum q_kind)tag) {
	case Q_SETUP:
		break;
	case Q_SURVEY:
		K.survey_queued = false;
		survey_done(r);
		break;
	case Q_LOCK:
		lock_done(r);
		break;
	case Q_UNLOCK:
		break;
	case Q_CLOCKS:
		clocks_loaded(r, false);
		break;
	case Q_ESCALATIONS:
		clocks_loaded(r, true);
		break;
	case Q_FETCH:
		fetch_done(r);
		break;
	case Q_FETCH_ACK:
		cluster_ack_fetched(r);
		break;
	case Q_UPKEEP:
	case Q_DEFAULT:
		cluster_upkeep_result(tag, r);
		break;
	case Q_CATCH_UP:
		cluster_own_caught_up(r);
		break;
	case Q_CLAIM_WEBHOOKS:
		cluster_webhooks_claimed(r);
		break;
	}
}

static void on_failed(int tag)
{
	if (tag == Q_SURVEY)
		K.survey_queued = false;
	if (tag == Q_CLAIM_WEBHOOKS)
		cluster_webhooks_claimed(NULL);
	if (tag == Q_UPKEEP || tag == Q_DEFAULT)
		cluster_upkeep_failed(tag);
}

/* ------------------------------------------------------- notifications */

/* Fetch an alert (or its acknowledgement) that a notification announced, to push it. */
static void fetch_alert(bool ack, int64_t id, int level)
{
	char b[24], l[16];
	snprintf(b, sizeof b, "%" PRId64, id);
	snprintf(l, sizeof l, "%d", level);
	enum q_kind q = ack ? Q_FETCH_ACK : Q_FETCH;
	session_query(q, SQL[q], b, ack ? NULL : l);
}

static void on_notify(const char *channel, const char *payload, int be_pid)
{
	int own = store_backend_pid();
	cluster_own_check(own, fetch_alert); /* the store moved: what it never pushed is pushed now */
	bool ack = strcmp(channel, "hotline_alert_ack") == 0;
	if (be_pid == own && !ack && strcmp(channel, "hotline_alert") != 0)
		return; /* our own store's clock notes: already timed locally */
	if (strcmp(channel, "hotline_clock") == 0) {
		int64_t id;
		char kind[24];
		int seq;
		long long at;
		if (sscanf(payload, "%" SCNd64 " %23s %d %lld", &id, kind, &seq, &at) == 4) {
			int k = timer_kind_from_name(kind);
			if (k >= 0 && cluster_owns(timer_owner_id(id, k)))
				clocks_set(id, k, seq, (hl_ms)at);
		}
		return;
	}
	/* an alert another backend raised or escalated, or acknowledged (in psql
	 * too): fetched whole and masked, pushed once per (id, level); an
	 * acknowledgement counts as level 0 (alerts start at 1) */
	if (ack || strcmp(channel, "hotline_alert") == 0) {
		json_object *j = json_tokener_parse(payload);
		int64_t id = j ? json_object_get_int64(json_object_object_get(j, "id")) : 0;
		int level = j && !ack ? json_object_get_int(json_object_object_get(j, "level")) : 0;
		json_object_put(j);
		if (id <= 0)
			return;
		if (be_pid == own)
			/* our own store's commit: it pushes the alert once its results
			 * are in, unless the network loses them (cluster_own.c) */
			cluster_own_notified(ack, id, level, be_pid);
		else if (!cluster_pushed(id, level)) /* counted when pushed (fetch_done) */
			fetch_alert(ack, id, level);
	}
}

/* ------------------------------------------------------- the session */

static void on_ready(void)
{
	log_info("cluster: session up as %s%s (%d slots, takeover %lld ms)", APP_PREFIX, K.name, K.n_slots,
	         (long long)K.takeover_ms);
	/* the server drops a dead daemon's session (and its slots) within the takeover time too */
	char sql[96];
	int idle = (int)(K.takeover_ms / 2000);
	snprintf(sql, sizeof sql, "SET tcp_keepalives_idle = %d", idle > 0 ? idle : 1);
	session_query(Q_SETUP, sql, NULL, NULL);
	session_query(Q_SETUP, "SET tcp_keepalives_interval = 1", NULL, NULL);
	session_query(Q_SETUP, "SET tcp_keepalives_count = 2", NULL, NULL);
	snprintf(sql, sizeof sql, "SET tcp_user_timeout = %lld", (long long)K.takeover_ms);
	session_query(Q_SETUP, sql, NULL, NULL);
	session_query(Q_SETUP, "LISTEN hotline_alert", NULL, NULL);
	session_query(Q_SETUP, "LISTEN hotline_clock", NULL, NULL);
	session_query(Q_SETUP, "LISTEN hotline_alert_ack", NULL, NULL);
	/* what was committed while we were not listening (cluster_own.c) */
	char since[24], window[24], *shown;
	cluster_own_catch_up_params(since, window, sizeof since, &shown);
	session_query3(Q_CATCH_UP, SQL[Q_CATCH_UP], since, window, shown, false);
	free(shown);
	snprintf(sql, sizeof sql, "SELECT pg_advisory_lock_shared(%d, %d)", SLOTS_CONF_CLASS, K.n_slots);
	session_query(Q_SETUP, sql, NULL, NULL);
	K.survey_queued = true;
	enqueue(Q_SURVEY, NULL);
	cluster_upkeep_ready();
	cluster_webhooks_tick(K.away);
}

static void on_lost(const char *why)
{
	(void)why;
	cluster_own_session_away();
	release_all("without a session this daemon cannot prove it still holds them");
	forget_handover();
	free(K.peers);
	K.peers = NULL;
	K.n_peers = 0;
	K.survey_queued = false;
	K.loaded = 0;
	cluster_upkeep_lost();
	cluster_webhooks_claimed(NULL);
}

static const struct session_ops ops = {
	.who = "cluster", .ready = on_ready, .result = on_result, .failed = on_failed, .notify = on_notify,
	.lost = on_lost,
};

/* A daemon whose store cannot reach the database cannot commit what its
 * timers raise: after takeover / 2 without it, it leaves the cluster (ends its
 * session, so the peers stop counting it and take its slots) and comes back
 * once its store is connected again. */
static void follow_store(void)
{
	hl_ms now = mono_ms();
	if (store_connected()) {
		K.store_down_since = 0;
		if (K.away && !K.stopped) {
			K.away = false;
			log_notice("cluster: the store is connected again: rejoining");
			session_resume();
		}
		return;
	}
	if (!K.store_down_since)
		K.store_down_since = now;
	if (!K.away && !K.stopped && now - K.store_down_since > K.takeover_ms / 2) {
		K.away = true;
		log_warn("cluster: the store has had no database connection for %lld ms: leaving the cluster so that "
		         "the peers run its slots", (long long)(now - K.store_down_since));
		release_all("the store cannot commit what their timers raise");
		session_stop();
		cluster_own_session_away();
		cluster_webhooks_claimed(NULL);
		forget_handover();
		free(K.peers);
		K.peers = NULL;
		K.n_peers = 0;
		K.survey_queued = false;
		K.loaded = 0;
	}
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	follow_store();
	cluster_own_check(store_backend_pid(), fetch_alert);
	flush_handover();
	if (session_up() && !K.survey_queued) {
		K.survey_queued = true;
		enqueue(Q_SURVEY, NULL);
	}
	cluster_upkeep_tick();
	cluster_webhooks_tick(K.away);
}

/* ------------------------------------------------------------------ API */

int cluster_init(void)
{
	const struct hl_config *cfg = hl->cfg;
	K.n_slots = cfg->cluster.slots > 0 ? cfg->cluster.slots : 64;
	K.takeover_ms = cfg->cluster.takeover_ms > 0 ? cfg->cluster.takeover_ms : 5000;
	if (cfg->cluster.name) {
		snprintf(K.name, sizeof K.name, "%s", cfg->cluster.name);
	} else {
		char host[64] = "host";
		gethostname(host, sizeof host - 1);
		host[strcspn(host, ".")] = '\0';
		snprintf(K.name, sizeof K.name, "%.30s-%d", host, (int)getpid());
	}
	K.owned = calloc((size_t)K.n_slots, sizeof *K.owned);
	K.last_owner = calloc((size_t)K.n_slots, sizeof *K.last_owner);
	K.handing = calloc((size_t)K.n_slots, sizeof *K.handing);
	K.ev_tick = event_new(hl->base, -1, EV_PERSIST, tick_cb, NULL);
	if (!K.owned || !K.handing || !K.last_owner || !K.ev_tick)
		return -1;
	hl_ms every = K.takeover_ms / 4;
	every = every > 1000 ? 1000 : every < 100 ? 100 : every;
	struct timeval tv = { (time_t)(every / 1000), (suseconds_t)((every % 1000) * 1000) };
	event_add(K.ev_tick, &tv);

	/* later keys override the conninfo's: this session carries our name and
	 * timeouts, so a peer that vanishes loses its session (and slots) quickly */
	char app[64], keep_idle[16], user_timeout[24], connect_timeout[24];
	int idle = (int)(K.takeover_ms / 2000);
	snprintf(app, sizeof app, "%s%s", APP_PREFIX, K.name);
	snprintf(keep_idle, sizeof keep_idle, "%d", idle > 0 ? idle : 1);
	snprintf(user_timeout, sizeof user_timeout, "%lld", (long long)K.takeover_ms);
	snprintf(connect_timeout, sizeof connect_timeout, "%lld",
	         (long long)(K.takeover_ms / 1000 > 2 ? K.takeover_ms / 1000 : 2));
	const char *keys[] = { "dbname", "application_name", "keepalives", "keepalives_idle", "keepalives_interval",
		               "keepalives_count", "tcp_user_timeout", "connect_timeout", NULL };
	const char *vals[] = { hl->cfg->database.conninfo, app, "1", keep_idle, "1", "2", user_timeout,
		               connect_timeout, NULL };
	return session_start(keys, vals, (int)K.takeover_ms, &ops);
}

/* Stopping: end the session now, so the peers take our slots while the store drains. */
void cluster_stop(void)
{
	if (K.stopped)
		return;
	K.stopped = true;
	if (K.n_owned > 0)
		log_notice("cluster: stopping: handing %d slot(s) back to the peers", K.n_owned);
	for (int s = 0; s < K.n_slots && K.owned; s++)
		K.owned[s] = false;
	K.n_owned = 0;
	forget_handover();
	session_stop();
	if (K.ev_tick)
		event_del(K.ev_tick);
}

void cluster_free(void)
{
	session_free();
	if (K.ev_tick)
		event_free(K.ev_tick);
	for (int s = 0; K.last_owner && s < K.n_slots; s++)
		free(K.last_owner[s]);
	free(K.last_owner);
	free(K.owned);
	free(K.handing);
	free(K.peers);
	free(K.mismatch);
	memset(&K, 0, sizeof K);
}

/* What this daemon of a cluster reports (cluster_stats.c renders it). */
void cluster_figures(struct cluster_figures *f)
{
	*f = (struct cluster_figures){
		.name = K.name, .session_up = session_up(), .n_slots = K.n_slots, .n_owned = K.n_owned,
		.owned = K.owned, .peers = K.peers ? K.peers : "", .n_peers = K.n_peers,
		.mismatch = K.mismatch ? K.mismatch : "", .slots_taken = K.slots_taken,
		.slots_released = K.slots_released, .takeovers = K.takeovers, .alerts_from_peers = K.remote_pushed,
		.clock_notes_sent = cluster_clock_notes_sent(),
	};
	cluster_upkeep_figures(&f->upkeeps, &f->partitions_created, &f->upkeep_failures);
}
