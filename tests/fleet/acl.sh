#!/bin/bash
# The directory enforces the permission matrix and the rank rule against
# the bound member (issue 18): a host's store with a member of each
# built-in role moved into a provider made by "rollcall fleet
# provider-config"; each member binds with its own login password and the
# LDAP tools try what its role may and may not do.  Each refusal is
# insufficientAccess (exit 50).  Then a host's rollcalld refuses a record
# whose attributes (what the ACLs govern) disagree with the record itself
# (opaque to slapd), written around the ACLs by the administrator.
. "$(dirname "$0")/lib.sh"
require_fleet

init_store
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
for m in ann:admin abe:admin oscar:operator dev:developer dora:developer rob:read-only; do
	invite_accept "${m%%:*}" "${m#*:}" || { echo "1..1"; echo "not ok 1 - member set-up"; exit 1; }
done
rc member invite pat@example.com --role read-only >/dev/null
rc role create auditor --rank 50 --permissions view >/dev/null
rc role create boss --rank 90 --permissions view >/dev/null
rc fleet export --suffix "$SUFFIX" --out "$TMP/export.ldif" >/dev/null
P=$TMP/provider
provider_make "$P" "$TMP/export.ldif" || { echo "1..1"; echo "not ok 1 - provider set-up"; exit 1; }
provider_start "$P" || { echo "1..1"; echo "not ok 1 - slapd starts"; exit 1; }

