/*
** ql_int.h: helpers shared by the ql sources (lex.c, parse.c, print.c) and
** by nobody else.  Everything here is pure and bounded by its arguments.
*/
#ifndef UG_QL_INT_H
#define UG_QL_INT_H

#include <stddef.h>

#include "core/text.h"   /* text_utf8_len, text_hexval: pure */
#include "query/ql.h"

/*
** Decodes the STRING token z[0..n) (quotes included, as ql_token accepted
** it) into out, which must hold n bytes: no escape decodes longer than it
** is written.  Writes the byte count to *outn and appends a NUL.
** Returns 0, or -1 for an escape ql_token cannot judge alone (\u0000, \0,
** an unpaired surrogate), with the escape at z[*bad .. *bad + *badn).
*/
int qlx_string_decode(const char *z, size_t n, char *out, size_t *outn,
                      size_t *bad, size_t *badn);

/*
** Appends to out (cap bytes, kept NUL-terminated) a printable rendering of
** z[0..n): valid UTF-8 stays as is, control and invalid bytes become \xNN.
** At most max input bytes are shown (cut at a character boundary); "..."
** marks a cut.  Used to echo user text into error messages safely.
*/
void qlx_echo(char *out, size_t cap, const char *z, size_t n, size_t max);

#endif
