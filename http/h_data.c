/*
** h_data.c: handlers for application data: the application entity, root
** collections and their items (spec 1.4).  Each handler works in r->txn
** and renders the result; domain rules live in core/.
*/
#include "http/http_int.h"
#include "query/query.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The collection of route capture 0: its type and its canonical path. */
typedef struct {
	char type[STORE_NAME_MAX + 1];
	char coll[STORE_NAME_MAX + 1];
	char path[STORE_NAME_MAX + 2];
} coll_ref;

static int
coll_or_reply(http_req *r, coll_ref *c)
{
	if (store_type_from_collection(r->cap[0], c->type) != STORE_OK ||
	    r->cap[0].p[0] == '_') {
		http_error(r, 400, "illegal_argument", "'%.*s' is not a valid collection name",
		           (int)(r->cap[0].n > HTTP_MAX_ECHO ? HTTP_MAX_ECHO : r->cap[0].n),
		           r->cap[0].p);
		return 0;
	}
	store_collection_of(c->type, c->coll);
	c->path[0] = '/';
	memcpy(c->path + 1, c->coll, strlen(c->coll) + 1);
	return 1;
}

/* ql (aliases q, query), ignoring an empty value and a bare `select *`. */
static const char *
ql_param(http_req *r)
{
	static const char *const names[] = { "ql", "q", "query" };
	for (size_t i = 0; i < 3; i++) {
		const char *v = http_param_get(r, names[i]);
		if (!v || !*v) continue;
		const char *p = v;
		while (isspace((unsigned char)*p)) p++;
		if (strncasecmp(p, "select", 6) == 0) {
			const char *q = p + 6;
			while (isspace((unsigned char)*q)) q++;
			if (*q == '*') {
				q++;
				while (isspace((unsigned char)*q)) q++;
				if (!*q) continue;
			}
		}
		return v;
	}
	return NULL;
}

static int
no_ql_or_reply(http_req *r)
{
	if (!ql_param(r)) return 1;
	http_error(r, 501, "not_implemented", "ql queries are not supported by this server yet");
	return 0;
}

/* Appends e rendered under base to the envelope's entities. */
static void
add_entity(http_req *r, json_t *env, json_t *e, const char *base)
{
	json_array_append_new(json_object_get(env, "entities"),
	                      http_render_entity(r, r->txn, e, base));
}

static int
cursor_or_reply(http_req *r, store_pos *pos)
{
	const char *c = http_param_get(r, "cursor");
	pos->set = 0;
	if (!c || !*c) return 1;
	if (query_cursor_decode(c, strlen(c), pos)) return 1;
	http_error(r, 400, "illegal_argument", "the cursor is not valid");
	return 0;
}

/* Lists one page of a root collection into env; returns the count. */
static store_rc
list_page(http_req *r, const coll_ref *c, json_t *env, size_t limit,
          const store_pos *after, store_pos *last, size_t *n)
{
	store_id *ids = arena_alloc(r->a, limit * sizeof *ids);
	store_rc rc = store_edge_list(r->txn, &r->app, &r->app.uuid,
	                              STORE_EDGE_COLLECTION, c->coll, after, limit,
	                              ids, n, last);
	for (size_t i = 0; rc == STORE_OK && i < *n; i++) {
		json_t *e = NULL;
		rc = store_entity_get(r->txn, &r->app, &ids[i], &e);
		if (rc == STORE_OK) add_entity(r, env, e, c->path);
		json_decref(e);
	}
	return rc;
}

