/*
 * bench_nss.c - NSS lookups through glibc, for "make bench-nss" (see
 * bench/nss.sh, which runs it in private mount namespaces so that glibc's
 * own sources and rollcall's answer for the same users).
 *
 *   bench_nss populate DIR N   a store in DIR/state with N members (and a
 *                              service per 1000 of them), its snapshot's
 *                              publish time, and DIR/passwd, DIR/group and
 *                              DIR/users with the same entries
 *   bench_nss lookup DIR SAMPLES SOURCE
 *                              median and p99 of getpwnam_r, getpwuid_r,
 *                              getgrnam_r and getgrouplist through glibc
 *                              (DIR/med.SOURCE: the medians); for rollcall,
 *                              then an enumeration, timed, and the bytes
 *                              of the snapshot mapped (DIR/enum), and the
 *                              process's first lookup (DIR/first.SOURCE:
 *                              the manifest opened, a shard mapped and its
 *                              directory made)
 *   bench_nss memlat FILE MIB  this machine's cost of one random read of a
 *                              MIB MiB file mapping (populated, as the
 *                              module maps a shard), each read depending on
 *                              the one before: what one place a lookup
 *                              touches in a snapshot of that size costs
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <dlfcn.h>
#include <errno.h>
#include <nss.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"
#include "snapshot.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int die(const char *what)
{
	fprintf(stderr, "bench_nss: %s: %s\n", what, rc_errmsg());
	return 1;
}

/* libnss-cache's index: fixed-width entries "key\0offset\0...\n" sorted by
 * strcmp of the key, giving the offset of the entry's line in the .cache file. */
struct ixent { char key[40]; long off; };

static int ixcmp(const void *a, const void *b)
{
	return strcmp(((const struct ixent *)a)->key, ((const struct ixent *)b)->key);
}

static int cache_index(const char *path, struct ixent *e, size_t n)
{
	size_t width = 0;
	FILE *f = fopen(path, "w");
	if (!f)
		return 1;
	qsort(e, n, sizeof(*e), ixcmp);
	for (size_t i = 0; i < n; i++) {
		char off[24];
		size_t w = strlen(e[i].key) + 1 + (size_t)snprintf(off, sizeof(off), "%ld", e[i].off) + 2;
		if (w > width)
			width = w;
	}
	for (size_t i = 0; i < n; i++) {
		char line[128];
		memset(line, 0, sizeof(line));
		size_t k = strlen(e[i].key);
		memcpy(line, e[i].key, k);
		snprintf(line + k + 1, sizeof(line) - k - 1, "%ld", e[i].off);
		line[width - 1] = '\n';
		fwrite(line, 1, width, f);
	}
	return fclose(f) != 0;
}

struct memctx {
	FILE *f;
	int i;
};

static int put_member(void *ctx, const char *name)
{
	struct memctx *m = ctx;
	fprintf(m->f, "%s%s", m->i++ ? "," : "", name);
	return 0;
}

