/*
** test_relations.c: core's relationship rules without a socket: linked
** sub-collections, group path resolution, the activity fan-out table of
** spec 5.5, following's feed copy, the shared delivery of a large group's
** posts (membership intervals and the merged feed), dictionaries,
** credentials, and the cleanup of every edge when either end is deleted.
*/
#include "tests/unit/check.h"

static store *db;
static store_app app;
static store_txn *t;

static store_id
make(const char *type, const char *json)
{
	json_t *body = json_loads(json, 0, NULL), *e = NULL;
	store_err err = { 0 };
	store_id id;
	CHECK(body);
	CHECK_RC(store_entity_create(t, &app, type, body, NULL, &e, &err), STORE_OK);
	const char *s = json_string_value(json_object_get(e, "uuid"));
	CHECK(s && store_id_parse(S(s), &id));
	json_decref(body);
	json_decref(e);
	return id;
}

static uint64_t
count(const store_id *owner, store_edge_kind kind, const char *name)
{
	uint64_t n;
	CHECK_RC(store_edge_count(t, &app, owner, kind, name, &n), STORE_OK);
	return n;
}

static int
has(const store_id *owner, store_edge_kind kind, const char *name, const store_id *target)
{
	store_rc rc = store_edge_has(t, &app, owner, kind, name, target);
	CHECK(rc == STORE_OK || rc == STORE_NOTFOUND);
	return rc == STORE_OK;
}

static store_id
post(const store_id *owner, const store_id *via, const char *json)
{
	json_t *body = json_loads(json, 0, NULL), *e = NULL;
	store_err err = { 0 };
	store_id id;
	CHECK_RC(store_activity_post(t, &app, owner, via, body, &e, &err), STORE_OK);
	const char *s = json_string_value(json_object_get(e, "uuid"));
	CHECK(s && store_id_parse(S(s), &id));
	json_decref(body);
	json_decref(e);
	return id;
}

static void
test_membership(void)
{
	store_id g = make("group", "{\"path\":\"staff\"}");
	store_id u = make("user", "{\"username\":\"ann\",\"email\":\"ann@x.org\"}");
	store_id thing = make("thing", "{\"name\":\"rock\"}");

	CHECK(store_coll_item_type("group", "users") != NULL);
	CHECK_STR(store_coll_item_type("user", "groups"), "group");
	CHECK(store_coll_item_type("user", "following") == NULL);
	CHECK(store_coll_item_type("user", "likes") == NULL);

	CHECK_RC(store_coll_add(t, &app, &g, "group", "users", &u), STORE_OK);
	CHECK(has(&g, STORE_EDGE_COLLECTION, "users", &u));
	CHECK(has(&u, STORE_EDGE_COLLECTION, "groups", &g));   /* linked */
	CHECK_RC(store_coll_add(t, &app, &g, "group", "users", &thing), STORE_NOTFOUND);
	CHECK_RC(store_coll_remove(t, &app, &u, "user", "groups", &g), STORE_OK);
	CHECK(!has(&g, STORE_EDGE_COLLECTION, "users", &u));
	CHECK_RC(store_coll_remove(t, &app, &u, "user", "groups", &g), STORE_NOTFOUND);

	/* Deleting a group removes its edges, never its members. */
	CHECK_RC(store_coll_add(t, &app, &u, "user", "groups", &g), STORE_OK);
	CHECK_RC(store_entity_delete(t, &app, &g, NULL, NULL), STORE_OK);
	json_t *e = NULL;
	CHECK_RC(store_entity_get(t, &app, &u, &e), STORE_OK);
	json_decref(e);
	CHECK(count(&u, STORE_EDGE_COLLECTION, "groups") == 0);

	/* Roles both ways, and role deletion. */
	store_id role;
	CHECK_RC(store_entity_find(t, &app, "role", S("admin"), &role), STORE_OK);
	CHECK_RC(store_coll_add(t, &app, &role, "role", "users", &u), STORE_OK);
	CHECK(has(&u, STORE_EDGE_COLLECTION, "roles", &role));
	CHECK_RC(store_entity_delete(t, &app, &role, NULL, NULL), STORE_OK);
	CHECK(count(&u, STORE_EDGE_COLLECTION, "roles") == 0);
}

