/*
** router.c: the route tables and the dispatcher.
**
** A request is matched against one of two tables: /management/... routes
** against the whole path, application routes against the segments that
** follow the /{org}/{app} prefix (resolved here in every form of spec 1.1).
** A pattern segment is a literal (alternatives separated by '|', compared
** without case), "{x}" (captures one segment) or "**" (the rest, possibly
** empty).  The dispatcher owns the 404/405 answers, the authorization of
** every route (h_auth.c: who may, by the route's need and, for data, the
** caller's permissions on the path), and the request's one transaction: read-only for GET
** (and for the F_OWN writes, which make their own); for writes, a nested
** transaction in the writer's batch (writer.c), committed only when the
** handler succeeded.
**
** It also owns the cost of queries.  A read runs on its worker thread, so
** a quick one pays no hand-off; its queries are metered (query.h) and a
** query still running after HTTP_INLINE_QUERY_MS is stopped, its read
** transaction dropped (reads change nothing), and the request redone on a
** slow reader (a queue, queue.c), where the whole budget applies.  Every
** query stops at the budget with 503 query_timeout, and off the worker
** thread also when its client has closed the connection (a suspended
** connection is not polled by MHD, so the meter looks at the socket).
*/
#include "http/http_int.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* F_OWN: a write that runs on its worker, outside the writer's batches (a
** backup reads the whole store in its own read transaction; in a batch it
** would hold every other write back).  F_PARENT: the permissions of the path
** less its last segment.  F_LOCAL: no credentials needed from loopback (or
** from anywhere with --public-status), else `need` applies.  F_SERVICE:
** a request of the application's data, counted as Usergrid's services
** count them (application.requests.{method}, see count_request). */
enum { F_OWN = 1, F_PARENT = 2, F_LOCAL = 4, F_SERVICE = 8 };

typedef struct {
	int          methods;
	const char  *pattern;
	http_handler handler;
	int          need;         /* AUTH_NEED_*: who may (h_auth.c) */
	int          flags;        /* F_OWN, F_PARENT, F_LOCAL */
	int          id;           /* ROUTE_*: its template in metrics and the log */
} route;

#define ORGS "orgs|organizations|o"
#define APPS "apps|applications|a"
#define TOP  "management|status|metrics"    /* the first segments of mgmt_routes */
#define ORG  "management/" ORGS "/{org}"

static const route mgmt_routes[] = {
	{ M_GET | M_POST, "management/token",        h_mgmt_token,      AUTH_NEED_NONE, 0,
	  ROUTE_MGMT_TOKEN },
	{ M_GET,   "management/me",                  h_mgmt_me,         AUTH_NEED_ADMIN, 0,
	  ROUTE_MGMT_ME },
	{ M_POST,  "management/" ORGS,               h_org_create,      AUTH_NEED_SUPER, 0, ROUTE_ORGS },
	{ M_GET,   ORG,                              h_org_get,         AUTH_NEED_ORG, 0, ROUTE_ORG },
	{ M_GET | M_POST, ORG "/credentials",        h_org_credentials, AUTH_NEED_ORG, 0,
	  ROUTE_ORG_CREDENTIALS },
	{ M_GET,   ORG "/users",                     h_org_admins,      AUTH_NEED_ORG, 0,
	  ROUTE_ORG_ADMINS },
	{ M_POST,  ORG "/users",                     h_org_admin_create, AUTH_NEED_ORG, 0,
	  ROUTE_ORG_ADMINS },
	{ M_PUT | M_DELETE, ORG "/users/{u}",        h_org_admin_put,   AUTH_NEED_ORG, 0,
	  ROUTE_ORG_ADMIN },
	{ M_GET,   "management/users/{u}",           h_admin_get,       AUTH_NEED_ADMIN, 0,
	  ROUTE_ADMIN },
	{ M_PUT | M_POST, "management/users/{u}/password", h_admin_password, AUTH_NEED_ADMIN, 0,
	  ROUTE_ADMIN_PASSWORD },
	{ M_GET,   ORG "/" APPS,                     h_apps_list,       AUTH_NEED_ORG, 0, ROUTE_APPS },
	{ M_POST,  ORG "/" APPS,                     h_app_create,      AUTH_NEED_ORG, 0, ROUTE_APPS },
	{ M_GET,   ORG "/" APPS "/{app}",            h_mgmt_app_get,    AUTH_NEED_ORG, 0,
	  ROUTE_MGMT_APP },
	{ M_POST,  "management/backup",              h_backup,          AUTH_NEED_SUPER, F_OWN,
	  ROUTE_BACKUP },
	{ M_GET,   "status",                         h_status_full,     AUTH_NEED_SUPER, F_LOCAL,
	  ROUTE_STATUS },
	{ M_GET,   "metrics",                        h_metrics,         AUTH_NEED_SUPER, F_LOCAL,
	  ROUTE_METRICS },
};

