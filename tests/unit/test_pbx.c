/*
 * test_pbx.c - hotline-pbx's pure core: caller ids, queue_log lines and AMI
 * messages -> events (pbx/pbx_event.c, pbx/queue_log.c, pbx/ami_map.c).
 * No sockets, no files: each test feeds lines and looks at what was emitted.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx_fixtures.h"

static struct pbx_ql *ql;

static void ql_setup(void)
{
	struct pbx_opts o = opts();
	ql = pbx_ql_new(&o);
	n_got = 0;
}

static void ql_teardown(void)
{
	pbx_ql_free(ql);
}

static enum pbx_line_result feed(const char *line)
{
	char why[128];
	return pbx_ql_line(ql, line, strlen(line), collect, NULL, why, sizeof why);
}

/* ------------------------------------------------------------ callers */

Test(caller, forms_pbxs_write)
{
	struct pbx_opts o = opts();
	char out[HL_PHONE_MAX];
	const char *same[] = { "+8613800000001", "008613800000001", "013800000001", "13800000001",
	                       "8613800000001", "\"Wang Wei\" <013800000001>", "+86 138-0000-0001", NULL };
	for (int i = 0; same[i]; i++) {
		cr_assert_eq(pbx_caller_normalize(&o, same[i], out, sizeof out), 0, "%s", same[i]);
		cr_assert_str_eq(out, "+8613800000001", "%s", same[i]);
	}
	const char *none[] = { "anonymous", "", "Unknown", "<unknown>", "Restricted", "sip:100@x", NULL };
	for (int i = 0; none[i]; i++)
		cr_assert_eq(pbx_caller_normalize(&o, none[i], out, sizeof out), -1, "%s", none[i]);
	/* an internal extension stays as written */
	cr_assert_eq(pbx_caller_normalize(&o, "8001", out, sizeof out), 0);
	cr_assert_str_eq(out, "8001");
	/* a foreign number through the international prefix */
	cr_assert_eq(pbx_caller_normalize(&o, "0044207946000", out, sizeof out), 0);
	cr_assert_str_eq(out, "+44207946000");
}

Test(caller, without_country_code)
{
	struct pbx_opts o;
	pbx_opts_defaults(&o);
	char out[HL_PHONE_MAX];
	cr_assert_eq(pbx_caller_normalize(&o, "013800000001", out, sizeof out), 0);
	cr_assert_str_eq(out, "013800000001");
	cr_assert_eq(pbx_caller_normalize(&o, "008613800000001", out, sizeof out), 0);
	cr_assert_str_eq(out, "+8613800000001");
}

/* ------------------------------------------------------------ queue_log */

TestSuite(ql, .init = ql_setup, .fini = ql_teardown);

Test(ql, answered_call)
{
	cr_assert_eq(feed("1366720340|1366720340.303267|MYQUEUE|NONE|ENTERQUEUE||013800000001|1"), PBX_LINE_MAPPED);
	cr_assert_eq(feed("1366720345|1366720340.303267|MYQUEUE|SIP/8007|RINGNOANSWER|1000"), PBX_LINE_SKIPPED);
	cr_assert_eq(feed("1366720350.250000|1366720340.303267|MYQUEUE|PJSIP/8001|CONNECT|10|1366720348.5|2"),
	             PBX_LINE_MAPPED);
	cr_assert_eq(feed("1366720400|1366720340.303267|MYQUEUE|PJSIP/8001|COMPLETECALLER|10|50|1"), PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 3);
	cr_assert_eq(got[0].kind, PBX_OFFERED);
	cr_assert_str_eq(got[0].id, "a1:1366720340.303267:offered:MYQUEUE");
	cr_assert_str_eq(got[0].call_id, "a1:1366720340.303267");
	cr_assert_str_eq(got[0].caller, "+8613800000001");
	cr_assert_eq(got[0].at, 1366720340000LL);
	cr_assert_eq(got[1].kind, PBX_ANSWERED);
	cr_assert_str_eq(got[1].agent, "PJSIP/8001");
	cr_assert_eq(got[1].at, 1366720350250LL);
	cr_assert_eq(got[2].kind, PBX_ENDED);
	cr_assert_str_eq(got[2].outcome, "completed");
	cr_assert_not(got[2].synthesized);
}

Test(ql, abandons)
{
	const char *kinds[] = { "ABANDON|1|1|6", "EXITWITHTIMEOUT|1|1|60", "EXITEMPTY|1|1|2", "EXITWITHKEY|5|1|1|9" };
	for (int i = 0; i < 4; i++) {
		char l[200];
		snprintf(l, sizeof l, "1700000000|1700000000.%d|q1|NONE|ENTERQUEUE||+8613800000001|1", i);
		feed(l);
		snprintf(l, sizeof l, "1700000010|1700000000.%d|q1|NONE|%s", i, kinds[i]);
		cr_assert_eq(feed(l), PBX_LINE_MAPPED);
	}
	cr_assert_eq(n_got, 8);
	for (int i = 1; i < 8; i += 2)
		cr_assert_eq(got[i].kind, PBX_ABANDONED);
}

