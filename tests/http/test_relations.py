"""HTTP suite for the relationship surface: seed 002 in order, groups,
users and roles, connections, following, activities and feeds."""
import concurrent.futures
import time

from harness import Server, Shared, check, eq

srv = Shared()
teardown = srv.close


def user_metadata(base, uuid, owned=False):
    """A user's metadata as seed 002 shows it; owned: another entity (a
    group) holds the user in a collection, so it has `owners`."""
    p = "%s/%s" % (base, uuid)
    return dict({"connecting": {"owners": p + "/connecting/owners"}} if owned else {}, **{
        "path": p,
        "sets": {"rolenames": p + "/rolenames", "permissions": p + "/permissions"},
        "collections": {c: p + "/" + c for c in
                        ("activities", "devices", "feed", "groups", "roles",
                         "following", "followers")},
    })


def test_seed_002_in_order():
    """Every request of seed 002, in order, with the seed's response shape."""
    with Server(bootstrap="my-org/my-app") as s:
        def req(method, path, body=None):
            st, doc, _, _ = s.request(method, "/my-org/my-app" + path, body)
            return st, doc

        s.request("POST", "/my-org/my-app/users",
                  {"username": "john.doe", "email": "john.doe@mail.com", "name": "John Doe"})
        # Creating a new group.
        st, doc = req("POST", "/groups", {"path": "mynewgroup"})
        eq((st, doc["action"], doc["path"]), (200, "post", "/groups"), "create group")
        g = doc["entities"][0]
        gid = g["uuid"]
        eq(set(g), {"uuid", "type", "created", "modified", "metadata", "path"}, "group keys")
        eq((doc["organization"], doc["applicationName"]), ("my-org", "my-app"), "names")
        # Adding a user to a group.
        st, doc = req("POST", "/groups/mynewgroup/users/john.doe")
        eq((st, doc["action"], doc["path"]), (200, "post", "/groups/%s/users" % gid), "add")
        check(doc["uri"].endswith("/my-org/my-app/groups/%s/users" % gid), "uri")
        u = doc["entities"][0]
        eq((u["type"], u["username"], u["activated"], u["email"], u["name"]),
           ("user", "john.doe", True, "john.doe@mail.com", "John Doe"), "user fields")
        check(u["picture"].startswith("https://www.gravatar.com/avatar/"), "picture")
        eq(u["metadata"], user_metadata("/groups/%s/users" % gid, u["uuid"], owned=True),
           "user metadata")
        # Getting a group.
        st, doc = req("GET", "/groups/mynewgroup?_=1331066049869")
        eq((st, doc["path"], doc["params"]), (200, "/groups", {"_": ["1331066049869"]}), "get")
        eq(doc["entities"][0]["uuid"], gid, "same group")
        # Updating a group.
        st, doc = req("PUT", "/groups/mynewgroup", {"foo": "bar"})
        eq((st, doc["action"], doc["entities"][0]["foo"]), (200, "put", "bar"), "update")
        # Getting all users in a group.
        st, doc = req("GET", "/groups/mynewgroup/users")
        eq((st, doc["path"]), (200, "/groups/%s/users" % gid), "list members")
        eq([e["username"] for e in doc["entities"]], ["john.doe"], "members")
        eq(doc["entities"][0]["metadata"],
           user_metadata("/groups/%s/users" % gid, u["uuid"], owned=True), "member metadata")
        # Getting a group's feed (after a post to the group).
        st, doc = req("POST", "/groups/mynewgroup/activities",
                      {"actor": {"displayName": "John Doe", "uuid": u["uuid"],
                                 "email": "john.doe@mail.com", "username": "john.doe",
                                 "image": {"duration": 0, "height": 80, "width": 80,
                                           "url": "http://www.gravatar.com/avatar/"}},
                       "verb": "post", "content": "Hello World!"})
        eq(st, 200, "post activity")
        aid = doc["entities"][0]["uuid"]
        st, doc = req("GET", "/groups/mynewgroup/feed")
        eq((st, doc["path"]), (200, "/groups/%s/feed" % gid), "feed path")
        a = doc["entities"][0]
        eq((a["uuid"], a["type"], a["verb"], a["content"], a["actor"]["displayName"]),
           (aid, "activity", "post", "Hello World!", "John Doe"), "feed item")
        check(isinstance(a["published"], int), "published")
        eq(a["metadata"]["path"], "/groups/%s/feed/%s" % (gid, aid), "feed item path")
        # Deleting a user from a group.
        st, doc = req("DELETE", "/groups/mynewgroup/users/john.doe")
        eq((st, doc["action"], doc["path"]), (200, "delete", "/groups/%s/users" % gid),
           "remove member")
        eq(doc["entities"][0]["username"], "john.doe", "removed user returned")
        eq(doc["entities"][0]["metadata"],
           user_metadata("/groups/%s/users" % gid, u["uuid"], owned=True),
           "the removed member as it was under the group")
        st, doc = req("GET", "/groups/mynewgroup/users")
        eq(doc["entities"], [], "no members")
        st, doc = req("GET", "/users/john.doe")
        eq(st, 200, "user survives")
        eq(doc["entities"][0]["metadata"], user_metadata("/users", u["uuid"]),
           "no owners once out of the group")
        # Deleting a group.
        st, doc = req("DELETE", "/groups/mynewgroup")
        eq((st, doc["path"], doc["entities"][0]["foo"]), (200, "/groups", "bar"), "delete")
        st, doc = req("GET", "/groups/mynewgroup")
        eq(st, 404, "group gone")


