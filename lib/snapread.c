/*
 * snapread.c - reading the NSS snapshot (the format is in snapshot.h).
 * Linked into the NSS module: it depends on libc only.  The manifest is
 * mapped when opened; shards are mapped when a lookup first needs them,
 * from the files the manifest names.  Every file is checked before use
 * (owner, mode, size, header: kind, shard, serial and size as the manifest
 * says) and every record is bounds-checked before a pointer into it is
 * handed out.  A shard file that is gone means newer publications
 * replaced it: the manifest is opened again and the lookup repeated.
 * Lookups: a shard is mapped whole (MAP_POPULATE) and a directory of its
 * index made in the heap (directory() below), so that finding a user by
 * name touches the mapping in one place (its records' bucket in the 'P'
 * shard), and by uid in one place too (its bucket in the 'U' shard, which
 * holds the passwd record): at a million users that place is a cache and
 * a TLB miss, and its lines are asked for at once (prefetch_bucket).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "rollcall.h"
#include "snapshot.h"

#define AGAIN (-2)   /* a shard the manifest names is gone: reload */

struct map {
	const uint8_t *p;
	size_t len;
	uint32_t count;
	uint32_t a, b, c;   /* 'P': index, group lists, their number; 'U': index,
	                     * the end of the records (the file's end) */
	uint32_t esz;       /* bytes of an index entry: 8 */
	uint32_t kmin, kmax; /* the first and last key of the index (read once) */
	/* a directory of the index, made in the heap when the shard is mapped:
	 * the keys [kmin, kmax] cut into nb equal buckets; dir[b]: where
	 * bucket b begins (the offset of its first record), dir[nb] the
	 * end; a lookup reads two
	 * neighbours of it and then touches the shard once, where the answer
	 * is; NULL: no memory, the index is searched instead */
	uint32_t *dir;
	uint32_t nb;
};

/* Records per bucket of a directory: 4 (about 150 bytes walked) for a
 * small snapshot, whose directories stay in the CPU's caches; 16 for one
 * of 256 shards or more (a quarter of a byte of directory per user, and
 * the bucket's cache lines asked for at once, prefetch_bucket): there
 * every directory read is a miss too, and a smaller directory misses
 * less often than a bucket of 16 records costs to walk. */
#define PER_BUCKET_SMALL 4
#define PER_BUCKET_LARGE 16
#define LARGE_NBITS 8

struct rc_snap {
	char path[4096];
	int dirfd;
	struct map m;         /* the manifest */
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	uint64_t generation, serial;
	uint8_t config_print[8];
	unsigned nbits;
	uint32_t nshards;
	const char *home_base, *shell, *service_shell;
	const uint8_t *table, *byname, *bygid;
	uint32_t ngroups;
	struct map *shards;   /* 'P' 0..n-1, then 'U' */
	/* which top 16 bits the hashes of the manifest's group names have
	 * (a bit each; made at the first lookup of a group by name): a user's
	 * private group, whose name is no manifest group's, then skips the
	 * binary search of the group index, a dozen reads in the manifest
	 * (a few thousand groups at a million users) */
	uint8_t *gbits;
	bool gbits_tried;
};

static void unmap_all(rc_snap *sn)
{
	if (sn->shards) {
		for (uint32_t i = 0; i < 2 * sn->nshards; i++) {
			if (sn->shards[i].p)
				munmap((void *)(uintptr_t)sn->shards[i].p, sn->shards[i].len);
			free(sn->shards[i].dir);
		}
		free(sn->shards);
		sn->shards = NULL;
	}
	free(sn->gbits);
	sn->gbits = NULL;
	sn->gbits_tried = false;
	if (sn->m.p)
		munmap((void *)(uintptr_t)sn->m.p, sn->m.len);
	sn->m.p = NULL;
	if (sn->dirfd >= 0)
		close(sn->dirfd);
	sn->dirfd = -1;
}

void rc_snap_close(rc_snap *sn)
{
	if (!sn)
		return;
	unmap_all(sn);
	free(sn);
}

/* Map the regular file FD; false when it is not one to trust. */
static bool map_fd(int fd, struct map *m, struct stat *st)
{
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || !rc_stat_trusted(st) ||
	    st->st_size < RC_SNAP_HDR || (uint64_t)st->st_size > UINT32_MAX)
		return false;
	/* populated: a shard is small (about 100 KiB), and a lookup that
	 * faults a page in costs more than the lookup */
	void *p = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED)
		return false;
	m->p = p;
	m->len = (size_t)st->st_size;
	return true;
}

/* The common header: magic, version, KIND, shard I, SERIAL, the size. */
static bool header_ok(const struct map *m, char kind, uint32_t i, uint64_t serial)
{
	const uint8_t *p = m->p;
	return memcmp(p, RC_SNAP_MAGIC, 4) == 0 && rc_le32(p + 4) == RC_SNAP_VERSION &&
	       rc_le32(p + 8) == (uint32_t)kind && rc_le32(p + 12) == i &&
	       rc_le64(p + 16) == serial && rc_le32(p + 24) == m->len;
}

