/*
 * bench_store.c - what the store costs: member invitations (one write
 * transaction each, with its audit record), member lookups, a full member
 * listing, and the audit log, at growing sizes.  Run by "make bench"; never
 * a timed test.  Usage: bench_store [N ...]  (default 1000 10000)
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "rollcall.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int count_cb(const rc_member *m, void *ctx)
{
	(void)m;
	(*(size_t *)ctx)++;
	return RC_OK;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int run(size_t n)
{
	char dir[] = "/tmp/rc-bench-XXXXXX", cmd[128], email[64], name[32];
	rc_config cfg;
	rc_store *s = NULL;
	rc_code_result r;
	rc_actor root = { .uid = 0, .origin = "bench" };
	double t0, *lat;
	size_t listed = 0;

	if (!mkdtemp(dir))
		return 1;
	rc_config_defaults(&cfg);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", dir);
	cfg.id_max = 4000000;
	if (rc_store_create(&cfg, "owner@example.com", NULL, &r) || rc_store_open(&s, &cfg, 0)) {
		fprintf(stderr, "bench: %s\n", rc_errmsg());
		return 1;
	}
	t0 = now_us();
	for (size_t i = 0; i < n; i++) {
		snprintf(email, sizeof(email), "user%zu@example.com", i);
		rc_invite_req req = { .email = email, .role = "read-only" };
		if (rc_member_invite(s, &root, &req, &r)) {
			fprintf(stderr, "bench: %s\n", rc_errmsg());
			return 1;
		}
	}
	double invite_us = (now_us() - t0) / (double)n;

	lat = malloc(n * sizeof(*lat));
	for (size_t i = 0; i < n; i++) {
		rc_member m;
		snprintf(name, sizeof(name), "user%zu", (i * 7919) % n);
		t0 = now_us();
		if (rc_member_get(s, &root, name, &m))
			return 1;
		lat[i] = now_us() - t0;
	}
	qsort(lat, n, sizeof(*lat), cmp_double);

	t0 = now_us();
	rc_member_foreach(s, &root, NULL, count_cb, &listed);
	double list_ms = (now_us() - t0) / 1e3;

	rc_status st;
	rc_store_status(s, &root, &st);
	printf("| %8zu | %10.1f | %8.2f | %8.2f | %9.1f | %10zu | %9.1f |\n", n, invite_us,
	       lat[n / 2], lat[n * 99 / 100], list_ms, st.audit_entries,
	       (double)st.map_used / (1024.0 * 1024.0));
	free(lat);
	rc_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) != 0;
}

int main(int argc, char **argv)
{
	printf("| members  | invite µs  | get p50µs| get p99µs| list ms   | audit recs | store MiB |\n");
	printf("|----------|------------|----------|----------|-----------|------------|-----------|\n");
	if (argc < 2) {
		static const size_t sizes[] = { 1000, 10000 };
		for (size_t i = 0; i < 2; i++)
			if (run(sizes[i]))
				return 1;
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		char *end;
		unsigned long v = strtoul(argv[i], &end, 10);
		if (*end || v == 0 || v > 1000000) {
			fprintf(stderr, "bench: bad size \"%s\" (1 to 1000000)\n", argv[i]);
			return 2;
		}
		if (run(v))
			return 1;
	}
	return 0;
}
