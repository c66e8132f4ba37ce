/*
** store.c: the LMDB environment, transactions, result codes and the small
** shared helpers of core/ (key building, case folding, JSON values).
**
** Invariants: a store_txn wraps exactly one MDB_txn; commit and abort free
** the handle; LMDB codes are translated in store_mdb_rc() and nowhere else.
*/
#include "core/store_int.h"
#include "core/mem.h"
#include "core/text.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uuid/uuid.h>

static const char *const rc_text[STORE_RC_COUNT] = {
	[STORE_OK]       = "ok",
	[STORE_NOTFOUND] = "not found",
	[STORE_EXISTS]   = "already exists",
	[STORE_INVALID]  = "invalid argument",
	[STORE_REQUIRED] = "required property missing",
	[STORE_CONFLICT] = "conflict",
	[STORE_TOOBIG]   = "value too large",
	[STORE_FULL]     = "storage full",
	[STORE_NOMEM]    = "out of memory",
	[STORE_IO]       = "storage I/O error",
	[STORE_CORRUPT]  = "stored data is corrupt",
	[STORE_POLICY]   = "the password breaks the password policy",
};

const char *
store_strerror(store_rc rc)
{
	if ((unsigned)rc >= STORE_RC_COUNT) return "unknown error";
	return rc_text[rc];
}

store_rc
store_mdb_rc(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:       return STORE_OK;
	case MDB_NOTFOUND:      return STORE_NOTFOUND;
	case MDB_KEYEXIST:      return STORE_EXISTS;
	case MDB_MAP_FULL:      return STORE_FULL;
	case MDB_TXN_FULL:      return STORE_TOOBIG;
	case MDB_BAD_VALSIZE:   return STORE_TOOBIG;
	case MDB_CORRUPTED:     return STORE_CORRUPT;
	case MDB_PAGE_NOTFOUND: return STORE_CORRUPT;
	case ENOMEM:            return STORE_NOMEM;
	case EINVAL:            return STORE_INVALID;
	default:                return STORE_IO;
	}
}

store_rc
store_fail(store_err *err, store_rc rc, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->rc = rc;
		err->code = NULL;
	}
	return rc;
}

void
store_txn_actor(store_txn *t, const store_actor *a)
{
	t->actor = a ? *a : (store_actor){ 0 };
}

const char *const store_dbi_names[DBI_COUNT] = {
	[DBI_ORGS] = "orgs", [DBI_APPS] = "apps", [DBI_ENTITIES] = "entities",
	[DBI_UNIQUE] = "unique", [DBI_EDGES] = "edges", [DBI_EDGE_AT] = "edge_at",
	[DBI_COUNTS] = "counts", [DBI_INDEX] = "index", [DBI_SECRETS] = "secrets",
	[DBI_DICTS] = "dicts", [DBI_META] = "meta", [DBI_COUNTERS] = "counters",
	[DBI_ASSETS] = "assets", [DBI_TOKENS] = "tokens", [DBI_FEEDS] = "feeds",
};

/* The format key of `meta` (its value: the decimal format number). */
#define FORMAT_KEY "schema"

store_rc
store_format_get(store_txn *t, unsigned *format)
{
	keybuf k;
	void *v = NULL;
	size_t n = 0;
	char text[12];
	char *end;
	store_rc rc;

	key_meta(&k, FORMAT_KEY);
	if ((rc = kv_get(t, DBI_META, &k, &v, &n))) return rc;
	if (n == 0 || n >= sizeof text) return STORE_CORRUPT;
	memcpy(text, v, n);
	text[n] = '\0';
	unsigned long f = strtoul(text, &end, 10);
	if (*end || text[0] < '0' || text[0] > '9' || f > 1000000) return STORE_CORRUPT;
	*format = (unsigned)f;
	return STORE_OK;
}

store_rc
store_format_set(store_txn *t, unsigned format)
{
	keybuf k;
	char text[12];
	int n = snprintf(text, sizeof text, "%u", format);
	key_meta(&k, FORMAT_KEY);
	return kv_put(t, DBI_META, &k, text, (size_t)n);
}

