/*
 * ql_split.c - a queue_log line split into its record's fields (pure;
 * queue_log.c maps the record).
 *
 * epoch|uniqueid|queue|agent|EVENT|data...: the time (ql_time.c), the
 * fields without the blanks a table export puts around them, a Windows
 * tool's byte-order mark dropped.  And the search for a second record
 * header inside a line that does not parse: Asterisk killed mid-line
 * appends its next record to the cut one (queue_log.c reads the rest).
 */
#include <string.h>

#include "pbx.h"
#include "ql_rec.h"

static bool is_event_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || *s == '_'))
			return false;
	return true;
}

/* A field without the blanks around it: a log exported from a queue_log
 * table, or written by a script, has "1266833934 | 1266833925.10 | ..." */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

bool pbx_ql_split(char *buf, struct rec *r)
{
	char *f[MAX_FIELDS + 5];
	int n = 0;
	f[n++] = buf;
	for (char *p = buf; *p; p++) {
		if (*p == '|') {
			*p = '\0';
			if (n == MAX_FIELDS + 5)
				return false;
			f[n++] = p + 1;
		}
	}
	if (n < 5)
		return false;
	if (strncmp(f[0], "\xef\xbb\xbf", 3) == 0) /* a byte-order mark: a file saved by a Windows tool */
		f[0] += 3;
	for (int i = 0; i < n; i++)
		f[i] = trim(f[i]);
	memset(r, 0, sizeof *r);
	if ((r->at = pbx_ql_time(f[0])) < 0 || !is_event_name(f[4]) || !*f[1])
		return false;
	r->uid = f[1];
	r->queue = f[2];
	r->agent = f[3];
	r->event = f[4];
	for (int i = 5; i < n; i++)
		r->data[r->n_data++] = f[i];
	return true;
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Does a record's uniqueid field (and its '|') start at u: NONE, REALTIME,
 * "<epoch>.<n>", or with asterisk.conf's systemname "<name>-<epoch>.<n>"
 * (the name is free text: "pbx1", "pbx-a.example")? */
static bool uid_field(const char *u, size_t rest)
{
	if ((rest >= 5 && memcmp(u, "NONE|", 5) == 0) || (rest >= 9 && memcmp(u, "REALTIME|", 9) == 0))
		return true;
	size_t k = 0;
	while (k < rest && k <= PBX_UID_MAX && u[k] != '|' && (unsigned char)u[k] >= 0x20)
		k++;
	if (k == 0 || k >= rest || k > PBX_UID_MAX || u[k] != '|')
		return false;
	size_t e = k; /* <epoch>.<n> at the end */
	while (e > 0 && digit(u[e - 1]))
		e--;
	if (e == k || e < 2 || u[e - 1] != '.')
		return false;
	size_t d = e - 1;
	while (d > 0 && digit(u[d - 1]))
		d--;
	if (d == e - 1)
		return false;
	return d == 0 || (d >= 2 && u[d - 1] == '-');
}

/* Where a second record header "EPOCH|UID|" starts inside a cut line; 0 when none.
 * The search starts after the first record's uniqueid field. */
size_t pbx_ql_embedded(const char *s, size_t len)
{
	const char *second = memchr(s, '|', len);
	second = second ? memchr(second + 1, '|', len - (size_t)(second + 1 - s)) : NULL;
	if (!second)
		return 0;
	for (size_t i = (size_t)(second - s) + 1; i + 12 < len; i++) {
		size_t j = i;
		while (j < len && j - i < 10 && digit(s[j]))
			j++;
		if (j - i != 10)
			continue;
		if (j < len && s[j] == '.') {
			j++;
			while (j < len && digit(s[j]))
				j++;
		}
		if (j >= len || s[j] != '|')
			continue;
		if (uid_field(s + j + 1, len - (j + 1)))
			return i;
	}
	return 0;
}

