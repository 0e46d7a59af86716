/*
 * token.h - token.c: tokens inside a transaction.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_TOKEN_H
#define RC_TOKEN_H

#include "txn.h"

/* Tokens (token.c). */
/* A token belongs to its owner's uid (never reused), not to a name. */
/* The tokens database's owner index: 'u', the owner's uid (big-endian),
 * then the token's id; ID NULL: the prefix of all the owner's tokens.
 * Returns the key's length. */
#define RC_TOKEN_OWNER_PREFIX_LEN 5
#define RC_TOKEN_OWNER_KEY_LEN    (RC_TOKEN_OWNER_PREFIX_LEN + RC_TOKEN_ID_LEN)
size_t rc_token_owner_key(uint32_t uid, const char *id, char key[RC_TOKEN_OWNER_KEY_LEN]);

int rc_tokens_revoke_owner(rc_txn *t, uint32_t owner_uid, size_t *revoked);
int rc_token_issue(rc_txn *t, const char *owner, uint32_t owner_uid, int kind,
                   const char *desc, int64_t ttl, int64_t max_age, int ext,
                   rc_token *info, char out[RC_TOKEN_LEN + 1]);
int rc_token_verify(rc_txn *t, uint32_t uid, const char *token,
                    rc_token_rec *rec, bool *touch);
int rc_token_touch(rc_txn *t, const rc_token_rec *seen);
int rc_token_remove(rc_txn *t, uint32_t owner_uid, const char *owner,
                    const char *id);
/* Schema 1 -> 2: tokens keyed by name become tokens keyed by uid. */
int rc_tokens_upgrade(rc_txn *t, size_t *kept, size_t *dropped);
/* Schema 2 -> 3: each token's last use and expiry into the host database
 * (counted in *moved), the records written again without a last use. */
int rc_tokens_host_upgrade(rc_txn *t, size_t *moved);

#endif
