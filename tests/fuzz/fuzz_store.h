/*
 * fuzz_store.h - a store for the fuzz targets that need one, made once per
 * fuzzing process in a private directory (on /dev/shm when there is one,
 * so that synced commits cost little), and removed at exit.
 *
 *   alice  owner, active, password FUZZ_PASSWORD, TOTP enabled, an api token
 *   bob    developer, pending, with an invitation code
 *   carol  developer, active, password FUZZ_PASSWORD, no TOTP
 *   the default user of the service "analytics", with its password
 *
 * argon2 runs at its lowest settings and lockout is off, so that the
 * targets reach every path at a useful speed.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef FUZZ_STORE_H
#define FUZZ_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "rollcall.h"

#define FUZZ_PASSWORD "correct horse battery staple"

struct fuzz_store {
	char dir[256];
	rc_config cfg;
	char conf[300];
	char bob_code[RC_CODE_LEN + 1];
	char totp_secret[40];
	char recovery[RC_RECOVERY_LEN + 1];
	char token[RC_TOKEN_LEN + 1];
	char svc_user[RC_NAME_MAX + 1];
	char svc_pw[RC_SVCPW_MAX + 1];
};

static struct fuzz_store fz;

static void fuzz_die(const char *what)
{
	fprintf(stderr, "fuzz store: %s: %s\n", what, rc_errmsg());
	abort();
}

static void fuzz_store_remove(void)
{
	char cmd[300];
	if (fz.dir[0] && getenv("FUZZ_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fz.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz store: could not remove %s\n", fz.dir);
	}
}

static uid_t fuzz_uid_of(rc_store *s, const char *name)
{
	static const rc_actor root = { .uid = 0, .origin = "fuzz" };
	rc_member m;
	if (rc_member_get(s, &root, name, &m) != RC_OK)
		fuzz_die(name);
	return m.uid;
}

static void fuzz_store_setup(void)
{
	static const rc_actor root = { .uid = 0, .origin = "fuzz" };
	rc_code_result owner, inv;
	rc_store *s = NULL;
	char user[RC_NAME_MAX + 1];
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	FILE *f;

	snprintf(fz.dir, sizeof(fz.dir), "%s/rollcall-fuzz.XXXXXX", base);
	if (!mkdtemp(fz.dir))
		abort();
	atexit(fuzz_store_remove);
	rc_config_defaults(&fz.cfg);
	snprintf(fz.cfg.state_dir, sizeof(fz.cfg.state_dir), "%s/state", fz.dir);
	snprintf(fz.cfg.home_base, sizeof(fz.cfg.home_base), "%s/home", fz.dir);
	/* the host's own users stay out of it: empty files sources */
	snprintf(fz.cfg.passwd_file, sizeof(fz.cfg.passwd_file), "%s/passwd", fz.dir);
	snprintf(fz.cfg.group_file, sizeof(fz.cfg.group_file), "%s/group", fz.dir);
	snprintf(fz.conf, sizeof(fz.conf), "%s/rollcall.conf", fz.dir);
	if (!(f = fopen(fz.cfg.passwd_file, "w")) || fputs("root:x:0:0::/root:/bin/sh\n", f) < 0 ||
	    fclose(f))
		abort();
	if (!(f = fopen(fz.cfg.group_file, "w")) || fputs("root:x:0:\n", f) < 0 || fclose(f))
		abort();
	if (!(f = fopen(fz.conf, "w")) ||
	    fprintf(f, "state_dir = %s\nhome_base = %s\npasswd_file = %s\ngroup_file = %s\n",
	            fz.cfg.state_dir, fz.cfg.home_base, fz.cfg.passwd_file,
	            fz.cfg.group_file) < 0 || fclose(f))
		abort();

	if (rc_store_create(&fz.cfg, "alice@example.com", "alice", &owner) != RC_OK)
		fuzz_die("create");
	if (rc_store_open(&s, &fz.cfg, RC_OPEN_SHARED) != RC_OK)
		fuzz_die("open");
	if (rc_settings_set(s, &root, "argon2.opslimit", "1") ||
	    rc_settings_set(s, &root, "argon2.memlimit_kib", "8192") ||
	    rc_settings_set(s, &root, "lockout.attempts", "0") ||
	    rc_settings_set(s, &root, "audit.max_entries", "1000"))
		fuzz_die("settings");
	if (rc_member_accept(s, &root, owner.code, FUZZ_PASSWORD, user))
		fuzz_die("accept alice");
	rc_invite_req carol = { .email = "carol@example.com", .role = "developer" };
	if (rc_member_invite(s, &root, &carol, &inv) ||
	    rc_member_accept(s, &root, inv.code, FUZZ_PASSWORD, user))
		fuzz_die("carol");
	rc_invite_req bob = { .email = "bob@example.com", .role = "developer" };
	if (rc_member_invite(s, &root, &bob, &inv))
		fuzz_die("invite bob");
	snprintf(fz.bob_code, sizeof(fz.bob_code), "%s", inv.code);

	rc_actor alice = { .uid = fuzz_uid_of(s, "alice"), .origin = "fuzz" };
	rc_mfa_enrollment e;
	char code[7];
	if (rc_mfa_enroll(s, &alice, &e))
		fuzz_die("enroll");
	/* a code from the step before: the current one stays unused */
	if (rc_totp_code(e.secret, time(NULL) - 30, code) || rc_mfa_confirm(s, &alice, code))
		fuzz_die("confirm");
	snprintf(fz.totp_secret, sizeof(fz.totp_secret), "%s", e.secret);
	snprintf(fz.recovery, sizeof(fz.recovery), "%s", e.recovery[0]);
	rc_mfa_enrollment_clear(&e);
	rc_token_req treq = { .description = "fuzz" };
	rc_token info;
	if (rc_token_generate(s, &alice, &treq, &info, fz.token))
		fuzz_die("token");

	rc_secret_result pw;
	if (rc_service_create(s, &root, "analytics", &pw))
		fuzz_die("service");
	snprintf(fz.svc_user, sizeof(fz.svc_user), "%s", pw.username);
	snprintf(fz.svc_pw, sizeof(fz.svc_pw), "%s", pw.password);
	sodium_memzero(&pw, sizeof(pw));
	rc_store_close(s);
}
#endif