void
h_coll_get(http_req *r)
{
	coll_ref c;
	store_pos after, last;
	size_t n, limit = http_limit(r, NULL);
	store_rc rc;

	if (!coll_or_reply(r, &c) || !no_ql_or_reply(r) || !cursor_or_reply(r, &after))
		return;
	json_t *env = http_envelope(r, c.path);
	if ((rc = list_page(r, &c, env, limit, &after, &last, &n))) {
		json_decref(env);
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	json_object_set_new(env, "count", json_integer((json_int_t)n));
	if (n == limit && last.set) {
		char tok[QUERY_CURSOR_MAX];
		query_cursor_encode(&last, tok);
		json_object_set_new(env, "cursor", json_string(tok));
	}
	http_reply(r, env);
}

/* Creates one entity from an object body; empty objects create nothing. */
static store_rc
create_one(http_req *r, const coll_ref *c, json_t *body, json_t *env,
           store_err *err)
{
	json_t *e = NULL;
	store_rc rc;
	if (json_object_size(body) == 0) return STORE_OK;
	rc = store_entity_create(r->txn, &r->app, c->type, body, NULL, &e, err);
	if (rc == STORE_OK) add_entity(r, env, e, c->path);
	json_decref(e);
	return rc;
}

/* Usergrid's error code for a failed store call (batch items). */
static const char *
error_code(store_rc rc)
{
	switch (rc) {
	case STORE_EXISTS:   return "duplicate_unique_property_exists";
	case STORE_INVALID:  return "illegal_argument";
	case STORE_REQUIRED: return "required_property_not_found";
	case STORE_TOOBIG:   return "request_entity_too_large";
	default:             return "internal_error";
	}
}

/* An array body: each item in its own nested transaction, so a failed
** item leaves no trace and the others still commit with the request. */
static void
create_batch(http_req *r, const coll_ref *c, json_t *body, json_t *env)
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
			rc = create_one(r, c, item, env, &err);
			r->txn = parent;
			if (rc == STORE_OK) rc = store_txn_commit(child);
			else store_txn_abort(child);
		}
		if (rc == STORE_OK) continue;
		if (rc != STORE_EXISTS && rc != STORE_INVALID && rc != STORE_REQUIRED &&
		    rc != STORE_TOOBIG) {
			json_decref(errors);
			http_store_error(r, rc, &err, NULL);
			return;
		}
		json_array_append_new(errors, json_pack("{s:I, s:s, s:s}",
		                      "index", (json_int_t)i, "error", error_code(rc),
		                      "error_description", err.msg[0] ? err.msg : store_strerror(rc)));
	}
	if (json_array_size(errors)) json_object_set_new(env, "errors", errors);
	else json_decref(errors);
	http_reply(r, env);
}

