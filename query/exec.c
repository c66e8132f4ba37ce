/*
** exec.c: the query executor.
**
** query_run plans the query (plan.c), then drives the plan: one loop reads
** candidates from the plan's source (source.c), loads each entity of the
** scope, evaluates the whole where on it (eval.c), keeps it when the plan's
** phase wants it, and hands it to the plan's sink: the page itself (which
** makes the cursor from the candidate's position when it fills up) or a
** sorter (sort.c) that sorts in memory and makes a keyset cursor.
**
** The plans that follow an order key have two phases: the key's index,
** then the scope's edges for the entities without the key (skipped when
** the where bounds the key).  A cursor of such a plan says which phase it
** stopped in.  DIRECT names are looked up, not driven.
**
** Every entity read is a unit of the scope's progress meter; once its
** handler says stop, the query ends with QUERY_STOPPED.  A storage failure
** ends it with QUERY_STORE and the store's code beside it.
*/
#include "query/exec_int.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static const char *const rc_text[QUERY_RC_COUNT] = {
	[QUERY_OK]        = "ok",
	[QUERY_BADCURSOR] = "the cursor is not valid for this query",
	[QUERY_TOOBIG]    = "the query would sort too many entities",
	[QUERY_STOPPED]   = "the query was stopped",
	[QUERY_STORE]     = "the store failed",
};

const char *
query_strerror(query_rc rc)
{
	if ((unsigned)rc >= QUERY_RC_COUNT) return "unknown error";
	return rc_text[rc];
}

void
query_result_clear(query_result *res)
{
	json_decref(res->entities);
	free(res->distance);
	memset(res, 0, sizeof *res);
}

/* Where a cursor resumes the plan. */
typedef struct {
	int            phase;      /* ORDER, GROUPS: the phase to start in */
	store_ix_pos   ix;         /* EQ, ORDER phase 0 */
	store_pos      edge;       /* SCAN, ORDER phase 1 */
	stamp          st;         /* RANGE */
	int            have_st;
	store_ix_value key;        /* GROUPS: the first key of the cursor's entity */
	int            have_key;
} resume;

/* One run of a plan. */
typedef struct {
	store_txn         *t;
	const store_app   *app;
	const query_scope *sc;
	const ql_query    *q;
	const plan        *p;
	size_t             limit;
	query_result      *res;
	resume             from;
	sorter             sort;     /* SORT, GROUPS */
	int                phase;
	store_ix_pos       group;    /* GROUPS: an entry of the run of equal first keys */
	int                have_group;
	int                full;     /* the page is full */
	store_rc           store;    /* QUERY_STORE: why */
} run;

/* The outcome of a store call: QUERY_STORE, rc kept, when it failed. */
static query_rc
stored(run *d, store_rc rc)
{
	if (rc) d->store = rc;
	return rc ? QUERY_STORE : QUERY_OK;
}

/* Reads an entity of the scope; *e is NULL when it is gone or of another
** type.  Each read is a unit of the scope's progress meter. */
static query_rc
load(run *d, const store_id *id, json_t **e)
{
	const char *want = d->sc->type;
	if (query_charge(d->sc->progress, 1, 0)) return QUERY_STOPPED;
	d->res->entities_read++;
	store_rc rc = store_entity_read(d->t, d->app, id, e);   /* never changed here */
	if (rc == STORE_NOTFOUND) {
		*e = NULL;
		return QUERY_OK;
	}
	if (rc) return stored(d, rc);
	if (want && want[0]) {
		const char *type = json_string_value(json_object_get(*e, "type"));
		if (!type || strcmp(type, want) != 0) {
			json_decref(*e);
			*e = NULL;
		}
	}
	return QUERY_OK;
}

/* Loads id; *e is the entity when it is in scope and matches, else NULL. */
static query_rc
load_match(run *d, const store_id *id, json_t **e)
{
	query_rc rc = load(d, id, e);
	if (rc || !*e) return rc;
	int r = query_eval(d->q->where, *e, d->sc->progress);
	if (r != 1) {
		json_decref(*e);
		*e = NULL;
	}
	return r < 0 ? QUERY_STOPPED : QUERY_OK;
}

