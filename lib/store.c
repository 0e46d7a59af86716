/*
 * store.c - the storage engine: the LMDB environment, transactions, records
 * (get, put, del), walks and cursors, counters, the map's room, and the
 * hooks a write and a commit run.  It knows no record, member or rule: the
 * domain gives the databases' names at open and registers its hooks (the
 * audit record appended in the same transaction, the NSS snapshot published
 * after it: lib/open.c).  The only file of lib/ that sees LMDB (store.h).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <lmdb.h>
#include "store.h"
#include "errors.h"
#include "fsutil.h"

#define MAP_SIZE_DEFAULT ((size_t)1 << 30)
#define HOOKS_MAX 8

struct hook {
	unsigned when;
	rc_hook_fn fn;
	void *ctx;
};

/* The engine's part of a store handle. */
struct rc_engine {
	MDB_env *env;
	MDB_dbi dbi[RC_STORE_DB_MAX];
	bool readonly;
	pid_t pid;                 /* the process that opened it */
	char dir[RC_PATH_MAX];
	struct hook hooks[HOOKS_MAX];
	unsigned nhooks;
	rc_write_hook_fn on_write;
	void *on_write_ctx;
	rc_write_hook_fn capture;  /* capture mode (rc_store_capture_set) */
	void *capture_ctx;
};

/* The engine's parts: the first member of rc_store and of rc_txn. */
#define KV(s) (*(struct rc_engine *const *)(const void *)(s))
#define TE(t) ((struct rc_txn_engine *)(void *)(t))
#define TXN(t) ((MDB_txn *)TE(t)->kv_txn)
#define DBI(t, db) (KV(TE(t)->s)->dbi[db])

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

/* ---- the environment ------------------------------------------------------ */

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

/* Open each database of NAMES in TXN; those of OPTIONAL that are missing
 * go to *MISSING. */
static int dbs_open(struct rc_engine *e, MDB_txn *txn, const char *const *names, int n,
                    uint32_t optional, bool create, uint32_t *missing)
{
	for (int i = 0; i < n; i++) {
		int mrc = mdb_dbi_open(txn, names[i], create ? MDB_CREATE : 0, &e->dbi[i]);
		if (mrc == MDB_NOTFOUND && (optional & (1u << i))) {
			*missing |= 1u << i;
			continue;
		}
		if (mrc == MDB_NOTFOUND)
			return rc_fail(RC_ERR_STORE, "store %s has no \"%s\" database (damaged, or "
			               "not initialised: run \"rollcall init\")", e->dir, names[i]);
		if (mrc)
			return rc_fail(RC_ERR_STORE, "store %s: database \"%s\": %s", e->dir,
			               names[i], mdb_strerror(mrc));
	}
	return RC_OK;
}

/* The optional databases MAKE (came with a later schema) made, in a write
 * transaction of their own (once: a concurrent opener finds them). */
static int dbs_make(struct rc_engine *e, const char *const *names, int n, uint32_t make)
{
	MDB_txn *txn = NULL;
	char list[256] = "";
	int mrc = mdb_txn_begin(e->env, NULL, 0, &txn);

	for (int i = 0; !mrc && i < n; i++)
		if (make & (1u << i)) {
			mrc = mdb_dbi_open(txn, names[i], MDB_CREATE, &e->dbi[i]);
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			         list[0] ? ", " : "", names[i]);
		}
	if (!mrc)
		return (mrc = mdb_txn_commit(txn)) != 0
		     ? fail_lmdb(mrc, "cannot add the store's new databases") : RC_OK;
	if (txn)
		mdb_txn_abort(txn);
	return fail_lmdb(mrc, list[0] ? "cannot add the store's new databases" : "cannot "
	                 "write the store");
}

static int env_create(struct rc_engine *e, bool create, bool readonly, size_t map_size)
{
	int mrc;

	if ((mrc = mdb_env_create(&e->env)) != 0) {
		e->env = NULL;
		return fail_lmdb(mrc, "cannot create the LMDB environment");
	}
	mdb_env_set_maxdbs(e->env, RC_STORE_DB_MAX + 2);
	/* A new store gets the configured map; an existing one keeps the size
	 * it has grown to (LMDB reads it from the store). */
	if (create)
		mdb_env_set_mapsize(e->env, map_size ? map_size : MAP_SIZE_DEFAULT);
	mrc = mdb_env_open(e->env, e->dir, (readonly ? MDB_RDONLY : 0) | MDB_NOTLS, 0600);
	if (mrc == MDB_INVALID || mrc == MDB_VERSION_MISMATCH)
		return rc_fail(RC_ERR_STORE, "store %s is damaged or not an LMDB store (%s)",
		               e->dir, mdb_strerror(mrc));
	if (mrc)
		return rc_fail(RC_ERR_STORE, "cannot open store %s: %s", e->dir, mdb_strerror(mrc));
	return create ? RC_OK : check_length(e->env, e->dir);
}

