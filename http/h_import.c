/*
** h_import.c: POST /{org}/{app}/_import, the NDJSON of `ugstore export`
** streamed into one application (docs/operations.md).
**
** The body is never held whole.  server.c hands over each piece as it
** arrives (http_import_feed); lines gather in a buffer until it holds
** HTTP_IMPORT_CHUNK bytes, and are then applied before more of the body is
** read.  The buffer holds at most that plus one line, and a line at most
** import_line_max() bytes (an asset's base64 and a body's worth of JSON):
** a longer one is refused and skipped unread.
**
** Records are written on the connection's worker in write transactions of
** their own, outside the writer's batches (as a backup reads outside
** them): HTTP_IMPORT_BATCH records at most, each committed before the next
** piece of the body is read, and each begun only after the writes queued
** meanwhile have run (http_queue_yield), so a write from another
** connection waits for one such transaction, never for the whole import,
** and no transaction stays open while the client is slow.  Each record runs in a nested
** transaction: a bad line changes nothing and is reported with its number
** and the reason, and the others go on.  A storage failure (a full map, an
** I/O error) stops the import there.
**
** The records go into the application of the URL and nowhere else
** (store_import_record's fixed import): the file's application record only
** says where the file came from, and the records of another application
** that a file may carry after its own are refused line by line.  Writing
** only what differs, an import run twice changes nothing the second time.
*/
#include "http/http_int.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The kinds of record an export writes, and their names in the reply. */
static const char *const kinds[][2] = {
	{ "application", "applications" }, { "settings", "settings" },
	{ "entity", "entities" }, { "edge", "edges" }, { "dictionary", "dictionaries" },
	{ "credential", "credentials" }, { "asset", "assets" }, { "counter", "counters" },
	{ "shared", "shared posts" }, { "interval", "intervals" },
};
#define NKINDS (sizeof kinds / sizeof *kinds)

struct http_import {
	store_import_state st;
	char     *buf;                /* bytes of the body not yet applied */
	size_t    len, cap;
	size_t    line_max;
	int       skipping;           /* discarding the rest of an over-long line */
	uint64_t  line;               /* lines read */
	uint64_t  count[NKINDS];      /* records imported, by kind */
	uint64_t  failed;             /* lines refused */
	uint64_t  mark;               /* st.changed when the transaction began */
	json_t   *errors;             /* the first HTTP_MAX_IMPORT_ERRORS {line, error} */
	store_rc  stop;               /* a failure that ended the import */
	char      why[400];
};

/* The longest line: an asset record's base64 (of --max-asset bytes) and a
** request body's worth of JSON around it. */
static size_t
import_line_max(const http_server *srv)
{
	return SETTING(srv->cfg.max_asset) / 3 * 4 + 4 + SETTING(srv->cfg.max_body);
}

static void
line_error(struct http_import *im, uint64_t line, const char *why)
{
	im->failed++;
	if (json_array_size(im->errors) < HTTP_MAX_IMPORT_ERRORS) {
		char text[HTTP_MAX_ECHO + 1];
		snprintf(text, sizeof text, "%s", why);
		http_text_clean(text, HTTP_MAX_ECHO);
		json_array_append_new(im->errors, json_pack("{s:I, s:s}", "line", (json_int_t)line,
		                                            "error", text));
	}
}

static void
too_long(struct http_import *im)
{
	char why[80];
	snprintf(why, sizeof why, "the line is longer than %zu bytes", im->line_max);
	line_error(im, im->line, why);
}

/* A storage failure: the import stops (what came before stays). */
static int
fatal(store_rc rc)
{
	return rc == STORE_FULL || rc == STORE_NOMEM || rc == STORE_IO || rc == STORE_CORRUPT;
}

/* Commits the open transaction, if any: when a record of it changed the
** store (an import run again syncs nothing). */
static void
commit(http_req *r, store_txn **t)
{
	struct http_import *im = r->import;
	if (!*t) return;
	if (im->st.changed == im->mark) {
		store_txn_abort(*t);
		*t = NULL;
		return;
	}
	store_rc rc = store_txn_commit(*t);
	*t = NULL;
	if (rc) {
		im->stop = rc;
		snprintf(im->why, sizeof im->why, "a commit failed: %s", store_strerror(rc));
	}
}

