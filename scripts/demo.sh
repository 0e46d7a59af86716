#!/bin/sh
# The main job, from a fresh clone (README's first command): install what is
# needed, build, and walk through rollcall with a state directory in a local
# folder (./demo-state).  Nothing outside this checkout is touched.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
sh scripts/deps.sh >/dev/null
./autogen.sh >/dev/null 2>&1
mkdir -p _build && cd _build
[ -f Makefile ] || ../configure --enable-werror >/dev/null
make -j2 >/dev/null
cd "$top"

STATE=$top/demo-state
rm -rf "$STATE"
: > "$top/_build/demo.conf"
rollcall() { "$top/_build/tools/rollcall" --config "$top/_build/demo.conf" --state-dir "$STATE" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ rollcall %s\n' "$*"; rollcall "$@"; }
code_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])'; }

step "1. Initialise a store in $STATE, with alice as the owner"
show init --owner alice@example.com --username alice
ls -l "$STATE"

step "2. alice completes her invitation with the code (as she would at her first login)"
CODE=$(rollcall --json member resend alice | code_of)
echo "(a fresh code was issued with 'member resend alice')"
printf '$ echo ******** | rollcall member accept %s --password-stdin\n' "$CODE"
echo 'alice-correct-horse' | rollcall member accept "$CODE" --password-stdin

step "3. The roles: the seed's permission matrix, plus an owner"
show role list

step "4. Invite members with roles; the invitations expire after invite.ttl (24h)"
show member invite bob@example.com --role developer --name "Bob Builder"
show member invite carol@example.com --role read-only
show member invite dave@example.com --role operator
show member list --status pending

step "5. bob accepts; dave's invitation is withdrawn; carol's is resent (new code, old one dead)"
BOB=$(rollcall --json member resend bob | code_of)
echo 'bob-builds-things-1' | rollcall member accept "$BOB" --password-stdin
show member withdraw dave
show member resend carol
show member list

step "6. Custom roles reproduce the other seeds' models (Editor / Viewer)"
show role create editor --rank 50 --permissions view,manage-services,start-stop,audit
show role create viewer --rank 10 --permissions view
show member set-role carol viewer
show role show editor

step "7. A service, with its protected default user and a generated password"
show service create analytics
show service list

step "8. Service users: a chosen password, a generated one, the rules at work"
printf '$ echo too-short | rollcall service-user create analytics reporting_ro --read-only --password-stdin\n'
echo 'too-short' | rollcall service-user create analytics reporting_ro --read-only --password-stdin || true
printf '$ echo <30 characters> | rollcall service-user create analytics reporting_ro --read-only --password-stdin\n'
echo 'reporting-password-with-30-chars' | rollcall service-user create analytics reporting_ro --read-only --password-stdin
show service-user create analytics etl_writer --replication </dev/null
echo '(a name that breaks the rules is refused, with the reason:)'
show service-user create analytics 9lives </dev/null || true
show service-user list analytics
show service-user show-password analytics reporting_ro

step "9. A stopped service's users cannot be managed"
show service stop analytics
show service-user delete analytics etl_writer || true
show service start analytics
show service-user delete analytics etl_writer

step "10. The NSS module: members and service users are users and groups"
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
ls -l "$STATE/nss.mdb"

step "11. Policies and billing"
show settings set invite.ttl 48h
show settings show
show billing set company "Example Ltd"
show billing show

step "12. Everything is in the audit log"
show audit --limit 12

step "13. JSON for scripts"
show --json member list

echo
echo "Done. The demo's state is in $STATE (delete it with: rm -rf demo-state)."
