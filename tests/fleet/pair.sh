#!/bin/bash
# A provider pair on loopback (issue 19, "Providers: HA with nothing lost"):
# two slapd of the test's own, each configured by "rollcall fleet
# provider-config --server-id N --peer URI --peer-secret-file FILE" (mirror
# mode, delta-syncrepl between them through an accesslog database), the
# replicator made by "provider-init --replicator"; p2 seeded from p1 by
# slapcat/slapadd (the same entryUUIDs).
#  - delete while down: p2 killed (SIGKILL), a delete, modifies and adds
#    made on p1, p2 restarted: p2 ends with exactly p1's entries (every
#    attribute, entryUUID and entryCSN included, read as each slapd's root
#    over ldapi); and the reverse (p1 down, writes on p2).  With plain
#    mirror mode (no accesslog) the delete never reaches the provider that
#    was down: slapd 2.5.13, the spike's finding; PAIR_PLAIN=1 makes this
#    test use that configuration, and it fails (seen: p1 kept the entry
#    deleted on p2 while it was down; the other way passed that run);
#  - two hosts joined to "p1,p2" fail over by themselves when p1 is killed
#    (-9): a change written on p2 reaches them; after p1 returns their
#    replicas equal the directory;
#  - p1 killed (-9) at PAIR_KILLS (20) random moments during a stream of
#    adds (ldapmodify as the administrator to "p1 p2", the order tried):
#    every add reported done is on p2, on p1 once back, and on the hosts;
#    the providers hold the same entries, and each record once.
# Figures ("# figure:"): p1 killed -> first successful write through the
# URI list; -> a host reconnected to p2.  Waits are bounded, never asserted.
. "$(dirname "$0")/lib.sh"
require_fleet
KILLS=${PAIR_KILLS:-20}

# ---- records: a store of the test's (no fleet); its export is the data
init_store
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
for i in 1 2 3 4 5 6; do invite_accept "m$i" developer || not_ok "member m$i"; done
rc fleet export --suffix "$SUFFIX" --out "$TMP/e1.ldif" >/dev/null
# records added later through LDAP: members a1..a4, and invitations for
# the stream of writes (each its own entry)
for i in 1 2 3 4; do invite_accept "a$i" developer || not_ok "member a$i"; done
NW=$((KILLS * 15 + 40))   # more than the kills take: the stream outlasts them
for i in $(seq 1 "$NW"); do rc member invite "w$i@example.com" --role developer >/dev/null || not_ok "invitation w$i"; done
rc fleet export --suffix "$SUFFIX" --out "$TMP/e2.ldif" >/dev/null
added() { entry_of "$TMP/e2.ldif" "uid=$1,ou=members,$SUFFIX"; }
grep '^dn: ' "$TMP/e1.ldif" | sed 's/^dn: //' > "$TMP/e1.dns"
grep "^dn: uid=w[0-9]*,ou=invitations,$SUFFIX\$" "$TMP/e2.ldif" | sed 's/^dn: //' | grep -vxF -f "$TMP/e1.dns" > "$TMP/w.dns"
check "$NW invitations made for the stream of writes" test "$(wc -l < "$TMP/w.dns")" -ge "$NW"

# ---- the pair
P1=$TMP/p1 P2=$TMP/p2
PORT1=$(free_port); PORT2=$(free_port)
while [ "$PORT2" = "$PORT1" ]; do PORT2=$(free_port); done
URI1=ldap://127.0.0.1:$PORT1/ URI2=ldap://127.0.0.1:$PORT2/
run "$ROLLCALL" --json fleet provider-init --suffix "$SUFFIX" --out "$TMP/base.ldif" --replicator
check "provider-init --replicator makes cn=replicator and prints its secret once" \
	sh -c "test $st = 0 && grep -q '^dn: cn=replicator,$SUFFIX' '$TMP/base.ldif'"
