/*
 * cmd_service.c - rollcall service ... and rollcall service-user ...
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdlib.h>
#include <unistd.h>
#include "opts.h"


static int svc_row(const rc_service *svc, void *ctx)
{
	table_row(ctx, svc->name, svc->state == RC_SERVICE_RUNNING ? "running" : "stopped",
	          svc->default_user, svc->runs_as, (int64_t)svc->created);
	return RC_OK;
}

static int s_list(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "NAME", "STATE", "DEFAULT USER", "RUNS AS", "CREATED" };
	static const enum cell_type ty[] = { CELL_STR, CELL_STR, CELL_STR, CELL_STR, CELL_TIME };
	int i, rc;

	if ((i = opt_args(argc, argv, 0, 0, "service list")) < 0)
		return -i;
	struct table *t = table_new(5, hdr, ty);
	rc = rc_service_foreach(c->s, &c->actor, svc_row, t);
	if (!rc)
		table_print(t, c->json);
	table_free(t);
	return cli_fail(rc);
}

static int s_show(struct cli *c, int argc, char **argv)
{
	rc_service svc;
	char g[64];
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "service show NAME")) < 0)
		return -i;
	rc = rc_service_get(c->s, &c->actor, argv[i], &svc);
	if (rc)
		return cli_fail(rc);
	struct record *r = record_new();
	record_str(r, "name", svc.name);
	record_str(r, "state", svc.state == RC_SERVICE_RUNNING ? "running" : "stopped");
	record_str(r, "default_user", svc.default_user);
	record_str(r, "runs_as", svc.runs_as);
	record_time(r, "created", svc.created);
	snprintf(g, sizeof(g), "svc-%s", svc.name);
	record_str(r, "group", g);
	record_int(r, "gid", svc.gid);
	snprintf(g, sizeof(g), "svc-%s-readonly", svc.name);
	record_str(r, "readonly_group", g);
	record_int(r, "readonly_gid", svc.gid_readonly);
	snprintf(g, sizeof(g), "svc-%s-replication", svc.name);
	record_str(r, "replication_group", g);
	record_int(r, "replication_gid", svc.gid_replication);
	record_print(r, c->json);
	record_free(r);
	return EX_DONE;
}

static void print_secret(struct cli *c, const rc_secret_result *r, const char *verb)
{
	if (c->json) {
		struct record *rec = record_str(record_new(), "username", r->username);
		record_emit(r->generated ? record_str(rec, "password", r->password) : rec);
	} else if (r->generated) {
		printf("User \"%s\" %s with password \"%s\".\n", r->username, verb, r->password);
	} else {
		printf("User \"%s\" %s.\n", r->username, verb);
	}
}

/* --runs-as USER, the one option of create and set: the index of the first
 * positional argument, or -(exit status). */
static int opt_runs_as(int argc, char **argv, const char **runs_as)
{
	static const struct option lo[] = {
		{ "runs-as", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	int ch;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		if (ch == 'r')
			*runs_as = optarg;
		else
			return -EX_USAGE;
	}
	return optind;
}

static int s_create(struct cli *c, int argc, char **argv)
{
	rc_secret_result def;
	const char *runs_as = NULL;
	int i = opt_runs_as(argc, argv, &runs_as), rc;

	if (i < 0)
		return -i;
	if ((rc = want_args(argc - i, 1, 1, "service create NAME [--runs-as USER]")))
		return rc;
	rc = rc_service_create_as(c->s, &c->actor, argv[i], runs_as, &def);
	if (rc)
		return cli_fail(rc);
	if (c->json) {
		record_emit(record_str(record_str(record_str(record_str(record_new(), "name", argv[i]),
		            "state", "running"), "default_user", def.username), "password",
		            def.password));
	} else {
		printf("Service \"%s\" created and running.\n", argv[i]);
		printf("Protected user \"%s\" created with password \"%s\".\n", def.username,
		       def.password);
	}
	sodium_memzero(&def, sizeof(def));
	return EX_DONE;
}

static int s_set(struct cli *c, int argc, char **argv)
{
	const char *runs_as = NULL;
	int i = opt_runs_as(argc, argv, &runs_as), rc;

	if (i < 0)
		return -i;
	if ((rc = want_args(argc - i, 1, 1, "service set NAME --runs-as USER")))
		return rc;
	if (!runs_as)
		return cli_usage("service set: nothing to set (--runs-as USER, or \"\" for none)");
	rc = rc_service_set_runs_as(c->s, &c->actor, argv[i], runs_as);
	if (!rc && !c->json) {
		if (runs_as[0])
			printf("Service \"%s\" runs as \"%s\".\n", argv[i], runs_as);
		else
			printf("Service \"%s\" runs as no particular user.\n", argv[i]);
	} else if (!rc) {
		record_emit(record_str(record_str(record_new(), "name", argv[i]), "runs_as", runs_as));
	}
	return cli_fail(rc);
}

static int set_running(struct cli *c, int argc, char **argv, int running)
{
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1,
	                  running ? "service start NAME" : "service stop NAME")) < 0)
		return -i;
	rc = rc_service_set_running(c->s, &c->actor, argv[i], running);
	if (!rc && !c->json)
		printf("Service \"%s\" %s.\n", argv[i], running ? "started" : "stopped");
	else if (!rc)
		record_emit(record_str(record_str(record_new(), "name", argv[i]), "state",
		                       running ? "running" : "stopped"));
	return cli_fail(rc);
}

