/*
** schema.c: the built-in entity types (spec 3.2) and Usergrid's inflector
** (spec 1.7), which maps URL collection names to entity types and back.
**
** The inflector is a port of the Rails rules Usergrid uses: case-insensitive
** regular expressions, the most recently added rule tried first, the first
** rule that finds a match anywhere in the word wins, and the replacement is
** applied to every match.  Rules below are listed in evaluation order.
** POSIX ERE has no (?:...), so the one rule that used it is split in two.
*/
#include "core/store_int.h"
#include "core/text.h"

#include <ctype.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* ---- built-in types ------------------------------------------------------ */

static const store_type_info types[] = {
	{ .type = "user", .collection = "users", .alias = "username",
	  .unique = { "username", "email" }, .required = { "username" },
	  .collections = { "activities", "devices", "feed", "groups", "roles",
	                   "following", "followers" },
	  .coll_types = { "activity", "device", "activity", "group", "role",
	                  "user", "user" },
	  .coll_linked = { NULL, "users", NULL, "users", "users" },
	  .sets = { "rolenames", "permissions" }, .self = "me", .email_alias = "email",
	  .follow = "following", .followers = "followers", .credentials = 1, .account = 1,
	  .poster_is_actor = 1, .builtin = 1, .app_default = 1 },
	{ .type = "group", .collection = "groups", .alias = "path",
	  .unique = { "path" }, .required = { "path" },
	  .collections = { "activities", "feed", "roles", "users" },
	  .coll_types = { "activity", "activity", "role", "user" },
	  .coll_linked = { NULL, NULL, "groups", "groups" },
	  .sets = { "rolenames", "permissions" }, .members = "users", .path_alias = 1,
	  .builtin = 1, .app_default = 1 },
	{ .type = "role", .collection = "roles", .alias = "name",
	  .unique = { "name" }, .required = { "name" },
	  .collections = { "groups", "users" }, .coll_types = { "group", "user" },
	  .coll_linked = { "roles", "roles" }, .sets = { "permissions" }, .immutable = { "name" }, .builtin = 1, .app_default = 1 },
	{ .type = "activity", .collection = "activities",
	  .required = { "actor", "verb" },
	  .immutable = { "actor", "verb", "published", "content", "title",
	                 "category", "icon", "object" }, .published = 1, .builtin = 1,
	  .app_default = 1 },
	{ .type = "device", .collection = "devices", .alias = "name",
	  .unique = { "name" }, .collections = { "receipts", "users" },
	  .coll_types = { "receipt", "user" }, .coll_linked = { NULL, "devices" },
	  .builtin = 1, .app_default = 1 },
	{ .type = "asset", .collection = "assets", .alias = "path",
	  .unique = { "path" }, .holds_bytes = 1, .builtin = 1, .app_default = 1 },
	{ .type = "folder", .collection = "folders", .alias = "path",
	  .unique = { "path" }, .builtin = 1, .app_default = 1 },
	{ .type = "event", .collection = "events", .counted = 1, .builtin = 1,
	  .app_default = 1 },
	{ .type = "notifier", .collection = "notifiers", .alias = "name",
	  .unique = { "name" }, .builtin = 1 },
	{ .type = "notification", .collection = "notifications",
	  .collections = { "receipts" }, .coll_types = { "receipt" }, .builtin = 1, .app_default = 1 },
	{ .type = "receipt", .collection = "receipts", .builtin = 1 },
};

static const store_type_info generic = {
	.alias = "name", .unique = { "name" },
};

const store_type_info *
store_type_at(size_t i)
{
	return i < sizeof types / sizeof types[0] ? &types[i] : NULL;
}

const store_type_info *
store_type_info_of(const char *type)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(types[i].type, type) == 0) return &types[i];
	return &generic;
}

/* ---- the inflector ------------------------------------------------------- */

typedef struct {
	const char *re;
	const char *rep;
} rule;

static const rule plural_rules[] = {
	{ "(s)tadium$", "\\1tadiums" }, { "(m)ove$", "\\1oves" },
	{ "(s)ex$", "\\1exes" }, { "(c)hild$", "\\1hildren" },
	{ "(m)an$", "\\1en" }, { "(p)erson$", "\\1eople" },
	{ "(oxen|octopi|viri|aliases|quizzes)$", "\\1" },
	{ "(people|men|children|sexes|moves|stadiums)$", "\\1" },
	{ "(quiz)$", "\\1zes" }, { "^(ox)$", "\\1en" },
	{ "([m|l])ice$", "\\1ice" }, { "([m|l])ouse$", "\\1ice" },
	{ "(matr|vert|ind)ix|ex$", "\\1ices" }, { "(x|ch|ss|sh)$", "\\1es" },
	{ "([^aeiouy]|qu)y$", "\\1ies" }, { "(hive)$", "\\1s" },
	{ "([^f])fe$", "\\1ves" }, { "([lr])f$", "\\1ves" },
	{ "sis$", "ses" }, { "([ti])a$", "\\1a" }, { "([ti])um$", "\\1a" },
	{ "(buffal|tomat)o$", "\\1oes" }, { "(bu)s$", "\\1ses" },
	{ "(alias|status)$", "\\1es" }, { "(octop|vir)i$", "\\1i" },
	{ "(octop|vir)us$", "\\1i" }, { "(ax|test)is$", "\\1es" },
	{ "s$", "s" }, { "$", "s" },
};

