"""Crash test: every acknowledged write survives SIGKILL.

Each round starts the server on the same data directory and runs a mixed
load from several writers: user creates, updates, renames (a new username
and email: the old values are released, the new ones claimed), group joins
and leaves, connections made and removed.  The server is killed with
SIGKILL in the middle of the load, then restarted.  Each writer owns its
users, so a model of what was acknowledged is exact, except for the one
request per writer that was in flight at the kill: that one is resolved by
looking (it must have happened wholly or not at all).  Then every entity
the round touched is checked: contents, lookups by its current unique
values, the released old values free, its groups and connections from both
ends; every group's members, and the collection count."""
import http.client
import os
import random
import shutil
import signal
import tempfile
import threading
import time

from harness import Server, check, eq

ROUNDS = int(os.environ.get("UGSTORE_CRASH_ROUNDS", "20"))
WRITERS = int(os.environ.get("UGSTORE_CRASH_WRITERS", "6"))
GROUPS = ["crash-g0", "crash-g1", "crash-g2"]


class Model:
    """What the acknowledged writes made."""

    def __init__(self):
        self.users = {}          # uuid -> {"username", "email", "n"}
        self.released = set()    # unique values given up by a rename
        self.members = set()     # (group path, user uuid)
        self.likes = set()       # (from uuid, to uuid)
        self.touched = set()     # uuids touched in this round


class Writer:
    def __init__(self, server, model, wid, seed):
        self.s, self.m, self.wid = server, model, wid
        self.rng = random.Random(seed)
        self.own = []            # uuids this writer created
        self.n = 0
        self.pending = None      # the request sent and not answered

    def fresh(self, rnd):
        self.n += 1
        name = "u-%d-%d-%d" % (rnd, self.wid, self.n)
        return name, name + "@crash.test"

    def step(self, rnd):
        m, rng = self.m, self.rng
        op = rng.choice(["create"] * 3 + ["update"] * 2 + ["rename"] * 2 +
                        ["join"] * 2 + ["leave", "like", "like", "unlike"])
        if not self.own or (op in ("like", "unlike") and len(self.own) < 2):
            op = "create"
        u = rng.choice(self.own) if self.own else None
        if op == "create":
            name, email = self.fresh(rnd)
            body = {"username": name, "email": email, "n": 0}
            self.pending = ("create", body)
            doc = self.send("POST", "/users", body)
            uuid = doc["entities"][0]["uuid"]
            m.users[uuid] = dict(body)
            self.own.append(uuid)
            m.touched.add(uuid)
        elif op == "update":
            n = m.users[u]["n"] + 1
            self.pending = ("update", u, n)
            self.send("PUT", "/users/" + u, {"n": n})
            m.users[u]["n"] = n
            m.touched.add(u)
        elif op == "rename":
            name, email = self.fresh(rnd)
            self.pending = ("rename", u, name, email)
            self.send("PUT", "/users/" + u, {"username": name, "email": email})
            old = m.users[u]
            m.released.update((old["username"], old["email"]))
            old["username"], old["email"] = name, email
            m.touched.add(u)
        elif op in ("join", "leave"):
            _, u = self.flip(("join", "leave"), op, m.members, 1, (rng.choice(GROUPS), u),
                             "/groups/%s/users/%s")
            m.touched.add(u)
        else:
            v = rng.choice([x for x in self.own if x != u])
            m.touched.update(self.flip(("like", "unlike"), op, m.likes, 0, (u, v),
                                       "/users/%s/likes/users/%s"))
        self.pending = None

    def flip(self, ops, op, edges, end, pair, path):
        """ops is (add, remove), op one of them: a remove takes one of this
        writer's `edges` (else it adds), an add adds pair; returns the edge."""
        edge = self.existing(edges, end) if op == ops[1] else None
        pair = edge or pair
        self.pending = (ops[1] if edge else ops[0],) + tuple(pair)
        self.send("DELETE" if edge else "POST", path % tuple(pair))
        (edges.discard if edge else edges.add)(pair)
        return pair

    def existing(self, edges, end):
        """One of the edges whose `end` is a user of this writer, or None
        (a leave or unlike needs an edge to remove)."""
        mine = sorted(x for x in list(edges) if x[end] in self.own)
        return self.rng.choice(mine) if mine else None

    def send(self, method, path, body=None):
        st, doc = self.s.app(method, path, body, timeout=10)
        if st != 200:
            raise RuntimeError("%s %s answered %s: %s" % (method, path, st, doc))
        return doc

    def run(self, rnd, stop, errors):
        while not stop.is_set():
            try:
                self.step(rnd)
            except (OSError, http.client.HTTPException):
                return                  # the server is gone; pending stays
            except Exception as exc:    # a wrong answer while the server lived
                errors.append(exc)
                return


def listing(s, path):
    """Every entity of a listing, following cursors."""
    out, cursor = [], None
    while True:
        st, doc = s.app("GET", path + "?limit=1000" + ("&cursor=" + cursor if cursor else ""))
        eq(st, 200, "list " + path)
        out += doc["entities"]
        cursor = doc.get("cursor")
        if not cursor:
            return out


def uuids(s, path):
    return {e["uuid"] for e in listing(s, path)}