store_rc
store_format_refuse(const char *dir, unsigned format, store_err *err)
{
	if (format > STORE_FORMAT)
		return store_fail(err, STORE_CONFLICT,
		                  "%s holds format %u, newer than this ugstore's (%u): use a newer ugstore",
		                  dir, format, STORE_FORMAT);
	return store_fail(err, STORE_CONFLICT,
	                  "%s holds format %u, older than this ugstore's (%u): "
	                  "run `ugstore upgrade --data %s` first",
	                  dir, format, STORE_FORMAT, dir);
}

/* 1 when no database of t's store holds a key: a store just created. */
static int
store_empty(store_txn *t)
{
	for (int i = 0; i < DBI_COUNT; i++) {
		MDB_stat st;
		if (mdb_stat(t->txn, t->s->dbi[i], &st) != 0 || st.ms_entries) return 0;
	}
	return 1;
}

/* Reads the format of s, recording STORE_FORMAT in a new, empty store. */
static store_rc
format_init(store *s, unsigned *format)
{
	store_txn *t = NULL;
	store_rc rc = store_txn_begin(s, STORE_TXN_WRITE, &t);
	if (rc) return rc;
	rc = store_format_get(t, format);
	if (rc == STORE_NOTFOUND && store_empty(t)) {
		*format = STORE_FORMAT;
		rc = store_format_set(t, STORE_FORMAT);
	} else if (rc == STORE_NOTFOUND) {
		*format = 0;          /* made before formats were recorded */
		rc = STORE_OK;
	}
	if (rc) {
		store_txn_abort(t);
		return rc;
	}
	return store_txn_commit(t);
}

/* The data directory: it must hold a store when opt->existing, else it
** is made when missing. */
static store_rc
data_dir_ready(const char *dir, const store_options *opt, store_err *err)
{
	if (opt && opt->existing) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/data.mdb", dir);
		if (stat(path, &st) != 0)
			return store_fail(err, STORE_NOTFOUND, "%s holds no ugstore data", dir);
	} else if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		return store_fail(err, STORE_IO, "cannot create %s: %s", dir, strerror(errno));
	}
	return STORE_OK;
}

