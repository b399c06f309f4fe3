/*
 * test_pbx_ami.c - hotline-pbx's AMI client end to end: a fake Asterisk
 * Manager Interface in a child process replays transcripts written from the
 * Asterisk 18 AMI event documentation (../shared/fixtures/asterisk/
 * ami_event_docs) to the real bridge, which feeds the real daemon and
 * PostgreSQL.  The first session refuses the login, the second replays a
 * transcript and drops the connection (Asterisk restarting), the third
 * replays another: login, backoff, reconnect and the mapping of every queue
 * event (and the missing AgentConnect of an attended transfer) are checked
 * in the stored calls.  Another sends a message and a line longer than the
 * client's 64 KiB limit: they are skipped, the connection is kept.  A third
 * puts a 3 s member gosub between QueueCallerLeave and AgentConnect, as
 * app_queue does: no false abandon, or at least no callback left owed.  The
 * next crashes with calls in progress and comes back up: FullyBooted's
 * Uptime tells the restart, and those calls end.  The last stops hotlined
 * while Asterisk goes on: past `ami.backlog` the bridge drops one span of
 * events and names it, so that it can be imported from the queue_log.
 * queue_in_queue: a queue whose member is another queue (Local/601@...):
 * the Local channels joining the inner queue are the caller's legs, not
 * calls (no abandon per ring), and the inner queue's member is the agent.
 * Review 3: reconnect_resyncs_from_queue_status (the QueueStatus asked at
 * the login offers the call that joined during the gap, ends pbx_lost the
 * one gone meanwhile, invents no abandon; events without Timestamp are
 * dated on receipt) and resync_refused_follows_as_before.
 */
#include "pbx_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(pbx_ami, .init = hl_e2e_init, .fini = hl_e2e_cleanup, .timeout = 120);


static const char *AMI_JOIN =
	"Event: QueueCallerJoin\r\nPrivilege: agent,all\r\nChannel: PJSIP/trunk-00000001\r\nChannelState: 6\r\n"
	"ChannelStateDesc: Up\r\nCallerIDNum: 013800020001\r\nCallerIDName: Wang\r\nConnectedLineNum: <unknown>\r\n"
	"ConnectedLineName: <unknown>\r\nLanguage: en\r\nAccountCode: \r\nContext: from-pstn\r\nExten: 12345\r\n"
	"Priority: 3\r\nUniqueid: 1764633824.101\r\nLinkedid: 1764633824.101\r\nQueue: hotline\r\nPosition: 1\r\n"
	"Count: 1\r\n\r\n";

static const char *const TRANSCRIPT1[] = {
	/* call 101: answered by PJSIP/8001, completed by the caller */
	"@JOIN",
	"Event: AgentCalled\r\nChannel: PJSIP/trunk-00000001\r\nUniqueid: 1764633824.101\r\nDestChannel: PJSIP/8001-00000002\r\n"
	"DestUniqueid: 1764633826.102\r\nQueue: hotline\r\nMemberName: Li\r\nInterface: PJSIP/8001\r\n\r\n",
	"Event: QueueCallerLeave\r\nChannel: PJSIP/trunk-00000001\r\nUniqueid: 1764633824.101\r\nQueue: hotline\r\n"
	"Count: 0\r\nPosition: 1\r\n\r\n",
	"Event: AgentConnect\r\nChannel: PJSIP/trunk-00000001\r\nCallerIDNum: 013800020001\r\nUniqueid: 1764633824.101\r\n"
	"DestChannel: PJSIP/8001-00000002\r\nDestUniqueid: 1764633826.102\r\nQueue: hotline\r\nMemberName: Li\r\n"
	"Interface: PJSIP/8001\r\nRingTime: 2\r\nHoldTime: 5\r\n\r\n",
	"Event: AgentComplete\r\nChannel: PJSIP/trunk-00000001\r\nUniqueid: 1764633824.101\r\nQueue: hotline\r\n"
	"MemberName: Li\r\nInterface: PJSIP/8001\r\nHoldTime: 5\r\nTalkTime: 60\r\nReason: caller\r\n\r\n",
	/* call 201: abandoned */
	"Event: QueueCallerJoin\r\nChannel: PJSIP/trunk-00000003\r\nCallerIDNum: +8613800020002\r\n"
	"Uniqueid: 1764633900.201\r\nQueue: complaints\r\nPosition: 1\r\nCount: 1\r\n\r\n",
	"Event: QueueCallerAbandon\r\nChannel: PJSIP/trunk-00000003\r\nUniqueid: 1764633900.201\r\nQueue: complaints\r\n"
	"Position: 1\r\nOriginalPosition: 1\r\nHoldTime: 30\r\n\r\n",
	"Event: QueueCallerLeave\r\nChannel: PJSIP/trunk-00000003\r\nUniqueid: 1764633900.201\r\nQueue: complaints\r\n"
	"Count: 0\r\nPosition: 1\r\n\r\n",
	NULL,
};

