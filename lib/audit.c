/*
 * audit.c - the audit log: each change's record appended in the commit that
 * makes it (a pre-commit hook), a permission refusal's in a transaction of
 * its own (an abort hook), the aggregated refusals of callers who are not
 * members, pruning by audit.max_entries and audit.max_age, and the walk
 * that lists both in one order (rc_audit_foreach).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "audit.h"
#include "errors.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "actor.h"
#include "settings.h"

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
	rc_cursor *c;
	rc_val k, v;
	int64_t max_entries, max_age;
	size_t count;
	int rc;

	if ((rc = rc_setting_int(t, "audit.max_entries", &max_entries)) != 0 ||
	    (rc = rc_setting_int(t, "audit.max_age", &max_age)) != 0 ||
	    (rc = rc_store_count(t, DB_AUDIT, &count)) != 0 ||
	    (rc = rc_cursor_open(t, DB_AUDIT, &c)) != 0)
		return rc;
	for (int i = 0; i < 16 && rc == RC_OK; i++) {
		rc_audit_entry e;
		if (rc_cursor_get(c, &k, &v, RC_CUR_FIRST) != RC_OK)
			break;
		bool too_many = count > (size_t)max_entries;
		bool too_old = rc_audit_decode(v.data, v.size, &e) == RC_OK &&
		               e.time < now - max_age;
		if (!too_many && !too_old)
			break;
		rc = rc_cursor_del(c);
		count--;
	}
	rc_cursor_close(c);
	return rc;
}

static uint64_t be64_at(const rc_val *k, size_t off);

/* The sequence number of the log's last record (0: none). */
static int audit_last_seq(rc_txn *t, uint64_t *seq)
{
	rc_cursor *c;
	rc_val k, v;
	int rc;

	*seq = 0;
	if ((rc = rc_cursor_open(t, DB_AUDIT, &c)) != 0)
		return rc;
	rc = rc_cursor_get(c, &k, &v, RC_CUR_LAST);
	if (rc == RC_OK && k.size == 8)
		*seq = be64_at(&k, 0);
	rc_cursor_close(c);
	return rc == RC_ERR_NOTFOUND ? RC_OK : rc;
}

int rc_audit_append(rc_txn *t, const char *result)
{
	rc_audit_entry e = { 0 };
	uint8_t key[8];
	rc_wbuf w;
	int rc;

	if ((rc = audit_last_seq(t, &e.seq)) != RC_OK)
		return rc;
	e.seq++;
	e.time = rc_store_now(t->s);
	snprintf(e.actor, sizeof(e.actor), "%s", t->actor_name);
	snprintf(e.action, sizeof(e.action), "%s", t->action);
	snprintf(e.target, sizeof(e.target), "%s", t->target);
	snprintf(e.result, sizeof(e.result), "%s", result);
	snprintf(e.origin, sizeof(e.origin), "%s", t->origin);
	seq_key(e.seq, key);
	rc_audit_encode(&e, &w);
	rc = rc_store_putw(t, DB_AUDIT, key, 8, &w, RC_PUT_APPEND);
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

static uint64_t be64_at(const rc_val *k, size_t off)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | ((const uint8_t *)k->data)[off + i];
	return v;
}

static int64_t tkey_time(const rc_val *k)
{
	return (int64_t)be64_at(k, 1);
}

static uint64_t tkey_after(const rc_val *k)
{
	return be64_at(k, 9);
}

static bool is_tkey(const rc_val *k)
{
	return k->size > AGG_THDR && ((const char *)k->data)[0] == 't';
}

/* Is the aggregate of time key AK newer than log record SEQ of time T? */
static bool agg_after(const rc_val *ak, int64_t t, uint64_t seq)
{
	return tkey_time(ak) > t || (tkey_time(ak) == t && tkey_after(ak) >= seq);
}

/* Drop aggregates past audit.max_entries or older than audit.max_age,
 * oldest first, a few at a time. */
