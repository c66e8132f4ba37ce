/*
** check.c: `ugstore check`: every invariant the store relies on, checked
** key by key, and the repair of what derives from the entities and edges.
**
** One table lists the key families (keys.h), each with the checker of one
** key; a database the table does not know is named and left alone, so a
** family added later is checked once its checker joins the table.  What is
** checked:
**
**   organizations, applications  name keys and records point at each other;
**                                an application's organization exists
**   entities      a JSON object whose uuid is its key's, with a type, in its
**                 root collection; its unique values claimed by it; every
**                 index key and path flag of it present (index.c computes
**                 them, as it does when writing)
**   unique        a claim names a live entity of its type that holds the value
**   edges         each listing has its time recorded, both ends exist at the
**                 same time, both endpoints exist; counts equal the listings
**   edge_at       each recorded time has its listing
**   counts        a count has edges behind it (never kept for 'm')
**   index         no entry that its entity does not have: per application the
**                 entries are counted, and only when there are more than the
**                 entities account for is each one looked at
**   secrets       a salted hash ('$...') of a live entity; a client
**                 secret's generation (8 bytes) under an org's or app's uuid
**   dicts         an entry of a live entity
**   meta          the format; path flags of known applications; the auth key
**   tokens        each key the shape auth.c writes, a record of a known kind
**   feeds         a shared post's activity exists and its reverse names it;
**                 each reverse has its post; a membership interval belongs
**                 to a live user and ends after it begins; a deleted group
**                 has no open interval, and each of its shared posts is in
**                 one of its (closed) intervals, so in a member's feed;
**                 each member of a group has an open interval
**
** A fault with a derivable fix records it; with repair the fixes are
** applied after the pass, in its write transaction, and the store is
** checked again (a fix can uncover another: an edge restored changes a
** count), up to MAX_ROUNDS passes.
*/
#include "core/store_int.h"
#include "core/auth.h"
#include "core/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_FIXES  100000   /* fixes kept per pass; the next pass finds the rest */
#define MAX_ROUNDS 8        /* passes of a repair */
#define MAX_SAID   1000     /* fault lines said per pass */

typedef enum { FIX_PUT, FIX_DEL, FIX_REINDEX, FIX_ROOT } fix_op;

typedef struct {
	fix_op          op;
	int             dbi;          /* PUT, DEL */
	keybuf          k;
	unsigned char   v[24];
	size_t          vn;
	const store_app *app;         /* REINDEX, ROOT */
	store_id        id;
	char           *what;         /* the fault it repairs */
} fix;

typedef struct {
	store_app app;
	uint64_t  ix_expected, ix_missing, ix_actual;
	int       ix_recheck;         /* look at each of its index entries */
} app_state;

/* The entity an index entry names, read once for a run of its entries. */
typedef struct {
	store_id id;
	json_t  *e;
	store_rc rc;
	uint64_t time;
	ix_sel   sel;                 /* its collection's index selection */
} ix_cache;

/* A membership interval of a group that does not exist (deleted). */
typedef struct {
	store_id group;
	uint64_t join, leave;
} gone_span;

typedef struct checker {
	store_txn        *t;
	const store_sink *out;
	app_state        *apps;
	size_t            napps;
	fix              *fixes;
	size_t            nfix, capfix;
	uint64_t          keys, faults, said;
	char              msg[640];   /* the last fault */
	/* the edge group (app, owner, kind, name) being counted */
	keybuf            group;
	int               group_kind;
	uint64_t          group_n;
	uint64_t          unknown[DBI_COUNT];   /* keys of kinds not known here */
	/* the owner of the last collection edges, and its type's members
	** collection (a group's users), or NULL */
	store_id          members_owner;
	int               members_owner_set;
	const char       *members_of;
	/* the application whose index entries are looked at one by one */
	app_state        *ix_app;
	/* the membership intervals of deleted groups in the application whose
	** feeds are looked at ('i' keys come before 's' keys): sorted and
	** merged per group when its shared posts are looked at */
	store_id          gone_app;
	gone_span        *gone;
	size_t            ngone, capgone;
	int               gone_merged;
	ix_cache          ix;
} checker;

typedef void key_fn(checker *c, const MDB_val *k, const MDB_val *v);

/* ---- reporting and fixes ------------------------------------------------- */

static void
fault(checker *c, const char *family, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
fault(checker *c, const char *family, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->msg, sizeof c->msg, "%s: ", family);
	va_start(ap, fmt);
	vsnprintf(c->msg + n, sizeof c->msg - (size_t)n, fmt, ap);
	va_end(ap);
	if (c->said++ < MAX_SAID) store_say(c->out, "fault: %s", c->msg);
	c->faults++;
}

/* A fix of the last fault; NULL when the pass holds enough already. */
static fix *
fix_new(checker *c, fix_op op)
{
	if (c->nfix == MAX_FIXES) return NULL;
	if (c->nfix == c->capfix) {
		c->capfix = c->capfix ? 2 * c->capfix : 64;
		c->fixes = xrealloc(c->fixes, c->capfix * sizeof *c->fixes);
	}
	fix *f = &c->fixes[c->nfix++];
	memset(f, 0, sizeof *f);
	f->op = op;
	f->what = xstrdup(c->msg);
	return f;
}

static void
fix_put(checker *c, int dbi, const keybuf *k, const void *v, size_t vn)
{
	fix *f = fix_new(c, FIX_PUT);
	if (!f) return;
	f->dbi = dbi;
	f->k = *k;
	memcpy(f->v, v, vn);
	f->vn = vn;
}

static void
fix_del(checker *c, int dbi, const void *k, size_t n)
{
	fix *f = fix_new(c, FIX_DEL);
	if (!f) return;
	f->dbi = dbi;
	key_raw(&f->k, k, n);
}

static void
fix_entity(checker *c, fix_op op, const store_app *app, const store_id *id)
{
	fix *f = fix_new(c, op);
	if (!f) return;
	f->app = app;
	f->id = *id;
}

/* Re-indexes an entity (ROOT: after putting it back in its collection),
** with index.c's own writer: keys already there stay. */
static store_rc
fix_index(store_txn *t, const fix *f)
{
	json_t *e = NULL;
	uint64_t time;
	char coll[STORE_NAME_MAX + 1];
	store_rc rc = store_entity_get(t, f->app, &f->id, &e);
	if (rc) return rc;
	if (f->op == FIX_ROOT) {
		store_collection_of(json_string_value(json_object_get(e, "type")), coll);
		time = store_next_time(t->s);
		rc = edge_put_at(t, f->app, &f->app->uuid, STORE_EDGE_COLLECTION, coll, &f->id, time,
		                 NULL);
	} else {
		rc = entity_time(t, f->app, e, &f->id, &time);
	}
	if (rc == STORE_OK) rc = index_update(t, f->app, &f->id, NULL, e, 0, time);
	json_decref(e);
	return rc;
}

