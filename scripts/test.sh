#!/bin/sh
# Build rollcall and run every test (README's test command).  As root on a
# fresh Debian 12 machine: installs the packages, builds with -Werror, runs
# "make check" (unit, tool and root-only tests) and "make distcheck", and
# ends with the line "N passed, N failed".
set -e
cd "$(dirname "$0")/.."
sh scripts/deps.sh
./autogen.sh
rm -rf _build && mkdir _build && cd _build
../configure --enable-werror
make -j2
status=0
make -j2 check || status=$?
# One closing line for the whole suite, from the TAP results.
sh ../scripts/summary.sh . || status=1
if [ "$status" = 0 ] && [ -z "${SKIP_DISTCHECK:-}" ]; then
	make -j2 distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror >distcheck.log 2>&1 || {
		tail -40 distcheck.log; echo "make distcheck failed"; status=1; }
	[ "$status" = 0 ] && echo "make distcheck passed"
fi
exit $status
