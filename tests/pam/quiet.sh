#!/bin/bash
# A login writes only what it must, and never the NSS snapshot (issue 14,
# item 7): on a store of 10,000 members (bench_nss populate; QUIET_MEMBERS),
# a failed password login, a successful one, a TOTP-less token login whose
# use is written back (61 s later, libfaketime) and a session opened and
# closed leave nss.snap as it was: the same inode, the same generation
# inside; a change NSS shows (a new member) still publishes a new one.
# And a failed login of a known user does the work an unknown user's does
# (as many commits, argon2id at the store's memory limit) at that size:
# before, each of the known user's failures rebuilt the snapshot (+0.36 s
# at 100k members), a timing oracle for user names.  pam_wrapper and
# pamdrive.
. "$(dirname "$0")/../lib.sh"
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}" "${top_builddir:?}"
N=${QUIET_MEMBERS:-10000}
POP=$top_builddir/bench/bench_nss
for tool in mdb_dump mdb_stat python3; do
	command -v $tool >/dev/null || { echo "1..1"; echo "not ok 1 - $tool is missing"; exit 1; }
done
[ -x "$POP" ] || { echo "1..1"; echo "not ok 1 - $POP is not built (make check builds it)"; exit 1; }
"$AT_TIME" --check || { echo "1..1"; echo "not ok 1 - libfaketime is needed (scripts/deps.sh)"; exit 1; }

"$POP" populate "$TMP/pop" "$N" > "$TMP/populate.log" 2>&1 ||
	{ echo "1..1"; echo "not ok 1 - bench_nss populate: $(tail -2 "$TMP/populate.log")"; exit 1; }
SD=$TMP/pop/state
printf 'id_min = 1000000\nid_max = 3999999\n' > "$TMP/rollcall.conf"   # bench_nss's range
pam_services "$PAMD" rc rc-session:session_token

rc settings set argon2.memlimit_kib 65536 >/dev/null   # the hashes and the dummy's
invite_accept alice developer
invite_accept kim read-only
rc settings set lockout.attempts 1000000 >/dev/null   # counted, never locked
check "set-up: $N members and more ($(rc --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["members"])'))" \
	test "$(rc --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["members"])')" -gt "$N"
pd -s rc-session -a 'alice password 12345' alice auth=SUCCESS open=SUCCESS env=SUCCESS >"$OUT" 2>&1
TOK=$(sed -n 's/^env: ROLLCALL_TOKEN=//p' "$OUT")
TOKID=$(printf '%s\n' "$TOK" | sed -n 's/^rct_\([a-z2-7]*\)_.*/\1/p')
check "set-up: a session token for alice" test -n "$TOKID"

# the snapshot's inode and the generation written in it
snap() {
	printf '%s ' "$(stat -c %i "$SD/nss.snap")"
	# the manifest: a 32-byte header, then the generation (8 bytes, little-endian)
	python3 -c 'import sys; print(int.from_bytes(open(sys.argv[1], "rb").read()[32:40], "little"))' "$SD/nss.snap"
}
same_snapshot() {   # same_snapshot DESC: nss.snap is the one of before
	local now; now=$(snap)
	if [ "$now" = "$before" ]; then ok "$1"; else not_ok "$1 (inode and generation $before, now $now)"; fi
}
before=$(snap)
check "the snapshot has a generation" sh -c "echo '$before' | grep -Eq '^[0-9]+ [0-9]+$'"
expect 0 "a failed password login" pd -s rc -a 'not the password' alice auth=AUTH_ERR
same_snapshot "... leaves nss.snap untouched (inode and generation)"
expect 0 "a successful password login with account and session" pd -s rc -a 'alice password 12345' alice auth=SUCCESS acct=SUCCESS open=SUCCESS close=SUCCESS
same_snapshot "... leaves nss.snap untouched"
expect 0 "a token login 61 s later (its use written back)" pd_at 61s -s rc -a "$TOK" alice auth=SUCCESS acct=SUCCESS
check "... the use was written" sh -c "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' --json token list --member alice | grep -q '\"last_used\": *\"2'"
same_snapshot "... leaves nss.snap untouched"
expect 0 "a session opened and closed with a session token" pd -s rc-session -a 'alice password 12345' alice auth=SUCCESS open=SUCCESS close=SUCCESS
same_snapshot "... leaves nss.snap untouched"
rc member set-role kim developer >/dev/null
now=$(snap)
check "a change NSS shows (a role) publishes a new snapshot" test "$now" != "$before"

# ---- a known user's failed login does what an unknown user's does: as many
# commits, and argon2id at the store's memory limit (their times side by
# side are bench/pam.sh's: never a timed test)
txn() { mdb_stat -e "$SD/store" | sed -n 's/^ *Last transaction ID: *//p'; }
t0=$(txn)
pd -m -s rc -a 'wrong password' kim auth=AUTH_ERR > "$TMP/known" 2>&1
t1=$(txn)
pd -m -s rc -a 'wrong password' nosuchuser auth=USER_UNKNOWN > "$TMP/unknown" 2>&1
t2=$(txn)
check "at $N members a known user's failed login commits as often as an unknown user's ($((t1 - t0)) and $((t2 - t1)))" \
	test "$((t1 - t0))" = "$((t2 - t1))" -a "$((t1 - t0))" -gt 0
krss=$(sed -n 's/^maxrss_kb: //p' "$TMP/known"); urss=$(sed -n 's/^maxrss_kb: //p' "$TMP/unknown")
check "... and both run argon2id at 64 MiB (peak memory ${krss:-?} and ${urss:-?} KiB)" \
	test "${krss:-0}" -ge 65536 -a "${urss:-0}" -ge 65536
done_testing
