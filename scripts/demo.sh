#!/bin/sh
# The main job, from a fresh clone (README's first command): install what is
# needed, build, and walk through rollcall with a state directory in a local
# folder (./demo-state); then, as root, the fleet (scripts/demo-fleet.sh).
# Nothing outside this checkout is touched.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
sh scripts/deps.sh >/dev/null
./autogen.sh >/dev/null 2>&1
mkdir -p _build && cd _build
[ -f Makefile ] || ../configure --enable-werror >/dev/null
make -j2 >/dev/null
make -j2 tests/pam/pamdrive >/dev/null
PAM_WRAPPER_LIB=$(sed -n 's/^PAM_WRAPPER_LIB = //p' Makefile)
cd "$top"

STATE=$top/demo-state
rm -rf "$STATE"
: > "$top/_build/demo.conf"
rollcall() { "$top/_build/tools/rollcall" --config "$top/_build/demo.conf" --state-dir "$STATE" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ rollcall %s\n' "$*"; rollcall "$@"; }
code_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])'; }

# Logins go through the real Linux-PAM library and pam_rollcall.so: a PAM
# service file of the demo's own (found through pam_wrapper, so /etc/pam.d
# is not touched), driven by a small PAM client with scripted answers
# (tests/pam/pamdrive: it prints each prompt and message, and what each
# PAM call returned).  sshd, login and su do the same on a host.
PAMD=$top/_build/demo-pam.d
mkdir -p "$PAMD"
MOD="$top/_build/pam_module/.libs/pam_rollcall.so state_dir=$STATE config=$top/_build/demo.conf"
printf 'auth required %s\naccount required %s\npassword required %s\nsession required %s session_token\n' \
	"$MOD" "$MOD" "$MOD" "$MOD" > "$PAMD/rollcall-demo"
for kind in auth account password session; do echo "$kind required pam_deny.so"; done > "$PAMD/other"
login() {   # login USER ANSWER... -- OPERATIONS=EXPECTED...
	local user=$1 st=0 args="-s rollcall-demo -x"
	shift
	while [ "$1" != -- ]; do args="$args -a $1"; shift; done; shift
	printf '$ login %s   (PAM calls and what they must return: %s)\n' "$user" "$*"
	env LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$PAMD" \
		"$top/_build/tests/pam/pamdrive" $args "$user" "$@" > "$top/_build/demo-login.out" 2>&1 || st=$?
	sed 's/^/    /' "$top/_build/demo-login.out"
	return $st
}

step "1. Initialise a store in $STATE, with alice as the owner"
show init --owner alice@example.com --username alice
ls -l "$STATE"

step "2. alice's first login, through PAM: the invitation code as the password, then a new one"
CODE=$(rollcall --json member resend alice | code_of)
echo "(a fresh code was issued with 'member resend alice': $CODE)"
echo "(answers: the code, then 'alice-correct-horse' twice)"
login alice "$CODE" alice-correct-horse alice-correct-horse -- auth=SUCCESS acct=NEW_AUTHTOK_REQD chauthtok=SUCCESS
echo "(and now with her password:)"
login alice alice-correct-horse -- auth=SUCCESS acct=SUCCESS
show member show alice

step "3. The roles: the seed's permission matrix, plus an owner"
show role list

step "4. Invite members with roles; the invitations expire after invite.ttl (24h)"
show member invite bob@example.com --role developer --name "Bob Builder"
show member invite carol@example.com --role read-only
show member invite dave@example.com --role operator
show member list --status pending

step "5. bob logs in with his code and chooses a password; dave's invitation is withdrawn; carol's is resent"
BOB=$(rollcall --json member resend bob | code_of)
login bob "$BOB" bob-builds-things-1 bob-builds-things-1 -- auth=SUCCESS acct=NEW_AUTHTOK_REQD chauthtok=SUCCESS
show member withdraw dave
show member resend carol
show member list

step "6. Custom roles reproduce the other seeds' models (Editor / Viewer)"
show role create editor --rank 50 --permissions view,manage-services,start-stop,audit
show role create viewer --rank 10 --permissions view
show member set-role carol viewer
show role show editor

step "7. Two-factor authentication required: bob enrolls at his next login (QR code, key, recovery codes)"
show settings set mfa required
echo "(answers: bob's password, then the code his authenticator app shows: here oathtool computes it)"
login bob bob-builds-things-1 @enroll -- auth=SUCCESS acct=SUCCESS
KEY=$(sed -n 's/.*Key: \([A-Z2-7]*\).*/\1/p' "$top/_build/demo-login.out" | head -1)
RECOVERY=$(grep -Eo '[0-9A-Z]{5}-[0-9A-Z]{5}' "$top/_build/demo-login.out" | head -2 | tr '\n' ' ')
show member list

