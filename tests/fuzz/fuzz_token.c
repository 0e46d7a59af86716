/*
 * fuzz_token.c - libFuzzer target for the token parser: rc_token_check_format
 * on the raw input, then the input as a login secret for a user through
 * rc_login_begin (the path a token takes in the PAM module).
 *
 * The first byte: bit 0 repairs the checksum of a token-shaped input (so
 * the fuzzer gets past it to the lookup), bit 1 puts the real token's id in
 * (so it reaches the secret and owner checks), bits 2-3 pick the user
 * (alice, who owns the token; carol; bob, pending; an unknown name).
 * Findings: a crash or sanitizer report, a format accepted that is not
 * rct_ + 16 + _ + 56 + 8 base32 characters with a right checksum, or a
 * login that passes with anything but the real token (or alice's password).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "fuzz_store.h"

static rc_store *store;

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

static int b32(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

/* The form, checked independently of lib/token.c (not the checksum). */
static int shaped(const char *t)
{
	if (strlen(t) != RC_TOKEN_LEN || strncmp(t, "rct_", 4) != 0 || t[20] != '_')
		return 0;
	for (int i = 4; i < RC_TOKEN_LEN; i++)
		if (i != 20 && !b32(t[i]))
			return 0;
	return 1;
}

static void fix_checksum(char *t)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t h[32];
	crypto_generichash(h, sizeof(h), (const uint8_t *)t, 77, NULL, 0);
	/* 5 bytes = 40 bits = 8 base32 characters */
	uint64_t v = 0;
	for (int i = 0; i < 5; i++)
		v = v << 8 | h[i];
	for (int i = 0; i < 8; i++)
		t[77 + i] = alphabet[(v >> (35 - 5 * i)) & 31];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const users[] = { "alice", "carol", "bob", "nosuchuser" };
	char *tok;
	rc_login l;

	if (size < 1 || size > 4096)
		return 0;
	if (!(tok = malloc(size)))
		return 0;
	memcpy(tok, data + 1, size - 1);
	tok[size - 1] = '\0';
	if ((data[0] & 2) && strlen(tok) >= 20)
		memcpy(tok + 4, fz.token + 4, 16);
	if ((data[0] & 1) && strlen(tok) == RC_TOKEN_LEN)
		fix_checksum(tok);

	int ok = rc_token_check_format(tok) == RC_OK;
	if (ok && !shaped(tok))
		abort();
	/* the password path costs an argon2 hash: only for token-shaped input
	 * and one input in sixteen otherwise */
	if (ok || (data[0] & 0xf0) == 0) {
		const char *user = users[(data[0] >> 2) & 3];
		memset(&l, 0, sizeof(l));
		int rc = rc_login_begin(store, &l, "fuzz", user, tok, 0);
		if (rc == RC_OK && strcmp(tok, fz.token) != 0 && strcmp(tok, FUZZ_PASSWORD) != 0)
			abort();
		rc_login_clear(&l);
	}
	sodium_memzero(tok, size);
	free(tok);
	return 0;
}
