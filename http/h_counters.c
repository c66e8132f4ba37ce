/*
** h_counters.c: GET /counters and GET /events (spec 8).  Without a `counter`
** parameter the reply's `data` lists the counters' names; with one or more
** it answers as Usergrid's getAggregateCounters: `counters: [{name,
** values: [{timestamp, value}]}]`, sorted by name, for `resolution`
** (default all), `start_time` and `end_time` (ms) and `pad`.  The counting
** itself happens in core, in the transaction that stores an event
** (store_counters_event), or tallied (store_counter_tick).
**
** GET /events reads the events as Usergrid's EventsResource does: a queue,
** oldest first, `limit` (default 1) at a time from the start, or after the
** event `last`, or after where `consumer` read to; a consumer's read moves
** its position past what it returns (acknowledged), unless update=false.
*/
#include "http/http_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
	int     res;
	int64_t start, finish;
	int     pad;
} series_query;

/* Reads resolution, start_time, end_time and pad.  Returns 0 after
** replying to a malformed one. */
static int
query_or_reply(http_req *r, series_query *q)
{
	const char *res = http_param_get(r, "resolution"), *pad = http_param_get(r, "pad");
	static const char *const times[] = { "start_time", "end_time" };
	int64_t *dst[] = { &q->start, &q->finish };
	uint64_t n;

	q->res = 0;
	q->start = q->finish = 0;
	q->pad = 0;
	if (res && *res && !store_counter_resolution(res, &q->res)) {
		if (!http_parse_uint(res, 1000000000, &n)) {
			http_error(r, 400, "illegal_argument",
			           "resolution must be all, minute, five_minutes, half_hour, hour, "
			           "six_hour, half_day, day, week, month or a number of minutes");
			return 0;
		}
		q->res = store_counter_resolution_of_minutes((int64_t)n);
	}
	for (size_t i = 0; i < 2; i++) {
		const char *v = http_param_get(r, times[i]);
		if (!v || !*v) continue;
		if (!http_parse_uint(v, INT64_MAX, &n)) {
			http_error(r, 400, "illegal_argument",
			           "%s must be milliseconds since the epoch, not '%.*s'", times[i],
			           HTTP_MAX_ECHO, v);
			return 0;
		}
		*dst[i] = (int64_t)n;
	}
	if (pad && *pad) {
		if (strcasecmp(pad, "true") != 0 && strcasecmp(pad, "false") != 0) {
			http_error(r, 400, "illegal_argument", "pad must be true or false");
			return 0;
		}
		q->pad = strcasecmp(pad, "true") == 0;
	}
	return 1;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
reply_series(http_req *r, const series_query *q, json_t *env)
{
	const char *names[HTTP_MAX_PARAMS];
	size_t n = 0;
	json_t *list = json_array();
	store_rc rc = STORE_OK;

	for (size_t i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].name, "counter") == 0 && r->params[i].value[0]) {
			char *lc = arena_strndup(r->a, r->params[i].value, strlen(r->params[i].value));
			for (char *p = lc; *p; p++)
				if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
			names[n++] = lc;
		}
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		json_t *values = NULL;
		if (i > 0 && strcmp(names[i - 1], names[i]) == 0) continue;
		rc = store_counter_series(r->txn, &r->app, names[i], q->res, q->start, q->finish,
		                          q->pad, &values);
		if (rc == STORE_OK)
			json_array_append_new(list, json_pack("{s:s, s:o}", "name", names[i],
			                                      "values", values));
	}
	json_object_set_new(env, "counters", list);
	json_object_set_new(env, "count", json_integer(0));
	http_reply_rc(r, env, rc);
}

void
h_counters(http_req *r)
{
	series_query q;
	json_t *env, *names = NULL;

	if (r->method != M_GET && r->method != M_HEAD) {
		http_not_allowed(r, "GET",
		                 "counters are counted by POST /events; /counters is read-only");
		return;
	}
	if (!query_or_reply(r, &q)) return;
	env = http_envelope(r, "/counters");
	if (http_param_get(r, "counter")) {
		reply_series(r, &q, env);
		return;
	}
	store_rc rc = store_counter_names(r->txn, &r->app, &names);
	if (rc == STORE_OK) json_object_set_new(env, "data", names);
	http_reply_rc(r, env, rc);
}

/* A GET of the events queue by a consumer moves its position: a write
** (the dispatcher sends it to the writer, router.c).  HEAD moves nothing. */
int
http_events_moves(const http_req *r)
{
	const char *consumer = http_param_get(r, "consumer"), *update = http_param_get(r, "update");
	return r->method == M_GET && consumer && *consumer &&
	       !(update && strcasecmp(update, "false") == 0);
}

void
h_events_queue(http_req *r)
{
	const char *last = http_param_get(r, "last"), *consumer = http_param_get(r, "consumer");
	size_t limit = r->limit ? r->limit : 1, n = 0;
	store_pos pos = { .set = 0 };
	store_rc rc = STORE_OK;
	store_id id;

	if (consumer && !*consumer) consumer = NULL;
	if (consumer && strlen(consumer) > STORE_NAME_MAX) {
		http_error(r, 400, "illegal_argument", "a consumer's name has 1 to %d bytes",
		           STORE_NAME_MAX);
		return;
	}
	if (last && *last) {
		if (!store_id_parse((store_slice){ last, strlen(last) }, &id) ||
		    (rc = store_edge_pos(r->txn, &r->app, &r->app.uuid, STORE_EDGE_COLLECTION,
		                         "events", &id, &pos)) == STORE_NOTFOUND) {
			http_error(r, 400, "illegal_argument", "last names no event of the queue: '%.*s'",
			           HTTP_MAX_ECHO, last);
			return;
		}
	} else if (consumer) {
		rc = store_consumer_get(r->txn, &r->app, consumer, &pos);
	}
	store_id *ids = arena_alloc(r->a, limit * sizeof *ids);
	store_pos *poss = arena_alloc(r->a, limit * sizeof *poss);
	if (rc == STORE_OK)
		rc = store_edge_scan_dir(r->txn, &r->app, &r->app.uuid, STORE_EDGE_COLLECTION,
		                         "events", 1, &pos, limit, ids, poss, &n);
	json_t *env = http_envelope(r, "/events");
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		json_t *e = NULL;
		if ((rc = store_entity_get(r->txn, &r->app, &ids[i], &e)) == STORE_NOTFOUND) {
			rc = STORE_OK;
			continue;
		}
		if (rc == STORE_OK) http_add_entity(r, env, e, "/events");
		json_decref(e);
	}
	if (rc == STORE_OK && n) {
		char uuid[37];
		store_id_format(&ids[n - 1], uuid);
		json_object_set_new(env, "last", json_string(uuid));
		pos = poss[n - 1];
	}
	/* read, so acknowledged: the consumer goes on after it next time */
	if (rc == STORE_OK && consumer && pos.set && http_events_moves(r))
		rc = store_consumer_set(r->txn, &r->app, consumer, &pos);
	if (consumer) json_object_set_new(env, "consumer", json_string(consumer));
	json_object_set(env, "messages", json_object_get(env, "entities"));
	http_reply_rc(r, env, rc);
}
