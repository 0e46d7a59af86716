#!/bin/sh
# pam-wrap.sh SERVICE_DIR PROGRAM [ARGS...]: run PROGRAM (pamdrive,
# pamtester, valgrind pamdrive, at-time.sh ... pamdrive) with pam_wrapper,
# the PAM services being the files in SERVICE_DIR; libasan (RC_PRELOAD)
# stays first in LD_PRELOAD.
#
# One at a time in a build directory: pam_wrapper copies the services into
# a directory /tmp/pam.X of its own (62 names), and a process that finds
# one it takes for stale removes it.  PAM tests running side by side
# (make -j2) raced for them: a login read another test's service file
# ("USER_UNKNOWN"), or none.  The lock is held while PROGRAM runs.
: "${PAM_WRAPPER_LIB:?pam-wrap.sh: PAM_WRAPPER_LIB is not set}"
if [ $# -lt 2 ]; then
	echo "usage: pam-wrap.sh SERVICE_DIR PROGRAM [ARGS...]" >&2
	exit 2
fi
dir=$1
shift
lockdir=${top_builddir:+$top_builddir/tests}
[ -d "$lockdir" ] || lockdir=${TMPDIR:-/tmp}
# flock first: pam_wrapper sets its directory up as soon as it is loaded
exec flock "$lockdir/pam_wrapper.lock" env LD_PRELOAD="${RC_PRELOAD:+$RC_PRELOAD:}$PAM_WRAPPER_LIB" \
	PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$dir" "$@"
