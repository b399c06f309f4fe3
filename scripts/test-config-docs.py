#!/usr/bin/env python3
"""scripts/test-config-docs.py - hold the two key references to the table of keys.

An operator reads the defaults and "does a reload apply it?" from
docs/configuration.md and man/hotlined.conf.5, while the daemon acts on the
rows of daemon/config_table.c.  tests/unit/test_config_table.c already holds
docs/configuration.md's key *names* and section headings to the table; this
script adds what it cannot see from C:

  - every table row is a key of man/hotlined.conf.5, and every key the man
    page describes is a row (or an entry key of a list row);
  - the default each of the two documents states is the row's default
    (durations compared in seconds, "Nwd" as working days, octal modes and
    strings as written);
  - the reload split each states (configuration.md's and operations.md's
    "applied by SIGHUP | needs a restart" tables, the man page's RELOADING
    section) puts each group where its rows' HL_CF_RESTART flag puts it.

The table is read from the source (the row macros of config_table.c), not
from a binary, so the check needs no build.  Python's standard library only.
Run from anywhere; prints "test-config-docs: N passed, N failed" (the summary
line scripts/check.sh collects) and exits 1 when anything failed.
"""
import glob
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TABLE = "daemon/config_table.c"
DOCS = "docs/configuration.md"
OPS = "docs/operations.md"
MAN = "man/hotlined.conf.5"

passed = 0
failed = 0


def check(ok, msg):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + msg, file=sys.stderr)


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


# ------------------------------------------------------------------ the table

CONSTS = {"HL_MIB": 1024 * 1024, "HL_MINUTE_S": 60, "HL_HOUR_S": 3600, "HL_DAY_S": 86400}


def c_args(text):
    """Split a macro's argument text at top-level commas."""
    out, depth, cur, q = [], 0, "", False
    for ch in text:
        if q:
            cur += ch
            if ch == '"' and not cur.endswith('\\"'):
                q = False
            continue
        if ch == '"':
            q = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    out.append(cur.strip())
    return out


def c_int(expr):
    e = expr
    for k, v in CONSTS.items():
        e = re.sub(r"\b%s\b" % k, str(v), e)
    e = re.sub(r"\bMS\(", "(", e)  # MS(n) is n seconds in milliseconds: keep seconds
    if not re.fullmatch(r"[0-9\s*+()/-]+", e):
        raise ValueError(expr)
    return int(eval(e))  # digits and operators only, checked above


def span(expr):
    """A SPAN default as ('s', seconds) or ('wd', days)."""
    m = re.fullmatch(r"HL_SPAN_WD\((\d+)\)", expr)
    if m:
        return ("wd", int(m.group(1)))
    return ("s", c_int(expr))


# Rows whose default is made at load time, not written in the row: the docs
# describe it in words ("<host>-<pid>"), which no literal comparison can hold.
COMPUTED = {"cluster.name"}

LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]