def test_hierarchical_groups_and_membership_both_ways():
    s = srv()
    for p in ("california", "california/san-francisco", "california/san-francisco/mission"):
        eq(s.app("POST", "/groups", {"path": p})[0], 200, p)
    s.app("POST", "/users", {"username": "ann"})
    s.app("POST", "/users", {"username": "bob"})
    st, doc = s.app("GET", "/groups/california/san-francisco")
    eq(doc["entities"][0]["path"], "california/san-francisco", "longest path")
    sf = doc["entities"][0]["uuid"]
    st, doc = s.app("POST", "/groups/california/san-francisco/users/ann")
    eq((st, doc["path"]), (200, "/groups/%s/users" % sf), "add via hierarchical path")
    st, doc = s.app("POST", "/users/bob/groups/california/san-francisco")
    eq(st, 200, "add from the user's side")
    st, doc = s.app("GET", "/groups/california/san-francisco/users")
    eq(sorted(e["username"] for e in doc["entities"]), ["ann", "bob"], "both members")
    st, doc = s.app("GET", "/users/ann/groups")
    eq([e["path"] for e in doc["entities"]], ["california/san-francisco"], "linked reverse")
    st, doc = s.app("GET", "/groups/california/users")
    eq(doc["entities"], [], "membership is explicit, not inherited")
    st, doc = s.app("GET", "/groups/california/san-francisco/users/ann")
    eq((st, doc["entities"][0]["username"]), (200, "ann"), "member by name")
    st, doc = s.app("GET", "/groups/california/users/ann")
    eq((st, doc["error"]), (404, "service_resource_not_found"), "not a member")
    st, doc = s.app("POST", "/groups/nosuchgroup/users/ann")
    eq(st, 404, "add to a missing group")
    check("error" in doc, "error body")
    st, doc = s.app("POST", "/groups/california/users/nosuchuser")
    eq((st, doc["error"]), (404, "service_resource_not_found"), "add a missing user")
    st, doc = s.app("POST", "/groups/california/users/" + sf)
    eq(st, 404, "a group is not a user")
    # Deleting the group keeps its members.
    st, doc = s.app("DELETE", "/groups/california/san-francisco")
    eq(st, 200, "delete group")
    st, doc = s.app("GET", "/users/ann/groups")
    eq(doc["entities"], [], "edges gone")
    eq(s.app("GET", "/users/ann")[0], 200, "member kept")
    st, doc = s.app("GET", "/groups/california/san-francisco/mission")
    eq(st, 200, "deeper group still there")
    # a group collection or dictionary name ends a path even when a group
    # has that path: "oregon/users" is a group, /groups/oregon/users oregon's members
    for p in ("oregon", "oregon/users", "oregon/rolenames"):
        eq(s.app("POST", "/groups", {"path": p})[0], 200, p)
    eq(s.app("POST", "/groups/oregon/users/ann")[0], 200, "ann joins oregon")
    st, doc = s.app("GET", "/groups/oregon/users")
    eq([e.get("username") for e in doc["entities"]], ["ann"], "oregon's members")
    st, doc = s.app("GET", "/groups/oregon/rolenames")
    eq((st, "path" in doc.get("data", {})), (200, False), "oregon's role names")


