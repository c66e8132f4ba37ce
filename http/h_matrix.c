/*
** h_matrix.c: matrix parameters on a collection segment (spec 1.2).
**
**   GET /users;ql=where fullname contains 'Smith';limit=1000/likes
**
** runs the matrix query on the collection (its `ql` and `limit`, default
** HTTP_DEFAULT_LIMIT), walks the rest of the path from every entity it
** matched as if that entity had been named there, and lists the union of
** what those walks reach, each entity once.  The union is ordered as
** Usergrid merges results, by time UUID (oldest first); the request's own
** `ql` filters it with its where clause, `limit` pages it, and the cursor is
** an offset into it (the union is computed again for every page).
*/
#include "http/http_int.h"
#include "query/query.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	store_id *ids;
	size_t    n, cap;
} id_set;

/* Time UUIDs in time order: time_hi, time_mid, time_low, then the rest. */
static int
time_order(const void *pa, const void *pb)
{
	static const int at[] = { 6, 7, 4, 5, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15 };
	const unsigned char *a = ((const store_id *)pa)->b, *b = ((const store_id *)pb)->b;
	for (size_t i = 0; i < 16; i++) {
		int x = i == 0 ? (a[6] & 0x0f) : a[at[i]], y = i == 0 ? (b[6] & 0x0f) : b[at[i]];
		if (x != y) return x < y ? -1 : 1;
	}
	return 0;
}

/* Parses ql text; a missing one is `select *`.  Returns 0 after replying. */
static int
parse_ql(http_req *r, const char *text, ql_query **out)
{
	ql_error err;
	if (!text) text = "select *";
	if (ql_parse(r->a, text, strlen(text), out, &err) == QL_OK) return 1;
	http_error(r, 400, ql_error_name(err.code), "%s", err.msg);
	return 0;
}

static store_edge_kind
edge_kind(ctx_kind k)
{
	return k == CTX_SUB ? STORE_EDGE_COLLECTION : k == CTX_OUT ? STORE_EDGE_OUT : STORE_EDGE_IN;
}

/* Adds every entity the walk's listing holds to set.  Returns 0 after
** replying. */
static int
collect(http_req *r, const walk *w, id_set *set)
{
	store_pos pos = { 0 };
	store_id batch[256];
	size_t n;
	store_rc rc;

	if (w->shape != SHAPE_COLL || w->kind == CTX_ROOT || !w->name[0]) {
		http_error(r, 400, "illegal_argument",
		           "after a segment with matrix parameters the path must name a "
		           "sub-collection or a connection verb");
		return 0;
	}
	do {
		rc = store_edge_list(r->txn, &r->app, &w->owner, edge_kind(w->kind), w->name,
		                     &pos, sizeof batch / sizeof batch[0], batch, &n, &pos);
		if (rc) {
			http_store_error(r, rc, NULL, NULL);
			return 0;
		}
		if (set->n + n > HTTP_MAX_MATRIX_EDGES) {
			http_error(r, 400, "illegal_argument",
			           "the relation of the matrix query's entities holds more than %d "
			           "edges; narrow the query", HTTP_MAX_MATRIX_EDGES);
			return 0;
		}
		if (set->n + n > set->cap) {
			size_t cap = set->cap ? set->cap * 2 : 1024;
			while (cap < set->n + n) cap *= 2;
			store_id *ids = arena_alloc(r->a, cap * sizeof *ids);
			if (set->n) memcpy(ids, set->ids, set->n * sizeof *ids);
			set->ids = ids;
			set->cap = cap;
		}
		if (n) memcpy(set->ids + set->n, batch, n * sizeof *batch);
		set->n += n;
	} while (n > 0);
	return 1;
}

/* Walks rest (its first segment replaced by the item's uuid) from every
** match of the matrix query into set.  *type gets the walks' item type. */
static int
union_of_walks(http_req *r, json_t *matches, id_set *set, char *type, const char **path)
{
	size_t nrest = r->nrest + 1, i;
	store_slice *segs = arena_alloc(r->a, nrest * sizeof *segs);
	char uuid[37];
	json_t *e;

	segs[0] = r->rest[0];
	memcpy(segs + 2, r->rest + 1, (r->nrest - 1) * sizeof *segs);
	json_array_foreach(matches, i, e) {
		walk w;
		const char *id = json_string_value(json_object_get(e, "uuid"));
		if (!id) continue;
		snprintf(uuid, sizeof uuid, "%s", id);
		segs[1] = (store_slice){ uuid, strlen(uuid) };
		int ok = http_walk(r, segs, nrest, &w);
		json_decref(w.entity);
		if (!ok || !collect(r, &w, set)) return 0;
		memcpy(type, w.item_type, sizeof w.item_type);
	}
	*path = "";
	for (size_t k = 0; k < r->nrest; k++)
		*path = http_sprintf(r, "%s/%.*s", *path, (int)r->rest[k].n, r->rest[k].p);
	return 1;
}

