/*
 * test_store.c - the store through its API: creation and checks, schema
 * version, invitation expiry at injected times (the clock seam), id
 * allocation, audit records and retention, settings, and the rank rules.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <sodium.h>
#include <liboath/oath.h>
#include "internal.h"

static int64_t fake_now = 1800000000;
static int64_t fake_clock(void)
{
	return fake_now;
}

static const rc_actor root = { .uid = 0, .origin = "test" };

struct fixture {
	char dir[64];
	rc_config cfg;
	rc_store *s;
	rc_code_result owner;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/rc-unit-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	rc_config_defaults(&f->cfg);
	snprintf(f->cfg.state_dir, sizeof(f->cfg.state_dir), "%s/state", f->dir);
	/* the host's files: ids 200001 (a user) and 200003 (a group) are taken */
	char path[128];
	snprintf(path, sizeof(path), "%s/passwd", f->dir);
	FILE *p = fopen(path, "w");
	fputs("root:x:0:0:root:/root:/bin/bash\nhostuser:x:200001:100::/home/h:/bin/sh\n", p);
	fclose(p);
	snprintf(f->cfg.passwd_file, sizeof(f->cfg.passwd_file), "%s", path);
	snprintf(path, sizeof(path), "%s/group", f->dir);
	p = fopen(path, "w");
	fputs("root:x:0:\nhostgroup:x:200003:\n", p);
	fclose(p);
	snprintf(f->cfg.group_file, sizeof(f->cfg.group_file), "%s", path);
	fake_now = 1800000000;
	if (rc_store_create(&f->cfg, "owner@example.com", NULL, &f->owner) != RC_OK) {
		fprintf(stderr, "create: %s\n", rc_errmsg());
		return -1;
	}
	if (rc_store_open(&f->s, &f->cfg, 0) != RC_OK) {
		fprintf(stderr, "open: %s\n", rc_errmsg());
		return -1;
	}
	rc_store_set_clock(f->s, fake_clock);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	rc_store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static size_t audit_count(rc_store *s)
{
	rc_status st;
	assert_int_equal(rc_store_status(s, &root, &st), RC_OK);
	return st.audit_entries;
}

static int last_audit_cb(const rc_audit_entry *e, void *ctx)
{
	*(rc_audit_entry *)ctx = *e;
	return RC_OK;
}

static rc_audit_entry last_audit(rc_store *s)
{
	rc_audit_entry e;
	memset(&e, 0, sizeof(e));
	assert_int_equal(rc_audit_foreach(s, &root, 0, 1, last_audit_cb, &e), RC_OK);
	return e;
}

/* An active member with ROLE; returns its uid. */
static uid_t member(struct fixture *f, const char *name, const char *role)
{
	char email[64], who[RC_NAME_MAX + 1];
	rc_code_result r;
	rc_invite_req req = { .email = email, .role = role, .username = name };
	snprintf(email, sizeof(email), "%s@example.com", name);
	assert_int_equal(rc_member_invite(f->s, &root, &req, &r), RC_OK);
	assert_int_equal(rc_member_accept(f->s, &root, r.code, "a long password 1", who), RC_OK);
	rc_member m;
	assert_int_equal(rc_member_get(f->s, &root, name, &m), RC_OK);
	return m.uid;
}

static void test_create_refuses_second(void **state)
{
	struct fixture *f = *state;
	rc_code_result r;
	assert_int_equal(rc_store_create(&f->cfg, "x@example.com", NULL, &r), RC_ERR_EXISTS);
	assert_non_null(strstr(rc_errmsg(), "already holds a rollcall store"));
}

static void test_schema_newer_refused(void **state)
{
	struct fixture *f = *state;
	rc_txn t;
	rc_store *s2 = NULL;
	assert_int_equal(rc_txn_begin(f->s, &root, true, &t), RC_OK);
	assert_int_equal(rc_meta_put_u64(&t, "@schema", RC_SCHEMA_VERSION + 1), RC_OK);
	assert_int_equal(rc_txn_end(&t, RC_OK), RC_OK);
	rc_store_close(f->s);
	f->s = NULL;
	assert_int_equal(rc_store_open(&s2, &f->cfg, 0), RC_ERR_SCHEMA);
	assert_null(s2);
	assert_non_null(strstr(rc_errmsg(), "schema version 4"));
	assert_non_null(strstr(rc_errmsg(), "upgrade rollcall"));
	/* put it back so that teardown and later opens work */
	assert_int_equal(rc_store_open(&f->s, &f->cfg, 0) == RC_OK, 0);
}

static void test_invitation_expiry(void **state)
{
	struct fixture *f = *state;
	rc_code_result r, r2;
	rc_invitation inv;
	char who[RC_NAME_MAX + 1];
	rc_invite_req req = { .email = "bob@example.com", .role = "developer" };

	assert_int_equal(rc_member_invite(f->s, &root, &req, &r), RC_OK);
	assert_string_equal(r.username, "bob");
	assert_int_equal(r.expires, fake_now + 86400);
	fake_now += 86399;   /* a second before expiry: still pending */
	assert_int_equal(rc_invitation_get(f->s, &root, "bob", &inv), RC_OK);
	assert_int_equal(inv.state, RC_INV_PENDING);
	fake_now += 1;       /* at expiry: expired */
	assert_int_equal(rc_invitation_get(f->s, &root, "bob", &inv), RC_OK);
	assert_int_equal(inv.state, RC_INV_EXPIRED);
	assert_int_equal(rc_member_accept(f->s, &root, r.code, "a long password 1", who), RC_ERR_STATE);
	assert_non_null(strstr(rc_errmsg(), "expired"));
	assert_int_equal(rc_member_withdraw(f->s, &root, "bob"), RC_ERR_STATE);
	assert_non_null(strstr(rc_errmsg(), "expired; only pending"));
	/* resend: a new code and expiry; the old code is dead */
	assert_int_equal(rc_member_resend(f->s, &root, "bob", &r2), RC_OK);
	assert_int_equal(r2.expires, fake_now + 86400);
	assert_string_not_equal(r.code, r2.code);
	assert_int_equal(rc_member_accept(f->s, &root, r.code, "a long password 1", who), RC_ERR_NOTFOUND);
	assert_int_equal(rc_invitation_get(f->s, &root, "bob", &inv), RC_OK);
	assert_int_equal(inv.state, RC_INV_PENDING);
	assert_int_equal(inv.resent, 1);
	assert_int_equal(rc_member_accept(f->s, &root, r2.code, "a long password 1", who), RC_OK);
	assert_string_equal(who, "bob");
	/* invite.ttl changes the lifetime */
	assert_int_equal(rc_settings_set(f->s, &root, "invite.ttl", "90m"), RC_OK);
	rc_invite_req req2 = { .email = "carol@example.com", .role = "read-only" };
	assert_int_equal(rc_member_invite(f->s, &root, &req2, &r), RC_OK);
	assert_int_equal(r.expires, fake_now + 5400);
}

static int collect_gid(const rc_role *r, void *ctx)
{
	uint32_t *seen = ctx;
	seen[seen[0]++ + 1] = r->gid;
	return RC_OK;
}

static void test_id_allocation(void **state)
{
	struct fixture *f = *state;
	uint32_t gids[16] = { 0 };
	rc_member a, b;
	rc_code_result r;

	/* the built-in roles' gids skip the ids the host has */
	assert_int_equal(rc_role_foreach(f->s, &root, collect_gid, gids), RC_OK);
	assert_int_equal(gids[0], 5);
	for (uint32_t i = 1; i <= gids[0]; i++) {
		assert_true(gids[i] >= 200000 && gids[i] <= 200007);
		assert_int_not_equal(gids[i], 200001);
		assert_int_not_equal(gids[i], 200003);
	}
	/* uids are never reused */
	member(f, "first", "read-only");
	assert_int_equal(rc_member_get(f->s, &root, "first", &a), RC_OK);
	assert_int_equal(rc_member_delete(f->s, &root, "first", "first@example.com"), RC_OK);
	member(f, "second", "read-only");
	assert_int_equal(rc_member_get(f->s, &root, "second", &b), RC_OK);
	assert_true(b.uid > a.uid);
	/* names the host has are refused */
	rc_invite_req req = { .email = "h@example.com", .role = "read-only", .username = "hostuser" };
	assert_int_equal(rc_member_invite(f->s, &root, &req, &r), RC_ERR_EXISTS);
	req.username = "hostgroup";
	assert_int_equal(rc_member_invite(f->s, &root, &req, &r), RC_ERR_EXISTS);
	assert_non_null(strstr(rc_errmsg(), "group of this host"));
	/* a used-up range */
	rc_store_close(f->s);
	f->cfg.id_max = b.uid + 1;
	assert_int_equal(rc_store_open(&f->s, &f->cfg, 0), RC_OK);
	rc_store_set_clock(f->s, fake_clock);
	member(f, "third", "read-only");
	req.username = "fourth";
	req.email = "fourth@example.com";
	size_t before = audit_count(f->s);
	assert_int_equal(rc_member_invite(f->s, &root, &req, &r), RC_ERR_FULL);
	assert_non_null(strstr(rc_errmsg(), "is used up"));
	assert_int_equal(audit_count(f->s), before);   /* nothing written */
}

