/*
** parse.c: the ql parser: text -> ql_query (grammar and decisions in ql.h).
**
** A hand-written recursive-descent parser with one token of lookahead (two
** for DIRECT, which is also a property name).  It works in two passes over
** the text: the first only tokenizes, so that a bad character is reported
** even when a syntax error comes before it (Usergrid lexes everything
** before it parses, and reports query_token first); the second parses,
** calling ql_token again for each token.
**
** Invariants:
**   - Recursion happens only through '(' and NOT, and both count against
**     QL_MAX_DEPTH, so the C stack use is bounded whatever the input.
**   - All memory comes from the caller's arena; an error leaves whatever
**     was allocated there, and nothing else to clean up.
**   - The first error wins: every rule returns NULL/0 once p->rc is set,
**     and error() never overwrites an earlier error.
**   - Grammar functions stay thin; nodes are built by the mk_* helpers.
*/
#include "query/ql_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest piece of user text echoed into a message. */
#define ECHO_MAX 40

typedef struct {
	int    type;      /* ql_tk */
	size_t off, len;  /* bytes of the text it spans */
} token;

typedef struct {
	arena      *a;
	const char *z;      /* the whole text */
	size_t      n;
	token       cur;    /* current token; never QL_TK_WS */
	int         depth;  /* open '(' and NOT */
	int         terms;  /* comparisons, contains, within so far */
	ql_error   *err;    /* may be NULL */
	ql_rc       rc;     /* first error, QL_OK while all is well */
} parser;

/*------------------------------ errors ------------------------------*/

static const char *const rc_names[QL_RC_COUNT] = {
	"OK", "PARSE", "TOKEN", "LIMIT", "DIRECT",
};

static const char *const error_names[QL_RC_COUNT] = {
	"", "query_parse", "query_token", "query_parse", "too_many_direct_entities",
};

const char *
ql_rc_name(int code)
{
	return code >= 0 && code < QL_RC_COUNT ? rc_names[code] : "?";
}

const char *
ql_error_name(int code)
{
	return code >= 0 && code < QL_RC_COUNT ? error_names[code] : "query_parse";
}

