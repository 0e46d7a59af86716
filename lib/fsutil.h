/*
 * fsutil.h - fsutil.c: paths, trusted files, the host's passwd and group
 * files.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_FSUTIL_H
#define RC_FSUTIL_H

#include <stdint.h>
#include <sys/stat.h>
#include "rollcall.h"

/* Host files source. */
int rc_host_has_name(const char *path, const char *name);
int rc_host_has_id(const char *path, uint32_t id);
/* The same files read once, for a batch of checks (member import): a
 * transaction whose host is set asks it instead of reading the files for
 * each name and id.  f[0] is passwd_file, f[1] group_file. */
struct rc_host_file {
	char **names;        /* sorted */
	size_t n;
	uint32_t *ids;       /* sorted */
	size_t nids;
};
typedef struct rc_host_files {
	struct rc_host_file f[2];
} rc_host_files;
int rc_host_files_load(const rc_config *cfg, rc_host_files *h);
void rc_host_files_free(rc_host_files *h);
int rc_host_files_has_name(const rc_host_files *h, int which, const char *name);
int rc_host_files_has_id(const rc_host_files *h, int which, uint32_t id);

/* Paths. */
int rc_path_join(char *out, size_t len, const char *dir, const char *name);
int rc_open_trusted(const char *path, const char *what, int *fd_out, struct stat *st);
int rc_check_owner_mode(const char *path, const struct stat *st,
                        unsigned forbidden_bits, const char *what);

/* A daemon's life lock: PATH (made 0600 when missing, never through a
 * symlink) locked exclusively for as long as *FD stays open.  RC_OK;
 * RC_ERR_STATE when another process holds it; RC_ERR_STORE otherwise. */
int rc_life_lock_take(const char *path, int *fd);
/* Whether a process holds PATH's life lock now: 1 yes, 0 no (or no such
 * file), -1 cannot tell. */
int rc_life_lock_held(const char *path);

#endif
