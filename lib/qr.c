/*
 * qr.c - a QR code drawn with text, for a terminal or a PAM conversation.
 *
 * libqrencode makes the matrix; each text line shows two rows of modules
 * with the Unicode half blocks, dark modules drawn as spaces on a light
 * quiet zone, so the code reads on dark and light terminals alike when the
 * terminal shows the blocks in its foreground colour.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <stdlib.h>
#include <qrencode.h>
#include <string.h>
#include "errors.h"

#define QUIET 2

RC_API int rc_qr_text(const char *data, char **out)
{
	/* light = block, dark = space; top half and bottom half of a cell */
	static const char *const cell[4] = {
		"\xe2\x96\x88",   /* both light: full block */
		"\xe2\x96\x84",   /* top dark, bottom light: lower half */
		"\xe2\x96\x80",   /* top light, bottom dark: upper half */
		" ",              /* both dark */
	};
	QRcode *qr;
	char *buf, *p;
	int w, size;

	*out = NULL;
	qr = QRcode_encodeString(data, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	if (!qr)
		return rc_fail(RC_ERR_NOMEM, "cannot draw a QR code for %zu bytes", strlen(data));
	w = qr->width;
	size = w + 2 * QUIET;
	/* lines of SIZE cells (3 bytes each at most) and a newline */
	buf = malloc((size_t)((size + 1) / 2 + 1) * (size_t)(size * 3 + 1) + 1);
	if (!buf) {
		QRcode_free(qr);
		return rc_fail(RC_ERR_NOMEM, "out of memory");
	}
	p = buf;
	for (int y = 0; y < size; y += 2) {
		for (int x = 0; x < size; x++) {
			int mx = x - QUIET, my = y - QUIET;
			int top = mx >= 0 && mx < w && my >= 0 && my < w &&
			          (qr->data[my * w + mx] & 1);
			int bot = mx >= 0 && mx < w && my + 1 >= 0 && my + 1 < w &&
			          (qr->data[(my + 1) * w + mx] & 1);
			const char *c = cell[(top ? 1 : 0) | (bot ? 2 : 0)];
			size_t n = strlen(c);
			memcpy(p, c, n);
			p += n;
		}
		*p++ = '\n';
	}
	*p = '\0';
	QRcode_free(qr);
	*out = buf;
	return RC_OK;
}
