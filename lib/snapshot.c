/*
 * snapshot.c - publishing the NSS snapshot (see snapshot.h).
 *
 * After a committed change that alters what NSS shows, the whole public view
 * is written to nss.mdb.tmp (mode 0644), synced, and renamed over nss.mdb;
 * then the directory is synced.  Publishing is serialised by a lock file, and
 * the snapshot carries the store's generation, so that an older view never
 * replaces a newer one.  No secret is ever written: names, ids, full names,
 * homes, shells and group memberships only.
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
#include <sys/file.h>
#include <unistd.h>
#include <sodium.h>
#include "internal.h"
#include "snapshot.h"

struct group_acc {
	char name[RC_NAME_MAX + 1];
	uint32_t gid;
	char *mem;        /* NUL-terminated names back to back */
	size_t len, cap;
	uint32_t n;
};

struct pub {
	rc_store *s;
	MDB_txn *out;
	MDB_dbi dbi;
	struct group_acc *groups;
	size_t ngroups, cap;
	uint32_t members_gid;   /* rollcall-members, 0 when the store has none */
	/* The groups are added in this order: rollcall-members, the roles and
	 * the services (three groups each), the last two walked in key order,
	 * so each run is sorted by name and can be searched. */
	size_t roles_begin, roles_end, services_begin;
};

static int put(struct pub *p, char prefix, const void *key, size_t klen, const void *val,
               size_t vlen)
{
	char kb[RC_NAME_MAX + 8];
	MDB_val k = { klen + 1, kb }, v = { vlen, (void *)(uintptr_t)val };
	int m;

	kb[0] = prefix;
	memcpy(kb + 1, key, klen);
	m = mdb_put(p->out, p->dbi, &k, &v, 0);
	return m ? rc_fail_lmdb(m, "cannot write the NSS snapshot") : RC_OK;
}

static void le32(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)x;
	p[1] = (uint8_t)(x >> 8);
	p[2] = (uint8_t)(x >> 16);
	p[3] = (uint8_t)(x >> 24);
}

static void be32(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)(x >> 24);
	p[1] = (uint8_t)(x >> 16);
	p[2] = (uint8_t)(x >> 8);
	p[3] = (uint8_t)x;
}

static struct group_acc *group_add(struct pub *p, const char *name, uint32_t gid)
{
	if (p->ngroups == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 64;
		struct group_acc *n = realloc(p->groups, ncap * sizeof(*n));
		if (!n)
			return NULL;
		p->groups = n;
		p->cap = ncap;
	}
	struct group_acc *g = &p->groups[p->ngroups++];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->gid = gid;
	return g;
}

/* The group in [BEGIN, END) STEP apart whose name after SKIP characters is
 * NAME, or NULL. */
