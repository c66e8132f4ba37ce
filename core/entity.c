/*
** entity.c: entities and their unique values.
**
** An entity is stored as one JSON object under (app, uuid): the system
** properties uuid, type, created, modified, then the caller's properties
** with their names as first given (names are case-insensitive: a later
** `TESTPROP` overwrites `testProp` in place).  Unique values (spec 3.2) are
** claimed in the `unique` database in the same transaction as the entity;
** every entity is also a member of its type's root collection, an edge
** owned by the application.
*/
#include "core/store_int.h"
#include "core/mem.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* Never taken from a client body (spec 3.1). */
static const char *const reserved[] = {
	"uuid", "type", "created", "modified", "metadata", "membership",
	"connection", "file-metadata",
};

static int
in_list(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n && list[i]; i++)
		if (strcasecmp(list[i], name) == 0) return 1;
	return 0;
}

#define IN_LIST(arr, name) in_list((arr), sizeof(arr) / sizeof((arr)[0]), (name))

static int
is_empty_value(json_t *v)
{
	return json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
}

/* Copies body's properties into a new object, dropping reserved names and
** folding names case-insensitively (the first spelling wins, the last value
** wins).  Users' password and pin never become properties.  The body is
** checked against the limits and the name rule first (store_entity_check);
** everything here is linear in the body's size. */
static store_rc
clean_body(const store_type_info *ti, json_t *body, json_t **out, store_err *err)
{
	const char *key;
	json_t *v, *clean, *names;
	store_rc rc;

	*out = NULL;
	if (!json_is_object(body))
		return store_fail(err, STORE_INVALID, "the entity must be a JSON object");
	if ((rc = store_entity_check(body, 1, NULL, err))) return rc;
	clean = json_object();
	names = json_object();
	json_object_foreach(body, key, v) {
		if (IN_LIST(reserved, key)) continue;
		if (ti->credentials && in_list(secret_kinds, SECRET_KINDS, key)) continue;
		json_object_set(clean, ci_name(names, key, 1), v);
	}
	json_decref(names);
	*out = clean;
	return STORE_OK;
}

/* A group path: letters, digits, '-', '.', '/' (non-ASCII letters pass),
** and every '/'-separated segment a path segment (spec 9: no empty, "."
** or ".." segments). */
static int
valid_group_path(const char *p)
{
	const char *seg = p;
	for (;; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '/' || c == '\0') {
			if (!store_segment_ok((store_slice){ seg, (size_t)(p - seg) })) return 0;
			if (!c) return 1;
			seg = p + 1;
		} else if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		                         (c >= 'A' && c <= 'Z') || c == '-' || c == '.')) {
			return 0;
		}
	}
}

/* A path alias as given, less one leading '/' (spec 9: a group's
** `/testGroup` is `testGroup`). */
static void
path_normalize(json_t *e, const char *alias)
{
	const char *key = NULL;
	json_t *path = json_get_ci(e, alias, &key);
	const char *p = json_string_value(path);
	if (p && p[0] == '/') json_object_set_new(e, key, json_string(p + 1));
}

/* A number or boolean as the string Usergrid's typed String properties
** make of it (spec 9: `{"name": 1}` stores "1"): integers and booleans
** as written, reals in the fewest digits that read back the same. */
static json_t *
scalar_string(json_t *v)
{
	char buf[40];
	if (json_is_integer(v)) {
		snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		double d = json_real_value(v);
		for (int p = 1; p <= 17; p++) {
			snprintf(buf, sizeof buf, "%.*g", p, d);
			if (strtod(buf, NULL) == d) break;
		}
		if (!strpbrk(buf, ".eEn")) strcat(buf, ".0");
	} else {
		snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "true" : "false");
	}
	return json_string(buf);
}

/* The type's unique properties must be strings; other scalars become the
** strings Usergrid makes of them. */
static store_rc
unique_as_strings(const store_type_info *ti, const char *type, json_t *e, store_err *err)
{
	for (int i = 0; ti->unique[i]; i++) {
		const char *key = NULL;
		json_t *v = json_get_ci(e, ti->unique[i], &key);
		if (!v || json_is_string(v)) continue;
		if (json_is_object(v) || json_is_array(v) || json_is_null(v))
			return store_fail(err, STORE_INVALID,
			                  "property '%s' of a %s must be a string",
			                  ti->unique[i], type);
		json_object_set_new(e, key, scalar_string(v));
	}
	return STORE_OK;
}

