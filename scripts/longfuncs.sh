#!/bin/sh
# longfuncs.sh - list the C functions longer than a limit (issue 15 item 5:
# no function over about 60 lines).
#
# Usage: scripts/longfuncs.sh [-n LINES] [FILE|DIR...]
# Default: -n 60 over lib/ tools/ nss_module/ pam_module/ of this tree.
# Prints "LINES file:line name", longest first; exits 1 when any is found.
#
# The house style (Linux kernel) opens a function's body with "{" in column
# 0 and closes it with "}" in column 0; the name is the identifier before the
# first "(" of the signature, which starts on the last line in column 0
# above the "{".  Lines counted: from the signature to the closing brace.
#
# SPDX-License-Identifier: BSD-3-Clause
set -eu
limit=60
if [ "${1:-}" = -n ]; then limit=$2; shift 2; fi
if [ $# -eq 0 ]; then
	cd "$(dirname "$0")/.."
	set -- lib tools nss_module pam_module
fi
files=$(find "$@" -name '*.c' -type f | sort)
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
awk -v limit="$limit" '
FNR == 1 { sig = 0; body = 0 }
/^[A-Za-z_]/ && !body { sig = FNR; sigtext = $0 }
/^\{/ && !body && sig { body = 1; start = sig; text = sigtext; next }
/^\}/ && body {
	body = 0
	n = FNR - start + 1
	name = text
	sub(/\(.*/, "", name)
	sub(/.*[ *]/, "", name)
	if (n > limit)
		printf "%d %s:%d %s\n", n, FILENAME, start, name
	sig = 0
}
' $files | sort -rn | awk '{ print } END { exit NR > 0 }'
