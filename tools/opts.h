/*
 * opts.h - option parsing shared by the subcommands (getopt_long with
 * permutation, our own messages).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_OPTS_H
#define RC_OPTS_H
#include <getopt.h>
#include <string.h>
#include "cli.h"

struct action {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *usage;    /* "invite EMAIL --role ROLE [--username NAME]" */
	const char *help;     /* one line */
};

/* Next option, or -1 at the end; prints usage errors and returns '?'. */
static inline int opt_next(int argc, char **argv, const struct option *lo)
{
	int ch = getopt_long(argc, argv, ":h", lo, NULL);
	if (ch == ':')
		cli_usage("option %s needs a value", argv[optind - 1]);
	else if (ch == '?')
		cli_usage("unknown option \"%.40s\"", optopt ? (char[]){ '-', (char)optopt, 0 }
		                                              : argv[optind - 1]);
	return ch == ':' ? '?' : ch;
}
#define OPT_START() (optind = 1, opterr = 0)

int run_action(struct cli *c, const char *group, const struct action *acts, size_t n,
               int argc, char **argv);
/* Options of an action that takes none but --help: the index of the first
 * positional argument, or -(exit status). */
int opt_plain(int argc, char **argv);
/* The same for an action whose one option is --password-stdin. */
int opt_password_stdin(int argc, char **argv, bool *from_stdin);
/* The same for an action whose one option is --NAME (--code-stdin). */
int opt_stdin(int argc, char **argv, const char *name, bool *from_stdin);
/* The positional arguments after options: exactly WANT, or a usage error. */
int want_args(int argc, int want_min, int want_max, const char *usage);
/* opt_plain and want_args in one: the index of the first positional
 * argument, or -(exit status). */
int opt_args(int argc, char **argv, int want_min, int want_max, const char *usage);
#endif
