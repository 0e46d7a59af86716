/*
 * token.c - authentication tokens.
 *
 * A token reads  rct_<id>_<secret><check>:  "rct_", 16 characters of id
 * (80 random bits), "_", 56 characters of secret (280 random bits) and 8
 * characters of checksum, all in lower-case base32 (a-z, 2-7).  The checksum
 * is the first 5 bytes of the unkeyed BLAKE2b-256 of everything before it,
 * so a typo is refused without a lookup and a secret scanner can recognise a
 * leaked token with no false positives.  The store keeps only a keyed
 * BLAKE2b hash of the secret part; it is compared in constant time.
 *
 * Keys in the "tokens" database: "i" + id -> the record, and
 * "u" + the owner's uid (4 bytes, big-endian) + id -> "" (a user's tokens by
 * prefix, without a scan).  A token belongs to a uid, not to a name: uids
 * are allocated once and never reused, so a token never passes to a later
 * user of the same name, and a rename, a password change or a removal
 * revokes the user's tokens by uid.  (Stores of schema 1 had "o" + owner
 * name + NUL + id; rc_tokens_upgrade converts them.)
 *
 * Sliding expiry without a write on every use: a use writes the token back
 * (last used, new expiry) only when the stored last use is a minute old, so
 * a busy token costs at most one commit a minute.  Revocation deletes the
 * record at once, in a synced commit.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include "token.h"
#include "errors.h"
#include "bytes.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "validate.h"
#include "crypto.h"
#include "actor.h"
#include "member.h"
#include "service.h"
#include "settings.h"
#include "notify.h"
#include "hoststate.h"

#define PREFIX      RC_TOKEN_PREFIX
#define PREFIX_LEN  4
#define ID_BYTES    10
#define SECRET_BYTES 35
#define SECRET_LEN  56
#define CHECK_LEN   8
#define ID_OFF      PREFIX_LEN
#define SEP_OFF     (ID_OFF + RC_TOKEN_ID_LEN)
#define SECRET_OFF  (SEP_OFF + 1)
#define CHECK_OFF   (SECRET_OFF + SECRET_LEN)

_Static_assert(CHECK_OFF + CHECK_LEN == RC_TOKEN_LEN, "token layout");
_Static_assert(sizeof(PREFIX) - 1 == PREFIX_LEN, "token prefix");

RC_API const char *rc_token_kind_name(int kind)
{
	return kind == RC_TOKEN_LOGIN ? "login" : "api";
}

RC_API const char *rc_token_extension_name(int ext)
{
	return ext == RC_EXT_FIXED ? "fixed" : "slide";
}

RC_API int rc_token_extension_parse(const char *s, int *ext)
{
	if (strcmp(s, "slide") == 0)
		*ext = RC_EXT_SLIDE;
	else if (strcmp(s, "fixed") == 0)
		*ext = RC_EXT_FIXED;
	else
		return rc_fail(RC_ERR_INVALID, "extension policy \"%.20s\" is neither slide "
		               "nor fixed", s);
	return RC_OK;
}

static void checksum(const char *head, char out[CHECK_LEN + 1])
{
	uint8_t h[32];

	rc_checksum(head, CHECK_OFF, h);
	rc_base32_lower(h, 5, out);
}

static bool is_b32(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

RC_API int rc_token_check_format(const char *tok)
{
	char check[CHECK_LEN + 1];
	size_t n = strnlen(tok, RC_TOKEN_LEN + 1);

	if (n != RC_TOKEN_LEN || memcmp(tok, PREFIX, PREFIX_LEN) != 0 || tok[SEP_OFF] != '_')
		return rc_fail(RC_ERR_INVALID, "not a rollcall token (rct_ followed by %d "
		               "characters)", RC_TOKEN_LEN - PREFIX_LEN);
	for (size_t i = ID_OFF; i < RC_TOKEN_LEN; i++)
		if (i != SEP_OFF && !is_b32(tok[i]))
			return rc_fail(RC_ERR_INVALID, "not a rollcall token (character %zu "
			               "is not a-z or 2-7)", i + 1);
	checksum(tok, check);
	if (sodium_memcmp(check, tok + CHECK_OFF, CHECK_LEN) != 0)
		return rc_fail(RC_ERR_INVALID, "the token's checksum does not match (a typo?)");
	return RC_OK;
}

static void secret_hash(const rc_store *s, const char *secret, uint8_t out[32])
{
	rc_keyed_hash(s, "token:", secret, SECRET_LEN, out);
}

/* ---- records ---------------------------------------------------------------- */

