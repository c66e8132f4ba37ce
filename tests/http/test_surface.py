"""HTTP suite for the rest of the Usergrid surface: alias values coerced to
strings, the default collections of an application, the reply's
Content-Type, matrix parameters, counters and events, and assets.  Each
test names the Usergrid REST test whose expectation it checks."""
import urllib.parse

from harness import SU, Server, Shared, check, eq

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
    eq(st, 401, "a new app is closed to anonymous reads")
    st, doc, _, _ = s.request("GET", "/test-org/fresh", headers=SU)
    eq(st, 200, "app get")
    colls = doc["entities"][0]["metadata"]["collections"]
    for name in DEFAULT_COLLECTIONS:
        check(name in colls, "%s listed: %r" % (name, sorted(colls)))
    eq(colls["users"], {"count": 0, "type": "user", "name": "users", "title": "Users"}, "users")
    eq(colls["activities"]["type"], "activity", "activities' type")
    check(colls["roles"]["count"] > 0, "the default roles are counted")
    st, _, _, _ = s.request("POST", "/test-org/fresh/users", {"username": "u1"})
    eq(st, 200, "a guest may sign up")
    st, doc, _, _ = s.request("GET", "/test-org/fresh", headers=SU)
    eq(doc["entities"][0]["metadata"]["collections"]["users"]["count"], 1, "count after a post")


def test_management_app_replies_carry_metadata():
    """ManagementResourceIT.mgmtCreateAndGetApplication: creating and
    reading an application through /management answers its metadata, the
    same block as GET /{org}/{app}: roles titled "Roles", counting 3."""
    s = srv()
    st, doc, _, _ = s.request("POST", "/management/orgs/test-org/applications",
                              {"name": "mgmt-org-app"}, headers=SU)
    eq(st, 200, "app create: %r" % doc)
    app = doc["entities"][0]
    eq(app["name"], "test-org/mgmt-org-app", "name")
    roles = app["metadata"]["collections"]["roles"]
    eq(roles, {"count": 3, "type": "role", "name": "roles", "title": "Roles"}, "roles")
    st, doc, _, _ = s.request("GET", "/management/orgs/test-org/apps/mgmt-org-app", headers=SU)
    eq(st, 200, "app get")
    st, data, _, _ = s.request("GET", "/test-org/mgmt-org-app", headers=SU)
    eq(doc["entities"][0]["metadata"], data["entities"][0]["metadata"], "same as the data endpoint")
    eq(sorted(doc["entities"][0]["metadata"]["collections"]), DEFAULT_COLLECTIONS, "collections")


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


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post_form(s, method, path, fields, headers=None):
    raw = urllib.parse.urlencode(fields).encode()
    st, doc, _, _ = s.request(method, path, raw=raw, headers=dict(FORM, **(headers or {})))
    return st, doc


def test_form_encoded_bodies_are_taken_where_json_is():
    """ContentTypeResourceIT.formEncodedContentType: POST /management/orgs
    with a form body creates the org and its owner; entity POST and PUT
    take form fields too, as strings."""
    s = srv()
    st, doc = post_form(s, "POST", "/management/orgs",
                        {"organization": "formContentOrg", "username": "formContentOrg",
                         "name": "Test User", "email": "fc@usergrid.org", "password": "foobar123"},
                        headers=SU)
    eq(st, 200, "org from a form: %r" % doc)
    eq(doc["data"]["organization"]["name"].lower(), "formcontentorg", "org name")
    eq(doc["data"]["owner"]["username"].lower(), "formcontentorg", "owner")
    st, doc = post_form(s, "POST", "/test-org/test-app/formgames",
                        {"name": "Solitaire", "rating": "5", "note": "a b&c=d"})
    eq(st, 200, "entity from a form: %r" % doc)
    e = doc["entities"][0]
    eq((e["name"], e["rating"], e["note"]), ("Solitaire", "5", "a b&c=d"), "values as strings")
    st, doc = post_form(s, "PUT", "/test-org/test-app/formgames/solitaire", {"rating": "6"})
    eq((st, doc["entities"][0]["rating"]), (200, "6"), "PUT from a form")
    # a JSON object sent under the form type stays JSON (as the token endpoints took it)
    st, doc, _, _ = s.request("POST", "/test-org/test-app/formgames", raw=b'{"name": "chess"}',
                              headers=FORM)
    eq((st, doc["entities"][0]["name"]), (200, "chess"), "JSON under the form type")
    st, doc = post_form(s, "POST", "/test-org/test-app/formgames", {})
    eq(st, 200, "an empty form is an empty entity: %r" % doc)
    st, doc, _, _ = s.request("POST", "/test-org/test-app/formgames", raw=b"name=%zz",
                              headers=FORM)
    eq((st, doc["error"]), (400, "illegal_argument"), "a bad escape")


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
    eq(doc["entities"][0]["metadata"]["path"], "/mxrestaurants/" + rest["Old Major"], "own path")
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
    # a relation none of the matches has: an empty union (under the sanitizers
    # its empty first batch once copied from a null set)
    st, doc = s.app("GET", "/users;ql=%s;limit=1000/hates" % ql)
    eq((st, doc["entities"]), (200, []), "empty union")
    for bad in ("/users;ql=where%20(/likes", "/users;limit=x/likes", "/users;ql=username%3D'mx1'/likes/" + rest["tag"],
                "/users/mx1;ql=a%3D1/likes", "/;ql=a/likes"):
        st, doc = s.app("GET", bad)
        eq(st, 400, "bad matrix %s: %r" % (bad, doc))
    st, doc = s.app("POST", "/users;ql=%s/likes" % ql, {"name": "x"})
    eq(st, 400, "matrix write")