def table_rows():
    """{path: {"type", "default", "restart", "entries"}} from config_table.c."""
    src = read(TABLE)
    body = src[src.index("hl_cfg_keys[] = {"):]
    body = body[: body.index("\n};")] + "\n"
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    entry_lists = {}
    for path in glob.glob(os.path.join(ROOT, "daemon/config_*.c")):
        with open(path, encoding="utf-8") as f:
            for m in re.finditer(r"const char \*const (hl_cfgi_\w+_keys)\[\] = \{(.*?)\};", f.read(), re.S):
                entry_lists[m.group(1)] = re.findall(r'"([^"]+)"', m.group(2))
    rows = {}
    for m in re.finditer(r"\b([A-Z]+)\((\"[^\"]+\".*?)\),?\s*\n", body, re.S):
        kind, a = m.group(1), c_args(m.group(2))
        path = a[0].strip('"')
        row = {"type": kind, "default": None, "restart": False, "entries": None,
               "computed": "HL_CF_REQUIRED" in m.group(2) or path in COMPUTED}
        flags = {"STR": 4, "INT": 5, "SIZE": 5, "SECONDS": 5, "DURATION": 5, "BOOL": 3, "MODE": 3,
                 "LIST": 6, "CUSTOM": 4}.get(kind)
        if flags is not None and flags < len(a):
            row["restart"] = "R" in [f.strip() for f in a[flags].split("|")]
        if kind == "STR":
            row["default"] = "" if a[2] == "NULL" else a[2].strip('"')
        elif kind in ("INT", "SIZE"):
            row["default"] = c_int(a[4])
            row["range"] = (c_int(a[2]), c_int(a[3]))
        elif kind in ("SECONDS", "DURATION"):
            row["default"] = ("s", c_int(a[4]))
            row["range"] = (c_int(a[2]), c_int(a[3]))  # seconds
        elif kind == "SPAN":
            row["default"] = span(a[2])
        elif kind == "FRACTION":
            row["default"] = float(a[2])
        elif kind == "BOOL":
            row["default"] = a[2] == "true"
        elif kind == "MODE":
            row["default"] = a[2]
        elif kind in ("DIGITS", "CALENDAR"):
            row["default"] = ""
        elif kind == "ENUM":
            row["default"] = LEVELS[int(a[2])] if path == "log.level" else a[2]
        if kind in ("LIST", "CUSTOM"):
            keys = a[4] if kind == "LIST" else a[3]
            row["entries"] = entry_lists.get(keys)
        rows[path] = row
    return rows


# ------------------------------------------------------------- default values

def duration(text):
    """'90s', '30m', '2d', '120' as ('s', seconds); '3wd' as ('wd', 3); else None."""
    m = re.fullmatch(r"(\d+)(s|m|h|d|wd)?", text)
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2) or "s"
    if unit == "wd":
        return ("wd", n)
    return ("s", n * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])


def same_default(row, text):
    """Does the documented default text (quotes kept) say the row's default?"""
    kind, want = row["type"], row["default"]
    t = text.strip()
    unq = t[1:-1] if len(t) >= 2 and t[0] == '"' and t[-1] == '"' else t
    if kind in ("SECONDS", "DURATION", "SPAN"):
        return duration(unq) == want
    if kind in ("INT", "SIZE"):
        return unq.isdigit() and int(unq) == want
    if kind == "FRACTION":
        try:
            return float(unq) == want
        except ValueError:
            return False
    if kind == "BOOL":
        return unq in ("true", "false") and (unq == "true") == want
    if kind in ("STR", "MODE", "DIGITS", "CALENDAR", "ENUM"):
        return t.startswith('"') and unq == want or (want == "" and t in ("empty", '""'))
    return True  # lists and custom rows: the prose is checked by a reader


# ----------------------------------------------------- docs/configuration.md

def docs_defaults():
    """{path: default cell}, {path: meaning cell} of every key row in docs/configuration.md's key tables."""
    out, meaning, section = {}, {}, None
    for line in read(DOCS).splitlines():
        if line.startswith("#"):
            m = re.match(r"#{3,4} `([a-z_.]+)`", line)
            section = m.group(1) if m else None
            continue
        if not section or not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3:
            continue
        for key in re.findall(r"`([a-z_.]+)`", cells[0]):
            out[section + "." + key] = cells[2]
            meaning[section + "." + key] = cells[3] if len(cells) > 3 else ""
    return out, meaning


def documented_range(row, cell, sep=r"\.\."):
    """(min, max) of the last "A .. B" (man: "A to B") a text states, in the row's unit; None when it states none."""
    found = re.findall(r"(?<![\w.])(\d+[smhd]?) %s (1 GiB|\d+[smhd]?)(?![\w.])" % sep, cell)
    if not found:
        return None
    lo, hi = found[-1]
    if re.search(r"\b0 or %s %s " % (lo, sep), cell):  # "0 or 2 .. N": a group check refuses the gap
        lo = "0"
    if hi == "1 GiB":
        hi = str(1024 ** 3)
    if row["type"] in ("SECONDS", "DURATION"):
        lo, hi = duration(lo), duration(hi)
        return (lo[1], hi[1]) if lo and hi else ("?", "?")
    return (int(lo), int(hi)) if lo.isdigit() and hi.isdigit() else ("?", "?")


