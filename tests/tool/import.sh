#!/bin/bash
# member import: a CSV file of invitations, all or nothing.  The happy path
# (pending members, invitations, codes that work with member accept, the
# table and --json), every bad line reported as FILE:LINE with the store
# unchanged (bad fields, duplicates within the file and against the store,
# a role the caller may not grant, a host user's name, CSV errors), a
# caller without the invite permission (exit 3, audited), standard input,
# quoted fields, mail through mail_command (and a failing one), one audit
# record per member, the NSS view, the progress line on a terminal; and,
# run setuid as other uids, that a caller imports only files it may read
# itself.  Root only (a private mount namespace, setuid copies).
. "$(dirname "$0")/../lib.sh"
require_root "running the tool setuid as other uids in a mount namespace"
for tool in setpriv unshare; do
	command -v $tool >/dev/null || { echo "1..1"; echo "not ok 1 - $tool is missing"; exit 1; }
done
if [ -z "${RC_IN_NAMESPACE:-}" ]; then
	export RC_IN_NAMESPACE=1 ROLLCALL
	exec unshare --mount --propagation private bash "$0" "$@"
fi
setuid_host
accept() { printf '%s\n%s\n' "$1" "$2" | rc member accept --password-stdin; }
audit_count() {   # audit_count ACTION TARGET: records of ACTION on TARGET
	rc --json audit >"$TMP/audit.json" &&
	python3 -c "import json,sys; print(sum(1 for e in json.load(open('$TMP/audit.json')) if e['action']==sys.argv[1] and e['target']==sys.argv[2]))" "$1" "$2"
}
CODE_RE='[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}'

# ---- the happy path ----------------------------------------------------------
printf '\357\273\277email,role,username,full_name\r\n' > "$TMP/a.csv"
printf 'bob@example.com,developer,,Bob Builder\r\n' >> "$TMP/a.csv"
printf '\r\n' >> "$TMP/a.csv"
printf 'Carol.Smith@example.com,read-only,carol,"Carol ""CJ"" Smith"\r\n' >> "$TMP/a.csv"
printf '"dave@example.com",operator,"",\n' >> "$TMP/a.csv"
printf 'erin@example.com,read-only,erin,Erin Ø\n' >> "$TMP/a.csv"
expect 0 "import a file (BOM, CRLF, an empty line, quoted fields)" rc --json member import "$TMP/a.csv"
check "--json: an array of objects with username, email, role, code and expires" \
	test "$(json '[sorted(r) for r in d][0], len(d)')" = "['code', 'email', 'expires', 'role', 'username'] 4"
check "... the rows of the file, names given or from the email" \
	test "$(json '[(r["username"], r["email"], r["role"]) for r in d]')" = "[('bob', 'bob@example.com', 'developer'), ('carol', 'Carol.Smith@example.com', 'read-only'), ('dave', 'dave@example.com', 'operator'), ('erin', 'erin@example.com', 'read-only')]"
check "... codes and ISO 8601 UTC expiry" \
	test "$(json 'all(len(r["code"]) == 23 and r["expires"].endswith("Z") for r in d)')" = True
BOB_CODE=$(json '[r["code"] for r in d if r["username"]=="bob"][0]')
expect 0 "member list" rc --json member list --status pending
check "the imported members are pending" test "$(json 'sorted(m["username"] for m in d)')" = "['bob', 'carol', 'dave', 'erin']"
expect_out 0 'full name: +Carol "CJ" Smith' "a quoted full name with \"\" escapes is stored unquoted" rc member show carol
expect_out 0 'invitation: +pending' "... with a pending invitation" rc member show carol
expect_out 0 'invited by: +root' "... by the importer" rc member show carol
expect_out 0 'full name: +Erin Ø' "a UTF-8 full name" rc member show erin
expect_out 0 'Welcome, bob' "an imported code works with member accept" accept "$BOB_CODE" 'bob password 123'
check "audit: one member.invite record per imported member" \
	test "$(audit_count member.invite bob)$(audit_count member.invite carol)$(audit_count member.invite dave)$(audit_count member.invite erin)" = 1111
