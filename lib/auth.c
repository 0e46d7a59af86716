/*
 * auth.c - the rules of a login, for the PAM module (and the tool's passwd).
 *
 * A login is: the first factor (password, token, or a pending or reset
 * member's code), then for a member with two-factor authentication a TOTP or
 * recovery code, or enrollment when two-factor is required.  The account
 * checks and the password change follow.
 *
 * Costs: every first factor that is not a token costs exactly one argon2id
 * verification, real or dummy, so an unknown user, a member with a code and
 * a member with a password take the same time.  Hashing never happens inside
 * a write transaction (it would stall every other writer): records are read,
 * the hash checked, then the outcome written in a short write transaction
 * that re-reads the record (so concurrent failures are all counted).
 *
 * Writes: a failure (counted toward the lockout) and every outcome of a
 * password, code or TOTP login are audited in a synced commit.  A token login
 * writes only when the token was last written a minute ago or more (last use,
 * sliding expiry, last active and the audit record together), so a busy
 * token does not cost a commit per use; the PAM module logs every use to
 * syslog.
 *
 * A login writes host state only (hoststate.c: failures, lock, last active,
 * TOTP step, recovery codes used, a token's use) and the audit log, never
 * membership: a password hashed at older argon2id limits is not hashed
 * again at login (the next password change hashes at the current limits).
 * The password change that follows a code login, and enrollment, are
 * self-service changes of membership.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sodium.h>
#include "errors.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "crypto.h"
#include "actor.h"
#include "member.h"
#include "role.h"
#include "service.h"
#include "settings.h"
#include "notify.h"
#include "token.h"
#include "hoststate.h"
#include "totp.h"
#include "totpclaim.h"
#include "auth.h"

RC_API const char *rc_via_name(int via)
{
	switch (via) {
	case RC_VIA_PASSWORD: return "password";
	case RC_VIA_TOKEN: return "token";
	case RC_VIA_INVITATION: return "invitation code";
	case RC_VIA_RESET: return "reset code";
	case RC_VIA_TOTP: return "password and TOTP";
	case RC_VIA_RECOVERY: return "password and recovery code";
	}
	return "none";
}

RC_API void rc_login_clear(rc_login *l)
{
	sodium_memzero(l, sizeof(*l));
}

/* What a login needs to know of a user, read in one read transaction. */
typedef struct who {
	int kind;
	rc_member_rec m;
	rc_svcuser_rec u;
	rc_service svc;
	rc_role role;
	rc_invitation inv;
	bool has_inv;
	int64_t attempts, duration, ops, mem_kib;
	bool mfa_required;
} who;

static void who_clear(who *w)
{
	sodium_memzero(w, sizeof(*w));
}

static int who_read(rc_txn *t, const char *user, bool valid_name, who *w)
{
	char mfa[16];
	int rc = rc_lockout_settings(t, &w->attempts, &w->duration);

	if (!rc)
		rc = rc_setting_int(t, "argon2.opslimit", &w->ops);
	if (!rc)
		rc = rc_setting_int(t, "argon2.memlimit_kib", &w->mem_kib);
	if (!rc)
		rc = rc_setting_str(t, "mfa", mfa, sizeof(mfa));
	if (rc)
		return rc;
	w->mfa_required = strcmp(mfa, "required") == 0;
	if (!valid_name)
		return RC_OK;
	rc = rc_member_load(t, user, &w->m);
	if (!rc) {
		w->kind = RC_KIND_MEMBER;
		rc = rc_role_load(t, w->m.role, &w->role);
		if (!rc && w->m.status == RC_MEMBER_PENDING &&
		    rc_invitation_load(t, user, &w->inv) == RC_OK)
			w->has_inv = true;
		return rc;
	}
	if (rc != RC_ERR_NOTFOUND)
		return rc;
	rc = rc_svcuser_load(t, user, &w->u);
	if (!rc) {
		w->kind = RC_KIND_SVCUSER;
		return rc_service_load(t, w->u.pub.service, &w->svc);
	}
	return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
}

static bool name_plausible(const char *user)
{
	return strnlen(user, RC_NAME_MAX + 1) <= RC_NAME_MAX &&
	       (rc_valid_username(user) == RC_OK || rc_valid_svcuser_name(user) == RC_OK);
}

static int who_load(rc_store *s, const char *user, who *w)
{
	rc_actor root = { .uid = 0, .origin = "pam" };
	rc_txn t;
	bool valid = name_plausible(user);
	int rc;

	memset(w, 0, sizeof(*w));
	if ((rc = rc_txn_begin(s, &root, false, &t)) != 0)
		return rc;
	rc = who_read(&t, user, valid, w);
	return rc_txn_end(&t, rc);
}

/* A write transaction acting as USER from ORIGIN (PAM runs as root). */
static int begin_as(rc_store *s, const char *origin, const char *user, rc_txn *t)
{
	rc_actor root = { .uid = 0 };
	int rc;

	snprintf(root.origin, sizeof(root.origin), "%s", origin);
	rc = rc_txn_begin(s, &root, true, t);
	if (!rc)
		snprintf(t->actor_name, sizeof(t->actor_name), "%s", user);
	return rc;
}

/* Reload the user's record inside T (kind known). */
static int reload(rc_txn *t, const char *user, int kind, rc_member_rec *m, rc_svcuser_rec *u)
{
	return kind == RC_KIND_MEMBER ? rc_member_load(t, user, m) : rc_svcuser_load(t, user, u);
}

/* Write back the user's host state (a login's only write). */
static int restore(rc_txn *t, int kind, const rc_member_rec *m, const rc_svcuser_rec *u)
{
	return kind == RC_KIND_MEMBER ? rc_host_member_store(t, m) : rc_host_svcuser_store(t, u);
}

static uint32_t *failed_of(int kind, rc_member_rec *m, rc_svcuser_rec *u)
{
	return kind == RC_KIND_MEMBER ? &m->failed : &u->pub.failed;
}

static int64_t *lock_of(int kind, rc_member_rec *m, rc_svcuser_rec *u)
{
	return kind == RC_KIND_MEMBER ? &m->lock_until : &u->pub.lock_until;
}

static int64_t *failed_at_of(int kind, rc_member_rec *m, rc_svcuser_rec *u)
{
	return kind == RC_KIND_MEMBER ? &m->failed_at : &u->pub.failed_at;
}

/* Before counting: a lock that ran out, or attempts older than
 * lockout.duration (pam_faillock's fail_interval: attempts of processes
 * killed on the way, or failures long ago), start the count over. */
static void count_age(uint32_t *failed, int64_t *at, int64_t *lock, int64_t duration,
                      int64_t now)
{
	if (*lock && *lock <= now) {
		*lock = 0;
		*failed = 0;
	}
	if (!*lock && *failed && *at && *at + duration <= now)
		*failed = 0;
}

/* The lockout's settings: how many failures lock (0: none) and for how
 * long. */
int rc_lockout_settings(rc_txn *t, int64_t *attempts, int64_t *duration)
{
	int rc = rc_setting_int(t, "lockout.attempts", attempts);

	return rc ? rc : rc_setting_int(t, "lockout.duration", duration);
}

