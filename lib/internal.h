/*
 * internal.h - private to lib/: the codec, transactions and helpers.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_INTERNAL_H
#define RC_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include "rollcall.h"
#include "store.h"
#include <time.h>

#define RC_API __attribute__((visibility("default")))
#define RC_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- errors ------------------------------------------------------------- */
/* Set the thread's detailed message and return ERR. */
int rc_fail(int err, const char *fmt, ...) RC_PRINTF(2, 3);
/* The same, about the input FIELD (a static string; see rc_errfield). */
int rc_fail_field(int err, const char *field, const char *fmt, ...) RC_PRINTF(3, 4);

/* ---- mail.c's checks, shared with config.c ------------------------------ */
bool rc_utf8_valid(const char *s, size_t n);
/* Every {name} in TEXT is in ALLOWED ("{{" is a literal "{"): 0, or 1 with
 * the first unknown name in BAD. */
int rc_placeholders_check(const char *text, const char *const *allowed, char *bad,
                          size_t badlen);
extern const char *const rc_login_hint_placeholders[];

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

/* ---- control characters (validate.c): C0 and DEL ----------------------- */
bool rc_is_control(unsigned char c);
bool rc_has_control(const char *s, bool tab_ok);

/* ---- crypto ------------------------------------------------------------- */
#define RC_MASTER_KEY_LEN 32
int rc_master_key_create(const char *path);
int rc_master_key_load(const char *path, uint8_t key[RC_MASTER_KEY_LEN]);
void rc_code_generate(char out[RC_CODE_LEN + 1]);
int rc_code_normalize(const char *in, char out[21]);
int rc_code_normalize_len(const char *in, char *out, size_t want);  /* no message */
void rc_code_generate_len(char *out, size_t n);
void rc_base32_lower(const uint8_t *in, size_t n, char *out);
void rc_password_dummy_verify(unsigned long long ops, size_t mem, const char *pw);
void rc_code_hash(const rc_store *s, const char *normalized, uint8_t out[32]);
/* crypto.c owns the primitives: keyed BLAKE2b under the store's codes key
 * (DOMAIN first, "" for none), an unkeyed checksum, random bytes, sealing
 * under the store's secrets key, the store's keys from master.key. */
void rc_keyed_hash(const rc_store *s, const char *domain, const void *data, size_t n,
                   uint8_t out[32]);
void rc_checksum(const void *data, size_t n, uint8_t out[32]);
void rc_random_bytes(void *buf, size_t n);
uint32_t rc_random_below(uint32_t n);   /* uniform in 0..n-1 */
void rc_store_keys_derive(const uint8_t master[RC_MASTER_KEY_LEN], uint8_t codes[32],
                          uint8_t secrets[32]);
#define RC_SEAL_OVERHEAD 40   /* crypto_secretbox's nonce (24) and MAC (16) */
void rc_seal(const rc_store *s, const void *in, size_t n, uint8_t *out);
int rc_unseal(const rc_store *s, const uint8_t *in, size_t inlen, void *out, size_t outsz,
              size_t *n);
/* A new invitation or reset code and its keyed hash (what is stored):
 * fast (BLAKE2b of a 100-bit code), so a batch makes them all before its
 * write transaction. */
void rc_code_new(const rc_store *s, char code[RC_CODE_LEN + 1], uint8_t hash[32]);
/* Hashing is slow: never inside a write transaction.  The limits are read
 * in a read transaction of their own, then PW hashed outside any. */
int rc_argon2_limits(rc_store *s, int64_t *ops, int64_t *mem_kib);
int rc_password_hash(const char *pw, int64_t ops, int64_t mem_kib, char out[RC_PWHASH_MAX]);
int rc_password_verify(const char *hash, const char *pw);
void rc_svcpw_generate(char out[RC_SVCPW_MAX + 1]);
int rc_secret_encrypt(const rc_store *s, const char *pw, uint8_t *out,
                      size_t *outlen);
int rc_secret_decrypt(const rc_store *s, const uint8_t *in, size_t inlen,
                      char *out, size_t outsz);



