/*
 * cmd_doctor.c - "rollcall doctor": is this host set up for rollcall?
 *
 * The state directory's checks are lib's (rc_store_doctor); the host's are
 * here: nsswitch.conf, the NSS and PAM modules, the PAM stacks of sshd,
 * login and su, the homes their sessions make, and sshd's settings.  Every finding says what to change.
 * On a host in a fleet, rollcalld's and the replica's state (the rule is
 * lib's: rc_fleet_doctor); a host that did not join shows nothing of it.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "fleetldap.h"

#define NSSWITCH "/etc/nsswitch.conf"
#define PAM_DIR "/etc/pam.d"
#define SSHD_CONFIG "/etc/ssh/sshd_config"

struct findings {
	struct table *t;        /* --json: the rows; text: printed as found */
	int fails, warns;
};

static void found(const rc_check *ch, void *ctx)
{
	struct findings *f = ctx;
	static const char *const level[] = { "ok", "warn", "FAIL" };

	if (f->t)
		table_row(f->t, ch->name, level[ch->level], ch->detail, ch->fix ? ch->fix : "");
	else if (ch->fix && ch->level != RC_CHECK_OK)
		printf("%-5s %-16s %s\n      fix: %s\n", level[ch->level], ch->name, ch->detail,
		       ch->fix);
	else
		printf("%-5s %-16s %s\n", level[ch->level], ch->name, ch->detail);
	f->fails += ch->level == RC_CHECK_FAIL;
	f->warns += ch->level == RC_CHECK_WARN;
}

static void say(struct findings *f, int level, const char *name, const char *fix,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void say(struct findings *f, int level, const char *name, const char *fix,
                const char *fmt, ...)
{
	rc_check ch = { .level = level, .name = name, .fix = fix };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ch.detail, sizeof(ch.detail), fmt, ap);
	va_end(ap);
	found(&ch, f);
}

/* Split LINE into blank-separated words (in place); returns how many. */
static int words(char *line, char **w, int max)
{
	int n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(line, " \t\r\n", &save); tok && n < max;
	     tok = strtok_r(NULL, " \t\r\n", &save))
		w[n++] = tok;
	return n;
}

/* ---- nsswitch.conf ------------------------------------------------------- */

