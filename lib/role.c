/*
 * role.c - permissions and roles (built-in and custom); rc_role_load.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include "role.h"
#include "errors.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "fsutil.h"
#include "actor.h"
#include "ids.h"
#include "settings.h"

static const char *const perm_names[RC_PERM_COUNT] = {
	"view", "members", "invite", "manage-members", "manage-services",
	"start-stop", "billing-view", "billing", "audit", "notifications"
};

RC_API const char *rc_perm_name(unsigned index)
{
	return index < RC_PERM_COUNT ? perm_names[index] : "?";
}

RC_API int rc_perms_parse(const char *list, uint32_t *mask)
{
	uint32_t m = 0;
	const char *p = list;

	if (strcmp(list, "none") == 0 || !*list) {
		*mask = 0;
		return RC_OK;
	}
	while (*p) {
		size_t n = strcspn(p, ",");
		unsigned i;
		for (i = 0; i < RC_PERM_COUNT; i++)
			if (strlen(perm_names[i]) == n && strncmp(p, perm_names[i], n) == 0)
				break;
		if (i == RC_PERM_COUNT)
			return rc_fail(RC_ERR_INVALID,
			               "unknown permission \"%.*s\" (known: view, members, invite, "
			               "manage-members, manage-services, start-stop, billing-view, "
			               "billing, audit, notifications)", (int)(n > 40 ? 40 : n), p);
		m |= 1u << i;
		p += n;
		if (*p == ',')
			p++;
	}
	*mask = m;
	return RC_OK;
}

RC_API void rc_perms_format(uint32_t mask, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < RC_PERM_COUNT && o < len; i++)
		if (mask & (1u << i))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "", perm_names[i]);
}

RC_API const char *rc_member_status_name(int status)
{
	switch (status) {
	case RC_MEMBER_PENDING: return "pending";
	case RC_MEMBER_ACTIVE: return "active";
	case RC_MEMBER_INACTIVE: return "inactive";
	}
	return "?";
}

RC_API int rc_member_status_parse(const char *s, int *status)
{
	for (int i = RC_MEMBER_PENDING; i <= RC_MEMBER_INACTIVE; i++)
		if (strcmp(s, rc_member_status_name(i)) == 0) {
			*status = i;
			return RC_OK;
		}
	return rc_fail(RC_ERR_INVALID, "unknown status \"%.40s\" (use pending, active or inactive)", s);
}

static const struct { const char *name; uint32_t rank, perms; } builtins[] = {
	{ "owner", 100, RC_PERM_ALL },
	{ "admin", 80, RC_PERM_ALL },
	{ "operator", 60, RC_PERM_VIEW | RC_PERM_MANAGE_SERVICES | RC_PERM_START_STOP },
	{ "developer", 40, RC_PERM_VIEW | RC_PERM_INVITE | RC_PERM_MANAGE_SERVICES },
	{ "read-only", 20, RC_PERM_VIEW },
};

static int role_put(rc_txn *t, const rc_role *r)
{
	rc_wbuf w;
	int rc;

	rc_role_encode(r, &w);
	rc = rc_store_putw(t, DB_ROLES, r->name, strlen(r->name), &w, 0);
	rc_wbuf_free(&w);
	return rc;
}

int rc_roles_seed(rc_txn *t)
{
	uint32_t gid;
	int rc = rc_id_alloc(t, &gid);     /* the rollcall-members group */

	if (!rc)
		rc = rc_meta_put_u64(t, "@gid_members", gid);
	for (size_t i = 0; !rc && i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		rc_role r = { .rank = builtins[i].rank, .perms = builtins[i].perms, .builtin = 1 };
		snprintf(r.name, sizeof(r.name), "%s", builtins[i].name);
		rc = rc_id_alloc(t, &r.gid);
		if (!rc)
			rc = role_put(t, &r);
	}
	return rc;
}

RC_API int rc_role_get(rc_store *s, const rc_actor *a, const char *name, rc_role *out)
{
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	rc = rc_require(&t, 0);
	if (!rc)
		rc = rc_role_load(&t, name, out);
	return rc_txn_end(&t, rc);
}

/* Roles in rank order, highest first. */
static int cmp_rank(const void *a, const void *b)
{
	const rc_role *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return strcmp(x->name, y->name);
}

struct role_list {
	rc_role *list;
	size_t n, cap;
};

static int role_add(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct role_list *l = ctx;
	int rc;

	(void)t;
	(void)k;
	if (l->n == l->cap) {
		rc_role *nl = realloc(l->list, (l->cap ? l->cap * 2 : 16) * sizeof(*nl));
		if (!nl)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		l->list = nl;
		l->cap = l->cap ? l->cap * 2 : 16;
	}
	rc = rc_role_decode(v->data, v->size, &l->list[l->n]);
	l->n += rc == RC_OK;
	return rc;
}

RC_API int rc_role_foreach(rc_store *s, const rc_actor *a, rc_role_cb cb, void *ctx)
{
	struct role_list l = { 0 };
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	rc = rc_require(&t, 0);
	if (!rc)
		rc = rc_store_foreach(&t, DB_ROLES, "", 0, role_add, &l);
	rc = rc_txn_end(&t, rc);
	if (!rc && l.n)
		qsort(l.list, l.n, sizeof(*l.list), cmp_rank);
	for (size_t i = 0; !rc && i < l.n; i++)
		rc = cb(&l.list[i], ctx);
	free(l.list);
	return rc;
}