Test(ql, attended_transfer_without_connect)
{
	feed("1700000000|1700000000.9|q1|NONE|ENTERQUEUE||13800000001|1");
	cr_assert_eq(feed("1700000300|1700000000.9|q1|Agent/3001|ATTENDEDTRANSFER|BRIDGE|1700000001.1|20|280|1"),
	             PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 3);
	cr_assert_eq(got[1].kind, PBX_ANSWERED);
	cr_assert(got[1].synthesized);
	cr_assert_str_eq(got[1].agent, "Agent/3001");
	cr_assert_eq(got[1].at, 1700000020000LL); /* end - talk time */
	cr_assert_str_eq(got[1].id, "a1:1700000000.9:answered:q1"); /* what the CONNECT would have had */
	cr_assert_eq(got[2].kind, PBX_ENDED);
	cr_assert_str_eq(got[2].outcome, "transferred");
	cr_assert_eq(pbx_ql_counts(ql)->synthesized, 1);
}

/* LINK carries two channel names (app_queue.c log_attended_transfer:
 * "LINK|%s|%s" then holdtime|calltime|origposition), so its call time is
 * the fifth data field, not the fourth (which is the hold time). */
Test(ql, attended_transfer_link_without_connect)
{
	feed("1700000000|1700000000.9|q1|NONE|ENTERQUEUE||13800000001|1");
	cr_assert_eq(feed("1700000300|1700000000.9|q1|Agent/3001|ATTENDEDTRANSFER|LINK|Local/8100@from-internal-0001;1"
	                  "|Local/8100@from-internal-0001;2|20|280|1"),
	             PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 3);
	cr_assert_eq(got[1].kind, PBX_ANSWERED);
	cr_assert(got[1].synthesized);
	cr_assert_eq(got[1].at, 1700000020000LL, "end - talk time (280 s), not end - hold time (20 s): %lld",
	             (long long)got[1].at);
	cr_assert_eq(got[2].kind, PBX_ENDED);
	cr_assert_str_eq(got[2].outcome, "transferred");
}

Test(ql, transfers_after_connect)
{
	feed("1700000000|1700000000.9|q1|NONE|ENTERQUEUE||13800000001|1");
	feed("1700000010|1700000000.9|q1|Local/8004@from-queue/n|CONNECT|10|1700000001.1|2");
	cr_assert_eq(feed("1700000090|1700000000.9|q1|Local/8004@from-queue/n|BLINDTRANSFER|8100|from-internal|10|80|1"),
	             PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 3);
	cr_assert_eq(got[2].kind, PBX_ENDED);
	cr_assert_str_eq(got[2].agent, "Local/8004@from-queue/n");
	cr_assert_str_eq(got[2].outcome, "transferred");
}

Test(ql, restart_ends_calls_in_progress)
{
	feed("1700000000|1700000000.1|q1|NONE|ENTERQUEUE||13800000001|1");
	feed("1700000000|1700000000.2|q1|NONE|ENTERQUEUE||13800000002|1");
	feed("1700000010|1700000000.2|q1|SIP/8007|CONNECT|10|1700000001.1|2");
	n_got = 0;
	cr_assert_eq(feed("1700000500|NONE|NONE|NONE|QUEUESTART|"), PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 2);
	int abandoned = 0, ended = 0;
	for (int i = 0; i < n_got; i++) {
		abandoned += got[i].kind == PBX_ABANDONED && strcmp(got[i].call_id, "a1:1700000000.1") == 0;
		ended += got[i].kind == PBX_ENDED && strcmp(got[i].outcome, "pbx_restart") == 0;
	}
	cr_assert_eq(abandoned, 1);
	cr_assert_eq(ended, 1);
	cr_assert_eq(pbx_ql_counts(ql)->restarts, 1);
	/* a second marker has nothing left to end */
	n_got = 0;
	feed("1700000600|NONE|NONE|NONE|QUEUESTART|");
	cr_assert_eq(n_got, 0);
}

Test(ql, cut_line_merged_with_restart_marker)
{
	feed("1700000000|1700000000.1|q1|NONE|ENTERQUEUE||13800000001|1");
	n_got = 0;
	cr_assert_eq(feed("1700000100|1700000100.7|q1|NONE|ENTERQUEUE||0131700000500|NONE|NONE|NONE|QUEUESTART|"),
	             PBX_LINE_MALFORMED);
	/* the cut ENTERQUEUE is lost, the restart marker after it is read */
	cr_assert_eq(n_got, 1);
	cr_assert_eq(got[0].kind, PBX_ABANDONED);
	cr_assert_eq(pbx_ql_counts(ql)->restarts, 1);
	cr_assert_eq(pbx_ql_counts(ql)->malformed, 1);
	/* a cut in the agent field, the next record glued to it */
	n_got = 0;
	cr_assert_eq(feed("1700000200|1700000000.1|q1|PJS1700000210|1700000210.3|q2|NONE|ENTERQUEUE||13800000009|1"),
	             PBX_LINE_MALFORMED);
	cr_assert_eq(n_got, 1);
	cr_assert_eq(got[0].kind, PBX_OFFERED);
	cr_assert_str_eq(got[0].call_id, "a1:1700000210.3");
}