static int agg_prune(rc_txn *t, int64_t now)
{
	rc_cursor *c;
	rc_val k, v;
	char tprefix[] = "t";
	int64_t max_entries, max_age;
	size_t count;
	int rc;

	if ((rc = rc_setting_int(t, "audit.max_entries", &max_entries)) != 0 ||
	    (rc = rc_setting_int(t, "audit.max_age", &max_age)) != 0 ||
	    (rc = rc_store_count(t, DB_AUDIT_AGG, &count)) != 0 ||
	    (rc = rc_cursor_open(t, DB_AUDIT_AGG, &c)) != 0)
		return rc;
	count /= 2;   /* a record and its time key */
	for (int i = 0; i < 16 && rc == RC_OK; i++) {
		k.size = 1;
		k.data = tprefix;
		if (rc_cursor_get(c, &k, &v, RC_CUR_SET_RANGE) != RC_OK || !is_tkey(&k))
			break;
		if (count <= (size_t)max_entries && tkey_time(&k) >= now - max_age)
			break;
		rc = rc_store_del(t, DB_AUDIT_AGG, (char *)k.data + AGG_THDR, k.size - AGG_THDR);
		if (rc == RC_ERR_NOTFOUND)
			rc = RC_OK;
		if (!rc)
			rc = rc_cursor_del(c);
		count--;
	}
	rc_cursor_close(c);
	return rc;
}

