# tests/fleet/lib.sh - the fleet suites' helpers: a throwaway slapd made
# from the project's own configuration ("rollcall fleet provider-config",
# slapadd -n0 into a directory of the test's), hosts (state directories)
# that join it, and rollcalld.  Never the packaged slapd service.
#
# Every slapd and rollcalld a test starts runs in a process group of its
# own (setsid) with SIGKILL as its parent-death signal (setpriv
# --pdeathsig): the EXIT trap kills the groups by pid, and a test killed
# from outside (a timeout's SIGKILL included) takes them with it.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
ROLLCALLD=${ROLLCALLD:-$top_builddir/daemon/rollcalld}
SCHEMA=$top_srcdir/fleet/rollcall.ldif
SUFFIX=dc=fleet,dc=test
FLEET_PGIDS=

fleet_cleanup() {
	local g
	for g in $FLEET_PGIDS; do
		kill -TERM -- "-$g" 2>/dev/null
	done
	for g in $FLEET_PGIDS; do
		group_kill "$g" >/dev/null 2>&1
	done
	FLEET_PGIDS=
}
trap 'fleet_cleanup; netns_cleanup; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
trap 'exit 143' TERM INT HUP

# require_fleet: root, slapd and the LDAP tools; a skip with the reason
# elsewhere, a failure in CI (which installs them: scripts/deps.sh).
require_fleet() {
	require_root "the fleet tests (a slapd of their own)"
	local p missing=
	for p in slapd slapadd ldapsearch ldapadd ldapmodify ldapdelete setpriv; do
		command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || missing="$missing $p"
	done
	[ -x "$ROLLCALLD" ] || missing="$missing $ROLLCALLD"
	if [ -n "$missing" ]; then
		if [ -n "${CI:-}" ]; then
			echo "1..1"; echo "not ok 1 - the fleet tests need$missing (scripts/deps.sh installs them)"; exit 1
		fi
		echo "1..0 # SKIP the fleet tests need$missing (scripts/deps.sh installs them)"
		exit 0
	fi
	PATH=$PATH:/usr/sbin
}

# bg_start LOG PROGRAM...: PROGRAM in the background, in a group of its
# own, killed with its parent; sets BGPID (its pid and group id)
bg_start() {
	local log=$1; shift
	setsid setpriv --pdeathsig KILL "$@" >"$log" 2>&1 &
	BGPID=$!
	FLEET_PGIDS="$FLEET_PGIDS $BGPID"
	group_wait_leader "$BGPID" || return 1
}

# bg_stop PID: SIGTERM to its group, then wait (10 s at most) and SIGKILL
bg_stop() {
	local g=$1 n=0
	kill -TERM -- "-$g" 2>/dev/null
	while ! proc_gone "$g" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	group_kill "$g" >/dev/null 2>&1
	FLEET_PGIDS=$(echo "$FLEET_PGIDS" | tr ' ' '\n' | grep -vx "$g" | tr '\n' ' ')
}

free_port() {
	# below the kernel's ephemeral range (32768-60999 on Debian): a port
	# in it may be an outgoing connection's local port when slapd binds
	# (seen: "Address already in use" under make -j2 check)
	local lo hi p
	read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
	[ "${lo:-0}" -gt 12000 ] || lo=32768
	p=$((10000 + RANDOM % (lo - 10000)))
	while ss -ltn 2>/dev/null | grep -q ":$p "; do p=$((p + 1)); done
	echo "$p"
}

