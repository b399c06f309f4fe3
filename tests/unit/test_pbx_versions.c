/*
 * test_pbx_versions.c - what other Asterisk versions and real files give
 * the bridge's pure core, beyond test_pbx.c's Asterisk 12+ records:
 *
 *   - the last line of an import without its newline (a log copied while
 *     Asterisk wrote it, a disk that filled up): an ENTERQUEUE cut inside
 *     its caller id must not offer the call under a shortened number;
 *   - Asterisk 1.8 to 11 (still under Issabel, Elastix, old VICIdial),
 *     whose AMI names the queue join and leave "Join" and "Leave" and the
 *     member's interface "Member";
 *   - a QUEUESTART long after calls whose end the log lost, the state that
 *     carried them, zeros in place of a caller number, and a step of the
 *     bridge's wall clock between two AMI logins;
 *   - (review 2) an anonymous call ended twice, a cut line before a record
 *     whose uniqueid carries asterisk.conf's systemname, calls whose end
 *     never came forgotten as the log goes on (memory bounded), the AMI
 *     leave grace across a step of the bridge's wall clock, and a queue
 *     whose member is another queue (AMI: the Local legs are not calls).
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

TestSuite(versions, .init = setup, .fini = teardown);

static enum pbx_line_result line(const char *l)
{
	return pbx_ql_line(ql, l, strlen(l), collect, NULL, NULL, 0);
}

static enum pbx_line_result last_line(const char *l, char *why, size_t why_len)
{
	return pbx_ql_last_line(ql, l, strlen(l), collect, NULL, why, why_len);
}

/* app_queue writes ENTERQUEUE as url|callerid|origposition: without the
 * position after it, an unterminated last line may have lost the end of
 * the number, and a callback would ring a stranger. */
Test(versions, an_unterminated_last_enterqueue_cut_in_its_caller_id_is_not_offered)
{
	char why[128];
	cr_assert_eq(last_line("1366720340|1366720340.7|q1|NONE|ENTERQUEUE||0138000", why, sizeof why),
	             PBX_LINE_MALFORMED);
	cr_assert_eq(n_got, 0, "a call offered under a cut number");
	cr_assert(strstr(why, "cut"), "%s", why);
	cr_assert_null(strstr(why, "0138000"), "the number is in the reason: %s", why);
	cr_assert_eq(pbx_ql_counts(ql)->malformed, 1);
}

Test(versions, an_unterminated_last_line_that_is_whole_is_read)
{
	cr_assert_eq(last_line("1366720340|1366720340.7|q1|NONE|ENTERQUEUE||013800000001|1", NULL, 0),
	             PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 1);
	cr_assert_str_eq(got[0].caller, "+8613800000001");
	line("1366720340|1366720340.8|q1|NONE|ENTERQUEUE||013800000002|1");
	cr_assert_eq(last_line("1366720399|1366720340.8|q1|NONE|ABANDON|1|1|5", NULL, 0), PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 3);
	/* in the middle of a file, an old Asterisk's two-field ENTERQUEUE stays a record */
	cr_assert_eq(line("1366720340|1366720340.9|q1|NONE|ENTERQUEUE||013800000003"), PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 4);
}

static void ami(const char *text, hl_ms now)
{
	struct pbx_ami_msg m;
	cr_assert_eq(pbx_ami_parse(text, strlen(text), &m), 0);
	pbx_amimap_event(am, &m, now, collect, NULL);
	pbx_ami_msg_free(&m);
}

/* Asterisk 1.8-11 app_queue: manager_event "Join" (Channel, CallerIDNum,
 * CallerIDName, Queue, Position, Count, Uniqueid) and "Leave"; AgentConnect
 * and AgentComplete name the member's interface "Member". */
