/*
** store.h: the public interface of ugstore's entity engine (core/).
**
** core/ keeps organizations, applications, entities, unique values and edges
** (collection membership and connections) in one LMDB environment.  Callers
** (query/ and http/) see only this header: opaque handles, small value types,
** one result-code enum.  No LMDB type or code leaves core/.
**
** Conventions
**   - Every function returns a store_rc; results go to out-params.
**   - STORE_NOTFOUND is an ordinary result, not a failure.
**   - json_t out-params are new references (the caller decrefs); json_t
**     arguments are borrowed unless the name ends in _take.
**   - Everything a request changes happens inside one store_txn: begin, work,
**     commit (or abort).  Pointers returned by core never point into LMDB.
**   - An optional store_err receives a human-readable detail for the user.
*/
#ifndef UG_STORE_H
#define UG_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

typedef struct store store;
typedef struct store_txn store_txn;

/* A byte range that is not NUL-terminated: path segments, names, keys. */
typedef struct { const char *p; size_t n; } store_slice;

/* A 16-byte UUID in network byte order. */
typedef struct { unsigned char b[16]; } store_id;

typedef enum {
	STORE_OK = 0,
	STORE_NOTFOUND,   /* no such org, app, entity or edge */
	STORE_EXISTS,     /* a unique value or name is already taken */
	STORE_INVALID,    /* a malformed argument or property */
	STORE_REQUIRED,   /* a required property is missing */
	STORE_CONFLICT,   /* the request contradicts stored state */
	STORE_TOOBIG,     /* a value exceeds a limit */
	STORE_FULL,       /* the environment's map is full */
	STORE_NOMEM,
	STORE_IO,         /* disk or environment failure */
	STORE_CORRUPT,    /* stored data failed to decode */
	STORE_POLICY,     /* a password breaks the password policy */
	STORE_RC_COUNT
} store_rc;

const char *store_strerror(store_rc rc);

/* Detail for the user, filled where a store_err* is accepted (may be NULL). */
typedef struct {
	store_rc rc;
	char msg[320];
	const char *code;  /* a more precise error code than rc's, or NULL */
} store_err;

/* ---- environment and transactions ------------------------------------ */

typedef struct {
	size_t   map_size;     /* bytes of address space; 0 = default (64 GiB) */
	unsigned max_readers;  /* 0 = default (512) */
	int      no_sync;      /* 1 = do not fsync on commit (benchmarks only) */
	int      existing;     /* 1 = the directory must already hold a store */
	int      any_format;   /* 1 = open a store of any format (backups) */
	unsigned password_min; /* shortest password; 0 = STORE_PASSWORD_MIN */
	uint64_t settings_rewrite_max; /* 0 = STORE_SETTINGS_REWRITE_MAX */
	size_t   reindex_batch;        /* 0 = STORE_REINDEX_BATCH */
	int      feed_copy_set; /* 1 = feed_copy_max applies, 0 = STORE_FEED_COPY_MAX */
	uint64_t feed_copy_max; /* a group post is copied into its members' feeds
	                        ** when the group has at most this many members,
	                        ** else shared (relations.c, feed.c) */
} store_options;

/* The default of store_options.feed_copy_max (--feed-copy-max). */
#define STORE_FEED_COPY_MAX 1000

/* Opens (creating when missing) the store in dir.  A store of another
** format than STORE_FORMAT is refused (STORE_CONFLICT): an older one with
** a message to run `ugstore upgrade`, a newer one with one to use a newer
** ugstore (unless opt->any_format). */
store_rc store_open(const char *dir, const store_options *opt, store **out,
                    store_err *err);
void     store_close(store *s);                       /* NULL-safe */

/* What the store is using, read without blocking writers (for /status and
** /metrics).  Pages are the environment's pages (page_size bytes each). */
typedef struct {
	uint64_t map_size;        /* bytes of address space reserved */
	uint64_t page_size;
	uint64_t pages_used;      /* pages the data file holds up to its last page */
	uint64_t pages_branch, pages_leaf, pages_overflow;  /* over every database */
	uint64_t file_size;       /* bytes of data.mdb on disk */
	unsigned readers_max;     /* reader slots */
	unsigned readers;         /* live read transactions */
	uint64_t last_txn;        /* id of the last committed transaction */
	int64_t  last_commit_ms;  /* time of this process's last write commit, 0 none */
	uint64_t entity_cache_entries, entity_cache_slots;   /* entcache.c */
} store_stats;

store_rc store_stats_get(store *s, store_stats *out);

enum { STORE_TXN_READ = 0, STORE_TXN_WRITE = 1 };
store_rc store_txn_begin(store *s, int flags, store_txn **out);
/* A nested write transaction: its changes join the parent's on commit and
** vanish on abort (one item of a batch).  The parent must not be used
** until the child ends. */
store_rc store_txn_begin_child(store_txn *parent, store_txn **out);
store_rc store_txn_commit(store_txn *t);              /* frees t, even on error */
void     store_txn_abort(store_txn *t);               /* frees t; NULL-safe */

