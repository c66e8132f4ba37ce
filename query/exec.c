/*
** exec.c: the query planner and executor.
**
** A query runs over one scope: a root collection, a sub-collection or a
** connection list.  The planner picks one driving scan; the executor reads
** candidates from it, evaluates the whole predicate on each (eval.c) and
** stops when the page is full.  Plans:
**
**   equality  an `=` (or a one-word `contains`) on an indexed property of
**             a root collection: that value's index entries backwards,
**             which is newest first; O(page); cursor = index position.
**   order     one `order by` key on a root collection: that property's
**             index in order, then the entities that lack it; O(page).
**   range     a range, prefix or word-prefix term whose index range holds
**             fewer than QUERY_RANGE_CAP entries: read whole, listed newest
**             first; cursor = (time, uuid) of the last entity listed.
**   sort      several `order by` keys, or `within`: every candidate (from
**             the smallest usable index range, else the scope) sorted in
**             memory, at most QUERY_MAX_SORT; cursor = offset.
**   scan      the scope's own edge listing, newest first; O(scanned).
**   direct    DIRECT ids.
**
** Only terms of the top-level AND chain drive a plan; OR and NOT are
** evaluated on the candidates.  Indexes exist for root collections only:
** sub-collection and connection scopes are their owner's edges, scanned.
*/
#include "query/query.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCAN_BATCH 256

void
query_result_clear(query_result *res)
{
	json_decref(res->entities);
	free(res->distance);
	memset(res, 0, sizeof *res);
}

/* The first `within` of the top-level AND chain. */
static const ql_node *
find_within(const ql_node *n)
{
	if (!n) return NULL;
	if (n->kind == QL_WITHIN) return n;
	if (n->kind != QL_AND) return NULL;
	for (size_t i = 0; i < n->u.list.n; i++)
		if (n->u.list.kids[i]->kind == QL_WITHIN) return n->u.list.kids[i];
	return NULL;
}

/* Reads an entity of the scope; *e is NULL when it is gone or of another
** type.  Each read is a unit of the scope's progress meter. */
static store_rc
load(store_txn *t, const store_app *app, const query_scope *sc, const store_id *id,
     json_t **e)
{
	if (query_charge(sc->progress, 1, 0)) return STORE_STOPPED;
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

/* Loads id; *e is the entity when it is in scope and matches, else NULL. */
static store_rc
load_match(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q,
           const store_id *id, json_t **e)
{
	store_rc rc = load(t, app, sc, id, e);
	if (rc || !*e) return rc;
	int r = query_eval(q->where, *e, sc->progress);
	if (r != 1) {
		json_decref(*e);
		*e = NULL;
	}
	return r < 0 ? STORE_STOPPED : STORE_OK;
}

static int
page_full(const query_result *res, size_t limit)
{
	return json_array_size(res->entities) >= limit;
}

/* Appends e (taken) to the page; when that fills it, the cursor is made
** of kind, an optional phase byte (>= 0) and pos[0..n).  Returns 1 then. */
static int
take(query_result *res, json_t *e, size_t limit, int kind, int phase, const void *pos,
     size_t n)
{
	unsigned char raw[1 + QUERY_CURSOR_RAW_MAX];
	json_array_append_new(res->entities, e);
	if (!page_full(res, limit)) return 0;
	size_t o = 0;
	if (phase >= 0) raw[o++] = (unsigned char)phase;
	memcpy(raw + o, pos, n);
	query_cursor_encode_raw(kind, raw, o + n, res->cursor);
	res->has_cursor = 1;
	return 1;
}

/* ---- terms: what an index can drive ----------------------------------------- */

typedef struct {
	store_ix_range r;
	store_ix_value lo, hi;
	char           uuid[37];  /* a UUID literal's text */
	int            eq;        /* every entry of the range holds one value */
	size_t         count;     /* entries, counted up to QUERY_RANGE_CAP */
	const char    *what;
} term;

static int
word_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c >= 0x80;
}

/* contains: the literal's first word, exact or with one trailing '*'. */
static int
contains_term(const ql_node *n, term *tm)
{
	const char *p = n->u.contains.val.u.s.lower, *end = p + n->u.contains.val.u.s.len;
	while (p < end && !word_char((unsigned char)*p) && *p != '*') p++;
	const char *s = p;
	while (p < end && word_char((unsigned char)*p)) p++;
	if (p == s || p - s > 64) return 0;
	if (s > n->u.contains.val.u.s.lower && s[-1] == '*') return 0;
	int star = p < end && *p == '*';
	if (star && p + 1 < end && word_char((unsigned char)p[1])) return 0;
	tm->r.path = n->u.contains.prop;
	tm->r.tag = STORE_IX_WORD;
	tm->lo = (store_ix_value){ .tag = STORE_IX_WORD, .s = s, .n = (size_t)(p - s) };
	tm->r.lo = &tm->lo;
	if (star) {
		tm->r.prefix = 1;
		tm->what = "word prefix";
	} else {
		tm->r.hi = &tm->lo;
		tm->r.lo_incl = tm->r.hi_incl = 1;
		tm->eq = 1;
		tm->what = "word";
	}
	return 1;
}

