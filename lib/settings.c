/*
 * settings.c - policies, billing details, status; the typed settings,
 * meta values and counters (a decimal in a setting record) inside a
 * transaction, and the argon2id limits.  The audit log is audit.c's.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include "settings.h"
#include "errors.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "validate.h"
#include "actor.h"

enum kind { S_DURATION, S_UINT, S_ENUM };
static const struct def {
	const char *key;
	const char *def;
	enum kind kind;
	int64_t min, max;    /* seconds or value */
	const char *help;
} defs[] = {
	{ "invite.ttl", "24h", S_DURATION, 60, 365 * 86400,
	  "how long an invitation or reset code is valid: a duration from 1m to 365d" },
	{ "token.ttl", "30d", S_DURATION, 60, (int64_t)3650 * 86400,
	  "token lifetime, extended on use: a duration from 1m to 3650d" },
	{ "token.login_limit", "10", S_UINT, 1, 1000,
	  "login tokens per user (the oldest is evicted): 1 to 1000" },
	{ "token.api_limit", "25", S_UINT, 1, 1000,
	  "API tokens per user (creation refused past it): 1 to 1000" },
	{ "lockout.attempts", "5", S_UINT, 0, 1000,
	  "failed attempts before a lock (0 = never lock): 0 to 1000" },
	{ "lockout.duration", "15m", S_DURATION, 1, 365 * 86400,
	  "how long a lock lasts: a duration from 1s to 365d" },
	{ "mfa", "optional", S_ENUM, 0, 0, "two-factor authentication: optional or required" },
	{ "password.min_length", "12", S_UINT, 8, RC_PASSWORD_MAX,
	  "shortest member password: 8 to 1024" },
	{ "argon2.opslimit", "2", S_UINT, 1, 20, "argon2id passes: 1 to 20" },
	{ "argon2.memlimit_kib", "65536", S_UINT, 8192, 4194304,
	  "argon2id memory in KiB: 8192 to 4194304" },
	{ "audit.max_entries", "100000", S_UINT, 100, 100000000,
	  "audit records kept (the oldest are dropped): 100 to 100000000" },
	{ "audit.max_age", "365d", S_DURATION, 86400, (int64_t)36500 * 86400,
	  "how long audit records are kept: a duration from 1d to 36500d" },
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

static const char *const billing_keys[] = {
	"company", "contact_email", "address", "country", "vat_id", "plan"
};
#define NBILLING (sizeof(billing_keys) / sizeof(billing_keys[0]))

static const struct def *def_find(const char *key)
{
	for (size_t i = 0; i < NDEFS; i++)
		if (strcmp(defs[i].key, key) == 0)
			return &defs[i];
	return NULL;
}

/* Validate VALUE for D and write its canonical form. */
static int def_parse(const struct def *d, const char *value, char *canon, size_t len,
                     int64_t *num)
{
	int64_t v = 0;
	uint64_t u;

	switch (d->kind) {
	case S_DURATION:
		if (rc_duration_parse(value, &v))
			return rc_fail(RC_ERR_INVALID, "%s: %s", d->key, rc_errmsg());
		if (v < d->min || v > d->max)
			return rc_fail(RC_ERR_INVALID, "%s: \"%s\" is out of range; %s", d->key,
			               value, d->help);
		rc_duration_format(v, canon, len);
		break;
	case S_UINT:
		if (rc_uint_parse(value, (uint64_t)d->min, (uint64_t)d->max, &u))
			return rc_fail(RC_ERR_INVALID, "%s: %s", d->key, rc_errmsg());
		v = (int64_t)u;
		snprintf(canon, len, "%lld", (long long)v);
		break;
	case S_ENUM:
		if (strcmp(value, "optional") && strcmp(value, "required"))
			return rc_fail(RC_ERR_INVALID, "%s: bad value \"%.40s\"; %s", d->key,
			               value, d->help);
		v = strcmp(value, "required") == 0;
		snprintf(canon, len, "%s", value);
		break;
	}
	if (num)
		*num = v;
	return RC_OK;
}

static int stored_value(rc_txn *t, const char *key, char *buf, size_t len)
{
	rc_val v;
	int rc = rc_store_gets(t, DB_SETTINGS, key, &v);

	if (rc)
		return rc;
	return rc_setting_decode(v.data, v.size, buf, len);
}

int rc_setting_str(rc_txn *t, const char *key, char *buf, size_t len)
{
	const struct def *d = def_find(key);
	int rc;

	if (!d)
		return rc_fail(RC_ERR_INVALID, "unknown setting \"%.40s\"", key);
	rc = stored_value(t, key, buf, len);
	if (rc == RC_ERR_NOTFOUND)
		rc = def_parse(d, d->def, buf, len, NULL);   /* in canonical form */
	return rc;
}

int rc_setting_int(rc_txn *t, const char *key, int64_t *out)
{
	char buf[RC_SETTING_MAX], canon[RC_SETTING_MAX];
	const struct def *d = def_find(key);
	int rc = rc_setting_str(t, key, buf, sizeof(buf));

	if (rc)
		return rc;
	rc = def_parse(d, buf, canon, sizeof(canon), out);
	return rc ? rc_fail(RC_ERR_STORE, "stored setting %s is damaged: %s", key, rc_errmsg())
	          : RC_OK;
}

RC_API int rc_settings_foreach(rc_store *s, const rc_actor *a, rc_setting_cb cb, void *ctx)
{
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	rc = rc_require(&t, 0);
	for (size_t i = 0; !rc && i < NDEFS; i++) {
		rc_setting st = { .key = defs[i].key, .help = defs[i].help };
		rc = rc_setting_str(&t, defs[i].key, st.value, sizeof(st.value));
		if (!rc)
			rc = cb(&st, ctx);
	}
	return rc_txn_end(&t, rc);
}

RC_API int rc_settings_get(rc_store *s, const rc_actor *a, const char *key, char *buf,
                           size_t len)
{
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	rc = rc_require(&t, 0);
	if (!rc)
		rc = rc_setting_str(&t, key, buf, len);
	return rc_txn_end(&t, rc);
}

RC_API int rc_settings_set(rc_store *s, const rc_actor *a, const char *key,
                           const char *value)
{
	char canon[RC_SETTING_MAX], target[RC_SETTING_MAX + 64];
	const struct def *d = def_find(key);
	rc_wbuf w = { 0 };
	rc_txn t;
	int rc;

	if (!d) {
		char known[512];
		size_t o = 0;
		for (size_t i = 0; i < NDEFS && o < sizeof(known); i++)
			o += (size_t)snprintf(known + o, sizeof(known) - o, "%s%s", i ? ", " : "",
			                      defs[i].key);
		return rc_fail(RC_ERR_INVALID, "unknown setting \"%.40s\" (known: %s)", key, known);
	}
	if ((rc = def_parse(d, value, canon, sizeof(canon), NULL)) != 0)
		return rc;
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	snprintf(target, sizeof(target), "%s=%s", key, canon);
	rc_txn_audit(&t, "settings.set", target);
	rc = rc_require(&t, RC_PERM_MANAGE_MEMBERS);
	if (!rc) {
		rc_setting_encode(canon, &w);
		rc = rc_store_putw(&t, DB_SETTINGS, key, strlen(key), &w, 0);
		rc_wbuf_free(&w);
	}
	return rc_txn_end(&t, rc);
}

/* ---- billing ------------------------------------------------------------ */

RC_API int rc_billing_foreach(rc_store *s, const rc_actor *a, rc_setting_cb cb, void *ctx)
{
	rc_txn t;
	char key[64];
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	if (!t.root && t.is_member && (t.arole.perms & RC_PERM_BILLING))
		rc = rc_require(&t, 0);
	else
		rc = rc_require(&t, RC_PERM_BILLING_VIEW);
	for (size_t i = 0; !rc && i < NBILLING; i++) {
		rc_setting st = { .key = billing_keys[i], .help = "" };
		snprintf(key, sizeof(key), "billing.%s", billing_keys[i]);
		rc = stored_value(&t, key, st.value, sizeof(st.value));
		if (rc == RC_ERR_NOTFOUND) {
			st.value[0] = '\0';
			rc = RC_OK;
		}
		if (!rc)
			rc = cb(&st, ctx);
	}
	return rc_txn_end(&t, rc);
}

RC_API int rc_billing_set(rc_store *s, const rc_actor *a, const char *key, const char *value)
{
	char dbkey[64];
	rc_wbuf w = { 0 };
	rc_txn t;
	bool known = false;
	int rc;

	for (size_t i = 0; i < NBILLING; i++)
		known |= strcmp(key, billing_keys[i]) == 0;
	if (!known)
		return rc_fail(RC_ERR_INVALID, "unknown billing field \"%.40s\" (known: company, "
		               "contact_email, address, country, vat_id, plan)", key);
	if (strlen(value) >= RC_SETTING_MAX)
		return rc_fail(RC_ERR_INVALID, "billing %s is too long (%d characters at most)",
		               key, RC_SETTING_MAX - 1);
	if (rc_has_control(value, false))
		return rc_fail(RC_ERR_INVALID, "billing %s has a control character", key);
	if (strcmp(key, "contact_email") == 0 && value[0] && (rc = rc_valid_email(value)) != 0)
		return rc;
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "billing.set", key);
	rc = rc_require(&t, RC_PERM_BILLING);
	if (!rc) {
		snprintf(dbkey, sizeof(dbkey), "billing.%s", key);
		rc_setting_encode(value, &w);
		rc = rc_store_putw(&t, DB_SETTINGS, dbkey, strlen(dbkey), &w, 0);
		rc_wbuf_free(&w);
	}
	return rc_txn_end(&t, rc);
}

