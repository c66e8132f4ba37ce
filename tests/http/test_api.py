"""HTTP suite for the foundation: envelope, collections, items, org/app
resolution, management, and bad input.  Every test talks to a real server."""
import json
import re
import signal
import uuid as uuidlib

from harness import Failure, Server, Shared, SU, check, eq

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
ENVELOPE = ["action", "application", "params", "path", "uri", "entities",
            "timestamp", "duration", "organization", "applicationName"]

srv = Shared()
teardown = srv.close


def group_metadata(uuid):
    p = "/groups/" + uuid
    return {
        "path": p,
        "sets": {"rolenames": p + "/rolenames", "permissions": p + "/permissions"},
        "collections": {"activities": p + "/activities", "feed": p + "/feed",
                        "roles": p + "/roles", "users": p + "/users"},
    }


def check_envelope(doc, action, path):
    for k in ENVELOPE:
        check(k in doc, "envelope lacks %r: %r" % (k, doc))
    eq(doc["action"], action, "action")
    eq(doc["path"], path, "path")
    eq(doc["organization"], "test-org", "organization")
    eq(doc["applicationName"], "test-app", "applicationName")
    check(doc["uri"].endswith("/test-org/test-app" + path), "uri %r" % doc["uri"])
    check(isinstance(doc["timestamp"], int) and doc["timestamp"] > 1500000000000)
    check(UUID_RE.match(doc["application"]) is not None)


def test_seed_002_group_crud():
    s = srv()
    # Create (seed 002: POST /groups {"path":"mynewgroup"}).
    st, doc = s.app("POST", "/groups", {"path": "mynewgroup"})
    eq(st, 200, "create status")
    check_envelope(doc, "post", "/groups")
    eq(doc["params"], {}, "params")
    eq(len(doc["entities"]), 1, "entities")
    g = doc["entities"][0]
    gid = g["uuid"]
    check(UUID_RE.match(gid) is not None, "time uuid")
    eq(g["created"], g["modified"], "created == modified")
    eq({k: v for k, v in g.items() if k not in ("created", "modified")},
       {"uuid": gid, "type": "group", "path": "mynewgroup", "metadata": group_metadata(gid)},
       "group entity")
    # Get by path and by uuid.
    for ident in ("mynewgroup", "MyNewGroup", gid):
        st, doc = s.app("GET", "/groups/" + ident)
        eq(st, 200, "get status")
        check_envelope(doc, "get", "/groups")
        eq(doc["entities"][0]["uuid"], gid, "same group")
        eq(doc["entities"][0]["metadata"], group_metadata(gid), "metadata")
    # Update (seed 002: PUT {"foo":"bar"}).
    st, doc = s.app("PUT", "/groups/mynewgroup", {"foo": "bar"})
    eq(st, 200, "put status")
    check_envelope(doc, "put", "/groups")
    g2 = doc["entities"][0]
    eq(g2["foo"], "bar", "foo")
    eq(g2["path"], "mynewgroup", "path kept")
    eq(g2["created"], g["created"], "created kept")
    check(g2["modified"] >= g["modified"], "modified bumped")
    # Delete: the response carries the deleted group.
    st, doc = s.app("DELETE", "/groups/mynewgroup")
    eq(st, 200, "delete status")
    check_envelope(doc, "delete", "/groups")
    eq(doc["entities"][0]["uuid"], gid, "deleted entity")
    eq(doc["entities"][0]["foo"], "bar", "deleted entity as it was")
    st, doc = s.app("GET", "/groups/mynewgroup")
    eq(st, 404, "gone")
    eq(doc["error"], "entity_not_found", "error code")
    check("error_description" in doc and "timestamp" in doc)
    # The path is free again.
    st, doc = s.app("POST", "/groups", {"path": "mynewgroup"})
    eq(st, 200, "re-create")
    check(doc["entities"][0]["uuid"] != gid, "new uuid")


