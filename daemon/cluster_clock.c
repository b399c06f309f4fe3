/*
 * cluster_clock.c - how far this host's wall clock is from the database
 * server's, measured by the cluster survey, and said when it is too far.
 *
 * Every daemon runs its timers on its own wall clock: a clock of a case is
 * due at a wall-clock instant computed from event times, and the daemon that
 * owns the case's slot raises the alert when its own clock gets there.  An
 * event without `at` is dated by the daemon that takes it, an
 * acknowledgement too.  So daemons whose clocks disagree disagree on the
 * deadlines: one whose clock runs a minute ahead raises its slots'
 * callback_overdue alerts a minute before the deadline (the caller may still
 * be called back in time), one behind raises them late, and a case moving
 * between them is timed by both.  Nothing showed it: the daemons trusted
 * their hosts' NTP.
 *
 * The survey (cluster.c, every tick) also reads the server's
 * clock_timestamp(); the offset is that minus the local wall clock at the
 * middle of the round trip, kept when the round trip took less than
 * RTT_MAX_MS (a slow answer measures the network, not the clocks).  The
 * server is the reference every daemon shares, so two daemons each within
 * SKEW_WARN_MS of it are within twice that of each other.  Past SKEW_WARN_MS
 * the log says so at warning, once, naming the effect and the remedy (NTP),
 * and again when it is back within SKEW_OK_MS; `stats` (cluster.clock_offset_ms)
 * and /metrics (hotlined_cluster_clock_offset_seconds) show it all the time.
 * The daemon does not correct its timers by it: event times come from the
 * senders' clocks too, and only synchronized clocks make them agree.
 */
#include <stdlib.h>

#include "daemon.h"

#define RTT_MAX_MS 500
#define SKEW_WARN_MS 1000
#define SKEW_OK_MS 500

static hl_ms sent_wall, sent_mono;
static int64_t offset_ms;
static bool known, warned;

void cluster_clock_sent(void)
{
	sent_wall = now_ms();
	sent_mono = mono_ms();
}

void cluster_clock_answer(const char *server_ms)
{
	hl_ms rtt = mono_ms() - sent_mono;
	if (!server_ms || !*server_ms || sent_mono == 0 || rtt > RTT_MAX_MS)
		return;
	offset_ms = strtoll(server_ms, NULL, 10) - (sent_wall + rtt / 2);
	known = true;
	int64_t a = llabs(offset_ms);
	if (!warned && a > SKEW_WARN_MS) {
		warned = true;
		log_warn("cluster: this host's clock is %lld ms %s the database server's: the timers of this daemon's "
		         "slots fire %s, events it dates are off by as much, and daemons on other hosts disagree with "
		         "it on every deadline; synchronize the clocks (NTP)",
		         (long long)a, offset_ms < 0 ? "ahead of" : "behind", offset_ms < 0 ? "early" : "late");
	} else if (warned && a < SKEW_OK_MS) {
		warned = false;
		log_notice("cluster: this host's clock is within %lld ms of the database server's again", (long long)a);
	}
}

int64_t cluster_clock_offset(bool *is_known)
{
	*is_known = known;
	return offset_ms;
}