/* The index range a term of the top-level AND chain implies, if any. */
static int
term_of(const ql_node *n, const char *type, term *tm)
{
	const ql_value *v;
	memset(tm, 0, sizeof *tm);
	tm->r.type = type;
	if (n->kind == QL_WITHIN) {
		/* the latitude band that holds every point within the distance
		** (a degree of latitude is at least 110.5 km); eval checks the rest */
		double dlat = n->u.within.distance / 110500.0 + 1e-9;
		if (!store_index_holds(n->u.within.prop, STORE_IX_GEO)) return 0;
		tm->r.path = n->u.within.prop;
		tm->r.tag = STORE_IX_GEO;
		tm->lo = (store_ix_value){ .tag = STORE_IX_GEO, .d = n->u.within.lat - dlat, .d2 = -1e308 };
		tm->hi = (store_ix_value){ .tag = STORE_IX_GEO, .d = n->u.within.lat + dlat, .d2 = 1e308 };
		tm->r.lo = &tm->lo;
		tm->r.hi = &tm->hi;
		tm->r.lo_incl = tm->r.hi_incl = 1;
		tm->what = "latitude band";
		return 1;
	}
	/* only what the index holds can drive (store_index_holds) */
	if (n->kind == QL_CONTAINS)
		return store_index_holds(n->u.contains.prop, STORE_IX_WORD) && contains_term(n, tm);
	if (n->kind != QL_CMP || !store_index_holds(n->u.cmp.prop, STORE_IX_STRING)) return 0;
	v = &n->u.cmp.val;
	tm->r.path = n->u.cmp.prop;
	switch (v->type) {
	case QL_VSTRING: {
		const char *star = memchr(v->u.s.lower, '*', v->u.s.len);
		tm->lo = (store_ix_value){ .tag = STORE_IX_STRING, .s = v->u.s.lower, .n = v->u.s.len };
		if (star) {
			/* 'fred*' is a prefix; any other '*' drives nothing */
			if (n->u.cmp.op != QL_EQ || star != v->u.s.lower + v->u.s.len - 1 ||
			    v->u.s.len == 1)
				return 0;
			tm->lo.n--;
			tm->r.tag = STORE_IX_STRING;
			tm->r.lo = &tm->lo;
			tm->r.prefix = 1;
			tm->what = "prefix";
			return 1;
		}
		break;
	}
	case QL_VUUID:
		store_id_format((const store_id *)v->u.uuid, tm->uuid);
		tm->lo = (store_ix_value){ .tag = STORE_IX_STRING, .s = tm->uuid, .n = 36 };
		break;
	case QL_VLONG:   tm->lo = (store_ix_value){ .tag = STORE_IX_LONG, .l = v->u.l }; break;
	case QL_VDOUBLE: tm->lo = (store_ix_value){ .tag = STORE_IX_DOUBLE, .d = v->u.d }; break;
	case QL_VBOOL:   tm->lo = (store_ix_value){ .tag = STORE_IX_BOOL, .b = v->u.b }; break;
	}
	tm->r.tag = tm->lo.tag;
	switch (n->u.cmp.op) {
	case QL_EQ:
		tm->r.lo = tm->r.hi = &tm->lo;
		tm->r.lo_incl = tm->r.hi_incl = 1;
		tm->eq = 1;
		tm->what = "equality";
		break;
	case QL_GT:
	case QL_GTE:
		tm->r.lo = &tm->lo;
		tm->r.lo_incl = n->u.cmp.op == QL_GTE;
		tm->what = "range";
		break;
	case QL_LT:
	case QL_LTE:
		tm->hi = tm->lo;
		tm->r.hi = &tm->hi;
		tm->r.hi_incl = n->u.cmp.op == QL_LTE;
		tm->what = "range";
		break;
	}
	return 1;
}

/* Fills tms[] (room for QL_MAX_TERMS) from the top-level AND chain and
** counts each range; returns how many. */
static store_rc
collect_terms(store_txn *t, const store_app *app, const query_scope *sc, const ql_node *w,
              term *tms, size_t *n)
{
	const ql_node *const *kids = &w;
	size_t nk = 1;
	store_rc rc = STORE_OK;

	*n = 0;
	if (!w || !sc->root || !sc->type || !sc->type[0]) return STORE_OK;
	if (w->kind == QL_AND) {
		kids = (const ql_node *const *)w->u.list.kids;
		nk = w->u.list.n;
	}
	for (size_t i = 0; i < nk && *n < QL_MAX_TERMS && rc == STORE_OK; i++) {
		term *tm = &tms[*n];
		if (!term_of(kids[i], sc->type, tm)) continue;
		rc = store_index_count(t, app, &tm->r, QUERY_RANGE_CAP, &tm->count);
		(*n)++;
	}
	return rc;
}

/* The term with the fewest entries (only equalities when eq_only). */
static term *
best_term(term *tms, size_t n, int eq_only)
{
	term *best = NULL;
	for (size_t i = 0; i < n; i++) {
		if (eq_only && !tms[i].eq) continue;
		if (!best || tms[i].count < best->count) best = &tms[i];
	}
	return best;
}

static void
describe(query_result *res, const char *plan, const term *tm)
{
	if (tm)
		snprintf(res->plan, sizeof res->plan, "%s: index of %.60s (%s, %zu%s entries)",
		         plan, tm->r.path, tm->what, tm->count,
		         tm->count >= QUERY_RANGE_CAP ? "+" : "");
	else
		snprintf(res->plan, sizeof res->plan, "%s", plan);
}

/* (time, uuid): an entity's place in a newest-first listing, and the
** payload of a TIME cursor (8 bytes big-endian time, 16 bytes uuid). */
typedef struct {
	uint64_t time;
	store_id id;
} stamp;

static void
stamp_encode(const stamp *st, unsigned char raw[24])
{
	for (int k = 0; k < 8; k++) raw[k] = (unsigned char)(st->time >> (56 - 8 * k));
	memcpy(raw + 8, st->id.b, 16);
}

