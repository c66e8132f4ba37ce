/*
** counter.c: application counters (spec 8), as Usergrid keeps them.
**
** An event's `counters` ({"name": n, ...}) add n to each named counter, in
** the transaction that stores the event.  Names are lower-cased and dotted
** names roll up: `a.b.c` also counts in `a.b` and `a` (a roll-up named
** `system` is skipped, as in Usergrid).  Every counter keeps one bucket per
** resolution: the event's time rounded down to the resolution's interval
** (`all` has one bucket, at time 1).  The names given in events are listed
** by store_counter_names; store_counter_series reads a counter's buckets of
** one resolution between two times, padded with zeros when asked.
**
** Counts that come without an event are tallied first and written later,
** all at once: a request's (store_counter_tick, from any thread, in a
** small table of that thread's, with no transaction) and an entity
** create's or delete's (counter_txn_tick, kept with its transaction and
** merged into the parent when a nested one commits).  A top-level write
** commit writes both, in a nested transaction of its own (a count that
** fails to write never fails the commit), while it holds flush_mu; a read
** of a series takes flush_mu too and adds the tallies not yet written to
** what it reads in a fresh transaction, so every count is seen exactly
** once, at once.
*/
#include "core/mem.h"
#include "core/store_int.h"
#include "core/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define TICK_SLOTS 256   /* (app, name, minute) a thread tallies between writes */

/* Usergrid's CounterResolution, in its order: name and interval in minutes
** (a month is 30 days). */
static const struct { const char *name; int64_t minutes; } resolutions[] = {
	{ "all", 0 }, { "minute", 1 }, { "five_minutes", 5 }, { "half_hour", 30 },
	{ "hour", 60 }, { "six_hour", 360 }, { "half_day", 720 }, { "day", 1440 },
	{ "week", 10080 }, { "month", 43200 },
};
#define NRES ((int)(sizeof resolutions / sizeof resolutions[0]))


static int64_t
interval(int res)
{
	return resolutions[res].minutes * 60 * 1000;
}

static int64_t
round_down(int res, int64_t ts)
{
	return res == 0 ? 1 : ts / interval(res) * interval(res);
}

int
store_counter_resolution(const char *name, int *out)
{
	for (int i = 0; i < NRES; i++)
		if (strcasecmp(name, resolutions[i].name) == 0) {
			*out = i;
			return 1;
		}
	return 0;
}

int
store_counter_resolution_of_minutes(int64_t minutes)
{
	for (int i = NRES - 1; i > 0; i--)
		if (resolutions[i].minutes <= minutes) return i;
	return 0;
}

static store_rc
bump(store_txn *t, const store_app *app, const char *name, int res, int64_t bucket,
     int64_t by)
{
	keybuf k;
	uint64_t have = 0;
	store_rc rc;

	key_counter_value(&k, app, name, res, bucket);
	rc = kv_get_u64(t, DBI_COUNTERS, &k, &have);
	if (rc && rc != STORE_NOTFOUND) return rc;
	/* two's complement: by may be < 0 */
	return kv_put_u64(t, DBI_COUNTERS, &k, have + (uint64_t)by);
}

/* Adds by to name and to each of its roll-ups, in every resolution. */
static store_rc
count_one(store_txn *t, const store_app *app, const char *name, int64_t by, int64_t ts)
{
	char lc[STORE_COUNTER_NAME_MAX + 1];
	size_t n = strlen(name);
	keybuf k;
	store_rc rc;

	lc_copy(lc, name, n);
	lc[n] = '\0';
	key_counter_name(&k, app, lc, n);
	if ((rc = kv_put(t, DBI_COUNTERS, &k, "", 0))) return rc;
	for (size_t end = 0; end <= n; end++) {
		if (end < n && lc[end] != '.') continue;
		char save = lc[end];
		lc[end] = '\0';
		if (end > 0 && strcmp(lc, "system") != 0)
			for (int res = 0; res < NRES && rc == STORE_OK; res++)
				rc = bump(t, app, lc, res, round_down(res, ts), by);
		lc[end] = save;
		if (rc) return rc;
	}
	return STORE_OK;
}