/* Application routes; the rest of the path is walked by h_resource and
** allowed by the permissions of the caller (AUTH_NEED_ANY). */
static const route app_routes[] = {
	{ M_GET | M_POST, "token",                   h_app_token,       AUTH_NEED_NONE, 0,
	  ROUTE_APP_TOKEN },
	{ M_GET | M_POST, "credentials",             h_app_credentials, AUTH_NEED_APP_ADMIN, 0,
	  ROUTE_APP_CREDENTIALS },
	{ M_GET,   "auth/explain",                   h_auth_explain,    AUTH_NEED_APP_ADMIN, 0,
	  ROUTE_AUTH_EXPLAIN },
	{ M_POST,  "_import",                        h_import,          AUTH_NEED_APP_ADMIN, 0,
	  ROUTE_IMPORT },
	{ M_PUT | M_POST, "users/{u}/revoketokens",  h_user_revoke_all, AUTH_NEED_ANY, 0,
	  ROUTE_USER_ACTION },
	{ M_PUT | M_POST, "users/{u}/revoketoken",   h_user_revoke,     AUTH_NEED_NONE, 0,
	  ROUTE_USER_ACTION },
	{ M_PUT | M_POST, "users/{u}/password",      h_user_password,   AUTH_NEED_ANY, 0,
	  ROUTE_USER_ACTION },
	{ M_POST,  "users/{u}/deactivate",           h_user_deactivate, AUTH_NEED_APP_ADMIN, 0,
	  ROUTE_USER_ACTION },
	{ M_GET,   "users/{u}/token",                h_user_token,      AUTH_NEED_USER, 0,
	  ROUTE_USER_ACTION },
	{ M_GET,    "",              h_app_get,         AUTH_NEED_ANY, F_SERVICE, ROUTE_APP },
	{ M_PUT,    "",              h_app_put,         AUTH_NEED_APP_ADMIN, F_SERVICE, ROUTE_APP },
	{ M_POST | M_DELETE, "",     h_app_unsupported, AUTH_NEED_ANY, F_SERVICE, ROUTE_APP },
	{ M_GET | M_POST | M_PUT | M_DELETE, "counters", h_counters, AUTH_NEED_ANY, F_SERVICE,
	  ROUTE_COUNTERS },
	{ M_GET,   "{c}/_settings",                  h_settings,        AUTH_NEED_ANY,
	  F_PARENT | F_SERVICE, ROUTE_SETTINGS },
	{ M_POST | M_PUT | M_DELETE, "{c}/_settings", h_settings,       AUTH_NEED_APP_ADMIN,
	  F_SERVICE, ROUTE_SETTINGS },
	{ M_GET | M_POST | M_PUT | M_DELETE, "**", h_resource, AUTH_NEED_ANY, F_SERVICE,
	  ROUTE_UNMATCHED },
};

/* What h_resource does with a walked path: by shape, context and method.
** The dispatcher's 405 rule applies here too. */
typedef struct {
	walk_shape   shape;
	int          kinds;        /* bit (1 << ctx_kind) */
	int          methods;
	http_handler handler;
} resource_route;

