/*
** auth.h: identities, tokens, client credentials and permissions (spec
** 1.5, 1.6, 7).
**
** Every decision about who may do what is made here, in core/, and tested
** without a socket; http/ only extracts credentials from a request and
** renders the verdict.  Conventions are those of store.h.
**
** Permission strings (perm.c, pure: no LMDB, fuzzed by `make fuzz`)
**   <verbs>:<path>[,<path>...]   verbs: get,put,post,delete (any case,
**   comma-separated); blank or "*" = all.  A path is an Ant pattern over
**   '/'-separated segments: "**" as a whole segment = any number of
**   segments, "*" = any characters within one segment, "?" = one
**   character; a lone "*" means "/ **" (all); empty segments are ignored (so
**   "/cats/fluffy" matches "/cats/fluffy/").  A segment that is exactly
**   "${user}" or "me" matches the subject user's username or uuid (and
**   "me").  Matching is case-insensitive (ASCII) and bounded: at most
**   AUTH_PERM_MAX_SEGS segments and AUTH_PERM_MAX bytes; within a segment
**   the glob is linear (a run between two '*' that holds '?' is at most
**   TEXT_GLOB_ONE_MAX bytes, else the grant is invalid), and across
**   segments only the last "**" is a backtracking point.
*/
#ifndef UG_AUTH_H
#define UG_AUTH_H

#include "core/store.h"

#define AUTH_PERM_MAX      1024   /* bytes of one permission string */
#define AUTH_PERM_MAX_SEGS 64     /* segments of a pattern or a path */

/* The user a permission's "${user}" and "me" stand for (either may be
** NULL: anonymous requests have neither). */
typedef struct {
	const char *username;
	const char *uuid;
} auth_user;

/* 1 when perm is well formed (a ':' and a non-empty path part, bounded). */
int auth_perm_valid(const char *perm);

/* 1 when perm allows method ("GET", "get", ...; HEAD counts as get) on
** path (the part after /{org}/{app}, e.g. "/cats/fluffy"). */
int auth_perm_allows(const char *perm, const char *method, const char *path,
                     const auth_user *user);

/* ---- subjects and tokens (auth.c) ---------------------------------------
** A token is AUTH_TOKEN_BYTES from getrandom(2) shown as URL-safe base64;
** only its SHA-256 is stored, with the subject and the expiry. */

typedef enum {
	AUTH_ANON = 0,     /* no credentials: the app's guest role */
	AUTH_SUPERUSER,    /* the configured superuser */
	AUTH_ADMIN,        /* an org admin (a user of the management space) */
	AUTH_APPUSER,      /* a user of one application */
	AUTH_ORG,          /* an organization's client credentials */
	AUTH_APP           /* an application's client credentials */
} auth_kind;

typedef struct {
	auth_kind kind;
	store_id  scope;   /* the app (APPUSER, APP) or org (ORG); else nil */
	store_id  id;      /* the user or admin; the scope for ORG and APP */
	int64_t   expires; /* ms since the epoch; 0 = never */
} auth_subject;

#define AUTH_TOKEN_BYTES    32
#define AUTH_TOKEN_LEN      43                 /* base64url, no padding */
#define AUTH_TOKEN_MAX      128                /* longer presented text: bad */
#define AUTH_TTL_DEFAULT_MS (7LL * 24 * 3600 * 1000)
#define AUTH_PURGE_STEP     32                 /* expired tokens purged per issue ... */
#define AUTH_PURGE_GRACE_MS (24LL * 3600 * 1000) /* ... a day after they expired, so
                                                ** clients hear "expired" meanwhile */

/* Issues a token for who, expiring at who->expires (0 = never); purges up
** to AUTH_PURGE_STEP tokens that expired over AUTH_PURGE_GRACE_MS ago on
** the way.  out gets the token text. */
store_rc auth_token_issue(store_txn *t, const auth_subject *who,
                          char out[AUTH_TOKEN_LEN + 1]);
/* The subject of a token; STORE_NOTFOUND for an unknown or malformed one.
** An expired token is still found (who->expires <= now): the caller says
** "expired" rather than "bad". */
store_rc auth_token_lookup(store_txn *t, const char *token, auth_subject *who);
/* Revokes one token (STORE_NOTFOUND if unknown), or every token of who's
** kind, scope and id (a subject key that names no token, or one whose
** record cannot be read, dropped on the way, as the purge does). */
store_rc auth_token_revoke(store_txn *t, const char *token);
store_rc auth_token_revoke_all(store_txn *t, const auth_subject *who);
/* Deletes up to max tokens that expired before now, oldest first, and the
** expiry keys on the way that name no token, have not the shape of one, or
** name one whose record cannot be read (dropped, each a step of max; the
** record is left to `ugstore check`); *n (may be NULL) gets how many keys
** of either it took. */
store_rc auth_token_purge(store_txn *t, int64_t now, size_t max, size_t *n);
/* 1 when v[0..n) is a token's record as auth.c writes it (check.c). */
int      auth_record_ok(const void *v, size_t n);
/* The expiry for a token issued now with a requested life of ttl_ms (0 =
** the longest allowed).  The longest life is the app's `accesstokenttl`
** property (ms, 0 = no limit) when app is not NULL and sets it, else
** AUTH_TTL_DEFAULT_MS; a longer ttl_ms is STORE_INVALID (as Usergrid's
** "Your token age cannot be more than the maximum age of N milliseconds").
** *expires gets 0 (never) for an unlimited life. */
store_rc auth_expiry(store_txn *t, const store_app *app, int64_t ttl_ms,
                     int64_t now, int64_t *expires, store_err *err);

