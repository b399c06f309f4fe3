/*
 * log.c - one line per thing worth knowing, to stderr.
 *
 * hotlined never forks and never opens syslog: under systemd, stderr goes to
 * the journal, and the "<N>" prefix (sd-daemon(3)) carries the syslog
 * priority so `journalctl -p warning` works.  Callers are responsible for
 * masking phone numbers (hl_phone_mask) before they reach a format string.
 *
 * Text we did not write ourselves cannot be masked that way: PostgreSQL's
 * error messages quote the rows they refused ("Failing row contains (...,
 * +8613900000003, ...)").  Every server error goes through log_server_error,
 * which masks every phone-number-like digit run (hl_redact_digits) first.
 * So do the server's notices (log_pg_notice, the notice processor of every
 * session the daemon opens): libpq's default one writes them raw to stderr,
 * unmasked, without a priority, over several lines, and a trigger or an
 * extension may RAISE WARNING with a row's number in it.
 *
 * While the database is down, the store and the cluster session retry with
 * a backoff, each attempt failing the same way: one line per attempt and
 * connection was a pair of err lines every second or two for the whole
 * outage.  log_retry_failed logs the first failure, then a line a minute
 * saying how long and how many attempts, and a changed failure at once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "redact.h"

static int log_level = 6;

void log_init(int level) { log_level = level; }
void log_set_level(int level) { log_level = level; }

void hl_log(int prio, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (prio > log_level)
		return;
	n = snprintf(buf, sizeof buf, "<%d>", prio);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	/* one write per line so concurrent writers never interleave mid-line */
	/* one line, and nothing a terminal would act on (the log may be followed in
	 * one, and server messages quote client text): CR/LF become spaces, other
	 * C0 controls, DEL and C1 controls (UTF-8 C2 80..9F) become '?' */
	size_t len = strlen(buf);
	for (size_t i = (size_t)n; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\n' || c == '\r')
			buf[i] = ' ';
		else if ((c < 0x20 && c != '\t') || c == 0x7F)
			buf[i] = '?';
		else if (c == 0xC2 && i + 1 < len && (unsigned char)buf[i + 1] >= 0x80 && (unsigned char)buf[i + 1] <= 0x9F)
			buf[i] = buf[i + 1] = '?';
	}
	if (len < sizeof buf - 1)
		buf[len++] = '\n';
	else
		buf[sizeof buf - 2] = '\n', len = sizeof buf - 1;
	fwrite(buf, 1, len, stderr);
	fflush(stderr);
}

void log_server_error(int prio, const char *what, const char *server_msg)
{
	char masked[1024];
	if (prio > log_level)
		return;
	hl_redact_digits(server_msg ? server_msg : "", masked, sizeof masked);
	/* PostgreSQL ends its messages with a newline; hl_log turns inner ones into spaces */
	size_t n = strlen(masked);
	while (n > 0 && (masked[n - 1] == '\n' || masked[n - 1] == ' '))
		masked[--n] = '\0';
	hl_log(prio, "%s: %s", what, masked);
}

void log_pg_notice(void *what, const char *message)
{
	/* "WARNING:  ..." or "NOTICE:  ..." (the server's language may differ: then a notice) */
	int prio = message && strncmp(message, "WARNING", 7) == 0 ? 4 : 5;
	log_server_error(prio, what ? what : "postgres", message);
}

#define LOG_RETRY_QUIET_US (60ULL * 1000000)

void log_retry_failed(struct log_retry *r, const char *what, const char *server_msg)
{
	char masked[sizeof r->last];
	hl_redact_digits(server_msg ? server_msg : "", masked, sizeof masked);
	size_t n = strlen(masked);
	while (n > 0 && (masked[n - 1] == '\n' || masked[n - 1] == ' '))
		masked[--n] = '\0';
	uint64_t now = mono_us();
	bool same = r->first_us && strcmp(masked, r->last) == 0;
	if (!r->first_us)
		r->first_us = now;
	if (same && now - r->logged_us < LOG_RETRY_QUIET_US) {
		r->repeats++;
		hl_log(7, "%s: %s (again)", what, masked);
		return;
	}
	if (same)
		hl_log(3, "%s: still failing (%u more attempt(s), failing for %llu s): %s", what, r->repeats,
		       (unsigned long long)((now - r->first_us) / 1000000), masked);
	else
		hl_log(3, "%s: %s", what, masked);
	snprintf(r->last, sizeof r->last, "%s", masked);
	r->repeats = 0;
	r->logged_us = now;
}

void log_retry_ok(struct log_retry *r)
{
	memset(r, 0, sizeof *r);
}
