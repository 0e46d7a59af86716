/*
 * totpcas.c - rollcalld's side of a TOTP step claimed across the fleet
 * (lib/totpclaim.h): a root-only SOCK_SEQPACKET socket in the state
 * directory where a login, once this host accepted a code, asks whether
 * its step is still free in the fleet; the answer is one compare-and-swap
 * on the member's entry cn=UID,ou=totp,SUFFIX in the directory: replace
 * rcTotpStep with the step, asserting (RFC 4528) that the stored step is
 * lower.  slapd evaluates the assertion and writes under the entry's lock,
 * so of two hosts claiming one step at once exactly one wins.  A separate
 * connection, bound as the host, kept open; one-second limits, so that a
 * dead provider costs a login a second at most (it then counts as
 * offline: single use on this host).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>
#include <ldap.h>
#include "fleetldap.h"
#include "totpcas.h"
#include "totpclaim.h"

static LDAP *cas_ld;
static void (*cas_log)(int prio, const char *fmt, ...);

int totpcas_listen(const char *state_dir, void (*log)(int, const char *, ...))
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	cas_log = log;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", state_dir,
	                     RC_TOTP_CLAIM_SOCKET) >= sizeof(sa.sun_path))
		return -1;
	(void)unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* root's and no one else's from the start (the umask), then checked */
	mode_t old = umask(077);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The connection the claims use: bound as the host to the first provider
 * that answers within a second. */
static int cas_connect(const rc_fleet_conf *fc)
{
	char dn[384], copy[1024], *save = NULL;
	struct timeval one = { 1, 0 };
	int rc = LDAP_SERVER_DOWN;

	snprintf(dn, sizeof(dn), "cn=%s,ou=hosts,%s", fc->host, fc->suffix);
	snprintf(copy, sizeof(copy), "%s", fc->uris);
	for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		rc = rc_fleet_bind(u, dn, fc->secret, 1, &cas_ld);
		if (rc == LDAP_SUCCESS) {
			ldap_set_option(cas_ld, LDAP_OPT_TIMEOUT, &one);
			return rc;
		}
	}
	cas_ld = NULL;
	return rc;
}

static void cas_drop(void)
{
	if (cas_ld)
		ldap_unbind_ext_s(cas_ld, NULL, NULL);
	cas_ld = NULL;
}

/* Replace rcTotpStep of DN with STEP, asserting the stored one is lower;
 * an LDAP result code. */
static int cas_modify(const char *dn, int64_t step)
{
	char filter[64], val[24], a_step[] = "rcTotpStep";
	char *vals[] = { val, NULL };
	LDAPMod mod = { LDAP_MOD_REPLACE, a_step, { .modv_strvals = vals } };
	LDAPMod *mods[] = { &mod, NULL };
	LDAPControl *as = NULL;
	int rc;

	snprintf(val, sizeof(val), "%lld", (long long)step);
	snprintf(filter, sizeof(filter), "(!(rcTotpStep>=%lld))", (long long)step);
	if ((rc = ldap_create_assertion_control(cas_ld, filter, 1, &as)) != LDAP_SUCCESS)
		return rc;
	LDAPControl *ctrls[] = { as, NULL };
	rc = ldap_modify_ext_s(cas_ld, dn, mods, ctrls, NULL);
	ldap_control_free(as);
	return rc;
}

/* The member's first claim: its entry made with STEP. */
static int cas_add(const char *dn, uint32_t uid, int64_t step)
{
	char cn[16], val[24], c_state[] = "rcTotpState", a_oc[] = "objectClass", a_cn[] = "cn",
	     a_step[] = "rcTotpStep";
	char *oc[] = { c_state, NULL }, *cns[] = { cn, NULL }, *vals[] = { val, NULL };
	LDAPMod m_oc = { LDAP_MOD_ADD, a_oc, { .modv_strvals = oc } };
	LDAPMod m_cn = { LDAP_MOD_ADD, a_cn, { .modv_strvals = cns } };
	LDAPMod m_st = { LDAP_MOD_ADD, a_step, { .modv_strvals = vals } };
	LDAPMod *mods[] = { &m_oc, &m_cn, &m_st, NULL };

	snprintf(cn, sizeof(cn), "%u", (unsigned)uid);
	snprintf(val, sizeof(val), "%lld", (long long)step);
	return ldap_add_ext_s(cas_ld, dn, mods, NULL, NULL);
}

/* One claim: the outcome (RC_CLAIM_*). */
static int cas_claim(const rc_fleet_conf *fc, uint32_t uid, int64_t step)
{
	char dn[384];
	int rc = LDAP_SERVER_DOWN;

	snprintf(dn, sizeof(dn), "cn=%u,ou=totp,%s", (unsigned)uid, fc->suffix);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!cas_ld && cas_connect(fc) != LDAP_SUCCESS)
			return RC_CLAIM_OFFLINE;
		rc = cas_modify(dn, step);
		if (rc == LDAP_NO_SUCH_OBJECT) {
			rc = cas_add(dn, uid, step);
			if (rc == LDAP_ALREADY_EXISTS)   /* another host's first claim */
				rc = cas_modify(dn, step);
		}
		if (rc == LDAP_SUCCESS)
			return RC_CLAIM_WON;
		if (rc == LDAP_ASSERTION_FAILED)
			return RC_CLAIM_LOST;
		if (rc != LDAP_SERVER_DOWN && rc != LDAP_TIMEOUT && rc != LDAP_CONNECT_ERROR)
			break;
		cas_drop();   /* the connection died: once more on a new one */
	}
	cas_log(LOG_WARNING, "a TOTP step could not be claimed in the directory (%s): the "
	        "login counts it on this host only", ldap_err2string(rc));
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT)
		cas_drop();
	return RC_CLAIM_OFFLINE;
}

void totpcas_serve(int lfd, const rc_fleet_conf *fc)
{
	struct timeval limit = { 0, 200000 };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	rc_totp_claim_req req;
	rc_totp_claim_rep rep = { RC_TOTP_CLAIM_MAGIC, RC_CLAIM_OFFLINE };
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* root only (the socket is 0600 too); a request within 0.2 s */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) < 0 ||
	    recv(fd, &req, sizeof(req), 0) != (ssize_t)sizeof(req) ||
	    req.magic != RC_TOTP_CLAIM_MAGIC || req.step <= 0) {
		close(fd);
		return;
	}
	rep.outcome = cas_claim(fc, req.uid, req.step);
	(void)send(fd, &rep, sizeof(rep), MSG_NOSIGNAL);
	close(fd);
}

void totpcas_close(int lfd, const char *state_dir)
{
	char p[4096];

	cas_drop();
	if (lfd >= 0) {
		close(lfd);
		snprintf(p, sizeof(p), "%s/%s", state_dir, RC_TOTP_CLAIM_SOCKET);
		(void)unlink(p);
	}
}
