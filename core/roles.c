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
