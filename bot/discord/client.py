"""The Discord client: a discord.py Bot (or AutoShardedBot) holding the Core, the cogs and the results poster.

Only the `guilds` intent is needed: slash commands and buttons arrive as interactions, and the guild cache
gives channels and roles. DISCORD_API_BASE and DISCORD_GATEWAY_URL point discord.py at a REST proxy and a
gateway proxy (or the test harness); discord.py keeps both as class attributes, so they apply to the whole
process, which runs one bot."""
from __future__ import annotations

import asyncio
import gc
import logging

import discord
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.core import Core
from bot.discord.common import GuildSettingsCache
from bot.discord.cooldowns import UserCooldowns
from bot.discord.errors import report_error
from bot.discord.localisation import MimicTranslator
from bot.discord.intake import InteractionIntake
from bot.discord.poster import ResultsPoster
from bot.exts import extension_names
from data.context import AppContext
from data.settings import ConfigError, Settings

log = logging.getLogger("mimic.discord")

DISCORD_API_BASE = "https://discord.com/api/v10"
WORK_SLOTS = 8  # interactions doing slow work at once; the rest are acknowledged and wait their turn


def point_at(settings: Settings) -> None:
    """Send discord.py's REST calls and gateway connection where the settings say."""
    base = settings.discord_api_base.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigError("DISCORD_API_BASE must be an http(s) URL like https://discord.com/api/v10")
    Route.BASE = base
    if settings.discord_gateway_url:
        if not settings.discord_gateway_url.startswith(("ws://", "wss://")):
            raise ConfigError("DISCORD_GATEWAY_URL must be a ws(s):// URL")
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


# Guild-only on purpose: results are public posts in a server's gallery channel, credited and watched by its
# moderators; a command in a DM or a group chat would make images nobody else sees.
GUILD_ONLY = discord.app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
GUILD_INSTALL = discord.app_commands.AppInstallationType(guild=True, user=False)


class MimicTree(discord.app_commands.CommandTree):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Discord hides the commands outside servers (GUILD_ONLY); this refuses any that arrives anyway."""
        if interaction.guild_id is None:
            if interaction.type is discord.InteractionType.autocomplete:
                return False  # no choices outside servers; nothing else may answer an autocomplete
            raise discord.app_commands.NoPrivateMessage()
        return True


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


async def add_features(bot: commands.Bot) -> None:
    """Every feature under bot/exts, loaded as a discord.py extension by its name (each registers its cog and its
    persistent button classes, so buttons of old messages keep working), then the command translations."""
    for name in extension_names():
        await bot.load_extension(name)
    for command in bot.tree.get_commands():  # the older dm_permission field says it too (see GUILD_ONLY)
        command.guild_only = True
    await bot.tree.set_translator(MimicTranslator())


class MimicMixin:
    """What both bot flavours share; `core` is None only when the tree is built offline."""

    core: Core | None
    sync_commands: bool

    def _mimic_init(self, core: Core | None, sync_commands: bool) -> None:
        self.core = core
        self.sync_commands = sync_commands
        self.known_users: dict[int, int] = {}  # Discord user id -> our user row id
        self.guild_settings = GuildSettingsCache(core)
        self.work_slots = asyncio.Semaphore(WORK_SLOTS)
        self.poster = ResultsPoster(self)  # type: ignore[arg-type]
        settings = core.settings if core is not None else Settings(_env_file=None)
        self.generation_cooldowns = UserCooldowns(settings.generation_cooldown_requests,
                                                  settings.generation_cooldown_s)
        self.intake.install()
        self.tree.on_error = self._on_app_command_error  # type: ignore[attr-defined]

    async def setup_hook(self) -> None:
        await add_features(self)  # type: ignore[arg-type]
        if self.sync_commands:
            await self.tree.sync()  # type: ignore[attr-defined]
        if self.core is not None:
            self.poster.start()
        # Everything loaded so far lives as long as the process: keep it out of the collector's full passes,
        # which otherwise stall the event loop (and every acknowledgement) for tens of milliseconds.
        gc.collect()
        gc.freeze()

    async def start(self, token: str, *, reconnect: bool = True) -> None:
        if self.core is not None:
            point_at(self.core.settings)
        await super().start(token, reconnect=reconnect)  # type: ignore[misc]

    async def close(self) -> None:
        """Stop taking interactions, let those in flight and the result being posted finish (bounded by
        SHUTDOWN_GRACE_S), then close the gateway and the HTTP session."""
        grace = self.core.settings.shutdown_grace_s if self.core is not None else 0.0
        await asyncio.gather(self.poster.stop(grace), self.intake.drain(grace))
        await super().close()  # type: ignore[misc]

    def owns_guild(self, guild_id: int | None) -> bool:
        """Whether this process runs the shard of `guild_id`: Discord puts a guild on shard
        (guild_id >> 22) % num_shards, and direct messages on shard 0
        (https://discord.com/developers/docs/topics/gateway#sharding). One process running every shard owns all."""
        shard_ids = getattr(self, "shard_ids", None)
        count = getattr(self, "shard_count", None)
        if not shard_ids or not count:
            return True
        return (0 if guild_id is None else (guild_id >> 22) % count) in shard_ids

    async def _on_app_command_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error, self.core.settings if self.core else Settings(_env_file=None))