static store_rc
fix_apply(store_txn *t, const fix *f)
{
	switch (f->op) {
	case FIX_PUT: return kv_put(t, f->dbi, &f->k, f->v, f->vn);
	case FIX_DEL: return kv_del(t, f->dbi, &f->k);
	default:      return fix_index(t, f);
	}
}

/* ---- helpers ----------------------------------------------------------------- */

/* key bytes as text: printable ASCII as is, the rest \xNN, cut at 120. */
static const char *
text(char buf[512], const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t j = 0;
	for (size_t i = 0; i < n && j < 500; i++) {
		if (i == 120) {
			j += (size_t)snprintf(buf + j, 512 - j, "...");
			break;
		}
		if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\') buf[j++] = (char)b[i];
		else j += (size_t)snprintf(buf + j, 512 - j, "\\x%02x", b[i]);
	}
	buf[j] = '\0';
	return buf;
}

static const char *
uuid_text(char buf[37], const void *b)
{
	store_id id;
	memcpy(id.b, b, 16);
	store_id_format(&id, buf);
	return buf;
}

static int
same_key(const MDB_val *k, const keybuf *b)
{
	return !b->overflow && k->mv_size == b->n && memcmp(k->mv_data, b->b, b->n) == 0;
}

static int
cmp_app(const void *a, const void *b)
{
	return memcmp(((const app_state *)a)->app.uuid.b, ((const app_state *)b)->app.uuid.b, 16);
}

/* The application a key starts with, or NULL (with a fault said). */
static app_state *
app_of(checker *c, const char *family, const MDB_val *k)
{
	app_state probe;
	char id[37];
	if (k->mv_size < 16) {
		fault(c, family, "a key of %zu bytes", k->mv_size);
		return NULL;
	}
	memcpy(probe.app.uuid.b, k->mv_data, 16);
	app_state *a = bsearch(&probe, c->apps, c->napps, sizeof *c->apps, cmp_app);
	if (!a) fault(c, family, "a key of no application (%s)", uuid_text(id, k->mv_data));
	return a;
}

/* The entity id of app (new), or NULL: *rc says whether it is missing or
** unreadable. */
static json_t *
entity_of(checker *c, const store_app *app, const store_id *id, store_rc *rc)
{
	json_t *e = NULL;
	*rc = store_entity_get(c->t, app, id, &e);
	return e;
}

static int
entity_exists(checker *c, const store_app *app, const store_id *id)
{
	keybuf k;
	key_entity(&k, app, id);
	return kv_get(c->t, DBI_ENTITIES, &k, NULL, NULL) == STORE_OK;
}

/* 1 when id can end an edge of app: one of its entities, the application
** itself (root collections), or in the admins' space an organization. */
static int
endpoint_ok(checker *c, const store_app *app, const store_id *id)
{
	keybuf k;
	if (memcmp(id->b, app->uuid.b, 16) == 0 || entity_exists(c, app, id)) return 1;
	if (memcmp(app->uuid.b, store_mgmt_app->uuid.b, 16) != 0) return 0;
	key_rec(&k, id);
	return kv_get(c->t, DBI_ORGS, &k, NULL, NULL) == STORE_OK;
}

/* 1 when some key of dbi starts with prefix (or it cannot be told). */
static int
prefix_exists(checker *c, int dbi, const keybuf *prefix)
{
	kv_scan sc;
	if (kv_scan_begin(&sc, c->t, dbi, prefix, NULL, 0)) return 1;
	int found = kv_scan_next(&sc);
	kv_scan_end(&sc, STORE_OK);
	return found;
}

/* Calls fn on every key of dbi that starts with prefix (NULL: every key). */
static store_rc
scan(checker *c, int dbi, const keybuf *prefix, key_fn *fn)
{
	kv_scan sc;
	keybuf all;
	key_init(&all);
	store_rc rc = kv_scan_begin(&sc, c->t, dbi, prefix ? prefix : &all, NULL, 0);
	if (rc) return rc;
	while (kv_scan_next(&sc)) {
		c->keys++;
		fn(c, &sc.k, &sc.v);
	}
	return kv_scan_end(&sc, STORE_OK);
}

/* ---- organizations and applications ---------------------------------------- */

/* The name key a record should have; STORE_CORRUPT when unreadable. */
typedef store_rc name_key_fn(checker *c, const store_id *id, keybuf *name_key);

static store_rc
org_name_key(checker *c, const store_id *id, keybuf *k)
{
	char text_id[37];
	store_org org;
	store_id_format(id, text_id);
	store_rc rc = store_org_get(c->t, (store_slice){ text_id, 36 }, &org);
	if (rc == STORE_OK) key_org_name(k, (store_slice){ org.name, strlen(org.name) });
	return rc;
}

static store_rc
app_name_key(checker *c, const store_id *id, keybuf *k)
{
	char text_id[37];
	store_app app;
	store_id_format(id, text_id);
	store_rc rc = store_app_get(c->t, NULL, (store_slice){ text_id, 36 }, &app);
	if (rc == STORE_OK) key_app_name(k, &app.org, (store_slice){ app.name, strlen(app.name) });
	return rc;
}

/* orgs and apps: 'n' name keys and 'u' records point at each other. */
static void
check_named(checker *c, int dbi, const char *family, name_key_fn *name_key,
            const MDB_val *k, const MDB_val *v)
{
	const unsigned char *b = k->mv_data;
	char t1[512], id[37];
	store_id rid;
	keybuf nk;

	if (k->mv_size == 17 && b[0] == 'u') {       /* a record */
		memcpy(rid.b, b + 1, 16);
		store_rc rc = name_key(c, &rid, &nk);
		void *have;
		size_t hn;
		if (rc) {
			fault(c, family, "the record of %s is unreadable", uuid_text(id, b + 1));
		} else if ((rc = kv_get(c->t, dbi, &nk, &have, &hn)) == STORE_NOTFOUND) {
			fault(c, family, "%s is not found by its name", uuid_text(id, b + 1));
			fix_put(c, dbi, &nk, rid.b, 16);
		} else if (rc || hn != 16 || memcmp(have, rid.b, 16) != 0) {
			/* two records of one name: which keeps it is not derivable */
			fault(c, family, "%s has a name another record holds", uuid_text(id, b + 1));
		}
	} else if (k->mv_size > 1 && b[0] == 'n') {   /* a name */
		if (v->mv_size == 16) memcpy(rid.b, v->mv_data, 16);
		if (v->mv_size != 16 || name_key(c, &rid, &nk) != STORE_OK || !same_key(k, &nk)) {
			fault(c, family, "the name %s names no record that has it",
			      text(t1, b + 1, k->mv_size - 1));
			fix_del(c, dbi, k->mv_data, k->mv_size);
		}
	} else {
		c->unknown[dbi]++;       /* a kind of key added later: not checked */
	}
}

static void
check_org(checker *c, const MDB_val *k, const MDB_val *v)
{
	check_named(c, DBI_ORGS, "organizations", org_name_key, k, v);
}

