#!/bin/bash
# PostgreSQL 15 authenticates a service user through pam_rollcall without
# root (issue 16): PostgreSQL runs PAM as postgres, which cannot read the
# store; the module asks rollcall-chkpwd.  As root, in a private mount
# namespace: the test store on the compiled-in state directory
# (setuid_host), this test's PAM service "postgresql" on /etc/pam.d naming
# a setuid-root copy of the helper, a cluster made by initdb as postgres in
# a temporary directory, listening on 127.0.0.1 at a free high port with
# pg_hba "host all all 127.0.0.1/32 pam pamservice=postgresql"; psql logs
# in.  The server is stopped by its pid.  Root only.
. "$(dirname "$0")/../lib.sh"
require_root "a PostgreSQL server run as postgres, and /etc/pam.d in a mount namespace"
: "${PAM_MODULE:?}" "${RC_CHKPWD:?}"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
for prog in "$PGBIN/initdb" "$PGBIN/pg_ctl" psql; do
	command -v "$prog" >/dev/null ||
		{ echo "1..1"; echo "not ok 1 - $prog is missing (scripts/deps.sh installs postgresql)"; exit 1; }
done
getent passwd postgres >/dev/null ||
	{ echo "1..1"; echo "not ok 1 - no user postgres (scripts/deps.sh installs postgresql)"; exit 1; }
if [ -z "${RC_PG_NS:-}" ]; then
	export RC_PG_NS=1 ROLLCALL
	exec unshare --mount --propagation private bash "$0" "$@"
fi
setuid_host
stage_helper
pam_services "$PAMD" "postgresql:helper=$HELPER"
real_pam_services "$PAMD"
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null

# ---- the cluster, as postgres
PG=$TMP/pg
mkdir -m 700 "$PG" && chown postgres: "$PG"
pg() { setpriv --reuid=postgres --regid=postgres --init-groups env -i PATH=/usr/bin:/bin "$@"; }
pg "$PGBIN/initdb" -D "$PG/data" -A trust -U postgres >"$TMP/initdb.log" 2>&1 ||
	{ echo "1..1"; echo "not ok 1 - initdb failed: $(tail -3 "$TMP/initdb.log" | tr '\n' ' ')"; exit 1; }
cat > "$PG/data/pg_hba.conf" <<EOF
local all postgres trust
host all all 127.0.0.1/32 pam pamservice=postgresql
EOF
PORT=$((20000 + RANDOM % 20000))
while ss -ltn | grep -q ":$PORT "; do PORT=$((PORT + 1)); done
pg "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/log" -w -t 60 \
	-o "-p $PORT -k $PG -c listen_addresses=127.0.0.1" start >"$TMP/pgctl.log" 2>&1 ||
	{ echo "1..1"; echo "not ok 1 - the server did not start: $(tail -3 "$PG/log" | tr '\n' ' ')"; exit 1; }
PGPID=$(head -1 "$PG/data/postmaster.pid")
at_exit 'daemon_kill "$PGPID" >&2'
sql() { pg psql -X -q -h "$PG" -p "$PORT" -U postgres -d postgres -At -c "$1"; }

# ---- a service that runs as postgres, and its user
expect 0 "service create db1 --runs-as postgres" rc service create db1 --runs-as postgres
expect 0 "another service, run by no one" rc service create db2
printf '%s\n' 'db1 app password 1234567890' | rc service-user create db1 db1_app --password-stdin >/dev/null
printf '%s\n' 'db2 app password 1234567890' | rc service-user create db2 db2_app --password-stdin >/dev/null
invite_accept mona developer
sql "CREATE ROLE db1_app LOGIN; CREATE ROLE db2_app LOGIN; CREATE ROLE mona LOGIN" >/dev/null 2>&1
check "set-up: the roles exist in PostgreSQL" sh -c "[ \"\$(setpriv --reuid=postgres --regid=postgres --init-groups psql -X -h '$PG' -p $PORT -U postgres -d postgres -At -c \"select count(*) from pg_roles where rolname in ('db1_app','db2_app','mona')\")\" = 3 ]"

# psql_as USER PASSWORD: psql over TCP, the password in the environment
# of psql only (as a client would pass it)
psql_as() { env -i PATH=/usr/bin:/bin PGPASSWORD="$2" psql -X -w -h 127.0.0.1 -p "$PORT" -U "$1" -d postgres -At -c 'select current_user'; }
expect_out 0 '^db1_app$' "the service user of a service run as postgres logs in with psql" psql_as db1_app 'db1 app password 1234567890'
check "... audited through the helper, by postgres's uid" \
	sh -c "$ROLLCALL --config $TMP/rollcall.conf --state-dir $SD audit --limit 5 | grep -Eq 'login +\| db1_app +\| ok via password +\| pam:postgresql via helper, uid $(id -u postgres)'"
expect 2 "a wrong password is refused" psql_as db1_app 'not the password 1234567890'
check "... with PostgreSQL's own message" grep -q 'PAM authentication failed for user "db1_app"' "$ERR"
rc audit --limit 3 > "$TMP/audit"
check "... audited as a failure" grep -Eq 'login +\| db1_app +\| failed' "$TMP/audit"
expect 2 "another service's user is refused to postgres" psql_as db2_app 'db2 app password 1234567890'
check "... audited as not allowed" sh -c "$ROLLCALL --config $TMP/rollcall.conf --state-dir $SD audit --limit 5 | grep -Eq 'db2_app .*uid $(id -u postgres) may not verify'"
expect 2 "and a member, postgres not being in member_callers" psql_as mona 'mona password 12345'
expect 0 "service set db2 --runs-as postgres" rc service set db2 --runs-as postgres
expect_out 0 '^db2_app$' "... then db2's user logs in" psql_as db2_app 'db2 app password 1234567890'
rc service stop db1 >/dev/null
expect 2 "a stopped service's user is refused" psql_as db1_app 'db1 app password 1234567890'
rc service start db1 >/dev/null

run pg "$PGBIN/pg_ctl" -D "$PG/data" -m fast -w -t 30 stop
check "the server stops" proc_gone "$PGPID"
done_testing