static struct group_acc *group_search(struct pub *p, size_t begin, size_t end, size_t step,
                                      size_t skip, const char *name)
{
	size_t lo = 0, hi = (end - begin) / step;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct group_acc *g = &p->groups[begin + mid * step];
		int c = strcmp(name, g->name + skip);
		if (c == 0)
			return g;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int group_add_user(struct group_acc *g, const char *user)
{
	size_t n = strlen(user) + 1;
	if (g->len + n > g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 256;
		while (ncap < g->len + n)
			ncap *= 2;
		char *m = realloc(g->mem, ncap);
		if (!m)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		g->mem = m;
		g->cap = ncap;
	}
	memcpy(g->mem + g->len, user, n);
	g->len += n;
	g->n++;
	return RC_OK;
}

/* A user: passwd entry, uid index, private group, supplementary gids. */
static int put_user(struct pub *p, const char *name, uint32_t uid, const char *gecos,
                    const char *shell, const uint32_t *gids, size_t ngids)
{
	uint8_t rec[8 + RC_NAME_MAX + RC_FULLNAME_MAX + 2 * RC_PATH_MAX + 8], k[4];
	char dir[RC_PATH_MAX];
	size_t o = 8;
	int rc;

	if (rc_path_join(dir, sizeof(dir), p->s->cfg.home_base, name))
		return rc_fail(RC_ERR_CONFIG, "home_base is too long");
	le32(rec, uid);
	le32(rec + 4, uid);   /* the private group */
	const char *fields[4] = { name, gecos, dir, shell };
	for (int i = 0; i < 4; i++) {
		size_t n = strlen(fields[i]) + 1;
		memcpy(rec + o, fields[i], n);
		o += n;
	}
	if ((rc = put(p, 'P', name, strlen(name), rec, o)) != 0)
		return rc;
	be32(k, uid);
	if ((rc = put(p, 'U', k, 4, name, strlen(name))) != 0)
		return rc;
	/* private group: gid = uid, no members */
	uint8_t gr[8 + RC_NAME_MAX + 1];
	le32(gr, uid);
	le32(gr + 4, 0);
	memcpy(gr + 8, name, strlen(name) + 1);
	if ((rc = put(p, 'G', name, strlen(name), gr, 8 + strlen(name) + 1)) != 0 ||
	    (rc = put(p, 'I', k, 4, name, strlen(name))) != 0)
		return rc;
	uint8_t g[4 * 8];
	for (size_t i = 0; i < ngids && i < 8; i++)
		le32(g + 4 * i, gids[i]);
	return put(p, 'M', name, strlen(name), g, 4 * (ngids < 8 ? ngids : 8));
}

static int put_groups(struct pub *p)
{
	int rc = RC_OK;
	for (size_t i = 0; !rc && i < p->ngroups; i++) {
		struct group_acc *g = &p->groups[i];
		size_t nl = strlen(g->name) + 1, len = 8 + nl + g->len;
		uint8_t *rec = malloc(len), k[4];
		if (!rec)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		le32(rec, g->gid);
		le32(rec + 4, g->n);
		memcpy(rec + 8, g->name, nl);
		if (g->len)
			memcpy(rec + 8 + nl, g->mem, g->len);
		rc = put(p, 'G', g->name, nl - 1, rec, len);
		free(rec);
		be32(k, g->gid);
		if (!rc)
			rc = put(p, 'I', k, 4, g->name, nl - 1);
	}
	return rc;
}

/* Walk one database of the store, calling FN with each value. */
static int walk(rc_txn *t, int db, int (*fn)(struct pub *, const MDB_val *), struct pub *p)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = RC_OK, m;

	if ((m = mdb_cursor_open(t->txn, t->s->dbi[db], &c)) != 0)
		return rc_fail_lmdb(m, "cannot read the store");
	for (m = mdb_cursor_get(c, &k, &v, MDB_FIRST); m == 0 && !rc;
	     m = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		rc = fn(p, &v);
	mdb_cursor_close(c);
	if (!rc && m != MDB_NOTFOUND)
		rc = rc_fail_lmdb(m, "cannot read the store");
	return rc;
}

static int on_role(struct pub *p, const MDB_val *v)
{
	rc_role r;
	char name[RC_NAME_MAX + 16];
	int rc = rc_role_decode(v->mv_data, v->mv_size, &r);
	if (rc)
		return rc;
	snprintf(name, sizeof(name), "rollcall-%s", r.name);
	return group_add(p, name, r.gid) ? RC_OK : rc_fail(RC_ERR_NOMEM, "out of memory");
}

static int on_service(struct pub *p, const MDB_val *v)
{
	rc_service svc;
	char name[RC_NAME_MAX + 16];
	int rc = rc_service_decode(v->mv_data, v->mv_size, &svc);
	if (rc)
		return rc;
	static const char *const suffix[3] = { "", "-readonly", "-replication" };
	const uint32_t gids[3] = { svc.gid, svc.gid_readonly, svc.gid_replication };
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "svc-%s%s", svc.name, suffix[i]);
		if (!group_add(p, name, gids[i]))
			return rc_fail(RC_ERR_NOMEM, "out of memory");
	}
	return RC_OK;
}

static int on_member(struct pub *p, const MDB_val *v)
{
	rc_member_rec m;
	uint32_t gids[2];
	size_t n = 0;
	struct group_acc *g;
	int rc = rc_member_decode(v->mv_data, v->mv_size, &m);
	if (rc)
		return rc;
	/* the role group, then rollcall-members */
	g = group_search(p, p->roles_begin, p->roles_end, 1, 9, m.role);
	if (g) {
		gids[n++] = g->gid;
		if ((rc = group_add_user(g, m.username)) != 0)
			return rc;
	}
	if (p->members_gid) {
		g = &p->groups[0];
		gids[n++] = g->gid;
		if ((rc = group_add_user(g, m.username)) != 0)
			return rc;
	}
	return put_user(p, m.username, m.uid, m.full_name, p->s->cfg.shell, gids, n);
}