static int id_key(const char *id, char key[RC_TOKEN_ID_LEN + 2])
{
	key[0] = 'i';
	memcpy(key + 1, id, RC_TOKEN_ID_LEN);
	key[RC_TOKEN_ID_LEN + 1] = '\0';
	return RC_TOKEN_ID_LEN + 1;
}


size_t rc_token_owner_key(uint32_t uid, const char *id, char key[RC_TOKEN_OWNER_KEY_LEN])
{
	key[0] = 'u';
	rc_put_be32((uint8_t *)key + 1, uid);
	if (id)
		memcpy(key + RC_TOKEN_OWNER_PREFIX_LEN, id, RC_TOKEN_ID_LEN);
	return id ? RC_TOKEN_OWNER_KEY_LEN : RC_TOKEN_OWNER_PREFIX_LEN;
}

static int token_load(rc_txn *t, const char *id, rc_token_rec *rec)
{
	char key[RC_TOKEN_ID_LEN + 2];
	rc_val v;
	int rc = rc_store_get(t, DB_TOKENS, key, (size_t)id_key(id, key), &v);

	if (rc == RC_ERR_NOTFOUND)
		return rc_fail(RC_ERR_NOTFOUND, "no token with id %.16s", id);
	if (!rc)
		rc = rc_token_decode(v.data, v.size, rec);
	return rc ? rc : rc_host_token_load(t, rec);   /* the merged view */
}

/* The token record (membership): given a record, never a merged view (a
 * new token, or the upgrades' raw records). */
static int token_store(rc_txn *t, const rc_token_rec *rec)
{
	char key[RC_TOKEN_ID_LEN + 2];
	rc_wbuf w;
	int rc = rc_token_encode(rec, &w);

	if (!rc)
		rc = rc_store_putw(t, DB_TOKENS, key, (size_t)id_key(rec->pub.id, key), &w, 0);
	rc_wbuf_free(&w);
	return rc;
}

static int token_delete(rc_txn *t, const rc_token *tk)
{
	char key[RC_TOKEN_OWNER_KEY_LEN];
	int rc = rc_store_del(t, DB_TOKENS, key, (size_t)id_key(tk->id, key));

	if (!rc)
		rc = rc_store_del(t, DB_TOKENS, key, rc_token_owner_key(tk->owner_uid, tk->id, key));
	if (!rc)
		rc = rc_host_token_del(t, tk->id);
	return rc;
}

/* A growing array of token records. */
struct tok_list {
	rc_token_rec *arr;
	size_t n, cap;
	uint32_t uid;
	size_t plen;
};

static rc_token_rec *tok_slot(struct tok_list *l)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		rc_token_rec *na = realloc(l->arr, ncap * sizeof(*na));
		if (!na) {
			rc_fail(RC_ERR_NOMEM, "out of memory");
			return NULL;
		}
		l->arr = na;
		l->cap = ncap;
	}
	return &l->arr[l->n];
}