static int
stamp_decode(const char *cursor, stamp *st)
{
	unsigned char raw[24];
	if (query_cursor_decode_raw(cursor, strlen(cursor), QUERY_CURSOR_TIME, raw, 24) != 24)
		return 0;
	st->time = 0;
	for (int k = 0; k < 8; k++) st->time = (st->time << 8) | raw[k];
	memcpy(st->id.b, raw + 8, 16);
	return 1;
}

/* ---- plan: scan the scope's edges ------------------------------------------- */

static store_rc
run_scan(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q,
         size_t limit, const char *cursor, query_result *res)
{
	store_id ids[SCAN_BATCH];
	store_pos poss[SCAN_BATCH], from = { .set = 0 };
	size_t n;
	store_rc rc;

	if (cursor && *cursor && query_cursor_kind(cursor) == QUERY_CURSOR_TIME) {
		/* where a range plan stopped: (time, uuid) is an edge position */
		stamp st;
		if (!stamp_decode(cursor, &st)) return STORE_INVALID;
		store_pos_make(&from, st.time, &st.id);
	} else if (cursor && *cursor && !query_cursor_decode(cursor, strlen(cursor), &from)) {
		return STORE_INVALID;
	}
	describe(res, "scan: the collection's edges newest first, each entity checked", NULL);
	for (;;) {
		rc = store_edge_scan(t, app, &sc->owner, sc->kind, sc->name, &from, SCAN_BATCH,
		                     ids, poss, &n);
		if (rc || n == 0) return rc;
		for (size_t i = 0; i < n; i++) {
			json_t *e;
			if ((rc = load_match(t, app, sc, q, &ids[i], &e))) return rc;
			if (!e) continue;
			if (take(res, e, limit, QUERY_CURSOR_EDGE, -1, poss[i].b, STORE_POS_SIZE))
				return STORE_OK;
		}
		from = poss[n - 1];
		if (n < SCAN_BATCH) return STORE_OK;
	}
}

/* ---- plan: equality, newest first -------------------------------------------- */

static store_rc
run_eq(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q,
       term *tm, size_t limit, const char *cursor, query_result *res)
{
	store_id ids[SCAN_BATCH];
	store_ix_pos *poss = xmalloc(SCAN_BATCH * sizeof *poss), *from = xcalloc(1, sizeof *from);
	size_t n;
	store_rc rc = STORE_OK;

	if (cursor && *cursor) {
		from->n = query_cursor_decode_raw(cursor, strlen(cursor), QUERY_CURSOR_INDEX, from->b,
		                                  STORE_IXPOS_MAX);
		if (!from->n) rc = STORE_INVALID;
	}
	describe(res, "equality", tm);
	tm->r.desc = 1;
	while (rc == STORE_OK) {
		rc = store_index_scan(t, app, &tm->r, from, SCAN_BATCH, ids, poss, NULL, &n);
		if (rc || n == 0) break;
		for (size_t i = 0; rc == STORE_OK && i < n; i++) {
			json_t *e;
			if ((rc = load_match(t, app, sc, q, &ids[i], &e)) || !e) continue;
			if (take(res, e, limit, QUERY_CURSOR_INDEX, -1, poss[i].b, poss[i].n)) goto done;
		}
		*from = poss[n - 1];
		if (n < SCAN_BATCH) break;
	}
done:
	free(poss);
	free(from);
	return rc;
}

/* ---- plan: a small range, read whole, newest first ----------------------------- */


static int
cmp_stamp_desc(const void *a, const void *b)
{
	const stamp *x = a, *y = b;
	if (x->time != y->time) return x->time < y->time ? 1 : -1;
	return -memcmp(x->id.b, y->id.b, 16);
}

/* Every entry of the terms' ranges (each counted, so the total is known),
** as unique stamps sorted newest first: the union of the ranges. */
static store_rc
range_stamps(store_txn *t, const store_app *app, term *const *tms, size_t nt,
             stamp **out, size_t *n)
{
	store_id ids[SCAN_BATCH];
	uint64_t times[SCAN_BATCH];
	store_ix_pos *poss = xmalloc(SCAN_BATCH * sizeof *poss), *from = xmalloc(sizeof *from);
	size_t total = 0, have = 0, j = 0, got;
	store_rc rc = STORE_OK;

	for (size_t k = 0; k < nt; k++) total += tms[k]->count + 1;
	stamp *st = xmalloc((total ? total : 1) * sizeof *st);
	for (size_t k = 0; k < nt && rc == STORE_OK; k++) {
		size_t mine = 0;
		from->n = 0;
		for (;;) {
			rc = store_index_scan(t, app, &tms[k]->r, from, SCAN_BATCH, ids, poss, times, &got);
			if (rc || got == 0) break;
			for (size_t i = 0; i < got && mine <= tms[k]->count; i++, mine++) {
				st[have].time = times[i];
				st[have].id = ids[i];
				have++;
			}
			*from = poss[got - 1];
			if (got < SCAN_BATCH || mine > tms[k]->count) break;
		}
	}
	if (have) qsort(st, have, sizeof *st, cmp_stamp_desc);
	for (size_t i = 0; i < have; i++)
		if (j == 0 || memcmp(st[j - 1].id.b, st[i].id.b, 16) != 0) st[j++] = st[i];
	free(poss);
	free(from);
	*out = st;
	*n = j;
	return rc;
}

