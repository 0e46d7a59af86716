/*
 * handle.c - what the store handle tells: its configuration, its clock
 * (the tests inject one), the warning a committed change left.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <time.h>
#include "errors.h"
#include "txn.h"

RC_API void rc_store_set_clock(rc_store *s, rc_clock_fn fn)
{
	s->clock = fn;
}

RC_API int64_t rc_store_now(const rc_store *s)
{
	return s->clock ? s->clock() : (int64_t)time(NULL);
}

RC_API const rc_config *rc_store_config(const rc_store *s)
{
	return &s->cfg;
}

RC_API const char *rc_store_warning(const rc_store *s)
{
	return s->warning[0] ? s->warning : NULL;
}
