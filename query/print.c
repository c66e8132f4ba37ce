/*
** print.c: ql_format, the canonical text of a parsed query.
**
** The output is an s-expression, one form per clause, meant for tests and
** debugging, not for reparsing:
**
**   (select *) | (select a b.c) | (select a:x b:y)
**   (where EXPR) | (direct name 0a1b...-uuid ...)
**   (order (p asc) (q desc))
**
**   EXPR : (or E E ...) | (and E E ...) | (not E)
**        | (OP prop VALUE)            OP is = < <= > >=
**        | (contains prop 'text') | (within prop DIST LAT LON)
**
** Values: 'string' (\' \\ and \n \t \r \f \b \u00XX for control bytes,
** \xNN for bytes that are not UTF-8), 42 (long), 4.5 / 1e+20 / 3.0
** (double: shortest text that reads back exactly, always with '.' or 'e'),
** true/false, and UUIDs as 36 lower-case characters.
**
** Recursion follows the tree, whose depth the parser bounds (QL_MAX_DEPTH).
*/
#include "query/ql_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A bounded writer that still counts what did not fit, like snprintf. */
typedef struct {
	char  *buf;
	size_t cap, len;
} out;

static void
put(out *o, const char *s, size_t n)
{
	if (o->cap && o->len < o->cap - 1) {
		size_t room = o->cap - 1 - o->len;
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void
puts_(out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_string(out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *z = (const unsigned char *)s;

	put(o, "'", 1);
	for (size_t i = 0; i < n;) {
		unsigned char c = z[i];
		char esc[8];
		const char *rep = NULL;
		switch (c) {
		case '\'': rep = "\\'";  break;
		case '\\': rep = "\\\\"; break;
		case '\n': rep = "\\n";  break;
		case '\t': rep = "\\t";  break;
		case '\r': rep = "\\r";  break;
		case '\f': rep = "\\f";  break;
		case '\b': rep = "\\b";  break;
		default: break;
		}
		if (rep) {
			puts_(o, rep);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			puts_(o, esc);
			i++;
			continue;
		}
		size_t k = text_utf8_len(z + i, n - i);
		if (k) {
			put(o, s + i, k);
			i += k;
		} else {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			put(o, esc, 4);
			i++;
		}
	}
	put(o, "'", 1);
}

/* The shortest %g text that reads back as d, with a '.' or an 'e';
** whole numbers below 1e16 print as 100.0, not 1e+02. */
static void
put_double(out *o, double d)
{
	char b[40];
	if (d == floor(d) && fabs(d) < 1e16) {
		snprintf(b, sizeof b, "%.1f", d);
	} else {
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(b, sizeof b, "%.*g", prec, d);
			if (strtod(b, NULL) == d) break;
		}
		if (!strpbrk(b, ".en")) strcat(b, ".0");   /* 'n': inf/nan */
	}
	puts_(o, b);
}

static void
put_uuid(out *o, const unsigned char u[16])
{
	static const char hex[] = "0123456789abcdef";
	char b[36];
	int k = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10) b[k++] = '-';
		b[k++] = hex[u[i] >> 4];
		b[k++] = hex[u[i] & 15];
	}
	put(o, b, 36);
}

static void
put_value(out *o, const ql_value *v)
{
	char b[32];
	switch (v->type) {
	case QL_VSTRING:
		put_string(o, v->u.s.text, v->u.s.len);
		break;
	case QL_VLONG:
		snprintf(b, sizeof b, "%" PRId64, v->u.l);
		puts_(o, b);
		break;
	case QL_VDOUBLE:
		put_double(o, v->u.d);
		break;
	case QL_VBOOL:
		puts_(o, v->u.b ? "true" : "false");
		break;
	case QL_VUUID:
		put_uuid(o, v->u.uuid);
		break;
	}
}

static const char *const op_text[] = {
	[QL_EQ] = "=", [QL_LT] = "<", [QL_LTE] = "<=", [QL_GT] = ">", [QL_GTE] = ">=",
};

/* A test of one property: (op prop value). */
static void
put_test(out *o, const char *op, const char *prop, const ql_value *v)
{
	put(o, "(", 1);
	puts_(o, op);
	put(o, " ", 1);
	puts_(o, prop);
	put(o, " ", 1);
	put_value(o, v);
	put(o, ")", 1);
}

static void
put_node(out *o, const ql_node *nd)
{
	switch (nd->kind) {
	case QL_OR:
	case QL_AND:
		puts_(o, nd->kind == QL_OR ? "(or" : "(and");
		for (size_t i = 0; i < nd->u.list.n; i++) {
			put(o, " ", 1);
			put_node(o, nd->u.list.kids[i]);
		}
		put(o, ")", 1);
		break;
	case QL_NOT:
		puts_(o, "(not ");
		put_node(o, nd->u.not_kid);
		put(o, ")", 1);
		break;
	case QL_CMP:
		put_test(o, op_text[nd->u.cmp.op], nd->u.cmp.prop, &nd->u.cmp.val);
		break;
	case QL_CONTAINS:
		put_test(o, "contains", nd->u.contains.prop, &nd->u.contains.val);
		break;
	case QL_WITHIN:
		puts_(o, "(within ");
		puts_(o, nd->u.within.prop);
		put(o, " ", 1);
		put_double(o, nd->u.within.distance);
		put(o, " ", 1);
		put_double(o, nd->u.within.lat);
		put(o, " ", 1);
		put_double(o, nd->u.within.lon);
		put(o, ")", 1);
		break;
	}
}

size_t
ql_format(const ql_query *q, char *buf, size_t cap)
{
	out o = { buf, cap, 0 };

	puts_(&o, "(select");
	if (q->select == QL_SELECT_ALL) puts_(&o, " *");
	for (size_t i = 0; i < q->nfields; i++) {
		put(&o, " ", 1);
		puts_(&o, q->fields[i].name);
		if (q->select == QL_SELECT_RENAME) {
			put(&o, ":", 1);
			puts_(&o, q->fields[i].target);
		}
	}
	put(&o, ")", 1);
	if (q->where) {
		puts_(&o, " (where ");
		put_node(&o, q->where);
		put(&o, ")", 1);
	}
	if (q->ndirect) {
		puts_(&o, " (direct");
		for (size_t i = 0; i < q->ndirect; i++) {
			put(&o, " ", 1);
			if (q->direct[i].is_uuid) put_uuid(&o, q->direct[i].uuid);
			else puts_(&o, q->direct[i].name);
		}
		put(&o, ")", 1);
	}
	if (q->norder) {
		puts_(&o, " (order");
		for (size_t i = 0; i < q->norder; i++) {
			puts_(&o, " (");
			puts_(&o, q->order[i].prop);
			puts_(&o, q->order[i].desc ? " desc)" : " asc)");
		}
		put(&o, ")", 1);
	}
	if (cap) buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len;
}
