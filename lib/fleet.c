/*
 * fleet.c - the fleet's directory side: the provider's configuration and
 * base entries as LDIF, a host's export ("moving in"), the host's own
 * fleet files in its state directory, and connecting to the providers.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>
#include "internal.h"
#include "fleet.h"
#include "fleetldap.h"

/* ---- names ------------------------------------------------------------------ */

int rc_fleet_suffix_check(const char *dn)
{
	/* attr=value[,attr=value...]: dc, o, ou; values [A-Za-z0-9-] */
	const char *p = dn;
	size_t n = strlen(dn);

	if (n == 0 || n > 200)
		return rc_fail(RC_ERR_INVALID, "suffix \"%.60s\": give a DN such as dc=example,dc=com", dn);
	while (*p) {
		size_t a = strspn(p, "abcdefghijklmnopqrstuvwxyz");
		if (!((a == 2 && (!strncmp(p, "dc", 2) || !strncmp(p, "ou", 2))) ||
		      (a == 1 && p[0] == 'o')) || p[a] != '=')
			return rc_fail(RC_ERR_INVALID, "suffix \"%.60s\": each part must be dc=, o= or "
			               "ou= (lower case), as in dc=example,dc=com", dn);
		p += a + 1;
		size_t v = 0;
		while (isalnum((unsigned char)p[v]) || p[v] == '-')
			v++;
		if (v == 0 || (p[v] && p[v] != ','))
			return rc_fail(RC_ERR_INVALID, "suffix \"%.60s\": a value may hold letters, digits "
			               "and '-' only", dn);
		p += v;
		if (*p == ',')
			p++;
		if (p[-1] == ',' && !*p)
			return rc_fail(RC_ERR_INVALID, "suffix \"%.60s\" ends with a comma", dn);
	}
	return RC_OK;
}

int rc_fleet_host_check(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 63 || name[0] == '-')
		return rc_fail(RC_ERR_INVALID, "host name \"%.70s\": 1 to 63 letters, digits and '-'", name);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-')
			return rc_fail(RC_ERR_INVALID, "host name \"%.70s\": 1 to 63 letters, digits and '-'",
			               name);
	return RC_OK;
}

/* ---- LDIF ------------------------------------------------------------------- */

static bool ldif_safe(const unsigned char *v, size_t n)
{
	if (n && (v[0] == ' ' || v[0] == ':' || v[0] == '<' || v[n - 1] == ' '))
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return false;
	return true;
}

void rc_ldif_attr(FILE *f, const char *name, const void *val, size_t n)
{
	if (ldif_safe(val, n)) {
		fprintf(f, "%s: %.*s\n", name, (int)n, (const char *)val);
		return;
	}
	size_t blen = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *b = malloc(blen);
	if (!b)
		return;
	sodium_bin2base64(b, blen, val, n, sodium_base64_VARIANT_ORIGINAL);
	/* folded at 76 columns (RFC 2849) */
	fprintf(f, "%s:: ", name);
	size_t col = strlen(name) + 3, len = strlen(b);
	for (size_t i = 0; i < len; i++) {
		if (col >= 76) {
			fputs("\n ", f);
			col = 1;
		}
		fputc(b[i], f);
		col++;
	}
	fputc('\n', f);
	sodium_memzero(b, blen);
	free(b);
}

void rc_ldif_str(FILE *f, const char *name, const char *val)
{
	rc_ldif_attr(f, name, val, strlen(val));
}

/* ---- the ACLs ------------------------------------------------------------------
 * Static (made once: roles changing later need no new configuration).
 * Who may do what as a member is read from the bound member's role entry
 * (user/rcRoleRef/rcMay, made from the role by role_may) with OpenLDAP
 * sets; a member acts only while active.  Write access never implies read
 * of a secret: each clause gives explicit privileges (a add, z delete, w
 * both, r read, s search, c compare: the tool's assertion "(rcRecord=OLD)"
 * needs s). */

/* The bound member is the entry itself, and active */
#define SELF "(user & this) + (user/rcStatus & [active])"

struct acl {
	FILE *f;
	const char *s;      /* the suffix */
	int n;
	char adm[300], std[600];
};

/* One olcAccess clause: "to WHAT", the administrator and the hosts first,
 * then BY. */
static void acl_to(struct acl *a, const char *what, const char *by)
{
	fprintf(a->f, "olcAccess: {%d}to %s %s %s by * none\n", a->n++, what, a->std, by);
}

/* The set "the bound member is active and its role may WANT" (WANT a set
 * expression of strings: "[invite]", "[manage:] + this/rcRoleRef/rcRank") */
static const char *may(char *buf, size_t len, const char *want)
{
	snprintf(buf, len, "(user/rcRoleRef/rcMay + [#] + user/rcStatus) & (%s + [#active])", want);
	return buf;
}

static const char *may_any(char *buf, size_t len, const char *const *perms)
{
	char one[300], lit[64];
	size_t o = 0;
	for (size_t i = 0; perms[i] && o < len; i++) {
		snprintf(lit, sizeof(lit), "[%s]", perms[i]);
		o += (size_t)snprintf(buf + o, len - o, "%s(%s)", i ? " | " : "",
		                      may(one, sizeof(one), lit));
	}
	return buf;
}

static void hexstr(const char *str, char *out, size_t len)
{
	sodium_bin2hex(out, len, (const unsigned char *)str, strlen(str));
}

/* The clauses of the role of member or invitation entries (WHAT; MGR: who
 * may act on the entry's rank) */
