/*
** plan.c: the query planner.
**
** plan_terms reads, without touching the store, which index ranges the
** where implies: one per term of the top-level AND chain that an index
** can drive (an `=`, a range, a 'prefix*', a one-word `contains`, the
** latitude band of a `within`), and, for an unordered query whose where
** is an OR, the same for each branch.  plan_count counts them in the
** store.  query_plan then picks the plan from the query, the counts and
** the cursor's kind alone, so it is tested with a data file
** (tests/exec/plans.txt).  Plans:
**
**   equality  an equality term (an `=`, a one-word `contains`): that
**             value's index entries backwards, which is newest first;
**             O(page); cursor INDEX.
**   order     one `order by` key on a root collection: that property's
**             index in order, then the entities that lack it; O(page);
**             cursor ORDER.
**   groups    several `order by` keys: the same, each run of equal first
**             keys sorted in memory by the others; cursor SORTKEY/SORTREF.
**   range     a term whose index range holds fewer than QUERY_RANGE_CAP
**             entries, or an OR whose branches' smallest terms hold fewer
**             in all (a union): read whole, listed newest first; cursor
**             TIME.
**   sort      `order by` or `within` otherwise: every candidate (from the
**             smallest range read whole, else the scope) sorted in memory,
**             at most QUERY_MAX_SORT; cursor SORTKEY/SORTREF.
**   scan      the scope's own edge listing, newest first; O(scanned);
**             cursor EDGE (or the TIME of a range plan's page).
**   direct    DIRECT ids: looked up, cursor none.
**
** Only terms drive a plan; the whole where is evaluated on every
** candidate.  Indexes are kept per type; in a scope of one type (a
** sub-collection, a typed connection, a feed) a range plan or a sort's
** candidates come from the type's index when its term holds fewer entries
** than the scope has edges, each entry checked in the scope and listed at
** its edge's time there (so its cursor is also a scan position); an
** equality or order plan, which lists in index order, never drives there.
*/
#include "query/exec_int.h"

#include <stdio.h>
#include <string.h>

/* ---- terms -------------------------------------------------------------------- */

/* contains: the literal's first word, exact or with one trailing '*'. */
static int
contains_term(const ql_node *n, term *tm)
{
	const char *p = n->u.contains.val.u.s.lower, *end = p + n->u.contains.val.u.s.len;
	while (p < end && !store_word_byte((unsigned char)*p) && *p != '*') p++;
	const char *s = p;
	while (p < end && store_word_byte((unsigned char)*p)) p++;
	if (p == s || p - s > STORE_WORD_MAX) return 0;
	if (s > n->u.contains.val.u.s.lower && s[-1] == '*') return 0;
	int star = p < end && *p == '*';
	if (star && p + 1 < end && store_word_byte((unsigned char)p[1])) return 0;
	tm->r.path = n->u.contains.prop;
	tm->r.tag = STORE_IX_WORD;
	tm->lo = (store_ix_value){ .tag = STORE_IX_WORD, .s = s, .n = (size_t)(p - s) };
	tm->r.lo = &tm->lo;
	if (star) {
		tm->r.prefix = 1;
		tm->what = "word prefix";
	} else {
		tm->r.hi = &tm->lo;
		tm->r.lo_incl = tm->r.hi_incl = 1;
		tm->eq = 1;
		tm->what = "word";
	}
	return 1;
}

/* within: the latitude band that holds every point within the distance
** (a degree of latitude is at least 110.5 km); eval checks the rest. */
static int
within_term(const ql_node *n, term *tm)
{
	double dlat = n->u.within.distance / 110500.0 + 1e-9;
	if (!store_index_holds(n->u.within.prop, STORE_IX_GEO)) return 0;
	tm->r.path = n->u.within.prop;
	tm->r.tag = STORE_IX_GEO;
	tm->lo = (store_ix_value){ .tag = STORE_IX_GEO, .d = n->u.within.lat - dlat, .d2 = -1e308 };
	tm->hi = (store_ix_value){ .tag = STORE_IX_GEO, .d = n->u.within.lat + dlat, .d2 = 1e308 };
	tm->r.lo = &tm->lo;
	tm->r.hi = &tm->hi;
	tm->r.lo_incl = tm->r.hi_incl = 1;
	tm->what = "latitude band";
	return 1;
}

