#!/bin/bash
# The demo's fleet part (run by scripts/demo.sh at its end, after the build):
# a provider (a slapd of the demo's own, made with "rollcall fleet
# provider-config" and "provider-init") and three hosts, each a network
# namespace the demo creates with its own state directory and rollcalld; a
# member invited on host 1 logs in on host 2, and on host 3 with the
# provider stopped.  Everything lives in a folder under _build/ and in
# namespaces named rcdemo-PID-*; slapd, the rollcalld's, the namespaces and
# the folder are removed on any exit (Ctrl-C included).  No system file is
# touched: no /etc/ldap, not the packaged slapd.
# Needs root and network namespaces; elsewhere one line says why it skips.
# Exits non-zero (after cleaning up) if a step fails.  KEEP=1 keeps the
# folder (logs: slapd.log, hostN.log) for a look afterwards.
set -u -o pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
B=$top/_build
PATH=$PATH:/usr/sbin
skip() { printf '\n(The fleet part is skipped: %s.)\n' "$*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "it needs root, for network namespaces and a slapd of its own (run: sudo sh scripts/demo.sh)"
for p in ip setsid setpriv slapd slapadd ldapadd ldapsearch openssl; do
	command -v "$p" >/dev/null 2>&1 || skip "no $p here (scripts/deps.sh installs it)"
done
[ -x "$B/daemon/rollcalld" ] || skip "rollcalld is not built"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }
cmd() { printf '$ %s\n' "$*"; }

