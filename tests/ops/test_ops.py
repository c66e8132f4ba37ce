"""Operations: format versions and `ugstore upgrade`, backup and restore
(hot, under write load; POST /management/backup), `ugstore check` and
`--repair` against copies corrupted on purpose."""
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time

from harness import BIN, SU, Server, basic_auth as basic, check, eq
from lmdbdump import Dump

FORMAT_KEY = b"schema"
FORMAT = 6             # core/store.h STORE_FORMAT


@contextlib.contextmanager
def _workdir(prefix):
    """A temporary directory, removed afterwards."""
    work = tempfile.mkdtemp(prefix=prefix)
    try:
        yield work
    finally:
        shutil.rmtree(work)


def ugstore(*args):
    """Runs one ugstore subcommand; returns (exit status, stdout, stderr)."""
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=120)
    check("Sanitizer" not in p.stderr and "runtime error:" not in p.stderr,
          "ugstore %s: %s" % (" ".join(args), p.stderr[-4000:]))
    return p.returncode, p.stdout, p.stderr


def _seeded_store(work):
    """A stopped store with a user in test-org/test-app, in work/s."""
    with Server(data=work + "/s") as s:
        st, doc = s.app("POST", "/users", {"username": "ann", "email": "ann@x.test"})
        eq(st, 200, "create ann")
    return s.data


def _with_format(data, value, dest):
    """A copy of data in dest whose recorded format is value (None: no
    record)."""
    d = Dump(data)
    meta = d.db("meta")
    meta[:] = [kv for kv in meta if kv[0] != FORMAT_KEY]
    if value is not None:
        meta.append([FORMAT_KEY, value])
    d.write(dest)
    return dest


