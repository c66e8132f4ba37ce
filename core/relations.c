/*
** relations.c: the relationship rules of Usergrid's built-in types:
** sub-collections and their linked reverse collections, hierarchical group
** paths, following, and the activity fan-out of spec 5.5.  Everything here
** runs inside the caller's write transaction, so a membership and its
** interval, a post and all its feed copies (or its one shared record, for a
** group of more than feed_copy_max members: feed.c) commit together or not
** at all.
*/
#include "core/store_int.h"
#include "core/mem.h"

#include <stdio.h>
#include <strings.h>

static int
type_index(const store_type_info *ti, const char *coll)
{
	for (int i = 0; i < 8 && ti->collections[i]; i++)
		if (strcmp(ti->collections[i], coll) == 0) return i;
	return -1;
}

/* A type's follow verbs are listed among its collections but are
** connections (spec 5.4). */
static int
is_virtual(const store_type_info *ti, const char *coll)
{
	return ti->follow && (strcmp(coll, ti->follow) == 0 || strcmp(coll, ti->followers) == 0);
}

const char *
store_coll_item_type(const char *owner_type, const char *coll)
{
	const store_type_info *ti = store_type_info_of(owner_type);
	int i = type_index(ti, coll);
	if (i < 0 || is_virtual(ti, coll)) return NULL;
	return ti->coll_types[i];
}

static store_rc
entity_type(store_txn *t, const store_app *app, const store_id *id,
            char type[STORE_NAME_MAX + 1])
{
	json_t *e = NULL;
	store_rc rc = store_entity_get(t, app, id, &e);
	if (rc) return rc;
	const char *s = json_string_value(json_object_get(e, "type"));
	if (s) snprintf(type, STORE_NAME_MAX + 1, "%s", s);
	json_decref(e);
	return s ? STORE_OK : STORE_CORRUPT;
}

/* Both ends' `counts` settings follow a membership change. */
static store_rc
counts_refresh(store_txn *t, const store_app *app, const store_id *owner, const store_id *item)
{
	store_rc rc = settings_counts_refresh(t, app, owner);
	return rc ? rc : settings_counts_refresh(t, app, item);
}

/* A group membership keeps its interval (feed.c) beside its edges: a
** change of a type's members collection (a group's users) or of its linked
** reverse (a user's groups). */
static store_rc
membership_changed(store_txn *t, const store_app *app, const store_type_info *ti, int i,
                   const store_id *owner, const store_id *item, int added)
{
	const store_type_info *it = store_type_info_of(ti->coll_types[i]);
	const store_id *member = item, *group = owner;
	const char *members = ti->members;
	uint64_t time;

	if (!members || strcmp(ti->collections[i], members) != 0) {
		if (!it->members || !ti->coll_linked[i] || strcmp(ti->coll_linked[i], it->members) != 0)
			return STORE_OK;
		member = owner;
		group = item;
		members = it->members;
	}
	if (!added) return feed_leave(t, app, member, group);
	store_rc rc = edge_time_of(t, app, group, STORE_EDGE_COLLECTION, members, member, &time);
	return rc ? rc : feed_join(t, app, member, group, time);
}

store_rc
store_coll_add(store_txn *t, const store_app *app, const store_id *owner,
               const char *owner_type, const char *coll, const store_id *item)
{
	const store_type_info *ti = store_type_info_of(owner_type);
	char type[STORE_NAME_MAX + 1];
	int i = type_index(ti, coll);
	store_rc rc;

	if (i < 0 || is_virtual(ti, coll)) return STORE_INVALID;
	if ((rc = entity_type(t, app, item, type))) return rc;
	if (strcmp(type, ti->coll_types[i]) != 0) return STORE_NOTFOUND;
	if ((rc = store_edge_put(t, app, owner, STORE_EDGE_COLLECTION, coll, item, NULL)))
		return rc;
	if (ti->coll_linked[i] &&
	    (rc = store_edge_put(t, app, item, STORE_EDGE_COLLECTION, ti->coll_linked[i],
	                         owner, NULL)))
		return rc;
	if ((rc = membership_changed(t, app, ti, i, owner, item, 1))) return rc;
	return counts_refresh(t, app, owner, item);
}

