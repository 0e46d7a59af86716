/*
 * codec.h - codec.c: the records' byte format (rc_wbuf, rc_rbuf) and the
 * stored records, with their secret parts (never in the public structs).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_CODEC_H
#define RC_CODEC_H

#include <stdbool.h>
#include <stdint.h>
#include "rollcall.h"

/* ---- codec -------------------------------------------------------------- */
#define RC_CODEC_VERSION 1
#define RC_RECORD_MAX    65536
#define RC_HEADER_LEN    8
enum {
	RC_REC_MEMBER = 1, RC_REC_ROLE, RC_REC_INVITATION, RC_REC_SERVICE,
	RC_REC_SVCUSER, RC_REC_AUDIT, RC_REC_SETTING, RC_REC_TOKEN,
	RC_REC_NOTIFY, RC_REC_NOTICE, RC_REC_HOST_USER, RC_REC_HOST_TOKEN
};

typedef struct rc_wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
} rc_wbuf;
void rc_wbuf_init(rc_wbuf *w, uint8_t type);
void rc_wbuf_str(rc_wbuf *w, uint8_t tag, const char *s);
void rc_wbuf_u64(rc_wbuf *w, uint8_t tag, uint64_t v);
void rc_wbuf_bytes(rc_wbuf *w, uint8_t tag, const void *p, size_t n);
void rc_wbuf_free(rc_wbuf *w);   /* wipes, then frees */

typedef struct rc_rbuf {
	const uint8_t *p;
	size_t len, off;
	uint64_t seen;   /* tags already read (tags are < 64) */
} rc_rbuf;
int rc_rbuf_open(rc_rbuf *r, const void *data, size_t len, uint8_t type);
/* 1: a field; 0: end; <0: never (errors are RC_ERR_* > 0 with sign flipped) */
int rc_rbuf_next(rc_rbuf *r, uint8_t *tag, const uint8_t **v, size_t *n);
int rc_field_str(const uint8_t *v, size_t n, char *dst, size_t dstsz);
int rc_field_u64(const uint8_t *v, size_t n, uint64_t *out);
int rc_field_bytes(const uint8_t *v, size_t n, void *dst, size_t exact);

/* A member as stored (rc_member is its public view, rc_member_view). */
typedef struct rc_member_rec {
	char username[RC_NAME_MAX + 1];
	char email[RC_EMAIL_MAX + 1];
	char full_name[RC_FULLNAME_MAX + 1];
	char role[RC_NAME_MAX + 1];
	int status;
	uint32_t uid;
	int64_t created;
	/* Host state (last_active, failed, failed_at, lock_until,
	 * totp_last_step, recovery_used): what logins on this host write,
	 * stored apart from the membership record and laid over it when a
	 * member is loaded (docs/hoststate.md). */
	int64_t last_active;       /* 0 = never */
	char pwhash[RC_PWHASH_MAX];/* "" = no password yet */
	int must_change;
	int totp_enabled;
	uint32_t failed;           /* attempts since the last success ...     */
	int64_t failed_at;         /* ... the last at; forgotten lockout.duration after */
	int64_t lock_until;
	uint8_t reset_hash[32];
	int64_t reset_expires;     /* 0 = no reset code */
	/* two-factor: the TOTP secret encrypted with the store's key (valid
	 * when enabled or pending), the last accepted time step (a code is
	 * accepted once), keyed hashes of the recovery codes */
	int totp_pending;          /* enrolled, waiting for the first code */
	uint8_t totp_enc[RC_TOTP_ENC_LEN];
	int64_t totp_last_step;
	uint8_t recovery[RC_RECOVERY_CODES][32];
	uint32_t recovery_left;    /* bit i set: recovery code i was issued (and
	                            * not used before schema 3) */
	uint32_t recovery_used;    /* host state: bit i set: code i was used */
} rc_member_rec;
void rc_member_view(const rc_member_rec *in, rc_member *out);

/* Records with their secret parts (never in the public structs). */
#define RC_SVCPW_ENC_MAX (24 + 16 + RC_SVCPW_MAX)
typedef struct rc_svcuser_rec {
	rc_svcuser pub;           /* the view lib hands out */
	char pwhash[RC_PWHASH_MAX];
	uint8_t pw_enc[RC_SVCPW_ENC_MAX];
	size_t pw_enc_len;
} rc_svcuser_rec;

typedef struct rc_token_rec {
	rc_token pub;
	uint8_t hash[32];         /* keyed BLAKE2b of the secret part */
} rc_token_rec;
int rc_token_encode(const rc_token_rec *t, rc_wbuf *w);
int rc_token_decode(const void *data, size_t len, rc_token_rec *t);

int rc_member_encode(const rc_member_rec *m, rc_wbuf *w);
int rc_member_decode(const void *data, size_t len, rc_member_rec *m);
int rc_role_encode(const rc_role *r, rc_wbuf *w);
int rc_role_decode(const void *data, size_t len, rc_role *r);
int rc_invitation_encode(const rc_invitation *i, rc_wbuf *w);
int rc_invitation_decode(const void *data, size_t len, rc_invitation *i);
int rc_service_encode(const rc_service *svc, rc_wbuf *w);
int rc_service_decode(const void *data, size_t len, rc_service *svc);
int rc_svcuser_encode(const rc_svcuser_rec *u, rc_wbuf *w);
int rc_svcuser_decode(const void *data, size_t len, rc_svcuser_rec *u);
int rc_audit_encode(const rc_audit_entry *e, rc_wbuf *w);
int rc_audit_decode(const void *data, size_t len, rc_audit_entry *e);
int rc_setting_encode(const char *value, rc_wbuf *w);
int rc_setting_decode(const void *data, size_t len, char *value, size_t vlen);
/* Notifications (notify.c): a subscription under "notify.EMAIL" and a queued
 * notice under "outbox.ID" in the settings database. */
int rc_notify_encode(const rc_notification *n, rc_wbuf *w);
int rc_notify_decode(const void *data, size_t len, rc_notification *n);
int rc_notice_encode(const rc_notice *n, rc_wbuf *w);
int rc_notice_decode(const void *data, size_t len, rc_notice *n);

/* Host state (schema 3, hoststate.c): what a login writes on this host,
 * apart from membership, keyed by never-reused ids.  A member's or a
 * service user's under its uid, a token's under its id. */
typedef struct rc_host_user {
	uint32_t failed;           /* attempts since the last success on this host */
	int64_t failed_at;         /* the last one */
	int64_t lock_until;
	int64_t last_active;       /* members only */
	int64_t totp_last_step;    /* members only: the last accepted TOTP step */
	uint32_t recovery_used;    /* members only: bit i set: recovery code i used */
} rc_host_user;
typedef struct rc_host_token {
	int64_t last_used;
	int64_t expires;           /* a sliding token's expiry after its last use */
} rc_host_token;
int rc_host_user_encode(const rc_host_user *h, rc_wbuf *w);
int rc_host_user_decode(const void *data, size_t len, rc_host_user *h);
int rc_host_token_encode(const rc_host_token *h, rc_wbuf *w);
int rc_host_token_decode(const void *data, size_t len, rc_host_token *h);

#endif
