"""`mimic admin ...`: every operator command, run as a process against a world on disk, as an operator would.

The world is the gallery's test data (tests/web/gallery_seed.py) written where `--demo` looks (Settings.for_demo(),
the helper `mimic web --demo` and `mimic trace --demo` use) or where DATABASE_URL points."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest
import redis
from sqlmodel import select

from data.context import AppContext
from data.models import Artwork, AuditEvent, Generation, Maker, MakerImage, Report, SocialAccount, User
from tests.web.gallery_seed import REDIS_URL, gallery_settings, seed_gallery


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except (redis.RedisError, OSError):
        pytest.skip(f"no Redis server at {REDIS_URL}")


@pytest.fixture
def world(tmp_path):
    """(app, seeded, env, demo flag list): the demo world under VAR_DIR/demo, migrated like `mimic demo` leaves it."""
    _redis_or_skip()
    settings = gallery_settings(tmp_path).for_demo()
    app = AppContext.create(settings, check=False)
    app.db.upgrade()
    seeded = seed_gallery(app)
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var"), "REDIS_URL": REDIS_URL,
           "REDIS_PREFIX": settings.redis_prefix.removesuffix("-demo"), "DATABASE_URL": "sqlite:///nowhere.db"}
    env.pop("STORAGE_DIR", None)
    yield app, seeded, env
    app.db.dispose()


def admin(env, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", "admin", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _audit(app, action: str) -> list[AuditEvent]:
    with app.db.session() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_lists_of_users_and_makers_as_json(world):
    app, seeded, env = world
    users = admin(env, "users", "--json", "--demo")
    assert users.returncode == 0, users.stderr
    rows = json.loads(users.stdout)
    by_id = {r["id"]: r for r in rows}
    aoi = by_id[seeded.users["aoi"]]
    assert aoi["name"] == "Aoi Sato" and aoi["makers"] == 3 and not aoi["banned"] and not aoi["erased"]
    assert aoi["accounts"] == [{"platform": "x", "handle": "aoi_draws", "verified": True}]
    assert by_id[seeded.users["fan"]]["generations"] > 30
    makers = json.loads(admin(env, "makers", "--json", "--demo").stdout)
    names = {m["name"]: m for m in makers}
    assert names["ren-hidden"]["visibility"] == "private" and names["kai-old"]["status"] == "revoked"
    assert names["aoi-style"]["owner_id"] == seeded.users["aoi"] and names["aoi-style"]["generations"] >= 5
    assert len(_audit(app, "admin.users")) == 1 and len(_audit(app, "admin.makers")) == 1  # one audit each
    assert json.loads(admin(env, "--demo", "users", "--json").stdout) == json.loads(
        admin(env, "users", "--json", "--demo").stdout)  # --demo before the subcommand too
    plain = admin(env, "users", "--demo")
    assert plain.returncode == 0 and "Aoi Sato" in plain.stdout and "x:@aoi_draws" in plain.stdout


def test_without_demo_the_install_is_read(world, tmp_path):
    app, seeded, env = world
    # DATABASE_URL names an empty file that is not migrated: the install's schema is the operator's to upgrade
    result = admin(env, "users", "--json", cwd=tmp_path)
    assert result.returncode == 2 and "mimic db upgrade" in result.stderr
    env = {**env, "DATABASE_URL": str(app.settings.resolved_database_url)}
    assert json.loads(admin(env, "users", "--json").stdout)[0]["id"] == seeded.users["aoi"]


def test_revoke_ban_unban(world):
    app, seeded, env = world
    result = admin(env, "revoke", "aoi-style", "--demo")
    assert result.returncode == 0, result.stderr
    assert "Revoked aoi-style" in result.stdout
    with app.db.session() as s:
        maker = s.get(Maker, seeded.makers["aoi-style"])
        assert maker.status == "revoked" and maker.lora_blob == ""
        queued = s.get(Generation, seeded.gens["queued"])
        assert queued.status == "cancelled"
    assert not app.blobs.exists(seeded.blobs["aoi-style.lora"])
    [event] = _audit(app, "maker.revoke")
    assert event.actor_id is None and event.detail["by"] == "operator"
    again = admin(env, "revoke", "aoi-style", "--demo")
    assert again.returncode == 1 and "already revoked" in again.stderr
    assert admin(env, "revoke", "nobody", "--demo").returncode == 1

    banned = admin(env, "ban", "@aoi_draws", "--reason", "spam", "--demo")
    assert banned.returncode == 0 and "is banned" in banned.stdout, banned.stderr
    with app.db.session() as s:
        assert s.get(User, seeded.users["aoi"]).banned
    assert admin(env, "unban", str(seeded.users["aoi"]), "--demo").returncode == 0
    with app.db.session() as s:
        assert not s.get(User, seeded.users["aoi"]).banned
    not_banned = admin(env, "unban", str(seeded.users["aoi"]), "--demo")
    assert not_banned.returncode == 1 and "not banned" in not_banned.stderr
    assert [e.action for e in _audit(app, "user.ban") + _audit(app, "user.unban")] == ["user.ban", "user.unban"]
    missing = admin(env, "ban", "no such person", "--demo")
    assert missing.returncode == 1 and missing.stderr.strip() == "mimic admin: I don't know that person yet."


def test_export_writes_the_json_and_the_images(world, tmp_path):
    app, seeded, env = world
    out = tmp_path / "aoi.zip"
    result = admin(env, "export", "Aoi Sato", "--out", str(out), "--demo")
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as zf:
        doc = json.loads(zf.read("data.json"))
        names = set(zf.namelist())
        assert doc["format"] == "mimic-export/1" and doc["user"]["id"] == seeded.users["aoi"]
        assert {m["name"] for m in doc["makers"]} == {"aoi-style", "aoi-wip", "aoi-draft"}
        assert all("lora_blob" not in m for m in doc["makers"])  # a model file is not the person's data
        sample = seeded.blobs["aoi-style.train0"]
        assert doc["images"][sample] in names
        assert zf.read(doc["images"][sample]) == app.blobs.get(sample)
        assert doc["images"][seeded.blobs["aoi-wip.tiff"]].endswith(".tiff")
        made = {g["id"] for g in doc["generations_with_my_makers"]}
        assert seeded.gens["traced"] in made and seeded.gens["of-private"] not in made
        assert doc["social_accounts"][0]["handle"] == "aoi_draws"
        assert doc["reports_about_me"] and all("reporter_id" not in r for r in doc["reports_about_me"])
    [event] = _audit(app, "user.export")
    assert event.target_id == seeded.users["aoi"] and event.detail["by"] == "operator"
    bad = admin(env, "export", "Aoi Sato", "--out", str(tmp_path / "no" / "such" / "dir.zip"), "--demo")
    assert bad.returncode == 1 and "Cannot write" in bad.stderr


def test_erase_needs_yes_and_keeps_what_moderation_must(world):
    app, seeded, env = world
    aoi = seeded.users["aoi"]
    with app.db.session() as s:
        s.add(Artwork(owner_id=aoi, source_url="https://x.com/aoi_draws/status/1", blob=app.blobs.put(b"art"),
                      phash=1234, pdq="ab" * 32, fingerprint_blob="f" * 64))
        s.add(Report(reporter_id=aoi, target_kind="generation", target_id=seeded.gens["filler0"],
                     reason="my phone number is 555", source="web"))
        s.commit()
    refused = admin(env, "erase", str(aoi), "--demo")
    assert refused.returncode == 1 and "--yes" in refused.stderr
    with app.db.session() as s:
        assert s.get(User, aoi).erased_at is None
    result = admin(env, "erase", str(aoi), "--yes", "--demo")
    assert result.returncode == 0, result.stderr
    with app.db.session() as s:
        user = s.get(User, aoi)
        assert user.erased_at is not None and user.display_name == "" and user.discord_id is None
        makers = s.exec(select(Maker).where(Maker.owner_id == aoi)).all()
        assert {m.status for m in makers} == {"revoked"} and all(not m.lora_blob for m in makers)
        assert not s.exec(select(MakerImage).where(MakerImage.maker_id.in_([m.id for m in makers]))).all()
        assert not s.exec(select(SocialAccount).where(SocialAccount.user_id == aoi)).all()
        [artwork] = s.exec(select(Artwork).where(Artwork.owner_id == aoi)).all()
        assert (artwork.phash, artwork.pdq, artwork.blob) == (1234, "ab" * 32, "")
        assert artwork.source_url  # the registry counts a claim with its post as ownership
        [report] = s.exec(select(Report).where(Report.source == "web")).all()
        assert report.reporter_id is None and report.reason == "" and report.target_id == seeded.gens["filler0"]
        assert s.get(Generation, seeded.gens["traced"]).image_blobs == []
    for key in ("aoi-style.train0", "aoi-style.lora", "aoi-style.sample", "traced.image"):
        assert not app.blobs.exists(seeded.blobs[key]), key
    assert app.blobs.exists(seeded.blobs["ren-pastel.train0"])  # someone else's
    [event] = _audit(app, "user.erase")
    assert event.target_id == aoi and event.detail["by"] == "operator"
    users = {r["id"]: r for r in json.loads(admin(env, "users", "--json", "--demo").stdout)}
    assert users[aoi]["erased"] and users[aoi]["name"] == ""
