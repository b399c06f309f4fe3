#!/usr/bin/env bash
# scripts/test-metrics-docs.sh - every hotlined_* / process_* metric that
# docs/prometheus-rules.yml, the README, docs/*.md and the man pages name is
# one the daemon serves (scripts/test-metrics-docs.py says how).
#
# A shell entry point so that scripts/check.sh runs it like its siblings; it
# needs no build and no database.  Prints "test-metrics-docs: N passed, N failed".
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
exec python3 scripts/test-metrics-docs.py "$@"
