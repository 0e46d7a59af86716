/*
 * auth.h - auth.c's rules shared with totp.c: the lockout.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_AUTH_H
#define RC_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include "txn.h"

/* The lockout (auth.c): its settings, and a failed guess counted (true
 * when it locked). */
int rc_lockout_settings(rc_txn *t, int64_t *attempts, int64_t *duration);
bool rc_lockout_fail(uint32_t *failed, int64_t *at, int64_t *lock, int64_t attempts,
                     int64_t duration, int64_t now, bool counted);

#endif
