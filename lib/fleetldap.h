/*
 * fleetldap.h - the fleet's directory side (fleet.c): for the rollcall
 * tool and rollcalld, which link libldap (the PAM and NSS modules do not).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_FLEETLDAP_H
#define RC_FLEETLDAP_H

#define LDAP_DEPRECATED 0
#include <ldap.h>
#include <stdio.h>
#include "fleet.h"

#define RC_FLEET_SECRET_LEN 52   /* 256 random bits, base32 */

/* The suffix (dc=, o=, ou= parts of letters, digits and '-') and a host
 * name (a DNS label): RC_OK or RC_ERR_INVALID with a message. */
int rc_fleet_suffix_check(const char *dn);
int rc_fleet_host_check(const char *name);
/* URI[,URI...] of ldap://, ldaps:// or ldapi:// providers. */
int rc_fleet_uris_check(const char *uris);

/* An attribute in LDIF (base64 when it must be). */
void rc_ldif_attr(FILE *f, const char *name, const void *val, size_t n);
void rc_ldif_str(FILE *f, const char *name, const char *val);

/* The provider's cn=config (for slapadd -n0): back-mdb in DBDIR, syncprov
 * with a session log, indexes, limits and ACLs for SUFFIX, the schema
 * file SCHEMA; RUN_DIR (or NULL) for the pid and args files. */
int rc_fleet_provider_config(FILE *f, const char *suffix, const char *dbdir,
                             const char *schema, const char *run_dir);
/* The base entries and the fleet's administrator (cn=admin,SUFFIX) whose
 * userPassword is ADMIN_HASH (rc_fleet_secret_hash), for slapadd -n1. */
int rc_fleet_provider_init(FILE *f, const char *suffix, const char *admin_hash);
/* A record's directory entry: its DN, and each attribute value in turn
 * (objectClass first; rcDb, rcKey and rcRecord last).  The export writes
 * them as LDIF, the tool's writes as LDAP operations. */
#define RC_FLEET_DN_MAX 1400
typedef int (*rc_fleet_attr_cb)(void *ctx, const char *attr, const void *val, size_t len);
int rc_fleet_entry_dn(const rc_repl_rec *r, const char *suffix, char *dn, size_t len);
/* SUFFIX: the references to other entries (a member's role, a token's
 * owner) are DNs.  A member with a password gets userPassword "{ARGON2}"
 * + its hash (it binds with its login password); a role gets rcMay, what
 * its members may do in the directory (fleet.c).  A modify must leave
 * out the attributes whose values do not change: the ACLs let no member
 * write objectClass, the RDN's uid or cn, rcDb, rcKey, rcUidNumber or a
 * token's owner, even with the same values. */
int rc_fleet_entry_attrs(const rc_repl_rec *r, const char *suffix, rc_fleet_attr_cb cb,
                         void *ctx);
/* This host's membership records and master key as LDIF (root only). */
int rc_fleet_export(FILE *f, rc_store *s, const char *suffix, size_t *count);

/* A new random secret; its {ARGON2} hash for userPassword (slow: never
 * in a write transaction). */
void rc_fleet_secret_new(char out[RC_FLEET_SECRET_LEN + 1]);
int rc_fleet_secret_hash(const char *secret, char *out, size_t len);

/* The host's fleet files in its state directory. */
typedef struct rc_fleet_conf {
	char uris[1024];
	char suffix[256];
	char host[64];
	char secret[256];
} rc_fleet_conf;
int rc_fleet_conf_write(const char *state_dir, const rc_fleet_conf *fc);
int rc_fleet_conf_read(const char *state_dir, rc_fleet_conf *fc);
void rc_fleet_conf_wipe(rc_fleet_conf *fc);

/* Connect and bind (simple) to URI: an LDAP result code. */
int rc_fleet_bind(const char *uri, const char *dn, const char *secret, int timeout_s, LDAP **out);
/* The first of URIS that answers; USED gets its URI. */
int rc_fleet_bind_any(const char *uris, const char *dn, const char *secret, LDAP **out,
                      char *used, size_t usedlen);

/* ---- a provider pair (fleetpair.c) ------------------------------------------
 * Two providers in mirror mode with delta-syncrepl between them: each
 * logs its writes in an accesslog database (cn=accesslog) and replays the
 * other's; the replication identity is cn=replicator,SUFFIX (reads
 * everything, writes nothing, no size limit). */
#define RC_FLEET_PAIR_SECRET_MAX 128
typedef struct rc_fleet_pair {
	unsigned server_id;   /* 1..4095, different on the two providers */
	const char *peer;     /* the other provider's URI */
	const char *secret;   /* the replicator's secret (the caller wipes it) */
	const char *log_dir;  /* the accesslog database's directory, or NULL: DBDIR/accesslog */
} rc_fleet_pair;
/* RC_OK or RC_ERR_INVALID naming what is wrong. */
int rc_fleet_pair_check(const rc_fleet_pair *p);
/* The single provider's configuration (rc_fleet_provider_config) with the
 * pair's settings added: olcServerID, the accesslog module, olcSyncrepl
 * to the peer (syncdata=accesslog), olcMultiProvider, the replicator's
 * limits and read access, the accesslog overlay and database. */
int rc_fleet_pair_config(FILE *f, const char *suffix, const char *dbdir, const char *schema,
                         const char *run_dir, const rc_fleet_pair *p);
/* The replicator's secret: the first line of PATH (root's, not readable
 * by others, no symlink); wiped on failure. */
int rc_fleet_pair_secret_read(const char *path, char *out, size_t len);
/* The replicator's entry, userPassword HASH (rc_fleet_secret_hash), for
 * slapadd -n1 with provider-init's base entries. */
int rc_fleet_replicator_entry(FILE *f, const char *suffix, const char *hash);
/* A host's stored sync cookie without the "sid=" of the provider that
 * sent it, for whichever provider it connects to (fleetpair.c says why). */
int rc_fleet_cookie_for_provider(const char *cookie, char *out, size_t len);

#endif
