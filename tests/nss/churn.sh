#!/bin/bash
# Readers through 10,000 changes (issue 17): a store of CHURN_MEMBERS
# members (default 5,000: four shards) and one writer making CHURN_CHANGES
# role changes (default 10,000), each its own commit and publication, while
# two readers look users and groups up through the real glibc (a test
# nsswitch.conf, "files rollcall", bind-mounted in a private mount
# namespace) without pause.  Every answer is checked (tests/nss/churn.c):
# name -> uid and uid -> name as the store gave them, every member's groups
# (one role and rollcall-members), and rollcall-developer's members, which
# in any one publication are a contiguous run from one end of the member
# list: a torn view (shards of two publications), a stale group list or a
# lost member shows.  The writer also checks that each change is in the
# published snapshot when its call returns.
. "$(dirname "$0")/../lib.sh"
require_root "the real glibc NSS in a private mount namespace"
: "${NSS_MODULE:?}" "${top_builddir:?}"
CHURN=$top_builddir/tests/nss/churn
N=${CHURN_MEMBERS:-5000}
K=${CHURN_CHANGES:-10000}
D=$TMP/churn
mkdir -p "$D"
chmod 755 "$TMP"
printf 'root:x:0:0:root:/root:/bin/bash\n' > "$TMP/passwd"
printf 'root:x:0:\n' > "$TMP/group"
nssw() {
	env LD_PRELOAD="${RC_PRELOAD:+$RC_PRELOAD:}libnss_wrapper.so" NSS_WRAPPER_PASSWD="$TMP/passwd" \
	    NSS_WRAPPER_GROUP="$TMP/group" NSS_WRAPPER_MODULE_SO_PATH="$NSS_MODULE" \
	    NSS_WRAPPER_MODULE_FN_PREFIX=rollcall ROLLCALL_STATE_DIR="$D/state" "$@"
}
t0=$(date +%s)
expect 0 "a store of $N members (one batch)" "$CHURN" populate "$D" "$N"
check "... published in several shards" test "$(ls "$D/state/nss.d" | grep -c '^P')" -gt 1
check "... every member visible through glibc" test "$(nssw getent passwd | grep -c '^m[0-9]*:')" = "$N"

# the readers: the real glibc NSS, nsswitch.conf "files rollcall"; at a
# lower priority than the writer (two cores: the changes must go on)
printf 'passwd: files rollcall\ngroup: files rollcall\n' > "$TMP/nsswitch.conf"
rpids=
for r in 1 2; do
	unshare --mount --propagation private sh -c 'mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"' \
		ns "$TMP/nsswitch.conf" env LD_LIBRARY_PATH="$(dirname "$NSS_MODULE")" ROLLCALL_STATE_DIR="$D/state" \
		${RC_PRELOAD:+LD_PRELOAD=$RC_PRELOAD} nice -n 10 "$CHURN" read "$D" "$N" "$TMP/stop" > "$TMP/reader.$r" 2>&1 &
	rpids="$rpids $!"
done
trap 'kill -9 $rpids 2>/dev/null; rm -rf "$TMP"' EXIT
sleep 1
run "$CHURN" write "$D" "$N" "$K"
wst=$st
cp "$OUT" "$TMP/writer"
touch "$TMP/stop"
rst=0
for p in $rpids; do wait_bounded "$p" 60 || rst=1; done
echo "# writer: $(cat "$TMP/writer")"
echo "# reader 1: $(tail -1 "$TMP/reader.1")"
echo "# reader 2: $(tail -1 "$TMP/reader.2")"
echo "# $(($(date +%s) - t0)) s"
check "$K changes, each published before its call returned" test "$wst" = 0
grep -v '^[0-9]* changes' "$TMP/writer" | head -5 | sed 's/^/#   /'
check "the readers never saw a wrong answer" sh -c "grep -q ', 0 wrong' '$TMP/reader.1' && grep -q ', 0 wrong' '$TMP/reader.2' && test $rst = 0"
grep -h '^wrong' "$TMP"/reader.* | head -10 | sed 's/^/#   /'
check "the readers ran throughout" sh -c "test \$(sed -n 's/ lookups.*//p' '$TMP/reader.1') -gt 1000"
# at the end: what NSS shows is the store's last state
last=$(( (K - 1) / N % 2 == 0 ? K % N : N - K % N ))
[ $((K % N)) = 0 ] && last=$(( (K / N) % 2 == 1 ? N : 0 ))
expect 0 "getent group rollcall-developer after the changes" nssw getent group rollcall-developer
check "... has the members the last change left there ($last)" test "$(cut -d: -f4 "$OUT" | tr ',' '\n' | grep -c .)" = "$last"
# a group far bigger than glibc's first buffer, through the real glibc:
# ERANGE, then a bigger buffer (glibc reads the ERANGE from errno)
realns() {
	unshare --mount --propagation private sh -c 'mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"' \
		ns "$TMP/nsswitch.conf" env LD_LIBRARY_PATH="$(dirname "$NSS_MODULE")" ROLLCALL_STATE_DIR="$D/state" \
		${RC_PRELOAD:+LD_PRELOAD=$RC_PRELOAD} "$@"
}
expect 0 "real glibc: getent group rollcall-members" realns getent group rollcall-members
check "... has all $N members and the owner" test "$(cut -d: -f4 "$OUT" | tr ',' '\n' | grep -c .)" = "$((N + 1))"
gid=$(cut -d: -f3 "$OUT")
expect 0 "real glibc: the same by gid" realns getent group "$gid"
check "... the same $((N + 1)) members" test "$(cut -d: -f4 "$OUT" | tr ',' '\n' | grep -c .)" = "$((N + 1))"
expect_out 0 '^m0 rollcall-(developer|read-only) rollcall-members$' "real glibc: id -Gn m0 names its groups" realns id -Gn m0
# what the last publication replaced stays until the next one (a reader of
# the manifest before still finds its shards); everything older is gone:
# nss.d holds the 2 x 2^n files the manifest names and the one 'P' shard
# the last change replaced
nsh=$(ls "$D/state/nss.d" | cut -c1-4 | sort -u | grep -c '^P')
check "the shards replaced before the last publication are gone" test "$(ls "$D/state/nss.d" | wc -l)" = "$(( 2 * nsh + 1 ))"
done_testing
