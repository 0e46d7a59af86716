#!/bin/bash
# The bad-input corpus: each case exits 1 or 2 with a message on stderr that
# names the problem, and leaves every database of the store as it was (the
# audit log aside: a refusal for lack of permission is recorded there).
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init"
init_store
invite_accept bob developer
rc member invite carol@example.com --role read-only >/dev/null
rc service create db1 >/dev/null
rc service create db2 >/dev/null
rc service stop db2 >/dev/null
pw24=abcdefghijklmnopqrstuvwx
printf '%s\n' "$pw24" | rc service-user create db1 user_two --password-stdin >/dev/null
nl=$'\n'
ctl=$'\x01'
long300=$(printf 'a%.0s' $(seq 300))

# bad STATUS REGEX CMD...: refused with STATUS, stderr matching REGEX, store unchanged
bad() {
	local want=$1 re=$2; shift 2
	dump_store > "$TMP/before"
	run "$@"
	dump_store > "$TMP/after"
	local desc="refused: $(printf '%q ' "${@:2}" | cut -c1-90)"
	if [ "$st" != "$want" ]; then
		not_ok "$desc (exit $st, wanted $want)"
	elif ! grep -Eq -- "$re" "$ERR" || ! head -1 "$ERR" | grep -q '^rollcall: '; then
		not_ok "$desc (stderr does not match /$re/)"
	elif ! cmp -s "$TMP/before" "$TMP/after"; then
		not_ok "$desc (the store changed)"; diff "$TMP/before" "$TMP/after" | head -5 | sed 's/^/#   /'
	else
		ok "$desc"
	fi
}
stdin() { local input=$1; shift; printf '%s' "$input" | "$@"; }

