#!/bin/bash
# Every cell of the built-in permission matrix, allowed and denied, the rank
# rule, the last-owner rule and custom roles, by running the real binary as
# other uids: a setuid-root copy of the tool under setpriv --reuid=UID, in a
# private mount namespace where the test state directory is bind-mounted on
# the compiled-in default, so that no override is needed (a setuid rollcall
# refuses them).  Root only: elsewhere it skips and says why.
. "$(dirname "$0")/../lib.sh"
require_root "running the tool setuid as other uids in a mount namespace"
for tool in setpriv unshare; do
	command -v $tool >/dev/null || { echo "1..1"; echo "not ok 1 - $tool is missing"; exit 1; }
done

DEFAULT_SD=${RC_DEFAULT_STATE_DIR:-/var/lib/rollcall}   # configure's --with-state-dir
if [ -z "${RC_IN_NAMESPACE:-}" ]; then
	# Re-run this script in a private mount namespace.
	export RC_IN_NAMESPACE=1 ROLLCALL
	exec unshare --mount --propagation private bash "$0" "$@"
fi

# The state directory of this test on the compiled-in default, and a
# setuid-root copy of the tool that other uids can run (setuid_host).
setuid_host

for role in owner admin operator developer read-only; do
	invite_accept "m-$role" "$role"
done
invite_accept victim read-only
rc service create db1 >/dev/null
pwin() { printf 'abcdefghijklmnopqrstuvwxyz0123\n'; }

expect_out 0 'm-admin' "the setuid tool run as a member reads the default state directory" as m-owner member list
check "... as that member (the real uid)" sh -c "[ \"\$(setpriv --reuid=$(uid_of m-read-only) --regid=$(uid_of m-read-only) --clear-groups '$TMP/bin/rollcall' --json whoami | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"username\"])')\" = m-read-only ]"
run as m-read-only --json whoami
check "whoami: an active member has its role's permissions" test "$(json '(d["status"], d["permissions"])')" = "('active', 'view')"
rc member deactivate m-read-only >/dev/null
run as m-read-only --json whoami
check "... a deactivated one none (lib decides)" test "$(json '(d["status"], d["permissions"])')" = "('inactive', '')"
rc member activate m-read-only >/dev/null
run rc --json whoami
check "... root every one" sh -c "test \"\$(python3 -c 'import json; print(json.load(open(\"$OUT\"))[\"permissions\"].count(\",\") + 1)')\" -ge 10"

# The matrix (DESIGN section 3): one command per permission, for every role.
#               owner admin operator developer read-only
declare -A want=(
	[view]="       0 0 0 0 0"
	[members]="    0 0 3 3 3"
	[invite]="     0 0 3 0 3"
	[manage-members]="0 0 3 3 3"
	[manage-services]="0 0 0 0 3"
	[start-stop]=" 0 0 0 3 0"
	[billing-view]="0 0 3 3 3"
	[billing]="    0 0 3 3 3"
	[audit]="      0 0 3 3 3"
)
want[start-stop]="0 0 0 3 3"
n=0
for perm in view members invite manage-members manage-services start-stop billing-view billing audit; do
	set -- ${want[$perm]}
	for role in owner admin operator developer read-only; do
		exp=$1; shift
		n=$((n + 1))
		who=m-$role
		case $perm in
		view) cmd=(service list) ;;
		members) cmd=(member list) ;;
		invite) cmd=(member invite "inv$n@example.com" --role read-only) ;;
		manage-members) cmd=(member update victim --name "Victim $n") ;;
		manage-services) cmd=(service-user create db1 "svcu_$n" --password-stdin) ;;
		start-stop) cmd=(service create "svc$n") ;;
		billing-view) cmd=(billing show) ;;
		billing) cmd=(billing set plan "plan-$n") ;;
		audit) cmd=(audit --limit 1) ;;
		esac
		if [ "$exp" = 3 ]; then
			run as "$who" "${cmd[@]}" < <(pwin)
			if [ "$st" = 3 ] && grep -q "does not have the $perm permission" "$ERR"; then
				ok "$role lacks $perm: ${cmd[*]} refused"
			else
				not_ok "$role lacks $perm: ${cmd[*]} refused (exit $st)"
			fi
		else
			run as "$who" "${cmd[@]}" < <(pwin)
			if [ "$st" = 0 ]; then ok "$role has $perm: ${cmd[*]}"; else not_ok "$role has $perm: ${cmd[*]} (exit $st)"; fi
		fi
	done
done
expect 0 "audit as root" rc --json audit
check "refusals are in the audit log" test "$(json 'sum(1 for e in d if e["result"].startswith("denied"))')" -ge 11

