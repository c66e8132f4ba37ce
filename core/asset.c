/*
** asset.c: binary data on entities (Usergrid's assets).
**
** An entity holds at most one piece of binary data, stored under (app,
** uuid) in the `assets` database and described by the entity's
** `file-metadata` property (content-type, content-length, checksum, etag,
** last-modified), which no client body can set.  Both are written in one
** transaction, so neither is ever seen without the other, and deleting the
** entity deletes its data (store_entity_delete).
*/
#include "core/store_int.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>

/* A media type as it may go out in a Content-Type header: printable ASCII
** without quotes or backslashes (no header injection), 1 to 127 bytes. */
static int
media_type_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 127 || !strchr(s, '/')) return 0;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\') return 0;
	return 1;
}

store_rc
store_asset_put(store_txn *t, const store_app *app, const store_id *id, const void *data,
                size_t n, const char *content_type, json_t **out, store_err *err)
{
	json_t *old = NULL, *e = NULL;
	char sum[33];
	keybuf k;
	store_rc rc;

	if (out) *out = NULL;
	if (!media_type_ok(content_type))
		return store_fail(err, STORE_INVALID, "'%.100s' is not a media type", content_type);
	if ((rc = store_entity_get(t, app, id, &old))) return rc;
	md5_hex(data, n, sum);
	json_int_t now = (json_int_t)store_now_ms();
	e = json_copy(old);
	json_object_set_new(e, "file-metadata", json_pack("{s:s, s:I, s:s, s:s, s:I}",
	                    "content-type", content_type, "content-length", (json_int_t)n,
	                    "checksum", sum, "etag", sum, "last-modified", now));
	json_object_set_new(e, "modified", json_integer(now));
	if ((rc = entity_replace(t, app, id, old, e, err))) goto done;
	key_entity(&k, app, id);
	if ((rc = kv_put(t, DBI_ASSETS, &k, data, n))) goto done;
	if (out) {
		*out = e;
		e = NULL;
	}
done:
	json_decref(old);
	json_decref(e);
	return rc;
}

store_rc
store_asset_get(store_txn *t, const store_app *app, const store_id *id, uint64_t off,
                uint64_t len, void **out, size_t *total)
{
	keybuf k;
	void *v;
	size_t n;
	store_rc rc;

	*out = NULL;
	key_entity(&k, app, id);
	if ((rc = kv_get(t, DBI_ASSETS, &k, &v, &n))) return rc;
	*total = n;
	if (off > n) off = n;
	if (len > n - off) len = n - off;
	*out = xmalloc(len ? len : 1);
	memcpy(*out, (const char *)v + off, len);
	return STORE_OK;
}

/* ---- export and import (export.c) ---------------------------------------- */

json_t *
asset_record(const void *key, size_t kn, const void *data, size_t n)
{
	char id[37];
	store_id e;
	if (kn != 32) return NULL;
	memcpy(e.b, (const unsigned char *)key + 16, 16);
	store_id_format(&e, id);
	char *text = xmalloc(4 * (n / 3) + 8);
	store_b64_encode(data, n, text);
	json_t *rec = json_pack("{s:s, s:s, s:s}", "record", "asset", "entity", id, "data", text);
	free(text);
	return rec;
}

store_rc
asset_import(store_txn *t, const store_app *app, const store_id *id, const char *b64,
             int *changed)
{
	size_t tn = strlen(b64), n;
	unsigned char *data = xmalloc(tn / 4 * 3 + 3);
	keybuf k;
	void *have;
	size_t hn;
	store_rc rc = STORE_INVALID;

	*changed = 0;
	if (!store_b64_decode(b64, tn, data, tn / 4 * 3 + 3, &n)) goto done;
	key_entity(&k, app, id);
	rc = kv_get(t, DBI_ASSETS, &k, &have, &hn);
	if (rc == STORE_OK && hn == n && memcmp(have, data, n) == 0) goto done;
	if (rc != STORE_OK && rc != STORE_NOTFOUND) goto done;
	*changed = 1;
	rc = kv_put(t, DBI_ASSETS, &k, data, n);
done:
	free(data);
	return rc;
}