static void check_nsswitch(struct findings *f)
{
	static const char *const dbs[] = { "passwd", "group" };
	bool seen[2] = { false, false };
	char line[1024], *w[32];
	FILE *fp = fopen(NSSWITCH, "re");

	if (!fp) {
		say(f, RC_CHECK_FAIL, "nsswitch.conf", "create it with \"passwd: files rollcall\" "
		    "and \"group: files rollcall\"", NSSWITCH ": %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		int n = words(line, w, 32);
		for (int d = 0; d < 2 && n > 0; d++) {
			size_t len = strlen(dbs[d]);
			if (strncmp(w[0], dbs[d], len) != 0 || w[0][len] != ':' || seen[d])
				continue;
			seen[d] = true;
			int files = -1, rollcall = -1;
			for (int i = 1; i < n; i++) {
				if (strcmp(w[i], "files") == 0 || strcmp(w[i], "compat") == 0)
					files = files < 0 ? i : files;
				if (strcmp(w[i], "rollcall") == 0)
					rollcall = i;
			}
			char fix[96];
			snprintf(fix, sizeof(fix), "make the line \"%s: files rollcall\"", dbs[d]);
			if (rollcall < 0)
				say(f, RC_CHECK_FAIL, "nsswitch.conf", fix, "%s: \"%s:\" does not name "
				    "rollcall: members are not users of this host", NSSWITCH, dbs[d]);
			else if (files < 0 || files > rollcall)
				say(f, RC_CHECK_WARN, "nsswitch.conf", fix, "%s: \"%s:\" asks rollcall "
				    "before files: the host's own users should come first", NSSWITCH,
				    dbs[d]);
			else
				say(f, RC_CHECK_OK, "nsswitch.conf", NULL, "%s: \"%s:\" names files, "
				    "then rollcall", NSSWITCH, dbs[d]);
		}
	}
	fclose(fp);
	for (int d = 0; d < 2; d++)
		if (!seen[d])
			say(f, RC_CHECK_FAIL, "nsswitch.conf", "add \"passwd: files rollcall\" and "
			    "\"group: files rollcall\"", "%s has no \"%s:\" line", NSSWITCH, dbs[d]);
}

/* ---- the modules -------------------------------------------------------- */

static void check_modules(struct findings *f)
{
	char path[RC_PATH_MAX];
	struct stat st;
	void *h = dlopen("libnss_rollcall.so.2", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		say(f, RC_CHECK_FAIL, "NSS module", "install it (make install) into the system "
		    "library directory", "libnss_rollcall.so.2 cannot be loaded: %s", dlerror());
	} else {
		Dl_info info;
		void *sym = dlsym(h, "_nss_rollcall_getpwnam_r");
		if (sym && dladdr(sym, &info) && info.dli_fname)
			say(f, RC_CHECK_OK, "NSS module", NULL, "%s", info.dli_fname);
		else
			say(f, RC_CHECK_FAIL, "NSS module", "reinstall rollcall",
			    "libnss_rollcall.so.2 has no _nss_rollcall_getpwnam_r");
		dlclose(h);
	}
	snprintf(path, sizeof(path), "%s/pam_rollcall.so", RC_PAMMODDIR);
	if (stat(path, &st) < 0)
		say(f, RC_CHECK_FAIL, "PAM module", "install it (make install, or configure "
		    "--with-pammoddir)", "%s: %s", path, strerror(errno));
	else if (st.st_uid != 0 || (st.st_mode & 0022))
		say(f, RC_CHECK_FAIL, "PAM module", "chown root: and chmod 0644 it",
		    "%s is writable by others or not root's (mode %04o, uid %u)", path,
		    (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
	else
		say(f, RC_CHECK_OK, "PAM module", NULL, "%s", path);
}

/* ---- the helper, for PAM clients that are not root ------------------------- */

/* May local user PW run the file of ST (its mode bits, its groups)? */
static bool may_exec(const struct stat *st, const struct passwd *pw)
{
	gid_t groups[256];
	int n = 256;

	if (pw->pw_uid == st->st_uid)
		return st->st_mode & S_IXUSR;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) >= 0)
		for (int i = 0; i < n; i++)
			if (groups[i] == st->st_gid)
				return st->st_mode & S_IXGRP;
	return st->st_mode & S_IXOTH;
}

/* One caller of the helper: USER, named by WHY ("service db1 runs as"). */
static void check_caller(struct findings *f, const struct stat *st, bool usable,
                         const char *user, const char *why)
{
	struct passwd *pw = getpwnam(user);

	if (!pw)
		say(f, RC_CHECK_FAIL, "helper caller", "create the user, or change what names it",
		    "%s %s, a user this host does not have", why, user);
	else if (!usable)
		say(f, RC_CHECK_FAIL, "helper caller", "install rollcall-chkpwd (make install)",
		    "%s %s, who cannot verify through %s: it is missing or not setuid root",
		    why, user, RC_HELPER_PATH);
	else if (!may_exec(st, pw))
		say(f, RC_CHECK_FAIL, "helper caller", "chmod 4755 " RC_HELPER_PATH,
		    "%s %s, who cannot run %s (mode %04o, group %u)", why, user, RC_HELPER_PATH,
		    (unsigned)(st->st_mode & 07777), (unsigned)st->st_gid);
	else
		say(f, RC_CHECK_OK, "helper caller", NULL, "%s %s, who can run the helper", why,
		    user);
}

struct helper_ctx {
	struct findings *f;
	const struct stat *st;
	bool usable;
};

static int check_service_caller(const rc_service *svc, void *ctx)
{
	struct helper_ctx *h = ctx;
	char why[RC_SERVICE_MAX + 32];

	if (svc->runs_as[0]) {
		snprintf(why, sizeof(why), "service %s runs as", svc->name);
		check_caller(h->f, h->st, h->usable, svc->runs_as, why);
	}
	return 0;
}

/* rollcall-chkpwd: setuid root, not writable by others; and every local
 * user that services run as or member_callers names can run it. */
static void check_helper(struct findings *f, struct cli *c)
{
	struct stat st;
	struct helper_ctx h = { f, &st, false };
	char users[sizeof(c->cfg.member_callers)], *save = NULL;

	if (lstat(RC_HELPER_PATH, &st) < 0) {
		say(f, RC_CHECK_WARN, "helper", "install it (make install)", "%s: %s: PAM clients "
		    "that are not root (PostgreSQL, nginx, screen lockers) cannot use rollcall",
		    RC_HELPER_PATH, strerror(errno));
		memset(&st, 0, sizeof(st));
	} else if (!S_ISREG(st.st_mode) || st.st_uid != 0 || !(st.st_mode & S_ISUID) ||
	           (st.st_mode & 0022)) {
		say(f, RC_CHECK_FAIL, "helper", "chown root: and chmod 4755 it",
		    "%s must be a file of root's, setuid, writable by root only (it is %04o, "
		    "uid %u)", RC_HELPER_PATH, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
	} else {
		h.usable = true;
		say(f, RC_CHECK_OK, "helper", NULL, "%s (mode %04o)", RC_HELPER_PATH,
		    (unsigned)(st.st_mode & 07777));
	}
	/* the services: when the store opens (its own check said why not) */
	if (rc_store_open(&c->s, &c->cfg, RC_OPEN_READONLY) == RC_OK) {
		(void)rc_service_foreach(c->s, &c->actor, check_service_caller, &h);
		cli_close(c);
	}
	snprintf(users, sizeof(users), "%s", c->cfg.member_callers);
	for (char *u = strtok_r(users, ",", &save); u; u = strtok_r(NULL, ",", &save))
		check_caller(f, &st, h.usable, u, "member_callers names");
}

/* ---- PAM stacks ----------------------------------------------------------- */

enum { PAM_AUTH = 1, PAM_ACCOUNT = 2, PAM_PASSWORD = 4, PAM_SESSION = 8 };

static const char *const rollcall_mods[] = { "pam_rollcall.so", NULL };
/* the modules that make a missing home at the session's start */
static const char *const home_mods[] = { "pam_mkhomedir.so", "pam_oddjob_mkhomedir.so", NULL };

/* Which phases of the service file NAME (following @include, include and
 * substack) call one of MODS; *PRESENT gets the phases that have any
 * line at all (libpam takes the others from "other"). */
static unsigned pam_phases(const char *name, const char *const *mods, int depth,
                           unsigned *present)
{
	static const char *const types[] = { "auth", "account", "password", "session" };
	char path[RC_PATH_MAX], line[1024], *w[16];
	unsigned phases = 0;
	FILE *fp;

	if (depth > 8 || strchr(name, '/') || snprintf(path, sizeof(path), PAM_DIR "/%s",
	                                                name) >= (int)sizeof(path))
		return 0;
	if (!(fp = fopen(path, "re")))
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		int n = words(line, w, 16);
		if (n >= 2 && strcmp(w[0], "@include") == 0) {
			phases |= pam_phases(w[1], mods, depth + 1, present);
			continue;
		}
		if (n < 3)
			continue;
		const char *type = w[0][0] == '-' ? w[0] + 1 : w[0];
		/* the control may be [a=b c=d], several words */
		int m = 1;
		if (w[1][0] == '[')
			while (m < n && !strchr(w[m], ']'))
				m++;
		if (m + 1 >= n)
			continue;
		const char *control = w[1], *module = w[m + 1];
		for (unsigned i = 0; i < 4; i++) {
			if (strcmp(type, types[i]) != 0)
				continue;
			*present |= 1u << i;
			if (strcmp(control, "include") == 0 || strcmp(control, "substack") == 0) {
				unsigned sub = 0;
				phases |= pam_phases(module, mods, depth + 1, &sub) & (1u << i);
			} else {
				const char *base = strrchr(module, '/');
				base = base ? base + 1 : module;
				for (size_t k = 0; mods[k]; k++)
					if (strcmp(base, mods[k]) == 0)
						phases |= 1u << i;
			}
		}
	}
	fclose(fp);
	return phases;
}

static void check_pam(struct findings *f)
{
	static const char *const services[] = { "sshd", "login", "su" };
	static const char *const fix = "run \"pam-auth-update --enable rollcall\" (Debian), or "
	                               "see pam_rollcall(8), EXAMPLES";
	char path[RC_PATH_MAX];

	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		snprintf(path, sizeof(path), PAM_DIR "/%s", services[i]);
		if (access(path, F_OK) != 0) {
			say(f, RC_CHECK_OK, "PAM", NULL, "%s: not on this host", path);
			continue;
		}
		unsigned present = 0, other_present = 0;
		unsigned p = pam_phases(services[i], rollcall_mods, 0, &present);
		p |= pam_phases("other", rollcall_mods, 0, &other_present) & ~present;
		if (!(p & PAM_AUTH))
			say(f, RC_CHECK_FAIL, "PAM", fix, "%s: pam_rollcall.so is not in its auth "
			    "stack: members cannot log in", path);
		else if (!(p & PAM_ACCOUNT))
			say(f, RC_CHECK_FAIL, "PAM", fix, "%s: pam_rollcall.so authenticates but is "
			    "not in the account stack: deactivated members and stopped services "
			    "would still log in", path);
		else if (!(p & PAM_PASSWORD))
			say(f, RC_CHECK_WARN, "PAM", fix, "%s: pam_rollcall.so is not in the password "
			    "stack: invited members cannot choose their password at login", path);
		else
			say(f, RC_CHECK_OK, "PAM", NULL, "%s: auth, account, password%s", path,
			    p & PAM_SESSION ? ", session" : "");
	}
}