static const rule singular_rules[] = {
	{ "(s)tadiums$", "\\1tadium" }, { "(m)oves$", "\\1ove" },
	{ "(s)exes$", "\\1ex" }, { "(c)hildren$", "\\1hild" },
	{ "(m)en$", "\\1an" }, { "(p)eople$", "\\1erson" },
	{ "(quiz)zes$", "\\1" }, { "(matr)ices$", "\\1ix" },
	{ "(vert|ind)ices$", "\\1ex" }, { "^(ox)en", "\\1" },
	{ "(alias|status)$", "\\1" }, { "(alias|status)es$", "\\1" },
	{ "(octop|vir)us$", "\\1us" }, { "(octop|vir)i$", "\\1us" },
	{ "(cris|ax|test)es$", "\\1is" }, { "(cris|ax|test)is$", "\\1is" },
	{ "(shoe)s$", "\\1" }, { "(o)es$", "\\1" }, { "(bus)es$", "\\1" },
	{ "([m|l])ice$", "\\1ouse" }, { "(x|ch|ss|sh)es$", "\\1" },
	{ "(m)ovies$", "\\1ovie" }, { "(s)eries$", "\\1eries" },
	{ "([^aeiouy]|qu)ies$", "\\1y" }, { "([lr])ves$", "\\1f" },
	{ "(tive)s$", "\\1" }, { "(hive)s$", "\\1" }, { "([^f])ves$", "\\1fe" },
	{ "(^analy)sis$", "\\1sis" }, { "(^analy)ses$", "\\1sis" },
	{ "((a)naly|(b)a|(d)iagno|(p)arenthe|(p)rogno|(s)ynop|(t)he)ses$", "\\1\\2sis" },
	{ "([ti])a$", "\\1um" }, { "(n)ews$", "\\1ews" },
	{ "(s|si|u)s$", "\\1s" }, { "s$", "" },
};

static const char *const uncountable[] = {
	"equipment", "information", "rice", "money", "species", "series",
	"fish", "sheep", "data", "analytics",
};

#define NRULES(a) (sizeof(a) / sizeof((a)[0]))

/* Compiled once, read-only afterwards. */
static regex_t plural_rx[NRULES(plural_rules)];
static regex_t singular_rx[NRULES(singular_rules)];
static pthread_once_t rules_once = PTHREAD_ONCE_INIT;

static void
compile_rules(void)
{
	for (size_t i = 0; i < NRULES(plural_rules); i++)
		if (regcomp(&plural_rx[i], plural_rules[i].re, REG_EXTENDED | REG_ICASE) != 0)
			abort();
	for (size_t i = 0; i < NRULES(singular_rules); i++)
		if (regcomp(&singular_rx[i], singular_rules[i].re, REG_EXTENDED | REG_ICASE) != 0)
			abort();
}

/* Appends the replacement for one match (\N = group N; the Java rules'
** $N of a group that did not take part is empty). */
static void
append_rep(char *out, size_t *o, const char *word, const char *rep,
           const regmatch_t *m)
{
	for (const char *r = rep; *r; r++) {
		if (r[0] == '\\' && r[1] >= '1' && r[1] <= '9') {
			int g = r[1] - '0';
			r++;
			if (m[g].rm_so < 0) continue;
			for (regoff_t i = m[g].rm_so; i < m[g].rm_eo; i++)
				if (*o < STORE_NAME_MAX) out[(*o)++] = word[i];
		} else if (*o < STORE_NAME_MAX) {
			out[(*o)++] = *r;
		}
	}
}