/* 'fred*' is a prefix; any other '*' drives nothing.  Returns 1 for a
** prefix term, 0 for no star, -1 for a star that drives nothing. */
static int
prefix_term(const ql_node *n, term *tm)
{
	const ql_value *v = &n->u.cmp.val;
	const char *star = memchr(v->u.s.lower, '*', v->u.s.len);
	if (!star) return 0;
	if (n->u.cmp.op != QL_EQ || star != v->u.s.lower + v->u.s.len - 1 || v->u.s.len == 1)
		return -1;
	tm->lo.n--;
	tm->r.tag = STORE_IX_STRING;
	tm->r.lo = &tm->lo;
	tm->r.prefix = 1;
	tm->what = "prefix";
	return 1;
}

/* The bounds a comparison puts on its value tm->lo. */
static void
cmp_bounds(ql_op op, term *tm)
{
	tm->r.tag = tm->lo.tag;
	switch (op) {
	case QL_EQ:
		tm->r.lo = tm->r.hi = &tm->lo;
		tm->r.lo_incl = tm->r.hi_incl = 1;
		tm->eq = 1;
		tm->what = "equality";
		break;
	case QL_GT:
	case QL_GTE:
		tm->r.lo = &tm->lo;
		tm->r.lo_incl = op == QL_GTE;
		tm->what = "range";
		break;
	case QL_LT:
	case QL_LTE:
		tm->hi = tm->lo;
		tm->r.hi = &tm->hi;
		tm->r.hi_incl = op == QL_LTE;
		tm->what = "range";
		break;
	}
}

static int
cmp_term(const ql_node *n, term *tm)
{
	const ql_value *v = &n->u.cmp.val;
	tm->r.path = n->u.cmp.prop;
	switch (v->type) {
	case QL_VSTRING: {
		tm->lo = (store_ix_value){ .tag = STORE_IX_STRING, .s = v->u.s.lower, .n = v->u.s.len };
		int pre = prefix_term(n, tm);
		if (pre) return pre > 0;
		break;
	}
	case QL_VUUID:
		store_id_format((const store_id *)v->u.uuid, tm->uuid);
		tm->lo = (store_ix_value){ .tag = STORE_IX_STRING, .s = tm->uuid, .n = 36 };
		break;
	case QL_VLONG:   tm->lo = (store_ix_value){ .tag = STORE_IX_LONG, .l = v->u.l }; break;
	case QL_VDOUBLE: tm->lo = (store_ix_value){ .tag = STORE_IX_DOUBLE, .d = v->u.d }; break;
	case QL_VBOOL:   tm->lo = (store_ix_value){ .tag = STORE_IX_BOOL, .b = v->u.b }; break;
	}
	cmp_bounds(n->u.cmp.op, tm);
	return 1;
}

/* The index range term n implies, if any: only what the index holds can
** drive (store_index_holds). */
static int
term_of(const ql_node *n, const char *type, term *tm)
{
	memset(tm, 0, sizeof *tm);
	tm->r.type = type;
	switch (n->kind) {
	case QL_WITHIN:
		return within_term(n, tm);
	case QL_CONTAINS:
		return store_index_holds(n->u.contains.prop, STORE_IX_WORD) && contains_term(n, tm);
	case QL_CMP:
		return store_index_holds(n->u.cmp.prop, STORE_IX_STRING) && cmp_term(n, tm);
	default:
		return 0;
	}
}

