#!/usr/bin/env python3
"""Writes the seed inputs of the http and json fuzz targets into a corpus
directory: `seeds.py http|json DIR`.

http: every request of tests/http/hostile.txt (bodies cut to 16 KiB) and
the ordinary requests below, for the fuzzing server's org1/app1 and its
superuser; json: the bodies below, each for every target of fuzz_json.c
(the first byte picks the target)."""
import base64
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, ".."), os.path.join(HERE, "..", "http")]
import test_hostile  # noqa: E402  (its catalogue syntax and parser)

test_hostile.SU_TOKEN = base64.b64encode(b"fuzz:fuzz-secret").decode()

ORDINARY = r"""
GET {app}/things?ql=select%20*%20where%20a=1%20order%20by%20b%20desc&limit=5
GET {app}/things?ql=select%20a,b%20where%20name%20contains%20'x*'%20or%20not%20c>2
GET {app}/things?ql=select%20*%20where%20location%20within%20100%20of%2052.5,13.4
POST {app}/things {"name":"x","a":1,"b":[1,2,{"c":"d"}],"loc":{"latitude":1,"longitude":2}}
POST {app}/things [{"name":"y","a":2},{"name":"z","a":3}]
PUT {app}/things/x {"b":2,"c":null}
POST {app}/users {"username":"u","email":"u@example.com","password":"pw12"}
POST {app}/groups {"path":"g/h","title":"G"}
POST {app}/groups/g/h/users/u
GET {app}/users/u/groups
POST {app}/users/u/likes/things/x
GET {app}/users/u/connections
GET {app}/things/x/connecting/likes
GET {app}/users/me
POST {app}/users/u/activities {"actor":{"displayName":"U"},"verb":"post","content":"hi"}
GET {app}/users/u/feed?limit=2
POST {app}/roles/admin/permissions {"permission":"get,put:/users/**"}
GET {app}/roles/admin/permissions
DELETE {app}/roles/admin/permissions?permission=get:/users/**
DELETE {app}/things/x
DELETE {app}/things?ql=select%20*%20where%20a%3E1
DELETE {app}/things?limit=2
PUT {app}/things?ql=select%20*%20where%20a=1 {"seen":true}
GET {app}/things?cursor=AQAAAAAAAAAA
HEAD {app}/things
OPTIONS {app}/things
GET /status
GET {app}
PUT {app} {"title":"x"}
GET /management/orgs/org1/apps +Authorization:Basic\s{su}
POST /management/orgs +Authorization:Basic\s{su} {"organization":"o2"}
POST /management/orgs/org1/apps +Authorization:Basic\s{su} {"name":"a2"}
RAW POST {app}/things HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n
RAW GET {app}/things HTTP/1.1\r\nHost: f\r\n\r\nGET {app}/users HTTP/1.1\r\nHost: f\r\n\r\n
RAW POST {app}/_import HTTP/1.1\r\nHost: f\r\nAuthorization: Basic {su}\r\nContent-Length: 0\r\n\r\n
"""

BODIES = [
    b'{"name":"a","a":1,"nested":{"x":[1,2,{"y":"z"}]}}',
    b'[{"a":1},{"a":2,"name":"b"}]',
    b'["00000000-0000-1000-8000-000000000000"]',
    b'{"username":"u1","email":"a@b.example","password":"pass","name":"N"}',
    b'{"path":"a/b/c"}',
    b'{"actor":{"displayName":"x","uuid":"u"},"verb":"post","content":"c"}',
    b'{"permission":"get,post:/users/*/groups/**"}',
    b'{"location":{"latitude":52.5,"longitude":13.4},"n":-0.0,"big":1e308}',
    b'{"i":9223372036854775807,"j":-9223372036854775808,"f":1.5,"t":true,"n":null}',
    b'{"name":"\\u00e9\\ud83d\\ude00","s":"' + b"x" * 600 + b'"}',
    b'{"uuid":"00000000-0000-1000-8000-000000000000","type":"user","created":1}',
    b'{"name":"..","title":"."}',
    b'{"a":{"b":{"c":{"d":{"e":[[[[1]]]]}}}}}',
    b'{"_settings":{"fields":["a"]}}',
    b'{}',
]


def main():
    kind, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    n = 0

    def write(data):
        nonlocal n
        n += 1
        with open(os.path.join(out, "seed-%04d" % n), "wb") as f:
            f.write(data)

    if kind == "http":
        requests = [c[3] for c in test_hostile.cases()]
        requests += [l for l in ORDINARY.splitlines() if l.strip()]
        for request in requests:
            data = test_hostile.build(request).replace(b"/test-org/test-app", b"/org1/app1")
            write(data[:16384])
    else:
        for body in BODIES:
            for target in range(16):
                write(bytes([target]) + body)


if __name__ == "__main__":
    main()
