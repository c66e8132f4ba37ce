/*
** reindex.c: the reindexer, the thread that runs the reindex a change of
** a collection's `fields` records (core/fields.c).
**
** It runs one step at a time (store_reindex_step: at most --reindex-batch
** entities in one write transaction of its own, committed and synced) and
** pauses after each for as long as it took, so that the writer's batches
** take the write lock in between: a write waits for one step at most,
** never for the whole collection, and the reindex holds the lock at most
** half the time.  With nothing left it sleeps until a settings change wakes
** it, or HTTP_REINDEX_POLL_MS pass (a reindex that an import or upgrade
** recorded while the server ran).  At start it resumes whatever a stopped
** server left: the progress is in the store.  A step that fails is said
** on stderr, kept in its record (the settings' "reindexing" shows it) and
** held back STORE_REINDEX_RETRY_MS while the other collections' reindexes
** go on.
*/
#include "http/http_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct http_reindexer {
	store          *s;
	pthread_t       thread;
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	int             wake, stop;
};

/* Waits ms, or until woken or stopped; returns 1 when stopping. */
static int
rest(http_reindexer *x, unsigned ms)
{
	struct timespec until = http_deadline_in((uint64_t)ms * 1000);
	pthread_mutex_lock(&x->mu);
	while (!x->wake && !x->stop)
		if (pthread_cond_timedwait(&x->cv, &x->mu, &until) == ETIMEDOUT) break;
	x->wake = 0;
	int stop = x->stop;
	pthread_mutex_unlock(&x->mu);
	return stop;
}

/* The pause after a step that began at t0: as long as the step took (the
** writer gets the lock at least half the time), at least
** HTTP_REINDEX_PAUSE_MS, at most a second. */
static useconds_t
pause_us(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t us = (int64_t)(now.tv_sec - t0->tv_sec) * 1000000 + (now.tv_nsec - t0->tv_nsec) / 1000;
	if (us < HTTP_REINDEX_PAUSE_MS * 1000) us = HTTP_REINDEX_PAUSE_MS * 1000;
	return (useconds_t)(us < 1000000 ? us : 1000000);
}

static void *
reindex_main(void *arg)
{
	http_reindexer *x = arg;
	unsigned idle = 0;             /* resume at once what a stopped server left */
	while (!rest(x, idle)) {
		int more = 1;
		while (more && !__atomic_load_n(&x->stop, __ATOMIC_RELAXED)) {
			struct timespec t0;
			store_err err = { 0 };
			clock_gettime(CLOCK_MONOTONIC, &t0);
			store_rc rc = store_reindex_step(x->s, &more, &err);
			if (rc) {
				if (more)
					fprintf(stderr, "ugstore: reindex: %s; going on with the others, "
					        "this one again in %d s\n", err.msg, STORE_REINDEX_RETRY_MS / 1000);
				else
					fprintf(stderr, "ugstore: reindex: %s; trying again in %u ms\n",
					        err.msg[0] ? err.msg : store_strerror(rc), HTTP_REINDEX_POLL_MS);
			}
			if (more) usleep(pause_us(&t0));
		}
		idle = HTTP_REINDEX_POLL_MS;
	}
	return NULL;
}

http_reindexer *
http_reindex_start(store *s)
{
	http_reindexer *x = xcalloc(1, sizeof *x);
	x->s = s;
	pthread_mutex_init(&x->mu, NULL);
	pthread_cond_init(&x->cv, NULL);
	if (pthread_create(&x->thread, NULL, reindex_main, x) != 0) {
		pthread_cond_destroy(&x->cv);
		pthread_mutex_destroy(&x->mu);
		free(x);
		return NULL;
	}
	return x;
}

void
http_reindex_wake(http_reindexer *x)
{
	if (!x) return;
	pthread_mutex_lock(&x->mu);
	x->wake = 1;
	pthread_cond_signal(&x->cv);
	pthread_mutex_unlock(&x->mu);
}

void
http_reindex_stop(http_reindexer *x)
{
	if (!x) return;
	pthread_mutex_lock(&x->mu);
	__atomic_store_n(&x->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&x->cv);
	pthread_mutex_unlock(&x->mu);
	pthread_join(x->thread, NULL);
	pthread_cond_destroy(&x->cv);
	pthread_mutex_destroy(&x->mu);
	free(x);
}