RC_API int rc_role_create(rc_store *s, const rc_actor *a, const char *name,
                          uint32_t rank, uint32_t perms)
{
	char group[RC_NAME_MAX + 16];
	rc_role r = { .rank = rank, .perms = perms };
	rc_val v;
	rc_txn t;
	int rc;

	if ((rc = rc_valid_role_name(name)) != 0)
		return rc;
	if (rank < 1 || rank > 99)
		return rc_fail(RC_ERR_INVALID, "rank %u is out of range: custom roles take 1 to 99",
		               rank);
	if (perms & ~(uint32_t)RC_PERM_ALL)
		return rc_fail(RC_ERR_INVALID, "unknown permission bits");
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "role.create", name);
	snprintf(r.name, sizeof(r.name), "%s", name);
	rc = rc_require(&t, RC_PERM_MANAGE_MEMBERS);
	if (!rc && !t.root && rank >= rc_actor_rank(&t))
		rc = rc_fail(RC_ERR_PERM, "member %s (role %s, rank %u) may create only roles "
		             "of a lower rank", t.am.username, t.arole.name, t.arole.rank);
	if (!rc && !t.root && (perms & ~t.arole.perms))
		rc = rc_fail(RC_ERR_PERM, "member %s (role %s) cannot give a role permissions "
		             "it does not have itself", t.am.username, t.arole.name);
	if (!rc) {
		rc = rc_store_gets(&t, DB_ROLES, name, &v);
		if (rc == RC_OK)
			rc = rc_fail(RC_ERR_EXISTS, "role \"%s\" already exists", name);
		else if (rc == RC_ERR_NOTFOUND)
			rc = RC_OK;
	}
	if (!rc) {
		snprintf(group, sizeof(group), "rollcall-%s", name);
		if (rc_host_has_name(s->cfg.group_file, group) == 1)
			rc = rc_fail(RC_ERR_EXISTS, "group \"%s\" already exists on this host (%s)",
			             group, s->cfg.group_file);
	}
	if (!rc)
		rc = rc_id_alloc(&t, &r.gid);
	if (!rc)
		rc = role_put(&t, &r);
	return rc_txn_end(&t, rc);
}

/* Is a role given to a member or a pending invitation? */
struct role_use {
	const char *name;
	char *who;
	size_t wlen;
};

static int role_of_member(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct role_use *u = ctx;
	rc_member_rec m;
	int rc = rc_member_decode(v->data, v->size, &m);

	(void)t;
	(void)k;
	if (!rc && strcmp(m.role, u->name) == 0) {
		snprintf(u->who, u->wlen, "member %s", m.username);
		rc = RC_ERR_EXISTS;
	}
	sodium_memzero(&m, sizeof(m));
	return rc;
}

static int role_of_invitation(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct role_use *u = ctx;
	rc_invitation i;
	int rc = rc_invitation_decode(v->data, v->size, &i);

	(void)t;
	(void)k;
	if (!rc && i.state == RC_INV_PENDING && strcmp(i.role, u->name) == 0) {
		snprintf(u->who, u->wlen, "the invitation of %s", i.username);
		rc = RC_ERR_EXISTS;
	}
	return rc;
}

static int role_in_use(rc_txn *t, const char *name, char *who, size_t wlen)
{
	struct role_use u = { name, who, wlen };
	int rc = rc_store_foreach(t, DB_MEMBERS, "", 0, role_of_member, &u);

	return rc ? rc : rc_store_foreach(t, DB_INVITATIONS, "", 0, role_of_invitation, &u);
}

RC_API int rc_role_delete(rc_store *s, const rc_actor *a, const char *name)
{
	char who[RC_NAME_MAX + 32];
	rc_role r;
	rc_txn t;
	int rc;

	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "role.delete", name);
	rc = rc_require(&t, RC_PERM_MANAGE_MEMBERS);
	if (!rc)
		rc = rc_role_load(&t, name, &r);
	if (!rc && r.builtin)
		rc = rc_fail(RC_ERR_POLICY, "role \"%s\" is built in and cannot be deleted", name);
	if (!rc && !t.root && r.rank >= rc_actor_rank(&t))
		rc = rc_fail(RC_ERR_PERM, "member %s (role %s) may delete only roles of a lower rank",
		             t.am.username, t.arole.name);
	if (!rc) {
		rc = role_in_use(&t, name, who, sizeof(who));
		if (rc == RC_ERR_EXISTS)
			rc = rc_fail(RC_ERR_STATE, "role \"%s\" is in use by %s; change that first",
			             name, who);
	}
	if (!rc)
		rc = rc_store_del(&t, DB_ROLES, name, strlen(name));
	return rc_txn_end(&t, rc);
}

/* ---- loading and writing records ------------------------------------------ */

int rc_role_load(rc_txn *t, const char *name, rc_role *r)
{
	rc_val v;
	int rc = rc_store_gets(t, DB_ROLES, name, &v);

	if (rc == RC_ERR_NOTFOUND)
		return rc_fail(RC_ERR_NOTFOUND, "no role named \"%.40s\" (see \"rollcall role list\")",
		               name);
	return rc ? rc : rc_role_decode(v.data, v.size, r);
}