def test_roles_and_dictionaries():
    s = srv()
    st, doc = s.app("GET", "/roles")
    eq(sorted(e["name"] for e in doc["entities"]), ["admin", "default", "guest"], "defaults")
    st, doc = s.app("POST", "/roles", {"name": "manager", "title": "Manager"})
    eq((st, doc["entities"][0]["metadata"]["sets"]),
       (200, {"permissions": "/roles/%s/permissions" % doc["entities"][0]["uuid"]}), "role")
    st, doc = s.app("POST", "/roles", {"title": "nameless"})
    eq((st, doc["error"]), (400, "required_property_not_found"), "role name required")
    s.app("POST", "/users", {"username": "rolf"})
    s.app("POST", "/groups", {"path": "crew"})
    eq(s.app("POST", "/roles/manager/users/rolf")[0], 200, "role -> user")
    eq(s.app("POST", "/groups/crew/roles/manager")[0], 200, "group -> role")
    st, doc = s.app("GET", "/users/rolf/roles")
    eq([e["name"] for e in doc["entities"]], ["manager"], "user's roles")
    st, doc = s.app("GET", "/roles/manager/groups")
    eq([e["path"] for e in doc["entities"]], ["crew"], "role's groups")
    st, doc = s.app("GET", "/users/rolf/rolenames")
    eq((st, doc["data"]), (200, {"manager": "Manager"}), "rolenames")
    st, doc = s.app("PUT", "/users/rolf/rolenames", {"name": "admin"})
    eq(doc["data"], {"manager": "Manager", "admin": "Administrator"}, "rolenames add")
    st, doc = s.app("DELETE", "/users/rolf/rolenames/admin")
    eq(doc["data"], {"manager": "Manager"}, "rolenames delete")
    # Permissions on roles, users and groups.
    for path in ("/roles/manager", "/users/rolf", "/groups/crew"):
        st, doc = s.app("POST", path + "/permissions", {"permission": "get,post:/cats/*"})
        eq((st, doc["data"]), (200, ["get,post:/cats/*"]), path + " grant")
        st, doc = s.app("POST", path + "/permissions", {"permission": "get:/dogs/**"})
        st, doc = s.app("GET", path + "/permissions")
        eq(doc["data"], ["get,post:/cats/*", "get:/dogs/**"], path + " list")
        st, doc, _, _ = s.request("DELETE", "/test-org/test-app" + path +
                                  "/permissions?permission=get,post:/cats/*")
        eq(doc["data"], ["get:/dogs/**"], path + " revoke")
        st, doc = s.app("DELETE", path + "/permissions")
        eq((st, doc["error"]), (400, "illegal_argument"), path + " revoke needs permission")
        st, doc = s.app("POST", path + "/permissions", {"nothing": 1})
        eq(st, 400, path + " grant needs permission")
    st, doc = s.app("GET", "/users/rolf/rolenames/manager")
    eq(doc["data"], ["get:/dogs/**"], "a role's permissions through rolenames")
    # Deleting a role removes it from users and groups.
    eq(s.app("DELETE", "/roles/manager")[0], 200, "delete role")
    st, doc = s.app("GET", "/users/rolf/roles")
    eq(doc["entities"], [], "role gone from user")
    eq(s.app("GET", "/roles/manager/users")[0], 404, "role users gone")


