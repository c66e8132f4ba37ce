/*
** metrics.c: what the server counts, and GET /status and GET /metrics.
**
** Counting is on the path of every request, so it takes no lock: each
** counter is a plain uint64_t that relaxed atomic adds bump, in fixed
** tables indexed by route template, method and status (no allocation, no
** lookup by name).  Reading them for /metrics is a relaxed load of each:
** a scrape may see one request's count before its latency, never a torn
** value.  The store's own figures (map use, pages, readers) come from
** core (store_stats_get) when asked for, never on the request path.
**
** The exposition is Prometheus' text format 0.0.4: a # HELP and # TYPE
** line per family, then one sample per line; histograms as cumulative
** _bucket{le=...} samples with _sum and _count.
*/
#include "http/http_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const route_names[ROUTE_COUNT] = {
	[ROUTE_UNMATCHED]  = "unmatched",
	[ROUTE_ROOT]       = "/",
	[ROUTE_STATUS]     = "/status",
	[ROUTE_METRICS]    = "/metrics",
	[ROUTE_MGMT_TOKEN] = "/management/token",
	[ROUTE_MGMT_ME]    = "/management/me",
	[ROUTE_ORG_CREDENTIALS] = "/management/orgs/{org}/credentials",
	[ROUTE_ORG_ADMINS] = "/management/orgs/{org}/users",
	[ROUTE_ORG_ADMIN]  = "/management/orgs/{org}/users/{user}",
	[ROUTE_ADMIN]      = "/management/users/{user}",
	[ROUTE_ADMIN_PASSWORD] = "/management/users/{user}/password",
	[ROUTE_APP_TOKEN]  = "/{org}/{app}/token",
	[ROUTE_APP_CREDENTIALS] = "/{org}/{app}/credentials",
	[ROUTE_AUTH_EXPLAIN] = "/{org}/{app}/auth/explain",
	[ROUTE_USER_ACTION] = "/{org}/{app}/users/{user}/{action}",
	[ROUTE_ORGS]       = "/management/orgs",
	[ROUTE_ORG]        = "/management/orgs/{org}",
	[ROUTE_APPS]       = "/management/orgs/{org}/apps",
	[ROUTE_MGMT_APP]   = "/management/orgs/{org}/apps/{app}",
	[ROUTE_BACKUP]     = "/management/backup",
	[ROUTE_APP]        = "/{org}/{app}",
	[ROUTE_COUNTERS]   = "/{org}/{app}/counters",
	[ROUTE_SETTINGS]   = "/{org}/{app}/{collection}/_settings",
	[ROUTE_COLLECTION] = "/{org}/{app}/{collection}",
	[ROUTE_ENTITY]     = "/{org}/{app}/{collection}/{entity}",
	[ROUTE_RELATION]   = "/{org}/{app}/{collection}/{entity}/{relation}",
	[ROUTE_RELATED]    = "/{org}/{app}/{collection}/{entity}/{relation}/{entity}",
	[ROUTE_DICTIONARY] = "/{org}/{app}/{collection}/{entity}/{dictionary}",
	[ROUTE_MATRIX]     = "/{org}/{app}/{collection};{matrix}/...",
	[ROUTE_IMPORT]     = "/{org}/{app}/_import",
};

static const char *const method_names[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "OTHER"
};
#define NMETHODS (sizeof method_names / sizeof *method_names)

/* The statuses the server answers; anything else counts as its class. */
static const unsigned statuses[] = {
	200, 201, 204, 206, 304, 400, 401, 403, 404, 405, 409, 413, 414, 416,
	429, 500, 503, 507
};
#define NSTATUS (sizeof statuses / sizeof *statuses)
#define NSTATUS_ALL (NSTATUS + 5)     /* + 1xx..5xx */

/* Request latency bucket bounds, microseconds. */
static const uint64_t lat_le[] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
	2500000, 5000000, 10000000
};
#define NLAT (sizeof lat_le / sizeof *lat_le)
/* Commit batch sizes (requests) and sync times (microseconds). */
static const uint64_t batch_le[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256 };
#define NBATCH (sizeof batch_le / sizeof *batch_le)
static const uint64_t sync_le[] = {
	100, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000
};
#define NSYNC (sizeof sync_le / sizeof *sync_le)

/* The error codes of refusals: the server turning work away. */
static const char *const refusals[] = {
	"request_entity_too_large", "query_timeout", "service_unavailable",
	"storage_full", "too_many_requests", "other"
};
#define NREFUSE (sizeof refusals / sizeof *refusals)

