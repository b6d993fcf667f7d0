#!/usr/bin/env bash
# Create .venv and install mimic with everything it needs (idempotent; a second run is quick).
# torch first: `torch==2.13.0` is a CPU build on machines that carry its wheel; set TORCH_SPEC for a GPU build,
# e.g. TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128".
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
# the web gallery's browser tests drive Debian's Chromium (Playwright's own browser download cannot work here)
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-ipafont-gothic) >/dev/null 2>&1 \
      || echo "note: chromium could not be installed; browser tests will be skipped"
  fi
fi
stamp=.venv/.mimic-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  python -m pip install -q --upgrade pip
  python -m pip install -q ${TORCH_SPEC:-torch==2.13.0}
  python -m pip install -q -e ".[dev]"
  touch "$stamp"
fi
