/*
** fuzz_server.h: what the HTTP-level fuzz targets share.  One real server
** runs in the fuzzing process (http_server_start, one worker, the writer
** thread) on a fresh store in a temporary directory, with the
** organization org1, its application app1 (open, as --bootstrap makes it) and the superuser
** fuzz:fuzz-secret.  An input is sent as it is on a new loopback connection,
** followed by a request that closes the connection, so the exchange ends
** without a timeout however the input left the parser; then the replies
** are checked:
**   - each starts with an HTTP/1.x status line;
**   - no status is 500 (an internal error is a bug under any input);
**   - a JSON reply (every reply ugstore makes) parses, and an error
**     status carries a string `error` and `error_description`;
**   - the server stays up: a connection it leaves silent (see
**     fz_exchange) is followed by a write that must be answered within
**     FUZZ_REPLY_MS.
** Replies libmicrohttpd makes itself (HTML, see docs/security.md) are
** only checked for their status line.
*/
#ifndef UG_FUZZ_SERVER_H
#define UG_FUZZ_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/store.h"
#include "http/http.h"

#define FUZZ_REPLY_MS 60000
#define REQUIRE(x) do { if (!(x)) { \
	fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #x, __FILE__, __LINE__); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static store       *fz_store;
static http_server *fz_srv;
static char         fz_dir[] = "/tmp/ugstore-fuzz-XXXXXX";
static const char   fz_closer[] =
	"\r\n\r\nGET /status HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n";

static void
fz_stop(void)
{
	char cmd[64];
	http_server_stop(fz_srv);
	store_close(fz_store);
	snprintf(cmd, sizeof cmd, "rm -rf %s", fz_dir);
	if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", fz_dir);
}

static void
fz_start(void)
{
	store_options opt = { .no_sync = 1 };
	/* UGSTORE_FUZZ_LOG=1: the server's log on stderr */
	http_config cfg = { .port = 0, .threads = 1, .superuser = "fuzz:fuzz-secret",
	                    .quiet = !getenv("UGSTORE_FUZZ_LOG") };
	store_txn *t = NULL;
	store_org org;
	store_app app;
	store_err err = { 0 };

	REQUIRE(mkdtemp(fz_dir));
	REQUIRE(store_open(fz_dir, &opt, &fz_store, &err) == STORE_OK);
	REQUIRE(store_txn_begin(fz_store, STORE_TXN_WRITE, &t) == STORE_OK);
	REQUIRE(store_org_create(t, (store_slice){ "org1", 4 }, &org, &err) == STORE_OK);
	REQUIRE(store_app_create(t, &org, (store_slice){ "app1", 4 }, &app, &err) == STORE_OK);
	REQUIRE(store_app_open(t, &app) == STORE_OK);   /* open, like --bootstrap */
	REQUIRE(store_txn_commit(t) == STORE_OK);
	REQUIRE(http_server_start(fz_store, &cfg, &fz_srv) == 0);
	atexit(fz_stop);
}

static int
fz_connect(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	REQUIRE(fd >= 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	a.sin_port = htons((uint16_t)http_server_port(fz_srv));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
	return fd;
}

/* poll(2) on one descriptor for up to ms, waiting again after a signal:
** libFuzzer's timeout alarm (SIGALRM, every -timeout/2 + 1 s) interrupts
** whatever wait is under way, and an interrupted wait is no silence.
** Returns poll's answer. */
static int
fz_poll(int fd, short events, int ms, short *revents)
{
	struct timespec now, end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (long)(ms % 1000) * 1000000L;
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		int r = poll(&p, 1, ms);
		*revents = p.revents;
		if (r >= 0 || errno != EINTR) return r;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = (end.tv_sec - now.tv_sec) * 1000L + (end.tv_nsec - now.tv_nsec) / 1000000L;
		if (left <= 0) return 0;
		ms = (int)left;
	}
}

/* Reads fd until the server closes it, or until it stays silent for
** idle_ms; returns the bytes read (new, NUL-terminated), their number in
** *out_n, and in *cut whether the wait was cut short. */
static char *
fz_read(int fd, int idle_ms, size_t *out_n, int *cut)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	REQUIRE(buf);
	*cut = 0;
	for (;;) {
		short ev;
		if (fz_poll(fd, POLLIN, idle_ms, &ev) != 1) {
			*cut = 1;
			break;
		}
		if (len + 4096 + 1 > cap) REQUIRE((buf = realloc(buf, cap *= 2)));
		ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
		if (r <= 0) break;                  /* closed (or reset after a reply) */
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out_n = len;
	return buf;
}

/* What an unanswered probe sees of the server: its sockets (the
** listener's accept queue, each connection's queues, state and times of
** last send and receipt) and whether a read is answered meanwhile. */
static void
fz_snapshot(void)
{
	static const char get[] = "GET /metrics HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n";
	char cmd[160];
	size_t n;
	int fd = fz_connect(), cut;
	char *a;

	fprintf(stderr, "fuzz: the server's sockets:\n");
	snprintf(cmd, sizeof cmd, "ss -tanie '( sport = :%d or dport = :%d )' >&2",
	         http_server_port(fz_srv), http_server_port(fz_srv));
	if (system(cmd) != 0) fprintf(stderr, "fuzz: no ss\n");
	REQUIRE(send(fd, get, sizeof get - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof get - 1));
	a = fz_read(fd, 3000, &n, &cut);
	close(fd);
	fprintf(stderr, "fuzz: a read meanwhile: %s, %zu bytes:\n%s\n", cut ? "cut" : "closed", n, a);
	free(a);
}

