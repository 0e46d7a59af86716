#!/bin/bash
# The fleet on loopback: a host's store exported ("moving in") and loaded
# into a fresh provider (a slapd of the test's own, configured by rollcall
# fleet provider-config); a second host joins with an empty state directory
# and rollcalld -f fills it.  A member added in the directory appears
# through NSS (nss_wrapper on the second host's snapshot) and logs in
# through PAM (Linux-PAM with pam_wrapper, pamdrive) there; deletes made
# while rollcalld is stopped are applied on restart (the session log's
# delete phase, and after a provider restart the present phase's sweep);
# with the provider stopped logins and NSS keep working; rollcalld killed
# with SIGKILL during a refresh never leaves a cookie ahead of its data and
# converges on restart.  "rollcall doctor" shows rollcalld's and the
# replica's state; a member with TOTP logs in with a code while the
# provider is down, each code once.  The trust checks are in trust.sh.
. "$(dirname "$0")/lib.sh"
require_fleet
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}" "${NSS_MODULE:?}"
# doctor DIR CHECK: "STATUS DETAIL" of rollcall doctor's row CHECK on the
# state directory DIR ("none" when there is no such row)
doctor() {
	"$ROLLCALL" --json --config "$TMP/rollcall.conf" --state-dir "$1" doctor 2>/dev/null |
		python3 -c 'import json,sys
r = [x for x in json.load(sys.stdin) if x["check"] == sys.argv[1]]
print(r[0]["status"] + " " + r[0]["detail"] if r else "none")' "$2"
}
doctor_is() { doctor "$1" "$2" | grep -Eq "$3"; }

# ---- host 1: a store of its own, alice active (a password), bob invited
init_store
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
invite_accept dave developer
rc member invite bob@example.com --role developer >/dev/null
no_fleet_rows() {
	local c
	for c in fleet rollcalld replica; do [ "$(doctor "$SD" $c)" = none ] || return 1; done
	doctor_is "$SD" store '^ok '
}
check "doctor on a host not in a fleet shows no fleet checks" no_fleet_rows
expect 0 "fleet export writes the host's records" rc fleet export --suffix "$SUFFIX" --out "$TMP/export.ldif"
check "... 0600" test "$(stat -c %a "$TMP/export.ldif")" = 600
check "... with the master key and every member" sh -c "grep -q '^rcMasterKey::' '$TMP/export.ldif' &&
	grep -c '^dn: uid=.*,ou=members,' '$TMP/export.ldif' | grep -qx 3"

# ---- the provider, the export loaded before it starts
P=$TMP/provider
provider_make "$P" "$TMP/export.ldif" || { echo "1..1"; echo "not ok 1 - provider set-up"; exit 1; }
# its "backup": the same data loaded now into a second directory, started
# at the end in its place (a provider restored from a backup)
BACKUP_PW=$ADMIN_PW
provider_make "$TMP/backup" "$TMP/export.ldif" || { echo "1..1"; echo "not ok 1 - backup set-up"; exit 1; }
BACKUP_ADMIN_PW=$ADMIN_PW ADMIN_PW=$BACKUP_PW
provider_start "$P" || { echo "1..$((T + 1))"; not_ok "slapd starts"; exit 1; }
ok "a slapd of the test's own answers on $URI"

# ---- host 2 joins
SD2=$TMP/host2
expect 0 "host 2 joins with its secret on stdin" host_join "$SD2" h2
check "fleet.secret is root's, 0600" test "$(stat -c '%U %a' "$SD2/fleet.secret")" = "root 600"
check "the state directory stays readable (the NSS snapshot)" test "$(stat -c %a "$SD2")" = 755
join_audit() { "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SD2" audit > "$TMP/join.audit" 2>&1 &&
	grep -q 'fleet.join' "$TMP/join.audit" && ! grep -q -e 'member.invite' -e 'store.init' "$TMP/join.audit"; }
