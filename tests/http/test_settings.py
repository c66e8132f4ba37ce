"""HTTP suite for collection settings: the rules of other systems' groups
(FOLIO, Marketplace, Slack) kept by the store, and their races."""
import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse

from harness import BIN, SU, Server, Shared, Threads, check, eq
from lmdbdump import Dump

srv = Shared()
teardown = srv.close


def test_settings_document():
    s = srv()
    st, doc = s.app("GET", "/things/_settings")
    eq((st, doc["data"]), (200, {}), "none yet")
    st, doc = s.app("PUT", "/things/_settings", {"unique": ["code"], "bogus": 1}, headers=SU)
    eq((st, doc["error"]), (400, "illegal_argument"), "unknown key")
    check("bogus" in doc["error_description"], "names the key")
    st, doc = s.app("PUT", "/things/_settings", {"types": {"n": "int"}}, headers=SU)
    eq((st, doc["error"]), (400, "illegal_argument"), "bad type name")
    st, doc = s.app("POST", "/things/_settings", {"unique": ["code"]}, headers=SU)
    eq(st, 200, "set")
    check(doc["lastUpdated"] > 0 and doc["lastUpdateBy"], "lastUpdated, lastUpdateBy")
    st, doc = s.app("POST", "/things/_settings?replace_all=false", {"required": ["code"]}, headers=SU)
    eq(doc["data"], {"unique": ["code"], "required": ["code"]}, "merged")
    st, doc = s.app("POST", "/things", {"name": "_settings", "code": "x"})
    eq(st, 400, "_settings is reserved")
    st, doc = s.app("DELETE", "/things/_settings", headers=SU)
    st, doc = s.app("GET", "/things/_settings")
    eq(doc["data"], {}, "reset")


def test_folio_000():
    s = srv()
    st, doc = s.app("PUT", "/usergroups/_settings",
                    {"unique": ["group"], "required": ["group"],
                     "types": {"expirationOffsetInDays": "integer"}, "audit": True}, headers=SU)
    eq(st, 200, "settings")
    g = {"group": "staff", "desc": "Staff Member", "id": "3684a786-6671-4268-8ed0-9db82ebca60b",
         "expirationOffsetInDays": 730, "source": "System"}
    st, doc = s.app("POST", "/usergroups", g)
    eq(st, 200, "create")
    e = doc["entities"][0]
    for k, v in g.items():
        eq(e[k], v, k)
    check("createdDate" in e["metadata"] and "updatedDate" in e["metadata"], "audit dates")
    eq(s.app("POST", "/usergroups", {"group": "STAFF"})[0], 400, "duplicate in another case")
    st, doc = s.app("POST", "/usergroups", {"group": "x", "expirationOffsetInDays": "730"})
    eq((st, doc["error"]), (400, "illegal_argument"), "wrong type")
    check("expirationOffsetInDays" in doc["error_description"], "names the property")
    st, doc = s.app("POST", "/usergroups", {"desc": "no group"})
    eq((st, doc["error"]), (400, "required_property_not_found"), "required")
    st, doc = s.app("PUT", "/usergroups/%s" % e["uuid"], {"desc": "changed"})
    check(doc["entities"][0]["metadata"]["updatedDate"] >= e["metadata"]["updatedDate"], "updated")