typedef struct {
	uint64_t bucket[16];          /* per bound, not cumulative; last = +Inf */
	uint64_t sum, count;
} histogram;

struct http_metrics {
	uint64_t  requests[ROUTE_COUNT][NMETHODS][NSTATUS_ALL];
	histogram latency[ROUTE_COUNT];
	uint64_t  bytes_out;
	histogram batch_size, batch_sync;
	uint64_t  batch_failed, batch_nested;
	uint64_t  refused[NREFUSE];
	uint64_t  slow_queries;
};

#define BUMP(x, n) __atomic_fetch_add(&(x), (uint64_t)(n), __ATOMIC_RELAXED)
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

http_metrics *
http_metrics_create(void)
{
	return xcalloc(1, sizeof(http_metrics));
}

void
http_metrics_destroy(http_metrics *m)
{
	free(m);
}

const char *
http_route_name(int route)
{
	return route_names[route >= 0 && route < ROUTE_COUNT ? route : ROUTE_UNMATCHED];
}

static void
observe(histogram *h, const uint64_t *le, size_t n, uint64_t v)
{
	size_t i = 0;
	while (i < n && v > le[i]) i++;
	BUMP(h->bucket[i], 1);
	BUMP(h->sum, v);
	BUMP(h->count, 1);
}

static size_t
method_index(int m)
{
	switch (m) {
	case M_GET: return 0;
	case M_HEAD: return 1;
	case M_POST: return 2;
	case M_PUT: return 3;
	case M_DELETE: return 4;
	case M_OPTIONS: return 5;
	default: return 6;
	}
}

const char *
http_method_name(int m)
{
	return method_names[method_index(m)];
}

static size_t
status_index(unsigned status)
{
	for (size_t i = 0; i < NSTATUS; i++)
		if (statuses[i] == status) return i;
	return NSTATUS + (status >= 100 && status < 600 ? status / 100 - 1 : 4);
}

void
http_metrics_request(http_metrics *m, const http_req *r, uint64_t bytes, uint64_t us)
{
	int route = r->route >= 0 && r->route < ROUTE_COUNT ? r->route : ROUTE_UNMATCHED;
	BUMP(m->requests[route][method_index(r->method)][status_index(r->status)], 1);
	observe(&m->latency[route], lat_le, NLAT, us);
	BUMP(m->bytes_out, bytes);
	if (r->status == 413 || r->status == 429 || r->status == 503 || r->status == 507) {
		const char *code = json_string_value(json_object_get(r->resp, "error"));
		size_t i = 0;
		while (i < NREFUSE - 1 && !(code && strcmp(code, refusals[i]) == 0)) i++;
		BUMP(m->refused[i], 1);
	}
}

void
http_metrics_batch(http_metrics *m, const store_batch_stats *st, int failed)
{
	observe(&m->batch_size, batch_le, NBATCH, st->units);
	observe(&m->batch_sync, sync_le, NSYNC, st->commit_us);
	if (st->nested) BUMP(m->batch_nested, 1);
	if (failed) BUMP(m->batch_failed, 1);
}

void
http_metrics_slow_query(http_metrics *m)
{
	BUMP(m->slow_queries, 1);
}

/* ---- the exposition ------------------------------------------------------- */

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram's samples; labels is "" or `name="value",`. scale turns
** the recorded unit into the exposed one (1e-6: microseconds to seconds). */
static void
histogram_samples(FILE *f, const char *name, const char *labels, histogram *h,
                  const uint64_t *le, size_t n, double scale)
{
	uint64_t cum = 0;
	for (size_t i = 0; i <= n; i++) {
		cum += LOAD(h->bucket[i]);
		if (i < n)
			fprintf(f, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, (double)le[i] * scale,
			        (unsigned long long)cum);
		else
			fprintf(f, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels,
			        (unsigned long long)cum);
	}
	size_t len = strlen(labels);
	fprintf(f, "%s_sum%s%.*s%s %.9g\n", name, len ? "{" : "", len ? (int)len - 1 : 0, labels,
	        len ? "}" : "", (double)LOAD(h->sum) * scale);
	fprintf(f, "%s_count%s%.*s%s %llu\n", name, len ? "{" : "", len ? (int)len - 1 : 0,
	        labels, len ? "}" : "", (unsigned long long)cum);
}

