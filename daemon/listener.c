/*
 * listener.c - the event sockets: TCP and a Unix domain socket, or systemd's.
 *
 * With socket activation (hotlined.socket), systemd hands over already bound
 * sockets (sd_listen_fds), so connections queue in the kernel while the
 * daemon restarts and no softphone is ever refused.  Without it, the daemon
 * binds listen.tcp and listen.unix itself.  Accepted sockets go to conn.c,
 * unless the daemon is stopping or max_connections are open: those get a
 * `busy` line and are closed here.
 *
 * The listeners are opened once: changing listen.* needs a restart.
 *
 * A Unix socket path is taken under an exclusive flock() on PATH.lock,
 * held until the daemon stops (review-ops4).  Without it the stale-socket
 * check (connect, and unlink when nobody answers) let a second daemon with
 * the same path take it whenever the first one's file was gone or in the
 * instant before the first one's listen(); the first then served nobody
 * and, on stopping, unlinked the second one's socket.  The lock file holds
 * the pid of its holder, for the message of the daemon that is refused,
 * and is never removed (removing it would reopen the race).
 *
 * When accept() fails (EMFILE/ENFILE: out of file descriptors; ENOBUFS,
 * ENOMEM), the pending connection stays in the kernel's queue and the
 * socket stays readable, so simply returning would make the loop call
 * accept() again at once, forever: a million log lines a second at full
 * CPU.  Instead, as nginx and pgbouncer do, every listener is disabled for a
 * back-off interval (ACCEPT_BACKOFF_MIN_MS doubling to ACCEPT_BACKOFF_MAX_MS
 * while the failures go on; reset by the next successful accept), and the
 * failure is logged at most once per ACCEPT_LOG_EVERY_MS with the number
 * of failures since the last report.  Connections already open are served
 * meanwhile; closing one frees a descriptor for the next accept.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "protocol.h"

#define MAX_LISTENERS 8
#define ACCEPT_BACKOFF_MIN_MS 100
#define ACCEPT_BACKOFF_MAX_MS 1000
#define ACCEPT_LOG_EVERY_MS 1000

static struct {
	struct evconnlistener *l;
	bool is_unix;
	char *unlink_path;
	int lock_fd;        /* PATH.lock, held while the path is ours; -1 = none */
} L[MAX_LISTENERS];
static int n_listeners;
static SSL_CTX *tls_ctx; /* TCP connections speak TLS when listen.tls.cert is set */

/* other listeners (the HTTP endpoint's) paused together with ours; not owned */
static struct evconnlistener *guarded[4];
static int n_guarded;

static struct {
	struct event *resume;   /* re-enables the listeners after a back-off */
	int backoff_ms;         /* the current interval; 0 = accepting normally */
	hl_ms last_log;         /* monotonic ms of the last report; 0 = never */
	uint64_t unreported;    /* failures since the last report */
} accept_pause;

void *listener_tls_ctx(void) { return tls_ctx; }

static void log_ssl_error(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();
	ERR_error_string_n(e, buf, sizeof buf);
	log_crit("%s: %s", what, e ? buf : "unknown error");
}

/* TLS 1.2+ with the configured certificate; client certificates are required
 * when listen.tls.ca is set. */
