/*
 * crypto.c - master key, codes, password hashing and secret encryption,
 * all with libsodium.  Every buffer that held a secret is wiped.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sodium.h>
#include <string.h>
#include "crypto.h"
#include "errors.h"
#include "txn.h"
#include "fsutil.h"

static const char code_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int rc_master_key_create(const char *path)
{
	uint8_t key[RC_MASTER_KEY_LEN];
	int rc = RC_OK;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return rc_fail(RC_ERR_STORE, "cannot create %s: %s", path, strerror(errno));
	randombytes_buf(key, sizeof(key));
	if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd) < 0)
		rc = rc_fail(RC_ERR_STORE, "cannot write %s: %s", path, strerror(errno));
	sodium_memzero(key, sizeof(key));
	if (close(fd) < 0 && !rc)
		rc = rc_fail(RC_ERR_STORE, "cannot write %s: %s", path, strerror(errno));
	if (rc)
		unlink(path);
	return rc;
}

int rc_master_key_load(const char *path, uint8_t key[RC_MASTER_KEY_LEN])
{
	struct stat st;
	int rc = RC_OK;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		if (errno == ELOOP)
			return rc_fail(RC_ERR_STORE, "master key %s is a symlink", path);
		return rc_fail(RC_ERR_STORE, "cannot open master key %s: %s", path,
		               strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = rc_fail(RC_ERR_STORE, "cannot stat master key %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = rc_fail(RC_ERR_STORE, "master key %s is not a regular file", path);
		goto out;
	}
	rc = rc_check_owner_mode(path, &st, 0077, "master key");
	if (rc)
		goto out;
	if (st.st_size != RC_MASTER_KEY_LEN) {
		rc = rc_fail(RC_ERR_STORE, "master key %s has %lld bytes, not %d", path,
		             (long long)st.st_size, RC_MASTER_KEY_LEN);
		goto out;
	}
	if (read(fd, key, RC_MASTER_KEY_LEN) != RC_MASTER_KEY_LEN) {
		sodium_memzero(key, RC_MASTER_KEY_LEN);
		rc = rc_fail(RC_ERR_STORE, "cannot read master key %s", path);
	}
out:
	close(fd);
	return rc;
}

/* 20 characters of the 32-letter alphabet (100 bits): one random byte
 * each, of which 5 bits (256 is a multiple of 32: uniform). */
void rc_code_generate(char out[RC_CODE_LEN + 1])
{
	uint8_t r[20];
	size_t o = 0;

	randombytes_buf(r, sizeof(r));
	for (int i = 0; i < 20; i++) {
		if (i && i % 5 == 0)
			out[o++] = '-';
		out[o++] = code_alphabet[r[i] & 31];
	}
	out[o] = '\0';
	sodium_memzero(r, sizeof(r));
}

/* Upper-case, drop '-' and spaces, read O as 0 and I/L as 1; exactly WANT
 * characters of the code alphabet must remain. */
int rc_code_normalize_len(const char *in, char *out, size_t want)
{
	size_t o = 0;
	for (const char *p = in; *p; p++) {
		char c = *p;
		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c == 'O')
			c = '0';
		else if (c == 'I' || c == 'L')
			c = '1';
		if (!strchr(code_alphabet, c) || c == '\0' || o >= want) {
			sodium_memzero(out, want + 1);
			return RC_ERR_INVALID;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	if (o != want) {
		sodium_memzero(out, want + 1);
		return RC_ERR_INVALID;
	}
	return RC_OK;
}

int rc_code_normalize(const char *in, char out[21])
{
	if (rc_code_normalize_len(in, out, 20) != RC_OK)
		return rc_fail(RC_ERR_INVALID,
		               "not a rollcall code (20 letters and digits, like "
		               "XXXXX-XXXXX-XXXXX-XXXXX)");
	return RC_OK;
}

/* N characters of the code alphabet, a '-' after every 5. */
void rc_code_generate_len(char *out, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && i % 5 == 0)
			out[o++] = '-';
		out[o++] = code_alphabet[randombytes_uniform(32)];
	}
	out[o] = '\0';
}

void rc_base32_lower(const uint8_t *in, size_t n, char *out)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	acc = 0;
}

/* A dummy verification with the current limits, so that an unknown user or
 * a path without a password costs what a known user's password costs.  The
 * dummy hash string is made up (random salt and digest) rather than
 * computed: computing it would cost a second hashing, and a PAM module is
 * loaded afresh for each handle (sshd: each connection). */