static int owner_token(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct tok_list *l = ctx;
	char id[RC_TOKEN_ID_LEN + 1];
	rc_token_rec *rec;
	int rc;

	(void)v;
	if (k->size != l->plen + RC_TOKEN_ID_LEN)
		return RC_WALK_STOP;
	memcpy(id, (const char *)k->data + l->plen, RC_TOKEN_ID_LEN);
	id[RC_TOKEN_ID_LEN] = '\0';
	if (!(rec = tok_slot(l)))
		return RC_ERR_NOMEM;
	rc = token_load(t, id, rec);
	if (rc == RC_ERR_NOTFOUND)
		rc = rc_fail(RC_ERR_STORE, "damaged token index (token %s of uid %u has "
		             "no record)", id, (unsigned)l->uid);
	else if (!rc && rec->pub.owner_uid != l->uid)
		rc = rc_fail(RC_ERR_STORE, "damaged token index (token %s is not uid "
		             "%u's)", id, (unsigned)l->uid);
	if (!rc)
		l->n++;
	return rc;
}

/* Every token of the user UID, oldest first, into a malloc'ed array. */
static int owner_tokens(rc_txn *t, uint32_t uid, rc_token_rec **out, size_t *count)
{
	char prefix[RC_TOKEN_OWNER_KEY_LEN];
	struct tok_list l = { .uid = uid };
	int rc;

	*out = NULL;
	*count = 0;
	l.plen = rc_token_owner_key(uid, NULL, prefix);
	rc = rc_store_foreach(t, DB_TOKENS, prefix, l.plen, owner_token, &l);
	rc_token_rec *arr = l.arr;
	size_t n = l.n;
	if (rc) {
		free(arr);
		return rc;
	}
	/* oldest first (ids are random: sort by creation time) */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && arr[j - 1].pub.created > arr[j].pub.created; j--) {
			rc_token_rec tmp = arr[j];
			arr[j] = arr[j - 1];
			arr[j - 1] = tmp;
		}
	*out = arr;
	*count = n;
	return RC_OK;
}

static bool token_expired(const rc_token *tk, int64_t now)
{
	return now >= tk->expires || (tk->max_expiry && now >= tk->max_expiry);
}

/* Delete the tokens of the user UID of KIND (-1: all) and, with
 * only_expired, only the expired ones. */
static int revoke_owner(rc_txn *t, uint32_t uid, int kind, bool only_expired,
                        size_t *revoked)
{
	rc_token_rec *arr;
	size_t n, done = 0;
	int64_t now = rc_store_now(t->s);
	int rc = owner_tokens(t, uid, &arr, &n);

	for (size_t i = 0; !rc && i < n; i++) {
		if (kind >= 0 && arr[i].pub.kind != kind)
			continue;
		if (only_expired && !token_expired(&arr[i].pub, now))
			continue;
		rc = token_delete(t, &arr[i].pub);
		if (!rc)
			done++;
	}
	if (arr)
		sodium_memzero(arr, n * sizeof(*arr));
	free(arr);
	if (revoked)
		*revoked = done;
	return rc;
}

int rc_tokens_revoke_owner(rc_txn *t, uint32_t owner_uid, size_t *revoked)
{
	return revoke_owner(t, owner_uid, -1, false, revoked);
}

/* Make a token for OWNER (uid OWNER_UID).  For a login token, evict the
 * oldest past token.login_limit; for an api token, refuse past
 * token.api_limit. */
/* Room for one more token of KIND for OWNER_UID: expired ones dropped, an
 * API token refused past token.api_limit, the oldest login token revoked
 * past token.login_limit. */
static int token_room(rc_txn *t, const char *owner, uint32_t owner_uid, int kind)
{
	rc_token_rec *arr = NULL;
	size_t n = 0, count = 0;
	int64_t limit;
	int rc = rc_setting_int(t, kind == RC_TOKEN_LOGIN ? "token.login_limit"
	                                                  : "token.api_limit", &limit);

	if (!rc)
		rc = revoke_owner(t, owner_uid, -1, true, NULL);   /* drop expired ones */
	if (!rc)
		rc = owner_tokens(t, owner_uid, &arr, &n);
	for (size_t i = 0; !rc && i < n; i++)
		if (arr[i].pub.kind == kind)
			count++;
	if (!rc && kind == RC_TOKEN_API && (int64_t)count >= limit)
		rc = rc_fail(RC_ERR_POLICY, "%s already has %zu API tokens (token.api_limit is "
		             "%lld): revoke one first", owner, count, (long long)limit);
	for (size_t i = 0; !rc && kind == RC_TOKEN_LOGIN && (int64_t)count >= limit && i < n; i++)
		if (arr[i].pub.kind == RC_TOKEN_LOGIN) {
			rc = token_delete(t, &arr[i].pub);   /* oldest first */
			count--;
		}
	if (arr)
		sodium_memzero(arr, n * sizeof(*arr));
	free(arr);
	return rc;
}

