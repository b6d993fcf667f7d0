"""Journeys that need no GPU work: results posted from worker events, buttons, reports, takedowns, bans,
server settings, permissions and error handling — all through the real discord.py client."""
from __future__ import annotations

import asyncio

from sqlmodel import select

from data.events import GenerationDone, TrainingDone
from data.models import AuditEvent, Generation, GuildSettings, Report, User
from tests.fakes.discord_fake.interactions import Upload
from tests.fakes.discord_fake.records import EPHEMERAL


async def _posted(world, gen_id: int, channel: str = "gallery"):
    return await world.discord.wait_for_message(channel, lambda m: any(
        f"mimic:reroll:{gen_id}" == cid for cid in m.custom_ids()), timeout=10)


async def test_result_is_posted_with_the_bot_token_in_the_gallery_channel(world):
    artist = await world.verified_artist()
    maker = await world.ready_maker(artist, usage="commercial")
    fan = await world.db_user("fan")
    await world.run("server settings", {"gallery_channel": world.discord.channel("gallery")}, user="manager")
    gen = await world.finished_generation(maker, fan, images=2)

    await world.app.events.publish(GenerationDone(id=gen.id, maker_id=maker.id, images=tuple(gen.image_blobs)))
    message = await _posted(world, gen.id)
    await world.bot.poster.wait_posted(gen.id)

    assert message.source == "bot"  # the bot token, not the 15-minute interaction webhook
    assert len(message.files) == 2
    text = message.text()
    assert "aoi" in text and "@aoi" in text  # maker and the artist's credit
    assert "commercial" in text.lower()  # the usage-scope badge
    assert f"{gen.trace_id:010x}" in text  # trace id
    assert set(message.custom_ids()) >= {f"mimic:{a}:{gen.id}" for a in ("reroll", "variations", "report", "delete")}
    row = await world.core.db(lambda s: s.get(Generation, gen.id))
    assert (row.message_id, row.channel_id) == (message.id, world.discord.channel("gallery").id)


async def test_without_a_gallery_channel_the_result_goes_to_the_request_channel(world):
    artist = await world.verified_artist()
    maker = await world.ready_maker(artist)
    gen = await world.finished_generation(maker, await world.db_user("fan"), channel="general")
    await world.app.events.publish(GenerationDone(id=gen.id, maker_id=maker.id))
    message = await _posted(world, gen.id, channel="general")
    assert message.source == "bot"


async def test_requester_cannot_delete_for_48_hours_but_a_moderator_can(world):
    artist = await world.verified_artist()
    maker = await world.ready_maker(artist)
    gen = await world.finished_generation(maker, await world.db_user("fan"))
    message = await world.bot.poster.post_generation(gen.id)
    posted = world.discord.messages[message.id]

    click = await world.discord.inject_component(posted, f"mimic:delete:{gen.id}", user="fan")
    refusal = await click.wait_response()
    assert refusal.ephemeral and "48 hours" in refusal.content
    assert not world.discord.messages[message.id].deleted

    click = await world.discord.inject_component(posted, f"mimic:delete:{gen.id}", user="moderator")
    done = await click.wait_response()
    assert f"#{gen.id}" in done.content
    assert world.discord.messages[message.id].deleted
    row = await world.core.db(lambda s: s.get(Generation, gen.id))
    assert row.taken_down and row.image_blobs == []


async def test_buttons_keep_working_after_a_restart(world, settings):
    """The report button of a message posted by a previous bot process opens the form and files a report."""
    from bot.discord.client import build_bot
    from tests.fakes.discord_server import running_bot

    artist = await world.verified_artist()
    maker = await world.ready_maker(artist)
    gen = await world.finished_generation(maker, await world.db_user("fan"))
    message = await world.bot.poster.post_generation(gen.id)
    await world.bot.close()

    fresh = build_bot(world.core, sync_commands=False)
    async with running_bot(fresh, world.discord, wait_ready=True):
        click = await world.discord.inject_component(world.discord.messages[message.id], f"mimic:report:{gen.id}",
                                                     user="fan")
        await click.wait_modal()
        submit = await world.discord.inject_modal_submit(click, {"reason": "this copies my character"})
        answer = await submit.wait_response()
        assert answer.ephemeral and "report #" in answer.content.lower()
    reports = await world.core.db(lambda s: s.exec(select(Report)).all())
    assert [(r.target_kind, r.target_id, r.reason) for r in reports] == [
        ("generation", gen.id, "this copies my character")]


async def test_report_then_takedown_removes_the_post_and_resolves_the_report(world):
    artist = await world.verified_artist()
    maker = await world.ready_maker(artist)
    gen = await world.finished_generation(maker, await world.db_user("fan"))
    message = await world.bot.poster.post_generation(gen.id)

    _, answer = await world.run("report", {"target": message.jump_url, "reason": "not the artist's style"})
    assert answer.ephemeral and "report #" in answer.content.lower()

    _, denied = await world.run("takedown", {"target": str(gen.id), "reason": "copied"}, user="fan")
    assert denied.ephemeral and "moderators" in denied.content.lower()
    assert not world.discord.messages[message.id].deleted

    _, done = await world.run("takedown", {"target": f"#{gen.id}", "reason": "copied"}, user="moderator")
    assert f"#{gen.id}" in done.content
    assert world.discord.messages[message.id].deleted
    report = await world.core.db(lambda s: s.exec(select(Report)).one())
    assert report.status == "upheld"


