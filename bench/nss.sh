#!/bin/bash
# NSS lookups through glibc, on the same users, from every source a host has
# today: rollcall's module, the floor (bench/nss_noop.c: a module that
# answers a fixed entry and touches nothing), glibc's "files", Debian's
# libnss-cache (indexed cache files), libnss-db (Berkeley DB files made with
# its makedb) and a warm nscd in front of files; plus the module's own
# functions called directly.  Each source runs in a private mount namespace
# with its own /etc (a copy, with the generated files) bind-mounted, so the
# host's files are never touched.  Also, per size: the import (members
# added through lib/ in batch mode), a whole publication, the snapshot's
# size, enumeration, and the cost and peak RSS of one change made with the
# tool (rollcall member set-role), visible through NSS when it returns.
# Root only.
#
# Usage: bench/nss.sh BUILDDIR [N ...]   (default 10000 100000 1000000)
# BENCH_NSS_ONLY_CHANGES=1: the import, sizes and the cost of a change only
# libnss-cache, libnss-db and nscd are measured when installed
# (apt-get install libnss-cache libnss-db nscd); nscd must not be running
# on the host.
set -eu
build=$(cd "${1:?usage: bench/nss.sh BUILDDIR [N ...]}" && pwd); shift
sizes=${*:-10000 100000 1000000}
[ "$(id -u)" = 0 ] || { echo "bench/nss.sh: needs root (mount namespaces)" >&2; exit 1; }
B=$build/bench/bench_nss
MOD=$build/nss_module/.libs
NOOP=$build/bench
RC=$build/tools/rollcall
work=$(mktemp -d /tmp/rc-bench-nss.XXXXXX)
trap 'rm -rf "$work"' EXIT
have_cache=$(ls /lib/*/libnss_cache.so.2 /usr/lib/*/libnss_cache.so.2 2>/dev/null | head -1 || true)
have_db=$(ls /lib/*/libnss_db.so.2 /usr/lib/*/libnss_db.so.2 2>/dev/null | head -1 || true)
command -v makedb >/dev/null || have_db=
have_nscd=$(command -v nscd || true)
if pgrep -x nscd >/dev/null; then have_nscd=; echo "(nscd runs on this host: not measured)"; fi

cp -a /etc "$work/etc"
cat > "$work/nscd.conf" <<'CONF'
	debug-level		0
	paranoia		no
	enable-cache		passwd		yes
	positive-time-to-live	passwd		3600
	negative-time-to-live	passwd		20
	suggested-size		passwd		200003
	check-files		passwd		no
	persistent		passwd		no
	shared			passwd		yes
	max-db-size		passwd		1073741824
	enable-cache		group		yes
	positive-time-to-live	group		3600
	negative-time-to-live	group		60
	suggested-size		group		200003
	check-files		group		no
	persistent		group		no
	shared			group		yes
	max-db-size		group		1073741824
	enable-cache		hosts		no
	enable-cache		services	no
	enable-cache		netgroup	no
CONF

# in_ns SOURCE DIR CMD...: run CMD with /etc set up for SOURCE
in_ns() {
	local source=$1 d=$2; shift 2
	rm -f "$work"/etc/passwd.cache* "$work"/etc/group.cache*
	case $source in
	rollcall|module) printf 'passwd: rollcall\ngroup: rollcall\n' > "$work/etc/nsswitch.conf"
		cp /etc/passwd "$work/etc/passwd"; cp /etc/group "$work/etc/group" ;;
	noop) printf 'passwd: rcnoop\ngroup: rcnoop\n' > "$work/etc/nsswitch.conf"
		cp /etc/passwd "$work/etc/passwd"; cp /etc/group "$work/etc/group" ;;
	db) printf 'passwd: db\ngroup: db\n' > "$work/etc/nsswitch.conf"
		cp /etc/passwd "$work/etc/passwd"; cp /etc/group "$work/etc/group" ;;
	files|nscd) printf 'passwd: files\ngroup: files\n' > "$work/etc/nsswitch.conf"
		cp "$d/passwd" "$work/etc/passwd"; cp "$d/group" "$work/etc/group" ;;
	cache) printf 'passwd: cache\ngroup: cache\n' > "$work/etc/nsswitch.conf"
		cp /etc/passwd "$work/etc/passwd"; cp /etc/group "$work/etc/group"
		cp -p "$d"/passwd.cache* "$d"/group.cache* "$work/etc/" ;;
	esac
	cp "$work/nscd.conf" "$work/etc/nscd.conf"
	mkdir -p "$d/misc"
	unshare --mount --propagation private env LD_LIBRARY_PATH="$MOD:$NOOP" ROLLCALL_STATE_DIR="$d/state" \
		bash -c 'mount --bind "$1" /etc; mount --bind "$2" /var/lib/misc
			mount -t tmpfs rc-bench /run; mkdir -p /run/nscd
			shift 2; exec "$@"' ns "$work/etc" "$d/misc" "$@"
}