pw() { if [ "$1" = alice ]; then echo "alice password 1"; else echo "$1 password 12345"; fi; }
# as NAME PROGRAM ARGS...: an LDAP tool bound as member NAME
as() { local n=$1 p=$2; shift 2; "$p" -x -H "$URI" -D "uid=$n,ou=members,$SUFFIX" -w "$(pw "$n")" "$@"; }
mdn() { echo "uid=$1,ou=members,$SUFFIX"; }
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
roledn() { echo "cn=$(hex "$1"),ou=roles,$SUFFIX"; }
# modify NAME DN ATTR VALUE [ATTR VALUE...]: replace attributes as NAME
modify() {
	local n=$1 dn=$2; shift 2
	{ echo "dn: $dn"; echo "changetype: modify"
	  while [ $# -gt 0 ]; do printf 'replace: %s\n%s: %s\n-\n' "$1" "$1" "$2"; shift 2; done
	} > "$TMP/mod.ldif"
	as "$n" ldapmodify -f "$TMP/mod.ldif"
}
# member NAME ROLE STATUS [LINE...]: a new member entry (its record a
# placeholder: slapd never reads inside it)
member() {
	local n=$1 r=$2 st=$3; shift 3
	printf 'dn: %s\nobjectClass: rcMember\nobjectClass: rcReplicated\nuid: %s\nmail: %s@example.com\nrcRole: %s\nrcRoleRef: %s\nrcStatus: %s\nrcUidNumber: 300%03d\nrcDb: member\nrcKey: %s\nrcRecord: x\n' \
		"$(mdn "$n")" "$n" "$n" "$r" "$(roledn "$r")" "$st" "$((RANDOM % 1000))" "$n"
	local l; for l in "$@"; do echo "$l"; done
	echo
}
invitation() {
	printf 'dn: uid=%s,ou=invitations,%s\nobjectClass: rcInvitation\nobjectClass: rcReplicated\nuid: %s\nmail: %s@example.com\nrcRole: %s\nrcRoleRef: %s\nrcDb: invitation\nrcKey: %s\nrcRecord: x\n\n' \
		"$1" "$SUFFIX" "$1" "$1" "$2" "$(roledn "$2")" "$1"
}
# add NAME LDIF-TEXT: ldapadd as NAME
add() { printf '%s\n' "$2" > "$TMP/add.ldif"; as "$1" ldapadd -f "$TMP/add.ldif"; }
del() { as "$1" ldapdelete "$2"; }
# attr_of NAME DN ATTR: the values of ATTR that NAME reads
attr_of() { as "$1" ldapsearch -LLL -o ldif-wrap=no -b "$2" -s base '(objectClass=*)' "$3" | grep -i "^$3:" ; }

# ---- binding and reading
run ldapsearch -x -H "$URI" -LLL -b "$SUFFIX" '(objectClass=*)'
check "anonymous sees nothing" sh -c "! grep -q '^dn:' '$OUT'"
for n in alice ann oscar dev rob; do
	expect 0 "$n binds with its own login password" as "$n" ldapwhoami
done
expect 49 "a wrong password does not bind" ldapwhoami -x -H "$URI" -D "$(mdn dev)" -w wrong
run ldapwhoami -x -H "$URI" -D "$(mdn pat)" -w ''
check "pat (invited, no password yet) cannot bind" test "$st" != 0 -a "$(grep -c 'dn:uid=pat' "$OUT")" = 0
expect 0 "a member reads another member's entry" as dev ldapsearch -LLL -o ldif-wrap=no -b "$(mdn rob)" -s base
check "... its role and status" grep -q '^rcRole: read-only' "$OUT"
check "... not its record (hash, TOTP secret) nor its userPassword" \
	sh -c "! grep -qi -e '^rcRecord' -e '^userPassword' '$OUT'"
expect 0 "a member asks for rcRecord and userPassword by name" \
	as dev ldapsearch -LLL -b "ou=members,$SUFFIX" '(objectClass=*)' rcRecord userPassword
check "... and reads none" sh -c "! grep -qi -e '^rcRecord' -e '^userPassword' '$OUT'"
expect 50 "a member cannot compare another's userPassword" \
	as dev ldapcompare "$(mdn rob)" "userPassword:rob password 12345"
expect 0 "a member reads no service user (their secrets)" \
	as alice ldapsearch -LLL -b "ou=serviceusers,$SUFFIX" '(objectClass=*)' rcRecord
check "... nothing" sh -c "! grep -q '^rcRecord' '$OUT'"
run as_admin ldapsearch -LLL -o ldif-wrap=no -b "$(roledn developer)" -s base rcMay
check "the developer role's rcMay: invite:20, not invite:40 (lib's rank rule)" \
	sh -c "grep -qx 'rcMay: invite:20' '$OUT' && ! grep -qx 'rcMay: invite:40' '$OUT' && ! grep -q 'manage:' '$OUT'"
run as_admin ldapsearch -LLL -o ldif-wrap=no -b "$(roledn owner)" -s base rcMay
check "the owner role's: manage:99 not manage:100, grant:100 (the owner gives owner)" \
	sh -c "grep -qx 'rcMay: manage:99' '$OUT' && ! grep -qx 'rcMay: manage:100' '$OUT' && grep -qx 'rcMay: grant:100' '$OUT'"

# ---- inviting (the entries an invitation writes)
expect 50 "read-only cannot invite" add rob "$(member nina read-only pending)"
expect 0 "a developer invites to read-only: the member entry" add dev "$(member nina read-only pending)"
expect 0 "... and the invitation entry" add dev "$(invitation nina read-only)"
expect 50 "a developer cannot invite a developer (rank 40 is not below its own)" add dev "$(member nick1 developer pending)"
expect 50 "... nor an admin" add dev "$(member nick2 admin pending)"
expect 50 "... nor an admin's invitation" add dev "$(invitation nick3 admin)"
expect 50 "... nor a read-only member already active" add dev "$(member nick4 read-only active)"
expect 50 "... nor one with a password" add dev "$(member nick5 read-only pending 'userPassword: x')"
expect 50 "... nor a read-only member whose rcRoleRef is the admin role" \
	add dev "$(member nick6 read-only pending | sed "s/^rcRoleRef: .*/rcRoleRef: $(roledn admin)/")"
expect 0 "a developer withdraws the invitation it made (pending)" del dev "$(mdn nina)"
expect 0 "an admin invites an operator" add ann "$(member olga operator pending)"
expect 50 "an admin cannot invite an admin" add ann "$(member adi admin pending)"
expect 0 "an owner invites an owner" add alice "$(member otto owner pending)"

# ---- the id counter: a compare and swap by anyone who makes ids
NEXT="cn=$(hex @next_id),ou=settings,$SUFFIX"
old=$(as_admin ldapsearch -LLL -o ldif-wrap=no -b "$NEXT" -s base rcRecord | sed -n 's/^rcRecord:: //p')
filt="(rcRecord=$(printf '%s' "$old" | base64 -d | od -An -tx1 -v | tr -d '\n' | sed 's/ /\\/g'))"
printf 'dn: %s\nchangetype: modify\nreplace: rcRecord\nrcRecord: y\n' "$NEXT" > "$TMP/cas.ldif"
expect 122 "a developer's swap of the id counter from a wrong old value fails (assertion)" \
	as dev ldapmodify -e '!assert=(rcRecord=nope)' -f "$TMP/cas.ldif"
expect 0 "... from its current value succeeds (search and compare on rcRecord, never read)" \
	as dev ldapmodify -e "!assert=$filt" -f "$TMP/cas.ldif"
expect 50 "read-only cannot touch the id counter" as rob ldapmodify -f "$TMP/cas.ldif"
printf 'dn: %s\nchangetype: modify\nreplace: rcRecord\nrcRecord:: %s\n' "$NEXT" "$old" > "$TMP/cas.ldif"
as_admin ldapmodify -f "$TMP/cas.ldif" >/dev/null

# ---- acting on members: manage-members on lower ranks
expect 0 "an admin deactivates a developer" modify ann "$(mdn dev)" rcStatus inactive rcRecord y
expect 50 "an admin cannot deactivate an owner" modify ann "$(mdn alice)" rcStatus inactive
expect 50 "... nor another admin" modify ann "$(mdn abe)" rcStatus inactive
expect 50 "an operator cannot deactivate a read-only member" modify oscar "$(mdn rob)" rcStatus inactive
expect 50 "... nor delete one" del oscar "$(mdn rob)"
expect 50 "... nor change its record" modify oscar "$(mdn rob)" rcRecord y
expect 50 "an inactive member acts no more (dev, deactivated, invites to read-only)" \
	add dev "$(member nora read-only pending)"
expect 50 "... nor changes its own email address" modify dev "$(mdn dev)" mail dev3@example.com
expect 50 "... nor its own password" modify dev "$(mdn dev)" userPassword 'dev other password'
expect 0 "an admin reactivates the developer" modify ann "$(mdn dev)" rcStatus active
expect 0 "an admin gives a developer the operator role" \
	modify ann "$(mdn dora)" rcRole operator rcRoleRef "$(roledn operator)" rcRecord y
expect 50 "... not the admin role (its own rank)" modify ann "$(mdn dora)" rcRole admin rcRoleRef "$(roledn admin)"
expect 50 "... nor the admin role's entry as rcRoleRef" modify ann "$(mdn dora)" rcRoleRef "$(roledn admin)"
expect 50 "... nor the owner role" modify ann "$(mdn dora)" rcRole owner rcRoleRef "$(roledn owner)"
expect 0 "an admin gives an operator a custom role of rank 50 (its rank read from the role entry rcRoleRef names)" \
	modify ann "$(mdn oscar)" rcRole auditor rcRoleRef "$(roledn auditor)"
expect 50 "... not one of rank 90" modify ann "$(mdn oscar)" rcRole boss rcRoleRef "$(roledn boss)"
expect 50 "... nor an entry that is no role's" modify ann "$(mdn oscar)" rcRoleRef "cn=00,ou=roles,$SUFFIX"
expect 0 "... and gives the operator role back" modify ann "$(mdn oscar)" rcRole operator rcRoleRef "$(roledn operator)"
expect 0 "an owner gives an admin the owner role" \
	modify alice "$(mdn abe)" rcRole owner rcRoleRef "$(roledn owner)"
printf 'dn: %s\nchangetype: modify\ndelete: userPassword\n' "$(mdn dora)" > "$TMP/reset.ldif"
expect 0 "an admin resets a developer's password (removes it)" as ann ldapmodify -f "$TMP/reset.ldif"
expect 50 "... but cannot set it (and bind as the member)" modify ann "$(mdn dev)" userPassword 'chosen one'
expect 0 "an admin deletes a developer" del ann "$(mdn dora)"
expect 50 "an admin cannot delete another admin" del ann "$(mdn ann)"

# ---- oneself
for a in "rcRole admin" "rcRoleRef $(roledn admin)" "rcStatus inactive" "rcUidNumber 0" "uid dev2"; do
	expect 50 "a developer cannot change its own ${a%% *}" modify dev "$(mdn dev)" $a
done
expect 50 "an owner cannot change its own role" modify alice "$(mdn alice)" rcRole admin rcRoleRef "$(roledn admin)"
expect 0 "a member changes its own email address, full name and record" \
	modify dev "$(mdn dev)" mail dev2@example.com cn "Dev Eloper" rcRecord y
expect 0 "... and its own password" modify dev "$(mdn dev)" userPassword 'dev new password'
expect 0 "... and binds with it" ldapwhoami -x -H "$URI" -D "$(mdn dev)" -w 'dev new password'
pw() { case $1 in alice) echo "alice password 1";; dev) echo 'dev new password';; *) echo "$1 password 12345";; esac; }
expect 50 "a member cannot change another's email address" modify dev "$(mdn rob)" mail x@example.com

