#!/bin/sh
# Generate configure and the build-aux helpers (including automake's TAP
# driver, which the test suite uses) from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh
