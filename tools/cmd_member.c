/*
 * cmd_member.c - rollcall member ...
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "opts.h"


/* Parse options of an action that takes none; returns the index of the
 * first positional argument, or -(exit status). */
static void print_code(struct cli *c, const rc_code_result *r, const char *what, bool mailed)
{
	char exp[64];

	rc_time_format(r->expires, exp, sizeof(exp));
	if (c->json) {
		struct record *rec = record_new();
		record_str(rec, "username", r->username);
		record_str(rec, "email", r->email);
		if (mailed)
			record_str(rec, "sent_to", r->email);
		else
			record_str(rec, "code", r->code);
		record_time(rec, "expires", r->expires);
		record_print(rec, true);
		record_free(rec);
		return;
	}
	if (mailed) {
		printf("%s for %s sent to %s (expires %s).\n", what, r->username, r->email, exp);
		return;
	}
	printf("%s for %s <%s>:\n\n    %s\n\nIt expires at %s.  %s logs in with it as the "
	       "password (or runs \"rollcall member accept\" and types it) and chooses a "
	       "password.\n",
	       what, r->username, r->email, r->code, exp, r->username);
}

/* Mail the code when a mail command is configured; print it otherwise (or
 * when mailing failed, so that nothing is lost). */
static int deliver(struct cli *c, const rc_code_result *r, rc_mail_template *t,
                   const char *what)
{
	bool mailed = false;
	if (t)
		mailed = cli_mail_code(c, t, r) == EX_DONE;
	rc_mail_template_free(t);
	print_code(c, r, what, mailed);
	return EX_DONE;
}

static int list_row(const rc_member *m, void *ctx)
{
	table_row(ctx, m->username, m->email, m->role, rc_member_status_name(m->status),
	          (int64_t)m->last_active, rc_member_auth_method(m));
	return RC_OK;
}

static int m_list(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "status", required_argument, NULL, 's' }, { "role", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	static const char *const hdr[] = { "USERNAME", "EMAIL", "ROLE", "STATUS", "LAST ACTIVE",
	                                   "AUTH METHOD" };
	static const enum cell_type ty[] = { CELL_STR, CELL_STR, CELL_STR, CELL_STR, CELL_TIME,
	                                     CELL_STR };
	rc_member_filter f = { .status = -1, .role = NULL };
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		if (ch == '?')
			return EX_USAGE;
		if (ch == 's' && rc_member_status_parse(optarg, &f.status))
			return cli_error(EX_USAGE, "%s", rc_errmsg());
		if (ch == 'r')
			f.role = optarg;
	}
	if ((rc = want_args(argc - optind, 0, 0, "member list [--status S] [--role R]")))
		return rc;
	struct table *t = table_new(6, hdr, ty);
	rc = rc_member_foreach(c->s, &c->actor, &f, list_row, t);
	if (!rc)
		table_print(t, c->json);
	table_free(t);
	return cli_fail(rc);
}

static int m_show(struct cli *c, int argc, char **argv)
{
	rc_member m;
	rc_invitation inv;
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "member show NAME")) < 0)
		return -i;
	rc = rc_member_get(c->s, &c->actor, argv[i], &m);
	if (rc)
		return cli_fail(rc);
	struct record *r = record_new();
	record_str(r, "username", m.username);
	record_str(r, "email", m.email);
	record_str(r, "full_name", m.full_name);
	record_str(r, "role", m.role);
	record_str(r, "status", rc_member_status_name(m.status));
	record_int(r, "uid", m.uid);
	record_time(r, "created", m.created);
	record_time(r, "last_active", m.last_active);
	record_str(r, "auth_method", rc_member_auth_method(&m));
	record_bool(r, "has_password", m.has_password);
	record_bool(r, "must_change_password", m.must_change);
	record_int(r, "failed_attempts", m.failed);
	record_time(r, "locked_until", m.lock_until);
	if (m.reset_expires)
		record_time(r, "reset_code_expires", m.reset_expires);
	if (rc_invitation_get(c->s, &c->actor, m.username, &inv) == RC_OK) {
		record_str(r, "invitation", rc_invitation_state_name(inv.state));
		record_str(r, "invited_by", inv.inviter);
		record_time(r, "invited", inv.created);
		record_time(r, "invitation_expires", inv.expires);
		record_int(r, "times_resent", inv.resent);
	}
	record_print(r, c->json);
	record_free(r);
	return EX_DONE;
}