#define K(k) (1 << (k))
static const resource_route resource_routes[] = {
	{ SHAPE_COLL, K(CTX_ROOT), M_GET,    h_coll_get },
	{ SHAPE_COLL, K(CTX_ROOT), M_POST,   h_coll_post },
	{ SHAPE_COLL, K(CTX_ROOT), M_PUT,    h_coll_put },
	{ SHAPE_COLL, K(CTX_ROOT), M_DELETE, h_coll_delete },
	{ SHAPE_ITEM, K(CTX_ROOT), M_GET,    h_item_get },
	{ SHAPE_ITEM, K(CTX_ROOT), M_POST,   h_item_post },
	{ SHAPE_ITEM, K(CTX_ROOT), M_PUT,    h_item_put },
	{ SHAPE_ITEM, K(CTX_ROOT), M_DELETE, h_item_delete },
	{ SHAPE_COLL, K(CTX_SUB),  M_GET,    h_sub_list },
	{ SHAPE_COLL, K(CTX_SUB),  M_POST,   h_sub_create },
	{ SHAPE_ITEM, K(CTX_SUB),  M_GET,    h_sub_get },
	{ SHAPE_ITEM, K(CTX_SUB),  M_POST,   h_sub_add },
	{ SHAPE_ITEM, K(CTX_SUB),  M_PUT,    h_sub_put },
	{ SHAPE_ITEM, K(CTX_SUB),  M_DELETE, h_sub_remove },
	{ SHAPE_COLL, K(CTX_OUT) | K(CTX_IN), M_GET, h_conn_list },
	{ SHAPE_COLL, K(CTX_OUT),  M_POST,   h_conn_create },
	{ SHAPE_ITEM, K(CTX_OUT) | K(CTX_IN), M_GET, h_conn_get },
	{ SHAPE_ITEM, K(CTX_OUT),  M_POST,   h_conn_add },
	{ SHAPE_ITEM, K(CTX_OUT),  M_PUT,    h_conn_put },
	{ SHAPE_ITEM, K(CTX_OUT),  M_DELETE, h_conn_remove },
	{ SHAPE_DICT, K(CTX_SUB),  M_GET,    h_dict_get },
	{ SHAPE_DICT, K(CTX_SUB),  M_POST | M_PUT, h_dict_post },
	{ SHAPE_DICT, K(CTX_SUB),  M_DELETE, h_dict_delete },
};
#undef K

#define NROUTES(t) (sizeof(t) / sizeof((t)[0]))

static int
literal_match(const char *alts, size_t alen, store_slice s)
{
	const char *p = alts, *end = alts + alen;
	while (p < end) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		size_t n = bar ? (size_t)(bar - p) : (size_t)(end - p);
		if (n == s.n && strncasecmp(p, s.p, n) == 0) return 1;
		p += n + 1;
	}
	return 0;
}

/* Matches segs against pattern; captures go to r->cap. */
static int
match(http_req *r, const char *pattern, const store_slice *segs, size_t n)
{
	const char *p = pattern;
	size_t i = 0;
	r->ncap = 0;
	r->rest = NULL;
	r->nrest = 0;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t plen = slash ? (size_t)(slash - p) : strlen(p);
		if (plen == 2 && p[0] == '*' && p[1] == '*') {
			r->rest = segs + i;
			r->nrest = n - i;
			return 1;
		}
		if (i == n) return 0;
		if (p[0] == '{') {
			if (r->ncap < sizeof r->cap / sizeof r->cap[0]) r->cap[r->ncap++] = segs[i];
		} else if (!literal_match(p, plen, segs[i])) {
			return 0;
		}
		i++;
		p += plen;
		if (*p == '/') p++;
	}
	return i == n;
}

static void
method_list(char *buf, size_t cap, int methods)
{
	static const struct { int bit; const char *name; } names[] = {
		{ M_GET, "GET" }, { M_POST, "POST" }, { M_PUT, "PUT" },
		{ M_DELETE, "DELETE" },
	};
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (methods & names[i].bit) {
			size_t n = strlen(buf);
			snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", names[i].name);
		}
}

