/*
** test_keys.c: the LMDB layout byte for byte.  Each builder of core/keys.h
** against the bytes keys.h's table gives it, written out here by hand (a
** builder that changes one byte fails), the cut-and-hash rule of a long
** value, and kv_scan, the one walk over a prefix, in both directions.
*/
#include "tests/unit/check.h"
#include "core/store_int.h"

#define APP  "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define ID1  "101112131415161718191a1b1c1d1e1f"
#define ID2  "202122232425262728292a2b2c2d2e2f"
#define TIME "0102030405060708"               /* 0x0102030405060708 */
#define NOT_TIME "fefdfcfbfaf9f8f7"           /* its bits inverted */

static store_app app;
static store_id id1, id2;
static const uint64_t time0 = 0x0102030405060708ULL;

/* Hex text (spaces ignored) grown in a fixed pool: rep repeats a byte. */
static char pool[1 << 16];
static size_t pool_n;

static const char *
rep(const char *byte, size_t times)
{
	char *out = pool + pool_n;
	for (size_t i = 0; i < times; i++) memcpy(out + 2 * i, byte, 2);
	out[2 * times] = '\0';
	pool_n += 2 * times + 1;
	return out;
}

static const char *
cat(const char *a, const char *b, const char *c)
{
	char *out = pool + pool_n;
	int n = snprintf(out, sizeof pool - pool_n, "%s%s%s", a, b, c);
	pool_n += (size_t)n + 1;
	return out;
}

static void
key_is(const keybuf *k, const char *hex, int line)
{
	unsigned char want[KEY_MAX + 16];
	size_t n = 0;
	for (const char *p = hex; *p; p++) {
		if (*p == ' ') continue;
		unsigned v;
		if (sscanf(p, "%2x", &v) != 1 || n == sizeof want) {
			fprintf(stderr, "test_keys.c:%d: bad hex\n", line);
			exit(1);
		}
		want[n++] = (unsigned char)v;
		p++;
	}
	check_count++;
	if (k->overflow || k->n != n || memcmp(k->b, want, n) != 0) {
		fprintf(stderr, "test_keys.c:%d: key is ", line);
		for (size_t i = 0; i < k->n; i++) fprintf(stderr, "%02x", k->b[i]);
		fprintf(stderr, "%s\n  want %s\n", k->overflow ? " (overflow)" : "", hex);
		exit(1);
	}
}
#define KEY_IS(k, hex) key_is(&(k), hex, __LINE__)

static void
test_orgs_apps_entities(void)
{
	keybuf k;
	key_org_name(&k, S("MyOrg"));
	KEY_IS(k, "6e 6d796f7267");
	key_rec(&k, &id1);
	KEY_IS(k, "75" ID1);
	key_app_names(&k, &id1);
	KEY_IS(k, "6e" ID1);
	key_app_name(&k, &id1, S("App"));
	KEY_IS(k, "6e" ID1 "617070");
	key_entity(&k, &app, &id1);
	KEY_IS(k, APP ID1);
	key_app_keys(&k, -1, &app.uuid);
	KEY_IS(k, APP);
	key_app_keys(&k, 'p', &app.uuid);
	KEY_IS(k, "70" APP);
	key_unique(&k, &app, "user", "Email", "A@B");
	KEY_IS(k, APP "7573657200 656d61696c00 614062");
	key_lead(&k, 'u');
	KEY_IS(k, "75");
}

static void
test_edges(void)
{
	keybuf k;
	key_edge_kind(&k, &app, &id1, STORE_EDGE_COLLECTION);
	KEY_IS(k, APP ID1 "63");
	key_edge_head(&k, &app, &id1, STORE_EDGE_COLLECTION, "pets");
	KEY_IS(k, APP ID1 "63 7065747300");
	key_edge(&k, &app, &id1, STORE_EDGE_MEMBER_OF, "pets", time0, &id2);
	KEY_IS(k, APP ID1 "6d 7065747300" NOT_TIME ID2);
	key_edge_at(&k, &app, &id1, STORE_EDGE_OUT, "likes", &id2);
	KEY_IS(k, APP ID1 "6f 6c696b657300" ID2);
	key_count(&k, &app, &id1, STORE_EDGE_IN, "likes");
	KEY_IS(k, APP ID1 "69 6c696b6573");
	keybuf head;
	key_count_edges(&head, k.b, k.n);
	KEY_IS(head, APP ID1 "69 6c696b657300");
	key_init(&k);
	key_pos(&k, time0, &id2);
	KEY_IS(k, NOT_TIME ID2);
	key_init(&k);
	key_pos_bound(&k, time0, 0);
	KEY_IS(k, NOT_TIME);
	key_init(&k);
	key_pos_bound(&k, time0, 1);
	KEY_IS(k, cat(NOT_TIME, rep("ff", 17), ""));
}

