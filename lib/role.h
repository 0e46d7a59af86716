/*
 * role.h - role.c: roles inside a transaction.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_ROLE_H
#define RC_ROLE_H

#include "txn.h"

int rc_role_load(rc_txn *t, const char *name, rc_role *r);
int rc_roles_seed(rc_txn *t);

#endif
