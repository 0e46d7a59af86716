/*
 * fuzz_pam.c - libFuzzer target for pam_sm_authenticate (and, when it
 * succeeds, pam_sm_acct_mgmt), called by the real Linux-PAM library:
 * pam_authenticate() and pam_acct_mgmt() on a service file of the fuzzer's
 * own.  The module's code is linked in (pam_module/libpamrollcall.la, with
 * the fuzzer's instrumentation: ./configure --enable-fuzzing); the service
 * names pam_fuzzshim.so (built beside this target, or FUZZ_PAM_SHIM), a
 * module whose pam_sm_* call fuzz_pam_sm_* below, so that libpam drives
 * the code the fuzzer measures.  The shim is loaded once at start with
 * RTLD_NODELETE: libpam's dlclose() would unmap its coverage counters.
 *
 * The input is split at NUL bytes: the first byte is the flags, then the
 * user name, then up to 8 module options, then the conversation's answers
 * (an empty field ends the options).  The options always begin with the
 * fuzz store's config= and state_dir=; the fuzzed ones follow and may
 * override them (bytes the service file cannot hold are written as "_").  Answers "@pw", "@code", "@totp", "@recovery", "@token"
 * and "@svcpw" stand for the fuzz store's real secrets (and the user name
 * "@svc" for the service's default user), so that the fuzzer reaches the
 * paths behind a right first factor.
 *
 * Findings: a crash or sanitizer report; a success for anything but a
 * member's or service user's real secrets; a return code outside PAM's.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dlfcn.h>
#include <libgen.h>
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include "fuzz_store.h"

#define MAX_FIELDS 24

struct script {
	const char *answers[MAX_FIELDS];
	int n, next;
	int secret_given;    /* a real secret was among the answers used */
};

static char confdir[300], service[400], module[4096];

static const char *expand(struct script *sc, const char *a)
{
	static char totp[7];
	const char *real = NULL;

	if (strcmp(a, "@pw") == 0)
		real = FUZZ_PASSWORD;
	else if (strcmp(a, "@code") == 0)
		real = fz.bob_code;
	else if (strcmp(a, "@recovery") == 0)
		real = fz.recovery;
	else if (strcmp(a, "@token") == 0)
		real = fz.token;
	else if (strcmp(a, "@svcpw") == 0)
		real = fz.svc_pw;
	else if (strcmp(a, "@totp") == 0 && rc_totp_code(fz.totp_secret, time(NULL), totp) == 0)
		real = totp;
	if (real)
		sc->secret_given = 1;
	return real ? real : a;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct script *sc = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		int style = msg[i]->msg_style;
		if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON)
			continue;
		if (sc->next >= sc->n) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_CONV_ERR;
		}
		r[i].resp = strdup(expand(sc, sc->answers[sc->next++]));
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* What pam_fuzzshim.so calls: the module's entry points, linked in. */
#define FUZZ_EXPORT __attribute__((visibility("default")))
FUZZ_EXPORT int fuzz_pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
                                         const char **argv);
FUZZ_EXPORT int fuzz_pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
                                         const char **argv)
{
	return pam_sm_authenticate(pamh, flags, argc, argv);
}

FUZZ_EXPORT int fuzz_pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
                                      const char **argv);
FUZZ_EXPORT int fuzz_pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
                                      const char **argv)
{
	return pam_sm_acct_mgmt(pamh, flags, argc, argv);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	const char *env = getenv("FUZZ_PAM_SHIM");
	char self[4096];

	if (env) {
		snprintf(module, sizeof(module), "%s", env);
	} else {
		/* libtool's: tests/fuzz/.libs/pam_fuzzshim.so beside tests/fuzz/fuzz_pam */
		snprintf(self, sizeof(self), "%s", (*argv)[0]);
		snprintf(module, sizeof(module), "%s/.libs/pam_fuzzshim.so", dirname(self));
	}
	if (module[0] != '/') {
		char cwd[2048];
		if (!getcwd(cwd, sizeof(cwd)))
			abort();
		snprintf(self, sizeof(self), "%s/%s", cwd, module);
		snprintf(module, sizeof(module), "%s", self);
	}
	if (!dlopen(module, RTLD_NOW | RTLD_NODELETE)) {
		fprintf(stderr, "fuzz_pam: %s (FUZZ_PAM_SHIM names another)\n", dlerror());
		abort();
	}
	fuzz_store_setup();
	snprintf(confdir, sizeof(confdir), "%s/pam.d", fz.dir);
	snprintf(service, sizeof(service), "%s/fuzz", confdir);
	if (mkdir(confdir, 0700) != 0)
		abort();
	return 0;
}