/* ---- the store handle ---------------------------------------------------- */
enum {
	DB_MEMBERS, DB_ROLES, DB_INVITATIONS, DB_SERVICES, DB_SVCUSERS,
	DB_TOKENS, DB_AUDIT, DB_SETTINGS, DB_IDX_UID, DB_IDX_EMAIL,
	DB_AUDIT_AGG,   /* aggregated refusals (schema 2): made when missing */
	DB_HOST,        /* host state (schema 3): made when missing */
	DB_OUTBOX,      /* queued notices (schema 3): made when missing */
	DB_COUNT
};
/* 2: tokens keyed by their owner's uid (1: by name); the audit_refusals
 * database.  3: the host database: what logins write (failures, locks,
 * last active, TOTP steps, recovery codes used, tokens' use) moved out of
 * the members, service_users and tokens records (docs/hoststate.md); the
 * outbox database: queued notices out of settings. */
#define RC_SCHEMA_VERSION 3

struct rc_store {
	RC_STORE_ENGINE;          /* store.c's: first */
	rc_config cfg;
	uint8_t key_codes[32];    /* keyed hashing of codes and tokens */
	uint8_t key_secrets[32];  /* encryption of stored secrets */
	rc_clock_fn clock;
	unsigned flags;
	pid_t pid;
	unsigned refs;            /* RC_OPEN_SHARED handles */
	bool no_audit_agg;        /* read-only open of a store without DB_AUDIT_AGG */
	bool no_host;             /* read-only open of a store without DB_HOST: the
	                           * host state is still in the membership records */
	bool no_outbox;           /* ... without DB_OUTBOX: notices in settings */
	char warning[512];        /* a problem after a committed change */
	char named[RC_NAME_MAX + 1]; /* the member the last operation named */
	/* notices the committed changes of this handle queued (outbox ids) */
	char queued[16][RC_NOTICE_ID_MAX];
	unsigned nqueued;
	/* rc_store_batch: changes published at most once a second */
	bool batch, batch_pending;
	struct timespec last_publish;
};

/* A transaction with its resolved actor and the audit record it will add. */
typedef struct rc_txn {
	RC_TXN_ENGINE;           /* store.c's: s, write (first) */
	/* the actor, resolved inside the transaction */
	uid_t uid;
	bool root;
	bool is_member;          /* a member record exists for the uid */
	rc_member_rec am;            /* that record */
	rc_role arole;           /* its role */
	char actor_name[RC_NAME_MAX + 16];
	char origin[64];
	/* the audit record appended on commit (and on a permission refusal) */
	char action[48];
	char target[RC_EMAIL_MAX + RC_NAME_MAX + 4];
	char detail[96];
	/* the record is a refusal that changed nothing, by a caller who is not
	 * a member acting as one: counted in the aggregated refusals, apart
	 * from the records of changes (settings.c) */
	bool aggregate;
	/* the host's files read once (a batch), or NULL: read for each check */
	const struct rc_host_files *host;
	bool nss_changed;        /* what NSS shows changed: bump the generation
	                          * and publish (set by rc_db_put/rc_store_del only) */
	/* the users whose view changed (rc_nss_note), NUL-separated; or too
	 * many to list */
	char *nss_names;
	size_t nss_len, nss_cap, nss_count;
	bool nss_full;
	/* notices this transaction queued: the handle's after commit */
	char queued[4][RC_NOTICE_ID_MAX];
	unsigned nqueued;
} rc_txn;

/* A transaction of actor A (actor.c), ended by rc_txn_end (store.h).  A
 * refusal for lack of permission is audited in a transaction of its own. */
int rc_txn_begin(rc_store *s, const rc_actor *a, bool write, rc_txn *t);
/* The audit record T's commit appends (audit.c). */
void rc_txn_audit(rc_txn *t, const char *action, const char *target);

/* The hooks open.c registers (store.h): the audit record (audit.c), the
 * generation and publication (publish.c), the notices (notify.c). */
int rc_audit_hook(rc_txn *t, int rc, void *ctx);
int rc_publish_pre_hook(rc_txn *t, int rc, void *ctx);
int rc_publish_post_hook(rc_txn *t, int rc, void *ctx);
int rc_publish_write_hook(rc_txn *t, int db, const rc_val *key, const rc_val *new,
                          void *ctx);
int rc_notice_hook(rc_txn *t, int rc, void *ctx);
/* A batch's publication still owed (rc_store_close). */
void rc_publish_pending(rc_store *s);

