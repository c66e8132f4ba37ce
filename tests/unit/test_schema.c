/*
** test_schema.c: the inflector (spec 1.7) and the collection/type mapping.
*/
#include "tests/unit/check.h"

static void
plural(const char *word, const char *want)
{
	char out[STORE_NAME_MAX + 1];
	store_pluralize(word, out);
	CHECK_STR(out, want);
}

static void
singular(const char *word, const char *want)
{
	char out[STORE_NAME_MAX + 1];
	store_singularize(word, out);
	CHECK_STR(out, want);
}

static void
type_of(const char *coll, const char *want)
{
	char out[STORE_NAME_MAX + 1];
	CHECK_RC(store_type_from_collection(S(coll), out), STORE_OK);
	CHECK_STR(out, want);
}

int
main(void)
{
	static const char *const pairs[][2] = {
		{ "user", "users" }, { "group", "groups" }, { "role", "roles" },
		{ "activity", "activities" }, { "device", "devices" },
		{ "asset", "assets" }, { "folder", "folders" }, { "event", "events" },
		{ "notification", "notifications" }, { "notifier", "notifiers" },
		{ "receipt", "receipts" }, { "person", "people" },
		{ "status", "statuses" }, { "item", "items" }, { "box", "boxes" },
		{ "category", "categories" }, { "pizza", "pizzas" },
		{ "child", "children" }, { "restaurant", "restaurants" },
		{ "quiz", "quizzes" }, { "knife", "knives" }, { "wolf", "wolves" },
	};
	for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
		plural(pairs[i][0], pairs[i][1]);
		singular(pairs[i][1], pairs[i][0]);
	}
	/* Uncountables and the quirks spec 1.7 names. */
	plural("data", "data");
	singular("data", "data");
	plural("sheep", "sheep");
	singular("media", "medium");
	plural("index", "indices");
	plural("complex", "complices");
	plural("users", "users");             /* already plural: unchanged */
	plural("matrix", "matrices");
	singular("matrices", "matrix");
	singular("indices", "index");
	singular("analyses", "analysis");
	singular("bases", "basis");
	singular("moves", "move");
	plural("Person", "People");           /* case kept from the word */

	/* URL collection names: singular or plural, any case. */
	type_of("users", "user");
	type_of("user", "user");
	type_of("Groups", "group");
	type_of("activities", "activity");
	type_of("items", "item");
	type_of("item", "item");
	type_of("people", "person");
	type_of("data", "data");
	char out[STORE_NAME_MAX + 1];
	CHECK_RC(store_type_from_collection(S(""), out), STORE_INVALID);
	CHECK_RC(store_type_from_collection(S("9lives"), out), STORE_INVALID);
	CHECK_RC(store_type_from_collection(S("a b"), out), STORE_INVALID);
	CHECK_RC(store_type_from_collection(S("dynamicentities"), out), STORE_INVALID);
	store_collection_of("group", out);
	CHECK_STR(out, "groups");
	store_collection_of("restaurant", out);
	CHECK_STR(out, "restaurants");

	/* Built-in type descriptions. */
	CHECK_STR(store_type_info_of("group")->alias, "path");
	CHECK_STR(store_type_info_of("user")->unique[1], "email");
	CHECK_STR(store_type_info_of("thing")->alias, "name");
	CHECK(store_type_info_of("thing")->builtin == 0);
	printf("test_schema: %d checks\n", check_count);
	return 0;
}
