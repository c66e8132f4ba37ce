"""Observability: GET /status, GET /metrics (read with a parser of the
Prometheus text exposition format), who may read them, the access log,
the slow-query log and X-Request-Id (docs/operations.md)."""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

from harness import SU, Failure, Server, Shared, Skip, check, eq

srv = Shared()
teardown = srv.close

# ---- a parser of the text exposition format (version 0.0.4) -------------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(r"^(%s)(\{(.*)\})? (\S+)( -?\d+)?$" % _NAME)
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


def _labels(text):
    out, pos = {}, 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        if not m:
            raise Failure("bad label set %r" % text)
        name = m.group(1)
        if name in out:
            raise Failure("label %s twice in %r" % (name, text))
        out[name] = re.sub(r"\\(.)", lambda e: {"n": "\n"}.get(e.group(1), e.group(1)),
                           m.group(2))
        pos = m.end()
    return out


def _value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf"))
    return float(text)


def parse_exposition(text):
    """{family: {"type", "help", "samples": [(name, labels, value)]}}; raises
    Failure on anything the format does not allow: a sample before its
    family's TYPE, a type that is not one of Prometheus', a sample of one
    family under another, a family declared twice, a duplicate series, a
    histogram whose buckets are not cumulative or whose +Inf bucket is not
    its _count."""
    families, current, seen = {}, None, set()
    check(text.endswith("\n"), "the exposition ends with a newline")
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            check(len(parts) == 4 and re.fullmatch(_NAME, parts[2]), "bad line %r" % line)
            fam = families.setdefault(parts[2], {"type": None, "help": None, "samples": []})
            key = "help" if parts[1] == "HELP" else "type"
            check(fam[key] is None, "%s declared twice for %s" % (key, parts[2]))
            if key == "type":
                check(parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"),
                      "unknown type %r" % parts[3])
                check(not fam["samples"], "TYPE after samples of %s" % parts[2])
            fam[key] = parts[3]
            current = parts[2]
            continue
        check(line and not line.startswith("#"), "stray line %r" % line)
        m = _SAMPLE.match(line)
        check(m, "bad sample line %r" % line)
        name, labels, value = m.group(1), _labels(m.group(3) or ""), _value(m.group(4))
        base = current
        check(base is not None, "sample %r before any TYPE" % line)
        suffixes = {"histogram": ("_bucket", "_sum", "_count"),
                    "summary": ("_sum", "_count", "")}.get(families[base]["type"], ("",))
        check(any(name == base + s for s in suffixes),
              "sample %s outside its family %s" % (name, base))
        series = (name, tuple(sorted(labels.items())))
        check(series not in seen, "series %r twice" % (series,))
        seen.add(series)
        families[base]["samples"].append((name, labels, value))
    for name, fam in families.items():
        check(fam["type"] is not None, "family %s has no TYPE" % name)
        if fam["type"] == "histogram":
            _check_histogram(name, fam["samples"])
        if fam["type"] == "counter":
            check(all(v >= 0 for _, _, v in fam["samples"]), "negative counter %s" % name)
    return families


def _check_histogram(name, samples):
    groups = {}
    for sname, labels, value in samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        g = groups.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if sname.endswith("_bucket"):
            g["buckets"].append((_value(labels["le"]), value))
        elif sname.endswith("_sum"):
            g["sum"] = value
        else:
            g["count"] = value
    for key, g in groups.items():
        les = [le for le, _ in g["buckets"]]
        check(les == sorted(les) and les[-1] == float("inf"), "%s%r: le order" % (name, key))
        counts = [c for _, c in g["buckets"]]
        check(counts == sorted(counts), "%s%r: buckets not cumulative" % (name, key))
        eq(counts[-1], g["count"], "%s%r: +Inf bucket and _count" % (name, key))
        check(g["sum"] is not None and g["sum"] >= 0, "%s%r: _sum" % (name, key))


def value(fams, family, sample=None, **labels):
    """The value of the one sample of family with these labels (0 when absent)."""
    sample = sample or family
    for name, lab, v in fams[family]["samples"]:
        if name == sample and all(lab.get(k) == w for k, w in labels.items()):
            return v
    return 0


