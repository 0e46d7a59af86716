/*
 * cmd_misc.c - init, status, whoami, role, billing, settings, audit, and
 * the action dispatcher shared by the command groups.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdlib.h>
#include <unistd.h>
#include "opts.h"

static void group_help(FILE *f, const char *group, const struct action *acts, size_t n)
{
	fprintf(f, "Usage: rollcall [--json] %s ACTION [ARGS]\n\n", group);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  rollcall %s %s\n      %s\n", group, acts[i].usage, acts[i].help);
	fprintf(f, "\nSee rollcall(8).\n");
}

int run_action(struct cli *c, const char *group, const struct action *acts, size_t n,
               int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		group_help(argc < 2 ? stderr : stdout, group, acts, n);
		return argc < 2 ? EX_USAGE : EX_DONE;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], acts[i].name) != 0)
			continue;
		if (cli_want_help(argc - 1, argv + 1)) {
			printf("Usage: rollcall %s %s\n\n%s.\n", group, acts[i].usage, acts[i].help);
			return EX_DONE;
		}
		return acts[i].fn(c, argc - 1, argv + 1);
	}
	return cli_usage("unknown action \"%s %.40s\"", group, argv[1]);
}

int opt_plain(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	int ch;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1)
		if (ch == '?')
			return -EX_USAGE;
	return optind;
}

int opt_password_stdin(int argc, char **argv, bool *from_stdin)
{
	return opt_stdin(argc, argv, "password-stdin", from_stdin);
}

int opt_stdin(int argc, char **argv, const char *name, bool *from_stdin)
{
	const struct option lo[] = {
		{ name, no_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	int ch;

	*from_stdin = false;
	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		if (ch != 'p')
			return -EX_USAGE;
		*from_stdin = true;
	}
	return optind;
}

int want_args(int n, int want_min, int want_max, const char *usage)
{
	if (n < want_min)
		return cli_usage("missing argument: rollcall %s", usage);
	if (n > want_max)
		return cli_usage("too many arguments: rollcall %s", usage);
	return EX_DONE;
}

int opt_args(int argc, char **argv, int want_min, int want_max, const char *usage)
{
	int i = opt_plain(argc, argv), rc;

	if (i < 0)
		return i;
	if ((rc = want_args(argc - i, want_min, want_max, usage)))
		return -rc;
	return i;
}

/* ---- init --------------------------------------------------------------- */

int cmd_init(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "owner", required_argument, NULL, 'o' }, { "username", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *owner = NULL, *username = NULL;
	rc_code_result res;
	char exp[64];
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case 'o': owner = optarg; break;
		case 'u': username = optarg; break;
		case 'h':
			printf("Usage: rollcall [--state-dir DIR] init --owner EMAIL [--username NAME]\n\n"
			       "Create the state directory, master.key and the store, with the built-in\n"
			       "roles and the owner as a pending member.  Prints the owner's invitation\n"
			       "code.  Root only.\n");
			return EX_DONE;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 0, 0, "init --owner EMAIL [--username NAME]")))
		return rc;
	if (!owner)
		return cli_usage("init needs --owner EMAIL");
	if (c->actor.uid != 0)
		return cli_error(EX_PERM, "only root can initialise rollcall");
	if ((rc = cli_open(c)))
		return rc;
	rc = rc_store_create(&c->cfg, owner, username, &res);
	if (rc)
		return cli_fail(rc);
	rc_time_format(res.expires, exp, sizeof(exp));
	if (c->json) {
		struct record *r = record_new();
		record_str(r, "state_dir", c->cfg.state_dir);
		record_str(r, "username", res.username);
		record_str(r, "email", res.email);
		record_str(r, "code", res.code);
		record_time(r, "expires", res.expires);
		record_print(r, true);
		record_free(r);
	} else {
		printf("Initialised rollcall in %s.\n"
		       "Owner %s <%s> is invited; the invitation code is:\n\n    %s\n\n"
		       "It expires at %s.  Log in as %s with the code as the password,\n"
		       "or run \"rollcall member accept\" and type the code, to choose a "
		       "password.\n",
		       c->cfg.state_dir, res.username, res.email, res.code, exp, res.username);
	}
	sodium_memzero(&res, sizeof(res));
	return EX_DONE;
}