store_rc
store_coll_remove(store_txn *t, const store_app *app, const store_id *owner,
                  const char *owner_type, const char *coll, const store_id *item)
{
	const store_type_info *ti = store_type_info_of(owner_type);
	int i = type_index(ti, coll);
	store_rc rc;

	if (i < 0 || is_virtual(ti, coll)) return STORE_INVALID;
	if ((rc = store_edge_del(t, app, owner, STORE_EDGE_COLLECTION, coll, item)))
		return rc;
	if (ti->coll_linked[i]) {
		rc = store_edge_del(t, app, item, STORE_EDGE_COLLECTION, ti->coll_linked[i], owner);
		/* a missing reverse never blocks removing the membership itself */
		if (rc == STORE_NOTFOUND) rc = STORE_OK;
	}
	if (rc == STORE_OK) rc = membership_changed(t, app, ti, i, owner, item, 0);
	return rc ? rc : counts_refresh(t, app, owner, item);
}

store_rc
store_connect(store_txn *t, const store_app *app, const store_id *owner, const char *verb,
              const store_id *target, int *created)
{
	store_rc rc = store_edge_put(t, app, owner, STORE_EDGE_OUT, verb, target, created);
	return rc ? rc : counts_refresh(t, app, owner, target);
}

store_rc
store_disconnect(store_txn *t, const store_app *app, const store_id *owner, const char *verb,
                 const store_id *target)
{
	store_rc rc = store_edge_del(t, app, owner, STORE_EDGE_OUT, verb, target);
	return rc ? rc : counts_refresh(t, app, owner, target);
}

store_rc
store_group_resolve(store_txn *t, const store_app *app, const store_slice *segs,
                    size_t n, store_id *out, size_t *used)
{
	size_t len = 0, best = 0;
	char *path;
	store_rc rc = STORE_NOTFOUND;

	*used = 1;
	if (n == 0) return STORE_NOTFOUND;
	if (store_id_parse(segs[0], out))
		return store_entity_find(t, app, "group", segs[0], out);
	for (size_t i = 0; i < n; i++) len += segs[i].n + 1;
	path = xmalloc(len + 2);
	path[0] = '/';
	len = 1;
	for (size_t i = 0; i < n; i++) {
		store_id id;
		if (i > 0) path[len++] = '/';
		memcpy(path + len, segs[i].p, segs[i].n);
		len += segs[i].n;
		/* "a/b", then "/a/b" for paths stored with a leading slash */
		store_rc r2 = store_entity_find(t, app, "group",
		                                (store_slice){ path + 1, len - 1 }, &id);
		if (r2 == STORE_NOTFOUND)
			r2 = store_entity_find(t, app, "group", (store_slice){ path, len }, &id);
		if (r2 == STORE_OK) {
			*out = id;
			best = i + 1;
			rc = STORE_OK;
		} else if (r2 != STORE_NOTFOUND) {
			rc = r2;
			break;
		}
	}
	free(path);
	if (best) *used = best;
	return rc;
}

typedef struct {
	store_txn       *t;
	const store_app *app;
	const store_id  *activity;
	uint64_t         time;
	const store_id  *via;       /* feeds only of members of this group */
	const char      *via_members;  /* its members collection (its type's) */
} fanout;

/* Adds the activity to one user's feed. */
static store_rc
to_feed(void *ctx, const store_id *user)
{
	fanout *f = ctx;
	if (f->via) {
		store_rc rc = f->via_members ? store_edge_has(f->t, f->app, f->via,
		                                              STORE_EDGE_COLLECTION, f->via_members, user)
		                             : STORE_NOTFOUND;
		if (rc == STORE_NOTFOUND) return STORE_OK;
		if (rc) return rc;
	}
	return edge_put_at(f->t, f->app, user, STORE_EDGE_COLLECTION, "feed",
	                   f->activity, f->time, NULL);
}

/* Fills actor.uuid / actor.email from the posting user where missing. */
static store_rc
fill_actor(store_txn *t, const store_app *app, const store_id *user, json_t *body)
{
	json_t *u = NULL, *actor = json_get_ci(body, "actor", NULL);
	const char *have = NULL;
	store_rc rc;

	if (actor && !json_is_object(actor)) return STORE_OK;
	if ((rc = store_entity_get(t, app, user, &u))) return rc;
	if (!actor) {
		actor = json_object();
		json_get_ci(body, "actor", &have);
		json_object_set_new(body, "actor", actor);
	}
	if (!json_get_ci(actor, "uuid", NULL))
		json_object_set(actor, "uuid", json_object_get(u, "uuid"));
	json_t *email = json_get_ci(u, "email", NULL);
	if (!json_get_ci(actor, "email", NULL) && email)
		json_object_set(actor, "email", email);
	json_decref(u);
	return STORE_OK;
}

