/*
** cli.c: the operations subcommands of `ugstore` beside `serve`:
**
**   ugstore upgrade --data DIR [--dry-run]
**   ugstore backup --data DIR --to FILE          (while a server runs, too)
**   ugstore restore --from FILE --data DIR [--force]
**   ugstore check --data DIR [--repair]              (exit 0 only when clean)
**
** Each parses its options from one table, calls core, and prints core's
** report lines on stdout and errors on stderr.  Exit status: 0 done,
** 1 failed, 2 usage.
*/
#include "core/store.h"
#include "http/cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct {
	const char  *name;     /* "--data" */
	const char **value;    /* an option with a value, or */
	int         *flag;     /* a flag (set to 1) */
} cli_opt;

/* Parses argv against opts; 0 when every argument was known. */
static int
parse(int argc, char **argv, const cli_opt *opts, size_t nopts)
{
	for (int i = 0; i < argc; i++) {
		const cli_opt *o = NULL;
		for (size_t j = 0; j < nopts; j++)
			if (strcmp(argv[i], opts[j].name) == 0) o = &opts[j];
		if (!o) {
			fprintf(stderr, "ugstore: unknown option %s\n", argv[i]);
			return -1;
		}
		if (o->flag) {
			*o->flag = 1;
		} else if (i + 1 < argc) {
			*o->value = argv[++i];
		} else {
			fprintf(stderr, "ugstore: %s wants a value\n", argv[i]);
			return -1;
		}
	}
	return 0;
}

#define NOPTS(t) (sizeof(t) / sizeof((t)[0]))

static void
say_stdout(void *ctx, const char *line)
{
	(void)ctx;
	printf("%s\n", line);
	fflush(stdout);
}

static const store_sink to_stdout = { say_stdout, NULL };

/* Prints the failure of a command; returns its exit status. */
static int
failed(store_rc rc, const store_err *err)
{
	fprintf(stderr, "ugstore: %s\n", err->msg[0] ? err->msg : store_strerror(rc));
	return 1;
}

int
cli_upgrade(int argc, char **argv)
{
	const char *data = NULL;
	int dry = 0;
	store_err err = { 0 };
	const cli_opt opts[] = { { "--data", &data, NULL }, { "--dry-run", NULL, &dry } };

	if (parse(argc, argv, opts, NOPTS(opts)) || !data) {
		fputs("usage: ugstore upgrade --data DIR [--dry-run]\n", stderr);
		return 2;
	}
	store_rc rc = store_upgrade(data, NULL, dry, &to_stdout, &err);
	return rc ? failed(rc, &err) : 0;
}

int
cli_backup(int argc, char **argv)
{
	const char *data = NULL, *to = NULL;
	store_options opt = { .existing = 1, .any_format = 1 };
	store_err err = { 0 };
	store *s = NULL;
	uint64_t size = 0;
	const cli_opt opts[] = { { "--data", &data, NULL }, { "--to", &to, NULL } };

	if (parse(argc, argv, opts, NOPTS(opts)) || !data || !to) {
		fputs("usage: ugstore backup --data DIR --to FILE\n", stderr);
		return 2;
	}
	store_rc rc = store_open(data, &opt, &s, &err);
	if (rc == STORE_OK) rc = store_backup(s, to, &size, &err);
	store_close(s);
	if (rc) return failed(rc, &err);
	printf("backed up %s to %s (%" PRIu64 " bytes)\n", data, to, size);
	return 0;
}

int
cli_restore(int argc, char **argv)
{
	const char *data = NULL, *from = NULL;
	int force = 0;
	store_err err = { 0 };
	const cli_opt opts[] = {
		{ "--data", &data, NULL }, { "--from", &from, NULL }, { "--force", NULL, &force },
	};

	if (parse(argc, argv, opts, NOPTS(opts)) || !data || !from) {
		fputs("usage: ugstore restore --from FILE --data DIR [--force]\n", stderr);
		return 2;
	}
	store_rc rc = store_restore(from, data, force, &err);
	if (rc) return failed(rc, &err);
	printf("restored %s from %s\n", data, from);
	return 0;
}

int
cli_check(int argc, char **argv)
{
	const char *data = NULL;
	int repair = 0;
	store_options opt = { .existing = 1 };
	store_err err = { 0 };
	store_check_stats st;
	store *s = NULL;
	const cli_opt opts[] = { { "--data", &data, NULL }, { "--repair", NULL, &repair } };

	if (parse(argc, argv, opts, NOPTS(opts)) || !data) {
		fputs("usage: ugstore check --data DIR [--repair]\n", stderr);
		return 2;
	}
	store_rc rc = store_open(data, &opt, &s, &err);
	if (rc == STORE_OK && (rc = store_check(s, repair, &to_stdout, &st)))
		snprintf(err.msg, sizeof err.msg, "%s: the check stopped: %s", data, store_strerror(rc));
	store_close(s);
	if (rc) return failed(rc, &err);
	return st.faults ? 1 : 0;
}