Test(versions, asterisk_11_ami_join_and_leave)
{
	ami("Event: Join\r\nPrivilege: call,all\r\nChannel: SIP/trunk-00000001\r\nCallerIDNum: 013800000001\r\n"
	    "CallerIDName: unknown\r\nQueue: q1\r\nPosition: 1\r\nCount: 1\r\nUniqueid: 1366720340.1\r\n",
	    1366720340000LL);
	ami("Event: Leave\r\nPrivilege: call,all\r\nChannel: SIP/trunk-00000001\r\nQueue: q1\r\nCount: 0\r\n"
	    "Position: 1\r\nUniqueid: 1366720340.1\r\n", 1366720350000LL);
	ami("Event: AgentConnect\r\nPrivilege: agent,all\r\nQueue: q1\r\nUniqueid: 1366720340.1\r\n"
	    "Channel: SIP/8001-00000002\r\nMember: SIP/8001\r\nMemberName: Li Na\r\nHoldtime: 10\r\n"
	    "BridgedChannel: 1366720345.2\r\nRingtime: 3\r\n", 1366720350500LL);
	ami("Event: AgentComplete\r\nPrivilege: agent,all\r\nQueue: q1\r\nUniqueid: 1366720340.1\r\n"
	    "Channel: SIP/8001-00000002\r\nMember: SIP/8001\r\nMemberName: Li Na\r\nHoldTime: 10\r\n"
	    "TalkTime: 60\r\nReason: caller\r\n", 1366720410000LL);
	cr_assert_eq(n_got, 3, "Asterisk 11's calls are lost");
	cr_assert_eq(got[0].kind, PBX_OFFERED);
	cr_assert_str_eq(got[0].id, "a1:1366720340.1:offered:q1");
	cr_assert_str_eq(got[0].caller, "+8613800000001");
	cr_assert_eq(got[1].kind, PBX_ANSWERED);
	cr_assert_str_eq(got[1].agent, "SIP/8001");
	cr_assert_eq(got[2].kind, PBX_ENDED);
	cr_assert_str_eq(got[2].agent, "SIP/8001");
}

Test(versions, asterisk_11_leave_without_connect_is_an_abandon)
{
	ami("Event: Join\r\nChannel: SIP/trunk-00000003\r\nCallerIDNum: 13800000002\r\nQueue: q1\r\n"
	    "Position: 1\r\nCount: 1\r\nUniqueid: 1366720340.3\r\n", 1366720340000LL);
	ami("Event: Leave\r\nChannel: SIP/trunk-00000003\r\nQueue: q1\r\nCount: 0\r\nUniqueid: 1366720340.3\r\n",
	    1366720400000LL);
	pbx_amimap_tick(am, 1366720403000LL, collect, NULL);
	cr_assert_eq(n_got, 2);
	cr_assert_eq(got[1].kind, PBX_ABANDONED);
	cr_assert_eq(got[1].at, 1366720400000LL);
}

/* A call whose end the log never got (a line lost in copytruncate's gap,
 * an Asterisk bug) stayed "in progress" for ever, and the next QUEUESTART,
 * maybe weeks later, sent its abandon (a callback owed now, for a call
 * long settled) or ended its talk weeks long.  A call is in progress at a
 * restart only if it had a record within 12 hours before the last record
 * Asterisk wrote before it: a long outage still ends the calls it cut. */
