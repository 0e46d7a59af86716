/*
 * replica.c - the local replica of the fleet's directory: the only code
 * that writes replicated records into a store (fleet.h).
 *
 * What it keeps in the host database (host state: the replica's own):
 *   "@fleet/u/" + an entry's 16-byte UUID   the kind (1 byte) and the key
 *                                           of the record it holds
 *   "@fleet/cookie"                         the sync cookie of the data
 *   "@fleet/applied", "@fleet/synced"       when a change was last applied
 *                                           and a refresh last completed
 * The cookie is written only by rc_replica_commit, in the transaction of
 * the changes it covers.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "internal.h"
#include "fleet.h"

#define UUID_PREFIX   "@fleet/u/"
#define UUID_PLEN     (sizeof(UUID_PREFIX) - 1)
#define COOKIE_KEY    "@fleet/cookie"
#define COOKIE_MAX    511

static const char *const kind_names[RC_REPL_KINDS] = {
	"member", "role", "invitation", "service", "svcuser", "token", "setting"
};
static const char *const kind_ous[RC_REPL_KINDS] = {
	"members", "roles", "invitations", "services", "serviceusers", "tokens", "settings"
};
static const int kind_db[RC_REPL_KINDS] = {
	DB_MEMBERS, DB_ROLES, DB_INVITATIONS, DB_SERVICES, DB_SVCUSERS, DB_TOKENS, DB_SETTINGS
};

const char *rc_repl_kind_name(int kind)
{
	return kind >= 0 && kind < RC_REPL_KINDS ? kind_names[kind] : NULL;
}

const char *rc_repl_kind_ou(int kind)
{
	return kind >= 0 && kind < RC_REPL_KINDS ? kind_ous[kind] : NULL;
}

int rc_repl_kind_parse(const char *name)
{
	for (int i = 0; i < RC_REPL_KINDS; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return i;
	return -1;
}

/* Which keys of a database are membership from the directory: a token's
 * record ("i" + id; its owner index follows it), a setting that is not a
 * counter of this store's own ("@schema", "@generation", "@nsslog/..."). */
static bool key_replicated(int kind, const void *key, size_t klen)
{
	const char *k = key;

	if (klen == 0)
		return false;
	if (kind == RC_REPL_TOKEN)
		return klen == RC_TOKEN_ID_LEN + 1 && k[0] == 'i';
	if (kind == RC_REPL_SETTING) {
		if (k[0] != '@')
			return true;
		return (klen == 12 && memcmp(k, "@gid_members", 12) == 0) ||
		       (klen == 8 && memcmp(k, "@next_id", 8) == 0);
	}
	return true;
}

/* ---- export ----------------------------------------------------------------- */

/* a member record: its public fields (the hash too) to CB */
static int member_view(rc_repl_rec *r, const void *val, size_t vlen, rc_repl_cb cb,
                       void *ctx)
{
	rc_member_rec *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	rc = rc_member_decode(val, vlen, m);
	if (!rc) {
		r->name = m->username;
		r->email = m->email;
		r->full_name = m->full_name;
		r->role = m->role;
		r->status = rc_member_status_name(m->status);
		r->pwhash = m->pwhash;
		r->uid = m->uid;
		rc = cb(r, ctx);
	}
	sodium_memzero(m, sizeof(*m));
	free(m);
	return rc;
}

/* a service user record's name and uid to CB */
static int svcuser_view(rc_repl_rec *r, const void *val, size_t vlen, rc_repl_cb cb,
                        void *ctx)
{
	rc_svcuser_rec u;
	int rc;

	if ((rc = rc_svcuser_decode(val, vlen, &u)) == 0) {
		r->name = u.pub.username;
		r->uid = u.pub.uid;
		rc = cb(r, ctx);
	}
	sodium_memzero(&u, sizeof(u));
	return rc;
}

/* a token record's id and owner to CB */
static int token_view(rc_repl_rec *r, const void *val, size_t vlen, rc_repl_cb cb,
                      void *ctx)
{
	rc_token_rec tk;
	int rc;

	if ((rc = rc_token_decode(val, vlen, &tk)) == 0) {
		r->name = tk.pub.id;
		r->owner = tk.pub.owner;
		r->uid = tk.pub.owner_uid;
		rc = cb(r, ctx);
	}
	sodium_memzero(&tk, sizeof(tk));
	return rc;
}

