/*
 * test_rules.c - the login rules of lib/ through its public API
 * (rollcall.h), each at injected times through the store's clock seam
 * (rc_store_set_clock):
 *   lockout   N failures lock; the lock expires after lockout.duration;
 *             a success before the Nth resets the count
 *   TOTP      a code is accepted once; the steps either side are accepted,
 *             two steps away is refused
 *   tokens    a sliding token's use extends it; its hard limit (max age)
 *             caps the extension; a fixed token does not slide
 *   snapshot  a change NSS cannot see (a password change, a login's last
 *             active, a failure) publishes no new snapshot; a role change
 *             does
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "rollcall.h"

#define PASSWORD "a long password 1"

static int64_t fake_now;
static int64_t fake_clock(void)
{
	return fake_now;
}

static const rc_actor root = { .uid = 0, .origin = "test" };

struct fixture {
	char dir[64];
	rc_config cfg;
	rc_store *s;
};

static void write_file(const char *path, const char *text)
{
	FILE *p = fopen(path, "w");
	assert_non_null(p);
	fputs(text, p);
	assert_int_equal(fclose(p), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	rc_code_result owner;
	char path[128];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/rc-rules-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	rc_config_defaults(&f->cfg);
	snprintf(f->cfg.state_dir, sizeof(f->cfg.state_dir), "%s/state", f->dir);
	snprintf(path, sizeof(path), "%s/passwd", f->dir);
	write_file(path, "root:x:0:0:root:/root:/bin/bash\n");
	snprintf(f->cfg.passwd_file, sizeof(f->cfg.passwd_file), "%s", path);
	snprintf(path, sizeof(path), "%s/group", f->dir);
	write_file(path, "root:x:0:\n");
	snprintf(f->cfg.group_file, sizeof(f->cfg.group_file), "%s", path);
	/* on a step boundary: the TOTP test counts steps from here */
	fake_now = 1800000010;
	if (rc_store_create(&f->cfg, "owner@example.com", NULL, &owner) != RC_OK ||
	    rc_store_open(&f->s, &f->cfg, 0) != RC_OK) {
		fprintf(stderr, "store: %s\n", rc_errmsg());
		return -1;
	}
	rc_store_set_clock(f->s, fake_clock);
	/* argon2id at its lowest: the rules are the point here, not the cost */
	if (rc_settings_set(f->s, &root, "argon2.opslimit", "1") != RC_OK ||
	    rc_settings_set(f->s, &root, "argon2.memlimit_kib", "8192") != RC_OK)
		return -1;
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

/* An active member NAME with ROLE and the password PASSWORD; its uid. */
static uid_t member(struct fixture *f, const char *name, const char *role)
{
	char email[64], who[RC_NAME_MAX + 1];
	rc_code_result r;
	rc_member m;
	rc_invite_req req = { .email = email, .role = role, .username = name };

	snprintf(email, sizeof(email), "%s@example.com", name);
	assert_int_equal(rc_member_invite(f->s, &root, &req, &r), RC_OK);
	assert_int_equal(rc_member_accept(f->s, &root, r.code, PASSWORD, who), RC_OK);
	assert_int_equal(rc_member_get(f->s, &root, name, &m), RC_OK);
	return m.uid;
}

/* A first factor: RC_OK when it passed and the login is done. */
static int login(struct fixture *f, const char *user, const char *secret)
{
	rc_login l;
	int rc = rc_login_begin(f->s, &l, "pam:test", user, secret, 0);
	if (rc == RC_OK && !l.done)
		rc = RC_ERR_STATE;
	if (rc != RC_OK && getenv("RULES_DEBUG"))
		fprintf(stderr, "# login %s at %lld: %s\n", user, (long long)fake_now, rc_errmsg());
	rc_login_clear(&l);
	return rc;
}

