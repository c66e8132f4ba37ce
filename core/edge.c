/*
** edge.c: collection membership and connections.
**
** An edge owner -kind/name-> target is written from both ends (kinds c/m
** and o/i, keys.h) so that either end can list it and deleting an entity
** finds every edge that touches it by scanning its own key prefix.  Each
** end has an `edges` key ordered newest first, an `edge_at` key for
** membership tests and time refresh, and a count; all change together in
** the caller's write transaction.
*/
#include "core/store_int.h"
#include "core/mem.h"

#include <stdlib.h>

store_edge_kind
edge_reverse_kind(store_edge_kind kind)
{
	switch (kind) {
	case STORE_EDGE_COLLECTION: return STORE_EDGE_MEMBER_OF;
	case STORE_EDGE_MEMBER_OF:  return STORE_EDGE_COLLECTION;
	case STORE_EDGE_OUT:        return STORE_EDGE_IN;
	case STORE_EDGE_IN:         return STORE_EDGE_OUT;
	}
	return kind;
}

static store_rc
count_add(store_txn *t, const store_app *app, const store_id *owner,
          store_edge_kind kind, const char *name, int delta)
{
	keybuf k;
	uint64_t c = 0;
	store_rc rc;

	/* nothing reads how many collections an entity is in; not kept */
	if (kind == STORE_EDGE_MEMBER_OF) return STORE_OK;

	key_count(&k, app, owner, kind, name);
	rc = kv_get_u64(t, DBI_COUNTS, &k, &c);
	if (rc && rc != STORE_NOTFOUND) return rc;
	if (delta < 0 && c == 0) return STORE_CORRUPT;
	c = delta < 0 ? c - 1 : c + 1;
	if (c == 0) return kv_del(t, DBI_COUNTS, &k);
	return kv_put_u64(t, DBI_COUNTS, &k, c);
}

/* A user's feed merges its own edges with the posts its groups share. */
static int
is_feed(store_edge_kind kind, const char *name)
{
	return kind == STORE_EDGE_COLLECTION && strcmp(name, "feed") == 0;
}

/* Reads the time of one end of an edge. */
static store_rc
edge_time(store_txn *t, const store_app *app, const store_id *owner,
          store_edge_kind kind, const char *name, const store_id *target,
          uint64_t *time)
{
	keybuf k;
	key_edge_at(&k, app, owner, kind, name, target);
	return kv_get_u64(t, DBI_EDGE_AT, &k, time);
}

/* Writes one end at `time`, replacing an older time. */
static store_rc
put_one(store_txn *t, const store_app *app, const store_id *owner,
        store_edge_kind kind, const char *name, const store_id *target,
        uint64_t time, int *created)
{
	keybuf k, at;
	uint64_t old;
	store_rc rc;

	rc = edge_time(t, app, owner, kind, name, target, &old);
	if (rc == STORE_OK) {
		key_edge(&k, app, owner, kind, name, old, target);
		if ((rc = kv_del(t, DBI_EDGES, &k))) return rc;
		*created = 0;
	} else if (rc == STORE_NOTFOUND) {
		if ((rc = count_add(t, app, owner, kind, name, +1))) return rc;
		*created = 1;
	} else {
		return rc;
	}
	key_edge(&k, app, owner, kind, name, time, target);
	if ((rc = kv_put(t, DBI_EDGES, &k, "", 0))) return rc;
	key_edge_at(&at, app, owner, kind, name, target);
	return kv_put_u64(t, DBI_EDGE_AT, &at, time);
}

static store_rc
del_one(store_txn *t, const store_app *app, const store_id *owner,
        store_edge_kind kind, const char *name, const store_id *target)
{
	keybuf k;
	uint64_t time;
	store_rc rc;

	if ((rc = edge_time(t, app, owner, kind, name, target, &time))) return rc;
	key_edge(&k, app, owner, kind, name, time, target);
	if ((rc = kv_del(t, DBI_EDGES, &k))) return rc;
	key_edge_at(&k, app, owner, kind, name, target);
	if ((rc = kv_del(t, DBI_EDGE_AT, &k))) return rc;
	return count_add(t, app, owner, kind, name, -1);
}

uint64_t
store_pos_time(const store_pos *pos)
{
	return ~key_get_u64(pos->b);
}

void
store_pos_make(store_pos *pos, uint64_t time, const store_id *target)
{
	keybuf k;
	key_init(&k);
	key_pos(&k, time, target);
	memcpy(pos->b, k.b, STORE_POS_SIZE);
	pos->set = 1;
}

store_rc
store_edge_put(store_txn *t, const store_app *app, const store_id *owner,
               store_edge_kind kind, const char *name, const store_id *target,
               int *created)
{
	return edge_put_at(t, app, owner, kind, name, target, store_next_time(t->s),
	                   created);
}

