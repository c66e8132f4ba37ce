/*
** test_eval.c: the predicate evaluator (query/eval.c): wildcards and
** `contains` words against a plain backtracking matcher on every short
** pattern and value over a small alphabet, their cost on hostile input
** (linear, counted by the progress meter), and a progress handler that
** stops an evaluation.  The semantics themselves are cases of
** tests/exec/eval.txt (entity, predicate -> match).
*/
#include "tests/unit/check.h"
#include "tests/unit/datafile.h"

#include <ctype.h>
#include <time.h>

#include "query/query.h"

/* The reference: '*' is any run of bytes, case-insensitive, exponential. */
static int
ref_glob(const char *p, const char *s)
{
	if (!*p) return !*s;
	if (*p == '*') return ref_glob(p + 1, s) || (*s && ref_glob(p, s + 1));
	return *s && tolower((unsigned char)*p) == tolower((unsigned char)*s) &&
	       ref_glob(p + 1, s + 1);
}

static int
eval_text(arena *a, const char *ql, json_t *e, query_progress *p)
{
	ql_query *q = NULL;
	ql_error err;
	if (ql_parse(a, ql, strlen(ql), &q, &err) != QL_OK) {
		fprintf(stderr, "%s: %s\n", ql, err.msg);
		exit(1);
	}
	return query_eval(q->where, e, p);
}

/* Spells word number i (of 3^len) over a 3-letter alphabet into out. */
static void
spell(char *out, const char *alpha, int len, int i)
{
	for (int k = 0; k < len; k++, i /= 3) out[k] = alpha[i % 3];
	out[len] = '\0';
}

static int
words_of(int len)
{
	int n = 1;
	while (len--) n *= 3;
	return n;
}

/* Every pattern up to 5 characters over {a, b, *} against every value up
** to 6 characters over {a, b, A}: `=` agrees with the reference. */
static void
test_glob_matches_reference(void)
{
	char p[8], v[8], ql[64];
	arena *a = arena_create();
	for (int pl = 1; pl <= 5; pl++)
		for (int pi = 0; pi < words_of(pl); pi++) {
			spell(p, "ab*", pl, pi);
			if (!strchr(p, '*')) continue;
			snprintf(ql, sizeof ql, "s = '%s'", p);
			for (int vl = 0; vl <= 6; vl++)
				for (int vi = 0; vi < words_of(vl); vi++) {
					spell(v, "abA", vl, vi);
					json_t *e = json_pack("{s:s}", "s", v);
					int got = eval_text(a, ql, e, NULL), want = ref_glob(p, v);
					if (got != want) fprintf(stderr, "'%s' on '%s': %d\n", p, v, got);
					CHECK(got == want);
					json_decref(e);
				}
		}
	arena_destroy(a);
}

static void
test_contains_words(void)
{
	arena *a = arena_create();
	json_t *e = json_pack("{s:s}", "s", "The quick, brown fox; jumps over 42 dogs");
	CHECK(eval_text(a, "s contains 'fox'", e, NULL) == 1);
	CHECK(eval_text(a, "s contains 'FOX dogs'", e, NULL) == 1);
	CHECK(eval_text(a, "s contains 'fox cat'", e, NULL) == 0);
	CHECK(eval_text(a, "s contains 'qu*'", e, NULL) == 1);
	CHECK(eval_text(a, "s contains '*ump*'", e, NULL) == 1);
	CHECK(eval_text(a, "s contains '**ro**n'", e, NULL) == 1);
	CHECK(eval_text(a, "s contains 'b*n*'", e, NULL) == 1);
	CHECK(eval_text(a, "s contains 'o*x'", e, NULL) == 0);   /* not across tokens */
	CHECK(eval_text(a, "s contains '4*'", e, NULL) == 1);
	CHECK(eval_text(a, "s contains '*'", e, NULL) == 1);
	CHECK(eval_text(a, "s contains ','", e, NULL) == 0);     /* no word at all */
	json_decref(e);
	arena_destroy(a);
}

static int
never(void *ctx)
{
	(void)ctx;
	return 0;
}