static rc_member get(struct fixture *f, const char *user)
{
	rc_member m;
	assert_int_equal(rc_member_get(f->s, &root, user, &m), RC_OK);
	return m;
}

/* ---- lockout ------------------------------------------------------------ */

static void test_lockout(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rc_settings_set(f->s, &root, "lockout.attempts", "3"), RC_OK);
	assert_int_equal(rc_settings_set(f->s, &root, "lockout.duration", "10m"), RC_OK);
	member(f, "lena", "developer");

	/* a success before the third failure resets the count */
	assert_int_equal(login(f, "lena", "wrong 1"), RC_ERR_AUTH);
	assert_int_equal(login(f, "lena", "wrong 2"), RC_ERR_AUTH);
	assert_int_equal(get(f, "lena").failed, 2);
	assert_int_equal(login(f, "lena", PASSWORD), RC_OK);
	assert_int_equal(get(f, "lena").failed, 0);
	assert_int_equal(login(f, "lena", "wrong 3"), RC_ERR_AUTH);
	assert_int_equal(login(f, "lena", "wrong 4"), RC_ERR_AUTH);
	assert_int_equal(get(f, "lena").lock_until, 0);
	assert_int_equal(login(f, "lena", PASSWORD), RC_OK);

	/* three in a row lock: the right password is refused while locked */
	for (int i = 0; i < 3; i++)
		assert_int_equal(login(f, "lena", "wrong again"), RC_ERR_AUTH);
	assert_int_equal(get(f, "lena").lock_until, fake_now + 600);
	assert_int_equal(login(f, "lena", PASSWORD), RC_ERR_LOCKED);
	fake_now += 599;
	assert_int_equal(login(f, "lena", PASSWORD), RC_ERR_LOCKED);

	/* the lock expires after lockout.duration, and then counts afresh */
	fake_now += 1;
	assert_int_equal(login(f, "lena", PASSWORD), RC_OK);
	assert_int_equal(get(f, "lena").failed, 0);
	assert_int_equal(login(f, "lena", "wrong 5"), RC_ERR_AUTH);
	assert_int_equal(login(f, "lena", PASSWORD), RC_OK);
}

/* ---- TOTP: once each, one step of skew either way ----------------------- */

static void enroll_totp(struct fixture *f, uid_t uid, rc_mfa_enrollment *e)
{
	rc_actor me = { .uid = uid, .origin = "test" };
	char code[7];

	assert_int_equal(rc_mfa_enroll(f->s, &me, e), RC_OK);
	assert_int_equal(rc_totp_code(e->secret, fake_now, code), 0);
	assert_int_equal(rc_mfa_confirm(f->s, &me, code), RC_OK);
}

/* Password, then the TOTP code of the step AT (seconds) at the time now. */
static int totp_login(struct fixture *f, const char *user, const rc_mfa_enrollment *e,
                      int64_t at)
{
	rc_login l;
	char code[7];
	int rc;

	assert_int_equal(rc_totp_code(e->secret, at, code), 0);
	rc = rc_login_begin(f->s, &l, "pam:test", user, PASSWORD, 0);
	assert_int_equal(rc, RC_OK);
	assert_true(l.need_totp);
	rc = rc_login_totp(f->s, &l, code);
	if (rc == RC_OK)
		assert_true(l.done);
	rc_login_clear(&l);
	return rc;
}