# ---- services (start-stop), service users (manage-services)
SVC="cn=$(hex web),ou=services,$SUFFIX"
svc() { printf 'dn: %s\nobjectClass: rcService\nobjectClass: rcReplicated\ncn: %s\ndescription: web\nrcDb: service\nrcKey: web\nrcRecord: x\n' "$SVC" "$(hex web)"; }
expect 50 "a developer cannot create a service (manage-services, no start-stop)" add dev "$(svc)"
expect 0 "an operator creates a service" add oscar "$(svc)"
expect 0 "... stops it" modify oscar "$SVC" rcRecord stopped
expect 50 "read-only cannot stop it" modify rob "$SVC" rcRecord y
printf 'dn: uid=web_admin,ou=serviceusers,%s\nobjectClass: rcServiceUser\nobjectClass: rcReplicated\nuid: web_admin\nrcUidNumber: 300999\nrcDb: svcuser\nrcKey: web_admin\nrcRecord: x\n' "$SUFFIX" > "$TMP/su.ldif"
expect 50 "read-only cannot add a service user" as rob ldapadd -f "$TMP/su.ldif"
expect 0 "a developer adds a service user (manage-services)" as dev ldapadd -f "$TMP/su.ldif"
expect 0 "a developer changes it (manage-services: runs-as)" modify dev "$SVC" rcRecord z
expect 50 "... but cannot delete it" del dev "$SVC"
expect 0 "an operator deletes the service" del oscar "$SVC"