_Static_assert(RC_STORE_KEY_MAX == RC_NAME_MAX, "rc_store_keys holds names");
/* A record encoded in W (its error, if any, is returned). */
static inline int rc_store_putw(rc_txn *t, int db, const void *key, size_t klen,
                                const rc_wbuf *w, unsigned flags)
{
	return w->err ? w->err : rc_store_put(t, db, key, klen, w->p, w->len, flags);
}

/* The actor of T, resolved as T begins (actor.c). */
int rc_actor_resolve(rc_txn *t);
/* Permission checks.  Each returns RC_OK or RC_ERR_PERM with a message. */
int rc_require(rc_txn *t, uint32_t perm);
uint32_t rc_actor_rank(const rc_txn *t);
/* The actor acting as a member on itself (its tokens, its two-factor
 * authentication, its password): RC_OK when it is a member; root is
 * refused with ROOT_WHY (RC_ERR_INVALID), anyone else as no member
 * (RC_ERR_PERM). */
int rc_require_self(rc_txn *t, const char *root_why);
/* A code (invitation or reset) becomes the member's password (member.c). */
int rc_code_redeem(rc_txn *t, rc_member_rec *m, bool is_reset, const uint8_t hash[32],
                   const char *pwhash);
int rc_require_rank_over(rc_txn *t, const rc_member_rec *target);
int rc_require_can_grant(rc_txn *t, const rc_role *role);

/* Loading records inside a transaction (RC_ERR_NOTFOUND with a message). */
int rc_member_load(rc_txn *t, const char *name, rc_member_rec *m);
/* The member an administrator names: by user name or, when WHO holds an
 * '@', by email address (case-insensitive, as idx_email keys it).  The
 * user name goes to NAME (and to rc_member_named()); an unknown one is
 * RC_ERR_NOTFOUND with a message naming what was given. */
int rc_member_ref(rc_txn *t, const char *who, char name[RC_NAME_MAX + 1]);
/* rc_member_ref, then the record. */
int rc_member_load_ref(rc_txn *t, const char *who, rc_member_rec *m);
/* WHO names the actor itself (its user name or its email address). */
bool rc_names_actor(const rc_txn *t, const char *who);
int rc_member_put(rc_txn *t, const rc_member_rec *m);
int rc_role_load(rc_txn *t, const char *name, rc_role *r);
int rc_service_load(rc_txn *t, const char *name, rc_service *svc);
int rc_svcuser_load(rc_txn *t, const char *name, rc_svcuser_rec *u);
int rc_svcuser_put(rc_txn *t, const rc_svcuser_rec *u);

/* Names and ids. */
int rc_name_check_free(rc_txn *t, const char *name);
int rc_id_alloc(rc_txn *t, uint32_t *id);
int rc_uid_index_put(rc_txn *t, uint32_t uid, char kind, const char *name);
int rc_uid_index_del(rc_txn *t, uint32_t uid);
/* The entry of UID: its KIND ('m' member, 's' service user; '\0' when the
 * entry is damaged) and NAME; RC_ERR_NOTFOUND (silent) when none. */
int rc_uid_index_get(rc_txn *t, uint32_t uid, char *kind, char name[RC_NAME_MAX + 1]);
void rc_email_key(const char *email, char *out, size_t len);

/* Settings, typed views with their defaults. */
int rc_setting_int(rc_txn *t, const char *key, int64_t *out);
int rc_setting_str(rc_txn *t, const char *key, char *buf, size_t len);
int rc_meta_get_u64(rc_txn *t, const char *key, uint64_t *out);
int rc_meta_put_u64(rc_txn *t, const char *key, uint64_t v);
/* The same in database DB: a counter, a decimal in a setting record, read
 * as 0..UINT64_MAX; RC_ERR_NOTFOUND (silent) when missing. */
int rc_counter_get(rc_txn *t, int db, const char *key, uint64_t *out);
int rc_counter_put(rc_txn *t, int db, const char *key, uint64_t v);

/* Record a notice of EVENT (RC_EV_*) about TARGET in T: sent after commit. */
int rc_notice_queue(rc_txn *t, uint32_t event, const char *target,
                    const char *detail);
int rc_audit_append(rc_txn *t, const char *result);
int rc_audit_aggregate(rc_txn *t, const char *result);
int rc_roles_seed(rc_txn *t);
int rc_invite_in(rc_txn *t, const rc_invite_req *req, rc_code_result *out);
int rc_invitation_issue(rc_txn *t, rc_member_rec *m, const char *inviter,
                        uint32_t resent, rc_code_result *out);

