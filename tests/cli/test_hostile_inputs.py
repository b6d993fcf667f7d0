"""CLI inputs that are not regular files (issue 17, row 8): `mimic verify-files /dev/zero` read until memory ran out,
a FIFO hung it, and `mimic trace /dev/zero` ended in a MemoryError traceback. Each is now refused with its reason,
and reads stop at the limit whatever the file's size claims."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from verification.imaging import ImageRejected, read_file


def _capped_memory():  # so that the unfixed code fails fast instead of eating the machine's memory
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def run_mimic(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "STORAGE"))}
    env["VAR_DIR"] = str(tmp_path / "var")
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60, preexec_fn=_capped_memory)


@pytest.fixture
def inputs(tmp_path):
    portfolio = tmp_path / "portfolio"
    portfolio.mkdir()
    Image.new("RGB", (64, 64), "red").save(portfolio / "a.png")
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    return {"device": (Path("/dev/zero"), "a device or another special file"), "fifo": (fifo, "a pipe (FIFO)"),
            "folder": (portfolio, "a folder")}, portfolio


@pytest.mark.parametrize("what", ["device", "fifo", "folder"])
def test_verify_files_refuses_what_is_not_a_regular_file(tmp_path, inputs, what):
    files, portfolio = inputs
    path, kind = files[what]
    result = run_mimic(["verify-files", "--portfolio", str(portfolio), "--json", str(path),
                        str(portfolio / "a.png")], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["verdict"] == "error" and f"is {kind}, not an image file" in lines[0]["reason"]
    assert lines[1]["verdict"] == "match"  # the rest of the batch goes on
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("what", ["device", "fifo", "folder"])
def test_trace_refuses_what_is_not_a_regular_file(tmp_path, inputs, what):
    files, _ = inputs
    path, kind = files[what]
    result = run_mimic(["trace", str(path), "--json"], tmp_path)
    assert result.returncode == 1, result.stderr
    assert f"is {kind}, not an image file" in json.loads(result.stdout)["error"]
    assert "Traceback" not in result.stderr


def test_trace_reads_no_further_than_the_upload_limit(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (11 * 1024 * 1024))
    result = run_mimic(["trace", str(big), "--json"], tmp_path)
    assert result.returncode == 1 and "the limit is" in json.loads(result.stdout)["error"]


def test_read_file_does_not_trust_st_size():
    """/proc files are regular files whose st_size is 0: the read itself stops past the limit."""
    maps = Path("/proc/self/maps")
    if not maps.exists() or maps.stat().st_size != 0:
        pytest.skip("needs Linux /proc")
    with pytest.raises(ImageRejected) as caught:
        read_file(maps, 64)
    assert caught.value.key == "image.too_large"
    assert len(read_file(maps, 10 << 20)) > 64
