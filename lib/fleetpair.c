/*
 * fleetpair.c - a provider pair: two slapd providers in mirror mode
 * (olcServerID, olcMultiProvider, each a consumer of the other) that
 * replicate between them by delta-syncrepl: every write is logged in an
 * accesslog database on the provider that took it, and the other replays
 * that log (olcSyncrepl syncdata=accesslog).
 *
 * Why the log: with plain syncrepl between the providers (slapd 2.5.13,
 * Debian 12), a delete made on one provider while the other was down
 * never reached the other after it restarted, with or without syncprov's
 * session log (the spike's finding, and tests/fleet/pair.sh's first
 * scenario).  The accesslog is on disk and ordered by CSN, so the
 * returning provider replays every write it missed, deletes included.
 *
 * The pair's configuration is the single provider's (fleet.c,
 * rc_fleet_provider_config, unchanged) with lines added at four places:
 * the server id in cn=config, the accesslog module, the replication
 * settings of the main database (first among its limits and ACLs), and
 * the accesslog overlay and database at the end.  The single provider's
 * text is written to memory and copied with these additions, so that the
 * two never drift apart.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>
#include "internal.h"
#include "fleet.h"
#include "fleetldap.h"

/* the replication identity's secret: printable, no space, quote or
 * backslash (it is written inside a quoted olcSyncrepl value) */
