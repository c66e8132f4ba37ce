"""Test harness shared by every Python suite of ugstore.

Server() starts the real `ugstore serve` on a free loopback port with a fresh
data directory in a temp folder; request() sends real HTTP and returns
(status, parsed JSON body, headers).  Tests are plain functions named test_*
in modules under tests/http/ and tests/crash/; tests/run.py collects them.
"""
import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

BIN = os.environ.get("UGSTORE_BIN", "./ugstore")
SUPERUSER = ("super", "super-secret")


_running = set()


@atexit.register
def _stop_leftovers():
    """A run cut short (Ctrl-C, a crash of the runner) leaves no server."""
    for proc in list(_running):
        if proc.poll() is None:
            proc.kill()


class Server:
    """A ugstore process on 127.0.0.1 with its own data directory."""

    def __init__(self, data=None, args=(), bootstrap="test-org/test-app", quiet=True):
        self.own_data = data is None
        self.quiet = quiet
        self.data = data or tempfile.mkdtemp(prefix="ugstore-test-")
        self.args = list(args)
        self.bootstrap = bootstrap
        self.proc = None
        self.port = None
        self.start()

    def start(self):
        cmd = [BIN, "serve", "--port", "0", "--data", self.data,
               "--superuser", "%s:%s" % SUPERUSER] + self.args
        if self.quiet:
            cmd.append("--quiet")
        if self.bootstrap:
            cmd += ["--bootstrap", self.bootstrap]
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        _running.add(self.proc)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.wait()
            self.log.seek(0)
            raise RuntimeError("server did not start: %r %r" % (line, self.log.read()))
        self.port = int(line.split()[3].split(":")[1])

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stops the server; returns its exit code."""
        if not self.proc:
            return None
        _running.discard(self.proc)
        if sig == signal.SIGKILL:
            self.proc.kill()
            self.proc.wait()
            self.log.seek(0)
            self.stderr = self.log.read()
            self.log.close()
            self.proc.stdout.close()
            self.proc = None
            return -9
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.seek(0)
        self.stderr = self.log.read()
        self.log.close()
        self.proc.stdout.close()
        self.proc = None
        return rc

    def close(self):
        """Stops the server and removes its data; fails when the server
        reported a sanitizer error or did not exit cleanly."""
        rc = self.stop()
        checked = self._check_store()
        if self.own_data:
            shutil.rmtree(self.data, ignore_errors=True)
        log = getattr(self, "stderr", "") or ""
        if "Sanitizer" in log or "runtime error:" in log:
            raise Failure("server reported a sanitizer error:\n" + log[-4000:])
        if rc not in (0, None):
            raise Failure("server exited with %r:\n%s" % (rc, log[-2000:]))
        if checked:
            raise Failure("`ugstore check` found faults in the store it left:\n" + checked)
        return rc

    def _check_store(self):
        """Every store a test leaves must pass `ugstore check`: its report
        when it does not, else ""."""
        if not os.path.exists(os.path.join(self.data, "data.mdb")):
            return ""
        p = subprocess.run([BIN, "check", "--data", self.data], capture_output=True,
                           text=True, timeout=300)
        return "" if p.returncode == 0 else (p.stdout + p.stderr)[-4000:]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, method, path, body=None, headers=None, raw=None, timeout=30):
        """Sends one request.  body: a JSON-able value; raw: bytes as given.
        Returns (status, json-or-None, headers-dict, raw-bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        try:
            doc = json.loads(payload) if payload else None
        except ValueError:
            doc = None
        return resp.status, doc, {k.lower(): v for k, v in resp.getheaders()}, payload

    def raw(self, data, timeout=30):
        """Sends the bytes as they are on a new connection and reads the
        first response.  The bytes go from a thread, so a server that
        answers before reading them all (and closes) is still heard.
        Returns (status, headers-dict, body), status None when the server
        closed the connection without answering."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

        def push():
            try:
                sock.sendall(data)
            except OSError:
                pass
        sender = threading.Thread(target=push)
        sender.start()
        resp = http.client.HTTPResponse(sock)
        try:
            resp.begin()
            body = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return None, {}, b""
        finally:
            try:
                sock.shutdown(socket.SHUT_RDWR)   # unblocks an unread sender
            except OSError:
                pass
            sender.join()
            sock.close()

    # Shorthands for the bootstrapped application.
    def app(self, method, path, body=None, **kw):
        status, doc, _, _ = self.request(method, "/test-org/test-app" + path, body, **kw)
        return status, doc


class Shared:
    """One server shared by the tests of a module that need no isolation:
    `srv = Shared()`, then `srv()` in tests and `teardown = srv.close`."""

    def __init__(self):
        self.server = None

    def __call__(self):
        if self.server is None or self.server.proc is None:
            self.server = Server()
        return self.server

    def close(self):
        """Stops the server: a clean exit, no sanitizer report."""
        if self.server is not None:
            self.server.close()
            self.server = None


class Failure(AssertionError):
    pass


class Skip(Exception):
    """Raised by a test that cannot run on this machine; the message says
    why.  The runner counts it apart, neither passed nor failed."""


class Threads:
    """Runs target(*args) on a thread of its own for each args of
    args_list.  join() waits for every one and then raises the first
    exception any of them raised, so that a check inside a thread fails
    the test as one outside does."""

    def __init__(self, target, args_list):
        self.errors = []

        def run(*args):
            try:
                target(*args)
            except BaseException as e:   # noqa: B036: re-raised by join()
                self.errors.append(e)

        self.threads = [threading.Thread(target=run, args=args) for args in args_list]
        for t in self.threads:
            t.start()

    def join(self):
        for t in self.threads:
            t.join()
        if self.errors:
            raise self.errors[0]


def check(cond, msg="check failed"):
    if not cond:
        raise Failure(msg)


def eq(got, want, what="value"):
    if got != want:
        raise Failure("%s: got %r, want %r" % (what, got, want))


def basic_auth(user, password):
    import base64
    tok = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return {"Authorization": "Basic " + tok}


SU = basic_auth(*SUPERUSER)
