/*
** load_q.c: loads the query benchmark's data set straight through core's
** API (the same entity, unique, edge and index writes a POST makes), in
** transactions of BATCH entities, so a million entities load in minutes.
**
**   load_q DATA_DIR ORG/APP COLLECTION N
**
** Entity i (in the spirit of spec 6.9's Q(N)):
**   {"actor": {"displayName": "Test User i", "username": "useri"},
**    "sometestprop": "testprop", "ordinal": i, "madeup": i >= N/2,
**    "verb": "go"|"stop", "bucket": i % (N/10), "title": "item w<i % (N/10)>"}
** so `bucket = b` and `title contains 'w<b>'` each match 10 entities.
*/
#include "core/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 5000

static void
die(const char *what, store_rc rc, const store_err *err)
{
	fprintf(stderr, "load_q: %s: %s %s\n", what, store_strerror(rc), err ? err->msg : "");
	exit(1);
}

int
main(int argc, char **argv)
{
	store_options opt = { .no_sync = 1 };
	store_err err = { 0 };
	store *s;
	store_txn *t;
	store_org org;
	store_app app;
	store_rc rc;

	if (argc != 5 || !strchr(argv[2], '/')) {
		fprintf(stderr, "usage: load_q DATA_DIR ORG/APP COLLECTION N\n");
		return 2;
	}
	long n = atol(argv[4]), groups = n / 10 > 0 ? n / 10 : 1;
	const char *slash = strchr(argv[2], '/');
	store_slice o = { argv[2], (size_t)(slash - argv[2]) }, a = { slash + 1, strlen(slash + 1) };
	char type[STORE_NAME_MAX + 1];

	if ((rc = store_type_from_collection((store_slice){ argv[3], strlen(argv[3]) }, type)))
		die("collection", rc, NULL);
	if ((rc = store_open(argv[1], &opt, &s, &err))) die("open", rc, &err);
	if ((rc = store_txn_begin(s, STORE_TXN_WRITE, &t))) die("begin", rc, NULL);
	rc = store_org_get(t, o, &org);
	if (rc == STORE_NOTFOUND) rc = store_org_create(t, o, &org, &err);
	if (rc) die("org", rc, &err);
	rc = store_app_get(t, &org, a, &app);
	if (rc == STORE_NOTFOUND) {
		rc = store_app_create(t, &org, a, &app, &err);
		/* open, like a --bootstrap app: the bench reads without a token */
		if (rc == STORE_OK) rc = store_app_open(t, &app);
	}
	if (rc) die("app", rc, &err);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		char name[32], user[32], title[32];
		snprintf(name, sizeof name, "Test User %ld", i);
		snprintf(user, sizeof user, "user%ld", i);
		snprintf(title, sizeof title, "item w%ld", i % groups);
		json_t *body = json_pack("{s:{s:s, s:s}, s:s, s:I, s:b, s:s, s:I, s:s}",
		                         "actor", "displayName", name, "username", user,
		                         "sometestprop", "testprop", "ordinal", (json_int_t)i,
		                         "madeup", i >= n / 2, "verb", i % 2 ? "stop" : "go",
		                         "bucket", (json_int_t)(i % groups), "title", title);
		rc = store_entity_create(t, &app, type, body, NULL, NULL, &err);
		json_decref(body);
		if (rc) die("create", rc, &err);
		if ((i + 1) % BATCH == 0) {
			if ((rc = store_txn_commit(t))) die("commit", rc, NULL);
			if ((rc = store_txn_begin(s, STORE_TXN_WRITE, &t))) die("begin", rc, NULL);
		}
	}
	if ((rc = store_txn_commit(t))) die("commit", rc, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("loaded %ld entities in %.1f s (%.0f/s)\n", n, secs, (double)n / secs);
	store_close(s);
	return 0;
}
