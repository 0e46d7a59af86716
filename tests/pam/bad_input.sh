#!/bin/bash
# Bad input to the PAM and NSS modules (the tool's is tests/tool/
# bad_input.sh): user names with ":", a newline, a tab, "/", control
# characters, 512 and 600 bytes, empty; passwords of 0, 1024, 1025 bytes
# and 100 MiB; TOTP codes with letters, 5 and 7 digits, spaces, signs;
# tokens cut short, too long, with a wrong checksum or an upper-case
# prefix; NSS lookups of the same names, of overlong group names and of
# ids no one has.  Each gives its documented answer, and nothing stored
# changes: every database but the audit log is compared (mdb_dump) before
# and after, and a failed password only counts toward alice's lockout
# (its failure counter, the store's generation and the audit log move on;
# for a user rollcall does not know, the count of such attempts).
# (A NUL cannot be part of a name or password here: PAM's and NSS's
# interfaces take C strings, where it ends the string; the fuzz targets
# feed NULs to both.)
. "$(dirname "$0")/../lib.sh"
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}" "${NSS_MODULE:?}"
require_root "rollcall init"

pam_service rollcall-test
PD_TIMEOUT=60

init_store
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
rc settings set lockout.attempts 1000 >/dev/null
PW='alice password 1'
invite_accept carol developer
# carol gets TOTP through the tool's library path: enrollment at login
pam_service rc-mfa totp=required
pd -s rc-mfa -a 'carol password 12345' -a @enroll carol auth=SUCCESS >/dev/null 2>&1 ||
	{ echo "1..1"; echo "not ok 1 - set-up: carol's TOTP"; exit 1; }
pd -s rollcall-test -a "$PW" alice auth=SUCCESS open=SUCCESS >/dev/null 2>&1
# a real token for alice, to damage
pam_service rc-session session_token
pd -s rc-session -a "$PW" alice auth=SUCCESS open=SUCCESS env=SUCCESS > "$OUT" 2>&1
TOKEN=$(sed -n 's/^env: ROLLCALL_TOKEN=//p' "$OUT")
check "set-up: a session token for alice" test -n "$TOKEN"

# the store without the audit log and the members' failure counters
state() {
	# (and the store's generation, which every commit moves on, and the
	# count of attempts for users rollcall does not know, which an unknown
	# user's login moves on as a known one's moves its failure counter)
	dump_store | awk '/^== / { skip = ($2 == "members") }
		$1 == "4067656e65726174696f6e" || $1 == "40756e6b6e6f776e5f6c6f67696e73" { drop = 2 }
		!skip && !(drop && drop--)' > "$TMP/state.db"
	rc --json member list | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    print(m["username"], m["role"], m["status"], m["auth_method"])'
}
# pcase DESC EXPECT USER ANSWER-ARGS...: auth gives EXPECT, nothing changes
pcase() {
	local desc=$1 want=$2 user=$3; shift 3
	state > "$TMP/before"; cp "$TMP/state.db" "$TMP/before.db"
	run pd "$@" "$user" "auth=$want"
	state > "$TMP/after"
	if [ "$st" = 0 ] && cmp -s "$TMP/before" "$TMP/after" && cmp -s "$TMP/before.db" "$TMP/state.db"; then
		ok "PAM: $desc: $want, nothing stored changed"
	else
		not_ok "PAM: $desc: $want, nothing stored changed (exit $st)"
		diff "$TMP/before" "$TMP/after" | head -5 | sed 's/^/#   /'
		diff "$TMP/before.db" "$TMP/state.db" | head -8 | sed 's/^/#   /'
	fi
}
long() { head -c "$1" /dev/zero | tr '\0' "${2:-a}"; }

pcase "user name with a colon" USER_UNKNOWN 'ali:ce' -a "$PW"
pcase "user name with a newline" USER_UNKNOWN "$(printf 'ali\nce')" -a "$PW"
pcase "user name with a tab" USER_UNKNOWN "$(printf 'ali\tce')" -a "$PW"
pcase "user name with a slash" USER_UNKNOWN 'ali/ce' -a "$PW"
pcase "user name with an escape" USER_UNKNOWN "$(printf 'alice\033[0m')" -a "$PW"
pcase "user name with a DEL" USER_UNKNOWN "$(printf 'alice\177')" -a "$PW"
pcase "user name with a space" USER_UNKNOWN 'alice ' -a "$PW"
pcase "user name of 512 bytes" USER_UNKNOWN "$(long 512)" -a "$PW"
pcase "user name of 600 bytes" USER_UNKNOWN "$(long 600)" -a "$PW"
pcase "user name of 33 bytes" USER_UNKNOWN "$(long 33)" -a "$PW"
pcase "user name in upper case" USER_UNKNOWN 'ALICE' -a "$PW"
pcase "user name with UTF-8" USER_UNKNOWN "$(printf 'al\xc3\xafce')" -a "$PW"
pcase "user name with invalid UTF-8" USER_UNKNOWN "$(printf 'al\xffce')" -a "$PW"
pcase "user name that is a password" USER_UNKNOWN "$PW" -a "$PW"
pcase "user name root" USER_UNKNOWN root -a "$PW"
pcase "empty password" AUTH_ERR alice -a ''
pcase "password of 1024 bytes" AUTH_ERR alice -a "$(long 1024 x)"
pcase "password of 1025 bytes" AUTH_ERR alice -a "$(long 1025 x)"
head -c $((100 * 1024 * 1024)) /dev/zero | tr '\0' x > "$TMP/huge"
pcase "password of 100 MiB" AUTH_ERR alice -A "$TMP/huge"
rm -f "$TMP/huge"
pcase "password with control characters" AUTH_ERR alice -a "$(printf 'alice\001\002password 1')"
pcase "password with a newline" AUTH_ERR alice -a "$(printf 'alice password 1\n')x"
pcase "the password of another member" AUTH_ERR alice -a 'carol password 12345'
pcase "an invitation code for an active member" AUTH_ERR alice -a 'AAAAA-AAAAA-AAAAA-AAAAA'
CPW='carol password 12345'
pcase "TOTP code with letters" AUTH_ERR carol -a "$CPW" -a 12a456
pcase "TOTP code of 7 digits" AUTH_ERR carol -a "$CPW" -a 1234567
pcase "TOTP code of 5 digits" AUTH_ERR carol -a "$CPW" -a 12345
pcase "TOTP code with spaces" AUTH_ERR carol -a "$CPW" -a '123 456'
pcase "TOTP code with a sign" AUTH_ERR carol -a "$CPW" -a '-12345'
pcase "TOTP code empty" AUTH_ERR carol -a "$CPW" -a ''
pcase "TOTP code of 1024 bytes" AUTH_ERR carol -a "$CPW" -a "$(long 1024 1)"
pcase "recovery code with a wrong character" AUTH_ERR carol -a "$CPW" -a 'ABCDE-FGHI!'
pcase "no answer to the TOTP prompt" AUTH_ERR carol -a "$CPW" -a @fail
pcase "token cut short" AUTH_ERR alice -a "${TOKEN%?????}"
pcase "token with a character more" AUTH_ERR alice -a "${TOKEN}a"
pcase "token with a wrong checksum" AUTH_ERR alice -a "${TOKEN%?}$( [ "${TOKEN: -1}" = a ] && echo b || echo a)"
pcase "token with an upper-case prefix" AUTH_ERR alice -a "RCT_${TOKEN#rct_}"
pcase "token in upper case" AUTH_ERR alice -a "$(echo "$TOKEN" | tr a-z A-Z)"
pcase "alice's token for carol" AUTH_ERR carol -a "$TOKEN" -a 000000

