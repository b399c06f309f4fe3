/*
 * pbx_event.c - what every PBX source shares (pure): caller ids as PBXs write
 * them, event ids, the JSON request line, and the table of calls in progress.
 *
 * Caller ids.  Asterisk logs whatever the trunk delivered: "+8613800000001",
 * "008613800000001", "013800000001" (national, trunk prefix), "13800000001",
 * a SIP display form "\"Wang\" <013800000001>", or "anonymous"/"unknown".
 * hotlined keys repeat callers and callbacks on the number, so the same
 * person must come out the same whichever way the trunk wrote it: the
 * international prefix becomes '+', the trunk prefix becomes '+<country>',
 * and with national_length a bare national number gets '+<country>' too.
 * Short internal extensions are left as written.  Without a country code,
 * only '+' and the international prefix are rewritten.  Zeros in place of a
 * number ("0000000000": a gateway that could not pass it on) and anything
 * that would become "+0..." are no number: such a caller is withheld, not
 * one caller shared by every stranger whose gateway wrote zeros.
 *
 * The table of calls is a small chained hash keyed by uniqueid; the sources
 * add a call on ENTERQUEUE / QueueCallerJoin and drop it when it ends.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pbx.h"

const char *pbx_kind_name(enum pbx_kind k)
{
	switch (k) {
	case PBX_OFFERED: return "offered";
	case PBX_ANSWERED: return "answered";
	case PBX_ABANDONED: return "abandoned";
	case PBX_ENDED: return "ended";
	}
	return "?";
}

void pbx_opts_defaults(struct pbx_opts *o)
{
	memset(o, 0, sizeof *o);
	snprintf(o->id_prefix, sizeof o->id_prefix, "pbx:");
	snprintf(o->trunk_prefix, sizeof o->trunk_prefix, "0");
	snprintf(o->intl_prefix, sizeof o->intl_prefix, "00");
	snprintf(o->complete_outcome, sizeof o->complete_outcome, "completed");
	o->leave_grace_ms = 2000;
}

/* -------------------------------------------------------------- callers */

static bool starts_with(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	return n > 0 && strncmp(s, prefix, n) == 0;
}

int pbx_caller_normalize(const struct pbx_opts *o, const char *raw, char *out, size_t outlen)
{
	if (outlen)
		out[0] = '\0';
	if (!raw)
		return -1;
	/* "Name" <number>: the number is between the angle brackets */
	const char *lt = strrchr(raw, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	const char *s = raw, *e = raw + strlen(raw);
	if (lt && gt) {
		s = lt + 1;
		e = gt;
	}
	char digits[40];
	size_t n = 0;
	bool plus = false;
	for (const char *p = s; p < e; p++) {
		char c = *p;
		if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '"' || c == '\t')
			continue;
		if (c == '+' && n == 0 && !plus) {
			plus = true;
			continue;
		}
		if (c < '0' || c > '9')
			return -1; /* "anonymous", "unknown", "Restricted", a SIP URI ... */
		if (n + 1 >= sizeof digits)
			return -1;
		digits[n++] = c;
	}
	digits[n] = '\0';
	if (n == 0 || strspn(digits, "0") == n)
		return -1; /* zeros: what gateways send when they cannot pass a number on */

	char num[64];
	size_t cc_len = strlen(o->country_code);
	if (plus)
		snprintf(num, sizeof num, "+%s", digits);
	else if (starts_with(digits, o->intl_prefix) && n > strlen(o->intl_prefix))
		snprintf(num, sizeof num, "+%s", digits + strlen(o->intl_prefix));
	else if (cc_len && starts_with(digits, o->trunk_prefix) && n > strlen(o->trunk_prefix) + 4)
		snprintf(num, sizeof num, "+%s%s", o->country_code, digits + strlen(o->trunk_prefix));
	else if (cc_len && o->national_length > 0 && n == (size_t)o->national_length)
		snprintf(num, sizeof num, "+%s%s", o->country_code, digits);
	else if (cc_len && o->national_length > 0 && n == cc_len + (size_t)o->national_length &&
	         starts_with(digits, o->country_code))
		snprintf(num, sizeof num, "+%s", digits);
	else
		snprintf(num, sizeof num, "%s", digits);
	if (num[0] == '+' && num[1] == '0')
		return -1; /* no country code starts with 0: nobody to call back there */
	return hl_phone_normalize(num, out, outlen);
}

