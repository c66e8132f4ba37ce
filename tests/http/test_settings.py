"""HTTP suite for collection settings: the rules of other systems' groups
(FOLIO, Marketplace, Slack) kept by the store, and their races."""

from harness import SU, Server, Shared, Threads, check, eq

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
