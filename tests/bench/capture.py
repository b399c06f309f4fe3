#!/usr/bin/env python3
"""tests/bench/capture.py - the daemon's own transactions, cut out of a PostgreSQL log.

    capture.py < postgresql.log > capture.bin

The LIMIT baseline of `make bench` (tests/bench/limit.c) replays exactly the
statements the daemon sent, with exactly its parameters, so that it measures
whatever main holds - today's schema and store, or the next one - without
knowing a table or a column.  scripts/bench.sh records them by running the
daemon once with `options=-c log_statement=all` in its conninfo and the
benchmark cluster's log_line_prefix = '@@%p|%v|' (process id, virtual
transaction id); this reads that log from standard input.

What is kept: every "execute NAME: SQL" record (extended protocol: the
daemon's pipeline; PostgreSQL 15 logs its prepared statements as <unnamed>
too) of the one process that executed the most statements (the store's
connection; the daemon's other sessions are left out), with the parameters of its "DETAIL:  parameters: $1 = '...', ..."
record, grouped by virtual transaction id: one group is one of the daemon's
batches (load + write up to the Sync = one COMMIT), however the store
pipelines them.

Output, for limit.c (binary safe, no escaping):
    T\n                          a transaction begins
    Q <sql bytes> <nparams>\n<sql>   a statement, then per parameter
    P <bytes>\n<value>  or  N\n      (NULL)
    E\n                          the transaction ends
and on standard error one line: transactions, statements.
"""
import collections
import re
import sys

PREFIX = b"@@"
REC = re.compile(rb"^@@(\d+)\|([^|]*)\|(.*)$", re.S)


def records(stream):
    """Yield (pid, vxid, text) per log record; continuation lines (a newline
    in a message is logged as newline + tab) are joined back."""
    cur = None
    for line in stream:
        if line.startswith(PREFIX) and REC.match(line):
            if cur:
                yield cur
            m = REC.match(line)
            cur = [m.group(1), m.group(2), m.group(3)]
        elif cur is not None:
            cur[2] += line[1:] if line.startswith(b"\t") else line
    if cur:
        yield cur


def parse_params(s):
    """'$1 = '...', $2 = NULL' -> [bytes or None]; quotes are doubled inside values."""
    out, i, n = [], 0, len(s)
    while i < n:
        m = re.compile(rb"\$(\d+) = ").match(s, i)
        if not m:
            break
        i = m.end()
        if s.startswith(b"NULL", i):
            out.append(None)
            i += 4
        else:
            assert s[i:i + 1] == b"'", s[i:i + 40]
            i += 1
            val = bytearray()
            while True:
                j = s.index(b"'", i)
                val += s[i:j]
                if s[j + 1:j + 2] == b"'":
                    val += b"'"
                    i = j + 2
                else:
                    i = j + 1
                    break
            out.append(bytes(val))
        if s.startswith(b", ", i):
            i += 2
    return out


def main():
    stmts = []          # (pid, vxid, sql, [params])
    count = collections.Counter()
    for pid, vxid, text in records(sys.stdin.buffer):
        body = text.rstrip(b"\n")
        m = re.match(rb"(?:LOG|LOCATION):\s+execute ([^:]+): (.*)$", body, re.S)
        if m:
            count[pid] += 1
            stmts.append([pid, vxid, m.group(2), []])
            continue
        m = re.match(rb"DETAIL:\s+parameters: (.*)$", body, re.S)
        if m and stmts and stmts[-1][0] == pid and not stmts[-1][3]:
            stmts[-1][3] = parse_params(m.group(1))
    if not count:
        sys.exit("capture.py: no executed statement in the log (log_statement off?)")
    store = count.most_common(1)[0][0]
    out = sys.stdout.buffer
    n_tx = n_st = 0
    last = None
    for pid, vxid, sql, params in stmts:
        if pid != store:
            continue
        if vxid != last:
            if last is not None:
                out.write(b"E\n")
            out.write(b"T\n")
            n_tx += 1
            last = vxid
        out.write(b"Q %d %d\n" % (len(sql), len(params)) + sql)
        for p in params:
            out.write(b"N\n" if p is None else b"P %d\n" % len(p) + p)
        n_st += 1
    if last is not None:
        out.write(b"E\n")
    print(f"capture.py: {n_tx} transactions, {n_st} statements of process {store.decode()}", file=sys.stderr)


if __name__ == "__main__":
    main()
