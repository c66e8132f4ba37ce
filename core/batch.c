/*
** batch.c: group commit.  LMDB admits one write transaction at a time and
** a durable commit costs a disk sync; a batch runs many units of work in
** one transaction (a unit that fails is rolled back alone, see run_flat
** and run_nested), and makes every kept unit durable with one commit.
** Only after that commit does any unit learn its outcome, so a caller that
** answers from `done` never acknowledges a write before it is durable.
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

/* The first pass: every unit straight in the batch's transaction.  A
** nested transaction is not free in LMDB (a child copies each page its
** parent has dirtied before it changes it, and its commit merges the
** copies back), and most units succeed.  A unit that fails without having
** written (nor counted) anything leaves nothing to roll back; one that
** fails after a write ends the pass: returns 0, and the transaction must
** be thrown away. */
static int
run_flat(store_txn *t, size_t n, const store_unit *u, store_rc *rcs, unsigned char *ran,
         size_t *kept)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t writes = t->writes;
		size_t ticks = t->nticks;
		t->actor = (store_actor){ 0 };     /* as a child of the batch has */
		ran[i] = 1;
		if ((rcs[i] = u->run(u->ctx, i, t)) == STORE_OK) (*kept)++;
		else if (t->writes != writes || t->nticks != ticks) return 0;
	}
	return 1;
}

/* The second pass, after a failed first one (or for units that cannot be
** run again): each unit in a nested transaction of its own. */
static void
run_nested(store_txn *t, size_t n, const store_unit *u, store_rc *rcs, unsigned char *ran,
           size_t *kept)
{
	for (size_t i = 0; i < n; i++) {
		store_txn *child = NULL;
		if (ran[i] && u->reset) u->reset(u->ctx, i);
		ran[i] = 0;
		if ((rcs[i] = store_txn_begin_child(t, &child)) != STORE_OK) continue;
		ran[i] = 1;
		rcs[i] = u->run(u->ctx, i, child);
		if (rcs[i] == STORE_OK) rcs[i] = store_txn_commit(child);
		else store_txn_abort(child);
		if (rcs[i] == STORE_OK) (*kept)++;
	}
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
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (rc == STORE_OK && !(u->reset && run_flat(t, n, u, rcs, ran, &stats->kept))) {
		if (u->reset) {                   /* a unit failed after it wrote */
			store_txn_abort(t);
			rc = store_txn_begin(s, STORE_TXN_WRITE, &t);
			stats->kept = 0;
			stats->nested = 1;
		}
		if (rc == STORE_OK) run_nested(t, n, u, rcs, ran, &stats->kept);
	}
	stats->run_us = since_us(&t0);
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
