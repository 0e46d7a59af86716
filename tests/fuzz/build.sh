#!/bin/sh
# Build the libFuzzer targets with clang: lib/ (and for fuzz_pam the PAM
# module, for fuzz_snapshot the NSS module) instrumented for coverage with
# AddressSanitizer and UndefinedBehaviorSanitizer.
#   tests/fuzz/build.sh BUILDDIR OUTDIR
# BUILDDIR is a configured build directory (for config.h).  Needs clang and
# its runtime (Debian: clang, libclang-rt-14-dev).
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
out=$2
CLANG=${CLANG:-clang}
mkdir -p "$out/obj"
out=$(cd "$out" && pwd)
pkgs="libsodium lmdb liboath libqrencode"
cflags="-g -O1 -fPIC -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
	-fno-sanitize-recover=undefined -Wall -Wextra -Wno-unused-function
	-I$build -I$top/lib $(pkg-config --cflags $pkgs pam)"
libs="$(pkg-config --libs $pkgs pam) -lpthread"
objs=
# objects built with other flags are built again
if [ "$(cat "$out/obj/flags" 2>/dev/null)" != "$CLANG $cflags" ]; then
	rm -f "$out"/obj/*.o
	printf '%s\n' "$CLANG $cflags" >"$out/obj/flags"
fi
for src in "$top"/lib/*.c; do
	# (the fleet's files are lib/libfleet.la, with libldap: not in lib/)
	case $(basename "$src") in fleet*.c|replica.c) continue ;; esac
	o="$out/obj/$(basename "$src" .c).o"
	# (rebuilt when its source, config.h or any header of lib/ is newer:
	# a struct changed in a header and a stale object disagree on its size)
	if [ ! -e "$o" ] || [ "$src" -nt "$o" ] || [ "$build/config.h" -nt "$o" ] ||
	   [ -n "$(find "$top/lib" -name '*.h' -newer "$o" | head -1)" ]; then
		# shellcheck disable=SC2086
		$CLANG $cflags -c "$src" -o "$o"
	fi
	objs="$objs $o"
done
# the PAM module as a shared object with lib/ in it, as pam_rollcall.so is
# (fuzz_pam loads it through libpam)
o="$out/obj/pam_rollcall.o"
# shellcheck disable=SC2086
# (its helper for callers that are not root: fuzz_pam runs as root, which
# never uses it)
$CLANG $cflags -I"$top/helper" -DRC_HELPER_PATH='"/nonexistent/rollcall-chkpwd"' \
	-c "$top/pam_module/pam_rollcall.c" -o "$o"
# shellcheck disable=SC2086
$CLANG $cflags -shared -Wl,--version-script="$top/pam_module/pam_rollcall.map" \
	-Wl,-z,defs -Wl,--unresolved-symbols=ignore-in-object-files \
	"$o" $objs $libs -o "$out/pam_rollcall_fuzz.so"
for t in codec config settings token pam snapshot mail import; do
	lib_objs=$objs
	extra=
	[ "$t" = pam ] && extra="-ldl"
	# the snapshot target is the NSS module itself: the reader and LMDB only
	[ "$t" = snapshot ] && lib_objs="$out/obj/snapread.o"
	# shellcheck disable=SC2086
	$CLANG $cflags -fsanitize=fuzzer "$top/tests/fuzz/fuzz_$t.c" $lib_objs $libs $extra \
		-o "$out/fuzz_$t"
done
echo "fuzz targets in $out"
