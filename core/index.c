/*
** index.c: property indexes.
**
** Every leaf value of every entity is indexed in the transaction that
** writes the entity: top-level and nested properties under their dotted
** path (names lower-cased), each element of an array under the array's
** path (arrays of arrays are not looked into), and every word of a string
** again under the WORD tag for `contains` (not `type`, which every entry
** of the index shares, nor the words of `uuid`), and every location object
** (numeric latitude and longitude) under its path with the GEO tag, keyed
** by latitude then longitude, for `within`.  A key is
**
**   app, type\0, path\0, tag, value, time (8), entity uuid (16)
**
** where time is the entity's root-collection edge time: entries of one
** value list oldest first, so a forward scan breaks ties oldest first and
** a backward scan (descending order, or an equality listed newest first,
** as a collection lists) newest first.  Tags are numbered in
** the order mixed-type fields sort (spec 6.6): double < long < string <
** boolean; words, then locations, after them.  Values: numbers as
** order-preserving 8-byte big-endian integers; strings lower-cased, then
** 0x00 (a string too long for the key is cut and followed by 0x00 and a
** hash of the whole value; queries re-check every candidate, so a cut value
** is only a candidate); booleans one byte; a location two doubles.  An update writes only the keys that changed.
** store_entity_check counts what the walker would write, with the same
** word rule, to hold an entity to the limits of core/store.h.
*/
#include "core/store_int.h"
#include "core/mem.h"

#include <stdlib.h>
#include <strings.h>


/* A growing list of keys: each entry is a 2-byte length and the bytes. */
typedef struct {
	unsigned char *buf;
	size_t len, cap, count;
} keyset;

static void
ks_add(keyset *ks, const keybuf *k)
{
	if (k->overflow) return;          /* a path too long to index */
	if (ks->len + k->n + 2 > ks->cap) {
		ks->cap = (ks->cap ? ks->cap * 2 : 4096) + k->n + 2;
		ks->buf = xrealloc(ks->buf, ks->cap);
	}
	ks->buf[ks->len] = (unsigned char)(k->n >> 8);
	ks->buf[ks->len + 1] = (unsigned char)k->n;
	memcpy(ks->buf + ks->len + 2, k->b, k->n);
	ks->len += k->n + 2;
	ks->count++;
}

static size_t
ent_len(const unsigned char *p)
{
	return (size_t)p[0] << 8 | p[1];
}

static int
cmp_ent(const void *a, const void *b)
{
	const unsigned char *x = *(const unsigned char *const *)a;
	const unsigned char *y = *(const unsigned char *const *)b;
	size_t nx = ent_len(x), ny = ent_len(y);
	int c = memcmp(x + 2, y + 2, nx < ny ? nx : ny);
	return c ? c : (nx > ny) - (nx < ny);
}

/* Sorted, de-duplicated pointers to the entries of ks. */
static const unsigned char **
ks_sorted(const keyset *ks, size_t *n)
{
	const unsigned char **v = xmalloc((ks->count ? ks->count : 1) * sizeof *v);
	size_t i = 0, j = 0;
	for (size_t off = 0; off < ks->len; off += ent_len(ks->buf + off) + 2) v[i++] = ks->buf + off;
	if (i) qsort(v, i, sizeof *v, cmp_ent);
	for (size_t k = 0; k < i; k++)
		if (j == 0 || cmp_ent(&v[j - 1], &v[k]) != 0) v[j++] = v[k];
	*n = j;
	return v;
}

int
store_index_holds(const char *path, store_ix_tag tag)
{
	if (strlen(path) > STORE_INDEX_MAX_PATH || strcmp(path, "type") == 0) return 0;
	return tag != STORE_IX_WORD || strcmp(path, "uuid") != 0;
}

int
store_location_of(json_t *v, double *lat, double *lon)
{
	static const char *const names[2][2] = { { "latitude", "longitude" }, { "lat", "lon" } };
	if (!json_is_object(v)) return 0;
	for (int i = 0; i < 2; i++) {
		json_t *a = json_get_ci(v, names[i][0], NULL), *b = json_get_ci(v, names[i][1], NULL);
		if (json_is_number(a) && json_is_number(b)) {
			*lat = json_number_value(a);
			*lon = json_number_value(b);
			return 1;
		}
	}
	return 0;
}

