/*
 * fleet.h - one membership on many hosts: the local replica of the
 * directory (replica.c) and the fleet's LDAP side (fleet.c).
 *
 * Every host's store is a replica of the directory's membership records.
 * A directory entry carries one record as the store keeps it: its
 * database (rcDb), key (rcKey) and codec record (rcRecord).  replica.c is
 * the only code that writes replicated records into a store: it checks
 * each with the codec, keeps the store's indexes, and commits the sync
 * cookie in the same write transaction as the changes it applied.
 * Host state (docs/hoststate.md) is never replicated.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_FLEET_H
#define RC_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "rollcall.h"

/* ---- the replicated kinds ------------------------------------------------- */
enum {
	RC_REPL_MEMBER = 0, RC_REPL_ROLE, RC_REPL_INVITATION, RC_REPL_SERVICE,
	RC_REPL_SVCUSER, RC_REPL_TOKEN, RC_REPL_SETTING, RC_REPL_KINDS
};
/* "member", "role", ...: the rcDb value; NULL past the end */
const char *rc_repl_kind_name(int kind);
/* -1 when NAME is none */
int rc_repl_kind_parse(const char *name);
/* The directory's container of a kind: "members", "roles", ... */
const char *rc_repl_kind_ou(int kind);

/* One record, as the export gives it (valid during the callback). */
typedef struct rc_repl_rec {
	int kind;
	const void *key;
	size_t klen;
	const void *val;
	size_t vlen;
	/* what administrators read (the record's own fields) */
	const char *name;        /* the member, role, service, service user,
	                            setting or invitation; a token's id */
	const char *email;       /* members, invitations */
	const char *full_name;   /* members */
	const char *role;        /* members, invitations */
	const char *status;      /* members */
	const char *owner;       /* tokens */
	const char *pwhash;      /* members: the argon2id hash of the login
	                            password ("": none yet), the directory's
	                            userPassword: the member binds with it */
	uint32_t uid;            /* members, service users; 0: none */
	uint32_t rank;           /* roles */
	uint32_t perms;          /* roles (RC_PERM_*) */
} rc_repl_rec;
typedef int (*rc_repl_cb)(const rc_repl_rec *r, void *ctx);
/* (No field needs another record: a member's role is named, its entry's
 * rcRoleRef made from the name, so a view works for a record alone, in
 * any transaction.)
 * The view of one record (KIND, its key and codec value) given to CB:
 * decoded with the codec (RC_ERR_INVALID when it does not decode, or the
 * key is not one the directory holds). */
int rc_repl_rec_view(int kind, const void *key, size_t klen, const void *val, size_t vlen,
                     rc_repl_cb cb, void *ctx);
/* Every membership record of S, in one read transaction (root only). */
int rc_replica_export(rc_store *s, rc_repl_cb cb, void *ctx);

/* ---- applying the directory's changes -------------------------------------
 * A session of changes: rc_replica_begin opens a write transaction; put,
 * del and mark add to it; rc_replica_commit commits it, with COOKIE when
 * one is given (never a cookie ahead of its data).  Nothing slow or that
 * waits (the network) between begin and commit. */
typedef struct rc_replica rc_replica;
int rc_replica_new(rc_replica **out, rc_store *s);
void rc_replica_free(rc_replica *r);
/* A new refresh starts: the marks are cleared. */
void rc_replica_refresh_start(rc_replica *r);
int rc_replica_begin(rc_replica *r);
/* The entry UUID (16 bytes) now holds this record: stored and marked.
 * A record the codec refuses is RC_ERR_INVALID, nothing of it stored but
 * the entry known (marked); the record the entry held before is removed. */
int rc_replica_put(rc_replica *r, const uint8_t uuid[16], const char *kind, const void *key,
                   size_t klen, const void *val, size_t vlen);
/* What the directory's ACLs govern of an entry (fleet.c), as the
 * directory sent it (NULL: the entry has none): the record inside rcRecord
 * is opaque to slapd, so rc_replica_put_entry refuses (RC_ERR_INVALID) a
 * record whose own fields disagree with them.  Members: the RDN's uid is
 * the user name, rcRole the role, rcRoleRef names that role's entry,
 * rcStatus the status, rcUidNumber the uid, mail the email address;
 * invitations: the RDN, rcRole, rcRoleRef and mail; service users: the
 * RDN and rcUidNumber; tokens: uid and rcMemberRef name the owner, whose
 * uid the token's is (that member already in this store); roles,
 * services, settings: the RDN is the hex of the key.  A member or service
 * user whose uid, or a member whose email address, is already another's
 * in this store is refused too (the directory cannot keep them unique).
 * What a refused entry held before is removed: this host holds nothing
 * of it until it agrees again. */
typedef struct rc_repl_attrs {
	const char *dn;
	const char *uid, *mail, *role, *role_ref, *status, *uid_number, *member_ref;
} rc_repl_attrs;
/* The attribute names rollcalld asks for besides rcDb, rcKey, rcRecord
 * (NULL-terminated). */
extern const char *const rc_repl_attr_names[];
/* rc_replica_put, with the entry's attributes checked against the record
 * first (ATTRS NULL: none checked, for records that are not from a
 * directory entry). */
int rc_replica_put_entry(rc_replica *r, const uint8_t uuid[16], const char *kind,
                         const void *key, size_t klen, const void *val, size_t vlen,
                         const rc_repl_attrs *attrs);
/* The entry UUID is gone (nothing when unknown). */
int rc_replica_del(rc_replica *r, const uint8_t uuid[16]);
/* The entry UUID is still there (the present phase).  One this store
 * does not have is awaited: slapd's present phase names every entry, the
 * changed ones too, and sends those whole afterwards in the same refresh. */
int rc_replica_mark(rc_replica *r, const uint8_t uuid[16]);
/* How many entries marked present since rc_replica_refresh_start this
 * store never had and that never came whole (put or deleted): when the
 * refresh is over and some are missing, the provider is not the one the
 * stored cookie came from (its database was replaced), and only a full
 * refresh makes the replica equal to it again. */
size_t rc_replica_refresh_missing(const rc_replica *r);
/* The end of a present phase: every replicated record the refresh did not
 * mark is deleted, and so is every record not from the directory.
 * *REMOVED: how many. */
int rc_replica_sweep(rc_replica *r, size_t *removed);
/* Commit (COOKIE: NULL keeps the stored one; LEN 0: no cookie). */
int rc_replica_commit(rc_replica *r, const void *cookie, size_t len, bool set_cookie);
void rc_replica_abort(rc_replica *r);
/* Changes applied in the open transaction so far. */
size_t rc_replica_pending(const rc_replica *r);

/* Empty the replicated databases of S (a store made for joining a fleet). */
int rc_replica_reset(rc_store *s);

typedef struct rc_replica_status {
	char cookie[512];        /* "" none */
	size_t entries;          /* records from the directory */
	int64_t applied;         /* the last change applied, 0 never */
	int64_t synced;          /* the last refresh completed, 0 never */
} rc_replica_status;
int rc_replica_status_get(rc_store *s, rc_replica_status *st);

/* "rollcall doctor" on a host in a fleet (lib/doctor.c): rollcalld's state
 * (STATE/rollcalld.status) and the replica's RS, as checks to CB.  No sync
 * for RC_FLEET_STALE seconds with rollcalld not connected: a warning. */
#define RC_FLEET_STALE (24 * 3600)
void rc_fleet_doctor(const char *state_dir, const char *host, const char *uris,
                     const rc_replica_status *rs, int64_t now, rc_check_cb cb, void *ctx);

#endif
