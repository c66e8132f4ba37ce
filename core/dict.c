/*
** dict.c: entity dictionaries: small sets of strings attached to an entity
** (the `permissions` of users, groups and roles), one key per value.
*/
#include "core/store_int.h"

static void
key_dict(keybuf *k, const store_app *app, const store_id *id, const char *dict)
{
	key_init(k);
	key_id(k, &app->uuid);
	key_id(k, id);
	key_str(k, dict);
}

store_rc
store_dict_add(store_txn *t, const store_app *app, const store_id *id,
               const char *dict, const char *value)
{
	keybuf k;
	key_dict(&k, app, id, dict);
	key_put(&k, value, strlen(value));
	return kv_put(t, DBI_DICTS, &k, "", 0);
}

store_rc
store_dict_remove(store_txn *t, const store_app *app, const store_id *id,
                  const char *dict, const char *value)
{
	keybuf k;
	void *v;
	store_rc rc;
	key_dict(&k, app, id, dict);
	key_put(&k, value, strlen(value));
	if ((rc = kv_get(t, DBI_DICTS, &k, &v, NULL))) return rc;
	return kv_del(t, DBI_DICTS, &k);
}

store_rc
dict_each(store_txn *t, const store_app *app, const store_id *id, const char *dict,
          int (*fn)(void *ctx, const char *value, size_t n), void *ctx)
{
	MDB_cursor *c = NULL;
	keybuf prefix;
	MDB_val mk, mv;
	int mrc;

	key_dict(&prefix, app, id, dict);
	mk = (MDB_val){ prefix.n, prefix.b };
	if ((mrc = mdb_cursor_open(t->txn, t->s->dbi[DBI_DICTS], &c)) != 0)
		return store_mdb_rc(mrc);
	for (mrc = mdb_cursor_get(c, &mk, &mv, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(c, &mk, &mv, MDB_NEXT)) {
		if (mk.mv_size < prefix.n || memcmp(mk.mv_data, prefix.b, prefix.n) != 0)
			break;
		if (fn(ctx, (const char *)mk.mv_data + prefix.n, mk.mv_size - prefix.n)) break;
	}
	mdb_cursor_close(c);
	return mrc == 0 || mrc == MDB_NOTFOUND ? STORE_OK : store_mdb_rc(mrc);
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
	key_dict(&k, app, id, dict);
	key_put(&k, value, strlen(value));
	store_rc rc = kv_get(t, DBI_DICTS, &k, NULL, NULL);
	*changed = rc == STORE_NOTFOUND;
	return *changed ? kv_put(t, DBI_DICTS, &k, "", 0) : rc;
}