/* ---- the keys of one entity ----------------------------------------------- */

typedef struct {
	keyset          *ks;
	const store_app *app;
	const char      *type;
	const store_id  *id;
	uint64_t         time;
	int              words;     /* index the words of strings here */
	int              arrays;    /* arrays being walked through */
	keyset          *flags;     /* path flags seen (NULL: not wanted) */
	const ix_fields *sel;       /* the paths the collection indexes */
	int              in;        /* the path walked is one of them */
	char             path[STORE_INDEX_MAX_PATH + 2];
} walker;

/* Notes a property flag of the path being walked (see store_index_flags). */
static void
flag(walker *w, unsigned f)
{
	keybuf k;
	key_ix_flags(&k, w->app, w->type, w->path);
	key_u8(&k, f);
	ks_add(w->flags, &k);
}

static void
emit(walker *w, const store_ix_value *v)
{
	keybuf k;
	if (!w->in) return;           /* a path above the listed ones */
	int cut = key_ix_entry(&k, w->app, w->type, w->path, v, w->time, w->id);
	ks_add(w->ks, &k);
	if (w->flags && w->arrays && v->tag != STORE_IX_WORD) flag(w, STORE_IXF_MULTI);
	if (w->flags && cut && v->tag == STORE_IX_STRING) flag(w, STORE_IXF_LONG);
}

int
store_word_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c >= 0x80;
}

int
store_word_next(const char *s, size_t n, size_t *i, size_t *start, size_t *len)
{
	while (*i < n && !store_word_byte((unsigned char)s[*i])) (*i)++;
	*start = *i;
	while (*i < n && store_word_byte((unsigned char)s[*i])) (*i)++;
	*len = *i - *start;
	return *i > *start;
}

/* The next word as the index keeps it: cut to STORE_WORD_MAX bytes. */
static int
next_word(const char *s, size_t n, size_t *i, size_t *start, size_t *len)
{
	int got = store_word_next(s, n, i, start, len);
	if (*len > STORE_WORD_MAX) *len = STORE_WORD_MAX;
	return got;
}

static void
emit_words(walker *w, const char *s, size_t n)
{
	size_t i = 0, start, len;
	while (next_word(s, n, &i, &start, &len)) {
		store_ix_value v = { .tag = STORE_IX_WORD, .s = s + start, .n = len };
		emit(w, &v);
	}
}

/* ---- limits on what one entity holds ------------------------------------ */

typedef struct {
	size_t props, max_props, entries;
	int    names;
	store_err *err;
	json_t *root;
} census;

/* Walks v as walk_value does, counting what it would index (indexed=0:
** inside an array of arrays, which is stored, checked, not indexed). */
static store_rc
census_value(census *c, json_t *v, int in_array, int indexed)
{
	const char *key;
	json_t *x;
	size_t i, start, len;
	store_rc rc;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		c->entries += indexed;        /* a location */
		json_object_foreach(v, key, x) {
			if (++c->props > c->max_props)
				return store_fail(c->err, STORE_INVALID,
				                  "an entity may hold at most %d properties "
				                  "(STORE_MAX_PROPERTIES, nested ones counted)",
				                  STORE_MAX_PROPERTIES);
			if (c->names && strchr(key, '.'))
				return store_fail(c->err, STORE_INVALID,
				                  "property name '%.100s' holds a '.': a dotted name is a "
				                  "nested path, so no query could name it", key);
			/* an event's counters are named as Usergrid names them, dotted
			** (`a.b.c` rolls up into `a.b` and `a`, spec 8) */
			int names = c->names;
			if (v == c->root && strcasecmp(key, "counters") == 0) c->names = 0;
			rc = census_value(c, x, 0, indexed);
			c->names = names;
			if (rc) return rc;
		}
		return STORE_OK;
	case JSON_ARRAY:
		if (json_array_size(v) > STORE_MAX_ARRAY)
			return store_fail(c->err, STORE_INVALID,
			                  "an array may hold at most %d elements (STORE_MAX_ARRAY)",
			                  STORE_MAX_ARRAY);
		json_array_foreach(v, i, x)
			if ((rc = census_value(c, x, 1, indexed && !in_array))) return rc;
		return STORE_OK;
	case JSON_STRING:
		if (!indexed) return STORE_OK;
		i = 0;
		while (next_word(json_string_value(v), json_string_length(v), &i, &start, &len))
			c->entries++;
		/* fall through */
	default:
		c->entries += indexed;
		break;
	}
	if (c->entries > STORE_MAX_INDEX_ENTRIES)
		return store_fail(c->err, STORE_INVALID,
		                  "an entity may make at most %d index entries "
		                  "(STORE_MAX_INDEX_ENTRIES: each value, and each word of a string)",
		                  STORE_MAX_INDEX_ENTRIES);
	return STORE_OK;
}

