/*
** query.h: the public interface of query/: the ql language and the cursor
** codec.  query/ sits between http/ and core/: it may call core's API but
** never includes an http/ header.
*/
#ifndef UG_QUERY_H
#define UG_QUERY_H

#include <stddef.h>

#include "core/store.h"

/* A cursor is an opaque URL-safe token for where a listing stopped: a
** version byte and the driving scan's position, base64url without padding. */
#define QUERY_CURSOR_MAX 64

/* Writes the token for pos into out (NUL-terminated). */
void query_cursor_encode(const store_pos *pos, char out[QUERY_CURSOR_MAX]);
/* Decodes a token; returns 1 on success, 0 for a malformed token. */
int  query_cursor_decode(const char *text, size_t n, store_pos *pos);

#endif
