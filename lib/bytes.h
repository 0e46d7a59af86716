/*
 * bytes.h - byte order and the trust check of a file: one copy each, for
 * all of lib/ and for the NSS module (lib/snapread.c is linked into
 * libnss_rollcall.so.2), so inline and libc only.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_BYTES_H
#define RC_BYTES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* Little-endian, at any alignment. */
static inline uint32_t rc_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t rc_le64(const uint8_t *p)
{
	return (uint64_t)rc_le32(p) | ((uint64_t)rc_le32(p + 4) << 32);
}

static inline void rc_put_le32(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)x;
	p[1] = (uint8_t)(x >> 8);
	p[2] = (uint8_t)(x >> 16);
	p[3] = (uint8_t)(x >> 24);
}

static inline void rc_put_le64(uint8_t *p, uint64_t x)
{
	rc_put_le32(p, (uint32_t)x);
	rc_put_le32(p + 4, (uint32_t)(x >> 32));
}

/* Big-endian (keys that sort as numbers). */
static inline void rc_put_be32(uint8_t *p, uint32_t x)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(x >> (24 - 8 * i));
}

static inline uint64_t rc_be64(const uint8_t *p)
{
	uint64_t x = 0;
	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
	return x;
}

static inline void rc_put_be64(uint8_t *p, uint64_t x)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(x >> (56 - 8 * i));
}

/* A file or directory root may trust: owned by root or by the effective
 * user, not writable by group or others.  (The callers check the type;
 * rc_open_trusted in fsutil.c says which of these failed.) */
static inline bool rc_stat_owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

static inline bool rc_stat_trusted(const struct stat *st)
{
	return rc_stat_owner_ok(st) && !(st->st_mode & 022);
}
#endif
