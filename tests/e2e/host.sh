# host.sh - a private copy of the host for the end-to-end tests.
#
# Sourced by tests/e2e/*.sh after tests/lib.sh, as root, inside a
# private mount namespace (unshare -m).  Nothing here reaches the real
# system: /etc and /usr/share/pam-configs get an overlay whose upper layer
# is a tmpfs, and /var/lib, /run and /home a tmpfs each.  Then the tests write
# /etc/nsswitch.conf, /etc/passwd, /etc/shadow, /etc/ld.so.cache,
# /etc/rollcall/rollcall.conf and the PAM configuration as an
# administrator would, and the state directory is the default one,
# /var/lib/rollcall, so that every program (sshd, su, login, id, getent,
# the setuid tool) finds it without being told.

# e2e_fail MESSAGE: the namespace cannot be set up; one failing test.
e2e_fail() { echo "1..1"; echo "not ok 1 - $*"; exit 1; }

# e2e_overlay DIR: DIR becomes writable here, its changes kept in a tmpfs
e2e_overlay() {
	local d=$1 n
	n=$(echo "$d" | tr / _)
	mkdir -p "$TMP/ov/$n/upper" "$TMP/ov/$n/work"
	mount -t overlay "rollcall-e2e$n" \
		-o "lowerdir=$d,upperdir=$TMP/ov/$n/upper,workdir=$TMP/ov/$n/work" "$d" ||
		e2e_fail "cannot mount an overlay on $d"
}

# e2e_cleanup: leave nothing behind (the namespace's mounts go with it)
e2e_cleanup() {
	umount -l /etc /usr/share/pam-configs /usr "$TMP/ov" 2>/dev/null
	[ -n "${E2E_CONF_OUTSIDE:-}" ] && rm -f "$E2E_CONF_OUTSIDE"
	rm -rf "$TMP"
}

# e2e_host: the private host (E2E_USR=1: /usr too).  Sets LOCALPW (the local user's and root's
# password), E2E_UID (the local user's uid) and E2E_SD (the compiled-in
# state directory, empty).
e2e_host() {
	E2E_SD=${RC_DEFAULT_STATE_DIR:-/var/lib/rollcall}
	unset ROLLCALL_CONFIG ROLLCALL_STATE_DIR   # the defaults, as on a host
	at_exit e2e_cleanup
	mkdir -p "$TMP/ov"
	mount -t tmpfs -o mode=0700 rollcall-e2e "$TMP/ov" || e2e_fail "cannot mount a tmpfs"
	e2e_overlay /etc
	if [ -n "${E2E_USR:-}" ]; then
		e2e_overlay /usr            # for "make install"
	elif [ -d /usr/share/pam-configs ]; then
		e2e_overlay /usr/share/pam-configs
	fi
	# /var/lib: empty but for pam-auth-update's record of the host's profiles
	[ -d /var/lib/pam ] && cp -a /var/lib/pam "$TMP/ov/varlib-pam"
	mount -t tmpfs -o mode=0755 rollcall-e2e-varlib /var/lib || e2e_fail "cannot mount /var/lib"
	[ -d "$TMP/ov/varlib-pam" ] && cp -a "$TMP/ov/varlib-pam" /var/lib/pam
	mount -t tmpfs -o mode=0755 rollcall-e2e-run /run || e2e_fail "cannot mount /run"
	# /home: the homes pam_mkhomedir makes at a first login stay in here
	mount -t tmpfs -o mode=0755 rollcall-e2e-home /home || e2e_fail "cannot mount /home"
	if [ "$(dirname "$E2E_SD")" != /var/lib ]; then
		mount -t tmpfs -o mode=0755 rollcall-e2e-sd "$(dirname "$E2E_SD")" ||
			e2e_fail "cannot mount a tmpfs on $(dirname "$E2E_SD")"
	fi
	mkdir -p -m 0755 /run/sshd /var/lib/pam
	chmod 755 "$TMP"

	# a local user and root, both with a known password, for pam_unix
	LOCALPW='local password 1'
	local hash
	hash=$(printf '%s\n' "$LOCALPW" | openssl passwd -6 -stdin) || e2e_fail "openssl passwd"
	E2E_UID=1999
	while getent passwd "$E2E_UID" >/dev/null || getent group "$E2E_UID" >/dev/null; do
		E2E_UID=$((E2E_UID + 1))
	done
	mkdir -m 0755 "$TMP/localhome" && chown "$E2E_UID:$E2E_UID" "$TMP/localhome"
	echo "localuser:x:$E2E_UID:$E2E_UID:Local User:$TMP/localhome:/bin/bash" >> /etc/passwd
	echo "localuser:x:$E2E_UID:" >> /etc/group
	sed -i '/^root:/d' /etc/shadow
	echo "root:$hash:19000:0:99999:7:::" >> /etc/shadow
	echo "localuser:$hash:19000:0:99999:7:::" >> /etc/shadow
}

