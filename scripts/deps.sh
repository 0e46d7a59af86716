#!/bin/sh
# Install the Debian 12 packages rollcall builds and tests with (as root).
set -e
if [ "$(id -u)" != 0 ]; then
	echo "scripts/deps.sh: run as root (it installs Debian packages)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
	build-essential autoconf automake libtool pkg-config ca-certificates \
	libpam0g-dev liboath-dev libsodium-dev liblmdb-dev libqrencode-dev \
	libcmocka-dev libpamtest0-dev libpam-wrapper libnss-wrapper \
	lmdb-utils oathtool pamtester faketime python3 util-linux \
	openssh-server openssh-client python3-pexpect openssl bash-completion \
	valgrind clang libclang-rt-14-dev exim4-daemon-light postgresql postgresql-client \
	nginx-light libnginx-mod-http-auth-pam curl "$@"