/* ---- group commit (batch.c) ---------------------------------------------
** Runs n units of work in one write transaction: a unit whose run returns
** other than STORE_OK is rolled back alone.  One commit (one sync) then
** makes every kept unit durable, and only then is `done` called for each
** unit, with STORE_OK when it is durable, else why not: its run's code,
** or the store's failure (to begin the batch or the unit, or to commit;
** then no unit was kept).  ran says whether the unit's run was called.
** With `reset`, the units first run straight in the batch's transaction,
** and only when one fails after it wrote does the batch run again, each
** unit in a nested transaction of its own: `reset` is then called before
** a unit runs again, to forget what its first run did outside the store.
** Without `reset` every unit runs nested.  With n == 0 the batch is one
** empty commit (which still writes the counts tallied since the last).
** Returns the batch's own outcome. */
typedef struct {
	store_rc (*run)(void *ctx, size_t i, store_txn *t);
	void     (*done)(void *ctx, size_t i, store_rc rc, int ran);
	void     (*reset)(void *ctx, size_t i);   /* NULL: run each unit nested */
	void      *ctx;
} store_unit;

typedef struct {
	size_t   units, kept;
	int      nested;           /* 1 = ran again, each unit nested */
	uint64_t run_us;           /* the units' time (both passes) */
	uint64_t commit_us;        /* the batch commit's time, its sync included */
} store_batch_stats;

store_rc store_group_commit(store *s, size_t n, const store_unit *u, store_batch_stats *stats);

/* Who makes the writes of a transaction, for the `audit` setting: a user
** of the application (admin = 0) or an org admin (admin = 1); set = 0 for
** anonymous and credential requests.  Nested transactions inherit it. */
typedef struct {
	int      set, admin;
	store_id user;
} store_actor;
void store_txn_actor(store_txn *t, const store_actor *a);

/* The shortest password the store accepts (the password policy). */
unsigned store_password_min(const store *s);

/* ---- identifiers and time --------------------------------------------- */

/* Parses 8-4-4-4-12 hex; returns 1 on success. */
int  store_id_parse(store_slice s, store_id *out);
/* Writes the 36-char lower-case form plus NUL into buf[37]. */
void store_id_format(const store_id *id, char buf[37]);
/* A new version-1 (time) UUID, made in-process without a system call:
** entities' ids (ordered by creation) and request ids. */
void store_id_new(store_id *out);
int  store_id_is_nil(const store_id *id);
/* base64url without padding (RFC 4648, section 5): the one codec of
** cursors and of binary data in exports.  store_b64_encode writes
** 4 * ceil(n / 3) + 1 bytes at most into out (NUL-terminated) and returns
** the text's length; store_b64_decode fills out (at most cap bytes) and
** *out_n, 0 when text is not canonical base64url or does not fit;
** store_b64_digit is one character's value, -1 for none. */
size_t store_b64_encode(const void *data, size_t n, char *out);
int    store_b64_decode(const char *text, size_t n, void *out, size_t cap, size_t *out_n);
int    store_b64_digit(int c);

/* Milliseconds since the epoch. */
int64_t store_now_ms(void);

/* ---- schema: types, collections, the inflector ------------------------ */

#define STORE_NAME_MAX 128     /* org, app, type, collection, verb names */

/* What the schema declares for one entity type (spec 3.2).  Lists end at
** NULL.  Custom types share one generic description with alias "name". */
typedef struct {
	const char *type;            /* singular, e.g. "group" */
	const char *collection;      /* plural, e.g. "groups"  */
	const char *alias;           /* lookup property, or NULL */
	const char *unique[4];       /* unique properties */
	const char *required[4];     /* required properties */
	const char *collections[8];  /* sub-collections in metadata order */
	const char *coll_types[8];   /* item type of each sub-collection */
	const char *coll_linked[8];  /* the item type's reverse collection, or NULL */
	const char *sets[3];         /* dictionaries shown in metadata.sets */
	const char *immutable[8];    /* properties an update may not change */
	const char *self;            /* alias value that names the caller: reserved */
	const char *email_alias;     /* lookup property for an ident holding '@' */
	const char *follow;          /* verb by which entities of the type follow */
	const char *followers;       /* ... and its reverse; both are connections
	                                listed among the collections (spec 5.4) */
	const char *members;         /* collection whose members' feeds get its posts */
	int         path_alias;      /* alias is a '/' path: normalized, and a URL
	                                may spell it over several segments */
	int         credentials;     /* password and pin are hashed credentials */
	int         account;         /* activated on create; picture from the e-mail */
	int         poster_is_actor; /* its posts' actor is filled in from it */
	int         published;       /* published defaults to the creation time */
	int         counted;         /* its counters feed the app's counters (events) */
	int         holds_bytes;     /* uploaded bytes hang below it, at .../data */
	int         builtin;
	int         app_default;     /* listed by every application from the start */
} store_type_info;

/* Schema of a type; never NULL (custom types get the generic entry, with
** type and collection left NULL). */
const store_type_info *store_type_info_of(const char *type);

/* The i-th built-in type, NULL past the last. */
const store_type_info *store_type_at(size_t i);

/* Collection name from the URL -> entity type (lower-case, singular).
** Returns STORE_INVALID for a name that cannot be a collection. */
store_rc store_type_from_collection(store_slice coll, char out[STORE_NAME_MAX + 1]);
/* Entity type -> collection name (plural). */
void store_collection_of(const char *type, char out[STORE_NAME_MAX + 1]);
/* The inflector itself (spec 1.7): out must hold STORE_NAME_MAX + 1. */
void store_pluralize(const char *word, char out[STORE_NAME_MAX + 1]);
void store_singularize(const char *word, char out[STORE_NAME_MAX + 1]);