Test(versions, a_restart_ends_only_calls_with_recent_records)
{
	const long long h = 3600;
	char l[200];
	line("1700000000|1700000000.1|q1|NONE|ENTERQUEUE||13800000001|1"); /* its ABANDON was lost */
	line("1700000000|1700000000.2|q1|NONE|ENTERQUEUE||13800000002|1");
	line("1700000010|1700000000.2|q1|SIP/8007|CONNECT|10|1700000001.1|2"); /* its COMPLETE was lost */
	snprintf(l, sizeof l, "%lld|%lld.3|q1|NONE|ENTERQUEUE||13800000003|1", 1700000000 + 13 * h, 1700000000 + 13 * h);
	line(l);
	snprintf(l, sizeof l, "%lld|%lld.3|q1|SIP/8007|CONNECT|10|1.1|2", 1700000000 + 13 * h + 10,
	         1700000000 + 13 * h);
	line(l);
	snprintf(l, sizeof l, "%lld|%lld.4|q1|NONE|ENTERQUEUE||13800000004|1", 1700000000 + 13 * h + 20,
	         1700000000 + 13 * h);
	line(l);
	/* the state a --follow would save has the live calls only */
	char *memory = pbx_ql_state(ql);
	cr_assert_null(strstr(memory, "\t1700000000.1\t"), "%s", memory);
	cr_assert_null(strstr(memory, "\t1700000000.2\t"), "%s", memory);
	cr_assert(strstr(memory, "\t1700046800.3\t"), "%s", memory);
	free(memory);
	/* Asterisk was down for 20 hours, then started */
	n_got = 0;
	snprintf(l, sizeof l, "%lld|NONE|NONE|NONE|QUEUESTART|", 1700000000 + 33 * h);
	cr_assert_eq(line(l), PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 2, "stale calls ended at the restart");
	for (int i = 0; i < n_got; i++) {
		cr_assert(strstr(got[i].call_id, ".3") || strstr(got[i].call_id, ".4"), "%s", got[i].id);
		cr_assert_eq(got[i].at, (1700000000 + 33 * h) * 1000);
	}
}

/* A state saved by the bridge before the time was kept (six fields) is
 * still read; such a call counts as recent. */
Test(versions, a_state_line_without_the_time_is_read)
{
	cr_assert(pbx_ql_restore(ql, "c\t0\t0\t1700000000.5\tq1\t"));
	line("1800000000|1800000000.9|q1|NONE|ENTERQUEUE||13800000009|1");
	n_got = 0;
	line("1800000100|NONE|NONE|NONE|QUEUESTART|");
	cr_assert_eq(n_got, 2);
}

/* Gateways that cannot pass a number on send zeros ("0000000000", "00000")
 * in its place.  They came out as "+0000000000", "+000": numbers nobody can
 * call back, and one number for every such caller, so that strangers'
 * calls became one repeat caller's case.  No E.164 number starts with 0
 * after its '+' (country codes do not), so such a number is withheld. */
Test(versions, zeros_in_place_of_a_number_are_withheld)
{
	struct pbx_opts o = opts();
	char out[HL_PHONE_MAX];
	const char *none[] = { "0000000000", "00000", "000000000000", "+0000000000", "+0123456789", "000123456" };
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
		cr_assert_eq(pbx_caller_normalize(&o, none[i], out, sizeof out), -1, "%s gave %s", none[i], out);
	cr_assert_eq(pbx_caller_normalize(&o, "013800000001", out, sizeof out), 0);
	cr_assert_str_eq(out, "+8613800000001");
	cr_assert_eq(line("1366720340|1366720340.1|q1|NONE|ENTERQUEUE||0000000000|1"), PBX_LINE_MAPPED);
	cr_assert_eq(n_got, 1);
	cr_assert(got[0].withheld, "offered as withheld, not as +0000000000");
	cr_assert_eq(pbx_ql_counts(ql)->anonymous, 1);
}

/* A restart is told from FullyBooted's Uptime set against the bridge's
 * clock.  That clock stepped (NTP correcting the bridge's host, a VM
 * resumed) between two logins to the same Asterisk moved the startup
 * computed from it, and a step of more than a minute was taken for a
 * restart: every waiting caller abandoned, every talk ended "pbx_restart".
 * The comparison runs on the monotonic clock; the events keep wall time. */
