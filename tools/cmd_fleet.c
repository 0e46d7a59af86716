/*
 * cmd_fleet.c - "rollcall fleet ...": one membership on many hosts through
 * OpenLDAP (rollcall(8), Fleet).  Root only, every action: the tool is
 * setuid, and these write files where they are told and talk to the
 * network.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "opts.h"
#include "fleetldap.h"

#ifndef RC_FLEET_SCHEMA
#define RC_FLEET_SCHEMA "/usr/share/rollcall/rollcall.ldif"
#endif

enum { O_SUFFIX = 1000, O_OUT, O_DBDIR, O_SCHEMA, O_RUNDIR, O_URI, O_HOST, O_STDIN, O_ADMIN,
       O_SERVERID, O_PEER, O_PEERSECRET, O_LOGDIR, O_REPLICATOR };

/* libldap's structures take char * for what it never writes */
static char *W(const char *s)
{
	return (char *)(uintptr_t)s;
}

static int root_only(const struct cli *c, const char *what)
{
	if (c->actor.uid != 0)
		return cli_error(EX_PERM, "only root can run \"rollcall fleet %s\"", what);
	return EX_DONE;
}

/* The directory said no: its reason, and the exit status it means. */
static int ldap_fail(const char *what, int lrc)
{
	int st = (lrc == LDAP_SERVER_DOWN || lrc == LDAP_CONNECT_ERROR || lrc == LDAP_TIMEOUT)
	                 ? EX_STORE
	         : (lrc == LDAP_INSUFFICIENT_ACCESS || lrc == LDAP_INVALID_CREDENTIALS ||
	            lrc == LDAP_STRONG_AUTH_REQUIRED)
	                 ? EX_PERM
	                 : EX_REFUSED;
	return cli_error(st, "%s: %s%s", what, ldap_err2string(lrc),
	                 st == EX_STORE ? " (the directory cannot be reached)" : "");
}

static FILE *open_out(const char *path, int *fd_out)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	*fd_out = fd;
	return fd < 0 ? NULL : fdopen(fd, "w");
}

static int close_out(FILE *f, const char *path)
{
	bool bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad)
		return cli_error(EX_STORE, "cannot write %s: %s", path, strerror(errno));
	return EX_DONE;
}

/* ---- provider-config -------------------------------------------------------- */

/* the pair's options checked, its secret read into SECRET (wiped on failure) */
static int provider_pair_load(const char *sid, const char *secret_file, rc_fleet_pair *pair,
                              char *secret, size_t secret_len)
{
	char *end = NULL;
	int rc;

	errno = 0;
	unsigned long v = strtoul(sid, &end, 10);
	if (errno || !end || *end || sid[0] < '1' || sid[0] > '9' || v > 4095)
		return cli_error(EX_USAGE, "--server-id %.20s: a number from 1 to 4095", sid);
	pair->server_id = (unsigned)v;
	if ((rc = rc_fleet_pair_secret_read(secret_file, secret, secret_len)) != 0)
		return cli_fail(rc);
	pair->secret = secret;
	if ((rc = rc_fleet_pair_check(pair)) != 0) {
		sodium_memzero(secret, secret_len);
		return cli_fail(rc);
	}
	return EX_DONE;
}

/* OUT/config.ldif written (PATH); removed again when the writing fails */
static int provider_config_write(const char *out, char *path, size_t path_len,
                                 const char *suffix, const char *dbdir, const char *schema,
                                 const char *rundir, const rc_fleet_pair *pair)
{
	struct stat st;
	int rc, fd;

	if (stat(schema, &st) != 0 || !S_ISREG(st.st_mode))
		return cli_error(EX_USAGE, "the schema %s is not a file (--schema FILE)", schema);
	if (mkdir(out, 0700) < 0 && errno != EEXIST)
		return cli_error(EX_STORE, "cannot create %s: %s", out, strerror(errno));
	if (snprintf(path, path_len, "%s/config.ldif", out) >= (int)path_len)
		return cli_usage("--out: path too long");
	FILE *f = open_out(path, &fd);
	if (!f)
		return cli_error(EX_STORE, "cannot create %s: %s", path, strerror(errno));
	/* (the pair's file holds the replicator's secret: 0600, as always) */
	rc = pair ? rc_fleet_pair_config(f, suffix, dbdir, schema, rundir, pair)
	          : rc_fleet_provider_config(f, suffix, dbdir, schema, rundir);
	int st2 = close_out(f, path);
	if (rc) {
		unlink(path);
		return cli_fail(rc);
	}
	return st2;
}