static void acl_people_role(struct acl *a, const char *what, const char *mgr, bool members)
{
	const char *S = a->s;
	char by[2400], w[600], c1[300], c2[300], lit[200];

	snprintf(lit, sizeof(lit), "[grant:] + [cn=${v1},ou=roles,%s]/rcRank", S);
	may(c1, sizeof(c1), lit);
	snprintf(lit, sizeof(lit), "[invite:] + [cn=${v1},ou=roles,%s]/rcRank", S);
	may(c2, sizeof(c2), lit);
	snprintf(by, sizeof(by), "by set.expand=\"(%s) + (%s)\" =wrsc by set.expand=\"(%s)%s\" =arsc "
	         "by set=\"%s\" =zrsc by dn.children=\"ou=members,%s\" read", c1, mgr, c2,
	         members ? " + (this/rcStatus & [pending])" : "", mgr, S);
	snprintf(w, sizeof(w), "%s attrs=rcRoleRef val.regex=\"^cn=([0-9a-f]+),ou=roles,%s$\"", what, S);
	acl_to(a, w, by);
	snprintf(by, sizeof(by), "by set=\"%s\" =zrsc by dn.children=\"ou=members,%s\" read", mgr, S);
	snprintf(w, sizeof(w), "%s attrs=rcRoleRef", what);
	acl_to(a, w, by);
}

/* The clauses of member (PEOPLE "members") or invitation entries */
static void acl_people(struct acl *a, bool members)
{
	const char *S = a->s;
	char what[400], by[2400], mgr[300], inv[400], c1[300];

	snprintf(what, sizeof(what), "dn.regex=\"^uid=[^,]+,ou=%s,%s$\"",
	         members ? "members" : "invitations", S);
	/* MGR: may act on this entry's rank; INV: may invite to it (and, a
	 * member, it is pending: an invitation's member) */
	may(mgr, sizeof(mgr), "[manage:] + this/rcRoleRef/rcRank");
	may(c1, sizeof(c1), "[invite:] + this/rcRoleRef/rcRank");
	snprintf(inv, sizeof(inv), members ? "(%s) + (this/rcStatus & [pending])" : "%s", c1);
	/* the entry: added by an inviter, deleted by a manager (or the
	 * inviter while pending: withdrawn) */
	snprintf(by, sizeof(by), "by set=\"%s\" =azrsc by set=\"%s\" =zrsc "
	         "by dn.children=\"ou=members,%s\" read", inv, mgr, S);
	char w[600];
	snprintf(w, sizeof(w), "%s attrs=entry", what);
	acl_to(a, w, by);
	/* the record: written by a manager, the member itself, an inviter
	 * adding it; read by no member (hashes, TOTP secrets, codes) */
	snprintf(by, sizeof(by), "by set=\"%s\" =wsc %sby set=\"%s\" =asc", mgr,
	         members ? "by set=\"" SELF "\" =wsc " : "", inv);
	snprintf(w, sizeof(w), "%s attrs=rcRecord", what);
	acl_to(a, w, by);
	/* the role: rcRoleRef, the role's entry, names it to the ACLs; a new
	 * value is given only by who may grant that role's rank (read from
	 * the entry the value names: ${v1}, the value's submatch), to a member
	 * it may act on, or by an inviter to a new entry; the old value goes
	 * with a manager.  rcRole, its name, follows (the replica refuses a
	 * record whose role is not both). */
	acl_people_role(a, what, mgr, members);
	snprintf(by, sizeof(by), "by set=\"%s\" =wrsc by set=\"%s\" =arsc "
	         "by dn.children=\"ou=members,%s\" read", mgr, inv, S);
	snprintf(w, sizeof(w), "%s attrs=rcRole", what);
	acl_to(a, w, by);
	if (members) {
		/* the status: set by a manager; pending by an inviter */
		snprintf(by, sizeof(by), "by set=\"%s\" =wrsc by set=\"%s\" =arsc "
		         "by dn.children=\"ou=members,%s\" read", mgr, inv, S);
		snprintf(w, sizeof(w), "%s attrs=rcStatus val=\"pending\"", what);
		acl_to(a, w, by);
		snprintf(by, sizeof(by), "by set=\"%s\" =wrsc by dn.children=\"ou=members,%s\" read",
		         mgr, S);
		snprintf(w, sizeof(w), "%s attrs=rcStatus", what);
		acl_to(a, w, by);
	}
	/* the email address and full name: a manager, the member itself */
	snprintf(by, sizeof(by), "by set=\"%s\" =wrsc %sby set=\"%s\" =arsc "
	         "by dn.children=\"ou=members,%s\" read", mgr,
	         members ? "by set=\"" SELF "\" =wrsc " : "", inv, S);
	snprintf(w, sizeof(w), "%s attrs=mail,cn", what);
	acl_to(a, w, by);
	/* the rest (objectClass, uid, rcDb, rcKey, rcUidNumber): an inviter
	 * adding the entry, nobody after */
	snprintf(by, sizeof(by), "by set=\"%s\" =arsc by dn.children=\"ou=members,%s\" read", inv, S);
	acl_to(a, what, by);
}

static const char *const p_members[] = { "invite", "manage-members", NULL };
static const char *const p_services[] = { "start-stop", "manage-services", NULL };
static const char *const p_ss[] = { "start-stop", NULL };