static void test_audit_atomic_and_denials(void **state)
{
	struct fixture *f = *state;
	rc_code_result r;
	rc_invite_req bad = { .email = "x@example.com", .role = "nosuch" };
	rc_actor stranger = { .uid = 4242, .origin = "test" };
	size_t n = audit_count(f->s);
	rc_audit_entry e;

	/* a refused change leaves no audit record and changes nothing */
	assert_int_equal(rc_member_invite(f->s, &root, &bad, &r), RC_ERR_NOTFOUND);
	assert_int_equal(audit_count(f->s), n);
	/* a successful one adds exactly one */
	bad.role = "read-only";
	assert_int_equal(rc_member_invite(f->s, &root, &bad, &r), RC_OK);
	assert_int_equal(audit_count(f->s), n + 1);
	e = last_audit(f->s);
	assert_string_equal(e.action, "member.invite");
	assert_string_equal(e.actor, "root");
	assert_string_equal(e.target, "x");
	assert_string_equal(e.result, "ok");
	assert_int_equal(e.time, fake_now);
	/* a refusal for lack of permission is recorded, and the change is not made */
	assert_int_equal(rc_member_withdraw(f->s, &stranger, "x"), RC_ERR_PERM);
	assert_non_null(strstr(rc_errmsg(), "uid 4242 is not a rollcall member"));
	assert_int_equal(audit_count(f->s), n + 2);
	e = last_audit(f->s);
	assert_string_equal(e.action, "member.withdraw");
	assert_string_equal(e.actor, "uid:4242");
	assert_non_null(strstr(e.result, "denied"));
	rc_invitation inv;
	assert_int_equal(rc_invitation_get(f->s, &root, "x", &inv), RC_OK);
	assert_int_equal(inv.state, RC_INV_PENDING);
}

static void test_audit_retention(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(rc_settings_set(f->s, &root, "audit.max_entries", "100"), RC_OK);
	for (int i = 0; i < 130; i++)
		assert_int_equal(rc_billing_set(f->s, &root, "plan", i % 2 ? "a" : "b"), RC_OK);
	assert_true(audit_count(f->s) <= 100);
	assert_true(last_audit(f->s).seq >= 130);
	/* by age: records older than audit.max_age go */
	assert_int_equal(rc_settings_set(f->s, &root, "audit.max_entries", "100000"), RC_OK);
	assert_int_equal(rc_settings_set(f->s, &root, "audit.max_age", "1d"), RC_OK);
	fake_now += 2 * 86400;
	for (int i = 0; i < 10; i++)
		assert_int_equal(rc_billing_set(f->s, &root, "plan", "c"), RC_OK);
	/* at most 16 old records go per append: 10 appends drop 100+ old ones */
	assert_true(audit_count(f->s) <= 10 + 100 - 10 * 10 + 10);
}

static void test_settings(void **state)
{
	struct fixture *f = *state;
	char v[64];
	assert_int_equal(rc_settings_get(f->s, &root, "invite.ttl", v, sizeof(v)), RC_OK);
	assert_string_equal(v, "1d");   /* 24h, canonical */
	assert_int_equal(rc_settings_set(f->s, &root, "invite.ttl", "36h"), RC_OK);
	assert_int_equal(rc_settings_get(f->s, &root, "invite.ttl", v, sizeof(v)), RC_OK);
	assert_string_equal(v, "1d12h");
	assert_int_equal(rc_settings_set(f->s, &root, "invite.ttl", "forever"), RC_ERR_INVALID);
	assert_non_null(strstr(rc_errmsg(), "invite.ttl: bad duration \"forever\""));
	assert_int_equal(rc_settings_set(f->s, &root, "invite.ttl", "10s"), RC_ERR_INVALID);
	assert_non_null(strstr(rc_errmsg(), "out of range"));
	assert_int_equal(rc_settings_set(f->s, &root, "mfa", "sometimes"), RC_ERR_INVALID);
	assert_int_equal(rc_settings_set(f->s, &root, "mfa", "required"), RC_OK);
	assert_int_equal(rc_settings_set(f->s, &root, "password.min_length", "7"), RC_ERR_INVALID);
	assert_int_equal(rc_settings_set(f->s, &root, "no.such", "1"), RC_ERR_INVALID);
	assert_non_null(strstr(rc_errmsg(), "unknown setting \"no.such\" (known: invite.ttl"));
	assert_int_equal(rc_settings_get(f->s, &root, "invite.ttl", v, sizeof(v)), RC_OK);
	assert_string_equal(v, "1d12h");
}

static int token_cb(const rc_token *tk, void *ctx)
{
	*(rc_token *)ctx = *tk;
	return RC_OK;
}

/* A token login checks the token in a read transaction and writes its use
 * in a later write transaction (rc_token_touch): that write must work on
 * the token as it is then, not bring back one revoked in between, and
 * not put back an older use over a newer one. */
static void test_token_touch_race(void **state)
{
	struct fixture *f = *state;
	rc_token_req req = { .description = "ci", .extension = RC_EXT_SLIDE };
	rc_actor dev = { .origin = "test" };
	rc_token info, now;
	rc_token_rec early, late;
	char tok[RC_TOKEN_LEN + 1];
	bool touch;
	rc_txn t;

	dev.uid = member(f, "dev", "developer");
	assert_int_equal(rc_token_generate(f->s, &dev, &req, &info, tok), RC_OK);
	/* two logins read the token, the later one writes first */
	fake_now += 120;
	assert_int_equal(rc_txn_begin(f->s, &root, false, &t), RC_OK);
	assert_int_equal(rc_token_verify(&t, (uint32_t)dev.uid, tok, &early, &touch), RC_OK);
	assert_true(touch);
	rc_txn_end(&t, RC_OK);
	fake_now += 120;
	assert_int_equal(rc_txn_begin(f->s, &root, false, &t), RC_OK);
	assert_int_equal(rc_token_verify(&t, (uint32_t)dev.uid, tok, &late, &touch), RC_OK);
	assert_true(touch);
	rc_txn_end(&t, RC_OK);
	assert_int_equal(rc_txn_begin(f->s, &root, true, &t), RC_OK);
	assert_int_equal(rc_txn_end(&t, rc_token_touch(&t, &late)), RC_OK);
	assert_int_equal(rc_txn_begin(f->s, &root, true, &t), RC_OK);
	assert_int_equal(rc_txn_end(&t, rc_token_touch(&t, &early)), RC_OK);
	memset(&now, 0, sizeof(now));
	assert_int_equal(rc_token_foreach(f->s, &root, "dev", RC_KIND_MEMBER, token_cb, &now),
	                 RC_OK);
	assert_string_equal(now.id, info.id);
	assert_int_equal(now.last_used, fake_now);
	assert_int_equal(now.expires, fake_now + info.ttl);

	/* a login that read the token before it was revoked */
	fake_now += 120;
	assert_int_equal(rc_txn_begin(f->s, &root, false, &t), RC_OK);
	assert_int_equal(rc_token_verify(&t, (uint32_t)dev.uid, tok, &late, &touch), RC_OK);
	assert_true(touch);
	rc_txn_end(&t, RC_OK);
	assert_int_equal(rc_token_revoke(f->s, &root, "dev", RC_KIND_MEMBER, info.id), RC_OK);
	assert_int_equal(rc_txn_begin(f->s, &root, true, &t), RC_OK);
	assert_int_equal(rc_txn_end(&t, rc_token_touch(&t, &late)), RC_ERR_AUTH);
	assert_non_null(strstr(rc_errmsg(), "revoked during the login"));
	assert_int_equal(rc_txn_begin(f->s, &root, false, &t), RC_OK);
	assert_int_equal(rc_token_verify(&t, (uint32_t)dev.uid, tok, &late, &touch), RC_ERR_AUTH);
	rc_txn_end(&t, RC_OK);
	memset(tok, 0, sizeof(tok));
}

/* Nothing slow inside a write transaction: with --enable-debug-checks,
 * argon2id run while one is open aborts (the test builds use it); the
 * stop signals of the terminal are held while one is open, and let go
 * after.  And hashing for a member's acceptance runs outside it. */
static void test_no_slow_work_in_write(void **state)
{
	struct fixture *f = *state;
	sigset_t cur;
	rc_txn t;
	int status;
	char out[RC_PWHASH_MAX];

	assert_int_equal(rc_txn_begin(f->s, &root, true, &t), RC_OK);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	assert_true(sigismember(&cur, SIGTSTP) && sigismember(&cur, SIGTTIN) &&
	            sigismember(&cur, SIGTTOU));
	assert_int_equal(rc_txn_end(&t, RC_OK), RC_OK);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	assert_false(sigismember(&cur, SIGTSTP));
	/* an accepted invitation: hashed outside, so no abort */
	member(f, "hashed", "developer");
#ifdef RC_DEBUG_CHECKS
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
		rc_store *s;
		if (rc_store_open(&s, &f->cfg, 0) != RC_OK || rc_txn_begin(s, &root, true, &t) != RC_OK)
			_exit(3);
		(void)rc_password_hash("a password", 1, 8192, out);
		_exit(0);   /* not reached: the check aborts */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	/* outside a transaction it hashes */
	assert_int_equal(rc_password_hash("a password", 1, 8192, out), RC_OK);
#else
	(void)status;
	(void)out;
	skip();
#endif
}

