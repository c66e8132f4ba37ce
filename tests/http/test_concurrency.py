"""Concurrent writes through group commit: requests that share a batch
commit together, and one that fails takes nothing of the others with it."""
import threading
import urllib.parse

from harness import Server, Threads, check, eq


def test_concurrent_writes_share_commits_not_failures():
    with Server() as s:
        results, lock = [], threading.Lock()

        def worker(w):
            for i in range(40):
                # every worker races for the same unique name once per round
                # and writes one entity of its own
                st1, d1 = s.app("POST", "/racers", {"name": "prize-%d" % i, "by": w})
                st2, d2 = s.app("POST", "/racers", {"name": "own-%d-%d" % (w, i)})
                with lock:
                    results.append((i, w, st1, d1.get("error"), st2))

        Threads(worker, [(w,) for w in range(8)]).join()
        for i in range(40):
            round_ = [r for r in results if r[0] == i]
            wins = [r for r in round_ if r[2] == 200]
            eq(len(wins), 1, "one winner of prize-%d" % i)
            check(all(r[3] == "duplicate_unique_property_exists" for r in round_ if r[2] != 200),
                  "the others lose with a duplicate")
            check(all(r[4] == 200 for r in round_), "own writes all succeed")
        st, doc = s.app("GET", "/racers?limit=1000")
        eq(len(doc["entities"]), 40 + 8 * 40, "everything acknowledged is there")
        st, doc = s.app("GET", "")
        eq(doc["entities"][0]["metadata"]["collections"]["racers"]["count"], 360, "count")


def _nested_batches(s):
    st, _, _, raw = s.request("GET", "/metrics")
    eq(st, 200, "GET /metrics")
    for line in raw.decode().splitlines():
        if line.startswith("ugstore_commit_batches_nested_total "):
            return int(float(line.split()[1]))
    raise AssertionError("no ugstore_commit_batches_nested_total in /metrics")


def test_a_failure_after_a_write_leaves_no_trace_in_its_batch():
    """A user's username and email are both unique, claimed one after the
    other: a new user whose second claim collides has written the first
    when it fails.  Its batch then runs again with each request nested: the
    failed request's first claim is gone and its neighbours are all kept."""
    with Server() as s:
        eq(s.app("POST", "/users", {"username": "taken", "email": "taken@example.com"})[0],
           200, "the first holder")
        rounds = 0
        while True:
            rounds += 1
            results, lock = [], threading.Lock()

            def worker(w):
                for i in range(15):
                    tag = "%d-%d-%d" % (rounds, w, i)
                    # one of these two collides only in its second claim
                    a = s.app("POST", "/users", {"username": "u" + tag,
                                                 "email": "taken@example.com"})[0]
                    b = s.app("POST", "/users", {"username": "taken",
                                                 "email": "e%s@example.com" % tag})[0]
                    c = s.app("POST", "/users", {"username": "ok" + tag})[0]
                    with lock:
                        results.append((tag, a, b, c))

            Threads(worker, [(w,) for w in range(8)]).join()
            for tag, a, b, c in results:
                eq((a, b, c), (400, 400, 200), "collisions refused, the others kept (%s)" % tag)
            # nothing the failed requests claimed is held
            for tag, _, _, _ in results[:40]:
                eq(s.app("POST", "/users", {"username": "u" + tag,
                                            "email": "e%s@example.com" % tag})[0],
                   200, "u%s and its e-mail are free" % tag)
            if _nested_batches(s) or rounds == 10:
                break
        check(_nested_batches(s) > 0, "no batch ran a second time in %d rounds" % rounds)
        st, doc = s.app("GET", "/users?limit=1000&ql=" + urllib.parse.quote(
            "select * where username = 'ok*'"))
        eq(len(doc["entities"]), rounds * 8 * 15, "every kept user is there")


def test_shutdown_under_write_load():
    """SIGTERM while keep-alive clients write: a clean exit, and every
    write that got a 200 is there after a restart."""
    import http.client
    import json
    import signal
    import time
    s = Server()
    try:
        acked, stop, lock = [], threading.Event(), threading.Lock()

        def writer(w):
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    c.request("POST", "/test-org/test-app/loads", json.dumps({"name": "w%d-%d" % (w, n)}),
                              {"Content-Type": "application/json"})
                    r = c.getresponse()
                    body = r.read()
                except (OSError, http.client.HTTPException):
                    return
                if r.status == 200:
                    with lock:
                        acked.append(json.loads(body)["entities"][0]["uuid"])
                else:
                    check(r.status == 503, "only 503 while stopping: %d" % r.status)

        threads = Threads(writer, [(w,) for w in range(12)])
        time.sleep(0.8)
        t0 = time.time()
        eq(s.stop(signal.SIGTERM), 0, "clean exit under load")
        check(time.time() - t0 < 5, "keep-alive connections drained quickly")
        stop.set()
        threads.join()
        check(len(acked) > 0, "writes happened")
        s.start()
        st, doc = s.app("GET", "")
        eq(doc["entities"][0]["metadata"]["collections"]["loads"]["count"], len(acked),
           "every acknowledged write, and no other, survived")
    finally:
        s.close()
