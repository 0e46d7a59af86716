/*
 * output.c - tables, key/value records and JSON for the rollcall command.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "cli.h"

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p) {
		fputs("rollcall: out of memory\n", stderr);
		exit(EX_STORE);
	}
	return p;
}

/* A value may be a code or a password: wiped before it is freed. */
static void wipe_free(char *p)
{
	if (p)
		sodium_memzero(p, strlen(p));
	free(p);
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p) {
		fputs("rollcall: out of memory\n", stderr);
		exit(EX_STORE);
	}
	return p;
}

/* S as a JSON string.  Not UTF-8 (a file name, say): each byte above 0x7f
 * as \u00XX, so that the document stays valid JSON. */
void json_string(FILE *f, const char *s)
{
	bool utf8 = rc_utf8_valid(s, strlen(s));

	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		switch (ch) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !utf8))
				fprintf(f, "\\u%04x", ch);
			else
				fputc(ch, f);
		}
	}
	fputc('"', f);
}

/* "READ-ONLY" -> "read_only", "LAST ACTIVE" -> "last_active" */
static void json_key(FILE *f, const char *header)
{
	fputc('"', f);
	for (; *header; header++) {
		char ch = *header;
		if (ch == ' ' || ch == '-')
			ch = '_';
		else if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch + 32);
		fputc(ch, f);
	}
	fputs("\":", f);
}

struct table {
	int ncols;
	const char *const *headers;
	const enum cell_type *types;
	struct cell *cells;
	size_t rows, cap;
};

struct table *table_new(int ncols, const char *const *headers, const enum cell_type *types)
{
	struct table *t = xcalloc(1, sizeof(*t));
	t->ncols = ncols;
	t->headers = headers;
	t->types = types;
	return t;
}

static void cell_set(struct cell *c, enum cell_type type, va_list *ap)
{
	char buf[64];

	c->type = type;
	switch (type) {
	case CELL_STR:
		c->text = xstrdup(va_arg(*ap, const char *));
		return;
	case CELL_BOOL:
		c->num = va_arg(*ap, int) != 0;
		c->text = xstrdup(c->num ? "true" : "false");
		return;
	case CELL_TIME:
		c->num = va_arg(*ap, int64_t);
		rc_time_format(c->num, buf, sizeof(buf));
		c->text = xstrdup(buf);
		return;
	case CELL_INT:
		c->num = va_arg(*ap, long long);
		snprintf(buf, sizeof(buf), "%lld", c->num);
		c->text = xstrdup(buf);
		return;
	case CELL_LIST: {   /* the items' JSON array, made here; text: one a line */
		const char *const *items = va_arg(*ap, const char *const *);
		size_t n = va_arg(*ap, size_t), len = 0;
		char *json = NULL;
		FILE *f = open_memstream(&json, &len);
		if (!f) {
			fputs("rollcall: out of memory\n", stderr);
			exit(EX_STORE);
		}
		fputc('[', f);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputc(',', f);
			json_string(f, items[i]);
		}
		fputc(']', f);
		fclose(f);
		c->text = json;
		return;
	}
	}
}

void table_row(struct table *t, ...)
{
	va_list ap;

	if (t->rows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct cell *n = realloc(t->cells, ncap * (size_t)t->ncols * sizeof(*n));
		if (!n) {
			fputs("rollcall: out of memory\n", stderr);
			exit(EX_STORE);
		}
		t->cells = n;
		t->cap = ncap;
	}
	va_start(ap, t);
	for (int i = 0; i < t->ncols; i++)
		cell_set(&t->cells[t->rows * (size_t)t->ncols + (size_t)i], t->types[i], &ap);
	va_end(ap);
	t->rows++;
}

static void cell_json(FILE *f, const struct cell *c)
{
	switch (c->type) {
	case CELL_STR: json_string(f, c->text); break;
	case CELL_BOOL: fputs(c->num ? "true" : "false", f); break;
	case CELL_TIME:
		if (c->num > 0)
			json_string(f, c->text);
		else
			fputs("null", f);
		break;
	case CELL_INT: fprintf(f, "%lld", c->num); break;
	case CELL_LIST: fputs(c->text, f); break;
	}
}

/* Display width of UTF-8 text (code points; good enough for names). */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void rule(const size_t *w, int n)
{
	for (int i = 0; i < n; i++) {
		fputc('+', stdout);
		for (size_t k = 0; k < w[i] + 2; k++)
			fputc('-', stdout);
	}
	fputs("+\n", stdout);
}

static void line(const size_t *w, int n, const char *const *vals)
{
	for (int i = 0; i < n; i++) {
		printf("| %s", vals[i]);
		for (size_t k = width(vals[i]); k < w[i] + 1; k++)
			fputc(' ', stdout);
	}
	fputs("|\n", stdout);
}

