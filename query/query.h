/*
** query.h: the public interface of query/: the ql language and the cursor
** codec.  query/ sits between http/ and core/: it may call core's API but
** never includes an http/ header.
*/
#ifndef UG_QUERY_H
#define UG_QUERY_H

#include <stddef.h>
#include <jansson.h>

#include "core/store.h"
#include "query/ql.h"

/* What a query can answer besides a page (query_strerror names each).
** They are query/'s own: a storage failure is QUERY_STORE, its store_rc in
** query_result.store, so no storage code reads as a query's outcome. */
typedef enum {
	QUERY_OK = 0,
	QUERY_BADCURSOR,   /* a cursor this query's plan cannot read */
	QUERY_TOOBIG,      /* more than QUERY_MAX_SORT entities to sort in memory */
	QUERY_STOPPED,     /* the progress handler said stop */
	QUERY_STORE,       /* the store failed (query_result.store) */
	QUERY_RC_COUNT
} query_rc;

const char *query_strerror(query_rc rc);

/* A cursor is an opaque URL-safe token for where a listing stopped: a
** kind byte and the driving scan's position, base64url without padding. */
#define QUERY_CURSOR_RAW_MAX (STORE_IXPOS_MAX + 1)
#define QUERY_CURSOR_MAX     (4 * (QUERY_CURSOR_RAW_MAX + 1) / 3 + 4)
enum {
	QUERY_CURSOR_EDGE = 1,    /* edge listing position */
	QUERY_CURSOR_OFFSET,      /* offset into a listing computed whole (no
	                          ** query plan makes or reads one) */
	QUERY_CURSOR_INDEX,       /* phase + property index position */
	QUERY_CURSOR_TIME,        /* (time, uuid) of the last entity listed */
	QUERY_CURSOR_VERB,        /* verb\0 + edge listing position */
	QUERY_CURSOR_SORTKEY,     /* JSON: the sort keys, distance, time, uuid of
	                          ** the last entity of a page sorted in memory */
	QUERY_CURSOR_ORDER,       /* phase + position of the order plan */
	QUERY_CURSOR_SORTREF      /* JSON: uuid, time, distance: SORTKEY for keys
	                          ** too long to carry (read again to resume) */
};

/* The kind of a token (0 when it is not one). */
int    query_cursor_kind(const char *text);

void   query_cursor_encode_raw(int kind, const void *data, size_t n,
                               char out[QUERY_CURSOR_MAX]);
/* The payload of a token of `kind` (at most cap bytes); 0 when malformed. */
size_t query_cursor_decode_raw(const char *text, size_t n, int kind, void *data,
                               size_t cap);

/* Writes the token for pos into out (NUL-terminated). */
void query_cursor_encode(const store_pos *pos, char out[QUERY_CURSOR_MAX]);
/* Decodes a position token; returns 1 on success, 0 for a malformed one. */
int  query_cursor_decode(const char *text, size_t n, store_pos *pos);
/* The same for an offset into a listing computed whole. */
void query_cursor_encode_offset(uint64_t offset, char out[QUERY_CURSOR_MAX]);
int  query_cursor_decode_offset(const char *text, size_t n, uint64_t *offset);

/* ---- progress (eval.c) -------------------------------------------------- */

/* The work a query does, metered the way SQLite's progress handler meters
** its virtual machine: the executor charges one unit per entity it reads
** and the evaluator one per QUERY_UNIT_BYTES bytes it scans, and every
** QUERY_CHECK_EVERY units the handler is asked whether to go on.  Once it
** answers nonzero the query stops with QUERY_STOPPED; the handler's owner
** knows why (a time budget, a client that went away).  Matching costs at
** most O(value + literal) bytes per term, so no single step between two
** calls can run long. */
#define QUERY_UNIT_BYTES  1024
#define QUERY_CHECK_EVERY 16

