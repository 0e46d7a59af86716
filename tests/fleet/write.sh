#!/bin/bash
# The tool's changes on hosts in a fleet (issue 18): made in the
# directory, bound as the member who acts, in one LDAP transaction.  Two
# hosts join a provider (a slapd of the test's own) and run rollcalld; the
# tool on host A invites a member who then logs in through PAM on host B;
# a password changed through PAM on host B is made in the directory (and
# refused with the provider stopped);
# a deactivation and a token revocation made with the tool refuse the next
# login on the other host.  The provider stopped: exit 4 and the local
# store untouched; a wrong directory password (exit 3) and a change the
# directory's ACLs refuse (exit 3, its reason) leave nothing; two hosts
# inviting at once get different uids (the assertion on @next_id); a
# change one of whose operations fails leaves nothing of the others.
# The provider's ACLs are rollcall's own (provider-config): each member
# binds with its login password and acts as its role allows.
. "$(dirname "$0")/lib.sh"
require_fleet
# every operation in slapd's log (the mid-transaction kill waits for them)
SLAPD_DEBUG=${SLAPD_DEBUG:-256}
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}" "${NSS_MODULE:?}"

# ---- the origin: alice (owner), bob (admin: may invite), dave (developer)
init_store
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
invite_accept bob admin
invite_accept dave developer
rc fleet export --suffix "$SUFFIX" --out "$TMP/export.ldif" >/dev/null ||
	{ echo "1..1"; echo "not ok 1 - export"; exit 1; }

P=$TMP/provider
provider_make "$P" "$TMP/export.ldif" ||
	{ echo "1..1"; echo "not ok 1 - provider set-up"; exit 1; }
provider_start "$P" || { echo "1..1"; echo "not ok 1 - slapd starts"; exit 1; }
ok "a slapd of the test's own answers on $URI (rollcall's own ACLs)"

# ---- hosts A and B join and follow the directory
SDA=$TMP/hostA SDB=$TMP/hostB
host_join "$SDA" ha && host_join "$SDB" hb || { not_ok "hosts join"; done_testing; exit 1; }
rollcalld_start "$SDA"; RCD_A=$RCD_PID
rollcalld_start "$SDB"; RCD_B=$RCD_PID
if wait_for 20 synced "$SDA" && wait_for 20 synced "$SDB"; then ok "both hosts joined and synced"; else not_ok "hosts synced"; fi

umask 077
printf 'alice password 1\n' > "$TMP/alice.pw"
printf 'bob password 12345\n' > "$TMP/bob.pw"
printf 'not her password\n' > "$TMP/wrong.pw"
umask 022
# on host X, root acting as alice (or AS, with PW)
onh() { local sd=$1; shift; "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$sd" \
	--as "${AS:-alice}" --bind-password-file "${PW:-$TMP/alice.pw}" "$@"; }
ra() { onh "$SDA" "$@"; }
rb() { onh "$SDB" "$@"; }
SD=$SDB pam_services "$TMP/pamdB" loginb
SD=$SDA pam_services "$TMP/pamdA" logina
pdb() { "$PAM_WRAP" "$TMP/pamdB" "$PAMDRIVE" -s loginb "$@"; }
pda() { "$PAM_WRAP" "$TMP/pamdA" "$PAMDRIVE" -s logina "$@"; }
nb() { SD=$SDB nssw "$@"; }
in_dir() { as_admin ldapsearch -LLL -b "$1" -s base dn 2>/dev/null | grep -q '^dn:'; }
not_in_dir() { ! in_dir "$1"; }
both_in_dir() { in_dir "$1" && in_dir "$2"; }
ra_wrong() { PW=$TMP/wrong.pw onh "$SDA" "$@"; }
ra_bob() { AS=bob PW=$TMP/bob.pw onh "$SDA" "$@"; }
frank_active_in_dir() { as_admin ldapsearch -LLL -b "uid=frank,ou=members,$SUFFIX" rcStatus | grep -q 'rcStatus: active'; }
next_id() { as_admin ldapsearch -LLL -b "ou=settings,$SUFFIX" "(rcKey=@next_id)" rcRecord | grep '^rcRecord'; }
dumpA() { SD=$SDA dump_store; }