static void
test_index(void)
{
	keybuf k;
	store_ix_value v = { .tag = STORE_IX_LONG, .l = 5 };
	key_ix_head(&k, &app, "thing", "a.b");
	KEY_IS(k, APP "7468696e6700 612e6200");
	CHECK(key_ix_entry(&k, &app, "thing", "a.b", &v, time0, &id2) == 0);
	KEY_IS(k, APP "7468696e6700 612e6200 20 8000000000000005" TIME ID2);
	v = (store_ix_value){ .tag = STORE_IX_DOUBLE, .d = 1.0 };
	key_init(&k);
	key_ix_value(&k, &v, KEY_IX_ENTRY);
	KEY_IS(k, "10 bff0000000000000");
	v.d = -2.5;
	key_init(&k);
	key_ix_value(&k, &v, KEY_IX_ENTRY);
	KEY_IS(k, "10 3ffbffffffffffff");
	v.d = -0.0;                          /* sorts as 0.0 */
	key_init(&k);
	key_ix_value(&k, &v, KEY_IX_ENTRY);
	KEY_IS(k, "10 8000000000000000");
	v = (store_ix_value){ .tag = STORE_IX_GEO, .d = 1.0, .d2 = -2.5 };
	key_init(&k);
	key_ix_value(&k, &v, KEY_IX_ENTRY);
	KEY_IS(k, "60 bff0000000000000 3ffbffffffffffff");
	v = (store_ix_value){ .tag = STORE_IX_BOOL, .b = 1 };
	key_init(&k);
	key_ix_value(&k, &v, KEY_IX_ENTRY);
	KEY_IS(k, "40 01");
	v = (store_ix_value){ .tag = STORE_IX_STRING, .s = "AbC", .n = 3 };
	key_init(&k);
	key_ix_value(&k, &v, KEY_IX_ENTRY);
	KEY_IS(k, "30 616263 00");
	key_init(&k);
	key_ix_value(&k, &v, KEY_IX_PREFIX);
	KEY_IS(k, "30 616263");
	v.tag = STORE_IX_WORD;
	key_init(&k);
	key_ix_value(&k, &v, KEY_IX_BOUND);
	KEY_IS(k, "50 616263 00");
	key_ix_flags(&k, &app, "thing", "a.b");
	KEY_IS(k, "70" APP "7468696e6700 612e62");
	/* a path too long to index cannot head a key */
	char path[STORE_INDEX_MAX_PATH + 2];
	memset(path, 'p', sizeof path - 1);
	path[sizeof path - 1] = '\0';
	key_ix_head(&k, &app, "thing", path);
	CHECK(k.overflow);
}

/* A string too long for its key: cut, then 0x00 and the hash of the whole
** lower-cased value, so an entry takes exactly KEY_MAX bytes. */
static void
test_cut(void)
{
	char a[601];
	keybuf k;
	memset(a, 'A', 600);
	a[600] = '\0';
	key_org_name(&k, (store_slice){ a, 600 });
	KEY_IS(k, cat("6e", rep("61", KEY_MAX - 1 - KEY_HASH_TAIL), "00 23a5c31121d69d9d"));
	store_ix_value v = { .tag = STORE_IX_STRING, .s = a, .n = 600 };
	CHECK(key_ix_entry(&k, &app, "t", "p", &v, time0, &id2) == 1);
	CHECK(k.n == KEY_MAX && !k.overflow);
	key_ix_head(&k, &app, "t", "p");
	CHECK(key_ix_value(&k, &v, KEY_IX_BOUND) == 1);      /* the cut prefix alone */
	CHECK(k.n == KEY_MAX - KEY_IX_TAIL - KEY_HASH_TAIL);
}

