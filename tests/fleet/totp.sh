#!/bin/bash
# A TOTP code is single-use across the fleet while the directory answers
# (issue 19): once a host accepted a code, the login claims its step in
# the directory through the host's rollcalld (one compare-and-swap on
# cn=UID,ou=totp: the stored step replaced, asserting it was lower).
#   - a code used on host 1 is refused on host 2 ("already used on another
#     host", counted as a failure there); a later step's code is taken;
#   - the same code tried on both hosts at the same moment, 20 times:
#     exactly one login succeeds each time;
#   - host 2's rollcalld stopped, or the provider stopped: the claim counts
#     as offline and single use holds per host (pam_rollcall(8)): the code
#     host 1 took is taken once on host 2, and refused there the second time;
#   - members cannot read or write the steps; hosts can.
# Round-trip figures are printed ("# figure:"), never asserted.
. "$(dirname "$0")/lib.sh"
require_fleet
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}" "${NSS_MODULE:?}"
"$AT_TIME" --check 2>/dev/null || { echo "1..1"; echo "not ok 1 - at-time.sh needs libfaketime (package faketime)"; exit 1; }
command -v oathtool >/dev/null || { echo "1..1"; echo "not ok 1 - oathtool is needed (package oathtool)"; exit 1; }

# ---- the records: alice, and erin with two-factor enrolled at a login
init_store
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
invite_accept erin developer
pam_services "$TMP/pamd0" "mfa0:totp=required"
run "$PAM_WRAP" "$TMP/pamd0" "$PAMDRIVE" -s mfa0 -a 'erin password 12345' -a @enroll erin auth=SUCCESS acct=SUCCESS
KEY=$(sed -n 's/.*Key: \([A-Z2-7]*\).*/\1/p' "$OUT" | head -1)
check "erin enrols TOTP at a login" test -n "$KEY"
rc fleet export --suffix "$SUFFIX" --out "$TMP/export.ldif" >/dev/null
P=$TMP/provider
provider_make "$P" "$TMP/export.ldif" || { not_ok "provider set-up"; done_testing; exit 1; }
provider_start "$P" || { not_ok "slapd starts"; done_testing; exit 1; }
ok "a slapd of the test's own answers on $URI"

# ---- two hosts
H1=$TMP/host1 H2=$TMP/host2
host_join "$H1" h1 && host_join "$H2" h2 || { not_ok "the hosts join"; done_testing; exit 1; }
rollcalld_start "$H1"; RCD1=$RCD_PID
rollcalld_start "$H2"; RCD2=$RCD_PID
if wait_for 20 synced "$H1" && wait_for 20 synced "$H2"; then ok "both hosts joined and synced"
else not_ok "the hosts synced"; fi
SD=$H1 pam_services "$TMP/pamd1" login
SD=$H2 pam_services "$TMP/pamd2" login
code_at() { oathtool --totp -b "$KEY" --now="@$1"; }
# on_at I WHEN CODE EXPECT: erin's password and CODE on host I at the
# injected second WHEN, auth=EXPECT
on_at() {
	"$PAM_WRAP" "$TMP/pamd$1" "$AT_TIME" "@$2" "$PAMDRIVE" -s login -a 'erin password 12345' \
		-a "$3" erin "auth=$4"
}
# each step at its second 1, a step (30 s) after the one before
TS=$(( $(date +%s) / 30 * 30 + 31 ))
next() { TS=$((TS + 30)); C=$(code_at "$TS"); }
audit_on() { "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$1" audit 2>/dev/null; }

# ---- one code, two hosts in turn
next
expect 0 "erin logs in on host 1 with her password and a code" on_at 1 "$TS" "$C" SUCCESS
expect 0 "... the same code on host 2 is refused" on_at 2 $((TS + 2)) "$C" AUTH_ERR
used_elsewhere() { audit_on "$H2" | grep -q 'already used on another host'; }
check "... host 2's audit says it was used on another host" used_elsewhere
next
expect 0 "... the next step's code logs her in on host 2" on_at 2 "$TS" "$C" SUCCESS
expect 0 "... and is refused on host 1" on_at 1 $((TS + 1)) "$C" AUTH_ERR
check "the directory holds her last step, fleet-wide" \
	sh -c "$(declare -f as_admin); URI='$URI' SUFFIX='$SUFFIX' ADMIN_PW='$ADMIN_PW'; \
	as_admin ldapsearch -LLL -b 'ou=totp,$SUFFIX' '(rcTotpStep=$((TS / 30)))' cn | grep -q '^cn: '"

# ---- the same code on both hosts at the same moment: one winner
single=0 rounds=20
for r in $(seq 1 $rounds); do
	next
	on_at 1 "$TS" "$C" SUCCESS >/dev/null 2>&1 & a=$!
	on_at 2 "$TS" "$C" SUCCESS >/dev/null 2>&1 & b=$!
	wait $a; sa=$?; wait $b; sb=$?
	[ $((sa == 0)) -ne $((sb == 0)) ] && single=$((single + 1))
