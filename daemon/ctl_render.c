/*
 * ctl_render.c - hotlinectl's human-readable output.
 *
 * Design.  The commands (hotlinectl.c) fetch a response; this file turns it
 * into lines for a person: the `case` page (clocks, orders, calls, events,
 * open alerts), the flattened `stats` tree, one line per alert or
 * acknowledgement for `watch`, and "hotlinectl: CODE: message" for a
 * refusal.  Kept apart from the commands because it is all formatting and
 * no I/O decisions: it only prints what it is given.
 *
 * Everything the server sends is text other people typed and goes to a
 * terminal: every string printed from a response passes hl_term_safe
 * (ctl_jstr does it), every raw JSON line hl_json_term_safe (ctl_put_json).
 * Times are shown in ctl_show_zone with their offset (timefmt.c), never $TZ.
 * The strings ctl_jstr returns live in a ring of 32 buffers, enough for the
 * members of one printed line.
 */
#include "ctl.h"
#include "redact.h"
#include "timefmt.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
const char *ctl_jstr(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return term_safe(json_object_get_string(v));
}

/* A time member shown in the chosen zone with its offset ("2026-11-20 09:15:00 +08:00"); NULL when absent. */
static const char *jtime(json_object *o, const char *key)
{
	const char *v = ctl_jstr(o, key);
	if (!v)
		return NULL;
	char buf[HL_LOCAL_TIME_LEN + 64];
	return term_safe(hl_time_text_local(v, ctl_show_zone, buf, sizeof buf));
}

/* Print a JSON line from the daemon with what a terminal would act on escaped (still valid JSON). */
void ctl_put_json(const char *line)
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

/* Print "hotlinectl: CODE: message" for an ok:false response; returns EX_REFUSED.
 * `unauthorized` (a TCP socket that wants a token, and none was sent) is an
 * authentication failure like a refused token: EX_CONNECT, and said in
 * hotlinectl's terms rather than the protocol's ("send an auth first"). */
int ctl_report_error(json_object *r)
{
	json_object *e = NULL;
	const char *code = json_object_object_get_ex(r, "error", &e) && e ? ctl_jstr(e, "code") : NULL;
	if (code && strcmp(code, "unauthorized") == 0) {
		fprintf(stderr, "hotlinectl: unauthorized: this socket wants a token"
		                " (--token, $HOTLINE_TOKEN or the configuration's token)\n");
		return EX_CONNECT;
	}
	if (code)
		fprintf(stderr, "hotlinectl: %s: %s\n", ctl_jstr(e, "code"), or_dash(ctl_jstr(e, "message")));
	else
		fprintf(stderr, "hotlinectl: the daemon refused the request (no error given)\n");
	return EX_REFUSED;
}

/* ------------------------------------------------------------ case */

/* "1d23h", "38m", "0s": a paused clock's time left, as the history lines
 * say it (two largest units), not the raw milliseconds of the JSON. */
static const char *left_text(const char *ms_text, char *buf, size_t len)
{
	static const struct { long long ms; const char *unit; } u[] = {
		{86400000LL, "d"}, {3600000LL, "h"}, {60000LL, "m"}, {1000LL, "s"},
	};
	long long ms = strtoll(ms_text, NULL, 10);
	size_t used = 0;
	int parts = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof u / sizeof u[0] && parts < 2; i++) {
		long long q = ms / u[i].ms;
		if (q == 0 && parts == 0)
			continue;
		ms -= q * u[i].ms;
		if (q)
			used += (size_t)snprintf(buf + used, len - used, "%lld%s", q, u[i].unit);
		parts++;
		if (used >= len)
			break;
	}
	if (!buf[0])
		snprintf(buf, len, "0s");
	return buf;
}

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
		const char *left = ctl_jstr(k, "remaining_ms");
		if (!end)
			end = jtime(k, "breached_at");
		/* a paused clock has no due time until it resumes: the stored one is
		 * the deadline from before the hold, which the resume moves back */
		const char *due = left ? "(on hold)" : or_dash(jtime(k, "due_at"));
		printf("  %-11s %-9s %-26s %-26s %s", or_dash(ctl_jstr(k, "kind")), or_dash(ctl_jstr(k, "state")),
		       due, or_dash(jtime(k, "started_at")), or_dash(end));
		char lb[32];
		if (left)
			printf("  (%s left when paused)", left_text(left, lb, sizeof lb));
		putchar('\n');
	}
}

/* case.get gives a case's newest 500 calls and events (sql/048) and how many it left out */
static void print_omitted(json_object *c, const char *key, const char *what)
{
	const char *n = ctl_jstr(c, key);
	if (n)
		printf("  (%s older %s not shown: hotline.case_history in psql has them all)\n", n, what);
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
		printf("  %-24s %-10s %-26s %-26s %-12s %s\n", or_dash(ctl_jstr(c, "call_id")), or_dash(ctl_jstr(c, "state")),
		       or_dash(jtime(c, "offered_at")), or_dash(jtime(c, "answered_at")), or_dash(ctl_jstr(c, "agent")),
		       or_dash(ctl_jstr(c, "outcome")));
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
		printf("  %-26s %-17s %s\n", or_dash(jtime(e, "at")), or_dash(ctl_jstr(e, "type")),
		       ctl_jstr(e, "description") ? ctl_jstr(e, "description") : or_dash(ctl_jstr(e, "event_id")));
	}
}