Test(ql, skipped_unknown_malformed)
{
	cr_assert_eq(feed("1700000000|NONE|NONE|Agent/3001|AGENTLOGIN|Agent/3001"), PBX_LINE_SKIPPED);
	cr_assert_eq(feed("1700000000|NONE|q1|NONE|CONFIGRELOAD"), PBX_LINE_SKIPPED);
	cr_assert_eq(feed("1700000000|NONE|q1|PJSIP/8001|PAUSE|lunch"), PBX_LINE_SKIPPED);
	cr_assert_eq(feed(""), PBX_LINE_SKIPPED);
	cr_assert_eq(feed("1700000000|1.1|q1|NONE|MADEUPEVENT|x"), PBX_LINE_UNKNOWN);
	cr_assert_eq(feed("garbage"), PBX_LINE_MALFORMED);
	cr_assert_eq(feed("1700000000|1.1|q1|NONE|CONN"), PBX_LINE_MALFORMED);
	cr_assert_eq(feed("99|1.1|q1|NONE|ENTERQUEUE||13800000001|1"), PBX_LINE_MALFORMED);       /* before 2000 */
	cr_assert_eq(feed("1700000000|NONE|q1|NONE|ENTERQUEUE||13800000001|1"), PBX_LINE_MALFORMED); /* no uid */
	cr_assert_eq(feed("1700000000|1.1|q1|NONE|ENTERQUEUE"), PBX_LINE_MALFORMED);             /* no caller field */
	cr_assert_eq(feed("1700000000|REALTIME|q1|NONE|ENTERQUEUE||13800000001|1"), PBX_LINE_MALFORMED);
	cr_assert_eq(n_got, 0);
	const struct pbx_counts *c = pbx_ql_counts(ql);
	cr_assert_eq(c->skipped, 4);
	cr_assert_eq(c->unknown, 1);
	cr_assert_eq(c->malformed, 6);
	cr_assert_eq(c->lines, 11);
}

/* An anonymous caller's call is a call: offered as withheld (no caller:
 * hotlined counts it and owes it no call back, docs/rules.md), and its
 * later records are sent as any call's.  Before, nothing of it was sent,
 * and the day's figures missed every withheld call. */
Test(ql, anonymous_callers_are_offered_withheld)
{
	cr_assert_eq(feed("1700000000|1700000000.1|q1|NONE|ENTERQUEUE||anonymous|1"), PBX_LINE_MAPPED);
	cr_assert_eq(feed("1700000009|1700000000.1|q1|NONE|ABANDON|1|1|9"), PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 2);
	cr_assert(got[0].withheld);
	cr_assert_str_eq(got[0].caller, "");
	cr_assert_eq(got[1].kind, PBX_ABANDONED);
	char *j = pbx_event_json(&got[0], false);
	cr_assert(strstr(j, "\"withheld\":true") && !strstr(j, "caller"), "%s", j);
	free(j);
	cr_assert_eq(pbx_ql_counts(ql)->anonymous, 1);
}

Test(ql, queue_filter)
{
	struct pbx_opts o = opts();
	char *qs[] = { "hotline" };
	o.queues = qs;
	o.n_queues = 1;
	struct pbx_ql *m = pbx_ql_new(&o);
	const char *l1 = "1700000000|1.1|sales|NONE|ENTERQUEUE||13800000001|1";
	const char *l2 = "1700000000|1.2|hotline|NONE|ENTERQUEUE||13800000001|1";
	cr_assert_eq(pbx_ql_line(m, l1, strlen(l1), collect, NULL, NULL, 0), PBX_LINE_SKIPPED);
	cr_assert_eq(pbx_ql_line(m, l2, strlen(l2), collect, NULL, NULL, 0), PBX_LINE_MAPPED);
	cr_assert_eq(pbx_ql_counts(m)->other_queue, 1);
	pbx_ql_free(m);
}

Test(ql, ids_stay_within_128)
{
	char l[600];
	char q[300];
	memset(q, 'Q', sizeof q - 1);
	q[sizeof q - 1] = '\0';
	snprintf(l, sizeof l, "1700000000|1700000000.123456789012|%.*s|NONE|ENTERQUEUE||13800000001|1", 128, q);
	cr_assert_eq(feed(l), PBX_LINE_MAPPED);
	cr_assert_leq(strlen(got[0].id), HL_ID_MAX);
	cr_assert(strstr(got[0].id, ":offered:#"));
}

Test(ql, json_line)
{
	struct pbx_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = PBX_ENDED;
	ev.at = 1700000000123LL;
	snprintf(ev.queue, sizeof ev.queue, "q\"1\\");
	snprintf(ev.agent, sizeof ev.agent, "PJSIP/8001");
	snprintf(ev.outcome, sizeof ev.outcome, "transferred");
	struct pbx_opts o = opts();
	pbx_event_ids(&o, &ev, "1700000000.1");
	char *j = pbx_event_json(&ev, true);
	cr_assert_str_eq(j, "{\"type\":\"call.ended\",\"id\":\"a1:1700000000.1:ended:q\\\"1\\\\\","
	                    "\"call_id\":\"a1:1700000000.1\",\"at\":\"2023-11-14T22:13:20.123Z\","
	                    "\"queue\":\"q\\\"1\\\\\",\"agent\":\"PJSIP/8001\",\"outcome\":\"transferred\","
	                    "\"backfill\":true}\n");
	free(j);
}

Test(ql, json_is_always_utf8)
{
	struct pbx_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = PBX_OFFERED;
	snprintf(ev.caller, sizeof ev.caller, "+8613800000001");
	snprintf(ev.queue, sizeof ev.queue, "caf\xe9-\xe7\x83\xad\xe7\xba\xbf\x01"); /* Latin-1 e, UTF-8 "hot line", ^A */
	snprintf(ev.id, sizeof ev.id, "x");
	snprintf(ev.call_id, sizeof ev.call_id, "c");
	char *j = pbx_event_json(&ev, false);
	cr_assert(strstr(j, "\"queue\":\"caf?-\xe7\x83\xad\xe7\xba\xbf\\u0001\""), "%s", j);
	free(j);
}

/* ------------------------------------------------------------------ AMI */

