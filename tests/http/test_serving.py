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
