/*
 * test_pbx_visits.c - a channel that enters one queue more than once
 * (pbx/visits.c): every visit's records get ids of their own, the same ids
 * on a second reading and from both sources, and the first visit keeps the
 * id it always had.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx_fixtures.h"

static void read_log(const char *const *lines)
{
	struct pbx_opts o = opts();
	struct pbx_ql *ql = pbx_ql_new(&o);
	for (; *lines; lines++)
		cr_assert_eq(pbx_ql_line(ql, *lines, strlen(*lines), collect, NULL, NULL, 0), PBX_LINE_MAPPED, "%s",
		             *lines);
	pbx_ql_free(ql);
}

static void assert_ids(const char *const *want, int n)
{
	cr_assert_eq(n_got, n);
	for (int i = 0; i < n; i++) {
		cr_assert_str_eq(got[i].id, want[i], "event %d", i);
		cr_assert_str_eq(got[i].call_id, "a1:1700000000.7"); /* one call for hotlined */
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(got[i].id, got[j].id);
	}
}

/* EXITWITHKEY to an IVR that sends the caller back into the queue */
static const char *const KEY_AND_BACK[] = {
	"1700000000|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
	"1700000030|1700000000.7|q1|NONE|EXITWITHKEY|1|1|1|30",
	"1700000045|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
	"1700000050|1700000000.7|q1|PJSIP/8001|CONNECT|5|1700000045.2|3",
	"1700000200|1700000000.7|q1|PJSIP/8001|COMPLETECALLER|5|150|1",
	NULL,
};

Test(visits, second_visit_to_one_queue_has_ids_of_its_own)
{
	n_got = 0;
	read_log(KEY_AND_BACK);
	const char *want[] = { "a1:1700000000.7:offered:q1", "a1:1700000000.7:abandoned:q1",
	                       "a1:1700000000.7:offered:q1#2", "a1:1700000000.7:answered:q1#2",
	                       "a1:1700000000.7:ended:q1#2" };
	assert_ids(want, 5);
	cr_assert_eq(got[2].kind, PBX_OFFERED);
	cr_assert_str_eq(got[2].caller, "+8613800000007");
	cr_assert_eq(got[4].kind, PBX_ENDED);

	/* a second reading of the same log gives the same ids: all duplicates */
	struct pbx_event first[5];
	memcpy(first, got, sizeof first);
	n_got = 0;
	read_log(KEY_AND_BACK);
	for (int i = 0; i < 5; i++)
		cr_assert_str_eq(got[i].id, first[i].id);
}

Test(visits, transfer_back_to_the_queue)
{
	const char *const lines[] = {
		"1700000000|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000010|1700000000.7|q1|PJSIP/8001|CONNECT|10|1700000001.1|2",
		"1700000100|1700000000.7|q1|PJSIP/8001|BLINDTRANSFER|q1@queues|10|90|1",
		"1700000101|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000110|1700000000.7|q1|PJSIP/8002|CONNECT|9|1700000101.3|2",
		"1700000300|1700000000.7|q1|PJSIP/8002|COMPLETEAGENT|9|190|1",
		NULL,
	};
	n_got = 0;
	read_log(lines);
	const char *want[] = { "a1:1700000000.7:offered:q1",      "a1:1700000000.7:answered:q1",
	                       "a1:1700000000.7:ended:q1",        "a1:1700000000.7:offered:q1#2",
	                       "a1:1700000000.7:answered:q1#2",   "a1:1700000000.7:ended:q1#2" };
	assert_ids(want, 6);
	cr_assert_str_eq(got[2].outcome, "transferred");
	cr_assert_str_eq(got[4].agent, "PJSIP/8002");
	cr_assert_str_eq(got[5].outcome, "completed");
}

