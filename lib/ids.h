/*
 * ids.h - ids.c: names and ids of identities, the uid index, email keys.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_IDS_H
#define RC_IDS_H

#include "txn.h"

/* Names and ids. */
int rc_name_check_free(rc_txn *t, const char *name);
int rc_id_alloc(rc_txn *t, uint32_t *id);
int rc_uid_index_put(rc_txn *t, uint32_t uid, char kind, const char *name);
int rc_uid_index_del(rc_txn *t, uint32_t uid);
/* The entry of UID: its KIND ('m' member, 's' service user; '\0' when the
 * entry is damaged) and NAME; RC_ERR_NOTFOUND (silent) when none. */
int rc_uid_index_get(rc_txn *t, uint32_t uid, char *kind, char name[RC_NAME_MAX + 1]);
void rc_email_key(const char *email, char *out, size_t len);
/* The uid index's key of UID (big-endian, so that it sorts as a number). */
void rc_uid_key(uint32_t uid, uint8_t k[4]);

#endif
