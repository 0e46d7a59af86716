#!/bin/bash
# The invitation, resend and reset mails, delivered by a real MTA: exim
# (Debian's exim4-daemon-light) with a configuration of this test's own
# (-C), delivering at once in the foreground (-odi: no daemon, no queue
# runner, nothing left running) to a mailbox file in the test's directory.
# The packaged exim service, running or not, plays no part.  Checked: the
# headers (From, To, Subject, Date, Message-ID, MIME), RFC 2047 names, the
# content (project, inviter, role, name, login hint, code, expiry), that the
# mailed code works, templates from mail_template_dir and their errors
# (file:line, exit 4, store unchanged, nothing sent).  Root only (exim run
# by root with -C keeps the privilege to deliver as the user of the test's
# transport).
. "$(dirname "$0")/../lib.sh"
require_root "delivering through a private exim"
EXIM=$(command -v exim4 || command -v exim || true)
if [ -z "$EXIM" ]; then
	if [ -n "${CI:-}" ]; then echo "1..1"; echo "not ok 1 - exim4 is missing (scripts/deps.sh installs exim4-daemon-light)"; exit 1; fi
	echo "1..0 # SKIP exim4 is not installed (scripts/deps.sh installs exim4-daemon-light)"; exit 0
fi

exim_mailbox
HOST=$(hostname)   # as rollcall names it: gethostname(), "localhost" when not a DNS name
case $HOST in ''|*[!A-Za-z0-9.-]*) HOST=localhost ;; esac
conf() {
	{
		printf 'mail_command = %s -C %s -odi -oi -t\n' "$EXIM" "$MX/exim.conf"
		printf 'project_name = Acme Ops\nmail_from = rollcall@acme.test\n'
		printf 'login_hint = ssh -p 2222 {username}@{host}.example\n'
		printf '%s\n' "$@"
	} > "$TMP/rollcall.conf"
}
conf
init_store

# msg N EXPR: Python on the Nth message of the mailbox (1-based) as "m",
# with "body" its decoded text and "hdr(name)" a header decoded (RFC 2047).
msg() {
	python3 - "$MBOX" "$1" "$2" <<'PY'
import mailbox, sys
from email.header import decode_header, make_header
msgs = list(mailbox.mbox(sys.argv[1]))
m = msgs[int(sys.argv[2]) - 1]
def hdr(name):
    return str(make_header(decode_header(m[name])))
body = m.get_payload(decode=True).decode(m.get_content_charset())
print(eval(sys.argv[3]))
PY
}
count() { python3 -c "import mailbox,sys; print(len(mailbox.mbox('$MBOX')))"; }
# raw N: the Nth message as delivered, byte for byte (no From_ line)
raw() { python3 -c "import mailbox,sys; sys.stdout.buffer.write(mailbox.mbox('$MBOX').get_bytes($1 - 1))"; }

# ---- an invitation -----------------------------------------------------------
expect_out 0 'Invitation code for zoe sent to zoe@example.com' "an invitation is mailed through exim" \
	rc member invite zoe@example.com --role developer --name "Zoë Müller"
