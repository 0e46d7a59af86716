/*
 * pam_rollcall.c - PAM glue over lib/: auth, account, password and session.
 *
 * Every rule lives in lib/ (auth.c); this file reads the options, talks to
 * the application through the conversation, maps lib's codes to PAM's, and
 * logs.  Each pam_sm_* reads the defaults, then the configuration file, then
 * its arguments, and leaves through one cleanup label.
 *
 * Internal errors are never success and never PAM_IGNORE: a store that is
 * missing or damaged is PAM_AUTHINFO_UNAVAIL (auth) or the phase's error,
 * and a user rollcall does not know is PAM_USER_UNKNOWN, so that the rest of
 * the stack (pam_unix for root and local users) goes on working.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <security/pam_modules.h>
#include <security/pam_ext.h>
#include <sodium.h>
#include "rollcall.h"
#include "rollcall-chkpwd.h"

#define PAM_EXPORT __attribute__((visibility("default")))
#define DATA_STORE   "pam_rollcall_store"
#define DATA_LOGIN   "pam_rollcall_login"
#define DATA_SESSION "pam_rollcall_session"
#define RC_HELPER_TIMEOUT_MS 30000   /* an answer of the helper (argon2id included) */
#define DATA_HELPER  "pam_rollcall_helper"   /* the user the helper said yes for */
#define RC_FAIL_DELAY_US 2000000u   /* pam_unix's */

enum { TOTP_DEFAULT = 0, TOTP_REQUIRED, TOTP_OPTIONAL };

struct opts {
	rc_config cfg;
	char config[RC_PATH_MAX];
	int tokens;             /* tokens=allow (1) | deny (0) */
	int debug;
	int session_token;
	int totp;
	int silent;
	int nodelay;            /* no pam_fail_delay() on a failed authentication */
	char roles[256];
	uint32_t perm;
	char helper[RC_PATH_MAX];   /* rollcall-chkpwd, for callers that are not root */
	char tool[RC_PATH_MAX];     /* rollcall: a fleet host's password changes */
};

/* ---- the caller's ids ---------------------------------------------------------- */

/* A setuid-root application (su, sudo, passwd) keeps its caller as its
 * real uid, and the caller may send it signals: stopped while this module
 * holds the store's write transaction (a failed attempt, a login), it
 * would hold every login and admin command on the host.  So every
 * pam_sm_* of such a process runs with root's real and saved ids, which
 * the caller cannot signal, and gives the caller's back before it returns
 * (as the application expects them).  The terminal's stop signals are
 * held by lib/ while a write transaction is open.  caller_uid is the real
 * uid the application was started with. */
static __thread uid_t caller_uid;

struct ids {
	uid_t r, e, s;
	int switched;
};

static void ids_take(struct ids *id)
{
	memset(id, 0, sizeof(*id));
	if (getresuid(&id->r, &id->e, &id->s) < 0) {
		caller_uid = getuid();
		return;
	}
	caller_uid = id->r;
	if (id->e == 0 && (id->r != 0 || id->s != 0) && setresuid(0, 0, 0) == 0)
		id->switched = 1;
}

static void ids_give_back(pam_handle_t *pamh, const struct ids *id)
{
	if (id->switched && setresuid(id->r, id->e, id->s) < 0)
		pam_syslog(pamh, LOG_CRIT, "%s: cannot give the real uid %u back: %m", __func__,
		           (unsigned)id->r);
}

/* ---- options ----------------------------------------------------------------- */

static int opt_value(const char *arg, const char *name, const char **val)
{
	size_t n = strlen(name);
	if (strncmp(arg, name, n) == 0 && arg[n] == '=') {
		*val = arg + n + 1;
		return 1;
	}
	return 0;
}

/* One module argument other than config=, into O: 0, or -1 when it is
 * unknown or its value is bad. */
static int opt_one(struct opts *o, const char *a)
{
	const char *v;

	if (opt_value(a, "state_dir", &v) || opt_value(a, "store", &v)) {
		if (v[0] != '/' || strlen(v) >= sizeof(o->cfg.state_dir))
			return -1;
		snprintf(o->cfg.state_dir, sizeof(o->cfg.state_dir), "%s", v);
	} else if (opt_value(a, "helper", &v)) {
		/* for tests: the compiled-in path is the one to use */
		if (v[0] != '/' || strlen(v) >= sizeof(o->helper))
			return -1;
		snprintf(o->helper, sizeof(o->helper), "%s", v);
	} else if (opt_value(a, "tool", &v)) {
		/* for tests too */
		if (v[0] != '/' || strlen(v) >= sizeof(o->tool))
			return -1;
		snprintf(o->tool, sizeof(o->tool), "%s", v);
	} else if (opt_value(a, "tokens", &v)) {
		if (strcmp(v, "allow") != 0 && strcmp(v, "deny") != 0)
			return -1;
		o->tokens = strcmp(v, "allow") == 0;
	} else if (opt_value(a, "totp", &v)) {
		if (strcmp(v, "required") == 0)
			o->totp = TOTP_REQUIRED;
		else if (strcmp(v, "optional") == 0)
			o->totp = TOTP_OPTIONAL;
		else
			return -1;
	} else if (opt_value(a, "roles", &v)) {
		if (!v[0] || strlen(v) >= sizeof(o->roles))
			return -1;
		snprintf(o->roles, sizeof(o->roles), "%s", v);
	} else if (opt_value(a, "permission", &v)) {
		if (rc_perms_parse(v, &o->perm) != RC_OK || !o->perm)
			return -1;
	} else if (strcmp(a, "debug") == 0) {
		o->debug = 1;
	} else if (strcmp(a, "nodelay") == 0) {
		o->nodelay = 1;
	} else if (strcmp(a, "session_token") == 0) {
		o->session_token = 1;
	} else if (strcmp(a, "use_first_pass") != 0 && strcmp(a, "try_first_pass") != 0 &&
	           strcmp(a, "use_authtok") != 0) {
		/* (those three are read by pam_get_authtok() itself) */
		return -1;
	}
	return 0;
}

