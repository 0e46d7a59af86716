/*
 * fsutil.c - paths, ownership checks and the host's own files source.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <string.h>
#include "fsutil.h"
#include "errors.h"
#include "bytes.h"

int rc_path_join(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= len)
		return rc_fail(RC_ERR_INVALID, "path too long: %s/%s", dir, name);
	return RC_OK;
}

/* The file must belong to the effective user (root when run as root) and
 * have none of the FORBIDDEN mode bits. */
int rc_check_owner_mode(const char *path, const struct stat *st,
                        unsigned forbidden_bits, const char *what)
{
	uid_t euid = geteuid();

	if (st->st_uid != euid)
		return rc_fail(RC_ERR_STORE, "%s %s is owned by uid %u, not by %s",
		               what, path, (unsigned)st->st_uid,
		               euid == 0 ? "root" : "the user running rollcall");
	if (st->st_mode & forbidden_bits & 0022)
		return rc_fail(RC_ERR_STORE, "%s %s is group- or other-writable (mode %04o)",
		               what, path, (unsigned)(st->st_mode & 07777));
	if (st->st_mode & forbidden_bits)
		return rc_fail(RC_ERR_STORE, "%s %s is readable by other users (mode %04o)",
		               what, path, (unsigned)(st->st_mode & 07777));
	return RC_OK;
}

/* A file of settings root trusts (rollcall.conf, a mail template): opened
 * without following a symlink, a regular file of root's (or of the
 * effective user's), not group- or other-writable (rc_stat_trusted of
 * bytes.h: the NSS snapshot's reader applies the same).  RC_OK and *FD;
 * RC_ERR_NOTFOUND (no message) when it does not exist; else RC_ERR_CONFIG
 * naming WHAT and PATH. */
int rc_open_trusted(const char *path, const char *what, int *fd_out, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	int rc = RC_OK;

	*fd_out = -1;
	if (fd < 0) {
		if (errno == ENOENT)
			return RC_ERR_NOTFOUND;
		if (errno == ELOOP)
			return rc_fail(RC_ERR_CONFIG, "%s %s is a symlink", what, path);
		return rc_fail(RC_ERR_CONFIG, "cannot open %s %s: %s", what, path, strerror(errno));
	}
	if (fstat(fd, st) < 0)
		rc = rc_fail(RC_ERR_CONFIG, "cannot stat %s %s: %s", what, path, strerror(errno));
	else if (!S_ISREG(st->st_mode))
		rc = rc_fail(RC_ERR_CONFIG, "%s %s is not a regular file", what, path);
	else if (!rc_stat_owner_ok(st))
		rc = rc_fail(RC_ERR_CONFIG, "%s %s is owned by uid %u, not by root", what, path,
		             (unsigned)st->st_uid);
	else if (!rc_stat_trusted(st))
		rc = rc_fail(RC_ERR_CONFIG, "%s %s is group- or other-writable (mode %04o)", what,
		             path, (unsigned)(st->st_mode & 07777));
	if (rc) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return RC_OK;
}

/* One line of a passwd- or group-format file ("name:x:id:..."): its name
 * (NAME, NLEN) and its id (-1 when the third field is no number).  0 for a
 * line that names no one (a comment, a NIS +/- line, no ':'). */
static int host_line(const char *line, const char **name, size_t *nlen, int64_t *id)
{
	const char *colon1 = strchr(line, ':'), *colon2, *p;
	int64_t v = 0;
	int digits = 0;

	if (!colon1 || line[0] == '#' || line[0] == '+' || line[0] == '-')
		return 0;
	*name = line;
	*nlen = (size_t)(colon1 - line);
	*id = -1;
	if (!(colon2 = strchr(colon1 + 1, ':')))
		return 1;
	for (p = colon2 + 1; *p >= '0' && *p <= '9' && digits < 11; digits++)
		v = v * 10 + (*p++ - '0');
	if (digits && *p == ':')
		*id = v;
	return 1;
}

/* Scan a passwd- or group-format file for NAME (or, NAME NULL, for ID).
 * Returns 1 when a line matches, 0 when none does (or the file is
 * missing), -1 on error. */
static int host_scan(const char *path, const char *name, int64_t id)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	int found = 0;

	if (!f)
		return errno == ENOENT ? 0 : -1;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *n;
		size_t nlen;
		int64_t v;
		if (!host_line(line, &n, &nlen, &v))
			continue;
		if (name)
			found = nlen == strlen(name) && memcmp(n, name, nlen) == 0;
		else
			found = v == id;
	}
	fclose(f);
	return found;
}

int rc_host_has_name(const char *path, const char *name)
{
	return host_scan(path, name, -1);
}

int rc_host_has_id(const char *path, uint32_t id)
{
	return host_scan(path, NULL, (int64_t)id);
}