async def test_takedown_of_a_maker_by_name(world):
    artist = await world.verified_artist()
    await world.ready_maker(artist, name="kiri")
    _, done = await world.run("takedown", {"target": "kiri", "reason": "impersonation"}, user="manager")
    assert "kiri" in done.content
    _, refused = await world.run("generate", {"maker": "kiri", "prompt": "a fox"})
    assert refused.ephemeral and "no longer available" in refused.content


async def test_moderators_by_role_or_manage_server_and_nobody_else(world):
    _, fan = await world.run("review queue", user="fan")
    assert fan.ephemeral and "Only moderators" in fan.content
    _, by_role = await world.run("review queue", user="moderator")  # the "mimic-moderator" role
    assert "Nothing waits for review" in by_role.content
    _, by_permission = await world.run("review queue", user="manager")  # Manage Server
    assert "Nothing waits for review" in by_permission.content


async def test_a_configured_moderator_role_by_id(world):
    from tests.fakes.discord_fake.entities import FakeRole

    guild = world.discord.guild
    helpers = FakeRole(world.discord.snowflakes.next(), "helpers", permissions=0, position=1)
    guild.roles[helpers.id] = helpers
    world.discord.create_user("helper", roles=[helpers])
    _, before = await world.run("review queue", user="helper")
    assert "Only moderators" in before.content
    await world.run("server settings", {"moderator_role": helpers}, user="manager")
    _, after = await world.run("review queue", user="helper")
    assert "Nothing waits for review" in after.content


async def test_server_settings_are_moderator_only_and_saved(world):
    gallery = world.discord.channel("gallery")
    _, denied = await world.run("server settings", {"review_required": False}, user="fan")
    assert "Only moderators" in denied.content
    _, shown = await world.run("server settings", {"gallery_channel": gallery, "review_required": False,
                                                   "daily_limit": 3}, user="manager")
    assert f"<#{gallery.id}>" in shown.content
    row = await world.core.db(lambda s: s.get(GuildSettings, world.discord.guild.id))
    assert (row.gallery_channel_id, row.review_required, row.daily_generations_per_fan) == (gallery.id, False, 3)


async def test_ban_stops_a_fan_from_generating(world):
    artist = await world.verified_artist()
    await world.ready_maker(artist, usage="personal")
    _, refused = await world.run("ban", {"user": world.discord.user("fan"), "reason": "spam"}, user="fan")
    assert "Only moderators" in refused.content
    _, banned = await world.run("ban", {"user": world.discord.user("fan"), "reason": "spam"}, user="moderator")
    assert "banned" in banned.content
    _, answer = await world.run("generate", {"maker": "aoi", "prompt": "a cat"}, user="fan")
    assert answer.ephemeral and "banned" in answer.content
    user = await world.core.db(lambda s: s.exec(select(User).where(User.banned)).one())
    assert user.discord_id == world.discord.user("fan").id


async def test_refusals_are_ephemeral_and_in_the_users_language(world):
    _, english = await world.run("generate", {"maker": "nobody", "prompt": "a cat"})
    assert english.ephemeral and "There is no maker called “nobody”" in english.content
    _, japanese = await world.run("generate", {"maker": "nobody", "prompt": "a cat"}, locale="ja")
    assert japanese.ephemeral and "「nobody」というメーカーはありません" in japanese.content


async def test_quota_message_is_clear(world):
    artist = await world.verified_artist()
    maker = await world.ready_maker(artist, usage="personal", daily_limit=1)
    fan = await world.db_user("fan")
    await world.finished_generation(maker, fan)
    _, answer = await world.run("generate", {"maker": "aoi", "prompt": "again"})
    assert "1 of your 1 image for today" in answer.content


async def test_generate_acknowledges_within_3_seconds_and_shows_the_queue_position(world):
    artist = await world.verified_artist()
    await world.ready_maker(artist, usage="personal")
    handle, answer = await world.run("generate", {"maker": "aoi", "prompt": "a cat", "count": 2})
    callback = handle.callbacks[0]
    assert callback.ok and callback.type == 5  # deferred first: slow work never races the 3-second rule
    assert handle.ack_latency < 3.0
    assert answer.ephemeral and "position 1" in answer.content
    rows = await world.core.db(lambda s: s.exec(select(Generation)).all())
    assert [(r.count, r.status) for r in rows] == [(2, "queued")]
    assert await world.core.queue.length() == 1


