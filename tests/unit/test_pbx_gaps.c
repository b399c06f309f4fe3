/*
 * test_pbx_gaps.c - what the bridge's pure core does when a source says
 * less than usual (review 3):
 *
 *   - AMI events without a Timestamp header (manager.conf without
 *     timestampevents = yes, the default): dated on receipt;
 *   - calls the bridge forgets (no news for 12 h: their end never came)
 *     get a clear end in hotlined, call.ended outcome "pbx_lost", with the
 *     id of the end they would have had (queue_log and AMI alike);
 *   - an AMI reconnect: the QueueStatus asked after the login offers the
 *     calls that joined while the link was down, never doubles an offer,
 *     and the calls known to wait that are no longer in a queue get the
 *     same clear end, not an invented abandon;
 *   - a queue that is a member of another queue in the queue_log (the
 *     inner queue's ENTERQUEUE is a Local channel with a uniqueid of its
 *     own: the caller's number links it), and Asterisk 1.4-era records.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx_fixtures.h"

static struct pbx_ql *ql;
static struct pbx_amimap *am;

static void setup(void)
{
	struct pbx_opts o = opts();
	ql = pbx_ql_new(&o);
	am = pbx_amimap_new(&o);
	n_got = 0;
}

static void teardown(void)
{
	pbx_ql_free(ql);
	pbx_amimap_free(am);
}

TestSuite(gaps, .init = setup, .fini = teardown);

static enum pbx_line_result line(const char *l)
{
	return pbx_ql_line(ql, l, strlen(l), collect, NULL, NULL, 0);
}

static void ami(const char *text, hl_ms now)
{
	struct pbx_ami_msg m;
	cr_assert_eq(pbx_ami_parse(text, strlen(text), &m), 0);
	pbx_amimap_mono(am, now);
	pbx_amimap_event(am, &m, now, collect, NULL);
	pbx_ami_msg_free(&m);
}

static void tick(hl_ms now)
{
	pbx_amimap_mono(am, now);
	pbx_amimap_tick(am, now, collect, NULL);
}

/* manager.conf without timestampevents = yes (Asterisk's default): no
 * Timestamp header; every event, and the abandon inferred from a leave,
 * is dated when the bridge received it, not dropped, not dated 0. */
Test(gaps, ami_events_without_a_timestamp_are_dated_on_receipt)
{
	const hl_ms t = 1700000000000LL;
	ami("Event: QueueCallerJoin\r\nChannel: PJSIP/trunk-1\r\nCallerIDNum: 013800000001\r\n"
	    "Uniqueid: 1700000000.1\r\nQueue: q1\r\nPosition: 1\r\nCount: 1\r\n", t);
	ami("Event: QueueCallerJoin\r\nChannel: PJSIP/trunk-2\r\nCallerIDNum: 013800000002\r\n"
	    "Uniqueid: 1700000000.2\r\nQueue: q1\r\nPosition: 2\r\nCount: 2\r\n", t + 1000);
	ami("Event: QueueCallerLeave\r\nUniqueid: 1700000000.1\r\nQueue: q1\r\nCount: 1\r\n", t + 5000);
	ami("Event: AgentConnect\r\nUniqueid: 1700000000.1\r\nQueue: q1\r\nInterface: PJSIP/8001\r\n", t + 5100);
	ami("Event: QueueCallerLeave\r\nUniqueid: 1700000000.2\r\nQueue: q1\r\nCount: 0\r\n", t + 9000);
	tick(t + 12000);
	ami("Event: AgentComplete\r\nUniqueid: 1700000000.1\r\nQueue: q1\r\nInterface: PJSIP/8001\r\n"
	    "Reason: caller\r\nTalkTime: 60\r\n", t + 65100);
	cr_assert_eq(n_got, 5, "%d events", n_got);
	const hl_ms want[] = { t, t + 1000, t + 5100, t + 9000, t + 65100 };
	const enum pbx_kind kinds[] = { PBX_OFFERED, PBX_OFFERED, PBX_ANSWERED, PBX_ABANDONED, PBX_ENDED };
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(got[i].kind, kinds[i], "event %d", i);
		cr_assert_eq(got[i].at, want[i], "event %d dated %lld", i, (long long)got[i].at);
	}
	/* an empty or broken Timestamp is no time either */
	n_got = 0;
	ami("Event: QueueCallerJoin\r\nTimestamp: \r\nCallerIDNum: 013800000003\r\nUniqueid: 1700000000.3\r\n"
	    "Queue: q1\r\n", t + 70000);
	ami("Event: QueueCallerJoin\r\nTimestamp: 0.000000\r\nCallerIDNum: 013800000004\r\nUniqueid: 1700000000.4\r\n"
	    "Queue: q1\r\n", t + 71000);
	cr_assert_eq(n_got, 2);
	cr_assert_eq(got[0].at, t + 70000);
	cr_assert_eq(got[1].at, t + 71000);
}