/* 1-based line and column (in characters) of byte offset off. */
static void
position(const char *z, size_t off, int *line, int *col)
{
	int l = 1, c = 1;
	for (size_t i = 0; i < off; i++) {
		if (z[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)z[i] & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

/* Records rc and the position of byte offset off when no error is
** recorded yet; returns the error to write the message into, or NULL when
** there is none to write (an earlier error, or no ql_error asked for). */
static ql_error *
error_begin(parser *p, ql_rc rc, size_t off)
{
	if (p->rc != QL_OK) return NULL;
	p->rc = rc;
	ql_error *e = p->err;
	if (!e) return NULL;
	e->code = (int)rc;
	e->offset = off;
	position(p->z, off, &e->line, &e->col);
	return e;
}

/*
** Records the first error: code, the position of byte offset off, and the
** message "<head>'<echo of z[eoff..eoff+en)>' at column C on line L<tail>".
*/
static void
error_at(parser *p, ql_rc rc, size_t off, const char *head, size_t eoff,
         size_t en, const char *tail)
{
	ql_error *e = error_begin(p, rc, off);
	if (!e) return;
	snprintf(e->msg, sizeof e->msg, "%s'", head);
	if (en) {
		qlx_echo(e->msg, sizeof e->msg, p->z + eoff, en, ECHO_MAX);
	} else {
		size_t o = strlen(e->msg);
		snprintf(e->msg + o, sizeof e->msg - o, "<EOF>");
	}
	size_t o = strlen(e->msg);
	snprintf(e->msg + o, sizeof e->msg - o, "' at column %d on line %d%s",
	         e->col, e->line, tail);
}

/* Records the first error, with the printf-style message fmt. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void
error_fmt(parser *p, ql_rc rc, size_t off, const char *fmt, ...)
{
	ql_error *e = error_begin(p, rc, off);
	if (!e) return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

#define CANNOT "The query cannot be parsed. The token "

/* The generic syntax error, worded as Usergrid's ParsedQueryBuilder. */
static void
syntax_error(parser *p, const token *t)
{
	error_at(p, QL_ERR_PARSE, t->off, CANNOT, t->off, t->len,
	         " cannot be parsed");
}

/* A limit hit at token t; what names the thing counted. */
static void
limit_error(parser *p, const token *t, int limit, const char *what)
{
	char tail[80];
	snprintf(tail, sizeof tail, " exceeds the limit of %d %s", limit, what);
	error_at(p, QL_ERR_LIMIT, t->off, CANNOT, t->off, t->len, tail);
}

/*------------------------------ tokens ------------------------------*/

/* The first non-WS token at or after byte offset at. */
static token
lex_at(const parser *p, size_t at)
{
	token t;
	for (;;) {
		t.off = at;
		t.len = ql_token(p->z + at, p->n - at, &t.type);
		if (t.type != QL_TK_WS) return t;
		at += t.len;
	}
}

static void
advance(parser *p)
{
	p->cur = lex_at(p, p->cur.off + p->cur.len);
}

static int
peek_type(const parser *p)
{
	return lex_at(p, p->cur.off + p->cur.len).type;
}

static int
accept(parser *p, int type)
{
	if (p->cur.type != type) return 0;
	advance(p);
	return 1;
}

static int
expect(parser *p, int type)
{
	if (accept(p, type)) return 1;
	syntax_error(p, &p->cur);
	return 0;
}

/*
** The tokenizing pass: reports the first token error of the whole text.
** Returns 1 when the text tokenizes cleanly.
*/
static int
check_tokens(parser *p)
{
	size_t at = 0;
	while (at < p->n) {
		int type;
		size_t len = ql_token(p->z + at, p->n - at, &type);
		switch (type) {
		case QL_TK_ERR_CHAR: {
			size_t bad = at, bn = len;
			const char *hint = "";
			if (p->z[at] == '\'') {          /* a NUL inside a string */
				bad = at + len - 1;
				bn = 1;
			} else if (p->z[at] == '!' && at + 1 < p->n && p->z[at + 1] == '=') {
				hint = ": there is no != operator, write not a = b";
			} else if (p->z[at] == '"') {
				hint = ": strings are quoted with '";
			}
			char tail[80];
			snprintf(tail, sizeof tail, " is not valid%s", hint);
			error_at(p, QL_ERR_TOKEN, bad,
			         "The query cannot be tokenized. The character ",
			         bad, bn, tail);
			return 0;
		}
		case QL_TK_ERR_STRING: {
			int line, col;
			position(p->z, at, &line, &col);
			error_fmt(p, QL_ERR_TOKEN, at, "The query cannot be tokenized. "
			          "The string at column %d on line %d is not terminated",
			          col, line);
			return 0;
		}
		case QL_TK_ERR_ESCAPE:
			error_at(p, QL_ERR_TOKEN, at + len - 2,
			         "The query cannot be tokenized. The escape ",
			         at + len - 2, 2, " is not valid");
			return 0;
		default:
			break;
		}
		at += len;
	}
	return 1;
}

/*------------------------------ builders ------------------------------*/

/* A new lower-cased, NUL-terminated copy of the text of t. */
static const char *
mk_name(parser *p, const token *t)
{
	char *s = arena_strndup(p->a, p->z + t->off, t->len);
	for (char *c = s; *c; c++)
		if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + ('a' - 'A'));
	return s;
}

static ql_node *
mk_node(parser *p, ql_kind kind, size_t off)
{
	ql_node *nd = arena_alloc(p->a, sizeof *nd);
	memset(nd, 0, sizeof *nd);
	nd->kind = kind;
	nd->offset = off;
	return nd;
}

/* 36 checked characters of a UUID token -> 16 bytes. */
static void
uuid_bytes(const char *z, unsigned char out[16])
{
	int k = 0;
	for (int i = 0; i < 36; i += 2) {
		if (z[i] == '-') i++;
		out[k++] = (unsigned char)(text_hexval((unsigned char)z[i]) << 4 |
		                           text_hexval((unsigned char)z[i + 1]));
	}
}

/* A LONG token (-?digits) -> int64; 0 on overflow. */
static int
long_value(const char *z, size_t n, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	uint64_t v = 0, max = (uint64_t)INT64_MAX;
	if (z[0] == '-') {
		neg = 1;
		max++;            /* |INT64_MIN| */
		i++;
	}
	for (; i < n; i++) {
		unsigned d = (unsigned)(z[i] - '0');
		if (v > (max - d) / 10) return 0;
		v = v * 10 + d;
	}
	if (neg) *out = v == max ? INT64_MIN : -(int64_t)v;
	else *out = (int64_t)v;
	return 1;
}

/* A FLOAT or LONG token -> finite double; 0 when it overflows. */
static int
double_value(parser *p, const token *t, double *out)
{
	/* strtod wants a NUL; the program never changes LC_NUMERIC. */
	char *s = arena_strndup(p->a, p->z + t->off, t->len);
	double d = strtod(s, NULL);
	if (!isfinite(d)) return 0;
	*out = d;
	return 1;
}

static void
range_error(parser *p, const token *t)
{
	error_at(p, QL_ERR_PARSE, t->off, CANNOT, t->off, t->len,
	         " is out of range");
}

/* value : BOOLEAN | LONG | UUID | STRING | FLOAT */
static int
parse_value(parser *p, ql_value *v)
{
	token t = p->cur;
	const char *z = p->z + t.off;

	switch (t.type) {
	case QL_TK_BOOLEAN:
		v->type = QL_VBOOL;
		v->u.b = z[0] == 't' || z[0] == 'T';
		break;
	case QL_TK_LONG:
		v->type = QL_VLONG;
		if (!long_value(z, t.len, &v->u.l)) {
			range_error(p, &t);
			return 0;
		}
		break;
	case QL_TK_FLOAT:
		v->type = QL_VDOUBLE;
		if (!double_value(p, &t, &v->u.d)) {
			range_error(p, &t);
			return 0;
		}
		break;
	case QL_TK_UUID:
		v->type = QL_VUUID;
		uuid_bytes(z, v->u.uuid);
		break;
	case QL_TK_STRING: {
		char *text = arena_alloc(p->a, t.len), *low;
		size_t n, bad, badn;
		if (qlx_string_decode(z, t.len, text, &n, &bad, &badn) != 0) {
			error_at(p, QL_ERR_TOKEN, t.off + bad,
			         "The query cannot be tokenized. The escape ",
			         t.off + bad, badn, " is not valid");
			return 0;
		}
		low = arena_strndup(p->a, text, n);
		for (size_t i = 0; i < n; i++)
			if (low[i] >= 'A' && low[i] <= 'Z') low[i] = (char)(low[i] + ('a' - 'A'));
		v->type = QL_VSTRING;
		v->u.s.text = text;
		v->u.s.lower = low;
		v->u.s.len = n;
		break;
	}
	default:
		syntax_error(p, &t);
		return 0;
	}
	advance(p);
	return 1;
}

/* number : FLOAT | LONG, as a double (within's arguments). */
static int
parse_number(parser *p, double *out)
{
	if (p->cur.type != QL_TK_FLOAT && p->cur.type != QL_TK_LONG) {
		syntax_error(p, &p->cur);
		return 0;
	}
	if (!double_value(p, &p->cur, out)) {
		range_error(p, &p->cur);
		return 0;
	}
	advance(p);
	return 1;
}

/*------------------------------ expressions ------------------------------*/

static int
is_property(int type)
{
	return type == QL_TK_ID || type == QL_TK_ASC || type == QL_TK_DESC ||
	       type == QL_TK_CONTAINS || type == QL_TK_WITHIN || type == QL_TK_DIRECT;
}

/* One more comparison, contains or within at token t; 0 past the limit. */
static int
count_term(parser *p, const token *t)
{
	if (++p->terms <= QL_MAX_TERMS) return 1;
	limit_error(p, t, QL_MAX_TERMS, "conditions");
	return 0;
}

/* One more level of '(' or NOT at token t; 0 past the limit. */
static int
enter(parser *p, const token *t)
{
	if (++p->depth <= QL_MAX_DEPTH) return 1;
	limit_error(p, t, QL_MAX_DEPTH, "nested levels");
	return 0;
}

/* property (LT|LTE|EQ|GT|GTE) value */
static ql_node *
parse_comparison(parser *p)
{
	token prop = p->cur;
	if (!count_term(p, &prop)) return NULL;
	advance(p);
	ql_op op;
	switch (p->cur.type) {
	case QL_TK_LT:  op = QL_LT;  break;
	case QL_TK_LTE: op = QL_LTE; break;
	case QL_TK_EQ:  op = QL_EQ;  break;
	case QL_TK_GT:  op = QL_GT;  break;
	case QL_TK_GTE: op = QL_GTE; break;
	default:
		syntax_error(p, &p->cur);
		return NULL;
	}
	advance(p);
	ql_node *nd = mk_node(p, QL_CMP, prop.off);
	nd->u.cmp.prop = mk_name(p, &prop);
	nd->u.cmp.op = op;
	return parse_value(p, &nd->u.cmp.val) ? nd : NULL;
}

/* The start of an ID KEYWORD term: counts the term and steps over both
** tokens; *prop gets the ID.  0 past the limit on terms. */
static int
keyword_term(parser *p, token *prop)
{
	*prop = p->cur;
	if (!count_term(p, prop)) return 0;
	advance(p);                      /* the ID */
	advance(p);                      /* the keyword */
	return 1;
}

/* ID CONTAINS STRING */
static ql_node *
parse_contains(parser *p)
{
	token prop;
	if (!keyword_term(p, &prop)) return NULL;
	if (p->cur.type != QL_TK_STRING) {
		syntax_error(p, &p->cur);
		return NULL;
	}
	ql_node *nd = mk_node(p, QL_CONTAINS, prop.off);
	nd->u.contains.prop = mk_name(p, &prop);
	return parse_value(p, &nd->u.contains.val) ? nd : NULL;
}

/* ID WITHIN number OF number ',' number */
static ql_node *
parse_within(parser *p)
{
	token prop;
	if (!keyword_term(p, &prop)) return NULL;
	ql_node *nd = mk_node(p, QL_WITHIN, prop.off);
	nd->u.within.prop = mk_name(p, &prop);
	if (!parse_number(p, &nd->u.within.distance) || !expect(p, QL_TK_OF) ||
	    !parse_number(p, &nd->u.within.lat) || !expect(p, QL_TK_COMMA) ||
	    !parse_number(p, &nd->u.within.lon))
		return NULL;
	return nd;
}

static ql_node *parse_or(parser *p);

/* operation : '(' orexp ')' | equalityop | locationop | containsop */
static ql_node *
parse_operation(parser *p)
{
	int type = p->cur.type;

	if (type == QL_TK_LPAREN) {
		token open = p->cur;
		if (!enter(p, &open)) return NULL;
		advance(p);
		ql_node *nd = parse_or(p);
		if (!nd || !expect(p, QL_TK_RPAREN)) return NULL;
		p->depth--;
		return nd;
	}
	if (type == QL_TK_ID) {
		int next = peek_type(p);
		if (next == QL_TK_WITHIN) return parse_within(p);
		if (next == QL_TK_CONTAINS) return parse_contains(p);
	}
	if (is_property(type)) return parse_comparison(p);
	syntax_error(p, &p->cur);
	return NULL;
}

/* notexp : NOT operation | operation */
static ql_node *
parse_not(parser *p)
{
	if (p->cur.type != QL_TK_NOT) return parse_operation(p);
	token t = p->cur;
	if (!enter(p, &t)) return NULL;
	advance(p);
	ql_node *kid = parse_operation(p);
	if (!kid) return NULL;
	p->depth--;
	ql_node *nd = mk_node(p, QL_NOT, t.off);
	nd->u.not_kid = kid;
	return nd;
}

/*
** first (op next)*: the chain becomes one n-ary node of kind, or first
** itself when there is no op.  sub parses one operand.
*/
static ql_node *
parse_chain(parser *p, int op, ql_kind kind, ql_node *(*sub)(parser *))
{
	ql_node *first = sub(p);
	if (!first || p->cur.type != op) return first;

	size_t cap = 4, n = 0;
	ql_node **kids = arena_alloc(p->a, cap * sizeof *kids);
	kids[n++] = first;
	while (accept(p, op)) {
		ql_node *next = sub(p);
		if (!next) return NULL;
		if (n == cap) {          /* grow; the old array stays in the arena */
			ql_node **k2 = arena_alloc(p->a, 2 * cap * sizeof *kids);
			memcpy(k2, kids, n * sizeof *kids);
			kids = k2;
			cap *= 2;
		}
		kids[n++] = next;
	}
	ql_node *nd = mk_node(p, kind, first->offset);
	nd->u.list.kids = kids;
	nd->u.list.n = n;
	return nd;
}

static ql_node *
parse_and(parser *p)
{
	return parse_chain(p, QL_TK_AND, QL_AND, parse_not);
}

static ql_node *
parse_or(parser *p)
{
	return parse_chain(p, QL_TK_OR, QL_OR, parse_and);
}

/* DIRECT (ID|UUID) (',' (ID|UUID))* */
static int
parse_direct(parser *p, ql_query *q)
{
	token direct = p->cur;
	size_t count = 0, cap = 0;
	ql_direct *ids = NULL;

	advance(p);
	do {
		token t = p->cur;
		if (t.type != QL_TK_ID && t.type != QL_TK_UUID) {
			syntax_error(p, &t);
			return 0;
		}
		if (++count <= QL_MAX_DIRECT) {
			if (count > cap) {
				size_t c2 = cap ? 2 * cap : 8;
				ql_direct *i2 = arena_alloc(p->a, c2 * sizeof *i2);
				if (cap) memcpy(i2, ids, cap * sizeof *ids);
				ids = i2;
				cap = c2;
			}
			ql_direct *d = &ids[count - 1];
			memset(d, 0, sizeof *d);
			if (t.type == QL_TK_UUID) {
				d->is_uuid = 1;
				uuid_bytes(p->z + t.off, d->uuid);
			} else {
				d->name = arena_strndup(p->a, p->z + t.off, t.len);
			}
		}
		advance(p);
	} while (accept(p, QL_TK_COMMA));

	if (count > QL_MAX_DIRECT) {
		error_fmt(p, QL_ERR_DIRECT, direct.off,
		          "Exceeded maximum number of direct entities requested: "
		          "%zu requested, limit is %d", count, QL_MAX_DIRECT);
		return 0;
	}
	q->direct = ids;
	q->ndirect = count;
	return 1;
}

/* expression : directexp | orexp */
static int
parse_expression(parser *p, ql_query *q)
{
	if (p->cur.type == QL_TK_DIRECT) {
		int next = peek_type(p);
		if (next == QL_TK_ID || next == QL_TK_UUID) return parse_direct(p, q);
	}
	q->where = parse_or(p);
	return q->where != NULL;
}

/*------------------------------ clauses ------------------------------*/

/* select_expr : '*' | ID (',' ID)* | '{' ID ':' ID (',' ID ':' ID)* '}' */
static int
parse_select(parser *p, ql_query *q)
{
	if (accept(p, QL_TK_STAR)) return 1;

	int rename = p->cur.type == QL_TK_LBRACE;
	if (rename) advance(p);
	q->select = rename ? QL_SELECT_RENAME : QL_SELECT_FIELDS;
	q->fields = arena_alloc(p->a, QL_MAX_SELECT * sizeof *q->fields);

	int seen = 0;
	do {
		token t = p->cur;
		if (!expect(p, QL_TK_ID)) return 0;
		if (++seen > QL_MAX_SELECT) {
			limit_error(p, &t, QL_MAX_SELECT, "select fields");
			return 0;
		}
		ql_field f = { mk_name(p, &t), NULL };
		f.target = f.name;
		if (rename) {
			if (!expect(p, QL_TK_COLON)) return 0;
			token u = p->cur;
			if (!expect(p, QL_TK_ID)) return 0;
			f.target = arena_strndup(p->a, p->z + u.off, u.len);
		}
		/* A field named twice counts once; a source renamed twice takes
		** the last target (Usergrid keeps a map keyed by source). */
		size_t i = 0;
		while (i < q->nfields && strcmp(q->fields[i].name, f.name) != 0) i++;
		q->fields[i] = f;
		if (i == q->nfields) q->nfields++;
	} while (accept(p, QL_TK_COMMA));

	return rename ? expect(p, QL_TK_RBRACE) : 1;
}

/* order (',' order)*, order : property (ASC | DESC)? */
static int
parse_order(parser *p, ql_query *q)
{
	q->order = arena_alloc(p->a, QL_MAX_ORDER * sizeof *q->order);
	do {
		token t = p->cur;
		if (!is_property(t.type)) {
			syntax_error(p, &t);
			return 0;
		}
		if (q->norder == QL_MAX_ORDER) {
			limit_error(p, &t, QL_MAX_ORDER, "order by keys");
			return 0;
		}
		const char *name = mk_name(p, &t);
		for (size_t i = 0; i < q->norder; i++) {
			if (strcmp(q->order[i].prop, name) == 0) {
				error_fmt(p, QL_ERR_PARSE, t.off, "Attempted to set sort "
				          "order for %.*s more than once", ECHO_MAX, name);
				return 0;
			}
		}
		advance(p);
		ql_order *o = &q->order[q->norder++];
		o->prop = name;
		o->desc = 0;
		if (p->cur.type == QL_TK_DESC) o->desc = 1;
		if (p->cur.type == QL_TK_ASC || p->cur.type == QL_TK_DESC) advance(p);
	} while (accept(p, QL_TK_COMMA));
	return 1;
}

/*
** ql : SELECT select_expr [WHERE] [expression] [order_by] EOF
**    | WHERE expression [order_by] EOF | order_by EOF
**    | expression [order_by] EOF | EOF
** The last two are Usergrid's implicit "select * where " prefix (spec 6.2
** step 3).  EOF is required: trailing text is an error (section 9).
*/
static int
parse_ql(parser *p, ql_query *q)
{
	int want_expr;

	switch (p->cur.type) {
	case QL_TK_SELECT:
		advance(p);
		if (!parse_select(p, q)) return 0;
		want_expr = accept(p, QL_TK_WHERE) ||
		            (p->cur.type != QL_TK_ORDER_BY && p->cur.type != QL_TK_EOF);
		break;
	case QL_TK_WHERE:
		advance(p);
		want_expr = 1;
		break;
	case QL_TK_ORDER_BY:
	case QL_TK_EOF:
		want_expr = 0;
		break;
	default:
		want_expr = 1;
		break;
	}
	if (want_expr && !parse_expression(p, q)) return 0;
	if (accept(p, QL_TK_ORDER_BY) && !parse_order(p, q)) return 0;
	return expect(p, QL_TK_EOF);
}

ql_rc
ql_parse(arena *a, const char *text, size_t len, ql_query **out, ql_error *err)
{
	parser p;
	memset(&p, 0, sizeof p);
	p.a = a;
	p.z = text;
	p.n = len;
	p.err = err;
	if (err) memset(err, 0, sizeof *err);
	*out = NULL;

	if (len > QL_MAX_LEN) {
		error_fmt(&p, QL_ERR_LIMIT, 0, "The query cannot be parsed. It is "
		          "%zu bytes long, the limit is %d", len, QL_MAX_LEN);
		return p.rc;
	}
	if (!check_tokens(&p)) return p.rc;

	ql_query *q = arena_alloc(a, sizeof *q);
	memset(q, 0, sizeof *q);
	q->select = QL_SELECT_ALL;
	p.cur = lex_at(&p, 0);
	if (!parse_ql(&p, q)) return p.rc;
	*out = q;
	return QL_OK;
}
