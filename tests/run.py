#!/usr/bin/env python3
"""Runs every ugstore test suite and ends with `N passed, M failed`.

1. C unit tests: every executable in --unit-dir (each a test; exit 0 = pass).
2. Python suites: every test_* function in tests/http/*.py, tests/ops/*.py,
   tests/crash/*.py and tests/sdk/*.py, each against real servers started
   by tests/harness.py (the SDK suite installs the published npm SDK).
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="./ugstore")
    ap.add_argument("--unit-dir", default="build/rel/tests")
    ap.add_argument("-k", default="", help="run only tests whose name contains this")
    args = ap.parse_args()
    os.environ["UGSTORE_BIN"] = os.path.abspath(args.bin)
    sys.path.insert(0, HERE)
    passed = failed = 0
    failures = []

    for exe in sorted(glob.glob(os.path.join(args.unit_dir, "test_*"))):
        if exe.endswith(".d") or not os.access(exe, os.X_OK):
            continue
        name = "unit/" + os.path.basename(exe)
        if args.k not in name:
            continue
        t0 = time.time()
        p = subprocess.run([exe], capture_output=True, text=True)
        ok = p.returncode == 0
        print("%s %s (%.2fs)" % ("PASS" if ok else "FAIL", name, time.time() - t0), flush=True)
        if ok:
            passed += 1
        else:
            failed += 1
            failures.append((name, p.stdout + p.stderr))

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
            except Exception:
                ok, detail = False, traceback.format_exc()
            print("%s %s (%.2fs)" % ("PASS" if ok else "FAIL", name, time.time() - t0), flush=True)
            if ok:
                passed += 1
            else:
                failed += 1
                failures.append((name, detail))
        if ran and hasattr(mod, "teardown"):
            name = "%s/%s.teardown" % (suite, modname)
            try:
                mod.teardown()
                passed += 1
                print("PASS %s" % name, flush=True)
            except Exception:
                failed += 1
                failures.append((name, traceback.format_exc()))
                print("FAIL %s" % name, flush=True)

    for name, detail in failures:
        print("\n=== %s\n%s" % (name, detail.rstrip()))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
