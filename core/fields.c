/*
** fields.c: selective indexing, a collection's `fields` setting.
**
** `fields` is "all" (the default), "none", or a list of property paths:
** a listed path and every path below it (`address` holds `address.city`)
** get index entries, compared without case; no other path does.  index.c
** asks ix_fields_at for every path it walks.
**
** A change of the list does not rewrite the index in the change's own
** write.  It records a reindex in meta ('R', app, type\0):
**
**   {"present": F, "ready": F, "after": {"time": T, "uuid": U},
**    "started": ms, "done": N}
**
** F is a list's JSON ("all", "none" or [paths]).  present: the paths that
** may still hold entries (the union of the lists since the index last
** matched one), whose entries a write of an entity removes where the
** target list has none; ready: the paths whose entries every entity has
** (the meet of those lists), the only ones a query may drive from
** (store_index_flags says STORE_IXF_OFF of the others).  Every write
** indexes its entity under the target list.  store_reindex_step walks the
** root collection newest first from `after`, at most
** store_options.reindex_batch entities in one short write transaction of
** its own, and brings each entity's entries from present to the target;
** the record is its progress, so a restart resumes where it stopped.
** An entity written since it started was indexed under the target by
** its write; one whose time moved (a create, a re-POST) is newer than any
** the walk has yet to visit, and the others it visits again, harmlessly.  The last step deletes the
** record and stamps `lastReindexed` (ms) into the settings record.  A
** change during a reindex widens present, narrows ready and starts again
** from the newest entity.  A step that fails is rolled back and noted in
** the record ("failed": {"at": ms, "error": text}), which is then held
** back for STORE_REINDEX_RETRY_MS while the other records' reindexes run.
*/
#include "core/store_int.h"
#include "core/mem.h"

#include <stdlib.h>
#include <strings.h>

/* Paths a reindex record keeps in a list: past it, present becomes "all"
** (more deletes, never a stale entry) and ready "none" (more scans, never
** a half-built index). */
#define HOLD_MAX (4 * STORE_FIELDS_MAX)

/* ---- lists of paths ------------------------------------------------------- */

/* A `fields` value (absent or "all", "none", or a list) as a selection
** (borrowing v). */
static ix_fields
as_fields(json_t *v)
{
	ix_fields f = { 1, NULL };
	if (json_is_array(v)) {
		f.all = 0;
		f.list = v;
	} else if (json_is_string(v) && strcmp(json_string_value(v), "none") == 0) {
		f.all = 0;
	}
	return f;
}

/* Does the listed path p hold path (path is p or lies below it)? */
static int
holds(const char *p, const char *path)
{
	size_t n = strlen(p);
	return strncasecmp(p, path, n) == 0 && (path[n] == '\0' || path[n] == '.');
}

int
ix_fields_at(const ix_fields *f, const char *path)
{
	size_t i;
	json_t *x;
	int below = 0;
	if (f->all) return 2;
	json_array_foreach(f->list, i, x) {
		const char *p = json_string_value(x);
		if (holds(p, path)) return 2;
		below |= holds(path, p);
	}
	return below;
}

/* 1 when every path a holds, b holds too. */
static int
within(ix_fields a, ix_fields b)
{
	size_t i;
	json_t *x;
	if (b.all) return 1;
	if (a.all) return 0;
	json_array_foreach(a.list, i, x)
		if (ix_fields_at(&b, json_string_value(x)) != 2) return 0;
	return 1;
}

static int
same(ix_fields a, ix_fields b)
{
	return within(a, b) && within(b, a);
}

/* Appends p to the list unless the list holds it already. */
static void
add(json_t *list, const char *p)
{
	size_t i;
	json_t *x;
	json_array_foreach(list, i, x)
		if (holds(json_string_value(x), p)) return;
	json_array_append_new(list, json_string(p));
}

/* The JSON of a list being built (taken): "none" when empty, `over` when
** longer than HOLD_MAX. */
static json_t *
list_json(json_t *list, const char *over)
{
	size_t n = json_array_size(list);
	if (n && n <= HOLD_MAX) return list;
	json_decref(list);
	return json_string(n ? over : "none");
}

/* Every path a or b holds (new). */
static json_t *
fields_union(ix_fields a, ix_fields b)
{
	size_t i;
	json_t *x, *u;
	if (a.all || b.all) return json_string("all");
	u = json_array();
	json_array_foreach(a.list, i, x) add(u, json_string_value(x));
	json_array_foreach(b.list, i, x) add(u, json_string_value(x));
	return list_json(u, "all");
}

