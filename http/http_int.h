/*
** http_int.h: definitions shared by the files of http/ only.
**
** One http_req lives from the first byte of a request to the completion
** callback.  Everything it points to comes from its arena.  A handler reads
** the request, does its work in r->txn, and leaves the reply in r->status
** and r->resp; the dispatcher commits (or aborts) and sends it.
*/
#ifndef UG_HTTP_INT_H
#define UG_HTTP_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "core/auth.h"
#include "core/mem.h"
#include "core/store.h"
#include "http/http.h"
#include "http/limits.h"
#include "query/query.h"

enum {
	M_GET = 1, M_POST = 2, M_PUT = 4, M_DELETE = 8, M_HEAD = 16,
	M_OPTIONS = 32, M_OTHER = 64
};

typedef struct {
	const char *name;      /* decoded, NUL-terminated */
	const char *value;     /* decoded, NUL-terminated ("" when absent) */
} http_param;

typedef struct http_queue http_queue;
typedef struct http_reindexer http_reindexer;
typedef struct http_metrics http_metrics;

/* Route templates: how metrics and the access log name a request's route
** (metrics.c names them).  Set by the router as it matches. */
enum {
	ROUTE_UNMATCHED, ROUTE_ROOT, ROUTE_STATUS, ROUTE_METRICS, ROUTE_MGMT_TOKEN,
	ROUTE_MGMT_ME, ROUTE_ORG_CREDENTIALS, ROUTE_ORG_ADMINS, ROUTE_ORG_ADMIN, ROUTE_ADMIN,
	ROUTE_ADMIN_PASSWORD, ROUTE_APP_TOKEN, ROUTE_APP_CREDENTIALS, ROUTE_AUTH_EXPLAIN,
	ROUTE_USER_ACTION, ROUTE_ORGS, ROUTE_ORG,
	ROUTE_APPS, ROUTE_MGMT_APP, ROUTE_BACKUP, ROUTE_APP, ROUTE_COUNTERS, ROUTE_SETTINGS,
	ROUTE_COLLECTION, ROUTE_ENTITY, ROUTE_RELATION, ROUTE_RELATED, ROUTE_DICTIONARY,
	ROUTE_MATRIX, ROUTE_IMPORT, ROUTE_COUNT
};

/* ratelimit.c: token buckets of the token endpoints */
typedef struct {
	uint64_t key;                 /* hash of kind and key; 0 = free */
	int64_t  at_ms;               /* last refill */
	double   tokens;
} http_bucket;

typedef struct {
	unsigned burst, refill_ms;
} http_rate;

typedef struct {
	pthread_mutex_t mu;
	http_rate       rate[2];      /* per client address, per name */
	http_bucket     b[HTTP_RATE_SLOTS];
} http_ratelimit;

void http_ratelimit_init(http_ratelimit *rl, unsigned burst, unsigned refill_ms);
void http_ratelimit_destroy(http_ratelimit *rl);
/* A setting SIGHUP may change while requests read it (http_server_reload):
** read it with SETTING(srv->cfg.x), once per use. */
#define SETTING(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

struct http_server {
	struct MHD_Daemon *d[HTTP_MAX_WORKERS];   /* one per worker thread */
	unsigned     nd;
	int          stopping;                    /* replies close connections */
	store       *s;
	http_config  cfg;
	unsigned     port;
	http_queue  *writer;                      /* every write (writer.c) */
	/* the connections of the writer's last batch (writer.c, its thread's) */
	const void  *last_conns[HTTP_WRITER_BATCH];
	size_t       nlast_conns;
	http_queue  *slow;                        /* reads past the inline budget */
	http_reindexer *reindexer;                /* runs `fields` reindexes (reindex.c) */
	http_ratelimit token_rate;                /* the token endpoints' */
	http_metrics *metrics;                    /* counters (metrics.c) */
	struct timespec started;                  /* CLOCK_MONOTONIC at start */
	char        *tls_cert, *tls_key;          /* PEM text, or NULL: plain HTTP */
};