bool pbx_queue_wanted(const struct pbx_opts *o, const char *queue)
{
	if (o->n_queues == 0)
		return true;
	char name[PBX_NAME_MAX * 4 + 1]; /* the configured names are UTF-8 */
	pbx_name_decode(o, queue, name, sizeof name);
	for (size_t i = 0; i < o->n_queues; i++)
		if (strcmp(o->queues[i], name) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ ids */

static size_t utf8_len(const unsigned char *p);

/* s with every byte that does not start a valid UTF-8 sequence written as
 * "\xHH", into out (cut at a character when it is too small). */
static void utf8_clean(const char *s, char *out, size_t outlen)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && n + 1 < outlen;) {
		size_t u = utf8_len(p);
		if (u == 0) {
			if (n + 5 > outlen)
				break;
			n += (size_t)snprintf(out + n, outlen - n, "\\x%02x", *p++);
		} else {
			if (n + u + 1 > outlen)
				break;
			memcpy(out + n, p, u);
			n += u, p += u;
		}
	}
	out[n] = '\0';
}

/* A name decoded from the PBX's charset, then made UTF-8 for certain. */
static void clean_in_place(const struct pbx_opts *o, char *s, size_t cap)
{
	char dec[PBX_NAME_MAX * 4 + 1], tmp[PBX_NAME_MAX * 4 + 1];
	pbx_name_decode(o, s, dec, sizeof dec);
	utf8_clean(dec, tmp, sizeof tmp < cap ? sizeof tmp : cap);
	snprintf(s, cap, "%s", tmp);
}

void pbx_event_ids(const struct pbx_opts *o, struct pbx_event *ev, const char *raw_uid)
{
	char uid[PBX_UID_MAX * 4 + 1];
	utf8_clean(raw_uid, uid, sizeof uid);
	clean_in_place(o, ev->queue, sizeof ev->queue);
	clean_in_place(o, ev->agent, sizeof ev->agent);
	snprintf(ev->call_id, sizeof ev->call_id, "%s%.96s", o->id_prefix, uid);
	char visit[16] = ""; /* the first visit keeps the id it always had (visits.c) */
	if (ev->visit > 1)
		snprintf(visit, sizeof visit, "#%d", ev->visit);
	const char *kind = pbx_kind_name(ev->kind);
	const char *parts[] = { ev->call_id, ":", kind, ":", ev->queue, visit };
	size_t total = 0;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		total += strlen(parts[i]);
	if (total < sizeof ev->id) {
		char *w = ev->id;
		for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
			size_t len = strlen(parts[i]);
			memcpy(w, parts[i], len);
			w += len;
		}
		*w = '\0';
	} else { /* a very long queue name: its hash keeps ids unique */
		char qv[sizeof ev->queue + 16];
		snprintf(qv, sizeof qv, "%s%s", ev->queue, visit);
		snprintf(ev->id, sizeof ev->id, "%.100s:%s:#%016llx", ev->call_id, pbx_kind_name(ev->kind),
		         (unsigned long long)hl_hash_str(qv));
	}
}

/* ----------------------------------------------------------------- JSON */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n;
	unsigned min;
	unsigned cp;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xE0) == 0xC0)
		n = 2, min = 0x80, cp = p[0] & 0x1F;
	else if ((p[0] & 0xF0) == 0xE0)
		n = 3, min = 0x800, cp = p[0] & 0x0F;
	else if ((p[0] & 0xF8) == 0xF0)
		n = 4, min = 0x10000, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* A JSON string: control characters escaped; bytes that are not UTF-8 become
 * '?', since hotlined accepts only UTF-8 and one such name must not make
 * every event of the call unsendable.  The uniqueid, queue and agent never
 * get here so: pbx_event_ids wrote theirs as \xHH, so that the id sent is
 * ev->id and two names that differ only in such bytes stay two (make fuzz
 * found the '?' turning two queues into one id). */
static void sb_json(struct sbuf *b, const char *s)
{
	sb_put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		size_t u = utf8_len(p);
		if (u == 0) {
			sb_put(b, "?", 1);
		} else if (u > 1) {
			sb_put(b, (const char *)p, u);
			p += u - 1;
		} else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			sb_put(b, esc, 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			sb_put(b, esc, 6);
		} else {
			sb_put(b, (const char *)p, 1);
		}
	}
	sb_put(b, "\"", 1);
}

static void sb_field(struct sbuf *b, const char *key, const char *value)
{
	sb_put(b, ",", 1);
	sb_json(b, key);
	sb_put(b, ":", 1);
	sb_json(b, value);
}