static int find(const char *id)
{
	for (int i = 0; i < n_got; i++)
		if (strcmp(got[i].id, id) == 0)
			return i;
	return -1;
}

/* A call whose end never came (a line lost in copytruncate's gap, an
 * Asterisk bug) was forgotten by the bridge after 12 h of record time
 * and stayed open in hotlined for ever.  Forgetting it sends call.ended
 * "pbx_lost", dated its last record, with the id its end would have had. */
Test(gaps, a_queue_log_call_the_bridge_forgets_gets_a_lost_end)
{
	const long long t0 = 1700000000, h = 3600;
	char l[200];
	line("1700000000|1700000000.1|q1|NONE|ENTERQUEUE||13800000001|1");            /* waiting, end lost */
	line("1700000000|1700000000.2|q1|NONE|ENTERQUEUE||13800000002|1");
	line("1700000010|1700000000.2|q1|SIP/8007|CONNECT|10|1700000001.1|2");         /* talking, end lost */
	for (int i = 1; i <= 14; i++) { /* the log goes on */
		snprintf(l, sizeof l, "%lld|%lld.%d|q1|NONE|ENTERQUEUE||1390000%04d|1", t0 + i * h, t0 + i * h, 10 + i, i);
		line(l);
		snprintf(l, sizeof l, "%lld|%lld.%d|q1|NONE|ABANDON|1|1|30", t0 + i * h + 30, t0 + i * h, 10 + i);
		line(l);
	}
	int w = find("a1:1700000000.1:ended:q1"), k = find("a1:1700000000.2:ended:q1");
	cr_assert_geq(w, 0, "no end for the waiting call the bridge forgot");
	cr_assert_geq(k, 0, "no end for the talking call the bridge forgot");
	cr_assert_eq(got[w].kind, PBX_ENDED);
	cr_assert_str_eq(got[w].outcome, "pbx_lost");
	cr_assert_eq(got[w].at, t0 * 1000, "dated its last record");
	cr_assert(got[w].synthesized);
	cr_assert_str_eq(got[k].outcome, "pbx_lost");
	cr_assert_str_eq(got[k].agent, "SIP/8007");
	cr_assert_eq(got[k].at, (t0 + 10) * 1000);
	cr_assert_eq(pbx_ql_counts(ql)->forgotten, 2);
	cr_assert_eq(pbx_ql_in_progress(ql), 0);
}

/* The same over AMI: a call without news for 12 h (its end was in a span
 * the bridge never received) is forgotten with a lost end. */