def likes(s):
    """fred likes xyz (by name), abc (by uuid) and new-place (created on
    the way); wilma likes fred.  Returns fred's, xyz's and abc's uuids."""
    s.app("POST", "/users", {"username": "fred"})
    s.app("POST", "/users", {"username": "wilma"})
    for n in ("xyz", "abc", "def"):
        s.app("POST", "/restaurants", {"name": n})
    st, fred = s.app("GET", "/users/fred")
    fid = fred["entities"][0]["uuid"]
    st, doc = s.app("POST", "/users/fred/likes/restaurants/xyz")
    eq((st, doc["path"], doc["entities"][0]["name"]),
       (200, "/users/%s/likes" % fid, "xyz"), "connect by name")
    xyz = doc["entities"][0]["uuid"]
    st, doc = s.app("GET", "/restaurants/abc")
    abc = doc["entities"][0]["uuid"]
    eq(s.app("POST", "/users/fred/likes/" + abc)[0], 200, "connect by uuid")
    st, doc = s.app("POST", "/users/fred/likes/restaurants", {"name": "new-place"})
    eq((st, doc["entities"][0]["name"]), (200, "new-place"), "create and connect")
    st, doc = s.app("POST", "/users/wilma/likes/users/fred")
    eq(st, 200, "connect a user")
    return fid, xyz, abc


def test_connect_by_name_uuid_and_create():
    with Server() as s:
        likes(s)
        eq(s.app("GET", "/restaurants/new-place")[0], 200, "created in its root collection")
        st, doc = s.app("POST", "/users/fred/likes/restaurants/nothere")
        eq((st, doc["error"]), (404, "service_resource_not_found"), "missing target")


def test_connection_listings():
    with Server() as s:
        fid, xyz, abc = likes(s)
        # Outgoing, newest first; filtered by type.
        st, doc = s.app("GET", "/users/fred/likes")
        eq([e["name"] for e in doc["entities"]], ["new-place", "abc", "xyz"], "outgoing order")
        e0 = doc["entities"][2]
        eq(e0["metadata"]["path"], "/users/%s/likes/%s" % (fid, xyz), "target path")
        eq(e0["metadata"]["connecting"],
           {"likes": "/users/%s/likes/%s/connecting/likes" % (fid, xyz)},
           "target connecting metadata")
        st, doc = s.app("GET", "/users/fred/likes/users")
        eq(doc["entities"], [], "type filter")
        st, doc = s.app("GET", "/users/wilma/likes/users")
        eq([e["username"] for e in doc["entities"]], ["fred"], "type filter matches")
        st, doc = s.app("GET", "/users/fred/connections/likes")
        eq(len(doc["entities"]), 3, "connections/verb")
        s.app("POST", "/users/fred/visited/restaurants/xyz")
        s.app("POST", "/users/fred/following/users/wilma")
        st, doc = s.app("GET", "/users/fred/connections")
        eq([e.get("name") for e in doc["entities"]], ["new-place", "abc", "xyz", "xyz"],
           "every verb but following: likes newest first, then visited")
        st, doc = s.app("GET", "/users/fred/connections?limit=2")
        st, doc2 = s.app("GET", "/users/fred/connections?limit=2&cursor=" + doc["cursor"])
        eq([e.get("name") for e in doc2["entities"]], ["xyz", "xyz"], "paged across verbs")
        st, doc = s.app("GET", "/restaurants/xyz/connecting")
        eq([e["username"] for e in doc["entities"]], ["fred", "fred"], "incoming, every verb")
        s.app("DELETE", "/users/fred/visited/restaurants/xyz")
        s.app("DELETE", "/users/fred/following/users/wilma")
        st, doc = s.app("GET", "/users/fred/likes/restaurants/xyz")
        eq((st, doc["entities"][0]["uuid"]), (200, xyz), "get connected target")
        st, doc = s.app("GET", "/users/wilma/likes/restaurants/xyz")
        eq(st, 404, "not connected from wilma")
        st, doc = s.app("GET", "/users/fred")
        eq(doc["entities"][0]["metadata"]["connections"],
           {"likes": "/users/%s/likes" % fid}, "metadata.connections after the others went")


