#!/bin/sh
# Checks built packages with Debian's and RPM's linters; fails on any error or
# warning that packaging/lintian-overrides and packaging/rpmlint.toml do not
# explain:
#
#   scripts/lint-packages.sh dist/*.deb dist/*.rpm
set -eu

cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }

# rpmlint unpacks an rpm with `rpm2cpio | cpio -id`; nfpm's payload names
# are absolute, so as root that would write the package's files into /.
# A cpio that drops the leading / keeps the unpacking inside rpmlint's
# temporary directory.
cpio=$(command -v cpio) || { echo "lint-packages: cpio is missing" >&2; exit 1; }
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT
printf '#!/bin/sh\nexec %s --no-absolute-filenames "$@"\n' "$cpio" >"$wrap/cpio"
chmod 0755 "$wrap/cpio"

status=0
for pkg in "$@"; do
    case $pkg in
    *.deb)
        echo "lintian $pkg"
        lintian --fail-on error,warning --tag-display-limit 0 "$pkg" || status=1
        ;;
    *.rpm)
        echo "rpmlint $pkg"
        PATH="$wrap:$PATH" rpmlint -c packaging/rpmlint.toml "$pkg" || status=1
        ;;
    *)
        echo "lint-packages: $pkg: neither .deb nor .rpm" >&2
        status=1
        ;;
    esac
done
exit $status
