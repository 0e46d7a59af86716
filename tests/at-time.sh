#!/bin/sh
# at-time.sh WHEN PROGRAM [ARGS...]: run PROGRAM with its clock moved by
# WHEN ("+61s", "+25h"), or started at the second WHEN ("@1795520970",
# whatever the real clock says), libfaketime preloaded after whatever
# LD_PRELOAD already holds (pam_wrapper, libasan first).
#
# Not the faketime(1) wrapper: it keeps a semaphore and shared memory named
# after its pid in /dev/shm and removes them only when it exits normally.
# A test that SIGKILLs it (fault/crash.sh) leaves them behind, and a later
# wrapper given the same pid fails with "sem_open: File exists".  Here
# PROGRAM replaces this shell (exec), so nothing is kept anywhere.
# Exit 127 when libfaketime is not installed; "at-time.sh --check" says
# whether it is.
lib=${FAKETIME_LIB:-}
if [ -z "$lib" ]; then
	for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib64/faketime/libfaketime.so.1 \
	         /usr/lib/faketime/libfaketime.so.1 /usr/local/lib/faketime/libfaketime.so.1; do
		[ -r "$f" ] && { lib=$f; break; }
	done
fi
if [ -z "$lib" ] || [ ! -r "$lib" ]; then
	echo "at-time.sh: libfaketime.so.1 is not installed (package faketime)" >&2
	exit 127
fi
[ "${1:-}" = --check ] && exit 0
if [ $# -lt 2 ]; then
	echo "usage: at-time.sh +OFFSET|@SECONDS PROGRAM [ARGS...]" >&2
	exit 2
fi
FAKETIME=$1
shift
case $FAKETIME in
@*[!0-9]* | @) ;;
@*) FAKETIME_FMT=%s; export FAKETIME_FMT ;;
esac
# libfaketime makes a semaphore and a shared memory object named after the
# process's pid (/dev/shm/sem.faketime_sem_PID, /dev/shm/faketime_shm_PID)
# and removes them only at a normal exit: a process that _exit()s or is
# killed leaves them behind, and a later one given the same pid (pid_max is
# 32768 here) fails with "shm_open failed: File exists" (seen in
# fault/concurrency.sh, with 1,340 left over in /dev/shm).  The program
# keeps this shell's pid, and no live process can have it: any left with
# it is stale.  rm runs with no preload at all: under libfaketime, a stale
# semaphore of rm's own pid hangs it in sem_wait (seen once).
LD_PRELOAD= rm -f "/dev/shm/sem.faketime_sem_$$" "/dev/shm/faketime_shm_$$" 2>/dev/null
LD_PRELOAD=${LD_PRELOAD:+$LD_PRELOAD:}$lib
export FAKETIME LD_PRELOAD
exec "$@"