Test(gaps, an_ami_call_the_bridge_forgets_gets_a_lost_end)
{
	const hl_ms t = 1700000000000LL, h = 3600LL * 1000;
	ami("Event: QueueCallerJoin\r\nTimestamp: 1700000000.000000\r\nCallerIDNum: 013800000001\r\n"
	    "Uniqueid: 1700000000.1\r\nQueue: q1\r\n", t);
	ami("Event: QueueCallerJoin\r\nTimestamp: 1700000001.000000\r\nCallerIDNum: 013800000002\r\n"
	    "Uniqueid: 1700000000.2\r\nQueue: q1\r\n", t + 1000);
	ami("Event: AgentConnect\r\nTimestamp: 1700000005.000000\r\nUniqueid: 1700000000.2\r\nQueue: q1\r\n"
	    "Interface: PJSIP/8001\r\n", t + 5000);
	tick(t + 13 * h);
	cr_assert_eq(n_got, 5, "%d events", n_got);
	int w = find("a1:1700000000.1:ended:q1"), k = find("a1:1700000000.2:ended:q1");
	cr_assert_geq(w, 0);
	cr_assert_geq(k, 0);
	cr_assert_str_eq(got[w].outcome, "pbx_lost");
	cr_assert_eq(got[w].at, t, "dated its last news");
	cr_assert_str_eq(got[k].outcome, "pbx_lost");
	cr_assert_str_eq(got[k].agent, "PJSIP/8001");
	cr_assert_eq(got[k].at, t + 5000);
	cr_assert_eq(pbx_amimap_counts(am)->forgotten, 2);
}

/* After a reconnect the bridge asks QueueStatus: a call that joined while
 * the link was down and still waits is offered (dated by its Wait); one it
 * knew is not offered again; one it knew to wait that no longer is in a
 * queue left it meanwhile, answered or not: a lost end, no abandon, also
 * for a call whose leave came just before the link dropped. */
Test(gaps, an_ami_reconnect_resyncs_from_queue_status)
{
	const hl_ms t = 1700000000000LL;
	ami("Event: QueueCallerJoin\r\nCallerIDNum: 013800000001\r\nUniqueid: 1700000000.1\r\nQueue: q1\r\n", t);
	ami("Event: QueueCallerJoin\r\nCallerIDNum: 013800000002\r\nUniqueid: 1700000000.2\r\nQueue: q1\r\n", t);
	ami("Event: QueueCallerJoin\r\nCallerIDNum: 013800000003\r\nUniqueid: 1700000000.3\r\nQueue: q1\r\n", t);
	ami("Event: AgentConnect\r\nUniqueid: 1700000000.3\r\nQueue: q1\r\nInterface: PJSIP/8001\r\n", t + 1000);
	ami("Event: QueueCallerJoin\r\nCallerIDNum: 013800000004\r\nUniqueid: 1700000000.4\r\nQueue: q1\r\n", t);
	ami("Event: QueueCallerLeave\r\nUniqueid: 1700000000.4\r\nQueue: q1\r\n", t + 2000);
	cr_assert_eq(n_got, 5);
	pbx_amimap_link(am, false);   /* the connection dropped */
	tick(t + 30000);               /* no abandon inferred while we cannot hear the AgentConnect */
	cr_assert_eq(n_got, 5, "an abandon invented while the link was down: %s", got[n_got - 1].id);
	pbx_amimap_link(am, true);    /* logged in again: QueueStatus asked */
	n_got = 0;
	ami("Event: QueueParams\r\nActionID: hotline-pbx-resync\r\nQueue: q1\r\nCalls: 2\r\n", t + 60000);
	ami("Event: QueueEntry\r\nActionID: hotline-pbx-resync\r\nQueue: q1\r\nPosition: 1\r\n"
	    "Channel: PJSIP/trunk-1\r\nUniqueid: 1700000000.1\r\nCallerIDNum: 013800000001\r\nWait: 60\r\n", t + 60000);
	ami("Event: QueueEntry\r\nActionID: hotline-pbx-resync\r\nQueue: q1\r\nPosition: 2\r\n"
	    "Channel: PJSIP/trunk-5\r\nUniqueid: 1700000040.5\r\nCallerIDNum: 013800000005\r\nWait: 20\r\n", t + 60000);
	ami("Event: QueueStatusComplete\r\nActionID: hotline-pbx-resync\r\nEventList: Complete\r\n", t + 60000);
	cr_assert_eq(n_got, 3, "%d events", n_got);
	int o = find("a1:1700000040.5:offered:q1");
	cr_assert_geq(o, 0, "the call that joined during the gap is not offered");
	cr_assert_str_eq(got[o].caller, "+8613800000005");
	cr_assert_eq(got[o].at, t + 40000, "dated by its Wait");
	cr_assert_lt(find("a1:1700000000.1:offered:q1"), 0, "an offer doubled");
	int l2 = find("a1:1700000000.2:ended:q1"), l4 = find("a1:1700000000.4:ended:q1");
	cr_assert_geq(l2, 0, "the call gone from the queue kept waiting");
	cr_assert_geq(l4, 0, "the call whose leave came before the gap kept waiting");
	cr_assert_str_eq(got[l2].outcome, "pbx_lost");
	cr_assert_str_eq(got[l4].outcome, "pbx_lost");
	for (int i = 0; i < n_got; i++)
		cr_assert_neq(got[i].kind, PBX_ABANDONED, "an invented abandon: %s", got[i].id);
	/* the talking call goes on; its end comes as ever */
	ami("Event: AgentComplete\r\nUniqueid: 1700000000.3\r\nQueue: q1\r\nInterface: PJSIP/8001\r\n"
	    "Reason: caller\r\n", t + 90000);
	cr_assert_eq(got[n_got - 1].kind, PBX_ENDED);
	cr_assert_str_eq(got[n_got - 1].outcome, "completed");
	/* a call whose leave comes after the resync is followed as ever */
	ami("Event: QueueCallerLeave\r\nUniqueid: 1700000040.5\r\nQueue: q1\r\n", t + 91000);
	tick(t + 94000);
	cr_assert_eq(got[n_got - 1].kind, PBX_ABANDONED);
}

