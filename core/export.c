/*
** export.c: one application out as NDJSON records, and back in.
**
** Records, one JSON object a line, each naming its kind in "record":
**
**   {"record":"application","application":{the application record}}
**   {"record":"settings","type":T,"settings":{"data":{...},"lastUpdated":ms,...}}
**   {"record":"entity","time":T,"entity":{the entity, uuid and timestamps}}
**   {"record":"edge","owner":U,"kind":"collection"|"connection","name":N,
**    "target":U,"time":T}
**   {"record":"dictionary","entity":U,"dictionary":D,"value":V}
**   {"record":"credential","entity":U,"kind":K,"hash":"$y$..."}
**   {"record":"asset","entity":U,"data":"base64url of the entity's binary data"}
**   {"record":"counter","name":N}          (a counter name events gave)
**   {"record":"counter","name":N,"resolution":R,"time":T,"value":V}  (a bucket)
**   {"record":"shared","group":U,"activity":U,"time":T}   (a shared group post)
**   {"record":"interval","user":U,"group":U,"join":T[,"leave":T]}
**                                 (a group membership's; no leave: open)
**
** T is the edge time (microseconds) that orders listings: an entity's in
** its root collection, an edge's own.  Edges are written from their
** owner's end (the reverse end follows on import); root-collection edges
** come with their entities.  A collection's settings come before the
** entities, so each imported entity claims its unique values and single
** holdings under them.  An export is read in one transaction; an
** import writes each record only where the store differs from it.
*/
#include "core/store_int.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
	store_txn        *t;
	const store_app  *app;
	const store_sink *out;
	const store_progress *progress;
	uint64_t          done, total;
	store_rc          rc;
} exporter;

/* Writes one record (taken) as a line. */
static void
emit(exporter *x, json_t *rec)
{
	char *line = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	if (!line) {
		x->rc = STORE_NOMEM;
	} else if (x->out && x->out->say) {
		x->out->say(x->out->ctx, line);    /* whole: store_say cuts lines at 1 KiB */
	}
	free(line);
	json_decref(rec);
}

typedef void record_fn(exporter *x, const MDB_val *k, const MDB_val *v);

/* Calls fn on every key of dbi of the application's: the keys that begin
** with its uuid, or with lead and its uuid (lead >= 0). */
static store_rc
each_under(exporter *x, int dbi, int lead, record_fn *fn)
{
	kv_scan sc;
	keybuf pre;
	key_app_keys(&pre, lead, &x->app->uuid);
	store_rc rc = kv_scan_begin(&sc, x->t, dbi, &pre, NULL, 0);
	if (rc) return rc;
	while (x->rc == STORE_OK && kv_scan_next(&sc)) fn(x, &sc.k, &sc.v);
	rc = kv_scan_end(&sc, STORE_OK);
	return x->rc ? x->rc : rc;
}

static store_rc
each(exporter *x, int dbi, record_fn *fn)
{
	return each_under(x, dbi, -1, fn);
}

static void
id_text(char buf[37], const unsigned char *b)
{
	store_id id;
	memcpy(id.b, b, 16);
	store_id_format(&id, buf);
}

/* A collection's settings: meta ('C', app, type\0) (settings.c). */
static void
export_settings(exporter *x, const MDB_val *k, const MDB_val *v)
{
	const char *type = (const char *)k->mv_data + 17;
	json_t *rec = json_loadb(v->mv_data, v->mv_size, 0, NULL);
	if (k->mv_size < 19 || type[k->mv_size - 18] != '\0' || !json_is_object(rec)) {
		x->rc = STORE_CORRUPT;
		json_decref(rec);
		return;
	}
	emit(x, json_pack("{s:s, s:s, s:o}", "record", "settings", "type", type, "settings", rec));
}

