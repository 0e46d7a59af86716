#!/bin/bash
# Invitation expiry, resend and withdraw at injected times (libfaketime):
# the real binary, with the clock moved forward.
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init"
"$AT_TIME" --check || { echo "1..0 # SKIP libfaketime is not installed"; exit 0; }
init_store
at() { local off=$1; shift; "$AT_TIME" "+$off" "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SD" "$@"; }
accept() { printf '%s\na good password 1\n' "$2" | at "$1" member accept --password-stdin; }

CODE=$(rc --json member invite bob@example.com --role developer | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
C2=$(rc --json member invite carol@example.com --role developer | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
expect_out 0 'invitation: +pending' "23 hours later the invitation is pending" at 23h member show bob
expect_out 0 'invitation: +expired' "25 hours later it is expired" at 25h member show bob
expect_err 1 'this invitation code has expired; ask for the invitation to be resent' "an expired code is refused" accept 25h "$CODE"
expect_out 0 'status: +pending' "... and bob stays pending" rc member show bob
expect_err 1 'the invitation of bob is expired; only pending invitations can be withdrawn' "an expired invitation cannot be withdrawn" at 25h member withdraw bob
expect_out 0 'New invitation code for bob' "an expired invitation can be resent" at 25h member resend bob
NEW=$(grep -Eo '[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}' "$OUT")
expect_out 0 'invitation: +pending' "after resend it is pending again" at 26h member show bob
expect_out 0 'invitation expires: +[0-9T:-]+Z' "with a new expiry" at 26h member show bob
expect_err 1 'unknown invitation or reset code' "the old code is dead" accept 26h "$CODE"
expect_err 1 'has expired' "the new code expires 24 hours after the resend" accept 50h "$NEW"
expect_out 0 'Welcome, bob' "the new code works within its day" accept 48h "$NEW"
expect_out 0 'withdrawn' "a pending invitation can be withdrawn before it expires" at 1h member withdraw carol
expect_err 1 'unknown invitation or reset code|was withdrawn' "a withdrawn code is refused" accept 2h "$C2"
expect 0 "invite.ttl = 1h" rc settings set invite.ttl 1h
CODE=$(rc --json member invite dan@example.com --role developer | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
expect_err 1 'has expired' "with invite.ttl 1h, a code is dead 61 minutes later" accept 61m "$CODE"
expect_out 0 'Welcome, dan' "... and alive 59 minutes later" accept 59m "$CODE"
# A reset code expires too.
rc member reset-password dan >"$OUT" 2>&1
RESET=$(grep -Eo '[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}' "$OUT")
expect_err 1 'this reset code has expired' "a reset code expires after invite.ttl" accept 2h "$RESET"

done_testing
