#!/bin/bash
# pam_rollcall.so through the real Linux-PAM library: pam_wrapper reads the
# service files of this test, and pamdrive (libpamtest, a scripted
# conversation on one handle) runs auth, acct, chauthtok and sessions.
# TOTP codes come from oathtool, an independent implementation.  Times are
# real; expiry is reached with libfaketime.  No root needed.
. "$(dirname "$0")/../lib.sh"
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}"
for tool in oathtool mdb_dump mdb_stat; do
	command -v $tool >/dev/null || { echo "1..1"; echo "not ok 1 - $tool is missing"; exit 1; }
done
[ -r "$PAM_WRAPPER_LIB" ] || { echo "1..1"; echo "not ok 1 - no pam_wrapper at $PAM_WRAPPER_LIB"; exit 1; }

# Exactly the PAM service functions are exported (the version script).
got=$(nm -D --defined-only "$PAM_MODULE" | awk '$2 ~ /^[TDBRWV]$/ {print $3}' | sort | tr '\n' ' ' | sed 's/ $//')
want="pam_sm_acct_mgmt pam_sm_authenticate pam_sm_chauthtok pam_sm_close_session pam_sm_open_session pam_sm_setcred"
if [ "$got" = "$want" ]; then ok "pam_rollcall.so exports only pam_sm_*"; else echo "# got: $got"; not_ok "pam_rollcall.so exports only pam_sm_*"; fi

# (pam_service, pd and pd_at: tests/pam/lib.sh)
pam_service rollcall-test
pam_service rc-session session_token
pam_service rc-notokens tokens=deny
pam_service rc-mfa totp=required
pam_service rc-optional totp=optional
pam_service rc-admins roles=owner,admin
pam_service rc-audit permission=audit
pam_service rc-badopt frobnicate=1
pam_service rc-nostore
sed -i "s#state_dir=$SD#state_dir=$TMP/missing#" "$PAMD/rc-nostore"

# drive DESC ARGS...: pamdrive returns what every OP=EXPECT says
drive() { local desc=$1; shift; run pd "$@"; if [ "$st" = 0 ]; then ok "$desc"; else not_ok "$desc"; fi; }

rc --json init --owner alice@example.com >"$OUT" 2>"$ERR"
CODE=$(json 'd["code"]')
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
PW='alice password 1'

# ---- the invitation: code -> new password -> active -> password login
drive "unknown user is PAM_USER_UNKNOWN (the rest of the stack goes on)" -a whatever nosuchuser auth=USER_UNKNOWN
drive "root is PAM_USER_UNKNOWN too" -a whatever root auth=USER_UNKNOWN
drive "a pending member with a wrong code is refused" -a AAAAA-AAAAA-AAAAA-AAAAA alice auth=AUTH_ERR
drive "a pending member cannot pass account without its code" -a "$CODE" alice acct=ACCT_EXPIRED
drive "invitation code: auth ok, acct asks for a new password, chauthtok sets it" \
	-a "$CODE" -a "$PW" -a "$PW" alice auth=SUCCESS acct=NEW_AUTHTOK_REQD chauthtok=SUCCESS
expect_out 0 'alice.*active' "the member is active" rc member list
check "the invitation is accepted" audit_has 'member.accept'
drive "the code no longer works" -a "$CODE" alice auth=AUTH_ERR
drive "the password works, and acct passes" -a "$PW" alice auth=SUCCESS acct=SUCCESS
check "the login is audited with its PAM service" audit_has 'login +\| alice +\| ok via password +\| pam:rollcall-test'
expect_out 0 'alice' "last active is recorded" sh -c "$ROLLCALL --config $TMP/rollcall.conf --state-dir $SD --json member show alice | grep -v '\"last_active\":null'"

