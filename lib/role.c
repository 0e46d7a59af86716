/*
 * role.c - permissions and roles (built-in and custom).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"

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
	rc = rc_db_put(t, DB_ROLES, r->name, strlen(r->name), &w, 0);
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
		rc = rc_load_role(&t, name, out);
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

RC_API int rc_role_foreach(rc_store *s, const rc_actor *a, rc_role_cb cb, void *ctx)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	rc_role *list = NULL;
	size_t n = 0, cap = 0;
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t), mrc;

	if (rc)
		return rc;
	rc = rc_require(&t, 0);
	if (!rc && (mrc = mdb_cursor_open(t.txn, s->dbi[DB_ROLES], &c)) != 0)
		rc = rc_fail_lmdb(mrc, "cannot read roles");
	for (mrc = rc ? MDB_NOTFOUND : mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0 && !rc;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (n == cap) {
			rc_role *nl = realloc(list, (cap = cap ? cap * 2 : 16) * sizeof(*list));
			if (!nl) {
				rc = rc_fail(RC_ERR_NOMEM, "out of memory");
				break;
			}
			list = nl;
		}
		rc = rc_role_decode(v.mv_data, v.mv_size, &list[n]);
		n += rc == RC_OK;
	}
	if (c)
		mdb_cursor_close(c);
	rc = rc_txn_end(&t, rc);
	if (!rc && n)
		qsort(list, n, sizeof(*list), cmp_rank);
	for (size_t i = 0; !rc && i < n; i++)
		rc = cb(&list[i], ctx);
	free(list);
	return rc;
}

RC_API int rc_role_create(rc_store *s, const rc_actor *a, const char *name,
                          uint32_t rank, uint32_t perms)
{
	char group[RC_NAME_MAX + 16];
	rc_role r = { .rank = rank, .perms = perms };
	MDB_val v;
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
		rc = rc_db_gets(&t, DB_ROLES, name, &v);
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
static int role_in_use(rc_txn *t, const char *name, char *who, size_t wlen)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = RC_OK, mrc;
	const int dbs[2] = { DB_MEMBERS, DB_INVITATIONS };

	for (int d = 0; d < 2 && !rc; d++) {
		if ((mrc = mdb_cursor_open(t->txn, t->s->dbi[dbs[d]], &c)) != 0)
			return rc_fail_lmdb(mrc, "cannot read the store");
		for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0 && !rc;
		     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (dbs[d] == DB_MEMBERS) {
				rc_member_rec m;
				rc = rc_member_decode(v.mv_data, v.mv_size, &m);
				if (!rc && strcmp(m.role, name) == 0) {
					snprintf(who, wlen, "member %s", m.username);
					rc = RC_ERR_EXISTS;
				}
			} else {
				rc_invitation i;
				rc = rc_invitation_decode(v.mv_data, v.mv_size, &i);
				if (!rc && i.state == RC_INV_PENDING && strcmp(i.role, name) == 0) {
					snprintf(who, wlen, "the invitation of %s", i.username);
					rc = RC_ERR_EXISTS;
				}
			}
		}
		mdb_cursor_close(c);
	}
	return rc;
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
		rc = rc_load_role(&t, name, &r);
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
		rc = rc_db_del(&t, DB_ROLES, name, strlen(name));
	return rc_txn_end(&t, rc);
}