typedef struct {
	int     (*handler)(void *ctx);   /* nonzero: stop */
	void     *ctx;
	uint64_t  work;                  /* units charged so far */
	uint64_t  next;                  /* work at which the handler runs next */
	size_t    bytes;                 /* bytes scanned short of a unit */
	int       stopped;               /* the handler said stop */
} query_progress;

/* Charges units and bytes (a NULL p meters nothing); returns 1 once the
** handler has said stop, and from then on. */
int query_charge(query_progress *p, uint64_t units, size_t bytes);

/* ---- evaluation (eval.c) ------------------------------------------------ */

/* 1 when entity e satisfies the predicate n (NULL: every entity), 0 when
** not, -1 when p's handler stopped the evaluation. */
int    query_eval(const ql_node *n, json_t *e, query_progress *p);
/* Distance from (lat, lon) to the nearest location at prop in e; returns
** 0 when e has no location there. */
int    query_location_distance(json_t *e, const char *prop, double lat,
                               double lon, double *meters);

/* ---- execution (plan.c, source.c, sort.c, exec.c) ------------------------ */

/* Where a query runs: the edges owner has of kind/name (a root collection
** is the application's), restricted to entities of `type` unless "". */
typedef struct {
	store_id        owner;
	store_edge_kind kind;
	const char     *name;
	const char     *type;
	int             root;   /* a root collection: property indexes apply */
	query_progress *progress;  /* meters the query's work (NULL: none) */
} query_scope;

/* Most entities a query with `order by` or `within` sorts in memory. */
#define QUERY_MAX_SORT 100000
/* An index range with fewer entries than this is read whole and sorted by
** time; a larger one is left to a scan that stops at the page's end. */
#define QUERY_RANGE_CAP 5000

typedef struct {
	json_t *entities;     /* new array of the matching stored entities */
	double *distance;     /* meters per entity when the query has `within`
	                      ** (malloc'd, else NULL) */
	int     has_cursor;
	char    cursor[QUERY_CURSOR_MAX];
	char    plan[200];    /* how the result was found */
	size_t  entries_read; /* index entries and edges read, counting included */
	size_t  entities_read;
	store_rc store;       /* QUERY_STORE: the store's failure */
} query_result;

/*
** Runs q over scope: one page of at most `limit` matches after `cursor`
** (NULL or "" for the first page).  Without `order by` (or `within`) the
** matches list newest first; with them they are sorted (order by keys, a
** missing key last, ties by time in the first key's direction; `within`
** alone: nearest first).  The cursor must be one the plan reads: one
** made by a page of the same query.  Returns QUERY_BADCURSOR for any
** other cursor, QUERY_TOOBIG when more than QUERY_MAX_SORT entities would
** have to be sorted, QUERY_STOPPED when the scope's progress handler
** stopped it, QUERY_STORE (with res->store) when the store failed.  On
** success the caller owns res->entities and res->distance
** (query_result_clear); on failure res holds nothing else.
*/
query_rc query_run(store_txn *t, const store_app *app, const query_scope *scope,
                   const ql_query *q, size_t limit, const char *cursor,
                   query_result *res);
void     query_result_clear(query_result *res);

/* One of an owner's edge sets in a listing over several (streams.c). */
typedef struct {
	store_edge_kind kind;
	const char     *name;
} query_stream;

/*
** Lists owner's edge sets st[0..ns) one after the other (given in (kind,
** name) order), newest first within each: one page of at most `limit`
** entities after `cursor` (a VERB cursor of such a page; NULL or "": from
** the start).  The application itself is never listed; with dedupe, an
** entity an earlier set holds is listed there only.  Returns QUERY_OK
** (res as query_run's), QUERY_BADCURSOR or QUERY_STORE.
*/
query_rc query_list_streams(store_txn *t, const store_app *app, const store_id *owner,
                            const query_stream *st, size_t ns, int dedupe, size_t limit,
                            const char *cursor, query_result *res);

#endif
