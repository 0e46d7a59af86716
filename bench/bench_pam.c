/*
 * bench_pam.c - what an authentication costs.  Run by bench/pam.sh ("make
 * bench"); never a timed test.
 *
 *   bench_pam pam SERVICE USER ANSWER N
 *       pam_authenticate() N times on one kept PAM handle (the module stays
 *       loaded and its store open, as in a long-lived process), every
 *       prompt answered with ANSWER; prints the median and 90th percentile
 *       and how many calls returned PAM_SUCCESS.
 *   bench_pam token STATE_DIR USER
 *       print a new login token for USER (setup).
 *   bench_pam core N
 *       rollcall's TOTP check alone (decrypt the secret, liboath with one
 *       step of skew, constant-time compare) on a throw-away store, and the
 *       argon2id verification at the default limits, shown apart.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_appl.h>
#include <sodium.h>
#include "internal.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *lat, size_t n, const char *unit, double div)
{
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("%-52s median %9.2f %s   p90 %9.2f %s   (n=%zu)\n", what, lat[n / 2] / div, unit,
	       lat[n * 9 / 10] / div, unit, n);
}

static const char *answer;

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *d)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	(void)d;
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(answer);
	*resp = r;
	return PAM_SUCCESS;
}

static int bench_pam(const char *service, const char *user, size_t n)
{
	struct pam_conv c = { conv, NULL };
	pam_handle_t *h = NULL;
	double *lat = calloc(n, sizeof(*lat));
	size_t ok = 0;
	char what[128];

	if (!lat || pam_start(service, user, &c, &h) != PAM_SUCCESS)
		return 1;
	(void)pam_authenticate(h, PAM_SILENT);   /* load the module, open the store */
	for (size_t i = 0; i < n; i++) {
		(void)pam_set_item(h, PAM_AUTHTOK, NULL);
		double t0 = now_us();
		int rv = pam_authenticate(h, PAM_SILENT);
		lat[i] = now_us() - t0;
		ok += rv == PAM_SUCCESS;
	}
	pam_end(h, PAM_SUCCESS);
	snprintf(what, sizeof(what), "%s: pam_authenticate (%zu/%zu succeeded)", service, ok, n);
	report(what, lat, n, "us", 1);
	free(lat);
	return 0;
}

static int bench_core(size_t n)
{
	char dir[] = "/tmp/rc-bench-XXXXXX", cmd[64], code[7];
	char hash[crypto_pwhash_STRBYTES];
	rc_config cfg;
	rc_store *s = NULL;
	rc_code_result r;
	rc_actor root = { .uid = 0, .origin = "bench" };
	rc_mfa_enrollment e;
	rc_member_rec m0, m;
	rc_txn t;
	double *lat = calloc(n, sizeof(*lat));
	size_t argon_n = n < 20 ? n : 20;
	int via, rc;

	if (!lat || !mkdtemp(dir))
		return 1;
	rc_config_defaults(&cfg);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", dir);
	if (rc_store_create(&cfg, "owner@example.com", NULL, &r) || rc_store_open(&s, &cfg, 0)) {
		fprintf(stderr, "bench_pam: %s\n", rc_errmsg());
		return 1;
	}
	rc = rc_txn_begin(s, &root, true, &t);   /* aborted at the end: nothing stored */
	if (!rc)
		rc = rc_member_load(&t, "owner", &m0);
	if (!rc)
		rc = rc_totp_enroll(&t, &m0, &e);
	m0.totp_enabled = 1;
	m0.totp_pending = 0;
	if (!rc)
		rc = rc_totp_code(e.secret, rc_store_now(s), code);
	for (size_t i = 0; !rc && i < n; i++) {
		m = m0;
		double t0 = now_us();
		rc = rc_totp_check(&t, &m, code, &via);
		lat[i] = now_us() - t0;
	}
	if (!rc)
		report("rollcall: TOTP check (right code, +-1 step)", lat, n, "us", 1);
	for (size_t i = 0; !rc && i < n; i++) {
		m = m0;
		double t0 = now_us();
		(void)rc_totp_check(&t, &m, "000000", &via);
		lat[i] = now_us() - t0;
	}
	if (!rc)
		report("rollcall: TOTP check (wrong code, 3 steps tried)", lat, n, "us", 1);
	(void)rc_txn_end(&t, RC_ERR_STATE);   /* abort */
	if (!rc && crypto_pwhash_str(hash, "a password of twenty", 20, 2, 65536u * 1024) != 0)
		rc = 1;
	for (size_t i = 0; !rc && i < argon_n; i++) {
		double t0 = now_us();
		(void)rc_password_verify(hash, "a password of twenty");
		lat[i] = now_us() - t0;
	}
	if (!rc)
		report("argon2id verify (default limits: t=2, 64 MiB)", lat, argon_n, "ms", 1000);
	if (rc)
		fprintf(stderr, "bench_pam: %s\n", rc_errmsg());
	rc_mfa_enrollment_clear(&e);
	rc_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_pam: could not remove %s\n", dir);
	free(lat);
	return rc ? 1 : 0;
}

/* A login token for USER in the store of STATE_DIR, printed (the setup of
 * the token benchmark; a separate process from the PAM one). */
static int mint(const char *state_dir, const char *user)
{
	rc_config cfg;
	rc_store *s = NULL;
	char tok[RC_TOKEN_LEN + 1], id[RC_TOKEN_ID_LEN + 1];
	int rc;

	rc_config_defaults(&cfg);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", state_dir);
	rc = rc_store_open(&s, &cfg, 0);
	if (!rc)
		rc = rc_login_session_open(s, "bench", user, tok, id);
	if (!rc)
		printf("%s\n", tok);
	else
		fprintf(stderr, "bench_pam: %s\n", rc_errmsg());
	rc_store_close(s);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "token") == 0)
		return mint(argv[2], argv[3]);
	if (argc == 6 && strcmp(argv[1], "pam") == 0) {
		answer = argv[4];
		return bench_pam(argv[2], argv[3], (size_t)strtoul(argv[5], NULL, 10));
	}
	if (argc == 3 && strcmp(argv[1], "core") == 0)
		return bench_core((size_t)strtoul(argv[2], NULL, 10));
	fprintf(stderr, "usage: bench_pam pam SERVICE USER ANSWER N | bench_pam core N | "
	        "bench_pam token STATE_DIR USER\n");
	return 2;
}