# Who is not a member, or not active, is refused.
expect_err 3 'uid 65534 is not a rollcall member' "a non-member is refused" as 65534 member list
expect_err 3 'uid 65534 is not a rollcall member' "... even for reading services" as 65534 service list
rc member deactivate m-operator >/dev/null
expect_err 3 'member m-operator is inactive and cannot act' "an inactive member is refused" as m-operator service list
rc member activate m-operator >/dev/null
expect_err 3 'only root can initialise' "init is root only" as m-owner init --owner x@example.com

# Overrides are refused to an unprivileged caller of the setuid tool.
expect_err 3 '--state-dir is refused: rollcall runs setuid' "--state-dir refused" as m-owner --state-dir /tmp member list
expect_err 3 '--config is refused' "--config refused" as m-owner --config /tmp/x.conf member list
run setpriv --reuid="$(uid_of m-owner)" --regid="$(uid_of m-owner)" --clear-groups env ROLLCALL_STATE_DIR=/nonexistent ROLLCALL_CONFIG=/nonexistent "$TMP/bin/rollcall" member list
check "ROLLCALL_STATE_DIR and ROLLCALL_CONFIG are ignored when setuid" test "$st" = 0

# The mail command runs as the caller, never as root: a copy of /etc with a
# rollcall.conf that sets mail_command is bind-mounted over /etc (only in
# this namespace).
mkdir -m 1777 "$TMP/mailout"
cat > "$TMP/bin/mail.sh" <<MAIL
#!/bin/sh
id -u > "$TMP/mailout/uid"
cat > "$TMP/mailout/mail"
MAIL
chmod 755 "$TMP/bin/mail.sh"
# (the compiled-in configuration file: configure's --with-config-file)
CONF=${RC_DEFAULT_CONFIG:-/etc/rollcall/rollcall.conf}
case $CONF in
/etc/*)
	cp -a /etc "$TMP/etc"
	mkdir -p "$(dirname "$TMP$CONF")"
	printf 'mail_command = %s\n' "$TMP/bin/mail.sh" > "$TMP$CONF"
	chmod 644 "$TMP$CONF"
	mount --bind "$TMP/etc" /etc ;;
*)
	mkdir -p "$(dirname "$CONF")"
	printf 'mail_command = %s\n' "$TMP/bin/mail.sh" > "$CONF"
	chmod 644 "$CONF" ;;
esac
expect_out 0 'sent to mailed@example.com' "a member's invitation is mailed" as m-admin member invite mailed@example.com --role read-only
check "the mail command ran as the member, not as root" test "$(cat "$TMP/mailout/uid" 2>/dev/null)" = "$(uid_of m-admin)"
check "the mail holds the code" grep -Eq '[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}' "$TMP/mailout/mail"
check "the mail names the inviting member, with its email, as the inviter" \
	grep -q "^You are invited to .* by m-admin <m-admin@example.com>,\$" "$TMP/mailout/mail"
expect_err 3 'mail-template is for root' "the setuid tool shows no template file to a member" as m-owner mail-template show invitation
case $CONF in /etc/*) umount /etc ;; *) rm -f "$CONF" ;; esac

# The rank rule.
expect_err 3 'may grant only roles of a lower rank' "developer cannot invite a developer" as m-developer member invite d2@example.com --role developer
expect_err 3 'may grant only roles of a lower rank' "developer cannot invite an admin" as m-developer member invite d3@example.com --role admin
expect 0 "developer invites read-only" as m-developer member invite d4@example.com --role read-only
expect_err 3 'may act only on members of a lower rank' "admin cannot act on an owner" as m-admin member deactivate m-owner
expect_err 3 'may grant only roles of a lower rank' "admin cannot make an owner" as m-admin member set-role victim owner
expect_err 3 'may grant only roles of a lower rank' "admin cannot make an admin" as m-admin member set-role victim admin
expect 0 "admin makes an operator" as m-admin member set-role victim operator
expect 0 "an owner may grant owner" as m-owner member set-role victim owner
expect_err 3 'may act only on members of a lower rank' "an owner cannot act on another owner" as m-owner member set-role victim read-only
expect_err 3 'may act only on members of a lower rank' "a member cannot change its own role" as m-admin member set-role m-admin owner
expect 0 "a member updates its own full name" as m-read-only member update m-read-only --name "Read Only"
expect_err 3 'does not have the manage-members permission' "but not another member's" as m-read-only member update victim --name "X"
expect_out 0 'm-read-only' "a member sees itself without the members permission" as m-read-only member show m-read-only

# The last owner: root demotes owners until one is left.
for o in victim m-owner; do rc member set-role "$o" admin >/dev/null; done
expect_err 1 'alice is the last owner and cannot be demoted' "the last owner cannot be demoted (by root)" rc member set-role alice admin
expect_err 1 'alice is the last owner and cannot be deleted' "the last owner cannot be deleted (by root)" rc member delete alice --confirm alice@example.com
ALICE_UID=$(uid_of alice)
expect_err 3 'may act only on members of a lower rank' "the last owner cannot deactivate itself" as alice member deactivate alice

# Custom roles behave as the seeds' models.
rc role create editor --rank 50 --permissions view,manage-services,start-stop,audit >/dev/null
rc role create viewer --rank 10 --permissions view >/dev/null
invite_accept ed editor
invite_accept vi viewer
expect 0 "Editor creates a service" as ed service create edsvc
expect 0 "Editor reads the audit log" as ed audit --limit 1
expect_err 3 'does not have the members permission' "Editor cannot list members" as ed member list
expect_err 3 'does not have the billing-view permission' "Editor cannot see billing" as ed billing show
expect 0 "Viewer lists services" as vi service list
expect_err 3 'does not have the start-stop permission' "Viewer cannot create services" as vi service create visvc
expect_err 3 'does not have the manage-services permission' "Viewer cannot see service passwords" as vi service-user show-password db1 db1_admin
rc role create org-admin --rank 90 --permissions view,members,invite,manage-services,start-stop,billing-view,audit >/dev/null
rc role create org-developer --rank 30 --permissions view,manage-services,start-stop >/dev/null
invite_accept oa org-admin
invite_accept od org-developer
expect 0 "Admin (seed 003) adds a Developer" as oa member invite od2@example.com --role org-developer
expect_err 3 'may grant only roles of a lower rank' "Admin (seed 003) cannot add an Admin" as oa member invite oa2@example.com --role org-admin
expect 0 "Admin (seed 003) views billing" as oa billing show
expect_err 3 'does not have the billing permission' "Admin (seed 003) cannot change billing" as oa billing set plan x
expect 0 "Admin (seed 003) views other members" as oa member show od
expect_err 3 'does not have the manage-members permission' "Admin (seed 003) cannot manage them" as oa member deactivate od
expect 0 "Developer (seed 003) manages pipelines" as od service create pipe
expect_err 3 'does not have the billing-view permission' "Developer (seed 003) cannot view billing" as od billing show
expect_err 3 'does not have the members permission' "Developer (seed 003) cannot see other users" as od member show oa
rc role create mgr --rank 70 --permissions view,members,manage-members >/dev/null
invite_accept mg mgr
expect_err 3 'cannot give a role permissions it does not have' "a member cannot create a role with more than its own permissions" \
	as mg role create sneaky --rank 20 --permissions view,billing
expect_err 3 'may create only roles of a lower rank' "a member cannot create a role of its rank or above" \
	as mg role create bigger --rank 70 --permissions view
expect 0 "a member with manage-members creates a lower role with its permissions" as mg role create helper --rank 20 --permissions view,members
expect_err 3 'does not have the manage-members permission' "role create needs manage-members" as od role create x --rank 5 --permissions view

# Refusals of a caller who is not a member never push a change out of the
# log: at audit.max_entries 100, a real change, then 300 refused runs of a
# non-member (uid 65534): the change is still listed, and the refusals are
# one aggregated row with their count.
rc settings set audit.max_entries 100 >/dev/null
expect 0 "a real change at audit.max_entries 100" rc settings set invite.ttl 47h
refused=0
for i in $(seq 300); do
	as 65534 billing set plan "flood-$i" >/dev/null 2>&1
	[ $? = 3 ] && refused=$((refused + 1))
done
check "300 refused runs of a non-member (exit 3)" test "$refused" = 300
expect 0 "audit --json as root" rc --json audit
check "... still lists the real change" test "$(json 'sum(1 for e in d if e["action"]=="settings.set" and e["target"]=="invite.ttl=1d23h")')" = 1
check "... and the 300 refusals as one aggregated row (count 300, seq 0)" test "$(json '[(e["count"], e["seq"]) for e in d if e["actor"]=="uid:65534" and e["action"]=="billing.set"]')" = "[(300, 0)]"
check "... which keeps the last refused target and the reason" test "$(json '[e["result"] for e in d if e["actor"]=="uid:65534" and e["action"]=="billing.set"][0]')" = "denied: uid 65534 is not a rollcall member"
check "... and every record of the log proper has count 1" test "$(json 'all(e["count"]==1 and e["first"]==e["time"] for e in d if e["seq"])')" = True
check "the log proper is kept to audit.max_entries" test "$(json 'sum(1 for e in d if e["seq"])')" -le 100
expect_out 0 'uid:65534 +\| billing.set +\| plan +\| denied: uid 65534 is not a rollcall member +\| tool +\| 300 ' "the table shows the aggregated row with its count" rc audit --limit 3

done_testing
