/*
 * mail.c - the messages that carry invitation and reset codes: templates
 * (built in, or files in mail_template_dir), their placeholders, and an
 * RFC 5322 message with MIME headers (UTF-8 text, 8bit).
 *
 * No value reaches a header unchecked: the names and emails are validated
 * when stored, project_name, mail_from and login_hint when rollcall.conf is
 * read, the host name here; a non-ASCII phrase or subject is an RFC 2047
 * encoded word.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <string.h>
#include "mail.h"
#include "errors.h"
#include "validate.h"
#include "crypto.h"
#include "fsutil.h"

#define TEMPLATE_MAX  16384   /* bytes in a template file */
#define TLINE_MAX       400   /* bytes in a template line */
#define MAIL_LINE_MAX   998   /* RFC 5322 2.1.1 */

RC_API const char *const rc_mail_placeholders[] = {
	"project", "host", "name", "username", "email", "inviter", "role", "code",
	"expires", "expires_in", "login", NULL
};
const char *const rc_login_hint_placeholders[] = { "username", "host", NULL };

static const char *const files[RC_MAIL_KINDS] = {
	"invitation.txt", "resend.txt", "reset.txt"
};

static const char *const builtin[RC_MAIL_KINDS] = {
	/* RC_MAIL_INVITATION */
	"Subject: Your invitation to {project}\n"
	"\n"
	"Hello {name},\n"
	"\n"
	"You are invited to {project} on {host} by {inviter},\n"
	"as a member with the role {role}.  Your user name is {username}.\n"
	"\n"
	"Your invitation code, which is also your first password:\n"
	"\n"
	"    {code}\n"
	"\n"
	"It expires {expires_in}, at {expires}.\n"
	"\n"
	"To log in, run\n"
	"\n"
	"    {login}\n"
	"\n"
	"and give the code as the password: you will then be asked to choose a\n"
	"new password.  Or, on {host}, run\n"
	"\n"
	"    rollcall member accept\n"
	"\n"
	"and type the code at its prompt (never on the command line, where\n"
	"other users can read it; a script may give it on standard input with\n"
	"--password-stdin), then choose your password there.\n"
	"\n"
	"If you did not expect this invitation, ignore this message: the code\n"
	"stops working when it expires.\n",
	/* RC_MAIL_RESEND */
	"Subject: Your new invitation code for {project}\n"
	"\n"
	"Hello {name},\n"
	"\n"
	"Here is a new code for your invitation to {project} on {host},\n"
	"sent by {inviter}.  You are invited as a member with the role\n"
	"{role}; your user name is {username}.  Any earlier code no longer works.\n"
	"\n"
	"Your invitation code, which is also your first password:\n"
	"\n"
	"    {code}\n"
	"\n"
	"It expires {expires_in}, at {expires}.\n"
	"\n"
	"To log in, run\n"
	"\n"
	"    {login}\n"
	"\n"
	"and give the code as the password: you will then be asked to choose a\n"
	"new password.  Or, on {host}, run\n"
	"\n"
	"    rollcall member accept\n"
	"\n"
	"and type the code at its prompt (never on the command line, where\n"
	"other users can read it; a script may give it on standard input with\n"
	"--password-stdin), then choose your password there.\n",
	/* RC_MAIL_RESET */
	"Subject: Your password for {project} was reset\n"
	"\n"
	"Hello {name},\n"
	"\n"
	"Your password for {project} on {host} (user name {username}, role\n"
	"{role}) was reset by {inviter}.  Your old password no longer works,\n"
	"and your tokens were revoked.\n"
	"\n"
	"Your reset code, to be used once as your password:\n"
	"\n"
	"    {code}\n"
	"\n"
	"It expires {expires_in}, at {expires}.\n"
	"\n"
	"To log in, run\n"
	"\n"
	"    {login}\n"
	"\n"
	"and give the code as the password: you will then be asked to choose a\n"
	"new password.  Or, on {host}, run\n"
	"\n"
	"    rollcall member accept\n"
	"\n"
	"and type the code at its prompt (never on the command line, where\n"
	"other users can read it; a script may give it on standard input with\n"
	"--password-stdin), then choose your password there.\n"
	"\n"
	"If you did not ask for this, tell {inviter}.\n",
};

