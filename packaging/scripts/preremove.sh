#!/bin/sh
# Runs before removal (deb "remove", rpm "0") and before an upgrade (deb
# "upgrade", rpm "1"): only a real removal stops and disables the units.
# Nothing is stopped but the timer and a refresh in progress: stopping the
# boot units would not undo their mounts or files, which go at the next boot.
set -e

case "$1" in
    remove|0) ;;
    *) exit 0 ;;
esac
if command -v systemctl >/dev/null 2>&1; then
    if [ -d /run/systemd/system ]; then
        systemctl stop ec2boot.timer ec2boot-refresh.service >/dev/null 2>&1 || true
    fi
    systemctl disable ec2boot.timer ec2boot.service ec2boot-leave.service ec2boot-early.service >/dev/null 2>&1 || true
fi
exit 0