/* A new token's text into OUT: prefix, random id and secret, checksum. */
static void token_text(char out[RC_TOKEN_LEN + 1])
{
	uint8_t idb[ID_BYTES], sec[SECRET_BYTES];

	rc_random_bytes(idb, sizeof(idb));
	rc_random_bytes(sec, sizeof(sec));
	memcpy(out, PREFIX, PREFIX_LEN);
	rc_base32_lower(idb, sizeof(idb), out + ID_OFF);
	out[SEP_OFF] = '_';
	rc_base32_lower(sec, sizeof(sec), out + SECRET_OFF);
	checksum(out, out + CHECK_OFF);
	sodium_memzero(sec, sizeof(sec));
}

int rc_token_issue(rc_txn *t, const char *owner, uint32_t owner_uid, int kind,
                   const char *desc, int64_t ttl, int64_t max_age, int ext,
                   rc_token *info, char out[RC_TOKEN_LEN + 1])
{
	rc_token_rec rec;
	char key[RC_TOKEN_OWNER_KEY_LEN];
	int64_t now = rc_store_now(t->s);
	int rc;

	out[0] = '\0';
	memset(&rec, 0, sizeof(rec));
	if (owner_uid == 0)
		return rc_fail(RC_ERR_STORE, "%s has no uid: no token can be made", owner);
	if (!ttl && (rc = rc_setting_int(t, "token.ttl", &ttl)) != 0)
		return rc;
	if ((rc = token_room(t, owner, owner_uid, kind)) != RC_OK)
		return rc;
	token_text(out);
	memcpy(rec.pub.id, out + ID_OFF, RC_TOKEN_ID_LEN);
	rec.pub.id[RC_TOKEN_ID_LEN] = '\0';
	snprintf(rec.pub.owner, sizeof(rec.pub.owner), "%s", owner);
	rec.pub.owner_uid = owner_uid;
	rec.pub.kind = kind;
	snprintf(rec.pub.description, sizeof(rec.pub.description), "%s", desc ? desc : "");
	rec.pub.created = now;
	rec.pub.ttl = ttl;
	rec.pub.extension = ext;
	rec.pub.max_expiry = max_age ? now + max_age : 0;
	rec.pub.expires = now + ttl;
	if (rec.pub.max_expiry && rec.pub.expires > rec.pub.max_expiry)
		rec.pub.expires = rec.pub.max_expiry;
	secret_hash(t->s, out + SECRET_OFF, rec.hash);
	rc = token_store(t, &rec);
	if (!rc)
		rc = rc_store_put(t, DB_TOKENS, key, rc_token_owner_key(owner_uid, rec.pub.id, key), "", 0,
		                  0);
	if (!rc && info)
		*info = rec.pub;
	if (rc)
		sodium_memzero(out, RC_TOKEN_LEN + 1);
	sodium_memzero(&rec, sizeof(rec));
	return rc;
}

/* A use of REC at NOW: its last use, and a sliding token's expiry. */
static void use_at(rc_token_rec *rec, int64_t now)
{
	rec->pub.last_used = now;
	if (rec->pub.extension == RC_EXT_SLIDE) {
		rec->pub.expires = now + rec->pub.ttl;
		if (rec->pub.max_expiry && rec->pub.expires > rec->pub.max_expiry)
			rec->pub.expires = rec->pub.max_expiry;
	}
}

/* Check TOKEN for the user UID inside T.  *touch is set when the use should be
 * written back (last used a minute ago or more): rec then holds the record
 * with its new last use and expiry. */