struct rc_mail_template {
	char source[RC_PATH_MAX];   /* the file, or "built-in" */
	char *text;
	size_t len;
	size_t subject, subject_len; /* after "Subject: " */
	size_t body;
};

RC_API const char *rc_mail_template_file(int kind)
{
	return kind >= 0 && kind < RC_MAIL_KINDS ? files[kind] : NULL;
}

RC_API const char *rc_mail_builtin_template(int kind)
{
	return kind >= 0 && kind < RC_MAIL_KINDS ? builtin[kind] : NULL;
}

RC_API bool rc_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p++, need;
		uint32_t cp;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; }
		else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0x0f; }
		else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 0x07; }
		else return false;
		if ((size_t)(end - p) < need)
			return false;
		for (unsigned i = 0; i < need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		p += need;
		if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

/* At TEXT[i] == '{': the length of a placeholder's name ({name}), or 0. */
static size_t placeholder_at(const char *text, size_t n, size_t i)
{
	size_t j = i + 1;
	while (j < n && ((text[j] >= 'a' && text[j] <= 'z') || text[j] == '_'))
		j++;
	return j > i + 1 && j < n && text[j] == '}' ? j - i - 1 : 0;
}

static bool known(const char *name, size_t len, const char *const *allowed)
{
	for (size_t k = 0; allowed[k]; k++)
		if (strlen(allowed[k]) == len && memcmp(allowed[k], name, len) == 0)
			return true;
	return false;
}

static int check_span(const char *text, size_t n, const char *const *allowed, char *bad,
                      size_t badlen)
{
	for (size_t i = 0; i < n; i++) {
		size_t len;
		if (text[i] != '{')
			continue;
		if (i + 1 < n && text[i + 1] == '{') {
			i++;
			continue;
		}
		if ((len = placeholder_at(text, n, i)) && !known(text + i + 1, len, allowed)) {
			snprintf(bad, badlen, "%.*s", (int)len, text + i + 1);
			return 1;
		}
	}
	return 0;
}

int rc_placeholders_check(const char *text, const char *const *allowed, char *bad,
                          size_t badlen)
{
	return check_span(text, strlen(text), allowed, bad, badlen);
}

/* Check a template's text; errors name SOURCE:LINE. */
static int template_parse(rc_mail_template *t)
{
	const char *s = t->text;
	size_t n = t->len, line = 1, start = 0;
	char bad[40];
	bool has_code = false;

	if (!rc_utf8_valid(s, n))
		return rc_fail(RC_ERR_CONFIG, "%s: not valid UTF-8", t->source);
	if (n < 10 || strncmp(s, "Subject: ", 9) != 0)
		return rc_fail(RC_ERR_CONFIG, "%s:1: the template must start with a \"Subject: \" "
		               "line, then an empty line and the body", t->source);
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '\n') {
			unsigned char c = (unsigned char)s[i];
			if (rc_is_control(c) && (c != '\t' || line == 1))
				return rc_fail(RC_ERR_CONFIG, "%s:%zu: control character (only tabs "
				               "in the body)", t->source, line);
			continue;
		}
		/* a line: [start, i) */
		if (i - start > TLINE_MAX)
			return rc_fail(RC_ERR_CONFIG, "%s:%zu: line longer than %d bytes", t->source,
			               line, TLINE_MAX);
		if (check_span(s + start, i - start, rc_mail_placeholders, bad, sizeof(bad)))
			return rc_fail(RC_ERR_CONFIG, "%s:%zu: unknown placeholder {%s} (see "
			               "rollcall.conf(5))", t->source, line, bad);
		for (size_t j = start; j + 6 <= i; j++)
			if (memcmp(s + j, "{code}", 6) == 0 && (j == start || s[j - 1] != '{'))
				has_code = line > 1 ? true : has_code;
		if (line == 1) {
			t->subject = 9;
			t->subject_len = i - 9;
			if (t->subject_len == 0)
				return rc_fail(RC_ERR_CONFIG, "%s:1: empty subject", t->source);
			if (check_span(s + start, i - start, (const char *const[]){ "project", "host",
			               "name", "username", "role", NULL }, bad, sizeof(bad)))
				return rc_fail(RC_ERR_CONFIG, "%s:1: {%s} is not allowed in the "
				               "subject (only {project}, {host}, {name}, {username} and "
				               "{role})", t->source, bad);
		}
		if (line == 2 && i != start)
			return rc_fail(RC_ERR_CONFIG, "%s:2: the line after the subject must be "
			               "empty", t->source);
		if (line == 2)
			t->body = i + 1 > n ? n : i + 1;
		line++;
		start = i + 1;
	}
	if (line <= 3)
		return rc_fail(RC_ERR_CONFIG, "%s: the template has no body", t->source);
	if (!has_code)
		return rc_fail(RC_ERR_CONFIG, "%s: the body has no {code}: the mail would not carry "
		               "the code", t->source);
	return RC_OK;
}

