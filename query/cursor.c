/*
** cursor.c: the cursor codec.  A cursor is stateless: everything needed to
** resume is in the token, so paging needs no server memory.  Layout:
** kind (1 byte) | payload, base64url without padding.  Kinds:
**   1  a position in an edge listing (STORE_POS_SIZE bytes)
**   2  an offset into a sorted result (8 bytes)
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

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
b64val(int c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

void
query_cursor_encode_raw(int kind, const void *data, size_t n, char out[QUERY_CURSOR_MAX])
{
	unsigned char raw[QUERY_CURSOR_RAW_MAX + 1];
	size_t o = 0;
	if (n > QUERY_CURSOR_RAW_MAX) n = QUERY_CURSOR_RAW_MAX;
	raw[0] = (unsigned char)kind;
	memcpy(raw + 1, data, n);
	n++;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)raw[i] << 16;
		if (i + 1 < n) v |= (unsigned)raw[i + 1] << 8;
		if (i + 2 < n) v |= raw[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		if (i + 1 < n) out[o++] = b64[(v >> 6) & 63];
		if (i + 2 < n) out[o++] = b64[v & 63];
	}
	out[o] = '\0';
}

size_t
query_cursor_decode_raw(const char *text, size_t n, int kind, void *data, size_t cap)
{
	unsigned char raw[QUERY_CURSOR_RAW_MAX + 1];
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)text[i]);
		if (v < 0) return 0;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == sizeof raw) return 0;
			raw[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0 || o < 2 || raw[0] != kind || o - 1 > cap) return 0;
	memcpy(data, raw + 1, o - 1);
	return o - 1;
}

int
query_cursor_kind(const char *text)
{
	int a = b64val((unsigned char)text[0]), b = a < 0 ? -1 : b64val((unsigned char)text[1]);
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
