/*
 * nss_rollcall.c - libnss_rollcall.so.2: rollcall's members and service
 * users as passwd and group entries, read from the published snapshot
 * (state_dir/nss.snap and the shards it names).  Thin glue over lib/snapread.c.
 *
 * - The snapshot is opened read-only and kept mapped; a replaced file is
 *   noticed by a stat() at most once a second (a coarse clock is read on
 *   every call, which needs no system call).
 * - One mutex guards the handle and the enumeration positions; a forked
 *   child drops the parent's handle (pthread_atfork) and opens its own.
 * - Entries are sized first: a buffer too small gives ERANGE and
 *   NSS_STATUS_TRYAGAIN, and nothing is written past it.
 * - A missing or damaged snapshot is NSS_STATUS_UNAVAIL: the next source in
 *   nsswitch.conf answers.  errno is left as it was, except for *errnop
 *   (which glibc points at errno itself).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "rollcall.h"
#include "snapshot.h"
#include "nss_rollcall.h"

#define EXPORT __attribute__((visibility("default")))
#define CHECK_INTERVAL_NS 1000000000LL

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static rc_snap *snap;
static char snap_path[RC_PATH_MAX];
static int64_t next_check;
static bool atfork_done;
static char pw_pos[RC_NAME_MAX + 1], gr_pos[RC_NAME_MAX + 1];
static bool pw_started, gr_started;
static bool stale;   /* set in a forked child: reopen before use */

static void child_after_fork(void)
{
	/* Another thread of the parent may have held the lock: start with a
	 * fresh one, and open the snapshot again rather than share the
	 * parent's LMDB handle. */
	pthread_mutex_init(&lock, NULL);
	stale = true;
	next_check = 0;
}

static int64_t coarse_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* With the lock held: a usable snapshot, or NULL. */
static rc_snap *snapshot(void)
{
	int64_t now = coarse_ns();

	if (!atfork_done) {
		pthread_atfork(NULL, NULL, child_after_fork);
		atfork_done = true;
	}
	if (stale) {
		rc_snap_close(snap);
		snap = NULL;
		stale = false;
	}
	if (snap && now < next_check)
		return snap;
	if (!snap_path[0]) {
		const char *dir = secure_getenv("ROLLCALL_STATE_DIR");
		if (!dir || dir[0] != '/')
			dir = RC_DEFAULT_STATE_DIR;
		if ((size_t)snprintf(snap_path, sizeof(snap_path), "%s/%s", dir, RC_SNAP_FILE) >=
		    sizeof(snap_path))
			snap_path[0] = '\0';
	}
	next_check = now + CHECK_INTERVAL_NS;
	if (snap && !rc_snap_replaced(snap, snap_path))
		return snap;
	rc_snap *fresh = NULL;
	if (rc_snap_open(&fresh, snap_path) == RC_OK) {
		rc_snap_close(snap);
		snap = fresh;
	} else if (snap) {
		/* gone or replaced by something unreadable: unavailable */
		rc_snap_close(snap);
		snap = NULL;
	}
	return snap;
}

/* ---- copying into the caller's buffer ----------------------------------- */

struct bufp {
	char *p;
	size_t left;
};

static char *bcopy_str(struct bufp *b, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = b->p;
	memcpy(d, s, n);
	b->p += n;
	b->left -= n;
	return d;
}

static enum nss_status fill_pw(const rc_snap_pw *e, struct passwd *pw, char *buf, size_t len,
                               int *errnop)
{
	/* four strings and "*", each with its NUL.  "*" (no password here, as
	 * SSSD does), not "x": pam_unix's account check then passes members on
	 * to pam_rollcall instead of looking for a shadow entry that is not there */
	size_t need = strlen(e->name) + strlen(e->gecos) + strlen(e->dir) + strlen(e->shell) + 4 +
	              2;
	struct bufp b = { buf, len };

	if (need > len) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	pw->pw_name = bcopy_str(&b, e->name);
	pw->pw_passwd = bcopy_str(&b, "*");
	pw->pw_uid = e->uid;
	pw->pw_gid = e->gid;
	pw->pw_gecos = bcopy_str(&b, e->gecos);
	pw->pw_dir = bcopy_str(&b, e->dir);
	pw->pw_shell = bcopy_str(&b, e->shell);
	return NSS_STATUS_SUCCESS;
}