def test_marketplace_001_004():
    s = srv()
    st, doc = s.app("PUT", "/groups/_settings",
                    {"single": {"default": True}, "counts": {"stats.users": "users"},
                     "deleteOnlyWhenEmpty": ["users"], "readonly": ["stats"]}, headers=SU)
    eq(st, 200, "settings: %r" % (doc,))
    a = s.app("POST", "/groups", {"path": "mp-a", "name": "A", "default": True,
                                  "stats": {"users": 99}})[1]["entities"][0]
    eq(a["stats"], {"users": 0}, "count kept, client value ignored")
    b = s.app("POST", "/groups", {"path": "mp-b", "name": "B", "default": True})[1]["entities"][0]
    eq(b["default"], True, "second default")
    check("default" not in s.app("GET", "/groups/mp-a")[1]["entities"][0], "first cleared")
    u = s.app("POST", "/users", {"username": "mp-u1"})[1]["entities"][0]
    eq(s.app("POST", "/groups/mp-a/users/mp-u1")[0], 200, "add")
    eq(s.app("GET", "/groups/mp-a")[1]["entities"][0]["stats"]["users"], 1, "count follows")
    st, doc = s.app("GET", "/groups?ql=stats.users%20%3D%200")
    eq([e["path"] for e in doc["entities"]], ["mp-b"], "ql finds the empty group")
    st, doc = s.app("DELETE", "/groups/mp-a")
    eq((st, doc["error"]), (409, "collection_not_empty"), "delete of a non-empty group")
    eq(len(s.app("GET", "/groups/mp-a/users")[1]["entities"]), 1, "still there with members")
    eq(s.app("DELETE", "/groups/mp-a/users/mp-u1")[0], 200, "remove")
    eq(s.app("GET", "/groups/mp-a")[1]["entities"][0]["stats"]["users"], 0, "count follows")
    eq(s.app("DELETE", "/groups/mp-a")[0], 200, "delete when empty")
    del u
    s.app("DELETE", "/groups/_settings", headers=SU)


def test_settings_conflict():
    s = srv()
    s.app("POST", "/widgets", {"name": "w1", "handle": "h"})
    s.app("POST", "/widgets", {"name": "w2", "handle": "H"})
    st, doc = s.app("PUT", "/widgets/_settings", {"unique": ["handle"]}, headers=SU)
    eq((st, doc["error"]), (409, "settings_conflict"), "breaking data")
    eq(s.app("GET", "/widgets/_settings")[1]["data"], {}, "unchanged")


def race(s, n, fn):
    out = [None] * n
    Threads(lambda i: out.__setitem__(i, fn(i)), [(i,) for i in range(n)]).join()
    return out


def test_races():
    s = srv()
    s.app("PUT", "/teams/_settings", {"unique": ["handle"], "single": {"default": True},
                                      "counts": {"user_count": "users"}}, headers=SU)
    got = race(s, 8, lambda i: s.app("POST", "/teams", {"name": "t%d" % i, "handle": "same"})[0])
    eq(sorted(got), [200] + [400] * 7, "exactly one unique handle")
    race(s, 8, lambda i: s.app("POST", "/teams", {"name": "d%d" % i, "default": True})[0])
    st, doc = s.app("GET", "/teams?ql=default%20%3D%20true&limit=50")
    eq(len(doc["entities"]), 1, "one default holder")


# The seeds' example objects, as the seeds give them (../shared/seeds).  000
# has no example object, only its attribute table: FOLIO's own example.
FOLIO_000 = {"group": "staff", "desc": "Staff Member", "id": "3684a786-6671-4268-8ed0-9db82ebca60b",
             "expirationOffsetInDays": 730, "source": "System",
             "metadata": {"createdDate": "2020-01-01T00:00:00.000+00:00", "createdByUserId": "x"}}
MARKET_001 = {
    "id": "UGR-5116-6265", "href": "/user-groups/UGR-5116-6265", "name": "Test-1",
    "description": "Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium "
                   "doloremque laudantium.",
    "modules": [{"id": "MOD-1756-1452", "name": "Access management"},
                {"id": "MOD-9042-8216", "name": "Account management"}],
    "icon": "https://picsum.photos/210/201", "default": True, "stats": {"users": 123}}
MARKET_004 = {
    "id": "UGR-5116-6265", "name": "Jane Doe",
    "description": "This group contains all Accounts team members",
    "modules": [{"id": "MOD-1756-1452", "name": "Access management"},
                {"id": "MOD-9042-8216", "name": "Account management"}],
    "icon": "https://picsum.photos/210/201", "default": True,
    "users": [{"id": "USR-0000-0016", "icon": None, "name": "Reto Mayer"}]}
SLACK_003 = {
    "id": "S123ABC456", "team_id": "T060RNRCH", "is_usergroup": True, "name": "Workspace Admins",
    "description": "A group of all Administrators on your workspace.", "handle": "admins",
    "is_external": False, "date_create": 1446598059, "date_update": 1446670362, "date_delete": 0,
    "auto_type": "admin", "created_by": "USLACKBOT", "updated_by": "U060RNRCZ", "deleted_by": None,
    "prefs": {"channels": [], "groups": []},
    "users": ["U060RNRCZ", "U060ULRC0", "U06129G2V", "U061309JM"], "user_count": "4"}


