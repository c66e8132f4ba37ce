/*
** text.c: UTF-8, hex digits, name bytes and wildcard patterns (text.h).
*/
#include "core/text.h"
#include "core/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t
text_utf8_len(const unsigned char *z, size_t n)
{
	if (n == 0) return 0;
	unsigned c = z[0];
	size_t len;
	unsigned min, cp;
	if (c < 0x80) return 1;
	if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; min = 0x80; }
	else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; min = 0x800; }
	else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; min = 0x10000; }
	else return 0;
	if (n < len) return 0;
	for (size_t i = 1; i < len; i++) {
		if ((z[i] & 0xc0) != 0x80) return 0;
		cp = (cp << 6) | (z[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
	return len;
}

int
text_hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int
text_name_byte(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '-' || c == '_' || c == '.';
}

/* ---- wildcard patterns ------------------------------------------------------ */

/* ASCII lower case: patterns compare so whatever the locale. */
static int
lc(char c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : (unsigned char)c;
}

/* Is c the byte that stands for any one byte (one < 0: there is none)? */
static int
is_one(char c, int one)
{
	return (unsigned char)c == one;
}

/* p[0..n) against s[0..n); `one` in p matches any byte. */
static int
same_ci(const char *p, const char *s, size_t n, int one)
{
	for (size_t i = 0; i < n; i++)
		if (!is_one(p[i], one) && lc(p[i]) != lc(s[i])) return 0;
	return 1;
}

/* Offset just past the first occurrence of p[0..pn) in s[0..sn), compared
** as lower case, or (size_t)-1.  Knuth-Morris-Pratt: O(sn + pn) however
** the two repeat themselves (pn > 0). */
static size_t
find_ci(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t small[256], *fail = pn <= 256 ? small : xmalloc(pn * sizeof *fail), k = 0, at = (size_t)-1;
	fail[0] = 0;
	for (size_t i = 1; i < pn; i++) {   /* fail[i]: longest border of p[0..i] */
		while (k && lc(p[i]) != lc(p[k])) k = fail[k - 1];
		if (lc(p[i]) == lc(p[k])) k++;
		fail[i] = k;
	}
	k = 0;
	for (size_t i = 0; i < sn; i++) {
		while (k && lc(s[i]) != lc(p[k])) k = fail[k - 1];
		if (lc(s[i]) == lc(p[k]) && ++k == pn) {
			at = i + 1;
			break;
		}
	}
	if (fail != small) free(fail);
	return at;
}

/* The same for a piece holding `one` (0 < pn <= TEXT_GLOB_ONE_MAX), which
** the failure function of KMP cannot express: shift-and, where bit i of
** the state says p[0..i] matches the text ending here.  O(sn + 256). */
static size_t
find_one(const char *p, size_t pn, const char *s, size_t sn, int one)
{
	uint64_t any = 0, mask[256], state = 0, done = (uint64_t)1 << (pn - 1);
	for (size_t i = 0; i < pn; i++)
		if (is_one(p[i], one)) any |= (uint64_t)1 << i;
	for (size_t c = 0; c < 256; c++) mask[c] = any;
	for (size_t i = 0; i < pn; i++)
		if (!is_one(p[i], one)) {
			int c = lc(p[i]);
			mask[c] |= (uint64_t)1 << i;
			if (c >= 'a' && c <= 'z') mask[c - 32] |= (uint64_t)1 << i;
		}
	for (size_t i = 0; i < sn; i++) {
		state = ((state << 1) | 1) & mask[(unsigned char)s[i]];
		if (state & done) return i + 1;
	}
	return (size_t)-1;
}

/* Calls fn on each piece strictly between two stars; stops at a 0. */
static int
each_piece(const char *p, size_t pn, int (*fn)(const char *q, size_t n, void *ctx), void *ctx)
{
	const char *first = memchr(p, '*', pn), *last = first ? memrchr(p, '*', pn) : NULL;
	for (const char *q = first ? first + 1 : NULL; q && q < last;) {
		const char *star = memchr(q, '*', (size_t)(last - q) + 1);
		if (star > q && !fn(q, (size_t)(star - q), ctx)) return 0;
		q = star + 1;
	}
	return 1;
}

typedef struct {
	const char *s;
	size_t at, end;
	int one;
} glob_state;

/* Takes piece q at its leftmost place in s[at..end); 0 when it is not there. */
static int
take_piece(const char *q, size_t n, void *ctx)
{
	glob_state *g = ctx;
	size_t got;
	if (g->one >= 0 && memchr(q, g->one, n))
		got = n > TEXT_GLOB_ONE_MAX ? (size_t)-1
		                            : find_one(q, n, g->s + g->at, g->end - g->at, g->one);
	else
		got = find_ci(q, n, g->s + g->at, g->end - g->at);
	if (got == (size_t)-1) return 0;
	g->at += got;
	return 1;
}

int
text_glob_ci(const char *p, size_t pn, const char *s, size_t sn, int one)
{
	const char *first = memchr(p, '*', pn), *last;
	if (!first) return pn == sn && same_ci(p, s, pn, one);
	last = memrchr(p, '*', pn);
	size_t head = (size_t)(first - p), tail = pn - (size_t)(last - p) - 1;
	if (head + tail > sn || !same_ci(p, s, head, one) ||
	    !same_ci(last + 1, s + sn - tail, tail, one))
		return 0;
	glob_state g = { s, head, sn - tail, one };
	return each_piece(p, pn, take_piece, &g);
}

static int
piece_short(const char *q, size_t n, void *ctx)
{
	int one = *(const int *)ctx;
	return n <= TEXT_GLOB_ONE_MAX || !memchr(q, one, n);
}

int
text_glob_valid(const char *p, size_t pn, int one)
{
	return one < 0 || each_piece(p, pn, piece_short, &one);
}

unsigned long long
text_hash(unsigned long long h, const void *p, size_t n, int lc)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = b[i];
		if (lc && c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
		h = (h ^ c) * 0x100000001b3ull;
	}
	return h;
}
