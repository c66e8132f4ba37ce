/*
** keys.h: the LMDB layout of ugstore and its key builders (keys.c), the
** only place that builds keys: one function for each key shape below; and
** the decoders of the feeds keys.
**
** One environment, named databases.  Every key of application data starts
** with the 16-byte application UUID, so one application is one contiguous
** key range in every database.  Integers in keys are big-endian so that
** byte order is numeric order.  Strings that are not the last component end
** with a 0x00 byte (JSON strings here cannot hold NUL: jansson rejects
** \u0000 unless asked).  `lc(x)` is x lower-cased (ASCII letters).
**
**   dbi       key                                              value
**   --------  -----------------------------------------------  ----------------
**   orgs      'n' lc(name)                                     org uuid (16)
**             'u' org uuid                                     org record (JSON)
**   apps      'n' org uuid lc(app name)                        app uuid (16)
**             'u' app uuid                                     app record (JSON)
**   entities  app, entity uuid                                 entity (JSON text)
**   unique    app, type\0, property\0, lc(value)               entity uuid (16)
**             app, type\0, '.' property\0                       single holder (16)
**   edges     app, owner, kind(1), name\0, ~time(8), target    empty
**   edge_at   app, owner, kind(1), name\0, target              time (8, BE)
**   counts    app, owner, kind(1), name                        count (8, BE)
**   index     app, type\0, path\0, tag, value, time(8), entity  empty   (index.c)
**   secrets   app, entity uuid, kind                           salted hash text
**   dicts     app, entity uuid, dictionary\0, value            empty
**   meta      "schema"                                         format (decimal text)
**             'p' app, type\0, path                           path flags (1)
**             'C' app, type\0                                 collection settings (JSON)
**             'R' app, type\0                                 a reindex in progress (JSON)
**             "authkey"                                        32 random bytes
**   assets    app, entity uuid                                 the entity's binary data (asset.c)
**   counters  app, 'n', lc(name)                               empty   (counter.c)
**             app, 'v', lc(name)\0, resolution(1), bucket(8)   value (8, BE, two's complement)
**             app, 'q', lc(consumer)                           position (24) in `events`
**   tokens    'h' sha256(token)                                token record (auth.c)
**             'e' expires(8), sha256(token)                    empty
**             's' kind(1), scope, subject, sha256(token)       empty
**   feeds     app, 's', group, ~time(8), activity              empty   (feed.c)
**             app, 'a', activity                               group (16), time (8, BE)
**             app, 'i', user, group, ~join(8)                  leave (8, BE; all ones = open)
**
** This layout is format STORE_FORMAT (store.h; 3 added tokens, the auth key
** and client secret generations, 4 collection settings, 5 selective
** indexing: an index that may lack the paths `fields` leaves out, and the
** 'R' reindex records, 6 shared group posts and membership intervals); a
** change to it raises the format and adds a step to upgrade.c.
** kind: 'c' collection (owner's collection `name` holds target), 'm' its
** reverse (owner is a member of target's `name`), 'o' outgoing connection
** `name`, 'i' its reverse.  Root collections are 'c' edges owned by the
** application uuid itself.  `time` is a per-environment strictly increasing
** microsecond clock; it is stored bit-inverted so a forward scan lists the
** newest edge first.  A value that would push a key past LMDB's 511-byte
** limit is cut and followed by a 64-bit hash of the whole value.
**
** unique: the schema's unique properties and those of a collection's
** `unique` setting (numbers and booleans as their JSON text); a property
** name with a leading '.' (no property has one) keys the one holder of the
** collection's `single` value of that property (settings.c).  meta 'C':
** {"data": settings, "lastUpdated": ms, "lastUpdateBy": who}; absent =
** no settings (format 4 is recorded so that an older ugstore, which would
** ignore the rules, refuses a store that may hold them).  meta 'R':
** {"present": F, "ready": F, "after": {"time": T, "uuid": U}, "started":
** ms, "done": N}, the progress of a collection's reindex after a change of
** its `fields` (fields.c), with "failed": {"at": ms, "error": text} after a
** step failed; absent = its index holds what `fields` lists.
**
** index: tag 0x10 double, 0x20 long (each an order-preserving 8-byte
** integer), 0x30 string (lc, then 0x00; a long one cut and hashed as
** above), 0x40 boolean (1 byte), 0x50 one word of a string (for
** contains), 0x60 geo: a location object's latitude then longitude (two
** such doubles, for within).  time is the entity's root-collection edge
** time, not inverted: the entries of one value list oldest first.
**
** feeds: the second delivery path of a group's activities (feed.c).  A
** post to a group of more than feed_copy_max members is kept once, as an
** 's' key of the group (newest first, its position the 24 bytes of an edge
** position) and its 'a' reverse; every group membership keeps its
** intervals [join, leave) as 'i' keys, newest first, written in the
** transaction of the membership change.  A user's feed is the merge of its
** own feed edges and the shared posts of its groups that lie in its
** intervals.
**
** tokens: an access token is kept only as its SHA-256; the record is
** kind(1), scope(16), subject(16), expires ms(8, 0 = never), created
** ms(8).  'e' keys list tokens by expiry so expired ones are purged in
** bounded steps; 's' keys list a subject's tokens so they can be revoked
** together.  secrets also holds (scope, scope, "client") = the generation
** (8) of an org's or app's client secret, which is derived from authkey.
*/
#ifndef UG_KEYS_H
#define UG_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/store.h"