static void provider_config_print(const char *path, const char *dbdir, bool paired,
                                  const char *log_dir)
{
	if (paired && !log_dir)
		printf("Wrote %s.  Load it into an empty configuration directory:\n"
		       "    mkdir -p %s/accesslog && slapadd -n0 -F SLAPD_D -l %s\n", path, dbdir, path);
	else if (paired)
		printf("Wrote %s.  Load it into an empty configuration directory:\n"
		       "    mkdir -p %s %s && slapadd -n0 -F SLAPD_D -l %s\n", path, dbdir, log_dir,
		       path);
	else
		printf("Wrote %s.  Load it into an empty configuration directory:\n"
		       "    mkdir -p %s && slapadd -n0 -F SLAPD_D -l %s\n", path, dbdir, path);
}

static int fleet_provider_config(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "suffix", required_argument, NULL, O_SUFFIX }, { "out", required_argument, NULL, O_OUT },
		{ "db-dir", required_argument, NULL, O_DBDIR },
		{ "schema", required_argument, NULL, O_SCHEMA },
		{ "run-dir", required_argument, NULL, O_RUNDIR },
		{ "server-id", required_argument, NULL, O_SERVERID },
		{ "peer", required_argument, NULL, O_PEER },
		{ "peer-secret-file", required_argument, NULL, O_PEERSECRET },
		{ "log-dir", required_argument, NULL, O_LOGDIR },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *suffix = NULL, *out = NULL, *dbdir = "/var/lib/ldap/rollcall",
	           *schema = RC_FLEET_SCHEMA, *rundir = NULL, *sid = NULL, *secret_file = NULL;
	char path[RC_PATH_MAX];
	int ch, rc;
	rc_fleet_pair pair = { 0 };

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case O_SUFFIX: suffix = optarg; break;
		case O_OUT: out = optarg; break;
		case O_DBDIR: dbdir = optarg; break;
		case O_SCHEMA: schema = optarg; break;
		case O_RUNDIR: rundir = optarg; break;
		case O_SERVERID: sid = optarg; break;
		case O_PEER: pair.peer = optarg; break;
		case O_PEERSECRET: secret_file = optarg; break;
		case O_LOGDIR: pair.log_dir = optarg; break;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 0, 0, "fleet provider-config --suffix DN --out DIR")))
		return rc;
	if (!suffix || !out)
		return cli_usage("fleet provider-config needs --suffix DN and --out DIR");
	/* a pair: all three, or none */
	bool paired = sid || pair.peer || secret_file || pair.log_dir;
	if (paired && !(sid && pair.peer && secret_file))
		return cli_usage("a provider pair needs --server-id N, --peer URI and --peer-secret-file "
		                 "FILE together");
	if ((rc = root_only(c, "provider-config")))
		return rc;
	if ((rc = rc_fleet_suffix_check(suffix)) != 0)
		return cli_fail(rc);
	char secret[RC_FLEET_PAIR_SECRET_MAX + 2] = "";
	if (paired && (rc = provider_pair_load(sid, secret_file, &pair, secret, sizeof(secret))))
		return rc;
	rc = provider_config_write(out, path, sizeof(path), suffix, dbdir, schema, rundir,
	                           paired ? &pair : NULL);
	sodium_memzero(secret, sizeof(secret));
	if (rc)
		return rc;
	if (!c->json)
		provider_config_print(path, dbdir, paired, pair.log_dir);
	return EX_DONE;
}