static void test_totp_replay(void **state)
{
	struct fixture *f = *state;
	rc_mfa_enrollment e;
	uid_t uid = member(f, "tina", "developer");

	enroll_totp(f, uid, &e);
	/* the step of the confirmation is spent: its code is refused */
	assert_int_equal(totp_login(f, "tina", &e, fake_now), RC_ERR_AUTH);

	/* a fresh code: accepted once, refused the second time */
	fake_now += 300;
	assert_int_equal(totp_login(f, "tina", &e, fake_now), RC_OK);
	assert_int_equal(get(f, "tina").totp_last_step, fake_now / 30);
	assert_int_equal(totp_login(f, "tina", &e, fake_now), RC_ERR_AUTH);
	/* and an earlier step's, though within the skew, is refused after it */
	assert_int_equal(totp_login(f, "tina", &e, fake_now - 30), RC_ERR_AUTH);

	/* one step of skew either way; two steps away is refused */
	fake_now += 300;
	assert_int_equal(totp_login(f, "tina", &e, fake_now - 60), RC_ERR_AUTH);
	assert_int_equal(totp_login(f, "tina", &e, fake_now - 30), RC_OK);
	fake_now += 300;
	assert_int_equal(totp_login(f, "tina", &e, fake_now + 60), RC_ERR_AUTH);
	assert_int_equal(totp_login(f, "tina", &e, fake_now + 30), RC_OK);
	/* the next step's code was spent: the current one is now too old */
	assert_int_equal(totp_login(f, "tina", &e, fake_now), RC_ERR_AUTH);
	rc_mfa_enrollment_clear(&e);
}

/* ---- tokens: sliding expiry, its hard limit, fixed ---------------------- */

static int token_cb(const rc_token *tk, void *ctx)
{
	*(rc_token *)ctx = *tk;
	return RC_OK;
}

static rc_token token_info(struct fixture *f, const char *owner)
{
	rc_token tk;
	memset(&tk, 0, sizeof(tk));
	assert_int_equal(rc_token_foreach(f->s, &root, owner, RC_KIND_MEMBER, token_cb, &tk),
	                 RC_OK);
	return tk;
}

static void make_token(struct fixture *f, uid_t uid, int64_t ttl, int64_t max_age, int ext,
                       char tok[RC_TOKEN_LEN + 1])
{
	rc_actor me = { .uid = uid, .origin = "test" };
	rc_token_req req = { .description = "ci", .ttl = ttl, .max_age = max_age, .extension = ext };
	rc_token info;

	assert_int_equal(rc_token_generate(f->s, &me, &req, &info, tok), RC_OK);
	assert_int_equal(info.expires, fake_now + ttl);
}

static void test_token_sliding(void **state)
{
	struct fixture *f = *state;
	char tok[RC_TOKEN_LEN + 1];
	uid_t uid = member(f, "sam", "developer");
	int64_t t0 = fake_now;

	/* a day's window: each use moves the expiry to a day after it */
	make_token(f, uid, 86400, 0, RC_EXT_SLIDE, tok);
	fake_now = t0 + 86400 - 100;
	assert_int_equal(login(f, "sam", tok), RC_OK);
	assert_int_equal(token_info(f, "sam").expires, fake_now + 86400);
	fake_now = t0 + 2 * 86400 - 200;   /* past the first expiry: extended */
	assert_int_equal(login(f, "sam", tok), RC_OK);
	assert_int_equal(token_info(f, "sam").expires, fake_now + 86400);
	/* unused for a whole window: expired */
	fake_now += 86400;
	assert_int_equal(login(f, "sam", tok), RC_ERR_AUTH);
}

static void test_token_hard_limit(void **state)
{
	struct fixture *f = *state;
	char tok[RC_TOKEN_LEN + 1];
	uid_t uid = member(f, "hank", "developer");
	int64_t t0 = fake_now;

	/* a day's window, three days at most */
	make_token(f, uid, 86400, 3 * 86400, RC_EXT_SLIDE, tok);
	for (int day = 1; day <= 2; day++) {
		fake_now += 86400 - 100;   /* within a day of the last use */
		assert_int_equal(login(f, "hank", tok), RC_OK);
		assert_int_equal(token_info(f, "hank").expires, fake_now + 86400);
	}
	/* the use on the third day extends it only to the limit */
	fake_now = t0 + 3 * 86400 - 3600;
	assert_int_equal(login(f, "hank", tok), RC_OK);
	assert_int_equal(token_info(f, "hank").expires, t0 + 3 * 86400);
	fake_now = t0 + 3 * 86400;
	assert_int_equal(login(f, "hank", tok), RC_ERR_AUTH);
}

