"""Operations: format versions and `ugstore upgrade`, backup and restore
(hot, under write load; POST /management/backup), `ugstore check` and
`--repair` against copies corrupted on purpose."""
import os
import shutil
import subprocess
import tempfile

from harness import BIN, Server, check, eq
from lmdbdump import Dump

FORMAT_KEY = b"schema"


def ugstore(*args):
    """Runs one ugstore subcommand; returns (exit status, stdout, stderr)."""
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def _seeded_store():
    """A stopped store with a user in test-org/test-app; returns its dir."""
    s = Server()
    st, doc = s.app("POST", "/users", {"username": "ann", "email": "ann@x.test"})
    eq(st, 200, "create ann")
    s.stop()
    return s.data


def _with_format(data, value):
    """A copy of data whose recorded format is value (None: no record)."""
    d = Dump(data)
    meta = d.db("meta")
    meta[:] = [kv for kv in meta if kv[0] != FORMAT_KEY]
    if value is not None:
        meta.append([FORMAT_KEY, value])
    dest = tempfile.mkdtemp(prefix="ugstore-fmt-")
    d.write(dest)
    return dest


def _serve_refused(data):
    """Starts serve on data, which must refuse; returns its stderr."""
    p = subprocess.run([BIN, "serve", "--port", "0", "--data", data, "--quiet"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode != 0, "serve started on %s" % data)
    return p.stderr


def test_new_store_records_its_format():
    data = _seeded_store()
    try:
        eq(dict(map(tuple, Dump(data).db("meta"))).get(FORMAT_KEY), b"1", "format")
        rc, out, _ = ugstore("upgrade", "--data", data)
        eq(rc, 0, "upgrade at format 1")
        check("nothing to do" in out, out)
    finally:
        shutil.rmtree(data)


def test_upgrade_a_store_that_records_no_format():
    data = _seeded_store()
    old = _with_format(data, None)
    try:
        err = _serve_refused(old)
        check("ugstore upgrade --data %s" % old in err, err)
        rc, out, _ = ugstore("upgrade", "--data", old, "--dry-run")
        eq(rc, 0, "dry run")
        check("would upgrade format 0 -> 1" in out, out)
        check("ugstore upgrade" in _serve_refused(old), "a dry run changed nothing")
        rc, out, _ = ugstore("upgrade", "--data", old)
        eq(rc, 0, "upgrade")
        check("upgrading format 0 -> 1" in out and "now at format 1" in out, out)
        with Server(data=old) as s:
            st, doc = s.app("GET", "/users/ann")
            eq(st, 200, "ann after the upgrade")
        rc, out, _ = ugstore("upgrade", "--data", old)
        check(rc == 0 and "nothing to do" in out, out)
    finally:
        shutil.rmtree(data)
        shutil.rmtree(old)


def test_newer_format_is_refused():
    data = _seeded_store()
    new = _with_format(data, b"2")
    try:
        err = _serve_refused(new)
        check("holds format 2, newer" in err and "use a newer ugstore" in err, err)
        rc, _, err = ugstore("upgrade", "--data", new)
        check(rc == 1 and "newer" in err, err)
    finally:
        shutil.rmtree(data)
        shutil.rmtree(new)


def test_upgrade_usage():
    rc, _, err = ugstore("upgrade")
    check(rc == 2 and "usage" in err, err)
    empty = tempfile.mkdtemp(prefix="ugstore-empty-")
    try:
        rc, _, err = ugstore("upgrade", "--data", empty)
        check(rc == 1 and "holds no ugstore data" in err, err)
    finally:
        shutil.rmtree(empty)


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
    work = tempfile.mkdtemp(prefix="ugstore-restore-")
    s = Server()
    try:
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
    finally:
        s.close()
        shutil.rmtree(work)


def test_management_backup():
    from harness import SU
    work = tempfile.mkdtemp(prefix="ugstore-mbackup-")
    try:
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
    finally:
        shutil.rmtree(work)