int rc_token_verify(rc_txn *t, uint32_t uid, const char *token, rc_token_rec *rec,
                    bool *touch)
{
	char id[RC_TOKEN_ID_LEN + 1];
	uint8_t h[32];
	int64_t now = rc_store_now(t->s);
	int rc = rc_token_check_format(token);

	*touch = false;
	if (rc)
		return rc_fail(RC_ERR_AUTH, "%s", rc_errmsg());
	memcpy(id, token + ID_OFF, RC_TOKEN_ID_LEN);
	id[RC_TOKEN_ID_LEN] = '\0';
	rc = token_load(t, id, rec);
	if (rc == RC_ERR_NOTFOUND)
		return rc_fail(RC_ERR_AUTH, "unknown or revoked token %s", id);
	if (rc)
		return rc;
	secret_hash(t->s, token + SECRET_OFF, h);
	/* Compare the secret before the owner, so both cost the same. */
	bool good = sodium_memcmp(h, rec->hash, sizeof(h)) == 0;
	sodium_memzero(h, sizeof(h));
	if (!good)
		return rc_fail(RC_ERR_AUTH, "wrong secret for token %s", id);
	/* the uid, never the name: a name can pass to a later user */
	if (rec->pub.owner_uid == 0 || rec->pub.owner_uid != uid)
		return rc_fail(RC_ERR_AUTH, "token %s belongs to another user", id);
	if (rec->pub.max_expiry && now >= rec->pub.max_expiry)
		return rc_fail(RC_ERR_AUTH, "token %s is past its maximum age", id);
	if (now >= rec->pub.expires)
		return rc_fail(RC_ERR_AUTH, "token %s has expired", id);
	if (now - rec->pub.last_used >= 60) {
		*touch = true;
		use_at(rec, now);
	}
	return RC_OK;
}

/* Write back a use that rc_token_verify found due (SEEN, as it left it),
 * in the login's write transaction: host state only (the token record is
 * not written).  The verify ran in an earlier read
 * transaction, so this works on the token as it is now: one revoked
 * meanwhile is not brought back and the login is refused, and a later use
 * written meanwhile by a concurrent login is kept. */
int rc_token_touch(rc_txn *t, const rc_token_rec *seen)
{
	rc_token_rec cur;
	int rc = token_load(t, seen->pub.id, &cur);

	if (rc == RC_ERR_NOTFOUND)
		rc = rc_fail(RC_ERR_AUTH, "token %s was revoked during the login", seen->pub.id);
	else if (!rc && seen->pub.last_used > cur.pub.last_used) {
		use_at(&cur, seen->pub.last_used);
		rc = rc_host_token_store(t, &cur);
	}
	sodium_memzero(&cur, sizeof(cur));
	return rc;
}

int rc_token_remove(rc_txn *t, uint32_t owner_uid, const char *owner, const char *id)
{
	rc_token_rec rec;
	int rc = token_load(t, id, &rec);

	if (!rc && (rec.pub.owner_uid == 0 || rec.pub.owner_uid != owner_uid))
		rc = rc_fail(RC_ERR_NOTFOUND, "%s has no token with id %.16s", owner, id);
	if (!rc)
		rc = token_delete(t, &rec.pub);
	sodium_memzero(&rec, sizeof(rec));
	return rc;
}

/* ---- the tool's commands ---------------------------------------------------- */

/* Whose tokens a command acts on: the actor itself; another member
 * (manage-members, rank rule); or a service user (manage-services). */
typedef struct owner_ref {
	char name[RC_NAME_MAX + 1];
	uint32_t uid;
	int kind;
} owner_ref;

