#!/bin/bash
# Real logins end to end: OpenSSH's sshd (Debian's openssh-server) on
# 127.0.0.1, logged into with OpenSSH's ssh client, su and login's PAM
# stacks; the PAM configuration is what README's "Install on a host" gives
# (pam-auth-update with rollcall's profile), in a private mount namespace
# (tests/e2e/host.sh).  TOTP codes come from oathtool.  Root only:
# elsewhere it skips and says why (in CI, a skip is a failure).
if [ -z "${RC_IN_NAMESPACE:-}" ] && [ "$(id -u)" = 0 ]; then
	export RC_IN_NAMESPACE=1
	exec unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
require_root "a real sshd in a private mount namespace"
: "${PAM_MODULE:?}" "${NSS_MODULE:?}" "${top_srcdir:?}"
for prog in /usr/sbin/sshd ssh oathtool pamtester pam-auth-update /usr/bin/python3; do
	command -v "$prog" >/dev/null || e2e_missing=$prog
done
if [ -n "${e2e_missing:-}" ] || ! /usr/bin/python3 -c 'import pexpect' 2>/dev/null; then
	echo "1..1"; echo "not ok 1 - ${e2e_missing:-python3-pexpect} is missing (scripts/deps.sh installs it)"; exit 1
fi
. "$top_srcdir/tests/e2e/host.sh"
e2e_host
e2e_configure
e2e_stage "$PAM_MODULE"
PAM_MODULE=$TMP/stage/$(basename "$PAM_MODULE")
e2e_pam_profile "$PAM_MODULE"
e2e_converse

# the tool as root (default state directory and configuration file) and,
# setuid, as a member
rc() { "$ROLLCALL" "$@"; }
SD=$E2E_SD
mkdir -m 755 "$TMP/bin"
cp "$ROLLCALL" "$TMP/bin/rollcall" && chmod 4755 "$TMP/bin/rollcall"
uid_of() { rc --json member show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])'; }
as() { local uid; uid=$(uid_of "$1"); shift; setpriv --reuid="$uid" --regid="$uid" --clear-groups "$TMP/bin/rollcall" "$@"; }

# ---- sshd, configured as README says
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" || e2e_fail "ssh-keygen"
mkdir -p /etc/ssh/sshd_config.d
printf 'KbdInteractiveAuthentication yes\nUsePAM yes\n' > /etc/ssh/sshd_config.d/rollcall.conf
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# (in a process group of its own, killed on any exit: bg)
bg /usr/sbin/sshd -D -e -p "$PORT" -o ListenAddress=127.0.0.1 -h "$TMP/hostkey" \
	-o PidFile="$TMP/sshd.pid" -o PermitRootLogin=yes 2>"$TMP/sshd.log"
SSHD=$BG_PID
for _ in $(seq 100); do grep -q 'Server listening' "$TMP/sshd.log" && break; sleep 0.1; done
grep -q 'Server listening' "$TMP/sshd.log" || e2e_fail "sshd did not start: $(cat "$TMP/sshd.log")"

# ssh USER COMMAND ANSWER...: log in, run COMMAND, answer the prompts
ssh_as() {
	local user=$1 cmd=$2 a=(); shift 2
	for x in "$@"; do a+=(-a "$x"); done
	$CONVERSE "${a[@]}" -- ssh -F /dev/null -p "$PORT" \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o PreferredAuthentications=keyboard-interactive -o PubkeyAuthentication=no \
		-o GSSAPIAuthentication=no -o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 \
		-l "$user" 127.0.0.1 "$cmd"
}
# login_ok DESC REGEX USER COMMAND ANSWER...: the login works and prints REGEX
login_ok() {
	local desc=$1 re=$2; shift 2
	run ssh_as "$@"
	if [ "$st" = 0 ] && grep -Eq -- "$re" "$OUT"; then ok "$desc"; else not_ok "$desc (exit $st)"; fi
}
# login_refused DESC USER COMMAND ANSWER...: the login is refused
login_refused() {
	local desc=$1; shift
	run ssh_as "$@"
	if [ "$st" = 255 ] && grep -q 'Permission denied' "$OUT" && ! grep -q 'RAN-REMOTE' "$OUT"; then
		ok "$desc"
	else
		not_ok "$desc (exit $st, wanted 255 and Permission denied)"
	fi
}
ID='echo RAN-REMOTE; id'
json_of() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# ---- the project
rc --json init --owner alice@example.com --username alice > "$OUT" || e2e_fail "init: $(cat "$OUT")"
printf '%s\nalice password 1\n' "$(json 'd["code"]')" | rc member accept --password-stdin >/dev/null
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
member() {   # member NAME ROLE: an active member, password "NAME password 12345"
	local code
	code=$(rc --json member invite "$1@example.com" --role "$2" | json_of '["code"]')
	printf '%s\n%s\n' "$code" "$1 password 12345" | rc member accept --password-stdin >/dev/null
}
member dana developer
member erin operator
member gina read-only
member ivan admin
# dana and ivan have two-factor authentication, enabled with the setuid tool
# (their first logins use the next step's code: this step's is used up)
totp_on() {
	local secret
	secret=$(as "$1" --json mfa enable | json_of '["secret"]')
	oathtool --totp -b "$secret" | as "$1" mfa confirm --code-stdin >/dev/null || return 1
	echo "$secret"
}
DANA_KEY=$(totp_on dana) && IVAN_KEY=$(totp_on ivan)
check "members enable TOTP with the setuid tool" test -n "$DANA_KEY" -a -n "$IVAN_KEY"
check "getent passwd answers for a member through the NSS module" sh -c "getent passwd dana | grep -q '^dana:\\*:'"

