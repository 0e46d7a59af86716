#!/bin/bash
# The directory's ACLs, as "rollcall fleet provider-config" writes them,
# against a real slapd: what a host's credential may read and write, what
# the administrator may, what anonymous sees.  And the fleet commands'
# refusals of bad input.
. "$(dirname "$0")/lib.sh"
require_fleet

# ---- bad input (no slapd needed)
expect_err 1 'suffix' "provider-config refuses a suffix it cannot quote" \
	rc fleet provider-config --suffix 'dc=a,cn=x)(' --out "$TMP/x" --schema "$SCHEMA"
check "... and writes nothing" test ! -e "$TMP/x/config.ldif"
expect_err 2 'needs --suffix' "provider-config without --suffix" rc fleet provider-config --out "$TMP/x"
expect_err 2 'schema' "provider-config with a missing schema file" \
	rc fleet provider-config --suffix "$SUFFIX" --out "$TMP/x" --schema "$TMP/nope.ldif"
expect_err 1 'host name' "host-add refuses a bad host name" \
	sh -c "echo pw | '$ROLLCALL' fleet host-add 'bad name' --uri ldap://127.0.0.1:1/ --suffix '$SUFFIX' --admin-password-stdin"
expect_err 1 'URI' "join refuses a URI that is not ldap://" \
	sh -c "echo s | '$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$TMP/j' fleet join http://x/ --host h --suffix '$SUFFIX' --secret-stdin"
check "... and makes no state directory" test ! -e "$TMP/j"
expect_err 4 'cannot be reached' "join with no provider listening: exit 4" \
	sh -c "echo s | '$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$TMP/j' fleet join ldap://127.0.0.1:1/ --host h --suffix '$SUFFIX' --secret-stdin"
check "... and makes no store" test ! -e "$TMP/j/store"
expect_err 2 'fleet' "an unknown fleet action" rc fleet frobnicate
for action in "provider-config --suffix $SUFFIX --out $TMP/x" "provider-init --suffix $SUFFIX --out $TMP/x.ldif" \
	"export --suffix $SUFFIX --out $TMP/x.ldif" "host-add h --uri ldap://127.0.0.1:1/ --suffix $SUFFIX" \
	"join ldap://127.0.0.1:1/ --host h --suffix $SUFFIX" status; do
	expect_err 3 'only root' "fleet ${action%% *} is root's only" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$TMP/j" fleet $action
done
check "... and none of them wrote anything" test ! -e "$TMP/x" -a ! -e "$TMP/x.ldif"

# ---- a provider with one host's store moved in
init_store
rc fleet export --suffix "$SUFFIX" --out "$TMP/export.ldif" >/dev/null
P=$TMP/provider
provider_make "$P" "$TMP/export.ldif" || { echo "1..$((T + 1))"; not_ok "provider set-up"; exit 1; }
admin_dn_given() { [ "$(python3 -c "import json; print(json.load(open('$P/init.json'))['admin_dn'])")" = "cn=admin,$SUFFIX" ]; }
check "provider-init --json names the administrator's DN" admin_dn_given
# also on this host's first address that is not loopback (if it has one):
# plain ldap:// there must StartTLS before any secret goes
IP=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' | grep -v '^127\.' | head -1)
[ -n "$IP" ] && IPPORT=$(free_port) && EXTRA_LISTEN="ldap://$IP:$IPPORT/ "
SLAPD_DEBUG=256 provider_start "$P" || { echo "1..$((T + 1))"; not_ok "slapd starts"; exit 1; }
expect_err 3 'Invalid credentials' "host-add with a wrong administrator password: exit 3" \
	sh -c "echo wrong | '$ROLLCALL' fleet host-add h9 --uri '$URI' --suffix '$SUFFIX' --admin-password-stdin"
host_add h1; S1=$HOST_SECRET
host_add h2; S2=$HOST_SECRET
check "two hosts enrolled" test -n "$S1" -a -n "$S2"
expect_err 1 'already in the fleet' "enrolling h1 again is refused" \
	sh -c "printf '%s\n' '$ADMIN_PW' | '$ROLLCALL' fleet host-add h1 --uri '$URI' --suffix '$SUFFIX' --admin-password-stdin"
expect_err 3 'cannot bind as the host' "join with a wrong secret: exit 3" \
	sh -c "echo wrong-secret | '$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$TMP/j2' fleet join '$URI' --host h1 --suffix '$SUFFIX' --secret-stdin"

if [ -n "$IP" ]; then
	binds() { grep -c 'BIND dn="cn=h1,' "$P/slapd.log"; }
	before=$(binds)
	expect_err 1 'cannot bind as the host: Confidentiality required' "join over plain ldap:// to another address insists on StartTLS (this slapd has no TLS)" \
		sh -c "printf '%s\n' '$S1' | '$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$TMP/j3' fleet join 'ldap://$IP:$IPPORT/' --host h1 --suffix '$SUFFIX' --secret-stdin"
	check "... and the host's secret never reached slapd (no new bind as h1 in its log)" test "$(binds)" = "$before"
