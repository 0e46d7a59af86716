#!/bin/bash
# pam_rollcall.so under valgrind (memcheck): every PAM path of pam.sh that
# matters, through the real Linux-PAM library (pam_wrapper and pamdrive),
# with no memory error and no leak (definite or indirect) in any of them.
# Suppressions (tests/valgrind.supp) name only pam_wrapper, never rollcall.
. "$(dirname "$0")/../lib.sh"
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}"
if ! command -v valgrind >/dev/null; then
	if [ -n "${CI:-}" ]; then echo "1..1"; echo "not ok 1 - valgrind is missing (scripts/deps.sh installs it)"; exit 1; fi
	echo "1..0 # SKIP valgrind is not installed"; exit 0
fi
[ -n "${RC_PRELOAD:-}" ] && { echo "1..0 # SKIP a sanitizer build: valgrind runs in the plain one"; exit 0; }

pam_service rollcall-test
pam_service rc-session session_token
pam_service rc-mfa totp=required
pam_service rc-badopt frobnicate=1
pam_service rc-nostore
sed -i "s#state_dir=$SD#state_dir=$TMP/missing#" "$PAMD/rc-nostore"

VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --track-origins=yes --num-callers=30
	--suppressions=$top_srcdir/tests/valgrind.supp"
n=0
# vg DESC ARGS...: pamdrive ARGS under valgrind: the results it expects, no error
vg() {
	local desc=$1; shift
	n=$((n + 1))
	# shellcheck disable=SC2086
	pd_run $VG --log-file="$TMP/vg.$n.%p" "$PAMDRIVE" "$@" >"$OUT" 2>"$ERR"
	st=$?
	if [ "$st" = 0 ] && ! [ -s "$(ls "$TMP"/vg.$n.* 2>/dev/null | head -1)" ]; then
		ok "valgrind: $desc"
	else
		not_ok "valgrind: $desc (exit $st)"
		cat "$TMP"/vg.$n.* 2>/dev/null | head -60 | sed 's/^/#   /'
	fi
}

rc --json init --owner alice@example.com >"$OUT" 2>"$ERR"
CODE=$(json 'd["code"]')
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
rc settings set lockout.attempts 0 >/dev/null
PW='alice password 1'

vg "an unknown user" -a whatever nosuchuser auth=USER_UNKNOWN
vg "a wrong invitation code" -a AAAAA-AAAAA-AAAAA-AAAAA alice auth=AUTH_ERR
vg "invitation code, then a new password (auth, acct, chauthtok)" \
	-a "$CODE" -a "$PW" -a "$PW" alice auth=SUCCESS acct=NEW_AUTHTOK_REQD chauthtok=SUCCESS
vg "a password login with account and setcred" -a "$PW" alice auth=SUCCESS acct=SUCCESS setcred=SUCCESS
vg "a wrong password" -a 'wrong password' alice auth=AUTH_ERR
vg "a 1025-byte password" -a "$(head -c 1025 /dev/zero | tr '\0' x)" alice auth=AUTH_ERR
vg "a user name with a newline" -a "$PW" "$(printf 'ali\nce')" auth=USER_UNKNOWN
vg "a password change with the old password" -x -a "$PW" -a 'alice password 2' -a 'alice password 2' \
	alice chauthtok=SUCCESS
PW='alice password 2'
vg "a session token: open exports it, close revokes it" -s rc-session -a "$PW" alice \
	auth=SUCCESS open=SUCCESS env=SUCCESS close=SUCCESS
pd -s rc-session -a "$PW" alice auth=SUCCESS open=SUCCESS env=SUCCESS >"$TMP/session" 2>&1
TOKEN=$(grep -o 'rct_[a-z2-7_]*' "$TMP/session" | head -1)
check "a session token to log in with" test -n "$TOKEN"
vg "a token as the password" -a "$TOKEN" alice auth=SUCCESS acct=SUCCESS
# (the last character changed: to "a", or to "b" when it was "a" already,
# which made this check fail one time in 32)
BADSUM=${TOKEN%?}a; [ "$BADSUM" = "$TOKEN" ] && BADSUM=${TOKEN%?}b
vg "a token with a wrong checksum" -a "$BADSUM" alice auth=AUTH_ERR
vg "totp=required: enrollment during login" -s rc-mfa -a "$PW" -a @enroll alice auth=SUCCESS acct=SUCCESS
KEY=$(sed -n 's/.*Key: \([A-Z2-7]*\).*/\1/p' "$OUT" | head -1)
REC=$(grep -Eo '[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}' "$OUT" | head -1)
check "the enrollment showed a key and recovery codes" test -n "$KEY" -a -n "$REC"
vg "password and a wrong code" -a "$PW" -a 000000 alice auth=AUTH_ERR
vg "password and a recovery code" -a "$PW" -a "$REC" alice auth=SUCCESS
vg "password and the reused recovery code" -a "$PW" -a "$REC" alice auth=AUTH_ERR
rc service create analytics >/dev/null
rc service start analytics >/dev/null 2>&1
printf 'a service password of 24+ characters\n' |
	rc service-user create analytics reader_one --password-stdin >/dev/null
vg "a service user" -a 'a service password of 24+ characters' reader_one auth=SUCCESS acct=SUCCESS
invite_accept carol developer
rc member deactivate carol >/dev/null
vg "a deactivated member: account refused" -a 'carol password 12345' carol acct=ACCT_EXPIRED
vg "no store: PAM_AUTHINFO_UNAVAIL" -s rc-nostore -a "$PW" alice auth=AUTHINFO_UNAVAIL
vg "an unknown option: PAM_SERVICE_ERR" -s rc-badopt -a "$PW" alice auth=SERVICE_ERR

done_testing
