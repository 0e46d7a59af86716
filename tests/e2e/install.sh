#!/bin/bash
# README's "Install on a host", run as written (between its install:begin
# and install:end marks) in a private mount namespace where /usr and /etc
# are overlays (tests/e2e/host.sh): configure --prefix=/usr, make install,
# ldconfig, init, nsswitch.conf, pam-auth-update, sshd_config.d, doctor.
# Then the installed binaries: the setuid tool as a member, the NSS module
# through glibc, the PAM module through su's own stack (an owner's first
# login with the invitation code and a new password), bash completion;
# and the way back: pam-auth-update --remove and make uninstall.  Root
# only: elsewhere it skips and says why (in CI, a skip is a failure).
if [ -z "${RC_IN_NAMESPACE:-}" ] && [ "$(id -u)" = 0 ]; then
	export RC_IN_NAMESPACE=1
	exec unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
require_root "make install into a private mount namespace"
: "${top_srcdir:?}"
for prog in pam-auth-update ldconfig /usr/bin/python3 pkg-config; do
	command -v "$prog" >/dev/null || { echo "1..1"; echo "not ok 1 - $prog is missing"; exit 1; }
done
[ -f /usr/share/bash-completion/bash_completion ] ||
	{ echo "1..1"; echo "not ok 1 - bash-completion is missing (scripts/deps.sh installs it)"; exit 1; }
. "$top_srcdir/tests/e2e/host.sh"
E2E_USR=1 e2e_host
e2e_converse
unset ROLLCALL NSS_MODULE PAM_MODULE   # only what is installed, from here on

# ---- README's steps, as written
mkdir "$TMP/build"
sed -n '/<!-- install:begin -->/,/<!-- install:end -->/p' "$top_srcdir/README.md" |
	sed -n 's/^    //p' > "$TMP/steps"
check "README has the install steps" test "$(wc -l < "$TMP/steps")" -ge 8
n=0
while IFS= read -r step; do
	n=$((n + 1))
	case $step in
	*scripts/deps.sh*) continue ;;           # the packages: the test command's own first step
	*systemctl*) continue ;;                  # no service manager here; sshd is not running
	esac
	cmd=$(printf '%s\n' "$step" | sed -e 's/^sudo //' -e 's/| sudo /| /' \
		-e "s|^\\./configure|'$top_srcdir/configure'|")
	(cd "$TMP/build" && bash -c "$cmd") > "$TMP/step.$n.log" 2>&1
	st=$?
	if [ "$st" = 0 ]; then
		ok "README step: $step"
	else
		tail -20 "$TMP/step.$n.log" > "$TMP/tail"; OUT=$TMP/tail ERR=/dev/null
		not_ok "README step: $step (exit $st)"
	fi
done < "$TMP/steps"
cp "$TMP/step.$(grep -n 'rollcall doctor' "$TMP/steps" | cut -d: -f1).log" "$TMP/doctor.out" 2>/dev/null
check "... rollcall doctor finds no problem" grep -q '^0 problems' "$TMP/doctor.out"
check "... and checked the PAM stacks of sshd, login and su" \
	sh -c "grep -c '^ok  *PAM  *.*auth, account, password' '$TMP/doctor.out' | grep -qx 3"
check "... and found that the session stacks of sshd and login make members' homes" \
	sh -c "grep -c '^ok  *homes  *.*: the session makes a missing home under /home' '$TMP/doctor.out' | grep -qx 2"

# ---- doctor names what is wrong, and what to change
chmod 0700 "$E2E_SD"
expect_out 1 'FAIL +state directory +.*mode 0700: other users cannot read' \
	"doctor: a state directory other users cannot enter (exit 1)" rollcall doctor
check "... and says how to mend it" grep -q 'fix: chmod 0755' "$OUT"
chmod 0755 "$E2E_SD"
cp /etc/pam.d/common-account "$TMP/common-account"
sed -i '/pam_rollcall.so/d' /etc/pam.d/common-account
expect_out 1 'sshd: pam_rollcall.so authenticates but is not in the account stack' \
	"doctor: no account line (deactivated members would log in)" rollcall doctor
cp "$TMP/common-account" /etc/pam.d/common-account
sed -i 's/^KbdInteractiveAuthentication yes/KbdInteractiveAuthentication no/' /etc/ssh/sshd_config.d/rollcall.conf
expect_out 1 'FAIL +sshd +KbdInteractiveAuthentication is no' "doctor: sshd cannot ask for codes" rollcall doctor
sed -i 's/^KbdInteractiveAuthentication no/KbdInteractiveAuthentication yes/' /etc/ssh/sshd_config.d/rollcall.conf
sed -i 's/^passwd:.*/passwd: files/' /etc/nsswitch.conf
expect_out 1 '"check":"nsswitch.conf","status":"FAIL"' "doctor --json: nsswitch.conf without rollcall" rollcall --json doctor
sed -i 's/^passwd:.*/passwd: files systemd rollcall/' /etc/nsswitch.conf
cp /etc/pam.d/common-session "$TMP/common-session"
sed -i '/pam_mkhomedir.so/d' /etc/pam.d/common-session
expect_out 0 'warn +homes +/etc/pam.d/sshd: no pam_mkhomedir.so in the session stack' \
	"doctor: no home made at login (sshd), a warning" rollcall doctor
