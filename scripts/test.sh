#!/bin/sh
# Build rollcall and run every test (README's test command).  As root on a
# fresh Debian 12 machine: installs the packages, builds with -Werror, runs
# "make check" (unit, tool and root-only tests) and "make distcheck", and
# ends with the line "N passed, N failed, N skipped" (make distcheck counts
# as one test).
set -e
cd "$(dirname "$0")/.."
sh scripts/deps.sh
./autogen.sh
rm -rf _build && mkdir _build && cd _build
../configure --enable-werror
make -j2
check=0
make -j2 check || check=$?
dist=pass
if [ -n "${SKIP_DISTCHECK:-}" ]; then
	dist=skip
elif ! make -j2 distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror >distcheck.log 2>&1; then
	tail -40 distcheck.log
	echo "make distcheck failed (see _build/distcheck.log)"
	dist=fail
fi
# One closing line for the whole suite, from the TAP results.
sh ../scripts/summary.sh . "$dist" || check=1
exit $check
