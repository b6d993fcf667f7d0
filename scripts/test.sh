#!/usr/bin/env bash
# Set up if needed, then run the whole test suite (Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432
# are used when present; their tests are skipped, with the reason printed, when absent).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
exec python -m pytest -q "$@"
