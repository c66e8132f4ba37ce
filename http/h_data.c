/*
** h_data.c: handlers for the application entity, root collections and
** their items (spec 1.4), plus the listing and rendering helpers that the
** relationship handlers share.  Handlers read what the path names from
** r->w (walk.c), work in r->txn and leave the reply in r; domain rules
** live in core/.
*/
#include "http/http_int.h"
#include "query/query.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void reply_query(http_req *r, const query_scope *sc, const ql_query *q,
                        size_t limit, int count);

const char *
http_ql_text(const http_param *params, size_t n)
{
	static const char *const names[] = { "ql", "q", "query" };
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; i < n; i++)
			if (strcmp(params[i].name, names[k]) == 0 && params[i].value[0])
				return params[i].value;
	return NULL;
}

static int
ql_or_reply(http_req *r, ql_query **out)
{
	const char *text = http_ql_text(r->params, r->nparams);
	ql_error err;
	ql_query *q = NULL;

	*out = NULL;
	if (!text) return 1;
	if (ql_parse(r->a, text, strlen(text), &q, &err) != QL_OK) {
		http_error(r, 400, ql_error_name(err.code), "%s", err.msg);
		return 0;
	}
	/* `select *` alone, or blank text: a plain listing */
	if (q->select != QL_SELECT_ALL || q->where || q->ndirect || q->norder) *out = q;
	return 1;
}

void
http_add_entity(http_req *r, json_t *env, json_t *e, const char *base)
{
	json_array_append_new(json_object_get(env, "entities"),
	                      http_render_entity(r, r->txn, e, base));
}

void
http_reply_entity(http_req *r, store_rc rc, json_t *e, const store_err *err)
{
	if (rc) {
		http_store_error(r, rc, err, NULL);
		return;
	}
	json_t *env = http_envelope(r, r->w.path);
	http_add_entity(r, env, e, http_items_path(&r->w));
	http_reply(r, env);
}

json_t *
http_body_object_or_reply(http_req *r, int empty_ok)
{
	int present;
	json_t *body = http_body_json(r, &present);
	if (present && !body) return NULL;
	if (!body && empty_ok) return json_object();
	if (!json_is_object(body)) {
		json_decref(body);
		http_error(r, 400, "illegal_argument", "the body must be a JSON object");
		return NULL;
	}
	return body;
}

/* One page of owner's edges kind/name, newest first, into the envelope:
** entities of type_filter only when it is not empty.  A page filled to
** `limit` carries a cursor.  count=1 sets the envelope's `count`. */
void
http_list_edges(http_req *r, const store_id *owner, store_edge_kind kind,
                const char *name, const char *type_filter, int count)
{
	static const ql_query all = { .select = QL_SELECT_ALL };   /* a plain listing */
	ql_query *q;
	if (!ql_or_reply(r, &q)) return;
	/* the executor's scan plan is the listing: one engine, one cursor */
	query_scope sc = { *owner, kind, name, type_filter, r->w.kind == CTX_ROOT,
	                   http_progress(r) };
	reply_query(r, &sc, q ? q : &all, http_limit(r), count);
}

/* Entity e reduced to the selected fields (spec 6.7): uuid, type, the
** fields (nested paths keep their nesting, {a:b} renames) and out_md, the
** metadata block its rendering made. */
static json_t *
project(json_t *e, json_t *out_md, const ql_query *q)
{
	json_t *out = json_object();
	json_object_set(out, "uuid", json_object_get(e, "uuid"));
	json_object_set(out, "type", json_object_get(e, "type"));
	for (size_t i = 0; i < q->nfields; i++) {
		const char *path = q->fields[i].name;
		json_t *v = e, *dst = out;
		char part[STORE_NAME_MAX + 1];
		while (v && *path) {
			const char *found = NULL, *rest;
			v = store_path_child(v, path, &found, &rest);
			if (v && strlen(found) > STORE_NAME_MAX) v = NULL;
			if (!v) break;
			int dot = path[strlen(found)] == '.';
			if (q->select == QL_SELECT_RENAME) {
				path = rest;
				continue;
			}
			snprintf(part, sizeof part, "%s", found);
			if (dot && !json_is_object(v)) {
				v = NULL;                  /* a path through a scalar selects nothing */
				break;
			}
			if (dot) {
				json_t *sub = json_object_get(dst, part);
				if (!json_is_object(sub)) {
					sub = json_object();
					json_object_set_new(dst, part, sub);
				}
				dst = sub;
			} else {
				json_object_set(dst, part, v);
			}
			path = rest;
		}
		if (v && q->select == QL_SELECT_RENAME)
			json_object_set(out, q->fields[i].target, v);
	}
	json_object_set(out, "metadata", out_md);
	return out;
}

