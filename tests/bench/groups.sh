#!/bin/sh
# groups.sh: the groups-at-scale part of `make bench`.
#
#   sh tests/bench/groups.sh [UGSTORE_BINARY]
#
# Starts ugstore (durable, its defaults) on a fresh data directory, creates
# BENCH_GROUP_N (default 100000) users in batches and adds every one to the
# group `big` over 8 keep-alive connections, then reports:
#
#   membership adds/s and removes/s (wrk -c8 adding and removing 40,000
#       other users for BENCH_SECONDS each)
#   a scoped equality query, username = 'u<N/2>' in /groups/big/users
#       (1 of N members), p50/p99 on one connection        bar: p50 < 1 ms
#   posting an activity to the group: p50 latency and data growth per post
#       (the databases' pages, /metrics; 20 posts)  bars: p50 <= 5 ms, <= 4 KB
#       beside a post to /activities (no fan-out), the durable write's floor
#   a member's feed: the first page and a page 10 pages deep by cursor
#       (p50 of 20 reads each)                              bar: p50 < 1 ms
#   the feed of a member of 10 more groups of BENCH_FEED_GROUP_N (default
#       2000, above the default --feed-copy-max) members, 30 posts each:
#       the first page of 10 and page 11 by cursor (p50 of 20 reads each;
#       the member is in `big` too: 11 groups' shared posts merged)
#                                                           bar: p50 < 1 ms
#
# A line per bar that falls short is printed; the script exits non-zero
# after the whole report when one does.
set -eu
BIN=${1:-./ugstore}
N=${BENCH_GROUP_N:-100000}
SECS=${BENCH_SECONDS:-10}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
cd "$(dirname "$0")/../.."

SCRATCH=gbench
. tests/bench/scratch.sh

echo "== groups at scale: one group of $N members"
"$BIN" serve --port 0 --data "$DATA/db" --bootstrap bench/g --quiet --public-status > "$DATA/out" 2> "$DATA/err" &
PID=$!
for _ in $(seq 50); do grep -q listening "$DATA/out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$DATA/out")
[ -n "$PORT" ] || { cat "$DATA/err"; exit 1; }

status=0
python3 - "$PORT" "$N" "$SECS" "$DATA/db/data.mdb" <<'PY' || status=$?
import http.client, json, os, re, statistics, subprocess, sys, threading, time, urllib.parse
port, n, secs, mdb = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
APP = "/bench/g"

def conn():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=120)

