/*
 * conf.c - hotline-pbx's configuration file (libconfig; conf/hotline-pbx.conf).
 *
 * A file of its own, not a section of hotlined.conf: the bridge runs as
 * another user on the PBX side and must not be able to read the daemon's
 * database credentials, and the AMI secret need not be readable by the
 * daemon.  Everything is in one `pbx` group; unknown keys are errors (a
 * typo must not silently fall back to a default), reported with the file
 * and line like hotlined --check does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "pbx_shell.h"

static const char *const KNOWN[] = {
	"socket", "tcp", "token", "state_file", "id_prefix", "country_code", "trunk_prefix", "intl_prefix",
	"national_length", "complete_outcome", "queues", "window", "poll_ms", "ami", "charset", NULL,
};
static const char *const KNOWN_AMI[] = { "user", "secret", "backlog", NULL };

static int bad(const char *path, const config_setting_t *s, const char *key, const char *why)
{
	fprintf(stderr, "%s:%d: %s: %s\n", path, s ? config_setting_source_line(s) : 0, key, why);
	return -1;
}

static int str(const char *path, config_setting_t *g, const char *key, char *out, size_t len)
{
	config_setting_t *s = config_setting_get_member(g, key);
	if (!s)
		return 0;
	const char *v = config_setting_get_string(s);
	if (!v)
		return bad(path, s, key, "must be a string");
	if (strlen(v) >= len)
		return bad(path, s, key, "too long");
	snprintf(out, len, "%s", v);
	return 0;
}

static int num(const char *path, config_setting_t *g, const char *key, int *out, int min, int max)
{
	config_setting_t *s = config_setting_get_member(g, key);
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT)
		return bad(path, s, key, "must be an integer");
	int v = config_setting_get_int(s);
	if (v < min || v > max)
		return bad(path, s, key, "out of range");
	*out = v;
	return 0;
}

/* Every member of group g is one of known[]; -1 with a message otherwise. */
static int known_keys(const char *path, config_setting_t *g, const char *const *known)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		bool ok = false;
		for (int k = 0; known[k]; k++)
			ok = ok || strcmp(config_setting_name(s), known[k]) == 0;
		if (!ok)
			return bad(path, s, config_setting_name(s), "unknown key");
	}
	return 0;
}

int pbx_conf_load(const char *path, struct pbx_conf *c)
{
	memset(c, 0, sizeof *c);
	pbx_opts_defaults(&c->opts);
	c->window = 256;
	c->poll_ms = 200;
	c->ami_backlog = 100000;
	config_t cf;
	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		fprintf(stderr, "%s:%d: %s\n", config_error_file(&cf) ? config_error_file(&cf) : path,
		        config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return -1;
	}
	int rc = -1;
	config_setting_t *g = config_lookup(&cf, "pbx");
	if (!g || !config_setting_is_group(g)) {
		fprintf(stderr, "%s: pbx: missing (a group: pbx = { socket = ...; };)\n", path);
		goto out;
	}
	if (known_keys(path, g, KNOWN) != 0)
		goto out;
	if (str(path, g, "socket", c->socket, sizeof c->socket) || str(path, g, "tcp", c->tcp, sizeof c->tcp) ||
	    str(path, g, "token", c->token, sizeof c->token) ||
	    str(path, g, "state_file", c->state_file, sizeof c->state_file) ||
	    str(path, g, "id_prefix", c->opts.id_prefix, sizeof c->opts.id_prefix) ||
	    str(path, g, "country_code", c->opts.country_code, sizeof c->opts.country_code) ||
	    str(path, g, "trunk_prefix", c->opts.trunk_prefix, sizeof c->opts.trunk_prefix) ||
	    str(path, g, "intl_prefix", c->opts.intl_prefix, sizeof c->opts.intl_prefix) ||
	    str(path, g, "complete_outcome", c->opts.complete_outcome, sizeof c->opts.complete_outcome) ||
	    str(path, g, "charset", c->opts.charset, sizeof c->opts.charset) ||
	    num(path, g, "national_length", &c->opts.national_length, 0, 20) ||
	    num(path, g, "window", &c->window, 1, 10000) || num(path, g, "poll_ms", &c->poll_ms, 10, 60000))
		goto out;
	if (strlen(c->socket) >= 108) {
		bad(path, g, "socket", "path too long for a Unix socket (at most 107 bytes)");
		goto out;
	}
	if (!c->socket[0] && !c->tcp[0]) {
		bad(path, g, "socket", "set socket (or tcp) to hotlined's event socket");
		goto out;
	}
	if (!c->opts.complete_outcome[0]) {
		bad(path, g, "complete_outcome", "must not be empty");
		goto out;
	}
	if (!pbx_charset_known(c->opts.charset)) {
		bad(path, config_setting_get_member(g, "charset"), "charset",
		    "not a character set iconv knows (`iconv -l` lists them; e.g. \"GB18030\")");
		goto out;
	}
	for (const char *p = c->opts.country_code; *p; p++)
		if (*p < '0' || *p > '9') {
			bad(path, config_setting_get_member(g, "country_code"), "country_code", "digits only, e.g. \"86\"");
			goto out;
		}
	config_setting_t *q = config_setting_get_member(g, "queues");
	if (q) {
		if (!config_setting_is_array(q) && !config_setting_is_list(q)) {
			bad(path, q, "queues", "must be a list of queue names");
			goto out;
		}
		int n = config_setting_length(q);
		c->opts.queues = calloc((size_t)n + 1, sizeof *c->opts.queues);
		for (int i = 0; i < n; i++) {
			const char *v = config_setting_get_string_elem(q, i);
			if (!v) {
				bad(path, q, "queues", "must be strings");
				goto out;
			}
			c->opts.queues[c->opts.n_queues++] = strdup(v);
		}
	}
	config_setting_t *ami = config_setting_get_member(g, "ami");
	if (ami && !config_setting_is_group(ami)) {
		bad(path, ami, "ami", "must be a group: ami = { user = \"...\"; secret = \"...\"; };");
		goto out;
	}
	if (ami && (known_keys(path, ami, KNOWN_AMI) != 0 ||
	            str(path, ami, "user", c->ami_user, sizeof c->ami_user) ||
	            str(path, ami, "secret", c->ami_secret, sizeof c->ami_secret) ||
	            num(path, ami, "backlog", &c->ami_backlog, 10, 10000000)))
		goto out;
	rc = 0;
out:
	config_destroy(&cf);
	if (rc != 0)
		pbx_conf_free(c);
	return rc;
}

void pbx_conf_free(struct pbx_conf *c)
{
	for (size_t i = 0; i < c->opts.n_queues; i++)
		free(c->opts.queues[i]);
	free(c->opts.queues);
	c->opts.queues = NULL;
	c->opts.n_queues = 0;
	pbx_charset_free();
}
