/*
** walk.c: what a path under /{org}/{app} names (spec 1.2).
**
** Usergrid paths nest: a collection, an item, a relation of that item (a
** sub-collection, a connection verb, connecting/verb, or a dictionary), an
** item in that relation, and so on:
**
**   /groups/a/b/users/john/activities          (hierarchical group path)
**   /users/fred/likes/restaurants/xyz          (typed connection target)
**   /users/fred/likes/{uuid}/connecting/likes  (who else likes it)
**
** http_walk() resolves every item except the last against the store
** (group paths by their longest existing prefix, through core), checks
** that each one is really a member of (or connected from) the context it
** was reached through, and leaves the final context, item and dictionary
** in a walk for the handlers.  It builds the response's service path with
** resolved UUIDs as it goes ("/groups/{uuid}/users").
**
** The items of a context live under its path, except for connecting/{verb}:
** as in Usergrid, a source listed there is /C/{target}/connecting/{source}
** (without the verb), and so are the paths of its own relations.  Such a
** path is followed as any incoming edge (or owner, connecting/owners) from
** that source; /C/{s}/connections/{target} likewise as any outgoing edge.
*/
#include "http/http_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int
seg_is(store_slice s, const char *word)
{
	return strlen(word) == s.n && strncasecmp(word, s.p, s.n) == 0;
}

static int
echo_len(store_slice s)
{
	return (int)(s.n > HTTP_MAX_ECHO ? HTTP_MAX_ECHO : s.n);
}

/* A verb or collection name: the rules of store_type_from_collection. */
static int
name_or_reply(http_req *r, store_slice s, char out[STORE_NAME_MAX + 1])
{
	char type[STORE_NAME_MAX + 1];
	if (s.n == 0 || s.n > STORE_NAME_MAX ||
	    store_type_from_collection(s, type) != STORE_OK) {
		http_error(r, 400, "illegal_argument", "'%.*s' is not a valid name",
		           echo_len(s), s.p);
		return 0;
	}
	memcpy(out, s.p, s.n);
	out[s.n] = '\0';
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
	return 1;
}

static int
type_or_reply(http_req *r, store_slice s, char out[STORE_NAME_MAX + 1])
{
	if (s.p[0] == '_' || store_type_from_collection(s, out) != STORE_OK) {
		http_error(r, 400, "illegal_argument", "'%.*s' is not a valid collection name",
		           echo_len(s), s.p);
		return 0;
	}
	return 1;
}

/* STORE_OK when owner has an edge kind/name to id under any name but the
** private `following`. */
static store_rc
edge_any_name(http_req *r, const store_id *owner, store_edge_kind kind, const store_id *id)
{
	json_t *names = NULL, *v;
	const char *name;
	store_rc rc = store_edge_names(r->txn, &r->app, owner, kind, &names);
	if (rc) return rc;
	rc = STORE_NOTFOUND;
	json_object_foreach(names, name, v) {
		if (strcmp(name, "following") == 0) continue;
		rc = store_edge_has(r->txn, &r->app, owner, kind, name, id);
		if (rc != STORE_NOTFOUND) break;
	}
	json_decref(names);
	return rc;
}

/* Does id hold the walk's owner in one of its collections?  (The
** application holds everything in its root collections: not an owner.) */
static store_rc
holds_owner(http_req *r, const walk *w, const store_id *id)
{
	if (memcmp(id->b, r->app.uuid.b, sizeof id->b) == 0) return STORE_NOTFOUND;
	return edge_any_name(r, &w->owner, STORE_EDGE_MEMBER_OF, id);
}

store_rc
http_in_context(http_req *r, const walk *w)
{
	store_rc rc;
	switch (w->kind) {
	case CTX_ROOT: return STORE_OK;
	case CTX_SUB:
		return store_edge_has(r->txn, &r->app, &w->owner, STORE_EDGE_COLLECTION,
		                      w->name, &w->item);
	case CTX_OUT:
		if (!w->name[0]) return edge_any_name(r, &w->owner, STORE_EDGE_OUT, &w->item);
		return store_edge_has(r->txn, &r->app, &w->owner, STORE_EDGE_OUT, w->name,
		                      &w->item);
	case CTX_IN:
		/* connecting/{source} (no verb) is any incoming edge or owner */
		if (!w->name[0] && (rc = edge_any_name(r, &w->owner, STORE_EDGE_IN, &w->item)) !=
		    STORE_NOTFOUND)
			return rc;
		if (!w->name[0] || strcmp(w->name, "owners") == 0) {
			if ((rc = holds_owner(r, w, &w->item)) != STORE_NOTFOUND || !w->name[0])
				return rc;
		}
		return store_edge_has(r->txn, &r->app, &w->owner, STORE_EDGE_IN, w->name,
		                      &w->item);
	}
	return STORE_NOTFOUND;
}

