/*
** reply.c: everything a response is made of.  Errors leave through
** http_error() only, which builds the Usergrid error body with jansson (user
** input is escaped, never spliced, and cut to HTTP_MAX_ECHO bytes).  Success
** responses start from http_envelope(), and entities are rendered with
** their metadata block (spec 3.3) by http_render_entity().
*/
#include "http/http_int.h"
#include "core/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Keys never echoed in `params` (spec 2.1) nor shown in the access log. */
static const char *const secret_params[] = {
	"client_id", "client_secret", "password", "username", "access_token",
	"client_credentials", "fb_access_token", "fq_access_token",
	"ping_access_token", "token", "pin", "oldpassword", "newpassword",
	"secret", "refresh_token", "code",
};

char *
http_sprintf(http_req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = arena_alloc(r->a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence, and
** replaces control characters (so a message is one clean line). */
void
http_text_clean(char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
		s[n] = '\0';
	}
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
}

int
http_param_secret(const char *name)
{
	for (size_t j = 0; j < sizeof secret_params / sizeof *secret_params; j++)
		if (strcasecmp(name, secret_params[j]) == 0) return 1;
	return 0;
}

static void
verror(http_req *r, unsigned status, const char *code, const char *fmt, va_list ap)
{
	char msg[HTTP_MAX_ECHO * 2 + 200];
	vsnprintf(msg, sizeof msg, fmt, ap);
	utf8_repair(msg);
	http_text_clean(msg, sizeof msg - 1);

	json_decref(r->resp);
	r->resp = json_pack("{s:s, s:s, s:I, s:I}", "error", code,
	                    "error_description", msg, "timestamp", (json_int_t)0,
	                    "duration", (json_int_t)0);
	r->status = status;
	r->envelope = 1;
}

void
http_error(http_req *r, unsigned status, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(r, status, code, fmt, ap);
	va_end(ap);
}

void
http_not_allowed(http_req *r, const char *allow, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(r, 405, "unsupported_service_operation", fmt, ap);
	va_end(ap);
	r->allow = allow;
}

/* An outcome's answer: its status and Usergrid error code. */
typedef struct {
	unsigned    status;
	const char *code;
} reply_of;

/* What a storage outcome answers; the others are 500 internal_error. */
static const reply_of store_replies[STORE_RC_COUNT] = {
	[STORE_NOTFOUND] = { 404, "entity_not_found" },
	[STORE_EXISTS]   = { 400, "duplicate_unique_property_exists" },
	[STORE_INVALID]  = { 400, "illegal_argument" },
	[STORE_REQUIRED] = { 400, "required_property_not_found" },
	[STORE_CONFLICT] = { 409, "conflict" },
	[STORE_TOOBIG]   = { 413, "request_entity_too_large" },
	[STORE_POLICY]   = { 400, "error_password_policy_violation" },
	[STORE_FULL]     = { 507, "storage_full" },
};

/* The status of a storage outcome, and its Usergrid code (a conflict
** may name its own). */
static reply_of
store_reply(store_rc rc, const store_err *err)
{
	reply_of out = { 500, "internal_error" };
	if ((unsigned)rc < STORE_RC_COUNT && store_replies[rc].status) out = store_replies[rc];
	if (rc == STORE_CONFLICT && err && err->msg[0] && err->code) out.code = err->code;
	return out;
}

const char *
http_store_code(store_rc rc, const store_err *err)
{
	return store_reply(rc, err).code;
}

void
http_store_error(http_req *r, store_rc rc, const store_err *err,
                 const char *notfound_code)
{
	const char *msg = err && err->msg[0] ? err->msg : store_strerror(rc);
	reply_of out = store_reply(rc, err);
	if (rc == STORE_NOTFOUND && notfound_code) out.code = notfound_code;
	http_error(r, out.status, out.code, "%s", msg);
}

/* What a query's outcome answers, whichever method ran the query. */
static const reply_of query_replies[QUERY_RC_COUNT] = {
	[QUERY_BADCURSOR] = { 400, "illegal_argument" },
	[QUERY_TOOBIG]    = { 400, "illegal_argument" },
	[QUERY_STOPPED]   = { 503, "service_unavailable" },
};

void
http_query_error(http_req *r, query_rc rc, const query_result *res)
{
	unsigned status = query_replies[rc].status;
	const char *code = query_replies[rc].code;
	switch (rc) {
	case QUERY_STORE:
		http_store_error(r, res->store, NULL, NULL);
		break;
	case QUERY_TOOBIG:
		http_error(r, status, code, "the query would sort more than %d entities; narrow it",
		           QUERY_MAX_SORT);
		break;
	case QUERY_STOPPED:             /* the progress handler (router.c) said why */
		if (r->stop == STOP_BUDGET)
			http_error(r, status, "query_timeout",
			           "the query ran past its budget of %u ms after %llu units of work "
			           "(an entity read or a KiB matched each); narrow it with an "
			           "indexed term or a smaller limit",
			           SETTING(r->srv->cfg.query_budget_ms),
			           (unsigned long long)r->progress.work);
		else
			http_error(r, status, code, "the query was stopped: %s",
			           r->stop == STOP_SHUTDOWN ? "the server is shutting down"
			                                    : "its client went away");
		break;
	default:
		http_error(r, status ? status : 500, code ? code : "internal_error", "%s",
		           query_strerror(rc));
		break;
	}
}

const char *
http_param_get(const http_req *r, const char *name)
{
	for (size_t i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].name, name) == 0) return r->params[i].value;
	return NULL;
}

