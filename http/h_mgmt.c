/*
** h_mgmt.c: /management handlers (organizations and applications) and the
** status endpoint.  The router has already authorized the caller (the
** superuser creates orgs; admins and org credentials manage their org).
*/
#include "http/http_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void
h_status(http_req *r)
{
	json_t *env = json_pack("{s:s, s:s, s:I, s:I}", "status", "ok",
	                        "server", "ugstore", "timestamp", (json_int_t)0,
	                        "duration", (json_int_t)0);
	http_reply(r, env);
}

/* A required string member of an object body. */
static const char *
body_string(json_t *body, const char *name)
{
	const char *v = json_string_value(json_object_get(body, name));
	return v && *v ? v : NULL;
}

/* The name of the org or app (what) a body's property prop gives, or NULL
** after a 400 reply (body stays the caller's): the name is required and
** may not be a word of the URL grammar. */
static const char *
name_or_reply(http_req *r, json_t *body, const char *prop, const char *what)
{
	const char *name = body_string(body, prop);
	if (!name)
		http_error(r, 400, "illegal_argument", "the property '%s' is required", prop);
	else if (http_url_word((store_slice){ name, strlen(name) }))
		http_error(r, 400, "illegal_argument", "%s name '%.*s' is a word of the URL grammar",
		           what, HTTP_MAX_ECHO, name);
	else
		return name;
	return NULL;
}

/* Replies with the envelope of `action` and, when key is not NULL, value
** (taken) as its member key. */
static void
reply_action(http_req *r, const char *action, const char *key, json_t *value)
{
	json_t *env = http_envelope(r, NULL);
	json_object_set_new(env, "action", json_string(action));
	if (key) json_object_set_new(env, key, value);
	http_reply(r, env);
}

static json_t *
org_json(http_req *r, const store_org *org, json_t *apps)
{
	json_t *rec = NULL;
	if (store_org_json(r->txn, org, &rec) != STORE_OK) {   /* the stored record */
		char id[37];
		store_id_format(&org->uuid, id);
		rec = json_pack("{s:s, s:s}", "uuid", id, "name", org->name);
	}
	json_object_set_new(rec, "applications", apps ? apps : json_object());
	return rec;
}

void
h_org_create(http_req *r)
{
	json_t *body = http_body_object_or_reply(r, 0), *apps = NULL, *owner = NULL;
	store_org org;
	store_app app;
	store_err err = { 0 };
	store_rc rc;
	const char *name;

	if (!body) return;
	if (!(name = name_or_reply(r, body, "organization", "organization"))) {
		json_decref(body);
		return;
	}
	rc = store_org_create(r->txn, (store_slice){ name, strlen(name) }, &org, &err);
	if (rc == STORE_OK && json_object_get(body, "username")) {
		/* the owner: Usergrid's body has username, email, name, password */
		json_t *o = json_pack("{s:O}", "username", json_object_get(body, "username"));
		static const char *const keys[] = { "email", "name", "password" };
		for (size_t i = 0; i < 3; i++)
			if (json_object_get(body, keys[i]))
				json_object_set(o, keys[i], json_object_get(body, keys[i]));
		rc = store_admin_create(r->txn, &org, o, &owner, &err);
		json_decref(o);
	}
	json_decref(body);
	if (rc == STORE_OK)
		rc = store_app_create(r->txn, &org, (store_slice){ "sandbox", 7 }, &app, &err);
	if (rc == STORE_OK) rc = store_app_open(r->txn, &app);   /* sandbox is open */
	if (rc == STORE_OK) rc = store_app_list(r->txn, &org, &apps);
	if (rc) {
		json_decref(owner);
		if (rc == STORE_EXISTS) http_error(r, 400, "duplicate_unique_property_exists", "%s", err.msg);
		else http_store_error(r, rc, &err, NULL);
		return;
	}
	json_t *env = http_envelope(r, NULL), *data = json_object();
	json_object_set_new(env, "action", json_string("new organization"));
	json_object_set_new(env, "status", json_string("ok"));
	if (owner) json_object_set_new(data, "owner", owner);
	json_object_set_new(data, "organization", org_json(r, &org, apps));
	json_object_set_new(env, "data", data);
	http_reply(r, env);
}