# ---- root must name the member it acts as
run "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SDA" member invite x@example.com --role developer
check "root without --as on a fleet host is refused (exit 2, says --as)" sh -c "test $st = 2 && grep -q -- '--as NAME' '$ERR'"
expect_err 1 "no such member" "--as a name that is no member: refused" \
	onh "$SDA" --as nobody member invite x@example.com --role developer
chmod 644 "$TMP/bob.pw"
expect_err 2 "must be a regular file of yours" "a bind password file others may read is refused" \
	ra_bob member invite x@example.com --role developer
chmod 600 "$TMP/bob.pw"

# ---- an invitation made with the tool on host A, accepted, a login on host B
before=$(next_id)
t0=$(date +%s%N)
expect_out 0 '"code"' "alice invites frank with the tool on host A (--json: the code)" \
	ra --json member invite frank@example.com --role developer
echo "# figure: the tool's invitation (bind, transaction, rollcalld applied locally): $((($(date +%s%N) - t0) / 1000000)) ms"
CODE=$(json 'd["code"]')
check "... the directory has frank's entry and invitation" \
	both_in_dir "uid=frank,ou=members,$SUFFIX" "uid=frank,ou=invitations,$SUFFIX"
check "... and its id counter moved (@next_id)" test "$(next_id)" != "$before"
check "... host A has frank (rollcalld applied it before the tool returned)" \
	sh -c "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SDA' member show frank >/dev/null"
check "... host A audited it locally, as alice" \
	sh -c "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SDA' audit --limit 3 | grep -E 'alice.*invite.*frank'"
run ra member accept --password-stdin <<<"$CODE
frank password 12345"
check "frank's invitation accepted with the tool on host A" test "$st" = 0
if wait_for 10 nb getent passwd frank; then ok "frank appears through NSS on host B ($WAITED ms)"; else not_ok "frank through NSS on host B"; fi
login_frank() { pdb -a 'frank password 12345' frank auth=SUCCESS acct=SUCCESS; }
if wait_for 10 login_frank; then ok "frank logs in through PAM on host B ($WAITED ms)"; else not_ok "frank logs in on host B"; fi

# ---- a token made on host B logs in on host A; revoked on host B, refused on A
run rb --json token generate --description "ci"
check "alice makes a token with the tool on host B" test "$st" = 0
TOKEN=$(json 'd["token"]'); TID=$(json 'd["id"]')
token_a() { pda -a "$TOKEN" alice auth=SUCCESS acct=SUCCESS; }
if wait_for 10 token_a; then ok "the token logs alice in on host A ($WAITED ms)"; else not_ok "the token on host A"; fi
expect 0 "alice revokes it with the tool on host B" rb token revoke "$TID"
token_refused() { ! token_a; }
if wait_for 10 token_refused; then ok "the revocation refuses the token's next login on host A ($WAITED ms)"; else not_ok "the revocation reaches host A"; fi

# ---- a deactivation on host A refuses frank's next login on host B
expect 0 "alice deactivates frank with the tool on host A" ra member deactivate frank
frank_refused() { ! login_frank; }
if wait_for 10 frank_refused; then ok "the deactivation refuses frank's next login on host B ($WAITED ms)"; else not_ok "the deactivation reaches host B"; fi
expect 0 "... activated again on host B" rb member activate frank
if wait_for 10 login_frank; then ok "... and frank logs in on host B again ($WAITED ms)"; else not_ok "activation on host B"; fi

# ---- a change of several deletes: an invitation withdrawn on host B
expect 0 "alice invites kim on host A" ra member invite kim@example.com --role developer
wait_for 10 nb getent passwd kim
expect 0 "... and withdraws the invitation on host B (the member deleted, the invitation changed)" \
	rb member withdraw kim
check "... the member's entry is gone from the directory" not_in_dir "uid=kim,ou=members,$SUFFIX"
kim_gone_a() { ! "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SDA" member show kim >/dev/null 2>&1; }
if wait_for 10 kim_gone_a; then ok "... and from host A ($WAITED ms)"; else not_ok "the withdrawal reaches host A"; fi

# ---- the directory refuses: a wrong password, a member without the right
dumpA > "$TMP/a.before"
expect_err 3 "refused alice's password" "a wrong directory password: exit 3, said so" \
	ra_wrong member deactivate frank