/* One alert: when it happened (an escalated alert: when it escalated), what, for whom, due when. */
void ctl_print_alert_line(json_object *a)
{
	const char *esc = jtime(a, "escalated_at");
	printf("%-26s #%-6s %-22s level %-2s case %-8s %s", or_dash(esc ? esc : jtime(a, "raised_at")), or_dash(ctl_jstr(a, "id")),
	       or_dash(ctl_jstr(a, "kind")), or_dash(ctl_jstr(a, "level")), or_dash(ctl_jstr(a, "case_id")),
	       or_dash(ctl_jstr(a, "caller")));
	const char *due = jtime(a, "due_at"), *detail = ctl_jstr(a, "detail");
	if (esc)
		printf("  escalated (raised %s)", or_dash(jtime(a, "raised_at")));
	if (due)
		printf("  due %s", due);
	if (detail)
		printf("  %s", detail);
	putchar('\n');
}

/* An acknowledgement pushed to watchers: who took the alert, and when. */
void ctl_print_ack_line(json_object *a)
{
	printf("%-26s #%-6s %-22s acked by %s  case %s\n", or_dash(jtime(a, "acked_at")), or_dash(ctl_jstr(a, "id")),
	       or_dash(ctl_jstr(a, "kind")), or_dash(ctl_jstr(a, "acked_by")), or_dash(ctl_jstr(a, "case_id")));
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
		printf("  %-20s %-14s %-19s %-26s %-26s %s\n", or_dash(ctl_jstr(o, "order_id")), or_dash(ctl_jstr(o, "department")),
		       or_dash(ctl_jstr(o, "status")), or_dash(jtime(o, "signed_at") ? jtime(o, "signed_at") : jtime(o, "sign_due_at")),
		       or_dash(jtime(o, "replied_at") ? jtime(o, "replied_at") : jtime(o, "due_at")), or_dash(ctl_jstr(o, "result")));
		print_opt("      returned: ", ctl_jstr(o, "return_reason"));
		print_opt("      extension asked until ", jtime(o, "extend_until"));
	}
}

void ctl_print_case(json_object *c)
{
	printf("Case %s  %s  caller %s\n", or_dash(ctl_jstr(c, "id")), or_dash(ctl_jstr(c, "status")), or_dash(ctl_jstr(c, "caller")));
	printf("  opened      %s\n", or_dash(jtime(c, "opened_at")));
	print_opt("  resolved    ", jtime(c, "resolved_at"));
	print_opt("  closed      ", jtime(c, "closed_at"));
	printf("  last contact %s\n", or_dash(jtime(c, "last_contact_at")));
	printf("  category %s  priority %s  department %s  queue %s  policy %s\n", or_dash(ctl_jstr(c, "category")),
	       or_dash(ctl_jstr(c, "priority")), or_dash(ctl_jstr(c, "department")), or_dash(ctl_jstr(c, "queue")),
	       or_dash(ctl_jstr(c, "policy")));
	json_object *hold = NULL;
	json_object_object_get_ex(c, "on_hold", &hold);
	printf("  transfers %s  reopens %s  on hold %s\n", or_dash(ctl_jstr(c, "transfers")), or_dash(ctl_jstr(c, "reopens")),
	       hold && json_object_get_boolean(hold) ? "yes" : "no");
	print_opt("  summary     ", ctl_jstr(c, "summary"));
	print_opt("  resolution  ", ctl_jstr(c, "resolution"));

	json_object *v = NULL;
	print_opt("  merged into case ", ctl_jstr(c, "merged_into"));
	print_clocks(json_object_object_get_ex(c, "clocks", &v) ? v : NULL);
	print_orders(json_object_object_get_ex(c, "orders", &v) ? v : NULL);
	print_calls(json_object_object_get_ex(c, "calls", &v) ? v : NULL);
	print_omitted(c, "calls_omitted", "calls");
	print_events(json_object_object_get_ex(c, "events", &v) ? v : NULL);
	print_omitted(c, "events_omitted", "events");
	json_object *alerts = NULL;
	json_object_object_get_ex(c, "alerts", &alerts);
	size_t n = alerts ? json_object_array_length(alerts) : 0;
	printf("\nOpen alerts\n");
	if (n == 0)
		printf("  (none)\n");
	for (size_t i = 0; i < n; i++) {
		printf("  ");
		ctl_print_alert_line(json_object_array_get_idx(alerts, i));
	}
}

/* ----------------------------------------------------------- stats */

/* Flatten nested objects into "a.b  value" lines. */
void ctl_print_tree(json_object *o, const char *prefix)
{
	json_object_object_foreach(o, key, val)
	{
		char name[256];
		snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", key);
		if (val && json_object_is_type(val, json_type_object))
			ctl_print_tree(val, name);
		else
			printf("  %-36s %s\n", name, term_safe(val ? json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN) : "null"));
	}
}
