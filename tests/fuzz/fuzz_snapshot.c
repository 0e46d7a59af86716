/*
 * fuzz_snapshot.c - libFuzzer target for the NSS snapshot reader
 * (lib/snapread.c) and the NSS module's copying into callers' buffers
 * (nss_module/nss_rollcall.c, built into this target).
 *
 * The input is a list of records, each [key length u8][key][value length
 * u16 LE][value]: they are written into a fresh LMDB snapshot file (LMDB's
 * own page format is LMDB's to check; what is fuzzed here is every record
 * the reader decodes), and every NSS entry point runs over it: lookups by
 * every name and id found, enumeration, initgroups, with a large buffer
 * and with a small one whose guard bytes must stay untouched.
 * Findings: a crash or sanitizer report, a write past the caller's buffer,
 * a SUCCESS with a NULL or unterminated field, or a status NSS does not
 * define.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "../../nss_module/nss_rollcall.c"
#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], file[300];

static void cleanup(void)
{
	unlink(file);
	rmdir(dir);
}

static void check_status(enum nss_status s)
{
	if (s != NSS_STATUS_SUCCESS && s != NSS_STATUS_NOTFOUND && s != NSS_STATUS_UNAVAIL &&
	    s != NSS_STATUS_TRYAGAIN)
		abort();
}

#define GUARD 16
static size_t small_len;

/* Run F with a big buffer and a small one; check the guard after each. */
#define TWICE(call)                                                               \
	do {                                                                      \
		static char big[8192 + GUARD];                                    \
		char *sb = malloc(small_len + GUARD);                             \
		if (!sb)                                                          \
			abort();                                                  \
		memset(big + 8192, 0xa5, GUARD);                                  \
		memset(sb + small_len, 0xa5, GUARD);                              \
		{ char *buf = big; size_t len = 8192; check_status(call); }       \
		{ char *buf = sb; size_t len = small_len; check_status(call); }   \
		for (int g = 0; g < GUARD; g++)                                   \
			if ((unsigned char)big[8192 + g] != 0xa5 ||               \
			    (unsigned char)sb[small_len + g] != 0xa5)             \
				abort();                                          \
		free(sb);                                                         \
	} while (0)

static void check_pw(const struct passwd *pw)
{
	if (!pw->pw_name || !pw->pw_passwd || !pw->pw_gecos || !pw->pw_dir || !pw->pw_shell)
		abort();
	(void)strlen(pw->pw_name);
	(void)strlen(pw->pw_gecos);
	(void)strlen(pw->pw_dir);
	(void)strlen(pw->pw_shell);
}

static void check_gr(const struct group *gr)
{
	if (!gr->gr_name || !gr->gr_passwd || !gr->gr_mem)
		abort();
	for (char **m = gr->gr_mem; *m; m++)
		(void)strlen(*m);
}

