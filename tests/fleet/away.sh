#!/bin/bash
# A host away for a week (issue 19, "Away and back"): host 1 follows a
# provider of the test's own, then its rollcalld stops (the host is off the
# network) while thousands of changes are made in the directory -- adds,
# role changes, deactivations and deletes.  Meanwhile its logins follow the
# last state it had.  Back with its clock a week later (tests/at-time.sh),
# it catches up exactly (its records equal the directory's, entry by
# entry):
#   - incrementally, from its stored cookie, when the provider's session log
#     (10000 changes) covers the gap;
#   - by the present phase when it does not (the provider restarted
#     meanwhile: its session log is gone), deletes included;
# and the member deactivated or deleted meanwhile is refused there from
# then on.  The directory restored from a backup meanwhile (new entryUUIDs):
# a full reload, since entries the provider calls unchanged since the
# host's cookie never come.  Catch-up times are printed ("# figure:"), never asserted.
. "$(dirname "$0")/lib.sh"
require_fleet
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}" "${NSS_MODULE:?}"
"$AT_TIME" --check 2>/dev/null || { echo "1..1"; echo "not ok 1 - at-time.sh needs libfaketime (package faketime)"; exit 1; }
W=${AWAY_MEMBERS:-1500}     # members imported at first; as many added while away

# ---- the records: a store of the test's (host 0, no fleet)
init_store
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
invite_accept bob developer
invite_accept carol developer
invite_accept dave developer
invite_accept erin developer
csv() { local p=$1 n=$2 i; echo 'email,role'; for i in $(seq 1 "$n"); do echo "$p$i@example.com,developer"; done; }
csv w "$W" > "$TMP/w.csv"
expect 0 "$W members imported in the test's store" rc member import "$TMP/w.csv"
rc fleet export --suffix "$SUFFIX" --out "$TMP/export.ldif" >/dev/null
P=$TMP/provider
provider_make "$P" "$TMP/export.ldif" || { not_ok "provider set-up"; done_testing; exit 1; }
provider_start "$P" || { not_ok "slapd starts"; done_testing; exit 1; }
ok "a slapd of the test's own answers on $URI"

# ---- host 1 joins and follows
H=$TMP/host1
host_join "$H" h1 || { not_ok "host 1 joins"; done_testing; exit 1; }
rollcalld_start "$H"
if wait_for 60 synced "$H"; then ok "host 1 joined and synced"; else not_ok "host 1 synced"; fi
SD=$H pam_services "$TMP/pamd1" login
p1() { "$PAM_WRAP" "$TMP/pamd1" "$PAMDRIVE" -s login "$@"; }
in1() { p1 -a "$1 password 12345" "$1" auth=SUCCESS acct=SUCCESS; }
out1() { ! in1 "$1"; }
same_as_dir() { [ "$(host_records "$H")" = "$(dir_records)" ]; }
check "host 1's records equal the directory's" same_as_dir
role1() { "$ROLLCALL" --json --config "$TMP/rollcall.conf" --state-dir "$H" member show "$1" 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["role"])'; }
gone1() { ! "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$H" member show "$1" >/dev/null 2>&1; }

# away ROUND: the changes made while host 1 is away: $W members added
# (ROUND's letter), the roles of w1..w$RW changed, w$((W-ND+1))..w$W deleted,
# a member deactivated (DEACT) and one deleted (DEL)
away_changes() {
	local adds=$1 role=$2 from=$3 to=$4 dfrom=$5 dto=$6 deact=$7 del=$8 i dns=
	csv "$adds" "$W" > "$TMP/$adds.csv"
	rc member import "$TMP/$adds.csv" >/dev/null || return 1
	for i in $(seq "$from" "$to"); do rc member set-role "w$i" "$role" >/dev/null || return 1; done
	rc member deactivate "$deact" >/dev/null || return 1
	rc fleet export --suffix "$SUFFIX" --out "$TMP/$adds.ldif" >/dev/null || return 1
	awk -v re="^dn: uid=$adds[0-9]+,ou=(members|invitations)," 'BEGIN { RS = ""; ORS = "\n\n" } $0 ~ re' \
		"$TMP/$adds.ldif" > "$TMP/$adds.add.ldif"
	for i in $(seq "$from" "$to"); do dns="$dns uid=w$i,ou=members,$SUFFIX uid=w$i,ou=invitations,$SUFFIX"; done
	# shellcheck disable=SC2086
	modifies_of "$TMP/$adds.ldif" $dns "uid=$deact,ou=members,$SUFFIX" > "$TMP/$adds.mod.ldif"
	as_admin ldapadd -f "$TMP/$adds.add.ldif" >/dev/null || return 1
	as_admin ldapmodify -f "$TMP/$adds.mod.ldif" >/dev/null || return 1
	{ for i in $(seq "$dfrom" "$dto"); do echo "uid=w$i,ou=members,$SUFFIX"; echo "uid=w$i,ou=invitations,$SUFFIX"; done
	  echo "uid=$del,ou=members,$SUFFIX"; } > "$TMP/$adds.del"
	as_admin ldapdelete -f "$TMP/$adds.del" >/dev/null || return 1
	CHANGES=$(( $(grep -c '^dn: ' "$TMP/$adds.add.ldif") + $(grep -c '^dn: ' "$TMP/$adds.mod.ldif") + $(wc -l < "$TMP/$adds.del") ))
}

