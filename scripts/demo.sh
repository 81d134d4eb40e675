#!/usr/bin/env bash
# Install Doudi and start it on the embedded SQLite database with demo data:
# http://127.0.0.1:5000 (PORT overrides). The demo logins are printed at start.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python app.py
