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
** A worker does not wait for the batch: it suspends the connection, queues
** the request and goes on serving its other connections; the writer
** resumes the connection when the batch is done, and MHD calls the access
** handler again to send the reply.  So every connection's write can join
** the next batch, however the connections are spread over the workers.
*/
#include "http/http_int.h"

#include <pthread.h>
#include <stdlib.h>

#define WRITER_BATCH 256        /* requests committed together at most */

struct http_writer {
	store          *s;
	pthread_t       thread;
	pthread_mutex_t mu;
	pthread_cond_t  work, idle;
	http_req       *head, *tail;
	unsigned        inflight;     /* queued or running, not yet resumed */
	int             closing;      /* refuse new writes (shutdown) */
	int             stop;
};

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

static void *
writer_main(void *arg)
{
	http_writer *w = arg;
	for (;;) {
		http_req *batch, *r;
		size_t n = 0;

		pthread_mutex_lock(&w->mu);
		while (!w->head && !w->stop) pthread_cond_wait(&w->work, &w->mu);
		if (!w->head) {
			pthread_mutex_unlock(&w->mu);
			return NULL;
		}
		batch = w->head;
		for (r = batch; r->next && ++n < WRITER_BATCH; r = r->next)
			;
		w->head = r->next;
		if (!w->head) w->tail = NULL;
		r->next = NULL;
		pthread_mutex_unlock(&w->mu);

		store_txn *t = NULL;
		store_rc rc = store_txn_begin(w->s, STORE_TXN_WRITE, &t);
		for (r = batch; r; r = r->next) {
			if (rc) http_store_error(r, rc, NULL, NULL);
			else run_one(t, r);
		}
		if (rc == STORE_OK && (rc = store_txn_commit(t)) != STORE_OK)
			for (r = batch; r; r = r->next)
				if (r->status == 200) http_store_error(r, rc, NULL, NULL);

		unsigned resumed = 0;
		for (r = batch; r; resumed++) {
			http_req *next = r->next;     /* r may be freed once resumed */
			struct MHD_Connection *conn = r->conn;
			__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
			MHD_resume_connection(conn);
			r = next;
		}
		pthread_mutex_lock(&w->mu);
		w->inflight -= resumed;
		if (w->inflight == 0) pthread_cond_broadcast(&w->idle);
		pthread_mutex_unlock(&w->mu);
	}
}

http_writer *
http_writer_start(store *s)
{
	http_writer *w = xcalloc(1, sizeof *w);
	w->s = s;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->idle, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->work);
		pthread_cond_destroy(&w->idle);
		free(w);
		return NULL;
	}
	return w;
}

int
http_writer_submit(http_writer *w, http_req *r)
{
	r->next = NULL;
	r->done = 0;
	pthread_mutex_lock(&w->mu);
	if (w->closing) {
		pthread_mutex_unlock(&w->mu);
		return 0;
	}
	/* suspended before the writer can see it, so its resume comes after */
	MHD_suspend_connection(r->conn);
	if (w->tail) w->tail->next = r;
	else w->head = r;
	w->tail = r;
	w->inflight++;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	return 1;
}

void
http_writer_close(http_writer *w)
{
	if (!w) return;
	pthread_mutex_lock(&w->mu);
	w->closing = 1;
	while (w->inflight) pthread_cond_wait(&w->idle, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

void
http_writer_stop(http_writer *w)
{
	if (!w) return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->idle);
	free(w);
}
