#!/bin/bash
# member import: the time and peak memory of "rollcall member import" of a
# CSV file of N members (email,role,username,full_name) into a new store,
# as root, with no mail command (the codes are printed, to /dev/null).
# The import's own time (parse, checks, codes, one write transaction) and
# the NSS snapshot publish that follows it are one command: both counted.
#
# Usage: bench/import.sh BUILDDIR [N ...]   (default 10000 100000 1000000)
set -eu
build=$(cd "${1:?usage: bench/import.sh BUILDDIR [N ...]}" && pwd); shift
sizes=${*:-10000 100000 1000000}
[ "$(id -u)" = 0 ] || { echo "bench/import.sh: needs root (rollcall init)" >&2; exit 1; }
work=$(mktemp -d /tmp/rc-bench-import.XXXXXX)
trap 'rm -rf "$work"' EXIT
printf 'id_min = 1000000\nid_max = 3999999\n' > "$work/rollcall.conf"
chmod 644 "$work/rollcall.conf"
export ROLLCALL_CONFIG="$work/rollcall.conf"
printf '| members  | import s | peak RSS MiB | store MiB | snapshot MiB |\n'
printf '|----------|----------|--------------|-----------|--------------|\n'
for n in $sizes; do
	rm -rf "$work/state"
	python3 - "$work/import.csv" "$n" <<'PY'
import sys
roles = ["developer", "read-only", "operator", "admin"]
with open(sys.argv[1], "w") as f:
    f.write("email,role,username,full_name\n")
    for i in range(int(sys.argv[2])):
        f.write(f"user{i}@example.com,{roles[i % 4]},,\"User {i}\"\n")
PY
	rc() { "$build/tools/rollcall" --config "$work/rollcall.conf" --state-dir "$work/state" "$@"; }
	rc init --owner owner@example.com >/dev/null
	/usr/bin/time -f '%e %M' -o "$work/time" "$build/tools/rollcall" --config "$work/rollcall.conf" \
		--state-dir "$work/state" member import "$work/import.csv" >/dev/null
	read -r secs kib < "$work/time"
	# the snapshot: the manifest and the shards it names (nss.d holds no
	# others but the tiny ones of the publication before, kept one more)
	snap=$(( $(stat -c %s "$work/state/nss.snap") + $(find "$work/state/nss.d" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}') ))
	printf '| %8d | %8.1f | %12d | %9d | %12.1f |\n' "$n" "$secs" $((kib / 1024)) \
		$(($(stat -c %s "$work/state/store/data.mdb") / 1048576)) \
		"$(awk -v b="$snap" 'BEGIN {printf "%.1f", b / 1048576}')"
done
