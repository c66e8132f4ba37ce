/*
** settings.c: collection settings, the rules a collection keeps.
**
** The settings of a collection are one record in meta under ('C', app,
** type\0): {"data": {...}, "lastUpdated": ms, "lastUpdateBy": who}.  Every
** write of an entity reads its collection's settings and applies them in
** its own transaction (settings_write, settings_delete), so the writer's
** one transaction at a time makes them race-free:
**
**   unique      values unique in the collection, case-insensitive: claimed in
**               the `unique` database like a schema's unique properties
**   required    properties every entity has
**   types       {path: "string"|"integer"|"number"|"boolean"|"object"|"array"}
**   readonly    paths whose stored values a client cannot change
**   single      {property: value}: at most one holder; a new holder clears
**               the property on the previous one.  The holder is kept in
**               `unique` under the property name with a leading '.' (no
**               property name holds one) and an empty value
**   counts      {path: collection}: the size of the entity's collection or
**               connection of that name, kept in the entity
**   deleteOnlyWhenEmpty  collections that must be empty for a delete
**   audit       metadata.created* / updated* from the transaction's actor
**   fields      Usergrid's selective indexing list: the paths the index
**               holds (fields.c)
**
** Changing the rules rewrites every entity of the collection under the
** new ones in the same transaction; an entity that breaks them fails the
** change (settings_conflict, naming it) and nothing is kept.  That write
** is bounded (STORE_SETTINGS_REWRITE_MAX); a reset rewrites nothing, and
** neither does a change of `fields` alone: it records a reindex, which
** runs in steps of its own (fields.c).
**
** The record is read (settings_record) and written (settings_record_put)
** here alone; a transaction parses it once (meta_record), however many of
** its writes, index updates (fields.c's ix_sel_load) and checks ask.
*/
#include "core/store_int.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>


static const char *const type_names[] = {
	"string", "integer", "number", "boolean", "object", "array",
};

store_rc
settings_record(store_txn *t, const store_app *app, const char *type, json_t **out)
{
	keybuf k;
	key_settings(&k, app, type);
	return meta_record(t, &k, out);
}

store_rc
settings_record_put(store_txn *t, const store_app *app, const char *type, json_t *rec)
{
	keybuf k;
	key_settings(&k, app, type);
	return rec ? kv_put_json(t, DBI_META, &k, rec) : kv_del(t, DBI_META, &k);
}

/* The stored record (*rec, NULL when the collection has none) and its
** rules (*data). */
static store_rc
settings_load(store_txn *t, const store_app *app, const char *type, json_t **rec,
              json_t **data)
{
	store_rc rc = settings_record(t, app, type, rec);
	*data = rc == STORE_OK && *rec ? json_object_get(*rec, "data") : NULL;
	return rc;
}

/* ---- dotted paths, names compared without case ------------------------- */

static json_t *
path_get(json_t *e, const char *path)
{
	char part[STORE_NAME_MAX + 1];
	const char *p = path;
	json_t *v = e;
	while (v && *p) {
		size_t n = strcspn(p, ".");
		if (n > STORE_NAME_MAX) return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		v = json_is_object(v) ? json_get_ci(v, part, NULL) : NULL;
		p += n;
		if (*p == '.') p++;
	}
	return v;
}

/* Sets (v taken) or, v NULL, removes the value at path. */
static void
path_set(json_t *e, const char *path, json_t *v)
{
	char part[STORE_NAME_MAX + 1];
	size_t n = strcspn(path, ".");
	const char *have = NULL;
	if (n > STORE_NAME_MAX) {
		json_decref(v);
		return;
	}
	memcpy(part, path, n);
	part[n] = '\0';
	json_t *cur = json_get_ci(e, part, &have);
	if (!path[n]) {
		if (v) json_object_set_new(e, have ? have : part, v);
		else if (have) json_object_del(e, have);
		return;
	}
	if (!json_is_object(cur) && !v) return;
	/* a copy: e's objects may be shared with the stored entity (old) */
	cur = json_is_object(cur) ? json_deep_copy(cur) : json_object();
	json_object_set_new(e, have ? have : part, cur);
	path_set(cur, path + n + 1, v);
}