static const char *const TRANSCRIPT2[] = {
	/* after a reconnect. call 301: times out of the queue (only QueueCallerLeave) */
	"Event: QueueCallerJoin\r\nChannel: SIP/trunk-00000004\r\nCallerIDNum: 13800020003\r\n"
	"Uniqueid: 1764634000.301\r\nQueue: hotline\r\nPosition: 1\r\nCount: 1\r\n\r\n",
	"Event: QueueCallerLeave\r\nChannel: SIP/trunk-00000004\r\nUniqueid: 1764634000.301\r\nQueue: hotline\r\n"
	"Count: 0\r\nPosition: 1\r\n\r\n",
	/* call 401: answered by Agent/3001, blind-transferred by the agent */
	"Event: QueueCallerJoin\r\nChannel: SIP/trunk-00000005\r\nCallerIDNum: 008613800020004\r\n"
	"Uniqueid: 1764634100.401\r\nQueue: consult\r\nPosition: 1\r\nCount: 1\r\n\r\n",
	"Event: AgentConnect\r\nChannel: SIP/trunk-00000005\r\nUniqueid: 1764634100.401\r\nQueue: consult\r\n"
	"MemberName: Agent 3001\r\nInterface: Agent/3001\r\nRingTime: 1\r\nHoldTime: 3\r\n\r\n",
	"Event: BlindTransfer\r\nResult: Success\r\nTransfererChannel: Agent/3001\r\nTransfererUniqueid: 1764634101.402\r\n"
	"TransfereeChannel: SIP/trunk-00000005\r\nTransfereeUniqueid: 1764634100.401\r\nIsExternal: No\r\n"
	"Context: from-internal\r\nExtension: 8100\r\n\r\n",
	"Event: AgentComplete\r\nChannel: SIP/trunk-00000005\r\nUniqueid: 1764634100.401\r\nQueue: consult\r\n"
	"Interface: Agent/3001\r\nHoldTime: 3\r\nTalkTime: 40\r\nReason: transfer\r\n\r\n",
	/* call 501: attended transfer whose AgentConnect never came (the quirk) */
	"Event: QueueCallerJoin\r\nChannel: SIP/trunk-00000006\r\nCallerIDNum: \"Zhao\" <013800020005>\r\n"
	"Uniqueid: 1764634200.501\r\nQueue: hotline\r\nPosition: 1\r\nCount: 1\r\n\r\n",
	"Event: AttendedTransfer\r\nResult: Success\r\nOrigTransfererChannel: PJSIP/8002-00000009\r\n"
	"OrigTransfererUniqueid: 1764634201.502\r\nSecondTransfererChannel: PJSIP/8002-0000000a\r\n"
	"SecondTransfererUniqueid: 1764634202.503\r\nDestType: Bridge\r\nTransfereeChannel: SIP/trunk-00000006\r\n"
	"TransfereeUniqueid: 1764634200.501\r\n\r\n",
	/* anonymous: offered as withheld (no caller; nothing owed) */
	"Event: QueueCallerJoin\r\nChannel: SIP/trunk-00000007\r\nCallerIDNum: <unknown>\r\n"
	"Uniqueid: 1764634300.601\r\nQueue: hotline\r\nPosition: 1\r\nCount: 1\r\n\r\n",
	NULL,
};

static void send_all(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			_exit(3);
		s += w;
		n -= (size_t)w;
	}
}

/* Accept, banner, check the login, replay a transcript. 0 ok. */
static int ami_session(int ls, const char *const *tr, const char *secret)
{
	int fd = accept(ls, NULL, NULL);
	if (fd < 0)
		return -1;
	send_all(fd, "Asterisk Call Manager/7.0.3\r\n");
	char buf[4096];
	size_t n = 0;
	buf[0] = '\0';
	while (!strstr(buf, "\r\n\r\n") && n < sizeof buf - 1) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
	}
	char want[300];
	snprintf(want, sizeof want, "Secret: %s\r\n", secret);
	if (!strstr(buf, "Action: Login\r\n") || !strstr(buf, "Username: hotline\r\n") || !strstr(buf, want)) {
		send_all(fd, "Response: Error\r\nActionID: hotline-pbx-login\r\nMessage: Authentication failed\r\n\r\n");
		close(fd);
		return -1;
	}
	send_all(fd, "Response: Success\r\nActionID: hotline-pbx-login\r\nMessage: Authentication accepted\r\n\r\n");
	send_all(fd, "Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n");
	for (int i = 0; tr[i]; i++)
		send_all(fd, strcmp(tr[i], "@JOIN") == 0 ? AMI_JOIN : tr[i]);
	return fd;
}

