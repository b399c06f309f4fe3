/*
 * config_values.c - what a well-formed value of hotlined.conf looks like:
 * listen addresses ("host:port", "[::1]:7370"), socket paths and modes,
 * URLs, zone names, log levels, the nameserver, conninfo and cluster.name.
 *
 * The syntax checks are plain predicates (also used by hotlinectl through
 * hl_config_split_hostport); the hl_cfgi_check_* functions are the `check`
 * of table rows (config_table.c) and say what is wrong in the loader's words.
 *
 * Pure: part of the functional core (no libevent, no libpq).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config_internal.h"

static bool is_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool hl_cfgi_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool host_char(char c, bool v6)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return v6 ? (c == ':' || c == '.' || c == '%') : (c == '.' || c == '-' || c == '_');
}

int hl_config_split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
	const char *h = s, *colon;
	size_t hl;
	bool v6 = s[0] == '[';
	if (v6) {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
		if (!memchr(h, ':', hl))
			return -1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl)) /* a bare IPv6 address needs [ ] */
			return -1;
	}
	if (hl == 0 || hl >= hostlen || hl > 253)
		return -1;
	for (size_t i = 0; i < hl; i++)
		if (!host_char(h[i], v6))
			return -1;
	const char *p = colon + 1;
	size_t pl = strlen(p);
	if (pl > 5 || !is_digits(p, pl))
		return -1;
	long v = strtol(p, NULL, 10);
	if (v < 1 || v > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)v;
	return 0;
}

/* "0660" -> 0660; octal, at most 0777. */
int hl_cfgi_parse_mode(const char *s, int *mode)
{
	size_t n = strlen(s);
	long v = 0;
	if (n < 1 || n > 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -1;
		v = v * 8 + (s[i] - '0');
	}
	if (v > 0777)
		return -1;
	*mode = (int)v;
	return 0;
}

/* Zone names go into a file path: letters, digits, _ + - and / between parts, no "..". */
bool hl_cfgi_valid_zone_name(const char *z)
{
	if (!z[0] || z[0] == '/' || strstr(z, "..") || strstr(z, "//"))
		return false;
	for (const char *p = z; *p; p++)
		if (!host_char(*p, false) && *p != '+' && *p != '/')
			return false;
	return z[strlen(z) - 1] != '/';
}