store_rc
store_counters_event(store_txn *t, const store_app *app, json_t *event, store_err *err)
{
	const char *key = NULL, *name;
	json_t *ts = json_get_ci(event, "timestamp", &key), *counters, *v;
	int64_t when;
	store_rc rc;

	if (ts && (!json_is_integer(ts) || json_integer_value(ts) < 0))
		return store_fail(err, STORE_INVALID,
		                  "an event's timestamp is milliseconds since the epoch (0 = now)");
	when = ts ? (int64_t)json_integer_value(ts) : 0;
	if (when == 0) {
		when = store_now_ms();
		json_object_set_new(event, key ? key : "timestamp", json_integer((json_int_t)when));
	}
	counters = json_get_ci(event, "counters", NULL);
	if (!counters) return STORE_OK;
	if (!json_is_object(counters))
		return store_fail(err, STORE_INVALID,
		                  "an event's counters are an object of names and whole numbers");
	json_object_foreach(counters, name, v) {
		size_t n = strlen(name);
		if (!json_is_integer(v) || n == 0 || n > STORE_COUNTER_NAME_MAX ||
		    name[0] == '.' || name[n - 1] == '.' || strstr(name, ".."))
			return store_fail(err, STORE_INVALID,
			                  "counter '%.100s' needs a whole number and a name of 1 to %d "
			                  "bytes with no empty dotted part", name,
			                  STORE_COUNTER_NAME_MAX);
	}
	json_object_foreach(counters, name, v)
		if ((rc = count_one(t, app, name, (int64_t)json_integer_value(v), when))) return rc;
	return STORE_OK;
}

