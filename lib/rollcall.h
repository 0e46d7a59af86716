/*
 * rollcall.h - the rollcall store library.
 *
 * Every rule about rollcall's data lives behind this header: the PAM module,
 * the NSS module and the rollcall tool are thin glue over it.  Functions
 * return an int code (RC_OK or an RC_ERR_*); rc_strerror() names the code and
 * rc_errmsg() gives the detailed message of the last failure in this thread
 * ("user name "x" is already taken").
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef ROLLCALL_H
#define ROLLCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- error codes -------------------------------------------------------- */
enum {
	RC_OK = 0,
	RC_ERR_NOTFOUND,   /* no such member, role, service, ...            */
	RC_ERR_EXISTS,     /* name, email or object already exists           */
	RC_ERR_INVALID,    /* malformed input (name, email, duration, ...)   */
	RC_ERR_POLICY,     /* refused by a policy (rank rule, password, ...) */
	RC_ERR_STATE,      /* wrong state (not pending, service stopped, ...)*/
	RC_ERR_PERM,       /* the actor lacks the permission                 */
	RC_ERR_STORE,      /* store missing, unsafe, damaged or unwritable   */
	RC_ERR_NOMEM,
	RC_ERR_FULL,       /* store or id range full                         */
	RC_ERR_SCHEMA,     /* store written by a newer rollcall              */
	RC_ERR_CONFIG,     /* configuration file error                       */
	RC_ERR_AUTH,       /* wrong password, code or token                  */
	RC_ERR_LOCKED,     /* too many failures: locked for a while          */
	RC_ERR_MAX
};
const char *rc_strerror(int err);
const char *rc_errmsg(void);
/* The input the last failure is about, when one is ("username",
 * "runs_as"; several, "email,name": one of them is wanted), else NULL:
 * the front end names its own way of giving it (the tool's option). */
const char *rc_errfield(void);

/* ---- limits ------------------------------------------------------------- */
#define RC_NAME_MAX        32   /* user, role and service-user names */
#define RC_SERVICE_MAX     16   /* service names (svc-NAME-replication <= 32) */
#define RC_EMAIL_MAX      254
#define RC_FULLNAME_MAX   128
#define RC_PASSWORD_MAX  1024
#define RC_PWHASH_MAX     128
#define RC_CODE_LEN        23   /* XXXXX-XXXXX-XXXXX-XXXXX */
#define RC_SVCPW_MIN       24
#define RC_SVCPW_MAX       64
#define RC_PATH_MAX      4096
#define RC_SETTING_MAX    256
#define RC_TOTP_SECRET_LEN 20   /* 160 bits, RFC 4226's recommendation */
#define RC_TOTP_ENC_LEN   (24 + 16 + RC_TOTP_SECRET_LEN)  /* nonce, MAC, secret */
#define RC_RECOVERY_CODES  10
#define RC_RECOVERY_LEN    11   /* XXXXX-XXXXX */
#define RC_TOKEN_PREFIX    "rct_"   /* every token starts so */
#define RC_TOKEN_LEN       85   /* rct_ + 16 id + _ + 56 secret + 8 check */
#define RC_TOKEN_ID_LEN    16
#define RC_TOKEN_DESC_MAX 128
#define RC_PROJECT_MAX     64   /* rollcall.conf project_name, bytes */
#define RC_LOGIN_HINT_MAX 200   /* rollcall.conf login_hint, bytes */

/* ---- configuration (rollcall.conf) -------------------------------------- */
typedef struct rc_config {
	char path[RC_PATH_MAX];          /* the file read, "" when none      */
	char state_dir[RC_PATH_MAX];
	uint32_t id_min, id_max;         /* uid/gid range for allocation     */
	char home_base[RC_PATH_MAX];     /* homes are home_base/NAME         */
	char shell[RC_PATH_MAX];         /* members' login shell             */
	char service_shell[RC_PATH_MAX]; /* service users' shell             */
	char mail_command[RC_PATH_MAX];  /* "" = print codes instead         */
	char project_name[RC_PROJECT_MAX + 1];  /* "" = the host name       */
	char mail_from[RC_EMAIL_MAX + 1];       /* "" = root@HOST           */
	char login_hint[RC_LOGIN_HINT_MAX + 1]; /* "" = "ssh {username}@{host}" */
	char mail_template_dir[RC_PATH_MAX];    /* "" = built-in templates  */
	char passwd_file[RC_PATH_MAX];   /* the host's files source          */
	char group_file[RC_PATH_MAX];
	uint64_t map_size;               /* the store's initial LMDB map     */
	char member_callers[512];        /* local users who may verify members'
	                                    credentials: "postgres,www-data" */
	uint32_t caller_failures;        /* the helper's requests without a yes
	                                    per calling uid and minute; 0: any */
	uint32_t caller_helpers;         /* helpers at once per calling uid;
	                                    0: any */
} rc_config;

void rc_config_defaults(rc_config *cfg);
/* Read PATH over the defaults.  A missing file is fine when !must_exist.
 * The file must be a regular file (not a symlink), owned by the effective
 * user and not group/other-writable. */
