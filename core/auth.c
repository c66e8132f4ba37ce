/*
** auth.c: tokens, client credentials, password grants and the permission
** decision of a request (spec 1.5, 1.6, 7).  The permission strings
** themselves are matched by perm.c; see auth.h for the model and keys.h
** for the `tokens` layout.
**
** Nothing secret is stored in the clear: a token is kept as its SHA-256
** (it has 256 random bits, so a fast hash suffices), a client secret is
** derived from the store's random key, passwords are yescrypt (secret.c).
*/
#include "core/auth.h"
#include "core/store_int.h"
#include "core/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <sys/random.h>

#define REC_SIZE (1 + 16 + 16 + 8 + 8)
#define HASH_SIZE SHA256_DIGEST_SIZE
_Static_assert(HASH_SIZE == KEY_SHA256, "a token's keys hold its SHA-256");

static const store_id nil_id;

static int
fill_random(unsigned char *p, size_t n)
{
	while (n) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

store_rc
auth_key_load(store *s)
{
	store_txn *t = NULL;
	keybuf k;
	void *v;
	size_t n;
	store_rc rc = store_txn_begin(s, STORE_TXN_WRITE, &t);
	if (rc) return rc;
	key_meta(&k, "authkey");
	rc = kv_get(t, DBI_META, &k, &v, &n);
	if (rc == STORE_OK && n == sizeof s->auth_key) {
		memcpy(s->auth_key, v, n);
		store_txn_abort(t);
		return STORE_OK;
	}
	if (rc == STORE_OK || rc == STORE_NOTFOUND)
		rc = fill_random(s->auth_key, sizeof s->auth_key) ? STORE_IO : STORE_OK;
	if (rc == STORE_OK) rc = kv_put(t, DBI_META, &k, s->auth_key, sizeof s->auth_key);
	if (rc) {
		store_txn_abort(t);
		return rc;
	}
	return store_txn_commit(t);
}

/* URL-safe base64 of p[0..n) (n <= 32) without padding into out, which
** holds the unpadded text and its NUL (the padding never reaches out). */
static void
b64url(const unsigned char *p, size_t n, char *out)
{
	struct base64_encode_ctx e;
	char buf[BASE64_ENCODE_LENGTH(32) + BASE64_ENCODE_FINAL_LENGTH + 1];
	size_t len;
	base64url_encode_init(&e);
	len = base64_encode_update(&e, buf, n, p);
	len += base64_encode_final(&e, buf + len);
	while (len && buf[len - 1] == '=') len--;
	memcpy(out, buf, len);
	out[len] = '\0';
}

/* Decodes exactly n bytes of URL-safe base64 (no padding) from s. */
static int
b64url_decode(const char *s, size_t slen, unsigned char *out, size_t n)
{
	struct base64_decode_ctx d;
	char padded[64];
	size_t got = n;
	if (slen + 2 >= sizeof padded) return 0;
	memcpy(padded, s, slen);
	while (slen % 4) padded[slen++] = '=';
	base64url_decode_init(&d);
	return base64_decode_update(&d, &got, out, slen, padded) &&
	       base64_decode_final(&d) && got == n;
}

static void
sha256_of(const char *s, size_t n, unsigned char out[HASH_SIZE])
{
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, n, (const uint8_t *)s);
	sha256_digest(&c, HASH_SIZE, out);
}

