#!/bin/sh
# Build rollcall and run every test (README's test command).  As root on a
# fresh Debian 12 machine:
#  1. installs the packages (scripts/deps.sh) and runs autoreconf, whose
#     output must hold no warning (counted as one test);
#  2. builds with -Werror in _build and runs "make check": unit, tool, NSS,
#     PAM, valgrind, fault (kill -9, concurrency, full disk, damaged
#     files), fuzz (each target briefly, from its corpus) and the root-only
#     end-to-end tests;
#  3. "make distcheck": the release tarball builds, installs, uninstalls
#     and passes the unit and basic tool tests (counted as one test);
#  4. builds again in _build-san with AddressSanitizer and UBSan and runs the
#     unit, NSS, PAM and tool suites under them; any sanitizer report fails
#     (counted as one test);
# and ends with the line "N passed, N failed, N skipped".
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
sh scripts/deps.sh
extra=
# autoreconf's own output is part of the warning-free build (counted as one test)
if ! ./autogen.sh > autogen.log 2>&1; then
	cat autogen.log
	exit 1
fi
if grep -i 'warning' autogen.log; then
	echo "autoreconf printed warnings (autogen.log)"
	extra="$extra fail"
else
	extra="$extra pass"
fi
rm -rf _build _build-san
mkdir _build _build-san

cd "$top/_build"
../configure --enable-werror --enable-debug-checks
make -j2
check=0
make -j2 check || check=$?
# what a failing test said, for the record of a run nobody watched
for t in $(find tests -name '*.trs' | xargs -r grep -l '^:test-result: \(FAIL\|ERROR\)' 2>/dev/null); do
	echo "== ${t%.trs}.log (its lines other than ok)"
	grep -v '^ok \|^PASS: ' "${t%.trs}.log" | tail -60
done

if [ -n "${SKIP_DISTCHECK:-}" ]; then
	extra="$extra skip"
elif make -j2 distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror --enable-debug-checks" \
	TESTS="tests/unit/test_codec tests/unit/test_validate tests/unit/test_store tests/unit/test_rules tests/tool/basics.sh" \
	>distcheck.log 2>&1; then
	extra="$extra pass"
else
	tail -40 distcheck.log
	echo "make distcheck failed (see _build/distcheck.log)"
	extra="$extra fail"
fi

cd "$top/_build-san"
../configure --enable-werror --enable-debug-checks --enable-sanitizers
make -j2
make -j2 check TESTS="tests/unit/test_codec tests/unit/test_validate tests/unit/test_store tests/unit/test_rules \
	tests/nss/test_nss tests/nss/glibc.sh tests/pam/pam.sh tests/pam/selfservice.sh tests/pam/svctokens.sh tests/pam/bad_input.sh \
	tests/tool/basics.sh tests/tool/members.sh tests/tool/services.sh tests/tool/bad_input.sh \
	tests/tool/permissions.sh tests/tool/import.sh" || check=1
if [ -n "$(ls san 2>/dev/null)" ]; then
	for f in san/*; do echo "== $f"; head -60 "$f"; done
	echo "sanitizer reports in _build-san/san: failed"
	extra="$extra fail"
else
	echo "AddressSanitizer and UBSan: no report"
	extra="$extra pass"
fi

# One closing line for the whole suite, from the TAP results of both builds.
cd "$top"
SUMMARY_EXTRA=$extra sh scripts/summary.sh _build _build-san || check=1
exit $check
