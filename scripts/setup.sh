#!/usr/bin/env bash
# Create .venv with exactly the locked set (requirements/dev.txt, hashes checked), then mimic itself with --no-deps.
# Idempotent: a second run with the same lock is instant; a changed lock or TORCH_SPEC rebuilds .venv from scratch,
# so no package from an older set lingers. torch comes from requirements/torch.txt (the CPU build on machines that
# carry its wheel); set TORCH_SPEC for a GPU build, e.g.
#   TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128" ./scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
LOCK=${MIMIC_LOCK:-requirements/dev.txt}
TORCH_SPEC=${TORCH_SPEC:-$(grep -v '^#' requirements/torch.txt | head -1)}
# the web gallery's browser tests drive Debian's Chromium (Playwright's own browser download cannot work here)
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-ipafont-gothic) >/dev/null 2>&1 \
      || echo "note: chromium could not be installed; browser tests will be skipped"
  fi
fi
stamp=.venv/.mimic-installed
want=$( (cat "$LOCK" pyproject.toml; echo "$TORCH_SPEC") | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
rm -rf .venv
"$PY" -m venv .venv
. .venv/bin/activate
echo "setting up .venv from $LOCK and $TORCH_SPEC (a few minutes on a fresh machine)"
python -m pip install -q --require-hashes --no-deps -r "$LOCK"
python -m pip install -q $TORCH_SPEC   # its small dependencies are already there, pinned by the lock
python -m pip install -q --no-deps --no-build-isolation -e .
python -m pip check
python scripts/check_lock.py "$LOCK"
echo "$want" > "$stamp"