#define KEY_MAX 511       /* LMDB's default maximum key size */
#define KEY_HASH_TAIL 9   /* 0x00 + 8-byte hash after a cut value */
#define KEY_SHA256 32     /* a token's hash in its keys */

enum {
	DBI_ORGS, DBI_APPS, DBI_ENTITIES, DBI_UNIQUE, DBI_EDGES, DBI_EDGE_AT,
	DBI_COUNTS, DBI_INDEX, DBI_SECRETS, DBI_DICTS, DBI_META, DBI_COUNTERS, DBI_ASSETS,
	DBI_TOKENS, DBI_FEEDS,
	DBI_COUNT
};

typedef struct {
	unsigned char b[KEY_MAX];
	size_t n;
	int overflow;      /* set when a component did not fit */
} keybuf;

static inline void
key_init(keybuf *k)
{
	k->n = 0;
	k->overflow = 0;
}

static inline void
key_put(keybuf *k, const void *p, size_t n)
{
	if (n > KEY_MAX - k->n) {
		k->overflow = 1;
		return;
	}
	memcpy(k->b + k->n, p, n);
	k->n += n;
}

static inline void
key_u8(keybuf *k, unsigned v)
{
	unsigned char c = (unsigned char)v;
	key_put(k, &c, 1);
}

static inline void
key_u64(keybuf *k, uint64_t v)
{
	unsigned char b[8];
	for (int i = 7; i >= 0; i--, v >>= 8) b[i] = (unsigned char)v;
	key_put(k, b, 8);
}

static inline uint64_t
key_get_u64(const unsigned char *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) v = (v << 8) | b[i];
	return v;
}

static inline void
key_id(keybuf *k, const store_id *id)
{
	key_put(k, id->b, 16);
}

/* A string component followed by its 0x00 terminator. */
static inline void
key_str(keybuf *k, const char *s)
{
	key_put(k, s, strlen(s) + 1);
}

/* A key copied whole from bytes read back (a key of a scan, a keyset's
** entry): no shape is built. */
static inline void
key_raw(keybuf *k, const void *p, size_t n)
{
	key_init(k);
	key_put(k, p, n);
}

/* An 8-byte big-endian value (times, counts, generations): the integers
** of values are written as those of keys. */
static inline void
val_u64(keybuf *v, uint64_t x)
{
	key_init(v);
	key_u64(v, x);
}

/* Makes p the key just past every key that starts with p; 0 when there is
** none (p empty or all 0xFF: p is left empty). */
int key_successor(keybuf *p);

/* ---- the builders: one function for each key shape (keys.c) ---------------
** Each builds a whole key (or the prefix it names) into k, in the layout
** of the table above. */

/* every key of an application's data in a database: [lead,] app */
void key_app_keys(keybuf *k, int lead, const store_id *app);

