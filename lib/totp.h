/*
 * totp.h - totp.c: two-factor checks and enrollment inside a transaction.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_TOTP_H
#define RC_TOTP_H

#include "txn.h"

/* Two-factor (totp.c). */
int rc_totp_check(rc_txn *t, rc_member_rec *m, const char *code, int *via);
int rc_totp_enroll(rc_txn *t, rc_member_rec *m, rc_mfa_enrollment *out);
int rc_totp_enroll_end(rc_txn *t, rc_member_rec *m, int rc, rc_mfa_enrollment *out);
int rc_totp_enroll_confirm(rc_txn *t, rc_member_rec *m, const char *code);

#endif
