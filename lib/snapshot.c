/*
 * snapshot.c - publishing the NSS snapshot (the format is in snapshot.h).
 *
 * Design.  The public view is split into small immutable files: users by
 * name in 2^nbits shards (by the top bits of a hash of the name), their
 * passwd records by uid in as many shards (by a hash of the uid: a change
 * of a full name rewrites both of the user's shards), and a manifest,
 * nss.snap, that names every shard file by its serial and size and holds
 * the groups (roles, rollcall-members, services: a few thousand at most),
 * each with the list of name shards that hold its members.  A group's
 * members are kept in the shards of the members, so rollcall-members at a
 * million members is 512 pieces, and a change rewrites one of them.
 *
 * A file is never modified once a manifest names it: a publication writes
 * the shards it changes under new names (serial of the publication),
 * syncs them, writes the manifest to nss.snap.tmp, syncs it, renames it
 * over nss.snap, and then removes the files that neither it nor the
 * manifest it replaced names: a shard replaced by publication G goes at
 * publication G+1, so a reader that loaded manifest G-1 finds its shards
 * for a whole publication more.  A reader maps the manifest and, lazily,
 * the shards it names, checking each header (kind, shard, serial, size)
 * against the manifest; a shard file that is gone was replaced by newer
 * publications, and the reader opens the new manifest and looks again.  So a reader sees one publication,
 * whole, and LMDB's in-place writes (unsafe for readers without a lock
 * table) are nowhere in it.
 *
 * O(change).  Every write the store makes goes through rc_store_put,
 * rc_store_del and rc_db_cursor_del, which ask rc_nss_shown_change whether it
 * changes what NSS shows, and note the user names that changed
 * (rc_nss_note).  The commit bumps the store's generation and appends the
 * names to a log in the settings database ("@nsslog/" generation name;
 * cheap puts, no hashing, nothing synced but the commit itself).  After the
 * commit, the publisher, under the lock file nss.lock, reads the log from
 * the manifest's generation to the store's, and rewrites only the shards
 * of those users (the old shard read back, the users replaced from the
 * store) and the manifest.  Whatever the log cannot vouch for (no
 * manifest, another configuration, a generation missing from the log,
 * a group that went away, a burst too large) is published whole.
 *
 * Batching.  The lock holder publishes everything committed up to the
 * generation it reads, and reads it again when done: writers that queued
 * on the lock meanwhile find their change published and return at once.
 * A process making many changes (rc_store_batch) publishes at most once a
 * second and once at the end.
 *
 * Never backwards: the manifest carries the store generation it shows and
 * a fingerprint of the homes and shells; an older view never replaces a
 * newer one, and a writer that died between commit and publish is caught
 * up by the next open of the store.  No secret is ever written: names,
 * ids, full names, homes, shells and group memberships only.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <string.h>
#include "errors.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "fsutil.h"
#include "settings.h"
#include "publish.h"
#include "snapshot.h"

#define LOG_PREFIX "@nsslog/"
#define LOG_PLEN 8
#define LOG_KEEP 65536                /* generations of log kept */
#define NOTE_MAX 4096                 /* names noted in one transaction */
#define SHARD_USERS 2048              /* users per shard aimed at */

/* ---- the change log -------------------------------------------------------- */

void rc_nss_note(rc_txn *t, int db, const rc_val *key)
{
	if ((db != DB_MEMBERS && db != DB_SVCUSERS) || t->nss_full)
		return;
	if (key->size == 0 || key->size > RC_NAME_MAX ||
	    memchr(key->data, '\0', key->size) || t->nss_count >= NOTE_MAX) {
		t->nss_full = true;
		return;
	}
	if (t->nss_len + key->size + 1 > t->nss_cap) {
		size_t ncap = t->nss_cap ? t->nss_cap * 2 : 256;
		while (ncap < t->nss_len + key->size + 1)
			ncap *= 2;
		char *n = realloc(t->nss_names, ncap);
		if (!n) {
			t->nss_full = true;
			return;
		}
		t->nss_names = n;
		t->nss_cap = ncap;
	}
	memcpy(t->nss_names + t->nss_len, key->data, key->size);
	t->nss_names[t->nss_len + key->size] = '\0';
	t->nss_len += key->size + 1;
	t->nss_count++;
}

void rc_nss_forget(rc_txn *t)
{
	free(t->nss_names);
	t->nss_names = NULL;
	t->nss_len = t->nss_cap = t->nss_count = 0;
	t->nss_full = false;
}

static int log_put(rc_txn *t, uint64_t gen, const char *name, size_t n)
{
	uint8_t k[LOG_PLEN + 8 + RC_NAME_MAX];
	rc_val key = { LOG_PLEN + 8 + n, k }, v = { 0, k };
	memcpy(k, LOG_PREFIX, LOG_PLEN);
	rc_put_be64(k + LOG_PLEN, gen);
	memcpy(k + LOG_PLEN + 8, name, n);
	return rc_store_put(t, DB_SETTINGS, key.data, key.size, v.data, v.size, RC_PUT_NOHOOK);
}

/* The log's generations up to *CTX go. */
static int log_trim(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	(void)t;
	(void)v;
	if (k->size < LOG_PLEN + 8 ||
	    rc_be64((const uint8_t *)k->data + LOG_PLEN) > *(const uint64_t *)ctx)
		return RC_WALK_STOP;
	return RC_WALK_DEL;
}

/* In the commit of a change NSS sees, as generation GEN: the names it
 * changed ("\1": too many to list; "": none, the groups changed), and the
 * log trimmed to its last LOG_KEEP generations. */
int rc_nss_log(rc_txn *t, uint64_t gen)
{
	int rc = RC_OK;

	if (t->nss_full)
		rc = log_put(t, gen, "\1", 1);
	else if (t->nss_len == 0)
		rc = log_put(t, gen, "", 0);
	for (size_t o = 0; !rc && !t->nss_full && o < t->nss_len;) {
		size_t n = strlen(t->nss_names + o);
		rc = log_put(t, gen, t->nss_names + o, n);
		o += n + 1;
	}
	if (rc || gen <= LOG_KEEP)
		return rc;
	uint64_t keep_after = gen - LOG_KEEP;
	return rc_store_foreach(t, DB_SETTINGS, LOG_PREFIX, LOG_PLEN, log_trim, &keep_after);
}

/* The names logged after generation FROM up to GEN (log_read). */
struct log_names {
	uint64_t gen, expect, last;
	char *out;
	size_t len, cap, count;
	bool ok;
};

static int log_name(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct log_names *l = ctx;
	const uint8_t *p = k->data;

	(void)t;
	(void)v;
	if (k->size < LOG_PLEN + 8)
		return RC_WALK_STOP;
	uint64_t g = rc_be64(p + LOG_PLEN);
	if (g > l->gen)
		return RC_WALK_STOP;
	if (g != l->last) {
		if (g != l->expect) {
			l->ok = false;
			return RC_WALK_STOP;
		}
		l->last = g;
		l->expect = g + 1;
	}
	size_t n = k->size - LOG_PLEN - 8;
	if (n == 1 && p[LOG_PLEN + 8] == 1) {
		l->ok = false;
		return RC_WALK_STOP;
	}
	if (n == 0)
		return RC_OK;
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		while (cap < l->len + n + 1)
			cap *= 2;
		char *x = realloc(l->out, cap);
		if (!x) {
			l->ok = false;
			return RC_WALK_STOP;
		}
		l->out = x;
		l->cap = cap;
	}
	memcpy(l->out + l->len, p + LOG_PLEN + 8, n);
	l->out[l->len + n] = '\0';
	l->len += n + 1;
	l->count++;
	return RC_OK;
}

