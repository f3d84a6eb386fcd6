#!/bin/sh
# Runs as root on the build instance: installs ec2boot from the uploaded
# package with the site configuration, enables its units, and tells
# cloud-init to leave the instance store and /etc/hosts to ec2boot.
set -eu

export DEBIAN_FRONTEND=noninteractive
apt-get install -y /tmp/ec2boot.deb
rm -f /tmp/ec2boot.deb

install -m 0640 -o root -g root /tmp/ec2boot-config.toml /etc/ec2boot/config.toml
rm -f /tmp/ec2boot-config.toml
ec2boot validate /etc/ec2boot/config.toml

# The package enables them on a first install; be explicit for upgrades of
# an image that had them disabled. Not started: the build instance must not
# register its own names.
systemctl enable ec2boot-early.service ec2boot.service ec2boot-leave.service ec2boot.timer

if [ -d /etc/cloud/cloud.cfg.d ]; then
    cat > /etc/cloud/cloud.cfg.d/99-ec2boot.cfg <<'CFG'
# ec2boot mounts the instance store itself, early enough to move logs onto
# it before the journal is flushed, and keeps a managed block in /etc/hosts.
# cloud-init's mount comes after the network is up and its /etc/hosts
# template rewrites the whole file at every boot: turn both off (a device
# without a mount point turns cloud-init's mount of it off).
mounts:
  - [ephemeral0]
manage_etc_hosts: false
CFG
fi
