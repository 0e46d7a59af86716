/*
 * settings.c - policies, billing details, the audit log and status.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"

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
	MDB_val v;
	int rc = rc_db_gets(t, DB_SETTINGS, key, &v);

	if (rc)
		return rc;
	return rc_setting_decode(v.mv_data, v.mv_size, buf, len);
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
		rc = rc_db_put(&t, DB_SETTINGS, key, strlen(key), &w, 0);
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
		rc = rc_db_put(&t, DB_SETTINGS, dbkey, strlen(dbkey), &w, 0);
		rc_wbuf_free(&w);
	}
	return rc_txn_end(&t, rc);
}

/* ---- audit -------------------------------------------------------------- */

static void seq_key(uint64_t seq, uint8_t k[8])
{
	for (int i = 0; i < 8; i++)
		k[i] = (uint8_t)(seq >> (56 - 8 * i));
}

/* Drop records past audit.max_entries or older than audit.max_age; a few
 * at a time, so that one append never does unbounded work. */
static int audit_prune(rc_txn *t, int64_t now)
{
	MDB_cursor *c;
	MDB_stat st;
	MDB_val k, v;
	int64_t max_entries, max_age;
	int rc, mrc;

	if ((rc = rc_setting_int(t, "audit.max_entries", &max_entries)) != 0 ||
	    (rc = rc_setting_int(t, "audit.max_age", &max_age)) != 0)
		return rc;
	if ((mrc = mdb_stat(t->txn, t->s->dbi[DB_AUDIT], &st)) != 0)
		return rc_fail_lmdb(mrc, "cannot read the audit log");
	if ((mrc = mdb_cursor_open(t->txn, t->s->dbi[DB_AUDIT], &c)) != 0)
		return rc_fail_lmdb(mrc, "cannot read the audit log");
	size_t count = st.ms_entries;
	for (int i = 0; i < 16 && rc == RC_OK; i++) {
		rc_audit_entry e;
		if (mdb_cursor_get(c, &k, &v, MDB_FIRST) != 0)
			break;
		bool too_many = count > (size_t)max_entries;
		bool too_old = rc_audit_decode(v.mv_data, v.mv_size, &e) == RC_OK &&
		               e.time < now - max_age;
		if (!too_many && !too_old)
			break;
		if ((mrc = mdb_cursor_del(c, 0)) != 0)
			rc = rc_fail_lmdb(mrc, "cannot prune the audit log");
		count--;
	}
	mdb_cursor_close(c);
	return rc;
}

int rc_audit_append(rc_txn *t, const char *result)
{
	MDB_cursor *c;
	MDB_val k, v;
	rc_audit_entry e = { 0 };
	uint8_t key[8];
	rc_wbuf w;
	int rc, mrc;

	if ((mrc = mdb_cursor_open(t->txn, t->s->dbi[DB_AUDIT], &c)) != 0)
		return rc_fail_lmdb(mrc, "cannot write the audit log");
	mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (mrc == 0 && k.mv_size == 8) {
		for (int i = 0; i < 8; i++)
			e.seq = (e.seq << 8) | ((uint8_t *)k.mv_data)[i];
	}
	mdb_cursor_close(c);
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return rc_fail_lmdb(mrc, "cannot read the audit log");
	e.seq++;
	e.time = rc_store_now(t->s);
	snprintf(e.actor, sizeof(e.actor), "%s", t->actor_name);
	snprintf(e.action, sizeof(e.action), "%s", t->action);
	snprintf(e.target, sizeof(e.target), "%s", t->target);
	snprintf(e.result, sizeof(e.result), "%s", result);
	snprintf(e.origin, sizeof(e.origin), "%s", t->origin);
	seq_key(e.seq, key);
	rc_audit_encode(&e, &w);
	rc = rc_db_put(t, DB_AUDIT, key, 8, &w, MDB_APPEND);
	rc_wbuf_free(&w);
	if (!rc)
		rc = audit_prune(t, e.time);
	return rc;
}

/* ---- aggregated refusals ---------------------------------------------------
 *
 * A refusal that changed nothing, by a caller who is not a member acting as
 * one (a permission refusal of a uid that is no member; a PAM refusal of an
 * unknown user, a locked or refused account), is not appended to the log:
 * it is counted in the "audit_refusals" database, one record per (actor,
 * action, origin) with the number of refusals, the first and the last time
 * (and the last target and result).  Keys: "k" + actor NUL action NUL origin
 * -> the record; "t" + last time + the sequence number of the log's last
 * record then (8 bytes each, big-endian) + the "k" key -> "" (oldest first,
 * for retention, and in one order with the log: an aggregate last counted
 * after record N of the same second is listed between N and N + 1).  The
 * record keeps that number in its seq field; it is shown as 0.  audit.max_entries and audit.max_age apply
 * to these records apart from the log: a change is evicted only by changes,
 * and however many refusals are made, the oldest aggregates go first. */

