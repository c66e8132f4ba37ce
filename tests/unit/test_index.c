/*
** test_index.c: the property indexes: exact entries after create, update,
** touch and delete (no stale key survives), typed values, words, arrays
** and nested paths, range bounds, ordering across types, and positions;
** selective indexing (`fields`) and its reindex.
*/
#include "tests/unit/check.h"
#include "core/store_int.h"        /* kv_put: an entity made unreadable */

static store *db;
static store_app app;
static store_txn *t;

static store_id
make(const char *json)
{
	json_t *body = json_loads(json, 0, NULL), *e = NULL;
	store_err err = { 0 };
	store_id id;
	CHECK(body);
	CHECK_RC(store_entity_create(t, &app, "thing", body, NULL, &e, &err), STORE_OK);
	CHECK(store_id_parse(S(json_string_value(json_object_get(e, "uuid"))), &id));
	json_decref(body);
	json_decref(e);
	return id;
}

static void
update(const store_id *id, const char *json)
{
	json_t *body = json_loads(json, 0, NULL), *e = NULL;
	store_err err = { 0 };
	CHECK_RC(store_entity_update(t, &app, id, body, &e, &err), STORE_OK);
	json_decref(body);
	json_decref(e);
}

static size_t
count_r(const store_ix_range *r)
{
	size_t n;
	CHECK_RC(store_index_count(t, &app, r, 1000, &n), STORE_OK);
	return n;
}

static size_t
count_path(const char *path)
{
	store_ix_range r = { .type = "thing", .path = path };
	size_t all = count_r(&r);
	r.tag = STORE_IX_WORD;
	return all + count_r(&r);
}

static size_t
count_eq(const char *path, store_ix_value v)
{
	store_ix_range r = { .type = "thing", .path = path, .tag = v.tag, .lo = &v, .hi = &v,
	                     .lo_incl = 1, .hi_incl = 1 };
	return count_r(&r);
}

static store_ix_value
L(int64_t l)
{
	return (store_ix_value){ .tag = STORE_IX_LONG, .l = l };
}

static store_ix_value
W(const char *s)
{
	return (store_ix_value){ .tag = STORE_IX_WORD, .s = s, .n = strlen(s) };
}

static store_ix_value
STR(const char *s)
{
	return (store_ix_value){ .tag = STORE_IX_STRING, .s = s, .n = strlen(s) };
}

/* The "v" values of a scan, as longs, into out. */
static size_t
scan_v(store_ix_range *r, int64_t *out, store_id *order)
{
	store_id ids[32];
	size_t n;
	CHECK_RC(store_index_scan(t, &app, r, NULL, 32, ids, NULL, NULL, &n), STORE_OK);
	for (size_t i = 0; i < n; i++) {
		json_t *e = NULL;
		CHECK_RC(store_entity_get(t, &app, &ids[i], &e), STORE_OK);
		out[i] = json_integer_value(json_object_get(e, "v"));
		if (order) order[i] = ids[i];
		json_decref(e);
	}
	return n;
}

static void
test_lifecycle(void)
{
	store_id id = make("{\"A\":5,\"s\":\"Hello World\",\"arr\":[1,2,[3]],"
	                   "\"n\":{\"X\":1.5,\"deep\":{\"b\":true}},\"z\":null}");
	store_ix_value d15 = { .tag = STORE_IX_DOUBLE, .d = 1.5 };
	store_ix_value bt = { .tag = STORE_IX_BOOL, .b = 1 };

	CHECK(count_eq("a", L(5)) == 1);            /* names lower-cased */
	CHECK(count_eq("s", STR("hello world")) == 1);
	CHECK(count_eq("s", STR("HELLO WORLD")) == 1);
	CHECK(count_eq("s", W("hello")) == 1 && count_eq("s", W("world")) == 1);
	CHECK(count_eq("arr", L(1)) == 1 && count_eq("arr", L(2)) == 1);
	CHECK(count_eq("arr", L(3)) == 0);          /* arrays of arrays: not looked into */
	CHECK(store_index_flags(t, &app, "thing", "arr") == STORE_IXF_MULTI);
	CHECK(store_index_flags(t, &app, "thing", "a") == 0);
	CHECK(count_eq("n.x", d15) == 1);
	CHECK(count_eq("n.deep.b", bt) == 1);
	CHECK(count_path("z") == 0);
	CHECK(count_eq("a", (store_ix_value){ .tag = STORE_IX_DOUBLE, .d = 5 }) == 0); /* typed */

	update(&id, "{\"a\":6,\"s\":\"bye\",\"arr\":null}");
	CHECK(count_eq("a", L(5)) == 0 && count_eq("a", L(6)) == 1);
	CHECK(count_path("a") == 1);
	CHECK(count_eq("s", W("hello")) == 0 && count_eq("s", W("bye")) == 1);
	CHECK(count_path("s") == 2);                /* the value and its one word */
	CHECK(count_path("arr") == 0);
	CHECK(count_eq("n.x", d15) == 1);           /* untouched */

	CHECK_RC(store_entity_delete(t, &app, &id, NULL, NULL), STORE_OK);
	const char *paths[] = { "a", "s", "arr", "n.x", "n.deep.b", "uuid", "type", "created" };
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) CHECK(count_path(paths[i]) == 0);
}

