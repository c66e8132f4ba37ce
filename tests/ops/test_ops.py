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
