#!/bin/sh
# Sum the automake .trs files under each DIR into one line
# "N passed, N failed, N skipped".  SUMMARY_EXTRA lists more results, one
# word each (pass, fail or skip), e.g. make distcheck's.
#   SUMMARY_EXTRA="pass" sh scripts/summary.sh DIR...
extra=${SUMMARY_EXTRA:-}
for dir in "${@:-.}"; do
	find "$dir" -path '*/rollcall-[0-9]*' -prune -o -name '*.trs' -print
done | xargs cat 2>/dev/null | awk -v extra="$extra" '
	/^:test-result: (PASS|XFAIL)/  { p++ }
	/^:test-result: (FAIL|XPASS|ERROR)/ { f++ }
	/^:test-result: SKIP/  { s++ }
	END {
		n = split(extra, e, " ")
		for (i = 1; i <= n; i++) {
			if (e[i] == "pass") p++
			if (e[i] == "fail") f++
			if (e[i] == "skip") s++
		}
		printf "%d passed, %d failed, %d skipped\n", p, f, s
		exit (f > 0 || p == 0)
	}'
