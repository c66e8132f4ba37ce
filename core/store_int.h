/*
** store_int.h: definitions shared by the files of core/ only.
*/
#ifndef UG_STORE_INT_H
#define UG_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/keys.h"
#include "core/store.h"

struct store {
	MDB_env *env;
	MDB_dbi  dbi[DBI_COUNT];
	_Atomic uint64_t last_time;   /* edge clock, microseconds */
	unsigned char auth_key[32];   /* derives client secrets (auth.c) */
	unsigned password_min;        /* the password policy */
	uint64_t settings_rewrite_max; /* entities a settings change may rewrite */
	size_t   reindex_batch;        /* entities one reindex step rewrites */
	uint64_t feed_copy_max;       /* members up to which a group post is copied */
	_Atomic int64_t  last_commit_ms;  /* the last write commit (store_stats) */
	/* counts tallied outside a write transaction (counter.c) */
	uint64_t serial;              /* tells this store from one closed before */
	pthread_mutex_t tick_mu;      /* the list of tick tables */
	pthread_mutex_t flush_mu;     /* a drain to its commit; a read of counters */
	struct tick_table *ticks;     /* one per thread that ticked */
	_Atomic int ticks_pending;
	/* the orgs and apps requests named, decoded (idcache.c) */
	pthread_mutex_t idcache_mu;
	struct idcache_entry *idcache;
	_Atomic uint64_t ident_txnid; /* the last commit to change an org or app */
	struct entcache *entcache;    /* parsed entities for readers (entcache.c) */
};

/* A count waiting to be written: name (with its roll-ups) of app, by, at a
** minute (every resolution's bucket is a whole number of minutes). */
typedef struct {
	store_id app;
	int64_t  minute;
	int64_t  by;
	char     name[STORE_COUNTER_NAME_MAX + 1];
} counter_tick;

struct store_txn {
	store   *s;
	MDB_txn *txn;
	int      write;
	store_actor actor;      /* who makes the request (audit) */
	int      settings_scan; /* rewriting a collection for new settings */
	int      child;     /* a nested transaction */
	store_txn *parent;  /* of a nested transaction */
	counter_tick *ticks;   /* counts written when the top-level commit does */
	size_t   nticks, cap_ticks;
	uint64_t writes;    /* puts and deletes asked for (kv_put, kv_del...) */
	uint64_t snap;      /* the commit its snapshot is of (idcache.c) */
	int      ident_changed;   /* it put or deleted in orgs or apps */
	struct meta_memo *memo;   /* the meta records it parsed (meta_record);
	                          ** a nested transaction's are its top one's */
};

/* counter.c: a count that follows the transaction (kept when it commits,
** written by the top-level commit); the drain of a top-level commit; the
** tick tables' setup and teardown. */
void     counter_txn_tick(store_txn *t, const store_app *app, const char *name, int64_t by);
void     counter_txn_merge(store_txn *parent, store_txn *child);
store_rc counter_txn_commit(store_txn *t);
void     counter_ticks_init(store *s);
void     counter_ticks_destroy(store *s);

/* The name of each database (store.c). */
extern const char *const store_dbi_names[DBI_COUNT];

/* The one translation of LMDB codes into store_rc. */
store_rc store_mdb_rc(int mdb_rc);
/* entity.c: an entity from its stored bytes (new reference), or
** STORE_CORRUPT when they are not a JSON object. */
store_rc entity_parse(const void *bytes, size_t n, json_t **out);
/* entity.c: STORE_OK when app holds entity id (nothing parsed), else
** STORE_NOTFOUND (or a storage failure). */
store_rc entity_held(store_txn *t, const store_app *app, const store_id *id);
/* entity.c: e's text without its "metadata" member (store_entity_write,
** uncached). */
char *entity_text(const json_t *e, size_t *n);
/* entcache.c: parsed entities for readers (store_entity_read); its fill */
void entcache_init(store *s);
void entcache_destroy(store *s);
void entcache_stats(store *s, uint64_t *entries, uint64_t *slots);
/* idcache.c: found orgs and apps, valid while no commit changed either;
** get copies size bytes of an entry for (kind, key) into out, 1 on a hit */
void idcache_init(store *s);
void idcache_destroy(store *s);
int  idcache_get(store_txn *t, char kind, const void *key, size_t n, void *out, size_t size);
void idcache_put(store_txn *t, char kind, const void *key, size_t n, const void *val,
                 size_t size);