int rc_config_load(rc_config *cfg, const char *path, int must_exist);

/* ---- the store ---------------------------------------------------------- */
typedef struct rc_store rc_store;
typedef int64_t (*rc_clock_fn)(void);

enum {
	RC_OPEN_READONLY = 1,
	/* One store per process (LMDB forbids opening an environment twice):
	 * a second shared open of the same state directory returns the same
	 * handle with a reference added; rc_store_close drops it.  A handle
	 * inherited across fork() is left alone and a new one opened. */
	RC_OPEN_SHARED = 2
};

/* Create the state directory, master.key and the store; add the built-in
 * roles and the owner as a pending member with an invitation. */
typedef struct rc_code_result {
	char username[RC_NAME_MAX + 1];
	char email[RC_EMAIL_MAX + 1];
	char full_name[RC_FULLNAME_MAX + 1];   /* the member's, for the mail */
	char role[RC_NAME_MAX + 1];
	char code[RC_CODE_LEN + 1];
	int64_t expires;
} rc_code_result;
int rc_store_create(const rc_config *cfg, const char *owner_email,
                    const char *owner_username, rc_code_result *out);
/* An empty store for a host joining a fleet (the key in place first): no
 * owner, no roles (the directory's come with the sync); audited as
 * "fleet.join". */
int rc_store_create_replica(const rc_config *cfg);
int rc_store_open(rc_store **out, const rc_config *cfg, unsigned flags);
void rc_store_close(rc_store *s);
/* Batch mode (an import, a sync applying many changes): while ON, a change
 * that NSS sees is published at most once a second rather than at each
 * commit; turning it off (or closing the store) publishes what is left. */
void rc_store_batch(rc_store *s, int on);
/* Test seam: replace the wall clock of this handle. */
void rc_store_set_clock(rc_store *s, rc_clock_fn fn);
int64_t rc_store_now(const rc_store *s);
const rc_config *rc_store_config(const rc_store *s);
/* For setuid-root programs (the tool, rollcall-chkpwd) started by another
 * user, once they have kept the caller's ids: become root in full, so that
 * the caller cannot stop them while they hold the store; lift the CPU-time
 * and file-size limits.  0, or -1 with errno. */
int rc_privileges_root(void);
/* Call before anything slow or that waits (argon2id, a terminal, a mail
 * command, the network): none of it may run while this process holds the
 * store's write transaction, which every other writer, login and admin
 * command would wait for.  Built with --enable-debug-checks it aborts
 * naming WHAT when one is open; otherwise it does nothing. */
void rc_slow_work(const char *what);
/* A problem that followed a committed change (the NSS snapshot could not be
 * published, ...), or NULL.  Cleared by the next change. */
const char *rc_store_warning(const rc_store *s);

typedef struct rc_status {
	unsigned schema;
	uint64_t generation;
	size_t members, pending, roles, services, service_users, audit_entries;
	size_t map_size, map_used;
} rc_status;

/* The caller: a uid (0 is root, above every role) and where it acts from. */
typedef struct rc_actor {
	uid_t uid;
	char origin[64];   /* "tool", "pam:sshd", ... */
} rc_actor;

/* ---- "rollcall doctor": the state directory's checks --------------------- */
enum { RC_CHECK_OK = 0, RC_CHECK_WARN, RC_CHECK_FAIL };
typedef struct rc_check {
	int level;              /* RC_CHECK_*                                 */
	const char *name;       /* "state directory", "store", ...           */
	const char *fix;        /* what to change, or NULL                   */
	char detail[512];
} rc_check;
typedef void (*rc_check_cb)(const rc_check *c, void *ctx);
/* Check the state directory, store, master.key and NSS snapshot; each
 * finding goes to CB.  Opening the store catches up a stale snapshot. */
int rc_store_doctor(const rc_config *cfg, rc_check_cb cb, void *ctx);

/* ---- permissions and roles ---------------------------------------------- */
enum {
	RC_PERM_VIEW           = 1u << 0,
	RC_PERM_MEMBERS        = 1u << 1,
	RC_PERM_INVITE         = 1u << 2,
	RC_PERM_MANAGE_MEMBERS = 1u << 3,
	RC_PERM_MANAGE_SERVICES= 1u << 4,
	RC_PERM_START_STOP     = 1u << 5,
	RC_PERM_BILLING_VIEW   = 1u << 6,
	RC_PERM_BILLING        = 1u << 7,
	RC_PERM_AUDIT          = 1u << 8,
	RC_PERM_NOTIFICATIONS  = 1u << 9,
	RC_PERM_ALL            = (1u << 10) - 1
};
#define RC_PERM_COUNT 10
const char *rc_perm_name(unsigned index);          /* index < RC_PERM_COUNT */
int rc_perms_parse(const char *list, uint32_t *mask);  /* "view,invite" */
void rc_perms_format(uint32_t mask, char *buf, size_t len);

typedef struct rc_role {
	char name[RC_NAME_MAX + 1];
	uint32_t rank;        /* 1..100 */
	uint32_t perms;
	uint32_t gid;
	int builtin;
} rc_role;