check "... and login" grep -Eq 'warn +homes +/etc/pam.d/login: no pam_mkhomedir.so' "$OUT"
check "... naming what to change" grep -q 'fix: run "pam-auth-update --enable rollcall" again' "$OUT"
check "... counted" grep -q '^0 problems, 2 warnings' "$OUT"
cp "$TMP/common-session" /etc/pam.d/common-session
check "doctor: the helper is setuid root" grep -Eq '^ok +helper +/usr/libexec/rollcall/rollcall-chkpwd \(mode 4755\)' "$OUT"
expect 0 "a service that runs as www-data" rollcall service create web1 --runs-as www-data
expect_out 0 '^ok +helper caller +service web1 runs as www-data, who can run the helper' \
	"doctor: its daemon user can reach the helper" rollcall doctor
chmod 4750 /usr/libexec/rollcall/rollcall-chkpwd
expect_out 1 '^FAIL +helper caller +service web1 runs as www-data, who cannot run /usr/libexec/rollcall/rollcall-chkpwd \(mode 4750' \
	"doctor: a service whose daemon user cannot run the helper" rollcall doctor
check "... says how to mend it" grep -q 'fix: chmod 4755 /usr/libexec/rollcall/rollcall-chkpwd' "$OUT"
chmod 4755 /usr/libexec/rollcall/rollcall-chkpwd
chmod u-s /usr/libexec/rollcall/rollcall-chkpwd
expect_out 1 '^FAIL +helper +/usr/libexec/rollcall/rollcall-chkpwd must be a file of root.s, setuid' \
	"doctor: a helper that is not setuid" rollcall doctor
chmod 4755 /usr/libexec/rollcall/rollcall-chkpwd
cp /etc/rollcall/rollcall.conf "$TMP/rollcall.conf.keep"
echo "member_callers = nosuchcaller" >> /etc/rollcall/rollcall.conf
expect_out 1 '^FAIL +helper caller +member_callers names nosuchcaller, a user this host does not have' \
	"doctor: member_callers naming a user the host lacks" rollcall doctor
cp "$TMP/rollcall.conf.keep" /etc/rollcall/rollcall.conf
rollcall service stop web1 >/dev/null
expect 0 "the service is deleted" rollcall service delete web1
expect_out 0 '^0 problems' "doctor is content again" rollcall doctor
check "... without a warning" grep -q '^0 problems, 0 warnings' "$OUT"

# ---- what was installed
PAMDIR=$(pkg-config --variable=libdir pam)/security
check "rollcall is in /usr/sbin, setuid root" test "$(stat -c %a:%U /usr/sbin/rollcall)" = 4755:root
check "pam_rollcall.so is in the PAM module directory ($PAMDIR)" test -f "$PAMDIR/pam_rollcall.so"
check "its helper rollcall-chkpwd is in /usr/libexec/rollcall, setuid root" \
	test "$(stat -c %a:%U /usr/libexec/rollcall/rollcall-chkpwd)" = 4755:root
check "... without its .la" test ! -e "$PAMDIR/pam_rollcall.la"
check "libnss_rollcall.so.2 is in the library directory" test -f /usr/lib/libnss_rollcall.so.2
check "the man pages" test -f /usr/share/man/man8/rollcall.8 -a -f /usr/share/man/man8/pam_rollcall.8 \
	-a -f /usr/share/man/man8/nss_rollcall.8 -a -f /usr/share/man/man5/rollcall.conf.5
check "the commented sample /etc/rollcall/rollcall.conf (0644, root)" \
	sh -c "test \"\$(stat -c %a:%U /etc/rollcall/rollcall.conf)\" = 644:root && grep -q '^#id_min = 200000' /etc/rollcall/rollcall.conf"
check "the pam-auth-update profile" test -f /usr/share/pam-configs/rollcall
check "... and common-session makes homes (pam_mkhomedir.so umask=0077)" \
	grep -Eq '^session[[:space:]]+optional[[:space:]]+pam_mkhomedir.so umask=0077' /etc/pam.d/common-session
check "... enabled: common-auth calls pam_rollcall.so after pam_unix" \
	sh -c "grep -n 'pam_unix.so\\|pam_rollcall.so' /etc/pam.d/common-auth | head -2 | tail -1 | grep -q pam_rollcall.so"
