/*
 * churn.c - readers through many changes (tests/nss/churn.sh).
 *
 *   churn populate DIR N    a store in DIR/state with N members m0..m{N-1},
 *                           all read-only; DIR/users lists "name uid"
 *   churn write DIR N K     K role changes, one commit (and publication)
 *                           each: change k makes m(k mod N) a developer in
 *                           even passes over the members, read-only in odd
 *                           ones; after each, the published snapshot (read
 *                           with lib/) must already show it
 *   churn read DIR N STOP   until the file STOP exists: lookups through
 *                           glibc (nss_wrapper routes them to the module):
 *                           by name and by uid against DIR/users, the
 *                           groups of a member, and rollcall-developer,
 *                           whose members in any one publication are a
 *                           contiguous run of m0..m{N-1} (a prefix in even
 *                           passes, a suffix in odd ones).  Each round
 *                           also opens the snapshot afresh with lib/ (as
 *                           a new process would: every publication, not
 *                           one a second) and checks the same.  Prints
 *                           the lookups made and every wrong answer.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "rollcall.h"
#include "snapshot.h"

static const rc_actor root = { .uid = 0, .origin = "churn" };

static int open_store(const char *dir, rc_store **s, rc_config *cfg)
{
	rc_config_defaults(cfg);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s/state", dir);
	cfg->id_min = 1000000;
	cfg->id_max = 3999999;
	return rc_store_open(s, cfg, 0);
}

static int populate(const char *dir, long n)
{
	rc_config cfg;
	rc_store *s;
	rc_code_result r;
	char path[RC_PATH_MAX + 16];

	rc_config_defaults(&cfg);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", dir);
	cfg.id_min = 1000000;
	cfg.id_max = 3999999;
	if (rc_store_create(&cfg, "owner@example.com", "owner", &r) || open_store(dir, &s, &cfg)) {
		fprintf(stderr, "churn: %s\n", rc_errmsg());
		return 1;
	}
	snprintf(path, sizeof(path), "%s/users", dir);
	FILE *f = fopen(path, "w");
	rc_store_batch(s, 1);
	for (long i = 0; i < n && f; i++) {
		char name[32], email[64];
		rc_member m;
		snprintf(name, sizeof(name), "m%ld", i);
		snprintf(email, sizeof(email), "%s@example.com", name);
		rc_invite_req req = { .email = email, .role = "read-only", .username = name };
		if (rc_member_invite(s, &root, &req, &r) || rc_member_get(s, &root, name, &m)) {
			fprintf(stderr, "churn: %s\n", rc_errmsg());
			return 1;
		}
		fprintf(f, "%s %u\n", name, m.uid);
	}
	rc_store_batch(s, 0);
	rc_store_close(s);
	return !f || fclose(f) != 0;
}

static int write_changes(const char *dir, long n, long k)
{
	rc_config cfg;
	rc_store *s;
	char path[RC_PATH_MAX + 16];
	long bad = 0;

	if (open_store(dir, &s, &cfg)) {
		fprintf(stderr, "churn: %s\n", rc_errmsg());
		return 1;
	}
	snprintf(path, sizeof(path), "%s/state/%s", dir, RC_SNAP_FILE);
	for (long c = 0; c < k; c++) {
		char name[32];
		const char *role = (c / n) % 2 == 0 ? "developer" : "read-only";
		snprintf(name, sizeof(name), "m%ld", c % n);
		if (rc_member_set_role(s, &root, name, role)) {
			fprintf(stderr, "churn: change %ld: %s\n", c, rc_errmsg());
			return 1;
		}
		/* published when the call returns */
		rc_snap *sn;
		rc_snap_gr gr;
		const uint8_t *g;
		size_t ng;
		char grname[48];
		snprintf(grname, sizeof(grname), "rollcall-%s", role);
		if (rc_snap_open(&sn, path) || rc_snap_gr_byname(sn, grname, &gr) ||
		    rc_snap_groups(sn, name, &g, &ng) || ng != 2 || rc_le32(g) != gr.gid) {
			if (bad++ < 5)
				printf("change %ld: %s is not %s in the snapshot when the call returns\n", c,
				       name, role);
		}
		rc_snap_close(sn);
	}
	rc_store_close(s);
	printf("%ld changes, %ld not visible at once\n", k, bad);
	return bad != 0;
}

struct user {
	char name[32];
	uid_t uid;
};

static long bad;

static void wrong(const char *what, const char *name, long val)
{
	if (bad++ < 10)
		printf("wrong: %s %s (%ld)\n", what, name, val);
}

/* The developers NAMES[0..CNT) are one run from an end of m0..m{n-1}. */
struct run {
	char *seen;
	long n, cnt, lo, hi, bad;
};

static int run_add(void *ctx, const char *name)
{
	struct run *r = ctx;
	long k = name[0] == 'm' ? strtol(name + 1, NULL, 10) : -1;
	if (k < 0 || k >= r->n || r->seen[k]) {
		wrong("rollcall-developer: a stranger or twice:", name, k);
		return 0;
	}
	r->seen[k] = 1;
	r->cnt++;
	r->lo = k < r->lo ? k : r->lo;
	r->hi = k > r->hi ? k : r->hi;
	return 0;
}

static void run_check(struct run *r, const char *how)
{
	if (r->cnt && (r->hi - r->lo + 1 != r->cnt || (r->lo != 0 && r->hi != r->n - 1)))
		wrong("rollcall-developer: members not one run from an end:", how, r->cnt);
}

