#!/usr/bin/env bash
# What credit reports need from the system (issue 19): Debian's CJK fonts for the PDF
# (a PDF with boxes for Chinese is a failure), Pango for WeasyPrint, and poppler-utils
# (pdftotext, pdftoppm) for the tests that read and look at the PDF. Idempotent; installs
# only what is missing (apt-get, as root or through sudo).
set -euo pipefail
need=()
fc-list :lang=zh 2>/dev/null | grep -q "Noto Sans CJK" || need+=(fonts-noto-cjk)
ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0" || need+=(libpango-1.0-0 libpangoft2-1.0-0)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing for credit reports: ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