static store_rc
run_range(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q,
          term *const *tms, size_t nt, size_t limit, const char *cursor, query_result *res)
{
	unsigned char raw[24];
	stamp after = { 0 }, *st = NULL;
	int have_after = 0;
	size_t n;
	store_rc rc;

	if (cursor && *cursor) {
		if (!stamp_decode(cursor, &after)) return STORE_INVALID;
		have_after = 1;
	}
	if (nt == 1) {
		describe(res, "range", tms[0]);
	} else {
		size_t total = 0;
		for (size_t k = 0; k < nt; k++) total += tms[k]->count;
		snprintf(res->plan, sizeof res->plan, "union: index ranges of %zu terms (%zu entries)",
		         nt, total);
	}
	if ((rc = range_stamps(t, app, tms, nt, &st, &n))) goto done;
	for (size_t i = 0; i < n; i++) {
		json_t *e;
		if (have_after && cmp_stamp_desc(&st[i], &after) <= 0) continue;
		if ((rc = load_match(t, app, sc, q, &st[i].id, &e))) break;
		if (!e) continue;
		stamp_encode(&st[i], raw);
		if (take(res, e, limit, QUERY_CURSOR_TIME, -1, raw, 24)) break;
	}
done:
	free(st);
	return rc;
}

/* ---- sort keys ------------------------------------------------------------------ */

/* Type rank for mixed fields (spec 6.6): double, long, string, boolean;
** a missing value sorts last either way. */
enum { R_DOUBLE, R_LONG, R_STRING, R_BOOL, R_MISSING };

/* The value an entity sorts by: the first scalar at path. */
static json_t *
sort_value(json_t *v, const char *path)
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

/* The index value of a sort value (v must not be missing). */
static store_ix_value
ix_value(json_t *v)
{
	switch (rank(v)) {
	case R_DOUBLE: return (store_ix_value){ .tag = STORE_IX_DOUBLE, .d = json_real_value(v) };
	case R_LONG:   return (store_ix_value){ .tag = STORE_IX_LONG, .l = json_integer_value(v) };
	case R_BOOL:   return (store_ix_value){ .tag = STORE_IX_BOOL, .b = json_is_true(v) };
	default:
		return (store_ix_value){ .tag = STORE_IX_STRING, .s = json_string_value(v),
		                         .n = json_string_length(v) };
	}
}

/* Is the index entry at pos the one e sorts by?  An entity with several
** values at the path (an array) has an entry for each, and counts only at
** its first; one without a scalar there sorts with the missing. */
static int
sorts_at(const store_app *app, const query_scope *sc, const char *path,
         const store_ix_pos *pos, json_t *e)
{
	json_t *sv = sort_value(e, path);
	if (rank(sv) == R_MISSING) return 0;
	store_ix_value iv = ix_value(sv);
	return store_index_pos_is(app, sc->type, path, pos, &iv);
}

/* ---- plan: one order by key through its index ------------------------------------ */

/* bound: a term of the where on the order key itself; the scan is then
** that term's range, and entities without the key cannot match. */
static store_rc
run_order(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q,
          const term *bound, size_t limit, const char *cursor, query_result *res)
{
	unsigned char raw[1 + STORE_IXPOS_MAX];
	store_id ids[SCAN_BATCH];
	store_ix_pos *poss = xmalloc(SCAN_BATCH * sizeof *poss), *from = xcalloc(1, sizeof *from);
	store_ix_range r = { .type = sc->type, .path = q->order[0].prop, .desc = q->order[0].desc };
	int phase = 0;
	size_t n;
	store_rc rc = STORE_OK;

	if (cursor && *cursor) {
		size_t got = query_cursor_decode_raw(cursor, strlen(cursor), QUERY_CURSOR_ORDER, raw,
		                                     sizeof raw);
		if (got < 1 || raw[0] > 1) {
			rc = STORE_INVALID;
			goto done;
		}
		phase = raw[0];
		memcpy(from->b, raw + 1, got - 1);
		from->n = got - 1;
	}
	if (bound) {
		r = bound->r;
		r.desc = q->order[0].desc;
		r.prefix = bound->r.prefix;
	}
	snprintf(res->plan, sizeof res->plan, "order: index of %.60s %s%s", r.path,
	         r.desc ? "descending" : "ascending",
	         bound ? " within the where's range" : ", then entities without it");
	/* phase 0: entities with a scalar at the path, in index order; an
	** entity listed under several values (an array) counts at the one it
	** sorts by, its first */
	while (phase == 0 && rc == STORE_OK) {
		rc = store_index_scan(t, app, &r, from, SCAN_BATCH, ids, poss, NULL, &n);
		if (rc) break;
		for (size_t i = 0; rc == STORE_OK && i < n; i++) {
			json_t *e;
			if ((rc = load_match(t, app, sc, q, &ids[i], &e)) || !e) continue;
			if (!sorts_at(app, sc, r.path, &poss[i], e)) {
				json_decref(e);
				continue;
			}
			if (take(res, e, limit, QUERY_CURSOR_ORDER, 0, poss[i].b, poss[i].n)) goto done;
		}
		if (n < SCAN_BATCH) {
			if (bound) goto done;
			phase = 1;
			from->n = 0;
		} else {
			*from = poss[n - 1];
		}
	}
	/* phase 1: the entities without it; ties follow the key's direction,
	** so ascending lists the older first */
	if (phase == 1 && rc == STORE_OK) {
		store_pos pos = { .set = 0 }, eposs[SCAN_BATCH];
		if (from->n == STORE_POS_SIZE) {
			memcpy(pos.b, from->b, STORE_POS_SIZE);
			pos.set = 1;
		}
		for (;;) {
			rc = store_edge_scan_dir(t, app, &sc->owner, sc->kind, sc->name, !r.desc, &pos,
			                         SCAN_BATCH, ids, eposs, &n);
			if (rc || n == 0) break;
			for (size_t i = 0; rc == STORE_OK && i < n; i++) {
				json_t *e;
				if ((rc = load_match(t, app, sc, q, &ids[i], &e)) || !e) continue;
				if (rank(sort_value(e, r.path)) != R_MISSING) {
					json_decref(e);
					continue;
				}
				if (take(res, e, limit, QUERY_CURSOR_ORDER, 1, eposs[i].b, STORE_POS_SIZE))
					goto done;
			}
			pos = eposs[n - 1];
			if (n < SCAN_BATCH) break;
		}
	}
done:
	free(poss);
	free(from);
	return rc;
}

