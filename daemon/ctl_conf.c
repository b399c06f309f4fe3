/*
 * ctl_conf.c - hotlinectl's client configuration.
 *
 *     # /etc/hotlined/hotlinectl.conf or ~/.config/hotlinectl.conf
 *     connect  = "unix:/run/hotlined/supervisor.sock";   # or "tcp:hotline.example:7370"
 *     token    = "...";                                   # for tcp: sent as auth first
 *     timezone = "Asia/Shanghai";                         # times shown in this zone
 *     tls = { ca = "/etc/hotlined/ca.pem"; cert = ""; key = ""; };   # TLS on tcp
 *
 * Why a file of its own: a supervisor must not need the daemon's
 * configuration (database password, every token) to watch and acknowledge.
 * For compatibility, -c may still name the daemon's hotlined.conf: a file
 * with a `database` or `listen` group is recognised as that and read by
 * hl_config_load.  Unknown keys are errors, as in the daemon's file.
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_conf.h"

static const char *const top_keys[] = {"connect", "token", "timezone", "tls", NULL};
static const char *const tls_keys[] = {"ca", "cert", "key", NULL};

static bool known(const char *name, const char *const *keys)
{
	for (size_t i = 0; keys[i]; i++)
		if (!strcmp(name, keys[i]))
			return true;
	return false;
}

static int check_group(const config_setting_t *g, const char *const *keys, const char *path, const char *prefix,
                       char *err, size_t errlen)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		if (!known(config_setting_name(s), keys)) {
			snprintf(err, errlen, "%s:%d: %s%s: unknown key", path, config_setting_source_line(s), prefix,
			         config_setting_name(s));
			return -1;
		}
	}
	return 0;
}

static int get(const config_setting_t *g, const char *name, char **dst, const char *path, const char *prefix,
               char *err, size_t errlen)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		snprintf(err, errlen, "%s:%d: %s%s: expected a string", path, config_setting_source_line(s), prefix, name);
		return -1;
	}
	const char *v = config_setting_get_string(s);
	if (v[0] && !(*dst = strdup(v))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int ctl_conf_load(const char *path, struct ctl_conf *out, char *err, size_t errlen)
{
	config_t lc;
	config_init(&lc);
	memset(out, 0, sizeof *out);
	int rc = -1;
	if (!config_read_file(&lc, path)) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read", path);
		else
			snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&lc), config_error_text(&lc));
		goto out;
	}
	const config_setting_t *root = config_root_setting(&lc);
	if (config_setting_get_member(root, "database") || config_setting_get_member(root, "listen")) {
		rc = 1; /* the daemon's file */
		goto out;
	}
	if (check_group(root, top_keys, path, "", err, errlen) ||
	    get(root, "connect", &out->connect, path, "", err, errlen) ||
	    get(root, "token", &out->token, path, "", err, errlen) ||
	    get(root, "timezone", &out->timezone, path, "", err, errlen))
		goto out;
	const config_setting_t *tls = config_setting_get_member(root, "tls");
	if (tls) {
		if (config_setting_type(tls) != CONFIG_TYPE_GROUP) {
			snprintf(err, errlen, "%s:%d: tls: expected a group { ca; cert; key; }", path,
			         config_setting_source_line(tls));
			goto out;
		}
		out->tls = true;
		if (check_group(tls, tls_keys, path, "tls.", err, errlen) ||
		    get(tls, "ca", &out->tls_ca, path, "tls.", err, errlen) ||
		    get(tls, "cert", &out->tls_cert, path, "tls.", err, errlen) ||
		    get(tls, "key", &out->tls_key, path, "tls.", err, errlen))
			goto out;
		if (!out->tls_cert != !out->tls_key) {
			snprintf(err, errlen, "%s: tls: cert and key must be given together", path);
			goto out;
		}
	}
	if (out->connect && strncmp(out->connect, "unix:", 5) != 0 && strncmp(out->connect, "tcp:", 4) != 0) {
		snprintf(err, errlen, "%s: connect: expected \"unix:PATH\" or \"tcp:HOST:PORT\"", path);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		ctl_conf_free(out);
	config_destroy(&lc);
	return rc;
}

void ctl_conf_free(struct ctl_conf *c)
{
	free(c->connect);
	free(c->token);
	free(c->timezone);
	free(c->tls_ca);
	free(c->tls_cert);
	free(c->tls_key);
	memset(c, 0, sizeof *c);
}
