/*
** exec_int.h: what the executor's files (plan.c, source.c, sort.c,
** exec.c) share and nobody else includes.
**
** A query runs in three steps:
**   1. plan.c reads the query's terms (the index ranges its top-level AND
**      chain, or the branches of a top-level OR, imply) and counts them
**      (plan_terms, plan_count: the only store reads of planning);
**   2. query_plan, a pure function of the query, those counts and the
**      cursor's kind, picks the plan: its driving terms, its order and the
**      cursor kinds it accepts;
**   3. exec.c drives it: one loop reads candidates from a source
**      (source.c: an index range, an edge listing or a keyset), matches
**      each one (eval.c) and hands it to a sink that takes it into the page
**      or, for the plans that sort in memory, to sort.c.
*/
#ifndef UG_EXEC_INT_H
#define UG_EXEC_INT_H

#include "query/query.h"

#define SCAN_BATCH 256

/* ---- plan.c ----------------------------------------------------------------- */

/* An index range a term of the where implies. */
typedef struct {
	store_ix_range r;
	store_ix_value lo, hi;
	char           uuid[37];  /* a UUID literal's text */
	int            eq;        /* every entry of the range holds one value */
	size_t         count;     /* entries, counted up to QUERY_RANGE_CAP (a
	                          ** latitude band: QUERY_MAX_SORT, see
	                          ** plan_counts_band) */
	size_t         branch;    /* the OR branch it belongs to (or_terms) */
	int            capped;    /* count is the cap it was counted to: there
	                          ** may be more */
	int            multi;     /* some entity has held several values at the
	                          ** path (STORE_IXF_MULTI): its bounds are not
	                          ** merged with other terms' */
	const char    *what;
} term;

/* What the store can drive for a query: its terms and what the index has
** seen of the first order key. */
typedef struct {
	int      indexed;                    /* a root collection of one type */
	int      scoped;                     /* a sub-collection, connection or
	                                     ** feed of one type: its type's
	                                     ** index can drive, each candidate
	                                     ** checked against the scope */
	uint64_t scope_size;                 /* the scope's edges (scoped) */
	int      scope_known;                /* scope_size is kept (not for a
	                                     ** MEMBER_OF listing) */
	const char *type;
	term     and_terms[QL_MAX_TERMS];    /* of the top-level AND chain */
	size_t   nand;
	term     or_terms[QL_MAX_TERMS];     /* of the branches of a top-level OR */
	size_t   nor;
	unsigned order_flags;                /* store_index_flags of order[0] */
	size_t   counted;                    /* index entries read to count */
	const char *unindexed;               /* a term's path the collection does
	                                     ** not index (STORE_IXF_OFF): the
	                                     ** term was dropped */
} plan_facts;

typedef enum {
	PLAN_EMPTY,    /* limit 0: nothing to read */
	PLAN_DIRECT,   /* the ids and names the query lists */
	PLAN_EQ,       /* one value's index entries, newest first */
	PLAN_ORDER,    /* the order key's index, then the entities without it */
	PLAN_GROUPS,   /* the same, equal first keys sorted by the other keys */
	PLAN_RANGE,    /* index ranges read whole, listed newest first */
	PLAN_SORT,     /* every candidate sorted in memory */
	PLAN_SCAN      /* the scope's edge listing, newest first */
} plan_kind;

typedef struct {
	plan_kind   kind;
	const term *drive[QL_MAX_TERMS];  /* EQ, RANGE (several: a union), SORT
	                                  ** (0 or 1), ORDER and GROUPS (0 or 1:
	                                  ** the where's bound on the key) */
	size_t      ndrive;
	int         desc;                 /* ORDER, GROUPS: the key's direction */
	int         cursor;               /* the cursor kind the plan makes */
	unsigned    accepts;              /* cursor kinds it reads, 1u << kind */
	const ql_node *within;            /* the `within` of the AND chain */
	int         scoped;               /* RANGE, SORT: index candidates are
	                                  ** checked against the scope and listed
	                                  ** by their time in it */
	uint64_t    scope_size;
	const char *unindexed;            /* SCAN, SORT: a path of the query the
	                                  ** collection does not index, or NULL */
} plan;

#define PLAN_ACCEPTS(p, kind) ((kind) < 32 && (((p)->accepts >> (kind)) & 1u))

/* Fills f's terms from q's where for entities of `type` (pure); counts
** are left 0.  indexed: the scope is a root collection of one type; else
** a scope of one type is `scoped`. */
void     plan_terms(const ql_query *q, const char *type, int indexed, plan_facts *f);
/* Does the planner need the latitude bands counted further (up to
** QUERY_MAX_SORT), every other term being too large to read whole? */
int      plan_counts_band(const ql_query *q, const plan_facts *f);
/* What planning asks the store: how many entries a range holds (up to
** cap) and what the index has seen of a path (store_index_flags).  The
** executor answers from a transaction, the planner's tests from a table. */
typedef struct {
	store_rc (*count)(void *ctx, const store_ix_range *r, size_t cap, size_t *n);
	unsigned (*flags)(void *ctx, const char *path);
	/* the scope's edges; *known 0 when the store keeps no count */
	store_rc (*scope_size)(void *ctx, uint64_t *n, int *known);
	void      *ctx;
} plan_store;