/* ---- status, whoami ----------------------------------------------------- */

int cmd_status(struct cli *c, int argc, char **argv)
{
	rc_status st;
	int i, rc;

	if ((i = opt_args(argc, argv, 0, 0, "status")) < 0)
		return -i;
	rc = rc_store_status(c->s, &c->actor, &st);
	if (rc)
		return cli_fail(rc);
	struct record *r = record_new();
	record_str(r, "state_dir", c->cfg.state_dir);
	record_str(r, "config", c->cfg.path[0] ? c->cfg.path : "(defaults)");
	record_int(r, "schema", st.schema);
	record_int(r, "generation", (long long)st.generation);
	record_int(r, "members", (long long)st.members);
	record_int(r, "pending", (long long)st.pending);
	record_int(r, "roles", (long long)st.roles);
	record_int(r, "services", (long long)st.services);
	record_int(r, "service_users", (long long)st.service_users);
	record_int(r, "audit_entries", (long long)st.audit_entries);
	record_int(r, "store_bytes_used", (long long)st.map_used);
	record_int(r, "store_bytes_max", (long long)st.map_size);
	record_print(r, c->json);
	record_free(r);
	return EX_DONE;
}

int cmd_whoami(struct cli *c, int argc, char **argv)
{
	rc_identity me;
	char perms[256];
	int i, rc;

	if ((i = opt_args(argc, argv, 0, 0, "whoami")) < 0)
		return -i;
	if ((rc = rc_whoami(c->s, &c->actor, &me)) != RC_OK)
		return cli_fail(rc);
	struct record *r = record_int(record_str(record_new(), "username", me.username), "uid",
	                              me.uid);
	rc_perms_format(me.perms, perms, sizeof(perms));
	if (me.root) {
		record_str(r, "role", "root (above every role)");
	} else {
		record_str(r, "email", me.email);
		record_str(r, "role", me.role);
		record_str(r, "status", rc_member_status_name(me.status));
	}
	record_str(r, "permissions", perms);
	record_print(r, c->json);
	record_free(r);
	return EX_DONE;
}

/* ---- role --------------------------------------------------------------- */

static const char *const role_hdr[] = {
	"ROLE", "RANK", "VIEW", "MEMBERS", "INVITE", "MANAGE-MEMBERS", "MANAGE-SERVICES",
	"START-STOP", "BILLING-VIEW", "BILLING", "AUDIT", "BUILT-IN" };
static const enum cell_type role_ty[] = {
	CELL_STR, CELL_INT, CELL_BOOL, CELL_BOOL, CELL_BOOL, CELL_BOOL, CELL_BOOL, CELL_BOOL,
	CELL_BOOL, CELL_BOOL, CELL_BOOL, CELL_BOOL };

static int role_row(const rc_role *ro, void *ctx)
{
#define P(bit) (int)((ro->perms & (bit)) != 0)
	table_row(ctx, ro->name, (long long)ro->rank, P(RC_PERM_VIEW), P(RC_PERM_MEMBERS),
	          P(RC_PERM_INVITE), P(RC_PERM_MANAGE_MEMBERS), P(RC_PERM_MANAGE_SERVICES),
	          P(RC_PERM_START_STOP), P(RC_PERM_BILLING_VIEW), P(RC_PERM_BILLING),
	          P(RC_PERM_AUDIT), ro->builtin);
#undef P
	return RC_OK;
}

static int r_list(struct cli *c, int argc, char **argv)
{
	int i, rc;

	if ((i = opt_args(argc, argv, 0, 0, "role list")) < 0)
		return -i;
	struct table *t = table_new(12, role_hdr, role_ty);
	rc = rc_role_foreach(c->s, &c->actor, role_row, t);
	if (!rc)
		table_print(t, c->json);
	table_free(t);
	return cli_fail(rc);
}

