/*
** eval.c: evaluates a ql predicate against one entity (spec 6.5).
**
** The evaluator walks the tree; it never sees query text.  Semantics:
**   - property names match case-insensitively; a dotted path walks nested
**     objects, and an array on the way (or at the end) stands for each of
**     its elements; arrays of arrays are not looked into;
**   - a comparison holds when any value at the path satisfies it;
**   - typed: a string literal compares with strings (case-insensitively;
**     '*' in an `=` literal is a wildcard over the whole value), an
**     integer literal with integers, a float with floats, a boolean with
**     booleans, a UUID with strings holding that UUID;
**   - `contains` matches words (store_word_next: the index's rule, ASCII
**     letters and digits and non-ASCII bytes, compared lower-cased);
**     every word of the literal must be a token of the value, and '*' in a
**     word is a wildcard within the token;
**   - `within` measures the great-circle distance to a location object
**     ({latitude, longitude} or {lat, lon}, any case);
**   - NOT holds for every entity the operand does not match.
**
** Every match costs O(value + literal) bytes (wildcards never backtrack)
** and is charged to the query's progress meter, which lives here too; a
** stopped meter makes query_eval answer -1.
*/
#include "query/query.h"
#include "core/mem.h"
#include "core/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
query_charge(query_progress *p, uint64_t units, size_t bytes)
{
	if (!p) return 0;
	p->bytes += bytes;
	p->work += units + p->bytes / QUERY_UNIT_BYTES;
	p->bytes %= QUERY_UNIT_BYTES;
	if (!p->stopped && p->work >= p->next) {
		p->next = p->work + QUERY_CHECK_EVERY;
		p->stopped = p->handler(p->ctx) != 0;
	}
	return p->stopped;
}

/* ASCII lower case: names and values compare so whatever the locale. */
static int
lc(char c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : (unsigned char)c;
}

/* Visits each value at path under v; stops and returns fn's answer when it
** is not 0 (1: found, -1: stopped). */
typedef int (*visit_fn)(json_t *v, const void *ctx);

static int
visit(json_t *v, const char *path, visit_fn fn, const void *ctx, int in_array)
{
	if (json_is_array(v)) {
		size_t i;
		json_t *x;
		if (in_array) return 0;          /* arrays of arrays: not indexed */
		json_array_foreach(v, i, x) {
			int r = visit(x, path, fn, ctx, 1);
			if (r) return r;
		}
		return 0;
	}
	if (!*path) return fn(v, ctx);
	if (!json_is_object(v)) return 0;
	const char *key, *rest;
	size_t n = store_path_name(path, &rest);
	json_t *x;
	json_object_foreach(v, key, x) {          /* every key that spells the name */
		int r = store_path_is(key, path, n) ? visit(x, rest, fn, ctx, 0) : 0;
		if (r) return r;
	}
	return 0;
}

/* Case-insensitive byte comparison of two strings. */
static int
cmp_ci(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	for (size_t i = 0; i < n; i++) {
		int x = lc(a[i]), y = lc(b[i]);
		if (x != y) return x < y ? -1 : 1;
	}
	return an == bn ? 0 : an < bn ? -1 : 1;
}

static int
holds(ql_op op, int c)
{
	switch (op) {
	case QL_EQ:  return c == 0;
	case QL_LT:  return c < 0;
	case QL_LTE: return c <= 0;
	case QL_GT:  return c > 0;
	case QL_GTE: return c >= 0;
	}
	return 0;
}

typedef struct {
	ql_op           op;
	const ql_value *val;
	query_progress *p;
} cmp_ctx;

static int
match_cmp(json_t *v, const void *ctx)
{
	const cmp_ctx *c = ctx;
	const ql_value *lit = c->val;
	switch (lit->type) {
	case QL_VSTRING: {
		if (!json_is_string(v)) return 0;
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		int r = c->op == QL_EQ && memchr(lit->u.s.lower, '*', lit->u.s.len)
		        ? text_glob_ci(lit->u.s.lower, lit->u.s.len, s, n, -1)
		        : holds(c->op, cmp_ci(s, n, lit->u.s.lower, lit->u.s.len));
		return query_charge(c->p, 0, n + lit->u.s.len) ? -1 : r;
	}
	case QL_VUUID: {
		char text[37];
		if (!json_is_string(v)) return 0;
		store_id_format((const store_id *)lit->u.uuid, text);
		return holds(c->op, cmp_ci(json_string_value(v), json_string_length(v), text, 36));
	}
	case QL_VLONG: {
		if (!json_is_integer(v)) return 0;
		json_int_t x = json_integer_value(v);
		return holds(c->op, x < lit->u.l ? -1 : x > lit->u.l ? 1 : 0);
	}
	case QL_VDOUBLE: {
		if (!json_is_real(v)) return 0;
		double x = json_real_value(v);
		return holds(c->op, x < lit->u.d ? -1 : x > lit->u.d ? 1 : 0);
	}
	case QL_VBOOL: {
		if (!json_is_boolean(v)) return 0;
		int x = json_is_true(v);
		return holds(c->op, x - lit->u.b);
	}
	}
	return 0;
}

