/*
** test_ql.c: the ql tokenizer and parser (query/ql.h), driven by every
** .txt data file in tests/query/ (a path relative to the current
** directory, which is the repository root under tests/run.py), plus a few
** checks of fields that the canonical text does not show.
**
** Data file format (each file documents it again at its top):
**   # comment            blank lines are ignored too
**   %%MODE parse         following cases compare ql_format output (default)
**   %%MODE tokens        following cases compare the token list
**   QUERY ⇒ EXPECTED     one case per line; QUERY is everything before the
**                        first " ⇒ ", taken literally (leading spaces too)
**   %%ESC QUERY ⇒ ...    QUERY is unescaped first: \n \t \r \f \\ \xNN
**   %%GEN QUERY ⇒ ...    {{N*text}} expands to text N times, in QUERY
**                        and in EXPECTED
** EXPECTED in parse mode is the canonical tree, or
**   %%FAIL CODE MESSAGE  CODE is ql_rc_name() (PARSE, TOKEN, LIMIT, DIRECT)
**                        and MESSAGE the exact ql_error.msg
** EXPECTED in tokens mode is the non-WS tokens as NAME(text), space
** separated, NAME being the QL_TK_ suffix; control bytes and bytes that
** are not UTF-8 show as \xNN.
**
** Every failing case is printed; the exit status is 1 if any failed.
*/
#include "tests/unit/check.h"

#include <dirent.h>
#include <stdint.h>

#include "query/ql.h"
#include "query/ql_int.h"   /* text_utf8_len */
#include "tests/unit/datafile.h"


static const char *const tk_names[] = {
#define X_NAME(name, spelling) #name,
	QL_TOKEN_LIST(X_NAME)
#undef X_NAME
};

static int cases, failures;

/* Appends s with control bytes and bytes that are not UTF-8 as \xNN. */
static void
put_visible(buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		const unsigned char *z = (const unsigned char *)s + i;
		size_t k = text_utf8_len(z, n - i);
		if (k == 1 && (z[0] < 0x20 || z[0] == 0x7f)) k = 0;
		if (k) {
			buf_put(out, s + i, k);
			i += k;
		} else {
			char x[5];
			snprintf(x, sizeof x, "\\x%02x", z[0]);
			buf_put(out, x, 4);
			i++;
		}
	}
}

/* The token list of text in tokens-mode notation. */
static void
tokens_of(const char *text, size_t n, buf *out)
{
	size_t at = 0;
	while (at < n) {
		int type;
		size_t len = ql_token(text + at, n - at, &type);
		CHECK(len > 0 && len <= n - at);
		CHECK(type > QL_TK_EOF && type < QL_TK_COUNT);
		if (type != QL_TK_WS) {
			if (out->n) buf_put(out, " ", 1);
			buf_put(out, tk_names[type], strlen(tk_names[type]));
			buf_put(out, "(", 1);
			put_visible(out, text + at, len);
			buf_put(out, ")", 1);
		}
		at += len;
	}
}

/* What parse mode expects to see for text. */
static void
parse_result(const char *text, size_t n, buf *out)
{
	arena *a = arena_create();
	ql_query *q = (ql_query *)1;
	ql_error err;
	memset(&err, 0x55, sizeof err);
	ql_rc rc = ql_parse(a, text, n, &q, &err);
	if (rc == QL_OK) {
		CHECK(q != NULL);
		char small[8];
		size_t need = ql_format(q, small, sizeof small);
		CHECK(strlen(small) == (need < sizeof small ? need : sizeof small - 1));
		char *full = malloc(need + 1);
		CHECK(ql_format(q, full, need + 1) == need);
		CHECK(strlen(full) == need);
		CHECK(strncmp(full, small, strlen(small)) == 0);
		buf_put(out, full, need);
		free(full);
		/* The parser gives the same answer without an error struct. */
		ql_query *q2;
		CHECK(ql_parse(a, text, n, &q2, NULL) == QL_OK && q2);
	} else {
		CHECK(q == NULL);
		CHECK(err.code == (int)rc);
		CHECK(err.offset <= n);
		CHECK(err.line >= 1 && err.col >= 1);
		CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL);
		for (const char *m = err.msg; *m; m++) CHECK((unsigned char)*m >= 0x20);
		CHECK(strcmp(ql_error_name(rc), rc == QL_ERR_TOKEN ? "query_token" :
		             rc == QL_ERR_DIRECT ? "too_many_direct_entities" :
		             "query_parse") == 0);
		buf_put(out, "%%FAIL ", 7);
		buf_put(out, ql_rc_name(rc), strlen(ql_rc_name(rc)));
		buf_put(out, " ", 1);
		buf_put(out, err.msg, strlen(err.msg));
		ql_query *q2;
		CHECK(ql_parse(a, text, n, &q2, NULL) == rc && q2 == NULL);
	}
	arena_destroy(a);
}