static int r_show(struct cli *c, int argc, char **argv)
{
	rc_role ro;
	char perms[256];
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "role show NAME")) < 0)
		return -i;
	rc = rc_role_get(c->s, &c->actor, argv[i], &ro);
	if (rc)
		return cli_fail(rc);
	struct record *r = record_new();
	char group[64];
	snprintf(group, sizeof(group), "rollcall-%s", ro.name);
	rc_perms_format(ro.perms, perms, sizeof(perms));
	record_str(r, "role", ro.name);
	record_int(r, "rank", ro.rank);
	record_str(r, "permissions", perms);
	record_str(r, "group", group);
	record_int(r, "gid", ro.gid);
	record_bool(r, "built_in", ro.builtin);
	record_print(r, c->json);
	record_free(r);
	return EX_DONE;
}

static int r_create(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rank", required_argument, NULL, 'r' },
		{ "permissions", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *rank_s = NULL, *perms_s = NULL;
	uint64_t rank;
	uint32_t perms;
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case 'r': rank_s = optarg; break;
		case 'p': perms_s = optarg; break;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 1, 1, "role create NAME --rank N --permissions P,...")))
		return rc;
	if (!rank_s || !perms_s)
		return cli_usage("role create needs --rank N and --permissions LIST");
	if (rc_uint_parse(rank_s, 1, 99, &rank))
		return cli_error(EX_REFUSED, "--rank: %s", rc_errmsg());
	if (rc_perms_parse(perms_s, &perms))
		return cli_error(EX_REFUSED, "--permissions: %s", rc_errmsg());
	rc = rc_role_create(c->s, &c->actor, argv[optind], (uint32_t)rank, perms);
	if (!rc && !c->json)
		printf("Role %s created (rank %llu).\n", argv[optind], (unsigned long long)rank);
	else if (!rc)
		record_emit(record_int(record_str(record_new(), "role", argv[optind]), "rank",
		                       (long long)rank));
	return cli_fail(rc);
}

static int r_delete(struct cli *c, int argc, char **argv)
{
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "role delete NAME")) < 0)
		return -i;
	rc = rc_role_delete(c->s, &c->actor, argv[i]);
	if (!rc && !c->json)
		printf("Role %s deleted.\n", argv[i]);
	else if (!rc)
		record_emit(record_bool(record_str(record_new(), "role", argv[i]), "deleted", 1));
	return cli_fail(rc);
}

static const struct action role_actions[] = {
	{ "list", r_list, "list", "the roles and their permissions, highest rank first" },
	{ "show", r_show, "show NAME", "one role" },
	{ "create", r_create, "create NAME --rank 1-99 --permissions PERM[,PERM...]",
	  "a custom role; permissions: view, members, invite, manage-members, "
	  "manage-services, start-stop, billing-view, billing, audit, notifications (or none)" },
	{ "delete", r_delete, "delete NAME", "a custom role that nobody has" },
};

int cmd_role(struct cli *c, int argc, char **argv)
{
	return run_action(c, "role", role_actions, sizeof(role_actions) / sizeof(role_actions[0]),
	                  argc, argv);
}

/* ---- billing and settings ----------------------------------------------- */

static int kv_row(const rc_setting *st, void *ctx)
{
	table_row(ctx, st->key, st->value);
	return RC_OK;
}

static int setting_row(const rc_setting *st, void *ctx)
{
	table_row(ctx, st->key, st->value, st->help);
	return RC_OK;
}

static int b_show(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "FIELD", "VALUE" };
	static const enum cell_type ty[] = { CELL_STR, CELL_STR };
	int i, rc;

	if ((i = opt_args(argc, argv, 0, 0, "billing show")) < 0)
		return -i;
	struct table *t = table_new(2, hdr, ty);
	rc = rc_billing_foreach(c->s, &c->actor, kv_row, t);
	if (!rc)
		table_print(t, c->json);
	table_free(t);
	return cli_fail(rc);
}

