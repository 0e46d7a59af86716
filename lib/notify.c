/*
 * notify.c - notifications: email addresses subscribed to events, and the
 * outbox of notices that changes queue for the mail sent after them.
 *
 * A subscription (membership) lives in the settings database under
 * "notify.<lower-case email>"; a queued notice in the outbox database
 * (schema 3; settings before) under "outbox.<id>": a queue, written by
 * changes and by logins (a lock), so that a login writes no membership
 * (docs/hoststate.md).  A change queues its notice in its own write
 * transaction (rc_notice_queue); the front end takes the notices after
 * the commit (rc_notice_take) and mails them, outside any transaction.
 * A login only queues.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include "notify.h"
#include "errors.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "crypto.h"
#include "actor.h"
#include "ids.h"
#include "settings.h"

#define NOTIFY_PREFIX "notify."
#define OUTBOX_PREFIX "outbox."
#define NOTIFY_MAX 100        /* subscriptions */
#define OUTBOX_MAX 1000       /* notices waiting; older ones are dropped */

static const char *const event_names[RC_EV_COUNT] = {
	"invitation-accepted", "invitation-expired", "member-locked",
	"mfa-disabled", "role-changed", "token-created", "member-deleted"
};

RC_API const char *rc_event_name(unsigned index)
{
	return index < RC_EV_COUNT ? event_names[index] : "?";
}

RC_API int rc_events_parse(const char *list, uint32_t *mask)
{
	uint32_t m = 0;
	const char *p = list;

	if (strcmp(list, "all") == 0) {
		*mask = RC_EV_ALL;
		return RC_OK;
	}
	if (!*list)
		return rc_fail(RC_ERR_INVALID, "no event given (known: invitation-accepted, "
		               "invitation-expired, member-locked, mfa-disabled, role-changed, "
		               "token-created, member-deleted, or all)");
	while (*p) {
		size_t n = strcspn(p, ",");
		unsigned i;
		for (i = 0; i < RC_EV_COUNT; i++)
			if (strlen(event_names[i]) == n && strncmp(p, event_names[i], n) == 0)
				break;
		if (i == RC_EV_COUNT)
			return rc_fail(RC_ERR_INVALID,
			               "unknown event \"%.*s\" (known: invitation-accepted, "
			               "invitation-expired, member-locked, mfa-disabled, "
			               "role-changed, token-created, member-deleted, or all)",
			               (int)(n > 40 ? 40 : n), p);
		m |= 1u << i;
		p += n;
		if (*p == ',')
			p++;
	}
	*mask = m;
	return RC_OK;
}

RC_API void rc_events_format(uint32_t mask, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < RC_EV_COUNT && o < len; i++)
		if (mask & (1u << i))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "", event_names[i]);
}

static int notify_key(const char *email, char *key, size_t len)
{
	char lower[RC_EMAIL_MAX + 1];
	int rc = rc_valid_email(email);

	if (rc)
		return rc;
	rc_email_key(email, lower, sizeof(lower));
	snprintf(key, len, NOTIFY_PREFIX "%s", lower);
	return RC_OK;
}

/* Walk the records of the database DB (DB_SETTINGS, DB_OUTBOX) whose keys
 * start with PREFIX. */
static int walk_in(rc_txn *t, int db, const char *prefix, rc_walk_fn fn, void *ctx)
{
	if (db == DB_OUTBOX && t->s->no_outbox)
		return RC_OK;   /* read-only, schema 2: nothing taken from here */
	return rc_store_foreach(t, db, prefix, strlen(prefix), fn, ctx);
}

static int walk(rc_txn *t, const char *prefix, rc_walk_fn fn, void *ctx)
{
	return walk_in(t, DB_SETTINGS, prefix, fn, ctx);
}

struct each_ctx {
	rc_notification_cb cb;
	void *ctx;
	size_t count;
};

static int each_sub(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct each_ctx *e = ctx;
	rc_notification n;
	int rc = rc_notify_decode(v->data, v->size, &n);

	(void)t;
	(void)k;
	e->count++;
	if (rc || !e->cb)
		return rc;
	return e->cb(&n, e->ctx);
}

RC_API int rc_notification_foreach(rc_store *s, const rc_actor *a,
                                   rc_notification_cb cb, void *ctx)
{
	rc_txn t;
	struct each_ctx e = { cb, ctx, 0 };
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	rc = rc_require(&t, RC_PERM_NOTIFICATIONS);
	if (!rc)
		rc = walk(&t, NOTIFY_PREFIX, each_sub, &e);
	return rc_txn_end(&t, rc);
}

static int events_check(uint32_t events)
{
	if (!events || (events & ~(uint32_t)RC_EV_ALL))
		return rc_fail(RC_ERR_INVALID, "a notification needs at least one known event");
	return RC_OK;
}