def scrape(s, headers=None):
    st, _, hdrs, raw = s.request("GET", "/metrics", headers=headers)
    eq(st, 200, "GET /metrics")
    check(hdrs["content-type"].startswith("text/plain; version=0.0.4"), hdrs["content-type"])
    return parse_exposition(raw.decode())


def test_the_parser_refuses_what_the_format_does_not_allow():
    good = ("# HELP a_total x\n# TYPE a_total counter\na_total{r=\"1\"} 2\n"
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
            "h_sum 3\nh_count 2\n")
    eq(value(parse_exposition(good), "a_total", r="1"), 2, "a good exposition")
    for bad in ("a 1\n",                                             # no TYPE
                "# TYPE a counter\na{x=1} 1\n",                      # unquoted label
                "# TYPE a counter\na 1\na 2\n",                      # series twice
                "# TYPE a counter\nb 1\n",                           # outside its family
                "# TYPE a counter\na 1",                             # no final newline
                "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                "h_sum 1\nh_count 1\n"):                             # not cumulative
        try:
            parse_exposition(bad)
        except Failure:
            continue
        raise Failure("the parser took %r" % bad)


def test_metrics_count_requests_commits_and_the_store():
    with Server() as s:
        for i in range(3):
            eq(s.app("POST", "/obs", {"name": "o%d" % i})[0], 200, "write")
        eq(s.app("GET", "/obs/o1")[0], 200, "read")
        eq(s.app("GET", "/obs/nope")[0], 404, "missing")
        eq(s.request("GET", "/nope-org/x/y")[0], 404, "no app")
        fams = scrape(s)
        col, ent = "/{org}/{app}/{collection}", "/{org}/{app}/{collection}/{entity}"
        eq(value(fams, "ugstore_http_requests_total", route=col, method="POST",
                 status="200"), 3, "writes by route template")
        eq(value(fams, "ugstore_http_requests_total", route=ent, method="GET",
                 status="200"), 1, "reads")
        eq(value(fams, "ugstore_http_requests_total", route=ent, method="GET",
                 status="404"), 1, "a 404 keeps its route")
        eq(value(fams, "ugstore_http_requests_total", route="unmatched", method="GET",
                 status="404"), 1, "no application: unmatched")
        h = "ugstore_http_request_duration_seconds"
        eq(value(fams, h, h + "_count", route=col), 3, "latency observations")
        check(value(fams, h, h + "_sum", route=col) > 0, "latency sum")
        # every write went through a group commit; three batches or fewer
        b = "ugstore_commit_batch_size"
        eq(value(fams, b, b + "_sum"), 3, "requests committed in batches")
        check(1 <= value(fams, b, b + "_count") <= 3, "batches")
        eq(value(fams, "ugstore_commit_sync_seconds", "ugstore_commit_sync_seconds_count"),
           value(fams, b, b + "_count"), "a sync time per batch")
        eq(value(fams, "ugstore_store_map_size_bytes"), 64 << 30, "map size")
        page = value(fams, "ugstore_store_page_size_bytes")
        used = value(fams, "ugstore_store_pages", kind="used")
        eq(value(fams, "ugstore_store_map_used_bytes"), used * page, "map use")
        check(value(fams, "ugstore_store_pages", kind="leaf") > 0, "leaf pages")
        eq(value(fams, "ugstore_store_readers_max"), 512, "reader slots")
        check(value(fams, "ugstore_http_open_connections") >= 1, "this connection")
        # a later scrape counts the first one
        fams = scrape(s)
        eq(value(fams, "ugstore_http_requests_total", route="/metrics", method="GET",
                 status="200"), 1, "the scrape itself")


def test_refusals_are_counted_by_reason():
    with Server(args=["--max-body", "100", "--token-rate", "1/600000"]) as s:
        st, doc, _, _ = s.request("POST", "/test-org/test-app/big", {"s": "x" * 200})
        eq(st, 413, "too large")
        token = "/test-org/test-app/token?grant_type=password&username=nobody&password=x"
        s.request("GET", token)
        eq(s.request("GET", token)[0], 429, "rate-limited")
        fams = scrape(s)
        eq(value(fams, "ugstore_http_refusals_total", reason="request_entity_too_large"), 1,
           "413 counted")
        eq(value(fams, "ugstore_http_refusals_total", reason="too_many_requests"), 1,
           "429 counted")
        eq(value(fams, "ugstore_http_requests_total", route="/{org}/{app}/token", method="GET",
                 status="429"), 1, "by its route")
        eq(value(fams, "ugstore_http_refusals_total", reason="service_unavailable"), 0, "503s")


def test_status_reports_health_store_and_last_commit():
    s = srv()
    st, doc, _, _ = s.request("GET", "/status")
    eq((st, doc["status"], doc["server"]), (200, "ok", "ugstore"), "health")
    check(re.fullmatch(r"\d+\.\d+\.\d+", doc["version"]), doc["version"])
    check(doc["uptime_seconds"] >= 0, "uptime")
    store = doc["store"]
    check(0 < store["map_used"] <= store["file_size"], store)
    eq(store["map_size"], 64 << 30, "map size")
    check(0 < store["map_use"] < 1e-3, store)
    check(store["readers_max"] == 512 and store["readers"] >= 0, store)
    txn = doc["last_commit"]["txn"]
    eq(s.app("POST", "/stat", {"name": "one"})[0], 200, "write")
    doc = s.request("GET", "/status")[1]
    check(doc["last_commit"]["txn"] > txn, "the commit id moves")
    check(abs(doc["last_commit"]["time"] / 1000 - time.time()) < 60, doc["last_commit"])


OUTSIDE = "10.99.0.1"     # on lo, in the test's own network namespace only


def get_from(addr, port, path, headers=None):
    c = http.client.HTTPConnection(addr, port, timeout=10)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def outside_checks():
    """Run inside the namespace: a request from OUTSIDE is not from loopback."""
    with Server(args=["--bind", "0.0.0.0"]) as s:
        for path in ("/status", "/metrics"):
            eq(get_from("127.0.0.1", s.port, path)[0], 200, path + " from loopback")
            st, body = get_from(OUTSIDE, s.port, path)
            eq((st, json.loads(body)["error"]), (401, "unauthorized"), path + " from outside")
            eq(get_from(OUTSIDE, s.port, path, SU)[0], 200, path + " as the superuser")
        eq(get_from(OUTSIDE, s.port, "/")[0], 200, "the bare health check stays open")
    with Server(args=["--bind", "0.0.0.0", "--public-status"]) as s:
        for path in ("/status", "/metrics"):
            eq(get_from(OUTSIDE, s.port, path)[0], 200, path + " when public")


def test_status_and_metrics_need_the_superuser_off_loopback():
    """A client that is not on loopback, without leaving the machine: this
    module runs outside_checks() in a network namespace of its own whose lo
    also holds OUTSIDE, so a connection to OUTSIDE comes from OUTSIDE."""
    setup = "ip link set lo up && ip addr add %s/32 dev lo" % OUTSIDE
    if subprocess.run(["unshare", "--net", "sh", "-c", setup], capture_output=True).returncode:
        raise Skip("no network namespace here (unshare --net and ip need root)")
    p = subprocess.run(["unshare", "--net", "sh", "-c",
                        setup + ' && exec "$0" "$1" outside', sys.executable,
                        os.path.abspath(__file__)], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(
                           os.path.abspath(__file__)))))
    check(p.returncode == 0, "checks from %s:\n%s%s" % (OUTSIDE, p.stdout, p.stderr[-3000:]))


