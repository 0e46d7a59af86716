#!/bin/bash
# Capacity: the state directory on a small tmpfs (in a private mount
# namespace), filled up by invitations until the file system is full.
#   - the change that does not fit is refused with exit 4 and a message
#     saying the device is full, and changes nothing (mdb_dump before and
#     after, every database but the audit log);
#   - everything stored before is there and mdb_stat reads the store;
#   - once space is freed, changes go on and the NSS snapshot catches up.
# Map growth (map_size in rollcall.conf) is covered too: a store made with
# a 1M map takes 1,500 invitations, its map doubling as it fills, and the
# grown size is kept by the store.
if [ "$(id -u)" = 0 ] && [ -z "${RC_CAPACITY_NS:-}" ]; then
	exec unshare --mount --propagation private env RC_CAPACITY_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init and mount"
: "${NSS_MODULE:?}"

printf 'root:x:0:0:root:/root:/bin/bash\n' > "$TMP/passwd"
printf 'root:x:0:\n' > "$TMP/group"
nssw() {
	env LD_PRELOAD="${RC_PRELOAD:+$RC_PRELOAD:}libnss_wrapper.so" NSS_WRAPPER_PASSWD="$TMP/passwd" \
	    NSS_WRAPPER_GROUP="$TMP/group" NSS_WRAPPER_MODULE_SO_PATH="$NSS_MODULE" \
	    NSS_WRAPPER_MODULE_FN_PREFIX=rollcall ROLLCALL_STATE_DIR="$SD" "$@"
}

mkdir "$TMP/small"
mount -t tmpfs -o size=3M,mode=0755 rollcall-capacity "$TMP/small"
SD=$TMP/small/state
init_store
check "a store on a 3M tmpfs" test -s "$SD/store/data.mdb"

# leave about 160K free, then invite until it is full
free=$(df --output=avail -B1 "$TMP/small" | tail -1)
dd if=/dev/zero of="$TMP/small/filler" bs=4096 count=$(((free - 160 * 1024) / 4096)) status=none
n=0; full=0
while [ $n -lt 3000 ]; do
	dump_store > "$TMP/before"
	run rc member invite "m$((n + 1))@example.com" --role developer
	if [ "$st" != 0 ]; then full=1; break; fi
	n=$((n + 1))
done
echo "# $n invitations fitted"
cp "$ERR" "$TMP/full.err"
check "the file system fills up after some invitations ($n)" test "$full" = 1 -a "$n" -gt 0
check "the change that does not fit exits 4" test "$st" = 4
check "... saying the device or store is full" grep -Eq '^rollcall: .*(no space left|full)' "$TMP/full.err"
sed 's/^/#   /' "$TMP/full.err" | head -3
dump_store > "$TMP/after"
check "... and changes nothing" cmp -s "$TMP/before" "$TMP/after"
expect 4 "a second attempt is refused the same way" rc member invite late@example.com --role developer
expect 0 "the store still opens (status)" rc status
check "mdb_stat reads every database" sh -c "mdb_stat -a '$SD/store' >/dev/null"
check "mdb_dump reads every record" sh -c "mdb_dump -a '$SD/store' >/dev/null"
rc --json member list > "$TMP/members.json"
check "all $n members stored before are there" python3 -c "
import json, sys
names = {m['username'] for m in json.load(open('$TMP/members.json'))}
sys.exit(any('m%d' % i not in names for i in range(1, $n + 1)))"
expect_out 0 '^alice:' "NSS still answers" nssw getent passwd alice

rm "$TMP/small/filler"
expect 0 "after freeing space, changes go on" rc member invite after@example.com --role developer
expect_out 0 "^after:" "... and the NSS snapshot has caught up with them" nssw getent passwd after
check "... with every member of the store" test "$(nssw getent passwd | grep -vc '^root:')" = "$((n + 2))"
umount "$TMP/small"

# map growth: a store created with a 1M map
SD=$TMP/grow
printf 'map_size = 1M\n' > "$TMP/rollcall.conf"
init_store
run rc --json status
max0=$(json 'd["store_bytes_max"]')
check "a new store gets the configured map (1M)" test "$max0" = 1048576
ok_all=1
for i in $(seq 1 1500); do rc member invite "g$i@example.com" --role developer >/dev/null 2>"$ERR" || { ok_all=0; cat "$ERR"; break; }; done
check "1,500 invitations fit: the map grew as the store filled" test "$ok_all" = 1
run rc --json status
max1=$(json 'd["store_bytes_max"]'); used1=$(json 'd["store_bytes_used"]')
echo "# map ${max0} -> ${max1} bytes, ${used1} used"
check "the map doubled at least once and holds what is used" test "$max1" -ge 2097152 -a "$max1" -gt "$used1"
: > "$TMP/rollcall.conf"
run rc --json status
check "the store keeps its grown map when opened without map_size" test "$(json 'd["store_bytes_max"]')" = "$max1"
check "mdb_stat reads the grown store" sh -c "mdb_stat -a '$SD/store' >/dev/null"
done_testing
