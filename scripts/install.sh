#!/usr/bin/env bash
# Install what Doudi needs into .venv. With --dev also what the tests need:
# Debian's Chromium (browser tests), a CJK font (so screenshots and cards show Chinese) and poppler-utils (PDF tests).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

if [ "${1:-}" = "--dev" ]; then
  missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  fc-list 2>/dev/null | grep -qiE 'Noto Sans CJK|WenQuanYi' || missing+=(fonts-noto-cjk)
  command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)  # tests rasterise card PDFs as a printer would
  command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-calc-nogui)  # tests print the statistics table to PDF
  # Carlito has Calibri's metrics, so LibreOffice sizes the table's columns (and pages) as Excel does.
  fc-list 2>/dev/null | grep -qi 'Carlito' || missing+=(fonts-crosextra-carlito)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = "0" ]; then
      echo "installing from Debian: ${missing[*]}"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "warning: please install with apt-get: ${missing[*]} (browser tests need them)" >&2
    fi
  fi
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
else
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
fi
