/*
 * main.c - the rollcall command: global options, privilege handling and
 * dispatch to the subcommands.
 *
 * rollcall may be installed setuid root like passwd(1).  Then the caller is
 * the real uid, the environment is cleaned, and --state-dir, --config and
 * ROLLCALL_STATE_DIR are refused: only root may point it elsewhere.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "cli.h"

static const char usage_text[] =
"Usage: rollcall [--state-dir DIR] [--config FILE] [--json] [--as NAME]\n"
"                [--bind-password-file FILE] COMMAND [ARGS]\n"
"\n"
"Project members, roles, invitations, services and service users of this host.\n"
"\n"
"Commands:\n"
"  init --owner EMAIL [--username NAME]   create the store (root only)\n"
"  status                                 store and configuration summary\n"
"  doctor                                 check this host's set-up (root only)\n"
"  whoami                                 your member record and permissions\n"
"  member list|show|invite|withdraw|resend|accept|set-role|update|\n"
"         activate|deactivate|delete|reset-password|unlock|mfa-reset|import\n"
"  role list|show|create|delete\n"
"  service list|show|create|start|stop|delete\n"
"  service-user list|create|update-password|set|show-password|delete SERVICE [USER]\n"
"  passwd [--password-stdin]             change your password\n"
"  mfa status|enable|confirm|disable      your two-factor authentication\n"
"  token list|generate|revoke|revoke-all  authentication tokens\n"
"  billing show|set\n"
"  settings show|get|set\n"
"  audit [--since DURATION] [--limit N]\n"
"  notification list|create|update|delete|send   email addresses subscribed to events\n"
"  fleet provider-config|provider-init|export|host-add|join|status\n"
"                                    one membership on many hosts (OpenLDAP)\n"
"  mail-template show|check             the mails' templates (root only)\n"
"\n"
"Options:\n"
"  --state-dir DIR   use DIR as the state directory (root only when setuid)\n"
"  --config FILE     read FILE instead of " RC_DEFAULT_CONFIG "\n"
"  --json            print one JSON document on standard output\n"
"  --as NAME         on a host in a fleet, root makes its changes as member NAME\n"
"                    (checked with NAME's rights; the directory binds as NAME)\n"
"  --bind-password-file FILE   the directory password (on a host in a fleet) from\n"
"                    FILE, a file of yours mode 0600, instead of the terminal\n"
"  -h, --help        show help (also after any command)\n"
"  --version         show the version\n"
"\n"
"Exit status: 0 done, 1 refused, 2 usage, 3 permission denied,\n"
"4 store unavailable or damaged, or the fleet's directory unreachable.\n"
"See rollcall(8).\n";

/* "rollcall: MESSAGE" and TAIL on standard error. */
static void say(const char *tail, const char *fmt, va_list ap)
{
	fputs("rollcall: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(tail, stderr);
}

int cli_error(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("\n", fmt, ap);
	va_end(ap);
	return status;
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(" (see --help)\n", fmt, ap);
	va_end(ap);
	return EX_USAGE;
}

/* The state directory in use, for errors that do not name it. */
static char error_state_dir[RC_PATH_MAX];

int cli_fail(int rc)
{
	int status;

	switch (rc) {
	case RC_OK: return EX_DONE;
	case RC_ERR_PERM: case RC_ERR_AUTH: case RC_ERR_LOCKED: status = EX_PERM; break;
	case RC_ERR_STORE: case RC_ERR_NOMEM: case RC_ERR_FULL: case RC_ERR_SCHEMA:
	case RC_ERR_CONFIG:
		status = EX_STORE;
		break;
	default: status = EX_REFUSED; break;
	}
	/* The input lib names: the options that give it. */
	if (rc_errfield()) {
		char hint[128] = "";
		const char *f = rc_errfield();
		size_t o = 0;
		while (*f && o + 8 < sizeof(hint)) {
			size_t n = strcspn(f, ",");
			o += (size_t)snprintf(hint + o, sizeof(hint) - o, "%s--", o ? " or " : "");
			for (size_t i = 0; i < n && o + 2 < sizeof(hint); i++)
				hint[o++] = f[i] == '_' ? '-' : f[i];
			hint[o] = '\0';
			f += n + (f[n] == ',');
		}
		return cli_error(status, "%s (%s)", rc_errmsg(), hint);
	}
	/* A damaged store: say which one, when lib's message does not. */
	if ((rc == RC_ERR_STORE || rc == RC_ERR_FULL || rc == RC_ERR_SCHEMA) &&
	    error_state_dir[0] && !strstr(rc_errmsg(), error_state_dir))
		return cli_error(status, "%s (state directory %s)", rc_errmsg(), error_state_dir);
	return cli_error(status, "%s", rc_errmsg());
}

bool cli_want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

int cli_open(struct cli *c)
{
	const char *cfgpath = c->config;
	const char *env;
	int rc;

	rc_config_defaults(&c->cfg);
	if (!cfgpath && !c->privileged && (env = secure_getenv("ROLLCALL_CONFIG")) && *env)
		cfgpath = env;
	rc = rc_config_load(&c->cfg, cfgpath ? cfgpath : RC_DEFAULT_CONFIG, cfgpath != NULL);
	if (rc)
		return cli_fail(rc);
	if (c->state_dir)
		snprintf(c->cfg.state_dir, sizeof(c->cfg.state_dir), "%s", c->state_dir);
	else if (!c->privileged && (env = secure_getenv("ROLLCALL_STATE_DIR")) && *env)
		snprintf(c->cfg.state_dir, sizeof(c->cfg.state_dir), "%s", env);
	if (c->cfg.state_dir[0] != '/')
		return cli_error(EX_USAGE, "state directory \"%s\" is not an absolute path",
		                 c->cfg.state_dir);
	return EX_DONE;
}

void cli_close(struct cli *c)
{
	rc_store_close(c->s);
	c->s = NULL;
}

static int store_open(struct cli *c)
{
	int st = cli_open(c);
	if (st)
		return st;
	snprintf(error_state_dir, sizeof(error_state_dir), "%s", c->cfg.state_dir);
	int rc = rc_store_open(&c->s, &c->cfg, 0);
	if (rc)
		return cli_fail(rc);
	return EX_DONE;
}

/* ---- secrets from the terminal or stdin --------------------------------- */

static int read_line(FILE *f, char *buf, size_t len)
{
	size_t n = 0;
	int ch;

	rc_slow_work("reading standard input");
	while ((ch = fgetc(f)) != EOF && ch != '\n') {
		if (ch == '\0' || n + 1 >= len) {
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			sodium_memzero(buf, len);
			return -1;
		}
		buf[n++] = (char)ch;
	}
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (ch == EOF && n == 0) ? -2 : 0;
}

static int tty_read(const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	FILE *tty;
	int r;

	rc_slow_work("a terminal prompt");
	tty = fopen("/dev/tty", "r+e");
	if (!tty)
		return -3;
	setvbuf(tty, NULL, _IONBF, 0);   /* no copy of the secret in a stdio buffer */
	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	r = read_line(tty, buf, len);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	return r;
}

int cli_tty_secret(const char *prompt, char *buf, size_t len)
{
	int r;

	if (!isatty(STDIN_FILENO) && access("/dev/tty", R_OK) != 0)
		return -1;
	r = tty_read(prompt, buf, len);
	if (r == -3)
		return -1;
	if (r == -1)
		return cli_error(EX_REFUSED, "too long (%zu bytes at most)", len - 2);
	if (!buf[0])
		return cli_error(EX_USAGE, "empty password");
	return EX_DONE;
}

/* Secrets kept for a command run again (cli_secret_replay). */
static struct { char *buf; size_t len; int st; } replay[8];
static int replay_n, replay_i;
static bool replay_on;

void cli_secret_replay(bool on)
{
	for (int i = 0; i < replay_n; i++)
		sodium_free(replay[i].buf);
	replay_n = replay_i = 0;
	replay_on = on;
}

void cli_secret_rewind(void)
{
	replay_i = 0;
}

static int read_secret(bool from_stdin, const char *what, const char *prompt, bool confirm,
                       bool empty_ok, char *buf, size_t len);

int cli_read_secret(bool from_stdin, const char *what, const char *prompt, bool confirm,
                    bool empty_ok, char *buf, size_t len)
{
	int st;

	if (replay_on && replay_i < replay_n) {
		if (replay[replay_i].len != len)
			return cli_error(EX_STORE, "a secret asked differently the second time");
		memcpy(buf, replay[replay_i].buf, len);
		return replay[replay_i++].st;
	}
	st = read_secret(from_stdin, what, prompt, confirm, empty_ok, buf, len);
	if (replay_on && replay_n < 8 && (replay[replay_n].buf = sodium_malloc(len))) {
		memcpy(replay[replay_n].buf, buf, len);
		replay[replay_n].len = len;
		replay[replay_n].st = st;
		replay_n++;
		replay_i = replay_n;
	}
	return st;
}

static int read_secret(bool from_stdin, const char *what, const char *prompt, bool confirm,
                       bool empty_ok, char *buf, size_t len)
{
	char again[RC_PASSWORD_MAX + 2];
	int r;

	if (from_stdin) {
		r = read_line(stdin, buf, len);
		if (r == -1)
			return cli_error(EX_REFUSED, "%s on standard input is too long (%zu bytes "
			                 "at most) or has a NUL byte", what, len - 2);
		if (r == -2 || (!buf[0] && !empty_ok)) {
			sodium_memzero(buf, len);
			return cli_error(EX_USAGE, "no %s on standard input", what);
		}
		return EX_DONE;
	}
	if (!isatty(STDIN_FILENO))
		return -1;   /* caller decides: generate, or ask for --password-stdin */
	r = tty_read(prompt, buf, len);
	if (r == -3)
		return -1;
	if (r == -1)
		return cli_error(EX_REFUSED, "%s too long (%zu bytes at most)", what, len - 2);
	if (!buf[0])
		return empty_ok ? EX_DONE : cli_error(EX_USAGE, "empty %s", what);
	if (confirm) {
		r = tty_read("Retype it: ", again, sizeof(again));
		size_t n = strlen(buf);
		bool same = r == 0 && strlen(again) == n && sodium_memcmp(again, buf, n) == 0;
		sodium_memzero(again, sizeof(again));
		if (!same) {
			sodium_memzero(buf, len);
			return cli_error(EX_REFUSED, "the passwords do not match; nothing was changed");
		}
	}
	return EX_DONE;
}

int cli_secret_on_argv(const char *command, const char *what, const char *how)
{
	return cli_error(EX_USAGE, "%s takes no %s on the command line, where every local user "
	                 "can read it: %s", command, what, how);
}

/* ---- files read for the caller ----------------------------------------- */

/* Open PATH with the caller's file-system ids and groups, never root's: a
 * setuid tool reads for its caller only what the caller may read itself
 * (setfsuid/setfsgid: no signal or ptrace right changes meanwhile). */
int cli_open_as_caller(struct cli *c, const char *path, int flags)
{
	int fd, e;

	flags |= O_RDONLY | O_CLOEXEC | O_NOCTTY;
	if (c->caller_ngroups < 0)   /* not setuid root: the process is the caller */
		return open(path, flags);
	if (setgroups((size_t)c->caller_ngroups, c->caller_groups) < 0)
		return -1;
	setfsgid(c->caller_gid);
	setfsuid(c->real_uid);
	if ((uid_t)setfsuid((uid_t)-1) != c->real_uid || (gid_t)setfsgid((gid_t)-1) != c->caller_gid) {
		e = EPERM;
		fd = -1;
	} else {
		fd = open(path, flags);
		e = errno;
	}
	setfsuid(0);
	setfsgid(0);
	if (setgroups(0, NULL) < 0 || setfsuid((uid_t)-1) != 0 || setfsgid((gid_t)-1) != 0)
		_exit(EX_STORE);   /* cannot be root again: stop before anything */
	errno = e;
	return fd;
}

/* Standard input as read the first time ("-"): a command run again (a
 * conflict on a fleet host, cli_fleet_run) reads the same again. */
static struct { char *buf; size_t len; bool read; } stdin_kept;

static int stdin_again(char **buf, size_t *len)
{
	if (!(*buf = malloc(stdin_kept.len + 1)))
		return cli_error(EX_STORE, "out of memory");
	memcpy(*buf, stdin_kept.buf, stdin_kept.len + 1);
	*len = stdin_kept.len;
	return EX_DONE;
}

static int read_caller_fd(struct cli *c, const char *path, char **buf, size_t *len);

int cli_read_caller_file(struct cli *c, const char *path, char **buf, size_t *len)
{
	bool is_stdin = strcmp(path, "-") == 0;
	int st;

	*buf = NULL;
	*len = 0;
	if (is_stdin && stdin_kept.read)
		return stdin_again(buf, len);
	st = read_caller_fd(c, path, buf, len);
	if (st == EX_DONE && is_stdin) {
		if (!(stdin_kept.buf = malloc(*len + 1))) {
			free(*buf);
			*buf = NULL;
			*len = 0;
			return cli_error(EX_STORE, "out of memory");
		}
		memcpy(stdin_kept.buf, *buf, *len + 1);
		stdin_kept.len = *len;
		stdin_kept.read = true;
	}
	return st;
}

static int read_caller_fd(struct cli *c, const char *path, char **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *b;
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : cli_open_as_caller(c, path, 0);

	if (fd < 0)
		return cli_error(EX_REFUSED, "cannot open %s: %s", path, strerror(errno));
	rc_slow_work("reading a file");
	if (!(b = malloc(cap))) {
		if (fd != STDIN_FILENO)
			close(fd);
		return cli_error(EX_STORE, "out of memory");
	}
	for (;;) {
		if (n + 1 >= cap) {
			char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
			if (!nb) {
				free(b);
				if (fd != STDIN_FILENO)
					close(fd);
				return cli_error(EX_STORE, "out of memory reading %s", path);
			}
			b = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(b);
			if (fd != STDIN_FILENO)
				close(fd);
			return cli_error(EX_REFUSED, "cannot read %s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return EX_DONE;
}

/* ---- mail --------------------------------------------------------------- */

int cli_mail_template(struct cli *c, int kind, rc_mail_template **t)
{
	*t = NULL;
	if (!c->cfg.mail_command[0])
		return EX_DONE;
	return cli_fail(rc_mail_template_load(&c->cfg, kind, t));
}

/* The mail command's process: the caller's privileges, never root's, and
 * the message's pipe on its standard input. */
static void mail_child(const struct cli *c, int in, char **argv)
{
	if ((c->caller_ngroups >= 0 &&
	     setgroups((size_t)c->caller_ngroups, c->caller_groups) < 0) ||
	    setresgid(c->caller_gid, c->caller_gid, c->caller_gid) < 0 ||
	    setresuid(c->real_uid, c->real_uid, c->real_uid) < 0 ||
	    (c->real_uid != 0 && (setuid(0) == 0 || geteuid() == 0)))
		_exit(126);
	dup2(in, STDIN_FILENO);
	execv(argv[0], argv);
	_exit(127);
}

/* Write LEN bytes of BUF to FD: how many were written (fewer when the
 * reader went away). */
static size_t write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	return off;
}

/* Run the mail command as the caller with MSG on its standard input: 0, -1
 * (no command) or 1 with the reason in ERR. */
static int mail_run(struct cli *c, const char *msg, size_t len, char *err, size_t errlen)
{
	char cmd[RC_PATH_MAX];
	char *argv[32];
	size_t off = 0;
	int n = 0, pipefd[2], status;
	pid_t pid;

	rc_slow_work("the mail command");
	snprintf(cmd, sizeof(cmd), "%s", c->cfg.mail_command);
	for (char *tok = strtok(cmd, " \t"); tok && n < 31; tok = strtok(NULL, " \t"))
		argv[n++] = tok;
	argv[n] = NULL;
	if (n == 0)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return 1;
	}
	if (pid == 0)
		mail_child(c, pipefd[0], argv);
	close(pipefd[0]);
	/* The message on its standard input (a code is never on argv). */
	off = write_all(pipefd[1], msg, len);
	close(pipefd[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "the mail command %s failed (status %d)", argv[0],
		         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return 1;
	}
	if (off < len) {
		snprintf(err, errlen, "the mail command %s did not read the whole message",
		         argv[0]);
		return 1;
	}
	return 0;
}

/* Mails held until the directory took the change (fleetrun.c). */
static struct { char *msg; size_t len; } deferred[16];
static size_t ndeferred;

void cli_mail_flush(struct cli *c, bool send)
{
	char err[RC_PATH_MAX + 128];

	for (size_t i = 0; i < ndeferred; i++) {
		if (send && mail_run(c, deferred[i].msg, deferred[i].len, err, sizeof(err)) > 0)
			cli_error(EX_REFUSED, "%s", err);
		rc_mail_free(deferred[i].msg, deferred[i].len);
	}
	ndeferred = 0;
}

int cli_mail_code(struct cli *c, const rc_mail_template *t, const rc_code_result *r)
{
	char *msg = NULL, err[RC_PATH_MAX + 128];
	size_t len = 0;
	int rc;
	rc_identity self;
	rc_mail_info info = { .code = r, .now = rc_store_now(c->s) };

	/* Who sends it: the calling member, or root (a read, after the change
	 * was committed). */
	if (c->actor.uid != 0 && rc_whoami(c->s, &c->actor, &self) == RC_OK) {
		info.inviter_name = self.full_name[0] ? self.full_name : self.username;
		info.inviter_email = self.email;
	}
	rc = rc_mail_compose(&c->cfg, t, &info, &msg, &len);
	if (rc) {
		cli_fail(rc);
		return EX_REFUSED;
	}
	if (c->mail_defer) {
		if (ndeferred == sizeof(deferred) / sizeof(deferred[0])) {
			rc_mail_free(msg, len);
			return cli_error(EX_REFUSED, "too many mails in one command");
		}
		deferred[ndeferred].msg = msg;
		deferred[ndeferred++].len = len;
		return EX_DONE;
	}
	rc = mail_run(c, msg, len, err, sizeof(err));
	rc_mail_free(msg, len);
	if (rc > 0)
		return cli_error(EX_REFUSED, "%s", err);
	return rc;
}

int cli_notify_deliver(struct cli *c, bool all, size_t *sent, size_t *failed)
{
	rc_notice *list = NULL;
	size_t n = 0;
	int rc;

	*sent = *failed = 0;
	if (!c->s)
		return EX_DONE;
	/* No mail command here (the setuid tool on a host without one): the
	 * notices stay queued for "rollcall notification send". */
	if (!c->cfg.mail_command[0])
		return all ? cli_error(EX_REFUSED, "no mail_command is set in %s: the notices "
		                       "stay queued", c->cfg.path[0] ? c->cfg.path : "rollcall.conf")
		           : EX_DONE;
	rc = rc_notice_take(c->s, &c->actor, all, &list, &n);
	if (rc)
		return cli_fail(rc);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < list[i].nrcpt; j++) {
			const char *to = list[i].rcpt[j];
			char *msg = NULL, err[RC_PATH_MAX + 128] = "";
			size_t len = 0;
			int r;

			if ((r = rc_notice_compose(&c->cfg, &list[i], to, rc_store_now(c->s),
			                                  &msg, &len)) != RC_OK) {
				snprintf(err, sizeof(err), "%s", rc_errmsg());
				r = 1;
			} else {
				r = mail_run(c, msg, len, err, sizeof(err));
				if (r < 0) {
					snprintf(err, sizeof(err), "no mail_command is set");
					r = 1;
				}
			}
			free(msg);
			if (r == 0) {
				(*sent)++;
				(void)rc_notice_audit(c->s, &c->actor, &list[i], to, "ok");
			} else {
				char res[RC_PATH_MAX + 160];
				(*failed)++;
				fprintf(stderr, "rollcall: warning: the notification to %s was not "
				        "sent: %s\n", to, err);
				snprintf(res, sizeof(res), "failed (%.60s)", err);
				(void)rc_notice_audit(c->s, &c->actor, &list[i], to, res);
			}
		}
	rc_notices_free(list, n);
	return EX_DONE;
}

/* ---- main --------------------------------------------------------------- */

/* Started setuid root by another user: become root in full (real, effective
 * and saved ids), once the caller's ids are kept in C.  Its caller could
 * otherwise signal it (a process may signal any process whose real uid is
 * its own): a SIGSTOP while the tool held the store's write transaction
 * would freeze every login and admin command on the host.  The terminal's
 * own stop signals (Ctrl-Z) are held by lib/ while a write transaction is
 * open.  Limits the caller set that would kill it in the middle of a write
 * (CPU time, file size) are lifted, as a root process may. */
static int become_root(struct cli *c)
{
	int n;

	if (geteuid() != 0)
		return 0;   /* setgid only, or setuid to another user: nothing to take */
	c->caller_gid = getgid();
	/* the caller's groups, kept for the mail command; root's own from here
	 * (files made for the store are root's, group too) */
	if ((n = getgroups(0, NULL)) < 0 ||
	    !(c->caller_groups = calloc((size_t)n + 1, sizeof(gid_t))) ||
	    (n = getgroups(n, c->caller_groups)) < 0)
		return -1;
	c->caller_ngroups = n;
	return rc_privileges_root();
}

static void sanitize_fds(void)
{
	struct stat st, null;

	/* Make sure 0, 1 and 2 are open, so that no file we open becomes one. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(EX_STORE);
	/* Started setuid with them closed, glibc has already put /dev/null
	 * there, read-only for 1 and 2 so that writes fail.  The caller asked
	 * for no output: give it a /dev/null that takes it, rather than fail
	 * a command that has done its work. */
	if (stat("/dev/null", &null) < 0 || !S_ISCHR(null.st_mode))
		return;
	for (int fd = 1; fd < 3; fd++)
		if ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY && fstat(fd, &st) == 0 &&
		    S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev) {
			int n = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (n < 0 || dup2(n, fd) != fd)
				_exit(EX_STORE);
			close(n);
		}
}

static const struct {
	const char *name;
	int (*fn)(struct cli *, int, char **);
	bool needs_store;
	const char *help;   /* for commands without actions or help of their own */
} commands[] = {
	{ "init", cmd_init, false, NULL },
	{ "status", cmd_status, true,
	  "Usage: rollcall [--json] status\n\nThe state directory, configuration, schema, "
	  "counts of members,\nroles, services and audit records, and the store's size.\n" },
	{ "doctor", cmd_doctor, false,
	  "Usage: rollcall [--json] doctor\n\nRoot only.  Checks that this host is set up for "
	  "rollcall: the\nstate directory (owner, modes, schema, master.key, the NSS snapshot\n"
	  "and its generation), /etc/nsswitch.conf, the NSS and PAM modules, the\nPAM stacks of "
	  "sshd, login and su, and sshd's UsePAM and\nKbdInteractiveAuthentication.  Each "
	  "finding says what to change.\nExit status 1 when a check fails.\n" },
	{ "whoami", cmd_whoami, true,
	  "Usage: rollcall [--json] whoami\n\nYour member record: name, uid, role, status "
	  "and permissions.\n" },
	{ "member", cmd_member, true, NULL },
	{ "passwd", cmd_passwd, true,
	  "Usage: rollcall passwd [--password-stdin]\n\nChange your password: the current one, "
	  "then the new one twice.\nWith --password-stdin, the current password is the first "
	  "line of\nstandard input and the new one the second.  A change revokes all\nyour "
	  "tokens.\n" },
	{ "mfa", cmd_mfa, true, NULL },
	{ "token", cmd_token, true, NULL },
	{ "role", cmd_role, true, NULL },
	{ "service", cmd_service, true, NULL },
	{ "service-user", cmd_service_user, true, NULL },
	{ "billing", cmd_billing, true, NULL },
	{ "settings", cmd_settings, true, NULL },
	{ "audit", cmd_audit, true, NULL },
	{ "mail-template", cmd_mail_template, false, NULL },
	{ "notification", cmd_notification, true, NULL },
	{ "fleet", cmd_fleet, false, NULL },
};

/* Started setuid: an environment of our own (PATH; TERM kept when it
 * names no path). */
static void setuid_env(void)
{
	const char *term = getenv("TERM");
	char saved_term[64] = "";

	if (term && strlen(term) < sizeof(saved_term) && !strpbrk(term, "/"))
		snprintf(saved_term, sizeof(saved_term), "%s", term);
	clearenv();
	setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	if (saved_term[0])
		setenv("TERM", saved_term, 1);
}

#define GO_ON (-1)

/* The global options, which may stand anywhere before "--", into C; the
 * other arguments into ARGS (*NARGS).  GO_ON, or the exit status. */
static int global_options(struct cli *c, int argc, char **argv, char **args, int *nargs)
{
	bool dashdash = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!dashdash && strcmp(a, "--") == 0) {
			dashdash = true;
			args[(*nargs)++] = argv[i];
		} else if (!dashdash && strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (!dashdash && (strcmp(a, "--state-dir") == 0 || strcmp(a, "--config") == 0)) {
			if (i + 1 >= argc)
				return cli_usage("%s needs a value", a);
			if (a[2] == 's')
				c->state_dir = argv[++i];
			else
				c->config = argv[++i];
		} else if (!dashdash && (strcmp(a, "--as") == 0 ||
		                         strcmp(a, "--bind-password-file") == 0)) {
			if (i + 1 >= argc)
				return cli_usage("%s needs a value", a);
			if (a[3] == 's' && a[4] == '\0')
				c->as_member = argv[++i];
			else
				c->bind_pw_file = argv[++i];
		} else if (!dashdash && strncmp(a, "--as=", 5) == 0) {
			c->as_member = a + 5;
		} else if (!dashdash && strncmp(a, "--bind-password-file=", 21) == 0) {
			c->bind_pw_file = a + 21;
		} else if (!dashdash && strncmp(a, "--state-dir=", 12) == 0) {
			c->state_dir = a + 12;
		} else if (!dashdash && strncmp(a, "--config=", 9) == 0) {
			c->config = a + 9;
		} else if (!dashdash && strcmp(a, "--version") == 0 && *nargs == 0) {
			printf("rollcall %s\n", PACKAGE_VERSION);
			return EX_DONE;
		} else {
			args[(*nargs)++] = argv[i];
		}
	}
	if (c->privileged && (c->state_dir || c->config))
		return cli_error(EX_PERM, "%s is refused: rollcall runs setuid and only root may "
		                 "choose another state directory or configuration",
		                 c->state_dir ? "--state-dir" : "--config");
	return GO_ON;
}