static void
reply_query(http_req *r, const query_scope *sc, const ql_query *q, size_t limit,
                 int count)
{
	query_result res;
	const char *explain = http_param_get(r, "explain");
	query_rc rc = http_query(r, sc, q, limit, http_param_get(r, "cursor"), &res);
	size_t i;
	json_t *e;

	if (rc) {
		http_query_error(r, rc, &res);
		return;
	}
	json_t *env = http_envelope(r, r->w.path), *list = json_object_get(env, "entities");
	json_array_foreach(res.entities, i, e) {
		const char *base = http_items_path(&r->w);
		json_t *out = q->select == QL_SELECT_ALL ? http_render_entity(r, r->txn, e, base) : NULL;
		json_t *md = out ? json_incref(json_object_get(out, "metadata"))
		                 : http_entity_metadata(r, r->txn, e, base);
		if (res.distance) json_object_set_new(md, "distance", json_real(res.distance[i]));
		if (!out) out = project(e, md, q);
		json_decref(md);
		json_array_append_new(list, out);
	}
	if (count || q->select != QL_SELECT_ALL)
		json_object_set_new(env, "count", json_integer((json_int_t)json_array_size(list)));
	if (res.has_cursor) json_object_set_new(env, "cursor", json_string(res.cursor));
	if (explain && strcmp(explain, "true") == 0)
		json_object_set_new(env, "explain", json_pack("{s:s, s:I, s:I}", "plan", res.plan,
		                    "entries_read", (json_int_t)res.entries_read,
		                    "entities_read", (json_int_t)res.entities_read));
	query_result_clear(&res);
	http_reply(r, env);
}

void
h_coll_get(http_req *r)
{
	const char *ql = http_param_get(r, "ql"), *cursor = http_param_get(r, "cursor");
	if (strcmp(r->w.item_type, "event") == 0 && !(ql && *ql) && !(cursor && *cursor)) {
		h_events_queue(r);            /* Usergrid's /events is a queue */
		return;
	}
	http_list_edges(r, &r->app.uuid, STORE_EDGE_COLLECTION, r->w.name, r->w.item_type, 1);
}

/* Creates one entity from an object body; empty objects create nothing. */
static store_rc
create_one(http_req *r, json_t *body, json_t *env, store_err *err)
{
	json_t *e = NULL;
	store_rc rc;
	if (json_object_size(body) == 0) return STORE_OK;
	rc = store_entity_create(r->txn, &r->app, r->w.item_type, body, NULL, &e, err);
	if (rc == STORE_OK) http_add_entity(r, env, e, http_items_path(&r->w));
	json_decref(e);
	return rc;
}

/* An array body: each item in its own nested transaction, so a failed
** item leaves no trace and the others still commit with the request. */
static void
create_batch(http_req *r, json_t *body, json_t *env)
{
	json_t *errors = json_array(), *item;
	size_t i;

	json_array_foreach(body, i, item) {
		store_err err = { 0 };
		store_txn *parent = r->txn, *child = NULL;
		store_rc rc;
		if (!json_is_object(item)) {
			rc = STORE_INVALID;
			snprintf(err.msg, sizeof err.msg, "item %zu is not a JSON object", i);
		} else if ((rc = store_txn_begin_child(parent, &child)) == STORE_OK) {
			r->txn = child;
			rc = create_one(r, item, env, &err);
			r->txn = parent;
			if (rc == STORE_OK) rc = store_txn_commit(child);
			else store_txn_abort(child);
		}
		if (rc == STORE_OK) continue;
		if (rc != STORE_EXISTS && rc != STORE_INVALID && rc != STORE_REQUIRED &&
		    rc != STORE_TOOBIG) {
			json_decref(errors);
			json_decref(env);
			http_store_error(r, rc, &err, NULL);
			return;
		}
		json_array_append_new(errors, json_pack("{s:I, s:s, s:s}",
		                      "index", (json_int_t)i, "error", http_store_code(rc, &err),
		                      "error_description", err.msg[0] ? err.msg : store_strerror(rc)));
	}
	if (json_array_size(errors)) json_object_set_new(env, "errors", errors);
	else json_decref(errors);
	http_reply(r, env);
}

