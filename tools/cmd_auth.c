/*
 * cmd_auth.c - rollcall passwd, mfa and token: a member's own credentials
 * (and, with manage-members, another member's tokens).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdlib.h>
#include <unistd.h>
#include "opts.h"

/* ---- passwd ------------------------------------------------------------------ */

int cmd_passwd(struct cli *c, int argc, char **argv)
{
	char old[RC_PASSWORD_MAX + 2], pw[RC_PASSWORD_MAX + 2];
	bool from_stdin = false;
	int rc;

	if ((rc = opt_password_stdin(argc, argv, &from_stdin)) < 0)
		return -rc;
	if ((rc = want_args(argc - optind, 0, 0, "passwd [--password-stdin]")))
		return rc;
	rc = cli_read_secret(from_stdin, "current password", "Current password: ", false, false,
	                     old, sizeof(old));
	if (rc < 0)
		return cli_usage("no terminal to ask for passwords: use --password-stdin (the "
		                 "current password on the first line, the new one on the second)");
	if (rc)
		return rc;
	rc = cli_read_secret(from_stdin, "new password", "New password: ", true, false, pw,
	                     sizeof(pw));
	if (rc) {
		sodium_memzero(old, sizeof(old));
		return rc < 0 ? EX_USAGE : rc;
	}
	/* a fleet host binds to the directory with it (checked by lib/ first) */
	cli_fleet_offer_password(c, old);
	rc = rc_member_passwd(c->s, &c->actor, old, pw);
	sodium_memzero(old, sizeof(old));
	sodium_memzero(pw, sizeof(pw));
	if (rc)
		return cli_fail(rc);
	if (c->json)
		record_emit(record_bool(record_bool(record_new(), "changed", 1), "tokens_revoked", 1));
	else
		printf("Password changed.  Your tokens were revoked.\n");
	return EX_DONE;
}

/* ---- mfa ------------------------------------------------------------------------ */

static int mfa_status(struct cli *c, int argc, char **argv)
{
	rc_mfa_status st;
	int i, rc;

	if ((i = opt_args(argc, argv, 0, 0, "mfa status")) < 0)
		return -i;
	if ((rc = rc_mfa_status_get(c->s, &c->actor, &st)) != 0)
		return cli_fail(rc);
	struct record *r = record_new();
	record_str(r, "two_factor", st.enabled ? "enabled" : st.pending ? "pending confirmation"
	                                                    : "disabled");
	record_bool(r, "enabled", st.enabled);
	record_int(r, "recovery_codes_left", st.enabled ? st.recovery_left : 0);
	record_str(r, "policy", st.required ? "required" : "optional");
	record_print(r, c->json);
	record_free(r);
	return EX_DONE;
}

static void print_recovery(const rc_mfa_enrollment *e)
{
	printf("\nRecovery codes: each works once in place of a verification code.\n"
	       "Keep them somewhere safe; they are not shown again.\n\n");
	for (int i = 0; i < RC_RECOVERY_CODES; i++)
		printf("    %s%s", e->recovery[i], i % 2 ? "\n" : "");
	printf("\n");
}

static int mfa_enable(struct cli *c, int argc, char **argv)
{
	rc_mfa_enrollment e;
	char *qr = NULL, code[32];
	int i, rc, st;

	if ((i = opt_args(argc, argv, 0, 0, "mfa enable")) < 0)
		return -i;
	if ((rc = rc_mfa_enroll(c->s, &c->actor, &e)) != 0)
		return cli_fail(rc);
	if (c->json) {
		const char *codes[RC_RECOVERY_CODES];
		for (int k = 0; k < RC_RECOVERY_CODES; k++)
			codes[k] = e.recovery[k];
		record_emit(record_str(record_list(record_str(record_str(record_new(),
		            "secret", e.secret), "uri", e.uri), "recovery_codes", codes,
		            RC_RECOVERY_CODES), "status", "pending"));
		rc_mfa_enrollment_clear(&e);
		return EX_DONE;
	}
	if (rc_qr_text(e.uri, &qr) == RC_OK) {
		printf("Scan this QR code with an authenticator app (Google Authenticator,\n"
		       "Duo Mobile, ...):\n\n%s\n", qr);
		sodium_memzero(qr, strlen(qr));   /* it encodes the secret */
		free(qr);
	}
	printf("Or add this key by hand: %s\n(%s)\n\n", e.secret, e.uri);
	fflush(stdout);
	st = cli_read_secret(false, "code", "Verification code from the app: ", false, false,
	                     code, sizeof(code));
	if (st < 0) {
		printf("No terminal to ask for the code: two-factor authentication is pending.\n"
		       "Confirm it with \"rollcall mfa confirm\" (it asks for the code).\n");
		print_recovery(&e);
		rc_mfa_enrollment_clear(&e);
		return EX_DONE;
	}
	if (st) {
		rc_mfa_enrollment_clear(&e);
		return st;
	}
	rc = rc_mfa_confirm(c->s, &c->actor, code);
	sodium_memzero(code, sizeof(code));
	if (rc) {
		rc_mfa_enrollment_clear(&e);
		cli_fail(rc);
		return cli_error(rc == RC_ERR_STORE ? EX_STORE : EX_REFUSED,
		                 "two-factor authentication is still pending: try again with "
		                 "\"rollcall mfa confirm\"");
	}
	printf("Two-factor authentication is enabled.  Your tokens were revoked.\n");
	print_recovery(&e);
	rc_mfa_enrollment_clear(&e);
	return EX_DONE;
}