/* ---- status ------------------------------------------------------------- */

static int count_pending(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	rc_member_rec mem;

	(void)t;
	(void)k;
	if (rc_member_decode(v->data, v->size, &mem) == RC_OK && mem.status == RC_MEMBER_PENDING)
		(*(size_t *)ctx)++;
	sodium_memzero(&mem, sizeof(mem));
	return RC_OK;
}

RC_API int rc_store_status(rc_store *s, const rc_actor *a, rc_status *out)
{
	rc_txn t;
	uint64_t v, used, size;
	size_t n;
	int rc = rc_txn_begin(s, a, false, &t);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	rc = rc_require(&t, 0);
	if (!rc && rc_meta_get_u64(&t, "@schema", &v) == RC_OK)
		out->schema = (unsigned)v;
	if (!rc && rc_meta_get_u64(&t, "@generation", &v) == RC_OK)
		out->generation = v;
	static const struct { int db; size_t off; } counts[] = {
		{ DB_MEMBERS, offsetof(rc_status, members) },
		{ DB_ROLES, offsetof(rc_status, roles) },
		{ DB_SERVICES, offsetof(rc_status, services) },
		{ DB_SVCUSERS, offsetof(rc_status, service_users) },
		{ DB_AUDIT, offsetof(rc_status, audit_entries) },
	};
	for (size_t i = 0; !rc && i < sizeof(counts) / sizeof(counts[0]); i++) {
		if (rc_store_count(&t, counts[i].db, &n) == RC_OK)
			*(size_t *)(void *)((char *)out + counts[i].off) = n;
	}
	/* and the aggregated refusals (a record and its time key each) */
	if (!rc && !s->no_audit_agg && rc_store_count(&t, DB_AUDIT_AGG, &n) == RC_OK)
		out->audit_entries += n / 2;
	if (!rc) {
		(void)rc_store_foreach(&t, DB_MEMBERS, "", 0, count_pending, &out->pending);
		if (rc_store_usage(s, &used, &size) == RC_OK) {
			out->map_size = size;
			out->map_used = used;
		}
	}
	return rc_txn_end(&t, rc);
}

