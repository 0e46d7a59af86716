/*
 * test_validate.c - parsing and validation: durations, numbers, user names,
 * emails, full names, role/service names, service-user names and passwords
 * at their boundaries, permissions and the configuration file.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>
#include "internal.h"

static void test_durations(void **state)
{
	(void)state;
	static const struct { const char *in; int64_t secs; } good[] = {
		{ "0", 0 }, { "30s", 30 }, { "15m", 900 }, { "24h", 86400 }, { "30d", 2592000 },
		{ "2w", 1209600 }, { "1d12h", 129600 }, { "1h30m15s", 5415 },
	};
	static const char *const bad[] = {
		"", "24", "h", "24x", "-1h", "1.5h", "24 h", " 24h", "24h ", "1hh", "99999999999s",
		"1000000d",
	};
	char buf[32];
	int64_t s;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(rc_duration_parse(good[i].in, &s), RC_OK);
		assert_int_equal(s, good[i].secs);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rc_duration_parse(bad[i], &s), RC_ERR_INVALID);
		assert_non_null(strstr(rc_errmsg(), "duration"));
	}
	assert_int_equal(rc_duration_parse("24", &s), RC_ERR_INVALID);
	assert_non_null(strstr(rc_errmsg(), "e.g. 30s, 15m, 24h"));
	rc_duration_format(86400, buf, sizeof(buf));
	assert_string_equal(buf, "1d");
	rc_duration_format(129600 + 61, buf, sizeof(buf));
	assert_string_equal(buf, "1d12h1m1s");
	rc_duration_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
}

static void test_uint(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(rc_uint_parse("42", 1, 100, &v), RC_OK);
	assert_int_equal(v, 42);
	assert_int_equal(rc_uint_parse("0", 1, 100, &v), RC_ERR_INVALID);
	assert_int_equal(rc_uint_parse("101", 1, 100, &v), RC_ERR_INVALID);
	assert_int_equal(rc_uint_parse("-1", 0, 100, &v), RC_ERR_INVALID);
	assert_int_equal(rc_uint_parse("1e3", 0, 10000, &v), RC_ERR_INVALID);
	assert_int_equal(rc_uint_parse("", 0, 10, &v), RC_ERR_INVALID);
	assert_int_equal(rc_uint_parse("99999999999999999999999", 0, UINT64_MAX, &v), RC_ERR_INVALID);
	assert_int_equal(rc_uint_parse("18446744073709551615", 0, UINT64_MAX, &v), RC_OK);
	assert_true(v == UINT64_MAX);
}

static void test_usernames(void **state)
{
	(void)state;
	static const char *const good[] = { "alice", "a", "Bob.Smith", "x_y-z", "u1",
	                                    "abcdefghijklmnopqrstuvwxyz012345" };
	static const char *const bad[] = { "", "-alice", ".alice", "al ice", "al:ice", "al\nice",
	                                   "al/ice", "123", "rollcall-admin", "svc-db",
	                                   "abcdefghijklmnopqrstuvwxyz0123456", "ali\xc3\xa9" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(rc_valid_username(good[i]), RC_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rc_valid_username(bad[i]), RC_ERR_INVALID);
	rc_valid_username("al\nice");
	assert_non_null(strstr(rc_errmsg(), "al\\x0aice"));   /* control characters shown escaped */
}

/* Names that read as numbers in any base are refused (tools would take
 * them for uids); names that only start like one are fine. */
