#!/bin/bash
# Members and invitations: invite, accept, list/show, withdraw, resend,
# set-role, update, activate/deactivate, delete, reset-password, unlock,
# the last-owner rule, and mail delivery through mail_command.
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init"
init_store
# accept CODE PASSWORD: member accept, the code and the password on stdin
accept() { printf '%s\n%s\n' "$1" "$2" | rc member accept --password-stdin; }

expect_out 0 'Invitation code for bob <bob@example.com>' "invite prints the code" \
	rc member invite bob@example.com --role developer --name "Bob Builder"
BOB_CODE=$(grep -Eo '[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}' "$OUT")
expect_out 0 '"code":"[0-9A-Z-]{23}"' "invite --json has the code" \
	rc --json member invite carol.smith@example.com --role read-only
check "... and username, email and expires" test "$(json 'd["username"], d["email"], d["expires"][-1]')" = "carol.smith carol.smith@example.com Z"
CAROL_CODE=$(json 'd["code"]')
expect_out 0 '"username":"dave"' "invite --username sets the name" \
	rc --json member invite d.x+tag@example.com --username dave --role read-only
expect_err 1 'cannot make a user name of "e\+tag"' "an email local part that is no user name asks for --username" \
	rc member invite e+tag@example.com --role read-only
expect_err 1 'a member with the email address BOB@example.com already exists' "emails are unique, case-insensitively" \
	rc member invite BOB@example.com --role read-only --username bob2
expect_err 1 'name "bob" is already used by a member' "names are unique" \
	rc member invite other@example.com --role read-only --username bob
expect_err 1 'name "daemon" is already used by a user of this host' "names the host has are refused" \
	rc member invite daemon@example.com --role read-only
expect_err 1 'no role named "wizard"' "unknown role refused" rc member invite w@example.com --role wizard
expect_err 2 'member invite needs --role' "invite without --role is a usage error" rc member invite w@example.com

expect 0 "member list" rc --json member list
check "list shows pending members" test "$(json '[m["status"] for m in d if m["username"]=="bob"][0]')" = pending
expect 0 "member list --status pending" rc --json member list --status pending
check "... filters by status" test "$(json 'sorted(m["username"] for m in d)')" = "['bob', 'carol.smith', 'dave']"
expect 0 "member list --role read-only" rc --json member list --role read-only
check "... filters by role" test "$(json 'sorted(m["username"] for m in d)')" = "['carol.smith', 'dave']"
expect_err 2 'unknown status "sleeping"' "bad --status is a usage error" rc member list --status sleeping
expect_out 0 'full name: +Bob Builder' "show has the full name" rc member show bob
expect_out 0 'invitation: +pending' "show has the invitation state" rc member show bob

# Accepting an invitation.
expect_err 1 'password is too short: at least 12' "accept enforces password.min_length" \
	accept "$BOB_CODE" 'short'
expect_err 1 'must not be the user name or email' "accept refuses the email as password" \
	accept "$BOB_CODE" 'bob@example.com'
expect_err 1 'not a rollcall code' "a malformed code is refused" \
	accept "XYZ" 'bob password 123'
expect_err 1 'unknown invitation or reset code' "an unknown code is refused" \
	accept "AAAAA-AAAAA-AAAAA-AAAAA" 'bob password 123'
lower=$(echo "$BOB_CODE" | tr 'A-Z' 'a-z' | tr -d -)
expect_out 0 'Welcome, bob' "accept (code in lower case, without dashes)" \
	accept "$lower" 'bob password 123'
expect_out 0 'status: +active' "bob is active" rc member show bob
expect_err 1 'this invitation code was accepted' "a code works once" \
	accept "$BOB_CODE" 'bob password 123'
expect_err 2 'no terminal to ask for the code and password: use --password-stdin' "accept without a terminal needs --password-stdin" \
	sh -c "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' member accept < /dev/null"

# Withdraw and resend.
expect_err 1 'the invitation of bob is accepted; only pending' "withdraw refuses an accepted invitation" rc member withdraw bob
expect_out 0 'withdrawn' "withdraw a pending invitation" rc member withdraw dave
expect_err 1 'no member named "dave"' "a withdrawn invitation removes the pending member" rc member show dave
expect_out 0 'New invitation code for carol.smith' "resend a pending invitation" rc member resend carol.smith
NEW_CODE=$(grep -Eo '[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}' "$OUT")
expect_err 1 'unknown invitation or reset code' "the old code is dead after resend" \
	accept "$CAROL_CODE" 'carol password 1'
expect_out 0 'times resent: +1' "show counts resends" rc member show carol.smith
expect 0 "the new code works" \
	accept "$NEW_CODE" 'carol password 1'
expect_err 1 'only pending or expired invitations can be resent' "resend refuses an accepted invitation" rc member resend carol.smith