/* ---- the same files, read once for a batch (rc_host_files) --------------- */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int host_load(const char *path, struct rc_host_file *hf)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	size_t cap = 0;
	int rc = RC_OK;

	if (!f)
		return errno == ENOENT ? RC_OK
		                       : rc_fail(RC_ERR_STORE, "cannot read %s: %s", path, strerror(errno));
	while (!rc && fgets(line, sizeof(line), f)) {
		const char *n;
		size_t nlen;
		int64_t v;
		if (!host_line(line, &n, &nlen, &v))
			continue;
		if (hf->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **names = realloc(hf->names, ncap * sizeof(*names));
			uint32_t *ids = names ? realloc(hf->ids, ncap * sizeof(*ids)) : NULL;
			if (names)
				hf->names = names;
			if (!ids) {
				rc = rc_fail(RC_ERR_NOMEM, "out of memory");
				break;
			}
			hf->ids = ids;
			cap = ncap;
		}
		if (!(hf->names[hf->n] = strndup(n, nlen))) {
			rc = rc_fail(RC_ERR_NOMEM, "out of memory");
			break;
		}
		if (v >= 0 && v <= UINT32_MAX)
			hf->ids[hf->nids++] = (uint32_t)v;
		hf->n++;
	}
	if (!rc && ferror(f))
		rc = rc_fail(RC_ERR_STORE, "cannot read %s: %s", path, strerror(errno));
	fclose(f);
	if (!rc) {
		qsort(hf->names, hf->n, sizeof(*hf->names), cmp_name);
		qsort(hf->ids, hf->nids, sizeof(*hf->ids), cmp_id);
	}
	return rc;
}

int rc_host_files_load(const rc_config *cfg, rc_host_files *h)
{
	int rc;

	memset(h, 0, sizeof(*h));
	rc = host_load(cfg->passwd_file, &h->f[0]);
	if (!rc)
		rc = host_load(cfg->group_file, &h->f[1]);
	if (rc)
		rc_host_files_free(h);
	return rc;
}

void rc_host_files_free(rc_host_files *h)
{
	for (int i = 0; i < 2; i++) {
		for (size_t j = 0; j < h->f[i].n; j++)
			free(h->f[i].names[j]);
		free(h->f[i].names);
		free(h->f[i].ids);
	}
	memset(h, 0, sizeof(*h));
}

int rc_host_files_has_name(const rc_host_files *h, int which, const char *name)
{
	const struct rc_host_file *hf = &h->f[which];
	return hf->n && bsearch(&name, hf->names, hf->n, sizeof(*hf->names), cmp_name) != NULL;
}

int rc_host_files_has_id(const rc_host_files *h, int which, uint32_t id)
{
	const struct rc_host_file *hf = &h->f[which];
	return hf->nids && bsearch(&id, hf->ids, hf->nids, sizeof(*hf->ids), cmp_id) != NULL;
}

/* A setuid-root program started by another user: root in full (real,
 * effective and saved ids, root's group and no supplementary groups), so
 * that its caller can no longer signal it (a process may signal any whose
 * real or saved uid is its own: stopped while it held the store's write
 * transaction, it would hold every login on the host); the CPU-time and
 * file-size limits the caller set, which would kill it in the middle of a
 * write, lifted, and the memory limits too (the caller would choose which
 * allocation fails: argon2id's, LMDB's map); at least 1024 descriptors;
 * not dumpable.  The caller's ids are the program's to keep before. */
RC_API int rc_privileges_root(void)
{
	static const int limits[] = { RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_AS, RLIMIT_DATA };
	struct rlimit nofile;

	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
		(void)setrlimit(limits[i], &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 1024) {
		nofile.rlim_cur = 1024;
		if (nofile.rlim_max < 1024)
			nofile.rlim_max = 1024;
		(void)setrlimit(RLIMIT_NOFILE, &nofile);
	}
	(void)prctl(PR_SET_DUMPABLE, 0);
	return 0;
}

/* ---- a daemon's life lock (rollcalld: doctor tells a dead one from a live one) */

RC_API int rc_life_lock_take(const char *path, int *fd_out)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600), fl;
	struct stat st;

	*fd_out = -1;
	if (fd < 0)
		return rc_fail(RC_ERR_STORE, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !rc_stat_trusted(&st)) {
		close(fd);
		return rc_fail(RC_ERR_STORE, "%s is not a regular file of root's, writable by root only",
		               path);
	}
	while ((fl = flock(fd, LOCK_EX | LOCK_NB)) < 0 && errno == EINTR)
		;
	if (fl < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return rc_fail(RC_ERR_STATE, "another process holds %s (already running)", path);
		return rc_fail(RC_ERR_STORE, "cannot lock %s: %s", path, strerror(e));
	}
	*fd_out = fd;
	return RC_OK;
}

RC_API int rc_life_lock_held(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), fl;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	while ((fl = flock(fd, LOCK_SH | LOCK_NB)) < 0 && errno == EINTR)
		;
	int e = errno;
	close(fd);   /* (a shared lock we took goes with it) */
	if (fl == 0)
		return 0;
	return e == EWOULDBLOCK ? 1 : -1;
}
