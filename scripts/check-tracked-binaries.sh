#!/bin/sh
# Fails when git tracks an executable binary (ELF): build outputs belong in
# .gitignore, never in the repository.
set -eu
found=$(git ls-files -z | xargs -0 -r sh -c '
	for f; do
		[ -f "$f" ] || continue
		magic=$(head -c 4 "$f" | od -An -tx1 | tr -d " \n")
		[ "$magic" = "7f454c46" ] && echo "$f"
	done
	exit 0' sh)
if [ -n "$found" ]; then
	echo "executable binaries are tracked by git (add them to .gitignore and git rm --cached them):" >&2
	echo "$found" >&2
	exit 1
fi