static int
is_type(json_t *v, const char *name)
{
	if (strcmp(name, "string") == 0) return json_is_string(v);
	if (strcmp(name, "integer") == 0) return json_is_integer(v);
	if (strcmp(name, "number") == 0) return json_is_number(v);
	if (strcmp(name, "boolean") == 0) return json_is_boolean(v);
	if (strcmp(name, "object") == 0) return json_is_object(v);
	return json_is_array(v);
}

/* ---- checking a settings document --------------------------------------- */

static int
string_list(json_t *v)
{
	size_t i;
	json_t *x;
	if (!json_is_array(v)) return 0;
	json_array_foreach(v, i, x)
		if (!json_is_string(x) || json_string_length(x) == 0 ||
		    json_string_length(x) > STORE_INDEX_MAX_PATH)
			return 0;
	return 1;
}

/* 1 when every value of the object v passes ok. */
static int
object_of(json_t *v, int (*ok)(json_t *))
{
	const char *k;
	json_t *x;
	if (!json_is_object(v)) return 0;
	json_object_foreach(v, k, x)
		if (!*k || strlen(k) > STORE_INDEX_MAX_PATH || !ok(x)) return 0;
	return 1;
}

static int
type_name_ok(json_t *x)
{
	for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
		if (json_is_string(x) && strcmp(json_string_value(x), type_names[i]) == 0) return 1;
	return 0;
}

static int
scalar_ok(json_t *x)
{
	return json_is_string(x) || json_is_number(x) || json_is_boolean(x);
}

static int
coll_name_ok(json_t *x)
{
	return json_is_string(x) && json_string_length(x) > 0 &&
	       json_string_length(x) <= STORE_NAME_MAX;
}

static int
single_name_ok(json_t *s)
{
	const char *k;
	json_t *x;
	json_object_foreach(s, k, x)
		if (strchr(k, '.')) return 0;
	return 1;
}

/* STORE_INVALID naming the first key of doc that is not a setting. */
static store_rc
check_doc(json_t *doc, store_err *err)
{
	const char *k;
	json_t *v;
	if (!json_is_object(doc))
		return store_fail(err, STORE_INVALID, "the settings must be a JSON object");
	json_object_foreach(doc, k, v) {
		int ok;
		if (strcmp(k, "unique") == 0 || strcmp(k, "required") == 0 ||
		    strcmp(k, "readonly") == 0 || strcmp(k, "deleteOnlyWhenEmpty") == 0)
			ok = string_list(v);
		else if (strcmp(k, "fields") == 0) ok = fields_ok(v);
		else if (strcmp(k, "types") == 0) ok = object_of(v, type_name_ok);
		else if (strcmp(k, "single") == 0) ok = object_of(v, scalar_ok) && single_name_ok(v);
		else if (strcmp(k, "counts") == 0) ok = object_of(v, coll_name_ok);
		else if (strcmp(k, "audit") == 0) ok = json_is_boolean(v);
		else
			return store_fail(err, STORE_INVALID, "'%.100s' is not a collection setting", k);
		if (!ok)
			return store_fail(err, STORE_INVALID, "the setting '%s' has a value of the wrong form "
			                  "(docs/api.md, \"Collection settings\")", k);
	}
	return STORE_OK;
}

/* ---- the rules of one write ---------------------------------------------- */

static const char *
list_at(json_t *list, size_t i)
{
	return json_string_value(json_array_get(list, i));
}

/* The settings' unique property names, less the schema's own. */
static size_t
unique_names(json_t *data, const store_type_info *ti, const char **names, size_t cap)
{
	json_t *list = json_object_get(data, "unique");
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(list) && n < cap; i++) {
		const char *p = list_at(list, i);
		int builtin = 0;
		for (int j = 0; ti->unique[j]; j++) builtin |= strcasecmp(ti->unique[j], p) == 0;
		if (!builtin) names[n++] = p;
	}
	return n;
}

#define UNIQUE_MAX 64

store_rc
settings_unique(store_txn *t, const store_app *app, const char *type, json_t **rec,
                const char **names, size_t cap, size_t *n)
{
	store_rc rc = settings_record(t, app, type, rec);
	*n = rc == STORE_OK && *rec
	     ? unique_names(json_object_get(*rec, "data"), store_type_info_of(type), names, cap) : 0;
	return rc;
}

