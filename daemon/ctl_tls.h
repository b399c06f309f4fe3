/*
 * ctl_tls.h - hotlinectl's TLS to the daemon's TLS listener (ctl_tls.c).
 * Private to hotlinectl.  A NULL session means plain socket I/O, so callers
 * use the same three calls either way.
 */
#ifndef HL_CTL_TLS_H
#define HL_CTL_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct ctl_tls;

/* Handshake on a connected blocking fd, verifying the server against ca (a PEM
 * bundle; NULL = the system's CAs) and host; cert/key: a client certificate
 * (both NULL = none).  Leaves fd nonblocking.  NULL with err filled on failure. */
struct ctl_tls *ctl_tls_connect(int fd, const char *host, const char *ca, const char *cert, const char *key,
                                char *err, size_t errlen);
void ctl_tls_free(struct ctl_tls *t);
/* Like send()/recv() on a nonblocking socket: -1 with errno EAGAIN when it would block. */
ssize_t ctl_io_send(struct ctl_tls *t, int fd, const void *p, size_t n);
ssize_t ctl_io_recv(struct ctl_tls *t, int fd, void *p, size_t n);
/* Bytes already decrypted and waiting (poll() cannot see them). */
int ctl_io_pending(const struct ctl_tls *t);

#endif