/* ---- provider-init ---------------------------------------------------------- */

/* the administrator's password: read from stdin, or made here (*GENERATED) */
static int provider_admin_secret(bool from_stdin, char *secret, size_t len, bool *generated)
{
	int rc;

	if (!from_stdin) {
		rc_fleet_secret_new(secret);
		*generated = true;
		return EX_DONE;
	}
	if ((rc = cli_read_secret(true, "administrator password", "", false, false, secret, len)) != 0)
		return rc;
	if (strlen(secret) < 16) {
		sodium_memzero(secret, len);
		return cli_error(EX_REFUSED, "the administrator password needs 16 characters at least");
	}
	return EX_DONE;
}

/* OUT written from the hashes (RHASH: the replicator's, or NULL); removed on failure */
static int provider_init_write(const char *out, const char *suffix, const char *hash,
                               const char *rhash)
{
	int rc, fd;

	FILE *f = open_out(out, &fd);
	if (!f)
		return cli_error(EX_STORE, "cannot create %s: %s", out, strerror(errno));
	rc = rc_fleet_provider_init(f, suffix, hash);
	if (!rc && rhash)
		rc = rc_fleet_replicator_entry(f, suffix, rhash);
	int st = close_out(f, out);
	if (rc || st) {
		unlink(out);
		return rc ? cli_fail(rc) : st;
	}
	return EX_DONE;
}

/* the secrets shown once (SECRET when GENERATED, RSECRET when non-NULL) */
static void provider_init_print(bool json, const char *out, const char *suffix,
                                const char *secret, const char *rsecret)
{
	if (json) {
		struct record *r = record_new();
		char adn[300];
		snprintf(adn, sizeof(adn), "cn=admin,%s", suffix);
		record_str(r, "ldif", out);
		record_str(r, "admin_dn", adn);
		if (secret)
			record_str(r, "admin_password", secret);
		if (rsecret) {
			char rdn[300];
			snprintf(rdn, sizeof(rdn), "cn=replicator,%s", suffix);
			record_str(record_str(r, "replicator_dn", rdn), "replicator_secret", rsecret);
		}
		record_print(r, true);
		record_free(r);
		return;
	}
	printf("Wrote %s: load it with  slapadd -n1 -F SLAPD_D -l %s\n"
	       "The fleet's administrator is cn=admin,%s.\n", out, out, suffix);
	if (secret)
		printf("Its password (shown once; keep it where only administrators read it):\n\n"
		       "    %s\n\n", secret);
	if (rsecret)
		printf("The provider pair's replicator is cn=replicator,%s.  Its secret (shown once;\n"
		       "put it in a file only root reads, on both providers, for provider-config\n"
		       "--peer-secret-file):\n\n    %s\n\n", suffix, rsecret);
}

