/*
 * cli.h - shared by the rollcall command's source files.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_CLI_H
#define RC_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sodium.h>
#include "rollcall.h"

/* Exit statuses (rollcall(8)). */
enum { EX_DONE = 0, EX_REFUSED = 1, EX_USAGE = 2, EX_PERM = 3, EX_STORE = 4 };

struct cli {
	rc_config cfg;
	rc_store *s;
	rc_actor actor;
	bool json;
	bool privileged;          /* setuid: the caller is not the effective user */
	gid_t caller_gid;         /* the caller's real gid (actor.uid: its uid) */
	gid_t *caller_groups;     /* and supplementary groups, when setuid */
	int caller_ngroups;       /* -1: not kept (the process keeps its own) */
	const char *state_dir;    /* --state-dir */
	const char *config;       /* --config */
	const char *prog;
	uid_t real_uid;           /* the caller (actor.uid unless --as) */
	/* a host in a fleet (fleetrun.c) */
	const char *as_member;    /* --as NAME (root) */
	char as_name[RC_NAME_MAX + 1];
	const char *bind_pw_file; /* --bind-password-file FILE */
	bool mail_defer;          /* codes' mails held until the directory commits */
	char *self_pw;            /* the acting member's password, checked by the
	                             command (passwd's current one): bound with,
	                             not asked again (sodium_malloc) */
};

/* ---- a host in a fleet (fleetrun.c) ----------------------------------------
 * The state directory joined a fleet (fleet.conf). */
bool cli_fleet_host(const struct cli *c);
/* --as NAME (root only, a fleet host): the actor becomes that member. */
int cli_fleet_as(struct cli *c);
/* The command was given the acting member's own password PW (checked by
 * lib/ against the replica before anything is sent): on a fleet host the
 * directory is bound with it instead of asking for it again. */
void cli_fleet_offer_password(struct cli *c, const char *pw);
/* FN run with its changes captured and sent to the directory. */
int cli_fleet_run(struct cli *c, int (*fn)(struct cli *, int, char **), int nargs, char **args);
/* A secret from the terminal without echo: 0, an exit status, or -1 when
 * there is no terminal. */
int cli_tty_secret(const char *prompt, char *buf, size_t len);
/* Secrets read are kept (ON) and given again after cli_secret_rewind (a
 * command run again after a conflict); OFF forgets them. */
void cli_secret_replay(bool on);
void cli_secret_rewind(void);
/* The mails held while mail_defer: sent (SEND) or dropped. */
void cli_mail_flush(struct cli *c, bool send);

/* Load the configuration and open the store; prints and returns an exit
 * status on failure. */
int cli_open(struct cli *c);
void cli_close(struct cli *c);
/* Print "rollcall: <message>" for a library error; return its exit status. */
int cli_fail(int rc);
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Options: parse ARGV (argv[0] is the subcommand); returns -1 when done. */
bool cli_want_help(int argc, char **argv);
/* Read a secret: from stdin (one line) or the terminal without echo, asked
 * twice when CONFIRM.  WHAT names it in messages ("password", "verification
 * code").  Returns 0, an exit status (BUF wiped), or -1 when there is no
 * terminal to ask.  EMPTY_OK lets "" through.  Secrets never come from the
 * command line, where every local user can read them (/proc/PID/cmdline). */
int cli_read_secret(bool from_stdin, const char *what, const char *prompt, bool confirm,
                    bool empty_ok, char *buf, size_t len);
/* Refuse a secret given as an argument: exit status 2, saying how to pass
 * it; nothing is consumed. */
int cli_secret_on_argv(const char *command, const char *what, const char *how);
/* Read all of PATH ("-": standard input) into *BUF (NUL-terminated, LEN
 * bytes before it; free()), opened with the caller's privileges: the
 * setuid tool reads nothing for its caller that the caller could not read
 * itself.  0 or an exit status (reported). */
/* PATH opened for reading (O_RDONLY|O_CLOEXEC|O_NOCTTY and FLAGS) with the
 * caller's file system identity (its uid, gid and groups), never root's. */
