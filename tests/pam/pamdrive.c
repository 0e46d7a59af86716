/*
 * pamdrive - run PAM operations on one handle through the real Linux-PAM
 * library (with pam_wrapper: PAM_WRAPPER_SERVICE_DIR holds the service
 * files) using libpamtest, with a scripted conversation.
 *
 *   pamdrive [-s SERVICE] [-a ANSWER | -A FILE]... [-q] [-x] [-m] [-t N] USER OP=EXPECT...
 *
 * OP is auth, setcred, acct, chauthtok, open, close or env; EXPECT a PAM
 * return code without its PAM_ prefix (SUCCESS, AUTH_ERR, USER_UNKNOWN,
 * NEW_AUTHTOK_REQD, ...).  Each prompt takes the next ANSWER
 * (echo on or off alike); the ANSWER "@enroll" is the TOTP code, computed
 * by oathtool, of the "Key: " shown earlier in the conversation.  Every
 * message is printed ("info: ...", "error: ..."), as is every prompt, the
 * result of each operation ("auth: SUCCESS") and, for env, the PAM
 * environment.  -q (silent) passes PAM_SILENT to every operation, -x
 * PAM_CHANGE_EXPIRED_AUTHTOK to chauthtok (as sshd and login do).
 * With -t N, the operations are run N times on fresh handles and the median
 * time of one run is printed ("median_us: 1234"), after each run's time
 * ("sample_us: 1200").
 *
 * With -m, the peak memory of the process is printed at the end
 * ("maxrss_kb: 70000"): argon2id's, when one ran.
 *
 * Exit status: 0 every operation returned what was expected, 1 not, 2 usage.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_appl.h>
#include <libpamtest.h>

#define MAX_ANSWERS 32
#define MAX_OPS 16

static const char *answers[MAX_ANSWERS];
static int nanswers, next_answer;
static char last_key[128];
static int quiet_output;

static const struct {
	const char *name;
	int code;
} codes[] = {
	{ "SUCCESS", PAM_SUCCESS }, { "AUTH_ERR", PAM_AUTH_ERR },
	{ "USER_UNKNOWN", PAM_USER_UNKNOWN }, { "NEW_AUTHTOK_REQD", PAM_NEW_AUTHTOK_REQD },
	{ "AUTHINFO_UNAVAIL", PAM_AUTHINFO_UNAVAIL }, { "PERM_DENIED", PAM_PERM_DENIED },
	{ "ACCT_EXPIRED", PAM_ACCT_EXPIRED }, { "MAXTRIES", PAM_MAXTRIES },
	{ "AUTHTOK_ERR", PAM_AUTHTOK_ERR }, { "AUTHTOK_RECOVERY_ERR", PAM_AUTHTOK_RECOVERY_ERR },
	{ "SERVICE_ERR", PAM_SERVICE_ERR }, { "IGNORE", PAM_IGNORE },
	{ "SESSION_ERR", PAM_SESSION_ERR }, { "BUF_ERR", PAM_BUF_ERR },
	{ "CONV_ERR", PAM_CONV_ERR }, { "SYSTEM_ERR", PAM_SYSTEM_ERR },
	{ "CRED_INSUFFICIENT", PAM_CRED_INSUFFICIENT }, { "ABORT", PAM_ABORT },
	{ "TRY_AGAIN", PAM_TRY_AGAIN },
};

static const char *code_name(int c)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == c)
			return codes[i].name;
	return "OTHER";
}

static int code_parse(const char *s, int *c)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].name, s) == 0) {
			*c = codes[i].code;
			return 0;
		}
	return -1;
}

static const struct {
	const char *name;
	enum pamtest_ops op;
} ops[] = {
	{ "auth", PAMTEST_AUTHENTICATE }, { "setcred", PAMTEST_SETCRED },
	{ "acct", PAMTEST_ACCOUNT }, { "chauthtok", PAMTEST_CHAUTHTOK },
	{ "open", PAMTEST_OPEN_SESSION }, { "close", PAMTEST_CLOSE_SESSION },
	{ "env", PAMTEST_GETENVLIST },
};

/* The TOTP code of KEY now, from oathtool (an independent implementation). */
static int oathtool_code(const char *key, char *out, size_t len)
{
	char cmd[256];
	FILE *p;

	for (const char *k = key; *k; k++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= '2' && *k <= '7')))
			return -1;
	snprintf(cmd, sizeof(cmd), "oathtool --totp -b '%s'", key);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(out, (int)len, p)) {
		pclose(p);
		return -1;
	}
	out[strcspn(out, "\n")] = '\0';
	return pclose(p) == 0 ? 0 : -1;
}

