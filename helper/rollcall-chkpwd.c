/*
 * rollcall-chkpwd.c - the setuid-root helper that verifies a password or
 * token for a PAM client that is not root (PostgreSQL, nginx's auth_pam
 * workers, a screen locker), in the manner of pam_unix's unix_chkpwd.
 *
 * pam_rollcall starts it with an empty environment and the user name as
 * its only argument, and writes on its standard input (a pipe, never a
 * terminal) the PAM service name on a line, then a request line:
 *   "tokens=allow" or "tokens=deny", then the secret up to the end of
 *     input: the first factor, then the account (auth);
 *   "account" with optional words "via=token", "roles=LIST" and
 *     "permission=LIST", and nothing after: the account alone (account,
 *     for roles= and permission=, which the auth request does not know).
 * With the single argument "--serve" it answers such requests, framed, on
 * a socket until its end (see rollcall-chkpwd.h), keeping the store open:
 * pam_rollcall starts it once per process.
 * The caller is the real uid.  Each request is checked against the
 * caller's allowance first (rc_caller_claim); whether
 * the caller may have this user's credentials verified is lib's rule
 * (rc_caller_may_verify), and a refusal costs what an unknown user does;
 * then the same login as a root caller's runs (lockout, audit and the cost
 * of an unknown user), and the account checks.  The answer is the exit
 * status alone (see rollcall-chkpwd.h); what happened goes to syslog.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
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

/* Wait until standard input can be read, at most until DEADLINE (a
 * CLOCK_MONOTONIC time in ms).  1 ready, 0 the time is over, -1 error. */
static int wait_input(int64_t deadline)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	struct timespec now;
	int pr;

	do {
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t left = deadline - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
		if (left <= 0)
			return 0;
		pr = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
	} while (pr < 0 && errno == EINTR);
	return pr < 0 ? -1 : pr > 0;
}

static int64_t after_ms(int64_t ms)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + ms;
}

/* The whole input, at most LEN - 1 bytes kept (the rest is read and
 * dropped), NUL-terminated, all of it within RC_CHKPWD_READ_S seconds.
 * -1 on a read error or when the time is over. */
static int read_all(char *buf, size_t len, size_t *got)
{
	int64_t deadline = after_ms(RC_CHKPWD_READ_S * 1000);
	size_t n = 0;
	char sink[256];
	int rc = 0;

	for (;;) {
		if (wait_input(deadline) != 1) {
			rc = -1;
			break;
		}
		ssize_t r = n + 1 < len ? read(STDIN_FILENO, buf + n, len - 1 - n)
		                        : read(STDIN_FILENO, sink, sizeof(sink));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = -1;
		if (r <= 0)
			break;
		if (n + 1 < len)
			n += (size_t)r;
	}
	sodium_memzero(sink, sizeof(sink));
	buf[n] = '\0';
	*got = n;
	return rc;
}

/* A slot among caller_helpers for this caller's helper, held (a lock on a
 * file of the state directory's "callers") until it ends: a caller cannot
 * keep more helpers than that waiting on input, which would be root's
 * processes, out of its own process limit.  0, or -1: none free. */
static int take_slot(const rc_config *cfg, uid_t caller)
{
	char path[RC_PATH_MAX + 16], name[48];
	struct stat st;
	int dir, fd;

	if (caller == 0 || cfg->caller_helpers == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/callers", cfg->state_dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0 || fstat(dir, &st) < 0 || st.st_uid != 0 || (st.st_mode & 0077)) {
		if (dir >= 0)
			close(dir);
		return -1;
	}
	for (uint32_t i = 0; i < cfg->caller_helpers; i++) {
		snprintf(name, sizeof(name), "%u.%u", (unsigned)caller,
		         (unsigned)(((uint32_t)getpid() + i) % cfg->caller_helpers));
		fd = openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
			close(dir);
			return 0;   /* kept open, and locked, until the helper ends */
		}
		if (fd >= 0)
			close(fd);
	}
	close(dir);
	return -1;
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

struct request {
	char *service;
	bool account;           /* the account alone */
	unsigned lflags;        /* auth: RC_LOGIN_NO_TOKENS */
	bool via_token;         /* account: the auth was a token's */
	char roles[256];        /* account: roles=, "" when none */
	uint32_t perm;          /* account: permission=, 0 when none */
	char *secret;           /* auth */
};