static store_rc
apply_unique(store_txn *t, const store_app *app, const char *type, json_t *data, json_t *old,
             json_t *e, const store_id *id, store_err *err)
{
	const char *names[UNIQUE_MAX];
	size_t n = unique_names(data, store_type_info_of(type), names, UNIQUE_MAX);
	store_rc rc = unique_props(t, app, type, names, n, old, e, id, err);
	if (rc == STORE_EXISTS && err) err->code = "duplicate_unique_property_exists";
	return rc;
}

static void
key_single(keybuf *k, const store_app *app, const char *type, const char *prop)
{
	char name[STORE_NAME_MAX + 2];
	snprintf(name, sizeof name, ".%s", prop);
	key_unique(k, app, type, name, "");
}

/* e (NULL: deleted) holds prop's single value or not; the previous
** holder loses it. */
static store_rc
apply_single(store_txn *t, const store_app *app, const char *type, json_t *data, json_t *e,
             const store_id *id, store_err *err)
{
	const char *prop;
	json_t *want;
	json_object_foreach(json_object_get(data, "single"), prop, want) {
		keybuf k;
		void *v;
		size_t n;
		store_id holder;
		int holds = e && json_equal(json_get_ci(e, prop, NULL), want);
		key_single(&k, app, type, prop);
		store_rc rc = kv_get(t, DBI_UNIQUE, &k, &v, &n);
		if (rc && rc != STORE_NOTFOUND) return rc;
		int had = rc == STORE_OK && n == 16;
		if (had) memcpy(holder.b, v, 16);
		if (had && memcmp(holder.b, id->b, 16) == 0) {
			if (!holds && (rc = kv_del(t, DBI_UNIQUE, &k))) return rc;
			continue;
		}
		if (!holds) continue;
		if (had) {
			char ids[37];
			store_id_format(&holder, ids);
			if (t->settings_scan)
				return err->code = "settings_conflict",
				       store_fail(err, STORE_CONFLICT,
				                  "entities %s and others hold %s; 'single' allows one", ids, prop);
			json_t *prev = NULL, *copy;
			rc = store_entity_get(t, app, &holder, &prev);
			if (rc == STORE_OK) {
				copy = json_copy(prev);
				const char *have = NULL;
				json_get_ci(copy, prop, &have);
				if (have) json_object_del(copy, have);
				json_object_set_new(copy, "modified", json_integer((json_int_t)store_now_ms()));
				rc = entity_replace(t, app, &holder, prev, copy, err);
				json_decref(copy);
			}
			json_decref(prev);
			if (rc && rc != STORE_NOTFOUND) return rc;
			key_single(&k, app, type, prop);
		}
		if ((rc = kv_put(t, DBI_UNIQUE, &k, id->b, 16))) return rc;
	}
	return STORE_OK;
}

/* Readonly paths keep their stored values (none on create); counts paths
** get the sizes of their collections. */
static store_rc
apply_readonly(store_txn *t, const store_app *app, json_t *data, json_t *old, json_t *e,
               const store_id *id)
{
	json_t *list = json_object_get(data, "readonly"), *coll;
	const char *path;
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *was = old ? path_get(old, list_at(list, i)) : NULL;
		path_set(e, list_at(list, i), was ? json_deep_copy(was) : NULL);
	}
	json_object_foreach(json_object_get(data, "counts"), path, coll) {
		uint64_t nc = 0, no = 0;
		const char *name = json_string_value(coll);
		store_rc rc = store_edge_count(t, app, id, STORE_EDGE_COLLECTION, name, &nc);
		if (rc == STORE_OK) rc = store_edge_count(t, app, id, STORE_EDGE_OUT, name, &no);
		if (rc && rc != STORE_NOTFOUND) return rc;
		path_set(e, path, json_integer((json_int_t)(nc + no)));
	}
	return STORE_OK;
}

/* ISO 8601 UTC with milliseconds, as FOLIO writes its metadata dates. */
static json_t *
iso_date(int64_t ms)
{
	char buf[40];
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof buf - n, ".%03d+00:00", (int)(ms % 1000));
	return json_string(buf);
}