check "... and no other record of the import" test "$(audit_count member.import "$TMP/a.csv")" = 0

# the NSS view (nssw: lib.sh)
expect_out 0 '^carol:\*:[0-9]+:[0-9]+:Carol "CJ" Smith:/home/carol:' "getent passwd shows an imported member" nssw getent passwd carol
expect_out 0 '^rollcall-read-only:\*:[0-9]+:.*erin' "... and its role's group" nssw getent group rollcall-read-only

# the text table, from standard input
printf 'email,role\nfrank@example.com,read-only\n' > "$TMP/b.csv"
expect_out 0 '^\| USERNAME \| EMAIL +\| ROLE +\| CODE +\| EXPIRES +\|$' "a table USERNAME EMAIL ROLE CODE EXPIRES" \
	sh -c "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' member import - < '$TMP/b.csv'"
check "... the row with its code, from standard input (\"-\")" grep -Eq "^\| frank +\| frank@example.com +\| read-only +\| $CODE_RE \|" "$OUT"

# ---- bad lines: every one reported, nothing written --------------------------
dump_store > "$TMP/before"
rc --json audit > "$TMP/audit.before"
cat > "$TMP/bad.csv" <<'EOF'
email,role,username,full_name
ok1@example.com,read-only,,
not-an-email,read-only,,
ok2@example.com,wizard,,
OK1@example.com,read-only,ok1b,
ok1@other.example,read-only,,
bob@example.com,read-only,bob2,
x@example.com,read-only,bob,
daemon@example.com,read-only,,
"Smith, John"@example.com,read-only,,
y@example.com,read-only,,"Smith, John"
z@example.com,read-only,z,Zed,extra
w@example.com,read-only,w"x,
v@example.com,read-only,v,"Vee" V
u@example.com,read-only,u,U
EOF
expect 1 "a file with bad lines is refused (exit 1)" rc member import "$TMP/bad.csv"
for want in \
	':3: email address "not-an-email" must have exactly one' \
	':4: no role named "wizard"' \
	':5: the email address OK1@example.com is on line 2 already' \
	':6: the user name ok1 \(from the email address\) is on line 2 already' \
	':7: a member with the email address bob@example.com already exists' \
	':8: name "bob" is already used by a member' \
	':9: name "daemon" is already used by a user of this host' \
	':10: text after a closing quote' \
	':11: full name "Smith, John" must not contain' \
	':12: 5 fields; the header has 4' \
	':13: a .". in a field that is not quoted' \
	':14: text after a closing quote' \
	': 12 bad lines: nothing was imported'; do
	check "reported: $want" grep -Eq "^rollcall: $TMP/bad.csv$want" "$ERR"
done
check "... each bad line once, in line order, and no good line" \
	test "$(grep -Eo '^rollcall: [^:]+:[0-9]+' "$ERR" | sed 's/.*://' | tr '\n' ' ')" = "3 4 5 6 7 8 9 10 11 12 13 14 "
