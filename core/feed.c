/*
** feed.c: the shared delivery path of a group's activities.
**
** A post to a group of at most feed_copy_max members is copied into every
** member's feed (relations.c).  A post to a larger group is kept once: an
** 's' key of the group, newest first, and its 'a' reverse (keys.h).  What
** a member sees of it follows from the membership intervals every group
** membership keeps ('i' keys: join time -> leave time, open while the user
** is a member), written in the transaction of the membership change, so a
** shared post is in a user's feed exactly when the copy would have been:
** posted while the user was a member.  A user's feed is the merge, newest
** first (or oldest first), of its own feed edges and the shared posts of
** each group it has intervals in, within those intervals; an entry's
** position is the 24 bytes of an edge position in both, so cursors stay
** stateless whatever delivered the entry.
*/
#include "core/store_int.h"
#include "core/mem.h"

#include <stdlib.h>

#define OPEN UINT64_MAX    /* the leave time of a current membership */

store_rc
feed_share(store_txn *t, const store_app *app, const store_id *group,
           const store_id *activity, uint64_t time)
{
	keybuf k, v;
	store_rc rc;

	key_feed_shared(&k, app, group, time, activity);
	if ((rc = kv_put(t, DBI_FEEDS, &k, "", 0))) return rc;
	key_feed(&k, app, 'a', activity);
	val_feed_shared(&v, group, time);
	return kv_put(t, DBI_FEEDS, &k, v.b, v.n);
}

/* The newest interval of user in group: its join time and leave time;
** STORE_NOTFOUND when there is none.  With at, the newest that began at
** or before `at`. */
static store_rc
span_newest(store_txn *t, const store_app *app, const store_id *user, const store_id *group,
            const uint64_t *at, uint64_t *join, uint64_t *leave)
{
	kv_scan sc;
	keybuf prefix, start;
	store_rc rc;

	key_feed_spans(&prefix, app, user, group);
	if (at) key_feed_span(&start, app, user, group, *at);
	if ((rc = kv_scan_begin(&sc, t, DBI_FEEDS, &prefix, at ? &start : NULL, 0))) return rc;
	rc = STORE_NOTFOUND;
	if (kv_scan_next(&sc) && sc.k.mv_size == prefix.n + 8) {
		if (sc.v.mv_size != 8) {
			rc = STORE_CORRUPT;
		} else {
			*join = ~key_get_u64((const unsigned char *)sc.k.mv_data + prefix.n);
			*leave = key_get_u64(sc.v.mv_data);
			rc = STORE_OK;
		}
	}
	store_rc end = kv_scan_end(&sc, STORE_OK);
	return end ? end : rc;
}

static store_rc
span_put(store_txn *t, const store_app *app, const store_id *user, const store_id *group,
         uint64_t join, uint64_t leave)
{
	keybuf k;
	key_feed_span(&k, app, user, group, join);
	return kv_put_u64(t, DBI_FEEDS, &k, leave);
}

store_rc
feed_member_open(store_txn *t, const store_app *app, const store_id *user,
                 const store_id *group)
{
	uint64_t join, leave;
	store_rc rc = span_newest(t, app, user, group, NULL, &join, &leave);
	return rc == STORE_OK && leave != OPEN ? STORE_NOTFOUND : rc;
}

store_rc
feed_join(store_txn *t, const store_app *app, const store_id *user, const store_id *group,
          uint64_t time)
{
	store_rc rc = feed_member_open(t, app, user, group);
	if (rc == STORE_OK) return STORE_OK;      /* a current member */
	if (rc != STORE_NOTFOUND) return rc;
	return span_put(t, app, user, group, time, OPEN);
}

store_rc
feed_leave(store_txn *t, const store_app *app, const store_id *user, const store_id *group)
{
	uint64_t join, leave;
	store_rc rc = span_newest(t, app, user, group, NULL, &join, &leave);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK && leave != OPEN)) return STORE_OK;
	if (rc) return rc;
	return span_put(t, app, user, group, join, store_next_time(t->s));
}

/* The group and time of a shared activity ('a' key); STORE_NOTFOUND when
** it is no shared post. */
static store_rc
shared_get(store_txn *t, const store_app *app, const store_id *activity, store_id *group,
           uint64_t *time)
{
	keybuf k;
	void *v;
	size_t n;
	key_feed(&k, app, 'a', activity);
	store_rc rc = kv_get(t, DBI_FEEDS, &k, &v, &n);
	if (rc) return rc;
	return val_feed_shared_parse(v, n, group, time) ? STORE_OK : STORE_CORRUPT;
}