/* A path alias (a group's) is normalised, required and checked segment by
** segment; any other alias must be a name a URL can spell. */
static store_rc
check_alias(const store_type_info *ti, const char *type, json_t *e, store_err *err)
{
	const char *alias = ti->alias;
	if (ti->path_alias) {
		path_normalize(e, alias);
		json_t *path = json_get_ci(e, alias, NULL);
		if (!path)
			return store_fail(err, STORE_INVALID,
			                  "You must provide a '%s' property when creating a %s",
			                  alias, type);
		if (!valid_group_path(json_string_value(path)))
			return store_fail(err, STORE_INVALID,
			                  "%c%s %s may only contain letters, digits, '-', '.' and '/', "
			                  "and no segment of it may be empty, '.' or '..'",
			                  toupper((unsigned char)type[0]), type + 1, alias);
		return STORE_OK;
	}
	json_t *name = alias ? json_get_ci(e, alias, NULL) : NULL;
	if (!json_is_string(name)) return STORE_OK;
	if (strcasecmp(json_string_value(name), "_settings") == 0)
		return store_fail(err, STORE_INVALID, "'_settings' is reserved: it names a "
		                  "collection's settings");
	if (!store_segment_ok((store_slice){ json_string_value(name), json_string_length(name) }))
		return store_fail(err, STORE_INVALID,
		                  "a %s's %s cannot be '.' or '..' (no URL could name it)",
		                  type, alias);
	return STORE_OK;
}

/* A location holds numeric latitude and longitude within their ranges. */
static store_rc
check_location(json_t *e, store_err *err)
{
	json_t *loc = json_get_ci(e, "location", NULL);
	double lat, lon;
	if (loc && (!store_location_of(loc, &lat, &lon) || lat < -90 || lat > 90 ||
	            lon < -180 || lon > 180))
		return store_fail(err, STORE_INVALID,
		                  "Latitude and longitude must be doubles: location needs numeric "
		                  "latitude (-90..90) and longitude (-180..180)");
	return STORE_OK;
}

/* Type rules that hold after every create and update; a path alias is
** normalised first.  The whole entity (what an update merged in included)
** stays within the limits of store_entity_check. */
static store_rc
validate(const store_type_info *ti, const char *type, json_t *e, store_err *err)
{
	store_rc rc = store_entity_check(e, 0, NULL, err);
	if (rc || (rc = unique_as_strings(ti, type, e, err))) return rc;
	if (ti->self) {              /* /users/me is the caller (spec 1.5) */
		const char *name = json_string_value(json_get_ci(e, ti->alias, NULL));
		if (name && strcasecmp(name, ti->self) == 0)
			return store_fail(err, STORE_INVALID, "%c%s '%s' is reserved",
			                  toupper((unsigned char)ti->alias[0]), ti->alias + 1, ti->self);
	}
	if ((rc = check_alias(ti, type, e, err)) || (rc = check_location(e, err))) return rc;
	for (int i = 0; ti->required[i]; i++)
		if (!json_get_ci(e, ti->required[i], NULL))
			return store_fail(err, STORE_REQUIRED,
			                  "Entity \"%s\" requires a property named \"%s\"",
			                  type, ti->required[i]);
	return STORE_OK;
}

/* Looks up the owner of a unique value. */
static store_rc
unique_get(store_txn *t, const store_app *app, const char *type,
           const char *prop, const char *val, store_id *out)
{
	keybuf k;
	void *v;
	size_t n;
	store_rc rc;

	key_unique(&k, app, type, prop, val);
	if ((rc = kv_get(t, DBI_UNIQUE, &k, &v, &n))) return rc;
	if (n != 16) return STORE_CORRUPT;
	memcpy(out->b, v, 16);
	return STORE_OK;
}

static store_rc
unique_claim(store_txn *t, const store_app *app, const char *type,
             const char *prop, const char *val, const store_id *id,
             store_err *err)
{
	store_id owner;
	keybuf k;
	store_rc rc = unique_get(t, app, type, prop, val, &owner);
	if (rc == STORE_OK && memcmp(owner.b, id->b, 16) != 0)
		return store_fail(err, STORE_EXISTS,
		                  "Entity \"%s\" requires that property named \"%s\" be unique, value of %.200s exists",
		                  type, prop, val);
	if (rc != STORE_OK && rc != STORE_NOTFOUND) return rc;
	key_unique(&k, app, type, prop, val);
	return kv_put(t, DBI_UNIQUE, &k, id->b, 16);
}