store_rc
store_counter_names(store_txn *t, const store_app *app, json_t **out)
{
	kv_scan sc;
	keybuf k;
	store_rc rc;

	*out = NULL;
	key_counter_names(&k, app);
	if ((rc = kv_scan_begin(&sc, t, DBI_COUNTERS, &k, NULL, 0))) return rc;
	*out = json_array();
	while (kv_scan_next(&sc))
		json_array_append_new(*out, json_stringn((const char *)sc.k.mv_data + k.n,
		                                         sc.k.mv_size - k.n));
	if ((rc = kv_scan_end(&sc, STORE_OK))) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static void
add_point(json_t *values, int64_t ts, int64_t value)
{
	json_array_append_new(values, json_pack("{s:I, s:I}", "timestamp", (json_int_t)ts,
	                                        "value", (json_int_t)value));
}

/* Reads lc's stored buckets of res in [start, finish] (rounded) into out. */
static store_rc
series_read(store_txn *t, const store_app *app, const char *lc, int res, int64_t start,
            int64_t finish, int pad, json_t *out)
{
	kv_scan sc;
	keybuf prefix, from;
	store_rc rc;

	key_counter_value(&prefix, app, lc, res, -1);
	key_counter_value(&from, app, lc, res, start);
	if ((rc = kv_scan_begin(&sc, t, DBI_COUNTERS, &prefix, &from, 0))) return rc;
	int64_t expect = start;
	while (kv_scan_next(&sc)) {
		if (sc.k.mv_size != prefix.n + 8 || sc.v.mv_size != 8) break;
		int64_t ts = (int64_t)key_get_u64((const unsigned char *)sc.k.mv_data + prefix.n);
		if (ts > finish) break;
		for (; pad && expect < ts; expect += interval(res)) add_point(out, expect, 0);
		if (pad) expect = ts + interval(res);
		add_point(out, ts, (int64_t)key_get_u64(sc.v.mv_data));
	}
	if ((rc = kv_scan_end(&sc, STORE_OK))) return rc;
	for (; pad && expect <= finish; expect += interval(res)) add_point(out, expect, 0);
	return STORE_OK;
}

/* ---- tallies: counts written by the next write commit ------------------- */

struct tick_table {
	pthread_mutex_t mu;
	size_t n;
	counter_tick t[TICK_SLOTS];
	struct tick_table *next;
};

static _Atomic uint64_t store_serials;
static _Thread_local struct { uint64_t serial; struct tick_table *tab; } mine;

void
counter_ticks_init(store *s)
{
	s->serial = atomic_fetch_add(&store_serials, 1) + 1;
	pthread_mutex_init(&s->tick_mu, NULL);
	pthread_mutex_init(&s->flush_mu, NULL);
}

void
counter_ticks_destroy(store *s)
{
	for (struct tick_table *tab = s->ticks, *next; tab; tab = next) {
		next = tab->next;
		pthread_mutex_destroy(&tab->mu);
		free(tab);
	}
	pthread_mutex_destroy(&s->tick_mu);
	pthread_mutex_destroy(&s->flush_mu);
}

/* Adds by to the list's entry for (app, lc(name), the minute of now),
** making one when there is room: 0 when there is none. */
static int
tally(counter_tick *list, size_t *n, size_t cap, const store_id *app, const char *name,
      int64_t minute, int64_t by)
{
	char lc[STORE_COUNTER_NAME_MAX + 1];
	size_t len = strlen(name);
	if (len > STORE_COUNTER_NAME_MAX) return 1;     /* not a counter: never counted */
	lc_copy(lc, name, len);
	lc[len] = '\0';
	for (size_t i = 0; i < *n; i++)
		if (list[i].minute == minute && memcmp(list[i].app.b, app->b, 16) == 0 &&
		    strcmp(list[i].name, lc) == 0) {
			list[i].by += by;
			return 1;
		}
	if (*n == cap) return 0;
	list[*n].app = *app;
	list[*n].minute = minute;
	list[*n].by = by;
	memcpy(list[*n].name, lc, len + 1);
	(*n)++;
	return 1;
}

static int64_t
this_minute(void)
{
	return store_now_ms() / 60000 * 60000;
}

void
store_counter_tick(store *s, const store_app *app, const char *name, int64_t by)
{
	if (mine.serial != s->serial) {      /* this thread's first tick here */
		struct tick_table *tab = xcalloc(1, sizeof *tab);
		pthread_mutex_init(&tab->mu, NULL);
		pthread_mutex_lock(&s->tick_mu);
		tab->next = s->ticks;
		s->ticks = tab;
		pthread_mutex_unlock(&s->tick_mu);
		mine.serial = s->serial;
		mine.tab = tab;
	}
	pthread_mutex_lock(&mine.tab->mu);
	(void)tally(mine.tab->t, &mine.tab->n, TICK_SLOTS, &app->uuid, name, this_minute(), by);
	pthread_mutex_unlock(&mine.tab->mu);
	atomic_store_explicit(&s->ticks_pending, 1, memory_order_relaxed);
}

int
store_counter_pending(store *s)
{
	return atomic_load_explicit(&s->ticks_pending, memory_order_relaxed);
}

/* Room for one more count in t's list. */
static void
txn_room(store_txn *t, size_t more)
{
	if (t->nticks + more <= t->cap_ticks) return;
	t->cap_ticks = (t->nticks + more) * 2;
	t->ticks = xrealloc(t->ticks, t->cap_ticks * sizeof *t->ticks);
}

void
counter_txn_tick(store_txn *t, const store_app *app, const char *name, int64_t by)
{
	txn_room(t, 1);
	(void)tally(t->ticks, &t->nticks, t->cap_ticks, &app->uuid, name, this_minute(), by);
}

void
counter_txn_merge(store_txn *parent, store_txn *child)
{
	txn_room(parent, child->nticks);
	for (size_t i = 0; i < child->nticks; i++) {
		const counter_tick *k = &child->ticks[i];
		(void)tally(parent->ticks, &parent->nticks, parent->cap_ticks, &k->app, k->name,
		            k->minute, k->by);
	}
}

static store_rc
write_ticks(store_txn *t, const counter_tick *list, size_t n)
{
	store_rc rc = STORE_OK;
	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		store_app app = { .uuid = list[i].app };
		rc = count_one(t, &app, list[i].name, list[i].by, list[i].minute);
	}
	return rc;
}

store_rc
counter_txn_commit(store_txn *t)
{
	store *s = t->s;
	store_txn *c = NULL;
	store_rc rc;

	if (!t->nticks && !atomic_exchange(&s->ticks_pending, 0)) return STORE_OK;
	if ((rc = store_txn_begin_child(t, &c))) return rc;
	rc = write_ticks(c, t->ticks, t->nticks);
	pthread_mutex_lock(&s->tick_mu);
	for (struct tick_table *tab = s->ticks; tab; tab = tab->next) {
		pthread_mutex_lock(&tab->mu);
		if (rc == STORE_OK) rc = write_ticks(c, tab->t, tab->n);
		tab->n = 0;                   /* written, or lost with the write */
		pthread_mutex_unlock(&tab->mu);
	}
	pthread_mutex_unlock(&s->tick_mu);
	t->nticks = 0;
	if (rc == STORE_OK) return store_txn_commit(c);
	store_txn_abort(c);
	return rc;
}

