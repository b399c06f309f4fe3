/*
 * charset.c - queue and agent names from a PBX's own encoding into UTF-8 (pure).
 *
 * hotlined takes UTF-8 only, and Asterisk writes names as its configuration
 * files hold them: an older PBX of a Chinese hotline may keep queues.conf
 * and its agents' names in GBK or GB18030.  Without `charset` such bytes
 * reach hotlined as "\xHH" (pbx_event.c): distinct, but unreadable in the
 * figures by queue and agent, and a GBK pair that happens to be valid
 * UTF-8 is taken for another character.  With `charset = "GB18030"` every
 * name is decoded by iconv, and what the charset cannot decode is written
 * "\xHH" byte by byte, as before.  ASCII names (most queues) are copied
 * without a call to iconv.
 *
 * The descriptor is opened on first use and kept (one bridge, one charset;
 * a different name reopens it).  iconv_open reads no file once glibc has
 * its conversion modules loaded, and the bridge validates the name when
 * it reads its configuration (pbx_charset_known), long before the first
 * record.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pbx.h"

static iconv_t cd = (iconv_t)-1;
static char cd_for[sizeof ((struct pbx_opts *)0)->charset];

static bool is_utf8_name(const char *cs)
{
	return !cs[0] || strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "UTF8") == 0;
}

static iconv_t decoder(const char *cs)
{
	if (cd != (iconv_t)-1 && strcmp(cd_for, cs) == 0)
		return cd;
	pbx_charset_free();
	cd = iconv_open("UTF-8", cs);
	if (cd != (iconv_t)-1)
		snprintf(cd_for, sizeof cd_for, "%s", cs);
	return cd;
}

bool pbx_charset_known(const char *charset)
{
	if (is_utf8_name(charset))
		return true;
	return decoder(charset) != (iconv_t)-1;
}

void pbx_charset_free(void)
{
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	cd = (iconv_t)-1;
	cd_for[0] = '\0';
}

void pbx_name_decode(const struct pbx_opts *o, const char *in, char *out, size_t outlen)
{
	bool ascii = true;
	for (const unsigned char *p = (const unsigned char *)in; *p && ascii; p++)
		ascii = *p < 0x80;
	iconv_t d = ascii || is_utf8_name(o->charset) ? (iconv_t)-1 : decoder(o->charset);
	if (d == (iconv_t)-1) {
		snprintf(out, outlen, "%s", in);
		return;
	}
	iconv(d, NULL, NULL, NULL, NULL); /* a fresh shift state for every name */
	char *ip = (char *)in, *op = out;
	size_t il = strlen(in), ol = outlen - 1;
	while (il > 0) {
		if (iconv(d, &ip, &il, &op, &ol) != (size_t)-1)
			break;
		if (errno == E2BIG || ol < 5)
			break; /* cut at a character: names are bounded anyway */
		/* EILSEQ, EINVAL: a byte the charset does not decode, as "\xHH" */
		snprintf(op, ol + 1, "\\x%02x", (unsigned char)*ip);
		op += 4, ol -= 4;
		ip++, il--;
	}
	*op = '\0';
}