int
auth_secret_eq(const char *a, const char *b)
{
	size_t n = strlen(a);
	unsigned char diff = 0;
	if (strlen(b) != n) return 0;
	for (size_t i = 0; i < n; i++) diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* ---- token keys ----------------------------------------------------------- */

static void
rec_encode(const auth_subject *who, unsigned char rec[REC_SIZE])
{
	keybuf k;
	key_init(&k);
	key_u8(&k, who->kind);
	key_id(&k, &who->scope);
	key_id(&k, &who->id);
	key_u64(&k, (uint64_t)who->expires);
	key_u64(&k, (uint64_t)store_now_ms());
	memcpy(rec, k.b, REC_SIZE);
}

int
auth_record_ok(const void *v, size_t n)
{
	const unsigned char *p = v;
	return n == REC_SIZE && p[0] >= AUTH_SUPERUSER && p[0] <= AUTH_APP;
}

static store_rc
rec_decode(const void *v, size_t n, auth_subject *who)
{
	const unsigned char *p = v;
	if (!auth_record_ok(v, n)) return STORE_CORRUPT;
	who->kind = (auth_kind)p[0];
	memcpy(who->scope.b, p + 1, 16);
	memcpy(who->id.b, p + 17, 16);
	who->expires = (int64_t)key_get_u64(p + 33);
	return STORE_OK;
}

/* The first key of `tokens` that starts with prefix, copied to key;
** STORE_NOTFOUND when none does. */
static store_rc
first_with_prefix(store_txn *t, const keybuf *prefix, keybuf *key)
{
	kv_scan sc;
	store_rc rc = kv_scan_begin(&sc, t, DBI_TOKENS, prefix, NULL, 0);
	if (rc) return rc;
	int found = kv_scan_next(&sc);
	if (found) key_raw(key, sc.k.mv_data, sc.k.mv_size);
	rc = kv_scan_end(&sc, STORE_OK);
	return rc ? rc : found ? STORE_OK : STORE_NOTFOUND;
}

/* Deletes the three keys of the token whose hash is h. */
static store_rc
token_delete(store_txn *t, const unsigned char h[HASH_SIZE])
{
	auth_subject who;
	keybuf k;
	void *v;
	size_t n;
	store_rc rc;

	key_token_hash(&k, h);
	if ((rc = kv_get(t, DBI_TOKENS, &k, &v, &n))) return rc;
	if ((rc = rec_decode(v, n, &who))) return rc;
	if ((rc = kv_del(t, DBI_TOKENS, &k))) return rc;
	key_token_subject(&k, who.kind, &who.scope, &who.id, h);
	if ((rc = kv_del(t, DBI_TOKENS, &k))) return rc;
	if (!who.expires) return STORE_OK;
	key_token_expiry(&k, who.expires, h);
	return kv_del(t, DBI_TOKENS, &k);
}

/* Deletes the token whose hash is h, come to by the key `via` of a walk
** (its expiry or subject key), and via itself: a key that names no token,
** or names one whose record cannot be read (check's), goes alone, so the
** walk goes on past it. */
static store_rc
token_drop(store_txn *t, const unsigned char h[HASH_SIZE], const keybuf *via)
{
	store_rc rc = token_delete(t, h);
	return rc && rc != STORE_NOTFOUND && rc != STORE_CORRUPT ? rc : kv_del(t, DBI_TOKENS, via);
}

store_rc
auth_token_purge(store_txn *t, int64_t now, size_t max, size_t *count)
{
	size_t done = 0;
	keybuf prefix, key;
	store_rc rc = STORE_OK;

	key_lead(&prefix, 'e');
	while (done < max) {
		rc = first_with_prefix(t, &prefix, &key);
		if (rc) break;
		if (key.n != 1 + 8 + HASH_SIZE)
			rc = kv_del(t, DBI_TOKENS, &key);    /* a malformed expiry key: drop it */
		else if ((int64_t)key_get_u64(key.b + 1) > now)
			break;
		else
			rc = token_drop(t, key.b + 9, &key);
		if (rc) break;
		done++;
	}
	if (count) *count = done;
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

store_rc
auth_token_issue(store_txn *t, const auth_subject *who, char out[AUTH_TOKEN_LEN + 1])
{
	unsigned char raw[AUTH_TOKEN_BYTES], h[HASH_SIZE], rec[REC_SIZE];
	keybuf k;
	store_rc rc;

	if (fill_random(raw, sizeof raw) != 0) return STORE_IO;
	b64url(raw, sizeof raw, out);
	sha256_of(out, strlen(out), h);
	rec_encode(who, rec);
	key_token_hash(&k, h);
	if ((rc = kv_put(t, DBI_TOKENS, &k, rec, sizeof rec))) return rc;
	key_token_subject(&k, who->kind, &who->scope, &who->id, h);
	if ((rc = kv_put(t, DBI_TOKENS, &k, "", 0))) return rc;
	if (who->expires) {
		key_token_expiry(&k, who->expires, h);
		if ((rc = kv_put(t, DBI_TOKENS, &k, "", 0))) return rc;
	}
	return auth_token_purge(t, store_now_ms() - AUTH_PURGE_GRACE_MS, AUTH_PURGE_STEP, NULL);
}

/* The hash of a presented token; 0 when it cannot be one. */
static int
token_hash(const char *token, unsigned char h[HASH_SIZE])
{
	size_t n = strlen(token);
	if (n == 0 || n > AUTH_TOKEN_MAX) return 0;
	sha256_of(token, n, h);
	return 1;
}

store_rc
auth_token_lookup(store_txn *t, const char *token, auth_subject *who)
{
	unsigned char h[HASH_SIZE];
	keybuf k;
	void *v;
	size_t n;
	store_rc rc;

	if (!token_hash(token, h)) return STORE_NOTFOUND;
	key_token_hash(&k, h);
	if ((rc = kv_get(t, DBI_TOKENS, &k, &v, &n))) return rc;
	return rec_decode(v, n, who);
}

store_rc
auth_token_revoke(store_txn *t, const char *token)
{
	unsigned char h[HASH_SIZE];
	if (!token_hash(token, h)) return STORE_NOTFOUND;
	return token_delete(t, h);
}

store_rc
auth_token_revoke_all(store_txn *t, const auth_subject *who)
{
	keybuf prefix, key;
	store_rc rc;

	key_token_subject(&prefix, who->kind, &who->scope, &who->id, NULL);
	while ((rc = first_with_prefix(t, &prefix, &key)) == STORE_OK) {
		if (key.n != prefix.n + HASH_SIZE) return STORE_CORRUPT;
		if ((rc = token_drop(t, key.b + prefix.n, &key))) return rc;
	}
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* The longest life a token of app may have (ms; 0 = no limit): the app's
** `accesstokenttl` (a number, or a string of digits as Usergrid's clients
** send it; 0 = no limit), else AUTH_TTL_DEFAULT_MS. */
static store_rc
max_ttl(store_txn *t, const store_app *app, int64_t *max)
{
	json_t *rec = NULL, *v;
	*max = AUTH_TTL_DEFAULT_MS;
	if (!app) return STORE_OK;
	store_rc rc = store_app_json(t, app, &rec);
	if (rc) return rc;
	v = json_get_ci(rec, "accesstokenttl", NULL);
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*max = json_integer_value(v);
	} else if (json_is_string(v)) {
		char *end;
		errno = 0;
		long long n = strtoll(json_string_value(v), &end, 10);
		if (!errno && *json_string_value(v) && !*end && n >= 0) *max = n;
	}
	json_decref(rec);
	return STORE_OK;
}

store_rc
auth_expiry(store_txn *t, const store_app *app, int64_t ttl_ms, int64_t now,
            int64_t *expires, store_err *err)
{
	int64_t max;
	store_rc rc = max_ttl(t, app, &max);
	if (rc) return rc;
	if (max && ttl_ms > max)
		return store_fail(err, STORE_INVALID,
		                  "Your token age cannot be more than the maximum age of %lld "
		                  "milliseconds", (long long)max);
	if (ttl_ms == 0) ttl_ms = max;
	*expires = ttl_ms == 0 || ttl_ms > INT64_MAX - now ? 0 : now + ttl_ms;
	return STORE_OK;
}

/* ---- client credentials ------------------------------------------------------ */

static const char *
client_prefix(auth_kind kind)
{
	return kind == AUTH_ORG ? "b3U6" : "YXA6";
}

static store_rc
client_generation(store_txn *t, const store_id *scope, uint64_t *gen)
{
	keybuf k;
	*gen = 0;
	key_client(&k, scope);
	store_rc rc = kv_get_u64(t, DBI_SECRETS, &k, gen);
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static void
client_secret(store *s, auth_kind kind, const store_id *scope, uint64_t gen,
              char out[AUTH_CLIENT_SECRET_LEN + 1])
{
	struct hmac_sha256_ctx c;
	unsigned char mac[SHA256_DIGEST_SIZE];
	keybuf msg;
	key_init(&msg);
	key_u8(&msg, kind);
	key_id(&msg, scope);
	key_u64(&msg, gen);
	hmac_sha256_set_key(&c, sizeof s->auth_key, s->auth_key);
	hmac_sha256_update(&c, msg.n, msg.b);
	hmac_sha256_digest(&c, sizeof mac, mac);
	b64url(mac, sizeof mac, out);
}

store_rc
auth_client_get(store_txn *t, auth_kind kind, const store_id *scope,
                char id[AUTH_CLIENT_ID_LEN + 1], char secret[AUTH_CLIENT_SECRET_LEN + 1])
{
	uint64_t gen;
	store_rc rc = client_generation(t, scope, &gen);
	if (rc) return rc;
	memcpy(id, client_prefix(kind), 4);
	b64url(scope->b, 16, id + 4);
	client_secret(t->s, kind, scope, gen, secret);
	return STORE_OK;
}

store_rc
auth_client_regenerate(store_txn *t, auth_kind kind, const store_id *scope)
{
	uint64_t gen;
	keybuf k;
	store_rc rc = client_generation(t, scope, &gen);
	(void)kind;
	if (rc) return rc;
	key_client(&k, scope);
	return kv_put_u64(t, DBI_SECRETS, &k, gen + 1);
}

store_rc
auth_client_check(store_txn *t, const char *client_id, const char *secret,
                  auth_subject *who)
{
	char id[AUTH_CLIENT_ID_LEN + 1], want[AUTH_CLIENT_SECRET_LEN + 1], uuid[37];
	store_id scope;
	auth_kind kind;
	store_rc rc;

	if (strlen(client_id) != AUTH_CLIENT_ID_LEN) return STORE_NOTFOUND;
	if (memcmp(client_id, "b3U6", 4) == 0) kind = AUTH_ORG;
	else if (memcmp(client_id, "YXA6", 4) == 0) kind = AUTH_APP;
	else return STORE_NOTFOUND;
	if (!b64url_decode(client_id + 4, AUTH_CLIENT_ID_LEN - 4, scope.b, 16))
		return STORE_NOTFOUND;
	store_id_format(&scope, uuid);
	if (kind == AUTH_ORG) {
		store_org org;
		rc = store_org_get(t, (store_slice){ uuid, 36 }, &org);
	} else {
		store_app app;
		rc = store_app_get(t, NULL, (store_slice){ uuid, 36 }, &app);
	}
	if (rc) return rc;
	if ((rc = auth_client_get(t, kind, &scope, id, want))) return rc;
	if (!auth_secret_eq(secret, want)) return STORE_NOTFOUND;
	*who = (auth_subject){ .kind = kind, .scope = scope, .id = scope };
	return STORE_OK;
}

/* ---- password grants ------------------------------------------------------------ */

static store_rc
password_grant(store_txn *t, const store_app *app, const char *name, const char *kind,
               const char *secret, store_id *id, json_t **user, store_err *err)
{
	json_t *e = NULL;
	store_rc rc = store_entity_load(t, app, "user", (store_slice){ name, strlen(name) },
	                                id, &e);
	if (rc == STORE_OK) rc = store_secret_check(t, app, id, kind, secret);
	if (rc == STORE_NOTFOUND) {
		json_decref(e);
		return store_fail(err, STORE_NOTFOUND, "invalid username or password");
	}
	if (rc == STORE_OK && json_is_false(json_get_ci(e, "activated", NULL)))
		rc = store_fail(err, STORE_CONFLICT, "user not activated");
	if (rc == STORE_OK && json_is_true(json_get_ci(e, "disabled", NULL)))
		rc = store_fail(err, STORE_CONFLICT, "user disabled");
	if (rc || !user) json_decref(e);
	else *user = e;
	return rc;
}

store_rc
auth_password_user(store_txn *t, const store_app *app, const char *name,
                   const char *kind, const char *secret, auth_subject *who,
                   json_t **user, store_err *err)
{
	who->kind = AUTH_APPUSER;
	who->scope = app->uuid;
	return password_grant(t, app, name, kind, secret, &who->id, user, err);
}

store_rc
auth_password_admin(store_txn *t, const char *name, const char *password,
                    auth_subject *who, json_t **user, store_err *err)
{
	who->kind = AUTH_ADMIN;
	who->scope = nil_id;
	return password_grant(t, store_mgmt_app, name, "password", password, &who->id,
	                      user, err);
}

store_rc
auth_admin_get(store_txn *t, const store_id *id, json_t **user)
{
	return store_entity_get(t, store_mgmt_app, id, user);
}

store_rc
auth_admin_find(store_txn *t, store_slice ident, store_id *id, json_t **user)
{
	return store_entity_load(t, store_mgmt_app, "user", ident, id, user);
}

store_rc
auth_admin_add(store_txn *t, const store_org *org, const store_id *id)
{
	return store_edge_put(t, store_mgmt_app, &org->uuid, STORE_EDGE_COLLECTION, "admins",
	                      id, NULL);
}

store_rc
auth_admin_remove(store_txn *t, const store_org *org, const store_id *id)
{
	return store_edge_del(t, store_mgmt_app, &org->uuid, STORE_EDGE_COLLECTION, "admins",
	                      id);
}

store_rc
auth_admin_list(store_txn *t, const store_org *org, json_t **out)
{
	store_id ids[AUTH_MAX_ROLES];
	store_pos last;
	size_t n;
	store_rc rc = store_edge_list(t, store_mgmt_app, &org->uuid, STORE_EDGE_COLLECTION,
	                              "admins", NULL, AUTH_MAX_ROLES, ids, &n, &last);
	*out = json_array();
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		json_t *e = NULL;
		rc = store_entity_get(t, store_mgmt_app, &ids[i], &e);
		if (rc == STORE_OK) json_array_append_new(*out, e);
	}
	return rc;
}

store_rc
auth_admin_password(store_txn *t, const store_id *id, const char *old, const char *password)
{
	auth_subject who = { .kind = AUTH_ADMIN, .id = *id };
	store_rc rc = STORE_OK;
	if (old) rc = store_secret_check(t, store_mgmt_app, id, "password", old);
	if (rc == STORE_OK) rc = store_secret_set(t, store_mgmt_app, id, "password", password);
	if (rc == STORE_OK) {
		json_t *set = json_pack("{s:I}", AUTH_PASSWORD_CHANGED, (json_int_t)store_now_ms());
		json_t *out = NULL;
		rc = store_entity_update(t, store_mgmt_app, id, set, &out, NULL);
		json_decref(out);
		json_decref(set);
	}
	if (rc == STORE_OK) rc = auth_token_revoke_all(t, &who);
	return rc;
}

int64_t
auth_admin_password_changed(json_t *admin)
{
	json_t *v = json_get_ci(admin, AUTH_PASSWORD_CHANGED, NULL);
	if (!json_is_integer(v)) v = json_object_get(admin, "created");
	return json_integer_value(v);
}

store_rc
auth_admin_orgs(store_txn *t, const store_id *id, json_t **out)
{
	store_id orgs[AUTH_MAX_ROLES];
	store_pos last;
	size_t n;
	store_rc rc = store_edge_list(t, store_mgmt_app, id, STORE_EDGE_MEMBER_OF, "admins",
	                              NULL, AUTH_MAX_ROLES, orgs, &n, &last);
	*out = json_object();
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		store_org org;
		char uuid[37];
		store_id_format(&orgs[i], uuid);
		rc = store_org_get(t, (store_slice){ uuid, 36 }, &org);
		if (rc == STORE_OK)
			json_object_set_new(*out, org.name, json_pack("{s:s, s:s}", "uuid", uuid,
			                                              "name", org.name));
	}
	return rc;
}

store_rc
auth_admin_of(store_txn *t, const store_id *org, const store_id *id)
{
	return store_edge_has(t, store_mgmt_app, org, STORE_EDGE_COLLECTION, "admins", id);
}

/* ---- decisions ---------------------------------------------------------------------- */

/* The request being decided.  The user's username is read only when a
** permission can name the user (${user}, me), so most checks never parse
** the user entity. */
typedef struct {
	const char *method, *path;
	auth_user   user;             /* uuid always, username on demand */
	const char *raw;              /* the user entity's JSON text, or NULL */
	size_t      nraw;
	char       *username;         /* parsed from raw on demand (malloc) */
	int         allowed;
	/* auth_explain only: every source read and its permissions */
	json_t     *trace;            /* array of {source, permissions}, or NULL */
	char        via[160];         /* "group g": whose roles are being read */
} request;

static void
need_username(request *q)
{
	json_t *e;
	if (q->user.username || !q->raw) return;
	if ((e = json_loadb(q->raw, q->nraw, 0, NULL)) != NULL) {
		const char *u = json_string_value(json_get_ci(e, "username", NULL));
		q->username = u ? xstrdup(u) : NULL;
		json_decref(e);
	}
	q->user.username = q->username ? q->username : "";
}

/* dict_each callback: stops at the first permission that allows q. */
static int
grant_allows(void *ctx, const char *value, size_t n)
{
	request *q = ctx;
	char perm[AUTH_PERM_MAX + 1];
	if (n > AUTH_PERM_MAX) return 0;
	memcpy(perm, value, n);
	perm[n] = '\0';
	if (q->raw && (strstr(perm, "${user}") || strcasestr(perm, "me")))
		need_username(q);
	q->allowed = auth_perm_allows(perm, q->method, q->path, q->raw ? &q->user : NULL);
	if (q->trace) {
		json_t *src = json_array_get(q->trace, json_array_size(q->trace) - 1);
		json_array_append_new(json_object_get(src, "permissions"), json_string(perm));
		if (q->allowed) json_object_set_new(src, "allowed_by", json_string(perm));
	}
	return q->allowed;
}

/* auth_explain: starts a source in the trace ("role r", "group g", ...). */
static void
trace_source(store_txn *t, const store_app *app, const store_id *id, request *q)
{
	json_t *e = NULL;
	char label[400];
	if (!q->trace) return;
	if (store_entity_get(t, app, id, &e) == STORE_OK) {
		const char *type = json_string_value(json_object_get(e, "type"));
		const char *name = json_string_value(json_get_ci(e, "name", NULL));
		if (!name) name = json_string_value(json_get_ci(e, "path", NULL));
		if (!name) name = json_string_value(json_get_ci(e, "username", NULL));
		snprintf(label, sizeof label, "%s %s%s%s", type ? type : "entity", name ? name : "?",
		         q->via[0] ? " of " : "", q->via);
	} else {
		snprintf(label, sizeof label, "a deleted entity");
	}
	json_decref(e);
	json_array_append_new(q->trace, json_pack("{s:s, s:[]}", "source", label, "permissions"));
}

static store_rc
grants_allow(store_txn *t, const store_app *app, const store_id *id, request *q)
{
	trace_source(t, app, id, q);
	return dict_each(t, app, id, "permissions", grant_allows, q);
}

/* The named role's permissions; STORE_NOTFOUND when there is no such role. */
static store_rc
role_allows(store_txn *t, const store_app *app, const char *role, request *q)
{
	store_id id;
	store_rc rc = store_entity_find(t, app, "role", (store_slice){ role, strlen(role) }, &id);
	if (rc) return rc;
	return grants_allow(t, app, &id, q);
}

/* The roles in owner's collection `roles`. */
static store_rc
roles_allow(store_txn *t, const store_app *app, const store_id *owner, request *q)
{
	store_id ids[AUTH_MAX_ROLES];
	store_pos last;
	size_t n;
	store_rc rc = store_edge_list(t, app, owner, STORE_EDGE_COLLECTION, "roles", NULL,
	                              AUTH_MAX_ROLES, ids, &n, &last);
	for (size_t i = 0; rc == STORE_OK && i < n && !q->allowed; i++)
		rc = grants_allow(t, app, &ids[i], q);
	return rc;
}

/* Cheapest source first: the implicit grant, the default role, the user's
** own grants, the user's roles, each group's grants and roles. */
static store_rc
user_allows(store_txn *t, const store_app *app, const store_id *uid, request *q)
{
	char uuid[37];
	keybuf k;
	void *raw;
	store_rc rc;

	key_entity(&k, app, uid);
	rc = kv_get(t, DBI_ENTITIES, &k, &raw, &q->nraw);
	if (rc) return rc == STORE_NOTFOUND ? STORE_OK : rc;   /* deleted: nothing */
	q->raw = raw;
	store_id_format(uid, uuid);
	q->user.uuid = uuid;
	if (strncasecmp(q->path, "/users/", 7) == 0) need_username(q);
	q->allowed = auth_perm_allows("get:/users/me", q->method, q->path, &q->user);
	if (q->trace) {
		json_t *src = json_pack("{s:s, s:[s]}", "source", "implicit: a user may read themself",
		                        "permissions", "get:/users/me");
		if (q->allowed) json_object_set_new(src, "allowed_by", json_string("get:/users/me"));
		json_array_append_new(q->trace, src);
	}
	if (!q->allowed) {
		rc = role_allows(t, app, "default", q);
		if (rc == STORE_NOTFOUND) rc = STORE_OK;
	}
	if (rc == STORE_OK && !q->allowed) rc = grants_allow(t, app, uid, q);
	if (rc == STORE_OK && !q->allowed) rc = roles_allow(t, app, uid, q);
	if (rc == STORE_OK && !q->allowed) {
		store_id groups[AUTH_MAX_ROLES];
		store_pos last;
		size_t n;
		rc = store_edge_list(t, app, uid, STORE_EDGE_COLLECTION, "groups", NULL,
		                     AUTH_MAX_ROLES, groups, &n, &last);
		for (size_t i = 0; rc == STORE_OK && i < n && !q->allowed; i++) {
			rc = grants_allow(t, app, &groups[i], q);
			if (q->trace) {   /* the roles below are the group's */
				json_t *src = json_array_get(q->trace, json_array_size(q->trace) - 1);
				snprintf(q->via, sizeof q->via, "%s",
				         json_string_value(json_object_get(src, "source")));
			}
			if (rc == STORE_OK && !q->allowed) rc = roles_allow(t, app, &groups[i], q);
			q->via[0] = '\0';
		}
	}
	free(q->username);
	q->username = NULL;
	q->user.username = NULL;
	return rc;
}

static int
same_id(const store_id *a, const store_id *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

store_rc
auth_check(store_txn *t, const store_app *app, const auth_subject *who,
           const char *method, const char *path, auth_verdict *v)
{
	request q = { .method = method, .path = path };
	int allowed = 0;
	store_rc rc = STORE_OK;

	switch (who->kind) {
	case AUTH_SUPERUSER: allowed = 1; break;
	case AUTH_ADMIN:
		rc = auth_admin_of(t, &app->org, &who->id);
		allowed = rc == STORE_OK;
		if (rc == STORE_NOTFOUND) rc = STORE_OK;
		break;
	case AUTH_ORG: allowed = same_id(&who->scope, &app->org); break;
	case AUTH_APP: allowed = same_id(&who->scope, &app->uuid); break;
	case AUTH_APPUSER:
		if (same_id(&who->scope, &app->uuid)) rc = user_allows(t, app, &who->id, &q);
		allowed = q.allowed;
		break;
	case AUTH_ANON:
		rc = role_allows(t, app, "guest", &q);
		allowed = q.allowed;
		if (rc == STORE_NOTFOUND) {
			*v = AUTH_NO_GUEST;
			return STORE_OK;
		}
		break;
	}
	*v = allowed ? AUTH_ALLOW : AUTH_DENY;
	return rc;
}

store_rc
auth_check_org(store_txn *t, const store_org *org, const auth_subject *who,
               auth_verdict *v)
{
	store_rc rc = STORE_OK;
	int allowed = 0;
	if (who->kind == AUTH_SUPERUSER) allowed = 1;
	else if (who->kind == AUTH_ORG) allowed = same_id(&who->scope, &org->uuid);
	else if (who->kind == AUTH_ADMIN) {
		rc = auth_admin_of(t, &org->uuid, &who->id);
		allowed = rc == STORE_OK;
		if (rc == STORE_NOTFOUND) rc = STORE_OK;
	}
	*v = allowed ? AUTH_ALLOW : AUTH_DENY;
	return rc;
}

/* The source and permission that allowed, from the trace. */
static void
explain_reason(request *q, int no_guest, char *out, size_t cap)
{
	size_t i;
	json_t *src;
	if (no_guest) {
		snprintf(out, cap, "anonymous, and the application has no guest role");
		return;
	}
	json_array_foreach(q->trace, i, src) {
		const char *by = json_string_value(json_object_get(src, "allowed_by"));
		if (by) {
			snprintf(out, cap, "allowed by \"%s\" of %s", by,
			         json_string_value(json_object_get(src, "source")));
			return;
		}
	}
	snprintf(out, cap, "denied: no permission of the %zu sources checked allows %s %s",
	         json_array_size(q->trace), q->method, q->path);
}

store_rc
auth_explain(store_txn *t, const store_app *app, const store_id *user, const char *method,
             const char *path, json_t **out)
{
	request q = { .method = method, .path = path, .trace = json_array() };
	char reason[AUTH_PERM_MAX + 400];
	int no_guest = 0;
	store_rc rc;

	if (user) {
		rc = user_allows(t, app, user, &q);
	} else {
		rc = role_allows(t, app, "guest", &q);
		if (rc == STORE_NOTFOUND) {
			no_guest = 1;
			rc = STORE_OK;
		}
	}
	if (rc) {
		json_decref(q.trace);
		return rc;
	}
	explain_reason(&q, no_guest, reason, sizeof reason);
	*out = json_pack("{s:s, s:s, s:s, s:b, s:s, s:o}", "method", method, "path", path,
	                 "subject", user ? "user" : "guest (anonymous)", "allowed", q.allowed,
	                 "reason", reason, "checked", q.trace);
	return STORE_OK;
}
