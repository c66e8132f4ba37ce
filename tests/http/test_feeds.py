"""Feeds read the same whichever way a group post was delivered.

One history (joins through either end, leaves, rejoins, re-adds of current
members, posts to groups and by users, follows, deleted activities, groups
growing past and shrinking below the threshold) runs against three servers:
one that copies every group post into its members' feeds
(--feed-copy-max huge), one that shares every one (0), and one whose
threshold the groups cross mid-history (4).  Every user's feed must be,
page by page (limit 3, by cursor) and item by item, what a model of the
history says (a post is in a user's feed iff the user was a member, or a
follower, when it was posted), on all three; and so must ql queries on the
feeds and membership reads of single feed items."""
import random
import subprocess
import urllib.parse

from harness import BIN, Server, check, eq

USERS = ["u%d" % i for i in range(10)]
GROUPS = ["g0", "g1", "g2"]
THRESHOLDS = ("1000000", "0", "4")


def history(rng, steps=150):
    """The operations, and what each user's feed should hold afterwards
    (contents, newest first)."""
    ops, members, g0_most = [], {g: set() for g in GROUPS}, 0
    follows = {u: set() for u in USERS}      # leader -> followers
    posts = []                               # [content, seen by, the posting user]
    n = 0
    for step in range(steps):
        grow = step < steps // 2              # g0 grows past 4, then shrinks below
        r = rng.random()
        g = rng.choice(GROUPS)
        u = rng.choice(USERS)
        if g == "g0":
            r = r * 0.5 if grow else 0.34 + r * 0.66
        if r < 0.35:
            ops.append(("join", g, u, rng.random() < 0.5))
            members[g].add(u)
        elif r < 0.5:
            ops.append(("leave", g, u, rng.random() < 0.5))
            members[g].discard(u)
        elif r < 0.8:
            n += 1
            ops.append(("post", g, "c%d" % n, n))
            posts.append(["c%d" % n, set(members[g]), None])
        elif r < 0.9:
            n += 1
            ops.append(("upost", u, "c%d" % n, n))
            posts.append(["c%d" % n, {u} | follows[u], u])
        elif r < 0.95 and posts:
            leader = rng.choice(USERS)
            if u != leader and u not in follows[leader]:
                ops.append(("follow", u, leader))
                follows[leader].add(u)
                for p in posts:               # the leader's own activities, copied
                    if p[2] == leader:
                        p[1].add(u)
        elif posts:
            p = rng.choice(posts)
            ops.append(("delete", p[0]))
            posts.remove(p)
        g0_most = max(g0_most, len(members["g0"]))
    check(g0_most > 4 >= len(members["g0"]), "g0 grows past 4 (%d) and shrinks below (%d)"
          % (g0_most, len(members["g0"])))
    feeds = {u: [p[0] for p in reversed(posts) if u in p[1]] for u in USERS}
    return ops, feeds


def run(s, ops):
    """Plays ops on s; returns {content: uuid}."""
    ids = {}
    for op in ops:
        if op[0] in ("join", "leave"):
            _, g, u, from_user = op
            path = "/users/%s/groups/%s" % (u, g) if from_user else "/groups/%s/users/%s" % (g, u)
            st, doc = s.app("POST" if op[0] == "join" else "DELETE", path)
            check(st == 200 or (op[0] == "leave" and st == 404), "%s: %d %s" % (op, st, doc))
        elif op[0] in ("post", "upost"):
            kind = "groups" if op[0] == "post" else "users"
            st, doc = s.app("POST", "/%s/%s/activities" % (kind, op[1]),
                            {"verb": "post", "content": op[2], "n": op[3] % 7,
                             "actor": {"username": "u0"}})
            eq(st, 200, str(op))
            ids[op[2]] = doc["entities"][0]["uuid"]
        elif op[0] == "follow":
            eq(s.app("POST", "/users/%s/following/users/%s" % (op[1], op[2]))[0], 200, str(op))
        else:
            eq(s.app("DELETE", "/activities/" + ids.pop(op[1]))[0], 200, str(op))
    return ids


def pages(s, path, ql=None, limit=3):
    out, cursor = [], None
    while True:
        params = {"limit": str(limit)}
        if ql:
            params["ql"] = ql
        if cursor:
            params["cursor"] = cursor
        st, doc = s.app("GET", path + "?" + urllib.parse.urlencode(params))
        eq(st, 200, path)
        out.append([e["content"] for e in doc["entities"]])
        cursor = doc.get("cursor")
        if not cursor:
            return out