def expected(obj):
    """obj as ugstore keeps it: a top-level null is not stored, metadata is ugstore's."""
    return {k: v for k, v in obj.items() if v is not None and k != "metadata"}


def same_json(got, want, what):
    """Every property of want in got with the same value and JSON type
    (True == 1 in Python, so types are compared too)."""
    for k, v in want.items():
        check(k in got, "%s: %s missing" % (what, k))
        eq(got[k], v, "%s.%s" % (what, k))
        eq(type(got[k]), type(v), "%s.%s type" % (what, k))
        if isinstance(v, list):
            eq([type(x) for x in got[k]], [type(x) for x in v], "%s.%s item types" % (what, k))


def test_seed_round_trips():
    s = srv()
    seeds = (("000", FOLIO_000), ("001", MARKET_001), ("004", MARKET_004), ("003", SLACK_003))
    for n, (seed, obj) in enumerate(seeds):
        for coll, extra in (("/rtgroups", {}), ("/groups", {"path": "rt-%s-%d" % (seed, n)})):
            body = dict(obj, **extra)
            st, doc = s.app("POST", coll, body)
            eq(st, 200, "%s %s create: %r" % (seed, coll, doc))
            uuid = doc["entities"][0]["uuid"]
            st, doc = s.app("GET", "%s/%s" % (coll, uuid))
            got = doc["entities"][0]
            same_json(got, expected(body), "%s %s" % (seed, coll))
            check("deleted_by" not in got, "null not stored")
            check(got.get("metadata", {}).get("createdByUserId") != "x", "metadata is ugstore's")
            s.app("DELETE", "%s/%s" % (coll, uuid))


def test_slack_003():
    s = srv()
    st, doc = s.app("PUT", "/slackgroups/_settings",
                    {"unique": ["handle"], "counts": {"user_count": "users"}}, headers=SU)
    eq(st, 200, "settings: %r" % (doc,))
    g = dict(SLACK_003)
    st, doc = s.app("POST", "/slackgroups", g)
    eq(st, 200, "create: %r" % (doc,))
    e = doc["entities"][0]
    same_json(e, {k: v for k, v in expected(g).items() if k != "user_count"}, "slack")
    eq(e["user_count"], 0, "user_count is the store's, an integer")
    st, doc = s.app("POST", "/slackgroups", dict(g, handle="ADMINS", name="Other"))
    eq((st, doc["error"]), (400, "duplicate_unique_property_exists"), "duplicate handle")
    for u in ("sl-u1", "sl-u2"):
        s.app("POST", "/users", {"username": u})
        eq(s.app("POST", "/slackgroups/%s/users/users/%s" % (e["uuid"], u))[0], 200, "connect")
    eq(s.app("GET", "/slackgroups/%s" % e["uuid"])[1]["entities"][0]["user_count"], 2, "follows")
    st, doc = s.app("GET", "/slackgroups?ql=order%20by%20user_count%20desc")
    eq(doc["entities"][0]["uuid"], e["uuid"], "order by user_count")
    eq(s.app("DELETE", "/slackgroups/%s/users/users/sl-u1" % e["uuid"])[0], 200, "disconnect")
    eq(s.app("GET", "/slackgroups/%s" % e["uuid"])[1]["entities"][0]["user_count"], 1, "follows")
    eq(s.app("DELETE", "/users/sl-u2")[0], 200, "a connected user deleted")
    eq(s.app("GET", "/slackgroups/%s" % e["uuid"])[1]["entities"][0]["user_count"], 0, "follows")
    s.app("POST", "/slackgroups", {"name": "Off", "handle": "off", "date_delete": 1446670400})
    st, doc = s.app("GET", "/slackgroups?ql=date_delete%20%3E%200")
    eq([x["handle"] for x in doc["entities"]], ["off"], "disabled groups")
    st, doc = s.app("GET", "/slackgroups?ql=date_delete%20%3D%200")
    eq([x["handle"] for x in doc["entities"]], ["admins"], "enabled groups")


