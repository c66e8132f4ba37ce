/*
** test_cursor.c: the cursor codec (query/cursor.c) and the TIME cursor's
** payload (stamp_encode/stamp_decode in query/source.c).  A cursor is a
** kind byte and a payload, base64url without padding: every token the
** codec writes reads back to the same kind and bytes, and a token of
** another kind, a cut or padded one, or one that is not base64url at all
** reads as malformed (0), never as some other position.
*/
#include "tests/unit/check.h"

#include "query/exec_int.h"

/* Every kind round-trips its payload, and its first two characters name
** the kind. */
static void
test_raw_round_trip(void)
{
	unsigned char data[QUERY_CURSOR_RAW_MAX], back[QUERY_CURSOR_RAW_MAX];
	char tok[QUERY_CURSOR_MAX];
	for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 37 + 11);
	for (int kind = QUERY_CURSOR_EDGE; kind <= QUERY_CURSOR_SORTREF; kind++) {
		size_t sizes[] = { 1, 2, 3, 24, 100, QUERY_CURSOR_RAW_MAX };
		for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
			size_t n = sizes[k];
			query_cursor_encode_raw(kind, data, n, tok);
			CHECK(strlen(tok) < QUERY_CURSOR_MAX);
			CHECK(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			                  "0123456789-_") == strlen(tok));   /* URL-safe, no '=' */
			CHECK(query_cursor_kind(tok) == kind);
			memset(back, 0, sizeof back);
			CHECK(query_cursor_decode_raw(tok, strlen(tok), kind, back, sizeof back) == n);
			CHECK(memcmp(back, data, n) == 0);
			/* another kind's reader refuses it */
			int other = kind == QUERY_CURSOR_EDGE ? QUERY_CURSOR_TIME : QUERY_CURSOR_EDGE;
			CHECK(query_cursor_decode_raw(tok, strlen(tok), other, back, sizeof back) == 0);
			/* a reader with less room than the payload refuses it */
			CHECK(query_cursor_decode_raw(tok, strlen(tok), kind, back, n - 1) == 0);
		}
	}
}

/* A payload longer than a token holds is cut to QUERY_CURSOR_RAW_MAX. */
static void
test_raw_cut(void)
{
	unsigned char data[QUERY_CURSOR_RAW_MAX + 50], back[QUERY_CURSOR_RAW_MAX + 50];
	char tok[QUERY_CURSOR_MAX];
	memset(data, 0xab, sizeof data);
	query_cursor_encode_raw(QUERY_CURSOR_INDEX, data, sizeof data, tok);
	CHECK(query_cursor_decode_raw(tok, strlen(tok), QUERY_CURSOR_INDEX, back, sizeof back) ==
	      QUERY_CURSOR_RAW_MAX);
}

/* Tokens that are not a cursor: empty, kind only, not base64url, cut
** mid-character, padded, a kind byte of 0. */
static void
test_malformed(void)
{
	unsigned char back[QUERY_CURSOR_RAW_MAX];
	char tok[QUERY_CURSOR_MAX];
	const unsigned char one = 7;
	store_pos pos;
	uint64_t off;

	CHECK(query_cursor_kind("") == 0);
	CHECK(query_cursor_kind("A") == 0);
	CHECK(query_cursor_kind("!!") == 0);
	CHECK(query_cursor_kind("A!") == 0);
	CHECK(query_cursor_decode_raw("", 0, QUERY_CURSOR_EDGE, back, sizeof back) == 0);
	/* the kind byte alone: no payload */
	query_cursor_encode_raw(QUERY_CURSOR_EDGE, &one, 0, tok);
	CHECK(query_cursor_kind(tok) == QUERY_CURSOR_EDGE);
	CHECK(query_cursor_decode_raw(tok, strlen(tok), QUERY_CURSOR_EDGE, back, sizeof back) == 0);
	/* characters outside base64url, padding, and a cut token */
	query_cursor_encode_raw(QUERY_CURSOR_EDGE, &one, 1, tok);
	CHECK(query_cursor_decode_raw(tok, strlen(tok), QUERY_CURSOR_EDGE, back, sizeof back) == 1);
	char bad[QUERY_CURSOR_MAX + 4];
	snprintf(bad, sizeof bad, "%s==", tok);
	CHECK(query_cursor_decode_raw(bad, strlen(bad), QUERY_CURSOR_EDGE, back, sizeof back) == 0);
	snprintf(bad, sizeof bad, "%s", tok);
	bad[1] = '+';
	CHECK(query_cursor_decode_raw(bad, strlen(bad), QUERY_CURSOR_EDGE, back, sizeof back) == 0);
	bad[1] = '/';
	CHECK(query_cursor_decode_raw(bad, strlen(bad), QUERY_CURSOR_EDGE, back, sizeof back) == 0);
	CHECK(query_cursor_decode_raw(tok, 1, QUERY_CURSOR_EDGE, back, sizeof back) == 0);
	/* a position or an offset token of the wrong length */
	CHECK(query_cursor_decode(tok, strlen(tok), &pos) == 0);
	CHECK(query_cursor_decode_offset(tok, strlen(tok), &off) == 0);
	CHECK(query_cursor_decode("not a cursor", 12, &pos) == 0);
}

