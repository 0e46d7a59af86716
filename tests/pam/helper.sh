#!/bin/bash
# PAM clients that are not root (issue 16): PostgreSQL, nginx's auth_pam
# workers and screen lockers run PAM as their own user and cannot read the
# store.  pam_rollcall then asks rollcall-chkpwd, a setuid-root helper.
# As root, in a private mount namespace: the test store on the compiled-in
# state directory (setuid_host), rollcall.conf on the compiled-in path (an
# overlay on its parent directory, in this namespace only), this test's
# PAM services on /etc/pam.d (the real Linux-PAM), a setuid-root copy of
# the helper named by helper=; pamdrive runs as other uids (setpriv).
# Checks who may verify whom, the audit of a refusal, the lockout, tokens,
# the first factor only, a missing helper, and that root is unaffected.
# Root only.
. "$(dirname "$0")/../lib.sh"
require_root "setuid copies as other uids, and /etc/pam.d in a mount namespace"
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${RC_CHKPWD:?}" "${HELPERCONN:?}"
if [ -z "${RC_HELPER_NS:-}" ]; then
	export RC_HELPER_NS=1 ROLLCALL
	exec unshare --mount --propagation private bash "$0" "$@"
fi
setuid_host
conf_overlay
echo "member_callers = www-data" > "$CONF"

# the module, pamdrive and a setuid-root helper where every uid can reach them
stage_helper
cp "$PAMDRIVE" "$TMP/bin/pamdrive" && cp "$HELPERCONN" "$TMP/bin/helperconn" &&
	chmod 755 "$TMP/bin/pamdrive" "$TMP/bin/helperconn" ||
	{ echo "1..1"; echo "not ok 1 - cannot copy pamdrive and helperconn"; exit 1; }
pam_services "$PAMD" "rc:helper=$TMP/bin/rollcall-chkpwd" \
	"rc-notokens:helper=$TMP/bin/rollcall-chkpwd,tokens=deny" \
	"rc-roles:helper=$TMP/bin/rollcall-chkpwd,roles=owner" \
	"rc-dev:helper=$TMP/bin/rollcall-chkpwd,roles=developer" \
	"rc-perm:helper=$TMP/bin/rollcall-chkpwd,permission=manage-members" \
	"rc-missing:helper=$TMP/bin/no-such-helper"
real_pam_services "$PAMD"

rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
rc settings set lockout.attempts 3 >/dev/null
invite_accept mona developer
invite_accept nina developer
MONA=$(uid_of mona)
NINA=$(uid_of nina)
STRANGER=4242
while getent passwd "$STRANGER" >/dev/null; do STRANGER=$((STRANGER + 1)); done
MPW='mona password 12345'
NPW='nina password 12345'

# pd_as UID ARGS...: pamdrive as UID (and its gid), no other groups
pd_as() {
	local uid=$1; shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups \
		env ${RC_PRELOAD:+LD_PRELOAD=$RC_PRELOAD} "$TMP/bin/pamdrive" "$@"
}
drive_as() { local desc=$1; shift; run pd_as "$@"; if [ "$st" = 0 ]; then ok "$desc"; else not_ok "$desc"; fi; }

check "set-up: the store is out of reach of other uids" \
	setpriv --reuid="$MONA" --regid="$MONA" --clear-groups sh -c "! ls '$SD/store' 2>/dev/null"