store_rc
edge_time_of(store_txn *t, const store_app *app, const store_id *owner,
             store_edge_kind kind, const char *name, const store_id *target,
             uint64_t *time)
{
	return edge_time(t, app, owner, kind, name, target, time);
}

store_rc
store_edge_pos(store_txn *t, const store_app *app, const store_id *owner,
               store_edge_kind kind, const char *name, const store_id *target,
               store_pos *out)
{
	uint64_t time;
	store_rc rc = edge_time(t, app, owner, kind, name, target, &time);
	if (rc == STORE_OK) store_pos_make(out, time, target);
	return rc;
}

store_rc
edge_put_at(store_txn *t, const store_app *app, const store_id *owner,
            store_edge_kind kind, const char *name, const store_id *target,
            uint64_t time, int *created)
{
	int c1, c2;
	store_rc rc;

	if (strlen(name) > STORE_NAME_MAX) return STORE_TOOBIG;
	if ((rc = put_one(t, app, owner, kind, name, target, time, &c1))) return rc;
	if ((rc = put_one(t, app, target, edge_reverse_kind(kind), name, owner, time, &c2)))
		return rc;
	if (c1 != c2) return STORE_CORRUPT;
	if (created) *created = c1;
	return STORE_OK;
}

store_rc
store_edge_del(store_txn *t, const store_app *app, const store_id *owner,
               store_edge_kind kind, const char *name, const store_id *target)
{
	store_rc rc = del_one(t, app, owner, kind, name, target);
	if (rc) return rc;
	rc = del_one(t, app, target, edge_reverse_kind(kind), name, owner);
	return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
}

store_rc
store_edge_has(store_txn *t, const store_app *app, const store_id *owner,
               store_edge_kind kind, const char *name, const store_id *target)
{
	uint64_t time;
	return store_edge_time(t, app, owner, kind, name, target, &time);
}

store_rc
store_edge_time(store_txn *t, const store_app *app, const store_id *owner,
                store_edge_kind kind, const char *name, const store_id *target, uint64_t *time)
{
	store_rc rc = edge_time(t, app, owner, kind, name, target, time);
	if (rc == STORE_NOTFOUND && is_feed(kind, name))
		rc = feed_shared_time(t, app, owner, target, time);
	return rc;
}

store_rc
pos_scan(store_txn *t, int dbi, const keybuf *prefix, int oldest_first,
         const store_pos *after, uint64_t lo, uint64_t hi, size_t limit,
         store_pos *poss, size_t *n)
{
	kv_scan sc;
	keybuf start = *prefix, edge;
	store_pos from = { .set = 0 };
	store_rc rc;

	if (after) from = *after;     /* after may alias an entry of poss */
	*n = 0;
	if (limit == 0 || lo >= hi) return STORE_OK;
	if (prefix->overflow) return STORE_NOTFOUND;
	/* where the window starts in scan order: newest first, at the newest
	** time before hi; oldest first, just past its oldest entry (time lo) */
	key_init(&edge);
	if (!oldest_first && hi != UINT64_MAX) key_pos_bound(&edge, hi - 1, 0);
	if (oldest_first) key_pos_bound(&edge, lo, 1);
	if (from.set && (oldest_first ? memcmp(from.b, edge.b, STORE_POS_SIZE) < 0
	                              : memcmp(from.b, edge.b, edge.n) >= 0))
		key_put(&start, from.b, STORE_POS_SIZE);
	else
		key_put(&start, edge.b, edge.n);
	/* oldest first: from the last key before start */
	if ((rc = kv_scan_begin(&sc, t, dbi, prefix, &start, oldest_first))) return rc;
	while (*n < limit && kv_scan_next(&sc)) {
		const unsigned char *kb = sc.k.mv_data;
		if (sc.k.mv_size != prefix->n + STORE_POS_SIZE) break;
		uint64_t time = ~key_get_u64(kb + prefix->n);
		if (oldest_first ? time >= hi : time < lo) break;
		if (from.set && memcmp(kb + prefix->n, from.b, STORE_POS_SIZE) == 0)
			continue;
		memcpy(poss[*n].b, kb + prefix->n, STORE_POS_SIZE);
		poss[*n].set = 1;
		(*n)++;
	}
	return kv_scan_end(&sc, STORE_OK);
}

store_rc
edge_scan_own(store_txn *t, const store_app *app, const store_id *owner,
              store_edge_kind kind, const char *name, int oldest_first,
              const store_pos *after, size_t limit, store_pos *poss, size_t *n)
{
	keybuf prefix;
	key_edge_head(&prefix, app, owner, kind, name);
	return pos_scan(t, DBI_EDGES, &prefix, oldest_first, after, 0, UINT64_MAX, limit,
	                poss, n);
}

