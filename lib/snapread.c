/*
 * snapread.c - reading the NSS snapshot.  Linked into the NSS module: it
 * depends on LMDB only, keeps one read transaction for the life of the
 * handle (the file is never modified in place, only replaced), and checks
 * every record before handing out pointers into it.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "rollcall.h"
#include "snapshot.h"

struct rc_snap {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	uint64_t generation;
	uint8_t config_print[8];   /* of the homes and shells it shows */
	bool has_config_print;
};

void rc_snap_close(rc_snap *sn)
{
	if (!sn)
		return;
	if (sn->txn)
		mdb_txn_abort(sn->txn);
	if (sn->env)
		mdb_env_close(sn->env);
	free(sn);
}

/* A snapshot file we trust: a regular file, owned by root (or us), not
 * writable by others, at least a page long. */
static int trusted_file(const struct stat *st)
{
	return S_ISREG(st->st_mode) && !(st->st_mode & 022) &&
	       (st->st_uid == 0 || st->st_uid == geteuid()) && st->st_size >= 4096;
}

int rc_snap_open(rc_snap **out, const char *path)
{
	rc_snap *sn;
	struct stat st;
	MDB_val k = { 1, (void *)(uintptr_t)"V" }, v;
	int fd;

	*out = NULL;
	/* Its directory, the state directory: a real directory (not a
	 * symlink), owned by root (or us), not writable by others. */
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	if (!slash || dlen == 0 || dlen >= sizeof(dir))
		return RC_ERR_STORE;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 022) ||
	    (st.st_uid != 0 && st.st_uid != geteuid()))
		return RC_ERR_STORE;
	/* Not a symlink, and a trusted file before LMDB opens it (which would
	 * block on a FIFO). */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return RC_ERR_STORE;
	if (fstat(fd, &st) < 0 || !trusted_file(&st)) {
		close(fd);
		return RC_ERR_STORE;
	}
	close(fd);
	sn = calloc(1, sizeof(*sn));
	if (!sn)
		return RC_ERR_NOMEM;
	if (mdb_env_create(&sn->env) != 0) {
		sn->env = NULL;
		goto fail;
	}
	if (mdb_env_open(sn->env, path, MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR | MDB_NOTLS |
	                 MDB_NORDAHEAD, 0) != 0)
		goto fail;
	/* LMDB opened the path again: a publish may have renamed a new
	 * snapshot over it since the checks above.  What counts from here on
	 * is the file LMDB has, so check that one. */
	mdb_filehandle_t efd;
	if (mdb_env_get_fd(sn->env, &efd) != 0 || fstat(efd, &st) < 0 || !trusted_file(&st))
		goto fail;
	sn->dev = st.st_dev;
	sn->ino = st.st_ino;
	sn->mtime = st.st_mtim;
	/* A truncated file would fault when a page past its end is read. */
	MDB_envinfo info;
	MDB_stat est;
	if (mdb_env_info(sn->env, &info) != 0 || mdb_env_stat(sn->env, &est) != 0 ||
	    (uint64_t)(info.me_last_pgno + 1) * est.ms_psize > (uint64_t)st.st_size)
		goto fail;
	if (mdb_txn_begin(sn->env, NULL, MDB_RDONLY, &sn->txn) != 0) {
		sn->txn = NULL;
		goto fail;
	}
	if (mdb_dbi_open(sn->txn, NULL, 0, &sn->dbi) != 0)
		goto fail;
	if (mdb_get(sn->txn, sn->dbi, &k, &v) != 0 || (v.mv_size != 12 && v.mv_size != 20) ||
	    rc_snap_u32(v.mv_data) != RC_SNAP_VERSION)
		goto fail;
	sn->generation = (uint64_t)rc_snap_u32((uint8_t *)v.mv_data + 4) |
	                 ((uint64_t)rc_snap_u32((uint8_t *)v.mv_data + 8) << 32);
	if (v.mv_size == 20) {
		memcpy(sn->config_print, (uint8_t *)v.mv_data + 12, 8);
		sn->has_config_print = true;
	}
	*out = sn;
	return RC_OK;
fail:
	rc_snap_close(sn);
	return RC_ERR_STORE;
}

uint64_t rc_snap_generation(const rc_snap *sn)
{
	return sn->generation;
}

int rc_snap_config_print(const rc_snap *sn, uint8_t out[8])
{
	if (!sn->has_config_print)
		return RC_ERR_NOTFOUND;
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

static int get(rc_snap *sn, char prefix, const void *key, size_t klen, MDB_val *v)
{
	char buf[512];
	MDB_val k = { klen + 1, buf };
	if (klen == 0 || klen >= sizeof(buf))
		return RC_ERR_NOTFOUND;
	buf[0] = prefix;
	memcpy(buf + 1, key, klen);
	int m = mdb_get(sn->txn, sn->dbi, &k, v);
	return m == 0 ? RC_OK : m == MDB_NOTFOUND ? RC_ERR_NOTFOUND : RC_ERR_STORE;
}

/* Split N NUL-terminated strings from P..P+LEN; all of LEN must be used. */
static int strings(const char *p, size_t len, const char **out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *z = memchr(p, '\0', len);
		if (!z)
			return RC_ERR_STORE;
		out[i] = p;
		len -= (size_t)(z - p) + 1;
		p = z + 1;
	}
	return len == 0 ? RC_OK : RC_ERR_STORE;
}

