"""Hostile and heavy queries: wildcards cost linear time, every query stops
at its budget (--query-budget-ms, 503 query_timeout), a query whose client
went away stops, and slow queries leave quick requests quick
(docs/security.md, "Limits on queries")."""
import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

from harness import BIN, Server, check, eq

BIG = 1000000          # bytes of the hostile string value

# A slow query: each of its 1,900 words is looked for in a megabyte of
# text whose only match is the last token, and `contains` reads the value
# once per word of its literal, so this is seconds of work for each of
# the four entities that hold such text.  (The text has 47,000 words: an
# entity may hold 50,000 index entries.)
SLOW_QL = "s contains '" + "w " * 1900 + "'"


def slow_path():
    return "/test-org/test-app/words?ql=" + urllib.parse.quote_plus(SLOW_QL)


def put_slow_data(s):
    for i in range(4):
        st, _ = s.app("PUT", "/words/w%d" % i, {"s": "b" * 20 + (" " + "b" * 20) * 46999 + " w"})
        eq(st, 200, "store a megabyte of words")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_slow(s, n, timeout):
    """n connections that send the slow query; returns them (unread)."""
    conns = []
    for _ in range(n):
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=timeout)
        c.request("GET", slow_path())
        conns.append(c)
    return conns


def test_wildcard_on_a_megabyte_is_linear():
    with Server() as s:
        st, _ = s.app("PUT", "/globs/g0", {"s": "a" * BIG})
        eq(st, 200, "store a megabyte of 'a'")
        for ql, want in (("s = '*%sb'" % ("a" * 4000), 0),
                         ("s = '*%s'" % ("a" * 4000), 1),
                         ("s = '*%s*b'" % ("a" * 4000), 0),
                         ("s = '%s*%s'" % ("a" * 2000, "a" * 2000), 1),
                         ("s contains '*%sb'" % ("a" * 4000), 0),
                         ("s contains 'a*%sa'" % ("*a" * 1000), 1)):
            t0 = time.time()
            st, doc = s.app("GET", "/globs?ql=" + urllib.parse.quote_plus(ql), timeout=60)
            took = time.time() - t0
            eq(st, 200, ql[:30])
            eq(len(doc["entities"]), want, ql[:30])
            check(took < 5, "%s... took %.1f s" % (ql[:20], took))


def test_budget_stops_a_query_with_503():
    with Server(args=["--query-budget-ms", "300"]) as s:
        put_slow_data(s)
        t0 = time.time()
        st, doc = s.app("GET", "/words?ql=" + urllib.parse.quote_plus(SLOW_QL), timeout=60)
        took = time.time() - t0
        eq(st, 503, "over budget")
        eq(doc["error"], "query_timeout", "error code")
        check("300 ms" in doc["error_description"], doc["error_description"])
        check(took < 5, "stopped near its budget: %.1f s" % took)
        # a PUT or DELETE with a query runs on the writer, under the same budget
        st, doc = s.app("PUT", "/words?ql=" + urllib.parse.quote_plus(SLOW_QL), {"x": 1},
                        timeout=60)
        eq((st, doc["error"]), (503, "query_timeout"), "a write's query")
        st, doc = s.app("GET", "/words/w0")
        check("x" not in doc["entities"][0], "the stopped PUT changed nothing")
        # quick queries are untouched
        s.app("POST", "/things", {"s": "w"})
        st, doc = s.app("GET", "/things?ql=" + urllib.parse.quote_plus("s contains 'w'"))
        eq(st, 200, "a quick query")
        eq(len(doc["entities"]), 1, "its match")


def test_sort_cap_answers_alike_for_every_method():
    # 100,001 entities with one first key: sorting them by a second key
    # passes QUERY_MAX_SORT (100,000), and a GET, a PUT and a DELETE with
    # that query all answer the same 400, changing nothing.  The entities
    # are loaded through core by the bench's loader (tests/bench/load_q.c:
    # every one has sometestprop "testprop" and its own ordinal), which takes
    # seconds where 100 batch POSTs take minutes under the sanitizers.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run(["make", "--no-print-directory", "-s", "build/rel/bench/load_q"],
                   cwd=root, check=True)
    data = tempfile.mkdtemp(prefix="ugstore-sortcap-")
    try:
        _sort_cap_on(data, root)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _sort_cap_on(data, root):
    t0 = time.time()
    subprocess.run([os.path.join(root, "build/rel/bench/load_q"), data, "test-org/test-app",
                    "things", "100001"], check=True, capture_output=True)
    print("    loaded 100,001 entities in %.1f s" % (time.time() - t0))
    with Server(data=data, args=["--query-budget-ms", "60000"]) as s:
        st, doc = s.app("GET", "")
        eq(doc["entities"][0]["metadata"]["collections"]["things"]["count"], 100001, "loaded")
        path = "/things?limit=5&ql=" + urllib.parse.quote_plus("order by sometestprop, ordinal")
        for method, body in (("GET", None), ("PUT", {"x": 1}), ("DELETE", None)):
            st, doc = s.app(method, path, body, timeout=120)
            eq((st, doc.get("error")), (400, "illegal_argument"), method)
            check("sort more than 100000" in doc["error_description"], doc["error_description"])
        st, doc = s.app("GET", "/things?limit=1")
        check("x" not in doc["entities"][0], "the refused PUT changed nothing")
        st, doc = s.app("GET", "")
        eq(doc["entities"][0]["metadata"]["collections"]["things"]["count"], 100001,
           "the refused DELETE changed nothing")


