/*
 * ids.c - the names and ids of identities (members, service users, roles'
 * and services' groups): a name free in the store and on the host, ids
 * from one counter never reused, the uid index, email keys.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ids.h"
#include "bytes.h"
#include "errors.h"
#include "store.h"
#include "txn.h"
#include "fsutil.h"
#include "settings.h"

void rc_uid_key(uint32_t uid, uint8_t k[4])
{
	rc_put_be32(k, uid);
}

/* The host's passwd (WHICH 0) or group file (1) has NAME or ID: from the
 * files read once when the transaction has them (a batch), else read now. */
static int host_has_name(const rc_txn *t, int which, const char *name)
{
	if (t->host)
		return rc_host_files_has_name(t->host, which, name);
	return rc_host_has_name(which ? t->s->cfg.group_file : t->s->cfg.passwd_file, name);
}

static int host_has_id(const rc_txn *t, int which, uint32_t id)
{
	if (t->host)
		return rc_host_files_has_id(t->host, which, id);
	return rc_host_has_id(which ? t->s->cfg.group_file : t->s->cfg.passwd_file, id);
}

int rc_name_check_free(rc_txn *t, const char *name)
{
	rc_val v;
	int rc, h;

	rc = rc_store_gets(t, DB_MEMBERS, name, &v);
	if (rc != RC_ERR_NOTFOUND)
		return rc ? rc : rc_fail(RC_ERR_EXISTS, "name \"%s\" is already used by a member", name);
	rc = rc_store_gets(t, DB_SVCUSERS, name, &v);
	if (rc != RC_ERR_NOTFOUND)
		return rc ? rc : rc_fail(RC_ERR_EXISTS,
		                         "name \"%s\" is already used by a service user", name);
	h = host_has_name(t, 0, name);
	if (h < 0)
		return rc_fail(RC_ERR_STORE, "cannot read %s: %s", t->s->cfg.passwd_file,
		               strerror(errno));
	if (h)
		return rc_fail(RC_ERR_EXISTS, "name \"%s\" is already used by a user of this host (%s)",
		               name, t->s->cfg.passwd_file);
	h = host_has_name(t, 1, name);
	if (h < 0)
		return rc_fail(RC_ERR_STORE, "cannot read %s: %s", t->s->cfg.group_file,
		               strerror(errno));
	if (h)
		return rc_fail(RC_ERR_EXISTS, "name \"%s\" is already used by a group of this host (%s)",
		               name, t->s->cfg.group_file);
	return RC_OK;
}

/* Ids come from one counter, so they are never reused; ids the host's own
 * files already use are skipped. */
int rc_id_alloc(rc_txn *t, uint32_t *id)
{
	const rc_config *c = &t->s->cfg;
	uint64_t next = 0;
	int rc = rc_meta_get_u64(t, "@next_id", &next);

	if (rc && rc != RC_ERR_NOTFOUND)
		return rc;
	if (next < c->id_min)
		next = c->id_min;
	for (;; next++) {
		if (next > c->id_max)
			return rc_fail(RC_ERR_FULL, "the id range %u-%u is used up (id_min/id_max in %s)",
			               c->id_min, c->id_max, c->path[0] ? c->path : RC_DEFAULT_CONFIG);
		int hu = host_has_id(t, 0, (uint32_t)next);
		int hg = host_has_id(t, 1, (uint32_t)next);
		if (hu < 0 || hg < 0)
			return rc_fail(RC_ERR_STORE, "cannot read the host's %s or %s", c->passwd_file,
			               c->group_file);
		if (!hu && !hg)
			break;
	}
	*id = (uint32_t)next;
	return rc_meta_put_u64(t, "@next_id", next + 1);
}

int rc_uid_index_put(rc_txn *t, uint32_t uid, char kind, const char *name)
{
	uint8_t k[4];
	char v[RC_NAME_MAX + 2];
	size_t n = strlen(name);

	rc_uid_key(uid, k);
	v[0] = kind;
	memcpy(v + 1, name, n);
	return rc_store_put(t, DB_IDX_UID, k, 4, v, n + 1, 0);
}

int rc_uid_index_del(rc_txn *t, uint32_t uid)
{
	uint8_t k[4];
	int rc;

	rc_uid_key(uid, k);
	rc = rc_store_del(t, DB_IDX_UID, k, 4);
	return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
}

int rc_uid_index_get(rc_txn *t, uint32_t uid, char *kind, char name[RC_NAME_MAX + 1])
{
	uint8_t k[4];
	rc_val v;
	int rc;

	rc_uid_key(uid, k);
	rc = rc_store_get(t, DB_IDX_UID, k, 4, &v);
	if (rc)
		return rc;
	*kind = '\0';
	name[0] = '\0';
	if (v.size < 2 || v.size > RC_NAME_MAX + 1)
		return RC_OK;   /* garbage: no kind */
	*kind = ((const char *)v.data)[0];
	memcpy(name, (const char *)v.data + 1, v.size - 1);
	name[v.size - 1] = '\0';
	return RC_OK;
}

void rc_email_key(const char *email, char *out, size_t len)
{
	size_t i = 0;
	for (; email[i] && i + 1 < len; i++)
		out[i] = (email[i] >= 'A' && email[i] <= 'Z') ? (char)(email[i] + 32) : email[i];
	out[i] = '\0';
}
