/*
 * import.c - the file of "rollcall member import": CSV (RFC 4180) whose
 * header line names the columns.  Only the file's form is checked here;
 * what the fields say is checked by rc_member_import (member.c) with the
 * rules of every invitation.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include "errors.h"

enum { COL_EMAIL, COL_ROLE, COL_USERNAME, COL_FULLNAME, NCOLS };
static const char *const col_names[NCOLS] = { "email", "role", "username", "full_name" };
#define FIELDS_MAX 16

static void report(const rc_import_hooks *h, unsigned long line, const char *fmt, ...)
	RC_PRINTF(3, 4);
static void report(const rc_import_hooks *h, unsigned long line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (h && h->bad)
		h->bad(line, msg, h->ctx);
}

/* A quoted field, *RP at its opening quote: unquoted ("" is ") into *WP.
 * Both move on, as far as they got; false with the reason in *WHY. */
static bool quoted_field(char **rp, char **wp, char *end, unsigned long *line,
                         const char **why)
{
	char *r = *rp + 1, *w = *wp;
	bool ok = false;

	for (;;) {
		if (r >= end) {
			*why = "a quoted field is not closed";
			goto out;
		}
		if (*r == '"' && r + 1 < end && r[1] == '"') {
			*w++ = '"';
			r += 2;
		} else if (*r == '"') {
			r++;
			break;
		} else {
			if (*r == '\n')
				(*line)++;
			if (*r == '\0') {
				*why = "a NUL byte";
				goto out;
			}
			*w++ = *r++;
		}
	}
	if (r < end && r[0] == '\r' && (r + 1 == end || r[1] == '\n'))
		r++;   /* CRLF */
	if (r < end && *r != ',' && *r != '\n') {
		*why = "text after a closing quote (quote the whole field)";
		goto out;
	}
	ok = true;
out:
	*rp = r;
	*wp = w;
	return ok;
}

/* A field that is not quoted, up to a comma or the end of the line; as
 * quoted_field. */
static bool plain_field(char **rp, char **wp, char *end, const char **why)
{
	char *r = *rp, *w = *wp, *start = *wp;
	bool ok = false;

	while (r < end && *r != ',' && *r != '\n') {
		if (*r == '"') {
			*why = "a '\"' in a field that is not quoted (quote the field and double "
			       "the '\"')";
			goto out;
		}
		if (*r == '\0') {
			*why = "a NUL byte";
			goto out;
		}
		*w++ = *r++;
	}
	if (w > start && w[-1] == '\r' && (r >= end || *r == '\n'))
		w--;   /* CRLF */
	ok = true;
out:
	*rp = r;
	*wp = w;
	return ok;
}

/* The record at *P (before END; END itself writable): its fields unquoted
 * in place and NUL-terminated into FIELDS.  *P moves past its end of line
 * and *LINE past the lines it took.  The number of fields, or -1 with the
 * reason in *WHY (the rest of the line skipped). */
static int record(char **p, char *end, char **fields, unsigned long *line, const char **why)
{
	char *r = *p, *w = *p;
	int nf = 0;

	*why = NULL;
	for (;;) {
		char *start = w;
		if (!(r < end && *r == '"' ? quoted_field(&r, &w, end, line, why)
		                           : plain_field(&r, &w, end, why)))
			goto skip;
		if (nf == FIELDS_MAX) {
			*why = "too many fields";
			goto skip;
		}
		fields[nf++] = start;
		char delim = r < end ? *r : '\n';
		*w++ = '\0';
		r++;
		if (delim == '\n')
			break;
	}
	(*line)++;
	*p = r > end ? end : r;
	return nf;
skip:
	while (r < end && *r != '\n')
		r++;
	(*line)++;
	*p = r < end ? r + 1 : end;
	return -1;
}