ADMIN_PW=$(json 'd["admin_password"]')
( umask 077; json 'd["replicator_secret"]' > "$TMP/replicator.secret" )
: > "$OUT"   # (not_ok prints $OUT: no secret in the test's log)
check "... its entry holds a hash, not the secret" sh -c \
	"! grep -qF '$(cat "$TMP/replicator.secret")' '$TMP/base.ldif' && grep -q '^userPassword: {ARGON2}' '$TMP/base.ldif'"

# pair_config DIR ID PEER_URI: DIR/config.ldif of one provider of the pair
pair_config() {
	mkdir -p "$1/db/accesslog" "$1/slapd.d" &&
	"$ROLLCALL" fleet provider-config --suffix "$SUFFIX" --out "$1" --db-dir "$1/db" \
		--schema "$SCHEMA" --run-dir "$1" --server-id "$2" --peer "$3" \
		--peer-secret-file "$TMP/replicator.secret" >/dev/null || return 1
	if [ -n "${PAIR_PLAIN:-}" ]; then
		# plain mirror mode: the accesslog part taken out (to see this test fail)
		python3 - "$1/config.ldif" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
t = t.replace("olcModuleLoad: accesslog\n", "")
t = re.sub(r' logbase="[^"]*" logfilter="[^"]*" syncdata=accesslog', "", t)
t = "\n\n".join(p for p in t.split("\n\n") if "accesslog" not in p.split("\n", 1)[0] and "{2}mdb" not in p.split("\n", 1)[0]) + "\n"
open(sys.argv[1], "w").write(t)
PY
	fi
	slapadd -q -n0 -F "$1/slapd.d" -l "$1/config.ldif" >"$1/slapadd.log" 2>&1 ||
		{ sed 's/^/# /' "$1/slapadd.log"; return 1; }
}
made() {
	pair_config "$P1" 1 "$URI2" && pair_config "$P2" 2 "$URI1" &&
	slapadd -q -n1 -F "$P1/slapd.d" -l "$TMP/base.ldif" >>"$P1/slapadd.log" 2>&1 &&
	slapadd -q -n1 -F "$P1/slapd.d" -l "$TMP/e1.ldif" >>"$P1/slapadd.log" 2>&1 &&
	slapcat -F "$P1/slapd.d" -b "$SUFFIX" -l "$TMP/seed.ldif" 2>>"$P1/slapadd.log" &&
	slapadd -q -F "$P2/slapd.d" -b "$SUFFIX" -l "$TMP/seed.ldif" >>"$P2/slapadd.log" 2>&1
}
check "two providers configured by provider-config --server-id/--peer, p2 seeded from p1 (slapcat)" made
check "... the configuration file holds the replicator's secret: 0600" test "$(stat -c %a "$P1/config.ldif")" = 600
start1() { provider_start "$P1" "$PORT1" && PID1=$SLAPD_PID; }
start2() { provider_start "$P2" "$PORT2" && PID2=$SLAPD_PID; }
kill9() { kill -KILL -- "-$1" 2>/dev/null; bg_stop "$1"; }
if start1 && start2; then ok "p1 ($URI1) and p2 ($URI2) answer"; else
	not_ok "the pair starts"; tail -5 "$P1/slapd.log" "$P2/slapd.log" | sed 's/^/# /'; done_testing; exit 1; fi