/* Finds the route for the method; 404 or 405 (with Allow) otherwise. */
static const route *
lookup(http_req *r, const route *table, size_t ntable, const store_slice *segs,
       size_t n)
{
	int allowed = 0;
	int m = r->method == M_HEAD ? M_GET : r->method;
	for (size_t i = 0; i < ntable; i++) {
		if (!match(r, table[i].pattern, segs, n)) continue;
		r->route = table[i].id;
		if (table[i].methods & m) return &table[i];
		allowed |= table[i].methods;
	}
	if (allowed) {
		char list[64];
		method_list(list, sizeof list, allowed);
		http_not_allowed(r, arena_strndup(r->a, list, strlen(list)),
		                 "%s is not supported on this resource (allowed: %s)", r->action, list);
	} else {
		http_error(r, 404, "service_resource_not_found",
		           "no resource at %.*s", HTTP_MAX_ECHO, r->raw_uri);
	}
	return NULL;
}

void
h_resource(http_req *r)
{
	int allowed = 0, m = r->method == M_HEAD ? M_GET : r->method;
	/* the template by depth until the walk says what the path names */
	static const int by_depth[] = { ROUTE_APP, ROUTE_COLLECTION, ROUTE_ENTITY,
	                                ROUTE_RELATION, ROUTE_RELATED };
	r->route = r->nrest < 5 ? by_depth[r->nrest] : ROUTE_UNMATCHED;
	if (r->matrix_seg) {            /* on the collection, not the last segment */
		r->route = ROUTE_MATRIX;
		if (m == M_GET) h_matrix_list(r);
		else http_error(r, 400, "illegal_argument",
		                "matrix parameters before the last segment are for GET only");
		return;
	}
	if (!http_walk(r, r->rest, r->nrest, &r->w)) return;
	if (r->w.shape == SHAPE_DICT) r->route = ROUTE_DICTIONARY;
	if (h_asset(r)) return;
	for (size_t i = 0; i < NROUTES(resource_routes); i++) {
		const resource_route *rr = &resource_routes[i];
		if (rr->shape != r->w.shape || !(rr->kinds & (1 << r->w.kind))) continue;
		if (rr->methods & m) {
			rr->handler(r);
			return;
		}
		allowed |= rr->methods;
	}
	char list[64];
	method_list(list, sizeof list, allowed);
	http_not_allowed(r, arena_strndup(r->a, list, strlen(list)),
	                 "%s is not supported on %s (allowed: %s)", r->action, r->w.path, list);
}

int
http_url_word(store_slice s)
{
	static const char words[] = TOP "|" ORGS "|" APPS;
	return literal_match(words, sizeof words - 1, s);
}

/* Resolves /{org}/{app}, /{orgUUID}/{appUUID}, /{appUUID},
** /organizations|orgs|o/{org}/..., /{org}/applications|apps|a/{app}.
** Returns the number of segments consumed, or 0 with r->resp set. */
static size_t
resolve_app(http_req *r)
{
	const store_slice *s = r->seg;
	size_t n = r->nseg, i = 0;
	store_id id;
	store_rc rc;

	if (n >= 2 && literal_match(ORGS, strlen(ORGS), s[0])) i = 1;
	if (i == 0 && store_id_parse(s[0], &id)) {
		rc = store_app_get(r->txn, NULL, s[0], &r->app);
		if (rc == STORE_OK) goto found_app_only;
		if (rc != STORE_NOTFOUND) goto fail;
	}
	rc = store_org_get(r->txn, s[i], &r->org);
	if (rc) goto fail;
	i++;
	if (i + 1 < n && literal_match(APPS, strlen(APPS), s[i])) i++;
	if (i == n) {
		rc = STORE_NOTFOUND;
		goto fail;
	}
	rc = store_app_get(r->txn, &r->org, s[i], &r->app);
	if (rc) goto fail;
	r->have_app = 1;
	return i + 1;

found_app_only:
	r->have_app = 1;
	return 1;
fail:
	if (rc == STORE_NOTFOUND)
		http_error(r, 404, "organization_application_not_found",
		           "Could not find application for %.*s from URI: %.*s",
		           (int)(s[0].n > HTTP_MAX_ECHO ? HTTP_MAX_ECHO : s[0].n), s[0].p,
		           HTTP_MAX_ECHO, r->raw_uri);
	else
		http_store_error(r, rc, NULL, NULL);
	return 0;
}

/* 1 when r is a write of an F_OWN route. */
static int
runs_own(http_req *r)
{
	for (size_t i = 0; i < NROUTES(mgmt_routes); i++)
		if ((mgmt_routes[i].flags & F_OWN) && (mgmt_routes[i].methods & r->method) &&
		    match(r, mgmt_routes[i].pattern, r->seg, r->nseg))
			return 1;
	return 0;
}

