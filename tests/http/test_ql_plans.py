"""Differential test of the query planner: random entities, random
updates and deletes, and queries that exercise every plan (equality,
order, range, sort, scan), paged by cursor with a small limit, compared
with a reference evaluation in Python.  A stale or missing index entry,
a wrong plan boundary or a cursor that skips or repeats shows up here."""
import random
import urllib.parse

from harness import Server, check, eq
from qlref import expected, key, sort_value, val

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "fox", "golf", "hotel"]


def make(rng, i):
    e = {"n": i, "grp": rng.randrange(5), "score": rng.choice([rng.random() * 10, None]),
         "tag": rng.choice(WORDS + [w.upper() for w in WORDS]),
         "flag": rng.choice([True, False]),
         "text": " ".join(rng.sample(WORDS, 3)),
         "arr": rng.sample(range(20), 3),
         "nest": {"v": rng.randrange(10), "w": rng.choice(WORDS)}}
    if rng.random() < 0.7:
        e["loc"] = {"latitude": rng.uniform(-10, 10), "longitude": rng.uniform(-10, 10)}
    if rng.random() < 0.2:
        del e["grp"]                              # some lack the property
    if rng.random() < 0.1:
        e["grp"] = rng.choice(WORDS)              # mixed types
    return {k: v for k, v in e.items() if v is not None}


# Each case: ql, reference predicate, order (path, desc) or None.
def cases():
    def cmp(path, pred):
        return lambda e: any(pred(v) for v in val(e, path))

    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)

    return [
        ("grp = 3", cmp("grp", lambda v: is_int(v) and v == 3), None),
        ("tag = 'delta'", cmp("tag", lambda v: isinstance(v, str) and v.lower() == "delta"), None),
        ("tag = 'de*'", cmp("tag", lambda v: isinstance(v, str) and v.lower().startswith("de")), None),
        ("flag = true and grp = 1", lambda e: cmp("flag", lambda v: v is True)(e) and
         cmp("grp", lambda v: is_int(v) and v == 1)(e), None),
        ("n >= 150", cmp("n", lambda v: is_int(v) and v >= 150), None),
        ("n < 40 and not grp = 2", lambda e: cmp("n", lambda v: is_int(v) and v < 40)(e) and
         not cmp("grp", lambda v: is_int(v) and v == 2)(e), None),
        ("score > 9.5", cmp("score", lambda v: isinstance(v, float) and v > 9.5), None),
        ("text contains 'golf'", cmp("text", lambda v: isinstance(v, str) and "golf" in v.split()), None),
        ("text contains 'ch*'", cmp("text", lambda v: isinstance(v, str) and
                                    any(w.startswith("ch") for w in v.split())), None),
        ("arr = 7", cmp("arr", lambda v: is_int(v) and v == 7), None),
        ("nest.v = 4 or nest.w = 'echo'", lambda e: cmp("nest.v", lambda v: v == 4)(e) or
         cmp("nest.w", lambda v: v == "echo")(e), None),
        ("type = 'rand' and grp = 4", cmp("grp", lambda v: is_int(v) and v == 4), None),
        ("uuid contains 'x' or n = 3", cmp("n", lambda v: is_int(v) and v == 3), None),
        ("order by grp", lambda e: True, ("grp", False)),
        ("order by grp desc", lambda e: True, ("grp", True)),
        ("grp = 2 order by n desc", cmp("grp", lambda v: is_int(v) and v == 2), ("n", True)),
        ("flag = false order by score", cmp("flag", lambda v: v is False), ("score", False)),
        ("order by tag desc", lambda e: True, ("tag", True)),
        ("grp = 1 or tag = 'echo'", lambda e: cmp("grp", lambda v: is_int(v) and v == 1)(e) or
         cmp("tag", lambda v: isinstance(v, str) and v.lower() == "echo")(e), None),
        ("(n < 20 and flag = true) or nest.v = 3 or text contains 'hotel'",
         lambda e: (cmp("n", lambda v: is_int(v) and v < 20)(e) and
                    cmp("flag", lambda v: v is True)(e)) or
         cmp("nest.v", lambda v: v == 3)(e) or
         cmp("text", lambda v: isinstance(v, str) and "hotel" in v.split())(e), None),
        ("n >= 50 and n < 120 order by n desc", cmp("n", lambda v: is_int(v) and 50 <= v < 120),
         ("n", True)),
        ("order by grp, n desc", lambda e: True, [("grp", False), ("n", True)]),
        ("order by tag desc, flag, score desc", lambda e: True,
         [("tag", True), ("flag", False), ("score", True)]),
        ("n < 150 order by grp desc, nest.v", cmp("n", lambda v: is_int(v) and v < 150),
         [("grp", True), ("nest.v", False)]),
        ("grp >= 2 order by grp, arr desc", cmp("grp", lambda v: is_int(v) and v >= 2),
         [("grp", False), ("arr", True)]),
        ("tag = 'd*' order by tag", cmp("tag", lambda v: isinstance(v, str) and
                                         v.lower().startswith("d")), ("tag", False)),
        ("n > 10 order by arr", cmp("n", lambda v: is_int(v) and v > 10), ("arr", False)),
        # bounds on one path merged into one range (single values), or not (arrays)
        ("n > 50 and n < 60", cmp("n", lambda v: is_int(v) and 50 < v < 60), None),
        ("n > 120 and n < 100", lambda e: False, None),
        ("n >= 30 and n <= 30 and n > 10", cmp("n", lambda v: is_int(v) and v == 30), None),
        ("n = 30 and n > 30", lambda e: False, None),
        ("grp > 1 and grp <= 3", cmp("grp", lambda v: is_int(v) and 1 < v <= 3), None),
        ("tag > 'c' and tag < 'e'", cmp("tag", lambda v: isinstance(v, str) and
                                         "c" < v.lower() < "e"), None),
        ("score > 2.5 and score < 3.5", cmp("score", lambda v: isinstance(v, float) and
                                            2.5 < v < 3.5), None),
        ("arr > 5 and arr < 8", lambda e: cmp("arr", lambda v: is_int(v) and v > 5)(e) and
         cmp("arr", lambda v: is_int(v) and v < 8)(e), None),
        ("grp = 2 and n > 20 and n < 100", lambda e: cmp("grp", lambda v: is_int(v) and v == 2)(e)
         and cmp("n", lambda v: is_int(v) and 20 < v < 100)(e), None),
        ("n > 40 and n < 160 order by n desc", cmp("n", lambda v: is_int(v) and 40 < v < 160),
         ("n", True)),
        ("n > 40 and n < 60 or grp = 4", lambda e: cmp("n", lambda v: is_int(v) and 40 < v < 60)(e)
         or cmp("grp", lambda v: is_int(v) and v == 4)(e), None),
    ]