/* Defaults, then the configuration file, then the arguments. */
static int opts_read(pam_handle_t *pamh, int flags, int argc, const char **argv,
                     struct opts *o)
{
	const char *v;
	int explicit_config = 0;

	memset(o, 0, sizeof(*o));
	o->tokens = 1;
	o->silent = (flags & PAM_SILENT) != 0;
	snprintf(o->config, sizeof(o->config), "%s", RC_DEFAULT_CONFIG);
	snprintf(o->helper, sizeof(o->helper), "%s", RC_HELPER_PATH);
	snprintf(o->tool, sizeof(o->tool), "%s", RC_TOOL_PATH);
	for (int i = 0; i < argc; i++)
		if (opt_value(argv[i], "config", &v)) {
			if (!v[0] || strlen(v) >= sizeof(o->config)) {
				pam_syslog(pamh, LOG_ERR, "%s: bad option %s", __func__, argv[i]);
				return PAM_SERVICE_ERR;
			}
			snprintf(o->config, sizeof(o->config), "%s", v);
			explicit_config = 1;
		}
	rc_config_defaults(&o->cfg);
	if (rc_config_load(&o->cfg, o->config, explicit_config) != RC_OK) {
		pam_syslog(pamh, LOG_ERR, "%s: %s", __func__, rc_errmsg());
		return PAM_SERVICE_ERR;
	}
	for (int i = 0; i < argc; i++)
		if (!opt_value(argv[i], "config", &v) && opt_one(o, argv[i]) != 0) {
			pam_syslog(pamh, LOG_ERR, "%s: unknown or bad option \"%s\": refused",
			           __func__, argv[i]);
			return PAM_SERVICE_ERR;
		}
	return PAM_SUCCESS;
}

/* ---- the store and the login state --------------------------------------------- */

static void store_cleanup(pam_handle_t *pamh, void *data, int err)
{
	(void)pamh;
	(void)err;
	rc_store_close(data);
}

static void login_cleanup(pam_handle_t *pamh, void *data, int err)
{
	(void)pamh;
	(void)err;
	rc_login_clear(data);
	free(data);
}

static void string_cleanup(pam_handle_t *pamh, void *data, int err)
{
	(void)pamh;
	(void)err;
	free(data);
}

/* The process's shared store (lib keeps one per process and reopens it in a
 * forked child); the PAM handle keeps a reference so that the next call of
 * this handle does not open it again. */
static int store_get(pam_handle_t *pamh, const struct opts *o, rc_store **out)
{
	const void *held = NULL;
	rc_store *s = NULL;
	int rc = rc_store_open(&s, &o->cfg, RC_OPEN_SHARED);

	*out = NULL;
	if (rc) {
		pam_syslog(pamh, LOG_ERR, "%s: store unavailable: %s", __func__, rc_errmsg());
		return rc;
	}
	if (pam_get_data(pamh, DATA_STORE, &held) != PAM_SUCCESS || held != s) {
		rc_store *ref = NULL;
		if (rc_store_open(&ref, &o->cfg, RC_OPEN_SHARED) == RC_OK &&
		    pam_set_data(pamh, DATA_STORE, ref, store_cleanup) != PAM_SUCCESS)
			rc_store_close(ref);
	}
	if (rc_store_warning(s))
		pam_syslog(pamh, LOG_WARNING, "%s: %s", __func__, rc_store_warning(s));
	*out = s;
	return RC_OK;
}

static void origin_of(pam_handle_t *pamh, char *buf, size_t len)
{
	const void *svc = NULL, *rhost = NULL;

	(void)pam_get_item(pamh, PAM_SERVICE, &svc);
	(void)pam_get_item(pamh, PAM_RHOST, &rhost);
	if (rhost && ((const char *)rhost)[0])
		snprintf(buf, len, "pam:%.20s from %.30s", svc ? (const char *)svc : "?",
		         (const char *)rhost);
	else if (caller_uid != 0)   /* su, sudo, passwd started by another user: who */
		snprintf(buf, len, "pam:%.30s by uid %u", svc ? (const char *)svc : "?",
		         (unsigned)caller_uid);
	else
		snprintf(buf, len, "pam:%.40s", svc ? (const char *)svc : "?");
}

static rc_login *login_get(pam_handle_t *pamh)
{
	const void *l = NULL;
	if (pam_get_data(pamh, DATA_LOGIN, &l) != PAM_SUCCESS)
		return NULL;
	return (rc_login *)(uintptr_t)l;
}

/* The phases, as far as their answers differ. */
enum phase { PH_AUTH, PH_ACCOUNT, PH_PASSWD_CHECK, PH_PASSWD_CHANGE };

/* lib's codes to PAM's, per phase: the only place they are mapped. */
static int pam_code(int rc, enum phase ph)
{
	bool passwd = ph == PH_PASSWD_CHECK || ph == PH_PASSWD_CHANGE;
	/* what anything else is in each phase */
	int other = ph == PH_AUTH ? PAM_AUTH_ERR : ph == PH_ACCOUNT ? PAM_AUTHINFO_UNAVAIL
	                                                             : PAM_AUTHTOK_ERR;

	switch (rc) {
	case RC_OK: return PAM_SUCCESS;
	case RC_ERR_NOTFOUND: return PAM_USER_UNKNOWN;
	case RC_ERR_NOMEM: return PAM_BUF_ERR;
	case RC_ERR_PERM: return PAM_PERM_DENIED;
	case RC_ERR_AUTH:   /* a wrong password; for a change, the old one */
		return ph == PH_PASSWD_CHANGE ? PAM_AUTHTOK_RECOVERY_ERR : PAM_AUTH_ERR;
	case RC_ERR_LOCKED: return ph == PH_AUTH ? PAM_MAXTRIES : PAM_PERM_DENIED;
	case RC_ERR_STATE:  /* inactive, stopped; no password to change */
		return ph == PH_ACCOUNT ? PAM_ACCT_EXPIRED
		     : ph == PH_PASSWD_CHECK ? PAM_PERM_DENIED : other;
	case RC_ERR_POLICY: /* a protected user; a new password the policy refuses */
		return ph == PH_PASSWD_CHECK ? PAM_PERM_DENIED : other;
	case RC_ERR_STORE: case RC_ERR_SCHEMA: case RC_ERR_CONFIG: case RC_ERR_FULL:
		return passwd ? PAM_AUTHTOK_ERR : PAM_AUTHINFO_UNAVAIL;
	default: return other;
	}
}

