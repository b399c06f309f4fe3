/*
 * process.c - the process's state: the one `hl`, the clocks, ready and fatal,
 * and the open-files limit the connection caps need.
 *
 * Nearly every shell file reads the daemon's state (the event base, the
 * configuration, the counters) and the time; kept in main.c, they made every
 * file call back up into the file that starts everything.  Here they are a
 * leaf that calls nothing of the daemon but log.c, so main.c only calls
 * down: it wires the files together, handles signals and stops.
 */
#include <sys/resource.h>
#include <time.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"

static struct hl_daemon daemon_state;
struct hl_daemon *hl = &daemon_state;

hl_ms now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (hl_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

hl_ms mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (hl_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void daemon_ready(void)
{
	if (hl->ready_notified)
		return;
	hl->ready_notified = true;
	sd_notify(0, "READY=1\nSTATUS=serving");
	log_notice("hotlined %s ready", HOTLINED_VERSION);
}

void daemon_fatal(const char *why)
{
	log_crit("fatal: %s", why);
	hl->exit_code = 1;
	sd_notifyf(0, "STATUS=fatal: %s", why);
	event_base_loopbreak(hl->base);
}

/* Every client connection is a descriptor, and so is each database
 * connection, webhook and file.  Outside systemd (whose unit sets
 * LimitNOFILE=65536) the soft limit is often 1024: fewer than
 * listen.max_connections plus http.max_connections, so the caps would never
 * be reached - accept() would fail with EMFILE first, for every listener
 * at once.  So the soft limit is raised towards the hard one, as far as the
 * two caps and some room need (Redis does the same for maxclients). */
void daemon_raise_nofile(const struct hl_config *cfg)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rlim_t want = (rlim_t)cfg->listen.max_connections + (rlim_t)cfg->http.max_connections + 256;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rlim_t before = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		if (rl.rlim_cur > before && setrlimit(RLIMIT_NOFILE, &rl) == 0)
			log_info("open files limit raised from %llu to %llu", (unsigned long long)before,
			         (unsigned long long)rl.rlim_cur);
		else
			rl.rlim_cur = before;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		log_warn("open files limit %llu is below listen.max_connections + http.max_connections + 256 = %llu: "
		         "connections may fail before those caps (raise LimitNOFILE= or ulimit -n)",
		         (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}
