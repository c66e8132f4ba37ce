/*
** test_store.c: the entity engine against a fresh LMDB directory: orgs and
** apps, entity create/read/find/update/put/delete, unique values, edges,
** counts and listing order, nested transactions, reopen.
*/
#include "tests/unit/check.h"
#include "core/store_int.h"         /* kv_put_json: an app record rewritten */

#include <time.h>

static store *db;
static store_app app;

static store_txn *
wtxn(void)
{
	store_txn *t;
	CHECK_RC(store_txn_begin(db, STORE_TXN_WRITE, &t), STORE_OK);
	return t;
}

static store_txn *
rtxn(void)
{
	store_txn *t;
	CHECK_RC(store_txn_begin(db, STORE_TXN_READ, &t), STORE_OK);
	return t;
}

static store_id
id_of(json_t *e)
{
	store_id id;
	const char *s = json_string_value(json_object_get(e, "uuid"));
	CHECK(s && store_id_parse(S(s), &id));
	return id;
}

static json_t *
create(store_txn *t, const char *type, const char *json, store_rc want)
{
	json_t *body = json_loads(json, 0, NULL), *e = NULL;
	store_err err = { 0 };
	CHECK(body);
	CHECK_RC(store_entity_create(t, &app, type, body, NULL, &e, &err), want);
	json_decref(body);
	return e;
}