int rc_repl_rec_view(int kind, const void *key, size_t klen, const void *val, size_t vlen,
                     rc_repl_cb cb, void *ctx)
{
	rc_repl_rec r = { .kind = kind, .key = key, .klen = klen, .val = val, .vlen = vlen };
	char name[RC_SETTING_MAX + 1];
	int rc = RC_OK;

	if (!key_replicated(kind, key, klen))
		return rc_fail(RC_ERR_INVALID, "a %s record key the directory does not hold",
		               rc_repl_kind_name(kind) ? rc_repl_kind_name(kind) : "unknown");
	switch (kind) {
	case RC_REPL_MEMBER:
		return member_view(&r, val, vlen, cb, ctx);
	case RC_REPL_ROLE: {
		rc_role ro;
		if ((rc = rc_role_decode(val, vlen, &ro)) != 0)
			return rc;
		r.name = ro.name;
		r.rank = ro.rank;
		r.perms = ro.perms;
		return cb(&r, ctx);
	}
	case RC_REPL_INVITATION: {
		rc_invitation inv;
		if ((rc = rc_invitation_decode(val, vlen, &inv)) != 0)
			return rc;
		r.name = inv.username;
		r.email = inv.email;
		r.role = inv.role;
		return cb(&r, ctx);
	}
	case RC_REPL_SERVICE: {
		rc_service svc;
		if ((rc = rc_service_decode(val, vlen, &svc)) != 0)
			return rc;
		r.name = svc.name;
		return cb(&r, ctx);
	}
	case RC_REPL_SVCUSER:
		return svcuser_view(&r, val, vlen, cb, ctx);
	case RC_REPL_TOKEN:
		return token_view(&r, val, vlen, cb, ctx);
	case RC_REPL_SETTING:
		if (klen > RC_SETTING_MAX)
			return RC_OK;
		memcpy(name, key, klen);
		name[klen] = '\0';
		r.name = name;
		return cb(&r, ctx);
	default:
		return RC_OK;
	}
}

int rc_replica_export(rc_store *s, rc_repl_cb cb, void *ctx)
{
	rc_actor root = { .uid = 0, .origin = "fleet" };
	rc_txn t;
	int rc = rc_txn_begin(s, &root, false, &t);

	for (int kind = 0; !rc && kind < RC_REPL_KINDS; kind++) {
		rc_cursor *c;
		rc_val k, v;
		int mrc = rc_cursor_open(&t, kind_db[kind], &c);
		if (mrc) {
			rc = mrc;
			break;
		}
		for (mrc = rc_cursor_get(c, &k, &v, RC_CUR_FIRST); !rc && mrc == 0;
		     mrc = rc_cursor_get(c, &k, &v, RC_CUR_NEXT))
			if (key_replicated(kind, k.data, k.size))
				rc = rc_repl_rec_view(kind, k.data, k.size, v.data, v.size, cb, ctx);
		if (!rc && mrc != RC_ERR_NOTFOUND)
			rc = mrc;
		rc_cursor_close(c);
	}
	return rc_txn_end(&t, rc);
}

/* ---- marks: the records a refresh saw ----------------------------------- */

typedef struct mark {
	uint32_t len;           /* 0: an empty slot */
	uint8_t *b;             /* kind byte + key (or an entry UUID) */
} mark;

/* A set of byte strings (open addressing, never shrinks until cleared). */
typedef struct byteset {
	mark *m;
	size_t cap, n;
} byteset;

struct rc_replica {
	rc_store *s;
	rc_txn t;
	bool open;
	size_t pending;
	byteset marks;          /* the records this refresh saw */
	/* entries the provider called present that this store does not have,
	 * and those of them that came whole since (rc_replica_refresh_missing) */
	byteset awaited, came;
};

static uint64_t hash_bytes(const uint8_t *b, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static bool set_has(const byteset *set, const uint8_t *b, size_t n)
{
	if (!set->cap)
		return false;
	for (size_t i = hash_bytes(b, n) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
		if (!set->m[i].len)
			return false;
		if (set->m[i].len == n && memcmp(set->m[i].b, b, n) == 0)
			return true;
	}
}

static int set_grow(byteset *set)
{
	size_t ncap = set->cap ? set->cap * 2 : 1024;
	mark *nm = calloc(ncap, sizeof(*nm));
	if (!nm)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	for (size_t j = 0; j < set->cap; j++) {
		if (!set->m[j].len)
			continue;
		size_t i = hash_bytes(set->m[j].b, set->m[j].len) & (ncap - 1);
		while (nm[i].len)
			i = (i + 1) & (ncap - 1);
		nm[i] = set->m[j];
	}
	free(set->m);
	set->m = nm;
	set->cap = ncap;
	return RC_OK;
}

static int set_add(byteset *set, const uint8_t *b, size_t n)
{
	int rc;

	if (set_has(set, b, n))
		return RC_OK;
	if ((set->n + 1) * 2 > set->cap && (rc = set_grow(set)) != RC_OK)
		return rc;
	uint8_t *copy = malloc(n);
	if (!copy)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	memcpy(copy, b, n);
	size_t i = hash_bytes(b, n) & (set->cap - 1);
	while (set->m[i].len)
		i = (i + 1) & (set->cap - 1);
	set->m[i].len = (uint32_t)n;
	set->m[i].b = copy;
	set->n++;
	return RC_OK;
}

static void set_clear(byteset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->m[i].b);
	free(set->m);
	set->m = NULL;
	set->cap = set->n = 0;
}

static bool mark_has(const rc_replica *r, const uint8_t *b, size_t n)
{
	return set_has(&r->marks, b, n);
}

static int mark_add(rc_replica *r, const uint8_t *b, size_t n)
{
	return set_add(&r->marks, b, n);
}

static void marks_clear(rc_replica *r)
{
	set_clear(&r->marks);
	set_clear(&r->awaited);
	set_clear(&r->came);
}

/* The entry UUID came whole (or went): no longer awaited. */
static int came_whole(rc_replica *r, const uint8_t uuid[16])
{
	if (!r->awaited.n || !set_has(&r->awaited, uuid, 16))
		return RC_OK;
	return set_add(&r->came, uuid, 16);
}