def test_group_rules():
    s = srv()
    st, doc = s.app("POST", "/groups", {"title": "no path"})
    eq((st, doc["error"]), (400, "illegal_argument"), "missing path")
    st, doc = s.app("POST", "/groups", {"path": "has space"})
    eq((st, doc["error"]), (400, "illegal_argument"), "bad path")
    st, doc = s.app("POST", "/groups", {"path": "employees/managers", "title": "Managers",
                                        "custom": {"a": [1, 2, {"b": None}]}})
    eq(st, 200, "hierarchical path")
    eq(doc["entities"][0]["custom"], {"a": [1, 2, {"b": None}]}, "nested kept as given")
    st, doc = s.app("POST", "/groups", {"path": "Employees/Managers"})
    eq((st, doc["error"]), (400, "duplicate_unique_property_exists"), "path unique, any case")
    st, doc = s.app("GET", "/groups/employees%2Fmanagers")
    eq(st, 200, "encoded slash")
    eq(doc["entities"][0]["title"], "Managers", "title")


def test_envelope_params_and_url_tolerance():
    s = srv()
    s.app("POST", "/things", {"name": "tol"})
    for path in ("/thing/tol", "/things/tol/", "/THINGS/tol", "/things/tol?", "/things/tol?&",
                 "/things/tol?&&x=1&", "//things//tol"):
        st, doc = s.app("GET", path)
        eq(st, 200, "GET %s" % path)
        eq(doc["path"], "/things", "path for %s" % path)
    st, doc = s.app("GET", "/things?foo=bar&foo=baz&flag&client_secret=secret&password=pw&_=123")
    eq(st, 200, "params")
    eq(doc["params"], {"foo": ["bar", "baz"], "flag": [""], "_": ["123"]}, "params echo")
    eq(doc["count"], len(doc["entities"]), "count")
    # A {} body on GET and DELETE is tolerated.
    st, _, _, _ = s.request("GET", "/test-org/test-app/things/tol", body={})
    eq(st, 200, "GET with {}")


def test_custom_collections_and_items():
    s = srv()
    st, doc = s.app("POST", "/peeps", {"type": "chicken", "uuid": str(uuidlib.uuid4()),
                                       "name": "Pat", "metadata": {"x": 1}, "age": 3,
                                       "testProp": "a", "TESTPROP": "b"})
    eq(st, 200, "create")
    e = doc["entities"][0]
    eq(e["type"], "peep", "type from the URL")
    check(UUID_RE.match(e["uuid"]) is not None, "client uuid ignored")
    eq(e["metadata"], {"path": "/peeps/" + e["uuid"]}, "custom metadata")
    eq(e["testProp"], "b", "names fold, last value wins")
    check("TESTPROP" not in e)
    st, doc = s.app("POST", "/peeps", {"name": "PAT"})
    eq((st, doc["error"]), (400, "duplicate_unique_property_exists"), "unique name")
    check("unique" in doc["error_description"])
    # Partial update keeps the rest; null and "" remove.
    st, doc = s.app("PUT", "/peeps/pat", {"employer": "ACME", "age": None, "testprop": ""})
    e2 = doc["entities"][0]
    eq(e2["employer"], "ACME", "merged")
    eq(e2["name"], "Pat", "kept")
    check("age" not in e2 and "testProp" not in e2, "removed")
    # PUT on a missing name or uuid creates.
    st, doc = s.app("PUT", "/peeps/newbie", {"x": 1})
    eq((st, doc["entities"][0]["name"]), (200, "newbie"), "put creates by name")
    u = str(uuidlib.uuid1())
    st, doc = s.app("PUT", "/peeps/" + u, {"x": 2})
    eq((st, doc["entities"][0]["uuid"]), (200, u), "put creates by uuid")
    # POST on an item: must exist.
    st, doc = s.app("POST", "/peeps/" + str(uuidlib.uuid1()))
    eq((st, doc["error"]), (404, "service_resource_not_found"), "post missing item")
    st, doc = s.app("POST", "/peeps/pat")
    eq(st, 200, "post existing item")
    # Empty bodies create nothing.
    for body in (None, {}):
        st, doc = s.app("POST", "/emptiness", body)
        eq((st, doc["entities"]), (200, []), "empty create")
    st, doc = s.app("GET", "/emptiness")
    eq(doc["entities"], [], "nothing stored")
    # Delete returns the entity; a second delete is 404.
    st, doc = s.app("DELETE", "/peeps/pat")
    eq((st, doc["entities"][0]["employer"]), (200, "ACME"), "delete")
    st, doc = s.app("DELETE", "/peeps/pat")
    eq((st, doc["error"]), (404, "entity_not_found"), "delete again")
    # PUT /C without ql creates, like POST.
    st, doc = s.app("PUT", "/peeps", {"name": "via-put"})
    eq((st, doc["entities"][0]["name"]), (200, "via-put"), "collection put")