static void note_message(const char *prefix, const char *msg)
{
	const char *k = strstr(msg, "Key: ");

	if (k) {
		size_t n = strcspn(k + 5, "\n ");
		if (n < sizeof(last_key)) {
			memcpy(last_key, k + 5, n);
			last_key[n] = '\0';
		}
	}
	if (!quiet_output)
		printf("%s: %s\n", prefix, msg);
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	char code[32];

	(void)data;
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *a;
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			if (!quiet_output)
				printf("prompt: %s\n", msg[i]->msg);
			if (next_answer >= nanswers) {
				if (!quiet_output)
					printf("conv: no answer left\n");
				goto fail;
			}
			a = answers[next_answer++];
			if (strcmp(a, "@enroll") == 0) {
				if (!last_key[0] || oathtool_code(last_key, code, sizeof(code)) != 0) {
					printf("conv: no key to compute a code from\n");
					goto fail;
				}
				a = code;
			} else if (strcmp(a, "@fail") == 0) {
				goto fail;   /* an application that cannot answer */
			}
			r[i].resp = strdup(a);
			if (!r[i].resp)
				goto fail;
			break;
		case PAM_TEXT_INFO:
			note_message("info", msg[i]->msg);
			break;
		case PAM_ERROR_MSG:
			note_message("error", msg[i]->msg);
			break;
		default:
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (int i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
	return PAM_CONV_ERR;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct pam_testcase tc[MAX_OPS];
	const char *service = "rollcall-test", *user;
	int ntc = 0, ch, times = 0, silent = 0, expired = 0, maxrss = 0, status = 0;
	long long *samples = NULL;

	while ((ch = getopt(argc, argv, "s:a:A:t:qxm")) != -1) {
		switch (ch) {
		case 's': service = optarg; break;
		case 'a':
			if (nanswers == MAX_ANSWERS)
				return 2;
			answers[nanswers++] = optarg;
			break;
		case 'A': {
			/* an answer read from a file (for answers too big for argv) */
			FILE *f = fopen(optarg, "rb");
			char *buf = NULL;
			size_t cap = 0;
			if (!f || nanswers == MAX_ANSWERS)
				return 2;
			ssize_t n = getdelim(&buf, &cap, '\0', f);
			fclose(f);
			if (n < 0)
				buf = strdup("");
			else if (n > 0 && buf[n - 1] == '\n')
				buf[n - 1] = '\0';
			answers[nanswers++] = buf;
			break;
		}
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1000)
				return 2;
			times = (int)v;
			break;
		}
		case 'q': silent = 1; break;
		case 'x': expired = 1; break;
		case 'm': maxrss = 1; break;
		default: return 2;
		}
	}
	if (optind + 2 > argc || times < 0 || times > 1000) {
		fprintf(stderr, "usage: pamdrive [-s SERVICE] [-a ANSWER]... [-q] [-x] [-t N] USER "
		        "OP=EXPECT...\n");
		return 2;
	}
	user = argv[optind++];
	for (; optind < argc && ntc < MAX_OPS; optind++) {
		char *eq = strchr(argv[optind], '=');
		size_t k;
		if (!eq)
			return 2;
		*eq = '\0';
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
			if (strcmp(ops[k].name, argv[optind]) == 0)
				break;
		if (k == sizeof(ops) / sizeof(ops[0])) {
			fprintf(stderr, "pamdrive: unknown operation %s\n", argv[optind]);
			return 2;
		}
		memset(&tc[ntc], 0, sizeof(tc[ntc]));
		tc[ntc].pam_operation = ops[k].op;
		tc[ntc].flags = silent ? PAM_SILENT : 0;
		if (expired && ops[k].op == PAMTEST_CHAUTHTOK)
			tc[ntc].flags |= PAM_CHANGE_EXPIRED_AUTHTOK;
		if (code_parse(eq + 1, &tc[ntc].expected_rv) != 0) {
			fprintf(stderr, "pamdrive: unknown PAM code %s\n", eq + 1);
			return 2;
		}
		ntc++;
	}
	if (times) {
		samples = calloc((size_t)times, sizeof(*samples));
		if (!samples)
			return 2;
		quiet_output = 1;
	}
	for (int run = 0; run < (times ? times : 1); run++) {
		struct timespec t0, t1;
		next_answer = 0;
		last_key[0] = '\0';
		/* libpamtest stops at the first result that is not the expected
		 * one: the operations after it are "not run" */
		for (int i = 0; i < ntc; i++)   /* libpamtest sets no result for env */
			tc[i].op_rv = tc[i].pam_operation == PAMTEST_GETENVLIST ? PAM_SUCCESS : -1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		(void)_pamtest_conv(service, user, conv, NULL, tc, (size_t)ntc, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (times)
			samples[run] = (t1.tv_sec - t0.tv_sec) * 1000000LL +
			               (t1.tv_nsec - t0.tv_nsec) / 1000;
		for (int i = 0; i < ntc; i++) {
			const char *name = "?";
			for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
				if (ops[k].op == tc[i].pam_operation)
					name = ops[k].name;
			if (tc[i].op_rv == -1 && i > 0) {
				if (!times)
					printf("%s: not run\n", name);
				status = 1;
				continue;
			}
			if (!times)
				printf("%s: %s\n", name, code_name(tc[i].op_rv));
			if (tc[i].expected_rv != tc[i].op_rv)
				status = 1;
			if (tc[i].pam_operation == PAMTEST_GETENVLIST && tc[i].case_out.envlist) {
				for (char **e = tc[i].case_out.envlist; *e; e++)
					if (!times)
						printf("env: %s\n", *e);
				pamtest_free_env(tc[i].case_out.envlist);
				tc[i].case_out.envlist = NULL;
			}
		}
	}
	if (maxrss) {
		struct rusage ru;
		if (getrusage(RUSAGE_SELF, &ru) == 0)
			printf("maxrss_kb: %ld\n", ru.ru_maxrss);
	}
	if (times) {
		for (int i = 0; i < times; i++)
			printf("sample_us: %lld\n", samples[i]);
		qsort(samples, (size_t)times, sizeof(*samples), cmp_ll);
		printf("median_us: %lld\n", samples[times / 2]);
		free(samples);
	}
	fflush(stdout);
	return status;
}