static int m_invite(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "role", required_argument, NULL, 'r' }, { "username", required_argument, NULL, 'u' },
		{ "name", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	rc_invite_req req = { 0 };
	rc_code_result res;
	rc_mail_template *tpl = NULL;
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case 'r': req.role = optarg; break;
		case 'u': req.username = optarg; break;
		case 'n': req.full_name = optarg; break;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 1, 1, "member invite EMAIL --role ROLE")))
		return rc;
	if (!req.role)
		return cli_usage("member invite needs --role ROLE");
	req.email = argv[optind];
	/* A bad template is found before anything changes. */
	if ((rc = cli_mail_template(c, RC_MAIL_INVITATION, &tpl)))
		return rc;
	rc = rc_member_invite(c->s, &c->actor, &req, &res);
	if (rc) {
		rc_mail_template_free(tpl);
		return cli_fail(rc);
	}
	rc = deliver(c, &res, tpl, "Invitation code");
	sodium_memzero(&res, sizeof(res));
	return rc;
}

static int m_withdraw(struct cli *c, int argc, char **argv)
{
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "member withdraw NAME")) < 0)
		return -i;
	rc = rc_member_withdraw(c->s, &c->actor, argv[i]);
	if (!rc && !c->json)
		printf("Invitation of %s withdrawn.\n", rc_member_named(c->s));
	else if (!rc)
		record_emit(record_str(record_str(record_new(), "username", rc_member_named(c->s)),
		                       "invitation", "withdrawn"));
	return cli_fail(rc);
}

static int m_resend(struct cli *c, int argc, char **argv)
{
	rc_code_result res;
	rc_mail_template *tpl = NULL;
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "member resend NAME")) < 0)
		return -i;
	if ((rc = cli_mail_template(c, RC_MAIL_RESEND, &tpl)))
		return rc;
	rc = rc_member_resend(c->s, &c->actor, argv[i], &res);
	if (rc) {
		rc_mail_template_free(tpl);
		return cli_fail(rc);
	}
	rc = deliver(c, &res, tpl, "New invitation code");
	sodium_memzero(&res, sizeof(res));
	return rc;
}

/* ---- member import ------------------------------------------------------ */

struct bad_line {
	unsigned long line;
	size_t seq;
	char *reason;
};

struct import_ctx {
	struct cli *c;
	const char *file;
	/* bad lines, printed in line order once all are known */
	struct bad_line *bad;
	size_t nbad, capbad;
	/* progress, counted by lib/ and shown by a thread of its own (a
	 * terminal that stops output never stops the write transaction) */
	_Atomic(const char *) phase;
	atomic_size_t done, total;
	atomic_bool finished;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* the output */
	rc_import_row *rows;
	bool *sent;
	char text[6][RC_EMAIL_MAX + 1];   /* a row's cells, as printed */
};

static void import_bad(unsigned long line, const char *reason, void *ctx)
{
	struct import_ctx *x = ctx;

	if (x->nbad == x->capbad) {
		size_t ncap = x->capbad ? x->capbad * 2 : 64;
		struct bad_line *nb = realloc(x->bad, ncap * sizeof(*nb));
		if (!nb) {
			fputs("rollcall: out of memory\n", stderr);
			exit(EX_STORE);
		}
		x->bad = nb;
		x->capbad = ncap;
	}
	x->bad[x->nbad].line = line;
	x->bad[x->nbad].seq = x->nbad;
	if (!(x->bad[x->nbad].reason = strdup(reason))) {
		fputs("rollcall: out of memory\n", stderr);
		exit(EX_STORE);
	}
	x->nbad++;
}

