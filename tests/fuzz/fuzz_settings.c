/*
 * fuzz_settings.c - libFuzzer target for the settings and duration parsers
 * and the validators every name and value goes through.
 *
 * The input is "KEY\0VALUE".  VALUE goes through rc_duration_parse,
 * rc_uint_parse, rc_perms_parse, every rc_valid_* and the status and
 * extension parsers; then rc_settings_set(KEY, VALUE) and
 * rc_billing_set(KEY, VALUE) on a real store.  Findings: a crash or
 * sanitizer report; a duration that does not format and parse back to
 * itself; a number outside the bounds asked for; a setting stored that does
 * not read back as a value the same parser accepts.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_store.h"

static rc_store *store;
static const rc_actor root = { .uid = 0, .origin = "fuzz" };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_store_setup();
	if (rc_store_open(&store, &fz.cfg, RC_OPEN_SHARED) != RC_OK)
		fuzz_die("open");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *key, *value;
	int64_t secs, again;
	uint64_t u;
	uint32_t mask;
	int st;
	char fmt[64], back[RC_SETTING_MAX];

	if (size > 4096)
		return 0;
	if (!(buf = malloc(size + 2)))
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	key = buf;
	value = buf + strlen(buf) + 1;
	if (value > buf + size)
		value = buf + size;

	if (rc_duration_parse(value, &secs) == RC_OK) {
		if (secs < 0)
			abort();
		rc_duration_format(secs, fmt, sizeof(fmt));
		if (rc_duration_parse(fmt, &again) != RC_OK || again != secs)
			abort();
	}
	if (rc_uint_parse(value, 5, 100000, &u) == RC_OK && (u < 5 || u > 100000))
		abort();
	if (rc_uint_parse(value, 0, UINT64_MAX, &u) == RC_OK) {
		snprintf(fmt, sizeof(fmt), "%llu", (unsigned long long)u);
		uint64_t v;
		if (rc_uint_parse(fmt, 0, UINT64_MAX, &v) != RC_OK || v != u)
			abort();
	}
	if (rc_perms_parse(value, &mask) == RC_OK) {
		char list[512];
		uint32_t again_mask;
		rc_perms_format(mask, list, sizeof(list));
		if (mask && (rc_perms_parse(list, &again_mask) != RC_OK || again_mask != mask))
			abort();
	}
	(void)rc_valid_username(value);
	(void)rc_valid_email(value);
	(void)rc_valid_full_name(value);
	(void)rc_valid_role_name(value);
	(void)rc_valid_service_name(value);
	(void)rc_valid_svcuser_name(value);
	(void)rc_valid_svcuser_password(value);
	(void)rc_member_status_parse(value, &st);
	(void)rc_token_extension_parse(value, &st);

	if (rc_settings_set(store, &root, key, value) == RC_OK) {
		if (rc_settings_get(store, &root, key, back, sizeof(back)) != RC_OK ||
		    rc_settings_set(store, &root, key, back) != RC_OK)
			abort();
	}
	(void)rc_billing_set(store, &root, key, value);
	free(buf);
	return 0;
}
