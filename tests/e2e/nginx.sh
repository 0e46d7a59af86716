#!/bin/bash
# nginx's auth_pam (Debian's libnginx-mod-http-auth-pam) checks members'
# API tokens through pam_rollcall without root (issue 16): nginx runs PAM in
# its workers as www-data, which cannot read the store; the module asks
# rollcall-chkpwd, and rollcall.conf names www-data in member_callers.  As
# root, in a private mount namespace: the test store on the compiled-in
# state directory (setuid_host), rollcall.conf on the compiled-in path (an
# overlay), this test's PAM services on /etc/pam.d ("nginx-api", and
# "nginx-admin" with roles=owner,admin on its account line), an nginx of
# the test's own (its configuration, logs and temporary files in the test
# directory) listening on 127.0.0.1 at a free high port, workers as
# www-data.  HTTP basic authentication with curl.  nginx is stopped by its
# pid.  Root only.
. "$(dirname "$0")/../lib.sh"
require_root "nginx with workers as www-data, and /etc/pam.d in a mount namespace"
: "${PAM_MODULE:?}" "${RC_CHKPWD:?}"
NGINX=${NGINX:-/usr/sbin/nginx}
AUTH_PAM=${AUTH_PAM:-/usr/lib/nginx/modules/ngx_http_auth_pam_module.so}
for f in "$NGINX" "$AUTH_PAM" "$(command -v curl)"; do
	[ -n "$f" ] && [ -e "$f" ] ||
		{ echo "1..1"; echo "not ok 1 - ${f:-curl} is missing (scripts/deps.sh installs nginx-light, libnginx-mod-http-auth-pam and curl)"; exit 1; }
done
getent passwd www-data >/dev/null ||
	{ echo "1..1"; echo "not ok 1 - no user www-data"; exit 1; }
if [ -z "${RC_NGINX_NS:-}" ]; then
	export RC_NGINX_NS=1 ROLLCALL
	exec unshare --mount --propagation private bash "$0" "$@"
fi
setuid_host
conf_overlay
echo "member_callers = www-data" > "$CONF"
stage_helper
pam_services "$PAMD" "nginx-api:helper=$HELPER" "nginx-admin:helper=$HELPER"
sed -i '/^account/s/$/ roles=owner,admin/' "$PAMD/nginx-admin"   # (pam_services splits at commas)
real_pam_services "$PAMD"
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null

# ---- nginx, of this test's own
nginx_start www-data 'location /api/ { auth_pam "rollcall api"; auth_pam_service_name nginx-api; }
		location /admin/ { auth_pam "rollcall admin"; auth_pam_service_name nginx-admin; }' >"$TMP/ng.err" &&
	mkdir "$NG/www/api" "$NG/www/admin" && echo "api ok" > "$NG/www/api/index.html" &&
	echo "admin ok" > "$NG/www/admin/index.html" && chmod -R a+rX "$NG/www" ||
	{ echo "1..1"; echo "not ok 1 - $(cat "$TMP/ng.err")"; exit 1; }
at_exit 'daemon_kill "$NGPID" >&2'

# get PATH USER SECRET: the HTTP status of a GET with basic authentication
# (the credentials in a file of curl's, never in its arguments)
get() {
	printf 'user = "%s:%s"\n' "$2" "$3" > "$TMP/curl.cfg"
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 -K "$TMP/curl.cfg" "http://127.0.0.1:$PORT$1"
}
expect_http() {   # expect_http CODE DESC PATH USER SECRET
	local want=$1 desc=$2 got; shift 2
	got=$(get "$@")
	if [ "$got" = "$want" ]; then ok "$desc"; else not_ok "$desc (HTTP $got, wanted $want)"; fi
}
token_of() { as "$1" --json token generate --description "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }

WWW=$(id -u www-data)
check "set-up: nginx's workers run as www-data" sh -c "ps -o user= --ppid $NGPID | grep -qx www-data"
invite_accept mona developer
invite_accept olga admin
MONA_TOKEN=$(token_of mona api)
OLGA_TOKEN=$(token_of olga api)
check "set-up: two tokens" [ -n "$MONA_TOKEN" ] && [ -n "$OLGA_TOKEN" ]

expect_http 200 "a member's API token: 200" /api/ mona "$MONA_TOKEN"
check "... audited through the helper, by www-data's uid" audit_has "login +\| mona +\| ok via token +\| pam:nginx-api via helper, uid $WWW"
expect_http 200 "... and the member's password" /api/ mona 'mona password 12345'
expect_http 401 "a mangled token: 401" /api/ mona "${MONA_TOKEN%?????}xxxxx"
expect_http 401 "another member's token under this name: 401" /api/ mona "$OLGA_TOKEN"
expect_http 401 "a user rollcall does not know: 401" /api/ nosuchuser "$MONA_TOKEN"
expect_http 401 "no credentials: 401" /api/ "" ""
expect_http 401 "a developer refused by roles=owner,admin: 401" /admin/ mona "$MONA_TOKEN"
check "... audited as an account refusal" audit_has "account +\| mona +\| refused: mona's role developer is not admitted here"
expect_http 200 "an admin admitted by roles=owner,admin: 200" /admin/ olga "$OLGA_TOKEN"
ID=$(rc --json token list --member mona | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
expect 0 "the token is revoked" rc token revoke "$ID" --member mona
expect_http 401 "a revoked token: 401" /api/ mona "$MONA_TOKEN"
rc member deactivate olga >/dev/null
expect_http 401 "a deactivated member's token: 401" /admin/ olga "$OLGA_TOKEN"

kill -QUIT "$NGPID"
wait_gone() { local n=0; while ! proc_gone "$1" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done; proc_gone "$1"; }
check "nginx stops" wait_gone "$NGPID"
done_testing
