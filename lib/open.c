/*
 * open.c - the state directory and the store handle: rc_store_open (once
 * per process when shared), rc_store_create ("rollcall init"), the store's
 * keys, the schema (checked, upgraded once), the domain's databases and
 * the hooks it registers with the engine (store.c): the audit record in
 * each commit (audit.c), the NSS snapshot after it (publish.c), the notices
 * queued (notify.c).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "errors.h"
#include "store.h"
#include "txn.h"
#include "crypto.h"
#include "fsutil.h"
#include "actor.h"
#include "member.h"
#include "role.h"
#include "settings.h"
#include "notify.h"
#include "audit.h"
#include "token.h"
#include "hoststate.h"
#include "publish.h"

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



static const char *const db_names[DB_COUNT] = {
	[DB_MEMBERS] = "members", [DB_ROLES] = "roles",
	[DB_INVITATIONS] = "invitations", [DB_SERVICES] = "services",
	[DB_SVCUSERS] = "service_users", [DB_TOKENS] = "tokens",
	[DB_AUDIT] = "audit", [DB_SETTINGS] = "settings",
	[DB_IDX_UID] = "idx_uid", [DB_IDX_EMAIL] = "idx_email",
	[DB_AUDIT_AGG] = "audit_refusals", [DB_HOST] = "host", [DB_OUTBOX] = "outbox",
};

/* The hooks of the domain, in order: the audit record and the NSS
 * generation in the commit; after it the notices handed to the handle,
 * then the snapshot published; on a refusal, its audit record. */
static int hooks_add(rc_store *s)
{
	int rc = rc_store_hook_add(s, RC_HOOK_PRE_COMMIT | RC_HOOK_ABORT, rc_audit_hook, NULL);

	if (!rc)
		rc = rc_store_hook_add(s, RC_HOOK_PRE_COMMIT | RC_HOOK_ABORT, rc_publish_pre_hook,
		                       NULL);
	if (!rc)
		rc = rc_store_hook_add(s, RC_HOOK_POST_COMMIT, rc_notice_hook, NULL);
	if (!rc)
		rc = rc_store_hook_add(s, RC_HOOK_POST_COMMIT, rc_publish_post_hook, NULL);
	rc_store_write_hook_set(s, rc_publish_write_hook, NULL);
	return rc;
}

/* The store's environment in STATE_DIR/store, with the domain's hooks.
 * The databases that came with schema 2 (audit_refusals) and 3 (host,
 * outbox) are made when missing (the host state and the notices are moved
 * by schema_upgrade); read-only, a store without them has no aggregated
 * refusals to show, its host state still in the membership records and its
 * notices in settings. */
