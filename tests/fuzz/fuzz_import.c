/*
 * fuzz_import.c - libFuzzer target for the member import file's parser
 * (rc_import_parse).  Findings: a crash or sanitizer report, a row without
 * an email or a role, a field outside the buffer, a bad line without a
 * reason or with line 0, rows out of line order.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "rollcall.h"

static void bad(unsigned long line, const char *reason, void *ctx)
{
	(void)ctx;
	if (line == 0 || !reason || !reason[0])
		abort();
}

static void inside(const char *f, const char *buf, size_t size)
{
	if (f && (f < buf || f + strlen(f) > buf + size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rc_import_hooks h = { .bad = bad };
	rc_import_row *rows = NULL;
	size_t n = 0;
	char *buf = malloc(size + 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	int rc = rc_import_parse(buf, size, &rows, &n, &h);
	if (rc != RC_OK && rc != RC_ERR_INVALID && rc != RC_ERR_NOMEM)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (!rows[i].req.email || !rows[i].req.role || rows[i].line < 2 ||
		    (i && rows[i].line <= rows[i - 1].line))
			abort();
		inside(rows[i].req.email, buf, size);
		inside(rows[i].req.role, buf, size);
		inside(rows[i].req.username, buf, size);
		inside(rows[i].req.full_name, buf, size);
	}
	free(rows);
	free(buf);
	return 0;
}
