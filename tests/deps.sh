#!/bin/sh
# Installs the Debian packages that building, testing and benchmarking need,
# only those missing.  Runs as root (or through sudo when present).
set -e
need=""
# Extra packages for one target come as arguments (make fuzz: clang).
for p in build-essential liblmdb-dev libjansson-dev libmicrohttpd-dev uuid-dev \
         libcrypt-dev nettle-dev python3 python3-fusepy curl wrk lmdb-utils openssl "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
# The SDK suite needs Node.js and npm: Debian's when none is installed.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || need="$need nodejs npm"
[ -z "$need" ] && exit 0
echo "installing:$need"
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
