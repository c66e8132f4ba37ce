/*
** entcache.c: parsed entities for readers.  A listing or a query parses
** every entity it reads (jansson: a third of a page of ten's time), and
** the same entities are read again and again.  This table keeps, for a
** few thousand entities, the stored bytes next to the object parsed from
** them.  A read finds the entity's bytes in LMDB as always and takes the
** kept object only when the kept bytes are the same bytes: nothing to
** invalidate, a changed entity simply misses.  The object is shared with
** every reader that takes it (jansson counts references atomically, and
** reading an object changes nothing in it), so it must never be changed:
** store_entity_read hands it out in read-only transactions only, to
** callers that copy before they add anything.  The first time a kept
** object is written out (store_entity_write) its reply text is kept too,
** so writing it again is a copy.  An entity takes either slot of its set
** (two), so two entities whose hashes meet do not evict each other.
*/
#include "core/store_int.h"
#include "core/mem.h"
#include "core/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS  4096            /* entities kept at most */
#define WAYS   2               /* slots an entity may take: a set */
#define SETS   (SLOTS / WAYS)
#define STRIPES 64             /* locks over the sets */
#define BYTES_MAX 4096         /* larger entities are parsed each time */

struct entcache {
	pthread_mutex_t mu[STRIPES];
	_Atomic uint64_t used;     /* slots holding an entity */
	struct entcache_slot {
		store_id id;
		size_t   n;
		char    *bytes;        /* the stored text the object was parsed from */
		json_t  *v;
		char    *text;         /* v's reply text (store_entity_write), once made */
		size_t   text_n;
		int      recent;       /* the set's slot taken or filled last */
	} slot[SLOTS];
};

/* The set an entity's slots are in, locked: an entity is kept in either
** slot of its set, so two entities whose hashes meet both stay. */
static struct entcache_slot *
set_lock(struct entcache *c, const store_id *id)
{
	size_t set = (size_t)(text_hash(TEXT_HASH_BASIS, id->b, 16, 0) % SETS);
	pthread_mutex_lock(&c->mu[set % STRIPES]);
	return &c->slot[set * WAYS];
}

static void
set_unlock(struct entcache *c, struct entcache_slot *set)
{
	pthread_mutex_unlock(&c->mu[(size_t)(set - c->slot) / WAYS % STRIPES]);
}

/* The slot of set holding id's entity, or NULL. */
static struct entcache_slot *
set_find(struct entcache_slot *set, const store_id *id)
{
	for (int w = 0; w < WAYS; w++)
		if (set[w].v && memcmp(set[w].id.b, id->b, 16) == 0) return &set[w];
	return NULL;
}

static void
set_touch(struct entcache_slot *set, struct entcache_slot *e)
{
	for (int w = 0; w < WAYS; w++) set[w].recent = &set[w] == e;
}

void
entcache_init(store *s)
{
	s->entcache = xcalloc(1, sizeof *s->entcache);
	for (int i = 0; i < STRIPES; i++) pthread_mutex_init(&s->entcache->mu[i], NULL);
}

void
entcache_destroy(store *s)
{
	struct entcache *c = s->entcache;
	if (!c) return;
	for (int i = 0; i < STRIPES; i++) pthread_mutex_destroy(&c->mu[i]);
	for (size_t i = 0; i < SLOTS; i++) {
		json_decref(c->slot[i].v);
		free(c->slot[i].bytes);
		free(c->slot[i].text);
	}
	free(c);
}

/* The object kept for id's bytes (a new reference), or NULL.  Built with
** UGSTORE_CHECK_SHARED (the sanitizer build), a taken object is compared
** with the bytes parsed afresh: a reader that changed one aborts the run. */
static json_t *
take(struct entcache *c, const store_id *id, const void *bytes, size_t n)
{
	struct entcache_slot *set = set_lock(c, id), *e = set_find(set, id);
	json_t *v = NULL;
	if (e && e->n == n && memcmp(e->bytes, bytes, n) == 0) {
		v = json_incref(e->v);
		set_touch(set, e);
	}
	set_unlock(c, set);
#ifdef UGSTORE_CHECK_SHARED
	json_t *fresh = NULL;
	if (v) (void)entity_parse(bytes, n, &fresh);
	if (v && !json_equal(v, fresh)) {
		fprintf(stderr, "ugstore: a shared entity was changed by a reader\n");
		abort();
	}
	json_decref(fresh);
#endif
	return v;
}

/* Keeps v in id's slot of its set if it has one, else in an empty slot,
** else in place of the one not taken last. */
static void
keep(struct entcache *c, const store_id *id, const void *bytes, size_t n, json_t *v)
{
	char *copy = xmalloc(n);
	memcpy(copy, bytes, n);
	struct entcache_slot *set = set_lock(c, id), *e = set_find(set, id);
	for (int w = 0; !e && w < WAYS; w++)
		if (!set[w].v) e = &set[w];
	for (int w = 0; !e && w < WAYS; w++)
		if (!set[w].recent) e = &set[w];
	if (!e) e = &set[0];
	if (!e->v) atomic_fetch_add(&c->used, 1);
	json_t *old = e->v;
	char *old_bytes = e->bytes, *old_text = e->text;
	e->id = *id;
	e->n = n;
	e->bytes = copy;
	e->v = json_incref(v);
	e->text = NULL;
	set_touch(set, e);
	set_unlock(c, set);
	json_decref(old);
	free(old_bytes);
	free(old_text);
}

store_rc
store_entity_read(store_txn *t, const store_app *app, const store_id *id, json_t **out)
{
	keybuf k;
	void *bytes;
	size_t n;
	store_rc rc;

	if (t->write) return store_entity_get(t, app, id, out);
	key_entity(&k, app, id);
	*out = NULL;
	if ((rc = kv_get(t, DBI_ENTITIES, &k, &bytes, &n))) return rc;
	if (n <= BYTES_MAX && (*out = take(t->s->entcache, id, bytes, n))) return STORE_OK;
	if ((rc = entity_parse(bytes, n, out))) return rc;
	if (n <= BYTES_MAX) keep(t->s->entcache, id, bytes, n, *out);
	return STORE_OK;
}

/* e's text, uncached, handed to put. */
static int
write_fresh(const json_t *e, json_dump_callback_t put, void *data)
{
	size_t n;
	char *text = entity_text(e, &n);
	int rc = text ? put(text, n, data) : -1;
	free(text);
	return rc;
}

/* A caller that holds a reference to e keeps it alive, so no other object
** can stand at its address: the slot holding e itself is the only match.
** A kept text is handed to put under its set's lock (put only copies). */
int
store_entity_write(store *s, const json_t *e, json_dump_callback_t put, void *data)
{
	struct entcache *c = s->entcache;
	const char *uuid = json_string_value(json_object_get(e, "uuid"));
	store_id id;
	int rc = 1;

	if (!c || !uuid || !store_id_parse((store_slice){ uuid, strlen(uuid) }, &id))
		return write_fresh(e, put, data);
	struct entcache_slot *set = set_lock(c, &id), *sl = set_find(set, &id);
	if (sl && sl->v == e && !sl->text) sl->text = entity_text(e, &sl->text_n);
	if (sl && sl->v == e && sl->text) rc = put(sl->text, sl->text_n, data);
	set_unlock(c, set);
	return rc == 1 ? write_fresh(e, put, data) : rc;
}

void
entcache_stats(store *s, uint64_t *entries, uint64_t *slots)
{
	*entries = s->entcache ? atomic_load(&s->entcache->used) : 0;
	*slots = SLOTS;
}