/* Read a template file: a regular file (no symlink) of root's (or the
 * effective user's), not group- or other-writable, at most TEMPLATE_MAX. */
static int template_read(rc_mail_template *t, const char *path, bool *missing)
{
	struct stat st;
	ssize_t got;
	int rc = RC_OK;
	int fd = -1;

	*missing = false;
	rc = rc_open_trusted(path, "mail template", &fd, &st);
	if (rc == RC_ERR_NOTFOUND) {
		*missing = true;
		return RC_OK;
	}
	if (rc)
		return rc;
	if (st.st_size > TEMPLATE_MAX)
		rc = rc_fail(RC_ERR_CONFIG, "mail template %s is larger than %d bytes", path,
		             TEMPLATE_MAX);
	else if (!(t->text = malloc(TEMPLATE_MAX + 1)))
		rc = rc_fail(RC_ERR_NOMEM, "out of memory");
	else {
		size_t n = 0;
		while (n <= TEMPLATE_MAX &&
		       ((got = read(fd, t->text + n, TEMPLATE_MAX + 1 - n)) > 0 ||
		        (got < 0 && errno == EINTR)))
			n += got > 0 ? (size_t)got : 0;
		if (got < 0)
			rc = rc_fail(RC_ERR_CONFIG, "cannot read mail template %s: %s", path,
			             strerror(errno));
		else if (n > TEMPLATE_MAX)
			rc = rc_fail(RC_ERR_CONFIG, "mail template %s is larger than %d bytes", path,
			             TEMPLATE_MAX);
		else if (memchr(t->text, '\0', n))
			rc = rc_fail(RC_ERR_CONFIG, "mail template %s has a NUL byte", path);
		t->text[n] = '\0';
		t->len = n;
	}
	close(fd);
	return rc;
}

RC_API int rc_mail_template_load(const rc_config *cfg, int kind, rc_mail_template **out)
{
	rc_mail_template *t;
	bool missing = true;
	int rc = RC_OK;

	*out = NULL;
	if (kind < 0 || kind >= RC_MAIL_KINDS)
		return rc_fail(RC_ERR_INVALID, "no such mail template");
	if (!(t = calloc(1, sizeof(*t))))
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	if (cfg->mail_template_dir[0]) {
		if ((size_t)snprintf(t->source, sizeof(t->source), "%s/%s", cfg->mail_template_dir,
		                     files[kind]) >= sizeof(t->source))
			rc = rc_fail(RC_ERR_CONFIG, "mail_template_dir %s: path too long",
			             cfg->mail_template_dir);
		else
			rc = template_read(t, t->source, &missing);
	}
	if (!rc && missing) {
		free(t->text);
		snprintf(t->source, sizeof(t->source), "built-in %s", files[kind]);
		t->len = strlen(builtin[kind]);
		if (!(t->text = strdup(builtin[kind])))
			rc = rc_fail(RC_ERR_NOMEM, "out of memory");
	}
	if (!rc)
		rc = template_parse(t);
	if (rc) {
		rc_mail_template_free(t);
		return rc;
	}
	*out = t;
	return RC_OK;
}

