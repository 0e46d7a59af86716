/*
 * totpclaim.c - the login's side of a TOTP step claimed across a fleet
 * (totpclaim.h): a datagram to rollcalld's socket and its answer, within
 * a time limit.  The socket must be root's and a socket (one trusted-path
 * check): a file planted there by anyone else is not spoken to.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"
#include "totpclaim.h"

const char *rc_totp_claim_name(int outcome)
{
	switch (outcome) {
	case RC_CLAIM_WON: return "claimed in the directory";
	case RC_CLAIM_LOST: return "already used on another host";
	case RC_CLAIM_OFFLINE: return "the directory unreachable: single use on this host";
	default: return "no fleet";
	}
}

bool rc_fleet_joined(const char *state_dir)
{
	char p[RC_PATH_MAX + 16];
	struct stat st;

	snprintf(p, sizeof(p), "%s/fleet.conf", state_dir);
	return lstat(p, &st) == 0;
}

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* the answer to REQ on FD, by DEADLINE (monotonic ms) */
static int exchange(int fd, const rc_totp_claim_req *req, int64_t deadline)
{
	rc_totp_claim_rep rep;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (send(fd, req, sizeof(*req), MSG_NOSIGNAL) != (ssize_t)sizeof(*req))
		return RC_CLAIM_OFFLINE;
	for (;;) {
		int64_t left = deadline - ms_now();
		if (left <= 0)
			return RC_CLAIM_OFFLINE;
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return RC_CLAIM_OFFLINE;
		break;
	}
	n = recv(fd, &rep, sizeof(rep), MSG_DONTWAIT);
	if (n != (ssize_t)sizeof(rep) || rep.magic != RC_TOTP_CLAIM_MAGIC ||
	    rep.outcome < RC_CLAIM_WON || rep.outcome > RC_CLAIM_OFFLINE)
		return RC_CLAIM_OFFLINE;
	return rep.outcome;
}

int rc_totp_claim(const char *state_dir, uint32_t uid, int64_t step, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	rc_totp_claim_req req = { RC_TOTP_CLAIM_MAGIC, uid, step };
	struct stat st;
	int fd, outcome;
	int64_t deadline = ms_now() + timeout_ms;

	if (!rc_fleet_joined(state_dir))
		return RC_CLAIM_NOFLEET;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", state_dir,
	                     RC_TOTP_CLAIM_SOCKET) >= sizeof(sa.sun_path))
		return RC_CLAIM_OFFLINE;
	/* rollcalld's (root's, a socket), or nobody's to be asked */
	if (lstat(sa.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077))
		return RC_CLAIM_OFFLINE;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return RC_CLAIM_OFFLINE;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return RC_CLAIM_OFFLINE;
	}
	outcome = exchange(fd, &req, deadline);
	close(fd);
	return outcome;
}
