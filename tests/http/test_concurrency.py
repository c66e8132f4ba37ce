"""Concurrent writes through group commit: requests that share a batch
commit together, and one that fails takes nothing of the others with it."""
import threading

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