static void
create_from_body(http_req *r)
{
	int present;
	json_t *body, *env;
	store_err err = { 0 };
	store_rc rc;

	body = http_body_json(r, &present);
	if (present && !body) return;
	env = http_envelope(r, r->w.path);
	if (!body) {
		http_reply(r, env);
	} else if (json_is_array(body)) {
		if (json_array_size(body) > HTTP_MAX_BATCH) {
			json_decref(env);
			http_error(r, 400, "illegal_argument",
			           "a batch holds at most %d entities", HTTP_MAX_BATCH);
		} else {
			create_batch(r, body, env);
		}
	} else if (!json_is_object(body)) {
		json_decref(env);
		http_error(r, 400, "illegal_argument",
		           "the body must be a JSON object or an array of objects");
	} else if ((rc = create_one(r, body, env, &err))) {
		json_decref(env);
		http_store_error(r, rc, &err, NULL);
	} else {
		http_reply(r, env);
	}
	json_decref(body);
}

void
h_coll_post(http_req *r)
{
	create_from_body(r);
}

/* Adds the index entries of e, just removed, to *spent; 1 once a delete
** has removed HTTP_MAX_WRITE_ENTRIES of them: it stops there (the reply
** lists what was deleted, and the client asks again for the rest). */
static int
delete_budget_spent(json_t *e, size_t *spent)
{
	size_t n = 0;
	store_entity_check(e, 0, &n, NULL);
	*spent += n;
	return *spent >= HTTP_MAX_WRITE_ENTRIES;
}

/* PUT or DELETE /C?ql=...: applies to every match of one page.  An update
** may not make more than HTTP_MAX_WRITE_ENTRIES index entries in all. */
static void
apply_to_matches(http_req *r, const ql_query *q, size_t limit, json_t *body)
{
	query_scope sc = { r->app.uuid, STORE_EDGE_COLLECTION, r->w.name, r->w.item_type, 1,
	                   http_progress(r) };
	query_result res;
	query_rc qrc = http_query(r, &sc, q, limit, NULL, &res);
	store_rc rc;
	size_t i;
	json_t *e;

	if (qrc) {
		http_query_error(r, qrc, &res);
		return;
	}
	if (body && json_array_size(res.entities) == 0) {
		query_result_clear(&res);
		http_error(r, 404, "service_resource_not_found", "no entity matches the query");
		return;
	}
	if (body && json_array_size(res.entities) * r->write_entries > HTTP_MAX_WRITE_ENTRIES) {
		http_error(r, 400, "illegal_argument",
		           "one write may make at most %d index entries (HTTP_MAX_WRITE_ENTRIES); "
		           "this body makes %zu for each of %zu matches: narrow the query or set a limit",
		           HTTP_MAX_WRITE_ENTRIES, r->write_entries, json_array_size(res.entities));
		query_result_clear(&res);
		return;
	}
	size_t spent = 0;
	json_t *env = http_envelope(r, r->w.path);
	json_array_foreach(res.entities, i, e) {
		store_err err = { 0 };
		json_t *out = NULL;
		store_id id;
		if (!(rc = store_entity_id(e, &id)))
			rc = body ? store_entity_update(r->txn, &r->app, &id, body, &out, &err)
			          : store_entity_delete(r->txn, &r->app, &id, &out, &err);
		if (rc) {
			query_result_clear(&res);
			json_decref(env);
			http_store_error(r, rc, &err, NULL);
			return;
		}
		http_add_entity(r, env, out, http_items_path(&r->w));
		int spent_all = !body && delete_budget_spent(out, &spent);
		json_decref(out);
		if (spent_all) break;
	}
	query_result_clear(&res);
	http_reply(r, env);
}

