/*
 * fleetwrite.c - the tool's changes on a host in a fleet: captured from a
 * local transaction that is then aborted, sent to the directory bound as
 * the calling member in one RFC 5805 transaction with RFC 4528 assertions
 * (fleetwrite.h).  Nothing here runs inside a write transaction but the
 * capture itself (memory copies only): the network is outside any.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "internal.h"
#include "fleetwrite.h"

/* One record written: its value before the first write of the capture and
 * after the last (NULL: none, a delete). */
struct change {
	int db;
	void *key;
	size_t klen;
	void *old, *new;
	size_t olen, nlen;
	bool had_old, has_new;
	bool replicated;
};

struct rc_fleet_capture {
	rc_store *s;
	struct change *v;
	size_t n, cap;
	size_t nrepl;
	int err;
	/* the audit record and notices of the captured transactions */
	char action[48];
	char target[RC_EMAIL_MAX + RC_NAME_MAX + 4];
	char detail[96];
	char queued[4][RC_NOTICE_ID_MAX];
	unsigned nqueued;
};

static int db_kind(int db)
{
	switch (db) {
	case DB_MEMBERS: return RC_REPL_MEMBER;
	case DB_ROLES: return RC_REPL_ROLE;
	case DB_INVITATIONS: return RC_REPL_INVITATION;
	case DB_SERVICES: return RC_REPL_SERVICE;
	case DB_SVCUSERS: return RC_REPL_SVCUSER;
	case DB_TOKENS: return RC_REPL_TOKEN;
	case DB_SETTINGS: return RC_REPL_SETTING;
	default: return -1;
	}
}

