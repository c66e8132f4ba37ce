/*
** datafile.h: what the data-file driven unit tests share (test_ql.c over
** tests/query/ *.txt, test_perm.c over tests/auth/ *.txt, test_plan.c and
** test_eval.c over tests/exec/ *.txt): the case-line reader, a growing byte
** buffer and the two line forms %%ESC (\n \t \r \f \\ \xNN) and %%GEN
** ({{N*text}} expands to text N times).
*/
#ifndef UG_DATAFILE_H
#define UG_DATAFILE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

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
			if (e == 'x' && i + 3 < n && text_hexval(s[i + 2]) >= 0 &&
			    text_hexval(s[i + 3]) >= 0) {
				char b = (char)(text_hexval(s[i + 2]) * 16 + text_hexval(s[i + 3]));
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

/* A data file holds one case a line, "INPUT ⇒ EXPECTED".  data_line
** returns the next case line of f with its line break cut, blank lines and
** '#' comments skipped, or NULL at the end; *lineno counts the lines
** read.  The line lives in *line (free it). */
static inline char *
data_line(FILE *f, char **line, size_t *cap, int *lineno)
{
	ssize_t got;
	while ((got = getline(line, cap, f)) != -1) {
		size_t len = (size_t)got;
		(*lineno)++;
		while (len && ((*line)[len - 1] == '\n' || (*line)[len - 1] == '\r')) len--;
		(*line)[len] = '\0';
		if (len && (*line)[0] != '#') return *line;
	}
	return NULL;
}

/* Splits a case line at its arrow: *want is what follows it, and the
** input ends where the arrow starts (returns its length; exits without
** an arrow). */
static inline size_t
data_split(const char *path, int lineno, const char *line, const char **want)
{
	const char *arrow = strstr(line, ARROW);
	if (!arrow) {
		fprintf(stderr, "%s:%d: no \"%s\" in the line\n", path, lineno, ARROW);
		exit(1);
	}
	*want = arrow + strlen(ARROW);
	return (size_t)(arrow - line);
}

#endif