def _serve_refused(data):
    """Starts serve on data, which must refuse; returns its stderr."""
    p = subprocess.run([BIN, "serve", "--port", "0", "--data", data, "--quiet"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode != 0, "serve started on %s" % data)
    return p.stderr


def test_new_store_records_its_format():
    with _workdir("ugstore-fmt-") as work:
        data = _seeded_store(work)
        eq(dict(map(tuple, Dump(data).db("meta"))).get(FORMAT_KEY), b"%d" % FORMAT, "format")
        rc, out, _ = ugstore("upgrade", "--data", data)
        eq(rc, 0, "upgrade at format %d" % FORMAT)
        check("nothing to do" in out, out)


def test_upgrade_a_store_that_records_no_format():
    with _workdir("ugstore-fmt-") as work:
        old = _with_format(_seeded_store(work), None, work + "/old")
        err = _serve_refused(old)
        check("ugstore upgrade --data %s" % old in err, err)
        rc, out, _ = ugstore("upgrade", "--data", old, "--dry-run")
        eq(rc, 0, "dry run")
        check("would upgrade format 0 -> 1" in out and "would upgrade format 1 -> 2" in out, out)
        check("ugstore upgrade" in _serve_refused(old), "a dry run changed nothing")
        rc, out, _ = ugstore("upgrade", "--data", old)
        eq(rc, 0, "upgrade")
        check("upgrading format 0 -> 1" in out and "upgrading format 1 -> 2" in out and
              "upgrading format 2 -> 3" in out and "upgrading format 3 -> 4" in out and
              "upgrading format 4 -> 5" in out and "upgrading format 5 -> 6" in out and
              "now at format %d" % FORMAT in out, out)
        with Server(data=old) as s:
            st, doc = s.app("GET", "/users/ann")
            eq(st, 200, "ann after the upgrade")
        rc, out, _ = ugstore("upgrade", "--data", old)
        check(rc == 0 and "nothing to do" in out, out)


def test_upgrade_format_1_adds_counters_and_assets():
    """Format 2 adds the counters and assets databases: a format 1 store
    is refused until upgraded, then counts events and keeps binary data."""
    with _workdir("ugstore-fmt-") as work:
        old = _with_format(_seeded_store(work), b"1", work + "/v1")
        check("older than this ugstore's (%d)" % FORMAT in _serve_refused(old), "format 1 refused")
        rc, out, _ = ugstore("upgrade", "--data", old)
        check(rc == 0 and "upgrading format 1 -> 2" in out and "0 -> 1" not in out, out)
        with Server(data=old) as s:
            eq(s.app("POST", "/events", {"counters": {"c": 2}})[0], 200, "event")
            st, doc = s.app("GET", "/counters?counter=c")
            eq(doc["counters"][0]["values"][0]["value"], 2, "counted")
            st, _, _, _ = s.request("PUT", "/test-org/test-app/users/ann", raw=b"bytes",
                                    headers={"Content-Type": "application/octet-stream"})
            eq(st, 200, "data on ann")


def test_upgrade_gives_old_default_roles_their_permissions():
    """Format 2 stores made roles without permissions: the upgrade to 3
    gives them Usergrid's, so signed-in users are not locked out."""
    with _workdir("ugstore-fmt-") as work:
        data = _seeded_store(work)
        d = Dump(data)
        d.db("dicts")[:] = []                 # every role without permissions
        d.db("meta")[:] = [kv for kv in d.db("meta") if kv[0] != FORMAT_KEY] + \
            [[FORMAT_KEY, b"2"]]
        d.write(work + "/old")
        check("ugstore upgrade" in _serve_refused(work + "/old"), "format 2 is refused")
        rc, out, _ = ugstore("upgrade", "--data", work + "/old")
        check(rc == 0 and "upgrading format 2 -> 3" in out, out)
        with Server(data=work + "/old") as s:
            st, doc = s.app("GET", "/roles/guest/permissions", headers=SU)
            eq(doc["data"], ["post:/devices", "post:/users", "put:/devices/*"], "guest")
            st, doc = s.app("GET", "/roles/default/permissions", headers=SU)
            eq(doc["data"], ["get,put,post,delete:/**"], "default")
            eq(s.app("POST", "/users", {"username": "newbie", "password": "n3wbie-pw"})[0],
               200, "guest may sign up")
            eq(s.app("GET", "/users")[0], 401, "the app is closed now: no blanket grant")


def test_upgrade_to_6_opens_membership_intervals():
    """Format 6 keeps an interval per group membership, which a group post
    shared (not copied) reaches members through: the upgrade opens one for
    every membership a format 5 store holds, at the time it began."""
    with _workdir("ugstore-fmt-") as work:
        with Server(data=work + "/s") as s:
            for method, path, body in (("POST", "/users", {"username": "ann"}),
                                       ("POST", "/users", {"username": "bob"}),
                                       ("POST", "/groups", {"path": "big"}),
                                       ("POST", "/groups/big/users/ann", None),
                                       ("POST", "/users/bob/groups/big", None),
                                       ("POST", "/groups/big/activities", {"content": "before", "verb": "post", "actor": {}})):
                eq(s.app(method, path, body)[0], 200, path)
        d = Dump(work + "/s")
        d.db("feeds")[:] = []
        d.db("meta")[:] = [kv for kv in d.db("meta") if kv[0] != FORMAT_KEY] + [[FORMAT_KEY, b"5"]]
        d.write(work + "/old")
        check("ugstore upgrade" in _serve_refused(work + "/old"), "format 5 is refused")
        rc, out, _ = ugstore("upgrade", "--data", work + "/old")
        check(rc == 0 and "upgrading format 5 -> 6" in out and "4 -> 5" not in out, out)
        with Server(data=work + "/old", bootstrap=None, args=("--feed-copy-max", "0")) as s:
            eq(s.app("POST", "/groups/big/activities", {"content": "shared", "verb": "post",
                                                      "actor": {}})[0], 200, "post")
            for u in ("ann", "bob"):
                eq([e["content"] for e in s.app("GET", "/users/%s/feed" % u)[1]["entities"]],
                   ["shared", "before"], u + "'s feed")


def test_newer_format_is_refused():
    with _workdir("ugstore-fmt-") as work:
        new = _with_format(_seeded_store(work), b"%d" % (FORMAT + 1), work + "/new")
        err = _serve_refused(new)
        check("holds format %d, newer" % (FORMAT + 1) in err and "use a newer ugstore" in err,
              err)
        rc, _, err = ugstore("upgrade", "--data", new)
        check(rc == 1 and "newer" in err, err)


def test_upgrade_usage():
    rc, _, err = ugstore("upgrade")
    check(rc == 2 and "usage" in err, err)
    with _workdir("ugstore-empty-") as empty:
        rc, _, err = ugstore("upgrade", "--data", empty)
        check(rc == 1 and "holds no ugstore data" in err, err)


def _writers(server, n, acked, stop):
    """n threads creating users until stop is set; acked gets (uuid, name)
    of every create answered 200, in the order the answers came."""
    import threading

    def run(w):
        i = 0
        while not stop.is_set():
            i += 1
            name = "w%d-%d" % (w, i)
            st, doc = server.app("POST", "/users", {"username": name, "n": i})
            if st == 200:
                acked.append((doc["entities"][0]["uuid"], name))
    threads = [threading.Thread(target=run, args=(w,)) for w in range(n)]
    for t in threads:
        t.start()
    return threads


def _all_there(server, acked):
    for uuid, name in acked:
        st, doc = server.app("GET", "/users/" + uuid)
        eq(st, 200, "user %s in the restored store" % name)
        eq(doc["entities"][0]["username"], name, "username")
        st, _ = server.app("GET", "/users/" + name)
        eq(st, 200, "user %s by its unique name" % name)


def test_hot_backup_under_write_load_and_restore():
    import threading
    import time
    work = tempfile.mkdtemp(prefix="ugstore-backup-")
    acked, stop = [], threading.Event()
    s = Server()
    try:
        threads = _writers(s, 4, acked, stop)
        while len(acked) < 200:
            time.sleep(0.01)
        before = list(acked)        # acknowledged before the backup began
        rc, out, err = ugstore("backup", "--data", s.data, "--to", work + "/b.mdb")
        eq(rc, 0, "backup: " + err)
        check("backed up" in out, out)
        time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join()
        check(len(acked) > len(before), "writes went on during the backup")
        check(not os.path.exists(work + "/b.mdb.tmp"), "no temporary file left")
        rc, out, err = ugstore("restore", "--from", work + "/b.mdb", "--data", work + "/r")
        eq(rc, 0, "restore: " + err)
        with Server(data=work + "/r") as r:
            _all_there(r, before)
    finally:
        stop.set()
        s.close()
        shutil.rmtree(work)


def test_restore_refuses_a_used_directory():
    with _workdir("ugstore-restore-") as work, Server() as s:
        st, _ = s.app("POST", "/users", {"username": "bob"})
        eq(st, 200, "create bob")
        rc, _, err = ugstore("backup", "--data", s.data, "--to", work + "/b.mdb")
        eq(rc, 0, "backup: " + err)
        st, _ = s.app("POST", "/users", {"username": "carl"})
        eq(st, 200, "create carl")
        # a non-empty directory needs --force; a store in use is refused even then
        rc, _, err = ugstore("restore", "--from", work + "/b.mdb", "--data", s.data)
        check(rc == 1 and "not empty" in err and "--force" in err, err)
        rc, _, err = ugstore("restore", "--from", work + "/b.mdb", "--data", s.data, "--force")
        check(rc == 1 and "stop it first" in err, err)
        s.stop()
        rc, _, err = ugstore("restore", "--from", work + "/b.mdb", "--data", s.data, "--force")
        eq(rc, 0, "restore --force: " + err)
        s.start()
        eq(s.app("GET", "/users/bob")[0], 200, "bob, from the backup")
        eq(s.app("GET", "/users/carl")[0], 404, "carl came after the backup")
        # not a backup at all
        with open(work + "/junk", "wb") as f:
            f.write(b"not a store" * 1000)
        rc, _, err = ugstore("restore", "--from", work + "/junk", "--data", work + "/x")
        check(rc == 1 and "not a ugstore backup" in err, err)
        check(not os.path.exists(work + "/x/data.mdb"), "nothing restored from junk")
        rc, _, err = ugstore("backup", "--data", work + "/nothing", "--to", work + "/n.mdb")
        check(rc == 1 and "holds no ugstore data" in err, err)


def test_management_backup():
    from harness import SU
    with _workdir("ugstore-mbackup-") as work:
        with Server(args=["--backup-dir", work]) as s:
            eq(s.app("POST", "/users", {"username": "dora"})[0], 200, "create dora")
            st, doc, _, _ = s.request("POST", "/management/backup")
            eq(st, 401, "backup without the superuser")
            st, doc, _, _ = s.request("POST", "/management/backup", headers=SU)
            eq(st, 200, "backup: %r" % doc)
            name, size = doc["data"]["file"], doc["data"]["size"]
            eq(os.path.getsize(os.path.join(work, name)), size, "the answered size")
            eq(s.request("GET", "/management/backup", headers=SU)[0], 405, "GET")
        rc, _, err = ugstore("restore", "--from", os.path.join(work, name), "--data", work + "/r")
        eq(rc, 0, "restore: " + err)
        with Server(data=work + "/r") as r:
            eq(r.app("GET", "/users/dora")[0], 200, "dora in the restored store")
        with Server() as s:
            st, doc, _, _ = s.request("POST", "/management/backup", headers=SU)
            check(st == 400 and "--backup-dir" in doc["error_description"], repr(doc))
        p = subprocess.run([BIN, "serve", "--port", "0", "--data", work + "/d", "--backup-dir",
                            work + "/none"], capture_output=True, text=True, timeout=30)
        check(p.returncode == 2 and "--backup-dir" in p.stderr, p.stderr)


# ---- POST /{org}/{app}/_import ----------------------------------------------------

NDJSON = {"Content-Type": "application/x-ndjson"}


def _import(s, app, data, headers=SU):
    """POSTs NDJSON (bytes) to app/_import; returns (status, doc)."""
    st, doc, _, _ = s.request("POST", app + "/_import", raw=data, headers=dict(headers, **NDJSON))
    return st, doc


def _new_app(s, name, org="test-org"):
    st, doc, _, _ = s.request("POST", "/management/orgs/%s/apps" % org, {"name": name},
                              headers=SU)
    eq(st, 200, "app %s/%s: %r" % (org, name, doc))
    return "/%s/%s" % (org, name)


def _export(data, app, path):
    rc, _, err = ugstore("export", "--data", data, "--app", app, "--to", path)
    eq(rc, 0, "export %s: %s" % (app, err))
    return _records(path)


def _lines(records):
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def test_http_import_round_trip_into_a_fresh_app():
    with _workdir("ugstore-http-import-") as work, Server() as s:
        _seed_export(s)
        recs = _export(s.data, "test-org/test-app", work + "/a.ndjson")
        with open(work + "/a.ndjson", "rb") as f:
            body = f.read()
        copy = _new_app(s, "copy")
        st, doc = _import(s, copy, body)
        eq(st, 200, "import: %r" % doc)
        data = doc["data"]
        by_kind = {}
        for r in recs:
            by_kind[r["record"]] = by_kind.get(r["record"], 0) + 1
        eq((data["lines"], data["records"], data["failed"], data["errors"]),
           (len(recs), len(recs), 0, []), "every line imported")
        eq({k: data[k] for k in ("applications", "settings", "entities", "edges", "dictionaries",
                                 "credentials", "assets", "counters")},
           {"applications": 1, "settings": by_kind["settings"], "entities": by_kind["entity"],
            "edges": by_kind["edge"], "dictionaries": by_kind["dictionary"],
            "credentials": by_kind["credential"], "assets": by_kind["asset"],
            "counters": by_kind["counter"]}, "counts by kind")
        eq(data["replaced"], 3, "the new app's default roles gave way to the file's")
        # entity by entity, edge by edge: the copy exports the same records
        again = _export(s.data, "test-org/copy", work + "/b.ndjson")
        eq(again[1:], recs[1:], "the copy's records")
        eq((again[0]["application"]["motto"], again[0]["application"]["name"]),
           ("exported", "test-org/copy"), "the app's own properties, in the copy's name")
        # idempotent
        st, doc = _import(s, copy, body)
        eq((st, doc["data"]["changed"], doc["data"]["replaced"]), (200, 0, 0), "a second import")
        eq(_export(s.data, "test-org/copy", work + "/c.ndjson"), again, "changes nothing")
        # and it serves: relations, indexes, data, settings
        st, doc, _, _ = s.request("GET", copy + "/users/ann/likes", headers=SU)
        eq(sorted(e.get("name", e.get("username")) for e in doc["entities"]), ["bob", "pizza"],
           "ann's likes in the copy")
        st, doc, _, _ = s.request("GET", copy + "/restaurants?ql=location%20within%2010%20of%20"
                                  "48.1,11.5", headers=SU)
        eq([e["name"] for e in doc["entities"]], ["pizza"], "geo index in the copy")
        st, _, _, got = s.request("GET", copy + "/restaurants/pizza",
                                  headers=dict(SU, Accept="application/octet-stream"))
        eq((st, got), (200, PHOTO), "binary data in the copy")
        st, doc, _, _ = s.request("POST", copy + "/restaurants", {"name": "pasta", "code": "p1"},
                                  headers=SU)
        eq((st, doc["error"]), (400, "duplicate_unique_property_exists"), "unique in the copy")
        st, doc = post_grant(s, copy, "bob", "secret-pw")
        eq(st, 200, "bob's password came with him")


def post_grant(s, app, username, password):
    st, doc, _, _ = s.request("POST", app + "/token", {"grant_type": "password",
                                                       "username": username,
                                                       "password": password})
    return st, doc


def test_http_import_writes_into_its_application_only():
    with _workdir("ugstore-http-import-") as work, Server() as s:
        _seed_relations(s)
        other = _new_app(s, "other")
        eq(s.request("POST", other + "/users", {"username": "zed"}, headers=SU)[0], 200, "zed")
        mine = _export(s.data, "test-org/test-app", work + "/a.ndjson")
        theirs = _export(s.data, "test-org/other", work + "/o.ndjson")
        # the file names another org and app: where it came from, not where it goes
        head = dict(mine[0], application=dict(mine[0]["application"],
                                              organizationName="elsewhere",
                                              applicationName="nowhere",
                                              name="elsewhere/nowhere"))
        late = {"record": "entity", "time": 5, "entity": {
            "uuid": "0badc0de-0000-4000-8000-000000000001", "type": "note", "name": "late",
            "created": 1, "modified": 1}}
        records = [head] + mine[1:] + theirs + [mine[0], late]
        target = _new_app(s, "target")
        st, doc = _import(s, target, _lines(records))
        eq(st, 200, "import: %r" % doc)
        data = doc["data"]
        first_foreign = len(mine) + 1
        eq(data["failed"], len(theirs), "every record of the other application refused")
        eq([e["line"] for e in data["errors"]],
           list(range(first_foreign, first_foreign + len(theirs))), "by line")
        check(all("this import writes into test-org/target only" in e["error"]
                  for e in data["errors"]), data["errors"][:2])
        eq(data["records"], len(mine) + 2, "the rest imported, back in its own application")
        eq(s.request("GET", target + "/users/zed", headers=SU)[0], 404, "no zed in target")
        eq(s.request("GET", target + "/notes/late", headers=SU)[0], 200, "the late note")
        eq(s.request("GET", "/management/orgs/elsewhere", headers=SU)[0], 404,
           "no organization made")
        eq(_export(s.data, "test-org/test-app", work + "/a2.ndjson"), mine, "test-app untouched")
        eq(_export(s.data, "test-org/other", work + "/o2.ndjson"), theirs, "other untouched")


def test_http_import_of_nothing():
    """An empty body imports nothing and says so (and a body of blank lines)."""
    with Server() as s:
        app = _new_app(s, "empty")
        for body in (b"", b"\n\n"):
            st, doc = _import(s, app, body)
            eq((st, doc["data"]["entities"]), (200, 0), "import of %r" % body)
            eq(s.request("GET", app + "/things", headers=SU)[0], 200, "the app after it")


def test_http_import_reports_bad_lines():
    with Server() as s:
        app = _new_app(s, "bad")
        st, doc, _, _ = s.request("GET", app, headers=SU)
        good = lambda n: {"record": "entity", "time": 10 + n, "entity": {
            "uuid": "00000000-0000-4000-8000-%012d" % n, "type": "thing", "name": "t%d" % n,
            "created": 1, "modified": 1}}
        deep = {"record": "entity", "time": 3, "entity": {"uuid": "00000000-0000-4000-8000-"
                                                          "00000000009f", "type": "thing"}}
        node = deep["entity"]
        for _ in range(40):
            node["x"] = {}
            node = node["x"]
        lines = [json.dumps({"record": "application", "application": {
                     "uuid": "0badc0de-0000-4000-8000-0000000000aa", "name": "a/b"}}),  # 1
                 "not json at all",                                                       # 2
                 "",                                                                      # 3
                 "[1, 2]",                                                                # 4
                 json.dumps({"record": "bogus"}),                                         # 5
                 json.dumps({"record": "entity", "time": 1, "entity": {"type": "thing"}}),  # 6
                 json.dumps(good(1)),                                                     # 7
                 json.dumps({"record": "edge", "owner": good(1)["entity"]["uuid"],
                             "kind": "connection", "name": "likes", "time": 9,
                             "target": "00000000-0000-4000-8000-0000000000ff"}),          # 8
                 json.dumps(deep),                                                        # 9
                 json.dumps(dict(good(5), entity=dict(good(5)["entity"], **{"a.b": 1}))),  # 10
                 json.dumps(good(2)) + "\r"]                                              # 11
        st, doc = _import(s, app, "\n".join(lines).encode())        # no newline at the end
        eq(st, 200, "import: %r" % doc)
        data = doc["data"]
        eq({e["line"] for e in data["errors"]}, {2, 4, 5, 6, 8, 9, 10}, "bad lines by number: %r"
           % data["errors"])
        eq((data["lines"], data["failed"], data["entities"], data["records"]), (11, 7, 2, 3),
           "the others imported")
        why = {e["line"]: e["error"] for e in data["errors"]}
        check(why[2].startswith("not JSON"), why[2])
        check("not a record of an export" in why[5], why[5])
        check("uuid" in why[6], why[6])
        check("does not hold" in why[8], why[8])
        check("nests deeper" in why[9], why[9])
        for n in (1, 2):
            eq(s.request("GET", app + "/things/t%d" % n, headers=SU)[0], 200, "t%d" % n)
        eq(s.request("GET", app + "/things/t5", headers=SU)[0], 404, "the bad entity")


def test_http_import_refuses_bad_feed_records():
    """A shared post or a membership interval that is malformed, or whose
    activity or user the file does not hold, is refused line by line."""
    with Server() as s:
        app = _new_app(s, "badfeed")
        u = "00000000-0000-4000-8000-000000000001"
        g = "00000000-0000-4000-8000-000000000002"
        ghost = "00000000-0000-4000-8000-0000000000ff"
        shared = lambda **kw: json.dumps(dict({"record": "shared", "group": g, "activity": u,
                                               "time": 7}, **kw))
        span = lambda **kw: json.dumps(dict({"record": "interval", "user": u, "group": g,
                                             "join": 5}, **kw))
        lines = [json.dumps({"record": "application", "application": {
                     "uuid": "0badc0de-0000-4000-8000-0000000000ab", "name": "a/b"}}),  # 1
                 json.dumps({"record": "entity", "time": 3, "entity": {
                     "uuid": u, "type": "thing", "name": "t", "created": 1,
                     "modified": 1}}),                                                  # 2
                 shared(leave=9),                                                       # 3
                 span(leave=5),                                                         # 4
                 span(join=0),                                                          # 5
                 shared(group=None),                                                    # 6
                 span(user=ghost),                                                      # 7
                 shared(activity=ghost),                                                # 8
                 span(leave=9),                                                         # 9
                 shared()]                                                              # 10
        st, doc = _import(s, app, "\n".join(lines).encode())
        eq(st, 200, "import: %r" % doc)
        data = doc["data"]
        why = {e["line"]: e["error"] for e in data["errors"]}
        eq(sorted(why), [3, 4, 5, 6, 7, 8], "bad lines by number: %r" % data["errors"])
        for n, kind in ((3, "shared"), (4, "interval"), (5, "interval"), (6, "shared")):
            check("a malformed %s record" % kind in why[n], why[n])
        check("interval of an entity the file does not hold" in why[7], why[7])
        check("shared post of an entity the file does not hold" in why[8], why[8])
        eq((data["shared posts"], data["intervals"], data["failed"]), (1, 1, 6), "the others")


def test_http_import_needs_an_admin():
    with Server() as s:
        line = _lines([{"record": "application", "application": {
            "uuid": "0badc0de-0000-4000-8000-0000000000bb", "name": "x/y"}}])
        for org, owner in (("acme", "ann-admin"), ("beta", "cat-admin")):
            st, doc, _, _ = s.request("POST", "/management/orgs",
                                      {"organization": org, "username": owner,
                                       "email": owner + "@x.org", "password": "pw-" + owner},
                                      headers=SU)
            eq(st, 200, "org %s" % org)
        shop = _new_app(s, "shop", org="acme")

        def token(path, body):
            st, doc, _, _ = s.request("POST", path, body)
            eq(st, 200, "token %r" % doc)
            return {"Authorization": "Bearer " + doc["access_token"]}

        def creds(path):
            st, doc, _, _ = s.request("GET", path + "/credentials", headers=SU)
            c = doc["credentials"]
            return basic(c["client_id"], c["client_secret"])

        eq(s.request("POST", shop + "/users", {"username": "u1", "password": "pw-u1-pw"},
                     headers=SU)[0], 200, "user")
        eq(s.request("POST", shop + "/roles/default/permissions",
                     {"permission": "get,put,post,delete:/**"}, headers=SU)[0], 200, "grant")
        who = {
            "anonymous": ({}, 401),
            "an app user allowed everything": (token(shop + "/token", {
                "grant_type": "password", "username": "u1", "password": "pw-u1-pw"}), 401),
            "another org's admin": (token("/management/token", {
                "grant_type": "password", "username": "cat-admin", "password": "pw-cat-admin"}),
                401),
            "another app's credentials": (creds("/acme/sandbox"), 401),
            "another org's credentials": (creds("/management/orgs/beta"), 401),
            "the org's admin": (token("/management/token", {
                "grant_type": "password", "username": "ann-admin", "password": "pw-ann-admin"}),
                200),
            "the app's credentials": (creds(shop), 200),
            "the org's credentials": (creds("/management/orgs/acme"), 200),
            "the superuser": (SU, 200),
        }
        for name, (hdrs, want) in who.items():
            st, doc = _import(s, shop, line, headers=hdrs)
            eq(st, want, "%s: %r" % (name, doc))
            if want == 401:
                eq(doc["error"], "unauthorized", name)
        # an open application lets anyone write, but not import
        st, doc = _import(s, "/test-org/test-app", line, headers={})
        eq((st, doc["error"]), (401, "unauthorized"), "anonymous on an open app")
        st, doc, _, _ = s.request("GET", "/test-org/test-app/_import")
        eq((st, doc["error"]), (400, "illegal_argument"), "GET: no collection has that name")


@contextlib.contextmanager
def _asan_reuses_memory():
    """Under AddressSanitizer freed memory waits in a quarantine (256 MiB)
    before it is reused, which would make any server's peak grow with what
    it allocates: a server started here reuses it at once (nothing changes
    for a build without the sanitizer)."""
    before = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = ((before + ":") if before else "") + \
        "quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
    try:
        yield
    finally:
        if before is None:
            del os.environ["ASAN_OPTIONS"]
        else:
            os.environ["ASAN_OPTIONS"] = before


def test_http_import_streams_a_body_past_the_limits():
    """An import is not held whole: it passes --max-body, keeps the server's
    memory flat whatever its size, skips an over-long line, and stops at
    --max-import."""
    with _asan_reuses_memory():
        s = Server(args=["--max-body", "1000", "--max-asset", "3000",
                         "--max-import", str(80 << 20)])
    with s:
        app = _new_app(s, "big")
        thing = lambda n: json.dumps({"record": "entity", "time": 10 + n, "entity": {
            "uuid": "00000000-0000-4000-8000-%012d" % n, "type": "thing", "name": "t%d" % n,
            "created": 1, "modified": 1}})
        body = "\n".join([thing(1), "x" * 10000, thing(2)] + [thing(n) for n in range(3, 60)])
        check(len(body) > 1000, "past --max-body")
        st, doc = _import(s, app, body.encode())
        eq(st, 200, "import: %r" % doc)
        eq((doc["data"]["entities"], doc["data"]["failed"]), (59, 1), "59 things, one bad line")
        eq(doc["data"]["errors"], [{"line": 2, "error": "the line is longer than 5004 bytes"}],
           "the over-long line (4/3 of --max-asset and --max-body)")

        def hwm():
            with open("/proc/%d/status" % s.proc.pid) as f:
                return int([l for l in f if l.startswith("VmHWM")][0].split()[1]) << 10
        junk = (json.dumps({"record": "nope", "pad": "x" * 1000}) + "\n").encode()
        n = (40 << 20) // len(junk)
        before = hwm()
        st, doc = _import(s, app, junk * n)
        eq((st, doc["data"]["failed"], len(doc["data"]["errors"])), (200, n, 100),
           "40 MiB of refused lines, the first 100 listed")
        check(hwm() - before < 16 << 20, "the server's peak memory grew by %d bytes"
              % (hwm() - before))
        # a declared length past --max-import: refused before it is read
        st, hdrs, raw = s.raw(("POST %s/_import HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                               "Authorization: %s\r\n\r\n" % (app, (80 << 20) + 1,
                                                               SU["Authorization"])).encode())
        eq((st, json.loads(raw)["error"]), (413, "request_entity_too_large"), "--max-import")