def _intake(core: Core | None) -> InteractionIntake:
    observe = core.app.metrics.ack_latency.observe if core is not None else None
    return InteractionIntake(None, observe)  # type: ignore[arg-type] - the bot is set once it exists


def _bot_options(intake: InteractionIntake) -> dict:
    """What both bot classes are built with: guild-only commands, mention prefix, the intake's HTTP trace."""
    return dict(command_prefix=commands.when_mentioned, intents=intents(), help_command=None, tree_cls=MimicTree,
                allowed_contexts=GUILD_ONLY, allowed_installs=GUILD_INSTALL, http_trace=intake.trace_config())


class MimicBot(MimicMixin, commands.Bot):
    def __init__(self, core: Core | None, *, sync_commands: bool = True, **options):
        self.intake = _intake(core)
        super().__init__(**_bot_options(self.intake), **options)
        self.intake.bot = self
        self._mimic_init(core, sync_commands)


class MimicShardedBot(MimicMixin, commands.AutoShardedBot):
    def __init__(self, core: Core | None, *, sync_commands: bool = True, **options):
        self.intake = _intake(core)
        super().__init__(**_bot_options(self.intake), **options)
        self.intake.bot = self
        self._mimic_init(core, sync_commands)


def build_bot(core: Core | None, *, sharded: bool = False, sync_commands: bool = True) -> commands.Bot:
    """The bot; sharded when asked, or when the settings spread shards over processes (DISCORD_SHARD_COUNT)."""
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # no voice here: nothing to warn about
    settings = core.settings if core is not None else None
    if settings is not None and settings.discord_shard_count:
        return MimicShardedBot(core, sync_commands=sync_commands, shard_count=settings.discord_shard_count,
                               shard_ids=settings.shard_ids)
    cls = MimicShardedBot if sharded else MimicBot
    return cls(core, sync_commands=sync_commands)


async def run_bot(app: AppContext) -> None:
    """Run the bot until cancelled (the runner cancels it on SIGINT/SIGTERM)."""
    settings = app.settings
    if settings.discord_token is None:
        raise ConfigError("DISCORD_TOKEN is not set")
    core = Core.create(app)
    bot = build_bot(core, sharded=settings.discord_sharded)
    try:
        await bot.start(settings.discord_token.get_secret_value())
    except discord.LoginFailure:
        raise ConfigError("DISCORD_TOKEN was refused by Discord") from None
    finally:
        if not bot.is_closed():
            await asyncio.shield(bot.close())
        await core.aclose()
