/*
** writer.c: group commit.
**
** LMDB admits one write transaction at a time and a durable commit costs a
** disk sync, so writes from many connections would queue for the lock and
** pay one sync each.  Instead every write request is handed to one writer
** thread.  The writer takes everything queued, opens one transaction for
** the batch, runs each request in it (a request that fails leaves
** nothing: core runs the batch again with each request nested when one
** fails after it wrote), commits the batch with one sync, and only then
** releases the requests' threads to send their replies: an acknowledged
** write is always durable.  If the batch commit fails, every request of
** the batch that had succeeded answers the error.  With one client
** writing, a batch is its one request: no added delay (see
** plan_gathering for several).
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

#include <string.h>

/* A request is a unit of the batch (core/batch.c): it runs routed in the
** transaction core gives it, and is kept when it answered 200. */
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

/* Group commit's gathering.  With few connections, a batch and the next
** alternate (the requests that came in during a commit make the next
** batch while the first batch's clients still wait for their replies),
** and each pays a commit.  So when a batch's commit took longer than its
** requests' work, the next batch waits (half that difference at most)
** for as many requests as there were connections in the last two
** batches: the clients just answered come back into it.  A single client
** never waits (its one connection is all there is), and a writer busy
** with its requests' work takes what is there at once. */
static void
plan_gathering(http_server *srv, http_req *batch, uint64_t run_us, uint64_t commit_us)
{
	const void *now[HTTP_WRITER_BATCH];
	size_t n = 0, conns;
	for (http_req *r = batch; r && n < HTTP_WRITER_BATCH; r = r->next) now[n++] = r->conn;
	conns = n;
	for (size_t i = 0; i < srv->nlast_conns; i++) {
		size_t j = 0;
		while (j < n && now[j] != srv->last_conns[i]) j++;
		if (j == n) conns++;
	}
	memcpy(srv->last_conns, now, n * sizeof *now);
	srv->nlast_conns = n;
	uint64_t us = commit_us > run_us ? (commit_us - run_us) / 2 : 0;
	if (us > HTTP_GATHER_MAX_US) us = HTTP_GATHER_MAX_US;
	http_queue_gather(srv->writer, conns > HTTP_WRITER_BATCH ? HTTP_WRITER_BATCH : (unsigned)conns,
	                  (unsigned)us);
}

/* One batch of requests, or, idle (batch NULL), the request counts
** tallied since the last commit alone. */
static void
run_batch(http_req *batch, void *ctx)
{
	http_server *srv = ctx;
	http_req *reqs[HTTP_WRITER_BATCH];
	size_t n = 0;
	store_batch_stats st;
	if (!batch && !store_counter_pending(srv->s)) return;
	/* the queue hands over HTTP_WRITER_BATCH requests at most */
	for (http_req *r = batch; r && n < HTTP_WRITER_BATCH; r = r->next) reqs[n++] = r;
	store_unit u = { run_req, req_done, req_reset, reqs };
	store_rc rc = store_group_commit(srv->s, n, &u, &st);
	if (!batch) return;
	plan_gathering(srv, batch, st.run_us, st.commit_us);
	http_metrics_batch(srv->metrics, &st, rc != STORE_OK);
}

http_queue *
http_writer_start(http_server *srv)
{
	return http_queue_start(1, HTTP_WRITER_BATCH, 0, 0, HTTP_COUNT_FLUSH_MS, run_batch, srv);
}
