/*
** writer.c: group commit.
**
** LMDB admits one write transaction at a time and a durable commit costs a
** disk sync, so writes from many connections would queue for the lock and
** pay one sync each.  Instead every write request is handed to one writer
** thread.  The writer takes everything queued, opens one transaction for
** the batch, runs each request in a nested transaction of it (a request
** that fails aborts only its own changes), commits the batch with one
** sync, and only then releases the requests' threads to send their
** replies: an acknowledged write is always durable.  If the batch commit
** fails, every request of the batch that had succeeded answers the error.
** With one writer waiting, a batch is that one request: no added delay.
**
** A worker does not wait for the batch: the writer is a queue (queue.c)
** with one thread, so the worker suspends the connection and goes on
** serving its other connections, and the connection is resumed when the
** batch is done.  So every connection's write can join the next batch,
** however the connections are spread over the workers.
*/
#include "http/http_int.h"

#define WRITER_BATCH 256        /* requests committed together at most */

/* Runs one request in a child of the batch transaction. */
static void
run_one(store_txn *batch, http_req *r)
{
	store_txn *child = NULL;
	store_rc rc = store_txn_begin_child(batch, &child);
	if (rc) {
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	r->txn = child;
	http_route(r);
	if (r->status == 200) {
		rc = store_txn_commit(r->txn);
		r->txn = NULL;
		if (rc) http_store_error(r, rc, NULL, NULL);
	} else {
		store_txn_abort(r->txn);
		r->txn = NULL;
	}
}

static uint64_t
since_us(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)((now.tv_sec - t0->tv_sec) * 1000000 + (now.tv_nsec - t0->tv_nsec) / 1000);
}

/* One batch: one transaction, a child per request, one synced commit
** (which also writes the request counts tallied since the last one).  An
** idle writer (batch NULL) commits the tallies alone. */
static void
run_batch(http_req *batch, void *ctx)
{
	http_server *srv = ctx;
	store_txn *t = NULL;
	http_req *r;
	size_t n = 0;
	struct timespec t0;
	if (!batch && !store_counter_pending(srv->s)) return;
	store_rc rc = store_txn_begin(srv->s, STORE_TXN_WRITE, &t);
	for (r = batch; r; r = r->next, n++) {
		if (rc) http_store_error(r, rc, NULL, NULL);
		else run_one(t, r);
	}
	if (rc) return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = store_txn_commit(t);
	if (!batch) return;
	http_metrics_batch(srv->metrics, n, since_us(&t0), rc != STORE_OK);
	if (rc != STORE_OK)
		for (r = batch; r; r = r->next)
			if (r->status == 200) http_store_error(r, rc, NULL, NULL);
}

http_queue *
http_writer_start(http_server *srv)
{
	return http_queue_start(1, WRITER_BATCH, 0, 0, HTTP_COUNT_FLUSH_MS, run_batch, srv);
}
