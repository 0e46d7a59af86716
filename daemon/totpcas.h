/*
 * totpcas.h - rollcalld's side of a TOTP step claimed across the fleet
 * (totpcas.c; the login's side is lib/totpclaim.h).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_TOTPCAS_H
#define RC_TOTPCAS_H

#include "fleetldap.h"

/* The socket STATE_DIR/rollcalld.sock (root's, 0600), listening; -1 on
 * failure.  LOG: rollcalld's logging. */
int totpcas_listen(const char *state_dir, void (*log)(int, const char *, ...));
/* A login's claim on the listening socket LFD answered (the directory
 * asked on FC's providers, as FC's host). */
void totpcas_serve(int lfd, const rc_fleet_conf *fc);
/* The socket and the directory connection closed. */
void totpcas_close(int lfd, const char *state_dir);

#endif
