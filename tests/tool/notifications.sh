#!/bin/bash
# rollcall notification list|create|update|delete|send: addresses subscribed
# to events, mailed through a real MTA (exim with this test's own
# configuration, -odi: delivered at once, to a mailbox in the test's
# directory, as tests/tool/mail.sh does).  Checked: the subscriptions with
# --json, bad input refused with the store unchanged, the notifications
# permission (exit 3 for a member without it, a custom role with it), a role
# change to admin mailed right after its commit, a lockout by failed PAM
# logins (pam_wrapper + pamdrive) queued by the login and mailed by
# "rollcall notification send", and a failing mail command audited while
# the change stands.  Root only (exim -C; the setuid tool as other uids in a
# private mount namespace).
. "$(dirname "$0")/../lib.sh"
require_root "delivering through a private exim and running the tool as other uids"
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}"
EXIM=$(command -v exim4 || command -v exim || true)
if [ -z "$EXIM" ]; then
	if [ -n "${CI:-}" ]; then echo "1..1"; echo "not ok 1 - exim4 is missing (scripts/deps.sh installs exim4-daemon-light)"; exit 1; fi
	echo "1..0 # SKIP exim4 is not installed (scripts/deps.sh installs exim4-daemon-light)"; exit 0
fi
for tool in setpriv unshare mdb_dump; do
	command -v $tool >/dev/null || { echo "1..1"; echo "not ok 1 - $tool is missing"; exit 1; }
done
if [ -z "${RC_IN_NAMESPACE:-}" ]; then
	export RC_IN_NAMESPACE=1 ROLLCALL
	exec unshare --mount --propagation private bash "$0" "$@"
fi

exim_mailbox
GOOD_MAIL="mail_command = $EXIM -C $MX/exim.conf -odi -oi -t"
: > "$TMP/rollcall.conf"   # no mail_command until the members are made
good_conf() { printf '%s\nproject_name = Acme Ops\nmail_from = rollcall@acme.test\n' "$GOOD_MAIL" > "$TMP/rollcall.conf"; }
count() { python3 -c "import mailbox; print(len(mailbox.mbox('$MBOX')))"; }
# msg N EXPR: Python on the Nth message ("m", "body")
msg() {
	python3 - "$MBOX" "$1" "$2" <<'PY'
import mailbox, sys
m = list(mailbox.mbox(sys.argv[1]))[int(sys.argv[2]) - 1]
body = m.get_payload(decode=True).decode()
print(eval(sys.argv[3]))
PY
}
body_has() { msg "$1" body | grep -Eq -- "$2"; }
# the last 8 records here (a change and its notice each)
audit_has() { rc audit --limit "${2:-8}" | grep -Eq -- "$1"; }

# the store on the compiled-in state directory, a setuid copy of the tool
setuid_host
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
invite_accept carol developer
invite_accept dave read-only
good_conf
check "no mail yet (no subscription: changes queue nothing)" test "$(count)" = 0

# ---- create, list, update, delete --------------------------------------------
expect 0 "create a notification" rc --json notification create sec@example.com --events member-locked,role-changed
check "... --json names the address and events" test "$(json '(d["email"], d["events"])')" = "('sec@example.com', 'member-locked,role-changed')"
expect 0 "list --json" rc --json notification list
check "... one subscription with its events and creator" \
	test "$(json '[(x["email"], x["events"], x["created_by"]) for x in d]')" = "[('sec@example.com', 'member-locked,role-changed', 'root')]"
expect_out 0 'sec@example.com +\\| member-locked,role-changed +\\| root' "list as a table" rc notification list
expect_err 1 'already subscribed' "the same address again is refused" rc notification create SEC@example.com --events all
expect 0 "create a second one for every event" rc notification create ops@example.com --events all
expect 0 "update its events" rc --json notification update ops@example.com --events token-created
check "... the new events are listed" sh -c "$ROLLCALL --config $TMP/rollcall.conf --state-dir $SD --json notification list | grep -q '\"events\":\"token-created\"'"
expect 0 "delete it" rc --json notification delete ops@example.com
check "... --json says deleted" test "$(json 'd["deleted"]')" = True
expect_err 1 'no notification for ops@example.com' "deleting it again is refused" rc notification delete ops@example.com
check "changes are audited" audit_has 'notification.create +\| sec@example.com'

