/*
** main.c: the ugstore command line.
**
**   ugstore serve --port N --data DIR [--threads N] [--bind ADDR]
**                 [--superuser NAME:PASSWORD] [--bootstrap ORG/APP]
**                 [--base-url URL] [--max-body BYTES] [--max-asset BYTES]
**                 [--max-import BYTES]
**                 [--map-size MIB] [--query-budget-ms MS] [--no-sync] [--quiet]
**                 [--token-rate BURST/MS] [--password-min N] [--backup-dir DIR]
**                 [--settings-rewrite-max N] [--reindex-batch N]
**                 [--feed-copy-max N]
**                 [--public-status]
**                 [--slow-query-ms MS]
**                 [--cors-origin ORIGIN[,ORIGIN...]]
**                 [--tls-cert FILE --tls-key FILE] [--config FILE]
**   ugstore upgrade --data DIR [--dry-run]
**   ugstore backup --data DIR --to FILE
**   ugstore restore --from FILE --data DIR [--force]
**   ugstore check --data DIR [--repair]
**   ugstore export --data DIR --app ORG/APP [--to FILE]
**   ugstore import --data DIR [--from FILE]
**
** serve opens the environment, optionally creates ORG/APP, starts the HTTP
** server and waits for SIGINT or SIGTERM; then it stops accepting, lets
** in-flight requests finish and closes the environment cleanly.  Its
** settings come from --config FILE (docs/operations.md), then the command
** line; SIGHUP reads them again and applies what can change while serving.
*/
#include "core/mem.h"
#include "core/store.h"
#include "http/cli.h"
#include "http/http.h"
#include "http/limits.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

static void
usage(FILE *f)
{
	fputs("usage: ugstore serve --port N --data DIR [--threads N] [--bind ADDR]\n"
	      "                     [--superuser NAME:PASSWORD] [--bootstrap ORG/APP]\n"
	      "                     [--base-url URL] [--max-body BYTES] [--max-asset BYTES]\n"
	      "                     [--max-import BYTES]\n"
	      "                     [--map-size MIB] [--query-budget-ms MS] [--no-sync] [--quiet]\n"
	      "                     [--token-rate BURST/MS] [--password-min N] [--backup-dir DIR]\n"
	      "                     [--settings-rewrite-max N] [--reindex-batch N]\n"
	      "                     [--feed-copy-max N]\n"
	      "                     [--public-status]\n"
	      "                     [--slow-query-ms MS]\n"
	      "                     [--cors-origin ORIGIN[,ORIGIN...]]\n"
	      "                     [--tls-cert FILE --tls-key FILE] [--config FILE]\n"
	      "       ugstore upgrade --data DIR [--dry-run]\n"
	      "       ugstore backup --data DIR --to FILE\n"
	      "       ugstore restore --from FILE --data DIR [--force]\n"
	      "       ugstore check --data DIR [--repair]\n"
	      "       ugstore export --data DIR --app ORG/APP [--to FILE]\n"
	      "       ugstore import --data DIR [--from FILE]\n"
	      "The superuser may also come from the environment: UGSTORE_SUPERUSER.\n", f);
}

/* A numeric option's value (http_parse_uint), at most max; 0 after a
** message when it is not one. */
static int
number_opt(const char *opt, const char *v, uint64_t max, uint64_t *out)
{
	if (http_parse_uint(v, max, out)) return 1;
	fprintf(stderr, "ugstore: %s wants a whole number up to %llu, not '%s'\n", opt,
	        (unsigned long long)max, v);
	return 0;
}