void
h_coll_put(http_req *r)
{
	ql_query *q;
	json_t *body;
	if (!ql_or_reply(r, &q)) return;
	if (!q) {
		create_from_body(r);
		return;
	}
	if (!(body = http_body_object_or_reply(r, 0))) return;
	apply_to_matches(r, q, HTTP_MAX_LIMIT, body);
	json_decref(body);
}

void
h_coll_delete(http_req *r)
{
	store_pos last;
	size_t n, limit;
	store_rc rc = STORE_OK;

	ql_query *q;
	if (!ql_or_reply(r, &q)) return;
	if (q) {
		apply_to_matches(r, q, http_limit(r), NULL);
		return;
	}
	if (!r->limit) {         /* none, or an empty one */
		http_not_allowed(r, "GET, POST, PUT",
		                 "deleting a whole collection needs a ql query or a limit");
		return;
	}
	limit = http_limit(r);
	store_id *ids = arena_alloc(r->a, limit * sizeof *ids);
	json_t *env = http_envelope(r, r->w.path);
	rc = store_edge_list(r->txn, &r->app, &r->app.uuid, STORE_EDGE_COLLECTION,
	                     r->w.name, NULL, limit, ids, &n, &last);
	size_t spent = 0;
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		json_t *e = NULL;
		store_err err = { 0 };
		rc = store_entity_delete(r->txn, &r->app, &ids[i], &e, &err);
		if (rc == STORE_OK) http_add_entity(r, env, e, http_items_path(&r->w));
		int spent_all = rc == STORE_OK && delete_budget_spent(e, &spent);
		json_decref(e);
		if (spent_all) break;
	}
	http_reply_rc(r, env, rc);
}

void
h_item_get(http_req *r)
{
	json_t *e = NULL;
	if (!r->w.found) {
		http_not_found(r, "entity_not_found");
		return;
	}
	if (r->w.entity) {
		http_reply_entity(r, STORE_OK, r->w.entity, NULL);
		return;
	}
	store_rc rc = store_entity_get(r->txn, &r->app, &r->w.item, &e);
	http_reply_entity(r, rc, e, NULL);
	json_decref(e);
}

void
h_item_put(http_req *r)
{
	json_t *body, *e = NULL;
	store_err err = { 0 };
	store_rc rc;

	if (r->w.me && !r->w.found) {
		http_not_found(r, "service_resource_not_found");
		return;
	}
	if (!(body = http_body_object_or_reply(r, 1))) return;
	if (r->w.found)
		rc = store_entity_update(r->txn, &r->app, &r->w.item, body, &e, &err);
	else
		rc = store_entity_put(r->txn, &r->app, r->w.item_type, r->w.ident, body, &e, &err);
	json_decref(body);
	if (http_found_or_reply(r, rc, &err, "entity_not_found")) http_reply_entity(r, rc, e, &err);
	json_decref(e);
}

void
h_item_post(http_req *r)
{
	json_t *e = NULL;
	store_rc rc;

	if (!r->w.found) {
		http_not_found(r, "service_resource_not_found");
		return;
	}
	rc = store_entity_touch(r->txn, &r->app, &r->w.item);
	if (rc == STORE_OK) rc = store_entity_get(r->txn, &r->app, &r->w.item, &e);
	http_reply_entity(r, rc, e, NULL);
	json_decref(e);
}

void
h_item_delete(http_req *r)
{
	json_t *e = NULL;
	store_err err = { 0 };

	if (!r->w.found) {
		http_not_found(r, "entity_not_found");
		return;
	}
	store_rc rc = store_entity_delete(r->txn, &r->app, &r->w.item, &e, &err);
	http_reply_entity(r, rc, e, &err);
	json_decref(e);
}