def test_connection_metadata_and_incoming():
    with Server() as s:
        fid, xyz, abc = likes(s)
        # The source's metadata lists the verb; connections=none hides it.
        st, doc = s.app("GET", "/users/fred")
        eq(doc["entities"][0]["metadata"]["connections"],
           {"likes": "/users/%s/likes" % fid}, "metadata.connections")
        st, doc = s.app("GET", "/users/fred?connections=none")
        check("connections" not in doc["entities"][0]["metadata"], "connections=none")
        st, doc = s.app("GET", "/users/fred?connections=in")
        check("connecting" in doc["entities"][0]["metadata"] and
              "connections" not in doc["entities"][0]["metadata"], "connections=in")
        # Incoming, through the URL the metadata gives.
        e0 = s.app("GET", "/users/fred/likes")[1]["entities"][2]
        st, doc, _, _ = s.request("GET",
                                  "/test-org/test-app" + e0["metadata"]["connecting"]["likes"])
        eq([e["username"] for e in doc["entities"]], ["fred"], "incoming via metadata url")
        st, doc = s.app("GET", "/restaurants/xyz/connecting/likes")
        eq([e["username"] for e in doc["entities"]], ["fred"], "incoming")
        # As in Usergrid, a source listed there lives under connecting/ without
        # the verb; the listing's own path keeps it.
        eq(doc["path"], "/restaurants/%s/connecting/likes" % xyz, "incoming listing path")
        src = "/restaurants/%s/connecting/%s" % (xyz, fid)
        eq(doc["entities"][0]["metadata"]["path"], src, "incoming source path")
        eq(doc["entities"][0]["metadata"]["connections"]["likes"], src + "/likes",
           "incoming source's own connections")


def test_disconnect_and_deleted_ends():
    with Server() as s:
        likes(s)
        # Re-posting refreshes the edge time.
        s.app("POST", "/users/fred/likes/restaurants/xyz")
        st, doc = s.app("GET", "/users/fred/likes")
        eq(doc["entities"][0]["name"], "xyz", "re-post moves to front")
        # Deleting the edge only.
        st, doc = s.app("DELETE", "/users/fred/likes/restaurants/xyz")
        eq((st, doc["entities"][0]["name"]), (200, "xyz"), "disconnect")
        eq(s.app("GET", "/restaurants/xyz")[0], 200, "target kept")
        st, doc = s.app("DELETE", "/users/fred/likes/restaurants/xyz")
        eq(st, 404, "disconnect again")
        st, doc = s.app("GET", "/restaurants/xyz")
        check("connecting" not in doc["entities"][0]["metadata"], "no incoming left")
        # Deleting an endpoint removes its edges.
        s.app("DELETE", "/restaurants/abc")
        st, doc = s.app("GET", "/users/fred/likes")
        eq([e["name"] for e in doc["entities"]], ["new-place"], "edge to deleted target gone")
        s.app("DELETE", "/users/wilma")
        st, doc = s.app("GET", "/users/fred/connecting/likes")
        eq(doc["entities"], [], "edge from deleted source gone")