static int bad_cmp(const void *a, const void *b)
{
	const struct bad_line *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void import_bad_print(struct import_ctx *x)
{
	qsort(x->bad, x->nbad, sizeof(*x->bad), bad_cmp);
	for (size_t i = 0; i < x->nbad; i++) {
		fprintf(stderr, "rollcall: %s:%lu: %s\n", x->file, x->bad[i].line, x->bad[i].reason);
		free(x->bad[i].reason);
	}
	free(x->bad);
	x->bad = NULL;
	x->nbad = x->capbad = 0;
}

static void import_progress(const char *phase, size_t done, size_t total, void *ctx)
{
	struct import_ctx *x = ctx;

	atomic_store_explicit(&x->phase, phase, memory_order_relaxed);
	atomic_store_explicit(&x->done, done, memory_order_relaxed);
	atomic_store_explicit(&x->total, total, memory_order_relaxed);
}

/* The progress line on standard error (a terminal): every quarter second,
 * until the import is over; then cleared. */
static void *progress_thread(void *arg)
{
	struct import_ctx *x = arg;
	struct timespec ts;
	bool shown = false;

	pthread_mutex_lock(&x->lock);
	while (!atomic_load(&x->finished)) {
		const char *phase = atomic_load_explicit(&x->phase, memory_order_relaxed);
		size_t done = atomic_load_explicit(&x->done, memory_order_relaxed);
		size_t total = atomic_load_explicit(&x->total, memory_order_relaxed);
		if (phase && total) {
			fprintf(stderr, "\rrollcall: %s %s: %zu of %zu rows (%zu%%)\033[K", x->file,
			        phase, done, total, done * 100 / total);
			fflush(stderr);
			shown = true;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&x->wake, &x->lock, &ts);
	}
	pthread_mutex_unlock(&x->lock);
	if (shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	return NULL;
}

static void import_row(size_t r, struct cell *cells, void *ctx)
{
	struct import_ctx *x = ctx;
	const rc_import_row *row = &x->rows[r];
	bool mailed = x->sent && x->sent[r];
	int i = 0;

	snprintf(x->text[0], sizeof(x->text[0]), "%s", row->username);
	snprintf(x->text[1], sizeof(x->text[1]), "%s", row->req.email);
	snprintf(x->text[2], sizeof(x->text[2]), "%s", row->req.role);
	snprintf(x->text[3], sizeof(x->text[3]), "%s", mailed ? "true" : "false");
	snprintf(x->text[4], sizeof(x->text[4]), "%s", mailed ? "" : row->code);
	rc_time_format(row->expires, x->text[5], sizeof(x->text[5]));
	cells[i++] = (struct cell){ CELL_STR, x->text[0], 0 };
	cells[i++] = (struct cell){ CELL_STR, x->text[1], 0 };
	cells[i++] = (struct cell){ CELL_STR, x->text[2], 0 };
	if (x->sent)
		cells[i++] = (struct cell){ CELL_BOOL, x->text[3], mailed };
	cells[i++] = (struct cell){ CELL_STR, x->text[4], 0 };
	cells[i++] = (struct cell){ CELL_TIME, x->text[5], row->expires };
}

/* Mail each code (as member invite does), after the commit; a failed mail
 * is reported and audited, and its code printed: nothing is undone. */
static size_t import_mail(struct import_ctx *x, const rc_mail_template *tpl, size_t n)
{
	size_t failed = 0;

	for (size_t i = 0; i < n; i++) {
		const rc_import_row *row = &x->rows[i];
		rc_code_result res = { .expires = row->expires };
		snprintf(res.username, sizeof(res.username), "%s", row->username);
		snprintf(res.email, sizeof(res.email), "%s", row->req.email);
		snprintf(res.full_name, sizeof(res.full_name), "%s",
		         row->req.full_name ? row->req.full_name : "");
		snprintf(res.role, sizeof(res.role), "%s", row->req.role);
		memcpy(res.code, row->code, sizeof(res.code));
		x->sent[i] = cli_mail_code(x->c, tpl, &res) == EX_DONE;
		sodium_memzero(&res, sizeof(res));
		if (!x->sent[i]) {
			failed++;
			fprintf(stderr, "rollcall: %s:%lu: the invitation of %s was not mailed; its "
			        "code is printed\n", x->file, row->line, row->username);
			(void)rc_member_mail_audit(x->c->s, &x->c->actor, row->username,
			                           "failed: the invitation was not mailed");
		}
	}
	return failed;
}

/* rc_member_import, with the progress line on a terminal for a large file. */
static int import_store(struct import_ctx *x, size_t n, unsigned flags, rc_import_hooks *hooks)
{
	pthread_t progress;
	bool have_progress = false;
	int rc;

	if (isatty(STDERR_FILENO) && n >= 10000)
		have_progress = pthread_create(&progress, NULL, progress_thread, x) == 0;
	rc = rc_member_import(x->c->s, &x->c->actor, x->rows, n, flags, hooks);
	if (have_progress) {
		pthread_mutex_lock(&x->lock);
		atomic_store(&x->finished, true);
		pthread_cond_signal(&x->wake);
		pthread_mutex_unlock(&x->lock);
		pthread_join(progress, NULL);
	}
	return rc;
}

/* rc_member_import's answer RC: the bad lines (every refusal names its
 * line) or another failure as the exit status, or EX_DONE. */
static int import_refusal(struct import_ctx *x, int rc)
{
	if (rc && rc != RC_ERR_INVALID)
		return cli_fail(rc);
	if (x->nbad) {
		size_t nbad = x->nbad;
		import_bad_print(x);
		return cli_error(EX_REFUSED, "%s: %zu bad line%s: nothing was imported", x->file,
		                 nbad, nbad == 1 ? "" : "s");
	}
	return rc ? cli_fail(rc) : EX_DONE;
}

/* The N members invited: each code mailed (TPL) or printed, in a table. */
static int import_print(struct import_ctx *x, const rc_mail_template *tpl, size_t n)
{
	static const char *const hdr_print[] = { "USERNAME", "EMAIL", "ROLE", "CODE", "EXPIRES" };
	static const char *const hdr_mail[] = { "USERNAME", "EMAIL", "ROLE", "SENT", "CODE",
	                                        "EXPIRES" };
	bool json = x->c->json;

	if (tpl) {
		if (!(x->sent = calloc(n ? n : 1, sizeof(*x->sent))))
			return cli_error(EX_STORE, "out of memory (the members are stored)");
		(void)import_mail(x, tpl, n);
	}
	table_print_rows(tpl ? 6 : 5, tpl ? hdr_mail : hdr_print, n, import_row, x, json);
	if (!json)
		printf("%zu member%s invited from %s.\n", n, n == 1 ? "" : "s", x->file);
	return EX_DONE;
}

static void import_checked(const struct import_ctx *x, size_t n)
{
	if (!x->c->json)
		printf("%s: %zu member%s to invite, no bad line; nothing was changed.\n",
		       x->file, n, n == 1 ? "" : "s");
	else
		record_emit(record_int(record_int(record_str(record_new(), "file", x->file),
		                                  "members", (long long)n), "bad_lines", 0));
}

static int m_import(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "check", no_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct import_ctx x = { .c = c, .lock = PTHREAD_MUTEX_INITIALIZER,
	                        .wake = PTHREAD_COND_INITIALIZER };
	rc_import_hooks hooks = { .bad = import_bad, .progress = import_progress, .ctx = &x };
	rc_mail_template *tpl = NULL;
	bool check_only = false;
	char *buf = NULL;
	size_t len = 0, n = 0;
	int ch, rc, prc, st;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		if (ch != 'k')
			return EX_USAGE;
		check_only = true;
	}
	if ((st = want_args(argc - optind, 1, 1, "member import FILE")))
		return st;
	x.file = hooks.source = argv[optind];
	/* A bad template is found before anything changes. */
	if (!check_only && (st = cli_mail_template(c, RC_MAIL_INVITATION, &tpl)))
		return st;
	if ((st = cli_read_caller_file(c, x.file, &buf, &len)))
		goto out;
	prc = rc_import_parse(buf, len, &x.rows, &n, &hooks);
	if (prc == RC_ERR_NOMEM) {
		st = cli_fail(prc);
		goto out;
	}
	rc = import_store(&x, n, prc || check_only ? RC_IMPORT_CHECK_ONLY : 0, &hooks);
	if ((st = import_refusal(&x, rc)) != EX_DONE)
		goto out;
	if (check_only)
		import_checked(&x, n);
	else
		st = import_print(&x, tpl, n);
out:
	if (x.bad)
		import_bad_print(&x);
	for (size_t i = 0; i < n; i++)
		sodium_memzero(x.rows[i].code, sizeof(x.rows[i].code));
	sodium_memzero(x.text, sizeof(x.text));
	free(x.rows);
	free(x.sent);
	if (buf) {
		sodium_memzero(buf, len);
		free(buf);
	}
	rc_mail_template_free(tpl);
	return st;
}

#define ACCEPT_STDIN "--password-stdin (the code on the first line, the new password on " \
                     "the second)"

/* The code and the new password come from the terminal (no echo) or from
 * standard input: never from the command line, where any local user could
 * read the code while we wait for the password, and use it first. */
static int m_accept(struct cli *c, int argc, char **argv)
{
	char code[RC_CODE_LEN + 8], pw[RC_PASSWORD_MAX + 2], name[RC_NAME_MAX + 1];
	bool from_stdin = false;
	int rc;

	if ((rc = opt_password_stdin(argc, argv, &from_stdin)) < 0)
		return -rc;
	if (argc - optind > 0)
		return cli_secret_on_argv("member accept", "code", "type it at the prompt, or give "
		                          "it on standard input with " ACCEPT_STDIN "; it was not "
		                          "used");
	rc = cli_read_secret(from_stdin, "invitation or reset code", "Invitation or reset code: ",
	                     false, false, code, sizeof(code));
	if (rc < 0)
		return cli_usage("no terminal to ask for the code and password: use " ACCEPT_STDIN);
	if (rc)
		return rc;
	rc = cli_read_secret(from_stdin, "new password", "New password: ", true, false, pw,
	                     sizeof(pw));
	if (rc) {
		sodium_memzero(code, sizeof(code));
		return rc < 0 ? cli_usage("no terminal to ask for a password: use " ACCEPT_STDIN) : rc;
	}
	rc = rc_member_accept(c->s, &c->actor, code, pw, name);
	sodium_memzero(code, sizeof(code));
	sodium_memzero(pw, sizeof(pw));
	if (rc)
		return cli_fail(rc);
	if (c->json)
		record_emit(record_str(record_str(record_new(), "username", name), "status", "active"));
	else
		printf("Welcome, %s: your password is set and your membership is active.\n", name);
	return EX_DONE;
}

static int m_set_role(struct cli *c, int argc, char **argv)
{
	int i, rc;

	if ((i = opt_args(argc, argv, 2, 2, "member set-role NAME ROLE")) < 0)
		return -i;
	rc = rc_member_set_role(c->s, &c->actor, argv[i], argv[i + 1]);
	if (!rc && !c->json)
		printf("%s now has role %s.\n", rc_member_named(c->s), argv[i + 1]);
	else if (!rc)
		record_emit(record_str(record_str(record_new(), "username", rc_member_named(c->s)),
		                       "role", argv[i + 1]));
	return cli_fail(rc);
}

static int m_update(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "email", required_argument, NULL, 'e' }, { "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *email = NULL, *name = NULL;
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case 'e': email = optarg; break;
		case 'n': name = optarg; break;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 1, 1, "member update NAME [--email E] [--name FULL]")))
		return rc;
	if (!email && !name)
		return cli_usage("member update needs --email or --name");
	rc = rc_member_update(c->s, &c->actor, argv[optind], email, name);
	if (!rc && !c->json)
		printf("%s updated.\n", rc_member_named(c->s));
	else if (!rc)
		record_emit(record_bool(record_str(record_new(), "username", rc_member_named(c->s)),
		                        "updated", 1));
	return cli_fail(rc);
}

