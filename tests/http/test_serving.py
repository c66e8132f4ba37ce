"""Serving: CORS as browsers need it, TLS from certificate and key files,
`serve --config FILE` and reloading it on SIGHUP (docs/operations.md)."""
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import http.client

from harness import BIN, SU, Server, Shared, check, eq

srv = Shared()
teardown = srv.close

APP = "http://app.example"


def test_cors_without_origins_configured_grants_any_origin_without_credentials():
    s = srv()
    st, _, h, _ = s.request("GET", "/test-org/test-app/things", headers={"Origin": APP})
    eq((st, h.get("access-control-allow-origin")), (200, "*"), "any origin")
    check("access-control-allow-credentials" not in h, "no credentials with *")
    check("X-Request-Id" in h.get("access-control-expose-headers", ""), h)
    st, _, h, _ = s.request("OPTIONS", "/test-org/test-app/things", headers={
        "Origin": APP, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type, x-custom"})
    eq(st, 200, "preflight")
    check("PUT" in h["access-control-allow-methods"], h)
    eq(h["access-control-allow-headers"], "content-type, x-custom", "the headers asked")
    eq(h["access-control-max-age"], "600", "cached")


def test_cors_with_configured_origins_echoes_them_with_credentials():
    with Server(args=["--cors-origin", APP + ", https://other.example:8443"]) as s:
        for origin in (APP, "https://other.example:8443"):
            st, _, h, _ = s.request("OPTIONS", "/test-org/test-app/things", headers={
                "Origin": origin, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization"})
            eq((st, h.get("access-control-allow-origin")), (200, origin), "preflight grant")
            eq(h.get("access-control-allow-credentials"), "true", "credentials")
            eq(h.get("vary"), "Origin", "caches key on Origin")
            eq(h["access-control-allow-headers"], "authorization", "the header asked")
        st, _, h, _ = s.request("GET", "/test-org/test-app/things", headers={"Origin": APP})
        eq((st, h.get("access-control-allow-origin"), h.get("access-control-allow-credentials")),
           (200, APP, "true"), "the actual request")
        for origin in ("http://evil.example", APP + ".evil", "null", ""):
            st, _, h, _ = s.request("GET", "/test-org/test-app/things",
                                    headers={"Origin": origin})
            eq(st, 200, "answered")
            check("access-control-allow-origin" not in h and
                  "access-control-allow-credentials" not in h, "no grant for %r: %r" % (origin, h))
        st, _, h, _ = s.request("OPTIONS", "/test-org/test-app/things", headers={
            "Origin": "http://evil.example", "Access-Control-Request-Method": "DELETE"})
        check("access-control-allow-methods" not in h, "no preflight grant: %r" % h)
        st, _, h, _ = s.request("OPTIONS", "/test-org/test-app/things", headers={
            "Origin": APP, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "bad;header"})
        eq(h["access-control-allow-headers"], "Authorization, Content-Type, X-Request-Id",
           "an odd list gets the fixed one")


# ---- TLS --------------------------------------------------------------------

def make_cert(folder, name="server"):
    """A self-signed certificate for 127.0.0.1 and its key, made now."""
    cert, key = os.path.join(folder, name + ".crt"), os.path.join(folder, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def https(port, cafile, method="GET", path="/status", body=None, headers=None):
    ctx = ssl.create_default_context(cafile=cafile)
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=hdrs)
    r = c.getresponse()
    doc = json.loads(r.read() or b"null")
    c.close()
    return r.status, doc


def test_tls_serves_https_from_certificate_and_key_files():
    tmp = tempfile.mkdtemp(prefix="ugstore-tls-")
    try:
        cert, key = make_cert(tmp)
        with Server(args=["--tls-cert", cert, "--tls-key", key]) as s:
            st, doc = https(s.port, cert)
            eq((st, doc["status"]), (200, "ok"), "GET /status over TLS, certificate verified")
            st, doc = https(s.port, cert, "POST", "/test-org/test-app/secure", {"name": "a"})
            eq(st, 200, "a write over TLS")
            st, doc = https(s.port, cert, "GET", "/management/orgs/test-org", headers=SU)
            eq(st, 200, "the superuser over TLS")
            # plain HTTP on the TLS port gets no HTTP answer
            try:
                st = s.request("GET", "/status", timeout=5)[0]
            except (http.client.HTTPException, OSError):
                st = None
            check(st is None, "plain HTTP answered %r on a TLS port" % st)
            # a client that does not trust the certificate refuses it
            other, _ = make_cert(tmp, "other")
            try:
                https(s.port, other)
                raise AssertionError("an untrusted certificate was accepted")
            except ssl.SSLError:
                pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_tls_refuses_missing_unreadable_or_mismatched_files():
    tmp = tempfile.mkdtemp(prefix="ugstore-tls-")
    data = os.path.join(tmp, "data")
    try:
        cert, key = make_cert(tmp)
        _, other_key = make_cert(tmp, "other")
        junk = os.path.join(tmp, "junk.pem")
        with open(junk, "w") as f:
            f.write("not a certificate\n")
        for args, says in ((["--tls-cert", cert], "both"),
                           (["--tls-cert", cert, "--tls-key", os.path.join(tmp, "nope")],
                            "cannot read the TLS key"),
                           (["--tls-cert", junk, "--tls-key", key], "not a PEM file"),
                           (["--tls-cert", cert, "--tls-key", other_key], "do not fit")):
            p = subprocess.run([BIN, "serve", "--port", "0", "--data", data] + args,
                               capture_output=True, text=True, timeout=30)
            check(p.returncode != 0 and says in p.stderr, "%r: %r" % (args, p.stderr))
            check("Sanitizer" not in p.stderr, p.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- serve --config, SIGHUP, make install ---------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def wait_for(cond, what, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def test_serve_reads_a_config_file_and_the_command_line_wins():
    tmp = tempfile.mkdtemp(prefix="ugstore-conf-")
    try:
        conf = os.path.join(tmp, "ugstore.conf")
        write(conf, "# settings\n\n  max-body = 100  \ncors-origin=http://a.example\n"
                    "public-status = false\nquiet = true\nport = 1\n")
        with Server(args=["--config", conf, "--port", "0"]) as s:
            st, doc, _, _ = s.request("POST", "/test-org/test-app/c", {"s": "x" * 200})
            eq(st, 413, "max-body from the file")
            h = s.request("GET", "/status", headers={"Origin": "http://a.example"})[2]
            eq(h.get("access-control-allow-origin"), "http://a.example", "cors from the file")
        with Server(args=["--config", conf, "--port", "0", "--max-body", "1000"]) as s:
            eq(s.request("POST", "/test-org/test-app/c", {"s": "x" * 200})[0], 200,
               "the command line wins")
        data = os.path.join(tmp, "data")
        for text, says in (("port 8080\n", ":1: want `name = value`"),
                           ("# ok\nnope = 1\n", "unknown option --nope"),
                           ("quiet = maybe\n", ":1: quiet wants true or false"),
                           ("port = big\n", "--port wants a whole number"),
                           ("bootstrap = a/b\n", "bootstrap is for the command line"),
                           ("a\0b = 1\n", "NUL")):
            write(conf, text)
            p = subprocess.run([BIN, "serve", "--config", conf, "--data", data, "--port", "0"],
                               capture_output=True, text=True, timeout=30)
            check(p.returncode == 2 and says in p.stderr, "%r: %r" % (text, p.stderr))
        p = subprocess.run([BIN, "serve", "--config", os.path.join(tmp, "none"), "--data", data],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 2 and "cannot read the config file" in p.stderr, p.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_sighup_reloads_what_is_safe_and_keeps_settings_on_a_bad_file():
    tmp = tempfile.mkdtemp(prefix="ugstore-conf-")
    try:
        conf = os.path.join(tmp, "ugstore.conf")
        write(conf, "max-body = 100\n")
        s = Server(args=["--config", conf])
        try:
            big = {"s": "x" * 200}
            eq(s.request("POST", "/test-org/test-app/r", big)[0], 413, "before")
            eq(s.request("GET", "/", headers={"Origin": APP})[2]
               .get("access-control-allow-origin"), "*", "before")
            write(conf, "max-body = 1000\ncors-origin = %s\nthreads = 3\n" % APP)
            s.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: s.request("GET", "/", headers={"Origin": APP})[2]
                     .get("access-control-allow-origin") == APP, "the new CORS origins")
            eq(s.request("POST", "/test-org/test-app/r", big)[0], 200, "the new max-body")
            write(conf, "max-body = 100\nthis is not a setting\n")
            s.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            eq(s.request("POST", "/test-org/test-app/r", big)[0], 200, "a bad file changes nothing")
            eq(s.request("GET", "/", headers={"Origin": APP})[2]
               .get("access-control-allow-origin"), APP, "still")
        finally:
            s.stop()
        s.close()
        check("SIGHUP: reloaded" in s.stderr, s.stderr)
        check("threads" in s.stderr and "need a restart" in s.stderr, s.stderr)
        check(":2: want `name = value`" in s.stderr and "settings stay as they were" in s.stderr,
              s.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_make_install_into_destdir_and_the_installed_config_serves():
    tmp = tempfile.mkdtemp(prefix="ugstore-install-")
    try:
        for prefix, etc in (("/usr", "/etc"), ("/opt/ug", "/opt/ug/etc")):
            dest = os.path.join(tmp, prefix.strip("/").replace("/", "-"))
            p = subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest,
                                "PREFIX=" + prefix, "INSTALL_BIN=" + BIN],
                               capture_output=True, text=True, timeout=120)
            eq(p.returncode, 0, "make install: " + p.stderr)
            binary = dest + prefix + "/bin/ugstore"
            unit = dest + prefix + "/lib/systemd/system/ugstore.service"
            conf = dest + etc + "/ugstore/ugstore.conf"
            check(os.access(binary, os.X_OK), binary)
            text = open(unit).read()
            check("ExecStart=%s/bin/ugstore serve --config %s/ugstore/ugstore.conf"
                  % (prefix, etc) in text, text)
            check("ExecReload=/bin/kill -HUP $MAINPID" in text and "@" not in text, text)
            # an edited config survives a second install
            with open(conf, "a") as f:
                f.write("slow-query-ms = 250\n")
            subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest,
                            "PREFIX=" + prefix, "INSTALL_BIN=" + BIN], check=True,
                           capture_output=True, timeout=120)
            check("slow-query-ms = 250" in open(conf).read(), "the config was kept")
        # the installed default config is valid: serve runs with it
        data = os.path.join(tmp, "data")
        proc = subprocess.Popen([binary, "serve", "--config", conf, "--data", data,
                                 "--port", "0"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        check("listening on 127.0.0.1:" in line, line + err)
        eq(proc.returncode, 0, err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