/* A verification (or recovery) code for confirm and disable: from the
 * terminal without echo, or one line of standard input with --code-stdin;
 * a code given as an argument is refused, unused. */
static int read_code(int argc, char **argv, const char *action, const char *prompt,
                     char *code, size_t len)
{
	char cmd[32];
	bool from_stdin = false;
	int i = opt_stdin(argc, argv, "code-stdin", &from_stdin), rc;

	if (i < 0)
		return -i;
	snprintf(cmd, sizeof(cmd), "mfa %s", action);
	if (argc - i > 0)
		return cli_secret_on_argv(cmd, "code", "type it at the prompt, or give it as one line "
		                          "of standard input with --code-stdin");
	rc = cli_read_secret(from_stdin, "code", prompt, false, false, code, len);
	if (rc < 0)
		return cli_usage("no terminal to ask for the code: give it as one line of standard "
		                 "input with --code-stdin");
	return rc;
}

static int mfa_confirm(struct cli *c, int argc, char **argv)
{
	char code[64];
	int rc = read_code(argc, argv, "confirm", "Verification code: ", code, sizeof(code));

	if (rc)
		return rc;
	rc = rc_mfa_confirm(c->s, &c->actor, code);
	sodium_memzero(code, sizeof(code));
	if (rc)
		return cli_fail(rc);
	if (c->json)
		record_emit(record_bool(record_bool(record_new(), "enabled", 1), "tokens_revoked", 1));
	else
		printf("Two-factor authentication is enabled.  Your tokens were revoked.\n");
	return EX_DONE;
}

static int mfa_disable(struct cli *c, int argc, char **argv)
{
	char code[64];
	int rc = read_code(argc, argv, "disable", "Verification or recovery code: ", code,
	                   sizeof(code));

	if (rc)
		return rc;
	rc = rc_mfa_disable(c->s, &c->actor, code);
	sodium_memzero(code, sizeof(code));
	if (rc)
		return cli_fail(rc);
	if (c->json)
		record_emit(record_bool(record_bool(record_new(), "enabled", 0), "tokens_revoked", 1));
	else
		printf("Two-factor authentication is disabled.  Your tokens were revoked.\n");
	return EX_DONE;
}

static const struct action mfa_actions[] = {
	{ "status", mfa_status, "status", "whether two-factor authentication is on, and the policy" },
	{ "enable", mfa_enable, "enable",
	  "show a QR code and key for an authenticator app, ask for a code, print recovery "
	  "codes (with --json: print them and stay pending until \"mfa confirm\")" },
	{ "confirm", mfa_confirm, "confirm [--code-stdin]",
	  "finish a pending enrollment: asks for a code from the app (with --code-stdin, "
	  "reads it as one line of standard input)" },
	{ "disable", mfa_disable, "disable [--code-stdin]",
	  "turn two-factor authentication off: asks for a current or recovery code (with "
	  "--code-stdin, reads it as one line of standard input)" },
};

int cmd_mfa(struct cli *c, int argc, char **argv)
{
	return run_action(c, "mfa", mfa_actions, sizeof(mfa_actions) / sizeof(mfa_actions[0]),
	                  argc, argv);
}

/* ---- token ---------------------------------------------------------------------- */

/* Whose tokens: [--member NAME | --service-user NAME]; returns the first
 * positional index or -(status). */
struct owner_opt {
	const char *name;   /* NULL: the caller's own */
	int kind;
};