static int decode_pw(const MDB_val *v, rc_snap_pw *pw)
{
	const char *s[4];
	if (v->mv_size < 12)
		return RC_ERR_STORE;
	pw->uid = rc_snap_u32(v->mv_data);
	pw->gid = rc_snap_u32((uint8_t *)v->mv_data + 4);
	if (strings((char *)v->mv_data + 8, v->mv_size - 8, s, 4))
		return RC_ERR_STORE;
	pw->name = s[0];
	pw->gecos = s[1];
	pw->dir = s[2];
	pw->shell = s[3];
	return RC_OK;
}

static int decode_gr(const MDB_val *v, rc_snap_gr *gr)
{
	const char *p, *end;
	if (v->mv_size < 9)
		return RC_ERR_STORE;
	gr->gid = rc_snap_u32(v->mv_data);
	gr->nmem = rc_snap_u32((uint8_t *)v->mv_data + 4);
	p = (char *)v->mv_data + 8;
	end = (char *)v->mv_data + v->mv_size;
	const char *z = memchr(p, '\0', (size_t)(end - p));
	if (!z)
		return RC_ERR_STORE;
	gr->name = p;
	gr->mem = z + 1;
	gr->mem_len = (size_t)(end - gr->mem);
	/* the member list must hold exactly nmem strings */
	size_t count = 0;
	for (const char *q = gr->mem; q < end; q++)
		count += *q == '\0';
	if (count != gr->nmem || (gr->mem_len && end[-1] != '\0'))
		return RC_ERR_STORE;
	return RC_OK;
}

static void be32(uint32_t x, uint8_t k[4])
{
	k[0] = (uint8_t)(x >> 24);
	k[1] = (uint8_t)(x >> 16);
	k[2] = (uint8_t)(x >> 8);
	k[3] = (uint8_t)x;
}

int rc_snap_pw_byname(rc_snap *sn, const char *name, rc_snap_pw *pw)
{
	MDB_val v;
	int rc = get(sn, 'P', name, strlen(name), &v);
	return rc ? rc : decode_pw(&v, pw);
}

/* The name an id index ('U' or 'I') gives for ID. */
static int name_of(rc_snap *sn, char prefix, uint32_t id, char name[256])
{
	MDB_val v;
	uint8_t k[4];
	be32(id, k);
	int rc = get(sn, prefix, k, 4, &v);
	if (rc)
		return rc;
	if (v.mv_size == 0 || v.mv_size >= 256)
		return RC_ERR_STORE;
	memcpy(name, v.mv_data, v.mv_size);
	name[v.mv_size] = '\0';
	return RC_OK;
}

int rc_snap_pw_byuid(rc_snap *sn, uint32_t uid, rc_snap_pw *pw)
{
	char name[256];
	int rc = name_of(sn, 'U', uid, name);
	if (!rc)
		rc = rc_snap_pw_byname(sn, name, pw);
	return rc == RC_OK && pw->uid != uid ? RC_ERR_STORE : rc;
}

int rc_snap_gr_byname(rc_snap *sn, const char *name, rc_snap_gr *gr)
{
	MDB_val v;
	int rc = get(sn, 'G', name, strlen(name), &v);
	return rc ? rc : decode_gr(&v, gr);
}

int rc_snap_gr_bygid(rc_snap *sn, uint32_t gid, rc_snap_gr *gr)
{
	char name[256];
	int rc = name_of(sn, 'I', gid, name);
	if (!rc)
		rc = rc_snap_gr_byname(sn, name, gr);
	return rc == RC_OK && gr->gid != gid ? RC_ERR_STORE : rc;
}

/* The record with PREFIX after the key PREFIX+AFTER (or the first one). */
static int next(rc_snap *sn, char prefix, const char *after, MDB_val *v)
{
	MDB_cursor *c;
	char buf[512];
	MDB_val k;
	size_t n = after ? strlen(after) : 0;
	int m, rc;

	if (n + 1 >= sizeof(buf))
		return RC_ERR_NOTFOUND;
	buf[0] = prefix;
	memcpy(buf + 1, after ? after : "", n);
	k.mv_size = n + 1;
	k.mv_data = buf;
	if (mdb_cursor_open(sn->txn, sn->dbi, &c) != 0)
		return RC_ERR_STORE;
	m = mdb_cursor_get(c, &k, v, MDB_SET_RANGE);
	if (m == 0 && after && k.mv_size == n + 1 && memcmp(k.mv_data, buf, n + 1) == 0)
		m = mdb_cursor_get(c, &k, v, MDB_NEXT);
	if (m == 0 && (k.mv_size < 2 || ((char *)k.mv_data)[0] != prefix))
		m = MDB_NOTFOUND;
	rc = m == 0 ? RC_OK : m == MDB_NOTFOUND ? RC_ERR_NOTFOUND : RC_ERR_STORE;
	mdb_cursor_close(c);
	return rc;
}

int rc_snap_pw_next(rc_snap *sn, const char *after, rc_snap_pw *pw)
{
	MDB_val v;
	int rc = next(sn, 'P', after, &v);
	return rc ? rc : decode_pw(&v, pw);
}

int rc_snap_gr_next(rc_snap *sn, const char *after, rc_snap_gr *gr)
{
	MDB_val v;
	int rc = next(sn, 'G', after, &v);
	return rc ? rc : decode_gr(&v, gr);
}

int rc_snap_groups(rc_snap *sn, const char *name, const uint8_t **gids, size_t *n)
{
	MDB_val v;
	int rc = get(sn, 'M', name, strlen(name), &v);
	if (rc)
		return rc;
	if (v.mv_size % 4)
		return RC_ERR_STORE;
	*gids = v.mv_data;
	*n = v.mv_size / 4;
	return RC_OK;
}
