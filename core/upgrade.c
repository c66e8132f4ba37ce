/*
** upgrade.c: moving a store from an older on-disk format to STORE_FORMAT.
**
** steps[v] turns format v into v + 1.  All the steps a store needs run in
** one write transaction, each followed by recording its new format, so an
** upgrade that fails half-way leaves the store as it was.  A new format
** adds its step here and raises STORE_FORMAT (store.h).
*/
#include "core/store_int.h"

typedef struct {
	const char *what;               /* said before the step runs */
	store_rc  (*run)(store_txn *t); /* NULL: recording the format is all */
} upgrade_step;

static const upgrade_step steps[STORE_FORMAT] = {
	[0] = { "record the format (the layout of a store that records none is format 1's)",
	        NULL },
	[1] = { "the counters and assets databases (created empty when the store opens)",
	        NULL },
	[2] = { "give the default roles of every application their permissions where they have "
	        "none (default: get,put,post,delete:/**; guest: post:/users, post:/devices, "
	        "put:/devices/*); tokens and the auth key are made at open",
	        roles_upgrade_permissions },
	[3] = { "collection settings (kept in meta; an older ugstore, which would not keep "
	        "their rules, refuses the store from now on)",
	        NULL },
	[4] = { "selective indexing: a reindex for every collection whose 'fields' setting is "
	        "not \"all\" (the index held every path; serve runs it in steps)",
	        fields_upgrade },
	[5] = { "an open membership interval for every group member, from the time it joined "
	        "(a post to a group of more than --feed-copy-max members is shared, not copied, "
	        "and reaches the members through their intervals)",
	        feed_open_missing },
};

store_rc
store_upgrade(const char *dir, const store_options *opt, int dry_run,
              const store_sink *out, store_err *err)
{
	store_options o = opt ? *opt : (store_options){ 0 };
	store *s = NULL;
	store_txn *t = NULL;
	unsigned from;
	store_rc rc;

	o.existing = 1;
	if ((rc = store_open_format(dir, &o, &from, &s, err))) return rc;
	if (from > STORE_FORMAT) {
		rc = store_format_refuse(dir, from, err);
		goto done;
	}
	if (from == STORE_FORMAT) {
		store_say(out, "%s is at format %u: nothing to do", dir, from);
		goto done;
	}
	if ((rc = store_txn_begin(s, STORE_TXN_WRITE, &t))) goto done;
	for (unsigned v = from; v < STORE_FORMAT && rc == STORE_OK; v++) {
		store_say(out, "%s format %u -> %u: %s", dry_run ? "would upgrade" : "upgrading",
		          v, v + 1, steps[v].what);
		if (dry_run) continue;
		if (steps[v].run) rc = steps[v].run(t);
		if (rc == STORE_OK) rc = store_format_set(t, v + 1);
	}
	if (rc || dry_run) {
		store_txn_abort(t);
	} else {
		rc = store_txn_commit(t);
		if (rc == STORE_OK) store_say(out, "%s is now at format %u", dir, STORE_FORMAT);
	}
	if (rc) store_fail(err, rc, "%s: upgrade failed: %s", dir, store_strerror(rc));
done:
	store_close(s);
	return rc;
}