int rc_role_get(rc_store *s, const rc_actor *a, const char *name, rc_role *out);
typedef int (*rc_role_cb)(const rc_role *r, void *ctx);
int rc_role_foreach(rc_store *s, const rc_actor *a, rc_role_cb cb, void *ctx);
int rc_role_create(rc_store *s, const rc_actor *a, const char *name,
                   uint32_t rank, uint32_t perms);
int rc_role_delete(rc_store *s, const rc_actor *a, const char *name);

/* ---- members ------------------------------------------------------------ */
enum { RC_MEMBER_PENDING = 0, RC_MEMBER_ACTIVE = 1, RC_MEMBER_INACTIVE = 2 };
const char *rc_member_status_name(int status);
int rc_member_status_parse(const char *s, int *status);

/* A member as lib shows it: no password hash, TOTP secret, reset or
 * recovery code hash ever leaves lib/ (those are in lib's own record). */
typedef struct rc_member {
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
	int has_password;          /* 0: none yet (an invitation pending) */
	int must_change;
	int totp_enabled;
	uint32_t failed;           /* attempts since the last success ...     */
	int64_t failed_at;         /* ... the last at; forgotten lockout.duration after */
	int64_t lock_until;
	int64_t reset_expires;     /* 0 = no reset code */
	int totp_pending;          /* enrolled, waiting for the first code */
	int64_t totp_last_step;
	uint32_t recovery_left;    /* bit i set: recovery code i was issued (and
	                            * not used before schema 3) */
	uint32_t recovery_used;    /* host state: bit i set: code i was used */
} rc_member;
/* The recovery codes M can still use (a bit each). */
#define RC_RECOVERY_UNUSED(m) ((m)->recovery_left & ~(m)->recovery_used)

/* "password" or "two-factor" */
const char *rc_member_auth_method(const rc_member *m);

enum { RC_INV_PENDING = 0, RC_INV_ACCEPTED, RC_INV_WITHDRAWN, RC_INV_EXPIRED };
const char *rc_invitation_state_name(int state);

typedef struct rc_invitation {
	char username[RC_NAME_MAX + 1];
	char email[RC_EMAIL_MAX + 1];
	char role[RC_NAME_MAX + 1];
	char inviter[RC_NAME_MAX + 1];
	int64_t created, expires;
	uint8_t code_hash[32];
	int state;                 /* as stored; rc_invitation_get reports
	                              a pending one past its expiry as expired */
	uint32_t resent;
} rc_invitation;

typedef struct rc_invite_req {
	const char *email;
	const char *role;
	const char *username;   /* NULL: the email's local part */
	const char *full_name;  /* NULL: "" */
} rc_invite_req;

int rc_member_invite(rc_store *s, const rc_actor *a, const rc_invite_req *req,
                     rc_code_result *out);
int rc_member_withdraw(rc_store *s, const rc_actor *a, const char *username);
int rc_member_resend(rc_store *s, const rc_actor *a, const char *username,
                     rc_code_result *out);
/* Complete an invitation or an admin reset: the code proves who it is. */
int rc_member_accept(rc_store *s, const rc_actor *a, const char *code,
                     const char *password, char username_out[RC_NAME_MAX + 1]);
int rc_member_set_role(rc_store *s, const rc_actor *a, const char *username,
                       const char *role);
/* NULL leaves a field unchanged. */
int rc_member_update(rc_store *s, const rc_actor *a, const char *username,
                     const char *email, const char *full_name);
int rc_member_set_active(rc_store *s, const rc_actor *a, const char *username,
                         int active);
int rc_member_delete(rc_store *s, const rc_actor *a, const char *username,
                     const char *confirm_email);
int rc_member_reset_password(rc_store *s, const rc_actor *a,
                             const char *username, rc_code_result *out);
int rc_member_unlock(rc_store *s, const rc_actor *a, const char *username);
int rc_member_get(rc_store *s, const rc_actor *a, const char *username,
                  rc_member *out);
/* The operations on one member above (withdraw to get, rc_member_mfa_reset
 * and the tokens' owner) take its user name or its email address
 * (case-insensitive).  After one succeeded: the user name of the member it
 * named, for messages (valid until the next operation on S). */
const char *rc_member_named(const rc_store *s);
/* Who the actor is, with its permissions as they apply: root has every
 * one; a member that is not active has none.  No secret in it. */
typedef struct rc_identity {
	int root;
	char username[RC_NAME_MAX + 1];   /* "root" for root */
	uint32_t uid;
	char email[RC_EMAIL_MAX + 1];     /* members only */
	char full_name[RC_FULLNAME_MAX + 1];
	char role[RC_NAME_MAX + 1];
	int status;                       /* members only */
	uint32_t perms;
} rc_identity;
/* RC_ERR_PERM: the actor is neither root nor a member. */
int rc_whoami(rc_store *s, const rc_actor *a, rc_identity *out);
int rc_invitation_get(rc_store *s, const rc_actor *a, const char *username,
                      rc_invitation *out);
