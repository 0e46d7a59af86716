/*
 * test_nss.c - libnss_rollcall.so.2 called directly, as glibc calls it: the
 * module is dlopen()ed from $NSS_MODULE and its exported functions are used
 * against a store made with lib/.  Lookups, invalid names, ERANGE at every
 * buffer size and alignment with guard bytes, errno kept, enumeration, a
 * replaced snapshot and a shard replaced under an open handle, damaged
 * manifests and shards, 16 threads during 1,000 republishes, a forked child,
 * and a sharded snapshot of 5,000 members changed one at a time.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "rollcall.h"
#include "snapshot.h"

typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*pwuid_fn)(uid_t, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*pwent_fn)(struct passwd *, char *, size_t, int *);
typedef enum nss_status (*grnam_fn)(const char *, struct group *, char *, size_t, int *);
typedef enum nss_status (*grgid_fn)(gid_t, struct group *, char *, size_t, int *);
typedef enum nss_status (*grent_fn)(struct group *, char *, size_t, int *);
typedef enum nss_status (*setent_fn)(int);
typedef enum nss_status (*endent_fn)(void);
typedef enum nss_status (*initgr_fn)(const char *, gid_t, long *, long *, gid_t **, long, int *);

static struct {
	pwnam_fn getpwnam_r;
	pwuid_fn getpwuid_r;
	pwent_fn getpwent_r;
	setent_fn setpwent;
	endent_fn endpwent;
	grnam_fn getgrnam_r;
	grgid_fn getgrgid_r;
	grent_fn getgrent_r;
	setent_fn setgrent;
	endent_fn endgrent;
	initgr_fn initgroups_dyn;
} nss;

static char dir[64];
static rc_config cfg;
static rc_store *store;
static const rc_actor root = { .uid = 0, .origin = "test" };
static uid_t alice_uid;
static gid_t dev_gid;

static void *sym(void *h, const char *name)
{
	void *p = dlsym(h, name);
	if (!p) {
		fprintf(stderr, "missing %s\n", name);
		exit(1);
	}
	return p;
}

static void wait_for_reload(void)
{
	usleep(1100 * 1000);   /* the module looks for a new file once a second */
}

