#!/bin/bash
# Build the libFuzzer targets ("make fuzz" in a build configured with
# --enable-fuzzing: this one when it is, else one of its own in
# BUILDDIR/tests/fuzz/build, configured with CC=clang once and brought up to
# date by make each run) and run each for FUZZ_SECONDS (default 15) from its
# committed corpus, tests/fuzz/corpus/T (copied: the committed corpus is
# not changed).  One TAP line per target: "ok" when it ran the whole time
# without a finding.  Without clang's libFuzzer this skips, and fails when
# CI is set.
#   FUZZ_SECONDS=600 FUZZ_KEEP_CORPUS=DIR sh tests/fuzz/run.sh [TARGET...]
# (FUZZ_KEEP_CORPUS keeps what the run found, per target, for a merge.)
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
secs=${FUZZ_SECONDS:-15}
targets=${*:-codec config settings token snapshot pam mail import}
n=$(echo $targets | wc -w)
echo "1..$n"
skip() {
	local i
	for i in $(seq 1 "$n"); do
		if [ -n "${CI:-}" ]; then echo "not ok $i - fuzz targets: $1 (CI must run them)"
		else echo "ok $i # SKIP fuzz targets: $1"; fi
	done
	exit 0
}
command -v "${CLANG:-clang}" >/dev/null 2>&1 || skip "no clang"
TMP=$(mktemp -d /tmp/rollcall-fuzz-run.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }\n' >"$TMP/probe.c"
"${CLANG:-clang}" -fsanitize=fuzzer,address,undefined "$TMP/probe.c" -o "$TMP/probe" 2>/dev/null ||
	skip "clang cannot link -fsanitize=fuzzer (Debian: libclang-rt-14-dev)"
if grep -q '^FUZZ_LDFLAGS = -fsanitize=fuzzer' "$top_builddir/Makefile" 2>/dev/null; then
	fbuild=$top_builddir
else
	fbuild=$top_builddir/tests/fuzz/build
	mkdir -p "$fbuild"
	if [ ! -f "$fbuild/Makefile" ] &&
	   ! (cd "$fbuild" && "$top_srcdir/configure" CC="${CLANG:-clang}" --enable-fuzzing \
		--enable-debug-checks --disable-tests) >"$TMP/build.log" 2>&1; then
		sed 's/^/# /' "$TMP/build.log" | tail -30
		rm -f "$fbuild/Makefile"
		for i in $(seq 1 "$n"); do echo "not ok $i - configure --enable-fuzzing failed"; done
		exit 0
	fi
fi
if ! make -C "$fbuild" -j2 fuzz >"$TMP/build.log" 2>&1; then
	sed 's/^/# /' "$TMP/build.log" | tail -30
	for i in $(seq 1 "$n"); do echo "not ok $i - fuzz targets do not build"; done
	exit 0
fi
bin=$fbuild/tests/fuzz
i=0
for t in $targets; do
	i=$((i + 1))
	mkdir -p "$TMP/corpus-$t" "$TMP/art-$t"
	cp "$top_srcdir/tests/fuzz/corpus/$t"/* "$TMP/corpus-$t/"
	start=$(date +%s)
	# -timeout: an input that takes 30 s is a finding (a hang); the
	# sanitizers' reports abort; leaks are findings too.
	"$bin/fuzz_$t" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2560 \
		-print_final_stats=1 -artifact_prefix="$TMP/art-$t/" "$TMP/corpus-$t" \
		>"$TMP/log-$t" 2>&1
	st=$?
	took=$(($(date +%s) - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$TMP/log-$t")
	if [ "$st" = 0 ] && [ -z "$(ls "$TMP/art-$t")" ]; then
		echo "ok $i - fuzz_$t: ${runs:-?} inputs in ${took}s, no finding"
	else
		echo "not ok $i - fuzz_$t: exit $st after ${took}s"
		grep -E 'ERROR|SUMMARY|returned|#[0-9]+ 0x' "$TMP/log-$t" | head -30 | sed 's/^/# /'
		for a in "$TMP/art-$t"/*; do
			[ -e "$a" ] || continue
			echo "# finding: $(basename "$a"): $(base64 -w0 "$a" | head -c 400)"
		done
	fi
	if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
		mkdir -p "$FUZZ_KEEP_CORPUS/$t"
		cp "$TMP/corpus-$t"/* "$FUZZ_KEEP_CORPUS/$t/"
	fi
done