def first_default(cell):
    """The literal a docs cell starts with: `"5wd"` of '`"5wd"` with an orders calendar, else ...'."""
    m = re.match(r"`([^`]*)`", cell)
    return m.group(1) if m else None


# ------------------------------------------------------- man/hotlined.conf.5

def troff_args(line):
    """The arguments of a .B/.BR/.TP-style request as plain text, joined."""
    args, i, s = [], 0, line.split(None, 1)[1] if " " in line else ""
    while i < len(s):
        if s[i] == " ":
            i += 1
            continue
        if s[i] == '"':
            j, cur = i + 1, ""
            while j < len(s):
                if s[j] == '"' and j + 1 < len(s) and s[j + 1] == '"':
                    cur += '"'
                    j += 2
                    continue
                if s[j] == '"':
                    break
                cur += s[j]
                j += 1
            args.append(cur)
            i = j + 1
        else:
            j = s.find(" ", i)
            j = len(s) if j < 0 else j
            args.append(s[i:j])
            i = j
    text = "".join(args)
    return text.replace("\\-", "-").replace("\\(dq", '"')


def man_keys():
    """{path: (head line number, parenthesis)} of every .TP head in the man
    page's key sections, and the set of those sections (lower case)."""
    out, sections, section, lines = {}, set(), None, read(MAN).splitlines()
    skip = {"NAME", "SYNOPSIS", "DESCRIPTION", "RELOADING", "EXAMPLE", "FILES", "SEE ALSO"}
    for i, line in enumerate(lines):
        if line.startswith(".SH "):
            name = line[4:].strip().strip('"')
            section = None if name in skip else name.lower()
            if section:
                sections.add(section)
            continue
        if section and line == ".TP" and i + 1 < len(lines):
            head = troff_args(lines[i + 1])
            m = re.match(r"([a-z_]+(?:, [a-z_]+)*)(?: \((.*)\))?$", head)
            if not m:
                check(False, "%s: cannot read the .TP head %r" % (MAN, head))
                continue
            keys, paren = m.group(1).split(", "), m.group(2) or ""
            g = re.match(r"group of ((?:[a-z_]+, )*)default (.*)", paren)
            if g:  # "tls (group of cert, key, ca, default all "")"
                subs = [k for k in g.group(1).split(", ") if k]
                for k in subs:
                    out["%s.%s.%s" % (section, keys[0], k)] = (i, paren)
                continue
            for k in keys:
                out[section + "." + k] = (i, paren)
    return out, sections


def man_default(paren, key, keys_in_head):
    """The default a man head's parenthesis states for KEY, or None."""
    m = re.search(r"default (.*)", paren)
    if not m:
        return None
    rest = m.group(1)
    quoted = re.findall(r'"[^"]*"', rest)
    if len(keys_in_head) > 1 and len(quoted) == len(keys_in_head):
        return quoted[keys_in_head.index(key)]
    if len(keys_in_head) > 1 and len(quoted) == 1 and rest.startswith('"'):
        return quoted[0]
    if rest.startswith("all "):
        rest = rest[4:]
    if rest.startswith('"'):
        return quoted[0] if quoted else None
    return re.split(r"[,;)]| or ", rest)[0].strip()


# ------------------------------------------------------------- reload tables

def groups(rows):
    """{group: restart?} where a group's rows agree; mixed groups map to None."""
    g = {}
    for path, row in rows.items():
        top = path.split(".")[0]
        g[top] = row["restart"] if g.get(top, row["restart"]) == row["restart"] else None
    return g


def check_reload_table(path, text, gmap):
    m = re.search(r"\n\|[^\n]*(?:SIGHUP|reload)[^\n]*\|[^\n]*restart[^\n]*\|\n\|[-| ]+\|\n(\|[^\n]*\|)\n", text)
    check(m is not None, "%s: no 'SIGHUP | restart' table found" % path)
    if not m:
        return
    cells = [c.strip() for c in m.group(1).strip().strip("|").split("|")]
    for col, restart in ((cells[0], False), (cells[1], True)):
        for name in re.findall(r"`([a-z_]+)(?:\.[a-z_*]+)?`", col):
            if name not in gmap:
                continue  # "policies", "incl. ..." prose
            check(gmap[name] == restart, "%s: the reload table puts %s under %s, the table says %s" %
                  (path, name, "restart" if restart else "SIGHUP", "restart" if gmap[name] else "SIGHUP"))
    named = set(re.findall(r"`([a-z_]+)(?:\.[a-z_*]+)?`", cells[0] + cells[1]))
    for g in gmap:
        check(g in named, "%s: the reload table does not say whether %s reloads" % (path, g))


