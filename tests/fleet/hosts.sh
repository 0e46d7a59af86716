#!/bin/bash
# Ten hosts in network namespaces (issue 18): a hub namespace with a bridge
# and a slapd of the test's own on the bridge's address (10.77.0.1), and ten
# host namespaces the test creates, one veth each into the bridge.  Each
# host has its own state directory, its own rollcalld (started inside its
# namespace with "ip netns exec") and its own PAM/NSS view: the real glibc
# NSS (nsswitch.conf "files rollcall" bind-mounted in a private mount
# namespace, ROLLCALL_STATE_DIR the host's) and Linux-PAM through pam_wrapper
# and pamdrive (state_dir= the host's).  Membership changes are made with
# the tool on the hosts (root acting as alice, --as, bound to the directory
# as her over StartTLS from the host's namespace); the bulk changes while
# hosts 4-6 are cut off are written as the fleet's administrator from records
# made in a store of the test's, as sync.sh does.
#  - a member invited with the tool on host 1 logs in on host 7, getent
#    shows her on all ten;
#  - a deactivation and a token revocation made with the tool on host 3
#    refuse the next login on every host;
#  - slapd stopped: password, token and TOTP logins keep working on all
#    ten; a TOTP code used on a host is refused there the second time;
#  - a partition: the links of hosts 4, 5 and 6 (a third) down while 20
#    modifies, 5 deletes and 3 adds happen: both sides keep serving logins,
#    the cut-off hosts by the last state they had (a member deleted
#    meanwhile still logs in there, and nowhere once they are back); once
#    the links are back, each one's replica (rcDb, rcKey, rcRecord of each
#    record, from "rollcall fleet export" of its store) equals the
#    directory's.
# Waits are bounded and their times printed ("# figure:"), never asserted.
# Only namespaces named rcfleet-PID-* are made; they are removed on any
# exit, and a run killed with SIGKILL leaves ones the next run removes
# (their PID gone).
. "$(dirname "$0")/lib.sh"
require_fleet
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}" "${NSS_MODULE:?}"
N=10
netns_fleet "$N"
ok "a hub namespace with a bridge and $N host namespaces, one veth each"

# ---- the records: a store of the test's (host 0, no fleet), members and
# two tokens minted by login sessions
init_store
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
for i in $(seq 1 25); do invite_accept "m$i" developer || not_ok "member m$i"; done
pam_services "$TMP/pamd0" "login0:session_token"
mint() {
	"$PAM_WRAP" "$TMP/pamd0" "$PAMDRIVE" -s login0 -a 'alice password 1' alice auth=SUCCESS acct=SUCCESS \
		open=SUCCESS env=SUCCESS 2>&1 | sed -n 's/.*ROLLCALL_TOKEN=\(rct_[a-z0-9_]*\).*/\1/p' | head -1
}
tokens() { awk 'BEGIN { RS = ""; ORS = "\n\n" } /^dn: cn=[0-9a-f]+,ou=tokens,/' "$1"; }
TOKA=$(mint)
rc fleet export --suffix "$SUFFIX" --out "$TMP/e1.ldif" >/dev/null
TOKA_DN=$(tokens "$TMP/e1.ldif" | sed -n 's/^dn: //p')
TOKB=$(mint)
check "two tokens minted by login sessions (one to revoke)" test -n "$TOKA" -a -n "$TOKB" -a -n "$TOKA_DN"
# erin: two-factor authentication enrolled at a login (totp=required)
invite_accept erin developer
pam_services "$TMP/pamd0m" "mfa0:totp=required"
run "$PAM_WRAP" "$TMP/pamd0m" "$PAMDRIVE" -s mfa0 -a 'erin password 12345' -a @enroll erin auth=SUCCESS acct=SUCCESS
KEY=$(sed -n 's/.*Key: \([A-Z2-7]*\).*/\1/p' "$OUT" | head -1)
check "erin enrols TOTP at a login" test -n "$KEY"
rc fleet export --suffix "$SUFFIX" --out "$TMP/export.ldif" >/dev/null

# ---- the provider in the hub: ldap on the bridge's address, ldapi for the
# administrator (a socket: reachable from any network namespace), StartTLS
# with a CA of the test's (lib.sh: tls_make, add_tls, hub_start)
tls_make || not_ok "a TLS certificate for the provider"
P=$TMP/provider
PROVIDER_EDIT=add_tls provider_make "$P" "$TMP/export.ldif" || { not_ok "provider set-up"; done_testing; exit 1; }
hub_start || { not_ok "slapd starts in the hub"; done_testing; exit 1; }
URI=$LDAPI
ok "slapd answers in the hub namespace ($HUB_URI)"
# alice binds with her own login password (her entry's userPassword is
# her record's hash), as the owner the provider's ACLs let act
(umask 077; printf 'alice password 1\n' > "$TMP/alice.pw")
# tool_on I ARGS...: the tool on host I, in its namespace, root as alice
tool_on() {
	local i=$1; shift
	ip netns exec "$(hn $i)" "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$(SDH $i)" \
		--as alice --bind-password-file "$TMP/alice.pw" "$@"
}

