#!/bin/sh
# scripts/libgraph.sh BUILD_DIR - the graph of lib/: which file calls which
# (from the objects' defined and undefined symbols) and which header each
# file includes, and the cycles between .c files.  Prints the edges, then
# "cycles: none" or each file pair that calls each other.
# SPDX-License-Identifier: BSD-3-Clause
set -eu
B=${1:?usage: scripts/libgraph.sh BUILD_DIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)/lib
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for o in "$B"/lib/.libs/*.o "$B"/lib/*.o; do
	[ -f "$o" ] || continue
	f=$(basename "$o" .o); f=${f#librollcall_la-}; f=${f#libsnapread_la-}
	nm "$o" | awk -v f="$f" '$2 ~ /^[TDBR]$/ { print $3, f }' >> "$T/def"
	nm "$o" | awk -v f="$f" '$1 == "U" { print $2, f }' >> "$T/use"
done
sort -u "$T/def" > "$T/def.s"; sort -u "$T/use" > "$T/use.s"
# caller -> callee file
join "$T/use.s" "$T/def.s" | awk '$2 != $3 { print $2 " -> " $3 }' | sort -u > "$T/calls"
echo "== calls (file -> file it calls)"
awk '{ a[$1] = a[$1] " " $3 } END { for (k in a) print k ":" a[k] }' "$T/calls" | sort
echo "== includes (lib/ headers)"
for c in "$SRC"/*.c; do
	printf '%s:' "$(basename "$c" .c)"
	sed -n 's/^#include "\([a-z_]*\.h\)"$/ \1/p' "$c" | grep -v ' config.h' | tr -d '\n'
	echo
done
echo "== cycles between .c files (both call each other)"
awk '{ print $1, $3 }' "$T/calls" | sort -u > "$T/e"
awk 'NR == FNR { e[$1 " " $2] = 1; next } ($2 " " $1) in e && $1 < $2 { print $1 " <-> " $2 }' \
	"$T/e" "$T/e" > "$T/cyc"
if [ -s "$T/cyc" ]; then cat "$T/cyc"; else echo "none"; fi
echo "== store.c calls"
grep '^store ->' "$T/calls" | sed 's/^store -> //' | tr '\n' ' '; echo
echo "== who calls store.c"
grep -- '-> store$' "$T/calls" | sed 's/ -> store$//' | tr '\n' ' '; echo