def test_audit_user_token():
    s = srv()
    ids, tok = {}, {}
    for name in ("aud-ann", "aud-bob"):
        pw = "pw-%s-1" % name
        ids[name] = s.app("POST", "/users", {"username": name, "password": pw})[1]["entities"][0]["uuid"]
        st, doc = s.app("POST", "/token", {"grant_type": "password", "username": name, "password": pw})
        eq(st, 200, "token: %r" % (doc,))
        tok[name] = {"Authorization": "Bearer " + doc["access_token"]}
    for who in (tok["aud-ann"], {}):
        st, doc = s.app("PUT", "/auditgroups/_settings", {"audit": True}, headers=who)
        check(st in (401, 403), "only admins change settings: %r %r" % (st, doc))
    eq(s.app("GET", "/auditgroups/_settings", headers=tok["aud-ann"])[0], 200, "a reader reads them")
    s.app("PUT", "/auditgroups/_settings", {"audit": True}, headers=SU)
    st, doc = s.app("POST", "/auditgroups", {"group": "g1"}, headers=tok["aud-ann"])
    eq(st, 200, "create: %r" % (doc,))
    md, uuid = doc["entities"][0]["metadata"], doc["entities"][0]["uuid"]
    eq((md["createdByUserId"], md["createdByUsername"]), (ids["aud-ann"], "aud-ann"), "created by")
    eq((md["updatedByUserId"], md["updatedByUsername"]), (ids["aud-ann"], "aud-ann"), "updated by")
    check(md["createdDate"].endswith("+00:00") and "." in md["createdDate"], "ISO with ms")
    st, doc = s.app("PUT", "/auditgroups/" + uuid, {"desc": "d"}, headers=tok["aud-bob"])
    md2 = doc["entities"][0]["metadata"]
    eq((md2["createdByUserId"], md2["createdByUsername"]), (ids["aud-ann"], "aud-ann"), "kept")
    eq((md2["updatedByUserId"], md2["updatedByUsername"]), (ids["aud-bob"], "aud-bob"), "updated")
    st, doc = s.app("POST", "/auditgroups", {"group": "g2"})
    check("createdByUserId" not in doc["entities"][0]["metadata"], "anonymous: no user")


def test_batch_rule_errors():
    s = srv()
    s.app("PUT", "/batchgroups/_settings", {"unique": ["group"], "required": ["group"],
                                            "types": {"days": "integer"}}, headers=SU)
    st, doc = s.app("POST", "/batchgroups", [{"group": "a"}, {"group": "A"}, {"desc": "none"},
                                             {"group": "b", "days": "7"}, {"group": "c"}])
    eq(st, 200, "batch: %r" % (doc,))
    eq([e["group"] for e in doc["entities"]], ["a", "c"], "created")
    eq([(x["index"], x["error"]) for x in doc["errors"]],
       [(1, "duplicate_unique_property_exists"), (2, "required_property_not_found"),
        (3, "illegal_argument")], "per-item errors")


def test_delete_races_membership():
    s = srv()
    s.app("PUT", "/groups/_settings", {"deleteOnlyWhenEmpty": ["users"]}, headers=SU)
    for i in range(8):
        s.app("POST", "/users", {"username": "dr-u%d" % i})
    outcomes = set()
    for rnd in range(8):
        path = "dr-g%d" % rnd
        s.app("POST", "/groups", {"path": path})

        def go(i):
            if i == 0:
                return s.app("DELETE", "/groups/" + path)[0]
            return s.app("POST", "/groups/%s/users/dr-u%d" % (path, i))[0]
        got = race(s, 8, go)
        st, doc = s.app("GET", "/groups/" + path)
        outcomes.add(got[0])
        if got[0] == 200:
            eq(st, 404, "deleted group is gone")
            check(200 not in got[1:], "deleted although a member was added first: %r" % (got,))
            for i in range(1, 8):
                st, doc = s.app("GET", "/users/dr-u%d/groups" % i)
                check(path not in [g.get("path") for g in doc["entities"]], "no member of a deleted group")
        else:
            eq(got[0], 409, "delete refused: %r" % (got,))
            members = s.app("GET", "/groups/%s/users" % path)[1]["entities"]
            check(len(members) > 0, "refused only with a member")
    check(outcomes <= {200, 409}, repr(outcomes))
    s.app("DELETE", "/groups/_settings", headers=SU)