static struct pbx_amimap *am;

static void ami_setup(void)
{
	struct pbx_opts o = opts();
	am = pbx_amimap_new(&o);
	n_got = 0;
}

static void ami_teardown(void)
{
	pbx_amimap_free(am);
}

static void ami(const char *text, hl_ms now)
{
	struct pbx_ami_msg m;
	cr_assert_eq(pbx_ami_parse(text, strlen(text), &m), 0);
	pbx_amimap_event(am, &m, now, collect, NULL);
	pbx_ami_msg_free(&m);
}

TestSuite(ami, .init = ami_setup, .fini = ami_teardown);

Test(ami, parse)
{
	struct pbx_ami_msg m;
	const char *t = "Event: AgentConnect\r\nQueue: q1\r\nCallerIDName: Wang: Wei\r\nEmpty:\r\n";
	cr_assert_eq(pbx_ami_parse(t, strlen(t), &m), 0);
	cr_assert_str_eq(pbx_ami_get(&m, "event"), "AgentConnect");
	cr_assert_str_eq(pbx_ami_get(&m, "CallerIDName"), "Wang: Wei");
	cr_assert_str_eq(pbx_ami_get(&m, "Empty"), "");
	cr_assert_null(pbx_ami_get(&m, "Missing"));
	pbx_ami_msg_free(&m);
}

Test(ami, answered_and_completed)
{
	ami("Event: QueueCallerJoin\nUniqueid: 17.1\nQueue: q1\nCallerIDNum: 013800000001\nTimestamp: 1700000000.500000\n", 5);
	ami("Event: QueueCallerLeave\nUniqueid: 17.1\nQueue: q1\n", 1700000009000LL);
	ami("Event: AgentConnect\nUniqueid: 17.1\nQueue: q1\nInterface: PJSIP/8001\nMemberName: Li\n", 1700000010000LL);
	pbx_amimap_tick(am, 1700000100000LL, collect, NULL); /* connected: the leave was not an abandon */
	ami("Event: AgentComplete\nUniqueid: 17.1\nQueue: q1\nInterface: PJSIP/8001\nReason: agent\n", 1700000090000LL);
	cr_assert_eq(n_got, 3);
	cr_assert_eq(got[0].kind, PBX_OFFERED);
	cr_assert_eq(got[0].at, 1700000000500LL);
	cr_assert_str_eq(got[0].id, "a1:17.1:offered:q1"); /* the same id as from the queue_log */
	cr_assert_eq(got[1].kind, PBX_ANSWERED);
	cr_assert_str_eq(got[1].agent, "PJSIP/8001");
	cr_assert_eq(got[2].kind, PBX_ENDED);
	cr_assert_str_eq(got[2].outcome, "completed");
}

Test(ami, leave_without_connect_is_abandoned_after_grace)
{
	ami("Event: QueueCallerJoin\nUniqueid: 17.2\nQueue: q1\nCallerIDNum: 13800000002\n", 1000000);
	ami("Event: QueueCallerLeave\nUniqueid: 17.2\nQueue: q1\n", 1700000000000LL);
	pbx_amimap_tick(am, 1700000001000LL, collect, NULL);
	cr_assert_eq(n_got, 1);
	pbx_amimap_tick(am, 1700000002500LL, collect, NULL);
	cr_assert_eq(n_got, 2);
	cr_assert_eq(got[1].kind, PBX_ABANDONED);
	cr_assert_eq(got[1].at, 1700000000000LL);
	pbx_amimap_tick(am, 1700000009000LL, collect, NULL);
	cr_assert_eq(n_got, 2);
}

Test(ami, abandon_then_leave_once)
{
	ami("Event: QueueCallerJoin\nUniqueid: 17.3\nQueue: q1\nCallerIDNum: 13800000003\n", 1000);
	ami("Event: QueueCallerAbandon\nUniqueid: 17.3\nQueue: q1\nHoldTime: 9\n", 2000);
	ami("Event: QueueCallerLeave\nUniqueid: 17.3\nQueue: q1\n", 2000);
	pbx_amimap_tick(am, 100000, collect, NULL);
	cr_assert_eq(n_got, 2);
	cr_assert_eq(got[1].kind, PBX_ABANDONED);
}

Test(ami, transfers)
{
	ami("Event: QueueCallerJoin\nUniqueid: 17.4\nQueue: q1\nCallerIDNum: 13800000004\n", 1000);
	ami("Event: AgentConnect\nUniqueid: 17.4\nQueue: q1\nInterface: Agent/3001\n", 2000);
	ami("Event: BlindTransfer\nResult: Success\nTransfererChannel: Agent/3001\nTransfereeUniqueid: 17.4\n", 3000);
	ami("Event: AgentComplete\nUniqueid: 17.4\nQueue: q1\nInterface: Agent/3001\nReason: transfer\n", 3000);
	cr_assert_eq(n_got, 3);
	cr_assert_eq(got[2].kind, PBX_ENDED);
	cr_assert_str_eq(got[2].outcome, "transferred");
	/* attended, AgentConnect missing: answered is synthesized */
	ami("Event: QueueCallerJoin\nUniqueid: 17.5\nQueue: q1\nCallerIDNum: 13800000005\n", 1000);
	ami("Event: AttendedTransfer\nResult: Success\nOrigTransfererChannel: PJSIP/8002-1\nTransfereeUniqueid: 17.5\n",
	    4000);
	cr_assert_eq(n_got, 6);
	cr_assert_eq(got[4].kind, PBX_ANSWERED);
	cr_assert(got[4].synthesized);
	cr_assert_str_eq(got[4].agent, "PJSIP/8002-1");
	cr_assert_eq(got[5].kind, PBX_ENDED);
	/* failed transfers and calls we never saw join are not ours */
	ami("Event: BlindTransfer\nResult: Fail\nTransfereeUniqueid: 17.9\n", 5000);
	ami("Event: AgentConnect\nUniqueid: 99.9\nQueue: q1\nInterface: Agent/3001\n", 5000);
	cr_assert_eq(n_got, 6);
}

