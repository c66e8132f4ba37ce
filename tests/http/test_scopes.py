"""What every plan and every scope must agree on: `contains` matches whole
words whichever plan evaluates it (index or scan, root collection,
sub-collection or connection), `limit` is clamped to 1000 on every scope,
an update leaves no index entry of its old values, and a delete leaves no
edge at either end."""
import re
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from harness import Shared, check, eq

srv = Shared()
teardown = srv.close

# Whole words 'cat' in the first five only; 'cat*' adds cats and catalog.
TEXTS = {
    "cat1": "the cat sat", "cat2": "Cat.", "cat3": "a black cat", "cat4": "cat food",
    "cat5": "one cat, two dogs", "no1": "concatenate strings", "no2": "bobcat",
    "no3": "cats and dogs", "no4": "catalog", "no5": "scatter",
}
CAT = {"cat1", "cat2", "cat3", "cat4", "cat5"}
CAT_PREFIX = CAT | {"no3", "no4"}


def pages(s, path, ql=None, limit=10):
    """Every page of a listing or query: (names in order, plans used)."""
    names, plans, cursor = [], set(), None
    while True:
        params = {"limit": str(limit)}
        if ql:
            params.update(ql=ql, explain="true")
        if cursor:
            params["cursor"] = cursor
        st, doc = s.app("GET", path + "?" + urllib.parse.urlencode(params))
        eq(st, 200, "GET %s %s" % (path, ql))
        names += [e.get("name") or e.get("username") for e in doc["entities"]]
        if ql:
            plans.add(doc["explain"]["plan"].split(":")[0].split(",")[0])
        cursor = doc.get("cursor")
        if not cursor:
            return names, plans


def _pets(s):
    st, doc = s.app("GET", "/pets?limit=1")
    if doc and doc["entities"]:
        return
    for name, text in TEXTS.items():
        eq(s.app("POST", "/pets", {"name": name, "text": text})[0], 200, "pet " + name)
        eq(s.app("POST", "/users", {"username": name, "name": name, "text": text})[0], 200,
           "user " + name)
    eq(s.app("POST", "/groups", {"path": "petlovers"})[0], 200, "group")
    eq(s.app("POST", "/users", {"username": "owner"})[0], 200, "owner")
    for name in TEXTS:
        eq(s.app("POST", "/groups/petlovers/users/" + name)[0], 200, "member " + name)
        eq(s.app("POST", "/users/owner/likes/pets/" + name)[0], 200, "likes " + name)


def test_contains_matches_whole_words_on_every_plan():
    s = srv()
    _pets(s)
    cases = [  # ql, limit, expected names, plan
        ("text contains 'cat'", 10, CAT, "equality"),
        ("text contains 'cat*'", 10, CAT_PREFIX, "range"),
        ("text contains 'cat' or name = 'nobody'", 10, CAT, "union"),
        ("text contains 'cat' or uuid contains 'zzz'", 10, CAT, "scan"),
        ("not text contains 'cat'", 10, set(TEXTS) - CAT, "scan"),
        ("text contains 'cat' order by name", 1, CAT, "order"),
        ("text contains 'cat' order by name", 10, CAT, "sort in memory"),
        ("text contains 'cat' order by name desc, created", 1, CAT, "order"),
        ("text contains 'cat' order by name desc, created", 10, CAT, "sort in memory"),
    ]
    for ql, limit, want, plan in cases:
        names, plans = pages(s, "/pets", ql, limit)
        eq((sorted(names), plans), (sorted(want), {plan}), "%s (limit %d)" % (ql, limit))
    # A scope of one type (a sub-collection, a typed connection) is driven by
    # its type's index when that reads less than the scope, each candidate
    # checked in it; a connection of any type is scanned.
    for path, typed in (("/groups/petlovers/users", True), ("/users/owner/likes", False),
                        ("/users/owner/likes/pets", True)):
        for ql, want, plan in (("text contains 'cat'", CAT, "range"),
                               ("text contains 'cat*'", CAT_PREFIX, "range"),
                               ("not text contains 'cat'", set(TEXTS) - CAT, "scan")):
            names, plans = pages(s, path, ql)
            eq((sorted(names), plans), (sorted(want), {plan if typed else "scan"}),
               "%s on %s" % (ql, path))


def _post_all(s, paths):
    with ThreadPoolExecutor(16) as ex:
        codes = list(ex.map(lambda p: s.app("POST", p)[0], paths))
    eq(set(codes), {200}, "%d posts" % len(paths))