static void test_token_fixed(void **state)
{
	struct fixture *f = *state;
	char tok[RC_TOKEN_LEN + 1];
	uid_t uid = member(f, "fay", "developer");
	int64_t t0 = fake_now;

	make_token(f, uid, 86400, 0, RC_EXT_FIXED, tok);
	fake_now = t0 + 3600;
	assert_int_equal(login(f, "fay", tok), RC_OK);
	assert_int_equal(token_info(f, "fay").expires, t0 + 86400);
	fake_now = t0 + 86400 - 1;
	assert_int_equal(login(f, "fay", tok), RC_OK);
	assert_int_equal(token_info(f, "fay").expires, t0 + 86400);
	fake_now = t0 + 86400;
	assert_int_equal(login(f, "fay", tok), RC_ERR_AUTH);
}

/* ---- the NSS snapshot: published only on a change NSS can see ------------ */

/* The published manifest: its inode, and the generation written in it (a
 * 32-byte header, then the generation, 8 bytes little-endian). */
struct publication {
	ino_t ino;
	uint64_t gen;
};

static struct publication published(struct fixture *f)
{
	struct publication p = { 0, 0 };
	unsigned char b[8];
	char path[RC_PATH_MAX + 16];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/nss.snap", f->cfg.state_dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(pread(fd, b, sizeof(b), 32), (ssize_t)sizeof(b));
	close(fd);
	p.ino = st.st_ino;
	for (int i = 7; i >= 0; i--)
		p.gen = p.gen << 8 | b[i];
	return p;
}

static void same_publication(struct fixture *f, struct publication before, const char *what)
{
	struct publication now = published(f);
	if (now.ino != before.ino || now.gen != before.gen)
		fail_msg("%s published a new snapshot (inode %lu generation %llu, now %lu %llu)",
		         what, (unsigned long)before.ino, (unsigned long long)before.gen,
		         (unsigned long)now.ino, (unsigned long long)now.gen);
}

static void test_publish_only_visible(void **state)
{
	struct fixture *f = *state;
	char tok[RC_TOKEN_LEN + 1];
	uid_t uid = member(f, "nina", "developer");
	rc_actor me = { .uid = uid, .origin = "test" };
	struct publication p0 = published(f), p1;

	assert_true(p0.gen > 0);
	/* a password change */
	assert_int_equal(rc_member_passwd(f->s, &me, PASSWORD, "another long password 2"), RC_OK);
	same_publication(f, p0, "a password change");
	assert_int_equal(rc_member_passwd(f->s, &me, "another long password 2", PASSWORD), RC_OK);
	/* a login (last active), a failure, a lock and its unlock */
	fake_now += 120;
	assert_int_equal(login(f, "nina", PASSWORD), RC_OK);
	assert_int_equal(get(f, "nina").last_active, fake_now);
	same_publication(f, p0, "a login's last active");
	assert_int_equal(login(f, "nina", "not it"), RC_ERR_AUTH);
	same_publication(f, p0, "a failed login");
	/* a token's use written back */
	make_token(f, uid, 86400, 0, RC_EXT_SLIDE, tok);
	p0 = published(f);
	fake_now += 120;
	assert_int_equal(login(f, "nina", tok), RC_OK);
	assert_int_equal(token_info(f, "nina").last_used, fake_now);
	same_publication(f, p0, "a token's use");

	/* a role change is seen by NSS (the member's groups): published */
	assert_int_equal(rc_member_set_role(f->s, &root, "nina", "operator"), RC_OK);
	p1 = published(f);
	assert_true(p1.gen > p0.gen);
	assert_true(p1.ino != p0.ino);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totp_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_sliding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_hard_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_fixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_only_visible, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