/* orgs 'n' lc(name) */
void key_org_name(keybuf *k, store_slice name);
/* orgs and apps: 'u' uuid, the record */
void key_rec(keybuf *k, const store_id *id);
/* apps 'n' org: the prefix of an org's app names; then lc(name) */
void key_app_names(keybuf *k, const store_id *org);
void key_app_name(keybuf *k, const store_id *org, store_slice name);

/* entities (and assets): app, entity uuid; the prefix of every key of
** the entity in edges, edge_at, secrets and dicts */
void key_entity(keybuf *k, const store_app *app, const store_id *id);
/* unique: app, type\0, lc(property)\0, lc(value) */
void key_unique(keybuf *k, const store_app *app, const char *type, const char *prop,
                const char *val);

/* edges, edge_at, counts: app, owner, kind (the prefix of an owner's
** edges of one kind) */
void key_edge_kind(keybuf *k, const store_app *app, const store_id *owner,
                   store_edge_kind kind);
/* app, owner, kind, name\0: the prefix of an edge set */
void key_edge_head(keybuf *k, const store_app *app, const store_id *owner,
                   store_edge_kind kind, const char *name);
/* edges: the head, ~time, target */
void key_edge(keybuf *k, const store_app *app, const store_id *owner,
              store_edge_kind kind, const char *name, uint64_t time,
              const store_id *target);
/* appends a position (STORE_POS_SIZE): ~time, target; the tail of an
** edges key and of a shared post's */
void key_pos(keybuf *k, uint64_t time, const store_id *target);
/* appends the bound of the positions at `time`: before them all (~time),
** or past them all (~time and 17 0xFF bytes) */
void key_pos_bound(keybuf *k, uint64_t time, int past);
/* edge_at: the head, target */
void key_edge_at(keybuf *k, const store_app *app, const store_id *owner,
                 store_edge_kind kind, const char *name, const store_id *target);
/* counts: app, owner, kind, name */
void key_count(keybuf *k, const store_app *app, const store_id *owner,
               store_edge_kind kind, const char *name);
/* the head of the edges a counts key k[0..n) counts */
void key_count_edges(keybuf *k, const void *count, size_t n);

/* index: app, type\0, path\0 (overflow for a path longer than
** STORE_INDEX_MAX_PATH): the prefix of a path's entries */
void key_ix_head(keybuf *k, const store_app *app, const char *type, const char *path);
/* How key_ix_value writes a value: as an index entry (a cut string gets
** 0x00 and its hash), as a range bound (a cut string becomes its cut
** prefix), or as a string prefix (never terminated). */
enum { KEY_IX_ENTRY, KEY_IX_BOUND, KEY_IX_PREFIX };
#define KEY_IX_TAIL 24    /* what follows an entry's value: time, uuid */
/* Appends tag and value, a string lower-cased with room kept for the
** tail; returns 1 when a string was cut. */
int  key_ix_value(keybuf *k, const store_ix_value *v, int mode);
/* index: the head, value, time, entity; returns 1 when a string was cut */
int  key_ix_entry(keybuf *k, const store_app *app, const char *type, const char *path,
                  const store_ix_value *v, uint64_t time, const store_id *id);
/* meta 'p' app, type\0, path, then the flag byte of a noted flag */
void key_ix_flags(keybuf *k, const store_app *app, const char *type, const char *path);

/* secrets: app, entity, kind */
void key_secret(keybuf *k, const store_app *app, const store_id *id, const char *kind);
/* secrets: scope, scope, "client": an org's or app's client secret generation */
void key_client(keybuf *k, const store_id *scope);

/* dicts: app, entity, dictionary\0 (the prefix of its values); then value */
void key_dict(keybuf *k, const store_app *app, const store_id *id, const char *dict);
void key_dict_value(keybuf *k, const store_app *app, const store_id *id, const char *dict,
                    const char *value);

/* meta: a store-wide record by its word ("schema", "authkey") */
void key_meta(keybuf *k, const char *word);
/* meta: a collection's record: lead ('C' settings, 'R' a reindex in
** progress), app, type\0 */
void key_coll_meta(keybuf *k, unsigned lead, const store_app *app, const char *type);
void key_settings(keybuf *k, const store_app *app, const char *type);
void key_reindex(keybuf *k, const store_app *app, const char *type);
/* every key of a family: its lead byte alone */
void key_lead(keybuf *k, unsigned lead);