/* Adds the tallies not yet written that count in lc (itself or a name it
** rolls up) to out's buckets of res in [start, finish]. */
static void
add_pending(store *s, const store_app *app, const char *lc, int res, int64_t start,
            int64_t finish, json_t *out)
{
	size_t n = strlen(lc);
	if (strcmp(lc, "system") == 0) return;
	pthread_mutex_lock(&s->tick_mu);
	for (struct tick_table *tab = s->ticks; tab; tab = tab->next) {
		pthread_mutex_lock(&tab->mu);
		for (size_t i = 0; i < tab->n; i++) {
			const counter_tick *k = &tab->t[i];
			int64_t at = round_down(res, k->minute);
			if (memcmp(k->app.b, app->uuid.b, 16) != 0 || strncmp(k->name, lc, n) != 0 ||
			    (k->name[n] != '\0' && k->name[n] != '.') || at < start || at > finish)
				continue;
			size_t j;
			json_t *p;
			json_array_foreach(out, j, p) {
				json_int_t ts = json_integer_value(json_object_get(p, "timestamp"));
				if (ts < at) continue;
				if (ts == at) {
					json_t *v = json_object_get(p, "value");
					json_integer_set(v, json_integer_value(v) + k->by);
				} else {
					json_array_insert_new(out, j, json_pack("{s:I, s:I}", "timestamp",
					                      (json_int_t)at, "value", (json_int_t)k->by));
				}
				break;
			}
			if (j == json_array_size(out)) add_point(out, at, k->by);
		}
		pthread_mutex_unlock(&tab->mu);
	}
	pthread_mutex_unlock(&s->tick_mu);
}

store_rc
store_counter_series(store_txn *t, const store_app *app, const char *name, int res,
                     int64_t start, int64_t finish, int pad, json_t **out)
{
	char lc[STORE_COUNTER_NAME_MAX + 1];
	size_t n = strlen(name);
	store_txn *now = NULL;
	store_rc rc;

	*out = json_array();
	if (n == 0 || n > STORE_COUNTER_NAME_MAX) return STORE_OK;   /* never counted */
	lc_copy(lc, name, n);
	lc[n] = '\0';
	/* Usergrid's getAggregateCounters(Query): the range, rounded, and at
	** most 1000 padded buckets */
	if (start < 0) start = 0;
	if (finish <= 0 || finish < start) finish = store_now_ms();
	start = round_down(res, start);
	finish = round_down(res, finish);
	pad = pad && res != 0;
	if (pad && (finish - start) / interval(res) > 1000)
		finish = round_down(res, start + interval(res) * 1000);
	/* what is written as of now, and what is not yet */
	pthread_mutex_lock(&t->s->flush_mu);
	if ((rc = store_txn_begin(t->s, STORE_TXN_READ, &now)) == STORE_OK)
		rc = series_read(now, app, lc, res, start, finish, pad, *out);
	if (rc == STORE_OK) add_pending(t->s, app, lc, res, start, finish, *out);
	pthread_mutex_unlock(&t->s->flush_mu);
	store_txn_abort(now);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- the events queue's consumers ----------------------------------------- */

static int
consumer_key(keybuf *k, const store_app *app, const char *name)
{
	size_t n = strlen(name);
	char lc[STORE_NAME_MAX + 1];
	if (n == 0 || n > STORE_NAME_MAX) return 0;
	lc_copy(lc, name, n);
	key_counter_consumer(k, app, lc, n);
	return 1;
}

store_rc
store_consumer_get(store_txn *t, const store_app *app, const char *name, store_pos *out)
{
	keybuf k;
	void *v;
	size_t n;
	store_rc rc;

	out->set = 0;
	if (!consumer_key(&k, app, name)) return STORE_INVALID;
	if ((rc = kv_get(t, DBI_COUNTERS, &k, &v, &n)) == STORE_NOTFOUND) return STORE_OK;
	if (rc) return rc;
	if (n != STORE_POS_SIZE) return STORE_CORRUPT;
	memcpy(out->b, v, STORE_POS_SIZE);
	out->set = 1;
	return STORE_OK;
}

store_rc
store_consumer_set(store_txn *t, const store_app *app, const char *name, const store_pos *pos)
{
	keybuf k;
	if (!consumer_key(&k, app, name)) return STORE_INVALID;
	return kv_put(t, DBI_COUNTERS, &k, pos->b, STORE_POS_SIZE);
}

/* ---- export and import (export.c) ---------------------------------------- */

json_t *
counter_record(const void *key, size_t kn, const void *val, size_t vn)
{
	const char *k = key, *name = k + 17, *z;
	if (kn < 18) return NULL;
	if (k[16] == KEY_COUNTER_NAME)
		return json_pack("{s:s, s:s%}", "record", "counter", "name", name, kn - 17);
	if (k[16] == KEY_COUNTER_CONSUMER) {
		char hex[2 * STORE_POS_SIZE + 1];
		if (vn != STORE_POS_SIZE) return NULL;
		for (size_t i = 0; i < STORE_POS_SIZE; i++)
			snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)val)[i]);
		return json_pack("{s:s, s:s%, s:s}", "record", "counter", "consumer", name, kn - 17,
		                 "position", hex);
	}
	z = memchr(name, '\0', kn - 17);
	if (k[16] != KEY_COUNTER_VALUE || !z || (size_t)(z + 1 - k) + 9 != kn || vn != 8 ||
	    (unsigned char)z[1] >= NRES)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:I, s:I}", "record", "counter", "name", name,
	                 "resolution", resolutions[(unsigned char)z[1]].name,
	                 "time", (json_int_t)key_get_u64((const unsigned char *)z + 2),
	                 "value", (json_int_t)key_get_u64(val));
}