/* Count a failed guess (a password, a TOTP or recovery code) toward the
 * lockout, in the caller's transaction: the count ages first (count_age),
 * and the failure that reaches lockout.attempts sets the lock.  COUNTED:
 * claim_attempt counted the attempt before it was checked, so only a lock
 * that ran out starts the count over.  True when this failure locked. */
bool rc_lockout_fail(uint32_t *failed, int64_t *at, int64_t *lock, int64_t attempts,
                     int64_t duration, int64_t now, bool counted)
{
	if (!counted)
		count_age(failed, at, lock, duration, now);
	else if (*lock && *lock <= now) {   /* a lock that ran out: start over */
		*lock = 0;
		*failed = 0;
	}
	if ((!counted || !*failed) && *failed < UINT32_MAX)
		(*failed)++;
	*at = now;
	if (attempts > 0 && *failed >= (uint64_t)attempts && !*lock) {
		*lock = now + duration;
		return true;
	}
	return false;
}

static void locked_message(const char *user, int64_t until, char *why, size_t len)
{
	char when[32];

	rc_time_format(until, when, sizeof(when));
	snprintf(why, len, "%s is locked after too many failed logins, until %s", user, when);
}

/* Count an attempt at a guessable factor (password, code) before it is
 * checked: the argon2id verification runs outside any transaction, so
 * concurrent guesses would all be checked before the first failure was
 * counted.  Counted first (pam_faillock's preauth), at most
 * lockout.attempts attempts since the last success are ever checked: the
 * one that finds the allowance used up (by failures, or by attempts still
 * in flight or killed on the way) locks the account and is refused, and a
 * success that finds a lock set meanwhile is refused too (record_success).
 * RC_OK: counted, go on; RC_ERR_LOCKED: refused and audited. */
static int claim_attempt(rc_store *s, const char *origin, const char *user, int kind,
                         int64_t attempts, int64_t duration)
{
	rc_member_rec m;
	rc_svcuser_rec u;
	rc_txn t;
	int64_t now = rc_store_now(s);
	char why[160];
	int rc, refused = RC_OK;

	if (attempts <= 0)
		return RC_OK;   /* no lockout: nothing to count */
	memset(&m, 0, sizeof(m));
	memset(&u, 0, sizeof(u));
	if ((rc = begin_as(s, origin, user, &t)) != 0)
		return rc;
	rc = reload(&t, user, kind, &m, &u);
	if (!rc) {
		uint32_t *failed = failed_of(kind, &m, &u);
		int64_t *lock = lock_of(kind, &m, &u), *at = failed_at_of(kind, &m, &u);
		count_age(failed, at, lock, duration, now);
		bool was_locked = *lock != 0, changed = true;
		if (!*lock && *failed >= (uint64_t)attempts)
			*lock = now + duration;
		if (*lock) {
			locked_message(user, *lock, why, sizeof(why));
			rc_txn_audit(&t, "login", user);
			snprintf(t.detail, sizeof(t.detail), "refused: %.80s", why);
			/* an account locked already: nothing changes, and the
			 * refusal is counted with the aggregated ones (a flood of
			 * them never pushes a change out of the log) */
			t.aggregate = was_locked;
			changed = !was_locked;
			refused = RC_ERR_LOCKED;
		} else {
			(*failed)++;
			*at = now;
		}
		if (changed)
			rc = restore(&t, kind, &m, &u);
	}
	rc = rc_txn_end(&t, rc);
	sodium_memzero(&m, sizeof(m));
	sodium_memzero(&u, sizeof(u));
	if (!rc && refused)
		return rc_fail(refused, "%s", why);
	return rc;
}

/* What claim_attempt writes, for a user rollcall does not know: a counter
 * (host state), so that an unknown user's attempt costs the commits a
 * known one's does. */
static int claim_unknown(rc_store *s, int64_t attempts)
{
	rc_actor root = { .uid = 0, .origin = "pam" };
	rc_txn t;
	int rc;

	if (attempts <= 0)
		return RC_OK;
	if ((rc = rc_txn_begin(s, &root, true, &t)) != 0)
		return rc;
	rc = rc_host_counter_bump(&t, "@unknown_logins");
	return rc_txn_end(&t, rc);
}

/* Count a failure toward the lockout and audit it (COUNTED: the attempt
 * was counted by claim_attempt before it was checked; only the lock is
 * set here).  Returns ERR with the message WHY (whatever happens to the
 * write, the login fails). */
static int record_failure_as(rc_store *s, const char *origin, const char *user, int kind,
                             const char *action, int err, const char *why, bool counted)
{
	char msg[256];
	rc_member_rec m;
	rc_svcuser_rec u;
	rc_txn t;
	int64_t attempts, duration, now = rc_store_now(s);
	int rc;

	snprintf(msg, sizeof(msg), "%s", why);
	if (begin_as(s, origin, user, &t) != RC_OK)
		return rc_fail(err, "%s", msg);
	rc_txn_audit(&t, action, user);
	rc = rc_lockout_settings(&t, &attempts, &duration);
	if (!rc)
		rc = reload(&t, user, kind, &m, &u);
	if (!rc) {
		snprintf(t.detail, sizeof(t.detail), "failed: %.60s", msg);
		if (rc_lockout_fail(failed_of(kind, &m, &u), failed_at_of(kind, &m, &u),
		                    lock_of(kind, &m, &u), attempts, duration, now, counted)) {
			snprintf(t.detail, sizeof(t.detail), "failed: %.50s; locked", msg);
			/* queued only: "rollcall notification send" mails it */
			(void)rc_notice_queue(&t, RC_EV_MEMBER_LOCKED, user, "too many failed logins");
		}
		rc = restore(&t, kind, &m, &u);
	}
	(void)rc_txn_end(&t, rc);
	sodium_memzero(&m, sizeof(m));
	sodium_memzero(&u, sizeof(u));
	return rc_fail(err, "%s", msg);
}

static int record_failure(rc_store *s, const char *origin, const char *user, int kind,
                          const char *action, int err, const char *why)
{
	return record_failure_as(s, origin, user, kind, action, err, why, false);
}

/* Audit a refusal that is not counted (locked, inactive, ...). */
static int record_outcome(rc_store *s, const char *origin, const char *user,
                          const char *action, int err, const char *result, const char *why)
{
	char msg[256];
	rc_txn t;

	snprintf(msg, sizeof(msg), "%s", why);
	if (begin_as(s, origin, user, &t) == RC_OK) {
		rc_txn_audit(&t, action, user);
		snprintf(t.detail, sizeof(t.detail), "%s: %.80s", result, msg);
		/* a refusal changed nothing (an unknown user, a locked or refused
		 * account): counted with the aggregated refusals, so that a flood
		 * of these never pushes a change out of the log */
		t.aggregate = strcmp(result, "refused") == 0;
		(void)rc_txn_end(&t, RC_OK);
	}
	return rc_fail(err, "%s", msg);
}

static int record_refusal(rc_store *s, const char *origin, const char *user,
                          const char *action, int err, const char *why)
{
	return record_outcome(s, origin, user, action, err, "refused", why);
}

