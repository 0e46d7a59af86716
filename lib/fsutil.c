/*
 * fsutil.c - paths, ownership checks and the host's own files source.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include "internal.h"

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

/* Scan a passwd- or group-format file ("name:x:id:...").  Returns 1 when a
 * line matches, 0 when none does (or the file is missing), -1 on error. */
static int host_scan(const char *path, const char *name, int64_t id)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	int found = 0;

	if (!f)
		return errno == ENOENT ? 0 : -1;
	while (!found && fgets(line, sizeof(line), f)) {
		char *colon1 = strchr(line, ':');
		if (!colon1 || line[0] == '#' || line[0] == '+' || line[0] == '-')
			continue;
		if (name) {
			if ((size_t)(colon1 - line) == strlen(name) &&
			    memcmp(line, name, strlen(name)) == 0)
				found = 1;
			continue;
		}
		char *colon2 = strchr(colon1 + 1, ':');
		if (!colon2)
			continue;
		char *p = colon2 + 1;
		int64_t v = 0;
		int digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 11) {
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		if (digits && *p == ':' && v == id)
			found = 1;
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

/* A setuid-root program started by another user: root in full (real,
 * effective and saved ids, root's group and no supplementary groups), so
 * that its caller can no longer signal it (a process may signal any whose
 * real or saved uid is its own: stopped while it held the store's write
 * transaction, it would hold every login on the host); the CPU-time and
 * file-size limits the caller set, which would kill it in the middle of a
 * write, lifted; not dumpable.  The caller's ids are the program's to keep
 * before. */
RC_API int rc_privileges_root(void)
{
	static const int limits[] = { RLIMIT_CPU, RLIMIT_FSIZE };

	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
		(void)setrlimit(limits[i], &rl);
	}
	(void)prctl(PR_SET_DUMPABLE, 0);
	return 0;
}
