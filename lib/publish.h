/*
 * publish.h - the NSS snapshot's side of the store: snapshot.c's entry
 * points and publish.c's hooks.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_PUBLISH_H
#define RC_PUBLISH_H

#include "txn.h"

/* The NSS snapshot (snapshot.c). */
int rc_snapshot_publish(rc_store *s);
/* Whether a write of NEW over OLD (either NULL: none) under KEY of DB
 * changes what NSS shows (rc_db_put/rc_store_del ask it: callers never say). */
bool rc_nss_shown_change(int db, const rc_val *key, const rc_val *old, const rc_val *new);
int rc_snapshot_catch_up(rc_store *s);
/* A write under KEY of DB changed what NSS shows: note which user. */
void rc_nss_note(rc_txn *t, int db, const rc_val *key);
/* In the commit that makes generation GEN: log what changed. */
int rc_nss_log(rc_txn *t, uint64_t gen);
void rc_nss_forget(rc_txn *t);
/* The hooks open.c registers (publish.c). */
int rc_publish_pre_hook(rc_txn *t, int rc, void *ctx);
int rc_publish_post_hook(rc_txn *t, int rc, void *ctx);
int rc_publish_write_hook(rc_txn *t, int db, const rc_val *key, const rc_val *new,
                          void *ctx);
/* A batch's publication still owed (rc_store_close). */
void rc_publish_pending(rc_store *s);

#endif
