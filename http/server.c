/*
** server.c: the libmicrohttpd glue.
**
** MHD calls on_request several times per request: once when the headers
** are in, once per chunk of body, and once more when the upload is done.
** The request state (http_req) is created in the URI-log callback, which
** MHD calls first with the raw request target, and freed in on_completed
** however the request ended.  A body is bounded by max_body (max_asset for
** binary data: multipart/form-data or application/octet-stream; max_import
** for an import, which is streamed to h_import.c instead of held): a
** declared Content-Length over it is refused before any of it is read; a
** chunked body that grows over it is discarded and refused at the end.
**
** The server's log is stderr, one line per event: the access log and
** libmicrohttpd's own messages (its external logger), both silenced by
** --quiet.  A line never carries a credential (secret query parameters are
** masked, no header is logged) nor a control byte from the request.
*/
#include "http/http_int.h"
#include "core/text.h"
#include "query/query.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int
method_bit(const char *m)
{
	static const struct { const char *name; int bit; } methods[] = {
		{ "GET", M_GET }, { "POST", M_POST }, { "PUT", M_PUT },
		{ "DELETE", M_DELETE }, { "HEAD", M_HEAD }, { "OPTIONS", M_OPTIONS },
	};
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
		if (strcmp(m, methods[i].name) == 0) return methods[i].bit;
	return M_OTHER;
}

static const char *
action_of(int m)
{
	switch (m) {
	case M_GET: case M_HEAD: return "get";
	case M_POST:   return "post";
	case M_PUT:    return "put";
	case M_DELETE: return "delete";
	case M_OPTIONS: return "options";
	default:       return "unknown";
	}
}

/* Percent-decodes s[0..n) into a new arena string; in a query string
** (form) '+' is a space, as browsers and curl --data-urlencode send it
** (a literal plus travels as %2B).  Returns NULL for a bad escape, a NUL
** or bad UTF-8. */
static char *
decode(arena *a, const char *s, size_t n, size_t *out_n, int form)
{
	char *o = arena_alloc(a, n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= n) return NULL;
			hi = text_hexval((unsigned char)s[i + 1]);
			lo = text_hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0) return NULL;
			o[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (form && s[i] == '+') {
			o[j++] = ' ';
		} else {
			o[j++] = s[i];
		}
	}
	o[j] = '\0';
	if (memchr(o, '\0', j) || !utf8_valid(o, j)) return NULL;
	if (out_n) *out_n = j;
	return o;
}

/* Appends the name=value pairs of [p, end), separated by sep, to list
** (*n of max used), decoded (form: '+' is a space).  Empty pairs are
** dropped.  Returns 0, or 1 with the error set. */
static int
parse_pairs(http_req *r, const char *p, const char *end, char sep, int form,
            http_param *list, size_t *n, size_t max, const char *what)
{
	while (p < end) {
		const char *s = p, *eq = NULL;
		for (; p < end && *p != sep; p++)
			if (*p == '=' && !eq) eq = p;
		const char *kend = eq ? eq : p;
		if (kend > s) {
			char *k, *v;
			if (*n == max) {
				http_error(r, 400, "illegal_argument", "more than %zu %s parameters",
				           max, what);
				return 1;
			}
			k = decode(r->a, s, (size_t)(kend - s), NULL, form);
			v = eq ? decode(r->a, eq + 1, (size_t)(p - eq - 1), NULL, form)
			       : arena_strndup(r->a, "", 0);
			if (!k || !v) {
				http_error(r, 400, "illegal_argument",
				           "the %s parameters hold a bad percent-escape or invalid UTF-8",
				           what);
				return 1;
			}
			list[(*n)++] = (http_param){ k, v };
		}
		if (p < end) p++;
	}
	return 0;
}

/* The matrix parameters of the segment that starts at seg (spec 1.2:
** `users;ql=...;limit=1000`): `;`-separated name=value pairs in [m, end),
** percent-decoded as path text.  One segment of a path may carry them.
** Returns 0, or 1 with the error set. */
static int
parse_matrix(http_req *r, const char *seg, const char *m, const char *end)
{
	if (r->matrix_seg || m - 1 == seg) {
		http_error(r, 400, "illegal_argument", r->matrix_seg
		           ? "only one path segment may carry matrix parameters"
		           : "matrix parameters must follow a collection name");
		return 1;
	}
	r->matrix_seg = r->nseg + 1;
	return parse_pairs(r, m, end, ';', 0, r->matrix, &r->nmatrix, HTTP_MAX_MATRIX_PARAMS,
	                   "matrix");
}

