#!/usr/bin/env python3
"""scripts/test-metrics-docs.py - every metric the documents name is one the daemon serves.

docs/prometheus-rules.yml is loaded as it is by sites (rule_files:), and
docs/operations.md tells operators which series to alert on; an expression
naming a metric that does not exist is never true, so the alert it carries
silently never fires.  This script collects the names the daemon can render
on /metrics from the source - the FIGURES rows of daemon/metrics.c (counters
as written there, labelled families included), the literal "# TYPE" lines of
daemon/*.c and their { "name", "gauge"|"counter", ... } tables (cluster.c,
metrics.c), the histograms of daemon/histograms.c
(with their _bucket, _sum and _count series) and the process metrics - and
checks that every hotlined_* and process_* name in the rules file, the README,
docs/*.md and the man pages is one of them.  The rules file must also parse as
YAML when PyYAML is present, and every rule needs an alert name and an expr.

Needs no build and no database.  Prints "test-metrics-docs: N passed, N failed".
"""
import glob
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
RULES = "docs/prometheus-rules.yml"

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


def served():
    """Every metric name /metrics can carry, from the source."""
    names = set()
    src = read("daemon/metrics.c")
    table = src[src.index("FIGURES[] = {"):]
    table = table[: table.index("\n};")]
    # { "key" or NULL, "name" or NULL, ...
    for m in re.finditer(r'\{\s*(?:"[^"]*"|NULL)\s*,\s*"([a-z_]+)"', table):
        names.add("hotlined_" + m.group(1))
    for path in glob.glob(os.path.join(ROOT, "daemon", "*.c")):
        with open(path, encoding="utf-8") as f:
            text = f.read()
            for m in re.finditer(r"# TYPE (hotlined_[a-z_]+|process_[a-z_]+) ", text):
                names.add(m.group(1))
            # tables of { "name", "gauge" | "counter", "help", value } (cluster.c)
            for m in re.finditer(r'\{\s*"([a-z_]+)",\s*"(?:gauge|counter)"', text):
                names.add("hotlined_" + m.group(1))
    hist = read("daemon/histograms.c")
    for m in re.finditer(r'\[HIST_[A-Z]+\]\s*=\s*\{\s*"([a-z_]+)"', hist):
        base = "hotlined_" + m.group(1)
        names.update({base, base + "_bucket", base + "_sum", base + "_count"})
    return names


def main():
    names = served()
    check(len(names) > 40, "read only %d metric names from the source" % len(names))
    docs = [RULES, "README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md"))) \
        + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "man", "*.[0-9]")))
    for doc in docs:
        text = read(doc).replace("\\_", "_")
        for name in sorted(set(re.findall(r"\b((?:hotlined|process)_[a-z_]*[a-z])\b", text))):
            if name.startswith("hotlined_") and name.endswith("_"):
                continue
            # "hotlined_*" prose and the prefix itself are not names
            check(name in names, "%s names %s, which /metrics never carries" % (doc, name))

    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is not None:
        rules = yaml.safe_load(read(RULES))
        n = 0
        for group in rules.get("groups", []):
            for rule in group.get("rules", []):
                n += 1
                check(bool(rule.get("alert")) and bool(rule.get("expr")), "%s: a rule without alert or expr: %r" % (RULES, rule))
        check(n > 0, "%s has no rules" % RULES)

    print("test-metrics-docs: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