int
http_parse_uint(const char *v, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;
	if (!*v) return 0;
	for (; *v; v++) {
		unsigned d = (unsigned)(*v - '0');
		if (d > 9 || n > (max - d) / 10) return 0;
		n = n * 10 + d;
	}
	*out = n;
	return 1;
}

/* 1 when c is a cursor token of a kind some listing makes; whether that
** listing is the one asked for is the listing's own check. */
static int
cursor_well_formed(const char *c)
{
	unsigned char raw[QUERY_CURSOR_RAW_MAX];
	int kind = query_cursor_kind(c);
	return kind >= QUERY_CURSOR_EDGE && kind <= QUERY_CURSOR_SORTREF &&
	       query_cursor_decode_raw(c, strlen(c), kind, raw, sizeof raw) > 0;
}

int
http_params_or_reply(http_req *r)
{
	for (size_t i = 0; i < r->nparams; i++) {
		const char *name = r->params[i].name, *v = r->params[i].value;
		if (!*v) continue;          /* an empty parameter is an absent one */
		if (strcmp(name, "limit") == 0) {
			uint64_t n;
			/* at least 1; any larger number counts as HTTP_MAX_LIMIT (spec 6.1) */
			if (!http_parse_uint(v, UINT64_MAX, &n) || n == 0) {
				http_error(r, 400, "illegal_argument",
				           "parameter 'limit' must be a whole number of at least 1 "
				           "(values over %d count as %d), not '%.*s'",
				           HTTP_MAX_LIMIT, HTTP_MAX_LIMIT, HTTP_MAX_ECHO, v);
				return 0;
			}
			r->limit = n > HTTP_MAX_LIMIT ? HTTP_MAX_LIMIT : (size_t)n;
		} else if (strcmp(name, "cursor") == 0 && !cursor_well_formed(v)) {
			http_error(r, 400, "illegal_argument", "parameter 'cursor' is not a valid cursor");
			return 0;
		}
	}
	return 1;
}

size_t
http_limit(const http_req *r)
{
	return r->limit ? r->limit : HTTP_DEFAULT_LIMIT;
}

static json_t *
params_json(const http_req *r)
{
	json_t *p = json_object();
	for (size_t i = 0; i < r->nparams; i++) {
		if (http_param_secret(r->params[i].name)) continue;
		json_t *list = json_object_get(p, r->params[i].name);
		if (!list) {
			list = json_array();
			json_object_set_new(p, r->params[i].name, list);
		}
		json_array_append_new(list, json_string(r->params[i].value));
	}
	return p;
}

/* The api base for `uri`: the configured one, or http://Host. */
static const char *
base_url(http_req *r)
{
	if (r->srv->cfg.base_url) return r->srv->cfg.base_url;
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	if (!host || !utf8_valid(host, strlen(host))) host = "localhost";
	return http_sprintf(r, "http://%s", host);
}

json_t *
http_envelope(http_req *r, const char *path)
{
	json_t *env = json_object();
	json_object_set_new(env, "action", json_string(r->action));
	if (r->have_app) {
		char id[37];
		store_id_format(&r->app.uuid, id);
		json_object_set_new(env, "application", json_string(id));
	}
	json_object_set_new(env, "params", params_json(r));
	if (path) {
		json_object_set_new(env, "path", json_string(path));
		if (r->have_app)
			json_object_set_new(env, "uri", json_string(http_sprintf(r, "%s/%s/%s%s",
			                    base_url(r), r->app.org_name, r->app.name, path)));
	}
	json_object_set_new(env, "entities", json_array());
	json_object_set_new(env, "timestamp", json_integer(0));
	json_object_set_new(env, "duration", json_integer(0));
	if (r->have_app) {
		json_object_set_new(env, "organization", json_string(r->app.org_name));
		json_object_set_new(env, "applicationName", json_string(r->app.name));
	}
	return env;
}

