/*
 * test_codec.c - the record codec: round trips, and refusal of truncated,
 * oversized, wrong-version, wrong-type and malformed records.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "internal.h"

static rc_member_rec sample_member(void)
{
	rc_member_rec m = { .status = RC_MEMBER_ACTIVE, .uid = 200042, .created = 1700000000,
	                .last_active = 1700000500, .must_change = 1, .totp_enabled = 1,
	                .failed = 3, .failed_at = 1700000900, .lock_until = 1700001000,
	                .reset_expires = 1700002000 };
	strcpy(m.username, "alice");
	strcpy(m.email, "alice@example.com");
	strcpy(m.full_name, "Alice \xc3\x89xample");
	strcpy(m.role, "owner");
	strcpy(m.pwhash, "$argon2id$v=19$m=65536,t=2,p=1$abc$def");
	memset(m.reset_hash, 0xab, sizeof(m.reset_hash));
	return m;
}

static void test_member_roundtrip(void **state)
{
	(void)state;
	rc_member_rec m = sample_member(), d;
	rc_wbuf w;
	assert_int_equal(rc_member_encode(&m, &w), RC_OK);
	assert_int_equal(rc_member_decode(w.p, w.len, &d), RC_OK);
	assert_memory_equal(&m, &d, sizeof(m));
	rc_wbuf_free(&w);
}

static void test_all_types_roundtrip(void **state)
{
	(void)state;
	rc_wbuf w;
	rc_role r = { .rank = 40, .perms = RC_PERM_VIEW | RC_PERM_INVITE, .gid = 200001, .builtin = 1 }, r2;
	strcpy(r.name, "developer");
	assert_int_equal(rc_role_encode(&r, &w), RC_OK);
	assert_int_equal(rc_role_decode(w.p, w.len, &r2), RC_OK);
	assert_memory_equal(&r, &r2, sizeof(r));
	rc_wbuf_free(&w);

	rc_invitation i = { .created = 5, .expires = 86405, .state = RC_INV_EXPIRED, .resent = 2 }, i2;
	strcpy(i.username, "bob");
	strcpy(i.email, "bob@example.com");
	strcpy(i.role, "developer");
	strcpy(i.inviter, "alice");
	memset(i.code_hash, 7, 32);
	assert_int_equal(rc_invitation_encode(&i, &w), RC_OK);
	assert_int_equal(rc_invitation_decode(w.p, w.len, &i2), RC_OK);
	assert_memory_equal(&i, &i2, sizeof(i));
	rc_wbuf_free(&w);

	rc_service s = { .state = RC_SERVICE_RUNNING, .gid = 1, .gid_readonly = 2,
	                 .gid_replication = 3, .created = 9 }, s2;
	strcpy(s.name, "db1");
	strcpy(s.default_user, "db1_admin");
	assert_int_equal(rc_service_encode(&s, &w), RC_OK);
	assert_int_equal(rc_service_decode(w.p, w.len, &s2), RC_OK);
	assert_memory_equal(&s, &s2, sizeof(s));
	/* runs_as is optional: absent from a record without it (as every
	 * record written before it), which decodes with runs_as "" */
	size_t without = w.len;
	rc_wbuf_free(&w);
	strcpy(s.runs_as, "postgres");
	assert_int_equal(rc_service_encode(&s, &w), RC_OK);
	assert_true(w.len > without);
	assert_int_equal(rc_service_decode(w.p, w.len, &s2), RC_OK);
	assert_memory_equal(&s, &s2, sizeof(s));
	assert_string_equal(s2.runs_as, "postgres");
	rc_wbuf_free(&w);

	rc_svcuser_rec u, u2;
	memset(&u, 0, sizeof(u));
	strcpy(u.pub.username, "db1_admin");
	strcpy(u.pub.service, "db1");
	strcpy(u.pwhash, "$argon2id$x");
	u.pub.uid = 200100;
	u.pub.read_only = 1;
	u.pub.protected_user = 1;
	u.pub.failed = 2;
	u.pub.failed_at = 1700000800;
	u.pw_enc_len = 60;
	memset(u.pw_enc, 0x5a, 60);
	assert_int_equal(rc_svcuser_encode(&u, &w), RC_OK);
	assert_int_equal(rc_svcuser_decode(w.p, w.len, &u2), RC_OK);
	assert_memory_equal(&u, &u2, sizeof(u));
	rc_wbuf_free(&w);

	rc_audit_entry e = { .seq = 77, .time = 123 }, e2;
	strcpy(e.actor, "root");
	strcpy(e.action, "member.invite");
	strcpy(e.target, "bob");
	strcpy(e.result, "ok");
	strcpy(e.origin, "tool");
	assert_int_equal(rc_audit_encode(&e, &w), RC_OK);
	assert_int_equal(rc_audit_decode(w.p, w.len, &e2), RC_OK);
	assert_memory_equal(&e, &e2, sizeof(e));
	rc_wbuf_free(&w);
	/* a record of the log has no count (0: read as one); an aggregated
	 * refusal keeps its count and first time */
	size_t plain = 0;
	assert_int_equal(rc_audit_encode(&e, &w), RC_OK);
	plain = w.len;
	rc_wbuf_free(&w);
	e.seq = 0;
	e.count = 300;
	e.first = 100;
	assert_int_equal(rc_audit_encode(&e, &w), RC_OK);
	assert_int_equal(w.len, plain + 2 * (3 + 8));
	assert_int_equal(rc_audit_decode(w.p, w.len, &e2), RC_OK);
	assert_memory_equal(&e, &e2, sizeof(e));
	for (size_t n = 0; n < w.len; n++)
		assert_int_not_equal(rc_audit_decode(w.p, n, &e2), RC_OK);
	rc_wbuf_free(&w);
	/* a count without a first time, a first time without a count, a count
	 * of 0: refused */
	for (int variant = 0; variant < 3; variant++) {
		rc_wbuf_init(&w, RC_REC_AUDIT);
		rc_wbuf_u64(&w, 1, 0);
		rc_wbuf_u64(&w, 2, 5);
		rc_wbuf_str(&w, 4, "login");
		if (variant != 1)
			rc_wbuf_u64(&w, 8, variant == 2 ? 0 : 3);
		if (variant != 0)
			rc_wbuf_u64(&w, 9, 4);
		for (int j = 0; j < 4; j++)
			w.p[4 + j] = (uint8_t)(w.len >> (8 * j));
		assert_int_equal(rc_audit_decode(w.p, w.len, &e2), RC_ERR_STORE);
		rc_wbuf_free(&w);
	}

	char v[32];
	assert_int_equal(rc_setting_encode("24h", &w), RC_OK);
	assert_int_equal(rc_setting_decode(w.p, w.len, v, sizeof(v)), RC_OK);
	assert_string_equal(v, "24h");
	rc_wbuf_free(&w);
}