RC_API void rc_mail_template_free(rc_mail_template *t)
{
	if (!t)
		return;
	free(t->text);
	free(t);
}

RC_API const char *rc_mail_template_text(const rc_mail_template *t)
{
	return t->text;
}

RC_API const char *rc_mail_template_source(const rc_mail_template *t)
{
	return t->source;
}

RC_API int rc_mail_kind_parse(const char *name, int *kind)
{
	for (int k = 0; k < RC_MAIL_KINDS; k++)
		if (strlen(name) + 4 == strlen(files[k]) && strncmp(files[k], name, strlen(name)) == 0) {
			*kind = k;
			return RC_OK;
		}
	return rc_fail(RC_ERR_INVALID, "no mail \"%.32s\" (invitation, resend or reset)", name);
}

RC_API void rc_host_name(char *buf, size_t len)
{
	char h[256];

	if (gethostname(h, sizeof(h)) < 0 || !h[0])
		goto fallback;
	h[sizeof(h) - 1] = '\0';
	for (char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			goto fallback;
	snprintf(buf, len, "%s", h);
	return;
fallback:
	snprintf(buf, len, "localhost");
}

/* ---- the message -------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
	int err;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap : 4096);
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = malloc(cap);
		if (!p) {
			b->err = RC_ERR_NOMEM;
			return;
		}
		if (b->p) {
			memcpy(p, b->p, b->len);
			sodium_memzero(b->p, b->cap);
			free(b->p);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void buf_wipe(struct buf *b)
{
	if (b->p) {
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

/* RFC 2047 encoded words for UTF-8 TEXT, at most 45 bytes each (75
 * characters encoded), split between characters, folded between words. */
static void put_encoded(struct buf *b, const char *text)
{
	size_t n = strlen(text), i = 0;
	char b64[sodium_base64_ENCODED_LEN(45, sodium_base64_VARIANT_ORIGINAL)];

	while (i < n) {
		size_t k = n - i > 45 ? 45 : n - i;
		while (k < n - i && k > 0 && ((unsigned char)text[i + k] & 0xc0) == 0x80)
			k--;   /* do not split a character */
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)text + i, k,
		                  sodium_base64_VARIANT_ORIGINAL);
		if (i)
			puts_(b, "\n ");
		puts_(b, "=?UTF-8?B?");
		puts_(b, b64);
		puts_(b, "?=");
		i += k;
	}
}

static bool ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* A display name (RFC 5322 phrase): atoms as they are, other ASCII quoted,
 * anything else encoded. */
static void put_phrase(struct buf *b, const char *s)
{
	bool atoms = *s && s[0] != ' ' && s[strlen(s) - 1] != ' ';
	for (const char *p = s; *p && atoms; p++)
		atoms = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || strchr(" !#$%&'*+-/=?^_`{|}~", *p);
	if (atoms) {
		puts_(b, s);
	} else if (ascii_printable(s)) {
		puts_(b, "\"");
		for (const char *p = s; *p; p++) {
			if (*p == '"' || *p == '\\')
				puts_(b, "\\");
			put(b, p, 1);
		}
		puts_(b, "\"");
	} else {
		put_encoded(b, s);
	}
}

static void put_date(struct buf *b, int64_t now)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	                                      "Aug", "Sep", "Oct", "Nov", "Dec" };
	char s[64];
	struct tm tm;
	time_t t = (time_t)now;

	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(s, sizeof(s), "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
	         tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	         tm.tm_sec);
	puts_(b, s);
}

