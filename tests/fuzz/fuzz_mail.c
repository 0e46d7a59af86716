/*
 * fuzz_mail.c - libFuzzer target for the mail templates: the input is
 * written as invitation.txt of a mail_template_dir, loaded
 * (rc_mail_template_load) and, when accepted, made into a mail
 * (rc_mail_compose).  Findings: a crash or sanitizer report, an error
 * without the file's name, or an accepted template whose mail has a control
 * character other than LF (and tab in the body), a header block without its
 * end, the code in a header, a line over 998 bytes, or no code in the body.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "rollcall.h"

static char dir[256], path[300];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const rc_code_result r = { .username = "zoe", .email = "zoe@example.com",
	                                  .full_name = "Zo\xc3\xab M\xc3\xbcller", .role = "developer",
	                                  .code = "ABCDE-FGHIJ-KLMNP-QRSTU", .expires = 1796342400 };
	rc_mail_info info = { .code = &r, .inviter_name = "Alice", .inviter_email = "alice@example.com",
	                      .now = 1796256000 };
	rc_mail_template *t;
	rc_config cfg;
	char *m;
	size_t len;
	int fd;

	if (!dir[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(dir, sizeof(dir), "%s/rollcall-fuzz-mail.%ld", base, (long)getpid());
		if (mkdir(dir, 0755) < 0)
			abort();
		snprintf(path, sizeof(path), "%s/invitation.txt", dir);
	}
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);

	rc_config_defaults(&cfg);
	snprintf(cfg.mail_template_dir, sizeof(cfg.mail_template_dir), "%s", dir);
	snprintf(cfg.project_name, sizeof(cfg.project_name), "Acme \xc3\x9c \"Ops\"");
	int rc = rc_mail_template_load(&cfg, RC_MAIL_INVITATION, &t);
	unlink(path);
	if (rc != RC_OK) {
		if (!strstr(rc_errmsg(), path))
			abort();
		return 0;
	}
	if (rc_mail_compose(&cfg, t, &info, &m, &len) == RC_OK) {
		char *end = strstr(m, "\n\n");
		if (!end || strlen(m) != len || len == 0 || m[len - 1] != '\n')
			abort();
		for (size_t i = 0, start = 0; i < len; i++) {
			unsigned char c = (unsigned char)m[i];
			bool header = m + i < end;
			if ((c < 0x20 && c != '\n' && (header || c != '\t')) || c == 0x7f)
				abort();
			if (c == '\n') {
				if (i - start > 998)
					abort();
				start = i + 1;
			}
		}
		*end = '\0';
		/* (a template may spell the code out itself) */
		if ((strstr(m, r.code) && !memmem(data, size, r.code, strlen(r.code))) ||
		    !strstr(end + 1, r.code))
			abort();
		rc_mail_free(m, len);
	}
	rc_mail_template_free(t);
	return 0;
}
