/*
 * audit.h - audit.c: the audit log, appended in the commit of each change.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_AUDIT_H
#define RC_AUDIT_H

#include "txn.h"

/* The pre-commit and abort hook (open.c registers it). */
int rc_audit_hook(rc_txn *t, int rc, void *ctx);
int rc_audit_append(rc_txn *t, const char *result);
int rc_audit_aggregate(rc_txn *t, const char *result);

#endif