/* A listening socket on 127.0.0.1; its port in *port. */
static int ami_listener(int *port)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	cr_assert_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t al = sizeof a;
	getsockname(ls, (struct sockaddr *)&a, &al);
	cr_assert_eq(listen(ls, 4), 0);
	*port = ntohs(a.sin_port);
	return ls;
}

/* A fake Asterisk in a child process: script(ls) serves the bridge on the
 * listening socket, then the child waits to be killed (it dies with us). */
static pid_t fake_asterisk(int ls, void (*script)(int ls))
{
	pid_t parent = getpid();
	pid_t srv = fork();
	cr_assert(srv >= 0);
	if (srv == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		script(ls);
		for (;;)
			pause();
	}
	close(ls);
	return srv;
}

/* Run the bridge against the fake Asterisk on port until `want` events are
 * stored (or timeout_ms), then stop both.  Returns the events stored; the
 * bridge's exit status in *rc. */
static int64_t run_bridge(struct hl_d *d, int port, pid_t srv, int64_t want, int timeout_ms, int *rc)
{
	write_pbx_conf(d, "  ami = { user = \"hotline\"; secret = \"s3cret\"; };");
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
	pid_t pid = pbx_start(d, "ami", hp, NULL, NULL);
	int64_t have = await_events(d, want, timeout_ms);
	hl_sleep_ms(300);
	kill(pid, SIGTERM);
	*rc = pbx_wait(pid, 10000);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	return have;
}

static void transcripts_script(int ls)
{
	/* the first session refuses the login (as after a secret change on the
	 * PBX side); the bridge must back off and try again */
	int fd = ami_session(ls, TRANSCRIPT1, "another-secret");
	if (fd >= 0)
		_exit(2);
	fd = ami_session(ls, TRANSCRIPT1, "s3cret");
	if (fd < 0)
		_exit(2);
	sleep(1);
	close(fd); /* Asterisk restarted: the bridge must reconnect */
	fd = ami_session(ls, TRANSCRIPT2, "s3cret");
	if (fd < 0)
		_exit(2);
}

HL_TEST(pbx_ami, transcripts)
{
	struct hl_d *d = hl_d_up(NULL);
	int port;
	pid_t srv = fake_asterisk(ami_listener(&port), transcripts_script);
	/* 101: offered, answered, ended; 201: offered, abandoned; 301: offered, abandoned (leave);
	 * 401: offered, answered, ended; 501: offered, answered (synthesized), ended;
	 * 601: offered as withheld (it is still waiting when the transcript ends) */
	int rc;
	int64_t have = run_bridge(d, port, srv, 14, 30000, &rc);
	cr_assert_eq(have, 14, "events stored: %lld\n%s", (long long)have, pbx_log_text(d));
	cr_assert_eq(events_stored(d), 14);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764634300.601' AND "
	                           "caller LIKE 'withheld:%%' AND state = 'offered'"), 1);
	cr_assert_eq(rc, 0, "%s", pbx_log_text(d));

	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633824.101' AND "
	                           "agent = 'PJSIP/8001' AND outcome = 'completed' AND caller = '+8613800020001'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764633900.201' AND "
	                           "state = 'abandoned' AND answered_at IS NULL"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764634000.301' AND "
	                           "state = 'abandoned' AND caller = '+8613800020003'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764634100.401' AND "
	                           "agent = 'Agent/3001' AND outcome = 'transferred'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764634200.501' AND "
	                           "answered_at IS NOT NULL AND outcome = 'transferred'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks WHERE kind = 'callback' AND state = 'pending'"), 2);
	const char *log = pbx_log_text(d);
	cr_expect(strstr(log, "logged in as hotline"), "%s", log);
	cr_expect(strstr(log, "login refused"), "%s", log);
	cr_expect(strstr(log, "reconnecting"), "%s", log);
	/* the events of the gap are not replayed: the log names the span to import */
	cr_expect(strstr(log, "were not received while disconnected") && strstr(log, "import the queue_log"), "%s", log);
	cr_expect_null(strstr(log, "13800020"), "a caller number in the log:\n%s", log);
}

/* A message over 64 KiB, and a line that does not end before 64 KiB, are
 * skipped: the events around them still arrive, over the same connection. */
