"""HTTP suite for the query language: the examples of spec 6.9 over their
data sets, errors, paging by cursor, projections, sub-collections and
connections, PUT and DELETE with ql, and within."""
import base64
import urllib.parse

from harness import Server, Shared, check, eq

srv = Shared()
teardown = srv.close


def q(s, coll, ql, limit=None, cursor=None, extra=""):
    params = {"ql": ql}
    if limit is not None:
        params["limit"] = str(limit)
    if cursor:
        params["cursor"] = cursor
    path = "/%s?%s%s" % (coll, urllib.parse.urlencode(params, quote_via=urllib.parse.quote), extra)
    return s.app("GET", path)


def qdata(n, coll, s):
    """Dataset Q(N) of spec 6.9, posted in order."""
    for i in range(n):
        s.app("POST", "/" + coll, {
            "actor": {"displayName": "Test User %d" % i, "username": "user%d" % i},
            "sometestprop": "testprop", "ordinal": i,
            "madeup": i >= n // 2, "verb": "go" if i % 2 == 0 else "stop"})


def ordinals(doc):
    return [e["ordinal"] for e in doc["entities"]]


def test_q20_examples():
    s = srv()
    qdata(20, "q20", s)
    cases = [
        ("select * where madeup = true AND ordinal >= 15", None, [19, 18, 17, 16, 15]),
        ("select * where madeup = true AND NOT ordinal >= 15", None, [14, 13, 12, 11, 10]),
        ("select * where ordinal >= 10 order by ordinal asc", 10, list(range(10, 20))),
        ("select * order by ordinal asc", 20, list(range(20))),
        ("select * order by ordinal desc", 20, list(range(19, -1, -1))),
        ("select * where Ordinal gte 0 and Ordinal lte 2000 or WhoHelpedYou eq 'Ruff' "
         "ORDER BY created", 10, list(range(10))),
        ("where ordinal = 2 or ordinal = 4 and verb = 'stop'", None, [2]),
        ("(ordinal = 2 or ordinal = 4) and verb = 'go'", None, [4, 2]),
        ("ordinal > 17", None, [19, 18]),
        ("ordinal < 2", None, [1, 0]),
        ("ordinal <= 1 or ordinal = 19", None, [19, 1, 0]),
        ("actor.username = 'USER7'", None, [7]),
        ("actor.displayName = 'test user 1*'", None, [19, 18, 17, 16, 15, 14, 13, 12, 11, 10]),
        ("ordinal = 2.0", None, []),                 # typed: a float is not a long
        ("select * where limit = 5", None, []),
    ]
    for ql, limit, want in cases:
        st, doc = q(s, "q20", ql, limit)
        eq(st, 200, ql)
        eq(ordinals(doc), want, ql)
    st, doc = q(s, "q20", "where sometestprop = 'testprop'")
    eq(len(doc["entities"]), 10, "#2 one page")
    st, doc = q(s, "q20", "where sometestprop contains 'test*'")
    eq(len(doc["entities"]), 10, "#3 contains wildcard")
    st, doc = q(s, "q20", "select * where not verb = 'go'", 10)
    eq({e["verb"] for e in doc["entities"]}, {"stop"}, "#8 not")
    st, doc = q(s, "q20", "select * order by verb asc", 20)
    eq([e["verb"] for e in doc["entities"]], ["go"] * 10 + ["stop"] * 10, "#15 asc")
    st, doc = q(s, "q20", "select * order by verb desc", 20)
    eq([e["verb"] for e in doc["entities"]], ["stop"] * 10 + ["go"] * 10, "#15 desc")
    st, doc = q(s, "q20", "select * where created > 1 order by created desc", 5)
    eq(len(doc["entities"]), 5, "#17")
    st, doc = q(s, "q20", " where created > 1 order by created desc", 5)
    eq(len(doc["entities"]), 5, "#17 leading space")
    # #27: projections.
    st, doc = q(s, "q20", "select actor.displayName,sometestprop where sometestprop = 'testprop'")
    eq(len(doc["entities"]), 10, "#27 count")
    for e in doc["entities"]:
        eq(sorted(e), ["actor", "metadata", "sometestprop", "type", "uuid"], "#27 keys")
        eq(list(e["actor"]), ["displayName"], "#27 nested kept")
    st, doc = q(s, "q20", "select {ordinal:rank} where ordinal = 3")
    eq(doc["entities"][0]["rank"], 3, "rename")
    check("ordinal" not in doc["entities"][0], "renamed away")
    st, doc = q(s, "q20", "select uuid.x, verb.y, ordinal where ordinal = 3")
    eq(sorted(doc["entities"][0]), ["metadata", "ordinal", "type", "uuid"], "no path through scalars")
    check(isinstance(doc["entities"][0]["uuid"], str), "uuid kept")
    st, doc = q(s, "q20", "select uuid where ordinal = 3")
    eq(sorted(doc["entities"][0]), ["metadata", "type", "uuid"], "#35 select uuid")


def test_query_errors():
    s = srv()
    s.app("POST", "/errs", {"name": "go"})
    for ql, code in (("select * where name != 'go'", "query_token"),
                     ('select * where NOT name = "go"', "query_token"),
                     ("select * where != 'go'", "query_token"),
                     ("select * where name != ", "query_token"),
                     ("select * where name = 'bob' order by", "query_parse"),
                     ("select * where index >= 20 sort by index asc", "query_parse"),
                     ("select * where name = 'x' order by a, a", "query_parse"),
                     ("(" * 100 + "a = 1" + ")" * 100, "query_parse")):
        st, doc = q(s, "errs", ql)
        eq((st, doc["error"]), (400, code), ql)
        check(len(doc["error_description"]) > 10, "description")
    st, doc = q(s, "errs", "select * where name = 'bob' order by")
    check(doc["error_description"].startswith("The query cannot be parsed. The token"),
          doc["error_description"])
    st, doc = q(s, "errs", "select * where index >= 20 sort by index asc")
    check("'sort'" in doc["error_description"] and "column 28" in doc["error_description"],
          doc["error_description"])
    for i in range(3):
        s.app("POST", "/errs", {"k": "v", "i": i})
    st, doc = q(s, "errs", "k = 'v'", 1)
    st, doc = q(s, "errs", "k = 'v'", 1, doc["cursor"])
    eq((st, [e["i"] for e in doc["entities"]]), (200, [1]), "a cursor of the same query")
    st, doc = q(s, "errs", "k = 'v' order by i", 1, doc["cursor"])
    eq((st, doc["error"]), (400, "illegal_argument"), "a cursor of another plan")
    st, doc = q(s, "errs", "name = 'go' order by name", cursor="notacursor")
    eq((st, doc["error"]), (400, "illegal_argument"), "bad cursor")


def test_strings_case_and_escapes():
    s = srv()
    s.app("POST", "/casey", {"testProp": "v", "TESTPROP": "w"})
    for ql in ("select * where testProp='w'", "select * where TESTPROP='w'",
               "select * where testprop = 'W'"):
        st, doc = q(s, "casey", ql)
        eq(len(doc["entities"]), 1, ql)
    s.app("POST", "/quotes", {"testprop": "test'value"})
    st, doc = q(s, "quotes", "select * where testprop='test\\'value'")
    eq(len(doc["entities"]), 1, "#29 escaped quote")
    s.app("POST", "/simple", {"myString": "My simple string"})
    st, doc = q(s, "simple", "myString = 'My simple string'")
    eq(len(doc["entities"]), 1, "#56 whole value")
    s.app("POST", "/nested", {"rootprop1": "simpleprop", "subentity": {
        "intprop": 10, "substring": "I'm a tokenized string that should be indexed"}})
    for ql in ("rootprop1 = 'simpleprop'", "subentity.intprop = 10",
               "subentity.substring contains 'tokenized' and subentity.substring contains 'indexed'"):
        st, doc = q(s, "nested", ql)
        eq(len(doc["entities"]), 1, "#54 " + ql)
    s.app("POST", "/arrays", {"tags": ["red", "Green"], "list": [{"n": 1}, {"n": 2}]})
    for ql, n in (("tags = 'green'", 1), ("tags = 'blue'", 0), ("list.n = 2", 1)):
        st, doc = q(s, "arrays", ql)
        eq(len(doc["entities"]), n, ql)
    uid = s.app("POST", "/uuids", {"ref": "c6ee8a1c-3ef4-11e2-8861-02e81adcf3d0"})[1]
    st, doc = q(s, "uuids", "select * where ref = c6ee8a1c-3ef4-11e2-8861-02e81adcf3d0")
    eq(len(doc["entities"]), 1, "#66 uuid literal")
    st, doc = q(s, "uuids", "select * where uuid = %s" % uid["entities"][0]["uuid"])
    eq(len(doc["entities"]), 1, "uuid property")


def test_users_activities_games():
    s = srv()
    for u, name in (("user1", "Jane Smith 1"), ("user2", "John Smith 2"), ("user3", "John Smith 3")):
        s.app("POST", "/users", {"username": u, "name": name})
    st, doc = q(s, "users", "username = 'user*'")
    eq([e["username"] for e in doc["entities"]][:3], ["user3", "user2", "user1"], "#31")
    st, doc = q(s, "users", "name contains 'smith' and name contains 'john'")
    eq([e["username"] for e in doc["entities"]], ["user3", "user2"], "contains words")
    st, doc = q(s, "users", "order by username", 100)
    names = [e["username"] for e in doc["entities"] if e["username"].startswith("user")]
    eq(names, ["user1", "user2", "user3"], "#34")
    for content, verb, o in (("I ate a sammich", "tweet", 3), ("I ate a pickle", "tweet2", 2),
                             ("I ate an apple", "tweet2", 1)):
        s.app("POST", "/activities", {"actor": {"displayName": "x"}, "verb": verb,
                                      "content": content, "ordinal": o})
    st, doc = q(s, "activities", "where verb = 'tweet2'")
    eq(len(doc["entities"]), 2, "#38")
    st, doc = q(s, "activities", "verb = 'tweet2' order by ordinal")
    eq(ordinals(doc), [1, 2], "#39")
    st, doc = q(s, "activities", "verb = 'tweet2' order by created")
    eq(ordinals(doc), [2, 1], "#39 by created")
    st, doc = q(s, "activities", "where verb contains 'tw*'")
    eq(len(doc["entities"]), 3, "#42")
    for title, kw in (("Galactians 2", "Hot, Space Invaders, Classic"),
                      ("Bunnies Extreme", "Hot, New"), ("Hot Shots", "Action, New")):
        s.app("POST", "/games", {"title": title, "keywords": kw})
    st, doc = q(s, "games", "select * where keywords contains 'hot' or title contains 'hot'")
    eq(len(doc["entities"]), 3, "#52")
    st, doc = q(s, "games", "select * where NOT keywords contains 'new'")
    eq([e["title"] for e in doc["entities"]], ["Galactians 2"], "#46")
    st, doc = q(s, "games", "select * where NOT title = 'galactians 2'")
    eq(len(doc["entities"]), 2, "#49")


def test_alphabet_and_paging():
    s = srv()
    nato = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel",
            "India", "Juliet", "Kilo", "Lima", "Mike", "November", "Oscar", "Papa"]
    for i, n in enumerate(nato):
        s.app("POST", "/items", {"name": n, "group": i // 3})
    st, doc = q(s, "items", "name < 'delta' order by name asc")
    eq([e["name"] for e in doc["entities"]], ["Alpha", "Bravo", "Charlie"], "#59")
    st, doc = q(s, "items", "name <= 'delta' order by name asc")
    eq([e["name"] for e in doc["entities"]], ["Alpha", "Bravo", "Charlie", "Delta"], "#59 lte")
    st, doc = q(s, "items", "group = 1 order by name desc")
    eq([e["name"] for e in doc["entities"]], ["Foxtrot", "Echo", "Delta"], "#61")
    # #63 without the trailing text: pages of 10 by cursor, then empty.
    for i in range(40):
        s.app("POST", "/pages", {"index": i})
    for ql, want in (("select * where index >= 20", [list(range(39, 29, -1)), list(range(29, 19, -1))]),
                     ("select * where index >= 10 and index <= 29",
                      [list(range(29, 19, -1)), list(range(19, 9, -1))])):
        st, doc = q(s, "pages", ql, 10)
        got = [[e["index"] for e in doc["entities"]]]
        st, doc = q(s, "pages", ql, 10, doc["cursor"])
        got.append([e["index"] for e in doc["entities"]])
        st, doc = q(s, "pages", ql, 10, doc["cursor"])
        eq((doc["entities"], "cursor" in doc), ([], False), ql + " last page")
        eq(got, want, ql)
    # Sorted paging by cursor keeps the order.
    seen, cursor = [], None
    while True:
        st, doc = q(s, "pages", "index < 25 order by index desc", 7, cursor)
        seen += [e["index"] for e in doc["entities"]]
        cursor = doc.get("cursor")
        if not cursor:
            break
    eq(seen, list(range(24, -1, -1)), "sorted paging")
    # Sorted in memory (two keys): keyset cursors, stable under inserts.
    for i in range(20):
        s.app("POST", "/pages2", {"index": i})
    st, doc = q(s, "pages2", "index < 20 order by index desc, created", 5)
    eq([e["index"] for e in doc["entities"]], [19, 18, 17, 16, 15], "two keys, page 1")
    s.app("POST", "/pages2", {"index": 19})      # sorts inside page 1
    st, doc = q(s, "pages2", "index < 20 order by index desc, created", 5, doc["cursor"])
    eq([e["index"] for e in doc["entities"]], [14, 13, 12, 11, 10], "two keys, page 2")
    # Paging is stable under inserts made meanwhile.
    st, doc = q(s, "pages", "index >= 0", 10)
    s.app("POST", "/pages", {"index": 100})
    st, doc2 = q(s, "pages", "index >= 0", 10, doc["cursor"])
    eq([e["index"] for e in doc2["entities"]], list(range(29, 19, -1)), "stable")


def test_subcollections_connections_and_writes():
    s = srv()
    s.app("POST", "/users", {"username": "qa", "age": 30})
    s.app("POST", "/users", {"username": "qb", "age": 40})
    s.app("POST", "/roles", {"name": "r1"})
    s.app("POST", "/roles", {"name": "r2"})
    s.app("POST", "/roles/r1/users/qa")
    s.app("POST", "/roles/r2/users/qa")
    s.app("POST", "/roles/r2/users/qb")
    st, doc = q(s, "roles/r2/users", "select * where username = 'qa'")
    eq([e["username"] for e in doc["entities"]], ["qa"], "#37")
    s.app("DELETE", "/roles/r1")
    st, doc = q(s, "roles/r1/users", "select * where username = 'qa'")
    eq(st, 404, "#37 after delete")
    for n, c in (("p1", "Tempe"), ("p2", "Mesa"), ("p3", "Tempe")):
        s.app("POST", "/users/qa/likes/places", {"name": n, "city": c})
    st, doc = q(s, "users/qa/likes", "city = 'tempe'")
    eq([e["name"] for e in doc["entities"]], ["p3", "p1"], "connection query")
    st, doc = q(s, "users/qa/likes", "select * order by name desc")
    eq([e["name"] for e in doc["entities"]], ["p3", "p2", "p1"], "connection order")
    # PUT /C?ql updates the matches; DELETE /C?ql deletes them.
    st, doc, _, _ = s.request("PUT", "/test-org/test-app/places?ql=" +
                              urllib.parse.quote("city = 'Tempe'"), {"state": "AZ"})
    eq((st, sorted(e["name"] for e in doc["entities"])), (200, ["p1", "p3"]), "put ql")
    st, doc = q(s, "places", "state = 'az'")
    eq(len(doc["entities"]), 2, "updated")
    st, doc, _, _ = s.request("PUT", "/test-org/test-app/places?ql=" +
                              urllib.parse.quote("city = 'Nowhere'"), {"state": "AZ"})
    eq((st, doc["error"]), (404, "service_resource_not_found"), "put ql no match")
    st, doc, _, _ = s.request("DELETE", "/test-org/test-app/places?ql=" +
                              urllib.parse.quote("city = 'mesa'"))
    eq([e["name"] for e in doc["entities"]], ["p2"], "delete ql")
    st, doc = s.app("GET", "/places")
    eq(sorted(e["name"] for e in doc["entities"]), ["p1", "p3"], "deleted")
    st, doc = q(s, "users/qa/likes", "city = 'mesa'")
    eq(doc["entities"], [], "its edge went with it")


def test_within_and_explain():
    s = srv()
    for name, lat, lon in (("near", 37.776, -122.417), ("mid", 37.80, -122.45),
                           ("far", 40.71, -74.0)):
        s.app("POST", "/spots", {"name": name, "location": {"latitude": lat, "longitude": lon}})
    st, doc = q(s, "spots", "location within 10000 of 37.7749, -122.4194")
    eq([e["name"] for e in doc["entities"]], ["near", "mid"], "within, nearest first")
    d = [e["metadata"]["distance"] for e in doc["entities"]]
    check(d[0] < d[1] < 10000, "distances %r" % d)
    st, doc = q(s, "spots", "select name where location within 10000 of 37.7749, -122.4194")
    eq([(sorted(e), e["name"], e["metadata"]["distance"]) for e in doc["entities"]],
       [(["metadata", "name", "type", "uuid"], "near", d[0]),
        (["metadata", "name", "type", "uuid"], "mid", d[1])], "a projection keeps its distance")
    st, doc = q(s, "spots", "select * where location within 20000 of 37, -75")
    eq(doc["entities"], [], "nothing near")
    st, doc = q(s, "spots", "name = 'far'", extra="&explain=true")
    check("plan" in doc["explain"], "explain")


def test_more_spec_examples():
    s = srv()
    for title, kw in (("Galactic Blah", "test, blah"), ("Foo", "test, game"),
                      ("FooBar", "test, game")):
        s.app("POST", "/boardgames", {"title": title, "keywords": kw})
    st, doc = q(s, "boardgames", "select * where keywords contains 'blah' OR "
                                 "title contains 'blah' order by title desc")
    eq([e["title"] for e in doc["entities"]], ["Galactic Blah"], "#44")
    st, doc = q(s, "boardgames", "select * where NOT keywords contains 'game'")
    eq(len(doc["entities"]), 1, "#46 game")
    st, doc = q(s, "boardgames", "select * where NOT keywords contains 'test'")
    eq(len(doc["entities"]), 0, "#46 test")
    st, doc = q(s, "boardgames", "select * where NOT title = 'FooBar'")
    eq(len(doc["entities"]), 2, "#49")
    for user in ("fb_536692245", "fb_100000787138041"):
        s.app("POST", "/loveobjects", {"Flag": "requested", "Recipient": {"Username": user}})
    st, doc = q(s, "loveobjects", "select * where Flag = 'requested' and NOT "
                                  "Recipient.Username = 'fb_536692245' order by created asc")
    eq([e["Recipient"]["Username"] for e in doc["entities"]], ["fb_100000787138041"], "#57")
    # #17's alternative spellings and #12's mixed-case keywords parse alike.
    for ql in ("select * where created > 1 order by created desc",
               "SELECT * WHERE created GT 1 ORDER BY created DESC",
               "where created > 1 order  by created desc"):
        st, doc = q(s, "loveobjects", ql)
        eq(len(doc["entities"]), 2, ql)


def page_names(s, coll, ql, limit, field="name"):
    got, cursor = [], None
    for _ in range(200):
        st, doc = q(s, coll, ql, limit, cursor)
        eq(st, 200, ql)
        got += [e[field] for e in doc["entities"]]
        cursor = doc.get("cursor")
        if not cursor:
            return got
    raise AssertionError("endless paging")


def test_plan_edge_cases():
    s = srv()
    # An entity that matches with one array element but sorts by another.
    s.app("POST", "/multis", [{"name": "a", "arr": [1, 10]}, {"name": "b", "arr": [{"x": 1}, 9]}] +
          [{"name": "f%d" % i, "arr": [6]} for i in range(4)])
    for ql in ("arr > 5 order by arr", "arr > 5 order by arr, name"):
        want = ["a", "f0", "f1", "f2", "f3", "b"]
        eq(page_names(s, "multis", ql, 1), want, ql + " paged by 1")
        eq(page_names(s, "multis", ql, 100), want, ql + " one page")
    # Strings too long for a key: prefix, ranges and order stay exact.
    base = "a" * 470
    for k in "xbmzc":
        s.app("POST", "/longs", {"name": "e" + k, "v": base + k})
    eq(sorted(page_names(s, "longs", "v > '%sc'" % base, 2)), ["em", "ex", "ez"], "long >")
    eq(sorted(page_names(s, "longs", "v < '%sm'" % base, 2)), ["eb", "ec"], "long <")
    eq(len(page_names(s, "longs", "v = '%s*'" % ("a" * 300), 2)), 5, "long prefix")
    eq(page_names(s, "longs", "order by v", 1), ["eb", "ec", "em", "ex", "ez"], "long order")
    eq(page_names(s, "longs", "order by v desc, name", 2), ["ez", "ex", "em", "ec", "eb"],
       "long keys in a cursor")
    # Paths of 199 and 200 bytes are indexed (and planned) like shorter ones.
    for n in (199, 200):
        s.app("POST", "/paths", {"p" * n: 1, "name": "L%d" % n})
        eq(page_names(s, "paths", "%s = 1" % ("p" * n), 10), ["L%d" % n], "path of %d" % n)
    # A cursor keeps working when inserts change the plan the counts pick.
    for i in range(19):
        s.app("POST", "/switch", {"g": 1, "n": i})
    st, doc = q(s, "switch", "g = 1 order by n", 5)
    for i in range(19, 24):
        s.app("POST", "/switch", {"g": 1, "n": i})
    st, doc = q(s, "switch", "g = 1 order by n", 5, doc["cursor"])
    eq((st, [e["n"] for e in doc["entities"]]), (200, [5, 6, 7, 8, 9]), "plan switch")
    # A result sorted in memory pages by keyset only: an offset into it
    # (cursor kind 2, which no page makes) is no cursor.
    st, doc = q(s, "switch", "g = 1 order by n", 10, extra="&explain=true")
    check(doc["explain"]["plan"].startswith("sort in memory"), doc["explain"]["plan"])
    offset = base64.urlsafe_b64encode(bytes([2] + [0] * 7 + [10])).decode().rstrip("=")
    st, doc = q(s, "switch", "g = 1 order by n", 10, offset)
    eq((st, doc.get("error")), (400, "illegal_argument"), "offset cursor")
    # DIRECT names an entity once however often it is listed.
    st, doc = s.app("POST", "/directs", {"name": "d1"})
    u = doc["entities"][0]["uuid"]
    st, doc = q(s, "directs", "direct %s, %s, d1" % (u, u))
    eq(len(doc["entities"]), 1, "direct dedup")
