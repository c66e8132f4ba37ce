/*
** sort.c: sorting matches in memory, for the plans that cannot read their
** order off an index (several `order by` keys inside a run of equal first
** keys, `within`, an order key the index cannot drive).
**
** Order (spec 6.6): each key by type rank (double, long, string, boolean),
** then value (strings case-insensitively), in the key's direction, a
** missing value last either way; then the distance for `within`; ties
** follow the first key's direction by edge time and uuid (ascending lists
** the older first; descending, and no key at all, the newer).
**
** The cursor of a sorted page is a keyset: the sort keys, distance, time
** and uuid of its last entity (SORTKEY), or, for keys too long to carry,
** that entity's uuid, time and distance with its keys read again
** (SORTREF).  Paging resumes at the first match that sorts after it.
*/
#include "query/exec_int.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

json_t *
sort_value(json_t *v, const char *path)
{
	while (v) {
		if (json_is_array(v)) v = json_array_get(v, 0);
		if (!*path) return json_is_object(v) || json_is_array(v) ? NULL : v;
		v = store_path_child(v, path, NULL, &path);
	}
	return NULL;
}

int
sort_rank(json_t *v)
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
	int ra = sort_rank(a), rb = sort_rank(b);
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

store_ix_value
sort_ix_value(json_t *v)
{
	switch (sort_rank(v)) {
	case R_DOUBLE: return (store_ix_value){ .tag = STORE_IX_DOUBLE, .d = json_real_value(v) };
	case R_LONG:   return (store_ix_value){ .tag = STORE_IX_LONG, .l = json_integer_value(v) };
	case R_BOOL:   return (store_ix_value){ .tag = STORE_IX_BOOL, .b = json_is_true(v) };
	default:
		return (store_ix_value){ .tag = STORE_IX_STRING, .s = json_string_value(v),
		                         .n = json_string_length(v) };
	}
}

/* An entity with several values at the path (an array) has an index entry
** for each, and counts only at its first; one without a scalar there sorts
** with the missing. */
int
sort_is_at(const store_app *app, const char *type, const char *path, const store_ix_pos *pos,
           json_t *e)
{
	json_t *sv = sort_value(e, path);
	if (sort_rank(sv) == R_MISSING) return 0;
	store_ix_value iv = sort_ix_value(sv);
	return store_index_pos_is(app, type, path, pos, &iv);
}

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
		int mx = sort_rank(x) == R_MISSING, my = sort_rank(y) == R_MISSING;
		if (mx != my) return mx ? 1 : -1;
		int r = cmp_values(x, y);
		if (r) return c->q->order[i].desc ? -r : r;
	}
	if (c->by_distance && a->distance != b->distance)
		return a->distance < b->distance ? -1 : 1;
	int older_first = c->q->norder && !c->q->order[0].desc;
	int r = a->time < b->time ? -1 : a->time > b->time;
	if (!r) r = memcmp(a->id.b, b->id.b, 16);
	return older_first ? r : -r;
}

/* The order keys' values in e (null for a missing one), new. */
static json_t *
keys_of(const ql_query *q, json_t *e)
{
	json_t *keys = json_array();
	for (size_t i = 0; i < q->norder; i++) {
		json_t *v = sort_value(e, q->order[i].prop);
		json_array_append(keys, sort_rank(v) == R_MISSING ? json_null() : v);
	}
	return keys;
}

void
sorter_init(sorter *s, const ql_query *q, const ql_node *within)
{
	memset(s, 0, sizeof *s);
	s->q = q;
	s->within = within;
}

/* Drops the matches (the cursor's entity stays). */
static void
sorter_empty(sorter *s)
{
	for (size_t i = 0; i < s->n; i++) {
		json_decref(s->m[i].e);
		json_decref(s->m[i].keys);
	}
	s->n = 0;
}

void
sorter_clear(sorter *s)
{
	sorter_empty(s);
	free(s->m);
	json_decref(s->after.keys);
	memset(s, 0, sizeof *s);
}

query_rc
sorter_add(sorter *s, json_t *e, uint64_t time, const store_id *id)
{
	if (s->n == QUERY_MAX_SORT) {
		json_decref(e);
		return QUERY_TOOBIG;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->m = xrealloc(s->m, s->cap * sizeof *s->m);
	}
	match *m = &s->m[s->n++];
	*m = (match){ .e = e, .keys = keys_of(s->q, e), .time = time, .id = *id };
	if (s->within)
		query_location_distance(e, s->within->u.within.prop, s->within->u.within.lat,
		                        s->within->u.within.lon, &m->distance);
	return QUERY_OK;
}

