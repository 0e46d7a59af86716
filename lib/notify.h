/*
 * notify.h - notify.c: notices queued in a transaction, sent after it.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_NOTIFY_H
#define RC_NOTIFY_H

#include "txn.h"

/* Record a notice of EVENT (RC_EV_*) about TARGET in T: sent after commit. */
int rc_notice_queue(rc_txn *t, uint32_t event, const char *target,
                    const char *detail);
/* Schema 2 -> 3: the queued notices out of settings (notify.c). */
int rc_outbox_upgrade(rc_txn *t, size_t *moved);
/* The post-commit hook: the notices a commit queued become the handle's. */
int rc_notice_hook(rc_txn *t, int rc, void *ctx);

#endif
