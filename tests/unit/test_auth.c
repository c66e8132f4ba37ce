/*
** test_auth.c: core's authentication without a socket (core/auth.h):
** tokens (issue, lookup, expiry, revocation, purge in expiry order),
** client credentials, password grants, and the permission decision for
** every kind of subject: the default and guest roles, direct grants,
** roles, roles of groups, ${user}, and other apps' and orgs' subjects.
*/
#include "tests/unit/check.h"

#include "core/auth.h"
#include "core/store_int.h"        /* kv_put: malformed keys and records planted */

static store *db;
static store_app app, app2;
static store_org org, org2;
static store_txn *t;

static store_id
make(const store_app *a, const char *type, const char *json)
{
	json_t *body = json_loads(json, 0, NULL), *e = NULL;
	store_err err = { 0 };
	store_id id;
	CHECK(body);
	CHECK_RC(store_entity_create(t, a, type, body, NULL, &e, &err), STORE_OK);
	CHECK_RC(store_entity_id(e, &id), STORE_OK);
	json_decref(body);
	json_decref(e);
	return id;
}

static store_id
role(const char *name)
{
	store_id id;
	CHECK_RC(store_entity_find(t, &app, "role", S(name), &id), STORE_OK);
	return id;
}

static auth_verdict
check(const auth_subject *who, const char *method, const char *path)
{
	auth_verdict v;
	CHECK_RC(auth_check(t, &app, who, method, path, &v), STORE_OK);
	return v;
}

static void
test_tokens(void)
{
	auth_subject who = { .kind = AUTH_APPUSER, .scope = app.uuid }, got;
	char tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1], tok3[AUTH_TOKEN_LEN + 1];
	int64_t now = store_now_ms();
	size_t n;

	store_id_new(&who.id);
	who.expires = now + 60000;
	CHECK_RC(auth_token_issue(t, &who, tok), STORE_OK);
	CHECK(strlen(tok) == AUTH_TOKEN_LEN && strspn(tok,
	      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == AUTH_TOKEN_LEN);
	CHECK_RC(auth_token_issue(t, &who, tok2), STORE_OK);
	CHECK(strcmp(tok, tok2) != 0);
	CHECK_RC(auth_token_lookup(t, tok, &got), STORE_OK);
	CHECK(got.kind == AUTH_APPUSER && got.expires == who.expires &&
	      memcmp(got.id.b, who.id.b, 16) == 0 && memcmp(got.scope.b, app.uuid.b, 16) == 0);
	CHECK_RC(auth_token_lookup(t, "nonsense", &got), STORE_NOTFOUND);
	CHECK_RC(auth_token_lookup(t, "", &got), STORE_NOTFOUND);
	tok[0] ^= 1;
	CHECK_RC(auth_token_lookup(t, tok, &got), STORE_NOTFOUND);
	tok[0] ^= 1;

	/* one revoked, the other still good; then all of the subject's */
	CHECK_RC(auth_token_revoke(t, tok), STORE_OK);
	CHECK_RC(auth_token_lookup(t, tok, &got), STORE_NOTFOUND);
	CHECK_RC(auth_token_revoke(t, tok), STORE_NOTFOUND);
	CHECK_RC(auth_token_lookup(t, tok2, &got), STORE_OK);
	auth_subject other = who;
	store_id_new(&other.id);
	CHECK_RC(auth_token_issue(t, &other, tok3), STORE_OK);
	CHECK_RC(auth_token_issue(t, &who, tok), STORE_OK);
	CHECK_RC(auth_token_revoke_all(t, &who), STORE_OK);
	CHECK_RC(auth_token_lookup(t, tok, &got), STORE_NOTFOUND);
	CHECK_RC(auth_token_lookup(t, tok2, &got), STORE_NOTFOUND);
	CHECK_RC(auth_token_lookup(t, tok3, &got), STORE_OK);

	/* expired tokens are still found (the caller says "expired") until a
	** purge, which goes in expiry order and stops at max or at now; issuing
	** purges those expired over a day ago */
	who.expires = now - AUTH_PURGE_GRACE_MS - 2000;
	CHECK_RC(auth_token_issue(t, &who, tok), STORE_OK);
	who.expires = now - 1000;
	CHECK_RC(auth_token_issue(t, &who, tok2), STORE_OK);
	who.expires = 0;                                     /* never expires */
	char forever[AUTH_TOKEN_LEN + 1];
	CHECK_RC(auth_token_issue(t, &who, forever), STORE_OK);
	CHECK_RC(auth_token_lookup(t, tok, &got), STORE_NOTFOUND);   /* purged */
	CHECK_RC(auth_token_lookup(t, tok2, &got), STORE_OK);         /* still expired */
	CHECK(got.expires == now - 1000);
	CHECK_RC(auth_token_purge(t, now, 10, &n), STORE_OK);
	CHECK(n == 1);
	CHECK_RC(auth_token_lookup(t, tok2, &got), STORE_NOTFOUND);
	CHECK_RC(auth_token_lookup(t, forever, &got), STORE_OK);
	CHECK(got.expires == 0);
	who.expires = now + 1000;
	CHECK_RC(auth_token_issue(t, &who, tok), STORE_OK);
	CHECK_RC(auth_token_purge(t, now, 10, &n), STORE_OK);
	CHECK(n == 0);
	CHECK_RC(auth_token_lookup(t, tok, &got), STORE_OK);
	CHECK(got.expires <= now + 1000);
	CHECK_RC(auth_token_purge(t, now + 5000, 10, &n), STORE_OK);
	CHECK(n == 1);   /* tok; tok3 lives until now + 60 s */
	CHECK_RC(auth_token_lookup(t, tok, &got), STORE_NOTFOUND);
	CHECK_RC(auth_token_lookup(t, forever, &got), STORE_OK);
	CHECK_RC(auth_token_revoke_all(t, &who), STORE_OK);
	CHECK_RC(auth_token_lookup(t, forever, &got), STORE_NOTFOUND);
}

