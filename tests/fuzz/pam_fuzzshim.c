/*
 * pam_fuzzshim.c - the PAM module that fuzz_pam's service file names.
 * fuzz_pam links the module's code (pam_module/libpamrollcall.la, built
 * with the fuzzer's instrumentation); libpam loads this module and calls
 * its pam_sm_authenticate and pam_sm_acct_mgmt, which hand the call to
 * the fuzzer's copy (fuzz_pam_sm_*, exported by the fuzz_pam executable),
 * so that libpam drives the very code whose coverage the fuzzer measures.
 * Built only by ./configure --enable-fuzzing; never installed.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <security/pam_modules.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

/* in fuzz_pam */
int fuzz_pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv);
int fuzz_pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv);

SHIM_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv);
SHIM_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return fuzz_pam_sm_authenticate(pamh, flags, argc, argv);
}

SHIM_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv);
SHIM_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return fuzz_pam_sm_acct_mgmt(pamh, flags, argc, argv);
}