# provider_make DIR [LDIF...]: a provider's configuration made by
# "rollcall fleet provider-config" and loaded with slapadd -n0, its base
# entries and administrator by "provider-init", then each LDIF loaded
# (slapadd -n1).  ADMIN_PW: the administrator's password.
provider_make() {
	local d=$1; shift
	mkdir -p "$d/db" "$d/slapd.d" || return 1
	"$ROLLCALL" fleet provider-config --suffix "$SUFFIX" --out "$d" --db-dir "$d/db" \
		--schema "$SCHEMA" --run-dir "$d" >/dev/null || return 1
	# PROVIDER_EDIT: a command run on the configuration before it is
	# loaded (hosts.sh adds TLS to it)
	${PROVIDER_EDIT:-:} "$d/config.ldif" || return 1
	slapadd -q -n0 -F "$d/slapd.d" -l "$d/config.ldif" >"$d/slapadd.log" 2>&1 ||
		{ cat "$d/slapadd.log"; return 1; }
	"$ROLLCALL" --json fleet provider-init --suffix "$SUFFIX" --out "$d/base.ldif" >"$d/init.json" ||
		return 1
	ADMIN_PW=$(python3 -c "import json; print(json.load(open('$d/init.json'))['admin_password'])")
	slapadd -q -n1 -F "$d/slapd.d" -l "$d/base.ldif" >>"$d/slapadd.log" 2>&1 ||
		{ cat "$d/slapadd.log"; return 1; }
	local f
	for f in "$@"; do
		slapadd -q -n1 -F "$d/slapd.d" -l "$f" >>"$d/slapadd.log" 2>&1 ||
			{ cat "$d/slapadd.log"; return 1; }
	done
}

# provider_start DIR [PORT]: slapd -d 0 on 127.0.0.1:PORT (a free one) and
# an ldapi socket in DIR (and EXTRA_LISTEN's URLs, each followed by a
# space); waits (20 s at most) until it answers.  Sets PORT, URI and
# SLAPD_PID.  SLAPD_DEBUG: slapd's -d (0; 256 logs every operation to
# DIR/slapd.log).
provider_start() {
	local d=$1 n=0
	PORT=${2:-$(free_port)}
	URI=ldap://127.0.0.1:$PORT/
	bg_start "$d/slapd.log" slapd -d "${SLAPD_DEBUG:-0}" -F "$d/slapd.d" \
		-h "$URI ${EXTRA_LISTEN:-}ldapi://$(echo "$d/ldapi" | sed 's,/,%2F,g')" || return 1
	SLAPD_PID=$BGPID
	until ldapsearch -x -H "$URI" -s base -b "" namingContexts >/dev/null 2>&1; do
		if proc_gone "$SLAPD_PID"; then echo "slapd exited: $(tail -n 5 "$d/slapd.log" | tr '\n' ' ')"; return 1; fi
		n=$((n + 1)); [ $n -gt 400 ] && { echo "slapd did not answer in 20 s"; return 1; }
		sleep 0.05
	done
}

provider_stop() { bg_stop "$SLAPD_PID"; }

# as_admin PROGRAM ARGS...: an ldap tool bound as the fleet's administrator
as_admin() { local p=$1; shift; "$p" -x -H "$URI" -D "cn=admin,$SUFFIX" -w "$ADMIN_PW" "$@"; }
# as_host NAME SECRET PROGRAM ARGS...: bound as a host
as_host() { local h=$1 s=$2 p=$3; shift 3; "$p" -x -H "$URI" -D "cn=$h,ou=hosts,$SUFFIX" -w "$s" "$@"; }

