/*
 * totpclaim.h - a TOTP step claimed across a fleet: the login asks this
 * host's rollcalld (a root-only socket in the state directory), which asks
 * the directory with one compare-and-swap; the code is then accepted on
 * one host of the fleet only.  Without a fleet, or when rollcalld or the
 * directory does not answer in time, single use holds on this host only
 * (pam_rollcall(8), TWO-FACTOR ON A HOST IN A FLEET).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_TOTPCLAIM_H
#define RC_TOTPCLAIM_H

#include <stdint.h>

#define RC_TOTP_CLAIM_SOCKET "rollcalld.sock"
#define RC_TOTP_CLAIM_MAGIC 0x52435431u   /* "RCT1" */
#define RC_TOTP_CLAIM_TIMEOUT_MS 1000

enum {
	RC_CLAIM_WON = 0,       /* the step is this login's, fleet-wide */
	RC_CLAIM_LOST = 1,      /* another host accepted this step or a later one */
	RC_CLAIM_OFFLINE = 2,   /* rollcalld or the directory did not answer */
	RC_CLAIM_NOFLEET = 3    /* this state directory joined no fleet */
};

/* One request, one answer, each a single datagram (SOCK_SEQPACKET). */
typedef struct rc_totp_claim_req {
	uint32_t magic;
	uint32_t uid;           /* the member's (never reused) */
	int64_t step;           /* the TOTP step the code belongs to */
} rc_totp_claim_req;

typedef struct rc_totp_claim_rep {
	uint32_t magic;
	int32_t outcome;        /* RC_CLAIM_* */
} rc_totp_claim_rep;

/* Claim STEP for UID across the fleet STATE_DIR joined: an RC_CLAIM_*
 * (never blocks longer than TIMEOUT_MS).  Called with no transaction
 * open. */
int rc_totp_claim(const char *state_dir, uint32_t uid, int64_t step, int timeout_ms);
/* The outcome's name, for the audit record. */
const char *rc_totp_claim_name(int outcome);

#endif
