#!/bin/bash
# The fleet, measured on loopback (root): for N members moved in from a
# host's store, the export, the provider's load (slapadd), a new host's
# first refresh until rollcalld has stored its cookie (and NSS answers for
# the last member), rollcalld's peak RSS; then change-to-visible: members
# added in the directory one at a time until getent on the host shows each
# (p50/p99 over 20).  Last, a login's latency on a joined host with and
# without rollcalld running: token logins through pam_rollcall.so
# (bench_pam on a kept handle, pam_wrapper), alternating rounds, the ratio
# of the medians (goal: 1.0, rollcalld never slows a login).  A slapd of
# its own (tests/fleet/lib.sh), never the packaged one.
#
# Usage: bench/fleet.sh BUILDDIR [N ...]   (default 10000 100000)
set -u
build=$(cd "${1:?usage: bench/fleet.sh BUILDDIR [N ...]}" && pwd); shift
sizes=${*:-10000 100000}
[ "$(id -u)" = 0 ] || { echo "bench/fleet.sh: needs root (a slapd of its own)" >&2; exit 1; }
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$build
ROLLCALL=$build/tools/rollcall
NSS_MODULE=$build/nss_module/.libs/libnss_rollcall.so.2
cd "$build" || exit 1
. "$top_srcdir/tests/fleet/lib.sh"
require_fleet >/dev/null
printf 'id_min = 1000000\nid_max = 3999999\n' > "$TMP/rollcall.conf"
ms() { echo $(( $(date +%s%N) / 1000000 )); }