# ---- 1. password + TOTP
DANA_UID=$(uid_of dana)
DANA_HOME=$TMP/home/dana
check "dana has no home before her first login" test ! -e "$DANA_HOME"
login_ok "1. dana logs in with password and a TOTP code: id shows her uid and rollcall-developer" \
	"uid=$DANA_UID\\(dana\\) gid=$DANA_UID\\(dana\\) groups=.*rollcall-developer" \
	dana "$ID; echo PWD=\$(pwd)" 'dana password 12345' "@next:$DANA_KEY"
check "... her home was made at that first login (pam_mkhomedir): $DANA_HOME, a directory" test -d "$DANA_HOME"
check "... owned by her uid and group, mode 0700 or 0750" \
	sh -c "stat -c %u:%g:%a '$DANA_HOME' | grep -Eqx '$DANA_UID:$DANA_UID:7[05]0'"
check "... and the session starts in it (pwd)" sh -c "tr -d '\\r' < '$OUT' | grep -qx 'PWD=$DANA_HOME'"
check "... not in / (no \"No directory\" or \"Could not chdir\")" \
	sh -c "! grep -Eq 'No directory|Could not chdir' '$OUT'"
check "... the code was asked for as \"Verification code\"" grep -q 'Verification code:' "$OUT"
USED=$(sed -n 's/.*<answer 2: code \([0-9]*\)>.*/\1/p' "$OUT")
check "... and the login is audited with sshd and the remote host" audit_has 'login +\| dana +\| ok via password and TOTP +\| pam:sshd from 127.0.0.1'

# ---- 2. refusals
login_refused "2. a wrong code is refused" dana "$ID" 'dana password 12345' 000000
login_refused "... a code already used is refused" dana "$ID" 'dana password 12345' "$USED"
login_refused "... a wrong password is refused" dana "$ID" 'not dana password'
check "... the attempts are in the audit log" sh -c "$ROLLCALL audit --limit 6 | grep -c 'dana.*failed' | grep -qx 3"

# ---- 3. an api token as the password
TOKJ=$(as dana --json token generate --description deploy)
TOK=$(echo "$TOKJ" | json_of '["token"]'); TID=$(echo "$TOKJ" | json_of '["id"]')
login_ok "3. an api token given as the password logs dana in" "uid=$DANA_UID\\(dana\\)" dana "$ID" "$TOK"
check "... without asking for a code" sh -c "! grep -q 'code:' '$OUT'"
rc token revoke "$TID" --member dana >/dev/null
login_refused "... after token revoke it is refused" dana "$ID" "$TOK"

# ---- 4. an invitation: code, then a new password in the same connection
FCODE=$(rc --json member invite frank@example.com --role developer | json_of '["code"]')
login_ok "4. an invited member logs in with the invitation code and chooses a password in the same connection" \
	"RAN-REMOTE" frank "$ID" "$FCODE" 'frank new password 1' 'frank new password 1'
check "... he was told to choose one" grep -qi 'new password' "$OUT"
check "... and is now active" sh -c "$ROLLCALL member show frank | grep -Eq 'status: +active|STATUS.*active|active'"
login_ok "... then logs in with the new password" "uid=[0-9]+\\(frank\\)" frank "$ID" 'frank new password 1'
login_refused "... and the invitation code no longer works" frank "$ID" "$FCODE"

# ---- 5. deactivated, then activated
rc member deactivate erin >/dev/null
login_refused "5. a deactivated member is refused" erin "$ID" 'erin password 12345'
rc member activate erin >/dev/null
login_ok "... after member activate she logs in" "\\(erin\\)" erin "$ID" 'erin password 12345'

# ---- 6. a service user of a stopped service
rc service create analytics >/dev/null
SVCPW='analytics etl password 0123456789'
printf '%s\n' "$SVCPW" | rc service-user create analytics etl_user --password-stdin >/dev/null
rc service stop analytics >/dev/null
login_refused "6. a service user of a stopped service is refused" etl_user "$ID" "$SVCPW"
rc service start analytics >/dev/null
login_ok "... after service start it logs in (svc-analytics group)" "\\(etl_user\\).*svc-analytics" \
	etl_user "$ID; echo PWD=\$(pwd)" "$SVCPW"
