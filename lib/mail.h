/*
 * mail.h - mail.c's checks of text, shared with config.c.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_MAIL_H
#define RC_MAIL_H

#include <stdbool.h>
#include <stddef.h>

/* ---- mail.c's checks, shared with config.c ------------------------------ */
bool rc_utf8_valid(const char *s, size_t n);
/* Every {name} in TEXT is in ALLOWED ("{{" is a literal "{"): 0, or 1 with
 * the first unknown name in BAD. */
int rc_placeholders_check(const char *text, const char *const *allowed, char *bad,
                          size_t badlen);
extern const char *const rc_login_hint_placeholders[];

#endif
