/*
** streams.c: a listing over several of an owner's edge sets (every verb
** of `/connecting` or `/connections`, the owners before them), one set
** after the other in the order given, newest first within each.  Its
** cursor (QUERY_CURSOR_VERB) holds the set's kind and name and the
** position of the last entry listed.
*/
#include "query/query.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static int
stream_cmp(const query_stream *a, store_edge_kind kind, const char *name)
{
	return a->kind != kind ? (int)a->kind - (int)kind : strcmp(a->name, name);
}

/* Should id, listed by set k, be left out?  The application is no owner
** (it holds everything in its root collections); with dedupe, an entity an
** earlier set lists is listed there only. */
static store_rc
skip_entry(store_txn *t, const store_app *app, const store_id *owner, const query_stream *st,
           size_t k, int dedupe, const store_id *id, int *skip)
{
	*skip = memcmp(id->b, app->uuid.b, sizeof id->b) == 0;
	for (size_t j = 0; dedupe && !*skip && j < k; j++) {
		store_rc rc = store_edge_has(t, app, owner, st[j].kind, st[j].name, id);
		if (rc == STORE_OK) *skip = 1;
		else if (rc != STORE_NOTFOUND) return rc;
	}
	return STORE_OK;
}

/* Reads a VERB cursor: kind, name\0, position; 0 when malformed. */
static int
decode_verb(const char *c, unsigned char *raw, size_t cap, store_edge_kind *kind,
            const char **name, store_pos *pos)
{
	size_t got = query_cursor_decode_raw(c, strlen(c), QUERY_CURSOR_VERB, raw, cap);
	void *nul = got > 1 + STORE_POS_SIZE ? memchr(raw + 1, 0, got - 1 - STORE_POS_SIZE) : NULL;
	if (!nul || (size_t)((unsigned char *)nul - raw) + 1 + STORE_POS_SIZE != got) return 0;
	*kind = (store_edge_kind)raw[0];
	*name = (const char *)raw + 1;
	memcpy(pos->b, (unsigned char *)nul + 1, STORE_POS_SIZE);
	pos->set = 1;
	return 1;
}

static void
encode_verb(const query_stream *s, const store_pos *pos, char out[QUERY_CURSOR_MAX])
{
	unsigned char raw[1 + STORE_NAME_MAX + 1 + STORE_POS_SIZE];
	size_t nl = strlen(s->name);
	raw[0] = (unsigned char)s->kind;
	memcpy(raw + 1, s->name, nl + 1);
	memcpy(raw + 2 + nl, pos->b, STORE_POS_SIZE);
	query_cursor_encode_raw(QUERY_CURSOR_VERB, raw, 2 + nl + STORE_POS_SIZE, out);
}

/* Appends what set k lists after `after` until the page is full. */
static store_rc
list_one(store_txn *t, const store_app *app, const store_id *owner, const query_stream *st,
         size_t k, int dedupe, store_pos after, size_t limit, store_id *ids, store_pos *poss,
         store_pos *last, query_result *res)
{
	store_rc rc = STORE_OK;
	size_t n, want;
	do {
		want = limit - json_array_size(res->entities);
		rc = store_edge_scan(t, app, owner, st[k].kind, st[k].name, &after, want, ids, poss, &n);
		for (size_t i = 0; rc == STORE_OK && i < n; i++) {
			json_t *e = NULL;
			int skip;
			*last = after = poss[i];
			if ((rc = skip_entry(t, app, owner, st, k, dedupe, &ids[i], &skip)) || skip) continue;
			if ((rc = store_entity_get(t, app, &ids[i], &e)) == STORE_NOTFOUND) {
				rc = STORE_OK;
				continue;
			}
			if (rc == STORE_OK) json_array_append_new(res->entities, e);
		}
	} while (rc == STORE_OK && n == want && json_array_size(res->entities) < limit);
	return rc;
}

query_rc
query_list_streams(store_txn *t, const store_app *app, const store_id *owner,
                   const query_stream *st, size_t ns, int dedupe, size_t limit,
                   const char *cursor, query_result *res)
{
	unsigned char raw[1 + STORE_NAME_MAX + 1 + STORE_POS_SIZE];
	store_edge_kind from_kind = 0;
	const char *from_name = "";
	store_pos pos = { .set = 0 }, last = { .set = 0 };
	store_rc rc = STORE_OK;
	size_t k;

	memset(res, 0, sizeof *res);
	if (cursor && *cursor && !decode_verb(cursor, raw, sizeof raw, &from_kind, &from_name, &pos))
		return QUERY_BADCURSOR;
	res->entities = json_array();
	store_id *ids = xmalloc((limit ? limit : 1) * sizeof *ids);
	store_pos *poss = xmalloc((limit ? limit : 1) * sizeof *poss);
	for (k = 0; k < ns && rc == STORE_OK && json_array_size(res->entities) < limit; k++) {
		int cmp = pos.set ? stream_cmp(&st[k], from_kind, from_name) : 1;
		if (cmp < 0) continue;
		rc = list_one(t, app, owner, st, k, dedupe, cmp == 0 ? pos : (store_pos){ .set = 0 },
		              limit, ids, poss, &last, res);
	}
	free(ids);
	free(poss);
	if (rc) {
		query_result_clear(res);
		res->store = rc;
		return QUERY_STORE;
	}
	if (limit && json_array_size(res->entities) == limit && last.set) {
		encode_verb(&st[k - 1], &last, res->cursor);
		res->has_cursor = 1;
	}
	return QUERY_OK;
}