/* credentials, hosts' state, hosts and the administrator's entry */
static void acl_credentials(struct acl *a)
{
	FILE *f = a->f;
	const char *S = a->s;
	char mgr[300];

	/* credentials are for binding: a member sets its own password, a
	 * manager may remove one (a reset) and set the first one of a pending
	 * member it may act on (an invitation accepted on a host, the code
	 * checked there: the manager may write that member's record, password
	 * hash included, anyway); nobody reads them */
	may(mgr, sizeof(mgr), "[manage:] + this/rcRoleRef/rcRank");
	fprintf(f, "olcAccess: {%d}to dn.regex=\"^uid=[^,]+,ou=members,%s$\" attrs=userPassword "
	        "%s by anonymous auth by set=\"" SELF "\" =w "
	        "by set=\"(%s) + (this/rcStatus & [pending])\" =w by set=\"%s\" =z by * none\n",
	        a->n++, S, a->adm, mgr, mgr);
	fprintf(f, "olcAccess: {%d}to attrs=userPassword %s by anonymous auth by * none\n", a->n++,
	        a->adm);
	/* a host writes its own state only, reads the others' */
	fprintf(f, "olcAccess: {%d}to dn.regex=\"^(.+,)?cn=([^,]+),ou=state,%s$\" %s "
	        "by dn.exact,expand=\"cn=$2,ou=hosts,%s\" write by dn.children=\"ou=hosts,%s\" read "
	        "by * none\n", a->n++, S, a->adm, S, S);
	/* the last TOTP step of each member, fleet-wide: claimed by any host
	 * (a compare-and-swap at a login, totpcas.c), read by no one else */
	fprintf(f, "olcAccess: {%d}to dn.subtree=\"ou=totp,%s\" %s "
	        "by dn.children=\"ou=hosts,%s\" write by * none\n", a->n++, S, a->adm, S);
	fprintf(f, "olcAccess: {%d}to dn.subtree=\"ou=hosts,%s\" %s by self read by * none\n", a->n++,
	        S, a->adm);
	fprintf(f, "olcAccess: {%d}to dn.base=\"cn=admin,%s\" by self write by * none\n", a->n++, S);
}

/* adding and deleting entries under each container; the containers read */
static void acl_containers(struct acl *a)
{
	const char *S = a->s;
	char w[600], by[3000], c[1600];
	static const char *const p_settings[] = { "invite", "manage-members", "manage-services",
	                                          "start-stop", "billing", NULL };
	static const struct { const char *ou; const char *const *perms; } kids[] = {
		{ "members", p_members }, { "invitations", p_members }, { "services", p_ss },
		{ "serviceusers", p_services }, { "settings", p_settings },
	};

	for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
		snprintf(w, sizeof(w), "dn.base=\"ou=%s,%s\" attrs=children", kids[i].ou, S);
		snprintf(by, sizeof(by), "by set=\"%s\" =az", may_any(c, sizeof(c), kids[i].perms));
		acl_to(a, w, by);
	}
	snprintf(w, sizeof(w), "dn.base=\"ou=tokens,%s\" attrs=children", S);
	acl_to(a, w, "by set=\"user/rcStatus & [active]\" =az");
	snprintf(w, sizeof(w), "dn.regex=\"^ou=[a-z]+,%s$\"", S);
	snprintf(by, sizeof(by), "by dn.children=\"ou=members,%s\" read", S);
	acl_to(a, w, by);
}

/* tokens: its owner's (while active), and a manager's of the owner */
static void acl_tokens(struct acl *a)
{
	const char *S = a->s;
	char w[600], by[3000], c[1600], mgr[300];

	snprintf(c, sizeof(c), "(this/rcMemberRef & user) + (user/rcStatus & [active])");
	may(mgr, sizeof(mgr), "[manage:] + this/rcMemberRef/rcRoleRef/rcRank");
	snprintf(w, sizeof(w), "dn.regex=\"^cn=[0-9a-f]+,ou=tokens,%s$\" attrs=entry", S);
	snprintf(by, sizeof(by), "by set=\"%s\" =azrsc by set=\"%s\" =zrsc", c, mgr);
	acl_to(a, w, by);
	snprintf(w, sizeof(w), "dn.regex=\"^cn=[0-9a-f]+,ou=tokens,%s$\" attrs=rcRecord", S);
	snprintf(by, sizeof(by), "by set=\"%s\" =wrsc by set=\"%s\" =wsc", c, mgr);
	acl_to(a, w, by);
	snprintf(w, sizeof(w), "dn.regex=\"^cn=[0-9a-f]+,ou=tokens,%s$\"", S);
	snprintf(by, sizeof(by), "by set=\"%s\" =arsc by set=\"%s\" =rsc", c, mgr);
	acl_to(a, w, by);
}

/* settings: the id counter, by anyone who makes ids (a compare and swap);
 * the members' group id, nobody; billing, the billing permission; the
 * rest, manage-members (settings.c) */
