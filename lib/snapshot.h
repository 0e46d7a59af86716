/*
 * snapshot.h - the NSS snapshot (nss.mdb): what NSS may see, and nothing
 * secret.  Written by lib/snapshot.c after every store change that alters it
 * (to a temporary file, synced, renamed over the old one), read by
 * lib/snapread.c inside the NSS module.
 *
 * One LMDB environment in one file (MDB_NOSUBDIR), one unnamed database,
 * keys by a one-byte prefix:
 *   "V"            u32 format version, u64 store generation (little-endian),
 *                  then (since 0.2) 8 bytes: a BLAKE2b of the configuration
 *                  it shows (home_base, shell, service_shell)
 *   'P' name       passwd: u32 uid, u32 gid, then name, gecos, dir, shell,
 *                  each NUL-terminated
 *   'U' uid (BE)   the user name
 *   'G' name       group: u32 gid, u32 member count, name, members, each
 *                  NUL-terminated
 *   'I' gid (BE)   the group name
 *   'M' name       the user's supplementary gids, u32 each
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_SNAPSHOT_H
#define RC_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RC_SNAP_VERSION 1
#define RC_SNAP_FILE "nss.mdb"

typedef struct rc_snap rc_snap;

typedef struct rc_snap_pw {
	uint32_t uid, gid;
	const char *name, *gecos, *dir, *shell;
} rc_snap_pw;

typedef struct rc_snap_gr {
	uint32_t gid, nmem;
	const char *name;
	const char *mem;      /* nmem NUL-terminated names, back to back */
	size_t mem_len;       /* bytes of those names with their NULs */
} rc_snap_gr;

/* Open PATH read-only (0 or an RC_ERR_*); the pointers that lookups return
 * point into the map and stay valid until rc_snap_close(). */
int rc_snap_open(rc_snap **out, const char *path);
void rc_snap_close(rc_snap *sn);
uint64_t rc_snap_generation(const rc_snap *sn);
/* The fingerprint of the homes and shells SN was made with (RC_ERR_NOTFOUND
 * for a snapshot that has none). */
int rc_snap_config_print(const rc_snap *sn, uint8_t out[8]);
/* Is PATH another file than the one SN has open? */
int rc_snap_replaced(const rc_snap *sn, const char *path);

/* 0 found, RC_ERR_NOTFOUND, or RC_ERR_STORE for a damaged record. */
int rc_snap_pw_byname(rc_snap *sn, const char *name, rc_snap_pw *pw);
int rc_snap_pw_byuid(rc_snap *sn, uint32_t uid, rc_snap_pw *pw);
int rc_snap_gr_byname(rc_snap *sn, const char *name, rc_snap_gr *gr);
int rc_snap_gr_bygid(rc_snap *sn, uint32_t gid, rc_snap_gr *gr);
/* Enumeration: the entry after KEY (NULL: the first).  KEY is the name. */
int rc_snap_pw_next(rc_snap *sn, const char *after, rc_snap_pw *pw);
int rc_snap_gr_next(rc_snap *sn, const char *after, rc_snap_gr *gr);
/* The user's supplementary gids: *gids points into the map (unaligned u32
 * little-endian), *n of them. */
int rc_snap_groups(rc_snap *sn, const char *name, const uint8_t **gids, size_t *n);

static inline uint32_t rc_snap_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}
#endif
