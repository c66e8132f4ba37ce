/*
** roles.c: the roles every application starts with (spec 7.3).
*/
#include "core/store_int.h"

static const struct {
	const char *name, *title;
} default_roles[] = {
	{ "admin", "Administrator" },
	{ "default", "Default" },
	{ "guest", "Guest" },
};

store_rc
roles_create_defaults(store_txn *t, const store_app *app)
{
	for (size_t i = 0; i < sizeof default_roles / sizeof *default_roles; i++) {
		json_t *body = json_pack("{s:s, s:s, s:s, s:i}",
		                         "name", default_roles[i].name,
		                         "roleName", default_roles[i].name,
		                         "title", default_roles[i].title,
		                         "inactivity", 0);
		if (!body) return STORE_NOMEM;
		store_rc rc = store_entity_create(t, app, "role", body, NULL, NULL, NULL);
		json_decref(body);
		if (rc) return rc;
	}
	return STORE_OK;
}