/* The names logged after generation FROM up to GEN, NUL-separated, into
 * *OUT; false when the log cannot vouch for all of them (a generation
 * missing, or one too large to list). */
static bool log_read(rc_txn *t, uint64_t from, uint64_t gen, char **out, size_t *len,
                     size_t *count)
{
	uint8_t kb[LOG_PLEN + 8];
	struct log_names l = { .gen = gen, .expect = from + 1, .last = from, .ok = true };

	memcpy(kb, LOG_PREFIX, LOG_PLEN);
	rc_put_be64(kb + LOG_PLEN, from + 1);
	if (rc_store_foreach_from(t, DB_SETTINGS, LOG_PREFIX, LOG_PLEN, kb, sizeof(kb),
	                          log_name, &l) != RC_OK)
		l.ok = false;
	if (l.last != gen)
		l.ok = false;
	if (!l.ok) {
		free(l.out);
		l.out = NULL;
		l.len = l.count = 0;
	}
	*out = l.out;
	*len = l.len;
	*count = l.count;
	return l.ok;
}

/* ---- building files ---------------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool err;
};

static void b_put(struct buf *b, const void *d, size_t n)
{
	if (b->err || n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 4096;
		while (ncap < b->len + n)
			ncap *= 2;
		uint8_t *x = realloc(b->p, ncap);
		if (!x) {
			b->err = true;
			return;
		}
		b->p = x;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void b_u32(struct buf *b, uint32_t x)
{
	uint8_t p[4];
	rc_put_le32(p, x);
	b_put(b, p, 4);
}

static void b_u64(struct buf *b, uint64_t x)
{
	b_u32(b, (uint32_t)x);
	b_u32(b, (uint32_t)(x >> 32));
}

static void b_set32(struct buf *b, size_t off, uint32_t x)
{
	if (!b->err && off + 4 <= b->len)
		rc_put_le32(b->p + off, x);
}

static void b_header(struct buf *b, char kind, uint32_t i, uint64_t serial)
{
	b_put(b, RC_SNAP_MAGIC, 4);
	b_u32(b, RC_SNAP_VERSION);
	b_u32(b, (uint32_t)kind);
	b_u32(b, i);
	b_u64(b, serial);
	b_u32(b, 0);   /* size, set by b_finish */
	b_u32(b, 0);   /* count */
}

static void b_finish(struct buf *b, uint32_t count)
{
	if (b->len > UINT32_MAX)
		b->err = true;
	b_set32(b, 24, (uint32_t)b->len);
	b_set32(b, 28, count);
}

/* qsort, but never with a null array (UBSan: an empty one may be NULL) */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static void sort_r(void *base, size_t n, size_t size,
                   int (*cmp)(const void *, const void *, void *), void *arg)
{
	if (n > 1)
		qsort_r(base, n, size, cmp, arg);
}

/* A user of the view: 32 bytes, its strings in the arena. */
#define UGIDS 4
struct urec {
	uint32_t hash, uid;
	uint32_t str;            /* name NUL gecos NUL, in the arena */
	uint32_t gids[UGIDS - 1];
	uint8_t kind, ngids;
};

struct users {
	struct urec *u;
	size_t n, cap;
	char *arena;
	size_t alen, acap;
};

static void users_free(struct users *us)
{
	free(us->u);
	free(us->arena);
	memset(us, 0, sizeof(*us));
}

static int users_add(struct users *us, uint32_t uid, unsigned kind, const char *name,
                     const char *gecos, const uint32_t *gids, unsigned ngids)
{
	size_t nl = strlen(name) + 1, gl = strlen(gecos) + 1;
	if (ngids > UGIDS - 1)
		return rc_fail(RC_ERR_STORE, "a user with too many groups for the snapshot");
	if (us->n == us->cap) {
		size_t ncap = us->cap ? us->cap * 2 : 1024;
		struct urec *x = realloc(us->u, ncap * sizeof(*x));
		if (!x)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		us->u = x;
		us->cap = ncap;
	}
	if (us->alen + nl + gl > us->acap) {
		size_t ncap = us->acap ? us->acap * 2 : 16384;
		while (ncap < us->alen + nl + gl)
			ncap *= 2;
		char *x = realloc(us->arena, ncap);
		if (!x)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		us->arena = x;
		us->acap = ncap;
	}
	if (us->alen + nl + gl > UINT32_MAX)
		return rc_fail(RC_ERR_NOMEM, "too many users for the snapshot");
	struct urec *u = &us->u[us->n++];
	memset(u, 0, sizeof(*u));
	u->hash = rc_snap_hash(name);
	u->uid = uid;
	u->kind = (uint8_t)kind;
	u->ngids = (uint8_t)ngids;
	for (unsigned i = 0; i < ngids; i++)
		u->gids[i] = gids[i];
	u->str = (uint32_t)us->alen;
	memcpy(us->arena + us->alen, name, nl);
	memcpy(us->arena + us->alen + nl, gecos, gl);
	us->alen += nl + gl;
	return RC_OK;
}

static int urec_cmp(const void *a, const void *b, void *arena)
{
	const struct urec *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return strcmp((char *)arena + x->str, (char *)arena + y->str);
}

/* A user of a 'U' shard: NAME and GECOS point into an arena or an old
 * shard's map. */
struct uidref {
	uint32_t shard, uid;
	unsigned kind;
	const char *name, *gecos;
};

static int uidref_cmp(const void *a, const void *b)
{
	const struct uidref *x = a, *y = b;
	if (x->shard != y->shard)
		return x->shard < y->shard ? -1 : 1;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

struct pair {
	uint32_t gid, rec;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->gid != y->gid)
		return x->gid < y->gid ? -1 : 1;
	return x->rec < y->rec ? -1 : x->rec > y->rec;
}

/* A group of the view. */
struct grp {
	char name[48];
	uint32_t gid, hash;
	uint16_t *sh;            /* the 'P' shards holding members */
	uint32_t nsh, cap;
};

struct pub {
	rc_store *s;
	rc_txn *t;
	struct grp *g;
	size_t ng, gcap;
	uint32_t *bygid;         /* indexes of g by gid */
	uint32_t members_gid;
	/* rollcall-members first, then the roles and the services (three
	 * groups each), the last two in key order: each run is sorted */
	size_t roles_begin, roles_end, services_begin;
	unsigned nbits;
	uint32_t nshards;
	uint64_t serial, gen;
	uint64_t *tser;          /* the shard table: P then U */
	uint32_t *tsize;
	int dirfd;
	bool sync_each;          /* fsync each file (few of them), else syncfs */
};

static struct grp *group_add(struct pub *p, const char *name, uint32_t gid)
{
	if (p->ng == p->gcap) {
		size_t ncap = p->gcap ? p->gcap * 2 : 64;
		struct grp *n = realloc(p->g, ncap * sizeof(*n));
		if (!n)
			return NULL;
		p->g = n;
		p->gcap = ncap;
	}
	struct grp *g = &p->g[p->ng++];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->gid = gid;
	g->hash = rc_snap_hash(g->name);
	return g;
}

/* The group in [BEGIN, END) STEP apart whose name after SKIP characters is
 * NAME, or NULL. */