/* The paths both a and b hold (new). */
static json_t *
fields_meet(ix_fields a, ix_fields b)
{
	size_t i, j;
	json_t *x, *y, *m;
	if (a.all || b.all) {
		ix_fields o = a.all ? b : a;
		return o.all ? json_string("all") : list_json(json_deep_copy(o.list), "none");
	}
	m = json_array();
	json_array_foreach(b.list, i, x)
		json_array_foreach(a.list, j, y)
			if (holds(json_string_value(y), json_string_value(x))) add(m, json_string_value(x));
	json_array_foreach(a.list, i, y)
		json_array_foreach(b.list, j, x)
			if (holds(json_string_value(x), json_string_value(y))) add(m, json_string_value(y));
	return list_json(m, "none");
}

/* ---- a collection's selection ----------------------------------------------- */

store_rc
ix_sel_load(store_txn *t, const store_app *app, const char *type, ix_sel *out)
{
	keybuf k;
	memset(out, 0, sizeof *out);
	out->target = out->present = out->ready = as_fields(NULL);
	if (!type) return STORE_OK;                   /* no collection: every path */
	store_rc rc = settings_record(t, app, type, &out->settings);
	key_reindex(&k, app, type);
	if (rc == STORE_OK) rc = meta_record(t, &k, &out->reindex);
	out->target = as_fields(json_object_get(json_object_get(out->settings, "data"), "fields"));
	out->present = out->ready = out->target;
	if (out->reindex) {
		out->present = as_fields(json_object_get(out->reindex, "present"));
		out->ready = as_fields(json_object_get(out->reindex, "ready"));
	}
	if (rc) {
		ix_sel_clear(out);
		out->target = out->present = out->ready = as_fields(NULL);
	}
	return rc;
}

void
ix_sel_clear(ix_sel *s)
{
	json_decref(s->settings);
	json_decref(s->reindex);
	s->settings = s->reindex = NULL;
}

/* A list of at most max paths, or "all" or "none". */
static int
list_ok(json_t *v, size_t max)
{
	size_t i;
	json_t *x;
	if (json_is_string(v))
		return strcmp(json_string_value(v), "all") == 0 || strcmp(json_string_value(v), "none") == 0;
	if (!json_is_array(v) || json_array_size(v) > max) return 0;
	json_array_foreach(v, i, x) {
		const char *p = json_string_value(x);
		size_t n = json_string_length(x);
		/* a path of names: no empty one (no key of the index has it) */
		if (!p || n == 0 || n > STORE_INDEX_MAX_PATH || p[0] == '.' || p[n - 1] == '.' ||
		    strstr(p, "..") || strlen(p) != n)
			return 0;
	}
	return 1;
}

int
fields_ok(json_t *v)
{
	return list_ok(v, STORE_FIELDS_MAX);
}

int
fields_record_ok(json_t *re)
{
	return list_ok(json_object_get(re, "present"), HOLD_MAX) &&
	       list_ok(json_object_get(re, "ready"), HOLD_MAX) &&
	       json_is_integer(json_object_get(re, "started")) &&
	       json_is_integer(json_object_get(re, "done"));
}

store_rc
fields_changed(store_txn *t, const store_app *app, const char *type, json_t *was, json_t *now)
{
	ix_fields from = as_fields(json_object_get(was, "fields"));
	ix_fields to = as_fields(json_object_get(now, "fields"));
	json_t *re = NULL, *present, *ready;
	keybuf k;
	key_reindex(&k, app, type);
	store_rc rc = meta_record(t, &k, &re);
	if (rc || (!re && same(from, to))) goto done;
	present = fields_union(re ? as_fields(json_object_get(re, "present")) : from, to);
	ready = fields_meet(re ? as_fields(json_object_get(re, "ready")) : from, to);
	if (same(as_fields(present), to) && same(as_fields(ready), to)) {
		json_decref(present);
		json_decref(ready);
		rc = kv_del(t, DBI_META, &k);         /* the index holds the list already */
		goto done;
	}
	json_decref(re);
	re = json_pack("{s:o, s:o, s:I, s:I}", "present", present, "ready", ready,
	               "started", (json_int_t)store_now_ms(), "done", (json_int_t)0);
	rc = re ? kv_put_json(t, DBI_META, &k, re) : STORE_NOMEM;
done:
	json_decref(re);
	return rc;
}

store_rc
fields_progress(store_txn *t, const store_app *app, const char *type, json_t **out)
{
	keybuf k;
	json_t *re = NULL;
	key_reindex(&k, app, type);
	store_rc rc = meta_record(t, &k, &re);
	*out = re ? json_pack("{s:O, s:O}", "started", json_object_get(re, "started"),
	                      "entities", json_object_get(re, "done"))
	          : NULL;
	if (json_object_get(re, "failed"))
		json_object_set(*out, "failed", json_object_get(re, "failed"));
	json_decref(re);
	return rc;
}

/* ---- the reindex ----------------------------------------------------------- */