def test_settings_change_is_bounded():
    """A settings change rewrites the collection in one write: bounded by
    --settings-rewrite-max; a reset rewrites nothing and always works."""
    with Server(args=("--settings-rewrite-max", "3")) as s:
        s.app("POST", "/bounded", [{"name": "b%d" % i} for i in range(3)])
        eq(s.app("PUT", "/bounded/_settings", {"required": ["name"]}, headers=SU)[0], 200, "at the bound")
        s.app("POST", "/bounded", {"name": "b3"})
        st, doc = s.app("PUT", "/bounded/_settings", {"unique": ["name"]}, headers=SU)
        eq((st, doc["error"]), (400, "illegal_argument"), "past the bound")
        check("STORE_SETTINGS_REWRITE_MAX" in doc["error_description"], doc["error_description"])
        eq(s.app("GET", "/bounded/_settings")[1]["data"], {"required": ["name"]}, "unchanged")
        eq(s.app("DELETE", "/bounded/_settings", headers=SU)[0], 200, "a reset works")
        eq(s.app("GET", "/bounded/_settings")[1]["data"], {}, "reset")


# ---- selective indexing: `fields` --------------------------------------------------------

def wait_reindexed(s, coll, since, timeout=120):
    """Waits for the reindex of coll that a change at `since` (ms) started:
    GET _settings shows no reindexing and lastReindexed at or after it."""
    deadline = time.time() + timeout
    while True:
        st, doc = s.app("GET", "/%s/_settings" % coll)
        eq(st, 200, "GET _settings")
        if "reindexing" not in doc and (doc.get("lastReindexed") or 0) >= since:
            return doc
        check(time.time() < deadline, "the reindex of %s did not end: %r" % (coll, doc))
        time.sleep(0.02)


def set_fields(s, coll, fields):
    """Sets coll's fields; returns the change's lastUpdated."""
    st, doc = s.app("PUT", "/%s/_settings?replace_all=false" % coll, {"fields": fields},
                    headers=SU)
    eq(st, 200, "fields %r: %r" % (fields, doc))
    eq(doc["data"]["fields"], fields, "stored")
    return doc["lastUpdated"]


def query(s, coll, ql):
    """(explain's plan, sorted names) of every match of a query, page after
    page of 1000 (the first page's plan)."""
    plan, got, cursor = None, [], None
    while True:
        st, doc = s.app("GET", "/%s?limit=1000&explain=true&ql=%s%s" % (
            coll, urllib.parse.quote(ql), "&cursor=" + cursor if cursor else ""))
        eq(st, 200, "%s: %r" % (ql, doc))
        plan = plan or doc["explain"]["plan"]
        got += [e["name"] for e in doc["entities"]]
        cursor = doc.get("cursor")
        if not cursor:
            return plan, sorted(got)


def store_check(s, what):
    """`ugstore check` on the running server's store finds it consistent."""
    p = subprocess.run([BIN, "check", "--data", s.data], capture_output=True, text=True,
                       timeout=300)
    eq(p.returncode, 0, "check %s: %s" % (what, (p.stdout + p.stderr)[-3000:]))


def cars(n):
    return [{"name": "car%d" % i, "make": ("ford", "fiat", "audi")[i % 3],
             "color": ("red", "blue")[i % 2], "spec": {"engine": "e%d" % (i % 4), "hp": i}}
            for i in range(n)]


def names(items, pred):
    return sorted(c["name"] for c in items if pred(c))


