/*
** test_perm.c: the permission matcher (core/auth.h), driven by the data
** file tests/auth/permissions.txt (a path relative to the repository root,
** the current directory under tests/run.py), plus auth_perm_valid.
** Every failing case is printed; the exit status is 1 if any failed.
*/
#include "tests/unit/check.h"
#include "tests/unit/datafile.h"

#include <time.h>

#include "core/auth.h"

#define CASE_MAX_NS (20 * 1000 * 1000)   /* a hostile case must stay cheap */

static int cases, failures;

static long long
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Runs one "PERMISSION | METHOD PATH [| USER UUID]" case; 1 = allowed. */
static int
run_case(char *text, const char *where, long long *ns)
{
	char *bar1 = strstr(text, " | "), *bar2, *sp;
	char user[256] = "", uuid[64] = "";
	auth_user u = { 0 };
	if (!bar1) {
		fprintf(stderr, "%s: no \" | \" in the case\n", where);
		exit(1);
	}
	*bar1 = '\0';
	char *req = bar1 + 3;
	if ((bar2 = strstr(req, " | ")) != NULL) {
		*bar2 = '\0';
		CHECK(sscanf(bar2 + 3, "%255s %63s", user, uuid) == 2);
		u.username = user;
		u.uuid = uuid;
	}
	sp = strchr(req, ' ');
	CHECK(sp);
	*sp = '\0';
	long long t0 = now_ns();
	int allowed = auth_perm_allows(text, req, sp + 1, bar2 ? &u : NULL);
	*ns = now_ns() - t0;
	return allowed;
}

static void
run_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, where[600];
	size_t cap = 0;
	int lineno = 0;

	if (!f) {
		perror(path);
		exit(1);
	}
	while (data_line(f, &line, &cap, &lineno)) {
		const char *s = line, *want;
		int gen = strncmp(s, "%%GEN ", 6) == 0;
		if (gen) s += 6;
		size_t n = data_split(path, lineno, s, &want);
		snprintf(where, sizeof where, "%s:%d", path, lineno);
		buf c = { 0 };
		if (gen) generate(s, n, &c);
		else buf_put(&c, s, n);
		long long ns;
		int allowed = run_case(c.p, where, &ns);
		cases++;
		if (strcmp(want, allowed ? "allow" : "deny") != 0 || ns > CASE_MAX_NS) {
			failures++;
			fprintf(stderr, "%s: %.200s\n  want: %s\n  have: %s (%lld ns)\n", where, s,
			        want, allowed ? "allow" : "deny", ns);
		}
		free(c.p);
	}
	free(line);
	fclose(f);
}

static void
check_valid(void)
{
	char big[AUTH_PERM_MAX + 10];
	CHECK(auth_perm_valid("get,post:/cats/*"));
	CHECK(auth_perm_valid(":/x"));
	CHECK(auth_perm_valid("get:*"));
	CHECK(!auth_perm_valid("get"));
	CHECK(!auth_perm_valid("get:"));
	CHECK(!auth_perm_valid("get: , "));
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "get:/", 5);
	CHECK(!auth_perm_valid(big));
	CHECK(!auth_perm_allows(big, "GET", "/a", NULL));
}

int
main(void)
{
	check_valid();
	run_file("tests/auth/permissions.txt");
	printf("test_perm: %d cases, %d failed, %d checks\n", cases, failures, check_count);
	return failures ? 1 : 0;
}