def test_http_import_lets_other_writers_in():
    """An import writes in bounded transactions: writes from other
    connections are acknowledged all along.  With one transaction for all
    its records a write sent during it would wait for its end: the longest
    wait between the import's start, each acknowledgement during it and its
    end would be most of the import.  Measured against the import's own
    duration, so a slow machine slows both."""
    import threading
    import time
    with Server() as s:
        app = _new_app(s, "bulk")
        body = _lines([{"record": "entity", "time": 10 + n, "entity": {
            "uuid": "00000000-0000-4000-8000-%012d" % n, "type": "thing", "name": "t%d" % n,
            "created": 1, "modified": 1, "text": "lorem ipsum dolor sit amet " * 4}}
            for n in range(16000)])
        result, acked = {}, []

        def run():
            result["reply"] = _import(s, app, body)
            result["at"] = time.monotonic()
        t = threading.Thread(target=run)
        start = time.monotonic()
        t.start()
        while t.is_alive():
            st, _ = s.app("POST", "/notes", {"n": len(acked)})
            eq(st, 200, "a concurrent write")
            acked.append(time.monotonic())
        t.join()
        st, doc = result["reply"]
        eq((st, doc["data"]["entities"]), (200, 16000), "the import")
        marks = [start] + [a for a in acked if a < result["at"]] + [result["at"]]
        took, wait = result["at"] - start, max(b - a for a, b in zip(marks, marks[1:]))
        check(wait < took / 2, "a write waited %.2f s of the import's %.2f s (%d writes "
              "acknowledged during it)" % (wait, took, len(marks) - 2))


