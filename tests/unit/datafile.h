/*
** datafile.h: what the data-file driven unit tests share (test_ql.c over
** tests/query/ *.txt, test_perm.c over tests/auth/ *.txt): a growing byte
** buffer and the two line forms %%ESC (\n \t \r \f \\ \xNN) and %%GEN
** ({{N*text}} expands to text N times).
*/
#ifndef UG_DATAFILE_H
#define UG_DATAFILE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARROW " \xe2\x87\x92 "   /* " ⇒ " */

/* A growing byte buffer. */
typedef struct {
	char  *p;
	size_t n, cap;
} buf;

static inline void
buf_put(buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p) abort();
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static inline int
hexdig(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* %%ESC: \n \t \r \f \\ \xNN; anything else after '\' stays as is. */
static inline void
unescape(const char *s, size_t n, buf *out)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < n) {
			char e = s[i + 1];
			const char *m = strchr("ntrf\\", e);
			if (e && m) {
				static const char to[] = "\n\t\r\f\\";
				buf_put(out, &to[m - "ntrf\\"], 1);
				i++;
				continue;
			}
			if (e == 'x' && i + 3 < n && hexdig(s[i + 2]) >= 0 &&
			    hexdig(s[i + 3]) >= 0) {
				char b = (char)(hexdig(s[i + 2]) * 16 + hexdig(s[i + 3]));
				buf_put(out, &b, 1);
				i += 3;
				continue;
			}
		}
		buf_put(out, &c, 1);
	}
}

/* %%GEN: {{N*text}} -> text repeated N times. */
static inline void
generate(const char *s, size_t n, buf *out)
{
	size_t i = 0;
	while (i < n) {
		const char *open = i + 1 < n ? strstr(s + i, "{{") : NULL;
		if (!open || (size_t)(open - s) >= n) {
			buf_put(out, s + i, n - i);
			return;
		}
		buf_put(out, s + i, (size_t)(open - s) - i);
		char *star;
		long count = strtol(open + 2, &star, 10);
		const char *close = strstr(open, "}}");
		if (*star != '*' || !close) {
			fprintf(stderr, "bad %%%%GEN pattern in: %.*s\n", (int)n, s);
			exit(1);
		}
		for (long k = 0; k < count; k++)
			buf_put(out, star + 1, (size_t)(close - star - 1));
		i = (size_t)(close + 2 - s);
	}
}

#endif