static void
test_order_and_ranges(void)
{
	int64_t got[32];
	store_id a = make("{\"v\":3}"), b = make("{\"v\":1}"), c = make("{\"v\":2}");
	store_id ids[32];
	(void)a; (void)c;
	make("{\"v\":\"str\"}");
	make("{\"v\":2.5}");
	make("{\"v\":false}");

	/* every scalar: doubles, longs, strings, booleans */
	store_ix_range all = { .type = "thing", .path = "v" };
	store_id order[32];
	size_t n = scan_v(&all, got, order);
	CHECK(n == 6);
	json_t *e = NULL;
	CHECK_RC(store_entity_get(t, &app, &order[0], &e), STORE_OK);
	CHECK(json_is_real(json_object_get(e, "v")));
	json_decref(e);
	CHECK(got[1] == 1 && got[2] == 2 && got[3] == 3);
	all.desc = 1;
	n = scan_v(&all, got, NULL);
	CHECK(n == 6 && got[2] == 3 && got[3] == 2 && got[4] == 1);

	store_ix_value one = L(1), three = L(3);
	store_ix_range r = { .type = "thing", .path = "v", .tag = STORE_IX_LONG, .lo = &one };
	CHECK(scan_v(&r, got, NULL) == 2 && got[0] == 2 && got[1] == 3);   /* > 1 */
	r.lo_incl = 1;
	CHECK(scan_v(&r, got, NULL) == 3);                                 /* >= 1 */
	r.hi = &three;
	CHECK(scan_v(&r, got, NULL) == 2);                                 /* >= 1 < 3 */
	r.hi_incl = 1;
	r.desc = 1;
	CHECK(scan_v(&r, got, NULL) == 3 && got[0] == 3 && got[2] == 1);   /* <= 3 desc */
	r.lo = NULL;
	r.lo_incl = 0;
	r.desc = 0;
	CHECK(scan_v(&r, got, NULL) == 3);                                 /* <= 3 */

	/* string prefixes and equality newest first */
	store_id s1 = make("{\"name\":\"fred\",\"k\":\"x\"}");
	make("{\"name\":\"Freddie\",\"k\":\"x\"}");
	make("{\"name\":\"frank\",\"k\":\"x\"}");
	store_ix_value fre = STR("fre");
	store_ix_range p = { .type = "thing", .path = "name", .tag = STORE_IX_STRING, .lo = &fre,
	                     .prefix = 1 };
	CHECK(count_r(&p) == 2);
	store_ix_value x = STR("x");
	store_ix_range eqr = { .type = "thing", .path = "k", .tag = STORE_IX_STRING, .lo = &x,
	                       .hi = &x, .lo_incl = 1, .hi_incl = 1, .desc = 1 };
	CHECK_RC(store_index_scan(t, &app, &eqr, NULL, 32, ids, NULL, NULL, &n), STORE_OK);
	CHECK(n == 3 && memcmp(ids[2].b, s1.b, 16) == 0);                  /* oldest last */
	/* touch moves it to the newest end */
	CHECK_RC(store_entity_touch(t, &app, &s1), STORE_OK);
	CHECK_RC(store_index_scan(t, &app, &eqr, NULL, 32, ids, NULL, NULL, &n), STORE_OK);
	CHECK(n == 3 && memcmp(ids[0].b, s1.b, 16) == 0);

	/* positions resume a scan exactly */
	store_ix_pos poss[32];
	CHECK_RC(store_index_scan(t, &app, &eqr, NULL, 1, ids, poss, NULL, &n), STORE_OK);
	CHECK(n == 1);
	store_id rest[32];
	CHECK_RC(store_index_scan(t, &app, &eqr, &poss[0], 32, rest, NULL, NULL, &n), STORE_OK);
	CHECK(n == 2 && memcmp(rest[0].b, ids[0].b, 16) != 0);
	CHECK(store_index_pos_is(&app, "thing", "k", &poss[0], &x));
	CHECK(!store_index_pos_is(&app, "thing", "k", &poss[0], &fre));
	(void)b;
}