static void
test_group_paths(void)
{
	store_id a = make("group", "{\"path\":\"california\"}");
	store_id ab = make("group", "{\"path\":\"california/san-francisco\"}");
	store_id lead = make("group", "{\"path\":\"/lead\"}");
	store_id got;
	size_t used;
	store_slice segs[] = { S("California"), S("san-francisco"), S("users"), S("x") };

	CHECK_RC(store_group_resolve(t, &app, segs, 4, &got, &used), STORE_OK);
	CHECK(used == 2 && memcmp(got.b, ab.b, 16) == 0);
	CHECK_RC(store_group_resolve(t, &app, segs, 1, &got, &used), STORE_OK);
	CHECK(used == 1 && memcmp(got.b, a.b, 16) == 0);
	store_slice odd[] = { S("california"), S("oakland"), S("users") };
	CHECK_RC(store_group_resolve(t, &app, odd, 3, &got, &used), STORE_OK);
	CHECK(used == 1 && memcmp(got.b, a.b, 16) == 0);   /* longest existing */
	store_slice none[] = { S("texas"), S("austin") };
	CHECK_RC(store_group_resolve(t, &app, none, 2, &got, &used), STORE_NOTFOUND);
	store_slice slash[] = { S("lead") };
	CHECK_RC(store_group_resolve(t, &app, slash, 1, &got, &used), STORE_OK);
	CHECK(memcmp(got.b, lead.b, 16) == 0);
}