# ---- the access log, request ids, the slow-query log ----------------------

def log_lines(s):
    """The JSON lines the stopped server s wrote to stderr."""
    out = []
    for line in s.stderr.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_access_log_is_one_json_line_per_request_with_secrets_masked():
    s = Server(quiet=False)
    try:
        eq(s.app("POST", "/logged", {"name": "hush-name"})[0], 200, "write")
        st, _, hdrs, _ = s.request(
            "GET", "/test-org/test-app/logged?access_token=SECRET-TOKEN-1&ql=" +
            "select%20*%20where%20name%3D'hush-name'", headers={"X-Request-Id": "req-42.a:b"})
        # a token that is none is refused, and still logged masked
        eq((st, hdrs["x-request-id"]), (401, "req-42.a:b"), "a sane id is echoed")
        eq(s.app("GET", "/logged/hush-name?password=SECRET-PASS-2")[0], 200, "read")
        eq(s.request("GET", "/nope-org/nope-app")[0], 404, "a miss")
    finally:
        s.stop()
    s.close()
    lines = [l for l in log_lines(s) if "slow_query" not in l]
    eq(len(lines), 4, "one line per request: %r" % lines)
    for l in lines:
        eq(sorted(l), ["bytes", "duration_ms", "method", "request_id", "route", "status",
                       "target", "time"], "the fields")
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", l["time"]), l["time"])
        check(l["bytes"] > 0 and l["duration_ms"] >= 0, l)
    eq([(l["method"], l["route"], l["status"]) for l in lines],
       [("POST", "/{org}/{app}/{collection}", 200),
        ("GET", "unmatched", 401),         # credentials are read before routing
        ("GET", "/{org}/{app}/{collection}/{entity}", 200),
        ("GET", "unmatched", 404)], "method, route template, status")
    eq(lines[1]["request_id"], "req-42.a:b", "the id in the log")
    eq(lines[1]["target"], "/test-org/test-app/logged?access_token=***&ql=" +
       "select%20*%20where%20name%3D'hush-name'", "the target, secrets masked")
    for secret in ("SECRET-TOKEN-1", "SECRET-PASS-2"):
        check(secret not in s.stderr, "%s leaked into the log:\n%s" % (secret, s.stderr))