static void
check_app(checker *c, const MDB_val *k, const MDB_val *v)
{
	app_state *a;
	keybuf ok;
	check_named(c, DBI_APPS, "applications", app_name_key, k, v);
	MDB_val id = { 16, (char *)k->mv_data + 1 };
	if (k->mv_size != 17 || ((const char *)k->mv_data)[0] != 'u' ||
	    !(a = app_of(c, "applications", &id)))
		return;
	key_rec(&ok, &a->app.org);
	if (a->app.name[0] && kv_get(c->t, DBI_ORGS, &ok, NULL, NULL) == STORE_NOTFOUND)
		fault(c, "applications", "%s/%s: its organization is missing", a->app.org_name,
		      a->app.name);
}

/* ---- entities ------------------------------------------------------------------ */

/* The root-collection edge time of entity id of type, from either end;
** STORE_NOTFOUND when neither exists. */
static store_rc
root_time(checker *c, const store_app *app, const char *type, const store_id *id,
          uint64_t *time)
{
	char coll[STORE_NAME_MAX + 1];
	store_collection_of(type, coll);
	store_rc rc = edge_time_of(c->t, app, &app->uuid, STORE_EDGE_COLLECTION, coll, id, time);
	if (rc == STORE_NOTFOUND)     /* the edges' check restores the other end */
		rc = edge_time_of(c->t, app, id, STORE_EDGE_MEMBER_OF, coll, &app->uuid, time);
	return rc;
}

/* The schema's unique properties and the collection's settings' ones. */
static void
check_unique_claims(checker *c, const store_app *app, json_t *e, const char *type,
                    const store_id *id, const char *ids)
{
	const store_type_info *ti = store_type_info_of(type);
	const char *names[4 + 64];
	json_t *rec = NULL;
	size_t n = 0, more = 0;
	while (n < 4 && ti->unique[n]) names[n] = ti->unique[n], n++;
	if (settings_unique(c->t, app, type, &rec, names + n, 64, &more) == STORE_OK) n += more;
	for (size_t i = 0; i < n; i++) {
		char *val = unique_text(e, names[i]);
		keybuf k;
		void *have;
		size_t hn;
		char other[37];
		if (!val) continue;
		key_unique(&k, app, type, names[i], val);
		store_rc rc = kv_get(c->t, DBI_UNIQUE, &k, &have, &hn);
		if (rc == STORE_NOTFOUND) {
			fault(c, "unique", "%s %s: its %s \"%.100s\" is not claimed", type, ids,
			      names[i], val);
			fix_put(c, DBI_UNIQUE, &k, id->b, 16);
		} else if (rc == STORE_OK && (hn != 16 || memcmp(have, id->b, 16) != 0)) {
			fault(c, "unique", "%s %s: its %s \"%.100s\" is claimed by %s", type, ids,
			      names[i], val, hn == 16 ? uuid_text(other, have) : "a malformed value");
		}
		free(val);
	}
	json_decref(rec);
}

static void
check_entity(checker *c, const MDB_val *k, const MDB_val *v)
{
	app_state *a = app_of(c, "entities", k);
	json_t *e = NULL;
	store_id id;
	char ids[37];
	uint64_t time;

	if (!a) return;
	if (k->mv_size != 32) {
		fault(c, "entities", "a key of %zu bytes", k->mv_size);
		return;
	}
	memcpy(id.b, (const unsigned char *)k->mv_data + 16, 16);
	store_id_format(&id, ids);
	e = json_loadb(v->mv_data, v->mv_size, 0, NULL);
	const char *uuid = json_string_value(json_object_get(e, "uuid"));
	const char *type = json_string_value(json_object_get(e, "type"));
	if (!json_is_object(e) || !uuid || strcmp(uuid, ids) != 0 || !type || !*type ||
	    strlen(type) > STORE_NAME_MAX) {
		fault(c, "entities", "%s is not an entity object with its uuid and a type", ids);
		goto done;
	}
	check_unique_claims(c, &a->app, e, type, &id, ids);
	store_rc rc = root_time(c, &a->app, type, &id, &time);
	if (rc == STORE_NOTFOUND) {
		fault(c, "entities", "%s %s is in no collection", type, ids);
		fix_entity(c, FIX_ROOT, &a->app, &id);
		a->ix_recheck = 1;        /* its index entries, if any, are at no time */
		goto done;
	}
	size_t expected = 0, missing = 0, flags = 0;
	if (rc == STORE_OK)
		rc = index_verify(c->t, &a->app, e, &id, time, &expected, &missing, &flags);
	if (rc) {
		fault(c, "entities", "%s %s: %s", type, ids, store_strerror(rc));
		goto done;
	}
	a->ix_expected += expected;
	a->ix_missing += missing;
	if (missing || flags) {
		char more[64] = "";
		if (flags) snprintf(more, sizeof more, " and %zu path flags", flags);
		fault(c, "index", "%s %s lacks %zu of its %zu entries%s", type, ids, missing, expected,
		      more);
		fix_entity(c, FIX_REINDEX, &a->app, &id);
	}
done:
	json_decref(e);
}

/* ---- unique values --------------------------------------------------------------- */

