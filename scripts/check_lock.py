"""Fail unless the running environment holds exactly the lock (plus torch, mimic itself and pip)."""
from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

OUTSIDE_THE_LOCK = {"torch", "mimic", "pip"}  # torch: TORCH_SPEC decides the build; the CUDA build brings nvidia-*


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path) -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", path.read_text(), flags=re.M)
    return {canonical(name): version for name, version in pins}


def main(lock: str) -> int:
    want = locked(Path(lock))
    have = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    problems = [f"{name}: locked {version}, installed {have.get(name, 'nothing')}"
                for name, version in sorted(want.items()) if have.get(name) != version]
    cuda = {name for name in have if name.startswith(("nvidia-", "triton", "cuda-"))}
    problems += [f"{name} {have[name]} is installed but not in the lock" for name in sorted(have)
                 if name not in want and name not in OUTSIDE_THE_LOCK and name not in cuda]
    for line in problems:
        print(f"check_lock: {line}", file=sys.stderr)
    if not problems:
        print(f"check_lock: the environment is exactly {lock} ({len(want)} packages) + torch {have.get('torch')}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "requirements/dev.txt"))
