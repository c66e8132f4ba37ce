#!/bin/sh
# slow.sh: quick reads next to slow queries, the last part of `make bench`.
#
#   sh tests/bench/slow.sh [UGSTORE_BINARY]
#
# Loads BENCH_SLOW_N (default 200000) entities into one collection with
# tests/bench/load_q.c, starts ugstore on that data with its defaults, and
# measures GET /items/{uuid} (cycling 1000 uuids) with wrk -t1 -c4 for
# BENCH_SECONDS (default 10) in two settings, three rounds of each taken
# in turn (the median counts, so a burst of other work on the machine
# skews one round, not the result):
#
#   alone       nothing else runs
#   with scans  four connections keep a slow scan each in flight the whole
#               time: `title = '*zz'` has no index to drive it, so each
#               reads and checks every entity of the collection (wrk -c4
#               on that URL, so a finished scan is replaced at once)
#
# and prints the GET p50/p99 of both, their ratio (the bar: p99 with scans
# within 2x of alone), and how many scans finished and how.  A GET outside
# 2xx fails the run; the scans may answer 200 or 503 (query_timeout when a
# scan outlives --query-budget-ms: slow readers yield to quick requests,
# and wrk keeps the cores busy with those).
set -eu

BIN=${1:-./ugstore}
N=${BENCH_SLOW_N:-200000}
SECS=${BENCH_SECONDS:-10}
WHAT="slow queries next to quick reads"
. "$(dirname "$0")/loaded.sh"

python3 - "$BASE" "$SECS" "$DATA" <<'PY'
import json, re, statistics, subprocess, sys, time, urllib.error, urllib.parse, urllib.request
base, secs, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
SCAN = base + "?" + urllib.parse.urlencode({"ql": "title = '*zz'"}, quote_via=urllib.parse.quote)

with urllib.request.urlopen(base + "?limit=1000") as r:
    uuids = [e["uuid"] for e in json.load(r)["entities"]]
with open(work + "/uuids", "w") as f:
    f.write("\n".join(uuids) + "\n")

t0 = time.time()
try:
    with urllib.request.urlopen(SCAN) as r:
        scan = "%d, %d entities" % (r.status, len(json.load(r)["entities"]))
except urllib.error.HTTPError as e:
    scan = "%d %s" % (e.code, json.load(e).get("error"))
print("one scan alone: %.2f s (%s)" % (time.time() - t0, scan))

def wrk(args, url, *extra):
    script = "tests/bench/get_entity.lua" if extra else "tests/bench/common.lua"
    return subprocess.Popen(["wrk"] + args + ["--latency", "-s", script, url] +
                            (["--"] + list(extra) if extra else []),
                            stdout=subprocess.PIPE, text=True)

def bench(out):
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)\b", out.split("BENCH ", 1)[1])}

def get_run():
    out = wrk(["-t1", "-c4", "-d%ds" % secs], base, work + "/uuids").communicate()[0]
    b = bench(out)
    if b["non2xx"] or b["sockerr"]:
        sys.exit("GET saw errors: " + out)
    return b

alone, busy, scans, failed = [], [], 0, 0
for _ in range(3):
    alone.append(get_run())
    sc = wrk(["-t1", "-c4", "-d%ds" % (secs + 3), "--timeout", "60s"], SCAN)
    time.sleep(2)
    busy.append(get_run())
    sb = bench(sc.communicate()[0])
    scans += int(sb["requests"])
    failed += int(sb["non2xx"])

def med(runs, k):
    return statistics.median(b[k] for b in runs)

print()
print("| GET /items/{uuid}, wrk -t1 -c4, median of 3 | req/s | p50 ms | p99 ms | p99 of each round, ms |")
print("|---|--:|--:|--:|--|")
for name, runs in (("alone", alone), ("with 4 slow scans in flight", busy)):
    print("| %s | %.0f | %.2f | %.2f | %s |" % (
        name, med(runs, "rps"), med(runs, "p50_us") / 1000, med(runs, "p99_us") / 1000,
        ", ".join("%.2f" % (b["p99_us"] / 1000) for b in runs)))
ratio = med(busy, "p99_us") / max(1, med(alone, "p99_us"))
print()
print("p99 with scans / alone: %.2f (bar: 2.00)" % ratio)
print("scans answered meanwhile: %d, %d of them 503 query_timeout" % (scans, failed))
if ratio > 2:
    sys.exit("bench: FAIL: GET p99 with slow scans is %.2fx alone" % ratio)
PY