/* The header: which field holds each column (-1: none). */
static int header(char **fields, int nf, int col[NCOLS], unsigned long line,
                  const rc_import_hooks *h)
{
	for (int c = 0; c < NCOLS; c++)
		col[c] = -1;
	for (int i = 0; i < nf; i++) {
		int c = 0;
		while (c < NCOLS && strcmp(fields[i], col_names[c]) != 0)
			c++;
		if (c == NCOLS) {
			report(h, line, "the header has an unknown column \"%.40s\" (the columns are "
			       "email, role, username and full_name)", fields[i]);
			return RC_ERR_INVALID;
		}
		if (col[c] >= 0) {
			report(h, line, "the header names the column %s twice", col_names[c]);
			return RC_ERR_INVALID;
		}
		col[c] = i;
	}
	if (col[COL_EMAIL] < 0 || col[COL_ROLE] < 0) {
		report(h, line, "the header must name the columns email and role (and may name "
		       "username and full_name), like \"email,role,username,full_name\"");
		return RC_ERR_INVALID;
	}
	return RC_OK;
}

static bool empty_line(const char *p, const char *end)
{
	return p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'));
}

static int header_columns(const int col[NCOLS])
{
	int want = 0;

	for (int c = 0; c < NCOLS; c++)
		want += col[c] >= 0;
	return want;
}

/* A row of the header's columns at the end of *ROWS (*N of CAP); on no
 * memory the rows are freed. */
static int add_row(rc_import_row **rows, size_t *n, size_t *cap, char **fields,
                   const int col[NCOLS], unsigned long line)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		rc_import_row *nr = realloc(*rows, ncap * sizeof(**rows));
		if (!nr) {
			free(*rows);
			*rows = NULL;
			*n = 0;
			return rc_fail(RC_ERR_NOMEM, "out of memory");
		}
		*rows = nr;
		*cap = ncap;
	}
	rc_import_row *row = &(*rows)[(*n)++];
	memset(row, 0, sizeof(*row));
	row->line = line;
	row->req.email = fields[col[COL_EMAIL]];
	row->req.role = fields[col[COL_ROLE]];
	if (col[COL_USERNAME] >= 0 && *fields[col[COL_USERNAME]])
		row->req.username = fields[col[COL_USERNAME]];
	if (col[COL_FULLNAME] >= 0 && *fields[col[COL_FULLNAME]])
		row->req.full_name = fields[col[COL_FULLNAME]];
	return RC_OK;
}

RC_API int rc_import_parse(char *buf, size_t len, rc_import_row **rows, size_t *n,
                           const rc_import_hooks *h)
{
	char *p = buf, *end = buf + len, *fields[FIELDS_MAX];
	unsigned long line = 1;
	size_t cap = 0;
	int col[NCOLS], nf, rc = RC_OK;
	bool have_header = false;
	const char *why;

	*rows = NULL;
	*n = 0;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		unsigned long at = line;
		if (empty_line(p, end)) {
			p += *p == '\r' ? 2 : 1;
			line++;
			continue;
		}
		nf = record(&p, end, fields, &line, &why);
		if (nf < 0) {
			report(h, at, "%s", why);
			rc = RC_ERR_INVALID;
			if (!have_header)
				return rc;
			continue;
		}
		if (!have_header) {
			if (header(fields, nf, col, at, h) != RC_OK)
				return RC_ERR_INVALID;
			have_header = true;
			continue;
		}
		int want = header_columns(col);
		if (nf != want) {
			report(h, at, "%d field%s; the header has %d", nf, nf == 1 ? "" : "s", want);
			rc = RC_ERR_INVALID;
			continue;
		}
		if (add_row(rows, n, &cap, fields, col, at) != RC_OK)
			return RC_ERR_NOMEM;
	}
	if (!have_header) {
		report(h, 1, "no header line (like \"email,role,username,full_name\")");
		return RC_ERR_INVALID;
	}
	if (rc)
		rc_fail(rc, "bad lines");
	return rc;
}