/* ---- organizations and applications ----------------------------------- */

typedef struct {
	store_id uuid;
	char     name[STORE_NAME_MAX + 1];
} store_org;

typedef struct {
	store_id uuid;
	store_id org;
	char     org_name[STORE_NAME_MAX + 1];
	char     name[STORE_NAME_MAX + 1];
} store_app;

/* Creates an organization; name is unique (case-insensitive). */
store_rc store_org_create(store_txn *t, store_slice name, store_org *out,
                          store_err *err);
/* Looks an org up by UUID text or by name (case-insensitive). */
store_rc store_org_get(store_txn *t, store_slice name_or_uuid, store_org *out);
/* The org record: {uuid, name, created, ...}; new reference. */
store_rc store_org_json(store_txn *t, const store_org *org, json_t **out);

/* Creates an application with the default roles; name unique in the org. */
store_rc store_app_create(store_txn *t, const store_org *org, store_slice name,
                          store_app *out, store_err *err);
/* Opens an application to everyone: its guest and default roles get
** get,post,put,delete on every path (Usergrid's sandbox; a development app).  A new
** application is closed: guest may only post /users and /devices and put
** /devices/{d}. */
store_rc store_app_open(store_txn *t, const store_app *app);
/* Creates an organization's admin user (Usergrid's "owner"): a user with
** username (required), email, name and password (kept only as a salted
** hash) in the store's own management space, unique across all admins,
** and a member of the org's admins.  *out receives the user (no password). */
store_rc store_admin_create(store_txn *t, const store_org *org, json_t *body,
                            json_t **out, store_err *err);

/* Looks an app up by name (case-insensitive) or UUID.  org may be NULL
** for a lookup by UUID alone. */
store_rc store_app_get(store_txn *t, const store_org *org,
                       store_slice name_or_uuid, store_app *out);
/* {"org/app": "uuid", ...} for every app of org; new reference. */
store_rc store_app_list(store_txn *t, const store_org *org, json_t **out);
/* The application entity (type "application", name "org/app", and the
** properties set on it); new reference. */
store_rc store_app_json(store_txn *t, const store_app *app, json_t **out);
/* Merge-updates the application's own properties; *out as store_app_json. */
store_rc store_app_update(store_txn *t, const store_app *app, json_t *body,
                          json_t **out, store_err *err);

/* ---- entities ---------------------------------------------------------- */

/* Creates an entity of `type` from the JSON object `body` (spec 3.4):
** system properties are set by the store, reserved ones dropped, property
** names merged case-insensitively, unique values checked and claimed, and
** the entity added to its root collection.  `uuid` may be NULL (a new time
** UUID) or a caller-chosen id (PUT on a missing UUID).  *out, if not NULL,
** receives the stored entity. */
store_rc store_entity_create(store_txn *t, const store_app *app,
                             const char *type, json_t *body,
                             const store_id *uuid, json_t **out,
                             store_err *err);

/* The uuid of an entity object as returned by this API; STORE_CORRUPT when
** it has none. */
store_rc store_entity_id(json_t *e, store_id *out);

/* Reads an entity by UUID (any type). */
store_rc store_entity_get(store_txn *t, const store_app *app,
                          const store_id *id, json_t **out);
/* The same for reading only: in a read-only transaction the object may
** be shared with other readers (entcache.c), so it must not be changed
** (copy it first); in a write transaction, store_entity_get. */
store_rc store_entity_read(store_txn *t, const store_app *app, const store_id *id,
                           json_t **out);

/* v as compact JSON text (malloc'd, *n its length; NULL when v cannot be
** encoded), every real in the fewest digits (15 to 17) that read back the
** same double: the text of every reply. */
char *store_json_text(const json_t *v, size_t *n);
/* The same text handed to put piece by piece (jansson's json_dump_callback):
** 0, or -1 when v cannot be encoded or put failed. */
int   store_json_write(const json_t *v, json_dump_callback_t put, void *data);
/* Entity e's text without its "metadata" member, as store_json_text
** writes it, handed to put (0, or -1 when e cannot be encoded or put
** failed).  For an entity that store_entity_read shared from its cache the
** text is made once and kept there; e must not have been changed. */
int store_entity_write(store *s, const json_t *e, json_dump_callback_t put, void *data);

/* Resolves an item segment of `type`: a UUID, or the type's alias value
** (name, username or email, path), case-insensitively (spec 1.3). */
store_rc store_entity_find(store_txn *t, const store_app *app,
                           const char *type, store_slice ident, store_id *out);
/* store_entity_find that also reads the entity into *entity (new), in one
** read of it. */
store_rc store_entity_load(store_txn *t, const store_app *app,
                           const char *type, store_slice ident, store_id *out,
                           json_t **entity);
/* The same, the entity as store_entity_read gives it (never to change). */
store_rc store_entity_load_read(store_txn *t, const store_app *app, const char *type,
                                store_slice ident, store_id *out, json_t **entity);

