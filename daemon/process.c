/*
 * process.c - the process's state: the one `hl`, the clocks, ready and fatal.
 *
 * Nearly every shell file reads the daemon's state (the event base, the
 * configuration, the counters) and the time; kept in main.c, they made every
 * file call back up into the file that starts everything.  Here they are a
 * leaf that calls nothing of the daemon but log.c, so main.c only calls
 * down: it wires the files together, handles signals and stops.
 */
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