/* One round with a fresh handle of lib/'s reader. */
static void direct(const char *path, long n, const struct user *u, long i, uint32_t dev,
                   uint32_t ro)
{
	rc_snap *sn;
	rc_snap_pw pw;
	rc_snap_gr gr;
	const uint8_t *g;
	size_t ng;
	if (rc_snap_open(&sn, path) != RC_OK) {
		wrong("rc_snap_open:", path, 0);
		return;
	}
	if (rc_snap_pw_byname(sn, u[i].name, &pw) != RC_OK || pw.uid != u[i].uid)
		wrong("rc_snap_pw_byname:", u[i].name, 0);
	if (rc_snap_pw_byuid(sn, (uint32_t)u[i].uid, &pw) != RC_OK || strcmp(pw.name, u[i].name))
		wrong("rc_snap_pw_byuid:", u[i].name, 0);
	if (rc_snap_groups(sn, u[i].name, &g, &ng) != RC_OK || ng != 2 ||
	    (rc_le32(g) != dev && rc_le32(g) != ro))
		wrong("rc_snap_groups:", u[i].name, (long)ng);
	if (rc_snap_gr_byname(sn, "rollcall-developer", &gr) != RC_OK) {
		wrong("rc_snap_gr_byname:", "rollcall-developer", 0);
	} else {
		struct run r = { calloc((size_t)n, 1), n, 0, n, -1, 0 };
		if (rc_snap_gr_members(sn, &gr, run_add, &r) != RC_OK || r.cnt != (long)gr.nmem)
			wrong("rc_snap_gr_members:", "rollcall-developer", r.cnt);
		run_check(&r, "(lib)");
		free(r.seen);
	}
	rc_snap_close(sn);
}

static int read_loop(const char *dir, long n, const char *stop)
{
	char path[RC_PATH_MAX + 16];
	struct user *u = calloc((size_t)n, sizeof(*u));
	size_t blen = 1 << 20;
	char *buf = malloc(blen);
	long lookups = 0, unavail = 0;
	gid_t dev = 0, ro = 0, members = 0;

	char spath[RC_PATH_MAX + 16];
	snprintf(spath, sizeof(spath), "%s/state/%s", dir, RC_SNAP_FILE);
	snprintf(path, sizeof(path), "%s/users", dir);
	FILE *f = fopen(path, "r");
	if (!f || !u || !buf)
		return 1;
	for (long i = 0; i < n; i++)
		if (fscanf(f, "%31s %u", u[i].name, &u[i].uid) != 2)
			return 1;
	fclose(f);
	struct group gr, *gres;
	if (getgrnam_r("rollcall-developer", &gr, buf, blen, &gres) || !gres)
		return 1;
	dev = gr.gr_gid;
	if (getgrnam_r("rollcall-read-only", &gr, buf, blen, &gres) || !gres)
		return 1;
	ro = gr.gr_gid;
	if (getgrnam_r("rollcall-members", &gr, buf, blen, &gres) || !gres)
		return 1;
	members = gr.gr_gid;
	srand((unsigned)getpid());
	while (access(stop, F_OK) != 0) {
		long i = rand() % n;
		struct passwd pw, *pres;
		int e;
		/* name -> uid, uid -> name */
		e = getpwnam_r(u[i].name, &pw, buf, blen, &pres);
		if (e || !pres)
			wrong("getpwnam: not found:", u[i].name, e);
		else if (pw.pw_uid != u[i].uid)
			wrong("getpwnam: wrong uid:", u[i].name, (long)pw.pw_uid);
		e = getpwuid_r(u[i].uid, &pw, buf, blen, &pres);
		if (e || !pres)
			wrong("getpwuid: not found:", u[i].name, e);
		else if (strcmp(pw.pw_name, u[i].name) != 0)
			wrong("getpwuid: another name than", u[i].name, (long)u[i].uid);
		/* the member's groups: one role, and rollcall-members */
		gid_t groups[16];
		int ng = 16;
		if (getgrouplist(u[i].name, u[i].uid, groups, &ng) != 3)
			wrong("getgrouplist: groups of", u[i].name, ng);
		else {
			int roles = 0, all = 0;
			for (int k = 0; k < ng; k++) {
				roles += groups[k] == dev || groups[k] == ro;
				all += groups[k] == members;
			}
			if (roles != 1 || all != 1)
				wrong("getgrouplist: role groups of", u[i].name, roles);
		}
		/* the developers: a contiguous run of m0..m{n-1} */
		if (lookups % 8 == 0) {
			e = getgrnam_r("rollcall-developer", &gr, buf, blen, &gres);
			if (e || !gres) {
				wrong("getgrnam rollcall-developer:", "error", e);
			} else {
				struct run r = { calloc((size_t)n, 1), n, 0, n, -1, 0 };
				for (char **m = gr.gr_mem; *m; m++)
					run_add(&r, *m);
				run_check(&r, "(glibc)");
				free(r.seen);
			}
		}
		direct(spath, n, u, rand() % n, dev, ro);
		lookups++;
	}
	printf("%ld lookups, %ld wrong, %ld unavailable\n", lookups, bad, unavail);
	return bad != 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "populate") == 0)
		return populate(argv[2], atol(argv[3]));
	if (argc == 5 && strcmp(argv[1], "write") == 0)
		return write_changes(argv[2], atol(argv[3]), atol(argv[4]));
	if (argc == 5 && strcmp(argv[1], "read") == 0)
		return read_loop(argv[2], atol(argv[3]), argv[4]);
	fprintf(stderr, "usage: churn populate DIR N | write DIR N K | read DIR N STOP\n");
	return 2;
}
