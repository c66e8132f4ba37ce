/*
** lex.c: the ql tokenizer (spec 6.3) and the string-literal decoder.
**
** ql_token() looks at the bytes at z and returns the length and type of the
** one token they start.  It is a pure function: no allocation, no state, no
** locale (character classes are spelled out, not taken from <ctype.h>).
** The parser calls it in a loop and skips QL_TK_WS.
**
** Matching rule (the ANTLR lexer's): the longest match wins; on equal
** length the earlier rule wins, and keywords come before ID, so "lt" is LT,
** "ltx" is an ID, and a UUID spelled with a leading letter is a UUID unless
** more identifier characters follow it.  Keywords are case-insensitive.
*/
#include "query/ql_int.h"

#include <string.h>

/* X(spelling, token): every keyword once.  "order by" is not here: it is
** two words with whitespace between them, matched by order_by() below. */
#define QL_KEYWORDS(X) \
	X("lt", LT)  X("lte", LTE)  X("eq", EQ)  X("gt", GT)  X("gte", GTE) \
	X("true", BOOLEAN)  X("false", BOOLEAN) \
	X("and", AND)  X("or", OR)  X("not", NOT) \
	X("asc", ASC)  X("desc", DESC) \
	X("contains", CONTAINS)  X("within", WITHIN)  X("of", OF) \
	X("direct", DIRECT)  X("select", SELECT)  X("where", WHERE)

static const struct keyword {
	const char *word;
	size_t      n;
	int         type;
} keywords[] = {
#define QL_X_KW(w, t) { w, sizeof(w) - 1, QL_TK_##t },
	QL_KEYWORDS(QL_X_KW)
#undef QL_X_KW
};

static const char *const token_names[] = {
#define QL_X_NAME(name, spelling) spelling,
	QL_TOKEN_LIST(QL_X_NAME)
#undef QL_X_NAME
};

const char *
ql_token_name(int type)
{
	if (type < 0 || type >= QL_TK_COUNT) return "?";
	return token_names[type];
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_hex(int c)
{
	return text_hexval(c) >= 0;
}

static int
is_octal(int c)
{
	return c >= '0' && c <= '7';
}

/* WS of spec 6.3: space, tab, CR, LF, FF. */
static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

static int
is_id_start(int c)
{
	return is_alpha(c) || c == '_';
}

static int
is_id_char(int c)
{
	return is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* 1 when z[0..n) equals the lower-case word w[0..n) ignoring ASCII case. */
static int
word_eq(const unsigned char *z, const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(z[i]) != (unsigned char)w[i]) return 0;
	return 1;
}

static size_t
count_digits(const unsigned char *z, size_t n)
{
	size_t i = 0;
	while (i < n && is_digit(z[i])) i++;
	return i;
}

/* 36 when z starts with 8-4-4-4-12 hex digits, else 0. */
static size_t
uuid_len(const unsigned char *z, size_t n)
{
	if (n < 36) return 0;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (z[i] != '-') return 0;
		} else if (!is_hex(z[i])) {
			return 0;
		}
	}
	return 36;
}

/* Length of an exponent [eE][+-]?digits at z, 0 when there is none. */
static size_t
exponent_len(const unsigned char *z, size_t n)
{
	size_t i = 0;
	if (i >= n || (z[i] != 'e' && z[i] != 'E')) return 0;
	i++;
	if (i < n && (z[i] == '+' || z[i] == '-')) i++;
	size_t d = count_digits(z + i, n - i);
	return d ? i + d : 0;
}

/*
** LONG  -?digits
** FLOAT -?( digits '.' digits? exp? | '.' digits exp? | digits exp )
** Returns the longer match at z and sets *type; 0 when neither matches.
*/
static size_t
number_len(const unsigned char *z, size_t n, int *type)
{
	size_t i = 0;
	if (i < n && z[i] == '-') i++;
	size_t d = count_digits(z + i, n - i);
	i += d;
	if (i < n && z[i] == '.') {
		size_t f = count_digits(z + i + 1, n - i - 1);
		if (d || f) {
			i += 1 + f;
			i += exponent_len(z + i, n - i);
			*type = QL_TK_FLOAT;
			return i;
		}
	}
	if (!d) return 0;
	size_t e = exponent_len(z + i, n - i);
	*type = e ? QL_TK_FLOAT : QL_TK_LONG;
	return i + e;
}

/* Length of "order" WS+ "by" at z ("by" not followed by an identifier
** character), or 0.  Section 9: any whitespace between the words. */
static size_t
order_by_len(const unsigned char *z, size_t n)
{
	if (n < 5 || !word_eq(z, "order", 5)) return 0;
	size_t i = 5;
	while (i < n && is_space(z[i])) i++;
	if (i == 5 || n - i < 2 || !word_eq(z + i, "by", 2)) return 0;
	i += 2;
	if (i < n && is_id_char(z[i])) return 0;
	return i;
}

