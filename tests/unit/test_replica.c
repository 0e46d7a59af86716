/*
 * test_replica.c - lib/replica.c through its API: records from the
 * directory applied to a store with their indexes, deletes by entry UUID,
 * the present phase's sweep, the cookie committed with its changes only,
 * and bad records refused with the store untouched.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "rollcall.h"
#include "fleet.h"

static const rc_actor root = { .uid = 0, .origin = "test" };

/* the records of one kind a store exports */
struct rec {
	int kind;
	char name[64];
	uint8_t key[512];
	size_t klen;
	uint8_t val[4096];
	size_t vlen;
};
struct recs {
	struct rec r[64];
	size_t n;
};

static int collect(const rc_repl_rec *r, void *ctx)
{
	struct recs *x = ctx;
	if (x->n >= 64 || r->klen > 512 || r->vlen > 4096)
		return RC_OK;
	struct rec *o = &x->r[x->n++];
	o->kind = r->kind;
	snprintf(o->name, sizeof(o->name), "%s", r->name);
	memcpy(o->key, r->key, r->klen);
	o->klen = r->klen;
	memcpy(o->val, r->val, r->vlen);
	o->vlen = r->vlen;
	return RC_OK;
}

struct fixture {
	char dir[64];
	rc_config src_cfg, cfg;
	rc_store *src, *s;
	struct recs recs;
};

