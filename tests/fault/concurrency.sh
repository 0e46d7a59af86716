#!/bin/bash
# Concurrency: 8 writers (CONC_WRITERS) run 500 operations each
# (CONC_OPS) at once, in turn: an invitation (the tool), a role change (the
# tool), a token login and a TOTP login (PAM, through pam_wrapper and
# pamdrive; each login at a later injected time with libfaketime, so that
# a token's last use is written back and a TOTP code is of a new step).
# Meanwhile two NSS readers enumerate and look up users through glibc
# (nss_wrapper) without pause.  Then:
#   - no writer hung (each finishes within CONC_TIMEOUT seconds);
#   - every operation succeeded and its effect is there: every member
#     invited, every member's last role, every login returned SUCCESS;
#   - uids are unique (no lost update in allocation), and NSS shows every
#     user of the store with the store's uid;
#   - the readers never saw a malformed entry, a duplicate name or uid, a
#     user vanish, or a user's uid change.
# The logins go through the real Linux-PAM reading /etc/pam.d, which is
# this test's service directory bind-mounted in a private mount namespace:
# not pam_wrapper, whose per-process /tmp/pam.X directories (62 names, a
# stale one removed by whoever finds it) are raced for by concurrent
# logins, one process removing the directory another has just set up.
if [ "$(id -u)" = 0 ] && [ -z "${RC_CONC_NS:-}" ]; then
	exec unshare --mount --propagation private env RC_CONC_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init"
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${NSS_MODULE:?}"
"$AT_TIME" --check && command -v oathtool >/dev/null ||
	{ echo "1..1"; echo "not ok 1 - libfaketime and oathtool are needed (scripts/deps.sh)"; exit 0; }
W=${CONC_WRITERS:-8}
OPS=${CONC_OPS:-500}
LIMIT=${CONC_TIMEOUT:-900}

pam_services "$PAMD" rc rc-session:session_token rc-mfa:totp=required
real_pam_services "$PAMD"
export PAMDRIVE SD TMP ROLLCALL
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
rc settings set lockout.attempts 0 >/dev/null
# per writer: tW (token logins) and oW (TOTP logins), active members
setup_ok=1
for w in $(seq 1 "$W"); do
	invite_accept "t$w" developer || setup_ok=0
	invite_accept "o$w" developer || setup_ok=0
	pd -s rc-session -a "t$w password 12345" "t$w" auth=SUCCESS open=SUCCESS env=SUCCESS >"$OUT" 2>&1 || setup_ok=0
	sed -n 's/^env: ROLLCALL_TOKEN=//p' "$OUT" > "$TMP/token.$w"
	pd -s rc-mfa -a "o$w password 12345" -a @enroll "o$w" auth=SUCCESS >"$OUT" 2>&1 || setup_ok=0
	sed -n 's/.*Key: \([A-Z2-7]*\).*/\1/p' "$OUT" | head -1 > "$TMP/key.$w"
	[ -s "$TMP/token.$w" ] && [ -s "$TMP/key.$w" ] || setup_ok=0
done
check "set-up: $W members with a session token, $W with TOTP enrolled through PAM" test "$setup_ok" = 1

writer() {
	local w=$1 k tok key off code fails=0 members=0
	tok=$(cat "$TMP/token.$w"); key=$(cat "$TMP/key.$w")
	# an operation that failed: counted, and what it said kept
	failed() {
		fails=$((fails + 1))
		echo "writer $w, operation $k ($1): $(tail -n 4 "$TMP/o.$w" | tr '\n' ' ')" >> "$TMP/failed.$w"
	}
	for k in $(seq 1 "$OPS"); do
		case $((k % 4)) in
		1)	members=$((members + 1))
			"$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SD" member invite \
				"c${w}x$members@example.com" --role developer >"$TMP/o.$w" 2>&1 &&
				echo "member c${w}x$members developer" >> "$TMP/log.$w" || failed invite ;;
		2)	# alternate the role of this writer's members
			local role=read-only; [ $((k % 8)) = 2 ] && role=developer
			"$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SD" member set-role \
				"c${w}x$members" "$role" >"$TMP/o.$w" 2>&1 &&
				echo "member c${w}x$members $role" >> "$TMP/log.$w" || failed set-role ;;
		3)	# a token login 61 s after the last one: its use is written back
			off=$((k * 61))
			env ${RC_PRELOAD:+LD_PRELOAD=$RC_PRELOAD} "$AT_TIME" "+${off}s" \
				"$PAMDRIVE" -s rc -a "$tok" "t$w" auth=SUCCESS acct=SUCCESS \
				>"$TMP/o.$w" 2>&1 && echo "login t$w" >> "$TMP/log.$w" ||
				failed "token login" ;;
		0)	# a TOTP login three steps after the last one
			off=$((k * 30))
			code=$(oathtool --totp -b --now="@$(($(date +%s) + off))" "$key")
			env ${RC_PRELOAD:+LD_PRELOAD=$RC_PRELOAD} "$AT_TIME" "+${off}s" \
				"$PAMDRIVE" -s rc -a "o$w password 12345" -a "$code" "o$w" auth=SUCCESS \
				>"$TMP/o.$w" 2>&1 && echo "totp o$w" >> "$TMP/log.$w" ||
				failed "TOTP login" ;;
		esac
	done
	echo "$fails" > "$TMP/fails.$w"
}