typedef struct rc_member_filter {
	int status;          /* -1: any */
	const char *role;    /* NULL: any */
} rc_member_filter;
typedef int (*rc_member_cb)(const rc_member *m, void *ctx);
int rc_member_foreach(rc_store *s, const rc_actor *a,
                      const rc_member_filter *f, rc_member_cb cb, void *ctx);

/* ---- bulk import (rollcall member import) --------------------------------
 * A file of invitations, all or nothing: every line is parsed and checked
 * (the rules of rc_member_invite, and no email or user name twice in the
 * file) before anything is written, each bad line reported; then one write
 * transaction stores every member, its invitation and its audit record
 * ("member.invite", as rc_member_invite), and the NSS snapshot is
 * published once. */
typedef struct rc_import_row {
	rc_invite_req req;         /* its fields; username, full_name NULL: none */
	unsigned long line;        /* where it starts in the file */
	/* after rc_member_import: */
	char username[RC_NAME_MAX + 1];
	char code[RC_CODE_LEN + 1];
	int64_t expires;
} rc_import_row;

typedef struct rc_import_hooks {
	/* a bad line: its number and what is wrong with it */
	void (*bad)(unsigned long line, const char *reason, void *ctx);
	/* DONE of TOTAL rows through PHASE ("checking", "writing"): called
	 * for every row, inside the write transaction too: only count */
	void (*progress)(const char *phase, size_t done, size_t total, void *ctx);
	void *ctx;
	const char *source;        /* the file's name, for the audit log */
} rc_import_hooks;

/* Parse an import file: BUF, LEN bytes, changed in place (the rows point
 * into it).  A header line names the columns: email and role, optionally
 * username and full_name, in any order (RFC 4180 CSV: "quoted" fields
 * with "" for a quote, CRLF or LF; a UTF-8 byte order mark and empty lines
 * are skipped).  Each bad line goes to H->bad; *ROWS (free()) gets the
 * good ones.  RC_OK, RC_ERR_INVALID when any line was bad, RC_ERR_NOMEM. */
int rc_import_parse(char *buf, size_t len, rc_import_row **rows, size_t *n,
                    const rc_import_hooks *h);
enum { RC_IMPORT_CHECK_ONLY = 1 };   /* report bad lines, write nothing */
/* Check ROWS, then (unless CHECK_ONLY) invite them all in one write
 * transaction.  RC_OK: every row's username, code and expires are set;
 * RC_ERR_INVALID: bad lines (each reported to H->bad), nothing written;
 * RC_ERR_PERM: the actor may not invite. */
int rc_member_import(rc_store *s, const rc_actor *a, rc_import_row *rows, size_t n,
                     unsigned flags, const rc_import_hooks *h);
/* Audit a failed invitation mail of an imported or invited member. */
int rc_member_mail_audit(rc_store *s, const rc_actor *a, const char *username,
                         const char *result);

/* ---- services and service users ----------------------------------------- */
enum { RC_SERVICE_STOPPED = 0, RC_SERVICE_RUNNING = 1 };
typedef struct rc_service {
	char name[RC_SERVICE_MAX + 1];
	int state;
	uint32_t gid, gid_readonly, gid_replication;
	char default_user[RC_NAME_MAX + 1];
	int64_t created;
	char runs_as[RC_NAME_MAX + 1];   /* the local user the service runs as
	                                    (may verify its users); "" none */
} rc_service;

typedef struct rc_svcuser {
	char username[RC_NAME_MAX + 1];
	char service[RC_SERVICE_MAX + 1];
	uint32_t uid;
	int read_only, replication, protected_user;
	int64_t created;
	/* host state (as rc_member's) */
	uint32_t failed;           /* failed logins since the last success */
	int64_t failed_at;         /* the last one (see rc_member) */
	int64_t lock_until;
} rc_svcuser;
#define RC_SVCUSER_PW_ENCRYPTION "argon2id"

typedef struct rc_secret_result {
	char username[RC_NAME_MAX + 1];
	char password[RC_SVCPW_MAX + 1];   /* "" unless generated / shown */
	int generated;
} rc_secret_result;

int rc_service_create(rc_store *s, const rc_actor *a, const char *name,
                      rc_secret_result *default_user);
/* The same, naming the local user the service runs as (NULL or "": none):
 * that user may verify the service's users (rc_caller_may_verify). */
int rc_service_create_as(rc_store *s, const rc_actor *a, const char *name,
                         const char *runs_as, rc_secret_result *default_user);
/* Set (or clear, with NULL or "") the local user the service runs as: a
 * user of this host (getpwnam), not root, outside id_min..id_max.
 * manage-services. */
int rc_service_set_runs_as(rc_store *s, const rc_actor *a, const char *name,
                           const char *runs_as);
int rc_service_set_running(rc_store *s, const rc_actor *a, const char *name,
                           int running);
int rc_service_delete(rc_store *s, const rc_actor *a, const char *name);
int rc_service_get(rc_store *s, const rc_actor *a, const char *name,
                   rc_service *out);
