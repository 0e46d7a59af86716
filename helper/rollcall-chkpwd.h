/*
 * rollcall-chkpwd.h - the exit statuses of the helper, shared by the helper
 * and pam_rollcall (which maps them to PAM's codes in one place).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef ROLLCALL_CHKPWD_H
#define ROLLCALL_CHKPWD_H

enum {
	RC_CHKPWD_YES = 0,          /* the secret is right, the account usable */
	RC_CHKPWD_NO = 1,           /* wrong, a second factor or a new password
	                               needed, or the account refused */
	RC_CHKPWD_UNKNOWN = 2,      /* not a rollcall user */
	RC_CHKPWD_LOCKED = 3,       /* locked after too many failures */
	RC_CHKPWD_NOT_ALLOWED = 4,  /* the caller may not verify this user */
	RC_CHKPWD_UNAVAIL = 5,      /* store, configuration or request unusable */
	RC_CHKPWD_DENIED = 6,       /* account: roles= or permission= refuse it */
	RC_CHKPWD_EXPIRED = 7,      /* account: inactive, pending, service stopped */
	RC_CHKPWD_NEW_AUTHTOK = 8,  /* account: a new password is required */
	RC_CHKPWD_LIMITED = 9,      /* the caller is over caller_failures */
	RC_CHKPWD_YES_TOKEN = 10,   /* auth: yes, and the secret was a token */
	RC_CHKPWD_MALFORMED = 99    /* (the helper's own: a malformed request) */
};

/* The serving mode: pam_rollcall starts the helper once per process as
 * "rollcall-chkpwd --serve" with one end of a socket pair on its standard
 * input, and sends requests: a 4-byte length (host order) and that many
 * bytes, "USER\nSERVICE\nREQUEST-LINE\n" and the secret; each is answered
 * by one byte, a status above.  The helper ends at the end of its input,
 * on a malformed frame or request, after RC_CHKPWD_IDLE_S seconds without
 * one, or RC_CHKPWD_LIFE_S seconds after it started. */
#define RC_CHKPWD_SERVE "--serve"
#define RC_CHKPWD_FRAME_MAX 2048
#define RC_CHKPWD_IDLE_S 60
#define RC_CHKPWD_LIFE_S 600   /* then it ends, and the next request starts another */
#define RC_CHKPWD_READ_S 10    /* a request, whole, from its first byte */

#endif
