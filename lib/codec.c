/*
 * codec.c - the one record codec of the store.
 *
 * A record is an 8-byte header ('R', 'C', version, type, and the record's
 * total length as 32-bit little-endian) followed by fields, each a tag byte,
 * a 16-bit little-endian length and that many bytes.  The reader refuses a
 * record whose length is not the one in its header (so a truncated record is
 * never read as a shorter valid one), checks every field length against the
 * record, refuses a newer version,
 * an unknown or repeated tag, a string with a NUL or too long for its field,
 * and an integer that is not exactly 8 bytes.  Nothing is ever read from a
 * raw C struct.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include "codec.h"
#include "errors.h"

static void wbuf_reserve(rc_wbuf *w, size_t more)
{
	if (w->err)
		return;
	if (w->len + more > RC_RECORD_MAX) {
		w->err = rc_fail(RC_ERR_INVALID, "record too large");
		return;
	}
	if (w->len + more <= w->cap)
		return;
	size_t ncap = w->cap ? w->cap * 2 : 256;
	while (ncap < w->len + more)
		ncap *= 2;
	uint8_t *np = malloc(ncap);
	if (!np) {
		w->err = rc_fail(RC_ERR_NOMEM, "out of memory");
		return;
	}
	if (w->p) {
		memcpy(np, w->p, w->len);
		sodium_memzero(w->p, w->cap);
		free(w->p);
	}
	w->p = np;
	w->cap = ncap;
}

void rc_wbuf_init(rc_wbuf *w, uint8_t type)
{
	w->p = NULL;
	w->len = w->cap = 0;
	w->err = RC_OK;
	wbuf_reserve(w, RC_HEADER_LEN);
	if (w->err)
		return;
	memset(w->p, 0, RC_HEADER_LEN);
	w->p[0] = 'R';
	w->p[1] = 'C';
	w->p[2] = RC_CODEC_VERSION;
	w->p[3] = type;
	w->len = RC_HEADER_LEN;
}

/* Write the total length into the header once the record is complete. */
static void wbuf_seal(rc_wbuf *w)
{
	if (w->err || !w->p)
		return;
	for (int i = 0; i < 4; i++)
		w->p[4 + i] = (uint8_t)(w->len >> (8 * i));
}