static void
create_from_body(http_req *r)
{
	coll_ref c;
	int present;
	json_t *body, *env;
	store_err err = { 0 };
	store_rc rc;

	if (!coll_or_reply(r, &c)) return;
	body = http_body_json(r, &present);
	if (present && !body) return;
	env = http_envelope(r, c.path);
	if (!body) {
		http_reply(r, env);
	} else if (json_is_array(body)) {
		if (json_array_size(body) > HTTP_MAX_BATCH) {
			json_decref(env);
			http_error(r, 400, "illegal_argument",
			           "a batch holds at most %d entities", HTTP_MAX_BATCH);
		} else {
			create_batch(r, &c, body, env);
		}
	} else if (!json_is_object(body)) {
		json_decref(env);
		http_error(r, 400, "illegal_argument",
		           "the body must be a JSON object or an array of objects");
	} else if ((rc = create_one(r, &c, body, env, &err))) {
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

void
h_coll_put(http_req *r)
{
	if (no_ql_or_reply(r)) create_from_body(r);
}

void
h_coll_delete(http_req *r)
{
	coll_ref c;
	store_pos last;
	size_t n, limit;
	store_rc rc = STORE_OK;

	if (!coll_or_reply(r, &c) || !no_ql_or_reply(r)) return;
	if (!http_param_get(r, "limit")) {
		r->allow = "GET, POST, PUT";
		http_error(r, 405, "unsupported_service_operation",
		           "deleting a whole collection needs a ql query or a limit");
		return;
	}
	limit = http_limit(r, NULL);
	store_id *ids = arena_alloc(r->a, limit * sizeof *ids);
	json_t *env = http_envelope(r, c.path);
	rc = store_edge_list(r->txn, &r->app, &r->app.uuid, STORE_EDGE_COLLECTION,
	                     c.coll, NULL, limit, ids, &n, &last);
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		json_t *e = NULL;
		store_err err = { 0 };
		rc = store_entity_delete(r->txn, &r->app, &ids[i], &e, &err);
		if (rc == STORE_OK) add_entity(r, env, e, c.path);
		json_decref(e);
	}
	if (rc) {
		json_decref(env);
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	http_reply(r, env);
}

/* Resolves route capture 1 to an entity of c's type. */
static int
item_or_reply(http_req *r, const coll_ref *c, store_id *id, const char *nf_code)
{
	store_rc rc = store_entity_find(r->txn, &r->app, c->type, r->cap[1], id);
	if (rc == STORE_OK) return 1;
	if (rc == STORE_NOTFOUND)
		http_error(r, 404, nf_code, "%s \"%.*s\" not found", c->type,
		           (int)(r->cap[1].n > HTTP_MAX_ECHO ? HTTP_MAX_ECHO : r->cap[1].n),
		           r->cap[1].p);
	else
		http_store_error(r, rc, NULL, NULL);
	return 0;
}

/* Replies with one entity, or the store error. */
static void
reply_entity(http_req *r, const coll_ref *c, store_rc rc, json_t *e,
             const store_err *err)
{
	if (rc) {
		http_store_error(r, rc, err, NULL);
		return;
	}
	json_t *env = http_envelope(r, c->path);
	add_entity(r, env, e, c->path);
	http_reply(r, env);
}

void
h_item_get(http_req *r)
{
	coll_ref c;
	store_id id;
	json_t *e = NULL;
	if (!coll_or_reply(r, &c) || !item_or_reply(r, &c, &id, "entity_not_found")) return;
	store_rc rc = store_entity_get(r->txn, &r->app, &id, &e);
	reply_entity(r, &c, rc, e, NULL);
	json_decref(e);
}

void
h_item_put(http_req *r)
{
	coll_ref c;
	int present;
	json_t *body, *e = NULL;
	store_err err = { 0 };

	if (!coll_or_reply(r, &c)) return;
	body = http_body_json(r, &present);
	if (present && !body) return;
	if (!body) body = json_object();
	if (!json_is_object(body)) {
		json_decref(body);
		http_error(r, 400, "illegal_argument", "the body must be a JSON object");
		return;
	}
	store_rc rc = store_entity_put(r->txn, &r->app, c.type, r->cap[1], body, &e, &err);
	json_decref(body);
	if (rc == STORE_NOTFOUND)
		http_error(r, 404, "entity_not_found", "%s \"%.*s\" not found", c.type,
		           (int)(r->cap[1].n > HTTP_MAX_ECHO ? HTTP_MAX_ECHO : r->cap[1].n),
		           r->cap[1].p);
	else
		reply_entity(r, &c, rc, e, &err);
	json_decref(e);
}

void
h_item_post(http_req *r)
{
	coll_ref c;
	store_id id;
	json_t *e = NULL;
	store_rc rc;

	if (!coll_or_reply(r, &c) || !item_or_reply(r, &c, &id, "service_resource_not_found"))
		return;
	rc = store_edge_put(r->txn, &r->app, &r->app.uuid, STORE_EDGE_COLLECTION, c.coll,
	                    &id, NULL);
	if (rc == STORE_OK) rc = store_entity_get(r->txn, &r->app, &id, &e);
	reply_entity(r, &c, rc, e, NULL);
	json_decref(e);
}

void
h_item_delete(http_req *r)
{
	coll_ref c;
	store_id id;
	json_t *e = NULL;
	store_err err = { 0 };

	if (!coll_or_reply(r, &c) || !item_or_reply(r, &c, &id, "entity_not_found")) return;
	store_rc rc = store_entity_delete(r->txn, &r->app, &id, &e, &err);
	reply_entity(r, &c, rc, e, &err);
	json_decref(e);
}

/* The application entity with metadata.collections (spec 3.3). */
static json_t *
app_entity(http_req *r, json_t *rec)
{
	json_t *names = NULL, *colls = json_object(), *md = json_object(), *v;
	const char *name;
	json_t *out = json_copy(rec);

	if (store_edge_names(r->txn, &r->app, &r->app.uuid, STORE_EDGE_COLLECTION,
	                     &names) == STORE_OK) {
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

void
h_app_get(http_req *r)
{
	json_t *rec = NULL;
	store_rc rc = store_app_json(r->txn, &r->app, &rec);
	if (rc) {
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	json_t *env = http_envelope(r, "");
	json_array_append_new(json_object_get(env, "entities"), app_entity(r, rec));
	json_decref(rec);
	http_reply(r, env);
}

void
h_app_put(http_req *r)
{
	int present;
	json_t *body = http_body_json(r, &present), *rec = NULL;
	store_err err = { 0 };
	if (present && !body) return;
	if (!body) body = json_object();
	store_rc rc = store_app_update(r->txn, &r->app, body, &rec, &err);
	json_decref(body);
	if (rc) {
		http_store_error(r, rc, &err, NULL);
		return;
	}
	json_t *env = http_envelope(r, "");
	json_array_append_new(json_object_get(env, "entities"), app_entity(r, rec));
	json_decref(rec);
	http_reply(r, env);
}

void
h_app_unsupported(http_req *r)
{
	r->allow = "GET, PUT";
	http_error(r, 405, "unsupported_service_operation",
	           "%s is not supported on an application", r->action);
}