/* ---- plan: sort in memory ------------------------------------------------------ */

/* A candidate with what it sorts by: the order keys' values (null when
** missing), the distance, and (time, uuid) for ties. */
typedef struct {
	json_t  *e;
	json_t  *keys;          /* array, one value per order key */
	double   distance;
	uint64_t time;
	store_id id;
} match;

typedef struct {
	const ql_query *q;
	int             by_distance;
} sort_ctx;

static int
cmp_matches(const void *pa, const void *pb, void *pctx)
{
	const match *a = pa, *b = pb;
	const sort_ctx *c = pctx;
	for (size_t i = 0; i < c->q->norder; i++) {
		json_t *x = json_array_get(a->keys, i), *y = json_array_get(b->keys, i);
		int mx = rank(x) == R_MISSING, my = rank(y) == R_MISSING;
		if (mx != my) return mx ? 1 : -1;
		int r = cmp_values(x, y);
		if (r) return c->q->order[i].desc ? -r : r;
	}
	if (c->by_distance && a->distance != b->distance)
		return a->distance < b->distance ? -1 : 1;
	/* ties follow the first key's direction: ascending lists the older
	** first, descending (and no order at all) the newer */
	int older_first = c->q->norder && !c->q->order[0].desc;
	int r = a->time < b->time ? -1 : a->time > b->time;
	if (!r) r = memcmp(a->id.b, b->id.b, 16);
	return older_first ? r : -r;
}

typedef struct {
	match  *m;
	size_t  n, cap;
	const ql_query *q;
	const ql_node  *within;
} matches;

static store_rc
add_match(matches *ms, json_t *e, uint64_t time, const store_id *id)
{
	if (ms->n == QUERY_MAX_SORT) {
		json_decref(e);
		return STORE_TOOBIG;
	}
	if (ms->n == ms->cap) {
		ms->cap = ms->cap ? ms->cap * 2 : 64;
		ms->m = xrealloc(ms->m, ms->cap * sizeof *ms->m);
	}
	match *m = &ms->m[ms->n++];
	m->e = e;
	m->keys = json_array();
	for (size_t i = 0; i < ms->q->norder; i++) {
		json_t *v = sort_value(e, ms->q->order[i].prop);
		json_array_append(m->keys, rank(v) == R_MISSING ? json_null() : v);
	}
	m->time = time;
	m->id = *id;
	m->distance = 0;
	if (ms->within)
		query_location_distance(e, ms->within->u.within.prop, ms->within->u.within.lat,
		                        ms->within->u.within.lon, &m->distance);
	return STORE_OK;
}

/* The keyset cursor: [key..., distance, time, "uuid"] of the last match. */
static int
sort_cursor_encode(const match *m, char out[QUERY_CURSOR_MAX])
{
	char id[37];
	store_id_format(&m->id, id);
	json_t *a = json_copy(m->keys);
	json_array_append_new(a, json_real(m->distance));
	json_array_append_new(a, json_integer((json_int_t)m->time));
	json_array_append_new(a, json_string(id));
	char *text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (text && strlen(text) <= QUERY_CURSOR_RAW_MAX) {
		query_cursor_encode_raw(QUERY_CURSOR_SORTKEY, text, strlen(text), out);
	} else {
		/* keys too long to carry: the entity itself, read again to resume */
		free(text);
		text = NULL;
		json_t *ref = json_pack("[s, I, f]", id, (json_int_t)m->time, m->distance);
		text = json_dumps(ref, JSON_COMPACT);
		json_decref(ref);
		if (!text) return 0;
		query_cursor_encode_raw(QUERY_CURSOR_SORTREF, text, strlen(text), out);
	}
	free(text);
	return 1;
}

static int
sort_cursor_decode(store_txn *t, const store_app *app, const ql_query *q, const char *c,
                   match *m)
{
	char text[QUERY_CURSOR_RAW_MAX + 1];
	size_t n = query_cursor_decode_raw(c, strlen(c), QUERY_CURSOR_SORTKEY, text, sizeof text - 1);
	json_t *a;
	if (!n && (n = query_cursor_decode_raw(c, strlen(c), QUERY_CURSOR_SORTREF, text,
	                                       sizeof text - 1))) {
		/* a reference: the last entity of the page, its keys read again */
		text[n] = '\0';
		a = json_loads(text, 0, NULL);
		const char *id = json_string_value(json_array_get(a, 0));
		json_t *e = NULL;
		int ok = json_is_array(a) && json_array_size(a) == 3 && id &&
		         json_is_integer(json_array_get(a, 1)) && json_is_number(json_array_get(a, 2)) &&
		         store_id_parse((store_slice){ id, strlen(id) }, &m->id) &&
		         store_entity_get(t, app, &m->id, &e) == STORE_OK;
		if (ok) {
			m->e = NULL;
			m->time = (uint64_t)json_integer_value(json_array_get(a, 1));
			m->distance = json_number_value(json_array_get(a, 2));
			m->keys = json_array();
			for (size_t i = 0; i < q->norder; i++) {
				json_t *v = sort_value(e, q->order[i].prop);
				json_array_append(m->keys, rank(v) == R_MISSING ? json_null() : v);
			}
		}
		json_decref(e);
		json_decref(a);
		return ok;
	}
	if (!n) return 0;
	text[n] = '\0';
	a = json_loads(text, 0, NULL);
	size_t k = q->norder;
	const char *id = json_string_value(json_array_get(a, k + 2));
	if (!json_is_array(a) || json_array_size(a) != k + 3 ||
	    !json_is_number(json_array_get(a, k)) || !json_is_integer(json_array_get(a, k + 1)) ||
	    !id || !store_id_parse((store_slice){ id, strlen(id) }, &m->id)) {
		json_decref(a);
		return 0;
	}
	m->e = NULL;
	m->keys = json_array();
	for (size_t i = 0; i < k; i++) json_array_append(m->keys, json_array_get(a, i));
	m->distance = json_number_value(json_array_get(a, k));
	m->time = (uint64_t)json_integer_value(json_array_get(a, k + 1));
	json_decref(a);
	return 1;
}