check "its audit log says fleet.join, and no owner invited or store seeded" join_audit
expect_err 1 "already holds a store" "joining again over a store is refused" \
	sh -c "printf '%s\n' '$HOST_SECRET' | '$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD2' \
	fleet join '$URI' --host h2 --suffix '$SUFFIX' --secret-stdin"
check "doctor: host 2 joined, its fleet" doctor_is "$SD2" fleet "^ok host \"h2\" of the fleet at $URI"
check "doctor: rollcalld never ran on host 2 (warn)" doctor_is "$SD2" rollcalld '^warn rollcalld has never run here'
check "doctor: no refresh yet (FAIL)" doctor_is "$SD2" replica '^FAIL no refresh from the directory ever completed'
rollcalld_start "$SD2"
if wait_for 20 synced "$SD2"; then ok "rollcalld -f completes its first refresh ($WAITED ms)"; else not_ok "rollcalld's first refresh"; cat "$SD2.log" | sed 's/^/# /'; fi
check "host 2 has host 1's members" test "$(fleet_json "$SD2" 'd["entries"] > 0')" = True
check "doctor: rollcalld connected (ok)" doctor_is "$SD2" rollcalld "^ok connected to $URI"
check "doctor: the replica's entries and last refresh (ok)" doctor_is "$SD2" replica \
	"^ok $(fleet_json "$SD2" 'd["entries"]') entries from the directory; last refresh [0-9]+s ago"
# rollcalld holds rollcalld.lock for its life: a second one refuses, and
# doctor tells one killed without a word from a running one
run timeout 20 "$ROLLCALLD" -f --state-dir "$SD2" --config "$TMP/rollcall.conf"
check "a second rollcalld for the same state directory refuses (exit 4, already running)" \
	sh -c "test $st = 4 && grep -q 'already running' '$ERR'"
kill -KILL -- "-$RCD_PID" 2>/dev/null
rollcalld_stop
check "doctor: rollcalld killed with SIGKILL, its status still \"connected\" (warn)" \
	doctor_is "$SD2" rollcalld '^warn rollcalld is not running: it ended without a word'
rollcalld_start "$SD2"
if wait_for 20 doctor_is "$SD2" rollcalld "^ok connected to $URI"; then ok "... started again, connected ($WAITED ms)"; else not_ok "rollcalld started again"; fi
expect_out 0 '^(alice|bob|dave)$' "member list on host 2" sh -c "'$ROLLCALL' --json --config '$TMP/rollcall.conf' --state-dir '$SD2' member list |
	python3 -c 'import json,sys; [print(m[\"username\"]) for m in json.load(sys.stdin)]'"
check "... all three" test "$(wc -l < "$OUT")" = 3

# NSS and PAM on host 2
SD=$SD2 pam_services "$TMP/pamd2" login2
pd2() { "$PAM_WRAP" "$TMP/pamd2" "$PAMDRIVE" -s login2 "$@"; }
n2() { SD=$SD2 nssw "$@"; }
gone2() { ! n2 getent passwd "$1"; }
expect_out 0 '^alice:' "alice through NSS on host 2" n2 getent passwd alice
expect_out 0 '^dave:' "getent passwd dave on host 2" n2 getent passwd dave
expect 0 "alice logs in on host 2 with the password she chose on host 1" pd2 -a 'alice password 1' alice auth=SUCCESS acct=SUCCESS
expect 0 "a wrong password is refused on host 2" pd2 -a 'wrong password' alice auth=AUTH_ERR

