/*
 * store.c - the state directory, the LMDB environment, transactions with
 * their actor and audit record, id allocation and name checks.
 *
 * Every write goes through rc_txn_begin()/rc_txn_end(): one LMDB write
 * transaction that also appends the audit record, so that a change and its
 * audit entry are committed together or not at all.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <lmdb.h>
#include <sodium.h>
#include "internal.h"

#define MAP_SIZE_DEFAULT ((size_t)1 << 30)

static int fail_lmdb(int mrc, const char *what)
{
	if (mrc == MDB_MAP_FULL)
		return rc_fail(RC_ERR_FULL, "%s: the store is full (%s)", what, mdb_strerror(mrc));
	if (mrc == ENOMEM)
		return rc_fail(RC_ERR_NOMEM, "%s: out of memory", what);
	if (mrc == ENOSPC)
		return rc_fail(RC_ERR_FULL, "%s: no space left on the device", what);
	return rc_fail(RC_ERR_STORE, "%s: %s", what, mdb_strerror(mrc));
}

static const char *const db_names[DB_COUNT] = {
	[DB_MEMBERS] = "members", [DB_ROLES] = "roles",
	[DB_INVITATIONS] = "invitations", [DB_SERVICES] = "services",
	[DB_SVCUSERS] = "service_users", [DB_TOKENS] = "tokens",
	[DB_AUDIT] = "audit", [DB_SETTINGS] = "settings",
	[DB_IDX_UID] = "idx_uid", [DB_IDX_EMAIL] = "idx_email",
	[DB_AUDIT_AGG] = "audit_refusals", [DB_HOST] = "host", [DB_OUTBOX] = "outbox",
};

RC_API void rc_store_set_clock(rc_store *s, rc_clock_fn fn)
{
	s->clock = fn;
}

RC_API int64_t rc_store_now(const rc_store *s)
{
	return s->clock ? s->clock() : (int64_t)time(NULL);
}

RC_API const rc_config *rc_store_config(const rc_store *s)
{
	return &s->cfg;
}

RC_API const char *rc_store_warning(const rc_store *s)
{
	return s->warning[0] ? s->warning : NULL;
}

/* After a committed change that NSS sees: publish, and keep a failure as a
 * warning (the change itself is stored; the next open catches up). */
static void publish_after_commit(rc_store *s)
{
	char saved[512];

	clock_gettime(CLOCK_MONOTONIC, &s->last_publish);
	s->batch_pending = false;

	snprintf(saved, sizeof(saved), "%s", rc_errmsg());
	if (rc_snapshot_publish(s) != RC_OK)
		snprintf(s->warning, sizeof(s->warning),
		         "the change is stored, but the NSS snapshot was not updated: %s", rc_errmsg());
	rc_fail(RC_OK, "%s", saved);
}

/* A directory of the state: no symlink, a directory, ours, not writable by
 * group or others. */
static int check_dir(const char *path, const char *what)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return rc_fail(RC_ERR_STORE, "%s %s: %s%s", what, path, strerror(errno),
		               errno == ENOENT ? " (run \"rollcall init\" first)" : "");
	if (S_ISLNK(st.st_mode))
		return rc_fail(RC_ERR_STORE, "%s %s is a symlink", what, path);
	if (!S_ISDIR(st.st_mode))
		return rc_fail(RC_ERR_STORE, "%s %s is not a directory", what, path);
	return rc_check_owner_mode(path, &st, 0022, what);
}

/* A data file shorter than the pages its meta page claims (truncated, or
 * cut short by a full disk and a crash) would fault (SIGBUS) when a page
 * past its end is read: refuse it before any read. */
static int check_length(MDB_env *env, const char *dir)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat fst;
	char path[RC_PATH_MAX + 16];
	int mrc;

	if (rc_path_join(path, sizeof(path), dir, "data.mdb") != RC_OK)
		return RC_ERR_STORE;
	if ((mrc = mdb_env_info(env, &info)) != 0 || (mrc = mdb_env_stat(env, &st)) != 0)
		return fail_lmdb(mrc, "cannot read the store's size");
	if (stat(path, &fst) < 0)
		return rc_fail(RC_ERR_STORE, "cannot stat %s: %s", path, strerror(errno));
	if ((uint64_t)(info.me_last_pgno + 1) * st.ms_psize > (uint64_t)fst.st_size)
		return rc_fail(RC_ERR_STORE, "store %s is damaged: %s holds %lld bytes, its last "
		               "page ends at %llu (truncated?)", dir, path, (long long)fst.st_size,
		               (unsigned long long)(info.me_last_pgno + 1) * st.ms_psize);
	return RC_OK;
}

