/*
 * clock_shift.c - an LD_PRELOAD shim that moves a process's wall clock.
 *
 * test_cluster_clock.c starts a daemon under it to play a host whose clock
 * is off: CLOCK_REALTIME (clock_gettime, gettimeofday, time) reads
 * HL_CLOCK_SHIFT_MS milliseconds later than the host's; the monotonic
 * clocks are left alone.  Built as build/tests/clock_shift.so (Makefile).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long long shift_ms(void)
{
	const char *s = getenv("HL_CLOCK_SHIFT_MS");
	return s ? atoll(s) : 0;
}

static void shift(struct timespec *ts)
{
	long long ns = (long long)ts->tv_nsec + shift_ms() % 1000 * 1000000LL;
	ts->tv_sec += (time_t)(shift_ms() / 1000 + ns / 1000000000LL - (ns < 0));
	ts->tv_nsec = (long)(ns % 1000000000LL + (ns < 0 ? 1000000000LL : 0));
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	if (!real)
		real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	int rc = real(id, ts);
	if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		shift(ts);
	return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	(void)tz;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t time(time_t *t)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
