#!/bin/sh
# Sum the automake .trs files under DIR into "N passed, N failed, N skipped";
# EXTRA (pass, fail or skip) counts one more result, e.g. make distcheck.
dir=${1:-.}
extra=${2:-}
find "$dir" -path '*/rollcall-[0-9]*' -prune -o -name '*.trs' -print | xargs cat 2>/dev/null | awk -v extra="$extra" '
	/^:test-result: (PASS|XFAIL)/  { p++ }
	/^:test-result: (FAIL|XPASS|ERROR)/ { f++ }
	/^:test-result: SKIP/  { s++ }
	END {
		if (extra == "pass") p++
		if (extra == "fail") f++
		if (extra == "skip") s++
		printf "%d passed, %d failed, %d skipped\n", p, f, s
		exit (f > 0 || p == 0)
	}'
