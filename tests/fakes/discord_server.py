"""A local Discord-compatible server (REST + gateway) for tests and benchmarks.

    async with FakeDiscord() as discord, running_bot(bot, discord):
        handle = await discord.inject_slash_command("maker create", {"name": "aoi", "images": Upload("a.png", data)},
                                                   user="artist", locale="ja")
        assert (await handle.wait_callback()).ok           # acknowledged within 3 s (fake clock)
        reply = await handle.wait_response()               # immediate answer, edited "thinking" or follow-up
        post = await discord.wait_for_message("gallery", lambda m: m.source == "bot" and m.files)
        click = await discord.inject_component(post, "result:reroll:42", user="fan")

The world: `discord.guild` ("Test Guild": #general, #gallery; roles @everyone, "mimic-moderator",
"Server Manager" = Manage Server) with users owner, moderator, manager, artist, fan (`discord.user(name)`);
add more with `create_user`, `add_channel`, `add_guild`. Rules enforced: 3 s to acknowledge (404/10062),
one acknowledgement (400/40060), 15 min interaction tokens (401/50027), follow-ups only after an
acknowledgement (404/10015), 10 files (400/50035), upload size (413/40005; per interaction its
attachment_size_limit), 2000 characters, no empty messages (400/50006), bot token on REST (401),
rate limits per route and major parameter (429 with Via/Retry-After, like Discord's), plus injected 429s;
component rules (discord_fake/components.py): IS_COMPONENTS_V2 messages without content or embeds, 40 components,
4000 characters of text, galleries of 1–10, a flag that stays; 5 action rows of 5 buttons otherwise; modals of 1–5
components with file uploads in labels; autocomplete answered with choices only, 25 at most, and only for options
declared with autocomplete. A modal's file uploads are submitted as attachment ids in `data.resolved.attachments`.
"Sign in with Discord" (discord_fake/oauth.py, https://discord.com/developers/docs/topics/oauth2): `/oauth2/authorize`
(a consent page for `discord.oauth.browser_user`), `POST /api/v10/oauth2/token` (form-encoded only, single-use codes,
PKCE S256) and `GET /api/v10/users/@me` with a Bearer token; register the app's `discord.oauth.redirect_uris`.
Everything is recorded: `discord.requests`, `requests_to(route)`, `failed_requests()`, `messages_in(channel)`,
`commands` (synced trees by guild id, None = global), and each InteractionHandle's callbacks/followups.

How discord.py 2.7 is pointed elsewhere (no library edits):
  * REST: every request URL is built in `discord.http.Route.__init__` as `Route.BASE + path`, including
    interaction callbacks and follow-ups (the webhook adapter reuses the same Route class). `Route.BASE` is
    a class attribute, so it is process-wide: set it before `bot.start()`/`bot.login()`.
  * Gateway: a non-sharded Client never asks REST for the gateway; it connects to
    `DiscordWebSocket.DEFAULT_GATEWAY` (a class attribute, `yarl.URL`), and also falls back to it after
    an invalidated session. AutoShardedClient asks `GET /gateway/bot` when shard_count is None (the fake
    answers with its own URL) and otherwise also uses DEFAULT_GATEWAY. So set DEFAULT_GATEWAY too.
  Neither can be set per client: HTTPClient subclassing would miss the webhook adapter (interaction
  responses), and aiohttp trace configs cannot rewrite URLs. One bot per process makes this harmless.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.fakes.discord_fake.clock import FakeClock
from tests.fakes.discord_fake.entities import (
    ADMINISTRATOR,
    MANAGE_GUILD,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
)
from tests.fakes.discord_fake.interactions import Upload
from tests.fakes.discord_fake.records import Callback, FakeMessage, InteractionHandle, RecordedFile, RecordedRequest
from tests.fakes.discord_fake.server import FakeDiscord


def point_discord_py_at(api_base: str, gateway_url: str = "") -> None:
    """Point discord.py (process-wide) at a REST base like http://host/api/v10 and a ws:// gateway.
    An empty gateway_url keeps Discord's own gateway. The bot does the same from DISCORD_API_BASE and
    DISCORD_GATEWAY_URL."""
    Route.BASE = api_base.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


@contextlib.contextmanager
def discord_py_pointed_at(api_base: str, gateway_url: str) -> Iterator[None]:
    """point_discord_py_at for the duration of a block, restoring Discord's URLs afterwards."""
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_py_at(api_base, gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@contextlib.asynccontextmanager
async def running_bot(bot, discord: FakeDiscord, *, wait_ready: bool = False, timeout: float = 15.0) -> AsyncIterator:
    """Run `bot.start(token)` against `discord` until the block ends; yields once the bot has IDENTIFIED
    (or, with wait_ready, once discord.py dispatched on_ready: that takes the bot's guild_ready_timeout)."""
    identifies = discord.gateway.identify_count + 1  # a restarted bot must identify anew
    with discord_py_pointed_at(discord.api_base, discord.gateway_url):
        task = asyncio.create_task(bot.start(discord.token), name="fake-discord-bot")
        try:
            waiter = asyncio.create_task(
                bot.wait_until_ready() if wait_ready else discord.wait_until_connected(timeout, identifies=identifies)
            )
            done, _ = await asyncio.wait({task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                waiter.cancel()
                task.result()  # re-raise the bot's start-up error
                raise RuntimeError("the bot stopped before connecting")
            if waiter not in done:
                waiter.cancel()
                raise TimeoutError(f"the bot did not connect to the fake Discord within {timeout} s")
            waiter.result()
            yield bot
        finally:
            await bot.close()
            outcome = (await asyncio.gather(task, return_exceptions=True))[0]
    if isinstance(outcome, Exception):  # the bot crashed while the block ran without error
        raise outcome


__all__ = [
    "ADMINISTRATOR",
    "MANAGE_GUILD",
    "Callback",
    "FakeChannel",
    "FakeClock",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "InteractionHandle",
    "RecordedFile",
    "RecordedRequest",
    "Upload",
    "discord_py_pointed_at",
    "point_discord_py_at",
    "running_bot",
]