ETL_IDS=$(id -u etl_user):$(id -g etl_user)
check "... and its session starts in its new home, $TMP/home/etl_user, its own, mode 0700 or 0750" \
	sh -c "tr -d '\\r' < '$OUT' | grep -qx 'PWD=$TMP/home/etl_user' && stat -c %u:%g:%a '$TMP/home/etl_user' | grep -Eqx '$ETL_IDS:7[05]0'"

# ---- 7. session tokens
sed -i "s|^\\(session.*$PAM_MODULE\\).*|\\1 session_token|" /etc/pam.d/common-session
bg ssh_as erin "echo TOKEN=\$ROLLCALL_TOKEN; while [ ! -e $TMP/logout ]; do sleep 0.1; done" \
	'erin password 12345' > "$TMP/session.out" 2>&1
SESSION=$BG_PID
for _ in $(seq 150); do grep -q 'TOKEN=rct_' "$TMP/session.out" && break; sleep 0.1; done
STOK=$(sed -n 's/.*TOKEN=\(rct_[a-z0-9_]*\).*/\1/p' "$TMP/session.out" | head -1)
check "7. with session_token the ssh session sees ROLLCALL_TOKEN" test -n "$STOK"
login_ok "... which logs erin in while her session is open" "\\(erin\\)" erin "$ID" "$STOK"
touch "$TMP/logout"
wait_bounded "$SESSION" 30 || not_ok "... the ssh session did not end within 30 s of the logout"
login_refused "... and no longer after she logs out" erin "$ID" "$STOK"
sed -i "s| session_token\$||" /etc/pam.d/common-session

# ---- 8. mfa = required: enrollment during the ssh login
rc settings set mfa required >/dev/null
login_ok "8. with mfa = required, gina is shown the enrollment and logs in with a code for it" \
	"\\(gina\\)" gina "$ID" 'gina password 12345' '@enroll'
check "... the enrollment showed the otpauth URI" grep -q 'otpauth://totp/' "$OUT"
check "... and gina now has two-factor authentication" sh -c "$ROLLCALL --json member show gina | grep -q '\"auth_method\": *\"two-factor\"'"
login_refused "... erin, who has none, is not let in without enrolling (a wrong code)" erin "$ID" 'erin password 12345' 000000
rc settings set mfa optional >/dev/null

# ---- 9. root and local users through pam_unix
login_ok "9. root logs in through pam_unix while rollcall is there" "uid=0\\(root\\)" root "$ID" "$LOCALPW"
mv "$SD" "$SD.away"
login_ok "... root logs in through pam_unix when the state directory is missing" "uid=0\\(root\\)" root "$ID" "$LOCALPW"
login_ok "... so does a local user" "uid=$E2E_UID\\(localuser\\)" localuser "$ID" "$LOCALPW"
login_refused "... and a member is refused" erin "$ID" 'erin password 12345'
mv "$SD.away" "$SD"
login_refused "a local user's wrong password is refused" localuser "$ID" 'wrong password'

# ---- su and login, Debian's own stacks with rollcall's profile
su_as() { local who=$1; shift; setpriv --reuid=localuser --regid=localuser --clear-groups \
	$CONVERSE "$@" -- su - "$who" -c "$ID"; }
run su_as erin -a 'erin password 12345'
if [ "$st" = 0 ] && grep -q "(erin)" "$OUT"; then ok "su - erin -c id, from a local user"; else not_ok "su - erin -c id"; fi
run su_as ivan -a 'ivan password 12345' -a "@next:$IVAN_KEY"
if [ "$st" = 0 ] && grep -q "(ivan).*rollcall-admin" "$OUT"; then ok "su - ivan asks for his TOTP code"; else not_ok "su - ivan with TOTP"; fi
run su_as erin -a 'wrong password'
if [ "$st" != 0 ] && grep -q 'Authentication failure' "$OUT"; then ok "su with a wrong password fails"; else not_ok "su with a wrong password"; fi
run sh -c "printf 'erin password 12345\n' | pamtester login erin authenticate acct_mgmt open_session close_session"
if [ "$st" = 0 ]; then ok "pamtester: login's stack authenticates erin"; else not_ok "pamtester login erin"; fi
run sh -c "printf 'local password 1\n' | pamtester login localuser authenticate acct_mgmt"
if [ "$st" = 0 ]; then ok "pamtester: login's stack still serves local users"; else not_ok "pamtester login localuser"; fi
rc member deactivate gina >/dev/null
run sh -c "printf 'gina password 12345\n' | pamtester login gina authenticate acct_mgmt"
if [ "$st" != 0 ]; then
	ok "pamtester: login's stack refuses a deactivated member"
else
	not_ok "pamtester login gina (deactivated)"
fi

done_testing