static int s_start(struct cli *c, int argc, char **argv)
{
	return set_running(c, argc, argv, 1);
}

static int s_stop(struct cli *c, int argc, char **argv)
{
	return set_running(c, argc, argv, 0);
}

static int s_delete(struct cli *c, int argc, char **argv)
{
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "service delete NAME")) < 0)
		return -i;
	rc = rc_service_delete(c->s, &c->actor, argv[i]);
	if (!rc && !c->json)
		printf("Service \"%s\" and its users deleted.\n", argv[i]);
	else if (!rc)
		record_emit(record_bool(record_str(record_new(), "name", argv[i]), "deleted", 1));
	return cli_fail(rc);
}

static const struct action service_actions[] = {
	{ "list", s_list, "list", "services: NAME STATE DEFAULT USER RUNS AS CREATED (view)" },
	{ "show", s_show, "show NAME", "one service and its groups (view)" },
	{ "create", s_create, "create NAME [--runs-as USER]",
	  "create a running service and its protected default user (start-stop)" },
	{ "set", s_set, "set NAME --runs-as USER",
	  "the local user the service runs as, who may verify its users' passwords "
	  "(\"\" for none; manage-services)" },
	{ "start", s_start, "start NAME", "start a stopped service (start-stop)" },
	{ "stop", s_stop, "stop NAME", "stop a service; its users cannot be managed (start-stop)" },
	{ "delete", s_delete, "delete NAME", "delete a stopped service and its users (start-stop)" },
};

int cmd_service(struct cli *c, int argc, char **argv)
{
	return run_action(c, "service", service_actions,
	                  sizeof(service_actions) / sizeof(service_actions[0]), argc, argv);
}

/* ---- service users ------------------------------------------------------- */

static int su_row(const rc_svcuser *u, void *ctx)
{
	table_row(ctx, u->username, u->read_only, u->replication, u->protected_user,
	          RC_SVCUSER_PW_ENCRYPTION);
	return RC_OK;
}

static int u_list(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "USERNAME", "READ-ONLY", "REPLICATION", "PROTECTED",
	                                   "PASSWORD ENCRYPTION" };
	static const enum cell_type ty[] = { CELL_STR, CELL_BOOL, CELL_BOOL, CELL_BOOL, CELL_STR };
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "service-user list SERVICE")) < 0)
		return -i;
	struct table *t = table_new(5, hdr, ty);
	rc = rc_svcuser_foreach(c->s, &c->actor, argv[i], su_row, t);
	if (!rc)
		table_print(t, c->json);
	table_free(t);
	return cli_fail(rc);
}

/* The password for create/update-password: stdin, the terminal (twice; an
 * empty answer generates one), or generated when there is no terminal. */
static int get_password(bool from_stdin, char *pw, size_t len, const char **out)
{
	int rc = cli_read_secret(from_stdin, "password", "Password (empty to generate one): ",
	                         true, true, pw, len);
	if (rc < 0) {
		*out = NULL;
		return EX_DONE;
	}
	if (rc)
		return rc;
	*out = pw[0] ? pw : NULL;
	return EX_DONE;
}

static int u_create(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "read-only", no_argument, NULL, 'r' }, { "replication", no_argument, NULL, 'R' },
		{ "password-stdin", no_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	char pw[RC_PASSWORD_MAX + 2] = "";
	const char *password = NULL;
	bool ro = false, repl = false, from_stdin = false;
	rc_secret_result res;
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case 'r': ro = true; break;
		case 'R': repl = true; break;
		case 'p': from_stdin = true; break;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 2, 2, "service-user create SERVICE USER")))
		return rc;
	if ((rc = rc_valid_svcuser_name(argv[optind + 1])))
		return cli_fail(rc);
	if ((rc = get_password(from_stdin, pw, sizeof(pw), &password)))
		return rc;
	rc = rc_svcuser_create(c->s, &c->actor, argv[optind], argv[optind + 1], password, ro,
	                       repl, &res);
	sodium_memzero(pw, sizeof(pw));
	if (rc)
		return cli_fail(rc);
	print_secret(c, &res, "created");
	sodium_memzero(&res, sizeof(res));
	return EX_DONE;
}