/* The actor's uuid and username (NULL when none is known). */
static void
actor_of(store_txn *t, const store_app *app, char ids[37], json_t **name)
{
	json_t *u = NULL;
	store_id_format(&t->actor.user, ids);
	*name = NULL;
	if (store_entity_get(t, t->actor.admin ? store_mgmt_app : app, &t->actor.user, &u) == STORE_OK)
		*name = json_incref(json_object_get(u, "username"));
	json_decref(u);
}

static store_rc
apply_audit(store_txn *t, const store_app *app, json_t *data, json_t *old, json_t *e)
{
	if (!json_is_true(json_object_get(data, "audit")) || t->settings_scan) return STORE_OK;
	json_t *md = json_object_get(e, "metadata"), *name = NULL;
	char ids[37];
	md = json_is_object(md) ? json_deep_copy(md) : json_object();   /* maybe old's */
	json_object_set_new(e, "metadata", md);
	if (t->actor.set) actor_of(t, app, ids, &name);
	static const char *const created[] = { "createdDate", "createdByUserId", "createdByUsername" };
	static const char *const updated[] = { "updatedDate", "updatedByUserId", "updatedByUsername" };
	for (int pass = old ? 1 : 0; pass < 2; pass++) {
		const char *const *f = pass ? updated : created;
		json_object_set_new(md, f[0], iso_date(store_now_ms()));
		json_object_del(md, f[1]);
		json_object_del(md, f[2]);
		if (t->actor.set) json_object_set_new(md, f[1], json_string(ids));
		if (name) json_object_set(md, f[2], name);
	}
	json_decref(name);
	return STORE_OK;
}

static store_rc
apply_checks(json_t *data, const char *type, json_t *e, store_err *err)
{
	json_t *list = json_object_get(data, "required"), *want;
	const char *path;
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *v = path_get(e, list_at(list, i));
		if (!v || json_is_null(v))
			return store_fail(err, STORE_REQUIRED, "Entity \"%s\" requires a property named \"%s\"",
			                  type, list_at(list, i));
	}
	json_object_foreach(json_object_get(data, "types"), path, want) {
		json_t *v = path_get(e, path);
		if (v && !is_type(v, json_string_value(want)))
			return store_fail(err, STORE_INVALID, "property '%s' must be of type %s", path,
			                  json_string_value(want));
	}
	return STORE_OK;
}

/* The values e (NULL: deleted) claims and old (NULL: created) released:
** its unique values and single holdings. */
static store_rc
apply_claims(store_txn *t, const store_app *app, const char *type, json_t *data, json_t *old,
             json_t *e, const store_id *id, store_err *err)
{
	store_rc rc = apply_unique(t, app, type, data, old, e, id, err);
	return rc ? rc : apply_single(t, app, type, data, e, id, err);
}

store_rc
settings_write(store_txn *t, const store_app *app, const char *type, json_t *old, json_t *e,
               const store_id *id, store_err *err)
{
	json_t *rec, *data;
	store_rc rc = settings_load(t, app, type, &rec, &data);
	if (rc || !rec) return rc;
	if (!(rc = apply_readonly(t, app, data, old, e, id)) &&
	    !(rc = apply_audit(t, app, data, old, e)) && !(rc = apply_checks(data, type, e, err)))
		rc = apply_claims(t, app, type, data, t->settings_scan ? NULL : old, e, id, err);
	json_decref(rec);
	return rc;
}

store_rc
settings_delete(store_txn *t, const store_app *app, const char *type, json_t *old,
                const store_id *id, store_err *err)
{
	json_t *rec, *data, *list;
	store_rc rc = settings_load(t, app, type, &rec, &data);
	if (rc || !rec) return rc;
	list = json_object_get(data, "deleteOnlyWhenEmpty");
	for (size_t i = 0; i < json_array_size(list) && rc == STORE_OK; i++) {
		uint64_t n = 0;
		rc = store_edge_count(t, app, id, STORE_EDGE_COLLECTION, list_at(list, i), &n);
		if (rc == STORE_NOTFOUND) rc = STORE_OK;
		if (rc == STORE_OK && n > 0) {
			rc = store_fail(err, STORE_CONFLICT, "the %s's %s is not empty (%llu); "
			                "'deleteOnlyWhenEmpty' keeps it", type, list_at(list, i),
			                (unsigned long long)n);
			if (err) err->code = "collection_not_empty";
		}
	}
	if (rc == STORE_OK) rc = apply_claims(t, app, type, data, old, NULL, id, err);
	json_decref(rec);
	return rc;
}