/* How many of segs[0..n) a path of a type with path_alias may take: up to
** the first word the URL gives below such an item (its sub-collections,
** dictionaries and connection words), which no path segment can be. */
static size_t
path_extent(const store_type_info *ti, const store_slice *segs, size_t n)
{
	static const char *const conn_words[] = { "connecting", "connections", "connected" };
	size_t k = 1;
	for (; k < n; k++) {
		int word = 0;
		for (int j = 0; ti->collections[j] && !word; j++) word = seg_is(segs[k], ti->collections[j]);
		for (int j = 0; ti->sets[j] && !word; j++) word = seg_is(segs[k], ti->sets[j]);
		for (size_t j = 0; j < 3 && !word; j++) word = seg_is(segs[k], conn_words[j]);
		if (word) break;
	}
	return k;
}

/* Resolves the item at segs[*i]; advances *i past it (group paths may
** take several segments).  Returns 0 with a reply set on a store error. */
static int
resolve_item(http_req *r, walk *w, const store_slice *segs, size_t n, size_t *i)
{
	store_rc rc;
	size_t used = 1;

	w->shape = SHAPE_ITEM;
	w->ident = segs[*i];
	w->found = 0;
	const store_type_info *ti = store_type_info_of(w->item_type);
	if (ti->path_alias) {
		rc = store_group_resolve(r->txn, &r->app, segs + *i, path_extent(ti, segs + *i, n - *i),
		                         &w->item, &used);
	} else if (ti->self && seg_is(segs[*i], ti->self) &&
	           memcmp(segs[*i].p, ti->self, segs[*i].n) == 0) {
		w->me = 1;                 /* the caller, when a user of this app */
		rc = STORE_NOTFOUND;
		if (r->who.kind == AUTH_APPUSER &&
		    memcmp(r->who.scope.b, r->app.uuid.b, 16) == 0) {
			w->item = r->who.id;
			rc = store_entity_read(r->txn, &r->app, &w->item, &w->entity);
		}
	} else if (w->item_type[0]) {
		rc = store_entity_load_read(r->txn, &r->app, w->item_type, segs[*i], &w->item,
		                            &w->entity);
	} else {
		rc = store_id_parse(segs[*i], &w->item)
		     ? store_entity_read(r->txn, &r->app, &w->item, &w->entity) : STORE_NOTFOUND;
	}
	if (rc == STORE_OK) {
		w->found = 1;
		if (used > 1) {            /* the whole path is the ident */
			size_t len = 0, o = 0;
			for (size_t k = 0; k < used; k++) len += segs[*i + k].n + 1;
			char *joined = arena_alloc(r->a, len);
			for (size_t k = 0; k < used; k++) {
				if (k) joined[o++] = '/';
				memcpy(joined + o, segs[*i + k].p, segs[*i + k].n);
				o += segs[*i + k].n;
			}
			joined[o] = '\0';
			w->ident = (store_slice){ joined, o };
		}
	} else if (rc != STORE_NOTFOUND) {
		http_store_error(r, rc, NULL, NULL);
		return 0;
	}
	*i += used;
	return 1;
}

/* 1 for STORE_OK; else the reply: a missing entity answered by
** http_not_found with code, any other failure by http_store_error. */
int
http_found_or_reply(http_req *r, store_rc rc, const store_err *err, const char *code)
{
	if (rc == STORE_OK) return 1;
	if (rc == STORE_NOTFOUND) http_not_found(r, code);
	else http_store_error(r, rc, err, NULL);
	return 0;
}

void
http_not_found(http_req *r, const char *code)
{
	const walk *w = &r->w;
	if (w->me)
		http_error(r, 404, "service_resource_not_found",
		           "/users/me needs the access token of a user");
	else
		http_error(r, 404, code, "%s \"%.*s\" not found in %s",
		           w->item_type[0] ? w->item_type : "entity", echo_len(w->ident),
		           w->ident.p, w->path);
}

/* The found item becomes the owner; type gets its type.  Returns 0 with
** a reply set on a store error. */
static int
item_to_owner(http_req *r, walk *w, char type[STORE_NAME_MAX + 1])
{
	json_t *e = w->entity;
	store_rc rc;
	w->entity = NULL;
	if (!e && (rc = store_entity_get(r->txn, &r->app, &w->item, &e))) {
		http_store_error(r, rc, NULL, NULL);
		return 0;
	}
	const char *etype = json_string_value(json_object_get(e, "type"));
	if (!etype) {
		json_decref(e);
		http_store_error(r, STORE_CORRUPT, NULL, NULL);
		return 0;
	}
	snprintf(type, STORE_NAME_MAX + 1, "%s", etype);
	json_decref(e);
	/* a user reached through a group's members carries the group along */
	const store_type_info *ti = store_type_info_of(w->owner_type);
	w->has_via = w->kind == CTX_SUB && ti->members && strcmp(w->name, ti->members) == 0;
	if (w->has_via) w->via = w->owner;
	w->owner = w->item;
	snprintf(w->owner_type, sizeof w->owner_type, "%s", type);
	w->shape = SHAPE_COLL;
	w->item_type[0] = '\0';
	w->found = 0;
	return 1;
}

