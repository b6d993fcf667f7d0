"""The whole product through Discord: an artist verifies against the fake X, creates a maker from their posted
art, a moderator approves it, a real arq worker trains it on the tiny model, a fan generates, the watermarked
result appears in the gallery channel, /trace finds it, a report and a takedown remove it, and /trace still
names it from a cropped copy."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlmodel import select

from data.models import Generation, JobStatus, Maker, MakerStatus
from tests.fakes.discord_fake.interactions import Upload
from verification.synthetic import draw_illustration

CODE = re.compile(r"mimic-[A-Z0-9]{4}-[A-Z0-9]{4}")


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _jpeg(image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=88)
    return out.getvalue()


async def verify_through_discord(world, user: str, platform: str, handle: str, posts: list) -> str:
    """Post `posts` on a fake social account, then /verify start, put the code in the bio, /verify check."""
    account = world.social.add_account(platform, handle, bio="I draw")
    for image in posts:
        world.social.add_post(account, images=[_png(image)], text="new piece")
    _, started = await world.run("verify start", {"platform": platform, "handle": f"@{handle}"}, user=user)
    code = CODE.search(started.content).group(0)
    _, early = await world.run("verify check", user=user)
    assert early.ephemeral and "couldn't find the code" in early.content  # the code is not there yet
    account.bio = f"I draw. {code}"
    _, linked = await world.run("verify check", user=user, timeout=30)
    assert "Linked" in linked.content, linked.content
    return linked.content


@pytest.mark.bot_settings(engine=True)
async def test_artist_to_fan_to_trace_to_takedown(world):
    pytest.importorskip("verification.registry", reason="the ownership registry has not landed yet")
    world.discord.create_user("kuro")
    aoi_posts = [draw_illustration(seed, (256, 256)) for seed in range(1, 7)]
    kuro_posts = [draw_illustration(seed, (256, 256)) for seed in range(101, 104)]

    linked = await verify_through_discord(world, "artist", "x", "aoi_draws", aoi_posts)
    assert "6 of your posted images" in linked
    await verify_through_discord(world, "kuro", "bluesky", "kuro.bsky.social", kuro_posts)
    _, status = await world.run("verify status", user="artist")
    assert "aoi_draws" in status.content

    gallery = world.discord.channel("gallery")
    await world.run("server settings", {"gallery_channel": gallery, "review_required": True}, user="manager")

    # another artist's work among the uploads: nothing is created
    borrowed = [Upload(f"aoi-{i}.jpg", _jpeg(img)) for i, img in enumerate(aoi_posts[:3])]
    borrowed.append(Upload("nice.jpg", _jpeg(kuro_posts[0])))
    _, _, refused = await world.submit_form("maker create", {"name": "aoi"}, borrowed, user="artist")
    assert refused.ephemeral and "another artist" in refused.content
    assert await world.core.db(lambda s: s.exec(select(Maker)).all()) == []

    uploads = [Upload(f"aoi-{i}.jpg", _jpeg(img)) for i, img in enumerate(aoi_posts[:4])]
    uploads.append(Upload("broken.png", b"\x89PNG\r\n\x1a\n not really", "image/png"))
    _, _, created = await world.submit_form("maker create", {"name": "aoi"}, uploads, user="artist")
    assert "waiting for a moderator's review (4 images accepted)" in created.content
    assert "broken.png" in created.content  # the refused file is named, politely

    _, queue = await world.run("review queue", user="moderator")
    assert "**aoi**" in queue.content and "4 images" in queue.content
    _, approved = await world.run("review approve", {"name": "aoi"}, user="moderator")
    assert "training is queued" in approved.content

    await world.start_worker()
    ready = await world.discord.wait_for_message(gallery, lambda m: "is ready" in m.content, timeout=120)
    assert "@aoi_draws" in ready.content
    training = await world.discord.wait_for_message(gallery, lambda m: "Training images" in m.content, timeout=10)
    assert len(training.files) == 4 and training.source == "bot"

    handle, queued = await world.run("generate", {"maker": "aoi", "prompt": "smiling", "seed": 7, "count": 2},
                                     locale="ja")
    assert handle.callbacks[0].type == 5 and "待ち順" in queued.content  # deferred at once; Japanese replies
    gen_id = (await world.core.db(lambda s: s.exec(select(Generation)).one())).id
    posted = await world.bot.poster.wait_posted(gen_id, timeout=120)
    message = world.discord.messages[posted.id]
    assert message.channel_id == gallery.id and message.source == "bot"
    assert "@aoi_draws" in message.text() and len(message.files) == 2
    await handle.wait_response(10, lambda m: "完成しました" in m.content)  # the requester's message, edited

    _, traced = await world.run("trace", {"image": Upload("found-online.png", message.files[1].data)})
    assert f"result #{gen_id}" in traced.content and "@aoi_draws" in traced.content

    # more requests queue up while the worker is away; the artist's revocation will stop them
    await world.stop_worker()
    click = await world.discord.inject_component(message, f"mimic:reroll:{gen_id}", user="fan")
    await click.wait_response(10, lambda m: "position" in m.content)
    _, refused_remake = await world.run("remake", {"maker": "aoi", "image": Upload("k.jpg", _jpeg(kuro_posts[1]))})
    assert "another artist's work" in refused_remake.content
    photo = _jpeg(draw_illustration(999, (128, 128), style="flat"))
    _, remake = await world.run("remake", {"maker": "aoi", "image": Upload("me.jpg", photo), "prompt": "summer"})
    assert "position" in remake.content

    _, reported = await world.run("report", {"target": str(gen_id), "reason": "too close to a real photo"})
    assert "report #" in reported.content.lower()
    _, taken = await world.run("takedown", {"target": str(gen_id), "reason": "upheld report"}, user="moderator")
    assert f"#{gen_id}" in taken.content
    assert world.discord.messages[posted.id].deleted
    # a copy with the credit cropped off has lost the mark too; it still names the taken-down result, by content
    found = Image.open(io.BytesIO(message.files[0].data))
    cropped = _jpeg(found.crop((5, 5, found.width * 6 // 7, found.height * 8 // 9)))
    _, traced = await world.run("trace", {"image": Upload("cropped.jpg", cropped)})
    assert f"result #{gen_id}" in traced.content and "comparing the picture itself" in traced.content

    _, revoked = await world.run("maker revoke", {"name": "aoi"}, user="artist")
    assert "stopped" in revoked.content
    later = await world.core.db(lambda s: s.exec(select(Generation).where(Generation.id != gen_id)).all())
    assert sorted(g.kind for g in later) == ["remake", "txt2img"]
    assert {g.status for g in later} == {JobStatus.cancelled.value}


async def test_revocation_stops_queued_jobs_at_once(world):
    artist = await world.verified_artist()
    await world.ready_maker(artist, usage="personal")
    for prompt in ("one", "two"):
        _, queued = await world.run("generate", {"maker": "aoi", "prompt": prompt})
        assert "position" in queued.content
    assert await world.core.queue.length() == 2

    _, denied = await world.run("maker revoke", {"name": "aoi"}, user="fan")
    assert "Only the artist" in denied.content
    _, revoked = await world.run("maker revoke", {"name": "aoi"}, user="artist")
    assert "stopped" in revoked.content
    rows = await world.core.db(lambda s: s.exec(select(Generation)).all())
    assert {r.status for r in rows} == {JobStatus.cancelled.value}
    maker = await world.core.db(lambda s: s.exec(select(Maker)).one())
    assert maker.status == MakerStatus.revoked.value and maker.lora_blob == ""

    from engine.worker import build_worker

    from data.context import AppContext

    worker = build_worker(world.app.settings, app=AppContext.create(world.app.settings), burst=True,
                          handle_signals=False)
    await worker.main()  # drains the queue: the aborted jobs produce nothing
    assert [m for m in world.discord.messages.values() if m.source == "bot"] == []
    _, after = await world.run("generate", {"maker": "aoi", "prompt": "three"})
    assert "no longer available" in after.content