/* ---- client credentials ---------------------------------------------------
** An org's or app's client_id encodes its uuid ("b3U6" / "YXA6" + base64url,
** as Usergrid's); its secret is an HMAC of the uuid and a generation under
** the store's random key, so no secret is stored and POST regenerates. */
#define AUTH_CLIENT_ID_LEN     26
#define AUTH_CLIENT_SECRET_LEN 43

/* kind is AUTH_ORG or AUTH_APP; scope the org's or app's uuid. */
store_rc auth_client_get(store_txn *t, auth_kind kind, const store_id *scope,
                         char id[AUTH_CLIENT_ID_LEN + 1],
                         char secret[AUTH_CLIENT_SECRET_LEN + 1]);
store_rc auth_client_regenerate(store_txn *t, auth_kind kind, const store_id *scope);
/* The subject of a client id and secret (compared in constant time);
** STORE_NOTFOUND when they do not match an existing org or app. */
store_rc auth_client_check(store_txn *t, const char *client_id,
                           const char *secret, auth_subject *who);

/* 1 when a equals b, in time that depends only on their lengths. */
int auth_secret_eq(const char *a, const char *b);

/* ---- password grants --------------------------------------------------------
** STORE_NOTFOUND: no such user or a wrong password; STORE_CONFLICT: the user
** is not activated (err says so).  *user (may be NULL) gets the entity. */
store_rc auth_password_user(store_txn *t, const store_app *app, const char *name,
                            const char *kind, const char *secret, auth_subject *who,
                            json_t **user, store_err *err);
store_rc auth_password_admin(store_txn *t, const char *name, const char *password,
                             auth_subject *who, json_t **user, store_err *err);
/* The admin user entity of who (an AUTH_ADMIN subject); new reference. */
store_rc auth_admin_get(store_txn *t, const store_id *id, json_t **user);
/* Finds an admin by username, email or uuid. */
store_rc auth_admin_find(store_txn *t, store_slice ident, store_id *id, json_t **user);
/* Makes an existing admin an admin of org too (again: no change), or no
** longer one (STORE_NOTFOUND when it was not). */
store_rc auth_admin_add(store_txn *t, const store_org *org, const store_id *id);
store_rc auth_admin_remove(store_txn *t, const store_org *org, const store_id *id);
/* The admins of org as an array of user entities; new. */
store_rc auth_admin_list(store_txn *t, const store_org *org, json_t **out);
/* Sets an admin's password; old (may be NULL: the superuser's reset) must
** match when given (else STORE_NOTFOUND).  Records the time in the admin's
** AUTH_PASSWORD_CHANGED property and revokes the admin's tokens. */
store_rc auth_admin_password(store_txn *t, const store_id *id, const char *old,
                             const char *password);
/* When the admin entity's password was last set (ms): its
** AUTH_PASSWORD_CHANGED property, else (never changed) its creation, when
** the first password was set. */
#define AUTH_PASSWORD_CHANGED "passwordChanged"
int64_t auth_admin_password_changed(json_t *admin);
/* {name: {uuid, name}, ...} of the orgs admin id administers; new. */
store_rc auth_admin_orgs(store_txn *t, const store_id *id, json_t **out);
/* STORE_OK when admin id is an admin of org, else STORE_NOTFOUND. */
store_rc auth_admin_of(store_txn *t, const store_id *org, const store_id *id);

/* ---- decisions -------------------------------------------------------------- */

typedef enum {
	AUTH_ALLOW = 0,
	AUTH_DENY,         /* 401 unauthorized: no permission for the path */
	AUTH_NO_GUEST      /* 401: anonymous and the app has no guest role */
} auth_verdict;

/* The most grants one user's effective permissions are read from. */
#define AUTH_MAX_ROLES 256

/* May who do method on path (after /{org}/{app}) in app?  Superuser,
** admins of the app's org, the org's and the app's credentials: always.
** An app user of this app: the default role, the user's own grants, the
** user's roles, the roles of the user's groups, and get on their own
** /users/{uuid}.  Anonymous: the guest role.  Anything else: deny. */
store_rc auth_check(store_txn *t, const store_app *app, const auth_subject *who,
                    const char *method, const char *path, auth_verdict *v);
/* Why an app user (user; NULL = anonymous) may or may not do method on
** path: {method, path, subject, allowed, reason, checked: [{source,
** permissions, allowed_by?}]} in the order auth_check reads them. */
store_rc auth_explain(store_txn *t, const store_app *app, const store_id *user,
                      const char *method, const char *path, json_t **out);
/* May who manage org (admin routes)?  Superuser, its admins, its credentials. */
store_rc auth_check_org(store_txn *t, const store_org *org, const auth_subject *who,
                        auth_verdict *v);

#endif