/* A malformed expiry key (the shape's prefix alone, or a longer key) is
** dropped by the purge, which goes on to the expired tokens after it. */
static void
test_purge_malformed(void)
{
	auth_subject who = { .kind = AUTH_APPUSER, .scope = app.uuid }, got;
	char tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1];
	unsigned char junk[40] = { 0 };
	int64_t now = store_now_ms();
	keybuf k, prefix;
	size_t n;

	store_id_new(&who.id);
	who.expires = now - 2000;
	CHECK_RC(auth_token_issue(t, &who, tok), STORE_OK);
	who.expires = now - 1000;
	CHECK_RC(auth_token_issue(t, &who, tok2), STORE_OK);
	key_token_expiry(&k, now - 3000, NULL);              /* no hash: 9 bytes */
	CHECK_RC(kv_put(t, DBI_TOKENS, &k, "", 0), STORE_OK);
	key_token_expiry(&k, now - 1500, NULL);              /* a longer one, between */
	key_put(&k, junk, sizeof junk);
	CHECK_RC(kv_put(t, DBI_TOKENS, &k, "", 0), STORE_OK);
	CHECK_RC(auth_token_purge(t, now, 10, &n), STORE_OK);
	CHECK(n == 4);
	CHECK_RC(auth_token_lookup(t, tok, &got), STORE_NOTFOUND);
	CHECK_RC(auth_token_lookup(t, tok2, &got), STORE_NOTFOUND);
	key_lead(&prefix, 'e');
	kv_scan sc;
	CHECK_RC(kv_scan_begin(&sc, t, DBI_TOKENS, &prefix, NULL, 0), STORE_OK);
	while (kv_scan_next(&sc))                           /* left: those not expired */
		CHECK((int64_t)key_get_u64((const unsigned char *)sc.k.mv_data + 1) > now);
	CHECK_RC(kv_scan_end(&sc, STORE_OK), STORE_OK);
}