static void
export_entity(exporter *x, const MDB_val *k, const MDB_val *v)
{
	json_t *e = json_loadb(v->mv_data, v->mv_size, 0, NULL);
	store_id id;
	uint64_t time;
	memcpy(id.b, (const unsigned char *)k->mv_data + 16, 16);
	if (k->mv_size != 32 || !json_is_object(e) ||
	    entity_time(x->t, x->app, e, &id, &time) != STORE_OK) {
		x->rc = STORE_CORRUPT;
		json_decref(e);
		return;
	}
	emit(x, json_pack("{s:s, s:I, s:o}", "record", "entity", "time", (json_int_t)time,
	                  "entity", e));
	if (x->progress && x->progress->step && ++x->done % 256 == 0)
		x->progress->step(x->progress->ctx, x->done, x->total);
}

static void
export_edge(exporter *x, const MDB_val *k, const MDB_val *v)
{
	edge_key e;
	char owner[37], target[37];
	(void)v;
	if (!edge_key_parse(k->mv_data, k->mv_size, 24, &e)) {
		x->rc = STORE_CORRUPT;
		return;
	}
	if ((e.kind != STORE_EDGE_COLLECTION && e.kind != STORE_EDGE_OUT) ||
	    memcmp(e.owner.b, x->app->uuid.b, 16) == 0)
		return;                   /* a reverse end, or an entity's root collection */
	store_id_format(&e.owner, owner);
	store_id_format(&e.target, target);
	emit(x, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "record", "edge", "owner", owner,
	                  "kind", e.kind == STORE_EDGE_OUT ? "connection" : "collection",
	                  "name", e.name, "target", target, "time", (json_int_t)e.time));
}

static void
export_dict(exporter *x, const MDB_val *k, const MDB_val *v)
{
	const char *b = k->mv_data, *z = k->mv_size > 32 ? memchr(b + 32, 0, k->mv_size - 32) : NULL;
	char id[37];
	(void)v;
	if (!z) {
		x->rc = STORE_CORRUPT;
		return;
	}
	id_text(id, (const unsigned char *)b + 16);
	emit(x, json_pack("{s:s, s:s, s:s, s:s%}", "record", "dictionary", "entity", id,
	                  "dictionary", b + 32, "value", z + 1, k->mv_size - (size_t)(z + 1 - b)));
}

static void
export_secret(exporter *x, const MDB_val *k, const MDB_val *v)
{
	const char *b = k->mv_data;
	char id[37];
	if (k->mv_size <= 32 || !secret_kind_known(b + 32, k->mv_size - 32))
		return;                   /* a kind of key this export does not know */
	id_text(id, (const unsigned char *)b + 16);
	emit(x, json_pack("{s:s, s:s, s:s%, s:s%}", "record", "credential", "entity", id, "kind",
	                  b + 32, k->mv_size - 32, "hash", (const char *)v->mv_data, v->mv_size));
}

static void
export_asset(exporter *x, const MDB_val *k, const MDB_val *v)
{
	json_t *rec = asset_record(k->mv_data, k->mv_size, v->mv_data, v->mv_size);
	if (rec) emit(x, rec);
	else x->rc = STORE_CORRUPT;
}

static void
export_counter(exporter *x, const MDB_val *k, const MDB_val *v)
{
	json_t *rec = counter_record(k->mv_data, k->mv_size, v->mv_data, v->mv_size);
	if (rec) emit(x, rec);        /* else a kind of key this export does not know */
}

/* A shared group post or a membership interval (feed.c); a shared post's
** reverse follows from it on import. */
static void
export_feed(exporter *x, const MDB_val *k, const MDB_val *v)
{
	const unsigned char *b = k->mv_data;
	char a[37], g[37];
	json_t *rec;
	if (k->mv_size == 57 && b[16] == 's') {
		id_text(g, b + 17);
		id_text(a, b + 41);
		emit(x, json_pack("{s:s, s:s, s:s, s:I}", "record", "shared", "group", g, "activity", a,
		                  "time", (json_int_t)~key_get_u64(b + 33)));
	} else if (k->mv_size == 57 && b[16] == 'i' && v->mv_size == 8) {
		uint64_t leave = key_get_u64(v->mv_data);
		id_text(a, b + 17);
		id_text(g, b + 33);
		rec = json_pack("{s:s, s:s, s:s, s:I}", "record", "interval", "user", a, "group", g,
		                "join", (json_int_t)~key_get_u64(b + 49));
		if (rec && leave != UINT64_MAX)
			json_object_set_new(rec, "leave", json_integer((json_int_t)leave));
		emit(x, rec);
	}
}