/* The application entity rec of app with metadata.collections (spec 1.6,
** 3.3): the data endpoint and the management API show it alike. */
json_t *
http_app_entity(http_req *r, const store_app *app, json_t *rec)
{
	json_t *names = NULL, *colls = json_object(), *md = json_object(), *v;
	const char *name;
	json_t *out = json_copy(rec);

	if (store_edge_names(r->txn, app, &app->uuid, STORE_EDGE_COLLECTION,
	                     &names) == STORE_OK) {
		const store_type_info *ti;
		for (size_t i = 0; (ti = store_type_at(i)); i++)   /* listed from the start */
			if (ti->app_default && !json_object_get(names, ti->collection))
				json_object_set_new(names, ti->collection, json_integer(0));
		json_object_foreach(names, name, v) {
			char type[STORE_NAME_MAX + 1], *title;
			if (store_type_from_collection((store_slice){ name, strlen(name) }, type))
				snprintf(type, sizeof type, "%s", name);
			title = arena_strndup(r->a, name, strlen(name));
			title[0] = (char)toupper((unsigned char)title[0]);
			json_object_set_new(colls, name, json_pack("{s:O, s:s, s:s, s:s}",
			                    "count", v, "type", type, "name", name, "title", title));
		}
		json_decref(names);
	}
	json_object_set_new(md, "collections", colls);
	json_object_set_new(out, "metadata", md);
	return out;
}

static void
reply_app(http_req *r, json_t *rec)
{
	json_t *env = http_envelope(r, "");
	json_array_append_new(json_object_get(env, "entities"), http_app_entity(r, &r->app, rec));
	http_reply(r, env);
}

void
h_app_get(http_req *r)
{
	json_t *rec = NULL;
	store_rc rc = store_app_json(r->txn, &r->app, &rec);
	if (rc) http_store_error(r, rc, NULL, NULL);
	else reply_app(r, rec);
	json_decref(rec);
}

void
h_app_put(http_req *r)
{
	json_t *body = http_body_object_or_reply(r, 1), *rec = NULL;
	store_err err = { 0 };
	if (!body) return;
	store_rc rc = store_app_update(r->txn, &r->app, body, &rec, &err);
	json_decref(body);
	if (rc) http_store_error(r, rc, &err, NULL);
	else reply_app(r, rec);
	json_decref(rec);
}

void
h_app_unsupported(http_req *r)
{
	http_not_allowed(r, "GET, PUT", "%s is not supported on an application", r->action);
}

/* Who changed a collection's settings, as `lastUpdateBy` shows it. */
static const char *
settings_by(http_req *r)
{
	static const char *const kinds[] = {
		[AUTH_ANON] = "anonymous", [AUTH_SUPERUSER] = "superuser", [AUTH_ADMIN] = "admin",
		[AUTH_APPUSER] = "user", [AUTH_ORG] = "organization", [AUTH_APP] = "application",
	};
	if (r->who.kind != AUTH_ADMIN && r->who.kind != AUTH_APPUSER) return kinds[r->who.kind];
	char id[37];
	store_id_format(&r->who.id, id);
	return http_sprintf(r, "%s %s", kinds[r->who.kind], id);
}

/* GET, POST, PUT, DELETE /{collection}/_settings (docs/api.md). */
void
h_settings(http_req *r)
{
	char type[STORE_NAME_MAX + 1];
	json_t *body = NULL, *rec = NULL;
	store_err err = { 0 };
	store_rc rc = store_type_from_collection(r->cap[0], type);
	if (rc) {
		http_error(r, 404, "service_resource_not_found", "no collection named so");
		return;
	}
	if (r->method == M_POST || r->method == M_PUT) {
		if (!(body = http_body_object_or_reply(r, 0))) return;
		const char *all = http_param_get(r, "replace_all");
		rc = store_settings_set(r->txn, &r->app, type, body, all && strcmp(all, "false") == 0,
		                        settings_by(r), &rec, &err);
	} else if (r->method == M_DELETE) {
		rc = store_settings_set(r->txn, &r->app, type, NULL, 0, settings_by(r), &rec, &err);
	} else {
		rc = store_settings_get(r->txn, &r->app, type, &rec);
	}
	json_decref(body);
	if (rc) {
		http_store_error(r, rc, &err, NULL);
		return;
	}
	/* a change of `fields` records a reindex: its step waits for this
	** write's commit (the write lock) */
	if (r->method != M_GET) http_reindex_wake(r->srv->reindexer);
	json_t *env = http_envelope(r, "");
	json_object_update(env, rec);
	json_decref(rec);
	http_reply(r, env);
}