typedef struct {
	store_txn       *t;
	const store_app *app;
	const store_id  *group;
} leaving;

static store_rc
leave_one(void *ctx, const store_id *user)
{
	leaving *l = ctx;
	return feed_leave(l->t, l->app, user, l->group);
}

/* The shared post of an activity and its reverse go (none: nothing to do). */
static store_rc
shared_forget(store_txn *t, const store_app *app, const store_id *activity)
{
	keybuf k;
	store_id group;
	uint64_t time;
	store_rc rc = shared_get(t, app, activity, &group, &time);
	if (rc == STORE_NOTFOUND) return STORE_OK;
	if (rc) return rc;
	key_feed_shared(&k, app, &group, time, activity);
	if ((rc = kv_del(t, DBI_FEEDS, &k))) return rc;
	key_feed(&k, app, 'a', activity);
	return kv_del(t, DBI_FEEDS, &k);
}

store_rc
feed_forget(store_txn *t, const store_app *app, const store_id *id, const char *members)
{
	keybuf k;
	store_rc rc;

	if (members) {               /* a group: its memberships end, what it delivered stays */
		leaving l = { t, app, id };
		if ((rc = edge_each(t, app, id, STORE_EDGE_COLLECTION, members, leave_one, &l)))
			return rc;
	}
	key_feed(&k, app, 'i', id);
	if ((rc = kv_del_prefix(t, DBI_FEEDS, &k))) return rc;
	return shared_forget(t, app, id);
}

store_rc
feed_shared_time(store_txn *t, const store_app *app, const store_id *user,
                 const store_id *activity, uint64_t *time)
{
	uint64_t at, join, leave;
	store_id group;
	store_rc rc;

	if ((rc = shared_get(t, app, activity, &group, &at))) return rc;
	if ((rc = span_newest(t, app, user, &group, &at, &join, &leave))) return rc;
	if (at >= leave) return STORE_NOTFOUND;
	*time = at;
	return STORE_OK;
}

/* ---- import ---------------------------------------------------------------- */

store_rc
feed_share_import(store_txn *t, const store_app *app, const store_id *group,
                  const store_id *activity, uint64_t time, int *changed)
{
	store_id have;
	uint64_t at;
	store_rc rc = shared_get(t, app, activity, &have, &at);
	if (rc == STORE_OK && memcmp(have.b, group->b, 16) == 0 && at == time) {
		*changed = 0;
		return STORE_OK;
	}
	if (rc && rc != STORE_NOTFOUND) return rc;
	*changed = 1;
	if ((rc = shared_forget(t, app, activity))) return rc;  /* another group or time */
	return feed_share(t, app, group, activity, time);
}

store_rc
feed_span_import(store_txn *t, const store_app *app, const store_id *user,
                 const store_id *group, uint64_t join, uint64_t leave, int *changed)
{
	keybuf k;
	void *v;
	size_t n;
	store_rc rc;

	key_feed_span(&k, app, user, group, join);
	rc = kv_get(t, DBI_FEEDS, &k, &v, &n);
	*changed = !(rc == STORE_OK && n == 8 && key_get_u64(v) == leave);
	if (rc && rc != STORE_NOTFOUND) return rc;
	return *changed ? span_put(t, app, user, group, join, leave) : STORE_OK;
}

/* ---- the merge --------------------------------------------------------------- */

typedef struct {
	store_id group;
	uint64_t join, leave;
} span;

