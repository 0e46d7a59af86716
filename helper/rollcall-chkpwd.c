/*
 * rollcall-chkpwd.c - the setuid-root helper that verifies a password or
 * token for a PAM client that is not root (PostgreSQL, nginx's auth_pam
 * workers, a screen locker), in the manner of pam_unix's unix_chkpwd.
 *
 * pam_rollcall starts it with an empty environment and the user name as
 * its only argument, and writes on its standard input (a pipe, never a
 * terminal) three things: the PAM service name and "tokens=allow" or
 * "tokens=deny", each on a line, then the secret up to the end of input.
 * The caller is the real uid.  Whether that caller may have this user's
 * credentials verified is lib's rule (rc_caller_may_verify); then the
 * same first-factor login as a root caller's runs (lockout, audit and the
 * cost of an unknown user), and the account checks.  The answer is the
 * exit status alone (see rollcall-chkpwd.h); what happened goes to syslog.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "rollcall.h"
#include "rollcall-chkpwd.h"

#define SERVICE_MAX 64

static void sanitize_fds(void)
{
	/* 0, 1 and 2 open, so that no file opened here becomes one of them */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(RC_CHKPWD_UNAVAIL);
}

/* The whole input, at most LEN - 1 bytes kept (the rest is read and
 * dropped), NUL-terminated.  -1 on a read error. */
static int read_all(char *buf, size_t len, size_t *got)
{
	size_t n = 0;
	char sink[256];

	for (;;) {
		ssize_t r = n + 1 < len ? read(STDIN_FILENO, buf + n, len - 1 - n)
		                        : read(STDIN_FILENO, sink, sizeof(sink));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		if (n + 1 < len)
			n += (size_t)r;
	}
	buf[n] = '\0';
	*got = n;
	return 0;
}

static int valid_service(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > SERVICE_MAX)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	/* service, tokens=..., the secret (a token is 85 bytes; a password
	 * longer than RC_PASSWORD_MAX is refused by lib, and counted) */
	static char in[SERVICE_MAX + 16 + RC_PASSWORD_MAX + 4];
	char origin[64], *service, *flags, *secret, *nl;
	const char *user;
	uid_t caller = getuid();
	rc_config cfg;
	rc_store *s = NULL;
	rc_login l;
	size_t got = 0;
	int status = RC_CHKPWD_UNAVAIL, rc, must_change = 0;
	unsigned lflags = 0;

	sanitize_fds();
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	clearenv();
	memset(&l, 0, sizeof(l));
	openlog("rollcall-chkpwd", LOG_PID, LOG_AUTHPRIV);
	if (geteuid() != 0 || rc_privileges_root() < 0) {
		syslog(LOG_ERR, "not installed setuid root, or cannot take root's ids "
		       "(uid %u)", (unsigned)caller);
		return RC_CHKPWD_UNAVAIL;
	}
	if (argc != 2 || !argv[1] || !argv[1][0] || isatty(STDIN_FILENO)) {
		syslog(LOG_NOTICE, "started by uid %u other than by pam_rollcall: refused",
		       (unsigned)caller);
		fprintf(stderr, "rollcall-chkpwd: for pam_rollcall only (see pam_rollcall(8))\n");
		return RC_CHKPWD_UNAVAIL;
	}
	user = argv[1];
	if (read_all(in, sizeof(in), &got) < 0 || strlen(in) != got ||
	    !(nl = strchr(in, '\n')))
		goto bad_input;
	*nl = '\0';
	service = in;
	flags = nl + 1;
	if (!(nl = strchr(flags, '\n')))
		goto bad_input;
	*nl = '\0';
	secret = nl + 1;
	if (!valid_service(service))
		goto bad_input;
	if (strcmp(flags, "tokens=deny") == 0)
		lflags |= RC_LOGIN_NO_TOKENS;
	else if (strcmp(flags, "tokens=allow") != 0)
		goto bad_input;
	/* a secret cut short by the buffer is longer than RC_PASSWORD_MAX
	 * still (the service name and the flags take less than its margin):
	 * refused by lib, and counted */
	snprintf(origin, sizeof(origin), "pam:%.16s via helper, uid %u", service,
	         (unsigned)caller);

	rc_config_defaults(&cfg);
	if ((rc = rc_config_load(&cfg, RC_DEFAULT_CONFIG, 0)) != RC_OK ||
	    (rc = rc_store_open(&s, &cfg, 0)) != RC_OK) {
		syslog(LOG_ERR, "store unavailable: %s (%s)", rc_errmsg(), origin);
		goto out;
	}
	rc = rc_caller_may_verify(s, origin, caller, user);
	if (rc == RC_ERR_PERM) {
		syslog(LOG_WARNING, "refused: %s (%s)", rc_errmsg(), origin);
		status = RC_CHKPWD_NOT_ALLOWED;
		goto out;
	}
	if (rc) {
		syslog(LOG_ERR, "%s (%s)", rc_errmsg(), origin);
		goto out;
	}
	rc = rc_login_begin(s, &l, origin, user, secret, lflags);
	if (rc == RC_OK && (!l.done || (l.via != RC_VIA_PASSWORD && l.via != RC_VIA_TOKEN))) {
		/* a second factor or a new password is wanted: the helper
		 * answers for the first factor alone */
		syslog(LOG_NOTICE, "%s: %s needs %s, which this application cannot ask for "
		       "through the helper (%s)", "authentication failure", user,
		       l.need_totp || l.need_enroll ? "a second factor" : "a new password", origin);
		status = RC_CHKPWD_NO;
		goto out;
	}
	if (rc == RC_OK) {
		rc = rc_login_account(s, &l, origin, user, NULL, &must_change);
		if (rc || must_change) {
			syslog(LOG_NOTICE, "account refused for %s: %s (%s)", user,
			       rc ? rc_errmsg() : "a new password is required", origin);
			status = rc == RC_ERR_STORE || rc == RC_ERR_NOMEM ? RC_CHKPWD_UNAVAIL
			       : rc == RC_ERR_LOCKED ? RC_CHKPWD_LOCKED : RC_CHKPWD_NO;
			goto out;
		}
		syslog(LOG_INFO, "%s authenticated by %s (%s)", user, rc_via_name(l.via), origin);
		status = RC_CHKPWD_YES;
	} else if (rc == RC_ERR_NOTFOUND) {
		syslog(LOG_NOTICE, "authentication failure for a user rollcall does not know (%s)",
		       origin);
		status = RC_CHKPWD_UNKNOWN;
	} else if (rc == RC_ERR_LOCKED) {
		syslog(LOG_NOTICE, "%s (%s)", rc_errmsg(), origin);
		status = RC_CHKPWD_LOCKED;
	} else if (rc == RC_ERR_AUTH) {
		syslog(LOG_NOTICE, "authentication failure for %s: %s (%s)", user, rc_errmsg(),
		       origin);
		status = RC_CHKPWD_NO;
	} else {
		syslog(LOG_ERR, "authentication failure for %s: %s (%s)", user, rc_errmsg(),
		       origin);
	}
	goto out;
bad_input:
	syslog(LOG_ERR, "malformed request from uid %u: refused", (unsigned)caller);
out:
	rc_login_clear(&l);
	sodium_memzero(in, sizeof(in));
	rc_store_close(s);
	closelog();
	return status;
}