void rc_wbuf_bytes(rc_wbuf *w, uint8_t tag, const void *p, size_t n)
{
	if (n > UINT16_MAX) {
		if (!w->err)
			w->err = rc_fail(RC_ERR_INVALID, "record field too large");
		return;
	}
	wbuf_reserve(w, 3 + n);
	if (w->err)
		return;
	w->p[w->len++] = tag;
	w->p[w->len++] = (uint8_t)(n & 0xff);
	w->p[w->len++] = (uint8_t)(n >> 8);
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

void rc_wbuf_str(rc_wbuf *w, uint8_t tag, const char *s)
{
	rc_wbuf_bytes(w, tag, s, strlen(s));
}

void rc_wbuf_u64(rc_wbuf *w, uint8_t tag, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	rc_wbuf_bytes(w, tag, b, 8);
}

void rc_wbuf_free(rc_wbuf *w)
{
	if (w->p) {
		sodium_memzero(w->p, w->cap);
		free(w->p);
	}
	w->p = NULL;
	w->len = w->cap = 0;
}

int rc_rbuf_open(rc_rbuf *r, const void *data, size_t len, uint8_t type)
{
	const uint8_t *p = data;

	r->p = p;
	r->len = len;
	r->off = RC_HEADER_LEN;
	r->seen = 0;
	if (len < RC_HEADER_LEN || p[0] != 'R' || p[1] != 'C')
		return rc_fail(RC_ERR_STORE, "damaged record (bad header)");
	if (len > RC_RECORD_MAX)
		return rc_fail(RC_ERR_STORE, "damaged record (too large)");
	size_t stated = (size_t)p[4] | ((size_t)p[5] << 8) | ((size_t)p[6] << 16) |
	                ((size_t)p[7] << 24);
	if (stated != len)
		return rc_fail(RC_ERR_STORE, "damaged record (%zu bytes where the header says %zu)",
		               len, stated);
	if (p[2] > RC_CODEC_VERSION)
		return rc_fail(RC_ERR_SCHEMA,
		               "record version %u is newer than this rollcall "
		               "reads (%u)", p[2], RC_CODEC_VERSION);
	if (p[2] == 0)
		return rc_fail(RC_ERR_STORE, "damaged record (version 0)");
	if (p[3] != type)
		return rc_fail(RC_ERR_STORE,
		               "damaged record (type %u where %u expected)",
		               p[3], type);
	return RC_OK;
}

int rc_rbuf_next(rc_rbuf *r, uint8_t *tag, const uint8_t **v, size_t *n)
{
	if (r->off == r->len)
		return 0;
	if (r->len - r->off < 3)
		return -rc_fail(RC_ERR_STORE, "damaged record (truncated field)");
	uint8_t t = r->p[r->off];
	size_t l = (size_t)r->p[r->off + 1] | ((size_t)r->p[r->off + 2] << 8);
	if (l > r->len - r->off - 3)
		return -rc_fail(RC_ERR_STORE, "damaged record (field %u overruns)", t);
	if (t == 0 || t >= 64)
		return -rc_fail(RC_ERR_STORE, "damaged record (bad tag %u)", t);
	if (r->seen & (1ull << t))
		return -rc_fail(RC_ERR_STORE, "damaged record (tag %u repeated)", t);
	r->seen |= 1ull << t;
	*tag = t;
	*v = r->p + r->off + 3;
	*n = l;
	r->off += 3 + l;
	return 1;
}

int rc_field_str(const uint8_t *v, size_t n, char *dst, size_t dstsz)
{
	if (n >= dstsz)
		return rc_fail(RC_ERR_STORE, "damaged record (string too long)");
	if (memchr(v, '\0', n))
		return rc_fail(RC_ERR_STORE, "damaged record (NUL in string)");
	memcpy(dst, v, n);
	dst[n] = '\0';
	return RC_OK;
}

int rc_field_u64(const uint8_t *v, size_t n, uint64_t *out)
{
	if (n != 8)
		return rc_fail(RC_ERR_STORE, "damaged record (integer of %zu bytes)", n);
	uint64_t x = 0;
	for (int i = 7; i >= 0; i--)
		x = (x << 8) | v[i];
	*out = x;
	return RC_OK;
}

int rc_field_bytes(const uint8_t *v, size_t n, void *dst, size_t exact)
{
	if (n != exact)
		return rc_fail(RC_ERR_STORE, "damaged record (bytes of wrong size)");
	memcpy(dst, v, n);
	return RC_OK;
}

/* Helpers that keep the per-record decoders short. */
#define GET_STR(field)  rc = rc_field_str(v, n, field, sizeof(field))
#define GET_U64(field)  do { uint64_t x_ = 0; rc = rc_field_u64(v, n, &x_); \
                             if (!rc) field = x_; } while (0)
#define GET_I64(field)  do { uint64_t x_ = 0; rc = rc_field_u64(v, n, &x_); \
                             if (!rc) field = (int64_t)x_; } while (0)
#define GET_U32(field)  do { uint64_t x_ = 0; rc = rc_field_u64(v, n, &x_); \
                             if (!rc && x_ > UINT32_MAX) rc = rc_fail(RC_ERR_STORE, \
                             "damaged record (value out of range)"); \
                             if (!rc) field = (uint32_t)x_; } while (0)
#define GET_BOOL(field) do { uint64_t x_ = 0; rc = rc_field_u64(v, n, &x_); \
                             if (!rc && x_ > 1) rc = rc_fail(RC_ERR_STORE, \
                             "damaged record (flag out of range)"); \
                             if (!rc) field = (int)x_; } while (0)
#define GET_ENUM(field, max) do { uint64_t x_ = 0; rc = rc_field_u64(v, n, &x_); \
                             if (!rc && x_ > (max)) rc = rc_fail(RC_ERR_STORE, \
                             "damaged record (state out of range)"); \
                             if (!rc) field = (int)x_; } while (0)
#define UNKNOWN_TAG()   rc = rc_fail(RC_ERR_STORE, "damaged record (unknown tag %u)", tag)

/* Decoding loop: every decoder runs FIELDS for each field, then requires
 * the tags in REQUIRED to have been seen. */
#define DECODE(type, required, FIELDS)                                      \
	rc_rbuf r;                                                          \
	int rc = rc_rbuf_open(&r, data, len, type);                         \
	uint8_t tag;                                                        \
	const uint8_t *v;                                                   \
	size_t n;                                                           \
	int more;                                                           \
	while (!rc && (more = rc_rbuf_next(&r, &tag, &v, &n)) != 0) {       \
		if (more < 0) { rc = -more; break; }                        \
		switch (tag) { FIELDS default: UNKNOWN_TAG(); break; }      \
	}                                                                   \
	if (!rc && (r.seen & (required)) != (required))                     \
		rc = rc_fail(RC_ERR_STORE, "damaged record (missing field)");

