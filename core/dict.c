/*
** dict.c: entity dictionaries: small sets of strings attached to an entity
** (the `permissions` of users, groups and roles), one key per value.
*/
#include "core/store_int.h"

store_rc
store_dict_add(store_txn *t, const store_app *app, const store_id *id,
               const char *dict, const char *value)
{
	keybuf k;
	key_dict_value(&k, app, id, dict, value);
	return kv_put(t, DBI_DICTS, &k, "", 0);
}

store_rc
store_dict_remove(store_txn *t, const store_app *app, const store_id *id,
                  const char *dict, const char *value)
{
	keybuf k;
	void *v;
	store_rc rc;
	key_dict_value(&k, app, id, dict, value);
	if ((rc = kv_get(t, DBI_DICTS, &k, &v, NULL))) return rc;
	return kv_del(t, DBI_DICTS, &k);
}

store_rc
dict_each(store_txn *t, const store_app *app, const store_id *id, const char *dict,
          int (*fn)(void *ctx, const char *value, size_t n), void *ctx)
{
	kv_scan sc;
	keybuf prefix;
	store_rc rc;

	key_dict(&prefix, app, id, dict);
	if ((rc = kv_scan_begin(&sc, t, DBI_DICTS, &prefix, NULL, 0))) return rc;
	while (kv_scan_next(&sc) &&
	       !fn(ctx, (const char *)sc.k.mv_data + prefix.n, sc.k.mv_size - prefix.n))
		;
	return kv_scan_end(&sc, STORE_OK);
}

static int
append_value(void *out, const char *value, size_t n)
{
	json_array_append_new(out, json_stringn(value, n));
	return 0;
}

store_rc
store_dict_list(store_txn *t, const store_app *app, const store_id *id,
                const char *dict, json_t **out)
{
	store_rc rc;
	*out = json_array();
	if ((rc = dict_each(t, app, id, dict, append_value, *out))) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

store_rc
dict_import(store_txn *t, const store_app *app, const store_id *id, const char *dict,
            const char *value, int *changed)
{
	keybuf k;
	key_dict_value(&k, app, id, dict, value);
	store_rc rc = kv_get(t, DBI_DICTS, &k, NULL, NULL);
	*changed = rc == STORE_NOTFOUND;
	return *changed ? kv_put(t, DBI_DICTS, &k, "", 0) : rc;
}