static void
check_unique(checker *c, const MDB_val *k, const MDB_val *v)
{
	app_state *a = app_of(c, "unique", k);
	const char *b = k->mv_data, *end = b + k->mv_size;
	char t1[512], ids[37];
	store_id id;
	store_rc rc;

	if (!a) return;
	const char *type = b + 16, *z1 = memchr(type, 0, (size_t)(end - type));
	const char *prop = z1 ? z1 + 1 : NULL, *z2 = prop ? memchr(prop, 0, (size_t)(end - prop)) : NULL;
	if (!z2 || v->mv_size != 16) {
		fault(c, "unique", "a malformed claim %s", text(t1, b, k->mv_size));
		fix_del(c, DBI_UNIQUE, b, k->mv_size);
		return;
	}
	memcpy(id.b, v->mv_data, 16);
	uuid_text(ids, id.b);
	json_t *e = entity_of(c, &a->app, &id, &rc);
	const char *etype = json_string_value(json_object_get(e, "type"));
	/* a collection's settings claim numbers and booleans as JSON text, and
	** the holder of a `single` value under '.' and its name (settings.c) */
	json_t *pv = json_get_ci(e, prop[0] == '.' ? prop + 1 : prop, NULL);
	char *dumped = json_is_number(pv) || json_is_boolean(pv)
	               ? json_dumps(pv, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	const char *val = prop[0] == '.' ? (pv ? "" : NULL)
	                  : dumped ? dumped : json_string_value(pv);
	keybuf want;
	if (val && etype && strcmp(etype, type) == 0) key_unique(&want, &a->app, type, prop, val);
	free(dumped);
	if (rc == STORE_NOTFOUND) {
		fault(c, "unique", "%s %s \"%s\" is claimed by %s, which does not exist", type, prop,
		      text(t1, z2 + 1, (size_t)(end - z2 - 1)), ids);
		fix_del(c, DBI_UNIQUE, b, k->mv_size);
	} else if (rc == STORE_OK && (!val || !etype || strcmp(etype, type) != 0 ||
	                              !same_key(k, &want))) {
		fault(c, "unique", "%s %s \"%s\" is claimed by %s, which does not hold it", type, prop,
		      text(t1, z2 + 1, (size_t)(end - z2 - 1)), ids);
		fix_del(c, DBI_UNIQUE, b, k->mv_size);
	}
	json_decref(e);
}

/* ---- edges, edge times, counts ----------------------------------------------------- */

static const char *
edge_text(char buf[256], const edge_key *e)
{
	char o[37], t[37];
	snprintf(buf, 256, "%s -%c %s-> %s", uuid_text(o, e->owner.b), e->kind, e->name,
	         uuid_text(t, e->target.b));
	return buf;
}

/* A count key (app, owner, kind, name) as text. */
static const char *
group_text(char buf[256], const unsigned char *b, size_t n)
{
	char o[37];
	snprintf(buf, 256, "%s -%c %.*s", uuid_text(o, b + 16), b[32], (int)(n - 33), b + 33);
	return buf;
}

/* Puts one end of an edge: its listing and its time. */
static void
fix_end(checker *c, const store_app *app, const store_id *owner, store_edge_kind kind,
        const char *name, uint64_t time, const store_id *target)
{
	keybuf k, at;
	key_edge(&k, app, owner, kind, name, time, target);
	fix_put(c, DBI_EDGES, &k, "", 0);
	key_edge_at(&at, app, owner, kind, name, target);
	val_u64(&k, time);
	fix_put(c, DBI_EDGE_AT, &at, k.b, 8);
}

/* Ends the edge group being counted: its count must equal its listings. */
static void
group_end(checker *c)
{
	void *v;
	size_t n;
	uint64_t have = 0;
	char t1[512];

	if (!c->group.n || c->group_kind == STORE_EDGE_MEMBER_OF) goto done;
	if (kv_get(c->t, DBI_COUNTS, &c->group, &v, &n) == STORE_OK && n == 8) have = key_get_u64(v);
	if (have != c->group_n) {
		keybuf val;
		fault(c, "counts", "%s counts %llu edges, has %llu", group_text(t1, c->group.b, c->group.n),
		      (unsigned long long)have, (unsigned long long)c->group_n);
		val_u64(&val, c->group_n);
		fix_put(c, DBI_COUNTS, &c->group, val.b, 8);
	}
done:
	c->group.n = 0;
	c->group_n = 0;
}

/* The edge's time must be the one edge_at records for it.  Returns 0 when
** the edge was dropped. */
static int
edge_time_ok(checker *c, const store_app *app, const MDB_val *k, const edge_key *e,
             const char *et)
{
	keybuf at;
	void *tv;
	size_t tn;
	key_edge_at(&at, app, &e->owner, e->kind, e->name, &e->target);
	store_rc rc = kv_get(c->t, DBI_EDGE_AT, &at, &tv, &tn);
	if (rc == STORE_NOTFOUND || (rc == STORE_OK && tn != 8)) {
		fault(c, "edges", "%s: its time is not recorded", et);
		keybuf val;
		val_u64(&val, e->time);
		fix_put(c, DBI_EDGE_AT, &at, val.b, 8);
	} else if (rc == STORE_OK && key_get_u64(tv) != e->time) {
		fault(c, "edges", "%s is listed at a time its end does not record", et);
		fix_del(c, DBI_EDGES, k->mv_data, k->mv_size);
		return 0;
	}
	return 1;
}

/* The other end of the edge; the owner's side of a collection or
** connection leads. */
static void
edge_other_end(checker *c, const store_app *app, const edge_key *e, const char *et)
{
	uint64_t rtime;
	store_edge_kind rk = edge_reverse_kind(e->kind);
	int leads = e->kind == STORE_EDGE_COLLECTION || e->kind == STORE_EDGE_OUT;
	store_rc rc = edge_time_of(c->t, app, &e->target, rk, e->name, &e->owner, &rtime);
	if (rc == STORE_NOTFOUND) {
		fault(c, "edges", "%s has no %s end", et, leads ? "reverse" : "forward");
		fix_end(c, app, &e->target, rk, e->name, e->time, &e->owner);
	} else if (rc == STORE_OK && rtime != e->time && leads) {
		keybuf old;
		fault(c, "edges", "%s: its ends disagree on its time", et);
		key_edge(&old, app, &e->target, rk, e->name, rtime, &e->owner);
		fix_del(c, DBI_EDGES, old.b, old.n);
		fix_end(c, app, &e->target, rk, e->name, e->time, &e->owner);
	}
}

/* A member of a group (its type's members collection) has an open
** membership interval (feed.c): shared posts reach it through that.  The
** repair opens one at the edge's time. */
static void
check_member_interval(checker *c, const store_app *app, const edge_key *e)
{
	char et[256];
	if (e->kind != STORE_EDGE_COLLECTION || memcmp(e->owner.b, app->uuid.b, 16) == 0)
		return;
	if (!c->members_owner_set || memcmp(c->members_owner.b, e->owner.b, 16) != 0) {
		store_rc rc;
		json_t *g = entity_of(c, app, &e->owner, &rc);
		const char *type = json_string_value(json_object_get(g, "type"));
		c->members_owner = e->owner;
		c->members_owner_set = 1;
		c->members_of = type ? store_type_info_of(type)->members : NULL;
		json_decref(g);
	}
	if (!c->members_of || strcmp(e->name, c->members_of) != 0 ||
	    feed_member_open(c->t, app, &e->target, &e->owner) != STORE_NOTFOUND)
		return;
	fault(c, "feeds", "%s has no open membership interval", edge_text(et, e));
	keybuf k, v;
	key_feed_span(&k, app, &e->target, &e->owner, e->time);
	val_u64(&v, UINT64_MAX);
	fix_put(c, DBI_FEEDS, &k, v.b, 8);
}

static void
check_edge(checker *c, const MDB_val *k, const MDB_val *v)
{
	app_state *a = app_of(c, "edges", k);
	edge_key e;
	keybuf at, g;
	char t1[512], et[256];

	(void)v;
	if (!a) return;
	if (!edge_key_parse(k->mv_data, k->mv_size, 24, &e)) {
		fault(c, "edges", "a malformed key %s", text(t1, k->mv_data, k->mv_size));
		return;
	}
	const store_app *app = &a->app;
	key_count(&g, app, &e.owner, e.kind, e.name);
	if (g.n != c->group.n || memcmp(g.b, c->group.b, g.n) != 0) {
		group_end(c);
		c->group = g;
		c->group_kind = e.kind;
	}
	c->group_n++;
	edge_text(et, &e);
	if (!endpoint_ok(c, app, &e.owner) || !endpoint_ok(c, app, &e.target)) {
		fault(c, "edges", "%s joins a missing entity", et);
		key_edge_at(&at, app, &e.owner, e.kind, e.name, &e.target);
		fix_del(c, DBI_EDGES, k->mv_data, k->mv_size);
		fix_del(c, DBI_EDGE_AT, at.b, at.n);
		return;
	}
	if (!edge_time_ok(c, app, k, &e, et)) return;
	edge_other_end(c, app, &e, et);
	check_member_interval(c, app, &e);
}

static void
check_edge_at(checker *c, const MDB_val *k, const MDB_val *v)
{
	app_state *a = app_of(c, "edge_at", k);
	edge_key e;
	keybuf lk;
	char t1[512], et[256];

	if (!a) return;
	if (!edge_key_parse(k->mv_data, k->mv_size, 16, &e) || v->mv_size != 8) {
		fault(c, "edge_at", "a malformed key %s", text(t1, k->mv_data, k->mv_size));
		fix_del(c, DBI_EDGE_AT, k->mv_data, k->mv_size);
		return;
	}
	e.time = key_get_u64(v->mv_data);
	key_edge(&lk, &a->app, &e.owner, e.kind, e.name, e.time, &e.target);
	if (kv_get(c->t, DBI_EDGES, &lk, NULL, NULL) == STORE_NOTFOUND) {
		fault(c, "edge_at", "%s is not listed at its time", edge_text(et, &e));
		fix_put(c, DBI_EDGES, &lk, "", 0);
	}
}

/* 1 when a fix of this pass puts a key of dbi that starts with prefix (an
** edge end restored: its count is not to go). */
static int
fixes_put(checker *c, int dbi, const keybuf *prefix)
{
	for (size_t i = 0; i < c->nfix; i++) {
		const fix *f = &c->fixes[i];
		if (f->op == FIX_PUT && f->dbi == dbi && f->k.n >= prefix->n &&
		    memcmp(f->k.b, prefix->b, prefix->n) == 0)
			return 1;
	}
	return 0;
}

static void
check_count(checker *c, const MDB_val *k, const MDB_val *v)
{
	app_state *a = app_of(c, "counts", k);
	const unsigned char *b = k->mv_data;
	char t1[512];
	keybuf head;

	if (!a) return;
	size_t name_n = k->mv_size >= 33 ? k->mv_size - 33 : 0;
	if (k->mv_size < 34 || !edge_valid_kind(b[32]) || b[32] == STORE_EDGE_MEMBER_OF ||
	    name_n > STORE_NAME_MAX || memchr(b + 33, 0, name_n) || v->mv_size != 8) {
		fault(c, "counts", "a malformed count %s", text(t1, b, k->mv_size));
		fix_del(c, DBI_COUNTS, b, k->mv_size);
		return;
	}
	key_count_edges(&head, b, k->mv_size);
	if (!prefix_exists(c, DBI_EDGES, &head) && !fixes_put(c, DBI_EDGES, &head)) {
		fault(c, "counts", "%s counts %llu edges, has none", group_text(t1, b, k->mv_size),
		      (unsigned long long)key_get_u64(v->mv_data));
		fix_del(c, DBI_COUNTS, b, k->mv_size);
	}
}

/* ---- index ----------------------------------------------------------------------------- */

static void
count_index(checker *c, const MDB_val *k, const MDB_val *v)
{
	app_state *a = app_of(c, "index", k);
	(void)v;
	if (a) a->ix_actual++;
}

/* An index entry (after its app) as text: type, path, tag, and a string's
** value. */
static const char *
ix_text(char buf[512], const unsigned char *b, size_t n)
{
	static const char *const tags[] = { "double", "long", "string", "boolean", "word", "location" };
	const unsigned char *end = b + n - 24, *z1 = memchr(b, 0, (size_t)(end - b));
	const unsigned char *z2 = z1 ? memchr(z1 + 1, 0, (size_t)(end - z1 - 1)) : NULL;
	unsigned tag = z2 && z2 + 1 < end ? z2[1] >> 4 : 0;
	char value[200];
	if (!z2 || tag < 1 || tag > 6) return text(buf, b, (size_t)(end - b));
	if (tag == 3 || tag == 5)
		snprintf(value, sizeof value, " \"%.150s\"", text(buf, z2 + 2, (size_t)(end - z2 - 3)));
	else
		value[0] = '\0';
	int path_n = (int)(z2 - z1 - 1) < 150 ? (int)(z2 - z1 - 1) : 150;
	snprintf(buf, 512, "%.100s %.*s %s%s", (const char *)b, path_n, (const char *)z1 + 1,
	         tags[tag - 1], value);
	return buf;
}

static void
check_index_entry(checker *c, const MDB_val *k, const MDB_val *v)
{
	const unsigned char *b = k->mv_data;
	char t1[512], ids[37];
	(void)v;
	if (k->mv_size < 16 + 2 + 24) {
		fault(c, "index", "a malformed entry %s", text(t1, b, k->mv_size));
		fix_del(c, DBI_INDEX, b, k->mv_size);
		return;
	}
	ix_cache *ix_one = &c->ix;
	app_state *ix_app = c->ix_app;
	store_id id;
	memcpy(id.b, b + k->mv_size - 16, 16);
	if (memcmp(id.b, ix_one->id.b, 16) != 0 || !ix_one->e) {
		json_decref(ix_one->e);
		ix_sel_clear(&ix_one->sel);
		ix_one->id = id;
		ix_one->e = entity_of(c, &ix_app->app, &id, &ix_one->rc);
		const char *type = json_string_value(json_object_get(ix_one->e, "type"));
		if (ix_one->rc == STORE_OK && type &&
		    (root_time(c, &ix_app->app, type, &id, &ix_one->time) != STORE_OK ||
		     ix_sel_load(c->t, &ix_app->app, type, &ix_one->sel) != STORE_OK))
			ix_one->rc = STORE_CORRUPT;   /* said with the entity */
	}
	uuid_text(ids, id.b);
	if (ix_one->rc == STORE_NOTFOUND) {
		fault(c, "index", "an entry of %s, which does not exist: %s", ids,
		      ix_text(t1, b + 16, k->mv_size - 16));
		fix_del(c, DBI_INDEX, b, k->mv_size);
	} else if (ix_one->rc == STORE_OK &&
	           !index_has_key(&ix_one->sel.present, &ix_app->app, ix_one->e, &id, ix_one->time,
	                          b, k->mv_size)) {
		fault(c, "index", "an entry of %s that it does not have: %s", ids,
		      ix_text(t1, b + 16, k->mv_size - 16));
		fix_del(c, DBI_INDEX, b, k->mv_size);
	}
}

/* Looks at every index entry of the applications whose entries the
** entities do not account for. */
static store_rc
check_index(checker *c)
{
	store_rc rc = STORE_OK;
	for (size_t i = 0; i < c->napps && rc == STORE_OK; i++) {
		app_state *a = &c->apps[i];
		if (!a->ix_recheck && a->ix_actual == a->ix_expected - a->ix_missing) continue;
		keybuf prefix;
		key_app_keys(&prefix, -1, &a->app.uuid);
		memset(&c->ix, 0, sizeof c->ix);
		c->ix_app = a;
		rc = scan(c, DBI_INDEX, &prefix, check_index_entry);
		json_decref(c->ix.e);
		ix_sel_clear(&c->ix.sel);
		c->ix.e = NULL;
	}
	return rc;
}

/* ---- credentials, dictionaries, settings ---------------------------------------------- */

/* The entity (app, uuid) a secrets or dicts key starts with must exist. */
static int
owner_exists(checker *c, const char *family, int dbi, app_state *a, const MDB_val *k)
{
	store_id id;
	char ids[37];
	memcpy(id.b, (const unsigned char *)k->mv_data + 16, 16);
	if (entity_exists(c, &a->app, &id)) return 1;
	fault(c, family, "an entry of %s, which does not exist", uuid_text(ids, id.b));
	fix_del(c, dbi, k->mv_data, k->mv_size);
	return 0;
}

static int
printable(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f) return 0;
	return 1;
}

