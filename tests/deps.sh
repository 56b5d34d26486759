#!/bin/sh
# Installs the Debian packages that building and testing zdd need, only
# those missing.  As root it runs apt-get; otherwise it names them and
# fails, so that nothing is installed behind an ordinary user's back.
set -u

pkgs="gcc make pkg-config libc6-dev libcurl4-openssl-dev libjansson-dev
libarchive-dev libssl-dev libcmocka-dev python3 curl openssl procps util-linux
nginx-light haproxy wrk mandoc shellcheck cppcheck capistrano
zstd xz-utils bzip2 zip unzip cpio xfsprogs
clang clang-format libclang-rt-14-dev fiu-utils libfiu-dev valgrind
ansible-core python3-yaml debhelper lintian man-db
minisign signify-openbsd sudo"
# Extra packages a caller asks for (make demo, make fuzz) come as arguments.
pkgs="$pkgs $*"

missing=
for p in $pkgs; do
	s=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "zdd: missing Debian packages:$missing" >&2
	echo "zdd: install them as root: apt-get install$missing" >&2
	exit 1
fi
echo "zdd: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Two checkouts tested at once on a fresh machine both get here: wait for
# the other's apt-get rather than fail on its lock.
apt="apt-get -o DPkg::Lock::Timeout=900"
# shellcheck disable=SC2086
if ! $apt install -y -q --no-install-recommends $missing >/dev/null; then
	$apt update -q >/dev/null || exit 1
	# shellcheck disable=SC2086
	$apt install -y -q --no-install-recommends $missing >/dev/null ||
		exit 1
fi
# Debian starts the daemons it installs; the tests run their own.
for s in nginx haproxy; do
	case "$missing" in
	*"$s"*) systemctl disable --now "$s" >/dev/null 2>&1 ||
		service "$s" stop >/dev/null 2>&1 || true ;;
	esac
done
exit 0