static int env_open(rc_store *s, bool create)
{
	char dir[RC_PATH_MAX];
	MDB_txn *txn = NULL;
	bool make[DB_COUNT] = { false }, any_made = false;
	int rc, mrc;
	unsigned envflags = (s->flags & RC_OPEN_READONLY) ? MDB_RDONLY : 0;

	rc = rc_path_join(dir, sizeof(dir), s->cfg.state_dir, "store");
	if (rc)
		return rc;
	if (!create) {
		rc = check_dir(dir, "store directory");
		if (rc)
			return rc;
	}
	MDB_env *env;
	if ((mrc = mdb_env_create(&env)) != 0)
		return fail_lmdb(mrc, "cannot create the LMDB environment");
	s->env = env;
	mdb_env_set_maxdbs(s->env, DB_COUNT + 2);
	/* A new store gets the configured map; an existing one keeps the size
	 * it has grown to (LMDB reads it from the store). */
	if (create)
		mdb_env_set_mapsize(s->env, s->cfg.map_size ? (size_t)s->cfg.map_size
		                                            : MAP_SIZE_DEFAULT);
	mrc = mdb_env_open(s->env, dir, envflags | MDB_NOTLS, 0600);
	if (mrc) {
		rc = mrc == MDB_INVALID || mrc == MDB_VERSION_MISMATCH
		   ? rc_fail(RC_ERR_STORE, "store %s is damaged or not an LMDB store (%s)",
		             dir, mdb_strerror(mrc))
		   : rc_fail(RC_ERR_STORE, "cannot open store %s: %s", dir, mdb_strerror(mrc));
		goto fail;
	}
	if (!create && (rc = check_length(s->env, dir)) != RC_OK)
		goto fail;
	/* An existing store's databases are opened in a read transaction: an
	 * open never waits for the writer lock (a stopped writer would hold
	 * every login, even root's account phase); only "init" writes here. */
	if ((mrc = mdb_txn_begin(s->env, NULL, create ? 0 : MDB_RDONLY, &txn)) != 0) {
		rc = fail_lmdb(mrc, "cannot read the store");
		goto fail;
	}
	for (int i = 0; i < DB_COUNT; i++) {
		mrc = mdb_dbi_open(txn, db_names[i], create ? MDB_CREATE : 0, &s->dbi[i]);
		if (mrc == MDB_NOTFOUND && (i == DB_AUDIT_AGG || i == DB_HOST || i == DB_OUTBOX)) {
			/* came with schema 2 (audit_refusals) and 3 (host, outbox):
			 * an older store gets it below, in a write transaction of
			 * its own (once), or (read-only) has no aggregated refusals
			 * to show, its host state still in the membership records
			 * and its notices in settings */
			if (!(envflags & MDB_RDONLY))
				make[i] = any_made = true;
			else if (i == DB_AUDIT_AGG)
				s->no_audit_agg = true;
			else if (i == DB_HOST)
				s->no_host = true;
			else
				s->no_outbox = true;
			continue;
		}
		if (mrc == MDB_NOTFOUND && !create) {
			rc = rc_fail(RC_ERR_STORE, "store %s has no \"%s\" database (damaged, or not "
			             "initialised: run \"rollcall init\")", dir, db_names[i]);
			goto fail;
		}
		if (mrc) {
			rc = rc_fail(RC_ERR_STORE, "store %s: database \"%s\": %s", dir,
			             db_names[i], mdb_strerror(mrc));
			goto fail;
		}
	}
	if ((mrc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		rc = fail_lmdb(mrc, "cannot open the store's databases");
		goto fail;
	}
	txn = NULL;
	if (any_made) {
		/* (the host state and the notices are moved by schema_upgrade) */
		if ((mrc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
			txn = NULL;
		for (int i = 0; !mrc && i < DB_COUNT; i++)
			if (make[i])
				mrc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
		if (!mrc) {
			mrc = mdb_txn_commit(txn);
			txn = NULL;
		}
		if (mrc) {
			rc = fail_lmdb(mrc, "cannot add the audit_refusals, host and outbox "
			               "databases");
			goto fail;
		}
	}
	return RC_OK;
fail:
	if (txn)
		mdb_txn_abort(txn);
	mdb_env_close(s->env);
	s->env = NULL;
	return rc;
}

static int keys_load(rc_store *s)
{
	char path[RC_PATH_MAX];
	uint8_t master[RC_MASTER_KEY_LEN];
	int rc = rc_path_join(path, sizeof(path), s->cfg.state_dir, "master.key");

	if (rc)
		return rc;
	rc = rc_master_key_load(path, master);
	if (rc)
		return rc;
	rc_store_keys_derive(master, s->key_codes, s->key_secrets);
	sodium_memzero(master, sizeof(master));
	return RC_OK;
}

static int schema_check(rc_store *s, uint64_t *version)
{
	rc_txn t;
	uint64_t v = 0;
	rc_actor root = { .uid = 0, .origin = "open" };
	int rc = rc_txn_begin(s, &root, false, &t);

	if (rc)
		return rc;
	rc = rc_meta_get_u64(&t, "@schema", &v);
	if (rc == RC_ERR_NOTFOUND)
		rc = rc_fail(RC_ERR_STORE, "store in %s has no schema version "
		             "(damaged, or not initialised)", s->cfg.state_dir);
	else if (!rc && v > RC_SCHEMA_VERSION)
		rc = rc_fail(RC_ERR_SCHEMA, "store in %s has schema version %llu; this "
		             "rollcall reads version %d at most: upgrade rollcall",
		             s->cfg.state_dir, (unsigned long long)v, RC_SCHEMA_VERSION);
	else if (!rc && v == 0)
		rc = rc_fail(RC_ERR_STORE, "store in %s has schema version 0 (damaged)",
		             s->cfg.state_dir);
	*version = v;
	return rc_txn_end(&t, rc);
}

/* Bring a store of an older schema up to this one, once, in one write
 * transaction (a concurrent opener finds it done). */
static int schema_upgrade(rc_store *s)
{
	rc_txn t;
	uint64_t v = 0;
	size_t kept = 0, dropped = 0, moved = 0, notices = 0;
	rc_actor root = { .uid = 0, .origin = "open" };
	int rc = rc_txn_begin(s, &root, true, &t);

	if (rc)
		return rc;
	rc = rc_meta_get_u64(&t, "@schema", &v);
	if (rc || v >= RC_SCHEMA_VERSION) {
		(void)rc_txn_end(&t, RC_ERR_STATE);   /* abort: nothing to do */
		return rc;
	}
	rc_txn_audit(&t, "store.upgrade", "schema");
	if (v < 2)
		rc = rc_tokens_upgrade(&t, &kept, &dropped);
	if (!rc && v < 3)
		rc = rc_host_upgrade(&t, &moved);
	if (!rc && v < 3)
		rc = rc_outbox_upgrade(&t, &notices);
	if (!rc)
		rc = rc_meta_put_u64(&t, "@schema", RC_SCHEMA_VERSION);
	if (!rc && v < 2)
		snprintf(t.detail, sizeof(t.detail), "ok schema %llu to %d: tokens kept=%zu "
		         "revoked=%zu, host state moved=%zu, notices=%zu", (unsigned long long)v,
		         RC_SCHEMA_VERSION, kept, dropped, moved, notices);
	else if (!rc)
		snprintf(t.detail, sizeof(t.detail), "ok schema %llu to %d: host state moved=%zu, "
		         "notices=%zu", (unsigned long long)v, RC_SCHEMA_VERSION, moved, notices);
	return rc_txn_end(&t, rc);
}

static int store_new(rc_store **out, const rc_config *cfg, unsigned flags)
{
	rc_store *s;

	if (sodium_init() < 0)
		return rc_fail(RC_ERR_NOMEM, "libsodium could not be initialised");
	s = calloc(1, sizeof(*s));
	if (!s)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	s->cfg = *cfg;
	s->flags = flags;
	s->pid = getpid();
	*out = s;
	return RC_OK;
}

/* The process's shared handle (RC_OPEN_SHARED). */
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static rc_store *shared_store;

static int store_open(rc_store **out, const rc_config *cfg, unsigned flags);

RC_API int rc_store_open(rc_store **out, const rc_config *cfg, unsigned flags)
{
	int rc;

	if (!(flags & RC_OPEN_SHARED))
		return store_open(out, cfg, flags);
	*out = NULL;
	pthread_mutex_lock(&shared_lock);
	if (shared_store && shared_store->pid != getpid())
		shared_store = NULL;   /* inherited across fork: not ours to use */
	if (shared_store) {
		if (strcmp(shared_store->cfg.state_dir, cfg->state_dir) != 0) {
			rc = rc_fail(RC_ERR_STORE, "this process already has the store in %s "
			             "open; one store per process", shared_store->cfg.state_dir);
		} else if ((shared_store->flags & RC_OPEN_READONLY) && !(flags & RC_OPEN_READONLY)) {
			rc = rc_fail(RC_ERR_STORE, "this process has the store open read-only");
		} else {
			shared_store->refs++;
			*out = shared_store;
			rc = RC_OK;
		}
	} else {
		rc = store_open(out, cfg, flags);
		if (!rc) {
			(*out)->refs = 1;
			shared_store = *out;
		}
	}
	pthread_mutex_unlock(&shared_lock);
	return rc;
}

static int store_open(rc_store **out, const rc_config *cfg, unsigned flags)
{
	rc_store *s = NULL;
	uint64_t version = 0;
	int rc;

	*out = NULL;
	rc = store_new(&s, cfg, flags);
	if (rc)
		return rc;
	rc = check_dir(cfg->state_dir, "state directory");
	if (!rc)
		rc = keys_load(s);
	if (!rc)
		rc = env_open(s, false);
	if (!rc)
		rc = schema_check(s, &version);
	if (!rc && version < RC_SCHEMA_VERSION && !(flags & RC_OPEN_READONLY))
		rc = schema_upgrade(s);
	/* A writer that died between commit and publish is caught up here. */
	if (!rc && !(flags & RC_OPEN_READONLY) && rc_snapshot_catch_up(s) != RC_OK)
		snprintf(s->warning, sizeof(s->warning), "the NSS snapshot is behind the store "
		         "and could not be updated: %s", rc_errmsg());
	if (rc) {
		rc_store_close(s);
		return rc;
	}
	*out = s;
	return RC_OK;
}

/* In batch mode: publish now only when the last publication is a second
 * old (so that the last change is visible within a second of the next
 * one, and at the end). */
static void publish_or_defer(rc_store *s)
{
	struct timespec now;

	if (s->batch) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t ms = (int64_t)(now.tv_sec - s->last_publish.tv_sec) * 1000 +
		             (now.tv_nsec - s->last_publish.tv_nsec) / 1000000;
		if (ms < 1000) {
			s->batch_pending = true;
			return;
		}
	}
	publish_after_commit(s);
}

RC_API void rc_store_batch(rc_store *s, int on)
{
	s->batch = on != 0;
	if (on)
		clock_gettime(CLOCK_MONOTONIC, &s->last_publish);
	else if (s->batch_pending && s->pid == getpid())
		publish_after_commit(s);
}

RC_API void rc_store_close(rc_store *s)
{
	if (!s)
		return;
	if (s->batch_pending && s->pid == getpid() && s->env)
		publish_after_commit(s);
	if ((s->flags & RC_OPEN_SHARED) && s->refs) {   /* not on a failed open */
		pthread_mutex_lock(&shared_lock);
		bool last = --s->refs == 0;
		if (last && shared_store == s)
			shared_store = NULL;
		pthread_mutex_unlock(&shared_lock);
		if (!last)
			return;
	}
	if (s->env)
		mdb_env_close(s->env);
	sodium_memzero(s->key_codes, sizeof(s->key_codes));
	sodium_memzero(s->key_secrets, sizeof(s->key_secrets));
	free(s);
}

static int mkdir_parents(const char *path)
{
	char buf[RC_PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return rc_fail(RC_ERR_STORE, "cannot create %s: %s", buf, strerror(errno));
		*p = '/';
	}
	return RC_OK;
}

/* Remove what a failed rc_store_create made, so that init can be re-run. */
static void create_undo(const rc_config *cfg, bool made_key)
{
	char path[RC_PATH_MAX];

	if (!rc_path_join(path, sizeof(path), cfg->state_dir, "store/data.mdb"))
		unlink(path);
	if (!rc_path_join(path, sizeof(path), cfg->state_dir, "store/lock.mdb"))
		unlink(path);
	if (!rc_path_join(path, sizeof(path), cfg->state_dir, "store"))
		rmdir(path);
	if (made_key && !rc_path_join(path, sizeof(path), cfg->state_dir, "master.key"))
		unlink(path);
}

RC_API int rc_store_create(const rc_config *cfg, const char *owner_email,
                           const char *owner_username, rc_code_result *out)
{
	rc_store *s = NULL;
	char path[RC_PATH_MAX];
	struct stat st;
	rc_txn t;
	rc_actor root = { .uid = 0, .origin = "init" };
	rc_invite_req req = { .email = owner_email, .role = "owner",
	                      .username = owner_username, .full_name = NULL };
	bool made_store = false, made_key = false;
	int rc;

	/* Refuse bad input before anything is created. */
	if ((rc = rc_valid_email(owner_email)) != 0)
		return rc;
	if (owner_username && (rc = rc_valid_username(owner_username)) != 0)
		return rc;
	if (cfg->state_dir[0] != '/')
		return rc_fail(RC_ERR_INVALID, "state directory %s is not an absolute path",
		               cfg->state_dir);
	if ((rc = store_new(&s, cfg, 0)) != 0)
		return rc;
	if ((rc = mkdir_parents(cfg->state_dir)) != 0)
		goto out;
	/* 0755 whatever the umask: nss.snap in it is for every user to read */
	if (mkdir(cfg->state_dir, 0755) == 0) {
		if (chmod(cfg->state_dir, 0755) < 0) {
			rc = rc_fail(RC_ERR_STORE, "cannot chmod %s: %s", cfg->state_dir,
			             strerror(errno));
			goto out;
		}
	} else if (errno != EEXIST) {
		rc = rc_fail(RC_ERR_STORE, "cannot create %s: %s", cfg->state_dir, strerror(errno));
		goto out;
	}
	if ((rc = check_dir(cfg->state_dir, "state directory")) != 0)
		goto out;
	if ((rc = rc_path_join(path, sizeof(path), cfg->state_dir, "store")) != 0)
		goto out;
	if (lstat(path, &st) == 0) {
		rc = rc_fail(RC_ERR_EXISTS, "%s already holds a rollcall store; nothing was changed",
		             cfg->state_dir);
		goto out;
	}
	if (mkdir(path, 0700) < 0) {
		rc = rc_fail(RC_ERR_STORE, "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	made_store = true;
	if ((rc = rc_path_join(path, sizeof(path), cfg->state_dir, "master.key")) != 0)
		goto out;
	if (lstat(path, &st) != 0) {
		if ((rc = rc_master_key_create(path)) != 0)
			goto out;
		made_key = true;
	}
	if ((rc = keys_load(s)) != 0 || (rc = env_open(s, true)) != 0)
		goto out;
	if ((rc = rc_txn_begin(s, &root, true, &t)) != 0)
		goto out;
	rc_txn_audit(&t, "store.init", cfg->state_dir);
	rc = rc_meta_put_u64(&t, "@schema", RC_SCHEMA_VERSION);
	if (!rc)
		rc = rc_roles_seed(&t);
	if (!rc)
		rc = rc_audit_append(&t, "ok");
	if (!rc)
		rc = rc_invite_in(&t, &req, out);
	rc = rc_txn_end(&t, rc);
out:
	rc_store_close(s);
	if (rc && made_store)
		create_undo(cfg, made_key);
	return rc;
}

/* ---- transactions ------------------------------------------------------- */

/* The write transaction this process holds (lib/ keeps one store per
 * process and never nests transactions), for rc_slow_work, and the signal
 * mask it replaced: while a write transaction is open, the terminal's stop
 * signals are held, so that no Ctrl-Z, background read or write stops the
 * process while every other writer waits for it (SIGSTOP cannot be held:
 * the setuid tool makes itself fully root first, so its caller cannot
 * send it). */
static __thread bool write_open;
static __thread sigset_t write_saved_mask;

static void write_txn_held(bool held)
{
	sigset_t stop;

	if (held == write_open)
		return;
	if (held) {
		sigemptyset(&stop);
		sigaddset(&stop, SIGTSTP);
		sigaddset(&stop, SIGTTIN);
		sigaddset(&stop, SIGTTOU);
		pthread_sigmask(SIG_BLOCK, &stop, &write_saved_mask);
	} else {
		pthread_sigmask(SIG_SETMASK, &write_saved_mask, NULL);
	}
	write_open = held;
}

RC_API void rc_slow_work(const char *what)
{
#ifdef RC_DEBUG_CHECKS
	if (write_open) {
		fprintf(stderr, "rollcall: internal error: %s while a write transaction is open "
		        "(every other writer and login waits for it)\n", what);
		abort();
	}
#else
	(void)what;
#endif
}

/* Before a write: when more than half of the map would be used with EXTRA
 * bytes more, double it (as often as needed), so that a growing store
 * never meets MDB_MAP_FULL in normal use.  LMDB allows this only with no
 * transaction open in this process, which holds here: lib/ keeps one store
 * per process and never nests transactions. */
static int map_room(rc_store *s, size_t extra)
{
	MDB_envinfo info;
	MDB_stat st;
	int mrc;

	if ((mrc = mdb_env_info(s->env, &info)) != 0 || (mrc = mdb_env_stat(s->env, &st)) != 0)
		return fail_lmdb(mrc, "cannot read the store's size");
	size_t used = (info.me_last_pgno + 1) * (size_t)st.ms_psize, size = info.me_mapsize;
	if (extra > SIZE_MAX / 4 - used)
		return rc_fail(RC_ERR_FULL, "the store's map cannot grow by %zu bytes", extra);
	while (used + extra > size / 2) {
		if (size > SIZE_MAX / 2)
			return rc_fail(RC_ERR_FULL, "the store's map cannot grow past %zu bytes", size);
		size *= 2;
	}
	if (size == info.me_mapsize)
		return RC_OK;
	mrc = mdb_env_set_mapsize(s->env, size);
	if (mrc)
		return fail_lmdb(mrc, "cannot grow the store's map");
	return RC_OK;
}

int rc_store_reserve(rc_store *s, size_t bytes)
{
	if (s->flags & RC_OPEN_READONLY)
		return rc_fail(RC_ERR_STORE, "the store was opened read-only");
	return map_room(s, bytes);
}

int rc_txn_begin(rc_store *s, const rc_actor *a, bool write, rc_txn *t)
{
	int mrc, rc;

	memset(t, 0, sizeof(*t));
	t->s = s;
	t->write = write;
	t->uid = a->uid;
	t->root = a->uid == 0;
	snprintf(t->origin, sizeof(t->origin), "%s", a->origin);
	if (write && (s->flags & RC_OPEN_READONLY))
		return rc_fail(RC_ERR_STORE, "the store was opened read-only");
	if (s->pid != getpid())
		return rc_fail(RC_ERR_STORE, "the store handle was opened before fork()");
	if (write && (rc = map_room(s, 0)) != RC_OK)
		return rc;
	if (write)
		write_txn_held(true);
	MDB_txn *txn = NULL;
	mrc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &txn);
	if (mrc == MDB_MAP_RESIZED) {
		/* another process grew the map: adopt its size */
		if ((mrc = mdb_env_set_mapsize(s->env, 0)) == 0)
			mrc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &txn);
	}
	t->txn = txn;
	if (mrc) {
		t->txn = NULL;
		if (write)
			write_txn_held(false);
		return fail_lmdb(mrc, "cannot begin a store transaction");
	}
	rc = rc_actor_resolve(t);
	if (rc) {
		mdb_txn_abort(t->txn);
		t->txn = NULL;
		if (write)
			write_txn_held(false);
	}
	return rc;
}

void rc_txn_audit(rc_txn *t, const char *action, const char *target)
{
	snprintf(t->action, sizeof(t->action), "%s", action);
	snprintf(t->target, sizeof(t->target), "%s", target ? target : "");
}

static int commit(rc_txn *t)
{
	int rc = RC_OK;

	if (t->action[0])
		rc = t->aggregate ? rc_audit_aggregate(t, t->detail[0] ? t->detail : "refused")
		                  : rc_audit_append(t, t->detail[0] ? t->detail : "ok");
	if (!rc && t->nss_changed) {
		uint64_t gen = 0;
		rc = rc_meta_get_u64(t, "@generation", &gen);
		if (rc == RC_ERR_NOTFOUND)
			rc = RC_OK;
		if (!rc)
			rc = rc_meta_put_u64(t, "@generation", gen + 1);
		if (!rc)
			rc = rc_nss_log(t, gen + 1);
	}
	rc_nss_forget(t);
	if (rc) {
		mdb_txn_abort(t->txn);
		t->txn = NULL;
		write_txn_held(false);
		return rc;
	}
	int mrc = mdb_txn_commit(t->txn);
	t->txn = NULL;
	/* LMDB reports a short write as EIO: on a full file system, say so */
	struct statvfs vfs;
	if (mrc == EIO && statvfs(t->s->cfg.state_dir, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < 256 * 1024)
		mrc = ENOSPC;
	if (mrc) {
		write_txn_held(false);
		return fail_lmdb(mrc, "cannot commit the change");
	}
	t->s->warning[0] = '\0';
	for (unsigned i = 0; i < t->nqueued && t->s->nqueued < 16; i++)
		memcpy(t->s->queued[t->s->nqueued++], t->queued[i], RC_NOTICE_ID_MAX);
	/* (the stop signals stay held while the snapshot is published: its
	 * lock is waited for by every other publisher) */
	if (t->nss_changed)
		publish_or_defer(t->s);
	write_txn_held(false);
	return RC_OK;
}

static void audit_refusal(rc_txn *t)
{
	char saved[512];
	rc_txn d;
	rc_actor a = { .uid = t->uid };

	snprintf(saved, sizeof(saved), "%s", rc_errmsg());
	snprintf(a.origin, sizeof(a.origin), "%s", t->origin);
	if (rc_txn_begin(t->s, &a, true, &d) == RC_OK) {
		rc_txn_audit(&d, t->action, t->target);
		snprintf(d.detail, sizeof(d.detail), "denied: %.80s", saved);
		/* a caller who is not a member changes nothing and is counted
		 * apart: its refusals never push a change out of the log */
		d.aggregate = !d.root && !d.is_member;
		(void)commit(&d);
	}
	rc_fail(RC_ERR_PERM, "%s", saved);
}

int rc_txn_end(rc_txn *t, int rc)
{
	if (!t->txn) {
		rc_nss_forget(t);
		return rc;
	}
	if (rc == RC_OK && t->write)
		return commit(t);
	rc_nss_forget(t);
	mdb_txn_abort(t->txn);
	t->txn = NULL;
	if (t->write)
		write_txn_held(false);
	if (rc == RC_ERR_PERM && t->write && t->action[0])
		audit_refusal(t);
	return rc;
}

/* ---- records -------------------------------------------------------------- */

#define TXN(t) ((MDB_txn *)(t)->txn)
#define DBI(t, db) ((t)->s->dbi[db])

static MDB_val to_mdb(const void *p, size_t n)
{
	MDB_val m = { .mv_size = n, .mv_data = (void *)(uintptr_t)p };
	return m;
}

static rc_val from_mdb(const MDB_val *m)
{
	rc_val v = { .size = m->mv_size, .data = m->mv_data };
	return v;
}

int rc_store_get(rc_txn *t, int db, const void *key, size_t klen, rc_val *out)
{
	MDB_val k = to_mdb(key, klen), v;
	int mrc;

	out->size = 0;
	out->data = NULL;
	if (klen == 0 || klen > 511)
		return rc_fail(RC_ERR_NOTFOUND, "bad key");
	mrc = mdb_get(TXN(t), DBI(t, db), &k, &v);
	if (mrc == MDB_NOTFOUND)
		return RC_ERR_NOTFOUND;
	if (mrc)
		return fail_lmdb(mrc, "cannot read the store");
	*out = from_mdb(&v);
	return RC_OK;
}

/* The write hook: a write of NEW (NULL: a delete) under K of DB. */
static int write_hook(rc_txn *t, int db, const MDB_val *k, const MDB_val *new)
{
	rc_val key = from_mdb(k), nv, old;
	int rc;

	/* every user whose view changes is noted (the publisher rewrites
	 * their shards only); for the rest, the first change is enough */
	if (t->nss_changed && db != DB_MEMBERS && db != DB_SVCUSERS)
		return RC_OK;
	rc = rc_store_get(t, db, k->mv_data, k->mv_size, &old);
	if (rc && rc != RC_ERR_NOTFOUND)
		return rc;
	if (new)
		nv = from_mdb(new);
	if (rc_nss_shown_change(db, &key, rc ? NULL : &old, new ? &nv : NULL)) {
		t->nss_changed = true;
		rc_nss_note(t, db, &key);
	}
	return RC_OK;
}

int rc_store_put(rc_txn *t, int db, const void *key, size_t klen,
                 const void *val, size_t vlen, unsigned flags)
{
	MDB_val k = to_mdb(key, klen), v = to_mdb(val, vlen);
	int rc, mrc;

	if (!(flags & RC_PUT_NOHOOK) && (rc = write_hook(t, db, &k, &v)) != RC_OK)
		return rc;
	mrc = mdb_put(TXN(t), DBI(t, db), &k, &v, (flags & RC_PUT_APPEND) ? MDB_APPEND : 0);
	if (mrc == MDB_KEYEXIST)
		return RC_ERR_EXISTS;
	return mrc ? fail_lmdb(mrc, "cannot write the store") : RC_OK;
}

int rc_store_del(rc_txn *t, int db, const void *key, size_t klen)
{
	MDB_val k = to_mdb(key, klen), old;
	int rc, mrc;

	if (klen == 0 || klen > 511)
		return RC_ERR_NOTFOUND;
	mrc = mdb_get(TXN(t), DBI(t, db), &k, &old);
	if (mrc == MDB_NOTFOUND)
		return RC_ERR_NOTFOUND;
	if (mrc)
		return fail_lmdb(mrc, "cannot read the store");
	if ((rc = write_hook(t, db, &k, NULL)) != RC_OK)
		return rc;
	mrc = mdb_del(TXN(t), DBI(t, db), &k, NULL);
	if (mrc == MDB_NOTFOUND)
		return RC_ERR_NOTFOUND;
	return mrc ? fail_lmdb(mrc, "cannot write the store") : RC_OK;
}

int rc_store_drop(rc_txn *t, int db, bool remove)
{
	int mrc = mdb_drop(TXN(t), DBI(t, db), remove ? 1 : 0);

	return mrc ? fail_lmdb(mrc, "cannot write the store") : RC_OK;
}

int rc_store_count(rc_txn *t, int db, size_t *n)
{
	MDB_stat st;
	int mrc = mdb_stat(TXN(t), DBI(t, db), &st);

	if (mrc)
		return fail_lmdb(mrc, "cannot read the store");
	*n = st.ms_entries;
	return RC_OK;
}

int rc_store_usage(rc_store *s, uint64_t *used, uint64_t *mapsize)
{
	MDB_envinfo info;
	MDB_stat st;
	int mrc;

	if ((mrc = mdb_env_info(s->env, &info)) != 0 || (mrc = mdb_env_stat(s->env, &st)) != 0)
		return fail_lmdb(mrc, "cannot read the store's size");
	*used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	*mapsize = info.me_mapsize;
	return RC_OK;
}

/* ---- cursors and walks ---------------------------------------------------- */

struct rc_cursor {
	MDB_cursor *c;
	rc_txn *t;
	int db;
};

int rc_cursor_open(rc_txn *t, int db, rc_cursor **out)
{
	rc_cursor *c = malloc(sizeof(*c));
	int mrc;

	*out = NULL;
	if (!c)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	if ((mrc = mdb_cursor_open(TXN(t), DBI(t, db), &c->c)) != 0) {
		free(c);
		return fail_lmdb(mrc, "cannot read the store");
	}
	c->t = t;
	c->db = db;
	*out = c;
	return RC_OK;
}

int rc_cursor_get(rc_cursor *c, rc_val *k, rc_val *v, int op)
{
	static const MDB_cursor_op ops[] = {
		[RC_CUR_FIRST] = MDB_FIRST, [RC_CUR_LAST] = MDB_LAST, [RC_CUR_NEXT] = MDB_NEXT,
		[RC_CUR_PREV] = MDB_PREV, [RC_CUR_SET_KEY] = MDB_SET_KEY,
		[RC_CUR_SET_RANGE] = MDB_SET_RANGE,
	};
	MDB_val mk = to_mdb(k->data, k->size), mv = { 0, NULL };
	int mrc = mdb_cursor_get(c->c, &mk, &mv, ops[op]);

	if (mrc == MDB_NOTFOUND)
		return RC_ERR_NOTFOUND;
	if (mrc)
		return fail_lmdb(mrc, "cannot read the store");
	*k = from_mdb(&mk);
	*v = from_mdb(&mv);
	return RC_OK;
}

int rc_cursor_del(rc_cursor *c)
{
	MDB_val k, v;
	int rc, mrc = mdb_cursor_get(c->c, &k, &v, MDB_GET_CURRENT);

	if (mrc)
		return fail_lmdb(mrc, "cannot read the store");
	if ((rc = write_hook(c->t, c->db, &k, NULL)) != RC_OK)
		return rc;
	mrc = mdb_cursor_del(c->c, 0);
	return mrc ? fail_lmdb(mrc, "cannot write the store") : RC_OK;
}

void rc_cursor_close(rc_cursor *c)
{
	if (c) {
		mdb_cursor_close(c->c);
		free(c);
	}
}

int rc_store_foreach(rc_txn *t, int db, const void *prefix, size_t plen, rc_walk_fn fn,
                     void *ctx)
{
	return rc_store_foreach_from(t, db, prefix, plen, prefix, plen, fn, ctx);
}

int rc_store_foreach_from(rc_txn *t, int db, const void *prefix, size_t plen,
                          const void *from, size_t flen, rc_walk_fn fn, void *ctx)
{
	rc_cursor *c;
	rc_val k = { .size = flen, .data = (void *)(uintptr_t)from }, v;
	int rc = rc_cursor_open(t, db, &c);

	if (rc)
		return rc;
	for (rc = rc_cursor_get(c, &k, &v, flen ? RC_CUR_SET_RANGE : RC_CUR_FIRST); rc == RC_OK;
	     rc = rc_cursor_get(c, &k, &v, RC_CUR_NEXT)) {
		if (k.size < plen || memcmp(k.data, prefix, plen) != 0)
			break;   /* past the prefix */
		int frc = fn(t, &k, &v, ctx);
		if (frc == RC_WALK_DEL)
			frc = rc_cursor_del(c);
		if (frc) {
			rc_cursor_close(c);
			return frc == RC_WALK_STOP ? RC_OK : frc;
		}
	}
	rc_cursor_close(c);
	return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
}

/* ---- meta values (schema, counters) -------------------------------------- */

int rc_store_get_u64(rc_txn *t, int db, const char *key, uint64_t *out)
{
	char buf[32];
	rc_val v;
	int rc = rc_store_gets(t, db, key, &v);

	if (rc)
		return rc;
	rc = rc_setting_decode(v.data, v.size, buf, sizeof(buf));
	if (rc)
		return rc;
	if (rc_uint_parse(buf, 0, UINT64_MAX, out))
		return rc_fail(RC_ERR_STORE, "damaged store value %s", key);
	return RC_OK;
}

int rc_store_put_u64(rc_txn *t, int db, const char *key, uint64_t v)
{
	char buf[32];
	rc_wbuf w;
	int rc;

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	rc_setting_encode(buf, &w);
	rc = rc_store_putw(t, db, key, strlen(key), &w, 0);
	rc_wbuf_free(&w);
	return rc;
}

/* The keys of DB that start with PREFIX, read first (records are
 * rewritten after the walk). */
struct keys {
	char (*arr)[RC_STORE_KEY_MAX + 1];
	size_t n, cap;
};

static int key_add(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct keys *ks = ctx;

	(void)t;
	(void)v;
	if (k->size == 0 || k->size > RC_STORE_KEY_MAX)
		return rc_fail(RC_ERR_STORE, "damaged store (a key of %zu bytes)", k->size);
	if (ks->n == ks->cap) {
		size_t ncap = ks->cap ? ks->cap * 2 : 64;
		void *na = realloc(ks->arr, ncap * sizeof(*ks->arr));
		if (!na)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		ks->arr = na;
		ks->cap = ncap;
	}
	memcpy(ks->arr[ks->n], k->data, k->size);
	ks->arr[ks->n][k->size] = '\0';
	ks->n++;
	return RC_OK;
}

int rc_store_keys(rc_txn *t, int db, const char *prefix, char (**out)[RC_STORE_KEY_MAX + 1],
                  size_t *count)
{
	struct keys ks = { 0 };
	int rc = rc_store_foreach(t, db, prefix, strlen(prefix), key_add, &ks);

	*out = NULL;
	*count = 0;
	if (rc) {
		free(ks.arr);
		return rc;
	}
	*out = ks.arr;
	*count = ks.n;
	return RC_OK;
}
