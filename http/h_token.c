/*
** h_token.c: the token and credential endpoints (spec 1.6): POST|GET
** /management/token and /{org}/{app}/token (grant types password, pin,
** client_credentials; JSON, form or query parameters; client credentials
** also as HTTP Basic), GET /management/me, GET|POST credentials, and the
** user endpoints password, revoketoken(s), deactivate and token.  Token
** answers are OAuth bodies (no envelope); their errors are 400
** invalid_grant and friends.  The router has authorized the caller.
*/
#include "http/http_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
	const char *grant_type, *username, *password, *pin;
	const char *client_id, *client_secret, *ttl;
} grant;

/* An OAuth error body: error and error_description only. */
static void
grant_error(http_req *r, const char *code, const char *msg)
{
	http_error(r, 400, code, "%s", msg);
	json_object_del(r->resp, "timestamp");
	json_object_del(r->resp, "duration");
	r->envelope = 0;
}

/* A field of the request: query parameter, or member of the body (JSON or
** form fields; a string, or any other scalar as its JSON text, so that a
** ttl of 1.5 or true is refused rather than ignored). */
static const char *
field(http_req *r, json_t *body, const char *name)
{
	const char *v = http_param_get(r, name);
	json_t *j;
	if (v) return v;
	j = json_object_get(body, name);
	if (json_is_string(j)) return arena_strndup(r->a, json_string_value(j), json_string_length(j));
	if (json_is_integer(j)) return http_sprintf(r, "%lld", (long long)json_integer_value(j));
	if (json_is_real(j)) return http_sprintf(r, "%.17g", json_real_value(j));
	if (json_is_boolean(j)) return json_is_true(j) ? "true" : "false";
	return NULL;
}

/* The request's body, JSON or form-encoded; 0 when it is bad. */
static int
read_body(http_req *r, json_t **body)
{
	int present;
	*body = http_body_json(r, &present);
	return !present || *body;
}

static int
grant_read(http_req *r, grant *g)
{
	json_t *body = NULL;
	char *user, *pass;

	if (!read_body(r, &body)) return 0;
	g->grant_type = field(r, body, "grant_type");
	g->username = field(r, body, "username");
	g->password = field(r, body, "password");
	g->pin = field(r, body, "pin");
	g->client_id = field(r, body, "client_id");
	g->client_secret = field(r, body, "client_secret");
	g->ttl = field(r, body, "ttl");
	json_decref(body);
	if (!g->client_id && http_basic_credentials(r, &user, &pass)) {
		g->client_id = user;
		g->client_secret = pass;
	}
	if (!g->grant_type) {
		grant_error(r, "invalid_request", "missing grant_type");
		return 0;
	}
	return 1;
}

/* ttl: milliseconds, or absent (0: the longest the app allows). */
static int
ttl_or_reply(http_req *r, const char *s, int64_t *ttl)
{
	char *end;
	*ttl = 0;
	if (!s || !*s) return 1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || errno || v < 0) {
		grant_error(r, "invalid_request", "ttl must be a number of milliseconds");
		return 0;
	}
	*ttl = v;
	return 1;
}

/* An admin's reply carries, as Usergrid's does, when the admin's password
** was last set (ms); the superuser's password is configuration: none. */
static void
password_changed(json_t *resp, const auth_subject *who, json_t *user)
{
	if (who->kind == AUTH_ADMIN)
		json_object_set_new(resp, "passwordChanged",
		                    json_integer((json_int_t)auth_admin_password_changed(user)));
}

/* Issues a token for who and replies {access_token, expires_in, key: what}
** (and passwordChanged for an admin). */
static void
token_reply(http_req *r, const store_app *app, auth_subject *who, int64_t ttl,
            const char *key, json_t *what)
{
	char tok[AUTH_TOKEN_LEN + 1];
	store_err err = { 0 };
	int64_t now = store_now_ms();
	store_rc rc = auth_expiry(r->txn, app, ttl, now, &who->expires, &err);
	if (rc == STORE_OK) rc = auth_token_issue(r->txn, who, tok);
	if (rc) {
		json_decref(what);
		http_store_error(r, rc, &err, NULL);
		return;
	}
	json_t *resp = json_pack("{s:s, s:I}", "access_token", tok, "expires_in",
	                         (json_int_t)(who->expires ? (who->expires - now) / 1000 : 0));
	password_changed(resp, who, what);
	json_object_set_new(resp, key, what);
	http_reply(r, resp);
	r->envelope = 0;
}

