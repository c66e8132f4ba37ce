/*
** text.h: the byte rules every layer reads text with, written once: UTF-8
** sequences, hex digits and the bytes of names.  Pure: no allocation, no locale, no state, so
** the ql parser (and its fuzz target) may use them as well as core/ and
** http/.
*/
#ifndef UG_TEXT_H
#define UG_TEXT_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence (1-4 bytes, shortest form, no
** surrogates, at most U+10FFFF) at z[0..n), or 0 when z does not start
** one. */
size_t text_utf8_len(const unsigned char *z, size_t n);

/* The value of hex digit c (either case), or -1 when c is none. */
int    text_hexval(int c);

/* 1 when c may stand in an org, app or collection name: an ASCII letter
** or digit, '-', '_' or '.'. */
int    text_name_byte(int c);

#endif