static void
test_fanout(void)
{
	store_id g = make("group", "{\"path\":\"fans\"}");
	store_id u1 = make("user", "{\"username\":\"u1\",\"email\":\"u1@x.org\"}");
	store_id u2 = make("user", "{\"username\":\"u2\"}");   /* follows u1, member */
	store_id u3 = make("user", "{\"username\":\"u3\"}");   /* follows u1 */
	store_id u4 = make("user", "{\"username\":\"u4\"}");   /* member only */
	CHECK_RC(store_coll_add(t, &app, &g, "group", "users", &u1), STORE_OK);
	CHECK_RC(store_coll_add(t, &app, &g, "group", "users", &u2), STORE_OK);
	CHECK_RC(store_coll_add(t, &app, &g, "group", "users", &u4), STORE_OK);

	/* Following copies the leader's existing activities into the feed. */
	store_id early = post(&u1, NULL, "{\"verb\":\"post\",\"content\":\"early\"}");
	CHECK_RC(store_follow(t, &app, &u2, &u1), STORE_OK);
	CHECK_RC(store_follow(t, &app, &u3, &u1), STORE_OK);
	CHECK(has(&u2, STORE_EDGE_COLLECTION, "feed", &early));
	CHECK(has(&u2, STORE_EDGE_OUT, "following", &u1));
	CHECK(has(&u1, STORE_EDGE_IN, "following", &u2));

	/* /activities: root only. */
	json_t *body = json_loads("{\"verb\":\"post\",\"actor\":{}}", 0, NULL), *e = NULL;
	store_err err = { 0 };
	CHECK_RC(store_activity_post(t, &app, NULL, NULL, body, &e, &err), STORE_OK);
	json_decref(body);
	json_decref(e);

	/* /users/u1/activities: u1's activities and feed, every follower's feed;
	** actor filled from the user. */
	body = json_loads("{\"verb\":\"post\"}", 0, NULL);
	CHECK_RC(store_activity_post(t, &app, &u1, NULL, body, &e, &err), STORE_OK);
	json_t *actor = json_object_get(e, "actor");
	CHECK_STR(json_string_value(json_object_get(actor, "email")), "u1@x.org");
	const char *s = json_string_value(json_object_get(e, "uuid"));
	store_id a1;
	CHECK(store_id_parse(S(s), &a1));
	json_decref(body);
	json_decref(e);
	CHECK(has(&u1, STORE_EDGE_COLLECTION, "activities", &a1));
	CHECK(has(&u1, STORE_EDGE_COLLECTION, "feed", &a1));
	CHECK(has(&u2, STORE_EDGE_COLLECTION, "feed", &a1));
	CHECK(has(&u3, STORE_EDGE_COLLECTION, "feed", &a1));
	CHECK(!has(&u4, STORE_EDGE_COLLECTION, "feed", &a1));
	CHECK(!has(&g, STORE_EDGE_COLLECTION, "feed", &a1));

	/* /groups/fans/activities: group activities and feed, members' feeds,
	** not the members' followers. */
	store_id a2 = post(&g, NULL, "{\"verb\":\"post\",\"actor\":{\"displayName\":\"x\"}}");
	CHECK(has(&g, STORE_EDGE_COLLECTION, "activities", &a2));
	CHECK(has(&g, STORE_EDGE_COLLECTION, "feed", &a2));
	CHECK(has(&u1, STORE_EDGE_COLLECTION, "feed", &a2));
	CHECK(has(&u2, STORE_EDGE_COLLECTION, "feed", &a2));
	CHECK(has(&u4, STORE_EDGE_COLLECTION, "feed", &a2));
	CHECK(!has(&u3, STORE_EDGE_COLLECTION, "feed", &a2));
	CHECK(!has(&u1, STORE_EDGE_COLLECTION, "activities", &a2));

	/* /groups/fans/users/u1/activities: u1's activities and feed, followers
	** of u1 who are members; not the group's activities or feed. */
	store_id a3 = post(&u1, &g, "{\"verb\":\"post\"}");
	CHECK(has(&u1, STORE_EDGE_COLLECTION, "activities", &a3));
	CHECK(has(&u1, STORE_EDGE_COLLECTION, "feed", &a3));
	CHECK(has(&u2, STORE_EDGE_COLLECTION, "feed", &a3));
	CHECK(!has(&u3, STORE_EDGE_COLLECTION, "feed", &a3));
	CHECK(!has(&u4, STORE_EDGE_COLLECTION, "feed", &a3));
	CHECK(!has(&g, STORE_EDGE_COLLECTION, "feed", &a3));
	CHECK(!has(&g, STORE_EDGE_COLLECTION, "activities", &a3));

	/* Feeds list newest first. */
	store_id ids[10];
	size_t n;
	CHECK_RC(store_edge_list(t, &app, &u2, STORE_EDGE_COLLECTION, "feed", NULL, 10, ids, &n, NULL), STORE_OK);
	CHECK(n == 4);
	CHECK(memcmp(ids[0].b, a3.b, 16) == 0 && memcmp(ids[3].b, early.b, 16) == 0);

	/* Activities need actor and verb. */
	body = json_loads("{\"verb\":\"post\"}", 0, NULL);
	CHECK_RC(store_activity_post(t, &app, &g, NULL, body, &e, &err), STORE_REQUIRED);
	json_decref(body);

	/* Deleting an activity takes it out of every feed. */
	CHECK_RC(store_entity_delete(t, &app, &a1, NULL, NULL), STORE_OK);
	CHECK(!has(&u2, STORE_EDGE_COLLECTION, "feed", &a1) && !has(&u3, STORE_EDGE_COLLECTION, "feed", &a1));
	/* Deleting a user takes its follow edges with it. */
	CHECK_RC(store_entity_delete(t, &app, &u2, NULL, NULL), STORE_OK);
	CHECK(count(&u1, STORE_EDGE_IN, "following") == 1);
	CHECK(count(&g, STORE_EDGE_COLLECTION, "users") == 2);
}