static void
check_secret(checker *c, const MDB_val *k, const MDB_val *v)
{
	const unsigned char *b = k->mv_data, *h = v->mv_data;
	char t1[512], ids[37];
	if (k->mv_size == 38 && memcmp(b + 32, "client", 6) == 0 && memcmp(b, b + 16, 16) == 0) {
		if (v->mv_size != 8)
			fault(c, "secrets", "a client secret generation of %s is not 8 bytes",
			      uuid_text(ids, b));
		return;
	}
	if (k->mv_size <= 32 || !secret_kind_known((const char *)b + 32, k->mv_size - 32)) {
		c->unknown[DBI_SECRETS]++;     /* a credential of a kind added later */
		return;
	}
	app_state *a = app_of(c, "secrets", k);
	if (!a || !owner_exists(c, "secrets", DBI_SECRETS, a, k)) return;
	if (v->mv_size < 4 || h[0] != '$' || !printable(h, v->mv_size))
		fault(c, "secrets", "the %s of %s is not a salted hash",
		      text(t1, b + 32, k->mv_size - 32), uuid_text(ids, b + 16));
}

static void
check_dict(checker *c, const MDB_val *k, const MDB_val *v)
{
	app_state *a = app_of(c, "dicts", k);
	const unsigned char *b = k->mv_data;
	char t1[512];
	if (!a) return;
	const unsigned char *z = k->mv_size > 33 ? memchr(b + 32, 0, k->mv_size - 32) : NULL;
	if (!z || z == b + 32 || !printable(b + 32, (size_t)(z - b - 32)) || v->mv_size != 0 ||
	    memchr(z + 1, 0, k->mv_size - (size_t)(z + 1 - b))) {
		fault(c, "dicts", "a malformed entry %s", text(t1, b, k->mv_size));
		return;
	}
	owner_exists(c, "dicts", DBI_DICTS, a, k);
}

