#!/bin/bash
# Lockout and single-use codes under concurrency, through the real
# Linux-PAM (this test's service files bind-mounted on /etc/pam.d in a
# private mount namespace, as in fault/concurrency.sh) and pamdrive:
#   - lockout.attempts 3 and 12 logins at once, 11 with a wrong password
#     and then the right one: at most 3 passwords are ever checked, the
#     right one is refused, the member is locked (issue 14, item 3: before
#     the attempt was counted first, all 11 failures were checked and the
#     right password succeeded after the lock was set, and cleared it);
#   - the right password checked first and 3 wrong ones while it is
#     hashed: the lock they set refuses it, and it stays set (a success
#     never clears a lock set meanwhile);
#   - a recovery code sent by 6 logins at once, for 6 codes: exactly one
#     login wins each (item 4: checked in a read transaction, the code
#     could let two in);
#   - a member locked by wrong passwords still logs in with an API token,
#     and the password stays locked (item 8).
# The passwords are hashed with argon2id at 256 MiB so that each check
# takes long enough for the others to be under way.  Root only.
if [ "$(id -u)" = 0 ] && [ -z "${RC_LOCK_NS:-}" ]; then
	exec unshare --mount --propagation private env RC_LOCK_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init, and /etc/pam.d in a private mount namespace"
: "${PAM_MODULE:?}" "${PAMDRIVE:?}"

pam_services "$PAMD" rc rc-session:session_token rc-mfa:totp=required
real_pam_services "$PAMD"
PD_TIMEOUT=120
# (the logins at once run in groups of their own, killed on any exit: bg)
pids=

init_store
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
invite_accept tina developer
invite_accept rita developer
# slow hashes for the lockout rounds: tom's password is hashed at 256 MiB
# (when he accepts: a login never hashes again)
rc settings set argon2.memlimit_kib 262144 >/dev/null
rc settings set argon2.opslimit 3 >/dev/null
invite_accept tom developer
pd -s rc -a 'tom password 12345' tom auth=SUCCESS >/dev/null 2>&1
rc settings set lockout.attempts 3 >/dev/null
rc settings set lockout.duration 15m >/dev/null
failed_count() { rc audit --limit 200 | grep -E "login +\\| $1 " | grep -c '| failed: '; }

# ---- 12 at once: 11 wrong, then the right one
base=$(failed_count tom)
pids=
for i in $(seq 1 11); do
	bg pd -s rc -a "wrong password $i" tom auth=AUTH_ERR >"$TMP/w.$i" 2>&1
	pids="$pids $BG_PID"
done
sleep 0.5
bg pd -s rc -a 'tom password 12345' tom auth=SUCCESS >"$TMP/right" 2>&1
right=$BG_PID
pids="$pids $right"
for p in $pids; do wait_bounded "$p" 120 >/dev/null 2>&1; done
wait_bounded "$right" 1 >/dev/null 2>&1; right_st=$?
pids=
checked=$(($(failed_count tom) - base))
echo "# passwords checked and failed: $checked; the right one exited $right_st"
check "3. 11 wrong passwords and then the right one at once, lockout.attempts 3: the right one is refused" \
	test "$right_st" != 0
check "... at most 3 wrong passwords were checked ($checked)" test "$checked" -le 3
# (refusals that change nothing are counted in aggregated rows: "count")
refused=$(rc --json audit --limit 500 | python3 -c '
import json, sys
print(sum(e.get("count", 1) for e in json.load(sys.stdin)
          if e["action"] == "login" and e["target"] == "tom" and "refused: tom is locked" in e["result"]))')
echo "# attempts refused as locked: $refused"
check "... the other attempts were refused as locked ($refused)" test "${refused:-0}" -ge 8
check "... and tom is locked" sh -c "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' --json member show tom | grep -q '\"locked_until\": *\"2'"
check "... his right password is refused now" pd -s rc -a 'tom password 12345' tom auth=MAXTRIES

# ---- the right one first, three wrong ones while it is checked
rc member unlock tom >/dev/null
bg pd -s rc -a 'tom password 12345' tom auth=SUCCESS >"$TMP/right" 2>&1
right=$BG_PID
sleep 0.3
pids=
for i in 1 2 3; do
	bg pd -s rc -a "wrong password $i" tom auth=AUTH_ERR >"$TMP/w.$i" 2>&1
	pids="$pids $BG_PID"
done
wait_bounded "$right" 120 >/dev/null 2>&1; right_st=$?
for p in $pids; do wait_bounded "$p" 120 >/dev/null 2>&1; done
pids=
check "the right password, checked while 3 wrong ones lock the account, is refused" test "$right_st" != 0
check "... and the lock set meanwhile stays" pd -s rc -a 'tom password 12345' tom auth=MAXTRIES
rc member unlock tom >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
rc settings set argon2.opslimit 1 >/dev/null
pd -s rc -a 'tom password 12345' tom auth=SUCCESS >/dev/null 2>&1

# ---- a recovery code sent by 6 logins at once
rc settings set lockout.attempts 1000 >/dev/null
pd -s rc-mfa -a 'rita password 12345' -a @enroll rita auth=SUCCESS >"$OUT" 2>&1
grep -Eo '[0-9A-Z]{5}-[0-9A-Z]{5}' "$OUT" | sort -u | head -6 > "$TMP/codes"
check "set-up: rita has two-factor authentication and recovery codes" test "$(wc -l < "$TMP/codes")" = 6
twice=0
while read -r code; do
	pids=
	for i in 1 2 3 4 5 6; do
		bg pd -s rc -a 'rita password 12345' -a "$code" rita auth=SUCCESS >"$TMP/r.$i" 2>&1
		pids="$pids $BG_PID"
	done
	won=0
	for p in $pids; do wait_bounded "$p" 120 >/dev/null 2>&1 && won=$((won + 1)); done
	pids=
	echo "# recovery code ${code%%-*}-...: $won of 6 logins let in"
	[ "$won" = 1 ] || twice=$((twice + 1))
done < "$TMP/codes"
check "4. a recovery code sent by 6 logins at once lets exactly one in (6 codes; $twice wrong)" test "$twice" = 0

# ---- a locked member's tokens keep working
pd -s rc-session -a 'tina password 12345' tina auth=SUCCESS open=SUCCESS env=SUCCESS >"$OUT" 2>&1
TOK=$(sed -n 's/^env: ROLLCALL_TOKEN=//p' "$OUT")
rc settings set lockout.attempts 3 >/dev/null
for i in 1 2 3; do pd -s rc -a "wrong $i" tina auth=AUTH_ERR >/dev/null 2>&1; done
check "8. tina is locked after 3 wrong passwords" pd -s rc -a 'tina password 12345' tina auth=MAXTRIES
check "... and still logs in with her token (auth and account)" pd -s rc -a "$TOK" tina auth=SUCCESS acct=SUCCESS
check "... her password stays locked" pd -s rc -a 'tina password 12345' tina auth=MAXTRIES
rc member deactivate tina >/dev/null
check "... a deactivated member's token stops" pd -s rc -a "$TOK" tina auth=SUCCESS acct=ACCT_EXPIRED
done_testing