# ---- a process verifies its own user
drive_as "a member verifies its own password (auth and account)" "$MONA" -s rc -a "$MPW" mona auth=SUCCESS acct=SUCCESS
check "... audited as a login through the helper" audit_has "login +\| mona +\| ok via password +\| pam:rc via helper, uid $MONA"
drive_as "a wrong password is refused (PAM_AUTH_ERR)" "$MONA" -s rc -a 'not it' mona auth=AUTH_ERR
expect_out 0 '"failed_attempts": ?1' "... and counted toward the lockout, as for root" rc --json member show mona
drive_as "a right one clears the count" "$MONA" -s rc -a "$MPW" mona auth=SUCCESS
expect_out 0 '"failed_attempts": ?0' "... as for root" rc --json member show mona
LONG=$(head -c 3000 /dev/zero | tr '\0' x)
run sh -c "printf 'rc\ntokens=allow\n%s' '$LONG' | setpriv --reuid=$MONA --regid=$MONA --clear-groups '$TMP/bin/rollcall-chkpwd' mona"
check "a secret longer than the helper reads (3000 bytes) is a no (1)" [ "$st" = 1 ]
expect_out 0 '"failed_attempts": ?1' "... and counted, as for root" rc --json member show mona

# ---- and no one else's
drive_as "a member cannot verify another member's password (PAM_CRED_INSUFFICIENT)" "$MONA" -s rc -a "$NPW" nina auth=CRED_INSUFFICIENT
check "... the refusal is audited with the caller's uid" audit_has "nina .*uid $MONA may not verify .*\| pam:rc via helper, uid $MONA"
expect_out 0 '"failed_attempts": ?0' "... and counts nothing against nina" rc --json member show nina
drive_as "a stranger's uid is refused" "$STRANGER" -s rc -a "$MPW" mona auth=CRED_INSUFFICIENT
check "... and audited" audit_has "mona .*uid $STRANGER may not verify .*\| pam:rc via helper, uid $STRANGER"
drive_as "an account phase alone: the helper checks it (own user)" "$MONA" -s rc mona acct=SUCCESS
drive_as "... and refuses another uid's (PAM_CRED_INSUFFICIENT)" "$STRANGER" -s rc mona acct=CRED_INSUFFICIENT
drive_as "a user name with a line break never reaches the helper: PAM_USER_UNKNOWN" "$MONA" -s rc -a "$NPW" "$(printf 'nina\nrc')" auth=USER_UNKNOWN
drive_as "a user rollcall does not know is PAM_USER_UNKNOWN (the stack goes on)" "$STRANGER" -s rc -a whatever nosuchuser auth=USER_UNKNOWN

