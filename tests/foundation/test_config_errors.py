"""Bad configuration ends with one clear line and exit status 2, never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_mimic(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "STORAGE"))}
    environment.update({"VAR_DIR": str(tmp_path / "var"), **env})
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def test_help_lists_every_subcommand(tmp_path):
    result = run_mimic(["--help"], tmp_path)
    assert result.returncode == 0
    for name in ("run", "bot", "worker", "web", "demo", "db", "verify-files", "trace"):
        assert name in result.stdout


def test_malformed_database_url(tmp_path):
    assert_one_line_error(run_mimic(["db", "upgrade"], tmp_path, DATABASE_URL="not a url"), "DATABASE_URL")


def test_unknown_database_dialect(tmp_path):
    assert_one_line_error(run_mimic(["db", "upgrade"], tmp_path, DATABASE_URL="nosuchdb://x/y"), "DATABASE_URL")


def test_unreachable_postgres_is_one_line(tmp_path):
    result = run_mimic(["db", "upgrade"], tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert_one_line_error(result, "database unreachable")


def test_unreachable_redis(tmp_path):
    result = run_mimic(["worker", "--burst"], tmp_path, REDIS_URL="redis://127.0.0.1:1/0",
                       DATABASE_URL=f"sqlite:///{tmp_path / 'm.db'}")
    assert_one_line_error(result, "Redis unreachable")


def test_unwritable_storage_dir(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_mimic(["worker", "--burst"], tmp_path, STORAGE_DIR=str(blocker / "blobs"))
    assert_one_line_error(result, "STORAGE_DIR")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; the file-in-the-way case covers it")
def test_read_only_storage_dir(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    assert_one_line_error(run_mimic(["worker", "--burst"], tmp_path, STORAGE_DIR=str(ro)), "STORAGE_DIR")


def test_secret_never_printed(tmp_path):
    result = run_mimic(["db", "upgrade"], tmp_path,
                       DATABASE_URL="postgresql://user:hunter2secret@127.0.0.1:1/none")
    assert "hunter2secret" not in result.stderr + result.stdout
