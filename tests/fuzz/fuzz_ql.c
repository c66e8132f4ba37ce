/*
** fuzz_ql.c: libFuzzer entry point for the ql tokenizer, parser and printer
** (query/ql.h).  Built and run by `make fuzz` with clang's
** -fsanitize=fuzzer,address,undefined; the seed corpus is the queries of
** the data files in tests/query/.
**
** Each input is parsed into a fresh arena and printed; besides crashes
** and sanitizer reports, the checks below abort on broken invariants:
**   - the tokenizer covers the input exactly, every token non-empty;
**   - a failure leaves *out NULL and a sane error: known code, offset
**     within the text, positive line and column, a non-empty message that
**     is NUL-terminated valid UTF-8 without control characters;
**   - a success yields a tree within the limits of ql.h: nesting and
**     terms bounded, lists of at least two, lower-case names, string
**     literals without NUL whose lower copy matches the text;
**   - ql_format returns the same length whatever the buffer size and
**     never writes past cap.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query/ql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(x) do { if (!(x)) abort(); } while (0)

/* 1 when s[0..n) is valid UTF-8 (independent of the code under test). */
static int
valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 :
		           (c >> 3) == 30 ? 4 : 0;
		if (!k || i + k > n) return 0;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80) return 0;
		i += k;
	}
	return 1;
}

static int
lower_name(const char *s)
{
	if (!*s) return 0;
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z') return 0;
	return 1;
}

static void
check_value(const ql_value *v)
{
	if (v->type != QL_VSTRING) return;
	REQUIRE(strlen(v->u.s.text) == v->u.s.len);
	REQUIRE(strlen(v->u.s.lower) == v->u.s.len);
	for (size_t i = 0; i < v->u.s.len; i++) {
		char c = v->u.s.text[i];
		if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
		REQUIRE(v->u.s.lower[i] == c);
	}
}

/* Walks the tree; returns its depth, adds its terms to *terms. */
static int
check_node(const ql_node *nd, size_t size, int *terms)
{
	int depth = 0;
	REQUIRE(nd->offset < size);
	switch (nd->kind) {
	case QL_OR:
	case QL_AND:
		REQUIRE(nd->u.list.n >= 2);
		for (size_t i = 0; i < nd->u.list.n; i++) {
			int d = check_node(nd->u.list.kids[i], size, terms);
			if (d > depth) depth = d;
		}
		break;
	case QL_NOT:
		depth = check_node(nd->u.not_kid, size, terms);
		break;
	case QL_CMP:
		REQUIRE(lower_name(nd->u.cmp.prop));
		check_value(&nd->u.cmp.val);
		++*terms;
		break;
	case QL_CONTAINS:
		REQUIRE(lower_name(nd->u.contains.prop));
		REQUIRE(nd->u.contains.val.type == QL_VSTRING);
		check_value(&nd->u.contains.val);
		++*terms;
		break;
	case QL_WITHIN:
		REQUIRE(lower_name(nd->u.within.prop));
		++*terms;
		break;
	default:
		REQUIRE(0);
	}
	return depth + 1;
}

static void
check_format(const ql_query *q)
{
	static char big[1 << 16];
	char small[16];
	size_t need = ql_format(q, big, sizeof big);
	REQUIRE(need < sizeof big && strlen(big) == need);
	for (size_t cap = 0; cap < sizeof small; cap += 5) {
		memset(small, 'Z', sizeof small);
		REQUIRE(ql_format(q, small, cap) == need);
		if (cap) {
			size_t got = strlen(small);
			REQUIRE(got < cap && memcmp(small, big, got) == 0);
		}
		for (size_t i = cap; i < sizeof small; i++) REQUIRE(small[i] == 'Z');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;

	size_t at = 0;
	while (at < size) {
		int type;
		size_t len = ql_token(text + at, size - at, &type);
		REQUIRE(len >= 1 && len <= size - at);
		REQUIRE(type > QL_TK_EOF && type < QL_TK_COUNT);
		at += len;
	}

	arena *a = arena_create();
	ql_query *q = (ql_query *)&at;
	ql_error err;
	ql_rc rc = ql_parse(a, text, size, &q, &err);
	if (rc == QL_OK) {
		REQUIRE(q != NULL);
		int terms = 0;
		if (q->where) {
			/* '(' and NOT each add at most 3 levels (or, and, not). */
			REQUIRE(check_node(q->where, size, &terms) <= 3 * QL_MAX_DEPTH + 4);
			REQUIRE(q->ndirect == 0);
		}
		REQUIRE(terms <= QL_MAX_TERMS);
		REQUIRE(q->ndirect <= QL_MAX_DIRECT);
		REQUIRE(q->norder <= QL_MAX_ORDER);
		REQUIRE(q->nfields <= QL_MAX_SELECT);
		REQUIRE((q->select == QL_SELECT_ALL) == (q->nfields == 0));
		for (size_t i = 0; i < q->norder; i++) {
			REQUIRE(lower_name(q->order[i].prop));
			for (size_t j = 0; j < i; j++)
				REQUIRE(strcmp(q->order[i].prop, q->order[j].prop) != 0);
		}
		for (size_t i = 0; i < q->nfields; i++) {
			REQUIRE(lower_name(q->fields[i].name) && *q->fields[i].target);
			for (size_t j = 0; j < i; j++)
				REQUIRE(strcmp(q->fields[i].name, q->fields[j].name) != 0);
		}
		check_format(q);
	} else {
		REQUIRE(q == NULL);
		REQUIRE(rc > QL_OK && rc < QL_RC_COUNT && err.code == (int)rc);
		REQUIRE(err.offset <= size && err.line >= 1 && err.col >= 1);
		size_t n = strnlen(err.msg, sizeof err.msg);
		REQUIRE(n > 0 && n < sizeof err.msg);
		for (size_t i = 0; i < n; i++)
			REQUIRE((unsigned char)err.msg[i] >= 0x20 && err.msg[i] != 0x7f);
		REQUIRE(valid_utf8((const unsigned char *)err.msg, n));
		REQUIRE(*ql_error_name(rc) != '\0');
	}
	arena_destroy(a);
	return 0;
}
