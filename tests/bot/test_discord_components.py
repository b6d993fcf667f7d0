"""Today's Discord components through the real discord.py client: the upload form (a modal of file uploads), the
result as a Components V2 card, maker names by autocomplete, per-person cooldowns and guild-only commands."""
from __future__ import annotations

from datetime import timezone

import pytest
from sqlmodel import select

from bot.core.accounts import VerificationResult, index_portfolio
from data.events import GenerationDone
from data.models import Maker, MakerImage, MakerStatus, SocialAccount, utcnow
from tests.bot.conftest import png
from tests.fakes.discord_fake.components import IS_COMPONENTS_V2, walk
from tests.fakes.discord_server import Upload
from verification.accounts import PortfolioItem

MESSAGE_ROUTE = "POST /channels/{channel_id}/messages"


async def _artist_with_posts(world, posts: int):
    """A verified artist whose `posts` posted images are indexed; returns (user, the images' bytes)."""
    artist = await world.verified_artist(handle="aoi_draws")
    account = await world.core.db(lambda s: s.exec(select(SocialAccount)).one())
    images = [png(500 + i, size=96) for i in range(posts)]
    items = [PortfolioItem(post_url=f"https://x.com/aoi_draws/status/{i}", posted_at=utcnow(),
                           media_url=f"https://pbs.example/{i}.png", image_bytes=data)
             for i, data in enumerate(images)]
    await index_portfolio(world.core, artist.id, account, items, VerificationResult(account, "bio"))
    return artist, images


async def test_thirty_files_in_the_form_one_bad_one_named_the_others_train(world):
    _, images = await _artist_with_posts(world, 29)
    files = [Upload(f"aoi-{i}.png", data, "image/png") for i, data in enumerate(images)]
    files.insert(14, Upload("notes.txt", b"my shopping list", "text/plain"))  # among them, not last
    assert len(files) == 30

    form, submitted, reply = await world.submit_form("maker create", {"name": "aoi"}, files, user="artist")

    # the form as Discord received it: three labelled file uploads of ten, and the posts checkbox
    uploads = [c["component"] for c in form["components"] if c["type"] == 18 and c["component"]["type"] == 19]
    assert [(u["min_values"], u["max_values"], u["required"]) for u in uploads] == [(0, 10, False)] * 3
    assert form["components"][3]["component"]["type"] == 23 and form["title"] == "New maker: aoi"
    # the submission as Discord sends it: attachment ids per field, resolved in data.resolved.attachments
    data = submitted.payload["data"]
    sent = [c["component"]["values"] for c in data["components"] if c["component"]["type"] == 19]
    assert [len(ids) for ids in sent] == [10, 10, 10]
    assert set(data["resolved"]["attachments"]) == {i for ids in sent for i in ids}

    assert reply.ephemeral and "queued for training (position 1, 29 images accepted)" in reply.content
    assert "• notes.txt: this is not an image we can read" in reply.content
    maker = await world.core.db(lambda s: s.exec(select(Maker)).one())
    assert maker.name == "aoi" and maker.status == MakerStatus.training.value
    used = await world.core.db(lambda s: s.exec(select(MakerImage).where(MakerImage.maker_id == maker.id)).all())
    assert len(used) == 29 and len({m.artwork_id for m in used}) == 29


async def test_the_form_can_add_the_linked_accounts_posts_each_work_once(world):
    _, images = await _artist_with_posts(world, 5)
    files = [Upload("first.png", images[0], "image/png"), Upload("again.png", images[0], "image/png")]
    _, _, reply = await world.submit_form("maker create", {"name": "aoi"}, files, user="artist",
                                          checks={"from_posts": True})
    assert "5 images accepted" in reply.content  # the upload, and the four other posts
    assert "• again.png: the same work is already among these images" in reply.content


async def test_the_form_is_not_opened_for_what_no_upload_could_fix(world):
    handle = await world.discord.inject_slash_command("maker create", {"name": "aoi"}, user="fan", locale="ja")
    answer = await handle.wait_response()
    assert handle.modal is None and "/verify start" in answer.content and "連携" in answer.content
    await world.verified_artist()
    _, _, nothing = await world.submit_form("protect files", {}, [], user="artist")
    assert "at least one image" in nothing.content