/* The request line's words (see the top of this file).  0, or -1. */
static int parse_words(char *line, struct request *r)
{
	char *save = NULL;
	bool tokens = false;

	for (char *w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (strcmp(w, "tokens=allow") == 0 || strcmp(w, "tokens=deny") == 0) {
			tokens = true;
			r->lflags = w[7] == 'd' ? RC_LOGIN_NO_TOKENS : 0;
		} else if (strcmp(w, "account") == 0) {
			r->account = true;
		} else if (strcmp(w, "via=token") == 0) {
			r->via_token = true;
		} else if (strncmp(w, "roles=", 6) == 0 && w[6] && strlen(w + 6) < sizeof(r->roles)) {
			snprintf(r->roles, sizeof(r->roles), "%s", w + 6);
		} else if (strncmp(w, "permission=", 11) == 0) {
			if (rc_perms_parse(w + 11, &r->perm) != RC_OK || !r->perm)
				return -1;
		} else {
			return -1;
		}
	}
	/* an auth request names its tokens option and nothing else */
	if (r->account ? tokens : (!tokens || r->via_token || r->roles[0] || r->perm))
		return -1;
	return 0;
}

static int parse(char *in, struct request *r)
{
	char *nl, *words;

	memset(r, 0, sizeof(*r));
	if (!(nl = strchr(in, '\n')))
		return -1;
	*nl = '\0';
	r->service = in;
	words = nl + 1;
	if (!(nl = strchr(words, '\n')))
		return -1;
	*nl = '\0';
	r->secret = nl + 1;
	if (!valid_service(r->service) || parse_words(words, r) < 0)
		return -1;
	return r->account && r->secret[0] ? -1 : 0;
}

/* lib's refusal of an account to the helper's status */
static int account_status(int rc)
{
	switch (rc) {
	case RC_ERR_NOTFOUND: return RC_CHKPWD_UNKNOWN;
	case RC_ERR_LOCKED: return RC_CHKPWD_LOCKED;
	case RC_ERR_PERM: return RC_CHKPWD_DENIED;
	case RC_ERR_STATE: return RC_CHKPWD_EXPIRED;
	case RC_ERR_AUTH: return RC_CHKPWD_NO;
	default: return RC_CHKPWD_UNAVAIL;
	}
}

/* The account alone (roles=, permission=), for the PAM account phase. */
static int check_account(rc_store *s, const struct request *r, const char *origin,
                         const char *user)
{
	rc_account_req req = { .roles = r->roles[0] ? r->roles : NULL, .perm = r->perm };
	rc_login l;
	int must_change = 0, rc;

	/* a token's login is not stopped by a password lockout (the caller
	 * says how its own authentication went: its own decision is all it
	 * can change) */
	memset(&l, 0, sizeof(l));
	l.done = r->via_token;
	l.via = RC_VIA_TOKEN;
	snprintf(l.user, sizeof(l.user), "%s", user);
	rc = rc_login_account(s, &l, origin, user, &req, &must_change);
	rc_login_clear(&l);
	if (rc) {
		syslog(LOG_NOTICE, "account refused for %s: %s (%s)", user, rc_errmsg(), origin);
		return account_status(rc);
	}
	if (must_change) {
		syslog(LOG_NOTICE, "account of %s: a new password is required (%s)", user, origin);
		return RC_CHKPWD_NEW_AUTHTOK;
	}
	return RC_CHKPWD_YES;
}

/* The first factor, then the account. */
static int check_auth(rc_store *s, const struct request *r, const char *origin,
                      const char *user)
{
	rc_login l;
	int must_change = 0, status, rc;

	rc = rc_login_begin(s, &l, origin, user, r->secret, r->lflags);
	if (rc == RC_OK && (!l.done || (l.via != RC_VIA_PASSWORD && l.via != RC_VIA_TOKEN))) {
		/* a second factor or a new password is wanted: the helper
		 * answers for the first factor alone */
		syslog(LOG_NOTICE, "%s: %s needs %s, which this application cannot ask for "
		       "through the helper (%s)", "authentication failure", user,
		       l.need_totp || l.need_enroll ? "a second factor" : "a new password", origin);
		status = RC_CHKPWD_NO;
	} else if (rc == RC_OK) {
		rc = rc_login_account(s, &l, origin, user, NULL, &must_change);
		if (rc || must_change) {
			syslog(LOG_NOTICE, "account refused for %s: %s (%s)", user,
			       rc ? rc_errmsg() : "a new password is required", origin);
			status = rc == RC_ERR_STORE || rc == RC_ERR_NOMEM ? RC_CHKPWD_UNAVAIL
			       : rc == RC_ERR_LOCKED ? RC_CHKPWD_LOCKED : RC_CHKPWD_NO;
		} else {
			syslog(LOG_INFO, "%s authenticated by %s (%s)", user, rc_via_name(l.via),
			       origin);
			status = l.via == RC_VIA_TOKEN ? RC_CHKPWD_YES_TOKEN : RC_CHKPWD_YES;
		}
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
		status = RC_CHKPWD_UNAVAIL;
	}
	rc_login_clear(&l);
	return status;
}

