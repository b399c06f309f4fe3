#!/usr/bin/env bash
# scripts/test-config-docs.sh - the defaults, ranges and reload split that
# docs/configuration.md, docs/operations.md and man/hotlined.conf.5 state,
# held against daemon/config_table.c (scripts/test-config-docs.py says how).
#
# A shell entry point so that scripts/check.sh runs it like its siblings; it
# needs no build and no database.  Prints "test-config-docs: N passed, N failed".
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
exec python3 scripts/test-config-docs.py "$@"
