/*
** mhd_ceiling.c: the throughput ceiling that `make bench` compares ugstore to.
**
**   mhd_ceiling [--port N] [--threads N] [--body-bytes N]
**
** A bare libmicrohttpd server started the way http/server.c starts ugstore
** (one daemon per worker thread, each an epoll internal thread with its own
** SO_REUSEPORT listening socket on the same port, default four workers per
** core, bound to 127.0.0.1) that answers every request, whatever
** its method and target, with the same fixed JSON body of about 700 bytes,
** the size of ugstore's reply to a GET of one entity, and the same headers.
** --body-bytes N answers a body of exactly N bytes instead (the same JSON
** with a padding member in front), built once at start: the ceiling for a
** reply as large as a page of entities, with the same work per request.
** A request body is read and thrown away.  No store, no routing, no JSON
** encoding: what is left is the cost of MHD and the kernel, which is the
** most any handler behind MHD could reach on this machine.
**
** --port 0 (the default) binds a free port.  Prints "listening on
** 127.0.0.1:PORT" once it accepts, and stops on SIGINT or SIGTERM.
*/
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Shaped like ugstore's reply to GET /my-org/my-app/things/{uuid} for a
** seeded entity (678 bytes; ugstore sends 675). */
static const char body[] =
	"{\"action\":\"get\",\"application\":\"0475762e-e90f-11f1-8774-02fc00000001\","
	"\"params\":{},\"path\":\"/things\","
	"\"uri\":\"http://127.0.0.1:8080/my-org/my-app/things\","
	"\"entities\":[{\"uuid\":\"0cc9f26e-e90f-11f1-978e-02fc00000001\","
	"\"type\":\"thing\",\"created\":1795638627353,\"modified\":1795638627353,"
	"\"name\":\"seed-12\",\"title\":\"benchmark seed entity number 12\","
	"\"category\":\"bench\",\"n\":12,\"tags\":[\"alpha\",\"beta\",\"gamma\"],"
	"\"location\":{\"lat\":52.520000000000003,\"lon\":13.404999999999999},"
	"\"active\":true,\"owner\":\"bench\",\"score\":12,\"note\":\"xxxxxxxxxxxxxxxx\","
	"\"metadata\":{\"path\":\"/things/0cc9f26e-e90f-11f1-978e-02fc00000001\"}}],"
	"\"timestamp\":1795638627375,\"duration\":0,\"organization\":\"my-org\","
	"\"applicationName\":\"my-app\"}";

/* What every request is answered with: body, or the padded one. */
static const char *reply = body;
static size_t reply_len = sizeof body - 1;

/* *req_cls points here once the headers of a request have been seen. */
static int started;

static void
usage(FILE *f)
{
	fputs("usage: mhd_ceiling [--port N] [--threads N] [--body-bytes N]\n", f);
}

/* pad_reply: makes reply {"pad":"xx...x", followed by body's members,
** exactly n bytes; 0, or -1 with a message when n is below what the
** padding needs or there is no memory for it. */
static int
pad_reply(size_t n)
{
	static const char head[] = "{\"pad\":\"";
	size_t fixed = (sizeof head - 1) + 2 + (sizeof body - 2), pad;
	char *p;

	if (n < fixed || !(p = malloc(n + 1))) {
		fprintf(stderr, "mhd_ceiling: --body-bytes must be at least %zu"
		        " (and fit in memory)\n", fixed);
		return -1;
	}
	pad = n - fixed;
	memcpy(p, head, sizeof head - 1);
	memset(p + sizeof head - 1, 'x', pad);
	memcpy(p + sizeof head - 1 + pad, "\",", 2);
	memcpy(p + sizeof head - 1 + pad + 2, body + 1, sizeof body - 1);
	reply = p;
	reply_len = n;
	return 0;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **req_cls)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	(void)cls; (void)url; (void)method; (void)version; (void)upload_data;

	if (!*req_cls) {           /* headers only: wait for the body, if any */
		*req_cls = &started;
		return MHD_YES;
	}
	if (*upload_data_size) {   /* a chunk of body: discard it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(reply_len, (void *)reply,
	                                       MHD_RESPMEM_PERSISTENT);
	if (!resp) return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

int
main(int argc, char **argv)
{
	unsigned port = 0, threads = 0;
	long body_bytes = 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct sockaddr_in addr;
	struct MHD_Daemon *d[64];
	unsigned nd = 0;
	const union MHD_DaemonInfo *info;
	sigset_t sigs;
	int sig;

	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--port") == 0 && v) port = (unsigned)atoi(v);
		else if (strcmp(a, "--threads") == 0 && v) threads = (unsigned)atoi(v);
		else if (strcmp(a, "--body-bytes") == 0 && v) body_bytes = atol(v);
		else {
			usage(stderr);
			return 2;
		}
	}
	if (body_bytes && pad_reply((size_t)body_bytes) != 0) return 2;
	if (!threads) threads = cores > 0 ? 4 * (unsigned)cores : 8;
	if (threads > 64) threads = 64;

	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	/* The workers inherit this mask; only sigwait below sees the signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (unsigned i = 0; i < threads; i++) {
		d[i] = MHD_start_daemon(
			MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG,
			ntohs(addr.sin_port), NULL, NULL, on_request, NULL,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
			MHD_OPTION_END);
		if (!d[i]) {
			fprintf(stderr, "mhd_ceiling: cannot listen on port %u\n", ntohs(addr.sin_port));
			return 1;
		}
		nd++;
		if (i == 0) {
			info = MHD_get_daemon_info(d[0], MHD_DAEMON_INFO_BIND_PORT);
			if (info) addr.sin_port = htons((uint16_t)info->port);
		}
	}
	printf("listening on 127.0.0.1:%u\n", (unsigned)ntohs(addr.sin_port));
	fflush(stdout);
	sigwait(&sigs, &sig);
	for (unsigned i = 0; i < nd; i++) MHD_stop_daemon(d[i]);
	return 0;
}