void rc_password_dummy_verify(unsigned long long ops, size_t mem, const char *pw)
{
	uint8_t salt[crypto_pwhash_SALTBYTES], digest[32];
	char hash[crypto_pwhash_STRBYTES], b64salt[32], b64digest[48];
	int n;

	rc_slow_work("argon2id (dummy verification)");
	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(digest, sizeof(digest));
	sodium_bin2base64(b64salt, sizeof(b64salt), salt, sizeof(salt),
	                  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	sodium_bin2base64(b64digest, sizeof(b64digest), digest, sizeof(digest),
	                  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	n = snprintf(hash, sizeof(hash), "$argon2id$v=19$m=%zu,t=%llu,p=1$%s$%s", mem / 1024,
	             ops, b64salt, b64digest);
	if (n > 0 && (size_t)n < sizeof(hash) &&
	    crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0)
		hash[0] = '\0';   /* a made-up digest never matches */
}

void rc_keyed_hash(const rc_store *s, const char *domain, const void *data, size_t n,
                   uint8_t out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, s->key_codes, sizeof(s->key_codes), 32);
	crypto_generichash_update(&st, (const uint8_t *)domain, strlen(domain));
	crypto_generichash_update(&st, data, n);
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
}

void rc_checksum(const void *data, size_t n, uint8_t out[32])
{
	crypto_generichash(out, 32, data, n, NULL, 0);
}

void rc_random_bytes(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

uint32_t rc_random_below(uint32_t n)
{
	return randombytes_uniform(n);
}

void rc_store_keys_derive(const uint8_t master[RC_MASTER_KEY_LEN], uint8_t codes[32],
                          uint8_t secrets[32])
{
	crypto_kdf_derive_from_key(codes, 32, 1, "rc-codes", master);
	crypto_kdf_derive_from_key(secrets, 32, 2, "rc-secrt", master);
}

void rc_code_hash(const rc_store *s, const char *normalized, uint8_t out[32])
{
	rc_keyed_hash(s, "", normalized, strlen(normalized), out);
}

void rc_code_new(const rc_store *s, char code[RC_CODE_LEN + 1], uint8_t hash[32])
{
	char norm[21];

	rc_code_generate(code);
	(void)rc_code_normalize(code, norm);
	rc_code_hash(s, norm, hash);
	sodium_memzero(norm, sizeof(norm));
}

int rc_password_hash(const char *pw, int64_t ops, int64_t mem_kib, char out[RC_PWHASH_MAX])
{
	rc_slow_work("argon2id (hashing)");
	if (strlen(pw) > RC_PASSWORD_MAX)
		return rc_fail(RC_ERR_INVALID, "password longer than %d bytes", RC_PASSWORD_MAX);
	if (crypto_pwhash_str(out, pw, strlen(pw), (unsigned long long)ops,
	                      (size_t)mem_kib * 1024) != 0)
		return rc_fail(RC_ERR_NOMEM, "out of memory while hashing a password");
	return RC_OK;
}

int rc_password_verify(const char *hash, const char *pw)
{
	rc_slow_work("argon2id (verification)");
	if (!hash[0])
		return 0;
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

void rc_svcpw_generate(char out[RC_SVCPW_MAX + 1])
{
	static const char set[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
	for (int i = 0; i < RC_SVCPW_MAX; i++)
		out[i] = set[randombytes_uniform(sizeof(set) - 1)];
	out[RC_SVCPW_MAX] = '\0';
}

_Static_assert(RC_SEAL_OVERHEAD == crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES,
               "RC_SEAL_OVERHEAD");
_Static_assert(RC_TOTP_ENC_LEN == RC_SEAL_OVERHEAD + RC_TOTP_SECRET_LEN, "RC_TOTP_ENC_LEN");

/* Sealing: a random nonce, then the secretbox of the N bytes (MAC first),
 * under the store's secrets key: RC_SEAL_OVERHEAD bytes more. */
void rc_seal(const rc_store *s, const void *in, size_t n, uint8_t *out)
{
	randombytes_buf(out, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, in, n, out, s->key_secrets);
}

int rc_unseal(const rc_store *s, const uint8_t *in, size_t inlen, void *out, size_t outsz,
              size_t *n)
{
	if (inlen < RC_SEAL_OVERHEAD || inlen - RC_SEAL_OVERHEAD > outsz)
		return rc_fail(RC_ERR_STORE, "a stored secret has a bad size");
	if (crypto_secretbox_open_easy(out, in + crypto_secretbox_NONCEBYTES,
	                               inlen - crypto_secretbox_NONCEBYTES, in,
	                               s->key_secrets) != 0) {
		sodium_memzero(out, outsz);
		return rc_fail(RC_ERR_STORE, "a stored secret does not decrypt (wrong master.key?)");
	}
	*n = inlen - RC_SEAL_OVERHEAD;
	return RC_OK;
}

int rc_secret_encrypt(const rc_store *s, const char *pw, uint8_t *out, size_t *outlen)
{
	size_t n = strlen(pw);
	if (n > RC_SVCPW_MAX)
		return rc_fail(RC_ERR_INVALID, "secret too long");
	rc_seal(s, pw, n, out);
	*outlen = RC_SEAL_OVERHEAD + n;
	return RC_OK;
}

int rc_secret_decrypt(const rc_store *s, const uint8_t *in, size_t inlen,
                      char *out, size_t outsz)
{
	size_t n = 0;
	int rc;

	if (outsz == 0)
		return rc_fail(RC_ERR_STORE, "a stored secret has a bad size");
	if ((rc = rc_unseal(s, in, inlen, out, outsz - 1, &n)) != RC_OK)
		return rc;
	out[n] = '\0';
	return RC_OK;
}