/* Entities of the application: the sum of its root collections' counts. */
static uint64_t
entity_total(store_txn *t, const store_app *app)
{
	json_t *names = NULL, *n;
	const char *coll;
	uint64_t total = 0;
	if (store_edge_names(t, app, &app->uuid, STORE_EDGE_COLLECTION, &names) != STORE_OK) return 0;
	json_object_foreach(names, coll, n) total += (uint64_t)json_integer_value(n);
	json_decref(names);
	return total;
}

store_rc
store_export(store *s, store_slice org_name, store_slice app_name, const store_sink *out,
             const store_progress *progress, store_err *err)
{
	store_org org;
	store_app app;
	json_t *rec = NULL;
	exporter x = { .out = out, .progress = progress, .app = &app };
	static record_fn *const parts[] = { export_entity, export_edge, export_dict, export_secret,
	                                    export_asset, export_counter, export_feed };
	static const int dbis[] = { DBI_ENTITIES, DBI_EDGES, DBI_DICTS, DBI_SECRETS, DBI_ASSETS,
	                            DBI_COUNTERS, DBI_FEEDS };

	store_rc rc = store_txn_begin(s, STORE_TXN_READ, &x.t);
	if (rc) return store_fail(err, rc, "cannot read the store: %s", store_strerror(rc));
	if ((rc = store_org_get(x.t, org_name, &org)) || (rc = store_app_get(x.t, &org, app_name, &app))) {
		store_fail(err, rc, "no application %.*s/%.*s here", (int)org_name.n, org_name.p,
		           (int)app_name.n, app_name.p);
		goto done;
	}
	if ((rc = store_app_json(x.t, &app, &rec))) goto done;
	emit(&x, json_pack("{s:s, s:o}", "record", "application", "application", rec));
	x.total = entity_total(x.t, &app);
	rc = each_under(&x, DBI_META, 'C', export_settings);
	for (size_t i = 0; i < sizeof dbis / sizeof *dbis && rc == STORE_OK; i++)
		rc = each(&x, dbis[i], parts[i]);
	if (rc == STORE_OK && x.rc) rc = x.rc;
	if (rc) store_fail(err, rc, "export stopped: %s%s", store_strerror(rc),
	                   rc == STORE_CORRUPT ? " (see ugstore check)" : "");
	else if (progress && progress->step) progress->step(progress->ctx, x.done, x.total);
done:
	store_txn_abort(x.t);
	return rc;
}

/* ---- import ------------------------------------------------------------------- */

/* The uuid member `name` of rec. */
static int
rec_id(json_t *rec, const char *name, store_id *out)
{
	const char *s = json_string_value(json_object_get(rec, name));
	return s && store_id_parse((store_slice){ s, strlen(s) }, out);
}

/* An edge record: both ends must exist (the owner may be the application). */
static store_rc
import_edge(store_txn *t, const store_app *app, json_t *rec, int *changed, store_err *err)
{
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	const char *name = json_string_value(json_object_get(rec, "name"));
	json_int_t time = json_integer_value(json_object_get(rec, "time"));
	store_id owner, target;
	uint64_t have;

	if (!kind || !name || !*name || strlen(name) > STORE_NAME_MAX || time <= 0 ||
	    !rec_id(rec, "owner", &owner) || !rec_id(rec, "target", &target) ||
	    (strcmp(kind, "collection") != 0 && strcmp(kind, "connection") != 0))
		return store_fail(err, STORE_INVALID, "a malformed edge record");
	store_edge_kind k = strcmp(kind, "connection") == 0 ? STORE_EDGE_OUT : STORE_EDGE_COLLECTION;
	store_rc rc = STORE_OK;
	if (memcmp(owner.b, app->uuid.b, 16) != 0) rc = entity_held(t, app, &owner);
	if (rc == STORE_OK) rc = entity_held(t, app, &target);
	if (rc == STORE_NOTFOUND)
		return store_fail(err, STORE_INVALID, "an edge %s of an entity the file does not hold", name);
	if (rc) return rc;
	rc = edge_time_of(t, app, &owner, k, name, &target, &have);
	*changed = rc != STORE_OK || have != (uint64_t)time;
	if (!*changed) return STORE_OK;
	return edge_put_at(t, app, &owner, k, name, &target, (uint64_t)time, NULL);
}