# ---- tokens: one's own; manage-members on lower ranks
tok() { printf 'dn: cn=%s,ou=tokens,%s\nobjectClass: rcToken\nobjectClass: rcReplicated\ncn: %s\nuid: %s\nrcMemberRef: %s\nrcDb: token\nrcKey: %s\nrcRecord: x\n' \
	"$(hex "$1")" "$SUFFIX" "$(hex "$1")" "$2" "$(mdn "$2")" "$1"; }
expect 0 "a member adds its own token" add rob "$(tok i1 rob)"
expect 50 "... not one of another member's" add rob "$(tok i2 dev)"
expect 50 "an operator cannot revoke another's token" del oscar "cn=$(hex i1),ou=tokens,$SUFFIX"
expect 50 "a member cannot give its token to another" modify rob "cn=$(hex i1),ou=tokens,$SUFFIX" rcMemberRef "$(mdn dev)"
expect 0 "an admin revokes a read-only member's token" del ann "cn=$(hex i1),ou=tokens,$SUFFIX"

# ---- settings (manage-members; billing.*: billing); roles: the fleet's administrator
SET="cn=$(hex lockout.threshold),ou=settings,$SUFFIX"
set_entry() { printf 'dn: %s\nobjectClass: rcSetting\nobjectClass: rcReplicated\ncn: %s\ndescription: %s\nrcDb: setting\nrcKey: %s\nrcRecord: x\n' \
	"cn=$(hex "$1"),ou=settings,$SUFFIX" "$(hex "$1")" "$1" "$1"; }
expect 50 "a developer cannot add a setting" add dev "$(set_entry lockout.threshold)"
expect 0 "an admin adds one" add ann "$(set_entry lockout.threshold)"
expect 50 "an operator cannot change it" modify oscar "$SET" rcRecord y
expect 50 "... nor a billing field" add oscar "$(set_entry billing.company)"
expect 0 "an owner sets a billing field" add alice "$(set_entry billing.company)"
expect 50 "no member changes the members' group id" \
	modify alice "cn=$(hex @gid_members),ou=settings,$SUFFIX" rcRecord y
expect 50 "an owner cannot change a role (the fleet's administrator does)" \
	modify alice "$(roledn developer)" rcMay invite:40
run as alice ldapsearch -LLL -b "cn=fleet,$SUFFIX" -s base rcMasterKey
check "... nor read the fleet key" sh -c "! grep -q rcMasterKey '$OUT'"

# ---- a host's credential still cannot add a member
host_add h1; S1=$HOST_SECRET
printf '%s\n' "$(member eve read-only pending)" > "$TMP/eve.ldif"
expect 50 "a host cannot add a member" as_host h1 "$S1" ldapadd -f "$TMP/eve.ldif"
expect 50 "... nor change a role" as_host h1 "$S1" ldapmodify -f <(printf 'dn: %s\nchangetype: modify\nreplace: rcRole\nrcRole: admin\n' "$(mdn rob)")

