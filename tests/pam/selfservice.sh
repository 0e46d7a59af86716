#!/bin/bash
# A member's own credentials with the setuid tool (run as the member's uid,
# as permissions.sh does): passwd, mfa enable/confirm/status/disable, token
# generate/list/revoke/revoke-all, and for manage-members "member mfa-reset",
# "token list --member" and "token revoke --member"; each checked through
# the PAM module too (pam_wrapper + pamdrive).  Root only: elsewhere it
# skips and says why.
. "$(dirname "$0")/../lib.sh"
require_root "running the tool setuid as members' uids in a mount namespace"
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}"
DEFAULT_SD=${RC_DEFAULT_STATE_DIR:-/var/lib/rollcall}
if [ -z "${RC_IN_NAMESPACE:-}" ]; then
	export RC_IN_NAMESPACE=1 ROLLCALL
	exec unshare --mount --propagation private bash "$0" "$@"
fi
setuid_host
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
invite_accept carol developer
invite_accept erin admin
# with_in LINE CMD...: CMD with LINE (and a newline) on standard input
with_in() { local line=$1; shift; printf '%s\n' "$line" | "$@"; }

pam_service rollcall-test
drive() { local desc=$1; shift; run pd "$@"; if [ "$st" = 0 ]; then ok "$desc"; else not_ok "$desc"; fi; }
CPW='carol password 12345'

# ---- tokens
expect_out 0 '"token":"rct_' "token generate prints the token once (--json: id, token, expires)" \
	as carol --json token generate --description "monitoring"
TOK=$(json 'd["token"]'); TID=$(json 'd["id"]')
check "... with an expiry 30 days out (token.ttl)" python3 -c "
import json,datetime; d=json.load(open('$OUT'))
e=datetime.datetime.strptime(d['expires'],'%Y-%m-%dT%H:%M:%SZ'); n=datetime.datetime.utcnow()
import sys; sys.exit(0 if 29 < (e-n).total_seconds()/86400 <= 30 else 1)"
expect_out 0 "$TID.*api.*monitoring" "token list shows it" as carol token list
check "... and never the secret" sh -c "! grep -q '${TOK#rct_????????????????_}' '$OUT'"
drive "the token logs in through PAM" -a "$TOK" carol auth=SUCCESS acct=SUCCESS
expect_err 2 'description' "generate without --description is a usage error" as carol token generate
expect_err 2 'extension' "a bad --extension is a usage error" as carol token generate --description x --extension sometimes
expect_err 1 'control' "a description with a control character is refused" as carol token generate --description "$(printf 'a\tb')"
expect_err 1 'root has no tokens' "root has no tokens of its own" rc token generate --description x
as carol --json token generate --description short --ttl 1m --extension fixed > "$OUT"; SHORT=$(json 'd["token"]')
run pd_at 30 -a "$SHORT" carol auth=SUCCESS
if [ "$st" = 0 ]; then ok "a --ttl 1m token works 30 s later"; else not_ok "a --ttl 1m token works 30 s later"; fi
run pd_at 90 -a "$SHORT" carol auth=AUTH_ERR
if [ "$st" = 0 ]; then ok "... and is refused 90 s later (fixed: not extended)"; else not_ok "... and is refused 90 s later"; fi
as carol --json token generate --description capped --ttl 10m --max-age 2m > "$OUT"; CAP=$(json 'd["token"]')
run pd_at 90 -a "$CAP" carol auth=SUCCESS
if [ "$st" = 0 ]; then ok "a --max-age 2m token works 90 s later"; else not_ok "a --max-age 2m token works 90 s later"; fi
run pd_at 150 -a "$CAP" carol auth=AUTH_ERR
if [ "$st" = 0 ]; then ok "... and is refused past its maximum age, though used within its ttl"; else not_ok "... refused past its maximum age"; fi
rc settings set token.api_limit 4 >/dev/null
as carol token generate --description four >/dev/null
expect_err 1 'token.api_limit' "past token.api_limit creation is refused with a message" as carol token generate --description five
expect_err 2 'token revoke takes no token on the command line.*give its ID' "token revoke refuses a whole token (a secret) as its argument (exit 2)" as carol token revoke "$TOK"
drive "... and the token still works" -a "$TOK" carol auth=SUCCESS
expect 0 "token revoke ID" as carol token revoke "$TID"
drive "a revoked token is refused" -a "$TOK" carol auth=AUTH_ERR
expect_err 1 'no token' "revoking it twice says so" as carol token revoke "$TID"
expect_err 1 'not a token id' "a malformed id is refused" as carol token revoke 'x;y'
expect_err 3 'manage-members' "a developer cannot list another member's tokens" as carol token list --member erin
expect_out 0 'four' "an admin lists a developer's tokens" as erin token list --member carol
FOUR=$(as carol --json token list | python3 -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin) if t["description"]=="four"][0])')
expect 0 "an admin revokes a developer's token" as erin token revoke "$FOUR" --member carol
expect_out 0 '"revoked":[1-9]' "revoke-all" as carol --json token revoke-all
expect_out 0 '^\[\]$' "... leaves none" as carol --json token list

