#!/usr/bin/env bash
# Install what the tests need, check style, and run the whole suite on SQLite and then on
# PostgreSQL (TEST_DATABASE_URL, default the local server with trust auth, database `test`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --dev
. .venv/bin/activate

ruff check .
ruff format --check .

echo "== tests on SQLite =="
python -m pytest "$@"

PG_URL=${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
if python -c 'import sys, psycopg; psycopg.connect(sys.argv[1].replace("+psycopg", ""), connect_timeout=3).close()' "$PG_URL" 2>/dev/null; then
  echo "== tests on PostgreSQL =="
  TEST_DATABASE_URL=$PG_URL python -m pytest "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable at $PG_URL: CI needs it" >&2
  exit 1
else
  echo "PostgreSQL is not reachable at $PG_URL: skipped the PostgreSQL run"
fi