static int
org_or_reply(http_req *r, store_org *org)
{
	store_rc rc = store_org_get(r->txn, r->cap[0], org);
	if (rc == STORE_OK) return 1;
	if (rc == STORE_NOTFOUND)
		http_error(r, 404, "organization_not_found", "organization \"%.*s\" not found",
		           (int)(r->cap[0].n > HTTP_MAX_ECHO ? HTTP_MAX_ECHO : r->cap[0].n),
		           r->cap[0].p);
	else
		http_store_error(r, rc, NULL, NULL);
	return 0;
}

/* The org of route capture 0 and its applications; 0 with a reply set. */
static int
org_apps_or_reply(http_req *r, store_org *org, json_t **apps)
{
	if (!org_or_reply(r, org)) return 0;
	store_rc rc = store_app_list(r->txn, org, apps);
	if (rc == STORE_OK) return 1;
	http_store_error(r, rc, NULL, NULL);
	return 0;
}

void
h_org_get(http_req *r)
{
	store_org org;
	json_t *apps = NULL;
	if (!org_apps_or_reply(r, &org, &apps)) return;
	reply_action(r, "get organization", "organization", org_json(r, &org, apps));
}

void
h_apps_list(http_req *r)
{
	store_org org;
	json_t *apps = NULL;
	if (!org_apps_or_reply(r, &org, &apps)) return;
	reply_action(r, "get organization application", "data", apps);
}

void
h_app_create(http_req *r)
{
	store_org org;
	store_app app;
	store_err err = { 0 };
	json_t *body, *rec = NULL;
	const char *name;
	char id[37], full[2 * STORE_NAME_MAX + 2];

	if (!org_or_reply(r, &org) || !(body = http_body_object_or_reply(r, 0))) return;
	if (!(name = name_or_reply(r, body, "name", "application"))) {
		json_decref(body);
		return;
	}
	store_rc rc = store_app_create(r->txn, &org, (store_slice){ name, strlen(name) }, &app, &err);
	json_decref(body);
	if (rc == STORE_OK) rc = store_app_json(r->txn, &app, &rec);
	if (rc) {
		if (rc == STORE_EXISTS) http_error(r, 409, "application_already_exists", "%s", err.msg);
		else http_store_error(r, rc, &err, NULL);
		return;
	}
	store_id_format(&app.uuid, id);
	snprintf(full, sizeof full, "%s/%s", app.org_name, app.name);
	json_t *env = http_envelope(r, NULL);
	json_object_set_new(env, "action", json_string("new application for organization"));
	json_array_append_new(json_object_get(env, "entities"), http_app_entity(r, &app, rec));
	json_decref(rec);
	json_object_set_new(env, "data", json_pack("{s:s}", full, id));
	http_reply(r, env);
}

void
h_mgmt_app_get(http_req *r)
{
	store_org org;
	json_t *rec = NULL;
	store_rc rc;

	if (!org_or_reply(r, &org)) return;
	rc = store_app_get(r->txn, &org, r->cap[1], &r->app);
	if (rc == STORE_OK) rc = store_app_json(r->txn, &r->app, &rec);
	if (rc) {
		http_store_error(r, rc, NULL, "organization_application_not_found");
		return;
	}
	json_t *env = http_envelope(r, NULL);
	json_object_set_new(env, "action", json_string("get organization application"));
	json_array_append_new(json_object_get(env, "entities"), http_app_entity(r, &r->app, rec));
	json_decref(rec);
	http_reply(r, env);
}