static double
seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A million 'a's against '*aaaa...ab' (4000 a's): a backtracking matcher
** tries every start, 4e9 steps; this one reads each byte a few times. */
static void
test_hostile_wildcards_are_linear(void)
{
	enum { N = 1000000, M = 4000 };
	arena *a = arena_create();
	char *v = xmalloc(N + 1), *ql = xmalloc(M + 64), *words = xmalloc(2 * N + 1);
	memset(v, 'a', N);
	v[N] = '\0';
	for (size_t i = 0; i < N; i++) words[2 * i] = 'a', words[2 * i + 1] = ' ';
	words[2 * N] = '\0';
	json_t *e = json_pack("{s:s, s:s}", "s", v, "w", words);
	static const char *const forms[] = {
		"s = '*%sb'", "s = '%sb*'", "s = '*%s*b'", "s contains '*%sb'",
		"w contains '*%sb'", "w contains '**********%s'",
	};
	memset(v, 'a', M);
	v[M] = '\0';
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
		query_progress p = { .handler = never };
		snprintf(ql, M + 64, forms[i], v);
		double t0 = seconds();
		CHECK(eval_text(a, ql, e, &p) == 0);
		double dt = seconds() - t0;
		if (dt > 0.5) fprintf(stderr, "%s...: %.2f s\n", forms[i], dt);
		CHECK(dt < 0.5);
		/* charged as read: about the value's size in units, not its square */
		CHECK(p.work >= N / QUERY_UNIT_BYTES && p.work <= 4 * N / QUERY_UNIT_BYTES);
	}
	CHECK(eval_text(a, "s = '*aaaa'", e, NULL) == 1);
	json_decref(e);
	free(v);
	free(ql);
	free(words);
	arena_destroy(a);
}

static int
stop_at_once(void *ctx)
{
	(*(int *)ctx)++;
	return 1;
}

/* A handler that says stop ends the evaluation: -1, through NOT too. */
static void
test_progress_stops(void)
{
	arena *a = arena_create();
	char *v = xmalloc(100001);
	memset(v, 'x', 100000);
	v[100000] = '\0';
	json_t *e = json_pack("{s:s}", "s", v);
	int calls = 0;
	query_progress p = { .handler = stop_at_once, .ctx = &calls };
	CHECK(eval_text(a, "not s contains 'y' and s = 'x*'", e, &p) == -1);
	CHECK(calls == 1 && p.stopped);
	CHECK(query_charge(&p, 100, 0) == 1 && calls == 1);   /* stays stopped */
	CHECK(query_charge(NULL, 100, 100) == 0);
	json_decref(e);
	free(v);
	arena_destroy(a);
}

/* tests/exec/eval.txt: "%%ENTITY json" sets the entity of the cases after
** it; a case is "QUERY ⇒ 1" (matches) or "QUERY ⇒ 0".  Every failing
** case is printed. */
static void
test_eval_data_file(void)
{
	const char *path = "tests/exec/eval.txt";
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, cases = 0, failures = 0;
	json_t *e = NULL;
	arena *a = arena_create();

	CHECK(f != NULL);
	while (data_line(f, &line, &cap, &lineno)) {
		if (strncmp(line, "%%ENTITY ", 9) == 0) {
			json_decref(e);
			e = json_loads(line + 9, 0, NULL);
			CHECK(e != NULL);
			continue;
		}
		const char *want;
		line[data_split(path, lineno, line, &want)] = '\0';
		int got = eval_text(a, line, e, NULL);
		cases++;
		if (got != atoi(want)) {
			failures++;
			fprintf(stderr, "%s:%d: %s: want %s, have %d\n", path, lineno, line, want, got);
		}
	}
	printf("%s: %d cases, %d failed\n", path, cases, failures);
	CHECK(failures == 0);
	json_decref(e);
	free(line);
	fclose(f);
	arena_destroy(a);
}

int
main(void)
{
	test_eval_data_file();
	test_glob_matches_reference();
	test_contains_words();
	test_hostile_wildcards_are_linear();
	test_progress_stops();
	printf("test_eval: %d checks\n", check_count);
	return 0;
}
