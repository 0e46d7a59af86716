/*
 * nss_noop.c - libnss_rcnoop.so.2, the floor for bench/nss.sh: an NSS
 * module that answers every lookup with a fixed entry (the name asked for,
 * uid and gid 4242, one supplementary group), touching no file.  What
 * glibc's NSS machinery costs around any module; rollcall's lookups are
 * reported as a ratio to it.  Built by "make bench", never installed.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT enum nss_status _nss_rcnoop_getpwnam_r(const char *, struct passwd *, char *, size_t, int *);
EXPORT enum nss_status _nss_rcnoop_getpwuid_r(uid_t, struct passwd *, char *, size_t, int *);
EXPORT enum nss_status _nss_rcnoop_getgrnam_r(const char *, struct group *, char *, size_t, int *);
EXPORT enum nss_status _nss_rcnoop_getgrgid_r(gid_t, struct group *, char *, size_t, int *);
EXPORT enum nss_status _nss_rcnoop_initgroups_dyn(const char *, gid_t, long *, long *, gid_t **,
                                                  long, int *);

static char *put(char **p, size_t *left, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = *p;
	if (n > *left)
		return NULL;
	memcpy(d, s, n);
	*p += n;
	*left -= n;
	return d;
}

static enum nss_status fill_pw(const char *name, uid_t uid, struct passwd *pw, char *buf,
                               size_t len, int *errnop)
{
	char *p = buf;
	size_t left = len;
	if (!(pw->pw_name = put(&p, &left, name)) || !(pw->pw_passwd = put(&p, &left, "*")) ||
	    !(pw->pw_gecos = put(&p, &left, "")) || !(pw->pw_dir = put(&p, &left, "/nonexistent")) ||
	    !(pw->pw_shell = put(&p, &left, "/bin/sh"))) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	pw->pw_uid = uid;
	pw->pw_gid = uid;
	return NSS_STATUS_SUCCESS;
}

EXPORT enum nss_status _nss_rcnoop_getpwnam_r(const char *name, struct passwd *pw, char *buf,
                                              size_t len, int *errnop)
{
	return fill_pw(name, 4242, pw, buf, len, errnop);
}

EXPORT enum nss_status _nss_rcnoop_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
                                              size_t len, int *errnop)
{
	return fill_pw("noop", uid, pw, buf, len, errnop);
}

EXPORT enum nss_status _nss_rcnoop_getgrnam_r(const char *name, struct group *gr, char *buf,
                                              size_t len, int *errnop)
{
	char *p = buf;
	size_t left = len, pad = (sizeof(char *) - (uintptr_t)buf % sizeof(char *)) % sizeof(char *);
	if (left < pad + sizeof(char *)) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	gr->gr_mem = (char **)(void *)(p + pad);
	gr->gr_mem[0] = NULL;
	p += pad + sizeof(char *);
	left -= pad + sizeof(char *);
	if (!(gr->gr_name = put(&p, &left, name)) || !(gr->gr_passwd = put(&p, &left, "*"))) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	gr->gr_gid = 4242;
	return NSS_STATUS_SUCCESS;
}

EXPORT enum nss_status _nss_rcnoop_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len,
                                              int *errnop)
{
	enum nss_status st = _nss_rcnoop_getgrnam_r("noop", gr, buf, len, errnop);
	gr->gr_gid = gid;
	return st;
}

EXPORT enum nss_status _nss_rcnoop_initgroups_dyn(const char *user, gid_t group, long *start,
                                                  long *size, gid_t **groupsp, long limit,
                                                  int *errnop)
{
	(void)user;
	(void)limit;
	if (group == 4243)
		return NSS_STATUS_SUCCESS;
	if (*start == *size) {
		long n = *size ? *size * 2 : 8;
		gid_t *g = realloc(*groupsp, (size_t)n * sizeof(gid_t));
		if (!g) {
			*errnop = ENOMEM;
			return NSS_STATUS_TRYAGAIN;
		}
		*groupsp = g;
		*size = n;
	}
	(*groupsp)[(*start)++] = 4243;
	return NSS_STATUS_SUCCESS;
}
