"""/report for everyone; /review, /takedown and /ban for moderators."""
from __future__ import annotations

from discord.ext import commands

from bot.exts.moderation._cog import Moderation


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Moderation(bot))