static int
two_phases(const plan *p)
{
	return (p->kind == PLAN_ORDER || p->kind == PLAN_GROUPS) && p->ndrive == 0;
}

/* ---- cursors -------------------------------------------------------------------- */

/* An ORDER cursor: a phase byte, then an index (0) or edge (1) position. */
static int
order_resume(resume *rs, const char *cursor)
{
	unsigned char raw[1 + STORE_IXPOS_MAX];
	size_t got = query_cursor_decode_raw(cursor, strlen(cursor), QUERY_CURSOR_ORDER, raw,
	                                     sizeof raw);
	if (got < 1 || raw[0] > 1) return 0;
	rs->phase = raw[0];
	memcpy(rs->ix.b, raw + 1, got - 1);
	rs->ix.n = got - 1;
	if (rs->phase == 1 && rs->ix.n == STORE_POS_SIZE) {
		memcpy(rs->edge.b, rs->ix.b, STORE_POS_SIZE);
		rs->edge.set = 1;
	}
	return 1;
}

/* A SORTKEY/SORTREF cursor of the grouped plan restarts at its group, or
** among the entities without the first key. */
static int
groups_resume(run *d, const char *cursor)
{
	if (!sorter_after(&d->sort, d->t, d->app, cursor)) return 0;
	json_t *k0 = sorter_after_key(&d->sort);
	if (!k0) {
		d->from.phase = 1;
	} else {
		d->from.key = sort_ix_value(k0);
		d->from.have_key = 1;
	}
	return 1;
}

/* Reads the cursor (accepted by the plan) into d->from; 0 when malformed. */
static int
decode_cursor(run *d, const char *cursor, int kind)
{
	resume *rs = &d->from;
	switch (d->p->kind) {
	case PLAN_EQ:
		rs->ix.n = query_cursor_decode_raw(cursor, strlen(cursor), QUERY_CURSOR_INDEX,
		                                   rs->ix.b, STORE_IXPOS_MAX);
		return rs->ix.n > 0;
	case PLAN_ORDER:
		return order_resume(rs, cursor);
	case PLAN_SCAN:
		if (kind != QUERY_CURSOR_TIME) return query_cursor_decode(cursor, strlen(cursor), &rs->edge);
		/* where a range plan stopped: (time, uuid) is an edge position */
		if (!stamp_decode(cursor, &rs->st)) return 0;
		store_pos_make(&rs->edge, rs->st.time, &rs->st.id);
		return 1;
	case PLAN_RANGE:
		return rs->have_st = stamp_decode(cursor, &rs->st);
	case PLAN_SORT:
		return sorter_after(&d->sort, d->t, d->app, cursor);
	case PLAN_GROUPS:
		return groups_resume(d, cursor);
	default:
		return 1;
	}
}

/* ---- sources and sinks ---------------------------------------------------------- */

/* The order key's index range (within the where's bound, from the cursor's
** group). */
static store_ix_range
key_range(const run *d)
{
	const plan *p = d->p;
	store_ix_range r = { .type = d->sc->type, .path = d->q->order[0].prop };
	if (p->ndrive) r = p->drive[0]->r;
	r.desc = p->desc;
	if (d->from.have_key && r.desc) {
		r.hi = &d->from.key;
		r.hi_incl = 1;
	} else if (d->from.have_key) {
		r.lo = &d->from.key;
		r.lo_incl = 1;
	}
	return r;
}

