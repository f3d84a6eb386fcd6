#!/bin/sh
# Installs the Amazon plugin that `make tools` built into DIR the way
# `packer init` lays plugins out, so that Packer finds it offline with
# PACKER_PLUGIN_PATH=DIR:
#
#   scripts/packer-plugin.sh DIR
#
#   DIR/github.com/hashicorp/amazon/packer-plugin-amazon_v<version>_x<api>_<os>_<arch>
#   DIR/github.com/hashicorp/amazon/packer-plugin-amazon_v<version>_x<api>_<os>_<arch>_SHA256SUM
#
# The version and plugin API version are the ones the binary reports.
set -eu

dir=${1:?usage: scripts/packer-plugin.sh DIR}
cd "$(dirname "$0")/.."
plugin=${PACKER_PLUGIN_AMAZON:-.tools/bin/packer-plugin-amazon}
if [ ! -x "$plugin" ]; then
    echo "packer-plugin: $plugin is missing; run make tools" >&2
    exit 1
fi
desc=$("$plugin" describe)
version=$(printf '%s' "$desc" | sed -n 's/.*"version": *"\([^"]*\)".*/\1/p')
api=$(printf '%s' "$desc" | sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p')
if [ -z "$version" ] || [ -z "$api" ]; then
    echo "packer-plugin: $plugin describe: no version or api_version in: $desc" >&2
    exit 1
fi
name=packer-plugin-amazon_v${version}_${api}_$(go env GOOS)_$(go env GOARCH)
mkdir -p "$dir/github.com/hashicorp/amazon"
cp "$plugin" "$dir/github.com/hashicorp/amazon/$name"
sha256sum "$dir/github.com/hashicorp/amazon/$name" | cut -d ' ' -f 1 >"$dir/github.com/hashicorp/amazon/${name}_SHA256SUM"
echo "$dir/github.com/hashicorp/amazon/$name"
