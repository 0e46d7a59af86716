#!/bin/sh
# Sum the automake .trs files under DIR into "N passed, N failed, N skipped".
dir=${1:-.}
find "$dir" -name '*.trs' -not -path '*/_build/sub/*' | xargs cat 2>/dev/null | awk '
	/^:test-result: PASS/  { p++ }
	/^:test-result: XFAIL/ { p++ }
	/^:test-result: FAIL/  { f++ }
	/^:test-result: XPASS/ { f++ }
	/^:test-result: ERROR/ { f++ }
	/^:test-result: SKIP/  { s++ }
	END {
		printf "%d passed, %d failed, %d skipped\n", p, f, s
		exit (f > 0 || p == 0)
	}'