/* Whether the reindex record v[0..n) failed less than
** STORE_REINDEX_RETRY_MS before now (held back: the others run). */
static int
held(const void *v, size_t n, int64_t now)
{
	json_t *re = json_loadb(v, n, 0, NULL);
	json_int_t at = json_integer_value(json_object_get(json_object_get(re, "failed"), "at"));
	json_decref(re);
	return at && now - at < STORE_REINDEX_RETRY_MS;
}

/* The first collection with a reindex to run, not held back: its app and
** type. */
static store_rc
first_pending(store_txn *t, store_app *app, char type[STORE_NAME_MAX + 1])
{
	kv_scan sc;
	keybuf recs;
	int64_t now = store_now_ms();
	key_lead(&recs, 'R');
	store_rc rc = kv_scan_begin(&sc, t, DBI_META, &recs, NULL, 0), found = STORE_NOTFOUND;
	if (rc) return rc;
	while (kv_scan_next(&sc)) {
		const unsigned char *b = sc.k.mv_data;
		size_t n = sc.k.mv_size - 17;
		if (sc.k.mv_size < 19 || b[sc.k.mv_size - 1] != 0 || n - 1 > STORE_NAME_MAX ||
		    held(sc.v.mv_data, sc.v.mv_size, now))
			continue;
		memset(app, 0, sizeof *app);
		memcpy(app->uuid.b, b + 1, 16);
		memcpy(type, b + 17, n);
		found = STORE_OK;
		break;
	}
	rc = kv_scan_end(&sc, STORE_OK);
	return rc ? rc : found;
}

/* Stamps lastReindexed into the settings record (when there is one). */
static store_rc
stamp_done(store_txn *t, const store_app *app, const char *type, json_t *settings)
{
	if (!settings) return STORE_OK;
	json_t *rec = json_copy(settings);           /* the transaction's parse: a copy */
	json_object_set_new(rec, "lastReindexed", json_integer((json_int_t)store_now_ms()));
	store_rc rc = settings_record_put(t, app, type, rec);
	json_decref(rec);
	return rc;
}

/* One step of the reindex of (app, type) in t: at most max entities. */
static store_rc
step(store_txn *t, store_app *app, const char *type, size_t max)
{
	ix_sel sel;
	keybuf k;
	char coll[STORE_NAME_MAX + 1], ids_text[37];
	store_id *ids = xmalloc(max * sizeof *ids);
	store_pos *poss = xmalloc(max * sizeof *poss), from = { .set = 0 };
	size_t n = 0;
	json_t *after;

	key_reindex(&k, app, type);
	store_id_format(&app->uuid, ids_text);
	store_rc rc = store_app_get(t, NULL, (store_slice){ ids_text, 36 }, app);
	if (rc == STORE_NOTFOUND) {               /* the application is gone */
		rc = kv_del(t, DBI_META, &k);
		goto done;
	}
	if (rc || (rc = ix_sel_load(t, app, type, &sel))) goto done;
	after = json_object_get(sel.reindex, "after");
	const char *u = json_string_value(json_object_get(after, "uuid"));
	store_id at;
	if (u && store_id_parse((store_slice){ u, strlen(u) }, &at))
		store_pos_make(&from, (uint64_t)json_integer_value(json_object_get(after, "time")), &at);
	store_collection_of(type, coll);
	rc = store_edge_scan(t, app, &app->uuid, STORE_EDGE_COLLECTION, coll, &from, max, ids, poss, &n);
	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		json_t *e = NULL;
		rc = store_entity_get(t, app, &ids[i], &e);
		const char *et = json_string_value(json_object_get(e, "type"));
		if (rc == STORE_OK && et && strcmp(et, type) == 0)
			rc = index_reindex(t, app, &sel, e, &ids[i], store_pos_time(&poss[i]));
		else if (rc == STORE_NOTFOUND)
			rc = STORE_OK;                    /* an edge without its entity: check's */
		json_decref(e);
	}
	if (rc == STORE_OK && n < max) {
		if ((rc = kv_del(t, DBI_META, &k)) == STORE_OK)
			rc = stamp_done(t, app, type, sel.settings);
	} else if (rc == STORE_OK) {
		json_t *re = json_copy(sel.reindex);      /* the transaction's parse: a copy */
		store_id_format(&ids[n - 1], ids_text);
		json_object_set_new(re, "after",
		                    json_pack("{s:I, s:s}", "time", (json_int_t)store_pos_time(&poss[n - 1]),
		                              "uuid", ids_text));
		json_object_del(re, "failed");       /* it goes again */
		json_object_set_new(re, "done", json_integer(
			json_integer_value(json_object_get(re, "done")) + (json_int_t)n));
		rc = kv_put_json(t, DBI_META, &k, re);
		json_decref(re);
	}
	ix_sel_clear(&sel);
