/*
** exec.c: runs a parsed query over one scope (a root collection, a
** sub-collection or a connection list).
**
** This executor drives every query from the scope's own edge listing,
** newest first, and evaluates the whole predicate on each entity
** (eval.c).  Without `order by` it stops as soon as the page is full and
** its cursor is the scan position of the last match, so paging is
** stateless and stable under concurrent inserts.  With `order by` (or
** `within`, nearest first) it collects every match, at most
** QUERY_MAX_SORT, sorts them, and pages by offset.  Property indexes that
** let a selective predicate drive the scan are the planner's job and do
** not exist yet; results are the same either way.
*/
#include "query/query.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCAN_BATCH 256

static const char PLAN_SCAN[] = "scan of the collection's edges, newest first; "
                                "every entity checked against the whole predicate";
static const char PLAN_SORT[] = "scan of the collection's edges; matches sorted in memory";
static const char PLAN_DIRECT[] = "direct lookup of the named entities";

void
query_result_clear(query_result *res)
{
	json_decref(res->entities);
	free(res->distance);
	memset(res, 0, sizeof *res);
}

/* The first `within` of the predicate that is not under a NOT. */
static const ql_node *
find_within(const ql_node *n)
{
	if (!n) return NULL;
	switch (n->kind) {
	case QL_WITHIN: return n;
	case QL_AND:
	case QL_OR:
		for (size_t i = 0; i < n->u.list.n; i++) {
			const ql_node *w = find_within(n->u.list.kids[i]);
			if (w) return w;
		}
		return NULL;
	default: return NULL;
	}
}

/* Reads an entity of the scope; *e is NULL when it is gone or of another
** type. */
static store_rc
load(store_txn *t, const store_app *app, const query_scope *sc, const store_id *id,
     json_t **e)
{
	store_rc rc = store_entity_get(t, app, id, e);
	if (rc == STORE_NOTFOUND) {
		*e = NULL;
		return STORE_OK;
	}
	if (rc) return rc;
	if (sc->type && sc->type[0]) {
		const char *type = json_string_value(json_object_get(*e, "type"));
		if (!type || strcmp(type, sc->type) != 0) {
			json_decref(*e);
			*e = NULL;
		}
	}
	return STORE_OK;
}

/* ---- unsorted: newest first, stop at limit --------------------------- */

static store_rc
run_scan(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q,
         size_t limit, const char *cursor, query_result *res)
{
	store_id ids[SCAN_BATCH];
	store_pos poss[SCAN_BATCH], from = { .set = 0 };
	size_t n;
	store_rc rc = STORE_OK;

	if (cursor && *cursor && !query_cursor_decode(cursor, strlen(cursor), &from))
		return STORE_INVALID;
	res->plan = PLAN_SCAN;
	for (;;) {
		rc = store_edge_scan(t, app, &sc->owner, sc->kind, sc->name, &from,
		                     SCAN_BATCH, ids, poss, &n);
		if (rc || n == 0) return rc;
		for (size_t i = 0; i < n; i++) {
			json_t *e;
			if ((rc = load(t, app, sc, &ids[i], &e))) return rc;
			if (!e) continue;
			if (!query_eval(q->where, e)) {
				json_decref(e);
				continue;
			}
			json_array_append_new(res->entities, e);
			if (json_array_size(res->entities) == limit) {
				query_cursor_encode(&poss[i], res->cursor);
				res->has_cursor = 1;
				return STORE_OK;
			}
		}
		from = poss[n - 1];
		if (n < SCAN_BATCH) return STORE_OK;
	}
}

/* ---- sorted: collect, sort, page by offset ------------------------------ */

typedef struct {
	json_t *e;
	double  distance;
	size_t  seq;          /* scan order: newest first breaks ties */
} match;

typedef struct {
	const ql_query *q;
	int             by_distance;
} sort_ctx;

/* Type rank for mixed fields (spec 6.6): double, long, string, boolean;
** a missing value sorts last either way. */
enum { R_DOUBLE, R_LONG, R_STRING, R_BOOL, R_MISSING };

static json_t *
first_value(json_t *v, const char *path)
{
	while (v) {
		if (json_is_array(v)) v = json_array_get(v, 0);
		if (!*path) return json_is_object(v) || json_is_array(v) ? NULL : v;
		if (!json_is_object(v)) return NULL;
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		const char *key;
		json_t *x, *next = NULL;
		json_object_foreach(v, key, x)
			if (strlen(key) == n && strncasecmp(key, path, n) == 0) next = x;
		v = next;
		path = dot ? dot + 1 : "";
	}
	return NULL;
}

static int
rank(json_t *v)
{
	if (json_is_real(v)) return R_DOUBLE;
	if (json_is_integer(v)) return R_LONG;
	if (json_is_string(v)) return R_STRING;
	if (json_is_boolean(v)) return R_BOOL;
	return R_MISSING;
}