int rc_audit_aggregate(rc_txn *t, const char *result)
{
	char key[AGG_KEY_MAX], tkey[AGG_TKEY_MAX];
	rc_audit_entry e;
	rc_val v;
	rc_wbuf w;
	int64_t now = rc_store_now(t->s);
	size_t klen = agg_key(t->actor_name, t->action, t->origin, key);
	int rc = rc_store_get(t, DB_AUDIT_AGG, key, klen, &v);

	memset(&e, 0, sizeof(e));
	if (rc == RC_OK) {
		rc = rc_audit_decode(v.data, v.size, &e);
		if (!rc) {   /* its time key moves */
			rc = rc_store_del(t, DB_AUDIT_AGG, tkey,
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
	rc = rc_store_putw(t, DB_AUDIT_AGG, key, klen, &w, 0);
	rc_wbuf_free(&w);
	if (!rc)
		rc = rc_store_put(t, DB_AUDIT_AGG, tkey, agg_tkey(e.time, e.seq, key, klen, tkey),
		                   "", 0, 0);
	if (!rc)
		rc = agg_prune(t, now);
	return rc;
}

/* The aggregate whose time key is K. */
static int agg_load(rc_txn *t, const rc_val *k, rc_audit_entry *e)
{
	rc_val v;
	int rc = rc_store_get(t, DB_AUDIT_AGG, (const char *)k->data + AGG_THDR,
	                   k->size - AGG_THDR, &v);

	if (rc == RC_ERR_NOTFOUND)
		return rc_fail(RC_ERR_STORE, "damaged audit_refusals database (a time key "
		               "without its record)");
	if (!rc)
		rc = rc_audit_decode(v.data, v.size, e);
	e->seq = 0;
	return rc;
}

/* A walk of the log and the aggregates in one order (rc_audit_foreach). */
struct awalk {
	rc_txn *t;
	rc_cursor *c, *ac;        /* the log; the aggregates (NULL: none) */
	rc_val k, v, ak, av;
	int mrc, arc;             /* RC_OK: the cursor is on a record */
	uint8_t mstart[8];        /* the first record of each to show */
	char astart[AGG_TKEY_MAX];
	size_t astart_len;
	bool have_m, have_a;
};

/* The aggregates' cursor to its record OP: only time keys count. */
static void agg_step(struct awalk *w, int op)
{
	w->arc = w->ac ? rc_cursor_get(w->ac, &w->ak, &w->av, op) : RC_ERR_NOTFOUND;
	if (w->arc == RC_OK && op != RC_CUR_NEXT && !is_tkey(&w->ak))
		w->arc = RC_ERR_NOTFOUND;
}

/* Walk back from the newest record of either kind to the first one to
 * show (in one order: by time, then by the log's sequence, an aggregate
 * standing after the record that was last when it was last counted). */
static void audit_find_start(struct awalk *w, int64_t since, size_t limit)
{
	size_t shown = 0;

	w->mrc = rc_cursor_get(w->c, &w->k, &w->v, RC_CUR_LAST);
	agg_step(w, RC_CUR_LAST);
	while (!limit || shown < limit) {
		rc_audit_entry e;
		int64_t mtime = since;
		uint64_t mseq = 0;
		bool mvalid, avalid;
		if ((mvalid = w->mrc == RC_OK && w->k.size == 8)) {
			if (rc_audit_decode(w->v.data, w->v.size, &e) == RC_OK)
				mtime = e.time;
			mseq = be64_at(&w->k, 0);
			mvalid = mtime >= since;
		}
		avalid = w->arc == RC_OK && tkey_time(&w->ak) >= since;
		if (!mvalid && !avalid)
			break;
		shown++;
		if (avalid && (!mvalid || agg_after(&w->ak, mtime, mseq))) {
			w->have_a = true;
			w->astart_len = w->ak.size < sizeof(w->astart) ? w->ak.size
			                                               : sizeof(w->astart);
			memcpy(w->astart, w->ak.data, w->astart_len);
			agg_step(w, RC_CUR_PREV);
		} else {
			w->have_m = true;
			memcpy(w->mstart, w->k.data, 8);
			w->mrc = rc_cursor_get(w->c, &w->k, &w->v, RC_CUR_PREV);
		}
	}
}

/* Then forward from there, in the same order, each to CB. */
static int audit_emit(struct awalk *w, int64_t since, rc_audit_cb cb, void *ctx)
{
	rc_audit_entry m, e;
	int rc = RC_OK;

	w->mrc = w->arc = RC_ERR_NOTFOUND;
	if (w->have_m) {
		w->k.size = 8;
		w->k.data = w->mstart;
		w->mrc = rc_cursor_get(w->c, &w->k, &w->v, RC_CUR_SET_KEY);
	}
	if (w->have_a) {
		w->ak.size = w->astart_len;
		w->ak.data = w->astart;
		w->arc = rc_cursor_get(w->ac, &w->ak, &w->av, RC_CUR_SET_KEY);
	}
	while (!rc && (w->mrc == RC_OK || w->arc == RC_OK)) {
		bool m_ok = false;
		if (w->mrc == RC_OK) {
			rc = rc_audit_decode(w->v.data, w->v.size, &m);
			if (rc)
				break;
			m_ok = true;
		}
		if (w->arc == RC_OK && is_tkey(&w->ak) &&
		    (!m_ok || !agg_after(&w->ak, m.time, be64_at(&w->k, 0)))) {
			rc = agg_load(w->t, &w->ak, &e);
			if (!rc)
				rc = cb(&e, ctx);
			agg_step(w, RC_CUR_NEXT);
			continue;
		}
		if (!m_ok)
			break;
		if (m.time >= since) {
			m.count = 1;
			m.first = m.time;
			rc = cb(&m, ctx);
		}
		w->mrc = rc_cursor_get(w->c, &w->k, &w->v, RC_CUR_NEXT);
	}
	if (!rc && w->mrc != RC_OK && w->mrc != RC_ERR_NOTFOUND)
		rc = w->mrc;
	if (!rc && w->arc != RC_OK && w->arc != RC_ERR_NOTFOUND)
		rc = w->arc;
	return rc;
}

RC_API int rc_audit_foreach(rc_store *s, const rc_actor *a, int64_t since, size_t limit,
                            rc_audit_cb cb, void *ctx)
{
	struct awalk w;
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	memset(&w, 0, sizeof(w));
	w.t = &t;
	rc = rc_require(&t, RC_PERM_AUDIT);
	if (!rc)
		rc = rc_cursor_open(&t, DB_AUDIT, &w.c);
	if (!rc && !s->no_audit_agg)
		rc = rc_cursor_open(&t, DB_AUDIT_AGG, &w.ac);
	if (!rc) {
		audit_find_start(&w, since, limit);
		rc = audit_emit(&w, since, cb, ctx);
	}
	rc_cursor_close(w.c);
	rc_cursor_close(w.ac);
	return rc_txn_end(&t, rc);
}


/* ---- the hooks ------------------------------------------------------------ */

/* A refusal for lack of permission, audited in a transaction of its own
 * (the refused one is gone). */
static void audit_refusal(rc_txn *t)
{
	char saved[512];
	rc_txn d;
	rc_actor a = { .uid = t->uid };

	snprintf(saved, sizeof(saved), "%s", rc_errmsg());
	snprintf(a.origin, sizeof(a.origin), "%s", t->origin);
	if (rc_txn_begin(t->s, &a, true, &d) == RC_OK) {
		rc_txn_audit(&d, t->action, t->target);
		snprintf(d.detail, sizeof(d.detail), "denied: %.80s", saved);
		/* a caller who is not a member changes nothing and is counted
		 * apart: its refusals never push a change out of the log */
		d.aggregate = !d.root && !d.is_member;
		(void)rc_txn_end(&d, RC_OK);
	}
	rc_fail(RC_ERR_PERM, "%s", saved);
}

int rc_audit_hook(rc_txn *t, int rc, void *ctx)
{
	(void)ctx;
	if (rc_txn_open(t)) {   /* in the commit */
		if (!t->action[0])
			return RC_OK;
		return t->aggregate ? rc_audit_aggregate(t, t->detail[0] ? t->detail : "refused")
		                    : rc_audit_append(t, t->detail[0] ? t->detail : "ok");
	}
	if (rc == RC_ERR_PERM && t->write && t->action[0])
		audit_refusal(t);
	return RC_OK;
}
