#!/usr/bin/env bash
# Checks deploy/stampline.service with systemd-analyze verify, as installed under /opt/stampline
# but pointing at this checkout. systemd only warns of an unknown or misspelt key, so any word
# from it fails the check.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sed "s#/opt/stampline#$PWD#g" deploy/stampline.service > "$tmp/stampline.service"
out="$(systemd-analyze verify "$tmp/stampline.service" 2>&1)" || { echo "$out"; exit 1; }
if [ -n "$out" ]; then
  echo "deploy/stampline.service: systemd-analyze verify:"
  echo "$out"
  exit 1
fi
echo "deploy/stampline.service: verified"