def test_users_basics():
    s = srv()
    st, doc = s.app("POST", "/users", {"username": "john.doe", "email": "john.doe@mail.com",
                                       "password": "s3cret-pw", "pin": "1234", "name": "John Doe"})
    eq(st, 200, "create user")
    u = doc["entities"][0]
    check("password" not in u and "pin" not in u, "secrets never echoed")
    eq(u["activated"], True, "activated")
    eq(sorted(u["metadata"]["collections"]),
       sorted(["activities", "devices", "feed", "groups", "roles", "following", "followers"]),
       "user collections")
    for ident in ("john.doe", "JOHN.DOE", "john.doe@mail.com", u["uuid"]):
        st, doc = s.app("GET", "/users/" + ident)
        eq((st, doc["entities"][0]["uuid"]), (200, u["uuid"]), "lookup " + ident)
    st, doc = s.app("GET", "/users/" + u["uuid"])
    check("password" not in json.dumps(doc), "no password anywhere")
    st, doc = s.app("POST", "/users", {"email": "x@y.com"})
    eq((st, doc["error"]), (400, "required_property_not_found"), "username required")
    st, doc = s.app("POST", "/users", {"username": "me"})
    eq((st, doc["error"]), (400, "illegal_argument"), "me reserved")
    st, doc = s.app("POST", "/users", {"username": "jd2", "email": "John.Doe@mail.com"})
    eq((st, doc["error"]), (400, "duplicate_unique_property_exists"), "email unique")
    # An entity of another type is not found through /users.
    st, doc = s.app("POST", "/things", {"name": "notauser"})
    st, doc = s.app("GET", "/users/" + doc["entities"][0]["uuid"])
    eq(st, 404, "wrong type by uuid")


def test_paging_newest_first():
    with Server() as s:
        made = []
        for i in range(25):
            st, doc = s.app("POST", "/items", {"name": "item%d" % i, "i": i})
            made.append(doc["entities"][0]["uuid"])
        seen, cursor, pages = [], None, 0
        while True:
            q = "/items?limit=10" + ("&cursor=" + cursor if cursor else "")
            st, doc = s.app("GET", q)
            eq(st, 200, "page")
            pages += 1
            eq(doc["count"], len(doc["entities"]), "count")
            seen += [e["uuid"] for e in doc["entities"]]
            cursor = doc.get("cursor")
            if not cursor:
                break
            check(re.match(r"^[A-Za-z0-9_-]+$", cursor), "url-safe cursor")
        eq(seen, list(reversed(made)), "newest first, no duplicates, nothing skipped")
        eq(pages, 3, "pages")
        # Default page is 10; a full page carries a cursor, a short one does not.
        st, doc = s.app("GET", "/items")
        eq((len(doc["entities"]), "cursor" in doc), (10, True), "default limit")
        st, doc = s.app("GET", "/items?limit=5000")
        eq(len(doc["entities"]), 25, "limit clamped, all returned")
        check("cursor" not in doc, "short page has no cursor")
        st, doc = s.app("GET", "/items?limit=&ql=")
        eq(len(doc["entities"]), 10, "empty limit and ql ignored")
        st, doc = s.app("GET", "/items?ql=select%20*")
        eq(len(doc["entities"]), 10, "select * is a plain listing")
        # Paging is stable under concurrent inserts.
        st, doc = s.app("GET", "/items?limit=10")
        c = doc["cursor"]
        s.app("POST", "/items", {"name": "late"})
        st, doc2 = s.app("GET", "/items?limit=10&cursor=" + c)
        eq([e["uuid"] for e in doc2["entities"]], list(reversed(made))[10:20], "stable page")
        st, doc = s.app("GET", "/items?cursor=garbage!")
        eq((st, doc["error"]), (400, "illegal_argument"), "bad cursor")
        # DELETE with limit deletes the newest n; without it, 405.
        st, doc = s.app("DELETE", "/items")
        eq((st, doc["error"]), (405, "unsupported_service_operation"), "delete collection")
        st, doc = s.app("DELETE", "/items?limit=2")
        eq([e["name"] for e in doc["entities"]], ["late", "item24"], "delete newest 2")
        st, doc = s.app("GET", "/items?limit=100")
        eq(len(doc["entities"]), 24, "rest kept")