static int fleet_provider_init(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "suffix", required_argument, NULL, O_SUFFIX }, { "out", required_argument, NULL, O_OUT },
		{ "admin-password-stdin", no_argument, NULL, O_STDIN },
		{ "replicator", no_argument, NULL, O_REPLICATOR },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *suffix = NULL, *out = NULL;
	bool from_stdin = false, generated = false, replicator = false;
	char secret[256], hash[256], rsecret[RC_FLEET_SECRET_LEN + 1] = "", rhash[256] = "";
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case O_SUFFIX: suffix = optarg; break;
		case O_OUT: out = optarg; break;
		case O_STDIN: from_stdin = true; break;
		case O_REPLICATOR: replicator = true; break;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 0, 0, "fleet provider-init --suffix DN --out FILE")))
		return rc;
	if (!suffix || !out)
		return cli_usage("fleet provider-init needs --suffix DN and --out FILE");
	if ((rc = root_only(c, "provider-init")))
		return rc;
	if ((rc = rc_fleet_suffix_check(suffix)) != 0)
		return cli_fail(rc);
	if ((rc = provider_admin_secret(from_stdin, secret, sizeof(secret), &generated)) != 0)
		return rc;
	rc = rc_fleet_secret_hash(secret, hash, sizeof(hash));
	/* a provider pair's replication identity (--replicator): its secret
	 * made here, shown once like the administrator's */
	if (!rc && replicator) {
		rc_fleet_secret_new(rsecret);
		rc = rc_fleet_secret_hash(rsecret, rhash, sizeof(rhash));
	}
	if (rc)
		rc = cli_fail(rc);
	else
		rc = provider_init_write(out, suffix, hash, replicator ? rhash : NULL);
	if (!rc)
		provider_init_print(c->json, out, suffix, generated ? secret : NULL,
		                    replicator ? rsecret : NULL);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(rsecret, sizeof(rsecret));
	return rc;
}

/* ---- export ------------------------------------------------------------------ */

static int fleet_export(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "suffix", required_argument, NULL, O_SUFFIX }, { "out", required_argument, NULL, O_OUT },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *suffix = NULL, *out = NULL;
	int ch, rc, fd;
	size_t n = 0;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case O_SUFFIX: suffix = optarg; break;
		case O_OUT: out = optarg; break;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 0, 0, "fleet export --suffix DN --out FILE")))
		return rc;
	if (!suffix || !out)
		return cli_usage("fleet export needs --suffix DN and --out FILE");
	if ((rc = root_only(c, "export")))
		return rc;
	if ((rc = rc_fleet_suffix_check(suffix)) != 0)
		return cli_fail(rc);
	if ((rc = cli_open(c)))
		return rc;
	if ((rc = rc_store_open(&c->s, &c->cfg, RC_OPEN_READONLY)) != 0)
		return cli_fail(rc);
	FILE *f = open_out(out, &fd);
	if (!f)
		return cli_error(EX_STORE, "cannot create %s: %s", out, strerror(errno));
	rc = rc_fleet_export(f, c->s, suffix, &n);
	int st = close_out(f, out);
	if (rc || st) {
		unlink(out);
		return rc ? cli_fail(rc) : st;
	}
	if (c->json)
		record_emit(record_int(record_str(record_new(), "ldif", out), "records", (long long)n));
	else
		printf("Wrote %zu records and the master key to %s (0600: it holds the store's "
		       "secrets).\nLoad it with  slapadd -n1 -F SLAPD_D -l %s  or ldapadd as the "
		       "fleet's administrator.\n", n, out, out);
	return EX_DONE;
}

/* ---- host-add ----------------------------------------------------------------- */

static int admin_bind(const char *uris, const char *suffix, bool from_stdin, LDAP **ld)
{
	char pw[256], dn[320];
	int rc = cli_read_secret(from_stdin, "administrator password",
	                         "The fleet administrator's password: ", false, false, pw, sizeof(pw));
	if (rc < 0)
		return cli_usage("no terminal to ask the administrator's password: use "
		                 "--admin-password-stdin");
	if (rc)
		return rc;
	snprintf(dn, sizeof(dn), "cn=admin,%s", suffix);
	rc = rc_fleet_bind_any(uris, dn, pw, ld, NULL, 0);
	sodium_memzero(pw, sizeof(pw));
	return rc == LDAP_SUCCESS ? EX_DONE : ldap_fail("cannot bind as the fleet's administrator", rc);
}