/* Is pattern word p (may hold '*', never two in a row) a token of s?  A
** token shorter than the word's `fixed` bytes other than '*' cannot
** match and is skipped unread, so the whole scan is O(n + pn). */
static int
has_token(const char *s, size_t n, const char *p, size_t pn, size_t fixed)
{
	size_t i = 0, start, len;
	while (store_word_next(s, n, &i, &start, &len))
		if (len >= fixed && text_glob_ci(p, pn, s + start, len, -1)) return 1;
	return 0;
}

typedef struct {
	const ql_value *val;
	query_progress *p;
} contains_ctx;

static int
match_contains(json_t *v, const void *ctx)
{
	const contains_ctx *c = ctx;
	const char *p = c->val->u.s.lower, *end = p + c->val->u.s.len;
	char word[QL_MAX_LEN];
	int words = 0;
	if (!json_is_string(v)) return 0;
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	while (p < end) {
		size_t wn = 0, fixed = 0;
		while (p < end && !store_word_byte((unsigned char)*p) && *p != '*') p++;
		for (; p < end && (store_word_byte((unsigned char)*p) || *p == '*'); p++) {
			if (*p == '*' && wn && word[wn - 1] == '*') continue;   /* "**" is "*" */
			if (wn == sizeof word) return 0;     /* longer than any literal */
			fixed += *p != '*';
			word[wn++] = *p;
		}
		if (!wn) break;
		words++;
		int found = has_token(s, n, word, wn, fixed);
		if (query_charge(c->p, 0, n + wn)) return -1;
		if (!found) return 0;
	}
	return words > 0;
}

/* Great-circle distance in meters. */
static double
query_distance_m(double lat1, double lon1, double lat2, double lon2)
{
	const double r = 6371008.8, rad = M_PI / 180.0;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double a = sin(dlat / 2) * sin(dlat / 2) +
	           cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
	return 2 * r * atan2(sqrt(a), sqrt(1 - a));
}

typedef struct {
	double lat, lon, best;
	int    found;
} near_ctx;

static int
match_near(json_t *v, const void *ctx)
{
	near_ctx *c = (near_ctx *)ctx;
	double lat, lon;
	if (!store_location_of(v, &lat, &lon)) return 0;
	double d = query_distance_m(c->lat, c->lon, lat, lon);
	if (!c->found || d < c->best) c->best = d;
	c->found = 1;
	return 0;                       /* keep looking for a nearer one */
}

int
query_location_distance(json_t *e, const char *prop, double lat, double lon,
                        double *meters)
{
	near_ctx c = { lat, lon, 0, 0 };
	visit(e, prop, match_near, &c, 0);
	if (c.found) *meters = c.best;
	return c.found;
}

int
query_eval(const ql_node *n, json_t *e, query_progress *p)
{
	int r = 0;
	if (!n) return 1;
	switch (n->kind) {
	case QL_OR:
		for (size_t i = 0; i < n->u.list.n && r == 0; i++) r = query_eval(n->u.list.kids[i], e, p);
		return r;
	case QL_AND:
		r = 1;
		for (size_t i = 0; i < n->u.list.n && r == 1; i++) r = query_eval(n->u.list.kids[i], e, p);
		return r;
	case QL_NOT:
		r = query_eval(n->u.not_kid, e, p);
		return r < 0 ? r : !r;
	case QL_CMP: {
		cmp_ctx c = { n->u.cmp.op, &n->u.cmp.val, p };
		return visit(e, n->u.cmp.prop, match_cmp, &c, 0);
	}
	case QL_CONTAINS: {
		contains_ctx c = { &n->u.contains.val, p };
		return visit(e, n->u.contains.prop, match_contains, &c, 0);
	}
	case QL_WITHIN: {
		double d;
		return query_location_distance(e, n->u.within.prop, n->u.within.lat,
		                               n->u.within.lon, &d) &&
		       d <= n->u.within.distance;
	}
	}
	return 0;
}
