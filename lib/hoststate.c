/*
 * hoststate.c - the host state: what a login writes on this host, kept in
 * the "host" database apart from membership (docs/hoststate.md).
 *
 * Keys are never-reused ids, so that on a fleet no two identities ever
 * share an entry and the entries of several hosts can be merged:
 *   "u" + uid (4 bytes, big-endian)   a member's or a service user's
 *                                      failures, lock, last active, last
 *                                      accepted TOTP step, recovery codes used
 *   "t" + token id (16 characters)    a token's last use and sliding expiry
 *   "@" + name                        a counter of this host's
 * Records go through the one codec (RC_REC_HOST_USER, RC_REC_HOST_TOKEN,
 * a counter as a setting).  An entry whose every value is 0 is deleted.
 *
 * The membership records carry none of it: rc_member_put and
 * rc_svcuser_put write the host fields as 0, and a login writes only
 * here (and to the audit log and the outbox of notices, which are not
 * membership either).  Loading lays the host entry, when there is
 * one, over the membership record: the merged view the public structs show.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdlib.h>
#include <sodium.h>
#include "hoststate.h"
#include "bytes.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "member.h"
#include "service.h"
#include "settings.h"
#include "token.h"

#define USER_KEY_LEN  5
#define TOKEN_KEY_LEN (1 + RC_TOKEN_ID_LEN)

static void user_key(uint32_t uid, uint8_t k[USER_KEY_LEN])
{
	k[0] = 'u';
	rc_put_be32(k + 1, uid);
}

static void token_key(const char *id, char k[TOKEN_KEY_LEN])
{
	k[0] = 't';
	memcpy(k + 1, id, RC_TOKEN_ID_LEN);
}

/* The entry of UID: RC_OK with *found, or an error. */
static int user_get(rc_txn *t, uint32_t uid, rc_host_user *h, bool *found)
{
	uint8_t k[USER_KEY_LEN];
	rc_val v;
	int rc;

	memset(h, 0, sizeof(*h));
	*found = false;
	if (t->s->no_host)
		return RC_OK;
	user_key(uid, k);
	rc = rc_store_get(t, DB_HOST, k, sizeof(k), &v);
	if (rc == RC_ERR_NOTFOUND)
		return RC_OK;
	if (!rc)
		rc = rc_host_user_decode(v.data, v.size, h);
	*found = rc == RC_OK;
	return rc;
}

static int user_put(rc_txn *t, uint32_t uid, const rc_host_user *h)
{
	uint8_t k[USER_KEY_LEN];
	rc_wbuf w;
	int rc;

	if (!h->failed && !h->failed_at && !h->lock_until && !h->last_active &&
	    !h->totp_last_step && !h->recovery_used)
		return rc_host_user_del(t, uid);
	user_key(uid, k);
	rc_host_user_encode(h, &w);
	rc = rc_store_putw(t, DB_HOST, k, sizeof(k), &w, 0);
	rc_wbuf_free(&w);
	return rc;
}

int rc_host_user_del(rc_txn *t, uint32_t uid)
{
	uint8_t k[USER_KEY_LEN];
	int rc;

	user_key(uid, k);
	rc = rc_store_del(t, DB_HOST, k, sizeof(k));
	return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
}

int rc_host_member_load(rc_txn *t, rc_member_rec *m)
{
	rc_host_user h;
	bool found;
	int rc = user_get(t, m->uid, &h, &found);

	if (rc || !found)
		return rc;   /* none: the record's own values (0 from schema 3) */
	m->failed = h.failed;
	m->failed_at = h.failed_at;
	m->lock_until = h.lock_until;
	m->last_active = h.last_active;
	m->totp_last_step = h.totp_last_step;
	m->recovery_used = h.recovery_used & m->recovery_left;
	return RC_OK;
}

int rc_host_member_store(rc_txn *t, const rc_member_rec *m)
{
	rc_host_user h = {
		.failed = m->failed, .failed_at = m->failed_at, .lock_until = m->lock_until,
		.last_active = m->last_active, .totp_last_step = m->totp_last_step,
		.recovery_used = m->recovery_used & m->recovery_left,
	};

	return user_put(t, m->uid, &h);
}

int rc_host_svcuser_load(rc_txn *t, rc_svcuser_rec *u)
{
	rc_host_user h;
	bool found;
	int rc = user_get(t, u->pub.uid, &h, &found);

	if (rc || !found)
		return rc;
	u->pub.failed = h.failed;
	u->pub.failed_at = h.failed_at;
	u->pub.lock_until = h.lock_until;
	return RC_OK;
}

int rc_host_svcuser_store(rc_txn *t, const rc_svcuser_rec *u)
{
	rc_host_user h = {
		.failed = u->pub.failed, .failed_at = u->pub.failed_at,
		.lock_until = u->pub.lock_until,
	};

	return user_put(t, u->pub.uid, &h);
}