# host_add NAME: enrol NAME; sets HOST_SECRET
host_add() {
	HOST_SECRET=$(printf '%s\n' "$ADMIN_PW" | "$ROLLCALL" --json fleet host-add "$1" --uri "$URI" \
		--suffix "$SUFFIX" --admin-password-stdin | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
	[ -n "$HOST_SECRET" ]
}

# host_join DIR NAME: host NAME joins with the state directory DIR (the
# providers: JOIN_URIS, default $URI)
host_join() {
	host_add "$2" || return 1
	printf '%s\n' "$HOST_SECRET" | "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$1" \
		fleet join "${JOIN_URIS:-$URI}" --host "$2" --suffix "$SUFFIX" --secret-stdin >/dev/null
}

# rollcalld_start DIR: rollcalld -f for the state directory DIR (log in
# DIR.log); sets RCD_PID
rollcalld_start() {
	bg_start "$1.log" "$ROLLCALLD" -f --state-dir "$1" --config "$TMP/rollcall.conf" || return 1
	RCD_PID=$BGPID
}
rollcalld_stop() { bg_stop "$RCD_PID"; }

# fleet_json DIR EXPR: EXPR on "rollcall fleet status --json" of DIR (as d)
fleet_json() {
	"$ROLLCALL" --json --config "$TMP/rollcall.conf" --state-dir "$1" fleet status 2>/dev/null |
		python3 -c "import json,sys; d=json.load(sys.stdin); print($2)" 2>/dev/null
}

# wait_for SECONDS CMD...: until CMD succeeds (polled every 20 ms);
# WAITED: the milliseconds it took
wait_for() {
	local limit=$1 t0 now; shift
	t0=$(date +%s%N)
	while :; do
		if "$@" >/dev/null 2>&1; then
			now=$(date +%s%N); WAITED=$(((now - t0) / 1000000)); return 0
		fi
		now=$(date +%s%N)
		[ $(((now - t0) / 1000000000)) -ge "$limit" ] && { WAITED=$(((now - t0) / 1000000)); return 1; }
		sleep 0.02
	done
}

# synced DIR: rollcalld of DIR has completed a refresh (a cookie stored)
synced() { [ "$(fleet_json "$1" 'd["cookie"]')" = True ]; }

# records LDIF: "rcDb rcKey rcRecord" of each replicated entry of LDIF,
# sorted (a directory's and a host's compared record by record)
records() {
	python3 - "$1" <<'PY'
import sys
out = []
for para in open(sys.argv[1]).read().replace("\n ", "").split("\n\n"):
    d = {}
    for l in para.split("\n"):
        if ":" in l:
            a, v = l.split(":", 1)
            d[a.lower()] = v.strip()
    if "rcrecord" in d:
        out.append("%s %s %s" % (d.get("rcdb"), d.get("rckey"), d["rcrecord"]))
print("\n".join(sorted(out)))
PY
}
# dir_records: the directory's records (as the administrator, on $URI)
dir_records() {
	as_admin ldapsearch -LLL -o ldif-wrap=no -b "$SUFFIX" '(objectClass=rcReplicated)' rcDb rcKey rcRecord > "$TMP/dir.ldif" &&
	records "$TMP/dir.ldif"
}
# host_records DIR: the records of the host whose state directory is DIR
host_records() {
	rm -f "$1.export.ldif"
	"$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$1" fleet export --suffix "$SUFFIX" \
		--out "$1.export.ldif" >/dev/null && records "$1.export.ldif"
}
# modifies_of EXPORT DN...: an LDIF modifying each entry DN to what the
# export EXPORT holds (every attribute but objectClass and uid replaced)
modifies_of() {
	python3 - "$@" <<'PY'
import sys
text = open(sys.argv[1]).read().replace("\n ", "")
want = set(sys.argv[2:])
for para in text.split("\n\n"):
    lines = [l for l in para.split("\n") if l and not l.startswith("#")]
    if not lines or lines[0][4:] not in want:
        continue
    print(lines[0]); print("changetype: modify")
    attrs = {}
    for l in lines[1:]:
        a = l.split(":", 1)[0]
        if a.lower() not in ("objectclass", "uid"):
            attrs.setdefault(a, []).append(l)
    for a, ls in attrs.items():
        print("replace: " + a); print("\n".join(ls)); print("-")
    print()
PY
}

# entry_of LDIF DN: the entry DN of an LDIF file (a paragraph)
entry_of() { awk -v dn="dn: $2" 'BEGIN { RS = ""; ORS = "\n\n" } index($0, dn "\n") == 1' "$1"; }

# ---- hosts in network namespaces (hosts.sh, bench/fleet-hosts.sh): a hub
# namespace with a bridge (10.77.0.1/24) and host namespaces, one veth each
# (host I at 10.77.0.(10+I)).  Only namespaces named rcfleet-PID-* are
# made; the EXIT trap removes them, and ones left by a run killed with
# SIGKILL (their PID gone) are removed by the next run.
NSP=rcfleet-$$-
HUB=${NSP}hub
HUB_URI=ldap://10.77.0.1/
NS_MADE=
no_netns() {
	if [ -n "${CI:-}" ]; then echo "1..1"; echo "not ok 1 - $1 (CI has network namespaces)"; exit 1; fi
	echo "1..0 # SKIP $1"; exit 0
}
netns_del() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	ip netns del "$1" 2>/dev/null
}
netns_cleanup() { local n; for n in $NS_MADE; do netns_del "$n"; done; NS_MADE=; }
mkns() { ip netns add "$1" && NS_MADE="$NS_MADE $1" && ip -n "$1" link set lo up; }
# hn I: host I's namespace
hn() { echo "${NSP}h$1"; }