static void *dup_bytes(const void *p, size_t n)
{
	void *d = malloc(n ? n : 1);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

static void change_free(struct change *c)
{
	if (c->old)
		sodium_memzero(c->old, c->olen);
	if (c->new)
		sodium_memzero(c->new, c->nlen);
	free(c->key);
	free(c->old);
	free(c->new);
}

/* ---- the capture (in the transaction: memory only) ---------------------- */

static int capture_end(rc_fleet_capture *cap, rc_txn *t)
{
	if (t->action[0]) {
		snprintf(cap->action, sizeof(cap->action), "%s", t->action);
		snprintf(cap->target, sizeof(cap->target), "%s", t->target);
		snprintf(cap->detail, sizeof(cap->detail), "%s", t->detail);
	}
	for (unsigned i = 0; i < t->nqueued && cap->nqueued < 4; i++)
		memcpy(cap->queued[cap->nqueued++], t->queued[i], RC_NOTICE_ID_MAX);
	return cap->err;
}

static int capture_write(rc_txn *t, int db, const rc_val *key, const rc_val *new, void *ctx)
{
	rc_fleet_capture *cap = ctx;
	struct change *c = NULL;
	rc_val old;
	int rc;

	if (db < 0)
		return capture_end(cap, t);
	for (size_t i = 0; i < cap->n; i++)
		if (cap->v[i].db == db && cap->v[i].klen == key->size &&
		    memcmp(cap->v[i].key, key->data, key->size) == 0) {
			c = &cap->v[i];
			break;
		}
	if (!c) {
		if (cap->n == cap->cap) {
			size_t nc = cap->cap ? cap->cap * 2 : 16;
			struct change *nv = realloc(cap->v, nc * sizeof(*nv));
			if (!nv)
				return cap->err = rc_fail(RC_ERR_NOMEM, "out of memory");
			cap->v = nv;
			cap->cap = nc;
		}
		c = &cap->v[cap->n];
		memset(c, 0, sizeof(*c));
		c->db = db;
		if (!(c->key = dup_bytes(key->data, key->size)))
			return cap->err = rc_fail(RC_ERR_NOMEM, "out of memory");
		c->klen = key->size;
		rc = rc_store_get(t, db, key->data, key->size, &old);
		if (rc && rc != RC_ERR_NOTFOUND) {
			free(c->key);
			return rc;
		}
		if (!rc) {
			if (!(c->old = dup_bytes(old.data, old.size))) {
				free(c->key);
				return cap->err = rc_fail(RC_ERR_NOMEM, "out of memory");
			}
			c->olen = old.size;
			c->had_old = true;
		}
		cap->n++;
	}
	if (c->new) {
		sodium_memzero(c->new, c->nlen);
		free(c->new);
		c->new = NULL;
	}
	c->has_new = new != NULL;
	c->nlen = 0;
	if (new) {
		if (!(c->new = dup_bytes(new->data, new->size)))
			return cap->err = rc_fail(RC_ERR_NOMEM, "out of memory");
		c->nlen = new->size;
	}
	return RC_OK;
}

int rc_fleet_capture_start(rc_store *s, rc_fleet_capture **out)
{
	rc_fleet_capture *cap = calloc(1, sizeof(*cap));

	*out = NULL;
	if (!cap)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	cap->s = s;
	rc_store_capture_set(s, capture_write, cap);
	*out = cap;
	return RC_OK;
}

static int view_ok(const rc_repl_rec *r, void *ctx)
{
	(void)r;
	(void)ctx;
	return RC_OK;
}

void rc_fleet_capture_stop(rc_fleet_capture *cap)
{
	char saved[512];

	if (!cap)
		return;
	rc_store_capture_set(cap->s, NULL, NULL);
	/* which changes are the directory's: a record of a replicated kind
	 * under a key the directory holds (rc_repl_rec_view says) */
	snprintf(saved, sizeof(saved), "%s", rc_errmsg());
	cap->nrepl = 0;
	for (size_t i = 0; i < cap->n; i++) {
		struct change *c = &cap->v[i];
		int kind = db_kind(c->db);
		if (c->had_old == c->has_new && c->had_old && c->olen == c->nlen &&
		    memcmp(c->old, c->new, c->olen) == 0)
			continue;   /* written back unchanged */
		if (kind < 0 || (!c->had_old && !c->has_new))
			continue;
		c->replicated = rc_repl_rec_view(kind, c->key, c->klen,
		                                 c->has_new ? c->new : c->old,
		                                 c->has_new ? c->nlen : c->olen, view_ok,
		                                 NULL) == RC_OK;
		cap->nrepl += c->replicated;
	}
	rc_fail(RC_OK, "%s", saved);
}

void rc_fleet_capture_free(rc_fleet_capture *cap)
{
	if (!cap)
		return;
	if (cap->s)
		rc_store_capture_set(cap->s, NULL, NULL);
	for (size_t i = 0; i < cap->n; i++)
		change_free(&cap->v[i]);
	free(cap->v);
	free(cap);
}

size_t rc_fleet_capture_replicated(const rc_fleet_capture *cap)
{
	return cap ? cap->nrepl : 0;
}

int rc_fleet_member_dn(const char *name, const char *suffix, char *dn, size_t len)
{
	rc_repl_rec r = { .kind = RC_REPL_MEMBER, .name = name };

	if (rc_valid_username(name) != RC_OK)
		return rc_fail(RC_ERR_INVALID, "\"%.40s\" is not a member's name", name);
	return rc_fleet_entry_dn(&r, suffix, dn, len);
}

/* ---- the LDAP operations ------------------------------------------------- */

struct attr {
	char name[32];
	struct berval **vals;     /* NULL-terminated (a role's rcMay has hundreds) */
	int n, cap;
};

/* A record's entry: its DN and attributes, copied out of the view. */
struct entry {
	const char *suffix;
	char dn[RC_FLEET_DN_MAX];
	char rdn_attr[8];
	struct attr a[24];
	int n;
	int err;
};

static int entry_attr_cb(void *vctx, const char *name, const void *val, size_t len)
{
	struct entry *e = vctx;
	struct attr *a = NULL;

	for (int i = 0; i < e->n; i++)
		if (strcmp(e->a[i].name, name) == 0)
			a = &e->a[i];
	if (!a) {
		if (e->n == (int)(sizeof(e->a) / sizeof(e->a[0])) || strlen(name) >= sizeof(a->name))
			return rc_fail(RC_ERR_INVALID, "a directory entry with too many attributes");
		a = &e->a[e->n++];
		memset(a, 0, sizeof(*a));
		snprintf(a->name, sizeof(a->name), "%s", name);
	}
	if (a->n + 1 >= a->cap) {
		int cap = a->cap ? 2 * a->cap : 8;
		struct berval **v = realloc(a->vals, (size_t)cap * sizeof(*v));
		if (!v)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		a->vals = v;
		a->cap = cap;
	}
	struct berval *bv = malloc(sizeof(*bv));
	if (!bv || !(bv->bv_val = dup_bytes(val, len))) {
		free(bv);
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	}
	bv->bv_len = len;
	a->vals[a->n++] = bv;
	a->vals[a->n] = NULL;
	return RC_OK;
}

static int entry_view_cb(const rc_repl_rec *r, void *vctx)
{
	struct entry *e = vctx;
	int rc = rc_fleet_entry_dn(r, e->suffix, e->dn, sizeof(e->dn));

	if (!rc)
		rc = rc_fleet_entry_attrs(r, e->suffix, entry_attr_cb, e);
	return rc;
}

static void entry_free(struct entry *e)
{
	for (int i = 0; i < e->n; i++)
		for (int j = 0; j < e->a[i].n; j++) {
			sodium_memzero(e->a[i].vals[j]->bv_val, e->a[i].vals[j]->bv_len);
			free(e->a[i].vals[j]->bv_val);
			free(e->a[i].vals[j]);
		}
	for (int i = 0; i < e->n; i++)
		free(e->a[i].vals);
	e->n = 0;
}

static int entry_make(struct entry *e, const char *suffix, int kind, const struct change *c,
                      bool use_new)
{
	memset(e, 0, sizeof(*e));
	e->suffix = suffix;
	int rc = rc_repl_rec_view(kind, c->key, c->klen, use_new ? c->new : c->old,
	                          use_new ? c->nlen : c->olen, entry_view_cb, e);
	if (!rc)
		snprintf(e->rdn_attr, sizeof(e->rdn_attr), "%.*s", (int)strcspn(e->dn, "="), e->dn);
	return rc;
}

static const struct attr *entry_find(const struct entry *e, const char *name)
{
	for (int i = 0; i < e->n; i++)
		if (strcasecmp(e->a[i].name, name) == 0)
			return &e->a[i];
	return NULL;
}

/* The same values, in the same order (rc_fleet_entry_attrs' order is the
 * record's own: a value that did not change is given in the same place). */
static bool attr_same(const struct attr *a, const struct attr *b)
{
	if (!a || !b || a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++)
		if (a->vals[i]->bv_len != b->vals[i]->bv_len ||
		    memcmp(a->vals[i]->bv_val, b->vals[i]->bv_val, a->vals[i]->bv_len) != 0)
			return false;
	return true;
}

/* "(rcRecord=<every byte escaped>)" */
static char *assert_filter(const void *val, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = val;
	char *f = malloc(n * 3 + 16), *o = f;

	if (!f)
		return NULL;
	o += sprintf(o, "(rcRecord=");
	for (size_t i = 0; i < n; i++) {
		*o++ = '\\';
		*o++ = hex[p[i] >> 4];
		*o++ = hex[p[i] & 15];
	}
	strcpy(o, ")");
	return f;
}

/* The result of an operation, as an rc: *CONFLICT for a record changed
 * meanwhile. */
static int ldap_result_rc(LDAP *ld, int lrc, const char *what, const char *dn, bool *conflict)
{
	char *diag = NULL;
	int rc;

	if (lrc == LDAP_SUCCESS || lrc == LDAP_TXN_SPECIFY_OKAY)
		return RC_OK;
	ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	const char *why = diag && *diag ? diag : ldap_err2string(lrc);
	switch (lrc) {
	case LDAP_ASSERTION_FAILED:
	case LDAP_NO_SUCH_ATTRIBUTE:   /* the old record's value is not there */
	case LDAP_ALREADY_EXISTS:
	case LDAP_NO_SUCH_OBJECT:
		*conflict = true;
		rc = rc_fail(RC_ERR_STATE, "the directory changed meanwhile (%s %s: %s): nothing was "
		             "changed", what, dn, ldap_err2string(lrc));
		break;
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
	case LDAP_UNWILLING_TO_PERFORM:
	case LDAP_CONSTRAINT_VIOLATION:
		rc = rc_fail(RC_ERR_PERM, "the directory refused the change (%s %s): %s; nothing "
		             "was changed", what, dn, why);
		break;
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_TIMEOUT:
		rc = rc_fail(RC_ERR_STORE, "the directory went away during the change (%s): "
		             "nothing was changed", ldap_err2string(lrc));
		break;
	default:
		rc = rc_fail(RC_ERR_STATE, "the directory refused the change (%s %s): %s; nothing "
		             "was changed", what, dn, why);
		break;
	}
	ldap_memfree(diag);
	return rc;
}

/* One change of CAP inside the transaction TXNID. */
/* a delete's assertion of the old record (RFC 4528): *AS */
static int assertion_make(LDAP *ld, const struct change *c, LDAPControl **as)
{
	char *f = assert_filter(c->old, c->olen);
	if (!f)
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	int lrc = ldap_create_assertion_control(ld, f, 1, as);
	free(f);
	if (lrc != LDAP_SUCCESS)
		return rc_fail(RC_ERR_NOMEM, "cannot make an assertion control: %s",
		               ldap_err2string(lrc));
	return RC_OK;
}

static int send_add(LDAP *ld, struct entry *ne, LDAPControl **ctrls, bool *conflict)
{
	LDAPMod mods[48], *modp[49];
	int nm = 0;

	for (int i = 0; i < ne->n; i++) {
		mods[nm] = (LDAPMod){ .mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES,
		                      .mod_type = ne->a[i].name,
		                      .mod_vals.modv_bvals = ne->a[i].vals };
		modp[nm] = &mods[nm];
		nm++;
	}
	modp[nm] = NULL;
	int lrc = ldap_add_ext_s(ld, ne->dn, modp, ctrls, NULL);
	return ldap_result_rc(ld, lrc, "adding", ne->dn, conflict);
}

/* each attribute of the new entry that changed replaced (never its class,
 * naming attribute or one that did not change: the ACLs let a member write
 * only what it may change, rcDb, rcKey and uid numbers never); those only
 * the old one had deleted */
static int send_modify(LDAP *ld, const struct change *c, struct entry *ne, struct entry *oe,
                       LDAPControl **ctrls, bool *conflict)
{
	LDAPMod mods[48], *modp[49];
	int nm = 0;
	struct berval oldrec = { c->olen, c->old }, *oldv[2] = { &oldrec, NULL };
	struct berval newrec = { c->nlen, c->new }, *newv[2] = { &newrec, NULL };

	mods[nm] = (LDAPMod){ .mod_op = LDAP_MOD_DELETE | LDAP_MOD_BVALUES,
	                      .mod_type = (char *)(uintptr_t)"rcRecord",
	                      .mod_vals.modv_bvals = oldv };
	modp[nm] = &mods[nm];
	nm++;
	mods[nm] = (LDAPMod){ .mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES,
	                      .mod_type = (char *)(uintptr_t)"rcRecord",
	                      .mod_vals.modv_bvals = newv };
	modp[nm] = &mods[nm];
	nm++;
	for (int i = 0; i < ne->n; i++) {
		if (!strcasecmp(ne->a[i].name, "objectClass") ||
		    !strcasecmp(ne->a[i].name, ne->rdn_attr) ||
		    !strcasecmp(ne->a[i].name, "rcRecord") ||
		    attr_same(&ne->a[i], entry_find(oe, ne->a[i].name)))
			continue;
		mods[nm] = (LDAPMod){ .mod_op = LDAP_MOD_REPLACE | LDAP_MOD_BVALUES,
		                      .mod_type = ne->a[i].name,
		                      .mod_vals.modv_bvals = ne->a[i].vals };
		modp[nm] = &mods[nm];
		nm++;
	}
	for (int i = 0; i < oe->n; i++) {
		if (entry_find(ne, oe->a[i].name))
			continue;
		mods[nm] = (LDAPMod){ .mod_op = LDAP_MOD_DELETE | LDAP_MOD_BVALUES,
		                      .mod_type = oe->a[i].name };
		modp[nm] = &mods[nm];
		nm++;
	}
	modp[nm] = NULL;
	int lrc = ldap_modify_ext_s(ld, ne->dn, modp, ctrls, NULL);
	return ldap_result_rc(ld, lrc, "modifying", ne->dn, conflict);
}

static int send_change(LDAP *ld, const char *suffix, struct berval *txnid,
                       const struct change *c, bool *conflict)
{
	int kind = db_kind(c->db), rc;
	struct entry ne, oe;
	LDAPControl txn = { (char *)(uintptr_t)LDAP_CONTROL_TXN_SPEC, { 0, NULL }, 1 };
	LDAPControl *as = NULL, *ctrls[3] = { NULL, NULL, NULL }, **cp = ctrls;

	memset(&ne, 0, sizeof(ne));
	memset(&oe, 0, sizeof(oe));
	if (txnid) {
		txn.ldctl_value = *txnid;
		*cp++ = &txn;
	}
	if (c->has_new && (rc = entry_make(&ne, suffix, kind, c, true)) != RC_OK)
		return rc;
	if (c->had_old && (rc = entry_make(&oe, suffix, kind, c, false)) != RC_OK) {
		entry_free(&ne);
		return rc;
	}
	/* a delete asserts the old record (RFC 4528); a modify removes the
	 * old record's value and adds the new one, which fails when the
	 * entry holds another (no assertion control inside a transaction:
	 * slapd 2.5 may crash when an operation that carried one fails at
	 * the commit) */
	if (c->had_old && !c->has_new) {
		if ((rc = assertion_make(ld, c, &as)) != RC_OK)
			goto out;
		*cp = as;
	}
	if (!c->had_old)
		rc = send_add(ld, &ne, ctrls, conflict);
	else if (!c->has_new)
		rc = ldap_result_rc(ld, ldap_delete_ext_s(ld, oe.dn, ctrls, NULL), "deleting", oe.dn,
		                    conflict);
	else
		rc = send_modify(ld, c, &ne, &oe, ctrls, conflict);
out:
	if (as)
		ldap_control_free(as);
	entry_free(&ne);
	entry_free(&oe);
	return rc;
}

/* Before the transaction: each entry as the capture found it (absent for
 * an add, its rcRecord the old record for a change or a delete), asked of
 * the directory as the member: an LDAP compare of the old record (members
 * may compare records, never read them: they hold hashes).  A record
 * another host changed is a conflict found here, without a transaction
 * that fails at its commit (slapd 2.5 with syncprov may crash then); the
 * transaction's own check stays for a change made in between.  An entry
 * the member may not see or compare is left to the directory's refusal. */
static int precheck_one(LDAP *ld, const char *suffix, const struct change *c, bool *conflict)
{
	static char *no_attrs[] = { (char *)(uintptr_t)LDAP_NO_ATTRS, NULL };
	struct timeval tv = { 10, 0 };
	struct entry e;
	LDAPMessage *res = NULL;
	int lrc, rc = entry_make(&e, suffix, db_kind(c->db), c, c->has_new);
	bool differs = false;

	entry_free(&e);
	if (rc)
		return rc;
	if (c->had_old) {
		struct berval old = { c->olen, c->old };
		lrc = ldap_compare_ext_s(ld, e.dn, "rcRecord", &old, NULL, NULL);
		differs = lrc == LDAP_COMPARE_FALSE;
		if (lrc == LDAP_COMPARE_TRUE || lrc == LDAP_COMPARE_FALSE || lrc == LDAP_NO_SUCH_OBJECT ||
		    lrc == LDAP_INSUFFICIENT_ACCESS || lrc == LDAP_NO_SUCH_ATTRIBUTE)
			lrc = LDAP_SUCCESS;
	} else {
		lrc = ldap_search_ext_s(ld, e.dn, LDAP_SCOPE_BASE, "(objectClass=*)", no_attrs, 0,
		                        NULL, NULL, &tv, 1, &res);
		differs = lrc == LDAP_SUCCESS && ldap_first_entry(ld, res) != NULL;
		if (res)
			ldap_msgfree(res);
		if (lrc == LDAP_NO_SUCH_OBJECT)
			lrc = LDAP_SUCCESS;
	}
	if (lrc != LDAP_SUCCESS)
		return ldap_result_rc(ld, lrc, "reading", e.dn, conflict);
	if (differs) {
		*conflict = true;
		return rc_fail(RC_ERR_STATE, "the directory changed meanwhile (%s is not what "
		               "this host's replica holds): nothing was changed", e.dn);
	}
	return RC_OK;
}

static int precheck(LDAP *ld, const char *suffix, rc_fleet_capture *cap, bool *conflict)
{
	for (size_t i = 0; i < cap->n; i++) {
		int rc = cap->v[i].replicated ? precheck_one(ld, suffix, &cap->v[i], conflict) : RC_OK;
		if (rc)
			return rc;
	}
	return RC_OK;
}

#ifdef RC_DEBUG_CHECKS
/* Tests only (a build with --enable-debug-checks): the tool stops before
 * the transaction's end while ROLLCALL_TEST_TXN_PAUSE names a file that
 * exists (10 s at most), so that a test can kill the provider mid-way. */
static void test_pause(void)
{
	const char *f = getenv("ROLLCALL_TEST_TXN_PAUSE");
	struct timespec d = { 0, 20 * 1000 * 1000 };

	if (!f || !*f || getuid() != geteuid())
		return;
	for (int i = 0; i < 500 && access(f, F_OK) == 0; i++)
		nanosleep(&d, NULL);
}
#else
static void test_pause(void)
{
}
#endif

/* The deletes of CAP, one by one (outside a transaction), once the rest
 * was committed: a failure says what was not deleted. */
static int send_deletes(LDAP *ld, const char *suffix, rc_fleet_capture *cap, bool *conflict)
{
	size_t done = 0, all = 0;
	int rc = RC_OK;

	for (size_t i = 0; i < cap->n; i++)
		all += cap->v[i].replicated && !cap->v[i].has_new;
	for (size_t i = 0; i < cap->n && !rc; i++) {
		if (!cap->v[i].replicated || cap->v[i].has_new)
			continue;
		rc = send_change(ld, suffix, NULL, &cap->v[i], conflict);
		done += !rc;
	}
	if (rc && (cap->nrepl > all || done > 0)) {
		char saved[512];
		*conflict = false;   /* part of it is made: not to be run again as is */
		snprintf(saved, sizeof(saved), "%s", rc_errmsg());
		rc = rc_fail(rc, "the directory took the change but only %zu of its %zu deletions: "
		             "%s", done, all, saved);
	}
	return rc;
}

/* bound as the member (*LD) through the first provider that answers (USED) */
static int member_bind(const rc_fleet_conf *fc, const char *member, const char *password,
                       LDAP **ld, char *used, size_t usedlen)
{
	char dn[RC_FLEET_DN_MAX];
	int rc;

	if ((rc = rc_fleet_member_dn(member, fc->suffix, dn, sizeof(dn))) != RC_OK)
		return rc;
	int lrc = rc_fleet_bind_any(fc->uris, dn, password, ld, used, usedlen);
	switch (lrc) {
	case LDAP_SUCCESS:
		return RC_OK;
	case LDAP_SERVER_DOWN: case LDAP_CONNECT_ERROR: case LDAP_TIMEOUT:
		return rc_fail(RC_ERR_STORE, "the directory is unreachable (%s): nothing was changed",
		               fc->uris);
	case LDAP_INVALID_CREDENTIALS:
		return rc_fail(RC_ERR_AUTH, "the directory refused %s's password (bound as %s): "
		               "nothing was changed", member, dn);
	case LDAP_CONFIDENTIALITY_REQUIRED:
		return rc_fail(RC_ERR_PERM, "the directory does not offer TLS (StartTLS): the "
		               "password is not sent in clear; nothing was changed");
	default:
		return rc_fail(RC_ERR_PERM, "the directory refused %s's bind (%s): %s; nothing was "
		               "changed", member, dn, ldap_err2string(lrc));
	}
}

/* the transaction TXNID committed, its result read */
static int txn_commit(LDAP *ld, struct berval *txnid, bool *conflict)
{
	int msgid = 0;

	/* slapd 2.5 answers an operation of a transaction before its thread
	 * is done with it, and the end may then run the queued operation
	 * while that thread still frees its parts (a crash, seen under load):
	 * a moment for the threads to finish */
	struct timespec settle = { 0, 50 * 1000 * 1000 };
	nanosleep(&settle, NULL);
	/* the end's result read here: libldap's ldap_txn_end_s fails to
	 * decode the response of a transaction that failed (a decoding
	 * error instead of the failed operation's result) */
	int lrc = ldap_txn_end(ld, 1, txnid, NULL, NULL, &msgid);
	if (lrc == LDAP_SUCCESS) {
		struct timeval tv = { 30, 0 };
		LDAPMessage *res = NULL;
		char *diag = NULL;
		int err = LDAP_OTHER;
		if (ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &res) <= 0 || !res)
			return rc_fail(RC_ERR_STORE, "the directory went away before confirming the "
			               "change: it may have been made or not (rollcalld brings it to "
			               "this host if it was; see rollcall fleet status)");
		if ((lrc = ldap_parse_result(ld, res, &err, NULL, &diag, NULL, NULL, 1)) ==
		    LDAP_SUCCESS) {
			lrc = err;
			if (diag)
				ldap_set_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, diag);
			ldap_memfree(diag);
		}
	}
	return ldap_result_rc(ld, lrc, "committing", "the transaction", conflict);
}