# ---- two-factor with the tool
expect_out 0 '"two_factor":"disabled"' "mfa status: disabled" as carol --json mfa status
expect_out 0 '"uri":"otpauth://totp/' "mfa enable --json prints secret, uri and recovery codes" as carol --json mfa enable
KEY=$(json 'd["secret"]'); REC=$(json 'd["recovery_codes"][0]')
check "... ten recovery codes" sh -c "python3 -c \"import json; print(len(json.load(open('$OUT'))['recovery_codes']))\" | grep -qx 10"
expect_out 0 'pending' "mfa status: pending until confirmed" as carol --json mfa status
drive "pending enrollment does not ask for a code yet" -a "$CPW" carol auth=SUCCESS
as carol --json token generate --description before-mfa > "$OUT"; PRE=$(json 'd["token"]')
expect_err 3 'wrong verification code' "mfa confirm with a wrong code is refused (exit 3)" with_in 000000 as carol mfa confirm --code-stdin
expect_err 1 '6 digits' "mfa confirm with letters is refused" with_in abcdef as carol mfa confirm --code-stdin
# a code is a secret: never from the command line (others read /proc/PID/cmdline)
NOW_CODE=$(oathtool --totp -b "$KEY")
expect_err 2 'mfa confirm takes no code on the command line.*--code-stdin' "mfa confirm refuses a code given as an argument (exit 2)" as carol mfa confirm "$NOW_CODE"
expect_err 2 'takes no code on the command line' "... also after --code-stdin" as carol mfa confirm --code-stdin "$NOW_CODE" < /dev/null
expect_out 0 'pending' "... and leaves the enrollment pending" as carol --json mfa status
expect_err 2 'no code on standard input' "mfa confirm --code-stdin with nothing on stdin is a usage error" as carol mfa confirm --code-stdin < /dev/null
expect_err 2 'no terminal to ask for the code.*--code-stdin' "mfa confirm without a terminal says to use --code-stdin" as carol mfa confirm < /dev/null
expect 0 "mfa confirm with oathtool's code on standard input (the refused code was not used)" with_in "$NOW_CODE" as carol mfa confirm --code-stdin
drive "enabling revoked the tokens" -a "$PRE" carol auth=AUTH_ERR
expect_out 0 '"enabled":true' "mfa status: enabled" as carol --json mfa status
expect_out 0 'carol.*two-factor' "member list: auth method two-factor" rc member list
expect_err 1 'already enabled' "enable twice is refused" as carol mfa enable
run pd_at 60 -a "$CPW" -a "$(oathtool --totp -b "$KEY" -N 'now + 60 seconds')" carol auth=SUCCESS
if [ "$st" = 0 ]; then ok "PAM asks for the code and accepts it"; else not_ok "PAM asks for the code and accepts it"; fi
drive "a recovery code from mfa enable works once" -a "$CPW" -a "$REC" carol auth=SUCCESS
drive "... only once" -a "$CPW" -a "$REC" carol auth=AUTH_ERR
expect_err 3 'manage-members' "a developer cannot reset another's two-factor" as carol member mfa-reset erin
expect 0 "an admin resets carol's two-factor (a lost phone)" as erin member mfa-reset carol
drive "carol logs in with the password alone again" -a "$CPW" carol auth=SUCCESS
check "... audited" sh -c "$ROLLCALL --config $TMP/rollcall.conf --state-dir $SD audit --limit 20 | grep -q 'member.mfa-reset'"
as carol --json mfa enable > "$OUT"; KEY=$(json 'd["secret"]'); REC=$(json 'd["recovery_codes"][1]')
oathtool --totp -b "$KEY" | as carol mfa confirm --code-stdin >/dev/null
expect_err 3 'wrong' "mfa disable needs a right code" with_in 123456 as carol mfa disable --code-stdin
expect_out 0 '"failed_attempts": *1,' "... a wrong code counts toward the lockout, as a login's does" rc --json member show carol
expect_err 2 'mfa disable takes no code on the command line.*--code-stdin' "mfa disable refuses a code given as an argument (exit 2)" as carol mfa disable "$REC"
expect_out 0 '"enabled":true' "... and two-factor stays on" as carol --json mfa status
expect 0 "mfa disable with the same recovery code on standard input (it was not used)" with_in "$REC" as carol mfa disable --code-stdin
expect_out 0 '"two_factor":"disabled"' "mfa status: disabled again" as carol --json mfa status
expect_out 0 'rollcall mfa confirm' "mfa enable without a terminal shows the enrollment and stays pending" sh -c "setpriv --reuid=$(uid_of carol) --regid=$(uid_of carol) --clear-groups $TMP/bin/rollcall mfa enable < /dev/null"
check "... with a QR code drawn in text" grep -q "$(printf '\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88')" "$OUT"
check "... the otpauth URI" grep -q 'otpauth://totp/' "$OUT"
check "... and ten recovery codes" sh -c "grep -Eo '[0-9A-Z]{5}-[0-9A-Z]{5}' '$OUT' | sort -u | wc -l | grep -qx 10"
expect_out 0 'pending' "... pending" as carol --json mfa status