store_rc
settings_counts_refresh(store_txn *t, const store_app *app, const store_id *id)
{
	json_t *e = NULL, *rec = NULL, *copy;
	store_rc rc = store_entity_get(t, app, id, &e);
	if (rc) return rc == STORE_NOTFOUND ? STORE_OK : rc;
	const char *type = json_string_value(json_object_get(e, "type"));
	if (type && (rc = settings_record(t, app, type, &rec)) == STORE_OK && rec &&
	    json_object_size(json_object_get(json_object_get(rec, "data"), "counts"))) {
		copy = json_copy(e);
		rc = entity_replace(t, app, id, e, copy, NULL);
		json_decref(copy);
	}
	json_decref(rec);
	json_decref(e);
	return rc;
}

store_rc
settings_claims(store_txn *t, const store_app *app, const char *type, json_t *old, json_t *e,
                const store_id *id, store_err *err)
{
	json_t *rec, *data;
	store_rc rc = settings_load(t, app, type, &rec, &data);
	if (rc || !rec) return rc;
	int scan = t->settings_scan;
	t->settings_scan = 1;           /* a second holder is a conflict, not a change */
	rc = apply_claims(t, app, type, data, old, e, id, err);
	t->settings_scan = scan;
	json_decref(rec);
	return rc;
}

store_rc
settings_import(store_txn *t, const store_app *app, const char *type, json_t *rec,
                int *changed, store_err *err)
{
	json_t *have = NULL;
	store_rc rc;
	*changed = 0;
	if (!type || !*type || strlen(type) > STORE_NAME_MAX || !json_is_object(rec) ||
	    check_doc(json_object_get(rec, "data"), err))
		return store_fail(err, STORE_INVALID, "a malformed settings record");
	if ((rc = settings_record(t, app, type, &have))) return rc;
	/* when its reindex ran is the store's own: not a difference */
	json_t *a = have ? json_copy(have) : NULL, *b = json_copy(rec);
	if (a) json_object_del(a, "lastReindexed");
	json_object_del(b, "lastReindexed");
	*changed = !json_equal(a, b);
	json_decref(a);
	json_decref(b);
	if (*changed && (rc = settings_record_put(t, app, type, rec)) == STORE_OK)
		rc = fields_changed(t, app, type, json_object_get(have, "data"), json_object_get(rec, "data"));
	json_decref(have);
	return rc;
}

/* ---- reading and changing the settings ----------------------------------- */

store_rc
store_settings_get(store_txn *t, const store_app *app, const char *type, json_t **out)
{
	json_t *progress = NULL, *rec = NULL;
	store_rc rc = settings_record(t, app, type, &rec);
	*out = NULL;
	if (rc) return rc;
	*out = rec ? json_copy(rec)           /* the transaction's parse: not to change */
	           : json_pack("{s:{}, s:n, s:n}", "data", "lastUpdated", "lastUpdateBy");
	json_decref(rec);
	rc = fields_progress(t, app, type, &progress);
	if (progress) json_object_set_new(*out, "reindexing", progress);
	return rc;
}

/* Releases the keys the old settings claimed for every entity of type. */
static store_rc
release_all(store_txn *t, const store_app *app, const char *type, json_t *data)
{
	const char *names[UNIQUE_MAX], *prop;
	json_t *v;
	size_t n = unique_names(data, store_type_info_of(type), names, UNIQUE_MAX);
	keybuf k;
	store_rc rc = STORE_OK;
	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		key_unique(&k, app, type, names[i], "");
		k.n--;           /* the prefix: app, type\0, lc(prop)\0 */
		rc = kv_del_prefix(t, DBI_UNIQUE, &k);
	}
	json_object_foreach(json_object_get(data, "single"), prop, v) {
		if (rc) break;
		key_single(&k, app, type, prop);
		rc = kv_del(t, DBI_UNIQUE, &k);
	}
	return rc;
}