static void oversized_script(int ls)
{
	static const char *const none[] = { NULL };
	int fd = ami_session(ls, none, "s3cret");
	if (fd < 0)
		_exit(2);
	static char big[100000];
	memset(big, 'x', sizeof big - 1);
	/* a message of many ordinary lines, 80 KiB in all */
	send_all(fd, "Event: VarSet\r\nUniqueid: 1764635000.700\r\n");
	for (int i = 0; i < 800; i++)
		send_all(fd, "Variable: SOMETHING_LONG\r\nValue: 0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
	send_all(fd, "\r\n");
	send_all(fd, "Event: QueueCallerJoin\r\nCallerIDNum: 13800020007\r\nUniqueid: 1764635000.701\r\n"
	             "Queue: hotline\r\nPosition: 1\r\nCount: 1\r\n\r\n"
	             "Event: QueueCallerAbandon\r\nUniqueid: 1764635000.701\r\nQueue: hotline\r\nHoldTime: 9\r\n\r\n");
	/* one header line of 100 KB, sent in pieces */
	send_all(fd, "Event: Newexten\r\nAppData: ");
	for (int i = 0; i < 4; i++) {
		send_all(fd, big);
		usleep(50000);
	}
	send_all(fd, "\r\nUniqueid: 1764635000.702\r\n\r\n");
	send_all(fd, "Event: QueueCallerJoin\r\nCallerIDNum: 13800020008\r\nUniqueid: 1764635000.703\r\n"
	             "Queue: hotline\r\nPosition: 1\r\nCount: 1\r\n\r\n"
	             "Event: QueueCallerAbandon\r\nUniqueid: 1764635000.703\r\nQueue: hotline\r\nHoldTime: 9\r\n\r\n");
}

HL_TEST(pbx_ami, oversized_messages_are_skipped)
{
	struct hl_d *d = hl_d_up(NULL);
	int port;
	pid_t srv = fake_asterisk(ami_listener(&port), oversized_script);
	int rc;
	int64_t have = run_bridge(d, port, srv, 4, 20000, &rc);
	const char *log = pbx_log_text(d);
	cr_assert_eq(have, 4, "events stored: %lld\n%s", (long long)have, log);
	cr_assert_eq(rc, 0, "%s", log);
	cr_expect_null(strstr(log, "reconnecting"), "%s", log);
	cr_expect(strstr(log, "skipped"), "%s", log);
	cr_expect_null(strstr(log, "13800020"), "a caller number in the log:\n%s", log);
}

/* A member gosub of 3 s between the leave and AgentConnect (app_queue's
 * order).  701: with the DialEnd ANSWER Asterisk sends first, the call is
 * simply answered and ended, no callback owed.  702: without it (an account
 * that cannot read the call class) the grace infers an abandon, but the late
 * connect still reaches hotlined and meets the callback it armed. */
static void slow_gosub_script(int ls)
{
	static const char *const none[] = { NULL };
	int fd = ami_session(ls, none, "s3cret");
	if (fd < 0)
		_exit(2);
	for (int call = 1; call <= 2; call++) {
		char ev[1024];
		snprintf(ev, sizeof ev,
		         "Event: QueueCallerJoin\r\nCallerIDNum: 1380002080%d\r\nUniqueid: 1764636000.70%d\r\n"
		         "Queue: hotline\r\nPosition: 1\r\nCount: 1\r\n\r\n",
		         call, call);
		send_all(fd, ev);
		if (call == 1)
			send_all(fd, "Event: DialEnd\r\nChannel: PJSIP/trunk-1\r\nUniqueid: 1764636000.701\r\n"
			             "DestChannel: PJSIP/8001-2\r\nDestUniqueid: 1764636000.711\r\nDialStatus: ANSWER\r\n\r\n");
		snprintf(ev, sizeof ev,
		         "Event: QueueCallerLeave\r\nUniqueid: 1764636000.70%d\r\nQueue: hotline\r\nPosition: 1\r\n"
		         "Count: 0\r\n\r\n",
		         call);
		send_all(fd, ev);
		sleep(3); /* the member gosub */
		snprintf(ev, sizeof ev,
		         "Event: AgentConnect\r\nUniqueid: 1764636000.70%d\r\nDestUniqueid: 1764636000.711\r\n"
		         "Queue: hotline\r\nMemberName: Li\r\nInterface: PJSIP/8001\r\nHoldTime: 5\r\n\r\n"
		         "Event: AgentComplete\r\nUniqueid: 1764636000.70%d\r\nQueue: hotline\r\n"
		         "Interface: PJSIP/8001\r\nReason: agent\r\n\r\n",
		         call, call);
		send_all(fd, ev);
	}
}

HL_TEST(pbx_ami, slow_member_gosub)
{
	struct hl_d *d = hl_d_up(NULL);
	int port;
	pid_t srv = fake_asterisk(ami_listener(&port), slow_gosub_script);
	/* 701: offered, answered, ended; 702: offered, abandoned, answered, ended */
	int rc;
	int64_t have = run_bridge(d, port, srv, 7, 20000, &rc);
	const char *log = pbx_log_text(d);
	cr_assert_eq(have, 7, "events stored: %lld\n%s", (long long)have, log);
	cr_assert_eq(rc, 0, "%s", log);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764636000.701' AND "
	                           "state = 'ended' AND answered_at IS NOT NULL AND agent = 'PJSIP/8001'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks k JOIN hotline.calls c USING (case_id) "
	                           "WHERE c.call_id = 't:1764636000.701' AND k.kind = 'callback'"), 0);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks k JOIN hotline.calls c USING (case_id) "
	                           "WHERE c.call_id = 't:1764636000.702' AND k.kind = 'callback' AND k.state = 'met'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764636000.702' AND "
	                           "answered_at IS NOT NULL AND state = 'ended'"), 1, "answered after all, not abandoned");
}