# netns_fleet N: the hub and N host namespaces (a skip, or a failure in
# CI, where namespaces are unavailable; "not ok" and exit 1 on a failure)
netns_fleet() {
	local n p i
	command -v ip >/dev/null 2>&1 || no_netns "no ip(8) (iproute2)"
	command -v unshare >/dev/null 2>&1 || no_netns "no unshare(1)"
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^rcfleet-[0-9]*-'); do
		p=${n#rcfleet-}; p=${p%%-*}
		[ -e "/proc/$p" ] || netns_del "$n"
	done
	mkns "$HUB" 2>"$ERR" || no_netns "network namespaces unavailable: $(head -1 "$ERR")"
	ip -n "$HUB" link add br0 type bridge 2>"$ERR" || no_netns "no bridge in a namespace: $(head -1 "$ERR")"
	ip -n "$HUB" addr add 10.77.0.1/24 dev br0 && ip -n "$HUB" link set br0 up ||
		{ echo "1..1"; echo "not ok 1 - the hub's bridge"; exit 1; }
	for i in $(seq 1 "$1"); do
		mkns "$(hn $i)" &&
		ip link add "v$i" netns "$HUB" type veth peer name eth0 netns "$(hn $i)" &&
		ip -n "$HUB" link set "v$i" master br0 up &&
		ip -n "$(hn $i)" addr add "10.77.0.$((10 + i))/24" dev eth0 &&
		ip -n "$(hn $i)" link set eth0 up ||
			{ echo "1..1"; echo "not ok 1 - host $i's namespace and veth"; exit 1; }
	done
}

# tls_make: a CA and a certificate for 10.77.0.1 in $TMP (hosts reach the
# hub over plain ldap:// to another address, so StartTLS); exports
# LDAPTLS_CACERT for the hosts
tls_make() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rollcall test CA" \
		-keyout "$TMP/ca.key" -out "$TMP/ca.pem" >/dev/null 2>&1 &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=10.77.0.1" -keyout "$TMP/tls.key" -out "$TMP/tls.csr" >/dev/null 2>&1 &&
	printf 'subjectAltName=IP:10.77.0.1\n' > "$TMP/san.ext" &&
	openssl x509 -req -in "$TMP/tls.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial -days 2 \
		-extfile "$TMP/san.ext" -out "$TMP/tls.pem" >/dev/null 2>&1 || return 1
	export LDAPTLS_CACERT=$TMP/ca.pem
}
# add_tls CONFIG.LDIF: the certificate of tls_make in slapd's configuration
# (PROVIDER_EDIT=add_tls provider_make ...)
add_tls() {
	awk -v t="$TMP" '{ print } $0 == "dn: cn=config" {
		print "olcTLSCACertificateFile: " t "/ca.pem"
		print "olcTLSCertificateFile: " t "/tls.pem"
		print "olcTLSCertificateKeyFile: " t "/tls.key" }' "$1" > "$1.tls" && mv "$1.tls" "$1"
}
# hub_start: slapd of the provider directory $P in the hub namespace on
# $HUB_URI and the ldapi socket $P/ldapi (reachable from any namespace);
# sets LDAPI and SLAPD_PID
hub_start() {
	local n=0
	LDAPI=ldapi://$(echo "$P/ldapi" | sed 's,/,%2F,g')
	bg_start "$P/slapd.log" ip netns exec "$HUB" slapd -d 0 -F "$P/slapd.d" -h "$HUB_URI $LDAPI" || return 1
	SLAPD_PID=$BGPID
	until ldapsearch -x -H "$LDAPI" -s base -b "" namingContexts >/dev/null 2>&1; do
		proc_gone "$SLAPD_PID" && { echo "# slapd exited: $(tail -n 3 "$P/slapd.log" | tr '\n' ' ')"; return 1; }
		n=$((n + 1)); [ $n -gt 400 ] && return 1
		sleep 0.05
	done
}