# ---- check and repair ---------------------------------------------------------

def _seed_relations(s):
    """Users, a group membership, a connection, a follow, an activity, a
    permission and a password; returns {name: uuid} with the app's too."""
    ids = {}
    st, doc, _, _ = s.request("GET", "/test-org/test-app")
    ids["app"] = doc["entities"][0]["uuid"]
    for body in ({"username": "ann", "email": "ann@x.test", "bio": "hello world",
                  "tags": ["a", "b"]},
                 {"username": "bob", "password": "secret-pw"}):
        st, doc = s.app("POST", "/users", body)
        eq(st, 200, "create %s" % body["username"])
        ids[body["username"]] = doc["entities"][0]["uuid"]
    for method, path, body in (
            ("POST", "/groups", {"path": "g/h"}),
            ("POST", "/groups/g/h/users/ann", None),
            ("POST", "/users/ann/likes/users/bob", None),
            ("POST", "/users/ann/following/users/bob", None),
            ("POST", "/users/bob/activities", {"actor": {"displayName": "b"}, "verb": "post",
                                               "content": "hi"}),
            ("POST", "/roles/guest/permissions", {"permission": "get:/**"})):
        eq(s.app(method, path, body)[0], 200, path)
    eq(s.app("PUT", "/teams/_settings", {"unique": ["handle"]}, headers=SU)[0], 200, "settings")
    st, doc = s.app("POST", "/teams", {"name": "t1", "handle": "Blue"})
    ids["t1"] = doc["entities"][0]["uuid"]
    return ids