/* Merges the terms that bound one path (plan_merge), then counts every
** term of f (the AND chain's in rounds of growing caps, stopping at the
** round where one is smaller than the cap: the others are known to be at
** least that large, which is all the choice needs; an order key's index
** drives unless a term holds under 4 x limit, so no further) and reads the
** order key's flags.  First it drops the terms on paths the collection
** does not index (their flags say STORE_IXF_OFF: its `fields` leave them
** out, or its reindex has not built them yet): they drive nothing. */
store_rc plan_count(const plan_store *ps, const ql_query *q, size_t limit, plan_facts *f);
/* Terms of one AND chain on one path and value type, none a prefix, words
** or a band, bound the same single value where no entity holds several
** there (multi unset): they become one term with the tightest bounds of
** each side (possibly empty).  Pure. */
void     plan_merge(plan_facts *f);
/* The plan for q given f, the cursor's kind (0: none) and the page size.
** Pure. */
void     query_plan(const ql_query *q, const plan_facts *f, int cursor_kind, size_t limit,
                    plan *p);
/* How p finds its result, in words (the response's explain.plan). */
void     plan_describe(const plan *p, const ql_query *q, char *out, size_t cap);

/* ---- source.c: one iterator per driving structure ------------------------- */

/* (time, uuid): an entity's place in a newest-first listing, and the
** payload of a TIME cursor (8 bytes big-endian time, 16 bytes uuid). */
typedef struct {
	uint64_t time;
	store_id id;
} stamp;

void stamp_encode(const stamp *st, unsigned char raw[24]);
int  stamp_decode(const char *cursor, stamp *st);

/* One candidate: its id, edge time and the position a cursor resumes
** after (valid until the next source_next). */
typedef struct {
	store_id             id;
	uint64_t             time;
	const unsigned char *pos;
	size_t               npos;
	const store_ix_pos  *ixpos;      /* index sources: the entry */
} src_item;

typedef enum { SRC_INDEX, SRC_EDGES, SRC_KEYSET } src_kind;

typedef struct {
	src_kind       kind;
	store_txn     *t;
	const store_app *app;
	/* SRC_INDEX */
	store_ix_range r;
	store_ix_pos  *from, *poss;
	uint64_t       times[SCAN_BATCH];
	/* SRC_EDGES */
	const query_scope *sc;
	int            asc;
	store_pos      epos, eposs[SCAN_BATCH];
	/* SRC_KEYSET */
	stamp         *st;
	size_t         nst;
	unsigned char  raw[24];
	/* the batch */
	store_id       ids[SCAN_BATCH];
	size_t         n, i;
	int            last;             /* the batch read was the last one */
	size_t         read;             /* index entries or edges read */
	size_t         batch;            /* the next batch's size: from the
	                                 ** page's, doubling to SCAN_BATCH */
} source;

/* An index range, after `from` (NULL or empty: from its start). */
void source_index(source *s, store_txn *t, const store_app *app, const store_ix_range *r,
                  const store_ix_pos *from);
/* The scope's edge listing, newest first (asc: oldest first), after
** `from` (NULL or unset: from its start). */
void source_edges(source *s, store_txn *t, const store_app *app, const query_scope *sc,
                  int asc, const store_pos *from);
/* Every entry of the terms' ranges, each range read whole, as one
** newest-first listing without repeats, after `after` (NULL: from the
** start).  With a scope (sc not NULL), only the entities in it, each at
** its edge's time there. */
store_rc source_keyset(source *s, store_txn *t, const store_app *app,
                       const term *const *tms, size_t nt, const stamp *after,
                       const query_scope *sc);
/* The first batch of an index or edge source: about what the page still
** needs (a page of 10 reads 16 entries, not SCAN_BATCH), then doubling. */
void     source_want(source *s, size_t n);
/* The next candidate: *got is 0 at the end. */
store_rc source_next(source *s, src_item *it, int *got);
void     source_close(source *s);

/* ---- sort.c: sorting in memory -------------------------------------------- */

/* Type rank for mixed fields (spec 6.6): double, long, string, boolean;
** a missing value sorts last either way. */
enum { R_DOUBLE, R_LONG, R_STRING, R_BOOL, R_MISSING };

/* The value an entity sorts by: the first scalar at path (borrowed). */
json_t *sort_value(json_t *e, const char *path);
int     sort_rank(json_t *v);
/* Is the index entry at pos the one e sorts by? */
int     sort_is_at(const store_app *app, const char *type, const char *path,
                   const store_ix_pos *pos, json_t *e);

/* A candidate with what it sorts by: the order keys' values (null when
** missing), the distance, and (time, uuid) for ties. */
typedef struct {
	json_t  *e;
	json_t  *keys;          /* array, one value per order key */
	double   distance;
	uint64_t time;
	store_id id;
} match;

/* Matches collected to be sorted (at most QUERY_MAX_SORT). */
typedef struct {
	match          *m;
	size_t          n, cap;
	const ql_query *q;
	const ql_node  *within;
	match           after;       /* the keyset cursor's entity */
	int             have_after;
} sorter;

void     sorter_init(sorter *s, const ql_query *q, const ql_node *within);
void     sorter_clear(sorter *s);
/* Reads a SORTKEY or SORTREF cursor into s->after; 0 when malformed. */
int      sorter_after(sorter *s, store_txn *t, const store_app *app, const char *cursor);
/* The first key of the cursor's entity (NULL: it has none). */
json_t  *sorter_after_key(const sorter *s);
/* Adds e (taken); QUERY_TOOBIG past QUERY_MAX_SORT. */
query_rc sorter_add(sorter *s, json_t *e, uint64_t time, const store_id *id);
/* Sorts what was added, appends to res what comes after the cursor until
** the page is full (then with a keyset cursor), and empties s.  Returns 1
** when the page filled up. */
int      sorter_emit(sorter *s, size_t limit, query_result *res);
/* The index value of a sort value (v not missing). */
store_ix_value sort_ix_value(json_t *v);

#endif