/* 1 when two optional strings are equal (both NULL too). */
static int
same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Creates org and app if they do not exist yet; a new app is open (its
** guest and default roles may do anything) until an admin closes it. */
static int
bootstrap(store *s, const char *spec)
{
	const char *slash = strchr(spec, '/');
	store_txn *t = NULL;
	store_org org;
	store_app app;
	store_err err = { 0 };
	store_rc rc;

	if (!slash) {
		fprintf(stderr, "ugstore: --bootstrap wants ORG/APP\n");
		return -1;
	}
	store_slice o = { spec, (size_t)(slash - spec) }, a = { slash + 1, strlen(slash + 1) };
	if (http_url_word(o) || http_url_word(a)) {
		fprintf(stderr, "ugstore: bootstrap %s: a name is a word of the URL grammar\n", spec);
		return -1;
	}
	if ((rc = store_txn_begin(s, STORE_TXN_WRITE, &t))) goto fail;
	rc = store_org_get(t, o, &org);
	if (rc == STORE_NOTFOUND) rc = store_org_create(t, o, &org, &err);
	if (rc) goto fail;
	rc = store_app_get(t, &org, a, &app);
	if (rc == STORE_NOTFOUND) {
		/* a development app: open, like Usergrid's sandbox */
		rc = store_app_create(t, &org, a, &app, &err);
		if (rc == STORE_OK) rc = store_app_open(t, &app);
	}
	if (rc) goto fail;
	rc = store_txn_commit(t);
	t = NULL;
	if (rc) goto fail;
	return 0;
fail:
	store_txn_abort(t);
	fprintf(stderr, "ugstore: bootstrap %s: %s\n", spec, err.msg[0] ? err.msg : store_strerror(rc));
	return -1;
}