/* A NUL-ended string at OFF, inside the map. */
static const char *str_at(const struct map *m, size_t off)
{
	if (off >= m->len || !memchr(m->p + off, '\0', m->len - off))
		return NULL;
	return (const char *)m->p + off;
}

/* The manifest SN->path, mapped: its directory, the state directory, a
 * real directory (not a symlink), owned by root (or us), not writable by
 * others; the file not a symlink, not a FIFO (O_NONBLOCK), a trusted
 * regular file.  DIR: the directory's path (DLEN bytes). */
static int map_manifest(rc_snap *sn, char *dir, size_t *dlen)
{
	struct stat st;
	const char *slash = strrchr(sn->path, '/');
	int fd;

	*dlen = slash ? (size_t)(slash - sn->path) : 0;
	if (!slash || *dlen == 0 || *dlen >= 4096)
		return RC_ERR_STORE;
	memcpy(dir, sn->path, *dlen);
	dir[*dlen] = '\0';
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || !rc_stat_trusted(&st))
		return RC_ERR_STORE;
	fd = open(sn->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return RC_ERR_STORE;
	bool ok = map_fd(fd, &sn->m, &st);
	close(fd);
	if (!ok)
		return RC_ERR_STORE;
	sn->dev = st.st_dev;
	sn->ino = st.st_ino;
	sn->mtime = st.st_mtim;
	return RC_OK;
}

/* The mapped manifest's header and the places of its parts, checked. */
static int parse_manifest(rc_snap *sn)
{
	const struct map *m = &sn->m;
	const uint8_t *p = m->p;

	if (m->len < 72 || memcmp(p, RC_SNAP_MAGIC, 4) != 0 ||
	    rc_le32(p + 4) != RC_SNAP_VERSION || rc_le32(p + 8) != 'M' ||
	    rc_le32(p + 12) != 0 || rc_le32(p + 24) != m->len)
		return RC_ERR_STORE;
	sn->serial = rc_le64(p + 16);
	sn->ngroups = rc_le32(p + 28);
	sn->generation = rc_le64(p + 32);
	memcpy(sn->config_print, p + 40, 8);
	sn->nbits = rc_le32(p + 48);
	if (sn->nbits > RC_SNAP_MAX_NBITS || sn->ngroups > m->len / 8)
		return RC_ERR_STORE;
	sn->nshards = 1u << sn->nbits;
	uint32_t so = rc_le32(p + 52), to = rc_le32(p + 56), no = rc_le32(p + 60),
	         go = rc_le32(p + 64);
	if (!(sn->home_base = str_at(m, so)) ||
	    !(sn->shell = str_at(m, so + strlen(sn->home_base) + 1)) ||
	    !(sn->service_shell = str_at(m, so + strlen(sn->home_base) + strlen(sn->shell) + 2)))
		return RC_ERR_STORE;
	if ((uint64_t)to + 24ull * sn->nshards > m->len ||
	    (uint64_t)no + 8ull * sn->ngroups > m->len || (uint64_t)go + 4ull * sn->ngroups > m->len)
		return RC_ERR_STORE;
	sn->table = p + to;
	sn->byname = p + no;
	sn->bygid = p + go;
	return RC_OK;
}

static int load(rc_snap *sn)
{
	struct stat st;
	char dir[4096 + 16];
	size_t dlen;
	int rc;

	if ((rc = map_manifest(sn, dir, &dlen)) != RC_OK || (rc = parse_manifest(sn)) != RC_OK)
		return rc;
	/* the shards' directory: a real one, ours */
	memcpy(dir + dlen, "/" RC_SNAP_DIR, sizeof(RC_SNAP_DIR) + 1);
	sn->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sn->dirfd < 0 || fstat(sn->dirfd, &st) < 0 || !rc_stat_trusted(&st))
		return RC_ERR_STORE;
	sn->shards = calloc(2 * (size_t)sn->nshards, sizeof(*sn->shards));
	return sn->shards ? RC_OK : RC_ERR_NOMEM;
}

int rc_snap_open(rc_snap **out, const char *path)
{
	rc_snap *sn;
	int rc;

	*out = NULL;
	if (strlen(path) >= sizeof(sn->path))
		return RC_ERR_STORE;
	if (!(sn = calloc(1, sizeof(*sn))))
		return RC_ERR_NOMEM;
	sn->dirfd = -1;
	memcpy(sn->path, path, strlen(path) + 1);
	if ((rc = load(sn)) != RC_OK) {
		rc_snap_close(sn);
		return rc;
	}
	*out = sn;
	return RC_OK;
}

/* A shard was gone: open the manifest again (a newer one).  The same
 * manifest again means the shard is missing for good: damaged. */
static int reload(rc_snap *sn)
{
	uint64_t serial = sn->serial;
	unmap_all(sn);
	int rc = load(sn);
	if (rc == RC_OK && sn->serial == serial)
		rc = RC_ERR_STORE;
	return rc;
}

uint64_t rc_snap_generation(const rc_snap *sn)
{
	return sn->generation;
}

uint64_t rc_snap_serial(const rc_snap *sn)
{
	return sn->serial;
}

