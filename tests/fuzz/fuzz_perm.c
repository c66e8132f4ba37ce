/*
** fuzz_perm.c: libFuzzer entry point for the permission matcher
** (core/perm.c).  Built and run by `make fuzz`; the seed corpus is the
** cases of tests/auth/permissions.txt.
**
** The input is "PERMISSION | METHOD PATH" (the data file's form; without
** " | " the whole input is the permission, tried on a fixed path).
** Besides crashes and sanitizer reports, the checks below abort on broken
** invariants:
**   - the answer is the same with the path upper-cased (matching ignores
**     ASCII case) and with a trailing '/' added;
**   - an invalid permission (auth_perm_valid) allows nothing.
*/
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(x) do { if (!(x)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *path, *method = "GET";
	auth_user u = { "fred", "11111111-2222-3333-4444-555555555555" };

	memcpy(s, data, size);
	s[size] = '\0';
	char *bar = strstr(s, " | ");
	if (bar) {
		*bar = '\0';
		method = bar + 3;
		char *sp = strchr(method, ' ');
		path = sp ? sp + 1 : "/";
		if (sp) *sp = '\0';
	} else {
		path = "/users/fred/activities";
	}
	size_t n = strlen(path);
	char *upper = malloc(n + 2);
	for (size_t i = 0; i < n; i++) upper[i] = (char)toupper((unsigned char)path[i]);
	upper[n] = '/';
	upper[n + 1] = '\0';

	int a = auth_perm_allows(s, method, path, &u);
	REQUIRE(a == 0 || a == 1);
	if (!strstr(path, "${") && !strstr(s, "${")) {
		REQUIRE(auth_perm_allows(s, method, upper, &u) == a);
		upper[n] = '\0';
		REQUIRE(auth_perm_allows(s, method, upper, &u) == a);
	}
	if (!auth_perm_valid(s)) REQUIRE(!a);
	REQUIRE(auth_perm_allows(s, method, path, NULL) <= 1);
	free(upper);
	free(s);
	return 0;
}