static void acl_settings(struct acl *a)
{
	const char *S = a->s;
	char w[600], by[3000], c[1600], hex[64];
	static const char *const p_ids[] = { "invite", "manage-members", "manage-services",
	                                     "start-stop", NULL };
	static const char *const p_mm[] = { "manage-members", NULL };
	static const char *const p_billing[] = { "billing", NULL };

	hexstr("@next_id", hex, sizeof(hex));
	snprintf(w, sizeof(w), "dn.base=\"cn=%s,ou=settings,%s\"", hex, S);
	snprintf(by, sizeof(by), "by set=\"%s\" =wrsc by dn.children=\"ou=members,%s\" read",
	         may_any(c, sizeof(c), p_ids), S);
	acl_to(a, w, by);
	hexstr("@gid_members", hex, sizeof(hex));
	snprintf(w, sizeof(w), "dn.base=\"cn=%s,ou=settings,%s\"", hex, S);
	snprintf(by, sizeof(by), "by dn.children=\"ou=members,%s\" read", S);
	acl_to(a, w, by);
	hexstr("billing.", hex, sizeof(hex));
	snprintf(w, sizeof(w), "dn.regex=\"^cn=%s[0-9a-f]*,ou=settings,%s$\"", hex, S);
	snprintf(by, sizeof(by), "by set=\"%s\" =wrsc by dn.children=\"ou=members,%s\" read",
	         may_any(c, sizeof(c), p_billing), S);
	acl_to(a, w, by);
	snprintf(w, sizeof(w), "dn.regex=\"^cn=[0-9a-f]+,ou=settings,%s$\"", S);
	snprintf(by, sizeof(by), "by set=\"%s\" =wrsc by dn.children=\"ou=members,%s\" read",
	         may_any(c, sizeof(c), p_mm), S);
	acl_to(a, w, by);
}

/* services: start-stop (create, start, stop, delete) and manage-services
 * (runs-as); their users (secrets): no member reads; roles: the
 * administrator alone writes them */
static void acl_services_roles(struct acl *a)
{
	const char *S = a->s;
	char w[600], by[3000], c[1600];

	snprintf(w, sizeof(w), "dn.regex=\"^cn=[0-9a-f]+,ou=services,%s$\" attrs=entry", S);
	snprintf(by, sizeof(by), "by set=\"%s\" =wrsc by dn.children=\"ou=members,%s\" read",
	         may_any(c, sizeof(c), p_ss), S);
	acl_to(a, w, by);
	snprintf(w, sizeof(w), "dn.regex=\"^cn=[0-9a-f]+,ou=services,%s$\"", S);
	snprintf(by, sizeof(by), "by set=\"%s\" =wrsc by dn.children=\"ou=members,%s\" read",
	         may_any(c, sizeof(c), p_services), S);
	acl_to(a, w, by);
	snprintf(w, sizeof(w), "dn.regex=\"^uid=[^,]+,ou=serviceusers,%s$\"", S);
	snprintf(by, sizeof(by), "by set=\"%s\" =wsc", may_any(c, sizeof(c), p_services));
	acl_to(a, w, by);
	snprintf(w, sizeof(w), "dn.children=\"ou=roles,%s\"", S);
	snprintf(by, sizeof(by), "by dn.children=\"ou=members,%s\" read", S);
	acl_to(a, w, by);
}

static void acls(FILE *f, const char *S)
{
	struct acl a = { .f = f, .s = S };

	snprintf(a.adm, sizeof(a.adm), "by dn.exact=\"cn=admin,%s\" write", S);
	snprintf(a.std, sizeof(a.std), "%s by dn.children=\"ou=hosts,%s\" read", a.adm, S);
	acl_credentials(&a);
	acl_containers(&a);
	acl_people(&a, true);
	acl_people(&a, false);
	acl_tokens(&a);
	acl_settings(&a);
	acl_services_roles(&a);
	/* anything else (the fleet key): the administrator and the hosts */
	acl_to(&a, "*", "");
	fputc('\n', f);
}

/* The regular expression of a suffix (its letters, digits, '-', '=' and
 * ',' need no escape). */
int rc_fleet_provider_config(FILE *f, const char *suffix, const char *dbdir,
                             const char *schema, const char *run_dir)
{
	int rc = rc_fleet_suffix_check(suffix);
	if (rc)
		return rc;
	if (dbdir[0] != '/' || schema[0] != '/' || (run_dir && run_dir[0] != '/'))
		return rc_fail(RC_ERR_INVALID, "the database directory, schema and run directory "
		               "must be absolute paths");
	if (strpbrk(dbdir, "\n\"") || strpbrk(schema, "\n\"") || (run_dir && strpbrk(run_dir, "\n\"")))
		return rc_fail(RC_ERR_INVALID, "a path with a newline or a quote");
	const char *hosts = "ou=hosts,";
	fprintf(f,
	        "# rollcall fleet provider: slapd's cn=config, made by \"rollcall fleet provider-config\".\n"
	        "# Load with:  slapadd -n0 -F SLAPD_D -l THIS_FILE   (SLAPD_D an empty directory)\n"
	        "dn: cn=config\nobjectClass: olcGlobal\ncn: config\n");
	if (run_dir)
		fprintf(f, "olcPidFile: %s/slapd.pid\nolcArgsFile: %s/slapd.args\n", run_dir, run_dir);
	fprintf(f, "olcLogLevel: stats\n\n"
	        "dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\n"
	        "olcModulePath: /usr/lib/ldap\nolcModuleLoad: back_mdb\nolcModuleLoad: syncprov\n"
	        "olcModuleLoad: argon2\n\n"
	        "dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n"
	        "include: file:///etc/ldap/schema/core.ldif\n\n"
	        "include: file://%s\n\n", schema);
	fprintf(f,
	        "dn: olcDatabase={-1}frontend,cn=config\nobjectClass: olcDatabaseConfig\n"
	        "objectClass: olcFrontendConfig\nolcDatabase: {-1}frontend\nolcSizeLimit: 500\n"
	        "olcPasswordHash: {ARGON2}\n"
	        "olcAccess: {0}to dn.base=\"\" by * read\n"
	        "olcAccess: {1}to dn.base=\"cn=subschema\" by * read\n\n"
	        "dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\n"
	        "olcDatabase: {0}config\n"
	        "olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * none\n\n");
	fprintf(f,
	        "dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\n"
	        "objectClass: olcMdbConfig\nolcDatabase: {1}mdb\nolcSuffix: %s\n"
	        "olcDbDirectory: %s\nolcDbMaxSize: 4294967296\n"
	        "olcRootDN: gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth\n"
	        "olcDbIndex: objectClass eq\nolcDbIndex: entryCSN eq\nolcDbIndex: entryUUID eq\n"
	        "olcDbIndex: uid eq\nolcDbIndex: cn eq\n"
	        /* an add needs add access to each attribute it brings (the
	         * ACLs' per-value rules apply to a new entry too) */
	        "olcAddContentAcl: TRUE\n",
	        suffix, dbdir);
	/* the sync identities read everything: a frontend size limit (500)
	 * would cut a refresh short */
	fprintf(f,
	        "olcLimits: {0}dn.children=\"%s%s\" size=unlimited time=unlimited\n"
	        "olcLimits: {1}dn.exact=\"cn=admin,%s\" size=unlimited time=unlimited\n",
	        hosts, suffix, suffix);
	acls(f, suffix);
	fprintf(f,
	        "dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config\n"
	        "objectClass: olcOverlayConfig\nobjectClass: olcSyncProvConfig\n"
	        "olcOverlay: {0}syncprov\nolcSpCheckpoint: 100 1\nolcSpSessionlog: 10000\n");
	return ferror(f) ? rc_fail(RC_ERR_STORE, "cannot write the configuration") : RC_OK;
}

