/*
 * txn.h - the domain's store handle and transaction: the databases (their
 * ids, the schema), struct rc_store and rc_txn with the engine's part
 * first (store.h), rc_txn_begin (actor.c).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_TXN_H
#define RC_TXN_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>
#include "rollcall.h"
#include "store.h"
#include "codec.h"

/* ---- the store handle ---------------------------------------------------- */
enum {
	DB_MEMBERS, DB_ROLES, DB_INVITATIONS, DB_SERVICES, DB_SVCUSERS,
	DB_TOKENS, DB_AUDIT, DB_SETTINGS, DB_IDX_UID, DB_IDX_EMAIL,
	DB_AUDIT_AGG,   /* aggregated refusals (schema 2): made when missing */
	DB_HOST,        /* host state (schema 3): made when missing */
	DB_OUTBOX,      /* queued notices (schema 3): made when missing */
	DB_COUNT
};
/* 2: tokens keyed by their owner's uid (1: by name); the audit_refusals
 * database.  3: the host database: what logins write (failures, locks,
 * last active, TOTP steps, recovery codes used, tokens' use) moved out of
 * the members, service_users and tokens records (docs/hoststate.md); the
 * outbox database: queued notices out of settings. */
#define RC_SCHEMA_VERSION 3

struct rc_store {
	RC_STORE_ENGINE;          /* store.c's: first */
	rc_config cfg;
	uint8_t key_codes[32];    /* keyed hashing of codes and tokens */
	uint8_t key_secrets[32];  /* encryption of stored secrets */
	rc_clock_fn clock;
	unsigned flags;
	pid_t pid;
	unsigned refs;            /* RC_OPEN_SHARED handles */
	bool no_audit_agg;        /* read-only open of a store without DB_AUDIT_AGG */
	bool no_host;             /* read-only open of a store without DB_HOST: the
	                           * host state is still in the membership records */
	bool no_outbox;           /* ... without DB_OUTBOX: notices in settings */
	char warning[512];        /* a problem after a committed change */
	char named[RC_NAME_MAX + 1]; /* the member the last operation named */
	/* notices the committed changes of this handle queued (outbox ids) */
	char queued[16][RC_NOTICE_ID_MAX];
	unsigned nqueued;
	/* rc_store_batch: changes published at most once a second */
	bool batch, batch_pending;
	struct timespec last_publish;
};

/* A transaction with its resolved actor and the audit record it will add. */
typedef struct rc_txn {
	RC_TXN_ENGINE;           /* store.c's: s, write (first) */
	/* the actor, resolved inside the transaction */
	uid_t uid;
	bool root;
	bool is_member;          /* a member record exists for the uid */
	rc_member_rec am;            /* that record */
	rc_role arole;           /* its role */
	char actor_name[RC_NAME_MAX + 16];
	char origin[64];
	/* the audit record appended on commit (and on a permission refusal) */
	char action[48];
	char target[RC_EMAIL_MAX + RC_NAME_MAX + 4];
	char detail[96];
	/* the record is a refusal that changed nothing, by a caller who is not
	 * a member acting as one: counted in the aggregated refusals, apart
	 * from the records of changes (settings.c) */
	bool aggregate;
	/* the host's files read once (a batch), or NULL: read for each check */
	const struct rc_host_files *host;
	bool nss_changed;        /* what NSS shows changed: bump the generation
	                          * and publish (set by rc_db_put/rc_store_del only) */
	/* the users whose view changed (rc_nss_note), NUL-separated; or too
	 * many to list */
	char *nss_names;
	size_t nss_len, nss_cap, nss_count;
	bool nss_full;
	/* notices this transaction queued: the handle's after commit */
	char queued[4][RC_NOTICE_ID_MAX];
	unsigned nqueued;
} rc_txn;

/* A transaction of actor A (actor.c), ended by rc_txn_end (store.h).  A
 * refusal for lack of permission is audited in a transaction of its own. */
int rc_txn_begin(rc_store *s, const rc_actor *a, bool write, rc_txn *t);
_Static_assert(RC_STORE_KEY_MAX == RC_NAME_MAX, "rc_store_keys holds names");
/* A record encoded in W (its error, if any, is returned). */
static inline int rc_store_putw(rc_txn *t, int db, const void *key, size_t klen,
                                const rc_wbuf *w, unsigned flags)
{
	return w->err ? w->err : rc_store_put(t, db, key, klen, w->p, w->len, flags);
}

#endif