/* Splits the raw target into path segments and query parameters.  Empty
** segments (trailing or doubled slashes) and empty parameters are dropped.
** Returns 0 or an HTTP status with r->resp set. */
static unsigned
parse_target(http_req *r)
{
	const char *u = r->raw_uri, *q = strchr(u, '?');
	size_t plen = q ? (size_t)(q - u) : strlen(u);
	const char *p = u, *end = u + plen;

	if (strlen(u) > HTTP_MAX_URI) {
		http_error(r, 414, "uri_too_long", "the request URI exceeds %d bytes", HTTP_MAX_URI);
		return 414;
	}
	while (p < end) {
		const char *s = p, *semi;
		while (p < end && *p != '/') p++;
		if (p > s) {
			size_t n;
			char *d;
			if (r->nseg == HTTP_MAX_SEGMENTS) {
				http_error(r, 400, "illegal_argument",
				           "the path has more than %d segments", HTTP_MAX_SEGMENTS);
				return 400;
			}
			semi = memchr(s, ';', (size_t)(p - s));
			if (semi && parse_matrix(r, s, semi + 1, p)) return 400;
			if (!(d = decode(r->a, s, (size_t)((semi ? semi : p) - s), &n, 0))) {
				http_error(r, 400, "illegal_argument",
				           "the path holds a bad percent-escape or invalid UTF-8");
				return 400;
			}
			r->seg[r->nseg++] = (store_slice){ d, n };
		}
		if (p < end) p++;
	}
	if (r->matrix_seg == r->nseg) {        /* on the last segment: a query string */
		for (size_t i = 0; i < r->nmatrix && r->nparams < HTTP_MAX_PARAMS; i++)
			r->params[r->nparams++] = r->matrix[i];
		r->matrix_seg = 0;
	}
	if (!q) return 0;
	return parse_pairs(r, q + 1, q + 1 + strlen(q + 1), '&', 1, r->params, &r->nparams,
	                   HTTP_MAX_PARAMS, "query") ? 400 : 0;
}

json_t *
http_form_object(http_req *r, const char *s, size_t len)
{
	http_param f[HTTP_MAX_PARAMS];
	size_t n = 0;
	json_t *o;
	if (parse_pairs(r, s, s + len, '&', 1, f, &n, HTTP_MAX_PARAMS, "form")) return NULL;
	o = json_object();
	for (size_t i = 0; i < n; i++) json_object_set_new(o, f[i].name, json_string(f[i].value));
	return o;
}

int
http_media_is(const char *ct, const char *type)
{
	if (!ct) return 0;
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) n--;
	return strlen(type) == n && strncasecmp(ct, type, n) == 0;
}

/* Writes one log line: prefix and message, cut to a bounded length, with
** control bytes blanked and bad UTF-8 repaired, so that nothing echoed
** from a request can forge a line.  Nothing with --quiet. */
static void
log_vline(const http_server *srv, const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;
	if (SETTING(srv->cfg.quiet)) return;
	n = (size_t)snprintf(line, sizeof line, "%s", prefix);
	vsnprintf(line + n, sizeof line - n, fmt, ap);
	utf8_repair(line);
	http_text_clean(line, sizeof line - 1);
	n = strlen(line);
	while (n > 0 && line[n - 1] == ' ') line[--n] = '\0';
	fprintf(stderr, "%s\n", line);
}

/* libmicrohttpd's messages (MHD_OPTION_EXTERNAL_LOGGER): the library's
** format strings carry at most the decoded path, never a header value. */
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	log_vline(cls, "ugstore: libmicrohttpd: ", fmt, ap);
}

/* Copies s[0..n) to o with control bytes and spaces as %XX (so the
** target stays one field of the line); returns the end of the copy. */
static char *
put_printable(char *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f) o += sprintf(o, "%%%02X", c);
		else *o++ = (char)c;
	}
	return o;
}

