/*
** h_rel.c: handlers for relationships: sub-collections (group members, a
** user's groups, roles, devices, activities and feed), connections (any
** verb, following/followers) and entity dictionaries (permissions,
** rolenames).  The domain rules (linked collections, fan-out, following's
** feed copy) are core/'s; these handlers map a walked path onto them.
*/
#include "http/http_int.h"

#include <stdio.h>
#include <string.h>

static int
found_or_reply(http_req *r)
{
	if (r->w.found) return 1;
	http_not_found(r, "service_resource_not_found");
	return 0;
}

/* Replies with the walk's item, read fresh. */
static void
reply_item(http_req *r)
{
	if (r->w.entity) {               /* read by the walk; edges don't change it */
		http_reply_entity(r, STORE_OK, r->w.entity, NULL);
		return;
	}
	json_t *e = NULL;
	store_rc rc = store_entity_get(r->txn, &r->app, &r->w.item, &e);
	http_reply_entity(r, rc, e, NULL);
	json_decref(e);
}

/* 404 unless the item is in the walk's context (member or connected). */
static int
related_or_reply(http_req *r)
{
	store_rc rc;
	if (!found_or_reply(r)) return 0;
	rc = http_in_context(r, &r->w);
	return http_found_or_reply(r, rc, NULL, "service_resource_not_found");
}

/* Connecting and disconnecting name one verb: /C/s/connections/{t} (an
** entity listed without a verb) is only read. */
static int
verb_or_reply(http_req *r)
{
	if (r->w.name[0]) return 1;
	http_error(r, 400, "illegal_argument", "a connection needs its verb: %s/{verb}/%.*s",
	           r->w.path, (int)(r->w.ident.n > HTTP_MAX_ECHO ? HTTP_MAX_ECHO : r->w.ident.n),
	           r->w.ident.p);
	return 0;
}

static store_edge_kind
conn_kind(const walk *w)
{
	return w->kind == CTX_IN ? STORE_EDGE_IN : STORE_EDGE_OUT;
}

/* ---- sub-collections --------------------------------------------------- */

void
h_sub_list(http_req *r)
{
	/* a sub-collection holds its one type (core refuses others), so the
	** type filters nothing and lets that type's index drive a query */
	http_list_edges(r, &r->w.owner, STORE_EDGE_COLLECTION, r->w.name, r->w.item_type, 0);
}

void
h_sub_create(http_req *r)
{
	json_t *body = http_body_object_or_reply(r, 0), *e = NULL;
	store_err err = { 0 };
	store_rc rc;

	if (!body) return;
	if (strcmp(r->w.name, "activities") == 0) {
		rc = store_activity_post(r->txn, &r->app, &r->w.owner,
		                         r->w.has_via ? &r->w.via : NULL, body, &e, &err);
	} else {
		rc = store_entity_create(r->txn, &r->app, r->w.item_type, body, NULL, &e, &err);
		store_id id;
		if (rc == STORE_OK && (rc = store_entity_id(e, &id)) == STORE_OK)
			rc = store_coll_add(r->txn, &r->app, &r->w.owner, r->w.owner_type, r->w.name, &id);
	}
	json_decref(body);
	http_reply_entity(r, rc, e, &err);
	json_decref(e);
}

void
h_sub_get(http_req *r)
{
	if (related_or_reply(r)) reply_item(r);
}

void
h_sub_add(http_req *r)
{
	store_rc rc;
	if (!found_or_reply(r)) return;
	rc = store_coll_add(r->txn, &r->app, &r->w.owner, r->w.owner_type, r->w.name,
	                    &r->w.item);
	if (http_found_or_reply(r, rc, NULL, "service_resource_not_found")) reply_item(r);
}

void
h_sub_put(http_req *r)
{
	json_t *body, *e = NULL;
	store_err err = { 0 };
	if (!related_or_reply(r) ||
	    !(body = http_body_object_or_reply(r, 1)))
		return;
	store_rc rc = store_entity_update(r->txn, &r->app, &r->w.item, body, &e, &err);
	json_decref(body);
	http_reply_entity(r, rc, e, &err);
	json_decref(e);
}

/* The removed member is shown as it was under its owner (seed 002). */
void
h_sub_remove(http_req *r)
{
	json_t *e = NULL, *env = NULL;
	store_rc rc;
	if (!found_or_reply(r)) return;
	rc = store_entity_get(r->txn, &r->app, &r->w.item, &e);
	if (rc == STORE_OK) {
		env = http_envelope(r, r->w.path);
		http_add_entity(r, env, e, r->w.path);
		rc = store_coll_remove(r->txn, &r->app, &r->w.owner, r->w.owner_type,
		                       r->w.name, &r->w.item);
	}
	json_decref(e);
	if (http_found_or_reply(r, rc, NULL, "service_resource_not_found")) http_reply(r, env);
	else json_decref(env);
}

/* ---- connections --------------------------------------------------------- */