ENC1=ldapi://$(echo "$P1/ldapi" | sed 's,/,%2F,g') ENC2=ldapi://$(echo "$P2/ldapi" | sed 's,/,%2F,g')
# dump N: every entry of provider N with every attribute, entryUUID and
# entryCSN, read by its root over ldapi; entries sorted, values sorted.
# Not the suffix entry's entryCSN: it holds each provider's contextCSN,
# which a provider restarted after a SIGKILL writes again on its own (a
# modify of that entry, logged and replayed without its operational
# attributes), so it differs with no data changed.
dump() {
	local e=$ENC1; [ "$1" = 2 ] && e=$ENC2
	ldapsearch -Q -Y EXTERNAL -H "$e" -LLL -o ldif-wrap=no -b "$SUFFIX" '*' entryUUID entryCSN 2>/dev/null |
		python3 -c 'import sys
top = "dn: " + sys.argv[1]
def lines(p):
    l = p.split("\n")
    return [l[0]] + sorted(x for x in l[1:] if not (l[0] == top and x.startswith("entryCSN:")))
paras = [p for p in sys.stdin.read().split("\n\n") if p.strip()]
print("\n\n".join(sorted("\n".join(lines(p)) for p in paras)))' "$SUFFIX"
}
same_pair() { local a b; a=$(dump 1) && b=$(dump 2) && [ -n "$a" ] && [ "$a" = "$b" ]; }
count() { local e=$ENC1; [ "$1" = 2 ] && e=$ENC2; ldapsearch -Q -Y EXTERNAL -H "$e" -LLL -b "$SUFFIX" dn 2>/dev/null | grep -c '^dn: '; }
at() { local u=$1 p=$2; shift 2; "$p" -x -H "$u" -D "cn=admin,$SUFFIX" -w "$ADMIN_PW" "$@"; }
has() { local e=$ENC1; [ "$1" = 2 ] && e=$ENC2; ldapsearch -Q -Y EXTERNAL -H "$e" -LLL -s base -b "$2" dn >/dev/null 2>&1; }
hasnt() { local e=$ENC1; [ "$1" = 2 ] && e=$ENC2; ldapsearch -Q -Y EXTERNAL -H "$e" -LLL -s base -b "$2" dn >/dev/null 2>&1; [ $? = 32 ]; }
mod_cn() { printf 'dn: uid=%s,ou=members,%s\nchangetype: modify\nreplace: cn\ncn: %s\n' "$2" "$SUFFIX" "$3" | at "$1" ldapmodify >/dev/null 2>&1; }
cn_is() { local e=$ENC1; [ "$1" = 2 ] && e=$ENC2
	[ "$(ldapsearch -Q -Y EXTERNAL -H "$e" -LLL -s base -b "uid=$2,ou=members,$SUFFIX" cn 2>/dev/null | sed -n 's/^cn: //p')" = "$3" ]; }

check "p1 and p2 start with the same entries" same_pair
check "a modify on p1" mod_cn "$URI1" m1 "one"
if wait_for 10 cn_is 2 m1 one; then ok "... reaches p2 ($WAITED ms)"; else not_ok "a modify on p1 reaches p2"; fi
check "a modify on p2" mod_cn "$URI2" m2 "two"
if wait_for 10 cn_is 1 m2 two; then ok "... reaches p1 ($WAITED ms)"; else not_ok "a modify on p2 reaches p1"; fi

# ---- delete while down, both ways.  down_writes UP_URI N DOWN: on the
# provider up, a delete (m$N), two modifies and an add (a$N)
down_writes() {
	local u=$1 n=$2 d=$3
	at "$u" ldapdelete "uid=m$n,ou=members,$SUFFIX" >/dev/null 2>&1 &&
	mod_cn "$u" m$((n + 2)) "down$d" && mod_cn "$u" m$((n + 1)) "down$d" &&
	added "a$n" | at "$u" ldapadd >/dev/null 2>&1
}
round() { # DOWN UP N
	local down=$1 up=$2 n=$3 upuri=$URI1 pid=$PID1
	[ "$up" = 2 ] && upuri=$URI2
	[ "$down" = 1 ] || pid=$PID2
	kill9 "$pid"
	check "p$down killed (SIGKILL); on p$up a delete (m$n), two modifies and an add (a$n)" down_writes "$upuri" "$n" "$down"
	check "... the delete done on p$up" hasnt "$up" "uid=m$n,ou=members,$SUFFIX"
	if [ "$down" = 1 ]; then start1; else start2; fi
	if wait_for 30 same_pair; then
		ok "p$down restarted: it has exactly p$up's entries, entryUUID and entryCSN included ($WAITED ms)"
		echo "# figure: p$down back -> equal to p$up: $WAITED ms"
	else
		not_ok "p$down restarted has exactly p$up's entries"
		diff <(dump 1) <(dump 2) | grep '^[<>] dn:' | head -5 | sed 's/^/# /'
	fi
	check "... the delete made while it was down reached p$down" hasnt "$down" "uid=m$n,ou=members,$SUFFIX"
	check "... the add too" has "$down" "uid=a$n,ou=members,$SUFFIX"
}
round 2 1 1
round 1 2 2
echo "# $(count 1) entries on each provider"

