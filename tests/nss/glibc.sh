#!/bin/bash
# libnss_rollcall.so.2 through glibc: getent, id and initgroups with
# nss_wrapper (any user), then the real glibc NSS in a private mount
# namespace with a test /etc/nsswitch.conf bind-mounted (root only).  Also:
# the exported symbols, and that the snapshot holds no secret.
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init"
: "${NSS_MODULE:?NSS_MODULE must name the built libnss_rollcall.so.2}"

# Exactly the NSS entry points are exported.
want="_nss_rollcall_endgrent _nss_rollcall_endpwent _nss_rollcall_getgrent_r _nss_rollcall_getgrgid_r _nss_rollcall_getgrnam_r _nss_rollcall_getpwent_r _nss_rollcall_getpwnam_r _nss_rollcall_getpwuid_r _nss_rollcall_initgroups_dyn _nss_rollcall_setgrent _nss_rollcall_setpwent"
got=$(nm -D --defined-only "$NSS_MODULE" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sort | tr '\n' ' ' | sed 's/ $//')
check "the module exports only _nss_rollcall_* entry points" test "$got" = "$want"

init_store
CODE=$(rc --json member invite bob@example.com --role developer --name "Bob Builder" | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
rc service create db1 >/dev/null
printf 'abcdefghijklmnopqrstuvwxyz\n' | rc service-user create db1 reader_one --read-only --password-stdin >/dev/null
rc billing set contact_email billing@example.com >/dev/null

SNAP=$SD/nss.snap
check "the snapshot is published, mode 0644" test "$(stat -c %a "$SNAP")" = 644
check "... and so are its shards, in nss.d (0755)" sh -c "test \"\$(stat -c %a '$SD/nss.d')\" = 755 && test \"\$(stat -c %a '$SD'/nss.d/* | sort -u)\" = 644"
cat "$SNAP" "$SD"/nss.d/* | tr -c '[:print:]' '\n' > "$TMP/snapdump"
check "the snapshot holds no password hash" sh -c "! grep -q argon2 '$TMP/snapdump'"
check "the snapshot holds no email address" sh -c "! grep -q 'example.com' '$TMP/snapdump'"
check "the snapshot holds no invitation code" sh -c "! grep -q -e '$CODE' -e '$(echo "$CODE" | tr -d -)' '$TMP/snapdump'"
check "the snapshot holds no service password" sh -c "! grep -q abcdefghijklmnop '$TMP/snapdump'"
check "the snapshot has the users" grep -q 'reader_one' "$TMP/snapdump"

# Through glibc with nss_wrapper.
expect_out 0 '^bob:\*:[0-9]+:[0-9]+:Bob Builder:/home/bob:/bin/bash$' "getent passwd bob" nssw getent passwd bob
BOB_UID=$(cut -d: -f3 "$OUT")
expect_out 0 "^bob:\\*:$BOB_UID:" "getent passwd by uid" nssw getent passwd "$BOB_UID"
expect_out 0 '^reader_one:\*:[0-9]+:[0-9]+:service user of db1:/home/reader_one:/usr/sbin/nologin$' \
	"a service user has the no-login shell" nssw getent passwd reader_one
# a new home_base or shell in rollcall.conf reaches NSS at the store's next
# open, though nothing in the store changed (logins no longer republish)
printf 'home_base = /srv/homes\nshell = /bin/sh\n' > "$TMP/rollcall.conf"
rc status >/dev/null
expect_out 0 '^bob:\*:[0-9]+:[0-9]+:Bob Builder:/srv/homes/bob:/bin/sh$' \
	"a changed home_base and shell are published at the next open of the store" nssw getent passwd bob
: > "$TMP/rollcall.conf"
rc status >/dev/null
expect_out 0 '^bob:\*:[0-9]+:[0-9]+:Bob Builder:/home/bob:/bin/bash$' "... and back" nssw getent passwd bob
expect_out 0 '^rollcall-developer:\*:[0-9]+:bob$' "getent group rollcall-developer" nssw getent group rollcall-developer
expect_out 0 '^rollcall-members:\*:[0-9]+:(alice,bob|bob,alice)$' "getent group rollcall-members" nssw getent group rollcall-members
expect_out 0 '^svc-db1-readonly:\*:[0-9]+:reader_one$' "getent group svc-db1-readonly" nssw getent group svc-db1-readonly
expect_out 0 '^svc-db1:\*:[0-9]+:(db1_admin,reader_one|reader_one,db1_admin)$' "getent group svc-db1" nssw getent group svc-db1
expect_out 0 "uid=$BOB_UID\\(bob\\) gid=$BOB_UID\\(bob\\) groups=$BOB_UID\\(bob\\),[0-9]+\\(rollcall-developer\\),[0-9]+\\(rollcall-members\\)" \
	"id bob shows the role group" nssw id bob
expect_out 0 '^bob +[0-9]+ [0-9]+$' "getent initgroups bob" nssw getent initgroups bob
expect 0 "getent passwd enumerates" nssw getent passwd
check "... every user, after the files source" test "$(head -1 "$OUT" | cut -d: -f1) $(tail -n +2 "$OUT" | cut -d: -f1 | sort | tr '\n' ' ')" = "root alice bob db1_admin reader_one "
expect 0 "getent group enumerates" nssw getent group
check "... every group" test "$(wc -l < "$OUT")" = 14
expect 2 "an unknown user is not found" nssw getent passwd nosuch
expect 2 "an invalid name is not found" nssw getent passwd 'a:b'
rc member invite carol@example.com --role read-only >/dev/null
expect_out 0 '^carol:' "a new member is visible at once to a new process" nssw getent passwd carol
rc member withdraw carol >/dev/null
expect 2 "a withdrawn one is gone" nssw getent passwd carol
rc member deactivate bob >/dev/null 2>&1 || true
expect_out 0 '^bob:' "pending and inactive members stay visible" nssw getent passwd bob

# The real glibc NSS: nsswitch.conf "passwd: files rollcall" in a private
# mount namespace; the module found through LD_LIBRARY_PATH.
if [ -z "${RC_IN_NAMESPACE:-}" ]; then
	printf 'passwd: files rollcall\ngroup: files rollcall\nshadow: files\n' > "$TMP/nsswitch.conf"
	cat > "$TMP/ns.sh" <<NS
set -e
mount --bind "$TMP/nsswitch.conf" /etc/nsswitch.conf
export LD_LIBRARY_PATH="$(dirname "$NSS_MODULE")" ROLLCALL_STATE_DIR="$SD"
${RC_PRELOAD:+export LD_PRELOAD=$RC_PRELOAD}
echo "== alice"; getent passwd alice
echo "== id"; id alice
echo "== root"; getent passwd root
echo "== group"; getent group rollcall-owner
mv "$SD/nss.snap" "$SD/nss.snap.away"
echo "== root-without-snapshot"; getent passwd root
echo "== alice-without-snapshot"; getent passwd alice || echo "exit \$?"
mv "$SD/nss.snap.away" "$SD/nss.snap"
NS
	run unshare --mount --propagation private sh "$TMP/ns.sh"
	cp "$OUT" "$TMP/ns.out"
	sect() { sed -n "/^== $1\$/,/^==/p" "$TMP/ns.out" | grep -v '^=='; }
	check "real glibc: getent passwd alice" sh -c "sect() { sed -n \"/^== \$1\\\$/,/^==/p\" '$TMP/ns.out' | grep -v '^=='; }; sect alice | grep -q '^alice:[*]:'"
	check "real glibc: id alice shows rollcall-owner" sh -c "grep -A1 '^== id' '$TMP/ns.out' | grep -q '(rollcall-owner)'"
	check "real glibc: root still comes from files" sh -c "grep -A1 '^== root$' '$TMP/ns.out' | grep -q '^root:x:0:0:'"
	check "real glibc: getent group rollcall-owner" sh -c "grep -A1 '^== group' '$TMP/ns.out' | grep -q '^rollcall-owner:[*]:[0-9]*:alice'"
	check "real glibc: root logs in without the snapshot" sh -c "grep -A1 '^== root-without-snapshot' '$TMP/ns.out' | grep -q '^root:x:0:0:'"
	check "real glibc: a rollcall user is simply not found without it" sh -c "grep -A1 '^== alice-without-snapshot' '$TMP/ns.out' | grep -q '^exit 2'"
fi

done_testing