/* Asterisk crashes with a caller waiting and another talking; the bridge
 * reconnects to an Asterisk up for 5 s.  FullyBooted's Uptime tells it: the
 * waiting caller is abandoned (owed a call back), the talk ended. */
static void restart_script(int ls)
{
	static const char *const before[] = {
		"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 86400\r\nLastReload: 600\r\n"
		"Status: Fully Booted\r\n\r\n",
		"Event: QueueCallerJoin\r\nCallerIDNum: 13800020011\r\nUniqueid: 1764637000.801\r\nQueue: hotline\r\n"
		"Position: 1\r\nCount: 1\r\n\r\n",
		"Event: QueueCallerJoin\r\nCallerIDNum: 13800020012\r\nUniqueid: 1764637000.802\r\nQueue: hotline\r\n"
		"Position: 2\r\nCount: 2\r\n\r\n",
		"Event: AgentConnect\r\nUniqueid: 1764637000.802\r\nQueue: hotline\r\nInterface: PJSIP/8001\r\n"
		"HoldTime: 2\r\n\r\n",
		NULL,
	};
	static const char *const after[] = {
		"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 5\r\nLastReload: 5\r\n"
		"Status: Fully Booted\r\n\r\n",
		NULL,
	};
	int fd = ami_session(ls, before, "s3cret");
	if (fd < 0)
		_exit(2);
	sleep(1);
	close(fd); /* the crash */
	fd = ami_session(ls, after, "s3cret");
	if (fd < 0)
		_exit(2);
}

HL_TEST(pbx_ami, asterisk_restart_ends_the_calls_it_had)
{
	struct hl_d *d = hl_d_up(NULL);
	int port;
	pid_t srv = fake_asterisk(ami_listener(&port), restart_script);
	/* 801: offered, abandoned at the restart; 802: offered, answered, ended */
	int rc;
	int64_t have = run_bridge(d, port, srv, 5, 20000, &rc);
	const char *log = pbx_log_text(d);
	cr_assert_eq(have, 5, "events stored: %lld\n%s", (long long)have, log);
	cr_assert_eq(rc, 0, "%s", log);
	cr_expect(strstr(log, "1 restarts"), "%s", log);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764637000.801' AND "
	                           "state = 'abandoned'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks k JOIN hotline.calls c USING (case_id) "
	                           "WHERE c.call_id = 't:1764637000.801' AND k.kind = 'callback' AND k.state = 'pending'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764637000.802' AND "
	                           "state = 'ended' AND outcome = 'pbx_restart'"), 1);
}

/* hotlined stops taking events (here: stopped with SIGSTOP, its socket still
 * open) while Asterisk goes on.  With ami.backlog = 10 the bridge keeps ten
 * events and drops the next thirty, saying from when; once hotlined answers
 * again it names the span and its count, and the events after it arrive. */
static int backlog_go[2];

static void join_events(int fd, int from, int n)
{
	for (int i = from; i < from + n; i++) {
		char ev[512];
		snprintf(ev, sizeof ev,
		         "Event: QueueCallerJoin\r\nCallerIDNum: 138000%05d\r\nUniqueid: 1764638000.%d\r\n"
		         "Queue: hotline\r\nPosition: 1\r\nCount: 1\r\n\r\n",
		         i, i);
		send_all(fd, ev);
	}
}

static void backlog_script(int ls)
{
	static const char *const none[] = { NULL };
	int fd = ami_session(ls, none, "s3cret");
	if (fd < 0)
		_exit(2);
	join_events(fd, 1, 40);
	char go;
	if (read(backlog_go[0], &go, 1) != 1)
		_exit(2);
	join_events(fd, 101, 5);
}