# NSS, called directly: status and errno for each lookup
nss() {
	ROLLCALL_STATE_DIR=$SD python3 - "$NSS_MODULE" "$@" <<'PY'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
kind, arg = sys.argv[2], sys.argv[3].encode("utf-8", "surrogateescape")
buf = ctypes.create_string_buffer(65536)
ent = ctypes.create_string_buffer(128)
err = ctypes.c_int(0)
if kind == "pwnam":
    st = lib._nss_rollcall_getpwnam_r(arg, ent, buf, ctypes.c_size_t(65536), ctypes.byref(err))
elif kind == "grnam":
    st = lib._nss_rollcall_getgrnam_r(arg, ent, buf, ctypes.c_size_t(65536), ctypes.byref(err))
elif kind == "pwuid":
    st = lib._nss_rollcall_getpwuid_r(ctypes.c_uint(int(arg)), ent, buf, ctypes.c_size_t(65536), ctypes.byref(err))
elif kind == "grgid":
    st = lib._nss_rollcall_getgrgid_r(ctypes.c_uint(int(arg)), ent, buf, ctypes.c_size_t(65536), ctypes.byref(err))
else:
    start, size = ctypes.c_long(0), ctypes.c_long(0)
    groups = ctypes.c_void_p(0)
    st = lib._nss_rollcall_initgroups_dyn(arg, ctypes.c_uint(100), ctypes.byref(start), ctypes.byref(size), ctypes.byref(groups), ctypes.c_long(0), ctypes.byref(err))
print({1: "SUCCESS", 0: "NOTFOUND", -1: "UNAVAIL", -2: "TRYAGAIN"}.get(st, st))
PY
}
ncase() {
	local desc=$1 want=$2; shift 2
	local got
	dump_store > "$TMP/nb"; cp "$SD/nss.snap" "$TMP/nss.before"
	got=$(nss "$@")
	dump_store > "$TMP/na"
	if [ "$got" = "$want" ] && cmp -s "$TMP/nb" "$TMP/na" && cmp -s "$SD/nss.snap" "$TMP/nss.before"; then
		ok "NSS: $desc: $want"
	else
		not_ok "NSS: $desc: $want (got $got)"
	fi
}
ncase "a name with a colon" NOTFOUND pwnam 'ali:ce'
ncase "a name with a newline" NOTFOUND pwnam "$(printf 'ali\nce')"
ncase "a name with a slash" NOTFOUND pwnam 'ali/ce'
ncase "a name with a space" NOTFOUND pwnam 'alice '
ncase "a name with an escape" NOTFOUND pwnam "$(printf 'alice\033')"
ncase "a name of 512 bytes" NOTFOUND pwnam "$(long 512)"
ncase "a name of 600 bytes" NOTFOUND pwnam "$(long 600)"
ncase "an empty name" NOTFOUND pwnam ''
ncase "a name in upper case" NOTFOUND pwnam 'ALICE'
ncase "invalid UTF-8" NOTFOUND pwnam "$(printf 'al\xffce')"
ncase "a group name with a colon" NOTFOUND grnam 'rollcall:members'
ncase "a group name of 600 bytes" NOTFOUND grnam "$(long 600)"
ncase "initgroups for a name with a newline" NOTFOUND initgroups "$(printf 'ali\nce')"
ncase "initgroups for 600 bytes" NOTFOUND initgroups "$(long 600)"
ncase "uid 0" NOTFOUND pwuid 0
ncase "uid 4294967295 (-1)" NOTFOUND pwuid 4294967295
ncase "uid one below the range" NOTFOUND pwuid 199999
ncase "gid 4294967295 (-1)" NOTFOUND grgid 4294967295
ncase "the good name still answers" SUCCESS pwnam alice
done_testing