size_t rc_replica_refresh_missing(const rc_replica *r)
{
	return r->awaited.n - r->came.n;
}

int rc_replica_new(rc_replica **out, rc_store *s)
{
	rc_replica *r = calloc(1, sizeof(*r));
	if (!r)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	r->s = s;
	*out = r;
	return RC_OK;
}

void rc_replica_free(rc_replica *r)
{
	if (!r)
		return;
	if (r->open)
		rc_replica_abort(r);
	marks_clear(r);
	free(r);
}

void rc_replica_refresh_start(rc_replica *r)
{
	marks_clear(r);
}

size_t rc_replica_pending(const rc_replica *r)
{
	return r->pending;
}

int rc_replica_begin(rc_replica *r)
{
	rc_actor root = { .uid = 0, .origin = "rollcalld" };
	int rc;

	if (r->open)
		return RC_OK;
	if ((rc = rc_txn_begin(r->s, &root, true, &r->t)) != 0)
		return rc;
	r->open = true;
	r->pending = 0;
	return RC_OK;
}

void rc_replica_abort(rc_replica *r)
{
	if (r->open)
		(void)rc_txn_end(&r->t, RC_ERR_STATE);
	r->open = false;
	r->pending = 0;
}

/* ---- one record in, one record out ------------------------------------------- */

static int email_idx_put(rc_txn *t, const char *email, const char *username)
{
	char key[RC_EMAIL_MAX + 1];
	rc_email_key(email, key, sizeof(key));
	return rc_store_put(t, DB_IDX_EMAIL, key, strlen(key), username, strlen(username), 0);
}

/* Drop the index entry KEY of DB when it still names NAME (a record that
 * took the value over is left alone). */
static int idx_del_if(rc_txn *t, int db, const void *key, size_t klen, const char *name,
                      size_t skip)
{
	rc_val v;
	int rc = rc_store_get(t, db, key, klen, &v);
	size_t n = strlen(name);

	if (rc == RC_ERR_NOTFOUND)
		return RC_OK;
	if (rc)
		return rc;
	if (v.size != n + skip || memcmp((const char *)v.data + skip, name, n) != 0)
		return RC_OK;
	rc = rc_store_del(t, db, key, klen);
	return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
}

static int uid_idx_del_if(rc_txn *t, uint32_t uid, const char *name)
{
	uint8_t k[4];
	rc_uid_key(uid, k);
	return idx_del_if(t, DB_IDX_UID, k, 4, name, 1);
}

static int email_idx_del_if(rc_txn *t, const char *email, const char *username)
{
	char key[RC_EMAIL_MAX + 1];
	rc_email_key(email, key, sizeof(key));
	return idx_del_if(t, DB_IDX_EMAIL, key, strlen(key), username, 0);
}

/* Remove the record KEY of KIND, with what follows it (indexes, the host
 * state of the identity or token). */
static int record_del(rc_txn *t, int kind, const void *key, size_t klen)
{
	int db = kind_db[kind];
	rc_val v;
	int rc = rc_store_get(t, db, key, klen, &v);

	if (rc == RC_ERR_NOTFOUND)
		return RC_OK;
	if (rc)
		return rc;
	switch (kind) {
	case RC_REPL_MEMBER: {
		rc_member_rec *m = calloc(1, sizeof(*m));
		if (!m)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		if (rc_member_decode(v.data, v.size, m) == RC_OK) {
			rc = uid_idx_del_if(t, m->uid, m->username);
			if (!rc)
				rc = email_idx_del_if(t, m->email, m->username);
			if (!rc)
				rc = rc_host_user_del(t, m->uid);
		}
		sodium_memzero(m, sizeof(*m));
		free(m);
		break;
	}
	case RC_REPL_SVCUSER: {
		rc_svcuser_rec u;
		if (rc_svcuser_decode(v.data, v.size, &u) == RC_OK) {
			rc = uid_idx_del_if(t, u.pub.uid, u.pub.username);
			if (!rc)
				rc = rc_host_user_del(t, u.pub.uid);
		}
		sodium_memzero(&u, sizeof(u));
		break;
	}
	case RC_REPL_TOKEN: {
		rc_token_rec tk;
		char ok[RC_TOKEN_OWNER_KEY_LEN];
		if (rc_token_decode(v.data, v.size, &tk) == RC_OK) {
			rc = rc_store_del(t, DB_TOKENS, ok, rc_token_owner_key(tk.pub.owner_uid, tk.pub.id, ok));
			if (rc == RC_ERR_NOTFOUND)
				rc = RC_OK;
			if (!rc)
				rc = rc_host_token_del(t, tk.pub.id);
		}
		sodium_memzero(&tk, sizeof(tk));
		break;
	}
	default:
		break;
	}
	if (rc == RC_ERR_NOTFOUND)
		rc = RC_OK;
	if (!rc)
		rc = rc_store_del(t, db, key, klen);
	return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
}

/* Check VAL with the codec as a record of KIND under KEY, then store it
 * with its indexes.  A record the codec refuses, or whose key is not its
 * own, is RC_ERR_INVALID (nothing written). */
static int record_check_put(rc_txn *t, int kind, const void *key, size_t klen, const void *val,
                            size_t vlen);