Test(versions, a_step_of_the_bridge_clock_is_not_an_asterisk_restart)
{
	const hl_ms t = 1700000000000LL, mono = 5000000;
	pbx_amimap_mono(am, mono);
	ami("Event: FullyBooted\nUptime: 86400\nStatus: Fully Booted\n", t);
	pbx_amimap_mono(am, mono + 1000);
	ami("Event: QueueCallerJoin\nUniqueid: 17.7\nQueue: q1\nCallerIDNum: 13800000007\n", t + 1000);
	cr_assert_eq(n_got, 1);
	/* 10 s later the connection drops and comes back; meanwhile the wall
	 * clock was set 5 minutes ahead */
	pbx_amimap_mono(am, mono + 10000);
	ami("Event: FullyBooted\nUptime: 86410\nStatus: Fully Booted\n", t + 10000 + 300000);
	cr_assert_eq(pbx_amimap_counts(am)->restarts, 0, "a clock step taken for a restart");
	cr_assert_eq(n_got, 1);
	/* a real restart is still told */
	pbx_amimap_mono(am, mono + 100000);
	ami("Event: FullyBooted\nUptime: 20\nStatus: Fully Booted\n", t + 100000 + 300000);
	cr_assert_eq(pbx_amimap_counts(am)->restarts, 1);
	cr_assert_eq(n_got, 2);
	cr_assert_eq(got[1].kind, PBX_ABANDONED);
	cr_assert_eq(got[1].at, t + 80000 + 300000, "dated by the wall clock");
}

/* Uptime is Asterisk's wall clock less its start time: NTP stepping the
 * PBX's clock back by minutes between two logins (common just after a
 * boot: Asterisk starts before the clock is synchronised) shrinks it, and
 * the startup computed from it moved later: taken for a restart, every
 * call in progress was ended.  An Asterisk that restarted has been up for
 * less time than has passed since the bridge last saw it up; one whose
 * clock stepped has not. */
Test(versions, a_step_of_the_pbx_clock_is_not_a_restart)
{
	const hl_ms t = 1700000000000LL, mono = 5000000;
	pbx_amimap_mono(am, mono);
	ami("Event: FullyBooted\nUptime: 86400\nStatus: Fully Booted\n", t);
	pbx_amimap_mono(am, mono + 1000);
	ami("Event: QueueCallerJoin\nUniqueid: 17.7\nQueue: q1\nCallerIDNum: 13800000007\n", t + 1000);
	/* reconnect 10 s later; the PBX's clock went back 5 minutes meanwhile */
	pbx_amimap_mono(am, mono + 10000);
	ami("Event: FullyBooted\nUptime: 86110\nStatus: Fully Booted\n", t + 10000);
	cr_assert_eq(pbx_amimap_counts(am)->restarts, 0, "the PBX's clock step taken for a restart");
	cr_assert_eq(n_got, 1);
	/* a real restart: up for 20 s, 100 s after the last login */
	pbx_amimap_mono(am, mono + 110000);
	ami("Event: FullyBooted\nUptime: 20\nStatus: Fully Booted\n", t + 110000);
	cr_assert_eq(pbx_amimap_counts(am)->restarts, 1);
	cr_assert_eq(n_got, 2);
}

/* Asterisk 1.4's Join names the caller's number "CallerID" (1.6 renamed it
 * CallerIDNum); its Uniqueid is there, so the call can be followed. */
Test(versions, asterisk_1_4_join_names_the_number_callerid)
{
	ami("Event: Join\r\nPrivilege: call,all\r\nChannel: SIP/trunk-0a1b2c3d\r\nCallerID: 013800000014\r\n"
	    "CallerIDName: unknown\r\nQueue: q1\r\nPosition: 1\r\nCount: 1\r\nUniqueid: 1366720340.14\r\n",
	    1366720340000LL);
	cr_assert_eq(n_got, 1, "the call taken for anonymous");
	cr_assert_str_eq(got[0].caller, "+8613800000014");
}

/* AMI: the grace after a QueueCallerLeave ran on the bridge's wall clock.
 * NTP stepping it back (a VM resumed, a bad clock corrected) held every
 * inferred abandon back by the step -- and lost it if the bridge was
 * restarted meanwhile; a step forward abandoned a leave whose AgentConnect
 * was a second away.  The grace runs on the monotonic clock; the events
 * keep the leave's own time. */
