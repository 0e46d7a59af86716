/*
 * snapshot.h - the NSS snapshot: what NSS may see, and nothing secret.
 * Written by lib/snapshot.c after store changes that alter it, read by
 * lib/snapread.c inside the NSS module.  (The design, and why, is at the top
 * of snapshot.c and in nss_rollcall(8).)
 *
 * Files (in the state directory), every one immutable once named by a
 * manifest, every integer little-endian (bytes.h):
 *
 *   nss.snap          the manifest: the store generation it shows, the
 *                     configuration print, homes and shells, the shard
 *                     table (each shard's serial and size), the groups
 *   nss.d/P<i>.<s>    users by name, shard i (the top NBITS bits of the
 *                     user name's hash), written in publication s
 *   nss.d/U<i>.<s>    users by uid, shard i (of the uid's hash)
 *
 * Every file starts with the same 32 bytes:
 *   "RCNS" u32 version, u32 kind ('M', 'P', 'U'), u32 shard index,
 *   u64 serial (the publication that wrote it), u32 file size, u32 count
 *
 * 'M' (count: groups), then at 32:
 *   u64 generation, u8[8] configuration print, u32 nbits,
 *   u32 offset of the strings (home_base, shell, service_shell, each NUL-ended),
 *   u32 offset of the shard table: 2 << nbits entries (u64 serial, u32 size),
 *        the 'P' shards, then the 'U' shards,
 *   u32 offset of the group index by name (count u32 offsets of entries),
 *   u32 offset of the group index by gid (the same, by gid);
 *   a group entry: u32 gid, u32 nshards, u16 shard[nshards] (the 'P' shards
 *   that hold members of it, ascending), name NUL-ended.
 * 'P' (count: users), at 32: u32 offset of the index (count x (u32 hash,
 *   u32 record offset), in (hash, name) order), u32 offset of the group
 *   lists, u32 number of them; the records lie back to back in index order
 *   between the index and the group lists:
 *     u32 uid, u8 kind (0 member, 1 service user), u8 ngids, name NUL,
 *     gecos NUL, u32 gid[ngids]
 *   a group list: u32 gid, u32 members, u32 bytes of their names with NULs,
 *   u32 offset of (members x u32 record numbers); lists in gid order.
 * 'U' (count: users), at 32: u32 offset of the index (count x (u32 uid,
 *   u32 record offset), in uid order); the records lie back to back in
 *   index order from the index's end to the file's end:
 *     u32 uid, u8 kind, name NUL, gecos NUL
 *   (all a passwd entry by uid needs: a lookup by uid reads the 'U' shard
 *   only.  Version 3 had u32 uid, u32 hash of the name, u32 offset of the
 *   name, and a lookup by uid read the 'P' record too; version 2 had no
 *   hash.)
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_SNAPSHOT_H
#define RC_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "bytes.h"

#define RC_SNAP_VERSION 4
#define RC_SNAP_FILE "nss.snap"
#define RC_SNAP_DIR "nss.d"
#define RC_SNAP_MAGIC "RCNS"
#define RC_SNAP_HDR 32
#define RC_SNAP_MAX_NBITS 12
#define RC_SNAP_MAX_GIDS 8

typedef struct rc_snap rc_snap;

typedef struct rc_snap_pw {
	uint32_t uid, gid;
	unsigned kind;        /* 0 member, 1 service user */
	const char *name, *gecos, *shell;
	const char *dir;      /* points into dirbuf */
	char dirbuf[4096 + 40];
} rc_snap_pw;

typedef struct rc_snap_gr {
	uint32_t gid, nmem;
	const char *name;
	size_t mem_len;       /* bytes of the members' names with their NULs */
	/* where the members are (rc_snap_gr_members) */
	const uint8_t *shards;
	uint32_t nshards;
} rc_snap_gr;

/* A user record of a 'P' shard, as the publisher reads it back. */
typedef struct rc_snap_user {
	uint32_t hash, uid;
	unsigned kind, ngids;
	const char *name, *gecos;
	const uint8_t *gids;  /* ngids u32, unaligned little-endian */
} rc_snap_user;

/* Open the manifest at PATH read-only (0 or an RC_ERR_*).  The pointers
 * lookups return point into mapped files and stay valid until the next
 * call on SN (a lookup that finds a shard replaced reloads the manifest)
 * or rc_snap_close(). */