int rc_fleet_capture_send(rc_fleet_capture *cap, const rc_fleet_conf *fc, const char *member,
                          const char *password, bool *conflict, char *used, size_t usedlen)
{
	LDAP *ld = NULL;
	struct berval *txnid = NULL;
	int lrc, rc;

	*conflict = false;
	if (used && usedlen)
		used[0] = '\0';
	if ((rc = member_bind(fc, member, password, &ld, used, usedlen)) != RC_OK)
		return rc;
	if ((rc = precheck(ld, fc->suffix, cap, conflict)) != RC_OK)
		goto out;
	/* one operation is atomic by itself (and slapd 2.5's back-mdb fails a
	 * delete inside a transaction: a revocation is one delete) */
	if (cap->nrepl == 1) {
		for (size_t i = 0; i < cap->n; i++)
			if (cap->v[i].replicated)
				rc = send_change(ld, fc->suffix, NULL, &cap->v[i], conflict);
		goto out;
	}
	lrc = ldap_txn_start_s(ld, NULL, NULL, &txnid);
	if (lrc != LDAP_SUCCESS || !txnid) {
		rc = lrc == LDAP_SERVER_DOWN || lrc == LDAP_CONNECT_ERROR || lrc == LDAP_TIMEOUT
		             ? rc_fail(RC_ERR_STORE, "the directory is unreachable (%s): nothing "
		                       "was changed", fc->uris)
		             : rc_fail(RC_ERR_STATE, "the directory cannot start a transaction "
		                       "(RFC 5805): %s; nothing was changed", ldap_err2string(lrc));
		goto out;
	}
	rc = RC_OK;
	for (size_t i = 0; i < cap->n && !rc; i++)
		if (cap->v[i].replicated && cap->v[i].has_new)
			rc = send_change(ld, fc->suffix, txnid, &cap->v[i], conflict);
	if (rc) {
		int keep = rc;
		char saved[512];
		snprintf(saved, sizeof(saved), "%s", rc_errmsg());
		(void)ldap_txn_end_s(ld, 0, txnid, NULL, NULL, NULL);
		rc_fail(keep, "%s", saved);
		rc = keep;
		goto out;
	}
	test_pause();
	rc = txn_commit(ld, txnid, conflict);
	/* the deletes after it, each with its assertion: slapd 2.5's back-mdb
	 * cannot delete inside a transaction (with syncprov a delete there
	 * fails at the commit, or is silently not made) */
	if (!rc)
		rc = send_deletes(ld, fc->suffix, cap, conflict);
out:
	if (txnid)
		ber_bvfree(txnid);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return rc;
}