# ---- the ten hosts join from their namespaces and run rollcalld there
SDH() { echo "$TMP/host$1"; }
t0=$(date +%s%N)
joined=0
for i in $(seq 1 $N); do
	host_add "h$i" || continue
	printf '%s\n' "$HOST_SECRET" | ip netns exec "$(hn $i)" "$ROLLCALL" --config "$TMP/rollcall.conf" \
		--state-dir "$(SDH $i)" fleet join "$HUB_URI" --host "h$i" --suffix "$SUFFIX" --secret-stdin >/dev/null || continue
	bg_start "$(SDH $i).log" ip netns exec "$(hn $i)" "$ROLLCALLD" -f --state-dir "$(SDH $i)" \
		--config "$TMP/rollcall.conf" || continue
	eval "RCD_$i=$BGPID"
	joined=$((joined + 1))
done
check "$N hosts join through the bridge and start rollcalld in their namespaces" test "$joined" = "$N"
all_synced() { local i; for i in $(seq 1 $N); do synced "$(SDH $i)" || return 1; done; }
if wait_for 60 all_synced; then ok "all $N complete their first refresh ($WAITED ms after the first join)"
else not_ok "all hosts complete their first refresh"; fi
echo "# figure: $N joins + first refreshes: $((($(date +%s%N) - t0) / 1000000)) ms"

# each host's views: PAM (pam_wrapper, its own service dir) and glibc NSS
for i in $(seq 1 $N); do SD=$(SDH $i) pam_services "$TMP/pamd$i" login; done
printf 'passwd: files rollcall\ngroup: files rollcall\n' > "$TMP/nsswitch.conf"
chmod 755 "$TMP"
pam_on() {
	local i=$1; shift
	ip netns exec "$(hn $i)" "$PAM_WRAP" "$TMP/pamd$i" "$PAMDRIVE" -s login "$@"
}
nss_on() {
	local i=$1; shift
	ip netns exec "$(hn $i)" unshare --mount --propagation private \
		sh -c 'mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"' ns "$TMP/nsswitch.conf" \
		env LD_LIBRARY_PATH="$(dirname "$NSS_MODULE")" ROLLCALL_STATE_DIR="$(SDH $i)" \
		${RC_PRELOAD:+LD_PRELOAD=$RC_PRELOAD} "$@"
}
expect_out 0 '^alice:' "alice through glibc NSS on host 1" nss_on 1 getent passwd alice
expect 0 "alice logs in through PAM on host 10" pam_on 10 -a 'alice password 1' alice auth=SUCCESS acct=SUCCESS
expect 0 "a wrong password is refused on host 3" pam_on 3 -a 'wrong password' alice auth=AUTH_ERR
# on_all SECONDS WHAT CMD...: CMD HOST on every host until each succeeds
on_all() {
	local limit=$1 what=$2 i bad= t0; shift 2
	t0=$(date +%s%N)
	for i in $(seq 1 $N); do wait_for "$limit" "$@" "$i" || bad="$bad $i"; done
	WAITED=$((($(date +%s%N) - t0) / 1000000))
	echo "# figure: $what on all $N hosts: $WAITED ms"
	[ -z "$bad" ] || { echo "# failed on hosts$bad"; return 1; }
}

# ---- a member invited with the tool on host 1
t0=$(date +%s%N)
run tool_on 1 --json member invite carol@example.com --role read-only
check "alice invites carol with the tool on host 1" test "$st" = 0
echo "# figure: the tool's invitation on host 1 (bind, transaction, rollcalld applied locally): $((($(date +%s%N) - t0) / 1000000)) ms"
CODE=$(json 'd["code"]')
run tool_on 1 member accept --password-stdin <<<"$CODE
carol password 12345"
check "carol's invitation accepted with the tool on host 1" test "$st" = 0
# (host 0's store, which later changes are made from, skips carol's uid)
rc member invite skip@example.com --role developer >/dev/null && rc member withdraw skip >/dev/null
carol_in() { pam_on "$1" -a 'carol password 12345' carol auth=SUCCESS acct=SUCCESS; }
if wait_for 10 carol_in 7; then ok "carol logs in through PAM on host 7 ($WAITED ms after the tool returned)"
else not_ok "carol logs in on host 7"; fi
carol_nss() { nss_on "$1" getent passwd carol; }
if on_all 10 "the add visible through getent" carol_nss; then ok "getent shows carol on all $N hosts"
else not_ok "getent shows carol on all $N hosts"; fi