int rc_store_env_open(rc_store *s, const char *dir, const char *const *names, int n,
                      uint32_t optional, bool create, bool readonly, size_t map_size,
                      uint32_t *missing)
{
	struct rc_engine *e = calloc(1, sizeof(*e));
	MDB_txn *txn = NULL;
	int rc, mrc;

	*missing = 0;
	if (!e)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	*(struct rc_engine **)(void *)s = e;
	e->readonly = readonly;
	e->pid = getpid();
	if (n > RC_STORE_DB_MAX || strlen(dir) >= sizeof(e->dir)) {
		rc = rc_fail(RC_ERR_STORE, "store %.64s: too many databases or too long a path",
		             dir);
		goto fail;
	}
	memcpy(e->dir, dir, strlen(dir) + 1);
	if ((rc = env_create(e, create, readonly, map_size)) != RC_OK)
		goto fail;
	/* An existing store's databases are opened in a read transaction: an
	 * open never waits for the writer lock (a stopped writer would hold
	 * every login, even root's account phase); only a create writes here. */
	if ((mrc = mdb_txn_begin(e->env, NULL, create ? 0 : MDB_RDONLY, &txn)) != 0) {
		rc = fail_lmdb(mrc, "cannot read the store");
		goto fail;
	}
	rc = dbs_open(e, txn, names, n, optional, create, missing);
	if (rc) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((mrc = mdb_txn_commit(txn)) != 0) {
		rc = fail_lmdb(mrc, "cannot open the store's databases");
		goto fail;
	}
	if (*missing && !readonly) {
		rc = dbs_make(e, names, n, *missing);
		*missing = 0;
		if (rc)
			goto fail;
	}
	return RC_OK;
fail:
	rc_store_env_close(s);
	return rc;
}

void rc_store_env_close(rc_store *s)
{
	struct rc_engine *e = KV(s);

	if (!e)
		return;
	if (e->env)
		mdb_env_close(e->env);
	free(e);
	*(struct rc_engine **)(void *)s = NULL;
}

bool rc_store_env_ok(const rc_store *s)
{
	return KV(s) && KV(s)->env;
}

/* ---- hooks ------------------------------------------------------------------ */

int rc_store_hook_add(rc_store *s, unsigned when, rc_hook_fn fn, void *ctx)
{
	struct rc_engine *e = KV(s);

	if (e->nhooks == HOOKS_MAX)
		return rc_fail(RC_ERR_FULL, "too many store hooks");
	e->hooks[e->nhooks++] = (struct hook){ when, fn, ctx };
	return RC_OK;
}

void rc_store_write_hook_set(rc_store *s, rc_write_hook_fn fn, void *ctx)
{
	KV(s)->on_write = fn;
	KV(s)->on_write_ctx = ctx;
}

void rc_store_capture_set(rc_store *s, rc_write_hook_fn fn, void *ctx)
{
	KV(s)->capture = fn;
	KV(s)->capture_ctx = ctx;
}