printf '| members | export s | slapadd s | first refresh s | NSS right after | rollcalld peak RSS MiB | add->getent p50/p99 ms (after ldapadd returned) |\n'
printf '|---------|----------|-----------|-----------------|-----------------|------------------------|-------------------------------------------------|\n'
for n in $sizes; do
	rm -rf "$SD" "$TMP/p" "$TMP/h" "$TMP"/*.ldif
	python3 - "$TMP/import.csv" "$n" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("email,role\n")
    for i in range(int(sys.argv[2]) + 20):
        f.write(f"u{i}@example.com,read-only\n")
PY
	rc init --owner owner@example.com >/dev/null
	rc member import "$TMP/import.csv" >/dev/null
	t0=$(ms); rc fleet export --suffix "$SUFFIX" --out "$TMP/all.ldif" >/dev/null; t1=$(ms)
	# the last 20 members (and their invitations) are added later, over LDAP
	awk -v n="$n" 'BEGIN { RS = ""; ORS = "\n\n" }
		match($0, /^dn: uid=u[0-9]+,/) { i = substr($0, 10, RLENGTH - 10) + 0; if (i >= n) { print > "/dev/stderr"; next } }
		{ print }' "$TMP/all.ldif" > "$TMP/base-data.ldif" 2> "$TMP/late.ldif"
	t2=$(ms); provider_make "$TMP/p" "$TMP/base-data.ldif" || exit 1; t3=$(ms)
	provider_start "$TMP/p" || exit 1
	host_join "$TMP/h" h1 || exit 1
	t4=$(ms); rollcalld_start "$TMP/h"
	wait_for 600 synced "$TMP/h"; t5=$(ms)
	last=$(grep -o '^dn: uid=u[0-9]*,ou=members' "$TMP/base-data.ldif" | tail -1 | sed 's/^dn: uid=//; s/,.*//')
	if SD=$TMP/h nssw getent passwd "$last" >/dev/null; then nss=yes; else nss=no; fi
	# peak, and now: anonymous memory apart from the store's mapped pages
	rss=$(awk '/^VmHWM/ { h = int($2 / 1024) } /^RssAnon/ { a = int($2 / 1024) } /^RssFile/ { f = int($2 / 1024) }
		END { printf "%d (anon %d, file %d)", h, a, f }' "/proc/$RCD_PID/status")
	# change to visible, one member at a time
	: > "$TMP/lat"
	for i in $(seq "$n" $((n + 19))); do
		awk -v dn="dn: uid=u$i,ou=members," 'BEGIN { RS = ""; ORS = "\n\n" } index($0, dn) == 1' "$TMP/late.ldif" > "$TMP/one.ldif"
		a=$(date +%s%N)
		as_admin ldapadd -f "$TMP/one.ldif" >/dev/null
		b=$(date +%s%N)
		until SD=$TMP/h nssw getent passwd "u$i" >/dev/null; do sleep 0.002; done
		c=$(date +%s%N)
		echo "$(( (c - a) / 1000000 )) $(( (c - b) / 1000000 ))" >> "$TMP/lat"
	done
	pct() { cut -d' ' -f"$1" "$TMP/lat" | sort -n | awk '{ v[NR] = $1 } END { printf "%d/%d", v[int(NR * 0.5 + 0.5)], v[NR] }'; }
	lat="$(pct 1) ($(pct 2))"
	rollcalld_stop
	provider_stop
	sec() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
	printf '| %7d | %8s | %9s | %15s | %15s | %22s | %47s |\n' "$n" "$(sec "$t0" "$t1")" \
		"$(sec "$t2" "$t3")" "$(sec "$t4" "$t5")" "$nss" "$rss" "$lat"
done
echo "(first refresh: from rollcalld's start to its cookie stored, polled every 20 ms.  add->getent:"
echo " from ldapadd's start (its bind verifies an argon2id hash: most of it) to the member shown by NSS"
echo " on the host, over 20 adds; in brackets, from ldapadd's return: p99 is the max of 20)"

# ---- a login's latency with and without rollcalld (goal: a ratio of 1.0)
: "${PAM_WRAPPER_LIB:?set by make bench}"
BP=$build/bench/bench_pam
LOGINS=${BENCH_FLEET_LOGINS:-20000}
rm -rf "$SD" "$TMP/p" "$TMP/h" "$TMP"/*.ldif "$TMP/pamd"
rc init --owner owner@example.com >/dev/null
invite_accept alice developer
invite_accept bob read-only
tok=$("$BP" token "$SD" alice)
rc fleet export --suffix "$SUFFIX" --out "$TMP/all.ldif" >/dev/null
# bob's entry is the changes streamed in the second table: added and
# deleted again and again, over one connection per 200 changes
entry_of "$TMP/all.ldif" "uid=bob,ou=members,$SUFFIX" > "$TMP/bob.ldif"
awk -v dn="dn: uid=bob,ou=members,$SUFFIX" 'BEGIN { RS = ""; ORS = "\n\n" } index($0, dn "\n") != 1' \
	"$TMP/all.ldif" > "$TMP/base.ldif"
for i in $(seq 100); do
	sed '1a changetype: add' "$TMP/bob.ldif"
	printf 'dn: uid=bob,ou=members,%s\nchangetype: delete\n\n' "$SUFFIX"
done > "$TMP/churn.ldif"
provider_make "$TMP/p" "$TMP/base.ldif" || exit 1
provider_start "$TMP/p" || exit 1
host_join "$TMP/h" h1 || exit 1
mkdir -p "$TMP/pamd"
echo "auth required $build/pam_module/.libs/pam_rollcall.so state_dir=$TMP/h config=$TMP/rollcall.conf nodelay" > "$TMP/pamd/rc"
login_median() {
	env LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$TMP/pamd" \
		"$BP" pam rc alice "$tok" "$LOGINS" 2>>"$TMP/logins.err" | tee -a "$TMP/logins" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "median") print $(i + 1) }'
}
connected() { "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$TMP/h" fleet status | grep -q 'rollcalld: *connected'; }
rollcalld_start "$TMP/h"
wait_for 60 synced "$TMP/h" || { echo "bench/fleet.sh: host h1 did not sync" >&2; exit 1; }
rollcalld_stop
echo
echo "== a token login on a joined host ($LOGINS pam_authenticate calls a round, kept handle), with and without rollcalld"
printf '| round | without rollcalld median    | with rollcalld (connected, idle) median     | with / without |\n'
printf '|-------|-----------------------------|---------------------------------------------|----------------|\n'
: > "$TMP/ratios"
for r in 1 2 3; do
	off=$(login_median)
	rollcalld_start "$TMP/h"
	wait_for 30 connected || { echo "bench/fleet.sh: rollcalld did not connect" >&2; exit 1; }
	on=$(login_median)
	rollcalld_stop
	ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
	echo "$ratio" >> "$TMP/ratios"
	printf '| %5d | %27s | %43s | %14s |\n' "$r" "$off" "$on" "$ratio"
done
printf 'with / without rollcalld, median of the rounds: %s (goal: 1.00)\n' "$(sort -n "$TMP/ratios" | sed -n 2p)"

echo
echo "== the same while the directory streams changes (bob added and deleted in a loop, in both columns)"
printf '| round | without rollcalld median    | with rollcalld (applying the changes) median | with / without |\n'
printf '|-------|-----------------------------|----------------------------------------------|----------------|\n'
churn() { while :; do as_admin ldapmodify -c -f "$TMP/churn.ldif" >/dev/null 2>&1; done; }
bg_start "$TMP/churn.log" bash -c "$(declare -f as_admin churn); URI='$URI' SUFFIX='$SUFFIX' ADMIN_PW='$ADMIN_PW' TMP='$TMP' churn"
CHURN_PID=$BGPID
: > "$TMP/ratios2"
for r in 1 2 3; do
	off=$(login_median)
	rollcalld_start "$TMP/h"
	wait_for 30 connected || { echo "bench/fleet.sh: rollcalld did not connect" >&2; exit 1; }
	on=$(login_median)
	rollcalld_stop
	ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
	echo "$ratio" >> "$TMP/ratios2"
	printf '| %5d | %27s | %44s | %14s |\n' "$r" "$off" "$on" "$ratio"
done
bg_stop "$CHURN_PID"
printf 'with / without rollcalld, changes streaming, median of the rounds: %s (goal: 1.00)\n' "$(sort -n "$TMP/ratios2" | sed -n 2p)"
applied=$(grep -c 'applied' "$TMP/h.log" 2>/dev/null || true)
echo "(rollcalld's log on the host: $applied lines saying \"applied\" over the last round)"
# every login of every round must have succeeded (else the figures mean nothing)
if [ "$(grep -c "($LOGINS/$LOGINS succeeded)" "$TMP/logins")" != 12 ]; then
	echo "bench/fleet.sh: some logins failed:" >&2; cat "$TMP/logins" >&2; exit 1
fi
provider_stop
