/*
** roles.c: the roles every application starts with (spec 7.3) and their
** permissions: guest may sign up and register devices, default (every
** signed-in user) may do anything, admin nothing until granted.  An open
** application (Usergrid's sandbox, a development app) lets guest do
** anything too.
*/
#include "core/store_int.h"

static const struct {
	const char *name, *title;
	const char *perms[4];
} default_roles[] = {
	{ "admin", "Administrator", { NULL } },
	{ "default", "Default", { "get,put,post,delete:/**", NULL } },
	{ "guest", "Guest", { "post:/users", "post:/devices", "put:/devices/*", NULL } },
};

#define OPEN_PERMISSION "get,post,put,delete:/**"

store_rc
roles_create_defaults(store_txn *t, const store_app *app)
{
	for (size_t i = 0; i < sizeof default_roles / sizeof *default_roles; i++) {
		json_t *body = json_pack("{s:s, s:s, s:s, s:i}",
		                         "name", default_roles[i].name,
		                         "roleName", default_roles[i].name,
		                         "title", default_roles[i].title,
		                         "inactivity", 0), *e = NULL;
		store_id id;
		if (!body) return STORE_NOMEM;
		store_rc rc = store_entity_create(t, app, "role", body, NULL, &e, NULL);
		json_decref(body);
		if (rc == STORE_OK) rc = store_entity_id(e, &id);
		json_decref(e);
		for (size_t k = 0; rc == STORE_OK && default_roles[i].perms[k]; k++)
			rc = store_dict_add(t, app, &id, "permissions", default_roles[i].perms[k]);
		if (rc) return rc;
	}
	return STORE_OK;
}

store_rc
store_app_open(store_txn *t, const store_app *app)
{
	static const char *const roles[] = { "guest", "default" };
	for (size_t i = 0; i < 2; i++) {
		store_id id;
		store_rc rc = store_entity_find(t, app, "role",
		                                (store_slice){ roles[i], strlen(roles[i]) }, &id);
		if (rc == STORE_OK) rc = store_dict_add(t, app, &id, "permissions", OPEN_PERMISSION);
		if (rc) return rc;
	}
	return STORE_OK;
}

static int
count_value(void *n, const char *value, size_t len)
{
	(void)value;
	(void)len;
	++*(size_t *)n;
	return 0;
}

/* Format 2 -> 3: the default roles of every application get their
** permissions where they have none (an application made before roles had
** permissions would lock its users out). */
store_rc
roles_upgrade_permissions(store_txn *t)
{
	kv_scan sc;
	keybuf recs;
	store_rc rc;
	store_id ids[4096];
	size_t napps = 0;

	key_lead(&recs, 'u');
	if ((rc = kv_scan_begin(&sc, t, DBI_APPS, &recs, NULL, 0))) return rc;
	while (napps < 4096 && kv_scan_next(&sc) && sc.k.mv_size == 17)
		memcpy(ids[napps++].b, (const char *)sc.k.mv_data + 1, 16);
	rc = kv_scan_end(&sc, STORE_OK);
	for (size_t i = 0; rc == STORE_OK && i < napps; i++) {
		char uuid[37];
		store_app app;
		store_id_format(&ids[i], uuid);
		if ((rc = store_app_get(t, NULL, (store_slice){ uuid, 36 }, &app))) break;
		for (size_t r = 0; rc == STORE_OK && r < sizeof default_roles / sizeof *default_roles;
		     r++) {
			const char *name = default_roles[r].name;
			store_id role;
			size_t n = 0;
			rc = store_entity_find(t, &app, "role", (store_slice){ name, strlen(name) }, &role);
			if (rc == STORE_NOTFOUND) {      /* deleted on purpose */
				rc = STORE_OK;
				continue;
			}
			if (rc == STORE_OK) rc = dict_each(t, &app, &role, "permissions", count_value, &n);
			for (size_t k = 0; rc == STORE_OK && n == 0 && default_roles[r].perms[k]; k++)
				rc = store_dict_add(t, &app, &role, "permissions", default_roles[r].perms[k]);
		}
	}
	return rc;
}

typedef struct {
	store_txn       *t;
	const store_app *app;
	json_t          *names;
} names_ctx;

static store_rc
add_rolename(void *ctx, const store_id *role)
{
	names_ctx *c = ctx;
	json_t *e = NULL;
	store_rc rc = store_entity_get(c->t, c->app, role, &e);
	if (rc) return rc;
	json_t *name = json_object_get(e, "name"), *title = json_object_get(e, "title");
	if (json_is_string(name))
		json_object_set(c->names, json_string_value(name), title ? title : name);
	json_decref(e);
	return STORE_OK;
}

store_rc
store_rolenames(store_txn *t, const store_app *app, const store_id *owner, json_t **out)
{
	names_ctx c = { t, app, json_object() };
	store_rc rc = edge_each(t, app, owner, STORE_EDGE_COLLECTION, "roles", add_rolename, &c);
	if (rc) json_decref(c.names);
	*out = rc ? NULL : c.names;
	return rc;
}
