"""What a query reads: for a table of query shapes over N entities, the
counts `explain=true` reports after running (index entries and edges read,
counting included; entities read) stay O(m + limit), m the entries of the
smallest term (the results k when every term bounds one path), never
O(N).  Deterministic: counts, not times."""
import urllib.parse

from harness import Server, eq, check

N = 3000          # entities; `i` spread evenly (0, 100, ..., 299900), not in time order
LIMIT = 10


def entity(j):
    return {"name": "e%d" % j, "i": (j * 7919) % N * 100, "grp": "g%d" % (j % 10),
            "flag": j % 2 == 0}


def shapes():
    """(ql, reference predicate, order[, the smallest term's predicate when
    the where bounds several paths]) for each shape."""
    return [
        ("i > 150000 and i < 150500", lambda e: 150000 < e["i"] < 150500, None),
        ("i >= 150000 and i <= 150500", lambda e: 150000 <= e["i"] <= 150500, None),
        ("i > 888598 and i < 841235", lambda e: False, None),
        ("i > 150000 and i < 151000 order by i desc", lambda e: 150000 < e["i"] < 151000, "desc"),
        ("i > 150000 and i < 151000 order by i", lambda e: 150000 < e["i"] < 151000, "asc"),
        ("grp = 'g3' and i > 100000 and i < 110000",
         lambda e: e["grp"] == "g3" and 100000 < e["i"] < 110000, None,
         lambda e: 100000 < e["i"] < 110000),
        ("i > 100000 and grp = 'g3' and i < 103000 and flag = false",
         lambda e: e["grp"] == "g3" and 100000 < e["i"] < 103000 and not e["flag"], None,
         lambda e: 100000 < e["i"] < 103000),
        ("grp = 'g3' and i > 100000 and i < 200000",
         lambda e: e["grp"] == "g3" and 100000 < e["i"] < 200000, None,
         lambda e: e["grp"] == "g3"),
        ("i = 4200 and i > 100", lambda e: e["i"] == 4200, None),
    ]


def test_conjunctive_ranges_read_what_they_return():
    with Server() as s:
        made = []
        for start in range(0, N, 500):
            batch = [entity(j) for j in range(start, start + 500)]
            st, doc = s.app("POST", "/reads", batch)
            eq((st, len(doc["entities"])), (200, 500), "batch")
            made += batch
        for ql, pred, order, *drive in shapes():
            want = [e["name"] for e in reversed(made) if pred(e)]
            if order:
                want = [e["name"] for e in sorted((e for e in made if pred(e)),
                                                  key=lambda e: e["i"], reverse=order == "desc")]
            k = len(want)
            m = sum(1 for e in made if drive[0](e)) if drive else k
            got, cursor, reads = [], None, []
            while True:
                params = {"ql": ql, "limit": str(LIMIT), "explain": "true"}
                if cursor:
                    params["cursor"] = cursor
                st, doc = s.app("GET", "/reads?" + urllib.parse.urlencode(params))
                eq(st, 200, ql)
                got += [e["name"] for e in doc["entities"]]
                reads.append((doc["explain"]["entries_read"], doc["explain"]["entities_read"],
                              doc["explain"]["plan"]))
                cursor = doc.get("cursor")
                if not cursor:
                    break
            eq(got, want, ql)
            for entries, entities, plan in reads:
                # each term counted up to about the smallest count (in
                # rounds: 16, 64, ...), the driving range read once, each
                # entity of it at most once per page
                check(entities <= m + LIMIT, "%s: read %d entities, smallest term %d (%s)"
                      % (ql, entities, m, plan))
                check(entries <= 8 * (m + LIMIT) + 64, "%s: read %d index entries, smallest "
                      "term %d (%s)" % (ql, entries, m, plan))


def test_a_lone_equality_reads_a_page_not_its_matches():
    """An equality with nothing to weigh it against is the plan whatever it
    holds: a page of it reads about a page of entries, not a count of its
    thousands of matches."""
    with Server() as s:
        for start in range(0, N, 500):
            st, doc = s.app("POST", "/lone", [entity(j) for j in range(start, start + 500)])
            eq(st, 200, "batch")
        cursor, pages = None, 0
        while pages < 5:
            params = {"ql": "select * where flag = true", "limit": str(LIMIT), "explain": "true"}
            if cursor:
                params["cursor"] = cursor
            st, doc = s.app("GET", "/lone?" + urllib.parse.urlencode(params))
            eq((st, len(doc["entities"])), (200, LIMIT), "page %d" % pages)
            x = doc["explain"]
            check(x["plan"].startswith("equality: index of flag") and x["entries_read"] <= 64,
                  "page %d: %s, %d entries read" % (pages, x["plan"], x["entries_read"]))
            cursor, pages = doc["cursor"], pages + 1