dump_store > "$TMP/after"
check "the store is unchanged" cmp -s "$TMP/before" "$TMP/after"
rc --json audit > "$TMP/audit.after"
check "... and so is the audit log" cmp -s "$TMP/audit.before" "$TMP/audit.after"
printf 'email,name\nq@example.com,Q\n' > "$TMP/hdr.csv"
expect_err 1 "hdr.csv:1: the header has an unknown column \"name\"" "an unknown column is refused at line 1" rc member import "$TMP/hdr.csv"
printf 'username,email\nq,q@example.com\n' > "$TMP/hdr.csv"
expect_err 1 "hdr.csv:1: the header must name the columns email and role" "a header without role is refused" rc member import "$TMP/hdr.csv"
: > "$TMP/empty.csv"
expect_err 1 "empty.csv:1: no header line" "an empty file is refused" rc member import "$TMP/empty.csv"
printf 'email,role\n"open@example.com,read-only\n' > "$TMP/open.csv"
expect_err 1 "open.csv:2: a quoted field is not closed" "an unclosed quote is refused" rc member import "$TMP/open.csv"
expect_err 1 "cannot open $TMP/missing.csv: No such file" "a missing file is refused" rc member import "$TMP/missing.csv"
expect_err 2 "member import" "import without a file is a usage error" rc member import
printf 'email,role\ncheck@example.com,read-only\n' > "$TMP/check.csv"
expect_out 0 '1 member to invite, no bad line; nothing was changed' "--check checks and changes nothing" rc member import --check "$TMP/check.csv"
expect_err 1 'no member named "check"' "... no member was made" rc member show check
cp "$TMP/check.csv" "$TMP/we\"ird\\name.csv"
expect 0 "--check --json of a file whose name has a quote and a backslash" rc --json member import --check "$TMP/we\"ird\\name.csv"
check "... is valid JSON naming the file as given" test "$(json 'd["file"]')" = "$TMP/we\"ird\\name.csv"
cp "$TMP/check.csv" "$TMP/latin$(printf '\351').csv"
expect 0 "--check --json of a file whose name is not UTF-8" rc --json member import --check "$TMP/latin$(printf '\351').csv"
check "... is valid JSON, the byte as \\u00e9" test "$(json 'd["file"]')" = "$TMP/latin$(printf '\303\251').csv"
dump_store > "$TMP/after"
check "the store is unchanged after the refusals and --check" cmp -s "$TMP/before" "$TMP/after"