/* The owner's set (a dictionary) `dict`, and the key below it if any;
** nothing may follow the key. */
static int
enter_set(http_req *r, walk *w, const char *here, const char *dict,
          const store_slice *segs, size_t n, size_t *i)
{
	w->kind = CTX_SUB;
	w->shape = SHAPE_DICT;
	w->dict = dict;
	w->path = http_sprintf(r, "%s/%s", here, dict);
	if (*i < n) {
		w->has_key = 1;
		w->key = segs[(*i)++];
	}
	if (*i < n) {
		http_error(r, 404, "service_resource_not_found", "nothing below %s", w->path);
		return 0;
	}
	return 1;
}

/* connecting, connections or connected, then a verb (or none: every verb,
** an extension). */
static int
enter_connections(http_req *r, walk *w, const char *here, int in,
                  const store_slice *segs, size_t n, size_t *i)
{
	w->kind = in ? CTX_IN : CTX_OUT;
	if (*i == n) {
		w->name[0] = '\0';
		w->path = http_sprintf(r, "%s/%s", here, in ? "connecting" : "connections");
		return 1;
	}
	if (store_id_parse(segs[*i], &w->item)) {
		/* an entity listed without a verb: /C/t/connecting/{source} */
		w->name[0] = '\0';
		w->path = http_sprintf(r, "%s/%s", here, in ? "connecting" : "connections");
		return 1;
	}
	if (!name_or_reply(r, segs[*i], w->name)) return 0;
	(*i)++;
	w->path = in ? http_sprintf(r, "%s/connecting/%s", here, w->name)
	             : http_sprintf(r, "%s/%s", here, w->name);
	if (in) w->items = http_sprintf(r, "%s/connecting", here);
	return 1;
}

/* Moves from the found item to its relation segs[*i]. */
static int
enter_relation(http_req *r, walk *w, const store_slice *segs, size_t n, size_t *i)
{
	char type[STORE_NAME_MAX + 1], uuid[37];
	store_slice rel = segs[*i];

	/* the item becomes the owner: its type decides what rel means */
	store_id_format(&w->item, uuid);
	const char *here = http_sprintf(r, "%s/%s", http_items_path(w), uuid);
	w->items = NULL;
	if (!item_to_owner(r, w, type)) return 0;
	const store_type_info *ti = store_type_info_of(type);
	(*i)++;

	for (int k = 0; ti->sets[k]; k++)
		if (seg_is(rel, ti->sets[k])) return enter_set(r, w, here, ti->sets[k], segs, n, i);
	if (ti->follow && (seg_is(rel, ti->follow) || seg_is(rel, ti->followers))) {
		int out = seg_is(rel, ti->follow);
		w->kind = out ? CTX_OUT : CTX_IN;
		snprintf(w->name, sizeof w->name, "%s", ti->follow);
		snprintf(w->item_type, sizeof w->item_type, "%s", type);   /* users follow users */
		w->path = http_sprintf(r, "%s/%s", here, out ? ti->follow : ti->followers);
		return 1;
	}
	if (seg_is(rel, "connecting") || seg_is(rel, "connections") || seg_is(rel, "connected"))
		return enter_connections(r, w, here, seg_is(rel, "connecting"), segs, n, i);
	if (!name_or_reply(r, rel, w->name)) return 0;
	const char *item_type = store_coll_item_type(type, w->name);
	if (item_type) {
		w->kind = CTX_SUB;
		snprintf(w->item_type, sizeof w->item_type, "%s", item_type);
	} else {
		w->kind = CTX_OUT;
	}
	w->path = http_sprintf(r, "%s/%s", here, w->name);
	return 1;
}

const char *
http_items_path(const walk *w)
{
	return w->items ? w->items : w->path;
}

int
http_walk(http_req *r, const store_slice *segs, size_t n, walk *w)
{
	char coll[STORE_NAME_MAX + 1];
	size_t i = 1;

	memset(w, 0, sizeof *w);
	w->kind = CTX_ROOT;
	w->shape = SHAPE_COLL;
	w->owner = r->app.uuid;
	if (!type_or_reply(r, segs[0], w->item_type)) return 0;
	store_collection_of(w->item_type, coll);
	snprintf(w->name, sizeof w->name, "%s", coll);
	w->path = http_sprintf(r, "/%s", coll);

	while (i < n) {
		/* in a connection, a segment that is not a uuid names the
		** target's type; an item may follow it */
		if ((w->kind == CTX_OUT || w->kind == CTX_IN) &&
		    !store_id_parse(segs[i], &w->item)) {
			if (!type_or_reply(r, segs[i], w->item_type)) return 0;
			if (++i == n) return 1;
		}
		if (!resolve_item(r, w, segs, n, &i)) return 0;
		if (i == n) return 1;
		if (!w->found) {
			http_not_found(r, w->kind == CTX_ROOT ? "entity_not_found"
			                                       : "service_resource_not_found");
			return 0;
		}
		store_rc rc = http_in_context(r, w);
		if (rc == STORE_NOTFOUND) {
			http_not_found(r, "service_resource_not_found");
			return 0;
		}
		if (rc) {
			http_store_error(r, rc, NULL, NULL);
			return 0;
		}
		if (!enter_relation(r, w, segs, n, &i)) return 0;
	}
	return 1;
}