def call(c, method, path, body=None):
    c.request(method, APP + path, body=None if body is None else json.dumps(body),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    if r.status != 200:
        sys.exit("%s %s: %d %s" % (method, path, r.status, data[:200]))
    return json.loads(data)

def parallel(paths, method, workers=8):
    """Sends method to every path over `workers` connections; returns req/s."""
    chunks = [paths[i::workers] for i in range(workers)]
    def run(chunk):
        c = conn()
        for p in chunk:
            call(c, method, p)
    t0 = time.perf_counter()
    ts = [threading.Thread(target=run, args=(ch,)) for ch in chunks]
    for t in ts: t.start()
    for t in ts: t.join()
    return len(paths) / (time.perf_counter() - t0)

EXTRA = 40000          # users wrk adds and removes, beside the n members (more than
                       # removes reach in BENCH_SECONDS: a second round would be 404s)
c = conn()
t0 = time.perf_counter()
for start in range(0, n + EXTRA, 1000):
    call(c, "POST", "/users", [{"username": "u%d" % i, "n": i}
                               for i in range(start, min(n + EXTRA, start + 1000))])
print("created %d users in %.1f s" % (n + EXTRA, time.perf_counter() - t0))
call(c, "POST", "/groups", {"path": "big"})
t0 = time.perf_counter()
parallel(["/groups/big/users/u%d" % i for i in range(n)], "POST")
print("%d members added in %.1f s (a Python client)" % (n, time.perf_counter() - t0))

def wrk(method):
    """membership adds or removes of the EXTRA users, wrk -t2 -c8: req/s."""
    out = subprocess.run(["wrk", "-t2", "-c8", "-d%ss" % secs, "-s", "tests/bench/member.lua",
                          "http://127.0.0.1:%d%s/groups/big/users" % (port, APP), "--",
                          method, "u", str(n), str(EXTRA)],
                         capture_output=True, text=True, check=True).stdout
    line = dict(kv.split("=", 1) for kv in out.split("BENCH ")[1].split()[:7])
    if line["non2xx"] != "0" or line["sockerr"] != "0":
        sys.exit("membership %s: %s" % (method, out))
    return float(line["rps"])
adds = wrk("POST")
# the adds may not have reached every one of the EXTRA users in their time:
# removes must find members, else they are 404s
parallel(["/groups/big/users/u%d" % i for i in range(n, n + EXTRA)], "POST")
removes = wrk("DELETE")
print("membership: %.0f adds/s, %.0f removes/s (wrk -c8, durable)" % (adds, removes))
c = conn()             # the server has closed the idle one meanwhile

short = []
def bar(name, value, limit, unit):
    ok = value <= limit
    print("  %-38s %10.3f %s   bar <= %s %s%s" % (name, value, unit, limit, unit,
                                                   "" if ok else "   SHORT"))
    if not ok:
        short.append("SHORT: %s %.3f %s, bar <= %s %s" % (name, value, unit, limit, unit))

ql = "username = 'u%d'" % (n // 2)
doc = call(c, "GET", "/groups/big/users?" + urllib.parse.urlencode({"ql": ql, "explain": "true"}))
if [e["username"] for e in doc["entities"]] != ["u%d" % (n // 2)]:
    sys.exit("the scoped query returned %r" % doc["entities"])
url = "http://127.0.0.1:%d%s/groups/big/users?%s" % (port, APP, urllib.parse.urlencode(
    {"ql": ql}, quote_via=urllib.parse.quote))
out = subprocess.run(["wrk", "-t1", "-c1", "-d%ss" % secs, "--latency", url],
                     capture_output=True, text=True, check=True).stdout
def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
print()
print("scoped query %s: plan %s; read %d entries, %d entities; p99 %.3f ms"
      % (ql, doc["explain"]["plan"], doc["explain"]["entries_read"],
         doc["explain"]["entities_read"], ms(lat["99"])))
bar("scoped equality query p50", ms(lat["50"]), 1.0, "ms")

def tree_kb():
    """KB in the databases' pages (branch, leaf, overflow; 4 KB pages), from
    /metrics: unlike the file's size, not hidden by LMDB reusing free pages."""
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    return 4 * sum(int(v) for v in re.findall(r'^ugstore_store_pages\{kind="\w+"\} (\d+)',
                                              text, re.M))

def post_p50(path, posts=20):
    times = []
    for k in range(posts):
        t = time.perf_counter()
        call(c, "POST", path, {"verb": "post", "content": "post %d" % k,
                               "actor": {"username": "u0"}})
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)

print()
print("a post to /activities (no fan-out: a durable write's floor here) p50: %.3f ms"
      % post_p50("/activities"))
du0, kb0 = int(subprocess.run(["du", "-k", mdb], capture_output=True, text=True).stdout.split()[0]), tree_kb()
bar("post to the group p50", post_p50("/groups/big/activities"), 5.0, "ms")
du1, kb1 = int(subprocess.run(["du", "-k", mdb], capture_output=True, text=True).stdout.split()[0]), tree_kb()
bar("data growth per post (database pages)", (kb1 - kb0) / 20.0, 4.0, "KB")
print("  data file growth per post: %.1f KB (freed pages are reused first)" % ((du1 - du0) / 20.0))

def p50_read(path):
    ts = []
    for _ in range(20):
        t = time.perf_counter()
        call(c, "GET", path)
        ts.append((time.perf_counter() - t) * 1000)
    return statistics.median(ts)
member = "/users/u%d/feed" % (n // 3)
cursor = None
for _ in range(10):
    doc = call(c, "GET", member + "?limit=1" + ("&cursor=" + cursor if cursor else ""))
    cursor = doc.get("cursor")
bar("a member's feed, first page p50", p50_read(member + "?limit=1"), 1.0, "ms")
if cursor:
    bar("a member's feed, page 11 p50", p50_read(member + "?limit=1&cursor=" + cursor), 1.0, "ms")

G, GN = 10, int(os.environ.get("BENCH_FEED_GROUP_N", "2000"))
for j in range(G):
    call(c, "POST", "/groups", {"path": "many%d" % j})
t0 = time.perf_counter()
parallel(["/groups/many%d/users/u%d" % (j, i) for j in range(G) for i in range(GN)], "POST")
print()
print("%d groups of %d members made in %.1f s" % (G, GN, time.perf_counter() - t0))
c = conn()
for k in range(30):
    for j in range(G):
        call(c, "POST", "/groups/many%d/activities" % j,
             {"verb": "post", "content": "many %d %d" % (j, k), "actor": {"username": "u0"}})
member = "/users/u%d/feed" % (GN // 2)
cursor = None
for _ in range(10):
    doc = call(c, "GET", member + "?limit=10" + ("&cursor=" + cursor if cursor else ""))
    cursor = doc.get("cursor")
if [e["content"] for e in doc["entities"]][:1] != ["many %d %d" % (G - 1, 29 - 9)]:
    sys.exit("page 10 of the member's feed: %r" % [e["content"] for e in doc["entities"]])
bar("a member of 11 groups' feed, first page p50", p50_read(member + "?limit=10"), 1.0, "ms")
if cursor:
    bar("a member of 11 groups' feed, page 11 p50",
        p50_read(member + "?limit=10&cursor=" + cursor), 1.0, "ms")
for line in short:
    print(line)
sys.exit(1 if short else 0)
PY
echo
echo "data directory: $(du -sh "$DATA/db" | cut -f1) for $N users in one group"
exit $status