static void
test_long_values(void)
{
	char *big = malloc(3000), *json = malloc(3100);
	memset(big, 'q', 2999);
	big[2999] = '\0';
	snprintf(json, 3100, "{\"long\":\"%s\"}", big);
	store_id id = make(json);
	CHECK(count_eq("long", STR(big)) == 1);          /* cut + hash, same key */
	big[2998] = 'r';     /* past the cut: a bound widens to the cut prefix */
	CHECK(count_eq("long", STR(big)) == 1);
	big[0] = 'r';
	CHECK(count_eq("long", STR(big)) == 0);
	CHECK(store_index_flags(t, &app, "thing", "long") == STORE_IXF_LONG);
	CHECK(store_index_flags(t, &app, "thing", "v") == 0);
	CHECK_RC(store_entity_delete(t, &app, &id, NULL, NULL), STORE_OK);
	CHECK(count_path("long") == 0);
	free(big);
	free(json);
}

/* A gadget (its own collection, so the other tests' things do not count). */
static void
gadget(int i)
{
	char json[160];
	json_t *e = NULL;
	store_err err = { 0 };
	snprintf(json, sizeof json, "{\"a\":{\"b\":%d,\"c\":%d},\"d\":\"word%d\","
	         "\"loc\":{\"latitude\":1,\"longitude\":2}}", i, i, i);
	json_t *body = json_loads(json, 0, NULL);
	CHECK_RC(store_entity_create(t, &app, "gadget", body, NULL, &e, &err), STORE_OK);
	json_decref(body);
	json_decref(e);
}

static size_t
gadget_entries(const char *path)
{
	size_t n, w;
	store_ix_range r = { .type = "gadget", .path = path };
	CHECK_RC(store_index_count(t, &app, &r, 1000, &n), STORE_OK);
	r.tag = STORE_IX_WORD;
	CHECK_RC(store_index_count(t, &app, &r, 1000, &w), STORE_OK);
	return n + w;
}

static int
off(const char *path)
{
	return (store_index_flags(t, &app, "gadget", path) & STORE_IXF_OFF) != 0;
}

/* Sets gadgets' fields; *reindexing gets whether a reindex is recorded. */
static void
set_fields(const char *json, int *reindexing)
{
	json_t *body = json_loads(json, 0, NULL), *rec = NULL;
	store_err err = { 0 };
	CHECK_RC(store_settings_set(t, &app, "gadget", body, 1, "test", &rec, &err), STORE_OK);
	*reindexing = json_object_get(rec, "reindexing") != NULL;
	json_decref(body);
	json_decref(rec);
}

/* Runs the reindex in its own transactions, as the server's thread does. */
static void
reindex(void)
{
	uint64_t steps = 0;
	CHECK_RC(store_txn_commit(t), STORE_OK);
	CHECK_RC(store_reindex_finish(db, &steps), STORE_OK);
	CHECK(steps >= 1);
	CHECK_RC(store_txn_begin(db, STORE_TXN_WRITE, &t), STORE_OK);
}

/* fields: only a listed path and the paths below it get entries; until a
** change's reindex has run, a path it adds drives no query (OFF) and what
** it drops keeps its entries, which the reindex removes. */
static void
test_fields(void)
{
	int busy;
	json_t *rec = NULL;
	for (int i = 0; i < 3; i++) gadget(i);
	CHECK(gadget_entries("d") == 6 && gadget_entries("a.c") == 3 && gadget_entries("loc.latitude") == 3);
	set_fields("{\"fields\":[\"A.b\", \"loc\"]}", &busy);
	CHECK(busy);
	CHECK(!off("a.b") && !off("loc") && !off("loc.latitude"));   /* every entity has them */
	CHECK(off("d") && off("a") && off("a.c"));
	gadget(3);                                 /* a write indexes the listed paths only */
	CHECK(gadget_entries("a.b") == 4 && gadget_entries("d") == 6);
	reindex();
	CHECK(gadget_entries("a.b") == 4 && gadget_entries("loc.latitude") == 4);
	CHECK(gadget_entries("d") == 0 && gadget_entries("a.c") == 0);
	CHECK_RC(store_settings_get(t, &app, "gadget", &rec), STORE_OK);
	CHECK(json_integer_value(json_object_get(rec, "lastReindexed")) > 0);
	CHECK(!json_object_get(rec, "reindexing"));
	json_decref(rec);

	set_fields("{\"fields\":\"all\"}", &busy);
	CHECK(busy && off("d") && !off("a.b"));      /* d is not built yet */
	gadget(4);
	CHECK(gadget_entries("d") == 2);
	reindex();
	CHECK(!off("d") && gadget_entries("d") == 10 && gadget_entries("a.c") == 5);

	set_fields("{\"fields\":\"none\"}", &busy);
	set_fields("{\"fields\":[\"d\"]}", &busy);  /* a change while one is pending */
	CHECK(off("d") && off("a.b"));
	reindex();
	CHECK(!off("d") && gadget_entries("d") == 10 && gadget_entries("a.b") == 0);
	set_fields("{\"fields\":[\"D\"]}", &busy);  /* the same list: nothing to do */
	CHECK(!busy);
}