/* 60-bit count of 100 ns since 1582-10-15 of a version 1 uuid. */
static uint64_t
id_time(const store_id *id)
{
	const unsigned char *b = id->b;
	return (uint64_t)(b[6] & 0x0f) << 56 | (uint64_t)b[7] << 48 | (uint64_t)b[4] << 40 |
	       (uint64_t)b[5] << 32 | (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 |
	       (uint64_t)b[2] << 8 | b[3];
}

/* New ids are RFC 4122 time uuids of now, strictly increasing in time
** (many are made within one tick), with one node for the process. */
static void
test_time_ids(void)
{
	store_id a, b;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t t = (uint64_t)now.tv_sec * 10000000u + (uint64_t)now.tv_nsec / 100 +
	             0x01B21DD213814000ull;
	store_id_new(&a);
	CHECK((a.b[6] >> 4) == 1);                    /* version 1 */
	CHECK((a.b[8] & 0xc0) == 0x80);               /* RFC 4122 variant */
	CHECK(a.b[10] & 0x01);                        /* a random node, not a MAC */
	CHECK(id_time(&a) >= t && id_time(&a) - t < 10000000u);   /* within 1 s */
	int rising = 1, same_node = 1;
	for (int i = 0; i < 10000; i++) {
		store_id_new(&b);
		rising &= id_time(&b) > id_time(&a);
		same_node &= memcmp(a.b + 8, b.b + 8, 8) == 0;
		a = b;
	}
	CHECK(rising && same_node);
}

static void
test_orgs_apps(void)
{
	store_txn *t = wtxn();
	store_org org, org2;
	store_app a2;
	store_err err = { 0 };
	json_t *list;

	CHECK_RC(store_org_create(t, S("My-Org"), &org, &err), STORE_OK);
	CHECK_RC(store_org_create(t, S("my-org"), &org2, &err), STORE_EXISTS);
	CHECK_RC(store_org_create(t, S("bad name"), &org2, &err), STORE_INVALID);
	CHECK_RC(store_org_get(t, S("MY-ORG"), &org2), STORE_OK);
	CHECK(memcmp(org.uuid.b, org2.uuid.b, 16) == 0);
	char id[37];
	store_id_format(&org.uuid, id);
	CHECK_RC(store_org_get(t, S(id), &org2), STORE_OK);
	CHECK_STR(org2.name, "My-Org");
	CHECK_RC(store_app_create(t, &org, S("My-App"), &app, &err), STORE_OK);
	CHECK_STR(app.name, "my-app");
	CHECK_RC(store_app_create(t, &org, S("my-app"), &a2, &err), STORE_EXISTS);
	CHECK_RC(store_app_get(t, &org, S("MY-APP"), &a2), STORE_OK);
	store_id_format(&app.uuid, id);
	CHECK_RC(store_app_get(t, NULL, S(id), &a2), STORE_OK);
	CHECK_STR(a2.org_name, "My-Org");
	CHECK_RC(store_app_get(t, &org, S("nope"), &a2), STORE_NOTFOUND);
	CHECK_RC(store_app_list(t, &org, &list), STORE_OK);
	CHECK(json_is_string(json_object_get(list, "my-org/my-app")));
	json_decref(list);
	/* Default roles arrive with the app. */
	uint64_t n;
	CHECK_RC(store_edge_count(t, &app, &app.uuid, STORE_EDGE_COLLECTION, "roles", &n), STORE_OK);
	CHECK(n == 3);
	store_id rid;
	CHECK_RC(store_entity_find(t, &app, "role", S("Guest"), &rid), STORE_OK);
	CHECK_RC(store_txn_commit(t), STORE_OK);
}

/* Sets the applicationName of app's record, as no API does, in w. */
static void
rename_app_record(store_txn *w, const char *name)
{
	keybuf k;
	json_t *rec = NULL;
	key_rec(&k, &app.uuid);
	CHECK_RC(kv_get_json(w, DBI_APPS, &k, &rec), STORE_OK);
	json_object_set_new(rec, "applicationName", json_string(name));
	CHECK_RC(kv_put_json(w, DBI_APPS, &k, rec), STORE_OK);
	json_decref(rec);
}

static void
app_name_is(store_txn *t, const store_org *org, const char *want)
{
	store_app a;
	CHECK_RC(store_app_get(t, org, S("my-app"), &a), STORE_OK);
	CHECK_STR(a.name, want);
}

/* Found orgs and apps are kept decoded (idcache.c): a change committed
** to an app's record is seen by every transaction whose snapshot holds it,
** and by the transaction making it; one begun before still sees the old. */
static void
test_ident_cache(void)
{
	store_org org;
	store_txn *r = rtxn(), *before, *w;
	CHECK_RC(store_org_get(r, S("my-org"), &org), STORE_OK);
	app_name_is(r, &org, "my-app");
	app_name_is(r, &org, "my-app");            /* kept */
	store_txn_abort(r);
	before = rtxn();
	w = wtxn();
	app_name_is(w, &org, "my-app");
	rename_app_record(w, "renamed-app");
	app_name_is(w, &org, "renamed-app");      /* its own change */
	CHECK_RC(store_txn_commit(w), STORE_OK);
	r = rtxn();
	app_name_is(r, &org, "renamed-app");
	app_name_is(r, &org, "renamed-app");
	app_name_is(before, &org, "my-app");       /* its snapshot, kept or not */
	store_txn_abort(before);
	store_txn_abort(r);
	w = wtxn();
	rename_app_record(w, "my-app");
	CHECK_RC(store_txn_commit(w), STORE_OK);
	r = rtxn();
	app_name_is(r, &org, "my-app");
	store_txn_abort(r);
}

/* Readers share the object parsed from an entity's stored bytes until
** the bytes change; a write transaction always gets its own. */
static void
test_entity_read_shared(void)
{
	store_txn *w = wtxn(), *r;
	json_t *e = create(w, "sharable", "{\"name\":\"s1\",\"v\":1}", STORE_OK), *a, *b;
	store_id id = id_of(e);
	json_decref(e);
	CHECK_RC(store_txn_commit(w), STORE_OK);
	r = rtxn();
	CHECK_RC(store_entity_read(r, &app, &id, &a), STORE_OK);
	CHECK_RC(store_entity_read(r, &app, &id, &b), STORE_OK);
	CHECK(a == b && json_integer_value(json_object_get(a, "v")) == 1);
	json_decref(b);
	store_txn_abort(r);
	w = wtxn();
	CHECK_RC(store_entity_read(w, &app, &id, &b), STORE_OK);
	CHECK(b != a);                                  /* its own, to change */
	json_decref(b);
	json_t *body = json_loads("{\"v\":2}", 0, NULL);
	store_err err = { 0 };
	CHECK_RC(store_entity_update(w, &app, &id, body, &b, &err), STORE_OK);
	json_decref(body);
	json_decref(b);
	CHECK_RC(store_txn_commit(w), STORE_OK);
	r = rtxn();
	CHECK_RC(store_entity_read(r, &app, &id, &b), STORE_OK);
	CHECK(b != a && json_integer_value(json_object_get(b, "v")) == 2);
	CHECK(json_integer_value(json_object_get(a, "v")) == 1);   /* the old one kept whole */
	json_decref(b);
	json_decref(a);
	CHECK_RC(store_entity_read(r, &app, &app.uuid, &b), STORE_NOTFOUND);
	store_txn_abort(r);
}

static void
test_entity_crud(void)
{
	store_txn *t = wtxn();
	json_t *e, *got, *body;
	store_err err = { 0 };
	store_id id, found;

	e = create(t, "thing", "{\"name\":\"Enzo\",\"uuid\":\"x\",\"type\":\"chicken\","
	           "\"metadata\":{},\"testProp\":\"a\",\"TESTPROP\":\"b\",\"gone\":null,"
	           "\"empty\":\"\",\"n\":{\"deep\":[1,2]}}", STORE_OK);
	id = id_of(e);
	CHECK_STR(json_string_value(json_object_get(e, "type")), "thing");
	CHECK_STR(json_string_value(json_object_get(e, "testProp")), "b");
	CHECK(json_object_get(e, "TESTPROP") == NULL);
	CHECK(json_object_get(e, "metadata") == NULL);
	CHECK(json_object_get(e, "gone") == NULL);
	CHECK(json_object_get(e, "empty") == NULL);
	CHECK(json_integer_value(json_object_get(e, "created")) ==
	      json_integer_value(json_object_get(e, "modified")));
	json_decref(e);

	CHECK_RC(store_entity_find(t, &app, "thing", S("ENZO"), &found), STORE_OK);
	CHECK(memcmp(found.b, id.b, 16) == 0);
	CHECK_RC(store_entity_find(t, &app, "other", S("enzo"), &found), STORE_NOTFOUND);
	char ids[37];
	store_id_format(&id, ids);
	CHECK_RC(store_entity_find(t, &app, "thing", S(ids), &found), STORE_OK);
	CHECK_RC(store_entity_find(t, &app, "user", S(ids), &found), STORE_NOTFOUND);

	/* Unique name, case-insensitively. */
	e = create(t, "thing", "{\"name\":\"enzo\"}", STORE_EXISTS);
	CHECK(e == NULL);

	/* Merge update: null and "" remove, names fold, immutables ignored. */
	body = json_loads("{\"TestProp\":\"c\",\"n\":null,\"new\":1,\"created\":5,"
	                  "\"uuid\":\"zz\"}", 0, NULL);
	CHECK_RC(store_entity_update(t, &app, &id, body, &got, &err), STORE_OK);
	json_decref(body);
	CHECK_STR(json_string_value(json_object_get(got, "testProp")), "c");
	CHECK(json_object_get(got, "n") == NULL);
	CHECK(json_integer_value(json_object_get(got, "new")) == 1);
	CHECK(json_integer_value(json_object_get(got, "created")) != 5);
	CHECK_STR(json_string_value(json_object_get(got, "uuid")), ids);
	json_decref(got);

	/* Renaming moves the unique value. */
	body = json_loads("{\"name\":\"ferrari\"}", 0, NULL);
	CHECK_RC(store_entity_update(t, &app, &id, body, &got, &err), STORE_OK);
	json_decref(body);
	json_decref(got);
	CHECK_RC(store_entity_find(t, &app, "thing", S("enzo"), &found), STORE_NOTFOUND);
	CHECK_RC(store_entity_find(t, &app, "thing", S("Ferrari"), &found), STORE_OK);
	e = create(t, "thing", "{\"name\":\"enzo\"}", STORE_OK);
	store_id id2 = id_of(e);
	json_decref(e);
	body = json_loads("{\"name\":\"ENZO\"}", 0, NULL);
	CHECK_RC(store_entity_update(t, &app, &id, body, &got, &err), STORE_EXISTS);
	CHECK(strstr(err.msg, "unique") != NULL);
	json_decref(body);

	/* PUT semantics: missing name creates, missing uuid creates with it. */
	body = json_loads("{\"color\":\"red\"}", 0, NULL);
	CHECK_RC(store_entity_put(t, &app, "thing", S("Maserati"), body, &got, &err), STORE_OK);
	CHECK_STR(json_string_value(json_object_get(got, "name")), "Maserati");
	json_decref(got);
	const char *fixed = "6fbc8157-4786-11e1-b2bd-22000a1c4e22";
	CHECK_RC(store_entity_put(t, &app, "thing", S(fixed), body, &got, &err), STORE_OK);
	CHECK_STR(json_string_value(json_object_get(got, "uuid")), fixed);
	json_decref(got);
	CHECK_RC(store_entity_put(t, &app, "thing", S("maserati"), body, &got, &err), STORE_OK);
	CHECK_STR(json_string_value(json_object_get(got, "name")), "Maserati");
	json_decref(got);
	json_decref(body);

	/* Delete frees unique values and the collection edge. */
	uint64_t before, after;
	CHECK_RC(store_edge_count(t, &app, &app.uuid, STORE_EDGE_COLLECTION, "things", &before), STORE_OK);
	CHECK_RC(store_entity_delete(t, &app, &id2, &got, &err), STORE_OK);
	CHECK_STR(json_string_value(json_object_get(got, "name")), "enzo");
	json_decref(got);
	CHECK_RC(store_edge_count(t, &app, &app.uuid, STORE_EDGE_COLLECTION, "things", &after), STORE_OK);
	CHECK(after == before - 1);
	CHECK_RC(store_entity_get(t, &app, &id2, &got), STORE_NOTFOUND);
	CHECK_RC(store_entity_delete(t, &app, &id2, &got, &err), STORE_NOTFOUND);
	e = create(t, "thing", "{\"name\":\"enzo\"}", STORE_OK);
	json_decref(e);
	CHECK_RC(store_txn_commit(t), STORE_OK);
}

static void
test_types(void)
{
	store_txn *t = wtxn();
	json_t *e;

	e = create(t, "group", "{\"title\":\"no path\"}", STORE_INVALID);
	e = create(t, "group", "{\"path\":\"has space\"}", STORE_INVALID);
	e = create(t, "group", "{\"path\":\"/a/b-c.d\"}", STORE_OK);
	json_decref(e);
	e = create(t, "group", "{\"path\":\"/A/B-C.D\"}", STORE_EXISTS);
	e = create(t, "user", "{\"email\":\"x@y.z\"}", STORE_REQUIRED);
	e = create(t, "user", "{\"username\":\"me\"}", STORE_INVALID);
	e = create(t, "user", "{\"username\":\"john.doe\",\"email\":\"John@Mail.com\","
	           "\"password\":\"secret-pw\",\"pin\":\"1234\"}", STORE_OK);
	CHECK(json_object_get(e, "password") == NULL);
	CHECK(json_object_get(e, "pin") == NULL);
	CHECK(json_is_true(json_object_get(e, "activated")));
	store_id uid = id_of(e), found;
	json_decref(e);
	e = create(t, "user", "{\"username\":\"other\",\"email\":\"john@mail.com\"}", STORE_EXISTS);
	CHECK_RC(store_entity_find(t, &app, "user", S("JOHN@mail.com"), &found), STORE_OK);
	CHECK(memcmp(found.b, uid.b, 16) == 0);
	CHECK_RC(store_entity_find(t, &app, "user", S("John.Doe"), &found), STORE_OK);
	/* a scalar alias is stored as its string (spec 9), a structured one refused */
	e = create(t, "user", "{\"username\":42}", STORE_OK);
	CHECK(strcmp(json_string_value(json_object_get(e, "username")), "42") == 0);
	json_decref(e);
	e = create(t, "user", "{\"username\":[42]}", STORE_INVALID);
	e = create(t, "activity", "{\"verb\":\"post\"}", STORE_REQUIRED);
	e = create(t, "activity", "{\"verb\":\"post\",\"actor\":{\"displayName\":\"x\"}}", STORE_OK);
	CHECK(json_integer_value(json_object_get(e, "published")) > 0);
	json_decref(e);
	store_txn_abort(t);
}

/* Dot segments, dotted property names and the limits on one entity are
** core's rules, whatever reaches it. */
static void
test_names_and_limits(void)
{
	store_txn *t = wtxn();
	store_org org;
	store_app a2;
	store_err err = { 0 };
	json_t *e, *body;

	CHECK_RC(store_org_create(t, S(".."), &org, &err), STORE_INVALID);
	CHECK_RC(store_org_create(t, S("."), &org, &err), STORE_INVALID);
	CHECK_RC(store_org_create(t, S("a..b"), &org, &err), STORE_OK);
	/* the words a URL gives a meaning are http/'s to refuse: to core an org
	** or app named "orgs" is a name like another */
	store_org word;
	CHECK_RC(store_org_create(t, S("orgs"), &word, &err), STORE_OK);
	CHECK_RC(store_app_create(t, &word, S("apps"), &a2, &err), STORE_OK);
	CHECK_RC(store_app_create(t, &org, S(".."), &a2, &err), STORE_INVALID);
	static const char *const bad_paths[] = { "../x", "a//b", "./a", "a/./b", "a/", "//a", "a/.." };
	for (size_t i = 0; i < sizeof bad_paths / sizeof *bad_paths; i++) {
		char json[64];
		snprintf(json, sizeof json, "{\"path\":\"%s\"}", bad_paths[i]);
		create(t, "group", json, STORE_INVALID);
	}
	e = create(t, "group", "{\"path\":\"/lead/x..y\"}", STORE_OK);
	CHECK_STR(json_string_value(json_object_get(e, "path")), "lead/x..y");
	json_decref(e);
	create(t, "thing", "{\"name\":\"..\"}", STORE_INVALID);
	create(t, "user", "{\"username\":\".\"}", STORE_INVALID);
	create(t, "thing", "{\"a.b\":1}", STORE_INVALID);
	create(t, "thing", "{\"a\":{\"b.c\":1}}", STORE_INVALID);

	/* STORE_MAX_PROPERTIES, on the body and on the entity an update makes */
	body = json_object();
	for (int i = 0; i < STORE_MAX_PROPERTIES; i++) {
		char k[16];
		snprintf(k, sizeof k, "p%d", i);
		json_object_set_new(body, k, json_integer(i));
	}
	CHECK_RC(store_entity_create(t, &app, "wide", body, NULL, &e, &err), STORE_OK);
	store_id id = id_of(e);
	json_decref(e);
	json_t *more = json_pack("{s:i}", "extra", 1);
	CHECK_RC(store_entity_update(t, &app, &id, more, NULL, &err), STORE_INVALID);
	CHECK(strstr(err.msg, "STORE_MAX_PROPERTIES"));
	json_object_set_new(body, "extra", json_integer(1));
	CHECK_RC(store_entity_create(t, &app, "wide", body, NULL, NULL, &err), STORE_INVALID);
	json_decref(more);
	json_decref(body);

	/* STORE_MAX_ARRAY, and the entries a value makes (each word too) */
	size_t n;
	body = json_pack("{s:s, s:[i, i, [i]]}", "t", "one two, three", "a", 1, 2, 3);
	CHECK_RC(store_entity_check(body, 1, &n, &err), STORE_OK);
	CHECK(n == 1 + 4 + 2);   /* the object, the string and its 3 words, 2 elements
	                          ** (an array inside an array is not indexed) */
	json_decref(body);
	body = json_pack("{s:[]}", "a");
	for (int i = 0; i <= STORE_MAX_ARRAY; i++) json_array_append_new(json_object_get(body, "a"), json_true());
	CHECK_RC(store_entity_check(body, 1, &n, &err), STORE_INVALID);
	CHECK(strstr(err.msg, "STORE_MAX_ARRAY"));
	json_decref(body);
	store_txn_abort(t);
}

static void
test_edges(void)
{
	store_txn *t = wtxn();
	store_id a, b[5], ids[10];
	store_pos last;
	size_t n;
	int created;
	uint64_t count;
	json_t *e, *names;

	e = create(t, "person", "{\"name\":\"fred\"}", STORE_OK);
	a = id_of(e);
	json_decref(e);
	for (int i = 0; i < 5; i++) {
		char body[64];
		snprintf(body, sizeof body, "{\"name\":\"r%d\"}", i);
		e = create(t, "restaurant", body, STORE_OK);
		b[i] = id_of(e);
		json_decref(e);
		CHECK_RC(store_edge_put(t, &app, &a, STORE_EDGE_OUT, "likes", &b[i], &created), STORE_OK);
		CHECK(created == 1);
	}
	/* Newest first; paging continues after the last position. */
	CHECK_RC(store_edge_list(t, &app, &a, STORE_EDGE_OUT, "likes", NULL, 3, ids, &n, &last), STORE_OK);
	CHECK(n == 3);
	CHECK(memcmp(ids[0].b, b[4].b, 16) == 0 && memcmp(ids[2].b, b[2].b, 16) == 0);
	CHECK_RC(store_edge_list(t, &app, &a, STORE_EDGE_OUT, "likes", &last, 3, ids, &n, &last), STORE_OK);
	CHECK(n == 2);
	CHECK(memcmp(ids[0].b, b[1].b, 16) == 0 && memcmp(ids[1].b, b[0].b, 16) == 0);
	/* Re-post refreshes the time: b[0] moves to the front. */
	CHECK_RC(store_edge_put(t, &app, &a, STORE_EDGE_OUT, "likes", &b[0], &created), STORE_OK);
	CHECK(created == 0);
	CHECK_RC(store_edge_list(t, &app, &a, STORE_EDGE_OUT, "likes", NULL, 10, ids, &n, NULL), STORE_OK);
	CHECK(n == 5 && memcmp(ids[0].b, b[0].b, 16) == 0);
	CHECK_RC(store_edge_count(t, &app, &a, STORE_EDGE_OUT, "likes", &count), STORE_OK);
	CHECK(count == 5);
	/* The reverse edge lists the source. */
	CHECK_RC(store_edge_list(t, &app, &b[3], STORE_EDGE_IN, "likes", NULL, 10, ids, &n, NULL), STORE_OK);
	CHECK(n == 1 && memcmp(ids[0].b, a.b, 16) == 0);
	CHECK_RC(store_edge_names(t, &app, &b[3], STORE_EDGE_IN, &names), STORE_OK);
	CHECK(json_integer_value(json_object_get(names, "likes")) == 1);
	json_decref(names);
	/* Deleting the edge only. */
	CHECK_RC(store_edge_del(t, &app, &a, STORE_EDGE_OUT, "likes", &b[3]), STORE_OK);
	CHECK_RC(store_edge_del(t, &app, &a, STORE_EDGE_OUT, "likes", &b[3]), STORE_NOTFOUND);
	CHECK_RC(store_edge_has(t, &app, &a, STORE_EDGE_OUT, "likes", &b[3]), STORE_NOTFOUND);
	CHECK_RC(store_edge_names(t, &app, &b[3], STORE_EDGE_IN, &names), STORE_OK);
	CHECK(json_object_size(names) == 0);
	json_decref(names);
	/* Deleting an endpoint removes its edges on both sides. */
	CHECK_RC(store_entity_delete(t, &app, &a, NULL, NULL), STORE_OK);
	for (int i = 0; i < 5; i++) {
		CHECK_RC(store_edge_count(t, &app, &b[i], STORE_EDGE_IN, "likes", &count), STORE_OK);
		CHECK(count == 0);
	}
	CHECK_RC(store_txn_commit(t), STORE_OK);
}

static void
test_nested_txn(void)
{
	store_txn *t = wtxn(), *child;
	json_t *e;
	store_id found;
	store_app keep = app;

	CHECK_RC(store_txn_begin_child(t, &child), STORE_OK);
	e = create(child, "widget", "{\"name\":\"w1\"}", STORE_OK);
	json_decref(e);
	store_txn_abort(child);
	CHECK_RC(store_entity_find(t, &app, "widget", S("w1"), &found), STORE_NOTFOUND);
	CHECK_RC(store_txn_begin_child(t, &child), STORE_OK);
	e = create(child, "widget", "{\"name\":\"w2\"}", STORE_OK);
	json_decref(e);
	CHECK_RC(store_txn_commit(child), STORE_OK);
	CHECK_RC(store_entity_find(t, &app, "widget", S("w2"), &found), STORE_OK);
	CHECK_RC(store_txn_commit(t), STORE_OK);
	app = keep;
}

/* Group commit: units run in one transaction, each rolled back alone when
** its run fails; `done` comes once per unit, after the commit, when the
** kept units are already visible to a new reader. */
typedef struct {
	const char *name[4];
	store_rc    want_run[4];
	store_rc    got[4];
	int         ran[4], calls[4], visible[4], resets[4];
} gc_case;

static store_rc
gc_run(void *ctx, size_t i, store_txn *t)
{
	gc_case *c = ctx;
	char body[64];
	snprintf(body, sizeof body, "{\"name\":\"%s\"}", c->name[i]);
	json_t *b = json_loads(body, 0, NULL), *e = NULL;
	store_err err = { 0 };
	store_rc rc = store_entity_create(t, &app, "gadget", b, NULL, &e, &err);
	json_decref(b);
	json_decref(e);
	return rc ? rc : c->want_run[i];     /* a unit may refuse what it wrote */
}

static void
gc_done(void *ctx, size_t i, store_rc rc, int ran)
{
	gc_case *c = ctx;
	store_id id;
	store_txn *t = rtxn();
	c->got[i] = rc;
	c->ran[i] = ran;
	c->calls[i]++;
	c->visible[i] = store_entity_find(t, &app, "gadget", S(c->name[i]), &id) == STORE_OK;
	store_txn_abort(t);
}

static void
gc_reset(void *ctx, size_t i)
{
	((gc_case *)ctx)->resets[i]++;
}

static void
test_group_commit(void)
{
	gc_case c = { .name = { "g0", "g1", "g2", "g0" },
	              .want_run = { STORE_OK, STORE_INVALID, STORE_OK, STORE_OK } };
	store_unit u = { gc_run, gc_done, NULL, &c };
	store_batch_stats st;
	CHECK_RC(store_group_commit(db, 4, &u, &st), STORE_OK);
	CHECK(st.units == 4 && st.kept == 2);
	CHECK_RC(c.got[0], STORE_OK);
	CHECK_RC(c.got[1], STORE_INVALID);            /* refused: rolled back alone */
	CHECK_RC(c.got[2], STORE_OK);
	CHECK_RC(c.got[3], STORE_EXISTS);             /* g0 is taken by unit 0 */
	for (int i = 0; i < 4; i++) CHECK(c.ran[i] == 1 && c.calls[i] == 1);
	/* done sees the batch durable: kept units visible to a new reader */
	CHECK(c.visible[0] && !c.visible[1] && c.visible[2] && c.visible[3]);
	/* units first run straight in the batch: one that refuses after it
	** wrote sends the batch round again, each unit nested, and the units
	** that ran are reset first; the outcomes are those of the nested run */
	gc_case f = { .name = { "h0", "h1", "h2", "h0" },
	              .want_run = { STORE_OK, STORE_INVALID, STORE_OK, STORE_OK } };
	store_unit uf = { gc_run, gc_done, gc_reset, &f };
	CHECK_RC(store_group_commit(db, 4, &uf, &st), STORE_OK);
	CHECK(st.nested == 1 && st.kept == 2);
	CHECK_RC(f.got[0], STORE_OK);
	CHECK_RC(f.got[1], STORE_INVALID);
	CHECK_RC(f.got[2], STORE_OK);
	CHECK_RC(f.got[3], STORE_EXISTS);
	CHECK(f.resets[0] == 1 && f.resets[1] == 1 && f.resets[2] == 0 && f.resets[3] == 0);
	CHECK(f.visible[0] && !f.visible[1] && f.visible[2] && f.visible[3]);
	/* a unit that fails before it writes leaves nothing to undo: one pass */
	gc_case g = { .name = { "k0", "k0", "k1", "k2" } };
	store_unit ug = { gc_run, gc_done, gc_reset, &g };
	CHECK_RC(store_group_commit(db, 4, &ug, &st), STORE_OK);
	CHECK(st.nested == 0 && st.kept == 3);
	CHECK_RC(g.got[0], STORE_OK);
	CHECK_RC(g.got[1], STORE_EXISTS);
	CHECK_RC(g.got[2], STORE_OK);
	for (int i = 0; i < 4; i++) CHECK(g.calls[i] == 1 && g.resets[i] == 0);
	CHECK(g.visible[0] && g.visible[2] && g.visible[3]);
	/* an empty batch is one empty commit */
	CHECK_RC(store_group_commit(db, 0, &u, &st), STORE_OK);
	CHECK(st.units == 0 && st.kept == 0);
}

/* A batch whose units change a collection's settings and write its
** entities: each write follows the settings as the units before it left
** them, though a transaction parses the record once (meta_record). */
typedef struct {
	const char *type;
	const char *settings[4];    /* a unit changes the settings to this, */
	const char *body[4];        /* then creates this entity, */
	store_rc    refuse[4];      /* then answers this when all went well */
	store_rc    got[4];
} sb_case;

static store_rc
sb_run(void *ctx, size_t i, store_txn *t)
{
	sb_case *c = ctx;
	store_err err = { 0 };
	json_t *b, *e = NULL;
	store_rc rc = STORE_OK;
	if (c->settings[i]) {
		b = json_loads(c->settings[i], 0, NULL);
		rc = store_settings_set(t, &app, c->type, b, 0, "test", NULL, &err);
		json_decref(b);
	}
	if (rc == STORE_OK && c->body[i]) {
		b = json_loads(c->body[i], 0, NULL);
		rc = store_entity_create(t, &app, c->type, b, NULL, &e, &err);
		json_decref(b);
		json_decref(e);
	}
	return rc ? rc : c->refuse[i];
}

static void
sb_done(void *ctx, size_t i, store_rc rc, int ran)
{
	(void)ran;
	((sb_case *)ctx)->got[i] = rc;
}

static void
sb_reset(void *ctx, size_t i)
{
	(void)ctx;
	(void)i;
}

static void
test_settings_in_batch(void)
{
	store_batch_stats st;
	/* unit 0 reads the collection's (absent) settings; unit 1 sets them;
	** units 2 and 3 must follow them */
	sb_case a = { .type = "gizmo",
	              .settings = { NULL, "{\"unique\":[\"code\"], \"required\":[\"code\"]}" },
	              .body = { "{\"name\":\"a0\",\"code\":\"c\"}", NULL,
	                        "{\"name\":\"a2\",\"code\":\"C\"}", "{\"name\":\"a3\"}" } };
	store_unit ua = { sb_run, sb_done, sb_reset, &a };
	CHECK_RC(store_group_commit(db, 4, &ua, &st), STORE_OK);
	CHECK_RC(a.got[0], STORE_OK);
	CHECK_RC(a.got[1], STORE_OK);
	CHECK_RC(a.got[2], STORE_EXISTS);             /* a0 holds "c" */
	CHECK_RC(a.got[3], STORE_REQUIRED);
	/* unit 0 sets the settings and writes under them, then refuses: rolled
	** back (the batch runs again, each unit nested), its settings must not
	** be followed by unit 1 */
	sb_case b = { .type = "doohickey",
	              .settings = { "{\"required\":[\"code\"]}" },
	              .body = { "{\"name\":\"b0\",\"code\":\"x\"}", "{\"name\":\"b1\"}" },
	              .refuse = { STORE_INVALID } };
	store_unit ub = { sb_run, sb_done, sb_reset, &b };
	CHECK_RC(store_group_commit(db, 2, &ub, &st), STORE_OK);
	CHECK(st.nested == 1);
	CHECK_RC(b.got[0], STORE_INVALID);
	CHECK_RC(b.got[1], STORE_OK);
	/* and in one transaction: a nested one that changes them and writes,
	** rolled back, then a write of the parent */
	store_txn *t = wtxn(), *child;
	json_t *body = json_loads("{\"unique\":[\"code\"]}", 0, NULL), *e;
	store_err err = { 0 };
	CHECK_RC(store_txn_begin_child(t, &child), STORE_OK);
	CHECK_RC(store_settings_set(child, &app, "doohickey", body, 0, "test", NULL, &err), STORE_OK);
	json_decref(create(child, "doohickey", "{\"name\":\"c0\",\"code\":\"y\"}", STORE_OK));
	store_txn_abort(child);
	json_decref(create(t, "doohickey", "{\"name\":\"c1\"}", STORE_OK));
	e = create(t, "doohickey", "{\"name\":\"c2\",\"code\":\"y\"}", STORE_OK);
	json_decref(e);
	/* then a change in the parent itself, followed at once */
	CHECK_RC(store_settings_set(t, &app, "doohickey", body, 0, "test", NULL, &err), STORE_OK);
	create(t, "doohickey", "{\"name\":\"c3\",\"code\":\"Y\"}", STORE_EXISTS);
	json_decref(body);
	CHECK_RC(store_txn_commit(t), STORE_OK);
}

/* An event counts in its own transaction: an aborted one leaves nothing. */
static void
test_counters(void)
{
	store_txn *t = wtxn();
	json_t *e, *v = NULL;
	int res;

	e = create(t, "event", "{\"timestamp\": 120000, \"counters\": {\"x.y\": 2}}", STORE_OK);
	json_decref(e);
	e = create(t, "event", "{\"timestamp\": 180000, \"counters\": {\"X.y\": -5}}", STORE_OK);
	json_decref(e);
	e = create(t, "event", "{\"counters\": {\"x.y\": 1, \"z\": true}}", STORE_INVALID);
	CHECK_RC(store_txn_commit(t), STORE_OK);
	t = wtxn();
	e = create(t, "event", "{\"counters\": {\"x\": 100}}", STORE_OK);
	json_decref(e);
	store_txn_abort(t);
	t = wtxn();                     /* a nested create that is taken back */
	store_txn *child = NULL;
	CHECK_RC(store_txn_begin_child(t, &child), STORE_OK);
	e = create(child, "event", "{}", STORE_OK);
	json_decref(e);
	store_txn_abort(child);
	CHECK_RC(store_txn_commit(t), STORE_OK);

	t = rtxn();
	CHECK(store_counter_resolution("MINUTE", &res) && res == 1);
	CHECK(!store_counter_resolution("fortnight", &res));
	CHECK(store_counter_resolution_of_minutes(59) == 3);      /* half_hour */
	CHECK_RC(store_counter_series(t, &app, "x", 0, 0, 0, 0, &v), STORE_OK);
	CHECK(json_array_size(v) == 1);
	CHECK(json_integer_value(json_object_get(json_array_get(v, 0), "value")) == -3);
	json_decref(v);
	CHECK_RC(store_counter_series(t, &app, "x.Y", 1, 60000, 240000, 1, &v), STORE_OK);
	CHECK(json_array_size(v) == 4);                             /* 1, 2, 3, 4 minutes */
	CHECK(json_integer_value(json_object_get(json_array_get(v, 0), "value")) == 0);
	CHECK(json_integer_value(json_object_get(json_array_get(v, 1), "value")) == 2);
	CHECK(json_integer_value(json_object_get(json_array_get(v, 2), "value")) == -5);
	json_decref(v);
	CHECK_RC(store_counter_names(t, &app, &v), STORE_OK);
	/* the names events gave, and the entity counters of every test's creates */
	size_t nn = json_array_size(v);
	CHECK(nn > 2 && strcmp(json_string_value(json_array_get(v, nn - 1)), "x.y") == 0);
	CHECK(strcmp(json_string_value(json_array_get(v, 0)), "application.collection.events") == 0);
	CHECK(strcmp(json_string_value(json_array_get(v, nn - 2)), "application.entities") == 0);
	json_decref(v);
	/* Usergrid's entity counters: the committed creates only */
	CHECK_RC(store_counter_series(t, &app, "application.collection.events", 0, 0, 0, 0, &v),
	         STORE_OK);
	CHECK(json_array_size(v) == 1);
	CHECK(json_integer_value(json_object_get(json_array_get(v, 0), "value")) == 2);
	json_decref(v);
	/* a tick counts at once and is written by the next write commit */
	store_counter_tick(db, &app, "application.requests.get", 3);
	CHECK(store_counter_pending(db));
	CHECK_RC(store_counter_series(t, &app, "application.requests", 0, 0, 0, 0, &v), STORE_OK);
	CHECK(json_integer_value(json_object_get(json_array_get(v, 0), "value")) == 3);
	json_decref(v);
	store_txn_abort(t);
	t = wtxn();
	CHECK_RC(store_txn_commit(t), STORE_OK);
	CHECK(!store_counter_pending(db));
	t = rtxn();
	CHECK_RC(store_counter_series(t, &app, "application.requests", 0, 0, 0, 0, &v), STORE_OK);
	CHECK(json_integer_value(json_object_get(json_array_get(v, 0), "value")) == 3);
	json_decref(v);
	store_txn_abort(t);
}

int
main(void)
{
	char *dir = tmpdir_new();
	store_err err = { 0 };
	store_txn *t;
	store_id found;

	CHECK_RC(store_open(dir, NULL, &db, &err), STORE_OK);
	test_time_ids();
	test_orgs_apps();
	test_ident_cache();
	test_entity_read_shared();
	test_entity_crud();
	test_types();
	test_names_and_limits();
	test_edges();
	test_nested_txn();
	test_group_commit();
	test_counters();
	test_settings_in_batch();
	store_close(db);

	/* Everything committed survives a reopen. */
	CHECK_RC(store_open(dir, NULL, &db, &err), STORE_OK);
	t = rtxn();
	CHECK_RC(store_entity_find(t, &app, "widget", S("w2"), &found), STORE_OK);
	CHECK_RC(store_entity_find(t, &app, "thing", S("enzo"), &found), STORE_OK);
	CHECK_RC(store_entity_find(t, &app, "group", S("/a/b-c.d"), &found), STORE_NOTFOUND);
	store_txn_abort(t);
	store_close(db);
	tmpdir_remove(dir);
	printf("test_store: %d checks\n", check_count);
	return 0;
}