store_rc
store_entity_check(json_t *v, int names, size_t *entries, store_err *err)
{
	static const char *const sys[] = { "uuid", "type", "created", "modified" };
	census c = { 0, STORE_MAX_PROPERTIES, 0, names, err, v };
	/* the system properties of a stored entity are not the client's */
	for (size_t i = 0; i < sizeof sys / sizeof *sys; i++)
		if (json_is_object(v) && json_object_get(v, sys[i])) c.max_props++;
	store_rc rc = census_value(&c, v, 0, 1);
	if (entries) *entries = c.entries;
	return rc;
}

static void walk_value(walker *w, json_t *v, int in_array);

/* An object: a location at its path, then each member below path.name
** (names lower-cased; a path too long, not held, or not selected by the
** collection's fields is not indexed). */
static void
walk_object(walker *w, json_t *v)
{
	store_ix_value iv = { 0 };
	size_t base = strlen(w->path), dot = base ? 1 : 0;
	const char *key;
	json_t *x;
	if (base && store_location_of(v, &iv.d, &iv.d2)) {
		iv.tag = STORE_IX_GEO;
		emit(w, &iv);
	}
	json_object_foreach(v, key, x) {
		size_t kn = strlen(key);
		if (base + dot + kn > STORE_INDEX_MAX_PATH) continue;   /* not indexed */
		if (base) w->path[base] = '.';
		lc_copy(w->path + base + dot, key, kn);
		w->path[base + dot + kn] = '\0';
		int in = w->in, at = in ? 2 : ix_fields_at(w->sel, w->path);
		if (!at || !store_index_holds(w->path, STORE_IX_STRING)) {
			w->path[base] = '\0';
			continue;
		}
		w->in = at == 2;                /* 1: a listed path lies below */
		w->words = store_index_holds(w->path, STORE_IX_WORD);
		walk_value(w, x, 0);
		w->in = in;
		w->path[base] = '\0';
	}
}

static void
walk_value(walker *w, json_t *v, int in_array)
{
	store_ix_value iv = { 0 };
	size_t i;
	json_t *x;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		walk_object(w, v);
		return;
	case JSON_ARRAY:                 /* elements only one level deep */
		if (in_array) return;
		w->arrays++;
		json_array_foreach(v, i, x) walk_value(w, x, 1);
		w->arrays--;
		return;
	case JSON_STRING:
		iv.tag = STORE_IX_STRING;
		iv.s = json_string_value(v);
		iv.n = json_string_length(v);
		emit(w, &iv);
		if (w->words) emit_words(w, iv.s, iv.n);
		return;
	case JSON_INTEGER:
		iv.tag = STORE_IX_LONG;
		iv.l = json_integer_value(v);
		break;
	case JSON_REAL:
		iv.tag = STORE_IX_DOUBLE;
		iv.d = json_real_value(v);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		iv.tag = STORE_IX_BOOL;
		iv.b = json_is_true(v);
		break;
	case JSON_NULL:
		return;
	}
	emit(w, &iv);
}

/* The keys (and, flags not NULL, the path flags) of entity e at `time`
** under the selection sel. */
static void
entity_keys(keyset *ks, keyset *flags, const store_app *app, json_t *e,
            const store_id *id, uint64_t time, const ix_fields *sel)
{
	const char *type = json_string_value(json_object_get(e, "type"));
	walker w = { ks, app, type, id, time, 1, 0, flags, sel, sel->all, "" };
	if (type) walk_value(&w, e, 0);
}