Test(versions, the_leave_grace_runs_on_the_monotonic_clock)
{
	const hl_ms t = 1700000000000LL, mono = 9000000;
	pbx_amimap_mono(am, mono);
	ami("Event: QueueCallerJoin\nUniqueid: 17.1\nQueue: q1\nCallerIDNum: 13800000001\nTimestamp: 1700000000.000\n", t);
	pbx_amimap_mono(am, mono + 10000);
	ami("Event: QueueCallerLeave\nUniqueid: 17.1\nQueue: q1\nTimestamp: 1700000010.000\n", t + 10000);
	/* 3 s later on the monotonic clock; the wall clock went back an hour */
	pbx_amimap_mono(am, mono + 13000);
	pbx_amimap_tick(am, t + 13000 - 3600000, collect, NULL);
	cr_assert_eq(n_got, 2, "the abandon is held back by the clock step");
	cr_assert_eq(got[1].kind, PBX_ABANDONED);
	cr_assert_eq(got[1].at, t + 10000);
	/* a leave 0.5 s before the wall clock jumps an hour ahead: its
	 * AgentConnect comes 1 s after the leave */
	pbx_amimap_mono(am, mono + 20000);
	ami("Event: QueueCallerJoin\nUniqueid: 17.2\nQueue: q1\nCallerIDNum: 13800000002\n", t + 20000);
	pbx_amimap_mono(am, mono + 30000);
	ami("Event: QueueCallerLeave\nUniqueid: 17.2\nQueue: q1\n", t + 30000);
	pbx_amimap_mono(am, mono + 30500);
	pbx_amimap_tick(am, t + 30500 + 3600000, collect, NULL);
	cr_assert_eq(n_got, 3, "a leave abandoned half a second after it");
	pbx_amimap_mono(am, mono + 31000);
	ami("Event: AgentConnect\nUniqueid: 17.2\nQueue: q1\nInterface: PJSIP/8001\n", t + 31000 + 3600000);
	cr_assert_eq(n_got, 4);
	cr_assert_eq(got[3].kind, PBX_ANSWERED);
}

/* asterisk.conf systemname = pbx1 makes every uniqueid "pbx1-<epoch>.<n>".
 * A line cut by a crash and glued to the next record is searched for that
 * record's header; the search knew only "<epoch>.<n>", so on such a PBX
 * the whole record after the cut was lost (a call never offered). */
Test(versions, a_cut_line_before_a_systemname_record_keeps_the_record)
{
	char why[128];
	cr_assert_eq(pbx_ql_line(ql, "1700000000|pbx1-1700000000.5|q1|NONE|ENTERQ"
	                             "1700000009|pbx1-1700000009.6|q1|NONE|ENTERQUEUE||013800000006|1",
	                         strlen("1700000000|pbx1-1700000000.5|q1|NONE|ENTERQ"
	                                "1700000009|pbx1-1700000009.6|q1|NONE|ENTERQUEUE||013800000006|1"),
	                         collect, NULL, why, sizeof why),
	             PBX_LINE_MALFORMED);
	cr_assert_eq(n_got, 1, "the record after the cut was lost: %s", why);
	cr_assert_str_eq(got[0].call_id, "a1:pbx1-1700000009.6");
	cr_assert_str_eq(got[0].caller, "+8613800000006");
	/* a name with dots and dashes (a host name) too */
	line("1700000020|pbx-a.example-1700000020.7|q1|NONE|CONNECT|1|1700000020.8|1700000021|pbx-a.example-1700000021.9|q1|NONE|ENTERQUEUE||013800000009|1");
	cr_assert_eq(n_got, 2);
	cr_assert_str_eq(got[1].call_id, "a1:pbx-a.example-1700000021.9");
}

/* A call whose end never reached the log stayed in the mapper's memory
 * for the rest of the run: a follow of months (or a year's import) grew by
 * every such call, and every save walked them all.  Calls with no record
 * for 12 h of record time are forgotten as the log goes on. */