static int put_sub(rc_txn *t, const char *key, const rc_notification *n)
{
	rc_wbuf w;
	int rc;

	rc_notify_encode(n, &w);
	rc = rc_store_putw(t, DB_SETTINGS, key, strlen(key), &w, 0);
	rc_wbuf_free(&w);
	return rc;
}

static void audit_detail(rc_txn *t, uint32_t events)
{
	char ev[160];
	rc_events_format(events, ev, sizeof(ev));
	snprintf(t->detail, sizeof(t->detail), "ok events=%.80s", ev);
}

RC_API int rc_notification_create(rc_store *s, const rc_actor *a, const char *email,
                                  uint32_t events)
{
	char key[sizeof(NOTIFY_PREFIX) + RC_EMAIL_MAX + 1];
	rc_notification n = { .events = events };
	struct each_ctx e = { NULL, NULL, 0 };
	rc_val v;
	rc_txn t;
	int rc;

	if ((rc = notify_key(email, key, sizeof(key))) != 0 || (rc = events_check(events)) != 0)
		return rc;
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "notification.create", email);
	rc = rc_require(&t, RC_PERM_NOTIFICATIONS);
	if (!rc) {
		rc = rc_store_gets(&t, DB_SETTINGS, key, &v);
		if (rc == RC_OK)
			rc = rc_fail(RC_ERR_EXISTS, "%s is already subscribed (use notification "
			             "update)", email);
		else if (rc == RC_ERR_NOTFOUND)
			rc = walk(&t, NOTIFY_PREFIX, each_sub, &e);
	}
	if (!rc && e.count >= NOTIFY_MAX)
		rc = rc_fail(RC_ERR_POLICY, "at most %d notification addresses", NOTIFY_MAX);
	if (!rc) {
		snprintf(n.email, sizeof(n.email), "%s", email);
		snprintf(n.creator, sizeof(n.creator), "%s", t.actor_name);
		n.created = rc_store_now(s);
		rc = put_sub(&t, key, &n);
		audit_detail(&t, events);
	}
	return rc_txn_end(&t, rc);
}

static int load_sub(rc_txn *t, const char *key, const char *email, rc_notification *n)
{
	rc_val v;
	int rc = rc_store_gets(t, DB_SETTINGS, key, &v);

	if (rc == RC_ERR_NOTFOUND)
		return rc_fail(RC_ERR_NOTFOUND, "no notification for %s", email);
	if (rc)
		return rc;
	return rc_notify_decode(v.data, v.size, n);
}

RC_API int rc_notification_update(rc_store *s, const rc_actor *a, const char *email,
                                  uint32_t events)
{
	char key[sizeof(NOTIFY_PREFIX) + RC_EMAIL_MAX + 1];
	rc_notification n;
	rc_txn t;
	int rc;

	if ((rc = notify_key(email, key, sizeof(key))) != 0 || (rc = events_check(events)) != 0)
		return rc;
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "notification.update", email);
	rc = rc_require(&t, RC_PERM_NOTIFICATIONS);
	if (!rc)
		rc = load_sub(&t, key, email, &n);
	if (!rc) {
		n.events = events;
		rc = put_sub(&t, key, &n);
		audit_detail(&t, events);
	}
	return rc_txn_end(&t, rc);
}

RC_API int rc_notification_delete(rc_store *s, const rc_actor *a, const char *email)
{
	char key[sizeof(NOTIFY_PREFIX) + RC_EMAIL_MAX + 1];
	rc_notification n;
	rc_txn t;
	int rc;

	if ((rc = notify_key(email, key, sizeof(key))) != 0)
		return rc;
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "notification.delete", email);
	rc = rc_require(&t, RC_PERM_NOTIFICATIONS);
	if (!rc)
		rc = load_sub(&t, key, email, &n);
	if (!rc)
		rc = rc_store_del(&t, DB_SETTINGS, key, strlen(key));
	return rc_txn_end(&t, rc);
}

/* ---- the outbox ---------------------------------------------------------- */

struct any_ctx {
	uint32_t event;
	bool found;
};

static int any_sub(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct any_ctx *a = ctx;
	rc_notification n;

	(void)t;
	(void)k;
	if (rc_notify_decode(v->data, v->size, &n) == RC_OK && (n.events & a->event))
		a->found = true;
	return RC_OK;
}

static int count_rec(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	(void)t;
	(void)k;
	(void)v;
	++*(size_t *)ctx;
	return RC_OK;
}

