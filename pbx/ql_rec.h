/*
 * ql_rec.h - one queue_log record split into fields (ql_split.c), as
 * queue_log.c maps it.  Private to the bridge's queue_log reader.
 */
#ifndef HL_PBX_QL_REC_H
#define HL_PBX_QL_REC_H

#include <stdbool.h>
#include <stddef.h>

#include "pbx.h"

#define MAX_FIELDS 16
#define MAX_LINE 4096

struct rec {
	hl_ms at;
	const char *uid, *queue, *agent, *event;
	const char *data[MAX_FIELDS];
	int n_data;
};

/* Split buf (modified in place) into r; false when the line is not a queue_log record at all. */
bool pbx_ql_split(char *buf, struct rec *r);
/* Where a second record header "EPOCH|UID|" starts inside a cut line; 0 when none.
 * The search starts after the first record's uniqueid field. */
size_t pbx_ql_embedded(const char *s, size_t len);

/* ql_legs.c: a queue as a member of a queue in the queue_log. */
#define QL_MEMBERS_MAX 64
struct ql_members {
	int n;
	struct {
		char outer[PBX_NAME_MAX + 1], inner[PBX_NAME_MAX + 1];
	} m[QL_MEMBERS_MAX];
};
/* A record of queue whose agent is agent: "Local/601@ctx/n" makes 601 a member of queue. */
void pbx_ql_learn_member(struct ql_members *t, const char *queue, const char *agent);
void pbx_ql_add_member(struct ql_members *t, const char *outer, const char *inner);
/* The call an ENTERQUEUE of uid in queue with this number is a ring of; NULL: a call of its own. */
struct pbx_call *pbx_ql_outer(struct pbx_calls *calls, const struct ql_members *t, const char *uid, const char *queue,
                              const char *number);
/* A record of a ring: its CONNECT names the call's agent; any other ends the ring. */
void pbx_ql_leg_record(struct pbx_calls *calls, struct pbx_call *leg, bool connect, const char *agent);

#endif
