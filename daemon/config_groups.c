/*
 * config_groups.c - the rules of hotlined.conf that span several keys of one
 * group, which no single row of config_table.c can say: at least one event
 * socket, and no two listeners on one address (the supervisors' socket at
 * listen.unix's path, HTTP on listen.tcp's port); a TLS certificate with
 * its key; HTTPS only with a certificate and an HTTP listener without
 * tokens only on loopback; a phone plan whose
 * prefixes can be told apart.  Each is a group check (hl_cfg_group_checks),
 * run once the group's keys are loaded, and blames the key at fault.
 *
 * Pure: part of the functional core (no libevent, no libpq).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "config_internal.h"

int hl_cfgi_check_listen(const struct ld *ld, const config_setting_t *root, const config_setting_t *g,
			 struct hl_config *cfg)
{
	(void)root;
	if (!cfg->listen.tcp && !cfg->listen.unix_path)
		return hl_cfgi_fail(ld, g, "tcp and unix are both disabled: nothing to listen on");
	if (cfg->listen.unix_path && cfg->access.unix_supervisor &&
	    strcmp(cfg->listen.unix_path, cfg->access.unix_supervisor) == 0)
		return hl_cfgi_fail(ld, hl_cfgi_member(g, "unix_supervisor"),
				    "the same path as listen.unix (give each socket its own)");
	return 0;
}

/* Any address of the host: "", 0.0.0.0 or ::, which a bind on one port
 * shares with every other address. */
static bool wildcard(const char *host)
{
	return !host[0] || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "*") == 0;
}

/* Would binding a and b collide: one port and the same or a wildcard host?
 * (A name and the literal it resolves to are not compared: no lookups here.) */
static bool same_address(const char *a, const char *b)
{
	char ha[256], hb[256];
	int pa, pb;
	if (!a || !b || hl_config_split_hostport(a, ha, sizeof ha, &pa) != 0 ||
	    hl_config_split_hostport(b, hb, sizeof hb, &pb) != 0)
		return false;
	return pa == pb && (strcmp(ha, hb) == 0 || wildcard(ha) || wildcard(hb));
}

int hl_cfgi_check_tls(const struct ld *ld, const config_setting_t *root, const config_setting_t *tls,
		      struct hl_config *cfg)
{
	(void)root;
	if (!cfg->listen.tls_cert != !cfg->listen.tls_key)
		return hl_cfgi_fail(ld, tls, "cert and key must be given together");
	if (cfg->listen.tls_ca && !cfg->listen.tls_cert)
		return hl_cfgi_fail(ld, tls, "ca needs cert and key");
	return 0;
}

/* A loopback address as bind() takes it: "localhost", an IPv4 literal in
 * 127/8 (inet_aton's forms, "127.1" too, as getaddrinfo reads them) or ::1.
 * Not a name that merely starts with "127." ("127.evil.example" may resolve
 * to any interface): before, that prefix was enough. */
static bool loopback(const char *address)
{
	char host[256];
	int port;
	if (hl_config_split_hostport(address, host, sizeof host, &port) != 0)
		return false;
	if (strcmp(host, "localhost") == 0)
		return true;
	struct in_addr v4;
	if (inet_aton(host, &v4))
		return (ntohl(v4.s_addr) >> 24) == 127;
	struct in6_addr v6;
	return inet_pton(AF_INET6, host, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

int hl_cfgi_check_http(const struct ld *ld, const config_setting_t *root, const config_setting_t *g,
		       struct hl_config *cfg)
{
	(void)root;
	if (cfg->http.tls && !cfg->listen.tls_cert)
		return hl_cfgi_fail(ld, hl_cfgi_member(g, "tls"), "HTTPS uses listen.tls's cert and key: set them first");
	if (same_address(cfg->http.listen, cfg->listen.tcp))
		return hl_cfgi_fail(ld, hl_cfgi_member(g, "listen"), "the same port as listen.tcp (%s)", cfg->listen.tcp);
	if (cfg->http.listen && cfg->http.n_tokens == 0 && !loopback(cfg->http.listen))
		return hl_cfgi_fail(ld, hl_cfgi_member(g, "listen"), "without http.tokens the listener must be on a loopback "
				    "address (127.0.0.1, ::1 or localhost): anyone who reaches it could ingest and acknowledge");
	return 0;
}

/* How callers write numbers (issue 16, item 11). */
int hl_cfgi_check_phone(const struct ld *ld, const config_setting_t *root, const config_setting_t *g,
			struct hl_config *cfg)
{
	const struct hl_phone_plan *p = &cfg->phone;
	(void)root;
	if (p->country_code[0] == '0')
		return hl_cfgi_fail(ld, hl_cfgi_member(g, "country_code"), "a country calling code does not start with 0");
	if (p->trunk_prefix[0] && p->international_prefix[0] && strcmp(p->trunk_prefix, p->international_prefix) == 0)
		return hl_cfgi_fail(ld, hl_cfgi_member(g, "trunk_prefix"), "must differ from international_prefix");
	return 0;
}