static void
test_other_families(void)
{
	keybuf k;
	unsigned char h[KEY_SHA256];
	memset(h, 0x33, sizeof h);
	const char *hash = rep("33", KEY_SHA256);

	key_secret(&k, &app, &id1, "password");
	KEY_IS(k, APP ID1 "70617373776f7264");
	key_client(&k, &id1);
	KEY_IS(k, ID1 ID1 "636c69656e74");
	key_dict(&k, &app, &id1, "permissions");
	KEY_IS(k, APP ID1 "7065726d697373696f6e7300");
	key_dict_value(&k, &app, &id1, "permissions", "get:/**");
	KEY_IS(k, APP ID1 "7065726d697373696f6e7300 6765743a2f2a2a");
	key_meta(&k, "schema");
	KEY_IS(k, "736368656d61");
	key_settings(&k, &app, "thing");
	KEY_IS(k, "43" APP "7468696e6700");
	key_reindex(&k, &app, "thing");
	KEY_IS(k, "52" APP "7468696e6700");
	key_counter_names(&k, &app);
	KEY_IS(k, APP "6e");
	key_counter_name(&k, &app, "a.b", 3);
	KEY_IS(k, APP "6e 612e62");
	key_counter_value(&k, &app, "a.b", 2, (int64_t)time0);
	KEY_IS(k, APP "76 612e6200 02" TIME);
	key_counter_value(&k, &app, "a.b", 2, -1);
	KEY_IS(k, APP "76 612e6200 02");
	key_counter_consumer(&k, &app, "reader", 6);
	KEY_IS(k, APP "71 726561646572");
	key_token_hash(&k, h);
	KEY_IS(k, cat("68", hash, ""));
	key_token_expiry(&k, (int64_t)time0, h);
	KEY_IS(k, cat("65" TIME, hash, ""));
	key_token_expiry(&k, (int64_t)time0, NULL);
	KEY_IS(k, "65" TIME);
	key_token_subject(&k, 3, &id1, &id2, h);
	KEY_IS(k, cat("73 03" ID1 ID2, hash, ""));
	key_feed(&k, &app, 'a', &id1);
	KEY_IS(k, APP "61" ID1);
	key_feed_shared(&k, &app, &id1, time0, &id2);
	KEY_IS(k, APP "73" ID1 NOT_TIME ID2);
	key_feed_spans(&k, &app, &id1, &id2);
	KEY_IS(k, APP "69" ID1 ID2);
	key_feed_span(&k, &app, &id1, &id2, time0);
	KEY_IS(k, APP "69" ID1 ID2 NOT_TIME);
	key_successor(&k);
	KEY_IS(k, APP "69" ID1 ID2 "fefdfcfbfaf9f8f8");
	val_u64(&k, time0);
	KEY_IS(k, TIME);
}

/* The decoders of feeds keys and values: each shape from bytes written out
** by hand, and what has none of the shapes refused. */
static void
test_feed_decoders(void)
{
	keybuf k;
	key_feed_parts f;
	store_id group;
	uint64_t time;
	static const unsigned char shared[57] = {
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad,
		0xae, 0xaf, 's',
		0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
		0x1e, 0x1f, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0xf7,
		0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d,
		0x2e, 0x2f };
	unsigned char b[64];

	CHECK(key_feed_parse(shared, sizeof shared, &f) && f.tag == 's' &&
	      memcmp(f.app.b, app.uuid.b, 16) == 0 && memcmp(f.id.b, id1.b, 16) == 0 &&
	      memcmp(f.other.b, id2.b, 16) == 0 && f.time == time0);
	memcpy(b, shared, 33);                            /* user id1, group id2, ~join */
	b[16] = 'i';
	memcpy(b + 33, shared + 41, 16);
	memcpy(b + 49, shared + 33, 8);
	CHECK(key_feed_parse(b, 57, &f) && f.tag == 'i' && memcmp(f.id.b, id1.b, 16) == 0 &&
	      memcmp(f.other.b, id2.b, 16) == 0 && f.time == time0);
	b[16] = 'a';                                      /* activity id1 */
	CHECK(key_feed_parse(b, 33, &f) && f.tag == 'a' && memcmp(f.id.b, id1.b, 16) == 0);
	CHECK(!key_feed_parse(b, 57, &f));                /* each tag has its one length */
	b[16] = 's';
	CHECK(!key_feed_parse(b, 33, &f) && !key_feed_parse(b, 56, &f));
	b[16] = 'x';
	CHECK(!key_feed_parse(b, 57, &f) && !key_feed_parse(b, 16, &f) && !key_feed_parse(b, 0, &f));
	/* what the builders write, the decoder reads back */
	key_feed_span(&k, &app, &id2, &id1, 42);
	CHECK(key_feed_parse(k.b, k.n, &f) && f.tag == 'i' && memcmp(f.id.b, id2.b, 16) == 0 &&
	      memcmp(f.other.b, id1.b, 16) == 0 && f.time == 42);
	/* a shared post's reverse: the group (16), then the time (8) */
	val_feed_shared(&k, &id1, time0);
	KEY_IS(k, ID1 TIME);
	CHECK(val_feed_shared_parse(k.b, k.n, &group, &time) &&
	      memcmp(group.b, id1.b, 16) == 0 && time == time0);
	CHECK(!val_feed_shared_parse(k.b, k.n - 1, &group, &time));
}