/* Members and service users have no home until their first login makes it
 * (pam_mkhomedir in the session stack); without one, sshd and login put
 * them in / ("No directory, logging in with HOME=/"). */
static void check_homes(struct findings *f, const char *home_base)
{
	static const char *const services[] = { "sshd", "login" };
	static const char *const fix = "run \"pam-auth-update --enable rollcall\" again (its "
	                               "profile adds it), or add \"session optional "
	                               "pam_mkhomedir.so umask=0077\" to "
	                               "/etc/pam.d/common-session";
	char path[RC_PATH_MAX];

	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		snprintf(path, sizeof(path), PAM_DIR "/%s", services[i]);
		if (access(path, F_OK) != 0)
			continue;
		unsigned present = 0, other_present = 0;
		unsigned p = pam_phases(services[i], home_mods, 0, &present);
		p |= pam_phases("other", home_mods, 0, &other_present) & ~present;
		if (!(p & PAM_SESSION))
			say(f, RC_CHECK_WARN, "homes", fix, "%s: no pam_mkhomedir.so in the session "
			    "stack: members' homes under %s are not made, and they log in "
			    "with HOME=/", path, home_base);
		else
			say(f, RC_CHECK_OK, "homes", NULL, "%s: the session makes a missing home "
			    "under %s", path, home_base);
	}
}