/* The configuration and the store, kept open between the requests of
 * the serving mode; opened again when rollcall.conf changes. */
struct ctx {
	uid_t caller;
	rc_config cfg;
	rc_store *s;
	struct stat conf;      /* rollcall.conf when the store was opened */
	bool has_conf;
	struct stat data;      /* and the store's data.mdb */
};

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The store's data file under the state directory of C's configuration. */
static int data_stat(const struct ctx *c, struct stat *st)
{
	char path[RC_PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/store/data.mdb", c->cfg.state_dir);
	return stat(path, st);
}

/* The store, opened again when rollcall.conf changed or the store was
 * replaced (a restore) since it was opened. */
static int ctx_store(struct ctx *c, const char *origin)
{
	struct stat st, data;
	bool has = stat(RC_DEFAULT_CONFIG, &st) == 0;
	int rc;

	if (c->s && has == c->has_conf && (!has || same_file(&st, &c->conf)) &&
	    data_stat(c, &data) == 0 && data.st_dev == c->data.st_dev &&
	    data.st_ino == c->data.st_ino)
		return RC_OK;
	rc_store_close(c->s);
	c->s = NULL;
	rc_config_defaults(&c->cfg);
	if ((rc = rc_config_load(&c->cfg, RC_DEFAULT_CONFIG, 0)) != RC_OK ||
	    (rc = rc_store_open(&c->s, &c->cfg, 0)) != RC_OK) {
		syslog(LOG_ERR, "store unavailable: %s (%s)", rc_errmsg(), origin);
		return rc;
	}
	c->conf = st;
	c->has_conf = has;
	if (data_stat(c, &c->data) < 0)
		memset(&c->data, 0, sizeof(c->data));
	return RC_OK;
}

/* One request: IN is "SERVICE\nREQUEST-LINE\nSECRET" (changed in place).
 * What is slow to check (a password) is counted against the caller's
 * allowance before it is checked; what is cheap, after a refusal. */
static int answer(struct ctx *c, const char *user, char *in)
{
	struct request r;
	char origin[64];
	bool slow;
	int status = RC_CHKPWD_UNAVAIL, rc;

	if (parse(in, &r) < 0) {
		syslog(LOG_ERR, "malformed request from uid %u: refused", (unsigned)c->caller);
		return RC_CHKPWD_MALFORMED;
	}
	snprintf(origin, sizeof(origin), "pam:%.16s via helper, uid %u", r.service,
	         (unsigned)c->caller);
	if (ctx_store(c, origin) != RC_OK)
		return RC_CHKPWD_UNAVAIL;
	slow = !r.account && ((r.lflags & RC_LOGIN_NO_TOKENS) || !rc_looks_like_token(r.secret));
	rc = rc_caller_claim(c->s, origin, c->caller, slow);
	if (rc == RC_ERR_LOCKED) {
		syslog(LOG_WARNING, "%s (%s)", rc_errmsg(), origin);
		return RC_CHKPWD_LIMITED;
	}
	if (!rc)
		rc = rc_caller_may_verify(c->s, origin, c->caller, user);
	if (rc == RC_ERR_PERM) {
		syslog(LOG_WARNING, "refused: %s (%s)", rc_errmsg(), origin);
		if (!r.account)   /* as long as an unknown user's refusal */
			rc_login_spend(c->s, r.secret, r.lflags);
		status = RC_CHKPWD_NOT_ALLOWED;
	} else if (rc) {
		syslog(LOG_ERR, "%s (%s)", rc_errmsg(), origin);
	} else {
		status = r.account ? check_account(c->s, &r, origin, user)
		                   : check_auth(c->s, &r, origin, user);
	}
	if (status == RC_CHKPWD_YES || status == RC_CHKPWD_YES_TOKEN) {
		if (slow)
			rc_caller_release(c->s, c->caller);
	} else if (!slow && status != RC_CHKPWD_UNAVAIL) {
		rc_caller_count(c->s, c->caller);
	}
	if (status == RC_CHKPWD_UNAVAIL) {   /* the next request opens it again */
		rc_store_close(c->s);
		c->s = NULL;
	}
	return status;
}

/* Exactly N bytes from standard input, by DEADLINE; 0, or -1 (end, error,
 * or the time is over). */
static int read_exact(void *buf, size_t n, int64_t deadline)
{
	size_t got = 0;

	while (got < n) {
		if (wait_input(deadline) != 1)
			return -1;
		ssize_t r = read(STDIN_FILENO, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* The serving mode: requests on a socket until its end.  0 when served
 * (whatever the answers), else the status to exit with. */
static int serve(struct ctx *c)
{
	static char frame[RC_CHKPWD_FRAME_MAX + 1];
	struct stat st;
	uint32_t len;

	if (fstat(STDIN_FILENO, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		syslog(LOG_NOTICE, "serving mode started by uid %u without a socket: refused",
		       (unsigned)c->caller);
		return RC_CHKPWD_UNAVAIL;
	}
	/* one request at a time, each whole within RC_CHKPWD_READ_S seconds
	 * of its start, at most RC_CHKPWD_IDLE_S seconds apart, for at most
	 * RC_CHKPWD_LIFE_S seconds in all; a malformed one ends it */
	int64_t end_of_life = after_ms(RC_CHKPWD_LIFE_S * 1000);
	while (after_ms(0) < end_of_life &&
	       read_exact(&len, sizeof(len), after_ms(RC_CHKPWD_IDLE_S * 1000)) == 0) {
		char *nl;
		unsigned char status;
		if (len == 0 || len > RC_CHKPWD_FRAME_MAX ||
		    read_exact(frame, len, after_ms(RC_CHKPWD_READ_S * 1000)) < 0)
			break;
		frame[len] = '\0';
		if (strlen(frame) != len || !(nl = strchr(frame, '\n')) || nl == frame) {
			syslog(LOG_ERR, "malformed request from uid %u: refused", (unsigned)c->caller);
			break;
		}
		*nl = '\0';
		status = (unsigned char)answer(c, frame, nl + 1);
		sodium_memzero(frame, sizeof(frame));
		bool last = status == RC_CHKPWD_MALFORMED;
		if (last)
			status = RC_CHKPWD_UNAVAIL;
		if (write(STDIN_FILENO, &status, 1) != 1 || last)
			break;
	}
	sodium_memzero(frame, sizeof(frame));
	return 0;
}

int main(int argc, char **argv)
{
	/* service, the request line, the secret (a token is 85 bytes; a
	 * password longer than RC_PASSWORD_MAX is refused by lib, and counted) */
	static char in[SERVICE_MAX + 320 + RC_PASSWORD_MAX + 4];
	static const int deaf[] = { SIGTSTP, SIGTTIN, SIGTTOU, SIGINT, SIGQUIT, SIGHUP };
	struct ctx c = { .caller = getuid() };
	size_t got = 0;
	int status = RC_CHKPWD_UNAVAIL;

	sanitize_fds();
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	clearenv();
	openlog("rollcall-chkpwd", LOG_PID, LOG_AUTHPRIV);
	if (geteuid() != 0 || rc_privileges_root() < 0) {
		syslog(LOG_ERR, "not installed setuid root, or cannot take root's ids "
		       "(uid %u)", (unsigned)c.caller);
		return RC_CHKPWD_UNAVAIL;
	}
	/* out of the caller's session and deaf to its terminal: ^Z would stop
	 * root's process, perhaps while it holds the store's write lock */
	(void)setsid();
	for (size_t i = 0; i < sizeof(deaf) / sizeof(deaf[0]); i++)
		signal(deaf[i], SIG_IGN);
	if (argc != 2 || !argv[1] || !argv[1][0] || isatty(STDIN_FILENO)) {
		syslog(LOG_NOTICE, "started by uid %u other than by pam_rollcall: refused",
		       (unsigned)c.caller);
		fprintf(stderr, "rollcall-chkpwd: for pam_rollcall only (see pam_rollcall(8))\n");
		return RC_CHKPWD_UNAVAIL;
	}
	rc_config_defaults(&c.cfg);
	if (rc_config_load(&c.cfg, RC_DEFAULT_CONFIG, 0) != RC_OK) {
		syslog(LOG_ERR, "%s", rc_errmsg());
		return RC_CHKPWD_UNAVAIL;
	}
	if (take_slot(&c.cfg, c.caller) < 0) {
		syslog(LOG_WARNING, "uid %u has caller_helpers (%u) helpers running already: "
		       "refused", (unsigned)c.caller, (unsigned)c.cfg.caller_helpers);
		return RC_CHKPWD_LIMITED;
	}
	if (strcmp(argv[1], RC_CHKPWD_SERVE) == 0) {
		status = serve(&c);
	} else if (read_all(in, sizeof(in), &got) < 0 || strlen(in) != got) {
		/* a secret cut short by the buffer is longer than
		 * RC_PASSWORD_MAX still (the service name and the request line
		 * take less than its margin): refused by lib, and counted */
		syslog(LOG_ERR, "malformed request from uid %u: refused", (unsigned)c.caller);
	} else {
		status = answer(&c, argv[1], in);
		if (status == RC_CHKPWD_MALFORMED)
			status = RC_CHKPWD_UNAVAIL;
	}
	sodium_memzero(in, sizeof(in));
	rc_store_close(c.s);
	closelog();
	return status;
}
