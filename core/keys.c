/*
** keys.c: the builders of the keys of keys.h, one function for each key
** shape, the rule for values that may not fit a key, and kv_scan, the one
** walk over the keys under a prefix.  Nothing else in core/ builds a key
** or opens a cursor for a prefix.
*/
#include "core/store_int.h"
#include "core/mem.h"
#include "core/text.h"

#include <errno.h>
#include <stdlib.h>

/* ---- applications, orgs, entities ------------------------------------------ */

void
key_app_keys(keybuf *k, int lead, const store_id *app)
{
	key_init(k);
	if (lead >= 0) key_u8(k, (unsigned)lead);
	key_id(k, app);
}

void
key_org_name(keybuf *k, store_slice name)
{
	key_lead(k, 'n');
	key_lc_tail(k, name.p, name.n);
}

void
key_rec(keybuf *k, const store_id *id)
{
	key_app_keys(k, 'u', id);
}

void
key_app_names(keybuf *k, const store_id *org)
{
	key_app_keys(k, 'n', org);
}

void
key_app_name(keybuf *k, const store_id *org, store_slice name)
{
	key_app_names(k, org);
	key_lc_tail(k, name.p, name.n);
}

void
key_entity(keybuf *k, const store_app *app, const store_id *id)
{
	key_app_keys(k, -1, &app->uuid);
	key_id(k, id);
}

void
key_unique(keybuf *k, const store_app *app, const char *type, const char *prop,
           const char *val)
{
	char lprop[STORE_NAME_MAX + 1];
	size_t n = strlen(prop);
	if (n > STORE_NAME_MAX) n = STORE_NAME_MAX;
	lc_copy(lprop, prop, n);
	lprop[n] = '\0';
	key_app_keys(k, -1, &app->uuid);
	key_str(k, type);
	key_str(k, lprop);
	key_lc_tail(k, val, strlen(val));
}

/* ---- edges ------------------------------------------------------------------ */

void
key_edge_kind(keybuf *k, const store_app *app, const store_id *owner, store_edge_kind kind)
{
	key_entity(k, app, owner);
	key_u8(k, kind);
}

void
key_count(keybuf *k, const store_app *app, const store_id *owner, store_edge_kind kind,
          const char *name)
{
	key_edge_kind(k, app, owner, kind);
	key_put(k, name, strlen(name));
}

void
key_edge_head(keybuf *k, const store_app *app, const store_id *owner, store_edge_kind kind,
              const char *name)
{
	key_edge_kind(k, app, owner, kind);
	key_str(k, name);
}

void
key_edge(keybuf *k, const store_app *app, const store_id *owner, store_edge_kind kind,
         const char *name, uint64_t time, const store_id *target)
{
	key_edge_head(k, app, owner, kind, name);
	key_pos(k, time, target);
}

void
key_pos(keybuf *k, uint64_t time, const store_id *target)
{
	key_u64(k, ~time);
	key_id(k, target);
}

void
key_pos_bound(keybuf *k, uint64_t time, int past)
{
	key_u64(k, ~time);
	for (int i = 0; past && i < STORE_POS_SIZE - 8 + 1; i++) key_u8(k, 0xff);
}

void
key_edge_at(keybuf *k, const store_app *app, const store_id *owner, store_edge_kind kind,
            const char *name, const store_id *target)
{
	key_edge_head(k, app, owner, kind, name);
	key_id(k, target);
}

void
key_count_edges(keybuf *k, const void *count, size_t n)
{
	key_raw(k, count, n);
	key_u8(k, 0);
}

/* ---- index ------------------------------------------------------------------ */

/* Order-preserving 8-byte images of numbers. */
static uint64_t
enc_double(double d)
{
	uint64_t u;
	if (d == 0) d = 0;                /* -0.0 sorts as 0.0 */
	memcpy(&u, &d, 8);
	return (u >> 63) ? ~u : u ^ (1ULL << 63);
}

static uint64_t
enc_long(int64_t l)
{
	return (uint64_t)l ^ (1ULL << 63);
}

void
key_ix_head(keybuf *k, const store_app *app, const char *type, const char *path)
{
	key_app_keys(k, -1, &app->uuid);
	key_str(k, type);
	if (strlen(path) > STORE_INDEX_MAX_PATH) k->overflow = 1;
	else key_str(k, path);
}