#define BIT(t) (1ull << (t))

/* member */
enum { M_NAME = 1, M_EMAIL, M_FULLNAME, M_ROLE, M_STATUS, M_UID, M_CREATED,
       M_LASTACT, M_PWHASH, M_MUSTCHG, M_TOTPEN, M_FAILED, M_LOCKUNTIL,
       M_RESETHASH, M_RESETEXP, M_TOTPPEND, M_TOTPENC, M_TOTPSTEP, M_RECOVERY,
       M_RECLEFT, M_FAILEDAT };

int rc_member_encode(const rc_member_rec *m, rc_wbuf *w)
{
	rc_wbuf_init(w, RC_REC_MEMBER);
	rc_wbuf_str(w, M_NAME, m->username);
	rc_wbuf_str(w, M_EMAIL, m->email);
	rc_wbuf_str(w, M_FULLNAME, m->full_name);
	rc_wbuf_str(w, M_ROLE, m->role);
	rc_wbuf_u64(w, M_STATUS, (uint64_t)m->status);
	rc_wbuf_u64(w, M_UID, m->uid);
	rc_wbuf_u64(w, M_CREATED, (uint64_t)m->created);
	rc_wbuf_u64(w, M_LASTACT, (uint64_t)m->last_active);
	rc_wbuf_str(w, M_PWHASH, m->pwhash);
	rc_wbuf_u64(w, M_MUSTCHG, m->must_change ? 1 : 0);
	rc_wbuf_u64(w, M_TOTPEN, m->totp_enabled ? 1 : 0);
	rc_wbuf_u64(w, M_FAILED, m->failed);
	rc_wbuf_u64(w, M_LOCKUNTIL, (uint64_t)m->lock_until);
	if (m->failed_at)   /* (since 0.2; absent in older records: 0) */
		rc_wbuf_u64(w, M_FAILEDAT, (uint64_t)m->failed_at);
	if (m->reset_expires) {
		rc_wbuf_bytes(w, M_RESETHASH, m->reset_hash, sizeof(m->reset_hash));
		rc_wbuf_u64(w, M_RESETEXP, (uint64_t)m->reset_expires);
	}
	if (m->totp_enabled || m->totp_pending) {
		rc_wbuf_u64(w, M_TOTPPEND, m->totp_pending ? 1 : 0);
		rc_wbuf_bytes(w, M_TOTPENC, m->totp_enc, sizeof(m->totp_enc));
		rc_wbuf_u64(w, M_TOTPSTEP, (uint64_t)m->totp_last_step);
		rc_wbuf_bytes(w, M_RECOVERY, m->recovery, sizeof(m->recovery));
		rc_wbuf_u64(w, M_RECLEFT, m->recovery_left);
	}
	wbuf_seal(w);
	return w->err;
}

int rc_member_decode(const void *data, size_t len, rc_member_rec *m)
{
	memset(m, 0, sizeof(*m));
	DECODE(RC_REC_MEMBER,
	       BIT(M_NAME) | BIT(M_EMAIL) | BIT(M_ROLE) | BIT(M_STATUS) | BIT(M_UID),
	       case M_NAME: GET_STR(m->username); break;
	       case M_EMAIL: GET_STR(m->email); break;
	       case M_FULLNAME: GET_STR(m->full_name); break;
	       case M_ROLE: GET_STR(m->role); break;
	       case M_STATUS: GET_ENUM(m->status, RC_MEMBER_INACTIVE); break;
	       case M_UID: GET_U32(m->uid); break;
	       case M_CREATED: GET_I64(m->created); break;
	       case M_LASTACT: GET_I64(m->last_active); break;
	       case M_PWHASH: GET_STR(m->pwhash); break;
	       case M_MUSTCHG: GET_BOOL(m->must_change); break;
	       case M_TOTPEN: GET_BOOL(m->totp_enabled); break;
	       case M_FAILED: GET_U32(m->failed); break;
	       case M_LOCKUNTIL: GET_I64(m->lock_until); break;
	       case M_RESETHASH: rc = rc_field_bytes(v, n, m->reset_hash, 32); break;
	       case M_RESETEXP: GET_I64(m->reset_expires); break;
	       case M_TOTPPEND: GET_BOOL(m->totp_pending); break;
	       case M_TOTPENC: rc = rc_field_bytes(v, n, m->totp_enc, sizeof(m->totp_enc)); break;
	       case M_TOTPSTEP: GET_I64(m->totp_last_step); break;
	       case M_RECOVERY: rc = rc_field_bytes(v, n, m->recovery, sizeof(m->recovery)); break;
	       case M_RECLEFT: GET_U32(m->recovery_left); break;
	       case M_FAILEDAT: GET_I64(m->failed_at); break;
	)
	if (!rc && (m->totp_enabled || m->totp_pending) && !(r.seen & BIT(M_TOTPENC)))
		rc = rc_fail(RC_ERR_STORE, "damaged record (two-factor without a secret)");
	if (!rc && m->totp_enabled && m->totp_pending)
		rc = rc_fail(RC_ERR_STORE, "damaged record (two-factor both enabled and pending)");
	if (!rc && (m->recovery_left >> RC_RECOVERY_CODES))
		rc = rc_fail(RC_ERR_STORE, "damaged record (recovery codes out of range)");
	if (!rc && (r.seen & BIT(M_RESETEXP)) && !(r.seen & BIT(M_RESETHASH)))
		rc = rc_fail(RC_ERR_STORE, "damaged record (reset code without hash)");
	return rc;
}

