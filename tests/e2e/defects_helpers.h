/*
 * defects_helpers.h - the helpers test_defects.c and test_defects_webhooks.c
 * (suite `defects`, issue 16) share: counting a substring, the `stats`
 * object, one reply with a long timeout, a free loopback port.  Static
 * inline: each file that includes this one uses only some.
 */
#ifndef HL_E2E_DEFECTS_HELPERS_H
#define HL_E2E_DEFECTS_HELPERS_H

#include "harness.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------- helpers */

static inline int count_substr(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static inline json_object *stats_of(struct hl_conn *c)
{
	json_object *r = hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}");
	cr_assert(hl_jbool(r, "ok"));
	return hl_jget(r, "stats");
}

/* Read n replies (any order of ids is not possible: replies are in request order). */
static inline json_object *recv_reply(struct hl_conn *c)
{
	json_object *r = hl_recv_json(c, 30000);
	cr_assert(r, "no reply within 30 s");
	return r;
}

static inline int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0);
	close(fd);
	return ntohs(a.sin_port);
}

#endif