#define AGG_KEY_MAX (1 + sizeof(((rc_audit_entry *)0)->actor) + \
                     sizeof(((rc_audit_entry *)0)->action) + \
                     sizeof(((rc_audit_entry *)0)->origin))
#define AGG_THDR 17   /* "t", time, log seq */
#define AGG_TKEY_MAX (AGG_THDR + AGG_KEY_MAX)

static size_t agg_key(const char *actor, const char *action, const char *origin,
                      char key[AGG_KEY_MAX])
{
	size_t n = 0, l;

	key[n++] = 'k';
	l = strlen(actor);
	memcpy(key + n, actor, l + 1);
	n += l + 1;
	l = strlen(action);
	memcpy(key + n, action, l + 1);
	n += l + 1;
	l = strlen(origin);
	memcpy(key + n, origin, l);
	return n + l;
}

static size_t agg_tkey(int64_t time, uint64_t after, const char *key, size_t klen,
                       char tkey[AGG_TKEY_MAX])
{
	tkey[0] = 't';
	seq_key((uint64_t)time, (uint8_t *)tkey + 1);
	seq_key(after, (uint8_t *)tkey + 9);
	memcpy(tkey + AGG_THDR, key, klen);
	return AGG_THDR + klen;
}

static uint64_t be64_at(const MDB_val *k, size_t off)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | ((const uint8_t *)k->mv_data)[off + i];
	return v;
}

static int64_t tkey_time(const MDB_val *k)
{
	return (int64_t)be64_at(k, 1);
}

static uint64_t tkey_after(const MDB_val *k)
{
	return be64_at(k, 9);
}

static bool is_tkey(const MDB_val *k)
{
	return k->mv_size > AGG_THDR && ((const char *)k->mv_data)[0] == 't';
}

/* Is the aggregate of time key AK newer than log record SEQ of time T? */
static bool agg_after(const MDB_val *ak, int64_t t, uint64_t seq)
{
	return tkey_time(ak) > t || (tkey_time(ak) == t && tkey_after(ak) >= seq);
}

/* The sequence number of the log's last record (0: none). */
static int audit_last_seq(rc_txn *t, uint64_t *seq)
{
	MDB_cursor *c;
	MDB_val k, v;
	int mrc;

	*seq = 0;
	if ((mrc = mdb_cursor_open(t->txn, t->s->dbi[DB_AUDIT], &c)) != 0)
		return rc_fail_lmdb(mrc, "cannot read the audit log");
	mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (mrc == 0 && k.mv_size == 8)
		*seq = be64_at(&k, 0);
	mdb_cursor_close(c);
	return mrc == 0 || mrc == MDB_NOTFOUND ? RC_OK : rc_fail_lmdb(mrc, "cannot read the audit log");
}

/* Drop aggregates past audit.max_entries or older than audit.max_age,
 * oldest first, a few at a time. */
static int agg_prune(rc_txn *t, int64_t now)
{
	MDB_cursor *c;
	MDB_stat st;
	MDB_val k, v;
	char tprefix[] = "t";
	int64_t max_entries, max_age;
	int rc, mrc;

	if ((rc = rc_setting_int(t, "audit.max_entries", &max_entries)) != 0 ||
	    (rc = rc_setting_int(t, "audit.max_age", &max_age)) != 0)
		return rc;
	if ((mrc = mdb_stat(t->txn, t->s->dbi[DB_AUDIT_AGG], &st)) != 0 ||
	    (mrc = mdb_cursor_open(t->txn, t->s->dbi[DB_AUDIT_AGG], &c)) != 0)
		return rc_fail_lmdb(mrc, "cannot read the aggregated refusals");
	size_t count = st.ms_entries / 2;   /* a record and its time key */
	for (int i = 0; i < 16 && rc == RC_OK; i++) {
		k.mv_size = 1;
		k.mv_data = tprefix;
		if (mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) != 0 || !is_tkey(&k))
			break;
		if (count <= (size_t)max_entries && tkey_time(&k) >= now - max_age)
			break;
		MDB_val rk = { k.mv_size - AGG_THDR, (char *)k.mv_data + AGG_THDR };
		mrc = mdb_del(t->txn, t->s->dbi[DB_AUDIT_AGG], &rk, NULL);
		if (mrc && mrc != MDB_NOTFOUND)
			rc = rc_fail_lmdb(mrc, "cannot prune the aggregated refusals");
		else if ((mrc = mdb_cursor_del(c, 0)) != 0)
			rc = rc_fail_lmdb(mrc, "cannot prune the aggregated refusals");
		count--;
	}
	mdb_cursor_close(c);
	return rc;
}