# ---- the record inside rcRecord is opaque to slapd: a host refuses one
# that disagrees with the attributes the ACLs govern
SD2=$TMP/host2
host_join "$SD2" h2 && rollcalld_start "$SD2" && wait_for 20 synced "$SD2"
check "host 2 joins and completes its first refresh" synced "$SD2"
rc2() { "$ROLLCALL" --json --config "$TMP/rollcall.conf" --state-dir "$SD2" "$@"; }
role2() { rc2 member show "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["role"])'; }
expect_out 0 '^read-only$' "host 2 has rob, read-only" role2 rob
# rob's record made an admin's on host 1, written alone (rcRole left as it was)
rc member set-role rob admin >/dev/null
rc fleet export --suffix "$SUFFIX" --out "$TMP/export2.ldif" >/dev/null
entry_of "$TMP/export2.ldif" "$(mdn rob)" | awk '/^rcRecord::/{p=1} p&&!/^ /&&!/^rcRecord::/{p=0} p' > "$TMP/rec"
{ printf 'dn: %s\nchangetype: modify\nreplace: rcRecord\n' "$(mdn rob)"; cat "$TMP/rec"; } > "$TMP/mod.ldif"
expect 0 "the administrator writes rob's record as an admin's, rcRole still read-only" as_admin ldapmodify -f "$TMP/mod.ldif"
logged() { grep -q "uid=rob,ou=members,$SUFFIX: its rcRole (read-only) is not the record's (admin)" "$SD2.log"; }
check "host 2's rollcalld refuses it, naming the attribute" wait_for 10 logged
expect_err 1 'no member named "rob"' "... and holds nothing of rob's entry (not even its previous record)" rc2 member show rob
{ printf 'dn: %s\nchangetype: modify\nreplace: rcRole\nrcRole: admin\n-\nreplace: rcRoleRef\nrcRoleRef: %s\n' "$(mdn rob)" "$(roledn admin)"; } > "$TMP/mod.ldif"
expect 0 "the administrator then sets rcRole and rcRoleRef to agree" as_admin ldapmodify -f "$TMP/mod.ldif"
admin2() { [ "$(role2 rob)" = admin ]; }
check "... and host 2 applies the record" wait_for 10 admin2
# an email address already another member's (the directory cannot keep
# addresses unique): oscar's record with ann's address, ann's entry unchanged
rc member update ann --email ann2@example.com >/dev/null
rc member update oscar --email ann@example.com >/dev/null
rc fleet export --suffix "$SUFFIX" --out "$TMP/export4.ldif" >/dev/null
entry_of "$TMP/export4.ldif" "$(mdn oscar)" | awk '/^rcRecord::/{p=1} p&&!/^ /&&!/^rcRecord::/{p=0} p' > "$TMP/rec"
{ printf 'dn: %s\nchangetype: modify\nreplace: mail\nmail: ann@example.com\n-\nreplace: rcRecord\n' "$(mdn oscar)"; cat "$TMP/rec"; } > "$TMP/mod.ldif"
expect 0 "the administrator gives oscar ann's email address (ann's entry unchanged)" as_admin ldapmodify -f "$TMP/mod.ldif"
elogged() { grep -q "uid=oscar,ou=members,$SUFFIX: the email address ann@example.com is already ann's" "$SD2.log"; }
check "host 2 refuses it" wait_for 10 elogged
# a token of rob's presented as ann's: a login session on host 1 mints it
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}"
pam_services "$TMP/pamd1" "login1:session_token"
run "$PAM_WRAP" "$TMP/pamd1" "$PAMDRIVE" -s login1 -a 'rob password 12345' rob auth=SUCCESS acct=SUCCESS open=SUCCESS env=SUCCESS
rc fleet export --suffix "$SUFFIX" --out "$TMP/export3.ldif" >/dev/null
TDN=$(grep "^dn: cn=.*,ou=tokens," "$TMP/export3.ldif" | head -1 | cut -c5-)
check "a login session of rob's on host 1 mints a token" test -n "$TDN"
entry_of "$TMP/export3.ldif" "$TDN" | sed 's/^uid: rob$/uid: ann/; s/^rcMemberRef: uid=rob,/rcMemberRef: uid=ann,/' > "$TMP/tok.ldif"
expect 0 "the administrator adds rob's token as ann's (uid, rcMemberRef)" as_admin ldapadd -f "$TMP/tok.ldif"
tlogged() { grep -q "ou=tokens,$SUFFIX: its uid (ann) is not the record's (rob)" "$SD2.log"; }
check "host 2 refuses it, naming the attribute" wait_for 10 tlogged

done_testing
