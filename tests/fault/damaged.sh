#!/bin/bash
# Damaged or hostile files, as root on a private copy of the host
# (tests/e2e/host.sh: the compiled-in state directory and configuration,
# Debian's PAM stacks with the pam-auth-update profile, the NSS module in
# nsswitch.conf).  For each damage, on a fresh copy of a good state:
#   - the tool exits 4 and names the damaged path (store cases);
#   - pam_rollcall never returns success: pamtester against a service
#     of pam_rollcall.so alone fails, within 20 seconds;
#   - root still logs in through pam_unix (pamtester login, the real stack);
#   - the NSS module answers UNAVAIL where the snapshot or the state
#     directory is damaged (it never reads the store: with the store
#     damaged it keeps serving the last good snapshot, which holds no
#     secret), found by calling it directly;
#   - nothing crashes or hangs (every program under a timeout; a signal
#     death is a failure).
if [ -z "${RC_IN_NAMESPACE:-}" ] && [ "$(id -u)" = 0 ]; then
	export RC_IN_NAMESPACE=1
	exec unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
require_root "a private copy of the host (mount namespace)"
: "${PAM_MODULE:?}" "${NSS_MODULE:?}" "${top_srcdir:?}"
for prog in pamtester pam-auth-update mdb_load; do
	command -v "$prog" >/dev/null || { echo "1..1"; echo "not ok 1 - $prog is missing (scripts/deps.sh installs it)"; exit 1; }
done
. "$top_srcdir/tests/e2e/host.sh"
e2e_host
e2e_configure
e2e_pam_profile "$PAM_MODULE"
rc() { timeout 20 "$ROLLCALL" "$@"; }
SD=$E2E_SD
CONF=${RC_DEFAULT_CONFIG:-/etc/rollcall/rollcall.conf}
printf 'auth required %s nodelay\naccount required %s\n' "$PAM_MODULE" "$PAM_MODULE" > /etc/pam.d/rc-only

rc --json init --owner alice@example.com >"$OUT" 2>"$ERR" || e2e_fail "init: $(cat "$ERR")"
printf '%s\nalice password 1\n' "$(json 'd["code"]')" | rc member accept --password-stdin >/dev/null
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
cp -a "$SD" "$TMP/good"
cp -a "$CONF" "$TMP/good.conf"
useradd -M -N -u 4711 -s /usr/sbin/nologin other 2>/dev/null || echo 'other:x:4711:100::/:/usr/sbin/nologin' >> /etc/passwd

# nss_status USER: what the module itself answers for getpwnam (ctypes)
nss_status() {
	timeout 20 python3 - "$NSS_MODULE" "$1" <<'PY'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
buf = ctypes.create_string_buffer(4096)
pw = ctypes.create_string_buffer(64)
err = ctypes.c_int(0)
st = lib._nss_rollcall_getpwnam_r(sys.argv[2].encode(), pw, buf, ctypes.c_size_t(4096), ctypes.byref(err))
print({1: "SUCCESS", 0: "NOTFOUND", -1: "UNAVAIL", -2: "TRYAGAIN"}.get(st, st))
PY
}
pt() {   # pt SERVICE USER PASSWORD: pamtester authenticate, status in $st
	printf '%s\n' "$3" | timeout 20 pamtester "$1" "$2" authenticate >"$OUT" 2>"$ERR"
	st=$?
}

# record hex of DB KEY in the store, mdb_dump'ed; flip byte N of its value
poke() {
	local db=$1 key=$2 off=$3 xor=$4
	mdb_dump -s "$db" "$SD/store" > "$TMP/dump" || return 1
	python3 - "$TMP/dump" "$key" "$off" "$xor" <<'PY' || return 1
import sys
path, key, off, xor = sys.argv[1], sys.argv[2].encode().hex(), int(sys.argv[3]), int(sys.argv[4], 16)
lines = open(path).read().split("\n")
for i, l in enumerate(lines):
    if l.strip() == key and l.startswith(" "):
        v = bytearray(bytes.fromhex(lines[i + 1].strip()))
        v[off] ^= xor
        lines[i + 1] = " " + v.hex()
        break
else:
    sys.exit("no key")
open(path, "w").write("\n".join(lines))
PY
	mdb_load -s "$db" -f "$TMP/dump" "$SD/store" 2>/dev/null
}

# case NAME PATH NSS DAMAGE...: restore the good state, run DAMAGE, check.
# PATH: what the tool's message must name ("-": the tool is not checked);
# NSS: the module's answer for alice (UNAVAIL, or "any" when it may serve
# the last good snapshot).
case_() {
	local name=$1 path=$2 nss=$3; shift 3
	rm -rf "$SD"; cp -a "$TMP/good" "$SD"; rm -f "$CONF"; cp -a "$TMP/good.conf" "$CONF"
	if ! "$@"; then not_ok "$name: could not damage it"; return; fi
	# NSS first: any store open (the tool, PAM) republishes the snapshot
	local got
	got=$(nss_status alice); local nst=$?
	if [ "$nst" -lt 124 ] && { [ "$nss" = any ] || [ "$got" = "$nss" ]; }; then
		ok "$name: NSS answers $got"
	else
		not_ok "$name: NSS answers $nss (got '$got', exit $nst)"
	fi
	if [ "$path" != - ]; then
		# member list: opens the store and decodes every member
		run rc member list
		if [ "$st" = 4 ] && grep -qF -- "$path" "$ERR" && head -1 "$ERR" | grep -q '^rollcall: '; then
			ok "$name: the tool exits 4 naming $path"
		else
			not_ok "$name: the tool exits 4 naming $path (exit $st)"
		fi
		pt rc-only alice 'alice password 1'
		if [ "$st" != 0 ] && [ "$st" -lt 124 ] && ! grep -q 'successfully' "$OUT"; then
			ok "$name: pam_rollcall does not let alice in ($(tr -d '\n' < "$ERR" | sed 's/.*pamtester: //' | head -c 60))"
		else
			not_ok "$name: pam_rollcall does not let alice in (exit $st)"
		fi
	else
		# the snapshot only: PAM works from the store, and its open
		# publishes a good snapshot again
		pt rc-only alice 'alice password 1'
		check "$name: PAM (which reads the store) still lets alice in" test "$st" = 0
		check "$name: ... and its store open republished the snapshot" test "$(nss_status alice)" = SUCCESS
	fi
	pt login root "$LOCALPW"
	if [ "$st" = 0 ]; then ok "$name: root logs in through pam_unix"; else not_ok "$name: root logs in through pam_unix (exit $st)"; fi
}

