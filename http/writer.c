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
** The batch itself is core's group commit (core/batch.c); this file makes
** requests its units.
**
** A worker does not wait for the batch: the writer is a queue (queue.c)
** with one thread, so the worker suspends the connection and goes on
** serving its other connections, and the connection is resumed when the
** batch is done.  So every connection's write can join the next batch,
** however the connections are spread over the workers.
*/
#include "http/http_int.h"

#define WRITER_BATCH 256        /* requests committed together at most */

/* A request is a unit of the batch (core/batch.c): it runs routed in its
** nested transaction, and is kept when it answered 200. */
static store_rc
run_req(void *ctx, size_t i, store_txn *t)
{
	http_req *r = ((http_req **)ctx)[i];
	r->txn = t;
	http_route(r);
	r->txn = NULL;
	return r->status == 200 ? STORE_OK : STORE_INVALID;   /* its reply says why */
}

/* A kept request whose batch did not commit, or one that never ran,
** answers the store's failure; the others keep their replies. */
static void
req_done(void *ctx, size_t i, store_rc rc, int ran)
{
	http_req *r = ((http_req **)ctx)[i];
	if (rc != STORE_OK && (!ran || r->status == 200)) http_store_error(r, rc, NULL, NULL);
}

/* A request runs again (the batch's second pass): forget the first run. */
static void
req_reset(void *ctx, size_t i)
{
	http_req_reset(((http_req **)ctx)[i]);
}

/* One batch of requests, or, idle (batch NULL), the request counts
** tallied since the last commit alone. */
static void
run_batch(http_req *batch, void *ctx)
{
	http_server *srv = ctx;
	http_req *reqs[WRITER_BATCH];
	size_t n = 0;
	store_batch_stats st;
	if (!batch && !store_counter_pending(srv->s)) return;
	/* the queue hands over WRITER_BATCH requests at most */
	for (http_req *r = batch; r && n < WRITER_BATCH; r = r->next) reqs[n++] = r;
	store_unit u = { run_req, req_done, req_reset, reqs };
	store_rc rc = store_group_commit(srv->s, n, &u, &st);
	if (batch) http_metrics_batch(srv->metrics, &st, rc != STORE_OK);
}

http_queue *
http_writer_start(http_server *srv)
{
	return http_queue_start(1, WRITER_BATCH, 0, 0, HTTP_COUNT_FLUSH_MS, run_batch, srv);
}