char *pbx_event_json(const struct pbx_event *ev, bool backfill)
{
	static const char *const types[] = {
		[PBX_OFFERED] = "call.offered", [PBX_ANSWERED] = "call.answered",
		[PBX_ABANDONED] = "call.abandoned", [PBX_ENDED] = "call.ended",
	};
	struct sbuf b = { 0 };
	char at[40];
	hl_format_time(ev->at, at, sizeof at);
	sb_str(&b, "{\"type\":");
	sb_json(&b, types[ev->kind]);
	sb_field(&b, "id", ev->id);
	sb_field(&b, "call_id", ev->call_id);
	sb_field(&b, "at", at);
	if (ev->kind == PBX_OFFERED && ev->withheld)
		sb_str(&b, ",\"withheld\":true"); /* no number: counted, never called back (docs/rules.md) */
	else if (ev->kind == PBX_OFFERED)
		sb_field(&b, "caller", ev->caller);
	if (ev->queue[0])
		sb_field(&b, "queue", ev->queue);
	if (ev->kind == PBX_ANSWERED || (ev->kind == PBX_ENDED && ev->agent[0]))
		sb_field(&b, "agent", ev->agent[0] ? ev->agent : "unknown");
	if (ev->kind == PBX_ENDED)
		sb_field(&b, "outcome", ev->outcome);
	if (backfill)
		sb_str(&b, ",\"backfill\":true");
	sb_str(&b, "}\n");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* ---------------------------------------------------------- call table */

struct node {
	struct node *next;
	struct pbx_call call;
};

struct pbx_calls {
	struct node **bucket;
	size_t n_bucket, count;
};

struct pbx_calls *pbx_calls_new(void)
{
	struct pbx_calls *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	t->n_bucket = 1024;
	t->bucket = calloc(t->n_bucket, sizeof *t->bucket);
	if (!t->bucket)
		abort();
	return t;
}

void pbx_calls_clear(struct pbx_calls *t)
{
	for (size_t i = 0; i < t->n_bucket; i++) {
		struct node *n = t->bucket[i];
		while (n) {
			struct node *next = n->next;
			free(n);
			n = next;
		}
		t->bucket[i] = NULL;
	}
	t->count = 0;
}

void pbx_calls_free(struct pbx_calls *t)
{
	if (!t)
		return;
	pbx_calls_clear(t);
	free(t->bucket);
	free(t);
}

static struct node **slot(struct pbx_calls *t, const char *uid)
{
	struct node **pp = &t->bucket[hl_hash_str(uid) & (t->n_bucket - 1)];
	while (*pp && strcmp((*pp)->call.uid, uid) != 0)
		pp = &(*pp)->next;
	return pp;
}

struct pbx_call *pbx_calls_get(struct pbx_calls *t, const char *uid)
{
	struct node *n = *slot(t, uid);
	return n ? &n->call : NULL;
}

static void grow(struct pbx_calls *t)
{
	size_t nb = t->n_bucket * 2;
	struct node **b = calloc(nb, sizeof *b);
	if (!b)
		abort();
	for (size_t i = 0; i < t->n_bucket; i++) {
		struct node *n = t->bucket[i];
		while (n) {
			struct node *next = n->next;
			size_t h = hl_hash_str(n->call.uid) & (nb - 1);
			n->next = b[h];
			b[h] = n;
			n = next;
		}
	}
	free(t->bucket);
	t->bucket = b;
	t->n_bucket = nb;
}

struct pbx_call *pbx_calls_put(struct pbx_calls *t, const char *uid)
{
	struct node **pp = slot(t, uid);
	if (*pp)
		return &(*pp)->call;
	struct node *n = calloc(1, sizeof *n);
	if (!n)
		abort();
	snprintf(n->call.uid, sizeof n->call.uid, "%s", uid);
	*pp = n;
	if (++t->count > t->n_bucket)
		grow(t);
	return &n->call;
}

void pbx_calls_del(struct pbx_calls *t, const char *uid)
{
	struct node **pp = slot(t, uid);
	if (!*pp)
		return;
	struct node *n = *pp;
	*pp = n->next;
	free(n);
	t->count--;
}

size_t pbx_calls_count(const struct pbx_calls *t)
{
	return t->count;
}

void pbx_calls_each(struct pbx_calls *t, void (*fn)(void *ctx, struct pbx_call *c), void *ctx)
{
	for (size_t i = 0; i < t->n_bucket; i++)
		for (struct node *n = t->bucket[i]; n; n = n->next)
			fn(ctx, &n->call);
}

size_t pbx_calls_drop_if(struct pbx_calls *t, bool (*drop)(void *ctx, struct pbx_call *c), void *ctx)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n_bucket; i++)
		for (struct node **pp = &t->bucket[i]; *pp;) {
			struct node *node = *pp;
			if (!drop(ctx, &node->call)) {
				pp = &node->next;
				continue;
			}
			*pp = node->next;
			free(node);
			t->count--;
			n++;
		}
	return n;
}
