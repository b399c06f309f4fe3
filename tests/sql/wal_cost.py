#!/usr/bin/env python3
"""tests/sql/wal_cost.py - what one event costs the database, per event type.

Not a test: a measurement (docs/write-cost.md, "The cost of an event").  Sends N
events of one type at a time to a running daemon (its Unix socket, NDJSON,
all of them in flight at once so the daemon batches them as under load),
waits for every acknowledgement, and reads around each phase:

  - WAL bytes: the pg_current_wal_lsn() difference (the cluster must be
    otherwise idle: a private cluster, nothing else on it), with and without
    full-page images; a CHECKPOINT before each phase, so that every phase
    pays the first touch of each page the same way;
  - heap rows (inserted or updated; the CONFIRM of a speculative
    insert not counted) and index entries written, per table: the heap and index
    (btree, BRIN) WAL records of the phase, read back with pg_walinspect and
    mapped to their relations (exact; pg_stat_user_tables lags by seconds);
  - bytes per stored event: the size of hotline.case_events with its indexes
    (and the dedupe table, when there is one) over its row count.

Needs the pg_walinspect extension (PostgreSQL 15+, contrib) in the database.

usage: wal_cost.py SOCKET N [PHASE...]     (psql reaches the cluster via PG* env)
"""
import json
import re
import socket
import subprocess
import sys
import time

SOCK, N = sys.argv[1], int(sys.argv[2])
ONLY = sys.argv[3:]
RUN = str(int(time.time()))