Test(versions, calls_whose_end_was_lost_are_forgotten_as_the_log_goes_on)
{
	char l[256];
	const long long t0 = 1700000000;
	/* 30 days, 100 calls a day whose end is lost, 100 that end */
	for (int d = 0; d < 30; d++)
		for (int i = 0; i < 100; i++) {
			long long t = t0 + d * 86400LL + i * 600;
			snprintf(l, sizeof l, "%lld|%lld.%d|q1|NONE|ENTERQUEUE||0138%08d|1", t, t, i, i);
			line(l);
			snprintf(l, sizeof l, "%lld|%lld.%d|q1|NONE|ENTERQUEUE||0139%08d|1", t, t, i + 1000, i);
			line(l);
			snprintf(l, sizeof l, "%lld|%lld.%d|q1|NONE|ABANDON|1|1|30", t + 30, t, i + 1000);
			n_got = 0;
			line(l);
		}
	/* at most a day's worth (12 h, swept hourly) is remembered */
	cr_assert_leq(pbx_ql_in_progress(ql), 100, "%zu calls remembered", pbx_ql_in_progress(ql));
	cr_assert_geq(pbx_ql_in_progress(ql), 50, "the calls of the last 12 h were forgotten too");
}

/* One line dated far ahead (a PBX clock wrong for a moment) is not taken
 * for the passing of time: the calls in progress are not forgotten. */
Test(versions, one_line_dated_far_ahead_does_not_forget_the_calls)
{
	line("1700000000|1700000000.1|q1|NONE|ENTERQUEUE||013800000001|1");
	line("1700000010|1700000000.2|q1|NONE|ENTERQUEUE||013800000002|1");
	line("1800000000|1700000000.3|q1|NONE|ENTERQUEUE||013800000003|1");
	line("1700000020|1700000000.4|q1|NONE|ENTERQUEUE||013800000004|1");
	cr_assert_eq(pbx_ql_in_progress(ql), 4);
	n_got = 0;
	line("1700000030|1700000000.1|q1|PJSIP/8001|COMPLETECALLER|5|20|1");
	cr_assert_eq(n_got, 2, "the call was forgotten: its CONNECT synthesized");
}

/* An anonymous call is offered as withheld and then followed exactly as a
 * call with a number: the same records give the same events, with the same
 * ids (so a second end of the channel - the line twice in the file, or
 * app_queue's transfer record logged after the caller's ENTERQUEUE in the
 * next queue - is what it is for any call: the same id again, or the
 * earlier visit's end), but for the offer's caller. */
static int run_lines(const char *const *lines, const char *caller, struct pbx_event *out)
{
	struct pbx_opts o = opts();
	struct pbx_ql *m = pbx_ql_new(&o);
	n_got = 0;
	char buf[256];
	for (int i = 0; lines[i]; i++) {
		snprintf(buf, sizeof buf, lines[i], caller);
		pbx_ql_line(m, buf, strlen(buf), collect, NULL, NULL, 0);
	}
	pbx_ql_free(m);
	memcpy(out, got, sizeof got);
	return n_got;
}

Test(versions, an_anonymous_call_is_followed_as_a_call_with_a_number)
{
	static const char *const lines[] = {
		"1700000000|1700000000.21|q1|NONE|ENTERQUEUE||%s|1",
		"1700000005|1700000000.21|q1|PJSIP/8001|CONNECT|5|1700000005.22|3",
		"1700000065|1700000000.21|q1|PJSIP/8001|COMPLETECALLER|5|60|1",
		"1700000065|1700000000.21|q1|PJSIP/8001|COMPLETECALLER|5|60|1",
		"1700000100|1700000100.31|q1|NONE|ENTERQUEUE||%s|1",
		"1700000105|1700000100.31|q1|SIP/8002|CONNECT|5|1700000105.32|3",
		"1700000130|1700000100.31|q2|NONE|ENTERQUEUE||%s|1",
		"1700000130|1700000100.31|q1|SIP/8002|BLINDTRANSFER|q2@from-queue|from-queue|5|25|1",
		"1700000140|1700000100.31|q2|SIP/8003|CONNECT|10|1700000140.33|2",
		"1700000200|1700000100.31|q2|SIP/8003|COMPLETEAGENT|10|60|1",
		NULL,
	};
	static struct pbx_event anon[64], numbered[64];
	int n = run_lines(lines, "anonymous", anon);
	cr_assert_eq(run_lines(lines, "013800000041", numbered), n);
	cr_assert_gt(n, 6);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(anon[i].kind, numbered[i].kind, "event %d", i);
		cr_assert_str_eq(anon[i].id, numbered[i].id, "event %d", i);
		cr_assert_str_eq(anon[i].call_id, numbered[i].call_id, "event %d", i);
		cr_assert_eq(anon[i].withheld, anon[i].kind == PBX_OFFERED, "event %d", i);
		cr_assert_str_eq(anon[i].caller, "", "event %d", i);
	}
}