/* Lists several of the owner's edge sets one after the other (query/'s
** streams); a query needs one verb. */
static void
list_streams(http_req *r, const query_stream *st, size_t ns, int dedupe)
{
	query_result res;
	query_rc rc;
	size_t i;
	json_t *e;

	if (http_param_get(r, "ql") && *http_param_get(r, "ql")) {
		http_error(r, 400, "illegal_argument", "a query needs a connection verb: %s/{verb}",
		           r->w.path);
		return;
	}
	rc = query_list_streams(r->txn, &r->app, &r->w.owner, st, ns, dedupe, http_limit(r),
	                        http_param_get(r, "cursor"), &res);
	if (rc) {
		http_query_error(r, rc, &res);
		return;
	}
	json_t *env = http_envelope(r, r->w.path);
	json_array_foreach(res.entities, i, e) http_add_entity(r, env, e, http_items_path(&r->w));
	if (res.has_cursor) json_object_set_new(env, "cursor", json_string(res.cursor));
	query_result_clear(&res);
	http_reply(r, env);
}

/* GET .../connections or .../connecting without a verb: the entities of
** every verb but the private `following`, verb by verb (alphabetical),
** newest first within each.  GET .../connecting/owners: the entities that
** hold this one in a collection (Usergrid's owners), collection by
** collection, each once, after any incoming connections named `owners`. */
static void
list_any_verb(http_req *r)
{
	int owners = r->w.name[0] != '\0';
	store_edge_kind kind = owners ? STORE_EDGE_MEMBER_OF : conn_kind(&r->w);
	json_t *names = NULL, *v;
	const char *name;
	size_t ns = 0;
	uint64_t n = 0;
	store_rc rc;

	if ((rc = store_edge_names(r->txn, &r->app, &r->w.owner, kind, &names)) ||
	    (owners && (rc = store_edge_count(r->txn, &r->app, &r->w.owner, STORE_EDGE_IN,
	                                      "owners", &n)))) {
		json_decref(names);
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	query_stream *st = arena_alloc(r->a, (json_object_size(names) + 1) * sizeof *st);
	if (n) st[ns++] = (query_stream){ STORE_EDGE_IN, "owners" };
	json_object_foreach(names, name, v)
		if (strcmp(name, "following") != 0) st[ns++] = (query_stream){ kind, name };
	list_streams(r, st, ns, owners);
	json_decref(names);
}

void
h_conn_list(http_req *r)
{
	if (!r->w.name[0] || (r->w.kind == CTX_IN && strcmp(r->w.name, "owners") == 0))
		list_any_verb(r);
	else
		http_list_edges(r, &r->w.owner, conn_kind(&r->w), r->w.name, r->w.item_type, 0);
}

/* owner -verb-> item; following also copies the leader's activities. */
static store_rc
conn_connect(http_req *r, const store_id *target)
{
	const char *follow = store_type_info_of(r->w.owner_type)->follow;
	if (follow && strcmp(r->w.name, follow) == 0)
		return store_follow(r->txn, &r->app, &r->w.owner, target);   /* users only */
	return store_connect(r->txn, &r->app, &r->w.owner, r->w.name, target, NULL);
}

void
h_conn_create(http_req *r)
{
	json_t *body, *e = NULL;
	store_err err = { 0 };
	store_rc rc;

	if (!r->w.item_type[0]) {
		http_error(r, 400, "illegal_argument",
		           "creating a connected entity needs its collection: POST %s/{collection}",
		           r->w.path);
		return;
	}
	if (!(body = http_body_object_or_reply(r, 0))) return;
	rc = store_entity_create(r->txn, &r->app, r->w.item_type, body, NULL, &e, &err);
	json_decref(body);
	store_id id;
	if (rc == STORE_OK && (rc = store_entity_id(e, &id)) == STORE_OK) rc = conn_connect(r, &id);
	http_reply_entity(r, rc, e, &err);
	json_decref(e);
}

void
h_conn_get(http_req *r)
{
	if (related_or_reply(r)) reply_item(r);
}

void
h_conn_add(http_req *r)
{
	store_rc rc;
	if (!verb_or_reply(r) || !found_or_reply(r)) return;
	rc = conn_connect(r, &r->w.item);
	if (http_found_or_reply(r, rc, NULL, "service_resource_not_found")) reply_item(r);
}

void
h_conn_put(http_req *r)
{
	json_t *body, *e = NULL;
	store_err err = { 0 };
	store_rc rc;

	if (!verb_or_reply(r)) return;
	if (!(body = http_body_object_or_reply(r, 1))) return;
	if (r->w.found)
		rc = store_entity_update(r->txn, &r->app, &r->w.item, body, &e, &err);
	else if (r->w.item_type[0])
		rc = store_entity_put(r->txn, &r->app, r->w.item_type, r->w.ident, body, &e, &err);
	else
		rc = STORE_NOTFOUND;
	json_decref(body);
	if (rc == STORE_OK && (rc = store_entity_id(e, &r->w.item)) == STORE_OK)
		rc = conn_connect(r, &r->w.item);
	if (http_found_or_reply(r, rc, &err, "service_resource_not_found"))
		http_reply_entity(r, rc, e, &err);
	json_decref(e);
}

void
h_conn_remove(http_req *r)
{
	json_t *e = NULL;
	store_rc rc;
	if (!verb_or_reply(r) || !found_or_reply(r)) return;
	rc = store_entity_get(r->txn, &r->app, &r->w.item, &e);
	if (rc == STORE_OK)
		rc = store_disconnect(r->txn, &r->app, &r->w.owner, r->w.name, &r->w.item);
	if (http_found_or_reply(r, rc, NULL, "service_resource_not_found"))
		http_reply_entity(r, rc, e, NULL);
	json_decref(e);
}

/* ---- dictionaries ---------------------------------------------------------- */

/* Replies with `data`: the dictionary's current content. */
static void
reply_data(http_req *r, json_t *data)
{
	json_t *env = http_envelope(r, r->w.path);
	json_object_set_new(env, "data", data);
	http_reply(r, env);
}

/* The role the /rolenames/{key} segment names. */
static int
role_or_reply(http_req *r, const char *name, size_t n, store_id *role)
{
	store_rc rc = store_entity_find(r->txn, &r->app, "role", (store_slice){ name, n }, role);
	if (rc == STORE_OK) return 1;
	if (rc == STORE_NOTFOUND)
		http_error(r, 404, "service_resource_not_found", "role \"%.*s\" not found",
		           (int)(n > HTTP_MAX_ECHO ? HTTP_MAX_ECHO : n), name);
	else
		http_store_error(r, rc, NULL, NULL);
	return 0;
}

static void
reply_dict(http_req *r)
{
	json_t *data = NULL;
	store_rc rc = strcmp(r->w.dict, "rolenames") == 0
	              ? store_rolenames(r->txn, &r->app, &r->w.owner, &data)
	              : store_dict_list(r->txn, &r->app, &r->w.owner, r->w.dict, &data);
	if (rc) http_store_error(r, rc, NULL, NULL);
	else reply_data(r, data);
}

void
h_dict_get(http_req *r)
{
	store_id role;
	json_t *data = NULL;
	if (strcmp(r->w.dict, "rolenames") == 0 && r->w.has_key) {
		/* GET .../rolenames/{role}: that role's permissions */
		if (!role_or_reply(r, r->w.key.p, r->w.key.n, &role)) return;
		store_rc rc = store_dict_list(r->txn, &r->app, &role, "permissions", &data);
		if (rc) http_store_error(r, rc, NULL, NULL);
		else reply_data(r, data);
		return;
	}
	reply_dict(r);
}

void
h_dict_post(http_req *r)
{
	json_t *body = http_body_object_or_reply(r, 1);
	store_rc rc;
	store_id role;

	if (!body) return;
	if (strcmp(r->w.dict, "rolenames") == 0) {
		const char *name = json_string_value(json_object_get(body, "name"));
		if (r->w.has_key) name = arena_strndup(r->a, r->w.key.p, r->w.key.n);
		if (!name || !*name) {
			json_decref(body);
			http_error(r, 400, "illegal_argument", "You must supply a role 'name'");
			return;
		}
		if (!role_or_reply(r, name, strlen(name), &role)) {
			json_decref(body);
			return;
		}
		rc = store_coll_add(r->txn, &r->app, &r->w.owner, r->w.owner_type, "roles", &role);
	} else {
		const char *perm = json_string_value(json_object_get(body, "permission"));
		if (!perm || !*perm || strlen(perm) > 400 || !auth_perm_valid(perm)) {
			json_decref(body);
			http_error(r, 400, "illegal_argument",
			           "You must supply a 'permission' property, verbs:path (at most 400 bytes)");
			return;
		}
		rc = store_dict_add(r->txn, &r->app, &r->w.owner, r->w.dict, perm);
	}
	json_decref(body);
	if (rc) http_store_error(r, rc, NULL, NULL);
	else reply_dict(r);
}

void
h_dict_delete(http_req *r)
{
	store_rc rc = STORE_OK;
	store_id role;

	if (strcmp(r->w.dict, "rolenames") == 0) {
		if (!r->w.has_key) {
			http_error(r, 400, "illegal_argument", "name the role: DELETE %s/{role}",
			           r->w.path);
			return;
		}
		if (!role_or_reply(r, r->w.key.p, r->w.key.n, &role)) return;
		rc = store_coll_remove(r->txn, &r->app, &r->w.owner, r->w.owner_type, "roles",
		                       &role);
		if (rc == STORE_NOTFOUND) rc = STORE_OK;
	} else {
		int any = 0;
		for (size_t i = 0; rc == STORE_OK && i < r->nparams; i++) {
			if (strcmp(r->params[i].name, "permission") != 0) continue;
			any = 1;
			rc = store_dict_remove(r->txn, &r->app, &r->w.owner, r->w.dict,
			                       r->params[i].value);
			if (rc == STORE_NOTFOUND) rc = STORE_OK;
		}
		if (!any) {
			http_error(r, 400, "illegal_argument",
			           "You must supply a 'permission' query parameter");
			return;
		}
	}
	if (rc) http_store_error(r, rc, NULL, NULL);
	else reply_dict(r);
}
