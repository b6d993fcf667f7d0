"""Stopping the bot with work in flight: new interactions are turned away politely, those in flight finish, and
nothing hits a closed HTTP session (no `RuntimeError: Session is closed` tracebacks)."""
from __future__ import annotations

import asyncio
import logging

import pytest


@pytest.mark.bot_settings(daily_generations_per_fan=1000, shutdown_grace_s=30)
async def test_stopping_with_100_commands_in_flight_answers_every_one_without_a_traceback(world, caplog):
    artist = await world.verified_artist()
    await world.ready_maker(artist)
    caplog.set_level(logging.WARNING)
    handles = await asyncio.gather(*(world.discord.inject_slash_command(
        "generate", {"maker": "aoi", "prompt": f"a cat {i}"}) for i in range(100)))
    await asyncio.sleep(0.05)  # acknowledged, most of them waiting for a work slot

    closing = asyncio.create_task(world.bot.close())
    await asyncio.sleep(0)
    late = await world.discord.inject_slash_command("generate", {"maker": "aoi", "prompt": "too late"}, locale="ja")
    await closing
    await asyncio.sleep(1.0)  # anything the bot left running would fail now, with its HTTP session closed

    answers = [h.original for h in handles]
    unanswered = [h.id for h, a in zip(handles, answers) if a is None or a.loading]
    assert not unanswered, f"{len(unanswered)} interactions in flight were left without an answer"
    assert all("queue" in a.text().lower() or "please wait" in a.text().lower() for a in answers), {a.text() for a in answers}
    assert late.original is not None and "再起動中" in late.original.text() and late.original.ephemeral
    assert "Session is closed" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.bot_settings(shutdown_grace_s=0.2)
async def test_work_that_outlives_the_grace_period_is_cancelled_quietly(world, caplog):
    """A handler stuck past SHUTDOWN_GRACE_S is cancelled before the session closes: a warning, no traceback."""
    caplog.set_level(logging.WARNING)
    world.bot.work_slots = asyncio.Semaphore(0)  # every acknowledged command waits for a slot forever
    handle = await world.discord.inject_slash_command("maker list")
    await handle.wait_callback(5)
    await world.bot.close()
    await asyncio.sleep(0.5)
    assert "did not finish within" in caplog.text
    assert "Session is closed" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_result_being_posted_when_the_bot_stops_is_posted_and_recorded(world):
    """Stopping does not cut a post in half (which the next start's catch-up would post a second time)."""
    from data.events import GenerationDone
    from data.models import Generation

    artist = await world.verified_artist()
    maker = await world.ready_maker(artist)
    gen = await world.finished_generation(maker, await world.db_user("fan"))
    route = "POST /channels/{channel_id}/messages"
    world.discord.inject_429(route, retry_after=1.0)  # discord.py waits a second and sends again
    await world.app.events.publish(GenerationDone(id=gen.id, maker_id=maker.id))
    await world.discord.wait_for_request(route, lambda r: r.status == 429)

    await world.bot.close()

    row = await world.core.db(lambda s: s.get(Generation, gen.id))
    assert row.message_id is not None and row.message_id in world.discord.messages
    assert len([r for r in world.discord.requests_to(route) if r.status == 200]) == 1