/* What a path under /{org}/{app} names (spec 1.2), found by http_walk():
** a collection context (root collection, sub-collection, outgoing or
** incoming connections), optionally one item in it, or a dictionary. */
typedef enum { CTX_ROOT, CTX_SUB, CTX_OUT, CTX_IN } ctx_kind;
typedef enum { SHAPE_COLL, SHAPE_ITEM, SHAPE_DICT } walk_shape;

typedef struct {
	walk_shape  shape;
	ctx_kind    kind;
	store_id    owner;                        /* the app's uuid for CTX_ROOT */
	char        owner_type[STORE_NAME_MAX + 1];  /* "" for CTX_ROOT */
	char        name[STORE_NAME_MAX + 1];     /* collection name or verb */
	char        item_type[STORE_NAME_MAX + 1];/* "" = any type (connections) */
	const char *path;                         /* service path of the context */
	const char *items;                        /* its items' paths start here
	                                          ** (NULL: path); see http_items_path */
	/* SHAPE_ITEM */
	store_slice ident;                        /* the item segment as given */
	int         found;                        /* the entity exists */
	int         me;                           /* ident is users' "me" */
	store_id    item;
	json_t     *entity;                       /* the item as read while walking
	                                          ** (store_entity_read: never changed),
	                                          ** or NULL; freed with the request */
	/* the group a user was reached through (/groups/g/users/u/...) */
	int         has_via;
	store_id    via;
	/* SHAPE_DICT */
	const char *dict;                         /* "permissions", "rolenames" */
	int         has_key;
	store_slice key;                          /* /rolenames/{key} */
} walk;

typedef struct http_req {
	http_server *srv;
	struct MHD_Connection *conn;
	arena       *a;
	struct timespec t0;
	int          started;
	int          method;            /* one M_* bit */
	int          route;             /* ROUTE_*, as far as the router got */
	char         request_id[HTTP_MAX_REQUEST_ID + 1];   /* X-Request-Id (log.c) */
	const char  *action;            /* "get", "post", ... */
	int          counted;           /* in application.requests (router.c) */

	char        *raw_uri;           /* as received */
	int          raw_nul;           /* 1 = the target held a raw NUL */
	store_slice  seg[HTTP_MAX_SEGMENTS];
	size_t       nseg;
	http_param   params[HTTP_MAX_PARAMS];
	size_t       nparams;
	size_t       limit;             /* `limit` (http_params_or_reply), 0 = none */
	/* matrix parameters (spec 1.2) of segment matrix_seg - 1 (0 = none);
	** on the last segment they are query parameters instead */
	size_t       matrix_seg;
	http_param   matrix[HTTP_MAX_MATRIX_PARAMS];
	size_t       nmatrix;

	char        *body;              /* accumulated upload, NUL-terminated */
	size_t       body_max;          /* its bound: max_body, or max_asset for data */
	int          asset_body;        /* multipart/form-data or octet-stream (h_asset.c) */
	int          form_body;         /* application/x-www-form-urlencoded */
	const char  *asset;             /* the binary data in body (h_asset.c) */
	size_t       asset_len;
	const char  *asset_type;        /* its media type as sent, or NULL */
	size_t       body_len, body_cap;
	int          body_over;         /* 1 = exceeded max_body */
	int          body_parsed;       /* http_body_json ran: json is the body */
	int          body_present;      /* the body is not blank */
	json_t      *json;              /* the parsed body, or NULL */
	size_t       write_entries;     /* index entries the body makes at most */
	int          replied;           /* a response was queued early */

	/* resolved by the router */
	store_txn   *txn;
	store_org    org;
	store_app    app;
	int          have_app;
	store_slice  cap[8];            /* route captures */
	size_t       ncap;
	const store_slice *rest;        /* segments after the route's prefix */
	size_t       nrest;
	walk         w;                 /* what the path names (app routes) */
	auth_subject who;               /* who is asking (h_auth.c) */
	const char  *token;             /* the access token presented, or NULL */
	/* a token grant verified on the worker before the writer issues it, so
	** no password hash runs on the writer thread (h_token.c) */
	int          preparing;         /* 1 = the worker's read-only pass */
	struct {
		int          ready;         /* credentials verified */
		auth_subject who;
		const char  *key;           /* "user", "application", "organization" */
		json_t      *what;          /* the reply's subject object */
		int64_t      ttl;
	} grant;

	/* a queue (queue.c): the writer, or the slow readers */
	struct http_req *next;
	int          queued;            /* handed to a queue */
	int          done;              /* the queue has finished it */
	int          fd;                /* the connection's socket, while queued */

	/* queries (router.c): where the request runs, its progress meter, and
	** why the meter stopped a query */
	int          stage;             /* STAGE_* */
	int          stop;              /* STOP_*, 0 while running */
	query_progress progress;

	/* the reply */
	unsigned     status;
	json_t      *resp;
	int          envelope;          /* 1 = fill timestamp and duration */
	const char  *allow;             /* Allow header for 405 */
	size_t       resp_bytes;        /* bytes of the body sent */
	/* a binary reply (h_asset.c) instead of r->resp's JSON when type is set */
	struct {
		char       *data;           /* malloc'd; NULL for 304 */
		size_t      n;
		const char *type, *etag, *range;
	} bin;
	unsigned     retry_after;       /* Retry-After seconds for 429, or 0 */
	/* the entities http_render_entity rendered, in order (emit.c) */
	struct http_shown *shown, *shown_last;
	struct http_import *import;     /* a streamed import (h_import.c), or NULL */
} http_req;

