"""/verify start|check|status: prove control of an X, Bluesky or Mastodon account."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.accounts import check_verification, start_verification, verification_status
from bot.discord.common import acknowledged, actor_for, answer, core_of, deliver_notices, say
from bot.exts.results._cog import remove_gallery_message

if TYPE_CHECKING:
    from bot.discord.client import MimicBot

PLATFORM_CHOICES = [app_commands.Choice(name="X", value="x"), app_commands.Choice(name="Bluesky", value="bluesky"),
                    app_commands.Choice(name="Mastodon", value="mastodon")]
PLATFORM_NAMES = {c.value: c.name for c in PLATFORM_CHOICES}


def platform_name(value: str) -> str:
    return PLATFORM_NAMES.get(value, value)


class Verify(commands.GroupCog, group_name="verify", group_description="Prove that a social account is yours"):
    def __init__(self, bot: MimicBot):
        self.bot = bot
        super().__init__()

    @app_commands.command(name="start", description="Get a code to put in your bio or a public post")
    @app_commands.describe(platform="Where the account is", handle="Your handle, like @name")
    @app_commands.choices(platform=PLATFORM_CHOICES)
    async def start(self, interaction: discord.Interaction, platform: app_commands.Choice[str],
                    handle: app_commands.Range[str, 1, 100]) -> None:
        async with acknowledged(interaction):
            core = core_of(interaction)
            challenge = await start_verification(core, await actor_for(interaction), platform.value, handle)
            await answer(interaction, say(interaction, "verify.started", handle=challenge.handle,
                                          platform=platform_name(challenge.platform), code=challenge.code,
                                          minutes=core.settings.challenge_ttl_minutes))

    @app_commands.command(name="check", description="Check that the code is there and link the account")
    async def check(self, interaction: discord.Interaction) -> None:
        async with acknowledged(interaction):
            result = await check_verification(core_of(interaction), await actor_for(interaction))
            account = result.social_account
            lines = [say(interaction, "verify.linked", handle=account.handle, platform=platform_name(account.platform),
                         indexed=result.indexed + result.already_known + len(result.moved))]
            if result.moved:
                lines.append(say(interaction, "verify.moved", count=len(result.moved)))
            if result.disputed:
                lines.append(say(interaction, "verify.disputed", count=len(result.disputed)))
            # the works that moved here: the losing side's posted results leave the gallery, both sides are told
            for change in result.changes:
                for gen in change.hidden:
                    await remove_gallery_message(interaction.client, gen)
            await deliver_notices(interaction.client, result.notices)
            await answer(interaction, "\n".join(lines))

    @app_commands.command(name="status", description="Show your linked accounts")
    async def status(self, interaction: discord.Interaction) -> None:
        async with acknowledged(interaction):
            status = await verification_status(core_of(interaction), await actor_for(interaction))
            lines = [say(interaction, "verify.status_line", platform=platform_name(a.platform), handle=a.handle,
                         artworks=status.artworks) for a in status.accounts]
            if status.open_challenge is not None:
                c = status.open_challenge
                lines.append(say(interaction, "verify.status_pending", code=c.code, platform=platform_name(c.platform),
                                 handle=c.handle))
            await answer(interaction, "\n".join(lines) if lines else say(interaction, "verify.status_none"))
