#!/bin/bash
# Crash consistency: writers killed with SIGKILL at random points, 200
# times (CRASH_ROUNDS), alternating between the tool (invitations, role
# changes, settings) and PAM (pamdrive through the real Linux-PAM, which
# reads this test's service files bind-mounted on /etc/pam.d in a private
# mount namespace; pam_wrapper's /tmp/pam.X directories, left behind by
# every kill, would be raced for by other tests' logins: password
# logins with a session token minted at open_session, and logins with a
# token as the password, each at an injected time 61 s after the last so
# that its use is written back).  After each kill:
#   - the store opens (rollcall status) and mdb_stat reads every database;
#   - every change whose command reported success is there: each invited
#     member, each member's last reported role, each reported setting, each
#     session token whose open_session returned, and each token login
#     (the token's last use is no earlier than the last one reported);
#   - the NSS snapshot names exactly the store's users (getent through
#     nss_wrapper against member and service-user lists), and its
#     generation is the store's.
if [ "$(id -u)" = 0 ] && [ -z "${RC_CRASH_NS:-}" ]; then
	exec unshare --mount --propagation private env RC_CRASH_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init"
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${NSS_MODULE:?}"
ROUNDS=${CRASH_ROUNDS:-200}
"$AT_TIME" --check ||
	{ echo "1..1"; echo "not ok 1 - libfaketime is needed (scripts/deps.sh)"; exit 0; }

pam_service rc-session session_token
real_pam_services "$PAMD"
printf 'root:x:0:0:root:/root:/bin/bash\n' > "$TMP/passwd"
printf 'root:x:0:\n' > "$TMP/group"
nssw() {
	env LD_PRELOAD="${RC_PRELOAD:+$RC_PRELOAD:}libnss_wrapper.so" NSS_WRAPPER_PASSWD="$TMP/passwd" \
	    NSS_WRAPPER_GROUP="$TMP/group" NSS_WRAPPER_MODULE_SO_PATH="$NSS_MODULE" \
	    NSS_WRAPPER_MODULE_FN_PREFIX=rollcall ROLLCALL_STATE_DIR="$SD" "$@"
}

init_store
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
rc settings set token.login_limit 1000 >/dev/null
rc service create db1 >/dev/null
PW='alice password 1'
# tina logs in with a session token as her password (token_writer)
invite_accept tina developer
pd -s rc-session -a "tina password 12345" tina auth=SUCCESS open=SUCCESS env=SUCCESS >"$OUT" 2>&1
TOK=$(sed -n 's/^env: ROLLCALL_TOKEN=//p' "$OUT")
TOKID=$(printf '%s\n' "$TOK" | sed -n 's/^rct_\([a-z2-7]*\)_.*/\1/p')
check "set-up: tina has a session token to log in with" test -n "$TOKID"
echo 0 > "$TMP/tclock"
BASE=$(date +%s)
LOG=$TMP/reported     # what the writers reported done, one line each

# The tool writer: each step is a change, then a line saying it was done.
tool_writer() {
	local r=$1 i=0 who
	while :; do
		i=$((i + 1))
		rc member invite "r${r}m$i@example.com" --role developer >/dev/null 2>&1 &&
			echo "member r${r}m$i developer" >> "$LOG"
		if [ $((i % 2)) = 0 ]; then
			who=r${r}m$((i - 1))
			# a change killed after its commit but before its line is
			# written may be there or not: the attempt is noted first
			echo "try member $who read-only" >> "$LOG"
			rc member set-role "$who" read-only >/dev/null 2>&1 &&
				echo "member $who read-only" >> "$LOG"
		fi
		if [ $((i % 3)) = 0 ]; then
			echo "try setting invite.ttl $((r * 10 + i))h" >> "$LOG"
			rc settings set invite.ttl "$((r * 10 + i))h" >/dev/null 2>&1 &&
				echo "setting invite.ttl $((r * 10 + i))h" >> "$LOG"
		fi
		rc service-user create db1 "r${r}u$i" --read-only >/dev/null 2>&1 &&
			echo "svcuser r${r}u$i" >> "$LOG"
	done
}
# The token writer: logins with tina's token as the password, the n-th at
# the injected time BASE + 61n (libfaketime starts its clock there), so each
# is 61 s after the last and its use is written back; reported with that
# time.  n moves on by rename, so that a kill never loses or repeats it.
token_writer() {
	local n t
	while :; do
		n=$(($(cat "$TMP/tclock") + 1))
		echo "$n" > "$TMP/tclock.new" && mv -f "$TMP/tclock.new" "$TMP/tclock" || continue
		t=$((BASE + n * 61))
		pd_at "@$t" -s rc-session -a "$TOK" tina auth=SUCCESS acct=SUCCESS \
			>/dev/null 2>&1 && echo "tokenuse $TOKID $t" >> "$LOG"
	done
}
# The PAM writer: password logins that open a session (a login token is
# written at open_session), reported with the token's id.
pam_writer() {
	local out=$TMP/pam.$1 id
	while :; do
		pd -s rc-session -a "$PW" alice auth=SUCCESS open=SUCCESS env=SUCCESS >"$out" 2>&1 &&
			id=$(sed -n 's/^env: ROLLCALL_TOKEN=rct_\([a-z2-7]*\)_.*/\1/p' "$out") &&
			[ -n "$id" ] && echo "token $id" >> "$LOG"
	done
}