/* A user rollcall does not know: audited without the name (it may be a
 * password typed as one), which also makes the failure cost a commit, as a
 * known user's does. */
static int refuse_unknown(rc_store *s, const char *origin)
{
	return record_refusal(s, origin, "(unknown)", "login", RC_ERR_NOTFOUND,
	                      "not a rollcall user");
}

/* A completed login: reset the failures, record last active and the
 * token's use, audit. */
static int record_success(rc_store *s, rc_login *l, const rc_token_rec *touch)
{
	rc_member_rec m;
	rc_svcuser_rec u;
	rc_txn t;
	int64_t now = rc_store_now(s);
	int rc = begin_as(s, l->origin, l->user, &t);

	if (rc)
		return rc;
	rc_txn_audit(&t, "login", l->user);
	snprintf(t.detail, sizeof(t.detail), "ok via %s", rc_via_name(l->via));
	rc = reload(&t, l->user, l->kind, &m, &u);
	if (!rc && l->via != RC_VIA_TOKEN && *lock_of(l->kind, &m, &u) > now) {
		/* locked by attempts that failed while this one was checked:
		 * refused, whatever it was (a success never clears such a lock) */
		char why[160];
		locked_message(l->user, *lock_of(l->kind, &m, &u), why, sizeof(why));
		snprintf(t.detail, sizeof(t.detail), "refused: %.80s", why);
		t.aggregate = true;
		sodium_memzero(&m, sizeof(m));
		sodium_memzero(&u, sizeof(u));
		rc = rc_txn_end(&t, RC_OK);
		return rc ? rc : rc_fail(RC_ERR_LOCKED, "%s", why);
	}
	if (!rc && l->via == RC_VIA_TOKEN) {
		/* a token is not guessed: its use neither depends on nor clears
		 * the lockout of the password and codes */
		if (l->kind == RC_KIND_MEMBER)
			m.last_active = now;
	} else if (!rc && l->kind == RC_KIND_MEMBER) {
		m.failed = 0;
		m.lock_until = 0;
		m.last_active = now;
	} else if (!rc) {
		u.pub.failed = 0;
		u.pub.lock_until = 0;
	}
	if (!rc)
		rc = restore(&t, l->kind, &m, &u);
	if (!rc && touch)
		rc = rc_token_touch(&t, touch);
	sodium_memzero(&m, sizeof(m));
	sodium_memzero(&u, sizeof(u));
	return rc_txn_end(&t, rc);
}

/* Compare a code with a stored hash: 1 when it matches. */
/* The keyed hash of a code as typed; false when it is no code at all. */
static bool code_hash_of(const rc_store *s, const char *code, uint8_t h[32])
{
	char norm[21];

	if (rc_code_normalize_len(code, norm, 20) != RC_OK)
		return false;
	rc_code_hash(s, norm, h);
	sodium_memzero(norm, sizeof(norm));
	return true;
}

static bool code_matches(const rc_store *s, const char *code, const uint8_t hash[32])
{
	uint8_t h[32];
	bool ok = code_hash_of(s, code, h) && sodium_memcmp(h, hash, 32) == 0;

	sodium_memzero(h, sizeof(h));
	return ok;
}

static bool is_locked(const who *w, int64_t now)
{
	int64_t lock = w->kind == RC_KIND_MEMBER ? w->m.lock_until : w->u.pub.lock_until;
	return lock > now;
}

/* The first factor passed and a second one is asked for: this attempt
 * was no failed guess, so its count is given back, unless a lock was set
 * meanwhile. */
static int first_factor_passed(rc_store *s, rc_login *l)
{
	rc_member_rec m;
	rc_txn t;
	int64_t now = rc_store_now(s);
	int rc = begin_as(s, l->origin, l->user, &t);

	if (rc)
		return rc;
	rc = rc_member_load(&t, l->user, &m);
	if (!rc && m.lock_until > now) {
		char why[160];
		locked_message(l->user, m.lock_until, why, sizeof(why));
		rc_txn_audit(&t, "login", l->user);
		snprintf(t.detail, sizeof(t.detail), "refused: %.80s", why);
		t.aggregate = true;
		sodium_memzero(&m, sizeof(m));
		rc = rc_txn_end(&t, RC_OK);
		return rc ? rc : rc_fail(RC_ERR_LOCKED, "%s", why);
	}
	if (!rc && m.failed)
		m.failed--;
	if (!rc)
		rc = rc_host_member_store(&t, &m);
	sodium_memzero(&m, sizeof(m));
	return rc_txn_end(&t, rc);
}

/* A token as the password: BLAKE2b only; a token is not guessed (280
 * random bits), so neither counted first nor refused by a password
 * lockout.  RC_OK: good (*TOK and *TOUCH for its use). */
static int begin_token(rc_store *s, rc_login *l, const who *w, const char *secret,
                       rc_token_rec *tok, bool *touch)
{
	rc_actor root = { .uid = 0, .origin = "pam" };
	rc_txn t;
	bool ok = false;
	int rc;

	if (w->kind && (rc = rc_txn_begin(s, &root, false, &t)) == RC_OK) {
		rc = rc_token_verify(&t, w->kind == RC_KIND_MEMBER ? w->m.uid : w->u.pub.uid, secret,
		                     tok, touch);
		(void)rc_txn_end(&t, RC_OK);
		ok = rc == RC_OK;
		if (rc && rc != RC_ERR_AUTH)
			return rc;
	}
	l->via = RC_VIA_TOKEN;
	if (!w->kind)
		return refuse_unknown(s, l->origin);
	if (!ok) {
		/* audited, not counted toward the lockout, which protects what
		 * can be guessed (and a valid token ignores) */
		char why[200];
		snprintf(why, sizeof(why), "%s", rc_errmsg());
		return record_outcome(s, l->origin, l->user, "login", RC_ERR_AUTH, "failed", why);
	}
	return RC_OK;
}

/* Count the attempt before the argon2id verification (claim_attempt); an
 * unknown user's attempt writes as much.  RC_ERR_LOCKED after as long as a
 * verification takes. */
static int count_attempt(rc_store *s, const rc_login *l, const who *w, const char *secret,
                         int64_t now)
{
	int rc;

	if (w->kind && w->attempts <= 0 && is_locked(w, now)) {
		/* locked before lockout was turned off: until it runs out */
		char why[160];
		locked_message(l->user, w->kind == RC_KIND_MEMBER ? w->m.lock_until
		                                                  : w->u.pub.lock_until,
		               why, sizeof(why));
		rc = record_refusal(s, l->origin, l->user, "login", RC_ERR_LOCKED, why);
	} else {
		rc = w->kind ? claim_attempt(s, l->origin, l->user, w->kind, w->attempts, w->duration)
		             : claim_unknown(s, w->attempts);
	}
	if (rc == RC_ERR_LOCKED) {
		char keep[200];
		snprintf(keep, sizeof(keep), "%s", rc_errmsg());
		rc_password_dummy_verify((unsigned long long)w->ops, (size_t)w->mem_kib * 1024,
		                         secret);
		rc_fail(RC_ERR_LOCKED, "%s", keep);
	}
	return rc;
}