/* Appends a string value lower-cased; room is kept for the tail. */
static int
put_string(keybuf *k, const char *s, size_t n, int mode)
{
	/* the value's room before the tail, and its terminator's byte */
	size_t space = (k->n + KEY_IX_TAIL + 1 <= KEY_MAX ? KEY_MAX - k->n - KEY_IX_TAIL - 1 : 0) + 1;
	return key_lc_cut(k, s, n, space, mode == KEY_IX_PREFIX ? 2 : 1, mode == KEY_IX_ENTRY);
}

int
key_ix_value(keybuf *k, const store_ix_value *v, int mode)
{
	key_u8(k, v->tag);
	switch (v->tag) {
	case STORE_IX_DOUBLE: key_u64(k, enc_double(v->d)); break;
	case STORE_IX_LONG:   key_u64(k, enc_long(v->l)); break;
	case STORE_IX_BOOL:   key_u8(k, v->b ? 1 : 0); break;
	case STORE_IX_GEO:
		key_u64(k, enc_double(v->d));
		key_u64(k, enc_double(v->d2));
		break;
	case STORE_IX_STRING:
	case STORE_IX_WORD:   return put_string(k, v->s, v->n, mode);
	}
	return 0;
}

int
key_ix_entry(keybuf *k, const store_app *app, const char *type, const char *path,
             const store_ix_value *v, uint64_t time, const store_id *id)
{
	key_ix_head(k, app, type, path);
	int cut = key_ix_value(k, v, KEY_IX_ENTRY);
	key_u64(k, time);
	key_id(k, id);
	return cut;
}

void
key_ix_flags(keybuf *k, const store_app *app, const char *type, const char *path)
{
	key_app_keys(k, 'p', &app->uuid);
	key_str(k, type);
	key_put(k, path, strlen(path));
}

/* ---- secrets, dictionaries, meta -------------------------------------------- */

void
key_secret(keybuf *k, const store_app *app, const store_id *id, const char *kind)
{
	key_entity(k, app, id);
	key_put(k, kind, strlen(kind));
}

void
key_client(keybuf *k, const store_id *scope)
{
	key_app_keys(k, -1, scope);
	key_id(k, scope);
	key_put(k, "client", 6);
}

void
key_dict(keybuf *k, const store_app *app, const store_id *id, const char *dict)
{
	key_entity(k, app, id);
	key_str(k, dict);
}

void
key_dict_value(keybuf *k, const store_app *app, const store_id *id, const char *dict,
               const char *value)
{
	key_dict(k, app, id, dict);
	key_put(k, value, strlen(value));
}

void
key_meta(keybuf *k, const char *word)
{
	key_raw(k, word, strlen(word));
}

void
key_coll_meta(keybuf *k, unsigned lead, const store_app *app, const char *type)
{
	key_app_keys(k, (int)lead, &app->uuid);
	key_str(k, type);
}

void
key_settings(keybuf *k, const store_app *app, const char *type)
{
	key_coll_meta(k, 'C', app, type);
}

void
key_reindex(keybuf *k, const store_app *app, const char *type)
{
	key_coll_meta(k, 'R', app, type);
}

void
key_lead(keybuf *k, unsigned lead)
{
	key_init(k);
	key_u8(k, lead);
}

/* ---- counters ----------------------------------------------------------------- */

/* app, tag: the prefix of one kind of key (counters, feeds) */
static void
key_app_tag(keybuf *k, const store_app *app, unsigned tag)
{
	key_app_keys(k, -1, &app->uuid);
	key_u8(k, tag);
}

void
key_counter_names(keybuf *k, const store_app *app)
{
	key_app_tag(k, app, KEY_COUNTER_NAME);
}

void
key_counter_name(keybuf *k, const store_app *app, const char *lc, size_t n)
{
	key_counter_names(k, app);
	key_put(k, lc, n);
}

void
key_counter_value(keybuf *k, const store_app *app, const char *name, int res, int64_t bucket)
{
	key_app_tag(k, app, KEY_COUNTER_VALUE);
	key_str(k, name);
	key_u8(k, (unsigned)res);
	if (bucket >= 0) key_u64(k, (uint64_t)bucket);
}

