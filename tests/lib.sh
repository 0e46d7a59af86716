# lib.sh - the helpers every shell suite sources (tool, PAM, NSS, faults,
# end to end; and bench/helper.sh); each test prints TAP.
#
# Sourced by every tests/*/*.sh.  $ROLLCALL is the built tool (set by
# "make check"; defaults to ../../tools/rollcall from the build directory).
set -u
: "${ROLLCALL:=$(pwd)/tools/rollcall}"
T=0
TMP=$(mktemp -d /tmp/rollcall-test.XXXXXX)
# On any exit (a signal from outside too: timeout(1), make's): the
# background groups started by bg are killed, then the at_exit commands
# run (last added first), then $TMP goes.  A test adds to this; it never
# sets its own EXIT trap.
BG_GROUPS=
AT_EXIT=
at_exit() { AT_EXIT="$*; $AT_EXIT"; }
test_exit() {
	local g
	for g in $BG_GROUPS; do group_kill "$g" >&2; done
	eval "$AT_EXIT"
	rm -rf "$TMP"
}
trap test_exit EXIT
trap 'exit 143' TERM INT HUP
SD=$TMP/state
OUT=$TMP/out
ERR=$TMP/err
export ROLLCALL_CONFIG=$TMP/none.conf   # never the host's configuration
unset ROLLCALL_STATE_DIR
# at-time.sh OFFSET PROGRAM...: PROGRAM at an injected time (libfaketime)
AT_TIME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/at-time.sh
export AT_TIME
# pam-wrap.sh SERVICE_DIR PROGRAM...: PROGRAM with pam_wrapper, one at a time
PAM_WRAP=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pam-wrap.sh
export PAM_WRAP
# the PAM helpers (service files, pd, pd_at, real_pam_services)
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pam/lib.sh"

rc() { "$ROLLCALL" --config "$TMP/rollcall.conf" --state-dir "$SD" "$@"; }
: > "$TMP/rollcall.conf"
chmod 644 "$TMP/rollcall.conf"

ok() { T=$((T + 1)); echo "ok $T - $*"; }
not_ok() {
	T=$((T + 1)); echo "not ok $T - $*"
	sed 's/^/#   stdout: /' "$OUT" 2>/dev/null | head -20
	sed 's/^/#   stderr: /' "$ERR" 2>/dev/null | head -20
}

# run CMD...: run, keeping stdout in $OUT, stderr in $ERR, status in $st
run() { "$@" >"$OUT" 2>"$ERR"; st=$?; }

# expect STATUS DESCRIPTION CMD...: the command exits with STATUS
expect() {
	local want=$1 desc=$2; shift 2
	run "$@"
	if [ "$st" = "$want" ]; then ok "$desc"; else not_ok "$desc (exit $st, wanted $want)"; fi
}

# expect_err STATUS REGEX DESCRIPTION CMD...: status, and stderr matches REGEX
# (a refusal also starts with "rollcall: ")
expect_err() {
	local want=$1 re=$2 desc=$3; shift 3
	run "$@"
	if [ "$st" = "$want" ] && grep -Eq -- "$re" "$ERR" && head -1 "$ERR" | grep -q '^rollcall: '; then
		ok "$desc"
	else
		not_ok "$desc (exit $st, wanted $want and stderr matching /$re/)"
	fi
}

# expect_out STATUS REGEX DESCRIPTION CMD...: status, and stdout matches REGEX
expect_out() {
	local want=$1 re=$2 desc=$3; shift 3
	run "$@"
	if [ "$st" = "$want" ] && grep -Eq -- "$re" "$OUT"; then
		ok "$desc"
	else
		not_ok "$desc (exit $st, wanted $want and stdout matching /$re/)"
	fi
}