/* Raw access helpers: keys built with keys.h. */
store_rc kv_get(store_txn *t, int dbi, const keybuf *k, void **val, size_t *n);
store_rc kv_put(store_txn *t, int dbi, const keybuf *k, const void *val, size_t n);
store_rc kv_del(store_txn *t, int dbi, const keybuf *k);   /* NOTFOUND ok */
/* What a write tells: that the transaction wrote (batch.c), that it
** changed an org or app (idcache.c), and that the meta records under
** key[0..n) (a key, or a prefix deleted) are no longer those it parsed
** (meta_record).  kv_put, kv_del, kv_del_prefix and kv_scan_del call it. */
void note_write(store_txn *t, int dbi, const void *key, size_t n);

/* The one walk over the keys of a database that start with a prefix, in
** key order (back: reverse order), from the first key at or after `from`
** (back: the last key before it; NULL: the whole prefix):
**
**     kv_scan sc;
**     if ((rc = kv_scan_begin(&sc, t, DBI_X, &prefix, NULL, 0))) return rc;
**     while (rc == STORE_OK && kv_scan_next(&sc)) ... sc.k, sc.v ...
**     rc = kv_scan_end(&sc, rc);
**
** kv_scan_next gives 1 with the key and value in sc.k and sc.v (valid
** until the next step or a write), 0 at the prefix's end or on an LMDB
** error, which kv_scan_end returns unless rc already holds one.
** kv_scan_seek moves the next step to `at` (the same rule as from);
** kv_scan_del deletes the current key, the next step giving the one after
** it.  An empty prefix walks the whole database; one that overflowed
** walks nothing. */
typedef struct {
	MDB_cursor *c;
	store_txn *t;
	int      dbi;
	keybuf   prefix, seek;
	MDB_val  k, v;
	int      back, stepped, deleted, mrc;
} kv_scan;
store_rc kv_scan_begin(kv_scan *s, store_txn *t, int dbi, const keybuf *prefix,
                       const keybuf *from, int back);
int      kv_scan_next(kv_scan *s);
void     kv_scan_seek(kv_scan *s, const keybuf *at);
store_rc kv_scan_del(kv_scan *s);
store_rc kv_scan_end(kv_scan *s, store_rc rc);
/* Deletes every key that starts with prefix. */
store_rc kv_del_prefix(store_txn *t, int dbi, const keybuf *prefix);
/* Reads and decodes a JSON value. */
store_rc kv_get_json(store_txn *t, int dbi, const keybuf *k, json_t **out);
/* Encodes and writes a JSON value. */
store_rc kv_put_json(store_txn *t, int dbi, const keybuf *k, json_t *v);
/* The JSON record of meta under k, parsed once a transaction: a new
** reference to the parse its top-level transaction keeps (shared: read
** it, copy it to change it), NULL when there is none; STORE_CORRUPT when
** it is not JSON.  A write under the key forgets the parse (note_write),
** so does a nested transaction rolled back (every parse), and the
** top-level transaction's end frees them.  A collection's settings and
** reindex records are read so: a write reads them several times (its
** rules, its index entries), a check pass once per entity. */
store_rc meta_record(store_txn *t, const keybuf *k, json_t **out);
/* Reads and writes an 8-byte big-endian value (val_u64's: times, counts,
** generations); reading one of another size is STORE_CORRUPT, and *out is
** set only on STORE_OK. */
store_rc kv_get_u64(store_txn *t, int dbi, const keybuf *k, uint64_t *out);
store_rc kv_put_u64(store_txn *t, int dbi, const keybuf *k, uint64_t v);

/* Next edge time: strictly increasing within the environment. */
uint64_t store_next_time(store *s);

/* Opens the store in dir whatever its format, which *format receives (a new
** store gets STORE_FORMAT, one that records none 0). */
store_rc store_open_format(const char *dir, const store_options *opt,
                           unsigned *format, store **out, store_err *err);
/* The format recorded in t's store; STORE_NOTFOUND when none is. */
store_rc store_format_get(store_txn *t, unsigned *format);
/* Records the store's format (in t's write transaction). */
store_rc store_format_set(store_txn *t, unsigned format);
/* The refusal of a store of format `format` (not STORE_FORMAT) in dir. */
store_rc store_format_refuse(const char *dir, unsigned format, store_err *err);