def test_owners_are_listed_and_listed_paths_followed():
    """connecting/owners lists the entities that hold this one in a
    collection (Usergrid's owners), paged, each once; the path a listed
    source has, /C/{t}/connecting/{source}, reads that source (404 when the
    relation does not hold), as do /connecting/{verb}/{source} and
    /connections/{target}."""
    s = srv()
    ids = {}
    for path, body in (("/users", {"username": "oann"}), ("/users", {"username": "obob"}),
                       ("/groups", {"path": "og1"}), ("/groups", {"path": "og2"}),
                       ("/roles", {"name": "orole"}), ("/places", {"name": "opub"})):
        st, doc = s.app("POST", path, body)
        eq(st, 200, "create %s" % body)
        ids[list(body.values())[0]] = doc["entities"][0]["uuid"]
    ann = ids["oann"]
    eq(s.app("POST", "/groups/og1/users/oann")[0], 200, "og1 holds oann")
    eq(s.app("POST", "/groups/og2/users/oann")[0], 200, "og2 holds oann")
    eq(s.app("POST", "/roles/orole/users/oann")[0], 200, "orole holds oann")
    st, doc = s.app("GET", "/users/oann")
    url = doc["entities"][0]["metadata"]["connecting"]["owners"]
    eq(url, "/users/%s/connecting/owners" % ann, "owners url")
    st, doc, _, _ = s.request("GET", "/test-org/test-app" + url)
    eq((st, doc["path"]), (200, "/users/%s/connecting/owners" % ann), "owners listing")
    eq([e["uuid"] for e in doc["entities"]], [ids["orole"], ids["og2"], ids["og1"]],
       "the holders, newest first; not the application")
    eq(doc["entities"][0]["metadata"]["path"],
       "/users/%s/connecting/%s" % (ann, ids["orole"]), "an owner's path")
    st, doc = s.app("GET", "/users/oann/connecting/owners?limit=2")
    eq([e["uuid"] for e in doc["entities"]], [ids["orole"], ids["og2"]], "page 1")
    st, doc = s.app("GET", "/users/oann/connecting/owners?limit=2&cursor=" + doc["cursor"])
    eq(([e["uuid"] for e in doc["entities"]], "cursor" in doc), ([ids["og1"]], False),
       "page 2, the last")
    st, doc = s.app("GET", "/users/oann/connecting/owners?cursor=AAAA")
    eq(st, 400, "a bad cursor")
    st, doc = s.app("GET", "/users/obob/connecting/owners")
    eq((st, doc["entities"]), (200, []), "no owners")
    # A user's activity is in its activities and its feed: one owner, once.
    st, doc = s.app("POST", "/users/oann/activities", {"verb": "post", "content": "hi"})
    act = doc["entities"][0]["uuid"]
    st, doc = s.app("GET", "/activities/%s/connecting/owners" % act)
    eq([e["uuid"] for e in doc["entities"]], [ann], "one owner, listed once")
    # The listed paths are followed.
    st, doc = s.app("GET", "/users/oann/connecting/" + ids["og1"])
    eq((st, doc["entities"][0]["uuid"]), (200, ids["og1"]), "GET connecting/{owner}")
    eq(doc["path"], "/users/%s/connecting" % ann, "its path")
    st, doc = s.app("GET", "/users/oann/connecting/owners/" + ids["og2"])
    eq((st, doc["entities"][0]["uuid"]), (200, ids["og2"]), "GET connecting/owners/{owner}")
    st, doc = s.app("GET", "/users/obob/connecting/" + ids["og1"])
    eq((st, doc["error"]), (404, "service_resource_not_found"), "not an owner of obob")
    st, doc = s.app("GET", "/users/oann/connecting/owners/" + ids["obob"])
    eq(st, 404, "obob owns nothing")
    st, doc = s.app("GET", "/users/oann/connecting/" + ids["obob"])
    eq(st, 404, "obob is not connected to oann")
    app_uuid = s.request("GET", "/test-org/test-app")[1]["application"]
    st, doc = s.app("GET", "/users/oann/connecting/" + app_uuid)
    eq(st, 404, "the application is no owner")
    st, doc = s.app("GET", "/users/oann/connecting/%s/users" % ids["og1"])
    eq([e["uuid"] for e in doc["entities"]], [ann], "an owner's own relations")
    eq(s.app("POST", "/users/obob/likes/places/opub")[0], 200, "obob likes opub")
    st, doc = s.app("GET", "/places/opub/connecting/likes")
    src = doc["entities"][0]["metadata"]["path"]
    eq(src, "/places/%s/connecting/%s" % (ids["opub"], ids["obob"]), "a source's path")
    st, doc, _, _ = s.request("GET", "/test-org/test-app" + src)
    eq((st, doc["entities"][0]["username"]), (200, "obob"), "GET connecting/{source}")
    st, doc = s.app("GET", "/places/opub/connecting/likes/" + ids["obob"])
    eq((st, doc["entities"][0]["username"]), (200, "obob"), "GET connecting/{verb}/{source}")
    st, doc = s.app("GET", "/places/opub/connecting/" + ids["oann"])
    eq(st, 404, "oann does not like opub")
    st, doc = s.app("GET", "/places/opub/connecting/visits/" + ids["obob"])
    eq(st, 404, "not by that verb")
    st, doc = s.app("GET", "/users/obob/connections")
    eq(doc["entities"][0]["metadata"]["path"],
       "/users/%s/connections/%s" % (ids["obob"], ids["opub"]), "a target's path")
    st, doc = s.app("GET", "/users/obob/connections/" + ids["opub"])
    eq((st, doc["entities"][0]["name"]), (200, "opub"), "GET connections/{target}")
    st, doc = s.app("GET", "/users/oann/connections/" + ids["opub"])
    eq(st, 404, "oann does not like opub either")
    for m in ("POST", "PUT", "DELETE"):
        st, doc = s.app(m, "/users/obob/connections/" + ids["opub"], {})
        eq((st, doc["error"]), (400, "illegal_argument"), "%s needs a verb" % m)
    st, doc = s.app("GET", "/users/obob/likes")
    eq(len(doc["entities"]), 1, "the connection is untouched")