static store_rc
unique_release(store_txn *t, const store_app *app, const char *type,
               const char *prop, const char *val, const store_id *id)
{
	store_id owner;
	keybuf k;
	store_rc rc = unique_get(t, app, type, prop, val, &owner);
	if (rc == STORE_NOTFOUND) return STORE_OK;
	if (rc) return rc;
	if (memcmp(owner.b, id->b, 16) != 0) return STORE_OK;
	key_unique(&k, app, type, prop, val);
	return kv_del(t, DBI_UNIQUE, &k);
}

/* A unique property's value as the text its key holds: strings as they
** are, other scalars as JSON; NULL for none (objects and arrays). */
char *
unique_text(json_t *e, const char *prop)
{
	json_t *v = e ? json_get_ci(e, prop, NULL) : NULL;
	if (json_is_string(v)) return xstrdup(json_string_value(v));
	if (!v || json_is_null(v) || json_is_object(v) || json_is_array(v)) return NULL;
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

store_rc
unique_props(store_txn *t, const store_app *app, const char *type,
             const char *const *props, size_t n, json_t *old, json_t *new,
             const store_id *id, store_err *err)
{
	store_rc rc = STORE_OK;
	for (size_t i = 0; i < n && props[i] && rc == STORE_OK; i++) {
		char *o = unique_text(old, props[i]), *v = unique_text(new, props[i]);
		if (!(o && v && strcasecmp(o, v) == 0)) {
			if (o) rc = unique_release(t, app, type, props[i], o, id);
			if (v && rc == STORE_OK) rc = unique_claim(t, app, type, props[i], v, id, err);
		}
		free(o);
		free(v);
	}
	return rc;
}

/* Claims the unique values of the type's schema that new has and old had
** not, releases the others.  old may be NULL (create) and new may be NULL
** (delete). */
static store_rc
unique_update(store_txn *t, const store_app *app, const store_type_info *ti,
              const char *type, json_t *old, json_t *new, const store_id *id,
              store_err *err)
{
	return unique_props(t, app, type, ti->unique, 4, old, new, id, err);
}

/* A user's password and pin from the body become hashed credentials. */
static store_rc
set_secrets(store_txn *t, const store_app *app, const store_id *id, json_t *body,
            store_err *err)
{
	for (size_t i = 0; i < SECRET_KINDS; i++) {
		json_t *v = json_get_ci(body, secret_kinds[i], NULL);
		if (!v || json_is_null(v)) continue;
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > STORE_SECRET_MAX)
			return store_fail(err, STORE_INVALID,
			                  "the %s must be a string of 1 to %d bytes", secret_kinds[i],
			                  STORE_SECRET_MAX);
		store_rc rc = store_secret_set(t, app, id, secret_kinds[i], json_string_value(v));
		if (rc == STORE_POLICY)
			return store_fail(err, rc, "Password must be at least %u characters long",
			                  t->s->password_min);
		if (rc) return rc;
	}
	return STORE_OK;
}

store_rc
store_entity_id(json_t *e, store_id *out)
{
	const char *s = json_string_value(json_object_get(e, "uuid"));
	return s && store_id_parse((store_slice){ s, strlen(s) }, out) ? STORE_OK : STORE_CORRUPT;
}

static store_rc
entity_put(store_txn *t, const store_app *app, const store_id *id, json_t *e)
{
	keybuf k;
	key_entity(&k, app, id);
	return kv_put_json(t, DBI_ENTITIES, &k, e);
}

store_rc
store_entity_get(store_txn *t, const store_app *app, const store_id *id,
                 json_t **out)
{
	keybuf k;
	void *bytes;
	size_t n;
	store_rc rc;
	key_entity(&k, app, id);
	*out = NULL;
	if ((rc = kv_get(t, DBI_ENTITIES, &k, &bytes, &n))) return rc;
	return entity_parse(bytes, n, out);
}

store_rc
entity_held(store_txn *t, const store_app *app, const store_id *id)
{
	keybuf k;
	key_entity(&k, app, id);
	return kv_get(t, DBI_ENTITIES, &k, NULL, NULL);
}