def test_limit_is_clamped_to_1000_on_every_scope():
    s = srv()
    n = 1005
    st, doc = s.app("POST", "/bigs", [{"name": "over%d" % i} for i in range(1001)])
    eq((st, doc["error"]), (400, "illegal_argument"), "a batch of 1001")
    uuids = []
    for lo, hi in ((0, 1000), (1000, n)):
        st, doc = s.app("POST", "/bigs", [{"name": "b%d" % i, "n": i} for i in range(lo, hi)])
        eq(st, 200, "batch of bigs")
        uuids += [e["uuid"] for e in doc["entities"]]
        st, doc = s.app("POST", "/users", [{"username": "big%d" % i} for i in range(lo, hi)])
        eq(st, 200, "batch of users")
    eq(s.app("POST", "/groups", {"path": "biggroup"})[0], 200, "group")
    eq(s.app("POST", "/users", {"username": "bigfan"})[0], 200, "fan")
    _post_all(s, ["/groups/biggroup/users/big%d" % i for i in range(n)] +
              ["/users/bigfan/likes/%s" % u for u in uuids])
    for path, ql in (("/bigs", None), ("/bigs", "n >= 0"), ("/bigs", "n >= 0 order by n"),
                     ("/groups/biggroup/users", None), ("/groups/biggroup/users", "username = 'big*'"),
                     ("/users/bigfan/likes", None), ("/users/bigfan/likes", "n >= 0")):
        q = {"limit": "5000"}
        if ql:
            q["ql"] = ql
        st, doc = s.app("GET", path + "?" + urllib.parse.urlencode(q))
        eq((st, len(doc["entities"]), "cursor" in doc), (200, 1000, True),
           "limit=5000 on %s %s" % (path, ql or ""))
        q["cursor"] = doc["cursor"]
        st, rest = s.app("GET", path + "?" + urllib.parse.urlencode(q))
        eq((st, len(rest["entities"]), "cursor" in rest), (200, n - 1000, False),
           "second page of %s %s" % (path, ql or ""))
        seen = {e["uuid"] for e in doc["entities"] + rest["entities"]}
        eq(len(seen), n, "distinct entities of %s %s" % (path, ql or ""))


def _entries(s, coll, ql):
    """How many index entries the plan of `ql` reads (from explain)."""
    st, doc = s.app("GET", "/%s?%s" % (coll, urllib.parse.urlencode({"ql": ql, "explain": "true"})))
    eq(st, 200, ql)
    m = re.search(r"\((?:[a-z ]+), (\d+)\+? entries\)", doc["explain"]["plan"])
    check(m, "no entry count in plan %r" % doc["explain"]["plan"])
    return int(m.group(1)), [e.get("name") or e.get("username") for e in doc["entities"]]


def test_update_leaves_no_index_entry_of_old_values():
    s = srv()
    eq(s.app("POST", "/paints", {"name": "p1", "color": "red", "note": "old words",
                                 "tags": ["x", "y"]})[0], 200, "create")
    eq(s.app("POST", "/paints", {"name": "p2", "color": "green"})[0], 200, "create")
    eq(_entries(s, "paints", "color = 'red'"), (1, ["p1"]), "red before")
    eq(s.app("PUT", "/paints/p1", {"color": "blue", "note": "fresh", "tags": ["y"]})[0], 200,
       "update")
    for ql, want in (("color = 'red'", (0, [])), ("note contains 'old'", (0, [])),
                     ("tags = 'x'", (0, [])), ("color = 'blue'", (1, ["p1"])),
                     ("note contains 'fresh'", (1, ["p1"])), ("tags = 'y'", (1, ["p1"]))):
        eq(_entries(s, "paints", ql), want, ql + " after the update")
    # A unique value given up by an update is free again, and finds nothing.
    eq(s.app("POST", "/users", {"username": "oldname", "email": "old@x.test"})[0], 200, "user")
    eq(s.app("PUT", "/users/oldname", {"username": "newname", "email": "new@x.test"})[0], 200,
       "rename")
    eq(s.app("GET", "/users/oldname")[0], 404, "old name")
    eq(_entries(s, "users", "username = 'oldname'"), (0, []), "old name through ql")
    st, doc = s.app("POST", "/users", {"username": "oldname", "email": "old@x.test"})
    eq(st, 200, "old name and email claimed again")


