/*
 * validate.c - parsing and validation of everything a caller types.
 * Each failure sets a message that names the value and the accepted form.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <time.h>
#include <string.h>
#include "validate.h"
#include "errors.h"
#include "mail.h"

/* The one rule for a control character: C0 and DEL (a tab is one; the
 * callers that allow it say so). */
bool rc_is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

bool rc_has_control(const char *s, bool tab_ok)
{
	for (; *s; s++)
		if (rc_is_control((unsigned char)*s) && !(tab_ok && *s == '\t'))
			return true;
	return false;
}

/* Quote a value for a message: printable, bounded. */
static const char *shown(const char *s, char *buf, size_t len)
{
	size_t o = 0;
	for (; *s && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (rc_is_control(c) || c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (*s && o + 4 <= len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}
#define SHOWN(s) shown((s), (char[72]){0}, 72)

RC_API int rc_uint_parse(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = text;

	if (!text || !*text)
		return rc_fail(RC_ERR_INVALID, "empty number: use a whole number from %llu to %llu",
		               (unsigned long long)min, (unsigned long long)max);
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return rc_fail(RC_ERR_INVALID,
			               "bad number \"%s\": use a whole number from %llu to %llu",
			               SHOWN(text), (unsigned long long)min,
			               (unsigned long long)max);
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			goto range;
		v = v * 10 + d;
	}
	if (p - text > 20 || v < min || v > max)
		goto range;
	*out = v;
	return RC_OK;
range:
	return rc_fail(RC_ERR_INVALID, "number \"%s\" out of range: use %llu to %llu",
	               SHOWN(text), (unsigned long long)min, (unsigned long long)max);
}

#define DURATION_FORM "a number followed by s, m, h, d or w, e.g. 30s, 15m, 24h, 30d or 1d12h"

RC_API int rc_duration_parse(const char *text, int64_t *seconds)
{
	int64_t total = 0;
	const char *p = text;

	if (!text || !*text)
		return rc_fail(RC_ERR_INVALID, "empty duration: use %s", DURATION_FORM);
	if (strcmp(text, "0") == 0) {
		*seconds = 0;
		return RC_OK;
	}
	while (*p) {
		int64_t v = 0;
		int digits = 0;
		while (*p >= '0' && *p <= '9') {
			if (++digits > 10)
				goto bad;
			v = v * 10 + (*p++ - '0');
		}
		if (!digits)
			goto bad;
		int64_t unit;
		switch (*p++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: goto bad;
		}
		total += v * unit;
		if (total > (int64_t)100 * 365 * 86400)
			return rc_fail(RC_ERR_INVALID,
			               "duration \"%s\" is too long (100 years at most)",
			               SHOWN(text));
	}
	*seconds = total;
	return RC_OK;
bad:
	return rc_fail(RC_ERR_INVALID, "bad duration \"%s\": use %s", SHOWN(text),
	               DURATION_FORM);
}

RC_API void rc_duration_format(int64_t s, char *buf, size_t len)
{
	static const struct { int64_t secs; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t o = 0;

	if (s <= 0) {
		snprintf(buf, len, "0");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && o < len; i++) {
		if (s >= units[i].secs) {
			int w = snprintf(buf + o, len - o, "%lld%c",
			                 (long long)(s / units[i].secs), units[i].unit);
			if (w < 0)
				return;
			o += (size_t)w;
			s %= units[i].secs;
		}
	}
}

RC_API void rc_time_format(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || !gmtime_r(&tt, &tm)) {
		snprintf(buf, len, "never");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool is_digit(char c, int base)
{
	if (base == 16)
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	return c >= '0' && c < '0' + base;
}

/* Skip digits of BASE; how many. */
static size_t digits(const char **p, int base)
{
	size_t n = 0;
	while (is_digit(**p, base)) {
		(*p)++;
		n++;
	}
	return n;
}

/* Digits of BASE with an optional fraction, then an optional exponent
 * introduced by EXP (either case; a decimal exponent, maybe negative), and
 * nothing after: "1.5e-3", "1.8p3" (after "0x"). */
static bool number_tail(const char *p, int base, char exp)
{
	size_t n = digits(&p, base);

	if (*p == '.') {
		p++;
		n += digits(&p, base);
	}
	if (!n)
		return false;
	if (*p == exp || *p == exp - 'a' + 'A') {
		p++;
		if (*p == '-')
			p++;
		if (!digits(&p, 10))
			return false;
	}
	return *p == '\0';
}

/* Does NAME read as a number, in the forms that strtol (base 0), strtod,
 * sscanf and scripting languages accept within a name's characters
 * (letters, digits, '.', '_', '-')?  Decimal "123", octal "0755", hex
 * "0x1F", binary "0b101", octal "0o17", decimal floats "1.5", "1.",
 * "1e3", "1.5E-3", and hex floats "0x1.8p3".  Such a name is taken for a
 * uid by chown, id, find -user and the like.  ("inf" and "nan" are words,
 * and names.) */
static bool looks_numeric(const char *name)
{
	const char *p = name;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		return number_tail(p, 16, 'p');
	}
	if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B' || p[1] == 'o' || p[1] == 'O')) {
		p += 2;
		return digits(&p, name[1] == 'b' || name[1] == 'B' ? 2 : 8) && *p == '\0';
	}
	return number_tail(p, 10, 'e');
}

/* POSIX portable user names: letters, digits, '.', '_', '-'; not starting
 * with '-'; not a number in any base (looks_numeric); no names reserved
 * for rollcall's groups. */
RC_API int rc_valid_username(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	bool digits_only = true;

	if (n == 0)
		return rc_fail(RC_ERR_INVALID, "empty user name");
	if (n > RC_NAME_MAX)
		return rc_fail(RC_ERR_INVALID, "user name \"%s\" is too long (%d characters at most)",
		               SHOWN(name), RC_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		if (!ok)
			return rc_fail(RC_ERR_INVALID,
			               "user name \"%s\" has a character that is not allowed "
			               "(use letters, digits, '.', '_' and '-')", SHOWN(name));
		if (!(c >= '0' && c <= '9'))
			digits_only = false;
	}
	if (name[0] == '-' || name[0] == '.')
		return rc_fail(RC_ERR_INVALID, "user name \"%s\" must not start with '%c'",
		               SHOWN(name), name[0]);
	if (digits_only)
		return rc_fail(RC_ERR_INVALID, "user name \"%s\" must not be all digits",
		               SHOWN(name));
	if (looks_numeric(name))
		return rc_fail(RC_ERR_INVALID, "user name \"%s\" must not read as a number "
		               "(tools would take it for a uid)", SHOWN(name));
	if (strncmp(name, "rollcall-", 9) == 0 || strncmp(name, "svc-", 4) == 0)
		return rc_fail(RC_ERR_INVALID,
		               "user name \"%s\" is reserved (rollcall-* and svc-* name groups)",
		               SHOWN(name));
	return RC_OK;
}

RC_API int rc_valid_email(const char *email)
{
	size_t n = email ? strlen(email) : 0;
	const char *at;

	if (n == 0)
		return rc_fail(RC_ERR_INVALID, "empty email address");
	if (n > RC_EMAIL_MAX)
		return rc_fail(RC_ERR_INVALID, "email address \"%s\" is too long (%d characters at most)",
		               SHOWN(email), RC_EMAIL_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)email[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || strchr(".!#$%&*+/=?^_`{|}~-@", c);
		if (!ok || c == '\0')
			return rc_fail(RC_ERR_INVALID,
			               "email address \"%s\" has a character that is not allowed",
			               SHOWN(email));
	}
	at = strchr(email, '@');
	if (!at || strchr(at + 1, '@'))
		return rc_fail(RC_ERR_INVALID,
		               "email address \"%s\" must have exactly one '@' (name@example.com)",
		               SHOWN(email));
	size_t local = (size_t)(at - email);
	const char *dom = at + 1;
	if (local == 0 || local > 64)
		return rc_fail(RC_ERR_INVALID, "email address \"%s\" has an empty or overlong local part",
		               SHOWN(email));
	if (!*dom || !strchr(dom, '.') || dom[0] == '.' || dom[0] == '-' ||
	    dom[strlen(dom) - 1] == '.' || strstr(dom, "..") ||
	    strpbrk(dom, "!#$%&*+/=?^_`{|}~"))
		return rc_fail(RC_ERR_INVALID,
		               "email address \"%s\" has a bad domain (name@example.com)",
		               SHOWN(email));
	if (email[0] == '.' || at[-1] == '.' || strstr(email, ".."))
		return rc_fail(RC_ERR_INVALID, "email address \"%s\" has a misplaced '.'",
		               SHOWN(email));
	return RC_OK;
}

RC_API int rc_valid_full_name(const char *name)
{
	size_t n = strlen(name);

	if (n > RC_FULLNAME_MAX)
		return rc_fail(RC_ERR_INVALID, "full name is too long (%d bytes at most)",
		               RC_FULLNAME_MAX);
	if (!rc_utf8_valid(name, n))
		return rc_fail(RC_ERR_INVALID, "full name \"%s\" is not valid UTF-8", SHOWN(name));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (rc_is_control(c))
			return rc_fail(RC_ERR_INVALID,
			               "full name \"%s\" has a control character", SHOWN(name));
		if (c == ':' || c == ',')
			return rc_fail(RC_ERR_INVALID,
			               "full name \"%s\" must not contain '%c' (it separates passwd fields)",
			               SHOWN(name), c);
	}
	return RC_OK;
}

/* lowercase letters, digits and '-', starting with a letter */
static int valid_lower_name(const char *name, size_t max, const char *what)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0)
		return rc_fail(RC_ERR_INVALID, "empty %s name", what);
	if (n > max)
		return rc_fail(RC_ERR_INVALID, "%s name \"%s\" is too long (%zu characters at most)",
		               what, SHOWN(name), max);
	if (!(name[0] >= 'a' && name[0] <= 'z'))
		return rc_fail(RC_ERR_INVALID, "%s name \"%s\" must start with a lowercase letter",
		               what, SHOWN(name));
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return rc_fail(RC_ERR_INVALID,
			               "%s name \"%s\" may use only lowercase letters, digits and '-'",
			               what, SHOWN(name));
	}
	if (name[n - 1] == '-')
		return rc_fail(RC_ERR_INVALID, "%s name \"%s\" must not end with '-'",
		               what, SHOWN(name));
	return RC_OK;
}

