/*
 * fuzz_snapshot.c - libFuzzer target for the NSS snapshot reader
 * (lib/snapread.c) and the NSS module's copying into callers' buffers
 * (nss_module/nss_rollcall.c, built into this target).
 *
 * The input is a byte (the small buffer's length), then files, each
 * [length u16 LE][bytes]: the first is written as the manifest (nss.snap),
 * the others as the shard files that manifest names, in its order ('P'
 * shards, then 'U'), under the names it gives them (a manifest that does
 * not open gets none).  tests/fuzz/snapshot_seed.py packs a published
 * snapshot this way.  Every NSS entry point then runs over it: lookups by
 * every name and id found in the files, enumeration, initgroups, with a
 * large buffer and with a small one whose guard bytes must stay untouched.
 * Findings: a crash or sanitizer report, a write past the caller's buffer,
 * a SUCCESS with a NULL or unterminated field, or a status NSS does not
 * define.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "../../nss_module/nss_rollcall.c"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], file[300], sdir[320];

static void clear_dir(void);
static void cleanup(void)
{
	clear_dir();
	rmdir(sdir);
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

static void put(const char *path, const uint8_t *d, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	if (n && write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);
}

/* The next file of the input: *P and *N, or false at the end. */
static bool next_file(const uint8_t *data, size_t size, size_t *off, const uint8_t **p, size_t *n)
{
	if (*off + 2 > size)
		return false;
	size_t len = (size_t)data[*off] | (size_t)data[*off + 1] << 8;
	*off += 2;
	if (len > size - *off)
		len = size - *off;
	*p = data + *off;
	*n = len;
	*off += len;
	return true;
}

static void clear_dir(void)
{
	DIR *d = opendir(sdir);
	struct dirent *e;
	char path[700];
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", sdir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

static int write_snapshot(const uint8_t *data, size_t size)
{
	const uint8_t *p;
	size_t n, off = 0;
	rc_snap *sn;

	clear_dir();
	unlink(file);
	if (!next_file(data, size, &off, &p, &n))
		return -1;
	put(file, p, n);
	if (rc_snap_open(&sn, file) != RC_OK)
		return 0;   /* still run: every lookup must be UNAVAIL */
	uint32_t shards = 2u << rc_snap_nbits(sn);
	for (uint32_t i = 0; i < shards && next_file(data, size, &off, &p, &n); i++) {
		char name[RC_SNAP_NAME_MAX], path[700];
		uint64_t serial;
		uint32_t sz;
		uint32_t half = shards / 2;
		if (rc_snap_shard_file(sn, i < half ? 'P' : 'U', i % half, name, sizeof(name), &serial,
		                       &sz) != RC_OK)
			break;
		snprintf(path, sizeof(path), "%s/%s", sdir, name);
		put(path, p, n);
	}
	rc_snap_close(sn);
	return 0;
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
	snprintf(sdir, sizeof(sdir), "%s/%s", dir, RC_SNAP_DIR);
	if (mkdir(sdir, 0755) < 0)
		abort();
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

	/* names and ids the files mention (strings of name characters, and
	 * the u32 before a name: a 'P' record's uid), and a few they do not */
	for (size_t i = 1; i + 1 < size && nn < 14; i++) {
		size_t k = i;
		while (k < size && k - i <= RC_NAME_MAX && data[k] > ' ' && data[k] < 0x7f &&
		       data[k] != ':' && data[k] != '/')
			k++;
		if (k < size && data[k] == 0 && k > i && k - i <= RC_NAME_MAX) {
			memcpy(names[nn], data + i, k - i);
			names[nn][k - i] = '\0';
			nn++;
			if (i >= 7 && ni < 14)
				ids[ni++] = (uint32_t)data[i - 6] | (uint32_t)data[i - 5] << 8 |
				            (uint32_t)data[i - 4] << 16 | (uint32_t)data[i - 3] << 24;
			i = k;
		}
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