static int tls_open(const struct hl_config *cfg)
{
	if (!cfg->listen.tls_cert || !*cfg->listen.tls_cert)
		return 0;
	tls_ctx = SSL_CTX_new(TLS_server_method());
	if (!tls_ctx)
		return log_ssl_error("TLS"), -1;
	SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(tls_ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(tls_ctx, cfg->listen.tls_cert) != 1)
		return log_ssl_error("listen.tls.cert"), -1;
	const char *key = cfg->listen.tls_key && *cfg->listen.tls_key ? cfg->listen.tls_key : cfg->listen.tls_cert;
	if (SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(tls_ctx) != 1)
		return log_ssl_error("listen.tls.key"), -1;
	if (cfg->listen.tls_ca && *cfg->listen.tls_ca) {
		if (SSL_CTX_load_verify_locations(tls_ctx, cfg->listen.tls_ca, NULL) != 1)
			return log_ssl_error("listen.tls.ca"), -1;
		SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	log_info("TLS on TCP connections%s", cfg->listen.tls_ca && *cfg->listen.tls_ca ? ", client certificates required" : "");
	return 0;
}

/* Stopping, or max_connections open: a clear error line, best effort, then
 * close.  A client reconnecting in a loop must not flood the log: once a
 * second, with a count.  (Moved here from conn.c.) */
static bool refused(int fd, const char *peer)
{
	if (!hl->stopping && conn_count() < (size_t)hl->cfg->listen.max_connections)
		return false;
	char *line = hl_reply_error(NULL, HL_E_BUSY, hl->stopping ? "shutting down" : "too many connections");
	ssize_t w = write(fd, line, strlen(line));
	(void)w;
	free(line);
	close(fd);
	hl->stats.conns_rejected++;
	static hl_ms refused_logged_at;
	static uint64_t refused_unreported;
	refused_unreported++;
	hl_ms now = mono_ms();
	if (refused_logged_at == 0 || now - refused_logged_at >= 1000) {
		log_warn("connection from %s refused: %s (%llu refused since the last report)", peer,
		         hl->stopping ? "shutting down" : "too many connections", (unsigned long long)refused_unreported);
		refused_logged_at = now;
		refused_unreported = 0;
	}
	return true;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	char peer[96] = "unix";
	int kind = (int)(intptr_t)arg;
	bool is_unix = kind != 0;
	(void)l;
	if (!is_unix && sa) {
		char host[INET6_ADDRSTRLEN] = "?";
		int port = 0;
		if (sa->sa_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)sa;
			inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
			port = ntohs(in->sin_port);
		} else if (sa->sa_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
			port = ntohs(in6->sin6_port);
		}
		snprintf(peer, sizeof peer, "%s:%d", host, port);
	}
	(void)salen;
	accept_pause.backoff_ms = 0; /* descriptors are available again */
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	if (refused(fd, peer))
		return;
	if (!is_unix) {
		/* replies are small and must leave at once, not wait for Nagle */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	conn_accept(fd, kind, peer, is_unix ? NULL : tls_ctx);
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	for (int i = 0; i < n_listeners; i++)
		evconnlistener_enable(L[i].l);
	for (int i = 0; i < n_guarded; i++)
		evconnlistener_enable(guarded[i]);
}

/* accept() failed: pause every listener for the back-off interval, report at most once per second. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	(void)arg, (void)l;
	hl->stats.accept_errors++;
	accept_pause.unreported++;
	accept_pause.backoff_ms = accept_pause.backoff_ms == 0 ? ACCEPT_BACKOFF_MIN_MS
	                          : accept_pause.backoff_ms * 2 > ACCEPT_BACKOFF_MAX_MS ? ACCEPT_BACKOFF_MAX_MS
	                                                                                 : accept_pause.backoff_ms * 2;
	hl_ms now = mono_ms();
	if (accept_pause.last_log == 0 || now - accept_pause.last_log >= ACCEPT_LOG_EVERY_MS) {
		log_err("accept: %s (%llu failure(s) since the last report); not accepting for %d ms",
		        evutil_socket_error_to_string(err), (unsigned long long)accept_pause.unreported,
		        accept_pause.backoff_ms);
		accept_pause.last_log = now;
		accept_pause.unreported = 0;
	}
	for (int i = 0; i < n_listeners; i++)
		evconnlistener_disable(L[i].l);
	for (int i = 0; i < n_guarded; i++)
		evconnlistener_disable(guarded[i]);
	if (!accept_pause.resume)
		accept_pause.resume = evtimer_new(hl->base, accept_resume_cb, NULL);
	struct timeval tv = { accept_pause.backoff_ms / 1000, (accept_pause.backoff_ms % 1000) * 1000 };
	if (!accept_pause.resume || evtimer_add(accept_pause.resume, &tv) != 0)
		accept_resume_cb(-1, 0, NULL); /* cannot wait: keep accepting rather than go deaf */
}