/* Opens the LMDB environment in dir and its named databases; returns an
** LMDB code. */
static int
env_open(store *s, const char *dir, const store_options *opt)
{
	size_t map_size = opt && opt->map_size ? opt->map_size : (size_t)64 << 30;
	unsigned readers = opt && opt->max_readers ? opt->max_readers : 512;
	unsigned flags = MDB_NOTLS | (opt && opt->no_sync ? MDB_NOSYNC : 0);
	MDB_txn *txn = NULL;
	int mrc;

	if ((mrc = mdb_env_create(&s->env)) != 0 ||
	    (mrc = mdb_env_set_maxdbs(s->env, DBI_COUNT)) != 0 ||
	    (mrc = mdb_env_set_mapsize(s->env, map_size)) != 0 ||
	    (mrc = mdb_env_set_maxreaders(s->env, readers)) != 0 ||
	    (mrc = mdb_env_open(s->env, dir, flags, 0644)) != 0 ||
	    (mrc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return mrc;
	for (int i = 0; i < DBI_COUNT; i++)
		if ((mrc = mdb_dbi_open(txn, store_dbi_names[i], MDB_CREATE, &s->dbi[i])) != 0) {
			mdb_txn_abort(txn);
			return mrc;
		}
	return mdb_txn_commit(txn);
}

store_rc
store_open_format(const char *dir, const store_options *opt, unsigned *format,
                  store **out, store_err *err)
{
	store *s = xcalloc(1, sizeof *s);
	store_rc rc;
	int mrc;

	*out = NULL;
	counter_ticks_init(s);
	idcache_init(s);
	entcache_init(s);
	s->password_min = opt && opt->password_min ? opt->password_min : STORE_PASSWORD_MIN;
	s->settings_rewrite_max = opt && opt->settings_rewrite_max ? opt->settings_rewrite_max
	                                                           : STORE_SETTINGS_REWRITE_MAX;
	s->reindex_batch = opt && opt->reindex_batch ? opt->reindex_batch : STORE_REINDEX_BATCH;
	s->feed_copy_max = opt && opt->feed_copy_set ? opt->feed_copy_max : STORE_FEED_COPY_MAX;
	if ((rc = data_dir_ready(dir, opt, err))) goto fail;
	if ((mrc = env_open(s, dir, opt)) != 0) {
		rc = store_fail(err, store_mdb_rc(mrc), "cannot open %s: %s", dir,
		                mdb_strerror(mrc));
		goto fail;
	}
	if ((rc = format_init(s, format))) {
		rc = store_fail(err, rc, "%s: cannot read its format: %s", dir, store_strerror(rc));
		goto fail;
	}
	if (!(opt && opt->any_format) && (rc = auth_key_load(s))) {
		rc = store_fail(err, rc, "%s: cannot read its key: %s", dir, store_strerror(rc));
		goto fail;
	}
	*out = s;
	return STORE_OK;

fail:
	store_close(s);
	return rc;
}

store_rc
store_open(const char *dir, const store_options *opt, store **out, store_err *err)
{
	unsigned format;
	store_rc rc = store_open_format(dir, opt, &format, out, err);
	if (rc || format == STORE_FORMAT || (opt && opt->any_format)) return rc;
	store_close(*out);
	*out = NULL;
	return store_format_refuse(dir, format, err);
}

void
store_say(const store_sink *out, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	if (!out || !out->say) return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	out->say(out->ctx, line);
}

unsigned
store_password_min(const store *s)
{
	return s->password_min;
}

void
store_close(store *s)
{
	if (!s) return;
	if (s->env) mdb_env_close(s->env);
	counter_ticks_destroy(s);
	idcache_destroy(s);
	entcache_destroy(s);
	free(s);
}

/* ---- the meta records a transaction parsed (meta_record) ----------------- */

#define MEMO_MAX 32      /* records kept; past them, one replaces the next in turn */

typedef struct {
	unsigned char *key;
	size_t  n;
	json_t *rec;         /* NULL: there is none */
} memo_entry;

struct meta_memo {
	memo_entry e[MEMO_MAX];
	size_t     count, next;
};

static store_txn *
top_of(store_txn *t)
{
	while (t->parent) t = t->parent;
	return t;
}

/* Forgets every parse t's top-level transaction keeps. */
static void
memo_drop(store_txn *t)
{
	t = top_of(t);
	struct meta_memo *m = t->memo;
	if (!m) return;
	for (size_t i = 0; i < m->count; i++) {
		free(m->e[i].key);
		json_decref(m->e[i].rec);
	}
	free(m);
	t->memo = NULL;
}

/* Forgets the parses of the keys that start with key[0..n). */
static void
memo_forget(store_txn *t, const void *key, size_t n)
{
	struct meta_memo *m = top_of(t)->memo;
	for (size_t i = 0; m && i < m->count; ) {
		memo_entry *e = &m->e[i];
		if (e->n < n || memcmp(e->key, key, n) != 0) {
			i++;
			continue;
		}
		free(e->key);
		json_decref(e->rec);
		*e = m->e[--m->count];
		m->next = m->count;
	}
}

static void
memo_keep(store_txn *t, const keybuf *k, json_t *rec)
{
	t = top_of(t);
	struct meta_memo *m = t->memo ? t->memo : (t->memo = xcalloc(1, sizeof *t->memo));
	memo_entry *e = &m->e[m->next];
	if (m->next < m->count) {
		free(e->key);
		json_decref(e->rec);
	} else {
		m->count++;
	}
	m->next = (m->next + 1) % MEMO_MAX;
	e->key = xmalloc(k->n);
	memcpy(e->key, k->b, k->n);
	e->n = k->n;
	e->rec = json_incref(rec);
}

/* Built with UGSTORE_CHECK_SHARED (the sanitizer build), a parse handed
** out again is compared with the record read afresh: one a caller changed,
** or one a write did not forget, aborts the run. */
static void
memo_check(store_txn *t, const keybuf *k, json_t *rec)
{
#ifdef UGSTORE_CHECK_SHARED
	json_t *fresh = NULL;
	store_rc rc = kv_get_json(t, DBI_META, k, &fresh);
	if (rc == STORE_NOTFOUND ? rec != NULL : rc != STORE_OK || !json_equal(rec, fresh)) {
		fprintf(stderr, "ugstore: a meta record's parse is not the record\n");
		abort();
	}
	json_decref(fresh);
#else
	(void)t, (void)k, (void)rec;
#endif
}

store_rc
meta_record(store_txn *t, const keybuf *k, json_t **out)
{
	struct meta_memo *m = top_of(t)->memo;
	*out = NULL;
	for (size_t i = 0; m && !k->overflow && i < m->count; i++)
		if (m->e[i].n == k->n && memcmp(m->e[i].key, k->b, k->n) == 0) {
			memo_check(t, k, m->e[i].rec);
			*out = json_incref(m->e[i].rec);
			return STORE_OK;
		}
	store_rc rc = kv_get_json(t, DBI_META, k, out);
	if (rc == STORE_NOTFOUND) rc = STORE_OK;
	if (rc == STORE_OK && !k->overflow) memo_keep(t, k, *out);
	return rc;
}

/* A transaction of s, nested in parent when not NULL: a child is what its
** parent is (writing, its actor, its settings scan, its snapshot). */
static store_rc
txn_open(store *s, store_txn *parent, int write, store_txn **out)
{
	store_txn *t = xcalloc(1, sizeof *t);
	int mrc = mdb_txn_begin(s->env, parent ? parent->txn : NULL, write ? 0 : MDB_RDONLY,
	                        &t->txn);
	*out = NULL;
	if (mrc != 0) {
		free(t);
		return store_mdb_rc(mrc);
	}
	t->s = s;
	t->write = write;
	if (parent) {
		t->child = 1;
		t->parent = parent;
		t->snap = parent->snap;
		t->actor = parent->actor;
		t->settings_scan = parent->settings_scan;
	} else {
		/* a write transaction's id is that of the commit it will make */
		t->snap = mdb_txn_id(t->txn) - (write ? 1 : 0);
	}
	*out = t;
	return STORE_OK;
}

store_rc
store_txn_begin(store *s, int flags, store_txn **out)
{
	return txn_open(s, NULL, (flags & STORE_TXN_WRITE) != 0, out);
}

store_rc
store_txn_begin_child(store_txn *parent, store_txn **out)
{
	return txn_open(parent->s, parent, parent->write, out);
}

store_rc
store_txn_commit(store_txn *t)
{
	int top = t->write && !t->child, mrc;
	/* a top-level write writes the counts waiting, its own and the ticks */
	if (top) {
		pthread_mutex_lock(&t->s->flush_mu);
		(void)counter_txn_commit(t);
	}
	/* said before the commit: no snapshot that holds it trusts older entries */
	if (top && t->ident_changed) atomic_store(&t->s->ident_txnid, mdb_txn_id(t->txn));
	mrc = mdb_txn_commit(t->txn);
	if (top) pthread_mutex_unlock(&t->s->flush_mu);
	/* a top-level write (a child's commit only merges into its parent) */
	if (mrc == 0 && top)
		atomic_store_explicit(&t->s->last_commit_ms, store_now_ms(), memory_order_relaxed);
	/* the parses end with the top-level transaction, or are of writes lost */
	if (!t->child || mrc) memo_drop(t);
	if (mrc == 0 && t->child) {
		counter_txn_merge(t->parent, t);
		t->parent->writes += t->writes;
		t->parent->ident_changed |= t->ident_changed;
	}
	free(t->ticks);
	free(t);
	return store_mdb_rc(mrc);
}

/* Counts the lines mdb_reader_list gives: a header, then one per reader. */
static int
count_reader(const char *msg, void *ctx)
{
	unsigned *n = ctx;
	if (msg[0] != '(') (*n)++;            /* "(no active readers)" */
	return 0;
}

store_rc
store_stats_get(store *s, store_stats *out)
{
	MDB_envinfo info;
	MDB_stat st;
	MDB_txn *txn = NULL;
	char path[4096];
	const char *dir = NULL;
	struct stat fst;
	int mrc;

	memset(out, 0, sizeof *out);
	if ((mrc = mdb_env_info(s->env, &info)) != 0 || (mrc = mdb_env_stat(s->env, &st)) != 0)
		return store_mdb_rc(mrc);
	entcache_stats(s, &out->entity_cache_entries, &out->entity_cache_slots);
	out->map_size = info.me_mapsize;
	out->page_size = st.ms_psize;
	out->pages_used = (uint64_t)info.me_last_pgno + 1;
	out->readers_max = info.me_maxreaders;
	out->last_txn = info.me_last_txnid;
	out->last_commit_ms = atomic_load_explicit(&s->last_commit_ms, memory_order_relaxed);
	mdb_reader_list(s->env, count_reader, &out->readers);
	if (out->readers) out->readers--;     /* the header line */
	if ((mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) return store_mdb_rc(mrc);
	for (int i = 0; i < DBI_COUNT; i++) {
		if (mdb_stat(txn, s->dbi[i], &st) != 0) continue;
		out->pages_branch += st.ms_branch_pages;
		out->pages_leaf += st.ms_leaf_pages;
		out->pages_overflow += st.ms_overflow_pages;
	}
	mdb_txn_abort(txn);
	if (mdb_env_get_path(s->env, &dir) == 0 && dir) {
		snprintf(path, sizeof path, "%s/data.mdb", dir);
		if (stat(path, &fst) == 0) out->file_size = (uint64_t)fst.st_size;
	}
	return STORE_OK;
}

void
store_txn_abort(store_txn *t)
{
	if (!t) return;
	memo_drop(t);          /* a nested one's: of its writes, now undone */
	mdb_txn_abort(t->txn);
	free(t->ticks);
	free(t);
}

/* ---- raw key/value access ---------------------------------------------- */

static store_rc
key_ok(const keybuf *k)
{
	return k->overflow ? STORE_TOOBIG : STORE_OK;
}

store_rc
kv_get(store_txn *t, int dbi, const keybuf *k, void **val, size_t *n)
{
	MDB_val mk = { k->n, (void *)k->b }, mv;
	if (key_ok(k)) return STORE_TOOBIG;
	int mrc = mdb_get(t->txn, t->s->dbi[dbi], &mk, &mv);
	if (mrc != 0) return store_mdb_rc(mrc);
	if (val) *val = mv.mv_data;
	if (n) *n = mv.mv_size;
	return STORE_OK;
}

void
note_write(store_txn *t, int dbi, const void *key, size_t n)
{
	t->writes++;
	if (dbi == DBI_ORGS || dbi == DBI_APPS) t->ident_changed = 1;
	if (dbi == DBI_META) memo_forget(t, key, n);
}

store_rc
kv_put(store_txn *t, int dbi, const keybuf *k, const void *val, size_t n)
{
	MDB_val mk = { k->n, (void *)k->b }, mv = { n, (void *)val };
	if (key_ok(k)) return STORE_TOOBIG;
	note_write(t, dbi, k->b, k->n);
	return store_mdb_rc(mdb_put(t->txn, t->s->dbi[dbi], &mk, &mv, 0));
}

store_rc
kv_del(store_txn *t, int dbi, const keybuf *k)
{
	MDB_val mk = { k->n, (void *)k->b };
	if (key_ok(k)) return STORE_TOOBIG;
	note_write(t, dbi, k->b, k->n);
	int mrc = mdb_del(t->txn, t->s->dbi[dbi], &mk, NULL);
	return mrc == MDB_NOTFOUND ? STORE_OK : store_mdb_rc(mrc);
}

store_rc
kv_del_prefix(store_txn *t, int dbi, const keybuf *prefix)
{
	kv_scan sc;
	store_rc rc = kv_scan_begin(&sc, t, dbi, prefix, NULL, 0);
	if (rc) return rc;
	note_write(t, dbi, prefix->b, prefix->n);    /* asked for, as kv_del's */
	while (rc == STORE_OK && kv_scan_next(&sc)) rc = kv_scan_del(&sc);
	return kv_scan_end(&sc, rc);
}

store_rc
kv_get_json(store_txn *t, int dbi, const keybuf *k, json_t **out)
{
	void *v = NULL;
	size_t n = 0;
	store_rc rc = kv_get(t, dbi, k, &v, &n);
	*out = NULL;
	if (rc) return rc;
	*out = json_loadb(v, n, JSON_DECODE_ANY, NULL);
	return *out ? STORE_OK : STORE_CORRUPT;
}

store_rc
kv_put_json(store_txn *t, int dbi, const keybuf *k, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text) return STORE_NOMEM;
	store_rc rc = kv_put(t, dbi, k, text, strlen(text));
	free(text);
	return rc;
}

store_rc
kv_get_u64(store_txn *t, int dbi, const keybuf *k, uint64_t *out)
{
	void *v = NULL;
	size_t n = 0;
	store_rc rc = kv_get(t, dbi, k, &v, &n);
	if (rc == STORE_OK && n != 8) rc = STORE_CORRUPT;
	if (rc == STORE_OK) *out = key_get_u64(v);
	return rc;
}

store_rc
kv_put_u64(store_txn *t, int dbi, const keybuf *k, uint64_t v)
{
	keybuf val;
	val_u64(&val, v);
	return kv_put(t, dbi, k, val.b, val.n);
}

void
lc_copy(char *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
}

size_t
store_path_name(const char *path, const char **rest)
{
	const char *dot = strchr(path, '.');
	size_t n = dot ? (size_t)(dot - path) : strlen(path);
	*rest = dot ? dot + 1 : path + n;
	return n;
}

int
store_path_is(const char *key, const char *name, size_t n)
{
	return strlen(key) == n && strncasecmp(key, name, n) == 0;
}

json_t *
store_path_child(json_t *v, const char *path, const char **key, const char **rest)
{
	size_t n = store_path_name(path, rest);
	const char *k;
	json_t *x, *found = NULL;
	if (!json_is_object(v)) return NULL;
	json_object_foreach(v, k, x)
		if (store_path_is(k, path, n)) {
			found = x;
			if (key) *key = k;
		}
	return found;
}

int
store_segment_ok(store_slice s)
{
	if (s.n == 0) return 0;
	return !(s.p[0] == '.' && (s.n == 1 || (s.n == 2 && s.p[1] == '.')));
}

const char *
ci_name(json_t *names, const char *name, int add)
{
	size_t n = strlen(name);
	char stack[128], *lc = n < sizeof stack ? stack : xmalloc(n + 1);
	const char *have;
	lc_copy(lc, name, n);
	lc[n] = '\0';
	have = json_string_value(json_object_get(names, lc));
	if (!have && add) {
		json_object_set_new(names, lc, json_string(name));
		have = name;
	}
	if (lc != stack) free(lc);
	return have;
}

json_t *
ci_names_new(json_t *obj)
{
	json_t *names = json_object(), *v;
	const char *key;
	json_object_foreach(obj, key, v) ci_name(names, key, 1);
	return names;
}

json_t *
json_get_ci(json_t *obj, const char *name, const char **key)
{
	const char *k;
	json_t *v;
	v = json_object_get(obj, name);
	if (v) {
		if (key) *key = name;
		return v;
	}
	json_object_foreach(obj, k, v) {
		if (strcasecmp(k, name) == 0) {
			if (key) *key = k;
			return v;
		}
	}
	return NULL;
}

/* ---- identifiers and clocks -------------------------------------------- */

int
store_id_parse(store_slice s, store_id *out)
{
	static const int dash[] = { 8, 13, 18, 23 };
	if (s.n != 36) return 0;
	for (int i = 0; i < 4; i++)
		if (s.p[dash[i]] != '-') return 0;
	size_t j = 0;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) continue;
		int hi = text_hexval((unsigned char)s.p[i]), lo = text_hexval((unsigned char)s.p[i + 1]);
		if (hi < 0 || lo < 0) return 0;
		out->b[j++] = (unsigned char)(hi << 4 | lo);
		i++;
	}
	return 1;
}

