/*
** cursor.c: the cursor codec.  A cursor is stateless: everything needed to
** resume is in the token, so paging costs O(page) and needs no server
** memory.  Layout: version (1 byte) | position (STORE_POS_SIZE bytes).
*/
#include "query/query.h"

#include <string.h>

#define CURSOR_VERSION 1

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
b64val(int c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

void
query_cursor_encode(const store_pos *pos, char out[QUERY_CURSOR_MAX])
{
	unsigned char raw[1 + STORE_POS_SIZE];
	size_t n = sizeof raw, o = 0;
	raw[0] = CURSOR_VERSION;
	memcpy(raw + 1, pos->b, STORE_POS_SIZE);
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

int
query_cursor_decode(const char *text, size_t n, store_pos *pos)
{
	unsigned char raw[1 + STORE_POS_SIZE];
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
	if (o != sizeof raw || acc != 0 || raw[0] != CURSOR_VERSION) return 0;
	memcpy(pos->b, raw + 1, STORE_POS_SIZE);
	pos->set = 1;
	return 1;
}