/* role */
enum { R_NAME = 1, R_RANK, R_PERMS, R_GID, R_BUILTIN };

int rc_role_encode(const rc_role *ro, rc_wbuf *w)
{
	rc_wbuf_init(w, RC_REC_ROLE);
	rc_wbuf_str(w, R_NAME, ro->name);
	rc_wbuf_u64(w, R_RANK, ro->rank);
	rc_wbuf_u64(w, R_PERMS, ro->perms);
	rc_wbuf_u64(w, R_GID, ro->gid);
	rc_wbuf_u64(w, R_BUILTIN, ro->builtin ? 1 : 0);
	wbuf_seal(w);
	return w->err;
}

int rc_role_decode(const void *data, size_t len, rc_role *ro)
{
	memset(ro, 0, sizeof(*ro));
	DECODE(RC_REC_ROLE, BIT(R_NAME) | BIT(R_RANK) | BIT(R_PERMS) | BIT(R_GID),
	       case R_NAME: GET_STR(ro->name); break;
	       case R_RANK: GET_U32(ro->rank); break;
	       case R_PERMS: GET_U32(ro->perms); break;
	       case R_GID: GET_U32(ro->gid); break;
	       case R_BUILTIN: GET_BOOL(ro->builtin); break;
	)
	if (!rc && (ro->perms & ~(uint32_t)RC_PERM_ALL))
		rc = rc_fail(RC_ERR_STORE, "damaged record (unknown permission bits)");
	/* owner and admin hold every permission, also those added after the
	 * store was made (notifications) */
	if (!rc && ro->builtin && (strcmp(ro->name, "owner") == 0 || strcmp(ro->name, "admin") == 0))
		ro->perms = RC_PERM_ALL;
	return rc;
}

/* invitation */
enum { I_NAME = 1, I_EMAIL, I_ROLE, I_INVITER, I_CREATED, I_EXPIRES,
       I_CODEHASH, I_STATE, I_RESENT };

int rc_invitation_encode(const rc_invitation *i, rc_wbuf *w)
{
	rc_wbuf_init(w, RC_REC_INVITATION);
	rc_wbuf_str(w, I_NAME, i->username);
	rc_wbuf_str(w, I_EMAIL, i->email);
	rc_wbuf_str(w, I_ROLE, i->role);
	rc_wbuf_str(w, I_INVITER, i->inviter);
	rc_wbuf_u64(w, I_CREATED, (uint64_t)i->created);
	rc_wbuf_u64(w, I_EXPIRES, (uint64_t)i->expires);
	rc_wbuf_bytes(w, I_CODEHASH, i->code_hash, sizeof(i->code_hash));
	rc_wbuf_u64(w, I_STATE, (uint64_t)i->state);
	rc_wbuf_u64(w, I_RESENT, i->resent);
	wbuf_seal(w);
	return w->err;
}