static int resolve_owner(rc_txn *t, const char *owner, int kind, owner_ref *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (!owner || (kind != RC_KIND_SVCUSER && rc_names_actor(t, owner))) {
		if ((rc = rc_require_self(t, "root has no tokens of its own: name a member or a "
		                             "service user")) != RC_OK)
			return t->root ? rc_fail_field(rc, "member,service_user", "%s", rc_errmsg())
			               : rc;
		snprintf(out->name, sizeof(out->name), "%s", t->am.username);
		out->uid = t->am.uid;
		out->kind = RC_KIND_MEMBER;
		return RC_OK;
	}
	if (kind == RC_KIND_SVCUSER) {
		rc_svcuser_rec u;
		rc = rc_require(t, RC_PERM_MANAGE_SERVICES);
		if (!rc)
			rc = rc_svcuser_load(t, owner, &u);
		if (!rc) {
			snprintf(out->name, sizeof(out->name), "%s", u.pub.username);
			out->uid = u.pub.uid;
			out->kind = RC_KIND_SVCUSER;
		}
		sodium_memzero(&u, sizeof(u));
		return rc;
	}
	if (kind != RC_KIND_MEMBER)
		return rc_fail(RC_ERR_INVALID, "bad kind of token owner");
	rc_member_rec m;
	rc = rc_require(t, RC_PERM_MANAGE_MEMBERS);
	if (!rc)
		rc = rc_member_load_ref(t, owner, &m);
	if (rc == RC_ERR_NOTFOUND && !strchr(owner, '@')) {
		rc_val v;
		if (rc_store_gets(t, DB_SVCUSERS, owner, &v) == RC_OK)
			rc = rc_fail_field(RC_ERR_NOTFOUND, "service_user", "no member named "
			                   "\"%.40s\": it is a service user", owner);
		else
			rc = rc_fail(RC_ERR_NOTFOUND, "no member named \"%.40s\"", owner);
	}
	if (!rc && !t->root)
		rc = rc_require_rank_over(t, &m);
	if (!rc) {
		snprintf(out->name, sizeof(out->name), "%s", m.username);
		out->uid = m.uid;
		out->kind = RC_KIND_MEMBER;
	}
	sodium_memzero(&m, sizeof(m));
	return rc;
}

static int valid_description(const char *d)
{
	size_t n = strlen(d);

	if (n > RC_TOKEN_DESC_MAX)
		return rc_fail(RC_ERR_INVALID, "description is longer than %d bytes",
		               RC_TOKEN_DESC_MAX);
	if (rc_has_control(d, false))
		return rc_fail(RC_ERR_INVALID, "description must not contain control characters");
	return RC_OK;
}

RC_API int rc_token_generate(rc_store *s, const rc_actor *a, const rc_token_req *req,
                             rc_token *info, char token_out[RC_TOKEN_LEN + 1])
{
	owner_ref owner;
	rc_txn t;
	int rc;

	token_out[0] = '\0';
	if (req->description && (rc = valid_description(req->description)) != 0)
		return rc;
	if (req->ttl < 0 || req->max_age < 0)
		return rc_fail(RC_ERR_INVALID, "durations must be positive");
	if (req->ttl && (req->ttl < 60 || req->ttl > (int64_t)3650 * 86400))
		return rc_fail_field(RC_ERR_INVALID, "ttl", "the time to live must be from 1m to "
		                     "3650d");
	if (req->max_age && (req->max_age < 60 || req->max_age > (int64_t)3650 * 86400))
		return rc_fail_field(RC_ERR_INVALID, "max_age", "the maximum age must be from 1m to "
		                     "3650d");
	if (req->extension != RC_EXT_SLIDE && req->extension != RC_EXT_FIXED)
		return rc_fail(RC_ERR_INVALID, "bad extension policy");
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "token.generate", req->owner ? req->owner : t.actor_name);
	if (req->owner && !rc_names_actor(&t, req->owner))
		rc = rc_fail(RC_ERR_PERM, "tokens are generated by their owner only");
	if (!rc)
		rc = resolve_owner(&t, NULL, RC_KIND_MEMBER, &owner);
	if (!rc && t.am.status != RC_MEMBER_ACTIVE)
		rc = rc_fail(RC_ERR_STATE, "%s is %s: only active members have tokens",
		             owner.name, rc_member_status_name(t.am.status));
	if (!rc) {
		rc_txn_audit(&t, "token.generate", owner.name);
		rc = rc_token_issue(&t, owner.name, owner.uid, RC_TOKEN_API, req->description,
		                    req->ttl, req->max_age, req->extension, info, token_out);
	}
	if (!rc) {
		char detail[RC_TOKEN_DESC_MAX + 32];
		snprintf(detail, sizeof(detail), "api token %s", info ? info->id : "");
		rc = rc_notice_queue(&t, RC_EV_TOKEN_CREATED, owner.name, detail);
	}
	if (!rc)
		snprintf(t.detail, sizeof(t.detail), "ok id=%s", info ? info->id : "");
	rc = rc_txn_end(&t, rc);
	if (rc)
		sodium_memzero(token_out, RC_TOKEN_LEN + 1);
	return rc;
}

