/*
** backup.c: hot backups and restores.
**
** A backup is LMDB's compacting copy of the environment (one data file, no
** free pages), written from one read transaction, so it is the store as of
** one commit while writers go on.  It lands under a temporary name, is
** synced, then renamed: a backup file is whole or absent.  A restore checks
** that the file is a store of a format this build knows how to open or
** upgrade, and copies it into the directory the same way.
*/
#include "core/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Syncs the directory that holds path, so a rename in it is durable. */
static void
sync_parent(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir) slash[1] = '\0';
	else if (slash) *slash = '\0';
	else snprintf(dir, sizeof dir, ".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Copies env into path through path.tmp: synced, then renamed. */
static store_rc
copy_env(MDB_env *env, unsigned flags, const char *path, uint64_t *size, store_err *err)
{
	char tmp[4096];
	struct stat st;
	store_rc rc = STORE_OK;
	int mrc;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return store_fail(err, STORE_INVALID, "the path is too long");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 && errno == EEXIST)
		return store_fail(err, STORE_EXISTS, "%s exists: is another copy under way?", tmp);
	if (fd < 0) return store_fail(err, STORE_IO, "cannot create %s: %s", tmp, strerror(errno));
	if ((mrc = mdb_env_copyfd2(env, fd, flags)) != 0)
		rc = store_fail(err, store_mdb_rc(mrc), "cannot copy the store: %s", mdb_strerror(mrc));
	else if (fsync(fd) != 0 || fstat(fd, &st) != 0)
		rc = store_fail(err, STORE_IO, "cannot write %s: %s", tmp, strerror(errno));
	if (close(fd) != 0 && rc == STORE_OK)
		rc = store_fail(err, STORE_IO, "cannot write %s: %s", tmp, strerror(errno));
	if (rc == STORE_OK && rename(tmp, path) != 0)
		rc = store_fail(err, STORE_IO, "cannot rename %s: %s", tmp, strerror(errno));
	if (rc) {
		unlink(tmp);
		return rc;
	}
	sync_parent(path);
	if (size) *size = (uint64_t)st.st_size;
	return STORE_OK;
}

store_rc
store_backup(store *s, const char *path, uint64_t *size, store_err *err)
{
	return copy_env(s->env, MDB_CP_COMPACT, path, size, err);
}

/* 1 when dir exists and holds anything. */
static int
dir_used(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int used = 0;
	if (!d) return 0;
	while (!used && (e = readdir(d)))
		used = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return used;
}

/* 1 when a process has the store in dir open: every open environment
** holds a shared lock on the first byte of its lock file (LMDB's
** mdb_env_excl_lock), so an exclusive one cannot be had. */
static int
store_in_use(const char *dir)
{
	char path[4096];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	snprintf(path, sizeof path, "%s/lock.mdb", dir);
	int fd = open(path, O_RDWR), busy;
	if (fd < 0) return 0;
	busy = fcntl(fd, F_SETLK, &fl) != 0;
	close(fd);              /* drops the lock */
	return busy;
}

/* Opens the backup file read-only as an environment and reads its format. */
static store_rc
open_backup(const char *from, MDB_env **env, store_err *err)
{
	store b = { 0 };
	store_txn *t = NULL;
	unsigned format = 0;
	store_rc rc;
	int mrc;

	if ((mrc = mdb_env_create(&b.env)) != 0 ||
	    (mrc = mdb_env_set_maxdbs(b.env, DBI_COUNT)) != 0 ||
	    (mrc = mdb_env_open(b.env, from, MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK, 0644)) != 0) {
		rc = store_fail(err, STORE_INVALID, "%s is not a ugstore backup: %s", from,
		                mdb_strerror(mrc));
		goto fail;
	}
	if ((rc = store_txn_begin(&b, STORE_TXN_READ, &t))) goto fail;
	mrc = mdb_dbi_open(t->txn, "meta", 0, &b.dbi[DBI_META]);
	rc = mrc ? STORE_NOTFOUND : store_format_get(t, &format);
	store_txn_abort(t);
	if (rc == STORE_NOTFOUND && mrc == 0) format = 0;
	else if (rc) {
		rc = store_fail(err, STORE_INVALID, "%s is not a ugstore backup", from);
		goto fail;
	}
	if (format > STORE_FORMAT) {
		rc = store_format_refuse(from, format, err);
		goto fail;
	}
	*env = b.env;
	return STORE_OK;
fail:
	if (b.env) mdb_env_close(b.env);
	return rc;
}

store_rc
store_restore(const char *from, const char *dir, int force, store_err *err)
{
	MDB_env *env = NULL;
	char path[4096];
	store_rc rc;

	if (dir_used(dir) && !force)
		return store_fail(err, STORE_EXISTS,
		                  "%s is not empty: restore into an empty directory, or add --force "
		                  "to replace the store in it", dir);
	if (store_in_use(dir))
		return store_fail(err, STORE_CONFLICT,
		                  "the store in %s is open (a server is running on it): stop it first",
		                  dir);
	if ((rc = open_backup(from, &env, err))) return rc;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		rc = store_fail(err, STORE_IO, "cannot create %s: %s", dir, strerror(errno));
		goto done;
	}
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if ((rc = copy_env(env, 0, path, NULL, err))) goto done;
	/* the replaced store's lock file describes no reader of this one */
	snprintf(path, sizeof path, "%s/lock.mdb", dir);
	if (unlink(path) != 0 && errno != ENOENT)
		rc = store_fail(err, STORE_IO, "cannot remove %s: %s", path, strerror(errno));
done:
	mdb_env_close(env);
	return rc;
}