/* A noted flag (an entry of a flags keyset: its key, then the flag):
** *k gets the key, *f the flag and *cur the flags stored under it. */
static store_rc
flag_read(store_txn *t, const unsigned char *entry, keybuf *k, unsigned *f, unsigned *cur)
{
	void *have;
	size_t hn;
	*f = entry[2 + ent_len(entry) - 1];
	*cur = 0;
	key_raw(k, entry + 2, ent_len(entry) - 1);
	store_rc rc = kv_get(t, DBI_META, k, &have, &hn);
	if (rc == STORE_OK && hn == 1) *cur = *(unsigned char *)have;
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* ORs the flags noted in fs into the stored ones. */
static store_rc
flags_merge(store_txn *t, keyset *fs)
{
	size_t n;
	const unsigned char **v = ks_sorted(fs, &n);
	store_rc rc = STORE_OK;
	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		keybuf k;
		unsigned f, cur;
		if ((rc = flag_read(t, v[i], &k, &f, &cur))) break;
		if ((cur | f) != cur) {
			unsigned char b = (unsigned char)(cur | f);
			rc = kv_put(t, DBI_META, &k, &b, 1);
		}
	}
	free(v);
	return rc;
}

unsigned
store_index_flags(store_txn *t, const store_app *app, const char *type, const char *path)
{
	keybuf k;
	void *v;
	size_t n;
	ix_sel sel;
	unsigned f = 0;
	/* a path the collection does not index, or not yet on every entity */
	if (ix_sel_load(t, app, type, &sel) != STORE_OK || ix_fields_at(&sel.ready, path) != 2)
		f = STORE_IXF_OFF;
	ix_sel_clear(&sel);
	key_ix_flags(&k, app, type, path);
	if (k.overflow || kv_get(t, DBI_META, &k, &v, &n) != STORE_OK || n != 1) return f;
	return f | *(unsigned char *)v;
}

/* Writes the difference between the keys of old (or NULL) at old_time
** under `from` and those of new (or NULL) at new_time under `to`: deletes
** the keys only old has, puts those only new has, and, ensure set, puts
** the keys both have where the store lacks them (a reindex: an entity's
** keys of a path `from` names may not be written yet). */
static store_rc
index_diff(store_txn *t, const store_app *app, const store_id *id, json_t *old, json_t *new,
           uint64_t old_time, uint64_t new_time, const ix_fields *from, const ix_fields *to,
           int ensure)
{
	keyset a = { 0 }, b = { 0 }, fs = { 0 };
	const unsigned char **va = NULL, **vb = NULL;
	size_t na, nb, i = 0, j = 0;
	store_rc rc = STORE_OK;

	if (old) entity_keys(&a, NULL, app, old, id, old_time, from);
	if (new) entity_keys(&b, &fs, app, new, id, new_time, to);
	if (fs.count && (rc = flags_merge(t, &fs))) goto done;
	va = ks_sorted(&a, &na);
	vb = ks_sorted(&b, &nb);
	while (rc == STORE_OK && (i < na || j < nb)) {
		int c = i == na ? 1 : j == nb ? -1 : cmp_ent(&va[i], &vb[j]);
		keybuf k;
		if (c < 0) {
			key_raw(&k, va[i] + 2, ent_len(va[i]));
			rc = kv_del(t, DBI_INDEX, &k);
			i++;
			continue;
		}
		key_raw(&k, vb[j] + 2, ent_len(vb[j]));
		if (c > 0 || (ensure && (rc = kv_get(t, DBI_INDEX, &k, NULL, NULL)) == STORE_NOTFOUND))
			rc = kv_put(t, DBI_INDEX, &k, "", 0);
		i += c == 0;
		j++;
	}
done:
	free(va);
	free(vb);
	free(fs.buf);
	free(a.buf);
	free(b.buf);
	return rc;
}

store_rc
index_update(store_txn *t, const store_app *app, const store_id *id, json_t *old,
             json_t *new, uint64_t old_time, uint64_t new_time)
{
	const char *type = json_string_value(json_object_get(new ? new : old, "type"));
	ix_sel sel;
	store_rc rc = type ? ix_sel_load(t, app, type, &sel) : STORE_OK;
	if (rc || !type) return rc;
	rc = index_diff(t, app, id, old, new, old_time, new_time, &sel.present, &sel.target, 0);
	ix_sel_clear(&sel);
	return rc;
}

