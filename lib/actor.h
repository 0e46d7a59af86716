/*
 * actor.h - actor.c: who acts in a transaction and the permission checks
 * on it.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_ACTOR_H
#define RC_ACTOR_H

#include "txn.h"

/* The audit record T's commit appends (audit.c's hook). */
void rc_txn_audit(rc_txn *t, const char *action, const char *target);

/* The actor of T, resolved as T begins (actor.c). */
int rc_actor_resolve(rc_txn *t);
/* Permission checks.  Each returns RC_OK or RC_ERR_PERM with a message. */
int rc_require(rc_txn *t, uint32_t perm);
uint32_t rc_actor_rank(const rc_txn *t);
/* The actor acting as a member on itself (its tokens, its two-factor
 * authentication, its password): RC_OK when it is a member; root is
 * refused with ROOT_WHY (RC_ERR_INVALID), anyone else as no member
 * (RC_ERR_PERM). */
int rc_require_self(rc_txn *t, const char *root_why);
int rc_require_rank_over(rc_txn *t, const rc_member_rec *target);
/* The rank rule: an actor of rank ACTOR_RANK acts on members of rank
 * TARGET_RANK; a member of role ACTOR (its rank ACTOR_RANK: 0 when it
 * may not act) grants ROLE.  rc_require_rank_over and
 * rc_require_can_grant apply them, and so do the directory's ACLs. */
bool rc_rank_acts_on(uint32_t actor_rank, uint32_t target_rank);
bool rc_role_grants(const rc_role *actor, uint32_t actor_rank, const rc_role *role);
int rc_require_can_grant(rc_txn *t, const rc_role *role);
/* WHO names the actor itself (its user name or its email address). */
bool rc_names_actor(const rc_txn *t, const char *who);

#endif
