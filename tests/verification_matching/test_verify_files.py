"""The `verify-files` contract: one JSON object per candidate line, errors per file, exit 0 unless the command fails."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from verification.verify_files import add_verify_files_arguments, run_verify_files

from .test_imaging import bomb_png
from .test_matching import crop_area

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["candidate", "verdict", "matched", "score", "reason"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory, own_images, lookalike_images):
    base = tmp_path_factory.mktemp("verify")
    portfolio = base / "timeline"
    portfolio.mkdir()
    for seed in (1, 2, 3):
        own_images[seed].save(portfolio / f"post-{seed}.jpg", quality=90)
    (portfolio / "notes.txt").write_text("not an image")
    (portfolio / ".hidden.png").write_bytes(b"")
    cands = base / "uploads"
    cands.mkdir()
    crop_area(own_images[2], 0.35).save(cands / "face.png")
    own_images[1].resize((200, 200)).save(cands / "small.jpg", quality=70)
    lookalike_images[101].save(cands / "lookalike.png")
    (cands / "empty.png").write_bytes(b"")
    (cands / "bomb.png").write_bytes(bomb_png())
    frames = [Image.new("RGB", (64, 64), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(cands / "anim.gif", save_all=True, append_images=frames[1:], duration=80)
    (cands / "vector.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    data = (portfolio / "post-3.jpg").read_bytes()
    (cands / "truncated.jpg").write_bytes(data[: len(data) // 3])
    return portfolio, cands


def run(portfolio: Path, candidates: list[Path], as_json: bool = True, workers: int = 1) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_verify_files(portfolio, candidates, as_json=as_json, out=out, err=err, workers=workers)
    return code, out.getvalue(), err.getvalue()


def test_json_lines_for_a_mixed_batch(folders):
    portfolio, cands = folders
    names = ["face.png", "small.jpg", "lookalike.png", "empty.png", "bomb.png", "anim.gif", "vector.svg",
             "truncated.jpg", "missing.png"]
    code, out, err = run(portfolio, [cands / n for n in names], workers=2)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [list(r) for r in rows] == [KEYS] * len(names)
    assert [r["candidate"] for r in rows] == [str(cands / n) for n in names]
    by_name = {Path(r["candidate"]).name: r for r in rows}
    assert by_name["face.png"]["verdict"] == "match"
    assert by_name["face.png"]["matched"] == str(portfolio / "post-2.jpg")
    assert by_name["small.jpg"]["matched"] == str(portfolio / "post-1.jpg")
    assert by_name["lookalike.png"] | {"score": 0} == {"candidate": str(cands / "lookalike.png"),
                                                       "verdict": "no_match", "matched": None, "score": 0,
                                                       "reason": by_name["lookalike.png"]["reason"]}
    for name, words in [("empty.png", "empty"), ("bomb.png", "megapixels"), ("anim.gif", "animated"),
                        ("vector.svg", "SVG"), ("truncated.jpg", "truncated"), ("missing.png", "could not be read")]:
        assert by_name[name]["verdict"] == "error" and by_name[name]["matched"] is None, name
        assert words in by_name[name]["reason"], (name, by_name[name]["reason"])
        assert by_name[name]["score"] == 0
    for row in rows:
        assert isinstance(row["score"], (int, float)) and 0 <= row["score"] <= 1
        assert (row["score"] >= 0.5) == (row["verdict"] == "match")
    assert "notes.txt" in err and ".hidden" not in err


def test_missing_portfolio_is_a_command_failure(tmp_path):
    code, out, err = run(tmp_path / "nope", [tmp_path / "x.png"])
    assert code == 2 and out == "" and "does not exist" in err


def test_readable_lines_without_json(folders):
    portfolio, cands = folders
    code, out, _ = run(portfolio, [cands / "face.png", cands / "empty.png"], as_json=False)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].startswith(f"{cands / 'face.png'}: match -> {portfolio / 'post-2.jpg'}")
    assert lines[1].startswith(f"{cands / 'empty.png'}: error")


def test_arguments_parse_like_the_cli():
    import argparse

    parser = argparse.ArgumentParser()
    add_verify_files_arguments(parser)
    args = parser.parse_args(["--portfolio", "dir", "--json", "a.png", "b.png"])
    assert args.portfolio == Path("dir") and args.as_json and args.candidates == [Path("a.png"), Path("b.png")]


def test_python_dash_m_entry_point(folders):
    portfolio, cands = folders
    proc = subprocess.run([sys.executable, "-m", "verification.verify_files", "--portfolio", str(portfolio), "--json",
                           str(cands / "face.png"), str(cands / "empty.png")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["verdict"] for r in rows] == ["match", "error"]
