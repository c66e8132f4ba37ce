#!/bin/sh
# durability.sh: the durability part of `make bench`: the crash test
# (tests/crash/test_crash.py) with 20 SIGKILLs (UGSTORE_CRASH_ROUNDS) and
# 48 writers (UGSTORE_CRASH_WRITERS), so every kill lands on large group
# commits in flight; every acknowledged write must be there after each.
set -eu
BIN=${1:-./ugstore}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
cd "$(dirname "$0")/../.."
echo "== durability: ${UGSTORE_CRASH_ROUNDS:-20} SIGKILLs under ${UGSTORE_CRASH_WRITERS:-48} writers"
UGSTORE_CRASH_ROUNDS=${UGSTORE_CRASH_ROUNDS:-20} UGSTORE_CRASH_WRITERS=${UGSTORE_CRASH_WRITERS:-48} \
	python3 tests/run.py --bin "$BIN" --unit-dir build/rel/tests -k crash/test_crash