static int write_snapshot(const uint8_t *data, size_t size)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc = -1;

	unlink(file);
	if (mdb_env_create(&env))
		abort();
	mdb_env_set_mapsize(env, 4 << 20);
	if (mdb_env_open(env, file, MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOLOCK, 0644))
		abort();
	if (mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, NULL, 0, &dbi))
		abort();
	size_t off = 0;
	while (off < size) {
		size_t kl = data[off++];
		if (off + kl + 2 > size)
			break;
		MDB_val k = { kl, (void *)(uintptr_t)(data + off) };
		off += kl;
		size_t vl = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (vl > size - off)
			vl = size - off;
		MDB_val v = { vl, (void *)(uintptr_t)(data + off) };
		off += vl;
		if (kl > 0)
			(void)mdb_put(txn, dbi, &k, &v, 0);
	}
	if (mdb_txn_commit(txn) == 0)
		rc = 0;
	mdb_env_close(env);
	return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/rollcall-fuzz-snap.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	snprintf(file, sizeof(file), "%s/%s", dir, RC_SNAP_FILE);
	setenv("ROLLCALL_STATE_DIR", dir, 1);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct passwd pw;
	struct group gr;
	int err;
	char names[16][RC_NAME_MAX + 2];
	uint32_t ids[16];
	int nn = 0, ni = 0;

	if (size < 1 || size > 65536)
		return 0;
	small_len = data[0];
	if (write_snapshot(data + 1, size - 1))
		return 0;
	/* the module opens the new file on its next call */
	pthread_mutex_lock(&lock);
	stale = true;
	pthread_mutex_unlock(&lock);

	/* names and ids the records mention, and a few that they do not */
	for (size_t off = 1; off < size && nn < 14;) {
		size_t kl = data[off++];
		if (off + kl + 2 > size)
			break;
		if (kl > 1 && kl <= RC_NAME_MAX + 1) {
			memcpy(names[nn], data + off + 1, kl - 1);
			names[nn][kl - 1] = '\0';
			nn++;
		}
		if (kl == 5 && ni < 14)
			ids[ni++] = (uint32_t)data[off + 1] << 24 | (uint32_t)data[off + 2] << 16 |
			            (uint32_t)data[off + 3] << 8 | data[off + 4];
		off += kl;
		size_t vl = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2 + (vl > size - off - 2 ? size - off - 2 : vl);
	}
	snprintf(names[nn++], sizeof(names[0]), "alice");
	snprintf(names[nn++], sizeof(names[0]), "rollcall-members");
	ids[ni++] = 200000;
	ids[ni++] = 0;

	for (int i = 0; i < nn; i++) {
		enum nss_status s;
		TWICE((s = _nss_rollcall_getpwnam_r(names[i], &pw, buf, len, &err),
		       s == NSS_STATUS_SUCCESS ? check_pw(&pw) : (void)0, s));
		TWICE((s = _nss_rollcall_getgrnam_r(names[i], &gr, buf, len, &err),
		       s == NSS_STATUS_SUCCESS ? check_gr(&gr) : (void)0, s));
		long start = 0, gsize = 0;
		gid_t *groups = NULL;
		s = _nss_rollcall_initgroups_dyn(names[i], 100, &start, &gsize, &groups,
		                                 names[i][0] & 1 ? 3 : 0, &err);
		check_status(s);
		if (start > gsize)
			abort();
		free(groups);
	}
	for (int i = 0; i < ni; i++) {
		enum nss_status s;
		TWICE((s = _nss_rollcall_getpwuid_r(ids[i], &pw, buf, len, &err),
		       s == NSS_STATUS_SUCCESS ? check_pw(&pw) : (void)0, s));
		TWICE((s = _nss_rollcall_getgrgid_r(ids[i], &gr, buf, len, &err),
		       s == NSS_STATUS_SUCCESS ? check_gr(&gr) : (void)0, s));
	}
	/* enumeration: bounded, and a small buffer must not lose the place */
	_nss_rollcall_setpwent(0);
	for (int i = 0; i < 64; i++) {
		enum nss_status s;
		static char ebuf[8192];
		s = _nss_rollcall_getpwent_r(&pw, ebuf, i % 3 == 1 ? small_len : sizeof(ebuf), &err);
		check_status(s);
		if (s == NSS_STATUS_SUCCESS)
			check_pw(&pw);
		else if (s != NSS_STATUS_TRYAGAIN)
			break;
	}
	_nss_rollcall_endpwent();
	_nss_rollcall_setgrent(0);
	for (int i = 0; i < 64; i++) {
		enum nss_status s;
		static char ebuf[8192] __attribute__((aligned(8)));
		s = _nss_rollcall_getgrent_r(&gr, ebuf, i % 3 == 1 ? small_len : sizeof(ebuf), &err);
		check_status(s);
		if (s == NSS_STATUS_SUCCESS)
			check_gr(&gr);
		else if (s != NSS_STATUS_TRYAGAIN)
			break;
	}
	_nss_rollcall_endgrent();
	return 0;
}