typedef int (*rc_service_cb)(const rc_service *svc, void *ctx);
int rc_service_foreach(rc_store *s, const rc_actor *a, rc_service_cb cb,
                       void *ctx);

/* password NULL: generate one (64 characters), returned in out. */
int rc_svcuser_create(rc_store *s, const rc_actor *a, const char *service,
                      const char *username, const char *password,
                      int read_only, int replication, rc_secret_result *out);
int rc_svcuser_update_password(rc_store *s, const rc_actor *a,
                               const char *service, const char *username,
                               const char *password, rc_secret_result *out);
/* -1 leaves a flag unchanged; new_name NULL keeps the name. */
int rc_svcuser_set(rc_store *s, const rc_actor *a, const char *service,
                   const char *username, int read_only, int replication,
                   const char *new_name);
int rc_svcuser_show_password(rc_store *s, const rc_actor *a,
                             const char *service, const char *username,
                             rc_secret_result *out);
int rc_svcuser_delete(rc_store *s, const rc_actor *a, const char *service,
                      const char *username);
typedef int (*rc_svcuser_cb)(const rc_svcuser *u, void *ctx);
int rc_svcuser_foreach(rc_store *s, const rc_actor *a, const char *service,
                       rc_svcuser_cb cb, void *ctx);

/* ---- settings, billing, audit, status ------------------------------------ */
typedef struct rc_setting {
	const char *key;
	char value[RC_SETTING_MAX];
	const char *help;        /* accepted form */
} rc_setting;
typedef int (*rc_setting_cb)(const rc_setting *st, void *ctx);
int rc_settings_foreach(rc_store *s, const rc_actor *a, rc_setting_cb cb,
                        void *ctx);
int rc_settings_get(rc_store *s, const rc_actor *a, const char *key,
                    char *buf, size_t len);
int rc_settings_set(rc_store *s, const rc_actor *a, const char *key,
                    const char *value);

int rc_billing_foreach(rc_store *s, const rc_actor *a, rc_setting_cb cb,
                       void *ctx);
int rc_billing_set(rc_store *s, const rc_actor *a, const char *key,
                   const char *value);

typedef struct rc_audit_entry {
	uint64_t seq;
	int64_t time;
	char actor[RC_NAME_MAX + 16];
	char action[48];
	char target[RC_EMAIL_MAX + RC_NAME_MAX + 4];
	char result[128];
	char origin[64];
	/* An aggregated refusal (seq 0) stands for COUNT refusals of one
	 * actor's action from one origin, the first at FIRST, the last at TIME
	 * (with its target and result).  A record of the log proper has count
	 * 1 and first == time. */
	uint64_t count;
	int64_t first;
} rc_audit_entry;
typedef int (*rc_audit_cb)(const rc_audit_entry *e, void *ctx);
/* The log and the aggregated refusals, merged by time, oldest first.
 * since: oldest time to show (0: all); limit: the newest LIMIT (0: all). */
int rc_audit_foreach(rc_store *s, const rc_actor *a, int64_t since,
                     size_t limit, rc_audit_cb cb, void *ctx);

int rc_store_status(rc_store *s, const rc_actor *a, rc_status *out);

/* ---- two-factor authentication (TOTP, RFC 6238: SHA-1, 6 digits, 30 s) -- */
typedef struct rc_mfa_enrollment {
	char secret[40];           /* base32, for typing into an app */
	char uri[1024];            /* otpauth://totp/... for the QR code */
	char recovery[RC_RECOVERY_CODES][RC_RECOVERY_LEN + 1];
} rc_mfa_enrollment;
/* Wipe an enrollment (it holds secrets). */
void rc_mfa_enrollment_clear(rc_mfa_enrollment *e);
/* Start enrollment for the actor itself: a new secret and recovery codes,
 * stored pending until rc_mfa_confirm() gets a valid code.  Refused when
 * TOTP is already enabled. */
int rc_mfa_enroll(rc_store *s, const rc_actor *a, rc_mfa_enrollment *out);
/* The first code from the app: enables TOTP, revokes every token. */
int rc_mfa_confirm(rc_store *s, const rc_actor *a, const char *code);
/* Disable TOTP for the actor itself (needs a current code or a recovery
 * code); revokes every token. */
int rc_mfa_disable(rc_store *s, const rc_actor *a, const char *code);
/* An admin (manage-members, rank rule) removes a member's TOTP. */
int rc_member_mfa_reset(rc_store *s, const rc_actor *a, const char *username);
typedef struct rc_mfa_status {
	int enabled, pending;
	unsigned recovery_left;
	int required;              /* the mfa setting is "required" */
} rc_mfa_status;
int rc_mfa_status_get(rc_store *s, const rc_actor *a, rc_mfa_status *out);
/* DATA as a QR code drawn with text (Unicode half blocks), one string of
 * lines; free() it. */
int rc_qr_text(const char *data, char **out);
/* The 6-digit code of SECRET (base32) at time NOW: for tests and tools. */
int rc_totp_code(const char *secret_b32, int64_t now, char out[7]);

