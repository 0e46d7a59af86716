/*
 * errors.c - error codes and the per-thread detailed message.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "errors.h"

static __thread char errbuf[512];
static __thread const char *errfield;   /* the input the failure is about */

static const char *const names[RC_ERR_MAX] = {
	[RC_OK] = "success",
	[RC_ERR_NOTFOUND] = "not found",
	[RC_ERR_EXISTS] = "already exists",
	[RC_ERR_INVALID] = "invalid input",
	[RC_ERR_POLICY] = "refused by policy",
	[RC_ERR_STATE] = "not allowed in the current state",
	[RC_ERR_PERM] = "permission denied",
	[RC_ERR_STORE] = "store unavailable or damaged",
	[RC_ERR_NOMEM] = "out of memory",
	[RC_ERR_FULL] = "store or id range full",
	[RC_ERR_SCHEMA] = "store schema is newer than this rollcall",
	[RC_ERR_CONFIG] = "configuration error",
	[RC_ERR_AUTH] = "authentication failed",
	[RC_ERR_LOCKED] = "account locked",
};

RC_API const char *rc_strerror(int err)
{
	if (err < 0 || err >= RC_ERR_MAX)
		return "unknown error";
	return names[err];
}

RC_API const char *rc_errmsg(void)
{
	return errbuf[0] ? errbuf : "no error";
}

/* The message (formatted aside first: the arguments may include
 * rc_errmsg() itself) and the input it is about. */
static int fail_v(int err, const char *field, const char *fmt, va_list ap)
{
	char tmp[sizeof(errbuf)];

	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	memcpy(errbuf, tmp, sizeof(errbuf));
	errfield = field;
	return err;
}

int rc_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = fail_v(err, NULL, fmt, ap);
	va_end(ap);
	return err;
}

int rc_fail_field(int err, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = fail_v(err, field, fmt, ap);
	va_end(ap);
	return err;
}

RC_API const char *rc_errfield(void)
{
	return errfield;
}
