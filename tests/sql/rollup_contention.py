#!/usr/bin/env python3
"""tests/sql/rollup_contention.py - do batches of several daemons queue on the figures' rollup?

Not a test: a measurement (docs/write-cost.md, "Several daemons and the
rollup").  Every batch of a day ends by updating that day's rows of
hotline.figure_rollup (sql/023), and holds their row locks until COMMIT, so
batches of different daemons touching the same (day, department, agent)
cells take turns there.  This sends N call.offered (new callers, all today,
one queue: the worst case, every batch hits the same cells) to each of the
given daemons' sockets at once, and samples pg_stat_activity every 5 ms
while they run: how often a hotlined backend waits on a lock, and on what.

usage: rollup_contention.py N SOCKET [SOCKET...]     (psql via PG* env)
"""
import json
import socket
import subprocess
import sys
import threading
import time

N = int(sys.argv[1])
SOCKS = sys.argv[2:]
RUN = str(int(time.time()))


def send(path, tag, out):
    events = [{"type": "call.offered", "id": "rc%s:%s:%d" % (RUN, tag, i), "call_id": "rc%s-%s-%d" % (RUN, tag, i),
               "caller": "+86137%02d%06d" % (int(tag), i), "queue": "q1"} for i in range(N)]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    t0 = time.time()
    s.sendall("".join(json.dumps(e) + "\n" for e in events).encode())
    got, buf = 0, b""
    while got < N:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        buf += chunk
        got = buf.count(b"\n")
    out[tag] = (got, time.time() - t0)


def main():
    out = {}
    threads = [threading.Thread(target=send, args=(p, "%02d" % i, out)) for i, p in enumerate(SOCKS)]
    samples = waits = rollup_waits = 0
    for t in threads:
        t.start()
    q = ("SELECT count(*) FILTER (WHERE a.application_name LIKE 'hotlined%'),"
         " count(*) FILTER (WHERE a.application_name LIKE 'hotlined%' AND a.wait_event_type = 'Lock'),"
         " count(*) FILTER (WHERE a.application_name LIKE 'hotlined%' AND a.wait_event_type = 'Lock'"
         "   AND a.query LIKE '%figures_after%')"
         " FROM pg_stat_activity a")
    p = subprocess.Popen(["psql", "-X", "-qAt", "-F", " ", "-d", "hotline"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, bufsize=1)
    busy = 0
    while any(t.is_alive() for t in threads):
        p.stdin.write(q + ";\n")
        p.stdin.flush()
        n, w, rw = (int(x) for x in p.stdout.readline().split())
        samples += 1
        busy += n
        waits += w
        rollup_waits += rw
        time.sleep(0.005)
    p.stdin.close()
    p.wait()
    total = sum(g for g, _ in out.values())
    dt = max(d for _, d in out.values())
    print("daemons %d, events %d, %.2f s, %.0f acks/s in all" % (len(SOCKS), total, dt, total / dt))
    print("samples %d: a daemon backend waiting on a lock in %.1f%% of them, on the rollup (figures_after) in %.1f%%"
          % (samples, 100.0 * waits / max(samples, 1), 100.0 * rollup_waits / max(samples, 1)))


main()