static int on_svcuser(struct pub *p, const MDB_val *v)
{
	rc_svcuser_rec u;
	char gecos[64];
	uint32_t gids[3];
	size_t n = 0;
	int rc = rc_svcuser_decode(v->mv_data, v->mv_size, &u);
	if (rc)
		return rc;
	/* svc-NAME, svc-NAME-readonly, svc-NAME-replication, in that order */
	struct group_acc *g = group_search(p, p->services_begin, p->ngroups, 3, 4, u.pub.service);
	const int want[3] = { 1, u.pub.read_only, u.pub.replication };
	for (int i = 0; g && i < 3 && !rc; i++) {
		if (!want[i])
			continue;
		gids[n++] = g[i].gid;
		rc = group_add_user(&g[i], u.pub.username);
	}
	snprintf(gecos, sizeof(gecos), "service user of %s", u.pub.service);
	if (!rc)
		rc = put_user(p, u.pub.username, u.pub.uid, gecos, p->s->cfg.service_shell, gids, n);
	memset(&u, 0, sizeof(u));
	return rc;
}

/* ---- what NSS shows of one record ------------------------------------------- */

/* The NSS projection of a record of database DB: exactly the fields that
 * on_role, on_service, on_member and on_svcuser above publish, written to
 * OUT (a canonical string).  0 when DB is not published (or the record
 * does not decode: then it is taken as changed). */
static size_t projection(int db, const MDB_val *key, const MDB_val *v, char *out, size_t len)
{
	int n = -1;

	switch (db) {
	case DB_MEMBERS: {
		rc_member_rec m;
		if (rc_member_decode(v->mv_data, v->mv_size, &m) == RC_OK)
			n = snprintf(out, len, "m\n%s\n%u\n%s\n%s", m.username, (unsigned)m.uid,
			             m.full_name, m.role);
		sodium_memzero(&m, sizeof(m));
		break;
	}
	case DB_SVCUSERS: {
		rc_svcuser_rec u;
		if (rc_svcuser_decode(v->mv_data, v->mv_size, &u) == RC_OK)
			n = snprintf(out, len, "u\n%s\n%u\n%s\n%d%d", u.pub.username,
			             (unsigned)u.pub.uid, u.pub.service, !!u.pub.read_only,
			             !!u.pub.replication);
		sodium_memzero(&u, sizeof(u));
		break;
	}
	case DB_ROLES: {
		rc_role r;
		if (rc_role_decode(v->mv_data, v->mv_size, &r) == RC_OK)
			n = snprintf(out, len, "r\n%s\n%u", r.name, (unsigned)r.gid);
		break;
	}
	case DB_SERVICES: {
		rc_service svc;
		if (rc_service_decode(v->mv_data, v->mv_size, &svc) == RC_OK)
			n = snprintf(out, len, "s\n%s\n%u\n%u\n%u", svc.name, (unsigned)svc.gid,
			             (unsigned)svc.gid_readonly, (unsigned)svc.gid_replication);
		break;
	}
	case DB_SETTINGS:
		/* the rollcall-members group's gid; nothing else there is shown */
		if (key->mv_size == 12 && memcmp(key->mv_data, "@gid_members", 12) == 0 &&
		    v->mv_size < len / 2) {
			memcpy(out, v->mv_data, v->mv_size);
			n = (int)v->mv_size;
		}
		break;
	}
	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

static bool shown(int db, const MDB_val *key)
{
	return db == DB_MEMBERS || db == DB_SVCUSERS || db == DB_ROLES || db == DB_SERVICES ||
	       (db == DB_SETTINGS && key->mv_size == 12 &&
	        memcmp(key->mv_data, "@gid_members", 12) == 0);
}

/* Does replacing OLD (NULL: none) by NEW (NULL: deleted) under KEY of DB
 * change what NSS shows?  The one place that decides whether a commit
 * republishes the snapshot: a login's write (failure counter, last active,
 * TOTP step, a token's use) changes nothing shown and publishes nothing. */
bool rc_nss_shown_change(int db, const MDB_val *key, const MDB_val *old, const MDB_val *new)
{
	char a[RC_NAME_MAX * 2 + RC_FULLNAME_MAX + RC_SERVICE_MAX + 64];
	char b[sizeof(a)];
	size_t na, nb;

	if (!shown(db, key))
		return false;
	if (!old || !new)
		return old != new;
	na = projection(db, key, old, a, sizeof(a));
	nb = projection(db, key, new, b, sizeof(b));
	return na == 0 || nb == 0 || na != nb || memcmp(a, b, na) != 0;
}

/* What of the configuration the snapshot shows (homes, shells), as 8
 * bytes written after the generation: a snapshot made with other values is
 * published again when the store is next opened (rc_snapshot_catch_up),
 * though the store has not changed. */
static void config_print(const rc_config *cfg, uint8_t out[8])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 8);
	crypto_generichash_update(&st, (const uint8_t *)cfg->home_base, strlen(cfg->home_base) + 1);
	crypto_generichash_update(&st, (const uint8_t *)cfg->shell, strlen(cfg->shell) + 1);
	crypto_generichash_update(&st, (const uint8_t *)cfg->service_shell,
	                          strlen(cfg->service_shell) + 1);
	crypto_generichash_final(&st, out, 8);
}