# check DESCRIPTION CMD...: a shell condition
check() {
	local desc=$1; shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# json EXPR: evaluate a Python expression on the JSON in $OUT (as "d")
json() { python3 -c "import json,sys; d=json.load(open('$OUT')); print($1)"; }

# Dump every database but the audit log (to compare before and after).
dump_store() {
	local db
	for db in members roles invitations services service_users tokens settings idx_uid idx_email; do
		echo "== $db"
		mdb_dump -s "$db" "$SD/store" 2>&1
	done
}

# init_store: a store whose owner alice is active (password "alice password 1")
init_store() {
	rc --json init --owner alice@example.com >"$OUT" 2>"$ERR" || { cat "$ERR" >&2; return 1; }
	OWNER_CODE=$(json 'd["code"]')
	printf '%s\nalice password 1\n' "$OWNER_CODE" | rc member accept --password-stdin >/dev/null
}

# invite_accept NAME ROLE: an active member
invite_accept() {
	local code
	code=$(rc --json member invite "$1@example.com" --role "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])') || return 1
	printf '%s\n%s\n' "$code" "$1 password 12345" | rc member accept --password-stdin >/dev/null
}

# Tests that need root: skip elsewhere, fail in CI.
require_root() {
	if [ "$(id -u)" != 0 ]; then
		if [ -n "${CI:-}" ]; then
			echo "1..1"; echo "not ok 1 - $1 needs root, and CI runs as root"; exit 1
		fi
		echo "1..0 # SKIP $1 needs root (run the suite as root to include it)"
		exit 0
	fi
}

done_testing() { echo "1..$T"; }

# setuid_host: as root, in a private mount namespace (the calling script
# re-runs itself under "unshare --mount" first), the store of this test
# (init_store: its owner alice active) on the compiled-in state directory
# DEFAULT_SD, whose parent is a tmpfs in this namespace only, and a
# setuid-root copy of the tool, $TMP/bin/rollcall, that other uids can run
# (a setuid rollcall refuses --state-dir).  Then uid_of NAME and
# as NAME|UID CMD... (the setuid tool as that uid) serve the test.
setuid_host() {
	DEFAULT_SD=${RC_DEFAULT_STATE_DIR:-/var/lib/rollcall}
	local parent
	parent=$(dirname "$DEFAULT_SD")
	mount -t tmpfs -o mode=0755 rollcall-test "$parent" ||
		{ echo "1..1"; echo "not ok 1 - cannot mount a tmpfs on $parent"; exit 1; }
	mkdir -p "$DEFAULT_SD"
	init_store || { echo "1..1"; echo "not ok 1 - rollcall init"; exit 1; }
	mount --bind "$SD" "$DEFAULT_SD"
	chmod 755 "$TMP"
	mkdir -m 755 "$TMP/bin"
	cp "$ROLLCALL" "$TMP/bin/rollcall" && chown root:root "$TMP/bin/rollcall" &&
		chmod 4755 "$TMP/bin/rollcall" ||
		{ echo "1..1"; echo "not ok 1 - cannot make a setuid copy of the tool"; exit 1; }
}
# conf_overlay: rollcall.conf where setuid programs read it (the
# compiled-in path, which they never let a caller change) becomes this
# test's: an overlay on the directory above its own, in this mount
# namespace only, so that the host's is never touched.  Sets CONF; the
# test writes it.
conf_overlay() {
	CONF=${RC_DEFAULT_CONFIG:-/etc/rollcall/rollcall.conf}
	local confdir over
	confdir=$(dirname "$CONF")
	over=$(dirname "$confdir")
	mkdir -p "$TMP/ov" && mount -t tmpfs rollcall-ov "$TMP/ov" && mkdir "$TMP/ov/u" "$TMP/ov/w" &&
		mount -t overlay rollcall-ov -o "lowerdir=$over,upperdir=$TMP/ov/u,workdir=$TMP/ov/w" "$over" &&
		mkdir -p "$confdir" && : > "$CONF" && chmod 644 "$CONF" ||
		{ echo "1..1"; echo "not ok 1 - cannot put an overlay on $over"; exit 1; }
}
# stage_helper: the PAM module and a setuid-root copy of rollcall-chkpwd in
# $TMP/bin (after setuid_host), where every uid reaches them.  Sets
# PAM_MODULE and HELPER to the copies.
stage_helper() {
	cp "$PAM_MODULE" "$TMP/bin/pam_rollcall.so" && cp "$RC_CHKPWD" "$TMP/bin/rollcall-chkpwd" &&
		chown root:root "$TMP/bin/rollcall-chkpwd" && chmod 4755 "$TMP/bin/rollcall-chkpwd" &&
		chmod 755 "$TMP/bin/pam_rollcall.so" ||
		{ echo "1..1"; echo "not ok 1 - cannot copy the module and the helper to $TMP/bin"; exit 1; }
	PAM_MODULE=$TMP/bin/pam_rollcall.so
	HELPER=$TMP/bin/rollcall-chkpwd
}
# audit_has REGEX [N]: one of the last N (5) audit records matches REGEX
audit_has() { rc audit --limit "${2:-5}" | grep -Eq -- "$1"; }
# nginx_start USER LOCATIONS: an nginx of the caller's own (configuration,
# logs and temporary files in $TMP/nginx, the packaged service untouched)
# with Debian's auth_pam module, workers as USER, on 127.0.0.1 at a free
# high port, serving $NG/www (LOCATIONS: the server's location blocks).
# Sets NG, PORT and NGPID (the master; stop it by that pid).
nginx_start() {
	local user=$1 locations=$2 n=0
	NG=$TMP/nginx
	mkdir -p "$NG/www" "$NG/tmp" && chmod 755 "$NG" "$NG/www" || return 1
	PORT=$((20000 + RANDOM % 20000))
	while ss -ltn | grep -q ":$PORT "; do PORT=$((PORT + 1)); done
	cat > "$NG/nginx.conf" <<EOF
load_module ${AUTH_PAM:-/usr/lib/nginx/modules/ngx_http_auth_pam_module.so};
user $user;
worker_processes 2;
pid $NG/nginx.pid;
error_log $NG/error.log info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $NG/tmp/body;
	proxy_temp_path $NG/tmp/proxy;
	fastcgi_temp_path $NG/tmp/fastcgi;
	uwsgi_temp_path $NG/tmp/uwsgi;
	scgi_temp_path $NG/tmp/scgi;
	server {
		listen 127.0.0.1:$PORT;
		root $NG/www;
		$locations
	}
}
EOF
	"${NGINX:-/usr/sbin/nginx}" -e "$NG/error.log" -p "$NG" -c "$NG/nginx.conf" >"$NG/start.out" 2>&1 ||
		{ echo "nginx did not start: $(tail -n 3 "$NG/error.log" "$NG/start.out" | tr '\n' ' ')"; return 1; }
	while [ ! -s "$NG/nginx.pid" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	NGPID=$(cat "$NG/nginx.pid")
}
uid_of() { rc --json member show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])'; }
as() {
	local who=$1 uid; shift
	case $who in [0-9]*) uid=$who ;; *) uid=$(uid_of "$who") ;; esac
	setpriv --reuid="$uid" --regid="$uid" --clear-groups "$TMP/bin/rollcall" "$@"
}