/* A superuser for a development start that was given none:
** "superuser:" and 24 random characters. */
static char *
new_superuser(void)
{
	static const char abc[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char raw[24];
	char *su = malloc(10 + sizeof raw + 1);
	if (!su || getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) abort();
	strcpy(su, "superuser:");
	for (size_t i = 0; i < sizeof raw; i++) su[10 + i] = abc[raw[i] % (sizeof abc - 1)];
	su[10 + sizeof raw] = '\0';
	return su;
}

/* What a development start needs to know: the app is open, how to close
** it, the superuser, and how to get a token. */
static void
print_start(const char *boot, unsigned port, const char *su, const char *generated)
{
	const char *colon = strchr(su, ':');
	int ulen = (int)(colon - su);
	printf("\n%s is an OPEN development app: anyone may read and write it without a token.\n"
	       "Close it (guest may then only sign up; signed-in users keep default access):\n"
	       "  curl -u '%.*s:%s' -X DELETE 'http://localhost:%u/%s/roles/guest/permissions?permission=get,post,put,delete:/**'\n"
	       "Superuser%s: %.*s (password %s)\n"
	       "Get a token:\n"
	       "  curl -X POST http://localhost:%u/management/token "
	       "-d '{\"grant_type\":\"password\",\"username\":\"%.*s\",\"password\":\"%s\"}'\n\n",
	       boot, ulen, su, generated ? colon + 1 : "PASSWORD", port, boot, generated ? " (generated for this start)" : "", ulen, su,
	       generated ? colon + 1 : "as given", port, ulen, su,
	       generated ? colon + 1 : "PASSWORD");
	fflush(stdout);
}

/* What serve is told: the server's settings and the store's. */
typedef struct {
	http_config      cfg;
	store_options    opt;
	const char      *data, *boot, *config;
} serve_args;

/* The options that take no value (serve_option sets them). */
static int
is_flag(const char *a)
{
	return strcmp(a, "--no-sync") == 0 || strcmp(a, "--quiet") == 0 ||
	       strcmp(a, "--public-status") == 0;
}

/* Where the value of a string option goes; NULL when a is none. */
static const char **
string_slot(serve_args *sa, const char *a)
{
	http_config *cfg = &sa->cfg;
	const struct { const char *name; const char **slot; } opts[] = {
		{ "--data", &sa->data },            { "--config", &sa->config },
		{ "--bootstrap", &sa->boot },       { "--bind", &cfg->bind },
		{ "--superuser", &cfg->superuser }, { "--base-url", &cfg->base_url },
		{ "--backup-dir", &cfg->backup_dir }, { "--cors-origin", &cfg->cors_origins },
		{ "--tls-cert", &cfg->tls_cert },   { "--tls-key", &cfg->tls_key },
	};
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
		if (strcmp(a, opts[i].name) == 0) return opts[i].slot;
	return NULL;
}

/* Where the value of a numeric option goes: the slot of its field's type
** (u, z or q), in units of 1 << shift, from min to max; set (when not
** NULL) records that it was given. */
typedef struct {
	const char *name;
	uint64_t    max, min;
	unsigned    shift;
	unsigned   *u;
	size_t     *z;
	uint64_t   *q;
	int        *set;
} number_slot;

/* Applies a numeric option a with value v.  Returns 0, 1 when a is not
** one, or 2 after a message. */
static int
number_option(serve_args *sa, const char *a, const char *v)
{
	http_config *cfg = &sa->cfg;
	store_options *o = &sa->opt;
	const number_slot opts[] = {
		{ "--port", 65535, .u = &cfg->port },
		{ "--threads", UINT_MAX, .u = &cfg->threads },
		{ "--max-body", SIZE_MAX, .z = &cfg->max_body },
		{ "--max-asset", SIZE_MAX, .z = &cfg->max_asset },
		{ "--max-import", SIZE_MAX, .z = &cfg->max_import },
		{ "--map-size", SIZE_MAX >> 20, .shift = 20, .z = &o->map_size },     /* MiB */
		{ "--query-budget-ms", HTTP_MAX_BUDGET_MS, 1, .u = &cfg->query_budget_ms },
		{ "--password-min", STORE_SECRET_MAX, .u = &o->password_min },
		{ "--settings-rewrite-max", UINT32_MAX, .q = &o->settings_rewrite_max },
		{ "--reindex-batch", UINT32_MAX, .z = &o->reindex_batch },
		{ "--feed-copy-max", UINT64_MAX, .q = &o->feed_copy_max, .set = &o->feed_copy_set },
		{ "--slow-query-ms", HTTP_MAX_BUDGET_MS, .u = &cfg->slow_query_ms },
	};
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
		const number_slot *p = &opts[i];
		uint64_t n;
		if (strcmp(a, p->name) != 0) continue;
		if (!number_opt(a, v, p->max, &n)) return 2;
		if (n < p->min) {
			fprintf(stderr, "ugstore: %s wants at least %llu\n", a, (unsigned long long)p->min);
			return 2;
		}
		n <<= p->shift;
		if (p->u) *p->u = (unsigned)n;
		else if (p->z) *p->z = (size_t)n;
		else *p->q = n;
		if (p->set) *p->set = 1;
		return 0;
	}
	return 1;
}

/* Applies one option (a = "--name") with its value v (NULL when none
** follows); *takes gets 1 when it used v.  Returns 0, or 2 after a message. */
static int
serve_option(serve_args *sa, const char *a, const char *v, int *takes)
{
	http_config *cfg = &sa->cfg;
	const char **slot;
	int rc;
	*takes = 1;
	if (strcmp(a, "--no-sync") == 0) { sa->opt.no_sync = 1; *takes = 0; return 0; }
	if (strcmp(a, "--quiet") == 0) { cfg->quiet = 1; *takes = 0; return 0; }
	if (strcmp(a, "--public-status") == 0) { cfg->public_status = 1; *takes = 0; return 0; }
	if (v && (slot = string_slot(sa, a))) {
		*slot = v;
		return 0;
	}
	if (v && (rc = number_option(sa, a, v)) != 1) return rc;
	if (v && strcmp(a, "--token-rate") == 0) {
		if (sscanf(v, "%u/%u", &cfg->token_burst, &cfg->token_refill_ms) != 2 ||
		    !cfg->token_burst || !cfg->token_refill_ms) {
			fprintf(stderr, "ugstore: --token-rate wants BURST/MS, not '%s'\n", v);
			return 2;
		}
		return 0;
	}
	fprintf(stderr, "ugstore: unknown option %s%s\n", a, v ? "" : " (or its value is missing)");
	return 2;
}