check "... and its code is not printed" sh -c "! grep -Eq '[0-9A-Z]{5}-[0-9A-Z]{5}-' '$OUT'"
check "exim delivered one message to the mailbox" test "$(count)" = 1
raw 1 > "$TMP/m1"
check "From: the project name and mail_from" grep -qx 'From: Acme Ops <rollcall@acme.test>' "$TMP/m1"
check "To: the full name, RFC 2047 encoded, and the address" grep -qx 'To: =?UTF-8?B?Wm/DqyBNw7xsbGVy?= <zoe@example.com>' "$TMP/m1"
check "... which decodes to the member's full name" test "$(msg 1 'hdr("To")')" = "Zoë Müller <zoe@example.com>"
check "Subject: names the project" grep -qx 'Subject: Your invitation to Acme Ops' "$TMP/m1"
check "Date: in RFC 5322 form, UTC, once" sh -c "grep -Ec '^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} \+0000\$' '$TMP/m1' | grep -qx 1 && [ \$(grep -c '^Date:' '$TMP/m1') = 1 ]"
check "... within a minute of now" test "$(msg 1 'abs(__import__("email.utils").utils.parsedate_to_datetime(m["Date"]).timestamp() - __import__("time").time()) < 60')" = True
check "Message-ID: rollcall's own, on mail_from's domain (not one exim made)" sh -c "grep -Eqx 'Message-ID: <rollcall\.[0-9]+\.[0-9a-f]{16}@acme\.test>' '$TMP/m1' && [ \$(grep -ic '^Message-ID:' '$TMP/m1') = 1 ]"
check "MIME-Version 1.0, text/plain in UTF-8, 8bit" sh -c "grep -qx 'MIME-Version: 1.0' '$TMP/m1' && grep -qx 'Content-Type: text/plain; charset=UTF-8' '$TMP/m1' && grep -qx 'Content-Transfer-Encoding: 8bit' '$TMP/m1'"
check "the greeting has the full name (UTF-8 body)" test "$(msg 1 'body.splitlines()[0]')" = "Hello Zoë Müller,"
check "the body names the project, host, inviter (root: the administrator) and role" \
	sh -c "grep -q 'You are invited to Acme Ops on $HOST by the administrator of $HOST,' '$TMP/m1' && grep -q 'with the role developer.  Your user name is zoe.' '$TMP/m1'"
check "the code is the first password, and a new one will be asked" \
	sh -c "grep -q 'code, which is also your first password' '$TMP/m1' && grep -q 'asked to choose a' '$TMP/m1'"
check "how to log in: login_hint with the user name and host" grep -qx "    ssh -p 2222 zoe@$HOST.example" "$TMP/m1"
check "how to accept: rollcall member accept, the code typed or on standard input, never an argument" \
	sh -c "grep -qx '    rollcall member accept' '$TMP/m1' && grep -q 'type the code at its prompt (never on the command line' '$TMP/m1' && grep -q 'standard input' '$TMP/m1'"
rc --json member show zoe > "$OUT"
EXP=$(json 'd["invitation_expires"]')   # 2026-12-03T08:10:55Z
EXP_MAIL="${EXP:0:10} ${EXP:11:5} UTC"
check "the expiry, relative and in UTC: $EXP_MAIL" grep -qx "It expires in 24 hours, at $EXP_MAIL." "$TMP/m1"
CODE=$(grep -Eo '^    [0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$' "$TMP/m1" | tr -d ' ')
check "no header carries the code" sh -c "! sed '/^\$/q' '$TMP/m1' | grep -q '$CODE'"

LONG="Çağrı Öztürk-Ünlü Şahin Ğümüşhane Ölçer Ayşegül Iğdır"
expect 0 "a long non-ASCII full name" rc member invite long@example.com --role read-only --name "$LONG"
check "... is folded into encoded words that decode to it exactly" test "$(msg 2 'hdr("To")')" = "$LONG <long@example.com>"
check "... each at most 75 characters, the header lines folded under 78" python3 - "$MBOX" <<'PY'
import mailbox, re, sys
h = mailbox.mbox(sys.argv[1]).get_bytes(1).split(b"\n\n")[0].decode()
w = re.findall(r"=\?UTF-8\?B\?[^?]*\?=", h)
sys.exit(not (len(w) > 1 and max(map(len, w)) <= 75 and max(map(len, h.splitlines())) <= 78))
PY
expect 0 "(withdrawn)" rc member withdraw long

# ---- resend: its own wording; the mailed code works ------------------------
expect_out 0 'New invitation code for zoe sent to' "resend is mailed" rc member resend zoe
raw 3 > "$TMP/m2"
check "resend: its own subject" grep -qx 'Subject: Your new invitation code for Acme Ops' "$TMP/m2"
check "resend: says the earlier code no longer works, with the role and expiry" \
	sh -c "grep -q 'Any earlier code no longer works' '$TMP/m2' && grep -q 'role' '$TMP/m2' && grep -q 'developer' '$TMP/m2' && grep -q 'It expires in 24 hours, at ' '$TMP/m2'"
CODE2=$(grep -Eo '^    [0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$' "$TMP/m2" | tr -d ' ')
check "the resent code is new" test -n "$CODE2" -a "$CODE2" != "$CODE"
expect_out 0 'Welcome, zoe' "the mailed code accepts the invitation" \
	sh -c "printf '%s\nzoe password 12345\n' '$CODE2' | '$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' member accept --password-stdin"

