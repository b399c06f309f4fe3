/*
 * ssefan.c - `make bench`: N SSE clients on /v1/alerts/stream, alerts raised while ingest continues.
 *
 *   ssefan PORT VIEW_TOKEN INGEST_TOKEN [CLIENTS=1000] [ALERTS=20]
 *
 * Opens CLIENTS streams (HTTP/1.0, so the bytes are the raw event stream),
 * waits until every one is subscribed, forks a child that POSTs batches of
 * 100 plain events to /v1/events without pause (ingest continues), then
 * raises ALERTS alerts one after another (a case transferred twice with
 * alerts.transfer_limit = 1) and measures, for every client, the time from
 * sending the POST that raises an alert to that alert's `id:` arriving.
 * Prints one line per figure; timings are printed, never asserted.
 * Design: one thread, poll() over every stream; blocking sockets for the
 * POSTs (they return after commit, and the pushes leave right after it).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int port;
static const char *view_tok, *ing_tok;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		fprintf(stderr, "ssefan: connect: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

/* POST a body to /v1/events and read the whole answer (Connection: close). */
static void post(const char *body, char *out, size_t outlen)
{
	int fd = dial();
	char head[512];
	int n = snprintf(head, sizeof head, "POST /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	                 "Authorization: Bearer %s\r\nContent-Length: %zu\r\n\r\n", ing_tok, strlen(body));
	if (write(fd, head, (size_t)n) != n || write(fd, body, strlen(body)) != (ssize_t)strlen(body))
		exit(1);
	size_t got = 0;
	ssize_t r;
	while (got < outlen - 1 && (r = read(fd, out + got, outlen - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	close(fd);
}

static void ingest_forever(void)
{
	char *body = malloc(100 * 160), resp[65536];
	for (long k = 0;; k++) {
		size_t len = 0;
		for (int i = 0; i < 100; i++)
			len += (size_t)sprintf(body + len, "{\"type\":\"call.offered\",\"id\":\"bg-%ld-%d\",\"call_id\":\"bg-%ld-%d\","
			                       "\"caller\":\"+86133%08d\"}\n", k, i, k, i, (int)((k * 100 + i) % 99999999));
		post(body, resp, sizeof resp);
		printf("%ld\n", k); /* (to the pipe: batches done) */
		fflush(stdout);
	}
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: ssefan PORT VIEW_TOKEN INGEST_TOKEN [CLIENTS] [ALERTS]\n");
		return 2;
	}
	port = atoi(argv[1]);
	view_tok = argv[2];
	ing_tok = argv[3];
	int n = argc > 4 ? atoi(argv[4]) : 1000, alerts = argc > 5 ? atoi(argv[5]) : 20;
	signal(SIGPIPE, SIG_IGN);
	struct pollfd *pf = calloc((size_t)n, sizeof *pf);
	char **buf = calloc((size_t)n, sizeof *buf);
	size_t *len = calloc((size_t)n, sizeof *len);
	int64_t *lat = calloc((size_t)n * (size_t)alerts, sizeof *lat);
	for (int i = 0; i < n; i++) {
		pf[i].fd = dial();
		pf[i].events = POLLIN;
		buf[i] = malloc(1 << 16);
		char req[256];
		int l = snprintf(req, sizeof req, "GET /v1/alerts/stream HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n", view_tok);
		if (write(pf[i].fd, req, (size_t)l) != l)
			return 1;
	}
	/* subscribed = the "retry:" line arrived */
	int ready = 0;
	int64_t t_end = now_us() + 30 * 1000000LL;
	while (ready < n && now_us() < t_end) {
		poll(pf, (nfds_t)n, 100);
		for (int i = 0; i < n; i++)
			if (pf[i].revents & POLLIN) {
				ssize_t r = read(pf[i].fd, buf[i] + len[i], (1 << 16) - 1 - len[i]);
				if (r > 0) {
					len[i] += (size_t)r;
					buf[i][len[i]] = '\0';
					if (strstr(buf[i], "retry:")) {
						ready++;
						len[i] = 0;
						pf[i].events = POLLIN;
					}
				}
			}
	}
	printf("sse clients subscribed: %d of %d\n", ready, n);
	sleep(1); /* the replays are read; streams are idle */
	for (int i = 0; i < n; i++)
		len[i] = 0;

	int pipefd[2];
	if (pipe(pipefd) != 0)
		return 1;
	pid_t child = fork();
	if (child == 0) {
		dup2(pipefd[1], 1);
		ingest_forever();
	}
	close(pipefd[1]);
	int64_t t_ingest = now_us();

	char body[1024], resp[4096];
	int missing = 0;
	for (int k = 0; k < alerts; k++) {
		/* a new case, then the two transfers that raise transfer_loop */
		snprintf(body, sizeof body, "{\"type\":\"call.offered\",\"id\":\"fan-%d\",\"call_id\":\"fan-%d\","
		         "\"caller\":\"+86132%08d\"}\n", k, k, k);
		post(body, resp, sizeof resp);
		char *p = strstr(resp, "\"case_id\":");
		long case_id = p ? atol(p + 10) : 0;
		snprintf(body, sizeof body,
		         "{\"type\":\"case.transfer\",\"id\":\"fan-%d-a\",\"case_id\":%ld,\"department\":\"a\"}\n"
		         "{\"type\":\"case.transfer\",\"id\":\"fan-%d-b\",\"case_id\":%ld,\"department\":\"b\"}\n",
		         k, case_id, k, case_id);
		int64_t t0 = now_us();
		post(body, resp, sizeof resp);
		/* every client: until an `id:` line arrives (the alert) or 10 s */
		int seen = 0;
		char *got = calloc((size_t)n, 1);
		while (seen < n && now_us() - t0 < 10 * 1000000LL) {
			poll(pf, (nfds_t)n, 50);
			int64_t t = now_us();
			for (int i = 0; i < n; i++) {
				if (!(pf[i].revents & (POLLIN | POLLHUP)))
					continue;
				ssize_t r = read(pf[i].fd, buf[i] + len[i], (1 << 16) - 1 - len[i]);
				if (r <= 0)
					continue;
				len[i] += (size_t)r;
				buf[i][len[i]] = '\0';
				/* an alert is the only event with an id: line (acks and heartbeats have none) */
				if (!got[i] && strstr(buf[i], "id: ")) {
					got[i] = 1;
					seen++;
					lat[(size_t)k * (size_t)n + (size_t)i] = t - t0;
				}
				if (got[i] || len[i] > 60000)
					len[i] = 0;
			}
		}
		for (int i = 0; i < n; i++)
			if (!got[i]) {
				lat[(size_t)k * (size_t)n + (size_t)i] = INT64_MAX;
				missing++;
			}
		free(got);
	}
	kill(child, SIGTERM);
	double secs = (double)(now_us() - t_ingest) / 1e6;
	char tail[64] = { 0 };
	ssize_t r;
	long batches = 0;
	while ((r = read(pipefd[0], tail, sizeof tail - 1)) > 0)
		for (ssize_t i = 0; i < r; i++)
			batches += tail[i] == '\n';
	waitpid(child, NULL, 0);

	size_t total = (size_t)n * (size_t)alerts, within = 0;
	qsort(lat, total, sizeof *lat, cmp64);
	for (size_t i = 0; i < total; i++)
		within += lat[i] <= 1000000;
	printf("alerts: %d, deliveries: %zu, missing: %d\n", alerts, total, missing);
	printf("delivery latency ms: p50 %.1f, p99 %.1f, max %.1f\n", lat[total / 2] / 1e3,
	       lat[total * 99 / 100] / 1e3, lat[total - 1] == INT64_MAX ? -1.0 : lat[total - 1] / 1e3);
	printf("within 1 s: %.2f %%\n", 100.0 * (double)within / (double)total);
	printf("background ingest: %.0f events/s over HTTP while fanning out\n", (double)batches * 100 / secs);
	return missing ? 1 : 0;
}
