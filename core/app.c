/*
** app.c: organizations and applications.
**
** An org is a name (unique, case-insensitive) and a record; an application
** belongs to one org, its name unique within it.  Application data lives in
** the other databases under keys prefixed by the application UUID.  A new
** application gets the default roles (spec 7.3) in the same transaction.
*/
#include "core/auth.h"
#include "core/store_int.h"
#include "core/mem.h"
#include "core/text.h"

#include <stdio.h>
#include <strings.h>

/* Org and app names: 1..64 of letters, digits, '-', '_', '.'; a path
** segment (not "." or ".."), and not a UUID (org and app lookups take
** either).  The words a URL gives a meaning (orgs, apps, ...) are the
** HTTP layer's to refuse (http_url_word). */
static int
valid_name(store_slice s)
{
	store_id id;
	if (!store_segment_ok(s) || s.n > 64 || store_id_parse(s, &id)) return 0;
	for (size_t i = 0; i < s.n; i++)
		if (!text_name_byte((unsigned char)s.p[i])) return 0;
	return 1;
}

/* Copies a name slice into a fixed buffer (callers validated the length). */
static void
copy_name(char dst[STORE_NAME_MAX + 1], const char *p, size_t n)
{
	if (n > STORE_NAME_MAX) n = STORE_NAME_MAX;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

store_rc
store_org_create(store_txn *t, store_slice name, store_org *out, store_err *err)
{
	keybuf k;
	store_rc rc;
	json_t *rec = NULL;

	if (!valid_name(name))
		return store_fail(err, STORE_INVALID,
		                  "organization name must be 1 to 64 letters, digits, '-', '_' or '.', not '.' or '..' and not a UUID");
	key_org_name(&k, name);
	rc = kv_get(t, DBI_ORGS, &k, NULL, NULL);
	if (rc == STORE_OK)
		return store_fail(err, STORE_EXISTS,
		                  "Organization \"%.*s\" already exists", (int)name.n, name.p);
	if (rc != STORE_NOTFOUND) return rc;

	store_id_new(&out->uuid);
	copy_name(out->name, name.p, name.n);
	if ((rc = kv_put(t, DBI_ORGS, &k, out->uuid.b, 16))) return rc;

	char uuid[37];
	store_id_format(&out->uuid, uuid);
	rec = json_pack("{s:s, s:s, s:I}", "uuid", uuid, "name", out->name,
	                "created", (json_int_t)store_now_ms());
	if (!rec) return STORE_NOMEM;
	key_rec(&k, &out->uuid);
	rc = kv_put_json(t, DBI_ORGS, &k, rec);
	json_decref(rec);
	return rc;
}

store_rc
store_org_get(store_txn *t, store_slice s, store_org *out)
{
	keybuf k;
	json_t *rec = NULL;
	store_rc rc;

	if (idcache_get(t, 'o', s.p, s.n, out, sizeof *out)) return STORE_OK;
	if (!store_id_parse(s, &out->uuid)) {
		void *v;
		size_t n;
		if (s.n == 0 || s.n > STORE_NAME_MAX) return STORE_NOTFOUND;
		key_org_name(&k, s);
		if ((rc = kv_get(t, DBI_ORGS, &k, &v, &n))) return rc;
		if (n != 16) return STORE_CORRUPT;
		memcpy(out->uuid.b, v, 16);
	}
	key_rec(&k, &out->uuid);
	if ((rc = kv_get_json(t, DBI_ORGS, &k, &rec))) return rc;
	const char *name = json_string_value(json_object_get(rec, "name"));
	if (!name) rc = STORE_CORRUPT;
	else copy_name(out->name, name, strlen(name));
	json_decref(rec);
	if (rc == STORE_OK) idcache_put(t, 'o', s.p, s.n, out, sizeof *out);
	return rc;
}

store_rc
store_org_json(store_txn *t, const store_org *org, json_t **out)
{
	keybuf k;
	key_rec(&k, &org->uuid);
	return kv_get_json(t, DBI_ORGS, &k, out);
}

/* Reads an app record and fills out from it. */
static store_rc
app_load(store_txn *t, const store_id *id, store_app *out, json_t **rec_out)
{
	keybuf k;
	json_t *rec;
	store_rc rc;

	key_rec(&k, id);
	if ((rc = kv_get_json(t, DBI_APPS, &k, &rec))) return rc;
	const char *name = json_string_value(json_object_get(rec, "applicationName"));
	const char *org = json_string_value(json_object_get(rec, "organizationName"));
	const char *org_id = json_string_value(json_object_get(rec, "organization"));
	if (!name || !org || !org_id ||
	    !store_id_parse((store_slice){ org_id, strlen(org_id) }, &out->org)) {
		json_decref(rec);
		return STORE_CORRUPT;
	}
	out->uuid = *id;
	copy_name(out->name, name, strlen(name));
	copy_name(out->org_name, org, strlen(org));
	if (rec_out) *rec_out = rec;
	else json_decref(rec);
	return STORE_OK;
}

store_rc
store_app_create(store_txn *t, const store_org *org, store_slice name,
                 store_app *out, store_err *err)
{
	keybuf k;
	store_rc rc;
	json_t *rec;
	char uuid[37], org_uuid[37], full[2 * STORE_NAME_MAX + 2];

	if (!valid_name(name))
		return store_fail(err, STORE_INVALID,
		                  "application name must be 1 to 64 letters, digits, '-', '_' or '.', not '.' or '..' and not a UUID");
	key_app_name(&k, &org->uuid, name);
	rc = kv_get(t, DBI_APPS, &k, NULL, NULL);
	if (rc == STORE_OK)
		return store_fail(err, STORE_EXISTS, "Application \"%.*s\" already exists in \"%s\"",
		                  (int)name.n, name.p, org->name);
	if (rc != STORE_NOTFOUND) return rc;

	store_id_new(&out->uuid);
	out->org = org->uuid;
	copy_name(out->name, name.p, name.n);
	lc_copy(out->name, out->name, strlen(out->name));
	snprintf(out->org_name, sizeof out->org_name, "%s", org->name);
	if ((rc = kv_put(t, DBI_APPS, &k, out->uuid.b, 16))) return rc;

	store_id_format(&out->uuid, uuid);
	store_id_format(&org->uuid, org_uuid);
	snprintf(full, sizeof full, "%s/%s", out->org_name, out->name);
	lc_copy(full, full, strlen(full));
	json_int_t now = (json_int_t)store_now_ms();
	rec = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s}",
	                "uuid", uuid, "type", "application", "name", full,
	                "created", now, "modified", now,
	                "organization", org_uuid, "organizationName", out->org_name,
	                "applicationName", out->name);
	if (!rec) return STORE_NOMEM;
	key_rec(&k, &out->uuid);
	rc = kv_put_json(t, DBI_APPS, &k, rec);
	json_decref(rec);
	if (rc) return rc;
	return roles_create_defaults(t, out);
}