/* The request target as the access log shows it: printable, and the
** values of secret parameters (password, access_token, ...) are "***". */
static const char *
log_target(http_req *r)
{
	const char *u = r->raw_uri, *q = strchr(u, '?');
	/* 3 bytes per escaped byte; a masked value adds at most 4 per parameter */
	char *out = arena_alloc(r->a, 5 * strlen(u) + 1), *o = out;
	o = put_printable(o, u, q ? (size_t)(q - u) : strlen(u));
	for (const char *p = q; p && *p;) {
		const char *s = ++p, *eq;              /* past '?' or '&' */
		*o++ = p[-1];
		while (*p && *p != '&') p++;
		eq = memchr(s, '=', (size_t)(p - s));
		size_t klen = (size_t)((eq ? eq : p) - s);
		const char *k = decode(r->a, s, klen, NULL, 1);
		if (k && http_param_secret(k)) {
			o = put_printable(o, s, klen);
			o += sprintf(o, "=***");
		} else {
			o = put_printable(o, s, (size_t)(p - s));
		}
	}
	*o = '\0';
	return out;
}

/* r->resp as JSON text. */
static struct MHD_Response *
json_response(http_req *r, int64_t now_ms)
{
	http_finish(r, now_ms);
	char *text = http_emit(r, r->resp, &r->resp_bytes);
	if (!text) {
		text = xstrdup("{\"error\":\"internal\",\"error_description\":\"cannot encode the response\"}");
		r->resp_bytes = strlen(text);
	}
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(r->resp_bytes, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) free(text);
	else MHD_add_response_header(resp, "Content-Type", "application/json");
	return resp;
}

/* r->bin: an entity's binary data (the response takes the buffer). */
static struct MHD_Response *
binary_response(http_req *r)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(r->bin.n, r->bin.data ? r->bin.data : (char *)"",
		                                r->bin.data ? MHD_RESPMEM_MUST_FREE
		                                            : MHD_RESPMEM_PERSISTENT);
	if (!resp) return NULL;
	r->resp_bytes = r->bin.n;
	r->bin.data = NULL;
	MHD_add_response_header(resp, "Content-Type", r->bin.type);
	MHD_add_response_header(resp, "Accept-Ranges", "bytes");
	if (r->bin.etag) MHD_add_response_header(resp, "ETag", r->bin.etag);
	return resp;
}

/* 1 when origin (the request's Origin, or NULL) is one of the configured
** comma-separated list ("*" in it: any origin). */
static int
origin_allowed(const char *list, const char *origin)
{
	size_t n = origin ? strlen(origin) : 0;
	if (!n) return 0;
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		const char *s = p, *e = p + len;
		while (s < e && *s == ' ') s++;
		while (e > s && e[-1] == ' ') e--;
		if ((e - s == 1 && *s == '*') || ((size_t)(e - s) == n && strncmp(s, origin, n) == 0))
			return 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

/* 1 when v is a list of header names a preflight may be granted as it is. */
static int
header_list_ok(const char *v)
{
	size_t n = v ? strlen(v) : 0;
	return n > 0 && n <= HTTP_MAX_CORS_HEADERS &&
	       strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_, ") == n;
}

/* CORS (the Fetch standard): without --cors-origin any origin may read
** replies, without credentials ("*"); with it, an allowed Origin is echoed
** and may send credentials, and any other gets no grant.  A preflight
** (OPTIONS) also gets the methods, the headers it asked for and how long
** to cache the answer. */
static void
cors_headers(http_req *r, struct MHD_Response *resp)
{
	const char *list = SETTING(r->srv->cfg.cors_origins);
	const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
	if (!list) {
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	} else {
		MHD_add_response_header(resp, "Vary", "Origin");
		if (!origin_allowed(list, origin)) return;
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
		MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true");
	}
	MHD_add_response_header(resp, "Access-Control-Expose-Headers",
	                        "X-Request-Id, ETag, Content-Range, Allow");
	if (r->method != M_OPTIONS) return;
	const char *asked = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                                "Access-Control-Request-Headers");
	MHD_add_response_header(resp, "Access-Control-Allow-Methods",
	                        "GET, HEAD, POST, PUT, DELETE, OPTIONS");
	MHD_add_response_header(resp, "Access-Control-Allow-Headers", header_list_ok(asked)
	                        ? asked : "Authorization, Content-Type, X-Request-Id");
	MHD_add_response_header(resp, "Access-Control-Max-Age", HTTP_CORS_MAX_AGE);
}

