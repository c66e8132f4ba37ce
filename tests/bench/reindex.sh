#!/bin/sh
# reindex.sh: the write stall of a `fields` change, behind `make bench`.
#
#   sh tests/bench/reindex.sh [UGSTORE_BINARY]
#
# Loads BENCH_REINDEX_N (default 100000) entities into one collection
# (tests/bench/load_q.c), starts ugstore on it (BENCH_SERVE_ARGS, e.g.
# "--reindex-batch 500", go to serve), and runs BENCH_WRITERS (default 4)
# connections that create and update entities in a loop, each timing its
# writes.  It measures BENCH_SECONDS (default 10) of writes alone, then
# switches the collection's fields to ["bucket"] and, once that reindex
# has ended, back to "all", and reports for each phase the writes done,
# their p50, p99 and longest latency, and how long the reindex took.  The
# longest write of a reindex phase is the longest stall the reindex caused
# (a write waits for at most one step of --reindex-batch entities).
set -eu

BIN=${1:-./ugstore}
N=${BENCH_REINDEX_N:-100000}
SECS=${BENCH_SECONDS:-10}
WRITERS=${BENCH_WRITERS:-4}
WHAT="reindex benchmark"
export UGSTORE_SUPERUSER=bench:bench-reindex-pw
. "$(dirname "$0")/loaded.sh"

python3 - "$BASE" "$SECS" "$N" "$WRITERS" <<'PY'
import base64, http.client, json, sys, threading, time, urllib.parse
base, secs, n, nw = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
u = urllib.parse.urlsplit(base)
auth = {"Authorization": "Basic " + base64.b64encode(b"bench:bench-reindex-pw").decode()}

def call(conn, method, path, body=None, headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = conn.getresponse()
    doc = json.loads(r.read() or b"null")
    if r.status != 200:
        sys.exit("%s %s: %d %r" % (method, path, r.status, doc))
    return doc

lat, stop = [], threading.Event()     # (end time, seconds) of every write
lock = threading.Lock()

def writer(w):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    j = 0
    while not stop.is_set():
        j += 1
        t0 = time.perf_counter()
        if j % 2:
            call(conn, "POST", u.path, {"name": "w%d-%d" % (w, j), "bucket": j % 1000, "verb": "go"})
        else:
            call(conn, "PUT", "%s/w%d-%d" % (u.path, w, j - 1), {"verb": "stop", "ordinal": -j})
        t1 = time.perf_counter()
        with lock:
            lat.append((t1, t1 - t0))

def phase(name, start, end, extra=""):
    with lock:
        xs = sorted(d for t, d in lat if start <= t <= end)
    if not xs:
        return print("%-26s no writes" % name)
    pct = lambda p: xs[min(len(xs) - 1, int(p * len(xs)))] * 1000
    print("%-26s %7d %9.1f %9.1f %9.1f %9.1f%s" % (name, len(xs), end - start, pct(0.5), pct(0.99),
                                                  xs[-1] * 1000, extra))

def switch(conn, fields):
    t0 = time.perf_counter()
    call(conn, "PUT", u.path + "/_settings", {"fields": fields}, auth)
    while "reindexing" in call(conn, "GET", u.path + "/_settings"):
        time.sleep(0.05)
    return t0, time.perf_counter()

conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
threads = [threading.Thread(target=writer, args=(w,)) for w in range(nw)]
for t in threads:
    t.start()
time.sleep(1)                            # warm up
t_base = time.perf_counter()
time.sleep(secs)
t_a0, t_a1 = switch(conn, ["bucket"])
plan = call(conn, "GET", u.path + "?explain=true&ql=" + urllib.parse.quote("verb = 'go'"))["explain"]["plan"]
t_b0, t_b1 = switch(conn, "all")
stop.set()
for t in threads:
    t.join()
got = call(conn, "GET", u.path + "?explain=true&ql=" + urllib.parse.quote("verb = 'go'"))["explain"]["plan"]

print()
print("%d writers; %-13s %7s %9s %9s %9s %9s" % (nw, "", "writes", "secs", "p50 ms", "p99 ms", "max ms"))
phase("writes alone", t_base, t_a0)
phase("reindex to [\"bucket\"]", t_a0, t_a1)
phase("reindex back to \"all\"", t_b0, t_b1)
print()
print("verb = 'go' under [\"bucket\"]: %s" % plan)
print("verb = 'go' under \"all\":      %s" % got)
PY
