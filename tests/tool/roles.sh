#!/bin/bash
# Roles: the built-in matrix, custom roles that reproduce the other seeds'
# models (Editor/Viewer; Root/Admin/Developer), and the rules on deletion.
. "$(dirname "$0")/../lib.sh"
require_root "rollcall init"
init_store

expect 0 "role list --json" rc --json role list
row() { json "[(r['invite'],r['billing'],r['manage_services'],r['start_stop'],r['view']) for r in d if r['role']=='$1'][0]"; }
# The seed's table: invite, billing, manage services, start/stop, view.
check "admin: yes yes yes yes yes" test "$(row admin)" = "(True, True, True, True, True)"
check "operator: no no yes yes yes" test "$(row operator)" = "(False, False, True, True, True)"
check "developer: yes no yes no yes" test "$(row developer)" = "(True, False, True, False, True)"
check "read-only: no no no no yes" test "$(row read-only)" = "(False, False, False, False, True)"
check "owner: everything" test "$(json "[r['audit'] and r['billing'] and r['manage_members'] for r in d if r['role']=='owner'][0]")" = True
check "ranks, highest first" test "$(json "[r['rank'] for r in d]")" = "[100, 80, 60, 40, 20]"
expect_out 0 '^\| ROLE +\| RANK +\| VIEW' "role list as a table" rc role list

# VictoriaMetrics: Admin, Editor (deployments, notifications, audit logs), Viewer.
expect_out 0 'Role editor created' "create editor" rc role create editor --rank 50 --permissions view,manage-services,start-stop,audit
expect_out 0 'Role viewer created' "create viewer" rc role create viewer --rank 10 --permissions view
expect_out 0 'permissions: +view,manage-services,start-stop,audit' "role show editor" rc role show editor
expect_out 0 'group: +rollcall-viewer' "a role has its group" rc role show viewer
# Seed 003: Root (owner), an Admin that may only view billing and other users,
# and a Developer for pipelines without billing or other users.
expect 0 "create org-admin" rc role create org-admin --rank 90 --permissions view,members,invite,manage-services,start-stop,billing-view,audit
expect 0 "create org-developer" rc role create org-developer --rank 30 --permissions view,manage-services,start-stop
expect 0 "role list" rc --json role list
check "org-admin views billing but cannot change it" test "$(json "[(r['billing_view'], r['billing'], r['members'], r['manage_members']) for r in d if r['role']=='org-admin'][0]")" = "(True, False, True, False)"
check "org-developer: no billing, no members" test "$(json "[(r['billing_view'], r['members'], r['start_stop']) for r in d if r['role']=='org-developer'][0]")" = "(False, False, True)"
check "custom roles are not built in" test "$(json "[r['built_in'] for r in d if r['role']=='editor'][0]")" = False

expect_err 1 'role "editor" already exists' "role names are unique" rc role create editor --rank 5 --permissions none
expect_err 1 'unknown permission "fly"' "unknown permission refused" rc role create pilot --rank 5 --permissions view,fly
expect_err 1 'rank: number "100" out of range' "rank 100 is reserved" rc role create boss --rank 100 --permissions view
expect_err 1 'rank: number "0" out of range' "rank 0 refused" rc role create low --rank 0 --permissions view
expect_err 1 'role name "Pilot" must start with a lowercase letter' "bad role name" rc role create Pilot --rank 5 --permissions view
expect_err 2 'role create needs --rank N and --permissions' "missing options" rc role create pilot
expect_err 1 'role "admin" is built in and cannot be deleted' "built-ins cannot be deleted" rc role delete admin
invite_accept erin editor
expect_err 1 'role "editor" is in use by member erin' "a role in use cannot be deleted" rc role delete editor
rc member invite zed@example.com --role viewer >/dev/null
expect_err 1 'role "viewer" is in use by (member zed|the invitation of zed)' "a role of a pending invitation is in use" rc role delete viewer
rc member withdraw zed >/dev/null
expect_out 0 'Role viewer deleted' "an unused custom role is deleted" rc role delete viewer
expect_err 1 'no role named "viewer"' "it is gone" rc role show viewer

done_testing