static int hooks_run(rc_txn *t, unsigned when, int rc)
{
	struct rc_engine *e = KV(TE(t)->s);

	for (unsigned i = 0; i < e->nhooks; i++) {
		if (!(e->hooks[i].when & when))
			continue;
		int hrc = e->hooks[i].fn(t, rc, e->hooks[i].ctx);
		if (hrc && when == RC_HOOK_PRE_COMMIT)
			return hrc;
	}
	return RC_OK;
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
static int map_room(struct rc_engine *e, size_t extra)
{
	MDB_envinfo info;
	MDB_stat st;
	int mrc;

	if ((mrc = mdb_env_info(e->env, &info)) != 0 || (mrc = mdb_env_stat(e->env, &st)) != 0)
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
	mrc = mdb_env_set_mapsize(e->env, size);
	if (mrc)
		return fail_lmdb(mrc, "cannot grow the store's map");
	return RC_OK;
}

int rc_store_reserve(rc_store *s, size_t bytes)
{
	if (KV(s)->readonly)
		return rc_fail(RC_ERR_STORE, "the store was opened read-only");
	return map_room(KV(s), bytes);
}

int rc_store_txn_begin(rc_store *s, bool write, rc_txn *t)
{
	struct rc_engine *e = KV(s);
	struct rc_txn_engine *te = TE(t);
	MDB_txn *txn = NULL;
	int mrc, rc;

	te->s = s;
	te->write = write;
	te->kv_txn = NULL;
	if (write && e->readonly)
		return rc_fail(RC_ERR_STORE, "the store was opened read-only");
	if (e->pid != getpid())
		return rc_fail(RC_ERR_STORE, "the store handle was opened before fork()");
	if (write && (rc = map_room(e, 0)) != RC_OK)
		return rc;
	if (write)
		write_txn_held(true);
	mrc = mdb_txn_begin(e->env, NULL, write ? 0 : MDB_RDONLY, &txn);
	if (mrc == MDB_MAP_RESIZED) {
		/* another process grew the map: adopt its size */
		if ((mrc = mdb_env_set_mapsize(e->env, 0)) == 0)
			mrc = mdb_txn_begin(e->env, NULL, write ? 0 : MDB_RDONLY, &txn);
	}
	if (mrc) {
		if (write)
			write_txn_held(false);
		return fail_lmdb(mrc, "cannot begin a store transaction");
	}
	te->kv_txn = txn;
	return RC_OK;
}

bool rc_txn_open(const rc_txn *t)
{
	return ((const struct rc_txn_engine *)(const void *)t)->kv_txn != NULL;
}

static int commit(rc_txn *t)
{
	struct rc_txn_engine *te = TE(t);
	struct rc_engine *e = KV(te->s);
	int rc;

	/* capture mode: the capture is told of the end (no key) and the
	 * transaction is aborted, no commit hook run */
	if (e->capture) {
		rc = e->capture(t, -1, NULL, NULL, e->capture_ctx);
		mdb_txn_abort(TXN(t));
		te->kv_txn = NULL;
		write_txn_held(false);
		(void)hooks_run(t, RC_HOOK_ABORT, RC_OK);
		return rc;
	}
	rc = hooks_run(t, RC_HOOK_PRE_COMMIT, RC_OK);

	if (rc) {
		mdb_txn_abort(TXN(t));
		te->kv_txn = NULL;
		write_txn_held(false);
		(void)hooks_run(t, RC_HOOK_ABORT, rc);
		return rc;
	}
	int mrc = mdb_txn_commit(TXN(t));
	te->kv_txn = NULL;
	/* LMDB reports a short write as EIO: on a full file system, say so */
	struct statvfs vfs;
	if (mrc == EIO && statvfs(KV(te->s)->dir, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < 256 * 1024)
		mrc = ENOSPC;
	if (mrc) {
		write_txn_held(false);
		rc = fail_lmdb(mrc, "cannot commit the change");
		(void)hooks_run(t, RC_HOOK_ABORT, rc);
		return rc;
	}
	/* (the stop signals stay held while the hooks run: the snapshot's
	 * lock is waited for by every other publisher) */
	(void)hooks_run(t, RC_HOOK_POST_COMMIT, RC_OK);
	write_txn_held(false);
	return RC_OK;
}

int rc_txn_end(rc_txn *t, int rc)
{
	struct rc_txn_engine *te = TE(t);

	if (!te->kv_txn)
		return rc;   /* never begun, or ended */
	if (rc == RC_OK && te->write)
		return commit(t);
	mdb_txn_abort(TXN(t));
	te->kv_txn = NULL;
	if (te->write)
		write_txn_held(false);
	(void)hooks_run(t, RC_HOOK_ABORT, rc);
	return rc;
}

/* ---- records -------------------------------------------------------------- */

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
	struct rc_engine *e = KV(TE(t)->s);
	rc_val key = from_mdb(k), nv;
	int rc = RC_OK;

	if (new)
		nv = from_mdb(new);
	if (e->on_write)
		rc = e->on_write(t, db, &key, new ? &nv : NULL, e->on_write_ctx);
	if (!rc && e->capture)
		rc = e->capture(t, db, &key, new ? &nv : NULL, e->capture_ctx);
	return rc;
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

	if ((mrc = mdb_env_info(KV(s)->env, &info)) != 0 ||
	    (mrc = mdb_env_stat(KV(s)->env, &st)) != 0)
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
