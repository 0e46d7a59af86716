/*
 * service.h - service.c: services and service users inside a transaction.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_SERVICE_H
#define RC_SERVICE_H

#include "txn.h"

int rc_service_load(rc_txn *t, const char *name, rc_service *svc);
int rc_svcuser_load(rc_txn *t, const char *name, rc_svcuser_rec *u);
int rc_svcuser_put(rc_txn *t, const rc_svcuser_rec *u);

#endif
