"""HTTP suite for the rest of the Usergrid surface: alias values coerced to
strings, the default collections of an application, the reply's
Content-Type, matrix parameters, counters and events, and assets.  Each
test names the Usergrid REST test whose expectation it checks."""
from harness import SU, Shared, check, eq

srv = Shared()
teardown = srv.close


def test_scalar_names_become_strings():
    """PagingResourceIT.pageThroughConnectedEntities: names 1..n posted as
    numbers are stored as strings, found by name and connected."""
    s = srv()
    first = None
    for n in range(1, 13):
        st, doc = s.app("POST", "/pagethroughs", {"name": n})
        eq(st, 200, "post name %d" % n)
        e = doc["entities"][0]
        eq(e["name"], str(n), "stored name")
        if first is None:
            first = e
        else:
            st, _ = s.app("POST", "/pagethroughs/%s/likes/%s" % (first["uuid"], e["uuid"]))
            eq(st, 200, "connect")
    st, doc = s.app("GET", "/pagethroughs/7")
    eq((st, doc["entities"][0]["name"]), (200, "7"), "found by its name")
    st, doc = s.app("POST", "/pagethroughs", {"name": 7})
    eq((st, doc["error"]), (400, "duplicate_unique_property_exists"), "unique as a string")
    st, doc = s.app("GET", "/pagethroughs/1/likes?limit=20")
    eq(len(doc["entities"]), 11, "connected")
    st, doc = s.app("GET", "/pagethroughs?ql=select * order by created asc&limit=5".replace(" ", "%20"))
    eq([e["name"] for e in doc["entities"]], ["1", "2", "3", "4", "5"], "first page")
    # other alias and unique properties, reals and booleans
    st, doc = s.app("POST", "/users", {"username": 12345, "email": "n@x.org"})
    eq((st, doc["entities"][0]["username"]), (200, "12345"), "username")
    st, doc = s.app("POST", "/groups", {"path": 2.5})
    eq((st, doc["entities"][0]["path"]), (200, "2.5"), "group path")
    st, doc = s.app("POST", "/things", {"name": True})
    eq((st, doc["entities"][0]["name"]), (200, "true"), "boolean name")
    st, doc = s.app("PUT", "/things/true", {"name": 3.0})
    eq((st, doc["entities"][0]["name"]), (200, "3.0"), "real name on update")
    for bad in ({"name": {"a": 1}}, {"name": [1]}):
        st, doc = s.app("POST", "/things", bad)
        eq((st, doc["error"]), (400, "illegal_argument"), "structured name %r" % bad)


DEFAULT_COLLECTIONS = ["activities", "assets", "devices", "events", "folders", "groups",
                       "notifications", "roles", "users"]


def test_default_collections_of_a_fresh_app():
    """CollectionsResourceIT.testDefaultCollectionReturning: a new
    application lists every default collection, empty ones included."""
    s = srv()
    st, doc, _, _ = s.request("POST", "/management/orgs/test-org/apps", {"name": "fresh"},
                              headers=SU)
    eq(st, 200, "app create")
    st, doc, _, _ = s.request("GET", "/test-org/fresh")
    eq(st, 200, "app get")
    colls = doc["entities"][0]["metadata"]["collections"]
    for name in DEFAULT_COLLECTIONS:
        check(name in colls, "%s listed: %r" % (name, sorted(colls)))
    eq(colls["users"], {"count": 0, "type": "user", "name": "users", "title": "Users"}, "users")
    eq(colls["activities"]["type"], "activity", "activities' type")
    check(colls["roles"]["count"] > 0, "the default roles are counted")
    st, _, _, _ = s.request("POST", "/test-org/fresh/users", {"username": "u1"})
    st, doc, _, _ = s.request("GET", "/test-org/fresh")
    eq(doc["entities"][0]["metadata"]["collections"]["users"]["count"], 1, "count after a post")


def test_content_type_is_exactly_application_json():
    """ContentTypeResourceIT: replies carry `Content-Type: application/json`
    with no charset parameter (JSON has none, RFC 8259), errors too."""
    s = srv()
    for method, path, body in (("GET", "/test-org/test-app/users", None),
                               ("POST", "/test-org/test-app/cts", {"name": "c"}),
                               ("GET", "/test-org/test-app/cts/nope", None),
                               ("GET", "/status", None)):
        st, _, hdrs, _ = s.request(method, path, body)
        eq(hdrs.get("content-type"), "application/json", "%s %s (%d)" % (method, path, st))