step "8. A login with password and TOTP code"
NEXT=$(oathtool --totp -b "$KEY" --now="@$(( $(date +%s) + 30 ))")
echo "(answers: bob's password and the code $NEXT from his app; the enrollment used this"
echo " 30-second step's code, and a code is accepted once, so this is the next step's)"
login bob bob-builds-things-1 "$NEXT" -- auth=SUCCESS acct=SUCCESS
echo "(the same code again is refused: a code works once)"
login bob bob-builds-things-1 "$NEXT" -- auth=AUTH_ERR
echo "(a wrong password is refused before any code is asked)"
login bob wrong-password -- auth=AUTH_ERR

step "9. Tokens: a login session mints one (session_token), and it logs in by itself"
echo "(answers: bob's password and, instead of a code, one of his recovery codes;"
echo " the session exports ROLLCALL_TOKEN)"
login bob bob-builds-things-1 "${RECOVERY%% *}" -- auth=SUCCESS acct=SUCCESS open=SUCCESS env=SUCCESS
TOKEN=$(sed -n 's/.*ROLLCALL_TOKEN=\(rct_[a-z0-9_]*\).*/\1/p' "$top/_build/demo-login.out" | head -1)
show token list --member bob
echo "(answer: the token as the password, and no code is asked)"
login bob "$TOKEN" -- auth=SUCCESS acct=SUCCESS
show token revoke-all --member bob
echo "(revoked: the token no longer works)"
login bob "$TOKEN" -- auth=AUTH_ERR
show settings set mfa optional

step "10. A deactivated member cannot log in, even with the right password"
show member deactivate bob
echo "(answers: his password and his second recovery code: right, and still refused)"
login bob bob-builds-things-1 "${RECOVERY#* }" -- auth=SUCCESS acct=ACCT_EXPIRED
show member activate bob

step "11. A service, with its protected default user and a generated password"
show service create analytics
show service list

step "12. Service users: a chosen password, a generated one, the rules at work"
printf '$ echo too-short | rollcall service-user create analytics reporting_ro --read-only --password-stdin\n'
echo 'too-short' | rollcall service-user create analytics reporting_ro --read-only --password-stdin || true
printf '$ echo <30 characters> | rollcall service-user create analytics reporting_ro --read-only --password-stdin\n'
echo 'reporting-password-with-30-chars' | rollcall service-user create analytics reporting_ro --read-only --password-stdin
show service-user create analytics etl_writer --replication </dev/null
echo '(a name that breaks the rules is refused, with the reason:)'
show service-user create analytics 9lives </dev/null || true
show service-user list analytics
show service-user show-password analytics reporting_ro

step "13. A stopped service's users cannot be managed"
show service stop analytics
show service-user delete analytics etl_writer || true
show service start analytics
show service-user delete analytics etl_writer

step "14. The NSS module: members and service users are users and groups"
echo "(glibc's getent and id, with libnss_rollcall.so.2 loaded through nss_wrapper,"
echo " so that no system file is touched; on a host: 'passwd: files rollcall' in nsswitch.conf)"
printf 'root:x:0:0:root:/root:/bin/bash\n' > "$top/_build/demo.passwd"
printf 'root:x:0:\n' > "$top/_build/demo.group"
nss() {
	printf '$ %s\n' "$*"
	env LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$top/_build/demo.passwd" \
	    NSS_WRAPPER_GROUP="$top/_build/demo.group" \
	    NSS_WRAPPER_MODULE_SO_PATH="$top/_build/nss_module/.libs/libnss_rollcall.so.2" \
	    NSS_WRAPPER_MODULE_FN_PREFIX=rollcall ROLLCALL_STATE_DIR="$STATE" "$@"
}
nss getent passwd alice bob reporting_ro
nss id bob
nss getent group rollcall-developer rollcall-members svc-analytics svc-analytics-readonly
ls -l "$STATE/nss.snap" "$STATE/nss.d"

step "15. Policies and billing"
show settings set invite.ttl 48h
show settings show
show billing set company "Example Ltd"
show billing show

step "16. Everything is in the audit log: the tool's changes and every PAM login, with its service"
show audit --limit 30

step "17. JSON for scripts"
show --json member list

# Many hosts: as root, a provider and three hosts in network namespaces,
# this store moved in (one line saying why it skips elsewhere)
bash "$top/scripts/demo-fleet.sh"

echo
echo "Done. The demo's state is in $STATE (delete it with: rm -rf demo-state)."
