/*
 * config.c - rollcall.conf: "key = value" lines and "#" comments.
 * An unknown key or a bad value is an error naming the file, line and key.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include "errors.h"
#include "mail.h"
#include "validate.h"
#include "fsutil.h"

RC_API void rc_config_defaults(rc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", RC_DEFAULT_STATE_DIR);
	cfg->id_min = 200000;
	cfg->id_max = 299999;
	snprintf(cfg->home_base, sizeof(cfg->home_base), "/home");
	snprintf(cfg->shell, sizeof(cfg->shell), "/bin/bash");
	snprintf(cfg->service_shell, sizeof(cfg->service_shell), "/usr/sbin/nologin");
	snprintf(cfg->passwd_file, sizeof(cfg->passwd_file), "/etc/passwd");
	snprintf(cfg->group_file, sizeof(cfg->group_file), "/etc/group");
	cfg->map_size = (uint64_t)1 << 30;
	cfg->caller_failures = 60;
	cfg->caller_helpers = 128;
}

enum kind { K_PATH, K_ID, K_COMMAND, K_SIZE, K_PROJECT, K_EMAIL, K_HINT, K_USERS, K_COUNT };
static const struct key {
	const char *name;
	enum kind kind;
	size_t off;
} keys[] = {
	{ "state_dir", K_PATH, offsetof(rc_config, state_dir) },
	{ "id_min", K_ID, offsetof(rc_config, id_min) },
	{ "id_max", K_ID, offsetof(rc_config, id_max) },
	{ "home_base", K_PATH, offsetof(rc_config, home_base) },
	{ "shell", K_PATH, offsetof(rc_config, shell) },
	{ "service_shell", K_PATH, offsetof(rc_config, service_shell) },
	{ "mail_command", K_COMMAND, offsetof(rc_config, mail_command) },
	{ "passwd_file", K_PATH, offsetof(rc_config, passwd_file) },
	{ "group_file", K_PATH, offsetof(rc_config, group_file) },
	{ "map_size", K_SIZE, offsetof(rc_config, map_size) },
	{ "project_name", K_PROJECT, offsetof(rc_config, project_name) },
	{ "mail_from", K_EMAIL, offsetof(rc_config, mail_from) },
	{ "login_hint", K_HINT, offsetof(rc_config, login_hint) },
	{ "mail_template_dir", K_PATH, offsetof(rc_config, mail_template_dir) },
	{ "member_callers", K_USERS, offsetof(rc_config, member_callers) },
	{ "caller_failures", K_COUNT, offsetof(rc_config, caller_failures) },
	{ "caller_helpers", K_COUNT, offsetof(rc_config, caller_helpers) },
};

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
	             s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* K_PATH (absolute) and K_COMMAND (empty, or starting with an absolute path) */
static int set_path(char *field, const struct key *k, const char *val, const char *path,
                    unsigned lineno)
{
	if (k->kind == K_PATH && val[0] != '/')
		return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: \"%s\" is not an absolute path",
		               path, lineno, k->name, val);
	if (k->kind == K_COMMAND && val[0] && val[0] != '/')
		return rc_fail(RC_ERR_CONFIG,
		               "%s:%u: %s: the command must start with an absolute path",
		               path, lineno, k->name);
	if (strlen(val) >= RC_PATH_MAX)
		return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: value too long", path,
		               lineno, k->name);
	memcpy(field, val, strlen(val) + 1);
	return RC_OK;
}

/* K_PROJECT and K_HINT: shown in mail, in headers (the project) and the
 * body.  Control characters, CR and LF among them, are refused for every
 * key (parse); a tab has no place in a header either. */
static int set_mail_text(char *field, const struct key *k, const char *val, const char *path,
                         unsigned lineno)
{
	size_t max = k->kind == K_PROJECT ? RC_PROJECT_MAX : RC_LOGIN_HINT_MAX;
	char bad[40];

	if (!val[0])
		return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: empty value", path, lineno, k->name);
	if (strlen(val) > max)
		return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: longer than %zu bytes", path,
		               lineno, k->name, max);
	if (strchr(val, '\t'))
		return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: tab in value", path, lineno, k->name);
	if (!rc_utf8_valid(val, strlen(val)))
		return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: not valid UTF-8", path, lineno,
		               k->name);
	if (k->kind == K_HINT && rc_placeholders_check(val, rc_login_hint_placeholders,
	                                                bad, sizeof(bad)))
		return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: unknown placeholder {%s} (known: "
		               "{username}, {host})", path, lineno, k->name, bad);
	memcpy(field, val, strlen(val) + 1);
	return RC_OK;
}

/* K_USERS: local user names separated by commas (spaces around them
 * allowed), kept as "a,b,c" */
static int set_users(char *field, const struct key *k, const char *val, const char *path,
                     unsigned lineno)
{
	char out[sizeof(((rc_config *)0)->member_callers)];
	size_t o = 0;
	const char *p = val;

	while (*p) {
		size_t n;
		while (*p == ' ' || *p == '\t')
			p++;
		n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		              "0123456789._-");
		if (n == 0 || n > RC_NAME_MAX || p[0] == '-')
			goto bad;
		if (o + n + 2 > sizeof(out))
			return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: value too long", path,
			               lineno, k->name);
		if (o)
			out[o++] = ',';
		memcpy(out + o, p, n);
		o += n;
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto bad;
	}
	out[o] = '\0';
	memcpy(field, out, o + 1);
	return RC_OK;