HL_TEST(pbx_ami, full_backlog_drops_a_named_span)
{
	struct hl_d *d = hl_d_up(NULL);
	cr_assert_eq(pipe(backlog_go), 0);
	int port;
	pid_t srv = fake_asterisk(ami_listener(&port), backlog_script);
	close(backlog_go[0]);
	kill(d->pid, SIGSTOP); /* hotlined takes nothing, its socket still accepts */
	write_pbx_conf(d, "  ami = { user = \"hotline\"; secret = \"s3cret\"; backlog = 10; };");
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
	pid_t pid = pbx_start(d, "ami", hp, NULL, NULL);
	bool dropping = false;
	for (int i = 0; i < 200 && !dropping; i++) {
		hl_sleep_ms(50);
		dropping = strstr(pbx_log_text(d), "dropping the events from") != NULL;
	}
	hl_sleep_ms(300); /* the rest of the forty arrive, and are dropped */
	kill(d->pid, SIGCONT);
	cr_assert(dropping, "%s", pbx_log_text(d));
	bool again = false;
	for (int i = 0; i < 200 && !again; i++) {
		hl_sleep_ms(50);
		again = strstr(pbx_log_text(d), "hotlined takes events again") != NULL;
	}
	cr_assert(again, "%s", pbx_log_text(d));
	cr_assert_eq(write(backlog_go[1], "g", 1), 1);
	int64_t have = await_events(d, 15, 20000);
	hl_sleep_ms(300);
	kill(pid, SIGTERM);
	int rc = pbx_wait(pid, 10000);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	close(backlog_go[1]);
	const char *log = pbx_log_text(d);
	cr_assert_eq(have, 15, "events stored: %lld\n%s", (long long)have, log);
	cr_expect_eq(rc, 0, "%s", log);
	cr_expect(strstr(log, "30 event(s) from "), "%s", log);
	cr_expect(strstr(log, "30 event(s) dropped while hotlined did not take them"), "%s", log);
	/* the ten kept are the first ten; the five after the span all arrived */
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id IN "
	                           "('t:1764638000.1', 't:1764638000.10', 't:1764638000.101', 't:1764638000.105')"), 4);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764638000.11'"), 0);
	cr_expect_null(strstr(log, "138000000"), "a caller number in the log:\n%s", log);
}

/* `hotline-pbx --check` output and status for one configuration text. */
static int check_conf(const char *text, char *out, size_t outlen)
{
	char path[128], cmd[512];
	snprintf(path, sizeof path, "/tmp/hl-pbx-check-%d.conf", (int)getpid());
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s -c %s --check 2>&1", pbx_bin(), path);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	size_t n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	unlink(path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The ami group is checked like the rest: a misspelt key is an error, not
 * a silent default, and the backlog has a range. */
Test(pbx_ami, ami_group_keys_are_checked)
{
	char out[1024];
	cr_expect_eq(check_conf("pbx = { socket = \"/x\"; ami = { user = \"u\"; secert = \"s\"; }; };\n", out, sizeof out), 2);
	cr_expect(strstr(out, ":1: secert: unknown key"), "%s", out);
	cr_expect_eq(check_conf("pbx = { socket = \"/x\"; ami = { user = \"u\"; backlog = 5; }; };\n", out, sizeof out), 2);
	cr_expect(strstr(out, "backlog: out of range"), "%s", out);
	cr_expect_eq(check_conf("pbx = { socket = \"/x\"; ami = \"u\"; };\n", out, sizeof out), 2);
	cr_expect(strstr(out, "ami: must be a group"), "%s", out);
	cr_expect_eq(check_conf("pbx = { socket = \"/x\"; ami = { user = \"u\"; secret = \"s\"; backlog = 500; }; };\n",
	                        out, sizeof out), 0, "%s", out);
}

/* Queue 600's member is queue 601 (Local/601@from-internal/n).  The first
 * ring of it times out (the leg is abandoned in 601), the second is
 * answered there by PJSIP/8001.  Then another caller, 902, abandons: once
 * its abandon is stored, everything before it is. */
static void queue_in_queue_script(int ls)
{
	static const char *const tr[] = {
		"Event: QueueCallerJoin\r\nChannel: PJSIP/trunk-00000011\r\nCallerIDNum: 013800020091\r\n"
		"Uniqueid: 1764638000.901\r\nLinkedid: 1764638000.901\r\nQueue: 600\r\nPosition: 1\r\nCount: 1\r\n\r\n",
		"Event: QueueCallerJoin\r\nChannel: Local/601@from-internal-00000012;2\r\nCallerIDNum: 013800020091\r\n"
		"Uniqueid: 1764638001.904\r\nLinkedid: 1764638000.901\r\nQueue: 601\r\nPosition: 1\r\nCount: 1\r\n\r\n",
		"Event: QueueCallerAbandon\r\nChannel: Local/601@from-internal-00000012;2\r\nUniqueid: 1764638001.904\r\n"
		"Linkedid: 1764638000.901\r\nQueue: 601\r\nPosition: 1\r\nOriginalPosition: 1\r\nHoldTime: 15\r\n\r\n",
		"Event: QueueCallerLeave\r\nChannel: Local/601@from-internal-00000012;2\r\nUniqueid: 1764638001.904\r\n"
		"Linkedid: 1764638000.901\r\nQueue: 601\r\nCount: 0\r\nPosition: 1\r\n\r\n",
		"Event: QueueCallerJoin\r\nChannel: Local/601@from-internal-00000014;2\r\nCallerIDNum: 013800020091\r\n"
		"Uniqueid: 1764638021.906\r\nLinkedid: 1764638000.901\r\nQueue: 601\r\nPosition: 1\r\nCount: 1\r\n\r\n",
		"Event: QueueCallerLeave\r\nChannel: Local/601@from-internal-00000014;2\r\nUniqueid: 1764638021.906\r\n"
		"Linkedid: 1764638000.901\r\nQueue: 601\r\nCount: 0\r\nPosition: 1\r\n\r\n",
		"Event: AgentConnect\r\nChannel: Local/601@from-internal-00000014;2\r\nUniqueid: 1764638021.906\r\n"
		"Linkedid: 1764638000.901\r\nQueue: 601\r\nMemberName: Li\r\nInterface: PJSIP/8001\r\nHoldTime: 4\r\n\r\n",
		"Event: QueueCallerLeave\r\nChannel: PJSIP/trunk-00000011\r\nUniqueid: 1764638000.901\r\n"
		"Linkedid: 1764638000.901\r\nQueue: 600\r\nCount: 0\r\nPosition: 1\r\n\r\n",
		"Event: AgentConnect\r\nChannel: PJSIP/trunk-00000011\r\nUniqueid: 1764638000.901\r\n"
		"Linkedid: 1764638000.901\r\nQueue: 600\r\nMemberName: 601\r\nInterface: Local/601@from-internal/n\r\n"
		"HoldTime: 25\r\n\r\n",
		"Event: AgentComplete\r\nChannel: Local/601@from-internal-00000014;2\r\nUniqueid: 1764638021.906\r\n"
		"Linkedid: 1764638000.901\r\nQueue: 601\r\nInterface: PJSIP/8001\r\nTalkTime: 60\r\nReason: caller\r\n\r\n",
		"Event: AgentComplete\r\nChannel: PJSIP/trunk-00000011\r\nUniqueid: 1764638000.901\r\n"
		"Linkedid: 1764638000.901\r\nQueue: 600\r\nInterface: Local/601@from-internal/n\r\nTalkTime: 60\r\n"
		"Reason: caller\r\n\r\n",
		"Event: QueueCallerJoin\r\nChannel: PJSIP/trunk-00000019\r\nCallerIDNum: 013800020092\r\n"
		"Uniqueid: 1764638100.902\r\nLinkedid: 1764638100.902\r\nQueue: 600\r\nPosition: 1\r\nCount: 1\r\n\r\n",
		"Event: QueueCallerAbandon\r\nChannel: PJSIP/trunk-00000019\r\nUniqueid: 1764638100.902\r\n"
		"Linkedid: 1764638100.902\r\nQueue: 600\r\nPosition: 1\r\nOriginalPosition: 1\r\nHoldTime: 9\r\n\r\n",
		NULL,
	};
	if (ami_session(ls, tr, "s3cret") < 0)
		_exit(2);
}

HL_TEST(pbx_ami, queue_in_queue)
{
	struct hl_d *d = hl_d_up(NULL);
	int port;
	pid_t srv = fake_asterisk(ami_listener(&port), queue_in_queue_script);
	/* 901: offered, answered, ended; 902: offered, abandoned */
	int rc;
	int64_t have = run_bridge(d, port, srv, 5, 20000, &rc);
	const char *log = pbx_log_text(d);
	cr_assert_geq(have, 5, "events stored: %lld\n%s", (long long)have, log);
	cr_assert_eq(rc, 0, "%s", log);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls"), 2, "the legs were taken for calls");
	cr_expect_eq(events_stored(d), 5);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764638000.901' AND "
	                           "state = 'ended' AND agent = 'PJSIP/8001' AND caller = '+8613800020091'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.clocks k JOIN hotline.calls c USING (case_id) "
	                           "WHERE c.call_id = 't:1764638000.901' AND k.kind = 'callback'"), 0,
	             "a callback owed for a ring of the inner queue");
}