static struct grp *group_search(struct pub *p, size_t begin, size_t end, size_t step,
                                size_t skip, const char *name)
{
	size_t lo = 0, hi = (end - begin) / step;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct grp *g = &p->g[begin + mid * step];
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

static struct grp *group_by_gid(struct pub *p, uint32_t gid)
{
	size_t lo = 0, hi = p->ng;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct grp *g = &p->g[p->bygid[mid]];
		if (g->gid == gid)
			return g;
		if (g->gid < gid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int grp_add_shard(struct grp *g, uint32_t s)
{
	if (g->nsh == g->cap) {
		uint32_t ncap = g->cap ? g->cap * 2 : 4;
		uint16_t *x = realloc(g->sh, ncap * sizeof(*x));
		if (!x)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		g->sh = x;
		g->cap = ncap;
	}
	g->sh[g->nsh++] = (uint16_t)s;
	return RC_OK;
}

static void pub_free(struct pub *p)
{
	for (size_t i = 0; i < p->ng; i++)
		free(p->g[i].sh);
	free(p->g);
	free(p->bygid);
	free(p->tser);
	free(p->tsize);
	if (p->dirfd >= 0)
		close(p->dirfd);
}

/* Walk one database of the store, calling FN with each value. */
struct walk_ctx {
	int (*fn)(struct pub *, void *, const rc_val *);
	struct pub *p;
	void *ctx;
};

static int walk_one(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct walk_ctx *w = ctx;

	(void)t;
	(void)k;
	return w->fn(w->p, w->ctx, v);
}

static int walk(rc_txn *t, int db, int (*fn)(struct pub *, void *, const rc_val *),
                struct pub *p, void *ctx)
{
	struct walk_ctx w = { fn, p, ctx };

	return rc_store_foreach(t, db, "", 0, walk_one, &w);
}

static int on_role(struct pub *p, void *ctx, const rc_val *v)
{
	rc_role r;
	char name[RC_NAME_MAX + 16];
	int rc = rc_role_decode(v->data, v->size, &r);
	(void)ctx;
	if (rc)
		return rc;
	snprintf(name, sizeof(name), "rollcall-%s", r.name);
	return group_add(p, name, r.gid) ? RC_OK : rc_fail(RC_ERR_NOMEM, "out of memory");
}

static int on_service(struct pub *p, void *ctx, const rc_val *v)
{
	rc_service svc;
	char name[RC_NAME_MAX + 16];
	int rc = rc_service_decode(v->data, v->size, &svc);
	(void)ctx;
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

static struct pub *cmp_pub;
static int bygid_cmp(const void *a, const void *b)
{
	uint32_t x = cmp_pub->g[*(const uint32_t *)a].gid, y = cmp_pub->g[*(const uint32_t *)b].gid;
	return x < y ? -1 : x > y;
}

/* The groups (rollcall-members, roles, services), from the store. */
static int groups_load(struct pub *p)
{
	uint64_t mg = 0;
	int rc = RC_OK;

	if (rc_meta_get_u64(p->t, "@gid_members", &mg) == RC_OK && mg && mg <= UINT32_MAX) {
		p->members_gid = (uint32_t)mg;
		if (!group_add(p, "rollcall-members", p->members_gid))
			return rc_fail(RC_ERR_NOMEM, "out of memory");
	}
	p->roles_begin = p->ng;
	rc = walk(p->t, DB_ROLES, on_role, p, NULL);
	p->roles_end = p->services_begin = p->ng;
	if (!rc)
		rc = walk(p->t, DB_SERVICES, on_service, p, NULL);
	if (rc)
		return rc;
	if (!(p->bygid = malloc((p->ng + 1) * sizeof(*p->bygid))))
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < p->ng; i++)
		p->bygid[i] = (uint32_t)i;
	cmp_pub = p;   /* (under the publish lock, and the store's one-per-process rule) */
	sort(p->bygid, p->ng, sizeof(*p->bygid), bygid_cmp);
	return RC_OK;
}

/* What the view shows of the user record V of DB, added to US. */
static int user_from(struct pub *p, int db, const rc_val *v, struct users *us)
{
	uint32_t gids[UGIDS];
	unsigned n = 0;
	int rc;

	if (db == DB_MEMBERS) {
		rc_member_rec m;
		if ((rc = rc_member_decode(v->data, v->size, &m)) != RC_OK)
			return rc;
		/* the role group, then rollcall-members */
		struct grp *g = group_search(p, p->roles_begin, p->roles_end, 1, 9, m.role);
		if (g)
			gids[n++] = g->gid;
		if (p->members_gid)
			gids[n++] = p->members_gid;
		rc = users_add(us, m.uid, 0, m.username, m.full_name, gids, n);
		sodium_memzero(&m, sizeof(m));
		return rc;
	}
	rc_svcuser_rec u;
	char gecos[64];
	if ((rc = rc_svcuser_decode(v->data, v->size, &u)) != RC_OK)
		return rc;
	/* svc-NAME, svc-NAME-readonly, svc-NAME-replication, in that order */
	struct grp *g = group_search(p, p->services_begin, p->ng, 3, 4, u.pub.service);
	const int want[3] = { 1, u.pub.read_only, u.pub.replication };
	for (int i = 0; g && i < 3; i++)
		if (want[i])
			gids[n++] = g[i].gid;
	snprintf(gecos, sizeof(gecos), "service user of %s", u.pub.service);
	rc = users_add(us, u.pub.uid, 1, u.pub.username, gecos, gids, n);
	sodium_memzero(&u, sizeof(u));
	return rc;
}

static int on_member(struct pub *p, void *ctx, const rc_val *v)
{
	return user_from(p, DB_MEMBERS, v, ctx);
}

static int on_svcuser(struct pub *p, void *ctx, const rc_val *v)
{
	return user_from(p, DB_SVCUSERS, v, ctx);
}

/* The user NAME as the store has it now, added to US (nothing when there
 * is none). */
static int user_load(struct pub *p, const char *name, struct users *us)
{
	rc_val v;
	int rc = rc_store_gets(p->t, DB_MEMBERS, name, &v);
	if (rc == RC_OK)
		return user_from(p, DB_MEMBERS, &v, us);
	if (rc != RC_ERR_NOTFOUND)
		return rc;
	rc = rc_store_gets(p->t, DB_SVCUSERS, name, &v);
	if (rc == RC_OK)
		return user_from(p, DB_SVCUSERS, &v, us);
	return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
}

static int write_file(struct pub *p, int dirfd, const char *name, const struct buf *b)
{
	if (b->err)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return rc_fail(RC_ERR_STORE, "cannot write the NSS snapshot (%s): %s", name,
		               strerror(errno));
	size_t off = 0;
	while (off < b->len) {
		ssize_t w = write(fd, b->p + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : ENOSPC;
			close(fd);
			unlinkat(dirfd, name, 0);
			return rc_fail(RC_ERR_STORE, "cannot write the NSS snapshot (%s): %s", name,
			               strerror(e));
		}
		off += (size_t)w;
	}
	if (fchmod(fd, 0644) < 0 || (p->sync_each && fsync(fd) < 0)) {
		int e = errno;
		close(fd);
		unlinkat(dirfd, name, 0);
		return rc_fail(RC_ERR_STORE, "cannot write the NSS snapshot (%s): %s", name,
		               strerror(e));
	}
	close(fd);
	return RC_OK;
}

/* The (gid, record) pairs of the users U[0..N), by gid (*NP of them, *NGL
 * gids). */
static int pshard_pairs(const struct urec *u, size_t n, struct pair **out, size_t *np,
                        size_t *ngl)
{
	struct pair *pairs = NULL;
	size_t k = 0;

	*np = *ngl = 0;
	for (size_t i = 0; i < n; i++)
		k += u[i].ngids;
	if (k && !(pairs = malloc(k * sizeof(*pairs))))
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	k = 0;
	for (size_t i = 0; i < n; i++)
		for (unsigned g = 0; g < u[i].ngids; g++)
			pairs[k++] = (struct pair){ u[i].gids[g], (uint32_t)i };
	sort(pairs, k, sizeof(*pairs), pair_cmp);
	for (size_t i = 0; i < k; i++)
		*ngl += i == 0 || pairs[i].gid != pairs[i - 1].gid;
	*out = pairs;
	*np = k;
	return RC_OK;
}

/* A 'P' shard's index (hash, record offset) and records, to B. */
static void pshard_users(struct buf *b, const struct users *us, const struct urec *u, size_t n)
{
	size_t rec = 44 + 8 * n;

	for (size_t i = 0; i < n; i++) {
		const char *nm = us->arena + u[i].str;
		const char *gc = nm + strlen(nm) + 1;
		b_u32(b, u[i].hash);
		b_u32(b, (uint32_t)rec);
		rec += 6 + strlen(nm) + 1 + strlen(gc) + 1 + 4 * (size_t)u[i].ngids;
	}
	for (size_t i = 0; i < n; i++) {
		const char *nm = us->arena + u[i].str;
		const char *gc = nm + strlen(nm) + 1;
		uint8_t h[6];
		rc_put_le32(h, u[i].uid);
		h[4] = u[i].kind;
		h[5] = u[i].ngids;
		b_put(b, h, 6);
		b_put(b, nm, strlen(nm) + 1);
		b_put(b, gc, strlen(gc) + 1);
		for (unsigned k = 0; k < u[i].ngids; k++)
			b_u32(b, u[i].gids[k]);
	}
}

/* A 'P' shard's group lists (NGL headers, then the record numbers of
 * PAIRS[0..NP)), to B; the groups learn they have members in shard S. */
static int pshard_lists(struct pub *p, uint32_t s, struct buf *b, const struct users *us,
                        const struct urec *u, const struct pair *pairs, size_t np, size_t ngl)
{
	size_t lists = b->len + 16 * ngl;
	int rc = RC_OK;

	for (size_t i = 0; i < np;) {
		size_t j = i, bytes = 0;
		for (; j < np && pairs[j].gid == pairs[i].gid; j++)
			bytes += strlen(us->arena + u[pairs[j].rec].str) + 1;
		b_u32(b, pairs[i].gid);
		b_u32(b, (uint32_t)(j - i));
		b_u32(b, (uint32_t)bytes);
		b_u32(b, (uint32_t)lists);
		lists += 4 * (j - i);
		struct grp *g = group_by_gid(p, pairs[i].gid);
		if (g && !rc)
			rc = grp_add_shard(g, s);
		i = j;
	}
	for (size_t i = 0; i < np; i++)
		b_u32(b, pairs[i].rec);
	return rc;
}

/* 'P' shard S from the users U[0..N) (sorted); the groups it holds
 * members of learn it. */
static int write_pshard(struct pub *p, uint32_t s, const struct users *us, const struct urec *u,
                        size_t n)
{
	struct buf b = { 0 };
	struct pair *pairs = NULL;
	size_t np, ngl;
	char name[RC_SNAP_NAME_MAX];
	int rc = pshard_pairs(u, n, &pairs, &np, &ngl);

	if (rc)
		return rc;
	b_header(&b, 'P', s, p->serial);
	b_u32(&b, 44);
	b_u32(&b, 0);      /* group lists, set below */
	b_u32(&b, (uint32_t)ngl);
	pshard_users(&b, us, u, n);
	b_set32(&b, 36, (uint32_t)b.len);
	rc = pshard_lists(p, s, &b, us, u, pairs, np, ngl);
	b_finish(&b, (uint32_t)n);
	free(pairs);
	rc_snap_file_name(name, 'P', s, p->serial);
	if (!rc)
		rc = write_file(p, p->dirfd, name, &b);
	if (!rc) {
		p->tser[s] = p->serial;
		p->tsize[s] = (uint32_t)b.len;
	}
	free(b.p);
	return rc;
}

/* 'U' shard S from R[0..N) (sorted by uid). */
static int write_ushard(struct pub *p, uint32_t s, const struct uidref *r, size_t n)
{
	struct buf b = { 0 };
	char name[RC_SNAP_NAME_MAX];
	int rc;

	b_header(&b, 'U', s, p->serial);
	b_u32(&b, 36);
	size_t off = 36 + 8 * n;
	for (size_t i = 0; i < n; i++) {
		b_u32(&b, r[i].uid);
		b_u32(&b, (uint32_t)off);
		off += 5 + strlen(r[i].name) + 1 + strlen(r[i].gecos) + 1;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t h[5];
		rc_put_le32(h, r[i].uid);
		h[4] = (uint8_t)r[i].kind;
		b_put(&b, h, 5);
		b_put(&b, r[i].name, strlen(r[i].name) + 1);
		b_put(&b, r[i].gecos, strlen(r[i].gecos) + 1);
	}
	b_finish(&b, (uint32_t)n);
	rc_snap_file_name(name, 'U', s, p->serial);
	rc = write_file(p, p->dirfd, name, &b);
	if (!rc) {
		p->tser[p->nshards + s] = p->serial;
		p->tsize[p->nshards + s] = (uint32_t)b.len;
	}
	free(b.p);
	return rc;
}

static int u16_cmp(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return x < y ? -1 : x > y;
}

static int byname_cmp(const void *a, const void *b)
{
	const struct grp *x = &cmp_pub->g[*(const uint32_t *)a], *y = &cmp_pub->g[*(const uint32_t *)b];
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The manifest's groups (each's shards sorted, once), to B; OFFS[i]: where
 * group i begins. */
static void manifest_groups(struct pub *p, struct buf *b, uint32_t *offs)
{
	for (size_t i = 0; i < p->ng; i++) {
		struct grp *g = &p->g[i];
		sort(g->sh, g->nsh, sizeof(*g->sh), u16_cmp);
		uint32_t k = 0;
		for (uint32_t j = 0; j < g->nsh; j++)
			if (j == 0 || g->sh[j] != g->sh[j - 1])
				g->sh[k++] = g->sh[j];
		g->nsh = k;
		offs[i] = (uint32_t)b->len;
		b_u32(b, g->gid);
		b_u32(b, g->nsh);
		for (uint32_t j = 0; j < g->nsh; j++) {
			uint8_t x[2] = { (uint8_t)g->sh[j], (uint8_t)(g->sh[j] >> 8) };
			b_put(b, x, 2);
		}
		b_put(b, g->name, strlen(g->name) + 1);
	}
}

/* The manifest's two indexes of the groups (by name's hash, by gid), to B. */
static int manifest_indexes(struct pub *p, struct buf *b, const uint32_t *offs)
{
	uint32_t *order = malloc((p->ng + 1) * sizeof(*order));

	if (!order)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < p->ng; i++)
		order[i] = (uint32_t)i;
	cmp_pub = p;
	sort(order, p->ng, sizeof(*order), byname_cmp);
	b_set32(b, 60, (uint32_t)b->len);
	for (size_t i = 0; i < p->ng; i++) {
		b_u32(b, p->g[order[i]].hash);
		b_u32(b, offs[order[i]]);
	}
	b_set32(b, 64, (uint32_t)b->len);
	for (size_t i = 0; i < p->ng; i++)
		b_u32(b, offs[p->bygid[i]]);
	free(order);
	return RC_OK;
}

/* The manifest, to nss.snap.tmp: synced, not yet renamed. */
static int write_manifest(struct pub *p, int statefd, const uint8_t print[8])
{
	struct buf b = { 0 };
	uint32_t *offs = malloc((p->ng + 1) * sizeof(*offs));
	const rc_config *cfg = &p->s->cfg;
	int rc;

	if (!offs)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	b_header(&b, 'M', 0, p->serial);
	b_u64(&b, p->gen);
	b_put(&b, print, 8);
	b_u32(&b, p->nbits);
	for (int i = 0; i < 4; i++)
		b_u32(&b, 0);   /* offsets, set below */
	b_set32(&b, 52, (uint32_t)b.len);
	b_put(&b, cfg->home_base, strlen(cfg->home_base) + 1);
	b_put(&b, cfg->shell, strlen(cfg->shell) + 1);
	b_put(&b, cfg->service_shell, strlen(cfg->service_shell) + 1);
	b_set32(&b, 56, (uint32_t)b.len);
	for (uint32_t i = 0; i < 2 * p->nshards; i++) {
		b_u64(&b, p->tser[i]);
		b_u32(&b, p->tsize[i]);
	}
	manifest_groups(p, &b, offs);
	rc = manifest_indexes(p, &b, offs);
	free(offs);
	if (!rc) {
		bool each = p->sync_each;
		b_finish(&b, (uint32_t)p->ng);
		p->sync_each = true;
		rc = write_file(p, statefd, RC_SNAP_FILE ".tmp", &b);
		p->sync_each = each;
	}
	free(b.p);
	return rc;
}

/* ---- a whole publication ----------------------------------------------------- */

static unsigned nbits_for(size_t users)
{
	unsigned nbits = 0;
	while ((users >> nbits) > SHARD_USERS && nbits < RC_SNAP_MAX_NBITS)
		nbits++;
	return nbits;
}

static int table_alloc(struct pub *p)
{
	p->nshards = 1u << p->nbits;
	p->tser = calloc(2 * (size_t)p->nshards, sizeof(*p->tser));
	p->tsize = calloc(2 * (size_t)p->nshards, sizeof(*p->tsize));
	return p->tser && p->tsize ? RC_OK : rc_fail(RC_ERR_NOMEM, "out of memory");
}

static int build_full(struct pub *p)
{
	struct users us = { 0 };
	struct uidref *refs = NULL;
	int rc = walk(p->t, DB_MEMBERS, on_member, p, &us);

	if (!rc)
		rc = walk(p->t, DB_SVCUSERS, on_svcuser, p, &us);
	if (rc)
		goto out;
	p->nbits = nbits_for(us.n);
	p->sync_each = false;
	if ((rc = table_alloc(p)) != RC_OK)
		goto out;
	sort_r(us.u, us.n, sizeof(*us.u), urec_cmp, us.arena);
	for (size_t i = 0, s = 0; !rc && s < p->nshards; s++) {
		size_t j = i;
		while (j < us.n && rc_snap_shard(us.u[j].hash, p->nbits) == s)
			j++;
		rc = write_pshard(p, (uint32_t)s, &us, us.u + i, j - i);
		i = j;
	}
	if (rc)
		goto out;
	if (!(refs = malloc((us.n + 1) * sizeof(*refs)))) {
		rc = rc_fail(RC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < us.n; i++) {
		const char *nm = us.arena + us.u[i].str;
		refs[i] = (struct uidref){ rc_snap_uid_shard(us.u[i].uid, p->nbits), us.u[i].uid,
		                           us.u[i].kind, nm, nm + strlen(nm) + 1 };
	}
	sort(refs, us.n, sizeof(*refs), uidref_cmp);
	for (size_t i = 0, s = 0; !rc && s < p->nshards; s++) {
		size_t j = i;
		while (j < us.n && refs[j].shard == s)
			j++;
		rc = write_ushard(p, (uint32_t)s, refs + i, j - i);
		i = j;
	}
	if (!rc && syncfs(p->dirfd) < 0)
		rc = rc_fail(RC_ERR_STORE, "cannot sync the NSS snapshot: %s", strerror(errno));
out:
	free(refs);
	users_free(&us);
	return rc;
}
/* ---- what NSS shows of one record ------------------------------------------- */

/* The NSS projection of a record of database DB: exactly the fields that
 * on_role, on_service, on_member and on_svcuser above publish, written to
 * OUT (a canonical string).  0 when DB is not published (or the record
 * does not decode: then it is taken as changed). */
static size_t projection(int db, const rc_val *key, const rc_val *v, char *out, size_t len)
{
	int n = -1;

	switch (db) {
	case DB_MEMBERS: {
		rc_member_rec m;
		if (rc_member_decode(v->data, v->size, &m) == RC_OK)
			n = snprintf(out, len, "m\n%s\n%u\n%s\n%s", m.username, (unsigned)m.uid,
			             m.full_name, m.role);
		sodium_memzero(&m, sizeof(m));
		break;
	}
	case DB_SVCUSERS: {
		rc_svcuser_rec u;
		if (rc_svcuser_decode(v->data, v->size, &u) == RC_OK)
			n = snprintf(out, len, "u\n%s\n%u\n%s\n%d%d", u.pub.username,
			             (unsigned)u.pub.uid, u.pub.service, !!u.pub.read_only,
			             !!u.pub.replication);
		sodium_memzero(&u, sizeof(u));
		break;
	}
	case DB_ROLES: {
		rc_role r;
		if (rc_role_decode(v->data, v->size, &r) == RC_OK)
			n = snprintf(out, len, "r\n%s\n%u", r.name, (unsigned)r.gid);
		break;
	}
	case DB_SERVICES: {
		rc_service svc;
		if (rc_service_decode(v->data, v->size, &svc) == RC_OK)
			n = snprintf(out, len, "s\n%s\n%u\n%u\n%u", svc.name, (unsigned)svc.gid,
			             (unsigned)svc.gid_readonly, (unsigned)svc.gid_replication);
		break;
	}
	case DB_SETTINGS:
		/* the rollcall-members group's gid; nothing else there is shown */
		if (key->size == 12 && memcmp(key->data, "@gid_members", 12) == 0 &&
		    v->size < len / 2) {
			memcpy(out, v->data, v->size);
			n = (int)v->size;
		}
		break;
	}
	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

static bool shown(int db, const rc_val *key)
{
	return db == DB_MEMBERS || db == DB_SVCUSERS || db == DB_ROLES || db == DB_SERVICES ||
	       (db == DB_SETTINGS && key->size == 12 &&
	        memcmp(key->data, "@gid_members", 12) == 0);
}

/* Does replacing OLD (NULL: none) by NEW (NULL: deleted) under KEY of DB
 * change what NSS shows?  The one place that decides whether a commit
 * republishes the snapshot: a login's write (failure counter, last active,
 * TOTP step, a token's use) changes nothing shown and publishes nothing. */
bool rc_nss_shown_change(int db, const rc_val *key, const rc_val *old, const rc_val *new)
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


/* ---- a publication of what changed -------------------------------------------- */

#define NEED_FULL 1000   /* the log or the old view cannot vouch: publish whole */

struct changed {
	char **v;
	size_t n;
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_changed(const struct changed *c, const char *name)
{
	return bsearch(&name, c->v, c->n, sizeof(*c->v), str_cmp) != NULL;
}

struct keep {
	struct pub *p;
	struct users *us;
	const struct changed *ch;
	struct uidref *r;
	size_t nr, cap;
};

static int keep_user(void *ctx, const rc_snap_user *u)
{
	struct keep *k = ctx;
	uint32_t gids[UGIDS];
	if (is_changed(k->ch, u->name))
		return RC_OK;
	if (u->ngids > UGIDS - 1)
		return NEED_FULL;
	for (unsigned i = 0; i < u->ngids; i++)
		gids[i] = rc_le32(u->gids + 4 * i);
	return users_add(k->us, u->uid, u->kind, u->name, u->gecos, gids, u->ngids);
}

static int ref_add(struct keep *k, uint32_t uid, unsigned kind, const char *name,
                   const char *gecos)
{
	if (k->nr == k->cap) {
		size_t ncap = k->cap ? k->cap * 2 : 1024;
		struct uidref *x = realloc(k->r, ncap * sizeof(*x));
		if (!x)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		k->r = x;
		k->cap = ncap;
	}
	k->r[k->nr++] = (struct uidref){ 0, uid, kind, name, gecos };
	return RC_OK;
}

static int keep_uid(void *ctx, const rc_snap_user *u)
{
	struct keep *k = ctx;
	return is_changed(k->ch, u->name) ? RC_OK : ref_add(k, u->uid, u->kind, u->name, u->gecos);
}

/* The old manifest's groups: each must still be there, with its gid (a
 * group gone or renumbered would leave users pointing at it: whole). */
static int keep_group(void *ctx, uint32_t gid, const char *name, const uint8_t *shards,
                      uint32_t nshards)
{
	struct pub *p = ctx;
	struct grp *g = group_by_gid(p, gid);
	int rc = RC_OK;
	if (!g || strcmp(g->name, name) != 0)
		return NEED_FULL;
	for (uint32_t i = 0; !rc && i < nshards; i++) {
		uint32_t s = (uint32_t)shards[2 * i] | (uint32_t)shards[2 * i + 1] << 8;
		if (s >= p->nshards)
			return NEED_FULL;
		rc = grp_add_shard(g, s);
	}
	return rc;
}

/* The old view's shard table and groups, to be carried over: NEED_FULL
 * when TOTAL users want another number of shards. */
static int inc_begin(struct pub *p, rc_snap *old, size_t total)
{
	int rc;

	p->nbits = rc_snap_nbits(old);
	if (nbits_for(total) > p->nbits || nbits_for(total) + 2 < p->nbits)
		return NEED_FULL;
	if ((rc = table_alloc(p)) != RC_OK)
		return rc;
	for (uint32_t i = 0; i < 2 * p->nshards; i++) {
		char fn[RC_SNAP_NAME_MAX];
		rc_snap_shard_file(old, i < p->nshards ? 'P' : 'U', i % p->nshards, fn, sizeof(fn),
		                   &p->tser[i], &p->tsize[i]);
	}
	return rc_snap_groups_each(old, keep_group, p);
}

/* CH: the COUNT names of NAMES (NUL-separated), sorted, each once. */
static int changed_init(struct changed *ch, char *names, size_t count)
{
	if (!(ch->v = malloc((count + 1) * sizeof(*ch->v))))
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	for (size_t o = 0, i = 0; i < count; i++) {
		ch->v[i] = names + o;
		o += strlen(names + o) + 1;
	}
	sort(ch->v, count, sizeof(*ch->v), str_cmp);
	ch->n = 0;
	for (size_t i = 0; i < count; i++)
		if (i == 0 || strcmp(ch->v[i], ch->v[i - 1]) != 0)
			ch->v[ch->n++] = ch->v[i];
	return RC_OK;
}

/* The changed users as they are now (to FRESH); the shards they were and
 * are in (AFF: 'P' 0..n-1, then 'U'). */
static int inc_fresh(struct pub *p, rc_snap *old, const struct changed *ch, struct users *fresh,
                     uint8_t *aff)
{
	int rc = RC_OK;

	for (size_t i = 0; !rc && i < ch->n; i++) {
		rc_snap_pw pw;
		uint32_t s = rc_snap_shard(rc_snap_hash(ch->v[i]), p->nbits);
		aff[s] = 1;
		int r = rc_snap_pw_byname(old, ch->v[i], &pw);
		size_t before = fresh->n;
		if (r != RC_OK && r != RC_ERR_NOTFOUND)
			rc = NEED_FULL;
		if (!rc)
			rc = user_load(p, ch->v[i], fresh);
		/* the uid shards change when a user comes, goes, (never)
		 * changes uid, or changes what they hold of it: its full name
		 * or its kind */
		bool now = fresh->n > before;
		const char *fnm = now ? fresh->arena + fresh->u[before].str : NULL;
		if (!rc && (r != RC_OK || !now || fresh->u[before].uid != pw.uid ||
		            fresh->u[before].kind != pw.kind ||
		            strcmp(fnm + strlen(fnm) + 1, pw.gecos) != 0)) {
			if (r == RC_OK)
				aff[p->nshards + rc_snap_uid_shard(pw.uid, p->nbits)] = 1;
			if (now)
				aff[p->nshards + rc_snap_uid_shard(fresh->u[before].uid, p->nbits)] = 1;
		}
	}
	return rc;
}

/* The shards rewritten hold what members they will hold: the groups
 * forget them; each file fsynced when few are, else one syncfs at the
 * end. */
static void inc_forget(struct pub *p, const uint8_t *aff)
{
	size_t nfiles = 0;

	for (size_t i = 0; i < p->ng; i++) {
		struct grp *g = &p->g[i];
		uint32_t n = 0;
		for (uint32_t j = 0; j < g->nsh; j++)
			if (!aff[g->sh[j]])
				g->sh[n++] = g->sh[j];
		g->nsh = n;
	}
	for (uint32_t s = 0; s < 2 * p->nshards; s++)
		nfiles += aff[s];
	p->sync_each = nfiles <= 16;
}

/* 'P' shard S again: the old one's unchanged users and FRESH's of S. */
static int inc_pshard(struct pub *p, rc_snap *old, uint32_t s, const struct changed *ch,
                      const struct users *fresh)
{
	struct users us = { 0 };
	struct keep k = { .p = p, .us = &us, .ch = ch };
	int rc = rc_snap_shard_users(old, s, keep_user, &k);

	if (rc == RC_ERR_STORE)
		rc = NEED_FULL;   /* the old shard is damaged */
	for (size_t i = 0; !rc && i < fresh->n; i++) {
		const struct urec *u = &fresh->u[i];
		if (rc_snap_shard(u->hash, p->nbits) != s)
			continue;
		const char *nm = fresh->arena + u->str;
		rc = users_add(&us, u->uid, u->kind, nm, nm + strlen(nm) + 1, u->gids, u->ngids);
	}
	if (!rc) {
		sort_r(us.u, us.n, sizeof(*us.u), urec_cmp, us.arena);
		rc = write_pshard(p, s, &us, us.u, us.n);
	}
	users_free(&us);
	return rc;
}

/* 'U' shard S again: the old one's unchanged entries and FRESH's of S
 * (K: the entries' buffer, kept from shard to shard). */
static int inc_ushard(struct pub *p, rc_snap *old, uint32_t s, struct keep *k,
                      const struct users *fresh)
{
	int rc;

	k->nr = 0;
	rc = rc_snap_shard_uids(old, s, keep_uid, k);
	if (rc == RC_ERR_STORE)
		rc = NEED_FULL;
	for (size_t i = 0; !rc && i < fresh->n; i++) {
		const struct urec *u = &fresh->u[i];
		const char *nm = fresh->arena + u->str;
		if (rc_snap_uid_shard(u->uid, p->nbits) == s)
			rc = ref_add(k, u->uid, u->kind, nm, nm + strlen(nm) + 1);
	}
	if (!rc) {
		sort(k->r, k->nr, sizeof(*k->r), uidref_cmp);
		rc = write_ushard(p, s, k->r, k->nr);
	}
	return rc;
}

/* The shards AFF marks, written again over OLD. */
static int inc_write(struct pub *p, rc_snap *old, const struct changed *ch,
                     const struct users *fresh, const uint8_t *aff)
{
	struct keep k = { .p = p, .ch = ch };
	int rc = RC_OK;

	for (uint32_t s = 0; !rc && s < p->nshards; s++)
		if (aff[s])
			rc = inc_pshard(p, old, s, ch, fresh);
	for (uint32_t s = 0; !rc && s < p->nshards; s++)
		if (aff[p->nshards + s])
			rc = inc_ushard(p, old, s, &k, fresh);
	free(k.r);
	if (!rc && !p->sync_each && syncfs(p->dirfd) < 0)
		rc = rc_fail(RC_ERR_STORE, "cannot sync the NSS snapshot: %s", strerror(errno));
	return rc;
}

/* The shards of the COUNT users NAMES (of TOTAL) written again over OLD;
 * NEED_FULL when a whole publication is wanted instead. */
static int build_incremental(struct pub *p, rc_snap *old, char *names, size_t count,
                             size_t total)
{
	struct changed ch = { 0 };
	struct users fresh = { 0 };
	uint8_t *aff = NULL;
	int rc = inc_begin(p, old, total);

	if (rc)
		return rc;
	if ((rc = changed_init(&ch, names, count)) != RC_OK)
		goto out;
	if (!(aff = calloc(2 * (size_t)p->nshards, 1))) {
		rc = rc_fail(RC_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* most users changed: a whole publication costs less */
	if (ch.n > total / 8 + 64) {
		rc = NEED_FULL;
		goto out;
	}
	if ((rc = inc_fresh(p, old, &ch, &fresh, aff)) != RC_OK)
		goto out;
	inc_forget(p, aff);
	rc = inc_write(p, old, &ch, &fresh, aff);
out:
	free(aff);
	free(ch.v);
	users_free(&fresh);
	return rc;
}

/* ---- the publication ----------------------------------------------------------- */

/* What of the configuration the snapshot shows (homes, shells), as 8
 * bytes: a snapshot made with other values is published again when the
 * store is next opened (rc_snapshot_catch_up), though the store has not
 * changed. */
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

/* Was SN made with CFG's homes and shells? */
static bool snap_config_current(rc_snap *sn, const rc_config *cfg)
{
	uint8_t want[8], got[8];

	config_print(cfg, want);
	return rc_snap_config_print(sn, got) == RC_OK && memcmp(want, got, 8) == 0;
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

/* Is N (a file of nss.d) shard I of kind N[0] as SN (the new or the old
 * manifest: NSHARDS entries of SER) names it? */
static bool named(const char *n, uint32_t i, uint32_t nshards, const uint64_t *ser)
{
	char want[RC_SNAP_NAME_MAX];
	if (i >= nshards)
		return false;
	rc_snap_file_name(want, n[0], i, ser[(n[0] == 'U' ? nshards : 0) + i]);
	return strcmp(want, n) == 0;
}

/* After a publication: every file of nss.d that neither the new manifest
 * nor the one it replaced (OLD, NULL: none) names goes.  So a shard
 * replaced by publication G is removed by publication G+1 (or a later
 * one), not by G itself: a reader that loaded manifest G-1 just before G
 * was renamed in still finds the shards it names for a whole publication
 * (and retries with the newer manifest when it is slower than that).
 * Also the leftovers of a publisher that died.  A directory read per
 * publication: about 2 x 2^nbits names, under a millisecond at 1M users. */
static void sweep(struct pub *p, rc_snap *old)
{
	uint64_t *oser = NULL;
	uint32_t onshards = 0;
	int fd = dup(p->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (old) {
		onshards = 1u << rc_snap_nbits(old);
		oser = malloc(2 * (size_t)onshards * sizeof(*oser));
		for (uint32_t i = 0; oser && i < 2 * onshards; i++) {
			char fn[RC_SNAP_NAME_MAX];
			uint32_t size;
			rc_snap_shard_file(old, i < onshards ? 'P' : 'U', i % onshards, fn, sizeof(fn),
			                   &oser[i], &size);
		}
		if (!oser) {
			/* out of memory: remove nothing rather than too much */
			closedir(d);
			return;
		}
	}
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		if (n[0] == '.')
			continue;
		bool keep = false;
		if ((n[0] == 'P' || n[0] == 'U') && strlen(n) == 21) {
			uint32_t i = (uint32_t)strtoul((char[]){ n[1], n[2], n[3], 0 }, NULL, 16);
			keep = named(n, i, p->nshards, p->tser) ||
			       (oser && named(n, i, onshards, oser));
		}
		if (!keep)
			unlinkat(p->dirfd, n, 0);
	}
	closedir(d);
	free(oser);
}

static int pub_dir(struct pub *p, int statefd)
{
	struct stat st;
	/* not a directory (a symlink, a file): the state directory is root's,
	 * so this is damage; replace it */
	if (fstatat(statefd, RC_SNAP_DIR, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
		unlinkat(statefd, RC_SNAP_DIR, 0);
	if (mkdirat(statefd, RC_SNAP_DIR, 0755) < 0 && errno != EEXIST)
		return rc_fail(RC_ERR_STORE, "cannot make %s/%s: %s", p->s->cfg.state_dir,
		               RC_SNAP_DIR, strerror(errno));
	p->dirfd = openat(statefd, RC_SNAP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (p->dirfd < 0 || fstat(p->dirfd, &st) < 0)
		return rc_fail(RC_ERR_STORE, "cannot open %s/%s: %s", p->s->cfg.state_dir,
		               RC_SNAP_DIR, strerror(errno));
	if (st.st_uid != geteuid())
		return rc_fail(RC_ERR_STORE, "%s/%s is not root's own directory",
		               p->s->cfg.state_dir, RC_SNAP_DIR);
	/* mkdirat is subject to the umask; and a wrong mode is put right */
	if ((st.st_mode & 07777) != 0755 && fchmod(p->dirfd, 0755) < 0)
		return rc_fail(RC_ERR_STORE, "cannot chmod %s/%s: %s", p->s->cfg.state_dir,
		               RC_SNAP_DIR, strerror(errno));
	return RC_OK;
}

/* Publish over OLD (intact, of this configuration, older than P->gen)
 * what changed since: RC_OK, NEED_FULL (P reset: publish whole) or an
 * error. */
static int pub_incremental(struct pub *p, int statefd, rc_snap *old)
{
	char *names = NULL;
	size_t len, count, a, b, total = 0;
	int rc;

	if (!log_read(p->t, rc_snap_generation(old), p->gen, &names, &len, &count))
		return NEED_FULL;
	if (rc_store_count(p->t, DB_MEMBERS, &a) == RC_OK &&
	    rc_store_count(p->t, DB_SVCUSERS, &b) == RC_OK)
		total = a + b;
	p->serial = rc_snap_serial(old) + 1;
	rc = pub_dir(p, statefd);
	if (!rc)
		rc = groups_load(p);
	if (!rc)
		rc = build_incremental(p, old, names, count, total);
	free(names);
	if (rc == NEED_FULL) {
		struct pub fresh = { .s = p->s, .t = p->t, .gen = p->gen, .dirfd = -1 };
		pub_free(p);
		*p = fresh;
	}
	return rc;
}

/* Publish every shard anew, with a serial past OLD's (NULL: none). */
static int pub_whole(struct pub *p, int statefd, rc_snap *old)
{
	struct timespec now;
	int rc;

	clock_gettime(CLOCK_REALTIME, &now);
	p->serial = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	if (old && p->serial <= rc_snap_serial(old))
		p->serial = rc_snap_serial(old) + 1;
	if ((rc = pub_dir(p, statefd)) != RC_OK || (rc = groups_load(p)) != RC_OK)
		return rc;
	return build_full(p);
}

/* The shards written: the manifest naming them, renamed in (*RENAMED). */
static int pub_manifest(struct pub *p, int statefd, const uint8_t print[8], bool *renamed)
{
	const char *dir = p->s->cfg.state_dir;
	int rc;

	if (fsync(p->dirfd) < 0)
		return rc_fail(RC_ERR_STORE, "cannot sync the NSS snapshot: %s", strerror(errno));
	if ((rc = write_manifest(p, statefd, print)) != RC_OK)
		return rc;
	if (renameat(statefd, RC_SNAP_FILE ".tmp", statefd, RC_SNAP_FILE) < 0) {
		rc = rc_fail(RC_ERR_STORE, "cannot replace %s/%s: %s", dir, RC_SNAP_FILE,
		             strerror(errno));
		unlinkat(statefd, RC_SNAP_FILE ".tmp", 0);
		return rc;
	}
	*renamed = true;
	if (fsync(statefd) < 0)
		return rc_fail(RC_ERR_STORE, "cannot sync %s: %s", dir, strerror(errno));
	return RC_OK;
}

/* A publication that failed before its manifest was renamed in takes back
 * the shards it wrote (no manifest names them: no reader has them), so
 * that it leaves a full disk as full as it found it. */
static void pub_take_back(struct pub *p)
{
	if (!p->tser || p->dirfd < 0)
		return;
	for (uint32_t i = 0; i < 2 * p->nshards; i++) {
		char fn[RC_SNAP_NAME_MAX];
		if (p->tser[i] != p->serial)
			continue;
		rc_snap_file_name(fn, i < p->nshards ? 'P' : 'U', i % p->nshards, p->serial);
		unlinkat(p->dirfd, fn, 0);
	}
}

/* The manifest this process last found intact, which one later look may
 * take on trust.  Checking a manifest is a stat of every shard it names
 * (2,048 at a million users); a store open checks it (catch-up) and the
 * publication of that open's first change, a moment later, then need not
 * stat them all again.  Only once: a publication that finds the memo used
 * checks for itself, so a process that publishes on and on still notices
 * a shard damaged meanwhile at its next publication. */
static pthread_mutex_t intact_lock = PTHREAD_MUTEX_INITIALIZER;
static rc_snap_ident intact_id;
static bool intact_set;

static bool ident_eq(const rc_snap_ident *a, const rc_snap_ident *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->serial == b->serial &&
	       a->sec == b->sec && a->nsec == b->nsec;
}

/* Is every shard SN names there, a trusted file of its size?  REMEMBER:
 * a check that found so vouches for SN to the next look. */
static bool snap_intact(const rc_snap *sn, bool remember)
{
	rc_snap_ident id;
	bool hit, ok;

	rc_snap_identity(sn, &id);
	pthread_mutex_lock(&intact_lock);
	hit = intact_set && ident_eq(&id, &intact_id);
	if (hit)
		intact_set = false;
	pthread_mutex_unlock(&intact_lock);
	if (hit)
		return true;
	ok = rc_snap_check(sn) == RC_OK;
	if (ok && remember) {
		pthread_mutex_lock(&intact_lock);
		intact_id = id;
		intact_set = true;
		pthread_mutex_unlock(&intact_lock);
	}
	return ok;
}

/* Publish generation GEN from the read transaction T, over OLD (NULL: none
 * or unreadable). */
static int publish_once(rc_txn *t, int statefd, rc_snap *old, uint64_t gen)
{
	rc_store *s = t->s;
	struct pub p = { .s = s, .t = t, .gen = gen, .dirfd = -1 };
	uint8_t print[8];
	bool whole = true, renamed = false;
	int rc = NEED_FULL;

	config_print(&s->cfg, print);
	/* over a damaged view (a shard missing or cut short), publish whole */
	if (old && snap_config_current(old, &s->cfg) && rc_snap_generation(old) < gen &&
	    snap_intact(old, false))
		rc = pub_incremental(&p, statefd, old);
	if (rc == RC_OK)
		whole = false;
	else if (rc == NEED_FULL)
		rc = pub_whole(&p, statefd, old);
	if (!rc)
		rc = pub_manifest(&p, statefd, print, &renamed);
	if (!rc) {
		/* the files neither this manifest nor the one it replaced names */
		sweep(&p, old);
		if (whole)
			unlinkat(statefd, "nss.mdb", 0);   /* the snapshot of rollcall 0.1 */
	}
	if (rc && !renamed)
		pub_take_back(&p);
	pub_free(&p);
	return rc;
}

/* The state directory (*STATEFD) and the publish lock's file (*LOCKFD),
 * opened. */
static int publish_open(rc_store *s, int *statefd, int *lockfd)
{
	char lock[RC_PATH_MAX];
	int rc = rc_path_join(lock, sizeof(lock), s->cfg.state_dir, "nss.lock");

	if (rc)
		return rc;
	*statefd = open(s->cfg.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*statefd < 0)
		return rc_fail(RC_ERR_STORE, "cannot open %s: %s", s->cfg.state_dir, strerror(errno));
	*lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*lockfd < 0) {
		close(*statefd);
		return rc_fail(RC_ERR_STORE, "cannot open %s: %s", lock, strerror(errno));
	}
	return RC_OK;
}

/* One round of publish() below, the lock held: *DONE the generation
 * published (*PUBLISHED) by an earlier round.  RC_OK: publish again;
 * DONE_ROUNDS: nothing left to publish. */
#define DONE_ROUNDS 1001
static int publish_round(rc_store *s, int statefd, const char *path, uint64_t *done,
                         bool *published)
{
	rc_actor root = { .uid = 0, .origin = "publish" };
	rc_snap *old = NULL;
	uint64_t gen = 0;
	rc_txn t;
	int rc;

	if ((rc = rc_txn_begin(s, &root, false, &t)) != RC_OK)
		return rc;
	if (rc_meta_get_u64(&t, "@generation", &gen) != RC_OK)
		gen = 0;
	if (*published && gen == *done) {
		rc_txn_end(&t, RC_OK);
		return DONE_ROUNDS;
	}
	/* Never go backwards: a newer view stays (one of this generation
	 * too, unless it shows another configuration). */
	if (rc_snap_open(&old, path) != RC_OK)
		old = NULL;
	if (old && gen &&
	    (rc_snap_generation(old) > gen ||
	     (rc_snap_generation(old) == gen && snap_config_current(old, &s->cfg) &&
	      snap_intact(old, true))))
		rc = DONE_ROUNDS;
	else
		rc = publish_once(&t, statefd, old, gen);
	rc_snap_close(old);
	rc_txn_end(&t, RC_OK);
	if (rc != DONE_ROUNDS) {
		*done = gen;
		*published = true;
	}
	return rc;
}

static int publish(rc_store *s, bool wait)
{
	char path[RC_PATH_MAX];
	uint64_t done = 0;
	bool published = false;
	sigset_t saved;
	int fd = -1, rc, fl, statefd = -1;

	if ((rc = rc_path_join(path, sizeof(path), s->cfg.state_dir, RC_SNAP_FILE)) ||
	    (rc = publish_open(s, &statefd, &fd)))
		return rc;
	stop_signals(true, &saved);
	while ((fl = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB))) < 0 && errno == EINTR)
		;
	/* without the lock: another process is publishing; it reads the
	 * generation once it holds the lock, so it publishes this one or a
	 * later one.  With it: publish until the store's generation stays
	 * what was published (the changes of writers that queued on the lock
	 * meanwhile go out together). */
	for (int round = 0; fl == 0 && !rc && round < 1000; round++)
		rc = publish_round(s, statefd, path, &done, &published);
	if (rc == DONE_ROUNDS)
		rc = RC_OK;
	close(fd);   /* releases the lock */
	close(statefd);
	stop_signals(false, &saved);
	return rc;
}

int rc_snapshot_publish(rc_store *s)
{
	return publish(s, true);
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
	    snap_config_current(sn, &s->cfg) && snap_intact(sn, true)) {
		rc_snap_close(sn);
		return RC_OK;
	}
	rc_snap_close(sn);
	return publish(s, false);
}