static void
test_dicts_and_secrets(void)
{
	store_id r = make("role", "{\"name\":\"reviewer\"}");
	json_t *list = NULL;
	CHECK_RC(store_dict_add(t, &app, &r, "permissions", "get,put:/reviews/**"), STORE_OK);
	CHECK_RC(store_dict_add(t, &app, &r, "permissions", "get:/books/*"), STORE_OK);
	CHECK_RC(store_dict_add(t, &app, &r, "permissions", "get:/books/*"), STORE_OK);
	CHECK_RC(store_dict_list(t, &app, &r, "permissions", &list), STORE_OK);
	CHECK(json_array_size(list) == 2);
	CHECK_STR(json_string_value(json_array_get(list, 0)), "get,put:/reviews/**");
	json_decref(list);
	CHECK_RC(store_dict_remove(t, &app, &r, "permissions", "get:/books/*"), STORE_OK);
	CHECK_RC(store_dict_remove(t, &app, &r, "permissions", "get:/books/*"), STORE_NOTFOUND);
	CHECK_RC(store_dict_add(t, &app, &r, "permissions", "post:/x"), STORE_OK);
	CHECK_RC(store_dict_add(t, &app, &r, "permissions", "put:/y"), STORE_OK);
	CHECK_RC(store_entity_delete(t, &app, &r, NULL, NULL), STORE_OK);   /* 3 entries go */
	CHECK_RC(store_dict_list(t, &app, &r, "permissions", &list), STORE_OK);
	CHECK(json_array_size(list) == 0);
	json_decref(list);

	store_id u = make("user", "{\"username\":\"pw\",\"password\":\"s3cret!!\"}");
	CHECK_RC(store_secret_check(t, &app, &u, "password", "s3cret!!"), STORE_OK);
	CHECK_RC(store_secret_check(t, &app, &u, "password", "wrong"), STORE_NOTFOUND);
	CHECK_RC(store_secret_check(t, &app, &u, "pin", "1234"), STORE_NOTFOUND);
	json_t *e = NULL;
	CHECK_RC(store_entity_get(t, &app, &u, &e), STORE_OK);
	CHECK(json_object_get(e, "password") == NULL);
	json_decref(e);
	CHECK_RC(store_entity_delete(t, &app, &u, NULL, NULL), STORE_OK);
	CHECK_RC(store_secret_check(t, &app, &u, "password", "s3cret!!"), STORE_NOTFOUND);

	/* Gravatar from the trimmed, lower-cased e-mail. */
	store_id g = make("user", "{\"username\":\"grav\",\"email\":\" John.Doe@Mail.com \"}");
	CHECK_RC(store_entity_get(t, &app, &g, &e), STORE_OK);
	CHECK_STR(json_string_value(json_object_get(e, "picture")),
	          "https://www.gravatar.com/avatar/fe1dad0128df2f64a8e50ba221fff1d1");
	json_decref(e);
}

/* The feed of user, oldest_first or not, in pages of `page` by position:
** the ids into out (at most max); returns how many. */
static size_t
feed_of(const store_id *user, int oldest_first, size_t page, store_id *out, size_t max)
{
	store_pos pos = { .set = 0 }, poss[8];
	store_id ids[8];
	size_t n, total = 0;
	do {
		CHECK_RC(store_edge_scan_dir(t, &app, user, STORE_EDGE_COLLECTION, "feed", oldest_first,
		                             &pos, page, ids, poss, &n), STORE_OK);
		for (size_t i = 0; i < n && total < max; i++) {
			uint64_t time;
			CHECK_RC(store_edge_time(t, &app, user, STORE_EDGE_COLLECTION, "feed", &ids[i],
			                         &time), STORE_OK);
			store_pos made;
			store_pos_make(&made, time, &ids[i]);
			CHECK(memcmp(made.b, poss[i].b, STORE_POS_SIZE) == 0);
			out[total++] = ids[i];
		}
		if (n) pos = poss[n - 1];
	} while (n == page && total < max);     /* a feed that repeats itself ends too */
	return total;
}

static int
feed_is(const store_id *user, const store_id *want, size_t n)
{
	store_id got[16];
	int ok = 1;
	for (int dir = 0; dir < 2; dir++)
		for (size_t page = 1; page <= 4; page++) {
			size_t k = feed_of(user, dir, page, got, 16);
			ok &= k == n;
			for (size_t i = 0; ok && i < n; i++)
				ok &= memcmp(got[i].b, want[dir ? n - 1 - i : i].b, 16) == 0;
		}
	return ok;
}