# ---- hosts listing both URIs fail over by themselves
URI=$URI1
JOIN_URIS="$URI1,$URI2"
SD1=$TMP/host1 SD2=$TMP/host2
expect 0 "host 1 joins \"p1,p2\"" host_join "$SD1" h1
expect 0 "host 2 joins \"p1,p2\"" host_join "$SD2" h2
rollcalld_start "$SD1"; RCD1=$RCD_PID
rollcalld_start "$SD2"; RCD2=$RCD_PID
both_synced() { synced "$SD1" && synced "$SD2"; }
if wait_for 30 both_synced; then ok "both hosts' rollcalld complete a refresh ($WAITED ms)"; else not_ok "the hosts' first refresh"; fi
on_p1() { fleet_json "$1" 'd["rollcalld"]' | grep -qF "connected to $URI1 "; }
if wait_for 10 on_p1 "$SD1"; then ok "host 1 connected to p1 (the first URI)"; else
	not_ok "host 1 connected to p1 (the first URI)"; echo "# rollcalld: $(fleet_json "$SD1" 'd["rollcalld"]')"; fi

# the directory's records (provider N's, over ldapi) and a host's
# (lib.sh's records and host_records): rcDb, rcKey, rcRecord of each
dir_records() { # N
	local e=$ENC1; [ "$1" = 2 ] && e=$ENC2
	ldapsearch -Q -Y EXTERNAL -H "$e" -LLL -o ldif-wrap=no -b "$SUFFIX" '(objectClass=rcReplicated)' \
		rcDb rcKey rcRecord > "$TMP/dir$1.ldif" 2>/dev/null && records "$TMP/dir$1.ldif"
}
host_is_dir() { local h; h=$(host_records "$1") && [ -n "$h" ] && [ "$h" = "$(dir_records "$2")" ]; }
hosts_are_dir() { host_is_dir "$SD1" "$1" && host_is_dir "$SD2" "$1"; }
if wait_for 10 hosts_are_dir 1; then ok "both hosts' replicas equal the directory ($WAITED ms)"; else not_ok "the hosts equal the directory"; fi
# p2 holds what p1 holds before p1 dies, the hosts' entries (added on p1
# by host-add, their secrets' hashes) included: the hosts bind to p2 with
# them (without this wait a fast kill could leave p2 without them, and
# the hosts refused there: "Invalid credentials")
if wait_for 30 same_pair; then ok "p2 holds p1's entries, the hosts' included ($WAITED ms)"; else not_ok "p2 holds p1's entries before p1 is killed"; fi

t0=$(date +%s%N)
kill9 "$PID1"
try_write() { added a3 | ldapadd -x -H "$URI1 $URI2" -D "cn=admin,$SUFFIX" -w "$ADMIN_PW" >/dev/null 2>&1; }
n=0; until try_write || [ $n -ge 500 ]; do n=$((n + 1)); sleep 0.01; done
t1=$(date +%s%N)
check "p1 killed (SIGKILL): a write through \"p1 p2\" succeeds (on p2)" has 2 "uid=a3,ou=members,$SUFFIX"
echo "# figure: p1 killed -> first successful write (URI list p1 p2, landed on p2): $(((t1 - t0) / 1000000)) ms"
on_p2() { fleet_json "$1" 'd["rollcalld"]' | grep -qF "connected to $URI2 "; }
if wait_for 60 on_p2 "$SD1"; then
	t2=$(date +%s%N)
	ok "host 1's rollcalld fails over to p2 by itself"
	echo "# figure: p1 killed -> host 1 reconnected to p2: $(((t2 - t0) / 1000000)) ms"
