#!/bin/sh
# Writes a small line data folder with the code of an earlier release, for the tests of the
# upgrade from it (tests/fixtures/format-N/, docs/store.md "Data format and migrations").
#
#   scripts/make-data-fixture.sh REF OUT_DIR
#
# REF is the git commit or tag of the release; OUT_DIR must be empty or absent. The release's
# sources are unpacked into a temporary folder (the repository is only read), this tree's
# tests/support/write-line-data.ts is run there with this tree's node_modules, and what the
# release's daemon wrote is left in OUT_DIR without lock files or users.
set -eu
if [ $# -ne 2 ]; then
  echo "usage: $0 REF OUT_DIR" >&2
  exit 2
fi
ref=$1
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
if [ -n "$(ls -A "$out")" ]; then
  echo "$out is not empty" >&2
  exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
git -C "$root" archive --format=tar "$ref" | tar -x -C "$tmp"
ln -s "$root/node_modules" "$tmp/node_modules"
mkdir -p "$tmp/tests/support"
cp "$root/tests/support/write-line-data.ts" "$tmp/tests/support/write-line-data.ts"
(cd "$tmp" && "$root/node_modules/.bin/tsx" tests/support/write-line-data.ts "$out")
echo "wrote $out with the code of $(git -C "$root" rev-parse --short "$ref")"
