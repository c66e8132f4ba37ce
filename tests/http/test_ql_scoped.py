"""Differential test of queries inside a scope: a group's users, a typed
connection in both directions and feeds, over random data, paged by cursor
with a small limit, compared with a reference evaluation in Python.  The
planner may drive such a query from the target type's index (each
candidate checked in the scope) or scan the scope: both must list exactly
the scope's matches in the scope's order (newest edge first), and a cursor
must stay right while members are added during paging."""
import random
import urllib.parse

from harness import Server, check, eq
from qlref import expected, val

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "fox", "golf", "hotel"]


def person(rng, i):
    return {"username": "u%d" % i, "n": i, "grp": rng.randrange(5), "tag": rng.choice(WORDS),
            "flag": rng.choice([True, False]), "text": " ".join(rng.sample(WORDS, 3))}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def has(path, pred):
    return lambda e: any(pred(v) for v in val(e, path))


# ql, reference predicate, order (path, desc) or None
CASES = [
    ("n = 17", has("n", lambda v: is_int(v) and v == 17), None),
    ("n > 100 and n < 140", has("n", lambda v: is_int(v) and 100 < v < 140), None),
    ("grp = 2", has("grp", lambda v: v == 2), None),
    ("tag = 'delta'", has("tag", lambda v: v == "delta"), None),
    ("grp = 2 and n < 120", lambda e: has("grp", lambda v: v == 2)(e) and
     has("n", lambda v: is_int(v) and v < 120)(e), None),
    ("tag = 'de*'", has("tag", lambda v: v.startswith("de")), None),
    ("text contains 'golf'", has("text", lambda v: "golf" in v.split()), None),
    ("n < 30 or grp = 4", lambda e: has("n", lambda v: is_int(v) and v < 30)(e) or
     has("grp", lambda v: v == 4)(e), None),
    ("not grp = 2", lambda e: not has("grp", lambda v: v == 2)(e), None),
    ("n > 200 order by n desc", has("n", lambda v: is_int(v) and v > 200), ("n", True)),
    ("grp = 1 order by tag", has("grp", lambda v: v == 1), ("tag", False)),
]


def page_all(s, path, ql, limit, between=None):
    """Every page; between(page_no) runs after each page.  Returns (ns, plans)."""
    got, plans, cursor, page = [], set(), None, 0
    while True:
        params = {"ql": ql, "limit": str(limit), "explain": "true"}
        if cursor:
            params["cursor"] = cursor
        st, doc = s.app("GET", path + "?" + urllib.parse.urlencode(params))
        eq(st, 200, "%s %s" % (path, ql))
        got += [e["n"] for e in doc["entities"]]
        plans.add(doc["explain"]["plan"].split(":")[0])
        cursor = doc.get("cursor")
        page += 1
        if between:
            between(page)
        if not cursor:
            return got, plans


def check_scope(s, path, scope, cases=CASES):
    """scope: the scope's entities, oldest edge first."""
    plans = set()
    for ql, pred, order in cases:
        got, used = page_all(s, path, ql, 7)
        eq(got, expected(scope, pred, order), "%s on %s (%s)" % (ql, path, used))
        plans |= used
    check(plans & {"range", "union", "sort in memory"} and "scan" in plans,
          "%s: both the index and the scan drove some query: %r" % (path, plans))


def test_scoped_queries_match_reference():
    rng = random.Random(11)
    with Server() as s:
        people = [person(rng, i) for i in range(300)]
        for start in range(0, 300, 100):
            st, doc = s.app("POST", "/users", people[start:start + 100])
            eq(st, 200, "users")
        for name in ("big", "small"):
            eq(s.app("POST", "/groups", {"path": name})[0], 200, "group")
        # a group's users, in the order they joined (a rejoin moves to the front)
        order = rng.sample(range(300), 200)
        for i in order:
            eq(s.app("POST", "/groups/big/users/u%d" % i)[0], 200, "join")
        for i in rng.sample(order, 30):
            eq(s.app("DELETE", "/groups/big/users/u%d" % i)[0], 200, "leave")
            order.remove(i)
        for i in rng.sample(order, 20):
            eq(s.app("POST", "/groups/big/users/u%d" % i)[0], 200, "rejoin")
            order.remove(i)
            order.append(i)
        for i in range(5):
            eq(s.app("POST", "/groups/small/users/u%d" % i)[0], 200, "small")
        check_scope(s, "/groups/big/users", [people[i] for i in order])
        check_scope(s, "/groups/small/users", people[:5])
        # a typed connection, both ways: u0 likes 150 users; 120 like u1
        likes = rng.sample(range(2, 300), 150)
        for i in likes:
            eq(s.app("POST", "/users/u0/likes/users/u%d" % i)[0], 200, "like")
        check_scope(s, "/users/u0/likes/users", [people[i] for i in likes])
        fans = rng.sample(range(2, 300), 120)
        for i in fans:
            eq(s.app("POST", "/users/u%d/likes/users/u1" % i)[0], 200, "fan")
        got, _ = page_all(s, "/users/u1/connecting/likes", "grp = 2", 7)
        eq(got, expected([people[i] for i in fans], CASES[2][1], None), "inbound")
        # feeds: activities posted to the group reach its feed and each member's
        posts = []
        for k in range(60):
            a = {"verb": "post", "content": "post %d" % k, "actor": {"username": "u0"},
                 "n": 1000 + k, "grp": rng.randrange(5), "tag": rng.choice(WORDS),
                 "text": " ".join(rng.sample(WORDS, 3))}
            eq(s.app("POST", "/groups/small/activities", a)[0], 200, "post")
            posts.append(a)
        feed_cases = [("n > 1010 and n < 1030", has("n", lambda v: 1010 < v < 1030), None),
                      ("grp = 3", has("grp", lambda v: v == 3), None),
                      ("not grp = 3", lambda e: not has("grp", lambda v: v == 3)(e), None),
                      ("tag = 'echo' order by n desc", has("tag", lambda v: v == "echo"),
                       ("n", True))]
        check_scope(s, "/groups/small/feed", posts, feed_cases)
        check_scope(s, "/users/u3/feed", posts, feed_cases)
        # members who join while a query pages do not move its cursor
        for ql, pred, _ in CASES[:8]:
            want = expected([people[i] for i in order], pred, None)
            newcomers = [i for i in range(300) if i not in order and pred(people[i])]

            def join(page):
                if page == 1 and newcomers:
                    i = newcomers.pop()
                    eq(s.app("POST", "/groups/big/users/u%d" % i)[0], 200, "join during")
                    order.append(i)
            got, used = page_all(s, "/groups/big/users", ql, 4, join)
            eq(got, want, "%s while joining (%s)" % (ql, used))
