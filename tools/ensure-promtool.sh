#!/usr/bin/env bash
# Idempotent: make sure Prometheus's `promtool` is at .venv/bin/promtool, for the test
# that runs `promtool check config` / `promtool check rules` / `promtool test rules` on
# docker/prometheus/ (tests/ship/test_prometheus.py). `make test` runs this.
#
# From Debian's `prometheus` package (bookworm: 2.42), fetched with `apt-get download`
# and unpacked with `dpkg-deb -x`: only the promtool binary (linked against libc only) is
# copied out; nothing is installed system-wide and no Prometheus server is started. Runs
# `apt-get update` once if the package lists do not know the package yet (needs root, as
# on CI and the development machines).
# Fast when already there: one `promtool --version` call.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$root/.venv/bin/promtool"

if [ -x "$target" ] && "$target" --version >/dev/null 2>&1; then
  exit 0
fi

work="$(mktemp -d)"
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download prometheus >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get download prometheus >/dev/null
fi
dpkg-deb -x prometheus_*.deb unpacked
mkdir -p "$(dirname "$target")"
install -m 0755 unpacked/usr/bin/promtool "$target"
"$target" --version >/dev/null
echo "installed: $("$target" --version 2>&1 | head -1) at $target" >&2