typedef void (*http_handler)(http_req *r);

enum {
	STAGE_INLINE,   /* a read on its worker thread, up to HTTP_INLINE_QUERY_MS */
	STAGE_SLOW,     /* a read on a slow reader, up to the query budget */
	STAGE_WRITE,    /* a write on the writer, up to the query budget */
	STAGE_IMPORT    /* an import, streamed on its worker (h_import.c) */
};
enum {
	STOP_SLOW = 1,  /* the inline budget ran out: hand the read to a slow reader */
	STOP_BUDGET,    /* --query-budget-ms ran out: 503 query_timeout */
	STOP_GONE,      /* the client closed the connection: no reply */
	STOP_SHUTDOWN   /* the server is stopping: 503 */
};

/* emit.c: the text of reply resp (malloc'd, *n its length), or NULL when
** a value cannot be encoded.  An object rendered by http_render_entity
** goes out as its entity's text (store_entity_write) and its metadata. */
char *http_emit(http_req *r, json_t *resp, size_t *n);
/* Records that `out` renders entity e; both are held until
** http_shown_clear (the end of the request: a rendering made on the
** worker's pass of a token grant is replied by the writer's pass). */
void  http_shown_add(http_req *r, json_t *out, json_t *e);
void  http_shown_clear(http_req *r);

/* router.c: 1 when r was queued for the writer (the reply comes later). */
int  http_dispatch(http_req *r);
/* Routes and handles r in r->txn (the route tables and the handlers). */
void http_route(http_req *r);
/* Forgets what routing r resolved and replied (not what the worker
** prepared: the body's checks, a verified grant), to run it again. */
void http_req_reset(http_req *r);
/* The worker's read-only pass of a token grant (r->preparing): verifies
** the credentials, or sets the error reply. */
void http_route_prepare(http_req *r);

/* queue.c: requests run off their worker thread.  run gets up to `batch`
** requests linked by `next`; when it returns, each gets `done` and its
** connection is resumed so the access handler can send the reply.
** threads > 0; cap bounds queued plus running requests (0: no bound);
** nice > 0 lowers the threads' priority; idle_ms > 0: run(NULL) when a
** thread has waited that long for work, and once as it stops. */
typedef void (*http_queue_fn)(http_req *batch, void *ctx);
http_queue *http_queue_start(unsigned threads, unsigned batch, unsigned cap, int nice,
                             unsigned idle_ms, http_queue_fn run, void *ctx);