/* Asterisk 1.4's QueueEntry has no Uniqueid: the callers it lists cannot
 * be matched, so none we knew is told gone (no lost end), and the calls
 * are followed as before the resync. */
Test(gaps, a_resync_without_uniqueids_tells_nothing_gone)
{
	const hl_ms t = 1700000000000LL;
	ami("Event: Join\r\nCallerIDNum: 013800000001\r\nUniqueid: 1700000000.1\r\nQueue: q1\r\n", t);
	pbx_amimap_link(am, false);
	pbx_amimap_link(am, true);
	ami("Event: QueueEntry\r\nActionID: hotline-pbx-resync\r\nQueue: q1\r\nPosition: 1\r\n"
	    "Channel: SIP/trunk-1\r\nCallerID: 013800000001\r\nWait: 60\r\n", t + 60000);
	ami("Event: QueueStatusComplete\r\nActionID: hotline-pbx-resync\r\n", t + 60000);
	cr_assert_eq(n_got, 1, "%s", got[n_got - 1].id);
	ami("Event: Leave\r\nUniqueid: 1700000000.1\r\nQueue: q1\r\n", t + 61000);
	tick(t + 64000);
	cr_assert_eq(n_got, 2);
	cr_assert_eq(got[1].kind, PBX_ABANDONED);
}

/* A queue as a member of a queue in the queue_log (FreePBX: queue 601 a
 * static member Local/601@from-queue/n of 600).  Each ring of that member
 * is a Local channel entering 601 with a uniqueid of its own and the
 * caller's number; nothing in the record links it to the caller's
 * channel but that number.  Such a leg was offered as a call of its own
 * (a second case for the caller), its ring timing out was an abandon (a
 * callback owed while the caller waited on), and the call's agent was
 * Local/601@from-queue/n. */