def test_fields_index_only_the_listed_paths():
    """fields: a listed path (and the paths below it) is indexed and drives
    queries; another path still answers, by a scan that explain names;
    switching the list reindexes in steps, and check knows what each
    entity must hold."""
    with Server(args=("--reindex-batch", "7")) as s:
        items = cars(60)
        eq(s.app("POST", "/cars", items)[0], 200, "cars")
        since = set_fields(s, "cars", ["color", "Spec.engine"])
        doc = wait_reindexed(s, "cars", since)
        check(doc["lastReindexed"] >= doc["lastUpdated"], repr(doc))
        plan, got = query(s, "cars", "color = 'red'")
        check(plan.startswith("equality: index of color"), plan)
        eq(got, names(items, lambda c: c["color"] == "red"), "color")
        plan, got = query(s, "cars", "spec.engine = 'e1'")
        check(plan.startswith("equality: index of spec.engine"), plan)
        eq(got, names(items, lambda c: c["spec"]["engine"] == "e1"), "a path below a listed one")
        plan, got = query(s, "cars", "make = 'ford'")
        check(plan.startswith("scan") and "make is not indexed" in plan, plan)
        eq(got, names(items, lambda c: c["make"] == "ford"), "make, scanned")
        plan, got = query(s, "cars", "spec.hp >= 50 and color = 'blue'")
        check(plan.startswith("equality: index of color"), plan)
        eq(got, names(items, lambda c: c["spec"]["hp"] >= 50 and c["color"] == "blue"), "and")
        st, doc = s.app("GET", "/cars?limit=1000&explain=true&ql=" +
                        urllib.parse.quote("select * order by make desc"))
        check(doc["explain"]["plan"].startswith("sort in memory"), doc["explain"]["plan"])
        eq([e["make"] for e in doc["entities"]], sorted((c["make"] for c in items), reverse=True),
           "order by a path not indexed")
        # inside a scope of cars too (a connection's), make drives nothing
        for i in range(1, 13):
            eq(s.app("POST", "/cars/car0/similar/cars/car%d" % i)[0], 200, "connect")
        st, doc = s.app("GET", "/cars/car0/similar/cars?limit=100&explain=true&ql=" +
                        urllib.parse.quote("make = 'fiat'"))
        check("make is not indexed" in doc["explain"]["plan"], doc["explain"]["plan"])
        eq(sorted(e["name"] for e in doc["entities"]),
           names(items[1:13], lambda c: c["make"] == "fiat"), "make in a scope")
        store_check(s, "with fields [color, Spec.engine]")
        # writes index only the listed paths
        eq(s.app("POST", "/cars", {"name": "late", "make": "ford", "color": "red"})[0], 200, "new")
        eq(s.app("PUT", "/cars/car0", {"make": "fiat", "color": "blue"})[0], 200, "update")
        items[0].update(make="fiat", color="blue")
        items.append({"name": "late", "make": "ford", "color": "red", "spec": {"engine": "", "hp": -1}})
        plan, got = query(s, "cars", "color = 'blue'")
        eq(got, names(items, lambda c: c["color"] == "blue"), "after writes")
        store_check(s, "after writes")

        since = set_fields(s, "cars", "all")
        wait_reindexed(s, "cars", since)
        plan, got = query(s, "cars", "make = 'ford'")
        check(plan.startswith("equality: index of make"), plan)
        eq(got, names(items, lambda c: c["make"] == "ford"), "make, from its index")
        store_check(s, "back to all")

        since = set_fields(s, "cars", "none")
        wait_reindexed(s, "cars", since)
        plan, got = query(s, "cars", "color = 'red'")
        check(plan.startswith("scan") and "color is not indexed" in plan, plan)
        eq(got, names(items, lambda c: c["color"] == "red"), "none indexed")
        store_check(s, "none")
        for bad in (["a..b"], [".a"], 3, "some", [""], ["x%d" % i for i in range(101)]):
            st, doc = s.app("PUT", "/cars/_settings", {"fields": bad}, headers=SU)
            eq((st, doc["error"]), (400, "illegal_argument"), "fields %r" % (bad,))
            check("fields" in doc["error_description"], doc["error_description"])
        # a reset indexes every path again
        st, doc = s.app("DELETE", "/cars/_settings", headers=SU)
        check("reindexing" in doc, repr(doc))
        deadline = time.time() + 60
        while "reindexing" in s.app("GET", "/cars/_settings")[1]:
            check(time.time() < deadline, "the reset's reindex did not end")
            time.sleep(0.02)
        plan, got = query(s, "cars", "color = 'red'")
        check(plan.startswith("equality: index of color"), plan)