/* A queue whose member is another queue (FreePBX's "queue as a static
 * member", Local/601@from-internal/n in queue 600): every time queue 600
 * rings that member, a Local channel joins queue 601 with the caller's
 * number and the caller's Linkedid.  Each such join was offered as a call
 * of its own, and each ring that timed out (the Local channel hung up:
 * QueueCallerAbandon in 601) abandoned it -- a callback owed, and the
 * figures counting an abandoned call, while the caller still waited in
 * 600.  The join of a Local channel whose Linkedid is a call waiting in
 * another queue is that call's leg: nothing of it is sent, and the agent
 * who answers in the inner queue is the agent of the call. */
Test(versions, ami_queue_in_queue_legs_are_not_calls)
{
	const hl_ms t = 1700000000000LL;
	ami("Event: QueueCallerJoin\nChannel: PJSIP/trunk-00000001\nCallerIDNum: 013800000051\n"
	    "Uniqueid: 1700000000.51\nLinkedid: 1700000000.51\nQueue: 600\nPosition: 1\nCount: 1\n", t);
	cr_assert_eq(n_got, 1);
	/* first ring of the member Local/601: a leg joins 601, nobody answers, 600 gives up on it */
	ami("Event: QueueCallerJoin\nChannel: Local/601@from-internal-00000002;2\nCallerIDNum: 013800000051\n"
	    "Uniqueid: 1700000001.53\nLinkedid: 1700000000.51\nQueue: 601\nPosition: 1\nCount: 1\n", t + 1000);
	ami("Event: QueueCallerAbandon\nChannel: Local/601@from-internal-00000002;2\nUniqueid: 1700000001.53\n"
	    "Linkedid: 1700000000.51\nQueue: 601\nPosition: 1\nOriginalPosition: 1\nHoldTime: 15\n", t + 16000);
	cr_assert_eq(n_got, 1, "the leg's abandon was sent: %s", n_got > 1 ? got[1].id : "");
	/* second ring: answered by PJSIP/8001 in 601, then 600 connects the caller */
	ami("Event: QueueCallerJoin\nChannel: Local/601@from-internal-00000004;2\nCallerIDNum: 013800000051\n"
	    "Uniqueid: 1700000021.55\nLinkedid: 1700000000.51\nQueue: 601\nPosition: 1\nCount: 1\n", t + 21000);
	ami("Event: QueueCallerLeave\nChannel: Local/601@from-internal-00000004;2\nUniqueid: 1700000021.55\n"
	    "Linkedid: 1700000000.51\nQueue: 601\nCount: 0\nPosition: 1\n", t + 25000);
	ami("Event: AgentConnect\nChannel: Local/601@from-internal-00000004;2\nUniqueid: 1700000021.55\n"
	    "Linkedid: 1700000000.51\nQueue: 601\nInterface: PJSIP/8001\nMemberName: Li Na\nHoldTime: 4\n", t + 25000);
	ami("Event: QueueCallerLeave\nChannel: PJSIP/trunk-00000001\nUniqueid: 1700000000.51\n"
	    "Linkedid: 1700000000.51\nQueue: 600\nCount: 0\nPosition: 1\n", t + 25100);
	ami("Event: AgentConnect\nChannel: PJSIP/trunk-00000001\nUniqueid: 1700000000.51\nLinkedid: 1700000000.51\n"
	    "Queue: 600\nInterface: Local/601@from-internal/n\nMemberName: 601\nHoldTime: 25\n", t + 25100);
	pbx_amimap_tick(am, t + 40000, collect, NULL);
	cr_assert_eq(n_got, 2, "%d events", n_got);
	cr_assert_eq(got[1].kind, PBX_ANSWERED);
	cr_assert_str_eq(got[1].call_id, "a1:1700000000.51");
	cr_assert_str_eq(got[1].agent, "PJSIP/8001", "the agent is the queue's member channel");
	ami("Event: AgentComplete\nChannel: Local/601@from-internal-00000004;2\nUniqueid: 1700000021.55\n"
	    "Linkedid: 1700000000.51\nQueue: 601\nInterface: PJSIP/8001\nTalkTime: 60\nReason: caller\n", t + 85000);
	ami("Event: AgentComplete\nChannel: PJSIP/trunk-00000001\nUniqueid: 1700000000.51\nLinkedid: 1700000000.51\n"
	    "Queue: 600\nInterface: Local/601@from-internal/n\nTalkTime: 60\nReason: caller\n", t + 85000);
	cr_assert_eq(n_got, 3, "%d events", n_got);
	cr_assert_eq(got[2].kind, PBX_ENDED);
	cr_assert_str_eq(got[2].call_id, "a1:1700000000.51");
	cr_assert_str_eq(got[2].agent, "PJSIP/8001");
	/* a Local channel joining a queue on its own (a callback originated
	 * through Local/) is a call */
	ami("Event: QueueCallerJoin\nChannel: Local/cb@callback-00000009;2\nCallerIDNum: 013800000059\n"
	    "Uniqueid: 1700000100.59\nLinkedid: 1700000100.58\nQueue: 601\nPosition: 1\nCount: 1\n", t + 100000);
	cr_assert_eq(n_got, 4);
	cr_assert_eq(got[3].kind, PBX_OFFERED);
}

