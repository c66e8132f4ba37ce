/*
** secret.c: credentials (passwords, pins) as salted yescrypt hashes from
** libxcrypt, kept in the `secrets` database, never among the properties.
*/
#include "core/store_int.h"

#include <crypt.h>
#include <stdlib.h>

store_rc
store_secret_set(store_txn *t, const store_app *app, const store_id *id,
                 const char *kind, const char *secret)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	store_rc rc;
	keybuf k;

	if (strlen(secret) > STORE_SECRET_MAX) return STORE_INVALID;
	if (strcmp(kind, "password") == 0 && strlen(secret) < t->s->password_min)
		return STORE_POLICY;
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt)) return STORE_IO;
	cd = calloc(1, sizeof *cd);
	if (!cd) return STORE_NOMEM;
	const char *hash = crypt_rn(secret, salt, cd, sizeof *cd);
	if (!hash || hash[0] == '*') {
		free(cd);
		return STORE_IO;
	}
	key_secret(&k, app, id, kind);
	rc = kv_put(t, DBI_SECRETS, &k, hash, strlen(hash));
	free(cd);
	return rc;
}

store_rc
store_secret_check(store_txn *t, const store_app *app, const store_id *id,
                   const char *kind, const char *secret)
{
	struct crypt_data *cd;
	char *stored;
	void *v;
	size_t n;
	keybuf k;
	store_rc rc;

	key_secret(&k, app, id, kind);
	if ((rc = kv_get(t, DBI_SECRETS, &k, &v, &n))) return rc;
	stored = malloc(n + 1);
	cd = calloc(1, sizeof *cd);
	if (!stored || !cd) {
		free(stored);
		free(cd);
		return STORE_NOMEM;
	}
	memcpy(stored, v, n);
	stored[n] = '\0';
	const char *hash = crypt_rn(secret, stored, cd, sizeof *cd);
	rc = hash && strcmp(hash, stored) == 0 ? STORE_OK : STORE_NOTFOUND;
	free(stored);
	free(cd);
	return rc;
}

store_rc
secret_import(store_txn *t, const store_app *app, const store_id *id, const char *kind,
              const char *hash, int *changed)
{
	keybuf k;
	void *v;
	size_t n;
	*changed = 0;
	if (hash[0] != '$' || strlen(hash) > 512) return STORE_INVALID;
	key_secret(&k, app, id, kind);
	store_rc rc = kv_get(t, DBI_SECRETS, &k, &v, &n);
	if (rc == STORE_OK && n == strlen(hash) && memcmp(v, hash, n) == 0) return STORE_OK;
	if (rc != STORE_OK && rc != STORE_NOTFOUND) return rc;
	*changed = 1;
	return kv_put(t, DBI_SECRETS, &k, hash, strlen(hash));
}

const char *const secret_kinds[SECRET_KINDS] = { "password", "pin" };

/* Keys of other kinds in `secrets` (added later) are left alone by check
** and export. */
int
secret_kind_known(const char *kind, size_t n)
{
	for (size_t i = 0; i < SECRET_KINDS; i++)
		if (strlen(secret_kinds[i]) == n && memcmp(secret_kinds[i], kind, n) == 0) return 1;
	return 0;
}
