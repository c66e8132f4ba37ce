/*
** queue.c: requests handed off their worker thread.
**
** A worker serves many connections on one epoll loop, so work that may
** take long (a write waiting for its batch's sync, a query that outgrew
** the worker) must not run there.  The worker suspends the connection,
** queues the request and goes on serving the others; one of the queue's
** threads takes up to `batch` queued requests, runs them, sets each one's
** `done` and resumes its connection, and MHD calls the access handler
** again, which sends the reply.  The writer (writer.c, one thread, batches
** for group commit) and the slow readers (router.c, a few threads, one
** request at a time) are two queues.  A thread that writes outside the
** writer (an import, h_import.c) lets the writer's queued requests go
** before each of its transactions (http_queue_yield).
*/
#include "http/http_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct http_queue {
	http_queue_fn   run;
	void           *ctx;
	unsigned        batch;        /* requests taken at once at most */
	unsigned        cap;          /* queued or running at most (0: no cap) */
	int             nice;         /* the threads' nice value */
	unsigned        idle_ms;      /* run(NULL) after this long idle (0: never) */
	pthread_t       threads[HTTP_MAX_QUEUE_THREADS];
	unsigned        nthreads;
	pthread_mutex_t mu;
	pthread_cond_t  work, idle, ran;
	http_req       *head, *tail;
	unsigned        inflight;     /* queued or running, not yet resumed */
	uint64_t        queued, resumed;   /* requests ever queued, and resumed */
	unsigned        waiting;      /* queued, not yet taken */
	unsigned        gather_want;  /* take a batch once this many wait... */
	unsigned        gather_us;    /* ...or this long after the first */
	int             closing;      /* refuse new requests (shutdown) */
	int             stop;
};

struct timespec
http_deadline_in(uint64_t us)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += (time_t)(us / 1000000);
	t.tv_nsec += (long)(us % 1000000) * 1000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

/* Waits, with q->mu held, for a request or the stop; with idle_ms, runs
** run(NULL) each time it has waited that long. */
static void
wait_for_work(http_queue *q)
{
	while (!q->head && !q->stop) {
		if (!q->idle_ms) {
			pthread_cond_wait(&q->work, &q->mu);
			continue;
		}
		struct timespec until = http_deadline_in((uint64_t)q->idle_ms * 1000);
		if (pthread_cond_timedwait(&q->work, &q->mu, &until) == ETIMEDOUT &&
		    !q->head && !q->stop) {
			pthread_mutex_unlock(&q->mu);
			q->run(NULL, q->ctx);          /* idle: nothing to resume */
			pthread_mutex_lock(&q->mu);
		}
	}
}

/* Waits, with q->mu held and a request waiting, until gather_want
** requests wait or gather_us have passed (see http_queue_gather). */
static void
gather(http_queue *q)
{
	if (!q->gather_us) return;
	struct timespec until = http_deadline_in(q->gather_us);
	while (q->waiting < q->gather_want && q->waiting < q->batch && !q->stop && !q->closing)
		if (pthread_cond_timedwait(&q->work, &q->mu, &until) == ETIMEDOUT) break;
}

/* Takes up to q->batch waiting requests, linked by next (q->mu held). */
static http_req *
take_batch(http_queue *q)
{
	http_req *batch = q->head, *r;
	unsigned n = 1;
	for (r = batch; r->next && n < q->batch; r = r->next) n++;
	q->waiting -= n;
	q->head = r->next;
	if (!q->head) q->tail = NULL;
	r->next = NULL;
	return batch;
}

/* A batch has run: each request is done and its connection resumed. */
static void
finish(http_queue *q, http_req *batch)
{
	unsigned resumed = 0;
	for (http_req *r = batch; r; resumed++) {
		http_req *next = r->next;     /* r may be freed once resumed */
		struct MHD_Connection *conn = r->conn;
		__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
		MHD_resume_connection(conn);
		r = next;
	}
	pthread_mutex_lock(&q->mu);
	q->inflight -= resumed;
	q->resumed += resumed;
	pthread_cond_broadcast(&q->ran);
	if (q->inflight == 0) pthread_cond_broadcast(&q->idle);
	pthread_mutex_unlock(&q->mu);
}

static void *
queue_main(void *arg)
{
	http_queue *q = arg;
	/* lowers this thread only: Linux keeps a nice value per thread */
	if (q->nice) (void)setpriority(PRIO_PROCESS, (id_t)gettid(), q->nice);
	for (;;) {
		pthread_mutex_lock(&q->mu);
		wait_for_work(q);
		if (!q->head) {
			pthread_mutex_unlock(&q->mu);
			if (q->idle_ms) q->run(NULL, q->ctx);   /* a last one */
			return NULL;
		}
		gather(q);
		http_req *batch = take_batch(q);
		pthread_mutex_unlock(&q->mu);
		q->run(batch, q->ctx);
		finish(q, batch);
	}
}

http_queue *
http_queue_start(unsigned threads, unsigned batch, unsigned cap, int nice,
                 unsigned idle_ms, http_queue_fn run, void *ctx)
{
	http_queue *q = xcalloc(1, sizeof *q);
	q->idle_ms = idle_ms;
	q->run = run;
	q->ctx = ctx;
	q->batch = batch ? batch : 1;
	q->cap = cap;
	q->nice = nice;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->idle, NULL);
	pthread_cond_init(&q->ran, NULL);
	if (threads > HTTP_MAX_QUEUE_THREADS) threads = HTTP_MAX_QUEUE_THREADS;
	for (; q->nthreads < threads; q->nthreads++)
		if (pthread_create(&q->threads[q->nthreads], NULL, queue_main, q) != 0) {
			http_queue_stop(q);
			return NULL;
		}
	return q;
}

int
http_queue_submit(http_queue *q, http_req *r)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	r->fd = info ? info->connect_fd : -1;
	r->next = NULL;
	r->done = 0;
	pthread_mutex_lock(&q->mu);
	if (q->closing || (q->cap && q->inflight >= q->cap)) {
		pthread_mutex_unlock(&q->mu);
		return 0;
	}
	/* suspended before a thread can see it, so its resume comes after */
	MHD_suspend_connection(r->conn);
	if (q->tail) q->tail->next = r;
	else q->head = r;
	q->tail = r;
	q->inflight++;
	q->queued++;
	q->waiting++;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->mu);
	return 1;
}

void
http_queue_gather(http_queue *q, unsigned want, unsigned us)
{
	pthread_mutex_lock(&q->mu);
	q->gather_want = want;
	q->gather_us = us;
	pthread_mutex_unlock(&q->mu);
}

void
http_queue_yield(http_queue *q)
{
	pthread_mutex_lock(&q->mu);
	uint64_t upto = q->queued;
	while (q->resumed < upto && !q->stop) pthread_cond_wait(&q->ran, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

void
http_queue_close(http_queue *q)
{
	if (!q) return;
	pthread_mutex_lock(&q->mu);
	q->closing = 1;
	while (q->inflight) pthread_cond_wait(&q->idle, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

void
http_queue_stop(http_queue *q)
{
	if (!q) return;
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	pthread_cond_broadcast(&q->work);
	pthread_mutex_unlock(&q->mu);
	for (unsigned i = 0; i < q->nthreads; i++) pthread_join(q->threads[i], NULL);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->idle);
	pthread_cond_destroy(&q->ran);
	free(q);
}
