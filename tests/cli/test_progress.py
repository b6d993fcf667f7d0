"""Long command-line work shows progress on a terminal's stderr, and the machine-readable output stays exactly
as it was: `mimic verify-files`, `mimic db upgrade --json`."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from functools import partial


from bot.console import Progress
from data.db import Database
from verification.synthetic import draw_illustration
from verification.verify_files import run_verify_files


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _pictures(folder, seeds) -> list:
    folder.mkdir()
    paths = []
    for seed in seeds:
        path = folder / f"{seed}.png"
        draw_illustration(seed, (128, 128)).save(path)
        paths.append(path)
    return paths


def test_verify_files_draws_bars_on_a_terminal_and_keeps_its_lines(tmp_path):
    _pictures(tmp_path / "posted", range(1, 8))
    candidates = [tmp_path / "posted" / "3.png", tmp_path / "missing.png"]
    screen, plain = Terminal(), io.StringIO()
    out = io.StringIO()
    bar = partial(Progress, stream=screen, min_interval_s=0)
    assert run_verify_files(tmp_path / "posted", candidates, as_json=True, out=out, err=screen, workers=1,
                            progress=bar) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["candidate"], r["verdict"]) for r in lines] == [(str(candidates[0]), "match"),
                                                                (str(candidates[1]), "error")]
    drawn = screen.getvalue()
    assert "hashing the portfolio [" in drawn and "] 7/7" in drawn and "checking candidates [" in drawn
    again = io.StringIO()
    run_verify_files(tmp_path / "posted", candidates, as_json=True, out=again, err=plain, workers=1,
                     progress=partial(Progress, stream=plain))
    assert again.getvalue() == out.getvalue() and plain.getvalue() == ""  # no terminal: no bar


def test_verify_files_command_writes_no_bar_into_a_pipe(tmp_path):
    posted = _pictures(tmp_path / "posted", range(1, 4))
    result = subprocess.run([sys.executable, "-m", "bot.cli", "verify-files", "--portfolio", str(tmp_path / "posted"),
                             "--json", str(posted[0])], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "VAR_DIR": str(tmp_path / "var")})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "match" and "[" not in result.stderr


def test_db_upgrade_reports_the_migrations_it_applied(tmp_path):
    url = f"sqlite:///{tmp_path / 'mimic.db'}"
    screen = Terminal()
    applied = Database(url).upgrade(progress=partial(Progress, stream=screen, min_interval_s=0))
    assert applied[0] == "0001" and applied == sorted(applied)
    assert "upgrading the database [" in screen.getvalue() and f"] {len(applied)}/{len(applied)}" in screen.getvalue()
    assert Database(url).upgrade() == []  # nothing left to apply

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}", "VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade", "--json"], capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"schema": "up to date", "dialect": "sqlite", "applied": applied}
    plain = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], capture_output=True, text=True,
                           timeout=120, env=env)
    assert plain.stdout.strip() == "database schema is up to date (sqlite)"
