#!/usr/bin/env bash
# Idempotent: fetch axe-core (the accessibility checker the browser tests inject into
# the public pages) once with `npm pack`, and keep its axe.min.js in a cache directory
# (AXE_CACHE, default .venv/axe-core). Prints the path of axe.min.js.
set -euo pipefail
VERSION="${AXE_VERSION:-4}"
CACHE="${AXE_CACHE:-$(cd "$(dirname "$0")/../.." && pwd)/.venv/axe-core}"
if [ -s "$CACHE/axe.min.js" ]; then
  echo "$CACHE/axe.min.js"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "ensure_axe: npm is needed to fetch axe-core" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@$VERSION" >/dev/null && tar xzf axe-core-*.tgz)
mkdir -p "$CACHE"
cp "$work/package/axe.min.js" "$work/package/LICENSE" "$CACHE/"
node -e 'console.log(require(process.argv[1]).version)' "$work/package/package.json" > "$CACHE/VERSION"
echo "$CACHE/axe.min.js"