/* the host (its secret's HASH) and its own state container: an LDAP result */
static int host_entries_add(LDAP *ld, const char *name, const char *suffix, char *hash)
{
	char dn[384];
	char *oc1[] = { W("rcHost"), NULL }, *cn[] = { W(name), NULL },
	     *pw[] = { hash, NULL }, *oc2[] = { W("rcHostStateEntry"), NULL };
	LDAPMod m_oc = { LDAP_MOD_ADD, W("objectClass"), { oc1 } },
	        m_cn = { LDAP_MOD_ADD, W("cn"), { cn } },
	        m_pw = { LDAP_MOD_ADD, W("userPassword"), { pw } },
	        m_oc2 = { LDAP_MOD_ADD, W("objectClass"), { oc2 } };
	LDAPMod *host[] = { &m_oc, &m_cn, &m_pw, NULL }, *state[] = { &m_oc2, &m_cn, NULL };

	snprintf(dn, sizeof(dn), "cn=%s,ou=hosts,%s", name, suffix);
	int lrc = ldap_add_ext_s(ld, dn, host, NULL, NULL);
	if (lrc == LDAP_SUCCESS) {
		snprintf(dn, sizeof(dn), "cn=%s,ou=state,%s", name, suffix);
		lrc = ldap_add_ext_s(ld, dn, state, NULL, NULL);
		if (lrc == LDAP_ALREADY_EXISTS)
			lrc = LDAP_SUCCESS;
	}
	return lrc;
}

static int fleet_host_add(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "suffix", required_argument, NULL, O_SUFFIX }, { "uri", required_argument, NULL, O_URI },
		{ "admin-password-stdin", no_argument, NULL, O_STDIN },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *suffix = NULL, *uris = NULL;
	bool from_stdin = false;
	char secret[RC_FLEET_SECRET_LEN + 1], hash[256];
	LDAP *ld = NULL;
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case O_SUFFIX: suffix = optarg; break;
		case O_URI: uris = optarg; break;
		case O_STDIN: from_stdin = true; break;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 1, 1, "fleet host-add NAME --uri URI --suffix DN")))
		return rc;
	const char *name = argv[optind];
	if (!suffix || !uris)
		return cli_usage("fleet host-add needs --uri URI[,URI] and --suffix DN");
	if ((rc = root_only(c, "host-add")))
		return rc;
	if ((rc = rc_fleet_host_check(name)) || (rc = rc_fleet_suffix_check(suffix)) ||
	    (rc = rc_fleet_uris_check(uris)))
		return cli_fail(rc);
	if ((rc = admin_bind(uris, suffix, from_stdin, &ld)))
		return rc;
	rc_fleet_secret_new(secret);
	if ((rc = rc_fleet_secret_hash(secret, hash, sizeof(hash))) != 0) {
		ldap_unbind_ext_s(ld, NULL, NULL);
		sodium_memzero(secret, sizeof(secret));
		return cli_fail(rc);
	}
	int lrc = host_entries_add(ld, name, suffix, hash);
	ldap_unbind_ext_s(ld, NULL, NULL);
	sodium_memzero(hash, sizeof(hash));
	if (lrc != LDAP_SUCCESS) {
		sodium_memzero(secret, sizeof(secret));
		if (lrc == LDAP_ALREADY_EXISTS)
			return cli_error(EX_REFUSED, "host %s is already in the fleet", name);
		return ldap_fail("cannot add the host", lrc);
	}
	if (c->json)
		record_emit(record_str(record_str(record_new(), "host", name), "secret", secret));
	else
		printf("Host %s added.  Its secret (shown once; give it to \"rollcall fleet join\" "
		       "on the host):\n\n    %s\n\n", name, secret);
	sodium_memzero(secret, sizeof(secret));
	return EX_DONE;
}

/* ---- join --------------------------------------------------------------------- */

