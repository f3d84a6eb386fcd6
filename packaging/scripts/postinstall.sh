#!/bin/sh
# Runs after the package is installed or upgraded, for deb ("configure",
# "<old version>" on upgrade) and rpm ("1" on install, "2" or more on
# upgrade). On the first install the units are enabled but not started: a
# package installed while an image is being built must not register the
# build instance's names. On an upgrade the administrator's enable/disable
# choice is kept.
set -e

first_install=no
case "$1" in
    configure) [ -z "$2" ] && first_install=yes ;;
    1) first_install=yes ;;
esac

if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$first_install" = yes ] && command -v systemctl >/dev/null 2>&1; then
    # Works without a running systemd too (image builds, chroots).
    systemctl enable ec2boot-early.service ec2boot.service ec2boot-leave.service ec2boot.timer >/dev/null 2>&1 || \
        echo "ec2boot: could not enable the units; run: systemctl enable ec2boot-early.service ec2boot.service ec2boot-leave.service ec2boot.timer" >&2
fi
exit 0