/* ---- sshd ------------------------------------------------------------------ */

struct sshd_opts {
	int use_pam, kbdint;   /* -1: not set */
};

/* First value wins, as in sshd; Include'd files where they stand; stops at
 * the first Match block. */
static bool sshd_read(const char *path, struct sshd_opts *o, int depth)
{
	char line[1024], *w[64];
	FILE *fp;

	if (depth > 8 || !(fp = fopen(path, "re")))
		return false;
	while (fgets(line, sizeof(line), fp)) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		for (char *eq = strchr(line, '='); eq; eq = strchr(eq, '='))
			*eq = ' ';
		int n = words(line, w, 64);
		if (n < 2)
			continue;
		if (strcasecmp(w[0], "Match") == 0)
			break;
		if (strcasecmp(w[0], "Include") == 0) {
			for (int i = 1; i < n; i++) {
				char pat[RC_PATH_MAX];
				glob_t g;
				snprintf(pat, sizeof(pat), "%s%s", w[i][0] == '/' ? "" : "/etc/ssh/",
				         w[i]);
				if (glob(pat, 0, NULL, &g) == 0) {
					for (size_t j = 0; j < g.gl_pathc; j++)
						(void)sshd_read(g.gl_pathv[j], o, depth + 1);
					globfree(&g);
				}
			}
			continue;
		}
		int yes = strcasecmp(w[1], "yes") == 0;
		if (strcasecmp(w[0], "UsePAM") == 0 && o->use_pam < 0)
			o->use_pam = yes;
		else if ((strcasecmp(w[0], "KbdInteractiveAuthentication") == 0 ||
		          strcasecmp(w[0], "ChallengeResponseAuthentication") == 0) &&
		         o->kbdint < 0)
			o->kbdint = yes;
	}
	fclose(fp);
	return true;
}