static store_rc
run_sorted(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q,
           const ql_node *within, const term *src, size_t limit, const char *cursor,
           query_result *res)
{
	matches ms = { .q = q, .within = within };
	match after = { 0 };
	int have_after = 0;
	uint64_t offset = 0;
	size_t n, start = 0;
	store_rc rc = STORE_OK;

	if (cursor && *cursor) {
		if (sort_cursor_decode(t, app, q, cursor, &after)) have_after = 1;
		else if (!query_cursor_decode_offset(cursor, strlen(cursor), &offset)) return STORE_INVALID;
	}
	describe(res, src ? "sort in memory, candidates from" : "sort in memory, candidates: every edge",
	         src);
	if (src) {
		stamp *st = NULL;
		term *one = (term *)src;
		rc = range_stamps(t, app, &one, 1, &st, &n);
		for (size_t i = 0; rc == STORE_OK && i < n; i++) {
			json_t *e;
			if ((rc = load_match(t, app, sc, q, &st[i].id, &e)) || !e) continue;
			rc = add_match(&ms, e, st[i].time, &st[i].id);
		}
		free(st);
	} else {
		store_id ids[SCAN_BATCH];
		store_pos poss[SCAN_BATCH], pos = { .set = 0 };
		do {
			rc = store_edge_scan(t, app, &sc->owner, sc->kind, sc->name, &pos, SCAN_BATCH,
			                     ids, poss, &n);
			for (size_t i = 0; rc == STORE_OK && i < n; i++) {
				json_t *e;
				if ((rc = load_match(t, app, sc, q, &ids[i], &e)) || !e) continue;
				rc = add_match(&ms, e, store_pos_time(&poss[i]), &ids[i]);
			}
			if (n) pos = poss[n - 1];
		} while (rc == STORE_OK && n == SCAN_BATCH);
	}
	if (rc == STORE_OK) {
		sort_ctx c = { q, within != NULL };
		if (ms.n) qsort_r(ms.m, ms.n, sizeof *ms.m, cmp_matches, &c);
		start = (size_t)offset;
		if (have_after)          /* the first match that sorts after the cursor */
			for (start = 0; start < ms.n && cmp_matches(&ms.m[start], &after, &c) <= 0; start++)
				;
		if (within) res->distance = xmalloc((limit ? limit : 1) * sizeof(double));
		size_t i;
		for (i = start; i < ms.n && !page_full(res, limit); i++) {
			if (within) res->distance[json_array_size(res->entities)] = ms.m[i].distance;
			json_array_append(res->entities, ms.m[i].e);
		}
		if (page_full(res, limit)) {
			if (!sort_cursor_encode(&ms.m[i - 1], res->cursor))
				query_cursor_encode_offset(i, res->cursor);
			res->has_cursor = 1;
		}
	}
	for (size_t i = 0; i < ms.n; i++) {
		json_decref(ms.m[i].e);
		json_decref(ms.m[i].keys);
	}
	json_decref(after.keys);
	free(ms.m);
	return rc;
}

/* ---- plan: several order by keys, grouped by the first key's index ------------ */

/* Sorts a group and appends its matches that come after the cursor;
** *full when the page filled up (res->cursor then set).  Empties the group. */
static store_rc
emit_group(matches *g, const sort_ctx *c, const match *after, size_t limit,
           query_result *res, int *full)
{
	store_rc rc = STORE_OK;
	*full = 0;
	if (g->n) qsort_r(g->m, g->n, sizeof *g->m, cmp_matches, (void *)c);
	for (size_t i = 0; i < g->n && !*full; i++) {
		if (after && cmp_matches(&g->m[i], after, (void *)c) <= 0) continue;
		json_array_append(res->entities, g->m[i].e);
		if (page_full(res, limit)) {
			*full = 1;
			if (sort_cursor_encode(&g->m[i], res->cursor)) res->has_cursor = 1;
			else rc = STORE_TOOBIG;
		}
	}
	for (size_t i = 0; i < g->n; i++) {
		json_decref(g->m[i].e);
		json_decref(g->m[i].keys);
	}
	g->n = 0;
	return rc;
}

