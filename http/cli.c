/*
** cli.c: the operations subcommands of `ugstore` beside `serve`:
**
**   ugstore upgrade --data DIR [--dry-run]
**   ugstore backup --data DIR --to FILE          (while a server runs, too)
**   ugstore restore --from FILE --data DIR [--force]
**   ugstore check --data DIR [--repair]              (exit 0 only when clean)
**   ugstore export --data DIR --app ORG/APP [--to FILE]
**   ugstore import --data DIR [--from FILE]
**
** Each parses its options from one table, calls core, and prints core's
** report lines on stdout and errors on stderr.  Exit status: 0 done,
** 1 failed, 2 usage.  Long runs (export, import) show their progress on
** stderr when it is a terminal, and stay quiet otherwise.
*/
#include "core/mem.h"
#include "core/store.h"
#include "http/cli.h"
#include "http/http.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* A report line to the FILE ctx. */
static void
say_file(void *ctx, const char *line)
{
	fputs(line, ctx);
	fputc('\n', ctx);
}

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
	store_sink out = { say_file, stdout };
	store_rc rc = store_upgrade(data, NULL, dry, &out, &err);
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
	store_sink out = { say_file, stdout };
	store_rc rc = store_open(data, &opt, &s, &err);
	if (rc == STORE_OK && (rc = store_check(s, repair, &out, &st)))
		snprintf(err.msg, sizeof err.msg, "%s: the check stopped: %s", data, store_strerror(rc));
	store_close(s);
	if (rc) return failed(rc, &err);
	return st.faults ? 1 : 0;
}

/* ---- export and import ------------------------------------------------------ */

/* Progress on a terminal: done of total (what), the rate, the time left. */
typedef struct {
	const char     *what;
	struct timespec t0, last;
	int             shown;
} meter;

static double
since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void
meter_step(void *ctx, uint64_t done, uint64_t total)
{
	meter *m = ctx;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (m->shown && since(&m->last, &now) < 0.2 && done < total) return;
	m->last = now;
	m->shown = 1;
	double secs = since(&m->t0, &now), rate = secs > 0 ? (double)done / secs : 0;
	fprintf(stderr, "\r%" PRIu64 " of %" PRIu64 " %s, %.0f/s", done, total, m->what, rate);
	if (rate > 0 && total > done) fprintf(stderr, ", %.0f s left", (double)(total - done) / rate);
	fputs("   ", stderr);
}

/* A progress meter when stderr is a terminal, else NULL. */
static const store_progress *
meter_start(meter *m, store_progress *p, const char *what)
{
	if (!isatty(STDERR_FILENO)) return NULL;
	memset(m, 0, sizeof *m);
	m->what = what;
	clock_gettime(CLOCK_MONOTONIC, &m->t0);
	p->step = meter_step;
	p->ctx = m;
	return p;
}

static void
meter_end(const meter *m, const store_progress *p)
{
	if (p && m->shown) fputc('\n', stderr);
}

int
cli_export(int argc, char **argv)
{
	const char *data = NULL, *spec = NULL, *to = NULL;
	store_options opt = { .existing = 1 };
	store_err err = { 0 };
	store *s = NULL;
	store_progress prog;
	meter m;
	const cli_opt opts[] = {
		{ "--data", &data, NULL }, { "--app", &spec, NULL }, { "--to", &to, NULL },
	};
	int bad = parse(argc, argv, opts, NOPTS(opts));
	const char *slash = spec ? strchr(spec, '/') : NULL;

	if (bad || !data || !slash) {
		fputs("usage: ugstore export --data DIR --app ORG/APP [--to FILE]\n", stderr);
		return 2;
	}
	FILE *f = to ? fopen(to, "w") : stdout;
	if (!f) {
		fprintf(stderr, "ugstore: cannot write %s\n", to);
		return 1;
	}
	store_sink out = { say_file, f };
	const store_progress *p = meter_start(&m, &prog, "entities");
	store_rc rc = store_open(data, &opt, &s, &err);
	if (rc == STORE_OK)
		rc = store_export(s, (store_slice){ spec, (size_t)(slash - spec) },
		                  (store_slice){ slash + 1, strlen(slash + 1) }, &out, p, &err);
	meter_end(&m, p);
	store_close(s);
	if ((fflush(f) != 0 || (to && fclose(f) != 0)) && rc == STORE_OK) {
		fprintf(stderr, "ugstore: cannot write %s\n", to ? to : "the output");
		return 1;
	}
	return rc ? failed(rc, &err) : 0;
}

/* An application record may make its org and app: names a URL reaches. */
static store_rc
import_names_ok(json_t *rec, store_err *err)
{
	static const char *const props[] = { "organizationName", "applicationName" };
	const char *kind = json_string_value(json_object_get(rec, "record"));
	json_t *a = json_object_get(rec, "application");
	if (!kind || strcmp(kind, "application") != 0) return STORE_OK;
	for (size_t i = 0; i < sizeof props / sizeof *props; i++) {
		const char *name = json_string_value(json_object_get(a, props[i]));
		if (name && http_url_word((store_slice){ name, strlen(name) })) {
			snprintf(err->msg, sizeof err->msg, "%s '%.64s' is a word of the URL grammar",
			         props[i], name);
			return STORE_INVALID;
		}
	}
	return STORE_OK;
}

/* Reads records from f into s, one transaction per IMPORT_BATCH records. */
#define IMPORT_BATCH 1000