/* ---- kv_scan --------------------------------------------------------------- */

static store *db;

static void
put(store_txn *t, const char *key)
{
	keybuf k;
	key_meta(&k, key);
	CHECK_RC(kv_put(t, DBI_META, &k, key, strlen(key)), STORE_OK);
}

/* The keys a scan gives, joined by spaces. */
static const char *
walk(store_txn *t, const char *prefix, const char *from, int back, size_t max)
{
	static char out[256];
	kv_scan sc;
	keybuf p, f;
	size_t n = 0;
	key_meta(&p, prefix);
	if (from) key_meta(&f, from);
	out[0] = '\0';
	CHECK_RC(kv_scan_begin(&sc, t, DBI_META, &p, from ? &f : NULL, back), STORE_OK);
	while (n < max && kv_scan_next(&sc)) {
		CHECK(sc.k.mv_size == sc.v.mv_size && memcmp(sc.k.mv_data, sc.v.mv_data, sc.k.mv_size) == 0);
		size_t len = strlen(out);
		snprintf(out + len, sizeof out - len, "%s%.*s", n++ ? " " : "", (int)sc.k.mv_size,
		         (const char *)sc.k.mv_data);
	}
	CHECK_RC(kv_scan_end(&sc, STORE_OK), STORE_OK);
	return out;
}

