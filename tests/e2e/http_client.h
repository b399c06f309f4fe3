/*
 * http_client.h - a small blocking HTTP/1.1 and Server-Sent Events client for test_http.c.
 *
 * Requests use `Connection: close`, so a response ends at EOF; the event
 * stream is requested as HTTP/1.0, so its bytes are the raw event stream (no
 * chunked framing).  Every allocation and socket is recorded and released by
 * http_fini (the suite's .fini), so an assertion that aborts a test leaks
 * nothing.  Static inline functions: each HTTP test file (test_http.c,
 * test_http_masking.c, test_http_hostile.c) gets its own copy, and one that
 * uses only some of them is not warned of the rest.
 */
#ifndef HL_E2E_HTTP_CLIENT_H
#define HL_E2E_HTTP_CLIENT_H

/* the three roles' tokens every HTTP test daemon is given (up) */
#define SUP "Authorization: Bearer sup-token\r\n"
#define VIEW "Authorization: Bearer view-token\r\n"
#define ING "Authorization: Bearer ing-token\r\n"

static void *allocs[512];
static size_t n_allocs;
static int socks[64];
static size_t n_socks;
static int http_port;

static inline void *keep(void *p)
{
	cr_assert(p, "out of memory");
	cr_assert_lt(n_allocs, sizeof allocs / sizeof allocs[0]);
	return allocs[n_allocs++] = p;
}

static inline void http_fini(void)
{
	for (size_t i = 0; i < n_allocs; i++)
		free(allocs[i]);
	n_allocs = 0;
	for (size_t i = 0; i < n_socks; i++)
		if (socks[i] >= 0)
			close(socks[i]);
	n_socks = 0;
	hl_e2e_cleanup();
}


static inline int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* The harness waits for the event socket, which listens before the HTTP
 * listener is bound: wait for that too. */
static inline void wait_http(void)
{
	int64_t end = hl_now_ms() + HL_TIMEOUT_MS;
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)http_port),
		                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
		close(fd);
		if (rc == 0)
			return;
		cr_assert_lt(hl_now_ms(), end, "the HTTP listener did not come up");
		hl_sleep_ms(20);
	}
}

/* A daemon with the HTTP listener and one token per role, a second supervisor
 * (bob, sup2-token), plus `extra_http` and `top`. */
static inline struct hl_d *up(const char *extra_http, const char *top, const char *listen)
{
	http_port = free_port();
	char *t = keep(malloc(2048));
	snprintf(t, 2048,
	         "http = { listen = \"127.0.0.1:%d\"; %s\n"
	         "  tokens = ( { token = \"sup-token\"; name = \"alice\"; role = \"supervisor\"; },\n"
	         "             { token = \"sup2-token\"; name = \"bob\"; role = \"supervisor\"; },\n"
	         "             { token = \"view-token\"; name = \"vic\"; role = \"viewer\"; },\n"
	         "             { token = \"ing-token\"; name = \"softphone\"; role = \"ingest\"; } ); };\n%s",
	         http_port, extra_http ? extra_http : "", top ? top : "");
	struct hl_d *d = hl_d_up(&(struct hl_e2e_opts){ .top = t, .listen = listen });
	wait_http();
	return d;
}

static inline int tcp_connect(int port, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s", strerror(errno));
	cr_assert_lt(n_socks, sizeof socks / sizeof socks[0]);
	socks[n_socks++] = fd;
	return fd;
}

static inline void sock_close(int fd)
{
	for (size_t i = 0; i < n_socks; i++)
		if (socks[i] == fd)
			socks[i] = -1;
	close(fd);
}

static inline void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return; /* the daemon may close early (413): the answer tells */
		p += w;
		n -= (size_t)w;
	}
}

/* Everything the daemon writes on fd until it closes the connection (a
 * whole answer to a request sent by hand), NUL-terminated and kept; the
 * test fails if nothing more comes within timeout_ms or it passes cap. */
static inline char *read_to_close(int fd, size_t cap, int timeout_ms, const char *what)
{
	size_t got = 0;
	char *resp = keep(malloc(cap));
	int64_t end = hl_now_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(end - hl_now_ms());
		cr_assert(left > 0 && poll(&p, 1, left) == 1, "%s", what);
		ssize_t k = recv(fd, resp + got, cap - got - 1, 0);
		if (k <= 0)
			break;
		got += (size_t)k;
		cr_assert_lt(got, cap - 1);
	}
	resp[got] = '\0';
	return resp;
}