struct members {
	char **mem;
	struct bufp b;
	uint32_t i, n;
};

static int add_member(void *ctx, const char *name)
{
	struct members *m = ctx;
	if (m->i >= m->n || strlen(name) + 1 > m->b.left)
		return 1;   /* not what the group announced: damaged */
	m->mem[m->i++] = bcopy_str(&m->b, name);
	return 0;
}

static enum nss_status fill_gr(rc_snap *sn, const rc_snap_gr *e, struct group *gr, char *buf,
                               size_t len, int *errnop)
{
	size_t strs = strlen(e->name) + 1 + 2 + e->mem_len;
	uintptr_t base = (uintptr_t)buf;
	size_t pad = (alignof(char *) - base % alignof(char *)) % alignof(char *);
	size_t need = pad + ((size_t)e->nmem + 1) * sizeof(char *) + strs;

	if (len < need) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	struct members m = { (char **)(void *)(buf + pad), { NULL, 0 }, 0, e->nmem };
	m.b.p = buf + pad + ((size_t)e->nmem + 1) * sizeof(char *);
	m.b.left = len - (size_t)(m.b.p - buf);
	gr->gr_name = bcopy_str(&m.b, e->name);
	gr->gr_passwd = bcopy_str(&m.b, "*");
	gr->gr_gid = e->gid;
	if (rc_snap_gr_members(sn, e, add_member, &m) != RC_OK || m.i != e->nmem) {
		*errnop = ENOENT;
		return NSS_STATUS_UNAVAIL;
	}
	m.mem[e->nmem] = NULL;
	gr->gr_mem = m.mem;
	return NSS_STATUS_SUCCESS;
}

/* Map a lookup's result; errno is restored by the callers. */
static enum nss_status status_of(int rc, int *errnop)
{
	if (rc == RC_ERR_NOTFOUND) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	*errnop = ENOENT;
	return NSS_STATUS_UNAVAIL;
}

static bool name_ok(const char *name)
{
	size_t n = name ? strnlen(name, RC_NAME_MAX + 1) : 0;
	if (n == 0 || n > RC_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] <= ' ' || name[i] == ':' || name[i] == '/' ||
		    (unsigned char)name[i] >= 0x7f)
			return false;
	return true;
}

#define BEGIN                                   \
	int saved_errno = errno;                \
	enum nss_status st;                     \
	pthread_mutex_lock(&lock);              \
	rc_snap *sn = snapshot();               \
	if (!sn) {                              \
		*errnop = ENOENT;               \
		st = NSS_STATUS_UNAVAIL;        \
		goto out;                       \
	}
/* errno as it was, then *errnop on failure: glibc passes &errno as
 * errnop, and reads ERANGE there to grow the buffer (nss-systemd's
 * UNPROTECT_ERRNO) */
#define END                                     \
out:                                            \
	pthread_mutex_unlock(&lock);            \
	if (st != NSS_STATUS_SUCCESS) {         \
		int e_ = *errnop;               \
		errno = saved_errno;            \
		*errnop = e_;                   \
	} else {                                \
		errno = saved_errno;            \
	}                                       \
	return st;

EXPORT enum nss_status _nss_rollcall_getpwnam_r(const char *name, struct passwd *pw,
                                                char *buf, size_t len, int *errnop)
{
	rc_snap_pw e;
	if (!name_ok(name)) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	BEGIN
	int rc = rc_snap_pw_byname(sn, name, &e);
	st = rc ? status_of(rc, errnop) : fill_pw(&e, pw, buf, len, errnop);
	END
}

EXPORT enum nss_status _nss_rollcall_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
                                                size_t len, int *errnop)
{
	rc_snap_pw e;
	BEGIN
	int rc = rc_snap_pw_byuid(sn, (uint32_t)uid, &e);
	st = rc ? status_of(rc, errnop) : fill_pw(&e, pw, buf, len, errnop);
	END
}

EXPORT enum nss_status _nss_rollcall_setpwent(int stayopen)
{
	(void)stayopen;
	pthread_mutex_lock(&lock);
	pw_started = false;
	pw_pos[0] = '\0';
	pthread_mutex_unlock(&lock);
	return NSS_STATUS_SUCCESS;
}