/* ---- authentication tokens ------------------------------------------------ */
enum { RC_TOKEN_LOGIN = 0, RC_TOKEN_API = 1 };
/* Kinds of users (tokens' owners, logins). */
enum { RC_KIND_NONE = 0, RC_KIND_MEMBER, RC_KIND_SVCUSER };
enum { RC_EXT_SLIDE = 0, RC_EXT_FIXED = 1 };
typedef struct rc_token {
	char id[RC_TOKEN_ID_LEN + 1];
	char owner[RC_NAME_MAX + 1];   /* the owner's name when the token was made */
	uint32_t owner_uid;        /* whose it is: uids are never reused */
	int kind;
	char description[RC_TOKEN_DESC_MAX + 1];
	int64_t created;
	/* last_used and a sliding token's expiry after a use are host state
	 * (docs/hoststate.md), laid over the token record when it is loaded */
	int64_t last_used;         /* 0 = never; kept to within a minute */
	int64_t expires;
	int64_t max_expiry;        /* hard limit (created + max age), 0 = none */
	int64_t ttl;               /* the sliding window */
	int extension;
} rc_token;
typedef struct rc_token_req {
	const char *owner;         /* NULL: the actor itself */
	const char *description;
	int64_t ttl;               /* 0: the token.ttl setting */
	int64_t max_age;           /* 0: none */
	int extension;
} rc_token_req;
const char *rc_token_kind_name(int kind);
const char *rc_token_extension_name(int ext);
int rc_token_extension_parse(const char *s, int *ext);
/* Check the form and checksum of a token without any lookup. */
int rc_token_check_format(const char *token);
/* Generate an api token; the secret is in token_out only (85 characters). */
int rc_token_generate(rc_store *s, const rc_actor *a, const rc_token_req *req,
                      rc_token *info, char token_out[RC_TOKEN_LEN + 1]);
typedef int (*rc_token_cb)(const rc_token *tk, void *ctx);
/* Whose tokens: owner NULL is the actor itself (a member); otherwise owner
 * names a member (owner_kind RC_KIND_MEMBER: manage-members and the rank
 * rule) or a service user (RC_KIND_SVCUSER: manage-services). */
int rc_token_foreach(rc_store *s, const rc_actor *a, const char *owner,
                     int owner_kind, rc_token_cb cb, void *ctx);
/* id is the token's id (or the whole token). */
int rc_token_revoke(rc_store *s, const rc_actor *a, const char *owner,
                    int owner_kind, const char *id);
int rc_token_revoke_all(rc_store *s, const rc_actor *a, const char *owner,
                        int owner_kind, size_t *revoked);

/* ---- logins (the PAM module's rules) --------------------------------------- */
enum {
	RC_VIA_NONE = 0, RC_VIA_PASSWORD, RC_VIA_TOKEN, RC_VIA_INVITATION,
	RC_VIA_RESET, RC_VIA_TOTP, RC_VIA_RECOVERY
};
const char *rc_via_name(int via);
enum {
	RC_LOGIN_NO_TOKENS = 1,    /* a token is not accepted as a password */
	RC_LOGIN_MFA_REQUIRED = 2, /* as if the mfa setting were "required" */
	RC_LOGIN_MFA_OPTIONAL = 4  /* as if it were "optional" */
};
/* The state of one login between its steps.  Holds the code used (for the
 * password change that completes an invitation): rc_login_clear wipes it. */
typedef struct rc_login {
	char user[RC_NAME_MAX + 1];
	char origin[64];           /* "pam:sshd from 10.0.0.1" */
	int kind;
	int via;                   /* how the first factor passed */
	int need_totp;             /* ask for a TOTP or recovery code next */
	int need_enroll;           /* two-factor required and not set up */
	int done;                  /* authenticated */
	char code[RC_CODE_LEN + 1];
	char token_id[RC_TOKEN_ID_LEN + 1];
} rc_login;
void rc_login_clear(rc_login *l);
/* First factor for USER: a password, a token (when allowed), or for a
 * pending or reset member its code.  RC_OK: passed (see need_totp,
 * need_enroll, done); RC_ERR_NOTFOUND: not a rollcall user; RC_ERR_AUTH:
 * wrong; RC_ERR_LOCKED: locked.  Unknown users cost the same as known ones.
 * Every failure is counted toward the lockout and audited. */
int rc_login_begin(rc_store *s, rc_login *l, const char *origin,
                   const char *user, const char *secret, unsigned flags);
/* Second factor: a 6-digit TOTP code or a recovery code. */
int rc_login_totp(rc_store *s, rc_login *l, const char *code);
/* Two-factor required and not set up: enroll now (the member scans the URI
 * and answers with a code, checked by rc_login_enroll_finish). */
int rc_login_enroll_begin(rc_store *s, rc_login *l, rc_mfa_enrollment *out);
int rc_login_enroll_finish(rc_store *s, rc_login *l, const char *code);