/* An entity's binary data: its entity exists (else the data is an orphan,
** deleted by a repair) and describes it (file-metadata). */
static void
check_asset(checker *c, const MDB_val *k, const MDB_val *v)
{
	app_state *a = app_of(c, "assets", k);
	char ids[37];
	json_t *e = NULL;
	store_id id;
	if (!a) return;
	if (k->mv_size != 32) {
		c->unknown[DBI_ASSETS]++;
		return;
	}
	if (!owner_exists(c, "assets", DBI_ASSETS, a, k)) return;
	memcpy(id.b, (const unsigned char *)k->mv_data + 16, 16);
	if (store_entity_get(c->t, &a->app, &id, &e) != STORE_OK) return;  /* the entity's fault */
	json_t *len = json_object_get(json_object_get(e, "file-metadata"), "content-length");
	if (!json_is_integer(len) || (uint64_t)json_integer_value(len) != v->mv_size)
		fault(c, "assets", "the %zu bytes of %s are not what its file-metadata describes",
		      v->mv_size, uuid_text(ids, id.b));
	json_decref(e);
}

/* Counter names and buckets are well-formed (counter.c's own reader). */
static void
check_counter(checker *c, const MDB_val *k, const MDB_val *v)
{
	json_t *rec;
	if (!app_of(c, "counters", k)) return;
	if ((rec = counter_record(k->mv_data, k->mv_size, v->mv_data, v->mv_size))) json_decref(rec);
	else c->unknown[DBI_COUNTERS]++;
}

static void
check_meta(checker *c, const MDB_val *k, const MDB_val *v)
{
	const unsigned char *b = k->mv_data;
	char t1[512];
	if (k->mv_size == 6 && memcmp(b, "schema", 6) == 0) return;   /* read at open */
	if (k->mv_size == 7 && memcmp(b, "authkey", 7) == 0) {
		if (v->mv_size != 32) fault(c, "meta", "the auth key is not 32 bytes");
		return;
	}
	if (k->mv_size > 18 && b[0] == 'C') {     /* a collection's settings (settings.c) */
		MDB_val app = { 16, (void *)(b + 1) };
		json_t *rec = json_loadb(v->mv_data, v->mv_size, 0, NULL);
		if (!app_of(c, "meta", &app)) { json_decref(rec); return; }
		if (!json_is_object(json_object_get(rec, "data")) || b[k->mv_size - 1] != 0)
			fault(c, "meta", "malformed collection settings %s", text(t1, b, k->mv_size));
		json_decref(rec);
		return;
	}
	if (k->mv_size > 18 && b[0] == 'R') {     /* a reindex in progress (fields.c) */
		MDB_val app = { 16, (void *)(b + 1) };
		json_t *rec = json_loadb(v->mv_data, v->mv_size, 0, NULL);
		if (app_of(c, "meta", &app) &&
		    (b[k->mv_size - 1] != 0 || !fields_record_ok(rec)))
			fault(c, "meta", "malformed reindex record %s", text(t1, b, k->mv_size));
		json_decref(rec);
		return;
	}
	if (k->mv_size > 18 && b[0] == 'p') {
		MDB_val app = { k->mv_size - 1, (void *)(b + 1) };
		const unsigned char *f = v->mv_data;
		if (!app_of(c, "meta", &app)) return;
		if (v->mv_size != 1 || f[0] == 0 || (f[0] & ~(STORE_IXF_MULTI | STORE_IXF_LONG)) ||
		    !memchr(b + 17, 0, k->mv_size - 17))
			fault(c, "meta", "malformed path flags %s", text(t1, b, k->mv_size));
		return;
	}
	c->unknown[DBI_META]++;
}

/* A token key (auth.c, keys.h): 'h' hash -> record, 'e' expiry hash, 's'
** kind scope subject hash.  A malformed expiry key names no token: the
** repair drops it, as the purge does.  A record that cannot be read is
** said, and left: no token's keys can be derived from it. */
static void
check_token(checker *c, const MDB_val *k, const MDB_val *v)
{
	const unsigned char *b = k->mv_data;
	char t1[512];
	int ok, hash = k->mv_size == 33 && b[0] == 'h';
	if (hash && !auth_record_ok(v->mv_data, v->mv_size)) {
		fault(c, "tokens", "a token record that cannot be read %s", text(t1, b, k->mv_size));
		return;
	}
	switch (k->mv_size ? b[0] : 0) {
	case 'h': ok = hash; break;
	case 'e': ok = k->mv_size == 41 && v->mv_size == 0; break;
	case 's': ok = k->mv_size == 66 && v->mv_size == 0; break;
	default:  ok = 0;
	}
	if (ok) return;
	fault(c, "tokens", "a malformed token key %s", text(t1, b, k->mv_size));
	if (k->mv_size && b[0] == 'e') fix_del(c, DBI_TOKENS, b, k->mv_size);
}

