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
#include <stdint.h>
#include <time.h>

#include "core/mem.h"
#include "core/store.h"
#include "http/http.h"
#include "http/limits.h"

enum {
	M_GET = 1, M_POST = 2, M_PUT = 4, M_DELETE = 8, M_HEAD = 16,
	M_OPTIONS = 32, M_OTHER = 64
};

typedef struct {
	const char *name;      /* decoded, NUL-terminated */
	const char *value;     /* decoded, NUL-terminated ("" when absent) */
} http_param;

struct http_server {
	struct MHD_Daemon *d;
	store      *s;
	http_config cfg;
	unsigned    port;
};

typedef struct http_req {
	http_server *srv;
	struct MHD_Connection *conn;
	arena       *a;
	struct timespec t0;
	int          started;
	int          method;            /* one M_* bit */
	const char  *action;            /* "get", "post", ... */

	char        *raw_uri;           /* as received */
	store_slice  seg[HTTP_MAX_SEGMENTS];
	size_t       nseg;
	http_param   params[HTTP_MAX_PARAMS];
	size_t       nparams;

	char        *body;              /* accumulated upload, NUL-terminated */
	size_t       body_len, body_cap;
	int          body_over;         /* 1 = exceeded max_body */
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

	/* the reply */
	unsigned     status;
	json_t      *resp;
	int          envelope;          /* 1 = fill timestamp and duration */
	const char  *allow;             /* Allow header for 405 */
} http_req;

typedef void (*http_handler)(http_req *r);

/* router.c */
void http_dispatch(http_req *r);

/* reply.c: the one funnel for errors, and the success envelope. */
void        http_error(http_req *r, unsigned status, const char *code,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void        http_store_error(http_req *r, store_rc rc, const store_err *err,
                             const char *notfound_code);
json_t     *http_envelope(http_req *r, const char *path);
void        http_reply(http_req *r, json_t *resp_take);
json_t     *http_render_entity(http_req *r, store_txn *t, json_t *e,
                               const char *base_path);
const char *http_param_get(const http_req *r, const char *name);
size_t      http_limit(http_req *r, int *bad);
void        http_finish(http_req *r, int64_t now_ms);
char       *http_sprintf(http_req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
json_t     *http_body_json(http_req *r, int *present);

/* handlers */
void h_status(http_req *r);
void h_org_create(http_req *r);
void h_org_get(http_req *r);
void h_apps_list(http_req *r);
void h_app_create(http_req *r);
void h_mgmt_app_get(http_req *r);
void h_app_get(http_req *r);
void h_app_put(http_req *r);
void h_app_unsupported(http_req *r);
void h_coll_get(http_req *r);
void h_coll_post(http_req *r);
void h_coll_put(http_req *r);
void h_coll_delete(http_req *r);
void h_item_get(http_req *r);
void h_item_put(http_req *r);
void h_item_post(http_req *r);
void h_item_delete(http_req *r);

/* utf8 */
int utf8_valid(const char *s, size_t n);

#endif