static int env_open(rc_store *s, bool create)
{
	char dir[RC_PATH_MAX];
	uint32_t missing = 0;
	const uint32_t later = 1u << DB_AUDIT_AGG | 1u << DB_HOST | 1u << DB_OUTBOX;
	int rc = rc_path_join(dir, sizeof(dir), s->cfg.state_dir, "store");

	if (rc)
		return rc;
	if (!create && (rc = check_dir(dir, "store directory")) != RC_OK)
		return rc;
	rc = rc_store_env_open(s, dir, db_names, DB_COUNT, create ? 0 : later, create,
	                       (s->flags & RC_OPEN_READONLY) != 0, (size_t)s->cfg.map_size,
	                       &missing);
	if (rc)
		return rc;
	s->no_audit_agg = missing & (1u << DB_AUDIT_AGG);
	s->no_host = missing & (1u << DB_HOST);
	s->no_outbox = missing & (1u << DB_OUTBOX);
	rc = hooks_add(s);
	if (rc)
		rc_store_env_close(s);
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



RC_API void rc_store_close(rc_store *s)
{
	if (!s)
		return;
	if (rc_store_env_ok(s))
		rc_publish_pending(s);
	if ((s->flags & RC_OPEN_SHARED) && s->refs) {   /* not on a failed open */
		pthread_mutex_lock(&shared_lock);
		bool last = --s->refs == 0;
		if (last && shared_store == s)
			shared_store = NULL;
		pthread_mutex_unlock(&shared_lock);
		if (!last)
			return;
	}
	rc_store_env_close(s);
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

/* The state directory, made with its parents: 0755 whatever the umask
 * (nss.snap in it is for every user to read), ours, not writable by others. */
static int state_dir_make(const rc_config *cfg)
{
	int rc = mkdir_parents(cfg->state_dir);

	if (rc)
		return rc;
	if (mkdir(cfg->state_dir, 0755) == 0) {
		if (chmod(cfg->state_dir, 0755) < 0)
			return rc_fail(RC_ERR_STORE, "cannot chmod %s: %s", cfg->state_dir,
			               strerror(errno));
	} else if (errno != EEXIST) {
		return rc_fail(RC_ERR_STORE, "cannot create %s: %s", cfg->state_dir,
		               strerror(errno));
	}
	return check_dir(cfg->state_dir, "state directory");
}

/* The store's directory (none yet: a store is never made over another)
 * and master.key when missing; what was made is told for create_undo. */
static int store_dir_make(const rc_config *cfg, bool *made_store, bool *made_key)
{
	char path[RC_PATH_MAX];
	struct stat st;
	int rc = rc_path_join(path, sizeof(path), cfg->state_dir, "store");

	if (rc)
		return rc;
	if (lstat(path, &st) == 0)
		return rc_fail(RC_ERR_EXISTS, "%s already holds a rollcall store; nothing was "
		               "changed", cfg->state_dir);
	if (mkdir(path, 0700) < 0)
		return rc_fail(RC_ERR_STORE, "cannot create %s: %s", path, strerror(errno));
	*made_store = true;
	if ((rc = rc_path_join(path, sizeof(path), cfg->state_dir, "master.key")) != 0)
		return rc;
	if (lstat(path, &st) != 0) {
		if ((rc = rc_master_key_create(path)) != 0)
			return rc;
		*made_key = true;
	}
	return RC_OK;
}

/* The new store's first commit: the schema, the built-in roles, and the
 * owner's invitation (its code to OUT). */
static int store_seed(rc_store *s, const char *owner_email, const char *owner_username,
                      rc_code_result *out)
{
	rc_txn t;
	rc_actor root = { .uid = 0, .origin = "init" };
	rc_invite_req req = { .email = owner_email, .role = "owner",
	                      .username = owner_username, .full_name = NULL };
	int rc = rc_txn_begin(s, &root, true, &t);

	if (rc)
		return rc;
	rc_txn_audit(&t, "store.init", s->cfg.state_dir);
	rc = rc_meta_put_u64(&t, "@schema", RC_SCHEMA_VERSION);
	if (!rc)
		rc = rc_roles_seed(&t);
	if (!rc)
		rc = rc_audit_append(&t, "ok");
	if (!rc)
		rc = rc_invite_in(&t, &req, out);
	return rc_txn_end(&t, rc);
}

/* A replica's first transaction: the schema only (the directory brings
 * the roles, settings and members), audited as a join. */
static int replica_seed(rc_store *s)
{
	rc_txn t;
	rc_actor root = { .uid = 0, .origin = "fleet join" };
	int rc = rc_txn_begin(s, &root, true, &t);

	if (rc)
		return rc;
	rc_txn_audit(&t, "fleet.join", s->cfg.state_dir);
	rc = rc_meta_put_u64(&t, "@schema", RC_SCHEMA_VERSION);
	if (!rc)
		rc = rc_audit_append(&t, "ok");
	return rc_txn_end(&t, rc);
}

/* The store made: seeded with an owner's invitation (OWNER_EMAIL), or as
 * an empty replica (NULL). */
static int store_make(const rc_config *cfg, const char *owner_email,
                      const char *owner_username, rc_code_result *out)
{
	rc_store *s = NULL;
	bool made_store = false, made_key = false;
	int rc;

	if (cfg->state_dir[0] != '/')
		return rc_fail(RC_ERR_INVALID, "state directory %s is not an absolute path",
		               cfg->state_dir);
	if ((rc = store_new(&s, cfg, 0)) != 0)
		return rc;
	rc = state_dir_make(cfg);
	if (!rc)
		rc = store_dir_make(cfg, &made_store, &made_key);
	if (!rc)
		rc = keys_load(s);
	if (!rc)
		rc = env_open(s, true);
	if (!rc)
		rc = owner_email ? store_seed(s, owner_email, owner_username, out) : replica_seed(s);
	rc_store_close(s);
	if (rc && made_store)
		create_undo(cfg, made_key);
	return rc;
}

RC_API int rc_store_create(const rc_config *cfg, const char *owner_email,
                           const char *owner_username, rc_code_result *out)
{
	int rc;

	/* Refuse bad input before anything is created. */
	if ((rc = rc_valid_email(owner_email)) != 0)
		return rc;
	if (owner_username && (rc = rc_valid_username(owner_username)) != 0)
		return rc;
	return store_make(cfg, owner_email, owner_username, out);
}

RC_API int rc_store_create_replica(const rc_config *cfg)
{
	return store_make(cfg, NULL, NULL, NULL);
}