def test_feeds_same_whether_copied_or_shared():
    rng = random.Random(15)
    ops, want = history(rng)
    servers = [Server(args=("--feed-copy-max", t)) for t in THRESHOLDS]
    try:
        ids = []
        for s in servers:
            for u in USERS:
                eq(s.app("POST", "/users", {"username": u})[0], 200, "user")
            for g in GROUPS:
                eq(s.app("POST", "/groups", {"path": g})[0], 200, "group")
            ids.append(run(s, ops))
        for u in USERS:
            for s, t in zip(servers, THRESHOLDS):
                got = pages(s, "/users/%s/feed" % u)
                eq(sum(got, []), want[u], "%s's feed, threshold %s" % (u, t))
                check(all(len(p) == 3 for p in got[:-1]), "full pages: %r" % got)
            first = pages(servers[0], "/users/%s/feed" % u)
            for s, t in zip(servers[1:], THRESHOLDS[1:]):
                eq(pages(s, "/users/%s/feed" % u), first, "%s's pages, threshold %s" % (u, t))
                for ql in ("select * where n > 3", "select * where n = 2 or n = 5",
                           "select * order by n desc", "select * where verb = 'post' order by n"):
                    eq(pages(s, "/users/%s/feed" % u, ql),
                       pages(servers[0], "/users/%s/feed" % u, ql), "%s %s, threshold %s" % (u, ql, t))
            for content in list(ids[0])[:12]:
                sts = [s.app("GET", "/users/%s/feed/%s" % (u, i[content]))[0]
                       for s, i in zip(servers, ids)]
                eq(sts, [200 if content in want[u] else 404] * 3, "%s in %s's feed" % (content, u))
        for g in GROUPS:
            eq(pages(servers[1], "/groups/%s/feed" % g), pages(servers[0], "/groups/%s/feed" % g),
               "the group's own feed")
    finally:
        for s in servers:
            s.close()


def test_index_driven_feed_queries_see_shared_posts():
    """A query inside a feed driven by the activity index checks each
    candidate's membership in the feed: a shared post is a member exactly
    when the copy would be, at the copy's place."""
    servers = [Server(args=("--feed-copy-max", t)) for t in THRESHOLDS[:2]]
    try:
        for s in servers:
            for path, body in (("/groups", {"path": "big"}), ("/users", {"username": "a"}),
                               ("/groups/big/users/a", None)):
                eq(s.app("POST", path, body)[0], 200, path)
            for i in range(40):
                eq(s.app("POST", "/users/a/activities",
                         {"content": "own%d" % i, "verb": "post", "actor": {}, "k": i})[0], 200, "own")
            for i in range(20):
                if i == 12:
                    eq(s.app("DELETE", "/groups/big/users/a")[0], 200, "leave")
                eq(s.app("POST", "/groups/big/activities",
                         {"content": "g%d" % i, "verb": "post", "actor": {}, "k": 100 + i})[0],
                   200, "group post")
        for ql, want in (("select * where k = 105", ["g5"]),
                         ("select * where k = 115", []),
                         ("select * where k >= 108 and k < 200", ["g11", "g10", "g9", "g8"]),
                         ("select * where k = 5", ["own5"])):
            st, doc = servers[1].app("GET", "/users/a/feed?" + urllib.parse.urlencode(
                {"ql": ql, "explain": "true"}))
            check("checked in the scope" in doc["explain"]["plan"], doc["explain"]["plan"])
            for s in servers:
                eq(sum(pages(s, "/users/a/feed", ql), []), want, ql)
    finally:
        for s in servers:
            s.close()


def test_deleting_a_group_ends_its_memberships():
    """Deleting a group takes its own feed and ends its memberships; what it
    delivered stays in its members' feeds (as copies do).  A group made
    again under the same uuid and path starts with an empty feed and
    delivers only to its new members, whichever path its posts take; the
    store checks clean with the group gone."""
    for t in ("1000000", "0"):
        with Server(args=("--feed-copy-max", t)) as s:
            for u in ("ann", "bob", "carl"):
                eq(s.app("POST", "/users", {"username": u})[0], 200, u)
            st, doc = s.app("POST", "/groups", {"path": "g/h"})
            gid = doc["entities"][0]["uuid"]
            for u in ("ann", "bob"):
                eq(s.app("POST", "/groups/g/h/users/" + u)[0], 200, "join " + u)
            eq(s.app("POST", "/groups/g/h/activities", {"verb": "post", "content": "before", "actor": {"displayName": "a"}})[0],
               200, "post")
            eq(s.app("DELETE", "/groups/g/h")[0], 200, "delete the group")
            p = subprocess.run([BIN, "check", "--data", s.data], capture_output=True, text=True)
            eq(p.returncode, 0, "check with the group gone, threshold %s: %s" % (t, p.stdout[-2000:]))
            check(" 0 faults" in p.stdout, p.stdout)
            eq(s.app("PUT", "/groups/" + gid, {"path": "g/h"})[0], 200, "the same group again")
            eq(pages(s, "/groups/g/h/feed"), [[]], "its feed, threshold %s" % t)
            eq(s.app("GET", "/groups/g/h/users")[1]["entities"], [], "its members")
            eq(s.app("POST", "/groups/g/h/users/carl")[0], 200, "join carl")
            eq(s.app("POST", "/groups/g/h/activities", {"verb": "post", "content": "after", "actor": {"displayName": "a"}})[0],
               200, "post again")
            for u, want in (("ann", ["before"]), ("bob", ["before"]), ("carl", ["after"])):
                eq(sum(pages(s, "/users/%s/feed" % u), []), want, "%s's feed, threshold %s" % (u, t))
            eq(pages(s, "/groups/g/h/feed"), [["after"]], "its feed after a post, threshold %s" % t)