# ---- member_callers: a local user that verifies members
WWW=$(id -u www-data)
drive_as "a user named in member_callers verifies a member's password" "$WWW" -s rc -a "$NPW" nina auth=SUCCESS acct=SUCCESS
TOKEN=$(as mona --json token generate --description helper-test | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
drive_as "... and a member's token" "$WWW" -s rc -a "$TOKEN" mona auth=SUCCESS acct=SUCCESS
drive_as "... not with tokens=deny" "$WWW" -s rc-notokens -a "$TOKEN" mona auth=AUTH_ERR
drive_as "a member verifies its own token" "$MONA" -s rc -a "$TOKEN" mona auth=SUCCESS
drive_as "roles= through the helper: a developer is refused roles=owner (PAM_PERM_DENIED)" "$WWW" -s rc-roles -a "$NPW" nina auth=SUCCESS acct=PERM_DENIED
check "... audited as an account refusal" audit_has "account +\| nina +\| refused: nina's role developer is not admitted here"
drive_as "... admitted by roles=developer" "$WWW" -s rc-dev -a "$NPW" nina auth=SUCCESS acct=SUCCESS
drive_as "... and with a token" "$WWW" -s rc-dev -a "$TOKEN" mona auth=SUCCESS acct=SUCCESS
drive_as "permission= through the helper: a developer lacks manage-members" "$WWW" -s rc-perm -a "$TOKEN" mona auth=SUCCESS acct=PERM_DENIED
drive_as "roles= on an account phase alone" "$WWW" -s rc-roles nina acct=PERM_DENIED
# a name that resolves into rollcall's id range is a rollcall user, never a
# local caller (here www-data, with id_min = 1)
printf 'member_callers = www-data\nid_min = 1\n' > "$CONF"
drive_as "member_callers naming a uid in rollcall's id range count for no one" "$WWW" -s rc -a "$NPW" nina auth=CRED_INSUFFICIENT
echo "member_callers = www-data" > "$CONF"

# ---- services: the user a service runs as verifies its users
expect 0 "service create --runs-as" rc service create db1 --runs-as daemon
expect 0 "a second service" rc service create db2
expect 0 "service set --runs-as" rc service set db2 --runs-as nobody
expect_out 0 '"runs_as": ?"daemon"' "service show --json has runs_as" rc --json service show db1
expect_out 0 'db2 .*nobody' "service list shows it" rc service list
expect_err 1 'no user "no-such-user-x"' "an unknown local user is refused" rc service set db1 --runs-as no-such-user-x
expect_err 1 'root' "root is refused" rc service set db1 --runs-as root
cp "$TMP/rollcall.conf" "$TMP/rollcall.conf.keep"
echo "id_min = 1" >> "$TMP/rollcall.conf"
expect_err 1 "in rollcall's id range" "a user in rollcall's id range is refused" rc service set db1 --runs-as www-data
cp "$TMP/rollcall.conf.keep" "$TMP/rollcall.conf"
invite_accept rita read-only
expect_err 3 'manage-services' "service set needs manage-services (a read-only member is refused)" as rita service set db1 --runs-as nobody
expect_out 0 'runs as "daemon"' "... which a developer has" as mona service set db1 --runs-as daemon
check "... audited" audit_has 'mona +\| service.set +\| db1 +\| ok runs-as daemon'
check "set-up: a service user of each" sh -c "printf '%s\n' 'db1 app password 1234567890' | $ROLLCALL --config $TMP/rollcall.conf --state-dir $SD service-user create db1 db1_app --password-stdin >/dev/null &&
	printf '%s\n' 'db2 app password 1234567890' | $ROLLCALL --config $TMP/rollcall.conf --state-dir $SD service-user create db2 db2_report --password-stdin >/dev/null"
DAEMON=$(id -u daemon)
NOBODY=$(id -u nobody)
drive_as "the service's runs-as user verifies its service user" "$DAEMON" -s rc -a 'db1 app password 1234567890' db1_app auth=SUCCESS acct=SUCCESS
drive_as "... not another service's user" "$DAEMON" -s rc -a 'db2 app password 1234567890' db2_report auth=CRED_INSUFFICIENT
drive_as "... nor a member's" "$DAEMON" -s rc -a "$MPW" mona auth=CRED_INSUFFICIENT
drive_as "member_callers do not cover service users" "$WWW" -s rc -a 'db1 app password 1234567890' db1_app auth=CRED_INSUFFICIENT
drive_as "the other service's runs-as user verifies its own" "$NOBODY" -s rc -a 'db2 app password 1234567890' db2_report auth=SUCCESS
expect 0 "runs-as cleared" rc service set db2 --runs-as ""
drive_as "... and then refused" "$NOBODY" -s rc -a 'db2 app password 1234567890' db2_report auth=CRED_INSUFFICIENT
rc service stop db1 >/dev/null
drive_as "a stopped service's user: no (its account is checked)" "$DAEMON" -s rc -a 'db1 app password 1234567890' db1_app auth=AUTH_ERR
rc service start db1 >/dev/null

# ---- the first factor only
rc settings set mfa required >/dev/null
drive_as "two-factor required and not set up: no through the helper" "$NINA" -s rc -a "$NPW" nina auth=AUTH_ERR
drive_as "... but a token is the whole login" "$MONA" -s rc -a "$TOKEN" mona auth=SUCCESS
rc settings set mfa optional >/dev/null

# ---- the lockout applies
for i in 1 2 3; do pd_as "$NINA" -s rc -a "wrong $i" nina auth=AUTH_ERR >/dev/null 2>&1; done
drive_as "locked after lockout.attempts failures through the helper (PAM_MAXTRIES)" "$NINA" -s rc -a "$NPW" nina auth=MAXTRIES
expect_out 0 '"failed_attempts": ?3' "... three counted" rc --json member show nina
drive_as "... a locked member's token still passes, roles= included" "$WWW" -s rc-dev -a "$(as nina --json token generate --description locked | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')" nina auth=SUCCESS acct=SUCCESS
drive_as "... but its password's account phase alone is refused" "$WWW" -s rc-dev nina acct=PERM_DENIED
rc member unlock nina >/dev/null
rc member deactivate nina >/dev/null
drive_as "an inactive member's account through the helper: PAM_ACCT_EXPIRED" "$WWW" -s rc-dev nina acct=ACCT_EXPIRED
rc member activate nina >/dev/null

# ---- the allowance per calling uid (caller_failures)
printf 'member_callers = www-data\ncaller_failures = 4\n' > "$CONF"
for i in 1 2 3 4; do pd_as "$NINA" -s rc -a "$MPW" mona auth=CRED_INSUFFICIENT >/dev/null 2>&1; done
drive_as "over caller_failures, a uid is refused before any check, its own password too" "$NINA" -s rc -a "$NPW" nina auth=AUTHINFO_UNAVAIL
check "... audited" audit_has "login.verify .*uid $NINA over caller_failures" 8
drive_as "... other uids are not" "$MONA" -s rc -a "$MPW" mona auth=SUCCESS
for i in 1 2 3 4 5 6; do pd_as "$MONA" -s rc -a "$MPW" mona auth=SUCCESS >/dev/null 2>&1; done
drive_as "a yes gives its count back: more yeses than caller_failures pass" "$MONA" -s rc -a "$MPW" mona auth=SUCCESS acct=SUCCESS
printf 'member_callers = www-data\ncaller_failures = 0\n' > "$CONF"
drive_as "caller_failures = 0: no allowance" "$NINA" -s rc -a "$NPW" nina auth=SUCCESS
echo "member_callers = www-data" > "$CONF"

# ---- one helper per process, kept between handles (helperconn)
rc settings set lockout.attempts 0 >/dev/null
run setpriv --reuid="$MONA" --regid="$MONA" --clear-groups \
	env ${RC_PRELOAD:+LD_PRELOAD=$RC_PRELOAD} "$TMP/bin/helperconn" rc mona "$MPW"
while read -r verdict what; do
	case $verdict in PASS) ok "helper connection: $what" ;; FAIL) not_ok "helper connection: $what" ;; esac
