/*
 * fleetrun.c - a command on a host in a fleet (STATE/fleet.conf): its
 * changes to the membership go to the directory, bound as the calling
 * member, all or nothing (lib/fleetwrite.h); this host's own part (the
 * audit record, notices, host state) is written locally once the
 * directory accepted, and rollcalld brings the change back into the local
 * replica like any other host's.
 *
 * The command runs as anywhere else, with the store capturing its
 * changes; its standard output is held (a memory file) and shown only once
 * the directory took the change, the mails of codes too.  A record changed
 * meanwhile on another host (the directory's assertion failed) runs the
 * command again once rollcalld has brought the change here (secrets read
 * the first time are given again, not asked twice), 3 times at most.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "fleetwrite.h"

#define ATTEMPTS 3

bool cli_fleet_host(const struct cli *c)
{
	char p[RC_PATH_MAX + 16];
	struct stat st;

	snprintf(p, sizeof(p), "%s/fleet.conf", c->cfg.state_dir);
	return lstat(p, &st) == 0;
}

/* --bind-password-file FILE: a regular file of the caller's, that no one
 * else may read; its first line. */
static int password_from_file(struct cli *c, char *buf, size_t len)
{
	struct stat st;
	/* opened as the caller (never as root: no probing of root's files, no
	 * device opened with root's rights), not blocking on a FIFO */
	int fd = cli_open_as_caller(c, c->bind_pw_file, O_NOFOLLOW | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return cli_error(EX_USAGE, "cannot open the bind password file %s: %s",
		                 c->bind_pw_file, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != c->real_uid ||
	    (st.st_mode & 077)) {
		close(fd);
		return cli_error(EX_USAGE, "the bind password file %s must be a regular file of "
		                 "yours (uid %u) that no one else may read (mode 0600 or "
		                 "stricter)", c->bind_pw_file, (unsigned)c->real_uid);
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return cli_error(EX_USAGE, "cannot read the bind password file %s: %s",
		                 c->bind_pw_file, strerror(errno));
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0])
		return cli_error(EX_USAGE, "the bind password file %s is empty", c->bind_pw_file);
	return EX_DONE;
}

static int bind_password(struct cli *c, const char *member, char *buf, size_t len)
{
	char prompt[RC_NAME_MAX + 64];
	int st;

	if (c->bind_pw_file)
		return password_from_file(c, buf, len);
	snprintf(prompt, sizeof(prompt), "Directory password for %s: ", member);
	st = cli_tty_secret(prompt, buf, len);
	if (st < 0)
		return cli_error(EX_USAGE, "this host is in a fleet: the change is made in the "
		                 "directory as %s, whose password is asked on the terminal; without "
		                 "one, give --bind-password-file FILE; nothing was changed", member);
	return st;
}

/* Who binds: the calling member, or the member root names with --as. */
static int bind_member(struct cli *c, char *name, size_t len)
{
	rc_identity self;
	int rc;

	if (c->as_member) {
		snprintf(name, len, "%s", c->as_member);
		return EX_DONE;
	}
	if (c->actor.uid == 0)
		return cli_error(EX_USAGE, "this host is in a fleet and root on a host is not a "
		                 "directory administrator: name the member whose rights the change "
		                 "is made with (--as NAME); nothing was changed");
	rc = rc_whoami(c->s, &c->actor, &self);
	if (rc)
		return cli_fail(rc);
	snprintf(name, len, "%s", self.username);
	return EX_DONE;
}

/* Standard output into a memory file while the command runs. */
struct held_out {
	int mem, saved;
};

static int hold_stdout(struct held_out *h)
{
	fflush(stdout);
	h->mem = memfd_create("rollcall-output", MFD_CLOEXEC);
	if (h->mem < 0)
		return cli_error(EX_STORE, "cannot hold the output: %s", strerror(errno));
	h->saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (h->saved < 0 || dup2(h->mem, STDOUT_FILENO) < 0) {
		close(h->mem);
		return cli_error(EX_STORE, "cannot hold the output: %s", strerror(errno));
	}
	return EX_DONE;
}

/* Standard output back; the held output written to it when SHOW. */
static void release_stdout(struct held_out *h, bool show)
{
	char buf[8192];
	ssize_t n;

	fflush(stdout);
	clearerr(stdout);
	dup2(h->saved, STDOUT_FILENO);
	close(h->saved);
	if (show && lseek(h->mem, 0, SEEK_SET) == 0)
		while ((n = read(h->mem, buf, sizeof(buf))) > 0)
			if (write(STDOUT_FILENO, buf, (size_t)n) != n)
				break;
	close(h->mem);
}

int cli_fleet_as(struct cli *c)
{
	rc_member m;
	rc_actor root = { .uid = 0 };
	int rc;

	if (!c->as_member)
		return EX_DONE;
	if (c->actor.uid != 0)
		return cli_error(EX_PERM, "--as is for root: a member acts as itself");
	if (!cli_fleet_host(c))
		return cli_error(EX_USAGE, "--as is for a host in a fleet (this state directory "
		                 "joined none)");
	snprintf(root.origin, sizeof(root.origin), "%s", c->actor.origin);
	rc = rc_member_get(c->s, &root, c->as_member, &m);
	if (rc == RC_ERR_NOTFOUND)
		return cli_error(EX_REFUSED, "--as %s: no such member", c->as_member);
	if (rc)
		return cli_fail(rc);
	/* every rule is checked as that member: its rights, its rank */
	c->actor.uid = m.uid;
	snprintf(c->actor.origin, sizeof(c->actor.origin), "tool (root as %.32s)", m.username);
	snprintf(c->as_name, sizeof(c->as_name), "%s", m.username);
	c->as_member = c->as_name;
	return EX_DONE;
}