def test_request_ids_are_echoed_when_sane_or_made():
    s = srv()
    made = set()
    for sent in (None, "", "has space", "x" * 65, "bad\u00e9", "semi;colon"):
        headers = {} if sent is None else {"X-Request-Id": sent.encode("utf-8")}
        st, _, hdrs, _ = s.request("GET", "/status", headers=headers)
        rid = hdrs.get("x-request-id", "")
        check(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", rid),
              "%r got a new id, not %r" % (sent, rid))
        made.add(rid)
    eq(len(made), 6, "each made id is new")
    st, doc, hdrs, _ = s.request("GET", "/test-org/test-app/nothing-here/x",
                                 headers={"X-Request-Id": "y" * 64})
    eq((st, hdrs["x-request-id"]), (404, "y" * 64), "an error echoes it too")


def test_slow_query_log_names_the_query_and_its_plan():
    s = Server(quiet=False, args=["--slow-query-ms", "1"])
    try:
        batch = [{"name": "n%04d" % i, "s": "word%d " % i * 40} for i in range(1000)]
        eq(s.app("POST", "/slows", batch)[0], 200, "1000 entities")
        st, _, hdrs, _ = s.request(
            "GET", "/test-org/test-app/slows?limit=1000&ql=" +
            "select%20*%20where%20not%20name%20%3D%20'nothing'")
        eq(st, 200, "a scan")
        rid = hdrs["x-request-id"]
        fams = scrape(s)
    finally:
        s.stop()
    s.close()
    slow = [l for l in log_lines(s) if l.get("slow_query")]
    eq(len(slow), 1, "one slow query: %r" % slow)
    l = slow[0]
    eq((l["collection"], l["request_id"], l["route"], l["result"]),
       ("slows", rid, "/{org}/{app}/{collection}", "ok"), "what ran")
    eq(l["ql"], "(select *) (where (not (= name 'nothing')))", "the canonical ql")
    check(l["plan"].startswith("scan:") and l["duration_ms"] >= 1, l)
    eq(value(fams, "ugstore_slow_queries_total"), 1, "counted")
    # a threshold no query reaches logs nothing
    s = Server(quiet=False, args=["--slow-query-ms", "600000"])
    try:
        eq(s.request("GET", "/test-org/test-app/slows?ql=select%20*")[0], 200, "quick")
    finally:
        s.stop()
    s.close()
    eq([l for l in log_lines(s) if l.get("slow_query")], [], "nothing slow")


if __name__ == "__main__" and sys.argv[1:] == ["outside"]:
    outside_checks()
