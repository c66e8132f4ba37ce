/*
** cursor.c: the cursor codec.  A cursor is stateless: everything needed to
** resume is in the token, so paging costs O(page) and needs no server
** memory.  Layout: kind (1 byte) | payload: a scan position
** (STORE_POS_SIZE bytes) or an offset into a sorted result (8 bytes).
*/
#include "query/query.h"

#include <string.h>

#define CURSOR_POSITION 1   /* payload: a store_pos */
#define CURSOR_OFFSET   2   /* payload: 8-byte offset into a sorted result */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
b64val(int c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

static void
encode(const unsigned char *raw, size_t n, char out[QUERY_CURSOR_MAX])
{
	size_t o = 0;
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

/* Decodes into raw; returns the byte count, 0 when malformed. */
static size_t
decode(const char *text, size_t n, unsigned char raw[1 + STORE_POS_SIZE])
{
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
			if (o == 1 + STORE_POS_SIZE) return 0;
			raw[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return acc == 0 ? o : 0;
}

void
query_cursor_encode(const store_pos *pos, char out[QUERY_CURSOR_MAX])
{
	unsigned char raw[1 + STORE_POS_SIZE];
	raw[0] = CURSOR_POSITION;
	memcpy(raw + 1, pos->b, STORE_POS_SIZE);
	encode(raw, sizeof raw, out);
}

int
query_cursor_decode(const char *text, size_t n, store_pos *pos)
{
	unsigned char raw[1 + STORE_POS_SIZE];
	if (decode(text, n, raw) != sizeof raw || raw[0] != CURSOR_POSITION) return 0;
	memcpy(pos->b, raw + 1, STORE_POS_SIZE);
	pos->set = 1;
	return 1;
}

void
query_cursor_encode_offset(uint64_t offset, char out[QUERY_CURSOR_MAX])
{
	unsigned char raw[9];
	raw[0] = CURSOR_OFFSET;
	for (int i = 0; i < 8; i++) raw[1 + i] = (unsigned char)(offset >> (56 - 8 * i));
	encode(raw, sizeof raw, out);
}

int
query_cursor_decode_offset(const char *text, size_t n, uint64_t *offset)
{
	unsigned char raw[1 + STORE_POS_SIZE];
	if (decode(text, n, raw) != 9 || raw[0] != CURSOR_OFFSET) return 0;
	*offset = 0;
	for (int i = 0; i < 8; i++) *offset = (*offset << 8) | raw[1 + i];
	return 1;
}