lookup() {   # lookup SOURCE DIR SAMPLES
	local source=$1 d=$2 n=$3
	case $source in
	nscd) in_ns nscd "$d" bash -c 'nscd && sleep 0.5 &&
		"$1" lookup "$2" "$3" nscd-warmup >/dev/null && "$1" lookup "$2" "$3" nscd; s=$?
		nscd -K; exit $s' nscd "$B" "$d" "$n" ;;
	*) in_ns "$source" "$d" "$B" lookup "$d" "$n" "$source" ;;
	esac
}

# makedb_input FILE: libnss-db's keys (as its /var/lib/misc/Makefile makes them)
makedb_input() {
	awk 'BEGIN { FS=":"; OFS=":"; cnt=0 } { printf "0%u ", cnt++; print }
		{ printf ".%s ", $1; print; printf "=%s ", $3; print }' "$1"
}
med() { cat "$1/med.$2" 2>/dev/null || echo "0 0 0 0"; }
ratio() {   # ratio DIR: rollcall's medians over the floor's
	python3 - "$(med "$1" rollcall)" "$(med "$1" noop)" <<'PY'
import sys
a = [float(x) for x in sys.argv[1].split()]; b = [float(x) for x in sys.argv[2].split()]
print(" | ".join("%23s" % ("%.2fx" % (x / y) if y > 0 else "-") for x, y in zip(a, b)))
PY
}

echo "median / p99 in µs per call, through glibc; module = the module's functions"
echo "called directly (its getgrouplist column is initgroups_dyn); noop = the floor"
echo "| source    |    users | getpwnam_r              | getpwuid_r              | getgrnam_r              | getgrouplist            |"
echo "|-----------|----------|-------------------------|-------------------------|-------------------------|-------------------------|"
for n in $sizes; do
	d=$work/$n
	mkdir -p "$d"
	"$B" populate "$d" "$n" > "$d/populate.txt"
	if [ -n "${BENCH_NSS_ONLY_CHANGES:-}" ]; then : > "$d/enum"; lines=?; t0=0; t1=0; else
	# the floor and rollcall in turn, three times each (a virtual machine's
	# speed drifts): the best median of each function is kept
	for round in 1 2 3; do
		for src in noop rollcall; do
			lookup "$src" "$d" 20000 > "$d/row.$src.$round"
			cp "$d/med.$src" "$d/med.$src.$round"
		done
	done
	for src in noop rollcall; do
		python3 - "$d" "$src" "$n" <<'PY'