store_rc
store_app_get(store_txn *t, const store_org *org, store_slice s, store_app *out)
{
	store_id id;
	store_rc rc;
	unsigned char key[16 + STORE_NAME_MAX];
	size_t kn = 0;

	if (s.n <= STORE_NAME_MAX) {        /* the org's uuid (or none), the name */
		memcpy(key, org ? org->uuid.b : (const unsigned char[16]){ 0 }, 16);
		memcpy(key + 16, s.p, s.n);
		kn = 16 + s.n;
		if (idcache_get(t, 'a', key, kn, out, sizeof *out)) return STORE_OK;
	}
	if (!store_id_parse(s, &id)) {
		keybuf k;
		void *v;
		size_t n;
		if (!org || s.n == 0 || s.n > STORE_NAME_MAX) return STORE_NOTFOUND;
		key_app_name(&k, &org->uuid, s);
		if ((rc = kv_get(t, DBI_APPS, &k, &v, &n))) return rc;
		if (n != 16) return STORE_CORRUPT;
		memcpy(id.b, v, 16);
	}
	if ((rc = app_load(t, &id, out, NULL))) return rc;
	if (org && memcmp(org->uuid.b, out->org.b, 16) != 0) return STORE_NOTFOUND;
	if (kn) idcache_put(t, 'a', key, kn, out, sizeof *out);
	return STORE_OK;
}

