/*
 * fuzz_config.c - libFuzzer target for the rollcall.conf parser
 * (rc_config_load): the input is written to a file of the right owner and
 * mode and read over the defaults.  Findings: a crash or sanitizer report,
 * a configuration accepted with a relative path, an empty state directory
 * or an id range upside down, or an error without the file's name.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "rollcall.h"

static char path[256];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rc_config cfg;
	int fd;

	if (!path[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(path, sizeof(path), "%s/rollcall-fuzz-conf.%ld", base, (long)getpid());
	}
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);

	rc_config_defaults(&cfg);
	int rc = rc_config_load(&cfg, path, 1);
	unlink(path);
	if (rc == RC_OK) {
		if (cfg.state_dir[0] != '/' || cfg.home_base[0] != '/' || cfg.shell[0] != '/' ||
		    cfg.service_shell[0] != '/' || cfg.id_min > cfg.id_max)
			abort();
		/* what reaches a mail's headers and body: no control character */
		for (const char *v = cfg.project_name; *v; v++)
			if ((unsigned char)*v < 0x20 || *v == 0x7f)
				abort();
		for (const char *v = cfg.login_hint; *v; v++)
			if ((unsigned char)*v < 0x20 || *v == 0x7f)
				abort();
		if (cfg.mail_from[0] && rc_valid_email(cfg.mail_from))
			abort();
	} else if (!strstr(rc_errmsg(), path)) {
		abort();
	}
	return 0;
}