/* Applies the first matching rule, replacing every match. */
static void
inflect(const char *word, const rule *rules, const regex_t *rx, size_t nrules,
        char out[STORE_NAME_MAX + 1])
{
	pthread_once(&rules_once, compile_rules);
	snprintf(out, STORE_NAME_MAX + 1, "%s", word);
	for (size_t i = 0; i < NRULES(uncountable); i++)
		if (strcasecmp(word, uncountable[i]) == 0) return;
	for (size_t i = 0; i < nrules; i++) {
		regmatch_t m[10];
		if (regexec(&rx[i], word, 10, m, 0) != 0) continue;
		size_t o = 0, pos = 0, len = strlen(word);
		int flags = 0;
		while (pos <= len && regexec(&rx[i], word + pos, 10, m, flags) == 0) {
			for (int g = 0; g < 10; g++)
				if (m[g].rm_so >= 0) {
					m[g].rm_so += (regoff_t)pos;
					m[g].rm_eo += (regoff_t)pos;
				}
			for (regoff_t j = (regoff_t)pos; j < m[0].rm_so; j++)
				if (o < STORE_NAME_MAX) out[o++] = word[j];
			append_rep(out, &o, word, rules[i].rep, m);
			if (m[0].rm_eo == m[0].rm_so) {       /* empty match: step on */
				if ((size_t)m[0].rm_eo < len && o < STORE_NAME_MAX)
					out[o++] = word[m[0].rm_eo];
				pos = (size_t)m[0].rm_eo + 1;
			} else {
				pos = (size_t)m[0].rm_eo;
			}
			flags = REG_NOTBOL;
		}
		for (; pos < len; pos++)
			if (o < STORE_NAME_MAX) out[o++] = word[pos];
		out[o] = '\0';
		return;
	}
}

/* Every request inflects its collection name, and there are few names: a
** small per-thread cache (no locking) keeps the regular expressions off
** the hot path.  Direct-mapped by a hash of (direction, word). */
#define INFLECT_CACHE 64

typedef struct {
	char word[STORE_NAME_MAX + 1];
	char out[STORE_NAME_MAX + 1];
	int  plural;             /* -1: empty slot */
} inflection;

static _Thread_local inflection cache[INFLECT_CACHE];
static _Thread_local int cache_ready;

static void
inflect_cached(const char *word, int plural, char out[STORE_NAME_MAX + 1])
{
	unsigned h = plural ? 7u : 3u;
	for (const char *p = word; *p; p++) h = h * 31u + (unsigned char)*p;
	inflection *c = &cache[h % INFLECT_CACHE];
	if (!cache_ready) {
		for (int i = 0; i < INFLECT_CACHE; i++) cache[i].plural = -1;
		cache_ready = 1;
	}
	if (c->plural == plural && strcmp(c->word, word) == 0) {
		snprintf(out, STORE_NAME_MAX + 1, "%s", c->out);
		return;
	}
	if (plural) inflect(word, plural_rules, plural_rx, NRULES(plural_rules), out);
	else inflect(word, singular_rules, singular_rx, NRULES(singular_rules), out);
	if (strlen(word) <= STORE_NAME_MAX) {
		snprintf(c->word, sizeof c->word, "%s", word);
		snprintf(c->out, sizeof c->out, "%s", out);
		c->plural = plural;
	}
}

void
store_pluralize(const char *word, char out[STORE_NAME_MAX + 1])
{
	inflect_cached(word, 1, out);
}

void
store_singularize(const char *word, char out[STORE_NAME_MAX + 1])
{
	inflect_cached(word, 0, out);
}

/* A collection name: a letter, then letters, digits, '_', '-' or '.'. */
static int
valid_name(store_slice s)
{
	if (s.n == 0 || s.n > STORE_NAME_MAX) return 0;
	if (!isalpha((unsigned char)s.p[0])) return 0;
	for (size_t i = 1; i < s.n; i++)
		if (!text_name_byte((unsigned char)s.p[i])) return 0;
	return 1;
}

store_rc
store_type_from_collection(store_slice coll, char out[STORE_NAME_MAX + 1])
{
	char lc[STORE_NAME_MAX + 1];
	if (!valid_name(coll)) return STORE_INVALID;
	lc_copy(lc, coll.p, coll.n);
	lc[coll.n] = '\0';
	for (size_t i = 0; i < NRULES(types); i++)
		if (strcmp(lc, types[i].collection) == 0 || strcmp(lc, types[i].type) == 0) {
			snprintf(out, STORE_NAME_MAX + 1, "%s", types[i].type);
			return STORE_OK;
		}
	store_singularize(lc, out);
	if (out[0] == '\0' || strcmp(out, "dynamicentity") == 0) return STORE_INVALID;
	return STORE_OK;
}

void
store_collection_of(const char *type, char out[STORE_NAME_MAX + 1])
{
	const store_type_info *ti = store_type_info_of(type);
	if (ti->collection) {
		snprintf(out, STORE_NAME_MAX + 1, "%s", ti->collection);
		return;
	}
	store_pluralize(type, out);
}