/* The keyset cursor: [key..., distance, time, "uuid"] of the last match,
** or a reference [uuid, time, distance] when that is too long to carry. */
static void
keyset_encode(const match *m, char out[QUERY_CURSOR_MAX])
{
	char id[37];
	store_id_format(&m->id, id);
	json_t *a = json_copy(m->keys);
	json_array_append_new(a, json_real(m->distance));
	json_array_append_new(a, json_integer((json_int_t)m->time));
	json_array_append_new(a, json_string(id));
	char *text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (!text) abort();                 /* out of memory (core/mem.h) */
	if (strlen(text) <= QUERY_CURSOR_RAW_MAX) {
		query_cursor_encode_raw(QUERY_CURSOR_SORTKEY, text, strlen(text), out);
	} else {
		free(text);
		json_t *ref = json_pack("[s, I, f]", id, (json_int_t)m->time, m->distance);
		text = json_dumps(ref, JSON_COMPACT);
		json_decref(ref);
		if (!text) abort();
		query_cursor_encode_raw(QUERY_CURSOR_SORTREF, text, strlen(text), out);
	}
	free(text);
}

/* A SORTREF payload: the entity it names, its keys read again. */
static int
keyset_ref(sorter *s, store_txn *t, const store_app *app, json_t *a)
{
	const char *id = json_string_value(json_array_get(a, 0));
	json_t *e = NULL;
	match *m = &s->after;
	int ok = json_is_array(a) && json_array_size(a) == 3 && id &&
	         json_is_integer(json_array_get(a, 1)) && json_is_number(json_array_get(a, 2)) &&
	         store_id_parse((store_slice){ id, strlen(id) }, &m->id) &&
	         store_entity_get(t, app, &m->id, &e) == STORE_OK;
	if (ok) {
		m->time = (uint64_t)json_integer_value(json_array_get(a, 1));
		m->distance = json_number_value(json_array_get(a, 2));
		m->keys = keys_of(s->q, e);
	}
	json_decref(e);
	return ok;
}

/* A SORTKEY payload: [key..., distance, time, "uuid"]. */
static int
keyset_keys(sorter *s, json_t *a)
{
	size_t k = s->q->norder;
	const char *id = json_string_value(json_array_get(a, k + 2));
	match *m = &s->after;
	if (!json_is_array(a) || json_array_size(a) != k + 3 ||
	    !json_is_number(json_array_get(a, k)) || !json_is_integer(json_array_get(a, k + 1)) ||
	    !id || !store_id_parse((store_slice){ id, strlen(id) }, &m->id))
		return 0;
	m->keys = json_array();
	for (size_t i = 0; i < k; i++) json_array_append(m->keys, json_array_get(a, i));
	m->distance = json_number_value(json_array_get(a, k));
	m->time = (uint64_t)json_integer_value(json_array_get(a, k + 1));
	return 1;
}

int
sorter_after(sorter *s, store_txn *t, const store_app *app, const char *c)
{
	char text[QUERY_CURSOR_RAW_MAX + 1];
	int ref = 0, ok;
	size_t n = query_cursor_decode_raw(c, strlen(c), QUERY_CURSOR_SORTKEY, text, sizeof text - 1);
	if (!n) {
		n = query_cursor_decode_raw(c, strlen(c), QUERY_CURSOR_SORTREF, text, sizeof text - 1);
		ref = 1;
	}
	if (!n) return 0;
	text[n] = '\0';
	json_t *a = json_loads(text, 0, NULL);
	ok = ref ? keyset_ref(s, t, app, a) : keyset_keys(s, a);
	json_decref(a);
	s->have_after = ok;
	return ok;
}

json_t *
sorter_after_key(const sorter *s)
{
	json_t *k0 = json_array_get(s->after.keys, 0);
	return sort_rank(k0) == R_MISSING ? NULL : k0;
}

int
sorter_emit(sorter *s, size_t limit, query_result *res)
{
	sort_ctx c = { s->q, s->within != NULL };
	int full = 0;
	if (s->n) qsort_r(s->m, s->n, sizeof *s->m, cmp_matches, &c);
	if (s->within && !res->distance) res->distance = xmalloc(limit * sizeof(double));
	for (size_t i = 0; i < s->n && !full; i++) {
		if (s->have_after && cmp_matches(&s->m[i], &s->after, &c) <= 0) continue;
		if (s->within) res->distance[json_array_size(res->entities)] = s->m[i].distance;
		json_array_append(res->entities, s->m[i].e);
		if ((full = json_array_size(res->entities) >= limit)) {
			keyset_encode(&s->m[i], res->cursor);
			res->has_cursor = 1;
		}
	}
	sorter_empty(s);
	return full;
}