def counters(s, query):
    st, doc = s.app("GET", "/counters?" + query)
    eq(st, 200, "counters %s: %r" % (query, doc))
    return {c["name"]: [(v["timestamp"], v["value"]) for v in c["values"]] for c in doc["counters"]}


def test_events_count_and_counters_answer():
    """EventsResourceIT.testEventPostandGet (the posting side) and spec 8:
    POST /events stores the event and counts its counters in the same
    transaction; dotted names roll up, negative increments decrement;
    GET /counters answers names and bucketed series as Usergrid does."""
    with Server() as s:
        st, doc = s.app("POST", "/events", {"timestamp": 0, "category": "advertising",
                                            "counters": {"ad_clicks": 5}})
        eq(st, 200, "event: %r" % doc)
        ev = doc["entities"][0]
        check(ev["type"] == "event" and ev["timestamp"] > 1500000000000, "timestamp 0 is now")
        s.app("POST", "/events", {"timestamp": 0, "category": "marketing", "counters": {"AD_clicks": 10}})
        eq(counters(s, "counter=ad_clicks&resolution=all"), {"ad_clicks": [(1, 15)]}, "all")
        t = 1700000040000                 # a whole minute
        s.app("POST", "/events", {"timestamp": t + 5000, "counters": {"a.b.c": 3, "a.b": 1}})
        s.app("POST", "/events", {"timestamp": t + 125000, "counters": {"a.b.c": -1, "system.x": 2}})
        got = counters(s, "counter=a.b.c&counter=a&counter=a.b&counter=system&counter=system.x")
        eq(got, {"a": [(1, 3)], "a.b": [(1, 3)], "a.b.c": [(1, 2)], "system": [],
                 "system.x": [(1, 2)]}, "roll-ups (default resolution all)")
        q = "counter=a.b.c&resolution=minute&start_time=%d&end_time=%d" % (t, t + 180000)
        eq(counters(s, q), {"a.b.c": [(t, 3), (t + 120000, -1)]}, "minute buckets")
        eq(counters(s, q + "&pad=true"),
           {"a.b.c": [(t, 3), (t + 60000, 0), (t + 120000, -1), (t + 180000, 0)]}, "padded")
        eq(counters(s, "counter=a.b.c&resolution=5&start_time=%d&end_time=%d" % (t, t + 180000)),
           {"a.b.c": [((t + 5000) // 300000 * 300000, 3),
                      ((t + 125000) // 300000 * 300000, -1)]},
           "five minutes, by a number of minutes")
        eq(counters(s, "counter=a&resolution=hour&start_time=%d&end_time=%d" % (t, t + 180000)),
           {"a": [(t - t % 3600000, 3)]}, "hour")
        eq(counters(s, "counter=nothing&resolution=day"), {"nothing": []}, "never counted")
        st, doc = s.app("GET", "/counters")
        eq(sorted(doc["data"]), ["a.b", "a.b.c", "ad_clicks", "application.collection.events",
                                 "application.collection.roles", "application.entities",
                                 "application.requests.get", "application.requests.post",
                                 "system.x"],
           "names as given, the application's own among them")
        # a bad counter or timestamp refuses the whole event: nothing counted
        for bad in ({"counters": {"ad_clicks": 1, "x": "1"}}, {"counters": {"ad_clicks": 1, "a..b": 1}},
                    {"counters": [1]}, {"timestamp": "now", "counters": {"ad_clicks": 1}}):
            st, doc = s.app("POST", "/events", bad)
            eq((st, doc["error"]), (400, "illegal_argument"), "bad event %r" % bad)
        st, doc = s.app("POST", "/events", [{"counters": {"ad_clicks": 100}},
                                           {"counters": {"ad_clicks": 1.5}}])
        eq((len(doc["entities"]), len(doc["errors"])), (1, 1), "batch")
        eq(counters(s, "counter=ad_clicks"), {"ad_clicks": [(1, 115)]}, "only what was stored")
        st, doc = s.app("GET", "/events?limit=50")
        eq(len(doc["entities"]), 5, "events stored")
        for bad in ("resolution=fortnight", "start_time=-1", "pad=yes", "end_time=x"):
            st, doc = s.app("GET", "/counters?counter=a&" + bad)
            eq((st, doc["error"]), (400, "illegal_argument"), bad)
        st, doc = s.app("POST", "/counters", {"a": 1})
        eq(st, 405, "counters are read-only")
        s.stop()
        s.start()
        eq(counters(s, "counter=a.b.c"), {"a.b.c": [(1, 2)]}, "durable")


def test_application_request_and_entity_counters():
    """ApplicationRequestCounterIT: every request of the application's data
    counts in application.requests.{method} (rolling up into
    application.requests), the counters read included; creating an entity
    counts in application.collection.{collection} and application.entities,
    deleting it counts down.  Counted at once, exactly, under concurrent
    requests, and kept across a restart."""
    with Server() as s:
        eq(s.app("GET", "")[0], 200, "the application")
        st, doc = s.app("GET", "/counters?resolution=all&counter=application.requests")
        eq([(c["name"], [v["value"] for v in c["values"]]) for c in doc["counters"]],
           [("application.requests", [2])], "accessed twice: applicationrequestInternalCounters")
        ids = []
        for i in range(10):
            st, doc = s.app("POST", "/testCollection", {"one": "value%d" % i, "two": "valuetwo%d" % i})
            ids.append(doc["entities"][0]["uuid"])
        q = "counter=application.collection.testcollections&counter=application.entities"
        eq(counters(s, q), {"application.collection.testcollections": [(1, 10)],
                            "application.entities": [(1, 10 + 3)]},
           "ten created (and the three default roles)")
        for u in ids:
            eq(s.app("DELETE", "/testCollection/" + u)[0], 200, "delete")
        eq(counters(s, q), {"application.collection.testcollections": [(1, 0)],
                            "application.entities": [(1, 3)]},
           "testDecrementingEntityCounters")
        st, doc = s.app("POST", "/testCollection", [{"name": "x"}, {"name": "x"}])
        eq(len(doc["errors"]), 1, "a failed create")
        eq(counters(s, "counter=application.collection.testcollections"),
           {"application.collection.testcollections": [(1, 1)]}, "counts only what was stored")
        eq(s.app("GET", "/testCollection/nothere")[0], 404, "a missing entity is a request too")
        eq(s.app("GET", "/users", headers={"Authorization": "Bearer nonsense"})[0], 401,
           "refused before it runs: not counted")
        eq(s.request("GET", "/status")[0], 200, "not the application's")
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            sts = list(pool.map(lambda i: s.app("GET" if i % 2 else "PUT", "/testCollection/x",
                                                {"n": i})[0], range(40)))
        eq(sts, [200] * 40, "concurrent requests")
        got = counters(s, "counter=application.requests.get&counter=application.requests.put"
                          "&counter=application.requests.post&counter=application.requests"
                          "&counter=application.requests.delete")
        # gets: app, counters x1, counters x3 below, nothere, 20 concurrent, this one
        eq(got, {"application.requests": [(1, 2 + 10 + 3 + 10 + 1 + 1 + 40 + 1)],
                 "application.requests.get": [(1, 2 + 3 + 1 + 20 + 1)],
                 "application.requests.post": [(1, 11)],
                 "application.requests.put": [(1, 20)],
                 "application.requests.delete": [(1, 10)]}, "every request, once")
        t = counters(s, "counter=application.requests.put&resolution=minute")
        eq([v for _, v in t["application.requests.put"]], [20], "in this minute's bucket")
        s.stop()
        s.start()
        got = counters(s, "counter=application.requests.put&counter=application.requests.get")
        eq(got, {"application.requests.put": [(1, 20)],
                 "application.requests.get": [(1, 2 + 3 + 1 + 20 + 1 + 1 + 1)]},
           "written by the last commit before the server stopped")


def test_events_are_read_as_a_queue():
    """EventsResourceIT.testEventPostandGet: GET /events answers the events
    as a queue, oldest first, one at a time by default (`messages`, and
    `last` to read on after it); a consumer's position is kept and moves
    past what it reads (update=false only peeks), durably."""
    with Server() as s:
        uuids = {}
        for cat, ctr in (("advertising", {"ad_clicks": 5}), ("sales", {"ad_sales": 20}),
                         ("marketing", {"ad_clicks": 10})):
            st, doc = s.app("POST", "/events", {"timestamp": 0, "category": cat, "counters": ctr})
            eq(st, 200, "post %s" % cat)
            uuids[cat] = doc["entities"][0]["uuid"]
        for i in range(3):
            st, doc = s.app("GET", "/events")
            eq((st, [m["uuid"] for m in doc["messages"]]), (200, [uuids["advertising"]]),
               "GET %d: the first event again" % i)
        eq((doc["last"], doc["entities"][0]["category"], doc["path"]),
           (uuids["advertising"], "advertising", "/events"), "last, the entity, the path")
        st, doc = s.app("GET", "/events?last=" + doc["last"])
        eq([m["uuid"] for m in doc["messages"]], [uuids["sales"]], "after advertising")
        st, doc = s.app("GET", "/events?last=" + doc["last"])
        eq([m["uuid"] for m in doc["messages"]], [uuids["marketing"]], "after sales")
        st, doc = s.app("GET", "/events?last=" + doc["last"])
        eq((doc["messages"], "last" in doc), ([], False), "nothing after the last one")
        st, doc = s.app("GET", "/events?limit=10")
        eq([m["category"] for m in doc["messages"]], ["advertising", "sales", "marketing"],
           "oldest first")
        st, doc = s.app("GET", "/events?ql=" + urllib.parse.quote("select * where category = 'sales'"))
        eq([e["uuid"] for e in doc["entities"]], [uuids["sales"]], "a query is a query")
        for bad in ("last=nonsense", "last=" + uuids["sales"][:-4] + "0000", "consumer=" + "c" * 200):
            st, doc = s.app("GET", "/events?" + bad)
            eq((st, doc.get("error")), (400, "illegal_argument"), bad)
        # a consumer's position
        st, doc = s.app("GET", "/events?consumer=billing&limit=2")
        eq(([m["category"] for m in doc["messages"]], doc["consumer"]),
           (["advertising", "sales"], "billing"), "a consumer from the start")
        st, doc = s.app("GET", "/events?consumer=Billing&update=false")
        eq([m["category"] for m in doc["messages"]], ["marketing"], "peek (names have no case)")
        st, doc = s.app("GET", "/events?consumer=billing&update=false")
        eq([m["category"] for m in doc["messages"]], ["marketing"], "peeking moves nothing")
        eq(s.app("HEAD", "/events?consumer=billing")[0], 200, "HEAD")
        st, doc = s.app("GET", "/events?consumer=audit")
        eq([m["category"] for m in doc["messages"]], ["advertising"], "consumers are apart")
        st, doc = s.app("GET", "/events?consumer=billing")
        eq([m["category"] for m in doc["messages"]], ["marketing"], "read: acknowledged")
        st, doc = s.app("GET", "/events?consumer=billing")
        eq(doc["messages"], [], "read to the end")
        s.app("POST", "/events", {"category": "late"})
        st, doc = s.app("GET", "/events?consumer=billing&limit=5")
        eq([m["category"] for m in doc["messages"]], ["late"], "what came since")
        st, doc = s.app("GET", "/events?consumer=audit&last=" + uuids["marketing"] + "&limit=5")
        eq([m["category"] for m in doc["messages"]], ["late"], "a consumer reads after last")
        s.stop()
        s.start()
        st, doc = s.app("GET", "/events?consumer=audit&limit=5")
        eq(doc["messages"], [], "positions are durable")
        st, doc = s.app("GET", "/events")
        eq(doc["messages"][0]["category"], "advertising", "the queue itself is not consumed")


def jpeg(n, seed=1):
    import random
    rnd = random.Random(seed)
    return b"\xff\xd8\xff\xe0" + bytes(rnd.randrange(256) for _ in range(n - 4))


def multipart(fields, file_part, boundary="XyZzy-boundary"):
    """fields: {name: text}; file_part: (name, bytes, content-type or None, filename or None)."""
    out = b""
    for k, v in fields.items():
        out += (b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n"
                b"Content-Type: text/plain\r\n\r\n%s\r\n" % (boundary.encode(), k.encode(), v.encode()))
    if file_part:
        name, data, ctype, filename = file_part
        disp = b"form-data; name=\"%s\"" % name.encode()
        if filename:
            disp += b"; filename=\"%s\"" % filename.encode()
        out += b"--%s\r\nContent-Disposition: %s\r\n" % (boundary.encode(), disp)
        if ctype:
            out += b"Content-Type: %s\r\n" % ctype.encode()
        out += b"\r\n" + data + b"\r\n"
    out += b"--%s--\r\n" % boundary.encode()
    return out, {"Content-Type": "multipart/form-data; boundary=" + boundary}


OCTET = {"Content-Type": "application/octet-stream"}
BYTES = {"Accept": "application/octet-stream"}


def test_assets_octet_stream_and_reads():
    """AssetResourceIT.octetStreamOnDynamicEntity and .deleteConnectionToAsset:
    binary data PUT on an entity as application/octet-stream, described by
    file-metadata, read back by uuid and by name with Accept
    application/octet-stream; Range (206), ETag/If-None-Match (304)."""
    import hashlib
    s = srv()
    A = "/test-org/test-app"
    st, doc = s.app("POST", "/foos", {"name": "assetname"})
    fid = doc["entities"][0]["uuid"]
    data = jpeg(7979)
    st, doc, _, _ = s.request("PUT", A + "/foos/" + fid, raw=data, headers=OCTET)
    eq(st, 200, "put data: %r" % doc)
    fm = doc["entities"][0]["file-metadata"]
    md5 = hashlib.md5(data).hexdigest()
    eq((fm["content-type"], fm["content-length"], fm["checksum"], fm["etag"]),
       ("image/jpeg", 7979, md5, md5), "file-metadata")
    check(fm["last-modified"] > 1500000000000, "last-modified")
    st, doc = s.app("GET", "/foos/" + fid)
    eq(doc["entities"][0]["file-metadata"]["content-length"], 7979, "metadata in the entity")
    for ident in (fid, "assetname", "AssetName"):
        st, _, hdrs, body = s.request("GET", A + "/foos/" + ident, headers=BYTES)
        eq((st, body == data, hdrs["content-type"], hdrs["etag"]),
           (200, True, "image/jpeg", '"%s"' % md5), "bytes by %s" % ident)
    st, _, hdrs, body = s.request("GET", A + "/foos/" + fid,
                                  headers={"Accept": "application/octet-stream", "Range": "bytes=100-199"})
    eq((st, body, hdrs["content-range"]), (206, data[100:200], "bytes 100-199/7979"), "range")
    st, _, hdrs, body = s.request("GET", A + "/foos/" + fid, headers={**BYTES, "Range": "bytes=-10"})
    eq((st, body, hdrs["content-range"]), (206, data[-10:], "bytes 7969-7978/7979"), "suffix range")
    st, _, hdrs, body = s.request("GET", A + "/foos/" + fid, headers={**BYTES, "Range": "bytes=7000-"})
    eq((st, body), (206, data[7000:]), "open range")
    st, doc, hdrs, _ = s.request("GET", A + "/foos/" + fid, headers={**BYTES, "Range": "bytes=8000-"})
    eq((st, hdrs.get("content-range")), (416, "bytes */7979"), "range past the end")
    st, _, hdrs, body = s.request("GET", A + "/foos/" + fid, headers={**BYTES, "Range": "bytes=5-1"})
    eq((st, len(body)), (200, 7979), "a malformed range is ignored")
    st, _, hdrs, body = s.request("GET", A + "/foos/" + fid,
                                  headers={**BYTES, "If-None-Match": '"%s"' % md5})
    eq((st, body, hdrs["etag"]), (304, b"", '"%s"' % md5), "not modified")
    st, _, _, body = s.request("GET", A + "/foos/" + fid, headers={**BYTES, "If-None-Match": '"x"'})
    eq((st, len(body)), (200, 7979), "another etag")
    # JSON cannot forge the metadata; an update keeps it
    st, doc = s.app("PUT", "/foos/" + fid, {"file-metadata": {"content-length": 1}, "x": 1})
    eq(doc["entities"][0]["file-metadata"]["content-length"], 7979, "not from a client")
    # an entity without data
    st, doc = s.app("POST", "/foos", {"name": "nodata"})
    st, doc, _, _ = s.request("GET", A + "/foos/nodata", headers=BYTES)
    eq((st, doc["error"]), (404, "service_resource_not_found"), "no data")
    # deleting a connection to it leaves the data
    st, doc = s.app("POST", "/imagegalleries", {"name": "gallery"})
    gid = doc["entities"][0]["uuid"]
    eq(s.app("POST", "/imagegalleries/%s/contains/%s" % (gid, fid))[0], 200, "connect")
    eq(s.app("DELETE", "/imagegalleries/%s/contains/%s" % (gid, fid))[0], 200, "disconnect")
    st, _, _, body = s.request("GET", A + "/foos/" + fid, headers=BYTES)
    eq((st, body == data), (200, True), "data survives the connection")
    # deleting the entity deletes its data: the same uuid again has none
    eq(s.app("DELETE", "/foos/" + fid)[0], 200, "delete")
    st, doc = s.app("PUT", "/foos/" + fid, {"name": "reborn"})
    eq(st, 200, "same uuid again")
    check("file-metadata" not in doc["entities"][0], "no metadata")
    st, _, _, _ = s.request("GET", A + "/foos/" + fid, headers=BYTES)
    eq(st, 404, "no data left behind")


def test_assets_read_by_their_own_type():
    """As Usergrid (and its 2.x SDK's downloadAsset), an Accept that names the
    data's own media type, or that type's wildcard, gets the bytes; any
    other type, the catch-all and JSON get the entity."""
    s = srv()
    A = "/test-org/test-app"
    st, doc = s.app("POST", "/pics", {"name": "pic"})
    data = jpeg(3000)
    st, doc, _, _ = s.request("PUT", A + "/pics/pic", raw=data, headers=OCTET)
    eq(st, 200, "put data: %r" % doc)
    for accept in ("image/jpeg", "IMAGE/JPEG", "image/*", "text/html, image/jpeg;q=0.9"):
        st, _, hdrs, body = s.request("GET", A + "/pics/pic", headers={"Accept": accept})
        eq((st, body == data, hdrs["content-type"]), (200, True, "image/jpeg"),
           "bytes for Accept %s" % accept)
    for accept in ("image/png", "text/*", "*/*", "application/json"):
        st, doc, hdrs, _ = s.request("GET", A + "/pics/pic", headers={"Accept": accept})
        eq((st, doc["entities"][0]["name"]), (200, "pic"), "the entity for Accept %s" % accept)
    st, doc = s.app("POST", "/pics", {"name": "bare"})
    st, doc, _, _ = s.request("GET", A + "/pics/bare", headers={"Accept": "image/jpeg"})
    eq((st, doc["entities"][0]["name"]), (200, "bare"), "no data: the entity")


def test_assets_multipart_and_data_url():
    """AssetResourceIT.multipartPutFormOnDynamicEntity, .verifyMetadataChanged,
    .multipartPostFormOnDynamicEntity and .largeFile: form fields update the
    entity, the file part replaces the data and its metadata; a POST of a
    form creates the entity; bodies past --max-body are accepted up to the
    asset limit.  Also /assets/{id}/data."""
    import time
    s = srv()
    A = "/test-org/test-app"
    st, doc = s.app("POST", "/foos", {"foo": "bar"})
    fid = doc["entities"][0]["uuid"]
    data = jpeg(7979, 2)
    body, hdrs = multipart({"foo": "bar2"}, ("file", data, "multipart/form-data", None))
    st, doc, _, _ = s.request("PUT", A + "/foos/" + fid, raw=body, headers=hdrs)
    eq(st, 200, "multipart put: %r" % doc)
    e = doc["entities"][0]
    eq((e["foo"], e["file-metadata"]["content-type"], e["file-metadata"]["content-length"]),
       ("bar2", "image/jpeg", 7979), "fields and metadata")
    first = e["file-metadata"]["last-modified"]
    time.sleep(0.01)
    text = b"hello, asset\n" * 67 + b"ab"
    body, hdrs = multipart({}, ("file", text, "text/plain", "test.txt"))
    st, doc, _, _ = s.request("PUT", A + "/foos/" + fid, raw=body, headers=hdrs)
    fm = doc["entities"][0]["file-metadata"]
    eq((fm["content-type"], fm["content-length"]), ("text/plain", 873), "replaced")
    check(fm["last-modified"] != first, "last-modified changed")
    st, _, h, got = s.request("GET", A + "/foos/" + fid, headers=BYTES)
    eq((got, h["content-type"]), (text, "text/plain"), "new bytes")
    # POST of a form creates the entity; a body past --max-body (1 MiB)
    big = jpeg(2 * 1024 * 1024 + 5, 3)
    body, hdrs = multipart({"name": "bigone"}, ("upload", big, None, "big.jpg"))
    st, doc, _, _ = s.request("POST", A + "/foos", raw=body, headers=hdrs)
    eq(st, 200, "multipart post: %r" % (doc if st != 200 else ""))
    e = doc["entities"][0]
    eq((e["name"], e["file-metadata"]["content-length"]), ("bigone", len(big)), "created")
    st, _, _, got = s.request("GET", A + "/foos/bigone", headers=BYTES)
    check(got == big, "big data read back")
    # /assets/{id}/data
    st, doc = s.app("POST", "/assets", {"path": "docs/a.pdf"})
    aid = doc["entities"][0]["uuid"]
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 4
    st, doc, _, _ = s.request("POST", A + "/assets/%s/data" % aid, raw=pdf, headers=OCTET)
    eq((st, doc["entities"][0]["file-metadata"]["content-type"]), (200, "application/pdf"), "asset data")
    st, _, h, got = s.request("GET", A + "/assets/%s/data" % aid)
    eq((st, got, h["content-type"]), (200, pdf, "application/pdf"), "data url")
    # bad forms change nothing
    st, doc = s.app("POST", "/foos", {"name": "keep"})
    for raw, why in ((multipart({"a.b": "x"}, ("file", data, None, None))[0], "dotted field"),
                     (multipart({"name": "z"}, None)[0], "no file part"),
                     (b"--XyZzy-boundary\r\nno headers", "malformed")):
        st, doc, _, _ = s.request("PUT", A + "/foos/keep", raw=raw, headers=hdrs)
        eq(st, 400, why)
    st, doc = s.app("GET", "/foos/keep")
    check("file-metadata" not in doc["entities"][0], "nothing stored by a refused upload")
    body, hdrs = multipart({"email": "x@y.z"}, ("file", data, None, None))
    st, doc, _, _ = s.request("POST", A + "/users", raw=body, headers=hdrs)
    eq((st, doc["error"]), (400, "required_property_not_found"), "user without username")
    st, doc = s.app("GET", "/users?ql=email%3D'x@y.z'")
    eq(doc["entities"], [], "no entity from a refused upload")
    st, doc, _, _ = s.request("PUT", A + "/foos/keep/likes", raw=data, headers=OCTET)
    eq(st, 400, "data on a connection listing")


def test_assets_size_limit_and_durability():
    """AssetResourceIT.fileTooLargeShouldResultInError (as a 413 before any
    byte is stored) and durability of data with its entity."""
    with Server(args=["--max-asset", "100000"]) as s:
        A = "/test-org/test-app"
        st, doc = s.app("POST", "/foos", {"name": "f"})
        st, doc, _, _ = s.request("PUT", A + "/foos/f", raw=jpeg(100001), headers=OCTET)
        eq((st, doc["error"]), (413, "request_entity_too_large"), "past the limit")
        st, doc = s.app("GET", "/foos/f")
        check("file-metadata" not in doc["entities"][0], "nothing stored")
        data = jpeg(100000)
        st, doc, _, _ = s.request("PUT", A + "/foos/f", raw=data, headers=OCTET)
        eq(st, 200, "at the limit")
        s.stop()
        s.start()
        st, _, _, got = s.request("GET", A + "/foos/f", headers=BYTES)
        eq((st, got == data), (200, True), "durable")
