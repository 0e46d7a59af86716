/*
 * validate.h - validate.c's checks shared inside lib/ (control
 * characters).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_VALIDATE_H
#define RC_VALIDATE_H

#include <stdbool.h>

/* ---- control characters (validate.c): C0 and DEL ----------------------- */
bool rc_is_control(unsigned char c);
bool rc_has_control(const char *s, bool tab_ok);

#endif