static int populate(const char *dir, size_t n)
{
	static const char *const roles[] = { "developer", "read-only", "operator", "admin" };
	char path[RC_PATH_MAX];
	rc_config cfg;
	rc_store *s;
	rc_code_result r;
	rc_actor root = { .uid = 0, .origin = "bench" };
	rc_txn t;
	int rc = 0;

	rc_config_defaults(&cfg);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", dir);
	cfg.id_min = 1000000;
	cfg.id_max = 3999999;
	if (rc_store_create(&cfg, "owner@example.com", "owner", &r) || rc_store_open(&s, &cfg, 0))
		return die("create");
	double t0 = now_us();
	/* service default users get cheap password hashes: this measures NSS */
	if (rc_settings_set(s, &root, "argon2.memlimit_kib", "8192") ||
	    rc_settings_set(s, &root, "argon2.opslimit", "1"))
		return die("settings");
	for (size_t i = 0; i < n / 1000; i++) {
		char svc[32];
		rc_secret_result sec;
		snprintf(svc, sizeof(svc), "svc%zu", i);
		if (rc_service_create(s, &root, svc, &sec))
			return die("service");
	}
	/* an import: batch mode, published once a second and at the end */
	rc_store_batch(s, 1);
	for (size_t done = 0; done < n;) {
		size_t batch = n - done > 20000 ? 20000 : n - done;
		if (rc_txn_begin(s, &root, true, &t))
			return die("begin");
		for (size_t i = 0; i < batch && !rc; i++, done++) {
			char email[64], name[32];
			snprintf(name, sizeof(name), "user%zu", done);
			snprintf(email, sizeof(email), "%s@example.com", name);
			rc_invite_req req = { .email = email, .role = roles[done % 4], .username = name,
			                      .full_name = "Bench User" };
			rc = rc_invite_in(&t, &req, &r);
		}
		if (rc || rc_txn_end(&t, rc))
			return die("invite");
	}
	rc_store_batch(s, 0);
	double fill_s = (now_us() - t0) / 1e6;
	/* publish once more, timed (the last change already published) */
	rc_txn_begin(s, &root, true, &t);
	rc_meta_put_u64(&t, "@generation", 1ull << 40);
	rc_txn_end(&t, RC_OK);
	t0 = now_us();
	if (rc_snapshot_publish(s))
		return die("publish");
	double pub_ms = (now_us() - t0) / 1e3;
	rc_store_close(s);

	/* the same users and groups as files, from the snapshot */
	rc_snap *sn;
	snprintf(path, sizeof(path), "%s/state/%s", dir, RC_SNAP_FILE);
	if (rc_snap_open(&sn, path))
		return die("snapshot");
	FILE *pw, *gr, *us;
	size_t cap = 1024, npw = 0, ngr = 0;
	struct ixent *pwn = malloc(cap * sizeof(*pwn)), *pwu = malloc(cap * sizeof(*pwu));
	struct ixent *grn = NULL, *grg = NULL;
	snprintf(path, sizeof(path), "%s/passwd", dir);
	pw = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/group", dir);
	gr = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/users", dir);
	us = fopen(path, "w");
	if (!pw || !gr || !us)
		return 1;
	fprintf(pw, "root:x:0:0:root:/root:/bin/bash\n");
	fprintf(gr, "root:x:0:\n");
	rc_snap_pw e;
	char last[64] = "";
	while (rc_snap_pw_next(sn, last[0] ? last : NULL, &e) == RC_OK) {
		if (npw == cap) {
			cap *= 2;
			pwn = realloc(pwn, cap * sizeof(*pwn));
			pwu = realloc(pwu, cap * sizeof(*pwu));
		}
		pwn[npw].off = pwu[npw].off = ftell(pw);
		snprintf(pwn[npw].key, sizeof(pwn[npw].key), "%s", e.name);
		snprintf(pwu[npw].key, sizeof(pwu[npw].key), "%u", e.uid);
		npw++;
		fprintf(pw, "%s:x:%u:%u:%s:%s:%s\n", e.name, e.uid, e.gid, e.gecos, e.dir, e.shell);
		fprintf(us, "%s %u %u\n", e.name, e.uid, e.gid);
		snprintf(last, sizeof(last), "%s", e.name);
	}
	rc_snap_gr g;
	last[0] = '\0';
	cap = 1024;
	grn = malloc(cap * sizeof(*grn));
	grg = malloc(cap * sizeof(*grg));
	while (rc_snap_gr_next(sn, last[0] ? last : NULL, &g) == RC_OK) {
		if (ngr == cap) {
			cap *= 2;
			grn = realloc(grn, cap * sizeof(*grn));
			grg = realloc(grg, cap * sizeof(*grg));
		}
		grn[ngr].off = grg[ngr].off = ftell(gr);
		snprintf(grn[ngr].key, sizeof(grn[ngr].key), "%s", g.name);
		snprintf(grg[ngr].key, sizeof(grg[ngr].key), "%u", g.gid);
		ngr++;
		fprintf(gr, "%s:x:%u:", g.name, g.gid);
		struct memctx mc = { gr, 0 };
		rc_snap_gr_members(sn, &g, put_member, &mc);
		fputc('\n', gr);
		snprintf(last, sizeof(last), "%s", g.name);
	}
	rc_snap_close(sn);
	fclose(pw);
	fclose(gr);
	fclose(us);
	/* libnss-cache's files: the same data, with its indexes written after */
	static const char *const ix[4][2] = { { "passwd", "ixname" }, { "passwd", "ixuid" },
	                                      { "group", "ixname" }, { "group", "ixgid" } };
	struct ixent *ie[4] = { pwn, pwu, grn, grg };
	size_t in[4] = { npw, npw, ngr, ngr };
	for (int i = 0; i < 4; i++) {
		char src[RC_PATH_MAX], dst[RC_PATH_MAX + 16];
		snprintf(src, sizeof(src), "%s/%s", dir, ix[i][0]);
		snprintf(dst, sizeof(dst), "%s/%s.cache", dir, ix[i][0]);
		if (i % 2 == 0 && link(src, dst) != 0)
			return 1;
		snprintf(dst, sizeof(dst), "%s/%s.cache.%s", dir, ix[i][0], ix[i][1]);
		if (cache_index(dst, ie[i], in[i]))
			return 1;
		free(ie[i]);
	}
	printf("populate %zu: %.1f s, publish %.1f ms\n", n, fill_s, pub_ms);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct user { char name[32]; uid_t uid; gid_t gid; };

/* "module": the module's own functions, without glibc around them */
static struct {
	enum nss_status (*pwnam)(const char *, struct passwd *, char *, size_t, int *);
	enum nss_status (*pwuid)(uid_t, struct passwd *, char *, size_t, int *);
	enum nss_status (*grnam)(const char *, struct group *, char *, size_t, int *);
	enum nss_status (*initgr)(const char *, gid_t, long *, long *, gid_t **, long, int *);
} mod;

static int direct(int fn, const struct user *p, char *buf, size_t len)
{
	struct passwd pw;
	struct group gr;
	int err;
	static gid_t *g;
	static long size;
	long start = 0;
	switch (fn) {
	case 0: return mod.pwnam(p->name, &pw, buf, len, &err) == NSS_STATUS_SUCCESS;
	case 1: return mod.pwuid(p->uid, &pw, buf, len, &err) == NSS_STATUS_SUCCESS;
	case 2: return mod.grnam(p->name, &gr, buf, len, &err) == NSS_STATUS_SUCCESS;
	default: return mod.initgr(p->name, p->gid, &start, &size, &g, 0, &err) == NSS_STATUS_SUCCESS;
	}
}

/* Enumeration through glibc, timed; then how much of the snapshot this
 * process has mapped (every shard is, after an enumeration) against the
 * size of its files. */
static void enumerate(const char *dir)
{
	struct passwd pw, *res;
	static char buf[4096];
	size_t users = 0;
	double t0 = now_us();

	setpwent();
	while (getpwent_r(&pw, buf, sizeof(buf), &res) == 0 && res)
		users++;
	endpwent();
	double ms = (now_us() - t0) / 1e3;
	unsigned long long mapped = 0, lo, hi;
	char line[4096], path[RC_PATH_MAX];
	FILE *f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f))
		if ((strstr(line, "/" RC_SNAP_DIR "/") || strstr(line, "/" RC_SNAP_FILE)) &&
		    sscanf(line, "%llx-%llx", &lo, &hi) == 2)
			mapped += hi - lo;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/enum", dir);
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "%zu %.0f %.2f\n", users, ms, (double)mapped / 1048576.0);
		fclose(f);
	}
}