# e2e_stage FILE...: copies of FILEs in $TMP/stage (0755; files 0644, or
# 0755 when executable), for the processes of this test that are not root
# (a member's ssh session loading the NSS module, converse.py run as the
# local user): the build tree may be where they cannot read it (a clone
# under /root, mode 0700).  Prints nothing; the copy of FILE is
# $TMP/stage/$(basename FILE).  Then every copy is read as the local user,
# and one that cannot be is a failing test naming the path.
e2e_stage() {
	local f dst
	mkdir -p -m 0755 "$TMP/stage"
	for f in "$@"; do
		dst=$TMP/stage/$(basename "$f")
		if [ -x "$f" ]; then install -m 0755 "$f" "$dst"; else install -m 0644 "$f" "$dst"; fi ||
			e2e_fail "cannot copy $f to $dst"
		setpriv --reuid="$E2E_UID" --regid="$E2E_UID" --clear-groups test -r "$dst" ||
			e2e_fail "$dst is not readable by the local user (uid $E2E_UID): check the modes of $(dirname "$dst") and its parents"
	done
}

# e2e_configure: rollcall on this host with the modules from the build:
# the NSS module through the loader's cache, nsswitch.conf, rollcall.conf
e2e_configure() {
	# the NSS module from the build, found by every program through the
	# loader's cache (not LD_LIBRARY_PATH, which sshd's sessions drop);
	# a copy every user can read (members' sessions load it)
	if [ -n "${NSS_MODULE:-}" ]; then
		e2e_stage "$NSS_MODULE"
		NSS_MODULE=$TMP/stage/$(basename "$NSS_MODULE")
		echo "$TMP/stage" > /etc/ld.so.conf.d/0-rollcall-test.conf
		ldconfig -X || e2e_fail "ldconfig"
	fi
	sed -i -e 's/^passwd:.*/passwd:         files rollcall/' \
	       -e 's/^group:.*/group:          files rollcall/' /etc/nsswitch.conf
	local conf=${RC_DEFAULT_CONFIG:-/etc/rollcall/rollcall.conf}
	case $conf in /etc/*) ;; *) E2E_CONF_OUTSIDE=$conf ;; esac   # (make distcheck's)
	mkdir -p -m 0755 "$(dirname "$conf")" "$TMP/home"
	cat > "$conf" <<-EOF
	# the end-to-end tests' host
	home_base = $TMP/home
	service_shell = /bin/bash
	EOF
	chmod 644 "$conf"
}

# e2e_converse: CONVERSE, the command that runs a program on a terminal
# and answers its prompts (tests/e2e/converse.py), from a copy the local
# user can read (su is driven as that user)
e2e_converse() {
	e2e_stage "$top_srcdir/tests/e2e/converse.py"
	CONVERSE="/usr/bin/python3 $TMP/stage/converse.py"
}

# e2e_pam_profile MODULE: pam-auth-update with rollcall's profile, naming
# MODULE (a path) instead of the installed pam_rollcall.so
e2e_pam_profile() {
	sed "s|pam_rollcall.so|$1|" "$top_srcdir/pam_module/pam-config" > /usr/share/pam-configs/rollcall
	pam-auth-update --enable rollcall --force >"$TMP/pam-auth-update.log" 2>&1 ||
		e2e_fail "pam-auth-update --enable rollcall: $(cat "$TMP/pam-auth-update.log")"
}