def test_batch_post():
    s = srv()
    st, doc = s.app("POST", "/cars", [{"name": "a1"}, {"name": "a2"}, {"name": "A1"},
                                      "junk", {"name": "a3"}])
    eq(st, 200, "batch")
    eq([e["name"] for e in doc["entities"]], ["a1", "a2", "a3"], "created in order")
    eq([(x["index"], x["error"]) for x in doc["errors"]],
       [(2, "duplicate_unique_property_exists"), (3, "illegal_argument")], "errors")
    st, doc = s.app("GET", "/cars")
    eq(sorted(e["name"] for e in doc["entities"]), ["a1", "a2", "a3"], "nothing half-made")


def test_application_entity():
    with Server() as s:
        s.app("POST", "/things", {"name": "t1"})
        s.app("POST", "/things", {"name": "t2"})
        s.app("POST", "/groups", {"path": "g"})
        st, doc = s.app("GET", "")
        eq(st, 200, "app get")
        a = doc["entities"][0]
        eq((a["type"], a["name"]), ("application", "test-org/test-app"), "app entity")
        colls = a["metadata"]["collections"]
        eq(colls["things"], {"count": 2, "type": "thing", "name": "things", "title": "Things"},
           "things")
        eq(colls["groups"]["count"], 1, "groups")
        eq(colls["roles"]["count"], 3, "default roles")
        st, doc = s.app("PUT", "", {"accesstokenttl": 0})
        eq((st, doc["error"]), (401, "unauthorized"), "app put needs an admin")
        st, doc = s.app("PUT", "", {"accesstokenttl": 0, "name": "hijack"}, headers=SU)
        eq((st, doc["entities"][0]["accesstokenttl"], doc["entities"][0]["name"]),
           (200, 0, "test-org/test-app"), "app put")
        st, doc = s.app("DELETE", "")
        eq((st, doc["error"]), (405, "unsupported_service_operation"), "app delete")


def test_org_app_url_forms():
    s = srv()
    st, doc = s.app("POST", "/forms", {"name": "f"})
    fid = doc["entities"][0]["uuid"]
    app_id = doc["application"]
    st, org = s.request("GET", "/management/orgs/test-org", headers=SU)[:2]
    org_id = org["organization"]["uuid"]
    for prefix in ("/test-org/test-app", "/TEST-ORG/Test-App", "/orgs/test-org/test-app",
                   "/organizations/test-org/test-app", "/o/test-org/test-app",
                   "/test-org/apps/test-app", "/test-org/applications/test-app",
                   "/test-org/a/test-app", "/" + app_id, "/test-org/" + app_id,
                   "/%s/%s" % (org_id, app_id)):
        st, doc, _, _ = s.request("GET", prefix + "/forms/f")
        eq(st, 200, prefix)
        eq(doc["entities"][0]["uuid"], fid, prefix)
    for method in ("GET", "POST", "PUT", "DELETE"):
        for prefix in ("/nope-org/test-app", "/test-org/nope-app", "/" + str(uuidlib.uuid1())):
            st, doc, _, _ = s.request(method, prefix + "/things", body={"name": "x"})
            eq((st, doc["error"]), (404, "organization_application_not_found"),
               method + prefix)