Test(ami, calls_without_news_are_forgotten)
{
	hl_ms t0 = 1700000000000LL;
	ami("Event: QueueCallerJoin\nUniqueid: 17.6\nQueue: q1\nCallerIDNum: 13800000006\n", t0);
	ami("Event: AgentConnect\nUniqueid: 17.6\nQueue: q1\nInterface: Agent/3001\n", t0 + 1000);
	pbx_amimap_tick(am, t0 + 13LL * 3600 * 1000, collect, NULL);
	cr_assert_eq(n_got, 3); /* its clear end (review 3; before, nothing, and it stayed open in hotlined) ... */
	cr_assert_str_eq(got[2].outcome, PBX_LOST_OUTCOME);
	cr_assert_eq(got[2].at, t0 + 1000, "dated its last news");
	ami("Event: AgentComplete\nUniqueid: 17.6\nQueue: q1\nReason: agent\n", t0 + 13LL * 3600 * 1000);
	cr_assert_eq(n_got, 3); /* ... and it is no longer known */
}

Test(ami, responses_and_other_events_are_ignored)
{
	ami("Response: Success\nActionID: x\n", 1);
	ami("Event: FullyBooted\nStatus: Fully Booted\n", 1);
	ami("Event: AgentCalled\nUniqueid: 1.1\nQueue: q1\n", 1);
	cr_assert_eq(n_got, 0);
}

/* timestampevents=yes: every event is dated by its Timestamp, the leave too,
 * even when it arrives late (a backlog after a reconnect); the grace before a
 * leave counts as an abandon is still measured on our clock, so a backlog
 * whose AgentConnect is a few reads behind is not taken for an abandon. */
Test(ami, every_event_is_dated_by_its_timestamp)
{
	hl_ms late = 1700000600000LL; /* received ten minutes after the facts */
	ami("Event: QueueCallerJoin\nTimestamp: 1700000000.250000\nUniqueid: 18.1\nQueue: q1\nCallerIDNum: 13800000011\n",
	    late);
	ami("Event: QueueCallerLeave\nTimestamp: 1700000030.125000\nUniqueid: 18.1\nQueue: q1\n", late);
	pbx_amimap_tick(am, late + 1000, collect, NULL);
	cr_assert_eq(n_got, 1, "grace counts from receipt, not from the Timestamp");
	pbx_amimap_tick(am, late + 2500, collect, NULL);
	cr_assert_eq(n_got, 2);
	cr_assert_eq(got[0].at, 1700000000250LL);
	cr_assert_eq(got[1].kind, PBX_ABANDONED);
	cr_assert_eq(got[1].at, 1700000030125LL, "abandon dated %lld", (long long)got[1].at);

	ami("Event: QueueCallerJoin\nTimestamp: 1700000100.000000\nUniqueid: 18.2\nQueue: q1\nCallerIDNum: 13800000012\n",
	    late);
	ami("Event: AgentConnect\nTimestamp: 1700000105.500000\nUniqueid: 18.2\nQueue: q1\nInterface: PJSIP/8001\n", late);
	ami("Event: BlindTransfer\nTimestamp: 1700000200.000000\nResult: Success\nTransfererChannel: PJSIP/8001-1\n"
	    "TransfereeUniqueid: 18.2\n", late);
	ami("Event: QueueCallerJoin\nTimestamp: 1700000300.000000\nUniqueid: 18.3\nQueue: q1\nCallerIDNum: 13800000013\n",
	    late);
	ami("Event: QueueCallerAbandon\nTimestamp: 1700000301.000000\nUniqueid: 18.3\nQueue: q1\n", late);
	ami("Event: QueueCallerJoin\nTimestamp: 1700000400.000000\nUniqueid: 18.4\nQueue: q1\nCallerIDNum: 13800000014\n",
	    late);
	ami("Event: AgentComplete\nTimestamp: 1700000460.000000\nUniqueid: 18.4\nQueue: q1\nInterface: PJSIP/8001\n"
	    "Reason: caller\n", late);
	cr_assert_eq(n_got, 10);
	hl_ms want[] = { 1700000100000LL, 1700000105500LL, 1700000200000LL, 1700000300000LL,
	                 1700000301000LL, 1700000400000LL, 1700000460000LL, 1700000460000LL };
	for (int i = 0; i < 8; i++)
		cr_assert_eq(got[2 + i].at, want[i], "event %d dated %lld", 2 + i, (long long)got[2 + i].at);
	/* without a Timestamp (or with a bad one), the time of receipt */
	ami("Event: QueueCallerJoin\nUniqueid: 18.5\nQueue: q1\nCallerIDNum: 13800000015\n", late);
	ami("Event: QueueCallerLeave\nTimestamp: soon\nUniqueid: 18.5\nQueue: q1\n", late + 7);
	pbx_amimap_tick(am, late + 7 + 2000, collect, NULL);
	cr_assert_eq(n_got, 12);
	cr_assert_eq(got[10].at, late);
	cr_assert_eq(got[11].at, late + 7);
}