static void expires_in(int64_t d, char *s, size_t len)
{
	long long m = (long long)((d + 30) / 60), h = (long long)((d + 1800) / 3600),
	          days = (long long)((d + 43200) / 86400);

	if (d < 60)
		snprintf(s, len, "in less than a minute");
	else if (m < 120)
		snprintf(s, len, "in %lld minute%s", m, m == 1 ? "" : "s");
	else if (h < 48)
		snprintf(s, len, "in %lld hours", h);
	else
		snprintf(s, len, "in %lld days", days);
}

struct vars {
	const char *v[sizeof(rc_mail_placeholders) / sizeof(rc_mail_placeholders[0])];
};

/* TEXT[0..n) with its placeholders replaced. */
static void render(struct buf *b, const char *text, size_t n, const struct vars *vs)
{
	size_t i = 0, from = 0;

	while (i < n) {
		size_t len;
		if (text[i] != '{') {
			i++;
			continue;
		}
		put(b, text + from, i - from);
		if (i + 1 < n && text[i + 1] == '{') {
			puts_(b, "{");
			i += 2;
		} else if ((len = placeholder_at(text, n, i)) != 0) {
			for (size_t k = 0; rc_mail_placeholders[k]; k++)
				if (strlen(rc_mail_placeholders[k]) == len &&
				    memcmp(rc_mail_placeholders[k], text + i + 1, len) == 0)
					puts_(b, vs->v[k]);
			i += len + 2;
		} else {
			puts_(b, "{");
			i++;
		}
		from = i;
	}
	put(b, text + from, n - from);
}

static void set_var(struct vars *vs, const char *name, const char *value)
{
	for (size_t k = 0; rc_mail_placeholders[k]; k++)
		if (strcmp(rc_mail_placeholders[k], name) == 0)
			vs->v[k] = value;
}

/* The sender: the project's name (or the host's) and mail_from (or
 * root@HOST).  Returns the project's name. */
static const char *sender(const rc_config *cfg, char *host, size_t hlen, char *from,
                          size_t flen)
{
	rc_host_name(host, hlen);
	if (cfg->mail_from[0])
		snprintf(from, flen, "%s", cfg->mail_from);
	else
		snprintf(from, flen, "root@%s", host);
	return cfg->project_name[0] ? cfg->project_name : host;
}

/* "From: PROJECT <FROM>" and the start of the To: header. */
static void put_from(struct buf *b, const char *project, const char *from)
{
	puts_(b, "From: ");
	put_phrase(b, project);
	puts_(b, " <");
	puts_(b, from);
	puts_(b, ">\nTo: ");
}

/* From the end of the To: header to the empty line: Subject (an encoded
 * word when not printable ASCII), Date, Message-ID on the sender's domain
 * and the MIME headers. */
static void put_headers_rest(struct buf *b, const char *subject, int64_t now, const char *from,
                             const char *host)
{
	char mid[96], id[17], rnd[8];
	const char *at = strchr(from, '@');

	puts_(b, "\nSubject: ");
	if (ascii_printable(subject))
		puts_(b, subject);
	else
		put_encoded(b, subject);
	puts_(b, "\nDate: ");
	put_date(b, now);
	rc_random_bytes(rnd, sizeof(rnd));
	sodium_bin2hex(id, sizeof(id), (const unsigned char *)rnd, sizeof(rnd));
	snprintf(mid, sizeof(mid), "\nMessage-ID: <rollcall.%lld.%s@", (long long)now, id);
	puts_(b, mid);
	puts_(b, at ? at + 1 : host);
	puts_(b, ">\n"
	         "MIME-Version: 1.0\n"
	         "Content-Type: text/plain; charset=UTF-8\n"
	         "Content-Transfer-Encoding: 8bit\n"
	         "Auto-Submitted: auto-generated\n"
	         "\n");
}

/* The values of a code mail's placeholders, and the storage they point to. */
struct code_mail {
	char host[72], from[RC_EMAIL_MAX + 1], inviter[RC_FULLNAME_MAX + RC_EMAIL_MAX + 8];
	char expires[64], in[64];
	const char *project;
	struct buf login;   /* login_hint rendered */
	struct vars vs;
};