int rc_fleet_secret_hash(const char *secret, char *out, size_t len)
{
	char h[crypto_pwhash_STRBYTES];

	rc_slow_work("hashing a directory secret");
	/* the secrets rollcall makes are random (256 bits): the minimum cost */
	if (crypto_pwhash_str_alg(h, secret, strlen(secret), crypto_pwhash_OPSLIMIT_MIN + 2,
	                          (size_t)8 << 20, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return rc_fail(RC_ERR_NOMEM, "out of memory hashing a secret");
	if ((size_t)snprintf(out, len, "{ARGON2}%s", h) >= len)
		return rc_fail(RC_ERR_INVALID, "a secret hash too long");
	sodium_memzero(h, sizeof(h));
	return RC_OK;
}

void rc_fleet_secret_new(char out[RC_FLEET_SECRET_LEN + 1])
{
	uint8_t raw[32];
	rc_random_bytes(raw, sizeof(raw));
	rc_base32_lower(raw, sizeof(raw), out);   /* 52 characters */
	out[RC_FLEET_SECRET_LEN] = '\0';
	sodium_memzero(raw, sizeof(raw));
}

static void suffix_entry(FILE *f, const char *suffix)
{
	const char *eq = strchr(suffix, '=');
	size_t vlen = strcspn(eq + 1, ",");
	fprintf(f, "dn: %s\n", suffix);
	if (!strncmp(suffix, "dc=", 3))
		fprintf(f, "objectClass: dcObject\nobjectClass: organization\ndc: %.*s\no: %.*s\n\n",
		        (int)vlen, eq + 1, (int)vlen, eq + 1);
	else if (!strncmp(suffix, "o=", 2))
		fprintf(f, "objectClass: organization\no: %.*s\n\n", (int)vlen, eq + 1);
	else
		fprintf(f, "objectClass: organizationalUnit\nou: %.*s\n\n", (int)vlen, eq + 1);
}

int rc_fleet_provider_init(FILE *f, const char *suffix, const char *admin_hash)
{
	static const char *const ous[] = { "hosts", "state", "totp" };
	int rc = rc_fleet_suffix_check(suffix);

	if (rc)
		return rc;
	suffix_entry(f, suffix);
	fprintf(f, "dn: cn=admin,%s\nobjectClass: rcHost\ncn: admin\n"
	        "description: the fleet's administrator\n", suffix);
	rc_ldif_str(f, "userPassword", admin_hash);
	fputc('\n', f);
	for (int k = 0; k < RC_REPL_KINDS; k++)
		fprintf(f, "dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n",
		        rc_repl_kind_ou(k), suffix, rc_repl_kind_ou(k));
	for (size_t i = 0; i < sizeof(ous) / sizeof(ous[0]); i++)
		fprintf(f, "dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n", ous[i], suffix,
		        ous[i]);
	return ferror(f) ? rc_fail(RC_ERR_STORE, "cannot write the entries") : RC_OK;
}

/* ---- a record's directory entry ---------------------------------------------- */

static bool kind_by_name(int kind)
{
	return kind == RC_REPL_MEMBER || kind == RC_REPL_SVCUSER || kind == RC_REPL_INVITATION;
}

/* members, service users and invitations by name (their names are
 * checked user names); the rest by the hex of their key */
static void entry_rdn(const rc_repl_rec *r, char *hex, size_t hexlen)
{
	if (kind_by_name(r->kind))
		snprintf(hex, hexlen, "%s", r->name);
	else
		sodium_bin2hex(hex, hexlen, r->key, r->klen > 512 ? 512 : r->klen);
}

int rc_fleet_entry_dn(const rc_repl_rec *r, const char *suffix, char *dn, size_t len)
{
	char rdn[2 * 512 + 1];

	if (r->kind < 0 || r->kind >= RC_REPL_KINDS)
		return rc_fail(RC_ERR_INVALID, "no directory entry for this kind of record");
	entry_rdn(r, rdn, sizeof(rdn));
	if ((size_t)snprintf(dn, len, "%s=%s,ou=%s,%s", kind_by_name(r->kind) ? "uid" : "cn", rdn,
	                     rc_repl_kind_ou(r->kind), suffix) >= len)
		return rc_fail(RC_ERR_INVALID, "a directory entry name too long");
	return RC_OK;
}

static int attr_str(rc_fleet_attr_cb cb, void *ctx, const char *name, const char *val)
{
	return cb(ctx, name, val, strlen(val));
}

static int attr_uint(rc_fleet_attr_cb cb, void *ctx, const char *name, uint32_t v)
{
	char num[16];
	snprintf(num, sizeof(num), "%u", (unsigned)v);
	return attr_str(cb, ctx, name, num);
}

/* The DN of the member NAME's or role NAME's entry */
static int ref_dn(int kind, const char *name, const char *suffix, char *dn, size_t len)
{
	rc_repl_rec ref = { .kind = kind, .key = name, .klen = strlen(name), .name = name };
	return rc_fleet_entry_dn(&ref, suffix, dn, len);
}

/* What members of the role R may do in the directory (its rcMay values),
 * from the library's own rules (actor.c): each permission's name;
 * "manage:N" for each rank N it acts on (manage-members), "grant:N" for
 * each rank of a role it may give (manage-members), "invite:N" for each it
 * may invite to (invite).  Rank 100 is the owner's (custom roles take 1 to
 * 99). */
static int role_may(const rc_repl_rec *r, rc_fleet_attr_cb cb, void *ctx)
{
	rc_role actor = { .rank = r->rank, .perms = r->perms }, granted = { .rank = 0 };
	char v[32];
	int rc = RC_OK;

	snprintf(actor.name, sizeof(actor.name), "%s", r->name);
	for (unsigned i = 0; !rc && i < RC_PERM_COUNT; i++)
		if (r->perms & (1u << i))
			rc = attr_str(cb, ctx, "rcMay", rc_perm_name(i));
	for (uint32_t n = 1; !rc && n <= 100; n++) {
		granted.rank = n;
		snprintf(granted.name, sizeof(granted.name), "%s", n == 100 ? "owner" : "");
		bool grants = rc_role_grants(&actor, actor.rank, &granted);
		if ((r->perms & RC_PERM_MANAGE_MEMBERS) && rc_rank_acts_on(actor.rank, n)) {
			snprintf(v, sizeof(v), "manage:%u", (unsigned)n);
			rc = attr_str(cb, ctx, "rcMay", v);
		}
		if (!rc && (r->perms & RC_PERM_MANAGE_MEMBERS) && grants) {
			snprintf(v, sizeof(v), "grant:%u", (unsigned)n);
			rc = attr_str(cb, ctx, "rcMay", v);
		}
		if (!rc && (r->perms & RC_PERM_INVITE) && grants) {
			snprintf(v, sizeof(v), "invite:%u", (unsigned)n);
			rc = attr_str(cb, ctx, "rcMay", v);
		}
	}
	return rc;
}

/* The attributes that say what the record is, for administrators and ACLs */
static int entry_kind_attrs(const rc_repl_rec *r, const char *suffix, rc_fleet_attr_cb cb,
                            void *ctx)
{
	char dn[RC_FLEET_DN_MAX], pw[RC_PWHASH_MAX + 16];
	int rc = RC_OK;

	switch (r->kind) {
	case RC_REPL_MEMBER:
		if (!(rc = attr_str(cb, ctx, "mail", r->email)) && r->full_name && r->full_name[0])
			rc = attr_str(cb, ctx, "cn", r->full_name);
		if (!rc && !(rc = attr_str(cb, ctx, "rcRole", r->role)) &&
		    !(rc = ref_dn(RC_REPL_ROLE, r->role, suffix, dn, sizeof(dn))) &&
		    !(rc = attr_str(cb, ctx, "rcRoleRef", dn)) &&
		    !(rc = attr_str(cb, ctx, "rcStatus", r->status)))
			rc = attr_uint(cb, ctx, "rcUidNumber", r->uid);
		if (!rc && r->pwhash && r->pwhash[0]) {
			if ((size_t)snprintf(pw, sizeof(pw), "{ARGON2}%s", r->pwhash) >= sizeof(pw))
				rc = rc_fail(RC_ERR_INVALID, "a password hash too long");
			else
				rc = attr_str(cb, ctx, "userPassword", pw);
			sodium_memzero(pw, sizeof(pw));
		}
		return rc;
	case RC_REPL_INVITATION:
		if (!(rc = attr_str(cb, ctx, "mail", r->email)) && r->role &&
		    !(rc = attr_str(cb, ctx, "rcRole", r->role)) &&
		    !(rc = ref_dn(RC_REPL_ROLE, r->role, suffix, dn, sizeof(dn))))
			rc = attr_str(cb, ctx, "rcRoleRef", dn);
		return rc;
	case RC_REPL_SVCUSER:
		return attr_uint(cb, ctx, "rcUidNumber", r->uid);
	case RC_REPL_ROLE:
		if (!(rc = attr_str(cb, ctx, "description", r->name)) &&
		    !(rc = attr_uint(cb, ctx, "rcRank", r->rank)))
			rc = role_may(r, cb, ctx);
		return rc;
	case RC_REPL_TOKEN:
		if (!(rc = attr_str(cb, ctx, "uid", r->owner)) &&
		    !(rc = ref_dn(RC_REPL_MEMBER, r->owner, suffix, dn, sizeof(dn))))
			rc = attr_str(cb, ctx, "rcMemberRef", dn);
		return rc;
	default:
		return attr_str(cb, ctx, "description", r->name);
	}
}

int rc_fleet_entry_attrs(const rc_repl_rec *r, const char *suffix, rc_fleet_attr_cb cb,
                         void *ctx)
{
	static const char *const kind_class[RC_REPL_KINDS] = {
		"rcMember", "rcRoleEntry", "rcInvitation", "rcService", "rcServiceUser", "rcToken",
		"rcSetting"
	};
	char rdn[2 * 512 + 1];
	int rc;

	if (r->kind < 0 || r->kind >= RC_REPL_KINDS)
		return rc_fail(RC_ERR_INVALID, "no directory entry for this kind of record");
	entry_rdn(r, rdn, sizeof(rdn));
	if ((rc = attr_str(cb, ctx, "objectClass", kind_class[r->kind])) ||
	    (rc = attr_str(cb, ctx, "objectClass", "rcReplicated")) ||
	    (rc = attr_str(cb, ctx, kind_by_name(r->kind) ? "uid" : "cn", rdn)) ||
	    (rc = entry_kind_attrs(r, suffix, cb, ctx)) ||
	    (rc = attr_str(cb, ctx, "rcDb", rc_repl_kind_name(r->kind))) ||
	    (rc = cb(ctx, "rcKey", r->key, r->klen)))
		return rc;
	return cb(ctx, "rcRecord", r->val, r->vlen);
}

/* ---- export ----------------------------------------------------------------- */

struct export_ctx {
	FILE *f;
	const char *suffix;
	size_t count;
};

static int ldif_cb(void *vctx, const char *name, const void *val, size_t n)
{
	struct export_ctx *x = vctx;
	rc_ldif_attr(x->f, name, val, n);
	return RC_OK;
}

static int export_entry(const rc_repl_rec *r, void *vctx)
{
	struct export_ctx *x = vctx;
	char dn[RC_FLEET_DN_MAX];
	int rc = rc_fleet_entry_dn(r, x->suffix, dn, sizeof(dn));

	if (rc)
		return rc;
	rc_ldif_str(x->f, "dn", dn);
	if ((rc = rc_fleet_entry_attrs(r, x->suffix, ldif_cb, x)) != 0)
		return rc;
	fputc('\n', x->f);
	x->count++;
	return ferror(x->f) ? rc_fail(RC_ERR_STORE, "cannot write the export") : RC_OK;
}

int rc_fleet_export(FILE *f, rc_store *s, const char *suffix, size_t *count)
{
	struct export_ctx x = { .f = f, .suffix = suffix };
	uint8_t key[RC_MASTER_KEY_LEN];
	char path[RC_PATH_MAX];
	int rc = rc_fleet_suffix_check(suffix);

	if (rc)
		return rc;
	if ((rc = rc_path_join(path, sizeof(path), s->cfg.state_dir, "master.key")) != 0 ||
	    (rc = rc_master_key_load(path, key)) != 0)
		return rc;
	fprintf(f, "# rollcall fleet export of %s: load with slapadd -n1 or ldapadd as the "
	        "fleet's administrator\n", s->cfg.state_dir);
	fprintf(f, "dn: cn=fleet,%s\nobjectClass: rcFleet\ncn: fleet\n", suffix);
	rc_ldif_attr(f, "rcMasterKey", key, sizeof(key));
	fputc('\n', f);
	sodium_memzero(key, sizeof(key));
	rc = rc_replica_export(s, export_entry, &x);
	if (count)
		*count = x.count;
	return rc;
}

/* ---- the host's fleet files ---------------------------------------------------
 * STATE/fleet.conf: "uris=", "suffix=", "host=" lines; STATE/fleet.secret:
 * the host's secret.  Both root's, 0600, written whole (a temporary file
 * renamed) and read with O_NOFOLLOW and an fstat check. */

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[RC_PATH_MAX], tmp[RC_PATH_MAX + 8];
	int rc = rc_path_join(path, sizeof(path), dir, name);

	if (rc)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return rc_fail(RC_ERR_STORE, "cannot create %s: %s", tmp, strerror(errno));
	size_t n = strlen(text);
	bool ok = fchown(fd, 0, 0) == 0 && fchmod(fd, 0600) == 0 &&
	          write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
	int err = errno;
	close(fd);
	if (!ok || rename(tmp, path) < 0) {
		if (ok)
			err = errno;
		unlink(tmp);
		return rc_fail(RC_ERR_STORE, "cannot write %s: %s", path, strerror(err));
	}
	return RC_OK;
}

static int read_file(const char *dir, const char *name, char *buf, size_t len)
{
	char path[RC_PATH_MAX];
	struct stat st;
	int fd, rc = rc_path_join(path, sizeof(path), dir, name);

	if (rc)
		return rc;
	if ((rc = rc_open_trusted(path, name, &fd, &st)) != 0)
		return rc;
	if ((rc = rc_check_owner_mode(path, &st, 0077, name)) != 0) {
		close(fd);
		return rc;
	}
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return rc_fail(RC_ERR_STORE, "cannot read %s: %s", path, strerror(errno));
	if ((size_t)n == len - 1)
		return rc_fail(RC_ERR_STORE, "%s is too long", path);
	buf[n] = '\0';
	return RC_OK;
}

int rc_fleet_conf_write(const char *state_dir, const rc_fleet_conf *fc)
{
	char text[2048];
	int n = snprintf(text, sizeof(text), "# written by rollcall fleet join\nuris=%s\nsuffix=%s\nhost=%s\n",
	                 fc->uris, fc->suffix, fc->host);
	if (n < 0 || (size_t)n >= sizeof(text))
		return rc_fail(RC_ERR_INVALID, "fleet settings too long");
	int rc = write_file(state_dir, "fleet.secret", fc->secret);
	return rc ? rc : write_file(state_dir, "fleet.conf", text);
}

int rc_fleet_conf_read(const char *state_dir, rc_fleet_conf *fc)
{
	char text[2048], *line, *save = NULL;
	int rc;

	memset(fc, 0, sizeof(*fc));
	if ((rc = read_file(state_dir, "fleet.conf", text, sizeof(text))) != 0)
		return rc;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "uris=", 5))
			snprintf(fc->uris, sizeof(fc->uris), "%s", line + 5);
		else if (!strncmp(line, "suffix=", 7))
			snprintf(fc->suffix, sizeof(fc->suffix), "%s", line + 7);
		else if (!strncmp(line, "host=", 5))
			snprintf(fc->host, sizeof(fc->host), "%s", line + 5);
	}
	if (!fc->uris[0] || !fc->suffix[0] || !fc->host[0])
		return rc_fail(RC_ERR_CONFIG, "%s/fleet.conf lacks uris=, suffix= or host=", state_dir);
	rc = read_file(state_dir, "fleet.secret", fc->secret, sizeof(fc->secret));
	if (!rc)
		fc->secret[strcspn(fc->secret, "\r\n")] = '\0';
	return rc;
}

