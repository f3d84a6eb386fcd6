#!/bin/sh
# Builds the deb and rpm packages into dist/ (or $DIST) from bin/ec2boot,
# the systemd units, the templates, the docs and the default configuration.
# Called by `make package` after `make build`:
#
#   scripts/package.sh [VERSION]
#
#   VERSION  package version, as an argument or in the environment (default:
#            `git describe`); anything that is not a release number (1.2,
#            1.2.3-4-gHASH), like the Makefile's "dev" or a bare commit hash,
#            becomes 0.0.0~<it>, which sorts before every release
#   ARCH     Go architecture of the binary (default: go env GOARCH)
#   EC2BOOT_BINARY  the binary to package (default: bin/ec2boot)
#   DIST     output directory (default: dist)
#   NFPM     the nfpm binary (default: nfpm on PATH, else `go run` of the
#            pinned version; nfpm is a build tool, not a module dependency)
set -eu

cd "$(dirname "$0")/.."
NFPM_VERSION=v2.45.2
DIST=${DIST:-dist}

EC2BOOT_BINARY=${EC2BOOT_BINARY:-bin/ec2boot}
if [ ! -x "$EC2BOOT_BINARY" ]; then
    echo "package: $EC2BOOT_BINARY is missing; run make build first" >&2
    exit 1
fi
VERSION=${1:-${VERSION:-}}
if [ -z "$VERSION" ]; then
    VERSION=$(git describe --tags --always --dirty 2>/dev/null) || VERSION=dev
fi
VERSION=${VERSION#v}
# A release looks like 1.2 or 1.2.3 (possibly followed by git describe's
# -N-gHASH); a bare commit hash, even one starting with a digit, is not.
if ! printf '%s' "$VERSION" | grep -Eq '^[0-9]+\.[0-9]+'; then
    VERSION="0.0.0~$VERSION"
fi
# deb and rpm both accept letters, digits, . + ~ in a version; map the rest.
VERSION=$(printf '%s' "$VERSION" | tr -c 'A-Za-z0-9.+~\n' '.')
ARCH=${ARCH:-$(go env GOARCH)}
export VERSION ARCH EC2BOOT_BINARY

if [ -n "${NFPM:-}" ]; then
    set -- "$NFPM"
elif command -v nfpm >/dev/null 2>&1; then
    set -- nfpm
elif [ -x "$(go env GOPATH)/bin/nfpm" ]; then
    set -- "$(go env GOPATH)/bin/nfpm"
else
    set -- go run "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION"
fi

mkdir -p "$DIST"
for packager in deb rpm; do
    "$@" package --config packaging/nfpm.yaml --packager "$packager" --target "$DIST/"
done
ls -l "$DIST"
