#!/bin/sh
# Builds the deb and rpm packages into dist/ (or $DIST) from bin/ec2boot,
# the systemd units, the templates, the docs, the man pages, the shell
# completions and the default configuration. It also writes the package's
# changelog entry (changelog.Debian.gz and the rpm's %changelog). Called by
# `make package` once per architecture after the binaries are built:
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

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# One changelog entry for this build, dated by the commit it was built from
# so that the same commit gives the same entry.
date=$(git log -1 --format=%cI 2>/dev/null) || date=
[ -n "$date" ] || date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
commit=$(git rev-parse --short HEAD 2>/dev/null) || commit=unknown
CHANGELOG="$stage/changelog.yml"
cat >"$CHANGELOG" <<EOF
- semver: $VERSION-1
  date: $date
  packager: ec2boot maintainers <ec2boot@users.noreply.github.com>
  deb:
    urgency: medium
    distributions: [unstable]
  changes:
    - note: Package of ec2boot $VERSION, built from commit $commit.
EOF

# Man pages go in compressed; the documentation is listed file by file so
# that the rpm marks each as %doc. README.md links to docs/X.md, which sit
# next to it once installed.
# nfpm does not expand the environment in `changelog`: the path goes in here.
sed "s#\${CHANGELOG}#$CHANGELOG#" packaging/nfpm.yaml >"$stage/nfpm.yaml"
entry() { # src dst [type] [packager]
    printf '  - src: %s\n    dst: %s\n' "$1" "$2"
    [ -z "${3:-}" ] || printf '    type: %s\n' "$3"
    [ -z "${4:-}" ] || printf '    packager: %s\n' "$4"
    printf '    file_info:\n      mode: 0644\n'
}
sed 's#](docs/#](#g' README.md >"$stage/README.md"
{
    for page in man/*.[1-8]; do
        section=${page##*.}
        # The committed pages carry no date: the commit's goes in here.
        sed "s/^\(\.TH [^ ]* [0-9]\) \"\"/\1 \"${date%%T*}\"/" "$page" | gzip -9n >"$stage/${page##*/}.gz"
        entry "$stage/${page##*/}.gz" "/usr/share/man/man$section/${page##*/}.gz" "" deb
        entry "$stage/${page##*/}.gz" "/usr/share/man/man$section/${page##*/}.gz" doc rpm
    done
    for doc in "$stage/README.md" CONTRIBUTING.md docs/*.md systemd/examples/*; do
        case $doc in
        systemd/examples/*) dst=/usr/share/doc/ec2boot/examples/systemd/${doc##*/} ;;
        *) dst=/usr/share/doc/ec2boot/${doc##*/} ;;
        esac
        entry "$doc" "$dst" "" deb
        entry "$doc" "$dst" doc rpm
    done
} >>"$stage/nfpm.yaml"

mkdir -p "$DIST"
for packager in deb rpm; do
    "$@" package --config "$stage/nfpm.yaml" --packager "$packager" --target "$DIST/"
done
ls -l "$DIST"