/* POST /management/backup: a hot backup into the configured folder, named
** by the time it started; answers the file's name and size. */
void
h_backup(http_req *r)
{
	const char *dir = r->srv->cfg.backup_dir;
	struct timespec now;
	struct tm tm;
	char stamp[32];
	uint64_t size = 0;
	store_err err = { 0 };

	if (!dir) {
		http_error(r, 400, "illegal_argument",
		           "backups are off: start the server with --backup-dir DIR");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
	char *name = http_sprintf(r, "ugstore-%s.%03ldZ.mdb", stamp, now.tv_nsec / 1000000);
	char *path = http_sprintf(r, "%s/%s", dir, name);
	store_rc rc = store_backup(r->srv->s, path, &size, &err);
	if (rc == STORE_EXISTS) {
		http_error(r, 409, "conflict", "%s", err.msg);
		return;
	}
	if (rc) {
		http_store_error(r, rc, &err, NULL);
		return;
	}
	reply_action(r, "backup", "data",
	             json_pack("{s:s, s:I}", "file", name, "size", (json_int_t)size));
}
/* ---- an org's admins; an admin's own record and password ------------------ */

void
h_org_admins(http_req *r)
{
	store_org org;
	json_t *list = NULL;
	if (!org_or_reply(r, &org)) return;
	store_rc rc = auth_admin_list(r->txn, &org, &list);
	if (rc) {
		json_decref(list);
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	reply_action(r, "get organization users", "data", json_pack("{s:o}", "users", list));
}

static void
reply_admin(http_req *r, const char *action, json_t *user)
{
	reply_action(r, action, "data", json_pack("{s:o}", "user", user));
}

/* POST a new admin of the org ({username, email, name, password}). */
void
h_org_admin_create(http_req *r)
{
	store_org org;
	store_err err = { 0 };
	json_t *body, *user = NULL;
	if (!org_or_reply(r, &org) || !(body = http_body_object_or_reply(r, 0))) return;
	store_rc rc = store_admin_create(r->txn, &org, body, &user, &err);
	json_decref(body);
	if (rc) http_store_error(r, rc, &err, NULL);
	else reply_admin(r, "create user", user);
}

/* PUT an existing admin into the org; DELETE takes them out. */
void
h_org_admin_put(http_req *r)
{
	store_org org;
	store_id id;
	json_t *user = NULL;
	if (!org_or_reply(r, &org)) return;
	store_rc rc = auth_admin_find(r->txn, r->cap[1], &id, &user);
	if (rc == STORE_OK)
		rc = r->method == M_DELETE ? auth_admin_remove(r->txn, &org, &id)
		                           : auth_admin_add(r->txn, &org, &id);
	if (rc) {
		json_decref(user);
		http_store_error(r, rc, NULL, "service_resource_not_found");
		return;
	}
	reply_admin(r, r->method == M_DELETE ? "remove user from organization"
	                                     : "add user to organization", user);
}

/* The admin of route capture 0, when the caller is that admin or the
** superuser; 0 with a reply set. */
static int
admin_self_or_reply(http_req *r, store_id *id, json_t **user)
{
	store_rc rc = auth_admin_find(r->txn, r->cap[0], id, user);
	if (rc == STORE_OK && r->who.kind != AUTH_SUPERUSER &&
	    memcmp(r->who.id.b, id->b, 16) != 0)
		rc = STORE_CONFLICT;
	if (rc == STORE_OK) return 1;
	json_decref(*user);
	*user = NULL;
	if (rc == STORE_CONFLICT || rc == STORE_NOTFOUND)   /* nothing about others */
		http_error(r, 401, "unauthorized", "No admin user access authorized");
	else
		http_store_error(r, rc, NULL, NULL);
	return 0;
}

void
h_admin_get(http_req *r)
{
	store_id id;
	json_t *user = NULL, *orgs = NULL;
	if (!admin_self_or_reply(r, &id, &user)) return;
	if (auth_admin_orgs(r->txn, &id, &orgs) == STORE_OK)
		json_object_set_new(user, "organizations", orgs);
	reply_admin(r, "get admin user", user);
}

void
h_admin_password(http_req *r)
{
	store_id id;
	json_t *user = NULL, *body;
	if (!admin_self_or_reply(r, &id, &user)) return;
	json_decref(user);
	if (!(body = http_body_object_or_reply(r, 0))) return;
	const char *old = json_string_value(json_object_get(body, "oldpassword"));
	const char *new = json_string_value(json_object_get(body, "newpassword"));
	store_rc rc = STORE_INVALID;
	if (new && (old || r->who.kind == AUTH_SUPERUSER))
		rc = auth_admin_password(r->txn, &id, old, new);
	json_decref(body);
	if (rc == STORE_OK) {
		reply_action(r, "set user password", NULL, NULL);
	} else if (rc == STORE_INVALID) {
		http_error(r, 400, "illegal_argument", "newpassword (and oldpassword) are required");
	} else if (rc == STORE_NOTFOUND) {
		http_error(r, 400, "auth_invalid_username_or_password", "the old password is wrong");
	} else {
		http_store_error(r, rc, NULL, NULL);
	}
}
