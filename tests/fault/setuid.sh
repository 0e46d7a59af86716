#!/bin/bash
# The setuid tool against a hostile caller, as root on a private copy of
# the host (tests/e2e/host.sh; the compiled-in state directory): a setuid
# copy of the tool run as member bob (developer) with setpriv.
#   - started with argc == 0: a usage error, nothing changed;
#   - with stdin, stdout and stderr closed: it works, and no store file
#     takes descriptor 0, 1 or 2 (the store and snapshot are intact);
#   - with LD_PRELOAD, GCONV_PATH, PATH, IFS, ROLLCALL_STATE_DIR and
#     ROLLCALL_CONFIG set by the caller: the preloaded library never runs
#     as root, the state directory and configuration are the compiled-in
#     ones, and the mail command (run with the caller's uid, not root's)
#     sees a clean environment;
#   - --state-dir and --config are refused with a message (exit 3);
#   - control characters in user names and full names are refused.
if [ -z "${RC_IN_NAMESPACE:-}" ] && [ "$(id -u)" = 0 ]; then
	export RC_IN_NAMESPACE=1
	exec unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
require_root "a private copy of the host (mount namespace) and a setuid tool"
: "${top_srcdir:?}"
command -v cc >/dev/null || { echo "1..1"; echo "not ok 1 - a C compiler is needed (build-essential)"; exit 1; }
. "$top_srcdir/tests/e2e/host.sh"
e2e_host
e2e_configure
SD=$E2E_SD
CONF=${RC_DEFAULT_CONFIG:-/etc/rollcall/rollcall.conf}
rc() { "$ROLLCALL" "$@"; }
mkdir -m 755 "$TMP/bin"
chmod 755 "$TMP"
cp "$ROLLCALL" "$TMP/bin/rollcall" && chmod 4755 "$TMP/bin/rollcall"

# the mail command records who ran it and with what environment
cat > "$TMP/bin/mail.sh" <<EOF2
#!/bin/sh
{ echo "uid=\$(id -ru) euid=\$(id -u)"; env; } > "$TMP/mailbox/mail.env"
cat > /dev/null
EOF2
chmod 755 "$TMP/bin/mail.sh"
mkdir -m 1777 "$TMP/mailbox"

# a library that, if ever loaded into the tool as root, leaves a mark
cat > "$TMP/evil.c" <<EOF2
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void)
{
	if (geteuid() == 0)
		close(open("$TMP/pwned", O_WRONLY | O_CREAT, 0644));
}
EOF2
cc -shared -fPIC -o "$TMP/evil.so" "$TMP/evil.c" || e2e_fail "cannot build the test library"
chmod 755 "$TMP/evil.so"
cat > "$TMP/argc0.c" <<'EOF2'
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char *none[] = { NULL };
	(void)argc;
	execve(argv[1], none, none);
	perror("execve");
	return 127;
}
EOF2
cc -o "$TMP/bin/argc0" "$TMP/argc0.c" || e2e_fail "cannot build argc0"

