#!/bin/sh
# slow.sh: quick reads next to slow queries, the last part of `make bench`.
#
#   sh tests/bench/slow.sh [UGSTORE_BINARY]
#
# Loads BENCH_SLOW_N (default 200000) entities into one collection with
# tests/bench/load_q.c, starts ugstore on that data with its defaults, and
# measures GET /items/{uuid} (cycling 1000 uuids) with wrk -t1 -c4 for
# BENCH_SECONDS (default 10) twice:
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
# queued scan outlives --query-budget-ms).
set -eu

BIN=${1:-./ugstore}
N=${BENCH_SLOW_N:-200000}
SECS=${BENCH_SECONDS:-10}
WHAT="slow queries next to quick reads"
. "$(dirname "$0")/loaded.sh"

python3 - "$BASE" "$SECS" "$DATA" <<'PY'
import json, re, subprocess, sys, time, urllib.parse, urllib.request
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
    return subprocess.Popen(["wrk"] + args + ["--latency", "-s", "tests/bench/get_entity.lua"
                            if extra else "tests/bench/common.lua", url] +
                            (["--"] + list(extra) if extra else []),
                            stdout=subprocess.PIPE, text=True)

def bench(line):
    return dict(re.findall(r"(\w+)=(\S+)", line.split("BENCH ", 1)[1]))

def get_run():
    out = wrk(["-t1", "-c4", "-d%ds" % secs], base, work + "/uuids").communicate()[0]
    b = bench(out)
    if b["non2xx"] != "0" or b["sockerr"] != "0":
        sys.exit("GET saw errors: " + out)
    return b

alone = get_run()
scans = wrk(["-t1", "-c4", "-d%ds" % (secs + 4), "--timeout", "60s"], SCAN)
time.sleep(2)
busy = get_run()
scan_out = scans.communicate()[0]
sb = bench(scan_out)

print()
print("| GET /items/{uuid}, wrk -t1 -c4 | req/s | p50 ms | p99 ms |")
print("|---|--:|--:|--:|")
for name, b in (("alone", alone), ("with 4 slow scans in flight", busy)):
    print("| %s | %.0f | %.2f | %.2f |" % (name, float(b["rps"]), int(b["p50_us"]) / 1000,
                                         int(b["p99_us"]) / 1000))
ratio = int(busy["p99_us"]) / max(1, int(alone["p99_us"]))
print()
print("p99 with scans / alone: %.2f (bar: 2.00)" % ratio)
print("scans finished meanwhile: %s (%s not 2xx: 503 query_timeout when queued past the budget)"
      % (sb["requests"], sb["non2xx"]))
if ratio > 2:
    sys.exit("bench: FAIL: GET p99 with slow scans is %.2fx alone" % ratio)
PY
