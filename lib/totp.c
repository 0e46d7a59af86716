/*
 * totp.c - two-factor authentication: TOTP (RFC 6238 with SHA-1, 6 digits,
 * 30-second steps, one step of skew either way) through liboath, and
 * single-use recovery codes.
 *
 * The secret (160 bits) is kept encrypted with the store's secret key; a
 * code is accepted once: the accepted time step is stored and a code of
 * that step or an earlier one is refused.  Recovery codes (XXXXX-XXXXX, 50
 * bits each) are kept as keyed BLAKE2b hashes and crossed out when used.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <liboath/oath.h>
#include <sodium.h>
#include <string.h>
#include "totp.h"
#include "errors.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "crypto.h"
#include "actor.h"
#include "member.h"
#include "settings.h"
#include "notify.h"
#include "token.h"
#include "hoststate.h"
#include "auth.h"

#define STEP 30
#define DIGITS 6
#define WINDOW 1

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_status = -1;

static void oath_start(void)
{
	oath_status = oath_init();
}

static int oath_ready(void)
{
	pthread_once(&oath_once, oath_start);
	if (oath_status != OATH_OK)
		return rc_fail(RC_ERR_NOMEM, "liboath could not be initialised: %s",
		               oath_strerror(oath_status));
	return RC_OK;
}

/* ---- the secret ------------------------------------------------------------- */