# ---- reset-password ----------------------------------------------------------
expect_out 0 'Password reset code for zoe sent to' "reset-password is mailed" rc member reset-password zoe
raw 4 > "$TMP/m3"
check "reset: its own subject" grep -qx 'Subject: Your password for Acme Ops was reset' "$TMP/m3"
check "reset: says who reset it and that the old password no longer works" \
	sh -c "grep -q 'was reset by the administrator of $HOST' '$TMP/m3' && grep -q 'old password no longer works' '$TMP/m3'"
CODE3=$(grep -Eo '^    [0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$' "$TMP/m3" | tr -d ' ')
expect 0 "the mailed reset code sets a new password" \
	sh -c "printf '%s\nzoe password 67890\n' '$CODE3' | '$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' member accept --password-stdin"

# ---- defaults: project = host name, From root@HOST, ssh NAME@HOST ------------
printf 'mail_command = %s -C %s -odi -oi -t\n' "$EXIM" "$MX/exim.conf" > "$TMP/rollcall.conf"
expect 0 "an invitation without project_name, mail_from and login_hint" rc member invite yann@example.com --role read-only
raw 5 > "$TMP/m4"
check "defaults: From the host name <root@HOST>, To the bare address (no full name)" \
	sh -c "grep -qx 'From: $HOST <root@$HOST>' '$TMP/m4' && grep -qx 'To: yann@example.com' '$TMP/m4'"
check "defaults: the host is the project, the greeting falls back to the user name, ssh NAME@HOST" \
	sh -c "grep -qx 'Subject: Your invitation to $HOST' '$TMP/m4' && grep -qx 'Hello yann,' '$TMP/m4' && grep -qx '    ssh yann@$HOST' '$TMP/m4'"

# ---- templates from mail_template_dir ----------------------------------------
mkdir -m 755 "$TMP/tpl"
cat > "$TMP/tpl/invitation.txt" <<'EOF'
Subject: Welcome to {project}, {name}