def test_following_and_user_feeds():
    s = srv()
    for n in ("leader", "fan1", "fan2", "loner"):
        s.app("POST", "/users", {"username": n, "email": n + "@x.org"})
    st, doc = s.app("POST", "/users/leader/activities", {"verb": "post", "content": "before"})
    eq(st, 200, "pre-follow post")
    a0 = doc["entities"][0]
    eq(a0["actor"]["email"], "leader@x.org", "actor filled")
    st, leader = s.app("GET", "/users/leader")
    eq(a0["actor"]["uuid"], leader["entities"][0]["uuid"], "actor uuid")
    st, doc = s.app("POST", "/users/fan1/following/users/leader")
    eq(st, 200, "follow")
    s.app("POST", "/users/fan2/following/users/leader")
    st, doc = s.app("GET", "/users/leader/followers")
    eq(sorted(e["username"] for e in doc["entities"]), ["fan1", "fan2"], "followers")
    st, doc = s.app("GET", "/users/fan1/following")
    eq([e["username"] for e in doc["entities"]], ["leader"], "following")
    st, doc = s.app("GET", "/users/fan1")
    check("following" not in doc["entities"][0]["metadata"].get("connections", {}),
          "following is private")
    st, doc = s.app("POST", "/users/leader/activities",
                    {"verb": "post", "content": "after", "actor": {"displayName": "L"}})
    eq(doc["entities"][0]["actor"]["displayName"], "L", "given actor kept")
    for u, want in (("leader", ["after", "before"]), ("fan1", ["after", "before"]),
                    ("fan2", ["after", "before"]), ("loner", [])):
        st, doc = s.app("GET", "/users/%s/feed" % u)
        eq([e["content"] for e in doc["entities"]], want, u + " feed")
    st, doc = s.app("GET", "/users/leader/activities")
    eq([e["content"] for e in doc["entities"]], ["after", "before"], "activities, newest first")
    st, doc = s.app("POST", "/users/leader/activities", {"content": "no verb"})
    eq((st, doc["error"]), (400, "required_property_not_found"), "verb required")
    st, doc = s.app("DELETE", "/users/fan1/following/users/leader")
    eq(st, 200, "unfollow")
    st, doc = s.app("GET", "/users/leader/followers")
    eq([e["username"] for e in doc["entities"]], ["fan2"], "unfollowed")


