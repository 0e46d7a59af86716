/*
 * member.c - members and their invitations and reset codes; the member
 * records inside a transaction (rc_member_load/put, by name or email).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sodium.h>
#include "member.h"
#include "errors.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "validate.h"
#include "crypto.h"
#include "fsutil.h"
#include "actor.h"
#include "ids.h"
#include "role.h"
#include "settings.h"
#include "notify.h"
#include "audit.h"
#include "token.h"
#include "hoststate.h"

RC_API const char *rc_member_auth_method(const rc_member *m)
{
	return m->totp_enabled ? "two-factor" : "password";
}

RC_API const char *rc_invitation_state_name(int state)
{
	switch (state) {
	case RC_INV_PENDING: return "pending";
	case RC_INV_ACCEPTED: return "accepted";
	case RC_INV_WITHDRAWN: return "withdrawn";
	case RC_INV_EXPIRED: return "expired";
	}
	return "?";
}

int rc_invitation_load(rc_txn *t, const char *name, rc_invitation *inv)
{
	rc_val v;
	int rc = rc_store_gets(t, DB_INVITATIONS, name, &v);

	if (rc == RC_ERR_NOTFOUND)
		return rc_fail(RC_ERR_NOTFOUND, "no invitation for \"%.40s\"", name);
	if (rc)
		return rc;
	rc = rc_invitation_decode(v.data, v.size, inv);
	if (!rc && inv->state == RC_INV_PENDING && rc_store_now(t->s) >= inv->expires)
		inv->state = RC_INV_EXPIRED;
	return rc;
}

int rc_invitation_put(rc_txn *t, const rc_invitation *inv)
{
	rc_wbuf w;
	int rc;

	rc_invitation_encode(inv, &w);
	rc = rc_store_putw(t, DB_INVITATIONS, inv->username, strlen(inv->username), &w, 0);
	rc_wbuf_free(&w);
	return rc;
}

static int email_index_put(rc_txn *t, const char *email, const char *username)
{
	char key[RC_EMAIL_MAX + 1];
	rc_email_key(email, key, sizeof(key));
	return rc_store_put(t, DB_IDX_EMAIL, key, strlen(key), username, strlen(username), 0);
}

static int email_index_del(rc_txn *t, const char *email)
{
	char key[RC_EMAIL_MAX + 1];
	int rc;

	rc_email_key(email, key, sizeof(key));
	rc = rc_store_del(t, DB_IDX_EMAIL, key, strlen(key));
	return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
}

static int email_check_free(rc_txn *t, const char *email)
{
	char key[RC_EMAIL_MAX + 1];
	rc_val v;
	int rc;

	rc_email_key(email, key, sizeof(key));
	rc = rc_store_gets(t, DB_IDX_EMAIL, key, &v);
	if (rc == RC_OK)
		return rc_fail(RC_ERR_EXISTS, "a member with the email address %s already exists "
		               "(%.*s)", email, (int)(v.size > 32 ? 32 : v.size),
		               (const char *)v.data);
	return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
}

/* What a code result says besides the code and its expiry. */
static void code_result(const rc_member_rec *m, rc_code_result *out)
{
	snprintf(out->username, sizeof(out->username), "%s", m->username);
	snprintf(out->email, sizeof(out->email), "%s", m->email);
	snprintf(out->full_name, sizeof(out->full_name), "%s", m->full_name);
	snprintf(out->role, sizeof(out->role), "%s", m->role);
}

/* Store the pending invitation of M whose code hashes to HASH; its expiry
 * (invite.ttl from now) to *EXPIRES. */
static int invitation_put(rc_txn *t, const rc_member_rec *m, const char *inviter, uint32_t resent,
                          const uint8_t hash[32], int64_t *expires)
{
	rc_invitation inv = { .state = RC_INV_PENDING, .resent = resent };
	int64_t ttl;
	int rc = rc_setting_int(t, "invite.ttl", &ttl);

	if (rc)
		return rc;
	snprintf(inv.username, sizeof(inv.username), "%s", m->username);
	snprintf(inv.email, sizeof(inv.email), "%s", m->email);
	snprintf(inv.role, sizeof(inv.role), "%s", m->role);
	snprintf(inv.inviter, sizeof(inv.inviter), "%s", inviter);
	inv.created = rc_store_now(t->s);
	inv.expires = inv.created + ttl;
	memcpy(inv.code_hash, hash, sizeof(inv.code_hash));
	*expires = inv.expires;
	return rc_invitation_put(t, &inv);
}

int rc_invitation_issue(rc_txn *t, rc_member_rec *m, const char *inviter, uint32_t resent,
                        rc_code_result *out)
{
	uint8_t hash[32];
	int rc;

	rc_code_new(t->s, out->code, hash);
	code_result(m, out);
	rc = invitation_put(t, m, inviter, resent, hash, &out->expires);
	if (rc)
		sodium_memzero(out->code, sizeof(out->code));
	return rc;
}

/* The user name an email's local part gives, when it is a valid one. */
static int name_from_email(const char *email, char out[RC_NAME_MAX + 1])
{
	size_t n = strcspn(email, "@");
	if (n > RC_NAME_MAX)
		return rc_fail_field(RC_ERR_INVALID, "username", "the local part of %s is too long "
		                     "for a user name: give one", email);
	for (size_t i = 0; i < n; i++)
		out[i] = (email[i] >= 'A' && email[i] <= 'Z') ? (char)(email[i] + 32) : email[i];
	out[n] = '\0';
	if (rc_valid_username(out))
		return rc_fail_field(RC_ERR_INVALID, "username", "cannot make a user name of "
		                     "\"%s\" (%s): give one", out, rc_errmsg());
	return RC_OK;
}

/* An invitation's own fields, before any transaction: the email, the user
 * name (given, or the email's local part), the full name, a role named.
 * M becomes the pending member they describe (its role: invite_check). */
static int invite_fields(const rc_invite_req *req, rc_member_rec *m)
{
	int rc;

	memset(m, 0, sizeof(*m));
	m->status = RC_MEMBER_PENDING;
	if ((rc = rc_valid_email(req->email)) != 0)
		return rc;
	if (req->username) {
		if ((rc = rc_valid_username(req->username)) != 0)
			return rc;
		snprintf(m->username, sizeof(m->username), "%s", req->username);
	} else if ((rc = name_from_email(req->email, m->username)) != 0) {
		return rc;
	}
	if (req->full_name && (rc = rc_valid_full_name(req->full_name)) != 0)
		return rc;
	if (!req->role || !*req->role)
		return rc_fail(RC_ERR_INVALID, "no role given");
	snprintf(m->email, sizeof(m->email), "%s", req->email);
	snprintf(m->full_name, sizeof(m->full_name), "%s", req->full_name ? req->full_name : "");
	return RC_OK;
}