store_rc
entity_parse(const void *bytes, size_t n, json_t **out)
{
	json_t *v = json_loadb(bytes, n, JSON_DECODE_ANY, NULL);
	*out = NULL;
	if (!json_is_object(v)) {
		json_decref(v);
		return STORE_CORRUPT;
	}
	*out = v;
	return STORE_OK;
}

/* Significant digits that print every real of v back to the same double,
** so no value loses precision: 15, unless one needs 16 or 17.  %g drops
** trailing zeros, and a double that some p <= 15 digits print back exactly
** rounds at 15 digits to those p digits and zeros (its error is under half
** a unit of the 15th), so 52.52 goes out as 52.52, as clients wrote it. */
static int
real_digits(const json_t *v, int have)
{
	const char *k;
	json_t *x;
	size_t i;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, k, x) have = real_digits(x, have);
		return have;
	case JSON_ARRAY:
		json_array_foreach(v, i, x) have = real_digits(x, have);
		return have;
	case JSON_REAL: {
		double d = json_real_value(v);
		char buf[40];
		for (int p = have; p < 17; p++) {
			snprintf(buf, sizeof buf, "%.*g", p, d);
			if (strtod(buf, NULL) == d) return p;
		}
		return 17;
	}
	default:
		return have;
	}
}

/* jansson's flags for writing v as every reply is written. */
static size_t
text_flags(const json_t *v)
{
	return JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(real_digits(v, 15));
}

char *
store_json_text(const json_t *v, size_t *n)
{
	char *text = json_dumps(v, text_flags(v));
	if (n) *n = text ? strlen(text) : 0;
	return text;
}

int
store_json_write(const json_t *v, json_dump_callback_t put, void *data)
{
	return json_dump_callback(v, put, data, text_flags(v));
}

/* e's text without its "metadata" member (store_entity_write). */
char *
entity_text(const json_t *e, size_t *n)
{
	if (!json_object_get(e, "metadata")) return store_json_text(e, n);
	json_t *bare = json_copy((json_t *)e);
	json_object_del(bare, "metadata");
	char *text = store_json_text(bare, n);
	json_decref(bare);
	return text;
}

void
entity_count(store_txn *t, const store_app *app, const char *coll, int64_t by)
{
	char name[STORE_COUNTER_NAME_MAX + 1];
	if (snprintf(name, sizeof name, "application.collection.%s", coll) < (int)sizeof name)
		counter_txn_tick(t, app, name, by);
	counter_txn_tick(t, app, "application.entities", by);
}

