"""HTTP suite for collection settings: the rules of other systems' groups
(FOLIO, Marketplace, Slack) kept by the store, and their races."""
import threading

from harness import SU, Shared, check, eq

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
    ts = [threading.Thread(target=lambda i=i: out.__setitem__(i, fn(i))) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
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
