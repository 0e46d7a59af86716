/*
 * errors.h - errors.c: the thread's detailed message (rc_errmsg), export
 * and printf attributes.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_ERRORS_H
#define RC_ERRORS_H

#include "rollcall.h"

#define RC_API __attribute__((visibility("default")))
#define RC_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- errors ------------------------------------------------------------- */
/* Set the thread's detailed message and return ERR. */
int rc_fail(int err, const char *fmt, ...) RC_PRINTF(2, 3);
/* The same, about the input FIELD (a static string; see rc_errfield). */
int rc_fail_field(int err, const char *field, const char *fmt, ...) RC_PRINTF(3, 4);

#endif
