/*
** h_asset.c: binary data on entities (Usergrid's assets).
**
** A POST or PUT whose body is application/octet-stream (the data itself)
** or multipart/form-data (a `file` part, or any part with a filename, is
** the data; the other parts are string properties) stores the data with
** the entity, in the request's transaction:
**
**   POST /C            creates an entity from the form fields, with the data
**   PUT|POST /C/E      the entity's fields updated (PUT creates a missing
**                      name or uuid, as for JSON), the data replaced
**   POST|PUT /assets/E/data   the data of an asset
**
** GET /C/E with `Accept: application/octet-stream` or the data's own media
** type (`image/jpeg`, or its wildcard `image/` + `*`), or GET /assets/E/data, answers the bytes with their Content-Type and ETag;
** If-None-Match gives 304, one `Range: bytes=...` 206 with Content-Range
** (416 when it lies past the end).  Core keeps the data and its
** `file-metadata` together (core/asset.c); the body's bound is max_asset.
*/
#include "http/http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The media type of a header value, lower-cased, without parameters; NULL
** when it is not `type/subtype` of token characters (with `range`, as in
** Accept, either may also be the wildcard `*`). */
static char *
media_type(http_req *r, const char *v, size_t n, int range)
{
	const char *end = v + n, *semi = memchr(v, ';', n);
	if (semi) end = semi;
	while (v < end && (*v == ' ' || *v == '\t')) v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
	if (end - v > 100 || !memchr(v, '/', (size_t)(end - v))) return NULL;
	char *out = arena_strndup(r->a, v, (size_t)(end - v));
	for (char *p = out; *p; p++) {
		if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
		else if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') &&
		         !strchr("/!#$&^_.+-", *p) && !(range && *p == '*'))
			return NULL;
	}
	return out;
}

int
http_is_asset_type(const char *ct)
{
	return http_media_is(ct, "multipart/form-data") ||
	       http_media_is(ct, "application/octet-stream");
}

/* A header parameter (`; name="value"` or `; name=value`) of [p, end),
** as a new arena string, or NULL. */
static char *
header_param(http_req *r, const char *p, const char *end, const char *name)
{
	size_t nl = strlen(name);
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		if (!semi) return NULL;
		p = semi + 1;
		while (p < end && (*p == ' ' || *p == '\t')) p++;
		if ((size_t)(end - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == '=') {
			const char *v = p + nl + 1, *ve;
			if (v < end && *v == '"') {
				v++;
				ve = memchr(v, '"', (size_t)(end - v));
				if (!ve) return NULL;
			} else {
				ve = v;
				while (ve < end && *ve != ';' && *ve != ' ') ve++;
			}
			return arena_strndup(r->a, v, (size_t)(ve - v));
		}
	}
	return NULL;
}

typedef struct {
	char       *name, *filename, *type;
	const char *data;
	size_t      n;
} part;

/* The headers of one part, [p, end): its form-data name and filename and
** its Content-Type. */
static void
part_headers(http_req *r, const char *p, const char *end, part *pt)
{
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol) eol = end;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon) {
			size_t hn = (size_t)(colon - p);
			if (hn == 19 && strncasecmp(p, "Content-Disposition", hn) == 0) {
				pt->name = header_param(r, colon, eol, "name");
				pt->filename = header_param(r, colon, eol, "filename");
			} else if (hn == 12 && strncasecmp(p, "Content-Type", hn) == 0) {
				pt->type = media_type(r, colon + 1, (size_t)(eol - colon - 1), 0);
			}
		}
		p = eol + 2;
	}
}

static int
bad_body(http_req *r, const char *why)
{
	http_error(r, 400, "illegal_argument", "the multipart/form-data body %s", why);
	return 0;
}

/* One form field as a string property; 0 after replying. */
static int
add_field(http_req *r, json_t *fields, const part *pt)
{
	if (memchr(pt->data, '\0', pt->n) || !utf8_valid(pt->data, pt->n))
		return bad_body(r, "has a field that is not UTF-8 text and not the file");
	json_object_set_new(fields, pt->name, json_stringn(pt->data, pt->n));
	return 1;
}