static rc_token_rec sample_token(void)
{
	rc_token_rec t;
	memset(&t, 0, sizeof(t));
	strcpy(t.pub.id, "abcdefghijklmnop");
	strcpy(t.pub.owner, "dbuser1");
	t.pub.owner_uid = 200042;
	t.pub.kind = RC_TOKEN_LOGIN;
	strcpy(t.pub.description, "session");
	t.pub.created = 1700000000;
	t.pub.last_used = 1700000060;
	t.pub.expires = 1702592000;
	t.pub.ttl = 2592000;
	t.pub.extension = RC_EXT_SLIDE;
	memset(t.hash, 0x3c, sizeof(t.hash));
	return t;
}

/* A token record keeps its owner's uid; a record as schema 1 wrote it (no
 * uid, the tags 1-11 only) still decodes, with no owner uid (0), which
 * rc_tokens_upgrade then fills in or revokes; a uid past 32 bits is
 * refused. */
static void test_token_records(void **state)
{
	(void)state;
	rc_token_rec t = sample_token(), d;
	rc_wbuf w;

	assert_int_equal(rc_token_encode(&t, &w), RC_OK);
	assert_int_equal(rc_token_decode(w.p, w.len, &d), RC_OK);
	assert_memory_equal(&t, &d, sizeof(t));
	for (size_t n = 0; n < w.len; n++)
		assert_int_not_equal(rc_token_decode(w.p, n, &d), RC_OK);
	rc_wbuf_free(&w);

	/* schema 1, field by field */
	rc_wbuf_init(&w, RC_REC_TOKEN);
	rc_wbuf_str(&w, 1, t.pub.id);
	rc_wbuf_str(&w, 2, t.pub.owner);
	rc_wbuf_u64(&w, 3, (uint64_t)t.pub.kind);
	rc_wbuf_str(&w, 4, t.pub.description);
	rc_wbuf_u64(&w, 5, (uint64_t)t.pub.created);
	rc_wbuf_u64(&w, 6, (uint64_t)t.pub.last_used);
	rc_wbuf_u64(&w, 7, (uint64_t)t.pub.expires);
	rc_wbuf_u64(&w, 8, (uint64_t)t.pub.max_expiry);
	rc_wbuf_u64(&w, 9, (uint64_t)t.pub.ttl);
	rc_wbuf_u64(&w, 10, (uint64_t)t.pub.extension);
	rc_wbuf_bytes(&w, 11, t.hash, sizeof(t.hash));
	for (int i = 0; i < 4; i++)
		w.p[4 + i] = (uint8_t)(w.len >> (8 * i));
	assert_int_equal(rc_token_decode(w.p, w.len, &d), RC_OK);
	t.pub.owner_uid = 0;
	assert_memory_equal(&t, &d, sizeof(t));
	/* the encoder writes a record without a uid exactly as schema 1 did */
	rc_wbuf w1;
	assert_int_equal(rc_token_encode(&t, &w1), RC_OK);
	assert_int_equal(w1.len, w.len);
	assert_memory_equal(w1.p, w.p, w.len);
	rc_wbuf_free(&w1);

	/* an owner uid of more than 32 bits */
	rc_wbuf_u64(&w, 12, (uint64_t)UINT32_MAX + 1);
	for (int i = 0; i < 4; i++)
		w.p[4 + i] = (uint8_t)(w.len >> (8 * i));
	assert_int_equal(rc_token_decode(w.p, w.len, &d), RC_ERR_STORE);
	assert_non_null(strstr(rc_errmsg(), "out of range"));
	rc_wbuf_free(&w);
	/* the encoder writes no uid rather than 0: a uid of 0 is refused */
	rc_wbuf_init(&w, RC_REC_TOKEN);
	rc_wbuf_str(&w, 1, t.pub.id);
	rc_wbuf_str(&w, 2, t.pub.owner);
	rc_wbuf_u64(&w, 3, 0);
	rc_wbuf_u64(&w, 7, 1);
	rc_wbuf_bytes(&w, 11, t.hash, sizeof(t.hash));
	for (int i = 0; i < 4; i++)
		w.p[4 + i] = (uint8_t)(w.len >> (8 * i));
	assert_int_equal(rc_token_decode(w.p, w.len, &d), RC_OK);
	rc_wbuf_u64(&w, 12, 0);
	for (int i = 0; i < 4; i++)
		w.p[4 + i] = (uint8_t)(w.len >> (8 * i));
	assert_int_equal(rc_token_decode(w.p, w.len, &d), RC_ERR_STORE);
	rc_wbuf_free(&w);
}

