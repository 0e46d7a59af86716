/*
 * hoststate.h - hoststate.c: what a login writes on this host, apart from
 * membership.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_HOSTSTATE_H
#define RC_HOSTSTATE_H

#include "txn.h"

/* Host state (hoststate.c).  rc_member_load, rc_svcuser_load and the token
 * loads return a merged view: the membership record with the host state
 * laid over it.  rc_member_put and rc_svcuser_put write membership
 * only (the codec writes no host field); these write the host state of a
 * view.  A login writes only these (and the audit log and the outbox). */
int rc_host_member_load(rc_txn *t, rc_member_rec *m);
int rc_host_member_store(rc_txn *t, const rc_member_rec *m);
int rc_host_svcuser_load(rc_txn *t, rc_svcuser_rec *u);
int rc_host_svcuser_store(rc_txn *t, const rc_svcuser_rec *u);
/* An identity or a token is gone: its host state goes with it. */
int rc_host_user_del(rc_txn *t, uint32_t uid);
int rc_host_token_load(rc_txn *t, rc_token_rec *rec);
int rc_host_token_store(rc_txn *t, const rc_token_rec *rec);
int rc_host_token_del(rc_txn *t, const char *id);
/* Counters of this host's ("@" + a name: the logins of unknown users,
 * the helper's allowance per calling uid). */
int rc_host_meta_get_u64(rc_txn *t, const char *key, uint64_t *out);
int rc_host_meta_put_u64(rc_txn *t, const char *key, uint64_t v);
int rc_host_counter_bump(rc_txn *t, const char *key);
/* An administrative or self-service change that also sets the host state
 * of M (unlock, password reset, two-factor reset): both written. */
int rc_member_put_with_host(rc_txn *t, const rc_member_rec *m);
/* Schema 2 -> 3: the host state out of the membership records. */
int rc_host_upgrade(rc_txn *t, size_t *moved);

#endif
