/*
 * fleetwrite.h - the tool's changes on a host in a fleet (fleetwrite.c):
 * made in the directory, bound as the calling member, in one LDAP
 * transaction, nothing half-applied.
 *
 * The command runs its lib/ code as anywhere else, every rule checked
 * locally, but with the store in capture mode (rc_store_capture_set): each
 * write of a transaction that would commit is recorded (database, key, old
 * and new value) and the transaction is aborted: nothing local, no audit
 * record, no NSS snapshot.  Then, outside any transaction:
 *
 *     rc_fleet_capture *cap;
 *     rc_fleet_capture_start(s, &cap);
 *     ...the command (its transactions are captured)...
 *     rc_fleet_capture_stop(cap);
 *     if (rc_fleet_capture_replicated(cap))      // a membership change
 *             rc = rc_fleet_capture_send(cap, &conf, member, password, &conflict);
 *     if (!rc) rc = rc_fleet_capture_apply_local(cap, actor);   // audit, notices
 *     if (!rc) rc_fleet_capture_wait_applied(cap, 2000);        // rollcalld
 *     rc_fleet_capture_free(cap);
 *
 * The send is one RFC 5805 transaction: an add of each new record's entry
 * (rc_fleet_entry_attrs), a modify or delete of each changed one carrying
 * an RFC 4528 assertion "(rcRecord=<the old record>)": a record changed
 * meanwhile by another host fails the whole transaction (*CONFLICT set),
 * the id counter @next_id included.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_FLEETWRITE_H
#define RC_FLEETWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include "fleetldap.h"

typedef struct rc_fleet_capture rc_fleet_capture;

/* S enters capture mode (one capture at a time). */
int rc_fleet_capture_start(rc_store *s, rc_fleet_capture **out);
/* S leaves capture mode; what was captured stays in CAP. */
void rc_fleet_capture_stop(rc_fleet_capture *cap);
void rc_fleet_capture_free(rc_fleet_capture *cap);
/* How many of the captured changes are the directory's (membership). */
size_t rc_fleet_capture_replicated(const rc_fleet_capture *cap);

/* The DN a member binds as: uid=NAME,ou=members,SUFFIX. */
int rc_fleet_member_dn(const char *name, const char *suffix, char *dn, size_t len);

/* Send the replicated changes of CAP to the first of FC's providers that
 * answers, bound as MEMBER with PASSWORD, in one transaction.  RC_OK: the
 * directory committed them all.  Else nothing was changed:
 *   RC_ERR_STORE  no provider answered ("the directory is unreachable")
 *   RC_ERR_AUTH   the directory refused MEMBER's password
 *   RC_ERR_PERM   the directory refused the change (its diagnostic)
 *   RC_ERR_STATE  with *CONFLICT: a record changed meanwhile (retry once
 *                 the replica has caught up)
 *   RC_ERR_STATE  the directory cannot do transactions, or another error
 * USED gets the URI that answered. */
int rc_fleet_capture_send(rc_fleet_capture *cap, const rc_fleet_conf *fc, const char *member,
                          const char *password, bool *conflict, char *used, size_t usedlen);

/* After the directory committed: this host's own part of the change (the
 * audit record, queued notices, host state) in a local write transaction
 * of actor A. */
int rc_fleet_capture_apply_local(rc_fleet_capture *cap, const rc_actor *a);

/* Wait (TIMEOUT_MS at most, polling) until the local replica holds every
 * replicated change of CAP (rollcalld applied it): true when it does. */
bool rc_fleet_capture_wait_applied(rc_fleet_capture *cap, int timeout_ms);
/* After a conflict: wait (TIMEOUT_MS at most) until the local replica's
 * copy of one of CAP's records is no longer the captured old one (rollcalld
 * brought the change made elsewhere): true when it did. */
bool rc_fleet_capture_wait_moved(rc_fleet_capture *cap, int timeout_ms);

#endif