void
http_reply(http_req *r, json_t *resp)
{
	json_decref(r->resp);
	r->resp = resp;
	r->status = 200;
	r->envelope = 1;
}

void
http_reply_rc(http_req *r, json_t *env, store_rc rc)
{
	if (rc == STORE_OK) {
		http_reply(r, env);
		return;
	}
	json_decref(env);
	http_store_error(r, rc, NULL, NULL);
}

void
http_finish(http_req *r, int64_t now_ms)
{
	if (!r->resp) http_error(r, 500, "internal_error", "no response was produced");
	if (!r->envelope) return;
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int64_t dur = (int64_t)(t1.tv_sec - r->t0.tv_sec) * 1000 +
	              (t1.tv_nsec - r->t0.tv_nsec) / 1000000;
	json_object_set_new(r->resp, "timestamp", json_integer(now_ms));
	json_object_set_new(r->resp, "duration", json_integer(dur));
}

/* {name: path/name} for each of names (NULL-terminated). */
static json_t *
paths_of(http_req *r, const char *path, const char *const *names)
{
	json_t *o = json_object();
	for (int i = 0; names[i]; i++)
		json_object_set_new(o, names[i], json_string(http_sprintf(r, "%s/%s", path, names[i])));
	return o;
}

/* metadata.connections or .connecting (key): a path for each verb of
** names (taken), "following" and "connection" left out. */
static void
add_verbs(json_t *md, http_req *r, json_t *names, const char *key, const char *path,
          const char *sub)
{
	json_t *v, *out = NULL;
	const char *name;
	json_object_foreach(names, name, v) {
		if (strcmp(name, "following") == 0 || strcmp(name, "connection") == 0)
			continue;
		if (!out) out = json_object();
		json_object_set_new(out, name, json_string(http_sprintf(r, "%s%s%s", path, sub, name)));
	}
	json_decref(names);
	if (out) json_object_set_new(md, key, out);
}

/* metadata.connections / connecting: verbs with at least one edge; an
** entity that another entity holds in a collection is connecting from its
** `owners` too, as Usergrid shows it (seed 002). */
static void
add_connections(json_t *md, store_txn *t, http_req *r, const store_id *id, const char *path,
                int want_out, int want_in)
{
	json_t *out = NULL, *in = NULL;
	int owned = 0;
	if (store_edge_verbs(t, &r->app, id, &out, &in) != STORE_OK) return;
	if (want_in && store_edge_owned(t, &r->app, id, &owned) == STORE_OK && owned) {
		if (!in) in = json_object();
		json_object_set_new(in, "owners", json_integer(1));
	}
	add_verbs(md, r, want_out ? out : NULL, "connections", path, "/");
	add_verbs(md, r, want_in ? in : NULL, "connecting", path, "/connecting/");
	if (!want_out) json_decref(out);
	if (!want_in) json_decref(in);
}

json_t *
http_entity_metadata(http_req *r, store_txn *t, json_t *e, const char *base_path)
{
	json_t *md = json_object_get(e, "metadata");   /* the audit fields, if kept */
	const char *type = json_string_value(json_object_get(e, "type"));
	const char *uuid = json_string_value(json_object_get(e, "uuid"));
	const char *path = http_sprintf(r, "%s/%s", base_path, uuid ? uuid : "");
	const char *conn = http_param_get(r, "connections");
	int want_out = 1, want_in = 1;
	store_id id;

	md = json_is_object(md) ? json_copy(md) : json_object();
	if (r->method == M_GET && conn) {
		if (strcmp(conn, "none") == 0) want_out = want_in = 0;
		else if (strcmp(conn, "in") == 0) want_out = 0;
		else if (strcmp(conn, "out") == 0) want_in = 0;
	}
	json_object_set_new(md, "path", json_string(path));
	if ((want_out || want_in) && uuid && store_id_parse((store_slice){ uuid, strlen(uuid) }, &id))
		add_connections(md, t, r, &id, path, want_out, want_in);
	if (type) {
		const store_type_info *ti = store_type_info_of(type);
		if (ti->sets[0]) json_object_set_new(md, "sets", paths_of(r, path, ti->sets));
		if (ti->collections[0])
			json_object_set_new(md, "collections", paths_of(r, path, ti->collections));
	}
	return md;
}

