/*
 * settings.h - settings.c: settings, counters and meta values inside a
 * transaction.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_SETTINGS_H
#define RC_SETTINGS_H

#include "txn.h"

/* Settings, typed views with their defaults. */
int rc_setting_int(rc_txn *t, const char *key, int64_t *out);
int rc_setting_str(rc_txn *t, const char *key, char *buf, size_t len);
int rc_meta_get_u64(rc_txn *t, const char *key, uint64_t *out);
int rc_meta_put_u64(rc_txn *t, const char *key, uint64_t v);
/* The same in database DB: a counter, a decimal in a setting record, read
 * as 0..UINT64_MAX; RC_ERR_NOTFOUND (silent) when missing. */
int rc_counter_get(rc_txn *t, int db, const char *key, uint64_t *out);
int rc_counter_put(rc_txn *t, int db, const char *key, uint64_t v);
/* The argon2id limits, read in a read transaction of their own. */
int rc_argon2_limits(rc_store *s, int64_t *ops, int64_t *mem_kib);

#endif