int rc_invitation_decode(const void *data, size_t len, rc_invitation *i)
{
	memset(i, 0, sizeof(*i));
	DECODE(RC_REC_INVITATION,
	       BIT(I_NAME) | BIT(I_EMAIL) | BIT(I_ROLE) | BIT(I_EXPIRES) |
	       BIT(I_CODEHASH) | BIT(I_STATE),
	       case I_NAME: GET_STR(i->username); break;
	       case I_EMAIL: GET_STR(i->email); break;
	       case I_ROLE: GET_STR(i->role); break;
	       case I_INVITER: GET_STR(i->inviter); break;
	       case I_CREATED: GET_I64(i->created); break;
	       case I_EXPIRES: GET_I64(i->expires); break;
	       case I_CODEHASH: rc = rc_field_bytes(v, n, i->code_hash, 32); break;
	       case I_STATE: GET_ENUM(i->state, RC_INV_EXPIRED); break;
	       case I_RESENT: GET_U32(i->resent); break;
	)
	return rc;
}

/* service */
enum { S_NAME = 1, S_STATE, S_GID, S_GIDRO, S_GIDREPL, S_DEFUSER, S_CREATED,
       S_RUNSAS /* optional: records written before it have none */ };

int rc_service_encode(const rc_service *svc, rc_wbuf *w)
{
	rc_wbuf_init(w, RC_REC_SERVICE);
	rc_wbuf_str(w, S_NAME, svc->name);
	rc_wbuf_u64(w, S_STATE, (uint64_t)svc->state);
	rc_wbuf_u64(w, S_GID, svc->gid);
	rc_wbuf_u64(w, S_GIDRO, svc->gid_readonly);
	rc_wbuf_u64(w, S_GIDREPL, svc->gid_replication);
	rc_wbuf_str(w, S_DEFUSER, svc->default_user);
	rc_wbuf_u64(w, S_CREATED, (uint64_t)svc->created);
	if (svc->runs_as[0])
		rc_wbuf_str(w, S_RUNSAS, svc->runs_as);
	wbuf_seal(w);
	return w->err;
}

int rc_service_decode(const void *data, size_t len, rc_service *svc)
{
	memset(svc, 0, sizeof(*svc));
	DECODE(RC_REC_SERVICE,
	       BIT(S_NAME) | BIT(S_STATE) | BIT(S_GID) | BIT(S_GIDRO) | BIT(S_GIDREPL),
	       case S_NAME: GET_STR(svc->name); break;
	       case S_STATE: GET_ENUM(svc->state, RC_SERVICE_RUNNING); break;
	       case S_GID: GET_U32(svc->gid); break;
	       case S_GIDRO: GET_U32(svc->gid_readonly); break;
	       case S_GIDREPL: GET_U32(svc->gid_replication); break;
	       case S_DEFUSER: GET_STR(svc->default_user); break;
	       case S_CREATED: GET_I64(svc->created); break;
	       case S_RUNSAS: GET_STR(svc->runs_as); break;
	)
	return rc;
}

/* service user */
enum { U_NAME = 1, U_SERVICE, U_UID, U_PWHASH, U_PWENC, U_RO, U_REPL,
       U_PROT, U_CREATED, U_FAILED, U_LOCKUNTIL, U_FAILEDAT };

int rc_svcuser_encode(const rc_svcuser_rec *u, rc_wbuf *w)
{
	rc_wbuf_init(w, RC_REC_SVCUSER);
	rc_wbuf_str(w, U_NAME, u->pub.username);
	rc_wbuf_str(w, U_SERVICE, u->pub.service);
	rc_wbuf_u64(w, U_UID, u->pub.uid);
	rc_wbuf_str(w, U_PWHASH, u->pwhash);
	rc_wbuf_bytes(w, U_PWENC, u->pw_enc, u->pw_enc_len);
	rc_wbuf_u64(w, U_RO, u->pub.read_only ? 1 : 0);
	rc_wbuf_u64(w, U_REPL, u->pub.replication ? 1 : 0);
	rc_wbuf_u64(w, U_PROT, u->pub.protected_user ? 1 : 0);
	rc_wbuf_u64(w, U_CREATED, (uint64_t)u->pub.created);
	if (u->pub.failed || u->pub.lock_until) {
		rc_wbuf_u64(w, U_FAILED, u->pub.failed);
		rc_wbuf_u64(w, U_LOCKUNTIL, (uint64_t)u->pub.lock_until);
	}
	if (u->pub.failed_at)
		rc_wbuf_u64(w, U_FAILEDAT, (uint64_t)u->pub.failed_at);
	wbuf_seal(w);
	return w->err;
}