static int record_put(rc_txn *t, int kind, const void *key, size_t klen, const void *val,
                      size_t vlen)
{
	if (!key_replicated(kind, key, klen) || klen > 511)
		return rc_fail(RC_ERR_INVALID, "a %s record with a key that is not one", kind_names[kind]);
	return record_check_put(t, kind, key, klen, val, vlen);
}

/* A record the codec refuses is bad input from the directory, not a
 * damaged store: refused alone (RC_ERR_INVALID), the batch goes on. */
static int codec_ok(int rc, int kind)
{
	if (rc == RC_OK || rc == RC_ERR_NOMEM)
		return rc;
	return rc_fail(RC_ERR_INVALID, "a %s record the store's codec refuses (%s)",
	               kind_names[kind], rc_errmsg());
}

/* a member record: checked, stored, its uid and email indexes moved */
static int member_check_put(rc_txn *t, int kind, const void *key, size_t klen, const void *val,
                            size_t vlen)
{
	rc_member_rec *m = calloc(1, sizeof(*m)), *old = calloc(1, sizeof(*old));
	rc_val ov;
	int rc;

	if (!m || !old) {
		free(m);
		free(old);
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	}
	rc = codec_ok(rc_member_decode(val, vlen, m), kind);
	if (!rc && (strlen(m->username) != klen || memcmp(m->username, key, klen) != 0))
		rc = rc_fail(RC_ERR_INVALID, "a member record under another name's key");
	if (!rc && rc_store_get(t, DB_MEMBERS, key, klen, &ov) == RC_OK &&
	    rc_member_decode(ov.data, ov.size, old) == RC_OK) {
		if (old->uid != m->uid)
			rc = uid_idx_del_if(t, old->uid, old->username);
		if (!rc && strcasecmp(old->email, m->email) != 0)
			rc = email_idx_del_if(t, old->email, old->username);
	}
	if (!rc)
		rc = rc_member_put(t, m);
	if (!rc)
		rc = rc_uid_index_put(t, m->uid, 'm', m->username);
	if (!rc)
		rc = email_idx_put(t, m->email, m->username);
	sodium_memzero(m, sizeof(*m));
	sodium_memzero(old, sizeof(*old));
	free(m);
	free(old);
	return rc;
}

/* a service user record: checked, stored, its uid indexed */
static int svcuser_check_put(rc_txn *t, int kind, const void *key, size_t klen, const void *val,
                             size_t vlen)
{
	rc_svcuser_rec u;
	int rc;

	rc = codec_ok(rc_svcuser_decode(val, vlen, &u), kind);
	if (!rc && (strlen(u.pub.username) != klen || memcmp(u.pub.username, key, klen) != 0))
		rc = rc_fail(RC_ERR_INVALID, "a service user record under another name's key");
	if (!rc)
		rc = rc_svcuser_put(t, &u);
	if (!rc)
		rc = rc_uid_index_put(t, u.pub.uid, 's', u.pub.username);
	sodium_memzero(&u, sizeof(u));
	return rc;
}

/* a token record: checked, stored with its owner's index entry */
static int token_check_put(rc_txn *t, int kind, const void *key, size_t klen, const void *val,
                           size_t vlen)
{
	rc_token_rec tk;
	char ok[RC_TOKEN_OWNER_KEY_LEN];
	int rc;

	rc = codec_ok(rc_token_decode(val, vlen, &tk), kind);
	if (!rc && memcmp(tk.pub.id, (const char *)key + 1, RC_TOKEN_ID_LEN) != 0)
		rc = rc_fail(RC_ERR_INVALID, "a token record under another id's key");
	if (!rc)
		rc = rc_store_put(t, DB_TOKENS, key, klen, val, vlen, 0);
	if (!rc)
		rc = rc_store_put(t, DB_TOKENS, ok,
		                   rc_token_owner_key(tk.pub.owner_uid, tk.pub.id, ok), "", 0, 0);
	sodium_memzero(&tk, sizeof(tk));
	return rc;
}

static int record_check_put(rc_txn *t, int kind, const void *key, size_t klen, const void *val,
                            size_t vlen)
{
	int rc;

	switch (kind) {
	case RC_REPL_MEMBER:
		return member_check_put(t, kind, key, klen, val, vlen);
	case RC_REPL_SVCUSER:
		return svcuser_check_put(t, kind, key, klen, val, vlen);
	case RC_REPL_TOKEN:
		return token_check_put(t, kind, key, klen, val, vlen);
	case RC_REPL_ROLE: {
		rc_role ro;
		rc = codec_ok(rc_role_decode(val, vlen, &ro), kind);
		if (!rc && (strlen(ro.name) != klen || memcmp(ro.name, key, klen) != 0))
			rc = rc_fail(RC_ERR_INVALID, "a role record under another name's key");
		break;
	}
	case RC_REPL_INVITATION: {
		rc_invitation inv;
		rc = codec_ok(rc_invitation_decode(val, vlen, &inv), kind);
		if (!rc && (strlen(inv.username) != klen || memcmp(inv.username, key, klen) != 0))
			rc = rc_fail(RC_ERR_INVALID, "an invitation record under another name's key");
		break;
	}
	case RC_REPL_SERVICE: {
		rc_service svc;
		rc = codec_ok(rc_service_decode(val, vlen, &svc), kind);
		if (!rc && (strlen(svc.name) != klen || memcmp(svc.name, key, klen) != 0))
			rc = rc_fail(RC_ERR_INVALID, "a service record under another name's key");
		break;
	}
	case RC_REPL_SETTING: {
		char value[RC_SETTING_MAX + 1];
		rc = codec_ok(rc_setting_decode(val, vlen, value, sizeof(value)), kind);
		break;
	}
	default:
		return rc_fail(RC_ERR_INVALID, "an unknown kind of record");
	}
	return rc ? rc : rc_store_put(t, kind_db[kind], key, klen, val, vlen, 0);
}