/* The PBX's clock was a day ahead (a wrong RTC before NTP) and was set
 * back with calls in progress; then the bridge restarted.  A restored
 * state took the latest time in it for "now", so the calls entered after
 * the step looked 24 h old: the first save dropped them, and the next
 * QUEUESTART did not end them (waiting callers never owed their call
 * back).  The memory restored is the memory saved. */
Test(versions, a_state_saved_after_the_pbx_clock_went_back_is_restored_whole)
{
	const long long day = 86400;
	char l[200];
	snprintf(l, sizeof l, "%lld|%lld.1|q1|NONE|ENTERQUEUE||13800000001|1", 1700000000 + day, 1700000000 + day);
	line(l); /* the clock a day ahead */
	line("1700000100|1700000100.2|q1|NONE|ENTERQUEUE||13800000002|1"); /* set right */
	char *memory = pbx_ql_state(ql);
	struct pbx_opts o = opts();
	struct pbx_ql *again = pbx_ql_new(&o);
	char *copy = strdup(memory);
	for (char *s = strtok(copy, "\n"); s; s = strtok(NULL, "\n"))
		cr_assert(pbx_ql_restore(again, s), "%s", s);
	char *resaved = pbx_ql_state(again);
	cr_assert_str_eq(resaved, memory, "the restored memory is not the one saved");
	n_got = 0;
	pbx_ql_line(again, "1700000200|NONE|NONE|NONE|QUEUESTART|", strlen("1700000200|NONE|NONE|NONE|QUEUESTART|"),
	            collect, NULL, NULL, 0);
	cr_assert_eq(n_got, 2, "the calls in progress at the restart: %d ended", n_got);
	free(copy);
	free(memory);
	free(resaved);
	pbx_ql_free(again);
}
