/*
 * crypto.h - crypto.c: every libsodium primitive lib/ uses (keyed hashes,
 * sealing, argon2id, codes).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_CRYPTO_H
#define RC_CRYPTO_H

#include <stdint.h>
#include "rollcall.h"

/* ---- crypto ------------------------------------------------------------- */
#define RC_MASTER_KEY_LEN 32
int rc_master_key_create(const char *path);
int rc_master_key_load(const char *path, uint8_t key[RC_MASTER_KEY_LEN]);
void rc_code_generate(char out[RC_CODE_LEN + 1]);
int rc_code_normalize(const char *in, char out[21]);
int rc_code_normalize_len(const char *in, char *out, size_t want);  /* no message */
void rc_code_generate_len(char *out, size_t n);
void rc_base32_lower(const uint8_t *in, size_t n, char *out);
void rc_password_dummy_verify(unsigned long long ops, size_t mem, const char *pw);
void rc_code_hash(const rc_store *s, const char *normalized, uint8_t out[32]);
/* crypto.c owns the primitives: keyed BLAKE2b under the store's codes key
 * (DOMAIN first, "" for none), an unkeyed checksum, random bytes, sealing
 * under the store's secrets key, the store's keys from master.key. */
void rc_keyed_hash(const rc_store *s, const char *domain, const void *data, size_t n,
                   uint8_t out[32]);
void rc_checksum(const void *data, size_t n, uint8_t out[32]);
void rc_random_bytes(void *buf, size_t n);
uint32_t rc_random_below(uint32_t n);   /* uniform in 0..n-1 */
void rc_store_keys_derive(const uint8_t master[RC_MASTER_KEY_LEN], uint8_t codes[32],
                          uint8_t secrets[32]);
#define RC_SEAL_OVERHEAD 40   /* crypto_secretbox's nonce (24) and MAC (16) */
void rc_seal(const rc_store *s, const void *in, size_t n, uint8_t *out);
int rc_unseal(const rc_store *s, const uint8_t *in, size_t inlen, void *out, size_t outsz,
              size_t *n);
/* A new invitation or reset code and its keyed hash (what is stored):
 * fast (BLAKE2b of a 100-bit code), so a batch makes them all before its
 * write transaction. */
void rc_code_new(const rc_store *s, char code[RC_CODE_LEN + 1], uint8_t hash[32]);
/* Hashing is slow: never inside a write transaction.  The limits are read
 * in a read transaction of their own, then PW hashed outside any. */
int rc_password_hash(const char *pw, int64_t ops, int64_t mem_kib, char out[RC_PWHASH_MAX]);
int rc_password_verify(const char *hash, const char *pw);
void rc_svcpw_generate(char out[RC_SVCPW_MAX + 1]);
int rc_secret_encrypt(const rc_store *s, const char *pw, uint8_t *out,
                      size_t *outlen);
int rc_secret_decrypt(const rc_store *s, const uint8_t *in, size_t inlen,
                      char *out, size_t outsz);

#endif