/* Narrows f to the members of via (its type's members collection). */
static store_rc
via_members(store_txn *t, const store_app *app, const store_id *via, fanout *f)
{
	char type[STORE_NAME_MAX + 1];
	store_rc rc = entity_type(t, app, via, type);
	f->via = via;
	f->via_members = rc == STORE_OK ? store_type_info_of(type)->members : NULL;
	return rc;
}

store_rc
store_activity_post(store_txn *t, const store_app *app, const store_id *owner,
                    const store_id *via, json_t *body, json_t **out,
                    store_err *err)
{
	char type[STORE_NAME_MAX + 1] = "";
	const store_type_info *ti;
	json_t *copy = NULL, *e = NULL;
	store_id id;
	fanout f = { .t = t, .app = app };
	store_rc rc;

	*out = NULL;
	if (!json_is_object(body))
		return store_fail(err, STORE_INVALID, "an activity must be a JSON object");
	if (owner && (rc = entity_type(t, app, owner, type))) return rc;
	ti = store_type_info_of(type);
	copy = json_deep_copy(body);
	if (ti->poster_is_actor && (rc = fill_actor(t, app, owner, copy))) goto done;
	if ((rc = store_entity_create(t, app, "activity", copy, NULL, &e, err))) goto done;
	if (!owner) goto done;
	if ((rc = store_entity_id(e, &id))) goto done;
	f.activity = &id;
	f.time = store_next_time(t->s);
	if ((rc = edge_put_at(t, app, owner, STORE_EDGE_COLLECTION, "activities", &id,
	                      f.time, NULL)))
		goto done;
	if (ti->members) {           /* the poster's feed, then its members' */
		uint64_t members;
		if ((rc = to_feed(&f, owner)) ||
		    (rc = store_edge_count(t, app, owner, STORE_EDGE_COLLECTION, ti->members,
		                           &members)))
			goto done;
		if (members > t->s->feed_copy_max)       /* kept once for the members (feed.c) */
			rc = feed_share(t, app, owner, &id, f.time);
		else
			rc = edge_each(t, app, owner, STORE_EDGE_COLLECTION, ti->members, to_feed, &f);
	} else if (ti->follow) {     /* the poster's feed, then its followers' */
		if ((rc = to_feed(&f, owner))) goto done;
		if (via && (rc = via_members(t, app, via, &f))) goto done;
		rc = edge_each(t, app, owner, STORE_EDGE_IN, ti->follow, to_feed, &f);
	} else {
		rc = store_fail(err, STORE_INVALID, "a %s has no activities", type);
	}
done:
	json_decref(copy);
	if (rc == STORE_OK) *out = e;
	else json_decref(e);
	return rc;
}

typedef struct {
	store_txn       *t;
	const store_app *app;
	const store_id  *leader, *follower;
} copy_ctx;

/* Copies one of the leader's activities into the follower's feed, at the
** time it was posted so the feed stays in posting order. */
static store_rc
copy_activity(void *ctx, const store_id *activity)
{
	copy_ctx *c = ctx;
	uint64_t time;
	store_rc rc = edge_time_of(c->t, c->app, c->leader, STORE_EDGE_COLLECTION,
	                           "activities", activity, &time);
	if (rc) return rc;
	return edge_put_at(c->t, c->app, c->follower, STORE_EDGE_COLLECTION, "feed",
	                   activity, time, NULL);
}

store_rc
store_follow(store_txn *t, const store_app *app, const store_id *follower,
             const store_id *leader)
{
	char type[STORE_NAME_MAX + 1];
	int created = 0;
	store_rc rc = entity_type(t, app, leader, type);
	if (rc) return rc;
	const char *verb = store_type_info_of(type)->follow;
	if (!verb) return STORE_NOTFOUND;   /* users follow users */
	rc = store_connect(t, app, follower, verb, leader, &created);
	if (rc || !created) return rc;
	copy_ctx c = { t, app, leader, follower };
	return edge_each(t, app, leader, STORE_EDGE_COLLECTION, "activities",
	                     copy_activity, &c);
}