/* Notes an interval [join, leave) of a group of app that does not exist. */
static void
gone_note(checker *c, const store_app *app, const store_id *group, uint64_t join,
          uint64_t leave)
{
	if (memcmp(c->gone_app.b, app->uuid.b, 16) != 0) {
		c->gone_app = app->uuid;
		c->ngone = 0;
	}
	if (c->ngone == c->capgone) {
		c->capgone = c->capgone ? 2 * c->capgone : 64;
		c->gone = xrealloc(c->gone, c->capgone * sizeof *c->gone);
	}
	c->gone[c->ngone++] = (gone_span){ *group, join, leave };
	c->gone_merged = 0;
}

static int
cmp_gone(const void *a, const void *b)
{
	const gone_span *x = a, *y = b;
	int d = memcmp(x->group.b, y->group.b, 16);
	return d ? d : (x->join > y->join) - (x->join < y->join);
}

/* 1 when an interval of the deleted group held time: a shared post of it
** at time is in a member's feed. */
static int
gone_reached(checker *c, const store_app *app, const store_id *group, uint64_t time)
{
	if (memcmp(c->gone_app.b, app->uuid.b, 16) != 0 || c->ngone == 0) return 0;
	if (!c->gone_merged) {           /* one interval per stretch of a group */
		size_t n = 0;
		qsort(c->gone, c->ngone, sizeof *c->gone, cmp_gone);
		for (size_t i = 0; i < c->ngone; i++) {
			gone_span *last = n ? &c->gone[n - 1] : NULL;
			if (last && memcmp(last->group.b, c->gone[i].group.b, 16) == 0 &&
			    c->gone[i].join <= last->leave) {
				if (c->gone[i].leave > last->leave) last->leave = c->gone[i].leave;
			} else {
				c->gone[n++] = c->gone[i];
			}
		}
		c->ngone = n;
		c->gone_merged = 1;
	}
	gone_span probe = { *group, time, 0 };
	size_t lo = 0, hi = c->ngone;    /* the first after probe */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_gone(&c->gone[mid], &probe) <= 0) lo = mid + 1;
		else hi = mid;
	}
	return lo > 0 && memcmp(c->gone[lo - 1].group.b, group->b, 16) == 0 &&
	       time < c->gone[lo - 1].leave;
}

/* A shared post f (key k) of a live activity: the group's post, in a
** feed when the group is deleted, with its reverse. */
static void
check_shared(checker *c, const store_app *app, const MDB_val *k, const key_feed_parts *f)
{
	char ids[37], gids[37];
	keybuf rev, want;
	store_id group;
	uint64_t time;
	void *rv;
	size_t rn;

	key_feed(&rev, app, 'a', &f->other);
	if (!entity_exists(c, app, &f->id) && !gone_reached(c, app, &f->id, f->time)) {
		fault(c, "feeds", "the shared post %s of the deleted group %s is in no feed",
		      uuid_text(ids, f->other.b), uuid_text(gids, f->id.b));
		fix_del(c, DBI_FEEDS, k->mv_data, k->mv_size);
		fix_del(c, DBI_FEEDS, rev.b, rev.n);
		return;
	}
	if (kv_get(c->t, DBI_FEEDS, &rev, &rv, &rn) == STORE_OK &&
	    val_feed_shared_parse(rv, rn, &group, &time) &&
	    memcmp(group.b, f->id.b, 16) == 0 && time == f->time)
		return;
	fault(c, "feeds", "the shared post %s has no reverse", uuid_text(ids, f->other.b));
	val_feed_shared(&want, &f->id, f->time);
	fix_put(c, DBI_FEEDS, &rev, want.b, want.n);
}

/* The reverse f (key k, value v) of a shared post: the post is there. */
static void
check_reverse(checker *c, const store_app *app, const MDB_val *k, const MDB_val *v,
              const key_feed_parts *f)
{
	char ids[37];
	keybuf post;
	store_id group;
	uint64_t time;
	if (!val_feed_shared_parse(v->mv_data, v->mv_size, &group, &time)) {
		c->unknown[DBI_FEEDS]++;
		return;
	}
	key_feed_shared(&post, app, &group, time, &f->id);
	if (kv_get(c->t, DBI_FEEDS, &post, NULL, NULL) == STORE_OK) return;
	fault(c, "feeds", "the reverse of %s has no shared post", uuid_text(ids, f->id.b));
	fix_del(c, DBI_FEEDS, k->mv_data, k->mv_size);
}

/* A membership interval f (key k) of a live user that ends at leave, in a
** group that does not exist: noted; a fault when it is still open (the
** repair closes it now). */
static void
interval_of_gone(checker *c, const store_app *app, const MDB_val *k, const key_feed_parts *f,
                 uint64_t leave)
{
	char ids[37], gids[37];
	if (leave == UINT64_MAX) {
		keybuf end, at;
		fault(c, "feeds", "a membership interval of %s in the deleted group %s is open",
		      uuid_text(ids, f->id.b), uuid_text(gids, f->other.b));
		key_raw(&end, k->mv_data, k->mv_size);
		leave = store_next_time(c->t->s);
		val_u64(&at, leave);
		fix_put(c, DBI_FEEDS, &end, at.b, at.n);
	}
	gone_note(c, app, &f->other, f->time, leave);
}

/* A membership interval f (key k, value v: its leave time). */
static void
check_interval(checker *c, const store_app *app, const MDB_val *k, const MDB_val *v,
               const key_feed_parts *f)
{
	char ids[37];
	if (v->mv_size != 8) {
		c->unknown[DBI_FEEDS]++;
		return;
	}
	uint64_t leave = key_get_u64(v->mv_data);
	if (!entity_exists(c, app, &f->id)) {
		fault(c, "feeds", "a membership interval of %s, which does not exist",
		      uuid_text(ids, f->id.b));
		fix_del(c, DBI_FEEDS, k->mv_data, k->mv_size);
	} else if (leave <= f->time) {
		fault(c, "feeds", "a membership interval of %s ends before it begins",
		      uuid_text(ids, f->id.b));
	} else if (!entity_exists(c, app, &f->other)) {
		interval_of_gone(c, app, k, f, leave);
	}
}