# ---- a member added in the directory (made on host 1, added over LDAP)
invite_accept carol read-only
rc fleet export --suffix "$SUFFIX" --out "$TMP/export2.ldif" >/dev/null
{ entry_of "$TMP/export2.ldif" "uid=carol,ou=members,$SUFFIX"; } > "$TMP/carol.ldif"
check "the export has carol's entry" grep -q '^rcRecord::' "$TMP/carol.ldif"
run as_admin ldapadd -f "$TMP/carol.ldif"
check "the administrator adds carol to the directory" test "$st" = 0
if wait_for 10 n2 getent passwd carol; then
	ok "carol appears through NSS on host 2 ($WAITED ms after the add)"
	echo "# figure: directory add -> getent on host 2: $WAITED ms"
else
	not_ok "carol appears through NSS on host 2"
fi
expect 0 "carol logs in through PAM on host 2" pd2 -a 'carol password 12345' carol auth=SUCCESS acct=SUCCESS

# ---- a change: carol deactivated on host 1, the record replaced in the directory
rc member deactivate carol >/dev/null
rc fleet export --suffix "$SUFFIX" --out "$TMP/export3.ldif" >/dev/null
entry_of "$TMP/export3.ldif" "uid=carol,ou=members,$SUFFIX" | awk 'BEGIN{p=0} /^rcRecord::/{p=1} p&&!/^ /&&!/^rcRecord::/{p=0} p' > "$TMP/rec"
{ printf 'dn: uid=carol,ou=members,%s\nchangetype: modify\nreplace: rcRecord\n' "$SUFFIX"; cat "$TMP/rec"; printf -- '-\nreplace: rcStatus\nrcStatus: inactive\n'; } > "$TMP/mod.ldif"
run as_admin ldapmodify -f "$TMP/mod.ldif"
check "the administrator replaces carol's record" test "$st" = 0
refused() { ! pd2 -a 'carol password 12345' carol auth=SUCCESS acct=SUCCESS; }
if wait_for 10 refused; then ok "the deactivation refuses carol's next login on host 2 ($WAITED ms)"; else not_ok "deactivation reaches host 2"; fi

# ---- deletes while rollcalld is stopped: the delete phase (session log)
rollcalld_stop
run as_admin ldapdelete "uid=carol,ou=members,$SUFFIX"
check "carol deleted from the directory while host 2's rollcalld is stopped" test "$st" = 0
expect_out 0 '^carol:' "... host 2 still shows her (nothing syncs)" n2 getent passwd carol
rollcalld_start "$SD2"
if wait_for 10 gone2 carol; then
	ok "the delete reaches host 2 when rollcalld starts again ($WAITED ms)"
else
	not_ok "the delete reaches host 2 when rollcalld starts again"
fi

# ---- the present phase: the provider restarted (its session log is gone)
rollcalld_stop
run as_admin ldapdelete "uid=dave,ou=members,$SUFFIX"
check "dave deleted while rollcalld is stopped" test "$st" = 0
provider_stop
provider_start "$P" "$PORT" || { not_ok "slapd restarts"; done_testing; exit 1; }
rollcalld_start "$SD2"
if wait_for 10 gone2 dave; then
	ok "after a provider restart the delete is swept by the present phase ($WAITED ms)"
else
	not_ok "the present phase sweeps dave"
fi
check "... rollcalld said so" grep -q 'present phase: 1 records' "$SD2.log"
expect_err 1 'no member named "dave"' "dave is gone from host 2's store" sh -c "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD2' member show dave"

# ---- a token minted by a login session on host 1 works on host 2: its
# record (a hash keyed by the store's key) replicated, and the key with it
pam_services "$TMP/pamd1" "login1:session_token"
run "$PAM_WRAP" "$TMP/pamd1" "$PAMDRIVE" -s login1 -a 'alice password 1' alice auth=SUCCESS acct=SUCCESS open=SUCCESS env=SUCCESS
TOKEN=$(sed -n 's/.*ROLLCALL_TOKEN=\(rct_[a-z0-9_]*\).*/\1/p' "$OUT" | head -1)
check "a login session on host 1 mints a token" test -n "$TOKEN"
rc fleet export --suffix "$SUFFIX" --out "$TMP/export5.ldif" >/dev/null
awk 'BEGIN { RS = ""; ORS = "\n\n" } /^dn: cn=[0-9a-f]+,ou=tokens,/' "$TMP/export5.ldif" > "$TMP/tokens.ldif"
run as_admin ldapadd -f "$TMP/tokens.ldif"
check "the administrator adds the token's record to the directory" test "$st" = 0
token_login() { pd2 -a "$TOKEN" alice auth=SUCCESS acct=SUCCESS; }
if wait_for 10 token_login; then ok "the token logs alice in on host 2 ($WAITED ms)"; else not_ok "the token logs in on host 2"; fi