# reader N: enumerate and look up until told to stop; note what is wrong
reader() {
	local n=$1
	: > "$TMP/seen.$n"
	while [ ! -e "$TMP/stop" ]; do
		nssw getent passwd > "$TMP/enum.$n" 2>/dev/null
		python3 - "$TMP/enum.$n" "$TMP/seen.$n" >> "$TMP/rbad.$n" <<'PY'
import sys
enum, seen_path = sys.argv[1], sys.argv[2]
seen = dict(l.split() for l in open(seen_path) if l.strip())
names, uids = set(), set()
for line in open(enum):
    f = line.rstrip("\n").split(":")
    if len(f) != 7 or not f[2].isdigit():
        print("malformed entry: %r" % line); continue
    if f[0] == "root":
        continue
    if f[0] in names or f[2] in uids:
        print("duplicate name or uid: %r" % line)
    names.add(f[0]); uids.add(f[2])
    if f[0] in seen and seen[f[0]] != f[2]:
        print("%s changed uid %s -> %s" % (f[0], seen[f[0]], f[2]))
    seen[f[0]] = f[2]
for n in seen:
    if n not in names:
        print("%s vanished" % n)
with open(seen_path, "w") as out:
    for n, u in seen.items():
        out.write("%s %s\n" % (n, u))
PY
		nssw getent passwd t1 >/dev/null 2>&1 || echo "t1 not found" >> "$TMP/rbad.$n"
		nssw getent group rollcall-members >/dev/null 2>&1 || echo "rollcall-members not found" >> "$TMP/rbad.$n"
	done
}

# readers and writers run in process groups of their own (bg): still
# running when this test ends, however it ends, they go with it
rpid1= rpid2= pids=
for n in 1 2; do : > "$TMP/rbad.$n"; bg reader "$n"; eval "rpid$n=$BG_PID"; done
start=$(date +%s)
pids=
for w in $(seq 1 "$W"); do
	: > "$TMP/log.$w"
	bg timeout "$LIMIT" bash -c "$(declare -f writer); W=$W OPS=$OPS RC_PRELOAD='${RC_PRELOAD:-}'; writer $w"
	pids="$pids $BG_PID"
done
hung=0
for p in $pids; do wait "$p" || hung=$((hung + 1)); done
took=$(($(date +%s) - start))
touch "$TMP/stop"
for p in $rpid1 $rpid2; do wait_bounded "$p" 60 || echo "reader $p did not stop within 60 s" >> "$TMP/rbad.1"; done
echo "# $W writers x $OPS operations in ${took}s; $(cat "$TMP"/enum.1 | wc -l) users at the end"

check "no writer hung or died ($hung did, limit ${LIMIT}s)" test "$hung" = 0
fails=$(cat "$TMP"/fails.* 2>/dev/null | awk '{s += $1} END {print s + 0}')
check "all $((W * OPS)) operations succeeded ($fails failed)" test "$fails" = 0 -a "$(cat "$TMP"/log.* | wc -l)" = "$((W * OPS))"
[ "$fails" = 0 ] || cat "$TMP"/failed.* | head -n 5 | sed 's/^/#   /'
check "$((W * OPS / 4)) token logins and $((W * OPS / 4)) TOTP logins passed" \
	test "$(cat "$TMP"/log.* | grep -c '^login ')" = "$((W * OPS / 4))" -a "$(cat "$TMP"/log.* | grep -c '^totp ')" = "$((W * OPS / 4))"
rc --json member list > "$TMP/members.json"
res=$(python3 - "$TMP" "$W" <<'PY'
import json, sys
tmp, w = sys.argv[1], int(sys.argv[2])
members = {m["username"]: m["role"] for m in json.load(open(tmp + "/members.json"))}
want, problems = {}, []
for i in range(1, w + 1):
    for line in open("%s/log.%d" % (tmp, i)):
        f = line.split()
        if f[0] == "member":
            want[f[1]] = f[2]
for name, role in want.items():
    if members.get(name) != role:
        problems.append("%s: %s, last reported %s" % (name, members.get(name), role))
print("%d members checked; %s" % (len(want), "; ".join(problems[:3]) or "all as reported"))
PY
)
echo "# $res"
check "every invited member is there with its last role" sh -c "echo '$res' | grep -q 'all as reported'"
nssw getent passwd | grep -v '^root:' > "$TMP/final"
check "uids are unique" test "$(cut -d: -f3 "$TMP/final" | sort | uniq -d | wc -l)" = 0
check "NSS shows every member" test "$(python3 -c "import json; print(len(json.load(open('$TMP/members.json'))))")" = "$(grep -c ':/bin/bash$' "$TMP/final")"
check "each member's uid in NSS is the store's" sh -c "rc() { \"\$ROLLCALL\" --config '$TMP/rollcall.conf' --state-dir '$SD' \"\$@\"; }; for u in c1x1 c${W}x$((OPS / 4)) t1 o$W; do want=\$(rc --json member show \$u | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"uid\"])'); grep -q \"^\$u:[*]:\$want:\" '$TMP/final' || exit 1; done"
check "the NSS readers never saw a malformed, duplicate, vanished or renumbered user" \
	test "$(cat "$TMP"/rbad.* | wc -l)" = 0
cat "$TMP"/rbad.* | head -5 | sed 's/^/#   /'
check "the readers ran throughout" test "$(wc -l < "$TMP/seen.1")" -gt 0
done_testing