# ---- bad input: refused, store unchanged ---------------------------------------
dump_store > "$TMP/before"
expect_err 1 'unknown event "lunch"' "an unknown event is refused (exit 1)" rc notification create x@example.com --events lunch
expect_err 1 'email address' "a bad email address is refused (exit 1)" rc notification create not-an-email --events all
expect_err 1 'email address' "... and in update" rc notification update 'a@b@c' --events all
expect_err 2 '--events is required' "create without --events is a usage error" rc notification create x@example.com
expect_err 2 'unknown option' "an unknown option is a usage error" rc notification create x@example.com --events all --frob
expect_err 1 'no notification for nobody@example.com' "update of an unknown address" rc notification update nobody@example.com --events all
dump_store > "$TMP/after"
check "... the store is unchanged" cmp -s "$TMP/before" "$TMP/after"
expect_out 0 'Usage: rollcall .--json. notification ACTION' "--help" rc notification --help

# ---- the notifications permission ---------------------------------------------
expect_err 3 'does not have the notifications permission' "a member without it is refused (exit 3)" as carol notification list
expect_err 3 'does not have the notifications permission' "... and cannot create one" as carol notification create c@example.com --events all
expect_err 3 'does not have the notifications permission' "... nor send the outbox" as carol notification send
expect_out 0 'sec@example.com' "the owner has it" as alice notification list
expect 0 "a custom role with the notifications permission" rc role create notifier --rank 30 --permissions view,notifications
expect 0 "(dave gets it)" rc member set-role dave notifier
expect_out 0 'sec@example.com' "... whose member lists the notifications" as dave notification list
check "the permission is listed with the role" sh -c "$ROLLCALL --config $TMP/rollcall.conf --state-dir $SD role show notifier | grep -q notifications"
check "no mail for these changes (nobody subscribed to them)" test "$(count)" = 0

# ---- a role change to admin: mailed after its commit --------------------------
expect 0 "carol becomes admin" rc member set-role carol admin
check "one mail to the subscribed address" test "$(count)" = 1
check "... To: sec@example.com" test "$(msg 1 'm["To"]')" = sec@example.com
check "... the subject names the event and the member" test "$(msg 1 'm["Subject"]')" = "[Acme Ops] role changed: carol"
check "... the body says from which role to which" body_has 1 'Detail: +developer to admin'
check "... no secret in it (no code, no token)" sh -c "! grep -Eq '[0-9A-Z]{5}-[0-9A-Z]{5}-|rct_' '$MBOX'"
check "the delivery is audited" audit_has 'notification.mail +\| sec@example.com +\| ok role-changed: carol'
expect 0 "a role change between other roles" rc member set-role dave developer
check "... is not mailed" test "$(count)" = 1

# ---- a failing mail command: audited, the change stands ------------------------
printf 'mail_command = /bin/false\n' > "$TMP/rollcall.conf"
expect 0 "carol back to developer with a failing mail command: the change succeeds" rc member set-role carol developer
check "... a warning on stderr" grep -q 'notification to sec@example.com was not sent' "$ERR"
expect_out 0 'carol.*developer' "... the change stands" rc member list
check "... the failure is audited" audit_has 'notification.mail +\| sec@example.com +\| failed .*role-changed: carol'
check "... nothing was delivered" test "$(count)" = 1
good_conf

# ---- a lockout by failed PAM logins: queued, mailed by "notification send" -----
pam_service rollcall-test
rc settings set lockout.attempts 3 >/dev/null
for i in 1 2 3; do pd -a "wrong password $i" carol auth=AUTH_ERR >/dev/null 2>&1; done
run pd -a "carol password 12345" carol auth=MAXTRIES
expect_out 0 'carol' "three failed logins lock carol" sh -c "$ROLLCALL --config $TMP/rollcall.conf --state-dir $SD --json member show carol | grep -q '\"locked_until\":\"' && echo carol"
check "the login mailed nothing itself" test "$(count)" = 1
expect_out 0 '1 notification mail\(s\) sent, 0 failed' "rollcall notification send mails the queued lockout" rc notification send
check "... one more mail" test "$(count)" = 2
check "... its subject names the lockout and the member" test "$(msg 2 'm["Subject"]')" = "[Acme Ops] member locked out: carol"
check "... from the PAM service" body_has 2 'From: +pam:rollcall-test'
expect_out 0 '"sent":0' "a second send has nothing left (--json)" rc --json notification send
check "... no mail more" test "$(count)" = 2