# exim_mailbox: a real MTA of the test's own, exim (exim4-daemon-light) with
# the configuration $MX/exim.conf (run as "$EXIM -C $MX/exim.conf -odi":
# delivered at once, no daemon, the packaged service plays no part), every
# message appended to the mailbox $MBOX (in a directory of the transport's
# user, nobody: its lock files).  Sets MX and MBOX.
exim_mailbox() {
	chmod 755 "$TMP"
	MX=$TMP/exim
	MBOX=$MX/box/mailbox
	mkdir -p "$MX/spool" "$MX/log" "$MX/box"
	chown nobody "$MX/spool" "$MX/log" "$MX/box"
	: > "$MBOX"; chown nobody "$MBOX"
	cat > "$MX/exim.conf" <<EOF
primary_hostname = rollcall.test
qualify_domain = rollcall.test
spool_directory = $MX/spool
log_file_path = $MX/log/%slog
keep_environment =
exim_user = nobody
exim_group = nogroup
trusted_users = root
never_users = root
begin routers
all:
  driver = accept
  transport = mbox
begin transports
mbox:
  driver = appendfile
  file = $MBOX
  user = nobody
  group = nogroup
  mode = 0644
EOF
}

# nssw CMD...: CMD with glibc's passwd and group lookups routed by
# nss_wrapper to the built NSS module on this test's store, after the files
# $TMP/passwd and $TMP/group (root only, unless the test writes its own)
nssw() {
	[ -e "$TMP/passwd" ] || printf 'root:x:0:0:root:/root:/bin/bash\n' > "$TMP/passwd"
	[ -e "$TMP/group" ] || printf 'root:x:0:\n' > "$TMP/group"
	env LD_PRELOAD="${RC_PRELOAD:+$RC_PRELOAD:}libnss_wrapper.so" NSS_WRAPPER_PASSWD="$TMP/passwd" NSS_WRAPPER_GROUP="$TMP/group" \
	    NSS_WRAPPER_MODULE_SO_PATH="$NSS_MODULE" NSS_WRAPPER_MODULE_FN_PREFIX=rollcall \
	    ROLLCALL_STATE_DIR="$SD" "$@"
}