static int lookup(const char *dir, size_t samples, const char *source)
{
	char path[RC_PATH_MAX];
	static char buf[1 << 26];   /* files needs whole lines: 1M-member groups */
	struct user *u = NULL;
	size_t n = 0, cap = 0;
	FILE *f;
	double *lat = malloc(samples * sizeof(double)), med[4], p99[4];

	snprintf(path, sizeof(path), "%s/users", dir);
	if (!(f = fopen(path, "r")))
		return 1;
	struct user x;
	while (fscanf(f, "%31s %u %u", x.name, &x.uid, &x.gid) == 3) {
		if (strncmp(x.name, "user", 4) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			u = realloc(u, cap * sizeof(*u));
		}
		u[n++] = x;
	}
	fclose(f);
	if (!n)
		return 1;
	bool is_module = strcmp(source, "module") == 0;
	if (is_module) {
		void *h = dlopen("libnss_rollcall.so.2", RTLD_NOW);
		if (!h)
			return 1;
		*(void **)&mod.pwnam = dlsym(h, "_nss_rollcall_getpwnam_r");
		*(void **)&mod.pwuid = dlsym(h, "_nss_rollcall_getpwuid_r");
		*(void **)&mod.grnam = dlsym(h, "_nss_rollcall_getgrnam_r");
		*(void **)&mod.initgr = dlsym(h, "_nss_rollcall_initgroups_dyn");
	}
	srand(42);
	for (int fn = 0; fn < 4; fn++) {
		for (size_t i = 0; i < samples; i++) {
			struct user *p = &u[((size_t)rand() * 7919u) % n];
			struct passwd pw, *pres = NULL;
			struct group gr, *gres = NULL;
			gid_t groups[64];
			int ng = 64, ok;
			double t0 = now_us();
			if (is_module)
				ok = direct(fn, p, buf, sizeof(buf));
			else switch (fn) {
			case 0: ok = getpwnam_r(p->name, &pw, buf, sizeof(buf), &pres) == 0 && pres; break;
			case 1: ok = getpwuid_r(p->uid, &pw, buf, sizeof(buf), &pres) == 0 && pres; break;
			case 2: ok = getgrnam_r(p->name, &gr, buf, sizeof(buf), &gres) == 0 && gres; break;
			default: ok = getgrouplist(p->name, p->gid, groups, &ng) >= 2; break;
			}
			lat[i] = now_us() - t0;
			if (!ok) {
				fprintf(stderr, "bench_nss: %s: lookup %d of %s failed\n", source, fn, p->name);
				return 1;
			}
		}
		if (fn == 0) {   /* the first lookup of the process */
			snprintf(path, sizeof(path), "%s/first.%s", dir, source);
			if ((f = fopen(path, "w")) != NULL) {
				fprintf(f, "%.1f\n", lat[0]);
				fclose(f);
			}
		}
		qsort(lat, samples, sizeof(double), cmp);
		med[fn] = lat[samples / 2];
		p99[fn] = lat[samples * 99 / 100];
	}
	printf("| %-9s | %8zu | %10.2f / %-10.2f | %10.2f / %-10.2f | %10.2f / %-10.2f | %10.2f / %-10.2f |\n",
	       source, n, med[0], p99[0], med[1], p99[1], med[2], p99[2], med[3], p99[3]);
	/* the medians, for nss.sh's ratios */
	snprintf(path, sizeof(path), "%s/med.%s", dir, source);
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "%.3f %.3f %.3f %.3f\n", med[0], med[1], med[2], med[3]);
		fclose(f);
	}
	if (strcmp(source, "rollcall") == 0)
		enumerate(dir);
	free(lat);
	free(u);
	return 0;
}

