"""`mimic trace IMAGE --json`: the contract the issue names."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from PIL import Image

from data.db import Database
from data.models import Generation, Maker, SocialAccount, User, utcnow
from engine.finalize import finalize_image
from verification.synthetic import draw_illustration


def run_trace(path, env) -> tuple[int, dict]:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "trace", str(path), "--json"], env=env,
                            capture_output=True, text=True, timeout=120)
    return result.returncode, json.loads(result.stdout.strip().splitlines()[-1])


def test_trace_finds_the_generation_of_a_reencoded_copy(tmp_path):
    url = f"sqlite:///{tmp_path / 'mimic.db'}"
    db = Database(url)
    db.upgrade()
    with db.session() as s:
        artist, fan = User(display_name="aoi"), User(display_name="hana")
        s.add_all([artist, fan])
        s.flush()
        s.add(SocialAccount(user_id=artist.id, platform="x", account_id="42", handle="aoi_draws", verified_at=utcnow()))
        maker = Maker(owner_id=artist.id, name="aoi", status="ready", usage="personal")
        s.add(maker)
        s.flush()
        gen = Generation(requester_id=fan.id, maker_id=maker.id, prompt="smiling", trace_id=123_456_789_012,
                         status="done")
        s.add(gen)
        s.commit()
        gen_id = gen.id
    db.dispose()
    png = finalize_image(draw_illustration(3, (512, 512)), trace_id=123_456_789_012, artist="@aoi_draws",
                         maker="aoi", prompt="smiling", generator="mimic test", var_dir=tmp_path / "var")
    copy = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(copy, "JPEG", quality=75)  # metadata gone
    (tmp_path / "copy.jpg").write_bytes(copy.getvalue())
    (tmp_path / "plain.png").write_bytes(_png(draw_illustration(4, (512, 512))))
    (tmp_path / "notes.txt").write_text("hello")
    env = {**os.environ, "DATABASE_URL": url, "VAR_DIR": str(tmp_path / "var")}

    code, out = run_trace(tmp_path / "copy.jpg", env)
    assert code == 0 and out["trace_id"] == 123_456_789_012 and out["source"] == "watermark"
    gen = out["generation"]
    assert (gen["id"], gen["maker"], gen["artist"], gen["prompt"]) == (gen_id, "aoi", "@aoi_draws", "smiling")

    assert run_trace(tmp_path / "plain.png", env) == (0, {"trace_id": None, "generation": None, "source": None})
    code, out = run_trace(tmp_path / "notes.txt", env)
    assert code == 1 and out["trace_id"] is None and out["generation"] is None and out["error"]


def _png(img) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def test_trace_links_the_gallery_page_and_credits_only_a_verified_account(tmp_path):
    """The link `mimic trace` prints is the page the web gallery serves (/g/<id>), and the credit is the same public
    credit the watermark and Discord use: an unverified (unproven) account is nobody's credit."""
    url = f"sqlite:///{tmp_path / 'mimic.db'}"
    db = Database(url)
    db.upgrade()
    with db.session() as s:
        artist, fan = User(display_name="Aoi Tanaka"), User(display_name="hana")
        s.add_all([artist, fan])
        s.flush()
        # linked first but never proven: must not be the credit
        s.add(SocialAccount(user_id=artist.id, platform="x", account_id="7", handle="impostor_claim"))
        maker = Maker(owner_id=artist.id, name="aoi", status="ready", usage="personal")
        s.add(maker)
        s.flush()
        gen = Generation(requester_id=fan.id, maker_id=maker.id, prompt="smiling", trace_id=987_654_321_098,
                         status="done")
        s.add(gen)
        s.commit()
        gen_id = gen.id
    db.dispose()
    png = finalize_image(draw_illustration(5, (512, 512)), trace_id=987_654_321_098, artist="Aoi Tanaka",
                         maker="aoi", prompt="smiling", generator="mimic test", var_dir=tmp_path / "var")
    (tmp_path / "copy.png").write_bytes(png)
    env = {**os.environ, "DATABASE_URL": url, "VAR_DIR": str(tmp_path / "var"), "PUBLIC_URL": "https://gallery.example/"}

    code, out = run_trace(tmp_path / "copy.png", env)
    assert code == 0 and out["generation"]["id"] == gen_id
    assert out["generation"]["url"] == f"https://gallery.example/g/{gen_id}"
    assert out["generation"]["artist"] == "Aoi Tanaka" and out["generation"]["artist_profile"] is None