done
echo "# figure: the same code on two hosts at once: $single of $rounds rounds had exactly one winner"
check "the same code on two hosts at once, $rounds times: exactly one login succeeds each time ($single)" \
	test "$single" = "$rounds"

# ---- a claim's cost: logins on host 1 with the claim, and with host 1's
# rollcalld stopped (no claim: its socket gone)
login_ms() {   # I N: N logins with a fresh code each; MEDIAN: their median time (ms)
	local i=$1 n=$2 t0 t1 k; : > "$TMP/times"
	for k in $(seq 1 "$n"); do
		next
		t0=$(date +%s%N); on_at "$i" "$TS" "$C" SUCCESS >"$TMP/timed.out" 2>&1 || { echo "# a timed login failed:"; sed 's/^/#   /' "$TMP/timed.out"; } >&2
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) >> "$TMP/times"
	done
	MEDIAN=$(sort -n "$TMP/times" | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }')
}
login_ms 1 15; with=$MEDIAN

# ---- offline: host 2's rollcalld stopped
RCD_PID=$RCD2 rollcalld_stop
next
expect 0 "host 2's rollcalld stopped: a code taken on host 1 ..." on_at 1 "$TS" "$C" SUCCESS
expect 0 "... is taken once on host 2 (single use on a host)" on_at 2 $((TS + 2)) "$C" SUCCESS
expect 0 "... and refused there the second time" on_at 2 $((TS + 4)) "$C" AUTH_ERR
rollcalld_start "$H2"; RCD2=$RCD_PID
RCD_PID=$RCD1 rollcalld_stop
login_ms 1 15; without=$MEDIAN
echo "# figure: a TOTP login on host 1 (pamdrive under pam_wrapper and libfaketime, median of 15): $with ms with the claim, $without ms without rollcalld (no claim)"
rollcalld_start "$H1"; RCD1=$RCD_PID
wait_for 20 synced "$H1"

# ---- offline: the provider stopped, rollcalld running
provider_stop
next
t0=$(date +%s%N)
expect 0 "the provider stopped: a code is taken on host 1 ..." on_at 1 "$TS" "$C" SUCCESS
echo "# figure: a TOTP login with the provider stopped (the claim fails, offline): $((($(date +%s%N) - t0) / 1000000)) ms"
expect 0 "... and once on host 2" on_at 2 $((TS + 2)) "$C" SUCCESS
expect 0 "... refused there the second time" on_at 2 $((TS + 4)) "$C" AUTH_ERR
provider_start "$P" "$PORT" || { not_ok "slapd restarts"; done_testing; exit 1; }
wait_for 20 synced "$H1"
next
expect 0 "the provider back: a code taken on host 1 ..." on_at 1 "$TS" "$C" SUCCESS
expect 0 "... is refused on host 2 again" on_at 2 $((TS + 2)) "$C" AUTH_ERR

# ---- the claim's round trip alone (socket -> rollcalld -> slapd -> back),
# for a uid no member has, 50 claims of rising steps
wait_for 20 synced "$H1"
python3 - "$H1/rollcalld.sock" > "$TMP/claims" <<'PY'
import socket, struct, sys, time
ms = []
for k in range(50):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    t0 = time.perf_counter()
    s.connect(sys.argv[1])
    s.send(struct.pack("=IIq", 0x52435431, 4000000000, 1000 + k))
    r = s.recv(64)
    ms.append((time.perf_counter() - t0) * 1000)
    s.close()
    if struct.unpack("=Ii", r)[1] != 0:
        print("lost"); sys.exit(1)
first, ms = ms[0], sorted(ms[1:])
print("%.2f %.2f %.2f ms; the first, which binds a new connection, %.1f ms" %
      (ms[len(ms) // 2], ms[int(len(ms) * 0.99)], ms[-1], first))
PY
st=$?
check "50 claims of rising steps through host 1's rollcalld: all won" test "$st" = 0
echo "# figure: a claim's round trip (socket, rollcalld, slapd on loopback) p50/p99/max over 49: $(cat "$TMP/claims")"

# ---- who reads and writes the steps
printf 'alice password 1' > "$TMP/alice.pw"
run ldapsearch -x -LLL -H "$URI" -D "uid=alice,ou=members,$SUFFIX" -y "$TMP/alice.pw" -b "ou=totp,$SUFFIX" '(cn=*)'
check "a member (alice, the owner) reads no step" sh -c "! grep -q '^dn: cn=' '$OUT'"
DN=$(as_admin ldapsearch -LLL -b "ou=totp,$SUFFIX" '(cn=*)' dn | sed -n 's/^dn: //p' | head -1)
printf 'dn: %s\nchangetype: modify\nreplace: rcTotpStep\nrcTotpStep: 1\n' "$DN" > "$TMP/reset.ldif"
run ldapmodify -x -H "$URI" -D "uid=alice,ou=members,$SUFFIX" -y "$TMP/alice.pw" -f "$TMP/reset.ldif"
check "... nor writes one (insufficient access)" test "$st" = 50
done_testing