json_t *
http_render_entity(http_req *r, store_txn *t, json_t *e, const char *base_path)
{
	json_t *out = json_object();
	json_object_set_new(out, "metadata", http_entity_metadata(r, t, e, base_path));
	http_shown_add(r, out, e);
	return out;
}

/* Deepest nesting of a JSON value (bounded by jansson's own limit). */
int
http_json_depth(json_t *v)
{
	int max = 0;
	size_t i;
	const char *k;
	json_t *x;
	if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			int d = http_json_depth(x);
			if (d > max) max = d;
		}
		return max + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			int d = http_json_depth(x);
			if (d > max) max = d;
		}
		return max + 1;
	}
	return 0;
}

/* Parses the body once; r->json keeps it (NULL when absent or bad).  A
** form-encoded body (spec 1.6) becomes an object of strings, unless it
** opens as a JSON object, which some clients send under that type. */
static json_t *
body_parse(http_req *r)
{
	json_error_t jerr;
	json_t *v;
	size_t i = 0;

	while (i < r->body_len && (r->body[i] == ' ' || r->body[i] == '\t' ||
	                           r->body[i] == '\r' || r->body[i] == '\n'))
		i++;
	if (i == r->body_len) return NULL;
	r->body_present = 1;
	if (r->form_body && r->body[i] != '{') return http_form_object(r, r->body, r->body_len);
	v = json_loadb(r->body, r->body_len, 0, &jerr);
	if (!v) {
		http_error(r, 400, "json_parse",
		           "Unexpected character or invalid JSON at line %d, column %d: %s",
		           jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (http_json_depth(v) > HTTP_MAX_JSON_DEPTH) {
		json_decref(v);
		http_error(r, 400, "json_parse", "the JSON body nests deeper than %d levels",
		           HTTP_MAX_JSON_DEPTH);
		return NULL;
	}
	return v;
}

json_t *
http_body_json(http_req *r, int *present)
{
	if (!r->body_parsed) {         /* a bad body's error stays in r */
		r->body_parsed = 1;
		r->json = body_parse(r);
	}
	*present = r->body_present;
	return json_incref(r->json);
}

int
http_body_or_reply(http_req *r)
{
	int present;
	size_t total = 0, n;
	store_err err = { 0 };
	json_t *body, *item;
	store_rc rc = STORE_OK;

	if (r->asset_body && !http_asset_body_or_reply(r)) return 0;
	body = http_body_json(r, &present);
	if (present && !body) return 0;
	/* a settings document names dotted paths; entities may not */
	int settings = r->nseg && r->seg[r->nseg - 1].n == 9 &&
	               memcmp(r->seg[r->nseg - 1].p, "_settings", 9) == 0;
	if (json_is_object(body)) {
		rc = store_entity_check(body, !settings, &total, &err);
	} else if (json_is_array(body)) {
		/* an item that breaks a rule fails alone (the batch lists it);
		** what all of them would cost is bounded here */
		size_t i;
		json_array_foreach(body, i, item) {
			if (!json_is_object(item)) continue;
			store_entity_check(item, 1, &n, NULL);
			total += n;
		}
	}
	json_decref(body);
	r->write_entries = total;
	if (rc) {
		http_store_error(r, rc, &err, NULL);
		return 0;
	}
	if (total > HTTP_MAX_WRITE_ENTRIES) {
		http_error(r, 400, "illegal_argument",
		           "one write may make at most %d index entries (HTTP_MAX_WRITE_ENTRIES: "
		           "each value, and each word of a string, of every entity); this one "
		           "makes %zu", HTTP_MAX_WRITE_ENTRIES, total);
		return 0;
	}
	return 1;
}

/* Replaces every byte that starts no valid UTF-8 sequence with '?' (echoed
** input cut in the middle of a character). */
void
utf8_repair(char *s)
{
	unsigned char *p = (unsigned char *)s, *end = p + strlen(s);
	while (p < end) {
		size_t n = text_utf8_len(p, (size_t)(end - p));
		if (n == 0) *p++ = '?';
		else p += n;
	}
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		size_t len = text_utf8_len(p, (size_t)(end - p));
		if (len == 0) return 0;
		p += len;
	}
	return 1;
}