def distance(a, b):
    import math
    r, rad = 6371008.8, math.pi / 180
    dlat, dlon = (b[0] - a[0]) * rad, (b[1] - a[1]) * rad
    h = math.sin(dlat / 2) ** 2 + math.cos(a[0] * rad) * math.cos(b[0] * rad) * math.sin(dlon / 2) ** 2
    return 2 * r * math.atan2(math.sqrt(h), math.sqrt(1 - h))


def page_all(s, ql, limit):
    got, cursor, plan = [], None, None
    for _ in range(1000):
        params = {"ql": ql, "limit": str(limit), "explain": "true"}
        if cursor:
            params["cursor"] = cursor
        st, doc = s.app("GET", "/rands?" + urllib.parse.urlencode(params))
        eq(st, 200, ql)
        plan = plan or doc["explain"]["plan"]
        got += [e["n"] for e in doc["entities"]]
        cursor = doc.get("cursor")
        if not cursor:
            return got, plan
    raise AssertionError("endless paging for " + ql)


def test_plans_match_reference():
    rng = random.Random(7)
    with Server() as s:
        live = []
        for start in range(0, 200, 50):
            batch = [make(rng, i) for i in range(start, start + 50)]
            st, doc = s.app("POST", "/rands", batch)
            eq(len(doc["entities"]), 50, "batch")
            for b, e in zip(batch, doc["entities"]):
                b["uuid"] = e["uuid"]
            live += batch
        # Updates change indexed values; deletes remove them.
        for e in rng.sample(live, 40):
            change = make(rng, e["n"])
            change.pop("n")
            for k in list(e):
                if k not in change and k not in ("n", "uuid"):
                    change[k] = None              # removes it
            st, doc = s.app("PUT", "/rands/" + e["uuid"], change)
            eq(st, 200, "update")
            for k, v in change.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = v
        for e in rng.sample(live, 25):
            eq(s.app("DELETE", "/rands/" + e["uuid"])[0], 200, "delete")
            live.remove(e)
        plans = set()
        for ql, pred, order in cases():
            want = expected(live, pred, order)
            for limit in (7, 1000):
                got, plan = page_all(s, ql, limit)
                plans.add(plan.split(":")[0])
                eq(got, want, "%s (limit %d) [%s]" % (ql, limit, plan))
        # within: the latitude band drives, results nearest first.
        center = (1.0, 2.0)
        near = [(distance(center, (e["loc"]["latitude"], e["loc"]["longitude"])), e["n"])
                for e in live if "loc" in e]
        want = [n for d, n in sorted(near) if d <= 300000]
        for limit in (7, 1000):
            got, plan = page_all(s, "loc within 300000 of 1.0, 2.0", limit)
            plans.add(plan.split(":")[0])
            eq(got, want, "within (limit %d) [%s]" % (limit, plan))
        check("latitude band" in plan, plan)
        st, doc = s.app("POST", "/rands", {"Location": {"latitude": "north", "longitude": 1}})
        eq((st, doc["error"]), (400, "illegal_argument"), "non-numeric location")
        st, doc = s.app("POST", "/rands", {"location": {"lat": 91, "lon": 1}})
        eq((st, doc["error"]), (400, "illegal_argument"), "latitude out of range")
        st, doc = s.app("POST", "/rands", {"location": "here"})
        eq((st, doc["error"]), (400, "illegal_argument"), "location not an object")
        for p in ("equality", "order", "range", "union", "sort in memory, candidates from"):
            check(p in plans, "plan %r was exercised: %r" % (p, plans))
