#!/usr/bin/env bash
# Set up if needed, then run the offline demo (embedded SQLite and Redis, no accounts, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
exec mimic demo --out demo-out "$@"
