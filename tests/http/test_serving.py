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