static int set_active(struct cli *c, int argc, char **argv, int active)
{
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, active ? "member activate NAME"
	                                             : "member deactivate NAME")) < 0)
		return -i;
	rc = rc_member_set_active(c->s, &c->actor, argv[i], active);
	if (!rc && !c->json)
		printf("%s is now %s.\n", rc_member_named(c->s), active ? "active" : "inactive");
	else if (!rc)
		record_emit(record_str(record_str(record_new(), "username", rc_member_named(c->s)),
		                       "status", active ? "active" : "inactive"));
	return cli_fail(rc);
}

static int m_activate(struct cli *c, int argc, char **argv)
{
	return set_active(c, argc, argv, 1);
}

static int m_deactivate(struct cli *c, int argc, char **argv)
{
	return set_active(c, argc, argv, 0);
}

static int m_delete(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "confirm", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	const char *confirm = NULL;
	char typed[RC_EMAIL_MAX + 2];
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		if (ch != 'c')
			return EX_USAGE;
		confirm = optarg;
	}
	if ((rc = want_args(argc - optind, 1, 1, "member delete NAME --confirm EMAIL")))
		return rc;
	if (!confirm) {
		if (!isatty(STDIN_FILENO))
			return cli_usage("member delete needs --confirm EMAIL (the member's email "
			                 "address) when not run on a terminal");
		fprintf(stderr, "To delete %s, type their email address: ", argv[optind]);
		if (!fgets(typed, sizeof(typed), stdin))
			return cli_error(EX_REFUSED, "not confirmed; nothing was deleted");
		typed[strcspn(typed, "\r\n")] = '\0';
		confirm = typed;
	}
	rc = rc_member_delete(c->s, &c->actor, argv[optind], confirm);
	if (!rc && !c->json)
		printf("%s deleted.\n", rc_member_named(c->s));
	else if (!rc)
		record_emit(record_bool(record_str(record_new(), "username", rc_member_named(c->s)),
		                        "deleted", 1));
	return cli_fail(rc);
}