def test_management():
    with Server() as s:
        st, doc, _, _ = s.request("POST", "/management/orgs", {"organization": "acme"})
        eq((st, doc["error"]), (401, "unauthorized"), "no credentials")
        st, doc, _, _ = s.request("POST", "/management/orgs", {"organization": "acme"},
                                  headers={"Authorization": "Basic c3VwZXI6d3Jvbmc="})
        eq(st, 401, "wrong password")
        st, doc, _, _ = s.request("POST", "/management/orgs",
                                  {"organization": "acme", "username": "boss",
                                   "email": "boss@acme.com", "password": "pw123456"}, headers=SU)
        eq((st, doc["action"], doc["status"]), (200, "new organization", "ok"), "org create")
        eq(doc["data"]["organization"]["name"], "acme", "org name")
        owner = doc["data"]["owner"]
        eq((owner["username"], owner["email"], owner["type"]), ("boss", "boss@acme.com", "user"),
           "owner")
        check("password" not in owner, "no password echoed")
        st2, doc2, _, _ = s.request("POST", "/management/orgs",
                                    {"organization": "acme2", "username": "BOSS"}, headers=SU)
        eq((st2, doc2["error"]), (400, "duplicate_unique_property_exists"), "admins are unique")
        st2, doc2, _, _ = s.request("GET", "/management/orgs/acme2", headers=SU)
        eq(st2, 404, "nothing of a refused org is left")
        check("acme/sandbox" in doc["data"]["organization"]["applications"], "sandbox app")
        st, doc, _, _ = s.request("POST", "/management/organizations", {"organization": "ACME"},
                                  headers=SU)
        eq(st, 400, "duplicate org")
        st, doc, _, _ = s.request("POST", "/management/orgs/acme/apps", {"name": "shop"},
                                  headers=SU)
        eq((st, doc["action"]), (200, "new application for organization"), "app create")
        app_id = doc["data"]["acme/shop"]
        eq(doc["entities"][0]["uuid"], app_id, "app entity")
        st, doc, _, _ = s.request("POST", "/management/orgs/acme/apps", {"name": "SHOP"},
                                  headers=SU)
        eq((st, doc["error"]), (409, "application_already_exists"), "duplicate app")
        st, doc, _, _ = s.request("POST", "/management/orgs/acme/apps", {}, headers=SU)
        eq(st, 400, "app name required")
        st, doc, _, _ = s.request("GET", "/management/orgs/acme/apps", headers=SU)
        eq((st, sorted(doc["data"])), (200, ["acme/sandbox", "acme/shop"]), "app list")
        st, doc, _, _ = s.request("GET", "/management/orgs/acme/apps/shop", headers=SU)
        eq(doc["entities"][0]["name"], "acme/shop", "app get")
        st, doc, _, _ = s.request("GET", "/management/orgs/nope/apps", headers=SU)
        eq(st, 404, "unknown org")
        st, doc, _, _ = s.request("DELETE", "/management/orgs", headers=SU)
        eq(st, 405, "delete orgs")
        # The new app serves data right away, to its admins: it starts closed.
        st, doc, _, _ = s.request("POST", "/acme/shop/products", {"name": "anvil"})
        eq((st, doc["error"]), (401, "unauthorized"), "a new app is closed")
        st, doc, _, _ = s.request("POST", "/acme/shop/products", {"name": "anvil"}, headers=SU)
        eq((st, doc["applicationName"]), (200, "shop"), "new app works")