check "... and common-account, common-password and common-session call it" \
	sh -c "grep -l pam_rollcall.so /etc/pam.d/common-account /etc/pam.d/common-password /etc/pam.d/common-session | wc -l | grep -qx 3"
check "bash completion is installed" test -f /usr/share/bash-completion/completions/rollcall
check "the state directory is 0755, the store 0700" \
	test "$(stat -c %a "$E2E_SD"):$(stat -c %a "$E2E_SD/store")" = 755:700

# ---- the installed binaries at work
expect_out 0 '^you:\*:[0-9]+:' "getent passwd you: the owner, through the installed NSS module" getent passwd you
CODE=$(grep -A2 'the invitation code is' "$TMP/step.$(grep -n 'rollcall init' "$TMP/steps" | cut -d: -f1).log" | sed -n 's/^    \([A-Za-z0-9-]\{6,\}\)$/\1/p' | head -1)
check "init printed the owner's invitation code" test -n "$CODE"
su_as() { setpriv --reuid=localuser --regid=localuser --clear-groups $CONVERSE "$@" -- su - you -c 'echo RAN; id'; }
run su_as -a "$CODE" -a 'you chose this password' -a 'you chose this password'
if [ "$st" = 0 ] && grep -q 'RAN' "$OUT"; then
	ok "the owner's first login (su, Debian's stack): the invitation code, then a new password"
else
	not_ok "the owner's first login with su"
fi
run su_as -a 'you chose this password'
if [ "$st" = 0 ] && grep -q '(you).*rollcall-owner' "$OUT"; then
	ok "... then su with the new password: id shows rollcall-owner"
else
	not_ok "su with the new password"
fi
YOU=$(id -u you)
check "... her home /home/you was made at that first login: hers, mode 0700" \
	test "$(stat -c %u:%g:%a /home/you 2>&1)" = "$YOU:$(id -g you):700"
expect_out 0 'you' "the setuid tool, run by the owner's uid, knows the owner" \
	setpriv --reuid="$YOU" --regid="$YOU" --clear-groups rollcall whoami
expect_err 3 'only root' "... and refuses --state-dir to it" \
	setpriv --reuid="$YOU" --regid="$YOU" --clear-groups rollcall --state-dir "$TMP" member list
expect_out 0 'Invitation code' "... an owner invites (as herself)" \
	setpriv --reuid="$YOU" --regid="$YOU" --clear-groups rollcall member invite bob@example.com --role developer
run sh -c "printf '%s\n' '$LOCALPW' | pamtester login localuser authenticate acct_mgmt"
if [ "$st" = 0 ]; then ok "local users still log in through login's stack"; else not_ok "pamtester login localuser"; fi
complete_of() {
	bash -c '. /usr/share/bash-completion/bash_completion
		. /usr/share/bash-completion/completions/rollcall
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_rollcall; echo "${COMPREPLY[*]}"' _ "$@"
}
check "bash completion: rollcall serv<TAB>" test "$(complete_of rollcall serv)" = "service service-user"
check "bash completion: rollcall member de<TAB>" test "$(complete_of rollcall member de)" = "deactivate delete"
check "bash completion: rollcall member show <TAB> names members" \
	sh -c "echo '$(complete_of rollcall member show '')' | grep -qw you"

# ---- the way back
expect 0 "pam-auth-update --remove rollcall" pam-auth-update --remove rollcall
check "... common-* no longer call pam_rollcall.so" sh -c "! grep -q pam_rollcall.so /etc/pam.d/common-*"
sed -i 's/ rollcall$//' /etc/nsswitch.conf
run sh -c "cd '$TMP/build' && make uninstall"
if [ "$st" = 0 ]; then ok "make uninstall"; else not_ok "make uninstall"; fi
for f in /usr/sbin/rollcall "$PAMDIR/pam_rollcall.so" /usr/lib/libnss_rollcall.so.2 \
	/usr/lib/libnss_rollcall.so.2.0.0 /usr/share/man/man8/rollcall.8 \
	/usr/share/pam-configs/rollcall /usr/share/bash-completion/completions/rollcall \
	/etc/rollcall/rollcall.conf /usr/libexec/rollcall/rollcall-chkpwd /usr/libexec/rollcall; do
	[ -e "$f" ] && left="${left:-} $f"
done
check "... removed every file it installed${left:+ (left:$left)}" test -z "${left:-}"
check "... and left the state directory" test -f "$E2E_SD/store/data.mdb"
run sh -c "printf '%s\n' '$LOCALPW' | pamtester login localuser authenticate acct_mgmt"
if [ "$st" = 0 ]; then ok "local users log in after the removal"; else not_ok "pamtester login localuser after removal"; fi

done_testing