/* ---- after the directory committed --------------------------------------- */

int rc_fleet_capture_apply_local(rc_fleet_capture *cap, const rc_actor *a)
{
	rc_txn t;
	int rc;
	bool any = cap->action[0] || cap->nqueued;

	for (size_t i = 0; i < cap->n && !any; i++)
		any = !cap->v[i].replicated &&
		      (cap->v[i].db == DB_HOST || cap->v[i].db == DB_OUTBOX ||
		       cap->v[i].db == DB_SETTINGS);
	if (!any)
		return RC_OK;
	rc = rc_txn_begin(cap->s, a, true, &t);
	if (rc)
		return rc;
	/* this host's own records: host state, the outbox, its own counters
	 * (the indexes of replicated records are the replica's) */
	for (size_t i = 0; i < cap->n && !rc; i++) {
		struct change *c = &cap->v[i];
		if (c->replicated ||
		    (c->db != DB_HOST && c->db != DB_OUTBOX && c->db != DB_SETTINGS))
			continue;
		if (c->has_new)
			rc = rc_store_put(&t, c->db, c->key, c->klen, c->new, c->nlen, 0);
		else if (c->had_old) {
			rc = rc_store_del(&t, c->db, c->key, c->klen);
			if (rc == RC_ERR_NOTFOUND)
				rc = RC_OK;
		}
	}
	snprintf(t.action, sizeof(t.action), "%s", cap->action);
	snprintf(t.target, sizeof(t.target), "%s", cap->target);
	snprintf(t.detail, sizeof(t.detail), "%s", cap->detail);
	for (unsigned i = 0; i < cap->nqueued && i < 4; i++)
		memcpy(t.queued[i], cap->queued[i], RC_NOTICE_ID_MAX);
	t.nqueued = cap->nqueued;
	return rc_txn_end(&t, rc);
}