static int owner_opt(int argc, char **argv, struct owner_opt *o)
{
	static const struct option lo[] = {
		{ "member", required_argument, NULL, 'm' },
		{ "service-user", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	int ch;

	o->name = NULL;
	o->kind = RC_KIND_MEMBER;
	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		if (ch != 'm' && ch != 's')
			return -EX_USAGE;
		if (o->name)
			return -cli_usage("give one of --member and --service-user, once");
		o->name = optarg;
		o->kind = ch == 'm' ? RC_KIND_MEMBER : RC_KIND_SVCUSER;
	}
	return optind;
}

struct token_list {
	struct table *t;
};

static int token_row(const rc_token *tk, void *ctx)
{
	struct token_list *l = ctx;
	table_row(l->t, tk->id, rc_token_kind_name(tk->kind), tk->description, tk->created,
	          tk->last_used, tk->expires, tk->max_expiry,
	          rc_token_extension_name(tk->extension));
	return RC_OK;
}

static int token_list(struct cli *c, int argc, char **argv)
{
	static const char *const heads[] = { "ID", "KIND", "DESCRIPTION", "CREATED",
		"LAST USED", "EXPIRES", "MAX EXPIRY", "EXTENSION" };
	static const enum cell_type types[] = { CELL_STR, CELL_STR, CELL_STR, CELL_TIME,
		CELL_TIME, CELL_TIME, CELL_TIME, CELL_STR };
	struct owner_opt o;
	struct token_list l;
	int i = owner_opt(argc, argv, &o), rc;

	if (i < 0)
		return -i;
	if ((rc = want_args(argc - i, 0, 0, "token list [--member NAME | --service-user NAME]")))
		return rc;
	l.t = table_new(8, heads, types);
	rc = rc_token_foreach(c->s, &c->actor, o.name, o.kind, token_row, &l);
	if (!rc)
		table_print(l.t, c->json);
	table_free(l.t);
	return cli_fail(rc);
}

static int token_generate(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "description", required_argument, NULL, 'd' },
		{ "ttl", required_argument, NULL, 't' },
		{ "max-age", required_argument, NULL, 'a' },
		{ "extension", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	static const char usage[] = "token generate --description TEXT [--ttl DURATION] "
	                            "[--max-age DURATION] [--extension slide|fixed]";
	rc_token_req req = { 0 };
	rc_token info;
	char tok[RC_TOKEN_LEN + 1], exp[64];
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case 'd': req.description = optarg; break;
		case 't':
			if (rc_duration_parse(optarg, &req.ttl))
				return cli_usage("--ttl: %s", rc_errmsg());
			break;
		case 'a':
			if (rc_duration_parse(optarg, &req.max_age))
				return cli_usage("--max-age: %s", rc_errmsg());
			break;
		case 'e':
			if (rc_token_extension_parse(optarg, &req.extension))
				return cli_usage("--extension: %s", rc_errmsg());
			break;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 0, 0, usage)))
		return rc;
	if (!req.description)
		return cli_usage("--description is required: say what the token is for (%s)", usage);
	rc = rc_token_generate(c->s, &c->actor, &req, &info, tok);
	if (rc)
		return cli_fail(rc);
	if (c->json) {
		struct record *r = record_new();
		record_str(r, "id", info.id);
		record_str(r, "token", tok);
		record_time(r, "expires", info.expires);
		if (info.max_expiry)
			record_time(r, "max_expiry", info.max_expiry);
		record_str(r, "extension", rc_token_extension_name(info.extension));
		record_print(r, true);
		record_free(r);
	} else {
		rc_time_format(info.expires, exp, sizeof(exp));
		printf("Token %s (shown once; use it as the password):\n\n    %s\n\n"
		       "It expires at %s%s.\n", info.id, tok, exp,
		       info.extension == RC_EXT_SLIDE ? ", extended each time it is used" : "");
	}
	sodium_memzero(tok, sizeof(tok));
	return EX_DONE;
}

static int token_revoke(struct cli *c, int argc, char **argv)
{
	struct owner_opt o;
	int i = owner_opt(argc, argv, &o), rc;

	if (i < 0)
		return -i;
	if ((rc = want_args(argc - i, 1, 1, "token revoke ID [--member NAME | "
	                    "--service-user NAME]")))
		return rc;
	if (rc_looks_like_token(argv[i]))
		return cli_secret_on_argv("token revoke", "token", "give its ID instead, as \"token "
		                          "list\" shows it (the 16 characters after rct_)");
	rc = rc_token_revoke(c->s, &c->actor, o.name, o.kind, argv[i]);
	if (rc)
		return cli_fail(rc);
	if (c->json)
		record_emit(record_bool(record_new(), "revoked", 1));
	else
		printf("Token revoked.\n");
	return EX_DONE;
}

static int token_revoke_all(struct cli *c, int argc, char **argv)
{
	struct owner_opt o;
	size_t n = 0;
	int i = owner_opt(argc, argv, &o), rc;

	if (i < 0)
		return -i;
	if ((rc = want_args(argc - i, 0, 0, "token revoke-all [--member NAME | "
	                    "--service-user NAME]")))
		return rc;
	rc = rc_token_revoke_all(c->s, &c->actor, o.name, o.kind, &n);
	if (rc)
		return cli_fail(rc);
	if (c->json)
		record_emit(record_int(record_new(), "revoked", (long long)n));
	else
		printf("%zu token%s revoked.\n", n, n == 1 ? "" : "s");
	return EX_DONE;
}

static const struct action token_actions[] = {
	{ "list", token_list, "list [--member NAME | --service-user NAME]",
	  "tokens: yours, a member's (manage-members) or a service user's (manage-services)" },
	{ "generate", token_generate, "generate --description TEXT [--ttl DURATION] "
	  "[--max-age DURATION] [--extension slide|fixed]",
	  "a new API token, printed once (use it as the password)" },
	{ "revoke", token_revoke, "revoke ID [--member NAME | --service-user NAME]",
	  "revoke one token" },
	{ "revoke-all", token_revoke_all, "revoke-all [--member NAME | --service-user NAME]",
	  "revoke every token" },
};

int cmd_token(struct cli *c, int argc, char **argv)
{
	return run_action(c, "token", token_actions,
	                  sizeof(token_actions) / sizeof(token_actions[0]), argc, argv);
}