def _b(uuid):
    return bytes.fromhex(uuid.replace("-", ""))


def _count(n):
    return n.to_bytes(8, "big")


# Each case corrupts a dump (ids: uuids by name) and names the lines that
# `check` must print; `repairable` says whether --repair makes it clean.
def _drop_index_word(d, ids):
    ix = d.db("index")
    hit = [kv for kv in ix if b"\x00bio\x00\x50hello\x00" in kv[0]]
    eq(len(hit), 1, "ann's word entry")
    ix.remove(hit[0])
    return ["index: user %s lacks 1 of its" % ids["ann"]]


def _change_index_value(d, ids):
    ix = d.db("index")
    kv = [kv for kv in ix if b"\x00bio\x00\x30hello world\x00" in kv[0]][0]
    kv[0] = kv[0].replace(b"hello world", b"jello world")
    return ["index: user %s lacks 1 of its" % ids["ann"],
            "index: an entry of %s that it does not have" % ids["ann"]]


def _drop_edge_end(d, ids):
    tail = b"i" + b"likes\x00"
    for name in ("edges", "edge_at"):
        db = d.db(name)
        before = len(db)
        db[:] = [kv for kv in db if kv[0][16:32 + len(tail)] != _b(ids["bob"]) + tail]
        eq(len(db), before - 1, "the reverse end in " + name)
    return ["edges: %s -o likes-> %s has no reverse end" % (ids["ann"], ids["bob"])]