int rc_notice_queue(rc_txn *t, uint32_t event, const char *target, const char *detail)
{
	struct any_ctx any = { event, false };
	char key[sizeof(OUTBOX_PREFIX) + RC_NOTICE_ID_MAX];
	rc_notice n = { 0 };
	size_t waiting = 0;
	rc_wbuf w;
	int rc;

	/* nobody subscribed: nothing to record */
	rc = walk(t, NOTIFY_PREFIX, any_sub, &any);
	if (rc || !any.found)
		return rc;
	if ((rc = walk_in(t, DB_OUTBOX, OUTBOX_PREFIX, count_rec, &waiting)) != 0)
		return rc;
	if (waiting >= OUTBOX_MAX)
		return RC_OK;   /* nobody delivers: never let it grow without end */
	for (n.event = 0; n.event < RC_EV_COUNT && !(event & (1u << n.event)); n.event++)
		;
	n.time = rc_store_now(t->s);
	/* time first (the outbox in order), then random: no shared counter, so
	 * that a login writes only an entry of its own */
	snprintf(n.id, sizeof(n.id), "%016" PRIx64 "%08" PRIx32, (uint64_t)n.time,
	         rc_random_below(UINT32_MAX));
	snprintf(n.actor, sizeof(n.actor), "%s", t->actor_name);
	snprintf(n.target, sizeof(n.target), "%s", target);
	snprintf(n.detail, sizeof(n.detail), "%s", detail ? detail : "");
	snprintf(n.origin, sizeof(n.origin), "%s", t->origin);
	snprintf(key, sizeof(key), OUTBOX_PREFIX "%s", n.id);
	rc_notice_encode(&n, &w);
	rc = rc_store_putw(t, DB_OUTBOX, key, strlen(key), &w, 0);
	rc_wbuf_free(&w);
	if (!rc && t->nqueued < sizeof(t->queued) / sizeof(t->queued[0]))
		memcpy(t->queued[t->nqueued++], n.id, RC_NOTICE_ID_MAX);
	return rc;
}

struct take_ctx {
	rc_store *s;
	bool all;
	rc_notice *list;
	size_t n, cap;
	int err;
};

static bool queued_here(const rc_store *s, const char *id)
{
	for (unsigned i = 0; i < s->nqueued; i++)
		if (strcmp(s->queued[i], id) == 0)
			return true;
	return false;
}

static int take_one(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct take_ctx *tc = ctx;
	rc_notice n;
	int rc = rc_notice_decode(v->data, v->size, &n);

	(void)t;
	(void)k;
	if (rc == RC_OK && !tc->all && !queued_here(tc->s, n.id))
		return RC_OK;
	if (rc == RC_OK) {
		if (tc->n == tc->cap) {
			size_t cap = tc->cap ? tc->cap * 2 : 8;
			rc_notice *p = realloc(tc->list, cap * sizeof(*p));
			if (!p)
				return rc_fail(RC_ERR_NOMEM, "out of memory");
			tc->list = p;
			tc->cap = cap;
		}
		tc->list[tc->n++] = n;
	}
	/* taken (a damaged one is dropped) */
	return RC_WALK_DEL;
}

struct rcpt_ctx {
	rc_notice *list;
	size_t n;
};

static int add_rcpt(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct rcpt_ctx *rc_ = ctx;
	rc_notification sub;

	(void)t;
	(void)k;
	if (rc_notify_decode(v->data, v->size, &sub) != RC_OK)
		return RC_OK;
	for (size_t i = 0; i < rc_->n; i++) {
		rc_notice *n = &rc_->list[i];
		if (!(sub.events & (1u << n->event)))
			continue;
		void *p = realloc(n->rcpt, (n->nrcpt + 1) * sizeof(*n->rcpt));
		if (!p)
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		n->rcpt = p;
		snprintf(n->rcpt[n->nrcpt++], RC_EMAIL_MAX + 1, "%s", sub.email);
	}
	return RC_OK;
}

RC_API void rc_notices_free(rc_notice *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i].rcpt);
	free(list);
}

/* Invitations that ran out since the last "notification send": nothing
 * records the moment an invitation expires (it is a time passing, not a
 * change), so the send looks for pending invitations past their expiry
 * and queues each once, marked "expired." + the user name -> the number of
 * times it had been resent plus one (a resend makes a new invitation,
 * reported again when it runs out, even within the same second; a marker
 * whose invitation is gone is dropped). */
#define EXPIRED_PREFIX "expired."

