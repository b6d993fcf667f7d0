"""Ownership by the earliest post, through Discord: a thief who linked first loses the work and their maker the
moment the real artist runs /verify check (the thief's posted result leaves the gallery channel, both are told by
DM in their language); the reverse order refuses the thief; same-day posts wait in /review disputes until a
moderator decides; an artist can /contest; a file that forbids AI training or whose C2PA creator is someone else is
refused. The fake Bluesky's posts carry their dates."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from bot.core import Actor
from bot.core.makers import create_maker
from data.events import GenerationDone
from data.models import Dispute, JobStatus, Maker, MakerStatus, Report, TrainingJob
from engine.jobs import finish_training
from tests.bot.test_artist_journey import _jpeg, _png
from tests.core.test_provenance import c2pa_signed
from tests.core.test_provenance import jpeg as provenance_jpeg
from tests.fakes.discord_server import Upload
from verification.provenance import read_provenance
from verification.synthetic import draw_illustration

CODE = re.compile(r"mimic-[A-Z0-9]{4}-[A-Z0-9]{4}")
ARTIST_DATES = [datetime(2020, 3, d, 12, tzinfo=timezone.utc) for d in range(1, 5)]
THIEF_DATES = [datetime(2026, 11, d, 12, tzinfo=timezone.utc) for d in range(1, 5)]


async def verify(world, user: str, handle: str, images, dates, *, locale: str = "en-US"):
    account = world.social.add_account("bluesky", handle, bio="I draw")
    for image, when in zip(images, dates):
        world.social.add_post(account, images=[image], text="new piece", posted_at=when)
    _, started = await world.run("verify start", {"platform": "bluesky", "handle": handle}, user=user,
                                 locale=locale)
    account.bio = f"I draw. {CODE.search(started.content).group(0)}"
    _, linked = await world.run("verify check", user=user, timeout=30, locale=locale)
    return linked


async def posted_maker(world, user: str, name: str):
    """The user's maker from their posts, trained (the worker's own finishing step), with a result posted in the
    gallery channel."""
    db_user = await world.db_user(user)
    created = await create_maker(world.core, Actor(user_id=db_user.id), name, [], from_posts=True)
    job = await world.core.db(lambda s: s.exec(select(TrainingJob).where(
        TrainingJob.maker_id == created.maker.id)).one())
    finish_training(world.app, job.id, created.maker.id, JobStatus.done, lora_blob=world.app.blobs.put(b"lora"))
    await world.run("server settings", {"gallery_channel": world.discord.channel("gallery")}, user="manager")
    maker = await world.core.db(lambda s: s.get(Maker, created.maker.id))
    gen = await world.finished_generation(maker, await world.db_user("fan"))
    await world.app.events.publish(GenerationDone(id=gen.id, maker_id=maker.id, images=tuple(gen.image_blobs)))
    message = await world.bot.poster.wait_posted(gen.id)
    return maker, message


def dms(world, user: str) -> list[str]:
    return [m.text() for m in world.discord.messages_in(world.discord.dm_channel(world.discord.user(user)))]


async def test_thief_first_then_artist_through_discord(world):
    world.discord.create_user("thief")
    drawings = [draw_illustration(seed, (256, 256)) for seed in range(1, 5)]
    stolen = await verify(world, "thief", "thief.bsky.social", [_jpeg(d) for d in drawings], THIEF_DATES)
    assert "Linked" in stolen.content
    maker, gallery_post = await posted_maker(world, "thief", "stolen")

    linked = await verify(world, "artist", "aoi.bsky.social", [_png(d) for d in drawings], ARTIST_DATES,
                          locale="ja")
    assert "4 件があなたのもの" in linked.content, linked.content  # told in Japanese, their language
    row = await world.core.db(lambda s: s.get(Maker, maker.id))
    assert row.status == MakerStatus.suspended.value
    assert world.discord.messages[gallery_post.id].deleted  # the thief's result left the gallery channel
    assert any("stolen" in text and "earlier" in text for text in dms(world, "thief"))
    assert any("あなたのもの" in text for text in dms(world, "artist"))
    artist = await world.db_user("artist")
    reports = await world.core.db(lambda s: s.exec(select(Report)).all())
    assert reports and not any(r.target_kind == "user" and r.target_id == artist.id for r in reports)
    _, suspended = await world.run("review suspended", user="moderator")
    assert "**stolen** (ready)" in suspended.content
    _, settled = await world.run("review settle", {"name": "stolen", "decision": "delete"}, user="moderator")
    assert "taken_down" in settled.content


async def test_artist_first_refuses_the_thief_through_discord(world):
    world.discord.create_user("thief")
    drawings = [draw_illustration(seed, (256, 256)) for seed in range(11, 14)]
    await verify(world, "artist", "aoi.bsky.social", [_png(d) for d in drawings], ARTIST_DATES)
    linked = await verify(world, "thief", "thief.bsky.social", [_jpeg(d) for d in drawings], THIEF_DATES)
    assert "Linked" in linked.content and "yours now" not in linked.content
    statuses = await world.core.db(lambda s: {d.status for d in s.exec(select(Dispute)).all()})
    assert statuses == {"refused"}
    assert dms(world, "artist") == [] and dms(world, "thief") == []


async def test_same_day_posts_wait_for_a_moderator_then_contest(world):
    world.discord.create_user("thief")
    drawings = [draw_illustration(seed, (256, 256)) for seed in range(21, 23)]
    morning = [datetime(2025, 6, 1, 9, tzinfo=timezone.utc), datetime(2025, 6, 2, 9, tzinfo=timezone.utc)]
    await verify(world, "thief", "thief.bsky.social", [_jpeg(d) for d in drawings], morning)
    maker, _ = await posted_maker(world, "thief", "stolen")
    linked = await verify(world, "artist", "aoi.bsky.social", [_png(d) for d in drawings],
                          [m + timedelta(hours=2) for m in morning])
    assert "2 works have unclear dates" in linked.content
    assert (await world.core.db(lambda s: s.get(Maker, maker.id))).status == MakerStatus.ready.value

    _, fan_view = await world.run("review disputes", user="fan")
    assert "Only moderators" in fan_view.content
    _, listing = await world.run("review disputes", user="moderator")
    assert listing.content.count("**Dispute") == 2 and "2025-06-01 09:00 UTC" in listing.content
    disputes = await world.core.db(lambda s: s.exec(select(Dispute).order_by(Dispute.id)).all())
    _, evidence = await world.run("review disputes", {"dispute": disputes[0].id}, user="moderator")
    assert sorted(f.filename.split(".")[0] for f in evidence.files) == [
        f"dispute-{disputes[0].id}-claimant", f"dispute-{disputes[0].id}-holder"]  # both images, side by side

    _, kept = await world.run("review decide", {"dispute": disputes[0].id, "decision": "keep"}, user="moderator")
    assert "kept" in kept.content
    assert (await world.core.db(lambda s: s.get(Maker, maker.id))).status == MakerStatus.ready.value
    _, moved = await world.run("review decide", {"dispute": disputes[1].id, "decision": "move",
                                                 "note": "older sketches"}, user="moderator")
    assert "moved" in moved.content and "stolen" in moved.content
    assert (await world.core.db(lambda s: s.get(Maker, maker.id))).status == MakerStatus.suspended.value

    # the artist contests the kept one with the link of their post
    _, contested = await world.run("contest", {"post": disputes[0].claimant_post_url, "reason": "my sketchbook"},
                                   user="artist")
    assert f"dispute {disputes[0].id}" in contested.content
    assert any("contested" in text for text in dms(world, "thief"))


async def test_a_file_that_forbids_ai_training_is_refused_in_the_artists_language(world):
    drawings = [draw_illustration(seed, (256, 256)) for seed in range(31, 33)]
    await verify(world, "artist", "aoi.bsky.social", [_png(d) for d in drawings], ARTIST_DATES, locale="ja")
    out = io.BytesIO()
    packet = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              '<rdf:Description rdf:about="" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/"><plus:DataMining>'
              'http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING</plus:DataMining></rdf:Description>'
              '</rdf:RDF></x:xmpmeta>')
    drawings[0].convert("RGB").save(out, "JPEG", quality=90, xmp=packet.encode())
    _, _, ja = await world.submit_form("maker create", {"name": "aoi"}, [Upload("dmi.jpg", out.getvalue())],
                                       user="artist", locale="ja")
    assert "AI学習を禁止" in ja.content and "DMI-PROHIBITED-AIMLTRAINING" in ja.content, ja.content
    _, _, en = await world.submit_form("maker create", {"name": "aoi"}, [Upload("dmi.jpg", out.getvalue())],
                                       user="artist")
    assert "the file's own metadata forbids AI training" in en.content
    assert await world.core.db(lambda s: s.exec(select(Maker)).all()) == []


async def test_a_file_whose_c2pa_creator_is_someone_else_is_refused_in_both_languages(world, tmp_path):
    """The artist's own posted drawing, but its signed C2PA manifest names another creator: /maker create refuses
    it with the reason (who the file names, and the signer) in the artist's language, and nothing is created or
    kept."""
    drawings = [draw_illustration(seed, (256, 256)) for seed in range(41, 43)]
    await verify(world, "artist", "aoi.bsky.social", [_png(d) for d in drawings], ARTIST_DATES)
    signed = c2pa_signed(provenance_jpeg(drawings[0]), tmp_path, author="Kuro Tanaka")
    assert read_provenance(signed).c2pa_valid  # a real, valid manifest, not merely a string in the file
    before = set(world.app.blobs.listing())
    _, _, ja = await world.submit_form("maker create", {"name": "aoi"}, [Upload("c2pa.jpg", signed)],
                                       user="artist", locale="ja")
    assert "ファイルには作者として「Kuro Tanaka」と記録されています" in ja.content and "C2PA" in ja.content, ja.content
    _, _, en = await world.submit_form("maker create", {"name": "aoi"}, [Upload("c2pa.jpg", signed)],
                                       user="artist")
    assert "c2pa.jpg: the file names its creator as “Kuro Tanaka” (C2PA (signed by " in en.content, en.content
    assert "ファイル" not in en.content
    assert await world.core.db(lambda s: s.exec(select(Maker)).all()) == []
    assert set(world.app.blobs.listing()) == before  # no copy of the refused file
