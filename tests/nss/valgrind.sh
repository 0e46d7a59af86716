#!/bin/bash
# libnss_rollcall.so.2 under valgrind (memcheck): the whole NSS unit test
# (tests/nss/test_nss: lookups, ERANGE at every size, damaged snapshots,
# 16 threads during republishes, fork) and getent through glibc with
# nss_wrapper (by name, by id, enumeration, initgroups, unknown and invalid
# names, a damaged snapshot): no memory error and no leak, definite or
# indirect.
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init"
: "${NSS_MODULE:?}" "${top_builddir:?}"
if ! command -v valgrind >/dev/null; then
	if [ -n "${CI:-}" ]; then echo "1..1"; echo "not ok 1 - valgrind is missing (scripts/deps.sh installs it)"; exit 1; fi
	echo "1..0 # SKIP valgrind is not installed"; exit 0
fi
[ -n "${RC_PRELOAD:-}" ] && { echo "1..0 # SKIP a sanitizer build: valgrind runs in the plain one"; exit 0; }

VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --num-callers=30
	--suppressions=$top_srcdir/tests/valgrind.supp"
n=0
PRE=(env)
vg_check() {   # vg_check DESC WANT_STATUS CMD...: CMD under valgrind
	local desc=$1 want=$2; shift 2
	n=$((n + 1))
	# shellcheck disable=SC2086
	"${PRE[@]}" $VG --log-file="$TMP/vg.$n.%p" "$@" >"$OUT" 2>"$ERR"
	st=$?
	if [ "$st" = "$want" ] && ! [ -s "$(ls "$TMP"/vg.$n.* 2>/dev/null | head -1)" ]; then
		ok "valgrind: $desc"
	else
		not_ok "valgrind: $desc (exit $st, wanted $want)"
		cat "$TMP"/vg.$n.* 2>/dev/null | head -60 | sed 's/^/#   /'
	fi
}

vg_check "test_nss, every case" 0 env CMOCKA_MESSAGE_OUTPUT=stdout "$top_builddir/tests/nss/test_nss"

init_store
rc member invite bob@example.com --role developer --name "Bob Builder" >/dev/null
rc service create db1 >/dev/null
printf 'abcdefghijklmnopqrstuvwxyz\n' | rc service-user create db1 reader_one --read-only --password-stdin >/dev/null
printf 'root:x:0:0:root:/root:/bin/bash\n' > "$TMP/passwd"
printf 'root:x:0:\n' > "$TMP/group"
# from here on every program runs with nss_wrapper routing to the module
PRE=(env LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$TMP/passwd" NSS_WRAPPER_GROUP="$TMP/group"
	NSS_WRAPPER_MODULE_SO_PATH="$NSS_MODULE" NSS_WRAPPER_MODULE_FN_PREFIX=rollcall
	ROLLCALL_STATE_DIR="$SD")
BOB_UID=$(rc --json member show bob | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
vg_check "getent passwd bob" 0 getent passwd bob
vg_check "getent passwd UID" 0 getent passwd "$BOB_UID"
vg_check "getent group rollcall-members" 0 getent group rollcall-members
vg_check "getent group svc-db1" 0 getent group svc-db1
vg_check "getent initgroups bob" 0 getent initgroups bob
vg_check "getent passwd (enumeration)" 0 getent passwd
vg_check "getent group (enumeration)" 0 getent group
vg_check "id bob" 0 id bob
vg_check "an unknown user" 2 getent passwd nosuch
vg_check "an invalid name" 2 getent passwd 'a:b'
head -c 5000 /dev/urandom > "$TMP/garbage"
cp "$SD/nss.snap" "$TMP/nss.snap.good"
cp "$TMP/garbage" "$SD/nss.snap"
vg_check "a garbage snapshot: UNAVAIL, files still answer" 0 getent passwd root
cp "$TMP/nss.snap.good" "$SD/nss.snap"
done_testing
