#!/bin/sh
# Runs as root on the build instance, last: removes what belongs to the build
# instance and lets `ec2boot prepare-image --apply` check the result. It
# exits non-zero (failing the build) when anything still leaks.
set -eu

# Nothing may write ec2boot state after this point.
systemctl stop ec2boot.timer ec2boot-refresh.service 2>/dev/null || true

# The build instance's user-data, metadata and logs.
if command -v cloud-init >/dev/null 2>&1; then
    cloud-init clean --logs
fi

# cloud-init does not remove the fstab line it wrote at the build instance's
# boot once its mount is turned off: drop its lines (marked
# comment=cloudconfig); it writes again at first boot whatever it still wants.
sed -i '/comment=cloudconfig/d' /etc/fstab

# A machine-id per instance: systemd creates it at first boot.
truncate -s 0 /etc/machine-id
if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then
    rm -f /var/lib/dbus/machine-id
fi

# The build's temporary key pair and shell history; cloud-init installs the
# launch key pair at first boot.
rm -f /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys /root/.bash_history /home/*/.bash_history

ec2boot prepare-image --apply