/* The command ARGS[0] (its --help, the store opened when it needs one),
 * then the notices its changes queued, mailed after their commit (a failed
 * mail is audited and changes nothing). */
static int run_command(struct cli *c, int nargs, char **args)
{
	if (nargs == 0) {
		fputs("rollcall: no command given\n", stderr);
		fputs(usage_text, stderr);
		return EX_USAGE;
	}
	if (strcmp(args[0], "--help") == 0 || strcmp(args[0], "-h") == 0 ||
	    strcmp(args[0], "help") == 0) {
		fputs(usage_text, stdout);
		return EX_DONE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		int status;
		if (strcmp(args[0], commands[i].name) != 0)
			continue;
		if (commands[i].help && cli_want_help(nargs, args)) {
			fputs(commands[i].help, stdout);
			return EX_DONE;
		}
		if (commands[i].needs_store && !cli_want_help(nargs, args) &&
		    (status = store_open(c)) != 0)
			return status;
		if (c->s && (status = cli_fleet_as(c)) != EX_DONE)
			return status;
		/* a host in a fleet: the membership changes go to the directory */
		if (c->s && !cli_want_help(nargs, args) && cli_fleet_host(c))
			status = cli_fleet_run(c, commands[i].fn, nargs, args);
		else
			status = commands[i].fn(c, nargs, args);
		if (c->s) {
			size_t sent, failed;
			(void)cli_notify_deliver(c, false, &sent, &failed);
		}
		return status;
	}
	return cli_usage("unknown command \"%.40s\"", args[0]);
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	char **args;
	int nargs = 0, status;

	sanitize_fds();
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	c.privileged = getuid() != geteuid() || getgid() != getegid();
	if (c.privileged)
		setuid_env();
	if (argc < 1 || !argv[0])
		return cli_error(EX_USAGE, "started without a program name");
	c.prog = argv[0];
	c.actor.uid = getuid();
	c.real_uid = c.actor.uid;
	c.caller_gid = getgid();
	c.caller_ngroups = -1;
	if (c.privileged && become_root(&c) < 0)
		return cli_error(EX_STORE, "cannot take root's ids: %s", strerror(errno));
	snprintf(c.actor.origin, sizeof(c.actor.origin), "tool");

	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return cli_error(EX_STORE, "out of memory");
	status = global_options(&c, argc, argv, args, &nargs);
	if (status == GO_ON)
		status = run_command(&c, nargs, args);
	if (c.s && rc_store_warning(c.s))
		cli_error(status, "warning: %s", rc_store_warning(c.s));
	cli_close(&c);
	free(args);
	free(c.caller_groups);
	if (fflush(stdout) != 0 || ferror(stdout))
		status = status ? status : cli_error(EX_REFUSED, "cannot write output: %s",
		                                     strerror(errno));
	return status;
}