rc --json init --owner alice@example.com >"$OUT" 2>"$ERR" || e2e_fail "init: $(cat "$ERR")"
printf '%s\nalice password 1\n' "$(json 'd["code"]')" | rc member accept --password-stdin >/dev/null 2>&1
invite_accept() {
	local code
	code=$(rc --json member invite "$1@example.com" --role "$2" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])') || return 1
	printf '%s\n%s\n' "$code" "$1 password 12345" | rc member accept --password-stdin >/dev/null
}
invite_accept bob developer
# from here on invitations are mailed (by the mail command, as the caller)
printf 'mail_command = %s\n' "$TMP/bin/mail.sh" >> "$CONF"
BOB=$(rc --json member show bob | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
as_bob() { setpriv --reuid="$BOB" --regid="$BOB" --clear-groups "$@"; }
dump_all() { dump_store; od -c "$SD/nss.snap" 2>&1; }
rm -f "$TMP/mailbox/mail.env"

# argc == 0 (the kernel may give an empty argv[0]: a usage error either way)
dump_all > "$TMP/before"
run as_bob "$TMP/bin/argc0" "$TMP/bin/rollcall"
check "argc == 0: a usage error (exit 2)" test "$st" = 2
check "... with a message" grep -q '^rollcall: ' "$ERR"
dump_all > "$TMP/after"
check "... and nothing changed" cmp -s "$TMP/before" "$TMP/after"

# closed descriptors
as_bob "$TMP/bin/rollcall" member invite closed@example.com --role read-only <&- >&- 2>&-
st=$?
check "stdin, stdout and stderr closed: an invitation still works (exit $st)" test "$st" = 0
expect_out 0 'closed' "... and is stored" rc member list
check "... the store is intact (mdb_stat)" sh -c "mdb_stat -a '$SD/store' >/dev/null"
check "... and so is the snapshot" sh -c "test -s '$SD/nss.snap' && getent passwd closed >/dev/null"
as_bob "$TMP/bin/rollcall" member invite closed@example.com --role read-only <&- >&- 2>&-
check "... a refusal with stderr closed still exits 1" test "$?" = 1
check "... and the store is still intact" sh -c "mdb_stat -a '$SD/store' >/dev/null"

# hostile environment
mkdir -p "$TMP/evilstate" "$TMP/gconv"
printf 'module INTERNAL EVIL// evil 1\n' > "$TMP/gconv/gconv-modules"
run as_bob env LD_PRELOAD="$TMP/evil.so" LD_LIBRARY_PATH="$TMP" GCONV_PATH="$TMP/gconv" \
	PATH="$TMP/evilbin" IFS=x ROLLCALL_STATE_DIR="$TMP/evilstate" ROLLCALL_CONFIG="$TMP/evil.conf" \
	MALLOC_CHECK_=3 LANG=xx_XX.EVIL "$TMP/bin/rollcall" member invite envtest@example.com --role read-only
check "hostile environment: the invitation works (exit $st)" test "$st" = 0
check "... LD_PRELOAD never ran as root" test ! -e "$TMP/pwned"
expect_out 0 'envtest' "... in the compiled-in state directory, not ROLLCALL_STATE_DIR's" rc member list
check "... which stayed empty" test -z "$(ls "$TMP/evilstate")"
check "the mail command ran" test -s "$TMP/mailbox/mail.env"
check "... with bob's uid, not root's" grep -q "^uid=$BOB euid=$BOB$" "$TMP/mailbox/mail.env"
check "... and a clean environment: PATH reset" grep -qx 'PATH=/usr/sbin:/usr/bin:/sbin:/bin' "$TMP/mailbox/mail.env"
for v in LD_PRELOAD LD_LIBRARY_PATH GCONV_PATH IFS ROLLCALL_STATE_DIR ROLLCALL_CONFIG MALLOC_CHECK_ LANG; do
	check "... without $v" sh -c "! grep -q '^$v=' '$TMP/mail.env'"
done
# the same library preloaded into a non-setuid program does run (the test can fail)
env LD_PRELOAD="$TMP/evil.so" true
check "(the test library does leave its mark when it is loaded as root)" test -e "$TMP/pwned"
rm -f "$TMP/pwned"

# overrides
expect_err 3 '--state-dir is refused' "--state-dir from an unprivileged caller is refused" \
	as_bob "$TMP/bin/rollcall" --state-dir "$TMP/evilstate" member list
expect_err 3 '--config is refused' "--config from an unprivileged caller is refused" \
	as_bob "$TMP/bin/rollcall" --config "$TMP/evil.conf" member list

# control characters
dump_all > "$TMP/before"
expect_err 1 'full name.*control character' "an escape sequence in a full name is refused" \
	as_bob "$TMP/bin/rollcall" member invite esc@example.com --role read-only --name "$(printf 'Evil\033[31m')"
expect_err 1 'full name.*control character' "a newline in a full name is refused" \
	as_bob "$TMP/bin/rollcall" member invite nl@example.com --role read-only --name "$(printf 'a\nb')"
expect_err 1 'user name' "a newline in a user name is refused" \
	as_bob "$TMP/bin/rollcall" member invite nl2@example.com --role read-only --username "$(printf 'a\nb')"
expect_err 1 'user name' "a tab in a user name is refused" \
	as_bob "$TMP/bin/rollcall" member invite tab@example.com --role read-only --username "$(printf 'a\tb')"
expect_err 1 'mail' "a control character in an email is refused" \
	as_bob "$TMP/bin/rollcall" member invite "$(printf 'x\001@example.com')" --role read-only
dump_all > "$TMP/after"
check "... and nothing changed" cmp -s "$TMP/before" "$TMP/after"
done_testing