void
key_counter_consumer(keybuf *k, const store_app *app, const char *lc, size_t n)
{
	key_app_tag(k, app, KEY_COUNTER_CONSUMER);
	key_put(k, lc, n);
}

/* ---- tokens ------------------------------------------------------------------- */

void
key_token_hash(keybuf *k, const unsigned char h[KEY_SHA256])
{
	key_lead(k, 'h');
	key_put(k, h, KEY_SHA256);
}

void
key_token_expiry(keybuf *k, int64_t expires, const unsigned char h[KEY_SHA256])
{
	key_lead(k, 'e');
	key_u64(k, (uint64_t)expires);
	if (h) key_put(k, h, KEY_SHA256);
}

void
key_token_subject(keybuf *k, unsigned kind, const store_id *scope, const store_id *id,
                  const unsigned char h[KEY_SHA256])
{
	key_lead(k, 's');
	key_u8(k, kind);
	key_id(k, scope);
	key_id(k, id);
	if (h) key_put(k, h, KEY_SHA256);
}

/* ---- feeds -------------------------------------------------------------------- */

void
key_feed(keybuf *k, const store_app *app, int tag, const store_id *id)
{
	key_app_tag(k, app, (unsigned)tag);
	key_id(k, id);
}

void
key_feed_shared(keybuf *k, const store_app *app, const store_id *group, uint64_t time,
                const store_id *activity)
{
	key_feed(k, app, 's', group);
	key_pos(k, time, activity);
}

void
key_feed_spans(keybuf *k, const store_app *app, const store_id *user, const store_id *group)
{
	key_feed(k, app, 'i', user);
	key_id(k, group);
}

void
key_feed_span(keybuf *k, const store_app *app, const store_id *user, const store_id *group,
              uint64_t join)
{
	key_feed_spans(k, app, user, group);
	key_u64(k, ~join);
}

int
key_feed_parse(const void *k, size_t n, key_feed_parts *f)
{
	const unsigned char *b = k;
	if (n < 17) return 0;
	memcpy(f->app.b, b, 16);
	f->tag = b[16];
	f->time = 0;
	switch (f->tag) {
	case 's':                     /* app, 's', group, ~time, activity */
		if (n != 17 + 16 + 8 + 16) return 0;
		memcpy(f->id.b, b + 17, 16);
		f->time = ~key_get_u64(b + 33);
		memcpy(f->other.b, b + 41, 16);
		return 1;
	case 'a':                     /* app, 'a', activity */
		if (n != 17 + 16) return 0;
		memcpy(f->id.b, b + 17, 16);
		return 1;
	case 'i':                     /* app, 'i', user, group, ~join */
		if (n != 17 + 16 + 16 + 8) return 0;
		memcpy(f->id.b, b + 17, 16);
		memcpy(f->other.b, b + 33, 16);
		f->time = ~key_get_u64(b + 49);
		return 1;
	}
	return 0;
}

void
val_feed_shared(keybuf *v, const store_id *group, uint64_t time)
{
	key_init(v);
	key_id(v, group);
	key_u64(v, time);
}

int
val_feed_shared_parse(const void *v, size_t n, store_id *group, uint64_t *time)
{
	if (n != 16 + 8) return 0;
	memcpy(group->b, v, 16);
	*time = key_get_u64((const unsigned char *)v + 16);
	return 1;
}

/* ---- values that may not fit ------------------------------------------------- */

int
key_lc_cut(keybuf *k, const char *v, size_t n, size_t space, int term, int whole)
{
	size_t take = n;
	int cut = n + (term != 0) > space;
	if (cut) {
		if (space < KEY_HASH_TAIL + (term != 0)) {
			k->overflow = 1;
			return 1;
		}
		take = space - KEY_HASH_TAIL;
	}
	size_t at = k->n;
	key_put(k, v, take);
	if (k->n == at + take) lc_copy((char *)k->b + at, (char *)k->b + at, take);  /* in place */
	if (cut && whole) {
		key_u8(k, 0);
		key_u64(k, text_hash(TEXT_HASH_BASIS, v, n, 1));
	} else if (!cut && term == 1) {
		key_u8(k, 0);
	}
	return cut;
}