/* Milliseconds since the request arrived. */
static int64_t
age_ms(const http_req *r)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - r->t0.tv_sec) * 1000 +
	       (now.tv_nsec - r->t0.tv_nsec) / 1000000;
}

/* Has the client closed its end?  (Pipelined bytes waiting are not that.) */
static int
client_gone(const http_req *r)
{
	struct pollfd p = { .fd = r->fd, .events = POLLRDHUP };
	return r->fd >= 0 && poll(&p, 1, 0) > 0 &&
	       (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

/* The progress handler of every query: nonzero (and r->stop says why)
** when the query must stop. */
static int
query_check(void *ctx)
{
	http_req *r = ctx;
	int64_t age = age_ms(r);
	if (__atomic_load_n(&r->srv->stopping, __ATOMIC_RELAXED)) r->stop = STOP_SHUTDOWN;
	else if (age >= SETTING(r->srv->cfg.query_budget_ms)) r->stop = STOP_BUDGET;
	else if (r->stage == STAGE_INLINE && age >= HTTP_INLINE_QUERY_MS) r->stop = STOP_SLOW;
	else if (r->stage != STAGE_INLINE && client_gone(r)) r->stop = STOP_GONE;
	return r->stop;
}

query_progress *
http_progress(http_req *r)
{
	if (!r->progress.handler) {
		r->progress.handler = query_check;
		r->progress.ctx = r;
	}
	return &r->progress;
}

/* Runs a read in its own read-only transaction. */
static void
run_read(http_req *r)
{
	store_rc rc = store_txn_begin(r->srv->s, STORE_TXN_READ, &r->txn);
	if (rc) {
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	http_route(r);
	store_txn_abort(r->txn);
	r->txn = NULL;
}

/* A slow reader's batch is one read. */
static void
run_slow(http_req *batch, void *ctx)
{
	(void)ctx;
	run_read(batch);
}

http_queue *
http_slow_start(unsigned threads)
{
	/* below the workers' priority: quick requests keep their cores */
	return http_queue_start(threads, 1, HTTP_MAX_SLOW_READS, HTTP_SLOW_NICE, 0, run_slow,
	                        NULL);
}

void
http_req_reset(http_req *r)
{
	json_decref(r->resp);
	json_decref(r->w.entity);
	memset(&r->w, 0, sizeof r->w);
	r->resp = NULL;
	r->status = 500;
	r->envelope = 0;
	r->allow = NULL;
	r->retry_after = 0;
	r->have_app = 0;
	r->stop = 0;
	memset(&r->progress, 0, sizeof r->progress);
	free(r->bin.data);
	memset(&r->bin, 0, sizeof r->bin);
	if (r->body_parsed && !r->asset_body && !r->form_body) {
		json_decref(r->json);     /* parsed again: a handler may have changed it */
		r->json = NULL;
		r->body_parsed = 0;
	}
}

/* A GET or POST of .../token issues one: a write.  A grant's credentials
** are checked first, here, in a read transaction (no password hash on the
** writer thread), and a verified grant's body is done with.  Returns 0
** when the request is answered already. */
static int
token_prepare(http_req *r)
{
	store_rc rc;
	if ((rc = store_txn_begin(r->srv->s, STORE_TXN_READ, &r->txn))) {
		http_store_error(r, rc, NULL, NULL);
		return 0;
	}
	http_route_prepare(r);
	store_txn_abort(r->txn);
	r->txn = NULL;
	return !r->resp;                /* refused: nothing to write */
}

/* A read that ran out of its fast budget starts again on the slow
** queue; 1 when queued. */
static int
submit_slow(http_req *r)
{
	http_req_reset(r);
	r->stage = STAGE_SLOW;
	if (http_queue_submit(r->srv->slow, r)) {
		r->queued = 1;
		return 1;
	}
	if (__atomic_load_n(&r->srv->stopping, __ATOMIC_RELAXED))
		http_error(r, 503, "service_unavailable", "the server is shutting down");
	else
		http_error(r, 503, "service_unavailable",
		           "%d slow queries are already queued or running; try again later",
		           HTTP_MAX_SLOW_READS);
	return 0;
}

int
http_dispatch(http_req *r)
{
	int write = r->method & (M_POST | M_PUT | M_DELETE);

	if (r->method == M_OPTIONS) {
		http_reply(r, json_object());
		r->envelope = 0;
		return 0;
	}
	if (r->method == M_OTHER) {
		http_not_allowed(r, "GET, POST, PUT, DELETE", "the method is not supported");
		return 0;
	}
	if (!http_params_or_reply(r)) return 0;
	if (r->nseg == 0) {
		r->route = ROUTE_ROOT;
		h_status(r);
		return 0;
	}
	if ((r->method & (M_GET | M_POST)) && r->seg[r->nseg - 1].n == 5 &&
	    strncasecmp(r->seg[r->nseg - 1].p, "token", 5) == 0) {
		write = 1;
		if (!token_prepare(r)) return 0;
	}
	/* a consumer's read of the events queue moves its position */
	if (r->seg[r->nseg - 1].n == 6 &&
	    strncasecmp(r->seg[r->nseg - 1].p, "events", 6) == 0 && http_events_moves(r))
		write = 1;
	if (write && !runs_own(r)) {
		/* what a body costs is known before the writer takes it */
		if (!r->grant.ready && !http_body_or_reply(r)) return 0;
		/* the writer thread runs http_route in a transaction of its batch */
		r->stage = STAGE_WRITE;
		if (http_queue_submit(r->srv->writer, r)) {
			r->queued = 1;
			return 1;
		}
		http_error(r, 503, "service_unavailable", "the server is shutting down");
		return 0;
	}
	run_read(r);
	return r->stop == STOP_SLOW ? submit_slow(r) : 0;
}

/* Usergrid's ServiceManager counts every request of an application's
** services, authorized, before it runs: application.requests.{method}
** (rolling up into application.requests).  A tally per thread, written
** with the next write commit (store_counter_tick); once per request, though
** a read may run twice (a slow one is redone off its worker). */
static void
count_request(http_req *r)
{
	static const char *const names[] = {
		"application.requests.get", "application.requests.post",
		"application.requests.put", "application.requests.delete",
	};
	int i = r->method == M_POST ? 1 : r->method == M_PUT ? 2 : r->method == M_DELETE ? 3 : 0;
	if (r->counted || !r->have_app) return;
	r->counted = 1;
	store_counter_tick(r->srv->s, &r->app, names[i], 1);
}

/* Only the token grants have a read-only pass; other routes that end in
** "token" do all their work in the writer. */
void
http_route_prepare(http_req *r)
{
	r->preparing = 1;
	http_route(r);
	r->preparing = 0;
}

void
http_route(http_req *r)
{
	const route *rt = NULL;
	static const char top[] = TOP;
	if (literal_match(top, sizeof top - 1, r->seg[0])) {
		if (r->matrix_seg) {
			http_error(r, 400, "illegal_argument", "matrix parameters are for application data");
			return;
		}
		rt = lookup(r, mgmt_routes, NROUTES(mgmt_routes), r->seg, r->nseg);
		if (rt && !((rt->flags & F_LOCAL) && http_status_allowed(r)) &&
		    !http_authorize(r, rt->need, NULL, 0))
			rt = NULL;
	} else {
		size_t used = resolve_app(r);
		if (used && r->matrix_seg && r->matrix_seg != used + 1) {
			http_error(r, 400, "illegal_argument",
			           "matrix parameters may follow the collection name only");
			return;
		}
		if (used)
			rt = lookup(r, app_routes, NROUTES(app_routes), r->seg + used,
			            r->nseg - used);
		if (rt && !http_authorize(r, rt->need, r->seg + used,
		                          r->nseg - used - ((rt->flags & F_PARENT) ? 1 : 0)))
			rt = NULL;
	}
	if (rt && r->txn) http_actor(r);
	if (rt && (rt->flags & F_SERVICE)) count_request(r);
	if (rt && (!r->preparing || rt->handler == h_app_token || rt->handler == h_mgmt_token))
		rt->handler(r);
}