/* Adds the terms of n's AND chain (n itself when it is no AND) to
** tms[*nt] (room for QL_MAX_TERMS), marked as of `branch`. */
static void
chain_terms(const ql_node *n, const char *type, size_t branch, term *tms, size_t *nt)
{
	size_t nk = n->kind == QL_AND ? n->u.list.n : 1;
	for (size_t i = 0; i < nk && *nt < QL_MAX_TERMS; i++) {
		const ql_node *k = n->kind == QL_AND ? n->u.list.kids[i] : n;
		if (!term_of(k, type, &tms[*nt])) continue;
		tms[(*nt)++].branch = branch;
	}
}

void
plan_terms(const ql_query *q, const char *type, int indexed, plan_facts *f)
{
	const ql_node *w = q->where;
	f->indexed = indexed && type && type[0];
	f->scoped = !indexed && type && type[0];
	f->scope_size = 0;
	f->scope_known = 0;
	f->type = type;
	f->nand = f->nor = 0;
	f->order_flags = 0;
	f->counted = 0;
	f->unindexed = NULL;
	if (!w || !(f->indexed || f->scoped) || q->ndirect) return;
	chain_terms(w, type, 0, f->and_terms, &f->nand);
	/* a union drives only an unordered query */
	if (w->kind == QL_OR && q->norder == 0)
		for (size_t i = 0; i < w->u.list.n; i++)
			chain_terms(w->u.list.kids[i], type, i, f->or_terms, &f->nor);
}

/* ---- merging the bounds of one path ---------------------------------------------- */

/* Order of two values of one tag, as the index orders them. */
static int
value_cmp(const store_ix_value *a, const store_ix_value *b)
{
	switch (a->tag) {
	case STORE_IX_DOUBLE: return (a->d > b->d) - (a->d < b->d);
	case STORE_IX_LONG:   return (a->l > b->l) - (a->l < b->l);
	case STORE_IX_BOOL:   return (a->b > b->b) - (a->b < b->b);
	default: {
		int c = memcmp(a->s, b->s, a->n < b->n ? a->n : b->n);
		return c ? c : (a->n > b->n) - (a->n < b->n);
	}
	}
}

/* A term whose bounds may be merged: a plain value range of a scalar (a
** UUID literal's text lives in its own term, so it stays alone). */
static int
mergeable(const term *tm)
{
	return !tm->multi && !tm->r.prefix && !tm->uuid[0] && tm->r.tag >= STORE_IX_DOUBLE &&
	       tm->r.tag <= STORE_IX_BOOL;
}

static int
same_path(const term *a, const term *b)
{
	return a->branch == b->branch && a->r.tag == b->r.tag && strcmp(a->r.path, b->r.path) == 0;
}

/* Narrows a's bounds to those b also puts on the value. */
static void
narrow(term *a, const term *b)
{
	if (a->r.hi == &a->lo) {             /* an equality's hi is its lo */
		a->hi = a->lo;
		a->r.hi = &a->hi;
	}
	if (b->r.lo) {
		int c = a->r.lo ? value_cmp(b->r.lo, a->r.lo) : 1;
		if (c > 0 || (c == 0 && !b->r.lo_incl)) {
			a->lo = *b->r.lo;
			a->r.lo = &a->lo;
			a->r.lo_incl = b->r.lo_incl;
		}
	}
	if (b->r.hi) {
		int c = a->r.hi ? value_cmp(b->r.hi, a->r.hi) : -1;
		if (c < 0 || (c == 0 && !b->r.hi_incl)) {
			a->hi = *b->r.hi;
			a->r.hi = &a->hi;
			a->r.hi_incl = b->r.hi_incl;
		}
	}
	a->eq = a->r.lo && a->r.hi && a->r.lo_incl && a->r.hi_incl && value_cmp(a->r.lo, a->r.hi) == 0;
	a->what = a->eq ? "equality" : "range";
}

/* dst = src, its bounds pointing into dst. */
static void
term_move(term *dst, const term *src)
{
	*dst = *src;
	if (src->r.lo == &src->lo) dst->r.lo = &dst->lo;
	if (src->r.hi == &src->lo) dst->r.hi = &dst->lo;
	if (src->r.hi == &src->hi) dst->r.hi = &dst->hi;
}

