/*
 * test_fleetpair.c - lib/fleetpair.c through its API: a pair's
 * configuration is the single provider's with lines added (none changed
 * or dropped), its replication settings first among the database's
 * limits and ACLs; bad pair settings refused; a host's sync cookie sent
 * without the provider's sid.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "rollcall.h"
#include "fleetldap.h"

#define SUFFIX "dc=fleet,dc=test"
#define SECRET "abcdefghijklmnopqrstuvwxyz234567"

static char *single_text(void)
{
	char *t = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&t, &n);
	assert_non_null(f);
	assert_int_equal(rc_fleet_provider_config(f, SUFFIX, "/x/db", "/x/rollcall.ldif", "/x/run"), RC_OK);
	fclose(f);
	return t;
}

static char *pair_text(const rc_fleet_pair *p, int *rc)
{
	char *t = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&t, &n);
	assert_non_null(f);
	*rc = rc_fleet_pair_config(f, SUFFIX, "/x/db", "/x/rollcall.ldif", "/x/run", p);
	fclose(f);
	return t;
}

static void pair_adds_lines_only(void **state)
{
	(void)state;
	rc_fleet_pair p = { .server_id = 2, .peer = "ldap://127.0.0.1:3891/", .secret = SECRET };
	int rc;
	char *single = single_text(), *pair = pair_text(&p, &rc);

	assert_int_equal(rc, RC_OK);
	/* every line of the single provider's, in its order */
	char *s = single, *q = pair;
	while (*s) {
		size_t n = strcspn(s, "\n") + 1;
		char *hit = NULL;
		for (char *at = q; *at;) {
			size_t m = strcspn(at, "\n");
			if (m + 1 == n && !strncmp(at, s, n)) {
				hit = at;
				break;
			}
			if (!at[m])
				break;
			at += m + 1;
		}
		if (!hit)
			fail_msg("the pair's text lacks or reorders: %.*s", (int)n - 1, s);
		q = hit + n;
		s += n;
	}
	assert_non_null(strstr(pair, "\ncn: config\nolcServerID: 2\n"));
	assert_non_null(strstr(pair, "olcModuleLoad: syncprov\nolcModuleLoad: accesslog\n"));
	assert_non_null(strstr(pair, "olcMultiProvider: TRUE\n"));
	assert_non_null(strstr(pair, " syncdata=accesslog "));
	assert_non_null(strstr(pair, "provider=ldap://127.0.0.1:3891/ "));
	assert_non_null(strstr(pair, "credentials=\"" SECRET "\""));
	assert_null(strstr(pair, "starttls=critical"));   /* loopback */
	/* the replicator's rule before any other of the database's */
	char *mdb = strstr(pair, "olcDatabase: {1}mdb\n");
	assert_non_null(mdb);
	char *mine = strstr(mdb, "olcAccess: {0}to * by dn.exact=\"cn=replicator," SUFFIX "\" read by * break\n");
	assert_non_null(mine);
	assert_ptr_equal(strstr(mdb, "olcAccess: "), mine);
	assert_ptr_equal(strstr(mdb, "olcLimits: "),
	                 strstr(mdb, "olcLimits: {0}dn.exact=\"cn=replicator," SUFFIX "\""));
	assert_non_null(strstr(pair, "dn: olcDatabase={2}mdb,cn=config\n"));
	assert_non_null(strstr(pair, "olcDbDirectory: /x/db/accesslog\n"));
	free(single);
	free(pair);

	/* another host's peer over ldap://: StartTLS */
	p.peer = "ldap://dir2.example.com/";
	p.log_dir = "/var/lib/ldap/log";
	pair = pair_text(&p, &rc);
	assert_int_equal(rc, RC_OK);
	assert_non_null(strstr(pair, " starttls=critical\n"));
	assert_non_null(strstr(pair, "olcDbDirectory: /var/lib/ldap/log\n"));
	free(pair);
}

static void pair_bad_settings(void **state)
{
	(void)state;
	rc_fleet_pair ok = { .server_id = 1, .peer = "ldap://127.0.0.1:3892/", .secret = SECRET };
	rc_fleet_pair p;

	assert_int_equal(rc_fleet_pair_check(&ok), RC_OK);
	p = ok; p.server_id = 0;
	assert_int_equal(rc_fleet_pair_check(&p), RC_ERR_INVALID);
	p = ok; p.server_id = 4096;
	assert_int_equal(rc_fleet_pair_check(&p), RC_ERR_INVALID);
	p = ok; p.peer = "ldap://a/,ldap://b/";
	assert_int_equal(rc_fleet_pair_check(&p), RC_ERR_INVALID);
	p = ok; p.peer = "http://a/";
	assert_int_equal(rc_fleet_pair_check(&p), RC_ERR_INVALID);
	p = ok; p.secret = "short";
	assert_int_equal(rc_fleet_pair_check(&p), RC_ERR_INVALID);
	p = ok; p.secret = "abcdefghijklmnop\" qrstuvwxyz";
	assert_int_equal(rc_fleet_pair_check(&p), RC_ERR_INVALID);
	p = ok; p.log_dir = "relative/log";
	assert_int_equal(rc_fleet_pair_check(&p), RC_ERR_INVALID);
	/* nothing written for bad settings */
	int rc;
	p = ok; p.server_id = 0;
	char *t = pair_text(&p, &rc);
	assert_int_equal(rc, RC_ERR_INVALID);
	assert_true(t == NULL || t[0] == '\0');
	free(t);
}

static void cookie_without_sid(void **state)
{
	(void)state;
	char out[128];

	assert_int_equal(rc_fleet_cookie_for_provider("rid=000,sid=001,csn=20261202163408.242745Z#000000#001#000000;"
	                                              "20261202163406.751471Z#000000#002#000000", out, sizeof(out)), RC_OK);
	assert_string_equal(out, "rid=000,csn=20261202163408.242745Z#000000#001#000000;"
	                         "20261202163406.751471Z#000000#002#000000");
	assert_int_equal(rc_fleet_cookie_for_provider("rid=000,csn=1#000000#000#000000", out, sizeof(out)), RC_OK);
	assert_string_equal(out, "rid=000,csn=1#000000#000#000000");
	assert_int_equal(rc_fleet_cookie_for_provider("sid=002,rid=000,csn=x", out, sizeof(out)), RC_OK);
	assert_string_equal(out, "rid=000,csn=x");
	/* in place, as rollcalld does */
	char c[64] = "rid=000,sid=003,csn=y";
	assert_int_equal(rc_fleet_cookie_for_provider(c, c, sizeof(c)), RC_OK);
	assert_string_equal(c, "rid=000,csn=y");
	assert_int_equal(rc_fleet_cookie_for_provider("rid=000,csn=abcdef", out, 8), RC_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pair_adds_lines_only),
		cmocka_unit_test(pair_bad_settings),
		cmocka_unit_test(cookie_without_sid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