/* Hold the terminal's stop signals while the publish lock is held (every
 * other publisher, and every store open that catches up, waits for it). */
static void stop_signals(bool hold, sigset_t *saved)
{
	sigset_t stop;

	if (!hold) {
		pthread_sigmask(SIG_SETMASK, saved, NULL);
		return;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGTSTP);
	sigaddset(&stop, SIGTTIN);
	sigaddset(&stop, SIGTTOU);
	pthread_sigmask(SIG_BLOCK, &stop, saved);
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

/* Build the snapshot of generation GEN from the read transaction T. */
static int build(rc_txn *t, uint64_t gen, const char *tmp)
{
	struct pub p = { .s = t->s };
	MDB_env *env = NULL;
	uint64_t mg = 0;
	uint8_t ver[12 + 8];
	int rc = RC_OK, m;

	unlink(tmp);
	if ((m = mdb_env_create(&env)) != 0)
		return rc_fail_lmdb(m, "cannot create the NSS snapshot");
	/* The public view is smaller than the store it comes from. */
	MDB_envinfo info;
	MDB_stat est;
	size_t map = (size_t)64 << 20;
	if (mdb_env_info(t->s->env, &info) == 0 && mdb_env_stat(t->s->env, &est) == 0 &&
	    (size_t)(info.me_last_pgno + 1) * est.ms_psize * 2 > map)
		map = (size_t)(info.me_last_pgno + 1) * est.ms_psize * 2;
	mdb_env_set_mapsize(env, map);
	if ((m = mdb_env_open(env, tmp, MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC, 0644)) != 0) {
		rc = rc_fail(RC_ERR_STORE, "cannot create the NSS snapshot %s: %s", tmp, mdb_strerror(m));
		goto out;
	}
	if ((m = mdb_txn_begin(env, NULL, 0, &p.out)) != 0 ||
	    (m = mdb_dbi_open(p.out, NULL, 0, &p.dbi)) != 0) {
		rc = rc_fail_lmdb(m, "cannot write the NSS snapshot");
		goto out;
	}
	if (rc_meta_get_u64(t, "@gid_members", &mg) == RC_OK && mg && mg <= UINT32_MAX) {
		p.members_gid = (uint32_t)mg;
		if (!group_add(&p, "rollcall-members", p.members_gid))
			rc = rc_fail(RC_ERR_NOMEM, "out of memory");
	}
	p.roles_begin = p.ngroups;
	if (!rc)
		rc = walk(t, DB_ROLES, on_role, &p);
	p.roles_end = p.services_begin = p.ngroups;
	if (!rc)
		rc = walk(t, DB_SERVICES, on_service, &p);
	if (!rc)
		rc = walk(t, DB_MEMBERS, on_member, &p);
	if (!rc)
		rc = walk(t, DB_SVCUSERS, on_svcuser, &p);
	if (!rc)
		rc = put_groups(&p);
	le32(ver, RC_SNAP_VERSION);
	le32(ver + 4, (uint32_t)gen);
	le32(ver + 8, (uint32_t)(gen >> 32));
	config_print(&t->s->cfg, ver + 12);
	if (!rc)
		rc = put(&p, 'V', "", 0, ver, sizeof(ver));
	if (!rc) {
		m = mdb_txn_commit(p.out);
		p.out = NULL;
		if (m)
			rc = rc_fail_lmdb(m, "cannot write the NSS snapshot");
	}
	if (!rc && (m = mdb_env_sync(env, 1)) != 0)
		rc = rc_fail_lmdb(m, "cannot sync the NSS snapshot");
out:
	if (p.out)
		mdb_txn_abort(p.out);
	for (size_t i = 0; i < p.ngroups; i++)
		free(p.groups[i].mem);
	free(p.groups);
	if (env)
		mdb_env_close(env);
	if (!rc && (chmod(tmp, 0644) < 0 || fsync_path(tmp, O_RDONLY) < 0))
		rc = rc_fail(RC_ERR_STORE, "cannot finish the NSS snapshot %s: %s", tmp,
		             strerror(errno));
	if (rc)
		unlink(tmp);
	return rc;
}

static int publish(rc_store *s, bool wait);

/* Was SN made with CFG's homes and shells? */
static bool snap_config_current(rc_snap *sn, const rc_config *cfg)
{
	uint8_t want[8], got[8];

	config_print(cfg, want);
	return rc_snap_config_print(sn, got) == RC_OK && memcmp(want, got, 8) == 0;
}

int rc_snapshot_publish(rc_store *s)
{
	return publish(s, true);
}

/* WAIT: wait for another publisher (after a change, which must be
 * published); else (a catch-up) leave it to the one publishing. */
static int publish(rc_store *s, bool wait)
{
	char lock[RC_PATH_MAX], path[RC_PATH_MAX], tmp[RC_PATH_MAX];
	rc_actor root = { .uid = 0, .origin = "publish" };
	rc_snap *old = NULL;
	uint64_t gen = 0;
	sigset_t saved;
	rc_txn t;
	int fd, rc, fl;

	if ((rc = rc_path_join(lock, sizeof(lock), s->cfg.state_dir, "nss.lock")) ||
	    (rc = rc_path_join(path, sizeof(path), s->cfg.state_dir, RC_SNAP_FILE)) ||
	    (rc = rc_path_join(tmp, sizeof(tmp), s->cfg.state_dir, RC_SNAP_FILE ".tmp")))
		return rc;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return rc_fail(RC_ERR_STORE, "cannot open %s: %s", lock, strerror(errno));
	stop_signals(true, &saved);
	while ((fl = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB))) < 0 && errno == EINTR)
		;
	if (fl < 0) {
		/* another process is publishing: it reads the generation once it
		 * holds the lock, so it publishes this one or a later one */
		close(fd);
		stop_signals(false, &saved);
		return RC_OK;
	}
	rc = rc_txn_begin(s, &root, false, &t);
	if (!rc) {
		rc = rc_meta_get_u64(&t, "@generation", &gen);
		if (rc == RC_ERR_NOTFOUND)
			rc = RC_OK;
	}
	/* Never go backwards: a newer snapshot stays (one of this
	 * generation too, unless it shows another configuration). */
	if (!rc && rc_snap_open(&old, path) == RC_OK && gen &&
	    (rc_snap_generation(old) > gen ||
	     (rc_snap_generation(old) == gen && snap_config_current(old, &s->cfg)))) {
		rc_snap_close(old);
		rc_txn_end(&t, RC_OK);
		close(fd);
		stop_signals(false, &saved);
		return RC_OK;
	}
	rc_snap_close(old);
	if (!rc)
		rc = build(&t, gen, tmp);
	rc_txn_end(&t, RC_OK);
	if (!rc && rename(tmp, path) < 0)
		rc = rc_fail(RC_ERR_STORE, "cannot replace %s: %s", path, strerror(errno));
	if (!rc && fsync_path(s->cfg.state_dir, O_RDONLY | O_DIRECTORY) < 0)
		rc = rc_fail(RC_ERR_STORE, "cannot sync %s: %s", s->cfg.state_dir, strerror(errno));
	close(fd);   /* releases the lock */
	stop_signals(false, &saved);
	return rc;
}

int rc_snapshot_catch_up(rc_store *s)
{
	char path[RC_PATH_MAX];
	rc_actor root = { .uid = 0, .origin = "publish" };
	rc_snap *sn = NULL;
	uint64_t gen = 0;
	rc_txn t;
	int rc = rc_path_join(path, sizeof(path), s->cfg.state_dir, RC_SNAP_FILE);

	if (rc || (rc = rc_txn_begin(s, &root, false, &t)) != 0)
		return rc;
	if (rc_meta_get_u64(&t, "@generation", &gen) != RC_OK)
		gen = 0;
	rc_txn_end(&t, RC_OK);
	if (rc_snap_open(&sn, path) == RC_OK && rc_snap_generation(sn) >= gen &&
	    snap_config_current(sn, &s->cfg)) {
		rc_snap_close(sn);
		return RC_OK;
	}
	rc_snap_close(sn);
	return publish(s, false);
}
