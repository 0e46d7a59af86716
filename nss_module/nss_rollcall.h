/*
 * nss_rollcall.h - the entry points glibc looks up in libnss_rollcall.so.2
 * (the only symbols it exports; see nss_rollcall.map).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef NSS_ROLLCALL_H
#define NSS_ROLLCALL_H
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stddef.h>

enum nss_status _nss_rollcall_getpwnam_r(const char *name, struct passwd *pw, char *buf,
                                         size_t len, int *errnop);
enum nss_status _nss_rollcall_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len,
                                         int *errnop);
enum nss_status _nss_rollcall_setpwent(int stayopen);
enum nss_status _nss_rollcall_getpwent_r(struct passwd *pw, char *buf, size_t len, int *errnop);
enum nss_status _nss_rollcall_endpwent(void);
enum nss_status _nss_rollcall_getgrnam_r(const char *name, struct group *gr, char *buf,
                                         size_t len, int *errnop);
enum nss_status _nss_rollcall_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len,
                                         int *errnop);
enum nss_status _nss_rollcall_setgrent(int stayopen);
enum nss_status _nss_rollcall_getgrent_r(struct group *gr, char *buf, size_t len, int *errnop);
enum nss_status _nss_rollcall_endgrent(void);
enum nss_status _nss_rollcall_initgroups_dyn(const char *user, gid_t group, long *start,
                                             long *size, gid_t **groupsp, long limit,
                                             int *errnop);
#endif