int rc_svcuser_decode(const void *data, size_t len, rc_svcuser_rec *u)
{
	memset(u, 0, sizeof(*u));
	DECODE(RC_REC_SVCUSER,
	       BIT(U_NAME) | BIT(U_SERVICE) | BIT(U_UID) | BIT(U_PWHASH) | BIT(U_PWENC),
	       case U_NAME: GET_STR(u->pub.username); break;
	       case U_SERVICE: GET_STR(u->pub.service); break;
	       case U_UID: GET_U32(u->pub.uid); break;
	       case U_PWHASH: GET_STR(u->pwhash); break;
	       case U_PWENC:
			if (n > sizeof(u->pw_enc) || n < 24 + 16)
				rc = rc_fail(RC_ERR_STORE, "damaged record (bad secret size)");
			else {
				memcpy(u->pw_enc, v, n);
				u->pw_enc_len = n;
			}
			break;
	       case U_RO: GET_BOOL(u->pub.read_only); break;
	       case U_REPL: GET_BOOL(u->pub.replication); break;
	       case U_PROT: GET_BOOL(u->pub.protected_user); break;
	       case U_CREATED: GET_I64(u->pub.created); break;
	       case U_FAILED: GET_U32(u->pub.failed); break;
	       case U_LOCKUNTIL: GET_I64(u->pub.lock_until); break;
	       case U_FAILEDAT: GET_I64(u->pub.failed_at); break;
	)
	return rc;
}

/* token */
/* K_OWNERUID came with schema 2: a token of schema 1 has none (0), and
 * rc_tokens_upgrade gives it one or revokes it. */
enum { K_ID = 1, K_OWNER, K_KIND, K_DESC, K_CREATED, K_LASTUSED, K_EXPIRES,
       K_MAXEXP, K_TTL, K_EXT, K_HASH, K_OWNERUID };

int rc_token_encode(const rc_token_rec *t, rc_wbuf *w)
{
	rc_wbuf_init(w, RC_REC_TOKEN);
	rc_wbuf_str(w, K_ID, t->pub.id);
	rc_wbuf_str(w, K_OWNER, t->pub.owner);
	rc_wbuf_u64(w, K_KIND, (uint64_t)t->pub.kind);
	rc_wbuf_str(w, K_DESC, t->pub.description);
	rc_wbuf_u64(w, K_CREATED, (uint64_t)t->pub.created);
	rc_wbuf_u64(w, K_LASTUSED, (uint64_t)t->pub.last_used);
	rc_wbuf_u64(w, K_EXPIRES, (uint64_t)t->pub.expires);
	rc_wbuf_u64(w, K_MAXEXP, (uint64_t)t->pub.max_expiry);
	rc_wbuf_u64(w, K_TTL, (uint64_t)t->pub.ttl);
	rc_wbuf_u64(w, K_EXT, (uint64_t)t->pub.extension);
	rc_wbuf_bytes(w, K_HASH, t->hash, sizeof(t->hash));
	if (t->pub.owner_uid)
		rc_wbuf_u64(w, K_OWNERUID, t->pub.owner_uid);
	wbuf_seal(w);
	return w->err;
}

int rc_token_decode(const void *data, size_t len, rc_token_rec *t)
{
	memset(t, 0, sizeof(*t));
	DECODE(RC_REC_TOKEN,
	       BIT(K_ID) | BIT(K_OWNER) | BIT(K_KIND) | BIT(K_EXPIRES) | BIT(K_HASH),
	       case K_ID: GET_STR(t->pub.id); break;
	       case K_OWNER: GET_STR(t->pub.owner); break;
	       case K_KIND: GET_ENUM(t->pub.kind, RC_TOKEN_API); break;
	       case K_DESC: GET_STR(t->pub.description); break;
	       case K_CREATED: GET_I64(t->pub.created); break;
	       case K_LASTUSED: GET_I64(t->pub.last_used); break;
	       case K_EXPIRES: GET_I64(t->pub.expires); break;
	       case K_MAXEXP: GET_I64(t->pub.max_expiry); break;
	       case K_TTL: GET_I64(t->pub.ttl); break;
	       case K_EXT: GET_ENUM(t->pub.extension, RC_EXT_FIXED); break;
	       case K_HASH: rc = rc_field_bytes(v, n, t->hash, sizeof(t->hash)); break;
	       case K_OWNERUID: GET_U32(t->pub.owner_uid); break;
	)
	/* canonical: the encoder writes no uid rather than 0 */
	if (!rc && (r.seen & BIT(K_OWNERUID)) && t->pub.owner_uid == 0)
		rc = rc_fail(RC_ERR_STORE, "damaged record (token owner uid 0)");
	if (!rc && strlen(t->pub.id) != RC_TOKEN_ID_LEN)
		rc = rc_fail(RC_ERR_STORE, "damaged record (token id of wrong length)");
	return rc;
}

