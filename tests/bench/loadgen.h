/*
 * loadgen.h - what the two files of the load generator share (tests/bench/
 * loadgen.c: connections, modes, figures; loadgen_workload.c: the events it
 * sends and the types mode's stages).  See loadgen.c for the design.
 */
#ifndef HL_BENCH_LOADGEN_H
#define HL_BENCH_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

enum kind { K_OFFERED, K_ANSWERED, K_ENDED, K_ABANDONED, K_CALLBACK, K_UPDATE, K_PING, K_STATS, K_SUB,
	K_DISPATCH, K_SIGN, K_REPLY };

struct opts {
	const char *tcp, *unix_path, *mode, *workload, *nonce;
	int conns, window, pid;
	double duration, warmup, rate, timeout, hold;
	long expect;
	long callers;            /* 0: every caller new; N: drawn from N numbers */
	bool zipf;               /* callers drawn Zipf-like rather than uniformly */
	long rounds;             /* types: rounds in all (split over the connections) */
	const char *between;     /* types: shell command run before each stage and at the end */
};

struct inflight {
	uint64_t t_us;   /* send time (closed loop) or scheduled time (open loop) */
	uint64_t round;
	uint8_t kind;
};

struct ready {
	uint64_t round;
	int64_t case_id;
	uint8_t kind;
};

struct lconn {
	struct gen *g;
	struct bufferevent *bev;
	int idx;
	bool up, dead;
	struct inflight *fl;
	size_t fl_head, fl_n, fl_cap;
	struct ready *rq;
	size_t rq_head, rq_n, rq_cap;
	uint64_t *bl;            /* open loop: scheduled times not yet sent */
	size_t bl_head, bl_n, bl_cap;
	uint64_t rounds;
	int64_t *case_x, *case_y;  /* types: the case of each round's offered / abandoned call */
};

struct gen {
	struct opts o;
	struct event_base *base;
	struct lconn *c;
	struct event *tick;
	uint64_t t0, t_start, t_end, drain_end;
	uint64_t scheduled;      /* open loop: events put on the timetable so far */
	bool stop_sending;
	int n_up, n_failed;
	/* figures */
	uint64_t *lat;
	size_t n_lat, cap_lat;
	uint64_t acks, errors, sent, dup;
	char first_error[200];
	long pongs;
	int64_t rss_before_kb;
	bool subscribed;
	char *stats_line;
	/* types */
	int stage;               /* index into STAGES, -1 before the first */
	long per_conn;           /* rounds per connection */
	uint64_t stage_t0, stage_acks, stage_errors;
	char *types_json;        /* the stages done so far, as JSON objects */
	size_t types_len;
};

/* loadgen.c */
uint64_t now_us(void);
void *xrealloc(void *p, size_t n);
void pump(struct lconn *c);

/* loadgen_workload.c */
void rq_push(struct lconn *c, uint8_t kind, uint64_t round, int64_t case_id);
struct ready next_event(struct lconn *c);
int format_event(const struct lconn *c, const struct ready *e, char *buf, size_t n);
bool types_stage_done(const struct gen *g);
void types_next_stage(struct gen *g);
bool types_finished(const struct gen *g);

#endif