/* Formats one line and hands it to out (NULL-safe). */
void store_say(const store_sink *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Formats into err (if not NULL) and returns rc. */
store_rc store_fail(store_err *err, store_rc rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Lower-cases ASCII letters of s[0..n) into out (n bytes). */
void lc_copy(char *out, const char *s, size_t n);

/* 1 when s can be one segment of a URL path: not empty, not "." or ".."
** (clients and proxies collapse dot segments, so such a name could never be
** reached).  The one rule for every name that becomes a path segment: org
** and app names, entity names, each segment of a group path. */
int store_segment_ok(store_slice s);

/* Case-insensitive names in O(1): a map from each lower-cased name to its
** first spelling.  ci_names_new(obj) maps obj's names (new; obj may be
** NULL for an empty map); ci_name() gives the spelling name has in the map,
** or NULL, and with add=1 enters name when absent (then returns name). */
json_t     *ci_names_new(json_t *obj);
const char *ci_name(json_t *names, const char *name, int add);

/* Case-insensitive property lookup; *key (may be NULL) gets the stored name. */
json_t *json_get_ci(json_t *obj, const char *name, const char **key);

/* store_edge_put with a given edge time (copied feed items keep the time
** they were posted at). */
store_rc edge_put_at(store_txn *t, const store_app *app, const store_id *owner,
                     store_edge_kind kind, const char *name,
                     const store_id *target, uint64_t time, int *created);
/* Calls fn(ctx, id) for every target of owner's edges kind/name, newest
** first, listing them a page at a time; stops at fn's first error. */
store_rc edge_each(store_txn *t, const store_app *app, const store_id *owner,
                   store_edge_kind kind, const char *name,
                   store_rc (*fn)(void *ctx, const store_id *id), void *ctx);
/* The time of an existing edge. */
store_rc edge_time_of(store_txn *t, const store_app *app, const store_id *owner,
                      store_edge_kind kind, const char *name,
                      const store_id *target, uint64_t *time);


/* Selective indexing (fields.c): which paths get index entries.  all, or
** the paths list names and those below them (list borrowed; NULL or empty:
** none). */
typedef struct {
	int     all;
	json_t *list;
} ix_fields;
/* 2: the selection holds path; 1: it holds a path below it; 0: neither. */
int ix_fields_at(const ix_fields *f, const char *path);
/* A collection's selection: target, what writes index; present, what may
** still hold entries (a reindex not done); ready, what every entity has
** its entries for (what a query may drive from).  Without a reindex the
** three are the target. */
typedef struct {
	json_t   *settings, *reindex;        /* the records the lists borrow from (shared: meta_record) */
	ix_fields target, present, ready;
} ix_sel;
store_rc ix_sel_load(store_txn *t, const store_app *app, const char *type, ix_sel *out);
void     ix_sel_clear(ix_sel *s);                       /* NULL-safe members */
/* 1 when v is a `fields` value: "all", "none", or at most STORE_FIELDS_MAX
** dotted paths. */
int      fields_ok(json_t *v);
/* 1 when re is a well-formed reindex record (check.c). */
int      fields_record_ok(json_t *re);
/* The settings data of type's collection changes from was to now (either
** NULL: none): records, widens or ends its reindex. */
store_rc fields_changed(store_txn *t, const store_app *app, const char *type, json_t *was,
                        json_t *now);
/* {"started": ms, "entities": done} of a reindex in progress, or NULL (new). */
store_rc fields_progress(store_txn *t, const store_app *app, const char *type, json_t **out);
/* The format-5 upgrade: a store of format 4 indexed every path whatever
** `fields` said; a reindex for each collection whose list is not "all". */
store_rc fields_upgrade(store_txn *t);
/* Brings the entries of entity e (at root-collection time `time`) from
** sel's present paths to its target ones (index.c). */
store_rc index_reindex(store_txn *t, const store_app *app, const ix_sel *sel, json_t *e,
                       const store_id *id, uint64_t time);

/* Rewrites the index keys of an entity: old (or NULL) at old_time to new
** (or NULL) at new_time, writing only the keys that differ. */
store_rc index_update(store_txn *t, const store_app *app, const store_id *id,
                      json_t *old, json_t *new, uint64_t old_time,
                      uint64_t new_time);
/* Counts the index keys (*expected) of entity e at root-collection time
** `time` (of the paths its collection has ready), how many of them the store lacks, and how many of its path
** flags are not set. */
store_rc index_verify(store_txn *t, const store_app *app, json_t *e, const store_id *id,
                      uint64_t time, size_t *expected, size_t *missing,
                      size_t *flags_missing);
/* 1 when key[0..n) is one of the index keys of entity e at `time` under
** the selection sel (a collection's present paths: what may be there). */
int index_has_key(const ix_fields *sel, const store_app *app, json_t *e, const store_id *id,
                  uint64_t time, const void *key, size_t n);
/* The settings record of type's collection (settings.c), NULL when it has
** none: the transaction's parse (meta_record: read it, never change it);
** and its write (rec NULL: its delete). */
store_rc settings_record(store_txn *t, const store_app *app, const char *type, json_t **out);
store_rc settings_record_put(store_txn *t, const store_app *app, const char *type, json_t *rec);
/* Collection settings (settings.c).  settings_write applies the rules of
** e's collection to e, the new state of entity id (old: its stored
** state, NULL on create), before it is written: readonly values kept,
** counts computed, audit metadata, types, required, unique values and the
** single holder; settings_delete checks and releases what a delete ends.
** settings_counts_refresh rewrites an entity whose counts may have changed
** (NOTFOUND-safe: a missing entity is left alone). */
store_rc settings_write(store_txn *t, const store_app *app, const char *type, json_t *old,
                        json_t *e, const store_id *id, store_err *err);
store_rc settings_delete(store_txn *t, const store_app *app, const char *type, json_t *old,
                         const store_id *id, store_err *err);
store_rc settings_counts_refresh(store_txn *t, const store_app *app, const store_id *id);
/* An imported entity's claims under its collection's settings (unique
** values, single holdings), as its write made them; no rule is applied. */
store_rc settings_claims(store_txn *t, const store_app *app, const char *type, json_t *old,
                         json_t *e, const store_id *id, store_err *err);
/* An exported settings record {"data":...,"lastUpdated":...} of type's
** collection, stored as it is (*changed 0 when it already was). */
store_rc settings_import(store_txn *t, const store_app *app, const char *type, json_t *rec,
                         int *changed, store_err *err);
/* The settings' unique property names of type's collection beyond the
** schema's, at most cap, into names (pointers into *rec: json_decref it
** after use; NULL when the collection has no settings). */
store_rc settings_unique(store_txn *t, const store_app *app, const char *type, json_t **rec,
                         const char **names, size_t cap, size_t *n);
/* A unique property's value as its claim's key holds it: strings as they
** are, numbers and booleans as JSON; NULL for none (free() it). */
char *unique_text(json_t *e, const char *prop);
/* Claims the unique values of props that new has and old had not and
** releases the others (entity.c); old or new may be NULL. */
store_rc unique_props(store_txn *t, const store_app *app, const char *type,
                      const char *const *props, size_t n, json_t *old, json_t *new,
                      const store_id *id, store_err *err);
/* The root-collection edge time of an entity. */
/* Writes e, a changed copy of the stored entity old, in its place: the
** type rules, unique values, the entity and its index entries. */
store_rc entity_replace(store_txn *t, const store_app *app, const store_id *id,
                        json_t *old, json_t *e, store_err *err);
/* Usergrid's entity counters: application.collection.{coll} and
** application.entities, counted with the transaction (counter.c): a
** create counts 1, a delete -1. */
void entity_count(store_txn *t, const store_app *app, const char *coll, int64_t by);
store_rc entity_time(store_txn *t, const store_app *app, json_t *e,
                     const store_id *id, uint64_t *time);

/* Lower-case hex MD5 of s[0..n) into out[33]. */
void md5_hex(const void *s, size_t n, char out[33]);

/* Edges of an entity that is being deleted. */
store_rc edges_remove_all(store_txn *t, const store_app *app,
                          const store_id *id);

/* Import (export.c): each writes what the store lacks of one exported
** record and sets *changed when it wrote anything. */
store_rc store_app_import(store_txn *t, json_t *rec, store_app *out, int *changed,
                          store_err *err);
/* Merges an exported application record's own properties (not its uuid,
** names, organization or timestamps) into app where they differ. */
store_rc app_props_import(store_txn *t, const store_app *app, json_t *props, int *changed);
store_rc store_entity_import(store_txn *t, const store_app *app, json_t *e, uint64_t time,
                             int *changed, store_err *err);
store_rc dict_import(store_txn *t, const store_app *app, const store_id *id, const char *dict,
                     const char *value, int *changed);
store_rc secret_import(store_txn *t, const store_app *app, const store_id *id,
                       const char *kind, const char *hash, int *changed);
/* Binary data and counters as export records (new; NULL for a key of a
** kind not known here), and back. */
json_t  *asset_record(const void *key, size_t kn, const void *data, size_t n);
store_rc asset_import(store_txn *t, const store_app *app, const store_id *id,
                      const char *b64, int *changed);
json_t  *counter_record(const void *key, size_t kn, const void *val, size_t vn);
store_rc counter_import(store_txn *t, const store_app *app, json_t *rec, int *changed);
/* The credentials a user's body may carry, kept as hashes (secret.c). */
#define SECRET_KINDS 2
extern const char *const secret_kinds[SECRET_KINDS];     /* password, pin */
/* 1 when kind[0..n) is one of secret_kinds. */
int secret_kind_known(const char *kind, size_t n);

/* Creates the default roles of a new application. */
store_rc roles_create_defaults(store_txn *t, const store_app *app);
/* The upgrade to format 3: default roles without permissions get them. */
store_rc roles_upgrade_permissions(store_txn *t);

/* The positions (~time, target: 24 bytes) of the keys prefix + position of
** dbi whose time lies in [lo, hi), newest first or oldest_first, after
** `after` (NULL or unset: from the window's start), at most limit into
** poss[].  The one scan of edge listings and shared group posts. */
store_rc pos_scan(store_txn *t, int dbi, const keybuf *prefix, int oldest_first,
                  const store_pos *after, uint64_t lo, uint64_t hi, size_t limit,
                  store_pos *poss, size_t *n);
/* The owner's own edges kind/name (a feed without what its groups share). */
store_rc edge_scan_own(store_txn *t, const store_app *app, const store_id *owner,
                       store_edge_kind kind, const char *name, int oldest_first,
                       const store_pos *after, size_t limit, store_pos *poss, size_t *n);

/* ---- feed.c: the shared delivery path of group posts ---- */

/* user's feed: its own edges merged with the posts its groups shared while
** it was a member (store_edge_scan_dir's contract). */
store_rc feed_scan(store_txn *t, const store_app *app, const store_id *user,
                   int oldest_first, const store_pos *after, size_t limit,
                   store_pos *poss, size_t *n);
/* The time of a shared post in user's feed; STORE_NOTFOUND when it is not
** there (not shared, or not while user was a member). */
store_rc feed_shared_time(store_txn *t, const store_app *app, const store_id *user,
                          const store_id *activity, uint64_t *time);
/* Keeps the post once for the group's members (its feed edge is the caller's). */
store_rc feed_share(store_txn *t, const store_app *app, const store_id *group,
                    const store_id *activity, uint64_t time);
/* user joined group at `time` (a current member: nothing changes), or left
** it now (no current membership: nothing changes). */
store_rc feed_join(store_txn *t, const store_app *app, const store_id *user,
                   const store_id *group, uint64_t time);
store_rc feed_leave(store_txn *t, const store_app *app, const store_id *user,
                    const store_id *group);
/* An entity is deleted (before its edges): its intervals (a user) or its
** shared record (an activity) go; with members (its type's members
** collection: a group's users), its members' open intervals in it close,
** so its shared posts stay in the feeds they reached, as copies do, and
** reach no one else. */
store_rc feed_forget(store_txn *t, const store_app *app, const store_id *id,
                     const char *members);
/* Import: a shared post, a membership interval, each written (and
** *changed) only where the store differs. */
store_rc feed_share_import(store_txn *t, const store_app *app, const store_id *group,
                           const store_id *activity, uint64_t time, int *changed);
store_rc feed_span_import(store_txn *t, const store_app *app, const store_id *user,
                          const store_id *group, uint64_t join, uint64_t leave, int *changed);
/* STORE_OK when user has an open interval in group, else STORE_NOTFOUND. */
store_rc feed_member_open(store_txn *t, const store_app *app, const store_id *user,
                          const store_id *group);
/* Opens an interval at the membership's time for every group membership
** without an open one (the upgrade to format 6). */
store_rc feed_open_missing(store_txn *t);

/* Calls fn with each value of the entity's dictionary, in order, until fn
** returns non-zero (dict.c); the value is not NUL-terminated. */
store_rc dict_each(store_txn *t, const store_app *app, const store_id *id,
                   const char *dict, int (*fn)(void *ctx, const char *value, size_t n),
                   void *ctx);

/* An edges or edge_at key decoded (after its app). */
typedef struct {
	store_id        owner, target;
	store_edge_kind kind;
	char            name[STORE_NAME_MAX + 1];
	uint64_t        time;      /* edges keys only */
} edge_key;
/* Decodes app, owner, kind, name\0 and `tail` more bytes: 24 (~time,
** target) for an edges key, 16 (target) for an edge_at key; 0 when
** malformed. */
int edge_key_parse(const void *key, size_t n, size_t tail, edge_key *e);
int edge_valid_kind(int kind);
store_edge_kind edge_reverse_kind(store_edge_kind kind);

/* The space of org admins (app.c): users of an application no org owns. */
extern const store_app *const store_mgmt_app;

/* Reads the meta "authkey" into s, creating it on first open (auth.c). */
store_rc auth_key_load(store *s);

#endif