/* Every interval of user, by group, newest first within a group. */
static store_rc
spans_load(store_txn *t, const store_app *app, const store_id *user, span **out, size_t *n)
{
	kv_scan sc;
	keybuf prefix;
	size_t cap = 0;
	store_rc rc;

	*out = NULL;
	*n = 0;
	key_feed(&prefix, app, 'i', user);
	if ((rc = kv_scan_begin(&sc, t, DBI_FEEDS, &prefix, NULL, 0))) return rc;
	while (rc == STORE_OK && kv_scan_next(&sc)) {
		const unsigned char *b = sc.k.mv_data;
		if (sc.k.mv_size != prefix.n + 24 || sc.v.mv_size != 8) {
			rc = STORE_CORRUPT;
			break;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		span *s = &(*out)[(*n)++];
		memcpy(s->group.b, b + prefix.n, 16);
		s->join = ~key_get_u64(b + prefix.n + 16);
		s->leave = key_get_u64(sc.v.mv_data);
	}
	return kv_scan_end(&sc, rc);
}

/* The shared posts of one group in its intervals sp[0..ns) (newest first),
** in scan order after `after`, at most limit into poss[]. */
static store_rc
group_scan(store_txn *t, const store_app *app, const span *sp, size_t ns, int oldest_first,
           const store_pos *after, size_t limit, store_pos *poss, size_t *n)
{
	keybuf prefix;
	store_rc rc = STORE_OK;

	*n = 0;
	key_feed(&prefix, app, 's', &sp[0].group);
	for (size_t i = 0; i < ns && *n < limit && rc == STORE_OK; i++) {
		const span *s = &sp[oldest_first ? ns - 1 - i : i];
		size_t got;
		rc = pos_scan(t, DBI_FEEDS, &prefix, oldest_first, after, s->join, s->leave,
		              limit - *n, poss + *n, &got);
		*n += got;
	}
	return rc;
}

/* Merges b[0..nb) into a[0..*na), both in scan order, keeping the first
** limit entries (tmp holds limit). */
static void
merge(store_pos *a, size_t *na, const store_pos *b, size_t nb, size_t limit,
      int oldest_first, store_pos *tmp)
{
	size_t i = 0, j = 0, k = 0;
	while (k < limit && (i < *na || j < nb)) {
		int d = i == *na ? 1 : j == nb ? -1 : memcmp(a[i].b, b[j].b, STORE_POS_SIZE);
		if (oldest_first && i < *na && j < nb) d = -d;
		if (d == 0) j++;       /* one entry delivered both ways is listed once */
		tmp[k++] = d <= 0 ? a[i++] : b[j++];
	}
	memcpy(a, tmp, k * sizeof *a);
	*na = k;
}

store_rc
feed_scan(store_txn *t, const store_app *app, const store_id *user, int oldest_first,
          const store_pos *after, size_t limit, store_pos *poss, size_t *n)
{
	span *sp = NULL;
	size_t ns = 0;
	store_pos *part = NULL, *tmp = NULL, from = { .set = 0 };
	store_rc rc;

	if (after) from = *after;     /* after may alias an entry of poss */
	*n = 0;
	if (limit == 0) return STORE_OK;
	rc = edge_scan_own(t, app, user, STORE_EDGE_COLLECTION, "feed", oldest_first, &from,
	                   limit, poss, n);
	if (rc == STORE_OK) rc = spans_load(t, app, user, &sp, &ns);
	if (rc || ns == 0) goto done;
	part = xmalloc(limit * sizeof *part);
	tmp = xmalloc(limit * sizeof *tmp);
	for (size_t i = 0, j; i < ns && rc == STORE_OK; i = j) {
		size_t got;
		for (j = i + 1; j < ns && memcmp(sp[j].group.b, sp[i].group.b, 16) == 0; j++)
			;
		rc = group_scan(t, app, sp + i, j - i, oldest_first, &from, limit, part, &got);
		if (rc == STORE_OK) merge(poss, n, part, got, limit, oldest_first, tmp);
	}
done:
	free(sp);
	free(part);
	free(tmp);
	return rc;
}

/* ---- the upgrade to format 6 ----------------------------------------------- */

/* The members collection of the entity's type (a group's users), or NULL. */
static const char *
members_of(store_txn *t, const store_app *app, const store_id *id)
{
	json_t *e = NULL;
	if (store_entity_get(t, app, id, &e) != STORE_OK) return NULL;
	const char *type = json_string_value(json_object_get(e, "type"));
	const char *members = type ? store_type_info_of(type)->members : NULL;
	json_decref(e);
	return members;
}

store_rc
feed_open_missing(store_txn *t)
{
	kv_scan sc;
	keybuf all;
	store_id owner = { { 0 } };
	const char *members = NULL;
	int have_owner = 0;
	store_rc rc;

	key_init(&all);
	if ((rc = kv_scan_begin(&sc, t, DBI_EDGE_AT, &all, NULL, 0))) return rc;
	while (rc == STORE_OK && kv_scan_next(&sc)) {
		edge_key e;
		store_app app = { .uuid = { { 0 } } };
		if (!edge_key_parse(sc.k.mv_data, sc.k.mv_size, 16, &e) || sc.v.mv_size != 8 ||
		    e.kind != STORE_EDGE_COLLECTION)
			continue;
		memcpy(app.uuid.b, sc.k.mv_data, 16);
		if (memcmp(e.owner.b, app.uuid.b, 16) == 0) continue;    /* a root collection */
		if (!have_owner || memcmp(owner.b, e.owner.b, 16) != 0) {
			owner = e.owner;
			have_owner = 1;
			members = members_of(t, &app, &owner);
		}
		if (members && strcmp(e.name, members) == 0)
			rc = feed_join(t, &app, &e.target, &owner, key_get_u64(sc.v.mv_data));
	}
	return kv_scan_end(&sc, rc);
}