int rc_invitation_load(rc_txn *t, const char *name, rc_invitation *inv);
int rc_invitation_put(rc_txn *t, const rc_invitation *inv);
int rc_password_policy(rc_txn *t, const rc_member_rec *m, const char *pw);

/* Tokens (token.c). */
/* A token belongs to its owner's uid (never reused), not to a name. */
int rc_tokens_revoke_owner(rc_txn *t, uint32_t owner_uid, size_t *revoked);
int rc_token_issue(rc_txn *t, const char *owner, uint32_t owner_uid, int kind,
                   const char *desc, int64_t ttl, int64_t max_age, int ext,
                   rc_token *info, char out[RC_TOKEN_LEN + 1]);
int rc_token_verify(rc_txn *t, uint32_t uid, const char *token,
                    rc_token_rec *rec, bool *touch);
int rc_token_touch(rc_txn *t, const rc_token_rec *seen);
int rc_token_remove(rc_txn *t, uint32_t owner_uid, const char *owner,
                    const char *id);
/* Schema 1 -> 2: tokens keyed by name become tokens keyed by uid. */
int rc_tokens_upgrade(rc_txn *t, size_t *kept, size_t *dropped);
/* Schema 2 -> 3: each token's last use and expiry into the host database
 * (counted in *moved), the records written again without a last use. */
int rc_tokens_host_upgrade(rc_txn *t, size_t *moved);

/* Host state (hoststate.c).  rc_member_load, rc_svcuser_load and the token
 * loads return a merged view: the membership record with the host state
 * laid over it.  rc_member_put and rc_svcuser_put write membership
 * only (the codec writes no host field); these write the host state of a
 * view.  A login writes only these (and the audit log and the outbox). */
int rc_host_member_load(rc_txn *t, rc_member_rec *m);
int rc_host_member_store(rc_txn *t, const rc_member_rec *m);
int rc_host_svcuser_load(rc_txn *t, rc_svcuser_rec *u);
int rc_host_svcuser_store(rc_txn *t, const rc_svcuser_rec *u);
/* An identity or a token is gone: its host state goes with it. */
int rc_host_user_del(rc_txn *t, uint32_t uid);
int rc_host_token_load(rc_txn *t, rc_token_rec *rec);
int rc_host_token_store(rc_txn *t, const rc_token_rec *rec);
int rc_host_token_del(rc_txn *t, const char *id);
/* Counters of this host's ("@" + a name: the logins of unknown users,
 * the helper's allowance per calling uid). */
int rc_host_meta_get_u64(rc_txn *t, const char *key, uint64_t *out);
int rc_host_meta_put_u64(rc_txn *t, const char *key, uint64_t v);
int rc_host_counter_bump(rc_txn *t, const char *key);
/* An administrative or self-service change that also sets the host state
 * of M (unlock, password reset, two-factor reset): both written. */
int rc_member_put_with_host(rc_txn *t, const rc_member_rec *m);
/* Schema 2 -> 3: the host state out of the membership records. */
int rc_host_upgrade(rc_txn *t, size_t *moved);
/* Schema 2 -> 3: the queued notices out of settings (notify.c). */
int rc_outbox_upgrade(rc_txn *t, size_t *moved);

/* Two-factor (totp.c). */
int rc_totp_check(rc_txn *t, rc_member_rec *m, const char *code, int *via);
int rc_totp_enroll(rc_txn *t, rc_member_rec *m, rc_mfa_enrollment *out);
int rc_totp_enroll_confirm(rc_txn *t, rc_member_rec *m, const char *code);

/* The NSS snapshot (snapshot.c). */
int rc_snapshot_publish(rc_store *s);
/* Whether a write of NEW over OLD (either NULL: none) under KEY of DB
 * changes what NSS shows (rc_db_put/rc_store_del ask it: callers never say). */
bool rc_nss_shown_change(int db, const rc_val *key, const rc_val *old, const rc_val *new);
int rc_snapshot_catch_up(rc_store *s);
/* A write under KEY of DB changed what NSS shows: note which user. */
void rc_nss_note(rc_txn *t, int db, const rc_val *key);
/* In the commit that makes generation GEN: log what changed. */
int rc_nss_log(rc_txn *t, uint64_t gen);
void rc_nss_forget(rc_txn *t);

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

#endif
