/*
** h_auth.c: who is asking, and the endpoints of authentication (spec 1.5,
** 1.6, 7).  This file only extracts credentials from a request and renders
** answers: every decision (tokens, secrets, permissions) is core's
** (core/auth.h).
**
** Credentials, in this order: Authorization: Bearer <token> or Basic
** <superuser or client id:secret>; ?access_token=; ?client_id= with
** ?client_secret=.  None: anonymous (the app's guest role).
*/
#include "http/http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void
unauthorized(http_req *r, const char *msg)
{
	http_error(r, 401, "unauthorized", "%s", msg);
}

/* 1 when name and password are the configured superuser's. */
int
http_superuser_match(http_req *r, const char *name, const char *password)
{
	const char *su = r->srv->cfg.superuser, *colon = su ? strchr(su, ':') : NULL;
	if (!colon || !name || !password) return 0;
	int name_ok = strlen(name) == (size_t)(colon - su) &&
	              strncmp(name, su, (size_t)(colon - su)) == 0;
	return auth_secret_eq(password, colon + 1) & name_ok;
}

static int
token_subject(http_req *r, const char *token)
{
	store_rc rc = auth_token_lookup(r->txn, token, &r->who);
	if (rc == STORE_NOTFOUND) {
		r->who.kind = AUTH_ANON;
		http_error(r, 401, "auth_bad_access_token", "Unable to authenticate OAuth credentials");
		return 0;
	}
	if (rc) {
		http_store_error(r, rc, NULL, NULL);
		return 0;
	}
	if (r->who.expires && r->who.expires <= store_now_ms()) {
		r->who.kind = AUTH_ANON;
		http_error(r, 401, "expired_token", "Unable to authenticate due to expired access token");
		return 0;
	}
	r->token = token;
	return 1;
}

/* A client id and secret, or (Basic) the superuser's name and password. */
static int
client_subject(http_req *r, const char *id, const char *secret)
{
	if (http_superuser_match(r, id, secret)) {
		r->who = (auth_subject){ .kind = AUTH_SUPERUSER };
		return 1;
	}
	store_rc rc = auth_client_check(r->txn, id, secret, &r->who);
	if (rc == STORE_OK) return 1;
	r->who.kind = AUTH_ANON;
	if (rc == STORE_NOTFOUND) unauthorized(r, "invalid client credentials");
	else http_store_error(r, rc, NULL, NULL);
	return 0;
}

/* Decodes standard base64 with its padding (RFC 4648, section 4) of
** s[0..n) into a new arena buffer: core's base64url codec, as the two
** alphabets differ in two digits only.  1 and *out, *out_n, or 0 unless
** the text is exact. */
static int
base64_decode(http_req *r, const char *s, size_t n, unsigned char **out, size_t *out_n)
{
	size_t pad = 0;
	char *url;
	if (n % 4) return 0;
	while (pad < 2 && n > pad && s[n - 1 - pad] == '=') pad++;
	url = arena_alloc(r->a, n + 1);
	for (size_t i = 0; i < n - pad; i++) {
		if (s[i] == '-' || s[i] == '_') return 0;
		url[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
	}
	*out = arena_alloc(r->a, n / 4 * 3 + 1);
	return store_b64_decode(url, n - pad, *out, n / 4 * 3 + 1, out_n);
}

/* The Basic credentials of the request (the scheme in any case, blanks
** around the token), read strictly: exact base64, the name up to the
** first ':', the password to the end, no NUL anywhere (libmicrohttpd's
** own decoder turns bad digits into NUL bytes and so cuts a password
** short).  1 with *user and *pass, or 0. */
int
http_basic_credentials(http_req *r, char **user, char **pass)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	unsigned char *cred, *sep;
	size_t len, n;

	if (!h || strncasecmp(h, "Basic ", 6) != 0) return 0;
	for (h += 6; *h == ' ' || *h == '\t'; h++)
		;
	for (len = strlen(h); len && (h[len - 1] == ' ' || h[len - 1] == '\t'); len--)
		;
	if (!base64_decode(r, h, len, &cred, &n) || memchr(cred, '\0', n) ||
	    !(sep = memchr(cred, ':', n)))
		return 0;
	*user = arena_strndup(r->a, (const char *)cred, (size_t)(sep - cred));
	*pass = arena_strndup(r->a, (const char *)sep + 1, (size_t)(cred + n - sep - 1));
	return 1;
}