/* Suspends r's connection and queues r.  Returns 0 (nothing queued,
** nothing suspended) when the queue is full or closing. */
int         http_queue_submit(http_queue *q, http_req *r);
/* A thread that takes a batch waits first, up to us microseconds, until
** `want` requests wait (0: takes what waits at once): group commit's
** gathering (writer.c). */
void        http_queue_gather(http_queue *q, unsigned want, unsigned us);
/* now + us on the clock pthread_cond_timedwait uses (CLOCK_REALTIME). */
struct timespec http_deadline_in(uint64_t us);
/* Waits until every request queued before the call has run and been
** resumed (at once when none is): a writer outside the writer's batches
** (an import) calls it before each transaction it begins, so queued
** writes go first instead of racing it for LMDB's write lock. */
void        http_queue_yield(http_queue *q);
/* Refuses new requests and waits until every queued one is resumed. */
void        http_queue_close(http_queue *q);
/* Stops the threads (after http_queue_close and the daemons); NULL-safe. */
void        http_queue_stop(http_queue *q);

/* writer.c: group commit.  Every write request runs on one writer thread,
** in a nested transaction of a batch that one synced commit ends. */
http_queue *http_writer_start(http_server *srv);

/* reindex.c: the thread that runs the reindexes `fields` changes record,
** a step at a time.  wake: a settings change may have recorded one. */
http_reindexer *http_reindex_start(store *s);
void        http_reindex_wake(http_reindexer *x);       /* NULL-safe */
void        http_reindex_stop(http_reindexer *x);       /* NULL-safe; waits for its step */

/* metrics.c: lock-free counters of requests, commits and refusals. */
http_metrics *http_metrics_create(void);
void        http_metrics_destroy(http_metrics *m);      /* NULL-safe */
/* Counts r's reply (r->route, r->method, r->status): bytes of body, us
** since it arrived. */
void        http_metrics_request(http_metrics *m, const http_req *r, uint64_t bytes,
                                 uint64_t us);
/* Counts one group commit (its requests, commit time, second pass). */
void        http_metrics_batch(http_metrics *m, const store_batch_stats *st, int failed);
void        http_metrics_slow_query(http_metrics *m);
const char *http_route_name(int route);
const char *http_method_name(int method);     /* "GET", ..., "OTHER" */
/* log.c: one JSON line per request (target: the masked one of server.c), r's request id (the
** client's X-Request-Id when sane, else a new one), and the one way
** handlers run a query: query_run in r->txn, with a slow-query line when it
** takes --slow-query-ms or more. */
void        http_log_access(const http_req *r, const char *target, uint64_t bytes,
                            uint64_t us);
void        http_request_id(http_req *r);
query_rc    http_query(http_req *r, const query_scope *sc, const ql_query *q, size_t limit,
                       const char *cursor, query_result *res);
/* 1 when r may read /status and /metrics without credentials. */
int         http_status_allowed(http_req *r);
/* router.c: the slow readers, and the query progress meter of r (its
** handler applies the budget of r's stage). */
http_queue *http_slow_start(unsigned threads);
query_progress *http_progress(http_req *r);