static void
merge_terms(term *tms, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		if (!mergeable(&tms[i])) continue;
		for (size_t j = i + 1; j < *n;) {
			if (!mergeable(&tms[j]) || !same_path(&tms[i], &tms[j])) {
				j++;
				continue;
			}
			narrow(&tms[i], &tms[j]);
			for (size_t k = j; k + 1 < *n; k++) term_move(&tms[k], &tms[k + 1]);
			(*n)--;
		}
	}
}

void
plan_merge(plan_facts *f)
{
	merge_terms(f->and_terms, &f->nand);
	merge_terms(f->or_terms, &f->nor);
}

/* Asks the store whether the paths that more than one mergeable term
** bounds have held arrays (only those: a query with one term per path
** reads no flags). */
static void
mark_multi(const plan_store *ps, term *tms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int shared = 0;
		for (size_t j = 0; j < n; j++)
			shared |= j != i && mergeable(&tms[i]) && mergeable(&tms[j]) &&
			          same_path(&tms[i], &tms[j]);
		if (shared) tms[i].multi = (ps->flags(ps->ctx, tms[i].r.path) & STORE_IXF_MULTI) != 0;
	}
}

/* Can tm's range be read whole?  Its count is exact (not a cap it was
** counted to) and under QUERY_RANGE_CAP; a range read whole stops after
** count entries. */
static int
whole(const term *tm)
{
	return !tm->capped && tm->count < QUERY_RANGE_CAP;
}

/* Does reading n index entries beat the plan's other way?  On a root
** collection always; in a scope (each entry checked against it) only when
** the scope has more edges than that, and keeps their count. */
static int
beats_scope(const plan_facts *f, size_t n)
{
	return f->indexed || (f->scoped && f->scope_known && n < f->scope_size);
}

/* The term with the fewest entries (only equalities when eq_only). */
static const term *
best_term(const term *tms, size_t n, int eq_only)
{
	const term *best = NULL;
	for (size_t i = 0; i < n; i++) {
		if (eq_only && !tms[i].eq) continue;
		if (!best || tms[i].count < best->count) best = &tms[i];
	}
	return best;
}

/* The first `within` of the top-level AND chain. */
static const ql_node *
find_within(const ql_node *n)
{
	if (!n) return NULL;
	if (n->kind == QL_WITHIN) return n;
	if (n->kind != QL_AND) return NULL;
	for (size_t i = 0; i < n->u.list.n; i++)
		if (n->u.list.kids[i]->kind == QL_WITHIN) return n->u.list.kids[i];
	return NULL;
}

int
plan_counts_band(const ql_query *q, const plan_facts *f)
{
	const term *best = best_term(f->and_terms, f->nand, 0);
	return find_within(q->where) && best && !whole(best);
}

/* Can the first order key drive an order plan through its index? */
static int
order_indexable(const ql_query *q, const plan_facts *f)
{
	return q->norder && f->indexed && store_index_holds(q->order[0].prop, STORE_IX_STRING) &&
	       !(f->order_flags & (STORE_IXF_LONG | STORE_IXF_OFF));
}

/* Counts tm up to cap, adding what it read to f->counted. */
static store_rc
count_term(const plan_store *ps, plan_facts *f, term *tm, size_t cap)
{
	store_rc rc = ps->count(ps->ctx, &tm->r, cap, &tm->count);
	tm->capped = tm->count >= cap;
	f->counted += tm->count;
	return rc;
}

#define FIRST_ROUND 16      /* the first round's cap (count_and_terms) */