else
	ok "# SKIP no address but loopback: the StartTLS check needs one"
fi

# ---- a host's credential
cat > "$TMP/eve.ldif" <<EOF
dn: uid=eve,ou=members,$SUFFIX
objectClass: rcMember
objectClass: rcReplicated
uid: eve
rcDb: member
rcKey: eve
rcRecord: x
EOF
expect 50 "a host cannot add a member (insufficientAccess)" as_host h1 "$S1" ldapadd -f "$TMP/eve.ldif"
printf 'dn: uid=alice,ou=members,%s\nchangetype: modify\nreplace: rcRole\nrcRole: read-only\n' "$SUFFIX" > "$TMP/role.ldif"
expect 50 "a host cannot change a member's role" as_host h1 "$S1" ldapmodify -f "$TMP/role.ldif"
printf 'dn: uid=alice,ou=members,%s\nchangetype: modify\nreplace: rcRecord\nrcRecord: x\n' "$SUFFIX" > "$TMP/cred.ldif"
expect 50 "a host cannot touch a member's credentials (the record)" as_host h1 "$S1" ldapmodify -f "$TMP/cred.ldif"
expect 50 "a host cannot delete a member" as_host h1 "$S1" ldapdelete "uid=alice,ou=members,$SUFFIX"
printf 'dn: cn=h2,ou=hosts,%s\nchangetype: modify\nreplace: userPassword\nuserPassword: x\n' "$SUFFIX" > "$TMP/pw.ldif"
expect 50 "a host cannot set another host's secret" as_host h1 "$S1" ldapmodify -f "$TMP/pw.ldif"
printf 'dn: cn=h1,ou=state,%s\nchangetype: modify\nreplace: rcHostState\nrcHostState: x\n' "$SUFFIX" > "$TMP/own.ldif"
expect 0 "a host writes its own state" as_host h1 "$S1" ldapmodify -f "$TMP/own.ldif"
printf 'dn: cn=h2,ou=state,%s\nchangetype: modify\nreplace: rcHostState\nrcHostState: x\n' "$SUFFIX" > "$TMP/other.ldif"
expect 50 "... and not another host's" as_host h1 "$S1" ldapmodify -f "$TMP/other.ldif"

expect 0 "a host reads the replicated records" as_host h1 "$S1" ldapsearch -LLL -b "$SUFFIX" '(objectClass=rcReplicated)' rcRecord
check "... all of them" test "$(grep -c '^dn: ' "$OUT")" = "$(as_admin ldapsearch -LLL -b "$SUFFIX" '(objectClass=rcReplicated)' dn | grep -c '^dn: ')"
check "... with their records (what logins verify)" grep -q '^rcRecord::' "$OUT"
expect 0 "a host searches for password attributes" as_host h1 "$S1" ldapsearch -LLL -b "$SUFFIX" '(objectClass=*)' userPassword
check "... and reads no userPassword (the directory's credentials)" sh -c "! grep -q '^userPassword' '$OUT'"
check "... sees no other host, nor the administrator" sh -c "! grep -q -e '^dn: cn=h2,ou=hosts' -e '^dn: cn=admin,' '$OUT'"
expect 0 "a host reads the fleet key" as_host h1 "$S1" ldapsearch -LLL -b "cn=fleet,$SUFFIX" -s base rcMasterKey
check "... (it verifies tokens and decrypts TOTP secrets)" grep -q '^rcMasterKey::' "$OUT"

# ---- anonymous, and the administrator
run ldapsearch -x -H "$URI" -LLL -b "$SUFFIX" '(objectClass=*)'
check "anonymous sees nothing" sh -c "! grep -q '^dn:' '$OUT'"
expect 0 "the administrator reads userPassword" as_admin ldapsearch -LLL -b "cn=h1,ou=hosts,$SUFFIX" -s base userPassword
check "... an {ARGON2} hash, never the secret" sh -c "grep -q '^userPassword:: ' '$OUT' && ! grep -q '$S1' '$OUT'"
expect 0 "the administrator adds a member" as_admin ldapadd -f "$TMP/eve.ldif"

# ---- the size limit: a sync identity reads more than the frontend's 500
for i in $(seq 1 600); do
	printf 'dn: cn=s%d,ou=settings,%s\nobjectClass: rcSetting\nobjectClass: rcReplicated\ncn: s%d\nrcDb: setting\nrcKey: s%d\nrcRecord: x\n\n' "$i" "$SUFFIX" "$i" "$i"
done > "$TMP/many.ldif"
run as_admin ldapadd -f "$TMP/many.ldif"
check "600 more entries added" test "$st" = 0
expect 0 "a host reads more than 500 entries in one search (no size limit)" as_host h1 "$S1" ldapsearch -LLL -b "$SUFFIX" '(objectClass=rcReplicated)' dn
check "... every one" test "$(grep -c '^dn: ' "$OUT")" -gt 600

done_testing