static int
serve_argv(serve_args *sa, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		int takes, rc = serve_option(sa, argv[i], i + 1 < argc ? argv[i + 1] : NULL, &takes);
		if (rc) return rc;
		i += takes;
	}
	return 0;
}

/* Applies the config file `path` (config_file in cli.c reads it: a line
** holds an option's name without "--", "=" and its value; a flag's value
** is true or false); its text stays in *text for the strings it gives. */
static int
serve_file(serve_args *sa, const char *path, char **text)
{
	cli_option *opts = NULL;
	size_t n = 0;
	int rc = 0;
	if (cli_config_read(path, text, &opts, &n) != 0) return 2;
	for (size_t i = 0; i < n && !rc; i++) {
		char name[80];
		int takes, flag = strcmp(opts[i].value, "true") == 0;
		int off = strcmp(opts[i].value, "false") == 0;
		snprintf(name, sizeof name, "--%s", opts[i].name);
		if (strcmp(name, "--config") == 0 || strcmp(name, "--bootstrap") == 0) {
			fprintf(stderr, "ugstore: %s:%u: %s is for the command line\n", path, opts[i].line,
			        opts[i].name);
			rc = 2;
			break;
		}
		if (off && is_flag(name)) continue;       /* a flag left off */
		rc = serve_option(sa, name, flag && is_flag(name) ? NULL : opts[i].value, &takes);
		if (!rc && takes == 0 && !flag) {
			fprintf(stderr, "ugstore: %s:%u: %s wants true or false\n", path, opts[i].line,
			        opts[i].name);
			rc = 2;
		}
		if (rc) fprintf(stderr, "ugstore: (%s, line %u)\n", path, opts[i].line);
	}
	free(opts);
	return rc;
}

/* The settings: the config file's (when --config is given), then the
** command line's over them.  *text keeps the file's strings. */
static int
serve_settings(serve_args *sa, int argc, char **argv, char **text)
{
	int rc;
	memset(sa, 0, sizeof *sa);
	sa->cfg.port = 8080;
	sa->cfg.superuser = getenv("UGSTORE_SUPERUSER");
	*text = NULL;
	if ((rc = serve_argv(sa, argc, argv))) return rc;   /* finds --config */
	if (!sa->config) return 0;
	const char *config = sa->config;
	memset(sa, 0, sizeof *sa);
	sa->cfg.port = 8080;
	sa->cfg.superuser = getenv("UGSTORE_SUPERUSER");
	if ((rc = serve_file(sa, config, text))) return rc;
	return serve_argv(sa, argc, argv);
}

