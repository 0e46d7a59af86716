/*
 * test_totpclaim.c - lib/totpclaim.c, the login's side of a TOTP step
 * claimed across a fleet, against a socket of the test's own: no fleet,
 * no socket, a socket that is not root's or that others may use, a file
 * that is not a socket (nobody asked: offline); a server answering won or
 * lost (the request it got: uid and step); one that answers after the
 * time limit or answers garbage (offline).
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "totpclaim.h"

static char dir[64];

static void path_of(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static int setup(void **state)
{
	char p[128];
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rc-totpclaim.XXXXXX");
	assert_non_null(mkdtemp(dir));
	path_of("fleet.conf", p, sizeof(p));
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char p[128];
	(void)state;
	path_of("fleet.conf", p, sizeof(p));
	unlink(p);
	path_of(RC_TOTP_CLAIM_SOCKET, p, sizeof(p));
	unlink(p);
	rmdir(dir);
	return 0;
}

static int listen_here(mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	path_of(RC_TOTP_CLAIM_SOCKET, sa.sun_path, sizeof(sa.sun_path));
	unlink(sa.sun_path);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(chmod(sa.sun_path, mode), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* A server in a child: one request, then ANSWER (-1: won, but 2 seconds
 * late; -2: garbage);
 * the child exits 0 when the request was uid 1234, step 5678. */
static pid_t serve(int lfd, int answer)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid)
		return pid;
	int fd = accept(lfd, NULL, NULL);
	rc_totp_claim_req req;
	bool ok = fd >= 0 && recv(fd, &req, sizeof(req), 0) == (ssize_t)sizeof(req) &&
	          req.magic == RC_TOTP_CLAIM_MAGIC && req.uid == 1234 && req.step == 5678;
	if (answer == -1)
		sleep(2);
	rc_totp_claim_rep rep = { answer == -2 ? 0xdeadu : RC_TOTP_CLAIM_MAGIC,
	                          answer < 0 ? RC_CLAIM_WON : answer };
	(void)send(fd, &rep, sizeof(rep), MSG_NOSIGNAL);
	_exit(ok ? 0 : 1);
}

static int child_status(pid_t pid)
{
	int st = -1;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_no_fleet(void **state)
{
	char p[128];
	(void)state;
	path_of("fleet.conf", p, sizeof(p));
	unlink(p);
	assert_int_equal(rc_totp_claim(dir, 1234, 5678, 500), RC_CLAIM_NOFLEET);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	/* a fleet, no rollcalld */
	assert_int_equal(rc_totp_claim(dir, 1234, 5678, 500), RC_CLAIM_OFFLINE);
}

static void test_untrusted_socket(void **state)
{
	char p[128];
	(void)state;
	if (geteuid() != 0)
		skip();
	/* a server that would say "won" to whoever asked: nobody does */
	int lfd = listen_here(0666);   /* others may use it */
	pid_t pid = serve(lfd, RC_CLAIM_WON);
	assert_int_equal(rc_totp_claim(dir, 1234, 5678, 500), RC_CLAIM_OFFLINE);
	path_of(RC_TOTP_CLAIM_SOCKET, p, sizeof(p));
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(lchown(p, 1, 1), 0);   /* not root's */
	assert_int_equal(rc_totp_claim(dir, 1234, 5678, 500), RC_CLAIM_OFFLINE);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(lfd);
	unlink(p);
	FILE *f = fopen(p, "w");   /* a file, not a socket */
	assert_non_null(f);
	fclose(f);
	chmod(p, 0600);
	assert_int_equal(rc_totp_claim(dir, 1234, 5678, 500), RC_CLAIM_OFFLINE);
	unlink(p);
}

static void test_answers(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	int lfd = listen_here(0600);
	pid_t pid = serve(lfd, RC_CLAIM_WON);
	assert_int_equal(rc_totp_claim(dir, 1234, 5678, 1000), RC_CLAIM_WON);
	assert_int_equal(child_status(pid), 0);
	pid = serve(lfd, RC_CLAIM_LOST);
	assert_int_equal(rc_totp_claim(dir, 1234, 5678, 1000), RC_CLAIM_LOST);
	assert_int_equal(child_status(pid), 0);
	pid = serve(lfd, -2);   /* garbage */
	assert_int_equal(rc_totp_claim(dir, 1234, 5678, 1000), RC_CLAIM_OFFLINE);
	assert_int_equal(child_status(pid), 0);
	/* an answer later than the limit: offline (not waited for) */
	pid = serve(lfd, -1);
	assert_int_equal(rc_totp_claim(dir, 1234, 5678, 300), RC_CLAIM_OFFLINE);
	assert_int_equal(child_status(pid), 0);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_fleet),
		cmocka_unit_test(test_untrusted_socket),
		cmocka_unit_test(test_answers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