done < "$OUT"
check "helper connection: every check ran and passed" [ "$st" = 0 ] && [ "$(grep -c "^PASS" "$OUT")" = 12 ]
rc settings set lockout.attempts 3 >/dev/null

# ---- a missing helper, and root
drive_as "a missing helper: PAM_AUTHINFO_UNAVAIL" "$MONA" -s rc-missing -a "$MPW" mona auth=AUTHINFO_UNAVAIL
run env ${RC_PRELOAD:+LD_PRELOAD=$RC_PRELOAD} "$TMP/bin/pamdrive" -s rc-missing -a "$MPW" mona auth=SUCCESS acct=SUCCESS
if [ "$st" = 0 ]; then ok "root reads the store itself, helper or not"; else not_ok "root reads the store itself, helper or not"; fi

# ---- the helper itself
run setpriv --reuid="$MONA" --regid="$MONA" --clear-groups "$TMP/bin/rollcall-chkpwd" mona </dev/null
check "the helper refuses a malformed request (status 5)" [ "$st" = 5 ]
run setpriv --reuid="$MONA" --regid="$MONA" --clear-groups "$TMP/bin/rollcall-chkpwd" </dev/null
check "the helper wants exactly one argument" [ "$st" = 5 ]
run sh -c "printf 'x\ntokens=allow\n%s' '$MPW' | setpriv --reuid=$MONA --regid=$MONA --clear-groups '$TMP/bin/rollcall-chkpwd' mona"
check "the helper answers by its status (0)" [ "$st" = 0 ]
run sh -c "printf 'x\ntokens=allow\n%s' '$NPW' | setpriv --reuid=$MONA --regid=$MONA --clear-groups '$TMP/bin/rollcall-chkpwd' nina"
check "the helper's not allowed (4)" [ "$st" = 4 ]
check "the helper prints nothing" [ ! -s "$OUT" ]
for bad in 'account tokens=allow' 'tokens=allow roles=owner' 'account permission=nosuch' 'account roles=' 'tokens=allow via=token' 'account extra'; do
	run sh -c "printf 'x\n%s\n' '$bad' | setpriv --reuid=$MONA --regid=$MONA --clear-groups '$TMP/bin/rollcall-chkpwd' mona"
	check "a malformed request line \"$bad\" is refused (5)" [ "$st" = 5 ]