/* app_queue (try_calling) leaves the queue when the member has answered,
 * then runs the member gosub / the Queue() AGI, and only then publishes
 * AgentConnect: a whisper or "press 1 to accept" longer than the grace made
 * the leave look like an abandon, and the AgentConnect and AgentComplete that
 * followed were dropped as calls we never saw, so hotlined kept a callback
 * owed to a caller who was served.  The DialEnd ANSWER published before the
 * leave says a member took the call. */
static const char *const dial_answer = "Event: DialEnd\nUniqueid: 19.1\nChannel: PJSIP/trunk-1\n"
                                       "DestUniqueid: 19.2\nDestChannel: PJSIP/8001-2\nDialStatus: ANSWER\n";

Test(ami, slow_member_gosub_is_not_an_abandon)
{
	hl_ms t = 1700000000000LL;
	ami("Event: QueueCallerJoin\nUniqueid: 19.1\nQueue: q1\nCallerIDNum: 13800000021\n", t);
	ami("Event: AgentCalled\nUniqueid: 19.1\nQueue: q1\nInterface: PJSIP/8001\n", t + 1000);
	ami("Event: DialEnd\nUniqueid: 19.1\nDestUniqueid: 19.3\nDialStatus: CANCEL\n", t + 4000);
	ami(dial_answer, t + 4000);
	ami("Event: QueueCallerLeave\nUniqueid: 19.1\nQueue: q1\nPosition: 1\nCount: 0\n", t + 4000);
	pbx_amimap_tick(am, t + 14000, collect, NULL); /* the gosub is still running */
	ami("Event: AgentConnect\nUniqueid: 19.1\nQueue: q1\nInterface: PJSIP/8001\n", t + 15000);
	ami("Event: AgentComplete\nUniqueid: 19.1\nQueue: q1\nInterface: PJSIP/8001\nReason: caller\n", t + 60000);
	pbx_amimap_tick(am, t + 70000, collect, NULL);
	cr_assert_eq(n_got, 3);
	cr_assert_eq(got[0].kind, PBX_OFFERED);
	cr_assert_eq(got[1].kind, PBX_ANSWERED);
	cr_assert_eq(got[1].at, t + 15000);
	cr_assert_eq(got[2].kind, PBX_ENDED);
}

/* A member answered but its AgentConnect never comes (the gosub failed, the
 * event was lost): the caller is not left without a call back for ever. */
Test(ami, an_answer_that_never_connects_is_an_abandon_after_a_minute)
{
	hl_ms t = 1700000000000LL;
	ami("Event: QueueCallerJoin\nUniqueid: 19.1\nQueue: q1\nCallerIDNum: 13800000021\n", t);
	ami(dial_answer, t + 4000);
	ami("Event: QueueCallerLeave\nUniqueid: 19.1\nQueue: q1\nPosition: 1\nCount: 0\n", t + 4000);
	pbx_amimap_tick(am, t + 63000, collect, NULL);
	cr_assert_eq(n_got, 1, "59 s after the leave: still waiting for the connect");
	pbx_amimap_tick(am, t + 64000, collect, NULL);
	cr_assert_eq(n_got, 2);
	cr_assert_eq(got[1].kind, PBX_ABANDONED);
	cr_assert_eq(got[1].at, t + 4000, "dated by the leave");
}

Test(ami, agent_dump_puts_the_caller_back_in_the_queue)
{
	hl_ms t = 1700000000000LL;
	ami("Event: QueueCallerJoin\nUniqueid: 19.1\nQueue: q1\nCallerIDNum: 13800000021\n", t);
	ami(dial_answer, t + 1000);
	ami("Event: AgentDump\nUniqueid: 19.1\nQueue: q1\nInterface: PJSIP/8001\n", t + 2000);
	ami("Event: QueueCallerLeave\nUniqueid: 19.1\nQueue: q1\n", t + 9000); /* exit key */
	pbx_amimap_tick(am, t + 11000, collect, NULL);
	cr_assert_eq(n_got, 2);
	cr_assert_eq(got[1].kind, PBX_ABANDONED);
	cr_assert_eq(got[1].at, t + 9000);
}

Test(ami, a_dial_after_the_leave_does_not_hide_the_abandon)
{
	hl_ms t = 1700000000000LL;
	ami("Event: QueueCallerJoin\nUniqueid: 19.1\nQueue: q1\nCallerIDNum: 13800000021\n", t);
	ami("Event: QueueCallerLeave\nUniqueid: 19.1\nQueue: q1\n", t + 9000);
	ami(dial_answer, t + 9500); /* the dialplan dials on after an exit key */
	pbx_amimap_tick(am, t + 11000, collect, NULL);
	cr_assert_eq(n_got, 2);
	cr_assert_eq(got[1].kind, PBX_ABANDONED);
	/* ... and whoever it reached there transfers it: not a queue call's end */
	ami("Event: BlindTransfer\nResult: Success\nTransfererChannel: PJSIP/9000-5\nTransfereeUniqueid: 19.1\n",
	    t + 30000);
	cr_assert_eq(n_got, 2);
}

/* Without DialEnd (an AMI account that may not read the call class) the
 * grace still decides; but a connect that comes after it must still reach
 * hotlined, whose call.answered then meets the callback the abandon armed. */