store_rc
store_app_list(store_txn *t, const store_org *org, json_t **out)
{
	kv_scan sc;
	keybuf k;
	store_rc rc;

	*out = NULL;
	key_app_names(&k, &org->uuid);
	if ((rc = kv_scan_begin(&sc, t, DBI_APPS, &k, NULL, 0))) return rc;
	*out = json_object();
	while (rc == STORE_OK && kv_scan_next(&sc)) {
		store_app app;
		store_id id;
		char uuid[37], full[2 * STORE_NAME_MAX + 2];
		if (sc.v.mv_size != 16) { rc = STORE_CORRUPT; break; }
		memcpy(id.b, sc.v.mv_data, 16);
		if ((rc = app_load(t, &id, &app, NULL))) break;
		store_id_format(&id, uuid);
		snprintf(full, sizeof full, "%s/%s", app.org_name, app.name);
		lc_copy(full, full, strlen(full));
		json_object_set_new(*out, full, json_string(uuid));
	}
	if ((rc = kv_scan_end(&sc, rc))) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

store_rc
store_app_json(store_txn *t, const store_app *app, json_t **out)
{
	store_app tmp;
	return app_load(t, &app->uuid, &tmp, out);
}

/* The management space: admin users live here as users of an application
** that no org owns and no URL reaches (its uuid is not a time UUID). */
static const store_app management = {
	.uuid = { { 0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1 } },
	.org_name = "", .name = "management",
};
const store_app *const store_mgmt_app = &management;

store_rc
store_admin_create(store_txn *t, const store_org *org, json_t *body, json_t **out,
                   store_err *err)
{
	json_t *user = NULL;
	store_id id;
	store_rc rc;

	*out = NULL;
	if (!json_is_object(body)) return store_fail(err, STORE_INVALID, "the owner must be an object");
	if (json_get_ci(body, AUTH_PASSWORD_CHANGED, NULL))   /* the store's to write */
		return store_fail(err, STORE_INVALID, "'%s' is set by the store", AUTH_PASSWORD_CHANGED);
	if ((rc = store_entity_create(t, &management, "user", body, NULL, &user, err))) return rc;
	rc = store_entity_id(user, &id);
	if (rc == STORE_OK)
		rc = store_edge_put(t, &management, &org->uuid, STORE_EDGE_COLLECTION, "admins", &id,
		                    NULL);
	if (rc) json_decref(user);
	else *out = user;
	return rc;
}

/* Properties an application update may not change. */
static const char *const app_fixed[] = {
	"uuid", "type", "name", "created", "modified", "organization",
	"organizationName", "applicationName", "metadata",
};

/* Merges body's properties into the application record rec, except the
** fixed ones; a null or empty value removes one when delete_empty.  Returns
** how many it changed. */
static size_t
merge_props(json_t *rec, json_t *body, int delete_empty)
{
	json_t *v;
	const char *key;
	size_t changed = 0;
	json_object_foreach(body, key, v) {
		int fixed = 0;
		for (size_t i = 0; i < sizeof app_fixed / sizeof *app_fixed; i++)
			if (strcasecmp(key, app_fixed[i]) == 0) fixed = 1;
		if (fixed) continue;
		const char *have = NULL;
		json_t *old = json_get_ci(rec, key, &have);
		const char *name = have ? have : key;
		if (delete_empty && (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))) {
			if (have) json_object_del(rec, name);
			changed += have != NULL;
		} else if (!old || !json_equal(old, v)) {
			json_object_set(rec, name, v);
			changed++;
		}
	}
	return changed;
}