/*
** A STRING token: z[0] is the opening quote.  Returns its length with
** type QL_TK_STRING, or an error type (see ql_token's contract).
*/
static size_t
string_len(const unsigned char *z, size_t n, int *type)
{
	size_t i = 1;
	while (i < n) {
		unsigned char c = z[i];
		if (c == '\'') {
			*type = QL_TK_STRING;
			return i + 1;
		}
		if (c == '\0') break;               /* see ql.h: no NUL in strings */
		if (c != '\\') {
			i++;
			continue;
		}
		if (i + 1 >= n) break;              /* "\" at the end: unterminated */
		unsigned char e = z[i + 1];
		if (e && strchr("btnfr\"'\\", e)) {
			i += 2;
		} else if (e == 'u') {
			if (n - i < 6 || !is_hex(z[i + 2]) || !is_hex(z[i + 3]) ||
			    !is_hex(z[i + 4]) || !is_hex(z[i + 5])) {
				*type = QL_TK_ERR_ESCAPE;
				return i + 2;
			}
			i += 6;
		} else if (is_octal(e)) {
			/* \[0-3][0-7][0-7] | \[0-7][0-7] | \[0-7], longest first */
			size_t k = 2;
			if (i + k < n && is_octal(z[i + k])) {
				k++;
				if (e <= '3' && i + k < n && is_octal(z[i + k])) k++;
			}
			i += k;
		} else {
			*type = QL_TK_ERR_ESCAPE;
			return i + 2;
		}
	}
	if (i < n && z[i] == '\0') {
		/* A NUL inside a string is reported as the bad character. */
		*type = QL_TK_ERR_CHAR;
		return i + 1;
	}
	*type = QL_TK_ERR_STRING;
	return n;
}

/* The token of punctuation, whitespace or a string at z (n > 0); 0 when
** z[0] starts none of them. */
static size_t
punct_len(const unsigned char *z, size_t n, int *type)
{
	size_t len;
	switch (z[0]) {
	case ' ': case '\t': case '\r': case '\n': case '\f':
		len = 1;
		while (len < n && is_space(z[len])) len++;
		*type = QL_TK_WS;
		return len;
	case '<':
		if (n > 1 && z[1] == '=') { *type = QL_TK_LTE; return 2; }
		*type = QL_TK_LT;
		return 1;
	case '>':
		if (n > 1 && z[1] == '=') { *type = QL_TK_GTE; return 2; }
		*type = QL_TK_GT;
		return 1;
	case '=': *type = QL_TK_EQ;     return 1;
	case '(': *type = QL_TK_LPAREN; return 1;
	case ')': *type = QL_TK_RPAREN; return 1;
	case '*': *type = QL_TK_STAR;   return 1;
	case ',': *type = QL_TK_COMMA;  return 1;
	case ':': *type = QL_TK_COLON;  return 1;
	case '{': *type = QL_TK_LBRACE; return 1;
	case '}': *type = QL_TK_RBRACE; return 1;
	case '&':
		if (n > 1 && z[1] == '&') { *type = QL_TK_AND; return 2; }
		return 0;
	case '|':
		if (n > 1 && z[1] == '|') { *type = QL_TK_OR; return 2; }
		return 0;
	case '\'':
		return string_len(z, n, type);
	default:
		return 0;
	}
}

/* The token of a word at z (z[0] starts an identifier): a UUID spelled
** with a leading letter, "order by", a keyword or an ID. */
static size_t
word_len(const unsigned char *z, size_t n, int *type)
{
	size_t len = 1;
	while (len < n && is_id_char(z[len])) len++;
	if (len == 36 && uuid_len(z, n)) {
		*type = QL_TK_UUID;
		return len;
	}
	size_t ob = order_by_len(z, n);
	if (ob) {
		*type = QL_TK_ORDER_BY;
		return ob;
	}
	for (size_t k = 0; k < sizeof keywords / sizeof *keywords; k++) {
		if (keywords[k].n == len && word_eq(z, keywords[k].word, len)) {
			*type = keywords[k].type;
			return len;
		}
	}
	*type = QL_TK_ID;
	return len;
}

