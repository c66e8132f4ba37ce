/*
** fuzz_http.c: libFuzzer over whole requests (request line, headers, body)
** sent to a real ugstore server in the fuzzing process: libmicrohttpd's
** parsing, the glue of http/server.c, the router, the handlers and a real
** store (see fuzz_server.h for the harness and the checks).  Built and run
** by `make fuzz`; the seeds are tests/fuzz/http-seeds/ and the requests of
** tests/http/hostile.txt.
*/
#include "tests/fuzz/fuzz_server.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	fz_start();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;
	char *answer = fz_exchange(data, size, FUZZ_IDLE_MS, &n);
	fz_check_answer(answer, n);
	free(answer);
	return 0;
}
