#!/bin/bash
# No secret on the command line (issue 14): every local user can read
# /proc/PID/cmdline, so a code typed as an argument could be read while the
# tool waits for the new password, and used first.  member accept refuses
# a code given as an argument (exit 2) without using it; on a terminal it
# asks for the code without echo, with --password-stdin it reads the code
# and the password as two lines; either way the code is never in the
# tool's command line while it waits.  (mfa confirm/disable and token
# revoke: tool/bad_input.sh and pam/selfservice.sh.)
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init"
python3 -c 'import pexpect' 2>/dev/null ||
	{ echo "1..1"; echo "not ok 1 - python3-pexpect is missing (scripts/deps.sh)"; exit 1; }
init_store
code_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])'; }
# cmdline_has PID TEXT: the NUL-separated command line of PID contains TEXT
cmdline_has() { tr '\0' ' ' < "/proc/$1/cmdline" | grep -qiF -- "$2"; }

CODE=$(rc --json member invite bob@example.com --role developer | code_of)
bare=$(echo "$CODE" | tr -d -)

# ---- a code as an argument: refused, not used
dump_store > "$TMP/before"
expect_err 2 'member accept takes no code on the command line, where every local user can read it: type it at the prompt, or give it on standard input with --password-stdin \(the code on the first line, the new password on the second\); it was not used' \
	"a code given as an argument is refused (exit 2) saying how to pass it" \
	sh -c "printf 'bob password 123\n' | '$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' member accept '$CODE' --password-stdin"
check "... the message is one line" test "$(wc -l < "$ERR")" = 1
expect_err 2 'takes no code on the command line' "... also without --password-stdin" rc member accept "$CODE"
expect_err 2 'takes no code on the command line' "... also after --" rc member accept --password-stdin -- "$CODE"
dump_store > "$TMP/after"
check "... nothing in the store changed" cmp -s "$TMP/before" "$TMP/after"
expect_out 0 'status: +pending' "... bob is still pending" rc member show bob

# ---- on a terminal: asked for without echo, never in the command line
cat > "$TMP/accept_tty.py" <<'PY'
import os, sys, pexpect
tool, conf, sd, code, pw = sys.argv[1:6]
p = pexpect.spawn(tool, ["--config", conf, "--state-dir", sd, "member", "accept"],
                  encoding="utf-8", timeout=20)
p.expect("Invitation or reset code: ")
p.sendline(code)
p.expect("New password: ")
echoed = p.before
with open("/proc/%d/cmdline" % p.pid, "rb") as f:
    cmdline = f.read().replace(b"\0", b" ").decode()
print("waiting:", "yes" if p.isalive() else "no")
print("cmdline:", cmdline)
print("code echoed:", "yes" if code.lower() in echoed.lower() else "no")
p.sendline(pw)
p.expect("Retype it: ")
p.sendline(pw)
p.expect(pexpect.EOF)
p.close()
print("tail:", p.before.strip().replace("\n", " | "))
print("status:", p.exitstatus)
PY
run python3 "$TMP/accept_tty.py" "$ROLLCALL" "$TMP/rollcall.conf" "$SD" "$CODE" 'bob password 123'
check "on a terminal, member accept asks for the code, then the new password twice" grep -q '^status: 0' "$OUT"
check "... while it waits for the password, its command line has no code" \
	sh -c "grep -q '^waiting: yes' '$OUT' && grep -q '^cmdline: .*member accept' '$OUT' && ! grep -iqF -e '$CODE' -e '$bare' '$OUT'"
check "... and the code is not echoed" grep -q '^code echoed: no' "$OUT"
check "... and the member is welcomed" grep -q 'Welcome, bob' "$OUT"
expect_out 0 'status: +active' "... bob is active" rc member show bob

# ---- --password-stdin: the code is the first line, read before the password
RESET=$(rc --json member reset-password bob | code_of)
mkfifo "$TMP/fifo"
# (in a process group of its own, killed on any exit: bg; the fifo is
# opened by the background process, which then is the tool itself)
accept_fifo() {
	exec "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SD" member accept \
		--password-stdin < "$TMP/fifo" > "$TMP/fifo.out" 2>&1
}
bg accept_fifo
pid=$BG_PID
exec 3> "$TMP/fifo"
printf '%s\n' "$RESET" >&3
sleep 0.5
if [ -r "/proc/$pid/cmdline" ] && cmdline_has "$pid" "member accept --password-stdin" &&
   ! cmdline_has "$pid" "$RESET"; then
	ok "with --password-stdin, while it waits for the password line, its command line has no code"
else
	not_ok "with --password-stdin, the command line has no code ($(tr '\0' ' ' < "/proc/$pid/cmdline" 2>&1))"
fi
printf '%s\n' 'bob password 456' >&3
exec 3>&-
wait_bounded "$pid" 20; st=$?
check "... and the reset code then sets the password (exit $st)" sh -c "[ $st = 0 ] && grep -q 'Welcome, bob' '$TMP/fifo.out'"

# ---- the audit log names the uid that presented each code
expect 0 "audit --json" rc --json audit
check "the invitation's acceptance is audited with the caller's uid" \
	test "$(json '[e["result"] for e in d if e["action"] == "member.accept" and e["target"] == "bob"][-1]')" = "ok, by uid $(id -u)"
check "... and the reset's" \
	test "$(json '[e["result"] for e in d if e["action"] == "member.reset-complete"][-1]')" = "ok, by uid $(id -u)"

# ---- the owner's first invitation, as init prints it
rm -rf "$SD"
expect_out 0 'rollcall member accept" and type the code' "init tells the owner to type the code, not to pass it" \
	rc init --owner alice@example.com
check "... and never to put it on the command line" sh -c "! grep -q 'member accept CODE' '$OUT'"

done_testing