/* A password, or a pending or reset member's code: counted first, and one
 * argon2id verification, real or dummy, whatever the secret turns out to
 * be.  RC_OK: good (l->via says which). */
static int begin_secret(rc_store *s, rc_login *l, const who *w, const char *secret,
                        int64_t now)
{
	const char *hash = w->kind == RC_KIND_MEMBER ? w->m.pwhash : w->u.pwhash;
	bool ok = false;
	int rc = count_attempt(s, l, w, secret, now);

	if (rc)
		return rc;
	if (w->kind == RC_KIND_MEMBER && w->has_inv && code_matches(s, secret, w->inv.code_hash)) {
		l->via = RC_VIA_INVITATION;
		ok = w->inv.state == RC_INV_PENDING && now < w->inv.expires;
		rc_fail(RC_ERR_AUTH, "this invitation code is %s",
		        rc_invitation_state_name(w->inv.state));
	} else if (w->kind == RC_KIND_MEMBER && w->m.reset_expires &&
	           code_matches(s, secret, w->m.reset_hash)) {
		l->via = RC_VIA_RESET;
		ok = now < w->m.reset_expires;
		rc_fail(RC_ERR_AUTH, "this reset code has expired");
	}
	if (l->via || !hash || !hash[0] || !w->kind) {
		rc_password_dummy_verify((unsigned long long)w->ops, (size_t)w->mem_kib * 1024,
		                         secret);
		if (!l->via)
			rc_fail(RC_ERR_AUTH, "wrong password");
	} else {
		l->via = RC_VIA_PASSWORD;
		ok = rc_password_verify(hash, secret);
		rc_fail(RC_ERR_AUTH, "wrong password");
	}
	if (!w->kind)
		return refuse_unknown(s, l->origin);
	if (!ok) {
		char why[200];
		snprintf(why, sizeof(why), "%s", rc_errmsg());
		return record_failure_as(s, l->origin, l->user, w->kind, "login", RC_ERR_AUTH, why,
		                         w->attempts > 0);
	}
	return RC_OK;
}

/* After a password: what the member's login still needs, a TOTP code, or
 * enrollment when two-factor authentication is required (by the settings
 * or the PAM line) and not set up. */
static void second_factor(rc_login *l, const who *w, unsigned flags)
{
	bool required = (w->mfa_required || (flags & RC_LOGIN_MFA_REQUIRED)) &&
	                !(flags & RC_LOGIN_MFA_OPTIONAL);

	if (l->via != RC_VIA_PASSWORD || w->kind != RC_KIND_MEMBER)
		return;
	l->need_totp = w->m.totp_enabled;
	l->need_enroll = !w->m.totp_enabled && required;
}

/* rc_login_begin's end: a failed login keeps nothing (no code, no step
 * pending) and its message. */
static int begin_end(rc_login *l, int rc)
{
	char keep[512];

	if (rc == RC_OK) {
		rc_fail(RC_OK, "authenticated");
		return rc;
	}
	snprintf(keep, sizeof(keep), "%s", rc_errmsg());
	l->done = l->need_totp = l->need_enroll = 0;
	sodium_memzero(l->code, sizeof(l->code));
	return rc_fail(rc, "%s", keep);
}

RC_API int rc_login_begin(rc_store *s, rc_login *l, const char *origin, const char *user,
                          const char *secret, unsigned flags)
{
	who w;
	rc_token_rec tok;
	bool touch = false;
	int64_t now = rc_store_now(s);
	int rc;

	memset(l, 0, sizeof(*l));
	memset(&tok, 0, sizeof(tok));
	snprintf(l->origin, sizeof(l->origin), "%s", origin ? origin : "pam");
	if (!user || !secret)
		return rc_fail(RC_ERR_INVALID, "no user or no password");
	snprintf(l->user, sizeof(l->user), "%s", user);
	if ((rc = who_load(s, user, &w)) != RC_OK)
		goto out;
	l->kind = w.kind;
	if (strnlen(secret, RC_PASSWORD_MAX + 1) > RC_PASSWORD_MAX)   /* refused unhashed */
		rc = w.kind ? record_failure(s, l->origin, user, w.kind, "login", RC_ERR_AUTH,
		                             "password longer than 1024 bytes")
		            : rc_fail(RC_ERR_NOTFOUND, "not a rollcall user");
	else if (!(flags & RC_LOGIN_NO_TOKENS) && rc_looks_like_token(secret))
		rc = begin_token(s, l, &w, secret, &tok, &touch);
	else
		rc = begin_secret(s, l, &w, secret, now);
	if (rc)
		goto out;
	if (l->via == RC_VIA_INVITATION || l->via == RC_VIA_RESET)
		snprintf(l->code, sizeof(l->code), "%s", secret);
	if (l->via == RC_VIA_TOKEN)
		snprintf(l->token_id, sizeof(l->token_id), "%s", tok.pub.id);
	second_factor(l, &w, flags);
	if (l->need_totp || l->need_enroll) {
		/* the password was right: its count given back; wait for the
		 * second factor */
		rc = w.attempts > 0 ? first_factor_passed(s, l) : RC_OK;
		goto out;
	}
	l->done = 1;
	/* a token used within the minute: nothing to write */
	rc = l->via == RC_VIA_TOKEN && !touch ? RC_OK : record_success(s, l, touch ? &tok : NULL);
out:
	sodium_memzero(&tok, sizeof(tok));
	who_clear(&w);
	return begin_end(l, rc);
}

/* A wrong TOTP or recovery code in a login: counted toward the lockout,
 * the lock it sets queued for notification send; host state only. */
static int totp_failed(rc_txn *t, const rc_login *l, rc_member_rec *m, const char *why,
                       int64_t attempts, int64_t duration, int64_t now)
{
	snprintf(t->detail, sizeof(t->detail), "failed: %.60s", why);
	if (rc_lockout_fail(&m->failed, &m->failed_at, &m->lock_until, attempts, duration, now,
	                    false)) {
		snprintf(t->detail, sizeof(t->detail), "failed: %.50s; locked", why);
		(void)rc_notice_queue(t, RC_EV_MEMBER_LOCKED, l->user,
		                      "too many failed two-factor codes");
	}
	return rc_host_member_store(t, m);
}

/* A second factor's transaction for L (an open write transaction on
 * success, with the lockout settings and the member loaded; on failure T
 * may be open: rc_txn_end it). */
static int totp_begin(rc_store *s, const rc_login *l, rc_txn *t, rc_member_rec *m,
                      int64_t *attempts, int64_t *duration)
{
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = begin_as(s, l->origin, l->user, t)) != 0)
		return rc;
	rc_txn_audit(t, "login", l->user);
	rc = rc_lockout_settings(t, attempts, duration);
	if (!rc)
		rc = rc_member_load(t, l->user, m);
	return rc;
}

/* On a host in a fleet, the step a TOTP code belongs to is claimed in the
 * directory once this host accepted it (rollcalld: one compare-and-swap,
 * no transaction open here): a code another host accepted first is
 * refused, and counted as a failure.  rollcalld or the directory not
 * answering in time: accepted (single use on this host only). */