Test(visits, overflow_to_another_queue_and_back)
{
	const char *const lines[] = {
		"1700000000|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000060|1700000000.7|q1|NONE|EXITWITHTIMEOUT|1|1|60",
		"1700000061|1700000000.7|q2|NONE|ENTERQUEUE||013800000007|1",
		"1700000121|1700000000.7|q2|NONE|EXITWITHTIMEOUT|1|1|60",
		"1700000122|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000130|1700000000.7|q1|NONE|ABANDON|1|1|8",
		NULL,
	};
	n_got = 0;
	read_log(lines);
	const char *want[] = { "a1:1700000000.7:offered:q1", "a1:1700000000.7:abandoned:q1",
	                       "a1:1700000000.7:offered:q2", "a1:1700000000.7:abandoned:q2",
	                       "a1:1700000000.7:offered:q1#2", "a1:1700000000.7:abandoned:q1#2" };
	assert_ids(want, 6);
}

Test(visits, a_crash_that_never_ended_the_call_starts_a_visit_too)
{
	/* a restart marker ends the first visit (synthesized), the second is new */
	const char *const lines[] = {
		"1700000000|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000005|NONE|NONE|NONE|QUEUESTART|",
		"1700000009|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000019|1700000000.7|q1|NONE|ABANDON|1|1|10",
		NULL,
	};
	n_got = 0;
	read_log(lines);
	const char *want[] = { "a1:1700000000.7:offered:q1", "a1:1700000000.7:abandoned:q1",
	                       "a1:1700000000.7:offered:q1#2", "a1:1700000000.7:abandoned:q1#2" };
	assert_ids(want, 4);
	cr_assert(got[1].synthesized);
}

/* A duplicated line, and a log that holds its records twice (two exports
 * concatenated): the records read again are the visit they were, so every
 * id repeats and hotlined answers duplicate; before, the repeated
 * ENTERQUEUE started a visit "#2" and all that followed was stored twice. */
Test(visits, a_record_read_twice_is_the_same_visit)
{
	const char *const lines[] = {
		"1700000000|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000000|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000010|1700000000.7|q1|NONE|ABANDON|1|1|10",
		"1700000020|1700000020.8|q1|NONE|ENTERQUEUE||013800000008|1",
		"1700000025|1700000020.8|q1|PJSIP/8001|CONNECT|5|1700000025.1|2",
		"1700000080|1700000020.8|q1|PJSIP/8001|COMPLETECALLER|5|55|1",
		"1700000020|1700000020.8|q1|NONE|ENTERQUEUE||013800000008|1",
		"1700000025|1700000020.8|q1|PJSIP/8001|CONNECT|5|1700000025.1|2",
		"1700000080|1700000020.8|q1|PJSIP/8001|COMPLETECALLER|5|55|1",
		NULL,
	};
	n_got = 0;
	read_log(lines);
	cr_assert_eq(n_got, 9);
	for (int i = 0; i < n_got; i++)
		cr_assert_null(strchr(got[i].id, '#'), "event %d: %s", i, got[i].id);
	cr_assert_str_eq(got[2].id, "a1:1700000000.7:abandoned:q1");
	cr_assert_str_eq(got[6].id, got[3].id);
	cr_assert_str_eq(got[8].id, "a1:1700000020.8:ended:q1");

	/* left and back within the same second (a dialplan looping straight
	 * back into the queue): a new visit all the same */
	const char *const loop[] = {
		"1700000100|1700000100.9|q1|NONE|ENTERQUEUE||013800000009|1",
		"1700000100|1700000100.9|q1|NONE|EXITEMPTY|1|1|0",
		"1700000100|1700000100.9|q1|NONE|ENTERQUEUE||013800000009|1",
		"1700000130|1700000100.9|q1|NONE|ABANDON|1|1|30",
		NULL,
	};
	n_got = 0;
	read_log(loop);
	cr_assert_eq(n_got, 4);
	cr_assert_str_eq(got[2].id, "a1:1700000100.9:offered:q1#2");
	cr_assert_str_eq(got[3].id, "a1:1700000100.9:abandoned:q1#2");
}

static void ami(struct pbx_amimap *am, const char *text, hl_ms now)
{
	struct pbx_ami_msg m;
	cr_assert_eq(pbx_ami_parse(text, strlen(text), &m), 0);
	pbx_amimap_event(am, &m, now, collect, NULL);
	pbx_ami_msg_free(&m);
}