/* Every truncation of a valid record is refused. */
static void test_truncated(void **state)
{
	(void)state;
	rc_member_rec m = sample_member(), d;
	rc_wbuf w;
	assert_int_equal(rc_member_encode(&m, &w), RC_OK);
	for (size_t n = 0; n < w.len; n++)
		assert_int_not_equal(rc_member_decode(w.p, n, &d), RC_OK);
	/* and one byte more */
	uint8_t *big = malloc(w.len + 1);
	memcpy(big, w.p, w.len);
	big[w.len] = 0;
	assert_int_equal(rc_member_decode(big, w.len + 1, &d), RC_ERR_STORE);
	free(big);
	rc_wbuf_free(&w);
}

static void test_version_and_type(void **state)
{
	(void)state;
	rc_member_rec m = sample_member(), d;
	rc_role r;
	rc_wbuf w;
	assert_int_equal(rc_member_encode(&m, &w), RC_OK);
	w.p[2] = RC_CODEC_VERSION + 1;
	assert_int_equal(rc_member_decode(w.p, w.len, &d), RC_ERR_SCHEMA);
	assert_non_null(strstr(rc_errmsg(), "newer"));
	w.p[2] = 0;
	assert_int_equal(rc_member_decode(w.p, w.len, &d), RC_ERR_STORE);
	w.p[2] = RC_CODEC_VERSION;
	assert_int_equal(rc_role_decode(w.p, w.len, &r), RC_ERR_STORE);
	w.p[0] = 'X';
	assert_int_equal(rc_member_decode(w.p, w.len, &d), RC_ERR_STORE);
	rc_wbuf_free(&w);
}

/* Build a record by hand: header + fields. */
static size_t build(uint8_t *buf, uint8_t type, const uint8_t *fields, size_t flen)
{
	size_t len = RC_HEADER_LEN + flen;
	buf[0] = 'R'; buf[1] = 'C'; buf[2] = RC_CODEC_VERSION; buf[3] = type;
	for (int i = 0; i < 4; i++)
		buf[4 + i] = (uint8_t)(len >> (8 * i));
	if (flen)
		memcpy(buf + RC_HEADER_LEN, fields, flen);
	return len;
}