done
run sh -c "printf 'x\naccount\n%s' '$MPW' | setpriv --reuid=$MONA --regid=$MONA --clear-groups '$TMP/bin/rollcall-chkpwd' mona"
check "an account request with a secret after it is refused (5)" [ "$st" = 5 ]

# ---- the helper's serving mode, driven directly (python: a socket pair)
cat > "$TMP/serve.py" <<'EOF'
import os, socket, struct, subprocess, sys, time
helper, uid, mpw = sys.argv[1], sys.argv[2], sys.argv[3]
def start():
    a, b = socket.socketpair()
    p = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", helper, "--serve"],
                         stdin=b, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    b.close()
    return a, p
def ask(a, payload):
    a.sendall(struct.pack("=I", len(payload)) + payload)
    r = a.recv(1)
    return r[0] if r else None
def gone(p):
    try:
        p.wait(timeout=5)
        return True
    except subprocess.TimeoutExpired:
        p.kill()
        return False
def say(ok, what):
    print(("PASS " if ok else "FAIL ") + what)
a, p = start()
say(ask(a, f"mona\nsrv\ntokens=allow\n{mpw}".encode()) == 0, "a right password: 0")
say(ask(a, b"mona\nsrv\ntokens=allow\nnot it") == 1, "a wrong one on the same socket: 1")
say(ask(a, b"nina\nsrv\naccount\n") == 4, "another member's account: not allowed (4)")
say(ask(a, b"mona\nsrv\naccount\n") == 0, "the account: 0")
st = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
say(int(st[3]) == p.pid, "it runs in a session of its own (no terminal's signal reaches it)")
ign = int([l for l in open(f"/proc/{p.pid}/status") if l.startswith("SigIgn:")][0].split()[1], 16)
say(all(ign & (1 << (n - 1)) for n in (1, 2, 3, 20, 21, 22)), "it ignores SIGHUP, SIGINT, SIGQUIT, SIGTSTP, SIGTTIN and SIGTTOU")
a.close()
say(gone(p), "it ends with its socket")
a, p = start()
say(ask(a, b"mona\nsrv\nbogus\n") == 5, "a malformed request: 5")
say(gone(p), "... and it ends")
a.close()
a, p = start()
a.sendall(struct.pack("=I", 5000) + b"x" * 100)
say(gone(p), "a frame longer than the maximum ends it")
a.close()
a, p = start()
a.sendall(struct.pack("=I", 0))
say(gone(p), "an empty frame ends it")
a.close()
r, w = os.pipe()
p = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", helper, "--serve"], stdin=r)
os.close(w)
say(p.wait(timeout=5) == 5, "without a socket it refuses (5)")
os.close(r)
# one request at most 10 s long: a caller that never ends its input
r, w = os.pipe()
p = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", helper, "mona"], stdin=r)
os.write(w, b"srv\ntokens=allow\nmona pass")
t0 = time.monotonic()
try:
    code = p.wait(timeout=20)
except subprocess.TimeoutExpired:
    p.kill(); code = None
