"""/contest for artists: reopen a claim on one of their posts for the moderators (bot.core.disputes decides
everything; the moderators' side is /review disputes and /review decide in the moderation cog)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.disputes import contest
from bot.discord.common import acknowledged, actor_for, answer, core_of, deliver_notices, say

if TYPE_CHECKING:
    from bot.discord.client import MimicBot


class Disputes(commands.Cog):
    def __init__(self, bot: MimicBot):
        self.bot = bot

    @app_commands.command(name="contest", description="Contest who owns a work, with the link of your post")
    @app_commands.describe(post="The link of your post of the work", reason="Why the claim is wrong")
    async def contest(self, interaction: discord.Interaction, post: app_commands.Range[str, 1, 300],
                      reason: app_commands.Range[str, 1, 1000]) -> None:
        async with acknowledged(interaction):
            dispute, notices = await contest(core_of(interaction), await actor_for(interaction), post, reason)
            await deliver_notices(interaction.client, notices)
            await answer(interaction, say(interaction, "contest.filed", id=dispute.id))