bad:
	return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: expected local user names separated by commas",
	               path, lineno, k->name);
}

/* K_SIZE: bytes, or a number with K, M, G or T (powers of 1024) */
static int set_size(char *field, const struct key *k, const char *val, const char *path,
                    unsigned lineno)
{
	char num[32];
	size_t n = strlen(val), shift = 0;
	uint64_t v;

	if (n && strchr("KMGT", val[n - 1])) {
		shift = 10 * (size_t)(strchr("KMGT", val[n - 1]) - "KMGT" + 1);
		n--;
	}
	if (n == 0 || n >= sizeof(num))
		return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: \"%.40s\" is not a size (bytes, "
		               "or a number with K, M, G or T)", path, lineno, k->name, val);
	memcpy(num, val, n);
	num[n] = '\0';
	if (rc_uint_parse(num, 1, UINT64_MAX >> shift, &v) || (v << shift) < ((uint64_t)1 << 20) ||
	    (v << shift) > ((uint64_t)1 << 40))
		return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: \"%.40s\" is not a size from 1M "
		               "to 1T", path, lineno, k->name, val);
	*(uint64_t *)(void *)field = v << shift;
	return RC_OK;
}

static int set_key(rc_config *cfg, const struct key *k, const char *val,
                   const char *path, unsigned lineno)
{
	char *field = (char *)cfg + k->off;
	uint64_t v;

	switch (k->kind) {
	case K_PATH:
	case K_COMMAND:
		return set_path(field, k, val, path, lineno);
	case K_ID:
	case K_COUNT:
		if (rc_uint_parse(val, k->kind == K_ID ? 1 : 0,
		                  k->kind == K_ID ? 4294967294u : 1000000, &v))
			return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: %s", path, lineno,
			               k->name, rc_errmsg());
		*(uint32_t *)(void *)field = (uint32_t)v;
		return RC_OK;
	case K_PROJECT:
	case K_HINT:
		return set_mail_text(field, k, val, path, lineno);
	case K_USERS:
		return set_users(field, k, val, path, lineno);
	case K_EMAIL:
		if (rc_valid_email(val))
			return rc_fail(RC_ERR_CONFIG, "%s:%u: %s: %s", path, lineno, k->name,
			               rc_errmsg());
		memcpy(field, val, strlen(val) + 1);
		return RC_OK;
	case K_SIZE:
		return set_size(field, k, val, path, lineno);
	}
	return RC_ERR_CONFIG;
}

static int parse(rc_config *cfg, FILE *f, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned lineno = 0;
	int rc = RC_OK;

	while (!rc && (got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (got > RC_PATH_MAX + 64) {
			rc = rc_fail(RC_ERR_CONFIG, "%s:%u: line too long", path, lineno);
			break;
		}
		if ((size_t)got != strlen(line)) {
			rc = rc_fail(RC_ERR_CONFIG, "%s:%u: NUL byte in line", path, lineno);
			break;
		}
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = rc_fail(RC_ERR_CONFIG, "%s:%u: expected \"key = value\"",
			             path, lineno);
			break;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		if (rc_has_control(val, true))
			rc = rc_fail(RC_ERR_CONFIG, "%s:%u: %s: control character in value", path,
			             lineno, key);
		if (rc)
			break;
		const struct key *k = NULL;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(keys[i].name, key) == 0)
				k = &keys[i];
		if (!k)
			rc = rc_fail(RC_ERR_CONFIG, "%s:%u: unknown key \"%.64s\"", path,
			             lineno, key);
		else
			rc = set_key(cfg, k, val, path, lineno);
	}
	free(line);
	if (!rc && ferror(f))
		rc = rc_fail(RC_ERR_CONFIG, "%s: read error", path);
	if (!rc && cfg->id_min > cfg->id_max)
		rc = rc_fail(RC_ERR_CONFIG, "%s: id_min (%u) is above id_max (%u)", path,
		             cfg->id_min, cfg->id_max);
	return rc;
}

RC_API int rc_config_load(rc_config *cfg, const char *path, int must_exist)
{
	struct stat st;
	FILE *f = NULL;
	int rc = RC_OK;
	int fd = -1;

	rc = rc_open_trusted(path, "configuration", &fd, &st);
	if (rc == RC_ERR_NOTFOUND && !must_exist)
		return RC_OK;
	if (rc == RC_ERR_NOTFOUND)
		return rc_fail(RC_ERR_CONFIG, "cannot open configuration %s: %s", path,
		               strerror(ENOENT));
	if (rc)
		return rc;
	f = fdopen(fd, "r");
	if (!f) {
		rc = rc_fail(RC_ERR_NOMEM, "cannot read configuration %s", path);
		goto out;
	}
	fd = -1;
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	rc = parse(cfg, f, path);
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	return rc;
}