# ---- callers: permission and rank, run setuid as members ----------------------
invite_accept dev developer
invite_accept ops operator
chmod 644 "$TMP"/*.csv
printf 'email,role\nlow@example.com,read-only\nhigh@example.com,admin\n' > "$TMP/rank.csv"
chmod 644 "$TMP/rank.csv"
expect_err 1 "rank.csv:3: member dev \(role developer\) may grant only roles of a lower rank" \
	"a developer may not import an admin (the rank rule)" as dev member import "$TMP/rank.csv"
expect_err 1 'no member named "low"' "... and nothing of the file was imported" rc member show low
printf 'email,role\nopsx@example.com,read-only\n' > "$TMP/ops.csv"
chmod 644 "$TMP/ops.csv"
expect_err 3 'member ops \(role operator\) does not have the invite permission' "an operator may not import (exit 3)" \
	as ops member import "$TMP/ops.csv"
check "... the refusal is audited" test "$(audit_count member.import "$TMP/ops.csv")" = 1
expect_err 3 'is not a rollcall member' "a uid that is no member may not import" as 4242 member import "$TMP/ops.csv"
printf 'email,role\nlow@example.com,read-only\n' > "$TMP/low.csv"
chmod 644 "$TMP/low.csv"
expect 0 "a developer imports read-only members" as dev --json member import "$TMP/low.csv"
expect_out 0 'invited by: +dev' "... invited by dev" rc member show low
# a file only root may read is not read for another caller
printf 'email,role\nsecret-line@example.com,read-only\n' > "$TMP/secret.csv"
chmod 600 "$TMP/secret.csv"
expect_err 1 "cannot open $TMP/secret.csv: Permission denied" "a caller cannot import a file it may not read (opened with its privileges)" \
	as dev member import "$TMP/secret.csv"
check "... nothing of it is shown" sh -c "! grep -q secret-line '$OUT' '$ERR'"
expect_err 1 'no member named "secret-line"' "... or imported" rc member show secret-line
printf 'email,role\nmine@example.com,read-only\n' > "$TMP/mine.csv"
chown "$(uid_of dev)" "$TMP/mine.csv"; chmod 600 "$TMP/mine.csv"
expect 0 "the caller's own file, readable only by it, is read" as dev member import "$TMP/mine.csv"
expect 0 "standard input, as the caller" sh -c "printf 'email,role\nfromstdin@example.com,read-only\n' | setpriv --reuid=$(uid_of dev) --regid=$(uid_of dev) --clear-groups '$TMP/bin/rollcall' member import -"
expect_out 0 'status: +pending' "... imported" rc member show fromstdin

# ---- mail (as root: the setuid copy reads only the compiled-in configuration;
# the mail command as another caller: tool/members.sh, tool/mail.sh) ---------
mkdir -m 777 "$TMP/mails"
cat > "$TMP/mail.sh" <<MAIL
#!/bin/sh
f=\$(mktemp "$TMP/mails/m.XXXXXX")
id -u > "\$f.uid"
cat > "\$f"
MAIL
chmod 755 "$TMP/mail.sh"
printf 'mail_command = %s -t\n' "$TMP/mail.sh" > "$TMP/rollcall.conf"
printf 'email,role,username,full_name\nm1@example.com,read-only,,Em One\nm2@example.com,read-only,,\n' > "$TMP/mail.csv"
chmod 644 "$TMP/mail.csv"
expect 0 "with mail_command, each invitation is mailed" rc --json member import "$TMP/mail.csv"
check "... --json says sent, and no code" test "$(json '[(r["username"], r["sent"], r["code"]) for r in d]')" = "[('m1', True, ''), ('m2', True, '')]"
check "... one mail per member" test "$(ls "$TMP/mails" | grep -vc uid)" = 2
check "... with the recipient and a code" sh -c "grep -l '^To: Em One <m1@example.com>' '$TMP'/mails/m.* | xargs grep -Eq '$CODE_RE'"
check "... run as the caller" sh -c "cat '$TMP'/mails/*.uid | sort -u | grep -qx '$(id -u)'"
M1_CODE=$(grep -l 'm1@example.com' "$TMP"/mails/m.?????? | xargs grep -Eo "$CODE_RE" | head -1)
expect_out 0 'Welcome, m1' "... and the mailed code works" accept "$M1_CODE" 'm1 password 1234'
printf 'mail_command = /bin/false\n' > "$TMP/rollcall.conf"
printf 'email,role\nf1@example.com,read-only\n' > "$TMP/fail.csv"
expect_out 0 "^\| f1 +\| f1@example.com +\| read-only +\| false +\| $CODE_RE \|" "a failed mail undoes nothing and its code is printed" \
	rc member import "$TMP/fail.csv"
check "... the failure is reported for the member" grep -q 'fail.csv:2: the invitation of f1 was not mailed' "$ERR"
check "... and audited" test "$(audit_count member.invite-mail f1)" = 1
: > "$TMP/rollcall.conf"

# ---- the progress line, on a terminal only ------------------------------------
for f in big tty; do
	python3 -c "
with open('$TMP/$f.csv', 'w') as f:
    f.write('email,role\n')
    for i in range(40000): f.write('$f%d@example.com,read-only\n' % i)
"
done
if command -v script >/dev/null; then
	script -qec "'$ROLLCALL' --config '$TMP/rollcall.conf' --state-dir '$SD' member import '$TMP/tty.csv' >/dev/null" /dev/null > "$TMP/tty.out"
	check "on a terminal a progress line is shown and cleared" sh -c "grep -aEq '(checking|writing): [0-9]+ of 40000 rows' '$TMP/tty.out' && grep -aq \$(printf '\r\033\\\\[K') '$TMP/tty.out'"
fi
expect 0 "40,000 members" rc member import "$TMP/big.csv"
check "... no progress line when standard error is no terminal" sh -c "! grep -q 'rows (' '$ERR'"
check "... all stored" test "$(rc --json member list --status pending | python3 -c 'import json,sys; print(sum(1 for m in json.load(sys.stdin) if m["username"].startswith("big")))')" = 40000

done_testing