static int pair_secret_check(const char *s)
{
	size_t n = strlen(s);
	if (n < 16 || n >= RC_FLEET_PAIR_SECRET_MAX)
		return rc_fail(RC_ERR_INVALID, "the replicator's secret must be 16 to %d characters",
		               RC_FLEET_PAIR_SECRET_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\')
			return rc_fail(RC_ERR_INVALID, "the replicator's secret may hold printable characters "
			               "only, no space, quote or backslash");
	return RC_OK;
}

int rc_fleet_pair_check(const rc_fleet_pair *p)
{
	int rc;

	if (p->server_id < 1 || p->server_id > 4095)
		return rc_fail(RC_ERR_INVALID, "--server-id: a number from 1 to 4095, different on each "
		               "provider of the pair");
	if (!p->peer || strchr(p->peer, ','))
		return rc_fail(RC_ERR_INVALID, "--peer: the other provider's URI, one only");
	if ((rc = rc_fleet_uris_check(p->peer)) != 0)
		return rc;
	if (strpbrk(p->peer, "\" \n"))
		return rc_fail(RC_ERR_INVALID, "--peer: a URI with a space or a quote");
	if (p->log_dir && (p->log_dir[0] != '/' || strpbrk(p->log_dir, "\n\"")))
		return rc_fail(RC_ERR_INVALID, "the accesslog directory must be an absolute path without "
		               "a newline or a quote");
	return pair_secret_check(p->secret);
}

int rc_fleet_pair_secret_read(const char *path, char *out, size_t len)
{
	struct stat st;
	int fd, rc;

	if ((rc = rc_open_trusted(path, "the replicator's secret file", &fd, &st)) != 0)
		return rc;
	if ((rc = rc_check_owner_mode(path, &st, 0077, "the replicator's secret file")) != 0) {
		close(fd);
		return rc;
	}
	ssize_t n = read(fd, out, len - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return rc_fail(RC_ERR_STORE, "cannot read %s: %s", path, strerror(err));
	if ((size_t)n == len - 1) {
		sodium_memzero(out, len);
		return rc_fail(RC_ERR_INVALID, "%s is too long for a secret", path);
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';   /* its first line */
	if ((rc = pair_secret_check(out)) != 0)
		sodium_memzero(out, len);
	return rc;
}

/* ldap:// to another host: the replicator's secret is sent after StartTLS
 * only (slapd's own TLS settings, olcTLS*, verify the peer) */
static bool peer_needs_tls(const char *uri)
{
	LDAPURLDesc *d = NULL;
	bool tls = false;

	if (strncmp(uri, "ldap://", 7))
		return false;
	if (ldap_url_parse(uri, &d) != LDAP_SUCCESS)
		return true;
	tls = !(d->lud_host && (!strcmp(d->lud_host, "localhost") || !strncmp(d->lud_host, "127.", 4) ||
	                        !strcmp(d->lud_host, "::1")));
	ldap_free_urldesc(d);
	return tls;
}

/* An X-ORDERED value's index prefix, "{0}", when the single provider's
 * values of that attribute carry indexes (slapd sorts by index, keeping
 * the given order among equal ones: ours comes first), else none. */
static const char *first_index(const char *db_entry, const char *attr)
{
	char want[64];
	snprintf(want, sizeof(want), "\n%s: {", attr);
	return strstr(db_entry, want) ? "{0}" : "";
}

/* the main database's replication settings, written right after its
 * olcDatabase line: the replicator reads everything (its rule first,
 * "break" for everyone else, who go on to the single provider's ACLs)
 * with no size or time limit, and this provider consumes the peer's
 * accesslog */
static void pair_db_attrs(FILE *f, const char *suffix, const char *db_entry,
                          const rc_fleet_pair *p)
{
	fprintf(f, "olcLimits: %sdn.exact=\"cn=replicator,%s\" size=unlimited time=unlimited\n",
	        first_index(db_entry, "olcLimits"), suffix);
	fprintf(f, "olcAccess: %sto * by dn.exact=\"cn=replicator,%s\" read by * break\n",
	        first_index(db_entry, "olcAccess"), suffix);
	fprintf(f, "olcSyncrepl: rid=%03u provider=%s bindmethod=simple "
	        "binddn=\"cn=replicator,%s\" credentials=\"%s\" searchbase=\"%s\" "
	        "logbase=\"cn=accesslog\" "
	        "logfilter=\"(&(objectClass=auditWriteObject)(reqResult=0))\" syncdata=accesslog "
	        "type=refreshAndPersist retry=\"1 30 5 +\" timeout=5 network-timeout=5 "
	        "keepalive=60:3:10 schemachecking=on%s\n",
	        p->server_id, p->peer, suffix, p->secret, suffix,
	        peer_needs_tls(p->peer) ? " starttls=critical" : "");
	fputs("olcMultiProvider: TRUE\n", f);
}

/* the accesslog overlay on the main database (after syncprov), and the
 * log's own database: read by the replicator only, its syncprov for the
 * peer's delta-syncrepl, writes kept 7 days (a provider down longer is
 * seeded again: man rollcall.8, Provider pair) */
static void pair_log_entries(FILE *f, const char *suffix, const char *dbdir,
                             const rc_fleet_pair *p)
{
	fprintf(f,
	        "\ndn: olcOverlay={1}accesslog,olcDatabase={1}mdb,cn=config\n"
	        "objectClass: olcOverlayConfig\nobjectClass: olcAccessLogConfig\n"
	        "olcOverlay: {1}accesslog\nolcAccessLogDB: cn=accesslog\n"
	        "olcAccessLogOps: writes\nolcAccessLogSuccess: TRUE\n"
	        "olcAccessLogPurge: 07+00:00 01+00:00\n\n");
	fprintf(f,
	        "dn: olcDatabase={2}mdb,cn=config\nobjectClass: olcDatabaseConfig\n"
	        "objectClass: olcMdbConfig\nolcDatabase: {2}mdb\nolcSuffix: cn=accesslog\n");
	if (p->log_dir)
		fprintf(f, "olcDbDirectory: %s\n", p->log_dir);
	else
		fprintf(f, "olcDbDirectory: %s/accesslog\n", dbdir);
	fprintf(f,
	        "olcDbMaxSize: 4294967296\n"
	        "olcRootDN: gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth\n"
	        "olcDbIndex: entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN eq\n"
	        "olcLimits: {0}dn.exact=\"cn=replicator,%s\" size=unlimited time=unlimited\n"
	        "olcAccess: {0}to * by dn.exact=\"cn=replicator,%s\" read by * none\n\n"
	        "dn: olcOverlay={0}syncprov,olcDatabase={2}mdb,cn=config\n"
	        "objectClass: olcOverlayConfig\nobjectClass: olcSyncProvConfig\n"
	        "olcOverlay: {0}syncprov\nolcSpNoPresent: TRUE\nolcSpReloadHint: TRUE\n",
	        suffix, suffix);
}

/* the single provider's text at P, N bytes, to F */
static void put(FILE *f, const char *p, size_t n)
{
	fwrite(p, 1, n, f);
}

/* the end of the line that starts with LINE ("text\n"), in TEXT from FROM */
static const char *after_line(const char *text, const char *from, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = from; (p = strstr(p, line)) != NULL; p += n)
		if (p == text || p[-1] == '\n')
			return p + n;
	return NULL;
}

int rc_fleet_pair_config(FILE *f, const char *suffix, const char *dbdir, const char *schema,
                         const char *run_dir, const rc_fleet_pair *p)
{
	char *text = NULL;
	size_t len = 0;
	int rc = rc_fleet_pair_check(p);

	if (rc)
		return rc;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return rc_fail(RC_ERR_NOMEM, "out of memory writing the configuration");
	rc = rc_fleet_provider_config(m, suffix, dbdir, schema, run_dir);
	if (fclose(m) != 0 && !rc)
		rc = rc_fail(RC_ERR_NOMEM, "out of memory writing the configuration");
	if (rc) {
		free(text);
		return rc;
	}
	const char *global = after_line(text, text, "cn: config\n");
	const char *module = global ? after_line(text, global, "olcModuleLoad: syncprov\n") : NULL;
	const char *db = module ? after_line(text, module, "olcDatabase: {1}mdb\n") : NULL;
	if (!db) {
		free(text);
		return rc_fail(RC_ERR_STATE, "the provider's configuration has no cn=config entry, "
		               "syncprov module or {1}mdb database where the pair's settings go");
	}
	const char *db_end = strstr(db, "\n\n");
	size_t db_len = db_end ? (size_t)(db_end - db) + 1 : strlen(db);
	char *db_entry = malloc(db_len + 2);
	if (!db_entry) {
		free(text);
		return rc_fail(RC_ERR_NOMEM, "out of memory writing the configuration");
	}
	db_entry[0] = '\n';
	memcpy(db_entry + 1, db, db_len);
	db_entry[db_len + 1] = '\0';

	put(f, text, (size_t)(global - text));
	fprintf(f, "olcServerID: %u\n", p->server_id);
	put(f, global, (size_t)(module - global));
	fputs("olcModuleLoad: accesslog\n", f);
	put(f, module, (size_t)(db - module));
	pair_db_attrs(f, suffix, db_entry, p);
	size_t rest = len - (size_t)(db - text);
	while (rest && db[rest - 1] == '\n')
		rest--;
	put(f, db, rest);
	fputc('\n', f);
	pair_log_entries(f, suffix, dbdir, p);
	free(db_entry);
	free(text);
	return ferror(f) ? rc_fail(RC_ERR_STORE, "cannot write the configuration") : RC_OK;
}

int rc_fleet_replicator_entry(FILE *f, const char *suffix, const char *hash)
{
	int rc = rc_fleet_suffix_check(suffix);

	if (rc)
		return rc;
	fprintf(f, "dn: cn=replicator,%s\nobjectClass: rcHost\ncn: replicator\n"
	        "description: the provider pair's replication identity: reads everything, "
	        "writes nothing\n", suffix);
	rc_ldif_str(f, "userPassword", hash);
	fputc('\n', f);
	return ferror(f) ? rc_fail(RC_ERR_STORE, "cannot write the entries") : RC_OK;
}

/* A stored sync cookie as a host sends it back: without "sid=NNN".  A
 * provider of a pair puts its own server id in the cookies it sends; the
 * other provider, given that cookie after a failover, takes the host for
 * its peer and skips every change that came from that id ("skipping
 * original sid" in slapd's sync log): the host would never see the writes
 * made on the first provider.  A consumer that is not a provider sends no
 * sid.  OUT gets COOKIE without it (RC_OK), or RC_ERR_INVALID when it
 * does not fit; OUT may be COOKIE. */
int rc_fleet_cookie_for_provider(const char *cookie, char *out, size_t len)
{
	size_t o = 0;
	const char *p = cookie;

	while (*p) {
		size_t n = strcspn(p, ",");
		if (strncmp(p, "sid=", 4) != 0) {
			if (o + n + 2 > len)
				return rc_fail(RC_ERR_INVALID, "a sync cookie too long");
			if (o)
				out[o++] = ',';
			memmove(out + o, p, n);   /* OUT may be COOKIE */
			o += n;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (o + 1 > len)
		return rc_fail(RC_ERR_INVALID, "a sync cookie too long");
	out[o] = '\0';
	return RC_OK;
}