async def test_unexpected_errors_get_a_polite_message_and_no_secret_in_the_log(world, caplog):
    """The database disappears under the bot: the user gets an apology, the log a traceback without the token."""
    import shutil

    world.app.db.engine.dispose()
    db_file = world.app.settings.resolved_database_url.removeprefix("sqlite:///")
    shutil.move(db_file, db_file + ".gone")
    with caplog.at_level("ERROR", logger="mimic.discord"):
        _, answer = await world.run("maker list")
    shutil.move(db_file + ".gone", db_file)
    assert answer.ephemeral and "something went wrong" in answer.content
    assert "Traceback" in caplog.text
    assert world.discord.token not in caplog.text


async def test_oversized_and_non_image_attachments_are_refused_politely(world):
    await world.verified_artist()
    big = Upload("huge.png", b"\x89PNG" + b"0" * 2048, "image/png")
    _, _, too_big = await world.submit_form("maker create", {"name": "aoi"}, [big], user="artist",
                                            attachment_size_limit=1024)
    assert too_big.ephemeral and "huge.png: the file is" in too_big.content and "the limit is" in too_big.content
    _, _, not_image = await world.submit_form("maker create", {"name": "aoi"},
                                              [Upload("notes.txt", b"hello", "text/plain")], user="artist")
    assert "notes.txt: this is not an image" in not_image.content


async def test_gallery_browses_with_persistent_buttons(world):
    artist = await world.verified_artist()
    maker = await world.ready_maker(artist)
    fan = await world.db_user("fan")
    for _ in range(7):
        gen = await world.finished_generation(maker, fan)
        await world.bot.poster.post_generation(gen.id)
    _, page = await world.run("gallery")
    assert "1–5" in page.text() and len(page.embeds[0]["fields"]) == 5
    assert f"/g/{gen.id}" in page.text()  # the newest first, with its web page
    next_id = next(c for c in page.custom_ids() if c.endswith(":next"))
    click = await world.discord.inject_component(page, next_id)
    await click.wait_callback()
    await world.discord.signal.wait_for(lambda: "6–7" in world.discord.messages[page.id].text(), 5, "page 2")


async def test_artist_profile_lists_accounts_and_makers(world):
    artist = await world.verified_artist(handle="aoi_draws")
    await world.ready_maker(artist, name="aoi")
    _, answer = await world.run("artist", {"user": world.discord.user("artist")})
    assert "aoi_draws" in answer.text() and "**aoi**" in answer.text()


async def test_audit_log_records_moderator_actions(world):
    artist = await world.verified_artist()
    await world.ready_maker(artist, name="kiri")
    await world.run("takedown", {"target": "kiri", "reason": "impersonation"}, user="moderator")
    actions = await world.core.db(lambda s: [e.action for e in s.exec(select(AuditEvent)).all()])
    assert "takedown" in actions


async def test_many_commands_at_once_are_all_acknowledged(world):
    handles = await asyncio.gather(*(world.discord.inject_slash_command("maker list") for _ in range(20)))
    answers = await asyncio.gather(*(h.wait_response(10) for h in handles))
    assert all(h.acknowledged for h in handles)
    assert all(a.flags & EPHEMERAL for a in answers)


async def test_training_images_are_published_only_when_the_server_policy_says_so(world):
    from data.models import MakerImage
    from tests.bot.conftest import png

    gallery = world.discord.channel("gallery")
    artist = await world.verified_artist(handle="aoi_draws")
    for name, publish in (("quiet", False), ("open", True)):
        await world.run("server settings", {"gallery_channel": gallery, "publish_training_images": publish},
                        user="manager")
        maker = await world.ready_maker(artist, name=name)
        blobs = [world.app.blobs.put(png(seed)) for seed in range(12)]
        await world.core.db(lambda s: (s.add_all(MakerImage(maker_id=maker.id, blob=b) for b in blobs), s.commit()))
        await world.app.events.publish(TrainingDone(id=maker.id, maker_id=maker.id))
        await world.discord.wait_for_message(gallery, lambda m, n=name: f"**{n}**" in m.content
                                             and "ready" in m.content)
    images = await world.discord.wait_for_message(gallery, lambda m: "Training images of **open**" in m.content)
    await world.discord.signal.wait_for(lambda: len([m for m in world.discord.messages_in(gallery) if m.files]) == 2,
                                        5, "the second batch")
    assert [len(m.files) for m in world.discord.messages_in(gallery) if m.files] == [10, 2]
    assert images.source == "bot"
    assert not any("**quiet**" in m.content and m.files for m in world.discord.messages_in(gallery))


async def test_results_finished_while_the_bot_was_away_are_posted_at_start(world):
    from bot.discord.client import build_bot
    from tests.fakes.discord_server import running_bot

    artist = await world.verified_artist()
    maker = await world.ready_maker(artist)
    await world.bot.close()
    gen = await world.finished_generation(maker, await world.db_user("fan"))  # its event was missed

    fresh = build_bot(world.core, sync_commands=False)
    async with running_bot(fresh, world.discord, wait_ready=True):
        posted = await fresh.poster.wait_posted(gen.id, timeout=15)
    assert world.discord.messages[posted.id].source == "bot"