def check_man_reload(gmap):
    text = read(MAN)
    sec = text[text.index(".SH RELOADING"):]
    sec = sec[: sec.index("\n.SH ", 1)]
    before, _, after = sec.partition("Changes to")
    for part, restart in ((before, False), (after, True)):
        for name in re.findall(r"^\.BR? ([a-z_]+)(?:\.[a-z_*]+)?", part, re.M):
            if name in gmap:
                check(gmap[name] == restart, "%s RELOADING: %s listed as %s" %
                      (MAN, name, "restart" if restart else "reloadable"))
    named = set(re.findall(r"^\.BR? ([a-z_]+)", sec, re.M))
    for g in gmap:
        check(g in named, "%s RELOADING: does not say whether %s reloads" % (MAN, g))


# ----------------------------------------------------------------------- main

def main():
    rows = table_rows()
    check(len(rows) > 50, "%s: read only %d rows" % (TABLE, len(rows)))

    docs, docs_meaning = docs_defaults()
    for path, row in rows.items():
        cell = docs.get(path)
        if cell is None or row["type"] in ("LIST", "CUSTOM") or row["computed"]:
            continue  # names: tests/unit/test_config_table.c
        lit = first_default(cell)
        check(lit is not None and same_default(row, lit),
              "%s: %s default is %s in the table, %s says %s" % (path, row["type"], row["default"], DOCS, cell))
        rng = documented_range(row, docs_meaning.get(path, ""))
        if rng is not None and "range" in row:
            check(rng == row["range"], "%s: range is %s .. %s in the table, %s says %s .. %s" %
                  (path, row["range"][0], row["range"][1], DOCS, rng[0], rng[1]))

    man, sections = man_keys()
    entry_of = {}
    for path, row in rows.items():
        for e in row["entries"] or []:
            entry_of[path + "." + e] = path
    for path in man:
        check(path in rows or path in entry_of, "%s describes %s, which is not a row of %s" % (MAN, path, TABLE))
    for path, row in rows.items():
        if "." not in path:  # a top-level list (calendars) is a section of its own
            check(path in sections, "%s is a row of %s, but %s has no section %s" % (path, TABLE, MAN, path.upper()))
            continue
        check(path in man, "%s is a row of %s, but %s does not describe it" % (path, TABLE, MAN))
        if path not in man or row["type"] in ("LIST", "CUSTOM") or row["computed"]:
            continue
        head, paren = man[path]
        head_keys = [p.split(".")[-1] for p in man if man[p][0] == head]
        d = man_default(paren, path.split(".")[-1], head_keys)
        check(d is not None and same_default(row, d),
              "%s: default is %s in %s, %s says (%s)" % (path, row["default"], TABLE, MAN, paren))
        rng = documented_range(row, paren, "to")
        if rng is not None and "range" in row:
            check(rng == row["range"], "%s: range is %s .. %s in the table, %s says %s to %s" %
                  (path, row["range"][0], row["range"][1], MAN, rng[0], rng[1]))
        # "; restart" in a head of a SIGHUP section, or the reverse, would contradict the row
        if "restart" in paren:
            check(row["restart"], "%s: %s says restart, the table reloads it" % (path, MAN))

    gmap = groups(rows)
    check(all(v is not None for v in gmap.values()),
          "groups mixing restart and reloadable rows: %s" % [g for g, v in gmap.items() if v is None])
    check_reload_table(DOCS, read(DOCS), gmap)
    check_reload_table(OPS, read(OPS), gmap)
    check_man_reload(gmap)

    print("test-config-docs: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