/* The matrix query on the first segment's root collection. */
static int
run_matrix_query(http_req *r, json_t **matches)
{
	walk root;
	const char *lim = NULL;
	uint64_t limit = HTTP_DEFAULT_LIMIT;
	ql_query *q;
	query_result res;

	*matches = NULL;
	for (size_t i = 0; i < r->nmatrix; i++)
		if (strcmp(r->matrix[i].name, "limit") == 0 && r->matrix[i].value[0])
			lim = r->matrix[i].value;
	if (lim && (!http_parse_uint(lim, UINT64_MAX, &limit) || limit == 0)) {
		http_error(r, 400, "illegal_argument",
		           "matrix parameter 'limit' must be a whole number of at least 1");
		return 0;
	}
	if (limit > HTTP_MAX_LIMIT) limit = HTTP_MAX_LIMIT;
	if (!parse_ql(r, http_ql_text(r->matrix, r->nmatrix), &q)) return 0;
	if (!http_walk(r, r->rest, 1, &root)) return 0;
	query_scope sc = { r->app.uuid, STORE_EDGE_COLLECTION, root.name, root.item_type, 1,
	                    http_progress(r) };
	query_rc rc = http_query(r, &sc, q, (size_t)limit, NULL, &res);
	if (rc) {
		http_query_error(r, rc, &res);
		return 0;
	}
	*matches = res.entities;
	res.entities = NULL;
	query_result_clear(&res);
	return 1;
}

/* One page of the sorted, distinct union that the request's where admits. */
static void
reply_page(http_req *r, const id_set *set, const char *type, const ql_query *filter)
{
	size_t limit = http_limit(r), have = 0, i = 0;
	uint64_t skip = 0;
	const char *cursor = http_param_get(r, "cursor");
	json_t *env;

	if (cursor && *cursor && !query_cursor_decode_offset(cursor, strlen(cursor), &skip)) {
		http_error(r, 400, "illegal_argument", "the cursor is not valid for this listing");
		return;
	}
	env = http_envelope(r, r->w.path);
	for (uint64_t seen = 0; i < set->n && have < limit; i++) {
		json_t *e = NULL;
		store_rc rc;
		if (i > 0 && time_order(&set->ids[i - 1], &set->ids[i]) == 0) continue;
		rc = store_entity_get(r->txn, &r->app, &set->ids[i], &e);
		if (rc == STORE_NOTFOUND) continue;
		if (rc) {
			json_decref(env);
			http_store_error(r, rc, NULL, NULL);
			return;
		}
		const char *t = json_string_value(json_object_get(e, "type"));
		int match = t && (!type[0] || strcmp(t, type) == 0) ?
		            query_eval(filter->where, e, http_progress(r)) : 0;
		if (match < 0) {
			json_decref(e);
			json_decref(env);
			http_query_error(r, QUERY_STOPPED, NULL);
			return;
		}
		if (match && seen++ >= skip) {
			char coll[STORE_NAME_MAX + 1];    /* reached from several owners: its own path */
			store_collection_of(t, coll);
			http_add_entity(r, env, e, http_sprintf(r, "/%s", coll));
			have++;
		}
		json_decref(e);
	}
	json_object_set_new(env, "count", json_integer((json_int_t)have));
	if (have == limit && i < set->n) {
		char tok[QUERY_CURSOR_MAX];
		query_cursor_encode_offset(skip + have, tok);
		json_object_set_new(env, "cursor", json_string(tok));
	}
	http_reply(r, env);
}

void
h_matrix_list(http_req *r)
{
	json_t *matches = NULL;
	id_set set = { 0 };
	char type[STORE_NAME_MAX + 1] = "";
	ql_query *filter;

	if (r->nrest < 2) {
		http_error(r, 400, "illegal_argument",
		           "matrix parameters on a collection need a relation after it");
		return;
	}
	if (!parse_ql(r, http_ql_text(r->params, r->nparams), &filter)) return;
	if (filter->select != QL_SELECT_ALL || filter->norder || filter->ndirect) {
		http_error(r, 400, "illegal_argument",
		           "after matrix parameters, ql may only filter (a where clause)");
		return;
	}
	if (!run_matrix_query(r, &matches)) return;
	int ok = union_of_walks(r, matches, &set, type, &r->w.path);
	json_decref(matches);
	if (!ok) return;
	if (set.n) qsort(set.ids, set.n, sizeof *set.ids, time_order);
	reply_page(r, &set, type, filter);
}
