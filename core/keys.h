/*
** keys.h: the LMDB layout of ugstore, and the only place that builds keys.
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
** its `fields` (fields.c); absent = its index holds what `fields` lists.
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

/* A collection's record in meta: lead ('C' settings, 'R' a reindex in
** progress), app, type\0. */
static inline void
key_coll_meta(keybuf *k, unsigned lead, const store_app *app, const char *type)
{
	key_init(k);
	key_u8(k, lead);
	key_id(k, &app->uuid);
	key_str(k, type);
}

/* meta: the settings of the collection of type (settings.c). */
static inline void
key_settings(keybuf *k, const store_app *app, const char *type)
{
	key_coll_meta(k, 'C', app, type);
}

/* A collection's reindex in progress (fields.c). */
static inline void
key_reindex(keybuf *k, const store_app *app, const char *type)
{
	key_coll_meta(k, 'R', app, type);
}

/* feeds: app, tag ('s' shared posts of a group, 'a' the group and time of a
** shared activity, 'i' a user's membership intervals), id (feed.c). */
static inline void
key_feed(keybuf *k, const store_app *app, int tag, const store_id *id)
{
	key_init(k);
	key_id(k, &app->uuid);
	key_u8(k, (unsigned)tag);
	key_id(k, id);
}

/* feeds: the key of a shared post */
static inline void
key_feed_shared(keybuf *k, const store_app *app, const store_id *group, uint64_t time,
                const store_id *activity)
{
	key_feed(k, app, 's', group);
	key_u64(k, ~time);
	key_id(k, activity);
}

/* feeds: app, 'i', user, group: the intervals of one membership (newest
** first: ~join follows) */
static inline void
key_feed_spans(keybuf *k, const store_app *app, const store_id *user, const store_id *group)
{
	key_feed(k, app, 'i', user);
	key_id(k, group);
}

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