# ---- a deactivation and a token revocation, with the tool on host 3
expect 0 "token A logs alice in on host 5 before its revocation" pam_on 5 -a "$TOKA" alice auth=SUCCESS acct=SUCCESS
expect 0 "alice deactivates carol with the tool on host 3" tool_on 3 member deactivate carol
TOKA_ID=${TOKA#rct_}; TOKA_ID=${TOKA_ID%%_*}
expect 0 "alice revokes token A with the tool on host 3" tool_on 3 token revoke "$TOKA_ID"
gone_dir() { ! as_admin ldapsearch -LLL -b "$TOKA_DN" -s base dn >/dev/null 2>&1; }
check "... its entry is gone from the directory" gone_dir
# (refused while the host's store answers: alice's token B still logs in)
tokb_in() { pam_on "$1" -a "$TOKB" alice auth=SUCCESS acct=SUCCESS; }
carol_refused() { ! carol_in "$1" && tokb_in "$1"; }
toka_refused() { ! pam_on "$1" -a "$TOKA" alice auth=SUCCESS acct=SUCCESS && tokb_in "$1"; }
if on_all 10 "the deactivation refusing carol" carol_refused; then ok "carol's next login is refused on every host"
else not_ok "the deactivation reaches every host"; fi
if on_all 10 "the revocation refusing token A" toka_refused; then ok "token A's next login is refused on every host"
else not_ok "the revocation reaches every host"; fi

# ---- slapd stopped: logins keep working
provider_stop
bad=
t0=$(date +%s%N)
for i in $(seq 1 $N); do
	pam_on "$i" -a 'alice password 1' alice auth=SUCCESS acct=SUCCESS >/dev/null 2>&1 || bad="$bad pw$i"
	pam_on "$i" -a "$TOKB" alice auth=SUCCESS acct=SUCCESS >/dev/null 2>&1 || bad="$bad token$i"
	nss_on "$i" getent passwd alice >/dev/null 2>&1 || bad="$bad nss$i"
done
echo "# figure: $((2 * N)) logins and $N lookups with slapd stopped: $((($(date +%s%N) - t0) / 1000000)) ms"
check "slapd stopped: password and token logins (and NSS) work on all $N hosts${bad:+ (failed:$bad)}" test -z "$bad"
# two-factor with the directory down (pam_rollcall(8) "TWO-FACTOR ON A HOST
# IN A FLEET"): each host checks the code against its replica; a code is
# single-use per host (its own last accepted step), so the same code is
# taken once on each host and refused the second time on one
code_at() { oathtool --totp -b "$KEY" --now="@$1"; }
pam_at() { local i=$1 w=$2; shift 2; ip netns exec "$(hn $i)" "$PAM_WRAP" "$TMP/pamd$i" "$AT_TIME" "$w" "$PAMDRIVE" -s login "$@"; }
TS=$(( $(date +%s) / 30 * 30 + 121 ))
C=$(code_at "$TS")
bad=
for i in $(seq 1 $N); do
	pam_at "$i" "@$TS" -a 'erin password 12345' -a "$C" erin auth=SUCCESS acct=SUCCESS >/dev/null 2>&1 || bad="$bad $i"
done
check "slapd stopped: erin logs in with her password and a TOTP code on all $N hosts${bad:+ (failed:$bad)}" test -z "$bad"
expect 0 "... the same code again on host 5 is refused (single use on a host)" \
	pam_at 5 "@$((TS + 5))" -a 'erin password 12345' -a "$C" erin auth=AUTH_ERR
expect 0 "... the password alone is refused on host 9" pam_at 9 "@$((TS + 60))" -a 'erin password 12345' erin auth=AUTH_ERR
expect 0 "... and the next step's code logs her in on host 5" \
	pam_at 5 "@$((TS + 30))" -a 'erin password 12345' -a "$(code_at $((TS + 30)))" erin auth=SUCCESS acct=SUCCESS
hub_start || { not_ok "slapd restarts"; done_testing; exit 1; }
ok "slapd restarted"

# ---- a partition: hosts 4, 5 and 6 cut off while 20 modifies, 5 deletes
# and 3 adds happen
for i in $(seq 1 20); do rc member set-role "m$i" read-only >/dev/null || not_ok "set-role m$i"; done
for n in n1 n2 n3; do invite_accept "$n" developer; done
rc fleet export --suffix "$SUFFIX" --out "$TMP/e4.ldif" >/dev/null
# the modifies: every attribute of the 20 entries but objectClass and uid replaced
modifies_of "$TMP/e4.ldif" $(for i in $(seq 1 20); do echo "uid=m$i,ou=members,$SUFFIX"; done) > "$TMP/mods.ldif"
for n in n1 n2 n3; do entry_of "$TMP/e4.ldif" "uid=$n,ou=members,$SUFFIX"; done > "$TMP/adds.ldif"
check "20 modifies and 3 adds prepared" test "$(grep -c '^changetype: modify' "$TMP/mods.ldif")" = 20 -a "$(grep -c '^dn: ' "$TMP/adds.ldif")" = 3
CUT="4 5 6"
until_down() { ! ip netns exec "$(hn "$1")" timeout 2 bash -c ': < /dev/tcp/10.77.0.1/389' 2>/dev/null; }
for i in $CUT; do ip -n "$(hn $i)" link set eth0 down; done
check "the links of hosts $CUT are down (the hub unreachable)" sh -c "$(declare -f until_down); for i in $CUT; do until_down \$i || exit 1; done"
run as_admin ldapmodify -f "$TMP/mods.ldif"; m=$st
for i in 21 22 23 24 25; do as_admin ldapdelete "uid=m$i,ou=members,$SUFFIX" >/dev/null 2>&1 || m=1; done
run as_admin ldapadd -f "$TMP/adds.ldif"; [ "$st" = 0 ] || m=1
check "20 modifies, 5 deletes and 3 adds in the directory while hosts $CUT are cut off" test "$m" = 0
# the directory's records and a host's: rcDb, rcKey, rcRecord of each (lib.sh)
same_as_dir() { [ "$(host_records "$(SDH $1)")" = "$(dir_records)" ]; }
if wait_for 10 same_as_dir 1; then ok "host 1 (online) follows ($WAITED ms)"; else not_ok "host 1 equals the directory"; fi
h_differs() { ! same_as_dir "$1"; }
for i in $CUT; do check "host $i, cut off, still differs from the directory" h_differs "$i"; done
# both sides serve logins: the cut-off hosts by the last state they had
m21_in() { pam_on "$1" -a 'm21 password 12345' m21 auth=SUCCESS acct=SUCCESS; }
m21_out() { ! m21_in "$1"; }
if wait_for 10 m21_out 8; then ok "connected side: m21, deleted in the directory, is refused on host 8"
else not_ok "m21 refused on host 8"; fi
expect 0 "... alice logs in on host 2" pam_on 2 -a 'alice password 1' alice auth=SUCCESS acct=SUCCESS
expect 0 "cut-off side: m21 still logs in on host 5 (the last state it had)" m21_in 5
expect 0 "... and alice on host 6" pam_on 6 -a 'alice password 1' alice auth=SUCCESS acct=SUCCESS
# kept down until their rollcalld notice (keepalive): they catch up by a
# new refresh, not by the old connection's queued changes
h_disconnected() { "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$(SDH $1)" fleet status | grep -q 'rollcalld: *disconnected'; }
all_disconnected() { local i; for i in $CUT; do h_disconnected "$i" || return 1; done; }
if wait_for 30 all_disconnected; then ok "the rollcalld of hosts $CUT notice the dead links ($WAITED ms after the changes)"
else not_ok "the cut-off hosts' rollcalld notice the dead links"; fi
t0=$(date +%s%N)
for i in $CUT; do ip -n "$(hn $i)" link set eth0 up; done
for i in $CUT; do
	if wait_for 30 same_as_dir "$i"; then
		ok "host $i's link up: its replica equals the directory record by record"
		echo "# figure: links up -> host $i's replica equal to the directory: $((($(date +%s%N) - t0) / 1000000)) ms"
	else
		not_ok "host $i's replica equals the directory after its link returns"
		diff <(host_records "$(SDH $i)") <(dir_records) | cut -c1-100 | head -10 | sed 's/^/# /'
	fi
done
gone_on() { ! nss_on "$2" getent passwd "$1"; }
for i in $CUT; do
	check "... host $i: deletes included, m21 gone (glibc NSS)" gone_on m21 "$i"
	expect_out 0 '^n3:' "... host $i: n3 added" nss_on "$i" getent passwd n3
done
expect 0 "... m21's next login is refused on host 5, back" m21_out 5
echo "# $(dir_records | wc -l) records compared"

done_testing