store_rc
index_reindex(store_txn *t, const store_app *app, const ix_sel *sel, json_t *e,
              const store_id *id, uint64_t time)
{
	return index_diff(t, app, id, e, e, time, time, &sel->present, &sel->target, 1);
}

store_rc
index_verify(store_txn *t, const store_app *app, json_t *e, const store_id *id,
             uint64_t time, size_t *expected, size_t *missing, size_t *flags_missing)
{
	keyset ks = { 0 }, fs = { 0 };
	size_t n, nf;
	ix_sel sel;
	const char *type = json_string_value(json_object_get(e, "type"));
	store_rc rc = type ? ix_sel_load(t, app, type, &sel) : STORE_CORRUPT;

	*expected = *missing = *flags_missing = 0;
	if (rc) return rc;
	/* what every entity must have: the paths ready (all of the target's
	** once no reindex runs) */
	entity_keys(&ks, &fs, app, e, id, time, &sel.ready);
	ix_sel_clear(&sel);
	const unsigned char **v = ks_sorted(&ks, &n), **fv = ks_sorted(&fs, &nf);
	*expected = n;
	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		keybuf k;
		key_raw(&k, v[i] + 2, ent_len(v[i]));
		rc = kv_get(t, DBI_INDEX, &k, NULL, NULL);
		if (rc == STORE_NOTFOUND) {
			(*missing)++;
			rc = STORE_OK;
		}
	}
	for (size_t i = 0; i < nf && rc == STORE_OK; i++) {
		keybuf k;
		unsigned f, cur;
		if ((rc = flag_read(t, fv[i], &k, &f, &cur)) == STORE_OK && (cur & f) != f)
			(*flags_missing)++;
	}
	free(v);
	free(fv);
	free(ks.buf);
	free(fs.buf);
	return rc;
}

int
index_has_key(const ix_fields *sel, const store_app *app, json_t *e, const store_id *id,
              uint64_t time, const void *key, size_t n)
{
	keyset ks = { 0 };
	int found = 0;
	entity_keys(&ks, NULL, app, e, id, time, sel);
	for (size_t off = 0; off < ks.len && !found; off += ent_len(ks.buf + off) + 2)
		found = ent_len(ks.buf + off) == n && memcmp(ks.buf + off + 2, key, n) == 0;
	free(ks.buf);
	return found;
}

int
store_index_pos_is(const store_app *app, const char *type, const char *path,
                   const store_ix_pos *pos, const store_ix_value *v)
{
	keybuf k;
	key_ix_head(&k, app, type, path);
	size_t head = k.n;
	key_ix_value(&k, v, KEY_IX_ENTRY);
	if (k.overflow || pos->n < KEY_IX_TAIL) return 0;
	return k.n - head == pos->n - KEY_IX_TAIL && memcmp(k.b + head, pos->b, k.n - head) == 0;
}

/* ---- scans ------------------------------------------------------------------- */

/* The bounds of a range as key prefixes: start at lo (or just past every
** key starting with lo when lo_skip), stop past hi (hi_prefix: the last
** key starting with hi; else the last key below hi). */
typedef struct {
	keybuf head, lo, hi;
	int    lo_skip, hi_prefix;
} bounds;

static void
make_bounds(bounds *bd, const store_app *app, const store_ix_range *r)
{
	key_ix_head(&bd->head, app, r->type, r->path);
	bd->lo = bd->head;
	bd->hi = bd->head;
	bd->lo_skip = 0;
	bd->hi_prefix = 0;
	int tag_lo = r->tag ? r->tag : STORE_IX_DOUBLE, tag_hi = r->tag ? r->tag : STORE_IX_BOOL;
	if (r->prefix && r->lo) {
		key_ix_value(&bd->lo, r->lo, KEY_IX_PREFIX);
		bd->hi = bd->lo;
		bd->hi_prefix = 1;
		return;
	}
	if (r->lo) {                 /* a cut bound widens to its prefix */
		int cut = key_ix_value(&bd->lo, r->lo, KEY_IX_BOUND);
		bd->lo_skip = !cut && !r->lo_incl;
	} else {
		key_u8(&bd->lo, (unsigned)tag_lo);
	}
	if (r->hi) {
		int cut = key_ix_value(&bd->hi, r->hi, KEY_IX_BOUND);
		bd->hi_prefix = cut || r->hi_incl;
	} else {
		key_u8(&bd->hi, (unsigned)tag_hi + 1);
	}
}