void rc_fleet_conf_wipe(rc_fleet_conf *fc)
{
	sodium_memzero(fc, sizeof(*fc));
}

/* ---- LDAP ------------------------------------------------------------------ */

int rc_fleet_uris_check(const char *uris)
{
	if (!uris[0] || strlen(uris) > 1000)
		return rc_fail(RC_ERR_INVALID, "give the providers as URI[,URI...]");
	char copy[1024], *save = NULL;
	snprintf(copy, sizeof(copy), "%s", uris);
	for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		if (strncmp(u, "ldap://", 7) && strncmp(u, "ldaps://", 8) && strncmp(u, "ldapi://", 8))
			return rc_fail(RC_ERR_INVALID, "\"%.60s\" is not an ldap://, ldaps:// or ldapi:// URI",
			               u);
		LDAPURLDesc *d = NULL;
		if (ldap_url_parse(u, &d) != LDAP_SUCCESS)
			return rc_fail(RC_ERR_INVALID, "\"%.60s\" is not a valid LDAP URI", u);
		ldap_free_urldesc(d);
	}
	return RC_OK;
}

/* URI names this host (loopback): its traffic never leaves it */
static bool uri_is_local(const char *uri)
{
	LDAPURLDesc *d = NULL;
	bool local = false;

	if (ldap_url_parse(uri, &d) != LDAP_SUCCESS)
		return false;
	if (d->lud_host && (!strcmp(d->lud_host, "localhost") || !strncmp(d->lud_host, "127.", 4) ||
	                    !strcmp(d->lud_host, "::1")))
		local = true;
	ldap_free_urldesc(d);
	return local;
}