# ---- TOTP: erin enrols at her first login on host 1 (totp=required); her
# record, the secret in it, reaches host 2 through the directory
invite_accept erin developer
pam_services "$TMP/pamd1m" "mfa1:totp=required"
run "$PAM_WRAP" "$TMP/pamd1m" "$PAMDRIVE" -s mfa1 -a 'erin password 12345' -a @enroll erin auth=SUCCESS acct=SUCCESS
KEY=$(sed -n 's/.*Key: \([A-Z2-7]*\).*/\1/p' "$OUT" | head -1)
check "erin enrols TOTP at a login on host 1" test -n "$KEY"
rc fleet export --suffix "$SUFFIX" --out "$TMP/export6.ldif" >/dev/null
entry_of "$TMP/export6.ldif" "uid=erin,ou=members,$SUFFIX" > "$TMP/erin.ldif"
run as_admin ldapadd -f "$TMP/erin.ldif"
check "the administrator adds erin (TOTP enabled) to the directory" test "$st" = 0
if wait_for 10 n2 getent passwd erin; then ok "erin reaches host 2 ($WAITED ms)"; else not_ok "erin reaches host 2"; fi
code_at() { oathtool --totp -b "$KEY" --now="@$1"; }
pd2_at() { local w=$1; shift; "$PAM_WRAP" "$TMP/pamd2" "$AT_TIME" "$w" "$PAMDRIVE" -s login2 "$@"; }
# each check at an injected second TS, a second into a 30-second step
TS=$(( $(date +%s) / 30 * 30 + 121 ))

# ---- the provider down: logins and NSS keep working
provider_stop
expect 0 "with the provider stopped, erin logs in on host 2 with her password + a TOTP code" \
	pd2_at "@$TS" -a 'erin password 12345' -a "$(code_at "$TS")" erin auth=SUCCESS acct=SUCCESS
expect 0 "... the same code again on host 2 is refused (each code once on a host)" \
	pd2_at "@$((TS + 5))" -a 'erin password 12345' -a "$(code_at "$TS")" erin auth=AUTH_ERR
expect 0 "... the password alone is refused" pd2_at "@$((TS + 60))" -a 'erin password 12345' erin auth=AUTH_ERR
check "... it asked for a verification code" grep -q 'prompt: Verification code' "$OUT"
expect 0 "... a wrong code is refused" pd2_at "@$((TS + 120))" -a 'erin password 12345' -a "$(code_at $((TS - 3600)))" erin auth=AUTH_ERR
expect 0 "... and the next step's code logs her in" \
	pd2_at "@$((TS + 180))" -a 'erin password 12345' -a "$(code_at $((TS + 180)))" erin auth=SUCCESS acct=SUCCESS
expect 0 "with the provider stopped, the token still logs in on host 2" pd2 -a "$TOKEN" alice auth=SUCCESS acct=SUCCESS
expect 0 "with the provider stopped, alice logs in on host 2" pd2 -a 'alice password 1' alice auth=SUCCESS acct=SUCCESS
expect 0 "... and a wrong password is still refused (counted locally)" pd2 -a 'nope nope' alice auth=AUTH_ERR
expect_out 0 '^alice:' "... and NSS answers" n2 getent passwd alice
sleep 1
check "rollcalld keeps running and says it is disconnected" sh -c "kill -0 $RCD_PID && '$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD2' fleet status | grep -q 'rollcalld: *disconnected'"
check "doctor: rollcalld reaches no provider (warn, with the fix)" sh -c "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD2' doctor |
	grep -A1 '^warn  rollcalld *rollcalld reaches no provider' | grep -q 'fix: check that a provider answers'"