/* Merge-updates an entity (spec 3.5).  *out receives the new entity. */
store_rc store_entity_update(store_txn *t, const store_app *app,
                             const store_id *id, json_t *body, json_t **out,
                             store_err *err);

/* Updates the entity of `type` that ident names (a uuid or its alias
** value), or creates it when there is none: a UUID ident becomes its
** uuid, a name ident its alias value (an upsert). */
store_rc store_entity_put(store_txn *t, const store_app *app, const char *type,
                          store_slice ident, json_t *body, json_t **out,
                          store_err *err);

/* Moves an entity to the front of its root collection (its edge's time
** and index entries renewed), as a re-post of it does. */
store_rc store_entity_touch(store_txn *t, const store_app *app,
                            const store_id *id);

/* Deletes an entity with its unique values and all its edges.  *out, if
** not NULL, receives the entity as it was. */
store_rc store_entity_delete(store_txn *t, const store_app *app,
                             const store_id *id, json_t **out, store_err *err);

/* ---- collection settings (settings.c) ----------------------------------
** A collection's rules, kept in the store (docs/api.md, "Collection
** settings"): unique, required, types, readonly, single, counts,
** deleteOnlyWhenEmpty, audit, and Usergrid's fields.  Each is checked in
** the transaction of the write it governs. */

/* Changing a collection's rules rewrites its entities in one write
** transaction, which every other write waits for (about 2.5 s for
** 100,000 entities on the reference machine): a collection larger than
** this (store_options.settings_rewrite_max) refuses new rules with
** STORE_INVALID naming the limit.  A reset rewrites nothing, and neither
** does a change of `fields` alone (it records a reindex: below). */
#define STORE_SETTINGS_REWRITE_MAX 100000

/* Paths a `fields` list may name. */
#define STORE_FIELDS_MAX 100

/* A change of `fields` reindexes the collection in steps of at most this
** many entities (store_options.reindex_batch), each its own write
** transaction: the longest another write waits for one. */
#define STORE_REINDEX_BATCH 250

/* A reindex whose step failed is held back this long (ms), while the
** others run; a change of its collection's `fields` asks for it at once. */
#define STORE_REINDEX_RETRY_MS 60000

/* Runs one step of a pending reindex that is not held back (core/fields.c)
** in a write transaction of its own; *more is 1 when it did (call again),
** 0 when no reindex is left to step now.  A step that fails changes
** nothing but its record, which keeps the failure ("failed": {"at": ms,
** "error": text}, in the settings' "reindexing" too) and is held back:
** the failure is returned, err (may be NULL) naming the collection, with
** *more 1 so the caller goes on with the others. */
store_rc store_reindex_step(store *s, int *more, store_err *err);
/* Runs every pending reindex to its end, or until it is held back by a
** failure; *steps (may be NULL) counts the steps that did.  Returns the
** first failure, once the others have run. */
store_rc store_reindex_finish(store *s, uint64_t *steps);

/* {"data": settings, "lastUpdated": ms, "lastUpdateBy": who} of the
** collection of type (data {} when none were set), with "lastReindexed"
** (ms) once a `fields` change was applied and "reindexing" ({"started":
** ms, "entities": done}) while one is; new reference. */
store_rc store_settings_get(store_txn *t, const store_app *app, const char *type,
                            json_t **out);
/* Replaces (merge = 0) or merges into the settings; body NULL resets them.
** A bad document is STORE_INVALID naming the key; settings the stored
** entities break are STORE_CONFLICT (code settings_conflict) naming one,
** and nothing changes.  *out (may be NULL) as store_settings_get. */
store_rc store_settings_set(store_txn *t, const store_app *app, const char *type,
                            json_t *body, int merge, const char *by, json_t **out,
                            store_err *err);

/* ---- edges: collections and connections -------------------------------- */

/* Every edge is stored twice, once from each end.  A root collection is
** the COLLECTION edge set owned by the application's UUID.  A `feed`
** (COLLECTION) is read as its owner's own edges merged with the posts the
** owner's groups shared while it was a member (feed.c): the listings,
** store_edge_time and store_edge_has see both, positions alike;
** store_edge_count counts the own edges only. */
typedef enum {
	STORE_EDGE_COLLECTION = 'c',  /* owner's collection `name` holds target */
	STORE_EDGE_MEMBER_OF  = 'm',  /* reverse: owner is in target's `name`   */
	STORE_EDGE_OUT        = 'o',  /* owner -name-> target (connection)      */
	STORE_EDGE_IN         = 'i'   /* reverse: target -name-> owner          */
} store_edge_kind;

/* A position inside an edge listing: opaque bytes for cursors. */
#define STORE_POS_SIZE 24
typedef struct {
	unsigned char b[STORE_POS_SIZE];
	int set;
} store_pos;

/* Adds owner -kind/name-> target (and its reverse).  An existing edge is
** moved to the front (its time refreshed).  kind is COLLECTION or OUT.
** *created (may be NULL) is 1 when the edge is new. */
store_rc store_edge_put(store_txn *t, const store_app *app,
                        const store_id *owner, store_edge_kind kind,
                        const char *name, const store_id *target, int *created);
/* Removes the edge and its reverse; STORE_NOTFOUND if absent. */
store_rc store_edge_del(store_txn *t, const store_app *app,
                        const store_id *owner, store_edge_kind kind,
                        const char *name, const store_id *target);
