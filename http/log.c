/*
** log.c: the access log, the slow-query log and request ids.
**
** Each is one JSON object per line on stderr, written with one call so
** lines from different workers never interleave.  The access log names a
** request by its method and route template (metrics.c), never by its path
** or query string: ids, names and query values (a token, a password) stay
** out of it.  A query that runs past --slow-query-ms gets a line of its own
** with its canonical ql and the plan that ran it.
*/
#include "http/http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The time now as ISO 8601 UTC with milliseconds. */
static void
iso_now(char buf[32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Writes o (taken) as one line. */
static void
log_line(json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
	if (text) {
		size_t n = strlen(text);
		text = xrealloc(text, n + 2);
		text[n] = '\n';
		text[n + 1] = '\0';
		fputs(text, stderr);
	}
	free(text);
	json_decref(o);
}

void
http_log_access(const http_req *r, const char *target, uint64_t bytes, uint64_t us)
{
	char now[32], *t = xstrdup(target);
	iso_now(now);
	utf8_repair(t);                       /* the JSON text must be UTF-8 */
	log_line(json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:f, s:s}", "time", now,
	                   "method", http_method_name(r->method),
	                   "route", http_route_name(r->route), "target", t,
	                   "status", (int)r->status, "bytes", (json_int_t)bytes,
	                   "duration_ms", (double)us / 1e3, "request_id", r->request_id));
	free(t);
}

/* 1 when a client's X-Request-Id can be echoed as it is: 1 to
** HTTP_MAX_REQUEST_ID letters, digits and . _ - : */
static int
request_id_ok(const char *v)
{
	size_t n = v ? strlen(v) : 0;
	if (n == 0 || n > HTTP_MAX_REQUEST_ID) return 0;
	return strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789._-:") == n;
}

void
http_request_id(http_req *r)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Request-Id");
	if (request_id_ok(v)) {
		memcpy(r->request_id, v, strlen(v) + 1);
	} else {
		store_id id;
		store_id_new(&id);        /* unique, without a system call */
		store_id_format(&id, r->request_id);
	}
}

query_rc
http_query(http_req *r, const query_scope *sc, const ql_query *q, size_t limit,
           const char *cursor, query_result *res)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	query_rc rc = query_run(r->txn, &r->app, sc, q, limit, cursor, res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unsigned slow = SETTING(r->srv->cfg.slow_query_ms);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	/* a read stopped to be redone on a slow reader logs when it is redone */
	if (!slow || ms < slow || (rc == QUERY_STOPPED && r->stop == STOP_SLOW)) return rc;
	char now[32], ql[1024];
	iso_now(now);
	ql_format(q, ql, sizeof ql);
	http_metrics_slow_query(r->srv->metrics);
	log_line(json_pack("{s:s, s:b, s:s, s:s, s:s, s:s, s:f, s:s, s:s}", "time", now,
	                   "slow_query", 1, "route", http_route_name(r->route),
	                   "collection", sc->name ? sc->name : "", "ql", ql,
	                   "plan", rc == QUERY_OK ? res->plan : "(stopped)", "duration_ms", ms,
	                   "result", query_strerror(rc), "request_id", r->request_id));
	return rc;
}