def resolve(s, m, w):
    """Adopts the outcome of w's request in flight at the kill, after
    checking it is one of the two possible ones."""
    p = w.pending
    w.pending = None
    if p is None:
        return
    kind = p[0]
    if kind == "create":
        st, doc = s.app("GET", "/users/" + p[1]["username"])
        if st == 200:
            uuid = doc["entities"][0]["uuid"]
            m.users[uuid] = dict(p[1])
            w.own.append(uuid)
            m.touched.add(uuid)
        else:
            eq(st, 404, "unacknowledged create")
            st, _ = s.app("GET", "/users/" + p[1]["email"])
            eq(st, 404, "unacknowledged create, by email")
    elif kind == "update":
        st, doc = s.app("GET", "/users/" + p[1])
        n = doc["entities"][0]["n"]
        check(n in (m.users[p[1]]["n"], p[2]), "update in flight: n=%r" % n)
        m.users[p[1]]["n"] = n
    elif kind == "rename":
        _, u, name, email = p
        st, doc = s.app("GET", "/users/" + u)
        e, old = doc["entities"][0], m.users[u]
        if e["username"] == name:
            m.released.update((old["username"], old["email"]))
            old["username"], old["email"] = name, email
        else:
            eq(e["username"], old["username"], "rename in flight")
            m.released.update((name, email))     # never claimed: must be free
        m.touched.add(u)
    elif kind in ("join", "leave"):
        _, g, u = p
        if u in uuids(s, "/groups/%s/users" % g):
            m.members.add((g, u))
        else:
            m.members.discard((g, u))
        m.touched.add(u)
    else:
        _, u, v = p
        if v in uuids(s, "/users/%s/likes" % u):
            m.likes.add((u, v))
        else:
            m.likes.discard((u, v))
        m.touched.update((u, v))


def verify_user(s, m, u):
    want = m.users[u]
    st, doc = s.app("GET", "/users/" + u)
    eq(st, 200, "acknowledged user %s" % want["username"])
    e = doc["entities"][0]
    eq({k: e.get(k) for k in want}, want, "contents of %s" % u)
    for ident in (want["username"], want["email"]):
        st, doc = s.app("GET", "/users/" + ident)
        eq((st, doc["entities"][0]["uuid"]), (200, u), "lookup " + ident)
    eq({e["path"] for e in listing(s, "/users/%s/groups" % u)},
       {g for g, x in m.members if x == u}, "groups of %s (user end)" % u)
    eq(uuids(s, "/users/%s/likes" % u), {b for a, b in m.likes if a == u},
       "likes of %s (from end)" % u)
    eq(uuids(s, "/users/%s/connecting/likes" % u), {a for a, b in m.likes if b == u},
       "likers of %s (to end)" % u)


def verify_shared(s, m, released):
    for g in GROUPS:
        eq(uuids(s, "/groups/%s/users" % g), {u for x, u in m.members if x == g},
           "members of %s (group end)" % g)
    for name in released:
        st, _ = s.app("GET", "/users/" + name)
        eq(st, 404, "released unique value %s" % name)
    st, doc = s.app("GET", "")
    eq(doc["entities"][0]["metadata"]["collections"]["users"]["count"], len(m.users),
       "users count")


def test_acknowledged_writes_survive_sigkill():
    data = tempfile.mkdtemp(prefix="ugstore-crash-")
    rng = random.Random(1234)
    m = Model()
    try:
        s = Server(data=data)
        for g in GROUPS:
            eq(s.app("POST", "/groups", {"path": g})[0], 200, "group " + g)
        writers = [Writer(s, m, w, 1000 + w) for w in range(WRITERS)]
        acked = 0
        for rnd in range(ROUNDS):
            m.touched = set()
            released_before = set(m.released)
            stop, errors = threading.Event(), []
            threads = [threading.Thread(target=w.run, args=(rnd, stop, errors))
                       for w in writers]
            for t in threads:
                t.start()
            # Kill mid-load, once the round has something acknowledged (a
            # loaded machine may take a while to answer the first write).
            deadline = time.time() + 30
            while not m.touched and time.time() < deadline:
                time.sleep(0.01)
            time.sleep(0.1 + rng.random() * 0.25)
            s.stop(signal.SIGKILL)      # requests are in flight
            stop.set()
            for t in threads:
                t.join()
            check(not errors, "round %d: %r" % (rnd, errors[:1]))
            check(m.touched, "round %d acknowledged nothing" % rnd)
            acked += len(m.touched)
            s.start()
            for w in writers:
                resolve(s, m, w)
            for u in m.touched:
                verify_user(s, m, u)
            verify_shared(s, m, m.released - released_before)
            # A released value can be claimed again.
            if m.released - released_before:
                name = sorted(m.released - released_before)[0]
                body = {"username": name, "n": 0, "email": "re-" + name}
                st, doc = s.app("POST", "/users", body)
                eq(st, 200, "claim released %s" % name)
                m.released.discard(name)
                m.users[doc["entities"][0]["uuid"]] = body
        # Across all rounds: every user as the model says, listed, and the
        # released values all free.
        listed = {e["uuid"]: e for e in listing(s, "/users")}
        eq(set(listed), set(m.users), "every acknowledged user listed")
        for u, want in m.users.items():
            eq({k: listed[u].get(k) for k in want}, want, "contents of %s" % u)
        verify_shared(s, m, m.released)
        print("    %d rounds, %d users, %d memberships, %d connections, "
              "%d entities checked after SIGKILL"
              % (ROUNDS, len(m.users), len(m.members), len(m.likes), acked))
        s.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)
