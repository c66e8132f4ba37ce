/*
** check.h: the tiny assertion kit of the C unit tests.  CHECK fails the
** test with file:line and the expression; CHECK_RC also names the store
** result.  Each test program is one main() over fresh temp directories.
*/
#ifndef UG_CHECK_H
#define UG_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store.h"

static int check_count;

#define CHECK(expr) do { \
	check_count++; \
	if (!(expr)) { \
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #expr); \
		exit(1); \
	} \
} while (0)

#define CHECK_RC(call, want) do { \
	store_rc rc_ = (call); \
	check_count++; \
	if (rc_ != (want)) { \
		fprintf(stderr, "%s:%d: %s returned %s, want %s\n", __FILE__, __LINE__, \
		        #call, store_strerror(rc_), store_strerror(want)); \
		exit(1); \
	} \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	check_count++; \
	if (!g_ || strcmp(g_, w_) != 0) { \
		fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
		        #got, g_ ? g_ : "(null)", w_); \
		exit(1); \
	} \
} while (0)

/* A fresh directory under $TMPDIR, removed by tmpdir_remove. */
static inline char *
tmpdir_new(void)
{
	const char *base = getenv("TMPDIR");
	char *p = malloc(512);
	snprintf(p, 512, "%s/ugstore-unit-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(p)) {
		perror("mkdtemp");
		exit(1);
	}
	return p;
}

static inline void
tmpdir_remove(char *p)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
	if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", p);
	free(p);
}

static inline store_slice
S(const char *s)
{
	return (store_slice){ s, strlen(s) };
}

/* A fresh environment in a new temp directory with org1/app1 created and a
** write transaction open on it, into the test's own handles; fixture_close
** commits, closes and removes the directory. */
static inline char *
fixture_open(store **db, store_txn **t, store_app *app)
{
	store_err err = { 0 };
	store_org org;
	char *dir = tmpdir_new();
	CHECK_RC(store_open(dir, NULL, db, &err), STORE_OK);
	CHECK_RC(store_txn_begin(*db, STORE_TXN_WRITE, t), STORE_OK);
	CHECK_RC(store_org_create(*t, S("org1"), &org, &err), STORE_OK);
	CHECK_RC(store_app_create(*t, &org, S("app1"), app, &err), STORE_OK);
	return dir;
}

static inline void
fixture_close(char *dir, store *db, store_txn *t)
{
	CHECK_RC(store_txn_commit(t), STORE_OK);
	store_close(db);
	tmpdir_remove(dir);
}

#endif