def psql(sql):
    out = subprocess.run(["psql", "-X", "-qAt", "-F", "\t", "-d", "hotline", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def send(events):
    """All events in flight at once; returns the acknowledgements by id."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(SOCK)
    data = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events).encode()
    s.sendall(data)
    acks, buf = {}, b""
    while len(acks) < len(events):
        chunk = s.recv(1 << 16)
        if not chunk:
            raise SystemExit("daemon closed the connection")
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            a = json.loads(line)
            if not a.get("ok"):
                raise SystemExit("refused: %s" % line.decode())
            acks[a["id"]] = a
    s.close()
    return acks


WAL_BY_REL = """
SELECT coalesce(t.relname, c.relname, 'other'), c.relkind,
       count(DISTINCT r.start_lsn) FILTER (WHERE r.record_type NOT IN ('CONFIRM', 'HEAP_CONFIRM')),
       sum(r.record_length) FILTER (WHERE m.n = 1), sum(r.fpi_length) FILTER (WHERE m.n = 1)
FROM pg_get_wal_records_info('%s', '%s') r
     CROSS JOIN LATERAL (SELECT x AS node, row_number() OVER () AS n
                         FROM regexp_matches(coalesce(r.block_ref, ''), 'rel \\d+/(\\d+)/(\\d+)', 'g') x) m0
     CROSS JOIN LATERAL (SELECT m0.node[2] AS node, m0.n WHERE m0.node[1]::oid =
                         (SELECT oid FROM pg_database WHERE datname = current_database())) m
     LEFT JOIN pg_class c ON c.relfilenode = m.node::oid
     LEFT JOIN pg_index i ON i.indexrelid = c.oid
     LEFT JOIN pg_class t ON t.oid = i.indrelid
WHERE r.resource_manager IN ('Heap', 'Heap2', 'Btree', 'BRIN')
  AND r.record_type NOT IN ('PRUNE', 'VACUUM', 'VISIBLE', 'LOCK', 'CLEAN', 'FREEZE_PAGE')
GROUP BY 1, 2 ORDER BY 1, 2
"""


def wal():
    return psql("SELECT pg_current_wal_lsn()")[0][0]


def phase(name, events):
    if ONLY and name not in ONLY:
        send(events)
        return
    psql("CHECKPOINT")
    lsn0 = wal()
    t0 = time.time()
    acks = send(events)
    dt = time.time() - t0
    lsn1 = wal()
    wal_bytes = int(psql("SELECT pg_wal_lsn_diff('%s', '%s')" % (lsn1, lsn0))[0][0])
    fpi, recs = psql("SELECT coalesce(sum(fpi_length), 0), count(*) FROM pg_get_wal_records_info('%s', '%s')"
                     % (lsn0, lsn1))[0]
    rows = idx = 0
    tables = {}
    for rel, kind, n, nbytes, _ in psql(WAL_BY_REL % (lsn0, lsn1)):
        n, nbytes = int(n), int(nbytes or 0)
        if rel.startswith("pg_") or rel == "other":
            continue
        base = re.sub(r"_(p\d{6}|default)$", "", rel)
        t = tables.setdefault(base, [0, 0, 0])
        t[2] += nbytes
        if kind == "i":
            idx += n; t[1] += n
        else:
            rows += n; t[0] += n
    n = len(events)
    detail = ", ".join("%s %.1f/%.1f %.0fB" % (k, v[0] / len(events), v[1] / len(events), v[2] / len(events))
                       for k, v in sorted(tables.items()))
    print("| %-22s | %5.2f | %5.2f | %6.0f | %6.0f | %5.1f | %5.0f/s | %s |" % (
        name, rows / n, idx / n, wal_bytes / n, (wal_bytes - int(fpi)) / n, int(recs) / n, n / dt, detail))
    sys.stdout.flush()
    return acks


def main():
    print("| event | heap rows/ev | index entries/ev | WAL bytes/ev | without FPI | WAL records/ev | ack rate | per table: heap rows/index entries per event, WAL bytes per event without FPI |")
    print("|---|---|---|---|---|---|---|---|")
    p = "wc%s" % RUN
    callers = ["+86139%08d" % (int(RUN) % 1000 * 100000 + i) for i in range(N)]
    a = phase("call.offered (new)", [
        {"type": "call.offered", "id": "%s:o:%d" % (p, i), "call_id": "%s-c%d" % (p, i),
         "caller": callers[i], "queue": "q1"} for i in range(N)])
    case_of = [a["%s:o:%d" % (p, i)]["case_id"] for i in range(N)] if a else None
    phase("call.answered", [{"type": "call.answered", "id": "%s:a:%d" % (p, i),
                             "call_id": "%s-c%d" % (p, i), "agent": "ag%d" % (i % 20)} for i in range(N)])
    phase("call.ended", [{"type": "call.ended", "id": "%s:e:%d" % (p, i), "call_id": "%s-c%d" % (p, i),
                          "outcome": "followup", "category": "roads",
                          "summary": "street light out on Ring Road"} for i in range(N)])
    phase("call.offered (repeat)", [
        {"type": "call.offered", "id": "%s:o2:%d" % (p, i), "call_id": "%s-d%d" % (p, i),
         "caller": callers[i], "queue": "q1"} for i in range(N)])
    phase("call.abandoned", [{"type": "call.abandoned", "id": "%s:b:%d" % (p, i),
                              "call_id": "%s-d%d" % (p, i)} for i in range(N)])
    if case_of is None:
        return
    phase("callback.attempt", [{"type": "callback.attempt", "id": "%s:k:%d" % (p, i), "case_id": case_of[i],
                                "result": "no_answer", "agent": "ag%d" % (i % 20)} for i in range(N)])
    phase("case.update", [{"type": "case.update", "id": "%s:u:%d" % (p, i), "case_id": case_of[i],
                           "note": "crew scheduled", "caller_informed": True,
                           "agent": "ag%d" % (i % 20)} for i in range(N)])
    phase("order.dispatch", [{"type": "order.dispatch", "id": "%s:wd:%d" % (p, i), "case_id": case_of[i],
                              "order_id": "%s-w%d" % (p, i), "department": "water"} for i in range(N)])
    phase("order.sign", [{"type": "order.sign", "id": "%s:ws:%d" % (p, i),
                          "order_id": "%s-w%d" % (p, i), "by": "clerk"} for i in range(N)])
    phase("order.reply", [{"type": "order.reply", "id": "%s:wr:%d" % (p, i),
                           "order_id": "%s-w%d" % (p, i), "result": "explained"} for i in range(N)])
    phase("duplicate (any)", [{"type": "call.offered", "id": "%s:o:%d" % (p, i), "call_id": "%s-c%d" % (p, i),
                               "caller": callers[i], "queue": "q1"} for i in range(N)])
    size = psql("SELECT (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = 'hotline' AND c.relkind IN ('r','p')"
                " AND (c.relname LIKE 'case_events%' OR c.relname = 'event_ids')),"
                " (SELECT count(*) FROM hotline.case_events)")[0]
    print("\ncase_events (+ dedupe) bytes per stored event with indexes: %.0f (%s events)" % (
        int(size[0]) / max(int(size[1]), 1), size[1]))


main()