/* A fixed import's entity takes the unique values of its type's schema
** (a role's name, a user's username and email, ...) from the entity of the
** application that holds them under another uuid: that one is deleted
** first (store.h).  An application made through the API has its default
** roles: the file's roles replace them.  Like store_entity_import, that
** delete leaves the entity counters to the file's counter records. */
static store_rc
take_unique(store_txn *t, store_import_state *st, json_t *e, store_err *err)
{
	const char *type = json_string_value(json_object_get(e, "type"));
	store_id id, have;
	store_rc rc = STORE_OK;
	if (!type || store_entity_id(e, &id) != STORE_OK) return STORE_OK;   /* import says */
	const store_type_info *ti = store_type_info_of(type);
	for (size_t i = 0; rc == STORE_OK && i < 4 && ti->unique[i]; i++) {
		const char *v = json_string_value(json_get_ci(e, ti->unique[i], NULL));
		if (!v || !*v) continue;
		rc = store_entity_find(t, &st->app, type, (store_slice){ v, strlen(v) }, &have);
		if (rc == STORE_NOTFOUND || (rc == STORE_OK && memcmp(have.b, id.b, 16) == 0)) {
			rc = STORE_OK;
			continue;
		}
		json_t *gone = NULL;
		char coll[STORE_NAME_MAX + 1];
		if (rc == STORE_OK && (rc = store_entity_delete(t, &st->app, &have, &gone, err)) == 0) {
			st->replaced++;
			store_collection_of(type, coll);
			entity_count(t, &st->app, coll, 1);  /* counters: the file's records say */
		}
		json_decref(gone);
	}
	return rc;
}

/* The application record of a fixed import (store.h). */
static store_rc
fixed_app(store_txn *t, store_import_state *st, json_t *app, int *changed, store_err *err)
{
	store_id id;
	char text[37];
	if (!json_is_object(app) || store_entity_id(app, &id) != STORE_OK)
		return store_fail(err, STORE_INVALID, "the application record needs a uuid");
	if (!st->have_from) {
		st->from = id;
		st->have_from = 1;
	}
	st->foreign = memcmp(id.b, st->from.b, 16) != 0;
	if (st->foreign) {
		store_id_format(&id, text);
		return store_fail(err, STORE_INVALID, "the records of another application (%s) follow: "
		                  "this import writes into %s/%s only", text, st->app.org_name,
		                  st->app.name);
	}
	return app_props_import(t, &st->app, app, changed);
}

/* A shared post (its activity in the file) or a membership interval (its
** user in the file; the group may have been deleted since). */
static store_rc
import_feed(store_txn *t, const store_app *app, json_t *rec, int shared, int *changed,
            store_err *err)
{
	json_int_t t1 = json_integer_value(json_object_get(rec, shared ? "time" : "join"));
	json_t *lv = json_object_get(rec, "leave");
	json_int_t t2 = lv ? json_integer_value(lv) : 0;
	store_id who, group;
	store_rc rc;

	if (!rec_id(rec, shared ? "activity" : "user", &who) || !rec_id(rec, "group", &group) ||
	    t1 <= 0 || (lv && (shared || t2 <= t1)))
		return store_fail(err, STORE_INVALID, "a malformed %s record",
		                  shared ? "shared" : "interval");
	if ((rc = entity_held(t, app, &who)) == STORE_NOTFOUND)
		return store_fail(err, STORE_INVALID, "a%s of an entity the file does not hold",
		                  shared ? " shared post" : "n interval");
	if (rc) return rc;
	return shared ? feed_share_import(t, app, &group, &who, (uint64_t)t1, changed)
	              : feed_span_import(t, app, &who, &group, (uint64_t)t1,
	                                 lv ? (uint64_t)t2 : UINT64_MAX, changed);
}

