#!/usr/bin/env python3
"""Runs every ugstore test suite and ends with `N passed, M failed`
(`, K skipped` when a test could not run on this machine).

1. C unit tests: every executable in --unit-dir (each a test; exit 0 = pass).
2. Python suites: every test_* function in tests/http/*.py, tests/ops/*.py,
   tests/crash/*.py and tests/sdk/*.py, each against real servers started
   by tests/harness.py (the SDK suite installs the published npm SDK).

--fail-fast stops at the first failure (tests/mutants/run.py uses it).
"""
import argparse
import glob
import importlib.util
import os
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


class Stop(Exception):
    """The first failure under --fail-fast."""


class Tally:
    def __init__(self, fail_fast):
        self.fail_fast = fail_fast
        self.passed = self.failed = self.skipped = 0
        self.failures = []

    def record(self, name, ok, detail, seconds=None):
        took = "" if seconds is None else " (%.2fs)" % seconds
        print("%s %s%s" % ("PASS" if ok else "FAIL", name, took), flush=True)
        if ok:
            self.passed += 1
            return
        self.failed += 1
        self.failures.append((name, detail))
        if self.fail_fast:
            raise Stop


def unit_tests(args, tally):
    for exe in sorted(glob.glob(os.path.join(args.unit_dir, "test_*"))):
        if exe.endswith(".d") or not os.access(exe, os.X_OK):
            continue
        name = "unit/" + os.path.basename(exe)
        if args.k not in name:
            continue
        t0 = time.time()
        p = subprocess.run([exe], capture_output=True, text=True)
        tally.record(name, p.returncode == 0, p.stdout + p.stderr, time.time() - t0)


def python_tests(args, tally):
    from harness import Skip
    for path in sorted(glob.glob(os.path.join(HERE, "http", "test_*.py")) +
                       glob.glob(os.path.join(HERE, "ops", "test_*.py")) +
                       glob.glob(os.path.join(HERE, "crash", "test_*.py")) +
                       glob.glob(os.path.join(HERE, "sdk", "test_*.py"))):
        modname = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        suite = os.path.basename(os.path.dirname(path))
        ran = 0
        for fname in [n for n in vars(mod) if n.startswith("test_")]:
            name = "%s/%s.%s" % (suite, modname, fname)
            if args.k not in name:
                continue
            ran += 1
            t0 = time.time()
            try:
                getattr(mod, fname)()
                ok, detail = True, ""
            except Skip as e:
                tally.skipped += 1
                print("SKIP %s: %s" % (name, e), flush=True)
                continue
            except Exception:
                ok, detail = False, traceback.format_exc()
            tally.record(name, ok, detail, time.time() - t0)
        if ran and hasattr(mod, "teardown"):
            try:
                mod.teardown()
                ok, detail = True, ""
            except Exception:
                ok, detail = False, traceback.format_exc()
            tally.record("%s/%s.teardown" % (suite, modname), ok, detail)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="./ugstore")
    ap.add_argument("--unit-dir", default="build/rel/tests")
    ap.add_argument("-k", default="", help="run only tests whose name contains this")
    ap.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    args = ap.parse_args()
    os.environ["UGSTORE_BIN"] = os.path.abspath(args.bin)
    sys.path.insert(0, HERE)
    tally = Tally(args.fail_fast)
    try:
        unit_tests(args, tally)
        python_tests(args, tally)
    except Stop:
        print("stopped at the first failure")
    for name, detail in tally.failures:
        print("\n=== %s\n%s" % (name, detail.rstrip()))
    print("%d passed, %d failed" % (tally.passed, tally.failed) +
          (", %d skipped" % tally.skipped if tally.skipped else ""))
    return 1 if tally.failed or tally.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