/* Does the replica hold what the capture says: NEW (want_new) or anything
 * but OLD (!want_new)?  For want_new all, else any. */
static bool replica_check(rc_fleet_capture *cap, bool want_new)
{
	rc_actor root = { .uid = 0 };
	rc_txn t;
	bool all = true, any = false;

	if (rc_txn_begin(cap->s, &root, false, &t) != RC_OK)
		return false;
	for (size_t i = 0; i < cap->n; i++) {
		struct change *c = &cap->v[i];
		rc_val v;
		if (!c->replicated)
			continue;
		int rc = rc_store_get(&t, c->db, c->key, c->klen, &v);
		bool is_new = c->has_new ? rc == RC_OK && v.size == c->nlen &&
		                                   memcmp(v.data, c->new, c->nlen) == 0
		                         : rc == RC_ERR_NOTFOUND;
		bool is_old = c->had_old ? rc == RC_OK && v.size == c->olen &&
		                                   memcmp(v.data, c->old, c->olen) == 0
		                         : rc == RC_ERR_NOTFOUND;
		all = all && is_new;
		any = any || !is_old;
	}
	(void)rc_txn_end(&t, RC_OK);
	return want_new ? all : any;
}

static bool wait_until(rc_fleet_capture *cap, bool want_new, int timeout_ms)
{
	struct timespec d = { 0, 20 * 1000 * 1000 };

	for (int waited = 0;; waited += 20) {
		if (replica_check(cap, want_new))
			return true;
		if (waited >= timeout_ms)
			return false;
		nanosleep(&d, NULL);
	}
}

bool rc_fleet_capture_wait_applied(rc_fleet_capture *cap, int timeout_ms)
{
	return wait_until(cap, true, timeout_ms);
}

bool rc_fleet_capture_wait_moved(rc_fleet_capture *cap, int timeout_ms)
{
	return wait_until(cap, false, timeout_ms);
}