check "... the replica itself is still ok" doctor_is "$SD2" replica '^ok '
check "... and 25 hours later still disconnected: no sync for a long time (warn)" sh -c "'$AT_TIME' +25h '$ROLLCALL' --json --config '$TMP/rollcall.conf' --state-dir '$SD2' doctor |
	grep -q '\"check\":\"replica\",\"status\":\"warn\",\"detail\":\"no sync for 25 h'"
expect_err 1 "not in a fleet" "fleet status of a host that did not join says so" rc fleet status
provider_start "$P" "$PORT" || { not_ok "slapd restarts"; done_testing; exit 1; }
connected2() { "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SD2" fleet status | grep -q 'rollcalld: *connected'; }
if wait_for 40 connected2; then ok "rollcalld reconnects when the provider returns ($WAITED ms, backoff)"; else not_ok "rollcalld reconnects"; fi
run as_admin ldapadd -f "$TMP/carol.ldif"
if wait_for 10 n2 getent passwd carol; then ok "... and follows the directory again ($WAITED ms)"; else not_ok "changes after the reconnection reach host 2"; fi
rollcalld_stop
check "doctor: rollcalld stopped (warn)" doctor_is "$SD2" rollcalld '^warn rollcalld is not running \("stopped since'
check "... the replica recent (ok)" doctor_is "$SD2" replica '^ok .*\(rollcalld not connected\)'
check "... and 25 hours later: no sync for a long time (warn)" sh -c "'$AT_TIME' +25h '$ROLLCALL' --json --config '$TMP/rollcall.conf' --state-dir '$SD2' doctor |
	grep -q '\"check\":\"replica\",\"status\":\"warn\",\"detail\":\"no sync for 25 h'"

# ---- SIGKILL during a refresh: never a cookie ahead of its data (the
# first kills at rollcalld's first commit, while host 3 has no cookie and
# each start is a full refresh; then at random moments)
N=3000
{ echo "email,role"; for i in $(seq 1 $N); do echo "m$i@example.com,read-only"; done; } > "$TMP/many.csv"
rc member import "$TMP/many.csv" >/dev/null 2>&1
rc fleet export --suffix "$SUFFIX" --out "$TMP/export4.ldif" >/dev/null
grep -n '^dn: ' "$TMP/export4.ldif" | grep -E 'uid=m[0-9]+,ou=(members|invitations),' >/dev/null
awk 'BEGIN { RS = ""; ORS = "\n\n" } /^dn: uid=m[0-9]+,ou=(members|invitations),/' "$TMP/export4.ldif" > "$TMP/many.ldif"
run as_admin ldapadd -f "$TMP/many.ldif"
check "the administrator adds $N members and their invitations" test "$st" = 0
TOTAL=$(as_admin ldapsearch -LLL -b "$SUFFIX" '(objectClass=rcReplicated)' dn | grep -c '^dn: ')
SD3=$TMP/host3
# host 3's first provider listens nowhere: join and rollcalld go on to the next
DEAD=ldap://127.0.0.1:$(free_port)/
JOIN_URIS="$DEAD,$URI" host_join "$SD3" h3 || not_ok "host 3 joins"
check "host 3 joined through its second provider" grep -q "^uris=$DEAD,$URI\$" "$SD3/fleet.conf"
# how long a full refresh takes here (host 4), then kills spread over it
SD4=$TMP/host4
host_join "$SD4" h4 || not_ok "host 4 joins"
rollcalld_start "$SD4"
wait_for 60 synced "$SD4"
FULL=$WAITED
rollcalld_stop
echo "# figure: a full refresh of $TOTAL entries (from rollcalld's start): $FULL ms"
bad=0 kills=0 mid=0
for i in 1 2 3 4 5 6 7 8; do
	rollcalld_start "$SD3"
	# at its first commit of a batch, or at a random moment of a refresh
	if [ "$i" -le 4 ]; then
		timeout 20 tail -n +1 -f "$SD3.log" | grep -q -m1 'applied'
	else
		ms=$((FULL * (2 + RANDOM % 9) / 10))
		sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	fi
	kill -9 -- "-$RCD_PID" 2>/dev/null && kills=$((kills + 1))
	group_kill "$RCD_PID" >/dev/null 2>&1
	FLEET_PGIDS=$(echo "$FLEET_PGIDS" | tr ' ' '\n' | grep -vx "$RCD_PID" | tr '\n' ' ')
	c=$(fleet_json "$SD3" 'd["cookie"]') e=$(fleet_json "$SD3" 'd["entries"]')
	echo "# kill $i: cookie=$c entries=$e of $TOTAL"
	[ "$c" = True ] || mid=$((mid + 1))
	if [ "$c" = True ] && [ "$e" != "$TOTAL" ]; then bad=$((bad + 1)); fi