static void test_malformed_fields(void **state)
{
	(void)state;
	uint8_t buf[512];
	char v[8];
	rc_role r;
	size_t n;

	/* a field whose length runs past the record */
	const uint8_t overrun[] = { 1, 10, 0, 'a', 'b' };
	n = build(buf, RC_REC_SETTING, overrun, sizeof(overrun));
	assert_int_equal(rc_setting_decode(buf, n, v, sizeof(v)), RC_ERR_STORE);
	/* a NUL inside a string */
	const uint8_t nul[] = { 1, 3, 0, 'a', 0, 'b' };
	n = build(buf, RC_REC_SETTING, nul, sizeof(nul));
	assert_int_equal(rc_setting_decode(buf, n, v, sizeof(v)), RC_ERR_STORE);
	/* a string too long for its field */
	const uint8_t longstr[] = { 1, 9, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i' };
	n = build(buf, RC_REC_SETTING, longstr, sizeof(longstr));
	assert_int_equal(rc_setting_decode(buf, n, v, sizeof(v)), RC_ERR_STORE);
	/* an unknown tag */
	const uint8_t unknown[] = { 1, 1, 0, 'a', 9, 0, 0 };
	n = build(buf, RC_REC_SETTING, unknown, sizeof(unknown));
	assert_int_equal(rc_setting_decode(buf, n, v, sizeof(v)), RC_ERR_STORE);
	/* a repeated tag */
	const uint8_t twice[] = { 1, 1, 0, 'a', 1, 1, 0, 'b' };
	n = build(buf, RC_REC_SETTING, twice, sizeof(twice));
	assert_int_equal(rc_setting_decode(buf, n, v, sizeof(v)), RC_ERR_STORE);
	/* a missing required field */
	n = build(buf, RC_REC_SETTING, NULL, 0);
	assert_int_equal(rc_setting_decode(buf, n, v, sizeof(v)), RC_ERR_STORE);
	/* an integer that is not 8 bytes; a flag out of range; perms out of range */
	const uint8_t shortint[] = { 1, 1, 0, 'x', 2, 4, 0, 1, 0, 0, 0, 3, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	                             4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	n = build(buf, RC_REC_ROLE, shortint, sizeof(shortint));
	assert_int_equal(rc_role_decode(buf, n, &r), RC_ERR_STORE);
	const uint8_t badflag[] = { 1, 1, 0, 'x', 2, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 8, 0, 0, 0, 0, 0,
	                            0, 0, 0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 8, 0, 2, 0, 0, 0,
	                            0, 0, 0, 0 };
	n = build(buf, RC_REC_ROLE, badflag, sizeof(badflag));
	assert_int_equal(rc_role_decode(buf, n, &r), RC_ERR_STORE);
	const uint8_t badperm[] = { 1, 1, 0, 'x', 2, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 8, 0, 0, 0, 0, 0x80,
	                            0, 0, 0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	n = build(buf, RC_REC_ROLE, badperm, sizeof(badperm));
	assert_int_equal(rc_role_decode(buf, n, &r), RC_ERR_STORE);
	/* and the same role, well formed, decodes */
	const uint8_t good[] = { 1, 1, 0, 'x', 2, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 8, 0, 1, 0, 0, 0, 0,
	                         0, 0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	n = build(buf, RC_REC_ROLE, good, sizeof(good));
	assert_int_equal(rc_role_decode(buf, n, &r), RC_OK);
	assert_string_equal(r.name, "x");
	assert_int_equal(r.rank, 1);
}

static void test_oversized(void **state)
{
	(void)state;
	rc_wbuf w;
	char *big = malloc(70000);
	memset(big, 'a', 69999);
	big[69999] = 0;
	rc_wbuf_init(&w, RC_REC_SETTING);
	rc_wbuf_str(&w, 1, big);
	assert_int_equal(w.err, RC_ERR_INVALID);
	rc_wbuf_free(&w);
	/* many fields adding up past the record limit */
	big[60000] = 0;
	rc_wbuf_init(&w, RC_REC_SETTING);
	rc_wbuf_str(&w, 1, big);
	rc_wbuf_str(&w, 2, big);
	assert_int_equal(w.err, RC_ERR_INVALID);
	rc_wbuf_free(&w);
	free(big);
	/* a record longer than the limit is refused by the reader */
	uint8_t *rec = calloc(1, RC_RECORD_MAX + 16);
	size_t n = RC_RECORD_MAX + 16;
	rec[0] = 'R'; rec[1] = 'C'; rec[2] = 1; rec[3] = RC_REC_SETTING;
	for (int i = 0; i < 4; i++)
		rec[4 + i] = (uint8_t)(n >> (8 * i));
	char v[8];
	assert_int_equal(rc_setting_decode(rec, n, v, sizeof(v)), RC_ERR_STORE);
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_member_roundtrip),
		cmocka_unit_test(test_all_types_roundtrip),
		cmocka_unit_test(test_token_records),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_version_and_type),
		cmocka_unit_test(test_malformed_fields),
		cmocka_unit_test(test_oversized),
	};
	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