# verify ROUND: the store after a kill
verify() {
	local r=$1 fail=
	if ! rc status >"$TMP/status" 2>"$ERR"; then
		fail="the store does not open: $(head -2 "$ERR")"
	elif ! mdb_stat -a "$SD/store" >"$TMP/mdbstat" 2>&1; then
		fail="mdb_stat fails: $(tail -2 "$TMP/mdbstat")"
	elif ! mdb_dump -a "$SD/store" >/dev/null 2>"$TMP/dumperr"; then
		fail="mdb_dump cannot read every record: $(head -2 "$TMP/dumperr")"
	fi
	if [ -z "$fail" ]; then
		rc --json member list >"$TMP/members.json" 2>"$ERR" || fail="member list fails"
		rc --json service-user list db1 >"$TMP/svcusers.json" 2>>"$ERR" || fail="service-user list fails"
		rc --json settings show >"$TMP/settings.json" 2>>"$ERR" || fail="settings fails"
		rc --json token list --member alice >"$TMP/tokens.json" 2>>"$ERR" || fail="token list fails"
		rc --json token list --member tina >"$TMP/tinatokens.json" 2>>"$ERR" || fail="token list fails"
	fi
	if [ -z "$fail" ]; then
		fail=$(python3 - "$LOG" "$TMP" <<'PY'
import json, re, sys
from datetime import datetime
def secs(d):
    u = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
    return sum(int(n) * u[x] for n, x in re.findall(r"(\d+)([wdhms])", d))
log, tmp = sys.argv[1], sys.argv[2]
members = {m["username"]: m["role"] for m in json.load(open(tmp + "/members.json"))}
svc = {u["username"] for u in json.load(open(tmp + "/svcusers.json"))}
settings = {s["setting"]: s["value"] for s in json.load(open(tmp + "/settings.json"))}
tokens = {t["id"] for t in json.load(open(tmp + "/tokens.json"))}
used = {t["id"]: t["last_used"] for t in json.load(open(tmp + "/tinatokens.json"))}
# what each name may be: the last reported value, or one attempted since
role, setting, problems = {}, None, []
for line in open(log):
    w = line.split()
    if w[0] == "try":
        if w[1] == "member" and w[2] in role:
            role[w[2]].add(w[3])
        elif w[1] == "setting" and setting:
            setting.add(secs(w[3]))
    elif w[0] == "member":
        role[w[1]] = {w[2]}
    elif w[0] == "setting":
        setting = {secs(w[2])}
    elif w[0] == "svcuser" and w[1] not in svc:
        problems.append("service user %s reported created, missing" % w[1])
    elif w[0] == "token" and w[1] not in tokens:
        problems.append("token %s reported minted, missing" % w[1])
    elif w[0] == "tokenuse":
        last = used.get(w[1])
        t = datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").timestamp() if last else 0
        if t < int(w[2]) - 1:
            problems.append("token %s: last used %s, a login reported at %s" % (w[1], last, w[2]))
for name, r in role.items():
    if name not in members:
        problems.append("member %s reported invited, missing" % name)
    elif members[name] not in r:
        problems.append("member %s: role %s, reported %s" % (name, members[name], r))
if setting and secs(settings.get("invite.ttl", "")) not in setting:
    problems.append("invite.ttl is %s, reported %s" % (settings.get("invite.ttl"), setting))
print("; ".join(problems[:3]))
PY
) || fail="the check itself failed: $fail"
	fi
	if [ -z "$fail" ]; then
		# the snapshot: the same users as the store (after the catch-up
		# that "rollcall status" did), and the store's generation
		nssw getent passwd | cut -d: -f1 | grep -vx root | sort >"$TMP/nss.names"
		python3 -c "
import json
m = [x['username'] for x in json.load(open('$TMP/members.json'))]
s = [x['username'] for x in json.load(open('$TMP/svcusers.json'))]
print('\n'.join(sorted(m + s + ['db1_admin'] if 'db1_admin' not in s else m + s)))" | sort >"$TMP/store.names"
		if ! cmp -s "$TMP/nss.names" "$TMP/store.names"; then
			fail="the snapshot differs from the store: $(diff "$TMP/store.names" "$TMP/nss.names" | head -3 | tr '\n' ' ')"
		fi
	fi
	[ -z "$fail" ] && return 0
	echo "# round $r: $fail"
	return 1
}

# each writer runs in a process group of its own (bg): one still running
# when this test ends, however it ends, goes with it
pid=
: > "$LOG"
bad=0
kills=0
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then
		bg tool_writer "$r"
	elif [ $((r % 4)) = 0 ]; then
		bg token_writer "$r"
	else
		bg pam_writer "$r"
	fi
	pid=$BG_PID
	# the writer is killed for certain: its process group exists before
	# the clock starts, and none of it is left after the kill
	if ! why=$(group_wait_leader "$pid"); then
		echo "# round $r: $why"; bad=$((bad + 1)); group_kill "$pid" >/dev/null; continue
	fi
	# a random point: 20 to 320 ms in
	sleep "0.$(printf '%03d' $((RANDOM % 300 + 20)))"
	if why=$(group_kill "$pid"); then
		bg_forget "$pid"
		kills=$((kills + 1))
	else
		echo "# round $r: the writer could not be killed: $why"; bad=$((bad + 1)); break
	fi
	pid=
	verify "$r" || bad=$((bad + 1))
done
echo "# $kills kills, $(grep -vc '^try' "$LOG") changes reported"
check "$ROUNDS writers killed with SIGKILL (the tool, PAM session logins and PAM token logins in turn): each time the store opened, mdb_stat and mdb_dump read it, every reported change was there and the snapshot matched ($bad rounds wrong)" test "$bad" = 0 -a "$kills" -ge "$ROUNDS"
check "the writers got work done between the kills" test "$(grep -vc '^try' "$LOG")" -ge "$ROUNDS"
check "... including PAM logins with session tokens" grep -q '^token ' "$LOG"
check "... and PAM logins with a token as the password" grep -q '^tokenuse ' "$LOG"
check "... and role changes" grep -q 'read-only$' "$LOG"
done_testing
