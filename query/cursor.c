/*
** cursor.c: the cursor codec.  A cursor is stateless: everything needed to
** resume is in the token, so paging needs no server memory.  Layout:
** kind (1 byte) | payload, base64url without padding.  Kinds:
**   1  a position in an edge listing (STORE_POS_SIZE bytes)
**   2  an offset into a listing computed whole (the matrix union of
**      http/h_matrix.c); no query plan makes or reads one
**   3  a phase byte and a position in a property index (up to
**      STORE_IXPOS_MAX bytes)
**   4  the (time, uuid) of the last entity of a page listed newest first
**   5  a verb and an edge listing position (connections of every verb)
**   6  JSON: the sort keys, distance, time and uuid of the last entity of a
**      sorted page (keyset)
**   7  a phase byte and a property index position (the order plan)
**   8  JSON: uuid, time and distance of that entity, for keys too long to
**      carry
*/
#include "query/query.h"

#include <string.h>

void
query_cursor_encode_raw(int kind, const void *data, size_t n, char out[QUERY_CURSOR_MAX])
{
	unsigned char raw[QUERY_CURSOR_RAW_MAX + 1];
	if (n > QUERY_CURSOR_RAW_MAX) n = QUERY_CURSOR_RAW_MAX;
	raw[0] = (unsigned char)kind;
	memcpy(raw + 1, data, n);
	store_b64_encode(raw, n + 1, out);
}

size_t
query_cursor_decode_raw(const char *text, size_t n, int kind, void *data, size_t cap)
{
	unsigned char raw[QUERY_CURSOR_RAW_MAX + 1];
	size_t o;
	if (!store_b64_decode(text, n, raw, sizeof raw, &o) || o < 2 || raw[0] != kind ||
	    o - 1 > cap)
		return 0;
	memcpy(data, raw + 1, o - 1);
	return o - 1;
}

int
query_cursor_kind(const char *text)
{
	int a = store_b64_digit((unsigned char)text[0]);
	int b = a < 0 ? -1 : store_b64_digit((unsigned char)text[1]);
	return a < 0 || b < 0 ? 0 : (a << 2) | (b >> 4);
}

void
query_cursor_encode(const store_pos *pos, char out[QUERY_CURSOR_MAX])
{
	query_cursor_encode_raw(QUERY_CURSOR_EDGE, pos->b, STORE_POS_SIZE, out);
}

int
query_cursor_decode(const char *text, size_t n, store_pos *pos)
{
	if (query_cursor_decode_raw(text, n, QUERY_CURSOR_EDGE, pos->b, STORE_POS_SIZE) !=
	    STORE_POS_SIZE)
		return 0;
	pos->set = 1;
	return 1;
}

void
query_cursor_encode_offset(uint64_t offset, char out[QUERY_CURSOR_MAX])
{
	unsigned char raw[8];
	for (int i = 0; i < 8; i++) raw[i] = (unsigned char)(offset >> (56 - 8 * i));
	query_cursor_encode_raw(QUERY_CURSOR_OFFSET, raw, 8, out);
}

int
query_cursor_decode_offset(const char *text, size_t n, uint64_t *offset)
{
	unsigned char raw[8];
	if (query_cursor_decode_raw(text, n, QUERY_CURSOR_OFFSET, raw, 8) != 8) return 0;
	*offset = 0;
	for (int i = 0; i < 8; i++) *offset = (*offset << 8) | raw[i];
	return 1;
}