# ---- the other events, each mailed after its change ----------------------------
expect 0 "subscribe to every event" rc notification update sec@example.com --events all
N=$(count)
expect 0 "root unlocks carol (not an event)" rc member unlock carol
check "... no mail" test "$(count)" = "$N"
expect 0 "carol makes an api token (the setuid tool: no mail_command on this host)" as carol --json token generate --description ci
check "... nothing mailed: the notice stays queued" test "$(count)" = "$N"
expect_err 1 'no mail_command is set' "notification send without a mail_command refuses, and keeps them" \
	as alice notification send
expect_out 0 '1 notification mail\(s\) sent' "... root's notification send mails it" rc notification send
check "token-created is mailed, without the token" sh -c "[ $(count) = $((N + 1)) ] && ! grep -q rct_ '$MBOX'"
check "... naming the member" test "$(msg $((N + 1)) 'm["Subject"]')" = "[Acme Ops] token created: carol"
: > "$TMP/rollcall.conf"
ECODE=$(rc --json member invite erin@example.com --role read-only | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
good_conf
expect 0 "erin accepts her invitation with the tool" sh -c "printf '%s\\n%s\\n' '$ECODE' 'erin password 12345' | $ROLLCALL --config $TMP/rollcall.conf --state-dir $SD member accept --password-stdin"
check "invitation-accepted is mailed" test "$(msg $((N + 2)) 'm["Subject"]')" = "[Acme Ops] invitation accepted: erin"
expect 0 "erin is deleted" rc member delete erin --confirm erin@example.com
check "member-deleted is mailed" test "$(msg $((N + 3)) 'm["Subject"]')" = "[Acme Ops] member deleted: erin"
check "... and nothing else" test "$(count)" = $((N + 3))
SECRET=$(as carol --json mfa enable | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
expect 0 "carol sets up two-factor authentication" sh -c "oathtool --totp -b '$SECRET' | setpriv --reuid=$(uid_of carol) --regid=$(uid_of carol) --clear-groups '$TMP/bin/rollcall' mfa confirm --code-stdin"
check "... not an event: no mail" test "$(count)" = $((N + 3))
expect 0 "root resets carol's two-factor authentication" rc member mfa-reset carol
check "mfa-disabled is mailed, naming the member" test "$(msg $((N + 4)) 'm["Subject"]')" = "[Acme Ops] two-factor authentication disabled: carol"
check "... with no secret in it" sh -c "! grep -q '$SECRET' '$MBOX'"

# ---- an invitation that runs out: found and mailed once by "notification send"
: > "$TMP/rollcall.conf"
rc member invite fay@example.com --role read-only >/dev/null
good_conf
expect_out 0 '0 notification mail\(s\) sent' "before its expiry, notification send has nothing for it" rc notification send
expect_out 0 '1 notification mail\(s\) sent' "25 hours later, notification send mails the expired invitation" \
	"$AT_TIME" +25h "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SD" notification send
check "... invitation-expired, naming the member" test "$(msg $((N + 5)) 'm["Subject"]')" = "[Acme Ops] invitation expired: fay"
expect_out 0 '0 notification mail\(s\) sent' "... once: a later send has nothing" \
	"$AT_TIME" +26h "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SD" notification send
: > "$TMP/rollcall.conf"
rc member resend fay >/dev/null
good_conf
expect_out 0 '1 notification mail\(s\) sent' "resent, it is reported again when the new expiry passes" \
	"$AT_TIME" +50h "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SD" notification send
check "... and nothing else was mailed" test "$(count)" = $((N + 6))

done_testing