/* Edge positions and offsets, through their own codecs. */
static void
test_positions_and_offsets(void)
{
	char tok[QUERY_CURSOR_MAX];
	store_pos pos = { .set = 0 }, back = { .set = 0 };
	uint64_t offsets[] = { 0, 1, 255, 256, 1u << 31, UINT64_MAX - 1, UINT64_MAX }, off;

	for (int i = 0; i < STORE_POS_SIZE; i++) pos.b[i] = (unsigned char)(0xf0 ^ i);
	query_cursor_encode(&pos, tok);
	CHECK(query_cursor_kind(tok) == QUERY_CURSOR_EDGE);
	CHECK(query_cursor_decode(tok, strlen(tok), &back) == 1);
	CHECK(back.set == 1);
	CHECK(memcmp(back.b, pos.b, STORE_POS_SIZE) == 0);
	CHECK(query_cursor_decode_offset(tok, strlen(tok), &off) == 0);   /* not an offset */

	for (size_t i = 0; i < sizeof offsets / sizeof *offsets; i++) {
		query_cursor_encode_offset(offsets[i], tok);
		CHECK(query_cursor_kind(tok) == QUERY_CURSOR_OFFSET);
		CHECK(query_cursor_decode_offset(tok, strlen(tok), &off) == 1);
		CHECK(off == offsets[i]);
		CHECK(query_cursor_decode(tok, strlen(tok), &back) == 0);   /* not a position */
	}
}

/* The TIME cursor: 8 bytes of big-endian time, then the uuid. */
static void
test_stamps(void)
{
	unsigned char raw[24];
	char tok[QUERY_CURSOR_MAX];
	stamp st = { .time = 0x0102030405060708ull }, back;
	for (int i = 0; i < 16; i++) st.id.b[i] = (unsigned char)(0xa0 + i);
	stamp_encode(&st, raw);
	CHECK(raw[0] == 0x01 && raw[7] == 0x08 && raw[8] == 0xa0 && raw[23] == 0xaf);
	query_cursor_encode_raw(QUERY_CURSOR_TIME, raw, 24, tok);
	CHECK(stamp_decode(tok, &back) == 1);
	CHECK(back.time == st.time);
	CHECK(memcmp(back.id.b, st.id.b, 16) == 0);
	/* 23 bytes, or an edge position of the same size, is not a stamp */
	query_cursor_encode_raw(QUERY_CURSOR_TIME, raw, 23, tok);
	CHECK(stamp_decode(tok, &back) == 0);
	query_cursor_encode_raw(QUERY_CURSOR_EDGE, raw, 24, tok);
	CHECK(stamp_decode(tok, &back) == 0);
}

int
main(void)
{
	test_raw_round_trip();
	test_raw_cut();
	test_malformed();
	test_positions_and_offsets();
	test_stamps();
	printf("test_cursor: %d checks\n", check_count);
	return 0;
}