# Usage errors (exit 2)
bad 2 'unknown option "--colour"' rc member list --colour
bad 2 'unknown option "-x"' rc member list -x
bad 2 'option --role needs a value' rc member invite x@example.com --role
bad 2 'missing argument: rollcall member show NAME' rc member show
bad 2 'too many arguments' rc member show bob carol
bad 2 'unknown action "member promote"' rc member promote bob
bad 2 'unknown action "service-user rename"' rc service-user rename db1 x
bad 2 'missing argument' rc service-user create db1
bad 2 'member invite needs --role' rc member invite x@example.com
bad 2 'init needs --owner' rc init
bad 2 '--state-dir needs a value' "$ROLLCALL" member list --state-dir
bad 2 'state directory "relative/dir" is not an absolute path' "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir relative/dir member list
bad 2 'unknown status' rc member list --status gone
bad 2 '--limit: bad number "ten"' rc audit --limit ten
bad 2 '--since: bad duration "yesterday"' rc audit --since yesterday
bad 2 '--replication takes on or off' rc service-user set db1 db1_admin --replication maybe
bad 2 'needs --read-only, --replication or --name' rc service-user set db1 db1_admin
bad 2 'member update needs --email or --name' rc member update bob
# lib names the input; the tool, its option
bad 1 'is too long for a user name: give one \(--username\)$' rc member invite "$(printf 'a%.0s' $(seq 40))@example.com" --role developer
bad 1 'root has no tokens of its own: name a member or a service user \(--member or --service-user\)$' rc token generate --description x
bad 1 'no user "no-such-user-x" on this host \(--runs-as\)$' rc service create web9 --runs-as no-such-user-x
bad 2 'no invitation or reset code on standard input' stdin "" rc member accept --password-stdin
bad 2 'no new password on standard input' stdin "AAAAA-AAAAA-AAAAA-AAAAA$nl" rc member accept --password-stdin
# Secrets on the command line (readable by every local user): refused, unused
bad 2 'member accept takes no code on the command line.*--password-stdin \(the code on the first line' stdin "a good password 1$nl" rc member accept AAAAA-AAAAA-AAAAA-AAAAA --password-stdin
bad 2 'member accept takes no code on the command line' rc member accept AAAAA-AAAAA-AAAAA-AAAAA
bad 2 'mfa confirm takes no code on the command line.*--code-stdin' rc mfa confirm 123456
bad 2 'mfa disable takes no code on the command line.*--code-stdin' rc mfa disable 123456
bad 2 'mfa disable takes no code on the command line' rc mfa disable ABCDE-FGHIJ
bad 2 'token revoke takes no token on the command line.*give its ID' rc token revoke "rct_aaaaaaaaaaaaaaaa_$(printf 'b%.0s' $(seq 64))"
# Bad emails
bad 1 'email address "plainaddress" must have exactly one' rc member invite plainaddress --role read-only
bad 1 'must have exactly one' rc member invite a@b@example.com --role read-only
bad 1 'has a bad domain' rc member invite a@localhost --role read-only
bad 1 'has a character that is not allowed' rc member invite "a b@example.com" --role read-only
bad 1 'has a character that is not allowed' rc member invite "a${nl}b@example.com" --role read-only
bad 1 'has a character that is not allowed' rc member invite "a:b@example.com" --role read-only
bad 1 'is too long' rc member invite "${long300}@example.com" --role read-only
bad 1 'misplaced' rc member invite "a..b@example.com" --role read-only
bad 1 'already exists' rc member invite BOB@example.com --role read-only --username bob3
# Bad user names
bad 1 'user name "al:ice" has a character' rc member invite al@example.com --username al:ice --role read-only
bad 1 'user name "al\\x0aice" has a character' rc member invite al@example.com --username "al${nl}ice" --role read-only
bad 1 'user name "al ice" has a character' rc member invite al@example.com --username "al ice" --role read-only
bad 1 'must not start with' rc member invite al@example.com --username -alice --role read-only
bad 1 'must not be all digits' rc member invite al@example.com --username 12345 --role read-only
bad 1 'must not be all digits' rc member invite al@example.com --username 0755 --role read-only
bad 1 'user name "0x10" must not read as a number' rc member invite al@example.com --username 0x10 --role read-only
bad 1 'user name "1e3" must not read as a number' rc member invite al@example.com --username 1e3 --role read-only
bad 1 'user name "1.5" must not read as a number' rc member invite al@example.com --username 1.5 --role read-only
bad 1 'user name "0x1f" must not read as a number' rc member invite 0x1f@example.com --role read-only
bad 1 'user name "0x10" must not read as a number' rc init --owner x@example.com --username 0x10
bad 1 'is too long' rc member invite al@example.com --username "$long300" --role read-only
bad 1 'is reserved' rc member invite al@example.com --username rollcall-members --role read-only
bad 1 'already used by a user of this host' rc member invite al@example.com --username root --role read-only
bad 1 'already used by a member' rc member invite al@example.com --username bob --role read-only
# Full names
bad 1 'must not contain' rc member invite al@example.com --name "Al:Ice" --role read-only
bad 1 'control character' rc member invite al@example.com --name "Al${ctl}Ice" --role read-only
bad 1 'full name is too long' rc member invite al@example.com --name "$long300" --role read-only
bad 1 'control character' rc member update bob --name "Bob${nl}Evil"
# Roles
bad 1 'no role named "superuser"' rc member invite al@example.com --role superuser
bad 1 'no role named "superuser"' rc member set-role bob superuser
bad 1 'unknown permission' rc role create pilot --rank 5 --permissions fly
bad 1 'out of range' rc role create pilot --rank 999 --permissions view
bad 1 'bad number' rc role create pilot --rank five --permissions view
bad 1 'built in' rc role delete owner
bad 1 'role name "x_y"' rc role create x_y --rank 5 --permissions view
# Members in the wrong state, unknown members
bad 1 'no member named "nobody"' rc member show nobody
bad 1 'no member named "nobody"' rc member deactivate nobody
bad 1 'carol has not accepted the invitation yet' rc member activate carol
bad 1 'only pending invitations can be withdrawn' rc member withdraw bob
bad 1 'does not match' rc member delete bob --confirm carol@example.com
bad 1 'empty email address' rc member update bob --email ""
bad 1 'not a rollcall code' stdin "NOT-A-CODE${nl}a good password 1$nl" rc member accept --password-stdin
bad 1 'not a rollcall code' stdin "AAAAA-AAAAA-AAAAA-AAAAA-A${nl}a good password 1$nl" rc member accept --password-stdin
bad 1 'unknown invitation or reset code' stdin "AAAAA-AAAAA-AAAAA-AAAAA${nl}a good password 1$nl" rc member accept --password-stdin
bad 1 'new password on standard input is too long .* or has a NUL byte' stdin "AAAAA-AAAAA-AAAAA-AAAAA$nl$(printf 'x%.0s' $(seq 1100))$nl" rc member accept --password-stdin
bad 1 'new password on standard input is too long .* or has a NUL byte' sh -c "printf 'AAAAA-AAAAA-AAAAA-AAAAA\\npass\\000word12345\\n' | '$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' member accept --password-stdin"
bad 1 'code on standard input is too long' stdin "$(printf 'A%.0s' $(seq 40))${nl}a good password 1$nl" rc member accept --password-stdin
# Services and service users
bad 1 'service name "DB"' rc service create DB
bad 1 'service name "a_b"' rc service create a_b
bad 1 'already exists' rc service create db1
bad 1 'no service named "db9"' rc service start db9
bad 1 'already running' rc service start db1
bad 1 'is running; stop it' rc service delete db1
bad 1 'between 6 and 32 characters long \(it has 5\)' stdin "$pw24$nl" rc service-user create db1 short --password-stdin
bad 1 'must start with a letter' stdin "$pw24$nl" rc service-user create db1 1_user --password-stdin
bad 1 'can only contain letters, digits and underscores' stdin "$pw24$nl" rc service-user create db1 user.name --password-stdin
bad 1 'between 24 and 64 characters long \(it has 23\)' stdin "${pw24:0:23}$nl" rc service-user create db1 user_one --password-stdin
bad 1 "must not contain the character" stdin "$pw24\"$nl" rc service-user create db1 user_one --password-stdin
bad 1 'must not start with "rct_": it would be taken for a token at login' stdin "rct_$pw24$nl" rc service-user create db1 user_one --password-stdin
bad 1 'must not start with "rct_": it would be taken for a token at login' stdin "rct_$pw24$nl" rc service-user update-password db1 user_two --password-stdin
bad 1 'must be running before you can manage users' stdin "$pw24$nl" rc service-user create db2 user_one --password-stdin
bad 1 'service "db1" has no user "nosuch_user"' rc service-user delete db1 nosuch_user
bad 1 'protected: it cannot be removed' rc service-user delete db1 db1_admin
bad 1 'protected: its password cannot be updated' stdin "$pw24$nl" rc service-user update-password db1 db1_admin --password-stdin
bad 1 'protected: it cannot be renamed' rc service-user set db1 db1_admin --name other_name
bad 1 'already used by a service user' rc service-user set db1 user_two --name db2_admin
# Settings and billing
bad 1 'invite.ttl: bad duration "1 day"' rc settings set invite.ttl "1 day"
bad 1 'invite.ttl: bad duration "24"' rc settings set invite.ttl 24
bad 1 'out of range' rc settings set lockout.attempts 100000
bad 1 'mfa: bad value "always"' rc settings set mfa always
bad 1 'unknown setting "colour"' rc settings set colour blue
bad 1 'unknown setting' rc settings get colour
bad 1 'unknown billing field "iban"' rc billing set iban DE00
bad 1 'control character' rc billing set company "Evil${nl}Corp"
bad 1 'email address "nope" must have' rc billing set contact_email nope

done_testing