typedef struct {
	store_txn       *t;
	const store_app *app;
	store_err       *err;
} rewrite_ctx;

/* Rewrites one entity under the stored settings; a rule it breaks is a
** conflict that names it. */
static store_rc
rewrite_one(void *ctx, const store_id *id)
{
	rewrite_ctx *c = ctx;
	store_err *err = c->err;
	json_t *e = NULL, *copy;
	store_rc rc = store_entity_get(c->t, c->app, id, &e);
	if (rc) return rc;
	copy = json_copy(e);
	rc = entity_replace(c->t, c->app, id, e, copy, err);
	if (rc == STORE_INVALID || rc == STORE_REQUIRED || rc == STORE_EXISTS ||
	    rc == STORE_CONFLICT) {
		char s[37];
		store_id_format(id, s);
		char why[sizeof err->msg];
		snprintf(why, sizeof why, "%s", err ? err->msg : "");
		rc = store_fail(err, STORE_CONFLICT, "entity %s breaks the settings: %.200s", s, why);
		if (err) err->code = "settings_conflict";
	}
	json_decref(copy);
	json_decref(e);
	return rc;
}

/* Rewrites every entity of the collection under the stored settings, if
** there are at most settings_rewrite_max (store.h). */
static store_rc
rewrite_all(store_txn *t, const store_app *app, const char *type, store_err *err)
{
	char coll[STORE_NAME_MAX + 1];
	uint64_t size = 0;
	store_collection_of(type, coll);
	store_rc rc = store_edge_count(t, app, &app->uuid, STORE_EDGE_COLLECTION, coll, &size);
	if (rc && rc != STORE_NOTFOUND) return rc;
	if (size > t->s->settings_rewrite_max)
		return store_fail(err, STORE_INVALID, "%s holds %llu entities; settings are checked "
		                  "against at most %llu in one write (STORE_SETTINGS_REWRITE_MAX, "
		                  "--settings-rewrite-max)", coll, (unsigned long long)size,
		                  (unsigned long long)t->s->settings_rewrite_max);
	rewrite_ctx c = { t, app, err };
	rc = edge_each(t, app, &app->uuid, STORE_EDGE_COLLECTION, coll, rewrite_one, &c);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* 1 when the settings a and b (either NULL: none) hold the same rules:
** `fields` aside, which asks no entity to change. */
static int
same_rules(json_t *a, json_t *b)
{
	json_t *x = a ? json_copy(a) : json_object(), *y = b ? json_copy(b) : json_object();
	json_object_del(x, "fields");
	json_object_del(y, "fields");
	int same = json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return same;
}

store_rc
store_settings_set(store_txn *t, const store_app *app, const char *type, json_t *body,
                   int merge, const char *by, json_t **out, store_err *err)
{
	json_t *rec = NULL, *old, *data;
	store_rc rc;
	if (out) *out = NULL;
	if (body && (rc = check_doc(body, err))) return rc;
	if ((rc = settings_record(t, app, type, &rec))) return rc;
	old = json_object_get(rec, "data");
	data = merge && old ? json_deep_copy(old) : json_object();
	if (body) json_object_update(data, body);
	int rewrite = body && !same_rules(old, data);
	json_t *next = json_pack("{s:o, s:I, s:s?}", "data", data, "lastUpdated",
	                         (json_int_t)store_now_ms(), "lastUpdateBy", by);
	if (json_object_get(rec, "lastReindexed"))
		json_object_set(next, "lastReindexed", json_object_get(rec, "lastReindexed"));
	if (rec && (rewrite || !body)) rc = release_all(t, app, type, old);
	if (rc == STORE_OK) rc = settings_record_put(t, app, type, body ? next : NULL);
	if (rc == STORE_OK) rc = fields_changed(t, app, type, old, body ? data : NULL);
	json_decref(next);
	if (rc == STORE_OK && rewrite) {
		t->settings_scan = 1;
		rc = rewrite_all(t, app, type, err);
		t->settings_scan = 0;
	}
	if (rc == STORE_OK && out) rc = store_settings_get(t, app, type, out);
	json_decref(rec);
	return rc;
}