# the same invitation flow for a second member, with a short policy check
BCODE=$(rc --json member invite bob@example.com --role developer | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
drive "a new password that breaks the policy is refused (PAM_AUTHTOK_ERR)" \
	-a "$BCODE" -a short -a short bob auth=SUCCESS acct=NEW_AUTHTOK_REQD chauthtok=AUTHTOK_ERR
check "... and says why" grep -q 'too short' "$OUT"
expect_out 0 'bob.*pending' "... and bob stays pending" rc member list
drive "the password equal to the email address is refused" \
	-a "$BCODE" -a bob@example.com -a bob@example.com bob auth=SUCCESS acct=NEW_AUTHTOK_REQD chauthtok=AUTHTOK_ERR
drive "a new password that starts like a token is refused" \
	-a "$BCODE" -a 'rct_bob password 1' -a 'rct_bob password 1' bob auth=SUCCESS acct=NEW_AUTHTOK_REQD chauthtok=AUTHTOK_ERR
check "... and says why" grep -q 'taken for a token' "$OUT"
run pd_at 2d -a "$BCODE" bob auth=AUTH_ERR
if [ "$st" = 0 ]; then ok "an expired invitation code is refused (2 days later)"; else not_ok "an expired invitation code is refused"; fi
rc member withdraw bob >/dev/null
drive "a withdrawn invitation's code is refused (the member is gone)" -a "$BCODE" bob auth=USER_UNKNOWN

# ---- passwords
drive "wrong password" -a 'wrong password' alice auth=AUTH_ERR
drive "empty password" -a '' alice auth=AUTH_ERR
drive "a 1024-byte wrong password is refused" -a "$(head -c 1024 /dev/zero | tr '\0' x)" alice auth=AUTH_ERR
drive "a 1025-byte password is refused without hashing" -a "$(head -c 1025 /dev/zero | tr '\0' x)" alice auth=AUTH_ERR
drive "a 1025-byte password for an unknown user: USER_UNKNOWN" -a "$(head -c 1025 /dev/zero | tr '\0' x)" nosuchuser auth=USER_UNKNOWN
drive "user name with a colon" -a "$PW" 'ali:ce' auth=USER_UNKNOWN
drive "user name with a newline" -a "$PW" "$(printf 'ali\nce')" auth=USER_UNKNOWN
drive "user name of 600 bytes" -a "$PW" "$(head -c 600 /dev/zero | tr '\0' a)" auth=USER_UNKNOWN
check "failures are audited" audit_has 'failed: wrong password' 10

# a login writes no membership: when the argon2 limits change, the hash
# stays as it is until the next password change (docs/hoststate.md)
check "the stored hash has t=1" sh -c "mdb_dump -p -s members '$SD/store' | grep -q 't=1,'"
rc settings set argon2.opslimit 2 >/dev/null
drive "login after the limits changed" -a "$PW" alice auth=SUCCESS
check "... does not rehash the password (a login writes no membership)" \
	sh -c "mdb_dump -p -s members '$SD/store' | grep -q 't=1,'"
drive "... which still works" -a "$PW" alice auth=SUCCESS
rc settings set argon2.opslimit 1 >/dev/null

# ---- lockout
rc settings set lockout.attempts 3 >/dev/null
rc settings set lockout.duration 15m >/dev/null
for i in 1 2 3; do pd -a nope alice auth=AUTH_ERR >/dev/null; done
drive "after 3 failures the right password is refused" -a "$PW" alice auth=MAXTRIES
check "... with a message" grep -q 'locked' "$OUT"
check "the lock is audited" audit_has 'locked' 10
drive "account refuses a locked member too" -a "$PW" alice acct=PERM_DENIED
expect_out 0 'alice unlocked' "member unlock of a locked member" rc member unlock alice
expect_err 1 'alice is not locked \(0 failed' "... a second unlock says it is not locked (exit 1)" rc member unlock alice
drive "member unlock lets it in again" -a "$PW" alice auth=SUCCESS
for i in 1 2 3; do pd -a nope alice auth=AUTH_ERR >/dev/null; done
drive "locked again" -a "$PW" alice auth=MAXTRIES
# (injected times: libfaketime through pd_at)
run pd_at 14m -a "$PW" alice auth=MAXTRIES
if [ "$st" = 0 ]; then ok "... still 14 minutes later (lockout.duration 15m)"; else not_ok "... still 14 minutes later (lockout.duration 15m)"; fi
run pd_at 16m -a "$PW" alice auth=SUCCESS
if [ "$st" = 0 ]; then ok "the lock runs out after lockout.duration (16 minutes later)"; else not_ok "the lock runs out after lockout.duration (16 minutes later)"; fi
rc settings set lockout.duration 3s >/dev/null
rc settings set lockout.attempts 20 >/dev/null   # the checks below fail on purpose

# ---- two-factor: enrollment forced by totp=required, then TOTP logins
drive "totp=required: an application that cannot answer the enrollment is refused" \
	-s rc-mfa -a "$PW" -a @fail alice auth=AUTH_ERR
drive "totp=required: enrollment shown during login, answered with oathtool's code" \
	-a "$PW" -a @enroll -s rc-mfa alice auth=SUCCESS acct=SUCCESS
KEY=$(sed -n 's/.*Key: \([A-Z2-7]*\).*/\1/p' "$OUT" | head -1)
check "the enrollment showed a key" test -n "$KEY"
check "... the otpauth URI" grep -q "otpauth://totp/.*secret=$KEY" "$OUT"
check "... a QR code" grep -q "$(printf '\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88')" "$OUT"
check "... and ten recovery codes" sh -c "grep -Eo '[0-9A-Z]{5}-[0-9A-Z]{5}' '$OUT' | sort -u | wc -l | grep -qx 10"
RECOVERY=$(grep -Eo '[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}' "$OUT" | head -2)
REC1=$(echo "$RECOVERY" | sed -n 1p); REC2=$(echo "$RECOVERY" | sed -n 2p)
expect_out 0 'alice.*two-factor' "member list shows the auth method two-factor" rc member list
drive "password alone is not enough now" -a "$PW" alice auth=AUTH_ERR
check "... it asked for a verification code" grep -q 'prompt: Verification code' "$OUT"
# Skew and replay at injected times: each check runs at BASE + OFF
# (libfaketime starts the clock there) with a code oathtool computes for
# BASE + OFF + SKEW.  BASE is a second into the current 30-second step and
# OFF grows by whole minutes, so every check uses fresh time steps and none
# straddles a step boundary.
BASE=$(( $(date +%s) / 30 * 30 + 1 ))
OFF=120
code_at() { oathtool --totp -b "$KEY" --now="@$((BASE + $1))"; }
totp() {   # totp DESC EXPECT SKEW [SAME]: password + code at BASE+OFF
	local desc=$1 want=$2 skew=$3
	[ -z "${4:-}" ] && OFF=$((OFF + 120))
	run pd_at "@$((BASE + OFF))" -a "$PW" -a "$(code_at $((OFF + skew)))" alice auth="$want"
	if [ "$st" = 0 ]; then ok "$desc"; else not_ok "$desc"; fi
}
totp "password + current code" SUCCESS 0
totp "the same code again is refused (each code once)" AUTH_ERR 0 same
check "... and the audit says so" audit_has 'already used' 3
totp "a code one step ahead is accepted" SUCCESS 30
totp "a code one step back is accepted" SUCCESS -30
totp "a code two steps ahead is refused" AUTH_ERR 60
totp "a code two steps back is refused" AUTH_ERR -60
totp "a code from an hour ago is refused" AUTH_ERR -3600
OFF=$((OFF + 120))
drive "a code with letters is refused" -a "$PW" -a 12a456 alice auth=AUTH_ERR
drive "a 7-digit code is refused" -a "$PW" -a 1234567 alice auth=AUTH_ERR
drive "an empty code is refused" -a "$PW" -a '' alice auth=AUTH_ERR
check "... saying what a code is" audit_has '6 digits' 3
drive "a recovery code works in place of a code" -a "$PW" -a "$REC1" alice auth=SUCCESS
drive "... once" -a "$PW" -a "$REC1" alice auth=AUTH_ERR
drive "another recovery code, in lower case without the dash" -a "$PW" -a "$(echo "$REC2" | tr -d - | tr A-Z a-z)" alice auth=SUCCESS
drive "a made-up recovery code is refused" -a "$PW" -a 00000-00000 alice auth=AUTH_ERR
totp "a code at a later time still works" SUCCESS 0

# ---- session tokens (login tokens), with dave (password only)
invite_accept dave developer
DPW='dave password 12345'
drive "session_token: open exports ROLLCALL_TOKEN" -s rc-session -a "$DPW" dave auth=SUCCESS open=SUCCESS env=SUCCESS
TOKEN=$(sed -n 's/^env: ROLLCALL_TOKEN=//p' "$OUT")
check "the token has the rollcall form" sh -c "echo '$TOKEN' | grep -Eqx 'rct_[a-z2-7]{16}_[a-z2-7]{64}'"
drive "the token logs in by itself" -a "$TOKEN" dave auth=SUCCESS acct=SUCCESS
check "the token is audited as a token login" audit_has 'ok via token' 3
drive "tokens=deny refuses it" -s rc-notokens -a "$TOKEN" dave auth=AUTH_ERR
drive "the token of another member is refused" -a "$TOKEN" alice auth=AUTH_ERR
check "... as belonging to another user" audit_has 'another user' 2
BADSUM=$(echo "$TOKEN" | sed 's/.$/a/'); [ "$BADSUM" = "$TOKEN" ] && BADSUM=$(echo "$TOKEN" | sed 's/.$/b/')
drive "a wrong checksum is refused" -a "$BADSUM" dave auth=AUTH_ERR
check "... as a checksum error, without a lookup" audit_has 'checksum' 2
python3 - "$TOKEN" > "$TMP/tok" <<'PYEOF'
import hashlib, base64, sys
t = sys.argv[1]
def with_check(head):
    h = hashlib.blake2b(head.encode(), digest_size=32).digest()[:5]
    return head + base64.b32encode(h).decode().lower()
idpart, secret = t[4:20], t[21:77]
other_id = ''.join('a' if c != 'a' else 'b' for c in idpart)
other_secret = ('b' if secret[0] != 'b' else 'c') + secret[1:]
print(with_check("rct_" + other_id + "_" + secret))
print(with_check("rct_" + idpart + "_" + other_secret))
PYEOF
drive "an unknown id (valid checksum) is refused" -a "$(sed -n 1p "$TMP/tok")" dave auth=AUTH_ERR
check "... as an unknown token" audit_has 'unknown or revoked token' 2
drive "a wrong secret (valid checksum) is refused" -a "$(sed -n 2p "$TMP/tok")" dave auth=AUTH_ERR
check "... as a wrong secret" audit_has 'wrong secret' 2
drive "close_session revokes the session token" -s rc-session -a "$DPW" dave auth=SUCCESS open=SUCCESS env=SUCCESS close=SUCCESS
T2=$(sed -n 's/^env: ROLLCALL_TOKEN=//p' "$OUT")
drive "... so it no longer logs in" -a "$T2" dave auth=AUTH_ERR
drive "the first token still works" -a "$TOKEN" dave auth=SUCCESS
rc settings set token.login_limit 2 >/dev/null
# (a few seconds later: tokens made in the same second have no order)
for i in 1 2; do pd_at "$((i + 2))" -s rc-session -a "$DPW" dave auth=SUCCESS open=SUCCESS >/dev/null; done
drive "past token.login_limit the oldest login token is evicted" -a "$TOKEN" dave auth=AUTH_ERR
check "two login tokens are left" sh -c "mdb_dump -s tokens '$SD/store' | grep -c '^ 75' | grep -qx 2"
rc settings set token.ttl 1m >/dev/null
pd -s rc-session -a "$DPW" dave auth=SUCCESS open=SUCCESS env=SUCCESS > "$OUT"
T3=$(sed -n 's/^env: ROLLCALL_TOKEN=//p' "$OUT")
run pd_at 30 -a "$T3" dave auth=SUCCESS
if [ "$st" = 0 ]; then ok "a token works within its ttl (30 s later)"; else not_ok "a token works within its ttl"; fi
run pd_at 120 -a "$T3" dave auth=AUTH_ERR
if [ "$st" = 0 ]; then ok "a token past its ttl is refused (2 minutes later)"; else not_ok "a token past its ttl is refused"; fi
check "... as expired" audit_has 'expired' 2
rc settings set token.ttl 30d >/dev/null
pd -s rc-session -a "$DPW" dave auth=SUCCESS open=SUCCESS env=SUCCESS > "$OUT"
T3=$(sed -n 's/^env: ROLLCALL_TOKEN=//p' "$OUT")

# ---- account: roles, permission, inactive, service users
drive "roles=owner,admin admits the owner" -s rc-admins alice acct=SUCCESS
drive "roles=owner,admin refuses a developer" -s rc-admins -a 'dave password 12345' dave auth=SUCCESS acct=PERM_DENIED
check "... saying why" grep -q "role developer is not admitted" "$OUT"
drive "permission=audit refuses a developer" -s rc-audit -a 'dave password 12345' dave auth=SUCCESS acct=PERM_DENIED
drive "permission=audit admits the owner" -s rc-audit alice acct=SUCCESS
rc member deactivate dave >/dev/null
drive "an inactive member is refused by account" -a 'dave password 12345' dave auth=SUCCESS acct=ACCT_EXPIRED
check "... with a message" grep -q 'deactivated' "$OUT"
rc member activate dave >/dev/null
drive "activated again, it is admitted" -a 'dave password 12345' dave auth=SUCCESS acct=SUCCESS

rc service create db1 >/dev/null
SVCPW=abcdefghijklmnopqrstuvwxyz012345
printf '%s\n' "$SVCPW" | rc service-user create db1 reporter --password-stdin >/dev/null
drive "a service user logs in with its password" -a "$SVCPW" reporter auth=SUCCESS acct=SUCCESS
rc service stop db1 >/dev/null
drive "a service user of a stopped service is refused" -a "$SVCPW" reporter auth=SUCCESS acct=ACCT_EXPIRED
check "... with the seed's message" grep -q 'service must be running' "$OUT"
rc service start db1 >/dev/null
drive "... and admitted once it runs" -a "$SVCPW" reporter auth=SUCCESS acct=SUCCESS
drive "roles= refuses service users" -s rc-admins -a "$SVCPW" reporter auth=SUCCESS acct=PERM_DENIED
NEWSVC=zyxwvutsrqponmlkjihgfedcba98765
drive "a service user changes its password (old one asked)" -x -a "$SVCPW" -a "$SVCPW" -a "$NEWSVC" -a "$NEWSVC" reporter auth=SUCCESS chauthtok=SUCCESS
check "... the current password was asked for" grep -q 'prompt: Current password' "$OUT"
drive "... which then works" -a "$NEWSVC" reporter auth=SUCCESS
expect_out 0 "$NEWSVC" "... and show-password shows it" rc service-user show-password db1 reporter
drive "a service-user password with a quote is refused" -x -a "$NEWSVC" -a "$NEWSVC" -a "abc'defghijklmnopqrstuvwxyz" -a "abc'defghijklmnopqrstuvwxyz" reporter auth=SUCCESS chauthtok=AUTHTOK_ERR
drive "a service-user password that starts like a token is refused" -x -a "$NEWSVC" -a "$NEWSVC" -a "rct_abcdefghijklmnopqrstuvwxyz" -a "rct_abcdefghijklmnopqrstuvwxyz" reporter auth=SUCCESS chauthtok=AUTHTOK_ERR
check "... and says why" grep -q 'taken for a token' "$OUT"
DEF=$(rc --json service-user list db1 | python3 -c 'import json,sys; print([u["username"] for u in json.load(sys.stdin) if u["protected"]][0])')
drive "a protected service user cannot change its password" -a x "$DEF" chauthtok=PERM_DENIED

# ---- password change: old password, tokens revoked
drive "a member's change needs the current password (wrong: refused)" \
	-x -a "$DPW" -a 'not the password' -a 'dave password 2' -a 'dave password 2' dave auth=SUCCESS chauthtok=AUTHTOK_RECOVERY_ERR
drive "a new password different on the retype is refused (PAM_TRY_AGAIN)" \
	-x -a "$DPW" -a "$DPW" -a 'dave password 2' -a 'dave password 3' dave auth=SUCCESS chauthtok=TRY_AGAIN
drive "a member's change with the current password" \
	-x -a "$DPW" -a "$DPW" -a 'dave password 2' -a 'dave password 2' dave auth=SUCCESS chauthtok=SUCCESS
check "... is audited with the tokens revoked" audit_has 'password.change.*tokens-revoked=[1-9]' 3
drive "the change revoked the tokens" -a "$T3" dave auth=AUTH_ERR
drive "the new password works" -a 'dave password 2' dave auth=SUCCESS
drive "the old one does not" -a "$DPW" dave auth=AUTH_ERR
DPW='dave password 2'
if [ "$(id -u)" = 0 ]; then
	drive "root changes a password without the current one (as with pam_unix)" \
		-a 'dave password 3' -a 'dave password 3' dave chauthtok=SUCCESS
	check "... no current password was asked for" sh -c "! grep -q 'Current password' '$OUT'"
	DPW='dave password 3'
fi

# ---- an admin's password reset: the reset code, then a new password
rc --json member reset-password dave > "$OUT"; RCODE=$(json 'd["code"]')
drive "after reset-password the old password is refused" -a "$DPW" dave auth=AUTH_ERR
drive "the reset code logs in, account asks for a new password, chauthtok sets it" \
	-x -a "$RCODE" -a 'dave password 4' -a 'dave password 4' dave auth=SUCCESS acct=NEW_AUTHTOK_REQD chauthtok=SUCCESS
check "... without asking for a current password" sh -c "! grep -q 'Current password' '$OUT'"
check "... audited as a completed reset" audit_has 'member.reset-complete' 3
drive "the new password works and account passes" -a 'dave password 4' dave auth=SUCCESS acct=SUCCESS
drive "the reset code no longer works" -a "$RCODE" dave auth=AUTH_ERR
DPW='dave password 4'

# ---- the mfa setting
rc settings set mfa required >/dev/null
invite_accept mia developer
invite_accept ned developer
drive "mfa = required (setting): enrollment during login" -a 'mia password 12345' -a @enroll mia auth=SUCCESS
check "... shown through the conversation" grep -q 'Two-factor authentication is required' "$OUT"
drive "totp=optional on a service overrides the setting" -s rc-optional -a 'ned password 12345' ned auth=SUCCESS
drive "a silent application cannot be shown the enrollment: refused" -q -a 'ned password 12345' ned auth=AUTH_ERR
rc settings set mfa optional >/dev/null
drive "mfa = optional: the password alone again" -a 'ned password 12345' ned auth=SUCCESS

# ---- pamtester (another PAM application) against the same service file
pt() {   # pt INPUT ARGS...: pamtester with INPUT on stdin
	local input=$1; shift
	printf "%s\n" "$input" | PD_TIMEOUT=20 pd_run pamtester "$@" >"$OUT" 2>"$ERR"
}
if command -v pamtester >/dev/null; then
	pt "$DPW" rollcall-test dave authenticate acct_mgmt
	if [ $? = 0 ]; then ok "pamtester: password, then account"; else not_ok "pamtester: password, then account"; fi
	pt nope rollcall-test dave authenticate
	if [ $? = 1 ] && grep -q 'Authentication failure' "$ERR"; then ok "pamtester: a wrong password fails"; else not_ok "pamtester: a wrong password fails"; fi
	pt nope rollcall-test nosuchuser authenticate
	if [ $? = 1 ] && grep -q 'User not known' "$ERR"; then ok "pamtester: an unknown user is not known"; else not_ok "pamtester: an unknown user is not known"; fi
else
	not_ok "pamtester is missing (scripts/deps.sh installs it)"
fi

# ---- a damaged or missing store is an error, never success, never IGNORE
drive "missing store: auth is AUTHINFO_UNAVAIL" -s rc-nostore -a "$DPW" dave auth=AUTHINFO_UNAVAIL
drive "missing store: account is AUTHINFO_UNAVAIL" -s rc-nostore alice acct=AUTHINFO_UNAVAIL
drive "missing store: password is an error" -s rc-nostore -a x alice chauthtok=AUTHTOK_ERR
drive "an unknown option is refused" -s rc-badopt -a "$PW" alice auth=SERVICE_ERR
cp -a "$SD" "$TMP/damaged"
sed "s#state_dir=$SD#state_dir=$TMP/damaged#" "$PAMD/rollcall-test" > "$PAMD/rc-damaged"
dd if=/dev/urandom of="$TMP/damaged/store/data.mdb" bs=4096 count=2 conv=notrunc 2>/dev/null
drive "damaged store: auth is AUTHINFO_UNAVAIL" -s rc-damaged -a "$PW" alice auth=AUTHINFO_UNAVAIL
head -c 10 /dev/zero > "$TMP/damaged/master.key"
drive "short master.key: auth is AUTHINFO_UNAVAIL" -s rc-damaged -a "$PW" alice auth=AUTHINFO_UNAVAIL

# ---- a failed authentication waits, as with pam_unix (pam_fail_delay: 2 s,
# which libpam randomises to between 1 and 3 s); "nodelay" (every other
# service of this test) does not ask for it, nor does a success
printf 'auth required %s state_dir=%s config=%s\n' "$PAM_MODULE" "$SD" "$TMP/rollcall.conf" > "$PAMD/rc-delay"
took_us() { pd -s rc-delay -t 1 "$@" > "$TMP/took" && sed -n 's/^sample_us: //p' "$TMP/took"; }
t_fail=$(took_us -a 'wrong password' dave auth=AUTH_ERR)
t_unknown=$(took_us -a 'wrong password' nosuchuser auth=USER_UNKNOWN)
t_ok=$(took_us -a "$DPW" dave auth=SUCCESS)
t_nodelay=$(pd -t 1 -a 'wrong password' dave auth=AUTH_ERR | sed -n 's/^sample_us: //p')
echo "# a failed authentication took ${t_fail} us, an unknown user's ${t_unknown} us, a success ${t_ok} us, a failure with nodelay ${t_nodelay} us"
# (libpam waits between half and one and a half times the 2 s asked for)
check "a failed authentication is delayed (pam_fail_delay: at least 0.9 s)" test "${t_fail:-0}" -ge 900000
check "... so is an unknown user's" test "${t_unknown:-0}" -ge 900000
check "... not a success" test "${t_ok:-9999999}" -lt 900000
check "... nor a failure with the nodelay option" test "${t_nodelay:-9999999}" -lt 900000

# ---- unknown users cost what known ones do: the same commits and one
# argon2id verification at the store's memory limit each (a hash is as
# costly as the limits it was made with: a member made now); their times
# side by side are bench/pam.sh's, never a timed test
rc settings set argon2.memlimit_kib 65536 >/dev/null
rc settings set lockout.attempts 0 >/dev/null
invite_accept tim read-only
rc --json member invite pend@example.com --role developer >/dev/null
txn() { mdb_stat -e "$SD/store" | sed -n 's/^ *Last transaction ID: *//p'; }
cost() {   # cost NAME USER SECRET EXPECT: commits and peak memory of one failed login
	local t0 t1
	t0=$(txn)
	pd -m -a "$3" "$2" "auth=$4" > "$TMP/cost.$1" 2>&1
	t1=$(txn)
	echo "$((t1 - t0)) $(sed -n 's/^maxrss_kb: //p' "$TMP/cost.$1")"
}
read -r kc km <<< "$(cost known tim 'wrong password' AUTH_ERR)"
read -r uc um <<< "$(cost unknown nosuchuser 'wrong password' USER_UNKNOWN)"
read -r pc pm <<< "$(cost pending pend 'AAAAA-AAAAA-AAAAA-AAAAA' AUTH_ERR)"
echo "# commits and peak KiB: known user $kc, $km; unknown $uc, $um; pending with a wrong code $pc, $pm"
check "unknown and known users' failed logins commit alike ($kc and $uc)" test "$kc" = "$uc" -a "${kc:-0}" -gt 0
check "... and both run argon2id at 64 MiB" test "${km:-0}" -ge 65536 -a "${um:-0}" -ge 65536
check "a pending member with a wrong code does the same ($pc commits, ${pm:-?} KiB)" \
	test "$pc" = "$kc" -a "${pm:-0}" -ge 65536

done_testing
