#!/usr/bin/env python3
"""due_order.py - the events that meet due clocks, sent while the clocks fall due.

scripts/bench.sh due_order: with ingest saturating the daemon, one event per
case (MODE=attempt: callback.attempt naming the case; MODE=call: call.answered
naming only a call stored for the case, so the daemon learns its case from
the database) is sent at WHEN (epoch seconds) over 4 connections, each under
listen.max_inflight so that the daemon reads them all at once.  A clock due
after the daemon received its case's event must not alert (store_due.c: a
due clock does not jump a queued event that may touch its case).  Prints the
send time; the shell checks the alerts against it.
"""
import json
import os
import socket
import sys
import time

port, ids_file, when = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
mode = os.environ.get("MODE", "attempt")
ids = [int(x) for x in open(ids_file).read().split()]


def line(c):
    if mode == "call":
        ev = {"type": "call.answered", "id": "dfr-%d" % c, "call_id": "dk-%d" % c, "agent": "a1"}
    else:
        ev = {"type": "callback.attempt", "id": "dfr-%d" % c, "case_id": c, "result": "reached", "agent": "a1"}
    return json.dumps(ev) + "\n"


K = 4
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(K)]
parts = [ids[i::K] for i in range(K)]
bufs = ["".join(line(c) for c in p).encode() for p in parts]
while time.time() < when:
    time.sleep(0.001)
t0 = time.time()
for s, b in zip(socks, bufs):
    s.sendall(b)
n = errs = 0
for s, p in zip(socks, parts):
    s.settimeout(60)
    data, k = b"", 0
    while k < len(p):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        while b"\n" in data:
            one, data = data.split(b"\n", 1)
            k += 1
            if b'"ok":true' not in one:
                errs += 1
                print(one[:200].decode(errors="replace"), file=sys.stderr)
    n += k
print(json.dumps({"sent_at": t0, "replies": n, "errors": errs}))
