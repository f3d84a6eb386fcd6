#!/bin/sh
# Installs the Debian packages the tests use as real peers. Idempotent: it asks
# apt only for what is missing, so a second run costs nothing.
set -eu
packages="bind9 bind9-dnsutils knot knot-dnsutils ddclient inadyn cloud-init iproute2 debootstrap systemd-container
e2fsprogs xfsprogs acl attr util-linux mount fdisk dosfstools gzip curl rpm time lintian rpmlint mandoc zsh prometheus awscli"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "test peers: all installed"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "test peers missing:$missing; run as root (sudo make deps) to install them" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