# back_after SHIFT LOG WHAT FIGURE: rollcalld started again with its clock
# moved by SHIFT (log in LOG); the replica must equal the directory
back_after() {
	local t0
	t0=$(date +%s%N)
	bg_start "$2" "$AT_TIME" "$1" "$ROLLCALLD" -f --state-dir "$H" --config "$TMP/rollcall.conf" ||
		not_ok "rollcalld restarts"
	RCD_PID=$BGPID
	if wait_for 60 same_as_dir; then
		ok "$3: host 1 equals the directory record by record ($WAITED ms)"
		echo "# figure: $4, $CHANGES changes: rollcalld started -> replica equal to the directory: $((($(date +%s%N) - t0) / 1000000)) ms"
	else
		not_ok "$3: host 1 catches up"
		diff <(host_records "$H") <(dir_records) | cut -c1-100 | head -10 | sed 's/^/# /'
	fi
}

# ---- round 1: away for a week; the session log covers the gap
expect 0 "bob logs in on host 1" in1 bob
rollcalld_stop
RW=$((W / 2)) ND=$((W / 5))
if away_changes x read-only 1 "$RW" $((W - ND + 1)) "$W" bob carol; then
	ok "host 1 away: $CHANGES changes in the directory ($W adds, $RW role changes, bob deactivated, $ND members and carol deleted)"
else
	not_ok "the changes while host 1 is away"
fi
differs() { ! same_as_dir; }
check "... host 1 differs from the directory meanwhile" differs
expect 0 "... and its logins follow the last state it had: bob (deactivated meanwhile) logs in there" in1 bob
expect 0 "... and carol (deleted meanwhile)" in1 carol
back_after "${AWAY_SHIFT1:-+7d}" "$H.log2" "back a week later (rollcalld's clock +7 days)" "a week away"
check "... incrementally: from its stored cookie, no present phase" \
	sh -c "grep -q 'resuming from the stored cookie' '$H.log2' && ! grep -q 'present phase' '$H.log2'"
expect 0 "... bob (deactivated) is refused on host 1 now" out1 bob
expect 0 "... carol (deleted) too" out1 carol
check "... w1's new role is there" test "$(role1 w1)" = read-only
check "... w$W (deleted) is gone" gone1 "w$W"
check "... x$W (added) is there" test "$(role1 "x$W")" = developer
echo "# $(dir_records | wc -l) records compared"

# ---- round 2: away again; the provider restarts meanwhile (its session
# log gone): the present phase
rollcalld_stop
W2=$((W - ND))
if away_changes y admin $((RW + 1)) $((RW + ND)) $((W2 - ND + 1)) "$W2" dave erin; then
	ok "host 1 away again: $CHANGES changes"
else
	not_ok "the changes while host 1 is away again"
fi
provider_stop
provider_start "$P" "$PORT" || { not_ok "slapd restarts"; done_testing; exit 1; }
ok "... and the provider restarted meanwhile (its session log is gone)"
expect 0 "... dave, deactivated meanwhile, still logs in on host 1" in1 dave
expect 0 "... and erin, deleted meanwhile" in1 erin
back_after +14d "$H.log3" "back another week later" "a second week away, provider restarted"
check "... by the present phase (rollcalld said so)" grep -q 'present phase: [0-9]* records' "$H.log3"
expect 0 "... dave (deactivated) is refused on host 1 now" out1 dave
expect 0 "... erin (deleted) too" out1 erin
check "... w$W2 (deleted) is gone" gone1 "w$W2"
check "... y1 (added) is there" test "$(role1 y1)" = developer
check "... w$((RW + 1)) is an admin" test "$(role1 "w$((RW + 1))")" = admin

# ---- round 3: the directory restored from a backup while host 1 is away
# (slapcat, then slapadd without the entryUUIDs: the same entries and CSNs
# under new UUIDs), and a change made since.  Its present phase names
# entries this host never had, which never come whole (unchanged since the
# cookie): rollcalld cannot trust its cookie and reloads.
rollcalld_stop
provider_stop
slapcat -F "$P/slapd.d" -b "$SUFFIX" -l "$TMP/backup.ldif" 2>/dev/null
grep -v '^entryUUID:' "$TMP/backup.ldif" > "$TMP/restore.ldif"
rm -f "$P/db/"*.mdb
if slapadd -q -F "$P/slapd.d" -b "$SUFFIX" -l "$TMP/restore.ldif" 2>"$TMP/slapadd.err" &&
   provider_start "$P" "$PORT"; then
	ok "the directory restored from a backup (new entryUUIDs) while host 1 is away"
	expect 0 "... and a change made since (x2 deleted)" as_admin ldapdelete "uid=x2,ou=members,$SUFFIX"
	provider_stop
	provider_start "$P" "$PORT" || { not_ok "slapd restarts"; done_testing; exit 1; }
	ok "... and the provider restarted (no session log to play)"
else
	not_ok "the directory restored ($(head -c 200 "$TMP/slapadd.err"))"; done_testing; exit 1
fi
bg_start "$H.log4" "$AT_TIME" +21d "$ROLLCALLD" -f --state-dir "$H" --config "$TMP/rollcall.conf" || not_ok "rollcalld restarts"
RCD_PID=$BGPID
reloaded() { grep -q 'full refresh' "$H.log4" && same_as_dir; }
if wait_for 60 reloaded; then ok "host 1 back: equal to the directory again ($WAITED ms)"
else not_ok "host 1 equal to the restored directory"; fi
check "... by a full reload: the entries the provider called unchanged never came" \
	grep -q 'entries this host never had as unchanged since its cookie.*a full reload follows' "$H.log4"
done_testing