/* audit */
/* A_COUNT and A_FIRST: aggregated refusals only (schema 2). */
enum { A_SEQ = 1, A_TIME, A_ACTOR, A_ACTION, A_TARGET, A_RESULT, A_ORIGIN, A_COUNT,
       A_FIRST };

int rc_audit_encode(const rc_audit_entry *e, rc_wbuf *w)
{
	rc_wbuf_init(w, RC_REC_AUDIT);
	rc_wbuf_u64(w, A_SEQ, e->seq);
	rc_wbuf_u64(w, A_TIME, (uint64_t)e->time);
	rc_wbuf_str(w, A_ACTOR, e->actor);
	rc_wbuf_str(w, A_ACTION, e->action);
	rc_wbuf_str(w, A_TARGET, e->target);
	rc_wbuf_str(w, A_RESULT, e->result);
	rc_wbuf_str(w, A_ORIGIN, e->origin);
	if (e->count) {
		rc_wbuf_u64(w, A_COUNT, e->count);
		rc_wbuf_u64(w, A_FIRST, (uint64_t)e->first);
	}
	wbuf_seal(w);
	return w->err;
}

int rc_audit_decode(const void *data, size_t len, rc_audit_entry *e)
{
	memset(e, 0, sizeof(*e));
	DECODE(RC_REC_AUDIT, BIT(A_SEQ) | BIT(A_TIME) | BIT(A_ACTION),
	       case A_SEQ: GET_U64(e->seq); break;
	       case A_TIME: GET_I64(e->time); break;
	       case A_ACTOR: GET_STR(e->actor); break;
	       case A_ACTION: GET_STR(e->action); break;
	       case A_TARGET: GET_STR(e->target); break;
	       case A_RESULT: GET_STR(e->result); break;
	       case A_ORIGIN: GET_STR(e->origin); break;
	       case A_COUNT: GET_U64(e->count); break;
	       case A_FIRST: GET_I64(e->first); break;
	)
	/* canonical: both or neither, and a count of at least one */
	if (!rc && (!(r.seen & BIT(A_COUNT)) != !(r.seen & BIT(A_FIRST)) ||
	            ((r.seen & BIT(A_COUNT)) && e->count == 0)))
		rc = rc_fail(RC_ERR_STORE, "damaged record (audit count)");
	return rc;
}

/* setting: a single string value */
enum { T_VALUE = 1 };

int rc_setting_encode(const char *value, rc_wbuf *w)
{
	rc_wbuf_init(w, RC_REC_SETTING);
	rc_wbuf_str(w, T_VALUE, value);
	wbuf_seal(w);
	return w->err;
}

int rc_setting_decode(const void *data, size_t len, char *value, size_t vlen)
{
	DECODE(RC_REC_SETTING, BIT(T_VALUE),
	       case T_VALUE: rc = rc_field_str(v, n, value, vlen); break;
	)
	return rc;
}

/* notification subscription */
enum { N_EMAIL = 1, N_EVENTS, N_CREATED, N_CREATOR };

int rc_notify_encode(const rc_notification *no, rc_wbuf *w)
{
	rc_wbuf_init(w, RC_REC_NOTIFY);
	rc_wbuf_str(w, N_EMAIL, no->email);
	rc_wbuf_u64(w, N_EVENTS, no->events);
	rc_wbuf_u64(w, N_CREATED, (uint64_t)no->created);
	rc_wbuf_str(w, N_CREATOR, no->creator);
	wbuf_seal(w);
	return w->err;
}

int rc_notify_decode(const void *data, size_t len, rc_notification *no)
{
	memset(no, 0, sizeof(*no));
	DECODE(RC_REC_NOTIFY, BIT(N_EMAIL) | BIT(N_EVENTS),
	       case N_EMAIL: GET_STR(no->email); break;
	       case N_EVENTS: GET_U32(no->events); break;
	       case N_CREATED: GET_I64(no->created); break;
	       case N_CREATOR: GET_STR(no->creator); break;
	)
	if (!rc && (no->events & ~(uint32_t)RC_EV_ALL))
		rc = rc_fail(RC_ERR_STORE, "damaged record (unknown event bits)");
	return rc;
}