void
key_lc_tail(keybuf *k, const char *v, size_t n)
{
	key_lc_cut(k, v, n, KEY_MAX - k->n, 0, 1);
}

/* ---- the prefix scan ---------------------------------------------------------- */

/* 1 when the current key starts with the scan's prefix. */
static int
under_prefix(const kv_scan *s)
{
	return s->k.mv_size >= s->prefix.n && memcmp(s->k.mv_data, s->prefix.b, s->prefix.n) == 0;
}

int
key_successor(keybuf *p)
{
	while (p->n > 0 && p->b[p->n - 1] == 0xFF) p->n--;
	if (p->n == 0) return 0;
	p->b[p->n - 1]++;
	return 1;
}

/* *to = *from, its used bytes only (a keybuf holds KEY_MAX: a scan starts
** often, and whole copies showed in profiles). */
static void
key_copy(keybuf *to, const keybuf *from)
{
	memcpy(to->b, from->b, from->n);
	to->n = from->n;
	to->overflow = from->overflow;
}

store_rc
kv_scan_begin(kv_scan *s, store_txn *t, int dbi, const keybuf *prefix, const keybuf *from,
              int back)
{
	s->c = NULL;
	s->t = t;
	s->dbi = dbi;
	s->back = back;
	s->stepped = s->deleted = 0;
	s->k = s->v = (MDB_val){ 0, NULL };
	key_copy(&s->prefix, prefix);
	if (from) {
		key_copy(&s->seek, from);
	} else {
		key_copy(&s->seek, prefix);
		if (back && !key_successor(&s->seek)) s->seek.n = 0;
	}
	s->mrc = prefix->overflow || s->seek.overflow ? MDB_NOTFOUND : 0;
	return store_mdb_rc(mdb_cursor_open(t->txn, t->s->dbi[dbi], &s->c));
}

void
kv_scan_seek(kv_scan *s, const keybuf *at)
{
	key_copy(&s->seek, at);
	s->stepped = 0;
	if (at->overflow) s->mrc = MDB_NOTFOUND;
}

/* Positions the cursor: forward on the first key at or after seek,
** back on the last key before it (seek empty: the first or last key). */
static int
position(kv_scan *s)
{
	int mrc;
	s->k = (MDB_val){ s->seek.n, s->seek.b };
	if (s->seek.n == 0)
		return mdb_cursor_get(s->c, &s->k, &s->v, s->back ? MDB_LAST : MDB_FIRST);
	mrc = mdb_cursor_get(s->c, &s->k, &s->v, MDB_SET_RANGE);
	if (!s->back) return mrc;
	return mrc == 0 ? mdb_cursor_get(s->c, &s->k, &s->v, MDB_PREV)
	                : mrc == MDB_NOTFOUND ? mdb_cursor_get(s->c, &s->k, &s->v, MDB_LAST) : mrc;
}

int
kv_scan_next(kv_scan *s)
{
	if (s->mrc != 0) return 0;
	if (!s->stepped) s->mrc = position(s);
	else if (s->deleted) s->mrc = mdb_cursor_get(s->c, &s->k, &s->v, MDB_GET_CURRENT);
	else s->mrc = mdb_cursor_get(s->c, &s->k, &s->v, s->back ? MDB_PREV : MDB_NEXT);
	if (s->deleted && s->mrc == EINVAL) s->mrc = MDB_NOTFOUND;  /* deleted the last key */
	s->stepped = 1;
	s->deleted = 0;
	if (s->mrc == 0 && !under_prefix(s)) s->mrc = MDB_NOTFOUND;
	return s->mrc == 0;
}

store_rc
kv_scan_del(kv_scan *s)
{
	note_write(s->t, s->dbi, s->k.mv_data, s->k.mv_size);    /* before: k is the store's */
	int mrc = mdb_cursor_del(s->c, 0);
	if (mrc) return store_mdb_rc(s->mrc = mrc);
	s->deleted = !s->back;
	return STORE_OK;
}

store_rc
kv_scan_end(kv_scan *s, store_rc rc)
{
	if (s->c) mdb_cursor_close(s->c);
	s->c = NULL;
	if (rc) return rc;
	return s->mrc == 0 || s->mrc == MDB_NOTFOUND ? STORE_OK : store_mdb_rc(s->mrc);
}