struct hres {
	int status;
	char *head;  /* status line and headers */
	char *body;
};

/* The value of a response header (case-insensitive name), kept; NULL when absent. */
static inline const char *header(const struct hres *r, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(r->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
			const char *v = p + 3 + nl;
			while (*v == ' ')
				v++;
			size_t l = strcspn(v, "\r\n");
			char *out = keep(malloc(l + 1));
			memcpy(out, v, l);
			out[l] = '\0';
			return out;
		}
	}
	return NULL;
}

static inline struct hres *http(const char *method, const char *path, const char *headers, const char *body)
{
	int fd = tcp_connect(http_port, 0);
	char *req = keep(malloc(4096 + (body ? strlen(body) : 0)));
	int n = sprintf(req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\nContent-Length: %zu\r\n%s\r\n",
	                method, path, http_port, body ? strlen(body) : 0, headers ? headers : "");
	if (body) {
		memcpy(req + n, body, strlen(body));
		n += (int)strlen(body);
	}
	send_all(fd, req, (size_t)n);
	size_t cap = 1 << 16, len = 0;
	char *buf = keep(malloc(cap));
	int64_t end = hl_now_ms() + HL_TIMEOUT_MS;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(end - hl_now_ms());
		cr_assert(left > 0 && poll(&p, 1, left) == 1, "no complete HTTP answer to %s %s", method, path);
		if (len + 4096 > cap) {
			cr_assert_lt(n_allocs, sizeof allocs / sizeof allocs[0]);
			char *nb = realloc(buf, cap *= 2);
			cr_assert(nb);
			for (size_t i = 0; i < n_allocs; i++)
				if (allocs[i] == buf)
					allocs[i] = nb;
			buf = nb;
		}
		ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	sock_close(fd);
	buf[len] = '\0';
	struct hres *res = keep(calloc(1, sizeof *res));
	char *sep = strstr(buf, "\r\n\r\n");
	cr_assert(sep, "no HTTP header in: %s", buf);
	*sep = '\0';
	res->head = buf;
	res->body = sep + 4;
	cr_assert(sscanf(buf, "HTTP/1.%*d %d", &res->status) == 1, "bad status line: %s", buf);
	return res;
}

static inline json_object *jbody(const struct hres *r)
{
	json_object *o = json_tokener_parse(r->body);
	cr_assert(o, "not JSON: %s", r->body);
	return o; /* json_object_put by the caller */
}

/* ------------------------------------------------------------ SSE client */

struct sse {
	int fd;
	char buf[1 << 16];
	size_t len;
	bool headers_done;
	int status;
};

struct sse_ev {
	int64_t id;
	char event[32];
	char data[4096];
};

static inline struct sse *sse_open(const char *path, const char *headers, int rcvbuf)
{
	struct sse *s = keep(calloc(1, sizeof *s));
	s->fd = tcp_connect(http_port, rcvbuf);
	char req[1024];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n%s\r\n", path, http_port,
	                 headers ? headers : "");
	send_all(s->fd, req, (size_t)n);
	return s;
}