EXPORT enum nss_status _nss_rollcall_endpwent(void)
{
	return _nss_rollcall_setpwent(0);
}

EXPORT enum nss_status _nss_rollcall_getpwent_r(struct passwd *pw, char *buf, size_t len,
                                                int *errnop)
{
	rc_snap_pw e;
	BEGIN
	int rc = rc_snap_pw_next(sn, pw_started ? pw_pos : NULL, &e);
	if (rc) {
		st = status_of(rc, errnop);
		goto out;
	}
	st = fill_pw(&e, pw, buf, len, errnop);
	if (st == NSS_STATUS_SUCCESS) {   /* advance only past what was returned */
		snprintf(pw_pos, sizeof(pw_pos), "%s", e.name);
		pw_started = true;
	}
	END
}

EXPORT enum nss_status _nss_rollcall_getgrnam_r(const char *name, struct group *gr, char *buf,
                                                size_t len, int *errnop)
{
	rc_snap_gr e;
	if (!name_ok(name)) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	BEGIN
	int rc = rc_snap_gr_byname(sn, name, &e);
	st = rc ? status_of(rc, errnop) : fill_gr(sn, &e, gr, buf, len, errnop);
	END
}

EXPORT enum nss_status _nss_rollcall_getgrgid_r(gid_t gid, struct group *gr, char *buf,
                                                size_t len, int *errnop)
{
	rc_snap_gr e;
	BEGIN
	int rc = rc_snap_gr_bygid(sn, (uint32_t)gid, &e);
	st = rc ? status_of(rc, errnop) : fill_gr(sn, &e, gr, buf, len, errnop);
	END
}

EXPORT enum nss_status _nss_rollcall_setgrent(int stayopen)
{
	(void)stayopen;
	pthread_mutex_lock(&lock);
	gr_started = false;
	gr_pos[0] = '\0';
	pthread_mutex_unlock(&lock);
	return NSS_STATUS_SUCCESS;
}

EXPORT enum nss_status _nss_rollcall_endgrent(void)
{
	return _nss_rollcall_setgrent(0);
}

EXPORT enum nss_status _nss_rollcall_getgrent_r(struct group *gr, char *buf, size_t len,
                                                int *errnop)
{
	rc_snap_gr e;
	BEGIN
	int rc = rc_snap_gr_next(sn, gr_started ? gr_pos : NULL, &e);
	if (rc) {
		st = status_of(rc, errnop);
		goto out;
	}
	st = fill_gr(sn, &e, gr, buf, len, errnop);
	if (st == NSS_STATUS_SUCCESS) {
		snprintf(gr_pos, sizeof(gr_pos), "%s", e.name);
		gr_started = true;
	}
	END
}

EXPORT enum nss_status _nss_rollcall_initgroups_dyn(const char *user, gid_t group, long *start,
                                                    long *size, gid_t **groupsp, long limit,
                                                    int *errnop)
{
	const uint8_t *g;
	size_t n;
	if (!name_ok(user)) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	BEGIN
	int rc = rc_snap_groups(sn, user, &g, &n);
	if (rc) {
		st = status_of(rc, errnop);
		goto out;
	}
	st = NSS_STATUS_SUCCESS;
	for (size_t i = 0; i < n; i++) {
		gid_t gid = (gid_t)rc_le32(g + 4 * i);
		if (gid == group)
			continue;
		bool dup = false;
		for (long j = 0; j < *start && !dup; j++)
			dup = (*groupsp)[j] == gid;
		if (dup)
			continue;
		if (limit > 0 && *start >= limit)
			break;
		if (*start == *size) {
			if (limit > 0 && *size >= limit)
				break;
			long nsize = *size ? *size * 2 : 8;
			if (limit > 0 && nsize > limit)
				nsize = limit;
			gid_t *ng = realloc(*groupsp, (size_t)nsize * sizeof(gid_t));
			if (!ng) {
				*errnop = ENOMEM;
				st = NSS_STATUS_TRYAGAIN;
				goto out;
			}
			*groupsp = ng;
			*size = nsize;
		}
		(*groupsp)[(*start)++] = gid;
	}
	END
}
