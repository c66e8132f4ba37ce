/*
** batch.c: group commit.  LMDB admits one write transaction at a time and
** a durable commit costs a disk sync; a batch runs many units of work in
** one transaction, each in a nested transaction of its own (a unit that
** fails is rolled back alone), and makes every kept unit durable with one
** commit.  Only after that commit does any unit learn its outcome, so a
** caller that answers from `done` never acknowledges a write before it is
** durable.
*/
#include "core/store_int.h"
#include "core/mem.h"

#include <stdlib.h>
#include <time.h>

static uint64_t
since_us(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)((now.tv_sec - t0->tv_sec) * 1000000 + (now.tv_nsec - t0->tv_nsec) / 1000);
}

store_rc
store_group_commit(store *s, size_t n, const store_unit *u, store_batch_stats *stats)
{
	store_txn *t = NULL;
	struct timespec t0;
	unsigned char *ran = xcalloc(n ? n : 1, 1);
	store_rc *rcs = xcalloc(n ? n : 1, sizeof *rcs);
	store_rc rc = store_txn_begin(s, STORE_TXN_WRITE, &t);

	*stats = (store_batch_stats){ .units = n };
	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		store_txn *child = NULL;
		if ((rcs[i] = store_txn_begin_child(t, &child)) != STORE_OK) continue;
		ran[i] = 1;
		rcs[i] = u->run(u->ctx, i, child);
		if (rcs[i] == STORE_OK) rcs[i] = store_txn_commit(child);
		else store_txn_abort(child);
		if (rcs[i] == STORE_OK) stats->kept++;
	}
	if (rc == STORE_OK) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = store_txn_commit(t);
		stats->commit_us = since_us(&t0);
	}
	for (size_t i = 0; i < n; i++)
		u->done(u->ctx, i, rc != STORE_OK ? rc : rcs[i], ran[i]);
	free(ran);
	free(rcs);
	return rc;
}
