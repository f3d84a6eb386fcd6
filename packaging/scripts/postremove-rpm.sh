#!/bin/sh
# Runs after an rpm erase ("0") or upgrade ("1"). rpm has no purge: the state
# in /var/lib/ec2boot stays, as the configuration file does (.rpmsave).
set -e

if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