/* SIGHUP: reads the settings again and applies those that can change
** under a running server (http_server_reload says which); says what it
** did, and what needs a restart.  texts keeps every config text read. */
static void
reload(http_server *srv, const serve_args *now, int argc, char **argv, char ***texts,
       size_t *ntexts)
{
	serve_args sa;
	char *text = NULL;
	if (!now->config) {
		fprintf(stderr, "ugstore: SIGHUP: no --config, nothing to reload\n");
		return;
	}
	if (serve_settings(&sa, argc, argv, &text) != 0) {
		free(text);
		fprintf(stderr, "ugstore: SIGHUP: %s has errors; the settings stay as they were\n",
		        now->config);
		return;
	}
	/* the strings of a reloaded setting may still be read: keep them */
	*texts = xrealloc(*texts, (*ntexts + 1) * sizeof **texts);
	(*texts)[(*ntexts)++] = text;
	http_server_reload(srv, &sa.cfg);
	if (sa.cfg.port != now->cfg.port || !same(sa.cfg.bind, now->cfg.bind) ||
	    !same(sa.data, now->data) || sa.cfg.threads != now->cfg.threads ||
	    !same(sa.cfg.tls_cert, now->cfg.tls_cert) || !same(sa.cfg.tls_key, now->cfg.tls_key) ||
	    (sa.cfg.superuser && !same(sa.cfg.superuser, now->cfg.superuser)) ||
	    !same(sa.cfg.backup_dir, now->cfg.backup_dir) || sa.opt.map_size != now->opt.map_size ||
	    sa.opt.no_sync != now->opt.no_sync || sa.opt.password_min != now->opt.password_min ||
	    sa.opt.settings_rewrite_max != now->opt.settings_rewrite_max ||
	    sa.opt.reindex_batch != now->opt.reindex_batch ||
	    sa.opt.feed_copy_set != now->opt.feed_copy_set ||
	    sa.opt.feed_copy_max != now->opt.feed_copy_max ||
	    sa.cfg.token_burst != now->cfg.token_burst ||
	    sa.cfg.token_refill_ms != now->cfg.token_refill_ms)
		fprintf(stderr, "ugstore: SIGHUP: data, port, bind, threads, TLS, superuser, "
		        "backup-dir, map-size, no-sync, password-min, settings-rewrite-max, "
		        "reindex-batch, feed-copy-max and token-rate changes need "
		        "a restart\n");
	fprintf(stderr, "ugstore: SIGHUP: reloaded %s\n", now->config);
}

static int
serve(int argc, char **argv)
{
	serve_args sa;
	store *s = NULL;
	http_server *srv = NULL;
	store_err err = { 0 };
	sigset_t sigs;
	int sig, rc;
	char *text = NULL, **texts = NULL, *generated = NULL;
	size_t ntexts = 0;

	if ((rc = serve_settings(&sa, argc, argv, &text))) {
		usage(stderr);
		goto done;
	}
	rc = 2;
	if (!sa.data) {
		usage(stderr);
		goto done;
	}
	if (sa.cfg.backup_dir && access(sa.cfg.backup_dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "ugstore: --backup-dir %s is not a folder this process can write\n",
		        sa.cfg.backup_dir);
		goto done;
	}
	if (sa.cfg.superuser && !strchr(sa.cfg.superuser, ':')) {
		fprintf(stderr, "ugstore: the superuser must be NAME:PASSWORD\n");
		goto done;
	}
	rc = 1;
	if (store_open(sa.data, &sa.opt, &s, &err) != STORE_OK) {
		fprintf(stderr, "ugstore: %s\n", err.msg);
		goto done;
	}
	if (sa.boot && !sa.cfg.superuser) sa.cfg.superuser = generated = new_superuser();
	if (sa.boot && bootstrap(s, sa.boot) != 0) goto done;
	/* Workers inherit this mask; only sigwait below sees the signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (http_server_start(s, &sa.cfg, &srv) != 0) goto done;
	printf("ugstore listening on %s:%u (data %s%s)\n", sa.cfg.bind ? sa.cfg.bind : "127.0.0.1",
	       http_server_port(srv), sa.data, sa.cfg.tls_cert ? ", https" : "");
	if (sa.boot) print_start(sa.boot, http_server_port(srv), sa.cfg.superuser, generated);
	fflush(stdout);
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		reload(srv, &sa, argc, argv, &texts, &ntexts);
	fprintf(stderr, "ugstore: signal %d, shutting down\n", sig);
	http_server_stop(srv);
	rc = 0;
done:
	store_close(s);
	for (size_t i = 0; i < ntexts; i++) free(texts[i]);
	free(texts);
	free(text);
	free(generated);
	return rc;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "serve", serve },
	{ "upgrade", cli_upgrade },
	{ "backup", cli_backup },
	{ "restore", cli_restore },
	{ "check", cli_check },
	{ "export", cli_export },
	{ "import", cli_import },
};

int
main(int argc, char **argv)
{
	for (size_t i = 0; argc >= 2 && i < sizeof commands / sizeof *commands; i++)
		if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 2, argv + 2);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