int rc_fleet_bind(const char *uri, const char *dn, const char *secret, int timeout_s, LDAP **out)
{
	LDAP *ld = NULL;
	int v = 3, rc, idle = 10, probes = 3, intv = 5;
	struct timeval nt = { timeout_s, 0 };
	struct berval cred = { strlen(secret), (char *)(uintptr_t)secret };

	*out = NULL;
	rc_slow_work("connecting to the directory");
	if ((rc = ldap_initialize(&ld, uri)) != LDAP_SUCCESS)
		return rc;
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v);
	ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &nt);
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &nt);
	ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_IDLE, &idle);
	ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_PROBES, &probes);
	ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_INTERVAL, &intv);
	/* a secret never crosses a network in clear: ldap:// to another host
	 * must StartTLS first (ldaps:// is TLS, ldapi:// and loopback stay
	 * on this host) */
	if (!strncmp(uri, "ldap://", 7) && !uri_is_local(uri)) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			ldap_unbind_ext_s(ld, NULL, NULL);
			/* (unreachable stays unreachable: exit 4) */
			return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT
			               ? rc : LDAP_CONFIDENTIALITY_REQUIRED;
		}
	}
	rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		ldap_unbind_ext_s(ld, NULL, NULL);
		return rc;
	}
	*out = ld;
	return LDAP_SUCCESS;
}

int rc_fleet_bind_any(const char *uris, const char *dn, const char *secret, LDAP **out,
                      char *used, size_t usedlen)
{
	char copy[1024], *save = NULL;
	int rc = LDAP_SERVER_DOWN;

	snprintf(copy, sizeof(copy), "%s", uris);
	for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		rc = rc_fleet_bind(u, dn, secret, 3, out);
		if (rc == LDAP_SUCCESS) {
			if (used)
				snprintf(used, usedlen, "%s", u);
			return rc;
		}
		if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH)
			return rc;   /* the same directory answers the same */
	}
	return rc;
}