Test(visits, ami_counts_visits_as_the_queue_log_does)
{
	struct pbx_opts o = opts();
	struct pbx_amimap *am = pbx_amimap_new(&o);
	n_got = 0;
	ami(am, "Event: QueueCallerJoin\nUniqueid: 1700000000.7\nQueue: q1\nCallerIDNum: 013800000007\n", 1000);
	ami(am, "Event: QueueCallerAbandon\nUniqueid: 1700000000.7\nQueue: q1\n", 2000);
	ami(am, "Event: QueueCallerJoin\nUniqueid: 1700000000.7\nQueue: q1\nCallerIDNum: 013800000007\n", 3000);
	ami(am, "Event: AgentConnect\nUniqueid: 1700000000.7\nQueue: q1\nInterface: PJSIP/8001\n", 4000);
	ami(am, "Event: AgentComplete\nUniqueid: 1700000000.7\nQueue: q1\nInterface: PJSIP/8001\nReason: caller\n",
	    5000);
	pbx_amimap_free(am);
	const char *want[] = { "a1:1700000000.7:offered:q1", "a1:1700000000.7:abandoned:q1",
	                       "a1:1700000000.7:offered:q1#2", "a1:1700000000.7:answered:q1#2",
	                       "a1:1700000000.7:ended:q1#2" };
	assert_ids(want, 5);
}

Test(visits, long_queue_names_keep_visits_apart)
{
	char q[PBX_NAME_MAX + 1];
	memset(q, 'q', PBX_NAME_MAX);
	q[PBX_NAME_MAX] = '\0';
	struct pbx_opts o = opts();
	struct pbx_event a = { .kind = PBX_OFFERED, .visit = 1 }, b = { .kind = PBX_OFFERED, .visit = 2 };
	snprintf(a.queue, sizeof a.queue, "%s", q);
	snprintf(b.queue, sizeof b.queue, "%s", q);
	pbx_event_ids(&o, &a, "1700000000.7");
	pbx_event_ids(&o, &b, "1700000000.7");
	cr_assert(strstr(a.id, ":offered:#"));
	cr_assert_str_neq(a.id, b.id);
	cr_assert_leq(strlen(b.id), HL_ID_MAX);
}

Test(visits, quiet_channels_are_forgotten_after_a_day)
{
	struct pbx_visits *v = pbx_visits_new();
	const hl_ms t0 = 1700000000000LL, hour = 3600 * 1000LL;
	cr_assert_eq(pbx_visits_enter(v, "u1", "q1", t0), 1);
	cr_assert_eq(pbx_visits_enter(v, "u1", "q1", t0 + hour), 2);
	cr_assert_eq(pbx_visits_current(v, "u1", "q1", t0 + 2 * hour), 2);
	cr_assert_eq(pbx_visits_current(v, "u1", "q2", t0 + 2 * hour), 1); /* never entered: the first */
	cr_assert_eq(pbx_visits_enter(v, "u2", "q1", t0 + 20 * hour), 1);
	cr_assert_eq(pbx_visits_count(v), 2);
	cr_assert_eq(pbx_visits_enter(v, "u3", "q1", t0 + 27 * hour), 1); /* u1 quiet for 25 h */
	cr_assert_eq(pbx_visits_count(v), 2);
	cr_assert_eq(pbx_visits_current(v, "u1", "q1", t0 + 27 * hour), 1);
	for (int i = 0; i < 5000; i++) { /* the table grows past its first buckets */
		char uid[32];
		snprintf(uid, sizeof uid, "x.%d", i);
		cr_assert_eq(pbx_visits_enter(v, uid, "q1", t0 + 27 * hour), 1);
	}
	cr_assert_eq(pbx_visits_enter(v, "x.42", "q1", t0 + 27 * hour + 1000), 2);
	cr_assert_eq(pbx_visits_count(v), 5002);
	pbx_visits_free(v);
}

/* One record dated decades ahead (a PBX clock set wrong for a while, a
 * hostile line): before, it became the record time for the rest of the
 * run, every channel was forgotten as soon as it entered, and every later
 * second visit was numbered as a first one (its records lost as duplicates). */
