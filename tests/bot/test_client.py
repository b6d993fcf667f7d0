"""The client as the runner starts it: run_bot(app) from settings, sharded or not, and clean cancellation."""
from __future__ import annotations

import asyncio

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route
from pydantic import SecretStr
from sqlmodel import SQLModel

from bot.discord.client import point_at, run_bot
from data.context import AppContext
from data.settings import ConfigError
from tests.fakes.discord_server import FakeDiscord


@pytest.fixture
def restore_discord_urls():
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


async def test_run_bot_connects_from_settings_answers_and_stops_when_cancelled(settings, restore_discord_urls):
    async with FakeDiscord() as discord:
        app = AppContext.create(settings.model_copy(update={
            "discord_api_base": discord.api_base, "discord_gateway_url": discord.gateway_url,
            "discord_token": SecretStr(discord.token)}))
        SQLModel.metadata.create_all(app.db.engine)
        task = asyncio.create_task(run_bot(app))
        try:
            commands = await discord.wait_for_sync(timeout=30)
            assert {"generate", "maker", "verify", "server"} <= {c["name"] for c in commands}
            await discord.wait_until_connected()
            handle = await discord.inject_slash_command("maker list")
            answer = await handle.wait_response(10)
            assert answer.ephemeral and "No makers yet" in answer.content
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
        await app.aclose()


async def test_run_bot_without_a_token_is_a_configuration_error(ctx):
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        await run_bot(ctx)


def test_bad_endpoint_settings_are_configuration_errors(settings, restore_discord_urls):
    with pytest.raises(ConfigError, match="DISCORD_API_BASE"):
        point_at(settings.model_copy(update={"discord_api_base": "discord.com/api"}))
    with pytest.raises(ConfigError, match="DISCORD_GATEWAY_URL"):
        point_at(settings.model_copy(update={"discord_gateway_url": "http://127.0.0.1:1/gateway"}))


@pytest.mark.bot_settings(discord_sharded=True)
async def test_the_sharded_bot_answers_too(world):
    from discord.ext import commands

    assert isinstance(world.bot, commands.AutoShardedBot)
    _, answer = await world.run("maker list")
    assert "No makers yet" in answer.content