/* Fills r->who; 0 with a 401 set when credentials were given but are bad. */
static int
authenticate(http_req *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	const char *token = http_param_get(r, "access_token");
	const char *id = http_param_get(r, "client_id"), *secret = http_param_get(r, "client_secret");
	char *user, *pass;

	r->who = (auth_subject){ .kind = AUTH_ANON };
	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		token = h + 7;
		while (*token == ' ') token++;
	} else if (h && strncasecmp(h, "Basic ", 6) == 0) {
		if (!http_basic_credentials(r, &user, &pass)) {
			unauthorized(r, "malformed Basic credentials");
			return 0;
		}
		return client_subject(r, user, pass);
	}
	if (token && *token) return token_subject(r, token);
	if (id && secret) return client_subject(r, id, secret);
	return 1;
}

/* The request's path after /{org}/{app}, as permissions see it. */
static const char *
perm_path(http_req *r, const store_slice *rest, size_t n)
{
	size_t len = 2;
	for (size_t i = 0; i < n; i++) len += rest[i].n + 1;
	char *p = arena_alloc(r->a, len), *o = p;
	*o++ = '/';
	for (size_t i = 0; i < n; i++) {
		if (i) *o++ = '/';
		memcpy(o, rest[i].p, rest[i].n);
		o += rest[i].n;
	}
	*o = '\0';
	return p;
}

static int
app_verdict(http_req *r, const char *method, const char *path)
{
	auth_verdict v;
	store_rc rc = auth_check(r->txn, &r->app, &r->who, method, path, &v);
	if (rc) {
		http_store_error(r, rc, NULL, NULL);
		return 0;
	}
	if (v == AUTH_NO_GUEST) unauthorized(r, "No application guest access authorized");
	else if (v == AUTH_DENY)
		unauthorized(r, "Subject does not have permission to access this resource");
	return v == AUTH_ALLOW;
}

static int
org_verdict(http_req *r)
{
	store_org org;
	auth_verdict v = AUTH_DENY;
	store_rc rc = STORE_OK;
	if (r->who.kind == AUTH_SUPERUSER) return 1;   /* the handler says 404 */
	if (r->ncap && store_org_get(r->txn, r->cap[0], &org) == STORE_OK)
		rc = auth_check_org(r->txn, &org, &r->who, &v);
	if (rc) {
		http_store_error(r, rc, NULL, NULL);
		return 0;
	}
	if (v != AUTH_ALLOW) unauthorized(r, "No organization access authorized");
	return v == AUTH_ALLOW;
}

static int
is_app_admin_kind(auth_kind k)
{
	return k == AUTH_SUPERUSER || k == AUTH_ADMIN || k == AUTH_ORG || k == AUTH_APP;
}

int
http_authorize(http_req *r, int need, const store_slice *rest, size_t nrest)
{
	if (need == AUTH_NEED_NONE) return 1;
	if (!authenticate(r)) return 0;
	switch (need) {
	case AUTH_NEED_SUPER:
		if (r->who.kind == AUTH_SUPERUSER) return 1;
		break;
	case AUTH_NEED_ORG:
		return org_verdict(r);
	case AUTH_NEED_ADMIN:
		if (r->who.kind == AUTH_SUPERUSER || r->who.kind == AUTH_ADMIN) return 1;
		break;
	case AUTH_NEED_USER:     /* a user of this app (the handler says which) */
		if (r->who.kind == AUTH_APPUSER && memcmp(r->who.scope.b, r->app.uuid.b, 16) == 0)
			return 1;
		if (is_app_admin_kind(r->who.kind)) return app_verdict(r, "put", "/");
		break;
	case AUTH_NEED_APP_ADMIN:
		if (is_app_admin_kind(r->who.kind)) return app_verdict(r, "put", "/");
		break;
	default:
		return app_verdict(r, r->action, perm_path(r, rest, nrest));
	}
	unauthorized(r, "Subject does not have permission to access this resource");
	return 0;
}

void
http_actor(http_req *r)
{
	store_actor a = { 0 };
	if (r->who.kind == AUTH_APPUSER || r->who.kind == AUTH_ADMIN) {
		a.set = 1;
		a.admin = r->who.kind == AUTH_ADMIN;
		a.user = r->who.id;
	}
	store_txn_actor(r->txn, &a);
}