Test(visits, a_record_dated_years_ahead_forgets_nothing)
{
	const char *const lines[] = {
		"1700000000|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000030|1700000000.7|q1|NONE|EXITWITHKEY|1|1|1|30",
		"2900000000|1700000031.1|q1|NONE|ENTERQUEUE||013800000011|1",
		"1700000040|1700000040.2|q1|NONE|ENTERQUEUE||013800000012|1",
		"1700000045|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000050|1700000040.2|q1|NONE|ABANDON|1|1|10",
		"1700000060|1700000040.2|q1|NONE|ENTERQUEUE||013800000012|1",
		"1700000070|1700000040.2|q1|PJSIP/8001|CONNECT|10|1700000061.1|2",
		NULL,
	};
	n_got = 0;
	read_log(lines);
	cr_assert_eq(n_got, 8);
	cr_assert_str_eq(got[4].id, "a1:1700000000.7:offered:q1#2");
	cr_assert_str_eq(got[5].id, "a1:1700000040.2:abandoned:q1");
	cr_assert_str_eq(got[6].id, "a1:1700000040.2:offered:q1#2");
	cr_assert_str_eq(got[7].id, "a1:1700000040.2:answered:q1#2");
}

/* A channel that entered while the PBX's clock was two days ahead, and
 * enters the same queue again once the clock is set right: the pair's
 * last record is "ahead" of the record time, so the forgetting of pairs
 * (ahead by more than a day) freed the very pair being entered, and its
 * visit was read from freed memory (a crash, or a wrong "#n" and records
 * lost as duplicates); pbx_visits_restore then wrote through a NULL.  The
 * pair being entered is never forgotten. */
Test(visits, entered_again_after_the_pbx_clock_went_back)
{
	struct pbx_visits *v = pbx_visits_new();
	const hl_ms t0 = 1700000000000LL, day = 86400 * 1000LL;
	cr_assert_eq(pbx_visits_enter(v, "u1", "q1", t0 + 2 * day), 1);
	cr_assert_eq(pbx_visits_enter(v, "u1", "q1", t0), 2);
	cr_assert_eq(pbx_visits_current(v, "u1", "q1", t0 + 1000), 2);
	pbx_visits_restore(v, "u2", "q1", 3, t0 + 3 * day);
	pbx_visits_restore(v, "u2", "q1", 3, t0);
	cr_assert_eq(pbx_visits_current(v, "u2", "q1", t0 + 1000), 3);
	pbx_visits_free(v);
}

/* The pairs a save lists are the pairs a restore puts back.  Restoring
 * went through pbx_visits_enter, whose forgetting ran against the record
 * time of the pair restored before: a pair last touched by a record dated
 * far ahead (a PBX clock set wrong for a moment), saved while still
 * remembered, was dropped again by the restore of the next pair, so a
 * saved state did not read back as itself (fuzz_pbx's round trip failed
 * within seconds).  The next record forgets it either way. */
static void list_pair(void *ctx, const char *uid, const char *queue, int count, hl_ms last_at)
{
	char *out = ctx;
	size_t n = strlen(out);
	snprintf(out + n, 1024 - n, "%s %s %d %lld\n", uid, queue, count, (long long)last_at);
}

Test(visits, a_restore_puts_back_every_pair_saved)
{
	struct pbx_visits *v = pbx_visits_new(), *w = pbx_visits_new();
	const hl_ms t0 = 1700000000000LL, year = 365 * 86400 * 1000LL;
	pbx_visits_enter(v, "u1", "q1", t0);
	pbx_visits_enter(v, "u2", "q1", t0 + 50 * year); /* a stray line */
	cr_assert_eq(pbx_visits_current(v, "u1", "q1", t0 + 2000), 1); /* u1's CONNECT */
	char saved[1024] = "", again[1024] = "";
	pbx_visits_each(v, 30 * 60 * 1000LL, list_pair, saved);
	cr_assert(strstr(saved, "u2 q1 "), "%s", saved);
	unsigned count;
	long long at;
	char uid[16], queue[16];
	for (const char *p = saved; sscanf(p, "%15s %15s %u %lld", uid, queue, &count, &at) == 4; p = strchr(p, '\n') + 1)
		pbx_visits_restore(w, uid, queue, (int)count, (hl_ms)at);
	pbx_visits_each(w, 30 * 60 * 1000LL, list_pair, again);
	cr_assert_str_eq(again, saved);
	cr_assert_eq(pbx_visits_enter(w, "u1", "q1", t0 + 3000), 2);
	pbx_visits_free(v);
	pbx_visits_free(w);
}

