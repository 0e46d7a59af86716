#!/bin/bash
# A member's own change on a host in a fleet, made with the setuid tool as
# that member (issue 18): not root, no --as.  A private copy of the host
# (tests/e2e/host.sh, a mount namespace) whose compiled-in state directory
# joined a provider of the test's own; a setuid copy of the tool run as
# member dave (developer) with setpriv:
#   - "passwd --password-stdin" binds to the directory as dave with the
#     current password it was given (nothing asked twice, no terminal): the
#     directory takes the new password, refuses the old one, and this host's
#     replica has it when the tool returns;
#   - a wrong current password is refused here and nothing is sent;
#   - what dave's role does not allow (an invitation) is refused before
#     anything is sent; --as is root's;
#   - --bind-password-file must be dave's own regular file that no one
#     else may read, opened with dave's rights: root's file (which the
#     setuid tool could open as root), a world-readable one and a FIFO
#     are refused, nothing changed.
if [ -z "${RC_IN_NAMESPACE:-}" ] && [ "$(id -u)" = 0 ]; then
	export RC_IN_NAMESPACE=1
	exec unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
require_fleet
: "${top_srcdir:?}"
. "$top_srcdir/tests/e2e/host.sh"
# fleet/lib.sh's EXIT trap, plus the private host's own clean-up
trap 'fleet_cleanup; eval "$AT_EXIT"; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
e2e_host
e2e_configure
HSD=$E2E_SD

# ---- the origin: alice (owner), dave (developer); the provider
SD=$TMP/origin
init_store
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
invite_accept dave developer
rc fleet export --suffix "$SUFFIX" --out "$TMP/export.ldif" >/dev/null ||
	{ echo "1..1"; echo "not ok 1 - export"; exit 1; }
P=$TMP/provider
provider_make "$P" "$TMP/export.ldif" || { echo "1..1"; echo "not ok 1 - provider set-up"; exit 1; }
provider_start "$P" || { echo "1..1"; echo "not ok 1 - slapd starts"; exit 1; }
ok "a slapd of the test's own answers on $URI"

# ---- this host: the compiled-in state directory joins and follows
host_join "$HSD" h1 || { not_ok "the host joins"; done_testing; exit 1; }
rollcalld_start "$HSD"
if wait_for 20 synced "$HSD"; then ok "the host (state directory $HSD) joined and synced"
else not_ok "the host synced"; fi
hr() { "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$HSD" "$@"; }
DAVE=$(hr --json member show dave | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
check "dave is a member here (uid $DAVE)" test -n "$DAVE"

mkdir -m 755 "$TMP/bin"
chmod 755 "$TMP"
cp "$ROLLCALL" "$TMP/bin/rollcall" && chmod 4755 "$TMP/bin/rollcall"
as_dave() { setpriv --reuid="$DAVE" --regid="$DAVE" --clear-groups "$@"; }
binds() { ldapwhoami -x -H "$URI" -D "uid=$1,ou=members,$SUFFIX" -w "$2" >/dev/null 2>&1; }
dir_dump() { as_admin ldapsearch -LLL -b "$SUFFIX" '(objectClass=*)' '*' '+' 2>/dev/null |
	grep -v -e '^modifyTimestamp' -e '^contextCSN'; }
hdump() { mdb_dump -a "$HSD/store" 2>/dev/null | md5sum; }
OLD='dave password 12345' NEW='dave new password 678'
check "(the directory takes dave's password before the change)" binds dave "$OLD"

# ---- passwd as dave: bound with the current password it was given
run as_dave "$TMP/bin/rollcall" passwd --password-stdin < <(printf '%s\n%s\n' "$OLD" "$NEW")
check "passwd --password-stdin, run by dave (uid $DAVE) through the setuid tool: done (exit $st)" \
	test "$st" = 0
check "... asking nothing more (no directory password, no terminal)" \
	sh -c "! grep -qi 'password for\|terminal' '$ERR'"
check "... the directory takes the new password" binds dave "$NEW"
check "... and refuses the old one" sh -c "! ldapwhoami -x -H '$URI' -D 'uid=dave,ou=members,$SUFFIX' -w '$OLD' >/dev/null 2>&1"
# this host's replica has it: the current password it checks is the new one
run as_dave "$TMP/bin/rollcall" passwd --password-stdin < <(printf '%s\n%s\n' "$NEW" "$OLD")
check "... this host's replica has it: dave changes it back with it as the current one (exit $st)" \
	test "$st" = 0
check "... and the directory follows" binds dave "$OLD"

# ---- refused here: nothing sent
dir_dump > "$TMP/d.before"
run as_dave "$TMP/bin/rollcall" passwd --password-stdin < <(printf 'not his password\n%s\n' "$NEW")
check "a wrong current password: refused (exit $st: $(head -c 120 "$ERR"))" test "$st" != 0
check "... the directory still takes the old one" binds dave "$OLD"
expect_err 3 "" "an invitation, which a developer may not make: refused here (exit 3)" \
	as_dave "$TMP/bin/rollcall" member invite eve@example.com --role developer
expect_err 3 "for root" "--as alice by dave: refused, --as is root's" \
	as_dave "$TMP/bin/rollcall" --as alice member list

# ---- --bind-password-file: dave's own, that no one else may read
h0=$(hdump)
umask 077
printf '%s\n' "$OLD" > "$TMP/root.pw"          # root's (the setuid tool could open it)
mkdir -m 755 "$TMP/dave" && chown "$DAVE:$DAVE" "$TMP/dave"
printf '%s\n' "$OLD" > "$TMP/dave/open.pw" && chmod 644 "$TMP/dave/open.pw" && chown "$DAVE:$DAVE" "$TMP/dave/open.pw"
umask 022
expect_err 2 "cannot open .*Permission denied" "a bind password file of root's: not opened, the tool opens it as dave (exit 2)" \
	as_dave "$TMP/bin/rollcall" --bind-password-file "$TMP/root.pw" member update dave --name 'Dave X'
expect_err 2 "no one else may read" "a bind password file others may read: refused (exit 2)" \
	as_dave "$TMP/bin/rollcall" --bind-password-file "$TMP/dave/open.pw" member update dave --name 'Dave X'
mkfifo -m 600 "$TMP/dave/fifo" && chown "$DAVE:$DAVE" "$TMP/dave/fifo"
expect_err 2 "must be a regular file" "a FIFO as the bind password file: refused at once, nothing read from it (exit 2)" \
	timeout 10 setpriv --reuid="$DAVE" --regid="$DAVE" --clear-groups "$TMP/bin/rollcall" \
	--bind-password-file "$TMP/dave/fifo" member update dave --name 'Dave X'
dir_dump > "$TMP/d.after"
check "... nothing of these reached the directory" cmp -s "$TMP/d.before" "$TMP/d.after"
check "... nor this host's store (the file is refused before anything is written)" test "$(hdump)" = "$h0"

# ---- dave's own file: his full name changed in the directory
chmod 600 "$TMP/dave/open.pw"
expect 0 "with a bind password file of his own (0600): dave's full name changed" \
	as_dave "$TMP/bin/rollcall" --bind-password-file "$TMP/dave/open.pw" member update dave --name 'Dave X'
check "... in the directory" sh -c "as_admin() { ldapsearch -x -H '$URI' -D 'cn=admin,$SUFFIX' -w '$ADMIN_PW' \"\$@\"; }; \
	as_admin -LLL -b 'uid=dave,ou=members,$SUFFIX' -s base cn | grep -q '^cn: Dave X'"
done_testing