int rc_audit_aggregate(rc_txn *t, const char *result)
{
	char key[AGG_KEY_MAX], tkey[AGG_TKEY_MAX];
	rc_audit_entry e;
	MDB_val v;
	rc_wbuf w;
	int64_t now = rc_store_now(t->s);
	size_t klen = agg_key(t->actor_name, t->action, t->origin, key);
	int rc = rc_db_get(t, DB_AUDIT_AGG, key, klen, &v);

	memset(&e, 0, sizeof(e));
	if (rc == RC_OK) {
		rc = rc_audit_decode(v.mv_data, v.mv_size, &e);
		if (!rc) {   /* its time key moves */
			rc = rc_db_del(t, DB_AUDIT_AGG, tkey,
			               agg_tkey(e.time, e.seq, key, klen, tkey));
			if (rc == RC_ERR_NOTFOUND)
				rc = RC_OK;
		}
		if (!rc && e.count < UINT64_MAX)
			e.count++;
	} else if (rc == RC_ERR_NOTFOUND) {
		snprintf(e.actor, sizeof(e.actor), "%s", t->actor_name);
		snprintf(e.action, sizeof(e.action), "%s", t->action);
		snprintf(e.origin, sizeof(e.origin), "%s", t->origin);
		e.count = 1;
		e.first = now;
		rc = RC_OK;
	}
	if (!rc)
		rc = audit_last_seq(t, &e.seq);
	if (rc)
		return rc;
	if (now > e.time)
		e.time = now;
	snprintf(e.target, sizeof(e.target), "%s", t->target);
	snprintf(e.result, sizeof(e.result), "%s", result);
	rc_audit_encode(&e, &w);
	rc = rc_db_put(t, DB_AUDIT_AGG, key, klen, &w, 0);
	rc_wbuf_free(&w);
	if (!rc)
		rc = rc_db_put_raw(t, DB_AUDIT_AGG, tkey, agg_tkey(e.time, e.seq, key, klen, tkey),
		                   "", 0, 0);
	if (!rc)
		rc = agg_prune(t, now);
	return rc;
}

/* The aggregate whose time key is K. */
static int agg_load(rc_txn *t, const MDB_val *k, rc_audit_entry *e)
{
	MDB_val v;
	int rc = rc_db_get(t, DB_AUDIT_AGG, (const char *)k->mv_data + AGG_THDR,
	                   k->mv_size - AGG_THDR, &v);

	if (rc == RC_ERR_NOTFOUND)
		return rc_fail(RC_ERR_STORE, "damaged audit_refusals database (a time key "
		               "without its record)");
	if (!rc)
		rc = rc_audit_decode(v.mv_data, v.mv_size, e);
	e->seq = 0;
	return rc;
}