void
store_id_format(const store_id *id, char buf[37])
{
	uuid_unparse_lower(id->b, buf);
}

/* Time UUIDs (RFC 4122 version 1) are made here rather than by libuuid's
** uuid_generate_time, which asks the uuidd daemon over a Unix socket on
** every call (a socket, a connect that fails when no daemon runs, and a
** close: a tenth of the writer's time per new entity).  The clock sequence
** and the node are random, drawn once per process, the node with its
** multicast bit set (RFC 4122, 4.5: not a MAC address).  The 60-bit count
** of 100 ns since 1582-10-15 strictly increases within the process: two
** ids in one tick, or a clock stepped back, take the next count. */
static unsigned char id_tail[8];        /* clock sequence (2), node (6) */
static uint64_t id_last;
static pthread_once_t id_once = PTHREAD_ONCE_INIT;

static void
id_tail_draw(void)
{
	uuid_t r;
	uuid_generate_random(r);
	memcpy(id_tail, r + 8, 8);
	id_tail[0] = (unsigned char)((id_tail[0] & 0x3f) | 0x80);   /* variant 10 */
	id_tail[2] |= 0x01;                                           /* multicast */
}

void
store_id_new(store_id *out)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t t = (uint64_t)now.tv_sec * 10000000u + (uint64_t)now.tv_nsec / 100 +
	             0x01B21DD213814000ull, last = __atomic_load_n(&id_last, __ATOMIC_RELAXED);
	pthread_once(&id_once, id_tail_draw);
	do {
		if (t <= last) t = last + 1;
	} while (!__atomic_compare_exchange_n(&id_last, &last, t, 0, __ATOMIC_RELAXED,
	                                      __ATOMIC_RELAXED));
	uint32_t lo = (uint32_t)t;
	unsigned char *b = out->b;
	b[0] = (unsigned char)(lo >> 24); b[1] = (unsigned char)(lo >> 16);
	b[2] = (unsigned char)(lo >> 8);  b[3] = (unsigned char)lo;
	b[4] = (unsigned char)(t >> 40);  b[5] = (unsigned char)(t >> 32);
	b[6] = (unsigned char)(((t >> 56) & 0x0f) | 0x10);          /* version 1 */
	b[7] = (unsigned char)(t >> 48);
	memcpy(b + 8, id_tail, 8);
}