static int totp_claim(rc_store *s, const rc_login *l, uint32_t uid, int64_t step)
{
	rc_member_rec m;
	rc_txn t;
	int64_t attempts, duration, now = rc_store_now(s);
	char why[80];
	int rc;

	if (rc_totp_claim(s->cfg.state_dir, uid, step, RC_TOTP_CLAIM_TIMEOUT_MS) != RC_CLAIM_LOST)
		return RC_OK;
	snprintf(why, sizeof(why), "the code was already used on another host");
	if ((rc = totp_begin(s, l, &t, &m, &attempts, &duration)) == RC_OK)
		rc = totp_failed(&t, l, &m, why, attempts, duration, now);
	else if (!rc_txn_open(&t)) {
		sodium_memzero(&m, sizeof(m));
		return rc;
	}
	sodium_memzero(&m, sizeof(m));
	rc = rc_txn_end(&t, rc);
	return rc ? rc : rc_fail(RC_ERR_AUTH, "%s", why);
}

/* The second factor is checked inside the write transaction that records
 * its outcome (liboath and BLAKE2b only: microseconds, nothing that
 * waits), so that a TOTP step or a recovery code is accepted once even by
 * logins that run at the same time, and every failure is counted before
 * the next code is checked. */
RC_API int rc_login_totp(rc_store *s, rc_login *l, const char *code)
{
	rc_member_rec m;
	rc_txn t;
	int64_t attempts, duration, now = rc_store_now(s);
	char why[200];
	int via = 0, rc, err = RC_OK;
	uint32_t uid = 0;
	int64_t step = 0;

	if (!l->need_totp)
		return rc_fail(RC_ERR_STATE, "this login does not need a verification code");
	if (l->kind != RC_KIND_MEMBER || !l->via)
		return rc_fail(RC_ERR_STATE, "no first factor passed in this login");
	if ((rc = totp_begin(s, l, &t, &m, &attempts, &duration)) != RC_OK && !rc_txn_open(&t))
		return rc;
	if (rc)
		goto end;
	if (m.lock_until > now) {
		locked_message(l->user, m.lock_until, why, sizeof(why));
		snprintf(t.detail, sizeof(t.detail), "refused: %.80s", why);
		t.aggregate = true;
		err = RC_ERR_LOCKED;
		goto end;
	}
	rc = rc_totp_check(&t, &m, code ? code : "", &via);
	uid = m.uid;
	step = m.totp_last_step;
	if (rc == RC_ERR_AUTH || rc == RC_ERR_INVALID) {
		snprintf(why, sizeof(why), "%s", rc_errmsg());
		err = RC_ERR_AUTH;
		rc = totp_failed(&t, l, &m, why, attempts, duration, now);
		goto end;
	}
	if (rc)
		goto end;
	l->via = via;
	snprintf(t.detail, sizeof(t.detail), "ok via %s", rc_via_name(via));
	m.failed = 0;
	m.lock_until = 0;
	m.last_active = now;
	rc = rc_host_member_store(&t, &m);
end:
	sodium_memzero(&m, sizeof(m));
	rc = rc_txn_end(&t, rc);
	if (!rc && err)
		return rc_fail(err, "%s", why);
	if (!rc && via == RC_VIA_TOTP)
		rc = totp_claim(s, l, uid, step);
	if (!rc) {
		l->need_totp = 0;
		l->done = 1;
	}
	return rc;
}