# ---- passwd
printf '%s\n%s\n' 'wrong password' 'carol password 2' > "$TMP/pw"
expect_err 3 'current password is wrong' "passwd with a wrong current password" sh -c "setpriv --reuid=$(uid_of carol) --regid=$(uid_of carol) --clear-groups $TMP/bin/rollcall passwd --password-stdin < $TMP/pw"
printf '%s\n%s\n' "$CPW" 'short' > "$TMP/pw"
expect_err 1 'too short' "passwd with a short new password" sh -c "setpriv --reuid=$(uid_of carol) --regid=$(uid_of carol) --clear-groups $TMP/bin/rollcall passwd --password-stdin < $TMP/pw"
printf '%s\n%s\n' "$CPW" 'rct_carol password 2' > "$TMP/pw"
expect_err 1 'must not start with "rct_": it would be taken for a token at login' "passwd with a new password that starts like a token" sh -c "setpriv --reuid=$(uid_of carol) --regid=$(uid_of carol) --clear-groups $TMP/bin/rollcall passwd --password-stdin < $TMP/pw"
as carol --json token generate --description x > "$OUT"; PRE=$(json 'd["token"]')
printf '%s\n%s\n' "$CPW" 'carol password 2' > "$TMP/pw"
expect 0 "passwd with the current password" sh -c "setpriv --reuid=$(uid_of carol) --regid=$(uid_of carol) --clear-groups $TMP/bin/rollcall passwd --password-stdin < $TMP/pw"
drive "the new password works through PAM" -a 'carol password 2' carol auth=SUCCESS
drive "the old one does not" -a "$CPW" carol auth=AUTH_ERR
drive "passwd revoked the tokens" -a "$PRE" carol auth=AUTH_ERR

# ---- whoever holds a code may use it: the audit record names the uid that
# presented it (here one that is no member at all)
as erin --json member reset-password carol > "$OUT"; RCODE=$(json 'd["code"]')
printf '%s\n%s\n' "$RCODE" 'carol password 3' > "$TMP/pw"
expect_err 2 'takes no code on the command line' "the setuid tool refuses a code as an argument" sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups $TMP/bin/rollcall member accept '$RCODE' < /dev/null"
expect_out 0 'Welcome, carol' "... the code, still good, accepted on standard input from uid 65534" sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups $TMP/bin/rollcall member accept --password-stdin < $TMP/pw"
rc --json audit --limit 3 > "$OUT"
check "... audited with that uid" test "$(json '[e["result"] for e in d if e["action"] == "member.reset-complete"][-1]')" = "ok, by uid 65534"
drive "... and the new password works" -a 'carol password 3' carol auth=SUCCESS

expect_err 1 'root is not a rollcall member' "root has no passwd of its own here" sh -c "printf 'a\nb\n' | $ROLLCALL --config $TMP/rollcall.conf --state-dir $SD passwd --password-stdin"

done_testing