static int
starts(const MDB_val *k, const keybuf *p)
{
	return k->mv_size >= p->n && memcmp(k->mv_data, p->b, p->n) == 0;
}

static int
cmp_key(const MDB_val *k, const keybuf *p)
{
	size_t n = k->mv_size < p->n ? k->mv_size : p->n;
	int c = memcmp(k->mv_data, p->b, n);
	return c ? c : (k->mv_size > p->n) - (k->mv_size < p->n);
}

static int
below_hi(const MDB_val *k, const bounds *bd)
{
	if (bd->hi_prefix && starts(k, &bd->hi)) return 1;
	return cmp_key(k, &bd->hi) < 0;
}

static int
above_lo(const MDB_val *k, const bounds *bd)
{
	if (bd->lo_skip && starts(k, &bd->lo)) return 0;
	return cmp_key(k, &bd->lo) >= 0;
}

/* Where a scan of the range starts in scan order: from the first key at
** or after *from (descending: the last key before it), after itself when
** it is `after`. */
static void
start_of(const bounds *bd, const store_ix_range *r, const store_ix_pos *after, keybuf *from)
{
	if (after && after->n) {
		*from = bd->head;
		key_put(from, after->b, after->n);
		return;
	}
	*from = r->desc ? bd->hi : bd->lo;
	if (r->desc && bd->hi_prefix) key_successor(from);
}

store_rc
store_index_scan(store_txn *t, const store_app *app, const store_ix_range *r,
                 const store_ix_pos *after, size_t limit, store_id *ids,
                 store_ix_pos *poss, uint64_t *times, size_t *n)
{
	kv_scan sc;
	keybuf from;
	bounds bd;
	store_rc rc;

	*n = 0;
	make_bounds(&bd, app, r);
	if (bd.head.overflow || bd.lo.overflow || bd.hi.overflow) return STORE_OK;
	start_of(&bd, r, after, &from);
	if ((rc = kv_scan_begin(&sc, t, DBI_INDEX, &bd.head, &from, r->desc))) return rc;
	while (*n < limit && kv_scan_next(&sc)) {
		const MDB_val *k = &sc.k;
		if (after && after->n && cmp_key(k, &from) == 0) continue;
		if (!r->desc && bd.lo_skip && starts(k, &bd.lo)) continue;
		if (k->mv_size < bd.head.n + 1 + KEY_IX_TAIL) break;
		if (r->desc ? !above_lo(k, &bd) : !below_hi(k, &bd)) break;
		const unsigned char *kb = k->mv_data;
		memcpy(ids[*n].b, kb + k->mv_size - 16, 16);
		if (times) times[*n] = key_get_u64(kb + k->mv_size - KEY_IX_TAIL);
		if (poss) {
			poss[*n].n = k->mv_size - bd.head.n;
			memcpy(poss[*n].b, kb + bd.head.n, poss[*n].n);
		}
		(*n)++;
	}
	return kv_scan_end(&sc, STORE_OK);
}

int
store_ix_pos_same_value(const store_ix_pos *a, const store_ix_pos *b)
{
	return a->n == b->n && a->n >= KEY_IX_TAIL && memcmp(a->b, b->b, a->n - KEY_IX_TAIL) == 0;
}

store_rc
store_index_count(store_txn *t, const store_app *app, const store_ix_range *r,
                  size_t cap, size_t *n)
{
	enum { STEP = 128 };
	store_id ids[STEP];
	store_ix_pos *poss = xmalloc(STEP * sizeof *poss), after = { .n = 0 };
	store_rc rc = STORE_OK;

	*n = 0;
	while (*n < cap) {
		size_t want = cap - *n < STEP ? cap - *n : STEP, got;
		rc = store_index_scan(t, app, r, &after, want, ids, poss, NULL, &got);
		if (rc || got == 0) break;
		*n += got;
		if (got < want) break;
		after = poss[got - 1];
	}
	free(poss);
	return rc;
}