static void check_sshd(struct findings *f)
{
	struct sshd_opts o = { -1, -1 };
	static const char *const fix = "add \"KbdInteractiveAuthentication yes\" and \"UsePAM "
	                               "yes\" in /etc/ssh/sshd_config.d/rollcall.conf, then "
	                               "reload sshd";

	if (!sshd_read(SSHD_CONFIG, &o, 0)) {
		say(f, RC_CHECK_OK, "sshd", NULL, SSHD_CONFIG ": %s (no sshd to check)",
		    strerror(errno));
		return;
	}
	if (o.use_pam != 1)
		say(f, RC_CHECK_FAIL, "sshd", fix, "UsePAM is %s: sshd does not ask PAM, so "
		    "members cannot log in over ssh", o.use_pam < 0 ? "not set (no)" : "no");
	else if (o.kbdint == 0)
		say(f, RC_CHECK_FAIL, "sshd", fix, "KbdInteractiveAuthentication is no: sshd "
		    "cannot ask for verification codes or a new password");
	else
		say(f, RC_CHECK_OK, "sshd", NULL, "UsePAM yes, KbdInteractiveAuthentication yes");
}

/* ---- the fleet (a host that joined one) ---------------------------------------- */

static void check_fleet(struct findings *f, struct cli *c)
{
	char p[RC_PATH_MAX + 32];
	struct stat st;
	rc_fleet_conf fc;
	rc_replica_status rs;
	rc_store *s = NULL;
	int64_t now;

	snprintf(p, sizeof(p), "%s/fleet.conf", c->cfg.state_dir);
	if (lstat(p, &st) != 0)
		return;                 /* not in a fleet: nothing to say */
	if (rc_fleet_conf_read(c->cfg.state_dir, &fc) != 0) {
		say(f, RC_CHECK_FAIL, "fleet", "join again (\"rollcall fleet join\"), or restore "
		    "fleet.conf and fleet.secret", "%s", rc_errmsg());
		return;
	}
	sodium_memzero(fc.secret, sizeof(fc.secret));  /* only the host and URIs are used */
	if (rc_store_open(&s, &c->cfg, RC_OPEN_READONLY) != 0 ||
	    rc_replica_status_get(s, &rs) != 0) {
		say(f, RC_CHECK_FAIL, "replica", "see rollcall(8), FILES", "%s", rc_errmsg());
		rc_store_close(s);
		rc_fleet_conf_wipe(&fc);
		return;
	}
	now = rc_store_now(s);
	rc_store_close(s);
	rc_fleet_doctor(c->cfg.state_dir, fc.host, fc.uris, &rs, now, found, f);
	rc_fleet_conf_wipe(&fc);
}

int cmd_doctor(struct cli *c, int argc, char **argv)
{
	static const char *const head[] = { "CHECK", "STATUS", "DETAIL", "FIX" };
	static const enum cell_type types[] = { CELL_STR, CELL_STR, CELL_STR, CELL_STR };
	struct findings f = { 0 };
	int st;

	if (argc > 1)
		return cli_usage("doctor takes no arguments (got \"%.40s\")", argv[1]);
	if (c->actor.uid != 0)
		return cli_error(EX_PERM, "doctor is for root: it reads the host's configuration "
		                 "and the state directory");
	if ((st = cli_open(c)) != EX_DONE)
		return st;
	if (c->json)
		f.t = table_new(4, head, types);
	say(&f, RC_CHECK_OK, "configuration", NULL, "%s",
	    c->cfg.path[0] ? c->cfg.path : "no file: the built-in defaults");
	(void)rc_store_doctor(&c->cfg, found, &f);
	check_fleet(&f, c);
	check_nsswitch(&f);
	check_modules(&f);
	check_helper(&f, c);
	check_pam(&f);
	check_homes(&f, c->cfg.home_base);
	check_sshd(&f);
	if (f.t) {
		table_print(f.t, true);
		table_free(f.t);
	} else {
		printf("\n%d problem%s, %d warning%s\n", f.fails, f.fails == 1 ? "" : "s", f.warns,
		       f.warns == 1 ? "" : "s");
	}
	return f.fails ? EX_REFUSED : EX_DONE;
}
