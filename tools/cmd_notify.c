/*
 * cmd_notify.c - rollcall notification list|create|update|delete|send.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdlib.h>
#include "cli.h"
#include "opts.h"

static int row(const rc_notification *n, void *ctx)
{
	char ev[256];
	rc_events_format(n->events, ev, sizeof(ev));
	table_row(ctx, n->email, ev, n->creator, n->created);
	return RC_OK;
}

static int n_list(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "EMAIL", "EVENTS", "CREATED BY", "CREATED" };
	static const enum cell_type ty[] = { CELL_STR, CELL_STR, CELL_STR, CELL_TIME };
	int i, rc;

	if ((i = opt_args(argc, argv, 0, 0, "notification list")) < 0)
		return -i;
	struct table *t = table_new(4, hdr, ty);
	rc = rc_notification_foreach(c->s, &c->actor, row, t);
	if (!rc)
		table_print(t, c->json);
	table_free(t);
	return cli_fail(rc);
}

/* create and update: EMAIL --events LIST */
static int n_set(struct cli *c, int argc, char **argv, bool create)
{
	static const struct option lo[] = {
		{ "events", required_argument, NULL, 'e' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *usage = create ? "notification create EMAIL --events LIST"
	                           : "notification update EMAIL --events LIST";
	const char *events = NULL;
	uint32_t mask;
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		if (ch == 'e')
			events = optarg;
		else
			return EX_USAGE;
	}
	if ((rc = want_args(argc - optind, 1, 1, usage)))
		return rc;
	if (!events)
		return cli_usage("%s: --events is required (a comma-separated list, or all)", usage);
	if ((rc = rc_events_parse(events, &mask)) != 0)
		return cli_fail(rc);
	const char *email = argv[optind];
	rc = create ? rc_notification_create(c->s, &c->actor, email, mask)
	            : rc_notification_update(c->s, &c->actor, email, mask);
	if (rc)
		return cli_fail(rc);
	char ev[256];
	rc_events_format(mask, ev, sizeof(ev));
	if (c->json) {
		struct record *r = record_new();
		record_str(r, "email", email);
		record_str(r, "events", ev);
		record_print(r, true);
		record_free(r);
	} else {
		printf("Notification %s for %s: %s.\n", create ? "created" : "updated", email, ev);
	}
	return EX_DONE;
}

static int n_create(struct cli *c, int argc, char **argv)
{
	return n_set(c, argc, argv, true);
}

static int n_update(struct cli *c, int argc, char **argv)
{
	return n_set(c, argc, argv, false);
}

static int n_delete(struct cli *c, int argc, char **argv)
{
	int i, rc;

	if ((i = opt_args(argc, argv, 1, 1, "notification delete EMAIL")) < 0)
		return -i;
	rc = rc_notification_delete(c->s, &c->actor, argv[i]);
	if (rc)
		return cli_fail(rc);
	if (c->json) {
		struct record *r = record_new();
		record_str(r, "email", argv[i]);
		record_bool(r, "deleted", 1);
		record_print(r, true);
		record_free(r);
	} else {
		printf("Notification for %s deleted.\n", argv[i]);
	}
	return EX_DONE;
}

static int no_row(const rc_notification *n, void *ctx)
{
	(void)n;
	(void)ctx;
	return RC_OK;
}

static int n_send(struct cli *c, int argc, char **argv)
{
	size_t sent, failed;
	int i, rc;

	if ((i = opt_args(argc, argv, 0, 0, "notification send")) < 0)
		return -i;
	/* the permission first (a refusal says so, whatever the configuration) */
	if ((rc = rc_notification_foreach(c->s, &c->actor, no_row, NULL)) != 0)
		return cli_fail(rc);
	if ((rc = cli_notify_deliver(c, true, &sent, &failed)) != 0)
		return rc;
	if (c->json) {
		struct record *r = record_new();
		record_int(r, "sent", (long long)sent);
		record_int(r, "failed", (long long)failed);
		record_print(r, true);
		record_free(r);
	} else {
		printf("%zu notification mail(s) sent, %zu failed.\n", sent, failed);
	}
	return EX_DONE;
}

static const struct action actions[] = {
	{ "list", n_list, "list", "the addresses subscribed to events (notifications)" },
	{ "create", n_create, "create EMAIL --events LIST",
	  "subscribe EMAIL to events (notifications); LIST: all, or some of\n"
	  "      invitation-accepted, invitation-expired, member-locked, mfa-disabled,\n"
	  "      role-changed, token-created, member-deleted" },
	{ "update", n_update, "update EMAIL --events LIST",
	  "replace the events EMAIL is subscribed to (notifications)" },
	{ "delete", n_delete, "delete EMAIL", "unsubscribe EMAIL (notifications)" },
	{ "send", n_send, "send",
	  "mail the queued notices, those of logins too (notifications);\n"
	  "      run it from cron or a systemd timer" },
};

int cmd_notification(struct cli *c, int argc, char **argv)
{
	return run_action(c, "notification", actions, sizeof(actions) / sizeof(actions[0]),
	                  argc, argv);
}