/* libevent's own listeners (evhttp's) log and retry at once on EMFILE: give them our back-off. */
void listener_guard(struct evconnlistener *l)
{
	if (!l || n_guarded == (int)(sizeof guarded / sizeof guarded[0]))
		return;
	evconnlistener_set_error_cb(l, accept_error_cb);
	guarded[n_guarded++] = l;
}

/* kind: 0 TCP, 1 Unix, 2 the supervisors' Unix socket (listen.unix_supervisor); conn_accept gets it */
static int add_listener(evutil_socket_t fd, int kind, const char *unlink_path, int lock_fd)
{
	bool is_unix = kind != 0;
	if (n_listeners == MAX_LISTENERS)
		return -1;
	evutil_make_socket_nonblocking(fd);
	struct evconnlistener *l = evconnlistener_new(hl->base, accept_cb, (void *)(intptr_t)kind,
	                                              LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (!l)
		return -1;
	evconnlistener_set_error_cb(l, accept_error_cb);
	L[n_listeners].l = l;
	L[n_listeners].is_unix = is_unix;
	L[n_listeners].unlink_path = unlink_path ? hl_xstrdup(unlink_path) : NULL;
	L[n_listeners].lock_fd = lock_fd;
	n_listeners++;
	return 0;
}

/* "host:port" or "[v6]:port" */
static int open_tcp(const char *addr)
{
	char host[256];
	const char *port;
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');
		if (!end || end[1] != ':')
			return -1;
		snprintf(host, sizeof host, "%.*s", (int)(end - addr - 1), addr + 1);
		port = end + 2;
	} else {
		const char *colon = strrchr(addr, ':');
		if (!colon)
			return -1;
		snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
		port = colon + 1;
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		log_crit("listen.tcp %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0) {
		freeaddrinfo(res);
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		log_crit("listen.tcp %s: %s", addr, strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	if (add_listener(fd, 0, NULL, -1) != 0) {
		close(fd);
		return -1;
	}
	log_info("listening on tcp %s", addr);
	return 0;
}

/* One Unix socket: listen.unix (kind 1) or listen.unix_supervisor (kind 2). */
struct unix_spec {
	const char *key, *path, *owner, *group;
	int mode, kind;
};

static int bind_unix(const struct unix_spec *u, const struct sockaddr_un *sunp, int lock_fd);

/* PATH.lock, locked: its descriptor, or -1 (said) when another process holds it. */
static int lock_path(const struct unix_spec *u)
{
	char lock[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	snprintf(lock, sizeof lock, "%s.lock", u->path);
	/* 0644 and read-only if need be: flock() needs no write access, so a
	 * lock file left by a run as root (by hand) does not lock the service out */
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	bool writable = fd >= 0;
	if (fd < 0 && errno == EACCES)
		fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		log_crit("listen.%s %s: cannot open its lock file %s: %s", u->key, u->path, lock, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno;
		char pid[24] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (err == EWOULDBLOCK)
			log_crit("listen.%s %s: another hotlined%s%s%s holds %s", u->key, u->path, pid[0] ? " (pid " : "",
			         pid, pid[0] ? ")" : "", lock);
		else
			log_crit("listen.%s %s: cannot lock %s: %s", u->key, u->path, lock, strerror(err));
		close(fd);
		return -1;
	}
	char pid[24];
	int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	if (writable && (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len))
		log_warn("listen.%s: cannot write the pid into %s: %s", u->key, lock, strerror(errno));
	return fd;
}

static int open_unix(const struct unix_spec *u)
{
	const char *path = u->path;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sun.sun_path) {
		log_crit("listen.%s %s: path too long", u->key, path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	int lock_fd = lock_path(u);
	if (lock_fd < 0)
		return -1;
	int rc = bind_unix(u, &sun, lock_fd);
	if (rc != 0)
		close(lock_fd);
	return rc;
}

/* The path is ours (its lock is held): replace a stale socket, bind, listen. */
static int bind_unix(const struct unix_spec *u, const struct sockaddr_un *sunp, int lock_fd)
{
	const char *path = u->path;
	struct sockaddr_un sun = *sunp;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* a stale socket from a crash: remove it only if nobody answers on it */
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
		log_crit("listen.%s %s: another process is listening there", u->key, path);
		close(fd);
		return -1;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(0777 & ~u->mode);
	int rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (rc != 0 || listen(fd, 1024) != 0) {
		log_crit("listen.%s %s: %s", u->key, path, strerror(errno));
		close(fd);
		return -1;
	}
	chmod(path, (mode_t)u->mode);
	if ((u->owner && *u->owner) || (u->group && *u->group)) {
		uid_t uid = (uid_t)-1;
		gid_t gid = (gid_t)-1;
		if (u->owner && *u->owner) {
			struct passwd *pw = getpwnam(u->owner);
			if (!pw) {
				log_crit("listen.unix_owner: no user %s", u->owner);
				close(fd);
				return -1;
			}
			uid = pw->pw_uid;
		}
		if (u->group && *u->group) {
			struct group *gr = getgrnam(u->group);
			if (!gr) {
				log_crit("listen.unix_group: no group %s", u->group);
				close(fd);
				return -1;
			}
			gid = gr->gr_gid;
		}
		if (chown(path, uid, gid) != 0) {
			log_crit("listen.%s %s: chown: %s", u->key, path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	if (add_listener(fd, u->kind, path, lock_fd) != 0) {
		close(fd);
		return -1;
	}
	log_info("listening on unix %s (mode %04o)%s", path, u->mode, u->kind == 2 ? " for supervisors" : "");
	return 0;
}

int listener_open(const struct hl_config *cfg)
{
	if (tls_open(cfg) != 0)
		return -1;
	int n = sd_listen_fds(1);
	if (n > 0) {
		for (int i = 0; i < n; i++) {
			int fd = SD_LISTEN_FDS_START + i;
			bool is_unix = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0;
			const char *sup = cfg->access.unix_supervisor;
			bool supervisors = sup && sd_is_socket_unix(fd, SOCK_STREAM, 1, sup, 0) > 0;
			if (add_listener(fd, supervisors ? 2 : is_unix, NULL, -1) != 0)
				return -1;
		}
		log_info("using %d socket(s) from systemd", n);
		return 0;
	}
	if (cfg->listen.tcp && *cfg->listen.tcp && open_tcp(cfg->listen.tcp) != 0)
		return -1;
	struct unix_spec main_sock = { "unix", cfg->listen.unix_path, cfg->listen.unix_owner, cfg->listen.unix_group,
	                               cfg->listen.unix_mode, 1 };
	struct unix_spec sup_sock = { "unix_supervisor", cfg->access.unix_supervisor, NULL,
	                              cfg->access.unix_supervisor_group, cfg->access.unix_supervisor_mode, 2 };
	if (!sup_sock.mode)
		sup_sock.mode = 0660;
	if (cfg->listen.unix_path && *cfg->listen.unix_path && open_unix(&main_sock) != 0)
		return -1;
	if (sup_sock.path && *sup_sock.path && open_unix(&sup_sock) != 0)
		return -1;
	if (n_listeners == 0) {
		log_crit("no listener configured");
		return -1;
	}
	return 0;
}

void listener_close(void)
{
	for (int i = 0; i < n_listeners; i++) {
		evconnlistener_free(L[i].l);
		if (L[i].unlink_path) {
			unlink(L[i].unlink_path); /* ours: its lock is still held */
			free(L[i].unlink_path);
		}
		if (L[i].lock_fd >= 0)
			close(L[i].lock_fd);
	}
	n_listeners = 0;
	n_guarded = 0;
	if (accept_pause.resume) {
		event_free(accept_pause.resume);
		accept_pause.resume = NULL;
	}
	if (tls_ctx) {
		SSL_CTX_free(tls_ctx);
		tls_ctx = NULL;
	}
}
