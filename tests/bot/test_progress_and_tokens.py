"""Progress edits (at most every 3 s), the 15-minute interaction token, and Discord's 10-files rule."""
from __future__ import annotations

from sqlmodel import select

from data.events import GenerationDone, GenerationStarted
from data.models import Generation

EDIT = "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"


async def _queued(world):
    artist = await world.verified_artist()
    maker = await world.ready_maker(artist, usage="personal")
    handle, answer = await world.run("generate", {"maker": "aoi", "prompt": "a cat"})
    gen = await world.core.db(lambda s: s.exec(select(Generation)).one())
    return maker, gen, handle, answer


async def test_progress_edits_are_throttled_to_one_every_3_seconds(world):
    maker, gen, handle, answer = await _queued(world)
    edits_before = answer.edits
    for _ in range(5):
        await world.app.events.publish(GenerationStarted(id=gen.id, maker_id=maker.id))
    await handle.wait_response(5, lambda m: "Generating" in m.content)

    # the final result is not progress: it is always reported, and posted in public with the bot token
    gen_row = await world.core.db(lambda s: s.get(Generation, gen.id))
    gen_row.status, gen_row.image_blobs = "done", [world.app.blobs.put(b"\x89PNG\r\n\x1a\nnot-really-an-image")]
    await world.core.db(lambda s: (s.merge(gen_row), s.commit()))
    await world.app.events.publish(GenerationDone(id=gen.id, maker_id=maker.id))
    await world.bot.poster.wait_posted(gen.id)
    final = await handle.wait_response(5, lambda m: "Done!" in m.content)
    assert final.edits - edits_before == 2  # one progress edit out of five events, then the final one


async def test_after_15_minutes_the_result_is_still_posted_with_the_bot_token(world):
    maker, gen, handle, answer = await _queued(world)
    world.discord.clock.advance(16 * 60)  # the interaction token has expired
    gen_row = await world.core.db(lambda s: s.get(Generation, gen.id))
    gen_row.status, gen_row.image_blobs = "done", [world.app.blobs.put(b"\x89PNG\r\n\x1a\nstill-fine")]
    await world.core.db(lambda s: (s.merge(gen_row), s.commit()))
    await world.app.events.publish(GenerationDone(id=gen.id, maker_id=maker.id))
    posted = await world.bot.poster.wait_posted(gen.id)
    message = world.discord.messages[posted.id]
    assert message.source == "bot" and len(message.files) == 1
    late_edits = [r for r in world.discord.requests_to(EDIT) if r.status >= 400]
    assert all(r.status == 401 for r in late_edits)  # any attempt was refused by Discord, and survived
    assert "Done!" not in world.discord.messages[answer.id].content


async def test_more_than_10_images_are_split_over_several_messages(world):
    artist = await world.verified_artist()
    maker = await world.ready_maker(artist)
    gen = await world.finished_generation(maker, await world.db_user("fan"), images=12)
    first = await world.bot.poster.post_generation(gen.id)
    channel_messages = [m for m in world.discord.messages_in("general") if m.source == "bot"]
    assert [len(m.files) for m in channel_messages] == [10, 2]
    assert channel_messages[0].id == first.id


async def test_images_over_the_size_limit_are_left_out_with_a_note(world):
    artist = await world.verified_artist()
    maker = await world.ready_maker(artist)
    gen = await world.finished_generation(maker, await world.db_user("fan"), images=1)
    big = world.app.blobs.put(b"\x89PNG\r\n\x1a\n" + b"0" * (11 * 1024 * 1024))
    row = await world.core.db(lambda s: s.get(Generation, gen.id))
    row.image_blobs = [*row.image_blobs, big]
    await world.core.db(lambda s: (s.merge(row), s.commit()))
    posted = await world.bot.poster.post_generation(gen.id)
    message = world.discord.messages[posted.id]
    assert len(message.files) == 1 and "too large" in message.text()


async def test_a_rate_limited_gallery_post_is_retried(world):
    artist = await world.verified_artist()
    maker = await world.ready_maker(artist)
    gen = await world.finished_generation(maker, await world.db_user("fan"))
    route = "POST /channels/{channel_id}/messages"
    world.discord.inject_429(route, count=1, retry_after=0.2)
    await world.app.events.publish(GenerationDone(id=gen.id, maker_id=maker.id))
    posted = await world.bot.poster.wait_posted(gen.id, timeout=10)
    assert [r.status for r in world.discord.requests_to(route)] == [429, 200]
    assert world.discord.messages[posted.id].source == "bot"