/* A grant whose credentials are verified: the worker's read-only pass
** keeps it for the writer, which issues the token. */
static void
grant_done(http_req *r, const store_app *app, const auth_subject *who, int64_t ttl,
           const char *key, json_t *what)
{
	auth_subject w = *who;
	if (r->preparing) {
		r->grant.ready = 1;
		r->grant.who = *who;
		r->grant.key = key;
		r->grant.what = what;
		r->grant.ttl = ttl;
		return;
	}
	token_reply(r, app, &w, ttl, key, what);
}

/* The writer's pass of a grant verified by the worker: 1 when it issued. */
static int
grant_issue(http_req *r, const store_app *app)
{
	if (!r->grant.ready) return 0;
	json_t *what = r->grant.what;
	r->grant.what = NULL;
	token_reply(r, app, &r->grant.who, r->grant.ttl, r->grant.key, what);
	return 1;
}

static void
password_error(http_req *r, store_rc rc, const store_err *err)
{
	if (rc == STORE_NOTFOUND || rc == STORE_CONFLICT)
		grant_error(r, "invalid_grant", err->msg[0] ? err->msg : "invalid username or password");
	else
		http_store_error(r, rc, err, NULL);
}

/* The admin user as the management API shows it, with its organizations. */
static json_t *
admin_json(http_req *r, const auth_subject *who)
{
	json_t *user = NULL, *orgs = NULL;
	if (who->kind == AUTH_SUPERUSER) {
		const char *su = r->srv->cfg.superuser;
		return json_pack("{s:s%, s:b}", "username", su, strcspn(su, ":"), "superuser", 1);
	}
	if (auth_admin_get(r->txn, &who->id, &user) != STORE_OK) user = json_object();
	if (auth_admin_orgs(r->txn, &who->id, &orgs) == STORE_OK)
		json_object_set_new(user, "organizations", orgs);
	return user;
}

void
h_mgmt_token(http_req *r)
{
	grant g;
	int64_t ttl;
	auth_subject who;
	store_err err = { 0 };
	store_rc rc;

	if (grant_issue(r, NULL) || !grant_read(r, &g) || !ttl_or_reply(r, g.ttl, &ttl)) return;
	if (!http_rate_ok(r, g.username ? g.username : g.client_id)) return;
	if (strcmp(g.grant_type, "password") == 0) {
		if (!g.username || !g.password) {
			grant_error(r, "invalid_request", "username and password are required");
			return;
		}
		if (http_superuser_match(r, g.username, g.password)) {
			who = (auth_subject){ .kind = AUTH_SUPERUSER };
		} else if ((rc = auth_password_admin(r->txn, g.username, g.password, &who, NULL,
		                                     &err))) {
			password_error(r, rc, &err);
			return;
		}
		grant_done(r, NULL, &who, ttl, "user", admin_json(r, &who));
	} else if (strcmp(g.grant_type, "client_credentials") == 0) {
		store_org org;
		json_t *rec = NULL;
		char id[37];
		if (!g.client_id || !g.client_secret ||
		    auth_client_check(r->txn, g.client_id, g.client_secret, &who) != STORE_OK ||
		    who.kind != AUTH_ORG) {
			grant_error(r, "invalid_grant", "invalid username or password");
			return;
		}
		store_id_format(&who.scope, id);
		if ((rc = store_org_get(r->txn, (store_slice){ id, 36 }, &org)) == STORE_OK)
			rc = store_org_json(r->txn, &org, &rec);
		if (rc) http_store_error(r, rc, NULL, NULL);
		else grant_done(r, NULL, &who, ttl, "organization", rec);
	} else {
		grant_error(r, "unsupported_grant_type", "unsupported grant_type");
	}
}

void
h_app_token(http_req *r)
{
	grant g;
	int64_t ttl;
	auth_subject who;
	store_err err = { 0 };
	json_t *user = NULL, *rec = NULL;
	store_rc rc;

	if (grant_issue(r, &r->app) || !grant_read(r, &g) || !ttl_or_reply(r, g.ttl, &ttl)) return;
	if (!http_rate_ok(r, g.username ? g.username : g.client_id)) return;
	int pin = strcmp(g.grant_type, "pin") == 0;
	if (pin || strcmp(g.grant_type, "password") == 0) {
		const char *secret = pin ? g.pin : g.password;
		if (!g.username || !secret) {
			grant_error(r, "invalid_request", pin ? "username and pin are required"
			                                      : "username and password are required");
			return;
		}
		rc = auth_password_user(r->txn, &r->app, g.username, pin ? "pin" : "password",
		                        secret, &who, &user, &err);
		if (rc) {
			password_error(r, rc, &err);
			return;
		}
		json_t *shown = http_render_entity(r, r->txn, user, "/users");
		json_decref(user);
		grant_done(r, &r->app, &who, ttl, "user", shown);
	} else if (strcmp(g.grant_type, "client_credentials") == 0) {
		if (!g.client_id || !g.client_secret ||
		    auth_client_check(r->txn, g.client_id, g.client_secret, &who) != STORE_OK ||
		    who.kind != AUTH_APP || memcmp(who.scope.b, r->app.uuid.b, 16) != 0) {
			grant_error(r, "invalid_grant", "invalid username or password");
			return;
		}
		if ((rc = store_app_json(r->txn, &r->app, &rec))) http_store_error(r, rc, NULL, NULL);
		else grant_done(r, &r->app, &who, ttl, "application", rec);
	} else {
		grant_error(r, "unsupported_grant_type", "unsupported grant_type");
	}
}