/* reply.c: the one funnel for errors, and the success envelope. */
void        http_error(http_req *r, unsigned status, const char *code,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* 405 unsupported_service_operation, with the Allow header's methods */
void        http_not_allowed(http_req *r, const char *allow, const char *fmt, ...)
            __attribute__((format(printf, 3, 4)));
/* The Usergrid error code of a storage outcome (as http_store_error's). */
const char *http_store_code(store_rc rc, const store_err *err);
void        http_store_error(http_req *r, store_rc rc, const store_err *err,
                             const char *notfound_code);
/* A query's failure (rc not QUERY_OK): the same reply for every method
** (res may be NULL unless rc is QUERY_STORE). */
void        http_query_error(http_req *r, query_rc rc, const query_result *res);
json_t     *http_envelope(http_req *r, const char *path);
void        http_reply(http_req *r, json_t *resp_take);
/* http_reply(env) when rc is STORE_OK, else rc's error (env is taken). */
void        http_reply_rc(http_req *r, json_t *env_take, store_rc rc);
/* Entity e as a reply shows it: an object holding only its metadata block
** (spec 3.3), which http_emit writes after e's own text.  Code that needs
** e's properties reads e; nothing may add to the object but metadata. */
json_t     *http_render_entity(http_req *r, store_txn *t, json_t *e,
                               const char *base_path);
/* The metadata block alone (new), for a reply that shows e another way
** (a `select`'s projection): nothing is recorded for http_emit. */
json_t     *http_entity_metadata(http_req *r, store_txn *t, json_t *e,
                                 const char *base_path);
const char *http_param_get(const http_req *r, const char *name);
/* Checks the request's numeric and token parameters (limit, cursor) once,
** for every route and method, before anything is read or written: a
** malformed one is a 400 naming it.  Returns 0 after replying. */
int         http_params_or_reply(http_req *r);
/* The page size: `limit` as checked, or HTTP_DEFAULT_LIMIT. */
size_t      http_limit(const http_req *r);
/* 1 when a parameter of this name carries a credential (never echoed). */
int         http_param_secret(const char *name);
/* Cuts s to max bytes (whole UTF-8 sequences) and blanks control bytes. */
void        http_text_clean(char *s, size_t max);
/* server.c: a form body "a=1&b=2" of len bytes as a JSON object of
** strings (a repeated name keeps its last value); NULL with the error set
** (too many fields, a bad escape or invalid UTF-8). */
json_t     *http_form_object(http_req *r, const char *s, size_t len);
/* 1 when the Content-Type ct (may be NULL) names the media type type,
** whatever its parameters and case. */
int         http_media_is(const char *ct, const char *type);
void        http_finish(http_req *r, int64_t now_ms);
char       *http_sprintf(http_req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The request's JSON body (new reference; parsed once), NULL when absent
** (*present = 0) or bad (the error is set). */
json_t     *http_body_json(http_req *r, int *present);
/* Parses and checks a write's body before it reaches the writer: a bad
** body, an entity past the limits of store_entity_check or a body whose
** entities would make more than HTTP_MAX_WRITE_ENTRIES index entries is
** answered here.  Returns 0 after replying. */
int         http_body_or_reply(http_req *r);
/* How deep v nests (a scalar is 1). */
int         http_json_depth(json_t *v);

/* h_import.c: POST /{org}/{app}/_import, streamed as the body arrives.
** server.c calls http_import_open when the headers are in (0: r->resp has
** the refusal), http_import_feed with each piece of the body, and
** http_import_end for the reply; http_import_free when the request ends. */
int  http_import_open(http_req *r);
void http_import_feed(http_req *r, const char *data, size_t n);
void http_import_end(http_req *r);
void http_import_free(struct http_import *im);
void h_import(http_req *r);

/* handlers */
void h_status(http_req *r);
void h_settings(http_req *r);   /* /{collection}/_settings (h_data.c) */
void h_status_full(http_req *r);
void h_metrics(http_req *r);
void h_org_create(http_req *r);
void h_org_get(http_req *r);
void h_apps_list(http_req *r);
void h_app_create(http_req *r);
void h_mgmt_app_get(http_req *r);
void h_backup(http_req *r);
void h_org_admins(http_req *r);
void h_org_admin_create(http_req *r);
void h_org_admin_put(http_req *r);
void h_admin_get(http_req *r);
void h_admin_password(http_req *r);
void h_app_get(http_req *r);
json_t *http_app_entity(http_req *r, const store_app *app, json_t *rec);
void h_app_put(http_req *r);
void h_app_unsupported(http_req *r);
void h_resource(http_req *r);

/* h_auth.c: credentials, permissions, tokens and credentials endpoints */
enum { AUTH_NEED_ANY, AUTH_NEED_NONE, AUTH_NEED_SUPER, AUTH_NEED_ORG, AUTH_NEED_APP_ADMIN,
       AUTH_NEED_USER, AUTH_NEED_ADMIN };
/* Who is asking (r->who) and may they use this route?  need is one of
** AUTH_NEED_*; ANY = the permission of the request's path in the app.
** 0 with the 401 set. */
int  http_authorize(http_req *r, int need, const store_slice *rest, size_t nrest);
/* Hands who is asking to core as the transaction's actor (audit). */
void http_actor(http_req *r);
/* 1 when name and password are the configured superuser's (constant time). */
int  http_superuser_match(http_req *r, const char *name, const char *password);
/* The request's HTTP Basic name and password (arena copies), or 0. */
int  http_basic_credentials(http_req *r, char **user, char **pass);
/* ratelimit.c: takes one attempt from the buckets of the client address
** and of name (may be NULL); 0 with 429 set when either is empty. */
int  http_rate_ok(http_req *r, const char *name);
void h_mgmt_token(http_req *r);
void h_org_credentials(http_req *r);
void h_mgmt_me(http_req *r);
void h_app_token(http_req *r);
void h_app_credentials(http_req *r);
void h_user_revoke(http_req *r);
void h_user_revoke_all(http_req *r);
void h_user_password(http_req *r);
void h_user_deactivate(http_req *r);
void h_user_token(http_req *r);
void h_auth_explain(http_req *r);

/* walk.c */
int  http_walk(http_req *r, const store_slice *segs, size_t n, walk *w);
const char *http_items_path(const walk *w);
/* STORE_OK when the walk's item is in its context (a member, connected,
** or, for connecting/owners, an owner), STORE_NOTFOUND when not. */
store_rc http_in_context(http_req *r, const walk *w);

/* h_data.c: root collections and items */
void h_coll_get(http_req *r);
void h_coll_post(http_req *r);
void h_coll_put(http_req *r);
void h_coll_delete(http_req *r);
void h_item_get(http_req *r);
void h_item_put(http_req *r);
void h_item_post(http_req *r);
void h_item_delete(http_req *r);
/* Shared by the handlers of h_data.c and h_rel.c */
void   http_add_entity(http_req *r, json_t *env, json_t *e, const char *base);
void   http_list_edges(http_req *r, const store_id *owner, store_edge_kind kind,
                       const char *name, const char *type_filter, int count);
void   http_reply_entity(http_req *r, store_rc rc, json_t *e, const store_err *err);
json_t *http_body_object_or_reply(http_req *r, int empty_ok);
void   http_not_found(http_req *r, const char *code);
int    http_found_or_reply(http_req *r, store_rc rc, const store_err *err, const char *code);
/* The ql text of params (ql, or its aliases q and query), NULL when none. */
const char *http_ql_text(const http_param *params, size_t n);

/* h_asset.c: binary data on entities.  1 when a Content-Type (may be
** NULL) makes the body binary data: multipart/form-data or
** application/octet-stream. */
int  http_is_asset_type(const char *content_type);
/* The body of a data upload as fields (r->json) and data (r->asset);
** 0 after replying. */
int  http_asset_body_or_reply(http_req *r);
/* 1 when r reads or writes binary data (then it is handled). */
int  h_asset(http_req *r);

/* h_counters.c: GET /counters (names, or the series of `counter`s) */
/* GET /events: the events queue (h_counters.c) */
void h_events_queue(http_req *r);
int  http_events_moves(const http_req *r);
void h_counters(http_req *r);

/* h_matrix.c: a relation of every entity a matrix query matched */
void h_matrix_list(http_req *r);

/* h_rel.c: sub-collections, connections, dictionaries */
void h_sub_list(http_req *r);
void h_sub_create(http_req *r);
void h_sub_get(http_req *r);
void h_sub_add(http_req *r);
void h_sub_put(http_req *r);
void h_sub_remove(http_req *r);
void h_conn_list(http_req *r);
void h_conn_create(http_req *r);
void h_conn_get(http_req *r);
void h_conn_add(http_req *r);
void h_conn_put(http_req *r);
void h_conn_remove(http_req *r);
void h_dict_get(http_req *r);
void h_dict_post(http_req *r);
void h_dict_delete(http_req *r);

/* utf8 */
int  utf8_valid(const char *s, size_t n);
void utf8_repair(char *s);

#endif