else not_ok "host 1's rollcalld fails over to p2"; echo "# rollcalld: $(fleet_json "$SD1" 'd["rollcalld"]')"; fi
if wait_for 60 on_p2 "$SD2"; then
	t2=$(date +%s%N)
	ok "host 2's rollcalld fails over to p2 by itself"
	echo "# figure: p1 killed -> host 2 reconnected to p2: $(((t2 - t0) / 1000000)) ms"
else not_ok "host 2's rollcalld fails over to p2"; fi
h_has_a3() { "$ROLLCALL" --json --config "$TMP/rollcall.conf" --state-dir "$1" member list | grep -q '"a3"'; }
if wait_for 10 h_has_a3 "$SD1"; then ok "the change written on p2 reaches host 1 ($WAITED ms)"; else not_ok "the change on p2 reaches host 1"; fi
if wait_for 10 hosts_are_dir 2; then ok "both hosts equal p2 ($WAITED ms)"; else not_ok "the hosts equal p2"; fi
check "a delete on p2 (m4) while p1 is down" at "$URI2" ldapdelete "uid=m4,ou=members,$SUFFIX"
start1 || not_ok "p1 restarts"
if wait_for 30 same_pair; then ok "p1 returns: equal to p2 ($WAITED ms)"; else not_ok "p1 returns equal to p2"; fi
if wait_for 30 hosts_are_dir 1; then ok "... and both hosts' replicas equal the directory (p1) ($WAITED ms)"
else not_ok "the hosts equal the directory after p1 returns"; diff <(host_records "$SD1") <(dir_records 1) | cut -c1-90 | head -5 | sed 's/^/# /'; fi

# ---- p1 killed at random moments during a stream of writes
# writer: adds the invitations one by one through "p1 p2" as the
# administrator; "ok DN" when ldapmodify reports success, "fail RC DN"
# otherwise (a write cut by the kill: its outcome unknown to the client)
writer() {
	local dn
	while read -r dn; do
		[ -e "$TMP/stop" ] && break
		entry_of "$TMP/e2.ldif" "$dn" > "$TMP/one.ldif"
		ldapadd -x -H "$URI1 $URI2" -o nettimeout=5 -D "cn=admin,$SUFFIX" -w "$ADMIN_PW" -f "$TMP/one.ldif" \
			>/dev/null 2>&1
		local r=$?
		if [ $r = 0 ]; then echo "ok $dn"; else echo "fail $r $dn"; fi
		sleep 0.0$((RANDOM % 5))
	done < "$TMP/w.dns" > "$TMP/writes.log"
	echo done >> "$TMP/writes.log"
}
bg_start "$TMP/writer.out" bash -c "$(declare -f writer entry_of); TMP='$TMP' SUFFIX='$SUFFIX' URI1='$URI1' URI2='$URI2' ADMIN_PW='$ADMIN_PW' writer"
WPID=$BGPID
killed=0
for k in $(seq 1 "$KILLS"); do
	sleep "0.$((RANDOM % 6))$((RANDOM % 10))"
	grep -q '^done$' "$TMP/writes.log" 2>/dev/null && break
	kill9 "$PID1"; killed=$((killed + 1))
	sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
	start1 || { not_ok "p1 restarts after kill $k"; break; }
done
touch "$TMP/stop"
wait_for 30 grep -q '^done$' "$TMP/writes.log"
bg_stop "$WPID"
oks=$(grep -c '^ok ' "$TMP/writes.log"); fails=$(grep -c '^fail ' "$TMP/writes.log")
check "p1 killed (SIGKILL) $killed times during $((oks + fails)) adds through \"p1 p2\" ($oks reported done)" \
	test "$killed" = "$KILLS" -a "$oks" -ge 1