/* What a record asks of the store, checked as a request body is: a bad
** one is refused (err says why) before a transaction is begun for it.
** *i: its kind's place in kinds. */
static store_rc
record_check(json_t *rec, size_t *i, store_err *err)
{
	size_t entries = 0;
	json_t *e = json_object_get(rec, "entity");
	const char *kind = json_string_value(json_object_get(rec, "record"));
	for (*i = 0; kind && *i < NKINDS && strcmp(kind, kinds[*i][0]) != 0; ++*i) continue;
	if (!kind || *i == NKINDS) {
		snprintf(err->msg, sizeof err->msg, "not a record of an export (\"record\": %s)",
		         kind ? "unknown" : "missing");
		return STORE_INVALID;
	}
	if (strcmp(kind, "entity") != 0 || !json_is_object(e)) return STORE_OK;
	store_rc rc = store_entity_check(e, 1, &entries, err);
	if (rc == STORE_OK && entries > HTTP_MAX_WRITE_ENTRIES) {
		rc = STORE_TOOBIG;
		snprintf(err->msg, sizeof err->msg, "the entity would make %zu index entries (at "
		         "most %d)", entries, HTTP_MAX_WRITE_ENTRIES);
	}
	return rc;
}

/* Applies one line (s[0..n), no newline) in a child of *t (begun here
** when none is open). */
static void
apply_line(http_req *r, store_txn **t, const char *s, size_t n)
{
	struct http_import *im = r->import;
	store_err err = { 0 };
	store_txn *child = NULL;
	json_error_t jerr;
	char why[400];
	size_t kind = NKINDS;
	store_rc rc;

	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
	while (n && (*s == ' ' || *s == '\t')) s++, n--;
	if (!n) return;                                      /* a blank line */
	json_t *rec = json_loadb(s, n, 0, &jerr);
	if (!rec) {
		snprintf(why, sizeof why, "not JSON: %s (column %d)", jerr.text, jerr.column);
		line_error(im, im->line, why);
		return;
	}
	if (!json_is_object(rec) || http_json_depth(rec) > HTTP_MAX_JSON_DEPTH) {
		rc = STORE_INVALID;
		snprintf(err.msg, sizeof err.msg, json_is_object(rec) ? "the record nests deeper "
		         "than %d levels" : "a record is a JSON object", HTTP_MAX_JSON_DEPTH);
	} else {
		rc = record_check(rec, &kind, &err);
	}
	if (rc == STORE_OK && !*t) http_queue_yield(r->srv->writer);   /* queued writes first */
	if (rc == STORE_OK && !*t && (rc = store_txn_begin(r->srv->s, STORE_TXN_WRITE, t)) == 0) {
		im->mark = im->st.changed;
		r->txn = *t;
		http_actor(r);                 /* settings say who changed them */
		r->txn = NULL;
	}
	if (rc == STORE_OK && (rc = store_txn_begin_child(*t, &child)) == STORE_OK) {
		rc = store_import_record(child, &im->st, rec, &err);
		if (rc == STORE_OK) rc = store_txn_commit(child);
		else store_txn_abort(child);
	}
	if (rc == STORE_OK) {
		im->count[kind]++;
	} else if (fatal(rc)) {
		im->stop = rc;
		snprintf(im->why, sizeof im->why, "line %llu: %s", (unsigned long long)im->line,
		         err.msg[0] ? err.msg : store_strerror(rc));
	} else {
		line_error(im, im->line, err.msg[0] ? err.msg : store_strerror(rc));
	}
	json_decref(rec);
}

/* Applies the whole lines in the buffer (and, at the end, the last one
** without a newline), in transactions of at most HTTP_IMPORT_BATCH
** records; keeps the rest. */
static void
apply_lines(http_req *r, int last)
{
	struct http_import *im = r->import;
	store_txn *t = NULL;
	if (!im->buf) return;             /* nothing has come yet: nothing to apply */
	const char *p = im->buf, *end = im->buf + im->len;
	size_t in_txn = 0;

	while (!im->stop && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl && !last) break;
		const char *e = nl ? nl : end;
		im->line++;
		if ((size_t)(e - p) > im->line_max) too_long(im);
		else apply_line(r, &t, p, (size_t)(e - p));
		p = nl ? nl + 1 : end;
		if (t && ++in_txn == HTTP_IMPORT_BATCH) {
			commit(r, &t);
			in_txn = 0;
		}
	}
	if (im->stop) store_txn_abort(t);
	else commit(r, &t);
	im->len = (size_t)(end - p);
	memmove(im->buf, p, im->len);
}