static void say(pam_handle_t *pamh, const struct opts *o, int style, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void say(pam_handle_t *pamh, const struct opts *o, int style, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (o->silent)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	(void)pam_prompt(pamh, style, NULL, "%s", buf);
}

static void wipe_free(char *p)
{
	if (p) {
		sodium_memzero(p, strlen(p));
		free(p);
	}
}

/* The user the application names: PAM_USER_UNKNOWN for none. */
static int user_get(pam_handle_t *pamh, const char **user)
{
	int ret = pam_get_user(pamh, user, NULL);

	if (ret != PAM_SUCCESS || !*user || !(*user)[0])
		return ret == PAM_SUCCESS ? PAM_USER_UNKNOWN : ret;
	return PAM_SUCCESS;
}

/* What every pam_sm_* does after reading its options (opts_read, once):
 * the user, where the request comes from, the store.  Returns PAM_SUCCESS
 * or the phase's error for a store that cannot be used. */
static int begin(pam_handle_t *pamh, enum phase ph, const struct opts *o, const char **user,
                 char origin[64], rc_store **s)
{
	int ret = user_get(pamh, user), rc;

	if (ret != PAM_SUCCESS)
		return ret;
	origin_of(pamh, origin, 64);
	if ((rc = store_get(pamh, o, s)) != RC_OK)
		return pam_code(rc, ph);
	return PAM_SUCCESS;
}


/* ---- the helper, for callers that are not root ------------------------------------ */

/* Not root, and the store out of reach (0700 root): rollcall-chkpwd answers
 * instead.  Root never uses it. */
static int use_helper(const struct opts *o)
{
	char path[RC_PATH_MAX + 8];

	if (geteuid() == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/store", o->cfg.state_dir);
	return faccessat(AT_FDCWD, path, R_OK | W_OK | X_OK, AT_EACCESS) != 0;
}

/* The helper's exit status to PAM's code for phase PH (auth or account):
 * the only place it is mapped. */
static int helper_code(int status, enum phase ph)
{
	bool auth = ph == PH_AUTH;

	switch (status) {
	case RC_CHKPWD_YES: case RC_CHKPWD_YES_TOKEN: return PAM_SUCCESS;
	case RC_CHKPWD_NO: return auth ? PAM_AUTH_ERR : PAM_PERM_DENIED;
	case RC_CHKPWD_UNKNOWN: return PAM_USER_UNKNOWN;
	case RC_CHKPWD_LOCKED: return auth ? PAM_MAXTRIES : PAM_PERM_DENIED;
	case RC_CHKPWD_NOT_ALLOWED: return PAM_CRED_INSUFFICIENT;
	case RC_CHKPWD_DENIED: return PAM_PERM_DENIED;
	case RC_CHKPWD_EXPIRED: return PAM_ACCT_EXPIRED;
	case RC_CHKPWD_NEW_AUTHTOK: return PAM_NEW_AUTHTOK_REQD;
	default: return PAM_AUTHINFO_UNAVAIL;   /* unavailable, over the allowance */
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The helper serves this process from its first request on (its serving
 * mode, see rollcall-chkpwd.h): the module stays loaded (-z nodelete), and
 * so does this connection, one per process, used under a lock.  It is
 * ours only in the process that made it and while the descriptor is still
 * the socket it was: an application that forked, or closed the descriptor
 * and opened another under its number, gets a helper of its own, and no
 * request is ever written to a file that is not ours. */
static struct {
	pthread_mutex_t lock;
	int fd;
	pid_t owner;
	dev_t dev;
	ino_t ino;
	char helper[RC_PATH_MAX];
} conn = { PTHREAD_MUTEX_INITIALIZER, -1, 0, 0, 0, "" };

/* A child forked while another thread held the lock would wait on it for
 * good: the child starts with it free, and with no connection (its
 * parent's is the parent's). */
static void conn_atfork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	conn.lock = fresh;
	conn.fd = -1;
}

static void conn_atfork_register(void)
{
	(void)pthread_atfork(NULL, NULL, conn_atfork_child);
}

static bool conn_ours(void)
{
	struct stat st;

	return conn.fd >= 0 && conn.owner == getpid() && fstat(conn.fd, &st) == 0 &&
	       S_ISSOCK(st.st_mode) && st.st_dev == conn.dev && st.st_ino == conn.ino;
}

static void conn_drop(void)
{
	if (conn_ours())
		close(conn.fd);
	conn.fd = -1;
}

/* Start the helper in its serving mode: fork twice (it is not the
 * application's child, which may reap children it does not know), execve
 * with an empty environment, one end of a socket pair on its standard
 * input.  SIGCHLD is left to its default meanwhile, as pam_unix does for
 * unix_chkpwd, so that the application's handler does not reap the
 * intermediate child first. */
static int conn_start(pam_handle_t *pamh, const struct opts *o)
{
	struct sigaction dfl, old;
	struct stat st;
	int sv[2], status;
	pid_t pid;

	if (stat(o->helper, &st) < 0 || !S_ISREG(st.st_mode)) {
		pam_syslog(pamh, LOG_ERR, "%s: the store is not readable by uid %u and the helper "
		           "%s is missing: install it setuid root", __func__, (unsigned)geteuid(),
		           o->helper);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || fstat(sv[0], &st) < 0) {
		pam_syslog(pamh, LOG_ERR, "%s: socketpair: %m", __func__);
		return -1;
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	(void)sigaction(SIGCHLD, &dfl, &old);
	pid = fork();
	if (pid == 0) {
		static char serve_arg[] = RC_CHKPWD_SERVE;
		char *const argv[] = { (char *)(uintptr_t)o->helper, serve_arg, NULL };
		char *const envp[] = { NULL };
		sigset_t none;
		int null;
		if (fork() != 0)
			_exit(0);
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		(void)setsid();   /* no signal to the application's group reaches it */
		if (null < 0 || dup2(sv[1], STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		    dup2(null, STDERR_FILENO) < 0)
			_exit(127);
		closefrom(3);
		execve(o->helper, argv, envp);
		_exit(127);
	}
	close(sv[1]);
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	(void)sigaction(SIGCHLD, &old, NULL);
	if (pid < 0) {
		pam_syslog(pamh, LOG_ERR, "%s: fork: %m", __func__);
		close(sv[0]);
		return -1;
	}
	conn.fd = sv[0];
	conn.owner = getpid();
	conn.dev = st.st_dev;
	conn.ino = st.st_ino;
	snprintf(conn.helper, sizeof(conn.helper), "%s", o->helper);
	return 0;
}

/* Send FRAME and wait for the answer: a status, or -1. */
static int conn_ask(const char *frame, size_t len)
{
	struct pollfd p = { .fd = conn.fd, .events = POLLIN };
	unsigned char status;
	ssize_t r;
	int pr;

	if (write_all(conn.fd, frame, len) < 0)
		return -1;
	do
		pr = poll(&p, 1, RC_HELPER_TIMEOUT_MS);
	while (pr < 0 && errno == EINTR);
	if (pr <= 0)
		return -1;
	do
		r = recv(conn.fd, &status, 1, 0);
	while (r < 0 && errno == EINTR);
	return r == 1 ? status : -1;
}

/* Ask the helper: the user, the service, the request line REQ and the
 * secret PW (auth) in one frame.  The answer: its status, or -1.  A helper
 * gone since the last request (idle, killed) is started again, once. */
static int helper_run(pam_handle_t *pamh, const struct opts *o, const char *user,
                      const char *req, const char *pw)
{
	static char frame[RC_CHKPWD_FRAME_MAX];
	const void *svc = NULL;
	char name[65];
	uint32_t len;
	size_t pwlen = strnlen(pw, RC_PASSWORD_MAX + 1);   /* longer is refused, counted */
	int n, status = -1;

	static pthread_once_t once = PTHREAD_ONCE_INIT;

	for (const char *p = user; *p; p++)   /* the frame's first line */
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return RC_CHKPWD_UNKNOWN;
	(void)pam_get_item(pamh, PAM_SERVICE, &svc);
	snprintf(name, sizeof(name), "%s", svc && ((const char *)svc)[0] ? (const char *)svc : "?");
	for (char *p = name; *p; p++)   /* one word on one line */
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			*p = '_';
	(void)pthread_once(&once, conn_atfork_register);
	if (pthread_mutex_lock(&conn.lock) != 0)
		return -1;
	n = snprintf(frame + 4, sizeof(frame) - 4, "%s\n%s\n%s\n", user, name, req);
	if (n < 0 || (size_t)n + pwlen + 4 > sizeof(frame)) {
		pam_syslog(pamh, LOG_ERR, "%s: request too long for the helper", __func__);
		goto out;
	}
	memcpy(frame + 4 + n, pw, pwlen);
	len = (uint32_t)((size_t)n + pwlen);
	memcpy(frame, &len, 4);
	for (int attempt = 0; attempt < 2 && status < 0; attempt++) {
		if (!conn_ours() || strcmp(conn.helper, o->helper) != 0) {
			conn_drop();
			if (conn_start(pamh, o) < 0)
				goto out;
		}
		if ((status = conn_ask(frame, len + 4)) < 0)
			conn_drop();
	}
	if (status < 0)
		pam_syslog(pamh, LOG_ERR, "%s: the helper %s did not answer (not setuid root, or "
		           "killed?)", __func__, o->helper);
out:
	sodium_memzero(frame, sizeof(frame));
	(void)pthread_mutex_unlock(&conn.lock);
	return status;
}

/* ---- auth ------------------------------------------------------------------------ */

static int ask_code(pam_handle_t *pamh, char **answer)
{
	*answer = NULL;
	return pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, answer, "Verification code: ");
}

/* Two-factor required and not set up: show the secret and take a code. */
static int enroll(pam_handle_t *pamh, const struct opts *o, rc_store *s, rc_login *l)
{
	rc_mfa_enrollment e;
	char *qr = NULL, *answer = NULL, codes[RC_RECOVERY_CODES * (RC_RECOVERY_LEN + 2) + 1];
	int rc = rc_login_enroll_begin(s, l, &e);
	int pr = PAM_SUCCESS;

	if (rc)
		goto out;
	if (o->silent) {
		rc = RC_ERR_STATE;
		pam_syslog(pamh, LOG_NOTICE, "%s: two-factor authentication is required and %s "
		           "has none; the application asked for silence, so enrollment cannot "
		           "be shown", __func__, l->user);
		goto out;
	}
	codes[0] = '\0';
	for (int i = 0; i < RC_RECOVERY_CODES; i++) {
		strcat(codes, e.recovery[i]);
		strcat(codes, i % 2 ? "\n" : "  ");
	}
	(void)rc_qr_text(e.uri, &qr);
	pr = pam_prompt(pamh, PAM_TEXT_INFO, NULL,
	                "Two-factor authentication is required for %s.\n"
	                "Scan this QR code with an authenticator app (or enter the key):\n"
	                "%s\n%s\nKey: %s\n\nRecovery codes (each works once; keep them safe):\n%s",
	                l->user, qr ? qr : "", e.uri, e.secret, codes);
	if (pr != PAM_SUCCESS) {
		rc = RC_ERR_STATE;
		pam_syslog(pamh, LOG_NOTICE, "%s: two-factor authentication is required for %s "
		           "and this application cannot show the enrollment; enroll with "
		           "\"rollcall mfa enable\"", __func__, l->user);
		goto out;
	}
	pr = ask_code(pamh, &answer);
	if (pr != PAM_SUCCESS || !answer) {
		rc = RC_ERR_STATE;
		goto out;
	}
	rc = rc_login_enroll_finish(s, l, answer);
out:
	rc_mfa_enrollment_clear(&e);
	sodium_memzero(codes, sizeof(codes));
	free(qr);
	wipe_free(answer);
	return rc;
}

/* What the helper refused, for the administrator (the helper logs why). */
static void helper_said(pam_handle_t *pamh, int status, const char *user, const char *fn)
{
	if (status == RC_CHKPWD_NOT_ALLOWED)
		pam_syslog(pamh, LOG_NOTICE, "%s: uid %u may not verify %s's credentials: refused "
		           "by the helper", fn, (unsigned)getuid(), user);
	else if (status == RC_CHKPWD_LIMITED)
		pam_syslog(pamh, LOG_WARNING, "%s: uid %u is over its caller_failures allowance: "
		           "refused by the helper until the minute is over", fn, (unsigned)getuid());
}

/* Authentication through the helper: the first factor only. */
static int helper_authenticate(pam_handle_t *pamh, const struct opts *o, const char *user)
{
	const char *pw = NULL;
	char *keep;
	int ret, status;

	if (!o->nodelay)
		(void)pam_fail_delay(pamh, RC_FAIL_DELAY_US);
	ret = pam_get_authtok(pamh, PAM_AUTHTOK, &pw, NULL);
	if (ret != PAM_SUCCESS || !pw) {
		if (ret == PAM_CONV_AGAIN)
			return PAM_INCOMPLETE;
		return ret != PAM_CONV_ERR && ret != PAM_BUF_ERR && ret != PAM_ABORT
		       ? PAM_AUTH_ERR : ret;
	}
	(void)pam_set_data(pamh, DATA_HELPER, NULL, NULL);
	status = helper_run(pamh, o, user, o->tokens ? "tokens=allow" : "tokens=deny", pw);
	ret = helper_code(status, PH_AUTH);
	if (ret == PAM_SUCCESS) {
		/* the helper checked the account too: the account phase of
		 * this handle answers from it, "T" or "P" (a token's or a
		 * password's) and the user */
		if (asprintf(&keep, "%c%s", status == RC_CHKPWD_YES_TOKEN ? 'T' : 'P', user) < 0)
			keep = NULL;
		if (!keep ||
		    pam_set_data(pamh, DATA_HELPER, keep, string_cleanup) != PAM_SUCCESS) {
			free(keep);
			return PAM_BUF_ERR;
		}
		if (o->debug)
			pam_syslog(pamh, LOG_INFO, "%s: %s authenticated by the helper", __func__,
			           user);
	} else {
		helper_said(pamh, status, user, __func__);
	}
	return ret;
}

/* The account through the helper: what it said yes to in this handle's
 * authentication, unless roles= or permission= ask more, which it checks
 * on its own request. */
static int helper_account(pam_handle_t *pamh, const struct opts *o, const char *user)
{
	const void *vouched = NULL;
	char req[320], perms[160] = "";
	bool token = false;
	int status, ret;

	if (pam_get_data(pamh, DATA_HELPER, &vouched) == PAM_SUCCESS && vouched &&
	    strcmp((const char *)vouched + 1, user) == 0) {
		if (!o->roles[0] && !o->perm)
			return PAM_SUCCESS;
		token = ((const char *)vouched)[0] == 'T';
	}
	if (o->perm)
		rc_perms_format(o->perm, perms, sizeof(perms));
	snprintf(req, sizeof(req), "account%s%s%s%s%s", token ? " via=token" : "",
	         o->roles[0] ? " roles=" : "", o->roles, perms[0] ? " permission=" : "", perms);
	status = helper_run(pamh, o, user, req, "");
	ret = helper_code(status, PH_ACCOUNT);
	if (ret != PAM_SUCCESS)
		helper_said(pamh, status, user, __func__);
	return ret;
}

/* The first factor from the application (a password, a token or a code):
 * PAM_SUCCESS with *pw, or what the authentication returns without one. */
static int auth_secret(pam_handle_t *pamh, const struct opts *o, const char **pw)
{
	int ret;

	/* as pam_unix: libpam waits about this long (2 s, randomised) before
	 * a failed authentication returns, unless the application handles
	 * the delay (PAM_FAIL_DELAY) or "nodelay" is given */
	if (!o->nodelay)
		(void)pam_fail_delay(pamh, RC_FAIL_DELAY_US);
	ret = pam_get_authtok(pamh, PAM_AUTHTOK, pw, NULL);
	if (ret == PAM_SUCCESS && *pw)
		return PAM_SUCCESS;
	/* no password: an application that cannot ask (PAM_CONV_ERR) or will
	 * ask again (PAM_INCOMPLETE); anything else of pam_get_authtok's
	 * (PAM_AUTHTOK_ERR, ...) is no answer for an auth module to give: a
	 * failed authentication */
	if (ret == PAM_CONV_AGAIN)
		return PAM_INCOMPLETE;
	if (ret != PAM_SUCCESS && (ret == PAM_CONV_ERR || ret == PAM_BUF_ERR || ret == PAM_ABORT))
		return ret;
	return PAM_AUTH_ERR;
}

/* lib's login: the first factor, then a TOTP or recovery code or the
 * enrollment it requires.  lib's code: RC_OK when the login is done. */
static int auth_login(pam_handle_t *pamh, const struct opts *o, rc_store *s, rc_login *l,
                      const char *origin, const char *user, const char *pw)
{
	unsigned lflags = 0;
	char *answer = NULL;
	int rc;

	if (!o->tokens)
		lflags |= RC_LOGIN_NO_TOKENS;
	if (o->totp == TOTP_REQUIRED)
		lflags |= RC_LOGIN_MFA_REQUIRED;
	else if (o->totp == TOTP_OPTIONAL)
		lflags |= RC_LOGIN_MFA_OPTIONAL;
	rc = rc_login_begin(s, l, origin, user, pw, lflags);
	if (rc == RC_OK && l->need_totp) {
		int pr = ask_code(pamh, &answer);
		rc = pr == PAM_SUCCESS && answer ? rc_login_totp(s, l, answer)
		                                 : rc_login_totp(s, l, "");
		wipe_free(answer);
	} else if (rc == RC_OK && l->need_enroll) {
		rc = enroll(pamh, o, s, l);
		if (rc == RC_ERR_STATE) {
			say(pamh, o, PAM_ERROR_MSG, "Two-factor authentication is required; set it "
			    "up with \"rollcall mfa enable\".");
			rc = RC_ERR_AUTH;
		}
	}
	if (rc == RC_OK && !l->done)
		rc = RC_ERR_AUTH;
	return rc;
}

/* The outcome of a login: logged, told, and as PAM's code.  A login that
 * passed is kept in the handle for the account phase (*l is then NULL). */
static int auth_outcome(pam_handle_t *pamh, const struct opts *o, int rc, const char *user,
                        const char *origin, rc_login **l)
{
	int ret;

	switch (rc) {
	case RC_OK:
		if (o->debug || (*l)->via != RC_VIA_TOKEN)
			pam_syslog(pamh, LOG_INFO, "sm_authenticate: %s authenticated by %s (%s)",
			           user, rc_via_name((*l)->via), origin);
		else
			pam_syslog(pamh, LOG_INFO, "sm_authenticate: %s authenticated by token %s "
			           "(%s)", user, (*l)->token_id, origin);
		ret = pam_set_data(pamh, DATA_LOGIN, *l, login_cleanup);
		if (ret == PAM_SUCCESS)
			*l = NULL;
		return ret;
	case RC_ERR_NOTFOUND:
		/* not named: it may be a password typed into the user name */
		pam_syslog(pamh, LOG_NOTICE, "sm_authenticate: authentication failure for a "
		           "user rollcall does not know (%s)", origin);
		return PAM_USER_UNKNOWN;
	case RC_ERR_LOCKED:
		pam_syslog(pamh, LOG_NOTICE, "sm_authenticate: %s (%s)", rc_errmsg(), origin);
		say(pamh, o, PAM_ERROR_MSG, "The account is locked after too many failed "
		    "logins; try again later or ask an administrator to unlock it.");
		return pam_code(rc, PH_AUTH);
	default:
		pam_syslog(pamh, rc == RC_ERR_AUTH ? LOG_NOTICE : LOG_ERR,
		           "sm_authenticate: authentication failure for %s: %s (%s)", user,
		           rc_errmsg(), origin);
		return pam_code(rc, PH_AUTH);
	}
}

static int sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct opts o;
	rc_store *s = NULL;
	rc_login *l = NULL;
	const char *user = NULL, *pw = NULL;
	char origin[64];
	int ret;

	ret = opts_read(pamh, flags, argc, argv, &o);
	if (ret != PAM_SUCCESS)
		return ret;
	if (use_helper(&o)) {
		if ((ret = user_get(pamh, &user)) != PAM_SUCCESS)
			return ret;
		return helper_authenticate(pamh, &o, user);
	}
	ret = begin(pamh, PH_AUTH, &o, &user, origin, &s);
	if (ret == PAM_SUCCESS)
		ret = auth_secret(pamh, &o, &pw);
	if (ret == PAM_SUCCESS && !(l = calloc(1, sizeof(*l))))
		ret = PAM_BUF_ERR;
	if (ret == PAM_SUCCESS)
		ret = auth_outcome(pamh, &o, auth_login(pamh, &o, s, l, origin, user, pw), user,
		                   origin, &l);
	if (l) {
		rc_login_clear(l);
		free(l);
	}
	rc_store_close(s);
	return ret;
}

static int sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/* ---- account ----------------------------------------------------------------------- */

static int sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct opts o;
	rc_store *s = NULL;
	rc_account_req req;
	const char *user = NULL;
	char origin[64];
	int must_change = 0, ret, rc;

	ret = opts_read(pamh, flags, argc, argv, &o);
	if (ret != PAM_SUCCESS)
		return ret;
	if (use_helper(&o)) {
		if ((ret = user_get(pamh, &user)) != PAM_SUCCESS)
			return ret;
		return helper_account(pamh, &o, user);
	}
	ret = begin(pamh, PH_ACCOUNT, &o, &user, origin, &s);
	if (ret != PAM_SUCCESS)
		goto out;
	req.roles = o.roles[0] ? o.roles : NULL;
	req.perm = o.perm;
	rc = rc_login_account(s, login_get(pamh), origin, user, &req, &must_change);
	if (rc == RC_OK && must_change) {
		pam_syslog(pamh, LOG_NOTICE, "%s: %s must choose a new password (%s)", __func__,
		           user, origin);
		say(pamh, &o, PAM_TEXT_INFO, "You must choose a new password now.");
		ret = PAM_NEW_AUTHTOK_REQD;
	} else if (rc == RC_OK) {
		ret = PAM_SUCCESS;
	} else if (rc == RC_ERR_NOTFOUND) {
		ret = PAM_USER_UNKNOWN;
	} else {
		pam_syslog(pamh, LOG_NOTICE, "%s: %s refused: %s (%s)", __func__, user, rc_errmsg(),
		           origin);
		if (rc == RC_ERR_STATE || rc == RC_ERR_PERM || rc == RC_ERR_LOCKED)
			say(pamh, &o, PAM_ERROR_MSG, "%s", rc_errmsg());
		ret = pam_code(rc, PH_ACCOUNT);
	}
out:
	rc_store_close(s);
	return ret;
}

/* ---- password ----------------------------------------------------------------------- */

/* The update phase's old password (when NEED_OLD) and new password:
 * PAM_SUCCESS with both, or what the phase returns without them. */
static int chauthtok_tokens(pam_handle_t *pamh, int need_old, const char **old,
                            const char **newpw)
{
	int ret;

	if (need_old) {
		ret = pam_get_item(pamh, PAM_OLDAUTHTOK, (const void **)old);
		if (ret != PAM_SUCCESS || !*old) {
			ret = pam_get_authtok(pamh, PAM_OLDAUTHTOK, old, "Current password: ");
			if (ret != PAM_SUCCESS || !*old)
				return ret == PAM_SUCCESS ? PAM_AUTHTOK_ERR : ret;
		}
	}
	ret = pam_get_authtok(pamh, PAM_AUTHTOK, newpw, NULL);
	if (ret != PAM_SUCCESS || !*newpw)
		return ret == PAM_SUCCESS ? PAM_AUTHTOK_ERR : ret;
	return PAM_SUCCESS;
}

/* lib's password change, logged and told; PAM's code. */
/* The first line of what FD gives until its end (LEN bytes at most) in MSG. */
static void first_line(int fd, char *msg, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len && (n = read(fd, msg + got, len - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	msg[got] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
}

/* The tool run as root for a fleet host's password change: "rollcall
 * --config C --state-dir D --as USER passwd --password-stdin", the
 * current and new passwords on its standard input (never argv or the
 * environment), its first line of standard error kept in MSG.  Its exit
 * status, or -1. */
static int tool_passwd(const struct opts *o, const char *user, const char *old,
                       const char *newpw, char *msg, size_t msglen)
{
	static char a0[] = "rollcall", a_conf[] = "--config", a_sd[] = "--state-dir",
	            a_as[] = "--as", a_pw[] = "passwd", a_stdin[] = "--password-stdin";
	char *const argv[] = { a0, a_conf, (char *)(uintptr_t)o->config, a_sd,
	                       (char *)(uintptr_t)o->cfg.state_dir, a_as, (char *)(uintptr_t)user,
	                       a_pw, a_stdin, NULL };
	char *const envp[] = { NULL };
	struct sigaction dfl, prev;
	int in[2], err[2], status = -1;
	pid_t pid;

	msg[0] = '\0';
	/* a socket, not a pipe: written with MSG_NOSIGNAL (a tool gone before
	 * reading is EPIPE, never the application's SIGPIPE) */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
		return -1;
	if (pipe2(err, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	(void)sigaction(SIGCHLD, &dfl, &prev);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(in[0], STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		    dup2(err[1], STDERR_FILENO) < 0)
			_exit(127);
		closefrom(3);
		execve(o->tool, argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(err[1]);
	if (pid > 0) {
		(void)(write_all(in[1], old, strlen(old)) < 0 || write_all(in[1], "\n", 1) < 0 ||
		       write_all(in[1], newpw, strlen(newpw)) < 0 || write_all(in[1], "\n", 1) < 0);
		close(in[1]);
		first_line(err[0], msg, msglen);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	} else {
		close(in[1]);
	}
	close(err[0]);
	(void)sigaction(SIGCHLD, &prev, NULL);
	return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* On a host in a fleet the password is the directory's: a member's own
 * change, made with its current password, goes there through the tool
 * (bound as the member, all or nothing; rollcalld brings it back here);
 * the directory unreachable or refusing: not changed. */
static int fleet_chauthtok(pam_handle_t *pamh, const struct opts *o, const rc_login *l,
                           const char *origin, const char *user, const char *old,
                           const char *newpw)
{
	char msg[512];
	int st;

	if (!old || (l && l->done && (l->via == RC_VIA_INVITATION || l->via == RC_VIA_RESET))) {
		pam_syslog(pamh, LOG_NOTICE, "%s: password not changed for %s: no current password "
		           "(a host in a fleet) (%s)", __func__, user, origin);
		say(pamh, o, PAM_ERROR_MSG, "Password not changed: this host is in a fleet, where a "
		    "password is changed with the current one (an invitation or reset code is "
		    "accepted with \"rollcall member accept\")");
		return PAM_AUTHTOK_ERR;
	}
	if (strpbrk(old, "\r\n") || strpbrk(newpw, "\r\n")) {
		/* (the tool reads one per line: never a password cut in two) */
		say(pamh, o, PAM_ERROR_MSG, "Password not changed: password must not contain "
		    "control characters");
		(void)pam_set_item(pamh, PAM_AUTHTOK, NULL);
		return PAM_AUTHTOK_ERR;
	}
	st = tool_passwd(o, user, old, newpw, msg, sizeof(msg));
	if (st == 0) {
		pam_syslog(pamh, LOG_NOTICE, "%s: password changed for %s in the directory (%s)",
		           __func__, user, origin);
		return PAM_SUCCESS;
	}
	const char *why = strncmp(msg, "rollcall: ", 10) == 0 ? msg + 10 : msg;
	pam_syslog(pamh, LOG_NOTICE, "%s: password not changed for %s: %s (exit %d) (%s)",
	           __func__, user, why[0] ? why : "the tool failed", st, origin);
	say(pamh, o, PAM_ERROR_MSG, "Password not changed: %s", why[0] ? why :
	    "the directory could not be asked");
	(void)pam_set_item(pamh, PAM_AUTHTOK, NULL);
	return st == 4 ? PAM_AUTHINFO_UNAVAIL : PAM_AUTHTOK_ERR;
}

static int chauthtok_change(pam_handle_t *pamh, const struct opts *o, rc_store *s,
                            rc_login *l, const char *origin, const char *user,
                            const char *old, const char *newpw)
{
	if (rc_fleet_joined(o->cfg.state_dir))
		return fleet_chauthtok(pamh, o, l, origin, user, old, newpw);
	int rc = rc_login_chauthtok(s, l, origin, user, old, newpw);

	if (rc == RC_OK) {
		pam_syslog(pamh, LOG_NOTICE, "sm_chauthtok: password changed for %s (%s)", user,
		           origin);
		return PAM_SUCCESS;
	}
	pam_syslog(pamh, LOG_NOTICE, "sm_chauthtok: password not changed for %s: %s (%s)",
	           user, rc_errmsg(), origin);
	say(pamh, o, PAM_ERROR_MSG, "Password not changed: %s", rc_errmsg());
	/* forget the refused new password so that a retry asks again */
	(void)pam_set_item(pamh, PAM_AUTHTOK, NULL);
	return pam_code(rc, PH_PASSWD_CHANGE);
}

static int sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct opts o;
	rc_store *s = NULL;
	rc_login *l;
	const char *user = NULL, *old = NULL, *newpw = NULL;
	char origin[64];
	int kind = 0, need_old = 1, privileged, ret, rc;

	ret = opts_read(pamh, flags, argc, argv, &o);
	if (ret == PAM_SUCCESS)
		ret = begin(pamh, PH_PASSWD_CHECK, &o, &user, origin, &s);
	if (ret != PAM_SUCCESS)
		goto out;
	l = login_get(pamh);
	/* root changes a password without the old one, as with pam_unix, unless
	 * the change is forced at login (the user is there to type it) */
	privileged = caller_uid == 0 && !(flags & PAM_CHANGE_EXPIRED_AUTHTOK);
	rc = rc_login_chauthtok_check(s, l, user, privileged, &kind, &need_old);
	if (rc == RC_ERR_NOTFOUND) {
		ret = PAM_USER_UNKNOWN;
		goto out;
	}
	if (rc) {
		pam_syslog(pamh, LOG_NOTICE, "%s: %s: %s (%s)", __func__, user, rc_errmsg(), origin);
		say(pamh, &o, PAM_ERROR_MSG, "%s", rc_errmsg());
		ret = pam_code(rc, PH_PASSWD_CHECK);
		goto out;
	}
	if (flags & PAM_PRELIM_CHECK) {
		if (need_old) {
			ret = pam_get_authtok(pamh, PAM_OLDAUTHTOK, &old, "Current password: ");
			if (ret != PAM_SUCCESS)
				goto out;
		}
		ret = PAM_SUCCESS;
		goto out;
	}
	if (!(flags & PAM_UPDATE_AUTHTOK)) {
		ret = PAM_SERVICE_ERR;
		goto out;
	}
	ret = chauthtok_tokens(pamh, need_old, &old, &newpw);
	if (ret == PAM_SUCCESS)
		ret = chauthtok_change(pamh, &o, s, l, origin, user, need_old ? old : NULL, newpw);
out:
	rc_store_close(s);
	return ret;
}

/* ---- session ------------------------------------------------------------------------ */

static int sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct opts o;
	rc_store *s = NULL;
	const char *user = NULL;
	char origin[64], token[RC_TOKEN_LEN + 1] = "", id[RC_TOKEN_ID_LEN + 1] = "";
	char env[sizeof("ROLLCALL_TOKEN=") + RC_TOKEN_LEN];
	char *keep = NULL;
	int ret, rc;

	ret = opts_read(pamh, flags, argc, argv, &o);
	if (ret != PAM_SUCCESS || !o.session_token)
		goto out;
	ret = pam_get_user(pamh, &user, NULL);
	if (ret != PAM_SUCCESS || !user || !user[0]) {
		ret = PAM_SESSION_ERR;
		goto out;
	}
	origin_of(pamh, origin, sizeof(origin));
	if ((rc = store_get(pamh, &o, &s)) != RC_OK) {
		ret = PAM_SESSION_ERR;
		goto out;
	}
	rc = rc_login_session_open(s, origin, user, token, id);
	if (rc == RC_ERR_NOTFOUND) {
		ret = PAM_IGNORE;   /* not a rollcall user: no token to give */
		goto out;
	}
	if (rc) {
		pam_syslog(pamh, LOG_ERR, "%s: no session token for %s: %s", __func__, user,
		           rc_errmsg());
		ret = PAM_SESSION_ERR;
		goto out;
	}
	snprintf(env, sizeof(env), "ROLLCALL_TOKEN=%s", token);
	ret = pam_putenv(pamh, env);
	if (ret == PAM_SUCCESS && (keep = strdup(id)) != NULL &&
	    (ret = pam_set_data(pamh, DATA_SESSION, keep, string_cleanup)) == PAM_SUCCESS)
		keep = NULL;
	if (ret == PAM_SUCCESS)
		pam_syslog(pamh, LOG_INFO, "%s: session token %s for %s (%s)", __func__, id, user,
		           origin);
	else {
		(void)rc_login_session_close(s, origin, user, id);
		ret = PAM_SESSION_ERR;
	}
out:
	free(keep);
	sodium_memzero(token, sizeof(token));
	sodium_memzero(env, sizeof(env));
	rc_store_close(s);
	return ret;
}

static int sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct opts o;
	rc_store *s = NULL;
	const void *id = NULL;
	const char *user = NULL;
	char origin[64];
	int ret, rc;

	ret = opts_read(pamh, flags, argc, argv, &o);
	if (ret != PAM_SUCCESS || !o.session_token)
		goto out;
	if (pam_get_data(pamh, DATA_SESSION, &id) != PAM_SUCCESS || !id) {
		ret = PAM_SUCCESS;   /* no token was given in this handle */
		goto out;
	}
	ret = pam_get_user(pamh, &user, NULL);
	if (ret != PAM_SUCCESS || !user) {
		ret = PAM_SESSION_ERR;
		goto out;
	}
	origin_of(pamh, origin, sizeof(origin));
	if ((rc = store_get(pamh, &o, &s)) != RC_OK) {
		ret = PAM_SESSION_ERR;
		goto out;
	}
	rc = rc_login_session_close(s, origin, user, id);
	if (rc) {
		pam_syslog(pamh, LOG_ERR, "%s: session token of %s not revoked: %s", __func__,
		           user, rc_errmsg());
		ret = PAM_SESSION_ERR;
		goto out;
	}
	(void)pam_putenv(pamh, "ROLLCALL_TOKEN");
	(void)pam_set_data(pamh, DATA_SESSION, NULL, NULL);
	ret = PAM_SUCCESS;
out:
	rc_store_close(s);
	return ret;
}

/* ---- the PAM entry points: each with root's ids (see ids_take) ---------------------- */

#define ENTRY(name)                                                                        \
	PAM_EXPORT int pam_sm_##name(pam_handle_t *pamh, int flags, int argc, const char **argv) \
	{                                                                                  \
		struct ids id;                                                             \
		int ret;                                                                   \
		ids_take(&id);                                                             \
		ret = sm_##name(pamh, flags, argc, argv);                                  \
		ids_give_back(pamh, &id);                                                  \
		return ret;                                                                \
	}
ENTRY(authenticate)
ENTRY(setcred)
ENTRY(acct_mgmt)
ENTRY(chauthtok)
ENTRY(open_session)
ENTRY(close_session)