/* Serialises r->resp (or sends r->bin) and queues it. */
static enum MHD_Result
send_reply(http_req *r)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	struct MHD_Response *resp = r->bin.type ? binary_response(r) : json_response(r, now_ms);
	if (!resp) return MHD_NO;
	if (r->bin.range) MHD_add_response_header(resp, "Content-Range", r->bin.range);
	cors_headers(r, resp);
	if (r->allow) MHD_add_response_header(resp, "Allow", r->allow);
	if (r->retry_after) {
		char s[16];
		snprintf(s, sizeof s, "%u", r->retry_after);
		MHD_add_response_header(resp, "Retry-After", s);
	}
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	if (__atomic_load_n(&r->srv->stopping, __ATOMIC_RELAXED))
		MHD_add_response_header(resp, "Connection", "close");
	enum MHD_Result ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	r->replied = 1;
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	uint64_t us = (uint64_t)((t1.tv_sec - r->t0.tv_sec) * 1000000 +
	                         (t1.tv_nsec - r->t0.tv_nsec) / 1000);
	http_metrics_request(r->srv->metrics, r, r->resp_bytes, us);
	if (!SETTING(r->srv->cfg.quiet)) http_log_access(r, log_target(r), r->resp_bytes, us);
	return ret;
}

typedef struct {
	unsigned    n_length, n_encoding;
	const char *length, *encoding;
} framing;

static enum MHD_Result
count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	framing *f = cls;
	(void)kind;
	if (strcasecmp(key, "Content-Length") == 0) {
		f->n_length++;
		f->length = value;
	} else if (strcasecmp(key, "Transfer-Encoding") == 0) {
		f->n_encoding++;
		f->encoding = value;
	}
	return MHD_YES;
}

/* How the body is framed, checked before any of it is read.  libmicrohttpd
** has already refused a Content-Length that is not a number; it takes the
** first of several Content-Length headers, reads a body of any transfer
** coding but chunked until the client closes, and lets Transfer-Encoding
** win over Content-Length.  Those are refused here (a proxy in front may
** frame the same bytes differently), as is a declared length over
** r->body_max.  The body stays unread, so the connection closes after the
** reply.  Returns 0, or the status with r->resp set. */
static unsigned
check_framing(http_req *r)
{
	framing f = { 0 };
	uint64_t len;
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_framing, &f);
	if (f.n_length > 1 || (f.n_length && f.n_encoding)) {
		http_error(r, 400, "illegal_argument", "the request has %s",
		           f.n_encoding ? "both Content-Length and Transfer-Encoding"
		                        : "several Content-Length headers");
		return 400;
	}
	if (f.n_encoding && (f.n_encoding > 1 || strcasecmp(f.encoding, "chunked") != 0)) {
		http_error(r, 501, "not_implemented",
		           "the only transfer coding accepted is chunked");
		return 501;
	}
	/* MHD answers a malformed Content-Length itself */
	if (f.length && http_parse_uint(f.length, UINT64_MAX, &len) && len > r->body_max) {
		http_error(r, 413, "request_entity_too_large",
		           "the request body exceeds %zu bytes", r->body_max);
		return 413;
	}
	return 0;
}

/* 1 when the target names .../_import (its last path segment, decoded,
** without matrix parameters, in any case): an import streams its body
** (h_import.c), so the route is known before the body is read. */
static int
is_import(http_req *r)
{
	const char *u = r->raw_uri, *end = u + strcspn(u, "?");
	while (end > u && end[-1] == '/') end--;
	const char *s = end;
	while (s > u && s[-1] != '/') s--;
	const char *semi = memchr(s, ';', (size_t)(end - s));
	char *seg = decode(r->a, s, (size_t)((semi ? semi : end) - s), NULL, 0);
	return seg && strcasecmp(seg, "_import") == 0;
}