# Bad input, each answered with its Usergrid error: method, path, raw
# body, status, error code.
BAD_INPUT = [
    ("POST", "/safes", b'{"name": "x"', 400, "json_parse"),
    ("POST", "/safes", b'{"name": "\xff\xfe"}', 400, "json_parse"),
    ("PUT", "/safes/vault", b'{"gold": }', 400, "json_parse"),
    ("PUT", "/safes/vault", b'("foo":"bar"}', 400, "json_parse"),
    ("POST", "/safes", b"[" * 100 + b"]" * 100, 400, "json_parse"),
    ("POST", "/safes", b'{"a":' * 40 + b"1" + b"}" * 40, 400, "json_parse"),
    ("POST", "/safes", b'"just a string"', 400, "json_parse"),
    ("POST", "/safes", b'42', 400, "json_parse"),
    ("PUT", "/safes/vault", b'[1,2]', 400, "illegal_argument"),
    ("POST", "/safes", b'[' + b'{},' * 1001 + b'{}]', 400, "illegal_argument"),
    ("GET", "/safes/%ZZ", None, 400, "illegal_argument"),
    ("GET", "/safes/%FF%FE", None, 400, "illegal_argument"),
    ("GET", "/safes/a%00b", None, 400, "illegal_argument"),
    ("GET", "/safes?x=%C3%28", None, 400, "illegal_argument"),
    ("GET", "/" + "/".join(["s"] * 40), None, 400, "illegal_argument"),
    ("GET", "/_bad", None, 400, "illegal_argument"),
    ("GET", "/has%20space", None, 400, "illegal_argument"),
    ("GET", "/safes/vault/deep/er/than/routes/go/x/y", None, 404, "service_resource_not_found"),
    ("PATCH", "/safes/vault", b"{}", 405, "unsupported_service_operation"),
]


class Vault:
    """A server holding one entity that bad input must leave alone."""

    def __enter__(self):
        self.s = Server().__enter__()
        st, doc = self.s.app("POST", "/safes", {"name": "vault", "gold": 100})
        self.vault = doc["entities"][0]
        return self

    def raw(self, method, path, data, headers=None):
        st, doc, hdrs, body = self.s.request(method, "/test-org/test-app" + path, raw=data,
                                             headers=headers)
        check(doc is not None and "error" in doc and "error_description" in doc,
              "JSON error body for %s %s: %r" % (method, path, body[:200]))
        return st, doc, hdrs

    def __exit__(self, *exc):
        try:
            if exc[0] is None:   # nothing stored was lost or changed
                st, doc = self.s.app("GET", "/safes/vault")
                eq(doc["entities"][0]["gold"], 100, "vault intact")
                eq(doc["entities"][0]["modified"], self.vault["modified"], "not modified")
                st, doc = self.s.app("GET", "/safes?limit=1000")
                eq([e["name"] for e in doc["entities"]], ["vault"], "nothing half-written")
        finally:
            self.s.__exit__(*exc)


def test_bad_input_never_corrupts():
    """Every case runs; the failures are listed together."""
    with Vault() as v:
        failed = []
        for method, path, data, status, code in BAD_INPUT:
            try:
                st, doc, _ = v.raw(method, path, data)
                eq((st, doc["error"]), (status, code), "%s %s" % (method, path[:60]))
            except Failure as e:
                failed.append(str(e))
        check(not failed, "; ".join(failed))


