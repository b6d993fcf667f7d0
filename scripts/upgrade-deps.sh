#!/usr/bin/env bash
# Refresh the locks from pyproject.toml's ranges: every dependency, transitive ones included, at exact versions with
# hashes. Without arguments only what pyproject.toml newly asks for changes; `--upgrade` takes the newest of all,
# `--upgrade-package NAME[==V]` one package. Then: ./scripts/setup.sh (rebuilds .venv from the new lock) and
# ./scripts/test.sh (the whole suite on the new set) before committing requirements/.
#
# uv resolves (seconds, and `--no-emit-package`/`-c` let torch stay outside the lock: TORCH_SPEC picks the CPU or
# a CUDA build at install time); plain pip installs the lock (--require-hashes --no-deps), so installing needs no uv.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
TOOLS=.venv-tools
[ -x "$TOOLS/bin/uv" ] && "$TOOLS/bin/uv" --version | grep -q " $UV_VERSION" || {
  python3 -m venv "$TOOLS" && "$TOOLS/bin/pip" install -q "uv==$UV_VERSION"; }
torch_pin=$(grep -v '^#' requirements/torch.txt | head -1)
# torch's own small dependencies (sympy, networkx, ...) are locked from the CPU build's metadata (no CUDA wheels);
# machines of this project carry that wheel in /opt/wheels, elsewhere set TORCH_FIND_LINKS to a folder holding it.
links=${TORCH_FIND_LINKS:-/opt/wheels}
constraints=$(mktemp); trap 'rm -f "$constraints"' EXIT
echo "${torch_pin}+cpu" > "$constraints"
compile() {  # $1: output file, then extra arguments
  local out=$1; shift
  "$TOOLS/bin/uv" pip compile pyproject.toml "$@" "${UPGRADE_ARGS[@]}" --quiet \
    --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --find-links "$links" -c "$constraints" --no-emit-package torch \
    --generate-hashes --no-header --annotation-style line -o "$out"
  sed -i "1i # Locked by scripts/upgrade-deps.sh (uv $UV_VERSION); torch comes from requirements/torch.txt or TORCH_SPEC." "$out"
}
UPGRADE_ARGS=("$@")
compile requirements/runtime.txt
compile requirements/dev.txt --extra dev
git --no-pager diff --stat -- requirements/ 2>/dev/null || true
