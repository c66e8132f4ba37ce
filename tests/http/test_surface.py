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


def test_matrix_query_lists_the_union_of_a_relation():
    """MatrixQueryTests.largeRootElements (and .connectionsTest): a query in
    matrix parameters on /users selects the users; /likes after it lists the
    union of what they like, each restaurant once, in Usergrid's order."""
    s = srv()
    rest = {}
    for name in ("Old Major", "tag", "Squeaky Bean", "Lola"):
        st, doc = s.app("POST", "/mxrestaurants", {"name": name})
        rest[name] = doc["entities"][0]["uuid"]
    for i in range(30):
        st, _ = s.app("POST", "/users", {"username": "mx%d" % i, "email": "mx%d@usergrid.com" % i,
                                          "fullname": "%d Smith" % i})
        eq(st, 200, "user")
        likes = ("Old Major", "tag") if i % 2 == 0 else ("tag", "Squeaky Bean")
        for name in likes:
            st, _ = s.app("POST", "/users/mx%d/likes/%s" % (i, rest[name]))
            eq(st, 200, "like")
    st, _ = s.app("POST", "/users", {"username": "mxgrimes", "fullname": "Frank Grimes"})
    s.app("POST", "/users/mxgrimes/likes/%s" % rest["Lola"])
    st, doc = s.app("GET", "/users/mx1/likes")
    eq(len(doc["entities"]), 2, "one user's likes")
    ql = "where fullname contains 'Smith'".replace(" ", "%20")
    st, doc = s.app("GET", "/users;ql=%s;limit=1000/likes" % ql)
    eq(st, 200, "matrix listing: %r" % doc)
    eq([e["name"] for e in doc["entities"]], ["Old Major", "tag", "Squeaky Bean"], "union")
    eq(doc["count"], 3, "count")
    # the matrix limit bounds the users: the newest Smith (29, odd) alone
    st, doc = s.app("GET", "/users;ql=%s;limit=1/likes" % ql)
    eq([e["name"] for e in doc["entities"]], ["tag", "Squeaky Bean"], "one user")
    # the request's limit and cursor page the union, its ql filters it
    st, doc = s.app("GET", "/users;ql=%s;limit=1000/likes?limit=2" % ql)
    eq(([e["name"] for e in doc["entities"]], "cursor" in doc), (["Old Major", "tag"], True), "page 1")
    st, doc = s.app("GET", "/users;ql=%s;limit=1000/likes?limit=2&cursor=%s" % (ql, doc["cursor"]))
    eq(([e["name"] for e in doc["entities"]], "cursor" in doc), (["Squeaky Bean"], False), "page 2")
    st, doc = s.app("GET", "/users;ql=%s;limit=1000/likes?ql=%s" % (ql, "name%3D'tag'"))
    eq([e["name"] for e in doc["entities"]], ["tag"], "filtered")
    st, doc = s.app("GET", "/users;ql=%s;limit=1000/likes/mxrestaurants?limit=5" % ql)
    eq(len(doc["entities"]), 3, "typed connection listing")
    # on the last segment, matrix parameters are the query
    st, doc = s.app("GET", "/users;ql=%s;limit=1000" % "where%20fullname%20contains%20'Grimes'")
    eq([e["username"] for e in doc["entities"]], ["mxgrimes"], "matrix as query")
    for bad in ("/users;ql=where%20(/likes", "/users;limit=x/likes", "/users;ql=username%3D'mx1'/likes/" + rest["tag"],
                "/users/mx1;ql=a%3D1/likes", "/;ql=a/likes"):
        st, doc = s.app("GET", bad)
        eq(st, 400, "bad matrix %s: %r" % (bad, doc))
    st, doc = s.app("POST", "/users;ql=%s/likes" % ql, {"name": "x"})
    eq(st, 400, "matrix write")
