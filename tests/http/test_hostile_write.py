"""HTTP suite for hostile and heavy writes: bodies that would stall the
writer, malformed numeric parameters, names no URL can reach, raw NUL bytes
in the request target, and property names no query can name."""
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from harness import BIN, SU, Shared, check, eq

srv = Shared()
teardown = srv.close

APP = "/test-org/test-app"


def post_raw(s, path, body, timeout=30):
    """POSTs body as compact JSON (a big body stays under the 1 MiB bound)."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    st, doc, _, _ = s.request("POST", APP + path, raw=raw, timeout=timeout,
                              headers={"Content-Type": "application/json"})
    return st, doc


def refused(st, doc, what, word=None):
    eq((st, doc and doc.get("error")), (400, "illegal_argument"), what)
    if word:
        check(word in doc["error_description"],
              "%s: %r does not name %s" % (what, doc["error_description"], word))


def count(s, path):
    st, doc = s.app("GET", path + "?limit=1000")
    eq(st, 200, "list " + path)
    return len(doc["entities"])


# ---- heavy bodies -----------------------------------------------------------

def test_many_properties_refused_fast_and_writer_not_stalled():
    """A 100k-property body (under 1 MiB) is refused at once, naming the
    limit, and a small write sent meanwhile is not held behind it."""
    s = srv()
    big = {"%x" % i: 1 for i in range(100000)}
    out = {}

    def heavy():
        t0 = time.time()
        out["big"] = post_raw(s, "/heavies", big, timeout=20)
        out["big_s"] = time.time() - t0

    th = threading.Thread(target=heavy)
    th.start()
    time.sleep(0.05)
    t0 = time.time()
    st, doc = s.app("POST", "/lights", {"name": "small"})
    small_s = time.time() - t0
    th.join(30)
    eq(st, 200, "small write")
    check(small_s < 2.0, "small write waited %.2fs" % small_s)
    st, doc = out["big"]
    refused(st, doc, "100k properties", "STORE_MAX_PROPERTIES")
    check(out["big_s"] < 3.0, "100k properties took %.2fs" % out["big_s"])
    eq(count(s, "/heavies"), 0, "nothing written")


def test_properties_under_the_limit_accepted_fast():
    """2000 properties (the limit) are stored in well under a second; one more
    is refused; an update that would push the entity past it is refused."""
    s = srv()
    body = {"p%d" % i: i for i in range(2000)}
    t0 = time.time()
    st, doc = post_raw(s, "/wides", body)
    took = time.time() - t0
    eq(st, 200, "2000 properties")
    check(took < 1.0, "2000 properties took %.2fs" % took)
    uuid = doc["entities"][0]["uuid"]
    body["one_more"] = 1
    st, doc = post_raw(s, "/wides", body)
    refused(st, doc, "2001 properties", "STORE_MAX_PROPERTIES")
    st, doc = s.app("PUT", "/wides/" + uuid, {"extra": 1})
    refused(st, doc, "update past the limit", "STORE_MAX_PROPERTIES")
    # Case-folding stays linear: 2000 names that differ only in case fold
    # into one property, the first spelling with the last value.
    t0 = time.time()
    folded = {("k" * 3 + format(i, "b").replace("0", "k").replace("1", "K"))[:14]: i
              for i in range(1000)}
    st, doc = post_raw(s, "/folds", dict({"Name": "x", "NAME": "y"}, **folded))
    eq(st, 200, "folded names")
    check(time.time() - t0 < 1.0, "folding took too long")


def test_array_and_index_entry_limits():
    s = srv()
    st, doc = post_raw(s, "/arrays", {"a": list(range(10000))})
    eq(st, 200, "10000 elements")
    st, doc = post_raw(s, "/arrays", {"a": list(range(10001))})
    refused(st, doc, "10001 elements", "STORE_MAX_ARRAY")
    st, doc = post_raw(s, "/arrays", {"a": [[0] * 10001]})
    refused(st, doc, "a long array inside an array", "STORE_MAX_ARRAY")
    words = " ".join("w%d" % i for i in range(50001))
    st, doc = post_raw(s, "/texts", {"t": words})
    refused(st, doc, "50001 words", "STORE_MAX_INDEX_ENTRIES")
    eq(count(s, "/texts"), 0, "nothing written")
    # Three entities of 40,000 words each: each within its own limit, the
    # write as a whole past the per-write bound.
    item = {"t": "a " * 40000}
    st, doc = post_raw(s, "/texts", [item, item, item])
    refused(st, doc, "batch past the per-write bound", "HTTP_MAX_WRITE_ENTRIES")
    eq(count(s, "/texts"), 0, "no item written")
    st, doc = post_raw(s, "/texts", [item, item])
    eq((st, len(doc["entities"])), (200, 2), "two of them fit")


def test_query_writes_bounded():
    """A PUT with ql may not multiply a body past the per-write bound; a
    DELETE of many big entities stops once it has removed that many index
    entries, and the next DELETE goes on."""
    s = srv()
    words = " ".join("w%d" % i for i in range(45000))
    for i in range(4):
        st, _ = post_raw(s, "/bigs", {"name": "big%d" % i, "t": words, "k": 1})
        eq(st, 200, "big entity")
    st, doc = post_raw(s, "/bigs", {"name": "small", "k": 1})
    st, doc = s.app("PUT", "/bigs?ql=k%3D1", {"u": "x " * 30000})
    refused(st, doc, "PUT ql past the per-write bound", "HTTP_MAX_WRITE_ENTRIES")
    st, doc = s.app("GET", "/bigs?ql=u%3D'x'")
    eq(len(doc["entities"]), 0, "no entity updated")
    st, doc = s.app("PUT", "/bigs?ql=k%3D1", {"u": "y"})
    eq((st, len(doc["entities"])), (200, 5), "a small body updates them all")
    st, doc = s.app("DELETE", "/bigs?ql=name%3D'big*'&limit=4")
    first = len(doc["entities"])
    check(st == 200 and 1 <= first < 4, "first delete removed %r" % first)
    st, doc = s.app("DELETE", "/bigs?ql=name%3D'big*'&limit=4")
    eq(first + len(doc["entities"]), 4, "the next delete goes on")
    for i in range(3):
        post_raw(s, "/bigs", {"name": "again%d" % i, "t": words})
    st, doc = s.app("DELETE", "/bigs?limit=10")
    check(st == 200 and len(doc["entities"]) < 4, "DELETE ?limit stops too")
    eq(count(s, "/bigs"), 4 - len(doc["entities"]), "the rest is there")


# ---- numeric parameters -----------------------------------------------------

BAD_LIMITS = ["0", "-1", "abc", "1.5", "none", "+5", "%205", "1e3", "0x10", "5%00",
              "18446744073709551616"]


def test_bad_limit_is_400_and_changes_nothing():
    """Every malformed limit on GET, PUT and DELETE of a collection, a
    sub-collection and a connection listing is a 400 naming `limit`, and
    deletes or updates nothing."""
    s = srv()
    for i in range(30):
        s.app("POST", "/pets", {"name": "pet%d" % i, "n": i})
    s.app("POST", "/users", {"username": "lim-owner"})
    s.app("POST", "/groups", {"path": "lim-group"})
    for i in range(5):
        s.app("POST", "/users", {"username": "lim-u%d" % i})
        s.app("POST", "/groups/lim-group/users/lim-u%d" % i)
        s.app("POST", "/users/lim-owner/likes/pets/pet%d" % i)
    routes = ["/pets", "/groups/lim-group/users", "/users/lim-owner/likes",
              "/users/lim-owner/connections", "/pets/pet1"]
    for path in routes:
        for method in ("GET", "PUT", "DELETE"):
            for v in BAD_LIMITS:
                for extra in ("", "&ql=select%20*", "&ql=n%3D1"):
                    body = {"touched": True} if method == "PUT" else None
                    st, doc = s.app(method, "%s?limit=%s%s" % (path, v, extra), body)
                    what = "%s %s limit=%s%s" % (method, path, v, extra)
                    if v == "5%00":     # refused by the target parser
                        eq(st, 400, what)
                        continue
                    refused(st, doc, what, "limit")
    eq(count(s, "/pets"), 30, "no pet deleted")
    eq(count(s, "/groups/lim-group/users"), 5, "no member removed")
    eq(count(s, "/users/lim-owner/likes"), 5, "no connection removed")
    st, doc = s.app("GET", "/pets?ql=touched%3Dtrue")
    eq(len(doc["entities"]), 0, "no pet updated")
    # Management routes and /status take the same parser.
    for path in ("/management/orgs/test-org/apps?limit=abc", "/status?limit=-1"):
        st, doc, _, _ = s.request("GET", path, headers=SU)
        refused(st, doc, path, "limit")
    # An empty limit is an absent one: DELETE without a limit stays 405,
    # GET lists the default page; a valid one works as before.
    st, doc = s.app("DELETE", "/pets?limit=")
    eq(st, 405, "empty limit on DELETE")
    st, doc = s.app("GET", "/pets?limit=")
    eq(len(doc["entities"]), 10, "empty limit on GET")
    for big in ("5000", "18446744073709551615"):
        st, doc = s.app("GET", "/pets?limit=" + big)
        eq(len(doc["entities"]), 30, "large limit clamped")
    st, doc = s.app("DELETE", "/pets?limit=3")
    eq((st, len(doc["entities"])), (200, 3), "valid limit deletes")
    eq(count(s, "/pets"), 27, "three deleted")


def test_bad_numeric_options_refused_at_start():
    """The command line takes the same parser: `--port abc` is a usage error,
    not a server on a random port."""
    data = tempfile.mkdtemp(prefix="ugstore-test-")
    try:
        for opt, v in (("--port", "abc"), ("--port", "70000"), ("--port", "-1"),
                       ("--threads", "4x"), ("--max-body", "1k"), ("--map-size", "1.5")):
            args = [BIN, "serve", "--data", data, "--quiet", opt, v]
            if opt != "--port":
                args += ["--port", "0"]
            p = subprocess.run(args, capture_output=True, text=True, timeout=5)
            eq(p.returncode, 2, "%s %s" % (opt, v))
            check(opt in p.stderr, p.stderr)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def test_bad_cursor_is_400_on_every_method():
    s = srv()
    s.app("POST", "/cursed", {"name": "c1"})
    s.app("POST", "/users", {"username": "cur-owner"})
    for path in ("/cursed", "/users/cur-owner/likes", "/users/cur-owner/groups"):
        for method in ("GET", "PUT", "DELETE"):
            for c in ("abc", "!!", "AQ", "%00"):
                body = {"touched": True} if method == "PUT" else None
                st, doc = s.app(method, "%s?cursor=%s&ql=select%%20*" % (path, c), body)
                if c == "%00":
                    eq(st, 400, "NUL in a cursor")
                    continue
                refused(st, doc, "%s %s cursor=%s" % (method, path, c), "cursor")
    eq(count(s, "/cursed"), 1, "nothing deleted")
    # A real cursor still pages.
    for i in range(3):
        s.app("POST", "/cursed", {"name": "more%d" % i})
    st, doc = s.app("GET", "/cursed?limit=2")
    st, doc = s.app("GET", "/cursed?limit=2&cursor=" + doc["cursor"])
    eq((st, len(doc["entities"])), (200, 2), "second page")


# ---- names that become paths ------------------------------------------------

def test_dot_names_refused():
    s = srv()
    for name in (".", ".."):
        st, doc, _, _ = s.request("POST", "/management/orgs", headers=SU, body={
            "organization": name, "username": "dots%d" % len(name),
            "email": "dots%d@example.com" % len(name), "password": "secret123"})
        refused(st, doc, "org %r" % name)
        st, doc, _, _ = s.request("POST", "/management/orgs/test-org/apps",
                                  {"name": name}, headers=SU)
        refused(st, doc, "app %r" % name)
        for coll, prop in (("/things", "name"), ("/users", "username"), ("/roles", "name")):
            st, doc = s.app("POST", coll, {prop: name})
            refused(st, doc, "%s %s %r" % (coll, prop, name), prop)
    s.app("POST", "/things", {"name": "plain"})
    for name in (".", ".."):
        st, doc = s.app("PUT", "/things/plain", {"name": name})
        refused(st, doc, "rename to %r" % name)
    st, doc = s.app("GET", "/things/plain")
    eq(st, 200, "unchanged name")


def test_group_path_segments():
    s = srv()
    for p in ("../x", "a//b", "./a", "a/./b", "a/", "a/../b", "..", ".", "//a", "a/.."):
        st, doc = s.app("POST", "/groups", {"path": p})
        refused(st, doc, "group path %r" % p, "'.'")
    # A leading slash is dropped (spec section 9): /lead is lead.
    st, doc = s.app("POST", "/groups", {"path": "/lead"})
    eq((st, doc["entities"][0]["path"]), (200, "lead"), "leading slash")
    st, doc = s.app("GET", "/groups/lead")
    eq(st, 200, "reachable without the slash")
    st, doc = s.app("POST", "/groups", {"path": "lead"})
    eq((st, doc["error"]), (400, "duplicate_unique_property_exists"), "same group")
    s.app("POST", "/groups", {"path": "ok/sub"})
    for p in ("ok//sub2", "../ok", "ok/."):
        st, doc = s.app("PUT", "/groups/ok/sub", {"path": p})
        refused(st, doc, "PUT path %r" % p)
    st, doc = s.app("GET", "/groups/ok/sub")
    eq((st, doc["entities"][0]["path"]), (200, "ok/sub"), "path unchanged")
    st, doc = s.app("PUT", "/groups/ok/sub", {"path": "/ok/sub3"})
    eq((st, doc["entities"][0]["path"]), (200, "ok/sub3"), "PUT drops the leading slash")
    st, doc = s.app("GET", "/groups/ok/sub3")
    eq(st, 200, "reachable at its new path")


# ---- raw NUL in the target --------------------------------------------------

def raw_request(s, data):
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    try:
        c.sendall(data)
        buf = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            buf += chunk
    finally:
        c.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body) if body else None


def test_raw_nul_in_target():
    s = srv()
    s.app("POST", "/things", {"name": "base1"})
    for target in (b"/things/base1\x00junk", b"/things/base1?limit=1\x00junk",
                   b"/things\x00/base1"):
        st, doc = raw_request(s, b"GET " + APP.encode() + target +
                              b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        refused(st, doc, "GET %r" % target, "NUL")
    before = count(s, "/things")
    body = b'{"name":"nul-made"}'
    st, doc = raw_request(s, b"POST " + APP.encode() + b"/things\x00junk HTTP/1.1\r\n"
                          b"Host: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(body) + body)
    refused(st, doc, "POST with a NUL", "NUL")
    eq(count(s, "/things"), before, "nothing created")
    # The same request without the NUL works, and %00 is refused as before.
    st, doc = raw_request(s, b"GET " + APP.encode() + b"/things/base1 HTTP/1.1\r\n"
                          b"Host: x\r\nConnection: close\r\n\r\n")
    eq(st, 200, "clean target")
    st, doc = s.app("GET", "/things/base1%00junk")
    eq(st, 400, "%00")


# ---- dotted property names --------------------------------------------------

def test_dotted_property_names_refused():
    s = srv()
    for body in ({"a.b": 3}, {"x": {"a.b": 3}}, {"x": [{"a.b": 3}]}, {".": 1}):
        st, doc = s.app("POST", "/dotted", body)
        refused(st, doc, "POST %r" % body, "'.'")
    s.app("POST", "/dotted", {"name": "d1", "a": {"b": 3}})
    st, doc = s.app("PUT", "/dotted/d1", {"c.d": 1})
    refused(st, doc, "PUT with a dotted name", "'.'")
    # The nested path is how such a value is stored and queried.
    st, doc = s.app("GET", "/dotted?ql=a.b%3D3")
    eq([e["name"] for e in doc["entities"]], ["d1"], "nested path query")
    # In a batch the bad item fails alone.
    st, doc = s.app("POST", "/dotted", [{"name": "d2"}, {"e.f": 1}, {"name": "d3"}])
    eq((st, len(doc["entities"]), [x["index"] for x in doc["errors"]]), (200, 2, [1]),
       "batch with one dotted item")
