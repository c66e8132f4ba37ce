/*
** text.h: the byte rules every layer reads text with, written once: UTF-8
** sequences, hex digits, the bytes of names and wildcard patterns.  Pure:
** no locale, no state, and no allocation but the glob's for a piece over
** 256 bytes (core/mem.c), so the ql parser and the permission matcher (and
** their fuzz targets) may use them as well as core/ and http/.
*/
#ifndef UG_TEXT_H
#define UG_TEXT_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence (1-4 bytes, shortest form, no
** surrogates, at most U+10FFFF) at z[0..n), or 0 when z does not start
** one. */
size_t text_utf8_len(const unsigned char *z, size_t n);

/* FNV-1a (64 bits) of p[0..n) continued from h (TEXT_HASH_BASIS to
** start), ASCII letters lower-cased first when lc: the hash of cut key
** values (keys.c: on disk, so it never changes) and of in-memory tables. */
#define TEXT_HASH_BASIS 0xcbf29ce484222325ull
unsigned long long text_hash(unsigned long long h, const void *p, size_t n, int lc);

/* The value of hex digit c (either case), or -1 when c is none. */
int    text_hexval(int c);

/* 1 when c may stand in an org, app or collection name: an ASCII letter
** or digit, '-', '_' or '.'. */
int    text_name_byte(int c);

/* Does s[0..sn) match the wildcard pattern p[0..pn)?  '*' stands for any
** run of bytes and, when one >= 0, the byte `one` for any single byte;
** the rest compares ASCII case-insensitively.  The pattern is literal
** pieces between stars: the first must start s, the last must end it, and
** each one between is taken at its leftmost place after the one before
** (never worse when stars match anything), found by Knuth-Morris-Pratt,
** or for a piece holding `one` by a bit-parallel scan (shift-and).  So a
** match costs O(pn + sn) however the two repeat themselves: no
** backtracking.  A piece between stars that holds `one` may be at most
** TEXT_GLOB_ONE_MAX bytes long (text_glob_valid); a longer one matches
** nothing. */
#define TEXT_GLOB_ONE_MAX 64
int    text_glob_ci(const char *p, size_t pn, const char *s, size_t sn, int one);
/* 1 when every piece of p between two stars that holds `one` is at most
** TEXT_GLOB_ONE_MAX bytes long. */
int    text_glob_valid(const char *p, size_t pn, int one);

#endif