/* Overwrites the stored record of who's token (its subject id is its
** own) with bytes no token record has. */
static void
spoil_record(const store_id *subject)
{
	keybuf prefix, k;
	kv_scan sc;
	int spoiled = 0;
	key_lead(&prefix, 'h');
	CHECK_RC(kv_scan_begin(&sc, t, DBI_TOKENS, &prefix, NULL, 0), STORE_OK);
	while (!spoiled && kv_scan_next(&sc))
		if (sc.v.mv_size > 33 && memcmp((const char *)sc.v.mv_data + 17, subject->b, 16) == 0) {
			key_raw(&k, sc.k.mv_data, sc.k.mv_size);
			spoiled = 1;
		}
	CHECK_RC(kv_scan_end(&sc, STORE_OK), STORE_OK);
	CHECK(spoiled);
	CHECK_RC(kv_put(t, DBI_TOKENS, &k, "\x07junk", 5), STORE_OK);
}

/* A token whose stored record cannot be read: the purge drops its expiry
** key and goes on to the expired tokens after it, where it stopped there
** with STORE_CORRUPT (and so did every token issue after it); revoking
** every token of its subject drops its subject key and goes on. */
static void
test_purge_unreadable(void)
{
	auth_subject who = { .kind = AUTH_APPUSER, .scope = app.uuid }, other = who, got;
	char bad[AUTH_TOKEN_LEN + 1], tok[AUTH_TOKEN_LEN + 1];
	int64_t now = store_now_ms();
	size_t n;

	store_id_new(&who.id);
	store_id_new(&other.id);
	who.expires = now - 2000;
	CHECK_RC(auth_token_issue(t, &who, bad), STORE_OK);
	spoil_record(&who.id);
	other.expires = now - 1000;
	CHECK_RC(auth_token_issue(t, &other, tok), STORE_OK);
	CHECK_RC(auth_token_purge(t, now, 10, &n), STORE_OK);
	CHECK(n == 2);
	CHECK_RC(auth_token_lookup(t, tok, &got), STORE_NOTFOUND);
	CHECK_RC(auth_token_lookup(t, bad, &got), STORE_CORRUPT);   /* check's to report */
	CHECK_RC(auth_token_purge(t, now, 10, &n), STORE_OK);
	CHECK(n == 0);
	/* nor does revoking every token of a subject stop at one */
	who.expires = now + 60000;
	CHECK_RC(auth_token_issue(t, &who, bad), STORE_OK);
	spoil_record(&who.id);
	CHECK_RC(auth_token_issue(t, &who, tok), STORE_OK);
	CHECK_RC(auth_token_revoke_all(t, &who), STORE_OK);
	CHECK_RC(auth_token_lookup(t, tok, &got), STORE_NOTFOUND);
}

static void
app_set(const char *json)
{
	json_t *out = NULL, *body = json_loads(json, 0, NULL);
	store_err err = { 0 };
	CHECK_RC(store_app_update(t, &app, body, &out, &err), STORE_OK);
	json_decref(out);
	json_decref(body);
}