/* A shared group post, its reverse, or a membership interval (feed.c),
** decoded by keys.c.  A deleted group's shared posts stay in the feeds they
** reached (through its intervals, closed by the delete); one that reached
** none, and an interval of it still open, are faults. */
static void
check_feed(checker *c, const MDB_val *k, const MDB_val *v)
{
	app_state *a = app_of(c, "feeds", k);
	char ids[37];
	key_feed_parts f;
	if (!a) return;
	if (!key_feed_parse(k->mv_data, k->mv_size, &f)) {
		c->unknown[DBI_FEEDS]++;
		return;
	}
	switch (f.tag) {
	case 's':
		if (v->mv_size != 0) {
			c->unknown[DBI_FEEDS]++;
		} else if (!entity_exists(c, &a->app, &f.other)) {
			fault(c, "feeds", "a shared post of %s, which does not exist",
			      uuid_text(ids, f.other.b));
			fix_del(c, DBI_FEEDS, k->mv_data, k->mv_size);
		} else {
			check_shared(c, &a->app, k, &f);
		}
		return;
	case 'a':
		check_reverse(c, &a->app, k, v, &f);
		return;
	default:
		check_interval(c, &a->app, k, v, &f);
	}
}

/* ---- the pass -------------------------------------------------------------------------- */

/* The key families: a database and the checker of each of its keys. */
static const struct {
	int     dbi;
	key_fn *key;
} families[] = {
	{ DBI_ORGS,     check_org },
	{ DBI_APPS,     check_app },
	{ DBI_ENTITIES, check_entity },
	{ DBI_UNIQUE,   check_unique },
	{ DBI_EDGES,    check_edge },
	{ DBI_EDGE_AT,  check_edge_at },
	{ DBI_COUNTS,   check_count },
	{ DBI_INDEX,    count_index },
	{ DBI_SECRETS,  check_secret },
	{ DBI_DICTS,    check_dict },
	{ DBI_META,     check_meta },
	{ DBI_ASSETS,   check_asset },
	{ DBI_COUNTERS, check_counter },
	{ DBI_TOKENS,   check_token },
	{ DBI_FEEDS,    check_feed },
};

#define NFAMILIES (sizeof families / sizeof *families)

/* Every application (and the admins' space), sorted by uuid. */
static store_rc
load_apps(checker *c)
{
	kv_scan sc;
	keybuf recs;
	key_lead(&recs, 'u');
	store_rc rc = kv_scan_begin(&sc, c->t, DBI_APPS, &recs, NULL, 0);
	if (rc) return rc;
	size_t cap = 16;
	c->apps = xcalloc(cap, sizeof *c->apps);
	c->apps[c->napps++].app = *store_mgmt_app;
	while (kv_scan_next(&sc)) {
		const unsigned char *b = sc.k.mv_data;
		char id[37];
		store_app app;
		if (sc.k.mv_size != 17) continue;
		uuid_text(id, b + 1);
		if (store_app_get(c->t, NULL, (store_slice){ id, 36 }, &app) != STORE_OK) {
			/* its keys still belong to it; the apps check says what is wrong */
			memset(&app, 0, sizeof app);
			memcpy(app.uuid.b, b + 1, 16);
		}
		if (c->napps == cap) {
			cap *= 2;
			c->apps = xrealloc(c->apps, cap * sizeof *c->apps);
		}
		memset(&c->apps[c->napps], 0, sizeof *c->apps);
		c->apps[c->napps++].app = app;
	}
	qsort(c->apps, c->napps, sizeof *c->apps, cmp_app);
	return kv_scan_end(&sc, STORE_OK);
}

/* Names the databases no family covers (added by a later format). */
static void
note_unknown(checker *c)
{
	MDB_dbi main;
	MDB_cursor *cur;
	MDB_val k, v;
	if (mdb_dbi_open(c->t->txn, NULL, 0, &main) != 0 ||
	    mdb_cursor_open(c->t->txn, main, &cur) != 0)
		return;
	for (int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int known = 0;
		for (size_t i = 0; i < NFAMILIES; i++) {
			const char *name = store_dbi_names[families[i].dbi];
			known |= strlen(name) == k.mv_size && memcmp(name, k.mv_data, k.mv_size) == 0;
		}
		if (!known)
			store_say(c->out, "note: database %.*s is not known to this check: not checked",
			          (int)k.mv_size, (const char *)k.mv_data);
	}
	mdb_cursor_close(cur);
}

static store_rc
pass(checker *c, int first)
{
	store_rc rc = load_apps(c);
	for (size_t i = 0; i < NFAMILIES && rc == STORE_OK; i++) {
		rc = scan(c, families[i].dbi, NULL, families[i].key);
		if (families[i].dbi == DBI_EDGES) group_end(c);
	}
	if (rc == STORE_OK) rc = check_index(c);
	if (rc == STORE_OK && first) {
		note_unknown(c);
		for (int i = 0; i < DBI_COUNT; i++)
			if (c->unknown[i])
				store_say(c->out, "note: %s: %llu keys of kinds this check does not know: not checked",
				          store_dbi_names[i], (unsigned long long)c->unknown[i]);
	}
	return rc;
}

/* Applies the fixes of a pass, keys first and then the entities' (a
** re-index reads the root edge a key fix may restore), saying each
** repaired fault once.  A fix that cannot be made yet (what it reads is
** missing or broken) is said and left to the next pass. */
static store_rc
apply_fixes(checker *c, size_t *applied)
{
	for (int sweep = 0; sweep < 2; sweep++)
		for (size_t i = 0; i < c->nfix; i++) {
			const fix *f = &c->fixes[i];
			if ((f->op == FIX_PUT || f->op == FIX_DEL) != (sweep == 0)) continue;
			store_rc rc = fix_apply(c->t, f);
			if (rc == STORE_NOTFOUND || rc == STORE_CORRUPT) {
				store_say(c->out, "not repaired yet: %s (%s)", f->what, store_strerror(rc));
				continue;
			}
			if (rc) return rc;
			if (i == 0 || strcmp(f[-1].what, f->what) != 0)
				store_say(c->out, "repaired: %s", f->what);
			(*applied)++;
		}
	return STORE_OK;
}

static void
checker_clear(checker *c)
{
	for (size_t i = 0; i < c->nfix; i++) free(c->fixes[i].what);
	free(c->fixes);
	free(c->apps);
	free(c->gone);
}

store_rc
store_check(store *s, int repair, const store_sink *out, store_check_stats *st)
{
	store_rc rc = STORE_OK;
	memset(st, 0, sizeof *st);
	for (int round = 0; round < MAX_ROUNDS; round++) {
		checker c = { .out = out };
		if ((rc = store_txn_begin(s, repair ? STORE_TXN_WRITE : STORE_TXN_READ, &c.t))) break;
		if (round) store_say(out, "checking again");
		rc = pass(&c, round == 0);
		if (c.said > MAX_SAID)
			store_say(out, "(%llu more faults not listed)", (unsigned long long)(c.said - MAX_SAID));
		st->keys = c.keys;
		st->faults = c.faults;
		size_t applied = 0;
		if (rc == STORE_OK && repair) rc = apply_fixes(&c, &applied);
		if (rc == STORE_OK && applied) rc = store_txn_commit(c.t);
		else store_txn_abort(c.t);
		checker_clear(&c);
		if (rc) break;
		st->repaired += applied;
		store_say(out, "%llu keys checked: %llu faults%s", (unsigned long long)st->keys,
		          (unsigned long long)st->faults, applied ? ", repaired as said" : "");
		if (!applied) break;
	}
	return rc;
}