/* An invitation against the store, by an actor that has the invite
 * permission: the role exists and the actor may grant it, the email and
 * the name are free (members, service users, the host's own users). */
static int invite_check(rc_txn *t, const char *role_name, rc_member_rec *m)
{
	rc_role role;
	int rc;

	if ((rc = rc_role_load(t, role_name, &role)) != 0 ||
	    (rc = rc_require_can_grant(t, &role)) != 0 ||
	    (rc = email_check_free(t, m->email)) != 0 ||
	    (rc = rc_name_check_free(t, m->username)) != 0)
		return rc;
	snprintf(m->role, sizeof(m->role), "%s", role.name);
	return RC_OK;
}

/* Write the checked pending member M (its uid allocated now) with the
 * invitation whose code hashes to HASH. */
static int invite_store(rc_txn *t, rc_member_rec *m, const uint8_t hash[32], int64_t *expires)
{
	int rc;

	m->created = rc_store_now(t->s);
	if ((rc = rc_id_alloc(t, &m->uid)) != 0 ||
	    (rc = rc_member_put(t, m)) != 0 ||
	    (rc = rc_uid_index_put(t, m->uid, 'm', m->username)) != 0 ||
	    (rc = email_index_put(t, m->email, m->username)) != 0)
		return rc;
	return invitation_put(t, m, t->actor_name, 0, hash, expires);
}

int rc_invite_in(rc_txn *t, const rc_invite_req *req, rc_code_result *out)
{
	rc_member_rec m;
	uint8_t hash[32];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = invite_fields(req, &m)) != 0)
		return rc;
	rc_txn_audit(t, "member.invite", m.username);
	if ((rc = rc_require(t, RC_PERM_INVITE)) != 0 ||
	    (rc = invite_check(t, req->role, &m)) != 0)
		return rc;
	rc_code_new(t->s, out->code, hash);
	code_result(&m, out);
	rc = invite_store(t, &m, hash, &out->expires);
	if (rc)
		sodium_memzero(out->code, sizeof(out->code));
	return rc;
}

RC_API int rc_member_invite(rc_store *s, const rc_actor *a, const rc_invite_req *req,
                            rc_code_result *out)
{
	rc_txn t;
	int rc = rc_txn_begin(s, a, true, &t);

	if (rc)
		return rc;
	rc = rc_invite_in(&t, req, out);
	return rc_txn_end(&t, rc);
}

/* ---- member import ---------------------------------------------------------
 * Every rule of rc_member_invite, for a file of rows, all or nothing:
 * 1. each row's own fields (invite_fields), and no email address
 *    (case-insensitive, as idx_email) or user name twice in the file;
 * 2. in a read transaction: the invite permission, then each row against
 *    the store (invite_check);
 * 3. outside any transaction: every code and its hash;
 * 4. one write transaction: the checks again (a change in between refuses
 *    the whole file), each member and invitation written and audited as
 *    "member.invite"; the NSS snapshot is published once, after it.
 * The host's passwd and group files are read once for all of it. */

/* A set of row indexes keyed by a string of the row (email address or user
 * name): open addressing, for duplicates within the file. */
struct rowset {
	uint32_t *slot;   /* row index + 1; 0: empty */
	size_t mask;
	bool fold;        /* keys compared case-insensitively (emails) */
};