static void
test_expiry(void)
{
	int64_t e;
	store_err err = { 0 };
	CHECK_RC(auth_expiry(t, &app, 0, 1000, &e, &err), STORE_OK);
	CHECK(e == 1000 + AUTH_TTL_DEFAULT_MS);
	CHECK_RC(auth_expiry(t, &app, 5000, 1000, &e, &err), STORE_OK);
	CHECK(e == 6000);
	CHECK_RC(auth_expiry(t, &app, AUTH_TTL_DEFAULT_MS, 1000, &e, &err), STORE_OK);
	CHECK(e == 1000 + AUTH_TTL_DEFAULT_MS);
	/* past the longest life: refused, not cut (Usergrid's ttlOverMax) */
	CHECK_RC(auth_expiry(t, &app, AUTH_TTL_DEFAULT_MS + 1, 1000, &e, &err), STORE_INVALID);
	CHECK(strcmp(err.msg, "Your token age cannot be more than the maximum age of "
	                      "604800000 milliseconds") == 0);
	CHECK_RC(auth_expiry(t, NULL, INT64_MAX, 1000, &e, NULL), STORE_INVALID);
	app_set("{\"accessTokenTtl\": 30000}");
	CHECK_RC(auth_expiry(t, &app, 0, 1000, &e, &err), STORE_OK);
	CHECK(e == 31000);
	CHECK_RC(auth_expiry(t, &app, 30000, 1000, &e, &err), STORE_OK);
	CHECK(e == 31000);
	CHECK_RC(auth_expiry(t, &app, 30001, 1000, &e, &err), STORE_INVALID);
	CHECK(strstr(err.msg, " 30000 milliseconds") != NULL);
	CHECK_RC(auth_expiry(t, &app, AUTH_TTL_DEFAULT_MS, 1000, &e, &err), STORE_INVALID);
	app_set("{\"accesstokenttl\": \"31536000000\"}");      /* as Usergrid's tests send it */
	CHECK_RC(auth_expiry(t, &app, 0, 1000, &e, &err), STORE_OK);
	CHECK(e == 1000 + 31536000000LL);
	app_set("{\"accesstokenttl\": 0}");                      /* no limit */
	CHECK_RC(auth_expiry(t, &app, 0, 1000, &e, &err), STORE_OK);
	CHECK(e == 0);
	CHECK_RC(auth_expiry(t, &app, 5000, 1000, &e, &err), STORE_OK);
	CHECK(e == 6000);
	CHECK_RC(auth_expiry(t, &app, INT64_MAX, 1000, &e, &err), STORE_OK);
	CHECK(e == 0);                                           /* never, not an overflow */
	CHECK_RC(auth_expiry(t, NULL, 0, 1000, &e, &err), STORE_OK);
	CHECK(e == 1000 + AUTH_TTL_DEFAULT_MS);
	app_set("{\"accesstokenttl\": null}");
}

static void
test_clients(void)
{
	char id[AUTH_CLIENT_ID_LEN + 1], secret[AUTH_CLIENT_SECRET_LEN + 1];
	char id2[AUTH_CLIENT_ID_LEN + 1], secret2[AUTH_CLIENT_SECRET_LEN + 1];
	auth_subject who;

	CHECK_RC(auth_client_get(t, AUTH_APP, &app.uuid, id, secret), STORE_OK);
	CHECK(strncmp(id, "YXA6", 4) == 0 && strlen(id) == AUTH_CLIENT_ID_LEN);
	CHECK(strlen(secret) == AUTH_CLIENT_SECRET_LEN);
	CHECK_RC(auth_client_get(t, AUTH_APP, &app.uuid, id2, secret2), STORE_OK);
	CHECK(strcmp(id, id2) == 0 && strcmp(secret, secret2) == 0);   /* stable */
	CHECK_RC(auth_client_check(t, id, secret, &who), STORE_OK);
	CHECK(who.kind == AUTH_APP && memcmp(who.scope.b, app.uuid.b, 16) == 0);
	CHECK_RC(auth_client_check(t, id, "wrong", &who), STORE_NOTFOUND);
	CHECK_RC(auth_client_check(t, "YXA6short", secret, &who), STORE_NOTFOUND);

	/* regenerating changes the secret, not the id */
	CHECK_RC(auth_client_regenerate(t, AUTH_APP, &app.uuid), STORE_OK);
	CHECK_RC(auth_client_get(t, AUTH_APP, &app.uuid, id2, secret2), STORE_OK);
	CHECK(strcmp(id, id2) == 0 && strcmp(secret, secret2) != 0);
	CHECK_RC(auth_client_check(t, id, secret, &who), STORE_NOTFOUND);
	CHECK_RC(auth_client_check(t, id2, secret2, &who), STORE_OK);

	/* an org's credentials; the other app's secret does not open this one */
	CHECK_RC(auth_client_get(t, AUTH_ORG, &org.uuid, id, secret), STORE_OK);
	CHECK(strncmp(id, "b3U6", 4) == 0);
	CHECK_RC(auth_client_check(t, id, secret, &who), STORE_OK);
	CHECK(who.kind == AUTH_ORG && memcmp(who.scope.b, org.uuid.b, 16) == 0);
	CHECK_RC(auth_client_get(t, AUTH_APP, &app2.uuid, id, secret), STORE_OK);
	CHECK_RC(auth_client_check(t, id2, secret, &who), STORE_NOTFOUND);

	CHECK(auth_secret_eq("abc", "abc") && !auth_secret_eq("abc", "abd") &&
	      !auth_secret_eq("abc", "abcd") && auth_secret_eq("", ""));
}