/* review 3: Asterisk does not replay what a lost session missed.  After
 * the reconnect the bridge asks QueueStatus: call 702, which joined while
 * the link was down and still waits, is offered; 701, known and still
 * waiting, is not offered again; 703, known to wait and now in no queue,
 * ends "pbx_lost" (no abandon invented, no callback owed for it). */
static void resync_script(int ls)
{
	static const char *const first[] = {
		"Event: QueueCallerJoin\r\nChannel: PJSIP/trunk-21\r\nCallerIDNum: 013800020701\r\n"
		"Uniqueid: 1764639000.701\r\nQueue: hotline\r\nPosition: 1\r\nCount: 1\r\n\r\n",
		"Event: QueueCallerJoin\r\nChannel: PJSIP/trunk-23\r\nCallerIDNum: 013800020703\r\n"
		"Uniqueid: 1764639000.703\r\nQueue: hotline\r\nPosition: 2\r\nCount: 2\r\n\r\n",
		"Event: QueueCallerLeave\r\nChannel: PJSIP/trunk-23\r\nUniqueid: 1764639000.703\r\nQueue: hotline\r\n"
		"Count: 1\r\nPosition: 2\r\n\r\n",
		NULL,
	};
	static const char *const second[] = {
		"Response: Success\r\nActionID: hotline-pbx-resync\r\nEventList: start\r\n"
		"Message: Queue status will follow\r\n\r\n",
		"Event: QueueEntry\r\nActionID: hotline-pbx-resync\r\nQueue: hotline\r\nPosition: 1\r\n"
		"Channel: PJSIP/trunk-21\r\nUniqueid: 1764639000.701\r\nCallerIDNum: 013800020701\r\nWait: 9\r\n\r\n",
		"Event: QueueEntry\r\nActionID: hotline-pbx-resync\r\nQueue: hotline\r\nPosition: 2\r\n"
		"Channel: PJSIP/trunk-22\r\nUniqueid: 1764639004.702\r\nCallerIDNum: 013800020702\r\nWait: 3\r\n\r\n",
		"Event: QueueStatusComplete\r\nActionID: hotline-pbx-resync\r\nEventList: Complete\r\n"
		"ListItems: 2\r\n\r\n",
		NULL,
	};
	int fd = ami_session(ls, first, "s3cret");
	if (fd < 0)
		_exit(2);
	close(fd); /* at once: 703's leave grace cannot run out before the link drops */
	if (ami_session(ls, second, "s3cret") < 0)
		_exit(2);
}