store_rc
store_app_update(store_txn *t, const store_app *app, json_t *body, json_t **out,
                 store_err *err)
{
	json_t *rec = NULL;
	store_app tmp;
	store_rc rc;
	keybuf k;

	*out = NULL;
	if (!json_is_object(body))
		return store_fail(err, STORE_INVALID, "the request body must be a JSON object");
	if ((rc = app_load(t, &app->uuid, &tmp, &rec))) return rc;
	merge_props(rec, body, 1);
	json_object_set_new(rec, "modified", json_integer((json_int_t)store_now_ms()));
	key_rec(&k, &app->uuid);
	if ((rc = kv_put_json(t, DBI_APPS, &k, rec))) {
		json_decref(rec);
		return rc;
	}
	*out = rec;
	return STORE_OK;
}

store_rc
app_props_import(store_txn *t, const store_app *app, json_t *props, int *changed)
{
	json_t *rec = NULL;
	store_app tmp;
	keybuf k;
	store_rc rc = app_load(t, &app->uuid, &tmp, &rec);
	*changed = 0;
	if (rc == STORE_OK && merge_props(rec, props, 0)) {
		*changed = 1;
		json_object_set_new(rec, "modified", json_integer((json_int_t)store_now_ms()));
		key_rec(&k, &app->uuid);
		rc = kv_put_json(t, DBI_APPS, &k, rec);
	}
	json_decref(rec);
	return rc;
}

store_rc
store_app_import(store_txn *t, json_t *rec, store_app *out, int *changed,
                 store_err *err)
{
	const char *org_name = json_string_value(json_object_get(rec, "organizationName"));
	const char *name = json_string_value(json_object_get(rec, "applicationName"));
	json_t *copy = NULL, *have = NULL;
	store_org org;
	store_id id;
	char org_id[37];
	keybuf k;
	store_rc rc;

	*changed = 0;
	if (!org_name || !name || store_entity_id(rec, &id) != STORE_OK)
		return store_fail(err, STORE_INVALID, "the application record needs uuid, "
		                  "organizationName and applicationName");
	store_slice os = { org_name, strlen(org_name) }, as = { name, strlen(name) };
	rc = store_org_get(t, os, &org);
	if (rc == STORE_NOTFOUND) {
		rc = store_org_create(t, os, &org, err);
		*changed = 1;
	}
	if (rc) return rc;
	rc = store_app_get(t, &org, as, out);
	if (rc == STORE_OK && memcmp(out->uuid.b, id.b, 16) != 0)
		return store_fail(err, STORE_CONFLICT, "%s/%s exists here with another uuid", org_name,
		                  name);
	if (rc == STORE_NOTFOUND) {
		if (!valid_name(as)) return store_fail(err, STORE_INVALID, "bad application name");
		key_rec(&k, &id);
		if (kv_get(t, DBI_APPS, &k, NULL, NULL) == STORE_OK)
			return store_fail(err, STORE_CONFLICT, "an application with uuid of %s/%s "
			                  "exists here in another organization", org_name, name);
		key_app_name(&k, &org.uuid, as);
		if ((rc = kv_put(t, DBI_APPS, &k, id.b, 16))) return rc;
	} else if (rc) {
		return rc;
	}
	/* the record as exported, in this store's organization */
	copy = json_copy(rec);
	store_id_format(&org.uuid, org_id);
	json_object_set_new(copy, "organization", json_string(org_id));
	key_rec(&k, &id);
	if (kv_get_json(t, DBI_APPS, &k, &have) != STORE_OK || !json_equal(have, copy)) {
		rc = kv_put_json(t, DBI_APPS, &k, copy);
		*changed = 1;
	}
	json_decref(have);
	json_decref(copy);
	if (rc == STORE_OK) rc = store_app_get(t, &org, as, out);
	return rc;
}