/* ---- service users' tokens (issue 14, item 5) ---------------------------------- */

static void fast_argon2(struct fixture *f)
{
	assert_int_equal(rc_settings_set(f->s, &root, "argon2.opslimit", "1"), RC_OK);
	assert_int_equal(rc_settings_set(f->s, &root, "argon2.memlimit_kib", "8192"), RC_OK);
}

/* A PAM session for USER: its session token. */
static void session(struct fixture *f, const char *user, char tok[RC_TOKEN_LEN + 1],
                    char id[RC_TOKEN_ID_LEN + 1])
{
	assert_int_equal(rc_login_session_open(f->s, "pam:test", user, tok, id), RC_OK);
}

/* A PAM login of USER with SECRET (a token): RC_OK or the refusal. */
static int login(struct fixture *f, const char *user, const char *secret)
{
	rc_login l;
	int rc = rc_login_begin(f->s, &l, "pam:test", user, secret, 0);
	if (rc == RC_OK)
		assert_true(l.done);
	rc_login_clear(&l);
	return rc;
}

/* The newest audit record of the action named in *ctx. */
static int find_action_cb(const rc_audit_entry *e, void *ctx)
{
	rc_audit_entry *want = ctx;
	if (strcmp(e->action, want->action) == 0)
		*want = *e;
	return RC_OK;
}

static int count_cb(const rc_token *tk, void *ctx)
{
	(void)tk;
	++*(size_t *)ctx;
	return RC_OK;
}

/* A service user's session token belongs to its uid, never to its name: a
 * new password, a rename and a removal revoke it, and it never logs in a
 * later service user of the same name.  An admin with manage-services
 * lists and revokes a service user's tokens; a member without it cannot. */
