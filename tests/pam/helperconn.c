/*
 * helperconn - the connection of pam_rollcall to its helper, from an
 * application's side, through the real Linux-PAM: run as a uid that is
 * not root, with a PAM service whose module asks rollcall-chkpwd.
 *
 *   helperconn SERVICE USER PASSWORD
 *
 * Authenticates USER again and again on fresh handles (as nginx does per
 * request) and checks that one connection to the helper serves the
 * process; that an
 * application that closes the helper's descriptor and opens a file under
 * its number never gets a request written into that file; that a forked
 * child gets a helper of its own and leaves the parent's alone; that a
 * wrong password is still refused on the kept connection.  Prints "PASS
 * what" or "FAIL what" per check; exit 0 when every check passed.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <security/pam_appl.h>

static const char *service, *user, *secret;
static int failed;

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	(void)data;
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(secret);
	*resp = r;
	return PAM_SUCCESS;
}

/* One authentication and account check on a fresh handle. */
static int login(const char *pw)
{
	struct pam_conv c = { conv, NULL };
	pam_handle_t *h = NULL;
	int ret;

	secret = pw;
	if ((ret = pam_start(service, user, &c, &h)) != PAM_SUCCESS)
		return ret;
	ret = pam_authenticate(h, 0);
	if (ret == PAM_SUCCESS)
		ret = pam_acct_mgmt(h, 0);
	pam_end(h, ret);
	return ret;
}

/* The socket of this process other than NOT (an inode), or -1; *INO its
 * inode.  The helper's connection is the only socket here. */
static int socket_fd(ino_t not, ino_t *ino)
{
	struct stat st;

	for (int i = 3; i < 1024; i++)
		if (fstat(i, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino != not) {
			*ino = st.st_ino;
			return i;
		}
	return -1;
}

static void check(int ok, const char *what)
{
	printf("%s %s\n", ok ? "PASS" : "FAIL", what);
	failed |= !ok;
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/helperconn.XXXXXX";
	struct stat st;
	ino_t ino = 0, ino2 = 0, file;
	int ok = 1, fd, sock = -1, status = -1;
	pid_t pid;

	if (argc != 4 || getuid() == 0) {
		fprintf(stderr, "usage: helperconn SERVICE USER PASSWORD (as a uid that is not root)\n");
		return 2;
	}
	service = argv[1];
	user = argv[2];
	check(socket_fd(0, &ino) < 0, "no socket before the first login");
	check(login(argv[3]) == PAM_SUCCESS, "the first login passes through the helper");
	check((sock = socket_fd(0, &ino)) >= 0, "... whose connection the module keeps");
	for (int i = 0; i < 5; i++)
		ok &= login(argv[3]) == PAM_SUCCESS;
	check(ok, "five more logins on fresh handles pass");
	check(socket_fd(0, &ino2) == sock && ino2 == ino, "... through the same connection");
	check(login("not the password at all") == PAM_AUTH_ERR,
	      "a wrong password is refused on the kept connection");

	/* the application closes the helper's socket and opens a file: the
	 * file takes the socket's number */
	close(sock);
	fd = mkstemp(tmpl);
	if (fd >= 0 && fd != sock && dup2(fd, sock) == sock) {
		close(fd);
		fd = sock;
	}
	check(fd == sock && fstat(fd, &st) == 0, "a file now has the socket's number");
	file = st.st_ino;
	check(login(argv[3]) == PAM_SUCCESS, "a login after that passes");
	check(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_ino == file && st.st_size == 0,
	      "... the file is still open, and nothing was written to it");
	check((sock = socket_fd(0, &ino)) >= 0 && sock != fd, "... through a new connection");
	close(fd);
	unlink(tmpl);

	/* a forked child */
	pid = fork();
	if (pid == 0) {
		ino_t mine;
		_exit(login(argv[3]) == PAM_SUCCESS && socket_fd(ino, &mine) >= 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a forked child logs in through a connection of its own");
	check(login(argv[3]) == PAM_SUCCESS && socket_fd(0, &ino2) == sock && ino2 == ino,
	      "the parent's connection still serves it");
	return failed;
}