static int m_reset_password(struct cli *c, int argc, char **argv)
{
	rc_code_result res;
	rc_mail_template *tpl = NULL;
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "member reset-password NAME")) < 0)
		return -i;
	if ((rc = cli_mail_template(c, RC_MAIL_RESET, &tpl)))
		return rc;
	rc = rc_member_reset_password(c->s, &c->actor, argv[i], &res);
	if (rc) {
		rc_mail_template_free(tpl);
		return cli_fail(rc);
	}
	rc = deliver(c, &res, tpl, "Password reset code");
	sodium_memzero(&res, sizeof(res));
	return rc;
}

static int m_unlock(struct cli *c, int argc, char **argv)
{
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "member unlock NAME")) < 0)
		return -i;
	rc = rc_member_unlock(c->s, &c->actor, argv[i]);
	if (!rc && !c->json)
		printf("%s unlocked.\n", rc_member_named(c->s));
	else if (!rc)
		record_emit(record_bool(record_str(record_new(), "username", rc_member_named(c->s)),
		                        "unlocked", 1));
	return cli_fail(rc);
}

static int m_mfa_reset(struct cli *c, int argc, char **argv)
{
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "member mfa-reset NAME")) < 0)
		return -i;
	rc = rc_member_mfa_reset(c->s, &c->actor, argv[i]);
	if (!rc && !c->json)
		printf("Two-factor authentication of %s removed; its tokens were revoked.\n",
		       rc_member_named(c->s));
	else if (!rc)
		record_emit(record_str(record_str(record_new(), "username", rc_member_named(c->s)),
		                       "mfa", "disabled"));
	return cli_fail(rc);
}

