#!/bin/sh
# Install the Debian 12 packages rollcall builds and tests with (as root).
set -e
if [ "$(id -u)" != 0 ]; then
	echo "scripts/deps.sh: run as root (it installs Debian packages)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The fleet (rollcall fleet, rollcalld) builds with libldap and its tests
# start throwaway slapd instances of their own: the packaged slapd must not
# start.  /etc/ldap/noslapd makes its init script do nothing (Debian's
# SLAPD_SENTINEL_FILE); a policy-rc.d that denies every start covers the
# installation itself (postinst's invoke-rc.d), and is removed afterwards
# unless one was there before.
mkdir -p /etc/ldap
[ -e /etc/ldap/noslapd ] || : > /etc/ldap/noslapd
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# rollcall scripts/deps.sh: no service starts while it installs\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	own_policy=1
fi
cleanup() { [ -z "$own_policy" ] || rm -f "$policy"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
apt-get update -q
apt-get install -y -q --no-install-recommends \
	build-essential autoconf automake libtool pkg-config ca-certificates \
	libpam0g-dev liboath-dev libsodium-dev liblmdb-dev libqrencode-dev \
	libcmocka-dev libpamtest0-dev libpam-wrapper libnss-wrapper \
	lmdb-utils oathtool pamtester faketime python3 util-linux \
	openssh-server openssh-client python3-pexpect openssl bash-completion \
	valgrind clang libclang-rt-14-dev exim4-daemon-light postgresql postgresql-client \
	nginx-light libnginx-mod-http-auth-pam curl \
	slapd ldap-utils libldap-dev iproute2 "$@"