static const struct rec *find(const struct fixture *f, int kind, const char *name)
{
	for (size_t i = 0; i < f->recs.n; i++)
		if (f->recs.r[i].kind == kind && strcmp(f->recs.r[i].name, name) == 0)
			return &f->recs.r[i];
	return NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	rc_code_result res;
	char cmd[16384];

	snprintf(f->dir, sizeof(f->dir), "/tmp/rc-replica-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	/* a host's store: the source of the records */
	rc_config_defaults(&f->src_cfg);
	snprintf(f->src_cfg.state_dir, sizeof(f->src_cfg.state_dir), "%s/src", f->dir);
	if (rc_store_create(&f->src_cfg, "owner@example.com", NULL, &res) != RC_OK ||
	    rc_store_open(&f->src, &f->src_cfg, 0) != RC_OK)
		return -1;
	rc_invite_req req = { .email = "bob@example.com", .role = "developer" };
	if (rc_member_invite(f->src, &root, &req, &res) != RC_OK)
		return -1;
	if (rc_replica_export(f->src, collect, &f->recs) != RC_OK)
		return -1;
	rc_store_close(f->src);
	f->src = NULL;
	/* the replica: a store made with the source's key, emptied */
	rc_config_defaults(&f->cfg);
	snprintf(f->cfg.state_dir, sizeof(f->cfg.state_dir), "%s/replica", f->dir);
	snprintf(cmd, sizeof(cmd), "mkdir -m 755 '%s' && cp -p '%s/master.key' '%s/'", f->cfg.state_dir,
	         f->src_cfg.state_dir, f->cfg.state_dir);
	if (system(cmd) != 0)
		return -1;
	if (rc_store_create(&f->cfg, "x@example.com", "placeholder", &res) != RC_OK ||
	    rc_store_open(&f->s, &f->cfg, 0) != RC_OK || rc_replica_reset(f->s) != RC_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	rc_store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static const uint8_t U1[16] = { 1 }, U2[16] = { 2 }, U3[16] = { 3 };

static int put(struct fixture *f, rc_replica *r, const uint8_t *uuid, int kind, const char *name)
{
	const struct rec *x = find(f, kind, name);
	if (!x)
		fail_msg("no %s record \"%s\" in the export", rc_repl_kind_name(kind), name);
	if (!x)
		return -1;
	return rc_replica_put(r, uuid, rc_repl_kind_name(kind), x->key, x->klen, x->val, x->vlen);
}

static void test_reset_empties(void **state)
{
	struct fixture *f = *state;
	rc_member m;
	rc_replica_status st;

	assert_int_equal(rc_member_get(f->s, &root, "placeholder", &m), RC_ERR_NOTFOUND);
	assert_int_equal(rc_replica_status_get(f->s, &st), RC_OK);
	assert_int_equal(st.entries, 0);
	assert_string_equal(st.cookie, "");
	assert_true(f->recs.n >= 4);   /* owner, bob, their invitations, roles */
}

static void test_put_then_delete(void **state)
{
	struct fixture *f = *state;
	rc_replica *r;
	rc_member m;
	rc_replica_status st;

	assert_int_equal(rc_replica_new(&r, f->s), RC_OK);
	assert_int_equal(rc_replica_begin(r), RC_OK);
	assert_int_equal(put(f, r, U1, RC_REPL_ROLE, "developer"), RC_OK);
	assert_int_equal(put(f, r, U2, RC_REPL_MEMBER, "bob"), RC_OK);
	assert_int_equal(rc_replica_commit(r, "c1", 2, true), RC_OK);
	assert_int_equal(rc_member_get(f->s, &root, "bob", &m), RC_OK);
	assert_string_equal(m.role, "developer");
	/* found by email too: the index came with it */
	assert_int_equal(rc_member_get(f->s, &root, "bob@example.com", &m), RC_OK);
	assert_int_equal(rc_replica_status_get(f->s, &st), RC_OK);
	assert_string_equal(st.cookie, "c1");
	assert_int_equal(st.entries, 2);

	assert_int_equal(rc_replica_begin(r), RC_OK);
	assert_int_equal(rc_replica_del(r, U2), RC_OK);
	assert_int_equal(rc_replica_del(r, U3), RC_OK);   /* unknown: nothing */
	/* "present" for an entry this store never had: awaited, and missing
	 * until it comes whole in the same refresh */
	rc_replica_refresh_start(r);
	assert_int_equal(rc_replica_mark(r, U3), RC_OK);
	assert_int_equal(rc_replica_mark(r, U3), RC_OK);
	assert_int_equal(rc_replica_refresh_missing(r), 1);
	static const uint8_t U4[16] = { 4 };
	assert_int_equal(rc_replica_mark(r, U4), RC_OK);
	assert_int_equal(rc_replica_refresh_missing(r), 2);
	assert_int_equal(rc_replica_del(r, U4), RC_OK);   /* came: it went */
	assert_int_equal(rc_replica_refresh_missing(r), 1);
	assert_int_equal(rc_replica_commit(r, "c2", 2, true), RC_OK);
	assert_int_equal(rc_member_get(f->s, &root, "bob", &m), RC_ERR_NOTFOUND);
	assert_int_equal(rc_member_get(f->s, &root, "bob@example.com", &m), RC_ERR_NOTFOUND);
	assert_int_equal(rc_replica_status_get(f->s, &st), RC_OK);
	assert_string_equal(st.cookie, "c2");
	assert_int_equal(st.entries, 1);
	rc_replica_free(r);
}

/* A directory entry's attributes (what slapd's ACLs govern) must agree
 * with the record inside it: rc_replica_put_entry */
struct seen {
	char role[64], status[16], mail[128], uidn[16];
};

static int seen_cb(const rc_repl_rec *r, void *ctx)
{
	struct seen *x = ctx;
	snprintf(x->role, sizeof(x->role), "%s", r->role);
	snprintf(x->status, sizeof(x->status), "%s", r->status);
	snprintf(x->mail, sizeof(x->mail), "%s", r->email);
	snprintf(x->uidn, sizeof(x->uidn), "%u", (unsigned)r->uid);
	return 0;
}

static void test_entry_attrs_checked(void **state)
{
	struct fixture *f = *state;
	const struct rec *bob = find(f, RC_REPL_MEMBER, "bob"), *dev = find(f, RC_REPL_ROLE, "developer");
	struct seen x;
	rc_replica *r;
	rc_member m;

	if (!bob || !dev)
		fail_msg("no record of bob or of the developer role in the export");
	if (!bob || !dev)
		return;
	assert_int_equal(rc_repl_rec_view(RC_REPL_MEMBER, bob->key, bob->klen, bob->val, bob->vlen,
	                                  seen_cb, &x), RC_OK);
	assert_string_equal(x.role, "developer");
	/* "developer" in hex: the role entry's RDN */
	rc_repl_attrs at = { "uid=bob,ou=members,dc=t", "bob", x.mail, x.role,
	                     "cn=646576656c6f706572,ou=roles,dc=t", x.status, x.uidn, NULL };
	assert_int_equal(rc_replica_new(&r, f->s), RC_OK);
	assert_int_equal(rc_replica_begin(r), RC_OK);
	assert_int_equal(put(f, r, U1, RC_REPL_ROLE, "developer"), RC_OK);
	assert_int_equal(rc_replica_put_entry(r, U2, "member", bob->key, bob->klen, bob->val, bob->vlen,
	                                      &at), RC_OK);
	assert_int_equal(rc_replica_commit(r, "c1", 2, true), RC_OK);
	assert_int_equal(rc_member_get(f->s, &root, "bob", &m), RC_OK);
	/* each governed attribute changed alone: refused, and bob's entry
	 * holds nothing here any more (not even the record applied before) */
	rc_repl_attrs bad[6];
	for (int i = 0; i < 6; i++)
		bad[i] = at;
	bad[0].role = "admin";
	bad[1].role_ref = "cn=61646d696e,ou=roles,dc=t";
	bad[2].status = "inactive";
	bad[3].uid_number = "1";
	bad[4].mail = "eve@example.com";
	bad[5].dn = "uid=eve,ou=members,dc=t";
	for (int i = 0; i < 6; i++) {
		assert_int_equal(rc_replica_begin(r), RC_OK);
		assert_int_equal(rc_replica_put_entry(r, U2, "member", bob->key, bob->klen, bob->val,
		                                      bob->vlen, &bad[i]), RC_ERR_INVALID);
		assert_int_equal(rc_replica_commit(r, "c2", 2, true), RC_OK);
		assert_int_equal(rc_member_get(f->s, &root, "bob", &m), RC_ERR_NOTFOUND);
		/* agreeing again: applied again */
		assert_int_equal(rc_replica_begin(r), RC_OK);
		assert_int_equal(rc_replica_put_entry(r, U2, "member", bob->key, bob->klen, bob->val,
		                                      bob->vlen, &at), RC_OK);
		assert_int_equal(rc_replica_commit(r, "c3", 2, true), RC_OK);
		assert_int_equal(rc_member_get(f->s, &root, "bob", &m), RC_OK);
	}
	/* a role entry whose RDN is not the hex of its key: refused */
	rc_repl_attrs role_at = { "cn=646576656c6f706572,ou=roles,dc=t", NULL, NULL, NULL, NULL, NULL,
	                          NULL, NULL };
	assert_int_equal(rc_replica_begin(r), RC_OK);
	assert_int_equal(rc_replica_put_entry(r, U1, "role", dev->key, dev->klen, dev->val, dev->vlen,
	                                      &role_at), RC_OK);
	role_at.dn = "cn=6465760a,ou=roles,dc=t";
	assert_int_equal(rc_replica_put_entry(r, U3, "role", dev->key, dev->klen, dev->val, dev->vlen,
	                                      &role_at), RC_ERR_INVALID);
	rc_replica_abort(r);
	rc_replica_free(r);
}

static void test_bad_records_refused(void **state)
{
	struct fixture *f = *state;
	const struct rec *bob = find(f, RC_REPL_MEMBER, "bob");
	rc_replica *r;

	if (!bob)
		fail_msg("no record of bob in the export");
	if (!bob)
		return;
	rc_member m;
	rc_replica_status st;

	assert_int_equal(rc_replica_new(&r, f->s), RC_OK);
	assert_int_equal(rc_replica_begin(r), RC_OK);
	/* garbage, a member under another name's key, a record of the wrong
	 * kind, an unknown kind: each refused, nothing written */
	assert_int_equal(rc_replica_put(r, U1, "member", "bob", 3, "garbage", 7), RC_ERR_INVALID);
	assert_int_equal(rc_replica_put(r, U1, "member", "eve", 3, bob->val, bob->vlen), RC_ERR_INVALID);
	assert_int_equal(rc_replica_put(r, U1, "role", "bob", 3, bob->val, bob->vlen), RC_ERR_INVALID);
	assert_int_equal(rc_replica_put(r, U1, "audit", "bob", 3, bob->val, bob->vlen), RC_ERR_INVALID);
	assert_int_equal(rc_replica_put(r, U1, "setting", "@schema", 7, "x", 1), RC_ERR_INVALID);
	assert_int_equal(rc_replica_commit(r, "c9", 2, true), RC_OK);
	assert_int_equal(rc_member_get(f->s, &root, "bob", &m), RC_ERR_NOTFOUND);
	assert_int_equal(rc_member_get(f->s, &root, "eve", &m), RC_ERR_NOTFOUND);
	assert_int_equal(rc_replica_status_get(f->s, &st), RC_OK);
	assert_int_equal(st.entries, 0);
	rc_replica_free(r);
}

/* An aborted transaction leaves neither the changes nor the cookie. */
static void test_abort_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	rc_replica *r;
	rc_member m;
	rc_replica_status st;

	assert_int_equal(rc_replica_new(&r, f->s), RC_OK);
	assert_int_equal(rc_replica_begin(r), RC_OK);
	assert_int_equal(put(f, r, U2, RC_REPL_MEMBER, "bob"), RC_OK);
	rc_replica_abort(r);
	assert_int_equal(rc_member_get(f->s, &root, "bob", &m), RC_ERR_NOTFOUND);
	assert_int_equal(rc_replica_status_get(f->s, &st), RC_OK);
	assert_string_equal(st.cookie, "");
	assert_int_equal(st.entries, 0);
	/* a commit without a cookie keeps the stored one */
	assert_int_equal(rc_replica_begin(r), RC_OK);
	assert_int_equal(put(f, r, U2, RC_REPL_MEMBER, "bob"), RC_OK);
	assert_int_equal(rc_replica_commit(r, "c1", 2, true), RC_OK);
	assert_int_equal(rc_replica_begin(r), RC_OK);
	assert_int_equal(put(f, r, U1, RC_REPL_ROLE, "developer"), RC_OK);
	assert_int_equal(rc_replica_commit(r, NULL, 0, false), RC_OK);
	assert_int_equal(rc_replica_status_get(f->s, &st), RC_OK);
	assert_string_equal(st.cookie, "c1");
	rc_replica_free(r);
}

/* The present phase: what the refresh neither sent nor marked goes,
 * records the directory never had included. */
static void test_sweep(void **state)
{
	struct fixture *f = *state;
	rc_replica *r;
	rc_member m;
	rc_role role;
	size_t removed;

	assert_int_equal(rc_replica_new(&r, f->s), RC_OK);
	assert_int_equal(rc_replica_begin(r), RC_OK);
	assert_int_equal(put(f, r, U1, RC_REPL_MEMBER, "owner"), RC_OK);
	assert_int_equal(put(f, r, U2, RC_REPL_MEMBER, "bob"), RC_OK);
	assert_int_equal(put(f, r, U3, RC_REPL_ROLE, "developer"), RC_OK);
	assert_int_equal(rc_replica_commit(r, "c1", 2, true), RC_OK);
	/* a role made locally, never in the directory */
	assert_int_equal(rc_role_create(f->s, &root, "local", 10, RC_PERM_VIEW), RC_OK);

	rc_replica_refresh_start(r);
	assert_int_equal(rc_replica_begin(r), RC_OK);
	assert_int_equal(rc_replica_mark(r, U1), RC_OK);   /* owner: unchanged */
	/* slapd names a new or changed entry present, then sends it whole */
	static const uint8_t U5[16] = { 5 };
	assert_int_equal(rc_replica_mark(r, U5), RC_OK);
	assert_int_equal(rc_replica_refresh_missing(r), 1);
	assert_int_equal(put(f, r, U5, RC_REPL_ROLE, "admin"), RC_OK);
	assert_int_equal(rc_replica_refresh_missing(r), 0);
	assert_int_equal(put(f, r, U3, RC_REPL_ROLE, "developer"), RC_OK);
	assert_int_equal(rc_replica_sweep(r, &removed), RC_OK);
	assert_int_equal(rc_replica_commit(r, "c2", 2, true), RC_OK);
	/* bob, the local role, and the id counter it moved (a setting the
	 * directory has in a fleet, but not in this test) */
	assert_int_equal(removed, 3);
	assert_int_equal(rc_member_get(f->s, &root, "owner", &m), RC_OK);
	assert_int_equal(rc_member_get(f->s, &root, "bob", &m), RC_ERR_NOTFOUND);
	assert_int_equal(rc_role_get(f->s, &root, "developer", &role), RC_OK);
	assert_int_equal(rc_role_get(f->s, &root, "local", &role), RC_ERR_NOTFOUND);
	rc_replica_status st;
	assert_int_equal(rc_replica_status_get(f->s, &st), RC_OK);
	assert_int_equal(st.entries, 3);   /* owner, developer, admin */
	rc_replica_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_empties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_then_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_records_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_attrs_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
