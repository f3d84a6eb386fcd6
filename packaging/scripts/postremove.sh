#!/bin/sh
# Runs after removal. A deb "purge" also deletes ec2boot's state (the
# configuration file itself is a conffile that dpkg removes on purge).
set -e

if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$1" = purge ]; then
    rm -rf /var/lib/ec2boot /run/ec2boot
fi
exit 0