/* bound: an equality or range term on the first key (a prefix is not used:
** a cursor restarts the scan at a value). */
static store_rc
run_order_groups(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q,
                 const term *bound, size_t limit, const char *cursor, query_result *res)
{
	match after = { 0 };
	matches grp = { .q = q };
	sort_ctx c = { q, 0 };
	store_ix_range r = { .type = sc->type, .path = q->order[0].prop };
	store_ix_value start;
	store_id ids[SCAN_BATCH];
	uint64_t times[SCAN_BATCH];
	store_ix_pos *poss = xmalloc(SCAN_BATCH * sizeof *poss), *from = xcalloc(1, sizeof *from);
	unsigned char *cur = xmalloc(STORE_IXPOS_MAX);
	size_t cur_n = 0, n;
	int have_after = 0, have_group = 0, full = 0, phase = 0;
	store_rc rc = STORE_OK;

	if (bound) r = bound->r;
	r.desc = q->order[0].desc;
	if (cursor && *cursor) {
		if (!sort_cursor_decode(t, app, q, cursor, &after)) {
			rc = STORE_INVALID;
			goto done;
		}
		have_after = 1;
		json_t *k0 = json_array_get(after.keys, 0);
		if (rank(k0) == R_MISSING) {
			phase = 1;
		} else {                     /* restart at the cursor's group */
			start = ix_value(k0);
			if (r.desc) { r.hi = &start; r.hi_incl = 1; }
			else { r.lo = &start; r.lo_incl = 1; }
		}
	}
	snprintf(res->plan, sizeof res->plan,
	         "order: index of %.60s %s, equal values sorted in memory by the other keys%s",
	         r.path, r.desc ? "descending" : "ascending",
	         bound ? ", within the where's range" : ", then entities without it");
	while (phase == 0 && rc == STORE_OK && !full) {
		rc = store_index_scan(t, app, &r, from, SCAN_BATCH, ids, poss, times, &n);
		for (size_t i = 0; rc == STORE_OK && !full && i < n; i++) {
			size_t vn = poss[i].n - 24;
			if (have_group && (vn != cur_n || memcmp(poss[i].b, cur, vn) != 0))
				rc = emit_group(&grp, &c, have_after ? &after : NULL, limit, res, &full);
			have_group = 1;
			cur_n = vn;
			memcpy(cur, poss[i].b, vn);
			json_t *e;
			if (rc || full || (rc = load_match(t, app, sc, q, &ids[i], &e)) || !e) continue;
			if (!sorts_at(app, sc, r.path, &poss[i], e)) {
				json_decref(e);
				continue;
			}
			rc = add_match(&grp, e, times[i], &ids[i]);
		}
		if (rc || full) break;
		if (n < SCAN_BATCH) {
			rc = emit_group(&grp, &c, have_after ? &after : NULL, limit, res, &full);
			if (bound) goto done;
			phase = 1;
		} else {
			*from = poss[n - 1];
		}
	}
	if (phase == 1 && rc == STORE_OK && !full) {
		/* the entities without the first key, sorted by the others */
		store_pos pos = { .set = 0 }, eposs[SCAN_BATCH];
		do {
			rc = store_edge_scan(t, app, &sc->owner, sc->kind, sc->name, &pos, SCAN_BATCH,
			                     ids, eposs, &n);
			for (size_t i = 0; rc == STORE_OK && i < n; i++) {
				json_t *e;
				if ((rc = load_match(t, app, sc, q, &ids[i], &e)) || !e) continue;
				if (rank(sort_value(e, r.path)) != R_MISSING) {
					json_decref(e);
					continue;
				}
				rc = add_match(&grp, e, store_pos_time(&eposs[i]), &ids[i]);
			}
			if (n) pos = eposs[n - 1];
		} while (rc == STORE_OK && n == SCAN_BATCH);
		if (rc == STORE_OK)
			rc = emit_group(&grp, &c, have_after ? &after : NULL, limit, res, &full);
	}
done:
	for (size_t i = 0; i < grp.n; i++) {
		json_decref(grp.m[i].e);
		json_decref(grp.m[i].keys);
	}
	free(grp.m);
	json_decref(after.keys);
	free(poss);
	free(from);
	free(cur);
	return rc;
}

/* ---- plan: direct ids and names ------------------------------------------------ */

static store_rc
run_direct(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q,
           size_t limit, query_result *res)
{
	store_id *seen = xmalloc((q->ndirect ? q->ndirect : 1) * sizeof *seen);
	size_t nseen = 0;
	store_rc rc = STORE_OK;

	describe(res, "direct lookup of the named entities", NULL);
	for (size_t i = 0; i < q->ndirect && !page_full(res, limit); i++) {
		store_id id;
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
		if (rc == STORE_OK) rc = store_edge_has(t, app, &sc->owner, sc->kind, sc->name, &id);
		if (rc == STORE_NOTFOUND) {
			rc = STORE_OK;
			continue;
		}
		if (rc || (rc = load(t, app, sc, &id, &e))) break;
		if (!e) continue;
		/* an id named twice (by uuid or by name) is listed once */
		int dup = 0;
		for (size_t k = 0; k < nseen && !dup; k++) dup = memcmp(seen[k].b, id.b, 16) == 0;
		if (dup) {
			json_decref(e);
			continue;
		}
		seen[nseen++] = id;
		json_array_append_new(res->entities, e);
	}
	free(seen);
	return rc;
}

/* ---- the planner --------------------------------------------------------------- */

/* A top-level OR whose every branch has a usable term (the branch itself,
** or the smallest term of its AND chain), with fewer than QUERY_RANGE_CAP
** entries in all: the union of those ranges holds every match.  The terms
** are built in pool (room for QL_MAX_TERMS); alts[] points at the ones
** picked.  *na = 0 when the OR cannot be driven so. */
static store_rc
union_terms(store_txn *t, const store_app *app, const query_scope *sc, const ql_node *w,
            term *pool, term **alts, size_t *na)
{
	size_t used = 0, total = 0;
	store_rc rc = STORE_OK;

	*na = 0;
	if (!w || w->kind != QL_OR || !sc->root || !sc->type || !sc->type[0]) return STORE_OK;
	for (size_t i = 0; i < w->u.list.n; i++) {
		const ql_node *k = w->u.list.kids[i];
		size_t nk = k->kind == QL_AND ? k->u.list.n : 1;
		term *pick = NULL;
		for (size_t j = 0; j < nk && used < QL_MAX_TERMS; j++) {
			const ql_node *g = k->kind == QL_AND ? k->u.list.kids[j] : k;
			if (!term_of(g, sc->type, &pool[used])) continue;
			rc = store_index_count(t, app, &pool[used].r, QUERY_RANGE_CAP, &pool[used].count);
			if (rc) return rc;
			if (!pick || pool[used].count < pick->count) pick = &pool[used];
			used++;
		}
		if (!pick || (total += pick->count) >= QUERY_RANGE_CAP) {
			*na = 0;
			return STORE_OK;
		}
		alts[(*na)++] = pick;
	}
	return STORE_OK;
}