static int group_setup(void **state)
{
	(void)state;
	const char *path = getenv("NSS_MODULE");
	rc_code_result r;
	char who[RC_NAME_MAX + 1], statedir[128];
	void *h;

	if (!path)
		return -1;
	h = dlopen(path, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return -1;
	}
	nss.getpwnam_r = (pwnam_fn)sym(h, "_nss_rollcall_getpwnam_r");
	nss.getpwuid_r = (pwuid_fn)sym(h, "_nss_rollcall_getpwuid_r");
	nss.getpwent_r = (pwent_fn)sym(h, "_nss_rollcall_getpwent_r");
	nss.setpwent = (setent_fn)sym(h, "_nss_rollcall_setpwent");
	nss.endpwent = (endent_fn)sym(h, "_nss_rollcall_endpwent");
	nss.getgrnam_r = (grnam_fn)sym(h, "_nss_rollcall_getgrnam_r");
	nss.getgrgid_r = (grgid_fn)sym(h, "_nss_rollcall_getgrgid_r");
	nss.getgrent_r = (grent_fn)sym(h, "_nss_rollcall_getgrent_r");
	nss.setgrent = (setent_fn)sym(h, "_nss_rollcall_setgrent");
	nss.endgrent = (endent_fn)sym(h, "_nss_rollcall_endgrent");
	nss.initgroups_dyn = (initgr_fn)sym(h, "_nss_rollcall_initgroups_dyn");

	snprintf(dir, sizeof(dir), "/tmp/rc-nss-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	rc_config_defaults(&cfg);
	snprintf(statedir, sizeof(statedir), "%s/state", dir);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", statedir);
	setenv("ROLLCALL_STATE_DIR", statedir, 1);
	if (rc_store_create(&cfg, "alice@example.com", NULL, &r) ||
	    rc_store_open(&store, &cfg, 0) ||
	    rc_member_accept(store, &root, r.code, "alice password 1", who)) {
		fprintf(stderr, "setup: %s\n", rc_errmsg());
		return -1;
	}
	rc_invite_req req = { .email = "bob@example.com", .role = "developer",
	                      .full_name = "Bob Builder" };
	rc_secret_result sec;
	if (rc_member_invite(store, &root, &req, &r) || rc_service_create(store, &root, "db1", &sec) ||
	    rc_svcuser_create(store, &root, "db1", "reader_one", NULL, 1, 0, &sec)) {
		fprintf(stderr, "setup: %s\n", rc_errmsg());
		return -1;
	}
	rc_member m;
	rc_role role;
	rc_member_get(store, &root, "alice", &m);
	alice_uid = m.uid;
	rc_role_get(store, &root, "developer", &role);
	dev_gid = role.gid;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[128];
	rc_store_close(store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static void test_lookups(void **state)
{
	(void)state;
	struct passwd pw;
	struct group gr;
	char buf[4096];
	int err = 0;

	assert_int_equal(nss.getpwnam_r("bob", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	assert_string_equal(pw.pw_name, "bob");
	assert_string_equal(pw.pw_gecos, "Bob Builder");
	assert_string_equal(pw.pw_dir, "/home/bob");
	assert_string_equal(pw.pw_shell, "/bin/bash");
	assert_string_equal(pw.pw_passwd, "*");
	assert_int_equal(pw.pw_uid, pw.pw_gid);
	uid_t bob = pw.pw_uid;
	assert_int_equal(nss.getpwuid_r(bob, &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	assert_string_equal(pw.pw_name, "bob");
	assert_int_equal(nss.getpwnam_r("reader_one", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	assert_string_equal(pw.pw_shell, "/usr/sbin/nologin");
	assert_int_equal(nss.getpwnam_r("db1_admin", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);

	assert_int_equal(nss.getgrnam_r("rollcall-developer", &gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	assert_int_equal(gr.gr_gid, dev_gid);
	assert_string_equal(gr.gr_mem[0], "bob");
	assert_null(gr.gr_mem[1]);
	assert_int_equal(nss.getgrgid_r(dev_gid, &gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	assert_string_equal(gr.gr_name, "rollcall-developer");
	assert_int_equal(nss.getgrnam_r("rollcall-members", &gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	assert_string_equal(gr.gr_mem[0], "alice");
	assert_string_equal(gr.gr_mem[1], "bob");
	assert_null(gr.gr_mem[2]);
	assert_int_equal(nss.getgrnam_r("bob", &gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	assert_int_equal(gr.gr_gid, bob);
	assert_null(gr.gr_mem[0]);
	assert_int_equal(nss.getgrnam_r("svc-db1-readonly", &gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	assert_string_equal(gr.gr_mem[0], "reader_one");
	assert_null(gr.gr_mem[1]);
	assert_int_equal(nss.getgrnam_r("svc-db1-replication", &gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	assert_string_equal(gr.gr_mem[0], "db1_admin");

	/* unknown and invalid names are NOTFOUND */
	static const char *const bad[] = { "nosuch", "", "a:b", "a b", "a\nb", "a/b",
	                                   "abcdefghijklmnopqrstuvwxyz0123456", "\xff" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = 0;
		assert_int_equal(nss.getpwnam_r(bad[i], &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
		assert_int_equal(err, ENOENT);
		assert_int_equal(nss.getgrnam_r(bad[i], &gr, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	}
	char huge[600];
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = 0;
	assert_int_equal(nss.getpwnam_r(huge, &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	assert_int_equal(nss.getpwuid_r(12345, &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	assert_int_equal(nss.getgrgid_r(12345, &gr, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
}

static void test_initgroups(void **state)
{
	(void)state;
	long start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	int err = 0;
	groups[0] = alice_uid;
	assert_int_equal(nss.initgroups_dyn("alice", alice_uid, &start, &size, &groups, 0, &err),
	                 NSS_STATUS_SUCCESS);
	assert_int_equal(start, 3);   /* own group, rollcall-owner, rollcall-members */
	/* with a limit, no more than it */
	start = 1;
	assert_int_equal(nss.initgroups_dyn("alice", alice_uid, &start, &size, &groups, 2, &err),
	                 NSS_STATUS_SUCCESS);
	assert_true(start <= 2);
	free(groups);
	start = 0, size = 0, groups = NULL;
	assert_int_equal(nss.initgroups_dyn("nosuch", 1, &start, &size, &groups, 0, &err),
	                 NSS_STATUS_NOTFOUND);
	assert_int_equal(nss.initgroups_dyn("reader_one", 1, &start, &size, &groups, 0, &err),
	                 NSS_STATUS_SUCCESS);
	assert_int_equal(start, 2);   /* svc-db1, svc-db1-readonly */
	free(groups);
}

/* Call F with every buffer size below NEED and every alignment: ERANGE, and
 * nothing written past the buffer; at NEED, success. */
#define GUARD 64
typedef enum nss_status (*probe_fn)(char *buf, size_t len, int *err);

static void check_sizes(probe_fn f)
{
	char big[8192];
	int err = 0;
	size_t need = 0;

	/* find the smallest size that works, at alignment 0 */
	for (size_t n = 0; n < sizeof(big); n++)
		if (f(big, n, &err) == NSS_STATUS_SUCCESS) {
			need = n;
			break;
		}
	assert_true(need > 0);
	for (size_t align = 0; align < 8; align++) {
		char *mem = malloc(need + align + GUARD + 8);
		for (size_t n = 0; n <= need + 8; n++) {
			char *buf = mem + align;
			memset(mem, 0xa5, need + align + GUARD + 8);
			err = 0;
			errno = 4242;
			enum nss_status st = f(buf, n, &err);
			assert_int_equal(errno, 4242);
			/* alignment padding may need a few more bytes */
			if (n < need) {
				assert_int_equal(st, NSS_STATUS_TRYAGAIN);
				assert_int_equal(err, ERANGE);
			} else if (n >= need + 8) {
				assert_int_equal(st, NSS_STATUS_SUCCESS);
			} else if (st != NSS_STATUS_SUCCESS) {
				assert_int_equal(st, NSS_STATUS_TRYAGAIN);
				assert_int_equal(err, ERANGE);
			}
			for (size_t g = n; g < n + GUARD; g++)
				assert_int_equal((unsigned char)buf[g], 0xa5);
			for (size_t g = 0; g < align; g++)
				assert_int_equal((unsigned char)mem[g], 0xa5);
		}
		free(mem);
	}
}

static struct passwd spw;
static struct group sgr;
static enum nss_status p_pwnam(char *b, size_t n, int *e) { return nss.getpwnam_r("bob", &spw, b, n, e); }
static enum nss_status p_pwuid(char *b, size_t n, int *e) { return nss.getpwuid_r(alice_uid, &spw, b, n, e); }
static enum nss_status p_grnam(char *b, size_t n, int *e) { return nss.getgrnam_r("rollcall-members", &sgr, b, n, e); }
static enum nss_status p_grgid(char *b, size_t n, int *e) { return nss.getgrgid_r(dev_gid, &sgr, b, n, e); }
static enum nss_status p_pwent(char *b, size_t n, int *e)
{
	nss.setpwent(0);
	return nss.getpwent_r(&spw, b, n, e);
}
static enum nss_status p_grent(char *b, size_t n, int *e)
{
	nss.setgrent(0);
	return nss.getgrent_r(&sgr, b, n, e);
}

static void test_erange(void **state)
{
	(void)state;
	check_sizes(p_pwnam);
	check_sizes(p_pwuid);
	check_sizes(p_grnam);
	check_sizes(p_grgid);
	check_sizes(p_pwent);
	check_sizes(p_grent);
}

static void test_enumeration(void **state)
{
	(void)state;
	struct passwd pw;
	struct group gr;
	char buf[4096], small[8];
	int err, users = 0, groups = 0;

	char first[64];
	nss.setpwent(0);
	assert_int_equal(nss.getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	snprintf(first, sizeof(first), "%s", pw.pw_name);
	nss.setpwent(0);
	/* a too-small buffer does not skip the entry */
	assert_int_equal(nss.getpwent_r(&pw, small, sizeof(small), &err), NSS_STATUS_TRYAGAIN);
	assert_int_equal(nss.getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	assert_string_equal(pw.pw_name, first);
	users++;
	while (nss.getpwent_r(&pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS)
		users++;
	nss.endpwent();
	assert_int_equal(users, 4);   /* alice, bob, db1_admin, reader_one */
	nss.setgrent(0);
	while (nss.getgrent_r(&gr, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS)
		groups++;
	nss.endgrent();
	/* 4 private, 5 roles, rollcall-members, 3 of db1 */
	assert_int_equal(groups, 13);
}

static void test_errno_kept(void **state)
{
	(void)state;
	struct passwd pw;
	char buf[1024];
	int err;
	errno = 777;
	nss.getpwnam_r("alice", &pw, buf, sizeof(buf), &err);
	assert_int_equal(errno, 777);
	nss.getpwnam_r("nosuch", &pw, buf, sizeof(buf), &err);
	assert_int_equal(errno, 777);
	nss.getpwnam_r("alice", &pw, buf, 3, &err);
	assert_int_equal(errno, 777);
	assert_int_equal(err, ERANGE);
}

static void test_replaced_snapshot(void **state)
{
	(void)state;
	struct passwd pw;
	char buf[1024];
	int err;
	rc_code_result r;
	rc_invite_req req = { .email = "carol@example.com", .role = "read-only" };

	assert_int_equal(nss.getpwnam_r("carol", &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	assert_int_equal(rc_member_invite(store, &root, &req, &r), RC_OK);
	wait_for_reload();
	assert_int_equal(nss.getpwnam_r("carol", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	assert_int_equal(rc_member_withdraw(store, &root, "carol"), RC_OK);
	wait_for_reload();
	assert_int_equal(nss.getpwnam_r("carol", &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
}

static void put_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	chmod(path, 0644);
}

/* The one 'P' shard of this small snapshot, as the manifest names it. */
static void shard_path(char *out, size_t len)
{
	char man[100], name[RC_SNAP_NAME_MAX];
	rc_snap *sn;
	uint64_t serial;
	uint32_t size;
	snprintf(man, sizeof(man), "%s/state/%s", dir, RC_SNAP_FILE);
	assert_int_equal(rc_snap_open(&sn, man), RC_OK);
	assert_int_equal(rc_snap_nbits(sn), 0);
	assert_int_equal(rc_snap_shard_file(sn, 'P', 0, name, sizeof(name), &serial, &size), RC_OK);
	rc_snap_close(sn);
	snprintf(out, len, "%s/state/%s/%s", dir, RC_SNAP_DIR, name);
}

static void test_damaged_snapshot(void **state)
{
	(void)state;
	char man[100], shard[160], saved[100], ssaved[100], tmp[100], cmd[1024];
	struct passwd pw;
	struct group gr;
	char buf[1024];
	int err;
	static char junk[65536];

	snprintf(man, sizeof(man), "%s/state/%s", dir, RC_SNAP_FILE);
	shard_path(shard, sizeof(shard));
	snprintf(saved, sizeof(saved), "%s/nss.saved", dir);
	snprintf(ssaved, sizeof(ssaved), "%s/shard.saved", dir);
	snprintf(tmp, sizeof(tmp), "%s/nss.tmp", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && cp '%s' '%s'", man, saved, shard, ssaved);
	assert_int_equal(system(cmd), 0);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7919 + 13);

	for (int c = 0; c < 12; c++) {
		/* the manifest (0-5), then the shard that holds alice (6-11) */
		const char *path = c < 6 ? man : shard, *good = c < 6 ? saved : ssaved;
		switch (c % 6) {
		case 0: /* missing */
			unlink(path);
			break;
		case 1: /* empty */
			put_file(tmp, "", 0);
			rename(tmp, path);
			break;
		case 2: /* garbage */
			put_file(tmp, junk, sizeof(junk));
			rename(tmp, path);
			break;
		case 3: /* truncated */
			snprintf(cmd, sizeof(cmd), "head -c 60 '%s' > '%s' && chmod 644 '%s' && mv '%s' '%s'",
			         good, tmp, tmp, tmp, path);
			assert_int_equal(system(cmd), 0);
			break;
		case 4: /* a directory */
			unlink(path);
			mkdir(path, 0755);
			break;
		case 5: /* world-writable */
			rmdir(path);
			snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 666 '%s'", good, path, path);
			assert_int_equal(system(cmd), 0);
			break;
		}
		wait_for_reload();
		err = 0;
		assert_int_equal(nss.getpwnam_r("alice", &pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
		assert_int_not_equal(err, 0);
		assert_int_equal(nss.getgrgid_r(dev_gid, &gr, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
		nss.setpwent(0);
		assert_int_equal(nss.getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
		if (c == 5 || c == 11) {
			unlink(path);
			snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 644 '%s'", good, path, path);
			assert_int_equal(system(cmd), 0);
		}
	}
	wait_for_reload();
	assert_int_equal(nss.getpwnam_r("alice", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
}

static volatile int stop_threads;

static void *reader(void *arg)
{
	struct passwd pw;
	char buf[1024];
	int err;
	long bad = 0;
	(void)arg;
	while (!stop_threads) {
		enum nss_status st = nss.getpwnam_r("bob", &pw, buf, sizeof(buf), &err);
		if (st != NSS_STATUS_SUCCESS || strcmp(pw.pw_name, "bob") != 0 ||
		    (strcmp(pw.pw_gecos, "Version A") != 0 && strcmp(pw.pw_gecos, "Version B") != 0 &&
		     strcmp(pw.pw_gecos, "Bob Builder") != 0) ||
		    strcmp(pw.pw_dir, "/home/bob") != 0)
			bad++;
	}
	return (void *)bad;
}

static void test_threads_during_republish(void **state)
{
	(void)state;
	pthread_t th[16];
	long bad = 0;

	stop_threads = 0;
	for (int i = 0; i < 16; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, NULL), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rc_member_update(store, &root, "bob", NULL,
		                                  i % 2 ? "Version A" : "Version B"), RC_OK);
	stop_threads = 1;
	for (int i = 0; i < 16; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += (long)r;
	}
	assert_int_equal(bad, 0);
}

static void test_fork(void **state)
{
	(void)state;
	struct passwd pw;
	char buf[1024];
	int err, status;
	assert_int_equal(nss.getpwnam_r("alice", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
	pid_t pid = fork();
	if (pid == 0) {
		int ok = nss.getpwnam_r("alice", &pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS &&
		         pw.pw_uid == alice_uid &&
		         nss.getpwnam_r("bob", &pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS;
		_exit(ok ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A handle keeps the manifest it opened; a publication then replaces the
 * shard it has not mapped yet (and removes the old file): the lookup
 * opens the new manifest and answers from it, not UNAVAIL. */
static void test_replaced_under_handle(void **state)
{
	(void)state;
	char path[160];
	rc_snap *sn = NULL, *sn2 = NULL;
	rc_snap_pw pw;
	rc_code_result r;
	rc_invite_req req = { .email = "dave@example.com", .role = "read-only" };

	snprintf(path, sizeof(path), "%s/state/%s", dir, RC_SNAP_FILE);
	assert_int_equal(rc_snap_open(&sn, path), RC_OK);
	assert_int_equal(rc_snap_open(&sn2, path), RC_OK);
	uint64_t gen = rc_snap_generation(sn);
	assert_int_equal(rc_member_invite(store, &root, &req, &r), RC_OK);
	assert_true(rc_snap_replaced(sn, path));
	/* the shards the invitation replaced stay for one publication more:
	 * a handle that had mapped none of them still answers from its own
	 * manifest, whole */
	assert_int_equal(rc_snap_pw_byname(sn, "dave", &pw), RC_ERR_NOTFOUND);
	assert_int_equal(rc_snap_pw_byname(sn, "alice", &pw), RC_OK);
	assert_true(rc_snap_generation(sn) == gen);
	rc_snap_close(sn);
	/* a second publication removes them (one 'P' shard in this store:
	 * every change replaces it): a handle that finds its shard gone
	 * moves on to the newest manifest */
	assert_int_equal(rc_member_set_role(store, &root, "dave", "developer"), RC_OK);
	assert_int_equal(rc_snap_pw_byname(sn2, "dave", &pw), RC_OK);
	assert_true(rc_snap_generation(sn2) > gen);
	assert_int_equal(rc_snap_pw_byname(sn2, "alice", &pw), RC_OK);
	rc_snap_close(sn2);
	assert_int_equal(rc_member_withdraw(store, &root, "dave"), RC_OK);
}

/* Batch mode: a burst of changes publishes about once a second, not once
 * per change; the end of the batch publishes the last one. */
static void test_batch(void **state)
{
	(void)state;
	char path[160];
	rc_snap *sn = NULL;
	rc_snap_pw pw;
	struct timespec t0, t1;

	snprintf(path, sizeof(path), "%s/state/%s", dir, RC_SNAP_FILE);
	assert_int_equal(rc_snap_open(&sn, path), RC_OK);
	uint64_t serial = rc_snap_serial(sn);
	rc_snap_close(sn);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc_store_batch(store, 1);
	for (int i = 0; i < 300; i++) {
		char gecos[32];
		snprintf(gecos, sizeof(gecos), "Batch %d", i);
		assert_int_equal(rc_member_update(store, &root, "bob", NULL, gecos), RC_OK);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* not yet published: the last change waits for the end of the batch */
	assert_int_equal(rc_snap_open(&sn, path), RC_OK);
	uint64_t during = rc_snap_serial(sn) - serial;
	rc_snap_close(sn);
	rc_store_batch(store, 0);
	assert_int_equal(rc_snap_open(&sn, path), RC_OK);
	uint64_t after = rc_snap_serial(sn) - serial;
	assert_int_equal(rc_snap_pw_byname(sn, "bob", &pw), RC_OK);
	assert_string_equal(pw.gecos, "Batch 299");
	rc_snap_close(sn);
	long secs = (long)(t1.tv_sec - t0.tv_sec) + 1;
	printf("# 300 changes in batch mode: %llu publications during %ld s, %llu in all\n",
	       (unsigned long long)during, secs, (unsigned long long)after);
	assert_true(during <= (uint64_t)secs);
	assert_true(after == during || after == during + 1);
	/* out of batch mode, each change is published when its call returns */
	assert_int_equal(rc_member_update(store, &root, "bob", NULL, "Bob Builder"), RC_OK);
	assert_int_equal(rc_snap_open(&sn, path), RC_OK);
	assert_int_equal(rc_snap_serial(sn) - serial, after + 1);
	rc_snap_close(sn);
}

/* Many users: several shards, changes rewrite only their own, and every
 * answer (by name, by uid, the groups and their members, enumeration)
 * is the store's after each of them. */
static int count_member(void *ctx, const char *name)
{
	(void)name;
	(*(uint32_t *)ctx)++;
	return 0;
}

static void test_sharded(void **state)
{
	(void)state;
	char path[160], name[32], email[64];
	rc_snap *sn = NULL;
	rc_snap_pw pw;
	rc_snap_gr gr;
	rc_code_result r;

	snprintf(path, sizeof(path), "%s/state/%s", dir, RC_SNAP_FILE);
	rc_store_batch(store, 1);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "many%d", i);
		snprintf(email, sizeof(email), "%s@example.com", name);
		rc_invite_req req = { .email = email, .role = i % 2 ? "developer" : "read-only",
		                      .username = name };
		assert_int_equal(rc_member_invite(store, &root, &req, &r), RC_OK);
	}
	rc_store_batch(store, 0);
	assert_int_equal(rc_snap_open(&sn, path), RC_OK);
	/* several shards (how many depends on when the batch published) */
	unsigned nbits = rc_snap_nbits(sn);
	assert_true(nbits >= 1);
	assert_int_equal(rc_snap_pw_byname(sn, "many4999", &pw), RC_OK);
	uint32_t uid = pw.uid;
	assert_int_equal(rc_snap_pw_byuid(sn, uid, &pw), RC_OK);
	assert_string_equal(pw.name, "many4999");
	assert_int_equal(rc_snap_gr_byname(sn, "rollcall-developer", &gr), RC_OK);
	uint32_t n = 0;
	assert_int_equal(rc_snap_gr_members(sn, &gr, count_member, &n), RC_OK);
	assert_int_equal(n, gr.nmem);
	assert_int_equal(n, 2500 + 1);   /* and bob */
	assert_true(gr.nshards == 1u << nbits);
	rc_snap_close(sn);
	/* one change: one 'P' shard rewritten, the other three stay */
	char before[8][RC_SNAP_NAME_MAX], after[RC_SNAP_NAME_MAX];
	uint64_t serial;
	uint32_t size;
	assert_int_equal(rc_snap_open(&sn, path), RC_OK);
	assert_true(nbits <= 3);
	for (uint32_t i = 0; i < 1u << nbits; i++)
		rc_snap_shard_file(sn, 'P', i, before[i], sizeof(before[i]), &serial, &size);
	rc_snap_close(sn);
	assert_int_equal(rc_member_set_role(store, &root, "many7", "read-only"), RC_OK);
	assert_int_equal(rc_snap_open(&sn, path), RC_OK);
	int changed = 0;
	for (uint32_t i = 0; i < 1u << nbits; i++) {
		rc_snap_shard_file(sn, 'P', i, after, sizeof(after), &serial, &size);
		changed += strcmp(after, before[i]) != 0;
	}
	assert_int_equal(changed, 1);
	assert_int_equal(rc_snap_gr_byname(sn, "rollcall-developer", &gr), RC_OK);
	assert_int_equal(gr.nmem, 2500);
	assert_int_equal(rc_snap_gr_byname(sn, "rollcall-read-only", &gr), RC_OK);
	assert_int_equal(gr.nmem, 2501);
	const uint8_t *g;
	size_t ng;
	assert_int_equal(rc_snap_groups(sn, "many7", &g, &ng), RC_OK);
	assert_int_equal(ng, 2);
	assert_int_equal(rc_le32(g), gr.gid);
	/* enumeration: every user once */
	char last[64] = "";
	size_t users = 0;
	while (rc_snap_pw_next(sn, users ? last : NULL, &pw) == RC_OK) {
		snprintf(last, sizeof(last), "%s", pw.name);
		users++;
	}
	assert_int_equal(users, 5000 + 4);
	rc_snap_close(sn);
	/* a new full name is seen by uid as well as by name: the 'U' shard
	 * holds the gecos too (version 4), and the change rewrites it */
	assert_int_equal(rc_member_update(store, &root, "many4999", NULL, "Renamed Person"), RC_OK);
	assert_int_equal(rc_snap_open(&sn, path), RC_OK);
	assert_int_equal(rc_snap_pw_byname(sn, "many4999", &pw), RC_OK);
	assert_string_equal(pw.gecos, "Renamed Person");
	assert_int_equal(rc_snap_pw_byuid(sn, uid, &pw), RC_OK);
	assert_string_equal(pw.name, "many4999");
	assert_string_equal(pw.gecos, "Renamed Person");
	assert_int_equal(pw.kind, 0);
	rc_snap_close(sn);
	/* the uid shards: a withdrawn member is gone by uid too */
	assert_int_equal(rc_member_withdraw(store, &root, "many4999"), RC_OK);
	assert_int_equal(rc_snap_open(&sn, path), RC_OK);
	assert_int_equal(rc_snap_pw_byuid(sn, uid, &pw), RC_ERR_NOTFOUND);
	assert_int_equal(rc_snap_pw_byname(sn, "many4999", &pw), RC_ERR_NOTFOUND);
	rc_snap_close(sn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_initgroups),
		cmocka_unit_test(test_erange),
		cmocka_unit_test(test_enumeration),
		cmocka_unit_test(test_errno_kept),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_replaced_snapshot),
		cmocka_unit_test(test_damaged_snapshot),
		cmocka_unit_test(test_threads_during_republish),
		cmocka_unit_test(test_replaced_under_handle),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_sharded),
	};
	return cmocka_run_group_tests_name("nss", tests, group_setup, group_teardown);
}
