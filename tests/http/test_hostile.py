"""The hostile-input catalogue (tests/http/hostile.txt): every case over a
raw socket to one real server, which must answer each as listed, stay up,
and keep the data it held before intact."""
import base64
import json
import os
import re

from harness import SUPERUSER, Failure, Server, check, eq

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOGUE = os.path.join(HERE, "hostile.txt")
SU_TOKEN = base64.b64encode(("%s:%s" % SUPERUSER).encode()).decode()
ESCAPES = {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "s": b" ", "\\": b"\\"}


def unescape(text):
    """Expands {app}, {su}, {N*TEXT} and the backslash escapes into bytes."""
    text = text.replace("{app}", "/test-org/test-app").replace("{su}", SU_TOKEN)
    text = re.sub(r"\{(\d+)\*([^}]*)\}", lambda m: m.group(2) * int(m.group(1)), text)
    out, i = bytearray(), 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode()
            i += 1
        elif text[i + 1] == "x":
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            out += ESCAPES[text[i + 1]]
            i += 2
    return bytes(out)


def build(request):
    """The bytes of a case's REQUEST field."""
    if request.startswith("RAW "):
        return unescape(request[4:])
    method, _, rest = request.partition(" ")
    target, _, rest = rest.partition(" ")
    headers = []
    while rest.startswith("+"):
        field, _, rest = rest.partition(" ")
        headers.append(unescape(field[1:]))
    body = unescape(rest)
    if not any(h.lower().startswith(b"host:") for h in headers):
        headers.append(b"Host: localhost")
    headers.append(b"Connection: close")
    if body or method in ("POST", "PUT"):
        headers.append(b"Content-Length: %d" % len(body))
    return (method.encode() + b" " + unescape(target) + b" HTTP/1.1\r\n" +
            b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body)


def cases():
    with open(CATALOGUE, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            status, error, request = line.split(None, 2)
            yield n, status, error, request.strip()


def check_case(s, n, status, error, request):
    what = "hostile.txt:%d %s" % (n, request[:120])
    st, hdrs, body = s.raw(build(request))
    if status == "close":
        eq(st, None, what + ": closed unanswered")
        return
    eq(st, int(status), what + ": status")
    if error == "mhd":
        return
    eq(hdrs.get("content-type", "").split(";")[0], "application/json", what + ": type")
    doc = json.loads(body)
    if error == "-":
        check("error" not in doc, "%s: unexpected error %r" % (what, doc))
    else:
        eq(doc.get("error"), error, what + ": error code")
        check(doc.get("error_description"), what + ": no description")


def snapshot(s):
    """What the server holds that no case may change."""
    held = []
    for path in ("/vault/gold", "/users/keeper", "/groups/keepers",
                 "/groups/keepers/users", "/users/keeper/likes", "/vault?limit=50"):
        st, doc = s.app("GET", path)
        eq(st, 200, "snapshot " + path)
        held.append([{k: v for k, v in e.items()} for e in doc["entities"]])
    st, doc, _, _ = s.request("GET", "/management/orgs/test-org",
                              headers={"Authorization": "Basic " + SU_TOKEN})
    eq(st, 200, "snapshot org")
    held.append(doc.get("data", doc.get("entities")))
    return held


def test_catalogue():
    s = Server()
    try:
        s.app("POST", "/vault", {"name": "gold", "weight": 12.5, "tags": ["a", "b"]})
        for i in range(20):
            s.app("POST", "/vault", {"name": "bar%d" % i, "i": i})
        s.app("POST", "/users", {"username": "keeper", "password": "keep-it-1"})
        s.app("POST", "/groups", {"path": "keepers"})
        s.app("POST", "/groups/keepers/users/keeper")
        s.app("POST", "/users/keeper/likes/vault/gold")
        before = snapshot(s)
        ran, failed = 0, []
        for n, status, error, request in cases():
            try:
                check_case(s, n, status, error, request)
            except (Failure, ValueError, OSError) as e:
                failed.append("hostile.txt:%d: %s: %s" % (n, type(e).__name__, e))
            st, _, _, _ = s.request("GET", "/status")
            eq(st, 200, "hostile.txt:%d: the server answers afterwards" % n)
            ran += 1
        check(not failed, "%d of %d cases failed:\n" % (len(failed), ran) + "\n".join(failed))
        check(ran > 100, "only %d cases" % ran)
        eq(snapshot(s), before, "data held before the catalogue")
    finally:
        s.close()