/* One option as the service file can hold it. */
static void put_option(FILE *f, const char *o)
{
	fputc(' ', f);
	for (; *o; o++)
		fputc((unsigned char)*o <= ' ' || *o == '[' || *o == ']' || *o == '\\' ||
		      (unsigned char)*o == 0x7f ? '_' : *o, f);
}

static void no_delay(int status, unsigned delay, void *appdata)
{
	(void)status;
	(void)delay;
	(void)appdata;
}

static int write_service(char *const *opts, int n)
{
	FILE *f = fopen(service, "w");
	if (!f)
		return -1;
	for (int t = 0; t < 2; t++) {
		fprintf(f, "%s required %s config=%s state_dir=%s", t ? "account" : "auth", module,
		        fz.conf, fz.cfg.state_dir);
		for (int i = 0; i < n; i++)
			put_option(f, opts[i]);
		fputc('\n', f);
	}
	return fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *fields[MAX_FIELDS];
	int nf = 0, nopts = 0;
	struct script sc = { .n = 0 };
	pam_handle_t *pamh = NULL;
	struct pam_conv pc = { conv, &sc };
	int flags, rc;

	if (size < 2 || size > 8192)
		return 0;
	flags = data[0] & 1 ? PAM_SILENT : 0;
	if (data[0] & 2)
		flags |= PAM_DISALLOW_NULL_AUTHTOK;
	if (!(buf = malloc(size)))
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	for (char *p = buf; nf < MAX_FIELDS && p < buf + size - 1; p += strlen(p) + 1)
		fields[nf++] = p;
	if (nf == 0)
		goto out;
	int i = 1;
	for (; i < nf && fields[i][0] && nopts < 8; i++)
		nopts++;
	for (i++; i < nf; i++)
		sc.answers[sc.n++] = fields[i];
	if (write_service(fields + 1, nopts) != 0)
		abort();

	/* an empty user name: libpam asks for one through the conversation */
	const char *user = strcmp(fields[0], "@svc") == 0 ? fz.svc_user : fields[0];
	if (pam_start_confdir("fuzz", user[0] ? user : NULL, &pc, confdir, &pamh) != PAM_SUCCESS)
		goto out;
	/* an address: libpam's audit record would look a name up in the DNS */
	(void)pam_set_item(pamh, PAM_RHOST, "192.0.2.7");
	/* the fuzzer takes the failure delay the module asks for (pam_unix's
	 * 2 s) itself, as sshd does: by not waiting */
	(void)pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)(uintptr_t)no_delay);
	rc = pam_authenticate(pamh, flags);
	if (getenv("FUZZ_DEBUG"))
		fprintf(stderr, "fuzz_pam: user \"%s\", %d options, %d answers: %s\n", user,
		        nopts, sc.n, pam_strerror(pamh, rc));
	switch (rc) {
	case PAM_SUCCESS:
		if (!sc.secret_given)
			abort();   /* let in without a real secret */
		rc = pam_acct_mgmt(pamh, flags);
		switch (rc) {
		/* pam_sm_acct_mgmt(3)'s answers */
		case PAM_SUCCESS: case PAM_ACCT_EXPIRED: case PAM_AUTH_ERR:
		case PAM_NEW_AUTHTOK_REQD: case PAM_PERM_DENIED: case PAM_USER_UNKNOWN:
		case PAM_SERVICE_ERR: case PAM_BUF_ERR: case PAM_AUTHINFO_UNAVAIL:
		case PAM_SYSTEM_ERR:
			break;
		default:
			fprintf(stderr, "pam_acct_mgmt returned %d\n", rc);
			abort();
		}
		break;
	/* pam_sm_authenticate(3)'s answers, and the errors any module may give */
	case PAM_AUTH_ERR: case PAM_CRED_INSUFFICIENT: case PAM_AUTHINFO_UNAVAIL:
	case PAM_USER_UNKNOWN: case PAM_MAXTRIES:
	case PAM_SERVICE_ERR: case PAM_CONV_ERR: case PAM_BUF_ERR: case PAM_ABORT:
	case PAM_INCOMPLETE: case PAM_PERM_DENIED: case PAM_SYSTEM_ERR:
		break;
	default:
		fprintf(stderr, "pam_authenticate returned %d (%s)\n", rc, pam_strerror(pamh, rc));
		abort();
	}
	pam_end(pamh, rc);
out:
	free(buf);
	return 0;
}
