#!/bin/sh
# Runs every fuzz target of the module for a while each: `make fuzz`
# (FUZZTIME, default 20s). `go test -fuzz` takes one target of one package
# at a time, so the targets are found by name in the test files. New inputs
# that fail are written under the package's testdata/fuzz, where `make test`
# replays them.
set -eu
fuzztime=${1:-20s}
cd "$(dirname "$0")/.."
status=0
for file in $(git ls-files '*_test.go'); do
	dir=$(dirname "$file")
	for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*\*testing\.F).*/\1/p' "$file"); do
		echo "== ./$dir $name ($fuzztime)"
		if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "./$dir"; then
			echo "FAIL: ./$dir $name" >&2
			status=1
		fi
	done
done
exit $status
