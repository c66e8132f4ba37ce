/*
** source.c: the executor's sources, one per structure a plan can be driven
** by, each read one candidate at a time in batches of SCAN_BATCH:
**
**   index   a property index range in index order (store_index_scan);
**           a candidate's position is its index entry;
**   edges   the scope's edge listing, newest (or oldest) first
**           (store_edge_scan_dir); the position is the edge's;
**   keyset  the entries of one or more index ranges, each read whole,
**           sorted newest first without repeats; the position is the
**           entity's (time, uuid) stamp.
**
** A source never looks at entities: matching is the drive loop's work.
*/
#include "query/exec_int.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

void
stamp_encode(const stamp *st, unsigned char raw[24])
{
	for (int k = 0; k < 8; k++) raw[k] = (unsigned char)(st->time >> (56 - 8 * k));
	memcpy(raw + 8, st->id.b, 16);
}

int
stamp_decode(const char *cursor, stamp *st)
{
	unsigned char raw[24];
	if (query_cursor_decode_raw(cursor, strlen(cursor), QUERY_CURSOR_TIME, raw, 24) != 24)
		return 0;
	st->time = 0;
	for (int k = 0; k < 8; k++) st->time = (st->time << 8) | raw[k];
	memcpy(st->id.b, raw + 8, 16);
	return 1;
}

static int
cmp_stamp_desc(const void *a, const void *b)
{
	const stamp *x = a, *y = b;
	if (x->time != y->time) return x->time < y->time ? 1 : -1;
	return -memcmp(x->id.b, y->id.b, 16);
}

void
source_index(source *s, store_txn *t, const store_app *app, const store_ix_range *r,
             const store_ix_pos *from)
{
	memset(s, 0, sizeof *s);
	s->kind = SRC_INDEX;
	s->t = t;
	s->app = app;
	s->r = *r;
	s->poss = xmalloc(SCAN_BATCH * sizeof *s->poss);
	s->from = xcalloc(1, sizeof *s->from);
	s->batch = SCAN_BATCH;
	if (from) *s->from = *from;
}

void
source_edges(source *s, store_txn *t, const store_app *app, const query_scope *sc, int asc,
             const store_pos *from)
{
	memset(s, 0, sizeof *s);
	s->kind = SRC_EDGES;
	s->t = t;
	s->app = app;
	s->sc = sc;
	s->asc = asc;
	s->batch = SCAN_BATCH;
	if (from) s->epos = *from;
}

void
source_want(source *s, size_t n)
{
	enum { MIN_BATCH = 16 };
	s->batch = n < MIN_BATCH ? MIN_BATCH : n < SCAN_BATCH ? n : SCAN_BATCH;
}

/* Adds every entry of tm's range to st[*have] (room for tm->count + 1):
** with a scope (s->sc), only its members, at their time in it. */
static store_rc
range_stamps(source *s, const term *tm, stamp *st, size_t *have)
{
	size_t mine = 0, got;
	store_rc rc;
	const query_scope *sc = s->sc;
	s->from->n = 0;
	for (;;) {
		rc = store_index_scan(s->t, s->app, &tm->r, s->from, SCAN_BATCH, s->ids, s->poss,
		                      s->times, &got);
		if (rc || got == 0) return rc;
		s->read += got;
		for (size_t i = 0; i < got && mine <= tm->count; i++, mine++) {
			uint64_t time = s->times[i];
			if (sc) {
				rc = store_edge_time(s->t, s->app, &sc->owner, sc->kind, sc->name,
				                     &s->ids[i], &time);
				s->read++;
				if (rc == STORE_NOTFOUND) continue;
				if (rc) return rc;
			}
			st[*have].time = time;
			st[*have].id = s->ids[i];
			(*have)++;
		}
		*s->from = s->poss[got - 1];
		if (got < SCAN_BATCH || mine > tm->count) return STORE_OK;
	}
}

store_rc
source_keyset(source *s, store_txn *t, const store_app *app, const term *const *tms,
              size_t nt, const stamp *after, const query_scope *sc)
{
	size_t total = 0, have = 0, j = 0, skip = 0;
	store_rc rc = STORE_OK;

	source_index(s, t, app, &tms[0]->r, NULL);
	s->kind = SRC_KEYSET;
	s->sc = sc;
	for (size_t k = 0; k < nt; k++) total += tms[k]->count + 1;
	s->st = xmalloc((total ? total : 1) * sizeof *s->st);
	for (size_t k = 0; k < nt && rc == STORE_OK; k++) rc = range_stamps(s, tms[k], s->st, &have);
	if (have) qsort(s->st, have, sizeof *s->st, cmp_stamp_desc);
	for (size_t i = 0; i < have; i++) {
		if (j && memcmp(s->st[j - 1].id.b, s->st[i].id.b, 16) == 0) continue;
		if (after && cmp_stamp_desc(&s->st[i], after) <= 0) skip++;
		s->st[j++] = s->st[i];
	}
	s->nst = j;
	s->i = skip;            /* stamps sort newest first: the skipped lead */
	s->last = 1;
	return rc;
}

/* Reads the next batch into ids[] (and poss/times, or eposs). */
static store_rc
refill(source *s)
{
	store_rc rc;
	size_t want = s->batch;
	s->i = s->n = 0;
	if (s->last) return STORE_OK;
	s->batch = 2 * want < SCAN_BATCH ? 2 * want : SCAN_BATCH;
	if (s->kind == SRC_INDEX) {
		rc = store_index_scan(s->t, s->app, &s->r, s->from, want, s->ids, s->poss,
		                      s->times, &s->n);
		if (s->n) *s->from = s->poss[s->n - 1];
	} else {
		const query_scope *sc = s->sc;
		rc = store_edge_scan_dir(s->t, s->app, &sc->owner, sc->kind, sc->name, s->asc, &s->epos,
		                         want, s->ids, s->eposs, &s->n);
		if (s->n) s->epos = s->eposs[s->n - 1];
	}
	s->read += s->n;
	s->last = rc || s->n < want;
	return rc;
}

store_rc
source_next(source *s, src_item *it, int *got)
{
	store_rc rc = STORE_OK;
	*got = 0;
	if (s->kind == SRC_KEYSET) {
		if (s->i == s->nst) return STORE_OK;
		const stamp *st = &s->st[s->i++];
		*it = (src_item){ .id = st->id, .time = st->time, .pos = s->raw, .npos = 24 };
		stamp_encode(st, s->raw);
		*got = 1;
		return STORE_OK;
	}
	if (s->i == s->n && (rc = refill(s))) return rc;
	if (s->i == s->n) return STORE_OK;
	size_t i = s->i++;
	it->id = s->ids[i];
	if (s->kind == SRC_INDEX) {
		it->time = s->times[i];
		it->pos = s->poss[i].b;
		it->npos = s->poss[i].n;
		it->ixpos = &s->poss[i];
	} else {
		it->time = store_pos_time(&s->eposs[i]);
		it->pos = s->eposs[i].b;
		it->npos = STORE_POS_SIZE;
		it->ixpos = NULL;
	}
	*got = 1;
	return STORE_OK;
}

void
source_close(source *s)
{
	free(s->poss);
	free(s->from);
	free(s->st);
	s->poss = NULL;
	s->from = NULL;
	s->st = NULL;
}