/* Splits a multipart/form-data body (RFC 7578) into fields and the data. */
static int
parse_multipart(http_req *r, const char *ct, json_t *fields)
{
	char *boundary = header_param(r, ct, ct + strlen(ct), "boundary");
	const char *p = r->body ? r->body : "", *end = p + r->body_len;
	size_t bn = boundary ? strlen(boundary) : 0;

	if (bn == 0 || bn > 70) return bad_body(r, "needs a boundary of 1 to 70 characters");
	char *delim = http_sprintf(r, "\r\n--%s", boundary);
	size_t dn = bn + 4;
	/* the first delimiter may open the body without the CRLF before it */
	if ((size_t)(end - p) >= dn - 2 && memcmp(p, delim + 2, dn - 2) == 0) {
		p += dn - 2;
	} else {
		const char *first = memmem(p, (size_t)(end - p), delim, dn);
		if (!first) return bad_body(r, "holds no part");
		p = first + dn;
	}
	for (;;) {
		part pt = { 0 };
		if (end - p >= 2 && p[0] == '-' && p[1] == '-') break;       /* the close */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n') return bad_body(r, "is malformed");
		p += 2;
		const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (!hend) return bad_body(r, "has a part without headers");
		part_headers(r, p, hend + 2, &pt);
		pt.data = hend + 4;
		const char *next = memmem(pt.data, (size_t)(end - pt.data), delim, dn);
		if (!next) return bad_body(r, "is not closed");
		pt.n = (size_t)(next - pt.data);
		p = next + dn;
		if (!pt.name) return bad_body(r, "has a part without a form-data name");
		if (pt.filename || strcmp(pt.name, "file") == 0) {
			if (r->asset) return bad_body(r, "holds more than one file");
			r->asset = pt.data;
			r->asset_len = pt.n;
			r->asset_type = pt.type;
		} else if (!add_field(r, fields, &pt)) {
			return 0;
		}
	}
	if (!r->asset) return bad_body(r, "has no file part");
	return 1;
}

int
http_asset_body_or_reply(http_req *r)
{
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	json_t *fields = json_object();

	if (!(r->method & (M_POST | M_PUT))) {
		http_error(r, 400, "illegal_argument", "binary data goes with POST or PUT");
	} else if (ct && strncasecmp(ct, "multipart/", 10) == 0) {
		if (parse_multipart(r, ct, fields)) goto ok;
	} else {
		r->asset = r->body ? r->body : "";
		r->asset_len = r->body_len;
		goto ok;
	}
	json_decref(fields);
	return 0;
ok:
	r->body_parsed = 1;
	r->body_present = 1;
	r->json = fields;
	return 1;
}

/* What the data is, from its first bytes, when the client did not say. */
static const char *
sniff(const unsigned char *d, size_t n)
{
	static const struct { const char *magic; size_t n; const char *type; } sigs[] = {
		{ "\xff\xd8\xff", 3, "image/jpeg" }, { "\x89PNG\r\n\x1a\n", 8, "image/png" },
		{ "GIF87a", 6, "image/gif" }, { "GIF89a", 6, "image/gif" },
		{ "%PDF-", 5, "application/pdf" }, { "PK\x03\x04", 4, "application/zip" },
	};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		if (n >= sigs[i].n && memcmp(d, sigs[i].magic, sigs[i].n) == 0) return sigs[i].type;
	if (n && !memchr(d, '\0', n) && utf8_valid((const char *)d, n)) return "text/plain";
	return "application/octet-stream";
}

static const char *
data_type(const http_req *r)
{
	const char *t = r->asset_type;
	if (t && strcmp(t, "application/octet-stream") != 0 && strncmp(t, "multipart/", 10) != 0)
		return t;
	return sniff((const unsigned char *)r->asset, r->asset_len);
}