/* Can the first order key drive an order plan through its index? */
static int
order_indexable(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q)
{
	const char *p = q->order[0].prop;
	return sc->root && sc->type && sc->type[0] && store_index_holds(p, STORE_IX_STRING) &&
	       !(store_index_flags(t, app, sc->type, p) & STORE_IXF_LONG);
}

/* A term of the where on the first order key that may bound its scan: only
** where every entity has one value there (else an entity could match with
** one element and sort by another). */
static term *
order_bound(store_txn *t, const store_app *app, const query_scope *sc, const ql_query *q,
            term *tms, size_t nt)
{
	term *bound = NULL;
	for (size_t i = 0; i < nt; i++)
		if (strcmp(tms[i].r.path, q->order[0].prop) == 0 && tms[i].r.tag != STORE_IX_WORD &&
		    tms[i].r.tag != STORE_IX_GEO && !tms[i].r.prefix)
			bound = &tms[i];
	if (bound && (store_index_flags(t, app, sc->type, q->order[0].prop) & STORE_IXF_MULTI))
		bound = NULL;
	return bound;
}

store_rc
query_run(store_txn *t, const store_app *app, const query_scope *scope,
          const ql_query *q, size_t limit, const char *cursor, query_result *res)
{
	const ql_node *within = find_within(q->where);
	term *tms = xmalloc(QL_MAX_TERMS * sizeof *tms), *best, *eqt;
	int kind = cursor && *cursor ? query_cursor_kind(cursor) : 0;
	size_t nt = 0;
	store_rc rc;

	memset(res, 0, sizeof *res);
	res->entities = json_array();
	if (limit == 0) {
		free(tms);
		return STORE_OK;
	}
	if (q->ndirect) {
		rc = run_direct(t, app, scope, q, limit, res);
		goto done;
	}
	if ((rc = collect_terms(t, app, scope, q->where, tms, &nt))) goto done;
	best = best_term(tms, nt, 0);
	/* The plan follows from the query and the counts; a cursor says which
	** plan the first page used, and paging stays with it (or with a plan
	** that reads the same cursor) even when the counts have moved since. */
	int small = best && best->count < QUERY_RANGE_CAP && best->count < 4 * limit;
	if (q->norder == 1 && !within && order_indexable(t, app, scope, q) &&
	    (kind ? kind == QUERY_CURSOR_ORDER : !small)) {
		rc = run_order(t, app, scope, q, order_bound(t, app, scope, q, tms, nt), limit, cursor,
		               res);
	} else if (q->norder >= 2 && !within && order_indexable(t, app, scope, q) &&
	           (kind ? kind == QUERY_CURSOR_SORTKEY || kind == QUERY_CURSOR_SORTREF : !small)) {
		rc = run_order_groups(t, app, scope, q, order_bound(t, app, scope, q, tms, nt), limit,
		                      cursor, res);
	} else if (q->norder || within) {
		if (kind && kind != QUERY_CURSOR_SORTKEY && kind != QUERY_CURSOR_SORTREF &&
		    kind != QUERY_CURSOR_OFFSET) {
			rc = STORE_INVALID;
			goto done;
		}
		if (best && best->count >= QUERY_RANGE_CAP) {
			/* a latitude band may still be worth it: count it further */
			for (size_t i = 0; i < nt; i++)
				if (tms[i].r.tag == STORE_IX_GEO &&
				    store_index_count(t, app, &tms[i].r, QUERY_MAX_SORT, &tms[i].count) ==
				    STORE_OK && tms[i].count < QUERY_MAX_SORT)
					best = &tms[i];
		}
		/* a range is a candidate source only when it was counted whole */
		rc = run_sorted(t, app, scope, q, within,
		                best && (best->count < QUERY_RANGE_CAP ||
		                         (best->r.tag == STORE_IX_GEO && best->count < QUERY_MAX_SORT))
		                ? best : NULL, limit, cursor, res);
	} else if ((!kind || kind == QUERY_CURSOR_INDEX) && (eqt = best_term(tms, nt, 1))) {
		rc = run_eq(t, app, scope, q, eqt, limit, cursor, res);
	} else if (kind == QUERY_CURSOR_INDEX) {
		rc = STORE_INVALID;
	} else if ((!kind || kind == QUERY_CURSOR_TIME) && best && best->count < QUERY_RANGE_CAP) {
		rc = run_range(t, app, scope, q, &best, 1, limit, cursor, res);
	} else {
		term **alts = xmalloc(QL_MAX_TERMS * sizeof *alts);
		term *pool = xmalloc(QL_MAX_TERMS * sizeof *pool);
		size_t na = 0;
		if ((!kind || kind == QUERY_CURSOR_TIME) &&
		    !(rc = union_terms(t, app, scope, q->where, pool, alts, &na)) && na)
			rc = run_range(t, app, scope, q, alts, na, limit, cursor, res);
		else if (!rc)
			rc = run_scan(t, app, scope, q, limit, cursor, res);
		free(alts);
		free(pool);
	}
done:
	free(tms);
	if (rc) query_result_clear(res);
	return rc;
}
