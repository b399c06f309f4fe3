/*
 * ql_legs.c - a queue as a member of another queue, in the queue_log (pure;
 * for queue_log.c).
 *
 * FreePBX lets a queue be a static member of another: Local/601@from-queue/n
 * in queue 600.  Each ring of that member is a Local channel that enters
 * queue 601 with a uniqueid of its own and the caller's number: a ring, not
 * a call.  Sent as a call it was a second case for the caller, an abandon
 * and a callback owed per ring that timed out, and the call's agent was
 * Local/601@from-queue/n.  AMI links the ring by its Linkedid (ami_map.c);
 * the queue_log records carry neither channel nor linked id.  Two things
 * together tell a ring here:
 *
 *   - the outer queue is known to have the inner one as a member: a record
 *     of queue 600 whose agent is Local/601@... (RINGNOANSWER, CONNECT,
 *     COMPLETE*) has been read before (learned as the log goes on, and
 *     saved with a --follow position);
 *   - a call with the same (normalized, not withheld) number is waiting,
 *     unanswered, in that outer queue.
 *
 * Either alone is not enough: one number on two lines (a caller ringing
 * twice, an attended transfer whose CONNECT Asterisk did not log, which
 * leaves the first call looking unanswered) would make a call a ring; and
 * without the number, every call entering 601 directly would be one.  The
 * price: the rings of a queue pair not yet seen (the first ring of the
 * first call of a run) are calls.  A ring's CONNECT names the member who
 * answered, the agent of the outer call's CONNECT and end.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pbx.h"
#include "ql_rec.h"

void pbx_ql_add_member(struct ql_members *t, const char *outer, const char *inner)
{
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->m[i].outer, outer) == 0 && strcmp(t->m[i].inner, inner) == 0)
			return;
	int i = t->n < QL_MEMBERS_MAX ? t->n++ : QL_MEMBERS_MAX - 1; /* full: the last one is replaced */
	snprintf(t->m[i].outer, sizeof t->m[i].outer, "%s", outer);
	snprintf(t->m[i].inner, sizeof t->m[i].inner, "%s", inner);
}

void pbx_ql_learn_member(struct ql_members *t, const char *queue, const char *agent)
{
	if (!queue || !agent || strncasecmp(agent, "Local/", 6) != 0 || !*queue || strlen(queue) > PBX_NAME_MAX)
		return;
	const char *in = agent + 6;
	size_t n = strcspn(in, "@/");
	char inner[PBX_NAME_MAX + 1];
	if (n == 0 || n > PBX_NAME_MAX || strcmp(queue, "NONE") == 0)
		return;
	memcpy(inner, in, n);
	inner[n] = '\0';
	for (const unsigned char *q = (const unsigned char *)queue; *q; q++)
		if (*q < 0x20 || *q == 0x7f) /* not a name the state file can hold */
			return;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)inner[i] < 0x20 || inner[i] == 0x7f)
			return;
	if (strcmp(inner, queue) != 0)
		pbx_ql_add_member(t, queue, inner);
}

static bool member(const struct ql_members *t, const char *outer, const char *inner)
{
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->m[i].outer, outer) == 0 && strcmp(t->m[i].inner, inner) == 0)
			return true;
	return false;
}

struct outer_find {
	const struct ql_members *t;
	const char *uid, *queue, *number;
	struct pbx_call *found;
};

static void find_outer(void *arg, struct pbx_call *c)
{
	struct outer_find *f = arg;
	if (!f->found && !c->leg && !c->connected && !c->ended && !c->anonymous && strcmp(c->number, f->number) == 0 &&
	    strcmp(c->uid, f->uid) != 0 && member(f->t, c->queue, f->queue))
		f->found = c;
}

struct pbx_call *pbx_ql_outer(struct pbx_calls *calls, const struct ql_members *t, const char *uid, const char *queue,
                              const char *number)
{
	if (!*number || t->n == 0)
		return NULL;
	struct outer_find f = { t, uid, queue, number, NULL };
	pbx_calls_each(calls, find_outer, &f);
	return f.found;
}

void pbx_ql_leg_record(struct pbx_calls *calls, struct pbx_call *leg, bool connect, const char *agent)
{
	struct pbx_call *outer = pbx_calls_get(calls, leg->linkedid);
	if (connect && outer && !outer->connected && strcmp(agent, "NONE") != 0) {
		snprintf(outer->agent, sizeof outer->agent, "%s", agent);
		outer->leg_agent = true;
	}
	if (!connect)
		pbx_calls_del(calls, leg->uid);
}