/* A group of more than feed_copy_max members shares a post instead of
** copying it: a member's feed shows it iff the member was in the group
** when it was posted, as the copy would; the feed merges both paths. */
static void
test_shared_feed(void)
{
	store *s2 = db;
	store_txn *t2 = t;
	store_options opt = { .feed_copy_set = 1, .feed_copy_max = 1 };
	store_err err = { 0 };
	store_org org;
	char *dir = tmpdir_new();
	CHECK_RC(store_open(dir, &opt, &db, &err), STORE_OK);
	CHECK_RC(store_txn_begin(db, STORE_TXN_WRITE, &t), STORE_OK);
	CHECK_RC(store_org_create(t, S("org2"), &org, &err), STORE_OK);
	CHECK_RC(store_app_create(t, &org, S("app2"), &app, &err), STORE_OK);

	store_id g = make("group", "{\"path\":\"many\"}");
	store_id a = make("user", "{\"username\":\"a\"}");
	store_id b = make("user", "{\"username\":\"b\"}");
	store_id c = make("user", "{\"username\":\"c\"}");
	const char *act = "{\"verb\":\"post\",\"actor\":{}}";

	CHECK_RC(store_coll_add(t, &app, &g, "group", "users", &a), STORE_OK);
	store_id p1 = post(&g, NULL, act);                 /* 1 member: copied */
	CHECK(count(&a, STORE_EDGE_COLLECTION, "feed") == 1);
	CHECK_RC(store_coll_add(t, &app, &b, "user", "groups", &g), STORE_OK);
	store_id p2 = post(&g, NULL, act);                 /* 2: shared */
	CHECK(count(&a, STORE_EDGE_COLLECTION, "feed") == 1);
	CHECK(has(&a, STORE_EDGE_COLLECTION, "feed", &p2) && has(&b, STORE_EDGE_COLLECTION, "feed", &p2));
	CHECK(!has(&c, STORE_EDGE_COLLECTION, "feed", &p2) && !has(&b, STORE_EDGE_COLLECTION, "feed", &p1));
	store_id ua = post(&a, NULL, act);                 /* a's own post */
	CHECK_RC(store_coll_remove(t, &app, &a, "user", "groups", &g), STORE_OK);
	CHECK_RC(store_coll_add(t, &app, &g, "group", "users", &c), STORE_OK);
	CHECK_RC(store_coll_add(t, &app, &g, "group", "users", &b), STORE_OK);  /* again */
	store_id p3 = post(&g, NULL, act);                 /* b and c, not a */
	CHECK_RC(store_coll_add(t, &app, &g, "group", "users", &a), STORE_OK);
	store_id p4 = post(&g, NULL, act);
	CHECK(feed_is(&a, (store_id[]){ p4, ua, p2, p1 }, 4));
	CHECK(feed_is(&b, (store_id[]){ p4, p3, p2 }, 3));
	CHECK(feed_is(&c, (store_id[]){ p4, p3 }, 2));
	CHECK(feed_is(&g, (store_id[]){ p4, p3, p2, p1 }, 4));   /* the group's own */

	/* Deleting a shared activity takes it out of every feed; deleting the
	** group leaves what it delivered. */
	CHECK_RC(store_entity_delete(t, &app, &p2, NULL, NULL), STORE_OK);
	CHECK(feed_is(&a, (store_id[]){ p4, ua, p1 }, 3));
	CHECK(feed_is(&b, (store_id[]){ p4, p3 }, 2));
	CHECK_RC(store_entity_delete(t, &app, &c, NULL, NULL), STORE_OK);
	CHECK_RC(store_entity_delete(t, &app, &g, NULL, NULL), STORE_OK);
	CHECK(feed_is(&a, (store_id[]){ p4, ua, p1 }, 3));
	CHECK(feed_is(&b, (store_id[]){ p4, p3 }, 2));
	CHECK_RC(store_txn_commit(t), STORE_OK);

	store_check_stats st = { 0 };
	CHECK_RC(store_check(db, 0, NULL, &st), STORE_OK);
	CHECK(st.faults == 0);
	store_close(db);
	tmpdir_remove(dir);
	db = s2;
	t = t2;
}

int
main(void)
{
	char *dir = fixture_open(&db, &t, &app);

	test_membership();
	test_group_paths();
	test_fanout();
	test_dicts_and_secrets();
	store_app first = app;
	test_shared_feed();
	app = first;
	fixture_close(dir, db, t);
	printf("test_relations: %d checks\n", check_count);
	return 0;
}