/* Opens the source of the plan's current phase. */
static store_rc
source_open(run *d, source *s)
{
	const plan *p = d->p;
	store_ix_range r;
	switch (p->kind) {
	case PLAN_EQ:
		r = p->drive[0]->r;
		r.desc = 1;                      /* one value's entries: newest first */
		source_index(s, d->t, d->app, &r, &d->from.ix);
		return STORE_OK;
	case PLAN_RANGE:
		return source_keyset(s, d->t, d->app, p->drive, p->ndrive,
		                     d->from.have_st ? &d->from.st : NULL, p->scoped ? d->sc : NULL);
	case PLAN_SORT:
		if (p->ndrive)
			return source_keyset(s, d->t, d->app, p->drive, 1, NULL, p->scoped ? d->sc : NULL);
		break;
	case PLAN_ORDER:
	case PLAN_GROUPS:
		if (d->phase == 1) {             /* ties follow the key's direction */
			source_edges(s, d->t, d->app, d->sc, !p->desc, &d->from.edge);
			return STORE_OK;
		}
		r = key_range(d);
		source_index(s, d->t, d->app, &r, p->kind == PLAN_ORDER ? &d->from.ix : NULL);
		return STORE_OK;
	default:
		break;
	}
	source_edges(s, d->t, d->app, d->sc, 0, &d->from.edge);
	return STORE_OK;
}

/* Does the current phase want e?  An order key's index lists an entity
** under each of its values and it counts at the one it sorts by; the
** second phase wants the entities without the key. */
static int
keep(const run *d, const src_item *it, json_t *e)
{
	const char *path;
	if (d->p->kind != PLAN_ORDER && d->p->kind != PLAN_GROUPS) return 1;
	path = d->q->order[0].prop;
	if (d->phase == 1) return sort_rank(sort_value(e, path)) == R_MISSING;
	return sort_is_at(d->app, d->sc->type, path, it->ixpos, e);
}

/* Appends e (taken) to the page; when that fills it, the cursor is the
** plan's kind, a phase byte for an ORDER plan, and the item's position. */
static void
take(run *d, const src_item *it, json_t *e)
{
	unsigned char raw[1 + QUERY_CURSOR_RAW_MAX];
	size_t o = 0;
	json_array_append_new(d->res->entities, e);
	if (json_array_size(d->res->entities) < d->limit) return;
	if (d->p->kind == PLAN_ORDER) raw[o++] = (unsigned char)d->phase;
	memcpy(raw + o, it->pos, it->npos);
	query_cursor_encode_raw(d->p->cursor, raw, o + it->npos, d->res->cursor);
	d->res->has_cursor = 1;
	d->full = 1;
}

/* GROUPS: an index entry of another first key than the run before ends
** that run, which is sorted and emitted. */
static void
next_group(run *d, const src_item *it)
{
	if (d->have_group && !store_ix_pos_same_value(it->ixpos, &d->group))
		d->full = sorter_emit(&d->sort, d->limit, d->res);
	d->have_group = 1;
	d->group = *it->ixpos;
}

/* ---- the drive loop ------------------------------------------------------------- */

static query_rc
drive(run *d, source *s)
{
	src_item it;
	int got;
	query_rc rc;
	while (!(rc = stored(d, source_next(s, &it, &got))) && got) {
		json_t *e;
		if (d->p->kind == PLAN_GROUPS && d->phase == 0) next_group(d, &it);
		if (d->full || (rc = load_match(d, &it.id, &e))) break;
		if (!e) continue;
		if (!keep(d, &it, e)) {
			json_decref(e);
		} else if (d->p->kind == PLAN_SORT || d->p->kind == PLAN_GROUPS) {
			if ((rc = sorter_add(&d->sort, e, it.time, &it.id))) break;
		} else {
			take(d, &it, e);
			if (d->full) break;
		}
	}
	return rc;
}

/* Runs the plan's phases from the cursor's. */
static query_rc
run_phases(run *d)
{
	query_rc rc = QUERY_OK;
	int last = two_phases(d->p) ? 1 : 0;
	for (d->phase = d->from.phase; d->phase <= last && !d->full && !rc; d->phase++) {
		source s;
		rc = stored(d, source_open(d, &s));
		source_want(&s, d->limit - json_array_size(d->res->entities));
		if (!rc) rc = drive(d, &s);
		d->res->entries_read += s.read;
		source_close(&s);
		if (!rc && !d->full && (d->p->kind == PLAN_SORT || d->p->kind == PLAN_GROUPS))
			d->full = sorter_emit(&d->sort, d->limit, d->res);
	}
	return rc;
}