/* queued notice */
enum { Q_ID = 1, Q_EVENT, Q_TIME, Q_ACTOR, Q_TARGET, Q_DETAIL, Q_ORIGIN };

int rc_notice_encode(const rc_notice *no, rc_wbuf *w)
{
	rc_wbuf_init(w, RC_REC_NOTICE);
	rc_wbuf_str(w, Q_ID, no->id);
	rc_wbuf_u64(w, Q_EVENT, no->event);
	rc_wbuf_u64(w, Q_TIME, (uint64_t)no->time);
	rc_wbuf_str(w, Q_ACTOR, no->actor);
	rc_wbuf_str(w, Q_TARGET, no->target);
	rc_wbuf_str(w, Q_DETAIL, no->detail);
	rc_wbuf_str(w, Q_ORIGIN, no->origin);
	wbuf_seal(w);
	return w->err;
}

int rc_notice_decode(const void *data, size_t len, rc_notice *no)
{
	memset(no, 0, sizeof(*no));
	DECODE(RC_REC_NOTICE, BIT(Q_ID) | BIT(Q_EVENT) | BIT(Q_TIME),
	       case Q_ID: GET_STR(no->id); break;
	       case Q_EVENT: GET_ENUM(no->event, RC_EV_COUNT - 1); break;
	       case Q_TIME: GET_I64(no->time); break;
	       case Q_ACTOR: GET_STR(no->actor); break;
	       case Q_TARGET: GET_STR(no->target); break;
	       case Q_DETAIL: GET_STR(no->detail); break;
	       case Q_ORIGIN: GET_STR(no->origin); break;
	)
	return rc;
}

/* host state of a member or a service user (schema 3: the "host" database) */
enum { H_FAILED = 1, H_FAILEDAT, H_LOCKUNTIL, H_LASTACT, H_TOTPSTEP, H_RECUSED };

int rc_host_user_encode(const rc_host_user *h, rc_wbuf *w)
{
	rc_wbuf_init(w, RC_REC_HOST_USER);
	rc_wbuf_u64(w, H_FAILED, h->failed);
	rc_wbuf_u64(w, H_FAILEDAT, (uint64_t)h->failed_at);
	rc_wbuf_u64(w, H_LOCKUNTIL, (uint64_t)h->lock_until);
	rc_wbuf_u64(w, H_LASTACT, (uint64_t)h->last_active);
	rc_wbuf_u64(w, H_TOTPSTEP, (uint64_t)h->totp_last_step);
	rc_wbuf_u64(w, H_RECUSED, h->recovery_used);
	wbuf_seal(w);
	return w->err;
}

int rc_host_user_decode(const void *data, size_t len, rc_host_user *h)
{
	memset(h, 0, sizeof(*h));
	DECODE(RC_REC_HOST_USER, 0,
	       case H_FAILED: GET_U32(h->failed); break;
	       case H_FAILEDAT: GET_I64(h->failed_at); break;
	       case H_LOCKUNTIL: GET_I64(h->lock_until); break;
	       case H_LASTACT: GET_I64(h->last_active); break;
	       case H_TOTPSTEP: GET_I64(h->totp_last_step); break;
	       case H_RECUSED: GET_U32(h->recovery_used); break;
	)
	if (!rc && (h->recovery_used >> RC_RECOVERY_CODES))
		rc = rc_fail(RC_ERR_STORE, "damaged record (recovery codes out of range)");
	return rc;
}

/* host state of a token */
enum { HT_LASTUSED = 1, HT_EXPIRES };

int rc_host_token_encode(const rc_host_token *h, rc_wbuf *w)
{
	rc_wbuf_init(w, RC_REC_HOST_TOKEN);
	rc_wbuf_u64(w, HT_LASTUSED, (uint64_t)h->last_used);
	rc_wbuf_u64(w, HT_EXPIRES, (uint64_t)h->expires);
	wbuf_seal(w);
	return w->err;
}

int rc_host_token_decode(const void *data, size_t len, rc_host_token *h)
{
	memset(h, 0, sizeof(*h));
	DECODE(RC_REC_HOST_TOKEN, BIT(HT_LASTUSED) | BIT(HT_EXPIRES),
	       case HT_LASTUSED: GET_I64(h->last_used); break;
	       case HT_EXPIRES: GET_I64(h->expires); break;
	)
	return rc;
}