# Roles, updates, activation.
expect_out 0 'bob now has role operator' "set-role" rc member set-role bob operator
expect_out 0 'role: +operator' "... is stored" rc member show bob
expect_err 1 'no role named "nope"' "set-role to an unknown role" rc member set-role bob nope
expect 0 "update email and full name" rc member update bob --email robert@example.com --name "Robert B"
expect_out 0 'email: +robert@example.com' "... are stored" rc member show bob
expect_err 1 'a member with the email address alice@example.com already exists' "update refuses a taken email" \
	rc member update bob --email alice@example.com
expect_err 1 'full name "Robert:B" must not contain' "a ':' in the full name is refused" rc member update bob --name "Robert:B"
expect_out 0 'bob is now inactive' "deactivate" rc member deactivate bob
expect_err 1 'bob is already inactive' "deactivate twice" rc member deactivate bob
expect_out 0 'bob is now active' "activate" rc member activate bob
expect 0 "invite a pending member" rc member invite frank@example.com --role read-only
expect_err 1 'frank has not accepted the invitation yet' "a pending member cannot be activated" rc member activate frank

# Reset password and unlock.
expect_out 0 'Password reset code for bob' "reset-password issues a code" rc member reset-password bob
RESET=$(grep -Eo '[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}' "$OUT")
expect_out 0 'has password: +false' "the old password stops working" rc member show bob
expect_err 1 'must not start with "rct_": it would be taken for a token at login' "a password that looks like a token is refused" \
	accept "$RESET" 'rct_a password of bob'
expect_out 0 'has password: +false' "... nothing changed" rc member show bob
expect_out 0 'Welcome, bob' "the reset code sets a new password (the refused attempt did not use it)" \
	accept "$RESET" 'bob new password 1'
expect_out 0 'has password: +true' "... which is stored" rc member show bob
dump_store > "$TMP/before"
expect_err 1 'bob is not locked \(0 failed login attempts.*nothing was changed' "unlock of a member that is not locked says so (locked ones: pam/pam.sh)" rc member unlock bob
dump_store > "$TMP/after"
check "... and changes nothing" cmp -s "$TMP/before" "$TMP/after"
expect_err 1 'no member named "nobody-here"' "unlock of an unknown member" rc member unlock nobody-here

# Delete.
expect_err 1 "does not match bob's; nothing was deleted" "delete with the wrong email" \
	rc member delete bob --confirm bob@example.com
expect_err 2 'needs --confirm EMAIL' "delete without --confirm and no terminal" sh -c "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' member delete bob < /dev/null"
expect_out 0 'bob deleted' "delete with the email" rc member delete bob --confirm ROBERT@example.com
expect_err 1 'no member named "bob"' "bob is gone" rc member show bob
expect 0 "the name and email can be used again" rc member invite robert@example.com --username bob --role read-only

# The last owner.
expect_err 1 'alice is the last owner and cannot be deactivated' "the last owner cannot be deactivated" rc member deactivate alice
expect_err 1 'alice is the last owner and cannot be demoted' "the last owner cannot be demoted" rc member set-role alice admin
expect_err 1 'alice is the last owner and cannot be deleted' "the last owner cannot be deleted" rc member delete alice --confirm alice@example.com
invite_accept grace owner
expect 0 "with a second owner, one can be demoted" rc member set-role alice admin
expect_err 1 'grace is the last owner' "... but then not the other" rc member deactivate grace

# Mail: the code goes through mail_command, run as the caller.
cat > "$TMP/mail.sh" <<MAIL
#!/bin/sh
id -u > "$TMP/mail.uid"
cat > "$TMP/mail.txt"
MAIL
chmod 755 "$TMP/mail.sh"
printf 'mail_command = %s -t\n' "$TMP/mail.sh" > "$TMP/rollcall.conf"
expect_out 0 'Invitation code for henry sent to henry@example.com' "invite mails the code when mail_command is set" \
	rc member invite henry@example.com --role read-only
check "the code is not printed" sh -c "! grep -Eq '[0-9A-Z]{5}-[0-9A-Z]{5}-' '$OUT'"
check "the mail has the recipient and the code" sh -c "grep -q '^To: henry@example.com' '$TMP/mail.txt' && grep -Eq '[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}' '$TMP/mail.txt'"
check "the mail command ran as the caller" test "$(cat "$TMP/mail.uid")" = "$(id -u)"
check "the mail has MIME headers, a Message-ID and names the role (the whole mail: tool/mail.sh)" \
	sh -c "grep -qx 'MIME-Version: 1.0' '$TMP/mail.txt' && grep -qx 'Content-Type: text/plain; charset=UTF-8' '$TMP/mail.txt' && grep -q '^Message-ID: <rollcall\.' '$TMP/mail.txt' && grep -q 'with the role read-only' '$TMP/mail.txt'"
check "the mail tells the invitee to type the code at member accept's prompt, never to pass it" \
	sh -c "grep -q 'rollcall member accept\$' '$TMP/mail.txt' && grep -q 'type the code at its prompt' '$TMP/mail.txt' && ! grep -q 'accept CODE' '$TMP/mail.txt'"
printf 'mail_command = /bin/false\n' > "$TMP/rollcall.conf"
expect_out 0 'Invitation code for ivy' "when mailing fails the code is printed, so nothing is lost" \
	rc member invite ivy@example.com --role read-only