/* What the mapper remembers, saved with a position and given to a new
 * mapper (hotline-pbx restarted between two visits of one channel): the
 * rest of the log gets the ids one reading of the whole log gives. */
Test(visits, remembered_across_a_restart)
{
	const char *const lines[] = {
		"1700000000|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000030|1700000000.7|q1|NONE|EXITWITHKEY|1|1|1|30",
		"1700000031|1700000000.8|q1|NONE|ENTERQUEUE||anonymous|1",
		"1700000032|1700000000.9|q1|NONE|ENTERQUEUE||013800000009|1",
		"1700000033|1700000000.9|q1|PJSIP/8\x01" "001|CONNECT|1|1700000001.1|2",
		/* the restart is here */
		"1700000045|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000050|1700000000.7|q1|PJSIP/8001|CONNECT|5|1700000045.2|3",
		"1700000060|1700000000.8|q1|NONE|ABANDON|1|1|29",
		"1700000070|NONE|NONE|NONE|QUEUESTART|",
		NULL,
	};
	struct pbx_opts o = opts();
	n_got = 0;
	struct pbx_ql *one = pbx_ql_new(&o);
	for (int i = 0; lines[i]; i++)
		pbx_ql_line(one, lines[i], strlen(lines[i]), collect, NULL, NULL, 0);
	pbx_ql_free(one);
	struct pbx_event whole[16];
	int n_whole = n_got;
	memcpy(whole, got, sizeof whole);

	n_got = 0;
	struct pbx_ql *before = pbx_ql_new(&o), *after = pbx_ql_new(&o);
	int i = 0;
	for (; i < 5; i++)
		pbx_ql_line(before, lines[i], strlen(lines[i]), collect, NULL, NULL, 0);
	char *memory = pbx_ql_state(before);
	pbx_ql_free(before);
	cr_assert(strstr(memory, "c\t1\t0\t1700000000.9\tq1\tPJSIP/8?001\t1700000033000\n"), "%s", memory); /* no control character */
	cr_assert(strstr(memory, "c\t0\t0\t1700000000.8\tq1\t\t1700000031000\n"), "%s", memory); /* withheld: sent */
	cr_assert(strstr(memory, "v\t1\t1700000030000\t1700000000.7\tq1\n"), "%s", memory);
	for (char *line = strtok(memory, "\n"); line; line = strtok(NULL, "\n"))
		cr_assert(pbx_ql_restore(after, line), "%s", line);
	free(memory);
	cr_assert_not(pbx_ql_restore(after, "v\t0\t1\tu\tq"));
	cr_assert_not(pbx_ql_restore(after, "x\tsomething"));
	for (; lines[i]; i++)
		pbx_ql_line(after, lines[i], strlen(lines[i]), collect, NULL, NULL, 0);
	pbx_ql_free(after);

	cr_assert_eq(n_got, n_whole);
	for (int k = 0; k < n_got; k++)
		cr_assert_str_eq(got[k].id, whole[k].id, "event %d", k);
	/* the second visit (after the withheld call's offer and the answer), and the talk ended at the restart */
	cr_assert(strstr(got[5].id, "offered:q1#2"), "%s", got[5].id);
	cr_assert_str_eq(got[n_got - 1].outcome, "pbx_restart");
}

/* Over AMI a queue's timeout, an empty queue or an exit key is only a
 * QueueCallerLeave; the abandon is inferred when no AgentConnect follows
 * within the grace.  An overflow (the dialplan sends the caller on to the
 * next queue) or an IVR sending the caller back joins at once, well within
 * the grace: the first visit's abandon must still be sent, as the queue_log's
 * EXITWITHTIMEOUT / EXITWITHKEY give it, and with the same ids. */