HL_TEST(pbx_ami, reconnect_resyncs_from_queue_status)
{
	struct hl_d *d = hl_d_up(NULL);
	int port;
	pid_t srv = fake_asterisk(ami_listener(&port), resync_script);
	/* 701 offered; 703 offered and ended pbx_lost; 702 offered */
	int rc;
	int64_t have = run_bridge(d, port, srv, 4, 20000, &rc);
	const char *log = pbx_log_text(d);
	hl_sleep_ms(2500); /* a wrongly inferred abandon of 703 would be stored by now */
	cr_assert_geq(have, 4, "events stored: %lld\n%s", (long long)have, log);
	cr_assert_eq(rc, 0, "%s", log);
	cr_expect_eq(events_stored(d), 4, "%s", log);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764639004.702' AND "
	                           "state = 'offered' AND caller = '+8613800020702'"), 1, "the call that joined meanwhile");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764639000.701' AND "
	                           "state = 'offered'"), 1);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764639000.703' AND "
	                           "state = 'ended' AND outcome = 'pbx_lost' AND answered_at IS NULL"), 1,
	             "the call gone meanwhile");
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE state = 'abandoned'"), 0, "an invented abandon");
	/* no Timestamp header (manager.conf's default): dated on receipt, 702 less its Wait */
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE offered_at BETWEEN now() - interval '2 min' "
	                           "AND now() + interval '5 s'"), 3, "events without a Timestamp misdated");
	cr_expect_null(strstr(log, "13800020"), "a caller number in the log:\n%s", log);
}

/* An Asterisk that refuses QueueStatus (an account or a version that does
 * not allow it): said in the log, and the calls known before the gap are
 * followed as ever: 711 left just before the link dropped (its grace held
 * while nobody can say whether its AgentConnect was lost), and with no
 * resync to come the grace runs again: its abandon is sent. */
static void resync_refused_script(int ls)
{
	static const char *const first[] = {
		"Event: QueueCallerJoin\r\nChannel: PJSIP/trunk-31\r\nCallerIDNum: 013800020711\r\n"
		"Uniqueid: 1764639100.711\r\nQueue: hotline\r\nPosition: 1\r\nCount: 1\r\n\r\n",
		"Event: QueueCallerLeave\r\nChannel: PJSIP/trunk-31\r\nUniqueid: 1764639100.711\r\nQueue: hotline\r\n"
		"Count: 0\r\nPosition: 1\r\n\r\n",
		NULL,
	};
	static const char *const second[] = {
		"Response: Error\r\nActionID: hotline-pbx-resync\r\nMessage: Permission denied\r\n\r\n",
		NULL,
	};
	int fd = ami_session(ls, first, "s3cret");
	if (fd < 0)
		_exit(2);
	close(fd);
	if (ami_session(ls, second, "s3cret") < 0)
		_exit(2);
}

HL_TEST(pbx_ami, resync_refused_follows_as_before)
{
	struct hl_d *d = hl_d_up(NULL);
	int port;
	pid_t srv = fake_asterisk(ami_listener(&port), resync_refused_script);
	int rc;
	int64_t have = run_bridge(d, port, srv, 2, 20000, &rc);
	const char *log = pbx_log_text(d);
	cr_assert_eq(have, 2, "events stored: %lld\n%s", (long long)have, log);
	cr_assert_eq(rc, 0, "%s", log);
	cr_expect_eq(hl_sql_int(d, "SELECT count(*) FROM hotline.calls WHERE call_id = 't:1764639100.711' AND "
	                           "state = 'abandoned'"), 1, "%s", log);
	cr_expect(strstr(log, "QueueStatus refused (Permission denied)"), "%s", log);
}