done:
	free(ids);
	free(poss);
	return rc;
}

/* Records in the reindex of (app, type), in a write transaction of its
** own, that a step failed with why: "failed": {"at": ms, "error": text}.
** A record that cannot be read becomes the one any reindex may start from
** (every path may hold entries, none is ready: see HOLD_MAX). */
static store_rc
note_failure(store *s, const store_app *app, const char *type, store_rc why)
{
	store_txn *t = NULL;
	json_t *re = NULL;
	json_int_t now = (json_int_t)store_now_ms();
	keybuf k;
	store_rc rc = store_txn_begin(s, STORE_TXN_WRITE, &t);
	if (rc) return rc;
	key_reindex(&k, app, type);
	rc = kv_get_json(t, DBI_META, &k, &re);
	if (rc == STORE_CORRUPT || (rc == STORE_OK && !fields_record_ok(re))) {
		json_decref(re);
		re = json_pack("{s:s, s:s, s:I, s:I}", "present", "all", "ready", "none",
		               "started", now, "done", (json_int_t)0);
		rc = re ? STORE_OK : STORE_NOMEM;
	}
	if (rc == STORE_OK) {
		json_object_set_new(re, "failed", json_pack("{s:I, s:s}", "at", now,
		                                             "error", store_strerror(why)));
		rc = kv_put_json(t, DBI_META, &k, re);
	}
	json_decref(re);
	if (rc) {
		store_txn_abort(t);
		return rc == STORE_NOTFOUND ? STORE_OK : rc;    /* no longer pending */
	}
	return store_txn_commit(t);
}

store_rc
store_reindex_step(store *s, int *more, store_err *err)
{
	store_txn *t = NULL;
	store_app app;
	char type[STORE_NAME_MAX + 1], ids[37];
	*more = 0;
	store_rc rc = store_txn_begin(s, STORE_TXN_WRITE, &t);
	if (rc) return rc;
	rc = first_pending(t, &app, type);
	if (rc) {
		store_txn_abort(t);
		return rc == STORE_NOTFOUND ? STORE_OK : rc;
	}
	if ((rc = step(t, &app, type, s->reindex_batch)) == STORE_OK) {
		*more = 1;
		return store_txn_commit(t);
	}
	store_txn_abort(t);
	store_rc noted = note_failure(s, &app, type, rc);
	*more = noted == STORE_OK;                 /* held back now: go on with the others */
	store_id_format(&app.uuid, ids);
	return store_fail(err, rc, "the reindex of %s in application %s failed: %s%s%s", type,
	                  ids, store_strerror(rc), noted ? "; and noting it: " : "",
	                  noted ? store_strerror(noted) : "");
}

store_rc
store_reindex_finish(store *s, uint64_t *steps)
{
	int more = 1;
	store_rc rc, first = STORE_OK;
	if (steps) *steps = 0;
	while (more) {
		if ((rc = store_reindex_step(s, &more, NULL)) == STORE_OK && more && steps) (*steps)++;
		if (rc && !first) first = rc;
	}
	return first;
}

store_rc
fields_upgrade(store_txn *t)
{
	kv_scan sc;
	keybuf recs;
	keybuf *keys = NULL;              /* the reindex keys to write */
	json_t *lists = json_array();     /* and their lists */
	size_t n = 0;
	key_lead(&recs, 'C');
	store_rc rc = kv_scan_begin(&sc, t, DBI_META, &recs, NULL, 0);
	if (rc) {
		json_decref(lists);
		return rc;
	}
	while (kv_scan_next(&sc)) {
		const char *b = sc.k.mv_data;
		if (sc.k.mv_size < 19 || b[sc.k.mv_size - 1] != 0) continue;   /* 'C' app type\0 */
		json_t *rec = json_loadb(sc.v.mv_data, sc.v.mv_size, 0, NULL);
		json_t *f = json_object_get(json_object_get(rec, "data"), "fields");
		if (!as_fields(f).all) {
			store_app app = { .uuid = { { 0 } } };
			memcpy(app.uuid.b, b + 1, 16);
			keys = xrealloc(keys, (n + 1) * sizeof *keys);
			key_reindex(&keys[n++], &app, b + 17);
			json_array_append(lists, f);
		}
		json_decref(rec);
	}
	rc = kv_scan_end(&sc, STORE_OK);
	/* the format before kept every path indexed whatever the list said */
	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		json_t *re = json_pack("{s:s, s:O, s:I, s:I}", "present", "all", "ready",
		                       json_array_get(lists, i), "started", (json_int_t)store_now_ms(),
		                       "done", (json_int_t)0);
		rc = re ? kv_put_json(t, DBI_META, &keys[i], re) : STORE_NOMEM;
		json_decref(re);
	}
	free(keys);
	json_decref(lists);
	return rc;
}