static void
status_label(char buf[24], size_t i)
{
	if (i < NSTATUS) snprintf(buf, 24, "%u", statuses[i]);
	else snprintf(buf, 24, "%zuxx", i - NSTATUS + 1);
}

static void
gauge(FILE *f, const char *name, const char *help, double v)
{
	family(f, name, "gauge", help);
	if (v == (double)(uint64_t)v) fprintf(f, "%s %.0f\n", name, v);
	else fprintf(f, "%s %.6f\n", name, v);
}

static unsigned
open_connections(http_server *srv)
{
	unsigned open = 0;
	for (unsigned i = 0; i < srv->nd; i++) {
		const union MHD_DaemonInfo *info =
			MHD_get_daemon_info(srv->d[i], MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (info) open += info->num_connections;
	}
	return open;
}

static double
uptime_s(const http_server *srv)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - srv->started.tv_sec) +
	       (double)(now.tv_nsec - srv->started.tv_nsec) / 1e9;
}

static void
store_families(FILE *f, http_server *srv)
{
	store_stats st;
	if (store_stats_get(srv->s, &st) != STORE_OK) return;
	gauge(f, "ugstore_store_map_size_bytes", "Address space reserved for the store.",
	      (double)st.map_size);
	gauge(f, "ugstore_store_map_used_bytes", "Bytes of the map up to the last page in use.",
	      (double)(st.pages_used * st.page_size));
	gauge(f, "ugstore_store_file_size_bytes", "Size of data.mdb on disk.",
	      (double)st.file_size);
	gauge(f, "ugstore_store_page_size_bytes", "Bytes per page.", (double)st.page_size);
	family(f, "ugstore_store_pages", "gauge", "Pages by kind, over every database.");
	fprintf(f, "ugstore_store_pages{kind=\"used\"} %llu\n",
	        (unsigned long long)st.pages_used);
	fprintf(f, "ugstore_store_pages{kind=\"branch\"} %llu\n",
	        (unsigned long long)st.pages_branch);
	fprintf(f, "ugstore_store_pages{kind=\"leaf\"} %llu\n", (unsigned long long)st.pages_leaf);
	fprintf(f, "ugstore_store_pages{kind=\"overflow\"} %llu\n",
	        (unsigned long long)st.pages_overflow);
	gauge(f, "ugstore_entity_cache_entries", "Parsed entities kept for readers.",
	      (double)st.entity_cache_entries);
	gauge(f, "ugstore_entity_cache_slots", "Parsed entities kept for readers at most.",
	      (double)st.entity_cache_slots);
	gauge(f, "ugstore_store_readers", "Live read transactions.", st.readers);
	gauge(f, "ugstore_store_readers_max", "Reader slots.", st.readers_max);
	gauge(f, "ugstore_store_last_txn", "Id of the last committed transaction.",
	      (double)st.last_txn);
	gauge(f, "ugstore_store_last_commit_timestamp_seconds",
	      "Time of the last write commit (0: none since start).",
	      (double)st.last_commit_ms / 1e3);
}

static void
request_families(FILE *f, http_metrics *m)
{
	char labels[160], st[24];
	family(f, "ugstore_http_requests_total", "counter",
	       "Requests answered, by route template, method and status.");
	for (int r = 0; r < ROUTE_COUNT; r++)
		for (size_t me = 0; me < NMETHODS; me++)
			for (size_t s = 0; s < NSTATUS_ALL; s++) {
				uint64_t n = LOAD(m->requests[r][me][s]);
				if (!n) continue;
				status_label(st, s);
				fprintf(f, "ugstore_http_requests_total{route=\"%s\",method=\"%s\","
				        "status=\"%s\"} %llu\n", route_names[r], method_names[me], st,
				        (unsigned long long)n);
			}
	family(f, "ugstore_http_request_duration_seconds", "histogram",
	       "Time from a request's arrival to its reply, by route template.");
	for (int r = 0; r < ROUTE_COUNT; r++) {
		if (!LOAD(m->latency[r].count)) continue;
		snprintf(labels, sizeof labels, "route=\"%s\",", route_names[r]);
		histogram_samples(f, "ugstore_http_request_duration_seconds", labels,
		                  &m->latency[r], lat_le, NLAT, 1e-6);
	}
	family(f, "ugstore_http_response_bytes_total", "counter", "Response body bytes sent.");
	fprintf(f, "ugstore_http_response_bytes_total %llu\n",
	        (unsigned long long)LOAD(m->bytes_out));
	family(f, "ugstore_http_refusals_total", "counter",
	       "Requests turned away (413, 429, 503, 507), by error code.");
	for (size_t i = 0; i < NREFUSE; i++)
		fprintf(f, "ugstore_http_refusals_total{reason=\"%s\"} %llu\n", refusals[i],
		        (unsigned long long)LOAD(m->refused[i]));
	family(f, "ugstore_slow_queries_total", "counter",
	       "Queries that ran past --slow-query-ms.");
	fprintf(f, "ugstore_slow_queries_total %llu\n", (unsigned long long)LOAD(m->slow_queries));
}