/* ---- the entry's attributes against its record ---------------------------------
 * slapd's ACLs govern the attributes, never the record inside rcRecord
 * (opaque to it): a record is applied only when its own fields say what
 * the attributes say. */

const char *const rc_repl_attr_names[] = {
	"uid", "mail", "rcRole", "rcRoleRef", "rcStatus", "rcUidNumber", "rcMemberRef", NULL
};

static int differ(const char *dn, const char *attr, const char *have, const char *want)
{
	return rc_fail(RC_ERR_INVALID, "%.200s: its %s (%.80s) is not the record's (%.80s): an "
	               "entry changed around the ACLs", dn, attr, have ? have : "none", want);
}

static int same(const char *dn, const char *attr, const char *have, const char *want)
{
	return have && strcmp(have, want) == 0 ? RC_OK : differ(dn, attr, have, want);
}

static int same_uint(const char *dn, const char *attr, const char *have, uint32_t want)
{
	char w[16];
	snprintf(w, sizeof(w), "%u", (unsigned)want);
	return same(dn, attr, have, w);
}

/* HAVE is the DN of the entry NAME (an RDN ATTR=NAME) under ou=OU */
static int same_ref(const char *dn, const char *attr, const char *have, const char *rdn_attr,
                    const char *name, const char *ou)
{
	char want[2 * 512 + 64];
	snprintf(want, sizeof(want), "%s=%s,ou=%s,", rdn_attr, name, ou);
	if (have && strncmp(have, want, strlen(want)) == 0)
		return RC_OK;
	return differ(dn, attr, have, want);
}

/* The entry's RDN value is the record's name (KEY), or the hex of KEY */
static int same_rdn(const rc_repl_attrs *at, int kind, const void *key, size_t klen)
{
	char want[2 * 511 + 1];
	const char *dn = at->dn ? at->dn : "";
	const char *eq = strchr(dn, '='), *end = eq ? strchr(eq, ',') : NULL;

	if (kind == RC_REPL_MEMBER || kind == RC_REPL_INVITATION || kind == RC_REPL_SVCUSER)
		snprintf(want, sizeof(want), "%.*s", (int)klen, (const char *)key);
	else
		sodium_bin2hex(want, sizeof(want), key, klen);
	if (eq && end && (size_t)(end - eq - 1) == strlen(want) && !memcmp(eq + 1, want, strlen(want)))
		return RC_OK;
	return rc_fail(RC_ERR_INVALID, "%.200s: an entry whose name is not its record's key", dn);
}

/* The uid UID is no one's but NAME's (KIND 'm' or 's') in this store */
static int uid_free(rc_txn *t, const char *dn, uint32_t uid, char kind, const char *name)
{
	char k, who[RC_NAME_MAX + 1];
	int rc = rc_uid_index_get(t, uid, &k, who);
	if (rc == RC_ERR_NOTFOUND)
		return RC_OK;
	if (rc)
		return rc;
	if (k == kind && strcmp(who, name) == 0)
		return RC_OK;
	return rc_fail(RC_ERR_INVALID, "%.200s: uid %u is already %s's", dn, (unsigned)uid, who);
}

/* The email address EMAIL is no other member's in this store (the
 * directory cannot keep addresses unique) */
static int email_free(rc_txn *t, const char *dn, const char *email, const char *username)
{
	char key[RC_EMAIL_MAX + 1];
	rc_val v;
	int rc;

	rc_email_key(email, key, sizeof(key));
	rc = rc_store_get(t, DB_IDX_EMAIL, key, strlen(key), &v);
	if (rc == RC_ERR_NOTFOUND)
		return RC_OK;
	if (rc)
		return rc;
	if (v.size == strlen(username) && memcmp(v.data, username, v.size) == 0)
		return RC_OK;
	return rc_fail(RC_ERR_INVALID, "%.200s: the email address %.80s is already %.*s's", dn,
	               email, (int)(v.size > RC_NAME_MAX ? RC_NAME_MAX : v.size),
	               (const char *)v.data);
}

/* a member entry's attributes: its record's, its uid and email free */
static int member_attrs_check(rc_txn *t, int kind, const char *dn, const void *val, size_t vlen,
                              const rc_repl_attrs *at)
{
	rc_member_rec *m = calloc(1, sizeof(*m));
	char hex[2 * RC_NAME_MAX + 1];
	int rc;

	if (!m)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	rc = codec_ok(rc_member_decode(val, vlen, m), kind);
	if (!rc)
		sodium_bin2hex(hex, sizeof(hex), (const unsigned char *)m->role, strlen(m->role));
	if (!rc && !(rc = same(dn, "rcRole", at->role, m->role)) &&
	    !(rc = same_ref(dn, "rcRoleRef", at->role_ref, "cn", hex, "roles")) &&
	    !(rc = same(dn, "rcStatus", at->status, rc_member_status_name(m->status))) &&
	    !(rc = same_uint(dn, "rcUidNumber", at->uid_number, m->uid)) &&
	    !(rc = same(dn, "mail", at->mail, m->email)) &&
	    !(rc = uid_free(t, dn, m->uid, 'm', m->username)))
		rc = email_free(t, dn, m->email, m->username);
	sodium_memzero(m, sizeof(*m));
	free(m);
	return rc;
}

