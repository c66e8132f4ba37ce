"""The server's log: libmicrohttpd's own messages go through it, --quiet
silences everything a request can cause, and no line carries a credential
or a control byte from the request."""
import base64
import json
import re

from harness import Server, check, eq

SECRET = "s3cr3t"


def access_line(line):
    """The access log's JSON object of line, or None."""
    try:
        o = json.loads(line)
    except ValueError:
        return None
    return o if isinstance(o, dict) and {"method", "route", "target", "status"} <= set(o) else None


def provoke(s):
    """Requests that make the server or the library say something, each
    with a credential that must not reach the log."""
    no_colon = base64.b64encode(("admin" + SECRET + "basic").encode()).decode()
    wrong = base64.b64encode(("admin:" + SECRET + "pw").encode()).decode()
    for auth in ("Basic " + no_colon, "Basic " + wrong, "Basic !!" + SECRET,
                 "Bearer " + SECRET + "token"):
        st, _, _, _ = s.request("GET", "/management/orgs/test-org",
                                headers={"Authorization": auth})
        eq(st, 401, auth)
    st, _, _, _ = s.request("GET", "/test-org/test-app/users?password=%s1&Access_Token=%s2"
                            "&client%%5Fsecret=%s3&ql=select+*" % (SECRET, SECRET, SECRET))
    eq(st, 200, "secret parameters")
    # a control byte and bad UTF-8 in the target; a bad Content-Length the
    # library answers itself
    st, _, _ = s.raw(b"GET /test-org/test-app/u\x1b[31m\xff?x=\x07 HTTP/1.1\r\n"
                     b"Host: t\r\nConnection: close\r\n\r\n")
    eq(st, 400, "control bytes")
    st, _, _ = s.raw(b"POST /test-org/test-app/things HTTP/1.1\r\nHost: t\r\n"
                     b"Authorization: Bearer " + SECRET.encode() + b"\r\n"
                     b"Content-Length: x" + SECRET.encode() + b"\r\n\r\n{}")
    eq(st, 400, "bad Content-Length")


def test_library_messages_have_the_server_format_and_no_secret():
    s = Server(quiet=False)
    try:
        provoke(s)
    finally:
        s.close()
    lines = s.stderr.splitlines()
    check(SECRET not in s.stderr, "a credential reached the log:\n" + s.stderr)
    check("ugstore: libmicrohttpd: Failed to parse `Content-Length' header" in s.stderr, s.stderr)
    for line in lines:
        check(line.startswith("ugstore: ") or access_line(line),
              "line not in the server's format: %r" % line)
        check(not re.search(r"[\x00-\x1f\x7f]", line), "control byte in %r" % line)
        line.encode("utf-8")
    check(any(l.startswith("ugstore: libmicrohttpd: ") for l in lines), s.stderr)
    targets = [access_line(l)["target"] for l in lines if access_line(l)]
    check(any("password=***" in t and "Access_Token=***" in t and "client%5Fsecret=***" in t
              and "ql=select+*" in t for t in targets), s.stderr)


def test_quiet_silences_the_library_too():
    s = Server()
    try:
        provoke(s)
    finally:
        s.close()
    left = [l for l in s.stderr.splitlines() if not l.startswith("ugstore: signal")]
    eq(left, [], "lines logged with --quiet")