def test_budget_option_is_checked():
    for bad in ("0", "-5", "abc", "", "3600001"):
        p = subprocess.run([BIN, "serve", "--port", "0", "--data", tempfile.gettempdir(),
                            "--query-budget-ms", bad], capture_output=True, text=True,
                           timeout=10)
        eq(p.returncode, 2, "exit status for %r" % bad)
        check("--query-budget-ms" in p.stderr, p.stderr)


def test_abandoned_queries_stop():
    """Four slow queries whose clients give up after a second: the server
    stops working on them (it would otherwise burn the budget, here a
    minute, on each)."""
    with Server(args=["--query-budget-ms", "60000"]) as s:
        put_slow_data(s)
        conns = start_slow(s, 4, timeout=1)
        time.sleep(1)
        for c in conns:
            c.close()
        time.sleep(0.5)
        before = cpu_seconds(s.proc.pid)
        time.sleep(2)
        burned = cpu_seconds(s.proc.pid) - before
        check(burned < 0.3, "the server still worked %.2f CPU-s for nobody" % burned)
        st, _ = s.app("GET", "/words/w0")
        eq(st, 200, "the server serves on")


def test_quick_gets_while_slow_queries_run():
    """Two workers, four slow scans in flight: fifty quick GETs all answer
    long before the scans do."""
    with Server(args=["--threads", "2", "--query-budget-ms", "60000"]) as s:
        put_slow_data(s)
        st, doc = s.app("POST", "/things", {"name": "quick"})
        uuid = doc["entities"][0]["uuid"]
        t0 = time.time()
        conns = start_slow(s, 4, timeout=120)
        time.sleep(0.3)                  # the scans have started
        latencies = []
        for _ in range(50):
            t = time.time()
            st, _ = s.app("GET", "/things/" + uuid, timeout=60)
            eq(st, 200, "quick GET")
            latencies.append(time.time() - t)
        quick_done = time.time() - t0
        # the scans are still running: reading one answer takes a while yet
        conns[0].sock.settimeout(0.2)
        try:
            conns[0].getresponse()
            still_running = False
        except (socket.timeout, TimeoutError):
            still_running = True
        for c in conns:
            c.close()
        check(still_running, "the slow scans outlived the quick GETs")
        check(quick_done < 5, "50 GETs took %.1f s next to the scans" % quick_done)
        check(max(latencies) < 1, "slowest GET %.2f s" % max(latencies))


def test_slow_queries_beyond_the_cap_get_503():
    """70 slow queries at once: 64 are taken (two run, the rest wait), the
    others answer 503 at once, and the server serves on."""
    with Server(args=["--query-budget-ms", "60000"]) as s:
        put_slow_data(s)
        conns = start_slow(s, 70, timeout=60)
        refused, waiting = 0, list(conns)
        deadline = time.time() + 30
        while time.time() < deadline:
            ready, _, _ = select.select([c.sock for c in waiting], [], [], 0.5)
            for c in [c for c in waiting if c.sock in ready]:
                waiting.remove(c)
                r = c.getresponse()
                doc = json.loads(r.read())
                eq((r.status, doc["error"]), (503, "service_unavailable"), "refused")
                check("64 slow queries" in doc["error_description"], doc["error_description"])
                refused += 1
            if refused >= 70 - 64 and not ready:
                break                    # and no more came for half a second
        for c in conns:
            c.close()
        eq(refused, 70 - 64, "refused beyond the cap")
        st, _ = s.app("GET", "/words/w0")
        eq(st, 200, "the server serves on")


def test_shutdown_stops_slow_queries():
    s = Server(args=["--query-budget-ms", "60000"])
    try:
        put_slow_data(s)
        conns = start_slow(s, 2, timeout=60)
        time.sleep(0.5)
        t0 = time.time()
        eq(s.stop(signal.SIGTERM), 0, "clean exit")
        check(time.time() - t0 < 5, "slow queries did not hold up shutdown")
        for c in conns:
            try:
                r = c.getresponse()
                eq(r.status, 503, "a stopped query answers 503")
                eq(json.loads(r.read())["error"], "service_unavailable", "error code")
            except (OSError, http.client.HTTPException):
                pass                     # or the connection closed
            c.close()
    finally:
        s.close()