/* Account checks after authentication (l may be NULL: no login in this
 * handle).  RC_OK; RC_ERR_NOTFOUND; RC_ERR_STATE (inactive, service
 * stopped: the message says which); RC_ERR_LOCKED; RC_ERR_PERM (roles or
 * permission restriction); and *must_change set when a new password is
 * required (code login or must-change flag). */
typedef struct rc_account_req {
	const char *roles;         /* "admin,owner" or NULL */
	uint32_t perm;             /* 0: none */
} rc_account_req;
int rc_login_account(rc_store *s, const rc_login *l, const char *origin,
                     const char *user, const rc_account_req *req,
                     int *must_change);
/* May USER's password be changed here, and must the old one be given?
 * Not after a code login in L, nor when PRIVILEGED (root, not a change
 * forced at login).  RC_ERR_NOTFOUND: not a rollcall user; RC_ERR_POLICY: a
 * protected service user; RC_ERR_STATE: no password yet. */
int rc_login_chauthtok_check(rc_store *s, const rc_login *l, const char *user,
                             int privileged, int *kind, int *need_old);
/* The state directory STATE_DIR joined a fleet (its fleet.conf): its
 * membership is the directory's, changed through the tool (rollcall(8)). */
bool rc_fleet_joined(const char *state_dir);
/* Change USER's password.  old NULL: not checked (code login, root).  A
 * change revokes every token of the user, completes a pending invitation or
 * reset, and is audited. */
int rc_login_chauthtok(rc_store *s, rc_login *l, const char *origin,
                       const char *user, const char *old, const char *newpw);
/* Session tokens: mint a login token for an authenticated user (evicting
 * the oldest past token.login_limit), and revoke it at session close. */
int rc_login_session_open(rc_store *s, const char *origin, const char *user,
                          char token_out[RC_TOKEN_LEN + 1],
                          char id_out[RC_TOKEN_ID_LEN + 1]);
int rc_login_session_close(rc_store *s, const char *origin, const char *user,
                           const char *id);
/* May the process of local uid CALLER (a PAM client without access to the
 * store, through the setuid helper) have USER's credentials verified?  Yes
 * (RC_OK) for root, for its own user (CALLER is USER's uid), for a
 * service's users when CALLER is the user the service runs as, for members
 * when CALLER is named in member_callers, and for a user rollcall does not
 * know (the login says so, at the cost of a known one).  Otherwise
 * RC_ERR_PERM, audited from ORIGIN.  Names are resolved (NSS) before any
 * transaction; one that resolves into id_min..id_max (a rollcall user)
 * counts for no one. */
int rc_caller_may_verify(rc_store *s, const char *origin, uid_t caller,
                         const char *user);
/* The helper's allowance per calling uid: at most caller_failures
 * (rollcall.conf) requests of CALLER in a minute that did not end in a
 * yes.  rc_caller_claim with COUNT counts a request before it is checked,
 * as the lockout counts attempts, so that requests run side by side cannot
 * pass the limit (for what is slow to check: passwords); without COUNT it
 * only looks, and rc_caller_count counts a request that did not end in a
 * yes afterwards (for what is cheap: tokens, account requests).  RC_OK;
 * RC_ERR_LOCKED, over the allowance: refused and audited.
 * rc_caller_release gives a counted request's count back after a yes.
 * Root is never counted. */
int rc_caller_claim(rc_store *s, const char *origin, uid_t caller, int count);
void rc_caller_release(rc_store *s, uid_t caller);
void rc_caller_count(rc_store *s, uid_t caller);
/* Spend what a login of a user rollcall does not know costs with SECRET
 * (FLAGS as for rc_login_begin), recording nothing of anyone: for a
 * refusal that must not be told apart from an unknown user by its time. */
void rc_login_spend(rc_store *s, const char *secret, unsigned flags);
/* A member changes its own password (the tool's passwd). */
int rc_member_passwd(rc_store *s, const rc_actor *a, const char *old,
                     const char *newpw);

/* ---- mail: the messages that carry invitation and reset codes ------------ */
/* Each kind has a template: MAIL_TEMPLATE_DIR/<file> when mail_template_dir
 * is set and that file exists, else the built-in one.  A template is a
 * "Subject: ..." line, an empty line and the body, UTF-8; {placeholder}s
 * are replaced (rc_mail_placeholders), "{{" is a literal "{". */
enum { RC_MAIL_INVITATION = 0, RC_MAIL_RESEND, RC_MAIL_RESET, RC_MAIL_KINDS };
const char *rc_mail_template_file(int kind);     /* "invitation.txt", ... */
const char *rc_mail_builtin_template(int kind);
extern const char *const rc_mail_placeholders[]; /* NULL-terminated */
typedef struct rc_mail_template rc_mail_template;
/* Load and check the template of KIND: an error names file:line. */
int rc_mail_template_load(const rc_config *cfg, int kind, rc_mail_template **out);
void rc_mail_template_free(rc_mail_template *t);
const char *rc_mail_template_text(const rc_mail_template *t);
const char *rc_mail_template_source(const rc_mail_template *t); /* file or "built-in ..." */
int rc_mail_kind_parse(const char *name, int *kind);   /* "invitation", "resend", "reset" */
typedef struct rc_mail_info {
	const rc_code_result *code;
	const char *inviter_name;  /* the member who sends it; NULL: root */
	const char *inviter_email;
	int64_t now;
} rc_mail_info;
/* The whole message, headers and body, lines ending in LF, in *out (free
 * with rc_mail_free, which wipes it: it holds the code). */