/* rollcall-<role> must fit a 32-character group name */
RC_API int rc_valid_role_name(const char *name)
{
	return valid_lower_name(name, RC_NAME_MAX - 9, "role");
}

RC_API int rc_valid_service_name(const char *name)
{
	return valid_lower_name(name, RC_SERVICE_MAX, "service");
}

RC_API int rc_valid_svcuser_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 6 || n > 32)
		return rc_fail(RC_ERR_INVALID,
		               "service user name \"%s\" must be between 6 and 32 characters long "
		               "(it has %zu)", SHOWN(name ? name : ""), n);
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
		return rc_fail(RC_ERR_INVALID, "service user name \"%s\" must start with a letter",
		               SHOWN(name));
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return rc_fail(RC_ERR_INVALID,
			               "service user name \"%s\" can only contain letters, digits and "
			               "underscores (_)", SHOWN(name));
	}
	/* cannot happen past the first letter, but the rule is the members' one */
	if (looks_numeric(name))
		return rc_fail(RC_ERR_INVALID, "service user name \"%s\" must not read as a "
		               "number (tools would take it for a uid)", SHOWN(name));
	return RC_OK;
}

RC_API int rc_looks_like_token(const char *text)
{
	return text && strncmp(text, RC_TOKEN_PREFIX, sizeof(RC_TOKEN_PREFIX) - 1) == 0;
}

RC_API int rc_valid_svcuser_password(const char *pw)
{
	size_t n = strlen(pw);

	if (n < RC_SVCPW_MIN || n > RC_SVCPW_MAX)
		return rc_fail(RC_ERR_INVALID,
		               "password must be between %d and %d characters long (it has %zu)",
		               RC_SVCPW_MIN, RC_SVCPW_MAX, n);
	if (strpbrk(pw, "\"'"))
		return rc_fail(RC_ERR_INVALID,
		               "password must not contain the character \" or '");
	if (rc_looks_like_token(pw))
		return rc_fail(RC_ERR_INVALID, "password must not start with \"%s\": it would be "
		               "taken for a token at login", RC_TOKEN_PREFIX);
	for (size_t i = 0; i < n; i++)
		if (rc_is_control((unsigned char)pw[i]))
			return rc_fail(RC_ERR_INVALID, "password must not contain control characters");
	return RC_OK;
}