/* The AND chain's terms, in rounds: each round counts the terms not yet
** known exactly up to its cap (or to one past the smallest count found in
** the round: a term holding more only has to be known to hold more), and
** the first round that finds one under its cap ends it.  Counting reads
** O(terms x the smallest count), and never past `need`. */
static store_rc
count_and_terms(const plan_store *ps, plan_facts *f, size_t need)
{
	static const size_t caps[] = { FIRST_ROUND, 64, 256, 1024, QUERY_RANGE_CAP };
	size_t best = (size_t)-1, cap = 0;
	store_rc rc = STORE_OK;
	for (size_t i = 0; i < f->nand; i++) f->and_terms[i].capped = 1;  /* until counted */
	for (size_t c = 0; c < sizeof caps / sizeof *caps && cap < need && best == (size_t)-1 &&
	                   !rc; c++) {
		cap = caps[c] < need ? caps[c] : need;
		for (size_t i = 0; i < f->nand && !rc; i++) {
			term *tm = &f->and_terms[i];
			if (c && !tm->capped) continue;
			rc = count_term(ps, f, tm, best < cap ? best + 1 : cap);
			if (!tm->capped && tm->count < best) best = tm->count;
		}
	}
	return rc;
}

/* Drops the terms on paths the collection does not index, noting one. */
static void
drop_unindexed(const plan_store *ps, plan_facts *f, term *tms, size_t *n)
{
	size_t kept = 0;
	for (size_t i = 0; i < *n; i++) {
		if (ps->flags(ps->ctx, tms[i].r.path) & STORE_IXF_OFF) {
			if (!f->unindexed) f->unindexed = tms[i].r.path;
			continue;
		}
		if (kept != i) term_move(&tms[kept], &tms[i]);
		kept++;
	}
	*n = kept;
}

/* A lone equality term with nothing to weigh it against (no other term, no
** OR, no order, no within, on the type's own index): the equality plan
** reads a page's worth of it however many entries it holds, so counting
** them decides nothing; explain shows the first round's count. */
static int
lone_equality(const ql_query *q, const plan_facts *f, int within)
{
	return f->indexed && !f->scoped && f->nand == 1 && f->and_terms[0].eq && !f->nor &&
	       !q->norder && !within;
}

store_rc
plan_count(const plan_store *ps, const ql_query *q, size_t limit, plan_facts *f)
{
	store_rc rc;
	size_t need = QUERY_RANGE_CAP;
	drop_unindexed(ps, f, f->and_terms, &f->nand);
	drop_unindexed(ps, f, f->or_terms, &f->nor);
	if (f->indexed && q->norder) f->order_flags = ps->flags(ps->ctx, q->order[0].prop);
	if (!f->unindexed && (f->order_flags & STORE_IXF_OFF)) f->unindexed = q->order[0].prop;
	/* an order key's index drives unless a term is small enough to sort */
	int within = find_within(q->where) != NULL;
	if (order_indexable(q, f) && !within && 4 * limit < need) need = 4 * limit;
	/* in a scope, a range drives only when it holds fewer entries than it */
	if (f->scoped && (rc = ps->scope_size(ps->ctx, &f->scope_size, &f->scope_known)))
		return rc;
	if (f->scoped && f->scope_size < need) need = f->scope_size;
	mark_multi(ps, f->and_terms, f->nand);
	mark_multi(ps, f->or_terms, f->nor);
	plan_merge(f);
	if (lone_equality(q, f, within)) need = FIRST_ROUND;   /* one round */
	rc = count_and_terms(ps, f, need);
	for (size_t i = 0; i < f->nor && !rc; i++)
		rc = count_term(ps, f, &f->or_terms[i], QUERY_RANGE_CAP);
	if (!rc && plan_counts_band(q, f))   /* a latitude band may still be worth it */
		for (size_t i = 0; i < f->nand && !rc; i++)
			if (f->and_terms[i].r.tag == STORE_IX_GEO)
				rc = count_term(ps, f, &f->and_terms[i], QUERY_MAX_SORT);
	return rc;
}

/* ---- the choice ---------------------------------------------------------------- */