/* counters: the tag after app */
enum { KEY_COUNTER_NAME = 'n', KEY_COUNTER_VALUE = 'v', KEY_COUNTER_CONSUMER = 'q' };
/* counters: app, 'n' (the prefix of the names); then the name's bytes
** (lower-cased by the caller) */
void key_counter_names(keybuf *k, const store_app *app);
void key_counter_name(keybuf *k, const store_app *app, const char *lc, size_t n);
/* counters: app, 'v', name\0, resolution, bucket (bucket < 0: the prefix
** of the resolution's buckets) */
void key_counter_value(keybuf *k, const store_app *app, const char *name, int res,
                       int64_t bucket);
/* counters: app, 'q', lc(consumer) */
void key_counter_consumer(keybuf *k, const store_app *app, const char *lc, size_t n);

/* tokens: 'h' sha256 */
void key_token_hash(keybuf *k, const unsigned char h[KEY_SHA256]);
/* tokens: 'e' expires, sha256 (h NULL: the prefix of that expiry) */
void key_token_expiry(keybuf *k, int64_t expires, const unsigned char h[KEY_SHA256]);
/* tokens: 's' kind, scope, subject, sha256 (h NULL: the subject's prefix) */
void key_token_subject(keybuf *k, unsigned kind, const store_id *scope, const store_id *id,
                       const unsigned char h[KEY_SHA256]);

/* feeds: app, tag ('s' shared posts of a group, 'a' the group and time of a
** shared activity, 'i' a user's membership intervals), id (feed.c) */
void key_feed(keybuf *k, const store_app *app, int tag, const store_id *id);
/* feeds: the key of a shared post */
void key_feed_shared(keybuf *k, const store_app *app, const store_id *group, uint64_t time,
                     const store_id *activity);
/* feeds: app, 'i', user, group: the intervals of one membership (newest
** first: ~join follows) */
void key_feed_spans(keybuf *k, const store_app *app, const store_id *user,
                    const store_id *group);
/* feeds: one interval of a membership, by its join time */
void key_feed_span(keybuf *k, const store_app *app, const store_id *user,
                   const store_id *group, uint64_t join);

/* The parts of a feeds key, times un-inverted. */
typedef struct {
	store_id app;
	int      tag;     /* 's', 'a' or 'i' */
	store_id id;      /* 's' the group, 'a' the activity, 'i' the user */
	store_id other;   /* 's' the activity, 'i' the group */
	uint64_t time;    /* 's' the post's time, 'i' the join time */
} key_feed_parts;
/* Decodes a feeds key k[0..n) of one of the shapes above (each tag has its
** one length); 0 when it has none. */
int  key_feed_parse(const void *k, size_t n, key_feed_parts *f);
/* feeds 'a' value: the group (16) and the time (8) of a shared post; and
** its decoder (0 when v[0..n) is not one) */
void val_feed_shared(keybuf *v, const store_id *group, uint64_t time);
int  val_feed_shared_parse(const void *v, size_t n, store_id *group, uint64_t *time);

/* Appends the lower-cased bytes of v as the last component, cutting it
** and adding a hash of the whole value when it would not fit. */
void key_lc_tail(keybuf *k, const char *v, size_t n);
/*
** The one rule for a value that may not fit its key: appends v[0..n)
** lower-cased in at most `space` bytes.  term 1: an uncut value is
** followed by 0x00; term 2: room is kept for that 0x00 but it is not
** written (a prefix); term 0: neither.  A value that does not fit is cut:
** its first space - KEY_HASH_TAIL bytes, then, when `whole`, 0x00 and the
** 64-bit hash of the whole lower-cased value, so a cut value takes exactly
** `space` bytes.  Returns 1 when it was cut (overflow set when even its
** hash does not fit).  key_lc_tail is the rule with the rest of the key as
** space and no terminator.
*/
int  key_lc_cut(keybuf *k, const char *v, size_t n, size_t space, int term, int whole);

#endif