static void
test_passwords(void)
{
	store_id u = make(&app, "user", "{\"username\":\"pat\",\"email\":\"pat@x.org\"}");
	auth_subject who;
	store_err err = { 0 };
	json_t *user = NULL, *out = NULL;

	CHECK_RC(store_secret_set(t, &app, &u, "password", "s3cret!"), STORE_POLICY);
	CHECK_RC(store_secret_set(t, &app, &u, "pin", "1234"), STORE_OK);
	CHECK_RC(store_secret_set(t, &app, &u, "password", "s3cret!!"), STORE_OK);
	CHECK_RC(auth_password_user(t, &app, "pat", "password", "s3cret!!", &who, &user, &err),
	         STORE_OK);
	CHECK(who.kind == AUTH_APPUSER && memcmp(who.id.b, u.b, 16) == 0);
	CHECK_STR(json_string_value(json_object_get(user, "username")), "pat");
	json_decref(user);
	CHECK_RC(auth_password_user(t, &app, "PAT@x.org", "password", "s3cret!!", &who, NULL, &err),
	         STORE_OK);
	CHECK_RC(auth_password_user(t, &app, "pat", "password", "wrong", &who, NULL, &err),
	         STORE_NOTFOUND);
	CHECK_STR(err.msg, "invalid username or password");
	CHECK_RC(auth_password_user(t, &app, "nobody", "password", "s3cret!!", &who, NULL, &err),
	         STORE_NOTFOUND);
	CHECK_RC(auth_password_user(t, &app2, "pat", "password", "s3cret!!", &who, NULL, &err),
	         STORE_NOTFOUND);
	CHECK_RC(auth_password_user(t, &app, "pat", "pin", "s3cret!!", &who, NULL, &err),
	         STORE_NOTFOUND);
	json_t *body = json_pack("{s:b}", "activated", 0);
	CHECK_RC(store_entity_update(t, &app, &u, body, &out, &err), STORE_OK);
	json_decref(body);
	json_decref(out);
	CHECK_RC(auth_password_user(t, &app, "pat", "password", "s3cret!!", &who, NULL, &err),
	         STORE_CONFLICT);
	CHECK_STR(err.msg, "user not activated");

	/* admins: users of the management space, admins of their orgs only */
	json_t *admin = json_pack("{s:s, s:s, s:s}", "username", "boss", "email", "boss@x.org",
	                          "password", "hunter22");
	CHECK_RC(store_admin_create(t, &org, admin, &out, &err), STORE_OK);
	json_decref(admin);
	json_decref(out);
	CHECK_RC(auth_password_admin(t, "boss", "hunter22", &who, NULL, &err), STORE_OK);
	CHECK(who.kind == AUTH_ADMIN);
	CHECK_RC(auth_admin_of(t, &org.uuid, &who.id), STORE_OK);
	CHECK_RC(auth_admin_of(t, &org2.uuid, &who.id), STORE_NOTFOUND);
	CHECK_RC(auth_password_admin(t, "boss", "hunter2", &who, NULL, &err), STORE_NOTFOUND);
	CHECK_RC(auth_password_admin(t, "pat", "s3cret!!", &who, NULL, &err), STORE_NOTFOUND);
}

