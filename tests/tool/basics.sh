#!/bin/bash
# The tool's basics: help, usage errors, init, status, JSON, and the checks on
# the state directory, master.key and configuration file.
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init"

expect_out 0 'Usage: rollcall' "--help prints usage" "$ROLLCALL" --help
expect_out 0 '^rollcall [0-9]' "--version prints the version" "$ROLLCALL" --version
expect_err 2 'unknown command "frobnicate"' "unknown command is a usage error" rc frobnicate
expect_err 2 'Usage: rollcall' "no command is a usage error" rc
expect_out 0 'member invite EMAIL --role ROLE' "member --help lists the actions" rc member --help
expect_out 0 'Usage: rollcall member invite' "member invite --help" rc member invite --help
expect_err 4 'run "rollcall init" first' "a missing store is exit 4 and says to init" rc member list

expect_err 2 'init needs --owner' "init without --owner" rc init
expect_err 1 'email address "not-an-email"' "init with a bad email changes nothing" rc init --owner not-an-email
check "a refused init leaves no store behind" test ! -e "$SD/store"
expect_err 1 'already used by a user of this host' "init refuses an owner name the host has" rc init --owner root@example.com
check "that refused init left no store behind" test ! -e "$SD/store"

expect_out 0 'invitation code is' "init creates the store and prints the owner's code" rc init --owner alice@example.com
check "state directory is 0755 (nss.snap in it is public)" test "$(stat -c %a "$SD")" = 755
check "store directory is 0700" test "$(stat -c %a "$SD/store")" = 700
check "master.key is 0600 and 32 bytes" test "$(stat -c %a:%s "$SD/master.key")" = 600:32
check "data.mdb is 0600" test "$(stat -c %a "$SD/store/data.mdb")" = 600
expect_err 1 'already holds a rollcall store' "a second init is refused" rc init --owner bob@example.com

expect_out 0 '"schema":3' "status --json" rc --json status
expect_out 0 '^schema: +3' "status" rc status
expect 0 "member list --json is valid JSON" rc --json member list
check "... and an array of objects with the column keys" \
	test "$(json 'sorted(d[0].keys())')" = "['auth_method', 'email', 'last_active', 'role', 'status', 'username']"
check "... with null for never" test "$(json 'd[0]["last_active"]')" = None
expect_out 0 '"username":"root"' "whoami as root" rc --json whoami

# --json anywhere on the line
expect 0 "--json after the command" rc member list --json
check "... gives JSON too" test "$(json 'len(d)')" = 1

# State directory, master.key and configuration that cannot be trusted.
chmod 0770 "$SD"
expect_err 4 "state directory $SD is group- or other-writable" "group-writable state dir refused" rc member list
chmod 0755 "$SD"
ln -s "$SD" "$TMP/link"
expect_err 4 "state directory $TMP/link is a symlink" "symlinked state dir refused" \
	"$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$TMP/link" member list
chown 1:1 "$SD"
expect_err 4 "is owned by uid 1, not by root" "state dir owned by another user refused" rc member list
chown 0:0 "$SD"
chmod 0640 "$SD/master.key"
expect_err 4 "master key $SD/master.key is readable by other users" "readable master.key refused" rc member list
chmod 0600 "$SD/master.key"
cp "$SD/master.key" "$TMP/key.save"
head -c 31 "$TMP/key.save" > "$SD/master.key"
expect_err 4 "master key $SD/master.key has 31 bytes, not 32" "short master.key refused" rc member list
rm "$SD/master.key"; ln -s "$TMP/key.save" "$SD/master.key"
expect_err 4 "master key $SD/master.key is a symlink" "symlinked master.key refused" rc member list
rm "$SD/master.key"
expect_err 4 "cannot open master key $SD/master.key" "missing master.key refused" rc member list
mkfifo "$SD/master.key"
expect_err 4 "master key $SD/master.key is not a regular file" "a FIFO as master.key is refused, no hang" \
	timeout 10 "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SD" member list
rm "$SD/master.key"; cp "$TMP/key.save" "$SD/master.key"; chmod 600 "$SD/master.key"
rc service create db1 >/dev/null
head -c 32 /dev/urandom > "$SD/master.key"
expect_err 4 "does not decrypt" "another master.key cannot decrypt stored secrets" \
	rc service-user show-password db1 db1_admin
cp "$TMP/key.save" "$SD/master.key"
expect 0 "the right master.key decrypts them again" rc service-user show-password db1 db1_admin

printf 'bogus_key = 1\n' > "$TMP/bad.conf"
expect_err 4 "$TMP/bad.conf:1: unknown key \"bogus_key\"" "unknown config key names file, line and key" \
	"$ROLLCALL" --config "$TMP/bad.conf" --state-dir "$SD" member list
printf '# comment\n\nid_min = 12x\n' > "$TMP/bad.conf"
expect_err 4 "$TMP/bad.conf:3: id_min: bad number" "bad config value names file, line and key" \
	"$ROLLCALL" --config "$TMP/bad.conf" --state-dir "$SD" member list
printf 'shell = bin/sh\n' > "$TMP/bad.conf"
expect_err 4 "$TMP/bad.conf:1: shell: \"bin/sh\" is not an absolute path" "relative path in config refused" \
	"$ROLLCALL" --config "$TMP/bad.conf" --state-dir "$SD" member list
printf 'id_min = 5\n' > "$TMP/bad.conf"; chmod 666 "$TMP/bad.conf"
expect_err 4 "configuration $TMP/bad.conf is group- or other-writable" "world-writable config refused" \
	"$ROLLCALL" --config "$TMP/bad.conf" --state-dir "$SD" member list
chmod 644 "$TMP/bad.conf"; ln -sf "$TMP/bad.conf" "$TMP/link.conf"
expect_err 4 "configuration $TMP/link.conf is a symlink" "symlinked config refused" \
	"$ROLLCALL" --config "$TMP/link.conf" --state-dir "$SD" member list
expect_err 4 "cannot open configuration $TMP/missing.conf" "a missing --config file is an error" \
	"$ROLLCALL" --config "$TMP/missing.conf" --state-dir "$SD" member list

# ROLLCALL_STATE_DIR is honoured for an unprivileged run (root here).
expect_out 0 'alice' "ROLLCALL_STATE_DIR selects the state directory" \
	env ROLLCALL_STATE_DIR="$SD" "$ROLLCALL" --config "$TMP/rollcall.conf" member list

done_testing
