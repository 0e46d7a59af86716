#!/bin/bash
# NSS lookups through glibc, on the same users, from every source a host has
# today: rollcall's module, glibc's "files", Debian's libnss-cache (indexed
# cache files) and a warm nscd in front of files; plus the module's own
# functions called directly.  Each source runs in a private mount namespace
# with its own /etc (a copy, with the generated files) bind-mounted, so the
# host's files are never touched.  Root only.
#
# Usage: bench/nss.sh BUILDDIR [N ...]   (default 1000 10000 100000)
# libnss-cache and nscd are measured when installed
# (apt-get install libnss-cache nscd); nscd must not be running on the host.
set -eu
build=$(cd "${1:?usage: bench/nss.sh BUILDDIR [N ...]}" && pwd); shift
sizes=${*:-1000 10000 100000}
[ "$(id -u)" = 0 ] || { echo "bench/nss.sh: needs root (mount namespaces)" >&2; exit 1; }
B=$build/bench/bench_nss
MOD=$build/nss_module/.libs
work=$(mktemp -d /tmp/rc-bench-nss.XXXXXX)
trap 'rm -rf "$work"' EXIT
have_cache=$(ls /lib/*/libnss_cache.so.2 /usr/lib/*/libnss_cache.so.2 2>/dev/null | head -1 || true)
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
	files|nscd) printf 'passwd: files\ngroup: files\n' > "$work/etc/nsswitch.conf"
		cp "$d/passwd" "$work/etc/passwd"; cp "$d/group" "$work/etc/group" ;;
	cache) printf 'passwd: cache\ngroup: cache\n' > "$work/etc/nsswitch.conf"
		cp /etc/passwd "$work/etc/passwd"; cp /etc/group "$work/etc/group"
		cp -p "$d"/passwd.cache* "$d"/group.cache* "$work/etc/" ;;
	esac
	cp "$work/nscd.conf" "$work/etc/nscd.conf"
	unshare --mount --propagation private env LD_LIBRARY_PATH="$MOD" ROLLCALL_STATE_DIR="$d/state" \
		bash -c 'mount --bind "$1" /etc; mount -t tmpfs rc-bench /run; mkdir -p /run/nscd
			shift; exec "$@"' ns "$work/etc" "$@"
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

echo "median / p99 in µs per call, through glibc; module = the module's functions"
echo "called directly (its getgrouplist column is initgroups_dyn)"
echo "| source    |    users | getpwnam_r              | getpwuid_r              | getgrnam_r              | getgrouplist            |"
echo "|-----------|----------|-------------------------|-------------------------|-------------------------|-------------------------|"
for n in $sizes; do
	d=$work/$n
	mkdir -p "$d"
	"$B" populate "$d" "$n" > "$d/populate.txt"
	lookup rollcall "$d" 20000
	lookup module "$d" 20000
	[ -n "$have_cache" ] && lookup cache "$d" 2000
	# nscd is warmed by one pass over the sample users, each a files lookup
	[ -n "$have_nscd" ] && lookup nscd "$d" $(( n >= 1000000 ? 200 : 2000 ))
	fs=$(( n >= 1000000 ? 5 : n >= 100000 ? 20 : n >= 10000 ? 200 : 2000 ))
	lookup files "$d" "$fs"
	t0=$(date +%s%N)
	lines=$(in_ns rollcall "$d" getent passwd | wc -l)
	t1=$(date +%s%N)
	echo "$n users: $(cat "$d/populate.txt"); getent passwd enumerates $lines in $(( (t1 - t0) / 1000000 )) ms" >> "$work/notes"
	rm -rf "$d"
done
echo
cat "$work/notes"
