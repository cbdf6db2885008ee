#!/usr/bin/env bash
# Runs the whole suite on another Node version: `npm ci`, `npm test` and the
# consumer test under the official Node build that the npm registry's
# node-linux-<arch> package carries (binary and headers; node-gyp is pointed at
# them). The build is cached in .cache/node/<version> (git-ignored; not under
# $HOME, which other users cannot enter: a test runs node as another user).
#
#   npm run test:node -- 26                  # newest 26.x
#   scripts/test_node.sh 24.22.3 sha512-...  # exact version, tarball integrity checked
#
# Leaves node_modules installed for that version; run `npm ci` to go back.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

spec="${1:?usage: npm run test:node -- <version> [<integrity>]}"
integrity="${2:-}"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "test:node: no node-linux build for $(uname -m)" >&2; exit 1 ;;
esac
package="node-linux-$arch"

if [[ $spec =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  version="$spec"
else
  version="$(npm view "$package@$spec" version --json |
    node -e 'const v = [].concat(JSON.parse(require("fs").readFileSync(0, "utf8"))); console.log(v.at(-1))')"
fi
dir="${SOCKLAB_NODE_CACHE:-$PWD/.cache/node}/$version"

if [ ! -x "$dir/bin/node" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "test:node: fetching $package@$version"
  (cd "$tmp" && npm pack "$package@$version" --silent >/dev/null)
  tarball="$(echo "$tmp"/*.tgz)"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ -n "$integrity" ] && [ "$actual" != "$integrity" ]; then
    echo "test:node: $package@$version has integrity $actual, expected $integrity" >&2
    exit 1
  fi
  [ -n "$integrity" ] || echo "test:node: $package@$version integrity $actual"
  mkdir -p "$dir.partial"
  tar -xzf "$tarball" -C "$dir.partial" --strip-components=1
  mv "$dir.partial" "$dir"
fi

export PATH="$dir/bin:$PATH" npm_config_nodedir="$dir"
echo "test:node: $(node --version) from $dir"
npm ci --no-audit --no-fund
# --force: turbo's cache does not know which Node ran the tests
npm test -- --force
npm run test:packages -- --no-compiler