int
store_id_is_nil(const store_id *id)
{
	for (int i = 0; i < 16; i++)
		if (id->b[i]) return 0;
	return 1;
}

/* ---- base64url without padding (RFC 4648, section 5) ---------------------- */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
store_b64_digit(int c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

size_t
store_b64_encode(const void *data, size_t n, char *out)
{
	const unsigned char *raw = data;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)raw[i] << 16;
		if (i + 1 < n) v |= (unsigned)raw[i + 1] << 8;
		if (i + 2 < n) v |= raw[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		if (i + 1 < n) out[o++] = b64[(v >> 6) & 63];
		if (i + 2 < n) out[o++] = b64[v & 63];
	}
	out[o] = '\0';
	return o;
}

int
store_b64_decode(const char *text, size_t n, void *out, size_t cap, size_t *out_n)
{
	unsigned char *raw = out;
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		int v = store_b64_digit((unsigned char)text[i]);
		if (v < 0) return 0;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap) return 0;
			raw[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0 || bits >= 6) return 0;     /* stray bits, or a lone last digit */
	*out_n = o;
	return 1;
}

int64_t
store_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
store_next_time(store *s)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	uint64_t last = atomic_load(&s->last_time);
	for (;;) {
		uint64_t next = now > last ? now : last + 1;
		if (atomic_compare_exchange_weak(&s->last_time, &last, next))
			return next;
	}
}