# Background processes, killed for certain whatever the timing.
# proc_gone PID: PID has exited (gone, or a zombie waiting to be reaped)
proc_gone() {
	[ ! -e "/proc/$1" ] || [ "$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
# group_wait_leader PID: wait (at most 10 s) until PID, started as
# "setsid PROGRAM &", leads its own process group: before setsid() has run,
# "kill -- -PID" has no group to kill.  Fails with a message otherwise.
group_wait_leader() {
	local pid=$1 n=0
	while [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" != "$pid" ]; do
		if proc_gone "$pid"; then echo "process $pid exited before it had its own process group"; return 1; fi
		n=$((n + 1))
		[ "$n" -gt 1000 ] && { echo "process $pid has no process group of its own after 10 s"; return 1; }
		sleep 0.01
	done
}
# group_kill PGID: SIGKILL to every process of group PGID, reap its leader
# (a child of this shell) and check (at most 10 s) that none is left.
# Fails with a message naming what survived.
group_kill() {
	local g=$1 n=0
	kill -9 -- "-$g" 2>/dev/null
	while ! proc_gone "$g"; do
		n=$((n + 1))
		[ "$n" -gt 1000 ] && { echo "process $g survived SIGKILL for 10 s"; return 1; }
		sleep 0.01
	done
	wait "$g" 2>/dev/null
	n=0
	while pgrep -g "$g" >/dev/null; do
		n=$((n + 1))
		if [ "$n" -gt 1000 ]; then
			echo "process group $g survived SIGKILL: $(ps -o pid=,stat=,args= -g "$g" | head -3 | tr '\n' ';')"
			return 1
		fi
		kill -9 -- "-$g" 2>/dev/null
		sleep 0.01
	done
}
# bg CMD...: CMD (a program or a function) in the background, in a process
# group of its own made before CMD runs (bash's job control: the shell and
# the child both set it), whose id, CMD's pid, is left in BG_PID.  Every
# group bg started is killed on exit (test_exit), however the test ends;
# bg_kill kills one before.
bg() {
	set -m
	"$@" &
	BG_PID=$!
	set +m
	BG_GROUPS="$BG_GROUPS $BG_PID"
}
# daemon_kill PID: a daemon that made a process group of its own (nginx's
# master, PostgreSQL's postmaster), killed with its whole group
daemon_kill() {
	local g
	g=$(ps -o pgid= -p "$1" 2>/dev/null | tr -d ' ')
	if [ -n "$g" ] && [ "$g" != "$(ps -o pgid= -p $$ | tr -d ' ')" ]; then
		kill -9 -- "-$g" 2>/dev/null
		group_kill "$g"
	else
		kill -9 "$1" 2>/dev/null
	fi
}
# bg_forget PGID: a group known to be gone is not killed on exit;
# bg_kill PGID: group_kill it, and forget it
bg_forget() {
	local g rest=
	for g in $BG_GROUPS; do [ "$g" = "$1" ] || rest="$rest $g"; done
	BG_GROUPS=$rest
}
bg_kill() { bg_forget "$1"; group_kill "$1"; }
# wait_bounded PID SECONDS: wait for the background job PID at most
# SECONDS; one still running is killed (SIGKILL) and 124 returned
wait_bounded() {
	local pid=$1 n=$(($2 * 10))
	while ! proc_gone "$pid" && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	if ! proc_gone "$pid"; then
		# (its group when bg started it)
		kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"
}
