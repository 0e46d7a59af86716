#!/bin/bash
# Services and service users (seed 004): the protected default user, name and
# password rules at their boundaries, generated passwords, show-password, the
# running-service rule, set and delete.
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init"
init_store

pw24=abcdefghijklmnopqrstuvwx
pw64=$pw24$pw24${pw24:0:16}
newpw() { printf '%s\n' "$1" | rc service-user "$2" db1 "$3" --password-stdin; }

expect_out 0 'Protected user "db1_admin" created with password "[A-Za-z0-9_]{64}"' \
	"service create makes the protected default user with a generated password" rc service create db1
DEFPW=$(grep -Eo '"[A-Za-z0-9_]{64}"' "$OUT" | tr -d '"')
expect_err 1 'service "db1" already exists' "service names are unique" rc service create db1
expect_err 1 'service name "Db" must start with a lowercase letter' "service name rules" rc service create Db
expect_err 1 'service name "abcdefghijklmnopq" is too long' "service names have 16 characters at most" rc service create abcdefghijklmnopq
expect_out 0 'db1 +\| running' "service list" rc service list
expect 0 "service-user list --json" rc --json service-user list db1
check "the default user is protected, with replication" \
	test "$(json 'd[0]["username"], d[0]["protected"], d[0]["replication"], d[0]["read_only"], d[0]["password_encryption"]')" = "db1_admin True True False argon2id"
expect_out 0 '^\| USERNAME +\| READ-ONLY +\| REPLICATION +\| PROTECTED +\| PASSWORD ENCRYPTION \|$' \
	"the table has the seed's columns" rc service-user list db1
expect_out 0 "^$DEFPW\$" "show-password gives the generated password back" rc service-user show-password db1 db1_admin

# Names: 6 to 32 letters, digits and _, starting with a letter.
expect_err 1 'must be between 6 and 32 characters long \(it has 5\)' "a 5-character name is refused" newpw "$pw24" create abcde
expect_out 0 'User "abcdef" created\.' "a 6-character name is accepted" newpw "$pw24" create abcdef
expect_out 0 'created' "a 32-character name is accepted" newpw "$pw24" create a1234567890123456789012345678901
expect_err 1 'it has 33' "a 33-character name is refused" newpw "$pw24" create a12345678901234567890123456789012
expect_err 1 'must start with a letter' "a leading digit is refused" newpw "$pw24" create 1abcdef
expect_err 1 'must start with a letter' "a leading underscore is refused" newpw "$pw24" create _abcdef
expect_err 1 'can only contain alphanumerical|can only contain letters, digits and underscores' "a '-' is refused" newpw "$pw24" create abc-def
expect_err 1 'already used by a service user' "names are unique" newpw "$pw24" create abcdef
# Passwords: 24 to 64 characters, without " or '.
expect_err 1 'between 24 and 64 characters long \(it has 23\)' "a 23-character password is refused" newpw "${pw24:0:23}" create user_pw23
expect_out 0 'User "user_pw24" created\.' "a 24-character password is accepted" newpw "$pw24" create user_pw24
expect_out 0 'User "user_pw64" created\.' "a 64-character password is accepted" newpw "$pw64" create user_pw64
expect_err 1 'it has 65' "a 65-character password is refused" newpw "${pw64}x" create user_pw65
expect_err 1 "must not contain the character \" or '" 'a " is refused' newpw "${pw24}\"" create user_quote
expect_err 1 "must not contain the character \" or '" "a ' is refused" newpw "${pw24}'" create user_quote
expect_out 0 "^$pw64\$" "show-password gives a chosen password back" rc service-user show-password db1 user_pw64
expect_out 0 'User "gen_user" created with password "[A-Za-z0-9_]{64}"\.' \
	"without a terminal or --password-stdin a password is generated" sh -c "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' service-user create db1 gen_user < /dev/null"
expect_out 0 '"password":"[A-Za-z0-9_]{64}"' "--json create prints the generated password" \
	sh -c "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' --json service-user create db1 gen_user2 --read-only < /dev/null"
expect 0 "list --json" rc --json service-user list db1
check "--read-only is stored" test "$(json '[u["read_only"] for u in d if u["username"]=="gen_user2"][0]')" = True

# update-password, set, delete.
expect_out 0 'User "abcdef" updated\.' "update-password with a chosen password" newpw "$pw64" update-password abcdef
expect_out 0 "^$pw64\$" "... is stored" rc service-user show-password db1 abcdef
expect_out 0 'updated with password "[A-Za-z0-9_]{64}"' "update-password generates one without input" \
	sh -c "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' service-user update-password db1 abcdef < /dev/null"
expect_err 1 'user "db1_admin" is protected: its password cannot be updated' "the protected user's password cannot be updated" \
	newpw "$pw24" update-password db1_admin
expect_err 1 'user "db1_admin" is protected: it cannot be removed' "the protected user cannot be deleted" \
	rc service-user delete db1 db1_admin
expect_err 1 'user "db1_admin" is protected: it cannot be renamed' "the protected user cannot be renamed" \
	rc service-user set db1 db1_admin --name db1_boss
expect 0 "set --replication on --read-only on" rc service-user set db1 abcdef --replication on --read-only on
expect 0 "list" rc --json service-user list db1
check "... flags stored" test "$(json '[(u["read_only"], u["replication"]) for u in d if u["username"]=="abcdef"][0]')" = "(True, True)"
expect_err 2 '--read-only takes on or off' "set --read-only with a bad value" rc service-user set db1 abcdef --read-only maybe
expect 0 "rename a service user" rc service-user set db1 abcdef --name abcdefg
expect_out 0 "^$pw64\$|^[A-Za-z0-9_]{64}\$" "the renamed user keeps its password" rc service-user show-password db1 abcdefg
expect_out 0 'User "user_pw24" deleted' "delete a service user" rc service-user delete db1 user_pw24
expect_err 1 'service "db1" has no user "user_pw24"' "it is gone" rc service-user show-password db1 user_pw24

# A stopped service: its users cannot be managed.
expect_out 0 'Service "db1" stopped' "stop" rc service stop db1
expect_err 1 'service "db1" is stopped: your service must be running before you can manage users' \
	"creating a user of a stopped service is refused" newpw "$pw24" create stopped_user
expect_err 1 'must be running before you can manage users' "deleting one is refused" rc service-user delete db1 user_pw64
expect_err 1 'must be running before you can manage users' "setting flags is refused" rc service-user set db1 user_pw64 --read-only on
expect 0 "listing still works" rc service-user list db1
expect_err 1 'already stopped' "stop twice" rc service stop db1
expect_err 1 'no service named "nosuch"' "unknown service" rc service-user list nosuch
expect_out 0 'Service "db1" started' "start" rc service start db1
expect 0 "managing works again" newpw "$pw24" create started_user
expect_err 1 'is running; stop it before deleting it' "a running service cannot be deleted" rc service delete db1
rc service stop db1 >/dev/null
expect 0 "delete a stopped service" rc service delete db1
expect_err 1 'no service named "db1"' "the service is gone" rc service-user list db1
expect_out 0 'Service "db1" created' "its names are free again" rc service create db1
expect_out 0 'db2_admin' "another service gets its own default user" rc service create db2

done_testing