/* A piece of the request body: kept (NUL-terminated), fed to an import,
** or, past body_max, dropped (body_over). */
static void
take_upload(http_req *r, const char *data, size_t n)
{
	if (r->replied || r->body_over) return;
	if (r->body_len + n > r->body_max) {
		r->body_over = 1;
		return;
	}
	if (r->import) {
		r->body_len += n;
		http_import_feed(r, data, n);
		return;
	}
	if (r->body_len + n + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap * 2 : 4096;
		while (cap < r->body_len + n + 1) cap *= 2;
		if (cap > r->body_max + 1) cap = r->body_max + 1;
		r->body = xrealloc(r->body, cap);
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **req_cls)
{
	http_req *r = *req_cls;
	(void)cls; (void)url; (void)version;  /* the raw target is in r */

	if (!r) return MHD_NO;     /* the URI callback always sets it */
	if (!r->started) {
		r->started = 1;
		r->conn = conn;
		r->method = method_bit(method);
		r->action = action_of(r->method);
		http_request_id(r);
		const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
		r->asset_body = http_is_asset_type(ct);
		r->form_body = http_media_is(ct, "application/x-www-form-urlencoded");
		int import = r->method == M_POST && !r->raw_nul && is_import(r);
		r->body_max = import ? SETTING(r->srv->cfg.max_import)
		            : r->asset_body ? SETTING(r->srv->cfg.max_asset)
		                            : SETTING(r->srv->cfg.max_body);
		if (check_framing(r)) return send_reply(r);
		if (r->raw_nul) {
			http_error(r, 400, "illegal_argument", "the request target holds a NUL byte");
			return send_reply(r);
		}
		/* an import is routed and authorized before its body is read */
		if (import && (parse_target(r) || !http_import_open(r))) return send_reply(r);
		return MHD_YES;
	}
	if (*upload_data_size) {
		take_upload(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->replied) return MHD_YES;
	if (r->queued) {             /* resumed by its queue, or a spurious call */
		if (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) return MHD_YES;
		if (r->stop == STOP_GONE) return MHD_NO;     /* nobody to answer */
		return send_reply(r);
	}
	if (r->import) {
		http_import_end(r);
	} else if (r->body_over) {
		http_error(r, 413, "request_entity_too_large",
		           "the request body exceeds %zu bytes", r->body_max);
	} else if (parse_target(r) == 0 && http_dispatch(r)) {
		return MHD_YES;          /* a queue has it; the reply comes later */
	}
	return send_reply(r);
}

/* 0 when the request target held a raw NUL byte.  MHD hands the target
** over as a C string cut at the first NUL, in its buffer of the request
** line, where the NUL that ends the target replaced the space before the
** version: the version ("HTTP/1.x") follows it directly.  Anything else
** there is the rest of a target cut short.  The bytes read lie in that
** line (a compare stops at the first difference or NUL). */
static int
target_whole(const char *uri)
{
	return strncmp(uri + strlen(uri) + 1, "HTTP/", 5) == 0;
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	http_req *r = xcalloc(1, sizeof *r);
	(void)conn;
	r->srv = cls;
	r->a = arena_create();
	r->raw_uri = arena_strndup(r->a, uri, strlen(uri));
	r->raw_nul = !target_whole(uri);
	r->status = 500;
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	return r;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
	http_req *r = *req_cls;
	(void)cls; (void)conn; (void)toe;
	if (!r) return;
	store_txn_abort(r->txn);
	json_decref(r->w.entity);
	json_decref(r->json);
	json_decref(r->grant.what);
	http_import_free(r->import);
	json_decref(r->resp);
	http_shown_clear(r);
	free(r->bin.data);
	free(r->body);
	arena_destroy(r->a);
	free(r);
	*req_cls = NULL;
}

/* 1 when nothing listens on addr yet: SO_REUSEPORT would otherwise let a
** second server on the same port share its connections silently.
** SO_REUSEADDR lets the probe bind past connections lingering in
** TIME_WAIT (a restart), never past a listener. */
static int
port_free(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok, one = 1;
	if (fd < 0) return 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	ok = bind(fd, (const struct sockaddr *)addr, sizeof *addr) == 0;
	close(fd);
	return ok;
}

/* One daemon per worker thread, each with its own listening socket on the
** same port (SO_REUSEPORT): the kernel spreads new connections over them
** evenly, where threads sharing one socket let the first awake take all. */
static struct MHD_Daemon *
start_daemon(http_server *srv, struct sockaddr_in *addr)
{
	/* TLS (MHD's GnuTLS) when a certificate is configured */
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert },
		{ MHD_OPTION_END, 0, NULL },
	};
	if (!srv->tls_cert) tls[0].option = MHD_OPTION_END;
	return MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME |
		MHD_USE_ERROR_LOG | (srv->tls_cert ? MHD_USE_TLS : 0),
		ntohs(addr->sin_port), NULL, NULL, on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,   /* first, or MHD warns */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)addr,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
		MHD_OPTION_ARRAY, tls,
		MHD_OPTION_END);
}