static void
test_scan(void)
{
	char *dir = tmpdir_new();
	store_err err = { 0 };
	store_txn *t;
	CHECK_RC(store_open(dir, NULL, &db, &err), STORE_OK);
	CHECK_RC(store_txn_begin(db, STORE_TXN_WRITE, &t), STORE_OK);
	const char *keys[] = { "xa", "xb", "xb1", "xc", "xc\xff", "y", "x\xff\xff" };
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) put(t, keys[i]);

	static const struct {
		const char *prefix, *from;
		int back;
		size_t max;
		const char *want;
	} walks[] = {
		{ "x",  NULL,  0, 99, "xa xb xb1 xc xc\xff x\xff\xff" },
		{ "x",  NULL,  1, 99, "x\xff\xff xc\xff xc xb1 xb xa" },
		{ "xb", NULL,  0, 99, "xb xb1" },
		{ "xb", NULL,  1, 99, "xb1 xb" },
		{ "xc", NULL,  1, 99, "xc\xff xc" },
		{ "x",  "xb1", 0, 99, "xb1 xc xc\xff x\xff\xff" },
		{ "x",  "xb1", 1, 99, "xb xa" },                 /* the last key before */
		{ "x",  "xa",  1, 99, "" },
		{ "x",  "xz",  0, 99, "x\xff\xff" },
		{ "x",  NULL,  0, 2,  "xa xb" },
		{ "q",  NULL,  0, 99, "" },
		{ "q",  NULL,  1, 99, "" },
		{ "y",  NULL,  1, 99, "y" },
		{ "zz", NULL,  1, 99, "" },
		/* an empty prefix walks the whole database (here from "x", after
		** the store's own records "authkey" and "schema") */
		{ "",   "x",   0, 99, "xa xb xb1 xc xc\xff x\xff\xff y" },
	};
	for (size_t i = 0; i < sizeof walks / sizeof *walks; i++)
		CHECK_STR(walk(t, walks[i].prefix, walks[i].from, walks[i].back, walks[i].max),
		          walks[i].want);

	/* one that overflowed walks nothing */
	kv_scan sc;
	keybuf big;
	key_init(&big);
	for (int i = 0; i < KEY_MAX + 1; i++) key_u8(&big, 'x');
	CHECK(big.overflow);
	CHECK_RC(kv_scan_begin(&sc, t, DBI_META, &big, NULL, 0), STORE_OK);
	CHECK(!kv_scan_next(&sc));
	CHECK_RC(kv_scan_end(&sc, STORE_OK), STORE_OK);
	/* the caller's error wins over the walk's outcome */
	CHECK_RC(kv_scan_begin(&sc, t, DBI_META, &big, NULL, 0), STORE_OK);
	CHECK_RC(kv_scan_end(&sc, STORE_CORRUPT), STORE_CORRUPT);

	/* a seek moves the next step; forward past every key of "xb" */
	keybuf p, at;
	key_meta(&p, "x");
	key_meta(&at, "xb\x01");
	CHECK_RC(kv_scan_begin(&sc, t, DBI_META, &p, NULL, 0), STORE_OK);
	CHECK(kv_scan_next(&sc) && sc.k.mv_size == 2);             /* xa */
	kv_scan_seek(&sc, &at);
	CHECK(kv_scan_next(&sc) && memcmp(sc.k.mv_data, "xb1", 3) == 0);
	CHECK(kv_scan_next(&sc) && sc.k.mv_size == 2 && memcmp(sc.k.mv_data, "xc", 2) == 0);
	CHECK_RC(kv_scan_end(&sc, STORE_OK), STORE_OK);

	/* deleting as it goes: every other key, then the last key of all */
	CHECK_RC(kv_scan_begin(&sc, t, DBI_META, &p, NULL, 0), STORE_OK);
	for (int i = 0; kv_scan_next(&sc); i++)
		if (i % 2 == 0) CHECK_RC(kv_scan_del(&sc), STORE_OK);
	CHECK_RC(kv_scan_end(&sc, STORE_OK), STORE_OK);
	CHECK_STR(walk(t, "x", NULL, 0, 99), "xb xc x\xff\xff");
	CHECK_RC(kv_del_prefix(t, DBI_META, &p), STORE_OK);
	CHECK_STR(walk(t, "x", NULL, 0, 99), "");
	key_meta(&p, "y");
	CHECK_RC(kv_del_prefix(t, DBI_META, &p), STORE_OK);          /* the last key */
	CHECK_STR(walk(t, "", "x", 0, 99), "");
	put(t, "xa");
	put(t, "xb");
	key_meta(&p, "x");
	CHECK_RC(kv_scan_begin(&sc, t, DBI_META, &p, NULL, 1), STORE_OK);   /* back */
	while (kv_scan_next(&sc)) CHECK_RC(kv_scan_del(&sc), STORE_OK);
	CHECK_RC(kv_scan_end(&sc, STORE_OK), STORE_OK);
	CHECK_STR(walk(t, "x", NULL, 0, 99), "");

	/* an 8-byte value, read back; one of another size is corrupt and
	** leaves *out as it was; none is NOTFOUND */
	uint64_t got = 7;
	key_meta(&p, "u64");
	CHECK_RC(kv_put_u64(t, DBI_META, &p, 0x0102030405060708ull), STORE_OK);
	CHECK_RC(kv_get_u64(t, DBI_META, &p, &got), STORE_OK);
	CHECK(got == 0x0102030405060708ull);
	CHECK_RC(kv_put(t, DBI_META, &p, "1234567", 7), STORE_OK);
	got = 7;
	CHECK_RC(kv_get_u64(t, DBI_META, &p, &got), STORE_CORRUPT);
	CHECK(got == 7);
	key_meta(&p, "u65");
	CHECK_RC(kv_get_u64(t, DBI_META, &p, &got), STORE_NOTFOUND);
	CHECK(got == 7);
	store_txn_abort(t);
	store_close(db);
	tmpdir_remove(dir);
}

int
main(void)
{
	for (int i = 0; i < 16; i++) {
		app.uuid.b[i] = (unsigned char)(0xa0 + i);
		id1.b[i] = (unsigned char)(0x10 + i);
		id2.b[i] = (unsigned char)(0x20 + i);
	}
	test_orgs_apps_entities();
	test_edges();
	test_index();
	test_cut();
	test_other_families();
	test_feed_decoders();
	test_scan();
	printf("test_keys: %d checks\n", check_count);
	return 0;
}
