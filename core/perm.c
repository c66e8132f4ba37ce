/*
** perm.c: the permission matcher (spec 7.1).  Pure: no LMDB, no state,
** so `make fuzz` builds it with core/text.c alone.  See auth.h for the
** grammar.
**
** Inside a segment, '*' and '?' are the glob of core/text.c, linear in
** the pattern and the segment (no backtracking; a piece between stars
** that holds '?' is at most TEXT_GLOB_ONE_MAX bytes, or the grant is
** invalid).  Segments against "**" are the classic wildcard match with
** one backtracking point: when a later segment fails, only the most recent
** "**" is retried one segment further, which is enough for a "**" that
** matches any segments; at most AUTH_PERM_MAX_SEGS x AUTH_PERM_MAX_SEGS
** segment matches.
*/
#include "core/auth.h"
#include "core/text.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

typedef struct { const char *p; size_t n; } seg;

/* Splits s[0..n) on '/' into non-empty segments; -1 when there are more
** than AUTH_PERM_MAX_SEGS. */
static int
split(const char *s, size_t n, seg *out)
{
	int k = 0;
	size_t i = 0;
	while (i < n) {
		while (i < n && s[i] == '/') i++;
		if (i == n) break;
		size_t j = i;
		while (j < n && s[j] != '/') j++;
		if (k == AUTH_PERM_MAX_SEGS) return -1;
		out[k++] = (seg){ s + i, j - i };
		i = j;
	}
	return k;
}

static int
eq_ci(seg a, const char *b)
{
	return b && strlen(b) == a.n && strncasecmp(a.p, b, a.n) == 0;
}

static int
is_user_seg(seg p)
{
	return eq_ci(p, "${user}") || eq_ci(p, "me");
}

static int
seg_match(seg pat, seg s, const auth_user *u)
{
	if (u && (u->username || u->uuid) && is_user_seg(pat))
		return eq_ci(s, "me") || eq_ci(s, u->username) || eq_ci(s, u->uuid);
	if (eq_ci(pat, "${user}")) return 0;   /* nobody to stand for */
	return text_glob_ci(pat.p, pat.n, s.p, s.n, '?');
}

static int
is_globstar(seg p)
{
	return p.n == 2 && p.p[0] == '*' && p.p[1] == '*';
}

/* One Ant pattern against the path's segments. */
static int
path_match(const seg *pat, int np, const seg *path, int ns, const auth_user *u)
{
	int pi = 0, si = 0, star = -1, mark = 0;
	while (si < ns) {
		if (pi < np && is_globstar(pat[pi])) {
			star = pi++;
			mark = si;
		} else if (pi < np && seg_match(pat[pi], path[si], u)) {
			pi++;
			si++;
		} else if (star >= 0) {
			pi = star + 1;
			si = ++mark;
		} else {
			return 0;
		}
	}
	while (pi < np && is_globstar(pat[pi])) pi++;
	return pi == np;
}

/* 1 when the verbs part v[0..n) names method (lower-case). */
static int
verbs_allow(const char *v, size_t n, const char *method)
{
	size_t i = 0, any = 0;
	while (i <= n) {
		size_t j = i;
		while (j < n && v[j] != ',') j++;
		size_t a = i, b = j;
		while (a < b && isspace((unsigned char)v[a])) a++;
		while (b > a && isspace((unsigned char)v[b - 1])) b--;
		if (b > a) {
			any = 1;
			seg w = { v + a, b - a };
			if (eq_ci(w, "*") || eq_ci(w, method)) return 1;
		}
		i = j + 1;
	}
	return !any;
}

int
auth_perm_valid(const char *perm)
{
	size_t n = strlen(perm);
	const char *colon = memchr(perm, ':', n);
	seg segs[AUTH_PERM_MAX_SEGS];
	if (n > AUTH_PERM_MAX || !colon) return 0;
	const char *p = colon + 1, *end = perm + n;
	int paths = 0;
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		int k = split(p, (size_t)(e - p), segs);
		if (k < 0) return 0;
		for (int i = 0; i < k; i++)
			if (!text_glob_valid(segs[i].p, segs[i].n, '?')) return 0;
		while (p < e && isspace((unsigned char)*p)) p++;
		if (p < e) paths++;
		p = e + 1;
	}
	return paths > 0;
}

int
auth_perm_allows(const char *perm, const char *method, const char *path,
                 const auth_user *u)
{
	seg pat[AUTH_PERM_MAX_SEGS], req[AUTH_PERM_MAX_SEGS];
	char m[8];
	size_t n = strlen(perm), i;
	const char *colon = memchr(perm, ':', n);

	if (!auth_perm_valid(perm)) return 0;   /* a bad grant allows nothing */
	for (i = 0; method[i] && i < sizeof m - 1; i++) m[i] = (char)tolower((unsigned char)method[i]);
	m[i] = '\0';
	if (strcmp(m, "head") == 0) strcpy(m, "get");
	if (!verbs_allow(perm, (size_t)(colon - perm), m)) return 0;
	int ns = split(path, strlen(path), req);
	if (ns < 0) return 0;

	const char *p = colon + 1, *end = perm + n;
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		while (p < e && isspace((unsigned char)*p)) p++;
		while (e > p && isspace((unsigned char)e[-1])) e--;
		if (e - p == 1 && *p == '*') p = "/**", e = p + 3;   /* a lone "*" */
		int np = p < e ? split(p, (size_t)(e - p), pat) : -1;
		if (np >= 0 && path_match(pat, np, req, ns, u)) return 1;
		p = (comma ? comma : end) + 1;
	}
	return 0;
}