static int
cmp_values(json_t *a, json_t *b)
{
	int ra = rank(a), rb = rank(b);
	if (ra != rb) return ra < rb ? -1 : 1;
	switch (ra) {
	case R_DOUBLE: {
		double x = json_real_value(a), y = json_real_value(b);
		return x < y ? -1 : x > y;
	}
	case R_LONG: {
		json_int_t x = json_integer_value(a), y = json_integer_value(b);
		return x < y ? -1 : x > y;
	}
	case R_STRING: {
		int c = strcasecmp(json_string_value(a), json_string_value(b));
		return c < 0 ? -1 : c > 0;
	}
	case R_BOOL:
		return json_is_true(a) - json_is_true(b);
	}
	return 0;
}

static int
cmp_matches(const void *pa, const void *pb, void *pctx)
{
	const match *a = pa, *b = pb;
	const sort_ctx *c = pctx;
	for (size_t i = 0; i < c->q->norder; i++) {
		json_t *x = first_value(a->e, c->q->order[i].prop);
		json_t *y = first_value(b->e, c->q->order[i].prop);
		int mx = rank(x) == R_MISSING, my = rank(y) == R_MISSING;
		if (mx != my) return mx ? 1 : -1;
		int r = cmp_values(x, y);
		if (r) return c->q->order[i].desc ? -r : r;
	}
	if (c->by_distance && a->distance != b->distance)
		return a->distance < b->distance ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static store_rc
run_sorted(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q,
           const ql_node *within, size_t limit, const char *cursor, query_result *res)
{
	store_id ids[SCAN_BATCH];
	store_pos pos = { .set = 0 };
	uint64_t offset = 0;
	match *m = NULL;
	size_t nm = 0, cap = 0, n;
	store_rc rc = STORE_OK;

	if (cursor && *cursor && !query_cursor_decode_offset(cursor, strlen(cursor), &offset))
		return STORE_INVALID;
	res->plan = PLAN_SORT;
	do {
		rc = store_edge_list(t, app, &sc->owner, sc->kind, sc->name, &pos, SCAN_BATCH,
		                     ids, &n, &pos);
		for (size_t i = 0; rc == STORE_OK && i < n; i++) {
			json_t *e;
			if ((rc = load(t, app, sc, &ids[i], &e))) break;
			if (!e) continue;
			if (!query_eval(q->where, e)) {
				json_decref(e);
				continue;
			}
			if (nm == QUERY_MAX_SORT) {
				json_decref(e);
				rc = STORE_TOOBIG;
				break;
			}
			if (nm == cap) {
				cap = cap ? cap * 2 : 64;
				m = xrealloc(m, cap * sizeof *m);
			}
			m[nm].e = e;
			m[nm].seq = nm;
			m[nm].distance = 0;
			if (within)
				query_location_distance(e, within->u.within.prop, within->u.within.lat,
				                        within->u.within.lon, &m[nm].distance);
			nm++;
		}
	} while (rc == STORE_OK && n == SCAN_BATCH);
	if (rc == STORE_OK) {
		sort_ctx c = { q, within != NULL };
		qsort_r(m, nm, sizeof *m, cmp_matches, &c);
		if (within) res->distance = xmalloc((limit ? limit : 1) * sizeof(double));
		for (size_t i = (size_t)offset; i < nm && json_array_size(res->entities) < limit; i++) {
			if (within) res->distance[json_array_size(res->entities)] = m[i].distance;
			json_array_append(res->entities, m[i].e);
		}
		if (json_array_size(res->entities) == limit) {
			query_cursor_encode_offset(offset + limit, res->cursor);
			res->has_cursor = 1;
		}
	}
	for (size_t i = 0; i < nm; i++) json_decref(m[i].e);
	free(m);
	return rc;
}

/* ---- direct: ids and names ------------------------------------------------ */

static store_rc
run_direct(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q,
           size_t limit, query_result *res)
{
	res->plan = PLAN_DIRECT;
	for (size_t i = 0; i < q->ndirect && json_array_size(res->entities) < limit; i++) {
		store_id id;
		store_rc rc;
		json_t *e;
		if (q->direct[i].is_uuid) {
			memcpy(id.b, q->direct[i].uuid, 16);
			rc = STORE_OK;
		} else if (sc->type && sc->type[0]) {
			rc = store_entity_find(t, app, sc->type,
			                       (store_slice){ q->direct[i].name, strlen(q->direct[i].name) },
			                       &id);
		} else {
			rc = STORE_NOTFOUND;
		}
		if (rc == STORE_NOTFOUND) continue;
		if (rc) return rc;
		rc = store_edge_has(t, app, &sc->owner, sc->kind, sc->name, &id);
		if (rc == STORE_NOTFOUND) continue;
		if (rc || (rc = load(t, app, sc, &id, &e))) return rc;
		if (e) json_array_append_new(res->entities, e);
	}
	return STORE_OK;
}

store_rc
query_run(store_txn *t, const store_app *app, const query_scope *scope,
          const ql_query *q, size_t limit, const char *cursor, query_result *res)
{
	const ql_node *within = find_within(q->where);
	store_rc rc;

	memset(res, 0, sizeof *res);
	res->entities = json_array();
	if (limit == 0) return STORE_OK;
	if (q->ndirect) rc = run_direct(t, app, scope, q, limit, res);
	else if (q->norder || within) rc = run_sorted(t, app, scope, q, within, limit, cursor, res);
	else rc = run_scan(t, app, scope, q, limit, cursor, res);
	if (rc) query_result_clear(res);
	return rc;
}