RC_API int rc_token_foreach(rc_store *s, const rc_actor *a, const char *owner,
                            int owner_kind, rc_token_cb cb, void *ctx)
{
	owner_ref who;
	rc_token_rec *arr = NULL;
	size_t n = 0;
	rc_txn t;
	int64_t now;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	now = rc_store_now(s);
	rc = resolve_owner(&t, owner, owner_kind, &who);
	if (!rc)
		rc = owner_tokens(&t, who.uid, &arr, &n);
	rc = rc_txn_end(&t, rc);
	for (size_t i = 0; !rc && i < n; i++) {
		if (token_expired(&arr[i].pub, now))
			continue;
		rc = cb(&arr[i].pub, ctx);
	}
	if (arr)
		sodium_memzero(arr, n * sizeof(*arr));
	free(arr);
	return rc;
}

RC_API int rc_token_revoke(rc_store *s, const rc_actor *a, const char *owner,
                           int owner_kind, const char *id)
{
	char tid[RC_TOKEN_ID_LEN + 1], target[80];
	owner_ref who;
	rc_txn t;
	int rc;

	/* the id, or the whole token (its id part) */
	if (strncmp(id, PREFIX, PREFIX_LEN) == 0 && strlen(id) > SEP_OFF)
		id += ID_OFF;
	if (strlen(id) < RC_TOKEN_ID_LEN || (id[RC_TOKEN_ID_LEN] && id[RC_TOKEN_ID_LEN] != '_'))
		return rc_fail(RC_ERR_INVALID, "\"%.20s\" is not a token id (%d characters a-z, "
		               "2-7, as in token list)", id, RC_TOKEN_ID_LEN);
	for (int i = 0; i < RC_TOKEN_ID_LEN; i++)
		if (!is_b32(id[i]))
			return rc_fail(RC_ERR_INVALID, "\"%.20s\" is not a token id (%d "
			               "characters a-z, 2-7)", id, RC_TOKEN_ID_LEN);
	memcpy(tid, id, RC_TOKEN_ID_LEN);
	tid[RC_TOKEN_ID_LEN] = '\0';
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	snprintf(target, sizeof(target), "%.32s token=%s", owner ? owner : t.actor_name, tid);
	rc_txn_audit(&t, "token.revoke", target);
	rc = resolve_owner(&t, owner, owner_kind, &who);
	if (!rc) {
		snprintf(target, sizeof(target), "%.32s token=%s", who.name, tid);
		rc_txn_audit(&t, "token.revoke", target);
		rc = rc_token_remove(&t, who.uid, who.name, tid);
	}
	return rc_txn_end(&t, rc);
}

RC_API int rc_token_revoke_all(rc_store *s, const rc_actor *a, const char *owner,
                               int owner_kind, size_t *revoked)
{
	owner_ref who;
	size_t n = 0;
	rc_txn t;
	int rc;

	if (revoked)
		*revoked = 0;
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "token.revoke-all", owner ? owner : t.actor_name);
	rc = resolve_owner(&t, owner, owner_kind, &who);
	if (!rc) {
		rc_txn_audit(&t, "token.revoke-all", who.name);
		rc = rc_tokens_revoke_owner(&t, who.uid, &n);
	}
	if (!rc)
		snprintf(t.detail, sizeof(t.detail), "ok revoked=%zu", n);
	rc = rc_txn_end(&t, rc);
	if (!rc && revoked)
		*revoked = n;
	return rc;
}