unsigned rc_snap_nbits(const rc_snap *sn)
{
	return sn->nbits;
}

int rc_snap_config_print(const rc_snap *sn, uint8_t out[8])
{
	memcpy(out, sn->config_print, 8);
	return RC_OK;
}

int rc_snap_replaced(const rc_snap *sn, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return 1;
	return st.st_ino != sn->ino || st.st_dev != sn->dev ||
	       st.st_mtim.tv_sec != sn->mtime.tv_sec || st.st_mtim.tv_nsec != sn->mtime.tv_nsec;
}

int rc_snap_shard_file(const rc_snap *sn, char kind, uint32_t i, char *name, size_t len,
                       uint64_t *serial, uint32_t *size)
{
	if ((kind != 'P' && kind != 'U') || i >= sn->nshards || len < RC_SNAP_NAME_MAX)
		return RC_ERR_NOTFOUND;
	const uint8_t *e = sn->table + 12 * ((kind == 'U' ? sn->nshards : 0) + i);
	*serial = rc_le64(e);
	*size = rc_le32(e + 8);
	rc_snap_file_name(name, kind, i, *serial);
	return RC_OK;
}

int rc_snap_check(const rc_snap *sn)
{
	for (uint32_t i = 0; i < 2 * sn->nshards; i++) {
		char name[RC_SNAP_NAME_MAX];
		uint64_t serial;
		uint32_t size;
		struct stat st;
		rc_snap_shard_file(sn, i < sn->nshards ? 'P' : 'U', i % sn->nshards, name, sizeof(name),
		                   &serial, &size);
		if (fstatat(sn->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    !rc_stat_trusted(&st) || st.st_size != (off_t)size)
			return RC_ERR_STORE;
	}
	return RC_OK;
}

void rc_snap_identity(const rc_snap *sn, rc_snap_ident *id)
{
	*id = (rc_snap_ident){ .dev = (uint64_t)sn->dev, .ino = (uint64_t)sn->ino,
	                       .serial = sn->serial, .sec = (int64_t)sn->mtime.tv_sec,
	                       .nsec = sn->mtime.tv_nsec };
}

/* The bucket of key X in M's directory (X in [kmin, kmax]). */
static inline uint32_t bucket(const struct map *m, uint32_t x)
{
	return (uint32_t)((uint64_t)(x - m->kmin) * m->nb / ((uint64_t)m->kmax - m->kmin + 1));
}

/* M's directory: PER entries per bucket on average.  Private memory: 1
 * byte per user of a small snapshot's shard, a quarter for a large one
 * (0.5 MiB in all for a process that looked up every shard of a million
 * users), against the misses of a search through the index (each a cache
 * and a TLB miss in a mapping of 80 MiB). */
static void directory(struct map *m, uint32_t per)
{
	uint32_t nb = m->count / per + 1, b = 0;
	m->dir = NULL;
	m->nb = 0;
	if (!m->count || !(m->dir = malloc(((size_t)nb + 1) * sizeof(uint32_t))))
		return;
	m->nb = nb;
	/* dir[b]: the offset of the record of the first entry whose bucket
	 * is b or more (the keys are sorted and the records lie in their
	 * order; damaged ones make a wrong directory, not an unsafe one: what
	 * a lookup finds is bounds-checked and compared with what it looks
	 * for) */
	for (uint32_t k = 0; k < m->count && b < nb; k++) {
		const uint8_t *e = m->p + m->a + m->esz * (size_t)k;
		uint32_t x = rc_le32(e), kb = x < m->kmin ? 0 : x > m->kmax ? nb - 1 : bucket(m, x);
		for (; b <= kb && b < nb; b++)
			m->dir[b] = rc_le32(e + 4);
	}
	for (; b <= nb; b++)   /* the empty ones at the end, and the end */
		m->dir[b] = m->b;
}

/* Shard I of KIND, mapped and checked: RC_OK, AGAIN or RC_ERR_STORE. */
static int shard(rc_snap *sn, char kind, uint32_t i, const struct map **out)
{
	struct map *m = &sn->shards[(kind == 'U' ? sn->nshards : 0) + i];
	char name[RC_SNAP_NAME_MAX];
	uint64_t serial;
	uint32_t size;
	struct stat st;

	*out = m;
	if (m->p)
		return RC_OK;
	m->esz = 8;
	rc_snap_shard_file(sn, kind, i, name, sizeof(name), &serial, &size);
	int fd = openat(sn->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? AGAIN : RC_ERR_STORE;
	bool ok = map_fd(fd, m, &st);
	close(fd);
	if (!ok)
		return RC_ERR_STORE;
	const uint8_t *p = m->p;
	uint64_t n = rc_le32(p + 28);
	bool good = m->len == size && header_ok(m, kind, i, serial) && m->len >= 44;
	if (good && kind == 'P') {
		m->a = rc_le32(p + 32);
		m->b = rc_le32(p + 36);
		m->c = rc_le32(p + 40);
		good = m->a >= 44 && m->a + 8 * n <= m->b && m->b <= m->len &&
		       (uint64_t)m->b + 16ull * m->c <= m->len;
	} else if (good) {
		m->a = rc_le32(p + 32);
		m->b = (uint32_t)m->len;
		good = m->a >= 36 && m->a + 8 * n <= m->len;
	}
	if (!good) {
		munmap((void *)(uintptr_t)m->p, m->len);
		m->p = NULL;
		return RC_ERR_STORE;
	}
	m->count = (uint32_t)n;
	/* the index's ends, kept here: a lookup interpolates between them
	 * without touching the pages they lie in */
	m->kmin = n ? rc_le32(p + m->a) : 0;
	m->kmax = n ? rc_le32(p + m->a + m->esz * (n - 1)) : 0;
	directory(m, sn->nbits >= LARGE_NBITS ? PER_BUCKET_LARGE : PER_BUCKET_SMALL);
	return RC_OK;
}

/* Record K of the 'P' shard M, checked. */
static int user_at(const struct map *m, uint32_t k, rc_snap_user *u)
{
	const uint8_t *ix = m->p + m->a + 8 * (size_t)k;
	uint32_t off = rc_le32(ix + 4);
	uint32_t end = k + 1 < m->count ? rc_le32(ix + 12) : m->b;
	if (off < m->a + 8 * (size_t)m->count || end > m->b || end < (uint64_t)off + 8)
		return RC_ERR_STORE;
	const uint8_t *p = m->p + off, *e = m->p + end;
	u->hash = rc_le32(ix);
	u->uid = rc_le32(p);
	u->kind = p[4];
	u->ngids = p[5];
	const uint8_t *z = memchr(p + 6, '\0', (size_t)(e - p - 6));
	if (!z || z == p + 6 || z - (p + 6) > RC_NAME_MAX || u->ngids > RC_SNAP_MAX_GIDS ||
	    u->kind > 1)
		return RC_ERR_STORE;
	u->name = (const char *)p + 6;
	const uint8_t *g = memchr(z + 1, '\0', (size_t)(e - z - 1));
	if (!g)
		return RC_ERR_STORE;
	u->gecos = (const char *)z + 1;
	u->gids = g + 1;
	return (size_t)(e - u->gids) == 4 * (size_t)u->ngids ? RC_OK : RC_ERR_STORE;
}

/* The first entry of M's index (COUNT entries of 8 bytes at M->a, sorted
 * by their first u32) whose key is X or more.  Keys are hashes, or uids
 * spread over the id range: interpolating between the keys known to bound
 * a range (at first the index's ends, kept in M) lands next to X; each
 * step reads two keys close together (one or two cache lines, one page)
 * and narrows the range and its bounds; a binary search finishes.  At a
 * million users this touches one page of the index where a binary search
 * touches four and a dozen cache lines.  Damaged keys cost at most the
 * binary search, and a wrong position is caught by the callers (they
 * compare what they find). */
static uint32_t key_lower(const struct map *m, uint32_t x)
{
	const uint8_t *ix = m->p + m->a;
	uint32_t lo = 0, hi = m->count;
	uint64_t klo = m->kmin, khi = m->kmax;   /* keys of [lo, hi) lie in [klo, khi] */
	for (int step = 0; step < 4 && hi - lo > 16; step++) {
		if (x <= klo)
			return lo;
		if (x > khi)
			return hi;
		uint32_t g = lo + (uint32_t)((uint64_t)(x - klo) * (hi - lo) / (khi - klo + 1));
		/* a window of 12 around the guess: the answer is in [lo, hi] */
		uint32_t a = g > lo + 6 ? g - 6 : lo, b = g + 6 < hi ? g + 6 : hi - 1;
		uint32_t ka = rc_le32(ix + m->esz * (size_t)a);
		if (ka >= x) {
			hi = a;
			khi = ka;
			continue;
		}
		lo = a + 1;
		klo = ka;
		if (b >= lo) {
			uint32_t kb = rc_le32(ix + m->esz * (size_t)b);
			if (kb >= x) {
				hi = b;
				khi = kb;
			} else {
				lo = b + 1;
				klo = kb;
			}
		}
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (rc_le32(ix + m->esz * (size_t)mid) < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first record of M at or after (HASH, NAME) (after it when STRICT):
 * its number, or M->count. */
static int lower_bound(const struct map *m, uint32_t hash, const char *name, bool strict,
                       uint32_t *pos)
{
	uint32_t k = key_lower(m, hash);
	/* the records of the same hash, by name (a collision is rare) */
	for (; k < m->count && rc_le32(m->p + m->a + 8 * (size_t)k) == hash; k++) {
		rc_snap_user u;
		if (user_at(m, k, &u))
			return RC_ERR_STORE;
		int c = strcmp(u.name, name);
		if (c > 0 || (!strict && c == 0))
			break;
	}
	*pos = k;
	return RC_OK;
}

/* The record of 'P' shard M at OFF (a record's end is where the next
 * begins), checked against the bounds of the records; *NEXT: the offset
 * after it. */
static int user_rec(const struct map *m, uint32_t off, rc_snap_user *u, uint32_t *next)
{
	size_t lo = m->a + 8 * (size_t)m->count;
	if (off < lo || (uint64_t)off + 8 > m->b)
		return RC_ERR_STORE;
	const uint8_t *p = m->p + off, *e = m->p + m->b;
	u->uid = rc_le32(p);
	u->kind = p[4];
	u->ngids = p[5];
	const uint8_t *z = memchr(p + 6, '\0', (size_t)(e - p - 6));
	if (!z || z == p + 6 || z - (p + 6) > RC_NAME_MAX || u->ngids > RC_SNAP_MAX_GIDS ||
	    u->kind > 1)
		return RC_ERR_STORE;
	u->name = (const char *)p + 6;
	const uint8_t *g = memchr(z + 1, '\0', (size_t)(e - z - 1));
	if (!g || (size_t)(e - g - 1) < 4 * (size_t)u->ngids)
		return RC_ERR_STORE;
	u->gecos = (const char *)z + 1;
	u->gids = g + 1;
	*next = (uint32_t)(u->gids + 4 * (size_t)u->ngids - m->p);
	return RC_OK;
}

/* The cache lines of the records in [OFF, STOP) of M (1 KiB at most),
 * asked for all at once: a bucket spans several lines, and walking it
 * would otherwise wait for each miss in turn. */
static inline void prefetch_bucket(const struct map *m, uint32_t off, uint32_t stop)
{
	for (uint32_t o = off & ~63u; o < stop && o < off + 1024; o += 64)
		__builtin_prefetch(m->p + o);
}

/* NAME (of hash H) in 'P' shard M through its directory: the records of
 * H's bucket, walked in order (one place in the shard, not the index and
 * then the record). */

static int find_direct(const struct map *m, uint32_t h, const char *name, rc_snap_user *u)
{
	if (h < m->kmin || h > m->kmax)
		return RC_ERR_NOTFOUND;
	uint32_t b = bucket(m, h), off = m->dir[b], stop = m->dir[b + 1];
	if (stop > m->b)
		return RC_ERR_STORE;
	prefetch_bucket(m, off, stop);
	while (off < stop) {
		int rc = user_rec(m, off, u, &off);
		if (rc)
			return rc;
		if (strcmp(u->name, name) == 0) {
			u->hash = h;
			return RC_OK;
		}
	}
	return RC_ERR_NOTFOUND;
}

static int find_user(rc_snap *sn, const char *name, rc_snap_user *u)
{
	const struct map *m;
	uint32_t h = rc_snap_hash(name), pos;
	int rc = shard(sn, 'P', rc_snap_shard(h, sn->nbits), &m);
	if (rc)
		return rc;
	if (m->dir)
		return find_direct(m, h, name, u);
	if ((rc = lower_bound(m, h, name, false, &pos)))
		return rc;
	if (pos == m->count)
		return RC_ERR_NOTFOUND;
	if ((rc = user_at(m, pos, u)))
		return rc;
	return u->hash == h && strcmp(u->name, name) == 0 ? RC_OK : RC_ERR_NOTFOUND;
}

static void to_pw(const rc_snap *sn, const rc_snap_user *u, rc_snap_pw *pw)
{
	pw->uid = u->uid;
	pw->gid = u->uid;   /* the private group */
	pw->kind = u->kind;
	pw->name = u->name;
	pw->gecos = u->gecos;
	pw->shell = u->kind ? sn->service_shell : sn->shell;
	/* home_base/NAME (snprintf costs more than the rest of a lookup) */
	size_t b = strnlen(sn->home_base, 4096), n = strnlen(u->name, 39);
	memcpy(pw->dirbuf, sn->home_base, b);
	pw->dirbuf[b] = '/';
	memcpy(pw->dirbuf + b + 1, u->name, n);
	pw->dirbuf[b + 1 + n] = '\0';
	pw->dir = pw->dirbuf;
}

/* Run LOOKUP again after a reload when a shard was replaced under it.  The
 * publisher removes a replaced shard only at the next publication after
 * the one that replaced it (snapshot.c, sweep), so a reader finds its
 * shards gone only when two publications came between its manifest and
 * its lookup; each retry is cheap (a manifest).  32 before the shards
 * were kept for a publication, a stopgap: now a few are plenty. */
#define RETRIES 8
#define RETRY(call)                                                    \
	do {                                                           \
		for (int tries_ = 0;; tries_++) {                      \
			int rc_ = (call);                              \
			if (rc_ != AGAIN)                              \
				return rc_;                            \
			if (tries_ == RETRIES || reload(sn) != RC_OK)  \
				return RC_ERR_STORE;                   \
		}                                                      \
	} while (0)

static int pw_byname(rc_snap *sn, const char *name, rc_snap_pw *pw)
{
	rc_snap_user u;
	int rc = find_user(sn, name, &u);
	if (!rc)
		to_pw(sn, &u, pw);
	return rc;
}

int rc_snap_pw_byname(rc_snap *sn, const char *name, rc_snap_pw *pw)
{
	RETRY(pw_byname(sn, name, pw));
}

/* The record of 'U' shard M at OFF, checked against the bounds of the
 * records: uid, kind, name and gecos in U (no groups: ngids 0); *NEXT:
 * the offset after it. */
static int uid_rec(const struct map *m, uint32_t off, rc_snap_user *u, uint32_t *next)
{
	size_t lo = m->a + 8 * (size_t)m->count;
	if (off < lo || (uint64_t)off + 7 > m->b)
		return RC_ERR_STORE;
	const uint8_t *p = m->p + off, *e = m->p + m->b;
	u->uid = rc_le32(p);
	u->kind = p[4];
	u->ngids = 0;
	u->gids = NULL;
	const uint8_t *z = memchr(p + 5, '\0', (size_t)(e - p - 5));
	if (!z || z == p + 5 || z - (p + 5) > RC_NAME_MAX || u->kind > 1)
		return RC_ERR_STORE;
	u->name = (const char *)p + 5;
	const uint8_t *g = memchr(z + 1, '\0', (size_t)(e - z - 1));
	if (!g)
		return RC_ERR_STORE;
	u->gecos = (const char *)z + 1;
	u->hash = 0;
	*next = (uint32_t)(g + 1 - m->p);
	return RC_OK;
}

/* UID in the 'U' shards: its record there holds all a passwd entry needs
 * (snapshot version 4), so a lookup by uid touches the shard in one
 * place, the records of the uid's bucket, as one by name does. */
static int user_byuid(rc_snap *sn, uint32_t uid, rc_snap_user *u)
{
	const struct map *m;
	uint32_t off, next;
	int rc = shard(sn, 'U', rc_snap_uid_shard(uid, sn->nbits), &m);
	if (rc)
		return rc;
	if (m->dir) {
		if (uid < m->kmin || uid > m->kmax)
			return RC_ERR_NOTFOUND;
		uint32_t b = bucket(m, uid), stop = m->dir[b + 1];
		if (stop > m->b)
			return RC_ERR_STORE;
		prefetch_bucket(m, m->dir[b], stop);
		for (off = m->dir[b]; off < stop; off = next) {
			if ((rc = uid_rec(m, off, u, &next)) != RC_OK)
				return rc;
			if (u->uid == uid)
				return RC_OK;
			if (u->uid > uid)
				break;
		}
		return RC_ERR_NOTFOUND;
	}
	uint32_t k = key_lower(m, uid);
	const uint8_t *e = m->p + m->a + 8 * (size_t)k;
	if (k >= m->count || rc_le32(e) != uid)
		return RC_ERR_NOTFOUND;
	if ((rc = uid_rec(m, rc_le32(e + 4), u, &next)) != RC_OK)
		return rc;
	/* the index names a record of another uid: damaged */
	return u->uid == uid ? RC_OK : RC_ERR_STORE;
}

static int pw_byuid(rc_snap *sn, uint32_t uid, rc_snap_pw *pw)
{
	rc_snap_user u;
	int rc = user_byuid(sn, uid, &u);
	if (!rc)
		to_pw(sn, &u, pw);
	return rc;
}

int rc_snap_pw_byuid(rc_snap *sn, uint32_t uid, rc_snap_pw *pw)
{
	RETRY(pw_byuid(sn, uid, pw));
}

/* ---- groups ------------------------------------------------------------- */

/* The manifest's group entry at OFF. */
static int group_at(rc_snap *sn, uint32_t off, rc_snap_gr *gr)
{
	const struct map *m = &sn->m;
	if ((uint64_t)off + 8 > m->len)
		return RC_ERR_STORE;
	gr->gid = rc_le32(m->p + off);
	gr->nshards = rc_le32(m->p + off + 4);
	if (gr->nshards > sn->nshards || (uint64_t)off + 8 + 2ull * gr->nshards >= m->len)
		return RC_ERR_STORE;
	gr->shards = m->p + off + 8;
	gr->name = str_at(m, off + 8 + 2 * (size_t)gr->nshards);
	return gr->name && gr->name[0] ? RC_OK : RC_ERR_STORE;
}

/* The group list for GID in 'P' shard M: its header, or NULL. */
static const uint8_t *group_list(const struct map *m, uint32_t gid)
{
	uint32_t lo = 0, hi = m->c;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const uint8_t *g = m->p + m->b + 16 * (size_t)mid;
		uint32_t x = rc_le32(g);
		if (x == gid)
			return g;
		if (x < gid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Complete GR (a group of the manifest): map the shards that hold its
 * members and add up their counts. */
static int group_sizes(rc_snap *sn, rc_snap_gr *gr)
{
	uint64_t n = 0, bytes = 0;
	uint32_t last = 0;
	for (uint32_t k = 0; k < gr->nshards; k++) {
		uint32_t s = (uint32_t)gr->shards[2 * k] | (uint32_t)gr->shards[2 * k + 1] << 8;
		const struct map *m;
		if (s >= sn->nshards || (k && s <= last))
			return RC_ERR_STORE;
		last = s;
		int rc = shard(sn, 'P', s, &m);
		if (rc)
			return rc;
		const uint8_t *g = group_list(m, gr->gid);
		if (!g)
			return RC_ERR_STORE;
		n += rc_le32(g + 4);
		bytes += rc_le32(g + 8);
	}
	if (n > UINT32_MAX || bytes > SIZE_MAX / 2)
		return RC_ERR_STORE;
	gr->nmem = (uint32_t)n;
	gr->mem_len = (size_t)bytes;
	return RC_OK;
}

static int private_group(const rc_snap_user *u, rc_snap_gr *gr)
{
	memset(gr, 0, sizeof(*gr));
	gr->gid = u->uid;
	gr->name = u->name;
	return RC_OK;
}

/* The manifest's group named NAME (whose hash is H): its position in the
 * name index, or where it would be. */
static int group_lower(rc_snap *sn, uint32_t h, const char *name, bool strict, uint32_t *pos,
                       rc_snap_gr *gr)
{
	uint32_t lo = 0, hi = sn->ngroups;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint32_t x = rc_le32(sn->byname + 8 * (size_t)mid);
		int c;
		if (x != h) {
			c = x < h ? -1 : 1;
		} else {
			int rc = group_at(sn, rc_le32(sn->byname + 8 * (size_t)mid + 4), gr);
			if (rc)
				return rc;
			c = strcmp(gr->name, name);
		}
		if (c < 0 || (strict && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return RC_OK;
}

/* SN's group bits (NULL: none made, no memory; then every lookup
 * searches the index, as it must when a bit is set). */
static const uint8_t *group_bits(rc_snap *sn)
{
	if (!sn->gbits_tried) {
		sn->gbits_tried = true;
		if ((sn->gbits = calloc(1, 1u << 13)) != NULL)
			for (uint32_t k = 0; k < sn->ngroups; k++) {
				uint32_t x = rc_le32(sn->byname + 8 * (size_t)k) >> 16;
				sn->gbits[x >> 3] |= (uint8_t)(1u << (x & 7));
			}
	}
	return sn->gbits;
}

static int gr_byname(rc_snap *sn, const char *name, rc_snap_gr *gr)
{
	uint32_t h = rc_snap_hash(name), pos = sn->ngroups;
	rc_snap_user u;
	const uint8_t *bits = group_bits(sn);
	int rc;
	if ((!bits || (bits[h >> 19] >> ((h >> 16) & 7) & 1)) &&
	    (rc = group_lower(sn, h, name, false, &pos, gr)) != RC_OK)
		return rc;
	if (pos < sn->ngroups && rc_le32(sn->byname + 8 * (size_t)pos) == h) {
		if ((rc = group_at(sn, rc_le32(sn->byname + 8 * (size_t)pos + 4), gr)))
			return rc;
		if (strcmp(gr->name, name) == 0)
			return group_sizes(sn, gr);
	}
	rc = find_user(sn, name, &u);
	return rc ? rc : private_group(&u, gr);
}

int rc_snap_gr_byname(rc_snap *sn, const char *name, rc_snap_gr *gr)
{
	RETRY(gr_byname(sn, name, gr));
}

static int gr_bygid(rc_snap *sn, uint32_t gid, rc_snap_gr *gr)
{
	uint32_t lo = 0, hi = sn->ngroups;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int rc = group_at(sn, rc_le32(sn->bygid + 4 * (size_t)mid), gr);
		if (rc)
			return rc;
		if (gr->gid == gid)
			return group_sizes(sn, gr);
		if (gr->gid < gid)
			lo = mid + 1;
		else
			hi = mid;
	}
	rc_snap_user u;
	int rc = user_byuid(sn, gid, &u);
	return rc ? rc : private_group(&u, gr);
}

int rc_snap_gr_bygid(rc_snap *sn, uint32_t gid, rc_snap_gr *gr)
{
	RETRY(gr_bygid(sn, gid, gr));
}

int rc_snap_gr_members(rc_snap *sn, const rc_snap_gr *gr,
                       int (*fn)(void *ctx, const char *name), void *ctx)
{
	uint64_t n = 0, bytes = 0;
	for (uint32_t k = 0; k < gr->nshards; k++) {
		uint32_t s = (uint32_t)gr->shards[2 * k] | (uint32_t)gr->shards[2 * k + 1] << 8;
		const struct map *m;
		/* mapped by the lookup that gave GR: never AGAIN here */
		if (s >= sn->nshards || shard(sn, 'P', s, &m) != RC_OK)
			return RC_ERR_STORE;
		const uint8_t *g = group_list(m, gr->gid);
		if (!g)
			return RC_ERR_STORE;
		uint32_t cnt = rc_le32(g + 4), want = rc_le32(g + 8), got = 0;
		uint32_t off = rc_le32(g + 12);
		if ((uint64_t)off + 4ull * cnt > m->len)
			return RC_ERR_STORE;
		for (uint32_t i = 0; i < cnt; i++) {
			rc_snap_user u;
			uint32_t r = rc_le32(m->p + off + 4 * (size_t)i);
			if (r >= m->count || user_at(m, r, &u))
				return RC_ERR_STORE;
			got += (uint32_t)strlen(u.name) + 1;
			if (got > want || fn(ctx, u.name))
				return RC_ERR_STORE;
		}
		if (got != want)
			return RC_ERR_STORE;
		n += cnt;
		bytes += got;
	}
	return n == gr->nmem && bytes == gr->mem_len ? RC_OK : RC_ERR_STORE;
}

/* ---- enumeration: (hash, name) order ------------------------------------- */

/* The first user after AFTER (NULL: the first of all). */
static int user_next(rc_snap *sn, const char *after, rc_snap_user *u)
{
	uint32_t h = after ? rc_snap_hash(after) : 0, s = rc_snap_shard(h, sn->nbits), pos = 0;
	for (; s < sn->nshards; s++, pos = 0) {
		const struct map *m;
		int rc = shard(sn, 'P', s, &m);
		if (rc)
			return rc;
		if (after && s == rc_snap_shard(h, sn->nbits) &&
		    (rc = lower_bound(m, h, after, true, &pos)))
			return rc;
		if (pos < m->count)
			return user_at(m, pos, u);
	}
	return RC_ERR_NOTFOUND;
}

static int pw_next(rc_snap *sn, const char *after, rc_snap_pw *pw)
{
	rc_snap_user u;
	int rc = user_next(sn, after, &u);
	if (!rc)
		to_pw(sn, &u, pw);
	return rc;
}

int rc_snap_pw_next(rc_snap *sn, const char *after, rc_snap_pw *pw)
{
	RETRY(pw_next(sn, after, pw));
}

/* Groups in (hash, name) order: the manifest's and the private ones merged. */
static int gr_next(rc_snap *sn, const char *after, rc_snap_gr *gr)
{
	uint32_t h = after ? rc_snap_hash(after) : 0, pos = 0;
	rc_snap_user u;
	rc_snap_gr g;
	int rc;

	if (after && (rc = group_lower(sn, h, after, true, &pos, &g)))
		return rc;
	rc = user_next(sn, after, &u);
	if (rc && rc != RC_ERR_NOTFOUND)
		return rc;
	if (pos < sn->ngroups) {
		uint32_t gh = rc_le32(sn->byname + 8 * (size_t)pos);
		int r2 = group_at(sn, rc_le32(sn->byname + 8 * (size_t)pos + 4), gr);
		if (r2)
			return r2;
		if (rc == RC_ERR_NOTFOUND || gh < u.hash ||
		    (gh == u.hash && strcmp(gr->name, u.name) <= 0))
			return group_sizes(sn, gr);
	}
	return rc ? rc : private_group(&u, gr);
}

int rc_snap_gr_next(rc_snap *sn, const char *after, rc_snap_gr *gr)
{
	RETRY(gr_next(sn, after, gr));
}

static int groups_of(rc_snap *sn, const char *name, const uint8_t **gids, size_t *n)
{
	rc_snap_user u;
	int rc = find_user(sn, name, &u);
	if (!rc) {
		*gids = u.gids;
		*n = u.ngids;
	}
	return rc;
}

int rc_snap_groups(rc_snap *sn, const char *name, const uint8_t **gids, size_t *n)
{
	RETRY(groups_of(sn, name, gids, n));
}

/* ---- for the publisher --------------------------------------------------- */

int rc_snap_shard_users(rc_snap *sn, uint32_t i, int (*fn)(void *ctx, const rc_snap_user *u),
                        void *ctx)
{
	const struct map *m;
	rc_snap_user u;
	int rc;

	if (i >= sn->nshards)
		return RC_ERR_STORE;
	if ((rc = shard(sn, 'P', i, &m)) != RC_OK)
		return RC_ERR_STORE;   /* no reload here: the publisher holds the lock */
	for (uint32_t k = 0; k < m->count; k++) {
		if ((rc = user_at(m, k, &u)) != RC_OK || (rc = fn(ctx, &u)) != RC_OK)
			return rc;
	}
	return RC_OK;
}

int rc_snap_shard_uids(rc_snap *sn, uint32_t i, int (*fn)(void *ctx, const rc_snap_user *u),
                       void *ctx)
{
	const struct map *m;
	rc_snap_user u;
	uint32_t next;
	int rc;

	if (i >= sn->nshards || shard(sn, 'U', i, &m) != RC_OK)
		return RC_ERR_STORE;
	for (uint32_t k = 0; k < m->count; k++) {
		const uint8_t *e = m->p + m->a + 8 * (size_t)k;
		if (uid_rec(m, rc_le32(e + 4), &u, &next) != RC_OK || u.uid != rc_le32(e))
			return RC_ERR_STORE;
		if ((rc = fn(ctx, &u)) != RC_OK)
			return rc;
	}
	return RC_OK;
}

int rc_snap_groups_each(rc_snap *sn, int (*fn)(void *ctx, uint32_t gid, const char *name,
                                               const uint8_t *shards, uint32_t nshards),
                        void *ctx)
{
	rc_snap_gr g;
	int rc;
	for (uint32_t k = 0; k < sn->ngroups; k++) {
		if ((rc = group_at(sn, rc_le32(sn->byname + 8 * (size_t)k + 4), &g)) != RC_OK ||
		    (rc = fn(ctx, g.gid, g.name, g.shards, g.nshards)) != RC_OK)
			return rc;
	}
	return RC_OK;
}