static uint64_t key_hash(const char *k, bool fold)
{
	uint64_t h = 1469598103934665603ull;
	for (; *k; k++) {
		unsigned char c = (unsigned char)*k;
		if (fold && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		h = (h ^ c) * 1099511628211ull;
	}
	return h;
}

/* Add row I under KEY (KEYS(j) gives row j's): 0, or the index + 1 of the
 * row that has it already. */
static size_t rowset_add(struct rowset *set, const rc_import_row *rows, size_t i,
                         const char *(*key)(const rc_import_row *))
{
	const char *k = key(&rows[i]);
	for (size_t at = key_hash(k, set->fold) & set->mask;; at = (at + 1) & set->mask) {
		uint32_t j = set->slot[at];
		if (!j) {
			set->slot[at] = (uint32_t)i + 1;
			return 0;
		}
		const char *o = key(&rows[j - 1]);
		if (set->fold ? strcasecmp(o, k) == 0 : strcmp(o, k) == 0)
			return j;
	}
}

static const char *row_email(const rc_import_row *r) { return r->req.email; }
static const char *row_name(const rc_import_row *r) { return r->username; }

static void import_bad(const rc_import_hooks *h, rc_import_row *row, const char *fmt, ...)
	RC_PRINTF(3, 4);
static void import_bad(const rc_import_hooks *h, rc_import_row *row, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	row->username[0] = '\0';   /* bad: no further checks */
	if (h->bad)
		h->bad(row->line, msg, h->ctx);
}

static void import_progress(const rc_import_hooks *h, const char *phase, size_t done,
                            size_t total)
{
	if (h->progress)
		h->progress(phase, done, total, h->ctx);
}

/* 1: the rows' own fields, and duplicates within the file. */
static int import_fields(rc_import_row *rows, size_t n, const rc_import_hooks *h, size_t *bad)
{
	struct rowset emails = { .fold = true }, names = { .fold = false };
	size_t cap = 16;
	rc_member_rec m;

	while (cap < n * 2)
		cap *= 2;
	emails.slot = calloc(cap, sizeof(uint32_t));
	names.slot = calloc(cap, sizeof(uint32_t));
	if (!emails.slot || !names.slot || n > UINT32_MAX - 1) {
		free(emails.slot);
		free(names.slot);
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	}
	emails.mask = names.mask = cap - 1;
	for (size_t i = 0; i < n; i++) {
		size_t j;
		import_progress(h, "checking", i, n);
		if (invite_fields(&rows[i].req, &m) != RC_OK) {
			import_bad(h, &rows[i], "%s", rc_errmsg());
			(*bad)++;
			continue;
		}
		snprintf(rows[i].username, sizeof(rows[i].username), "%s", m.username);
		if ((j = rowset_add(&emails, rows, i, row_email)) != 0) {
			import_bad(h, &rows[i], "the email address %s is on line %lu already",
			           rows[i].req.email, rows[j - 1].line);
			(*bad)++;
		} else if ((j = rowset_add(&names, rows, i, row_name)) != 0) {
			import_bad(h, &rows[i], "the user name %s%s is on line %lu already",
			           m.username, rows[i].req.username ? "" : " (from the email address)",
			           rows[j - 1].line);
			(*bad)++;
		}
	}
	sodium_memzero(&m, sizeof(m));
	free(emails.slot);
	free(names.slot);
	return RC_OK;
}

/* A caller without the invite permission: its refusal audited (in a write
 * transaction of its own, as every refused change). */
static int import_refused(rc_store *s, const rc_actor *a, const char *source)
{
	rc_txn t;
	int rc = rc_txn_begin(s, a, true, &t);

	if (rc)
		return rc;
	rc_txn_audit(&t, "member.import", source);
	if ((rc = rc_require(&t, RC_PERM_INVITE)) == RC_OK)
		rc = rc_fail(RC_ERR_STATE, "the caller's permissions changed during the import; "
		             "try again");
	return rc_txn_end(&t, rc);
}

/* Bytes of store one imported member takes at most (member, invitation,
 * indexes, audit record, B-tree pages half full), to grow the map ahead. */
#define IMPORT_ROW_BYTES 2048

/* Step 2: every row checked against the store and the host's files, in a
 * read transaction; the bad ones told to the hooks and counted in *BAD. */
static int import_check(rc_store *s, const rc_actor *a, rc_import_row *rows, size_t n,
                        const rc_import_hooks *h, const rc_host_files *host, size_t *bad)
{
	const char *source = h->source ? h->source : "-";
	rc_member_rec m;
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	t.host = host;
	if ((rc = rc_require(&t, RC_PERM_INVITE)) != RC_OK) {
		(void)rc_txn_end(&t, rc);
		return rc == RC_ERR_PERM ? import_refused(s, a, source) : rc;
	}
	for (size_t i = 0; i < n && rc == RC_OK; i++) {
		import_progress(h, "checking", i, n);
		if (!rows[i].username[0])
			continue;
		if (invite_fields(&rows[i].req, &m) != RC_OK ||
		    (rc = invite_check(&t, rows[i].req.role, &m)) != RC_OK) {
			if (rc == RC_ERR_STORE || rc == RC_ERR_NOMEM)
				break;
			import_bad(h, &rows[i], "%s", rc_errmsg());
			(*bad)++;
			rc = RC_OK;
		}
	}
	sodium_memzero(&m, sizeof(m));
	return rc_txn_end(&t, rc);
}

/* Step 4: every row written in one write transaction, each member with its
 * audit record; a row that no longer passes (the store changed since the
 * check) undoes them all. */
static int import_write(rc_store *s, const rc_actor *a, rc_import_row *rows, size_t n,
                        const rc_import_hooks *h, const rc_host_files *host,
                        uint8_t (*hash)[32])
{
	rc_member_rec m;
	rc_txn t;
	int rc;

	if (n > SIZE_MAX / IMPORT_ROW_BYTES)
		return rc_fail(RC_ERR_FULL, "too many rows");
	if ((rc = rc_store_reserve(s, n * IMPORT_ROW_BYTES)) != RC_OK ||
	    (rc = rc_txn_begin(s, a, true, &t)) != RC_OK)
		return rc;
	t.host = host;
	rc_txn_audit(&t, "member.import", h->source ? h->source : "-");
	rc = rc_require(&t, RC_PERM_INVITE);
	for (size_t i = 0; i < n && rc == RC_OK; i++) {
		import_progress(h, "writing", i, n);
		if ((rc = invite_fields(&rows[i].req, &m)) != RC_OK ||
		    (rc = invite_check(&t, rows[i].req.role, &m)) != RC_OK) {
			if (rc != RC_ERR_STORE && rc != RC_ERR_NOMEM) {
				import_bad(h, &rows[i], "%s (changed while the file was checked)",
				           rc_errmsg());
				rc = rc_fail(RC_ERR_INVALID, "the store changed while the file was "
				             "checked: nothing was imported");
			}
			break;
		}
		rc_txn_audit(&t, "member.invite", m.username);
		if ((rc = invite_store(&t, &m, hash[i], &rows[i].expires)) == RC_OK)
			rc = rc_audit_append(&t, "ok");
	}
	import_progress(h, "writing", n, n);
	if (rc == RC_OK)
		t.action[0] = '\0';   /* each member has its record */
	sodium_memzero(&m, sizeof(m));
	return rc_txn_end(&t, rc);
}

RC_API int rc_member_import(rc_store *s, const rc_actor *a, rc_import_row *rows, size_t n,
                            unsigned flags, const rc_import_hooks *hooks)
{
	static const rc_import_hooks none;
	const rc_import_hooks *h = hooks ? hooks : &none;
	uint8_t (*hash)[32] = NULL;
	rc_host_files host;
	size_t bad = 0;
	int rc;

	memset(&host, 0, sizeof(host));
	/* 1 */
	if ((rc = import_fields(rows, n, h, &bad)) != RC_OK)
		return rc;
	/* 2 */
	if ((rc = rc_host_files_load(&s->cfg, &host)) != RC_OK)
		return rc;
	rc = import_check(s, a, rows, n, h, &host, &bad);
	if (!rc && bad)
		rc = rc_fail(RC_ERR_INVALID, "%zu bad line%s: nothing was imported", bad,
		             bad == 1 ? "" : "s");
	if (rc || (flags & RC_IMPORT_CHECK_ONLY) || n == 0)
		goto out;
	/* 3 */
	if (!(hash = malloc(n * sizeof(*hash)))) {
		rc = rc_fail(RC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		rc_code_new(s, rows[i].code, hash[i]);
	/* 4 */
	rc = import_write(s, a, rows, n, h, &host, hash);
out:
	if (rc)
		for (size_t i = 0; i < n; i++)
			sodium_memzero(rows[i].code, sizeof(rows[i].code));
	if (hash) {
		sodium_memzero(hash, n * sizeof(*hash));
		free(hash);
	}
	rc_host_files_free(&host);
	return rc;
}

RC_API int rc_member_mail_audit(rc_store *s, const rc_actor *a, const char *username,
                                const char *result)
{
	rc_txn t;
	int rc = rc_txn_begin(s, a, true, &t);

	if (rc)
		return rc;
	rc_txn_audit(&t, "member.invite-mail", username);
	snprintf(t.detail, sizeof(t.detail), "%.90s", result);
	return rc_txn_end(&t, RC_OK);
}

/* Begin a write on member NAME by an actor with PERM and a higher rank. */
static int begin_on_member(rc_store *s, const rc_actor *a, const char *action,
                           const char *name, uint32_t perm, rc_txn *t, rc_member_rec *m)
{
	int rc = rc_txn_begin(s, a, true, t);

	if (rc)
		return rc;
	rc_txn_audit(t, action, name);
	rc = rc_require(t, perm);
	if (!rc)
		rc = rc_member_load_ref(t, name, m);
	if (!rc) {
		rc_txn_audit(t, action, m->username);
		rc = rc_require_rank_over(t, m);
	}
	return rc;
}

struct owners {
	const char *except;
	size_t n;
};

static int count_owner(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct owners *o = ctx;
	rc_member_rec m;
	int rc = rc_member_decode(v->data, v->size, &m);

	(void)t;
	(void)k;
	if (!rc && m.status == RC_MEMBER_ACTIVE && strcmp(m.role, "owner") == 0 &&
	    strcmp(m.username, o->except) != 0)
		o->n++;
	sodium_memzero(&m, sizeof(m));
	return rc;
}

static int count_active_owners(rc_txn *t, const char *except, size_t *n)
{
	struct owners o = { except, 0 };
	int rc = rc_store_foreach(t, DB_MEMBERS, "", 0, count_owner, &o);

	*n = o.n;
	return rc;
}

/* The last active owner can be neither demoted, deactivated nor removed. */
static int require_not_last_owner(rc_txn *t, const rc_member_rec *m, const char *what)
{
	size_t n;
	int rc;

	if (strcmp(m->role, "owner") != 0 || m->status != RC_MEMBER_ACTIVE)
		return RC_OK;
	if ((rc = count_active_owners(t, m->username, &n)) != 0)
		return rc;
	if (n == 0)
		return rc_fail(RC_ERR_POLICY, "%s is the last owner and cannot be %s; make "
		               "another member owner first", m->username, what);
	return RC_OK;
}

/* The one way a member leaves the store (withdraw and delete): its record,
 * the uid and email indexes, its tokens and its host state. */
static int member_remove(rc_txn *t, const rc_member_rec *m)
{
	int rc = rc_store_del(t, DB_MEMBERS, m->username, strlen(m->username));

	if (!rc)
		rc = rc_uid_index_del(t, m->uid);
	if (!rc)
		rc = email_index_del(t, m->email);
	if (!rc)
		rc = rc_tokens_revoke_owner(t, m->uid, NULL);
	if (!rc)
		rc = rc_host_user_del(t, m->uid);
	return rc;
}

RC_API int rc_member_withdraw(rc_store *s, const rc_actor *a, const char *who)
{
	char username[RC_NAME_MAX + 1];
	rc_invitation inv;
	rc_member_rec m;
	rc_role role;
	rc_txn t;
	int rc = rc_txn_begin(s, a, true, &t);

	if (rc)
		return rc;
	rc_txn_audit(&t, "member.withdraw", who);
	rc = rc_require(&t, RC_PERM_INVITE);
	if (!rc)
		rc = rc_member_ref(&t, who, username);
	if (!rc) {
		rc_txn_audit(&t, "member.withdraw", username);
		rc = rc_invitation_load(&t, username, &inv);
	}
	if (!rc && inv.state != RC_INV_PENDING)
		rc = rc_fail(RC_ERR_STATE, "the invitation of %s is %s; only pending invitations "
		             "can be withdrawn", username, rc_invitation_state_name(inv.state));
	if (!rc && rc_role_load(&t, inv.role, &role) == RC_OK)
		rc = rc_require_can_grant(&t, &role);
	if (!rc)
		rc = rc_member_load(&t, username, &m);
	if (!rc && m.status != RC_MEMBER_PENDING)
		rc = rc_fail(RC_ERR_STATE, "%s is no longer pending", username);
	if (!rc) {
		inv.state = RC_INV_WITHDRAWN;
		rc = rc_invitation_put(&t, &inv);
	}
	if (!rc)
		rc = member_remove(&t, &m);
	return rc_txn_end(&t, rc);
}

RC_API int rc_member_resend(rc_store *s, const rc_actor *a, const char *who,
                            rc_code_result *out)
{
	char username[RC_NAME_MAX + 1];
	rc_invitation inv;
	rc_member_rec m;
	rc_role role;
	rc_txn t;
	int rc = rc_txn_begin(s, a, true, &t);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	rc_txn_audit(&t, "member.resend", who);
	rc = rc_require(&t, RC_PERM_INVITE);
	if (!rc)
		rc = rc_member_ref(&t, who, username);
	if (!rc) {
		rc_txn_audit(&t, "member.resend", username);
		rc = rc_invitation_load(&t, username, &inv);
	}
	if (!rc && inv.state != RC_INV_PENDING && inv.state != RC_INV_EXPIRED)
		rc = rc_fail(RC_ERR_STATE, "the invitation of %s is %s; only pending or expired "
		             "invitations can be resent", username,
		             rc_invitation_state_name(inv.state));
	if (!rc)
		rc = rc_member_load(&t, username, &m);
	if (!rc && m.status != RC_MEMBER_PENDING)
		rc = rc_fail(RC_ERR_STATE, "%s is no longer pending", username);
	if (!rc)
		rc = rc_role_load(&t, m.role, &role);
	if (!rc)
		rc = rc_require_can_grant(&t, &role);
	if (!rc)
		rc = rc_invitation_issue(&t, &m, inv.inviter, inv.resent + 1, out);
	return rc_txn_end(&t, rc);
}

int rc_password_policy(rc_txn *t, const rc_member_rec *m, const char *pw)
{
	int64_t min;
	size_t n = strlen(pw);
	int rc = rc_setting_int(t, "password.min_length", &min);

	if (rc)
		return rc;
	if (n > RC_PASSWORD_MAX)
		return rc_fail(RC_ERR_POLICY, "password is longer than %d bytes", RC_PASSWORD_MAX);
	if ((int64_t)n < min)
		return rc_fail(RC_ERR_POLICY, "password is too short: at least %lld characters "
		               "(password.min_length)", (long long)min);
	if (strcasecmp(pw, m->username) == 0 || strcasecmp(pw, m->email) == 0)
		return rc_fail(RC_ERR_POLICY, "password must not be the user name or email address");
	if (rc_looks_like_token(pw))
		return rc_fail(RC_ERR_POLICY, "password must not start with \"%s\": it would be "
		               "taken for a token at login", RC_TOKEN_PREFIX);
	if (rc_has_control(pw, false))
		return rc_fail(RC_ERR_POLICY, "password must not contain control characters");
	return RC_OK;
}

/* Find the member a code belongs to: a pending invitation or a reset. */
struct code_find {
	const uint8_t *hash;
	rc_member_rec *m;
	bool *is_reset;
	int64_t now;
	bool found;
};

/* A walk's result: found (RC_OK or an error), or not yet (RC_ERR_NOTFOUND). */
static int code_found(struct code_find *f, int rc)
{
	if (rc == RC_ERR_NOTFOUND)
		return RC_OK;   /* go on */
	f->found = true;
	return rc ? rc : RC_WALK_STOP;
}

static int code_in_invitation(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct code_find *f = ctx;
	rc_invitation inv;
	int rc;

	(void)k;
	if (rc_invitation_decode(v->data, v->size, &inv) != RC_OK ||
	    sodium_memcmp(inv.code_hash, f->hash, 32) != 0)
		return RC_OK;
	if (inv.state != RC_INV_PENDING)
		rc = rc_fail(RC_ERR_STATE, "this invitation code was %s",
		             rc_invitation_state_name(inv.state));
	else if (f->now >= inv.expires)
		rc = rc_fail(RC_ERR_STATE, "this invitation code has expired; ask for the "
		             "invitation to be resent");
	else
		rc = rc_member_load(t, inv.username, f->m);
	*f->is_reset = false;
	return code_found(f, rc);
}

static int code_in_reset(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct code_find *f = ctx;
	rc_member_rec *m = f->m;
	int rc;

	(void)k;
	if (rc_member_decode(v->data, v->size, m) != RC_OK || !m->reset_expires ||
	    sodium_memcmp(m->reset_hash, f->hash, 32) != 0)
		return RC_OK;
	if ((rc = rc_host_member_load(t, m)) != RC_OK) {   /* the view */
		f->found = true;
		return rc;
	}
	rc = f->now >= m->reset_expires
	   ? rc_fail(RC_ERR_STATE, "this reset code has expired; ask for a new one")
	   : RC_OK;
	*f->is_reset = true;
	return code_found(f, rc);
}

static int find_code(rc_txn *t, const uint8_t hash[32], rc_member_rec *m, bool *is_reset)
{
	struct code_find f = { hash, m, is_reset, rc_store_now(t->s), false };
	int rc = rc_store_foreach(t, DB_INVITATIONS, "", 0, code_in_invitation, &f);

	if (rc || f.found)
		return rc;
	rc = rc_store_foreach(t, DB_MEMBERS, "", 0, code_in_reset, &f);
	if (rc || f.found)
		return rc;
	return rc_fail(RC_ERR_NOTFOUND, "unknown invitation or reset code");
}

/* The one way a code becomes a password (rollcall member accept, and a
 * code login's password change through PAM): in T, member M (loaded in T)
 * spends its invitation (IS_RESET false) or reset code, whose keyed hash is
 * HASH, for the password hashed as PWHASH.  The code must still be M's and
 * good (an invitation pending and unexpired, a reset unexpired); then the
 * invitation is accepted (M active, a notice queued) or the reset spent,
 * and the failures and the lock are cleared.  Audited as member.accept or
 * member.reset-complete.  RC_ERR_STATE: the code is no longer good. */
int rc_code_redeem(rc_txn *t, rc_member_rec *m, bool is_reset, const uint8_t hash[32],
                   const char *pwhash)
{
	int64_t now = rc_store_now(t->s);
	rc_invitation inv;
	int rc;

	rc_txn_audit(t, is_reset ? "member.reset-complete" : "member.accept", m->username);
	if (is_reset) {
		if (!m->reset_expires || now >= m->reset_expires ||
		    sodium_memcmp(m->reset_hash, hash, 32) != 0)
			return rc_fail(RC_ERR_STATE, "the reset code is no longer valid");
		m->reset_expires = 0;
		sodium_memzero(m->reset_hash, sizeof(m->reset_hash));
	} else {
		if ((rc = rc_invitation_load(t, m->username, &inv)) != RC_OK)
			return rc;
		if (inv.state != RC_INV_PENDING || now >= inv.expires ||
		    sodium_memcmp(inv.code_hash, hash, 32) != 0)
			return rc_fail(RC_ERR_STATE, "the invitation code is no longer valid");
		inv.state = RC_INV_ACCEPTED;
		if ((rc = rc_invitation_put(t, &inv)) != RC_OK)
			return rc;
		m->status = RC_MEMBER_ACTIVE;
		if ((rc = rc_notice_queue(t, RC_EV_INVITATION_ACCEPTED, m->username,
		                          m->email)) != RC_OK)
			return rc;
	}
	snprintf(m->pwhash, sizeof(m->pwhash), "%s", pwhash);
	m->must_change = 0;
	m->failed = 0;
	m->lock_until = 0;
	return RC_OK;
}

/* Accepting an invitation or a reset code: the code is looked up and the
 * password checked against the policy in a read transaction, the password
 * hashed outside any transaction (argon2id is slow: a write transaction
 * held meanwhile would stop every login), then the write transaction finds
 * the code again, still unused, before it stores the hash. */
/* Accepting a code (rc_member_accept): what both of its transactions find. */
struct accept {
	uint8_t hash[32];          /* the code's keyed hash */
	rc_member_rec m;
	bool is_reset;
	char pwhash[RC_PWHASH_MAX];
};

/* Step 1: the code and the policy, read only, and the argon2id limits. */
static int accept_read(rc_store *s, const rc_actor *a, struct accept *x, const char *password,
                       int64_t *ops, int64_t *mem_kib)
{
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	rc = find_code(&t, x->hash, &x->m, &x->is_reset);
	if (!rc)
		rc = rc_password_policy(&t, &x->m, password);
	if (!rc && !x->is_reset && x->m.status != RC_MEMBER_PENDING)
		rc = rc_fail(RC_ERR_STATE, "%s is not pending", x->m.username);
	if (!rc)
		rc = rc_setting_int(&t, "argon2.opslimit", ops);
	if (!rc)
		rc = rc_setting_int(&t, "argon2.memlimit_kib", mem_kib);
	return rc_txn_end(&t, rc);
}

/* Step 3: the write: the same checks again, then the change (a refusal is
 * audited here, as before). */
static int accept_write(rc_store *s, const rc_actor *a, struct accept *x, const char *password,
                        char username_out[RC_NAME_MAX + 1])
{
	rc_member_rec *m = &x->m;
	rc_txn t;
	int rc = rc_txn_begin(s, a, true, &t);

	if (rc)
		return rc;
	rc = find_code(&t, x->hash, m, &x->is_reset);
	if (!rc) {
		/* The code holder acts on its own record; the record names the
		 * uid that presented the code, whoever it was. */
		snprintf(t.actor_name, sizeof(t.actor_name), "%s", m->username);
		rc_txn_audit(&t, x->is_reset ? "member.reset-complete" : "member.accept",
		             m->username);
		snprintf(t.detail, sizeof(t.detail), "ok, by uid %u", (unsigned)t.uid);
		rc = rc_password_policy(&t, m, password);
	}
	if (!rc && !x->is_reset && m->status != RC_MEMBER_PENDING)
		rc = rc_fail(RC_ERR_STATE, "%s is not pending", m->username);
	if (!rc && !x->pwhash[0])
		rc = rc_fail(RC_ERR_STATE, "the code changed while the password was hashed; "
		             "try again");
	if (!rc)
		rc = rc_code_redeem(&t, m, x->is_reset, x->hash, x->pwhash);
	if (!rc)
		snprintf(t.detail, sizeof(t.detail), "ok, by uid %u", (unsigned)t.uid);
	if (!rc)
		rc = rc_member_put_with_host(&t, m);   /* the lock cleared too */
	if (!rc)
		snprintf(username_out, RC_NAME_MAX + 1, "%s", m->username);
	return rc_txn_end(&t, rc);
}

RC_API int rc_member_accept(rc_store *s, const rc_actor *a, const char *code,
                            const char *password, char username_out[RC_NAME_MAX + 1])
{
	char norm[21];
	struct accept x;
	int64_t ops = 0, mem_kib = 0;
	int rc = rc_code_normalize(code, norm);

	username_out[0] = '\0';
	memset(&x, 0, sizeof(x));
	if (rc)
		return rc;
	rc_code_hash(s, norm, x.hash);
	sodium_memzero(norm, sizeof(norm));
	/* 1. the code and the policy, read only */
	rc = accept_read(s, a, &x, password, &ops, &mem_kib);
	if (rc && rc != RC_ERR_NOTFOUND && rc != RC_ERR_STATE && rc != RC_ERR_POLICY &&
	    rc != RC_ERR_INVALID)
		goto out;
	/* 2. the hash, outside any transaction (a refusal costs none) */
	if (!rc && (rc = rc_password_hash(password, ops, mem_kib, x.pwhash)) != RC_OK)
		goto out;
	/* 3. the write */
	rc = accept_write(s, a, &x, password, username_out);
out:
	sodium_memzero(&x, sizeof(x));
	return rc;
}

RC_API int rc_member_set_role(rc_store *s, const rc_actor *a, const char *username,
                              const char *role)
{
	rc_member_rec m;
	rc_role r;
	rc_invitation inv;
	rc_txn t;
	char target[RC_NAME_MAX * 2 + 8];
	int rc;

	rc = begin_on_member(s, a, "member.set-role", username, RC_PERM_MANAGE_MEMBERS, &t, &m);
	snprintf(target, sizeof(target), "%.32s role=%.32s", rc ? username : m.username, role);
	if (rc == RC_OK || rc_txn_open(&t))
		rc_txn_audit(&t, "member.set-role", target);
	if (!rc)
		rc = rc_role_load(&t, role, &r);
	if (!rc)
		rc = rc_require_can_grant(&t, &r);
	if (!rc && strcmp(r.name, "owner") != 0)
		rc = require_not_last_owner(&t, &m, "demoted");
	if (!rc && strcmp(m.role, r.name) != 0 &&
	    (strcmp(m.role, "owner") == 0 || strcmp(m.role, "admin") == 0 ||
	     strcmp(r.name, "owner") == 0 || strcmp(r.name, "admin") == 0)) {
		char detail[80];
		snprintf(detail, sizeof(detail), "%.32s to %.32s", m.role, r.name);
		rc = rc_notice_queue(&t, RC_EV_ROLE_CHANGED, m.username, detail);
	}
	if (!rc) {
		snprintf(m.role, sizeof(m.role), "%s", r.name);
		rc = rc_member_put(&t, &m);
	}
	if (!rc && m.status == RC_MEMBER_PENDING && rc_invitation_load(&t, m.username, &inv) == RC_OK) {
		snprintf(inv.role, sizeof(inv.role), "%s", r.name);
		rc = rc_invitation_put(&t, &inv);
	}
	return rc_txn_end(&t, rc);
}

RC_API int rc_member_update(rc_store *s, const rc_actor *a, const char *username,
                            const char *email, const char *full_name)
{
	rc_member_rec m;
	rc_txn t;
	int rc;

	if (!email && !full_name)
		return rc_fail_field(RC_ERR_INVALID, "email,name", "nothing to update: give a new "
		                     "email address or full name");
	if (email && (rc = rc_valid_email(email)) != 0)
		return rc;
	if (full_name && (rc = rc_valid_full_name(full_name)) != 0)
		return rc;
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "member.update", username);
	/* A member may update its own name and email; others need the right. */
	if (rc_names_actor(&t, username)) {
		rc = rc_require(&t, 0);
		m = t.am;
		snprintf(s->named, sizeof(s->named), "%s", m.username);
	} else {
		rc = rc_require(&t, RC_PERM_MANAGE_MEMBERS);
		if (!rc)
			rc = rc_member_load_ref(&t, username, &m);
		if (!rc)
			rc = rc_require_rank_over(&t, &m);
	}
	if (!rc)
		rc_txn_audit(&t, "member.update", m.username);
	if (!rc && email) {
		char a_key[RC_EMAIL_MAX + 1], b_key[RC_EMAIL_MAX + 1];
		rc_email_key(email, a_key, sizeof(a_key));
		rc_email_key(m.email, b_key, sizeof(b_key));
		if (strcmp(a_key, b_key) != 0) {
			rc = email_check_free(&t, email);
			if (!rc)
				rc = email_index_del(&t, m.email);
			if (!rc)
				rc = email_index_put(&t, email, m.username);
		}
		if (!rc)
			snprintf(m.email, sizeof(m.email), "%s", email);
	}
	if (!rc && full_name)
		snprintf(m.full_name, sizeof(m.full_name), "%s", full_name);
	if (!rc)
		rc = rc_member_put(&t, &m);
	return rc_txn_end(&t, rc);
}

RC_API int rc_member_set_active(rc_store *s, const rc_actor *a, const char *username,
                                int active)
{
	rc_member_rec m;
	rc_txn t;
	int rc = begin_on_member(s, a, active ? "member.activate" : "member.deactivate",
	                         username, RC_PERM_MANAGE_MEMBERS, &t, &m);

	if (!rc && m.status == RC_MEMBER_PENDING)
		rc = rc_fail(RC_ERR_STATE, "%s has not accepted the invitation yet%s", m.username,
		             active ? "" : "; withdraw the invitation instead");
	if (!rc && active && m.status == RC_MEMBER_ACTIVE)
		rc = rc_fail(RC_ERR_STATE, "%s is already active", m.username);
	if (!rc && !active && m.status == RC_MEMBER_INACTIVE)
		rc = rc_fail(RC_ERR_STATE, "%s is already inactive", m.username);
	if (!rc && !active)
		rc = require_not_last_owner(&t, &m, "deactivated");
	if (!rc) {
		m.status = active ? RC_MEMBER_ACTIVE : RC_MEMBER_INACTIVE;
		rc = rc_member_put(&t, &m);
	}
	return rc_txn_end(&t, rc);
}

RC_API int rc_member_delete(rc_store *s, const rc_actor *a, const char *username,
                            const char *confirm_email)
{
	rc_member_rec m;
	rc_txn t;
	int rc = begin_on_member(s, a, "member.delete", username, RC_PERM_MANAGE_MEMBERS, &t, &m);

	if (!rc && (!confirm_email || strcasecmp(confirm_email, m.email) != 0))
		rc = rc_fail(RC_ERR_INVALID, "the email address given does not match %s's; "
		             "nothing was deleted", m.username);
	if (!rc)
		rc = require_not_last_owner(&t, &m, "deleted");
	if (!rc)
		rc = member_remove(&t, &m);
	if (!rc) {
		rc = rc_store_del(&t, DB_INVITATIONS, m.username, strlen(m.username));
		if (rc == RC_ERR_NOTFOUND)
			rc = RC_OK;
	}
	if (!rc)
		rc = rc_notice_queue(&t, RC_EV_MEMBER_DELETED, m.username, m.email);
	return rc_txn_end(&t, rc);
}

RC_API int rc_member_reset_password(rc_store *s, const rc_actor *a, const char *username,
                                    rc_code_result *out)
{
	rc_member_rec m;
	rc_txn t;
	int64_t ttl;
	int rc = begin_on_member(s, a, "member.reset-password", username,
	                         RC_PERM_MANAGE_MEMBERS, &t, &m);

	memset(out, 0, sizeof(*out));
	if (!rc && m.status != RC_MEMBER_ACTIVE)
		rc = rc_fail(RC_ERR_STATE, "%s is %s; only active members can be reset", m.username,
		             rc_member_status_name(m.status));
	if (!rc)
		rc = rc_setting_int(&t, "invite.ttl", &ttl);
	if (!rc) {
		rc_code_new(s, out->code, m.reset_hash);
		m.reset_expires = rc_store_now(s) + ttl;
		/* The old password stops working at once. */
		sodium_memzero(m.pwhash, sizeof(m.pwhash));
		m.must_change = 1;
		m.failed = 0;
		m.lock_until = 0;
		code_result(&m, out);
		out->expires = m.reset_expires;
		rc = rc_member_put_with_host(&t, &m);
	}
	/* Resetting a password revokes every token (the seed's rule). */
	if (!rc)
		rc = rc_tokens_revoke_owner(&t, m.uid, NULL);
	if (rc)
		sodium_memzero(out->code, sizeof(out->code));
	return rc_txn_end(&t, rc);
}

RC_API int rc_member_unlock(rc_store *s, const rc_actor *a, const char *username)
{
	rc_member_rec m;
	rc_txn t;
	int rc = begin_on_member(s, a, "member.unlock", username, RC_PERM_MANAGE_MEMBERS, &t, &m);

	if (!rc && m.lock_until <= rc_store_now(s))
		rc = rc_fail(RC_ERR_STATE, "%s is not locked (%u failed login attempt%s since "
		             "the last good one); nothing was changed", m.username,
		             (unsigned)m.failed, m.failed == 1 ? "" : "s");
	if (!rc) {
		/* host state only: the membership record is not written */
		m.failed = 0;
		m.lock_until = 0;
		rc = rc_host_member_store(&t, &m);
	}
	return rc_txn_end(&t, rc);
}

/* The public view of a member record: everything but its secrets. */
void rc_member_view(const rc_member_rec *in, rc_member *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->username, in->username, sizeof(out->username));
	memcpy(out->email, in->email, sizeof(out->email));
	memcpy(out->full_name, in->full_name, sizeof(out->full_name));
	memcpy(out->role, in->role, sizeof(out->role));
	out->status = in->status;
	out->uid = in->uid;
	out->created = in->created;
	out->last_active = in->last_active;
	out->has_password = in->pwhash[0] != '\0';
	out->must_change = in->must_change;
	out->totp_enabled = in->totp_enabled;
	out->failed = in->failed;
	out->failed_at = in->failed_at;
	out->lock_until = in->lock_until;
	out->reset_expires = in->reset_expires;
	out->totp_pending = in->totp_pending;
	out->totp_last_step = in->totp_last_step;
	out->recovery_left = in->recovery_left;
	out->recovery_used = in->recovery_used;
}

RC_API int rc_member_get(rc_store *s, const rc_actor *a, const char *username, rc_member *out)
{
	rc_member_rec m;
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	if (rc_names_actor(&t, username)) {
		rc_member_view(&t.am, out);
		snprintf(s->named, sizeof(s->named), "%s", out->username);
	} else {
		rc = rc_require(&t, RC_PERM_MEMBERS);
		if (!rc)
			rc = rc_member_load_ref(&t, username, &m);
		if (!rc)
			rc_member_view(&m, out);
		sodium_memzero(&m, sizeof(m));
	}
	return rc_txn_end(&t, rc);
}

RC_API int rc_whoami(rc_store *s, const rc_actor *a, rc_identity *out)
{
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	out->uid = a->uid;
	if (t.root) {
		out->root = 1;
		snprintf(out->username, sizeof(out->username), "root");
		out->perms = RC_PERM_ALL;
	} else if (t.is_member) {
		snprintf(out->username, sizeof(out->username), "%s", t.am.username);
		snprintf(out->email, sizeof(out->email), "%s", t.am.email);
		snprintf(out->full_name, sizeof(out->full_name), "%s", t.am.full_name);
		snprintf(out->role, sizeof(out->role), "%s", t.am.role);
		out->status = t.am.status;
		out->perms = t.am.status == RC_MEMBER_ACTIVE ? t.arole.perms : 0;
	} else {
		rc = rc_require_self(&t, "");
	}
	return rc_txn_end(&t, rc);
}

RC_API int rc_invitation_get(rc_store *s, const rc_actor *a, const char *who,
                             rc_invitation *out)
{
	char username[RC_NAME_MAX + 1];
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	if (!rc_names_actor(&t, who)) {
		rc = rc_require(&t, RC_PERM_MEMBERS);
		if (rc == RC_ERR_PERM)
			rc = rc_require(&t, RC_PERM_INVITE);
	}
	if (!rc)
		rc = rc_member_ref(&t, who, username);
	if (!rc)
		rc = rc_invitation_load(&t, username, out);
	sodium_memzero(out->code_hash, sizeof(out->code_hash));
	return rc_txn_end(&t, rc);
}

struct member_walk {
	const rc_member_filter *f;
	rc_member_cb cb;
	void *ctx;
};

static int member_one(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct member_walk *w = ctx;
	const rc_member_filter *f = w->f;
	rc_member_rec m;
	rc_member view;
	int rc = rc_member_decode(v->data, v->size, &m);

	(void)k;
	if (!rc)
		rc = rc_host_member_load(t, &m);
	rc_member_view(&m, &view);
	sodium_memzero(&m, sizeof(m));
	if (rc)
		return rc;
	if (f && f->status >= 0 && view.status != f->status)
		return RC_OK;
	if (f && f->role && strcmp(f->role, view.role) != 0)
		return RC_OK;
	return w->cb(&view, w->ctx);
}

RC_API int rc_member_foreach(rc_store *s, const rc_actor *a, const rc_member_filter *f,
                             rc_member_cb cb, void *ctx)
{
	struct member_walk w = { f, cb, ctx };
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	rc = rc_require(&t, RC_PERM_MEMBERS);
	if (!rc && f && f->role && rc_role_load(&t, f->role, &(rc_role){0}))
		rc = RC_ERR_NOTFOUND;
	if (!rc)
		rc = rc_store_foreach(&t, DB_MEMBERS, "", 0, member_one, &w);
	return rc_txn_end(&t, rc);
}

/* ---- loading and writing records ------------------------------------------ */

int rc_member_load(rc_txn *t, const char *name, rc_member_rec *m)
{
	rc_val v;
	int rc = rc_store_gets(t, DB_MEMBERS, name, &v);

	if (rc == RC_ERR_NOTFOUND)
		return rc_fail(RC_ERR_NOTFOUND, "no member named \"%.40s\"", name);
	if (!rc)
		rc = rc_member_decode(v.data, v.size, m);
	return rc ? rc : rc_host_member_load(t, m);
}

int rc_member_ref(rc_txn *t, const char *who, char name[RC_NAME_MAX + 1])
{
	char key[RC_EMAIL_MAX + 1];
	rc_val v;
	int rc;

	name[0] = '\0';
	if (!strchr(who, '@')) {
		if (strlen(who) > RC_NAME_MAX)
			return rc_fail(RC_ERR_NOTFOUND, "no member named \"%.40s\"", who);
		memcpy(name, who, strlen(who) + 1);
	} else {
		if (strlen(who) > RC_EMAIL_MAX)
			return rc_fail(RC_ERR_NOTFOUND, "no member with the email address "
			               "\"%.64s...\"", who);
		rc_email_key(who, key, sizeof(key));
		rc = rc_store_gets(t, DB_IDX_EMAIL, key, &v);
		if (rc == RC_ERR_NOTFOUND)
			return rc_fail(RC_ERR_NOTFOUND, "no member with the email address \"%s\"",
			               who);
		if (rc)
			return rc;
		if (v.size == 0 || v.size > RC_NAME_MAX ||
		    memchr(v.data, '\0', v.size))
			return rc_fail(RC_ERR_STORE, "the email index entry of %s is damaged", who);
		memcpy(name, v.data, v.size);
		name[v.size] = '\0';
	}
	snprintf(t->s->named, sizeof(t->s->named), "%s", name);
	return RC_OK;
}

int rc_member_load_ref(rc_txn *t, const char *who, rc_member_rec *m)
{
	char name[RC_NAME_MAX + 1];
	int rc = rc_member_ref(t, who, name);

	return rc ? rc : rc_member_load(t, name, m);
}

RC_API const char *rc_member_named(const rc_store *s)
{
	return s->named;
}

/* Membership only: the host state of the view M is written as 0
 * (rc_host_member_store writes it where it lives). */
int rc_member_put(rc_txn *t, const rc_member_rec *m)
{
	rc_member_rec rec = *m;
	rc_wbuf w;
	int rc;

	rec.failed = 0;
	rec.failed_at = rec.lock_until = rec.last_active = rec.totp_last_step = 0;
	rec.recovery_used = 0;
	rc_member_encode(&rec, &w);
	rc = rc_store_putw(t, DB_MEMBERS, rec.username, strlen(rec.username), &w, 0);
	rc_wbuf_free(&w);
	sodium_memzero(&rec, sizeof(rec));
	return rc;
}
