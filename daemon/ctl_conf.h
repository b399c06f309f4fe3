/*
 * ctl_conf.h - hotlinectl's own client configuration (ctl_conf.c).
 * Private to hotlinectl; not part of the daemon.
 */
#ifndef HL_CTL_CONF_H
#define HL_CTL_CONF_H

#include <stdbool.h>
#include <stddef.h>

struct ctl_conf {
	char *connect;              /* "unix:/run/hotlined/events.sock" or "tcp:host:port" */
	char *token;
	char *timezone;
	char *tls_ca, *tls_cert, *tls_key;
	bool tls;                   /* a tls = { } group was given */
};

/* 1: the file is a daemon configuration (has database or listen), load it with
 * hl_config_load; 0: a client configuration, loaded into *out; -1: error in err. */
int ctl_conf_load(const char *path, struct ctl_conf *out, char *err, size_t errlen);
void ctl_conf_free(struct ctl_conf *c);

#endif