/* A top-level OR whose every branch has a term, the smallest of each
** holding fewer than QUERY_RANGE_CAP entries in all: the union of those
** ranges holds every match.  Returns how many terms it picked (0: none). */
static size_t
union_terms(const ql_query *q, const plan_facts *f, const term **alts)
{
	size_t total = 0, nb = q->where && q->where->kind == QL_OR ? q->where->u.list.n : 0;
	for (size_t b = 0; b < nb; b++) {
		const term *pick = NULL;
		for (size_t i = 0; i < f->nor; i++)
			if (f->or_terms[i].branch == b && (!pick || f->or_terms[i].count < pick->count))
				pick = &f->or_terms[i];
		if (!pick || (total += pick->count) >= QUERY_RANGE_CAP) return 0;
		alts[b] = pick;
	}
	return beats_scope(f, total) ? nb : 0;
}

/* A term of the where on the first order key that may bound its scan: only
** where every entity has one value there (else an entity could match with
** one element and sort by another); a prefix is not used (a cursor
** restarts the scan at a value). */
static void
order_bound(const ql_query *q, const plan_facts *f, plan *p)
{
	const term *bound = NULL;
	for (size_t i = 0; i < f->nand; i++) {
		const term *tm = &f->and_terms[i];
		if (strcmp(tm->r.path, q->order[0].prop) == 0 && tm->r.tag != STORE_IX_WORD &&
		    tm->r.tag != STORE_IX_GEO && !tm->r.prefix)
			bound = tm;
	}
	if (bound && !(f->order_flags & STORE_IXF_MULTI)) p->drive[p->ndrive++] = bound;
	p->desc = q->order[0].desc;
}

static void
use(plan *p, plan_kind kind, int cursor, unsigned accepts)
{
	p->kind = kind;
	p->cursor = cursor;
	p->accepts = accepts | (cursor ? 1u << cursor : 0);
}

#define BIT(k) (1u << (k))
#define KEYSET (BIT(QUERY_CURSOR_SORTKEY) | BIT(QUERY_CURSOR_SORTREF))

/* `order by` or `within`: through the key's index, or sorted in memory
** (candidates from the smallest range that can be read whole). */
static void
plan_sorted(const ql_query *q, const plan_facts *f, int kind, int small, plan *p)
{
	const term *best = best_term(f->and_terms, f->nand, 0);
	int by_index = !p->within && order_indexable(q, f);
	if (by_index && q->norder == 1 && (kind ? kind == QUERY_CURSOR_ORDER : !small)) {
		use(p, PLAN_ORDER, QUERY_CURSOR_ORDER, 0);
		order_bound(q, f, p);
		return;
	}
	if (by_index && q->norder >= 2 && (kind ? kind == QUERY_CURSOR_SORTKEY || kind == QUERY_CURSOR_SORTREF : !small)) {
		use(p, PLAN_GROUPS, QUERY_CURSOR_SORTKEY, KEYSET);
		order_bound(q, f, p);
		return;
	}
	use(p, PLAN_SORT, QUERY_CURSOR_SORTKEY, KEYSET);
	if (plan_counts_band(q, f))
		for (size_t i = 0; i < f->nand; i++)
			if (f->and_terms[i].r.tag == STORE_IX_GEO && !f->and_terms[i].capped)
				best = &f->and_terms[i];
	/* a range is a candidate source only when it was counted whole */
	if (best && (whole(best) || (best->r.tag == STORE_IX_GEO && !best->capped)) &&
	    beats_scope(f, best->count))
		p->drive[p->ndrive++] = best;
}

/* An equality plan reads at most its term's entries, a range plan all of
** its own: a smaller range that can be read whole reads less. */
static int
range_reads_less(const term *range, const term *eqt)
{
	return range && !range->eq && whole(range) && range->count < eqt->count;
}