Test(gaps, queue_log_queue_in_queue_legs_are_not_calls)
{
	const char *const lines[] = {
		/* an earlier call: 600 rang its member Local/601@ (its ring in 601 is
		 * the first of the run: nothing links it yet, it is taken for a call) */
		"1699999900|1699999900.41|600|NONE|ENTERQUEUE||013800000041|1",
		"1699999915|1699999900.41|600|Local/601@from-queue/n|RINGNOANSWER|15000",
		"1699999920|1699999900.41|600|NONE|ABANDON|1|1|20",
		"1700000000|1700000000.51|600|NONE|ENTERQUEUE||013800000051|1",
		"1700000001|1700000001.53|601|NONE|ENTERQUEUE||013800000051|1",
		"1700000016|1700000001.53|601|NONE|ABANDON|1|1|15",
		"1700000016|1700000000.51|600|Local/601@from-queue/n|RINGNOANSWER|15000",
		"1700000021|1700000021.55|601|NONE|ENTERQUEUE||013800000051|1",
		"1700000025|1700000021.55|601|PJSIP/8001|CONNECT|4|1700000025.56|4",
		"1700000025|1700000000.51|600|Local/601@from-queue/n|CONNECT|25|1700000021.54|4",
		"1700000085|1700000000.51|600|Local/601@from-queue/n|COMPLETECALLER|25|60|1",
		"1700000085|1700000021.55|601|PJSIP/8001|COMPLETEAGENT|4|60|1",
		NULL,
	};
	for (int i = 0; i < 3; i++)
		line(lines[i]);
	n_got = 0;
	for (int i = 3; lines[i]; i++)
		line(lines[i]);
	cr_assert_eq(n_got, 3, "%d events (%s)", n_got, n_got > 1 ? got[1].id : "");
	cr_assert_str_eq(got[0].id, "a1:1700000000.51:offered:600");
	cr_assert_str_eq(got[1].id, "a1:1700000000.51:answered:600");
	cr_assert_str_eq(got[1].agent, "PJSIP/8001");
	cr_assert_str_eq(got[2].id, "a1:1700000000.51:ended:600");
	cr_assert_str_eq(got[2].agent, "PJSIP/8001");
	/* a caller reaching 601 directly is a call */
	line("1700000100|1700000100.61|601|NONE|ENTERQUEUE||013800000061|1");
	cr_assert_eq(n_got, 4);
	cr_assert_eq(got[3].kind, PBX_OFFERED);
	/* two withheld callers are not one another's legs */
	line("1700000200|1700000200.71|600|NONE|ENTERQUEUE||anonymous|1");
	line("1700000201|1700000201.72|601|NONE|ENTERQUEUE||anonymous|1");
	cr_assert_eq(n_got, 6);
	/* a caller on two lines, in two queues of which neither is a member
	 * of the other (or whose first call's CONNECT Asterisk did not log),
	 * is two calls */
	line("1700000300|1700000300.81|600|NONE|ENTERQUEUE||013800000081|1");
	line("1700000301|1700000301.82|complaints|NONE|ENTERQUEUE||013800000081|1");
	cr_assert_eq(n_got, 8);
	cr_assert_eq(got[7].kind, PBX_OFFERED);
	/* what is learned goes with a --follow position */
	char *st = pbx_ql_state(ql);
	cr_assert(strstr(st, "q\t600\t601\n"), "%s", st);
	struct pbx_opts o = opts();
	struct pbx_ql *again = pbx_ql_new(&o);
	cr_assert(pbx_ql_restore(again, "q\t600\t601"));
	pbx_ql_free(again);
	free(st);
}

/* Asterisk 1.4's records: ENTERQUEUE without origposition, CONNECT
 * without ringtime, TRANSFER without origposition; agents "Agent/1001". */
Test(gaps, asterisk_1_4_records)
{
	line("1200000000|1200000000.1|q1|NONE|ENTERQUEUE||013800000001");
	line("1200000010|1200000000.1|q1|Agent/1001|CONNECT|10|1200000005.2");
	line("1200000070|1200000000.1|q1|Agent/1001|TRANSFER|8000|from-internal|10|60");
	line("1200000100|1200000100.3|q1|NONE|ENTERQUEUE||013800000003");
	line("1200000160|1200000100.3|q1|Agent/1001|COMPLETEAGENT|10|50");
	cr_assert_eq(n_got, 6, "%d events", n_got);
	cr_assert_str_eq(got[1].agent, "Agent/1001");
	cr_assert_str_eq(got[2].outcome, "transferred");
	/* the COMPLETEAGENT without CONNECT: answered dated end - calltime */
	cr_assert_eq(got[4].kind, PBX_ANSWERED);
	cr_assert_eq(got[4].at, 1200000110000LL);
}