/* The next event (comments skipped); false on timeout or EOF. */
static inline bool sse_next(struct sse *s, struct sse_ev *ev, int timeout_ms)
{
	int64_t end = hl_now_ms() + timeout_ms;
	memset(ev, 0, sizeof *ev);
	for (;;) {
		s->buf[s->len] = '\0';
		if (!s->headers_done) {
			char *sep = strstr(s->buf, "\r\n\r\n");
			if (sep) {
				sscanf(s->buf, "HTTP/1.%*d %d", &s->status);
				size_t skip = (size_t)(sep + 4 - s->buf);
				memmove(s->buf, sep + 4, s->len - skip);
				s->len -= skip;
				s->headers_done = true;
				continue;
			}
		} else {
			char *sep = strstr(s->buf, "\n\n");
			if (sep) {
				*sep = '\0';
				bool any = false;
				for (char *line = s->buf; line && *line;) {
					char *nl = strchr(line, '\n');
					if (nl)
						*nl = '\0';
					if (strncmp(line, "id: ", 4) == 0)
						ev->id = atoll(line + 4), any = true;
					else if (strncmp(line, "event: ", 7) == 0)
						snprintf(ev->event, sizeof ev->event, "%s", line + 7), any = true;
					else if (strncmp(line, "data: ", 6) == 0)
						snprintf(ev->data, sizeof ev->data, "%s", line + 6), any = true;
					line = nl ? nl + 1 : NULL;
				}
				size_t skip = (size_t)(sep + 2 - s->buf);
				memmove(s->buf, sep + 2, s->len - skip);
				s->len -= skip;
				if (any && (ev->data[0] || ev->event[0]))
					return true;
				memset(ev, 0, sizeof *ev);
				continue;
			}
		}
		int left = (int)(end - hl_now_ms());
		struct pollfd p = { s->fd, POLLIN, 0 };
		if (left <= 0 || poll(&p, 1, left) != 1)
			return false;
		ssize_t r = recv(s->fd, s->buf + s->len, sizeof s->buf - 1 - s->len, 0);
		if (r <= 0)
			return false;
		s->len += (size_t)r;
	}
}

/* ------------------------------------------------------------- events */

/* POST lines (joined by \n) as the ingest role; the response. */
static inline struct hres *post_events(const char *body)
{
	return http("POST", "/v1/events", ING, body);
}

/* n call.offered events as one POST /v1/events body, written whole to a new
 * connection whose answer is left unread (the caller reads it, or not):
 * ids and call ids "<prefix>-<i>", callers +<first_number + i % callers>.
 * The socket; *len the body's length. */
static inline int post_offered_raw(const char *prefix, int n, long long first_number, int callers, size_t *len)
{
	size_t cap = (size_t)n * 128;
	char *body = keep(malloc(cap));
	*len = 0;
	for (int i = 0; i < n; i++)
		*len += (size_t)snprintf(body + *len, cap - *len,
		                         "{\"type\":\"call.offered\",\"id\":\"%s-%d\",\"call_id\":\"%s-%d\","
		                         "\"caller\":\"+%lld\"}\n", prefix, i, prefix, i, first_number + i % callers);
	int fd = tcp_connect(http_port, 0);
	char head[512];
	int hn = snprintf(head, sizeof head, "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
	                  "Content-Length: %zu\r\n" ING "\r\n", http_port, *len);
	send_all(fd, head, (size_t)hn);
	send_all(fd, body, *len);
	return fd;
}

/* A connection to the daemon's socket, once it has committed its first event. */
static inline struct hl_conn *after_first_commit(struct hl_d *d)
{
	struct hl_conn *c = hl_conn_unix(d);
	int64_t end = hl_now_ms() + 20000;
	while (hl_jint(hl_request(c, "{\"type\":\"stats\",\"id\":\"st\"}"), "stats.events") < 1) {
		cr_assert_lt(hl_now_ms(), end, "the body's events were never committed");
		hl_sleep_ms(5);
	}
	return c;
}

/* A case transferred twice: a transfer_loop alert (needs alerts.transfer_limit = 1); its alert id. */
static inline int64_t transfer_loop(struct hl_d *d, int n, const char *caller)
{
	char body[1024];
	snprintf(body, sizeof body,
	         "{\"type\":\"call.offered\",\"id\":\"off-%d\",\"call_id\":\"c-%d\",\"caller\":\"%s\"}\n", n, n, caller);
	struct hres *r = post_events(body);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_object *o = jbody(r);
	int64_t case_id = hl_jint(o, "case_id");
	json_object_put(o);
	cr_assert_gt(case_id, 0, "%s", r->body);
	snprintf(body, sizeof body,
	         "{\"type\":\"case.transfer\",\"id\":\"tr-%d-a\",\"case_id\":%lld,\"department\":\"roads\"}\n"
	         "{\"type\":\"case.transfer\",\"id\":\"tr-%d-b\",\"case_id\":%lld,\"department\":\"water\"}\n",
	         n, (long long)case_id, n, (long long)case_id);
	r = post_events(body);
	cr_assert_eq(r->status, 200, "%s", r->body);
	return hl_sql_int(d, "SELECT id FROM hotline.alerts WHERE kind = 'transfer_loop' AND case_id = %lld",
	                  (long long)case_id);
}

#endif