/* ---- counters: a decimal in a setting record, in any database ------------- */

int rc_counter_get(rc_txn *t, int db, const char *key, uint64_t *out)
{
	char buf[32];
	rc_val v;
	int rc = rc_store_gets(t, db, key, &v);

	if (rc)
		return rc;
	rc = rc_setting_decode(v.data, v.size, buf, sizeof(buf));
	if (rc)
		return rc;
	if (rc_uint_parse(buf, 0, UINT64_MAX, out))
		return rc_fail(RC_ERR_STORE, "damaged store value %s", key);
	return RC_OK;
}

int rc_counter_put(rc_txn *t, int db, const char *key, uint64_t v)
{
	char buf[32];
	rc_wbuf w;
	int rc;

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	rc_setting_encode(buf, &w);
	rc = rc_store_putw(t, db, key, strlen(key), &w, 0);
	rc_wbuf_free(&w);
	return rc;
}

int rc_meta_get_u64(rc_txn *t, const char *key, uint64_t *out)
{
	return rc_counter_get(t, DB_SETTINGS, key, out);
}

int rc_meta_put_u64(rc_txn *t, const char *key, uint64_t v)
{
	return rc_counter_put(t, DB_SETTINGS, key, v);
}

/* The argon2id limits, read in a read transaction of their own (hashing
 * then happens outside any). */
int rc_argon2_limits(rc_store *s, int64_t *ops, int64_t *mem_kib)
{
	rc_actor root = { .uid = 0, .origin = "hash" };
	rc_txn t;
	int rc = rc_txn_begin(s, &root, false, &t);

	if (rc)
		return rc;
	rc = rc_setting_int(&t, "argon2.opslimit", ops);
	if (!rc)
		rc = rc_setting_int(&t, "argon2.memlimit_kib", mem_kib);
	return rc_txn_end(&t, rc);
}