def _change_count(d, ids):
    key = _b(ids["app"]) + _b(ids["ann"]) + b"olikes"
    kv = [kv for kv in d.db("counts") if kv[0] == key][0]
    kv[1] = _count(5)
    return ["counts: %s -o likes counts 5 edges, has 1" % ids["ann"]]


def _dangling_unique(d, ids):
    d.db("unique").append([_b(ids["app"]) + b"user\x00username\x00ghost", b"\x42" * 16])
    return ['unique: user username "ghost" is claimed by 42424242-4242-4242-4242-424242424242, '
            'which does not exist']


def _unclaimed_unique(d, ids):
    u = d.db("unique")
    u.remove([_b(ids["app"]) + b"user\x00username\x00bob", _b(ids["bob"])])
    return ['unique: user %s: its username "bob" is not claimed' % ids["bob"]]


def _unclaimed_settings_unique(d, ids):
    d.db("unique").remove([_b(ids["app"]) + b"team\x00handle\x00blue", _b(ids["t1"])])
    return ['unique: team %s: its handle "Blue" is not claimed' % ids["t1"]]


def _orphan_secret(d, ids):
    d.db("secrets").append([_b(ids["app"]) + b"\x42" * 16 + b"password", b"$y$j9T$abc$def"])
    return ["secrets: an entry of 42424242-4242-4242-4242-424242424242, which does not exist"]


def _orphan_asset(d, ids):
    d.db("assets").append([_b(ids["app"]) + b"\x42" * 16, b"no entity holds these bytes"])
    return ["assets: an entry of 42424242-4242-4242-4242-424242424242, which does not exist"]


def _drop_entity(d, ids):
    ents = d.db("entities")
    ents[:] = [kv for kv in ents if kv[0] != _b(ids["app"]) + _b(ids["bob"])]
    return ['unique: user username "bob" is claimed by %s, which does not exist' % ids["bob"],
            "joins a missing entity",
            "index: an entry of %s, which does not exist" % ids["bob"],
            "secrets: an entry of %s, which does not exist" % ids["bob"]]


def _drop_root_edge(d, ids):
    app, ann = _b(ids["app"]), _b(ids["ann"])
    for name in ("edges", "edge_at"):
        db = d.db(name)
        before = len(db)
        db[:] = [kv for kv in db if not (kv[0].startswith(app + app + b"cusers\x00") and
                                         kv[0].endswith(ann)) and
                 not (kv[0].startswith(app + ann + b"musers\x00") and kv[0].endswith(app))]
        eq(len(db), before - 2, "both ends in " + name)
    return ["entities: user %s is in no collection" % ids["ann"],
            "counts: %s -c users counts 2 edges, has 1" % ids["app"]]


def _drop_org_name(d, ids):
    orgs = d.db("orgs")
    orgs[:] = [kv for kv in orgs if kv[0] != b"ntest-org"]
    org = [kv for kv in orgs if kv[0][:1] == b"u"][0][0][1:].hex()
    org = "-".join((org[:8], org[8:12], org[12:16], org[16:20], org[20:]))
    return ["organizations: %s is not found by its name" % org]


def _dangling_feeds(d, ids):
    app, ghost = _b(ids["app"]), b"\x42" * 16
    grp = [kv for kv in d.db("entities") if b'"type":"group"' in kv[1]][0][0][16:]
    d.db("feeds").extend([
        [app + b"i" + ghost + grp + b"\xff" * 8, b"\xff" * 8],            # a missing user's
        [app + b"s" + grp + b"\xfe" * 8 + _b(ids["t1"]), b""],             # no reverse
        [app + b"a" + ghost, grp + b"\x00" * 8]])                           # no post
    return ["feeds: a membership interval of %s, which does not exist" % _hex_id(ghost),
            "feeds: the shared post %s has no reverse" % ids["t1"],
            "feeds: the reverse of %s has no shared post" % _hex_id(ghost)]


def _drop_interval(d, ids):
    app, ann = _b(ids["app"]), _b(ids["ann"])
    f = d.db("feeds")
    before = len(f)
    f[:] = [kv for kv in f if not kv[0].startswith(app + b"i" + ann)]
    eq(len(f), before - 1, "ann's interval in g/h")
    return ["has no open membership interval"]


def _deleted_group_feeds(d, ids):
    app, ghost, ann = _b(ids["app"]), b"\x42" * 16, _b(ids["ann"])
    post = [kv for kv in d.db("entities") if b'"type":"activity"' in kv[1]][0][0][16:]
    d.db("feeds").extend([
        [app + b"i" + ann + ghost + b"\xff" * 6 + b"\xfe\xff", b"\xff" * 8],  # 256: still open
        [app + b"s" + ghost + b"\xff" * 7 + b"\xfe" + post, b""],              # 1: before it
        [app + b"a" + post, ghost + b"\x00" * 7 + b"\x01"]])
    return ["feeds: a membership interval of %s in the deleted group %s is open"
            % (ids["ann"], _hex_id(ghost)),
            "feeds: the shared post %s of the deleted group %s is in no feed"
            % (_hex_id(post), _hex_id(ghost))]


def _malformed_expiry(d, ids):
    d.db("tokens").append([b"e" + _count(5), b""])        # an expiry without its hash
    return [r"tokens: a malformed token key e\x00\x00\x00\x00\x00\x00\x00\x05"]


def _hex_id(b):
    h = b.hex()
    return "-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))


CASES = [_deleted_group_feeds, _malformed_expiry, _dangling_feeds, _drop_interval, _drop_org_name, _drop_index_word, _change_index_value, _drop_edge_end, _change_count,
         _dangling_unique, _unclaimed_unique, _unclaimed_settings_unique, _orphan_secret, _orphan_asset, _drop_entity,
         _drop_root_edge]


def test_check_names_each_fault_and_repair_mends_it():
    with _workdir("ugstore-check-") as work, Server() as s:
        ids = _seed_relations(s)
        rc, out, err = ugstore("check", "--data", s.data)
        eq(rc, 0, "check of a healthy store while it is served: " + out + err)
        check("0 faults" in out, out)
        s.stop()
        for n, case in enumerate(CASES):
            d = Dump(s.data)
            want = case(d, ids)
            dest = "%s/%d" % (work, n)
            d.write(dest)
            rc, out, _ = ugstore("check", "--data", dest)
            eq(rc, 1, "%s: check exit status\n%s" % (case.__name__, out))
            for line in want:
                check(line in out, "%s: %r not in\n%s" % (case.__name__, line, out))
            rc, out, _ = ugstore("check", "--data", dest, "--repair")
            eq(rc, 0, "%s: repair\n%s" % (case.__name__, out))
            check("repaired: " in out, out)
            rc, out, _ = ugstore("check", "--data", dest)
            eq(rc, 0, "%s: check after the repair\n%s" % (case.__name__, out))
        # the repaired index serves queries again
        with Server(data="%s/1" % work) as r:
            st, doc = r.app("GET", "/users?ql=" + "bio%20contains%20'hello'")
            eq([e["username"] for e in doc["entities"]], ["ann"], "query on the repaired word")