static int read_master_key(LDAP *ld, const char *suffix, uint8_t key[32])
{
	char dn[320];
	char *attrs[] = { W("rcMasterKey"), NULL };
	LDAPMessage *res = NULL;
	int lrc;

	snprintf(dn, sizeof(dn), "cn=fleet,%s", suffix);
	lrc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=rcFleet)", attrs, 0, NULL,
	                        NULL, NULL, 1, &res);
	if (lrc != LDAP_SUCCESS) {
		ldap_msgfree(res);
		return lrc == LDAP_NO_SUCH_OBJECT
		               ? cli_error(EX_REFUSED, "the directory has no fleet key (cn=fleet,%s): "
		                           "load a host's \"rollcall fleet export\" first", suffix)
		               : ldap_fail("cannot read the fleet key", lrc);
	}
	LDAPMessage *e = ldap_first_entry(ld, res);
	struct berval **v = e ? ldap_get_values_len(ld, e, "rcMasterKey") : NULL;
	int st = EX_DONE;
	if (!v || !v[0] || v[0]->bv_len != 32)
		st = cli_error(EX_PERM, "the fleet key cannot be read with this host's credential");
	else
		memcpy(key, v[0]->bv_val, 32);
	if (v) {
		for (int i = 0; v[i]; i++)
			sodium_memzero(v[i]->bv_val, v[i]->bv_len);
		ldap_value_free_len(v);
	}
	ldap_msgfree(res);
	return st;
}

