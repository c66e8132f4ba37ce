/*
** emit.c: a reply's JSON text.  jansson writes every value
** (store_json_write, into the reply's buffer); this file only puts the
** pieces side by side.  An entity rendered by
** http_render_entity() is written as its stored entity's text followed by
** its metadata block: for an entity shared from the entity cache that text
** was made once and kept (core/entcache.c), so a page of entities costs
** ten copies and ten small metadata objects, not a tree of every property
** rebuilt and written out again.  The rest of the envelope goes out at
** once, and the members holding rendered entities after it.
*/
#include "http/http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_shown {
	json_t *out;                   /* the rendered object: its metadata only */
	json_t *e;                     /* the entity it shows */
	int     emitted;               /* written by put_shown */
#ifdef UGSTORE_CHECK_SHARED
	char   *text;                  /* e's text when rendered */
#endif
	struct http_shown *next;
};

typedef struct {
	char  *p;
	size_t n, cap;
	int    failed;                 /* a value could not be encoded */
} tbuf;

static void
put(tbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static int
put_piece(const char *s, size_t n, void *b)
{
	put(b, s, n);
	return 0;
}

static void
put_json(tbuf *b, const json_t *v)
{
	if (store_json_write(v, put_piece, b) != 0) b->failed = 1;
}

void
http_shown_add(http_req *r, json_t *out, json_t *e)
{
	struct http_shown *s = arena_alloc(r->a, sizeof *s);
	s->out = json_incref(out);     /* held: no other object takes its address */
	s->e = json_incref(e);
#ifdef UGSTORE_CHECK_SHARED
	tbuf t = { 0 };
	s->text = store_entity_write(r->srv->s, e, put_piece, &t) == 0 ? t.p : (free(t.p), NULL);
#endif
	s->next = NULL;
	s->emitted = 0;
	*(r->shown ? &r->shown_last->next : &r->shown) = s;
	r->shown_last = s;
}

void
http_shown_clear(http_req *r)
{
	for (struct http_shown *s = r->shown; s; s = s->next) {
		json_decref(s->out);
		json_decref(s->e);
#ifdef UGSTORE_CHECK_SHARED
		free(s->text);
#endif
	}
	r->shown = r->shown_last = NULL;
}

/* The record of rendered object v, or NULL.  The objects of a list come
** in the order they were rendered, so the search starts after the last
** one found. */
static struct http_shown *
shown_of(http_req *r, struct http_shown **hint, const json_t *v)
{
	for (struct http_shown *s = *hint; s; s = s->next)
		if (s->out == v) return *hint = s->next, s;
	for (struct http_shown *s = r->shown; s != *hint; s = s->next)
		if (s->out == v) return *hint = s->next, s;
	return NULL;
}

#ifdef UGSTORE_CHECK_SHARED
/* The sanitizer build checks that nothing changed a rendered entity after
** its rendering (text[0..n): its text now), nor added to the rendered
** object but its metadata. */
static void
check_unchanged(const struct http_shown *s, const char *text, size_t n)
{
	json_t *md = json_object_get(s->out, "metadata");
	if (!s->text || strlen(s->text) != n || memcmp(s->text, text, n) != 0 ||
	    json_object_size(s->out) != (md ? 1u : 0u)) {
		fprintf(stderr, "ugstore: a rendered entity was changed after rendering\n");
		abort();
	}
}

/* ...and that every rendered object the reply holds was written as one:
** one that a reply held where http_emit does not look (deeper than a
** member of the envelope or an element of a member's list) would go out
** as its metadata alone.  Held by the reply = referenced besides by its
** record (and by a token grant that was prepared and not issued). */
static void
check_all_written(http_req *r)
{
	for (struct http_shown *s = r->shown; s; s = s->next)
		if (!s->emitted && s->out->refcount > 1 + (s->out == r->grant.what)) {
			fprintf(stderr, "ugstore: a rendered entity was not written as one\n");
			abort();
		}
}
#endif

static void
put_shown(http_req *r, tbuf *b, struct http_shown *s)
{
	size_t at = b->n;
	json_t *md = json_object_get(s->out, "metadata");
	if (store_entity_write(r->srv->s, s->e, put_piece, b) != 0 || b->n - at < 2) {
		b->failed = 1;
		return;
	}
#ifdef UGSTORE_CHECK_SHARED
	check_unchanged(s, b->p + at, b->n - at);
#endif
	s->emitted = 1;
	b->n--;                        /* its closing brace: the metadata goes in */
	if (md) {
		if (b->n - at > 1) put(b, ",", 1);
		put(b, "\"metadata\":", 11);
		put_json(b, md);
	}
	put(b, "}", 1);
}

/* 1 when v is a rendered object or a list holding one. */
static int
holds_shown(http_req *r, struct http_shown **hint, json_t *v)
{
	size_t i;
	json_t *x;
	if (json_is_object(v)) return shown_of(r, hint, v) != NULL;
	if (json_is_array(v))
		json_array_foreach(v, i, x) if (json_is_object(x) && shown_of(r, hint, x)) return 1;
	return 0;
}

static void
put_value(http_req *r, tbuf *b, struct http_shown **hint, json_t *v)
{
	struct http_shown *s;
	size_t i;
	json_t *x;
	if (json_is_object(v) && (s = shown_of(r, hint, v))) {
		put_shown(r, b, s);
		return;
	}
	if (!json_is_array(v)) {
		put_json(b, v);
		return;
	}
	put(b, "[", 1);
	json_array_foreach(v, i, x) {
		if (i) put(b, ",", 1);
		if (json_is_object(x) && (s = shown_of(r, hint, x))) put_shown(r, b, s);
		else put_json(b, x);
	}
	put(b, "]", 1);
}

char *
http_emit(http_req *r, json_t *resp, size_t *n)
{
	if (!r->shown || !json_is_object(resp)) {
#ifdef UGSTORE_CHECK_SHARED
		check_all_written(r);
#endif
		return store_json_text(resp, n);
	}
	/* The members holding rendered entities go last: taken out, the rest
	** is written at once, and they follow, then are put back. */
	size_t nout = 0;
	struct { char *key; json_t *v; } *out = arena_alloc(r->a, json_object_size(resp) * sizeof *out);
	struct http_shown *hint = r->shown;
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(resp, tmp, k, v) {
		if (!holds_shown(r, &hint, v)) continue;
		out[nout].key = arena_strndup(r->a, k, strlen(k));
		out[nout++].v = json_incref(v);
		json_object_del(resp, k);
	}
	tbuf b = { 0 };
	put_json(&b, resp);
	if (b.n < 2) b.failed = 1;
	else b.n--;                           /* all but its closing brace */
	for (size_t i = 0; i < nout; i++) {
		json_t *key = json_string(out[i].key);
		if (b.n > 1) put(&b, ",", 1);
		put_json(&b, key);
		json_decref(key);
		put(&b, ":", 1);
		hint = r->shown;
		put_value(r, &b, &hint, out[i].v);
		json_object_set_new(resp, out[i].key, out[i].v);
	}
	put(&b, "}", 1);
#ifdef UGSTORE_CHECK_SHARED
	check_all_written(r);
#endif
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	*n = b.n;
	return b.p;
}
