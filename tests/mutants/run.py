#!/usr/bin/env python3
"""make mutate: does the suite catch each deliberate bug?

Every tests/mutants/NAME.patch is a small, compiling, plausible bug (its
first line says which).  This copies the tree (tracked and untracked files,
not ignored ones) to a scratch folder, checks that the unchanged tree
passes, then for each patch in turn: applies it, builds, runs `make test`
stopping at the first failure, and takes the patch back out.  A mutant is
killed when a test fails, survives when the suite passes, and is broken
when it no longer applies or does not build.  Exits non-zero unless every
mutant is killed.

    python3 tests/mutants/run.py [--no-baseline] [--keep] [-k TEST] [NAME ...]

-k runs only the tests whose name holds TEST (to see whether a new test
kills a mutant); the verdicts then speak for those tests only.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def copy_tree(dst):
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           check=True, capture_output=True).stdout.split(b"\0")
    for f in filter(None, (f.decode() for f in files)):
        src = os.path.join(ROOT, f)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dst, f)), exist_ok=True)
            shutil.copy2(src, os.path.join(dst, f))
    sdk = os.path.join(ROOT, "build", "sdk")        # the npm SDK, if installed
    if os.path.isdir(sdk):
        shutil.copytree(sdk, os.path.join(dst, "build", "sdk"), symlinks=True)


def run(cmd, cwd, log):
    with open(log, "w") as f:
        return subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT).returncode


def suite(tree, log, k):
    """Builds and runs the suite; returns (verdict, detail)."""
    if run(["make", "-s", "-j2", "all"], tree, log) != 0:
        return "broken", "does not build (see %s)" % log
    flags = "--fail-fast" + (" -k " + k if k else "")
    rc = run(["make", "-s", "test", "TESTFLAGS=" + flags], tree, log)
    text = open(log, errors="replace").read()
    failed = re.findall(r"^FAIL (\S+)", text, re.M)
    if rc == 0:
        return "survived", text.strip().splitlines()[-1] if text.strip() else ""
    return "killed", "by " + (failed[0] if failed else "the build of the tests (see %s)" % log)


def patch(tree, path, reverse=False):
    cmd = ["patch", "-p1", "-s", "--forward", "--no-backup-if-mismatch", "-r", "-", "-i", path]
    if reverse:
        cmd.insert(1, "-R")
    return subprocess.run(cmd, cwd=tree, capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the run of the unchanged tree")
    ap.add_argument("--keep", action="store_true", help="keep the scratch tree and logs")
    ap.add_argument("-k", default="", help="only the tests whose name holds this")
    ap.add_argument("names", nargs="*", help="only these mutants")
    args = ap.parse_args()
    patches = sorted(glob.glob(os.path.join(HERE, "*.patch")))
    if args.names:
        patches = [p for p in patches if os.path.basename(p)[:-6] in args.names]
    tree = tempfile.mkdtemp(prefix="ugstore-mutate-")
    logs = os.path.join(tree, "mutate-logs")
    os.makedirs(logs)
    copy_tree(tree)
    print("scratch tree %s, %d mutants" % (tree, len(patches)), flush=True)
    try:
        if not args.no_baseline:
            verdict, detail = suite(tree, os.path.join(logs, "baseline.log"), args.k)
            if verdict != "survived":
                print("the unchanged tree does not pass: %s" % detail)
                return 2
            print("baseline  passes: %s" % detail, flush=True)
        tally = {"killed": 0, "survived": 0, "broken": 0}
        for path in patches:
            name = os.path.basename(path)[:-6]
            what = open(path).readline().lstrip("# ").strip()
            t0 = time.time()
            p = patch(tree, path)
            if p.returncode != 0:
                verdict, detail = "broken", "does not apply: " + (p.stdout + p.stderr).strip()
            else:
                verdict, detail = suite(tree, os.path.join(logs, name + ".log"), args.k)
                if patch(tree, path, reverse=True).returncode != 0:
                    print("cannot take %s back out of %s" % (name, tree))
                    return 2
            tally[verdict] += 1
            print("%-8s %-30s %s (%.0fs): %s" % (verdict, name, detail, time.time() - t0, what),
                  flush=True)
        total = len(patches)
        ratio = 100.0 * tally["killed"] / total if total else 0.0
        print("mutate: %d killed, %d survived, %d broken of %d mutants (kill ratio %.0f%%)"
              % (tally["killed"], tally["survived"], tally["broken"], total, ratio))
        return 0 if total and tally["killed"] == total else 1
    finally:
        if not args.keep:
            shutil.rmtree(tree, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
