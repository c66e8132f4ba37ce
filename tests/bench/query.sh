#!/bin/sh
# query.sh: the query benchmark behind `make bench` (after run.sh).
#
#   sh tests/bench/query.sh [UGSTORE_BINARY]
#
# Loads BENCH_QUERY_N (default 1000000) entities into one collection with
# tests/bench/load_q.c (core's own write path, unsynced batches), starts
# ugstore on that data, then measures with wrk on one connection (so the
# percentiles are per-request latency, loopback HTTP included):
#
#   equality   bucket = 4242                          (10 matches)
#   range      ordinal >= N/2 order by ordinal        (first 10 of N/2)
#   contains   title contains 'w4242'                 (10 matches)
#   prefix     actor.username = 'user1234*'           (first 10 of 111)
#   two-sided range        ordinal > N/2 and ordinal < N/2 + 11   (10)
#   empty range            ordinal > 888598 and ordinal < 841235  (0)
#   two-sided + order by   ordinal > N/2 and ordinal < N/2 + 101
#                          order by ordinal desc                  (first 10 of 100)
#   equality + range       verb = 'go' and ordinal > N/2 and
#                          ordinal < N/2 + 21                     (10)
#
# Each query's p50 has a bar (0.3 ms for the first four, 1 ms for the
# others), as have the data set's bytes on disk an entity (<= 1,200) and
# the rate of loading it (>= 52,000 entities/s, load_q: core's write path
# without HTTP); a line per bar that falls short is printed, and the
# script exits non-zero after the whole report when one does.
#
# and pages through 10,000 results by cursor (100 pages of 100) for
# `verb = 'go'` and for `order by ordinal desc`, reporting the time of the
# first and of the last ten pages: cursor paging must not get slower.
set -eu

BIN=${1:-./ugstore}
N=${BENCH_QUERY_N:-1000000}
SECS=${BENCH_SECONDS:-10}
WHAT="query benchmark"
. "$(dirname "$0")/loaded.sh"

DISK_BAR=1200        # bytes on disk an entity
LOAD_BAR=52000       # entities loaded a second: twice the 26,000 of 2026-11
status=0
python3 - "$BASE" "$SECS" "$N" <<'PY' || status=$?
import json, re, subprocess, sys, time, urllib.parse, urllib.request
base, secs, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

def url(ql, **kw):
    p = {"ql": ql}
    p.update({k: str(v) for k, v in kw.items()})
    return base + "?" + urllib.parse.urlencode(p, quote_via=urllib.parse.quote)

def get(u):
    with urllib.request.urlopen(u) as r:
        return json.load(r)

def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v

rows = []
h = n // 2
for name, ql, want, bar in (
        ("equality", "bucket = 4242", 10, 0.3),
        ("range + order by", "ordinal >= %d order by ordinal" % h, 10, 0.3),
        ("contains", "title contains 'w4242'", 10, 0.3),
        ("prefix", "actor.username = 'user1234*'", 10, 0.3),
        ("two-sided range", "ordinal > %d and ordinal < %d" % (h, h + 11), 10, 1.0),
        ("empty range", "ordinal > 888598 and ordinal < 841235", 0, 1.0),
        ("two-sided + order", "ordinal > %d and ordinal < %d order by ordinal desc"
         % (h, h + 101), 10, 1.0),
        ("equality + range", "verb = 'go' and ordinal > %d and ordinal < %d" % (h, h + 21),
         10, 1.0)):
    u = url(ql, limit=10, explain="true")
    doc = get(u)
    got = len(doc["entities"])
    if got != want:
        sys.exit("query %r returned %d entities, want %d" % (ql, got, want))
    out = subprocess.run(["wrk", "-t1", "-c1", "-d%ss" % secs, "--latency", url(ql, limit=10)],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit("wrk saw errors:\n" + out)
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    rows.append((name, ql, ms(lat["50"]), ms(lat["99"]), rps, doc["explain"], bar))

print()
print("%-17s %-40s %9s %9s %9s %7s" % ("query", "ql", "p50 ms", "p99 ms", "req/s", "bar"))
short = []
for name, ql, p50, p99, rps, ex, bar in rows:
    print("%-17s %-40.40s %9.3f %9.3f %9.0f %7.1f" % (name, ql, p50, p99, rps, bar))
    if p50 >= bar:
        short.append("SHORT: %s p50 %.3f ms, bar < %.1f ms" % (name, p50, bar))
print()
for name, ql, p50, p99, rps, ex, bar in rows:
    print("  %-17s plan: %s; read %d entries, %d entities"
          % (name, ex["plan"], ex["entries_read"], ex["entities_read"]))

print()
print("%-30s %14s %14s %8s" % ("paging 10,000 by cursor", "pages 1-10 ms", "pages 91-100", "ratio"))
for ql in ("verb = 'go'", "select * order by ordinal desc"):
    times, cursor, seen = [], None, 0
    for page in range(100):
        u = url(ql, limit=100, **({"cursor": cursor} if cursor else {}))
        t0 = time.perf_counter()
        doc = get(u)
        times.append((time.perf_counter() - t0) * 1000)
        seen += len(doc["entities"])
        cursor = doc.get("cursor")
    if seen != 10000:
        sys.exit("paging %r saw %d entities" % (ql, seen))
    first, last = sum(times[:10]) / 10, sum(times[-10:]) / 10
    print("%-30s %14.2f %14.2f %8.2f" % (ql, first, last, last / first))
for line in short:
    print(line)
if short:
    sys.exit(1)
PY
echo
# the data set's own bars: bytes on disk per entity, and the load rate
kib=$(du -sk "$DATA/db" | cut -f1)
rate=$(sed -n 's/.*(\([0-9]*\)\/s).*/\1/p' "$DATA/load")
per=$((kib * 1024 / N))
echo "data directory: $(du -sh "$DATA/db" | cut -f1) for $N entities, $per bytes an entity (bar <= $DISK_BAR)"
echo "loading: $rate entities/s (bar >= $LOAD_BAR)"
if [ "$per" -gt "$DISK_BAR" ]; then echo "SHORT: $per bytes on disk an entity, bar <= $DISK_BAR"; status=1; fi
if [ "${rate:-0}" -lt "$LOAD_BAR" ]; then echo "SHORT: loading $rate entities/s, bar >= $LOAD_BAR"; status=1; fi
exit $status