size_t
ql_token(const char *zc, size_t n, int *type)
{
	const unsigned char *z = (const unsigned char *)zc;
	size_t len;

	if (n == 0) {
		*type = QL_TK_EOF;
		return 0;
	}
	if ((len = punct_len(z, n, type)) != 0) return len;
	if (is_digit(z[0]) || z[0] == '-' || z[0] == '.') {
		/* A UUID starting with a digit outlasts any number. */
		if ((len = uuid_len(z, n)) != 0) {
			*type = QL_TK_UUID;
			return len;
		}
		if ((len = number_len(z, n, type)) != 0) return len;
	} else if (is_id_start(z[0])) {
		return word_len(z, n, type);
	}

	/* Nothing starts here.  Cover a whole UTF-8 character so that the
	** message can show it. */
	len = text_utf8_len(z, n);
	*type = QL_TK_ERR_CHAR;
	return len ? len : 1;
}

/*------------------------------ helpers ------------------------------*/

static unsigned
hex4(const unsigned char *z)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int c = z[i];
		v = v * 16 + (unsigned)text_hexval(c);
	}
	return v;
}

static size_t
put_utf8(char *out, unsigned cp)
{
	unsigned char *o = (unsigned char *)out;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The byte a one-letter escape \e stands for, or -1 when e is not one. */
static int
simple_escape(unsigned char e)
{
	static const char from[] = "btnfr\"'\\", to[] = "\b\t\n\f\r\"'\\";
	const char *p = e ? strchr(from, e) : NULL;
	return p ? (unsigned char)to[p - from] : -1;
}

/* The character of the \uXXXX escape at z[*i] (joined with the low half
** that must follow a high surrogate), *i moved past it; -1 for a lone or
** reversed surrogate or U+0000. */
static int
unicode_escape(const unsigned char *z, size_t *i, size_t end, unsigned *cp)
{
	*cp = hex4(z + *i + 2);
	*i += 6;
	if (*cp >= 0xd800 && *cp <= 0xdbff) {
		unsigned lo;
		if (*i + 6 > end || z[*i] != '\\' || z[*i + 1] != 'u' ||
		    (lo = hex4(z + *i + 2)) < 0xdc00 || lo > 0xdfff)
			return -1;
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
		*i += 6;
	} else if (*cp == 0 || (*cp >= 0xdc00 && *cp <= 0xdfff)) {
		return -1;
	}
	return 0;
}

/* The Latin-1 character of the octal escape at z[*i] (ql_token accepted 1
** to 3 digits, value <= 0377), *i moved past it; 0 for \0. */
static unsigned
octal_escape(const unsigned char *z, size_t *i, size_t end)
{
	unsigned cp = 0;
	size_t at = *i, k = 0;
	(*i)++;
	while (k < 3 && *i < end && is_octal(z[*i]) && (k < 2 || z[at + 1] <= '3')) {
		cp = cp * 8 + (unsigned)(z[*i] - '0');
		(*i)++;
		k++;
	}
	return cp;
}

/*
** Escapes decode to what Java gives the same literal: \uXXXX is a UTF-16
** unit (a surrogate pair joins into one character), an octal escape is a
** Latin-1 character; both are written out as UTF-8.  Output never exceeds
** input: 6 -> <=3, 12 -> 4, \ooo (4) -> <=2, \oo and \o -> 1.
*/
int
qlx_string_decode(const char *zc, size_t n, char *out, size_t *outn,
                  size_t *bad, size_t *badn)
{
	const unsigned char *z = (const unsigned char *)zc;
	size_t i = 1, o = 0, end = n - 1;     /* between the quotes */

	while (i < end) {
		if (z[i] != '\\') {
			out[o++] = (char)z[i++];
			continue;
		}
		int c = simple_escape(z[i + 1]);
		size_t at = i;
		unsigned cp;
		if (c >= 0) {
			out[o++] = (char)c;
			i += 2;
			continue;
		}
		if (z[i + 1] == 'u' ? unicode_escape(z, &i, end, &cp) != 0
		                    : (cp = octal_escape(z, &i, end)) == 0) {
			*bad = at;
			*badn = z[at + 1] == 'u' ? 6 : i - at;
			return -1;
		}
		o += put_utf8(out + o, cp);
	}
	out[o] = '\0';
	*outn = o;
	return 0;
}

void
qlx_echo(char *out, size_t cap, const char *zc, size_t n, size_t max)
{
	const unsigned char *z = (const unsigned char *)zc;
	size_t o = strlen(out), i = 0;
	static const char hex[] = "0123456789abcdef";

	while (i < n && o + 1 < cap) {
		if (i >= max) {
			if (o + 4 > cap) break;
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		size_t k = text_utf8_len(z + i, n - i);
		if (k == 1 && (z[i] < 0x20 || z[i] == 0x7f)) k = 0;
		if (k) {
			if (o + k + 1 > cap) break;
			memcpy(out + o, z + i, k);
			o += k;
			i += k;
		} else {
			if (o + 5 > cap) break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[z[i] >> 4];
			out[o++] = hex[z[i] & 15];
			i++;
		}
	}
	out[o] = '\0';
}