static int b_set(struct cli *c, int argc, char **argv)
{
	int i, rc;

	if ((i = opt_args(argc, argv, 2, 2, "billing set FIELD VALUE")) < 0)
		return -i;
	rc = rc_billing_set(c->s, &c->actor, argv[i], argv[i + 1]);
	if (!rc && !c->json)
		printf("Billing %s set.\n", argv[i]);
	else if (!rc)
		record_emit(record_bool(record_str(record_new(), "field", argv[i]), "set", 1));
	return cli_fail(rc);
}

static const struct action billing_actions[] = {
	{ "show", b_show, "show", "the billing details (billing-view)" },
	{ "set", b_set, "set company|contact_email|address|country|vat_id|plan VALUE",
	  "change a billing detail (billing)" },
};

int cmd_billing(struct cli *c, int argc, char **argv)
{
	return run_action(c, "billing", billing_actions,
	                  sizeof(billing_actions) / sizeof(billing_actions[0]), argc, argv);
}

static int s_show(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "SETTING", "VALUE", "ACCEPTS" };
	static const enum cell_type ty[] = { CELL_STR, CELL_STR, CELL_STR };
	int i, rc;

	if ((i = opt_args(argc, argv, 0, 0, "settings show")) < 0)
		return -i;
	struct table *t = table_new(3, hdr, ty);
	rc = rc_settings_foreach(c->s, &c->actor, setting_row, t);
	if (!rc)
		table_print(t, c->json);
	table_free(t);
	return cli_fail(rc);
}

static int s_get(struct cli *c, int argc, char **argv)
{
	char value[RC_SETTING_MAX];
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "settings get KEY")) < 0)
		return -i;
	rc = rc_settings_get(c->s, &c->actor, argv[i], value, sizeof(value));
	if (rc)
		return cli_fail(rc);
	if (c->json) {
		record_emit(record_str(record_str(record_new(), "setting", argv[i]), "value", value));
	} else {
		printf("%s\n", value);
	}
	return EX_DONE;
}

static int s_set(struct cli *c, int argc, char **argv)
{
	char value[RC_SETTING_MAX];
	int i, rc;

	if ((i = opt_args(argc, argv, 2, 2, "settings set KEY VALUE")) < 0)
		return -i;
	rc = rc_settings_set(c->s, &c->actor, argv[i], argv[i + 1]);
	if (!rc)
		rc = rc_settings_get(c->s, &c->actor, argv[i], value, sizeof(value));
	if (rc)
		return cli_fail(rc);
	if (c->json) {
		record_emit(record_str(record_str(record_new(), "setting", argv[i]), "value", value));
	} else {
		printf("%s = %s\n", argv[i], value);
	}
	return EX_DONE;
}

static const struct action settings_actions[] = {
	{ "show", s_show, "show", "every policy, its value and what it accepts" },
	{ "get", s_get, "get KEY", "one policy's value" },
	{ "set", s_set, "set KEY VALUE", "change a policy (manage-members)" },
};

int cmd_settings(struct cli *c, int argc, char **argv)
{
	return run_action(c, "settings", settings_actions,
	                  sizeof(settings_actions) / sizeof(settings_actions[0]), argc, argv);
}

/* ---- audit -------------------------------------------------------------- */

static int audit_row(const rc_audit_entry *e, void *ctx)
{
	table_row(ctx, (long long)e->seq, (int64_t)e->time, e->actor, e->action, e->target,
	          e->result, e->origin, (long long)e->count, (int64_t)e->first);
	return RC_OK;
}