store_rc
store_edge_scan_dir(store_txn *t, const store_app *app, const store_id *owner,
                    store_edge_kind kind, const char *name, int oldest_first,
                    const store_pos *after, size_t limit, store_id *ids,
                    store_pos *poss, size_t *n)
{
	store_pos *p = poss ? poss : malloc((limit ? limit : 1) * sizeof *p);
	store_rc rc;

	if (!p) return STORE_NOMEM;
	rc = is_feed(kind, name)
	         ? feed_scan(t, app, owner, oldest_first, after, limit, p, n)
	         : edge_scan_own(t, app, owner, kind, name, oldest_first, after, limit, p, n);
	for (size_t i = 0; rc == STORE_OK && i < *n; i++) memcpy(ids[i].b, p[i].b + 8, 16);
	if (!poss) free(p);
	return rc;
}

store_rc
store_edge_scan(store_txn *t, const store_app *app, const store_id *owner,
                store_edge_kind kind, const char *name, const store_pos *after,
                size_t limit, store_id *ids, store_pos *poss, size_t *n)
{
	return store_edge_scan_dir(t, app, owner, kind, name, 0, after, limit, ids, poss, n);
}

store_rc
store_edge_list(store_txn *t, const store_app *app, const store_id *owner,
                store_edge_kind kind, const char *name, const store_pos *after,
                size_t limit, store_id *ids, size_t *n, store_pos *last)
{
	store_pos from = { .set = 0 }, *poss;
	store_rc rc;

	if (after) from = *after;     /* after and last may be the same */
	if (last) last->set = 0;
	if (limit == 0) {
		*n = 0;
		return STORE_OK;
	}
	poss = last ? malloc(limit * sizeof *poss) : NULL;
	if (last && !poss) return STORE_NOMEM;
	rc = store_edge_scan(t, app, owner, kind, name, &from, limit, ids, poss, n);
	if (rc == STORE_OK && last && *n) *last = poss[*n - 1];
	free(poss);
	return rc;
}

