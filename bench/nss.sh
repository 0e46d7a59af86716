#!/bin/bash
# NSS lookups through glibc: rollcall's module and glibc's "files", on the
# same users, each in a private mount namespace with its own nsswitch.conf
# (and, for files, the generated /etc/passwd and /etc/group bind-mounted).
# Root only.  Usage: bench/nss.sh BUILDDIR [N ...]   (default 1000 10000 100000)
set -eu
build=$(cd "${1:?usage: bench/nss.sh BUILDDIR [N ...]}" && pwd); shift
sizes=${*:-1000 10000 100000}
[ "$(id -u)" = 0 ] || { echo "bench/nss.sh: needs root (mount namespaces)" >&2; exit 1; }
B=$build/bench/bench_nss
MOD=$build/nss_module/.libs
work=$(mktemp -d /tmp/rc-bench-nss.XXXXXX)
trap 'rm -rf "$work"' EXIT

in_ns() {   # in_ns NSSWITCH [PASSWD GROUP] -- CMD...
	local conf=$1 pw=$2 gr=$3; shift 3
	unshare --mount --propagation private bash -c '
		mount --bind "$1" /etc/nsswitch.conf
		if [ "$2" != - ]; then mount --bind "$2" /etc/passwd; mount --bind "$3" /etc/group; fi
		shift 3; exec "$@"' ns "$conf" "$pw" "$gr" "$@"
}
printf 'passwd: rollcall\ngroup: rollcall\n' > "$work/ns.rollcall"
printf 'passwd: files\ngroup: files\n' > "$work/ns.files"

echo "median / p99 in µs per call: through glibc (rollcall, files), and the module's own"
echo "functions called directly (module); getgrouplist is initgroups_dyn for the module"
echo "| source    |    users | getpwnam_r              | getpwuid_r              | getgrnam_r              | getgrouplist            |"
echo "|-----------|----------|-------------------------|-------------------------|-------------------------|-------------------------|"
for n in $sizes; do
	d=$work/$n
	mkdir -p "$d"
	"$B" populate "$d" "$n" > "$d/populate.txt"
	LD_LIBRARY_PATH=$MOD ROLLCALL_STATE_DIR=$d/state in_ns "$work/ns.rollcall" - - \
		env LD_LIBRARY_PATH="$MOD" ROLLCALL_STATE_DIR="$d/state" "$B" lookup "$d" 20000 rollcall
	env LD_LIBRARY_PATH="$MOD" ROLLCALL_STATE_DIR="$d/state" "$B" lookup "$d" 20000 module
	fs=$(( n >= 100000 ? 20 : n >= 10000 ? 200 : 2000 ))
	in_ns "$work/ns.files" "$d/passwd" "$d/group" "$B" lookup "$d" "$fs" files
	t0=$(date +%s.%N)
	lines=$(in_ns "$work/ns.rollcall" - - env LD_LIBRARY_PATH="$MOD" ROLLCALL_STATE_DIR="$d/state" getent passwd | wc -l)
	t1=$(date +%s.%N)
	echo "$n users: $(cat "$d/populate.txt"); getent passwd enumerates $lines in $(echo "$t1 - $t0" | bc) s" >> "$work/notes"
	rm -rf "$d"
done
echo
cat "$work/notes"