/* Sets the fields of type's collection to json. */
static void
fields_of(const char *type, const char *json)
{
	json_t *body = json_loads(json, 0, NULL), *rec = NULL;
	store_err err = { 0 };
	CHECK_RC(store_settings_set(t, &app, type, body, 1, "test", &rec, &err), STORE_OK);
	json_decref(body);
	json_decref(rec);
}

/* The "reindexing" of type's settings (new reference), or NULL. */
static json_t *
reindexing(const char *type)
{
	json_t *rec = NULL;
	CHECK_RC(store_settings_get(t, &app, type, &rec), STORE_OK);
	json_t *r = json_incref(json_object_get(rec, "reindexing"));
	json_decref(rec);
	return r;
}

/* A reindex that fails (here on an entity it cannot read) keeps its
** record with the failure in it and no longer holds up the reindexes of
** other collections; a change of its fields tries it again at once. */
static void
test_reindex_failure(void)
{
	json_t *body = json_loads("{\"name\":\"b1\",\"size\":3}", 0, NULL), *e = NULL, *r;
	store_err err = { 0 };
	store_id bad;
	keybuf k;
	uint64_t steps;

	CHECK_RC(store_entity_create(t, &app, "bolt", body, NULL, &e, &err), STORE_OK);
	CHECK_RC(store_entity_id(e, &bad), STORE_OK);
	json_decref(e);
	CHECK_RC(store_entity_create(t, &app, "widget", body, NULL, &e, &err), STORE_OK);
	json_decref(e);
	json_decref(body);
	key_entity(&k, &app, &bad);
	CHECK_RC(kv_put(t, DBI_ENTITIES, &k, "{not json", 9), STORE_OK);
	fields_of("bolt", "{\"fields\":[\"size\"]}");     /* 'R' app bolt: the first record */
	fields_of("widget", "{\"fields\":[\"size\"]}");
	CHECK_RC(store_txn_commit(t), STORE_OK);
	CHECK_RC(store_reindex_finish(db, &steps), STORE_CORRUPT);   /* said, after the others */
	CHECK_RC(store_txn_begin(db, STORE_TXN_WRITE, &t), STORE_OK);
	CHECK(!(r = reindexing("widget")));
	r = reindexing("bolt");
	CHECK(r && strcmp(json_string_value(json_object_get(json_object_get(r, "failed"), "error")),
	                  store_strerror(STORE_CORRUPT)) == 0);
	CHECK(json_integer_value(json_object_get(json_object_get(r, "failed"), "at")) > 0);
	json_decref(r);
	/* held back until STORE_REINDEX_RETRY_MS pass: nothing to step now */
	int more = 1;
	CHECK_RC(store_txn_commit(t), STORE_OK);
	CHECK_RC(store_reindex_step(db, &more, &err), STORE_OK);
	CHECK(more == 0);
	CHECK_RC(store_txn_begin(db, STORE_TXN_WRITE, &t), STORE_OK);
	/* mended, and asked again by a change: it runs to its end */
	CHECK_RC(kv_del(t, DBI_ENTITIES, &k), STORE_OK);
	fields_of("bolt", "{\"fields\":[\"name\"]}");
	reindex();
	CHECK(!(r = reindexing("bolt")));
}

int
main(void)
{
	char *dir = fixture_open(&db, &t, &app);

	test_lifecycle();
	test_order_and_ranges();
	test_long_values();
	test_fields();
	test_reindex_failure();
	fixture_close(dir, db, t);
	printf("test_index: %d checks\n", check_count);
	return 0;
}
