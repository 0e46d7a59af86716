#!/bin/bash
# A caller that stops its own setuid tool freezes nothing (issue 14, item 2).
# As root, in a private mount namespace where the test store is bind-mounted
# on the compiled-in state directory and this test's PAM services on
# /etc/pam.d (the real Linux-PAM, pamdrive): a member starts a setuid copy
# of the tool -- rollcall passwd, token generate, mfa enable, and (a
# local user holding an invitation code) member accept -- and sends it
# SIGSTOP at a random point 0-400 ms in (STOP_ROUNDS rounds of the four),
# as its caller may.  Each time, while it is stopped (if the signal was
# taken), another member's password login and root's account phase
# complete within 1 s.  Before, every store open began a write transaction
# and member accept hashed inside one: a stop there held the store's only
# writer lock, and every login on the host waited.  Now the tool is fully
# root before it writes (its caller may no longer signal it), an open
# takes no writer lock, and no hashing runs inside a write transaction.
# Then the tool is let go and finishes.  Root only.
. "$(dirname "$0")/../lib.sh"
require_root "setuid copies of the tool as other uids, and /etc/pam.d in a mount namespace"
: "${PAM_MODULE:?}" "${PAMDRIVE:?}"
DEFAULT_SD=${RC_DEFAULT_STATE_DIR:-/var/lib/rollcall}
if [ -z "${RC_STOP_NS:-}" ]; then
	export RC_STOP_NS=1 ROLLCALL
	exec unshare --mount --propagation private bash "$0" "$@"
fi
ROUNDS=${STOP_ROUNDS:-6}
setuid_host
pam_services "$PAMD" rc rc-session:session_token
real_pam_services "$PAMD"
# (the tools it stops run in groups of their own, killed on any exit: bg)

# hashes that take a while (the window the stop had to hit), the same for
# the watcher, so that its login is not rehashed
rc settings set argon2.memlimit_kib 65536 >/dev/null
rc settings set argon2.opslimit 2 >/dev/null
rc settings set token.api_limit 1000 >/dev/null
invite_accept watcher read-only
invite_accept mona developer
MONA=$(uid_of mona)
STRANGER=4242
while getent passwd "$STRANGER" >/dev/null; do STRANGER=$((STRANGER + 1)); done
# the watcher logs in with a session token (no argon2id: its login takes
# milliseconds, however busy the machine, unless something holds the store)
pd -s rc-session -a 'watcher password 12345' watcher auth=SUCCESS open=SUCCESS env=SUCCESS >"$OUT" 2>&1
WTOK=$(sed -n 's/^env: ROLLCALL_TOKEN=//p' "$OUT")
check "set-up: the watcher logs in with a token" pd -s rc -a "$WTOK" watcher auth=SUCCESS acct=SUCCESS

n=0 bad=0 taken=0 early=0
PW='mona password 12345'
for round in $(seq 1 "$ROUNDS"); do
	for what in passwd token mfa accept; do
		n=$((n + 1))
		who=$MONA
		case $what in
		passwd)	NEW="mona password $round$n"
			printf '%s\n%s\n' "$PW" "$NEW" > "$TMP/in"; args="passwd --password-stdin" ;;
		token)	: > "$TMP/in"; args="token generate --description stop$n" ;;
		mfa)	rc member mfa-reset mona >/dev/null 2>&1
			: > "$TMP/in"; args="--json mfa enable" ;;
		accept)	code=$(rc --json member invite "s$n@example.com" --role read-only | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
			printf '%s\n%s\n' "$code" "s$n password 12345" > "$TMP/in"
			args="member accept --password-stdin"; who=$STRANGER ;;
		esac
		bg setpriv --reuid="$who" --regid="$who" --clear-groups "$TMP/bin/rollcall" $args \
			< "$TMP/in" > "$TMP/tool.out" 2>&1
		pid=$BG_PID
		sleep "0.$(printf '%03d' $((RANDOM % 400)))"
		# the caller stops its own tool, as it may
		if setpriv --reuid="$who" --regid="$who" --clear-groups kill -STOP "$pid" 2>/dev/null; then
			# The kernel lets a caller signal its setuid program until
			# that takes root's real uid, first thing in main (after
			# the dynamic loader: milliseconds on a busy machine).  A
			# stop there is harmless; one that finds a file of the
			# store open is the bug this test is about.
			if ls -l "/proc/$pid/fd" 2>/dev/null | grep -q 'data\.mdb\|lock\.mdb\|host\.mdb'; then
				taken=$((taken + 1))
			else
				early=$((early + 1))
			fi
		fi
		fail=
		PD_TIMEOUT=1 pd -s rc \
			-a "$WTOK" watcher auth=SUCCESS acct=SUCCESS >"$TMP/login" 2>&1 ||
			fail="the watcher's login did not complete within 1 s ($(tail -1 "$TMP/login"))"
		PD_TIMEOUT=1 pd -s rc root acct=USER_UNKNOWN \
			>"$TMP/root" 2>&1 || fail="${fail:+$fail; }root's account phase did not complete within 1 s"
		kill -CONT "$pid" 2>/dev/null
		wait_bounded "$pid" 60 >/dev/null 2>&1; st=$?
		if [ "$what" = passwd ] && [ "$st" = 0 ]; then PW=$NEW; fi
		[ "$st" = 0 ] || fail="${fail:+$fail; }the tool ($what) exited $st: $(tail -1 "$TMP/tool.out")"
		if [ -n "$fail" ]; then
			bad=$((bad + 1))
			echo "# $what, round $round: $fail"
		fi
	done
done
echo "# $n stops tried: $taken taken while the tool had the store open, $early before it took root's ids"
check "$n times a caller SIGSTOPped its own setuid rollcall (passwd, token generate, mfa enable, member accept) 0-400 ms in: another member's login and root's account phase completed within 1 s, and the tool finished ($bad wrong)" test "$bad" = 0
check "... the caller could not stop it once it had the store open (it had taken root's ids)" test "$taken" = 0

# A setuid-root PAM application (su, sudo, passwd: here a setuid copy of
# pamdrive) keeps its caller as its real uid; while pam_rollcall works in
# it (here, argon2id of mona's password), the caller cannot signal it.
cp "$PAMDRIVE" "$TMP/bin/pamdrive" && chown root:root "$TMP/bin/pamdrive" && chmod 4755 "$TMP/bin/pamdrive"
bg setpriv --reuid="$MONA" --regid="$MONA" --clear-groups "$TMP/bin/pamdrive" -s rc -a "$PW" mona auth=SUCCESS \
	> "$TMP/suid.out" 2>&1
pid=$BG_PID
refused=0 allowed=0
while ! proc_gone "$pid"; do
	if setpriv --reuid="$MONA" --regid="$MONA" --clear-groups kill -0 "$pid" 2>/dev/null; then
		allowed=$((allowed + 1))
	elif ! proc_gone "$pid"; then
		refused=$((refused + 1))
	fi
	sleep 0.005
done
wait_bounded "$pid" 60; st=$?
echo "# the caller's signals to the setuid PAM application: $allowed allowed, $refused refused"
check "a member cannot signal a setuid PAM application it started while pam_rollcall works in it" \
	test "$refused" -gt 0 -a "$st" = 0
done_testing