void
query_plan(const ql_query *q, const plan_facts *f, int kind, size_t limit, plan *p)
{
	const term *best = best_term(f->and_terms, f->nand, 0), *eqt = best_term(f->and_terms, f->nand, 1);
	/* The plan follows from the query and the counts; a cursor says which
	** plan the first page used, and paging stays with it (or with a plan
	** that reads the same cursor) even when the counts have moved since. */
	int small = best && whole(best) && best->count < 4 * limit;
	int by_time = !kind || kind == QUERY_CURSOR_TIME;

	memset(p, 0, sizeof *p);
	p->within = find_within(q->where);
	p->scoped = f->scoped;
	p->scope_size = f->scope_size;
	if (limit == 0) {
		use(p, PLAN_EMPTY, 0, ~0u);
	} else if (q->ndirect) {
		use(p, PLAN_DIRECT, 0, ~0u);
	} else if (q->norder || p->within) {
		plan_sorted(q, f, kind, small, p);
	} else if (f->indexed && ((kind == QUERY_CURSOR_INDEX && eqt) ||
	                          (!kind && eqt && !range_reads_less(best, eqt)))) {
		use(p, PLAN_EQ, QUERY_CURSOR_INDEX, 0);
		p->drive[p->ndrive++] = eqt;
	} else if (by_time && best && whole(best) && beats_scope(f, best->count)) {
		use(p, PLAN_RANGE, QUERY_CURSOR_TIME, 0);
		p->drive[p->ndrive++] = best;
	} else if (by_time && (p->ndrive = union_terms(q, f, p->drive))) {
		use(p, PLAN_RANGE, QUERY_CURSOR_TIME, 0);
	} else {
		use(p, PLAN_SCAN, QUERY_CURSOR_EDGE, BIT(QUERY_CURSOR_TIME));
	}
	if ((p->kind == PLAN_SCAN || p->kind == PLAN_SORT) && !p->ndrive) p->unindexed = f->unindexed;
}

/* ---- explain -------------------------------------------------------------------- */

static void
describe_term(char *out, size_t cap, const char *how, const term *tm)
{
	snprintf(out, cap, "%s: index of %.60s (%s, %zu%s entries)", how, tm->r.path, tm->what,
	         tm->count, tm->capped ? "+" : "");
}

void
plan_describe(const plan *p, const ql_query *q, char *out, size_t cap)
{
	const term *tm = p->ndrive ? p->drive[0] : NULL;
	const char *dir = p->desc ? "descending" : "ascending";
	size_t total = 0;
	switch (p->kind) {
	case PLAN_EMPTY:  snprintf(out, cap, "%s", ""); break;
	case PLAN_DIRECT: snprintf(out, cap, "direct lookup of the named entities"); break;
	case PLAN_EQ:     describe_term(out, cap, "equality", tm); break;
	case PLAN_SCAN:
		snprintf(out, cap, "scan: the collection's edges newest first, each entity checked");
		break;
	case PLAN_SORT:
		if (tm) describe_term(out, cap, "sort in memory, candidates from", tm);
		else snprintf(out, cap, "sort in memory, candidates: every edge");
		break;
	case PLAN_RANGE:
		if (p->ndrive == 1) {
			describe_term(out, cap, "range", tm);
			break;
		}
		for (size_t k = 0; k < p->ndrive; k++) total += p->drive[k]->count;
		snprintf(out, cap, "union: index ranges of %zu terms (%zu entries)", p->ndrive, total);
		break;
	case PLAN_ORDER:
		snprintf(out, cap, "order: index of %.60s %s%s", q->order[0].prop, dir,
		         tm ? " within the where's range" : ", then entities without it");
		break;
	case PLAN_GROUPS:
		snprintf(out, cap,
		         "order: index of %.60s %s, equal values sorted in memory by the other keys%s",
		         q->order[0].prop, dir,
		         tm ? ", within the where's range" : ", then entities without it");
		break;
	}
	size_t n = strlen(out);
	if (p->scoped && p->ndrive && n < cap)
		snprintf(out + n, cap - n, ", each checked in the scope's %llu edges",
		         (unsigned long long)p->scope_size);
	if (p->unindexed && (n = strlen(out)) < cap)
		snprintf(out + n, cap - n, " (%.60s is not indexed: the collection's fields)", p->unindexed);
}