RC_API int rc_login_enroll_begin(rc_store *s, rc_login *l, rc_mfa_enrollment *out)
{
	rc_member_rec m;
	rc_txn t;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!l->need_enroll)
		return rc_fail(RC_ERR_STATE, "this login does not need enrollment");
	if ((rc = begin_as(s, l->origin, l->user, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "mfa.enroll", l->user);
	return rc_totp_enroll_end(&t, &m, rc_member_load(&t, l->user, &m), out);
}

RC_API int rc_login_enroll_finish(rc_store *s, rc_login *l, const char *code)
{
	rc_member_rec m;
	rc_txn t;
	int64_t now = rc_store_now(s);
	int rc;

	if (!l->need_enroll)
		return rc_fail(RC_ERR_STATE, "this login does not need enrollment");
	if ((rc = begin_as(s, l->origin, l->user, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "login", l->user);
	rc = rc_member_load(&t, l->user, &m);
	if (!rc && m.lock_until > now) {
		/* locked by other attempts while this one enrolled */
		char why[160];
		locked_message(l->user, m.lock_until, why, sizeof(why));
		snprintf(t.detail, sizeof(t.detail), "refused: %.80s", why);
		t.aggregate = true;
		sodium_memzero(&m, sizeof(m));
		rc = rc_txn_end(&t, RC_OK);
		return rc ? rc : rc_fail(RC_ERR_LOCKED, "%s", why);
	}
	if (!rc)
		rc = rc_totp_enroll_confirm(&t, &m, code ? code : "");
	if (!rc) {
		/* two-factor enabled (self-service: membership), and the
		 * login's host state */
		m.failed = 0;
		m.lock_until = 0;
		m.last_active = now;
		rc = rc_member_put_with_host(&t, &m);
		snprintf(t.detail, sizeof(t.detail), "ok via password, two-factor enrolled");
	}
	sodium_memzero(&m, sizeof(m));
	rc = rc_txn_end(&t, rc);
	if (rc == RC_ERR_AUTH || rc == RC_ERR_INVALID) {
		char why[200];
		snprintf(why, sizeof(why), "enrollment: %s", rc_errmsg());
		return record_failure(s, l->origin, l->user, l->kind, "login", RC_ERR_AUTH, why);
	}
	if (!rc) {
		l->need_enroll = 0;
		l->via = RC_VIA_TOTP;
		l->done = 1;
	}
	return rc;
}

/* "a,b,c" contains NAME? */
static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

/* Why the account phase refuses a member (its status, the PAM line's
 * roles= and permission=), in WHY; RC_OK: admitted.  CODE_LOGIN: this
 * login gave an invitation or reset code. */
static int member_refusal(const who *w, const char *user, const rc_account_req *req,
                          bool code_login, char *why, size_t len)
{
	if (w->m.status == RC_MEMBER_INACTIVE) {
		snprintf(why, len, "%s has been deactivated: ask an administrator of the project",
		         user);
		return RC_ERR_STATE;
	}
	if (w->m.status == RC_MEMBER_PENDING && !code_login) {
		snprintf(why, len, "%s has not accepted the invitation: log in with the "
		         "invitation code first", user);
		return RC_ERR_STATE;
	}
	if (req && req->roles && req->roles[0] && !list_has(req->roles, w->m.role)) {
		snprintf(why, len, "%s's role %s is not admitted here (roles=%.100s)", user,
		         w->m.role, req->roles);
		return RC_ERR_PERM;
	}
	if (req && req->perm && (w->role.perms & req->perm) != req->perm) {
		char p[160];
		rc_perms_format(req->perm, p, sizeof(p));
		snprintf(why, len, "%s's role %s lacks the permission %s needed here", user,
		         w->m.role, p);
		return RC_ERR_PERM;
	}
	return RC_OK;
}

/* Why the account phase refuses a service user (a stopped service, a PAM
 * line for members with a role only); RC_OK: admitted. */
static int svcuser_refusal(const who *w, const char *user, const rc_account_req *req,
                           char *why, size_t len)
{
	if (w->svc.state != RC_SERVICE_RUNNING) {
		snprintf(why, len, "service \"%s\" is stopped: your service must be running "
		         "before its users can log in", w->svc.name);
		return RC_ERR_STATE;
	}
	if (req && ((req->roles && req->roles[0]) || req->perm)) {
		snprintf(why, len, "%s is a service user; this service admits members with a "
		         "role only", user);
		return RC_ERR_PERM;
	}
	return RC_OK;
}

RC_API int rc_login_account(rc_store *s, const rc_login *l, const char *origin,
                            const char *user, const rc_account_req *req, int *must_change)
{
	who w;
	char why[256] = "";
	const char *org = origin ? origin : "pam";
	bool code_login = l && l->done && strcmp(l->user, user) == 0 &&
	                  (l->via == RC_VIA_INVITATION || l->via == RC_VIA_RESET);
	bool token_login = l && l->done && strcmp(l->user, user) == 0 && l->via == RC_VIA_TOKEN;
	int64_t now = rc_store_now(s);
	int err = RC_OK, rc;

	*must_change = 0;
	rc = who_load(s, user, &w);
	if (rc)
		goto out;
	if (!w.kind) {
		rc = rc_fail(RC_ERR_NOTFOUND, "not a rollcall user");
		goto out;
	}
	if (is_locked(&w, now) && !token_login) {
		/* a password lockout does not stop the user's tokens */
		err = RC_ERR_LOCKED;
		snprintf(why, sizeof(why), "%s is locked after too many failed logins", user);
	} else if (w.kind == RC_KIND_MEMBER) {
		err = member_refusal(&w, user, req, code_login, why, sizeof(why));
		if (!err && (code_login || w.m.must_change))
			*must_change = 1;
	} else {
		err = svcuser_refusal(&w, user, req, why, sizeof(why));
	}
	if (err)
		rc = record_refusal(s, org, user, "account", err, why);
out:
	who_clear(&w);
	return rc;
}

RC_API int rc_login_chauthtok_check(rc_store *s, const rc_login *l, const char *user,
                                    int privileged, int *kind, int *need_old)
{
	who w;
	bool code_login = l && l->done && strcmp(l->user, user) == 0 &&
	                  (l->via == RC_VIA_INVITATION || l->via == RC_VIA_RESET);
	int rc = who_load(s, user, &w);

	*kind = RC_KIND_NONE;
	*need_old = 1;
	if (rc)
		goto out;
	*kind = w.kind;
	if (!w.kind)
		rc = rc_fail(RC_ERR_NOTFOUND, "not a rollcall user");
	else if (w.kind == RC_KIND_SVCUSER && w.u.pub.protected_user)
		rc = rc_fail(RC_ERR_POLICY, "%s is the protected default user of service %s: "
		             "its password is changed with \"rollcall service-user "
		             "update-password\"", user, w.u.pub.service);
	else if (w.kind == RC_KIND_MEMBER && !code_login &&
	         (w.m.status == RC_MEMBER_PENDING || (!w.m.pwhash[0] && !privileged)))
		rc = rc_fail(RC_ERR_STATE, "%s has no password yet: log in with the invitation "
		             "or reset code first", user);
	if (!rc && (code_login || privileged))
		*need_old = 0;
out:
	who_clear(&w);
	return rc;
}

/* May W's password become NEWPW?  Not a protected service user's, and
 * within the policy (a read transaction). */
static int chauthtok_allowed(rc_store *s, const who *w, const char *user, const char *newpw)
{
	rc_actor root = { .uid = 0, .origin = "pam" };
	rc_txn t;
	int rc;

	if (!w->kind)
		return rc_fail(RC_ERR_NOTFOUND, "not a rollcall user");
	if (w->kind == RC_KIND_SVCUSER && w->u.pub.protected_user)
		return rc_fail(RC_ERR_POLICY, "%s is a protected service user: its password is "
		               "changed with \"rollcall service-user update-password\"", user);
	if (strnlen(newpw, RC_PASSWORD_MAX + 1) > RC_PASSWORD_MAX)
		return rc_fail(RC_ERR_POLICY, "password is longer than %d bytes", RC_PASSWORD_MAX);
	if ((rc = rc_txn_begin(s, &root, false, &t)) != 0)
		return rc;
	rc = w->kind == RC_KIND_MEMBER ? rc_password_policy(&t, &w->m, newpw)
	                               : rc_valid_svcuser_password(newpw);
	(void)rc_txn_end(&t, RC_OK);
	return rc;
}

/* The current password OLD: a guess like a login's, counted first and
 * refused while locked; and not the new one. */
static int chauthtok_old(rc_store *s, const who *w, const char *org, const char *user,
                         const char *old, const char *newpw)
{
	const char *cur = w->kind == RC_KIND_MEMBER ? w->m.pwhash : w->u.pwhash;
	bool good;
	int rc;

	if ((rc = claim_attempt(s, org, user, w->kind, w->attempts, w->duration)) != RC_OK)
		return rc;
	if (w->attempts <= 0 && is_locked(w, rc_store_now(s)))
		return record_refusal(s, org, user, "password.change", RC_ERR_LOCKED,
		                      "locked after too many failed logins");
	if (strnlen(old, RC_PASSWORD_MAX + 1) > RC_PASSWORD_MAX) {
		good = false;
	} else if (!cur[0]) {
		rc_password_dummy_verify((unsigned long long)w->ops, (size_t)w->mem_kib * 1024, old);
		good = false;
	} else {
		good = rc_password_verify(cur, old);
	}
	if (!good)
		return record_failure_as(s, org, user, w->kind, "password.change", RC_ERR_AUTH,
		                         "the current password is wrong", w->attempts > 0);
	if (strlen(old) == strlen(newpw) && sodium_memcmp(old, newpw, strlen(old)) == 0)
		return rc_fail(RC_ERR_POLICY, "the new password is the current one");
	return RC_OK;
}

/* In T: the new password's HASH in the member's record (a code login
 * spends its code there) or the service user's (with NEWPW sealed, to be
 * shown again). */
static int chauthtok_set(rc_txn *t, const rc_login *l, bool code_login, int kind,
                         rc_member_rec *m, rc_svcuser_rec *u, const char *hash,
                         const char *newpw)
{
	int rc = RC_OK;

	if (kind == RC_KIND_SVCUSER) {
		snprintf(u->pwhash, sizeof(u->pwhash), "%s", hash);
		u->pub.failed = 0;
		u->pub.lock_until = 0;
		return rc_secret_encrypt(t->s, newpw, u->pw_enc, &u->pw_enc_len);
	}
	if (code_login) {
		/* the code spent as "rollcall member accept" spends it (the
		 * invitation's notice queued only: "rollcall notification send"
		 * mails it) */
		uint8_t ch[32];
		rc = code_hash_of(t->s, l->code, ch)
		   ? rc_code_redeem(t, m, l->via == RC_VIA_RESET, ch, hash)
		   : rc_fail(RC_ERR_STATE, "the code is no longer valid");
		sodium_memzero(ch, sizeof(ch));
		return rc;
	}
	if (m->status == RC_MEMBER_PENDING)
		return rc_fail(RC_ERR_STATE, "%s has not accepted the invitation", m->username);
	snprintf(m->pwhash, sizeof(m->pwhash), "%s", hash);
	m->must_change = 0;
	m->failed = 0;
	m->lock_until = 0;
	return RC_OK;
}

RC_API int rc_login_chauthtok(rc_store *s, rc_login *l, const char *origin, const char *user,
                              const char *old, const char *newpw)
{
	who w;
	rc_member_rec m;
	rc_svcuser_rec u;
	rc_txn t;
	char hash[RC_PWHASH_MAX] = "";
	const char *org = origin ? origin : "pam";
	bool code_login = l && l->done && strcmp(l->user, user) == 0 &&
	                  (l->via == RC_VIA_INVITATION || l->via == RC_VIA_RESET);
	size_t revoked = 0;
	int rc = who_load(s, user, &w);

	memset(&m, 0, sizeof(m));
	memset(&u, 0, sizeof(u));
	if (!rc)
		rc = chauthtok_allowed(s, &w, user, newpw);
	if (!rc && old)
		rc = chauthtok_old(s, &w, org, user, old, newpw);
	if (!rc)   /* outside any transaction */
		rc = rc_password_hash(newpw, w.ops, w.mem_kib, hash);
	if (rc || (rc = begin_as(s, org, user, &t)) != 0)
		goto out;
	rc_txn_audit(&t, "password.change", user);
	rc = reload(&t, user, w.kind, &m, &u);
	if (!rc && old && *lock_of(w.kind, &m, &u) > rc_store_now(s))
		rc = rc_fail(RC_ERR_LOCKED, "%s was locked while the current password was checked",
		             user);
	if (!rc)
		rc = chauthtok_set(&t, l, code_login, w.kind, &m, &u, hash, newpw);
	/* a self-service change: membership, and the lock it clears */
	if (!rc)
		rc = w.kind == RC_KIND_MEMBER ? rc_member_put(&t, &m) : rc_svcuser_put(&t, &u);
	if (!rc)
		rc = restore(&t, w.kind, &m, &u);
	if (!rc)
		rc = rc_tokens_revoke_owner(&t, w.kind == RC_KIND_MEMBER ? m.uid : u.pub.uid,
		                            &revoked);
	/* (a code's acceptance through PAM names the uid that presented it in
	 * its origin: "pam:su by uid 1000"; pam_rollcall's origin_of) */
	if (!rc)
		snprintf(t.detail, sizeof(t.detail), "ok password changed, tokens-revoked=%zu",
		         revoked);
	rc = rc_txn_end(&t, rc);
	if (!rc && l && code_login) {
		/* the code is spent: the rest of this login is a password login */
		l->via = RC_VIA_PASSWORD;
		sodium_memzero(l->code, sizeof(l->code));
	}
out:
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(&m, sizeof(m));
	sodium_memzero(&u, sizeof(u));
	who_clear(&w);
	return rc;
}

RC_API int rc_login_session_open(rc_store *s, const char *origin, const char *user,
                                 char token_out[RC_TOKEN_LEN + 1],
                                 char id_out[RC_TOKEN_ID_LEN + 1])
{
	rc_token info;
	rc_txn t;
	uint32_t uid = 0;
	int rc;

	token_out[0] = id_out[0] = '\0';
	if (!name_plausible(user))
		return rc_fail(RC_ERR_NOTFOUND, "not a rollcall user");
	if ((rc = begin_as(s, origin ? origin : "pam", user, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "session.open", user);
	{
		rc_member_rec m;
		rc_svcuser_rec u;
		rc = rc_member_load(&t, user, &m);
		if (!rc)
			uid = m.uid;
		if (rc == RC_ERR_NOTFOUND && (rc = rc_svcuser_load(&t, user, &u)) == RC_OK)
			uid = u.pub.uid;
		sodium_memzero(&m, sizeof(m));
		sodium_memzero(&u, sizeof(u));
	}
	if (!rc)
		rc = rc_token_issue(&t, user, uid, RC_TOKEN_LOGIN, "session", 0, 0, RC_EXT_SLIDE,
		                    &info, token_out);
	if (!rc) {
		snprintf(id_out, RC_TOKEN_ID_LEN + 1, "%s", info.id);
		snprintf(t.detail, sizeof(t.detail), "ok token=%s", info.id);
	}
	rc = rc_txn_end(&t, rc);
	if (rc) {
		sodium_memzero(token_out, RC_TOKEN_LEN + 1);
		id_out[0] = '\0';
	}
	return rc;
}

RC_API int rc_login_session_close(rc_store *s, const char *origin, const char *user,
                                  const char *id)
{
	rc_txn t;
	rc_member_rec m;
	rc_svcuser_rec u;
	uint32_t uid = 0;
	int rc;

	if ((rc = begin_as(s, origin ? origin : "pam", user, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "session.close", user);
	snprintf(t.detail, sizeof(t.detail), "ok token=%.16s revoked", id);
	/* the token of the user of this name now (a removed user's are gone) */
	rc = name_plausible(user) ? rc_member_load(&t, user, &m) : RC_ERR_NOTFOUND;
	if (!rc)
		uid = m.uid;
	if (rc == RC_ERR_NOTFOUND && name_plausible(user) &&
	    (rc = rc_svcuser_load(&t, user, &u)) == RC_OK)
		uid = u.pub.uid;
	sodium_memzero(&m, sizeof(m));
	sodium_memzero(&u, sizeof(u));
	if (!rc)
		rc = rc_token_remove(&t, uid, user, id);
	if (rc == RC_ERR_NOTFOUND) {   /* already revoked or evicted */
		snprintf(t.detail, sizeof(t.detail), "ok token=%.16s was already gone", id);
		rc = RC_OK;
	}
	return rc_txn_end(&t, rc);
}

/* The uid of local user NAME, or -1 (NSS: outside any transaction).  A uid
 * in rollcall's own range (id_min..id_max) is a member or service user
 * whom rollcall's NSS module names, never a local user that may verify
 * others: a member invited under a name member_callers lists but the host
 * lacks would otherwise verify every member. */
static int64_t local_uid(const rc_store *s, const char *name)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (!name[0] || getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return -1;
	if (pw.pw_uid >= s->cfg.id_min && pw.pw_uid <= s->cfg.id_max)
		return -1;
	return (int64_t)pw.pw_uid;
}

/* Is uid CALLER one of the local users of LIST ("a,b,c")? */
static bool listed(const rc_store *s, const char *list, uid_t caller)
{
	char name[RC_NAME_MAX + 1];
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		if (n <= RC_NAME_MAX) {
			memcpy(name, p, n);
			name[n] = '\0';
			if (local_uid(s, name) == (int64_t)caller)
				return true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

RC_API int rc_caller_may_verify(rc_store *s, const char *origin, uid_t caller,
                                const char *user)
{
	who w;
	char why[160];
	bool ok = false;
	int rc;

	if (!user || !origin)
		return rc_fail(RC_ERR_INVALID, "no user or no origin");
	if (caller == 0)
		return RC_OK;   /* root reads the store itself */
	rc = who_load(s, user, &w);
	if (rc) {
		who_clear(&w);
		return rc;
	}
	rc_slow_work("user lookups (NSS)");
	if (w.kind == RC_KIND_NONE)
		ok = true;   /* rc_login_begin says unknown, at a known user's cost */
	else if (w.kind == RC_KIND_MEMBER)
		ok = w.m.uid == caller || listed(s, s->cfg.member_callers, caller);
	else
		ok = w.u.pub.uid == caller ||
		     (w.svc.runs_as[0] && local_uid(s, w.svc.runs_as) == (int64_t)caller);
	if (ok)
		rc = RC_OK;
	else {
		snprintf(why, sizeof(why), "uid %u may not verify the credentials of %s %s",
		         (unsigned)caller, w.kind == RC_KIND_MEMBER ? "member" : "service user",
		         user);
		rc = record_refusal(s, origin, user, "login.verify", RC_ERR_PERM, why);
		if (rc == RC_ERR_PERM || rc == RC_OK)
			rc = rc_fail(RC_ERR_PERM, "%s", why);
	}
	who_clear(&w);
	return rc;
}

/* What a login of a user rollcall does not know costs with SECRET, spent
 * for a refusal that must not be told apart from one by its time: for a
 * password, the counted attempt and the dummy argon2id verification; a
 * token costs a BLAKE2b hash either way, a commit each (the refusal's). */
RC_API void rc_login_spend(rc_store *s, const char *secret, unsigned flags)
{
	who w;

	if (!secret || strnlen(secret, RC_PASSWORD_MAX + 1) > RC_PASSWORD_MAX ||
	    (!(flags & RC_LOGIN_NO_TOKENS) && rc_looks_like_token(secret)))
		return;
	if (who_load(s, "", &w) == RC_OK) {
		(void)claim_unknown(s, w.attempts);
		rc_password_dummy_verify((unsigned long long)w.ops, (size_t)w.mem_kib * 1024,
		                         secret);
	}
	who_clear(&w);
}

/* The helper's allowance per calling uid: one key per uid in the host
 * database, "@caller/UID" = minute << 24 | requests of that minute not
 * (yet) given back by a yes.  Host state, like the lockout's counters. */
#define CALLER_COUNT_BITS 24

static void caller_key(uid_t caller, char *key, size_t n)
{
	snprintf(key, n, "@caller/%u", (unsigned)caller);
}

static uint64_t caller_count(uint64_t v, uint64_t minute)
{
	return v >> CALLER_COUNT_BITS == minute ? v & ((1u << CALLER_COUNT_BITS) - 1) : 0;
}

RC_API int rc_caller_claim(rc_store *s, const char *origin, uid_t caller, int count)
{
	rc_actor root = { .uid = 0 };
	char key[32], why[200] = "";
	uint64_t v = 0, minute = (uint64_t)rc_store_now(s) / 60, n;
	uint32_t limit = s->cfg.caller_failures;
	rc_txn t;
	int rc;

	if (caller == 0 || limit == 0)
		return RC_OK;
	caller_key(caller, key, sizeof(key));
	snprintf(root.origin, sizeof(root.origin), "%s", origin ? origin : "helper");
	if (!count) {
		/* a look first: no write while under the allowance */
		if ((rc = rc_txn_begin(s, &root, false, &t)) != 0)
			return rc;
		rc = rc_host_meta_get_u64(&t, key, &v);
		(void)rc_txn_end(&t, RC_OK);
		if (rc == RC_OK && caller_count(v, minute) < limit)
			return RC_OK;
		if (rc && rc != RC_ERR_NOTFOUND)
			return rc;
		if (rc == RC_ERR_NOTFOUND)
			return RC_OK;
	}
	if ((rc = rc_txn_begin(s, &root, true, &t)) != 0)
		return rc;
	rc = rc_host_meta_get_u64(&t, key, &v);
	if (rc == RC_ERR_NOTFOUND)
		rc = RC_OK;
	n = caller_count(v, minute);
	if (!rc && n >= limit) {
		/* refused before anything is checked; nothing changes, so the
		 * refusal joins the aggregated ones */
		snprintf(why, sizeof(why), "uid %u has had %u requests without a yes this "
		         "minute (caller_failures = %u in rollcall.conf): refused until the "
		         "minute is over", (unsigned)caller, (unsigned)n, (unsigned)limit);
		rc_txn_audit(&t, "login.verify", "(caller)");
		snprintf(t.detail, sizeof(t.detail), "refused: uid %u over caller_failures (%u a "
		         "minute)", (unsigned)caller, (unsigned)limit);
		t.aggregate = true;
	} else if (!rc && count) {
		rc = rc_host_meta_put_u64(&t, key, minute << CALLER_COUNT_BITS | (n + 1));
	}
	rc = rc_txn_end(&t, rc);
	if (!rc && why[0])
		return rc_fail(RC_ERR_LOCKED, "%s", why);
	return rc;
}

/* Add DELTA (+1 or -1) to CALLER's count of this minute. */
static void caller_add(rc_store *s, uid_t caller, int delta)
{
	rc_actor root = { .uid = 0, .origin = "helper" };
	char key[32];
	uint64_t v = 0, minute = (uint64_t)rc_store_now(s) / 60, n;
	rc_txn t;
	int rc;

	if (caller == 0 || s->cfg.caller_failures == 0)
		return;
	caller_key(caller, key, sizeof(key));
	if (rc_txn_begin(s, &root, true, &t) != 0)
		return;
	rc = rc_host_meta_get_u64(&t, key, &v);
	if (rc == RC_ERR_NOTFOUND)
		rc = RC_OK;
	/* a count of an earlier minute is over already: nothing to give back */
	n = caller_count(v, minute);
	if (!rc && (delta > 0 || n > 0))
		rc = rc_host_meta_put_u64(&t, key, minute << CALLER_COUNT_BITS |
		                     (delta > 0 ? n + 1 : n - 1));
	(void)rc_txn_end(&t, rc);
}

RC_API void rc_caller_release(rc_store *s, uid_t caller)
{
	caller_add(s, caller, -1);
}

RC_API void rc_caller_count(rc_store *s, uid_t caller)
{
	caller_add(s, caller, +1);
}

RC_API int rc_member_passwd(rc_store *s, const rc_actor *a, const char *old,
                            const char *newpw)
{
	char name[RC_NAME_MAX + 1], origin[64];
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	rc = rc_require_self(&t, "root is not a rollcall member: use \"rollcall member "
	                         "reset-password NAME\" for a member");
	if (!rc)
		snprintf(name, sizeof(name), "%s", t.am.username);
	rc = rc_txn_end(&t, rc);
	if (rc)
		return rc;
	snprintf(origin, sizeof(origin), "%s", a->origin);
	return rc_login_chauthtok(s, NULL, origin, name, old, newpw);
}