static volatile uint64_t sink;

static int memlat(const char *path, size_t mib)
{
	size_t len = mib << 20, n = 200000;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)len) != 0)
		return 1;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	close(fd);
	unlink(path);
	if (p == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < len; i += 64)
		p[i] = (uint8_t)(i >> 6);
	uint64_t x = 88172645463325252ull;
	double t0 = now_us();
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		x += p[(x % len) & ~(uint64_t)63];   /* the next address depends on it */
	}
	double ns = (now_us() - t0) * 1000.0 / (double)n;
	sink = x;
	printf("%.0f\n", ns);
	munmap(p, len);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t v;
	if (argc == 4 && strcmp(argv[1], "populate") == 0 &&
	    rc_uint_parse(argv[3], 1, 2000000, &v) == RC_OK)
		return populate(argv[2], (size_t)v);
	if (argc == 5 && strcmp(argv[1], "lookup") == 0 &&
	    rc_uint_parse(argv[3], 1, 10000000, &v) == RC_OK)
		return lookup(argv[2], (size_t)v, argv[4]);
	if (argc == 4 && strcmp(argv[1], "memlat") == 0 &&
	    rc_uint_parse(argv[3], 1, 65536, &v) == RC_OK)
		return memlat(argv[2], (size_t)v);
	fprintf(stderr, "usage: bench_nss populate DIR N | bench_nss lookup DIR SAMPLES SOURCE | "
	                "bench_nss memlat FILE MIB\n");
	return 2;
}