Test(ami, a_connect_after_an_inferred_abandon_is_still_sent)
{
	hl_ms t = 1700000000000LL;
	ami("Event: QueueCallerJoin\nUniqueid: 19.1\nQueue: q1\nCallerIDNum: 13800000021\n", t);
	ami("Event: QueueCallerLeave\nUniqueid: 19.1\nQueue: q1\n", t + 4000);
	pbx_amimap_tick(am, t + 6500, collect, NULL);
	cr_assert_eq(n_got, 2);
	cr_assert_eq(got[1].kind, PBX_ABANDONED);
	ami("Event: AgentConnect\nUniqueid: 19.1\nQueue: q1\nInterface: PJSIP/8001\n", t + 8000);
	ami("Event: AgentComplete\nUniqueid: 19.1\nQueue: q1\nInterface: PJSIP/8001\nReason: agent\n", t + 60000);
	pbx_amimap_tick(am, t + 70000, collect, NULL);
	cr_assert_eq(n_got, 4);
	cr_assert_eq(got[2].kind, PBX_ANSWERED);
	cr_assert_str_eq(got[2].agent, "PJSIP/8001");
	cr_assert_eq(got[3].kind, PBX_ENDED);
}

/* manager.conf channelvars= adds a ChanVariable line per variable to each
 * channel's headers (DestChanVariable for the member's), and the event's own
 * headers (Queue, Interface) come after both channels: a long channelvars
 * list must not push them past the parser's table. */
Test(ami, channel_variables_do_not_crowd_out_the_queue)
{
	hl_ms t = 1700000000000LL;
	ami("Event: QueueCallerJoin\nUniqueid: 20.1\nQueue: q1\nCallerIDNum: 13800000031\n", t);
	char msg[16384];
	size_t n = (size_t)snprintf(msg, sizeof msg, "Event: AgentConnect\r\nPrivilege: agent,all\r\nUniqueid: 20.1\r\n");
	for (int i = 0; i < 80; i++)
		n += (size_t)snprintf(msg + n, sizeof msg - n, "ChanVariable: V%d=x\r\n", i);
	n += (size_t)snprintf(msg + n, sizeof msg - n, "DestUniqueid: 20.2\r\n");
	for (int i = 0; i < 80; i++)
		n += (size_t)snprintf(msg + n, sizeof msg - n, "DestChanVariable: V%d=x\r\n", i);
	snprintf(msg + n, sizeof msg - n, "Queue: q1\r\nMemberName: Li\r\nInterface: PJSIP/8001\r\n");
	ami(msg, t + 5000);
	cr_assert_eq(n_got, 2);
	cr_assert_eq(got[1].kind, PBX_ANSWERED);
	cr_assert_str_eq(got[1].agent, "PJSIP/8001");
}

/* Asterisk crashed and came back: FullyBooted's Uptime gives a later startup,
 * and every call we knew ends as at a QUEUESTART */
Test(ami, restart_seen_from_fully_booted)
{
	const hl_ms t = 1700000000000LL;
	ami("Event: FullyBooted\nPrivilege: system,all\nUptime: 86400\nLastReload: 3600\nStatus: Fully Booted\n", t);
	ami("Event: QueueCallerJoin\nUniqueid: 17.7\nQueue: q1\nCallerIDNum: 13800000007\n", t + 1000);
	ami("Event: QueueCallerJoin\nUniqueid: 17.8\nQueue: q1\nCallerIDNum: 13800000008\n", t + 2000);
	ami("Event: AgentConnect\nUniqueid: 17.8\nQueue: q1\nInterface: PJSIP/8001\n", t + 3000);
	cr_assert_eq(n_got, 3);
	/* a reconnect to the same Asterisk: the same startup, give or take */
	ami("Event: FullyBooted\nUptime: 86410\nStatus: Fully Booted\n", t + 11000);
	cr_assert_eq(n_got, 3);
	cr_assert_eq(pbx_amimap_counts(am)->restarts, 0);
	/* a reconnect after a crash: up for 20 s */
	ami("Event: FullyBooted\nUptime: 20\nStatus: Fully Booted\n", t + 120000);
	cr_assert_eq(n_got, 5);
	cr_assert_eq(pbx_amimap_counts(am)->restarts, 1);
	for (int i = 3; i < 5; i++) {
		cr_assert(got[i].synthesized);
		cr_assert_eq(got[i].at, t + 100000, "dated when Asterisk started again");
		if (got[i].kind == PBX_ABANDONED)
			cr_assert_str_eq(got[i].id, "a1:17.7:abandoned:q1");
		else
			cr_assert_str_eq(got[i].outcome, "pbx_restart");
	}
	cr_assert_neq(got[3].kind, got[4].kind);
	/* the calls are gone: their late events find nothing */
	ami("Event: AgentComplete\nUniqueid: 17.8\nQueue: q1\nInterface: PJSIP/8001\nReason: agent\n", t + 130000);
	cr_assert_eq(n_got, 5);
	/* without Uptime (an old Asterisk) nothing can be told; nor from one no
	 * clock can hold (make fuzz found it overflowing) */
	ami("Event: FullyBooted\nStatus: Fully Booted\n", t + 999000);
	ami("Event: FullyBooted\nUptime: 9223372036854775807\n", t + 999000);
	cr_assert_eq(pbx_amimap_counts(am)->restarts, 1);
}

/* A queue name in GBK (a PBX configured in a legacy encoding) is not UTF-8:
 * its bytes are sent as \xHH, in the queue and the id alike, so the id
 * hotlined receives is ev->id and two such queues stay two. */