say(code == 5 and 9 <= time.monotonic() - t0 < 15, "input never ended: it gives up after 10 s (5)")
os.close(r); os.close(w)
EOF
run python3 "$TMP/serve.py" "$TMP/bin/rollcall-chkpwd" "$MONA" "$MPW"
while read -r verdict what; do
	case $verdict in PASS) ok "serving mode: $what" ;; FAIL) not_ok "serving mode: $what" ;; esac
done < "$OUT"
check "serving mode: every check ran and passed" [ "$(grep -c "^PASS" "$OUT")" = 13 ]

# ---- caller_helpers: helpers at once per calling uid
printf 'member_callers = www-data\ncaller_helpers = 2\n' > "$CONF"
cat > "$TMP/slots.py" <<'EOF'
import socket, struct, subprocess, sys
helper, uid, mpw = sys.argv[1], sys.argv[2], sys.argv[3]
def start():
    a, b = socket.socketpair()
    p = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", helper, "--serve"],
                         stdin=b, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    b.close()
    return a, p
def ask(a, payload):
    a.sendall(struct.pack("=I", len(payload)) + payload)
    r = a.recv(1)
    return r[0] if r else None
def say(ok, what):
    print(("PASS " if ok else "FAIL ") + what)
helpers = [start() for _ in range(2)]
say(all(ask(a, b"mona\nsrv\naccount\n") == 0 for a, _ in helpers), "two helpers answer")
a3, p3 = start()
say(p3.wait(timeout=10) == 9, "a third at once is refused (9)")
a3.close()
helpers[0][0].close(); helpers[0][1].wait(timeout=10)
a4, p4 = start()
say(ask(a4, b"mona\nsrv\naccount\n") == 0, "once one has ended, another starts")
for a, p in [helpers[1], (a4, p4)]:
    a.close(); p.wait(timeout=10)
EOF
run python3 "$TMP/slots.py" "$TMP/bin/rollcall-chkpwd" "$MONA" "$MPW"
while read -r verdict what; do
	case $verdict in PASS) ok "caller_helpers = 2: $what" ;; FAIL) not_ok "caller_helpers = 2: $what" ;; esac
done < "$OUT"
check "caller_helpers: every check ran and passed" [ "$(grep -c "^PASS" "$OUT")" = 3 ]
echo "member_callers = www-data" > "$CONF"

# ---- the helper under valgrind (memcheck), as root (valgrind ignores the
# setuid bit): a yes, a no, an unknown user, a malformed request
if command -v valgrind >/dev/null && [ -z "${RC_PRELOAD:-}" ]; then
	VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
		--errors-for-leak-kinds=definite,indirect --track-origins=yes --num-callers=30"
	vg_helper() {   # vg_helper STATUS DESC USER INPUT
		local n=$((T + 1))
		# shellcheck disable=SC2086
		printf '%b' "$4" | $VG --log-file="$TMP/vg.$n" "$RC_CHKPWD" "$3" >"$OUT" 2>"$ERR"
		st=$?
		if [ "$st" = "$1" ] && ! [ -s "$TMP/vg.$n" ]; then ok "valgrind: the helper: $2"
		else sed 's/^/#   vg: /' "$TMP/vg.$n" 2>/dev/null | head -30; not_ok "valgrind: the helper: $2 (exit $st, wanted $1)"; fi
	}
	vg_helper 0 "yes" mona "rc\ntokens=allow\n$MPW"
	vg_helper 1 "no" mona "rc\ntokens=allow\nnot it"
	vg_helper 2 "an unknown user" nosuchuser "rc\ntokens=allow\nwhatever"
	vg_helper 5 "a malformed request" mona "rc tokens"
	vg_helper 6 "an account refused by roles=" mona "rc\naccount roles=owner\n"
	vg_helper 0 "an account with a permission" mona "rc\naccount permission=view\n"
fi
done_testing