/* The whole of a PEM file as a new NUL-terminated string, or NULL after a
** message. */
static char *
read_pem(const char *what, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	if (!f) {
		fprintf(stderr, "ugstore: cannot read the TLS %s %s: %s\n", what, path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(HTTP_MAX_PEM + 1);
	n = fread(buf, 1, HTTP_MAX_PEM + 1, f);
	fclose(f);
	if (n == 0 || n > HTTP_MAX_PEM || memchr(buf, '\0', n) || !strstr(buf, "-----BEGIN ")) {
		fprintf(stderr, "ugstore: the TLS %s %s is not a PEM file (of at most %d bytes)\n",
		        what, path, HTTP_MAX_PEM);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Frees the key material (wiped) and the server's own allocations. */
static void
server_free(http_server *srv)
{
	if (srv->tls_key) explicit_bzero(srv->tls_key, strlen(srv->tls_key));
	free(srv->tls_key);
	free(srv->tls_cert);
	http_ratelimit_destroy(&srv->token_rate);
	http_metrics_destroy(srv->metrics);
	free(srv);
}

/* Loads the certificate and key when both are configured; 0 after a
** message when they cannot be used. */
static int
tls_load(http_server *srv)
{
	const http_config *cfg = &srv->cfg;
	if (!cfg->tls_cert && !cfg->tls_key) return 1;
	if (!cfg->tls_cert || !cfg->tls_key) {
		fprintf(stderr, "ugstore: TLS wants both --tls-cert and --tls-key\n");
		return 0;
	}
	if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		fprintf(stderr, "ugstore: this libmicrohttpd was built without TLS\n");
		return 0;
	}
	srv->tls_cert = read_pem("certificate", cfg->tls_cert);
	srv->tls_key = srv->tls_cert ? read_pem("key", cfg->tls_key) : NULL;
	return srv->tls_key != NULL;
}

int
http_server_start(store *s, const http_config *cfg, http_server **out)
{
	http_server *srv = xcalloc(1, sizeof *srv);
	struct sockaddr_in addr;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	srv->s = s;
	srv->cfg = *cfg;
	http_ratelimit_init(&srv->token_rate, cfg->token_burst, cfg->token_refill_ms);
	if (!srv->cfg.max_body) srv->cfg.max_body = HTTP_MAX_BODY;
	if (!srv->cfg.query_budget_ms) srv->cfg.query_budget_ms = HTTP_QUERY_BUDGET_MS;
	if (!srv->cfg.max_asset) srv->cfg.max_asset = HTTP_MAX_ASSET;
	if (!srv->cfg.max_import) srv->cfg.max_import = HTTP_MAX_IMPORT;
	/* writes wait for their batch's sync without holding a worker, but a
	** few workers more than cores keep reads flowing meanwhile */
	if (!srv->cfg.threads) srv->cfg.threads = cores > 0 ? 4 * (unsigned)cores : 8;
	if (srv->cfg.threads > HTTP_MAX_WORKERS) srv->cfg.threads = HTTP_MAX_WORKERS;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)cfg->port);
	if (inet_pton(AF_INET, cfg->bind ? cfg->bind : "127.0.0.1", &addr.sin_addr) != 1) {
		fprintf(stderr, "ugstore: bad bind address %s\n", cfg->bind);
		goto fail;
	}
	if (cfg->port && !port_free(&addr)) {
		fprintf(stderr, "ugstore: port %u is in use\n", cfg->port);
		goto fail;
	}
	srv->metrics = http_metrics_create();
	if (!tls_load(srv)) goto fail;
	clock_gettime(CLOCK_MONOTONIC, &srv->started);
	if (!(srv->writer = http_writer_start(srv)) ||
	    !(srv->slow = http_slow_start(HTTP_SLOW_READERS)) ||
	    !(srv->reindexer = http_reindex_start(s))) {
		fprintf(stderr, "ugstore: cannot start the writer, reader and reindexer threads\n");
		goto fail;
	}
	for (unsigned i = 0; i < srv->cfg.threads; i++) {
		if (!(srv->d[i] = start_daemon(srv, &addr))) {
			fprintf(stderr, "ugstore: cannot listen on port %u%s\n", ntohs(addr.sin_port),
			        srv->tls_cert ? " (or the TLS certificate and key do not fit)" : "");
			goto fail;
		}
		srv->nd++;
		if (i == 0) {           /* the others join the port the first one got */
			const union MHD_DaemonInfo *info =
				MHD_get_daemon_info(srv->d[0], MHD_DAEMON_INFO_BIND_PORT);
			srv->port = info ? info->port : cfg->port;
			addr.sin_port = htons((uint16_t)srv->port);
		}
	}
	*out = srv;
	return 0;
fail:
	for (unsigned i = 0; i < srv->nd; i++) MHD_stop_daemon(srv->d[i]);
	http_queue_stop(srv->writer);
	http_queue_stop(srv->slow);
	http_reindex_stop(srv->reindexer);
	server_free(srv);
	return -1;
}

/* Each reloadable setting is one aligned word, stored atomically: a
** request reads the old value or the new, never a mix.  A string's old
** text stays valid (the caller keeps it). */
#define RELOAD(field, dflt) __atomic_store_n(&srv->cfg.field, cfg->field ? cfg->field : (dflt), \
                                             __ATOMIC_RELAXED)