void table_print_rows(int ncols, const char *const *headers, size_t rows, table_row_fn row,
                      void *ctx, bool json)
{
	struct cell *cells = xcalloc((size_t)ncols, sizeof(*cells));

	if (json) {
		fputc('[', stdout);
		for (size_t r = 0; r < rows; r++) {
			row(r, cells, ctx);
			fputs(r ? ",\n {" : "\n {", stdout);
			for (int i = 0; i < ncols; i++) {
				if (i)
					fputc(',', stdout);
				json_key(stdout, headers[i]);
				cell_json(stdout, &cells[i]);
			}
			fputc('}', stdout);
		}
		fputs(rows ? "\n]\n" : "]\n", stdout);
		free(cells);
		return;
	}
	size_t *w = xcalloc((size_t)ncols, sizeof(*w));
	const char **vals = xcalloc((size_t)ncols, sizeof(*vals));
	for (int i = 0; i < ncols; i++)
		w[i] = width(headers[i]);
	for (size_t r = 0; r < rows; r++) {
		row(r, cells, ctx);
		for (int i = 0; i < ncols; i++) {
			size_t cw = width(cells[i].text);
			if (cw > w[i])
				w[i] = cw;
		}
	}
	rule(w, ncols);
	line(w, ncols, headers);
	rule(w, ncols);
	for (size_t r = 0; r < rows; r++) {
		row(r, cells, ctx);
		for (int i = 0; i < ncols; i++)
			vals[i] = cells[i].text;
		line(w, ncols, vals);
	}
	rule(w, ncols);
	free(w);
	free(vals);
	free(cells);
}

static void stored_row(size_t r, struct cell *cells, void *ctx)
{
	const struct table *t = ctx;
	memcpy(cells, &t->cells[r * (size_t)t->ncols], (size_t)t->ncols * sizeof(*cells));
}

void table_print(struct table *t, bool json)
{
	table_print_rows(t->ncols, t->headers, t->rows, stored_row, t, json);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->rows * (size_t)t->ncols; i++)
		wipe_free(t->cells[i].text);
	free(t->cells);
	free(t);
}

/* ---- records ------------------------------------------------------------ */
struct field {
	char *key;
	struct cell cell;
};
struct record {
	struct field f[48];
	int n;
};

struct record *record_new(void)
{
	return xcalloc(1, sizeof(struct record));
}

static struct record *record_add(struct record *r, const char *key, enum cell_type type, ...)
{
	va_list ap;

	if (r->n == (int)(sizeof(r->f) / sizeof(r->f[0])))
		return r;
	r->f[r->n].key = xstrdup(key);
	va_start(ap, type);
	cell_set(&r->f[r->n].cell, type, &ap);
	va_end(ap);
	r->n++;
	return r;
}

struct record *record_str(struct record *r, const char *key, const char *value)
{
	return record_add(r, key, CELL_STR, value);
}

struct record *record_bool(struct record *r, const char *key, int value)
{
	return record_add(r, key, CELL_BOOL, value);
}

struct record *record_time(struct record *r, const char *key, int64_t value)
{
	return record_add(r, key, CELL_TIME, value);
}

struct record *record_int(struct record *r, const char *key, long long value)
{
	return record_add(r, key, CELL_INT, value);
}

struct record *record_list(struct record *r, const char *key, const char *const *items,
                           size_t n)
{
	return record_add(r, key, CELL_LIST, items, n);
}

void record_emit(struct record *r)
{
	fputc('{', stdout);
	for (int i = 0; i < r->n; i++) {
		if (i)
			fputc(',', stdout);
		json_string(stdout, r->f[i].key);
		fputc(':', stdout);
		cell_json(stdout, &r->f[i].cell);
	}
	fputs("}\n", stdout);
	record_free(r);
}

void record_print(struct record *r, bool json)
{
	size_t kw = 0;

	if (json) {
		fputc('{', stdout);
		for (int i = 0; i < r->n; i++) {
			fputs(i ? ",\n " : "\n ", stdout);
			json_string(stdout, r->f[i].key);
			fputc(':', stdout);
			cell_json(stdout, &r->f[i].cell);
		}
		fputs("\n}\n", stdout);
		return;
	}
	for (int i = 0; i < r->n; i++)
		if (strlen(r->f[i].key) > kw)
			kw = strlen(r->f[i].key);
	for (int i = 0; i < r->n; i++) {
		/* keys print as "last active", values as text */
		char key[64];
		snprintf(key, sizeof(key), "%s", r->f[i].key);
		for (char *p = key; *p; p++)
			if (*p == '_')
				*p = ' ';
		printf("%-*s  %s\n", (int)kw + 1, strcat(key, ":"), r->f[i].cell.text);
	}
}

void record_free(struct record *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n; i++) {
		free(r->f[i].key);
		wipe_free(r->f[i].cell.text);
	}
	free(r);
}