static int queue_one_expired(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	rc_invitation inv;
	char key[sizeof(EXPIRED_PREFIX) + RC_NAME_MAX], when[32], detail[128];
	uint64_t seen = 0;
	int rc;

	(void)k;
	(void)ctx;
	if (rc_invitation_decode(v->data, v->size, &inv) != RC_OK ||
	    inv.state != RC_INV_PENDING || inv.expires > rc_store_now(t->s))
		return RC_OK;
	snprintf(key, sizeof(key), EXPIRED_PREFIX "%s", inv.username);
	if (rc_meta_get_u64(t, key, &seen) == RC_OK && seen == (uint64_t)inv.resent + 1)
		return RC_OK;
	rc_time_format(inv.expires, when, sizeof(when));
	snprintf(detail, sizeof(detail), "the invitation of %.40s expired at %s",
	         inv.email, when);
	rc = rc_notice_queue(t, RC_EV_INVITATION_EXPIRED, inv.username, detail);
	return rc ? rc : rc_meta_put_u64(t, key, (uint64_t)inv.resent + 1);
}

static int queue_expired(rc_txn *t)
{
	return rc_store_foreach(t, DB_INVITATIONS, "", 0, queue_one_expired, NULL);
}

static int drop_stale_marker(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	char name[RC_NAME_MAX + 1];
	size_t plen = strlen(EXPIRED_PREFIX), n = k->size - plen;
	rc_val iv;

	(void)v;
	(void)ctx;
	if (n == 0 || n > RC_NAME_MAX)
		return RC_OK;
	memcpy(name, (const char *)k->data + plen, n);
	name[n] = '\0';
	if (rc_store_gets(t, DB_INVITATIONS, name, &iv) == RC_OK)
		return RC_OK;
	return RC_WALK_DEL;
}

RC_API int rc_notice_take(rc_store *s, const rc_actor *a, int all, rc_notice **out,
                          size_t *n)
{
	struct take_ctx tc = { .s = s, .all = all != 0 };
	rc_txn t;
	int rc;

	*out = NULL;
	*n = 0;
	if (!all && s->nqueued == 0)
		return RC_OK;
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	if (all) {
		rc_txn_audit(&t, "notification.send", "outbox");
		rc = rc_require(&t, RC_PERM_NOTIFICATIONS);
		if (!rc)
			rc = walk(&t, EXPIRED_PREFIX, drop_stale_marker, NULL);
		if (!rc)
			rc = queue_expired(&t);
	}
	if (!rc)
		rc = walk_in(&t, DB_OUTBOX, OUTBOX_PREFIX, take_one, &tc);
	if (!rc) {
		struct rcpt_ctx r = { tc.list, tc.n };
		rc = walk(&t, NOTIFY_PREFIX, add_rcpt, &r);
	}
	if (!rc && all)
		snprintf(t.detail, sizeof(t.detail), "ok %zu taken", tc.n);
	rc = rc_txn_end(&t, rc);
	if (rc) {
		rc_notices_free(tc.list, tc.n);
		return rc;
	}
	s->nqueued = 0;
	*out = tc.list;
	*n = tc.n;
	return RC_OK;
}

RC_API int rc_notice_audit(rc_store *s, const rc_actor *a, const rc_notice *n,
                           const char *to, const char *result)
{
	rc_txn t;
	int rc = rc_txn_begin(s, a, true, &t);

	if (rc)
		return rc;
	rc_txn_audit(&t, "notification.mail", to);
	snprintf(t.detail, sizeof(t.detail), "%.40s %s: %.40s", result,
	         rc_event_name((unsigned)n->event), n->target);
	return rc_txn_end(&t, RC_OK);
}

/* Schema 2 -> 3: the notices queued in settings into the outbox database. */
int rc_outbox_upgrade(rc_txn *t, size_t *moved)
{
	char (*keys)[RC_NAME_MAX + 1] = NULL;
	size_t n = 0;
	rc_val v;
	int rc = rc_store_keys(t, DB_SETTINGS, OUTBOX_PREFIX, &keys, &n);

	*moved = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		void *copy = NULL;
		rc = rc_store_gets(t, DB_SETTINGS, keys[i], &v);
		if (!rc && !(copy = malloc(v.size ? v.size : 1)))
			rc = rc_fail(RC_ERR_NOMEM, "out of memory");
		if (!rc) {
			memcpy(copy, v.data, v.size);
			rc = rc_store_put(t, DB_OUTBOX, keys[i], strlen(keys[i]), copy, v.size, 0);
		}
		free(copy);
		if (!rc)
			rc = rc_store_del(t, DB_SETTINGS, keys[i], strlen(keys[i]));
		if (!rc)
			(*moved)++;
	}
	free(keys);
	return rc;
}

/* After a commit: the notices it queued are the handle's (rc_notice_take
 * of this process takes them). */
int rc_notice_hook(rc_txn *t, int rc, void *ctx)
{
	rc_store *s = t->s;

	(void)rc;
	(void)ctx;
	for (unsigned i = 0; i < t->nqueued && s->nqueued < 16; i++)
		memcpy(s->queued[s->nqueued++], t->queued[i], RC_NOTICE_ID_MAX);
	return RC_OK;
}