Test(visits, ami_leave_then_join_at_once_still_abandons_the_first_visit)
{
	struct pbx_opts o = opts();
	struct pbx_amimap *am = pbx_amimap_new(&o);
	n_got = 0;
	ami(am, "Event: QueueCallerJoin\nUniqueid: 1700000000.7\nQueue: q1\nCallerIDNum: 013800000007\n"
	        "Timestamp: 1700000000.000000\n", 1700000000000LL);
	ami(am, "Event: QueueCallerLeave\nUniqueid: 1700000000.7\nQueue: q1\nTimestamp: 1700000060.000000\n",
	    1700000060000LL);
	ami(am, "Event: QueueCallerJoin\nUniqueid: 1700000000.7\nQueue: q2\nCallerIDNum: 013800000007\n"
	        "Timestamp: 1700000060.100000\n", 1700000060100LL);
	ami(am, "Event: QueueCallerLeave\nUniqueid: 1700000000.7\nQueue: q2\nTimestamp: 1700000090.000000\n",
	    1700000090000LL);
	ami(am, "Event: QueueCallerJoin\nUniqueid: 1700000000.7\nQueue: q1\nCallerIDNum: 013800000007\n"
	        "Timestamp: 1700000090.500000\n", 1700000090500LL);
	ami(am, "Event: AgentConnect\nUniqueid: 1700000000.7\nQueue: q1\nInterface: PJSIP/8001\n"
	        "Timestamp: 1700000095.000000\n", 1700000095000LL);
	pbx_amimap_tick(am, 1700000099000LL, collect, NULL);
	ami(am, "Event: AgentComplete\nUniqueid: 1700000000.7\nQueue: q1\nInterface: PJSIP/8001\nReason: caller\n",
	    1700000200000LL);
	pbx_amimap_tick(am, 1700000300000LL, collect, NULL);
	pbx_amimap_free(am);
	const char *want[] = { "a1:1700000000.7:offered:q1",   "a1:1700000000.7:abandoned:q1",
	                       "a1:1700000000.7:offered:q2",   "a1:1700000000.7:abandoned:q2",
	                       "a1:1700000000.7:offered:q1#2", "a1:1700000000.7:answered:q1#2",
	                       "a1:1700000000.7:ended:q1#2" };
	assert_ids(want, 7);
	cr_assert_eq(got[1].at, 1700000060000LL, "dated by its leave");
	cr_assert_eq(got[3].at, 1700000090000LL);

	/* the queue_log of the same calls gives the same ids */
	n_got = 0;
	const char *const lines[] = {
		"1700000000|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000060|1700000000.7|q1|NONE|EXITWITHTIMEOUT|1|1|60",
		"1700000060|1700000000.7|q2|NONE|ENTERQUEUE||013800000007|1",
		"1700000090|1700000000.7|q2|NONE|EXITWITHKEY|1|1|1|30",
		"1700000090|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000095|1700000000.7|q1|PJSIP/8001|CONNECT|5|1700000090.2|3",
		"1700000200|1700000000.7|q1|PJSIP/8001|COMPLETECALLER|5|105|1",
		NULL,
	};
	read_log(lines);
	assert_ids(want, 7);
}

/* An agent blind-transfers the caller into another queue.  AMI publishes
 * the BlindTransfer, the caller's QueueCallerJoin in the next queue and
 * app_queue's AgentComplete for the first from different threads: the
 * AgentComplete may come after the join.  It was taken for news of the
 * call in the new queue ("moved to another queue"): the first queue's
 * answer and end were sent again and the call was forgotten, so that its
 * abandon in the next queue was skipped and nobody owed the caller a call
 * back. */
