/*
 * actor.c - who acts in a transaction (root, a member with its role, or
 * another uid), resolved as the transaction begins, and the permission
 * checks on it: rc_require, rank and grant rules, acting on oneself.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "actor.h"
#include "errors.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "ids.h"
#include "member.h"
#include "role.h"

/* A transaction of the actor A: the engine's, then who acts. */
int rc_txn_begin(rc_store *s, const rc_actor *a, bool write, rc_txn *t)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->uid = a->uid;
	t->root = a->uid == 0;
	snprintf(t->origin, sizeof(t->origin), "%s", a->origin);
	rc = rc_store_txn_begin(s, write, t);
	if (rc)
		return rc;
	rc = rc_actor_resolve(t);
	if (rc)
		(void)rc_txn_end(t, rc);
	return rc;
}

/* The audit record T's commit appends (audit.c's hook). */
void rc_txn_audit(rc_txn *t, const char *action, const char *target)
{
	snprintf(t->action, sizeof(t->action), "%s", action);
	snprintf(t->target, sizeof(t->target), "%s", target ? target : "");
}

/* Who acts in T: root, a member (its record and role, loaded in T) or
 * another uid.  Run as each transaction begins. */
int rc_actor_resolve(rc_txn *t)
{
	char kind, name[RC_NAME_MAX + 1];
	int rc;

	if (t->root) {
		snprintf(t->actor_name, sizeof(t->actor_name), "root");
		return RC_OK;
	}
	snprintf(t->actor_name, sizeof(t->actor_name), "uid:%u", (unsigned)t->uid);
	rc = rc_uid_index_get(t, (uint32_t)t->uid, &kind, name);
	if (rc == RC_ERR_NOTFOUND)
		return RC_OK;
	if (rc)
		return rc;
	if (kind != 'm')
		return RC_OK;   /* a service user, or garbage: no member */
	rc = rc_member_load(t, name, &t->am);
	if (rc)
		return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
	if (t->am.uid != (uint32_t)t->uid)
		return RC_OK;
	rc = rc_role_load(t, t->am.role, &t->arole);
	if (rc)
		return rc;
	t->is_member = true;
	snprintf(t->actor_name, sizeof(t->actor_name), "%s", t->am.username);
	return RC_OK;
}

uint32_t rc_actor_rank(const rc_txn *t)
{
	if (t->root)
		return UINT32_MAX;
	return t->is_member && t->am.status == RC_MEMBER_ACTIVE ? t->arole.rank : 0;
}

int rc_require_self(rc_txn *t, const char *root_why)
{
	if (t->is_member)
		return RC_OK;
	if (t->root)
		return rc_fail(RC_ERR_INVALID, "%s", root_why);
	return rc_fail(RC_ERR_PERM, "uid %u is not a rollcall member", (unsigned)t->uid);
}

static int require_active(rc_txn *t)
{
	if (t->root)
		return RC_OK;
	if (!t->is_member)
		return rc_require_self(t, "");
	if (t->am.status != RC_MEMBER_ACTIVE)
		return rc_fail(RC_ERR_PERM, "member %s is %s and cannot act",
		               t->am.username, rc_member_status_name(t->am.status));
	return RC_OK;
}

int rc_require(rc_txn *t, uint32_t perm)
{
	int rc = require_active(t);

	if (rc || t->root || perm == 0)
		return rc;
	for (unsigned i = 0; i < RC_PERM_COUNT; i++)
		if ((perm & (1u << i)) && !(t->arole.perms & (1u << i)))
			return rc_fail(RC_ERR_PERM,
			               "member %s (role %s) does not have the %s permission",
			               t->am.username, t->arole.name, rc_perm_name(i));
	return RC_OK;
}

int rc_require_rank_over(rc_txn *t, const rc_member_rec *target)
{
	rc_role r;
	int rc;

	if (t->root)
		return RC_OK;
	rc = rc_role_load(t, target->role, &r);
	if (rc)
		return rc;
	if (!rc_rank_acts_on(rc_actor_rank(t), r.rank))
		return rc_fail(RC_ERR_PERM,
		               "member %s (role %s) may act only on members of a lower rank "
		               "than its own; %s has role %s", t->am.username, t->arole.name,
		               target->username, target->role);
	return RC_OK;
}

/* The rank rule, for the checks below and for the directory's ACLs
 * (fleet.c makes them from these). */
bool rc_rank_acts_on(uint32_t actor_rank, uint32_t target_rank)
{
	return target_rank < actor_rank;
}

bool rc_role_grants(const rc_role *actor, uint32_t actor_rank, const rc_role *role)
{
	if (role->rank < actor_rank)
		return true;
	return strcmp(actor->name, "owner") == 0 && strcmp(role->name, "owner") == 0;
}

int rc_require_can_grant(rc_txn *t, const rc_role *role)
{
	if (t->root)
		return RC_OK;
	if (rc_role_grants(&t->arole, rc_actor_rank(t), role))
		return RC_OK;
	return rc_fail(RC_ERR_PERM,
	               "member %s (role %s) may grant only roles of a lower rank; "
	               "role %s has rank %u", t->am.username, t->arole.name, role->name,
	               role->rank);
}

bool rc_names_actor(const rc_txn *t, const char *who)
{
	char a[RC_EMAIL_MAX + 1], b[RC_EMAIL_MAX + 1];

	if (!t->is_member)
		return false;
	if (!strchr(who, '@'))
		return strcmp(who, t->am.username) == 0;
	if (strlen(who) > RC_EMAIL_MAX)
		return false;
	rc_email_key(who, a, sizeof(a));
	rc_email_key(t->am.email, b, sizeof(b));
	return strcmp(a, b) == 0;
}