RC_API int rc_audit_foreach(rc_store *s, const rc_actor *a, int64_t since, size_t limit,
                            rc_audit_cb cb, void *ctx)
{
	MDB_cursor *c = NULL, *ac = NULL;
	MDB_val k, v, ak, av;
	uint8_t mstart[8];
	char astart[AGG_TKEY_MAX];
	size_t astart_len = 0, shown = 0;
	bool have_m = false, have_a = false, mvalid, avalid;
	rc_audit_entry e;
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);
	int mrc, arc = MDB_NOTFOUND;

	if (rc)
		return rc;
	rc = rc_require(&t, RC_PERM_AUDIT);
	if (!rc && (mrc = mdb_cursor_open(t.txn, s->dbi[DB_AUDIT], &c)) != 0)
		rc = rc_fail_lmdb(mrc, "cannot read the audit log");
	if (!rc && !s->no_audit_agg &&
	    (mrc = mdb_cursor_open(t.txn, s->dbi[DB_AUDIT_AGG], &ac)) != 0)
		rc = rc_fail_lmdb(mrc, "cannot read the aggregated refusals");
	if (rc)
		goto out;

	/* Walk back from the newest record of either kind to the first one to
	 * show (in one order: by time, then by the log's sequence, an
	 * aggregate standing after the record that was last when it was last
	 * counted). */
	mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (ac) {
		arc = mdb_cursor_get(ac, &ak, &av, MDB_LAST);
		if (arc == 0 && !is_tkey(&ak))
			arc = MDB_NOTFOUND;
	}
	while (!limit || shown < limit) {
		int64_t mtime = since;
		uint64_t mseq = 0;
		if ((mvalid = mrc == 0 && k.mv_size == 8)) {
			if (rc_audit_decode(v.mv_data, v.mv_size, &e) == RC_OK)
				mtime = e.time;
			mseq = be64_at(&k, 0);
			mvalid = mtime >= since;
		}
		avalid = arc == 0 && tkey_time(&ak) >= since;
		if (!mvalid && !avalid)
			break;
		shown++;
		if (avalid && (!mvalid || agg_after(&ak, mtime, mseq))) {
			have_a = true;
			astart_len = ak.mv_size < sizeof(astart) ? ak.mv_size : sizeof(astart);
			memcpy(astart, ak.mv_data, astart_len);
			arc = mdb_cursor_get(ac, &ak, &av, MDB_PREV);
			if (arc == 0 && !is_tkey(&ak))
				arc = MDB_NOTFOUND;
		} else {
			have_m = true;
			memcpy(mstart, k.mv_data, 8);
			mrc = mdb_cursor_get(c, &k, &v, MDB_PREV);
		}
	}

	/* Then forward, in the same order. */
	mrc = MDB_NOTFOUND;
	if (have_m) {
		k.mv_size = 8;
		k.mv_data = mstart;
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	}
	arc = MDB_NOTFOUND;
	if (have_a) {
		char tk[AGG_TKEY_MAX];
		memcpy(tk, astart, astart_len);
		ak.mv_size = astart_len;
		ak.mv_data = tk;
		arc = mdb_cursor_get(ac, &ak, &av, MDB_SET_KEY);
	}
	while (!rc && (mrc == 0 || arc == 0)) {
		rc_audit_entry m;
		bool m_ok = false;
		if (mrc == 0) {
			rc = rc_audit_decode(v.mv_data, v.mv_size, &m);
			if (rc)
				break;
			m_ok = true;
		}
		if (arc == 0 && is_tkey(&ak) && (!m_ok || !agg_after(&ak, m.time, be64_at(&k, 0)))) {
			rc = agg_load(&t, &ak, &e);
			if (!rc)
				rc = cb(&e, ctx);
			arc = mdb_cursor_get(ac, &ak, &av, MDB_NEXT);
			continue;
		}
		if (!m_ok)
			break;
		if (m.time >= since) {
			m.count = 1;
			m.first = m.time;
			rc = cb(&m, ctx);
		}
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (!rc && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rc_fail_lmdb(mrc, "cannot read the audit log");
	if (!rc && arc != 0 && arc != MDB_NOTFOUND)
		rc = rc_fail_lmdb(arc, "cannot read the aggregated refusals");
out:
	if (c)
		mdb_cursor_close(c);
	if (ac)
		mdb_cursor_close(ac);
	return rc_txn_end(&t, rc);
}

/* ---- status ------------------------------------------------------------- */

RC_API int rc_store_status(rc_store *s, const rc_actor *a, rc_status *out)
{
	MDB_stat st;
	MDB_envinfo info;
	rc_txn t;
	uint64_t v;
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
		if (mdb_stat(t.txn, s->dbi[counts[i].db], &st) == 0)
			*(size_t *)(void *)((char *)out + counts[i].off) = st.ms_entries;
	}
	/* and the aggregated refusals (a record and its time key each) */
	if (!rc && !s->no_audit_agg && mdb_stat(t.txn, s->dbi[DB_AUDIT_AGG], &st) == 0)
		out->audit_entries += st.ms_entries / 2;
	if (!rc) {
		MDB_cursor *c;
		MDB_val k, val;
		if (mdb_cursor_open(t.txn, s->dbi[DB_MEMBERS], &c) == 0) {
			for (int m = mdb_cursor_get(c, &k, &val, MDB_FIRST); m == 0;
			     m = mdb_cursor_get(c, &k, &val, MDB_NEXT)) {
				rc_member_rec mem;
				if (rc_member_decode(val.mv_data, val.mv_size, &mem) == RC_OK &&
				    mem.status == RC_MEMBER_PENDING)
					out->pending++;
			}
			mdb_cursor_close(c);
		}
		if (mdb_env_info(s->env, &info) == 0 && mdb_env_stat(s->env, &st) == 0) {
			out->map_size = info.me_mapsize;
			out->map_used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
		}
	}
	return rc_txn_end(&t, rc);
}