void
h_import(http_req *r)
{
	if (r->stage != STAGE_IMPORT) {   /* only http_import_open routes here */
		http_error(r, 400, "illegal_argument", "an import is a POST of NDJSON to "
		           "/{org}/{app}/_import");
		return;
	}
	struct http_import *im = xcalloc(1, sizeof *im);
	im->st.app = r->app;
	im->st.have_app = 1;
	im->st.fixed = 1;
	im->line_max = import_line_max(r->srv);
	im->errors = json_array();
	r->import = im;
}

int
http_import_open(http_req *r)
{
	store_rc rc;
	r->stage = STAGE_IMPORT;
	if (!http_params_or_reply(r)) return 0;
	if ((rc = store_txn_begin(r->srv->s, STORE_TXN_READ, &r->txn))) {
		http_store_error(r, rc, NULL, NULL);
		return 0;
	}
	http_route(r);                  /* resolves the app, authorizes, h_import */
	store_txn_abort(r->txn);
	r->txn = NULL;
	return r->import != NULL;
}

void
http_import_feed(http_req *r, const char *data, size_t n)
{
	struct http_import *im = r->import;
	if (im->stop) return;
	while (n) {
		if (im->skipping) {            /* the rest of a line too long to read */
			const char *nl = memchr(data, '\n', n);
			if (!nl) return;
			im->skipping = 0;
			n -= (size_t)(nl + 1 - data);
			data = nl + 1;
			continue;
		}
		size_t take = n < HTTP_IMPORT_CHUNK ? n : HTTP_IMPORT_CHUNK;
		if (im->len + take > im->cap) {
			im->cap = im->len + take > 2 * im->cap ? im->len + take : 2 * im->cap;
			im->buf = xrealloc(im->buf, im->cap);
		}
		memcpy(im->buf + im->len, data, take);
		im->len += take;
		data += take;
		n -= take;
		if (im->len >= HTTP_IMPORT_CHUNK || im->len > im->line_max) apply_lines(r, 0);
		if (im->len > im->line_max) {  /* one line, and still no end to it */
			im->line++;
			too_long(im);
			im->len = 0;
			im->skipping = 1;
		}
	}
}

void
http_import_end(http_req *r)
{
	struct http_import *im = r->import;
	if (!im->stop && !r->body_over) apply_lines(r, 1);
	if (im->stop) {
		http_error(r, im->stop == STORE_FULL ? 507 : 500, im->stop == STORE_FULL
		           ? "storage_full" : "internal_error", "the import stopped at %s; the lines "
		           "before it were imported (an import run again finishes it)", im->why);
		return;
	}
	if (r->body_over) {
		http_error(r, 413, "request_entity_too_large", "the import body exceeds %zu bytes "
		           "(--max-import); its first %llu lines were imported", r->body_max,
		           (unsigned long long)im->line);
		return;
	}
	json_t *env = http_envelope(r, "/_import"), *data = json_object();
	json_object_set_new(env, "action", json_string("import"));
	json_object_set_new(data, "lines", json_integer((json_int_t)im->line));
	json_object_set_new(data, "records", json_integer((json_int_t)im->st.records));
	json_object_set_new(data, "changed", json_integer((json_int_t)im->st.changed));
	for (size_t i = 0; i < NKINDS; i++)
		json_object_set_new(data, kinds[i][1], json_integer((json_int_t)im->count[i]));
	json_object_set_new(data, "replaced", json_integer((json_int_t)im->st.replaced));
	json_object_set_new(data, "failed", json_integer((json_int_t)im->failed));
	json_object_set(data, "errors", im->errors);
	json_object_set_new(env, "data", data);
	http_reply(r, env);
}

void
http_import_free(struct http_import *im)
{
	if (!im) return;
	json_decref(im->errors);
	free(im->buf);
	free(im);
}