def test_fields_reindex_under_concurrent_writes():
    """3,000 entities switched to fields [color] and back to all in steps
    of 50 while 4 connections create, update and delete: every query
    answers what the writers left, during the reindex and after, and check
    finds the store consistent."""
    n, nw = 3000, 4
    with Server(args=("--reindex-batch", "50")) as s:
        bikes = {}
        for k in range(0, n, 500):
            batch = [{"name": "b%d" % i, "make": "m%d" % (i % 10), "color": "c%d" % (i % 7)}
                     for i in range(k, k + 500)]
            eq(s.app("POST", "/bikes", batch)[0], 200, "bikes")
            bikes.update((b["name"], b) for b in batch)
        lock, stop, errors, slowest = threading.Lock(), threading.Event(), [], [0.0]
        busy, log = set(), []       # names being written; names written, in order

        def writer(w):
            mine, j = [name for name in bikes if int(name[1:]) % nw == w], 0
            while not stop.is_set():
                j += 1
                if j % 3 == 0:
                    name = "w%d_%d" % (w, j)
                    body = {"name": name, "make": "m3", "color": "c2"}
                    send = ("POST", "/bikes", body)
                    done = lambda: bikes.__setitem__(name, body)
                elif j % 3 == 1:
                    name, make = mine[j % len(mine)], "m%d" % (j % 10)
                    send = ("PUT", "/bikes/" + name, {"make": make})
                    done = lambda: bikes[name].__setitem__("make", make)
                else:
                    name = mine.pop(j % len(mine))
                    send = ("DELETE", "/bikes/" + name)
                    done = lambda: bikes.pop(name)
                with lock:
                    busy.add(name)
                t0 = time.time()
                st, _ = s.app(*send)
                with lock:
                    slowest[0] = max(slowest[0], time.time() - t0)
                    if st == 200:
                        done()
                    else:
                        errors.append((name, st))
                    busy.discard(name)
                    log.append(name)
                time.sleep(0.002)

        def answers(what):
            """Queries make and color; what a write in flight meanwhile
            touched is left out of the comparison."""
            with lock:
                want = {m: names(bikes.values(), lambda b: b["make"] == m) for m in ("m3", "m7")}
                want["c2"] = names(bikes.values(), lambda b: b["color"] == "c2")
                moving, start = set(busy), len(log)
            got = {m: query(s, "bikes", "make = '%s'" % m) for m in ("m3", "m7")}
            got["c2"] = query(s, "bikes", "color = 'c2'")
            with lock:
                moving |= busy | set(log[start:])
            for k in want:
                eq([x for x in got[k][1] if x not in moving], [x for x in want[k] if x not in moving],
                   "%s %s" % (k, what))
            return got["m3"][0]

        writers = Threads(writer, [(w,) for w in range(nw)])
        try:
            for fields, driven in ((["color"], False), ("all", True)):
                since = set_fields(s, "bikes", fields)
                store_check(s, "during the reindex to %r" % (fields,))
                while True:
                    plan = answers("while reindexing to %r" % (fields,))
                    # still reindexing after the query: it ran while it was
                    if "reindexing" not in s.app("GET", "/bikes/_settings")[1]:
                        break
                    check(plan.startswith("scan"), "a half-built index drove: " + plan)
                wait_reindexed(s, "bikes", since)
                plan = answers("after the reindex to %r" % (fields,))
                check(plan.startswith("equality") == driven, plan)
                store_check(s, "after the reindex to %r" % (fields,))
        finally:
            stop.set()
            writers.join()
        eq(errors, [], "every write answered 200")
        answers("at the end")
        print("  longest write under the reindex: %.0f ms" % (slowest[0] * 1000))


def test_fields_reindex_resumes_after_a_restart():
    """The reindex keeps its progress in the store: a server killed half-way
    leaves a store check accepts, and the next one finishes the job."""
    with Server(args=("--reindex-batch", "1")) as s:
        items = cars(400)
        eq(s.app("POST", "/cars", items)[0], 200, "cars")
        since = set_fields(s, "cars", ["color"])
        time.sleep(0.2)
        s.stop(signal.SIGKILL)
        check(any(k.startswith(b"R") for k, _ in Dump(s.data).db("meta")),
              "killed half-way: the reindex record is there")
        p = subprocess.run([BIN, "check", "--data", s.data], capture_output=True, text=True)
        eq(p.returncode, 0, "check half-way: " + p.stdout[-2000:])
        s.start()
        wait_reindexed(s, "cars", since)
        check(not any(k.startswith(b"R") for k, _ in Dump(s.data).db("meta")), "done")
        plan, got = query(s, "cars", "make = 'audi'")
        check("make is not indexed" in plan, plan)
        eq(got, names(items, lambda c: c["make"] == "audi"), "make")
        plan, got = query(s, "cars", "color = 'red'")
        check(plan.startswith("equality: index of color"), plan)