Dear {name} ({username}, {email}), {inviter} made you {role}.
Code: {code}, valid until {expires}, that is {expires_in}.
Log in: {login}   Braces: {{code} {unknown-not-a-placeholder
EOF
chmod 644 "$TMP/tpl/invitation.txt"
conf "mail_template_dir = $TMP/tpl"
expect 0 "an invitation with a template of mail_template_dir" rc member invite xavier@example.com --role read-only --name "Xavier Y"
raw 6 > "$TMP/m5"
check "the template's subject, placeholders replaced" grep -qx 'Subject: Welcome to Acme Ops, Xavier Y' "$TMP/m5"
check "the template's body, every placeholder replaced, {{ a literal brace" \
	sh -c "grep -qx 'Dear Xavier Y (xavier, xavier@example.com), the administrator of $HOST made you read-only.' '$TMP/m5' && grep -Eqx 'Code: [0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}, valid until [0-9-]{10} [0-9:]{5} UTC, that is in 24 hours.' '$TMP/m5' && grep -qx 'Log in: ssh -p 2222 xavier@$HOST.example   Braces: {code} {unknown-not-a-placeholder' '$TMP/m5'"
check "... with the same headers" sh -c "grep -qx 'MIME-Version: 1.0' '$TMP/m5' && grep -qx 'From: Acme Ops <rollcall@acme.test>' '$TMP/m5'"
expect 0 "a kind without a file in mail_template_dir uses the built-in template" rc member resend xavier
check "... (the built-in resend wording)" test "$(msg 7 'm["Subject"]')" = "Your new invitation code for Acme Ops"

expect_out 0 '^Subject: Welcome to \{project\}, \{name\}$' "mail-template show: the template in use (mail_template_dir's)" \
	rc mail-template show invitation
expect_out 0 '^Subject: Your invitation to \{project\}$' "mail-template show --builtin: the built-in one" \
	rc mail-template show --builtin invitation
rc mail-template show --builtin reset > "$TMP/tpl/reset.txt"; chmod 644 "$TMP/tpl/reset.txt"
expect_out 0 "^$TMP/tpl/reset.txt: ok$" "mail-template check: a copy of a built-in template is a valid template" rc mail-template check
check "... the built-in one checked too" grep -qx 'built-in resend.txt: ok' "$OUT"
expect_err 2 'no mail "bogus"' "mail-template show of an unknown kind" rc mail-template show bogus
printf 'Subject: hi\n\n{code} {inviter} {bogus}\n' > "$TMP/tpl/reset.txt"
expect_err 4 "^rollcall: $TMP/tpl/reset.txt:3: unknown placeholder \{bogus\}" "mail-template check names a bad template's file and line" rc mail-template check
rm "$TMP/tpl/reset.txt"

# bad templates: refused before any change, exit 4, file:line, nothing sent
bad_tpl() {   # DESCRIPTION REGEX: with the template in $TMP/tpl/invitation.txt
	local n before
	n=$(count)
	dump_store > "$TMP/before"
	expect_err 4 "$2" "$1" rc member invite walt@example.com --role read-only
	dump_store > "$TMP/after"
	check "... the store is unchanged and nothing was sent" sh -c "cmp -s '$TMP/before' '$TMP/after' && [ \$(python3 -c \"import mailbox; print(len(mailbox.mbox('$MBOX')))\") = $n ]"
}
printf 'Subject: hi {name}\n\nHello {nmae}, {code}\n' > "$TMP/tpl/invitation.txt"
bad_tpl "an unknown placeholder: file:line" "^rollcall: $TMP/tpl/invitation.txt:3: unknown placeholder \{nmae\}"
printf 'Subject: your code {code}\n\nHello, {code}\n' > "$TMP/tpl/invitation.txt"
bad_tpl "the code in the subject is refused" "invitation.txt:1: \{code\} is not allowed in the subject"
printf 'Subject: hi\n\nHello, no code here {{code}\n' > "$TMP/tpl/invitation.txt"
bad_tpl "a template without {code} is refused" "invitation.txt: the body has no \{code\}"
printf 'Hello {code}\n' > "$TMP/tpl/invitation.txt"
bad_tpl "a template without a Subject line is refused" "invitation.txt:1: the template must start with a \"Subject: \" line"
printf 'Subject: hi\r\n\nHello {code}\n' > "$TMP/tpl/invitation.txt"
bad_tpl "a CR in the subject is refused" "invitation.txt:1: control character"
printf 'Subject: hi\n\nHello {code}\n' > "$TMP/tpl/invitation.txt"
chmod 664 "$TMP/tpl/invitation.txt"
bad_tpl "a group-writable template is refused" "invitation.txt is group- or other-writable"
chmod 644 "$TMP/tpl/invitation.txt"
mv "$TMP/tpl/invitation.txt" "$TMP/tpl/real.txt"; ln -s real.txt "$TMP/tpl/invitation.txt"
bad_tpl "a symlinked template is refused" "invitation.txt is a symlink"

# ---- header injection through rollcall.conf: refused at load, file:line ----
badconf() {   # DESCRIPTION REGEX LINE...
	local desc=$1 re=$2; shift 2
	printf '%s\n' "$@" > "$TMP/rollcall.conf"
	expect_err 4 "$re" "$desc" rc member list
}
badconf "a CR in project_name" "rollcall.conf:1: project_name: control character" "$(printf 'project_name = Acme\rBcc: x@evil.test')"
badconf "a tab in project_name" "rollcall.conf:2: project_name: tab in value" "# x" "$(printf 'project_name = a\tb')"
badconf "project_name not UTF-8" "rollcall.conf:1: project_name: not valid UTF-8" "$(printf 'project_name = caf\351')"
badconf "mail_from not an address" "rollcall.conf:1: mail_from: .*has a character that is not allowed" "mail_from = Root <root@example.com>"
badconf "a CR in mail_from" "rollcall.conf:1: mail_from: control character" "$(printf 'mail_from = a@b.test\rBcc: c@evil.test')"
badconf "an unknown placeholder in login_hint" "rollcall.conf:1: login_hint: unknown placeholder \{user\}" "login_hint = ssh {user}@example.com"
badconf "a CR in login_hint" "rollcall.conf:1: login_hint: control character" "$(printf 'login_hint = ssh\r{username}')"

done_testing