static void
commit_families(FILE *f, http_metrics *m)
{
	family(f, "ugstore_commit_batch_size", "histogram",
	       "Write requests per group commit (one synced transaction each).");
	histogram_samples(f, "ugstore_commit_batch_size", "", &m->batch_size, batch_le, NBATCH, 1);
	family(f, "ugstore_commit_sync_seconds", "histogram",
	       "Time a group commit's commit and sync took.");
	histogram_samples(f, "ugstore_commit_sync_seconds", "", &m->batch_sync, sync_le, NSYNC,
	                  1e-6);
	family(f, "ugstore_commit_batches_failed_total", "counter",
	       "Group commits whose commit failed.");
	fprintf(f, "ugstore_commit_batches_failed_total %llu\n",
	        (unsigned long long)LOAD(m->batch_failed));
	family(f, "ugstore_commit_batches_nested_total", "counter",
	       "Group commits run a second time, each request nested, because one "
	       "failed after it wrote.");
	fprintf(f, "ugstore_commit_batches_nested_total %llu\n",
	        (unsigned long long)LOAD(m->batch_nested));
}

/* GET /metrics: the exposition as text/plain. */
void
h_metrics(http_req *r)
{
	http_server *srv = r->srv;
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	if (!f) {
		http_error(r, 500, "internal_error", "cannot render the metrics");
		return;
	}
	family(f, "ugstore_build_info", "gauge", "The running version.");
	fprintf(f, "ugstore_build_info{version=\"%s\"} 1\n", UGSTORE_VERSION);
	gauge(f, "ugstore_uptime_seconds", "Seconds since the server started.", uptime_s(srv));
	gauge(f, "ugstore_http_open_connections", "Connections open now.", open_connections(srv));
	request_families(f, srv->metrics);
	commit_families(f, srv->metrics);
	store_families(f, srv);
	fclose(f);
	r->bin.data = text;
	r->bin.n = n;
	r->bin.type = "text/plain; version=0.0.4; charset=utf-8";
	r->status = 200;
}

/* GET /status: health, version, uptime, the store's size and map use,
** readers and last commit. */
void
h_status_full(http_req *r)
{
	store_stats st;
	store_rc rc = store_stats_get(r->srv->s, &st);
	if (rc) {
		http_store_error(r, rc, NULL, NULL);
		return;
	}
	uint64_t used = st.pages_used * st.page_size;
	json_t *env = json_pack(
		"{s:s, s:s, s:s, s:f, s:I, s:{s:I, s:I, s:I, s:f, s:I, s:i, s:i}, s:{s:I, s:I}}",
		"status", "ok", "server", "ugstore", "version", UGSTORE_VERSION,
		"uptime_seconds", (double)(int64_t)(uptime_s(r->srv) * 1e3) / 1e3,
		"open_connections", (json_int_t)open_connections(r->srv),
		"store", "map_size", (json_int_t)st.map_size, "map_used", (json_int_t)used,
		"file_size", (json_int_t)st.file_size,
		"map_use", st.map_size ? (double)used / (double)st.map_size : 0.0,
		"pages", (json_int_t)st.pages_used,
		"readers", (int)st.readers, "readers_max", (int)st.readers_max,
		"last_commit", "txn", (json_int_t)st.last_txn,
		"time", (json_int_t)st.last_commit_ms);
	json_object_set_new(env, "timestamp", json_integer(0));
	json_object_set_new(env, "duration", json_integer(0));
	http_reply(r, env);
}

/* 1 when r may read /status and /metrics: from a loopback address, when
** they are public (--public-status), or as the superuser. */
int
http_status_allowed(http_req *r)
{
	if (SETTING(r->srv->cfg.public_status)) return 1;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) return 1;
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return 1;
	}
	return 0;
}