int cmd_audit(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "since", required_argument, NULL, 's' }, { "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	static const char *const hdr[] = { "SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "RESULT",
	                                   "ORIGIN", "COUNT", "FIRST" };
	static const enum cell_type ty[] = { CELL_INT, CELL_TIME, CELL_STR, CELL_STR, CELL_STR,
	                                     CELL_STR, CELL_STR, CELL_INT, CELL_TIME };
	int64_t since = 0, ago;
	uint64_t limit = 0;
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case 's':
			if (rc_duration_parse(optarg, &ago))
				return cli_error(EX_USAGE, "--since: %s", rc_errmsg());
			since = rc_store_now(c->s) - ago;
			break;
		case 'l':
			if (rc_uint_parse(optarg, 1, 1000000000, &limit))
				return cli_error(EX_USAGE, "--limit: %s", rc_errmsg());
			break;
		case 'h':
			printf("Usage: rollcall audit [--since DURATION] [--limit N]\n\n"
			       "The audit log, oldest first: every change, who made it, from where,\n"
			       "and refusals for lack of permission.  Refusals that changed nothing,\n"
			       "by callers who are not members (and PAM refusals of unknown users,\n"
			       "locked or refused accounts) are counted instead: one row (SEQ 0) per\n"
			       "actor, action and origin, with COUNT refusals from FIRST to TIME; they\n"
			       "are kept apart, so they never push a change out of the log.\n"
			       "--since 24h shows the last day, --limit N the newest N rows.  Needs\n"
			       "the audit permission.\n");
			return EX_DONE;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 0, 0, "audit [--since DURATION] [--limit N]")))
		return rc;
	struct table *t = table_new(9, hdr, ty);
	rc = rc_audit_foreach(c->s, &c->actor, since, (size_t)limit, audit_row, t);
	if (!rc)
		table_print(t, c->json);
	table_free(t);
	return cli_fail(rc);
}

/* ---- mail-template ------------------------------------------------------ */

/* Templates are read as root when setuid: for root (and unprivileged runs,
 * which read with their own rights) only. */
static int mt_open(struct cli *c)
{
	if (c->privileged)
		return cli_error(EX_PERM, "mail-template is for root");
	return cli_open(c);
}

static int mt_show(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "builtin", no_argument, NULL, 'b' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	rc_mail_template *t = NULL;
	bool builtin = false;
	int ch, rc, kind;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case 'b': builtin = true; break;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 1, 1, "mail-template show invitation|resend|reset")))
		return rc;
	if (rc_mail_kind_parse(argv[optind], &kind))
		return cli_usage("%s", rc_errmsg());
	if ((rc = mt_open(c)))
		return rc;
	if (builtin)
		c->cfg.mail_template_dir[0] = '\0';
	if ((rc = rc_mail_template_load(&c->cfg, kind, &t)))
		return cli_fail(rc);
	fputs(rc_mail_template_text(t), stdout);
	rc_mail_template_free(t);
	return EX_DONE;
}

static int mt_check(struct cli *c, int argc, char **argv)
{
	rc_mail_template *t;
	int i, rc;

	if ((i = opt_args(argc, argv, 0, 0, "mail-template check")) < 0)
		return -i;
	if ((rc = mt_open(c)))
		return rc;
	for (int k = 0; k < RC_MAIL_KINDS; k++) {
		if ((rc = rc_mail_template_load(&c->cfg, k, &t)))
			return cli_fail(rc);
		if (!c->json)
			printf("%s: ok\n", rc_mail_template_source(t));
		rc_mail_template_free(t);
	}
	return EX_DONE;
}

static const struct action mt_actions[] = {
	{ "show", mt_show, "show [--builtin] invitation|resend|reset",
	  "print the template in use (a file of mail_template_dir, or the built-in one; "
	  "--builtin: the built-in one), a start for your own" },
	{ "check", mt_check, "check", "load and check the three templates in use (root only)" },
};

int cmd_mail_template(struct cli *c, int argc, char **argv)
{
	return run_action(c, "mail-template", mt_actions,
	                  sizeof(mt_actions) / sizeof(mt_actions[0]), argc, argv);
}