check "... the directory was not changed (frank active there)" frank_active_in_dir
# the directory's role table ahead of host A's replica: the fleet's
# administrator takes "manage:40" (acting on developers) from the admin
# role's entry, so host A's rules let bob (admin) deactivate frank and the
# directory's ACLs refuse it
ADMIN_ROLE_DN=cn=$(printf admin | od -An -tx1 | tr -d ' \n'),ou=roles,$SUFFIX
may_mod() { printf 'dn: %s\nchangetype: modify\n%s: rcMay\nrcMay: manage:40\n' "$ADMIN_ROLE_DN" "$1" |
	as_admin ldapmodify >/dev/null; }
check "the administrator takes manage:40 from the admin role in the directory" may_mod delete
expect_err 3 "the directory refused the change .*Insufficient access" \
	"bob (admin: may deactivate here) is refused by the directory's ACLs: exit 3, its reason" \
	ra_bob member deactivate frank
check "... the directory was not changed" frank_active_in_dir
check "the administrator gives manage:40 back" may_mod add
dumpA > "$TMP/a.after"
check "... and host A's store is unchanged (a dump before and after)" cmp -s "$TMP/a.before" "$TMP/a.after"

# ---- a password changed through PAM on host B (chauthtok): made in the
# directory by the tool (bound as dave with his current password)
SD=$SDB pam_services "$TMP/pamdBx" "passwdb:tool=$ROLLCALL"
pbx() { "$PAM_WRAP" "$TMP/pamdBx" "$PAMDRIVE" -s passwdb "$@"; }
DOLD='dave password 12345' DNEW='dave new password 678'
dave_binds() { ldapwhoami -x -H "$URI" -D "uid=dave,ou=members,$SUFFIX" -w "$1" >/dev/null 2>&1; }
expect 0 "dave changes his password through PAM on host B (chauthtok, the current one asked)" \
	pbx -x -a "$DOLD" -a "$DOLD" -a "$DNEW" -a "$DNEW" dave auth=SUCCESS chauthtok=SUCCESS
check "... the directory takes the new password" dave_binds "$DNEW"
check "... and no longer the old one" sh -c "$(declare -f dave_binds); URI='$URI' SUFFIX='$SUFFIX'; ! dave_binds '$DOLD'"
dave_a() { pda -a "$DNEW" dave auth=SUCCESS acct=SUCCESS; }
if wait_for 10 dave_a; then ok "... dave logs in on host A with it ($WAITED ms)"; else not_ok "the new password on host A"; fi
expect 0 "... and on host B" pdb -a "$DNEW" dave auth=SUCCESS acct=SUCCESS
expect 0 "a wrong current password through PAM: not changed" \
	pbx -x -a "$DNEW" -a 'not his password' -a 'x new password 1' -a 'x new password 1' dave auth=SUCCESS chauthtok=AUTHTOK_ERR
check "... the directory still takes his password" dave_binds "$DNEW"
expect 0 "a new password with a line break in it through PAM: refused (never cut in two on the way)" \
	pbx -x -a "$DNEW" -a "$DNEW" -a $'x new password 1\nsecond line' -a $'x new password 1\nsecond line' \
	dave auth=SUCCESS chauthtok=AUTHTOK_ERR
check "... the directory still takes his password" dave_binds "$DNEW"

# ---- the provider stopped: exit 4, nothing changed anywhere
cp "$P/slapd.log" "$P/slapd.log.1"
provider_stop
dumpB() { SD=$SDB dump_store; }
dumpB > "$TMP/b.before"
expect 0 "the provider stopped: a password change through PAM on host B is refused (the directory unreachable)" \
	pbx -x -a "$DNEW" -a "$DNEW" -a "$DOLD" -a "$DOLD" dave auth=SUCCESS chauthtok=AUTHINFO_UNAVAIL
