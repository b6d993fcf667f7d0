"""The fake Discord against the real discord.py client: Discord's rules hold, the bot's calls are recorded."""
from __future__ import annotations

import asyncio
import io
import json
import zlib

import aiohttp
import discord
import pytest
from discord.ext import commands

from tests.discord_harness.harness_bot import HIDE_ID, REROLL_ID, HarnessBot
from tests.fakes.discord_server import FakeDiscord, Upload, discord_py_pointed_at, running_bot


async def test_login_sync_and_ready(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    names = {c["name"] for c in await fake_discord.wait_for_sync()}
    assert {"render", "slow", "maker", "whoami", "feedback"} <= names
    maker = next(c for c in fake_discord.commands[None] if c["name"] == "maker")
    assert {o["name"] for o in maker["options"]} == {"create", "settings"}
    assert bot.user.id == fake_discord.bot_user.id
    assert bot.application_id == fake_discord.application_id
    # discord.py asks for transport compression (zstd-stream when zstandard is installed, else
    # zlib-stream) and the fake honours it
    query = fake_discord.gateway.connect_queries[0]
    assert query["compress"] in ("zstd-stream", "zlib-stream") and query["compressed"] == "True"
    await asyncio.wait_for(bot.wait_until_ready(), 5)
    assert bot.get_guild(fake_discord.guild.id).get_channel(fake_discord.guild.channel("gallery").id) is not None


async def test_wrong_token_is_refused(fake_discord: FakeDiscord) -> None:
    bot = HarnessBot()
    with discord_py_pointed_at(fake_discord.api_base, fake_discord.gateway_url):
        with pytest.raises(discord.LoginFailure):
            await bot.login("not-the-token")
        await bot.close()


async def test_slash_command_is_acknowledged_and_follow_up_carries_files(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    handle = await fake_discord.inject_slash_command("render", {"prompt": "a cat", "count": 2, "size": 5})
    callback = await handle.wait_callback(timeout=3)
    assert callback.ok and callback.type == 5  # deferred, "thinking"
    assert handle.ack_latency is not None and handle.ack_latency < 3
    followup = await handle.wait_followup()
    assert followup.content == "rendered a cat"
    assert [(f.filename, f.data) for f in followup.files] == [("render-0.png", b"\x00" * 5), ("render-1.png", b"\x01" * 5)]
    # the first follow-up replaced the deferred "thinking" message
    assert followup is handle.original and not followup.loading
    # and its attachments are downloadable from the fake's CDN
    async with aiohttp.ClientSession() as session:
        async with session.get(followup.payload["attachments"][1]["url"]) as resp:
            assert await resp.read() == b"\x01" * 5


async def test_late_callback_gets_unknown_interaction(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    handle = await fake_discord.inject_slash_command("slow")
    await asyncio.wait_for(bot.reached.wait(), 5)
    fake_discord.clock.advance(3.5)  # the bot "took" 3.5 s
    bot.release.set()
    callback = await handle.wait_callback()
    assert (callback.status, callback.error_code) == (404, 10062)
    await asyncio.wait_for(bot.error_seen.wait(), 5)
    assert isinstance(bot.errors[0], discord.NotFound) and bot.errors[0].code == 10062
    assert not handle.acknowledged


async def test_follow_up_after_fifteen_minutes_fails(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    handle = await fake_discord.inject_slash_command("longjob")
    assert (await handle.wait_callback()).ok
    await asyncio.wait_for(bot.reached.wait(), 5)
    fake_discord.clock.advance(15 * 60 + 1)
    bot.release.set()
    await asyncio.wait_for(bot.error_seen.wait(), 5)
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (401, 50027)
    assert handle.followups == []


@pytest.mark.parametrize("is_global", [False, True])
async def test_rate_limited_message_send_is_retried(fake_discord: FakeDiscord, bot: HarnessBot, is_global: bool) -> None:
    route = "POST /channels/{channel_id}/messages"
    fake_discord.inject_429(route, count=2, retry_after=0.05, is_global=is_global)
    handle = await fake_discord.inject_slash_command("post", {"text": "hello gallery"}, channel="gallery")
    message = await fake_discord.wait_for_message("gallery", lambda m: m.content == "hello gallery")
    assert message.source == "bot"
    assert [r.status for r in fake_discord.requests_to(route)] == [429, 429, 200]
    assert (await handle.wait_response()).content == f"posted {message.id}"
    assert bot.errors == []
    assert [r.status for r in fake_discord.failed_requests()] == [429, 429]


async def test_successful_responses_carry_rate_limit_headers(fake_discord: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bot {fake_discord.token}"}
        async with session.get(f"{fake_discord.api_base}/users/@me", headers=headers) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"] == "application/json"
            assert int(resp.headers["X-RateLimit-Remaining"]) == fake_discord.rate_limit - 1
            assert {"X-RateLimit-Limit", "X-RateLimit-Reset", "X-RateLimit-Reset-After", "X-RateLimit-Bucket"} <= set(resp.headers)
        async with session.get(f"{fake_discord.api_base}/users/@me") as resp:
            assert resp.status == 401


async def test_button_click_reaches_persistent_view(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    await fake_discord.inject_slash_command("post", {"text": "art", "buttons": True}, channel="gallery")
    message = await fake_discord.wait_for_message("gallery", lambda m: m.content == "art")
    assert REROLL_ID in message.custom_ids()
    artist = fake_discord.user("artist")
    click = await fake_discord.inject_component(message, REROLL_ID, user=artist)
    answer = await click.wait_response()
    assert answer.content == "rerolling" and answer.ephemeral
    assert bot.clicks == [(REROLL_ID, artist.id, message.id)]
    with pytest.raises(KeyError):
        await fake_discord.inject_component(message, "no-such-button")


async def test_modal_submit_reaches_the_modal(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    opened = await fake_discord.inject_slash_command("feedback")
    modal = await opened.wait_modal()
    assert modal["custom_id"] == "feedback"
    submitted = await fake_discord.inject_modal_submit(opened, {"feedback:text": "lovely"})
    assert (await submitted.wait_response()).content == "thanks: lovely"
    assert bot.modal_values == ["lovely"]


async def test_sub_commands_typed_options_and_attachment_download(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    artist = fake_discord.user("artist")
    handle = await fake_discord.inject_slash_command(
        "maker create",
        {"name": "aoi", "image": Upload("aoi.png", b"\x89PNG" + b"x" * 96), "steps": 300, "artist": artist},
        user=artist,
    )
    answer = await handle.wait_response()
    assert answer.content == f"aoi: aoi.png 100 bytes, 300 steps, artist {artist.id}" and answer.ephemeral
    usage = await fake_discord.inject_slash_command("maker settings usage", {"scope": "commercial"})
    assert (await usage.wait_response()).content == "usage=commercial"
    with pytest.raises(KeyError):  # the synced tree knows there is no such option
        await fake_discord.inject_slash_command("maker create", {"nam": "typo"})


@pytest.mark.parametrize(
    ("user", "locale", "expected"),
    [
        ("fan", "en-US", "locale=en-US manage_guild=False roles=['@everyone']"),
        ("moderator", "ja", "locale=ja manage_guild=False roles=['@everyone', 'mimic-moderator']"),
        ("manager", "en-US", "locale=en-US manage_guild=True roles=['@everyone', 'Server Manager']"),
        ("owner", "ja", "locale=ja manage_guild=True roles=['@everyone']"),
    ],
)
async def test_member_permissions_roles_and_locale(fake_discord: FakeDiscord, bot: HarnessBot, user, locale, expected) -> None:
    handle = await fake_discord.inject_slash_command("whoami", user=user, locale=locale, attachment_size_limit=1234)
    assert (await handle.wait_response()).content == f"{expected} limit=1234"


async def test_attachment_size_limit_of_the_interaction_is_enforced(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    handle = await fake_discord.inject_slash_command("render", {"prompt": "big", "size": 2000}, attachment_size_limit=1000)
    assert (await handle.wait_callback()).ok
    await asyncio.wait_for(bot.error_seen.wait(), 5)
    assert (bot.errors[0].status, bot.errors[0].code) == (413, 40005)
    assert handle.followups == []


async def test_more_than_ten_files_are_rejected(fake_discord: FakeDiscord) -> None:
    channel = fake_discord.guild.channel("general")
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps({"content": "too many"}), content_type="application/json")
    for i in range(11):
        form.add_field(f"files[{i}]", io.BytesIO(b"x"), filename=f"{i}.png", content_type="image/png")
    async with aiohttp.ClientSession() as session:
        url = f"{fake_discord.api_base}/channels/{channel.id}/messages"
        async with session.post(url, data=form, headers={"Authorization": f"Bot {fake_discord.token}"}) as resp:
            body = await resp.json()
    assert resp.status == 400 and body["code"] == 50035 and "files" in body["errors"]
    assert fake_discord.messages_in(channel) == []


async def test_double_acknowledgement_is_refused(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    handle = await fake_discord.inject_slash_command("whoami")
    await handle.wait_response()
    async with aiohttp.ClientSession() as session:
        url = f"{fake_discord.api_base}/interactions/{handle.id}/{handle.token}/callback"
        async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 40060


async def test_reconnect_resumes_and_interactions_still_arrive(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    await fake_discord.request_reconnect()
    await fake_discord.signal.wait_for(lambda: fake_discord.resumes == 1, 10, "RESUME")
    handle = await fake_discord.inject_slash_command("whoami")
    assert (await handle.wait_response()).content.startswith("locale=en-US")


async def test_zlib_stream_transport_compression(fake_discord: FakeDiscord) -> None:
    inflate = zlib.decompressobj()
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{fake_discord.gateway_url}?v=10&encoding=json&compress=zlib-stream") as ws:
            frame = await ws.receive_bytes(timeout=5)
            assert frame.endswith(b"\x00\x00\xff\xff")
            hello = json.loads(inflate.decompress(frame))
            await ws.send_json({"op": 1, "d": None})
            ack = json.loads(inflate.decompress(await ws.receive_bytes(timeout=5)))
    assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
    assert ack == {"op": 11}


class ShardedHarnessBot(HarnessBot, commands.AutoShardedBot):
    """The same bot, sharded: asks GET /gateway/bot for the shard count and URL."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        pass  # discord.py waits 5 s between shard IDENTIFYs (Discord's max_concurrency); the fake needn't


async def test_auto_sharded_bot_gets_interactions_on_the_right_shard() -> None:
    async with FakeDiscord(shard_count=2) as fake:
        bot = ShardedHarnessBot()
        async with running_bot(bot, fake):
            await fake.signal.wait_for(lambda: len(fake.gateway.sessions) == 2, 10, "two shards")
            assert sorted(s.shard for s in fake.gateway.sessions.values()) == [(0, 2), (1, 2)]
            handle = await fake.inject_slash_command("whoami")
            assert (await handle.wait_response()).content.startswith("locale=en-US")
            assert fake.requests_to("GET /gateway/bot")


async def test_autocomplete_choices(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    handle = await fake_discord.inject_autocomplete("pick", {"maker": "a"}, focused="maker")
    assert [c["value"] for c in await handle.wait_autocomplete()] == ["aoi", "akane"]
    handle = await fake_discord.inject_autocomplete("pick", {"maker": "zz"}, focused="maker")
    assert await handle.wait_autocomplete() == []


async def test_message_context_menu(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    await fake_discord.inject_slash_command("post", {"text": "an image"}, channel="gallery")
    posted = await fake_discord.wait_for_message("gallery", lambda m: m.content == "an image")
    handle = await fake_discord.inject_message_command("Report image", posted, user="artist")
    answer = await handle.wait_response()
    assert answer.content == f"reported {posted.id} by {fake_discord.bot_user.id}"


async def test_persistent_buttons_work_after_a_restart(fake_discord: FakeDiscord) -> None:
    async with running_bot(HarnessBot(), fake_discord):
        await fake_discord.inject_slash_command("post", {"text": "art", "buttons": True}, channel="gallery")
        message = await fake_discord.wait_for_message("gallery", lambda m: m.content == "art")
    with pytest.raises(RuntimeError):  # nobody is connected now
        await fake_discord.inject_component(message, REROLL_ID)
    async with running_bot(HarnessBot(), fake_discord) as restarted:
        click = await fake_discord.inject_component(message, REROLL_ID)
        assert (await click.wait_response()).content == "rerolling"
        assert restarted.clicks == [(REROLL_ID, fake_discord.user("fan").id, message.id)]
    assert fake_discord.gateway.identify_count == 2


async def test_deferred_update_then_edit_of_the_component_message(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    await fake_discord.inject_slash_command("post", {"text": "art", "buttons": True}, channel="gallery")
    message = await fake_discord.wait_for_message("gallery", lambda m: m.content == "art")
    click = await fake_discord.inject_component(message, HIDE_ID)
    assert (await click.wait_callback()).type == 6
    edited = await click.wait_response(predicate=lambda m: m.content == "hidden")
    assert edited is message and message.components == [] and message.edits == 1


async def test_immediate_answer_with_a_file_is_a_multipart_callback(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    handle = await fake_discord.inject_slash_command("card")
    callback = await handle.wait_callback()
    assert callback.type == 4 and [(f.filename, f.data) for f in callback.files] == [("card.png", b"CARD")]
    answer = await handle.wait_response()
    assert answer is handle.original and answer.content == "your card" and answer.files[0].data == b"CARD"
    assert answer.payload["attachments"][0]["filename"] == "card.png"
