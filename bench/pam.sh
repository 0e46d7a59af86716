#!/bin/sh
# The cost of an authentication (run by "make bench"; never a timed test):
# a token login through pam_rollcall.so on a kept PAM handle, rollcall's
# TOTP check alone, the argon2id verification apart, a known user's failed
# login against an unknown user's, and Debian's pam_oath
# (when installed: apt-get install libpam-oath) rejecting a code for the
# same TOTP secret.  Usage: pam.sh BUILDDIR [N]
set -eu
B=$(cd "$1" && pwd); N=${2:-2000}
: "${PAM_WRAPPER_LIB:?set by make bench}"
TOOL=$B/tools/rollcall; BP=$B/bench/bench_pam; MOD=$B/pam_module/.libs/pam_rollcall.so
TMP=$(mktemp -d /tmp/rc-bench-pam.XXXXXX); trap 'rm -rf "$TMP"' EXIT
SD=$TMP/state; : > "$TMP/conf"; chmod 644 "$TMP/conf"
rc() { "$TOOL" --config "$TMP/conf" --state-dir "$SD" "$@"; }
code=$(rc --json init --owner owner@example.com | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
printf '%s\nan owner password\n' "$code" | rc member accept --password-stdin >/dev/null
mkdir "$TMP/pamd"
echo "auth required $MOD state_dir=$SD config=$TMP/conf nodelay" > "$TMP/pamd/rc"
token=$("$BP" token "$SD" owner)
wrap() { env LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$TMP/pamd" "$@"; }
echo "== authentication (targets: token auth <= 50 us median in-process; TOTP step <= 5 us)"
wrap "$BP" pam rc owner "$token" "$N"
"$BP" core "$N"
echo "== a failed password login: a known user against one rollcall does not know (target: ratio about 1.0)"
rc settings set lockout.attempts 1000 >/dev/null
known=$(wrap "$BP" pam rc owner 'a wrong password' 40)
unknown=$(wrap "$BP" pam rc nosuchuser 'a wrong password' 40)
printf '%s\n%s\n' "$known" "$unknown"
printf '%s\n%s\n' "$known" "$unknown" | awk '{for (i = 1; i < NF; i++) if ($i == "median") m[NR] = $(i + 1)}
	END {if (m[2] > 0) printf "known / unknown: %.2f\n", m[1] / m[2]}'
OATH=
for d in /lib/x86_64-linux-gnu/security /usr/lib/x86_64-linux-gnu/security /lib/security; do
	[ -e "$d/pam_oath.so" ] && OATH=$d/pam_oath.so && break
done
if [ -n "$OATH" ]; then
	secret=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
	echo "HOTP/T30/6 benchuser - $secret" > "$TMP/users.oath"; chmod 600 "$TMP/users.oath"
	echo "auth required $OATH usersfile=$TMP/users.oath window=1 digits=6" > "$TMP/pamd/oath"
	wrap "$BP" pam oath benchuser 000000 "$N"
	echo "(pam_oath is shown rejecting a code: it refuses a replayed code, so the same right"
	echo " code cannot be timed twice; rollcall's rejected-code check is the line above)"
else
	echo "pam_oath: not installed (apt-get install libpam-oath to compare)"
fi