/* A record of an entity's own data (a dictionary value, a credential, an
** asset): the entity must be in the file already. */
static store_rc
import_owned(store_txn *t, const store_app *app, json_t *rec, const char *kind, int *changed,
             store_err *err)
{
	int dict = kind[0] == 'd', asset = kind[0] == 'a';
	/* a: the dictionary or the credential's kind; b: the value, hash or data */
	const char *a = json_string_value(json_object_get(rec, dict ? "dictionary" : "kind"));
	const char *b = json_string_value(json_object_get(rec, asset ? "data" : dict ? "value" : "hash"));
	store_id id;
	store_rc rc;
	if ((!asset && (!a || !*a || strlen(a) > STORE_NAME_MAX)) || !b ||
	    !rec_id(rec, "entity", &id))
		return store_fail(err, STORE_INVALID, "a malformed %s record", kind);
	if ((rc = entity_held(t, app, &id)) == STORE_NOTFOUND)
		return store_fail(err, STORE_INVALID, "a%s %s of an entity the file does not hold",
		                  asset ? "n" : "", kind);
	if (rc == STORE_OK)
		rc = asset ? asset_import(t, app, &id, b, changed)
		     : dict ? dict_import(t, app, &id, a, b, changed)
		            : secret_import(t, app, &id, a, b, changed);
	if (rc == STORE_INVALID) store_fail(err, rc, "a malformed %s record", kind);
	return rc;
}

store_rc
store_import_record(store_txn *t, store_import_state *st, json_t *rec, store_err *err)
{
	const char *kind = json_string_value(json_object_get(rec, "record"));
	int changed = 0;
	store_rc rc;

	if (!kind) return store_fail(err, STORE_INVALID, "a line without a \"record\" kind");
	if (strcmp(kind, "application") == 0 && st->fixed) {
		rc = fixed_app(t, st, json_object_get(rec, "application"), &changed, err);
	} else if (strcmp(kind, "application") == 0) {
		rc = store_app_import(t, json_object_get(rec, "application"), &st->app, &changed, err);
		st->have_app = rc == STORE_OK;
	} else if (!st->have_app) {
		return store_fail(err, STORE_INVALID, "the first record must be the application");
	} else if (st->foreign) {
		return store_fail(err, STORE_INVALID, "a record of another application: this import "
		                  "writes into %s/%s only", st->app.org_name, st->app.name);
	} else if (strcmp(kind, "settings") == 0) {
		rc = settings_import(t, &st->app, json_string_value(json_object_get(rec, "type")),
		                     json_object_get(rec, "settings"), &changed, err);
	} else if (strcmp(kind, "entity") == 0) {
		json_int_t time = json_integer_value(json_object_get(rec, "time"));
		json_t *e = json_object_get(rec, "entity");
		rc = st->fixed ? take_unique(t, st, e, err) : STORE_OK;
		if (rc == STORE_OK)
			rc = store_entity_import(t, &st->app, e, time > 0 ? (uint64_t)time : 0, &changed,
			                         err);
	} else if (strcmp(kind, "edge") == 0) {
		rc = import_edge(t, &st->app, rec, &changed, err);
	} else if (strcmp(kind, "dictionary") == 0 || strcmp(kind, "credential") == 0 ||
	           strcmp(kind, "asset") == 0) {
		rc = import_owned(t, &st->app, rec, kind, &changed, err);
	} else if (strcmp(kind, "shared") == 0 || strcmp(kind, "interval") == 0) {
		rc = import_feed(t, &st->app, rec, kind[0] == 's', &changed, err);
	} else if (strcmp(kind, "counter") == 0) {
		rc = counter_import(t, &st->app, rec, &changed);
		if (rc == STORE_INVALID) store_fail(err, rc, "a malformed counter record");
	} else {
		return store_fail(err, STORE_INVALID, "an unknown record \"%.40s\"", kind);
	}
	if (rc == STORE_OK) {
		st->records++;
		st->changed += (uint64_t)changed;
	}
	return rc;
}