static void
run_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	int tokens_mode = 0, lineno = 0, file_cases = 0;
	char *line = NULL;
	size_t cap = 0;

	while (data_line(f, &line, &cap, &lineno)) {
		if (strcmp(line, "%%MODE tokens") == 0) { tokens_mode = 1; continue; }
		if (strcmp(line, "%%MODE parse") == 0) { tokens_mode = 0; continue; }

		const char *s = line, *want;
		int esc = 0, gen = 0;
		if (strncmp(s, "%%ESC ", 6) == 0) { esc = 1; s += 6; }
		else if (strncmp(s, "%%GEN ", 6) == 0) { gen = 1; s += 6; }
		size_t qn = data_split(path, lineno, s, &want);

		/* An exact-size copy, so that ASan sees any read past the end. */
		buf q = { 0 };
		if (esc) unescape(s, qn, &q);
		else if (gen) generate(s, qn, &q);
		else buf_put(&q, s, qn);
		char *text = malloc(q.n ? q.n : 1);
		memcpy(text, q.p, q.n);

		buf wbuf = { 0 };
		if (gen) {
			generate(want, strlen(want), &wbuf);
			want = wbuf.p ? wbuf.p : "";
		}

		buf have = { 0 };
		if (tokens_mode) tokens_of(text, q.n, &have);
		else parse_result(text, q.n, &have);
		cases++;
		file_cases++;
		if (!have.p || strcmp(have.p, want) != 0) {
			failures++;
			fprintf(stderr, "%s:%d: %.*s\n  want: %.300s\n  have: %.300s\n",
			        path, lineno, (int)(q.n > 300 ? 300 : q.n), q.p, want,
			        have.p ? have.p : "");
		}
		free(text);
		free(q.p);
		free(have.p);
		free(wbuf.p);
	}
	free(line);
	fclose(f);
	printf("%s: %d cases\n", path, file_cases);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_data_files(void)
{
	const char *dir = "tests/query";
	DIR *d = opendir(dir);
	if (!d) {
		perror(dir);
		exit(1);
	}
	char *names[256];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 256) {
		size_t k = strlen(e->d_name);
		if (k > 4 && strcmp(e->d_name + k - 4, ".txt") == 0) {
			names[n] = malloc(strlen(dir) + k + 2);
			sprintf(names[n], "%s/%s", dir, e->d_name);
			n++;
		}
	}
	closedir(d);
	CHECK(n > 0);
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		run_file(names[i]);
		free(names[i]);
	}
}

static ql_query *
parse_ok(arena *a, const char *text)
{
	ql_query *q = NULL;
	ql_error err;
	ql_rc rc = ql_parse(a, text, strlen(text), &q, &err);
	if (rc != QL_OK) fprintf(stderr, "%s: %s\n", text, err.msg);
	CHECK(rc == QL_OK);
	return q;
}