/* STORE_OK if the edge exists, else STORE_NOTFOUND. */
store_rc store_edge_has(store_txn *t, const store_app *app,
                        const store_id *owner, store_edge_kind kind,
                        const char *name, const store_id *target);
/* The same, with the edge's time (its place in the owner's listing). */
store_rc store_edge_time(store_txn *t, const store_app *app,
                         const store_id *owner, store_edge_kind kind,
                         const char *name, const store_id *target, uint64_t *time);
/* Lists targets newest first, after `after` (NULL or unset: from the
** start), at most `limit` of them into ids[]; *n gets the count and *last
** the position of the last one listed. */
store_rc store_edge_list(store_txn *t, const store_app *app,
                         const store_id *owner, store_edge_kind kind,
                         const char *name, const store_pos *after,
                         size_t limit, store_id *ids, size_t *n,
                         store_pos *last);
/* Like store_edge_list, with the position of every entry in poss[] (may
** be NULL), so a caller that stops part-way through knows where. */
store_rc store_edge_scan(store_txn *t, const store_app *app,
                         const store_id *owner, store_edge_kind kind,
                         const char *name, const store_pos *after,
                         size_t limit, store_id *ids, store_pos *poss,
                         size_t *n);
/* The same in either direction: oldest_first lists from the other end. */
store_rc store_edge_scan_dir(store_txn *t, const store_app *app,
                             const store_id *owner, store_edge_kind kind,
                             const char *name, int oldest_first,
                             const store_pos *after, size_t limit,
                             store_id *ids, store_pos *poss, size_t *n);
/* The edge time a position holds, and a position from a time and target
** (a root-collection edge at `time` is also an index entry's time). */
uint64_t store_pos_time(const store_pos *pos);
void     store_pos_make(store_pos *pos, uint64_t time, const store_id *target);
/* The position of owner's edge kind/name to target; STORE_NOTFOUND if none. */
store_rc store_edge_pos(store_txn *t, const store_app *app, const store_id *owner,
                        store_edge_kind kind, const char *name, const store_id *target,
                        store_pos *out);
/* Number of edges owner has of kind/name (not kept for MEMBER_OF: 0). */
store_rc store_edge_count(store_txn *t, const store_app *app,
                          const store_id *owner, store_edge_kind kind,
                          const char *name, uint64_t *out);
/* {name: count, ...} of every non-empty name of `kind` owner has, in name
** order; new.  MEMBER_OF keeps no counts: each of its names counts 1. */
store_rc store_edge_names(store_txn *t, const store_app *app,
                          const store_id *owner, store_edge_kind kind,
                          json_t **out);

/* The names of id's outgoing (*out) and incoming (*in) connections, as
** store_edge_names gives them, in one read; each NULL when it has none. */
store_rc store_edge_verbs(store_txn *t, const store_app *app, const store_id *id,
                          json_t **out, json_t **in);

/* *owned = 1 when an entity other than the application holds id in one of
** its collections (a group its member, a user its device): Usergrid's
** "owners" of an entity, shown as metadata.connecting.owners. */
store_rc store_edge_owned(store_txn *t, const store_app *app, const store_id *id,
                          int *owned);

/* ---- counters (counter.c, spec 8) ------------------------------------- */

#define STORE_COUNTER_NAME_MAX 200   /* bytes of a counter's name */

/* An event's side of its creation, in its transaction: a timestamp of 0
** (or none) becomes now, and each of its `counters` ({"name": n}) is
** added to, with its dotted roll-ups, in every resolution's bucket of the
** timestamp.  STORE_INVALID for a bad timestamp or counter. */
store_rc store_counters_event(store_txn *t, const store_app *app, json_t *event,
                              store_err *err);
/* A resolution by name (all, minute, five_minutes, half_hour, hour,
** six_hour, half_day, day, week, month; any case): 1 with *out set. */
int      store_counter_resolution(const char *name, int *out);
/* The longest resolution not longer than `minutes` (all when none). */
int      store_counter_resolution_of_minutes(int64_t minutes);
/* The names events have counted, sorted (new array). */
store_rc store_counter_names(store_txn *t, const store_app *app, json_t **out);
/* A counter's buckets of resolution res from start to finish (ms; as
** of now, not of t's snapshot: the counts written and those tallied; as
** Usergrid: start < 0 is 0, finish <= 0 or before start is now, both
** rounded down to the resolution, at most 1000 buckets when padded), as a
** new array of {timestamp, value}, oldest first; pad adds the empty
** buckets as 0 (not for `all`). */
store_rc store_counter_series(store_txn *t, const store_app *app, const char *name,
                              int res, int64_t start, int64_t finish, int pad,
                              json_t **out);

/* Where consumer `name` (1 to STORE_NAME_MAX bytes, any case) has read the
** events queue to: a position in the application's `events` collection
** (pos->set = 0 when it has read nothing).  STORE_INVALID for a bad name. */
store_rc store_consumer_get(store_txn *t, const store_app *app, const char *name,
                            store_pos *out);
store_rc store_consumer_set(store_txn *t, const store_app *app, const char *name,
                            const store_pos *pos);