# the good state first: alice logs in, NSS finds her
pt rc-only alice 'alice password 1'
check "the good state: alice logs in through pam_rollcall" test "$st" = 0
check "the good state: NSS finds alice" test "$(nss_status alice)" = SUCCESS

D=$SD/store/data.mdb
case_ "data.mdb truncated to two pages" "$D" any truncate -s 8192 "$D"
case_ "data.mdb truncated to half" "$D" any sh -c "truncate -s \$((\$(stat -c %s '$D') / 2)) '$D'"
case_ "data.mdb empty" "$SD/store" any truncate -s 0 "$D"
case_ "data.mdb with both meta pages bit-flipped" "$SD/store" any python3 -c "
f = open('$D', 'r+b')
for off in (16, 4096 + 16):
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x10]))"
case_ "a member record bit-flipped (codec version)" "$SD" any poke members alice 2 04
case_ "a member record bit-flipped (a length)" "$SD" any poke members alice 9 80
case_ "the wrong schema version" "$SD" any poke settings @schema 0 62
case_ "data.mdb replaced by a FIFO" "$SD/store" any sh -c "rm '$D' && mkfifo -m 600 '$D'"
case_ "master.key missing" "$SD/master.key" any rm "$SD/master.key"
case_ "master.key of 31 bytes" "$SD/master.key" any truncate -s 31 "$SD/master.key"
case_ "master.key of 33 bytes" "$SD/master.key" any truncate -s 33 "$SD/master.key"
case_ "master.key a symlink" "$SD/master.key" any sh -c "mv '$SD/master.key' '$TMP/key' && ln -s '$TMP/key' '$SD/master.key'"
case_ "master.key readable by others" "$SD/master.key" any chmod 644 "$SD/master.key"
case_ "master.key owned by another user" "$SD/master.key" any chown 4711 "$SD/master.key"
case_ "master.key a FIFO" "$SD/master.key" any sh -c "rm '$SD/master.key' && mkfifo -m 600 '$SD/master.key'"
case_ "the configuration a symlink" "$CONF" any sh -c "mv '$CONF' '$TMP/conf' && ln -s '$TMP/conf' '$CONF'"
case_ "the configuration group-writable" "$CONF" any chmod 664 "$CONF"
case_ "the configuration owned by another user" "$CONF" any chown 4711 "$CONF"
case_ "the configuration a FIFO" "$CONF" any sh -c "rm '$CONF' && mkfifo -m 644 '$CONF'"
case_ "the state directory a symlink" "$SD" UNAVAIL sh -c "mv '$SD' '$TMP/moved' && ln -s '$TMP/moved' '$SD'"
case_ "the state directory writable by others" "$SD" UNAVAIL chmod 777 "$SD"
case_ "the state directory owned by another user" "$SD" UNAVAIL chown 4711 "$SD"
case_ "the store directory a symlink" "$SD/store" any sh -c "mv '$SD/store' '$TMP/store' && ln -s '$TMP/store' '$SD/store'"
N=$SD/nss.snap
case_ "nss.snap truncated" - UNAVAIL truncate -s 60 "$N"
case_ "nss.snap garbage" - UNAVAIL sh -c "head -c 65536 /dev/urandom > '$N'"
case_ "nss.snap a FIFO" - UNAVAIL sh -c "rm '$N' && mkfifo -m 644 '$N'"
case_ "nss.snap a symlink" - UNAVAIL sh -c "mv '$N' '$TMP/nss' && ln -s '$TMP/nss' '$N'"
case_ "nss.snap writable by others" - UNAVAIL chmod 666 "$N"
case_ "nss.snap owned by another user" - UNAVAIL chown 4711 "$N"
# the shards (one, on a store this small): the one that holds alice
S=$SD/nss.d/$(basename "$TMP"/good/nss.d/P000.*)
case_ "a shard missing" - UNAVAIL sh -c "rm $S"
case_ "a shard truncated" - UNAVAIL sh -c "truncate -s 40 $S"
case_ "a shard garbage" - UNAVAIL sh -c "head -c 4096 /dev/urandom > $S"
case_ "a shard writable by others" - UNAVAIL sh -c "chmod 666 $S"
case_ "nss.d writable by others" - UNAVAIL chmod 777 "$SD/nss.d"
case_ "nss.d a symlink" - UNAVAIL sh -c "mv '$SD/nss.d' '$TMP/nssd' && ln -s '$TMP/nssd' '$SD/nss.d'"
done_testing
