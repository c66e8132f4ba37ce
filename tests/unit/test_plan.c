/*
** test_plan.c: the planner's choice (query_plan, plan_describe), a pure
** function of the query, what the index holds and the cursor's kind,
** driven by tests/exec/plans.txt (relative to the repository root, the
** current directory under tests/run.py).
**
** Case format (the file documents it again at its top):
**   [FACTS] QUERY ⇒ PLAN
** FACTS, space separated, say what the store would answer:
**   path=N     a term on path has N entries (plan_count counts them, up
**              to its caps; terms merged on one path hold N in all)
**   multi      every path has held arrays (STORE_IXF_MULTI): the order
**              key's index lists an entity more than once, and terms on
**              one path are not merged
**   long       every path has held strings cut for the index
**   sub        the scope is a sub-collection (or connection, or feed) of
**              one type whose size the store does not keep
**   scope=N    the same, with N edges
**   off=path   the collection does not index path (its `fields`)
**   limit=N    the page size (default 10)
**   cursor=K   the cursor's kind: edge, index, time, sortkey, order,
**              sortref (default none)
** PLAN is plan_describe's text, then the cursor kinds the plan accepts
** in brackets, e.g. "[index]".
*/
#include "tests/unit/check.h"
#include "tests/unit/datafile.h"

#include "core/mem.h"
#include "query/exec_int.h"

static const char *const kinds[] = {
	"", "edge", "offset", "index", "time", "verb", "sortkey", "order", "sortref",
};
#define NKINDS (sizeof kinds / sizeof *kinds)

typedef struct {
	char   paths[QL_MAX_TERMS][96];
	size_t counts[QL_MAX_TERMS], n;
	unsigned flags;
	char   off[96];
	int    sub, kind, scope_known;
	uint64_t scope;
	size_t limit;
} facts_in;

static size_t
count_of(const facts_in *in, const char *path, size_t cap)
{
	for (size_t i = 0; i < in->n; i++)
		if (strcmp(in->paths[i], path) == 0) return in->counts[i] < cap ? in->counts[i] : cap;
	return 0;
}

static void
read_facts(const char *s, size_t n, facts_in *in)
{
	char word[96];
	memset(in, 0, sizeof *in);
	in->limit = 10;
	for (const char *p = s, *end = s + n; p < end;) {
		size_t k = strcspn(p, " ]");
		if (k > sizeof word - 1) k = sizeof word - 1;
		memcpy(word, p, k);
		word[k] = '\0';
		p += k + 1;
		char *eq = strchr(word, '=');
		if (!k) continue;
		if (strcmp(word, "multi") == 0) in->flags |= STORE_IXF_MULTI;
		else if (strcmp(word, "long") == 0) in->flags |= STORE_IXF_LONG;
		else if (strcmp(word, "sub") == 0) in->sub = 1;
		else if (strncmp(word, "scope=", 6) == 0) {
			in->sub = in->scope_known = 1;
			in->scope = (uint64_t)atoll(word + 6);
		}
		else if (strncmp(word, "limit=", 6) == 0) in->limit = (size_t)atol(word + 6);
		else if (strncmp(word, "off=", 4) == 0) snprintf(in->off, sizeof in->off, "%s", word + 4);
		else if (strncmp(word, "cursor=", 7) == 0) {
			for (size_t i = 1; i < NKINDS; i++)
				if (strcmp(word + 7, kinds[i]) == 0) in->kind = (int)i;
			CHECK(in->kind != 0);
		} else {
			CHECK(eq && in->n < QL_MAX_TERMS);
			*eq = '\0';
			snprintf(in->paths[in->n], sizeof in->paths[0], "%s", word);
			in->counts[in->n++] = (size_t)atol(eq + 1);
		}
	}
}

/* The store's answers, from the case's facts: a range on a path holds
** path=N entries (cap them as the store counts), every path has held
** what `multi` and `long` say, and the `off` path is not indexed. */
static store_rc
facts_count(void *ctx, const store_ix_range *r, size_t cap, size_t *n)
{
	*n = count_of(ctx, r->path, cap);
	return STORE_OK;
}

static unsigned
facts_flags(void *ctx, const char *path)
{
	const facts_in *in = ctx;
	return in->flags | (strcmp(path, in->off) == 0 ? STORE_IXF_OFF : 0);
}

static store_rc
facts_scope(void *ctx, uint64_t *n, int *known)
{
	const facts_in *in = ctx;
	*n = in->scope;
	*known = in->scope_known;
	return STORE_OK;
}

/* The plan for one case line's input, as the file spells it. */
static void
plan_text(const char *s, size_t n, char *out, size_t cap)
{
	facts_in in;
	plan_facts *f = xmalloc(sizeof *f);
	plan p;
	ql_query *q = NULL;
	ql_error err;
	arena *a = arena_create();
	const char *close = memchr(s, ']', n);

	CHECK(s[0] == '[' && close);
	read_facts(s + 1, (size_t)(close - s - 1), &in);
	s = close + 2;
	if (ql_parse(a, s, strlen(s), &q, &err) != QL_OK) {
		snprintf(out, cap, "%%%%FAIL %s", err.msg);
	} else {
		plan_store ps = { facts_count, facts_flags, facts_scope, &in };
		plan_terms(q, "thing", !in.sub, f);
		CHECK(plan_count(&ps, q, in.limit, f) == STORE_OK);
		query_plan(q, f, in.kind, in.limit, &p);
		plan_describe(&p, q, out, cap);
		size_t o = strlen(out);
		const char *sep = " [";
		for (size_t k = 1; k < NKINDS && p.accepts != ~0u; k++, o = strlen(out))
			if (PLAN_ACCEPTS(&p, (int)k)) {
				snprintf(out + o, cap - o, "%s%s", sep, kinds[k]);
				sep = " ";
			}
		o = strlen(out);
		snprintf(out + o, cap - o, "%s", p.accepts == ~0u ? " [any]" : "]");
	}
	arena_destroy(a);
	free(f);
}

int
main(void)
{
	const char *path = "tests/exec/plans.txt";
	FILE *fp = fopen(path, "r");
	char *line = NULL, have[512];
	size_t cap = 0;
	int lineno = 0, cases = 0, failures = 0;

	if (!fp) {
		perror(path);
		return 1;
	}
	while (data_line(fp, &line, &cap, &lineno)) {
		const char *want;
		size_t n = data_split(path, lineno, line, &want);
		line[n] = '\0';
		plan_text(line, n, have, sizeof have);
		cases++;
		if (strcmp(have, want) != 0) {
			failures++;
			fprintf(stderr, "%s:%d: %s\n  want: %s\n  have: %s\n", path, lineno, line, want, have);
		}
	}
	free(line);
	fclose(fp);
	printf("test_plan: %d cases, %d failed\n", cases, failures);
	return failures != 0;
}