def test_delete_leaves_no_edge_at_either_end():
    s = srv()
    for u in ("dy", "dx"):                          # dx is the newer
        eq(s.app("POST", "/users", {"username": u})[0], 200, u)
    for t in ("t1", "t2", "t3"):
        eq(s.app("POST", "/trees", {"name": t})[0], 200, t)
    eq(s.app("POST", "/groups", {"path": "dg"})[0], 200, "group")
    eq(s.app("POST", "/roles", {"name": "dr"})[0], 200, "role")
    for path in ("/groups/dg/users/dy", "/groups/dg/users/dx", "/roles/dr/users/dy",
                 "/roles/dr/users/dx", "/users/dy/likes/trees/t1", "/users/dx/likes/trees/t1",
                 "/users/dx/likes/trees/t2", "/trees/t3/shades/users/dy",
                 "/trees/t3/shades/users/dx", "/users/dy/following/users/dx"):
        eq(s.app("POST", path)[0], 200, path)
    st, doc = s.app("GET", "")
    users = doc["entities"][0]["metadata"]["collections"]["users"]["count"]
    eq(s.app("DELETE", "/users/dx")[0], 200, "delete dx")
    # Every listing that held dx holds only the others, even one at a time.
    check("dx" not in pages(s, "/users", limit=1000)[0], "dx still in /users")
    for path, want in (("/groups/dg/users", ["dy"]), ("/roles/dr/users", ["dy"]),
                       ("/trees/t1/connecting/likes", ["dy"]), ("/trees/t3/shades", ["dy"]),
                       ("/users/dy/following", []), ("/trees/t2/connecting/likes", [])):
        eq(pages(s, path, limit=1)[0], want, path)
    # Counts: the root collection and the verbs each end still has.
    st, doc = s.app("GET", "")
    eq(doc["entities"][0]["metadata"]["collections"]["users"]["count"], users - 1, "users count")
    md = s.app("GET", "/trees/t2")[1]["entities"][0]["metadata"]
    check("likes" not in md.get("connecting", {}), "t2 still connected: %r" % md)
    md = s.app("GET", "/trees/t1")[1]["entities"][0]["metadata"]
    eq(sorted(md.get("connecting", {})), ["likes"], "t1 keeps dy's like")
    md = s.app("GET", "/users/dy")[1]["entities"][0]["metadata"]
    check("following" not in md.get("connections", {}), "dy follows nobody")
    eq(pages(s, "/users/dy/following", "name = 'dx' or not name = 'x'")[0], [], "ql following")
    # dx's name is free: a new dx has no edge of the old one.
    eq(s.app("POST", "/users", {"username": "dx"})[0], 200, "new dx")
    for path in ("/users/dx/groups", "/users/dx/roles", "/users/dx/likes",
                 "/users/dx/connecting/shades", "/users/dx/followers"):
        eq(pages(s, path)[0], [], path + " of the new dx")


def test_counts_stay_right_through_reposts():
    """Re-posting an item, a connection or a membership moves it to the
    front without counting it twice: one removal takes it away."""
    s = srv()

    def count(coll):
        st, doc = s.app("GET", "")
        return doc["entities"][0]["metadata"]["collections"].get(coll, {}).get("count", 0)

    for name in ("r1", "r2"):
        eq(s.app("POST", "/reposts", {"name": name})[0], 200, name)
    eq(s.app("POST", "/reposts/r1")[0], 200, "re-post r1")
    eq(count("reposts"), 2, "count after a re-post")
    eq(pages(s, "/reposts")[0], ["r1", "r2"], "re-posted first")
    eq(s.app("DELETE", "/reposts/r2")[0], 200, "delete r2")
    eq(count("reposts"), 1, "count after a delete")
    eq(s.app("POST", "/users", {"username": "cx"})[0], 200, "cx")
    for _ in range(2):
        eq(s.app("POST", "/users/cx/likes/reposts/r1")[0], 200, "like r1")
    eq(s.app("DELETE", "/users/cx/likes/reposts/r1")[0], 200, "unlike r1")
    md = s.app("GET", "/users/cx")[1]["entities"][0]["metadata"]
    check("likes" not in md.get("connections", {}), "cx still likes: %r" % md)
    md = s.app("GET", "/reposts/r1")[1]["entities"][0]["metadata"]
    check("likes" not in md.get("connecting", {}), "r1 still liked: %r" % md)
    eq(pages(s, "/users/cx/likes")[0], [], "no like left")