static void test_numeric_usernames(void **state)
{
	(void)state;
	static const char *const bad[] = { "0", "0755", "0x10", "0X1f", "0xdeadBEEF", "0b101",
	                                   "0B11", "0o17", "1e3", "1E3", "1e-3", "1.5", "1.",
	                                   "1.5e3", "12.34E-5", "0x1.8p3", "0x1p-2", "0x.8" };
	static const char *const good[] = { "0x", "0xg1", "1e", "1e-", "1.2.3", "1-2", "1_000",
	                                    "0b2", "0o8", "e3", "x10", "1a", "inf", "nan",
	                                    "infinity", "0x1p", "1ex", "a1e3", "1e3a", "1.5x",
	                                    "00x1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rc_valid_username(bad[i]) != RC_ERR_INVALID)
			fail_msg("\"%s\" was accepted", bad[i]);
		if (!strstr(rc_errmsg(), "number") && !strstr(rc_errmsg(), "all digits"))
			fail_msg("\"%s\": %s", bad[i], rc_errmsg());
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (rc_valid_username(good[i]) != RC_OK)
			fail_msg("\"%s\" was refused: %s", good[i], rc_errmsg());
	rc_valid_username("0x10");
	assert_non_null(strstr(rc_errmsg(), "must not read as a number"));
	/* service-user names start with a letter, so none reads as a number */
	assert_int_equal(rc_valid_svcuser_name("0x1000ab"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_svcuser_name("1e3456"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_svcuser_name("e3_456"), RC_OK);
}

static void test_emails(void **state)
{
	(void)state;
	static const char *const good[] = { "a@b.co", "first.last+tag@example.com",
	                                    "X_Y@sub.example.org" };
	static const char *const bad[] = { "", "plain", "a@b", "@example.com", "a@@b.com",
	                                   "a@b@c.com", "a b@c.com", "a@b..com", ".a@b.com",
	                                   "a.@b.com", "a@.b.com", "a@b.com.", "a:b@c.com",
	                                   "a\n@b.com", "a@b_c.com" };
	char longmail[300];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(rc_valid_email(good[i]), RC_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rc_valid_email(bad[i]), RC_ERR_INVALID);
	memset(longmail, 'a', sizeof(longmail));
	memcpy(longmail + 240, "@example.com", 13);
	assert_int_equal(rc_valid_email(longmail), RC_ERR_INVALID);   /* local part > 64 */
	memset(longmail, 'a', 60);
	longmail[60] = '@';
	memset(longmail + 61, 'b', 200);
	memcpy(longmail + 261, ".com", 5);
	assert_int_equal(rc_valid_email(longmail), RC_ERR_INVALID);   /* > 254 */
	assert_non_null(strstr(rc_errmsg(), "too long"));
}

static void test_full_names(void **state)
{
	(void)state;
	char n[200];
	assert_int_equal(rc_valid_full_name("Ada Lovelace"), RC_OK);
	assert_int_equal(rc_valid_full_name("J\xc3\xbcrgen M\xc3\xbcller"), RC_OK);
	assert_int_equal(rc_valid_full_name(""), RC_OK);
	assert_int_equal(rc_valid_full_name("a:b"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_full_name("a,b"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_full_name("a\tb"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_full_name("a\x7f"), RC_ERR_INVALID);
	memset(n, 'x', 129);
	n[129] = 0;
	assert_int_equal(rc_valid_full_name(n), RC_ERR_INVALID);
	n[128] = 0;
	assert_int_equal(rc_valid_full_name(n), RC_OK);
}

static void test_role_and_service_names(void **state)
{
	(void)state;
	assert_int_equal(rc_valid_role_name("editor"), RC_OK);
	assert_int_equal(rc_valid_role_name("read-only"), RC_OK);
	assert_int_equal(rc_valid_role_name("Editor"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_role_name("1editor"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_role_name("edit-"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_role_name("abcdefghijklmnopqrstuvw"), RC_OK);      /* 23 */
	assert_int_equal(rc_valid_role_name("abcdefghijklmnopqrstuvwx"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_service_name("db1"), RC_OK);
	assert_int_equal(rc_valid_service_name("abcdefghijklmnop"), RC_OK);          /* 16 */
	assert_int_equal(rc_valid_service_name("abcdefghijklmnopq"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_service_name("db_1"), RC_ERR_INVALID);
}

static void test_svcuser_rules(void **state)
{
	(void)state;
	char pw[80];
	assert_int_equal(rc_valid_svcuser_name("abcde"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_svcuser_name("abcdef"), RC_OK);
	assert_int_equal(rc_valid_svcuser_name("a1234567890123456789012345678901"), RC_OK);
	assert_int_equal(rc_valid_svcuser_name("a12345678901234567890123456789012"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_svcuser_name("1abcdef"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_svcuser_name("_abcdef"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_svcuser_name("abc.def"), RC_ERR_INVALID);
	assert_int_equal(rc_valid_svcuser_name("My_App_4553"), RC_OK);
	for (size_t n = 20; n < 70; n++) {
		memset(pw, 'p', n);
		pw[n] = 0;
		assert_int_equal(rc_valid_svcuser_password(pw),
		                 n >= 24 && n <= 64 ? RC_OK : RC_ERR_INVALID);
	}
	memset(pw, 'p', 30);
	pw[30] = 0;
	pw[10] = '"';
	assert_int_equal(rc_valid_svcuser_password(pw), RC_ERR_INVALID);
	pw[10] = '\'';
	assert_int_equal(rc_valid_svcuser_password(pw), RC_ERR_INVALID);
	pw[10] = '\n';
	assert_int_equal(rc_valid_svcuser_password(pw), RC_ERR_INVALID);
	/* a password shaped like a token would be taken for one at login */
	pw[10] = 'p';
	memcpy(pw, "rct_", 4);
	assert_int_equal(rc_valid_svcuser_password(pw), RC_ERR_INVALID);
	assert_non_null(strstr(rc_errmsg(), "taken for a token"));
	memcpy(pw, "RCT_", 4);                           /* tokens are lower case */
	assert_int_equal(rc_valid_svcuser_password(pw), RC_OK);
	memcpy(pw, "xrct_", 5);                          /* only at the start */
	assert_int_equal(rc_valid_svcuser_password(pw), RC_OK);
	assert_true(rc_looks_like_token("rct_abc"));
	assert_false(rc_looks_like_token("rct"));
	assert_false(rc_looks_like_token(" rct_abc"));
	assert_false(rc_looks_like_token(""));
}

static void test_events(void **state)
{
	uint32_t m = 0;
	char buf[256];
	(void)state;
	assert_int_equal(rc_events_parse("role-changed,member-locked", &m), RC_OK);
	assert_int_equal(m, RC_EV_ROLE_CHANGED | RC_EV_MEMBER_LOCKED);
	rc_events_format(m, buf, sizeof(buf));
	assert_string_equal(buf, "member-locked,role-changed");
	assert_int_equal(rc_events_parse("all", &m), RC_OK);
	assert_int_equal(m, RC_EV_ALL);
	assert_int_equal(rc_events_parse("role-changed,lunch", &m), RC_ERR_INVALID);
	assert_non_null(strstr(rc_errmsg(), "unknown event \"lunch\""));
	assert_int_equal(rc_events_parse("", &m), RC_ERR_INVALID);
	assert_int_equal(rc_perms_parse("view,notifications", &m), RC_OK);
	assert_int_equal(m, RC_PERM_VIEW | RC_PERM_NOTIFICATIONS);
}

static void test_perms(void **state)
{
	(void)state;
	uint32_t m;
	char buf[256];
	assert_int_equal(rc_perms_parse("view,invite", &m), RC_OK);
	assert_int_equal(m, RC_PERM_VIEW | RC_PERM_INVITE);
	assert_int_equal(rc_perms_parse("none", &m), RC_OK);
	assert_int_equal(m, 0);
	assert_int_equal(rc_perms_parse("view,fly", &m), RC_ERR_INVALID);
	assert_non_null(strstr(rc_errmsg(), "unknown permission \"fly\""));
	rc_perms_format(RC_PERM_ALL, buf, sizeof(buf));
	assert_string_equal(buf, "view,members,invite,manage-members,manage-services,start-stop,"
	                         "billing-view,billing,audit,notifications");
}

static char *write_conf(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/rc-conf-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, 0644);
	close(fd);
	return path;
}

static void test_config(void **state)
{
	(void)state;
	rc_config c;
	char *p;

	rc_config_defaults(&c);
	assert_int_equal(rc_config_load(&c, "/nonexistent/rollcall.conf", 0), RC_OK);
	assert_int_equal(rc_config_load(&c, "/nonexistent/rollcall.conf", 1), RC_ERR_CONFIG);

	p = write_conf("# comment\n\n  id_min = 1000 \nid_max=2000\nshell = /bin/sh\n"
	               "mail_command = /usr/sbin/sendmail -t\n");
	assert_int_equal(rc_config_load(&c, p, 1), RC_OK);
	assert_int_equal(c.id_min, 1000);
	assert_int_equal(c.id_max, 2000);
	assert_string_equal(c.shell, "/bin/sh");
	assert_string_equal(c.mail_command, "/usr/sbin/sendmail -t");
	assert_true(c.map_size == (uint64_t)1 << 30);
	unlink(p);
	rc_config_defaults(&c);
	p = write_conf("project_name = Acme Café Ops\nmail_from = ops@acme.example\n"
	               "login_hint = ssh -J bastion {username}@{host}.acme\n"
	               "mail_template_dir = /etc/rollcall/mail\n"
	               "member_callers = postgres , www-data,nginx\n");
	assert_int_equal(rc_config_load(&c, p, 1), RC_OK);
	assert_string_equal(c.member_callers, "postgres,www-data,nginx");
	assert_string_equal(c.project_name, "Acme Café Ops");
	assert_string_equal(c.mail_from, "ops@acme.example");
	assert_string_equal(c.login_hint, "ssh -J bastion {username}@{host}.acme");
	assert_string_equal(c.mail_template_dir, "/etc/rollcall/mail");
	unlink(p);
	static const struct { const char *text; uint64_t size; } sizes[] = {
		{ "map_size = 1M\n", (uint64_t)1 << 20 }, { "map_size = 1048576\n", 1048576 },
		{ "map_size = 3G\n", (uint64_t)3 << 30 }, { "map_size = 1T\n", (uint64_t)1 << 40 },
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		rc_config_defaults(&c);
		p = write_conf(sizes[i].text);
		assert_int_equal(rc_config_load(&c, p, 1), RC_OK);
		assert_true(c.map_size == sizes[i].size);
		unlink(p);
	}

	static const struct { const char *text, *msg; } bad[] = {
		{ "colour = blue\n", ":1: unknown key \"colour\"" },
		{ "\n\nid_min = ten\n", ":3: id_min: bad number \"ten\"" },
		{ "id_min = 0\n", ":1: id_min: number \"0\" out of range" },
		{ "home_base = home\n", ":1: home_base: \"home\" is not an absolute path" },
		{ "just words\n", ":1: expected \"key = value\"" },
		{ "id_min = 5000\nid_max = 4000\n", "id_min (5000) is above id_max (4000)" },
		{ "mail_command = sendmail\n", "mail_command: the command must start with an absolute path" },
		{ "shell = /bin/sh\x01\n", "control character" },
		{ "map_size = 1048575\n", "map_size: \"1048575\" is not a size from 1M to 1T" },
		{ "map_size = 2T\n", "is not a size from 1M to 1T" },
		{ "map_size = M\n", "map_size: \"M\" is not a size" },
		{ "map_size = 1.5G\n", "is not a size from 1M to 1T" },
		{ "map_size = 18014398509481984K\n", "is not a size from 1M to 1T" },
		{ "project_name = a\rBcc: x@evil.example\n", ":1: project_name: control character" },
		{ "\nproject_name = a\tb\n", ":2: project_name: tab in value" },
		{ "project_name = caf\xe9\n", ":1: project_name: not valid UTF-8" },
		{ "project_name = \xed\xa0\x80\n", ":1: project_name: not valid UTF-8" },
		{ "project_name = " "0123456789012345678901234567890123456789012345678901234567890123"
		  "4\n", ":1: project_name: longer than 64 bytes" },
		{ "mail_from = Ops <ops@acme.example>\n", ":1: mail_from: email address" },
		{ "mail_from = ops\n", ":1: mail_from: email address \"ops\" must have exactly one '@'" },
		{ "login_hint = ssh {user}@host\n", ":1: login_hint: unknown placeholder {user}" },
		{ "login_hint = ssh {code}\n", ":1: login_hint: unknown placeholder {code}" },
		{ "login_hint = \n", ":1: login_hint: empty value" },
		{ "mail_template_dir = mail\n", ":1: mail_template_dir: \"mail\" is not an absolute path" },
		{ "member_callers = postgres,\n", ":1: member_callers: expected local user names" },
		{ "member_callers = a b\n", ":1: member_callers: expected local user names" },
		{ "member_callers = -x\n", ":1: member_callers: expected local user names" },
		{ "member_callers = a;b\n", ":1: member_callers: expected local user names" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc_config_defaults(&c);
		p = write_conf(bad[i].text);
		assert_int_equal(rc_config_load(&c, p, 1), RC_ERR_CONFIG);
		if (!strstr(rc_errmsg(), bad[i].msg) || !strstr(rc_errmsg(), p))
			fail_msg("config case %zu: got \"%s\"", i, rc_errmsg());
		unlink(p);
	}
	/* a NUL byte in the file */
	p = write_conf("shell = /bin/sh\n");
	FILE *f = fopen(p, "a");
	fputs("id_min = 5", f);
	fputc(0, f);
	fputs("0\n", f);
	fclose(f);
	rc_config_defaults(&c);
	assert_int_equal(rc_config_load(&c, p, 1), RC_ERR_CONFIG);
	assert_non_null(strstr(rc_errmsg(), ":2: NUL byte"));
	/* group-writable */
	chmod(p, 0664);
	assert_int_equal(rc_config_load(&c, p, 1), RC_ERR_CONFIG);
	assert_non_null(strstr(rc_errmsg(), "group- or other-writable"));
	unlink(p);
}

/* The mail made from the built-in templates: headers, placeholders, the
 * relative expiry, encoded words (tests/tool/mail.sh delivers it through a
 * real MTA). */
static void test_mail(void **state)
{
	(void)state;
	rc_config c;
	rc_mail_template *t;
	rc_code_result r = { .username = "zoe", .email = "zoe@example.com",
	                     .full_name = "Zo\xc3\xab \"Z\" M", .role = "developer",
	                     .code = "ABCDE-FGHIJ-KLMNP-QRSTU", .expires = 1796256000 + 7 * 86400 };
	rc_mail_info info = { .code = &r, .inviter_name = "Alice A", .inviter_email = "alice@example.com",
	                      .now = 1796256000 };   /* Thu, 03 Dec 2026 00:00:00 */
	char *m;
	size_t len;

	rc_config_defaults(&c);
	snprintf(c.project_name, sizeof(c.project_name), "Acme \"Ops\"");
	snprintf(c.mail_from, sizeof(c.mail_from), "ops@acme.example");
	snprintf(c.login_hint, sizeof(c.login_hint), "ssh -p 22 {username}@x");
	assert_int_equal(rc_mail_template_load(&c, RC_MAIL_INVITATION, &t), RC_OK);
	assert_int_equal(rc_mail_compose(&c, t, &info, &m, &len), RC_OK);
	assert_int_equal(strlen(m), len);
	assert_non_null(strstr(m, "From: \"Acme \\\"Ops\\\"\" <ops@acme.example>\n"));
	assert_non_null(strstr(m, "\nTo: =?UTF-8?B?Wm/DqyAiWiIgTQ==?= <zoe@example.com>\n"));
	assert_non_null(strstr(m, "\nSubject: Your invitation to Acme \"Ops\"\n"));
	assert_non_null(strstr(m, "\nDate: Thu, 03 Dec 2026 00:00:00 +0000\n"));
	assert_non_null(strstr(m, "\nMessage-ID: <rollcall.1796256000."));
	assert_non_null(strstr(m, "@acme.example>\nMIME-Version: 1.0\nContent-Type: text/plain; "
	                          "charset=UTF-8\nContent-Transfer-Encoding: 8bit\n"));
	assert_non_null(strstr(m, "by Alice A <alice@example.com>,\nas a member with the role "
	                          "developer.  Your user name is zoe.\n"));
	assert_non_null(strstr(m, "\n    ABCDE-FGHIJ-KLMNP-QRSTU\n"));
	assert_non_null(strstr(m, "It expires in 7 days, at 2026-12-10 00:00 UTC.\n"));
	assert_non_null(strstr(m, "\n    ssh -p 22 zoe@x\n"));
	assert_null(strchr(m, '\r'));
	rc_mail_free(m, len);
	/* relative expiries */
	static const struct { int64_t in; const char *text; } rel[] = {
		{ 30, "in less than a minute" }, { 60, "in 1 minute" }, { 90 * 60, "in 90 minutes" },
		{ 24 * 3600, "in 24 hours" }, { 47 * 3600, "in 47 hours" }, { 48 * 3600, "in 2 days" },
	};
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char want[64];
		r.expires = info.now + rel[i].in;
		assert_int_equal(rc_mail_compose(&c, t, &info, &m, &len), RC_OK);
		snprintf(want, sizeof(want), "It expires %s, at", rel[i].text);
		if (!strstr(m, want))
			fail_msg("expiry %lld: no \"%s\"", (long long)rel[i].in, want);
		rc_mail_free(m, len);
	}
	rc_mail_template_free(t);
	/* root, no full name, no project: the host's administrator, the bare address */
	rc_config_defaults(&c);
	r.full_name[0] = '\0';
	info.inviter_name = info.inviter_email = NULL;
	assert_int_equal(rc_mail_template_load(&c, RC_MAIL_RESET, &t), RC_OK);
	assert_int_equal(rc_mail_compose(&c, t, &info, &m, &len), RC_OK);
	assert_non_null(strstr(m, "\nTo: zoe@example.com\n"));
	assert_non_null(strstr(m, "was reset by the administrator of "));
	assert_non_null(strstr(m, "Hello zoe,\n"));
	assert_non_null(strstr(m, "From: "));
	assert_non_null(strstr(m, " <root@"));
	rc_mail_free(m, len);
	rc_mail_template_free(t);
	/* every built-in template is a valid template */
	for (int k = 0; k < RC_MAIL_KINDS; k++) {
		assert_int_equal(rc_mail_template_load(&c, k, &t), RC_OK);
		rc_mail_template_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_usernames),
		cmocka_unit_test(test_numeric_usernames),
		cmocka_unit_test(test_emails),
		cmocka_unit_test(test_full_names),
		cmocka_unit_test(test_role_and_service_names),
		cmocka_unit_test(test_svcuser_rules),
		cmocka_unit_test(test_perms),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_mail),
	};
	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