echo "# $fails adds reported failed (cut by a kill or refused)"
sed -n 's/^ok //p' "$TMP/writes.log" > "$TMP/ok.dns"
all_on() { local dn; while read -r dn; do has "$1" "$dn" || { echo "# missing on p$1: $dn"; return 1; }; done < "$TMP/ok.dns"; }
# The providers afterwards: the same entries but for writes cut by a kill
# that p1 committed without logging them.  The main database and the
# accesslog are two LMDB environments, written in two transactions: a
# SIGKILL between them leaves the write on p1 (whose client saw no
# success) and out of its log, so p2 never replays it (found by this
# test: man rollcall.8, Provider pair).  Each such entry must be a write
# reported failed; they are counted.
pair_diff() { # "only1 DN", "only2 DN" or "differ DN" for each entry not the same on both
	dump 1 > "$TMP/d1"; dump 2 > "$TMP/d2"
	python3 - "$TMP/d1" "$TMP/d2" <<'PY'
import sys
def ents(f):
    return {p.split("\n")[0][4:]: p for p in open(f).read().split("\n\n") if p.strip()}
a, b = ents(sys.argv[1]), ents(sys.argv[2])
for dn in sorted(set(a) | set(b)):
    if dn not in b: print("only1", dn)
    elif dn not in a: print("only2", dn)
    elif a[dn] != b[dn]: print("differ", dn)
PY
}
only_cut_writes() {
	local kind dn
	pair_diff > "$TMP/pair.diff" || return 1
	[ -s "$TMP/d1" ] || return 1
	while read -r kind dn; do
		[ "$kind" = only1 ] && grep -qE "^fail [0-9]+ $dn\$" "$TMP/writes.log" || return 1
	done < "$TMP/pair.diff"
}
if wait_for 60 only_cut_writes; then
	ok "afterwards p1 and p2 hold the same entries, but for writes reported failed ($WAITED ms)"
	echo "# figure: writes cut by a kill, applied on p1 and never replicated: $(wc -l < "$TMP/pair.diff") of $fails reported failed"
else
	not_ok "afterwards p1 and p2 hold the same entries, but for writes reported failed"
	head -5 "$TMP/pair.diff" | sed 's/^/# /'
fi
check "every add reported done is on p2" all_on 2
check "... and on p1" all_on 1
# none twice: each record's key once among the providers' entries, and
# the entry count is what was there plus what landed
dup_keys() { dir_records 2 | awk '{print $1, $2}' | sort | uniq -d | grep -q .; }
check "no record twice on p2 (rcDb+rcKey unique)" eval '! dup_keys'
landed=0 before=$(grep -c "ou=invitations,$SUFFIX\$" "$TMP/e1.dns")
while read -r dn; do has 2 "$dn" && landed=$((landed + 1)); done < <(sed -n 's/^\(ok\|fail [0-9]*\) //p' "$TMP/writes.log")
check "the invitations on p2 are the ones that landed ($landed: $oks reported done, $((landed - oks)) of the failed)" \
	test "$(ldapsearch -Q -Y EXTERNAL -H "$ENC2" -LLL -b "ou=invitations,$SUFFIX" -s one dn 2>/dev/null | grep -c '^dn: ')" = "$((before + landed))"
if wait_for 60 hosts_are_dir 2; then ok "both hosts' replicas equal the directory record by record ($WAITED ms)"; else
	not_ok "the hosts equal the directory after the kills"; diff <(host_records "$SD1") <(dir_records 2) | cut -c1-90 | head -5 | sed 's/^/# /'; fi
echo "# $(dir_records 2 | wc -l) records compared"

rollcalld_stop; RCD_PID=$RCD1; rollcalld_stop
done_testing