void
http_server_reload(http_server *srv, const http_config *cfg)
{
	RELOAD(quiet, 0);
	RELOAD(public_status, 0);
	RELOAD(slow_query_ms, 0);
	RELOAD(query_budget_ms, HTTP_QUERY_BUDGET_MS);
	RELOAD(max_body, HTTP_MAX_BODY);
	RELOAD(max_asset, HTTP_MAX_ASSET);
	RELOAD(max_import, HTTP_MAX_IMPORT);
	RELOAD(cors_origins, NULL);
}
#undef RELOAD

unsigned
http_server_port(const http_server *srv)
{
	return srv->port;
}

void
http_server_stop(http_server *srv)
{
	if (!srv) return;
	__atomic_store_n(&srv->stopping, 1, __ATOMIC_RELAXED);   /* drain keep-alives */
	for (unsigned i = 0; i < srv->nd; i++) {
		MHD_socket fd = MHD_quiesce_daemon(srv->d[i]);
		if (fd != MHD_INVALID_SOCKET) close(fd);
	}
	/* Let requests already being served finish (up to 10 s); the writer is
	** still running, so queued writes complete and their replies go out. */
	for (int t = 0; t < 1000; t++) {
		unsigned open = 0;
		for (unsigned i = 0; i < srv->nd; i++) {
			const union MHD_DaemonInfo *info =
				MHD_get_daemon_info(srv->d[i], MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
			if (info) open += info->num_connections;
		}
		if (open == 0) break;
		usleep(10000);
	}
	/* No connection may stay suspended when a daemon stops: new writes and
	** slow reads now get 503, queued ones finish and are resumed (queries
	** stop at their next check, see router.c). */
	http_queue_close(srv->writer);
	http_queue_close(srv->slow);
	for (unsigned i = 0; i < srv->nd; i++) MHD_stop_daemon(srv->d[i]);
	http_queue_stop(srv->writer);
	http_queue_stop(srv->slow);
	http_reindex_stop(srv->reindexer);      /* after its step, before the store closes */
	server_free(srv);
}