NSP=rcdemo-$$-
HUB=${NSP}hub
NS_MADE=
PGIDS=
W=$(mktemp -d "$B/demo-fleet.XXXXXX")
cleanup() {
	local g n p
	trap '' INT TERM HUP
	for g in $PGIDS; do kill -TERM -- "-$g" 2>/dev/null; done
	sleep 0.2
	for g in $PGIDS; do kill -KILL -- "-$g" 2>/dev/null; wait "$g" 2>/dev/null; done
	for n in $NS_MADE; do
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'echo; echo "(interrupted: the fleet part cleans up)"; exit 130' INT TERM HUP

# leftovers of a demo killed with SIGKILL (its pid gone): removed
for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^rcdemo-[0-9]*-'); do
	p=${n#rcdemo-}; p=${p%%-*}
	[ -e "/proc/$p" ] || ip netns del "$n" 2>/dev/null
done
ip netns add "$HUB" 2>"$W/err" || skip "network namespaces are unavailable here ($(head -1 "$W/err"))"
NS_MADE=$HUB
ip -n "$HUB" link add br0 type bridge 2>"$W/err" || skip "no bridge in a network namespace ($(head -1 "$W/err"))"

SUFFIX=dc=demo,dc=example
: > "$W/rollcall.conf"
rc() { "$B/tools/rollcall" --config "$W/rollcall.conf" "$@"; }
# on HOST PROGRAM...: PROGRAM inside host HOST's network namespace
hn() { echo "${NSP}h$1"; }
on() { local h=$1; shift; ip netns exec "$(hn "$h")" "$@"; }
# bg LOG PROGRAM...: in the background, in a process group of its own,
# killed with this script (SIGKILL as its parent-death signal)
bg() {
	local log=$1; shift
	setsid setpriv --pdeathsig KILL "$@" >"$log" 2>&1 &
	BGPID=$!
	PGIDS="$PGIDS $BGPID"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
synced() { [ "$(rc --json --state-dir "$W/host$1" fleet status 2>/dev/null | json 'd["cookie"]' 2>/dev/null)" = True ]; }
wait_until() {   # wait_until SECONDS CMD...
	local n=0 limit=$1; shift
	until "$@" >/dev/null 2>&1; do n=$((n + 1)); [ $n -gt $((limit * 10)) ] && return 1; sleep 0.1; done
}

step "F1. Many hosts: a network of namespaces (root, so the demo can show a fleet)"
say "(a hub namespace with a bridge at 10.78.0.1 for the directory, and three hosts,"
say " each a network namespace of its own with one veth into the bridge)"
cmd "ip netns add $HUB; ip -n $HUB link add br0 type bridge; ..."
ip -n "$HUB" addr add 10.78.0.1/24 dev br0 && ip -n "$HUB" link set br0 up && ip -n "$HUB" link set lo up || exit 1
for i in 1 2 3; do
	ip netns add "$(hn $i)" && NS_MADE="$NS_MADE $(hn $i)" &&
	ip -n "$(hn $i)" link set lo up &&
	ip link add "v$i" netns "$HUB" type veth peer name eth0 netns "$(hn $i)" &&
	ip -n "$HUB" link set "v$i" master br0 up &&
	ip -n "$(hn $i)" addr add "10.78.0.$((10 + i))/24" dev eth0 &&
	ip -n "$(hn $i)" link set eth0 up || { echo "host $i's namespace failed"; exit 1; }
	cmd "ip netns add $(hn $i)   # host $i, 10.78.0.$((10 + i))"
done

step "F2. The provider: the directory's configuration made by rollcall, slapd in the hub"
P=$W/provider
mkdir -p "$P/db" "$P/slapd.d"
cmd "rollcall fleet provider-config --suffix $SUFFIX --out provider/ --db-dir provider/db ..."
rc fleet provider-config --suffix "$SUFFIX" --out "$P" --db-dir "$P/db" --schema "$top/fleet/rollcall.ldif" \
	--run-dir "$P" >/dev/null || exit 1
say "(hosts talk to it over StartTLS: the demo makes a throwaway CA and a certificate"
say " for 10.78.0.1, adds them to the configuration, and gives hosts the CA: LDAPTLS_CACERT)"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=rollcall demo CA" \
	-keyout "$W/ca.key" -out "$W/ca.pem" >/dev/null 2>&1 &&
openssl req -newkey rsa:2048 -nodes -subj "/CN=10.78.0.1" -keyout "$W/tls.key" -out "$W/tls.csr" >/dev/null 2>&1 &&
printf 'subjectAltName=IP:10.78.0.1\n' > "$W/san.ext" &&
openssl x509 -req -in "$W/tls.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial -days 1 \
	-extfile "$W/san.ext" -out "$W/tls.pem" >/dev/null 2>&1 || { echo "openssl failed"; exit 1; }
export LDAPTLS_CACERT=$W/ca.pem
awk -v t="$W" '{ print } $0 == "dn: cn=config" {
	print "olcTLSCACertificateFile: " t "/ca.pem"
	print "olcTLSCertificateFile: " t "/tls.pem"
	print "olcTLSCertificateKeyFile: " t "/tls.key" }' "$P/config.ldif" > "$P/config.tls" &&
	mv "$P/config.tls" "$P/config.ldif"
cmd "slapadd -n0 -F provider/slapd.d -l provider/config.ldif"
slapadd -q -n0 -F "$P/slapd.d" -l "$P/config.ldif" >"$P/slapadd.log" 2>&1 || { cat "$P/slapadd.log"; exit 1; }
cmd "rollcall fleet provider-init --suffix $SUFFIX --out provider/base.ldif   # the administrator's password, once"
ADMIN_PW=$(rc --json fleet provider-init --suffix "$SUFFIX" --out "$P/base.ldif" | json 'd["admin_password"]') || exit 1
cmd "slapadd -n1 -F provider/slapd.d -l provider/base.ldif"
slapadd -q -n1 -F "$P/slapd.d" -l "$P/base.ldif" >>"$P/slapadd.log" 2>&1 || { cat "$P/slapadd.log"; exit 1; }
# the fleet's records and key come from an existing host's store: the
# single-host part's (demo-state), or a new one when this runs alone
ORIGIN=$top/demo-state
if [ ! -f "$ORIGIN/fleet.conf" ] && rc --state-dir "$ORIGIN" member list >/dev/null 2>&1; then
	say "(an existing host moves in: the store of the demo's first part, $ORIGIN, with its"
	say " members, roles, tokens, settings and master key; nobody is invited again)"
else
	ORIGIN=$W/origin
	cmd "rollcall --state-dir origin init --owner alice@example.com --username alice"
	OCODE=$(rc --json --state-dir "$ORIGIN" init --owner alice@example.com --username alice |
		json 'd["code"]') || exit 1
	cmd "printf '%s\n' CODE alice-correct-horse | rollcall --state-dir origin member accept --password-stdin"
	printf '%s\n%s\n' "$OCODE" alice-correct-horse |
		rc --state-dir "$ORIGIN" member accept --password-stdin >/dev/null || exit 1
fi
cmd "rollcall --state-dir ${ORIGIN#$top/} fleet export --suffix $SUFFIX --out provider/origin.ldif"
rc --state-dir "$ORIGIN" fleet export --suffix "$SUFFIX" --out "$P/origin.ldif" | sed 's/^/    /' || exit 1
cmd "slapadd -n1 -F provider/slapd.d -l provider/origin.ldif"
slapadd -q -n1 -F "$P/slapd.d" -l "$P/origin.ldif" >>"$P/slapadd.log" 2>&1 || { cat "$P/slapadd.log"; exit 1; }
LDAPI=ldapi://$(echo "$P/ldapi" | sed 's,/,%2F,g')
cmd "ip netns exec $HUB slapd -F provider/slapd.d -h \"ldap://10.78.0.1/ ldapi://...\""
bg "$P/slapd.log" ip netns exec "$HUB" slapd -d 0 -F "$P/slapd.d" -h "ldap://10.78.0.1/ $LDAPI"
SLAPD=$BGPID
wait_until 20 ldapsearch -x -H "$LDAPI" -s base -b "" namingContexts ||
	{ echo "slapd did not start: $(tail -3 "$P/slapd.log")"; exit 1; }
say "(slapd answers; the administrator uses its ldapi socket, the hosts ldap://10.78.0.1/)"

step "F3. Three hosts join, each from its namespace, and run rollcalld"
for i in 1 2 3; do
	cmd "rollcall fleet host-add host$i --uri ldapi://... --suffix $SUFFIX   # prints the host's secret once"
	SECRET=$(printf '%s\n' "$ADMIN_PW" | rc --json fleet host-add "host$i" --uri "$LDAPI" --suffix "$SUFFIX" \
		--admin-password-stdin | json 'd["secret"]') || exit 1
	cmd "ip netns exec $(hn $i) rollcall --state-dir host$i fleet join ldap://10.78.0.1/ --host host$i --suffix $SUFFIX"
	printf '%s\n' "$SECRET" | on $i "$B/tools/rollcall" --config "$W/rollcall.conf" --state-dir "$W/host$i" \
		fleet join ldap://10.78.0.1/ --host "host$i" --suffix "$SUFFIX" --secret-stdin | sed 's/^/    /' ||
		exit 1
	cmd "ip netns exec $(hn $i) rollcalld -f --state-dir host$i &"
	bg "$W/host$i.log" ip netns exec "$(hn $i)" "$B/daemon/rollcalld" -f --state-dir "$W/host$i" \
		--config "$W/rollcall.conf"
done
for i in 1 2 3; do
	wait_until 30 synced $i || { echo "host $i did not sync: $(tail -3 "$W/host$i.log")"; exit 1; }
done
cmd "rollcall --state-dir host3 fleet status"
rc --state-dir "$W/host3" fleet status | sed 's/^/    /'

step "F4. On host 1: alice invites erin, who accepts with a password of her choice"
say "On a host in a fleet the tool writes to the directory, bound as the member who"
say "acts (root on a host is not a directory administrator: --as names the member,"
say "whose login password binds; the directory's ACLs check her role and rank)."
(umask 077; printf 'alice-correct-horse\n' > "$W/alice.pw")
AS="--as alice --bind-password-file $W/alice.pw"
cmd "rollcall --state-dir host1 --as alice --bind-password-file alice.pw member invite erin@example.com --role developer"
CODE=$(on 1 "$B/tools/rollcall" --config "$W/rollcall.conf" --state-dir "$W/host1" $AS --json \
	member invite erin@example.com --role developer | json 'd["code"]') || exit 1
say "(her code: $CODE)"
cmd "printf '%s\n' $CODE erin-sails-the-fleet | rollcall --state-dir host1 --as alice ... member accept --password-stdin"
printf '%s\n%s\n' "$CODE" erin-sails-the-fleet |
	on 1 "$B/tools/rollcall" --config "$W/rollcall.conf" --state-dir "$W/host1" $AS \
	member accept --password-stdin | sed 's/^/    /' || exit 1
cmd "ldapsearch -H ldapi://... -D cn=admin,$SUFFIX -b uid=erin,ou=members,$SUFFIX rcStatus rcRoleRef"
ldapsearch -x -LLL -H "$LDAPI" -D "cn=admin,$SUFFIX" -w "$ADMIN_PW" -b "uid=erin,ou=members,$SUFFIX" \
	rcStatus rcRoleRef | sed '/^ *$/d; s/^/    /' || exit 1

# Logins through the real Linux-PAM and pam_rollcall.so, inside a host's
# namespace with that host's state directory (pam_wrapper and pamdrive, as
# in the single-host part)
PAM_WRAPPER_LIB=$(sed -n 's/^PAM_WRAPPER_LIB = //p' "$B/Makefile")
for i in 1 2 3; do
	mkdir -p "$W/pamd$i"
	MOD="$B/pam_module/.libs/pam_rollcall.so state_dir=$W/host$i config=$W/rollcall.conf"
	printf 'auth required %s\naccount required %s\n' "$MOD" "$MOD" > "$W/pamd$i/rollcall-demo"
	printf 'auth required pam_deny.so\naccount required pam_deny.so\n' > "$W/pamd$i/other"
done
login_on() {   # login_on HOST USER PASSWORD EXPECTED...
	local h=$1 u=$2 pw=$3; shift 3
	on "$h" env LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$W/pamd$h" \
		"$B/tests/pam/pamdrive" -s rollcall-demo -x -a "$pw" "$u" "$@"
}
step "F5. erin logs in on host 2, through PAM: rollcalld brought her record"
printf '$ ip netns exec %s login erin   (PAM calls and what they must return: auth=SUCCESS acct=SUCCESS)\n' "$(hn 2)"
wait_until 10 login_on 2 erin erin-sails-the-fleet auth=SUCCESS acct=SUCCESS
login_on 2 erin erin-sails-the-fleet auth=SUCCESS acct=SUCCESS 2>&1 | sed 's/^/    /' ||
	{ echo "erin's login on host 2 failed"; exit 1; }

if [ "$ORIGIN" = "$top/demo-state" ]; then
	say "(alice moved in with the first part's store: her password works on host 2 too)"
	printf '$ ip netns exec %s login alice   (auth=SUCCESS acct=SUCCESS)\n' "$(hn 2)"
	login_on 2 alice alice-correct-horse auth=SUCCESS acct=SUCCESS 2>&1 | sed 's/^/    /' ||
		{ echo "alice's login on host 2 failed"; exit 1; }
fi

step "F6. The provider stops: host 3 keeps working on its replica"
# (host 3 has erin's record before its provider goes)
wait_until 10 rc --state-dir "$W/host3" member show erin || { echo "erin did not reach host 3"; exit 1; }
cmd "kill slapd"
kill -TERM -- "-$SLAPD" 2>/dev/null
wait_until 10 sh -c "! kill -0 $SLAPD 2>/dev/null"
cmd "rollcall --state-dir host3 fleet status"
wait_until 10 sh -c "'$B/tools/rollcall' --config '$W/rollcall.conf' --state-dir '$W/host3' fleet status | grep -q 'rollcalld: *disconnected'"
rc --state-dir "$W/host3" fleet status | sed 's/^/    /'
printf '$ ip netns exec %s login erin   (PAM calls and what they must return: auth=SUCCESS acct=SUCCESS)\n' "$(hn 3)"
login_on 3 erin erin-sails-the-fleet auth=SUCCESS acct=SUCCESS 2>&1 | sed 's/^/    /' ||
	{ echo "erin's login on host 3 failed"; exit 1; }
say "(a wrong password is still refused there:)"
login_on 3 erin wrong-password auth=AUTH_ERR 2>&1 | sed 's/^/    /' ||
	{ echo "a wrong password was not refused on host 3"; exit 1; }
say "(a change needs the directory: refused with exit 4, and nothing changed on host 3)"
cmd "rollcall --state-dir host3 --as alice ... member deactivate erin"
st=0
on 3 "$B/tools/rollcall" --config "$W/rollcall.conf" --state-dir "$W/host3" $AS member deactivate erin \
	>"$W/deact.out" 2>&1 || st=$?
sed 's/^/    /' "$W/deact.out"
say "    (exit status $st)"
[ "$st" = 4 ] || { echo "the change was not refused with exit 4"; exit 1; }

echo
echo "Fleet part done: slapd, the three rollcalld's, the namespaces and $W are removed now."