/* a token entry's attributes: its record's, the owner's uid that member's */
static int token_attrs_check(rc_txn *t, int kind, const char *dn, const void *val, size_t vlen,
                             const rc_repl_attrs *at)
{
	rc_token_rec tk;
	char k, who[RC_NAME_MAX + 1];
	int rc;

	if ((rc = codec_ok(rc_token_decode(val, vlen, &tk), kind)) == 0 &&
	    !(rc = same(dn, "uid", at->uid, tk.pub.owner)) &&
	    !(rc = same_ref(dn, "rcMemberRef", at->member_ref, "uid", tk.pub.owner, "members"))) {
		/* whose it is: the uid, the member of that name in this store */
		rc = rc_uid_index_get(t, tk.pub.owner_uid, &k, who);
		if (rc == RC_ERR_NOTFOUND || (!rc && (k != 'm' || strcmp(who, tk.pub.owner))))
			rc = rc_fail(RC_ERR_INVALID, "%.200s: a token of uid %u, not member %s's",
			             dn, (unsigned)tk.pub.owner_uid, tk.pub.owner);
	}
	sodium_memzero(&tk, sizeof(tk));
	return rc;
}

static int attrs_check(rc_txn *t, int kind, const void *key, size_t klen, const void *val,
                       size_t vlen, const rc_repl_attrs *at)
{
	const char *dn = at->dn ? at->dn : "an entry";
	int rc = same_rdn(at, kind, key, klen);

	if (rc)
		return rc;
	switch (kind) {
	case RC_REPL_MEMBER:
		return member_attrs_check(t, kind, dn, val, vlen, at);
	case RC_REPL_INVITATION: {
		rc_invitation inv;
		char hex[2 * RC_NAME_MAX + 1];
		if ((rc = codec_ok(rc_invitation_decode(val, vlen, &inv), kind)) != 0)
			return rc;
		sodium_bin2hex(hex, sizeof(hex), (const unsigned char *)inv.role, strlen(inv.role));
		if (!(rc = same(dn, "rcRole", at->role, inv.role)) &&
		    !(rc = same_ref(dn, "rcRoleRef", at->role_ref, "cn", hex, "roles")))
			rc = same(dn, "mail", at->mail, inv.email);
		sodium_memzero(&inv, sizeof(inv));
		return rc;
	}
	case RC_REPL_SVCUSER: {
		rc_svcuser_rec u;
		if ((rc = codec_ok(rc_svcuser_decode(val, vlen, &u), kind)) == 0 &&
		    !(rc = same_uint(dn, "rcUidNumber", at->uid_number, u.pub.uid)))
			rc = uid_free(t, dn, u.pub.uid, 's', u.pub.username);
		sodium_memzero(&u, sizeof(u));
		return rc;
	}
	case RC_REPL_TOKEN:
		return token_attrs_check(t, kind, dn, val, vlen, at);
	default:
		return RC_OK;
	}
}

static void uuid_key(const uint8_t uuid[16], uint8_t out[UUID_PLEN + 16])
{
	memcpy(out, UUID_PREFIX, UUID_PLEN);
	memcpy(out + UUID_PLEN, uuid, 16);
}

int rc_replica_put(rc_replica *r, const uint8_t uuid[16], const char *kindname,
                   const void *key, size_t klen, const void *val, size_t vlen)
{
	return rc_replica_put_entry(r, uuid, kindname, key, klen, val, vlen, NULL);
}

