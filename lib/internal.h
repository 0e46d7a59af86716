/*
 * internal.h - every header of lib/ at once, for code not yet moved to the
 * headers it uses (each lib/X.c declares what it offers in lib/X.h;
 * store.h is the engine, txn.h the domain's handle and transaction).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_INTERNAL_H
#define RC_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "errors.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "mail.h"
#include "validate.h"
#include "crypto.h"
#include "fsutil.h"
#include "actor.h"
#include "ids.h"
#include "member.h"
#include "role.h"
#include "service.h"
#include "settings.h"
#include "notify.h"
#include "audit.h"
#include "token.h"
#include "hoststate.h"
#include "totp.h"
#include "publish.h"
#include "auth.h"

#endif