/* The new entity's id: the given uuid when no entity has it (and it is
** not nil nor the application's), else a new one. */
static store_rc
new_entity_id(store_txn *t, const store_app *app, const store_id *uuid, store_id *id,
              store_err *err)
{
	if (!uuid) {
		store_id_new(id);
		return STORE_OK;
	}
	*id = *uuid;
	if (store_id_is_nil(id) || memcmp(id->b, app->uuid.b, 16) == 0)
		return store_fail(err, STORE_INVALID, "that uuid cannot name an entity");
	json_t *have = NULL;
	store_rc rc = store_entity_get(t, app, id, &have);
	json_decref(have);
	if (rc == STORE_OK) return store_fail(err, STORE_EXISTS, "an entity with this uuid exists");
	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* An account is activated on create (no e-mail confirmation flow), and
** its picture is the Gravatar of its e-mail unless one is given. */
static void
account_defaults(json_t *e)
{
	json_t *email = json_get_ci(e, "email", NULL);
	const char *have = NULL;
	if (json_get_ci(e, "activated", &have)) json_object_del(e, have);
	json_object_set_new(e, "activated", json_true());
	if (json_get_ci(e, "picture", NULL) || !json_is_string(email)) return;
	char *lc = xstrdup(json_string_value(email)), hex[33], url[80];
	char *p = lc, *end;
	while (*p == ' ' || *p == '\t') p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t')) *--end = '\0';
	lc_copy(p, p, strlen(p));
	md5_hex(p, strlen(p), hex);
	snprintf(url, sizeof url, "https://www.gravatar.com/avatar/%s", hex);
	json_object_set_new(e, "picture", json_string(url));
	free(lc);
}

/* A new entity: the system properties, then the body's non-empty
** properties, then what the type sets on create. */
static json_t *
entity_new(const store_type_info *ti, const char *type, const store_id *id, json_t *props)
{
	char ids[37];
	const char *key;
	json_t *v;
	store_id_format(id, ids);
	json_int_t now = (json_int_t)store_now_ms();
	json_t *e = json_pack("{s:s, s:s, s:I, s:I}", "uuid", ids, "type", type,
	                      "created", now, "modified", now);
	if (!e) return NULL;
	json_object_foreach(props, key, v)
		if (!is_empty_value(v)) json_object_set(e, key, v);
	if (ti->account) account_defaults(e);
	if (ti->published) {
		const char *have = NULL;
		json_t *pub = json_get_ci(e, "published", &have);
		if (!json_is_integer(pub) || json_integer_value(pub) <= 0) {
			if (have) json_object_del(e, have);
			json_object_set_new(e, "published", json_integer(now));
		}
	}
	return e;
}

store_rc
store_entity_create(store_txn *t, const store_app *app, const char *type,
                    json_t *body, const store_id *uuid, json_t **out,
                    store_err *err)
{
	const store_type_info *ti = store_type_info_of(type);
	json_t *props = NULL, *e = NULL;
	char coll[STORE_NAME_MAX + 1];
	store_id id;
	store_rc rc;

	if (out) *out = NULL;
	if (strlen(type) > STORE_NAME_MAX)
		return store_fail(err, STORE_INVALID, "entity type name too long");
	if ((rc = clean_body(ti, body, &props, err))) return rc;
	if ((rc = new_entity_id(t, app, uuid, &id, err))) goto done;
	if (!(e = entity_new(ti, type, &id, props))) { rc = STORE_NOMEM; goto done; }
	if ((rc = settings_write(t, app, type, NULL, e, &id, err))) goto done;
	if ((rc = validate(ti, type, e, err))) goto done;
	if (ti->counted && (rc = store_counters_event(t, app, e, err)))
		goto done;
	if ((rc = unique_update(t, app, ti, type, NULL, e, &id, err))) goto done;
	if ((rc = entity_put(t, app, &id, e))) goto done;
	if (ti->credentials && (rc = set_secrets(t, app, &id, body, err)))
		goto done;
	store_collection_of(type, coll);
	uint64_t time = store_next_time(t->s);
	if ((rc = edge_put_at(t, app, &app->uuid, STORE_EDGE_COLLECTION, coll, &id, time, NULL)))
		goto done;
	if ((rc = index_update(t, app, &id, NULL, e, 0, time))) goto done;
	entity_count(t, app, coll, 1);
	if (out) {
		*out = e;
		e = NULL;
	}
done:
	json_decref(props);
	json_decref(e);
	return rc;
}

/* store_entity_load, the entity read by `get` (store_entity_get, or
** store_entity_read for a reader that will not change it). */
static store_rc
entity_load(store_txn *t, const store_app *app, const char *type, store_slice ident,
            store_id *out, json_t **entity,
            store_rc (*get)(store_txn *, const store_app *, const store_id *, json_t **))
{
	const store_type_info *ti = store_type_info_of(type);
	json_t *e = NULL;
	char *val;
	store_rc rc;

	if (entity) *entity = NULL;
	if (store_id_parse(ident, out)) {
		/* by uuid: the entity must be read anyway, to check its type */
		if ((rc = get(t, app, out, &e))) return rc;
		const char *etype = json_string_value(json_object_get(e, "type"));
		rc = etype && strcmp(etype, type) == 0 ? STORE_OK : STORE_NOTFOUND;
	} else {
		if (!ti->alias || ident.n == 0 || memchr(ident.p, '\0', ident.n))
			return STORE_NOTFOUND;
		val = xstrndup(ident.p, ident.n);
		rc = STORE_NOTFOUND;
		if (ti->email_alias && strchr(val, '@'))
			rc = unique_get(t, app, type, ti->email_alias, val, out);
		if (rc == STORE_NOTFOUND)
			rc = unique_get(t, app, type, ti->alias, val, out);
		free(val);
		if (rc == STORE_OK && entity) rc = get(t, app, out, &e);
	}
	if (rc == STORE_OK && entity) {
		*entity = e;
		e = NULL;
	}
	json_decref(e);
	return rc;
}

store_rc
store_entity_load(store_txn *t, const store_app *app, const char *type,
                  store_slice ident, store_id *out, json_t **entity)
{
	return entity_load(t, app, type, ident, out, entity, store_entity_get);
}

store_rc
store_entity_load_read(store_txn *t, const store_app *app, const char *type,
                       store_slice ident, store_id *out, json_t **entity)
{
	return entity_load(t, app, type, ident, out, entity, store_entity_read);
}

store_rc
store_entity_find(store_txn *t, const store_app *app, const char *type,
                  store_slice ident, store_id *out)
{
	return store_entity_load(t, app, type, ident, out, NULL);
}

store_rc
store_entity_update(store_txn *t, const store_app *app, const store_id *id,
                    json_t *body, json_t **out, store_err *err)
{
	json_t *old = NULL, *props = NULL, *e = NULL, *names = NULL, *v;
	const store_type_info *ti;
	const char *key, *type;
	store_rc rc;

	if (out) *out = NULL;
	if ((rc = store_entity_get(t, app, id, &old))) return rc;
	type = json_string_value(json_object_get(old, "type"));
	if (!type) { rc = STORE_CORRUPT; goto done; }
	ti = store_type_info_of(type);
	if ((rc = clean_body(ti, body, &props, err))) goto done;
	e = json_copy(old);
	names = ci_names_new(e);
	json_object_foreach(props, key, v) {
		const char *have;
		if (in_list(ti->immutable, 8, key)) continue;
		have = ci_name(names, key, 0);
		if (is_empty_value(v)) {
			if (have && !in_list(ti->required, 4, key)) json_object_del(e, have);
		} else {
			json_object_set(e, have ? have : key, v);
		}
	}
	json_object_set_new(e, "modified", json_integer((json_int_t)store_now_ms()));
	if ((rc = entity_replace(t, app, id, old, e, err))) goto done;
	if (out) {
		*out = e;
		e = NULL;
	}
done:
	json_decref(names);
	json_decref(old);
	json_decref(props);
	json_decref(e);
	return rc;
}

store_rc
entity_replace(store_txn *t, const store_app *app, const store_id *id, json_t *old,
               json_t *e, store_err *err)
{
	const char *type = json_string_value(json_object_get(old, "type"));
	const store_type_info *ti;
	uint64_t time;
	store_rc rc;

	if (!type) return STORE_CORRUPT;
	ti = store_type_info_of(type);
	if ((rc = settings_write(t, app, type, old, e, id, err))) return rc;
	if ((rc = validate(ti, type, e, err))) return rc;
	if ((rc = unique_update(t, app, ti, type, old, e, id, err))) return rc;
	if ((rc = entity_put(t, app, id, e))) return rc;
	if ((rc = entity_time(t, app, old, id, &time))) return rc;
	return index_update(t, app, id, old, e, time, time);
}

store_rc
entity_time(store_txn *t, const store_app *app, json_t *e, const store_id *id,
            uint64_t *time)
{
	char coll[STORE_NAME_MAX + 1];
	const char *type = json_string_value(json_object_get(e, "type"));
	if (!type) return STORE_CORRUPT;
	store_collection_of(type, coll);
	store_rc rc = edge_time_of(t, app, &app->uuid, STORE_EDGE_COLLECTION, coll, id, time);
	return rc == STORE_NOTFOUND ? STORE_CORRUPT : rc;
}

store_rc
store_entity_touch(store_txn *t, const store_app *app, const store_id *id)
{
	char coll[STORE_NAME_MAX + 1];
	json_t *e = NULL;
	uint64_t old, now = store_next_time(t->s);
	store_rc rc;

	if ((rc = store_entity_get(t, app, id, &e))) return rc;
	const char *type = json_string_value(json_object_get(e, "type"));
	if (!type) {
		json_decref(e);
		return STORE_CORRUPT;
	}
	store_collection_of(type, coll);
	if ((rc = entity_time(t, app, e, id, &old)) == STORE_OK &&
	    (rc = edge_put_at(t, app, &app->uuid, STORE_EDGE_COLLECTION, coll, id, now,
	                      NULL)) == STORE_OK)
		rc = index_update(t, app, id, e, e, old, now);
	json_decref(e);
	return rc;
}

store_rc
store_entity_put(store_txn *t, const store_app *app, const char *type,
                 store_slice ident, json_t *body, json_t **out, store_err *err)
{
	const store_type_info *ti = store_type_info_of(type);
	store_id id;
	store_rc rc = store_entity_find(t, app, type, ident, &id);

	if (rc == STORE_OK) return store_entity_update(t, app, &id, body, out, err);
	if (rc != STORE_NOTFOUND) return rc;
	if (!json_is_object(body))
		return store_fail(err, STORE_INVALID, "the entity must be a JSON object");
	if (store_id_parse(ident, &id))
		return store_entity_create(t, app, type, body, &id, out, err);
	if (!ti->alias) return STORE_NOTFOUND;
	json_t *named = json_copy(body);
	const char *have = NULL;
	json_get_ci(named, ti->alias, &have);
	if (have) json_object_del(named, have);
	json_object_set_new(named, ti->alias, json_stringn(ident.p, ident.n));
	rc = store_entity_create(t, app, type, named, NULL, out, err);
	json_decref(named);
	return rc;
}

store_rc
store_entity_delete(store_txn *t, const store_app *app, const store_id *id,
                    json_t **out, store_err *err)
{
	json_t *old = NULL;
	const char *type;
	keybuf k;
	store_rc rc;

	if (out) *out = NULL;
	if ((rc = store_entity_get(t, app, id, &old))) return rc;
	type = json_string_value(json_object_get(old, "type"));
	if (!type) { rc = STORE_CORRUPT; goto done; }
	if ((rc = settings_delete(t, app, type, old, id, err))) goto done;
	if ((rc = unique_update(t, app, store_type_info_of(type), type, old, NULL, id, err)))
		goto done;
	uint64_t time;
	if ((rc = entity_time(t, app, old, id, &time))) goto done;
	if ((rc = index_update(t, app, id, old, NULL, time, 0))) goto done;
	if ((rc = feed_forget(t, app, id, store_type_info_of(type)->members)) ||
	    (rc = edges_remove_all(t, app, id)))
		goto done;
	/* its dictionaries and credentials: keys that start (app, uuid) */
	key_entity(&k, app, id);
	if ((rc = kv_del_prefix(t, DBI_DICTS, &k)) || (rc = kv_del_prefix(t, DBI_SECRETS, &k)) ||
	    (rc = kv_del(t, DBI_ASSETS, &k)))
		goto done;
	if ((rc = kv_del(t, DBI_ENTITIES, &k))) goto done;
	char coll[STORE_NAME_MAX + 1];
	store_collection_of(type, coll);
	entity_count(t, app, coll, -1);
	if (out) {
		*out = old;
		old = NULL;
	}
done:
	json_decref(old);
	return rc;
}

store_rc
store_entity_import(store_txn *t, const store_app *app, json_t *e, uint64_t time,
                    int *changed, store_err *err)
{
	const char *type = json_string_value(json_object_get(e, "type"));
	json_t *old = NULL;
	uint64_t old_time = 0;
	char coll[STORE_NAME_MAX + 1];
	store_id id;
	store_rc rc;

	*changed = 0;
	if (!json_is_object(e) || store_entity_id(e, &id) != STORE_OK || !type || !*type ||
	    strlen(type) > STORE_NAME_MAX || time == 0)
		return store_fail(err, STORE_INVALID, "an entity needs a uuid, a type and a time");
	rc = store_entity_get(t, app, &id, &old);
	if (rc == STORE_OK) {
		const char *old_type = json_string_value(json_object_get(old, "type"));
		if (!old_type || strcmp(old_type, type) != 0) {
			rc = store_fail(err, STORE_CONFLICT, "entity %s exists here with another type",
			                json_string_value(json_object_get(e, "uuid")));
			goto done;
		}
		if ((rc = entity_time(t, app, old, &id, &old_time))) goto done;
		if (old_time == time && json_equal(old, e)) goto done;       /* as it is */
	} else if (rc != STORE_NOTFOUND) {
		goto done;
	}
	*changed = 1;
	store_collection_of(type, coll);
	if ((rc = unique_update(t, app, store_type_info_of(type), type, old, e, &id, err)) ||
	    (rc = settings_claims(t, app, type, old, e, &id, err)) ||
	    (rc = entity_put(t, app, &id, e)) ||
	    (rc = edge_put_at(t, app, &app->uuid, STORE_EDGE_COLLECTION, coll, &id, time, NULL)))
		goto done;
	rc = index_update(t, app, &id, old, e, old_time, time);
done:
	json_decref(old);
	return rc;
}