/* the command's output shown (or dropped) and its mail sent (or dropped) */
static void held_finish(struct cli *c, struct held_out *out, bool ok)
{
	release_stdout(out, ok);
	c->mail_defer = false;
	cli_mail_flush(c, ok);
}

/* refused locally (ST), or nothing of the directory's: this host's own part only */
static int local_only(struct cli *c, rc_fleet_capture *cap, int st)
{
	int rc;

	if (st == EX_DONE && (rc = rc_fleet_capture_apply_local(cap, &c->actor)))
		st = cli_fail(rc);
	else if (st != EX_DONE && rc_fleet_capture_replicated(cap) == 0)
		/* a refusal's audit record, if any */
		(void)rc_fleet_capture_apply_local(cap, &c->actor);
	return st;
}

void cli_fleet_offer_password(struct cli *c, const char *pw)
{
	size_t n = strlen(pw) + 1;

	if (!cli_fleet_host(c))
		return;
	if (c->self_pw)
		sodium_free(c->self_pw);
	if ((c->self_pw = sodium_malloc(n)))
		memcpy(c->self_pw, pw, n);
}

/* the member this host binds as, and its password (*PW, asked once; the
 * one the command was given, if any, unless --bind-password-file) */
static int bind_credentials(struct cli *c, char *member, size_t member_len, char **pw,
                            size_t pwlen)
{
	int st;

	if (!member[0] && (st = bind_member(c, member, member_len)) != EX_DONE)
		return st;
	if (*pw)
		return EX_DONE;
	if (!(*pw = sodium_malloc(pwlen)))
		return cli_error(EX_STORE, "out of memory");
	if (c->self_pw && !c->bind_pw_file && strlen(c->self_pw) < pwlen) {
		memcpy(*pw, c->self_pw, strlen(c->self_pw) + 1);
		return EX_DONE;
	}
	return bind_password(c, member, *pw, pwlen);
}

/* the bind password and the one the command was given, wiped */
static void credentials_free(struct cli *c, char *pw)
{
	if (pw)
		sodium_free(pw);
	if (c->self_pw)
		sodium_free(c->self_pw);
	c->self_pw = NULL;
}

/* the directory has the change: this host's audit record, the output, the wait */
static int sent_finish(struct cli *c, rc_fleet_capture *cap, struct held_out *out,
                       const char *used)
{
	int rc = rc_fleet_capture_apply_local(cap, &c->actor);
	if (rc)
		cli_error(EX_DONE, "warning: the directory has the change, but this "
		          "host's audit record was not written: %s", rc_errmsg());
	held_finish(c, out, true);
	if (!rc_fleet_capture_wait_applied(cap, 2000))
		cli_error(EX_DONE, "warning: the directory (%s) has the change; rollcalld "
		          "has not brought it to this host yet (is it running? see "
		          "rollcall fleet status)", used);
	return EX_DONE;
}

/* a conflict: the output dropped, then the wait for rollcalld to bring the other
 * host's change here (*CAP freed); refused when it does not come */
static int conflict_wait(struct cli *c, struct held_out *out, rc_fleet_capture **cap)
{
	char saved[512];

	snprintf(saved, sizeof(saved), "%s", rc_errmsg());
	held_finish(c, out, false);
	bool moved = rc_fleet_capture_wait_moved(*cap, 3000);
	rc_fleet_capture_free(*cap);
	*cap = NULL;
	if (!moved)
		return cli_error(EX_REFUSED, "%s; rollcalld has not brought the other "
		                 "host's change here (is it running?): try again", saved);
	return EX_DONE;
}

int cli_fleet_run(struct cli *c, int (*fn)(struct cli *, int, char **), int nargs, char **args)
{
	rc_fleet_conf fc;
	rc_fleet_capture *cap = NULL;
	struct held_out out;
	char member[RC_NAME_MAX + 1] = "", used[1024];
	char *pw = NULL;
	const size_t pwlen = RC_PASSWORD_MAX + 2;
	bool conflict = false;
	int st = EX_DONE, rc;

	rc = rc_fleet_conf_read(c->cfg.state_dir, &fc);
	if (rc)
		return cli_fail(rc);
	cli_secret_replay(true);
	for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
		cli_secret_rewind();
		if ((st = hold_stdout(&out)) != EX_DONE)
			break;
		c->mail_defer = true;
		rc = rc_fleet_capture_start(c->s, &cap);
		st = rc ? cli_fail(rc) : fn(c, nargs, args);
		rc_fleet_capture_stop(cap);
		if (st != EX_DONE || rc_fleet_capture_replicated(cap) == 0) {
			st = local_only(c, cap, st);
			held_finish(c, &out, st == EX_DONE);
			break;
		}
		if ((st = bind_credentials(c, member, sizeof(member), &pw, pwlen)) != EX_DONE)
			goto refused;
		rc = rc_fleet_capture_send(cap, &fc, member, pw, &conflict, used, sizeof(used));
		if (rc == RC_OK) {
			st = sent_finish(c, cap, &out, used);
			break;
		}
		if (conflict && attempt < ATTEMPTS) {
			/* changed meanwhile on another host: once rollcalld has
			 * brought that change here, the command again */
			if ((st = conflict_wait(c, &out, &cap)) != EX_DONE)
				break;
			continue;
		}
		if (conflict)
			st = cli_error(EX_REFUSED, "%s; tried %d times: try again", rc_errmsg(),
			               ATTEMPTS);
		else
			st = cli_fail(rc);
refused:
		held_finish(c, &out, false);
		break;
	}
	cli_secret_replay(false);
	rc_fleet_capture_free(cap);
	credentials_free(c, pw);
	rc_fleet_conf_wipe(&fc);
	return st;
}
