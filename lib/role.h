/*
 * role.h - role.c: roles inside a transaction.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_ROLE_H
#define RC_ROLE_H

#include "txn.h"

int rc_role_load(rc_txn *t, const char *name, rc_role *r);
/* The I-th built-in role (no gid): RC_ERR_NOTFOUND past the last. */
int rc_role_builtin(size_t i, rc_role *out);
int rc_roles_seed(rc_txn *t);

#endif