store_rc
store_edge_count(store_txn *t, const store_app *app, const store_id *owner,
                 store_edge_kind kind, const char *name, uint64_t *out)
{
	keybuf k;
	*out = 0;
	key_count(&k, app, owner, kind, name);
	store_rc rc = kv_get_u64(t, DBI_COUNTS, &k, out);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* Walks id's MEMBER_OF keys of edge_at in order (name, then target),
** calling fn with each until it says to stop; fn may also skip the rest
** of the current name (one seek: name\0 -> name\1). */
enum { MEMBER_NEXT, MEMBER_NEXT_NAME, MEMBER_STOP };

static store_rc
member_scan(store_txn *t, const store_app *app, const store_id *id,
            int (*fn)(void *ctx, const edge_key *e), void *ctx)
{
	kv_scan sc;
	keybuf prefix, seek;
	edge_key e;
	store_rc rc;
	int next;

	key_edge_kind(&prefix, app, id, STORE_EDGE_MEMBER_OF);
	if ((rc = kv_scan_begin(&sc, t, DBI_EDGE_AT, &prefix, NULL, 0))) return rc;
	while (kv_scan_next(&sc)) {
		if (!edge_key_parse(sc.k.mv_data, sc.k.mv_size, 16, &e)) {
			rc = STORE_CORRUPT;
			break;
		}
		if ((next = fn(ctx, &e)) == MEMBER_STOP) break;
		if (next == MEMBER_NEXT) continue;
		key_edge_head(&seek, app, id, STORE_EDGE_MEMBER_OF, e.name);
		seek.b[seek.n - 1] = 1;
		kv_scan_seek(&sc, &seek);
	}
	return kv_scan_end(&sc, rc);
}

static int
add_name(void *names, const edge_key *e)
{
	json_object_set_new(names, e->name, json_integer(1));
	return MEMBER_NEXT_NAME;
}

/* Where the counted names of one kind go (count_names). */
typedef struct {
	store_edge_kind kind;
	json_t **to;
} names_into;

/* {name: count} of each kind of into[0..n) owner has, in one scan of its
** counts (of that kind alone when n is 1); *to stays NULL for a kind
** without names. */
static store_rc
count_names(store_txn *t, const store_app *app, const store_id *owner,
            const names_into *into, size_t n)
{
	kv_scan sc;
	keybuf k;
	store_rc rc;
	size_t at;                           /* the kind byte's place in a key */

	key_entity(&k, app, owner);
	at = k.n;
	if (n == 1) key_edge_kind(&k, app, owner, into[0].kind);
	if ((rc = kv_scan_begin(&sc, t, DBI_COUNTS, &k, NULL, 0))) return rc;
	while (kv_scan_next(&sc)) {
		const unsigned char *b = sc.k.mv_data;
		size_t i = 0;
		while (i < n && (sc.k.mv_size <= at + 1 || b[at] != into[i].kind)) i++;
		if (i == n) continue;
		if (sc.v.mv_size != 8) {
			rc = STORE_CORRUPT;
			break;
		}
		json_t **to = into[i].to;
		if (!*to) *to = json_object();
		json_object_setn_new(*to, (const char *)b + at + 1, sc.k.mv_size - at - 1,
		                     json_integer((json_int_t)key_get_u64(sc.v.mv_data)));
	}
	return kv_scan_end(&sc, rc);
}

store_rc
store_edge_names(store_txn *t, const store_app *app, const store_id *owner,
                 store_edge_kind kind, json_t **out)
{
	store_rc rc;
	*out = NULL;
	if (kind == STORE_EDGE_MEMBER_OF) {
		*out = json_object();
		rc = member_scan(t, app, owner, add_name, *out);
	} else {
		names_into one = { kind, out };
		rc = count_names(t, app, owner, &one, 1);
		if (rc == STORE_OK && !*out) *out = json_object();
	}
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

store_rc
store_edge_verbs(store_txn *t, const store_app *app, const store_id *id, json_t **out,
                 json_t **in)
{
	names_into both[] = { { STORE_EDGE_OUT, out }, { STORE_EDGE_IN, in } };
	*out = *in = NULL;
	store_rc rc = count_names(t, app, id, both, 2);
	if (rc) {
		json_decref(*out);
		json_decref(*in);
		*out = *in = NULL;
	}
	return rc;
}

struct owned { const store_app *app; int *owned; };

static int
owned_by_other(void *ctx, const edge_key *e)
{
	struct owned *o = ctx;
	if (memcmp(e->target.b, o->app->uuid.b, sizeof e->target.b) == 0) return MEMBER_NEXT;
	*o->owned = 1;             /* the first container besides the app will do */
	return MEMBER_STOP;
}

store_rc
store_edge_owned(store_txn *t, const store_app *app, const store_id *id, int *owned)
{
	struct owned o = { app, owned };
	*owned = 0;
	return member_scan(t, app, id, owned_by_other, &o);
}

store_rc
edges_remove_all(store_txn *t, const store_app *app, const store_id *id)
{
	keybuf prefix;
	store_rc rc = STORE_OK;

	key_entity(&prefix, app, id);
	for (;;) {
		kv_scan sc;
		edge_key e;
		int found;

		if ((rc = kv_scan_begin(&sc, t, DBI_EDGES, &prefix, NULL, 0))) return rc;
		found = kv_scan_next(&sc);
		if (found && !edge_key_parse(sc.k.mv_data, sc.k.mv_size, 24, &e)) rc = STORE_CORRUPT;
		if ((rc = kv_scan_end(&sc, rc)) || !found) break;
		if ((rc = store_edge_del(t, app, id, e.kind, e.name, &e.target))) break;
		/* the other end lost a member: its counts follow */
		if ((e.kind == STORE_EDGE_MEMBER_OF || e.kind == STORE_EDGE_IN) &&
		    (rc = settings_counts_refresh(t, app, &e.target)))
			break;
	}
	return rc;
}

int
edge_valid_kind(int kind)
{
	return kind == 'c' || kind == 'm' || kind == 'o' || kind == 'i';
}

int
edge_key_parse(const void *key, size_t n, size_t tail, edge_key *e)
{
	const unsigned char *b = key;
	if (n < 16 + 16 + 1 + 1 + tail) return 0;
	size_t name_n = n - tail - 1 - 33;
	if (!edge_valid_kind(b[32]) || b[33 + name_n] != 0 || name_n > STORE_NAME_MAX ||
	    memchr(b + 33, 0, name_n))
		return 0;
	memcpy(e->owner.b, b + 16, 16);
	e->kind = (store_edge_kind)b[32];
	memcpy(e->name, b + 33, name_n);
	e->name[name_n] = '\0';
	memcpy(e->target.b, b + n - 16, 16);
	e->time = tail == 24 ? ~key_get_u64(b + n - 24) : 0;
	return 1;
}

/* Targets fetched per page while walking a member or follower list. */
#define EACH_PAGE 512

store_rc
edge_each(store_txn *t, const store_app *app, const store_id *owner,
          store_edge_kind kind, const char *name,
          store_rc (*fn)(void *ctx, const store_id *id), void *ctx)
{
	store_id *ids = xmalloc(EACH_PAGE * sizeof *ids);
	store_pos pos = { .set = 0 };
	store_rc rc;
	size_t n;

	do {
		rc = store_edge_list(t, app, owner, kind, name, &pos, EACH_PAGE, ids, &n, &pos);
		for (size_t i = 0; rc == STORE_OK && i < n; i++) rc = fn(ctx, &ids[i]);
	} while (rc == STORE_OK && n == EACH_PAGE);
	free(ids);
	return rc;
}