def test_check_leaves_what_it_cannot_derive_and_unknown_families():
    with _workdir("ugstore-check-") as work, Server() as s:
        ids = _seed_relations(s)
        st, _ = post_grant(s, "/test-org/test-app", "bob", "secret-pw")
        eq(st, 200, "bob's token")
        s.stop()
        d = Dump(s.data)
        key = [kv for kv in d.db("secrets") if kv[0][16:32] == _b(ids["bob"])][0]
        key[1] = b"plain text"
        # a token record that cannot be read: no token's keys derive from it
        rec = [kv for kv in d.db("tokens") if kv[0][:1] == b"h"][0]
        rec[1] = b"\x07junk"
        d.write(work + "/bad")
        rc, out, _ = ugstore("check", "--data", work + "/bad", "--repair")
        eq(rc, 1, "a malformed credential is no derivable fault\n" + out)
        check("secrets: the password of %s is not a salted hash" % ids["bob"] in out, out)
        check("tokens: a token record that cannot be read h" in out, out)
        # a database of a family this check does not know yet is named, not a fault
        d = Dump(s.data)
        name, header, _ = d.sections[0]
        d.sections.append(["futures", [h.replace("database=" + name, "database=futures")
                                      for h in header], [[b"k", b"v"]]])
        # and keys of kinds it does not know in databases it does
        d.db("secrets").append([_b(ids["app"]) + _b(ids["bob"]) + b"token", b"opaque"])
        d.db("meta").append([b"zsetting", b"on"])
        d.db("orgs").append([b"x-later", b"whatever"])
        d.write(work + "/new")
        rc, out, _ = ugstore("check", "--data", work + "/new")
        eq(rc, 0, "an unknown database\n" + out)
        check("note: database futures is not known to this check" in out, out)
        for line in ("note: secrets: 1 keys of kinds", "note: meta: 1 keys of kinds",
                     "note: orgs: 1 keys of kinds"):
            check(line in out, out)
        rc, _, err = ugstore("check")
        check(rc == 2 and "usage" in err, err)


# ---- export and import -------------------------------------------------------

APP_DBS = ("entities", "unique", "edges", "edge_at", "counts", "index", "secrets", "dicts",
           "assets", "counters", "feeds")


def _app_keys(data, app):
    """Every key and value of one application, by database (and its path
    flags in meta): what must be equal in two stores holding the same app."""
    d, a = Dump(data), _b(app)
    got = {name: sorted(map(tuple, (kv for kv in d.db(name) if kv[0].startswith(a))))
           for name in APP_DBS}
    got["meta"] = sorted(map(tuple, (kv for kv in d.db("meta")
                                     if kv[0].startswith(b"p" + a) or kv[0].startswith(b"C" + a))))
    return got


