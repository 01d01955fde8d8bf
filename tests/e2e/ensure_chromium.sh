#!/usr/bin/env bash
# Idempotent: make sure Debian's Chromium (and CJK fonts for the pages' Chinese
# labels) are installed for the browser tests. Playwright drives this browser via
# executable_path; `playwright install` (a browser download) is never used.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
command -v chromium >/dev/null
echo "installed: ${need[*]}" >&2
