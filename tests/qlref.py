"""The reference evaluation the query differential tests compare with:
values at a dotted path, sort values and the mixed-type order of spec 6.6,
and a query's expected listing."""
import functools


def val(e, path):
    """All values at a dotted path, arrays expanded (reference)."""
    cur = [e]
    for part in path.split("."):
        nxt = []
        for c in cur:
            if isinstance(c, dict):
                for k, v in c.items():
                    if k.lower() == part:
                        nxt.extend(v if isinstance(v, list) else [v])
        cur = nxt
    return cur


def sort_value(e, path):
    cur = e
    for part in path.split("."):
        if isinstance(cur, list):
            cur = cur[0] if cur else None
        if not isinstance(cur, dict):
            return None
        cur = next((v for k, v in cur.items() if k.lower() == part), None)
    if isinstance(cur, list):
        cur = cur[0] if cur else None
    return None if isinstance(cur, (dict, list)) else cur


def rank(v):
    if isinstance(v, bool):
        return 3
    if isinstance(v, float):
        return 0
    if isinstance(v, int):
        return 1
    if isinstance(v, str):
        return 2
    return 4


def key(v):
    r = rank(v)
    return (r, v.lower() if r == 2 else v if r < 4 else 0)


def expected(live, pred, order):
    """live: entities oldest first.  Default order newest first; with
    `order by`, each key with missing values last, and ties in the first
    key's direction (ascending: older first)."""
    hits = [(age, e) for age, e in enumerate(live) if pred(e)]
    if not order:
        return [e["n"] for _, e in reversed(hits)]
    orders = order if isinstance(order, list) else [order]

    def cmp(a, b):
        for path, desc in orders:
            x, y = sort_value(a[1], path), sort_value(b[1], path)
            if (x is None) != (y is None):
                return 1 if x is None else -1
            if x is None or key(x) == key(y):
                continue
            r = -1 if key(x) < key(y) else 1
            return -r if desc else r
        r = a[0] - b[0]
        return r if not orders[0][1] else -r

    hits.sort(key=functools.cmp_to_key(cmp))
    return [e["n"] for _, e in hits]