/* Adds by to counter name (with its roll-ups, at now) without a write
** transaction, as a read request may: tallied in a table of the calling
** thread's, written by the next top-level write commit, and counted by
** store_counter_series from the moment it is tallied.  A thread tallies
** at most 256 (app, name, minute) between two commits; more are lost. */
void     store_counter_tick(store *s, const store_app *app, const char *name, int64_t by);
/* 1 when ticks wait for a write commit (an empty write commit writes them). */
int      store_counter_pending(store *s);

/* ---- assets: binary data on entities (asset.c) ------------------------- */

/* Stores data as the binary content of entity id (replacing any), with
** its `file-metadata` (content-type, content-length, checksum and etag:
** the MD5 in hex, last-modified: now in ms), in one transaction.  *out
** (may be NULL) gets the entity as stored.  STORE_NOTFOUND when there is
** no such entity, STORE_INVALID when content_type is no media type. */
store_rc store_asset_put(store_txn *t, const store_app *app, const store_id *id,
                         const void *data, size_t n, const char *content_type,
                         json_t **out, store_err *err);
/* A new copy (malloc'd, *out) of bytes [off, off + len) of id's data,
** cut to its end; *total gets its whole length.  STORE_NOTFOUND when the
** entity holds no data. */
store_rc store_asset_get(store_txn *t, const store_app *app, const store_id *id,
                         uint64_t off, uint64_t len, void **out, size_t *total);

/* ---- relationships: sub-collections, groups, activities, dictionaries -- */

/* The item type of owner_type's schema collection `coll`, or NULL when
** coll is not one (then it is a connection verb). */
const char *store_coll_item_type(const char *owner_type, const char *coll);

/* Adds item to owner's collection (spec 1.4): the item must exist and be of
** the collection's item type (else STORE_NOTFOUND); the linked reverse
** collection (users<->groups, users<->roles, groups<->roles,
** users<->devices) is written too.  Re-adding refreshes the edge time. */
store_rc store_coll_add(store_txn *t, const store_app *app,
                        const store_id *owner, const char *owner_type,
                        const char *coll, const store_id *item);
/* owner -verb-> target, and the reverse; both ends' `counts` settings
** follow (settings.c).  *created (may be NULL) as store_edge_put. */
store_rc store_connect(store_txn *t, const store_app *app, const store_id *owner,
                       const char *verb, const store_id *target, int *created);
/* Removes the connection both ways (STORE_NOTFOUND if there is none). */
store_rc store_disconnect(store_txn *t, const store_app *app, const store_id *owner,
                          const char *verb, const store_id *target);
/* Removes the membership both ways; STORE_NOTFOUND if item is no member. */
store_rc store_coll_remove(store_txn *t, const store_app *app,
                           const store_id *owner, const char *owner_type,
                           const char *coll, const store_id *item);

/* Resolves a hierarchical group path given as the names of segs (spec 4):
** a uuid in segs[0], or the longest existing path among segs[0],
** segs[0]/segs[1], ...  *used gets how many names the group's path took.
** The caller decides which names may belong to the path at all. */
store_rc store_group_resolve(store_txn *t, const store_app *app,
                             const store_slice *segs, size_t n,
                             store_id *out, size_t *used);

/* Posts an activity with the fan-out of spec 5.5, all in t:
**   owner NULL                 -> root activities only
**   owner a user               -> user's activities; user's and followers' feeds
**   owner a group              -> group's activities and feed; members' feeds
**   owner a user, via a group  -> user's activities and feed; feeds of the
**                                 user's followers who are members of via
** For a user owner a missing actor (or one without uuid/email) is filled. */
store_rc store_activity_post(store_txn *t, const store_app *app,
                             const store_id *owner, const store_id *via,
                             json_t *body, json_t **out, store_err *err);

/* follower -following-> leader; the leader's activities are copied into
** the follower's feed when the edge is new.  The leader must be a user
** (else STORE_NOTFOUND). */
store_rc store_follow(store_txn *t, const store_app *app,
                      const store_id *follower, const store_id *leader);

/* The rolenames set of owner (a user or group): {name: title} of the
** roles in its collection `roles` (the name where a role has no title);
** *out is new. */
store_rc store_rolenames(store_txn *t, const store_app *app, const store_id *owner,
                         json_t **out);

/* Entity dictionaries (permissions): sets of strings per entity. */
store_rc store_dict_add(store_txn *t, const store_app *app, const store_id *id,
                        const char *dict, const char *value);
store_rc store_dict_remove(store_txn *t, const store_app *app,
                           const store_id *id, const char *dict,
                           const char *value);
/* The dictionary's values, sorted, as a new JSON array. */
store_rc store_dict_list(store_txn *t, const store_app *app, const store_id *id,
                         const char *dict, json_t **out);

/* ---- property indexes (index.c) ---------------------------------------------
** Every leaf value of every entity is indexed under its dotted path (names
** lower-cased), typed, in the entity's write transaction, and every
** location object under the GEO tag; a forward scan lists the entries of
** one value oldest first.  query/ plans and scans with these. */

#define STORE_INDEX_MAX_PATH 200   /* longer paths are not indexed */