def test_group_activity_fanout_rows():
    s = srv()
    for n in ("m1", "m2", "outsider", "fanofm1"):
        s.app("POST", "/users", {"username": n})
    s.app("POST", "/groups", {"path": "club"})
    s.app("POST", "/groups/club/users/m1")
    s.app("POST", "/groups/club/users/m2")
    s.app("POST", "/users/m2/following/users/m1")
    s.app("POST", "/users/fanofm1/following/users/m1")
    # Row /activities: root only.
    st, doc = s.app("POST", "/activities", {"verb": "post", "actor": {"displayName": "root"},
                                            "content": "row1"})
    eq(st, 200, "root activity")
    # Row /groups/g/activities: group feed and every member's feed.
    s.app("POST", "/groups/club/activities", {"verb": "post", "actor": {"displayName": "g"},
                                              "content": "row3"})
    # Row /groups/g/users/u/activities: u's activities and feed, and the
    # followers of u who are members of g.
    st, doc = s.app("POST", "/groups/club/users/m1/activities",
                    {"verb": "post", "content": "row4"})
    eq(st, 200, "group-user activity")

    def contents(path):
        st, doc = s.app("GET", path)
        eq(st, 200, path)
        return [e["content"] for e in doc["entities"]]

    eq(contents("/groups/club/feed"), ["row3"], "group feed")
    eq(contents("/groups/club/activities"), ["row3"], "group activities")
    eq(contents("/users/m1/feed"), ["row4", "row3"], "m1 feed")
    eq(contents("/users/m1/activities"), ["row4"], "m1 activities")
    eq(contents("/users/m2/feed"), ["row4", "row3"], "m2 (member and follower)")
    eq(contents("/users/fanofm1/feed"), [], "follower but not a member")
    eq(contents("/users/outsider/feed"), [], "outsider")
    check("row1" in contents("/activities?limit=100"), "root activities")
    # Paging a feed.
    for i in range(12):
        s.app("POST", "/groups/club/activities", {"verb": "post", "actor": {}, "content": "p%d" % i})
    st, doc = s.app("GET", "/users/m2/feed?limit=5")
    eq([e["content"] for e in doc["entities"]], ["p11", "p10", "p9", "p8", "p7"], "page 1")
    st, doc = s.app("GET", "/users/m2/feed?limit=5&cursor=" + doc["cursor"])
    eq([e["content"] for e in doc["entities"]], ["p6", "p5", "p4", "p3", "p2"], "page 2")


def test_big_group_post():
    """A group of 10,000 members takes one activity post in one request."""
    with Server() as s:
        s.app("POST", "/groups", {"path": "everyone"})
        uuids = []
        for start in range(0, 10000, 1000):
            batch = [{"username": "m%05d" % i} for i in range(start, start + 1000)]
            st, doc = s.app("POST", "/users", batch, timeout=120)
            eq((st, len(doc["entities"])), (200, 1000), "batch of users")
            uuids += [e["uuid"] for e in doc["entities"]]
        # Membership: 10,000 adds, from 16 clients so that they share commits.
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(
                lambda u: s.app("POST", "/groups/everyone/users/" + u, timeout=120)[0], uuids))
        eq(statuses, [200] * 10000, "adds")
        st, doc = s.app("GET", "/groups/everyone/users?limit=1000")
        added = len(doc["entities"])
        while doc.get("cursor"):
            st, doc = s.app("GET", "/groups/everyone/users?limit=1000&cursor=" + doc["cursor"])
            added += len(doc["entities"])
        eq(added, 10000, "members")
        t0 = time.time()
        st, doc = s.app("POST", "/groups/everyone/activities",
                        {"verb": "post", "actor": {"displayName": "all"}, "content": "hi all"},
                        timeout=60)
        took = time.time() - t0
        eq(st, 200, "post to 10,000 members")
        print("    10,000-member group post took %.3f s" % took)
        st, doc = s.app("GET", "/users/m00000/feed")
        eq([e["content"] for e in doc["entities"]], ["hi all"], "first member's feed")
        st, doc = s.app("GET", "/users/m09999/feed")
        eq([e["content"] for e in doc["entities"]], ["hi all"], "last member's feed")