def _records(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


PHOTO = b"\xff\xd8\xff" + bytes(range(256)) * 3 + b"\x00\x01"


def _seed_export(s):
    """_seed_relations, and collection settings, binary data, counters, an
    application property and a deleted entity: every kind of record."""
    ids = _seed_relations(s)
    eq(s.app("PUT", "/restaurants/_settings", {"unique": ["code"], "single": {"open": True},
                                               "types": {"rating": "number"}},
             headers=SU)[0], 200, "settings")
    for body in ({"name": "pizza", "menu": {"items": ["a", "b"], "open": True},
                  "location": {"latitude": 48.1, "longitude": 11.5}, "rating": 4.5,
                  "code": "P1", "open": True},
                 {"name": "sushi", "rating": 3}):
        eq(s.app("POST", "/restaurants", body)[0], 200, "restaurant")
    eq(s.app("POST", "/users/ann/likes/restaurants/pizza")[0], 200, "like")
    eq(s.app("PUT", "", {"motto": "exported"}, headers=SU)[0], 200, "app property")
    for name, data in (("pizza", PHOTO), ("sushi", b"gone with its entity")):
        st, _, _, _ = s.request("PUT", "/test-org/test-app/restaurants/" + name, raw=data,
                                headers={"Content-Type": "application/octet-stream"})
        eq(st, 200, "binary data")
    eq(s.app("POST", "/events", {"timestamp": 1700000000000,
                                 "counters": {"visits.web": 3, "visits.app": -1}})[0], 200, "event")
    eq(s.app("DELETE", "/restaurants/sushi")[0], 200, "a deleted entity leaves nothing")
    return ids


def test_export_import_round_trip_is_exact_and_idempotent():
    with _workdir("ugstore-export-") as work, Server(args=("--feed-copy-max", "0")) as s:
        ids = _seed_export(s)
        photo = PHOTO
        for method, path in (("POST", "/groups"), ("POST", "/groups/k/users/ann"),
                             ("POST", "/groups/k/activities"), ("DELETE", "/groups/k/users/ann"),
                             ("POST", "/groups/k/activities"), ("POST", "/groups/k/users/bob")):
            body = {"path": "k"} if path == "/groups" else \
                {"verb": "post", "content": "shared", "actor": {}} if path.endswith("activities") else None
            eq(s.app(method, path, body)[0], 200, path)
        rc, out, err = ugstore("export", "--data", s.data, "--app", "test-org/test-app",
                               "--to", work + "/a.ndjson")
        eq((rc, out, err), (0, "", ""), "export: quiet when not on a terminal")
        recs = _records(work + "/a.ndjson")
        eq(recs[0]["record"], "application", "first record")
        eq(recs[0]["application"]["motto"], "exported", "app property exported")
        kinds = {r["record"] for r in recs}
        eq(kinds, {"application", "settings", "entity", "edge", "dictionary", "credential", "asset",
                   "counter", "shared", "interval"},
           "record kinds")
        eq(len([r for r in recs if r["record"] == "asset"]), 1, "the deleted entity's data is gone")
        cred = [r for r in recs if r["record"] == "credential"][0]
        check(cred["hash"].startswith("$y$") and cred["entity"] == ids["bob"], repr(cred))

        rc, out, err = ugstore("import", "--data", work + "/b", "--from", work + "/a.ndjson")
        eq(rc, 0, "import: " + err)
        check("into test-org/test-app" in out and "%d records" % len(recs) in out, out)
        s.stop()
        eq(_app_keys(work + "/b", ids["app"]), _app_keys(s.data, ids["app"]),
           "the imported application, key by key")
        before = Dump(work + "/b").sections
        rc, out, err = ugstore("import", "--data", work + "/b", "--from", work + "/a.ndjson")
        eq(rc, 0, "second import: " + err)
        check(": 0 changed the store" in out, out)
        eq(Dump(work + "/b").sections, before, "a second import changes nothing")

        rc, _, err = ugstore("export", "--data", work + "/b", "--app", "test-org/test-app",
                             "--to", work + "/b.ndjson")
        eq(rc, 0, "export of the copy: " + err)
        again = _records(work + "/b.ndjson")
        for r in (recs[0], again[0]):
            del r["application"]["organization"]      # the orgs' uuids differ
        eq(again, recs, "the copy exports the same records")
        with Server(data=work + "/b", bootstrap=None) as b:
            st, doc = b.app("GET", "/users/ann/likes")
            eq(sorted(e.get("name", e.get("username")) for e in doc["entities"]),
               ["bob", "pizza"], "ann's likes")
            eq([e.get("content") for e in b.app("GET", "/users/ann/feed")[1]["entities"]],
               ["shared", "hi"], "ann's feed: the shared post of her membership, not the later "
               "one, and bob's")
            eq(b.app("GET", "/users/bob/feed")[1]["entities"][0].get("content"), "hi",
               "bob joined after the shared posts")
            st, doc = b.app("GET", "/restaurants?ql=location%20within%2010%20of%2048.1,11.5")
            eq([e["name"] for e in doc["entities"]], ["pizza"], "geo index in the copy")
            st, _, _, got = b.request("GET", "/test-org/test-app/restaurants/pizza",
                                      headers={"Accept": "application/octet-stream"})
            eq((st, got), (200, photo), "binary data in the copy")
            st, doc = b.app("GET", "/restaurants/_settings")
            eq(doc["data"]["unique"], ["code"], "settings in the copy")
            st, doc = b.app("POST", "/restaurants", {"name": "pasta", "code": "p1"})
            eq((st, doc["error"]), (400, "duplicate_unique_property_exists"), "unique in the copy")
            st, doc = b.app("POST", "/restaurants", {"name": "tapas", "open": True})
            check("open" not in b.app("GET", "/restaurants/pizza")[1]["entities"][0],
                  "single holder in the copy")
            st, doc = b.app("GET", "/counters?counter=visits&resolution=day")
            eq(doc["counters"][0]["values"], [{"timestamp": 1700000000000 // 86400000 * 86400000,
                                               "value": 2}], "counters in the copy")


def test_import_refuses_what_it_cannot_take():
    with _workdir("ugstore-import-") as work:
        with Server() as s:
            _seed_relations(s)
            data = s.data
            rc, _, err = ugstore("export", "--data", data, "--app", "test-org/test-app",
                                 "--to", work + "/a.ndjson")
            eq(rc, 0, err)
            # the same org/app with another uuid
            rc, _, err = ugstore("import", "--data", work + "/other", "--from", "/dev/null")
            eq(rc, 0, "an empty import: " + err)
            with Server(data=work + "/other") as o:     # bootstraps test-org/test-app
                pass
            rc, _, err = ugstore("import", "--data", work + "/other", "--from", work + "/a.ndjson")
            check(rc == 1 and "exists here with another uuid" in err, err)
            with open(work + "/bad.ndjson", "w") as f:
                f.write('{"record":"entity","time":1,"entity":{}}\n')
            rc, _, err = ugstore("import", "--data", work + "/c", "--from", work + "/bad.ndjson")
            check(rc == 1 and "line 1" in err and "first record must be the application" in err, err)
            # an org or app a URL could not reach is not made by an import
            for org, app in (("orgs", "shop"), ("acme", "applications"), ("acme", "metrics")):
                with open(work + "/word.ndjson", "w") as f:
                    f.write(json.dumps({"record": "application", "application": {
                        "uuid": "9a1b2c3d-0000-1000-8000-000000000001",
                        "organizationName": org, "applicationName": app}}) + "\n")
                rc, _, err = ugstore("import", "--data", work + "/d", "--from",
                                     work + "/word.ndjson")
                check(rc == 1 and "line 1" in err and "word of the URL grammar" in err, err)
            rc, _, err = ugstore("serve", "--data", work + "/e", "--port", "0",
                                 "--bootstrap", "status/app")
            check(rc != 0 and "word of the URL grammar" in err, err)
            rc, _, err = ugstore("export", "--data", data, "--app", "test-org/nope")
            check(rc == 1 and "no application test-org/nope" in err, err)
            rc, _, err = ugstore("export", "--data", data)
            check(rc == 2 and "usage" in err, err)


def test_export_shows_progress_on_a_terminal():
    import pty
    with _workdir("ugstore-progress-") as work:
        with Server() as s:
            _seed_relations(s)
            master, slave = pty.openpty()
            p = subprocess.run([BIN, "export", "--data", s.data, "--app", "test-org/test-app",
                                "--to", work + "/a.ndjson"], stderr=slave, timeout=60)
            os.close(slave)
            shown = os.read(master, 4096).decode()
            os.close(master)
            eq(p.returncode, 0, "export")
            check("entities" in shown and "/s" in shown, repr(shown))


def test_upgrade_format_4_reindexes_a_fields_list():
    """Format 4 kept `fields` but indexed every path: the upgrade to 5
    records a reindex (check accepts the store meanwhile), and serve runs
    it, after which only the listed paths are indexed."""
    with _workdir("ugstore-fmt-") as work:
        with Server(data=work + "/s") as s:
            eq(s.app("POST", "/cars", [{"name": "c%d" % i, "make": "m%d" % (i % 3),
                                        "color": "k%d" % (i % 2)} for i in range(30)])[0],
               200, "cars")
            eq(s.app("PUT", "/cars/_settings", {"required": ["name"]}, headers=SU)[0], 200, "settings")
        d = Dump(work + "/s")
        for kv in d.db("meta"):
            if kv[0][:1] == b"C":
                rec = json.loads(kv[1])
                rec["data"]["fields"] = ["color"]
                kv[1] = json.dumps(rec).encode()
        d.db("meta")[:] = [kv for kv in d.db("meta") if kv[0] != FORMAT_KEY] + [[FORMAT_KEY, b"4"]]
        d.write(work + "/old")
        rc, out, _ = ugstore("upgrade", "--data", work + "/old")
        check(rc == 0 and "upgrading format 4 -> 5" in out and "3 -> 4" not in out, out)
        rc, out, _ = ugstore("check", "--data", work + "/old")
        eq(rc, 0, "check before the reindex: " + out)
        with Server(data=work + "/old") as s:
            deadline = time.time() + 60
            while "reindexing" in s.app("GET", "/cars/_settings")[1]:
                check(time.time() < deadline, "the reindex did not end")
                time.sleep(0.02)
            st, doc = s.app("GET", "/cars?explain=true&ql=make%20%3D%20'm1'")
            check("make is not indexed" in doc["explain"]["plan"], doc["explain"]["plan"])
            eq(len(doc["entities"]), 10, "make, scanned")
        check(not any(k[:1] == b"R" for k, _ in Dump(work + "/old").db("meta")), "reindexed")
        check(not any(b"make" in k for k, _ in Dump(work + "/old").db("index")), "no make entries")
