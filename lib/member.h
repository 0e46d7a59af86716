/*
 * member.h - member.c: members and invitations inside a transaction, and
 * the one way a code becomes a password.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_MEMBER_H
#define RC_MEMBER_H

#include "txn.h"

/* A code (invitation or reset) becomes the member's password (member.c). */
int rc_code_redeem(rc_txn *t, rc_member_rec *m, bool is_reset, const uint8_t hash[32],
                   const char *pwhash);
/* Loading records inside a transaction (RC_ERR_NOTFOUND with a message). */
int rc_member_load(rc_txn *t, const char *name, rc_member_rec *m);
/* The member an administrator names: by user name or, when WHO holds an
 * '@', by email address (case-insensitive, as idx_email keys it).  The
 * user name goes to NAME (and to rc_member_named()); an unknown one is
 * RC_ERR_NOTFOUND with a message naming what was given. */
int rc_member_ref(rc_txn *t, const char *who, char name[RC_NAME_MAX + 1]);
/* rc_member_ref, then the record. */
int rc_member_load_ref(rc_txn *t, const char *who, rc_member_rec *m);
int rc_member_put(rc_txn *t, const rc_member_rec *m);
int rc_invite_in(rc_txn *t, const rc_invite_req *req, rc_code_result *out);
int rc_invitation_issue(rc_txn *t, rc_member_rec *m, const char *inviter,
                        uint32_t resent, rc_code_result *out);
int rc_invitation_load(rc_txn *t, const char *name, rc_invitation *inv);
int rc_invitation_put(rc_txn *t, const rc_invitation *inv);
int rc_password_policy(rc_txn *t, const rc_member_rec *m, const char *pw);

#endif