static void test_svcuser_tokens(void **state)
{
	struct fixture *f = *state;
	rc_secret_result def, pw;
	char tok[RC_TOKEN_LEN + 1], id[RC_TOKEN_ID_LEN + 1];
	rc_actor ro = { .origin = "test" }, op = { .origin = "test" };
	size_t n;

	fast_argon2(f);
	ro.uid = member(f, "ro", "read-only");
	op.uid = member(f, "op", "operator");
	assert_int_equal(rc_service_create(f->s, &root, "analytics", &def), RC_OK);
	assert_int_equal(rc_service_create(f->s, &root, "other", &def), RC_OK);
	assert_int_equal(rc_svcuser_create(f->s, &root, "analytics", "dbuser1", NULL, 0, 0, &pw),
	                 RC_OK);

	/* a new password */
	session(f, "dbuser1", tok, id);
	assert_int_equal(login(f, "dbuser1", tok), RC_OK);
	assert_int_equal(rc_svcuser_update_password(f->s, &op, "analytics", "dbuser1", NULL, &pw),
	                 RC_OK);
	assert_int_equal(login(f, "dbuser1", tok), RC_ERR_AUTH);
	assert_non_null(strstr(rc_errmsg(), "unknown or revoked token"));

	/* a rename (then back) */
	session(f, "dbuser1", tok, id);
	assert_int_equal(rc_svcuser_set(f->s, &op, "analytics", "dbuser1", -1, -1, "dbuser2"),
	                 RC_OK);
	assert_int_equal(login(f, "dbuser2", tok), RC_ERR_AUTH);
	assert_int_equal(rc_svcuser_set(f->s, &op, "analytics", "dbuser2", -1, -1, "dbuser1"),
	                 RC_OK);
	assert_int_equal(login(f, "dbuser1", tok), RC_ERR_AUTH);

	/* listed and revoked by a member with manage-services, not without */
	session(f, "dbuser1", tok, id);
	n = 0;
	assert_int_equal(rc_token_foreach(f->s, &op, "dbuser1", RC_KIND_SVCUSER, count_cb, &n),
	                 RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(rc_token_foreach(f->s, &ro, "dbuser1", RC_KIND_SVCUSER, count_cb, &n),
	                 RC_ERR_PERM);
	assert_non_null(strstr(rc_errmsg(), "manage-services"));
	assert_int_equal(rc_token_revoke(f->s, &ro, "dbuser1", RC_KIND_SVCUSER, id), RC_ERR_PERM);
	assert_int_equal(rc_token_revoke_all(f->s, &ro, "dbuser1", RC_KIND_SVCUSER, &n),
	                 RC_ERR_PERM);
	assert_int_equal(login(f, "dbuser1", tok), RC_OK);
	/* --member names members only, and says where to look (the input
	 * that names a service user; the tool says how) */
	assert_int_equal(rc_token_foreach(f->s, &root, "dbuser1", RC_KIND_MEMBER, count_cb, &n),
	                 RC_ERR_NOTFOUND);
	assert_non_null(strstr(rc_errmsg(), "it is a service user"));
	assert_string_equal(rc_errfield(), "service_user");
	assert_null(strstr(rc_errmsg(), "--"));
	assert_int_equal(rc_token_revoke(f->s, &op, "dbuser1", RC_KIND_SVCUSER, id), RC_OK);
	assert_int_equal(login(f, "dbuser1", tok), RC_ERR_AUTH);
	session(f, "dbuser1", tok, id);
	n = 0;
	assert_int_equal(rc_token_revoke_all(f->s, &op, "dbuser1", RC_KIND_SVCUSER, &n), RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(login(f, "dbuser1", tok), RC_ERR_AUTH);

	/* a removal, and a later dbuser1 in another service */
	session(f, "dbuser1", tok, id);
	assert_int_equal(rc_svcuser_delete(f->s, &op, "analytics", "dbuser1"), RC_OK);
	assert_int_equal(rc_svcuser_create(f->s, &op, "other", "dbuser1", NULL, 0, 0, &pw), RC_OK);
	assert_int_equal(login(f, "dbuser1", tok), RC_ERR_AUTH);
	n = 0;
	assert_int_equal(rc_token_foreach(f->s, &op, "dbuser1", RC_KIND_SVCUSER, count_cb, &n),
	                 RC_OK);
	assert_int_equal(n, 0);

	/* a service's removal revokes its users' tokens */
	session(f, "dbuser1", tok, id);
	assert_int_equal(rc_service_set_running(f->s, &root, "other", 0), RC_OK);
	assert_int_equal(rc_service_delete(f->s, &root, "other"), RC_OK);
	assert_int_equal(rc_service_create(f->s, &root, "other", &def), RC_OK);
	assert_int_equal(rc_svcuser_create(f->s, &root, "other", "dbuser1", NULL, 0, 0, &pw),
	                 RC_OK);
	assert_int_equal(login(f, "dbuser1", tok), RC_ERR_AUTH);
	sodium_memzero(&pw, sizeof(pw));
	sodium_memzero(&def, sizeof(def));
	sodium_memzero(tok, sizeof(tok));
}

/* A store of schema 1 (tokens keyed by their owner's name, no uid in the
 * record, no audit_refusals database) keeps working: opening it upgrades
 * it once; a member's token still logs in, a service user's (which cannot
 * be told from one of an earlier user of the same name) is revoked, and
 * refusals are aggregated. */
static void test_upgrade_schema1_tokens(void **state)
{
	struct fixture *f = *state;
	rc_token_req req = { .description = "ci", .extension = RC_EXT_SLIDE };
	rc_actor dev = { .origin = "test" };
	rc_secret_result def, pw;
	rc_token info;
	char mtok[RC_TOKEN_LEN + 1], stok[RC_TOKEN_LEN + 1], sid[RC_TOKEN_ID_LEN + 1];
	uint64_t schema = 0;
	size_t n = 0;
	rc_txn t;

	fast_argon2(f);
	dev.uid = member(f, "dev", "developer");
	assert_int_equal(rc_token_generate(f->s, &dev, &req, &info, mtok), RC_OK);
	assert_int_equal(rc_service_create(f->s, &root, "analytics", &def), RC_OK);
	assert_int_equal(rc_svcuser_create(f->s, &root, "analytics", "dbuser1", NULL, 0, 0, &pw),
	                 RC_OK);
	session(f, "dbuser1", stok, sid);

	/* write the tokens back as schema 1 did */
	assert_int_equal(rc_txn_begin(f->s, &root, true, &t), RC_OK);
	{
		rc_cursor *c;
		rc_val k, v;
		rc_token_rec recs[2];
		size_t nrec = 0;
		assert_int_equal(rc_cursor_open(&t, DB_TOKENS, &c), 0);
		for (int mrc = rc_cursor_get(c, &k, &v, RC_CUR_FIRST); mrc == 0;
		     mrc = rc_cursor_get(c, &k, &v, RC_CUR_NEXT)) {
			if (((char *)k.data)[0] == 'i') {
				assert_true(nrec < 2);
				assert_int_equal(rc_token_decode(v.data, v.size, &recs[nrec]), RC_OK);
				nrec++;
			}
			assert_int_equal(rc_cursor_del(c), 0);
		}
		rc_cursor_close(c);
		assert_int_equal(nrec, 2);
		for (size_t i = 0; i < nrec; i++) {
			char key[1 + RC_NAME_MAX + 1 + RC_TOKEN_ID_LEN];
			size_t on = strlen(recs[i].pub.owner);
			rc_wbuf w;
			recs[i].pub.owner_uid = 0;   /* schema 1 had no uid */
			assert_int_equal(rc_token_encode(&recs[i], &w), RC_OK);
			key[0] = 'i';
			memcpy(key + 1, recs[i].pub.id, RC_TOKEN_ID_LEN);
			assert_int_equal(rc_store_putw(&t, DB_TOKENS, key, 1 + RC_TOKEN_ID_LEN, &w, 0),
			                 RC_OK);
			rc_wbuf_free(&w);
			key[0] = 'o';
			memcpy(key + 1, recs[i].pub.owner, on + 1);
			memcpy(key + 2 + on, recs[i].pub.id, RC_TOKEN_ID_LEN);
			assert_int_equal(rc_store_put(&t, DB_TOKENS, key, 2 + on + RC_TOKEN_ID_LEN,
			                               "", 0, 0), RC_OK);
		}
		sodium_memzero(recs, sizeof(recs));
	}
	assert_int_equal(rc_meta_put_u64(&t, "@schema", 1), RC_OK);
	/* schema 1 had no audit_refusals database */
	assert_int_equal(rc_store_drop(&t, DB_AUDIT_AGG, true), 0);
	assert_int_equal(rc_txn_end(&t, RC_OK), RC_OK);
	/* not upgraded yet: no token has an owner */
	assert_int_equal(login(f, "dev", mtok), RC_ERR_AUTH);

	rc_store_close(f->s);
	f->s = NULL;
	assert_int_equal(rc_store_open(&f->s, &f->cfg, 0), RC_OK);
	rc_store_set_clock(f->s, fake_clock);
	assert_int_equal(rc_txn_begin(f->s, &root, false, &t), RC_OK);
	assert_int_equal(rc_meta_get_u64(&t, "@schema", &schema), RC_OK);
	rc_txn_end(&t, RC_OK);
	assert_int_equal(schema, RC_SCHEMA_VERSION);
	assert_int_equal(login(f, "dev", mtok), RC_OK);
	assert_int_equal(rc_token_foreach(f->s, &root, "dev", RC_KIND_MEMBER, count_cb, &n), RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(login(f, "dbuser1", stok), RC_ERR_AUTH);
	/* the upgrade is audited */
	rc_audit_entry e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "store.upgrade");
	assert_int_equal(rc_audit_foreach(f->s, &root, 0, 0, find_action_cb, &e), RC_OK);
	assert_non_null(strstr(e.result, "schema 1 to 3: tokens kept=1 revoked=1"));
	/* the audit_refusals database was made: a stranger's refusal counts */
	rc_actor stranger = { .uid = 4242, .origin = "tool" };
	assert_int_equal(rc_billing_set(f->s, &stranger, "plan", "x"), RC_ERR_PERM);
	assert_int_equal(rc_billing_set(f->s, &stranger, "plan", "y"), RC_ERR_PERM);
	e = last_audit(f->s);
	assert_string_equal(e.actor, "uid:4242");
	assert_int_equal(e.count, 2);
	/* and a member's tokens are revoked by uid after it */
	assert_int_equal(rc_token_revoke_all(f->s, &root, "dev", RC_KIND_MEMBER, &n), RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(login(f, "dev", mtok), RC_ERR_AUTH);
	sodium_memzero(mtok, sizeof(mtok));
	sodium_memzero(stok, sizeof(stok));
	sodium_memzero(&pw, sizeof(pw));
	sodium_memzero(&def, sizeof(def));
}

/* ---- refusals apart from changes (issue 14, item 6) ---------------------------- */

struct audit_scan {
	size_t rows, log_rows, agg_rows;
	bool change_seen;
	rc_audit_entry flood, unknown;
};

static int scan_cb(const rc_audit_entry *e, void *ctx)
{
	struct audit_scan *sc = ctx;
	sc->rows++;
	assert_true(e->count >= 1);
	if (e->seq) {
		sc->log_rows++;
		assert_int_equal(e->count, 1);
		assert_int_equal(e->first, e->time);
	} else {
		sc->agg_rows++;
	}
	if (strcmp(e->action, "billing.set") == 0 && strcmp(e->actor, "root") == 0)
		sc->change_seen = true;
	if (strcmp(e->action, "member.withdraw") == 0 && strcmp(e->actor, "uid:4242") == 0)
		sc->flood = *e;
	if (strcmp(e->action, "login") == 0 && strcmp(e->actor, "(unknown)") == 0)
		sc->unknown = *e;
	return RC_OK;
}

/* At audit.max_entries 100: a real change, then 300 refused calls of a uid
 * that is no member and 150 PAM logins of unknown users.  The change is
 * still in the log; the refusals are aggregated rows with their counts,
 * first and last times; the aggregates have a retention of their own. */
static void test_audit_refusals_apart(void **state)
{
	struct fixture *f = *state;
	rc_actor stranger = { .uid = 4242, .origin = "tool" };
	struct audit_scan sc;
	rc_code_result r;
	rc_invite_req req = { .email = "x@example.com", .role = "read-only" };
	rc_login l;
	int64_t start = fake_now;

	fast_argon2(f);
	assert_int_equal(rc_member_invite(f->s, &root, &req, &r), RC_OK);
	assert_int_equal(rc_settings_set(f->s, &root, "audit.max_entries", "100"), RC_OK);
	assert_int_equal(rc_billing_set(f->s, &root, "plan", "gold"), RC_OK);
	for (int i = 0; i < 300; i++) {
		fake_now++;
		assert_int_equal(rc_member_withdraw(f->s, &stranger, "x"), RC_ERR_PERM);
	}
	for (int i = 0; i < 150; i++) {
		assert_int_equal(rc_login_begin(f->s, &l, "pam:sshd from 10.0.0.9", "nosuchuser",
		                                "guess", 0), RC_ERR_NOTFOUND);
		rc_login_clear(&l);
	}
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(rc_audit_foreach(f->s, &root, 0, 0, scan_cb, &sc), RC_OK);
	assert_true(sc.change_seen);
	assert_int_equal(sc.flood.count, 300);
	assert_int_equal(sc.flood.seq, 0);
	assert_int_equal(sc.flood.first, start + 1);
	assert_int_equal(sc.flood.time, start + 300);
	assert_string_equal(sc.flood.target, "x");
	assert_non_null(strstr(sc.flood.result, "denied: uid 4242 is not a rollcall member"));
	assert_int_equal(sc.unknown.count, 150);
	assert_string_equal(sc.unknown.origin, "pam:sshd from 10.0.0.9");
	assert_int_equal(sc.agg_rows, 2);
	assert_int_equal(audit_count(f->s), sc.rows);
	/* the refusal is still refused, and nothing was withdrawn */
	rc_invitation inv;
	assert_int_equal(rc_invitation_get(f->s, &root, "x", &inv), RC_OK);
	assert_int_equal(inv.state, RC_INV_PENDING);

	/* --limit counts both kinds, newest first: the last two rows */
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(rc_audit_foreach(f->s, &root, 0, 2, scan_cb, &sc), RC_OK);
	assert_int_equal(sc.rows, 2);
	assert_int_equal(sc.agg_rows, 2);
	/* --since: only what happened since */
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(rc_audit_foreach(f->s, &root, start + 200, 0, scan_cb, &sc), RC_OK);
	assert_int_equal(sc.log_rows, 0);
	assert_int_equal(sc.agg_rows, 2);

	/* the aggregates' own retention: 150 more uids that are no member each
	 * leave a row; at most audit.max_entries stay, the oldest going first,
	 * and the change is still there */
	for (uid_t u = 5000; u < 5150; u++) {
		rc_actor a = { .uid = u, .origin = "tool" };
		fake_now++;
		assert_int_equal(rc_member_withdraw(f->s, &a, "x"), RC_ERR_PERM);
	}
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(rc_audit_foreach(f->s, &root, 0, 0, scan_cb, &sc), RC_OK);
	assert_true(sc.change_seen);
	assert_true(sc.agg_rows <= 100);
	assert_true(sc.agg_rows >= 90);
	assert_int_equal(sc.flood.count, 0);   /* the oldest aggregate went */
	assert_true(sc.log_rows <= 100);
}

/* Attempts older than lockout.duration are forgotten (pam_faillock's
 * fail_interval): two failures, then two more a lockout.duration later,
 * at lockout.attempts 3, do not lock; four in a row do. */
static int try_login(struct fixture *f, const char *user, const char *pw)
{
	rc_login l;
	int rc = rc_login_begin(f->s, &l, "pam:test", user, pw, 0);
	rc_login_clear(&l);
	return rc;
}

static void test_failures_age(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rc_settings_set(f->s, &root, "argon2.opslimit", "1"), RC_OK);
	assert_int_equal(rc_settings_set(f->s, &root, "argon2.memlimit_kib", "8192"), RC_OK);
	assert_int_equal(rc_settings_set(f->s, &root, "lockout.attempts", "3"), RC_OK);
	assert_int_equal(rc_settings_set(f->s, &root, "lockout.duration", "15m"), RC_OK);
	member(f, "ager", "developer");
	assert_int_equal(try_login(f, "ager", "wrong 1"), RC_ERR_AUTH);
	assert_int_equal(try_login(f, "ager", "wrong 2"), RC_ERR_AUTH);
	fake_now += 15 * 60;
	assert_int_equal(try_login(f, "ager", "wrong 3"), RC_ERR_AUTH);
	assert_int_equal(try_login(f, "ager", "wrong 4"), RC_ERR_AUTH);
	rc_member m;
	assert_int_equal(rc_member_get(f->s, &root, "ager", &m), RC_OK);
	assert_int_equal(m.failed, 2);
	assert_int_equal(m.lock_until, 0);
	assert_int_equal(try_login(f, "ager", "a long password 1"), RC_OK);
	/* in a row they lock, and the right password is refused */
	for (int i = 0; i < 3; i++)
		assert_int_equal(try_login(f, "ager", "wrong again"), RC_ERR_AUTH);
	assert_int_equal(try_login(f, "ager", "a long password 1"), RC_ERR_LOCKED);
}

/* The current password of a change, and a code that turns two-factor
 * authentication off, are guesses like a login's: counted toward the
 * lockout, and refused while locked (even when right). */
static void test_other_guesses_counted(void **state)
{
	struct fixture *f = *state;
	rc_mfa_enrollment e;
	rc_actor me = { .origin = "test" };
	char code[8], secret[64];
	size_t slen = sizeof(secret);
	char *raw = NULL;

	assert_int_equal(rc_settings_set(f->s, &root, "argon2.opslimit", "1"), RC_OK);
	assert_int_equal(rc_settings_set(f->s, &root, "argon2.memlimit_kib", "8192"), RC_OK);
	assert_int_equal(rc_settings_set(f->s, &root, "lockout.attempts", "3"), RC_OK);
	me.uid = member(f, "guesser", "developer");
	for (int i = 0; i < 3; i++)
		assert_int_equal(rc_member_passwd(f->s, &me, "not the password", "a new password 12"),
		                 RC_ERR_AUTH);
	assert_int_equal(rc_member_passwd(f->s, &me, "a long password 1", "a new password 12"),
	                 RC_ERR_LOCKED);
	assert_int_equal(rc_member_unlock(f->s, &root, "guesser"), RC_OK);

	/* two-factor on (the code from liboath at the injected time) */
	assert_int_equal(rc_mfa_enroll(f->s, &me, &e), RC_OK);
	assert_int_equal(oath_init(), OATH_OK);
	assert_int_equal(oath_base32_decode(e.secret, strlen(e.secret), &raw, &slen), OATH_OK);
	memcpy(secret, raw, slen);
	free(raw);
	assert_int_equal(oath_totp_generate(secret, slen, (time_t)fake_now, 30, 0, 6, code), OATH_OK);
	assert_int_equal(rc_mfa_confirm(f->s, &me, code), RC_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rc_mfa_disable(f->s, &me, "000000"), RC_ERR_AUTH);
	assert_int_equal(rc_mfa_disable(f->s, &me, e.recovery[0]), RC_ERR_LOCKED);
	assert_int_equal(rc_member_unlock(f->s, &root, "guesser"), RC_OK);
	assert_int_equal(rc_mfa_disable(f->s, &me, e.recovery[0]), RC_OK);
	rc_mfa_enrollment_clear(&e);
}

static void test_rank_rules(void **state)
{
	struct fixture *f = *state;
	rc_actor admin = { .origin = "test" }, dev = { .origin = "test" }, owner = { .origin = "test" };
	rc_code_result r;
	rc_invite_req req = { .email = "new@example.com" };

	owner.uid = member(f, "own2", "owner");
	admin.uid = member(f, "adm", "admin");
	dev.uid = member(f, "dev", "developer");
	member(f, "ro", "read-only");

	/* developer invites read-only, not admin or its own rank */
	req.role = "admin";
	assert_int_equal(rc_member_invite(f->s, &dev, &req, &r), RC_ERR_PERM);
	assert_non_null(strstr(rc_errmsg(), "may grant only roles of a lower rank"));
	req.role = "developer";
	assert_int_equal(rc_member_invite(f->s, &dev, &req, &r), RC_ERR_PERM);
	req.role = "read-only";
	assert_int_equal(rc_member_invite(f->s, &dev, &req, &r), RC_OK);
	/* developer lacks manage-members */
	assert_int_equal(rc_member_unlock(f->s, &dev, "ro"), RC_ERR_PERM);
	assert_non_null(strstr(rc_errmsg(), "does not have the manage-members permission"));
	/* admin acts on lower ranks only (the permission passes; "ro" is not
	 * locked, which unlock refuses) */
	assert_int_equal(rc_member_unlock(f->s, &admin, "ro"), RC_ERR_STATE);
	assert_non_null(strstr(rc_errmsg(), "ro is not locked"));
	assert_int_equal(rc_member_set_role(f->s, &admin, "own2", "read-only"), RC_ERR_PERM);
	assert_int_equal(rc_member_set_role(f->s, &admin, "dev", "owner"), RC_ERR_PERM);
	assert_int_equal(rc_member_set_role(f->s, &admin, "dev", "admin"), RC_ERR_PERM);
	assert_int_equal(rc_member_set_role(f->s, &admin, "dev", "operator"), RC_OK);
	/* an owner may grant owner, but not act on another owner */
	assert_int_equal(rc_member_set_role(f->s, &owner, "adm", "owner"), RC_OK);
	assert_int_equal(rc_member_set_active(f->s, &owner, "adm", 0), RC_ERR_PERM);
	/* an inactive member cannot act */
	assert_int_equal(rc_member_set_active(f->s, &root, "dev", 0), RC_OK);
	assert_int_equal(rc_service_foreach(f->s, &dev, NULL, NULL), RC_ERR_PERM);
	assert_non_null(strstr(rc_errmsg(), "is inactive and cannot act"));
	/* custom roles: a member creates only lower-ranked roles with its own permissions */
	assert_int_equal(rc_role_create(f->s, &owner, "editor", 50,
	                                RC_PERM_VIEW | RC_PERM_MANAGE_SERVICES | RC_PERM_START_STOP |
	                                RC_PERM_AUDIT), RC_OK);
	assert_int_equal(rc_role_create(f->s, &owner, "editor", 50, RC_PERM_VIEW), RC_ERR_EXISTS);
	assert_int_equal(rc_role_delete(f->s, &owner, "admin"), RC_ERR_POLICY);
	assert_non_null(strstr(rc_errmsg(), "built in"));
	assert_int_equal(rc_member_set_role(f->s, &owner, "ro", "editor"), RC_OK);
	assert_int_equal(rc_role_delete(f->s, &owner, "editor"), RC_ERR_STATE);
	assert_non_null(strstr(rc_errmsg(), "in use by member ro"));
	assert_int_equal(rc_member_set_role(f->s, &owner, "ro", "read-only"), RC_OK);
	assert_int_equal(rc_role_delete(f->s, &owner, "editor"), RC_OK);
}

static int count_token(const rc_token *tk, void *ctx)
{
	(void)tk;
	(*(size_t *)ctx)++;
	return RC_OK;
}

/* A member named by its email address (issue 16): the operations on one
 * member resolve it through idx_email, in any case, and name the member;
 * the rank rule and the permissions still apply; an unknown email is
 * RC_ERR_NOTFOUND naming it, and a member's own email is itself. */
static void test_member_by_email(void **state)
{
	struct fixture *f = *state;
	rc_actor dev = { .origin = "test" }, adm = { .origin = "test" };
	rc_code_result r;
	rc_invite_req req = { .email = "Pat.Doe@Example.com", .username = "pat",
	                      .role = "read-only" };
	rc_invitation inv;
	rc_member m;
	rc_token tk;
	char tok[RC_TOKEN_LEN + 1], who[RC_NAME_MAX + 1], target[64];
	size_t n = 9, seen = 0;

	dev.uid = member(f, "dev", "developer");
	adm.uid = member(f, "adm", "admin");
	assert_int_equal(rc_member_invite(f->s, &root, &req, &r), RC_OK);
	assert_int_equal(rc_member_get(f->s, &root, "pat.doe@example.COM", &m), RC_OK);
	assert_string_equal(m.username, "pat");
	assert_string_equal(rc_member_named(f->s), "pat");
	assert_int_equal(rc_invitation_get(f->s, &root, "PAT.DOE@example.com", &inv), RC_OK);
	assert_string_equal(inv.username, "pat");
	assert_int_equal(rc_member_resend(f->s, &root, "pat.doe@example.com", &r), RC_OK);
	assert_string_equal(r.username, "pat");
	assert_int_equal(rc_member_set_role(f->s, &root, "pat.doe@example.com", "operator"),
	                 RC_OK);
	assert_int_equal(rc_invitation_get(f->s, &root, "pat", &inv), RC_OK);
	assert_string_equal(inv.role, "operator");
	assert_int_equal(rc_member_set_active(f->s, &root, "pat.doe@example.com", 1), RC_ERR_STATE);
	assert_string_equal(rc_errmsg(), "pat has not accepted the invitation yet");
	/* the rank rule and permissions as for the name */
	assert_int_equal(rc_member_set_role(f->s, &adm, "owner@example.com", "admin"), RC_ERR_PERM);
	assert_int_equal(rc_member_unlock(f->s, &dev, "pat.doe@example.com"), RC_ERR_PERM);
	/* a permission refusal does not say whether the email is a member's */
	assert_int_equal(rc_member_unlock(f->s, &dev, "nobody@example.com"), RC_ERR_PERM);
	assert_int_equal(rc_member_accept(f->s, &root, r.code, "a long password 1", who), RC_OK);
	assert_string_equal(who, "pat");
	assert_int_equal(rc_member_update(f->s, &adm, "PAT.doe@example.com", "pat@example.org",
	                                  NULL), RC_OK);
	assert_string_equal(rc_member_named(f->s), "pat");
	assert_int_equal(rc_member_get(f->s, &root, "pat.doe@example.com", &m), RC_ERR_NOTFOUND);
	assert_string_equal(rc_errmsg(), "no member with the email address \"pat.doe@example.com\"");
	assert_int_equal(rc_member_set_active(f->s, &adm, "pat@example.org", 0), RC_OK);
	assert_int_equal(rc_member_get(f->s, &root, "pat", &m), RC_OK);
	assert_int_equal(m.status, RC_MEMBER_INACTIVE);
	assert_string_equal(last_audit(f->s).target, "pat");
	assert_int_equal(rc_member_set_active(f->s, &adm, "Pat@Example.org", 1), RC_OK);
	assert_int_equal(rc_member_unlock(f->s, &adm, "pat@example.org"), RC_ERR_STATE);
	assert_non_null(strstr(rc_errmsg(), "pat is not locked"));
	assert_int_equal(rc_member_mfa_reset(f->s, &adm, "pat@example.org"), RC_ERR_STATE);
	assert_string_equal(rc_errmsg(), "pat has no two-factor authentication");
	/* tokens: a member's own email is itself; another's needs manage-members */
	rc_actor pat = { .origin = "test", .uid = m.uid };
	rc_token_req treq = { .description = "t" };
	assert_int_equal(rc_token_generate(f->s, &pat, &treq, &tk, tok), RC_OK);
	assert_int_equal(rc_token_foreach(f->s, &pat, "PAT@example.org", RC_KIND_MEMBER,
	                                  count_token, &seen), RC_OK);
	assert_int_equal(seen, 1);
	assert_int_equal(rc_token_foreach(f->s, &adm, "pat@example.ORG", RC_KIND_MEMBER,
	                                  count_token, &seen), RC_OK);
	assert_int_equal(seen, 2);
	assert_int_equal(rc_token_foreach(f->s, &dev, "pat@example.org", RC_KIND_MEMBER,
	                                  count_token, &seen), RC_ERR_PERM);
	assert_int_equal(rc_token_revoke_all(f->s, &adm, "nobody@example.org", RC_KIND_MEMBER, &n),
	                 RC_ERR_NOTFOUND);
	assert_string_equal(rc_errmsg(), "no member with the email address \"nobody@example.org\"");
	assert_int_equal(rc_token_revoke(f->s, &adm, "pat@example.org", RC_KIND_MEMBER, tk.id),
	                 RC_OK);
	snprintf(target, sizeof(target), "pat token=%s", tk.id);
	assert_string_equal(last_audit(f->s).target, target);
	assert_int_equal(rc_token_revoke(f->s, &adm, "pat@example.org", RC_KIND_MEMBER, tk.id),
	                 RC_ERR_NOTFOUND);
	sodium_memzero(tok, sizeof(tok));
}

/* The helper's allowance per calling uid: counted before the check, a yes
 * gives its count back, the count starts over each minute, root is never
 * counted, and 0 turns it off. */
static void test_caller_allowance(void **state)
{
	struct fixture *f = *state;

	f->s->cfg.caller_failures = 3;
	fake_now = 1800000000 - 1800000000 % 60;   /* the start of a minute */
	for (int i = 0; i < 3; i++)
		assert_int_equal(rc_caller_claim(f->s, "test", 4242, true), RC_OK);
	assert_int_equal(rc_caller_claim(f->s, "test", 4242, true), RC_ERR_LOCKED);
	assert_non_null(strstr(rc_errmsg(), "caller_failures = 3"));
	assert_int_equal(rc_caller_claim(f->s, "test", 4243, true), RC_OK);   /* per uid */
	assert_int_equal(rc_caller_claim(f->s, "test", 0, true), RC_OK);      /* root */
	/* a yes gives its count back */
	rc_caller_release(f->s, 4242);
	assert_int_equal(rc_caller_claim(f->s, "test", 4242, true), RC_OK);
	assert_int_equal(rc_caller_claim(f->s, "test", 4242, true), RC_ERR_LOCKED);
	/* the next minute starts over, and a release of the last minute's
	 * count gives nothing back in this one */
	fake_now += 59;
	assert_int_equal(rc_caller_claim(f->s, "test", 4242, true), RC_ERR_LOCKED);
	fake_now += 1;
	for (int i = 0; i < 3; i++)
		assert_int_equal(rc_caller_claim(f->s, "test", 4242, true), RC_OK);
	fake_now += 60;
	assert_int_equal(rc_caller_claim(f->s, "test", 4242, true), RC_OK);
	fake_now += 60;
	rc_caller_release(f->s, 4242);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rc_caller_claim(f->s, "test", 4242, true), RC_OK);
	assert_int_equal(rc_caller_claim(f->s, "test", 4242, true), RC_ERR_LOCKED);
	/* looking counts nothing; rc_caller_count counts afterwards */
	fake_now += 60;
	for (int i = 0; i < 5; i++)
		assert_int_equal(rc_caller_claim(f->s, "test", 4242, false), RC_OK);
	rc_caller_count(f->s, 4242);
	rc_caller_count(f->s, 4242);
	assert_int_equal(rc_caller_claim(f->s, "test", 4242, false), RC_OK);
	rc_caller_count(f->s, 4242);
	assert_int_equal(rc_caller_claim(f->s, "test", 4242, false), RC_ERR_LOCKED);
	assert_int_equal(rc_caller_claim(f->s, "test", 4242, true), RC_ERR_LOCKED);
	/* 0: no allowance at all */
	f->s->cfg.caller_failures = 0;
	assert_int_equal(rc_caller_claim(f->s, "test", 4242, true), RC_OK);
}

/* ---- host state apart from membership (issue 15, item 2) ----------------------- */

/* The databases a login may write: the host state, the audit log and its
 * aggregated refusals (append-only logs of what happened), and the outbox
 * (a queue of notices to mail: a lock's). */
static bool login_may_write(int db)
{
	return db == DB_HOST || db == DB_AUDIT || db == DB_AUDIT_AGG || db == DB_OUTBOX;
}

static const char *db_name(int db)
{
	static const char *const names[DB_COUNT] = {
		[DB_MEMBERS] = "members", [DB_ROLES] = "roles", [DB_INVITATIONS] = "invitations",
		[DB_SERVICES] = "services", [DB_SVCUSERS] = "service_users",
		[DB_TOKENS] = "tokens", [DB_AUDIT] = "audit", [DB_SETTINGS] = "settings",
		[DB_IDX_UID] = "idx_uid", [DB_IDX_EMAIL] = "idx_email",
		[DB_AUDIT_AGG] = "audit_refusals", [DB_HOST] = "host", [DB_OUTBOX] = "outbox",
	};
	return names[db] ? names[db] : "?";
}

/* A digest of every record of each database (every key and value, in
 * order), to tell whether a database changed. */
static void digest_dbs(struct fixture *f, uint8_t out[DB_COUNT][32])
{
	rc_txn t;

	assert_int_equal(rc_txn_begin(f->s, &root, false, &t), RC_OK);
	for (int db = 0; db < DB_COUNT; db++) {
		crypto_generichash_state st;
		rc_cursor *c;
		rc_val k, v;
		crypto_generichash_init(&st, NULL, 0, 32);
		assert_int_equal(rc_cursor_open(&t, db, &c), 0);
		for (int mrc = rc_cursor_get(c, &k, &v, RC_CUR_FIRST); mrc == 0;
		     mrc = rc_cursor_get(c, &k, &v, RC_CUR_NEXT)) {
			uint64_t n[2] = { k.size, v.size };
			crypto_generichash_update(&st, (const uint8_t *)n, sizeof(n));
			crypto_generichash_update(&st, k.data, k.size);
			crypto_generichash_update(&st, v.data, v.size);
		}
		rc_cursor_close(c);
		crypto_generichash_final(&st, out[db], 32);
	}
	rc_txn_end(&t, RC_OK);
}

static void totp_now(const char *secret_b32, char code[8])
{
	char *raw = NULL;
	size_t len = 0;
	assert_int_equal(oath_init(), OATH_OK);
	assert_int_equal(oath_base32_decode(secret_b32, strlen(secret_b32), &raw, &len), OATH_OK);
	assert_int_equal(oath_totp_generate(raw, len, (time_t)fake_now, 30, 0, 6, code), OATH_OK);
	free(raw);
}

/* Password, TOTP and recovery code, token, service-user, unknown-user,
 * failed, locked and refused logins (with the argon2id limits changed
 * since the passwords were hashed) change no database but the host state
 * and the audit log; what they wrote shows in the members' views. */
static void test_login_writes_host_only(void **state)
{
	struct fixture *f = *state;
	rc_token_req req = { .description = "ci", .extension = RC_EXT_SLIDE };
	rc_actor alice = { .origin = "test" }, tess = { .origin = "test" };
	rc_secret_result def, pw;
	rc_mfa_enrollment e;
	rc_token info;
	rc_member m;
	rc_login l;
	char tok[RC_TOKEN_LEN + 1], code[8];
	uint8_t before[DB_COUNT][32], after[DB_COUNT][32];

	fast_argon2(f);
	assert_int_equal(rc_settings_set(f->s, &root, "lockout.attempts", "3"), RC_OK);
	alice.uid = member(f, "alice", "developer");
	tess.uid = member(f, "tess", "developer");
	assert_int_equal(rc_token_generate(f->s, &alice, &req, &info, tok), RC_OK);
	assert_int_equal(rc_mfa_enroll(f->s, &tess, &e), RC_OK);
	totp_now(e.secret, code);
	assert_int_equal(rc_mfa_confirm(f->s, &tess, code), RC_OK);
	assert_int_equal(rc_service_create(f->s, &root, "analytics", &def), RC_OK);
	assert_int_equal(rc_svcuser_create(f->s, &root, "analytics", "dbuser1", NULL, 0, 0, &pw),
	                 RC_OK);
	/* hashed at t=1; a login used to hash again at t=2 */
	assert_int_equal(rc_settings_set(f->s, &root, "argon2.opslimit", "2"), RC_OK);
	/* a lock queues a notice (it used to go to settings) */
	assert_int_equal(rc_notification_create(f->s, &root, "ops@example.com",
	                                        RC_EV_MEMBER_LOCKED), RC_OK);
	digest_dbs(f, before);

	fake_now += 120;
	assert_int_equal(try_login(f, "alice", "a long password 1"), RC_OK);
	assert_int_equal(try_login(f, "alice", "a wrong password"), RC_ERR_AUTH);
	assert_int_equal(try_login(f, "nosuchuser", "a long password 1"), RC_ERR_NOTFOUND);
	assert_int_equal(login(f, "alice", tok), RC_OK);
	assert_int_equal(login(f, "tess", tok), RC_ERR_AUTH);
	assert_int_equal(try_login(f, "dbuser1", "not its password at all, no"), RC_ERR_AUTH);
	assert_int_equal(try_login(f, "dbuser1", pw.password), RC_OK);
	/* TOTP: a code, the same code again (refused), a recovery code */
	fake_now += 60;
	assert_int_equal(rc_login_begin(f->s, &l, "pam:test", "tess", "a long password 1", 0),
	                 RC_OK);
	assert_true(l.need_totp);
	totp_now(e.secret, code);
	assert_int_equal(rc_login_totp(f->s, &l, code), RC_OK);
	rc_login_clear(&l);
	assert_int_equal(rc_login_begin(f->s, &l, "pam:test", "tess", "a long password 1", 0),
	                 RC_OK);
	assert_int_equal(rc_login_totp(f->s, &l, code), RC_ERR_AUTH);
	rc_login_clear(&l);
	assert_int_equal(rc_login_begin(f->s, &l, "pam:test", "tess", "a long password 1", 0),
	                 RC_OK);
	assert_int_equal(rc_login_totp(f->s, &l, e.recovery[0]), RC_OK);
	rc_login_clear(&l);
	/* locked, then refused while locked */
	assert_int_equal(try_login(f, "alice", "a long password 1"), RC_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(try_login(f, "alice", "a wrong password"), RC_ERR_AUTH);
	assert_int_equal(try_login(f, "alice", "a long password 1"), RC_ERR_LOCKED);
	assert_int_equal(login(f, "alice", tok), RC_OK);   /* a token is not locked out */
	/* the helper's allowance of a calling uid, counted and given back */
	assert_int_equal(rc_caller_claim(f->s, "helper", 4242, 1), RC_OK);
	rc_caller_release(f->s, 4242);
	assert_int_equal(rc_caller_claim(f->s, "helper", 4243, 1), RC_OK);

	digest_dbs(f, after);
	for (int db = 0; db < DB_COUNT; db++) {
		if (login_may_write(db))
			continue;
		if (memcmp(before[db], after[db], 32) != 0)
			fail_msg("a login changed the %s database (only host state, audit and outbox may "
			         "change)", db_name(db));
	}
	assert_memory_not_equal(before[DB_HOST], after[DB_HOST], 32);
	assert_memory_not_equal(before[DB_OUTBOX], after[DB_OUTBOX], 32);

	/* the views show what the logins wrote */
	assert_int_equal(rc_member_get(f->s, &root, "alice", &m), RC_OK);
	assert_true(m.lock_until > fake_now);
	assert_int_equal(m.failed, 3);
	assert_int_equal(m.last_active, fake_now);
	assert_int_equal(rc_member_get(f->s, &root, "tess", &m), RC_OK);
	assert_int_equal(m.last_active, fake_now);
	assert_int_equal(m.failed, 0);
	assert_int_equal(m.totp_last_step, fake_now / 30);
	assert_int_equal(RC_RECOVERY_UNUSED(&m), ((1u << RC_RECOVERY_CODES) - 1) & ~1u);
	memset(&info, 0, sizeof(info));
	assert_int_equal(rc_token_foreach(f->s, &root, "alice", RC_KIND_MEMBER, token_cb, &info),
	                 RC_OK);
	assert_int_equal(info.last_used, fake_now);
	assert_int_equal(info.expires, fake_now + info.ttl);
	/* a used recovery code stays used */
	assert_int_equal(rc_login_begin(f->s, &l, "pam:test", "tess", "a long password 1", 0),
	                 RC_OK);
	assert_int_equal(rc_login_totp(f->s, &l, e.recovery[0]), RC_ERR_AUTH);
	rc_login_clear(&l);

	/* an administrator's unlock writes the host state only too */
	digest_dbs(f, before);
	assert_int_equal(rc_member_unlock(f->s, &root, "alice"), RC_OK);
	digest_dbs(f, after);
	for (int db = 0; db < DB_COUNT; db++)
		if (!login_may_write(db))
			assert_memory_equal(before[db], after[db], 32);
	assert_int_equal(try_login(f, "alice", "a long password 1"), RC_OK);

	/* a deleted member's host state goes with it */
	assert_int_equal(rc_member_delete(f->s, &root, "tess", "tess@example.com"), RC_OK);
	{
		rc_txn t;
		rc_val v;
		uint8_t k[5] = { 'u', (uint8_t)(tess.uid >> 24), (uint8_t)(tess.uid >> 16),
		                 (uint8_t)(tess.uid >> 8), (uint8_t)tess.uid };
		assert_int_equal(rc_txn_begin(f->s, &root, false, &t), RC_OK);
		assert_int_equal(rc_store_get(&t, DB_HOST, k, sizeof(k), &v), RC_ERR_NOTFOUND);
		rc_txn_end(&t, RC_OK);
	}
	/* and a withdrawn one's (its failed code logins were counted there) */
	{
		rc_invite_req wreq = { .email = "wanda@example.com", .role = "developer" };
		rc_code_result inv;
		rc_member wanda;
		rc_txn t;
		rc_val v;
		assert_int_equal(rc_member_invite(f->s, &root, &wreq, &inv), RC_OK);
		assert_int_equal(rc_member_get(f->s, &root, "wanda", &wanda), RC_OK);
		assert_int_equal(login(f, "wanda", "AAAAA-AAAAA-AAAAA-AAAAA"), RC_ERR_AUTH);
		uint8_t k[5] = { 'u', (uint8_t)(wanda.uid >> 24), (uint8_t)(wanda.uid >> 16),
		                 (uint8_t)(wanda.uid >> 8), (uint8_t)wanda.uid };
		assert_int_equal(rc_txn_begin(f->s, &root, false, &t), RC_OK);
		assert_int_equal(rc_store_get(&t, DB_HOST, k, sizeof(k), &v), RC_OK);
		rc_txn_end(&t, RC_OK);
		assert_int_equal(rc_member_withdraw(f->s, &root, "wanda"), RC_OK);
		assert_int_equal(rc_txn_begin(f->s, &root, false, &t), RC_OK);
		assert_int_equal(rc_store_get(&t, DB_HOST, k, sizeof(k), &v), RC_ERR_NOTFOUND);
		rc_txn_end(&t, RC_OK);
		sodium_memzero(&inv, sizeof(inv));
	}
	rc_mfa_enrollment_clear(&e);
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(&pw, sizeof(pw));
	sodium_memzero(&def, sizeof(def));
}

/* A store of schema 2 (the host state in the members, service_users and
 * tokens records, no host database) keeps working: a read-only open shows
 * the records' values; the first write open moves them into the host
 * database in one transaction (audited) and writes the records again
 * without them, and the views are what they were. */
static void test_upgrade_schema2_host(void **state)
{
	struct fixture *f = *state;
	rc_token_req req = { .description = "ci", .extension = RC_EXT_SLIDE };
	rc_actor alice = { .origin = "test" };
	rc_secret_result def, pw;
	rc_token info, tk_before, tk_after;
	rc_member m_before, m_after;
	rc_member_rec raw;
	rc_svcuser_rec u;
	rc_store *ro = NULL;
	char tok[RC_TOKEN_LEN + 1];
	uint64_t schema = 0, unknown = 0;
	rc_val v;
	rc_txn t;

	fast_argon2(f);
	alice.uid = member(f, "alice", "developer");
	assert_int_equal(rc_token_generate(f->s, &alice, &req, &info, tok), RC_OK);
	assert_int_equal(rc_service_create(f->s, &root, "analytics", &def), RC_OK);
	assert_int_equal(rc_svcuser_create(f->s, &root, "analytics", "dbuser1", NULL, 0, 0, &pw),
	                 RC_OK);
	fake_now += 120;
	assert_int_equal(login(f, "alice", tok), RC_OK);
	assert_int_equal(try_login(f, "alice", "a wrong password"), RC_ERR_AUTH);
	assert_int_equal(try_login(f, "dbuser1", "a wrong password, not this"), RC_ERR_AUTH);
	assert_int_equal(try_login(f, "nosuchuser", "a wrong password"), RC_ERR_NOTFOUND);
	assert_int_equal(rc_member_get(f->s, &root, "alice", &m_before), RC_OK);
	assert_int_equal(m_before.failed, 1);
	assert_int_equal(m_before.last_active, fake_now);
	memset(&tk_before, 0, sizeof(tk_before));
	assert_int_equal(rc_token_foreach(f->s, &root, "alice", RC_KIND_MEMBER, token_cb,
	                                  &tk_before), RC_OK);
	assert_int_equal(tk_before.last_used, fake_now);

	/* write it back as schema 2 did: the views into the records */
	assert_int_equal(rc_txn_begin(f->s, &root, true, &t), RC_OK);
	{
		rc_wbuf w;
		rc_token_rec rec;
		char key[1 + RC_TOKEN_ID_LEN];
		assert_int_equal(rc_member_load(&t, "alice", &raw), RC_OK);
		assert_int_equal(rc_member_encode(&raw, &w), RC_OK);
		assert_int_equal(rc_store_putw(&t, DB_MEMBERS, "alice", 5, &w, 0), RC_OK);
		rc_wbuf_free(&w);
		assert_int_equal(rc_svcuser_load(&t, "dbuser1", &u), RC_OK);
		assert_int_equal(u.pub.failed, 1);
		assert_int_equal(rc_svcuser_encode(&u, &w), RC_OK);
		assert_int_equal(rc_store_putw(&t, DB_SVCUSERS, "dbuser1", 7, &w, 0), RC_OK);
		rc_wbuf_free(&w);
		key[0] = 'i';
		memcpy(key + 1, info.id, RC_TOKEN_ID_LEN);
		assert_int_equal(rc_store_get(&t, DB_TOKENS, key, sizeof(key), &v), RC_OK);
		assert_int_equal(rc_token_decode(v.data, v.size, &rec), RC_OK);
		assert_int_equal(rec.pub.last_used, 0);   /* schema 3: not in the record */
		rec.pub.last_used = tk_before.last_used;
		rec.pub.expires = tk_before.expires;
		assert_int_equal(rc_token_encode(&rec, &w), RC_OK);
		assert_int_equal(rc_store_putw(&t, DB_TOKENS, key, sizeof(key), &w, 0), RC_OK);
		rc_wbuf_free(&w);
		sodium_memzero(&rec, sizeof(rec));
	}
	assert_int_equal(rc_meta_put_u64(&t, "@unknown_logins", 1), RC_OK);
	assert_int_equal(rc_meta_put_u64(&t, "@caller/4242", 7), RC_OK);
	{
		/* a queued notice, in settings as schema 2 kept it */
		rc_notice no = { .event = 2, .time = fake_now };
		rc_wbuf w;
		snprintf(no.id, sizeof(no.id), "%016llx%08x", (unsigned long long)fake_now, 7u);
		snprintf(no.target, sizeof(no.target), "alice");
		assert_int_equal(rc_notice_encode(&no, &w), RC_OK);
		assert_int_equal(rc_store_putw(&t, DB_SETTINGS, "outbox.00000000000000aa00000007", 31,
		                           &w, 0), RC_OK);
		rc_wbuf_free(&w);
	}
	assert_int_equal(rc_meta_put_u64(&t, "@schema", 2), RC_OK);
	/* schema 2 had no host and no outbox database */
	assert_int_equal(rc_store_drop(&t, DB_HOST, true), 0);
	assert_int_equal(rc_store_drop(&t, DB_OUTBOX, true), 0);
	assert_int_equal(rc_txn_end(&t, RC_OK), RC_OK);
	rc_store_close(f->s);
	f->s = NULL;

	/* read-only: not upgraded, the records' values shown */
	assert_int_equal(rc_store_open(&ro, &f->cfg, RC_OPEN_READONLY), RC_OK);
	assert_true(ro->no_host);
	assert_true(ro->no_outbox);
	assert_int_equal(rc_member_get(ro, &root, "alice", &m_after), RC_OK);
	assert_memory_equal(&m_before, &m_after, sizeof(m_after));
	memset(&tk_after, 0, sizeof(tk_after));
	assert_int_equal(rc_token_foreach(ro, &root, "alice", RC_KIND_MEMBER, token_cb, &tk_after),
	                 RC_OK);
	assert_memory_equal(&tk_before, &tk_after, sizeof(tk_after));
	rc_store_close(ro);

	/* the first write open upgrades */
	assert_int_equal(rc_store_open(&f->s, &f->cfg, 0), RC_OK);
	rc_store_set_clock(f->s, fake_clock);
	assert_false(f->s->no_host);
	assert_int_equal(rc_txn_begin(f->s, &root, false, &t), RC_OK);
	assert_int_equal(rc_meta_get_u64(&t, "@schema", &schema), RC_OK);
	assert_int_equal(schema, RC_SCHEMA_VERSION);
	assert_int_equal(rc_meta_get_u64(&t, "@unknown_logins", &unknown), RC_ERR_NOTFOUND);
	assert_int_equal(rc_host_meta_get_u64(&t, "@unknown_logins", &unknown), RC_OK);
	assert_int_equal(unknown, 1);
	assert_int_equal(rc_meta_get_u64(&t, "@caller/4242", &unknown), RC_ERR_NOTFOUND);
	assert_int_equal(rc_host_meta_get_u64(&t, "@caller/4242", &unknown), RC_OK);
	assert_int_equal(unknown, 7);
	assert_int_equal(rc_store_gets(&t, DB_SETTINGS, "outbox.00000000000000aa00000007", &v),
	                 RC_ERR_NOTFOUND);
	assert_int_equal(rc_store_gets(&t, DB_OUTBOX, "outbox.00000000000000aa00000007", &v), RC_OK);
	/* the records hold no host state any more */
	assert_int_equal(rc_store_gets(&t, DB_MEMBERS, "alice", &v), RC_OK);
	assert_int_equal(rc_member_decode(v.data, v.size, &raw), RC_OK);
	assert_int_equal(raw.failed, 0);
	assert_int_equal(raw.failed_at, 0);
	assert_int_equal(raw.last_active, 0);
	assert_int_equal(rc_store_gets(&t, DB_SVCUSERS, "dbuser1", &v), RC_OK);
	assert_int_equal(rc_svcuser_decode(v.data, v.size, &u), RC_OK);
	assert_int_equal(u.pub.failed, 0);
	assert_int_equal(rc_svcuser_load(&t, "dbuser1", &u), RC_OK);
	assert_int_equal(u.pub.failed, 1);
	rc_txn_end(&t, RC_OK);
	assert_int_equal(rc_member_get(f->s, &root, "alice", &m_after), RC_OK);
	assert_memory_equal(&m_before, &m_after, sizeof(m_after));
	memset(&tk_after, 0, sizeof(tk_after));
	assert_int_equal(rc_token_foreach(f->s, &root, "alice", RC_KIND_MEMBER, token_cb,
	                                  &tk_after), RC_OK);
	assert_memory_equal(&tk_before, &tk_after, sizeof(tk_after));
	/* audited */
	rc_audit_entry e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "store.upgrade");
	assert_int_equal(rc_audit_foreach(f->s, &root, 0, 0, find_action_cb, &e), RC_OK);
	assert_non_null(strstr(e.result, "schema 2 to 3: host state moved=3, notices=1"));
	/* and the logins go on from there: the lock counts the moved failure */
	assert_int_equal(rc_settings_set(f->s, &root, "lockout.attempts", "2"), RC_OK);
	assert_int_equal(try_login(f, "alice", "a wrong password"), RC_ERR_AUTH);
	assert_int_equal(try_login(f, "alice", "a long password 1"), RC_ERR_LOCKED);
	assert_int_equal(login(f, "alice", tok), RC_OK);
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(&u, sizeof(u));
	sodium_memzero(&raw, sizeof(raw));
	sodium_memzero(&pw, sizeof(pw));
	sodium_memzero(&def, sizeof(def));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_refuses_second, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_newer_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invitation_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_allocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_atomic_and_denials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_refusals_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rank_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_by_email, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_touch_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_slow_work_in_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_guesses_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_svcuser_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_schema1_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caller_allowance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_writes_host_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_schema2_host, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
