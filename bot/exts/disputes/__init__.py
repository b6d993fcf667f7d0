"""/contest: an artist contests the outcome of a claim on one of their posts."""
from __future__ import annotations

from discord.ext import commands

from bot.exts.disputes._cog import Disputes


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Disputes(bot))