static void
test_decisions(void)
{
	store_id u = make(&app, "user", "{\"username\":\"fred\"}");
	store_id g = make(&app, "group", "{\"path\":\"cats/owners\"}");
	store_id r = make(&app, "role", "{\"name\":\"catkeeper\"}");
	store_id r2 = make(&app, "role", "{\"name\":\"dogkeeper\"}");
	auth_subject anon = { .kind = AUTH_ANON };
	auth_subject fred = { .kind = AUTH_APPUSER, .scope = app.uuid, .id = u };
	auth_subject elsewhere = { .kind = AUTH_APPUSER, .scope = app2.uuid, .id = u };
	auth_subject su = { .kind = AUTH_SUPERUSER };
	auth_subject org_c = { .kind = AUTH_ORG, .scope = org.uuid, .id = org.uuid };
	auth_subject org2_c = { .kind = AUTH_ORG, .scope = org2.uuid, .id = org2.uuid };
	auth_subject app_c = { .kind = AUTH_APP, .scope = app.uuid, .id = app.uuid };
	auth_subject app2_c = { .kind = AUTH_APP, .scope = app2.uuid, .id = app2.uuid };
	char path[80], uuid[37];
	store_id_format(&u, uuid);

	/* the default roles as created: guest may only sign up and register
	** devices; default (any signed-in user) may do anything */
	CHECK(check(&anon, "POST", "/users") == AUTH_ALLOW);
	CHECK(check(&anon, "POST", "/devices") == AUTH_ALLOW);
	CHECK(check(&anon, "PUT", "/devices/d1") == AUTH_ALLOW);
	CHECK(check(&anon, "GET", "/users") == AUTH_DENY);
	CHECK(check(&anon, "GET", "/cats") == AUTH_DENY);
	CHECK(check(&fred, "DELETE", "/cats/tom") == AUTH_ALLOW);
	store_id def = role("default");
	CHECK_RC(store_dict_remove(t, &app, &def, "permissions", "get,put,post,delete:/**"),
	         STORE_OK);
	CHECK(check(&fred, "DELETE", "/cats/tom") == AUTH_DENY);
	CHECK(check(&fred, "GET", "/cats/tom") == AUTH_DENY);

	/* an open app: guest and default may do anything */
	auth_verdict v;
	auth_subject anon2 = anon;
	CHECK_RC(auth_check(t, &app2, &anon2, "DELETE", "/cats/tom", &v), STORE_OK);
	CHECK(v == AUTH_DENY);
	CHECK_RC(store_app_open(t, &app2), STORE_OK);
	CHECK_RC(auth_check(t, &app2, &anon2, "DELETE", "/cats/tom", &v), STORE_OK);
	CHECK(v == AUTH_ALLOW);

	/* implicit: the user's own entity, by me, name or uuid; not delete */
	CHECK(check(&fred, "GET", "/users/me") == AUTH_ALLOW);
	snprintf(path, sizeof path, "/users/%s", uuid);
	CHECK(check(&fred, "GET", path) == AUTH_ALLOW);
	CHECK(check(&fred, "GET", "/users/FRED") == AUTH_ALLOW);
	CHECK(check(&fred, "DELETE", "/users/me") == AUTH_DENY);
	CHECK(check(&fred, "GET", "/users/other") == AUTH_DENY);

	/* a direct grant, with ${user} */
	CHECK_RC(store_dict_add(t, &app, &u, "permissions", "put:/users/${user}/**"), STORE_OK);
	CHECK(check(&fred, "PUT", "/users/fred/likes/x") == AUTH_ALLOW);
	CHECK(check(&fred, "PUT", "/users/bob/likes/x") == AUTH_DENY);
	/* the username is read on demand: a grant naming "ME" in capitals too */
	CHECK(check(&fred, "GET", "/likes/fred") == AUTH_DENY);
	CHECK_RC(store_dict_add(t, &app, &u, "permissions", "get:/likes/ME"), STORE_OK);
	CHECK(check(&fred, "GET", "/likes/fred") == AUTH_ALLOW);
	CHECK(check(&fred, "GET", "/likes/bob") == AUTH_DENY);

	/* the user's role */
	CHECK_RC(store_dict_add(t, &app, &r2, "permissions", "get:/dogs/**"), STORE_OK);
	CHECK(check(&fred, "GET", "/dogs/rex") == AUTH_DENY);
	CHECK_RC(store_coll_add(t, &app, &u, "user", "roles", &r2), STORE_OK);
	CHECK(check(&fred, "GET", "/dogs/rex") == AUTH_ALLOW);

	/* a group's role, and a group's own grant */
	CHECK_RC(store_dict_add(t, &app, &r, "permissions", "get,post:/cats/*"), STORE_OK);
	CHECK_RC(store_coll_add(t, &app, &g, "group", "roles", &r), STORE_OK);
	CHECK(check(&fred, "GET", "/cats/tom") == AUTH_DENY);
	CHECK_RC(store_coll_add(t, &app, &g, "group", "users", &u), STORE_OK);
	CHECK(check(&fred, "GET", "/cats/tom") == AUTH_ALLOW);
	CHECK(check(&fred, "POST", "/cats/tom") == AUTH_ALLOW);
	CHECK(check(&fred, "PUT", "/cats/tom") == AUTH_DENY);
	CHECK(check(&fred, "DELETE", "/cats/tom") == AUTH_DENY);
	CHECK_RC(store_dict_add(t, &app, &g, "permissions", "delete:/cats/*"), STORE_OK);
	CHECK(check(&fred, "DELETE", "/cats/tom") == AUTH_ALLOW);
	/* the same user id presented for another app reaches nothing here */
	CHECK(check(&elsewhere, "GET", "/cats/tom") == AUTH_DENY);
	CHECK(check(&elsewhere, "GET", "/users/me") == AUTH_DENY);

	/* credentials and the superuser bypass permissions in their scope only */
	CHECK(check(&su, "DELETE", "/anything") == AUTH_ALLOW);
	CHECK(check(&org_c, "DELETE", "/anything") == AUTH_ALLOW);
	CHECK(check(&org2_c, "GET", "/anything") == AUTH_DENY);
	CHECK(check(&app_c, "DELETE", "/anything") == AUTH_ALLOW);
	CHECK(check(&app2_c, "GET", "/anything") == AUTH_DENY);
	CHECK_RC(auth_check_org(t, &org, &org_c, &v), STORE_OK);
	CHECK(v == AUTH_ALLOW);
	CHECK_RC(auth_check_org(t, &org, &org2_c, &v), STORE_OK);
	CHECK(v == AUTH_DENY);
	CHECK_RC(auth_check_org(t, &org, &app_c, &v), STORE_OK);
	CHECK(v == AUTH_DENY);
	CHECK_RC(auth_check_org(t, &org, &anon, &v), STORE_OK);
	CHECK(v == AUTH_DENY);

	/* a deleted user's token reaches nothing */
	CHECK_RC(store_entity_delete(t, &app, &u, NULL, NULL), STORE_OK);
	CHECK(check(&fred, "GET", "/users/me") == AUTH_DENY);

	/* no guest role: anonymous requests are refused as such */
	store_id guest = role("guest");
	CHECK_RC(store_entity_delete(t, &app, &guest, NULL, NULL), STORE_OK);
	CHECK(check(&anon, "POST", "/users") == AUTH_NO_GUEST);
}

int
main(void)
{
	store_err err = { 0 };
	char *dir = fixture_open(&db, &t, &app);
	CHECK_RC(store_org_get(t, S("org1"), &org), STORE_OK);
	CHECK_RC(store_app_create(t, &org, S("app2"), &app2, &err), STORE_OK);
	CHECK_RC(store_org_create(t, S("org2"), &org2, &err), STORE_OK);
	test_tokens();
	test_purge_malformed();
	test_purge_unreadable();
	test_expiry();
	test_clients();
	test_passwords();
	test_decisions();
	fixture_close(dir, db, t);
	printf("test_auth: %d checks\n", check_count);
	return 0;
}