/* Fields that ql_format does not show. */
static void
check_fields(void)
{
	arena *a = arena_create();
	int type = -1;

	CHECK(ql_token("", 0, &type) == 0 && type == QL_TK_EOF);
	CHECK(strcmp(ql_token_name(QL_TK_ORDER_BY), "order by") == 0);
	CHECK(strcmp(ql_token_name(-1), "?") == 0);
	CHECK(strcmp(ql_error_name(QL_OK), "") == 0);
	CHECK(strcmp(ql_error_name(QL_ERR_LIMIT), "query_parse") == 0);

	/* Spec 6.9 #67: the literal compares as "hot", the text keeps "Hot". */
	ql_query *q = parse_ok(a, "select * where  title = 'Hot'");
	CHECK(q->where->kind == QL_CMP && q->where->u.cmp.op == QL_EQ);
	CHECK(q->where->offset == 16);
	CHECK_STR(q->where->u.cmp.prop, "title");
	CHECK(q->where->u.cmp.val.type == QL_VSTRING);
	CHECK_STR(q->where->u.cmp.val.u.s.text, "Hot");
	CHECK_STR(q->where->u.cmp.val.u.s.lower, "hot");
	CHECK(q->where->u.cmp.val.u.s.len == 3);

	q = parse_ok(a, "name = 'Caf\\u00C9 \\351'");
	CHECK_STR(q->where->u.cmp.val.u.s.text, "Caf\xc3\x89 \xc3\xa9");
	CHECK_STR(q->where->u.cmp.val.u.s.lower, "caf\xc3\x89 \xc3\xa9");
	CHECK(q->where->u.cmp.val.u.s.len == 8);

	/* Spec 6.9 #66: an unquoted UUID, bytes in network order. */
	q = parse_ok(a, "title = C6EE8A1C-3EF4-11E2-8861-02E81ADCF3D0");
	static const unsigned char want[16] = {
		0xc6, 0xee, 0x8a, 0x1c, 0x3e, 0xf4, 0x11, 0xe2,
		0x88, 0x61, 0x02, 0xe8, 0x1a, 0xdc, 0xf3, 0xd0,
	};
	CHECK(q->where->u.cmp.val.type == QL_VUUID);
	CHECK(memcmp(q->where->u.cmp.val.u.uuid, want, 16) == 0);

	q = parse_ok(a, "a = -9223372036854775808 or b = 9223372036854775807");
	CHECK(q->where->kind == QL_OR && q->where->u.list.n == 2);
	CHECK(q->where->u.list.kids[0]->u.cmp.val.u.l == INT64_MIN);
	CHECK(q->where->u.list.kids[1]->u.cmp.val.u.l == INT64_MAX);
	CHECK(q->where->u.list.kids[1]->offset == 28);

	q = parse_ok(a, "location within .1 of -40.343666, 175.630917");
	CHECK(q->where->kind == QL_WITHIN);
	CHECK(q->where->u.within.distance == 0.1);
	CHECK(q->where->u.within.lat == -40.343666);
	CHECK(q->where->u.within.lon == 175.630917);

	q = parse_ok(a, "select {Name:FullName, b.c:D} order by Name DESC, x");
	CHECK(q->select == QL_SELECT_RENAME && q->nfields == 2);
	CHECK_STR(q->fields[0].name, "name");
	CHECK_STR(q->fields[0].target, "FullName");
	CHECK_STR(q->fields[1].name, "b.c");
	CHECK_STR(q->fields[1].target, "D");
	CHECK(q->norder == 2 && q->order[0].desc == 1 && q->order[1].desc == 0);
	CHECK_STR(q->order[0].prop, "name");

	q = parse_ok(a, "select A, b");
	CHECK(q->select == QL_SELECT_FIELDS && q->nfields == 2);
	CHECK(q->fields[0].target == q->fields[0].name);
	CHECK_STR(q->fields[0].target, "a");

	q = parse_ok(a, "direct Fred, 0a1b2c3d-0000-1111-2222-333344445555");
	CHECK(q->where == NULL && q->ndirect == 2);
	CHECK(!q->direct[0].is_uuid);
	CHECK_STR(q->direct[0].name, "Fred");
	CHECK(q->direct[1].is_uuid && q->direct[1].uuid[0] == 0x0a &&
	      q->direct[1].uuid[15] == 0x55);

	/* No filter at all: the caller lists. */
	static const char *const listing[] = { "", "   ", "select *", " SELECT  * " };
	for (size_t i = 0; i < sizeof listing / sizeof *listing; i++) {
		q = parse_ok(a, listing[i]);
		CHECK(q->select == QL_SELECT_ALL && !q->where && !q->ndirect &&
		      !q->norder && !q->nfields);
	}

	/* Positions: line and column count characters, offset counts bytes. */
	ql_error err;
	const char *text = "a = 'h\xc3\xa9'\n  and\n\tb = 2 sort";
	CHECK(ql_parse(a, text, strlen(text), &q, &err) == QL_ERR_PARSE);
	CHECK(err.offset == strlen(text) - 4 && err.line == 3 && err.col == 8);

	/* Not NUL-terminated, and a text cut inside a token. */
	CHECK(ql_parse(a, "a = 'xyz'", 8, &q, &err) == QL_ERR_TOKEN);
	CHECK(ql_parse(a, "a = 12345", 6, &q, NULL) == QL_OK);
	CHECK(q->where->u.cmp.val.u.l == 12);

	arena_destroy(a);
}

int
main(void)
{
	check_fields();
	run_data_files();
	printf("test_ql: %d cases, %d failed, %d checks\n", cases, failures,
	       check_count);
	return failures ? 1 : 0;
}
