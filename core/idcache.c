/*
** idcache.c: the organizations and applications requests name, kept
** decoded.  Every request names its org and app, and reading them is two
** record lookups and two JSON parses: on a write, a seventh of the
** writer's work.  Both change rarely, so a small table keeps what a lookup
** found (store_org_get, store_app_get), keyed by what the lookup was given.
**
** Validity: a write transaction that puts or deletes in `orgs` or `apps`
** marks itself (kv_put, kv_del), and before it commits it records its
** commit's id as the last that changed them.  An entry remembers the
** commit its finder's snapshot was of; an entry is good for a transaction
** when both that commit and the transaction's own snapshot are at or after
** the last change: then both see the same orgs and apps.  A transaction
** whose snapshot is older (it began before the last change committed) or
** that changed an org or app itself (or whose parent did) neither reads
** nor fills the table.  Only found names are kept.
*/
#include "core/store_int.h"
#include "core/mem.h"
#include "core/text.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS 64                       /* orgs and apps kept at most */
#define IDKEY_MAX (16 + STORE_NAME_MAX)

struct idcache_entry {
	uint64_t      snap;       /* the commit the finder's snapshot was of */
	int           used;
	char          kind;
	unsigned char n;
	unsigned char key[IDKEY_MAX];
	union {
		store_org org;
		store_app app;
	} v;
};

static size_t
slot_of(char kind, const unsigned char *key, size_t n)
{
	return (size_t)(text_hash(text_hash(TEXT_HASH_BASIS, &kind, 1, 0), key, n, 0) %
	                SLOTS);
}

/* 0 when the table is not for t: its snapshot is older than the last
** change, or t (or a parent) made a change. */
static int
may_use(const store_txn *t, uint64_t last)
{
	if (t->snap < last) return 0;
	for (; t; t = t->parent)
		if (t->ident_changed) return 0;
	return 1;
}

void
idcache_init(store *s)
{
	pthread_mutex_init(&s->idcache_mu, NULL);
	s->idcache = xcalloc(SLOTS, sizeof *s->idcache);
}

void
idcache_destroy(store *s)
{
	if (!s->idcache) return;
	pthread_mutex_destroy(&s->idcache_mu);
	free(s->idcache);
}

int
idcache_get(store_txn *t, char kind, const void *key, size_t n, void *out, size_t size)
{
	store *s = t->s;
	int hit = 0;
	uint64_t last = atomic_load(&s->ident_txnid);
	if (n > IDKEY_MAX || !may_use(t, last)) return 0;
	struct idcache_entry *e = &s->idcache[slot_of(kind, key, n)];
	pthread_mutex_lock(&s->idcache_mu);
	if (e->used && e->snap >= last && e->kind == kind && e->n == n &&
	    memcmp(e->key, key, n) == 0) {
		memcpy(out, &e->v, size);
		hit = 1;
	}
	pthread_mutex_unlock(&s->idcache_mu);
	return hit;
}

void
idcache_put(store_txn *t, char kind, const void *key, size_t n, const void *val, size_t size)
{
	store *s = t->s;
	if (n > IDKEY_MAX || size > sizeof ((struct idcache_entry *)0)->v ||
	    !may_use(t, atomic_load(&s->ident_txnid)))
		return;
	struct idcache_entry *e = &s->idcache[slot_of(kind, key, n)];
	pthread_mutex_lock(&s->idcache_mu);
	e->used = 1;
	e->snap = t->snap;
	e->kind = kind;
	e->n = (unsigned char)n;
	memcpy(e->key, key, n);
	memcpy(&e->v, val, size);
	pthread_mutex_unlock(&s->idcache_mu);
}