int cli_open_as_caller(struct cli *c, const char *path, int flags);
int cli_read_caller_file(struct cli *c, const char *path, char **buf, size_t *len);
/* The mail template of KIND (RC_MAIL_*), loaded and checked before any
 * change: *t stays NULL when no mail_command is set.  0 or an exit status
 * (a bad template is a configuration error, reported). */
int cli_mail_template(struct cli *c, int kind, rc_mail_template **t);
/* Send a code by the configured mail command, as the calling user: the
 * message made from T on its standard input.  0, -1 (no command) or an exit
 * status (reported). */
int cli_mail_code(struct cli *c, const rc_mail_template *t, const rc_code_result *r);
/* Mail the queued notices (rc_notice_take: ALL, or those of this process's
 * changes), each to its subscribed addresses, as the caller.  A failed mail
 * is reported on stderr as a warning and audited; it never changes the exit
 * status of the command that queued it.  0 or an exit status (the outbox
 * could not be read, permission). */
int cli_notify_deliver(struct cli *c, bool all, size_t *sent, size_t *failed);
int cmd_notification(struct cli *c, int argc, char **argv);

/* Tables (text like the seeds', or a JSON array of objects). */
enum cell_type { CELL_STR, CELL_BOOL, CELL_TIME, CELL_INT, CELL_LIST };
struct table;
struct cell {
	enum cell_type type;
	char *text;      /* text form */
	long long num;   /* bool, time or int */
};
struct table *table_new(int ncols, const char *const *headers, const enum cell_type *types);
void table_row(struct table *t, ...);   /* ncols values: char*, int, int64_t, long long */
void table_print(struct table *t, bool json);
void table_free(struct table *t);
/* A table whose rows are made as they are printed (none kept: a table of a
 * million rows): ROW fills the NCOLS cells of row R (texts valid until its
 * next call); it is called twice per row for text (widths, then lines). */
typedef void (*table_row_fn)(size_t r, struct cell *cells, void *ctx);
void table_print_rows(int ncols, const char *const *headers, size_t rows, table_row_fn row,
                      void *ctx, bool json);

/* A key/value record: text as "Key: value" lines, or one JSON object.
 * Every result the tool prints as JSON is one (escaped, never made with
 * printf of what a user gave); the adders return R, to be chained:
 *   record_emit(record_bool(record_str(record_new(), "username", n), "deleted", 1));
 * Values are wiped when the record is freed (codes, passwords). */
struct record;
struct record *record_new(void);
struct record *record_str(struct record *r, const char *key, const char *value);
struct record *record_bool(struct record *r, const char *key, int value);
struct record *record_time(struct record *r, const char *key, int64_t value);
struct record *record_int(struct record *r, const char *key, long long value);
struct record *record_list(struct record *r, const char *key, const char *const *items,
                           size_t n);
void record_print(struct record *r, bool json);
/* One JSON object on one line, then freed. */
void record_emit(struct record *r);
void record_free(struct record *r);
void json_string(FILE *f, const char *s);

int cmd_init(struct cli *c, int argc, char **argv);
int cmd_fleet(struct cli *c, int argc, char **argv);   /* cmd_fleet.c */
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_doctor(struct cli *c, int argc, char **argv);
int cmd_member(struct cli *c, int argc, char **argv);
int cmd_role(struct cli *c, int argc, char **argv);
int cmd_service(struct cli *c, int argc, char **argv);
int cmd_service_user(struct cli *c, int argc, char **argv);
int cmd_billing(struct cli *c, int argc, char **argv);
int cmd_settings(struct cli *c, int argc, char **argv);
int cmd_audit(struct cli *c, int argc, char **argv);
int cmd_whoami(struct cli *c, int argc, char **argv);
int cmd_passwd(struct cli *c, int argc, char **argv);
int cmd_mfa(struct cli *c, int argc, char **argv);
int cmd_token(struct cli *c, int argc, char **argv);
int cmd_mail_template(struct cli *c, int argc, char **argv);

#endif
