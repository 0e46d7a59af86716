/*
 * publish.c - when the NSS snapshot is published: the hooks snapshot.c's
 * decisions run through.  Each write tells whether it changed what NSS shows
 * (rc_nss_shown_change) and which user; a commit that did bumps the
 * generation and logs the names in the same transaction, then publishes
 * (at most once a second in a batch, and at the end of it); a failure to
 * publish is kept as the handle's warning (the next open catches up).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "publish.h"
#include "errors.h"
#include "store.h"
#include "txn.h"
#include "settings.h"

/* After a committed change that NSS sees: publish, and keep a failure as a
 * warning (the change itself is stored; the next open catches up). */
static void publish_after_commit(rc_store *s)
{
	char saved[512];

	clock_gettime(CLOCK_MONOTONIC, &s->last_publish);
	s->batch_pending = false;

	snprintf(saved, sizeof(saved), "%s", rc_errmsg());
	if (rc_snapshot_publish(s) != RC_OK)
		snprintf(s->warning, sizeof(s->warning),
		         "the change is stored, but the NSS snapshot was not updated: %s", rc_errmsg());
	rc_fail(RC_OK, "%s", saved);
}

/* In batch mode: publish now only when the last publication is a second
 * old (so that the last change is visible within a second of the next
 * one, and at the end). */
static void publish_or_defer(rc_store *s)
{
	struct timespec now;

	if (s->batch) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t ms = (int64_t)(now.tv_sec - s->last_publish.tv_sec) * 1000 +
		             (now.tv_nsec - s->last_publish.tv_nsec) / 1000000;
		if (ms < 1000) {
			s->batch_pending = true;
			return;
		}
	}
	publish_after_commit(s);
}

RC_API void rc_store_batch(rc_store *s, int on)
{
	s->batch = on != 0;
	if (on)
		clock_gettime(CLOCK_MONOTONIC, &s->last_publish);
	else if (s->batch_pending && s->pid == getpid())
		publish_after_commit(s);
}

void rc_publish_pending(rc_store *s)
{
	if (s->batch_pending && s->pid == getpid())
		publish_after_commit(s);
}

/* ---- the hooks ------------------------------------------------------------ */

int rc_publish_write_hook(rc_txn *t, int db, const rc_val *key, const rc_val *new,
                          void *ctx)
{
	rc_val old;
	int rc;

	(void)ctx;
	/* every user whose view changes is noted (the publisher rewrites
	 * their shards only); for the rest, the first change is enough */
	if (t->nss_changed && db != DB_MEMBERS && db != DB_SVCUSERS)
		return RC_OK;
	rc = rc_store_get(t, db, key->data, key->size, &old);
	if (rc && rc != RC_ERR_NOTFOUND)
		return rc;
	if (rc_nss_shown_change(db, key, rc ? NULL : &old, new)) {
		t->nss_changed = true;
		rc_nss_note(t, db, key);
	}
	return RC_OK;
}

/* In the commit: the generation and its log; the names noted go either way. */
int rc_publish_pre_hook(rc_txn *t, int rc, void *ctx)
{
	uint64_t gen = 0;

	(void)ctx;
	if (rc == RC_OK && rc_txn_open(t) && t->nss_changed) {
		rc = rc_meta_get_u64(t, "@generation", &gen);
		if (rc == RC_ERR_NOTFOUND)
			rc = RC_OK;
		if (!rc)
			rc = rc_meta_put_u64(t, "@generation", gen + 1);
		if (!rc)
			rc = rc_nss_log(t, gen + 1);
	} else {
		rc = RC_OK;   /* an abort */
	}
	rc_nss_forget(t);
	return rc;
}

int rc_publish_post_hook(rc_txn *t, int rc, void *ctx)
{
	(void)rc;
	(void)ctx;
	t->s->warning[0] = '\0';
	if (t->nss_changed)
		publish_or_defer(t->s);
	return RC_OK;
}