/* {login}: login_hint with its own placeholders, {username} and {host}. */
static void render_login(struct code_mail *m, const rc_config *cfg, const char *username)
{
	struct vars lv = { { 0 } };
	const char *hint = cfg->login_hint[0] ? cfg->login_hint : "ssh {username}@{host}";

	set_var(&lv, "username", username);
	set_var(&lv, "host", m->host);
	for (size_t k = 0; rc_mail_placeholders[k]; k++)
		if (!lv.v[k])
			lv.v[k] = "";
	render(&m->login, hint, strlen(hint), &lv);
}

static void code_mail_vars(struct code_mail *m, const rc_config *cfg, const rc_mail_info *info)
{
	const rc_code_result *r = info->code;
	time_t et = (time_t)r->expires;
	struct tm tm;

	m->project = sender(cfg, m->host, sizeof(m->host), m->from, sizeof(m->from));
	if (info->inviter_name && info->inviter_email)
		snprintf(m->inviter, sizeof(m->inviter), "%s <%s>", info->inviter_name,
		         info->inviter_email);
	else
		snprintf(m->inviter, sizeof(m->inviter), "the administrator of %s", m->host);
	if (!gmtime_r(&et, &tm))
		memset(&tm, 0, sizeof(tm));
	strftime(m->expires, sizeof(m->expires), "%Y-%m-%d %H:%M UTC", &tm);
	expires_in(r->expires - info->now, m->in, sizeof(m->in));

	set_var(&m->vs, "project", m->project);
	set_var(&m->vs, "host", m->host);
	set_var(&m->vs, "name", r->full_name[0] ? r->full_name : r->username);
	set_var(&m->vs, "username", r->username);
	set_var(&m->vs, "email", r->email);
	set_var(&m->vs, "inviter", m->inviter);
	set_var(&m->vs, "role", r->role);
	set_var(&m->vs, "code", r->code);
	set_var(&m->vs, "expires", m->expires);
	set_var(&m->vs, "expires_in", m->in);
	render_login(m, cfg, r->username);
	set_var(&m->vs, "login", m->login.p ? m->login.p : "");
}

/* Nothing that could end a header line: every value is checked where it
 * comes from; this is the last guard. */
static int check_subject(const struct buf *subject, const rc_mail_template *t)
{
	for (size_t i = 0; i < subject->len; i++)
		if (rc_is_control((unsigned char)subject->p[i]))
			return rc_fail(RC_ERR_INVALID, "%s: the subject has a control character",
			               t->source);
	return RC_OK;
}

static int check_line_length(const struct buf *b, const rc_mail_template *t)
{
	for (size_t i = 0, start = 0; i < b->len; i++)
		if (b->p[i] == '\n') {
			if (i - start > MAIL_LINE_MAX)
				return rc_fail(RC_ERR_INVALID, "%s: a line of the mail is longer "
				               "than %d bytes", t->source, MAIL_LINE_MAX);
			start = i + 1;
		}
	return RC_OK;
}

/* "To: NAME <EMAIL>", or the bare address when there is no name. */
static void put_to(struct buf *b, const rc_code_result *r)
{
	if (r->full_name[0]) {
		put_phrase(b, r->full_name);
		puts_(b, " <");
		puts_(b, r->email);
		puts_(b, ">");
	} else {
		puts_(b, r->email);
	}
}

