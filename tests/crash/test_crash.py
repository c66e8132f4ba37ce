"""Crash test: every acknowledged write survives SIGKILL.

Each round starts the server on the same data directory, runs concurrent
user creates, kills the server with SIGKILL in the middle of the load, then
restarts it and checks that every create that got a 200 is there, intact,
findable by its unique username and email, listed in the users collection,
and that its unique values are still claimed."""
import os
import random
import shutil
import signal
import tempfile
import threading
import time

from harness import Server, check, eq

ROUNDS = int(os.environ.get("UGSTORE_CRASH_ROUNDS", "10"))
WRITERS = 8


def _load(server, tag, acked, stop):
    n = 0
    while not stop.is_set():
        n += 1
        name = "u-%s-%d" % (tag, n)
        body = {"username": name, "email": name + "@crash.test", "n": n,
                "nested": {"tag": tag, "list": [n, str(n)]}}
        try:
            st, doc = server.app("POST", "/users", body, timeout=10)
        except OSError:
            return                      # the server is gone
        if st == 200:
            acked.append((doc["entities"][0]["uuid"], body))


def _list_all(server):
    uuids, cursor = set(), None
    while True:
        q = "/users?limit=1000" + ("&cursor=" + cursor if cursor else "")
        st, doc = server.app("GET", q)
        eq(st, 200, "list users")
        uuids.update(e["uuid"] for e in doc["entities"])
        cursor = doc.get("cursor")
        if not cursor:
            return uuids


def test_acknowledged_creates_survive_sigkill():
    data = tempfile.mkdtemp(prefix="ugstore-crash-")
    rng = random.Random(1234)
    all_acked = []
    try:
        s = Server(data=data)
        for rnd in range(ROUNDS):
            acked, stop = [], threading.Event()
            threads = [threading.Thread(target=_load, args=(s, "%d-%d" % (rnd, w), acked, stop))
                       for w in range(WRITERS)]
            for t in threads:
                t.start()
            time.sleep(0.15 + rng.random() * 0.35)
            s.stop(signal.SIGKILL)      # mid-load: requests are in flight
            stop.set()
            for t in threads:
                t.join()
            check(len(acked) > 0, "round %d acknowledged nothing" % rnd)
            all_acked += acked
            s.start()
            listed = _list_all(s)
            for uuid, body in acked:
                st, doc = s.app("GET", "/users/" + uuid)
                eq(st, 200, "acknowledged user %s after the kill" % body["username"])
                e = doc["entities"][0]
                for k in ("username", "email", "n", "nested"):
                    eq(e[k], body[k], "%s of %s" % (k, uuid))
                for ident in (body["username"], body["email"]):
                    st, doc = s.app("GET", "/users/" + ident)
                    eq((st, doc["entities"][0]["uuid"]), (200, uuid), "lookup " + ident)
                check(uuid in listed, "collection edge of " + uuid)
            # Unique values are still claimed.
            uuid, body = acked[0]
            st, doc = s.app("POST", "/users", {"username": body["username"].upper()})
            eq((st, doc["error"]), (400, "duplicate_unique_property_exists"), "unique kept")
        # Across all rounds: the collection holds every acknowledged user,
        # and its count agrees with the listing.
        listed = _list_all(s)
        check(all(u in listed for u, _ in all_acked), "every acknowledged user listed")
        st, doc = s.app("GET", "")
        eq(doc["entities"][0]["metadata"]["collections"]["users"]["count"], len(listed),
           "collection count")
        print("    %d rounds, %d acknowledged creates, all intact after SIGKILL"
              % (ROUNDS, len(all_acked)))
        s.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)