int rc_replica_put_entry(rc_replica *r, const uint8_t uuid[16], const char *kindname,
                         const void *key, size_t klen, const void *val, size_t vlen,
                         const rc_repl_attrs *attrs)
{
	int kind = rc_repl_kind_parse(kindname);
	uint8_t uk[UUID_PLEN + 16], ref[1 + 512];
	rc_val old;
	int rc;

	if (!r->open)
		return rc_fail(RC_ERR_STATE, "no replica transaction open");
	if ((rc = came_whole(r, uuid)) != RC_OK)
		return rc;
	if (kind < 0)
		return rc_fail(RC_ERR_INVALID, "an unknown kind of record \"%.20s\"", kindname);
	if (klen == 0 || klen > 511)
		return rc_fail(RC_ERR_INVALID, "a %s record without a key", kindname);
	ref[0] = (uint8_t)kind;
	memcpy(ref + 1, key, klen);
	uuid_key(uuid, uk);
	/* the entry held another record before (renamed): that one goes */
	bool held = false;
	rc = rc_store_get(&r->t, DB_HOST, uk, sizeof(uk), &old);
	if (rc == RC_OK && old.size >= 2 && old.size <= sizeof(ref) &&
	    (old.size != klen + 1 || memcmp(old.data, ref, klen + 1) != 0)) {
		const uint8_t *o = old.data;
		if (o[0] < RC_REPL_KINDS && (rc = record_del(&r->t, o[0], o + 1, old.size - 1)) != 0)
			return rc;
	} else if (rc == RC_OK) {
		held = true;     /* this record, as it was */
	} else if (rc != RC_ERR_NOTFOUND) {
		return rc;
	}
	int bad = attrs ? attrs_check(&r->t, kind, key, klen, val, vlen, attrs) : RC_OK;
	if (!bad)
		bad = record_put(&r->t, kind, key, klen, val, vlen);
	if (bad && bad != RC_ERR_INVALID)
		return bad;
	if (bad) {
		/* refused, but the entry is known: a later "present" for it is
		 * no sign of a replica out of step (kind 0xff: no record) */
		char why[256];
		snprintf(why, sizeof(why), "%s", rc_errmsg());
		/* what the entry held before goes too: this host holds nothing
		 * of an entry it cannot accept as it is now (a deactivation
		 * written wrong is no reason to keep the member active) */
		if (held && (rc = record_del(&r->t, kind, key, klen)) != 0)
			return rc;
		ref[0] = 0xff;
		if ((rc = rc_store_put(&r->t, DB_HOST, uk, sizeof(uk), ref, klen + 1, 0)) == 0)
			rc = mark_add(r, ref, klen + 1);
		return rc ? rc : rc_fail(RC_ERR_INVALID, "%s", why);
	}
	if ((rc = rc_store_put(&r->t, DB_HOST, uk, sizeof(uk), ref, klen + 1, 0)) != 0)
		return rc;
	r->pending++;
	return mark_add(r, ref, klen + 1);
}

int rc_replica_del(rc_replica *r, const uint8_t uuid[16])
{
	uint8_t uk[UUID_PLEN + 16], ref[1 + 512];
	rc_val old;
	int rc;

	if (!r->open)
		return rc_fail(RC_ERR_STATE, "no replica transaction open");
	if ((rc = came_whole(r, uuid)) != RC_OK)
		return rc;
	uuid_key(uuid, uk);
	rc = rc_store_get(&r->t, DB_HOST, uk, sizeof(uk), &old);
	if (rc == RC_ERR_NOTFOUND)
		return RC_OK;
	if (rc)
		return rc;
	if (old.size >= 2 && old.size <= sizeof(ref)) {
		memcpy(ref, old.data, old.size);
		if (ref[0] < RC_REPL_KINDS &&
		    (rc = record_del(&r->t, ref[0], ref + 1, old.size - 1)) != 0)
			return rc;
	}
	rc = rc_store_del(&r->t, DB_HOST, uk, sizeof(uk));
	r->pending++;
	return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
}

int rc_replica_mark(rc_replica *r, const uint8_t uuid[16])
{
	uint8_t uk[UUID_PLEN + 16];
	rc_val v;
	int rc;

	if (!r->open)
		return rc_fail(RC_ERR_STATE, "no replica transaction open");
	uuid_key(uuid, uk);
	rc = rc_store_get(&r->t, DB_HOST, uk, sizeof(uk), &v);
	if (rc == RC_ERR_NOTFOUND)   /* unknown here: it must come whole */
		return set_has(&r->came, uuid, 16) ? RC_OK : set_add(&r->awaited, uuid, 16);
	if (rc)
		return rc;
	return mark_add(r, v.data, v.size);
}

/* The keys of database DB (prefix-free walk), copied: the walk deletes. */
typedef struct keylist {
	uint8_t **k;
	size_t *n;
	size_t count, cap;
} keylist;

static void keylist_free(keylist *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->k[i]);
	free(l->k);
	free(l->n);
	memset(l, 0, sizeof(*l));
}

static int keylist_add(keylist *l, const void *k, size_t n)
{
	if (l->count == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		uint8_t **nk = realloc(l->k, nc * sizeof(*nk));
		if (!nk)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		l->k = nk;
		size_t *nn = realloc(l->n, nc * sizeof(*nn));
		if (!nn)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		l->n = nn;
		l->cap = nc;
	}
	if (!(l->k[l->count] = malloc(n ? n : 1)))
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	memcpy(l->k[l->count], k, n);
	l->n[l->count++] = n;
	return RC_OK;
}

/* Keys of DB (starting with PREFIX when given) for which KEEP is false. */
static int collect(rc_replica *r, int db, const char *prefix, int kind, keylist *out)
{
	rc_cursor *c;
	rc_val k, v;
	size_t plen = prefix ? strlen(prefix) : 0;
	uint8_t ref[1 + 512];
	int mrc = rc_cursor_open(&r->t, db, &c), rc = RC_OK;

	if (mrc)
		return mrc;
	if (plen) {
		k.data = (void *)(uintptr_t)prefix;
		k.size = plen;
		mrc = rc_cursor_get(c, &k, &v, RC_CUR_SET_RANGE);
	} else {
		mrc = rc_cursor_get(c, &k, &v, RC_CUR_FIRST);
	}
	for (; !rc && mrc == 0; mrc = rc_cursor_get(c, &k, &v, RC_CUR_NEXT)) {
		if (plen && (k.size < plen || memcmp(k.data, prefix, plen) != 0))
			break;
		if (plen) {
			/* a uuid entry: kept when the record it names was marked */
			if (!mark_has(r, v.data, v.size))
				rc = keylist_add(out, k.data, k.size);
			continue;
		}
		if (!key_replicated(kind, k.data, k.size) || k.size > 511)
			continue;
		ref[0] = (uint8_t)kind;
		memcpy(ref + 1, k.data, k.size);
		if (!mark_has(r, ref, k.size + 1))
			rc = keylist_add(out, k.data, k.size);
	}
	if (!rc && mrc && mrc != RC_ERR_NOTFOUND)
		rc = mrc;
	rc_cursor_close(c);
	return rc;
}