static int write_key(const char *state_dir, const uint8_t key[32])
{
	char path[RC_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/master.key", state_dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cli_error(EX_STORE, "cannot create %s: %s", path, strerror(errno));
	bool ok = fchown(fd, 0, 0) == 0 && write(fd, key, 32) == 32 && fsync(fd) == 0;
	int err = errno;
	close(fd);
	if (!ok) {
		unlink(path);
		return cli_error(EX_STORE, "cannot write %s: %s", path, strerror(err));
	}
	return EX_DONE;
}

/* refused when STATE_DIR already holds a store: a host joins with an empty one */
static int join_dir_check(const char *state_dir)
{
	char path[RC_PATH_MAX + 32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/store", state_dir);
	if (lstat(path, &st) == 0)
		return cli_error(EX_REFUSED, "%s already holds a store: a host joins with an empty "
		                 "state directory (move an existing host in with \"rollcall fleet "
		                 "export\" on it); nothing was changed", state_dir);
	return EX_DONE;
}

/* the fleet's master key, read bound as the host (USED: the provider that answered) */
static int join_key_fetch(const char *uris, const char *host, const char *suffix,
                          const char *secret, uint8_t key[32], char *used, size_t used_len)
{
	char dn[384];
	LDAP *ld = NULL;

	snprintf(dn, sizeof(dn), "cn=%s,ou=hosts,%s", host, suffix);
	int lrc = rc_fleet_bind_any(uris, dn, secret, &ld, used, used_len);
	if (lrc != LDAP_SUCCESS)
		return ldap_fail("cannot bind as the host", lrc);
	int rc = read_master_key(ld, suffix, key);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return rc;
}

/* the store, made with the fleet's key and emptied: rollcalld fills it */
static int join_store_make(struct cli *c, const uint8_t key[32], const rc_fleet_conf *fc)
{
	char path[RC_PATH_MAX + 32];
	struct stat st;
	int rc;

	/* (0755: the NSS snapshot in it is for every user to read) */
	if ((mkdir(c->cfg.state_dir, 0755) < 0 && errno != EEXIST) ||
	    chmod(c->cfg.state_dir, 0755) < 0)
		return cli_error(EX_STORE, "cannot create %s: %s", c->cfg.state_dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/master.key", c->cfg.state_dir);
	if (lstat(path, &st) == 0)
		return cli_error(EX_REFUSED, "%s exists without a store: remove it, or join with an "
		                 "empty state directory", path);
	if ((rc = write_key(c->cfg.state_dir, key)) != 0)
		return rc;
	int lr = rc_store_create_replica(&c->cfg);
	if (lr)
		unlink(path);   /* the key it wrote: join can run again */
	if (!lr)
		lr = rc_store_open(&c->s, &c->cfg, 0);
	if (!lr)
		lr = rc_replica_reset(c->s);
	if (!lr)
		lr = rc_fleet_conf_write(c->cfg.state_dir, fc);
	return lr ? cli_fail(lr) : EX_DONE;
}

static int fleet_join(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "suffix", required_argument, NULL, O_SUFFIX }, { "host", required_argument, NULL, O_HOST },
		{ "secret-stdin", no_argument, NULL, O_STDIN },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *suffix = NULL, *host = NULL;
	bool from_stdin = false;
	rc_fleet_conf fc;
	char used[256];
	uint8_t key[32];
	int ch, rc;

	OPT_START();
	while ((ch = opt_next(argc, argv, lo)) != -1) {
		switch (ch) {
		case O_SUFFIX: suffix = optarg; break;
		case O_HOST: host = optarg; break;
		case O_STDIN: from_stdin = true; break;
		default: return EX_USAGE;
		}
	}
	if ((rc = want_args(argc - optind, 1, 1, "fleet join URI[,URI] --host NAME --suffix DN")))
		return rc;
	const char *uris = argv[optind];
	if (!host || !suffix)
		return cli_usage("fleet join needs --host NAME and --suffix DN");
	if ((rc = root_only(c, "join")))
		return rc;
	if ((rc = rc_fleet_uris_check(uris)) || (rc = rc_fleet_host_check(host)) ||
	    (rc = rc_fleet_suffix_check(suffix)))
		return cli_fail(rc);
	if ((rc = cli_open(c)))
		return rc;
	if ((rc = join_dir_check(c->cfg.state_dir)))
		return rc;
	memset(&fc, 0, sizeof(fc));
	rc = cli_read_secret(from_stdin, "host secret", "The host's secret (from fleet host-add): ",
	                     false, false, fc.secret, sizeof(fc.secret));
	if (rc < 0)
		return cli_usage("no terminal to ask the host's secret: use --secret-stdin");
	if (rc)
		return rc;
	snprintf(fc.uris, sizeof(fc.uris), "%s", uris);
	snprintf(fc.suffix, sizeof(fc.suffix), "%s", suffix);
	snprintf(fc.host, sizeof(fc.host), "%s", host);
	rc = join_key_fetch(uris, host, suffix, fc.secret, key, used, sizeof(used));
	if (!rc)
		rc = join_store_make(c, key, &fc);
	sodium_memzero(key, sizeof(key));
	rc_fleet_conf_wipe(&fc);
	if (rc)
		return rc;
	if (c->json)
		record_emit(record_str(record_str(record_new(), "host", host), "provider", used));
	else
		printf("Joined the fleet %s as %s (through %s).  Start rollcalld to fill the "
		       "store:\n    systemctl enable --now rollcalld\n", suffix, host, used);
	return EX_DONE;
}

/* ---- status ------------------------------------------------------------------- */

/* refused unless STATE_DIR holds a fleet.conf */
static int fleet_member_check(const char *state_dir)
{
	char p[RC_PATH_MAX + 32];
	struct stat st;

	snprintf(p, sizeof(p), "%s/fleet.conf", state_dir);
	if (lstat(p, &st) != 0)
		return cli_error(EX_REFUSED, "this host is not in a fleet (no %s: see "
		                 "\"rollcall fleet join\")", p);
	return EX_DONE;
}

/* rollcalld's own line: "connected URI SINCE" or "disconnected ..." ("" if none) */
static void rollcalld_line_read(const char *state_dir, char *conn, size_t len)
{
	char path[RC_PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/rollcalld.status", state_dir);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, conn, len - 1);
		close(fd);
		conn[n > 0 ? n : 0] = '\0';
		conn[strcspn(conn, "\n")] = '\0';
	}
}

static int fleet_status(struct cli *c, int argc, char **argv)
{
	rc_fleet_conf fc;
	rc_replica_status rs;
	char t1[64] = "never", t2[64] = "never", conn[512] = "";
	int rc = opt_plain(argc, argv);

	if (rc < 0)
		return -rc;
	if ((rc = want_args(argc - rc, 0, 0, "fleet status")))
		return rc;
	if ((rc = root_only(c, "status")))
		return rc;
	if ((rc = cli_open(c)))
		return rc;
	if ((rc = fleet_member_check(c->cfg.state_dir)))
		return rc;
	if ((rc = rc_fleet_conf_read(c->cfg.state_dir, &fc)) != 0)
		return cli_fail(rc);
	sodium_memzero(fc.secret, sizeof(fc.secret));
	if ((rc = rc_store_open(&c->s, &c->cfg, RC_OPEN_READONLY)) != 0 ||
	    (rc = rc_replica_status_get(c->s, &rs)) != 0)
		return cli_fail(rc);
	rollcalld_line_read(c->cfg.state_dir, conn, sizeof(conn));
	if (rs.applied)
		rc_time_format(rs.applied, t1, sizeof(t1));
	if (rs.synced)
		rc_time_format(rs.synced, t2, sizeof(t2));
	struct record *r = record_new();
	record_str(r, "host", fc.host);
	record_str(r, "providers", fc.uris);
	record_str(r, "suffix", fc.suffix);
	record_str(r, "rollcalld", conn[0] ? conn : "not running");
	record_bool(r, "cookie", rs.cookie[0] != 0);
	record_int(r, "entries", (long long)rs.entries);
	if (c->json) {
		record_int(r, "last_change_applied", rs.applied);
		record_int(r, "last_refresh", rs.synced);
	} else {
		record_str(r, "last_change_applied", t1);
		record_str(r, "last_refresh", t2);
	}
	record_print(r, c->json);
	record_free(r);
	return EX_DONE;
}

int cmd_fleet(struct cli *c, int argc, char **argv)
{
	static const struct action acts[] = {
		{ "provider-config", fleet_provider_config,
		  "provider-config --suffix DN --out DIR [--db-dir DIR] [--schema FILE] [--run-dir DIR]\n"
		  "                [--server-id N --peer URI --peer-secret-file FILE [--log-dir DIR]]",
		  "Write DIR/config.ldif, the provider's slapd configuration (back-mdb, syncprov,\n"
		  "indexes, limits, ACLs), for slapadd -n0.  With --server-id (1-4095, one per\n"
		  "provider), --peer (the other provider's URI) and --peer-secret-file (the\n"
		  "replicator's secret, root's file): one of a provider pair in mirror mode,\n"
		  "delta-syncrepl from the peer through an accesslog database (--log-dir, default\n"
		  "DBDIR/accesslog)" },
		{ "provider-init", fleet_provider_init,
		  "provider-init --suffix DN --out FILE [--admin-password-stdin] [--replicator]",
		  "Write the base entries and the fleet's administrator as LDIF, for slapadd -n1;\n"
		  "prints the administrator's password once (generated unless given on stdin).\n"
		  "--replicator: also a provider pair's cn=replicator, its secret printed once" },
		{ "export", fleet_export, "export --suffix DN --out FILE",
		  "Write this host's members, roles, invitations, services, service users,\n"
		  "tokens, settings and master key as LDIF the provider loads (moving in).  Root only" },
		{ "host-add", fleet_host_add,
		  "host-add NAME --uri URI[,URI] --suffix DN [--admin-password-stdin]",
		  "Enrol a host in the directory (as its administrator); prints the host's secret once" },
		{ "join", fleet_join, "join URI[,URI] --host NAME --suffix DN [--secret-stdin]",
		  "Join this host to the fleet: its secret (terminal or stdin) stored 0600 in the\n"
		  "state directory, an empty store made with the fleet's key.  Root only" },
		{ "status", fleet_status, "status",
		  "The host's fleet: providers, rollcalld's connection, the replica's entries,\n"
		  "the last change applied and the last refresh.  Root only" },
	};
	return run_action(c, "fleet", acts, sizeof(acts) / sizeof(acts[0]), argc, argv);
}