def test_fields_reindex_failure_holds_up_no_other():
    """A reindex that fails (an entity it cannot read) is said on stderr and
    in its collection's "reindexing", and the other collections' reindexes
    run to their end, the failing one's first in key order."""
    work = tempfile.mkdtemp(prefix="ugstore-reindex-")
    try:
        with Server() as s:
            for coll in ("bolts", "widgets"):
                eq(s.app("POST", "/" + coll, {"name": "x1", "size": 3})[0], 200, coll)
                before = wait_reindexed(s, coll, set_fields(s, coll, ["size"]))["lastReindexed"]
            app = s.app("GET", "")[1]["entities"][0]["uuid"]
            s.stop()
            d = Dump(s.data)
            bolt = [kv for kv in d.db("entities") if b'"type":"bolt"' in kv[1]][0]
            bolt[1] = b"{not json"
            for t in (b"bolt", b"widget"):
                d.db("meta").append([b"R" + bytes.fromhex(app.replace("-", "")) + t + b"\x00",
                                     b'{"present":"all","ready":["size"],"started":1,"done":0}'])
            d.write(work + "/bad")
        r = Server(data=work + "/bad")
        try:
            wait_reindexed(r, "widgets", before + 1)
            st, doc = r.app("GET", "/bolts/_settings")
            eq(doc["reindexing"]["failed"]["error"], "stored data is corrupt", repr(doc))
            check(doc["reindexing"]["failed"]["at"] > 0, repr(doc))
        finally:
            r.stop()
        check("ugstore: reindex: the reindex of bolt in application %s failed: stored data is "
              "corrupt; going on with the others" % app in r.stderr, r.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_fields_export_import():
    """An export carries `fields`; an import applies it (its reindex runs
    before import ends) and check finds the copy consistent."""
    work = tempfile.mkdtemp(prefix="ugstore-fields-")
    try:
        with Server() as s:
            items = cars(30)
            eq(s.app("POST", "/cars", items)[0], 200, "cars")
            wait_reindexed(s, "cars", set_fields(s, "cars", ["color"]))
            p = subprocess.run([BIN, "export", "--data", s.data, "--app", "test-org/test-app",
                                "--to", work + "/a.ndjson"], capture_output=True, text=True)
            eq(p.returncode, 0, "export: " + p.stderr)
        with open(work + "/a.ndjson") as f:
            recs = [json.loads(line) for line in f]
        sets = [r for r in recs if r["record"] == "settings"]
        eq([r["settings"]["data"] for r in sets], [{"fields": ["color"]}], "exported")
        p = subprocess.run([BIN, "import", "--data", work + "/b", "--from", work + "/a.ndjson"],
                           capture_output=True, text=True)
        eq(p.returncode, 0, "import: " + p.stderr)
        check("reindexed" in p.stdout, p.stdout)
        p = subprocess.run([BIN, "check", "--data", work + "/b"], capture_output=True, text=True)
        eq(p.returncode, 0, "check the copy: " + p.stdout[-2000:])
        p = subprocess.run([BIN, "import", "--data", work + "/b", "--from", work + "/a.ndjson"],
                           capture_output=True, text=True)
        check(": 0 changed the store" in p.stdout and "reindexed" not in p.stdout, p.stdout)
        with Server(data=work + "/b", bootstrap=None) as b:
            eq(b.app("GET", "/cars/_settings")[1]["data"], {"fields": ["color"]}, "in the copy")
            plan, got = query(b, "cars", "make = 'fiat'")
            check("make is not indexed" in plan, plan)
            eq(got, names(items, lambda c: c["make"] == "fiat"), "make in the copy")
            plan, got = query(b, "cars", "color = 'blue'")
            check(plan.startswith("equality: index of color"), plan)
    finally:
        shutil.rmtree(work, ignore_errors=True)