bool hl_cfgi_valid_url(const char *u)
{
	size_t skip;
	if (strncmp(u, "http://", 7) == 0)
		skip = 7;
	else if (strncmp(u, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	if (!u[skip] || u[skip] == '/')
		return false;
	return !hl_cfgi_has_control(u) && !strchr(u, ' ');
}

static const char *const level_names[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};

int hl_cfgi_parse_level(const char *s)
{
	for (int i = 0; i < 8; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (strcmp(s, "error") == 0)
		return 3;
	if (strcmp(s, "warn") == 0)
		return 4;
	return -1;
}

const char *hl_config_level_name(int level)
{
	return level >= 0 && level < 8 ? level_names[level] : NULL;
}

int hl_config_level_from_name(const char *name)
{
	return name ? hl_cfgi_parse_level(name) : -1;
}

/* ------------------------------------------------------------ row checks */

/* A host:port setting; "" disables it. */
int hl_cfgi_check_address(const struct ld *ld, const config_setting_t *s, const char *v)
{
	char host[256], q[48];
	int port;
	if (v[0] && hl_config_split_hostport(v, host, sizeof host, &port) != 0)
		return hl_cfgi_fail(ld, s, "bad address '%s' (use host:port, e.g. 127.0.0.1:7370 or [::1]:7370)",
				    hl_cfgi_shown(v, q, sizeof q));
	char why[300];
	bool warn = false;
	if (v[0] && hl_config_address_check && hl_config_address_check(host, port, why, sizeof why, &warn) != 0) {
		if (!warn)
			return hl_cfgi_fail(ld, s, "%s", why);
		hl_cfgi_warn(ld, s, "%s", why);
	}
	return 0;
}

int (*hl_config_address_check)(const char *host, int port, char *why, size_t len, bool *warn);

int hl_cfgi_check_unix_path(const struct ld *ld, const config_setting_t *s, const char *v)
{
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	if (strlen(v) > max)
		return hl_cfgi_fail(ld, s, "path too long (at most %zu bytes)", max);
	char why[200];
	if (v[0] && hl_config_socket_check && hl_config_socket_check(v, why, sizeof why) != 0)
		return hl_cfgi_fail(ld, s, "%s", why);
	if (v[0] && hl_config_socket_dir_check && hl_config_socket_dir_check(v, why, sizeof why) != 0)
		hl_cfgi_warn(ld, s, "%s", why);
	return 0;
}

int (*hl_config_socket_dir_check)(const char *path, char *why, size_t len);

int (*hl_config_socket_check)(const char *path, char *why, size_t len);

/* dns.nameserver: "IP" or "IP:port" / "[IPv6]:port"; "" = resolv.conf. */
int hl_cfgi_check_nameserver(const struct ld *ld, const config_setting_t *s, const char *v)
{
	char q[48], host[64];
	int port;
	unsigned char addr[16];
	if (!v[0])
		return 0;
	bool ok = inet_pton(AF_INET, v, addr) == 1 || inet_pton(AF_INET6, v, addr) == 1 ||
	          (hl_config_split_hostport(v, host, sizeof host, &port) == 0 &&
	           (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1));
	if (!ok)
		return hl_cfgi_fail(ld, s, "bad nameserver '%s' (an IP address, optionally with :port, e.g. 127.0.0.1:53)",
				    hl_cfgi_shown(v, q, sizeof q));
	return 0;
}

int (*hl_config_conninfo_check)(const char *conninfo, char *why, size_t len);

/* conninfo is a secret: never echoed. */
int hl_cfgi_check_conninfo(const struct ld *ld, const config_setting_t *s, const char *v)
{
	char why[160];
	if (v[0] == '\0')
		return hl_cfgi_fail(ld, s, "empty (use a libpq connection string such as \"dbname=hotline\")");
	if (hl_config_conninfo_check && hl_config_conninfo_check(v, why, sizeof why) != 0)
		return hl_cfgi_fail(ld, s, "%s", why);
	return 0;
}

int (*hl_config_account_check)(bool group, const char *name, char *why, size_t len);

static int check_account(const struct ld *ld, const config_setting_t *s, const char *v, bool group)
{
	char why[160];
	if (v[0] && hl_config_account_check && hl_config_account_check(group, v, why, sizeof why) != 0)
		return hl_cfgi_fail(ld, s, "%s", why);
	return 0;
}

int hl_cfgi_check_user(const struct ld *ld, const config_setting_t *s, const char *v)
{
	return check_account(ld, s, v, false);
}

int hl_cfgi_check_group(const struct ld *ld, const config_setting_t *s, const char *v)
{
	return check_account(ld, s, v, true);
}

int (*hl_config_file_check)(const char *path, char *why, size_t len);

int hl_cfgi_check_file(const struct ld *ld, const config_setting_t *s, const char *v)
{
	char why[200];
	if (v[0] && hl_config_file_check && hl_config_file_check(v, why, sizeof why) != 0)
		return hl_cfgi_fail(ld, s, "%s", why);
	return 0;
}

/* A daemon's name among its peers: it goes into application_name, so short and plain. */
int hl_cfgi_check_cluster_name(const struct ld *ld, const config_setting_t *s, const char *v)
{
	size_t n = strlen(v);
	bool ok = n > 0 && n <= 40;
	for (const char *p = v; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		     *p == '_' || *p == '.';
	if (!ok) {
		char q[48];
		return hl_cfgi_fail(ld, s, "bad name '%s' (1 to 40 letters, digits, '-', '_' or '.')",
				    hl_cfgi_shown(v, q, sizeof q));
	}
	return 0;
}