import sys
d, src, n = sys.argv[1], sys.argv[2], sys.argv[3]
runs = [[float(x) for x in open("%s/med.%s.%d" % (d, src, r)).read().split()] for r in (1, 2, 3)]
best = [min(r[i] for r in runs) for i in range(4)]
open("%s/med.%s" % (d, src), "w").write(" ".join("%.3f" % x for x in best) + "\n")
print("| %-9s | %8s | %s |" % (src, n, " | ".join("%23s" % ("%.2f (best of 3)" % x) for x in best)))
PY
	done
	printf '| %-9s | %8s | %s |\n' "ratio" "$n" "$(ratio "$d")"
	lookup module "$d" 20000
	# (libnss-cache and libnss-db have no initgroups: glibc walks every group)
	[ -n "$have_cache" ] && lookup cache "$d" $(( n >= 1000000 ? 50 : n >= 100000 ? 200 : 2000 ))
	if [ -n "$have_db" ]; then
		makedb_input "$d/passwd" | makedb -o "$d/misc/passwd.db" - &&
		makedb_input "$d/group" | makedb -o "$d/misc/group.db" - &&
		lookup db "$d" $(( n >= 1000000 ? 50 : n >= 100000 ? 200 : 2000 ))
	fi
	# nscd is warmed by one pass over the sample users, each a files lookup
	[ -n "$have_nscd" ] && lookup nscd "$d" $(( n >= 1000000 ? 200 : 2000 ))
	fs=$(( n >= 1000000 ? 5 : n >= 100000 ? 20 : n >= 10000 ? 200 : 2000 ))
	lookup files "$d" "$fs"
	t0=$(date +%s%N)
	lines=$(in_ns rollcall "$d" getent passwd | wc -l)
	t1=$(date +%s%N)
	fi
	# one change at a time with the tool: its time and peak RSS, and the
	# change visible through glibc in a new process right after
	printf 'id_min = 1000000\nid_max = 3999999\n' > "$d/rc.conf"
	: > "$d/changes"
	for k in 1 2 3 4 5 6 7; do
		role=admin; [ $((k % 2)) = 0 ] && role=read-only
		c0=$(date +%s%N)
		/usr/bin/time -f '%M' -o "$d/time.$k" "$RC" --config "$d/rc.conf" --state-dir "$d/state" \
			member set-role "user$((k * 7919 % n))" "$role" >/dev/null
		c1=$(date +%s%N)
		g=$(in_ns rollcall "$d" id -Gn "user$((k * 7919 % n))" 2>/dev/null || true)
		case " $g " in *" rollcall-$role "*) vis=yes ;; *) vis=NO ;; esac
		echo "$(( (c1 - c0) / 1000 )) $(cat "$d/time.$k") $vis" >> "$d/changes"
	done
	change=$(sort -n "$d/changes" | awk '{t[NR]=$1; if ($2 > m) m = $2; if ($3 != "yes") v = "NOT "} END {printf "%.1f ms median (%.1f to %.1f), peak RSS %.1f MiB, %svisible through NSS when the command returned", t[4] / 1000, t[1] / 1000, t[7] / 1000, m / 1024, v}')
	bytes=$(( $(stat -c %s "$d/state/nss.snap") + $(find "$d/state/nss.d" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}') ))
	read -r eusers ems emapped < "$d/enum" || true
	# what one random read of a file mapping the snapshot's size costs on
	# this machine (a cache and a TLB miss): the least a lookup that
	# touches the snapshot in one place can cost, beside the floor
	snapmib=$(( (bytes >> 20) + 1 ))
	[ -n "${BENCH_NSS_ONLY_CHANGES:-}" ] || "$B" memlat "$work/memlat" "$snapmib" > "$d/memlat" || echo "?" > "$d/memlat"
	files=$(( $(ls "$d/state/nss.d" | wc -l) + 1 ))
	{
		echo "$n users: $(cat "$d/populate.txt")"
		echo "  snapshot $(awk -v b="$bytes" -v n="$n" 'BEGIN {printf "%.2f MiB, %.0f B per user", b / 1048576, b / n}') in $files files; mapped after an enumeration: ${emapped:-?} MiB (whole pages: at most $files x 4 KiB more than the files)"
		echo "  first lookup of a process (through glibc: the manifest opened, a shard mapped, its directory made): $(cat "$d/first.rollcall" 2>/dev/null || echo ?) µs (the floor's: $(cat "$d/first.noop" 2>/dev/null || echo ?) µs); one random read of a ${snapmib:-?} MiB file mapping: $(cat "$d/memlat" 2>/dev/null || echo ?) ns"
		echo "  enumeration through glibc (getpwent_r): ${eusers:-?} users in ${ems:-?} ms; getent passwd: $lines in $(( (t1 - t0) / 1000000 )) ms"
		echo "  one change (rollcall member set-role, 7 of them): $change"
	} >> "$work/notes"
	rm -rf "$d"
done
echo
cat "$work/notes"