static void secret_b32(const uint8_t raw[RC_TOTP_SECRET_LEN], char out[40])
{
	rc_base32_lower(raw, RC_TOTP_SECRET_LEN, out);
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

static void secret_seal(const rc_store *s, const uint8_t raw[RC_TOTP_SECRET_LEN],
                        uint8_t enc[RC_TOTP_ENC_LEN])
{
	rc_seal(s, raw, RC_TOTP_SECRET_LEN, enc);
}

static int secret_open(const rc_store *s, const uint8_t enc[RC_TOTP_ENC_LEN],
                       uint8_t raw[RC_TOTP_SECRET_LEN])
{
	size_t n = 0;

	if (rc_unseal(s, enc, RC_TOTP_ENC_LEN, raw, RC_TOTP_SECRET_LEN, &n) != RC_OK ||
	    n != RC_TOTP_SECRET_LEN) {
		sodium_memzero(raw, RC_TOTP_SECRET_LEN);
		return rc_fail(RC_ERR_STORE, "the stored two-factor secret does not decrypt "
		               "(wrong master.key?)");
	}
	return RC_OK;
}

static int ct_compare(void *handle, const char *test_otp)
{
	const char *given = handle;
	return sodium_memcmp(given, test_otp, DIGITS) != 0;
}

/* Is CODE a 6-digit code?  Spaces are allowed ("123 456"). */
static int six_digits(const char *code, char out[DIGITS + 1])
{
	size_t n = 0;

	for (const char *p = code; *p; p++) {
		if (*p == ' ')
			continue;
		if (*p < '0' || *p > '9' || n == DIGITS)
			return RC_ERR_INVALID;
		out[n++] = *p;
	}
	out[n] = '\0';
	return n == DIGITS ? RC_OK : RC_ERR_INVALID;
}

/* Check a TOTP code against the encrypted secret; on success *step is the
 * time step it belongs to, which must be later than last_step. */
static int totp_verify(const rc_store *s, const uint8_t enc[RC_TOTP_ENC_LEN],
                       int64_t last_step, const char *digits, int64_t *step)
{
	uint8_t raw[RC_TOTP_SECRET_LEN];
	uint64_t counter = 0;
	int pos = 0, orc;
	int rc = oath_ready();

	if (rc)
		return rc;
	if ((rc = secret_open(s, enc, raw)) != 0)
		return rc;
	orc = oath_totp_validate3_callback((const char *)raw, sizeof(raw),
	                                   (time_t)rc_store_now(s), STEP, 0, DIGITS, WINDOW,
	                                   &pos, &counter, ct_compare, (void *)(uintptr_t)digits);
	sodium_memzero(raw, sizeof(raw));
	if (orc < 0)
		return rc_fail(RC_ERR_AUTH, "wrong verification code");
	if ((int64_t)counter <= last_step)
		return rc_fail(RC_ERR_AUTH, "this verification code was already used; wait "
		               "for the next one");
	*step = (int64_t)counter;
	return RC_OK;
}

static void recovery_hash(const rc_store *s, const char *norm, uint8_t out[32])
{
	rc_keyed_hash(s, "recovery:", norm, strlen(norm), out);
}

/* A TOTP code or a recovery code for member M, inside T.  On success M is
 * updated (step or recovery code used: host state, written by the caller
 * with rc_host_member_store) and *via says which it was.  A
 * malformed code is RC_ERR_INVALID, a wrong one RC_ERR_AUTH. */
int rc_totp_check(rc_txn *t, rc_member_rec *m, const char *code, int *via)
{
	char digits[DIGITS + 1], norm[RC_RECOVERY_LEN];
	int64_t step = 0;
	int rc;

	if (!m->totp_enabled)
		return rc_fail(RC_ERR_STATE, "two-factor authentication is not enabled for %s",
		               m->username);
	if (six_digits(code, digits) == RC_OK) {
		rc = totp_verify(t->s, m->totp_enc, m->totp_last_step, digits, &step);
		sodium_memzero(digits, sizeof(digits));
		if (!rc) {
			m->totp_last_step = step;
			*via = RC_VIA_TOTP;
		}
		return rc;
	}
	if (rc_code_normalize_len(code, norm, 10) == RC_OK) {
		uint8_t h[32];
		int found = -1;
		recovery_hash(t->s, norm, h);
		sodium_memzero(norm, sizeof(norm));
		for (int i = 0; i < RC_RECOVERY_CODES; i++)
			if (sodium_memcmp(h, m->recovery[i], 32) == 0 &&
			    (RC_RECOVERY_UNUSED(m) >> i & 1))
				found = i;
		sodium_memzero(h, sizeof(h));
		if (found < 0)
			return rc_fail(RC_ERR_AUTH, "wrong or already used recovery code");
		m->recovery_used |= 1u << found;
		*via = RC_VIA_RECOVERY;
		return RC_OK;
	}
	return rc_fail(RC_ERR_INVALID, "a verification code is 6 digits (or a recovery "
	               "code like XXXXX-XXXXX)");
}

/* ---- enrollment ------------------------------------------------------------- */

static void uri_escape(const char *in, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const char *p = in; *p && o + 4 < len; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

RC_API void rc_mfa_enrollment_clear(rc_mfa_enrollment *e)
{
	sodium_memzero(e, sizeof(*e));
}

/* New secret and recovery codes for M, stored pending in M and written
 * (refused when two-factor is already enabled).  OUT is wiped on failure. */
int rc_totp_enroll(rc_txn *t, rc_member_rec *m, rc_mfa_enrollment *out)
{
	uint8_t raw[RC_TOTP_SECRET_LEN];
	char host[64] = "", label[400], issuer[256];
	int rc;

	memset(out, 0, sizeof(*out));
	if (m->totp_enabled)
		return rc_fail(RC_ERR_STATE, "two-factor authentication is already enabled; "
		               "\"rollcall mfa disable\" first to set up a new device");
	rc_random_bytes(raw, sizeof(raw));
	secret_b32(raw, out->secret);
	secret_seal(t->s, raw, m->totp_enc);
	sodium_memzero(raw, sizeof(raw));
	m->totp_pending = 1;
	m->totp_enabled = 0;
	m->totp_last_step = 0;
	m->recovery_left = (1u << RC_RECOVERY_CODES) - 1;
	m->recovery_used = 0;
	for (int i = 0; i < RC_RECOVERY_CODES; i++) {
		char norm[RC_RECOVERY_LEN];
		rc_code_generate_len(out->recovery[i], 10);
		rc_code_normalize_len(out->recovery[i], norm, 10);
		recovery_hash(t->s, norm, m->recovery[i]);
		sodium_memzero(norm, sizeof(norm));
	}
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	{
		char raw_label[RC_NAME_MAX + 96], raw_issuer[80];
		snprintf(raw_issuer, sizeof(raw_issuer), "rollcall%s%s", host[0] ? " " : "", host);
		snprintf(raw_label, sizeof(raw_label), "%s:%s", raw_issuer, m->username);
		uri_escape(raw_label, label, sizeof(label));
		uri_escape(raw_issuer, issuer, sizeof(issuer));
	}
	snprintf(out->uri, sizeof(out->uri),
	         "otpauth://totp/%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d",
	         label, out->secret, issuer, DIGITS, STEP);
	rc = rc_member_put_with_host(t, m);   /* new codes: none used */
	if (rc)
		rc_mfa_enrollment_clear(out);
	return rc;
}

/* Enroll M, loaded in T when RC is RC_OK (the tool's mfa enable and a
 * login's enrollment), and end T: M wiped, OUT cleared on any failure. */
int rc_totp_enroll_end(rc_txn *t, rc_member_rec *m, int rc, rc_mfa_enrollment *out)
{
	if (!rc)
		rc = rc_totp_enroll(t, m, out);
	sodium_memzero(m, sizeof(*m));
	rc = rc_txn_end(t, rc);
	if (rc)
		rc_mfa_enrollment_clear(out);
	return rc;
}

/* The first code of a pending enrollment: enable, revoke every token. */
int rc_totp_enroll_confirm(rc_txn *t, rc_member_rec *m, const char *code)
{
	char digits[DIGITS + 1];
	int64_t step = 0;
	size_t n = 0;
	int rc;

	if (!m->totp_pending)
		return rc_fail(RC_ERR_STATE, m->totp_enabled
		               ? "two-factor authentication is already enabled for %s"
		               : "%s has no two-factor enrollment to confirm: run \"rollcall "
		                 "mfa enable\" first", m->username);
	if (six_digits(code, digits) != RC_OK)
		return rc_fail(RC_ERR_INVALID, "a verification code is 6 digits");
	rc = totp_verify(t->s, m->totp_enc, 0, digits, &step);
	sodium_memzero(digits, sizeof(digits));
	if (rc)
		return rc;
	m->totp_pending = 0;
	m->totp_enabled = 1;
	m->totp_last_step = step;
	rc = rc_tokens_revoke_owner(t, m->uid, &n);
	if (!rc)
		snprintf(t->detail, sizeof(t->detail), "ok tokens-revoked=%zu", n);
	return rc;
}

static void totp_clear(rc_member_rec *m)
{
	m->totp_enabled = 0;
	m->totp_pending = 0;
	m->totp_last_step = 0;
	m->recovery_left = 0;
	m->recovery_used = 0;
	sodium_memzero(m->totp_enc, sizeof(m->totp_enc));
	sodium_memzero(m->recovery, sizeof(m->recovery));
}

/* Take two-factor authentication away from M and revoke its tokens (a
 * change of credentials). */
static int totp_remove(rc_txn *t, rc_member_rec *m)
{
	size_t n = 0;
	int rc;

	totp_clear(m);
	rc = rc_member_put_with_host(t, m);
	if (!rc)
		rc = rc_tokens_revoke_owner(t, m->uid, &n);
	if (!rc)
		snprintf(t->detail, sizeof(t->detail), "ok tokens-revoked=%zu", n);
	return rc;
}

/* The actor's own member record, for self-service. */
static int self_member(rc_txn *t, rc_member_rec *m)
{
	int rc = rc_require_self(t, "root has no two-factor authentication of its own; run "
	                            "this as the member");

	if (rc)
		return rc;
	*m = t->am;
	if (m->status != RC_MEMBER_ACTIVE)
		return rc_fail(RC_ERR_STATE, "%s is %s: only active members set up two-factor "
		               "authentication", m->username, rc_member_status_name(m->status));
	return RC_OK;
}

RC_API int rc_mfa_enroll(rc_store *s, const rc_actor *a, rc_mfa_enrollment *out)
{
	rc_member_rec m;
	rc_txn t;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = oath_ready()) != 0 || (rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "mfa.enroll", t.actor_name);
	return rc_totp_enroll_end(&t, &m, self_member(&t, &m), out);
}

RC_API int rc_mfa_confirm(rc_store *s, const rc_actor *a, const char *code)
{
	rc_member_rec m;
	rc_txn t;
	int rc;

	if ((rc = oath_ready()) != 0 || (rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "mfa.enable", t.actor_name);
	rc = self_member(&t, &m);
	if (!rc)
		rc = rc_totp_enroll_confirm(&t, &m, code);
	if (!rc)
		rc = rc_member_put_with_host(&t, &m);   /* enabled, and the step used */
	sodium_memzero(&m, sizeof(m));
	return rc_txn_end(&t, rc);
}

/* Two-factor authentication off (mfa disable, member mfa-reset), the
 * mfa-disabled notice queued. */
static int mfa_remove(rc_txn *t, rc_member_rec *m)
{
	int rc = totp_remove(t, m);

	if (!rc)
		rc = rc_notice_queue(t, RC_EV_MFA_DISABLED, m->username,
		                     t->is_member && strcmp(t->am.username, m->username) == 0
		                     ? "disabled by the member" : "reset by an administrator");
	return rc;
}

/* A wrong code given to turn two-factor authentication off is a guess like
 * a login's: counted toward the lockout (auth.c's rule) in this same
 * transaction, which ends here.  Returns ERR with its message. */
static int mfa_disable_failed(rc_store *s, rc_txn *t, rc_member_rec *m, int err)
{
	char why[160];
	int64_t attempts = 0, duration = 0;
	int rc;

	snprintf(why, sizeof(why), "%s", rc_errmsg());
	rc = rc_lockout_settings(t, &attempts, &duration);
	if (!rc) {
		(void)rc_lockout_fail(&m->failed, &m->failed_at, &m->lock_until, attempts,
		                      duration, rc_store_now(s), false);
		snprintf(t->detail, sizeof(t->detail), "failed: %.60s%s", why,
		         m->lock_until ? "; locked" : "");
		rc = rc_host_member_store(t, m);
	}
	sodium_memzero(m, sizeof(*m));
	rc = rc_txn_end(t, rc);
	return rc ? rc : rc_fail(err, "%s", why);
}

RC_API int rc_mfa_disable(rc_store *s, const rc_actor *a, const char *code)
{
	rc_member_rec m;
	rc_txn t;
	int via = 0, rc;

	if ((rc = oath_ready()) != 0 || (rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "mfa.disable", t.actor_name);
	rc = self_member(&t, &m);
	if (!rc && m.totp_pending && !m.totp_enabled) {
		totp_clear(&m);   /* an unconfirmed enrollment: just drop it */
		rc = rc_member_put_with_host(&t, &m);
		sodium_memzero(&m, sizeof(m));
		return rc_txn_end(&t, rc);
	}
	if (!rc && !m.totp_enabled)
		rc = rc_fail(RC_ERR_STATE, "two-factor authentication is not enabled");
	if (!rc && m.lock_until > rc_store_now(s))
		rc = rc_fail(RC_ERR_LOCKED, "%s is locked after too many failed attempts; try "
		             "again later or ask an administrator to unlock it", m.username);
	if (!rc) {
		rc = rc_totp_check(&t, &m, code, &via);
		if (rc == RC_ERR_AUTH || rc == RC_ERR_INVALID)
			return mfa_disable_failed(s, &t, &m, rc);
	}
	if (!rc)
		rc = mfa_remove(&t, &m);
	sodium_memzero(&m, sizeof(m));
	return rc_txn_end(&t, rc);
}

RC_API int rc_member_mfa_reset(rc_store *s, const rc_actor *a, const char *username)
{
	rc_member_rec m;
	rc_txn t;
	int rc = rc_txn_begin(s, a, true, &t);

	if (rc)
		return rc;
	rc_txn_audit(&t, "member.mfa-reset", username);
	rc = rc_require(&t, RC_PERM_MANAGE_MEMBERS);
	if (!rc)
		rc = rc_member_load_ref(&t, username, &m);
	if (!rc)
		rc_txn_audit(&t, "member.mfa-reset", m.username);
	if (!rc && !t.root)
		rc = rc_require_rank_over(&t, &m);
	if (!rc && !m.totp_enabled && !m.totp_pending)
		rc = rc_fail(RC_ERR_STATE, "%s has no two-factor authentication", m.username);
	if (!rc)
		rc = mfa_remove(&t, &m);
	sodium_memzero(&m, sizeof(m));
	return rc_txn_end(&t, rc);
}

RC_API int rc_mfa_status_get(rc_store *s, const rc_actor *a, rc_mfa_status *out)
{
	char mode[16];
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	rc = rc_require_self(&t, "root has no two-factor authentication of its own");
	if (!rc)
		rc = rc_setting_str(&t, "mfa", mode, sizeof(mode));
	if (!rc) {
		out->enabled = t.am.totp_enabled;
		out->pending = t.am.totp_pending;
		out->recovery_left = (unsigned)__builtin_popcount(RC_RECOVERY_UNUSED(&t.am));
		out->required = strcmp(mode, "required") == 0;
	}
	return rc_txn_end(&t, rc);
}

RC_API int rc_totp_code(const char *secret_b32, int64_t now, char out[7])
{
	char *raw = NULL;
	size_t rawlen = 0;
	int rc = oath_ready();

	out[0] = '\0';
	if (rc)
		return rc;
	if (oath_base32_decode(secret_b32, strlen(secret_b32), &raw, &rawlen) != OATH_OK)
		return rc_fail(RC_ERR_INVALID, "the secret is not base32");
	if (oath_totp_generate(raw, rawlen, (time_t)now, STEP, 0, DIGITS, out) != OATH_OK)
		rc = rc_fail(RC_ERR_INVALID, "cannot compute a code");
	sodium_memzero(raw, rawlen);
	free(raw);
	return rc;
}