typedef enum {                     /* in mixed-type sort order (spec 6.6) */
	STORE_IX_DOUBLE = 0x10,
	STORE_IX_LONG   = 0x20,
	STORE_IX_STRING = 0x30,
	STORE_IX_BOOL   = 0x40,
	STORE_IX_WORD   = 0x50,        /* the words of strings, for contains */
	STORE_IX_GEO    = 0x60         /* a location object: latitude, longitude */
} store_ix_tag;

typedef struct {
	store_ix_tag tag;
	double       d;                /* DOUBLE; GEO: latitude */
	double       d2;               /* GEO: longitude */
	int64_t      l;                /* LONG */
	int          b;                /* BOOL */
	const char  *s;                /* STRING, WORD: compared lower-cased */
	size_t       n;
} store_ix_value;

/* Dotted property paths (spec 6.5): names joined by '.', each naming a
** property in any case.  store_path_name gives the length of path's first
** name and sets *rest to what follows it ("" after the last);
** store_path_is says whether property key spells name[0..n). */
size_t  store_path_name(const char *path, const char **rest);
int     store_path_is(const char *key, const char *name, size_t n);
/* The property of object v that path's first name names (the last key
** that spells it), or NULL; *key (may be NULL) gets its key and *rest the
** path after the name. */
json_t *store_path_child(json_t *v, const char *path, const char **key, const char **rest);

/* The word rule of `contains` (spec 6.5), the one the index, the planner
** and the evaluator share: a word is a run of ASCII letters and digits and
** bytes of non-ASCII characters; any other byte separates words.  It does
** not depend on the locale.  The index keeps a word's first STORE_WORD_MAX
** bytes. */
#define STORE_WORD_MAX 64
int store_word_byte(unsigned char c);
/* The next word of s[0..n) at or after *i (which moves past it): its start
** and whole length; 0 when there is none. */
int store_word_next(const char *s, size_t n, size_t *i, size_t *start, size_t *len);

/* The coordinates of a location object: numeric latitude and longitude
** (or lat and lon), names in any case.  Returns 1 when v is one. */
int store_location_of(json_t *v, double *lat, double *lon);

/* A range of one property's index of one type.  tag 0 with no bounds is
** every scalar value (all of DOUBLE..BOOL, in that order); else lo/hi (NULL
** = open) bound values of `tag`; prefix: every string starting with lo. */
typedef struct {
	const char           *type, *path;
	int                   tag;
	const store_ix_value *lo, *hi;
	int                   lo_incl, hi_incl;
	int                   prefix;
	int                   desc;    /* scan from the upper end down */
} store_ix_range;

/* A position in an index scan (opaque cursor bytes). */
#define STORE_IXPOS_MAX 512
typedef struct {
	unsigned char b[STORE_IXPOS_MAX];
	size_t        n;               /* 0 = from the start */
} store_ix_pos;

/* Lists up to limit entities of the range in index order after `after`
** (may be NULL); poss and times (may be NULL) get each entry's position
** and root-collection edge time. */
store_rc store_index_scan(store_txn *t, const store_app *app,
                          const store_ix_range *r, const store_ix_pos *after,
                          size_t limit, store_id *ids, store_ix_pos *poss,
                          uint64_t *times, size_t *n);
/* Does the index hold values (words, for STORE_IX_WORD) of this path?  The
** one rule the walker follows and the planner asks: not paths longer than
** STORE_INDEX_MAX_PATH, not `type` (every entry of a type's index has it),
** not the words of `uuid`. */
int store_index_holds(const char *path, store_ix_tag tag);

/* What the index has seen of a path (flags only ever get set): MULTI, some
** entity had several values there (an array); LONG, some string there was
** too long for a key and was cut.  0 when neither. */
/* OFF (not stored, asked of the settings): the collection's `fields` do
** not index the path, or its reindex has not reached every entity yet; no
** query may drive from its entries. */
enum { STORE_IXF_MULTI = 1, STORE_IXF_LONG = 2, STORE_IXF_OFF = 4 };
unsigned store_index_flags(store_txn *t, const store_app *app, const char *type,
                           const char *path);

/* Do two positions of one range's scan hold the same value (entries of
** one value differ only in their (time, entity) tail)? */
int store_ix_pos_same_value(const store_ix_pos *a, const store_ix_pos *b);

/* 1 when the index entry at pos holds the value v (same type and path). */
int store_index_pos_is(const store_app *app, const char *type, const char *path,
                       const store_ix_pos *pos, const store_ix_value *v);

/* What one entity may hold (docs/security.md, "Limits on writes").  Every
** leaf value is an index entry and every word of a string one more, and
** all of them are written in the request's transaction, so these bound
** what one write costs the writer. */
#define STORE_MAX_PROPERTIES    2000    /* property names, nested ones counted */
#define STORE_MAX_ARRAY         10000   /* elements of one array */
#define STORE_MAX_INDEX_ENTRIES 50000   /* index entries (values and words) */

/* Checks a body or an entity against the limits above; with names=1 also
** the rule for property names: none holds a '.', since a dotted name is a
** nested path everywhere a property is named (queries, order by, select).
** *entries (may be NULL) gets the index entries it makes at most.
** STORE_INVALID with a message naming the limit or the property. */
store_rc store_entity_check(json_t *v, int names, size_t *entries, store_err *err);

