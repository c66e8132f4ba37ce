/*
** fuzz_json.c: libFuzzer over request bodies.  The first byte of an input
** picks a request that takes a JSON body, the rest is the body, sent with
** a correct Content-Length to a real ugstore server in the fuzzing process
** (see fuzz_server.h): body limits and parsing, entity validation, unique
** values, the property index, relations and the batch path all see it.
** Built and run by `make fuzz`; the seeds are tests/fuzz/json-seeds/.
*/
#include "tests/fuzz/fuzz_server.h"

static const char *const targets[] = {
	"POST /org1/app1/things",
	"PUT /org1/app1/things/fixed",
	"POST /org1/app1/things/fixed",
	"PUT /org1/app1/things?ql=select%20*%20where%20a%3D1",
	"POST /org1/app1/users",
	"PUT /org1/app1/users/fixed-user",
	"POST /org1/app1/groups",
	"POST /org1/app1/groups/fixed/users",
	"POST /org1/app1/activities",
	"POST /org1/app1/users/fixed-user/activities",
	"POST /org1/app1/roles",
	"POST /org1/app1/roles/admin/permissions",
	"PUT /org1/app1",
	"POST /org1/app1/things/fixed/likes/things",
	"PUT /org1/app1/devices/fixed-device",
	"POST /management/orgs/org1/apps",
};
#define NTARGETS (sizeof targets / sizeof *targets)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const setup[] = {
		"PUT /org1/app1/things/fixed", "PUT /org1/app1/users/fixed-user",
		"POST /org1/app1/groups",
	};
	static const char *const bodies[] = {
		"{\"a\":1}", "{\"username\":\"fixed-user\"}", "{\"path\":\"fixed\"}",
	};
	(void)argc; (void)argv;
	fz_start();
	for (size_t i = 0; i < sizeof setup / sizeof *setup; i++) {
		char req[256];
		size_t n;
		int len = snprintf(req, sizeof req, "%s HTTP/1.1\r\nHost: f\r\n"
		                   "Content-Length: %zu\r\n\r\n%s", setup[i],
		                   strlen(bodies[i]), bodies[i]);
		char *answer = fz_exchange(req, (size_t)len, FUZZ_REPLY_MS, &n);
		REQUIRE(strncmp(answer, "HTTP/1.1 200", 12) == 0);
		free(answer);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char head[512], *req, *answer;
	size_t n;
	if (size == 0) return 0;
	int hl = snprintf(head, sizeof head, "%s HTTP/1.1\r\nHost: f\r\n"
	                  "Authorization: Basic ZnV6ejpmdXp6LXNlY3JldA==\r\n"
	                  "Content-Length: %zu\r\n\r\n", targets[data[0] % NTARGETS], size - 1);
	REQUIRE((req = malloc((size_t)hl + size)));
	memcpy(req, head, (size_t)hl);
	memcpy(req + hl, data + 1, size - 1);
	answer = fz_exchange(req, (size_t)hl + size - 1, FUZZ_IDLE_MS, &n);
	fz_check_answer(answer, n);
	free(answer);
	free(req);
	return 0;
}