done
check "$mid of the SIGKILLs came in the middle of a refresh (with part of the data applied)" test "$mid" -gt 0
check "after $kills SIGKILLs during the sync, a stored cookie always came with all its data" test "$bad" = 0
rollcalld_start "$SD3"
if wait_for 60 synced "$SD3"; then ok "rollcalld converges on restart ($WAITED ms)"; else not_ok "rollcalld converges on restart"; fi
check "... host 3 holds every entry of the directory" test "$(fleet_json "$SD3" 'd["entries"]')" = "$TOTAL"
members() { "$ROLLCALL" --json --config "$TMP/rollcall.conf" --state-dir "$1" member list |
	python3 -c 'import json,sys; print(" ".join(sorted(m["username"] for m in json.load(sys.stdin))))'; }
check "... and the same members as the directory" test "$(members "$SD3" | wc -w)" = "$(as_admin ldapsearch -LLL -b "ou=members,$SUFFIX" '(objectClass=rcMember)' dn | grep -c '^dn: ')"
rollcalld_stop

# ---- the provider restored from a backup older than host 2's cookie: host
# 2 drops its cookie and reloads in full (the directory is the authority)
as_admin ldapsearch -LLL -b "ou=hosts,$SUFFIX" "(cn=h2)" objectClass cn userPassword > "$TMP/h2.ldif"
as_admin ldapsearch -LLL -b "ou=state,$SUFFIX" "(cn=h2)" objectClass cn >> "$TMP/h2.ldif"
provider_stop
provider_start "$TMP/backup" "$PORT" || { not_ok "the backup starts"; done_testing; exit 1; }
ADMIN_PW=$BACKUP_ADMIN_PW
run as_admin ldapadd -f "$TMP/h2.ldif"
check "host 2's entry (and secret) added to the restored provider" test "$st" = 0
: > "$SD2.log"
rollcalld_start "$SD2"
backup_members() { [ "$("$ROLLCALL" --json --config "$TMP/rollcall.conf" --state-dir "$SD2" member list |
	python3 -c 'import json,sys; print(" ".join(sorted(m["username"] for m in json.load(sys.stdin))))')" = "alice bob dave" ]; }
if wait_for 20 backup_members; then ok "host 2 holds the backup's members again ($WAITED ms)"; else not_ok "host 2 follows the restored provider"; sed 's/^/# /' "$SD2.log"; fi
check "... and carol, added after the backup, is gone" gone2 carol
sed 's/^/# log: /' "$SD2.log" | grep -i -e reload -e newer -e refresh | head -5
rollcalld_stop

done_testing
