/*
 * ami_parse.c - one Asterisk Manager Interface message as its headers (pure).
 *
 * A message is a block of "Key: Value" lines (CRLF or LF) ended by an
 * empty line (ami.c cuts the stream into messages); ami_map.c reads the
 * headers it needs by name, case-insensitively.  At most
 * PBX_AMI_MAX_HEADERS are kept; the ChanVariable lines of manager.conf's
 * channelvars are not, so they never push an event's own headers out.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pbx.h"

/* "ChanVariable: NAME=value" (and "DestChanVariable", ...): one line per
 * variable in manager.conf's channelvars for each channel of the event,
 * before the event's own headers; never read here, so not kept, lest a long
 * channelvars list fill the table and push Queue or Interface out. */
static bool chan_variable(const char *key, const char *colon)
{
	static const char tail[] = "ChanVariable";
	size_t n = (size_t)(colon - key), t = sizeof tail - 1;
	return n >= t && strncasecmp(colon - t, tail, t) == 0;
}

int pbx_ami_parse(const char *text, size_t len, struct pbx_ami_msg *msg)
{
	memset(msg, 0, sizeof *msg);
	msg->buf = malloc(len + 1);
	if (!msg->buf)
		return -1;
	memcpy(msg->buf, text, len);
	msg->buf[len] = '\0';
	char *p = msg->buf, *end = msg->buf + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl ? nl : end;
		char *next = nl ? nl + 1 : end;
		if (eol > p && eol[-1] == '\r')
			eol--;
		*eol = '\0';
		char *colon = strchr(p, ':');
		if (colon && colon > p && msg->n < PBX_AMI_MAX_HEADERS && !chan_variable(p, colon)) {
			*colon = '\0';
			char *v = colon + 1;
			while (*v == ' ')
				v++;
			msg->h[msg->n].key = p;
			msg->h[msg->n].value = v;
			msg->n++;
		}
		p = next;
	}
	if (msg->n == 0) {
		pbx_ami_msg_free(msg);
		return -1;
	}
	return 0;
}

void pbx_ami_msg_free(struct pbx_ami_msg *msg)
{
	free(msg->buf);
	memset(msg, 0, sizeof *msg);
}

const char *pbx_ami_get(const struct pbx_ami_msg *msg, const char *key)
{
	for (size_t i = 0; i < msg->n; i++)
		if (strcasecmp(msg->h[i].key, key) == 0)
			return msg->h[i].value;
	return NULL;
}