async def test_the_result_is_a_components_v2_card(world):
    artist = await world.verified_artist()
    maker = await world.ready_maker(artist, usage="commercial")
    fan = await world.db_user("fan")
    gen = await world.finished_generation(maker, fan, images=2)
    await world.app.events.publish(GenerationDone(id=gen.id, maker_id=maker.id, images=tuple(gen.image_blobs)))
    posted = await world.bot.poster.wait_posted(gen.id)

    request = next(r for r in world.discord.requests_to(MESSAGE_ROUTE) if r.status == 200)
    body = request.json
    assert body["flags"] & IS_COMPONENTS_V2 and not body.get("content") and not body.get("embeds")
    (card,) = body["components"]
    assert card["type"] == 17  # one container holding everything
    kinds = [c["type"] for c in card["components"]]
    assert kinds == [10, 12, 10, 14, 1]  # heading, media gallery, facts, separator, buttons
    heading, gallery, facts, _, row = card["components"]
    assert "aoi" in heading["content"] and "@aoi" in heading["content"]
    files = [f.filename for f in request.files]
    assert [item["media"]["url"] for item in gallery["items"]] == [f"attachment://{name}" for name in files]
    assert all("@aoi" in item["description"] for item in gallery["items"])
    assert "commercial use OK" in facts["content"] and f"`{gen.trace_id:010x}`" in facts["content"]
    assert f"{world.app.settings.public_url}/g/{gen.id}" in facts["content"]  # the web page that credits it too
    lock = int(gen.undeletable_until.replace(tzinfo=timezone.utc).timestamp())
    assert f"<t:{lock}:f>" in facts["content"] and "48 hours" in facts["content"]  # shown in the reader's time
    assert [b["custom_id"] for b in row["components"]] == [f"mimic:{a}:{gen.id}" for a in
                                                          ("reroll", "variations", "report", "delete")]
    assert body["allowed_mentions"]["parse"] == []  # the prompt and the requester's mention ping nobody

    stored = world.discord.messages[posted.id]  # Discord filled in the component ids
    assert all(c.get("id") for c in walk(stored.components)) and stored.components_v2
    # the buttons of the card keep their behaviour: the requester waits out the lock
    click = await world.discord.inject_component(stored, f"mimic:delete:{gen.id}", user="fan")
    refusal = await click.wait_response()
    assert refusal.ephemeral and "48 hours" in refusal.content and not stored.deleted


async def test_maker_names_autocomplete_to_what_the_user_may_use(world):
    artist = await world.verified_artist()
    other = await world.verified_artist("moderator", handle="mod_art")
    fan = await world.db_user("fan")
    await world.ready_maker(artist, name="aoi", usage="personal")
    await world.ready_maker(artist, name="aoi-secret", visibility="private")
    await world.ready_maker(artist, name="aoi-mine", usage="not_allowed")
    await world.ready_maker(artist, name="aoi-hidden", visibility="unlisted")
    await world.ready_maker(artist, name="aoi-training", status=MakerStatus.training.value)
    await world.ready_maker(artist, name="aoi-gone", status=MakerStatus.revoked.value)
    await world.ready_maker(other, name="mod-style", usage="commercial")
    await world.ready_maker(fan, name="fan-private", visibility="private", usage="not_allowed")

    handle = await world.discord.inject_autocomplete("generate", {"maker": "", "prompt": "x"}, focused="maker",
                                                     user="fan")
    choices = await handle.wait_autocomplete()
    assert handle.callbacks[0].type == 8 and handle.callbacks[0].ok
    assert [c["value"] for c in choices] == ["aoi", "fan-private", "mod-style"]
    assert choices[0]["name"] == "aoi — @aoi · 🏠 personal use"

    handle = await world.discord.inject_autocomplete("remake", {"maker": "AO"}, focused="maker", user="artist",
                                                     locale="ja")
    assert [c["value"] for c in await handle.wait_autocomplete()] == ["aoi", "aoi-hidden", "aoi-mine",
                                                                      "aoi-secret"]
    handle = await world.discord.inject_autocomplete("maker revoke", {"name": ""}, focused="name", user="artist")
    assert [c["value"] for c in await handle.wait_autocomplete()] == [
        "aoi", "aoi-hidden", "aoi-mine", "aoi-secret", "aoi-training"]  # their own, not yet revoked
    handle = await world.discord.inject_autocomplete("maker settings", {"name": "a"}, focused="name", user="fan")
    assert [c["value"] for c in await handle.wait_autocomplete()] == ["fan-private"]


async def test_autocomplete_offers_at_most_25_names(world):
    artist = await world.verified_artist()
    for number in range(30):
        await world.ready_maker(artist, name=f"style-{number:02d}")
    handle = await world.discord.inject_autocomplete("generate", {"maker": "style"}, focused="maker")
    choices = await handle.wait_autocomplete()
    assert len(choices) == 25 and choices[0]["value"] == "style-00"


@pytest.mark.bot_settings(generation_cooldown_requests=2, generation_cooldown_s=600)
async def test_generation_cooldown_answers_politely_in_the_users_language(world):
    artist = await world.verified_artist()
    maker = await world.ready_maker(artist, usage="personal")
    for prompt in ("one", "two"):
        _, queued = await world.run("generate", {"maker": "aoi", "prompt": prompt})
        assert "position" in queued.content
    handle, slow = await world.run("generate", {"maker": "aoi", "prompt": "three"})
    assert handle.callbacks[0].type == 4  # answered at once, not deferred: nothing was queued
    assert slow.ephemeral and "please wait" in slow.content and "Thank you" in slow.content
    assert await world.core.queue.length() == 2

    # the buttons count too: a reroll cannot dodge the limit
    gen = await world.finished_generation(maker, await world.db_user("fan"))
    posted = world.discord.messages[(await world.bot.poster.post_generation(gen.id)).id]
    click = await world.discord.inject_component(posted, f"mimic:reroll:{gen.id}", user="fan", locale="ja")
    answer = await click.wait_response()
    assert "秒ほどお待ちください" in answer.content
    assert await world.core.queue.length() == 2
    # someone else is not slowed down by the fan
    _, other = await world.run("remake", {"maker": "aoi", "image": Upload("me.png", png(77, size=96))},
                               user="manager")
    assert "position" in other.content


async def test_commands_outside_a_server_are_refused_politely(world):
    dm = world.discord.dm_channel(world.discord.user("fan"))
    _, answer = await world.run("gallery", channel=dm, locale="ja")
    assert answer.content == "このコマンドはサーバー内で使ってください。"