/* /assets/{id}/data */
static int
is_data_url(const walk *w)
{
	return w->shape == SHAPE_COLL && w->kind == CTX_OUT && strcmp(w->name, "data") == 0 &&
	       store_type_info_of(w->owner_type)->holds_bytes;
}

/* The entity the upload is for, created or updated from the form fields. */
static store_rc
upload_target(http_req *r, store_id *id, store_err *err)
{
	walk *w = &r->w;
	json_t *e = NULL;
	store_rc rc;

	if (is_data_url(w)) {
		*id = w->owner;
		return STORE_OK;
	}
	if (w->kind != CTX_ROOT) {
		rc = STORE_INVALID;
	} else if (w->shape == SHAPE_COLL && r->method == M_POST) {
		rc = store_entity_create(r->txn, &r->app, w->item_type, r->json, NULL, &e, err);
	} else if (w->shape == SHAPE_ITEM && w->found) {
		rc = json_object_size(r->json)
		     ? store_entity_update(r->txn, &r->app, &w->item, r->json, NULL, err) : STORE_OK;
		*id = w->item;
		return rc;
	} else if (w->shape == SHAPE_ITEM && r->method == M_PUT && !w->me) {
		rc = store_entity_put(r->txn, &r->app, w->item_type, w->ident, r->json, &e, err);
	} else {
		return w->shape == SHAPE_ITEM ? STORE_NOTFOUND : STORE_INVALID;
	}
	if (rc == STORE_INVALID && !err->msg[0])
		snprintf(err->msg, sizeof err->msg, "binary data is stored on an entity: POST /{collection}, "
		         "PUT /{collection}/{id} or /assets/{id}/data");
	if (rc == STORE_OK) rc = store_entity_id(e, id);
	json_decref(e);
	return rc;
}

static void
asset_write(http_req *r)
{
	store_err err = { 0 };
	store_id id;
	json_t *e = NULL;
	store_rc rc = upload_target(r, &id, &err);

	if (rc == STORE_OK)
		rc = store_asset_put(r->txn, &r->app, &id, r->asset, r->asset_len, data_type(r), &e, &err);
	if (http_found_or_reply(r, rc, &err, "entity_not_found")) http_reply_entity(r, rc, e, &err);
	json_decref(e);
}

/* The media type of the item's data, or NULL when it holds none. */
static const char *
item_data_type(http_req *r)
{
	json_t *e = NULL;
	const char *out = NULL;
	if (!r->w.found || store_entity_get(r->txn, &r->app, &r->w.item, &e)) return NULL;
	const char *t = json_string_value(json_object_get(json_object_get(e, "file-metadata"),
	                                                  "content-type"));
	if (t) out = media_type(r, t, strlen(t), 0);
	json_decref(e);
	return out;
}

/* 1 when the accepted media type `a` names data of media type `have`:
** the type itself or its major type's wildcard (not the catch-all `*` + `/` + `*`
** that every client sends). */
static int
accepts(const char *a, const char *have)
{
	const char *slash = strchr(a, '/');
	if (!have || strcmp(a, "*/*") == 0) return 0;
	if (strcmp(slash + 1, "*") == 0)
		return strncmp(a, have, (size_t)(slash - a + 1)) == 0;
	return strcmp(a, have) == 0;
}

/* 1 when Accept names application/octet-stream, or the item's data's own
** media type (or that type's wildcard), as Usergrid answers. */
static int
wants_bytes(http_req *r)
{
	const char *a = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept");
	const char *have = NULL;
	int looked = 0;
	while (a && *a) {
		size_t n = strcspn(a, ",");
		char *t = media_type(r, a, n, 1);
		if (t && strcmp(t, "application/octet-stream") == 0) return 1;
		if (t && strcmp(t, "*/*") != 0 && strcmp(t, "application/json") != 0) {
			if (!looked++) have = item_data_type(r);
			if (accepts(t, have)) return 1;
		}
		a += n + (a[n] == ',');
	}
	return 0;
}