int rc_member_put_with_host(rc_txn *t, const rc_member_rec *m)
{
	int rc = rc_member_put(t, m);

	return rc ? rc : rc_host_member_store(t, m);
}

/* ---- tokens ---------------------------------------------------------------- */

int rc_host_token_load(rc_txn *t, rc_token_rec *rec)
{
	char k[TOKEN_KEY_LEN];
	rc_host_token h;
	rc_val v;
	int rc;

	if (t->s->no_host)
		return RC_OK;
	token_key(rec->pub.id, k);
	rc = rc_store_get(t, DB_HOST, k, sizeof(k), &v);
	if (rc == RC_ERR_NOTFOUND)
		return RC_OK;
	if (!rc)
		rc = rc_host_token_decode(v.data, v.size, &h);
	if (rc)
		return rc;
	rec->pub.last_used = h.last_used;
	/* a use only ever pushes a sliding expiry out */
	if (h.expires > rec->pub.expires)
		rec->pub.expires = h.expires;
	return RC_OK;
}

int rc_host_token_store(rc_txn *t, const rc_token_rec *rec)
{
	char k[TOKEN_KEY_LEN];
	rc_host_token h = { .last_used = rec->pub.last_used, .expires = rec->pub.expires };
	rc_wbuf w;
	int rc;

	token_key(rec->pub.id, k);
	rc_host_token_encode(&h, &w);
	rc = rc_store_putw(t, DB_HOST, k, sizeof(k), &w, 0);
	rc_wbuf_free(&w);
	return rc;
}

int rc_host_token_del(rc_txn *t, const char *id)
{
	char k[TOKEN_KEY_LEN];
	int rc;

	token_key(id, k);
	rc = rc_store_del(t, DB_HOST, k, sizeof(k));
	return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
}

/* ---- counters ------------------------------------------------------------- */

int rc_host_meta_get_u64(rc_txn *t, const char *key, uint64_t *n)
{
	*n = 0;
	return t->s->no_host ? RC_ERR_NOTFOUND : rc_counter_get(t, DB_HOST, key, n);
}

int rc_host_meta_put_u64(rc_txn *t, const char *key, uint64_t n)
{
	return rc_counter_put(t, DB_HOST, key, n);
}

int rc_host_counter_bump(rc_txn *t, const char *key)
{
	uint64_t n = 0;
	int rc = rc_host_meta_get_u64(t, key, &n);

	if (rc == RC_ERR_NOTFOUND)
		rc = RC_OK;
	return rc ? rc : rc_host_meta_put_u64(t, key, n + 1);
}

/* ---- schema 2 -> 3 ---------------------------------------------------------- */

/* A counter of settings (schema 2) into the host database. */
static int counter_move(rc_txn *t, const char *key)
{
	uint64_t v = 0;
	int rc = rc_meta_get_u64(t, key, &v);

	if (rc == RC_ERR_NOTFOUND)
		return RC_OK;
	if (!rc)
		rc = rc_host_meta_put_u64(t, key, v);
	return rc ? rc : rc_store_del(t, DB_SETTINGS, key, strlen(key));
}

/* Each member's and service user's failures, lock, last active and TOTP
 * step into the host database, the records written again without them;
 * then the tokens' (token.c), and the counters of unknown users' logins
 * and of the helper's callers. */
int rc_host_upgrade(rc_txn *t, size_t *moved)
{
	char (*names)[RC_NAME_MAX + 1] = NULL;
	size_t n = 0;
	int rc;

	*moved = 0;
	rc = rc_store_keys(t, DB_MEMBERS, "", &names, &n);
	for (size_t i = 0; !rc && i < n; i++) {
		rc_member_rec m;
		rc = rc_member_load(t, names[i], &m);
		if (!rc && (m.failed || m.failed_at || m.lock_until || m.last_active ||
		            m.totp_last_step)) {
			rc = rc_member_put_with_host(t, &m);
			(*moved)++;
		}
		sodium_memzero(&m, sizeof(m));
	}
	free(names);
	names = NULL;
	if (!rc)
		rc = rc_store_keys(t, DB_SVCUSERS, "", &names, &n);
	for (size_t i = 0; !rc && i < n; i++) {
		rc_svcuser_rec u;
		rc = rc_svcuser_load(t, names[i], &u);
		if (!rc && (u.pub.failed || u.pub.failed_at || u.pub.lock_until)) {
			rc = rc_svcuser_put(t, &u);
			if (!rc)
				rc = rc_host_svcuser_store(t, &u);
			(*moved)++;
		}
		sodium_memzero(&u, sizeof(u));
	}
	free(names);
	names = NULL;
	if (!rc)
		rc = rc_tokens_host_upgrade(t, moved);
	if (!rc)
		rc = counter_move(t, "@unknown_logins");
	if (!rc)
		rc = rc_store_keys(t, DB_SETTINGS, "@caller/", &names, &n);
	for (size_t i = 0; !rc && i < n; i++)
		rc = counter_move(t, names[i]);
	free(names);
	return rc;
}
