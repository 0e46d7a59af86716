#!/bin/bash
# PAM clients that are not root (run by "make bench"; never a timed test).
# 1. nginx with Debian's auth_pam, workers as www-data: requests per second
#    with a member's API token checked by pam_rollcall through
#    rollcall-chkpwd, against the same nginx with a pam_permit stack (its
#    own pam_start/pam_end per request is the ceiling).  Target: >= 80%.
# 2. The helper's answer times, default argon2id limits: a caller refused
#    (another member's password) against a user rollcall does not know, and
#    a wrong password of the caller's own.  Target: ratios about 1 (a
#    caller learns nothing from the time).
# Root only (setuid copies, workers as www-data, /etc/pam.d in a private
# mount namespace); says why and does nothing otherwise.
# Usage: helper.sh BUILDDIR [SECONDS]
set -u
B=$(cd "$1" && pwd); DUR=${2:-10}
SRC=$(cd "$(dirname "$0")/.." && pwd)
AUTH_PAM=${AUTH_PAM:-/usr/lib/nginx/modules/ngx_http_auth_pam_module.so}
if [ "$(id -u)" != 0 ]; then
	echo "== PAM clients without root: skipped (needs root: setuid copies, nginx workers as www-data)"
	exit 0
fi
if [ ! -e "$AUTH_PAM" ] || [ ! -x /usr/sbin/nginx ]; then
	echo "== PAM clients without root: skipped (apt-get install nginx-light libnginx-mod-http-auth-pam)"
	exit 0
fi
if [ -z "${RC_BENCH_HELPER_NS:-}" ]; then
	export RC_BENCH_HELPER_NS=1
	exec unshare --mount --propagation private bash "$0" "$@"
fi
export ROLLCALL=$B/tools/rollcall PAM_MODULE=$B/pam_module/.libs/pam_rollcall.so
export RC_CHKPWD=$B/helper/rollcall-chkpwd
# shellcheck source=../tests/lib.sh
. "$SRC/tests/lib.sh"
trap 'kill -9 "${NGPID:-0}" 2>/dev/null; rm -rf "$TMP" 2>/dev/null' EXIT
setuid_host >/dev/null
conf_overlay >/dev/null
echo 'member_callers = www-data' > "$CONF"   # caller_failures as by default
stage_helper >/dev/null
PAMD=$TMP/pamd
pam_services "$PAMD" "nginx-rc:helper=$HELPER"
sed -i 's/ nodelay / /' "$PAMD/nginx-rc"   # as installed (a failure waits 2 s; none here)
printf 'auth required pam_permit.so\naccount required pam_permit.so\n' > "$PAMD/nginx-permit"
real_pam_services "$PAMD" >/dev/null
rc settings set lockout.attempts 1000 >/dev/null
invite_accept mona developer
invite_accept nina developer
TOKEN=$(as mona --json token generate --description bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
printf 'mona:%s' "$TOKEN" > "$TMP/auth"
# bench_nginx USER: nginx with workers as USER; prints "PATH REQUESTS/S REFUSED"
bench_nginx() {
	nginx_start "$1" 'location /rc/ { auth_pam "rc"; auth_pam_service_name nginx-rc; }
		location /permit/ { auth_pam "permit"; auth_pam_service_name nginx-permit; }' >&2 ||
		return 1
	mkdir -p "$NG/www/rc" "$NG/www/permit" && echo ok > "$NG/www/rc/index.html" &&
		echo ok > "$NG/www/permit/index.html" && chmod -R a+rX "$NG/www"
	python3 "$SRC/bench/httpload.py" "$PORT" "$DUR" "$TMP/auth" /permit/ /rc/
	kill -QUIT "$NGPID"
	local n=0; while ! proc_gone "$NGPID" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
}
echo "== nginx auth_pam, 2 workers, 2 clients with keep-alive, ${DUR} s each; a member's token (target: www-data through the helper >= 80% of pam_permit)"
bench_nginx www-data > "$TMP/www" || exit 1
bench_nginx root > "$TMP/root" || exit 1
python3 - "$TMP/www" "$TMP/root" <<'EOF'
import sys
def read(f):
    return {l.split()[0]: (float(l.split()[1]), int(l.split()[2])) for l in open(f)}
www, root = read(sys.argv[1]), read(sys.argv[2])
print(f"{'workers':<10} {'stack':<36} {'requests/s':>10} {'ratio':>6} {'refused':>8}")
for who, d in (("www-data", www), ("root", root)):
    base = d["/permit/"][0]
    for path, name in (("/permit/", "pam_permit (the ceiling)"),
                       ("/rc/", "pam_rollcall" + (" via the helper" if who != "root" else ""))):
        rate, bad = d[path]
        print(f"{who:<10} {name:<36} {rate:>10.1f} {rate / base:>6.2f} {bad:>8}")
r = www["/rc/"][0] / www["/permit/"][0]
print(f"www-data through the helper: {r:.2f} of pam_permit (target >= 0.80){'' if r >= 0.8 else ': MISSED'}")
EOF

echo "== the helper's answer time, default argon2id limits, median of 15 (target: ratios about 1.0)"
MONA=$(uid_of mona)
python3 - "$HELPER" "$MONA" <<'EOF'
import statistics, subprocess, sys, time
helper, uid = sys.argv[1], sys.argv[2]
def t(user, secret):
    ts = []
    for _ in range(15):
        t0 = time.monotonic()
        subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", helper, user],
                       input=f"bench\ntokens=allow\n{secret}".encode(), stdout=subprocess.DEVNULL)
        ts.append(time.monotonic() - t0)
    return statistics.median(ts) * 1000
unknown = t("nosuchuser", "some password 123")
refused = t("nina", "some password 123")
wrong = t("mona", "some password 123")
print(f"{'answer':<50} {'ms':>8} {'ratio':>6}")
print(f"{'a user rollcall does not know':<50} {unknown:>8.1f} {1:>6.2f}")
print(f"{'another member (caller not allowed)':<50} {refused:>8.1f} {refused / unknown:>6.2f}")
print(f"{'its own user, a wrong password':<50} {wrong:>8.1f} {wrong / unknown:>6.2f}")
EOF