def test_declared_body_over_the_limit_refused_before_it_is_sent():
    import socket
    with Vault() as v:
        sock = socket.create_connection(("127.0.0.1", v.s.port), timeout=30)
        sock.sendall(b"POST /test-org/test-app/safes HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (2 << 20))
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            part = sock.recv(65536)
            if not part:
                break
            reply += part
        sock.close()
        check(reply.startswith(b"HTTP/1.1 413"), "413 before the body: %r" % reply[:80])
        eq(json.loads(reply.split(b"\r\n\r\n", 1)[1])["error"], "request_entity_too_large",
           "413 body")


def test_chunked_body_over_the_limit_refused():
    """A body over the limit without a Content-Length is refused too."""
    import http.client
    with Vault() as v:
        conn = http.client.HTTPConnection("127.0.0.1", v.s.port, timeout=30)
        conn.putrequest("POST", "/test-org/test-app/safes")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        chunk = b"x" * 65536
        for _ in range(20):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        eq(resp.status, 413, "chunked too large")
        eq(json.loads(resp.read())["error"], "request_entity_too_large", "chunked error")
        conn.close()


def test_405_names_what_is_allowed():
    with Vault() as v:
        _, _, hdrs = v.raw("DELETE", "/safes", None)
        check("allow" in hdrs, "Allow header")


def test_unknown_routes_and_status():
    s = srv()
    for path in ("/", "/status"):
        st, doc, _, _ = s.request("GET", path)
        eq((st, doc["status"]), (200, "ok"), path)
    st, doc, _, _ = s.request("GET", "/management/nothing", headers=SU)
    eq((st, doc["error"]), (404, "service_resource_not_found"), "unknown management route")
    st, doc, _, _ = s.request("OPTIONS", "/test-org/test-app/things")
    eq(st, 200, "CORS preflight")


def test_restart_keeps_data_and_shutdown_is_clean():
    s = Server()
    try:
        st, doc = s.app("POST", "/keepers", {"name": "k1", "v": [1, {"x": "y"}]})
        kid = doc["entities"][0]["uuid"]
        eq(s.stop(signal.SIGTERM), 0, "clean exit on SIGTERM")
        s.start()
        st, doc = s.app("GET", "/keepers/k1")
        eq((st, doc["entities"][0]["uuid"], doc["entities"][0]["v"]),
           (200, kid, [1, {"x": "y"}]), "survives restart")
        eq(s.stop(signal.SIGINT), 0, "clean exit on SIGINT")
        s.start()
        st, doc = s.app("POST", "/keepers", {"name": "K1"})
        eq(st, 400, "unique value survives restart")
    finally:
        s.close()


def test_hostile_ids_names_and_values():
    with Server() as s:
        st, doc = s.app("GET", "/roles")
        app_id = doc["application"]
        before = len(doc["entities"])
        for ident in (app_id, "00000000-0000-0000-0000-000000000000"):
            st, doc = s.app("PUT", "/things/" + ident, {"x": 1})
            eq((st, doc["error"]), (400, "illegal_argument"), "PUT with uuid " + ident)
            st, doc = s.app("DELETE", "/things/" + ident)
            eq(st, 404, "nothing to delete")
        st, doc = s.app("GET", "/roles")
        eq(len(doc["entities"]), before, "root collections intact")
        for body, path in (({"organization": "o"}, "/management/orgs"),
                           ({"organization": "orgs"}, "/management/orgs"),
                           ({"organization": "Metrics"}, "/management/orgs"),
                           ({"name": "a"}, "/management/orgs/test-org/apps"),
                           ({"name": "apps"}, "/management/orgs/test-org/apps"),
                           ({"name": "status"}, "/management/orgs/test-org/apps")):
            st, doc, _, _ = s.request("POST", path, body, headers=SU)
            eq((st, doc["error"]), (400, "illegal_argument"), "reserved name %r" % body)
        st, doc = s.app("POST", "/users", {"username": "longpw", "password": "x" * 2000})
        eq((st, doc["error"]), (400, "illegal_argument"), "password too long")
        # Reals print with the fewest digits that read back the same double
        # (per entity: one value that needs 17 digits makes its entity's
        # reals use 17, not its neighbours' in a list).
        st, doc = s.app("POST", "/reals", {"a": 52.52, "c": 5.0, "d": 1e300})
        st, _, _, raw = s.request("GET", "/test-org/test-app/reals/" + doc["entities"][0]["uuid"])
        check(b'"a":52.52,' in raw and b'"c":5.0,' in raw and b'"d":1e300' in raw, raw[:300])
        st, doc = s.app("POST", "/reals", {"b": 0.1 + 0.2})
        st, _, _, raw = s.request("GET", "/test-org/test-app/reals/" + doc["entities"][0]["uuid"])
        check(b'"b":0.30000000000000004' in raw, raw[:300])
        for _ in range(2):             # read, then shared from the entity cache
            st, _, _, raw = s.request("GET", "/test-org/test-app/reals?limit=5")
            check(raw.count(b'"metadata":{"path":"/reals/') == 2 and b'"a":52.52,' in raw
                  and b'"b":0.30000000000000004' in raw, raw[:600])
        st, doc = s.app("POST", "/users", {"username": "inactive", "activated": False})
        eq(doc["entities"][0]["activated"], True, "activated on create")
        st, doc = s.app("POST", "/activities", {"actor": {}, "verb": "v", "Published": "x"})
        a = doc["entities"][0]
        eq([k for k in a if k.lower() == "published"], ["published"], "one published")
        # A description cut inside a multi-byte character keeps its text.
        st, doc = s.app("GET", "/things/" + "a" + "%C3%A9" * 150)
        eq(st, 404, "missing")
        check(doc["error_description"] != "entity_not_found" and "not found" in
              doc["error_description"], doc["error_description"])
        s.app("POST", "/groups", {"path": "gg"})
        s.app("POST", "/users", {"username": "ann"})
        st, doc = s.app("POST", "/users/ann/following/groups/gg")
        eq(st, 404, "only users can be followed")


def test_restart_on_the_same_port():
    # The connections the first server closed linger in TIME_WAIT on its
    # port; that is not a server listening there.
    import socket
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    first = Server(args=["--port", str(port)])
    for _ in range(3):
        st, _, _ = first.raw(b"GET /status HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        eq(st, 200, "status")
    first.stop()
    second = Server(data=first.data, args=["--port", str(port)])
    eq(second.port, port, "same port")
    st, _, _, _ = second.request("GET", "/status")
    eq(st, 200, "second server")
    second.close()
    first.close()


def test_startup_and_parameter_errors():
    import subprocess
    import tempfile
    from harness import BIN
    s = srv()
    # A second server on a port already served is refused at start.
    data = tempfile.mkdtemp(prefix="ugstore-test-")
    p = subprocess.run([BIN, "serve", "--port", str(s.port), "--data", data, "--quiet"],
                       capture_output=True, text=True, timeout=20)
    eq(p.returncode, 1, "port in use")
    check("in use" in p.stderr, p.stderr)
    p = subprocess.run([BIN, "serve", "--data"], capture_output=True, text=True, timeout=20)
    eq(p.returncode, 2, "usage error")
    # A limit that is no whole number of at least 1 is refused (tests/http/
    # test_hostile_write.py tries every form on every route).
    for i in range(12):
        s.app("POST", "/limits", {"i": i})
    st, doc = s.app("GET", "/limits?limit=ten")
    eq((st, doc["error"]), (400, "illegal_argument"), "non-numeric limit")
    st, doc = s.app("GET", "/limits?limit=-5")
    eq((st, doc["error"]), (400, "illegal_argument"), "negative limit")
    # Every verb at once takes no query and only its own cursors.
    s.app("POST", "/users", {"username": "verbless"})
    st, doc = s.app("GET", "/users/verbless/connections?ql=name%3D%27x%27")
    eq((st, doc["error"]), (400, "illegal_argument"), "any-verb listing with ql")
    st, doc = s.app("GET", "/users/verbless/connecting?cursor=AQAAAA")
    eq((st, doc["error"]), (400, "illegal_argument"), "any-verb listing with a bad cursor")


def test_command_line_settings_are_enforced():
    """--max-body and --base-url change what the server does."""
    with Server(args=["--max-body", "1000", "--base-url", "http://api.example.test/base"]) as s:
        st, doc = s.app("POST", "/notes", {"text": "x" * 900})
        eq(st, 200, "a body under --max-body")
        check(doc["uri"].startswith("http://api.example.test/base/test-org/test-app/notes"),
              "uri from --base-url: %r" % doc["uri"])
        st, doc = s.app("POST", "/notes", {"text": "x" * 1100})
        eq((st, doc["error"]), (413, "request_entity_too_large"), "a body over --max-body")
        st, doc = s.app("GET", "/notes")
        eq(len(doc["entities"]), 1, "the refused body wrote nothing")