/* Sends data[0..n) and then the closer on a new connection; returns the
** answer (new, NUL-terminated) and its length in *out_n.  libmicrohttpd
** 0.9.75 may miss the end of input in the middle of a body (the
** connection then waits for its timeout), and a write may wait in the
** writer's queue, so a server silent for idle_ms (FUZZ_IDLE_MS for a
** fuzzed input; requests that must be answered wait FUZZ_REPLY_MS) is
** left; then a write on a new connection must be answered within
** FUZZ_REPLY_MS: it queues behind every write left before it, so the
** server is alive, the writer too, and left requests cannot pile up. */
#define FUZZ_IDLE_MS 50

static char *
fz_exchange(const void *data, size_t n, int idle_ms, size_t *out_n)
{
	static const char probe[] = "PUT /org1/app1/fuzzprobes/p HTTP/1.1\r\nHost: f\r\n"
		"Connection: close\r\nContent-Length: 2\r\n\r\n{}";
	int fd = fz_connect(), cut;
	size_t total = n + sizeof fz_closer - 1, sent = 0, pn;
	char *all = malloc(total), *answer, *pa;

	REQUIRE(all);
	memcpy(all, data, n);
	memcpy(all + n, fz_closer, sizeof fz_closer - 1);
	while (sent < total) {      /* the server may answer and close early */
		short ev;
		if (fz_poll(fd, POLLOUT, idle_ms, &ev) != 1 || !(ev & POLLOUT)) break;
		ssize_t w = send(fd, all + sent, total - sent, MSG_NOSIGNAL);
		if (w <= 0) break;
		sent += (size_t)w;
	}
	free(all);
	if (sent == total) shutdown(fd, SHUT_WR);
	answer = fz_read(fd, idle_ms, out_n, &cut);
	close(fd);
	if (!cut) return answer;
	if (getenv("UGSTORE_FUZZ_LOG")) fprintf(stderr, "fuzz: left after %zu bytes\n", *out_n);
	fd = fz_connect();
	REQUIRE(send(fd, probe, sizeof probe - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof probe - 1));
	pa = fz_read(fd, FUZZ_REPLY_MS, &pn, &cut);
	if (cut || strncmp(pa, "HTTP/1.1 200", 12) != 0) {
		char cmd[128];
		fprintf(stderr, "fuzz: the server does not answer a write within %d ms "
		        "(%s, %zu bytes: %.200s)\n", FUZZ_REPLY_MS, cut ? "silent" : "closed", pn, pa);
		fz_snapshot();
		fprintf(stderr, "fuzz: its threads:\n");
		prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY);
		snprintf(cmd, sizeof cmd, "gdb -p %d -batch -ex 'thread apply all bt' >&2", (int)getpid());
		if (system(cmd) != 0) fprintf(stderr, "fuzz: no gdb to show them\n");
		abort();
	}
	close(fd);
	free(pa);
	return answer;
}

/* Value of header name in the header block [h, end), or NULL. */
static const char *
fz_header(const char *h, const char *end, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	for (const char *p = h; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol) eol = end;
		if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ') v++;
			*vlen = (size_t)(eol - v) - (eol[-1] == '\r');
			return v;
		}
		p = eol + 1;
	}
	return NULL;
}

/* Checks every reply of an answer (see the top of this file). */
static void
fz_check_answer(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4), *v;
		size_t vlen = 0, body_len;
		int status;
		REQUIRE(end - p >= 12 && memcmp(p, "HTTP/1.", 7) == 0);
		status = atoi(p + 9);
		REQUIRE(status >= 100 && status < 600 && status != 500);
		if (!hend) return;                  /* cut short by a reset */
		hend += 4;
		if (status == 100) {
			p = hend;
			continue;
		}
		if (!(v = fz_header(p, hend, "Content-Length", &vlen))) return;
		body_len = strtoull(v, NULL, 10);
		if ((size_t)(end - hend) < body_len) return;
		if ((v = fz_header(p, hend, "Content-Type", &vlen)) &&
		    strncmp(v, "application/json", 16) == 0 && body_len > 0 &&
		    memcmp(hend, "HTTP/1.", 7) != 0) {   /* a HEAD reply has no body */
			json_error_t jerr;
			json_t *doc = json_loadb(hend, body_len, 0, &jerr);
			if (!doc) fprintf(stderr, "fuzz: reply not JSON: %.*s\n", (int)body_len, hend);
			REQUIRE(doc);
			if (status >= 400) {
				REQUIRE(json_is_string(json_object_get(doc, "error")));
				REQUIRE(json_is_string(json_object_get(doc, "error_description")));
			}
			json_decref(doc);
		} else if (memcmp(hend, "HTTP/1.", 7) == 0) {
			body_len = 0;
		}
		p = hend + body_len;
	}
}

#endif