/* DIRECT: the named entities of the scope, each once, the where unused. */
static query_rc
run_direct(run *d)
{
	const ql_query *q = d->q;
	const query_scope *sc = d->sc;
	store_id *seen = xmalloc((q->ndirect ? q->ndirect : 1) * sizeof *seen);
	size_t nseen = 0;
	store_rc rc = STORE_OK;
	query_rc qrc = QUERY_OK;

	for (size_t i = 0; i < q->ndirect && json_array_size(d->res->entities) < d->limit; i++) {
		store_id id;
		json_t *e;
		if (q->direct[i].is_uuid) {
			memcpy(id.b, q->direct[i].uuid, 16);
			rc = STORE_OK;
		} else if (sc->type && sc->type[0]) {
			store_slice name = { q->direct[i].name, strlen(q->direct[i].name) };
			rc = store_entity_find(d->t, d->app, sc->type, name, &id);
		} else {
			rc = STORE_NOTFOUND;
		}
		if (rc == STORE_OK) rc = store_edge_has(d->t, d->app, &sc->owner, sc->kind, sc->name, &id);
		if (rc == STORE_NOTFOUND) {
			rc = STORE_OK;
			continue;
		}
		if (rc || (qrc = load(d, &id, &e))) break;
		if (!e) continue;
		size_t k = 0;      /* an id named twice (by uuid or by name) is listed once */
		while (k < nseen && memcmp(seen[k].b, id.b, 16) != 0) k++;
		if (k < nseen) {
			json_decref(e);
			continue;
		}
		seen[nseen++] = id;
		json_array_append_new(d->res->entities, e);
	}
	free(seen);
	return qrc ? qrc : stored(d, rc);
}

/* ---- planning's questions, answered by the transaction ---------------------------- */

typedef struct {
	store_txn         *t;
	const store_app   *app;
	const query_scope *sc;
} plan_txn;

static store_rc
txn_count(void *ctx, const store_ix_range *r, size_t cap, size_t *n)
{
	const plan_txn *pt = ctx;
	return store_index_count(pt->t, pt->app, r, cap, n);
}

static unsigned
txn_flags(void *ctx, const char *path)
{
	const plan_txn *pt = ctx;
	return store_index_flags(pt->t, pt->app, pt->sc->type, path);
}

static store_rc
txn_scope_size(void *ctx, uint64_t *n, int *known)
{
	const plan_txn *pt = ctx;
	const query_scope *sc = pt->sc;
	*known = sc->kind != STORE_EDGE_MEMBER_OF;     /* the store keeps no count of those */
	return store_edge_count(pt->t, pt->app, &sc->owner, sc->kind, sc->name, n);
}

query_rc
query_run(store_txn *t, const store_app *app, const query_scope *scope,
          const ql_query *q, size_t limit, const char *cursor, query_result *res)
{
	plan_facts *f = xmalloc(sizeof *f);
	plan p;
	run *d = xcalloc(1, sizeof *d);
	int kind = cursor && *cursor ? query_cursor_kind(cursor) : 0;
	query_rc rc;

	memset(res, 0, sizeof *res);
	res->entities = json_array();
	*d = (run){ .t = t, .app = app, .sc = scope, .q = q, .p = &p, .limit = limit, .res = res };
	plan_txn pt = { t, app, scope };
	plan_store ps = { txn_count, txn_flags, txn_scope_size, &pt };
	plan_terms(q, scope->type, scope->root, f);
	rc = stored(d, plan_count(&ps, q, limit, f));
	res->entries_read = f->counted;
	if (rc) goto done;
	query_plan(q, f, kind, limit, &p);
	sorter_init(&d->sort, q, p.within);
	plan_describe(&p, q, res->plan, sizeof res->plan);
	if (cursor && *cursor && (!PLAN_ACCEPTS(&p, kind) || !decode_cursor(d, cursor, kind)))
		rc = QUERY_BADCURSOR;
	else if (p.kind == PLAN_DIRECT)
		rc = run_direct(d);
	else if (p.kind != PLAN_EMPTY)
		rc = run_phases(d);
done:
	if (rc) query_result_clear(res);
	res->store = d->store;
	sorter_clear(&d->sort);
	free(d);
	free(f);
	return rc;
}