/* {"record":"counter","consumer":C,"position":hex}: where C reads the
** events queue. */
static store_rc
consumer_import(store_txn *t, const store_app *app, json_t *rec, int *changed)
{
	const char *name = json_string_value(json_object_get(rec, "consumer"));
	const char *hex = json_string_value(json_object_get(rec, "position"));
	store_pos pos = { .set = 1 }, have;
	store_rc rc;

	if (!name || !hex || strlen(hex) != 2 * STORE_POS_SIZE) return STORE_INVALID;
	for (size_t i = 0; i < STORE_POS_SIZE; i++) {
		int hi = text_hexval(hex[2 * i]), lo = text_hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) return STORE_INVALID;
		pos.b[i] = (unsigned char)(hi << 4 | lo);
	}
	if ((rc = store_consumer_get(t, app, name, &have))) return rc;
	if (have.set && memcmp(have.b, pos.b, STORE_POS_SIZE) == 0) return STORE_OK;
	*changed = 1;
	return store_consumer_set(t, app, name, &pos);
}

store_rc
counter_import(store_txn *t, const store_app *app, json_t *rec, int *changed)
{
	const char *name = json_string_value(json_object_get(rec, "name"));
	const char *res_name = json_string_value(json_object_get(rec, "resolution"));
	json_t *time = json_object_get(rec, "time"), *value = json_object_get(rec, "value");
	size_t n = name ? strlen(name) : 0;
	keybuf k;
	int res;

	*changed = 0;
	if (json_object_get(rec, "consumer")) return consumer_import(t, app, rec, changed);
	if (n == 0 || n > STORE_COUNTER_NAME_MAX) return STORE_INVALID;
	if (!res_name) {                              /* a name events gave */
		key_counter_name(&k, app, name, n);
		store_rc rc = kv_get(t, DBI_COUNTERS, &k, NULL, NULL);
		*changed = rc == STORE_NOTFOUND;
		return *changed ? kv_put(t, DBI_COUNTERS, &k, "", 0) : rc;
	}
	if (!store_counter_resolution(res_name, &res) || !json_is_integer(time) ||
	    json_integer_value(time) < 0 || !json_is_integer(value))
		return STORE_INVALID;
	uint64_t want = (uint64_t)json_integer_value(value), have;
	key_counter_value(&k, app, name, res, json_integer_value(time));
	store_rc rc = kv_get_u64(t, DBI_COUNTERS, &k, &have);
	if (rc == STORE_OK && have == want) return STORE_OK;
	if (rc != STORE_OK && rc != STORE_NOTFOUND && rc != STORE_CORRUPT) return rc;
	*changed = 1;
	return kv_put_u64(t, DBI_COUNTERS, &k, want);
}