check "... saying so" grep -q 'unreachable' "$OUT"
dumpB > "$TMP/b.after"
check "... host B's membership is unchanged (a dump before and after)" cmp -s "$TMP/b.before" "$TMP/b.after"
dumpA > "$TMP/a.before"
snap_sum() { cat "$SDA/nss.snap" "$SDA"/nss.d/* 2>/dev/null | md5sum; }
snap_before=$(snap_sum)
expect_err 4 "the directory is unreachable \(ldap://127.0.0.1:$PORT/\): nothing was changed" \
	"the provider stopped: the tool's change exits 4, saying so" ra member invite gina@example.com --role developer
check "... no output on stdout (the change did not happen)" test ! -s "$OUT"
dumpA > "$TMP/a.after"
check "... host A's store is unchanged (a dump before and after)" cmp -s "$TMP/a.before" "$TMP/a.after"
check "... and its NSS snapshot was not published again" test "$(snap_sum)" = "$snap_before"
no_gina_audit() { "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SDA" audit --limit 5 >"$TMP/audit" 2>&1 && ! grep -q "| gina " "$TMP/audit"; }
check "... no audit record of it" no_gina_audit
for i in 1 2 3 4 5; do pda -a 'wrong password' frank auth=AUTH_ERR >/dev/null 2>&1; done
expect 0 "a host-state change (unlocking frank, locked by failures on host A) is made locally with the provider stopped" \
	ra member unlock frank
login_frank_a() { pda -a 'frank password 12345' frank auth=SUCCESS acct=SUCCESS; }
expect 0 "... frank logs in on host A again" login_frank_a
provider_start "$P" "$PORT" || { not_ok "slapd restarts"; done_testing; exit 1; }
wait_for 20 synced "$SDA"; wait_for 20 synced "$SDB"

# ---- two hosts inviting at the same moment: different uids (or a retry)
run ra member invite hana@example.com --role developer & pa=$!
rb member invite ivan@example.com --role developer >"$TMP/outb" 2>"$TMP/errb" & pb=$!
wait $pa; sa=$?; wait $pb; sb=$?
check "two hosts invite at once: both done, or one told to try again" \
	sh -c "[ $sa = 0 -o $sb = 0 ] && { [ $sa = 0 ] || grep -q 'try again' '$ERR'; } && { [ $sb = 0 ] || grep -q 'try again' '$TMP/errb'; }"
uid_on() { "$ROLLCALL" --json --config "$TMP/rollcall.conf" --state-dir "$1" member show "$2" 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])'; }
both_there() { [ -n "$(uid_on "$SDB" hana)" ] && [ -n "$(uid_on "$SDB" ivan)" ]; }
if [ $sa = 0 ] && [ $sb = 0 ]; then
	wait_for 10 both_there
	check "... with different uids ($(uid_on "$SDB" hana), $(uid_on "$SDB" ivan))" \
		test "$(uid_on "$SDB" hana)" != "$(uid_on "$SDB" ivan)"
else
	ok "... one of them was told to try again (exits $sa, $sb)"
fi

# ---- a change another host's entry contradicts: the invitation's entry
# exists already (made in the directory while host A's rollcalld is
# stopped): the member's and the counter's operations are not made either
rollcalld_stop_pid() { RCD_PID=$1 rollcalld_stop; }
rollcalld_stop_pid "$RCD_A"
as_admin ldapadd >/dev/null <<EOF
dn: uid=jane,ou=invitations,$SUFFIX
objectClass: rcInvitation
objectClass: rcReplicated
uid: jane
mail: jane@example.com
rcDb: invitation
rcKey: jane
rcRecord: x
EOF
before=$(next_id)
dumpA > "$TMP/a.before"
expect_err 1 "changed meanwhile.*try again" "an invitation whose entry exists already: refused (exit 1, try again)" \
	ra member invite jane@example.com --role developer
check "... the member's entry was not added either" \
	not_in_dir "uid=jane,ou=members,$SUFFIX"
check "... nor the id counter moved" test "$(next_id)" = "$before"
dumpA > "$TMP/a.after"
check "... and host A's store is unchanged" cmp -s "$TMP/a.before" "$TMP/a.after"

# ---- compare-and-swap, deterministic: host A's replica is behind (its
# rollcalld still stopped) when host B invites; host A's invitation, made
# from its stale id counter, is refused and leaves nothing
expect 0 "host B invites lena (the directory's @next_id moves; host A does not see it)" \
	rb member invite lena@example.com --role developer
before=$(next_id)
dumpA > "$TMP/a.before"
expect_err 1 "changed meanwhile.*try again" \
	"host A's invitation from its stale id counter is refused (exit 1, try again)" \
	ra member invite mona@example.com --role developer
check "... nothing of it in the directory" not_in_dir "uid=mona,ou=members,$SUFFIX"
check "... the counter is still host B's" test "$(next_id)" = "$before"
dumpA > "$TMP/a.after"
check "... host A's store unchanged" cmp -s "$TMP/a.before" "$TMP/a.after"

# ---- a command run again after a conflict reads the same standard input:
# host A (its replica still behind) imports from stdin; the directory
# refuses its stale id counter (an LDAP compare false); rollcalld then
# brings host B's change and the import runs again, from the same input
printf 'email,role\nolga@example.com,developer\npaul@example.com,developer\n' > "$TMP/imp.csv"
cmp_false() { grep -c 'RESULT tag=111 err=5 ' "$P/slapd.log"; }
nf=$(cmp_false)
ra member import - < "$TMP/imp.csv" > "$TMP/outi" 2> "$TMP/erri" & pi=$!
refused_once() { [ "$(cmp_false)" -gt "$nf" ]; }
if wait_for 10 refused_once; then ok "member import - on host A: the directory finds its counter stale"
else not_ok "the stale counter's compare (slapd log: $(tail -n 2 "$P/slapd.log" | tr '\n' ' '))"; fi
rollcalld_start "$SDA"
wait $pi; si=$?
check "... once rollcalld brought host B's change, the import ran again from the same standard input (exit $si: $(tr '\n' ' ' < "$TMP/erri"))" \
	sh -c "test $si = 0 && grep -q '2 members invited' '$TMP/outi'"
check "... both of its members are in the directory" \
	both_in_dir "uid=olga,ou=members,$SUFFIX" "uid=paul,ou=members,$SUFFIX"
wait_for 20 synced "$SDA"
expect 0 "host A's rollcalld running again: the same invitation is made" \
	ra member invite mona@example.com --role developer
mona_lena() { [ -n "$(uid_on "$SDB" mona)" ] && [ -n "$(uid_on "$SDB" lena)" ]; }
wait_for 10 mona_lena
check "... with a uid of its own ($(uid_on "$SDB" mona), lena $(uid_on "$SDB" lena))" \
	test "$(uid_on "$SDB" mona)" != "$(uid_on "$SDB" lena)"

# ---- all or nothing: slapd killed (SIGKILL) in the middle of an
# invitation's transaction, its member, invitation and counter operations
# sent and the end not: none of them is in the directory after a restart
if grep -q '^#define RC_DEBUG_CHECKS 1' "$top_builddir/config.h" 2>/dev/null; then
	before=$(next_id)
	: > "$TMP/pause"
	ROLLCALL_TEST_TXN_PAUSE=$TMP/pause ra member invite nina@example.com --role developer \
		>"$TMP/outn" 2>"$TMP/errn" & pn=$!
	paused() { [ "$(grep -c 'ADD dn="uid=nina,' "$P/slapd.log")" -ge 2 ]; }
	if wait_for 10 paused; then ok "the tool sent nina's operations and waits before the end"
	else not_ok "the tool's operations reach slapd (log: $(tail -n 2 "$P/slapd.log" | tr '\n' ' '))"; fi
	kill -KILL -- "-$SLAPD_PID"
	rm -f "$TMP/pause"
	wait $pn; sn=$?
	check "slapd killed mid-way: the tool exits 4 (the directory went away)" \
		sh -c "test $sn = 4 && grep -q 'the directory went away' '$TMP/errn'"
	bg_stop "$SLAPD_PID"
	provider_start "$P" "$PORT" || { not_ok "slapd restarts"; done_testing; exit 1; }
	check "... after a restart: no member entry of nina" not_in_dir "uid=nina,ou=members,$SUFFIX"
	check "... no invitation entry" not_in_dir "uid=nina,ou=invitations,$SUFFIX"
	check "... and the id counter unchanged" test "$(next_id)" = "$before"
else
	ok "# SKIP the mid-transaction kill needs a build with --enable-debug-checks"
fi
done_testing