static int u_update_password(struct cli *c, int argc, char **argv)
{
	char pw[RC_PASSWORD_MAX + 2] = "";
	const char *password = NULL;
	bool from_stdin = false;
	rc_secret_result res;
	int rc;

	if ((rc = opt_password_stdin(argc, argv, &from_stdin)) < 0)
		return -rc;
	if ((rc = want_args(argc - optind, 2, 2, "service-user update-password SERVICE USER")))
		return rc;
	if ((rc = get_password(from_stdin, pw, sizeof(pw), &password)))
		return rc;
	rc = rc_svcuser_update_password(c->s, &c->actor, argv[optind], argv[optind + 1], password,
	                                &res);
	sodium_memzero(pw, sizeof(pw));
	if (rc)
		return cli_fail(rc);
	print_secret(c, &res, "updated");
	sodium_memzero(&res, sizeof(res));
	return EX_DONE;
}

static int on_off(const char *opt, const char *v, int *out)
{
	if (strcmp(v, "on") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
		*out = 0;
	else
		return cli_usage("%s takes on or off, not \"%.40s\"", opt, v);
	return EX_DONE;
}

static int u_set(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "read-only", required_argument, NULL, 'r' },
		{ "replication", required_argument, NULL, 'R' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	int ro = -1, repl = -1, ch, rc;
	const char *name = NULL;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case 'r': if ((rc = on_off("--read-only", optarg, &ro))) return rc; break;
		case 'R': if ((rc = on_off("--replication", optarg, &repl))) return rc; break;
		case 'n': name = optarg; break;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 2, 2, "service-user set SERVICE USER [--read-only on|off] "
	                    "[--replication on|off] [--name NEW]")))
		return rc;
	if (ro < 0 && repl < 0 && !name)
		return cli_usage("service-user set needs --read-only, --replication or --name");
	rc = rc_svcuser_set(c->s, &c->actor, argv[optind], argv[optind + 1], ro, repl, name);
	if (rc)
		return cli_fail(rc);
	if (c->json)
		record_emit(record_bool(record_str(record_new(), "username",
		                                   name ? name : argv[optind + 1]), "updated", 1));
	else
		printf("User \"%s\" updated.\n", name ? name : argv[optind + 1]);
	return EX_DONE;
}

static int u_show_password(struct cli *c, int argc, char **argv)
{
	rc_secret_result res;
	int i, rc;

	if ((i = opt_args(argc, argv, 2, 2, "service-user show-password SERVICE USER")) < 0)
		return -i;
	rc = rc_svcuser_show_password(c->s, &c->actor, argv[i], argv[i + 1], &res);
	if (rc)
		return cli_fail(rc);
	if (c->json) {
		record_emit(record_str(record_str(record_new(), "username", res.username), "password",
		                       res.password));
	} else {
		printf("%s\n", res.password);
	}
	sodium_memzero(&res, sizeof(res));
	return EX_DONE;
}

static int u_delete(struct cli *c, int argc, char **argv)
{
	int i, rc;

	if ((i = opt_args(argc, argv, 2, 2, "service-user delete SERVICE USER")) < 0)
		return -i;
	rc = rc_svcuser_delete(c->s, &c->actor, argv[i], argv[i + 1]);
	if (!rc && !c->json)
		printf("User \"%s\" deleted.\n", argv[i + 1]);
	else if (!rc)
		record_emit(record_bool(record_str(record_new(), "username", argv[i + 1]), "deleted", 1));
	return cli_fail(rc);
}

static const struct action su_actions[] = {
	{ "list", u_list, "list SERVICE",
	  "USERNAME READ-ONLY REPLICATION PROTECTED PASSWORD ENCRYPTION (view)" },
	{ "create", u_create, "create SERVICE USER [--read-only] [--replication] [--password-stdin]",
	  "a service user; 6-32 letters, digits or _, starting with a letter; password 24-64 "
	  "characters without \" or ', or generated (manage-services)" },
	{ "update-password", u_update_password, "update-password SERVICE USER [--password-stdin]",
	  "a new password, given or generated (manage-services)" },
	{ "set", u_set, "set SERVICE USER [--read-only on|off] [--replication on|off] [--name NEW]",
	  "change flags or rename (manage-services)" },
	{ "show-password", u_show_password, "show-password SERVICE USER",
	  "print the stored password (manage-services)" },
	{ "delete", u_delete, "delete SERVICE USER", "delete a service user (manage-services)" },
};

int cmd_service_user(struct cli *c, int argc, char **argv)
{
	return run_action(c, "service-user", su_actions, sizeof(su_actions) / sizeof(su_actions[0]),
	                  argc, argv);
}