int rc_mail_compose(const rc_config *cfg, const rc_mail_template *t,
                    const rc_mail_info *info, char **out, size_t *len);
void rc_mail_free(char *msg, size_t len);
/* This host's name (gethostname), for defaults. */
void rc_host_name(char *buf, size_t len);

/* ---- notifications: email addresses subscribed to events ------------------ */
/* A change records a notice (an outbox record) in its own write transaction;
 * the mail goes after the commit, by the front end (rc_notice_take).  A
 * login only records; "rollcall notification send" delivers what logins
 * queued. */
enum {
	RC_EV_INVITATION_ACCEPTED = 1u << 0,
	RC_EV_INVITATION_EXPIRED  = 1u << 1,
	RC_EV_MEMBER_LOCKED       = 1u << 2,
	RC_EV_MFA_DISABLED        = 1u << 3,   /* disabled or reset */
	RC_EV_ROLE_CHANGED        = 1u << 4,   /* to or from owner or admin */
	RC_EV_TOKEN_CREATED       = 1u << 5,
	RC_EV_MEMBER_DELETED      = 1u << 6,
	RC_EV_ALL                 = (1u << 7) - 1
};
#define RC_EV_COUNT 7
const char *rc_event_name(unsigned index);            /* index < RC_EV_COUNT */
/* "role-changed,member-locked" or "all"; unknown names are RC_ERR_INVALID. */
int rc_events_parse(const char *list, uint32_t *mask);
void rc_events_format(uint32_t mask, char *buf, size_t len);

typedef struct rc_notification {
	char email[RC_EMAIL_MAX + 1];
	uint32_t events;
	int64_t created;
	char creator[RC_NAME_MAX + 16];
} rc_notification;
typedef int (*rc_notification_cb)(const rc_notification *n, void *ctx);
/* All need the notifications permission. */
int rc_notification_foreach(rc_store *s, const rc_actor *a,
                            rc_notification_cb cb, void *ctx);
int rc_notification_create(rc_store *s, const rc_actor *a, const char *email,
                           uint32_t events);
int rc_notification_update(rc_store *s, const rc_actor *a, const char *email,
                           uint32_t events);
int rc_notification_delete(rc_store *s, const rc_actor *a, const char *email);

#define RC_NOTICE_ID_MAX 40
typedef struct rc_notice {
	char id[RC_NOTICE_ID_MAX];
	int event;                 /* index: rc_event_name(event) */
	int64_t time;
	char actor[RC_NAME_MAX + 16];
	char target[RC_EMAIL_MAX + RC_NAME_MAX + 4];
	char detail[96];
	char origin[64];
	/* the subscribed addresses when taken */
	size_t nrcpt;
	char (*rcpt)[RC_EMAIL_MAX + 1];
} rc_notice;
/* Take queued notices out of the outbox (one write transaction), with
 * their recipients: ALL (root or the notifications permission) takes every
 * one, else only those the changes of this handle queued.  Free with
 * rc_notices_free. */
int rc_notice_take(rc_store *s, const rc_actor *a, int all, rc_notice **out,
                   size_t *n);
void rc_notices_free(rc_notice *list, size_t n);
/* The mail of notice N to TO: headers and body, lines ending in LF; free(). */
int rc_notice_compose(const rc_config *cfg, const rc_notice *n, const char *to,
                      int64_t now, char **out, size_t *len);
/* Audit a delivery: RESULT "ok" or "failed: ...". */
int rc_notice_audit(rc_store *s, const rc_actor *a, const rc_notice *n,
                    const char *to, const char *result);

/* ---- parsing and validation (pure functions) ---------------------------- */
int rc_duration_parse(const char *text, int64_t *seconds);
void rc_duration_format(int64_t seconds, char *buf, size_t len);
int rc_uint_parse(const char *text, uint64_t min, uint64_t max, uint64_t *out);
int rc_valid_username(const char *name);        /* RC_OK or RC_ERR_INVALID */
int rc_valid_email(const char *email);
int rc_valid_full_name(const char *name);
bool rc_utf8_valid(const char *s, size_t n);   /* N bytes of S are UTF-8 */
int rc_valid_role_name(const char *name);
int rc_valid_service_name(const char *name);
int rc_valid_svcuser_name(const char *name);
int rc_valid_svcuser_password(const char *pw);
/* Does TEXT start like a token (RC_TOKEN_PREFIX)?  A secret so shaped is
 * taken for a token at login: no password may start so, and the tool takes
 * no such argument (a token is a secret; the command line is public). */
int rc_looks_like_token(const char *text);  /* 1 or 0 */
void rc_time_format(int64_t t, char *buf, size_t len);   /* ISO 8601 UTC */

#ifdef __cplusplus
}
#endif
#endif