check "... and the failure is reported" grep -q 'mail command /bin/false failed' "$ERR"
: > "$TMP/rollcall.conf"

# Every change is in the audit log.
expect 0 "audit --json" rc --json audit
check "the audit log has the invitations, accepts, withdraw and delete" \
	test "$(json '",".join(sorted(set(e["action"] for e in d)))')" = \
	"member.accept,member.activate,member.deactivate,member.delete,member.invite,member.resend,member.reset-complete,member.reset-password,member.set-role,member.update,member.withdraw,store.init"
check "an acceptance names the uid that presented the code" \
	test "$(json '[e["result"] for e in d if e["action"] in ("member.accept", "member.reset-complete")][-1]')" = "ok, by uid $(id -u)"
expect 0 "audit --limit 2" rc --json audit --limit 2
check "... shows the newest two" test "$(json 'len(d)')" = 2

# A member named by its email address (issue 16): every command that takes
# a member's name takes its email too, in any case, and says the user name.
expect 0 "invite ro (pending)" rc member invite ro@example.com --role read-only --name "Ro Only"
expect_out 0 'username: +ro' "member show EMAIL" rc member show ro@example.com
expect_out 0 'invitation: +pending' "... with the invitation" rc member show RO@Example.COM
expect_out 0 'New invitation code for ro <ro@example.com>' "member resend EMAIL (the seeds' example)" \
	rc member resend ro@example.com
RO_CODE=$(grep -Eo '[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}' "$OUT")
expect_out 0 '"username":"ro","role":"developer"' "member set-role EMAIL (pending: the invitation follows)" \
	rc --json member set-role Ro@example.com developer
expect_out 0 'role: +developer' "... stored" rc member show ro
expect 0 "ro accepts" accept "$RO_CODE" 'ro password 12345'
expect_out 0 '^ro updated' "member update EMAIL" rc member update ro@example.com --name "Ro Two"
expect_out 0 'full name: +Ro Two' "... stored" rc member show ro
expect 0 "member update EMAIL --email NEW" rc member update ro@example.com --email ro2@example.com
expect_err 1 'no member with the email address "ro@example.com"' "... the old email names no one now" \
	rc member show ro@example.com
expect_out 0 '^ro is now inactive' "member deactivate EMAIL" rc member deactivate ro2@example.com
expect_err 1 '^rollcall: ro is already inactive' "... refusals name the member" rc member deactivate RO2@example.com
expect_out 0 '"username":"ro","status":"active"' "member activate EMAIL" rc --json member activate ro2@example.com
expect_err 1 '^rollcall: ro is not locked' "member unlock EMAIL" rc member unlock ro2@example.com
expect_err 1 '^rollcall: ro has no two-factor authentication' "member mfa-reset EMAIL" rc member mfa-reset ro2@example.com
expect 0 "token list --member EMAIL" rc --json token list --member ro2@example.com
check "... (none)" test "$(json 'len(d)')" = 0
expect_err 1 '^rollcall: no token with id aaaaaaaaaaaaaaaa' "token revoke --member EMAIL (ro has none)" \
	rc token revoke aaaaaaaaaaaaaaaa --member ro2@example.com
expect_out 0 '^0 tokens revoked' "token revoke-all --member EMAIL" rc token revoke-all --member ro2@example.com
expect_out 0 'Password reset code for ro <ro2@example.com>' "member reset-password EMAIL" \
	rc member reset-password ro2@example.com
expect_out 0 'ro deleted' "member delete EMAIL --confirm EMAIL" \
	rc member delete ro2@example.com --confirm ro2@example.com
expect 0 "invite sam (pending)" rc member invite sam@example.com --role read-only
expect_out 0 'Invitation of sam withdrawn' "member withdraw EMAIL" rc member withdraw SAM@example.com
expect_err 1 'no member named "sam"' "... sam is gone" rc member show sam
expect 0 "audit --json" rc --json audit --limit 3
check "the audit log names the member, not the email" \
	test "$(json '[e["target"] for e in d if e["action"] == "member.withdraw"][0]')" = sam
# An unknown email: refused, named, nothing changed.
dump_store > "$TMP/before"
for cmd in "show" "resend" "withdraw" "set-role @ read-only" "update @ --name X" "activate" \
	"deactivate" "delete @ --confirm nobody@example.com" "reset-password" "unlock" "mfa-reset"; do
	set -- $cmd; a=$1; shift; [ $# -gt 0 ] && shift
	expect_err 1 '^rollcall: no member with the email address "nobody@example.com"$' \
		"member $a with an unknown email is refused" rc member "$a" nobody@example.com "$@"
done
for cmd in "list" "revoke-all" "revoke aaaaaaaaaaaaaaaa"; do
	expect_err 1 '^rollcall: no member with the email address "nobody@example.com"$' \
		"token $cmd --member with an unknown email is refused" rc token $cmd --member nobody@example.com
done
dump_store > "$TMP/after"
check "... and nothing changed" cmp -s "$TMP/before" "$TMP/after"

done_testing