int rc_replica_sweep(rc_replica *r, size_t *removed)
{
	keylist l = { 0 };
	int rc = RC_OK;

	*removed = 0;
	if (!r->open)
		return rc_fail(RC_ERR_STATE, "no replica transaction open");
	for (int kind = 0; !rc && kind < RC_REPL_KINDS; kind++) {
		rc = collect(r, kind_db[kind], NULL, kind, &l);
		for (size_t i = 0; !rc && i < l.count; i++)
			rc = record_del(&r->t, kind, l.k[i], l.n[i]);
		*removed += l.count;
		keylist_free(&l);
	}
	if (!rc)
		rc = collect(r, DB_HOST, UUID_PREFIX, -1, &l);
	for (size_t i = 0; !rc && i < l.count; i++) {
		rc = rc_store_del(&r->t, DB_HOST, l.k[i], l.n[i]);
		if (rc == RC_ERR_NOTFOUND)
			rc = RC_OK;
	}
	keylist_free(&l);
	r->pending += *removed;
	return rc;
}

int rc_replica_commit(rc_replica *r, const void *cookie, size_t len, bool set_cookie)
{
	int rc = RC_OK;

	if (!r->open)
		return RC_OK;
	if (set_cookie) {
		if (len > COOKIE_MAX)
			rc = rc_fail(RC_ERR_INVALID, "a sync cookie of %zu bytes", len);
		else if (len)
			rc = rc_store_put(&r->t, DB_HOST, COOKIE_KEY, strlen(COOKIE_KEY), cookie, len, 0);
		else {
			rc = rc_store_del(&r->t, DB_HOST, COOKIE_KEY, strlen(COOKIE_KEY));
			if (rc == RC_ERR_NOTFOUND)
				rc = RC_OK;
		}
	}
	if (!rc && r->pending)
		rc = rc_host_meta_put_u64(&r->t, "@fleet/applied", (uint64_t)rc_store_now(r->s));
	if (!rc && set_cookie && len)
		rc = rc_host_meta_put_u64(&r->t, "@fleet/synced", (uint64_t)rc_store_now(r->s));
	rc = rc_txn_end(&r->t, rc);
	r->open = false;
	r->pending = 0;
	return rc;
}

int rc_replica_reset(rc_store *s)
{
	rc_replica *r = NULL;
	size_t removed;
	int rc = rc_replica_new(&r, s);

	if (rc || !r)
		return rc ? rc : RC_ERR_NOMEM;
	if ((rc = rc_replica_begin(r)) == 0) {
		rc = rc_replica_sweep(r, &removed);   /* nothing marked: all go */
		if (rc)
			rc_replica_abort(r);
		else
			rc = rc_replica_commit(r, NULL, 0, true);
	}
	rc_replica_free(r);
	return rc;
}

int rc_replica_status_get(rc_store *s, rc_replica_status *st)
{
	rc_actor root = { .uid = 0, .origin = "fleet" };
	rc_txn t;
	rc_val v;
	uint64_t n;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = rc_txn_begin(s, &root, false, &t)) != 0)
		return rc;
	if (s->no_host)
		return rc_txn_end(&t, RC_OK);
	if (rc_store_get(&t, DB_HOST, COOKIE_KEY, strlen(COOKIE_KEY), &v) == RC_OK) {
		size_t len = v.size < sizeof(st->cookie) - 1 ? v.size : sizeof(st->cookie) - 1;
		for (size_t i = 0; i < len; i++) {
			unsigned char ch = ((const unsigned char *)v.data)[i];
			st->cookie[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
		}
		st->cookie[len] = '\0';
	}
	if (rc_host_meta_get_u64(&t, "@fleet/applied", &n) == RC_OK)
		st->applied = (int64_t)n;
	if (rc_host_meta_get_u64(&t, "@fleet/synced", &n) == RC_OK)
		st->synced = (int64_t)n;
	{
		rc_cursor *c;
		rc_val k;
		int mrc = rc_cursor_open(&t, DB_HOST, &c);
		if (mrc)
			return rc_txn_end(&t, mrc);
		k.data = (void *)(uintptr_t)UUID_PREFIX;
		k.size = UUID_PLEN;
		for (mrc = rc_cursor_get(c, &k, &v, RC_CUR_SET_RANGE); mrc == 0;
		     mrc = rc_cursor_get(c, &k, &v, RC_CUR_NEXT)) {
			if (k.size < UUID_PLEN || memcmp(k.data, UUID_PREFIX, UUID_PLEN) != 0)
				break;
			if (v.size && *(const uint8_t *)v.data < RC_REPL_KINDS)
				st->entries++;   /* (not the entries whose record was refused) */
		}
		rc_cursor_close(c);
	}
	return rc_txn_end(&t, RC_OK);
}