Test(visits, ami_agent_complete_after_the_join_of_the_next_queue)
{
	struct pbx_opts o = opts();
	struct pbx_amimap *am = pbx_amimap_new(&o);
	n_got = 0;
	ami(am, "Event: QueueCallerJoin\nUniqueid: 1700000000.7\nQueue: q1\nCallerIDNum: 013800000007\n", 1000);
	ami(am, "Event: AgentConnect\nUniqueid: 1700000000.7\nQueue: q1\nInterface: PJSIP/8001\n", 5000);
	ami(am, "Event: BlindTransfer\nResult: Success\nTransfererChannel: PJSIP/8001-00000002\n"
	        "TransfererUniqueid: 1700000005.2\nTransfereeUniqueid: 1700000000.7\nExtension: 8200\n", 60000);
	ami(am, "Event: QueueCallerJoin\nUniqueid: 1700000000.7\nQueue: q2\nCallerIDNum: 013800000007\n", 60100);
	ami(am, "Event: AgentComplete\nUniqueid: 1700000000.7\nQueue: q1\nInterface: PJSIP/8001\nReason: transfer\n",
	    60200);
	ami(am, "Event: QueueCallerAbandon\nUniqueid: 1700000000.7\nQueue: q2\n", 90000);
	pbx_amimap_free(am);
	const char *want[] = { "a1:1700000000.7:offered:q1", "a1:1700000000.7:answered:q1", "a1:1700000000.7:ended:q1",
	                       "a1:1700000000.7:offered:q2", "a1:1700000000.7:abandoned:q2" };
	assert_ids(want, 5);
	cr_assert_str_eq(got[2].outcome, "transferred");

	/* without the call class (no BlindTransfer) the late AgentComplete is
	 * the first visit's only end: sent, and the call in q2 kept */
	am = pbx_amimap_new(&o);
	n_got = 0;
	ami(am, "Event: QueueCallerJoin\nUniqueid: 1700000000.7\nQueue: q1\nCallerIDNum: 013800000007\n", 1000);
	ami(am, "Event: AgentConnect\nUniqueid: 1700000000.7\nQueue: q1\nInterface: PJSIP/8001\n", 5000);
	ami(am, "Event: QueueCallerJoin\nUniqueid: 1700000000.7\nQueue: q2\nCallerIDNum: 013800000007\n", 60100);
	ami(am, "Event: AgentComplete\nUniqueid: 1700000000.7\nQueue: q1\nInterface: PJSIP/8001\nReason: transfer\n",
	    60200);
	ami(am, "Event: QueueCallerAbandon\nUniqueid: 1700000000.7\nQueue: q2\n", 90000);
	pbx_amimap_free(am);
	const char *want2[] = { "a1:1700000000.7:offered:q1", "a1:1700000000.7:answered:q1",
	                        "a1:1700000000.7:offered:q2", "a1:1700000000.7:ended:q1",
	                        "a1:1700000000.7:abandoned:q2" };
	assert_ids(want2, 5);
}

/* The queue_log has the same race: app_queue logs BLINDTRANSFER from its
 * own thread, the transferee's ENTERQUEUE in the next queue comes from the
 * channel's, and either may be first.  A transfer record of the queue the
 * caller just left ended the call in the queue it was now waiting in (it
 * was forgotten): a restart then did not abandon it, and nobody owed the
 * caller a call back. */
Test(visits, queue_log_transfer_logged_after_the_join_of_the_next_queue)
{
	const char *const lines[] = {
		"1700000000|1700000000.7|q1|NONE|ENTERQUEUE||013800000007|1",
		"1700000005|1700000000.7|q1|PJSIP/8001|CONNECT|5|1700000001.1|2",
		"1700000060|1700000000.7|q2|NONE|ENTERQUEUE||013800000007|1",
		"1700000060|1700000000.7|q1|PJSIP/8001|BLINDTRANSFER|8200|from-internal|5|55|1",
		"1700000300|NONE|NONE|NONE|QUEUESTART|",
		NULL,
	};
	n_got = 0;
	read_log(lines);
	const char *want[] = { "a1:1700000000.7:offered:q1", "a1:1700000000.7:answered:q1",
	                       "a1:1700000000.7:offered:q2", "a1:1700000000.7:ended:q1",
	                       "a1:1700000000.7:abandoned:q2" };
	assert_ids(want, 5);
	cr_assert_str_eq(got[3].outcome, "transferred");
	cr_assert(got[4].synthesized);
}