void
h_mgmt_me(http_req *r)
{
	json_t *resp = json_object();
	if (r->token) {
		int64_t left = r->who.expires ? (r->who.expires - store_now_ms()) / 1000 : 0;
		json_object_set_new(resp, "access_token", json_string(r->token));
		json_object_set_new(resp, "expires_in", json_integer(left > 0 ? left : 0));
	}
	json_t *user = admin_json(r, &r->who);
	password_changed(resp, &r->who, user);
	json_object_set_new(resp, "user", user);
	http_reply(r, resp);
	r->envelope = 0;
}

/* GET shows the client id and secret of the org (management route) or the
** app; POST makes a new secret first. */
static void
credentials(http_req *r, auth_kind kind, const store_id *scope)
{
	char id[AUTH_CLIENT_ID_LEN + 1], secret[AUTH_CLIENT_SECRET_LEN + 1];
	store_rc rc = STORE_OK;
	if (r->method == M_POST) rc = auth_client_regenerate(r->txn, kind, scope);
	if (rc == STORE_OK) rc = auth_client_get(r->txn, kind, scope, id, secret);
	if (rc) {
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	json_t *env = http_envelope(r, "/credentials");
	json_object_set_new(env, "action", json_string(r->method == M_POST
	                    ? "generate client credentials" : "get client credentials"));
	json_object_set_new(env, "credentials", json_pack("{s:s, s:s}", "client_id", id,
	                                                  "client_secret", secret));
	http_reply(r, env);
}

void
h_app_credentials(http_req *r)
{
	credentials(r, AUTH_APP, &r->app.uuid);
}

void
h_org_credentials(http_req *r)
{
	store_org org;
	store_rc rc = store_org_get(r->txn, r->cap[0], &org);
	if (rc) http_store_error(r, rc, NULL, "organization_not_found");
	else credentials(r, AUTH_ORG, &org.uuid);
}

/* The user of route capture 0 ("me" is the caller); an app user may only
** name themself (the router has checked the path's permission).  0 with a
** reply set. */
static int
target_user(http_req *r, auth_subject *user)
{
	store_slice u = r->cap[0];
	int me = u.n == 2 && strncasecmp(u.p, "me", 2) == 0;
	*user = (auth_subject){ .kind = AUTH_APPUSER, .scope = r->app.uuid };
	if (me && r->who.kind == AUTH_APPUSER) {
		user->id = r->who.id;
	} else {
		store_rc rc = store_entity_find(r->txn, &r->app, "user", u, &user->id);
		if (rc) {
			http_store_error(r, rc, NULL, NULL);
			return 0;
		}
	}
	if (r->who.kind == AUTH_APPUSER && memcmp(r->who.id.b, user->id.b, 16) != 0) {
		http_error(r, 401, "unauthorized", "Subject does not have permission to access this resource");
		return 0;
	}
	return 1;
}

static void
reply_action(http_req *r, const char *action)
{
	json_t *env = http_envelope(r, NULL);
	json_object_set_new(env, "action", json_string(action));
	http_reply(r, env);
}

void
h_user_revoke_all(http_req *r)
{
	auth_subject user;
	if (!target_user(r, &user)) return;
	store_rc rc = auth_token_revoke_all(r->txn, &user);
	if (rc) http_store_error(r, rc, NULL, NULL);
	else reply_action(r, "revoked user tokens");
}

/* Knowing the token is the right to revoke it: no other credential. */
void
h_user_revoke(http_req *r)
{
	auth_subject user, of;
	const char *token = http_param_get(r, "token");
	if (!target_user(r, &user)) return;
	if (!token || !*token) {
		http_error(r, 400, "illegal_argument", "the parameter 'token' is required");
		return;
	}
	store_rc rc = auth_token_lookup(r->txn, token, &of);
	if (rc == STORE_OK && (of.kind != AUTH_APPUSER || memcmp(of.id.b, user.id.b, 16) != 0 ||
	                       memcmp(of.scope.b, user.scope.b, 16) != 0))
		rc = STORE_NOTFOUND;                   /* not this user's */
	if (rc == STORE_OK) rc = auth_token_revoke(r->txn, token);
	if (rc) http_store_error(r, rc, NULL, "service_resource_not_found");
	else reply_action(r, "revoked user token");
}

void
h_user_password(http_req *r)
{
	auth_subject user;
	json_t *body = NULL;
	store_rc rc;

	if (!target_user(r, &user) || !read_body(r, &body)) return;
	const char *old = field(r, body, "oldpassword");
	const char *new = field(r, body, "newpassword");
	json_decref(body);
	if (!new || !*new) {
		http_error(r, 400, "illegal_argument", "newpassword is required");
		return;
	}
	/* a user (or a guest allowed the path) proves the old password; admins
	** need not */
	int admin = r->who.kind != AUTH_APPUSER && r->who.kind != AUTH_ANON;
	if (!admin || old) {
		rc = old ? store_secret_check(r->txn, &r->app, &user.id, "password", old)
		         : STORE_NOTFOUND;
		if (rc == STORE_NOTFOUND) {
			http_error(r, 400, "auth_invalid_username_or_password", "the old password is wrong");
			return;
		}
		if (rc) {
			http_store_error(r, rc, NULL, NULL);
			return;
		}
	}
	rc = store_secret_set(r->txn, &r->app, &user.id, "password", new);
	if (rc == STORE_OK) rc = auth_token_revoke_all(r->txn, &user);
	if (rc == STORE_INVALID)
		http_error(r, 400, "illegal_argument", "the password is longer than %d bytes",
		           STORE_SECRET_MAX);
	else if (rc == STORE_POLICY)
		http_error(r, 400, "error_password_policy_violation",
		           "Password must be at least %u characters long",
		           store_password_min(r->srv->s));
	else if (rc) http_store_error(r, rc, NULL, NULL);
	else reply_action(r, "set user password");
}

void
h_user_deactivate(http_req *r)
{
	auth_subject user;
	store_err err = { 0 };
	json_t *e = NULL, *body;
	if (!target_user(r, &user)) return;
	body = json_pack("{s:b, s:I}", "activated", 0, "deactivated", (json_int_t)store_now_ms());
	store_rc rc = store_entity_update(r->txn, &r->app, &user.id, body, &e, &err);
	json_decref(body);
	if (rc == STORE_OK) rc = auth_token_revoke_all(r->txn, &user);
	http_reply_entity(r, rc, e, &err);
	json_decref(e);
}

void
h_user_token(http_req *r)
{
	auth_subject user;
	json_t *e = NULL;
	int64_t ttl;
	if (r->who.kind == AUTH_APPUSER) {
		http_error(r, 403, "forbidden", "only an administrator may get a token for a user");
		return;
	}
	if (!target_user(r, &user) || !ttl_or_reply(r, http_param_get(r, "ttl"), &ttl)) return;
	store_rc rc = store_entity_get(r->txn, &r->app, &user.id, &e);
	if (rc) {
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	json_t *shown = http_render_entity(r, r->txn, e, "/users");
	json_decref(e);
	token_reply(r, &r->app, &user, ttl, "user", shown);
}

/* GET /auth/explain?method=M&path=P[&user=U] (admins): which grant of which
** role allows the request, or every source read when none does. */
void
h_auth_explain(http_req *r)
{
	const char *method = http_param_get(r, "method"), *path = http_param_get(r, "path");
	const char *user = http_param_get(r, "user");
	static const char *const methods[] = { "get", "put", "post", "delete" };
	store_id id;
	json_t *why = NULL;
	int known = 0;

	if (!method || !*method) method = "get";
	for (size_t i = 0; i < 4; i++) known |= strcasecmp(method, methods[i]) == 0;
	if (!known || !path || path[0] != '/') {
		http_error(r, 400, "illegal_argument",
		           "explain needs path=/... and method=get, put, post or delete");
		return;
	}
	store_rc rc = STORE_OK;
	if (user && *user)
		rc = store_entity_find(r->txn, &r->app, "user", (store_slice){ user, strlen(user) }, &id);
	if (rc == STORE_OK)
		rc = auth_explain(r->txn, &r->app, user && *user ? &id : NULL, method, path, &why);
	if (rc) {
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	json_t *env = http_envelope(r, "/auth/explain");
	json_object_set_new(env, "action", json_string("explain"));
	json_object_set_new(env, "data", why);
	http_reply(r, env);
}
