/*
 * fuzz_codec.c - libFuzzer target for the record codec (lib/codec.c).
 *
 * The first byte picks a record type; the rest is handed to its decoder as
 * a record read from the store.  A record that decodes must encode again,
 * and that encoding must decode to the same record and encode to the same
 * bytes (the codec is canonical): a decoder that accepts what the encoder
 * cannot write, or loses a field, is a finding.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define ROUNDTRIP(type, dec, enc)                                              \
	do {                                                                   \
		type *a = calloc(1, sizeof(type)), *b = calloc(1, sizeof(type)); \
		rc_wbuf w1, w2;                                                \
		if (!a || !b)                                                  \
			abort();                                               \
		if (dec(data, size, a) == RC_OK) {                             \
			if (enc(a, &w1) != RC_OK)                              \
				abort();                                       \
			if (dec(w1.p, w1.len, b) != RC_OK)                     \
				abort();                                       \
			if (enc(b, &w2) != RC_OK)                              \
				abort();                                       \
			if (w1.len != w2.len || memcmp(w1.p, w2.p, w1.len) != 0) \
				abort();                                       \
			rc_wbuf_free(&w1);                                     \
			rc_wbuf_free(&w2);                                     \
		}                                                              \
		free(a);                                                       \
		free(b);                                                       \
	} while (0)

static int setting_dec(const void *data, size_t len, char *value)
{
	return rc_setting_decode(data, len, value, 256);
}

static int setting_enc(const char *value, rc_wbuf *w)
{
	return rc_setting_encode(value, w);
}


int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	if (len < 1)
		return 0;
	const uint8_t *data = in + 1;
	size_t size = len - 1;

	switch (in[0] % 10) {
	case 0: ROUNDTRIP(rc_member_rec, rc_member_decode, rc_member_encode); break;
	case 1: ROUNDTRIP(rc_role, rc_role_decode, rc_role_encode); break;
	case 2: ROUNDTRIP(rc_invitation, rc_invitation_decode, rc_invitation_encode); break;
	case 3: ROUNDTRIP(rc_service, rc_service_decode, rc_service_encode); break;
	case 4: ROUNDTRIP(rc_svcuser_rec, rc_svcuser_decode, rc_svcuser_encode); break;
	case 5: ROUNDTRIP(rc_audit_entry, rc_audit_decode, rc_audit_encode); break;
	case 6: ROUNDTRIP(rc_token_rec, rc_token_decode, rc_token_encode); break;
	case 7: ROUNDTRIP(rc_host_user, rc_host_user_decode, rc_host_user_encode); break;
	case 8: ROUNDTRIP(rc_host_token, rc_host_token_decode, rc_host_token_encode); break;
	default: {
		char a[256], b[256];
		rc_wbuf w1, w2;
		if (setting_dec(data, size, a) == RC_OK) {
			if (setting_enc(a, &w1) != RC_OK || setting_dec(w1.p, w1.len, b) != RC_OK ||
			    setting_enc(b, &w2) != RC_OK || w1.len != w2.len ||
			    memcmp(w1.p, w2.p, w1.len) != 0)
				abort();
			rc_wbuf_free(&w1);
			rc_wbuf_free(&w2);
		}
		break;
	}
	}
	return 0;
}