static const struct action actions[] = {
	{ "list", m_list, "list [--status pending|active|inactive] [--role ROLE]",
	  "members: USERNAME EMAIL ROLE STATUS LAST ACTIVE AUTH METHOD" },
	{ "show", m_show, "show NAME", "one member, with its invitation" },
	{ "invite", m_invite, "invite EMAIL --role ROLE [--username NAME] [--name \"FULL NAME\"]",
	  "invite a member (the name defaults to the email's local part)" },
	{ "withdraw", m_withdraw, "withdraw NAME", "withdraw a pending invitation" },
	{ "resend", m_resend, "resend NAME", "new code and expiry for a pending or expired invitation" },
	{ "accept", m_accept, "accept [--password-stdin]",
	  "complete an invitation or password reset: asks for the code and a new password "
	  "(with --password-stdin, reads the code and the password as two lines of standard "
	  "input)" },
	{ "set-role", m_set_role, "set-role NAME ROLE", "change a member's role" },
	{ "update", m_update, "update NAME [--email EMAIL] [--name \"FULL NAME\"]",
	  "change email or full name" },
	{ "activate", m_activate, "activate NAME", "let an inactive member log in again" },
	{ "deactivate", m_deactivate, "deactivate NAME", "stop a member from logging in" },
	{ "delete", m_delete, "delete NAME [--confirm EMAIL]",
	  "delete a member (asks for the email address again)" },
	{ "reset-password", m_reset_password, "reset-password NAME",
	  "invalidate the password and issue a reset code" },
	{ "unlock", m_unlock, "unlock NAME", "clear failed attempts and a lockout" },
	{ "import", m_import, "import FILE [--check]",
	  "invite every member of a CSV file (\"-\": standard input) with the header "
	  "email,role[,username][,full_name]: all or none, every bad line reported as "
	  "FILE:LINE; codes mailed (mail_command) or printed" },
	{ "mfa-reset", m_mfa_reset, "mfa-reset NAME",
	  "remove a member's two-factor authentication (a lost device); revokes its tokens" },
};

int cmd_member(struct cli *c, int argc, char **argv)
{
	return run_action(c, "member", actions, sizeof(actions) / sizeof(actions[0]), argc, argv);
}