int rc_snap_open(rc_snap **out, const char *path);
void rc_snap_close(rc_snap *sn);
uint64_t rc_snap_generation(const rc_snap *sn);
uint64_t rc_snap_serial(const rc_snap *sn);
unsigned rc_snap_nbits(const rc_snap *sn);
/* The fingerprint of the homes and shells SN was made with. */
int rc_snap_config_print(const rc_snap *sn, uint8_t out[8]);
/* Is PATH another file than the one SN has open? */
int rc_snap_replaced(const rc_snap *sn, const char *path);

/* 0 found, RC_ERR_NOTFOUND, or RC_ERR_STORE for a damaged file. */
int rc_snap_pw_byname(rc_snap *sn, const char *name, rc_snap_pw *pw);
int rc_snap_pw_byuid(rc_snap *sn, uint32_t uid, rc_snap_pw *pw);
int rc_snap_gr_byname(rc_snap *sn, const char *name, rc_snap_gr *gr);
int rc_snap_gr_bygid(rc_snap *sn, uint32_t gid, rc_snap_gr *gr);
/* GR's members, each passed to FN (which returns nonzero to stop); 0, or
 * RC_ERR_STORE when they are not the nmem names of mem_len bytes that GR
 * announced. */
int rc_snap_gr_members(rc_snap *sn, const rc_snap_gr *gr,
                       int (*fn)(void *ctx, const char *name), void *ctx);
/* Enumeration: the entry after AFTER (NULL: the first), a name. */
int rc_snap_pw_next(rc_snap *sn, const char *after, rc_snap_pw *pw);
int rc_snap_gr_next(rc_snap *sn, const char *after, rc_snap_gr *gr);
/* The user's supplementary gids: *gids points into the map (unaligned u32
 * little-endian), *n of them. */
int rc_snap_groups(rc_snap *sn, const char *name, const uint8_t **gids, size_t *n);

/* For the publisher and the fuzzer: shard I of KIND ('P' or 'U') as the
 * manifest names it (file name under nss.d, serial, size). */
int rc_snap_shard_file(const rc_snap *sn, char kind, uint32_t i, char *name, size_t len,
                       uint64_t *serial, uint32_t *size);
/* Is every shard the manifest names there, a trusted file of its size?
 * (RC_OK or RC_ERR_STORE; one stat per shard, nothing read.) */
int rc_snap_check(const rc_snap *sn);
/* What tells one manifest from another: its file (device, inode, mtime)
 * and serial.  The publisher remembers which one it last checked. */
typedef struct {
	uint64_t dev, ino, serial;
	int64_t sec;
	long nsec;
} rc_snap_ident;
void rc_snap_identity(const rc_snap *sn, rc_snap_ident *id);
/* Every record of 'P' shard I, in order, to FN. */
int rc_snap_shard_users(rc_snap *sn, uint32_t i, int (*fn)(void *ctx, const rc_snap_user *u),
                        void *ctx);
/* Every record of 'U' shard I, in uid order, to FN (hash, ngids and
 * gids unset: 0, 0, NULL). */
int rc_snap_shard_uids(rc_snap *sn, uint32_t i, int (*fn)(void *ctx, const rc_snap_user *u),
                       void *ctx);
/* The group entries of the manifest, in name order, to FN (gid, name, the
 * shards that hold members). */
int rc_snap_groups_each(rc_snap *sn, int (*fn)(void *ctx, uint32_t gid, const char *name,
                                               const uint8_t *shards, uint32_t nshards),
                        void *ctx);

static inline uint32_t rc_snap_mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* The hash that places a user name (FNV-1a, then mixed). */
static inline uint32_t rc_snap_hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s) {
		h ^= (uint8_t)*s++;
		h *= 16777619u;
	}
	return rc_snap_mix(h);
}

static inline uint32_t rc_snap_shard(uint32_t hash, unsigned nbits)
{
	return nbits ? hash >> (32 - nbits) : 0;
}

static inline uint32_t rc_snap_uid_shard(uint32_t uid, unsigned nbits)
{
	return rc_snap_shard(rc_snap_mix(uid * 0x9e3779b1u + 1), nbits);
}

/* "P012.00000000000000a3" */
#define RC_SNAP_NAME_MAX 32
static inline void rc_snap_file_name(char *out, char kind, uint32_t i, uint64_t serial)
{
	static const char hex[] = "0123456789abcdef";
	out[0] = kind;
	out[1] = hex[(i >> 8) & 15];
	out[2] = hex[(i >> 4) & 15];
	out[3] = hex[i & 15];
	out[4] = '.';
	for (int k = 0; k < 16; k++)
		out[5 + k] = hex[(serial >> (60 - 4 * k)) & 15];
	out[21] = '\0';
}
#endif