Test(ql, queue_names_that_are_not_utf8)
{
	/* "投诉" and "咨询" in GBK; some GBK pairs happen to be valid UTF-8 and stay */
	cr_assert_eq(feed("1700000000|1700000000.1|\xcd\xb6\xcb\xdf|NONE|ENTERQUEUE||13800000001|1"), PBX_LINE_MAPPED);
	cr_assert_eq(feed("1700000001|1700000000.1|\xd7\xc9\xd1\xaf|NONE|ENTERQUEUE||13800000001|1"), PBX_LINE_MAPPED);
	cr_assert_eq(feed("1700000002|1700000000.1|q\xff\xfe|NONE|ENTERQUEUE||13800000001|1"), PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 3);
	cr_assert_str_eq(got[2].queue, "q\\xff\\xfe");
	cr_assert_str_eq(got[2].id, "a1:1700000000.1:offered:q\\xff\\xfe");
	for (int i = 0; i < 3; i++) {
		for (int k = 0; k < i; k++)
			cr_assert_str_neq(got[i].id, got[k].id);
		char *j = pbx_event_json(&got[i], false);
		json_object *o = json_tokener_parse(j), *v;
		cr_assert(o && json_object_object_get_ex(o, "id", &v), "%s", j);
		cr_assert_str_eq(json_object_get_string(v), got[i].id, "the id sent is the id kept");
		json_object_put(o);
		free(j);
	}
	/* UTF-8 is kept as it is */
	cr_assert_eq(feed("1700000003|1700000000.2|投诉|NONE|ENTERQUEUE||13800000002|1"), PBX_LINE_MAPPED);
	cr_assert_str_eq(got[3].id, "a1:1700000000.2:offered:投诉");
}

/* Blanks around the separators (a log exported from a queue_log table, a
 * script's own lines) are not part of the fields */
Test(ql, blanks_around_the_fields)
{
	cr_assert_eq(feed("1266833905 | 1266833905.2 | 9000 | NONE | ENTERQUEUE | | 013800000001 | 1"), PBX_LINE_MAPPED);
	cr_assert_eq(feed("1266833934 | 1266833905.2 | 9000 | NONE | ABANDON | 2 | 2 | 13"), PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 2);
	cr_assert_str_eq(got[0].id, "a1:1266833905.2:offered:9000");
	cr_assert_str_eq(got[0].caller, "+8613800000001");
	cr_assert_str_eq(got[1].id, "a1:1266833905.2:abandoned:9000");
	/* and a byte-order mark before the first line */
	cr_assert_eq(feed("\xef\xbb\xbf" "1266833940|1266833940.3|9000|NONE|ENTERQUEUE||013800000003|1"), PBX_LINE_MAPPED);
}

/* charset = "GB18030": names in the PBX's own encoding are decoded, so the
 * figures by queue and agent read 投诉 and 张伟, not \xHH; a byte it cannot
 * decode is still \xHH, ASCII names are untouched, and `queues` (UTF-8 in
 * the configuration) matches the decoded name */
Test(charset, gbk_names_are_decoded)
{
	struct pbx_opts o = opts();
	snprintf(o.charset, sizeof o.charset, "GB18030");
	char *wanted[] = { "投诉" };
	o.queues = wanted;
	o.n_queues = 1;
	struct pbx_ql *q = pbx_ql_new(&o);
	char why[128];
	n_got = 0;
	/* "投诉" = cd b6 cb df, "张伟" = d5 c5 ce b0, "咨询" = d7 c9 d1 af in GBK */
	const char *lines[] = {
		"1700000000|1700000000.1|\xcd\xb6\xcb\xdf|NONE|ENTERQUEUE||13800000001|1",
		"1700000005|1700000000.1|\xcd\xb6\xcb\xdf|\xd5\xc5\xce\xb0|CONNECT|5|1700000000.9|2",
		"1700000006|1700000000.2|\xd7\xc9\xd1\xaf|NONE|ENTERQUEUE||13800000002|1",
	};
	for (int i = 0; i < 3; i++)
		pbx_ql_line(q, lines[i], strlen(lines[i]), collect, NULL, why, sizeof why);
	cr_assert_eq(n_got, 2, "the other queue (咨询) is not wanted");
	cr_assert_str_eq(got[0].queue, "投诉");
	cr_assert_str_eq(got[0].id, "a1:1700000000.1:offered:投诉");
	cr_assert_str_eq(got[1].agent, "张伟");
	cr_assert_eq(pbx_ql_counts(q)->other_queue, 1);
	pbx_ql_free(q);

	char out[64];
	/* a byte GB18030 cannot decode (0xff) stays visible as \xHH */
	pbx_name_decode(&o, "q\xff", out, sizeof out);
	cr_assert_str_eq(out, "q\\xff");
	pbx_name_decode(&o, "sales", out, sizeof out);
	cr_assert_str_eq(out, "sales");
	/* too small: cut at a character, never inside one */
	pbx_name_decode(&o, "\xcd\xb6\xcb\xdf", out, 5);
	cr_assert_str_eq(out, "投");
	/* without a charset the bytes are as before (test ql.queue_names_that_are_not_utf8) */
	struct pbx_opts plain = opts();
	pbx_name_decode(&plain, "\xcd\xb6", out, sizeof out);
	cr_assert_str_eq(out, "\xcd\xb6");
	cr_assert(pbx_charset_known("GBK") && pbx_charset_known("") && pbx_charset_known("utf-8"));
	cr_assert(!pbx_charset_known("NO-SUCH-CHARSET"));
	pbx_charset_free();
}