/* ---- schema 1 -> 2 ------------------------------------------------------------ */

/* Tokens of schema 1 name their owner only.  A member's tokens get the
 * member's uid (members cannot be renamed, and removing one revoked its
 * tokens, so the name still means the same member).  A service user's
 * cannot be told from those of an earlier service user of the same name
 * (a removal, a rename or a new password did not revoke them): they are
 * revoked, as are tokens of no current user.  The old index goes. */
static int drop_key(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	(void)t;
	(void)k;
	(void)v;
	(void)ctx;
	return RC_WALK_DEL;
}

static int uidless_token(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct tok_list *l = ctx;
	rc_token_rec *rec;
	int rc;

	(void)t;
	if (k->size != RC_TOKEN_ID_LEN + 1)
		return RC_WALK_STOP;
	if (!(rec = tok_slot(l)))
		return RC_ERR_NOMEM;
	rc = rc_token_decode(v->data, v->size, rec);
	if (!rc && rec->pub.owner_uid == 0)
		l->n++;
	return rc;
}

int rc_tokens_upgrade(rc_txn *t, size_t *kept, size_t *dropped)
{
	struct tok_list l = { 0 };
	int rc;

	*kept = *dropped = 0;
	/* the name index: "o" + name + NUL + id */
	rc = rc_store_foreach(t, DB_TOKENS, "o", 1, drop_key, NULL);
	/* the records without a uid */
	if (!rc)
		rc = rc_store_foreach(t, DB_TOKENS, "i", 1, uidless_token, &l);
	rc_token_rec *arr = l.arr;
	size_t n = l.n, cap = l.cap;
	for (size_t i = 0; !rc && i < n; i++) {
		char key[RC_TOKEN_OWNER_KEY_LEN];
		rc_member_rec m;
		int lrc = rc_member_load(t, arr[i].pub.owner, &m);
		if (lrc == RC_OK && m.uid) {
			arr[i].pub.owner_uid = m.uid;
			rc = token_store(t, &arr[i]);
			if (!rc)
				rc = rc_store_put(t, DB_TOKENS, key,
				                   rc_token_owner_key(m.uid, arr[i].pub.id, key), "", 0, 0);
			(*kept)++;
		} else if (lrc == RC_OK || lrc == RC_ERR_NOTFOUND) {
			rc = rc_store_del(t, DB_TOKENS, key, (size_t)id_key(arr[i].pub.id, key));
			(*dropped)++;
		} else {
			rc = lrc;
		}
		sodium_memzero(&m, sizeof(m));
	}
	if (arr)
		sodium_memzero(arr, cap * sizeof(*arr));
	free(arr);
	return rc;
}

/* ---- schema 2 -> 3 ------------------------------------------------------------ */

int rc_tokens_host_upgrade(rc_txn *t, size_t *moved)
{
	char (*keys)[RC_NAME_MAX + 1] = NULL;
	size_t n = 0;
	int rc = rc_store_keys(t, DB_TOKENS, "i", &keys, &n);

	for (size_t i = 0; !rc && i < n; i++) {
		rc_token_rec rec;
		if (strlen(keys[i]) != RC_TOKEN_ID_LEN + 1)
			continue;
		/* (no host entry yet: the record as it is) */
		rc = token_load(t, keys[i] + 1, &rec);
		if (!rc && rec.pub.last_used) {
			rc = rc_host_token_store(t, &rec);
			rec.pub.last_used = 0;
			if (!rc)
				rc = token_store(t, &rec);
			(*moved)++;
		}
		sodium_memzero(&rec, sizeof(rec));
	}
	free(keys);
	return rc;
}