/* One `bytes=first-last`, `bytes=first-` or `bytes=-suffix` range of a
** total-byte body: 1 with [*off, *off + *len), 0 when the header is absent
** or not one such range (the whole body), -1 when it lies past the end. */
static int
byte_range(const char *h, uint64_t total, uint64_t *off, uint64_t *len)
{
	uint64_t a, b;
	char first[24], last[24];
	if (!h || strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ',')) return 0;
	const char *dash = strchr(h + 6, '-');
	size_t fn = dash ? (size_t)(dash - h - 6) : 0, ln = dash ? strlen(dash + 1) : 0;
	if (!dash || fn >= sizeof first || ln >= sizeof last || (fn == 0 && ln == 0)) return 0;
	memcpy(first, h + 6, fn);
	first[fn] = '\0';
	memcpy(last, dash + 1, ln + 1);
	if (fn == 0) {                               /* the last b bytes */
		if (!http_parse_uint(last, UINT64_MAX, &b)) return 0;
		if (b == 0 || total == 0) return -1;
		*len = b < total ? b : total;
		*off = total - *len;
		return 1;
	}
	if (!http_parse_uint(first, UINT64_MAX, &a)) return 0;
	if (ln == 0) b = UINT64_MAX;
	else if (!http_parse_uint(last, UINT64_MAX, &b) || b < a) return 0;
	if (a >= total) return -1;
	if (b >= total) b = total - 1;
	*off = a;
	*len = b - a + 1;
	return 1;
}

static void
asset_read(http_req *r)
{
	const walk *w = &r->w;
	const store_id *id = is_data_url(w) ? &w->owner : &w->item;
	json_t *e = NULL, *fm;
	void *data = NULL;
	size_t total = 0;
	uint64_t off = 0, len = UINT64_MAX;
	store_rc rc;

	if (!is_data_url(w) && !w->found) {
		http_not_found(r, "entity_not_found");
		return;
	}
	if ((rc = store_entity_get(r->txn, &r->app, id, &e))) {
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	fm = json_object_get(e, "file-metadata");
	const char *type = json_string_value(json_object_get(fm, "content-type"));
	const char *etag = json_string_value(json_object_get(fm, "etag"));
	if (!type || !etag) {
		json_decref(e);
		http_error(r, 404, "service_resource_not_found", "%s holds no binary data", w->path);
		return;
	}
	r->bin.type = arena_strndup(r->a, type, strlen(type));
	r->bin.etag = http_sprintf(r, "\"%s\"", etag);
	json_decref(e);
	const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "If-None-Match");
	if (inm && (strstr(inm, r->bin.etag) || strcmp(inm, "*") == 0)) {
		r->status = 304;
		return;
	}
	rc = store_asset_get(r->txn, &r->app, id, 0, 0, &data, &total);
	free(data);
	int ranged = rc ? 0 : byte_range(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                                              "Range"), total, &off, &len);
	if (ranged < 0) {
		r->bin.type = NULL;
		r->bin.range = http_sprintf(r, "bytes */%zu", total);
		http_error(r, 416, "requested_range_not_satisfiable",
		           "the range lies past the end of the %zu bytes", total);
		return;
	}
	if (rc == STORE_OK) rc = store_asset_get(r->txn, &r->app, id, off, len, &data, &total);
	if (rc) {
		r->bin.type = NULL;
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	r->bin.data = data;
	r->bin.n = ranged ? (size_t)len : total;
	r->status = ranged ? 206 : 200;
	if (ranged)
		r->bin.range = http_sprintf(r, "bytes %llu-%llu/%zu", (unsigned long long)off,
		                            (unsigned long long)(off + len - 1), total);
}

int
h_asset(http_req *r)
{
	if (r->asset_body && (r->method & (M_POST | M_PUT))) {
		asset_write(r);
		return 1;
	}
	if ((r->method == M_GET || r->method == M_HEAD) &&
	    (is_data_url(&r->w) ||
	     (r->w.shape == SHAPE_ITEM && r->w.kind == CTX_ROOT && wants_bytes(r)))) {
		asset_read(r);
		return 1;
	}
	return 0;
}
