# tests/pam/lib.sh - the PAM helpers of the suite, in one place: service
# files, the driver (pamdrive through pam_wrapper, or through the real
# Linux-PAM), and logins at an injected time.  Sourced by tests/lib.sh
# (every suite has them); uses its $TMP, $SD, $AT_TIME and $PAM_WRAP.
#
#   PAMD                the test's PAM service directory ($TMP/pamd)
#   pam_service NAME [OPTION...]
#                       $PAMD/NAME: the four phases call the built module
#                       on this test's store with nodelay (the suite fails
#                       logins on purpose) and the OPTIONs
#   pam_services DIR NAME[:OPTION,...]...
#                       the same, several at once, in DIR
#   real_pam_services DIR
#                       the real Linux-PAM reads DIR (bind-mounted on
#                       /etc/pam.d: root, in the test's private mount
#                       namespace); pd then runs pamdrive without pam_wrapper
#   pd ARGS...          pamdrive ARGS (PD_TIMEOUT=N: killed after N s)
#   pd_at WHEN ARGS...  pamdrive at an injected time: WHEN is at-time.sh's
#                       (+61s, @1795520970); a bare 61s means +61s
PAMD=$TMP/pamd
PAM_REAL=
PD_TIMEOUT=

pam_service() {
	local name=$1 t
	shift
	mkdir -p "$PAMD"
	for t in auth account password session; do
		echo "$t required ${PAM_MODULE:?} state_dir=$SD config=$TMP/rollcall.conf nodelay $*"
	done > "$PAMD/$name"
}

pam_services() {
	local dir=$1 spec name opts t
	shift
	mkdir -p "$dir"
	for spec in "$@"; do
		name=${spec%%:*}
		opts=; [ "$name" != "$spec" ] && opts=$(echo "${spec#*:}" | tr , ' ')
		for t in auth account password session; do
			echo "$t required ${PAM_MODULE:?} state_dir=$SD config=$TMP/rollcall.conf nodelay $opts"
		done > "$dir/$name"
	done
}

real_pam_services() {
	if mount --bind "$1" /etc/pam.d; then
		PAM_REAL=1
		return 0
	fi
	echo "1..1"; echo "not ok 1 - cannot bind-mount the test's PAM services on /etc/pam.d"; exit 0
}

# (the sanitizer build's runtime first in LD_PRELOAD, pam_wrapper's lock)
pd_run() {
	if [ -n "$PAM_REAL" ]; then
		env ${RC_PRELOAD:+LD_PRELOAD=$RC_PRELOAD} ${PD_TIMEOUT:+timeout $PD_TIMEOUT} "$@"
	else
		"$PAM_WRAP" "$PAMD" ${PD_TIMEOUT:+timeout $PD_TIMEOUT} "$@"
	fi
}
pd() { pd_run "${PAMDRIVE:?}" "$@"; }
pd_at() {
	local when=$1
	shift
	case $when in [+@-]*) ;; *) when=+$when ;; esac
	pd_run "$AT_TIME" "$when" "${PAMDRIVE:?}" "$@"
}