/* Counts the entries of the range, stopping at cap. */
store_rc store_index_count(store_txn *t, const store_app *app,
                           const store_ix_range *r, size_t cap, size_t *n);

/* ---- credentials ---------------------------------------------------------- */

#define STORE_SECRET_MAX 256     /* bytes of a password or pin */
#define STORE_PASSWORD_MIN 8     /* the default password policy: at least this many bytes */

/* Stores a salted slow hash (yescrypt) of secret as the entity's `kind`
** credential ("password", "pin"); the plain text is never stored.  A
** password shorter than the policy's minimum (store_options.password_min)
** is STORE_POLICY. */
store_rc store_secret_set(store_txn *t, const store_app *app,
                          const store_id *id, const char *kind,
                          const char *secret);
/* STORE_OK when secret matches, STORE_NOTFOUND when it does not or no
** credential of that kind exists. */
store_rc store_secret_check(store_txn *t, const store_app *app,
                            const store_id *id, const char *kind,
                            const char *secret);

/* ---- operations: format versions, upgrades --------------------------------- */

/* The on-disk format this build reads and writes (core/keys.h), recorded in
** the store.  A store that records none was made before formats were
** numbered: format 0, whose layout is format 1's. */
#define STORE_FORMAT 6

/* Where reports go, one line (no newline) per call. */
typedef struct {
	void (*say)(void *ctx, const char *line);
	void  *ctx;
} store_sink;

/* Upgrades the store in dir to STORE_FORMAT in one transaction, saying
** each step; with dry_run it only says what it would do.  A store already
** at STORE_FORMAT is left alone; a newer one is refused (STORE_CONFLICT). */
store_rc store_upgrade(const char *dir, const store_options *opt, int dry_run,
                       const store_sink *out, store_err *err);

/* ---- check and repair (check.c) ---------------------------------------------- */

typedef struct {
	uint64_t keys;       /* keys read by the last pass */
	uint64_t faults;     /* faults the last pass found (0: the store is clean) */
	uint64_t repaired;   /* fixes applied */
} store_check_stats;

/* Verifies every invariant the store relies on (check.c lists them) in one
** read transaction, saying each fault and a summary to out.  With repair,
** each pass runs in a write transaction that also applies the fixes of
** what derives from the entities and edges (indexes, unique values, counts,
** reverse edge ends; keys of missing entities go), saying each, and the
** store is checked again until clean or nothing more can be fixed. */
store_rc store_check(store *s, int repair, const store_sink *out,
                     store_check_stats *stats);

/* ---- export and import (export.c) -------------------------------------------- */

/* How far a long run is: called now and then with entities (or bytes)
** done and the total (0 when unknown). */
typedef struct {
	void (*step)(void *ctx, uint64_t done, uint64_t total);
	void  *ctx;
} store_progress;

/* Writes one application as NDJSON records, each one line to out, from
** one read transaction: the application record, every entity (with its
** uuid, timestamps and collection time), every edge that is not a root
** collection's (from its owner's end, with its time), dictionary entries,
** and credentials as their salted hashes.  progress may be NULL. */
store_rc store_export(store *s, store_slice org, store_slice app, const store_sink *out,
                      const store_progress *progress, store_err *err);

/* Import state: the application the records go to, set by the first
** record (the application's own), and what was read and changed.  With
** `fixed` (the caller sets app and have_app) the records go into app
** whatever the file says: see store_import_record. */
typedef struct {
	store_app app;
	int       have_app;
	int       fixed;       /* app is the one application written */
	int       have_from;   /* fixed: from is the file's (first) application */
	int       foreign;     /* fixed: the records now read are another one's */
	store_id  from;
	uint64_t  records, changed;
	uint64_t  replaced;    /* fixed: entities the file's took unique values from */
} store_import_state;

/* Loads one exported record into t: the application first (created, with
** its organization, when missing; refused when it exists with another
** uuid), then entities, edges, dictionaries and credentials, each written
** only where the store differs, so importing a file twice changes nothing
** the second time.
**
** A fixed import writes into st->app only: no organization or application
** is created or switched to.  The file's first application record names
** where the file came from (any uuid and name: an export goes into a fresh
** application) and only its own properties are merged into st->app.  A
** later application record of another uuid starts records of another
** application: it and every record up to an application record of the
** first uuid are refused (STORE_INVALID, err says so), never written.  An
** entity of the file takes its schema's unique values (a role's name, a
** user's username or email) from an entity of st->app that holds them
** under another uuid: that entity is deleted first (st->replaced), so the
** file's roles replace the default roles of a new application. */
store_rc store_import_record(store_txn *t, store_import_state *st, json_t *rec,
                             store_err *err);

/* Writes a consistent, compacted copy of the whole store into the file
** path, from one read transaction (writers go on meanwhile): first to
** path.tmp (STORE_EXISTS when that exists: another backup is under way),
** synced, then renamed.  *size (may be NULL) receives its bytes. */
store_rc store_backup(store *s, const char *path, uint64_t *size, store_err *err);

/* Makes dir the store of the backup file `from`.  A directory that is not
** empty is refused (STORE_EXISTS) unless force, and even then while a
** process has its store open (STORE_CONFLICT). */
store_rc store_restore(const char *from, const char *dir, int force, store_err *err);

#endif
