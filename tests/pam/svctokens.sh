#!/bin/bash
# Service users' tokens (a token belongs to a uid, never to a name): a
# service user's session token (pam_rollcall session_token, through
# pam_wrapper + pamdrive) is refused after "service-user update-password",
# after a rename, after a revoke by an admin, and after the user is removed
# and another service gets a user of the same name; "token list|revoke|
# revoke-all --service-user" work for a member with manage-services (the
# setuid tool run as the member's uid, as permissions.sh does) and are
# refused to a member without it.  Root only: elsewhere it skips and says
# why.
. "$(dirname "$0")/../lib.sh"
require_root "running the tool setuid as members' uids in a mount namespace"
: "${PAM_MODULE:?}" "${PAMDRIVE:?}" "${PAM_WRAPPER_LIB:?}"
DEFAULT_SD=${RC_DEFAULT_STATE_DIR:-/var/lib/rollcall}
if [ -z "${RC_IN_NAMESPACE:-}" ]; then
	export RC_IN_NAMESPACE=1 ROLLCALL
	exec unshare --mount --propagation private bash "$0" "$@"
fi
setuid_host
rc settings set argon2.opslimit 1 >/dev/null
rc settings set argon2.memlimit_kib 8192 >/dev/null
invite_accept erin admin
invite_accept rob read-only

pam_service rollcall-test
pam_service rc-session session_token
drive() { local desc=$1; shift; run pd "$@"; if [ "$st" = 0 ]; then ok "$desc"; else not_ok "$desc"; fi; }

SVCPW='dbuser1 password 0123456789abc'
rc service create analytics >/dev/null
rc service create other >/dev/null
printf '%s\n' "$SVCPW" | rc service-user create analytics dbuser1 --password-stdin >/dev/null
# session USER: a PAM session with session_token; the token in $TOKEN, its id in $TID
session() {
	TOKEN=; TID=
	if pd -s rc-session -a "$SVCPW" "$1" auth=SUCCESS acct=SUCCESS open=SUCCESS env=SUCCESS >"$OUT" 2>"$ERR"; then
		TOKEN=$(sed -n 's/^env: ROLLCALL_TOKEN=//p' "$OUT")
		TID=${TOKEN:4:16}
	fi
	[ -n "$TOKEN" ]
}

# ---- the session token works, and is an admin's to list
check "a service user's PAM session exports a session token" session dbuser1
drive "... which logs dbuser1 in" -a "$TOKEN" dbuser1 auth=SUCCESS acct=SUCCESS
expect_out 0 "$TID.*login.*session" "an admin lists dbuser1's tokens (token list --service-user)" as erin token list --service-user dbuser1
expect_err 3 'does not have the manage-services permission' "a read-only member cannot list them" as rob token list --service-user dbuser1
expect_err 3 'manage-services' "... nor revoke one" as rob token revoke "$TID" --service-user dbuser1
expect_err 3 'manage-services' "... nor revoke them all" as rob token revoke-all --service-user dbuser1
expect_err 1 'no member named "dbuser1": it is a service user \(--service-user\)' "--member names members only, and says which option to use" as erin token list --member dbuser1
expect_err 2 'one of --member and --service-user' "--member and --service-user together is a usage error" as erin token list --member erin --service-user dbuser1
expect_err 1 'no service user named "nosuch_user"' "an unknown service user is refused" as erin token list --service-user nosuch_user
expect_out 0 "$TID" "root lists dbuser1's tokens too" rc token list --service-user dbuser1
drive "... and the token still logs in after those refusals" -a "$TOKEN" dbuser1 auth=SUCCESS

# ---- a new password
printf '%s\n' 'dbuser1 password 2 0123456789ab' | rc service-user update-password analytics dbuser1 --password-stdin >/dev/null
SVCPW='dbuser1 password 2 0123456789ab'
drive "update-password revokes the service user's session token" -a "$TOKEN" dbuser1 auth=AUTH_ERR

# ---- a rename
session dbuser1
expect 0 "rename dbuser1 to dbuser2" rc service-user set analytics dbuser1 --name dbuser2
drive "the rename revokes the session token (under the new name)" -a "$TOKEN" dbuser2 auth=AUTH_ERR
rc service-user set analytics dbuser2 --name dbuser1 >/dev/null
drive "... and under the old name, given back" -a "$TOKEN" dbuser1 auth=AUTH_ERR

# ---- revoked by an admin
session dbuser1
expect 0 "an admin revokes a service user's token (token revoke ID --service-user)" as erin token revoke "$TID" --service-user dbuser1
drive "... so it no longer logs in" -a "$TOKEN" dbuser1 auth=AUTH_ERR
session dbuser1
expect_out 0 '"revoked":1' "an admin revokes all of them (token revoke-all --service-user)" as erin --json token revoke-all --service-user dbuser1
drive "... so it no longer logs in" -a "$TOKEN" dbuser1 auth=AUTH_ERR
expect_out 0 '^\[\]$' "... and none is left" as erin --json token list --service-user dbuser1

# ---- removed, and a user of the same name in another service
session dbuser1
OLD=$TOKEN
expect 0 "delete analytics/dbuser1" rc service-user delete analytics dbuser1
printf '%s\n' "$SVCPW" | rc service-user create other dbuser1 --password-stdin >/dev/null
drive "other/dbuser1 logs in with its password" -a "$SVCPW" dbuser1 auth=SUCCESS
drive "analytics/dbuser1's old token does not log in other/dbuser1" -a "$OLD" dbuser1 auth=AUTH_ERR
expect_out 0 '^\[\]$' "... and other/dbuser1 has no token" as erin --json token list --service-user dbuser1

done_testing