RC_API int rc_mail_compose(const rc_config *cfg, const rc_mail_template *t,
                           const rc_mail_info *info, char **out, size_t *outlen)
{
	struct buf b = { 0 }, subject = { 0 };
	struct code_mail m = { .login = { 0 } };
	int rc;

	*out = NULL;
	*outlen = 0;
	code_mail_vars(&m, cfg, info);
	render(&subject, t->text + t->subject, t->subject_len, &m.vs);
	if (subject.err || m.login.err) {
		rc = rc_fail(RC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = check_subject(&subject, t)) != RC_OK)
		goto out;
	put_from(&b, m.project, m.from);
	put_to(&b, info->code);
	put_headers_rest(&b, subject.p, info->now, m.from, m.host);
	render(&b, t->text + t->body, t->len - t->body, &m.vs);
	if (b.len && b.p[b.len - 1] != '\n')
		puts_(&b, "\n");
	if (b.err) {
		rc = rc_fail(RC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = check_line_length(&b, t)) != RC_OK)
		goto out;
	*out = b.p;
	*outlen = b.len;
	b.p = NULL;
out:
	buf_wipe(&b);
	buf_wipe(&subject);
	buf_wipe(&m.login);
	return rc;
}

RC_API void rc_mail_free(char *msg, size_t len)
{
	if (!msg)
		return;
	sodium_memzero(msg, len);
	free(msg);
}

/* ---- notifications ------------------------------------------------------ */

static const char *const event_titles[RC_EV_COUNT] = {
	"invitation accepted", "invitation expired", "member locked out",
	"two-factor authentication disabled", "role changed", "token created",
	"member deleted"
};

/* A value from the store, for a header or a line: control characters become
 * '?' (every value was checked where it came from; this is a last guard). */
static void put_clean(struct buf *b, const char *s)
{
	for (; *s; s++) {
		char ch = rc_is_control((unsigned char)*s) ? '?' : *s;
		put(b, &ch, 1);
	}
}

/* The notice's body: what happened, to whom, by whom, from where, when. */
static void put_notice_body(struct buf *b, const rc_notice *n, const char *to,
                            const char *project, const char *host)
{
	time_t tt = (time_t)n->time;
	char when[64];
	struct tm tm;

	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof(tm));
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	puts_(b, "rollcall on ");
	put_clean(b, host);
	puts_(b, " (");
	put_clean(b, project);
	puts_(b, "): ");
	puts_(b, event_titles[n->event]);
	puts_(b, ".\n\nEvent:   ");
	puts_(b, rc_event_name((unsigned)n->event));
	puts_(b, "\nWho:     ");
	put_clean(b, n->target);
	if (n->detail[0]) {
		puts_(b, "\nDetail:  ");
		put_clean(b, n->detail);
	}
	puts_(b, "\nBy:      ");
	put_clean(b, n->actor[0] ? n->actor : "?");
	puts_(b, "\nFrom:    ");
	put_clean(b, n->origin[0] ? n->origin : "?");
	puts_(b, "\nWhen:    ");
	puts_(b, when);
	puts_(b, "\n\nYou receive this because ");
	puts_(b, to);
	puts_(b, " is subscribed to\nthese events (rollcall notification list).\n");
}

RC_API int rc_notice_compose(const rc_config *cfg, const rc_notice *n, const char *to,
                             int64_t now, char **out, size_t *outlen)
{
	struct buf b = { 0 }, subj = { 0 };
	char host[72], from[RC_EMAIL_MAX + 1];
	const char *project;

	*out = NULL;
	*outlen = 0;
	if (n->event < 0 || n->event >= RC_EV_COUNT)
		return rc_fail(RC_ERR_INVALID, "unknown event %d", n->event);
	if (rc_valid_email(to) != RC_OK)
		return RC_ERR_INVALID;
	project = sender(cfg, host, sizeof(host), from, sizeof(from));
	puts_(&subj, "[");
	put_clean(&subj, project);
	puts_(&subj, "] ");
	puts_(&subj, event_titles[n->event]);
	puts_(&subj, ": ");
	put_clean(&subj, n->target);
	puts_(&subj, "");
	if (subj.err || !subj.p) {
		buf_wipe(&subj);
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	}
	put_from(&b, project, from);
	puts_(&b, to);
	put_headers_rest(&b, subj.p, now, from, host);
	buf_wipe(&subj);
	put_notice_body(&b, n, to, project, host);
	if (b.err || !b.p) {
		buf_wipe(&b);
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	}
	*out = b.p;
	*outlen = b.len;
	return RC_OK;
}