static store_rc
import_file(store *s, FILE *f, const store_progress *p, uint64_t size, store_import_state *st,
            uint64_t *line_no, store_err *err)
{
	store_txn *t = NULL;
	char *line = NULL;
	size_t cap = 0;
	uint64_t read = 0;
	ssize_t n;
	store_rc rc = STORE_OK;

	while (rc == STORE_OK && (n = getline(&line, &cap, f)) > 0) {
		json_error_t jerr;
		read += (uint64_t)n;
		(*line_no)++;
		if (n == 1 && line[0] == '\n') continue;
		json_t *rec = json_loadb(line, (size_t)n, 0, &jerr);
		if (!rec) {
			snprintf(err->msg, sizeof err->msg, "not JSON: %s", jerr.text);
			rc = STORE_INVALID;
			break;
		}
		rc = import_names_ok(rec, err);
		if (rc == STORE_OK && !t) rc = store_txn_begin(s, STORE_TXN_WRITE, &t);
		if (rc == STORE_OK) rc = store_import_record(t, st, rec, err);
		json_decref(rec);
		if (rc == STORE_OK && st->records % IMPORT_BATCH == 0) {
			rc = store_txn_commit(t);
			t = NULL;
			if (p) p->step(p->ctx, read, size);
		}
	}
	free(line);
	if (rc == STORE_OK && t) {
		rc = store_txn_commit(t);
		t = NULL;
	}
	store_txn_abort(t);
	if (rc == STORE_OK && ferror(f)) {
		snprintf(err->msg, sizeof err->msg, "cannot read the input");
		rc = STORE_IO;
	}
	if (rc == STORE_OK && p) p->step(p->ctx, read, size);
	return rc;
}

int
cli_import(int argc, char **argv)
{
	const char *data = NULL, *from = NULL;
	store_options opt = { 0 };
	store_err err = { 0 };
	store_import_state st = { .have_app = 0 };
	store *s = NULL;
	store_progress prog;
	meter m;
	struct stat sb;
	uint64_t line_no = 0;
	const cli_opt opts[] = { { "--data", &data, NULL }, { "--from", &from, NULL } };

	if (parse(argc, argv, opts, NOPTS(opts)) || !data) {
		fputs("usage: ugstore import --data DIR [--from FILE]\n", stderr);
		return 2;
	}
	FILE *f = from ? fopen(from, "r") : stdin;
	if (!f) {
		fprintf(stderr, "ugstore: cannot read %s\n", from);
		return 1;
	}
	uint64_t size = fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
	const store_progress *p = meter_start(&m, &prog, "bytes");
	store_rc rc = store_open(data, &opt, &s, &err);
	if (rc == STORE_OK && (rc = import_file(s, f, p, size, &st, &line_no, &err)))
		fprintf(stderr, "ugstore: line %" PRIu64 " of the input:\n", line_no);
	meter_end(&m, p);
	/* a changed `fields` list: its reindex, in its steps (serve would run it) */
	uint64_t steps = 0;
	if (rc == STORE_OK && (rc = store_reindex_finish(s, &steps)))
		snprintf(err.msg, sizeof err.msg, "the reindex after the import stopped: %s",
		         store_strerror(rc));
	store_close(s);
	if (from) fclose(f);
	if (rc) return failed(rc, &err);
	if (!st.have_app) printf("nothing to import\n");
	else
		printf("imported %" PRIu64 " records into %s/%s: %" PRIu64 " changed the store\n",
		       st.records, st.app.org_name, st.app.name, st.changed);
	if (steps) printf("reindexed the collections whose fields changed (%" PRIu64 " steps)\n", steps);
	return 0;
}

/* ---- the config file of serve ------------------------------------------- */

static char *
trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t')) s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
	*end = '\0';
	return s;
}

int
cli_config_read(const char *path, char **text, cli_option **opts, size_t *n)
{
	FILE *f = fopen(path, "rb");
	size_t len = 0, cap = 0;
	char *buf = NULL, chunk[4096];
	unsigned line = 0;

	*text = NULL;
	*opts = NULL;
	*n = 0;
	if (!f) {
		fprintf(stderr, "ugstore: cannot read the config file %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (size_t got; (got = fread(chunk, 1, sizeof chunk, f)) > 0;) {
		if (len + got + 1 > cap) buf = xrealloc(buf, cap = 2 * (len + got + 1));
		memcpy(buf + len, chunk, got);
		len += got;
	}
	fclose(f);
	buf = xrealloc(buf, len + 1);
	buf[len] = '\0';
	*text = buf;
	if (memchr(buf, '\0', len)) {
		fprintf(stderr, "ugstore: %s holds a NUL byte: not a config file\n", path);
		return -1;
	}
	for (char *p = buf; p < buf + len;) {
		char *nl = memchr(p, '\n', (size_t)(buf + len - p)), *end = nl ? nl : buf + len;
		char *eq = memchr(p, '=', (size_t)(end - p)), *name;
		line++;
		name = trim(p, eq ? eq : end);
		if (*name && *name != '#') {
			if (!eq || strpbrk(name, " \t")) {
				fprintf(stderr, "ugstore: %s:%u: want `name = value`\n", path, line);
				free(*opts);
				*opts = NULL;
				return -1;
			}
			*opts = xrealloc(*opts, (*n + 1) * sizeof **opts);
			(*opts)[(*n)++] = (cli_option){ name, trim(eq + 1, end), line };
		}
		p = end + 1;
	}
	return 0;
}
